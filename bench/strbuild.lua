-- strbuild: string building (.. concatenation of short pieces, tostring of numbers,
-- string.rep, table.concat of many parts) and reading strings back (byte, sub, len).
-- Usage: strbuild.lua [n]   (default 700000)
-- small size: 1000
local N = tonumber(arg and arg[1]) or 700000

local function hash(s)
  local h = #s
  local step = math.floor(#s / 64) + 1
  for i = 1, #s, step do
    h = (h * 31 + s:byte(i)) % 1000000007
  end
  return h
end

-- 1: short lines built with .. and joined with table.concat
local parts = {}
for i = 1, N do
  parts[#parts + 1] = "item " .. i .. ": " .. (i * 7 % 13) .. ";"
end
local joined = table.concat(parts, "\n")
print(string.format("concat lines %d len %d hash %d", #parts, #joined, hash(joined)))

-- 2: a buffer grown by repeated .. in chunks (quadratic if done badly, so chunked)
local total = 0
local acc = 0
for chunk = 1, N / 100 do
  local s = ""
  for j = 1, 100 do
    s = s .. string.char(97 + (chunk + j) % 26)
  end
  total = total + #s
  acc = (acc + hash(s)) % 1000000007
end
print(string.format("chunks len %d hash %d", total, acc))

-- 3: string.rep, sub and upper/lower
local base = string.rep("abc,", 50)
local subs = 0
for i = 1, N / 10 do
  local k = i % 150 + 1
  local piece = base:sub(k, k + 20)
  subs = (subs + hash(piece:upper()) + #piece:lower()) % 1000000007
end
print(string.format("subs %d", subs))

-- 4: table.concat of numbers converted by tostring and string.format
local nums = {}
for i = 1, N / 2 do
  nums[i] = tostring(i * 3) .. string.format("%05d", i % 100000)
end
local csv = table.concat(nums, ",")
print(string.format("numbers len %d hash %d", #csv, hash(csv)))
