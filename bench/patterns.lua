-- patterns: Lua patterns over generated text (gsub with string, table and function
-- replacements, find with and without plain, gmatch, match with captures).
-- Usage: patterns.lua [words]   (default 900000; the whole text is scanned several times)
-- small size: 2000
local N = tonumber(arg and arg[1]) or 900000

local seed = 42
local function rand(n)
  seed = (seed * 16807) % 2147483647
  return seed % n
end

local syll = { "ka", "lo", "mi", "ne", "ru", "sa", "to", "vi", "ze", "qu" }
local words = {}
for i = 1, N do
  local w = {}
  for _ = 1, 1 + rand(3) do
    w[#w + 1] = syll[1 + rand(#syll)]
  end
  local word = table.concat(w)
  if rand(7) == 0 then
    word = word:sub(1, 1):upper() .. word:sub(2)
  end
  if rand(11) == 0 then
    word = word .. tostring(rand(1000))
  end
  words[i] = word
  if rand(9) == 0 then
    words[i] = word .. "."
  elseif rand(13) == 0 then
    words[i] = word .. ","
  end
end
local text = table.concat(words, " ")
print(string.format("text length %d", #text))

local function hash(s)
  local h = 0
  for i = 1, #s, 7 do
    h = (h * 31 + s:byte(i)) % 1000000007
  end
  return h
end

-- gmatch: count words and numbers
local nwords, nnum, numsum = 0, 0, 0
for w in text:gmatch("%a+") do
  nwords = nwords + 1
end
for d in text:gmatch("%d+") do
  nnum = nnum + 1
  numsum = numsum + tonumber(d)
end
print(string.format("words %d numbers %d sum %d", nwords, nnum, numsum))

-- gsub with a string replacement and captures
local swapped, n1 = text:gsub("(%a+)(%d+)", "%2%1")
print(string.format("swap %d hash %d", n1, hash(swapped)))

-- gsub with a table replacement
local map = { ka = "KA", mi = "MI", zeze = "ZZ" }
local mapped, n2 = text:gsub("%l%l", map)
print(string.format("map %d hash %d", n2, hash(mapped)))

-- gsub with a function replacement
local caps = 0
local fixed, n3 = text:gsub("%u%l*", function(w)
  caps = caps + #w
  return w:lower()
end)
print(string.format("caps %d len %d hash %d", n3, caps, hash(fixed)))

-- find: plain and pattern searches, sentence splitting
local pos, found = 1, 0
while true do
  local s, e = text:find("ru", pos, true)
  if not s then
    break
  end
  found = found + 1
  pos = e + 1
end
local sentences, longest = 0, 0
pos = 1
while true do
  local s, e = text:find("[^.]+%.", pos)
  if not s then
    break
  end
  sentences = sentences + 1
  if e - s > longest then
    longest = e - s
  end
  pos = e + 1
end
print(string.format("plain %d sentences %d longest %d", found, sentences, longest))

-- match with anchors and classes
local matched = 0
for i = 1, #words do
  local a, b = words[i]:match("^(%a+)(%p?)$")
  if a and b ~= "" then
    matched = matched + 1
  end
end
print(string.format("punctuated %d", matched))
