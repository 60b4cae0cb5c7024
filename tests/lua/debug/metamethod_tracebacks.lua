-- tracebacks taken inside metamethods name them as LuaJIT does
local rawprint = print
-- tracebacks end in the host's address: hide it
print = function(...)
  local t, n = {...}, select('#', ...)
  for i = 1, n do if type(t[i]) == "string" then t[i] = t[i]:gsub("0x%x+", "0x?") end end
  rawprint(unpack(t, 1, n))
end
local m = {}
m.__index = function(t, k) local s = debug.traceback("tb") return s end
m.__add = function(t, k) local s = debug.traceback("add") return s end
m.__eq = function(t, k) print(debug.traceback("eq")) return true end
m.__le = function(t, k) print(debug.traceback("le")) return true end
m.__concat = function(t, k) local s = debug.traceback("cat") return s end
m.__newindex = function(t, k) print(debug.traceback("ni")) end
m.__unm = function(t, k) local s = debug.traceback("unm") return s end
m.__len = function(t, k) local s = debug.traceback("len") return s end
m.__call = function(t, k) local s = debug.traceback("call") return s end
local a = setmetatable({}, m)
local b = setmetatable({}, m)
print(a.foo)
print(a + 1)
print(a == b)
print(a <= b)
print(a .. "x")
a.x = 1
print(-a)
print(a())
local u = newproxy(true) getmetatable(u).__len = m.__len
print(#u)
local function f() local x = a + 1 return x end
print(f())
local mt2 = {__index = function(t, k) error("idx err") end}
local c = setmetatable({}, mt2)
print(pcall(function() return c.zz end))
print(select(2, xpcall(function() return c.zz end, debug.traceback)))
