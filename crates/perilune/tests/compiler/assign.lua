local a, b, c
a, b = b, a
local t = {}
t[a], a = 1, 2
t.x, t.y, t[1], t[b] = 1, "s", true, nil
a, b, c = (function() return 1, 2, 3 end)()
a, b = ...
g1, g2 = g2, g1
local function up() a = 1; a = "s"; a = nil; a = b; g1 = a end
x.y.z = 5
x:m(1, "s", ...)
x.y:m()
return up, a
