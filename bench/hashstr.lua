-- hashstr: hash tables with string keys (insert, look up, update, delete, iterate;
-- keys built at run time, so interning is exercised too).
-- Usage: hashstr.lua [n]   (default 700000)
-- small size: 2000
local N = tonumber(arg and arg[1]) or 700000

local t = {}
for i = 1, N do
  t["key" .. i] = i
end

-- look ups of present and absent keys
local hits, misses, sum = 0, 0, 0
for i = 1, 2 * N, 3 do
  local v = t["key" .. i]
  if v then
    hits = hits + 1
    sum = sum + v
  else
    misses = misses + 1
  end
end
print(string.format("hits %d misses %d sum %d", hits, misses, sum))

-- counting: a frequency table over a fixed vocabulary
local vocab = {}
for i = 1, 997 do
  vocab[i] = "w" .. (i * 7919 % 10007)
end
local freq = {}
for i = 1, N * 3 do
  local w = vocab[i % 997 + 1]
  freq[w] = (freq[w] or 0) + 1
end
local distinct, maxf = 0, 0
for _, c in pairs(freq) do
  distinct = distinct + 1
  if c > maxf then
    maxf = c
  end
end
print(string.format("distinct %d max %d", distinct, maxf))

-- delete every third key, then count what is left with next/pairs
for i = 3, N, 3 do
  t["key" .. i] = nil
end
local left, lsum = 0, 0
for k, v in pairs(t) do
  left = left + 1
  lsum = (lsum + v) % 1000000007
end
print(string.format("left %d sum %d", left, lsum))

-- field access with constant string keys (records)
local recs = {}
for i = 1, N / 4 do
  recs[i] = { name = "r" .. i, size = i % 17, weight = i % 5, tag = "x" }
end
local acc = 0
for _ = 1, 4 do
  for i = 1, #recs do
    local r = recs[i]
    acc = acc + r.size * r.weight
    r.tag = r.size > 8 and "big" or "small"
  end
end
local big = 0
for i = 1, #recs do
  if recs[i].tag == "big" then
    big = big + 1
  end
end
print(string.format("records acc %d big %d", acc, big))
