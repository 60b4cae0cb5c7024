-- jit.util, what LuaJIT and Perilune agree on: funcinfo's fields that do not depend
-- on the bytecode, chunk locations, fast-function ids, upvalue names, the trace
-- functions (no traces: nothing returned), argument errors.
-- (Perilune's own bytecode, pcs and constants: util_bytecode.lua.)
local jutil = require("jit.util")
print(package.loaded["jit.util"] == jutil, jit.util, require("jit.util") == jutil)
local names = {}
for k, v in pairs(jutil) do names[#names + 1] = k .. ":" .. type(v) end
table.sort(names)
print(table.concat(names, " "))

local function f(a, b, ...)
  local x = a + 1.5
  return function() return x, b end
end
local fi = jutil.funcinfo(f)
print(fi.linedefined, fi.lastlinedefined, fi.params, fi.isvararg, fi.children, fi.source, fi.loc)
print(fi.upvalues, fi.currentline, type(fi.stackslots), type(fi.bytecodes), type(fi.gcconsts), type(fi.nconsts))
local last = jutil.funcinfo(f, fi.bytecodes)
print(last.currentline, last.loc, jutil.funcinfo(f, fi.bytecodes - 1).currentline)
print(jutil.funcinfo(f, -1).currentline, jutil.funcinfo(f, -1).loc, jutil.funcinfo(f, 1e9).loc)
local g = f(1, 2)
local gi = jutil.funcinfo(g)
print(gi.linedefined, gi.params, gi.isvararg, gi.children, gi.upvalues, gi.loc)
print(jutil.funcuvname(g, 0), jutil.funcuvname(g, 1), jutil.funcuvname(g, 2), jutil.funcuvname(g, -1))
local main = jutil.funcinfo(loadstring("local a = 1\nreturn a"))
print(main.linedefined, main.lastlinedefined, main.isvararg, main.params, main.source, main.loc)

-- Chunk names in loc.
local function loc(name)
  return jutil.funcinfo(loadstring("return 1", name)).loc
end
print(loc(nil), loc("=name"), loc("@/a/b\\c.lua"), loc("@"), loc("="), loc(""))
print(loc(string.rep("x", 40)), loc(string.rep("x", 41)):match("^0x%x+:0$") ~= nil)
print(loc("=" .. string.rep("x", 40)):match("^0x%x+:0$") ~= nil, loc("@" .. string.rep("d/", 30) .. "f.lua"))

-- Natives: the fast-function id (none for plain C functions), the address.
local function native(fn)
  local i = jutil.funcinfo(fn)
  return i.ffid, type(i.addr), i.linedefined, i.source
end
print(native(print))
print(native(string.rep))
print(native(string.len), native(require))
print(native(jutil.funcinfo), native(jutil.ircalladdr), native(jit.opt.start))
print(jutil.funcinfo(coroutine.wrap(function() end)).ffid, jutil.funcinfo(ipairs({})).ffid,
      jutil.funcinfo(string.gmatch("a", "a")).ffid, jutil.funcinfo(string.gmatch("a", "a")).upvalues)
print(tostring(jutil.funcinfo), tostring(jutil.funcbc), tostring(jutil.funck), tostring(jutil.funcuvname))

-- No traces.
print(select("#", jutil.traceinfo(1)), select("#", jutil.traceir(1, 0)), select("#", jutil.tracek(1, 0)),
      select("#", jutil.tracesnap(1, 0)), select("#", jutil.tracemc(1)), select("#", jutil.traceinfo(0)))

-- Arguments.
print(pcall(jutil.funcinfo))
print(pcall(jutil.funcinfo, 1))
print(pcall(jutil.funcinfo, f, "x"))
print(pcall(jutil.funcbc, print, 1))
print(pcall(jutil.funck, print, 0))
print(pcall(jutil.funcuvname, print, 0))
print(pcall(jutil.funcbc, f))
print(pcall(jutil.funck, f, "x"))
print(pcall(jutil.traceinfo))
print(pcall(jutil.traceinfo, "x"))
print(select("#", jutil.funcbc(f, 1e9)), select("#", jutil.funck(f, 1e9)), select("#", jutil.funck(f, -1e9)),
      select("#", jutil.funcuvname(f, 0)), select("#", jutil.funcbc(f, -1)))
print(jutil.funcinfo(print, {}).ffid)
