local function f(n) return 1 + f(n + 1) end
print(pcall(f, 1))
local co = coroutine.wrap(function() return f(1) end)
print(pcall(co))
print(pcall(string.rep, "x", 2^40))
