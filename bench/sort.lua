-- sort: table.sort with a Lua comparator on records (multi-key), on strings, and the
-- default comparison on numbers.
-- Usage: sort.lua [n]   (default 170000)
-- small size: 1000
local N = tonumber(arg and arg[1]) or 170000

local seed = 7
local function rand(n)
  seed = (seed * 16807) % 2147483647
  return seed % n
end

local function check(t, less)
  for i = 2, #t do
    if less(t[i], t[i - 1]) then
      return false
    end
  end
  return true
end

-- numbers, default comparison, then reversed with a comparator
local nums = {}
for i = 1, N do
  nums[i] = rand(1000000)
end
table.sort(nums)
local sorted = check(nums, function(a, b)
  return a < b
end)
table.sort(nums, function(a, b)
  return a > b
end)
print(string.format("numbers %s first %d last %d", tostring(sorted), nums[1], nums[#nums]))

-- records by (group asc, score desc, id asc): a total order, so the result is unique
local recs = {}
for i = 1, N do
  recs[i] = { id = i, group = rand(50), score = rand(1000) }
end
local function rec_less(a, b)
  if a.group ~= b.group then
    return a.group < b.group
  end
  if a.score ~= b.score then
    return a.score > b.score
  end
  return a.id < b.id
end
for _ = 1, 2 do
  table.sort(recs, rec_less)
  -- shuffle a little before sorting again
  for i = 1, #recs, 10 do
    local j = 1 + rand(#recs)
    recs[i], recs[j] = recs[j], recs[i]
  end
end
table.sort(recs, rec_less)
local h = 0
for i = 1, #recs, 3 do
  h = (h * 31 + recs[i].id) % 1000000007
end
print(string.format("records %s hash %d", tostring(check(recs, rec_less)), h))

-- strings
local strs = {}
for i = 1, N / 2 do
  strs[i] = string.format("s%06d-%d", rand(1000000), i)
end
table.sort(strs)
local sh = 0
for i = 1, #strs, 5 do
  sh = (sh * 7 + strs[i]:byte(3) + strs[i]:byte(5)) % 1000000007
end
print(string.format("strings first %s last %s hash %d", strs[1], strs[#strs], sh))
