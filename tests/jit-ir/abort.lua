-- What the recorder does not handle aborts the trace with a reason, and the loop
-- is penalised; after enough aborts it is blacklisted and runs uncounted. The
-- output of the program is what it is without the JIT.
local t = setmetatable({}, {})
local n = 0
for i = 1, 20 do g = i end                      -- NYI: GSET
for i = 1, 20 do for j = 1, 2 do n = n + j end end  -- inner loop
for i = 1, 20 do if i == 3 then break end end    -- leaving the loop
for i = 1, 20 do t[1] = i end                    -- a table with a metatable
local k = 0
while true do k = k + 1; if k > 10 then break end end
print(g, n, t[1], k)
