-- coroutine.wrap keeps the bytes of a string error (invalid UTF-8 included)
local f = coroutine.wrap(function() error("\255\254 bad", 0) end)
local ok, e = pcall(f)
print(ok, #e, e:byte(-10, -1))
print(string.format("%q", e))
-- called from Lua code, the caller's position is prepended; the bytes stay
local g = coroutine.wrap(function() error("\200x", 0) end)
local ok2, e2 = pcall(function() return g() end)
print(ok2, string.format("%q", e2), #e2)
