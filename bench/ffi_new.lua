-- ffi_new: ffi.new of a small struct in a loop (allocation, initializers, field reads).
-- Usage: ffi_new.lua [n]   (default 1500000)
-- small size: 1000
-- needs: ffi
local ffi = require("ffi")
local N = tonumber(arg and arg[1]) or 1500000

ffi.cdef[[ typedef struct { double x, y; int id; } point_t; ]]
local point_t = ffi.typeof("point_t")

local sx, sy, ids = 0, 0, 0
for i = 1, N do
  local p = ffi.new(point_t, i * 0.5, i * 0.25, i % 1000)
  sx = sx + p.x
  sy = sy + p.y
  ids = ids + p.id
end
local q = point_t()
for i = 1, N do
  q = point_t(q.x + 1, q.y - 1, i % 7)
end
print(string.format("points %d: sx %.1f sy %.2f ids %d", N, sx, sy, ids))
print(string.format("chained: x %.1f y %.1f id %d", q.x, q.y, q.id))
