-- sieve: boolean array writes and reads (sieve of Eratosthenes, repeated).
-- Usage: sieve.lua [limit]   (default 2000000; sieved 20 times)
-- small size: 1000
local N = tonumber(arg and arg[1]) or 2000000
local REPEAT = 20

-- One array, allocated once and reset for every pass.
local composite = {}

local function sieve(n)
  for i = 1, n do
    composite[i] = false
  end
  local count, last, sum = 0, 0, 0
  for i = 2, n do
    if not composite[i] then
      count = count + 1
      last = i
      sum = (sum + i) % 1000000007
      for j = i * i, n, i do
        composite[j] = true
      end
    end
  end
  return count, last, sum
end

local count, last, sum
for _ = 1, REPEAT do
  count, last, sum = sieve(N)
end
print(string.format("primes up to %d: %d", N, count))
print(string.format("largest %d", last))
print(string.format("sum mod p %d", sum))
