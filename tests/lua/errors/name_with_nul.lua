-- names in messages are C strings in LuaJIT: a field name with a NUL ends there
-- (error messages, argument errors, tracebacks, debug.getinfo's name)
local function q(s) print(string.format("%q", s)) end
local t = {}
q(select(2, pcall(function() t["a\0b"]() end)))
q(select(2, pcall(function() return t["a\0b"].x end)))
q(select(2, pcall(function() return t["\0b"] + 1 end)))
q(select(2, pcall(function() t["a\0b"].x = 1 end)))
local u = {["x\0y"] = {}}
q(select(2, pcall(function() return u["x\0y"] .. "s" end)))
q(select(2, pcall(function() return #u["\0"] end)))
t["f\0g"] = function() return debug.getinfo(1, "n").name end
q(tostring(t["f\0g"]()))
t["h\0i"] = function() local s = debug.traceback("tb", 1) return s end
q((t["h\0i"]():gsub("0x%x+", "0x?")))
t["s\0r"] = string.rep
q(select(2, pcall(function() local r = t["s\0r"]() return r end)))
local obj = {["m\0n"] = string.rep}
q(select(2, pcall(function() local r = obj["m\0n"](obj) return r end)))
t["e\0e"] = function() error("boom", 2) end
q(select(2, pcall(function() t["e\0e"]() end)))
-- the whole key is still used for the lookup
t["k\0a"], t["k\0b"] = 1, 2
print(t["k\0a"], t["k\0b"], t.k)
