-- output: a million lines written to standard output, which bench/run redirects to a
-- file (so it is fully buffered, as C stdio buffers it): print with one and with
-- several arguments, io.write with numbers and strings, and io.stdout:write.
-- Usage: output.lua [n]   (default 1000000 lines)
-- small size: 1000
local N = tonumber(arg and arg[1]) or 1000000
local quarter = math.floor(N / 4)

for i = 1, quarter do
  print(i)
end
for i = 1, quarter do
  print("line", i, i + 0.25)
end
local write = io.write
for i = 1, quarter do
  write(i, " ", i % 7 == 0 and "seven" or "other", "\n")
end
local out = io.stdout
for i = 1, N - 3 * quarter do
  out:write("row ", i, ": ", i * 3, "\n")
end
