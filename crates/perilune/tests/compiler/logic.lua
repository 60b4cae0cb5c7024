local a, b, c = ...
local x = a and b
local y = a or b
local z = a and b or c
local w = not a
local v = not (a and b)
local u = a < b and b <= c or a == "s" and b ~= 1 and c == nil
if not a then x = 1 elseif a > b then x = 2 else x = 3 end
if a == true and (b or c) then y = false end
while not a do a = b end
return a >= 1, 1 < a, "x" == a, nil ~= b
