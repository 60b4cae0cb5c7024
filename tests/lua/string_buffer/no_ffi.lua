-- test: perilune-only
-- Perilune has no FFI: the FFI-only buffer methods are absent, as in a LuaJIT built
-- without the FFI (LuaJIT with the FFI has them; see docs/stdlib-string.md), and the
-- FFI number tags of the serialization format are refused as LuaJIT refuses them
-- when the FFI is not loaded.
local buffer = require("string.buffer")
local b = buffer.new()
print(b.putcdata, b.reserve, b.commit, b.ref)
print(pcall(function() b:reserve(10) end))
print(pcall(buffer.decode, "\16\1\0\0\0\0\0\0\0"))
print(pcall(buffer.decode, "\17\1\0\0\0\0\0\0\0"))
print(pcall(buffer.decode, "\18\1\0\0\0\0\0\0\0\1\0\0\0\0\0\0\0"))
print(pcall(buffer.decode, "\18\1\0\0\0\0\0\0\0"))
