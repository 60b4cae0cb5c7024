-- bit.tobit: LuaJIT's number to 32-bit conversion (wrap-around, rounding to
-- nearest even, infinities and NaN).
local inf, nan = 1/0, 0/0
local cases = {0, 1, -1, 2^31, 2^31 - 1, -2^31, -2^31 - 1, 2^32, 2^32 + 1, 2^32 - 1,
  0.5, 1.5, 2.5, -0.5, -1.5, 3.5, -3.5, 0.49999999999999994, 4294967295.5,
  2^52, 2^53 + 4, 2^60 + 7, -2^60 + 7, 1e300, inf, -inf, nan, -0.0}
for _, x in ipairs(cases) do
  print(x, bit.tobit(x))
end
print(bit.tobit("12"), bit.tobit("0x10"), bit.tobit("1e1"), bit.tobit(" 7 "))
print(pcall(bit.tobit))
print(pcall(bit.tobit, "abc"))
print(pcall(bit.tobit, {}))
print(pcall(function() return bit.tobit(nil) end))
