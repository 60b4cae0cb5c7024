-- Shared by `luajit` and `perilune` in tests/buffer_interop.rs: the same sample
-- values, encoded (one hex line each), decoded from hex lines on stdin, or dumped in
-- a canonical text form, so that each interpreter's encodings can be decoded by the
-- other and the results compared.
--
--   interop.lua encode   one hex line per sample
--   interop.lua decode   decode hex lines from stdin, one dump line each
--   interop.lua dump     one dump line per sample
--   interop.lua exact    the numbers of the samples whose encoding is fixed byte
--                        for byte (no hash part with more than one key)
--   interop.lua mutate   decode copies of the encodings read from stdin (hex lines,
--                        as `encode` writes them) with random bytes changed, one
--                        line each: the input in hex, how it was decoded, and `E:`
--                        and the error or `V:` and the dump
local mode = arg[1]
local buffer = require("string.buffer")

local MT1 = { name = "MT1" }
local MT2 = { name = "MT2" }
local opts = {
  dict = { "alpha", "beta", "gamma", "a somewhat longer dictionary key" },
  metatable = { MT1, MT2 },
}

local function hex(s)
  return (s:gsub(".", function(c) return string.format("%02x", c:byte()) end))
end
local function unhex(h)
  return (h:gsub("..", function(x) return string.char(tonumber(x, 16)) end))
end

-- Canonical text of a value: tables with sorted keys, numbers with 17 digits, -0
-- and NaN spelled out, metatables by dictionary name.
local function keyorder(a, b)
  local ta, tb = type(a), type(b)
  if ta ~= tb then return ta < tb end
  if ta == "number" or ta == "string" then return a < b end
  if ta == "boolean" then return (a and 1 or 0) < (b and 1 or 0) end
  return tostring(a) < tostring(b)
