-- mandelbrot: tight floating-point loops on locals (escape-time iteration over a grid).
-- Usage: mandelbrot.lua [n]   (grid of n x n points, default 2000)
-- small size: 40
local N = tonumber(arg and arg[1]) or 2000
local MAXITER = 64

local inside, total = 0, 0
local rowsum = 0
for py = 0, N - 1 do
  local ci = 2.4 * py / N - 1.2
  local row = 0
  for px = 0, N - 1 do
    local cr = 3.0 * px / N - 2.1
    local zr, zi = 0.0, 0.0
    local zr2, zi2 = 0.0, 0.0
    local it = 0
    while it < MAXITER and zr2 + zi2 <= 4.0 do
      zi = 2.0 * zr * zi + ci
      zr = zr2 - zi2 + cr
      zr2 = zr * zr
      zi2 = zi * zi
      it = it + 1
    end
    if it == MAXITER then
      inside = inside + 1
    end
    total = total + it
    row = (row * 7 + it) % 1000003
  end
  rowsum = (rowsum + row * (py + 1)) % 1000000007
end
print(string.format("points %d inside %d", N * N, inside))
print(string.format("iterations %d", total))
print(string.format("checksum %d", rowsum))
