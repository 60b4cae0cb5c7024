-- create/resume/yield: passing values both ways, status transitions.
local co = coroutine.create(function(a, b)
  print("started with", a, b)
  local c = coroutine.yield(a + b)
  print("resumed with", c)
  local d, e = coroutine.yield(c * 2)
  print("resumed with", d, e)
  return "finished", d + e
end)
print(type(co), coroutine.status(co))
print(coroutine.resume(co, 1, 2))
print(coroutine.status(co))
print(coroutine.resume(co, 10))
print(coroutine.resume(co, 3, 4))
print(coroutine.status(co))
print(coroutine.resume(co))
print(coroutine.resume(co))
-- yield with no values and with many
local co2 = coroutine.create(function()
  coroutine.yield()
  coroutine.yield(nil, nil)
  coroutine.yield(1, 2, 3, 4, 5)
end)
print(select("#", coroutine.resume(co2)))
print(select("#", coroutine.resume(co2)))
print(coroutine.resume(co2))
print(coroutine.resume(co2))
print(coroutine.status(co2))
-- a generator
local function gen(n)
  return coroutine.create(function() for i = 1, n do coroutine.yield(i) end end)
end
local g = gen(3)
while true do
  local ok, v = coroutine.resume(g)
  if v == nil then break end
  print("gen", ok, v)
end
-- resuming a running or normal coroutine
local self_co
self_co = coroutine.create(function() return coroutine.resume(self_co) end)
print(coroutine.resume(self_co))
local outer
outer = coroutine.create(function()
  local inner = coroutine.create(function()
    print("outer is", coroutine.status(outer))
    return coroutine.resume(outer)
  end)
  return coroutine.resume(inner)
end)
print(coroutine.resume(outer))
print(pcall(coroutine.resume, 1))
print(pcall(coroutine.create, 1))
print(pcall(coroutine.status, nil))
