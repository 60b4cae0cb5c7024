-- Yields across pcall, xpcall, metamethods and iterators (LuaJIT allows these).
local co = coroutine.create(function()
  local ok, v = pcall(function()
    local got = coroutine.yield("from inside pcall")
    return got * 2
  end)
  coroutine.yield("pcall returned", ok, v)
  local ok2, err = pcall(function()
    coroutine.yield("before error")
    error("after yield")
  end)
  coroutine.yield("caught", ok2, err)
  local ok3, r3 = xpcall(function() return coroutine.yield("in xpcall") end, function(m) return m end)
  return "end", ok3, r3
end)
print(coroutine.resume(co))
print(coroutine.resume(co, 21))
print(coroutine.resume(co))
print(coroutine.resume(co))
print(coroutine.resume(co))
print(coroutine.resume(co, "xp"))
print(coroutine.status(co))
-- yield inside __index, __newindex, __add, __call, __eq, __lt, __concat
local mt = {
  __index = function(t, k) return coroutine.yield("index " .. k) end,
  __newindex = function(t, k, v) rawset(t, k, coroutine.yield("newindex " .. k)) end,
  __add = function(a, b) return coroutine.yield("add") end,
  __call = function(self, x) return coroutine.yield("call " .. x) end,
  __eq = function() return coroutine.yield("eq") end,
  __lt = function() return coroutine.yield("lt") end,
  __concat = function() return coroutine.yield("concat") end,
}
local obj = setmetatable({}, mt)
local other = setmetatable({}, mt)
local mco = coroutine.wrap(function()
  local results = {}
  results[1] = obj.foo
  obj.bar = "ignored"
  results[2] = rawget(obj, "bar")
  results[3] = obj + 1
  results[4] = obj("arg")
  results[5] = obj == other
  results[6] = obj < other
  results[7] = obj .. "s"
  return "results", results[1], results[2], results[3], results[4], results[5], results[6], results[7]
end)
print(mco())
print(mco("I"))
print(mco("N"))
print(mco("A"))
print(mco("C"))
print(mco(1))
print(mco(false))
print(mco("CC"))
-- yield inside a for-in iterator
local itco = coroutine.wrap(function()
  local function iter(_, i)
    i = i + 1
    if i > 3 then return nil end
    coroutine.yield("iter step " .. i)
    return i
  end
  local sum = 0
  for i in iter, nil, 0 do sum = sum + i end
  return "sum " .. sum
end)
for _ = 1, 4 do print(itco()) end
