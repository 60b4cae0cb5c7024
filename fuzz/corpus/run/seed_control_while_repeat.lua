-- while and repeat loops; repeat's condition sees the body's locals.
local i = 0
while i < 3 do i = i + 1; print("while", i) end
local j = 10
while false do j = 0 end
print(j)
local n = 0
repeat
  local done = n >= 2
  n = n + 1
  print("repeat", n)
until done
local k = 0
repeat k = k + 1 until true
print("once", k)
local x = 0
while true do
  x = x + 1
  if x > 5 then break end
end
print("broke at", x)
local outer = 0
while outer < 3 do
  outer = outer + 1
  local inner = 0
  repeat inner = inner + 1 until inner >= outer
  print("nested", outer, inner)
end
local steps = 0
repeat
  local a = steps
  steps = steps + 1
  if a == 1 then break end
until false
print("repeat break", steps)
