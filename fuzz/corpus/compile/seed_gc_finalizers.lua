-- newproxy(true) with __gc: finalizers run after the object becomes garbage.
local log = {}
local function make(name)
  local p = newproxy(true)
  getmetatable(p).__gc = function(self) log[#log + 1] = name end
  return p
end
local a = make("a")
local b = make("b")
collectgarbage()
print(#log)
a = nil
collectgarbage()
print(#log, log[1])
b = nil
collectgarbage()
print(#log, log[2])
-- many finalizers
local n = 0
for i = 1, 100 do
  local p = newproxy(true)
  getmetatable(p).__gc = function() n = n + 1 end
end
collectgarbage()
collectgarbage()
print("ran", n)
-- a finalizer receives the object and may resurrect it for the moment
local saved
local r = newproxy(true)
getmetatable(r).__gc = function(self) saved = self end
r = nil
collectgarbage()
print(type(saved))
saved = nil
collectgarbage()
-- proxies made with newproxy(p) share the metatable and its __gc
local shared_count = 0
local base = newproxy(true)
getmetatable(base).__gc = function() shared_count = shared_count + 1 end
local copies = {}
for i = 1, 3 do copies[i] = newproxy(base) end
copies = nil
base = nil
collectgarbage()
print("shared", shared_count)
-- finalizers of objects alive at exit still run when the state closes
local at_exit = newproxy(true)
getmetatable(at_exit).__gc = function() print("finalized at exit") end
print("end of script")
