-- string.format integer conversions: %d %i %u %o %x %X %c with flags, width, precision.
local f = string.format
print(f("%d|%i|%u|%o|%x|%X", 42, 42, 42, 42, 255, 255))
print(f("%5d|%-5d|%05d|%+d|% d|%+5d|%-+5d|", 42, 42, 42, 42, 42, -1, 1))
print(f("%.3d|%8.3d|%-8.3d|%08.3d|%.0d|%.0x|%5.0d|", 7, 7, 7, 7, 0, 0, 0))
print(f("%#x|%#o|%#X|%#5x|%#.0o|%#.0x|%#o|%#.3o", 255, 8, 255, 0, 0, 0, 0, 8))
print(f("%-#8x|%#08x|%5.3x|%-5.3X|%#5o|%05x", 255, 255, 10, 10, 10, 5))
print(f("%+x|% x|%+u|%+o|%#d|%#i", 5, 5, 5, 5, 5, 5))
print(f("% 05d|%+05d|%-05d|%5.2i|%+.3d|% .3d", 3, -3, 3, -3, 1, 1))
-- Non-integral numbers truncate; beyond 64 bits, inf and nan follow LuaJIT.
print(f("%d|%d|%d|%x|%X|%o|%u", 3.7, -3.7, -0.0, 3.99, -3.99, 9.5, 3.5))
print(f("%d|%d|%d|%d", 2^53, 2^53 + 2, 123456789012, 1e15))
print(f("%d|%d|%d|%d", 2^63, 2^64, -2^63, 1e300))
print(f("%d|%d|%d|%i", 1/0, -1/0, 0/0, 0/0))
print(f("%x|%x|%x|%x|%x", -1, 2^53, 2^63, 2^64, 2^64 + 4096))
print(f("%x|%x|%x|%x|%x|%u|%o", 0/0, 1/0, -1/0, 1e300, -1e300, 2^63, -1))
print(f("%x|%X", -2^63, -2^63 - 4096))
print(f("%d|%d|%x", "10", " 0x10 ", "255"))
-- %c keeps the low byte and pads with spaces only.
print(f("%c%c%c|%5c|%-5c|%05c|%+c|%#c|%.3c", 76, 117, 97, 65, 65, 65, 65, 65, 65))
print(f("%c", 256 + 65), f("%c", -191), f("%c", 65.9), f("%c", "66"), #f("%c", 0))
