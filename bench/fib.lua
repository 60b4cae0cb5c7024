-- fib: recursive Lua-to-Lua calls (naive doubly recursive Fibonacci).
-- Usage: fib.lua [n]   (default n = 37)
-- small size: 15
local N = tonumber(arg and arg[1]) or 37

local function fib(n)
  if n < 2 then
    return n
  end
  return fib(n - 1) + fib(n - 2)
end

-- A second, non-local-upvalue variant: a global function and a tail-position helper.
function gfib(n, acc)
  if n < 2 then
    return acc + n
  end
  return gfib(n - 2, gfib(n - 1, acc))
end

local a = fib(N)
local b = gfib(N - 4, 0)
print(string.format("fib(%d) = %d", N, a))
print(string.format("gfib(%d) = %d", N - 4, b))
