-- 64-bit integers: arithmetic and comparison as LuaJIT defines them, bit.*,
-- string.format, tostring/tonumber. (Literals such as 1LL: see literals.lua.)
local ffi = require("ffi")
local I, U = function(n) return ffi.new("int64_t", n) end, function(n) return ffi.new("uint64_t", n) end

print(I(1) + 2, U(3) * I(2), I(10) / 3, I(-7) % 3, I(2) ^ 10, -I(5), I(-8) / 3, I(-8) % 3, U(8) / 3)
print(I(2) ^ -1, I(0) ^ 0, I(1) ^ -5, I(-1) ^ -3, I(0) ^ -1)
print(I(1) / I(0), I(1) % I(0), U(1) / U(0), U(1) % U(0))
print(ffi.new("int", 5) + 1, ffi.new("double", 5) + 1, ffi.new("uint32_t", 5) + I(1), ffi.new("uint8_t", 5) * 2)
print(I(2)^63, I(2)^64, U(2)^64 - 1, I(9007199254740993 - 1) + 1)
print(I(1) == 1, I(1) == U(1), I(-1) < U(0), U(5) > -1, 2^63 == 2^63 * I(1), I(1) == "1")
print(I(1) < 2, I(3) <= 3, 1 < I(2), I(-1) < 0, U(2^63) > U(1), I(5) ~= 5)
print(math.huge * I(1), I(3.7), I(-3.7), U(-1), U(2^64), tostring(U(2^63)))
print(tonumber(I(42)), tonumber(U(2^63)), tonumber(I(-5)))
local big = I(2^62) * 4
print(big, big - 1, -(big - 1) - 2)

-- bit on 64-bit values.
print(bit.bor(I(1), 2), bit.lshift(I(1), 40), bit.tohex(I(255)), bit.bnot(U(0)), bit.band(I(-1), 0xff))
print(bit.rshift(I(-1), 60), bit.arshift(I(-256), 4), bit.rol(U(1), 65), bit.ror(I(1), 1), bit.bxor(I(6), 3))
print(bit.tohex(I(-1), 4), bit.tohex(U(0xabcdef), -8), bit.bswap(I(1)), bit.band(1, 3))

-- string.format.
print(string.format("%d %x %s %5d|%-5d|", I(2)^40, I(255), I(3), I(42), I(-4)))
print(string.format("%X %o %u", U(2^64 - 1), I(8), I(7)))
print(pcall(string.format, "%f", ffi.new("double", 2)))

-- Errors.
local function e(f) local ok, m = pcall(f) print(ok, m) end
e(function() return I(1) + {} end)
e(function() return I(1) < "x" end)
e(function() return I(1) .. "x" end)
e(function() return #I(1) end)
e(function() return I(1) < nil end)
