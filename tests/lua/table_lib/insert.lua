-- table.insert: append, insert at a position (shifting), odd positions, errors.
local function show(t, lo, hi)
  local out = {}
  for i = lo or 1, hi or #t do out[#out + 1] = tostring(rawget(t, i)) end
  print(#t, table.concat(out, " "))
end
local t = {}
table.insert(t, "a")
table.insert(t, "b")
show(t)
table.insert(t, 1, "c")
show(t)
table.insert(t, 2, "d")
show(t)
table.insert(t, #t + 1, "e")
show(t)
table.insert(t, #t, "f")
show(t)
-- A position past the end just stores there.
local u = {1, 2, 3}
table.insert(u, 10, "x")
print(#u, u[10], u[4])
-- Position 0 and negative positions shift everything up to the new key.
u = {1, 2, 3}
table.insert(u, 0, "z")
show(u, 0, 4)
u = {1, 2, 3}
table.insert(u, -2, "n")
show(u, -2, 4)
-- Fractional positions are truncated; numeric strings are accepted.
u = {1, 2, 3}
table.insert(u, 2.9, "x")
show(u)
u = {1, 2, 3}
table.insert(u, "1", "s")
show(u)
-- Inserting nil.
u = {1, 2, 3}
table.insert(u, nil)
show(u)
table.insert(u, 1, nil)
show(u, 1, 4)
-- Raw stores: __newindex is not called.
local log = {}
local m = setmetatable({}, {__newindex = function(t, k, v) log[#log + 1] = k; rawset(t, k, v) end})
table.insert(m, "a")
table.insert(m, 1, "b")
print(#log, m[1], m[2])
-- Errors.
print(pcall(table.insert, {}, 1, 2, 3))
print(pcall(table.insert, {}))
print(pcall(table.insert))
print(pcall(table.insert, nil, 1))
print(pcall(table.insert, {}, "x", 1))
print(pcall(table.insert, {}, {}, 1))
print(pcall(function() table.insert({}, 1, 2, 3) end))
print(pcall(function() table.insert(nil, 1) end))
print(pcall(function() table.insert({}, nil, 1) end))
