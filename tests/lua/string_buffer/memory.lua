-- string.buffer: buffer space is counted by the collector and given back by free,
-- reset keeps it, and dead buffers are collected with their space.
local buffer = require("string.buffer")
local function kb() collectgarbage(); collectgarbage(); return collectgarbage("count") end
local base = kb()
local b = buffer.new()
b:put(string.rep("x", 1000000))
local s = nil
print(kb() - base > 900)
b:reset()
print(kb() - base > 900, #b)
b:free()
print(kb() - base < 100, #b)
-- A preallocated buffer holds its space before any data is written.
local p = buffer.new(2000000)
print(kb() - base > 1900, #p)
p = nil
print(kb() - base < 100)
-- Many buffers dropped: all space comes back.
for i = 1, 200 do
  local t = buffer.new():put(string.rep("y", 10000))
  t:get(5000)
end
print(kb() - base < 100)
-- set() references the string instead of copying it.
local big = string.rep("z", 1000000)
local before = kb()
local r = buffer.new():set(big)
print(kb() - before < 100, #r)
r:put("!")
print(kb() - before > 900, #r)
-- Resurrected by a finalizer order: a buffer reachable from a dead object's
-- __gc still works.
do
  local keep = buffer.new():put("kept")
  local proxy = newproxy(true)
  getmetatable(proxy).__gc = function() print("gc sees", keep:tostring()) end
end
collectgarbage()
collectgarbage()
