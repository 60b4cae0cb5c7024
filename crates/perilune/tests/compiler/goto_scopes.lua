-- forward gotos out of blocks with captured locals close them
for i = 1, 3 do
  local x = i
  local f = function() return x end
  if i == 2 then goto done end
  while true do
    local y = x
    g = function() return y end
    if y then break end
  end
end
::done::
do
  goto a
  local z
  ::a::
  ::b::
end
return
