local gen = coroutine.wrap(function(...) for i = 1, 10 do coroutine.yield(i, ...) end end)
for i = 1, 10 do print(gen(i)) end
local co = coroutine.create(function() error({code = 1}) end)
print(coroutine.resume(co)) print(coroutine.status(co), coroutine.resume(co))
print(pcall(coroutine.yield))
local t = {} for i = 1, 100 do t[i] = coroutine.create(function() coroutine.yield() end) coroutine.resume(t[i]) end
print(select('#', table.sort({3, 2, 1}, function(a, b) return coroutine.yield() end)))
