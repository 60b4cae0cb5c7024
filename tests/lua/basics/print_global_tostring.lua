-- print calls the global tostring on every call when a script replaced it
local old = tostring
local calls = 0
tostring = function(v) calls = calls + 1 return "<" .. old(v) .. ">" end
print(1, "a", nil, true)
print()
tostring = old
print("calls", calls)
-- a number result is accepted, as lua_tolstring converts it
tostring = function(v) return 5 end
print(1, 2)
-- any other result type is an error
tostring = function(v) return nil end
local ok, e = pcall(print, 1)
tostring = old
print(ok, e)
tostring = function(v) return {} end
ok, e = pcall(print, "x")
tostring = old
print(ok, e)
-- no global tostring: calling nil
tostring = nil
ok, e = pcall(print, 1)
tostring = old
print(ok, e)
-- a callable table works, and print with no arguments does not call it
tostring = setmetatable({}, {__call = function(self, v) return "called:" .. old(v) end})
print(7)
print()
tostring = old
-- the environment of print is the globals table, not the caller's environment
setfenv(1, setmetatable({tostring = function() return "local" end}, {__index = _G}))
print("env")
-- an error inside the replacement propagates
_G.tostring = function(v) error("boom") end
ok, e = pcall(print, 1)
_G.tostring = old
print(ok, e)
-- __tostring still runs through the builtin
print(setmetatable({}, {__tostring = function() return "mt" end}))
-- each argument is written as soon as it is converted
print(1, setmetatable({}, {__tostring = function() print("inner") return "o" end}), 3)
print(pcall(print, "before", setmetatable({}, {__tostring = function() error("x", 0) end})))
io.write("\n")
