-- The jit.* modules require finds: jit.vmdef, jit.zone, jit.v, jit.dump, jit.p,
-- jit.bcsave (Lua source in the library) and their LuaJIT interfaces.
-- test: perilune-only
for _, name in ipairs({ "jit.util", "jit.profile", "jit.vmdef", "jit.zone", "jit.p", "jit.v",
                        "jit.dump", "jit.bcsave" }) do
  local m = require(name)
  local keys = {}
  for k, v in pairs(m) do keys[#keys + 1] = k .. ":" .. type(v) end
  table.sort(keys)
  print(name, type(package.preload[name]), package.loaded[name] == m, #keys > 0 and table.concat(keys, " ", 1, math.min(#keys, 8)))
end

-- jit.vmdef: opcode names, 6 characters each; fast-function names by id.
local vmdef = require("jit.vmdef")
print(#vmdef.bcnames % 6, vmdef.bcnames:sub(1, 24))
print(vmdef.ffnames[0], vmdef.ffnames[1], vmdef.ffnames[29], vmdef.ffnames[79], vmdef.ffnames[97],
      vmdef.ffnames[6], vmdef.ffnames[149], vmdef.ffnames[161], vmdef.ffnames[160], vmdef.ffnames[143])

-- jit.zone: a stack of names.
local zone = require("jit.zone")
print(zone:get(), zone("a"), zone:get(), zone("b"), zone:get())
print(zone(), zone:get(), zone(), zone:get(), zone())
zone("x"); zone("y"); zone:flush()
print(zone:get())

-- jit.v and jit.dump: attach to trace events (the JIT is off: nothing is printed).
require("jit.v").on()
require("jit.v").start()
require("jit.v").off()
require("jit.dump").on("tbim")
require("jit.dump").off()
print("still running")

-- jit.p from Lua: a report in a file.
local out = os.tmpname()
local p = require("jit.p")
p.start("r", out)
p.stop()
local f = assert(io.open(out))
print(f:read("*a"))
f:close()
p.start("G", out)
p.stop()
f = assert(io.open(out))
print(#f:read("*a"))
f:close()
os.remove(out)

-- jit.bcsave: list, save (raw, h), load what was saved.
local bcsave = require("jit.bcsave")
bcsave.start("-l", "-e", "x = 1", out)
f = assert(io.open(out))
io.write(f:read("*a"))
f:close()
bcsave.start("-e", "return 6 * 7", out)
print(assert(loadfile(out))())
bcsave.start("-t", "h", "-n", "my.mod", "-e", "return 1", out)
f = assert(io.open(out))
print(f:read("*l"))
print(f:read("*l"))
f:close()
os.remove(out)
print(pcall(bcsave.start, "-x"))
print(pcall(bcsave.start, "-t", "zz", "a", "b"))
print(pcall(bcsave.start, "-t", "obj", "-e", "x=1", "b"))
print(pcall(bcsave.start, "-t", "c", "-e", "x=1", "b"))
print(pcall(bcsave.start, "-n", "a b", "a", "b"))
print(pcall(bcsave.start, "-e", "x(", "b"))
print(pcall(bcsave.start, "/nonexistent/in.lua", "b"))
