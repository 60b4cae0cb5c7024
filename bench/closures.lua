-- closures: creating closures, reading and writing upvalues (open and closed),
-- higher-order functions.
-- Usage: closures.lua [n]   (default 4500000)
-- small size: 10000
local N = tonumber(arg and arg[1]) or 4500000

local function counter()
  local c = 0
  return function(d)
    c = c + d
    return c
  end
end

local function compose(f, g)
  return function(x)
    return f(g(x))
  end
end

local function adder(k)
  return function(x)
    return x + k
  end
end

-- 1: many closures, each called a few times
local total = 0
for i = 1, N do
  local c = counter()
  c(i % 10)
  total = total + c(1)
end
print(string.format("counters %d", total))

-- 2: a chain of composed functions called repeatedly
local f = adder(0)
for k = 1, 20 do
  f = compose(adder(k), f)
end
local s = 0
for i = 1, N / 4 do
  s = (s + f(i)) % 1000000007
end
print(string.format("composed %d", s))

-- 3: shared upvalues between sibling closures, and loop-fresh upvalues
local function pair()
  local v = 0
  local function get()
    return v
  end
  local function set(x)
    v = x
  end
  return get, set
end
local acc = 0
for i = 1, N / 2 do
  local get, set = pair()
  set(i)
  acc = (acc + get()) % 1000000007
end
print(string.format("pairs %d", acc))

local fns = {}
for i = 1, 1000 do
  fns[i] = function()
    return i
  end
end
local sum = 0
for _ = 1, N / 1000 do
  for i = 1, #fns do
    sum = sum + fns[i]()
  end
end
print(string.format("loop upvalues %d", sum))

-- 4: map/filter/reduce with function arguments
local function map(t, fn)
  local r = {}
  for i = 1, #t do
    r[i] = fn(t[i])
  end
  return r
end
local function filter(t, fn)
  local r = {}
  for i = 1, #t do
    if fn(t[i]) then
      r[#r + 1] = t[i]
    end
  end
  return r
end
local function reduce(t, fn, init)
  local a = init
  for i = 1, #t do
    a = fn(a, t[i])
  end
  return a
end
local data = {}
for i = 1, 1000 do
  data[i] = i
end
local red = 0
for r = 1, N / 2000 do
  local sq = map(data, function(x)
    return x * x % (r + 7)
  end)
  local ev = filter(sq, function(x)
    return x % 2 == 0
  end)
  red = red + reduce(ev, function(a, b)
    return a + b
  end, 0)
end
print(string.format("map/filter/reduce %d", red))
