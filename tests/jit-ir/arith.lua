-- Arithmetic on numbers in a numeric for loop: + - * / and unary minus, with
-- register and constant operands (KSHORT, KNUM), MOV and constant folding.
local a, b = 0, 1
for i = 1, 100 do
  local x = i * 2 + 1
  local y = 10 - x / 4
  local z = -y
  local k = 2.5 * 4  -- folded
  a = a + z * k
  b = x
end
print(a, b)
