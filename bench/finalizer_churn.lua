-- finalizer_churn: a steady stream of objects with a finalizer, few alive at once.
-- Bytes waiting for their finalizer must not raise the collector's threshold: the peak
-- (bench/run's max RSS column) stays near that of the live objects, and every finalizer
-- runs once. (crates/perilune/tests/embed_limits.rs checks that the peak is flat.)
-- Usage: finalizer_churn.lua [n]   (default 4000000; at most n/40, up to 100000, alive at once)
-- small size: 200000
local N = tonumber(arg and arg[1]) or 4000000
local ALIVE = math.min(100000, N / 40)

local finalized = 0
local make
if newproxy then
  local proto = newproxy(true)
  getmetatable(proto).__gc = function()
    finalized = finalized + 1
  end
  make = function()
    return newproxy(proto)
  end
else
  local mt = {
    __gc = function()
      finalized = finalized + 1
    end,
  }
  make = function()
    return setmetatable({}, mt)
  end
end

local live = {}
for i = 1, N do
  live[i % ALIVE + 1] = make()
end
print("created " .. N)
live = nil
collectgarbage()
collectgarbage()
print("finalized " .. finalized)
