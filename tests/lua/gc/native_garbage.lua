-- Garbage made by natives is collected even when no allocating instruction runs
-- in the loop: the strings come from a tail-called string.format, from natives whose
-- results are adjusted by RETM.
-- (Regression: the heap grew to tens of megabytes; only allocating opcodes and
-- fixed-result native calls were safe points.)
local function fmt(...)
  return string.format(...)
end

-- The heap size is sampled inside the loops (a sample is taken before the safe
-- point that follows the call to collectgarbage).
local peak = 0
local pad = string.rep("x", 8000) -- each new string is about 8 KB
local function sample(i)
  if i % 300 == 0 then
    local kb = collectgarbage("count")
    if kb > peak then
      peak = kb
    end
  end
end
local function bounded(what)
  print(what, peak < 1024 and "bounded" or ("grew to " .. peak .. " KB"))
  peak = 0
end

local n = 0
for i = 1, 600 do
  n = n + #fmt("%d:%s", i, pad)
  sample(i)
end
print(n)
bounded("tail call")

local function with_count(i)
  return i, string.format("%d:%s", i, pad)
end
n = 0
for i = 1, 600 do
  local _, s = with_count(i)
  n = n + #s
  sample(i)
end
print(n)
bounded("variable results")