end
local function dump(v, out)
  local t = type(v)
  if t == "table" then
    local keys = {}
    for k in pairs(v) do keys[#keys + 1] = k end
    table.sort(keys, keyorder)
    local mt = getmetatable(v)
    out[#out + 1] = mt and ("<" .. tostring(mt.name) .. ">{") or "{"
    for _, k in ipairs(keys) do
      dump(k, out); out[#out + 1] = "="; dump(v[k], out); out[#out + 1] = ","
    end
    out[#out + 1] = "}"
  elseif t == "number" then
    if v ~= v then
      out[#out + 1] = "NaN"
    elseif v == 0 and 1 / v < 0 then
      out[#out + 1] = "-0"
    else
      out[#out + 1] = string.format("%.17g", v)
    end
  elseif t == "string" then
    out[#out + 1] = string.format("%q", v):gsub("\n", "n")
  elseif t == "userdata" then
    -- Light userdata print differently in the two runtimes.
    out[#out + 1] = "lud"
  else
    out[#out + 1] = tostring(v)
  end
  return out
end
local function dumps(v) return table.concat(dump(v, {})) end

-- A deterministic generator (the same numbers in both interpreters).
local seed = 12345
local function rnd(n)
  seed = (seed * 1103515245 + 12345) % 2147483648
  -- The high bits: the low bits of this generator have short periods.
  return math.floor(seed / 65536) % n
end
local words = { "alpha", "beta", "gamma", "delta", "", "x\0y", "a somewhat longer dictionary key" }
local function random_value(depth)
  local k = rnd(depth > 0 and 12 or 9)
  if k == 0 then return rnd(2) == 0
  elseif k == 1 then return rnd(100000) - 50000
  elseif k == 2 then return (rnd(1000000) - 500000) / 1024
  elseif k == 3 then return 2 ^ (rnd(2000) - 1000) * (rnd(2) == 0 and 1 or -1)
  elseif k <= 5 then return words[rnd(#words) + 1]
  elseif k == 6 then return string.rep(string.char(rnd(256)), rnd(300))
  elseif k <= 8 then return rnd(1000) * 0.25
  else
    local t = {}
    for i = 1, rnd(6) do t[i] = random_value(depth - 1) end
    for _ = 1, rnd(5) do
      local key = random_value(0)
      if key == key then t[key] = random_value(depth - 1) end
    end
    local m = rnd(4)
    if m == 1 then setmetatable(t, MT1) elseif m == 2 then setmetatable(t, MT2) end
    return t
  end
end

local all = {}
for i = 0, 255 do all[#all + 1] = string.char(i) end
all = table.concat(all)

-- { value, exact }
local samples = {
  { nil, true }, { true, true }, { false, true },
  { 0, true }, { -0.0, true }, { 1, true }, { -1, true }, { 0.5, true },
  { 2 ^ 31, true }, { -2 ^ 31, true }, { 2 ^ 53, true }, { -2 ^ 63, true },
  { 1e308, true }, { 5e-324, true }, { 1 / 0, true }, { -1 / 0, true }, { 0 / 0, false },
  { 0.1, true }, { 123456789.987654321, true },
  { "", true }, { "abc", true }, { "a\0b\0", true }, { all, true },
  { string.rep("s", 0xbf), true }, { string.rep("s", 0xc0), true },
  { string.rep("s", 0x1fbf), true }, { string.rep("s", 0x1fc0), true },
  { string.rep("long", 30000), true },
  { "alpha", true }, { "beta", true },
  { {}, true }, { { 1, 2, 3 }, true }, { { 1, nil, 3 }, true }, { { nil, nil, "x" }, true },
  { { [0] = "zero", "one", "two" }, true }, { { k = "v" }, true }, { { alpha = 1 }, true },
  { { beta = { gamma = true } }, true },
  { { 1, 2, alpha = "a" }, true }, { { { { { {} } } } }, true },
  { { [true] = 1, [false] = 0, [1.5] = "f", [-1] = "n", [2 ^ 40] = "big", [0] = "z" }, false },
  { { alpha = 1, beta = 2, gamma = 3, delta = 4, ["a somewhat longer dictionary key"] = 5 }, false },
  { setmetatable({}, MT1), true }, { setmetatable({ 1, 2 }, MT2), true },
  { setmetatable({ alpha = setmetatable({}, MT1) }, MT2), true },
  { setmetatable({ x = 1 }, { name = "not in the dictionary" }), true },
}
local nested = {}
local c = nested
for _ = 1, 99 do c[1] = {}; c = c[1] end
samples[#samples + 1] = { nested, true }
local wide = {}
for i = 1, 2000 do wide[i] = i * 3 end
samples[#samples + 1] = { wide, true }
local hash = {}
for i = 1, 500 do hash["key" .. i] = { i, tostring(i) } end
samples[#samples + 1] = { hash, false }
for _ = 1, 300 do
  samples[#samples + 1] = { random_value(4), false }
end

if mode == "encode" then
  local enc = buffer.new(opts)
  for _, s in ipairs(samples) do
    io.write(hex(enc:reset():encode(s[1]):get()), "\n")
  end
  -- The stand-alone encoder (no dictionaries) for the samples without metatables.
  io.write("--\n")
  for _, s in ipairs(samples) do
    local ok, e = pcall(buffer.encode, s[1])
    io.write(ok and hex(e) or "", "\n")
  end
elseif mode == "decode" then
  local dec = buffer.new(opts)
  local standalone = false
  for line in io.lines() do
    if line == "--" then
      standalone = true
      io.write("--\n")
    elseif standalone then
      io.write(line == "" and "" or dumps(buffer.decode(unhex(line))), "\n")
    else
      local v = dec:set(unhex(line)):decode()
      assert(#dec == 0, "left-over data")
      io.write(dumps(v), "\n")
    end
  end
elseif mode == "dump" then
  for _, s in ipairs(samples) do io.write(dumps(s[1]), "\n") end
elseif mode == "exact" then
  for i, s in ipairs(samples) do
    if s[2] then io.write(i, "\n") end
  end
elseif mode == "mutate" then
  local encs = {}
  for line in io.lines() do
    if line ~= "--" and #line < 4000 then encs[#encs + 1] = unhex(line) end
  end
  local dec = buffer.new(opts)
  for n = 1, 3000 do
    local e = encs[rnd(#encs) + 1]
    local bytes = { e:byte(1, -1) }
    for _ = 1, 1 + rnd(3) do
      local at = rnd(#bytes + 1) + 1
      local op = rnd(4)
      if op == 0 and #bytes > 1 then
        table.remove(bytes, math.min(at, #bytes))
      elseif op == 1 then
        table.insert(bytes, math.min(at, #bytes + 1), rnd(256))
      else
        bytes[math.min(at, #bytes)] = rnd(256)
      end
    end
    local m = string.char(unpack(bytes))
    -- 0xff starts a 4-byte count: LuaJIT would allocate tables of up to 2^27
    -- slots for those; keep the counts small.
    if not m:find("\255") then
      local ok, v
      if n % 2 == 0 then
        ok, v = pcall(buffer.decode, m)
      else
        dec:set(m)
        ok, v = pcall(dec.decode, dec)
      end
      -- The input first, so that a difference can be replayed.
      io.write(hex(m), n % 2 == 0 and " decode " or " buf:decode ")
      if ok then
        io.write("V:", dumps(v), "\n")
      else
        io.write("E:", tostring(v), "\n")
      end
    end
  end
else
  error("mode?")
end
