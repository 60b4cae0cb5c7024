-- json: a JSON-like encoder and decoder written in Lua (string scanning with byte/sub/
-- find, escapes, recursion over nested tables, buffers joined with table.concat).
-- Objects are encoded with sorted keys so that the output is deterministic.
-- Usage: json.lua [n]   (default 5500 records; encoded and decoded several times)
-- small size: 20
local N = tonumber(arg and arg[1]) or 5500

local encode_value

local escapes = { ['"'] = '\\"', ["\\"] = "\\\\", ["\n"] = "\\n", ["\t"] = "\\t" }

local function encode_string(s, buf)
  buf[#buf + 1] = '"'
  buf[#buf + 1] = (s:gsub('[%c"\\]', function(c)
    return escapes[c] or string.format("\\u%04x", c:byte())
  end))
  buf[#buf + 1] = '"'
end

local function is_array(t)
  local n = #t
  if n == 0 then
    return next(t) == nil
  end
  for k in pairs(t) do
    if type(k) ~= "number" or k < 1 or k > n or k % 1 ~= 0 then
      return false
    end
  end
  return true
end

function encode_value(v, buf)
  local ty = type(v)
  if ty == "string" then
    encode_string(v, buf)
  elseif ty == "number" then
    if v % 1 == 0 then
      buf[#buf + 1] = string.format("%d", v)
    else
      buf[#buf + 1] = string.format("%.4f", v)
    end
  elseif ty == "boolean" then
    buf[#buf + 1] = v and "true" or "false"
  elseif ty == "table" then
    if is_array(v) then
      buf[#buf + 1] = "["
      for i = 1, #v do
        if i > 1 then
          buf[#buf + 1] = ","
        end
        encode_value(v[i], buf)
      end
      buf[#buf + 1] = "]"
    else
      local keys = {}
      for k in pairs(v) do
        keys[#keys + 1] = k
      end
      table.sort(keys)
      buf[#buf + 1] = "{"
      for i = 1, #keys do
        if i > 1 then
          buf[#buf + 1] = ","
        end
        encode_string(keys[i], buf)
        buf[#buf + 1] = ":"
        encode_value(v[keys[i]], buf)
      end
      buf[#buf + 1] = "}"
    end
  elseif v == nil then
    buf[#buf + 1] = "null"
  else
    error("cannot encode " .. ty)
  end
end

local function encode(v)
  local buf = {}
  encode_value(v, buf)
  return table.concat(buf)
end

-- Decoder: a recursive-descent parser over the string, with positions.
local decode_value
local byte, sub, find = string.byte, string.sub, string.find

local function skip(s, i)
  local _, e = find(s, "^[ \n\r\t]*", i)
  return e + 1
end

local unescapes = { ['"'] = '"', ["\\"] = "\\", ["/"] = "/", n = "\n", t = "\t", r = "\r", b = "\b", f = "\f" }

local function decode_string(s, i)
  -- s:byte(i) is the opening quote
  local buf = {}
  local j = i + 1
  while true do
    local a, b = find(s, '["\\]', j)
    if not a then
      error("unterminated string at " .. i)
    end
    buf[#buf + 1] = sub(s, j, a - 1)
    if byte(s, a) == 34 then
      return table.concat(buf), a + 1
    end
    local c = sub(s, a + 1, a + 1)
    if c == "u" then
      buf[#buf + 1] = string.char(tonumber(sub(s, a + 2, a + 5), 16))
      j = a + 6
    else
      buf[#buf + 1] = unescapes[c] or error("bad escape at " .. a)
      j = a + 2
    end
  end
end

function decode_value(s, i)
  i = skip(s, i)
  local c = byte(s, i)
  if c == 123 then -- {
    local obj = {}
    i = skip(s, i + 1)
    if byte(s, i) == 125 then
      return obj, i + 1
    end
    while true do
      local k
      k, i = decode_string(s, skip(s, i))
      i = skip(s, i)
      if byte(s, i) ~= 58 then
        error("expected ':' at " .. i)
      end
      obj[k], i = decode_value(s, i + 1)
      i = skip(s, i)
      local d = byte(s, i)
      if d == 125 then
        return obj, i + 1
      elseif d ~= 44 then
        error("expected ',' or '}' at " .. i)
      end
      i = i + 1
    end
  elseif c == 91 then -- [
    local arr = {}
    i = skip(s, i + 1)
    if byte(s, i) == 93 then
      return arr, i + 1
    end
    local n = 0
    while true do
      n = n + 1
      arr[n], i = decode_value(s, i)
      i = skip(s, i)
      local d = byte(s, i)
      if d == 93 then
        return arr, i + 1
      elseif d ~= 44 then
        error("expected ',' or ']' at " .. i)
      end
      i = i + 1
    end
  elseif c == 34 then
    return decode_string(s, i)
  elseif c == 116 and sub(s, i, i + 3) == "true" then
    return true, i + 4
  elseif c == 102 and sub(s, i, i + 4) == "false" then
    return false, i + 5
  elseif c == 110 and sub(s, i, i + 3) == "null" then
    return nil, i + 4
  else
    local a, e = find(s, "^-?%d+%.?%d*", i)
    if not a then
      error("unexpected character at " .. i)
    end
    return tonumber(sub(s, a, e)), e + 1
  end
end

local function decode(s)
  local v, i = decode_value(s, 1)
  i = skip(s, i)
  if i <= #s then
    error("trailing garbage at " .. i)
  end
  return v
end

-- Build a document.
local seed = 11
local function rand(n)
  seed = (seed * 16807) % 2147483647
  return seed % n
end
local names = { "alpha", "beta", "gamma", "delta", 'quote"d', "tab\there", "line\nbreak", "back\\slash" }
local function record(i)
  local tags = {}
  for k = 1, rand(5) do
    tags[k] = names[1 + rand(#names)]
  end
  return {
    id = i,
    name = names[1 + rand(#names)] .. i,
    score = rand(100000) / 8,
    active = rand(2) == 1,
    tags = tags,
    pos = { x = rand(1000) - 500, y = rand(1000) - 500 },
    nested = { { a = 1 }, { b = { c = { d = "deep" } } } },
  }
end
local doc = { version = 3, records = {} }
for i = 1, N do
  doc.records[i] = record(i)
end

local text = encode(doc)
local rounds = 4
local back
for _ = 1, rounds do
  back = decode(text)
  local again = encode(back)
  if again ~= text then
    error("round trip mismatch")
  end
end

local h = 0
for i = 1, #text, 13 do
  h = (h * 31 + byte(text, i)) % 1000000007
end
local total = 0
for i = 1, #back.records do
  local r = back.records[i]
  total = total + r.id + #r.tags + r.pos.x + (r.active and 1 or 0)
end
print(string.format("length %d hash %d", #text, h))
print(string.format("records %d total %d", #back.records, total))
print(string.format("sample %s", encode(back.records[math.min(3, N)])))
