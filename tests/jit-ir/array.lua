-- Array reads and writes of existing slots of tables without a metatable: guards
-- for the metatable, an integral key and the bounds; the write barrier (TBAR).
local t, u = {}, {}
for i = 1, 100 do t[i] = 0; u[i] = i end
for i = 1, 100 do
  t[i] = u[i] * 2 + t[i]
  u[1] = t[i]
end
local s = 0
for i = 1, 100 do s = s + t[i] + u[3] end
print(s, u[1])
