-- The pre-roll: what is the same on every iteration (the table's type and
-- metatable checks, its array size and address, the upvalue's load and type
-- check, `k * 2 + 1` on an upvalue, the step's sign) is listed on the PRE-ROLL
-- line and computed once before the loop; the loop keeps the bounds check, the
-- array load and the sums. A second call with a string upvalue fails a hoisted
-- guard at entry: the interpreter runs the loop's iteration and raises the error.
local t = {}
for i = 1, 64 do t[i] = i end
local k = 3
local function f(n)
  local s = 0
  for i = 1, n do s = s + t[i] * (k * 2 + 1) end
  return s
end
print(f(64))
k = 0.5
print(f(64))
k = "x"
print(pcall(f, 64))
