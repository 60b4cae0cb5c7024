-- Method definitions and calls: colon syntax, dotted names, self, chaining.
local Account = {}
Account.__index = Account
function Account.new(balance) return setmetatable({balance = balance}, Account) end
function Account:deposit(v) self.balance = self.balance + v; return self end
function Account:get() return self.balance end
local acc = Account.new(10)
print(acc:deposit(5):deposit(7):get(), acc.get(acc), Account.get(acc))
local ns = {a = {b = {}}}
function ns.a.b.f(x) return "f" .. x end
function ns.a.b:m(x) return self == ns.a.b, x end
print(ns.a.b.f(1), ns.a.b:m(2))
local obj = {name = "o"}
function obj.greet(self, other) return self.name .. " greets " .. other end
print(obj:greet("you"), obj.greet({name = "x"}, "y"))
-- inheritance through __index chains
local Base = {}
Base.__index = Base
function Base:kind() return "base" end
function Base:describe() return "I am " .. self:kind() end
local Derived = setmetatable({}, {__index = Base})
Derived.__index = Derived
function Derived:kind() return "derived" end
local d = setmetatable({}, Derived)
local b = setmetatable({}, Base)
print(b:describe(), d:describe())
-- calling a method on a value without it
print(pcall(function() return d:missing() end))
-- functions are values: stored, passed, returned
local ops = {add = function(x, y) return x + y end, mul = function(x, y) return x * y end}
local function apply(f, ...) return f(...) end
print(apply(ops.add, 2, 3), apply(ops.mul, 2, 3))
local function compose(f, g) return function(...) return f(g(...)) end end
print(compose(function(x) return x * 2 end, ops.add)(1, 2))
-- string method syntax needs the string library; a function call on a literal table works
print(({n = 3}).n, (function() return "iife" end)())
