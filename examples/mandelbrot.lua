-- The Mandelbrot set in the terminal: a first program for Perilune.
-- Run it with:  cargo run --release -p perilune-cli -- examples/mandelbrot.lua [width]
local width = tonumber(arg and arg[1]) or 72
local height = math.floor(width / 3)
local chars = " .:-=+*#%@"
local max_iter = 64

local rows = {}
for y = 0, height - 1 do
  local ci = (y / height) * 2.4 - 1.2
  local row = {}
  for x = 0, width - 1 do
    local cr = (x / width) * 3.5 - 2.5
    local zr, zi, n = 0.0, 0.0, 0
    while n < max_iter and zr * zr + zi * zi <= 4.0 do
      zr, zi = zr * zr - zi * zi + cr, 2 * zr * zi + ci
      n = n + 1
    end
    local shade = n == max_iter and #chars or math.floor(n / max_iter * (#chars - 1)) + 1
    row[#row + 1] = chars:sub(shade, shade)
  end
  rows[#rows + 1] = table.concat(row)
end
print(table.concat(rows, "\n"))
print(string.format("%dx%d characters, at most %d iterations per point", width, height, max_iter))
