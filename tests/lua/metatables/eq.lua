-- __eq is only used for two tables or two userdata with the same metamethod.
local mt = {__eq = function(a, b) return a.id == b.id end}
local a = setmetatable({id = 1}, mt)
local b = setmetatable({id = 1}, mt)
local c = setmetatable({id = 2}, mt)
print(a == b, a ~= b, a == c, a ~= c, a == a)
print(a == 1, a == "x", a == nil, rawequal(a, b))
local other = setmetatable({id = 1}, {__eq = function() return true end})
print(a == other, other == a)
local samefn = function() return true end
local p = setmetatable({}, {__eq = samefn})
local q = setmetatable({}, {__eq = samefn})
print(p == q)
local plain = {id = 1}
print(a == plain, plain == a)
local calls = 0
local counted = {__eq = function() calls = calls + 1 return false end}
local x, y = setmetatable({}, counted), setmetatable({}, counted)
print(x == y, x ~= y, x == x, calls)
local u1, u2 = newproxy(true), newproxy(true)
getmetatable(u1).__eq = function() return true end
getmetatable(u2).__eq = getmetatable(u1).__eq
print(u1 == u2, u1 ~= u2)
local truthy = setmetatable({}, {__eq = function() return "yes" end})
local truthy2 = setmetatable({}, getmetatable(truthy))
print(truthy == truthy2)
local t = {}
t[a] = "a"
print(t[b])
