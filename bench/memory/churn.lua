-- Garbage churn near the limit: a live set of about a third of the limit is replaced
-- piece by piece with objects of varied sizes (tables, strings, closures), so the
-- collector must keep up; no allocation should be refused.
local limit_mb = tonumber(arg and arg[1]) or 64
local slots = math.floor(limit_mb * 2^20 / 3 / 200)
local live = {}
for i = 1, slots * 20 do
  local k = (i * 2654435761) % slots + 1
  local r = i % 3
  if r == 0 then
    live[k] = { i, i + 1, tostring(i) }
  elseif r == 1 then
    live[k] = string.rep("c", i % 300) .. i
  else
    live[k] = function() return i end
  end
end
print("done", slots)
