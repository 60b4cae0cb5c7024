-- jit.status(): Perilune has no JIT yet, so it reports the JIT as off (without
-- LuaJIT's list of CPU features and optimisation flags), whatever jit.on/off did.
-- test: perilune-only
print(jit.status())
print(select("#", jit.status()))
jit.on()
print(jit.status())
jit.off()
print(jit.status())
print((jit.version:gsub("Perilune %d+%.%d+%.%d+", "Perilune x.y.z")), jit.version_num)
