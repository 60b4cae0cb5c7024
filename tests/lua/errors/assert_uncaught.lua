-- An uncaught assert failure.
local function check(v) assert(v == 1, "expected 1") end
check(1)
check(2)
