-- string.buffer: creation, writers, readers, chaining, copy-on-write set.
local buffer = require("string.buffer")
print(type(buffer), type(buffer.new), type(buffer.encode), type(buffer.decode))
print(require("string.buffer") == buffer, package.loaded["string.buffer"] == buffer)
print(string.buffer, rawget(_G, "string.buffer"))

local b = buffer.new()
print(type(b), #b, b:tostring() == "", tostring(b) == "")
print(getmetatable(b))

-- put: strings, numbers (%.14g), buffers, __tostring objects; returns the buffer.
b:reset()
print(b:put("abc", 1, 2.5, -0.0, 1e100, 1/0, -1/0, 2^53, 0.1):tostring())
print(#b, b.len == nil)
local c = buffer.new():put("<c>")
b:reset():put(c, "|", c)
print(b:tostring(), c:tostring())
local obj = setmetatable({}, {__tostring = function() return "OBJ" end})
local num = setmetatable({}, {__tostring = function() return 42 end})
local viabuf = setmetatable({}, {__tostring = function() return c end})
print(b:reset():put(obj, num, viabuf):get())
print(b:put():tostring() == "", #b)

-- get: no argument = everything; lengths; nil = the rest; zero and past-the-end.
b:reset():put("hello world")
print(b:get(5))
print(#b, b:tostring())
print(b:get(0, 1, nil, 3))
print(select("#", b:get()), b:get() == "")
b:put("abcdef")
print(b:get(2, 2, 2, 2))
print(b:put("xyz"):get(1.9), b:get(2^31 - 256))

-- skip
b:reset():put("0123456789")
print(b:skip(3):tostring(), b:skip(0):tostring(), b:skip(100):tostring(), #b)
b:put("again")
print(b:skip(2):get())

-- reset keeps the buffer usable; free releases the space.
b:put("data")
print(b:reset():tostring() == "", #b, b:put("x"):get())
b:put("data")
print(b:free():tostring() == "", #b, b:put("y"):get())

-- new with a size and/or options.
print(#buffer.new(100), #buffer.new(0), #buffer.new(nil), #buffer.new({}), #buffer.new(10, {}))
print(#buffer.new(nil, {}), #buffer.new(5.7))

-- set: reads the string without copying; writes copy it first.
local s = "shared string"
b:set(s)
print(#b, b:get(7), b:tostring())
print(b:put("!"):get(), s)
b:set("abc"):skip(1)
print(b:get(1), b:get(), #b)
print(b:set(""):get() == "", #b)
b:set("one"):reset()
print(#b, b:put("two"):get())
b:set("three"):free()
print(#b, b:put("four"):get())
b:set("xyz")
print(b:put(b:set("q") and "w"):get())

-- tostring, concatenation and length.
b:reset():put("B")
print(tostring(b), b .. "x", "x" .. b, 1 .. b, b .. 2, b .. b, #b)
print(("%s|%5s|%-3s|%q"):format(b, b, b, b))
print("a" .. b .. "c" .. c)

-- buffers are userdata compared by identity, indexed through their method table.
print(b == b, buffer.new() == buffer.new(), b.x, b[1], b.put == c.put)
print(pcall(function() return b < c end))
print(pcall(function() b.x = 1 end))
print(b.tostring == b.__tostring, type(b.__gc), type(b.__len), b.__metatable)

-- Many small writes and reads (amortized growth, read offset, compaction).
local big = buffer.new()
for i = 1, 10000 do big:put(i % 10) end
print(#big, big:get(10), #big)
local total = 0
for i = 1, 20000 do
  big:put("abc")
  total = total + #big:get(2)
end
print(total, #big, big:get(5))
