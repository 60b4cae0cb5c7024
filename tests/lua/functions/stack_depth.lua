-- stack overflow comes at LuaJIT's depth: its limit is in stack slots (about 65,500),
-- so the depth depends on the frame size; printed in hundreds (LuaJIT's own depth
-- varies by a frame or two with -joff)
local depth = 0
local function report(ok, e) print(ok, e, math.floor(depth / 100)) end
local function f(n) depth = n return 1 + f(n + 1) end
report(pcall(f, 1))
local function g(n, a, b, c, d, e, f1, g1, h, i, j) depth = n local x, y, z, w = 1, 2, 3, 4 return 1 + g(n + 1, a, b, c, d, e, f1, g1, h, i, j) end
report(pcall(g, 1))
local function h(n) depth = n local a1,a2,a3,a4,a5,a6,a7,a8,a9,a10,a11,a12,a13,a14,a15,a16,a17,a18,a19,a20,a21,a22,a23,a24,a25,a26,a27,a28,a29,a30 = 1 return 1 + h(n + 1) end
report(pcall(h, 1))
local mt = {} mt.__index = function(t, k) depth = depth + 1 return t[k] end
local o = setmetatable({}, mt)
depth = 0 report(pcall(function() return o.x end))
local mt2 = {} mt2.__add = function(a, b) depth = depth + 1 return a + b end
local o2 = setmetatable({}, mt2)
depth = 0 report(pcall(function() return o2 + 1 end))
-- after an overflow the stack is usable again
report(pcall(f, 1))
print(select('#', unpack({}, 1, 7000)))
