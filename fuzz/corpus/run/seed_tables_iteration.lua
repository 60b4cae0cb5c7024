-- next/pairs/ipairs: arrays are visited in order; hash order is not relied upon.
local arr = {"a", "b", "c", "d", "e"}
for i, v in ipairs(arr) do print("ipairs", i, v) end
for k, v in pairs(arr) do print("pairs", k, v) end
local k, v = next(arr)
while k do
  print("next", k, v)
  k, v = next(arr, k)
end
print(next(arr, 5))
local holes = {1, 2, nil, 4}
local n = 0
for i in ipairs(holes) do n = i end
print("ipairs stops at hole", n)
-- hash keys: collect and sort before printing
local h = {x = 1, y = 2, z = 3, [10] = "ten", [true] = "t"}
local keys = {}
for key in pairs(h) do keys[#keys + 1] = tostring(key) end
local count = #keys
-- simple insertion sort (no table library)
for i = 2, count do
  local j = i
  while j > 1 and keys[j - 1] > keys[j] do keys[j - 1], keys[j] = keys[j], keys[j - 1]; j = j - 1 end
end
for i = 1, count do print("key", keys[i]) end
-- modifying existing fields during traversal is allowed
local m = {a = 1, b = 2, c = 3}
for key in pairs(m) do m[key] = m[key] * 10 end
print(m.a, m.b, m.c)
-- clearing fields during traversal is allowed
for key in pairs(m) do m[key] = nil end
print(next(m))
print(pcall(next, {}, "nokey"))
print(pcall(next))
print(pcall(ipairs))
print(pcall(pairs, nil))
local f, s, init = ipairs(arr)
print(type(f), s == arr, init)
local f2, s2, init2 = pairs(arr)
print(f2 == next, s2 == arr, init2)
print(f(arr, 0))
print(f(arr, 5))
