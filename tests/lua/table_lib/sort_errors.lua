-- table.sort errors: bad arguments, comparison errors, invalid order functions,
-- errors and yields in comparators, comparators that modify the table.
print(pcall(table.sort))
print(pcall(table.sort, "x"))
print(pcall(table.sort, {3, 2, 1}, 5))
print(pcall(table.sort, {3, 2, 1}, {}))
print(pcall(table.sort, {3, "a", 1}))
print(pcall(table.sort, {1, 2, "x"}))
print(pcall(table.sort, {{}, {}}))
print(pcall(table.sort, {1, {}}))
print(pcall(table.sort, {{}, 1}))
print(pcall(table.sort, {true, false}))
print(pcall(table.sort, {print, print}))
print(pcall(function() table.sort({1, "x", 3, 4}) end))
-- Inconsistent comparators.
for n = 1, 12 do
  local t = {}
  for i = 1, n do t[i] = i end
  local ok, err = pcall(table.sort, t, function() return true end)
  print(n, ok, err)
end
for n = 1, 8 do
  local t = {}
  for i = 1, n do t[i] = 5 end
  print(n, pcall(table.sort, t, function(a, b) return a <= b end))
end
print(pcall(function() table.sort({5, 4, 3, 2, 1, 0}, function() return true end) end))
-- A comparator that is always false leaves a valid permutation.
local t = {3, 1, 2, 5, 4}
table.sort(t, function() return false end)
local sum = 0
for i = 1, 5 do sum = sum + t[i] end
print(#t, sum)
-- Errors in the comparator propagate unchanged.
print(pcall(table.sort, {1, 2, 3}, function() error("boom") end))
print(pcall(table.sort, {1, 2, 3}, function() error("plain", 0) end))
local e = {}
local ok, err = pcall(table.sort, {1, 2}, function() error(e) end)
print(ok, err == e)
print(pcall(table.sort, {3, 1, 2}, function(a, b) local x; return x.y end))
-- __lt that errors.
local mt = {__lt = function() error("lt failed", 0) end}
print(pcall(table.sort, {setmetatable({}, mt), setmetatable({}, mt)}))
-- Yielding from a comparator crosses a C-call boundary.
local co = coroutine.create(function()
  table.sort({3, 2, 1}, function(a, b) coroutine.yield() return a < b end)
end)
print(coroutine.resume(co))
print(coroutine.status(co))
-- A comparator that changes the table: no crash, an error or a permutation of
-- whatever the table holds.
local m = {}
for i = 1, 50 do m[i] = (i * 37) % 50 end
local ok2 = pcall(table.sort, m, function(a, b)
  m[#m] = nil
  return (a or 0) < (b or 0)
end)
print(type(ok2))
local g = {}
for i = 1, 50 do g[i] = (i * 37) % 50 end
pcall(table.sort, g, function(a, b)
  collectgarbage()
  return a < b
end)
print(#g)
