-- goto and labels (LuaJIT supports Lua 5.2 goto).
for i = 1, 3 do
  for j = 1, 3 do
    if j == 2 then goto continue end
    print(i, j)
    ::continue::
  end
end
local n = 0
::top::
n = n + 1
if n < 3 then goto top end
print("looped", n)
do
  goto skip
  print("skipped")
  ::skip::
end
print("after skip")
-- goto out of nested blocks
for i = 1, 10 do
  for j = 1, 10 do
    if i * j == 6 then
      print("found", i, j)
      goto done
    end
  end
end
::done::
-- a label at the end of a block may follow local declarations
do
  local v = 1
  if v then goto finish end
  local w = 2
  print(w)
  ::finish::
end
print("finish")
-- goto as continue in a while loop
local k = 0
while k < 5 do
  k = k + 1
  if k % 2 == 0 then goto cont end
  print("odd", k)
  ::cont::
end
local goto_is_a_name = nil
print(goto_is_a_name)
