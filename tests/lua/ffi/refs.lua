-- References in declarations are references, not pointers (`int &`).
local ffi = require("ffi")
print(ffi.typeof("int &"), ffi.typeof("const int &"), ffi.typeof("int *"))
print(ffi.typeof("int &") == ffi.typeof("int *"))
ffi.cdef("typedef struct box { int v; } box_t; typedef box_t &box_ref;")
print(ffi.typeof("box_ref"))
