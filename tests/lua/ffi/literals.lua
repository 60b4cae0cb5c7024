-- 64-bit integer and imaginary literals (the state has the FFI: the command opens it).
local ffi = require("ffi")
print(1LL, 1ULL, 0x10LL, 0xffffffffffffffffULL, 0b101LL, 0B11ULL, 9223372036854775807LL)
print(-5LL, 10ll, 7ull, 3LLU, 12345678901234567890ULL)
print(type(1LL), ffi.typeof(1LL), ffi.typeof(1ULL), ffi.typeof(1i))
print(2i, 1.5i, 0x10i, 1e2i)
print(1LL + 2, 2LL^62 * 2, 1LL == 1, 1LL < 2LL, 2 > 1ULL)
local function f() return 42LL end
print(f() + f(), f() == f())
for i = 1, 3 do local x = 5LL * i print(x) end
local t = { 1LL, k = 2ULL }
print(t[1], t.k)
print(loadstring("return 99LL")())
print((loadstring("return 1lL")()))
for _, s in ipairs{"return 1.5LL", "return 1e3LL", "return 0x1p4LL", "return 99999999999999999999LL", "return 1LLL"} do
  print(s, loadstring(s))
end
