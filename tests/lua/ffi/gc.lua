-- ffi.gc: finalizers kept in the objects themselves; each runs once; ffi.gc(cd, nil)
-- removes one; every remaining one runs when the state closes.
local ffi = require("ffi")
local ran = {}
local function fin(tag) return function(cd) ran[#ran + 1] = tag end end

local keep = ffi.gc(ffi.new("int[1]"), fin("kept"))
do
  local x = ffi.gc(ffi.new("char[16]"), fin("dropped"))
  local y = ffi.gc(ffi.new("int[2]"), fin("cleared"))
  ffi.gc(y, nil)
  local z = ffi.gc(ffi.cast("void *", 0), fin("pointer"))
  local w = ffi.gc(ffi.new("struct { int a; }"), fin("replaced"))
  ffi.gc(w, fin("replacement"))
end
collectgarbage() collectgarbage()
table.sort(ran)
print(table.concat(ran, " "))

-- The object is passed to its finalizer and can be read there.
local seen
do
  local a = ffi.gc(ffi.new("int[3]", 1, 2, 3), function(cd) seen = cd[0] + cd[1] + cd[2] end)
end
collectgarbage() collectgarbage()
print("seen", seen)

-- Many finalizers, a bounded live set: every one runs exactly once.
local count, sum = 0, 0
for i = 1, 20000 do
  local c = ffi.gc(ffi.new("int[1]", i), function(cd) count = count + 1 sum = sum + cd[0] end)
end
collectgarbage() collectgarbage()
print(count, sum)

-- Errors.
print(pcall(ffi.gc, ffi.new("int64_t", 1), print))
print(pcall(ffi.gc, 1, print))

-- Runs at close: the kept one prints then.
ffi.gc(ffi.new("int[1]"), function() print("finalized at close") end)
_G.keep = keep
