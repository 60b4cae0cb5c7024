-- collectgarbage options and their results (LuaJIT 2.1).
print(collectgarbage())
print(collectgarbage("collect"))
local kb = collectgarbage("count")
print(type(kb), kb > 0)
print(collectgarbage("isrunning"))
print(collectgarbage("stop"))
print(collectgarbage("isrunning"))
print(collectgarbage("restart"))
print(collectgarbage("isrunning"))
print(collectgarbage("setpause", 150))
print(collectgarbage("setpause", 200))
print(collectgarbage("setstepmul", 300))
print(collectgarbage("setstepmul", 200))
print(type(collectgarbage("step")))
print(type(collectgarbage("step", 0)), type(collectgarbage("step", 1000)))
print(pcall(collectgarbage, "bogus"))
print(pcall(collectgarbage, 1))
-- allocating grows the count; collecting garbage shrinks it again
collectgarbage()
local before = collectgarbage("count")
local junk = {}
for i = 1, 20000 do junk[i] = {i} end
local during = collectgarbage("count")
junk = nil
collectgarbage()
local after = collectgarbage("count")
print(during > before + 100, after < during - 100)
-- a full cycle finishes a step sequence
collectgarbage("stop")
local steps = 0
for i = 1, 1000 do junk = {} end
repeat steps = steps + 1 until collectgarbage("step") or steps > 10000
print("cycle finished", steps <= 10000)
collectgarbage("restart")
