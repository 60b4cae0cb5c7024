-- coroutine.running and coroutine.isyieldable inside and outside coroutines.
print(coroutine.running())
print(coroutine.isyieldable())
local co
co = coroutine.create(function()
  local r = coroutine.running()
  print(r == co, type(r), coroutine.isyieldable())
  print(coroutine.status(r))
end)
coroutine.resume(co)
print(pcall(coroutine.yield, 1))
print(coroutine.status(co))
