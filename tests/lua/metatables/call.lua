-- __call: callable tables, arguments, multiple results, nesting.
local obj = setmetatable({name = "obj"}, {__call = function(self, a, b) return self.name, a, b end})
print(obj(1, 2))
print(obj())
print(pcall(obj, "x"))
local multi = setmetatable({}, {__call = function(_, ...) return select("#", ...), ... end})
print(multi(nil, nil))
local count = 0
local counter = setmetatable({}, {__call = function() count = count + 1; return count end})
counter(); counter()
print(counter())
-- __call value that is itself callable through __call
local inner = setmetatable({}, {__call = function(_, x) return "inner", x end})
local outer = setmetatable({}, {__call = inner})
print(pcall(outer, 5))
print(pcall(setmetatable({}, {__call = 42})))
print(pcall(setmetatable({}, {})))
-- method call syntax through __index + __call
local m = setmetatable({}, {__index = function(_, k) return function(self, x) return k .. ":" .. x end end})
print(m:hello("world"))
