-- tostring tail-calls __tostring as LuaJIT does: a yield inside it resumes; print and other natives stay C-call boundaries
local mt = {__tostring = function(o) local r = coroutine.yield("in tostring") return "obj" .. r end}
local o = setmetatable({}, mt)
local co = coroutine.create(function() return tostring(o) end)
print(coroutine.resume(co))
print(coroutine.resume(co, "!"))
co = coroutine.create(function() print(o) return "done" end)
print(coroutine.resume(co))
print(coroutine.resume(co, "?"))
co = coroutine.wrap(function() local s = tostring(o) .. "+" return s end)
print(co()) print(co("x"))
-- __index function
local p = setmetatable({}, {__index = function(t, k) return coroutine.yield(k) end})
co = coroutine.create(function() return p.foo end)
print(coroutine.resume(co)) print(coroutine.resume(co, 7))
-- __eq
local e1 = setmetatable({}, {__eq = function() return coroutine.yield("eq") end})
local e2 = setmetatable({}, getmetatable(e1))
co = coroutine.create(function() return e1 == e2 end)
print(coroutine.resume(co)) print(coroutine.resume(co, 1))
-- __lt, __le, __concat, __len, __call, __unm, __add, __newindex
local m = {}
for _, k in ipairs{"__lt","__le","__concat","__len","__call","__unm","__add","__newindex"} do
  m[k] = function() return coroutine.yield(k) end
end
local a = setmetatable({}, m)
local tests = {
  function() return a < a end, function() return a <= a end, function() return a .. "x" end,
  function() return #a end, function() return a() end, function() return -a end,
  function() return a + 1 end, function() a.x = 1 return "set" end,
}
for _, f in ipairs(tests) do
  co = coroutine.create(f)
  print(coroutine.resume(co)) print(coroutine.resume(co, "r"))
end
-- tostring via string.format %s and table.concat / error handler
co = coroutine.create(function() return string.format("%s", o) end)
print(coroutine.resume(co))
co = coroutine.create(function() return ("x"):rep(2, o) end)
print(coroutine.resume(co))
-- yield in __index from pairs/ipairs iterator fn
co = coroutine.create(function() for k, v in function() return coroutine.yield("iter") end do return k end end)
print(coroutine.resume(co)) print(coroutine.resume(co, "k"))
-- __gc, __tostring inside error
co = coroutine.create(function() return select(2, pcall(tostring, o)) end)
print(coroutine.resume(co)) print(coroutine.resume(co, "p"))
