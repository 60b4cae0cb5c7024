-- cdata as a value type: type, tostring, tonumber, ffi.new with initializers,
-- typeof, sizeof/alignof/offsetof, istype, and LuaJIT's conversion messages.
local ffi = require("ffi")
local function show(x) return (tostring(x):gsub("0x%x+", "ADDR")) end

print(type(ffi), ffi.os, ffi.arch, ffi.abi("64bit"), ffi.abi("le"), ffi.abi("win"), ffi.abi("32bit"))
print(package.loaded.ffi == ffi, ffi == require("ffi"), rawget(_G, "ffi"))

-- Scalars.
local i = ffi.new("int", 42)
print(type(i), show(i), tonumber(i), getmetatable(i))
print(show(ffi.new("double", 2.5)), tonumber(ffi.new("double", 2.5)))
print(tonumber(ffi.new("int8_t", 300)), tonumber(ffi.new("uint8_t", 300)), tonumber(ffi.new("uint8_t", -1)))
print(tonumber(ffi.new("short", 70000)), tonumber(ffi.new("unsigned short", -2)))
print(tonumber(ffi.new("int", -1.5)), tonumber(ffi.new("int", 3.9)), tonumber(ffi.new("float", 0.1)))
print(ffi.new("bool", 0) == false, tonumber(ffi.new("bool", 7)), tonumber(ffi.new("int", true)))
print(tostring(ffi.new("int64_t", 5)), tostring(ffi.new("uint64_t", 5)), tostring(ffi.new("int64_t", -7)))
print(tonumber(ffi.new("int64_t", 2^53)), tostring(ffi.new("uint64_t", 2^63)))

-- Type names.
for _, t in ipairs{"char", "signed char", "unsigned char", "short", "unsigned", "long", "unsigned long long",
                   "int8_t", "uint16_t", "uint32_t", "size_t", "intptr_t", "bool", "float", "double",
                   "void", "void *", "const char *", "char * const", "int[3]", "int[?]", "int *[3]",
                   "int (*)[3]", "int (*)(int, double)", "const int", "const volatile int", "wchar_t",
                   "int(*[2])(void)", "complex", "double _Complex", "float _Complex"} do
  print(t, ffi.typeof(t))
end

-- Arrays and initializers.
local a = ffi.new("int[3]", {1, 2, 3})
print(show(a), a[0], a[1], a[2], ffi.sizeof(a))
a = ffi.new("int[3]", 1, 2)
print(a[0], a[1], a[2])
a = ffi.new("int[3]", 7)
print(a[0], a[1], a[2])
a = ffi.new("int[3]", {7})
print(a[0], a[1], a[2])
a = ffi.new("int[3]", {[0] = 4, 5, 6})
print(a[0], a[1], a[2])
local v = ffi.new("int[?]", 4, {9, 8})
print(ffi.sizeof(v), v[0], v[1], ffi.typeof(v))
local s = ffi.new("char[8]", "hi")
print(ffi.string(s), ffi.sizeof(s), s[2])
print(ffi.string(ffi.new("char[2]", "xyz"), 2))

-- Structs, nested, bitfields, unions.
ffi.cdef[[
typedef struct { int a; double b; char c[4]; } S;
struct P { int x, y; };
struct Q { struct P p; int arr[2]; int b:3; unsigned c:5; };
union U { int i; float f; unsigned char bytes[4]; };
enum color { RED, GREEN = 5, BLUE };
struct V { int n; double d[?]; };
]]
local st = ffi.new("S", {1, 2.5, "ab"})
print(st.a, st.b, ffi.string(st.c), ffi.sizeof("S"), ffi.alignof("S"), ffi.offsetof("S", "b"), ffi.offsetof("S", "c"))
st = ffi.new("S", {b = 4, a = 3})
print(st.a, st.b)
st = ffi.new("S", 5, 6.5)
print(st.a, st.b)
local q = ffi.new("struct Q", {{1, 2}, {3, 4}, -1, 7})
print(q.p.x, q.p.y, q.arr[0], q.arr[1], q.b, q.c)
print(show(q.p):match("^cdata<.->"), show(q.arr):match("^cdata<.->"))
q.p.y = 20; q.arr[1] = 40; q.b = 3; q.c = 33
print(q.p.y, q.arr[1], q.b, q.c)
q.b = 5
print(q.b, ffi.offsetof("struct Q", "b"), ffi.offsetof("struct Q", "c"))
local u = ffi.new("union U")
u.i = 0x41424344
print(u.bytes[0], u.bytes[3], ffi.sizeof(u))
u.f = 1.0
print(u.i)
print(ffi.new("enum color", "GREEN") == 5, tonumber(ffi.new("enum color", "BLUE")), ffi.sizeof("enum color"))
local vs = ffi.new("struct V", 3)
vs.n = 3; vs.d[2] = 1.5
print(ffi.sizeof(vs), vs.n, vs.d[2], ffi.sizeof("struct V", 3))
local T = ffi.typeof("struct P")
local p1, p2 = T(1, 2), T{3, 4}
print(p1.x, p1.y, p2.x, p2.y, ffi.typeof(p1) == T, T == ffi.typeof("struct P"))
print(ffi.istype(T, p1), ffi.istype("struct P", p1), ffi.istype("int", p1), ffi.istype("int", 1))
print(ffi.istype("int", ffi.new("const int", 1)), ffi.istype("int *", ffi.new("int *")))
print(ffi.offsetof("struct P", "nope"), ffi.sizeof("struct P"), ffi.alignof("double"))

-- Errors, with LuaJIT's words.
local function e(f, ...) local ok, m = pcall(f, ...) print(ok, m) end
e(ffi.new, "int", "x")
e(ffi.new, "struct P", 1, 2, 3)
e(ffi.new, "int[2]", 1, 2, 3)
e(ffi.new, "bool", nil)
e(function() return p1.zz end)
e(function() st.a = "x" end)
e(function() return ffi.new("int").x end)
e(function() return ffi.new("int")[{}] end)
e(function() return ffi.new("int[3]").x end)
e(ffi.typeof, "struct Undeclared")
e(ffi.cdef, "struct S2 { int a; } x y;")
e(ffi.cdef, "int x int y")
print(ffi.cdef("int declared_without_semicolon"))
e(function() return #ffi.new("int[3]") end)
e(function() return ffi.cast("void *", 0)[0] end)
ffi.cdef("struct C { const int k; };")
e(function() ffi.new("struct C").k = 1 end)
