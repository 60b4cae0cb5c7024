-- setfenv/getfenv: function environments, levels, globals resolution.
local function show_env(f) return getfenv(f) == _G end
print(show_env(1), show_env(print), getfenv(0) == _G, getfenv() == _G)
x = "global x"
local function readx() return x end
local env = {x = "env x"}
print(readx())
print(setfenv(readx, env) == readx)
print(readx(), getfenv(readx) == env)
-- closures created inside inherit the environment of their creator
local function maker() return function() return x end end
setfenv(maker, {x = "maker env"})
print(maker()())
-- setting the environment of the current function by level
local function selfenv()
  setfenv(1, {print = print, y = "level 1"})
  print(y)
end
selfenv()
print(y)
-- the caller's environment by level 2
local function setcaller() setfenv(2, {print = print, tag = "caller"}) end
local function caller() setcaller(); print(tag) end
caller()
-- globals written go to the environment
local sandbox = {}
local function writer() newglobal = 1 end
setfenv(writer, sandbox)
writer()
print(sandbox.newglobal, rawget(_G, "newglobal"))
-- an environment with __index falling back to _G
local fallback = setmetatable({}, {__index = _G})
local function usesprint() print("via fallback", type(tostring)) end
setfenv(usesprint, fallback)
usesprint()
-- errors
print(pcall(setfenv, readx, 1))
print(pcall(getfenv, -1))
print(pcall(getfenv, 100))
print(pcall(setfenv, print, {}))
print(pcall(setfenv, 100, {}))
print(type(getfenv(print)))
-- setfenv(0, t) changes the thread's global environment
local co = coroutine.create(function()
  setfenv(0, {marker = "thread env"})
  return getfenv(0).marker
end)
print(coroutine.resume(co))
print(getfenv(0).marker)
