-- A traceback of more than 22 levels shows the first 11, "...", and the last 10.
local function rec(n) if n == 0 then error("bottom") end return (rec(n - 1)) end
rec(40)
