-- string.dump and loading binary chunks.
-- test: perilune-only
-- (Perilune writes its own format; the messages are LuaJIT's where it has one.)

local function add(a, b) return a + b end
local s = string.dump(add)
print(type(s), s:sub(1, 1) == "\27")
local add2 = assert(loadstring(s))
print(add2(2, 3))

-- Template tables, nested functions, varargs, loops survive the trip.
local function complex(...)
  local t = { 1, 2, 3, x = "y", [10] = true, n = select("#", ...) }
  local function inner(k) return t[k] end
  local acc = 0
  for i = 1, #t do acc = acc + t[i] end
  for k, v in pairs({ a = 1 }) do acc = acc + v end
  return acc, inner("x"), inner(10), t.n
end
print(assert(loadstring(string.dump(complex)))(7, 8, 9))

-- Upvalues come back fresh and nil, as in Lua 5.1.
local counter = 10
local function bump() counter = (counter or 0) + 1 return counter end
local bump2 = assert(loadstring(string.dump(bump)))
print(bump2(), bump2(), counter)

-- Reading a binary chunk piecewise through a reader function.
local function read1(x)
  local i = 0
  return function()
    i = i + 1
    return string.sub(x, i, i)
  end
end
local f = assert(load(read1(string.dump(function(...) return select("#", ...), ... end))))
print(f("a", "b"))
print(assert(load(read1(string.dump(add)), "chunk"))(40, 2))

-- A dumped main chunk keeps its source name for errors.
local main = assert(loadstring("local x = nil; return x.y", "=mychunk"))
print(pcall(assert(loadstring(string.dump(main)))))

-- Natives cannot be dumped; non-functions are bad arguments.
print(pcall(string.dump, print))
print(pcall(string.dump, 1))

-- Broken and foreign chunks are clean errors.
print(loadstring(s:sub(1, 12)))
print(loadstring(s:sub(1, #s - 1), "=trunc"))
print(loadstring(s .. "x", "@file.lua"))
print(loadstring("\27LJ\2garbage"))
print(loadstring("\27"))
local bad = 0
for i = 1, #s do
  local m = s:sub(1, i - 1) .. string.char((s:byte(i) + 97) % 256) .. s:sub(i + 1)
  local g = loadstring(m)
  if not g then bad = bad + 1 end
end
print("mutations rejected:", bad > #s / 2)

-- Load modes (LuaJIT 2.1): "t" refuses binary, "b" refuses text.
print(load(s, "=m", "t"))
print(load("return 1", "=m", "b"))
print(load(s, "=m", "bt") ~= nil, assert(loadstring("return 2", "=m", "t"))())
