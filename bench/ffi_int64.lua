-- ffi_int64: int64_t and uint64_t arithmetic on boxed cdata (sums, products, shifts
-- through bit, comparisons).
-- Usage: ffi_int64.lua [n]   (default 1000000)
-- small size: 1000
-- needs: ffi
local ffi = require("ffi")
local bit = require("bit")
local N = tonumber(arg and arg[1]) or 1000000

local sum = 0LL
local usum = 0ULL
local h = 1469598103934665603ULL
for i = 1, N do
  sum = sum + i * 3LL - 7
  usum = usum + ffi.cast("uint64_t", i) * 2654435761ULL
  h = bit.bxor(h, i) * 1099511628211ULL
end
local big = 0
local x = 1LL
for i = 1, N do
  x = x * 3 % 1000000007LL
  if x > 500000000LL then big = big + 1 end
end
print("sum", sum)
print("usum", usum)
print("fnv", bit.tohex(h))
print("powmod", x, "big", big)
