-- __concat and __len (in Lua 5.1, __len is not consulted for tables).
local C = setmetatable({}, {__concat = function(a, b)
  local function s(v) return type(v) == "table" and "C" or tostring(v) end
  return s(a) .. "+" .. s(b)
end})
print(C .. "x", "x" .. C, 1 .. C, C .. C)
print("a" .. "b" .. C)
print(C .. "a" .. "b")
print(pcall(function() return C .. nil end))
print(pcall(function() return true .. C end))
local L = setmetatable({1, 2, 3}, {__len = function() return 99 end})
print(#L)
local u = newproxy(true)
getmetatable(u).__len = function(x) return 42 end
print(#u)
print(pcall(function() return #newproxy() end))
local u2 = newproxy(true)
print(pcall(function() return #u2 end))
-- concat of numbers and strings with a metamethod on the right
local R = setmetatable({}, {__concat = function(a, b) return "R(" .. tostring(a) .. ")" end})
print(1 .. 2 .. R)
