-- numeric: pure numeric loops over numbers and arrays (array fill and sum, dot
-- product, a polynomial), the shape the JIT's first stage compiles.
-- Usage: numeric.lua [n]   (default 1000000; each kernel repeated 20 times)
-- small size: 1000
local N = tonumber(arg and arg[1]) or 1000000
local REPEAT = 20

local a, b = {}, {}
for i = 1, N do
  a[i] = 0
  b[i] = 0
end

local fill, total, dot, poly = 0, 0, 0, 0
for r = 1, REPEAT do
  -- Array fill.
  for i = 1, N do
    a[i] = i * 0.5 + r
    b[i] = (N - i) * 0.25
  end
  -- Array sum.
  local s = 0
  for i = 1, N do
    s = s + a[i]
  end
  total = total + s
  -- Dot product.
  local d = 0
  for i = 1, N do
    d = d + a[i] * b[i]
  end
  dot = dot + d / N
  -- A polynomial by Horner's rule, summed over a range.
  local p = 0
  local x = 0
  local step = 1 / N
  while x < 1 do
    p = p + (((3.5 * x - 2.25) * x + 1.125) * x - 0.5) * x + 7
    x = x + step
  end
  poly = poly + p
  fill = fill + a[N] + b[1]
end

print(string.format("fill %.6g", fill))
print(string.format("sum %.10g", total))
print(string.format("dot %.10g", dot))
print(string.format("poly %.6g", poly))
