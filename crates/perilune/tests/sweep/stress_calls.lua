-- Fault-sweep stress: calls, varargs, stack growth, metamethods, coroutines, errors.
local function count(...) return select("#", ...) end
local big = {}
for i = 1, 250 do big[i] = i end
print(count(unpack(big)))
local function deep(n, ...) if n == 0 then return select("#", ...) end return deep(n - 1, n, ...) end
print(deep(150))
local mt = {}
mt.__index = function(t, k) return k .. "!" end
mt.__add = function(a, b) return setmetatable({v = a.v + b.v}, mt) end
mt.__concat = function(a, b) return "cat" end
mt.__call = function(self, x) return x * 2 end
mt.__tostring = function(self) return "obj" .. tostring(rawget(self, "v")) end
local a, b = setmetatable({v = 1}, mt), setmetatable({v = 2}, mt)
print((a + b).v, a.zzz, a .. b, a(21), tostring(a))
local s = ""
for i = 1, 60 do s = s .. i .. "," end
print(#s)
local co = coroutine.wrap(function(x)
  local acc = {}
  for i = 1, 30 do acc[i] = coroutine.yield(i + x) end
  return #acc
end)
local r = co(1)
for i = 1, 30 do r = co(i) end
print(r)
print(pcall(error, {code = 1}))
print(select(2, pcall(error, "msg", 0)))
print(xpcall(function() local x = nil; return x.y end, function(e) return "handled: " .. e end))
print(xpcall(function() error("e") end, function(e) local t = {} for i = 1, 100 do t[i] = {} end return #t end))
local ok, e = pcall(function() local function r() return 1 + r() end return r() end)
print(ok, e)
local fs = {}
for i = 1, 50 do local up = {i} fs[i] = function() up[1] = up[1] + 1 return up[1] end end
print(fs[50](), fs[50]())
print(assert(loadstring("local a, b = ... return a + b, 'x' .. a"))(3, 4))
print(loadstring("syntax error here"))
