-- The # operator on strings and on tables whose array part has no holes.
print(#"", #"abc", #"a\0b")
local t = {}
print(#t)
for i = 1, 100 do t[i] = i end
print(#t)
t[101] = 101
print(#t)
t[101] = nil
print(#t)
for i = 100, 51, -1 do t[i] = nil end
print(#t)
local u = {n = 1, m = 2}
print(#u)
u[1] = "x"
print(#u)
local v = {1, 2, 3, nil}
print(#v)
local w = {}
w[1] = 1 w[2] = 2 w[3] = 3
print(#w)
w[3] = nil
print(#w)
local big = {}
for i = 1, 1000 do big[#big + 1] = i end
print(#big, big[#big])
print(pcall(function() return #nil end))
print(pcall(function() return #5 end))
print(pcall(function() local b = true return #b end))
