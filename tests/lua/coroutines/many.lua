-- Many coroutines alive at once, and a long-running producer/consumer.
local cos = {}
for i = 1, 1000 do
  cos[i] = coroutine.create(function(x) local y = coroutine.yield(x + i) return y + i end)
end
local s = 0
for i = 1, 1000 do local _, v = coroutine.resume(cos[i], 0) s = s + v end
for i = 1, 1000 do local _, v = coroutine.resume(cos[i], 1) s = s + v end
print(s)
local dead = 0
for i = 1, 1000 do if coroutine.status(cos[i]) == "dead" then dead = dead + 1 end end
print(dead)
local producer = coroutine.wrap(function() for i = 1, 100000 do coroutine.yield(i) end return nil end)
local total = 0
while true do local v = producer() if not v then break end total = total + v end
print(total)
-- deep recursion inside a coroutine
local deepco = coroutine.create(function()
  local function d(n) if n == 0 then return coroutine.yield("deep") end return d(n - 1) end
  return d(10000)
end)
print(coroutine.resume(deepco))
print(coroutine.resume(deepco, "back"))
-- stack overflow inside a coroutine is an error of that coroutine
local ovf = coroutine.create(function() local function r() return 1 + r() end return r() end)
local ok, e = coroutine.resume(ovf)
print(ok, e)
