-- cogen: coroutines as generators (resume/yield round trips, coroutine.wrap,
-- a pipeline of generator filters, passing values both ways).
-- Usage: cogen.lua [n]   (default 9000000)
-- small size: 20000
local N = tonumber(arg and arg[1]) or 9000000

local function range(n)
  return coroutine.wrap(function()
    for i = 1, n do
      coroutine.yield(i)
    end
  end)
end

local function map(gen, f)
  return coroutine.wrap(function()
    for v in gen do
      coroutine.yield(f(v))
    end
  end)
end

local function filter(gen, p)
  return coroutine.wrap(function()
    for v in gen do
      if p(v) then
        coroutine.yield(v)
      end
    end
  end)
end

-- 1: a three-stage pipeline
local sum, count = 0, 0
local pipeline = filter(
  map(range(N), function(x)
    return x * 3 % 1000
  end),
  function(x)
    return x % 2 == 0
  end
)
for v in pipeline do
  sum = sum + v
  count = count + 1
end
print(string.format("pipeline count %d sum %d", count, sum))

-- 2: a coroutine sieve for primes (a chain of filter coroutines)
local function numbers_from(k)
  return coroutine.wrap(function()
    local i = k
    while true do
      coroutine.yield(i)
      i = i + 1
    end
  end)
end
local function sieve_filter(p, gen)
  return coroutine.wrap(function()
    while true do
      local v = gen()
      if v % p ~= 0 then
        coroutine.yield(v)
      end
    end
  end)
end
-- (at most 120 nested resumes: Lua 5.1 limits the C stack depth of nested resumes)
local nprimes = math.min(120, math.floor(N / 100000) + 5)
local gen = numbers_from(2)
local last, psum = 0, 0
for _ = 1, nprimes do
  local p = gen()
  last = p
  psum = psum + p
  gen = sieve_filter(p, gen)
end
print(string.format("primes %d last %d sum %d", nprimes, last, psum))

-- 3: resume/yield passing values in both directions, with status checks
local co = coroutine.create(function(a)
  local total = a
  while true do
    local x = coroutine.yield(total)
    if x == nil then
      break
    end
    total = (total + x) % 1000003
  end
  return "done", total
end)
local ok, v = coroutine.resume(co, 1)
local acc = 0
for i = 1, N do
  ok, v = coroutine.resume(co, i)
  acc = (acc + v) % 1000000007
end
local ok2, tag, final = coroutine.resume(co, nil)
print(string.format("echo %s %s %d %d %s", tostring(ok), tag, final, acc, coroutine.status(co)))

-- 4: many short-lived coroutines
local made = 0
for i = 1, N / 10 do
  local c = coroutine.create(function(x, y)
    local z = coroutine.yield(x + y)
    return z * 2
  end)
  local _, a = coroutine.resume(c, i, 1)
  local _, b = coroutine.resume(c, a)
  made = made + b
end
print(string.format("short-lived %d", made))
