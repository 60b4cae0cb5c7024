-- jit.dump: LuaJIT's trace dump (-jdump): for each trace its start, its IR with
-- snapshots (docs/jit.md, "Reading the dump") and how it ended:
--   ---- TRACE 1 start file.lua:4
--   ---- TRACE 1 IR
--   ...
--   ---- TRACE 1 stop -> loop
-- Options as LuaJIT's: "m" adds the machine code of each trace (Cranelift's
-- listing of the instructions it emitted, docs/jit.md); without options (or
-- LUAJIT_DUMPFLAGS) it is shown, as LuaJIT shows it; other letters are accepted
-- and the IR with snapshots is always printed. The output file (the argument,
-- LUAJIT_DUMPFILE, "-" for stdout) is opened as LuaJIT opens it; the default is
-- stdout. Events come from jit.attach.
local name, helpers = ...
local jit, io, os, assert, format = jit, io, os, assert, string.format
local funcinfo = require("jit.util").funcinfo
local tracedump = helpers.tracedump

local out, active, mcode

local function fmtfunc(func, pc)
  if not func then return "(?)" end
  local fi = funcinfo(func, pc)
  return fi.loc or "(?)"
end

local function dump_trace(what, tr, func, pc, extra)
  if what == "start" then
    out:write(format("---- TRACE %d start %s\n", tr, fmtfunc(func, pc)))
  elseif what == "abort" then
    out:write(format("---- TRACE %d abort %s -- %s\n\n", tr, fmtfunc(func, pc), extra))
  elseif what == "stop" then
    out:write(format("---- TRACE %d IR\n", tr), tracedump(tr, mcode) or "")
    out:write(format("---- TRACE %d stop -> %s\n\n", tr, extra))
  end
  out:flush()
end

local function off()
  if active then
    active = false
    jit.attach(dump_trace)
    if out and out ~= io.stdout and out ~= io.stderr then out:close() end
    out = nil
  end
end

local function on(opt, outfile)
  if active then off() end
  opt = opt or os.getenv("LUAJIT_DUMPFLAGS")
  mcode = (not opt) or opt:find("m", 1, true) ~= nil
  outfile = outfile or os.getenv("LUAJIT_DUMPFILE")
  out = outfile and (outfile == "-" and io.stdout or assert(io.open(outfile, "w"))) or io.stdout
  jit.attach(dump_trace, "trace")
  active = true
end

return { on = on, off = off, start = on }
