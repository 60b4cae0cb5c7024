-- math.random ranges and types, randomseed reproducibility (values are compared
-- with each other, not printed), argument handling.
local function isint(x) return type(x) == "number" and x == math.floor(x) end
local ok = true
for _ = 1, 2000 do
  local x = math.random()
  if not (x >= 0 and x < 1) then ok = false end
end
print("random()", ok)
ok = true
local seen = {}
for _ = 1, 2000 do
  local x = math.random(6)
  if not (isint(x) and x >= 1 and x <= 6) then ok = false end
  seen[x] = true
end
print("random(6)", ok, seen[1], seen[6])
ok = true
seen = {}
for _ = 1, 2000 do
  local x = math.random(-3, 3)
  if not (isint(x) and x >= -3 and x <= 3) then ok = false end
  seen[x] = true
end
print("random(-3, 3)", ok, seen[-3], seen[3])
ok = true
for _ = 1, 200 do
  local x = math.random(2^40, 2^40 + 10)
  if not (isint(x) and x >= 2^40 and x <= 2^40 + 10) then ok = false end
end
print("random(2^40, 2^40+10)", ok)
print(math.random(1), math.random(5, 5), math.random("3", "3"))
-- LuaJIT does not check the interval: these are what its formula gives.
print(math.random(0), math.random(2, 1), math.random(10, 0))
print(select("#", math.random(1, 2, 3)), isint(math.random(1, 2, 3)))
-- Same seed, same sequence.
math.randomseed(1234)
local a = {}
for i = 1, 10 do a[i] = math.random() end
math.randomseed(1234)
local same = true
for i = 1, 10 do if math.random() ~= a[i] then same = false end end
print("reseed", same)
math.randomseed(4321)
print("other seed differs", math.random() ~= a[1])
math.randomseed("1234")
print("string seed", math.random() == a[1])
print(select("#", math.randomseed(1)))
print(pcall(math.randomseed))
print(pcall(math.random, "x"))
print(pcall(math.random, 1, {}))
print(pcall(math.random, {}))
