-- spectral: array-heavy numeric code (power iteration for the largest singular value
-- of an infinite matrix with entries 1/((i+j)(i+j+1)/2 + i + 1), truncated to n x n).
-- Usage: spectral.lua [n]   (default 1000)
-- small size: 20
local N = tonumber(arg and arg[1]) or 1000

local function a(i, j)
  local s = i + j
  return 1.0 / (s * (s + 1) / 2 + i + 1)
end

-- out = M * v
local function mul(n, v, out)
  for i = 0, n - 1 do
    local sum = 0.0
    for j = 0, n - 1 do
      sum = sum + a(i, j) * v[j + 1]
    end
    out[i + 1] = sum
  end
end

-- out = M^T * v
local function mul_t(n, v, out)
  for i = 0, n - 1 do
    local sum = 0.0
    for j = 0, n - 1 do
      sum = sum + a(j, i) * v[j + 1]
    end
    out[i + 1] = sum
  end
end

local function mul_ata(n, v, out, tmp)
  mul(n, v, tmp)
  mul_t(n, tmp, out)
end

local u, v, tmp = {}, {}, {}
for i = 1, N do
  u[i] = 1.0
  v[i] = 0.0
  tmp[i] = 0.0
end
for _ = 1, 10 do
  mul_ata(N, u, v, tmp)
  mul_ata(N, v, u, tmp)
end
local vbv, vv = 0.0, 0.0
for i = 1, N do
  vbv = vbv + u[i] * v[i]
  vv = vv + v[i] * v[i]
end
print(string.format("n %d", N))
print(string.format("norm %.6f", math.sqrt(vbv / vv)))
