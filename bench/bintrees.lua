-- bintrees: allocation-heavy code (many short-lived small tables forming binary
-- trees, plus one long-lived tree that survives every collection).
-- Usage: bintrees.lua [maxdepth]   (default 16)
-- small size: 6
local N = tonumber(arg and arg[1]) or 16
local MINDEPTH = 4
local maxdepth = N
if maxdepth < MINDEPTH + 2 then
  maxdepth = MINDEPTH + 2
end

local function make(depth, value)
  if depth == 0 then
    return { value }
  end
  return { value, make(depth - 1, 2 * value - 1), make(depth - 1, 2 * value) }
end

-- Returns the number of nodes and a checksum of the values.
local function walk(t)
  local l = t[2]
  if l == nil then
    return 1, t[1]
  end
  local n1, s1 = walk(l)
  local n2, s2 = walk(t[3])
  return n1 + n2 + 1, (s1 * 3 + s2 + t[1]) % 1000003
end

local stretch_n, stretch_s = walk(make(maxdepth + 1, 1))
print(string.format("stretch depth %d: nodes %d check %d", maxdepth + 1, stretch_n, stretch_s))

local long_lived = make(maxdepth, 1)

for depth = MINDEPTH, maxdepth, 2 do
  local iterations = 2 ^ (maxdepth - depth + MINDEPTH)
  local nodes, check = 0, 0
  for i = 1, iterations do
    local n, s = walk(make(depth, i))
    nodes = nodes + n
    check = (check + s) % 1000003
  end
  print(string.format("%d trees of depth %d: nodes %d check %d", iterations, depth, nodes, check))
end

local ln, ls = walk(long_lived)
print(string.format("long lived depth %d: nodes %d check %d", maxdepth, ln, ls))
