-- Table constructors: positional, keyed, mixed, trailing separators, nesting.
local t = {10, 20, 30}
print(#t, t[1], t[2], t[3], t[4])
t = {x = 1, ["y"] = 2, [3] = "three", [1 + 1] = "two"}
print(t.x, t.y, t[3], t[2], #t == 0 or #t == 3)
t = {1, 2, 3, [2] = "keyed", n = "n"}
print(t[2], t.n)
t = {[1] = "a", [2] = "b", "c"}
print(t[1], t[2])
t = {1, 2; 3, 4,}
print(#t, t[4])
t = {"a", nil, "c"}
print(t[1], t[2], t[3])
t = {{1, 2}, {3, {4, 5}}, k = {v = "deep"}}
print(t[1][2], t[2][2][1], t[2][2][2], t.k.v)
local function f() return "r1", "r2", "r3" end
t = {f()}
print(#t, t[3])
t = {f(), f()}
print(#t, t[1], t[2], t[4])
t = {(f())}
print(#t)
t = {f(), nil}
print(t[1], t[2])
t = {[1.0] = "float key", [2^53] = "big"}
print(t[1], t[2^53])
t = {true, false, [true] = "T", [false] = "F"}
print(t[1], t[2], t[true], t[false])
local e = {}
print(next(e), #e, next({}, nil))
print(pcall(function() local x = {[nil] = 1} end))
print(pcall(function() local x = {[0/0] = 1} end))
print(pcall(function() local x = {} x[nil] = 1 end))
print(pcall(function() local x = {} x[0/0] = 1 end))
print(pcall(rawset, {}, nil, 1))
local r = {}
print(pcall(function() r[nil] = nil end))
print(r[nil], r[0/0])
