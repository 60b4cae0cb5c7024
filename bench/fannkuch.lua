-- fannkuch: small integer arrays, permutation generation and in-place reversal.
-- For every permutation of 1..n, repeatedly reverse the first k elements where k is
-- the first element, until it is 1; report the largest flip count and a checksum.
-- Usage: fannkuch.lua [n]   (default 10)
-- small size: 6
local N = tonumber(arg and arg[1]) or 10

local function count_flips(p, q, n)
  for i = 1, n do
    q[i] = p[i]
  end
  local flips = 0
  local k = q[1]
  while k ~= 1 do
    local i, j = 1, k
    while i < j do
      q[i], q[j] = q[j], q[i]
      i = i + 1
      j = j - 1
    end
    flips = flips + 1
    k = q[1]
  end
  return flips
end

-- Permutations in lexicographic order (next-permutation algorithm).
local p, q = {}, {}
for i = 1, N do
  p[i] = i
end
local maxflips, checksum, count = 0, 0, 0
while true do
  local f = count_flips(p, q, N)
  if f > maxflips then
    maxflips = f
  end
  count = count + 1
  if count % 2 == 1 then
    checksum = checksum + f
  else
    checksum = checksum - f
  end
  -- next permutation
  local i = N - 1
  while i >= 1 and p[i] > p[i + 1] do
    i = i - 1
  end
  if i < 1 then
    break
  end
  local j = N
  while p[j] < p[i] do
    j = j - 1
  end
  p[i], p[j] = p[j], p[i]
  local lo, hi = i + 1, N
  while lo < hi do
    p[lo], p[hi] = p[hi], p[lo]
    lo = lo + 1
    hi = hi - 1
  end
end
print(string.format("permutations %d", count))
print(string.format("checksum %d", checksum))
print(string.format("maxflips(%d) = %d", N, maxflips))
