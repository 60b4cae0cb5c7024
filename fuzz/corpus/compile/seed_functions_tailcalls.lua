-- Proper tail calls run in constant stack space.
local function loop(n, acc)
  if n == 0 then return acc end
  return loop(n - 1, acc + 1)
end
print(loop(1000000, 0))
local is_even, is_odd
function is_even(n) if n == 0 then return true end return is_odd(n - 1) end
function is_odd(n) if n == 0 then return false end return is_even(n - 1) end
print(is_even(1000001), is_odd(1000001))
-- tail call through a method and varargs
local obj = {}
function obj:count(n, ...) if n == 0 then return select("#", ...) end return self:count(n - 1, ...) end
print(obj:count(300000, "a", "b"))
-- tail call to a native function
local function tc() return select("#", 1, 2, 3) end
print(tc())
-- tail calls through __call
local callable = setmetatable({}, {__call = function(self, n) if n == 0 then return "done" end return self(n - 1) end})
print(callable(100000))
-- a non-tail call keeps the frame; a modest depth is fine
local function notail(n) if n == 0 then return 0 end return 1 + notail(n - 1) end
print(notail(5000))
