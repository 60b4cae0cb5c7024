-- finalizer_churn: a steady stream of objects with a finalizer, few alive at once.
-- Bytes waiting for their finalizer must not raise the collector's threshold: the peak
-- stays flat from the first million objects to the last, and every finalizer runs once.
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
local peak_by_quarter = {}
local peak = 0
for i = 1, N do
  live[i % ALIVE + 1] = make()
  if i % 1000 == 0 then
    local kb = collectgarbage("count")
    if kb > peak then
      peak = kb
    end
  end
  if i % (N / 4) == 0 then
    peak_by_quarter[#peak_by_quarter + 1] = peak
    peak = 0
  end
end
-- The peak of the last quarter may not exceed the first quarter's by more than 50%.
local flat = peak_by_quarter[4] <= peak_by_quarter[1] * 1.5
print("created " .. N .. " flat " .. tostring(flat))
live = nil
collectgarbage()
collectgarbage()
print("finalized " .. finalized)
