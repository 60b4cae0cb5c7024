-- Extern variables through ffi.C: read, write through, pointers, const.
local ffi = require("ffi")
local C = ffi.C
ffi.cdef[[
extern int opterr;
extern char **environ;
extern const int optind;
int optopt;
]]
print(C.opterr, type(C.opterr))
C.opterr = 0
print(C.opterr)
C.opterr = 1
print(C.opterr)
print(C.environ ~= nil, ffi.typeof(C.environ))
print(C.environ[0] ~= nil, type(ffi.string(C.environ[0])))
print(C.optind)
print(pcall(function() C.optind = 5 end))
print(C.optind)
print(pcall(function() C.opterr = "x" end))
C.optopt = 65
print(C.optopt)
