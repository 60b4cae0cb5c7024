-- Lua functions as C callbacks: ffi.cast, implicit conversion (qsort), cb:set,
-- cb:free, errors raised after the C call returns.
local ffi = require("ffi")
local C = ffi.C
ffi.cdef[[
void qsort(void *base, size_t nmemb, size_t size, int (*compar)(const void *, const void *));
typedef int (*binop_t)(int, int);
]]

local add = ffi.cast("int (*)(int, int)", function(a, b) return a + b end)
print((tostring(add):gsub("0x%x+", "ADDR")), add(2, 3), type(add.free), type(add.set))
add:set(function(a, b) return a * b end)
print(add(4, 5))
add:free()
print(pcall(add, 1, 2))
print(pcall(add.free, add))
print(pcall(add.set, add, print))
local null = ffi.cast("int (*)(int, int)", 0)
print(pcall(null.free, null))

local t = ffi.cast("binop_t", function(a, b) return a - b end)
print(ffi.typeof(t), t(10, 4))
t:free()

-- qsort with a Lua comparator (an implicit callback).
local arr = ffi.new("int[8]", {5, 3, 8, 1, 9, 2, 7, 4})
C.qsort(arr, 8, ffi.sizeof("int"), function(a, b)
  local x = ffi.cast("const int *", a)[0]
  local y = ffi.cast("const int *", b)[0]
  return x < y and -1 or (x > y and 1 or 0)
end)
local s = {}
for i = 0, 7 do s[#s + 1] = arr[i] end
print(table.concat(s, " "))

-- An explicit callback reused for several calls.
local calls = 0
local desc = ffi.cast("int (*)(const void *, const void *)", function(a, b)
  calls = calls + 1
  return ffi.cast("const int *", b)[0] - ffi.cast("const int *", a)[0]
end)
for _ = 1, 3 do C.qsort(arr, 8, 4, desc) end
s = {}
for i = 0, 7 do s[#s + 1] = arr[i] end
print(table.concat(s, " "), calls > 0)
desc:free()

-- Errors inside a callback are raised when the C call returns; later calls of
-- the same C call do not run Lua.
local n = 0
local ok, e = pcall(C.qsort, arr, 8, 4, function() n = n + 1 error("boom") end)
print(ok, e, n)
ok, e = pcall(C.qsort, arr, 8, 4, function() n = n + 1 error({ code = 7 }) end)
print(ok, type(e), e.code, n)
-- (LuaJIT positions these at the callback's return; Perilune does not: docs/ffi.md)
local function unpositioned(ok, e) return ok, (e:gsub("^[^:]*:%d+: ", "")) end
print(unpositioned(pcall(ffi.cast("int (*)()", function() return "x" end))))
print(unpositioned(pcall(ffi.cast("int (*)()", function() return nil end))))

-- Results and arguments of every kind of scalar.
print(ffi.cast("double (*)(double)", function(x) return x * 2 end)(1.25))
print(ffi.cast("bool (*)(int)", function(x) return x > 1 end)(2))
print(ffi.cast("int64_t (*)(int64_t)", function(x) return x + 1 end)(5))
print(ffi.cast("uint8_t (*)(int)", function(x) return x end)(257))
print(ffi.cast("short (*)(short)", function(x) return x - 1 end)(-5))
print(ffi.cast("float (*)(float, double)", function(x, y) return x + y end)(0.5, 0.25))
print(ffi.string(ffi.cast("const char *(*)(const char *)", function(p) return p end)("abc")))
print(ffi.cast("void (*)(int)", function(x) end)(1))

-- Conversions that cannot make a callback.
print(pcall(ffi.cast, "int (*)(int, ...)", function() end))
print(pcall(ffi.cast, "int", function() end))

-- free and set are methods to read, not fields to assign.
local cb2 = ffi.cast("int(*)(int)", function(x) return x end)
print(pcall(function() cb2.free = 1 end))
print(pcall(function() cb2.set = print end))
print(pcall(function() return cb2.other end))
cb2:free()
