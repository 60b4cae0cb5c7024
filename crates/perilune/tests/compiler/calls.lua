local function f(...) return ... end
local function g(a, b, ...) local x, y = ... ; return select('#', ...), a, b end
f()
f(1, 2, f())
f(...)
local t = {f(), f(), ...}
local s = f"str" .. f{1, 2}
print((f(1, 2)))
return f(g(1))
