-- Pointers: arithmetic, comparison, NULL, casts, references, ffi.string/copy/fill.
local ffi = require("ffi")
local function show(x) return (tostring(x):gsub("0x%x+", "ADDR")) end

local a = ffi.new("int[4]", 10, 20, 30, 40)
local p = a + 1
print(show(p), p[0], p[-1], p[2])
local q = ffi.cast("int *", a) + 3
print(q - p, p < q, p <= q, p > q, p == q, p == a + 1, tostring(q - p))
print((q - 2)[0], (1 + p)[0])
p[1] = 99
print(a[2])
local np = ffi.cast("void *", 0)
print(np == nil, show(np), ffi.new("int *") == nil, ffi.cast("void *", 1) == nil, nil == np)
print(tonumber(ffi.cast("int", 3.9)), ffi.cast("uint8_t", 257) == 1, tonumber(ffi.cast("int64_t", 2^53)))
print(tonumber(ffi.cast("uintptr_t", ffi.cast("void *", 1234))), show(ffi.cast("char *", 16)))
print(tonumber(ffi.cast("int", ffi.new("int64_t", 2^40 + 7))), tonumber(ffi.cast("double", ffi.new("int", 3))))
local vp = ffi.cast("void *", a)
print(ffi.cast("int *", vp)[3], vp == ffi.cast("void *", a))

-- Structs through pointers, arrays of structs, references.
ffi.cdef[[struct P { int x, y; };]]
local ps = ffi.new("struct P[2]")
ps[1].y = 9
local pp = ffi.cast("struct P *", ps)
print(pp.y, pp[1].y, (pp + 1).y, show(ps[1]):match("^cdata<.->"))
local r = ps[0]
r.x = 5
print(ps[0].x)
local sp = ffi.new("struct P *", ps + 1)
print(sp.y, sp == pp + 1)

-- Strings and memory.
local buf = ffi.new("char[8]")
ffi.copy(buf, "hello")
print(ffi.string(buf), ffi.string(buf, 3))
ffi.fill(buf, 3, 65)
print(ffi.string(buf))
ffi.fill(buf, 8)
print(ffi.string(buf) == "", buf[7])
ffi.copy(buf, "abcdef", 3)
print(ffi.string(buf))
print(ffi.string("lua string", 3))
local cs = ffi.new("const char *", "const")
print(ffi.string(cs), cs[1])

-- Errors.
local function e(f, ...) local ok, m = pcall(f, ...) print(ok, m) end
e(function() return p + q end)
e(function() return p < 1 end)
e(function() return ffi.new("struct P") < ffi.new("struct P") end)
e(function() return -ffi.new("struct P") end)
e(function() local x = ffi.new("int *") x = x + {} end)
e(function() local c = ffi.new("char *"); c = ffi.new("int *") local d = ffi.new("char *", c) end)
print(pcall(ffi.new, "void *", 1))

-- Only pointers to structs and unions have members; the error names the pointer.
local cx = ffi.new("complex[1]")
print(pcall(function() return ffi.cast("complex *", cx).re end))
local ints = ffi.new("int[1]")
print(pcall(function() return ffi.cast("int *", ints).foo end))
print(pcall(function() return ffi.cast("int **", ints).foo end))
print(pcall(function() ffi.cast("int *", ints).foo = 1 end))
