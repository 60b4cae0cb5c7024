local mt = {__gc = function(u) error("in gc") end, __index = function(t, k) return k end}
for i = 1, 100 do local p = newproxy(true) getmetatable(p).__gc = function() x = (x or 0) + 1 end end
collectgarbage() collectgarbage("step", 10)
local w = setmetatable({}, {__mode = "kv"})
for i = 1, 100 do w[{}] = {} end
collectgarbage()
local obj = setmetatable({}, {__add = function(a, b) return 1 end, __concat = function() return "c" end,
  __call = function(self, ...) return ... end, __len = function() return 7 end, __eq = function() return true end})
print(obj + 1, obj .. "x", obj(1, 2), #obj)
