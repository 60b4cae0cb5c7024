local a, b, c, d, i = ...
local t = {}
t[i], i = 1, 2
t.x, t = 1, 2
if (a or b) and (c or d) then a = 1 end
local x = a and b or c and d
while a and not b do a = c end
if nil == a or 1 < b then return a or f() end
x = not not a
x = (a or 1) + 2
return 1 == a
