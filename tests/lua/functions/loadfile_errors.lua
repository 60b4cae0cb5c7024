-- loadfile and dofile on paths that cannot be loaded: the messages carry the
-- system's reason, as LuaJIT's do; loadfile returns them, dofile raises them.

print(loadfile("no_such_file.lua"))
print(loadfile("."))
print(pcall(dofile, "no_such_file.lua"))
print(pcall(dofile, "."))
print(loadfile("no_such_file.lua", "t"))

-- A script that starts with a shebang line keeps its line numbers.
local f = assert(loadfile("shebang_chunk.txt"))
print(pcall(f))
print(pcall(dofile, "shebang_chunk.txt"))
