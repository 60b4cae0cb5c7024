-- unpack and select with tables and varargs.
print(unpack({1, 2, 3}))
print(unpack({1, 2, 3}, 2))
print(unpack({1, 2, 3}, 2, 3))
print(unpack({1, 2, 3}, 3, 2))
print(unpack({1, nil, 3}, 1, 3))
print(unpack({}, 1, 2))
print(select("#", unpack({}, 1, 0)))
print(unpack({"a", "b"}, -1, 1))
local t = {}
for i = 1, 200 do t[i] = i end
print(select("#", unpack(t)), select(200, unpack(t)))
print(pcall(unpack))
print(pcall(unpack, nil))
print(pcall(unpack, {}, 1, 1e8))
