-- error with level 0 carries no position.
local function f() error("no position", 0) end
f()
