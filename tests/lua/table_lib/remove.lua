-- table.remove: popping, removing at a position, out-of-range positions, results.
local function show(t)
  local out = {}
  for i = 1, #t do out[#out + 1] = tostring(t[i]) end
  print(#t, table.concat(out, " "))
end
local t = {"a", "b", "c", "d", "e"}
print(table.remove(t))
show(t)
print(table.remove(t, 1))
show(t)
print(table.remove(t, 2))
show(t)
print(table.remove(t, #t))
show(t)
print(table.remove(t, 1), #t)
-- Nothing to remove: no results at all.
print(select("#", table.remove({})))
print(select("#", table.remove({}, 1)))
print(select("#", table.remove({1, 2, 3}, 4)))
print(select("#", table.remove({1, 2, 3}, 0)))
print(select("#", table.remove({1, 2, 3}, -1)))
print(select("#", table.remove({[0] = "zero"}, 0)))
print(select("#", table.remove({1, 2, 3}, nil)), table.remove({1, 2, 3}, nil))
-- Fractional and string positions.
for _, p in ipairs({1.5, 2.5, 3.5, 0.5, "2"}) do
  local u = {10, 20, 30, 40}
  local r = table.remove(u, p)
  print(p, r, rawget(u, 1), rawget(u, 2), rawget(u, 3), rawget(u, 4))
end
-- Raw access: metamethods are not called.
local calls = 0
local m = setmetatable({1, 2, 3}, {
  __index = function() calls = calls + 1 end,
  __newindex = function() calls = calls + 1 end,
})
print(table.remove(m, 1), table.remove(m), calls)
show(m)
-- Errors.
print(pcall(table.remove))
print(pcall(table.remove, nil))
print(pcall(table.remove, {}, "x"))
print(pcall(table.remove, {}, {}))
print(pcall(function() table.remove("s") end))
