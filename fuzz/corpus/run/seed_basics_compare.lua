-- Relational operators and equality across types.
print(1 < 2, 2 < 1, 1 <= 1, 1 >= 2, 2 > 1, -1 < 0)
print("a" < "b", "b" <= "b", "abc" > "abd", "" >= "", "A" < "a")
print("a\0b" < "a\0c", "a\0" > "a", #"a\0")
print(1 == 1, 1 == 1.0, "1" == 1, 1 ~= "1", nil == false, false == false)
print(0 == -0, 1/0 == 1/0, -(1/0) < 1/0)
local nan = 0/0
print(nan == nan, nan ~= nan, nan < 1, nan > 1, nan <= nan, nan >= 1, not (nan < 1))
local t, u = {}, {}
print(t == t, t == u, t ~= u)
local f = function() end
print(f == f, print == print, f == print)
print(true == true, true ~= false, nil == nil)
-- comparison errors
print(pcall(function() return 1 < "2" end))
print(pcall(function() return {} < {} end))
print(pcall(function() return nil < 1 end))
print(pcall(function() return "a" <= 1 end))
print(pcall(function() return true > false end))
print(pcall(function() return function() end >= 2 end))
