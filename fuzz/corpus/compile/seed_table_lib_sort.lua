-- table.sort: default order, comparators, __lt, many sizes and shapes.
local function join(t) return table.concat(t, " ") end
local t = {5, 2, 8, 1, 9, 3}
table.sort(t)
print(join(t))
table.sort(t, function(a, b) return a > b end)
print(join(t))
local s = {"pear", "apple", "fig", "Banana", "apple2", ""}
table.sort(s)
print(join(s))
table.sort(s, function(a, b) return #a < #b or (#a == #b and a < b) end)
print(join(s))
-- Small and degenerate arrays.
for _, arr in ipairs({{}, {1}, {2, 1}, {1, 2}, {3, 2, 1}, {1, 1, 1}, {2, 1, 2, 1}}) do
  table.sort(arr)
  print(#arr, join(arr))
end
print(select("#", table.sort({3, 1})))
-- Numbers with infinities and negative zero.
local f = {1/0, -1/0, 0, -5, 3.5, -2^53, 2^53}
table.sort(f)
print(join(f))
-- A deterministic pseudo-random generator, so the script does not depend on
-- math.random's sequence.
local seed = 42
local function rnd(n)
  seed = (seed * 1103515245 + 12345) % 2147483648
  return math.floor(seed / 65536) % n
end
local function sorted(arr, lt)
  lt = lt or function(a, b) return a < b end
  for i = 2, #arr do if lt(arr[i], arr[i - 1]) then return false end end
  return true
end
for _, n in ipairs({4, 5, 7, 10, 31, 100, 257, 1000, 5000}) do
  local r, d, asc, desc, eq, organ = {}, {}, {}, {}, {}, {}
  local sum = 0
  for i = 1, n do
    r[i] = rnd(1000); d[i] = rnd(5); asc[i] = i; desc[i] = n - i; eq[i] = 7
    organ[i] = i <= n / 2 and i or n - i
    sum = sum + r[i]
  end
  table.sort(r); table.sort(d); table.sort(asc); table.sort(desc); table.sort(eq); table.sort(organ)
  local sum2 = 0
  for i = 1, n do sum2 = sum2 + r[i] end
  local rev = {}
  for i = 1, n do rev[i] = rnd(100) end
  table.sort(rev, function(a, b) return a > b end)
  print(n, sorted(r), sum == sum2, sorted(d), sorted(asc), sorted(desc), sorted(eq), sorted(organ),
    sorted(rev, function(a, b) return a > b end), r[1], r[n])
end
-- __lt on tables.
local mt = {__lt = function(a, b) return a.v < b.v end}
local objs = {}
for i = 1, 20 do objs[i] = setmetatable({v = rnd(100) * 100 + i}, mt) end
table.sort(objs)
local vs = {}
for i = 1, 20 do vs[i] = objs[i].v end
print(join(vs))
-- Sorting by a key with a comparator on records.
local recs = {}
for i = 1, 10 do recs[i] = {name = "n" .. (11 - i), k = i} end
table.sort(recs, function(a, b) return a.name < b.name end)
local names = {}
for i = 1, 10 do names[i] = recs[i].name end
print(join(names))
-- The comparator sees only elements of the array.
local seen_nil = false
local big = {}
for i = 1, 200 do big[i] = rnd(50) end
table.sort(big, function(a, b)
  if a == nil or b == nil then seen_nil = true end
  return a < b
end)
print(seen_nil, sorted(big))
-- Sorting ignores metamethods on the table itself (raw access).
local raw = setmetatable({3, 1, 2}, {__index = error, __newindex = error})
table.sort(raw)
print(join(raw))
