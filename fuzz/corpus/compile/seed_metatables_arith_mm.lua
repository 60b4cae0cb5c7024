-- Arithmetic metamethods: operand order, mixing with numbers and strings, __unm.
local V = {}
V.__index = V
local function vec(x, y) return setmetatable({x = x, y = y}, V) end
local function show(v) return type(v) == "table" and ("(" .. v.x .. "," .. v.y .. ")") or tostring(v) end
V.__add = function(a, b)
  if type(a) == "number" then return vec(a + b.x, a + b.y) end
  if type(b) == "number" then return vec(a.x + b, a.y + b) end
  return vec(a.x + b.x, a.y + b.y)
end
V.__sub = function(a, b) return vec(a.x - b.x, a.y - b.y) end
V.__mul = function(a, b)
  if type(a) == "number" then return vec(a * b.x, a * b.y) end
  if type(b) == "number" then return vec(a.x * b, a.y * b) end
  return a.x * b.x + a.y * b.y
end
V.__div = function(a, b) return vec(a.x / b, a.y / b) end
V.__mod = function(a, b) return vec(a.x % b, a.y % b) end
V.__pow = function(a, b) return vec(a.x ^ b, a.y ^ b) end
V.__unm = function(a) return vec(-a.x, -a.y) end
local a, b = vec(1, 2), vec(3, 4)
print(show(a + b), show(a - b), show(a * b), show(a * 2), show(2 * a))
print(show(b / 2), show(b % 3), show(a ^ 2), show(-a), show(1 + a), show(a + 1))
-- which operand's metamethod is used, and the arguments order
local trace = {}
local L = setmetatable({}, {__add = function(x, y) trace[#trace + 1] = "L" return "L" end})
local R = setmetatable({}, {__add = function(x, y) trace[#trace + 1] = "R" return "R" end})
print(L + R, R + L, 1 + R, R + 1, "s" + L)
-- strings convertible to numbers use numeric arithmetic, not metamethods
print("10" + 1, "3" * "4")
-- __unm receives the operand (twice in 5.1 / LuaJIT)
local u = setmetatable({}, {__unm = function(x, y) return rawequal(x, y) end})
print(-u)
-- missing metamethods
print(pcall(function() return {} + 1 end))
print(pcall(function() return a .. "x" end))
print(pcall(function() local t = {} return -t end))
print(pcall(function() local t = setmetatable({}, {__add = function() error("from __add") end}) return t + 1 end))
-- metamethods on the number side are not looked up; only operands with metatables
local onlysub = setmetatable({}, {__sub = function() return "sub" end})
print(onlysub - 1, 1 - onlysub, pcall(function() return onlysub + 1 end))
