-- next with a key that is not in the table: LuaJIT's message has no position
print(pcall(next, {}, "nokey"))
print(pcall(next, {a = 1}, 1.5))
print(pcall(function() return next({}, "x") end))
print(pcall(function() local a = next({}, "x") return a end))
local t = {a = 1}
for k in pairs(t) do t[k] = nil end
print(next(t))
next({}, "nokey")
