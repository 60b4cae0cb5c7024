-- ffi.metatype: __index (table and function), __newindex, __new, __gc, __tostring,
-- comparisons, arithmetic, __len, __concat, __call, __unm.
local ffi = require("ffi")
ffi.cdef[[
typedef struct { double x, y; } vec2;
struct counter { int n; };
struct box { int v; };
]]

local vec2
local mt = {
  __add = function(a, b) return vec2(a.x + b.x, a.y + b.y) end,
  __sub = function(a, b) return vec2(a.x - b.x, a.y - b.y) end,
  __mul = function(a, b) if type(b) == "number" then return vec2(a.x * b, a.y * b) end return a.x * b.x + a.y * b.y end,
  __div = function(a, b) return vec2(a.x / b, a.y / b) end,
  __mod = function(a, b) return "mod" end,
  __pow = function(a, b) return "pow" end,
  __unm = function(a) return vec2(-a.x, -a.y) end,
  __eq = function(a, b) return a.x == b.x and a.y == b.y end,
  __lt = function(a, b) return a:len() < b:len() end,
  __le = function(a, b) return a:len() <= b:len() end,
  __len = function(a) return 2 end,
  __concat = function(a, b) return tostring(a) .. "|" .. tostring(b) end,
  __call = function(self, k) return self[k] end,
  __tostring = function(v) return "vec2(" .. v.x .. ", " .. v.y .. ")" end,
  __index = {
    len = function(v) return math.sqrt(v.x * v.x + v.y * v.y) end,
    kind = "vec2",
  },
}
vec2 = ffi.metatype("vec2", mt)
local a, b = vec2(3, 4), vec2(1, 2)
print(a, b, a:len(), a.kind, a.x, tostring(a + b), tostring(a - b), a * b, tostring(a * 2), tostring(a / 2))
print(a % b, a ^ b, tostring(-a), a == vec2(3, 4), a ~= b, b < a, a <= b, #a, a .. b, a("y"))
print(ffi.new("vec2", 5, 6), vec2 == ffi.typeof("vec2"), ffi.istype(vec2, a))
local pa = ffi.new("vec2[1]", {{7, 8}})
local p = ffi.cast("vec2 *", pa)
print(p.x, p:len() > 10, p.kind)
print(pcall(ffi.metatype, "vec2", {}))
print(pcall(ffi.metatype, "int", {}))

-- __index / __newindex as functions, __new.
local log = {}
ffi.metatype("struct counter", {
  __index = function(c, k) return "missing " .. k end,
  __newindex = function(c, k, v) log[#log + 1] = k .. "=" .. tostring(v) end,
  __new = function(ct, n) local c = ffi.new(ct) c.n = n * 10 return c end,
})
local c = ffi.new("struct counter", 4)
local C = ffi.typeof("struct counter")
print(C(5).n, ffi.new(C, 5).n)
print(c.n, c.foo)
c.bar = 1
c.n = 2
print(c.n, table.concat(log, ","))

-- __gc of a metatype: every object's finalizer runs when it is collected.
local freed = 0
local box = ffi.metatype("struct box", { __gc = function(b) freed = freed + b.v end })
for i = 1, 10 do local x = box(i) end
collectgarbage() collectgarbage()
print("freed", freed)
