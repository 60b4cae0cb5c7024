-- Closures and upvalues: counters, shared upvalues, loop-created closures.
local function counter()
  local n = 0
  return function() n = n + 1; return n end
end
local c1, c2 = counter(), counter()
print(c1(), c1(), c1(), c2(), c1())
-- two closures sharing one upvalue
local function pair()
  local v = 0
  local function get() return v end
  local function set(x) v = x end
  return get, set
end
local get, set = pair()
set(42)
print(get())
set("changed")
print(get())
-- upvalue changes are seen while the variable is still on the stack
local shared = 1
local function read() return shared end
shared = 2
print(read())
-- each loop iteration gets a fresh local
local fns = {}
for i = 1, 3 do fns[i] = function() return i end end
print(fns[1](), fns[2](), fns[3]())
local ws = {}
local j = 1
while j <= 3 do
  local k = j
  ws[j] = function() k = k + 10; return k end
  j = j + 1
end
print(ws[1](), ws[1](), ws[2](), ws[3]())
-- closures in a repeat loop capturing a local used in until
local rs = {}
local m = 0
repeat
  local mm = m
  rs[#rs + 1] = function() return mm end
  m = m + 1
until mm >= 2
print(#rs, rs[1](), rs[2](), rs[3]())
-- nested closures three levels deep
local function outer()
  local a = "a"
  return function()
    local b = "b"
    return function()
      a = a .. "!"
      return a .. b
    end
  end
end
local inner = outer()()
print(inner(), inner())
-- closure over a for-in loop variable
local t = {10, 20, 30}
local gs = {}
for idx, val in ipairs(t) do gs[idx] = function() return idx * val end end
print(gs[1](), gs[2](), gs[3]())
-- closures created in a loop share a variable declared outside it
local total = 0
local adders = {}
for i = 1, 3 do adders[i] = function() total = total + i end end
for i = 1, 3 do adders[i]() end
print(total)
-- recursive local function
local function fact(n) if n <= 1 then return 1 end return n * fact(n - 1) end
print(fact(10), fact(20))
local fib
fib = function(n) if n < 2 then return n end return fib(n - 1) + fib(n - 2) end
print(fib(20))
