-- __index and __newindex as functions and as tables, chains, rawget/rawset bypass.
local base = {greet = "hello", n = 1}
local derived = setmetatable({}, {__index = base})
print(derived.greet, derived.n, derived.missing, rawget(derived, "greet"))
local chain = setmetatable({}, {__index = derived})
print(chain.greet)
local log = {}
local f = setmetatable({own = "o"}, {__index = function(t, k) log[#log + 1] = k; return k .. "!" end})
print(f.own, f.a, f[1])
print(#log, log[1], log[2])
local store = {}
local proxy = setmetatable({}, {
  __index = function(_, k) return store[k] end,
  __newindex = function(_, k, v) store[k] = v and v * 2 end,
})
proxy.x = 21
print(proxy.x, rawget(proxy, "x"), store.x)
rawset(proxy, "x", "raw")
print(proxy.x, store.x)
proxy.x = 5
print(rawget(proxy, "x"), store.x)
local sink = {}
local redirect = setmetatable({}, {__newindex = sink})
redirect.a = 1
print(rawget(redirect, "a"), sink.a)
local existing = setmetatable({a = 1}, {__newindex = function() error("not called") end})
existing.a = 2
print(existing.a)
-- __index on a table with a metatable whose __index is itself
local class = {}
class.__index = class
function class.new(v) return setmetatable({v = v}, class) end
function class:get() return self.v end
local obj = class.new(7)
print(obj:get(), getmetatable(obj) == class)
-- deep __index chain
local level = {deep = "found"}
for i = 1, 50 do level = setmetatable({}, {__index = level}) end
print(level.deep)
-- __newindex chain into a table with its own __newindex
local inner_log = {}
local innermost = setmetatable({}, {__newindex = function(t, k, v) inner_log[#inner_log + 1] = k .. "=" .. tostring(v) end})
local outer = setmetatable({}, {__newindex = innermost})
outer.q = 9
print(inner_log[1], rawget(innermost, "q"))
-- indexing nil fields
print(pcall(function() local o = {} return o.y.z end))
-- metatables changed after creation take effect
local late = {}
print(late.k)
setmetatable(late, {__index = {k = "late"}})
print(late.k)
setmetatable(late, nil)
print(late.k, getmetatable(late))
