local a
local b
