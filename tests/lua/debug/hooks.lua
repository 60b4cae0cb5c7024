-- debug.sethook: line, call/return and count events, as LuaJIT fires them.
local lines = {}
local function f(x)
  local y = x + 1
  return y * 2
end
debug.sethook(function(ev, line) lines[#lines + 1] = ev .. ":" .. tostring(line) end, "l")
local a = f(1)
for i = 1, 2 do
  a = a + i
end
debug.sethook()
print(table.concat(lines, " "))
local calls = {}
debug.sethook(function(ev) local info = debug.getinfo(2, "nS") calls[#calls + 1] = ev .. ":" .. tostring(info.name) .. ":" .. info.what end, "cr")
f(2)
debug.sethook()
print(table.concat(calls, " "))
local n = 0
debug.sethook(function(ev) n = n + 1 end, "", 10)
for i = 1, 100 do end
debug.sethook()
print(n > 5, n < 100)
print(debug.gethook())
-- a hook sees the function that triggered it
local seen
debug.sethook(function(ev, line)
  if not seen then
    local info = debug.getinfo(2, "Sl")
    seen = info.short_src .. ":" .. info.currentline
  end
end, "l")
local z = 1
debug.sethook()
print(seen)
-- line events in a condition
local events = {}
debug.sethook(function(_, l) events[#events + 1] = l end, "l")
if
math.sin(1)
then
  z = 2
else
  z = 3
end
debug.sethook()
print(table.concat(events, " "))
