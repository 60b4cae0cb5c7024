-- coroutine.wrap: errors propagate with position, dead wrap calls fail.
local w = coroutine.wrap(function(x)
  local y = coroutine.yield(x + 1)
  return y * 2
end)
print(w(1))
print(w(5))
print(pcall(w))
local e = coroutine.wrap(function() error("inside wrap") end)
print(pcall(e))
local t = coroutine.wrap(function() error({code = 5}) end)
local ok, obj = pcall(t)
print(ok, type(obj), obj.code)
-- wrap as an iterator
local function chars(s)
  return coroutine.wrap(function()
    for i = 1, #s do coroutine.yield(i) end
  end)
end
for i in chars("abcd") do print("index", i) end
-- nested wraps
local outer = coroutine.wrap(function()
  local inner = coroutine.wrap(function() coroutine.yield("inner1"); coroutine.yield("inner2") end)
  coroutine.yield(inner())
  coroutine.yield(inner())
  coroutine.yield("outer done")
end)
print(outer(), outer(), outer())
print(pcall(coroutine.wrap, 1))
