-- and/or/not: short-circuit and values.
print(nil and 1, false and 1, 0 and 1, "" and 2, 1 and nil)
print(nil or 1, false or nil, 0 or 1, nil or false, false or false)
print(not nil, not false, not 0, not "", not not nil, not {})
print(1 and 2 or 3, nil and 2 or 3, false or nil and 1)
local calls = 0
local function f(v) calls = calls + 1 return v end
local _ = f(false) and f(1)
local _ = f(true) or f(2)
local _ = f(nil) or f(3)
print("calls", calls)
local x = 5
print(x > 3 and "big" or "small", x > 10 and "big" or "small")
print(1 == 1 and 2 == 2, 1 == 2 or 3 == 3, not (1 == 2))
print(nil == false or nil, (nil or false) == false)
