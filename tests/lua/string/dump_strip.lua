-- string.dump(f, true) strips debug information, as LuaJIT does: the loaded
-- function takes the chunk name load gives it, is on line 0, and has no local or
-- upvalue names. The output compares only what both formats share.

local function sample(a, b)
  local c = a + b
  return c, debug.getinfo(1, "l").currentline
end
local full, stripped = string.dump(sample), string.dump(sample, true)
print(#stripped < #full, string.dump(sample, false) == full, string.dump(sample, nil) == full)

-- It still runs.
local f = assert(load(stripped, "=stripped"))
print(f(2, 3))
-- Where it was defined, and what kind of function it is.
local i = debug.getinfo(f, "SlL")
print(i.source, i.short_src, i.what, i.linedefined, i.lastlinedefined, i.currentline)
local n = 0
for _ in pairs(i.activelines) do n = n + 1 end
print("active lines", n)
-- No parameter names, no upvalue names.
print(debug.getlocal(f, 1))
local up = 5
local g = assert(load(string.dump(function() return up end, true), "=g"))
print(debug.getupvalue(g, 1))
print(debug.getupvalue(assert(load(string.dump(function() return up end), "=g")), 1))

-- Errors carry line 0; a traceback leaves the line out.
local h = assert(load(string.dump(function(x) return x.field end, true), "=h"))
print(pcall(h))
local tb = assert(load(string.dump(function() local t = debug.traceback("tb", 1) return t end, true), "=tb"))
print((tb():gsub("\n[^\n]*%[C%][^\n]*", "")))

-- A stripped main chunk is an ordinary function.
local m = assert(load(string.dump(assert(load("local r = debug.getinfo(1, 'S') return r.what, r.linedefined, r.lastlinedefined", "=main")), true), "=m"))
print(m())
local m2 = assert(load(string.dump(assert(load("local r = debug.getinfo(1, 'S') return r.what, r.linedefined, r.lastlinedefined", "=main"))), "=m2"))
print(m2())

-- Without a name from load, the chunk is named by its own bytes, as for any string.
print((select(2, pcall(assert(load(string.dump(function() error("e") end, true)))))))
