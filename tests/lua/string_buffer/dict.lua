-- string.buffer: the dict and metatable serialization options.
local buffer = require("string.buffer")
local function hex(s)
  return (s:gsub(".", function(c) return string.format("%02x", c:byte()) end))
end

local Point = { __index = { kind = "point" } }
local Line = { __index = { kind = "line" } }
local opts = {
  dict = { "x", "y", "points", "name" },
  metatable = { Point, Line },
}
local enc = buffer.new(opts)
local dec = buffer.new(opts)
local function roundtrip(v)
  local s = enc:reset():encode(v):get()
  return s, dec:set(s):decode()
end

-- Dictionary strings are written as 0x0f + index, only as hash keys.
local s, d = roundtrip({ x = 1 })
print(hex(s), d.x)
s, d = roundtrip({ name = "name" })
print(hex(s), d.name)
s, d = roundtrip({ "x", "y" })
print(hex(s), d[1], d[2])
s, d = roundtrip({ other = 1 })
print(hex(s), d.other)

-- Metatables in the dictionary are written as 0x0e + index before the table.
s, d = roundtrip(setmetatable({ x = 3, y = 4 }, Point))
print(#s, getmetatable(d) == Point, d.kind, d.x, d.y)
s, d = roundtrip(setmetatable({}, Line))
print(hex(s), getmetatable(d) == Line, d.kind)
s, d = roundtrip(setmetatable({}, {}))
print(hex(s), getmetatable(d))
local shape = {
  name = "shape",
  points = { setmetatable({ x = 0, y = 0 }, Point), setmetatable({ x = 1, y = 1 }, Point) },
}
s, d = roundtrip(setmetatable(shape, Line))
print(d.kind, d.name, #d.points, d.points[2].kind, d.points[2].y)

-- A buffer without the options cannot read dictionary entries.
print(pcall(buffer.decode, enc:reset():encode({ x = 1 }):get()))
print(pcall(buffer.decode, enc:reset():encode(setmetatable({}, Point)):get()))
print(buffer.new({ dict = opts.dict }):set(enc:reset():encode({ y = 2 }):get()):decode().y)

-- Indexes out of range, or set to false to drop compatibility.
local old = buffer.new({ dict = { "a", false, "c" }, metatable = { false, Point } })
print(pcall(old.decode, old:set("\x0f\x01")))
print(pcall(old.decode, old:set("\x0f\x03")))
print(old:set("\x0f\x02"):decode())
print(pcall(old.decode, old:set("\x0e\x00\x08")))
print(getmetatable(old:set("\x0e\x01\x08"):decode()) == Point)
print(pcall(old.decode, old:set("\x0e\x02\x08")))
print(pcall(old.decode, old:set("\x0f\xff\xff\xff\xff\xff")))
print(pcall(old.decode, old:set("\x0f\xff\xfe\xff\xff\xff")))
print(pcall(old.decode, old:set("\x0e\x01\x0f")))
-- The tag after a metatable index is printed in full.
print(pcall(old.decode, old:set("\x0e\x01\xef\xbb\xbf\x08")))
print(pcall(old.decode, old:set("\x0e\x01\xff\x01\x02\x03\x04")))
print(hex(old:reset():encode({ a = 1, c = 2 }):get()):len())

-- The dictionary tables become two-way indexes (entry -> position); duplicate
-- entries keep their first position; an empty dictionary is allowed.
local dict = { "first", "second", "first" }
buffer.new({ dict = dict })
print(#dict, dict[1], dict[3], dict.first == 0, dict.second > 0, dict.second < 1e-300)
print(hex(buffer.new({ dict = dict }):encode({ first = true }):get()))
local mts = { Point, Line }
buffer.new({ metatable = mts })
print(mts[Point] == 0, mts[Line] > 0)
print(pcall(buffer.new, { dict = {} }))
-- Non-table option values are ignored.
print(pcall(buffer.new, { dict = "x", metatable = 1 }))

-- Streaming: several objects in one buffer, decoded one at a time.
local stream = buffer.new(opts)
stream:encode({ x = 1 }):encode("two"):encode(3):encode(setmetatable({}, Point))
print(#stream)
local got = {}
while #stream ~= 0 do
  local v = stream:decode()
  got[#got + 1] = type(v) == "table" and (v.x or v.kind) or v
end
print(#got, got[1], got[2], got[3], got[4])
-- A failed decode leaves the data in the buffer.
stream:put("\x0c\x05\x02")
print(pcall(stream.decode, stream))
print(#stream)
