-- debug.traceback: messages, levels, threads, non-string messages
local function clean(s) return (s:gsub("0x%x+", "0x?")) end
local function lvl3()
  print(clean(debug.traceback("msg")))
  print(clean(debug.traceback("m2", 2)))
  print(clean(debug.traceback()))
end
local function lvl2() lvl3() end
local function tail() return lvl2() end
tail()
print(debug.traceback(nil))
print(type(debug.traceback({})))
print(clean(debug.traceback(12)))
print(clean(debug.traceback(12, 1)))
print(clean(debug.traceback("x", 0)))
print(debug.traceback("x", 50))
print(debug.traceback("x", -1))
print(pcall(debug.traceback, "x", "y"))
print(debug.traceback(true))
print(select("#", debug.traceback(nil)))
local co = coroutine.create(function() local x = 1; coroutine.yield() end)
coroutine.resume(co)
print(debug.traceback(co))
print(debug.traceback(co, "hi"))
print(debug.traceback(co, "hi", 1))
print(debug.traceback(co, nil, 1))
print(debug.traceback(coroutine.create(print)))
print(select(2, pcall(debug.traceback, co, {}, 1)) ~= nil)
local t = setmetatable({}, {__index = function(t, k) print(clean(debug.traceback("in index"))) end})
local _ = t.x
string.gsub("a", "a", function() print(clean(debug.traceback("gsub"))) end)
print(select(2, pcall(error, clean(debug.traceback("pc")))))
local function deep(n)
  if n == 0 then return clean(debug.traceback("deep")) end
  local r = deep(n - 1)
  return r
end
print(deep(30))
local function deep2(n, lvl)
  if n == 0 then return clean(debug.traceback("deep2", lvl)) end
  local r = deep2(n - 1, lvl)
  return r
end
print(deep2(30, 5))
print(deep2(15, 3))
print(deep2(20, 1))
print(deep2(21, 1))
print(deep2(40, 11))
print(deep2(40, 15))
local co2 = coroutine.wrap(function() print(clean(debug.traceback("inside"))) end)
co2()
