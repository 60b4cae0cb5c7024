-- string.buffer: putf formats like string.format, straight into the buffer.
local buffer = require("string.buffer")
local b = buffer.new()
print(b:putf("%d %5.2f %s %q %x %X %o %c %e %g %%", 42, 3.14159, "s", "q\n\0", 255, 255, 8, 65,
  12345.678, 0.0001):get())
print(b:putf("%-5s|%5s|%.2s|%5.1s|", "ab", "ab", "abc", "abc"):get())
print(b:putf("%s %s %s", nil, true, 12):get())
print(b:putf(12):putf(""):putf("x"):get())
-- Buffers as %s/%q arguments are used as their contents.
local c = buffer.new():put("zz\0")
print(b:putf("%s|%5s|%q", c, c, c):get() == "zz\0|  zz\0|\"zz\\0\"", #c)
-- __tostring results, including a buffer.
local o = setmetatable({}, { __tostring = function() return "T" end })
local ob = setmetatable({}, { __tostring = function() return c end })
print(b:putf("[%s][%s]", o, ob):get() == "[T][zz\0]")
-- A __tostring that writes to the same buffer sees what was formatted before it.
local writer = setmetatable({}, { __tostring = function() b:put("(w)") return "W" end })
print(b:putf("<%s>", writer):get())
-- Appends after existing data.
print(b:put("head:"):putf("%03d", 7):get())
-- On an error the text formatted before it stays in the buffer, as in LuaJIT.
print(pcall(b.putf, b, "abc%d", "x"))
print(b:get())
print(pcall(b.putf, b, "ok%y", 1))
print(b:get())
print(pcall(b.putf, b, "%s", b))
print(pcall(b.putf, b, "%d %s", 1, b))
print(b:get())
-- string.format takes buffers too.
print(string.format("%s|%q", c, buffer.new():put("a\nb")) == "zz\0|\"a\\\nb\"")
-- putf on a buffer that was set from a string copies it first.
local s = "base"
b:set(s):putf("+%d", 1)
print(b:get(), s)
