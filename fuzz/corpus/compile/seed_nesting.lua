local x = ((((((((((1))))))))))
local y = {{{{{{{{{{}}}}}}}}}}
local z = - - - - - not not not # "abc"
if x then if y then if z then while x do repeat do end until y end end end end
return 1 + 2 * 3 ^ 4 ^ 5 .. 6 .. 7 == 8 and 9 or 10 < 11 and 12 >= 13
