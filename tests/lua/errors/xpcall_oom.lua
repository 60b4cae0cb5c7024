-- A memory error skips the xpcall handler, as in Lua 5.1 and LuaJIT: xpcall returns
-- false and "not enough memory" as they are. A 2 GB string is refused by both.
local calls = 0
local ok, e = xpcall(function() return ("ab"):rep(2^30) end, function(m) calls = calls + 1 return 42 end)
print(ok, e, calls)
-- other errors still go through the handler
print(xpcall(function() error("boom", 0) end, function(m) calls = calls + 1 return "handled " .. m end))
print(calls)
