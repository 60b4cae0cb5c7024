-- Multiple assignment: evaluation order, swaps, adjusting value counts.
local a, b, c = 1, 2
print(a, b, c)
a, b = b, a
print(a, b)
local x, y = 1, 2, 3
print(x, y)
local t = {}
local i = 1
i, t[i] = i + 1, 20
print(i, t[1], t[2])
local function three() return 1, 2, 3 end
local p, q, r, s = three()
print(p, q, r, s)
p, q, r, s = 0, three()
print(p, q, r, s)
p, q, r, s = three(), 10
print(p, q, r, s)
p, q = (three())
print(p, q)
local u = {three(), three()}
print(#u, u[1], u[2], u[4])
local v = {three(), (three())}
print(#v)
g1, g2 = "global1", "global2"
print(g1, g2, rawget(_G, "g1"))
local n = {}
n.a, n.b, n["c"] = 1, 2, 3
print(n.a, n.b, n.c)
