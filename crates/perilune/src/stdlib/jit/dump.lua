-- jit.dump: LuaJIT's trace dump (-jdump): for each trace its start, its IR with
-- snapshots (docs/jit.md, "Reading the dump") and how it ended:
--   ---- TRACE 1 start file.lua:4
--   ---- TRACE 1 IR
--   ...
--   ---- TRACE 1 stop -> loop
-- The options argument is accepted and not looked at (Perilune prints IR and
-- snapshots; there is no machine code yet). The output file (the argument,
-- LUAJIT_DUMPFILE, "-" for stdout) is opened as LuaJIT opens it; the default is
-- stdout. Events come from jit.attach.
local name, helpers = ...
local jit, io, os, assert, format = jit, io, os, assert, string.format
local funcinfo = require("jit.util").funcinfo
local tracedump = helpers.tracedump

local out, active

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
    out:write(format("---- TRACE %d IR\n", tr), tracedump(tr) or "")
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
  outfile = outfile or os.getenv("LUAJIT_DUMPFILE")
  out = outfile and (outfile == "-" and io.stdout or assert(io.open(outfile, "w"))) or io.stdout
  jit.attach(dump_trace, "trace")
  active = true
end

return { on = on, off = off, start = on }
