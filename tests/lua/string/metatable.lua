-- The string metatable: methods through ':', indexing strings, shared __index table.
local mt = getmetatable("")
print(type(mt), mt.__index == string, getmetatable("abc") == mt, mt.__metatable)
print(("x"):rep(3), ("%d-%s"):format(1, "a"), ("Hello"):upper(), ("a,b"):find(",", 1, true))
local s = "hello"
print(s:len(), s:sub(2, 3), s:byte(-1), s:reverse(), #s:rep(3, " "))
print(s.len == string.len, s.nosuch, ("x").rep == string.rep)
-- Methods added to the string table show up on every string.
function string.shout(x) return x:upper() .. "!" end
print(("hi"):shout())
string.shout = nil
print(pcall(function() return ("hi"):shout() end))
-- Numbers are not strings: they have no methods.
print(pcall(function() local n = 5 return n:rep(2) end))
print(#string.format("%s", string.rep("ab", 10)))
