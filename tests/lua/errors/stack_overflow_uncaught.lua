-- an uncaught stack overflow: message and the elided traceback
local function r(n) return 1 + r(n) end
r(1)
