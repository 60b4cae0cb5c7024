-- A while loop with comparisons and branches on numbers and primitives: each
-- guard checks the direction the branch took while recording; `not`, `==` with a
-- constant and truth tests are decided by the types the loads guard.
local n, up, down, flag = 0, 0, 0, false
while n < 200 do
  n = n + 1
  if n >= 100 then up = up + 1 else down = down + 1 end
  if n == 7 then up = up - 1 end
  local t = not flag
  if t then down = down - 0 end
  if flag == nil then up = 0 end
end
print(n, up, down)
