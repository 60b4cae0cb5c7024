-- errors while an xpcall handler runs: a nested handler is not run ("error in error
-- handling"), a stack overflow inside the handler is "stack overflow"
print(xpcall(function() error("a") end, function(m) return select(2, xpcall(function() error("b") end, function(m2) return "inner:" .. m2 end)) end))
print(xpcall(function() error("a") end, function(m) return select(2, pcall(error, "p")) end))
print(xpcall(function() error("a") end, function(m) error("in handler") end))
print(xpcall(function() error("a") end, function(m) local t = nil; return t.x end))
print(xpcall(function() error("a") end, function(m) return m .. "!" end))
print(xpcall(function() error("a") end, function(m) return coroutine.wrap(function() return select(2, xpcall(error, function(q) return "co:" .. tostring(q) end, "z")) end)() end))
print(xpcall(error, print, "direct"))
local depth = 0
local function xp(n) depth = n return xpcall(function() error("e") end, function(m) return xp(n + 1) end) end
print(xp(1), depth)
print(xpcall(function() error("a") end, function(m) local function r(n) return 1 + r(n) end return r(1) end))
-- handlers work again afterwards
print(xpcall(function() error("again", 0) end, function(m) return "handled " .. m end))
