-- Fault-sweep stress: table growth and rehash in every shape, with the results checked.
local t = {}
for i = 1, 300 do t[i] = i end                        -- array growth
for i = 1, 300 do t["k" .. i] = i end                 -- hash growth
for i = 1, 100 do t[i + 0.5] = i end                  -- float keys
for i = 1, 150 do t[i] = nil end                      -- holes, then rehash on insert
for i = 1000, 1100 do t[i] = true end                 -- sparse keys migrate to the array
local n = 0
for k, v in pairs(t) do n = n + 1 end
print(n, #t >= 0)
local nested = {}
for i = 1, 50 do nested[i] = {i, {i}, x = {y = {z = i}}} end
print(nested[50].x.y.z, #nested)
local weak = setmetatable({}, {__mode = "k"})
for i = 1, 100 do weak[{}] = i end
collectgarbage()
local left = 0
for _ in pairs(weak) do left = left + 1 end
print(left)
local vals = setmetatable({}, {__mode = "v"})
for i = 1, 100 do vals[i] = {i} end
vals[1000] = "str"
collectgarbage()
print(vals[1000])
print(select("#", unpack({1, 2, 3, 4, 5, 6, 7, 8, 9, 10})))
