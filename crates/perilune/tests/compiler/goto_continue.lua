for i = 1, 10 do
  if i % 2 == 0 then goto continue end
  local x = i * 2
  print(x)
  ::continue::
end
do
  local n = 0
  ::top::
  n = n + 1
  if n < 3 then goto top end
  local f = function() return n end
  if n < 5 then goto top end
end
