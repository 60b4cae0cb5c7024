-- ffi_strlen: C calls in a loop through ffi.C (strlen on Lua strings, abs on
-- numbers): the cost of argument conversion, the call and the result.
-- Usage: ffi_strlen.lua [n]   (default 3000000)
-- small size: 1000
-- needs: ffi
local ffi = require("ffi")
local C = ffi.C
local N = tonumber(arg and arg[1]) or 3000000
ffi.cdef[[
size_t strlen(const char *s);
int abs(int x);
]]

local words = {}
for i = 1, 64 do words[i] = string.rep("x", i) end
local total = 0
local strlen = C.strlen
for i = 1, N do
  total = total + tonumber(strlen(words[i % 64 + 1]))
end
local a = 0
for i = 1, N do
  a = a + C.abs(i - N)
end
print("total length", total)
print("abs sum", a)
