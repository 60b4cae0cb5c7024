-- jit.v: LuaJIT's verbose trace output (-jv): one line per finished or aborted
-- trace, in LuaJIT's format:
--   [TRACE   1 file.lua:4 loop]
--   [TRACE --- file.lua:9 -- NYI: bytecode CALL at file.lua:10]
-- The output file (the argument, LUAJIT_VERBOSEFILE, "-" for stdout) is opened as
-- LuaJIT opens it; the default is stderr. Events come from jit.attach.
local name, helpers = ...
local jit, io, os, assert, format = jit, io, os, assert, string.format
local funcinfo = require("jit.util").funcinfo

local out, active, startloc

local function fmtfunc(func, pc)
  if not func then return "(?)" end
  local fi = funcinfo(func, pc)
  return fi.loc or "(?)"
end

local function dump_trace(what, tr, func, pc, extra)
  if what == "start" then
    startloc = fmtfunc(func, pc)
  elseif what == "abort" then
    local loc = fmtfunc(func, pc)
    if loc ~= startloc then
      out:write(format("[TRACE --- %s -- %s at %s]\n", startloc, extra, loc))
    else
      out:write(format("[TRACE --- %s -- %s]\n", startloc, extra))
    end
    out:flush()
  elseif what == "stop" then
    out:write(format("[TRACE %3s %s %s]\n", tr, startloc, extra))
    out:flush()
  end
end

local function off()
  if active then
    active = false
    jit.attach(dump_trace)
    if out and out ~= io.stdout and out ~= io.stderr then out:close() end
    out = nil
  end
end

local function on(outfile)
  if active then off() end
  outfile = outfile or os.getenv("LUAJIT_VERBOSEFILE")
  if outfile then
    out = outfile == "-" and io.stdout or assert(io.open(outfile, "w"))
  else
    out = io.stderr
  end
  jit.attach(dump_trace, "trace")
  active = true
end

return { on = on, off = off, start = on }
