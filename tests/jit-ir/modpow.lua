-- `%` and `^` on numbers in every operand form (MODVN, MODNV, MODVV, POW), folded
-- on constants, with Lua's `a - floor(a/b) * b` (negative operands, division by
-- zero and infinities give the interpreter's results).
local s, p, q = 0, 0, 0
local d = -3
for i = 1, 100 do
  local m = i % 7             -- MODVN
  local n = 100 % i           -- MODNV
  local o = (i - 50) % d      -- MODVV, a negative divisor
  local w = i ^ 0.5           -- POW (constant exponent in a register)
  local e = 2 ^ 10            -- folded
  s = s + m + n + o
  p = p + w + e
  q = q + (i % 0) + (1 / 0) % i -- NaN and inf % i
end
print(s, p, q ~= q)
local r = 0
for i = 1, 50 do r = r + (-i) % 2.5 + (i / 3) % -1 + (2 ^ -i) end
print(r)
