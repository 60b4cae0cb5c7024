-- jit.util at the bytecode level: Perilune's instructions, pcs and constants
-- (docs/stdlib-debug-package-jit.md, "jit.util"). A small disassembler written
-- the way LuaJIT's jit.bc is, on funcbc, funck and jit.vmdef.bcnames.
-- test: perilune-only
local jutil = require("jit.util")
local vmdef = require("jit.vmdef")
local band, shr = bit.band, bit.rshift

local MODES = { [0] = "___", "dst", "base", "var", "rbase", "uv", "lit", "lits",
                "pri", "num", "str", "tab", "func", "jump", "cdata" }

local function disasm(fn)
  local fi = jutil.funcinfo(fn)
  print(("-- %s params=%d vararg=%s slots=%d bytecodes=%d nconsts=%d gcconsts=%d upvalues=%d")
    :format(fi.loc, fi.params, tostring(fi.isvararg), fi.stackslots, fi.bytecodes,
            fi.nconsts, fi.gcconsts, fi.upvalues))
  print("pc 0:", select("#", jutil.funcbc(fn, 0)))
  for pc = 1, 1000 do
    local ins, m = jutil.funcbc(fn, pc)
    if not ins then break end
    local op = band(ins, 0xff)
    local name = vmdef.bcnames:sub(op * 6 + 1, op * 6 + 6):gsub(" +$", "")
    local ma, mb, mc, mm = band(m, 7), band(shr(m, 3), 15), band(shr(m, 7), 15), shr(m, 11)
    local a, b, c, d = band(shr(ins, 8), 0xff), shr(ins, 24), band(shr(ins, 16), 0xff), shr(ins, 16)
    local ops
    if mb ~= 0 then ops = ("%d %d %d"):format(a, b, c) else ops = ("%d %d"):format(a, d) end
    local extra = ""
    if mc == 13 then
      extra = " => " .. (pc + 1 + d - 0x8000)
    elseif mc == 10 or mc == 11 then
      local k = jutil.funck(fn, -(mb ~= 0 and c or d) - 1)
      extra = " ; " .. (type(k) == "string" and ("%q"):format(k) or type(k))
    elseif mc == 9 then
      extra = " ; " .. tostring(jutil.funck(fn, mb ~= 0 and c or d))
    elseif name == "FNEW" then
      local child = jutil.funck(fn, -(fi.nconsts + d) - 1)
      extra = " ; " .. jutil.funcinfo(child).loc
    end
    print(("%04d %-6s %-5s %s %s %s mm=%d line=%d%s"):format(pc, name, ops, MODES[ma], MODES[mb], MODES[mc],
      mm, jutil.funcinfo(fn, pc).currentline, extra))
  end
end

local function sample(t, n)
  local s = "k" .. n
  local u = { 1, 2, x = 3 }
  for i = 1, n do
    t[i] = t[i] + 0.25
  end
  return function() return s, u end
end
disasm(sample)
disasm(sample({}, 0))

-- Constants: numbers at their index, strings and template tables at -index-1 (a
-- copy of the template), children after the constant array.
local fi = jutil.funcinfo(sample)
for i = 0, fi.nconsts - 1 do
  local num, gc = jutil.funck(sample, i), jutil.funck(sample, -i - 1)
  print(i, num, type(gc), type(gc) == "string" and gc or "")
end
local t1, t2
for i = 0, fi.nconsts - 1 do
  local k = jutil.funck(sample, -i - 1)
  if type(k) == "table" then t1, t2 = k, jutil.funck(sample, -i - 1) end
end
print(t1 ~= t2, t1[1], t1[2], t1.x)
t1.x = "changed"
local _, fresh = sample({}, 0)()
print(fresh.x)
local child = jutil.funck(sample, -fi.nconsts - 1)
print(type(child), jutil.funcinfo(child).linedefined, child())
print(select("#", jutil.funck(sample, -fi.gcconsts - 1)), select("#", jutil.funck(sample, fi.nconsts)))
print(jutil.funcuvname(child, 0), jutil.funcuvname(child, 1))
