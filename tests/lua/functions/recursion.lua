-- Unbounded recursion ends with a catchable "stack overflow" error.
local function rec(n) return 1 + rec(n + 1) end
local ok, err = pcall(rec, 1)
print(ok, err)
local depth = 0
local function rec2() depth = depth + 1; rec2(); end
print(pcall(rec2))
print(depth > 1000)
-- the state is usable afterwards, and again
print(pcall(rec, 1))
local function fine(n) if n == 0 then return "ok" end return (fine(n - 1)) end
print(fine(1000))
-- overflow inside a metamethod
local t = setmetatable({}, {})
getmetatable(t).__index = function(tt, k) return tt[k] end
local ok2, err2 = pcall(function() return t.x end)
print(ok2, err2)
-- overflow through pcall frames
local function viapcall() return pcall(viapcall) end
local r = {viapcall()}
print(r[1], r[#r - 1], r[#r], #r > 100)
