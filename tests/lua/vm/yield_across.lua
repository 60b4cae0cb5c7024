-- Yields across metamethods, iterators and pcall, as LuaJIT allows.
local Y = coroutine.yield
local mt = {
  __index = function(t, k) return Y("index " .. k) end,
  __newindex = function(t, k, v) Y("newindex " .. k) rawset(t, k, v) end,
  __lt = function(a, b) return Y("lt") end,
  __le = function(a, b) return Y("le") end,
  __eq = function(a, b) return Y("eq") end,
  __concat = function(a, b) return Y("concat") end,
  __call = function(self, x) return Y("call " .. x) end,
  __add = function(a, b) return Y("add") end,
  __unm = function(a) return Y("unm") end,
}
local a = setmetatable({}, mt)
local b = setmetatable({}, mt)
local co = coroutine.create(function()
  print("index ->", a.foo)
  a.bar = 1
  print("newindex done", rawget(a, "bar"))
  print("lt ->", a < b)
  print("le ->", a <= b)
  print("eq ->", a == b)
  print("concat ->", a .. "x")
  print("call ->", a(7))
  print("add ->", a + 1)
  print("unm ->", -a)
  if a < b then print("branch taken") else print("branch not taken") end
  for i, v in function(_, i) if i < 3 then return i + 1, Y("iter " .. i) end end, nil, 0 do
    print("loop", i, v)
  end
  local ok, v = pcall(function() return Y("in pcall") end)
  print("pcall ->", ok, v)
  local ok2, e = pcall(function() Y("before error") error("after resume") end)
  print("pcall error ->", ok2, e)
  print(select("#", Y("multi")))
  return "finished"
end)
local answers = {"I", nil, true, false, true, "C", "called", 42, -1, true, "v1", "v2", "v3", "P", nil, 1}
local i = 0
local ok, msg = coroutine.resume(co)
while coroutine.status(co) == "suspended" do
  i = i + 1
  print("yielded:", msg)
  if msg == "multi" then
    ok, msg = coroutine.resume(co, 1, 2, 3)
  else
    ok, msg = coroutine.resume(co, answers[i])
  end
end
print("result:", ok, msg)
-- an error after a resume is caught by a pcall that was entered before the yield
local co2 = coroutine.create(function()
  return pcall(function()
    local function deeper() Y("deep") error("late error") end
    deeper()
  end)
end)
print(coroutine.resume(co2))
print(coroutine.resume(co2))
print(coroutine.status(co2))
