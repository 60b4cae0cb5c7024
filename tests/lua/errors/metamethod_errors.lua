-- errors raised inside metamethods and iterators: messages and the uncaught traceback
local rawprint = print
-- tracebacks end in the host's address: hide it
print = function(...)
  local t, n = {...}, select('#', ...)
  for i = 1, n do if type(t[i]) == "string" then t[i] = t[i]:gsub("0x%x+", "0x?") end end
  rawprint(unpack(t, 1, n))
end
local m = {}
m.__index = function(t, k) return debug.traceback("tb") end
m.__add = function(x, y) local z = nil; return z.field end
m.__concat = function(x, y) error("cc") end
m.__lt = function(x, y) return nil + 1 end
m.__call = function(self, x) error("called") end
local a = setmetatable({}, m)
print(a.foo)
print(pcall(function() return a + 1 end))
print(pcall(function() return a .. 1 end))
print(pcall(function() return a < a end))
print(pcall(function() return a(1) end))
print(pcall(function() local x = {} return x.y.z end))
for k in function() local q; return q.w end do end
