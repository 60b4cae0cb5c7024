-- Tail calls into builtins replace the calling frame, as in LuaJIT.
local function viapcall(f, ...) return pcall(f, ...) end
print(viapcall(function(a, b) return a + b end, 1, 2))
print(viapcall(error, "plain"))
local function viaxpcall() return xpcall(function() error("inner") end, function(e) return "H:" .. e end) end
print(pcall(viaxpcall))
local function sel(...) return select("#", ...) end
print(sel(1, nil, 3))
local function tailerr() return error("from tail") end
print(pcall(tailerr))
local function tailtostring(v) return tostring(v) end
print(tailtostring(12), tailtostring(nil))
-- a tail call through __call
local callable = setmetatable({}, {__call = function(self, x) return "called", x end})
local function tc(x) return callable(x) end
print(tc(5))
-- deep tail recursion through pcall keeps working
local function count(n) if n == 0 then return "bottom" end return count(n - 1) end
print(pcall(count, 100000))
-- yields from tail-called natives
local co = coroutine.wrap(function(a)
  local function y(v) return coroutine.yield(v) end
  local b = y(a + 1)
  local c = y(b * 2)
  return "end", c
end)
print(co(1))
print(co(10))
print(co("last"))
