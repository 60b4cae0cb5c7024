-- debug.getlocal/setlocal: named locals, temporaries, varargs, function params, threads
local function dump(level)
  local i = 1
  while true do
    local n, v = debug.getlocal(level + 1, i)
    if not n or n == "(*temporary)" then break end
    print(i, n, v)
    i = i + 1
  end
  for i = -1, -10, -1 do
    local n, v = debug.getlocal(level + 1, i)
    if not n then print(i, n) break end
    print(i, n, v)
  end
end
local function f(a, b, ...)
  local x = 10
  do local y = 20 end
  local z = a + b
  dump(1)
  return x
end
f(1, 2, "va1", "va2")
f(1, 2)
print(debug.getlocal(f, 1), debug.getlocal(f, 2), debug.getlocal(f, 3), debug.getlocal(f, 0))
print(debug.getlocal(print, 1))
print(pcall(debug.getlocal, 50, 1))
print(pcall(debug.getlocal, 1, 100))
print(pcall(debug.getlocal, 1, 0))
print(pcall(debug.getlocal, {}, 1))
print(pcall(debug.getlocal, 1))
print(pcall(debug.getlocal))
print(pcall(debug.getlocal, 1.5, "x"))

local function s(a)
  local b = 2
  print(debug.setlocal(1, 1, "A"), debug.setlocal(1, 2, "B"), debug.setlocal(1, 10, "C"))
  print(a, b)
end
s(1)
print(pcall(debug.setlocal, 50, 1, 1))
print(pcall(debug.setlocal, 1, 1))
print(pcall(debug.setlocal, {}, 1, 1))
local function vs(...)
  print(debug.setlocal(1, -1, "new"), debug.setlocal(1, -3, "x"))
  print(...)
end
vs(1, 2)

local function loops()
  for i = 1, 1 do
    for k, v in ipairs({"x"}) do
      local j = 1
      local names = {}
      while true do
        local n = debug.getlocal(1, j)
        if not n then break end
        if n ~= "(*temporary)" then names[#names + 1] = n end
        j = j + 1
      end
      print(table.concat(names, " "))
    end
  end
end
loops()

local co = coroutine.create(function(p) local q = p * 2; coroutine.yield() end)
coroutine.resume(co, 4)
print(debug.getlocal(co, 1, 1), debug.getlocal(co, 1, 2))
print(debug.getlocal(co, 0, 1))
print(pcall(debug.getlocal, co, 5, 1))
print(debug.setlocal(co, 1, 2, 99), debug.getlocal(co, 1, 2))
print(pcall(debug.setlocal, co, 5, 1, 1))
