-- Concatenation, coercion between numbers and strings.
print("a" .. "b" .. "c", 1 .. 2, 1.5 .. "|", "x" .. 10 / 4)
print("n=" .. 1e100, "n=" .. -0.0, "n=" .. 2^63, "n=" .. 1/0)
local s = ""
for i = 1, 10 do s = s .. i end
print(s, #s)
print("10" + 5, "10" - "3", "2" ^ "3", "7" % "4", -"3", "0x1F" + 0, "1e2" * 1)
print(" 12 " + 0, "\t12\n" + 0, pcall(function() return "12a" + 0 end))
print(pcall(function() return "abc" + 1 end))
print(pcall(function() return {} .. "x" end))
print(pcall(function() return "x" .. nil end))
print(pcall(function() return 1 .. true end))
print(pcall(function() local t = {} return "a" .. t.missing end))
print(type(1 .. ""), type("1" + 0))
local a, b, c = "p", "q", "r"
print(a .. b .. c .. a .. b .. c)
print(1 .. "" == "1", 10 == "10", tostring(10) == "10")
