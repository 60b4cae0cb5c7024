local fs = {}
for i = 1, 3 do
  fs[i] = function() return i end
end
local j = 0
while j < 3 do
  local k = j
  fs[#fs + 1] = function() return k end
  j = j + 1
end
repeat
  local r = j
  fs[#fs + 1] = function() return r end
  j = j - 1
until r == 0
for _, v in ipairs(fs) do
  local w = v
  if w() then break end
  fs.x = function() return w end
end
return fs
