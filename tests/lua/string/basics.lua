-- The string library: a first smoke test of common functions.
print(string.len("abc"), ("abc"):len(), ("x"):rep(3), ("abc"):upper(), ("ABC"):lower())
print(("hello"):sub(2, 3), ("hello"):sub(-3), ("hello"):byte(1), string.char(72, 105))
print(string.format("%d %5.2f %s %q", 42, 3.14159, "s", "a\nb"))
print(("a,b,c"):find(","), ("a,b,c"):find(",", 3, true), ("key=val"):match("(%w+)=(%w+)"))
print(("hello world"):gsub("o", "0"))
local acc = ""
for w in ("one two three"):gmatch("%a+") do acc = acc .. w .. ";" end
print(acc)
print(getmetatable("").__index == string, ("abc").len == string.len)
print(tostring(12):rep(2), #string.rep("ab", 3, ","))
