-- Fault-sweep stress for the JIT (run with -Ohotloop=1 by alloc_sweep_jit_compiled_loops):
-- loops that compile (numeric for, while, repeat; array reads and writes, upvalues,
-- comparisons), loops whose guards exit (a type change, a bound crossed, a branch that
-- flips), loops that abort recording (a call, a global), and allocation between them,
-- so refusals land while recording, while compiling and while traces run.
local a = {}
for i = 1, 200 do a[i] = i * 0.5 end
local s = 0
for i = 1, #a do s = s + a[i] end
print(s)

local up = 3
local function scale(t)
  for i = 1, #t do t[i] = t[i] * up - 1 end
  return t
end
scale(a)
print(a[1], a[200])

local n, steps = 27, 0
while n ~= 1 do
  if n % 2 == 0 then n = n / 2 else n = 3 * n + 1 end
  steps = steps + 1
end
print(steps)

local i, acc = 0, 0
repeat
  i = i + 1
  if i > 100 then acc = acc - i else acc = acc + i end
until i >= 150
print(acc)

-- A guard that fails: the array's values change type half way.
local mixed = {}
for j = 1, 100 do mixed[j] = j end
for j = 51, 100 do mixed[j] = tostring(j) end
local count = 0
for j = 1, 100 do
  if type(mixed[j]) == "number" then count = count + mixed[j] end
end
print(count)

-- A bound crossed: reads past the array part.
local short = {1, 2, 3, 4, 5, 6, 7, 8}
local t2 = 0
for j = 1, 16 do t2 = t2 + (short[j] or 100) end
print(t2)

-- Allocation between compiled loops, and a loop that builds strings (aborts).
local parts = {}
for j = 1, 60 do parts[#parts + 1] = "p" .. j end
print(#table.concat(parts, ","))
for round = 1, 5 do
  local b = {}
  for j = 1, 50 do b[j] = j * round end
  local sum = 0
  for j = 1, 50 do sum = sum + b[j] end
  print(round, sum)
end

-- Nested loops, the inner one compiled first.
local grid = 0
for x = 1, 30 do
  for y = 1, 30 do
    if (x + y) % 3 == 0 then grid = grid + x * y end
  end
end
print(grid)
