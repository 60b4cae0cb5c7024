-- Upvalue reads, closed (`scale`, from a function that returned) and open
-- (`bias`, a local of the running outer function).
local function make(scale)
  return function(n)
    local s = 0
    for i = 1, n do s = s + i * scale end
    return s
  end
end
local f = make(3)
print(f(100))
local bias = 0.5
local function g()
  local s = 0
  for i = 1, 100 do s = s + bias end
  return s
end
print(g())
