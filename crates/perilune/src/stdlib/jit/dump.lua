-- jit.dump: LuaJIT's trace dump (-jdump). Perilune has no JIT compiler yet,
-- so no traces are recorded: on() says so in one line on stderr and the program
-- goes on. The output file (the argument, LUAJIT_DUMPFILE, "-" for stdout) is
-- opened as LuaJIT opens it, and stays empty.
local name = ...
local io, os, assert = io, os, assert

local out, said

local function off()
  if out and out ~= io.stdout and out ~= io.stderr then out:close() end
  out = nil
end

local function on(opt, outfile)
  off()
  outfile = outfile or os.getenv("LUAJIT_DUMPFILE")
  if outfile then
    out = outfile == "-" and io.stdout or assert(io.open(outfile, "w"))
  end
  if not said then
    said = true
    io.stderr:write(name, ": Perilune has no JIT compiler yet, so no traces are recorded\n")
  end
end

return { on = on, off = off, start = on }
