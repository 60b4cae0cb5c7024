-- string.buffer: malformed input to the decoder gives LuaJIT's errors.
local buffer = require("string.buffer")
local cases = {
  "", "\x07\0\0", "\x06\1", "\x23ab", "\xe0", "\xe0\x00", "\xff\x00\x00",
  "\xff\x20\x00\x00\x00", "\x13", "\x14", "\x1f", "\x0f", "\x0f\x00",
  "\x0e", "\x0e\x00", "\x0e\x00\x08",
  "\x09", "\x09\x01", "\x09\x01\x00\x01", "\x09\x01\x07\0\0\0\0\0\0\xf8\x7f\x01",
  "\x09\x02\x21a\x01\x21a\x02", "\x0c\x03\x02", "\x0c\x03\x02\x02\x02",
  "\x0d\x02\x01\x02\x07\0\0\0\0\0\0\xf0\x3f\x02",
  "\x0d\x02\x01\x00\x07\0\0\0\0\0\0\xf0\x3f\x02",
  "\x0c\xff\x00\x00\x00\x10", "\x0c\xff\x01\x00\x00\x08", "\x0c\xff\x02\x00\x00\x08",
  "\x09\xff\x00\x00\x00\x04", "\x09\xff\x01\x00\x00\x04", "\x0b\xff\xff\xff\xff\xff\x01",
  "\x0c\xff\xff\xff\xff\x7f", "\x0a\xfe\xff",
  "\x04\0\0\0", "\x05\0\0\0\0\0\0\0",
  "\x00\x00", "\x02x", "\x0c\x02\x02\x02",
}
for i, s in ipairs(cases) do
  local ok, v = pcall(buffer.decode, s)
  if ok then v = type(v) end
  print(i, ok, v)
end
-- Nesting: 100 levels decode, 101 are too deep (arrays and hash keys alike).
print(pcall(function() return type(buffer.decode(string.rep("\x0c\x02", 100) .. "\0")) end))
print(pcall(buffer.decode, string.rep("\x0c\x02", 101) .. "\0"))
print(pcall(buffer.decode, string.rep("\x0c\x02", 101)))
print(pcall(buffer.decode, string.rep("\x09\x01\x01", 101)))
-- The method version leaves trailing data (and does not consume on error).
local b = buffer.new()
b:set("\x02\x01\x00\x13")
print(b:decode(), b:decode(), b:decode(), #b)
print(pcall(b.decode, b))
print(#b, #b:skip(1), pcall(b.decode, b))
-- Valid tables with odd headers.
local t = buffer.decode("\x0c\x00")
print(next(t), #t)
t = buffer.decode("\x0a\x01\x02")
print(t[0], t[1], #t)
t = buffer.decode("\x09\x00")
print(next(t))
t = buffer.decode("\x0c\x04\x00\x00\x21x")
print(#t, t[3])
t = buffer.decode("\x0b\x02\x01\x21a\x21b\x07\0\0\0\0\0\0\0\x40\x21c")
print(t[0], t[1], t[2], #t)
-- Errors of the table code carry no position (as in LuaJIT); the decoder's do.
local function dec(s) local v = buffer.decode(s); return v end
print(pcall(dec, "\x09\x01\x00\x01"))
print(pcall(dec, "\x09\x01\x07\0\0\0\0\0\0\xf8\x7f\x01"))
print(pcall(dec, "\x0c\xff\x00\x00\x00\x10"))
print(pcall(dec, "\x09\x01\x21a\x01\x21a"))
print(pcall(dec, "\x09\x01\x21a\x01\x21a\x02"))
print(pcall(dec, "\x13"))
