-- Upvalues outlive their frames, survive collection and break/goto out of blocks.
local makers = {}
for i = 1, 5 do
  local captured = {id = i}
  makers[i] = function() return captured.id end
  if i == 3 then break end
end
collectgarbage()
print(#makers, makers[1](), makers[2](), makers[3]())
local function deep(n)
  if n == 0 then
    local secret = "bottom"
    return function() return secret end
  end
  return deep(n - 1)
end
local f = deep(50)
collectgarbage()
print(f())
-- closing upvalues when a block ends early via goto
local list = {}
local k = 1
::again::
do
  local v = k * 2
  list[k] = function() return v end
  k = k + 1
  if k <= 3 then goto again end
end
print(list[1](), list[2](), list[3]())
-- upvalue of an upvalue
local function level1()
  local x = 0
  local function level2()
    local function level3() x = x + 1; return x end
    return level3
  end
  return level2(), function() return x end
end
local inc, peek = level1()
inc(); inc()
print(peek())
-- coroutine-held upvalues
local co = coroutine.wrap(function()
  local state = 0
  local function bump() state = state + 1 return state end
  coroutine.yield(bump)
  coroutine.yield(state)
end)
local bump = co()
bump(); bump()
print(co())
