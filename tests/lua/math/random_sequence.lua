-- math.random's exact sequence for fixed seeds: Perilune's generator reproduces
-- LuaJIT's (a combined Tausworthe generator seeded from the number).
for _, seed in ipairs({0, 1, 42, -7.5, 1e300}) do
  math.randomseed(seed)
  local out = {}
  for i = 1, 4 do out[i] = math.random() end
  out[5] = math.random(100)
  out[6] = math.random(-50, 50)
  print(seed, table.concat(out, " "))
end
