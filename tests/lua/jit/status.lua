-- jit.status(): whether the JIT is on (on by default: docs/jit.md), then the
-- optimisation flags that are on, as LuaJIT lists them after its CPU features
-- (which Perilune does not list). jit.opt.start changes the flags.
-- test: perilune-only
print(jit.status())
print(select("#", jit.status()))
jit.on()
print(jit.status())
jit.opt.start(1)
print(jit.status())
jit.opt.start("-cse", "+sink")
print(jit.status())
jit.opt.start()
jit.off()
print(jit.status())
print((jit.version:gsub("Perilune %d+%.%d+%.%d+", "Perilune x.y.z")), jit.version_num)
