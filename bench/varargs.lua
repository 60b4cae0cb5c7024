-- varargs: functions with ... (select('#'), select(n), {...}, unpack, passing
-- varargs through, multiple returns adjusted at call sites).
-- Usage: varargs.lua [n]   (default 3000000)
-- small size: 5000
local N = tonumber(arg and arg[1]) or 3000000
local unpack = unpack or table.unpack

local function count(...)
  return select("#", ...)
end

local function sum(...)
  local s = 0
  for i = 1, select("#", ...) do
    s = s + (select(i, ...))
  end
  return s
end

local function pack_sum(...)
  local t = { ... }
  local s = 0
  for i = 1, #t do
    s = s + t[i]
  end
  return s
end

local function pass(...)
  return ...
end

local function first_rest(first, ...)
  return first, count(...)
end

local function multi(i)
  return i, i + 1, i + 2, i + 3
end

local a, b, c, d, e = 0, 0, 0, 0, 0
for i = 1, N do
  a = a + count(i, nil, i, nil)
  b = b + sum(i, 1, 2, 3, 4)
  c = c + pack_sum(multi(i))
  local f, r = first_rest(pass(i, i, i))
  d = d + f + r
  e = e + select(-1, multi(i))
end
print(string.format("count %d sum %d pack %d pass %d neg %d", a, b, c, d, e))

-- unpack of tables of various lengths, and varargs into table constructors
local t = {}
for i = 1, 16 do
  t[i] = i
end
local u = 0
for i = 1, N / 4 do
  local n = i % 16 + 1
  u = u + sum(unpack(t, 1, n)) + #{ unpack(t, 1, n) }
end
print(string.format("unpack %d", u))

-- variadic string formatting helper
local function fmt(...)
  return string.format(...)
end
local len = 0
for i = 1, N / 4 do
  len = len + #fmt("%d:%d:%s", i, i % 3, "x")
end
print(string.format("fmt %d", len))
