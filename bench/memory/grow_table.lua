-- One table grows until the limit refuses it: the array part doubles, so near the
-- limit the last request is about half the heap. The error is caught and the state
-- goes on working.
local t = {}
local ok, err = pcall(function()
  for i = 1, 1e9 do t[i] = i end
end)
print(ok, err, #t > 0)
t = nil
collectgarbage()
local u = {}
for i = 1, 1000 do u[i] = { i } end
print(#u)
