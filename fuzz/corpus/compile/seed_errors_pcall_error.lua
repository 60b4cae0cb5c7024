-- error, pcall: messages with positions, levels, non-string error values.
print(pcall(error, "plain"))
print(pcall(error, "lvl0", 0))
print(pcall(function() error("with position") end))
print(pcall(function() error("level 2", 2) end))
local function thrower(lvl) error("lvl" .. lvl, lvl) end
local function middle(lvl) thrower(lvl) end
print(pcall(middle, 1))
print(pcall(middle, 2))
print(pcall(middle, 3))
print(pcall(function() error() end))
print(pcall(function() error(nil) end))
print(pcall(function() error(42) end))
print(pcall(function() error(true) end))
local obj = {code = 7}
local ok, e = pcall(function() error(obj) end)
print(ok, e == obj, e.code)
local ok2, e2 = pcall(error, setmetatable({}, {__tostring = function() return "custom" end}))
print(ok2, tostring(e2))
print(pcall(function() return 1, 2, 3 end))
print(pcall(function(...) return select("#", ...) end, nil, nil))
print(select("#", pcall(function() end)))
print(pcall(pcall))
print(pcall(pcall, error))
print(pcall(pcall, error, "inner"))
-- nested pcall: inner error is contained
print(pcall(function()
  local ok3, e3 = pcall(error, "deep")
  return "outer fine", ok3, e3
end))
-- rethrowing keeps the original message
print(pcall(function()
  local ok4, e4 = pcall(function() error("original") end)
  error(e4, 0)
end))
-- error with a number message gets a position like a string
print(pcall(function() error(12.5) end))
-- assert
print(pcall(assert, true, "unused"))
print(pcall(assert, 1, 2, 3))
print(pcall(assert, false))
print(pcall(assert, nil, "assert message"))
print(select(2, pcall(assert, false, {1}))[1])
print(pcall(assert))
local okt, et = pcall(assert, false, obj)
print(et == obj)
