-- Names and messages keep their bytes: a name or message that is not valid UTF-8
-- appears in error messages exactly as written, as in LuaJIT.

local function last_bytes(msg, n)
  return table.concat({ msg:byte(-n, -1) }, " ")
end

print(last_bytes(select(2, pcall(assert, false, "\255\254")), 2))
print(last_bytes(select(2, pcall(error, "caf\233")), 4))

local t = {}
print(select(2, pcall(function() t["\255"]() end)) == "binary_names.lua:12: attempt to call field '\255' (a nil value)")
print(select(2, pcall(function() return t["x\128y"].z end)) == "binary_names.lua:13: attempt to index field 'x\128y' (a nil value)")

-- A builtin called under such a name reports it in its argument errors.
t["r\255p"] = string.rep
print(select(2, pcall(function() local r = t["r\255p"]() return r end)) == "binary_names.lua:17: bad argument #1 to 'r\255p' (string expected, got no value)")

-- debug.getinfo's name field.
t["\200"] = function() return debug.getinfo(1, "n").name end
print(t["\200"]() == "\200")

-- Arguments quoted in library messages keep their bytes too.
print(select(2, pcall(collectgarbage, "x\255")) == "bad argument #1 to '?' (invalid option 'x\255')")
print(select(2, pcall(string.format, "%-\255")) == "invalid option '%-\255' to 'format'")
print(select(2, loadfile("no\255such.lua")) == "cannot open no\255such.lua: No such file or directory")
print(select(2, pcall(dofile, "no\255such.lua")) == "cannot open no\255such.lua: No such file or directory")
print(select(2, pcall(io.lines, "no\255such.lua")) == "bad argument #1 to '?' (no\255such.lua: No such file or directory)")

-- Syntax errors quote the token's bytes.
print(select(2, loadstring("\255\255 \255", "=c")) == "c:1: '=' expected near '\255'")
print(select(2, loadstring("x = 1\255", "=c")) == "c:1: malformed number near '1\255'")
print(select(2, loadstring("x = 'a\255\n", "=c")) == "c:1: unfinished string near ''a\255'")
