-- jit.version names Perilune after LuaJIT's own version string, so the patterns
-- programs match it with keep working; jit.version_num stays LuaJIT 2.1's.
-- (docs/stdlib-debug-package-jit.md, "jit"). Perilune-only: the string names
-- Perilune.
-- test: perilune-only
print((jit.version:gsub("Perilune %d+%.%d+%.%d+", "Perilune x.y.z")))
print(jit.version_num, jit.version_num >= 20100)
print(jit.version:match("^LuaJIT 2%.1") ~= nil, jit.version:match("^LuaJIT 2%.1%.0%-beta3") ~= nil)
print(jit.version:match("LuaJIT (%S+)"), jit.version:match("(2%.%d)%.%d"), jit.version:match("LuaJIT (%d%.%d)"))
print(jit.version:match("%(Perilune (%d+%.%d+%.%d+)%)$") ~= nil)
