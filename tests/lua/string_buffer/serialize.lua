-- string.buffer: encode/decode, the wire format byte for byte where it is fixed
-- (scalars, strings, array parts, one-key hash parts) and round trips.
local buffer = require("string.buffer")
local function hex(s)
  return (s:gsub(".", function(c) return string.format("%02x", c:byte()) end))
end
local function unhex(h)
  return (h:gsub("..", function(x) return string.char(tonumber(x, 16)) end))
end

-- Scalars.
for _, v in ipairs({ 0, 1, -1, 0.5, -0.0, 1e300, -1e-300, 2^31, 2^53, 1/0, -1/0 }) do
  print(string.format("%.17g", v), hex(buffer.encode(v)))
end
print(hex(buffer.encode(nil)), hex(buffer.encode(false)), hex(buffer.encode(true)))
print(buffer.decode(buffer.encode(0/0)) ~= buffer.decode(buffer.encode(0/0)))
print(1 / buffer.decode(buffer.encode(-0.0)))

-- Strings: the length is in the tag (prefix-encoded above 0xdf).
print(hex(buffer.encode("")), hex(buffer.encode("abc")), hex(buffer.encode("a\0b")))
for _, n in ipairs({ 0xbf, 0xc0, 0x1fbf, 0x1fc0, 100000 }) do
  local e = buffer.encode(string.rep("x", n))
  local head = hex(e:sub(1, #e - n))
  print(n, #e, head, buffer.decode(e) == string.rep("x", n))
end
local all = {}
for i = 0, 255 do all[#all + 1] = string.char(i) end
all = table.concat(all)
print(buffer.decode(buffer.encode(all)) == all)

-- Tables: empty, array, hash, mixed; the array part counts LuaJIT's slot 0.
print(hex(buffer.encode({})))
print(hex(buffer.encode({ 1, 2, 3 })))
print(hex(buffer.encode({ true, nil, false })))
print(hex(buffer.encode({ nil, "b" })))
print(hex(buffer.encode({ k = "v" })))
print(hex(buffer.encode({ [0] = "z", "a", "b" })))
print(hex(buffer.encode({ "a", x = true })))
print(hex(buffer.encode({ { {} } })))

-- Integer tags from other encoders decode as numbers.
print(buffer.decode(unhex("0601000000")), buffer.decode(unhex("06ffffffff")),
      buffer.decode(unhex("0600000080")))
-- Light userdata.
print(hex(buffer.encode(buffer.decode(unhex("03")))),
      hex(buffer.encode(buffer.decode(unhex("0401000000")))),
      hex(buffer.encode(buffer.decode(unhex("050000000001000000")))))

-- Round trips of nested structures.
local function dump(v, out)
  out = out or {}
  if type(v) == "table" then
    local keys = {}
    for k in pairs(v) do keys[#keys + 1] = k end
    table.sort(keys, function(a, b)
      local ta, tb = type(a), type(b)
      if ta ~= tb then return ta < tb end
      if ta == "boolean" then return (a and 1 or 0) < (b and 1 or 0) end
      return a < b
    end)
    out[#out + 1] = "{"
    for _, k in ipairs(keys) do
      dump(k, out); out[#out + 1] = "="; dump(v[k], out); out[#out + 1] = ","
    end
    out[#out + 1] = "}"
  elseif type(v) == "string" then
    out[#out + 1] = string.format("%q", v)
  else
    out[#out + 1] = tostring(v)
  end
  return table.concat(out)
end
local samples = {
  { 1, 2, 3, n = 3 },
  { [1] = "a", [3] = "c", [10] = "j", [-1] = "neg", [0.5] = "half" },
  { nested = { deeper = { deepest = { 1, { 2, { 3 } } } } } },
  { [true] = "t", [false] = "f", ["with\0nul"] = "\0\1\2" },
  { [1e300] = -1e300, [-0.0] = "zero", big = 2^63 },
  setmetatable({ 1 }, { __index = function() return "meta" end }),
}
for i, v in ipairs(samples) do
  local e = buffer.encode(v)
  local d = buffer.decode(e)
  print(i, dump(d) == dump(v), dump(d), getmetatable(d))
end
local t = {}
for i = 1, 1000 do t[i] = i * 1.5 end
for i = 1, 300 do t["k" .. i] = { i } end
local d = buffer.decode(buffer.encode(t))
print(#d, d[1000], d.k300[1], dump(d) == dump(t))

-- Numbers keep their exact bits.
local nums = { 0.1, 1/3, 2^-1074, 2^1023 * 1.999, -123456789.123 }
for _, v in ipairs(nums) do
  local r = buffer.decode(buffer.encode(v))
  print(r == v, string.format("%.17g", r))
end
