-- stack overflow depth of vararg and pcall recursion: LuaJIT's vararg frame keeps its
-- arguments below a second copy of the function and frame link (2 slots), so these
-- recursions stop where LuaJIT's do; depths printed in hundreds (LuaJIT's own depth
-- varies by a frame or two with -joff)
local depth = 0
local function report(name, ok) print(name, ok, math.floor(depth / 100)) end
local function v0(...) depth = depth + 1 return 1 + v0(...) end
depth = 0 report("v0", pcall(v0))
local function v1(n, ...) depth = n return 1 + v1(n + 1, ...) end
depth = 0 report("v1", pcall(v1, 1))
depth = 0 report("v1 4 extra", pcall(v1, 1, 1, 2, 3, 4))
-- fewer arguments than fixed parameters
local function v3(a, b, c, d, e, ...) depth = depth + 1 return 1 + v3() end
depth = 0 report("v3", pcall(v3))
local function v4(a, ...) depth = depth + 1 return 1 + v4() end
depth = 0 report("v4", pcall(v4))
local function v5(a, b, ...) depth = depth + 1 return 1 + v5(1) end
depth = 0 report("v5", pcall(v5))
local function v6(...) depth = depth + 1 local a, b = ... return 1 + v6(a, b, 3) end
depth = 0 report("v6", pcall(v6))
-- through pcall and xpcall
local function p1(n) depth = n local ok, e = pcall(p1, n + 1) if not ok then error(e, 0) end end
depth = 0 report("p1", pcall(p1, 1))
local function p3() depth = depth + 1 pcall(p3) end
depth = 0 report("p3", pcall(p3))
local function x1()
  depth = depth + 1
  local ok, e = xpcall(x1, function(m) return m end)
  if not ok then error(e, 0) end
end
depth = 0 report("x1", pcall(x1))
local function pv(...) depth = depth + 1 local ok, e = pcall(pv, ...) if not ok then error(e, 0) end end
depth = 0 report("pv", pcall(pv))
local function pt() depth = depth + 1 return pcall(pt) end
depth = 0 report("pt", pcall(pt))
-- varargs still read right after deep recursion, and the stack is usable again
local function count(n, ...) if n == 0 then return select('#', ...), ... end return count(n - 1, ...) end
print(count(100, 1, nil, 3))
local function nest(n, ...) if n == 0 then return ... end return (nest(n - 1, n, ...)) end
print(nest(50, "x"))
depth = 0 report("v1 again", pcall(v1, 1))
