-- Calls into libc through ffi.C: scalar arguments and results, strings, buffers,
-- varargs, errno, namespace errors.
local ffi = require("ffi")
local C = ffi.C
ffi.cdef[[
size_t strlen(const char *s);
int strcmp(const char *a, const char *b);
int abs(int x);
long labs(long x);
double fabs(double x);
void *memcpy(void *dst, const void *src, size_t n);
void *memset(void *s, int c, size_t n);
int snprintf(char *s, size_t n, const char *fmt, ...);
char *getenv(const char *name);
int open(const char *path, int flags, ...);
int toupper(int c);
int atoi(const char *s);
long long atoll(const char *s);
char *strchr(const char *s, int c);
void srand(unsigned int seed);
int nosuch_function_xyz(int);
enum { E_ONE = 1, E_TWO = 2 };
static const int SC = 42;
typedef int myint_t;
]]

print(type(C), (tostring(C):gsub("0x%x+", "ADDR")))
print((tostring(C.strlen):gsub("0x%x+", "ADDR")))
print(C.strlen == C.strlen, rawequal(C.strlen, C.strlen))
print(C.strlen("hello"), type(C.strlen("hello")), tonumber(C.strlen("")))
print(C.strcmp("a", "b") < 0, C.strcmp("b", "b"), C.strcmp("c", "b") > 0)
print(C.abs(-7), C.abs(7), C.labs(-123456789012), C.fabs(-2.5))
print(C.toupper(string.byte("q")), string.char(C.toupper(97)))
print(C.atoi("1234"), C.atoll("9007199254740993"))
print(C.srand(1))
print(select("#", C.srand(1)))

-- Strings, buffers, pointers.
local buf = ffi.new("char[16]")
C.memset(buf, 65, 3)
print(ffi.string(buf))
local src = ffi.new("int[4]", {10, 20, 30, 40})
local dst = ffi.new("int[4]")
local r = C.memcpy(dst, src, ffi.sizeof(src))
print(dst[0], dst[1], dst[2], dst[3], r == ffi.cast("void *", dst))
local p = C.strchr("hello", string.byte("l"))
print(ffi.string(p), C.strchr("hello", string.byte("z")) == nil)

-- Varargs: Lua numbers are doubles, cdata keep their type, strings are char *.
local out = ffi.new("char[64]")
print(C.snprintf(out, 64, "%g|%s|%.2f", 1.5, "str", 3.14159), ffi.string(out))
print(C.snprintf(out, 64, "%d %d", ffi.new("int", 7), ffi.cast("short", -3)), ffi.string(out))
print(C.snprintf(out, 64, "%lld %llu", 123LL, 18446744073709551615ULL), ffi.string(out))
print(C.snprintf(out, 64, "%s", ffi.new("char[4]", "abc")), ffi.string(out))
print(C.snprintf(out, 64, "no args"), ffi.string(out))
print(C.snprintf(nil, 0, "%s", "counted"))

-- getenv: a string or NULL.
print(ffi.string(C.getenv("PATH")) == os.getenv("PATH"))
print(C.getenv("PERILUNE_NO_SUCH_VARIABLE_XYZ") == nil)

-- errno is saved after every call.
local fd = C.open("/nonexistent/perilune/file", 0)
print(fd, ffi.errno())
print(ffi.errno(0), ffi.errno())

-- Constants and errors of the namespace.
print(C.E_ONE, C.E_TWO, C.SC, type(C.SC))
print(pcall(function() return C.undeclared_symbol end))
print(pcall(function() return C.myint_t end))
local ok, e = pcall(function() return C.nosuch_function_xyz end)
print(ok, (e:gsub(": [^:]*: undefined", ": PROG: undefined")))
print(pcall(function() C.abs = 1 end))
print(pcall(function() C.SC = 1 end))
print(pcall(C.abs))
print(pcall(C.abs, 1, 2))
print(pcall(C.abs, "x"))
print(pcall(C.strlen, 5))
print(pcall(ffi.load, "perilune_no_such_library"))

-- Function pointers.
local fp = ffi.cast("int (*)(int)", C.abs)
print((tostring(fp):gsub("0x%x+", "ADDR")), fp(-5))
print(ffi.typeof(C.abs), ffi.typeof(fp))
print(ffi.sizeof(C.abs), ffi.sizeof(fp))
print(pcall(function() return C[1] end))
local t = ffi.new("struct { int (*f)(int); }")
t.f = C.abs
print(t.f(-9))
