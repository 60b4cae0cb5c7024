-- A loop whose only allocations are 64-bit integer results of cdata arithmetic (the
-- metamethods are native) must still be collected as it goes: the collector's debt is
-- paid after a metamethod returns, not only at calls, closures, tables and concats.
local ffi = require("ffi")
local x = 0LL
local peak = 0
for i = 1, 200000 do
  x = x + i * 3LL - 7
  if i % 1000 == 0 then
    local kb = collectgarbage("count")
    if kb > peak then peak = kb end
  end
end
print(x)
print("bounded", peak < 4096)
local y = 1LL
for i = 1, 200000 do y = -(y * 3 % 1000000007LL) end
print(y, collectgarbage("count") < 4096)
