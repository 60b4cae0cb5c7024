-- Nested tables, references and aliasing, tables as keys.
local inner = {v = 1}
local outer = {a = inner, b = inner}
outer.a.v = 2
print(outer.b.v, inner.v, outer.a == outer.b)
local key = {}
local t = {[key] = "by table", [print] = "by function"}
print(t[key], t[print], t[{}])
local matrix = {}
for i = 1, 3 do
  matrix[i] = {}
  for j = 1, 3 do matrix[i][j] = i * j end
end
for i = 1, 3 do print(matrix[i][1], matrix[i][2], matrix[i][3]) end
local list = nil
for i = 1, 5 do list = {value = i, next = list} end
local node, out = list, ""
while node do out = out .. node.value; node = node.next end
print(out)
local cyc = {}
cyc.self = cyc
print(cyc.self.self.self == cyc)
local deep = {}
local cur = deep
for i = 1, 200 do cur.child = {depth = i}; cur = cur.child end
cur = deep
local d = 0
while cur.child do cur = cur.child; d = cur.depth end
print("depth", d)
local s = {}
s.x = {}
s.x.y = {}
s.x.y.z = "end"
print(s.x.y.z, s["x"]["y"]["z"])
