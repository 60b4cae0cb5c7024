-- Fault-sweep stress: finalizers, resurrection and incremental steps while allocating.
local log = {}
local keep = {}
for i = 1, 40 do
  local p = newproxy(true)
  getmetatable(p).__gc = function(u)
    log[#log + 1] = i
    if i % 5 == 0 then keep[#keep + 1] = u end
    if i % 7 == 0 then error("gc error " .. i) end
  end
end
collectgarbage("setpause", 100)
collectgarbage("setstepmul", 400)
for i = 1, 200 do local t = {i, tostring(i), {}} collectgarbage("step", 1) end
collectgarbage()
collectgarbage()
print(#log, #keep)
keep = nil
collectgarbage()
local co = coroutine.create(function()
  for i = 1, 20 do
    local p = newproxy(true)
    getmetatable(p).__gc = function() local s = "fin" .. i end
    coroutine.yield(collectgarbage("count") > 0)
  end
end)
for i = 1, 20 do coroutine.resume(co) end
collectgarbage()
print(coroutine.status(co))
