-- rawget/rawset/rawequal and numeric key normalisation.
local t = {}
rawset(t, "k", "v")
rawset(t, 1, "one")
print(rawget(t, "k"), rawget(t, 1), rawget(t, 1.0), rawget(t, "1"))
t[2.0] = "two"
print(t[2], rawget(t, 2), #t)
t["2"] = "string two"
print(t[2], t["2"])
t[-0.0] = "zero"
print(t[0], t[-0])
t[0.5] = "half"
print(t[0.5], t[1/2])
print(rawset(t, "x", 1) == t)
print(pcall(rawget, nil, 1))
print(pcall(rawset, {}, nil, 1))
print(pcall(rawset, 1, 1, 1))
print(rawequal(t, t), rawequal(t, {}), rawequal("x", "x"), rawequal(1, 1.0))
print(pcall(rawequal, 1))
local s = {}
s[2^53] = "a"
s[2^53 + 1] = "b"
print(s[2^53])
s[1e300] = "huge"
s[-1e300] = "neg"
print(s[1e300], s[-1e300], s[1/0])
