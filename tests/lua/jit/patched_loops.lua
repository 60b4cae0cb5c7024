-- The JIT patches loop instructions it records or gives up on (FORL becomes
-- IFORL, ...); string.dump and loading the dump never see that.
jit.on()
jit.opt.start("hotloop=1")
local function f(n)
  local s = 0
  for i = 1, n do s = s + i end                 -- recorded
  for i = 1, n do g = i end                     -- aborts until blacklisted
  local k = 0
  while k < n do k = k + 1 end                  -- recorded
  return s + k
end
local before = string.dump(f)
for _ = 1, 300 do f(300) end
print(f(10), g)
print(string.dump(f) == before)
local f2 = loadstring(string.dump(f))
print(f2(10))
