-- string.buffer: `..` with buffers, and calls back into Lua from buffer methods.
local buffer = require("string.buffer")
local b = buffer.new():put("B")
local c = buffer.new():put("C")
print(b .. c, b .. "s", "s" .. b, b .. 1.5, 1.5 .. b, "a" .. b .. "c" .. c .. 1)
print(type(b .. ""), #(b .. c), #b, #c)
local cc = setmetatable({}, { __concat = function(x, y)
  return "cat(" .. type(x) .. "," .. type(y) .. ")"
end })
print(b .. cc, cc .. b)
-- Errors for values that cannot be concatenated (temporaries: no variable names).
print(pcall(function() return buffer.new() .. {} end))
print(pcall(function() return {} .. buffer.new() end))
print(pcall(function() return buffer.new() .. nil end))
print(pcall(function() return true .. buffer.new() end))
print(pcall(function() return "x" .. buffer.new() .. {} end))
print(pcall(function() return buffer.new() .. buffer.new():put(1) .. 2 end))
-- A __tostring called by put or putf cannot yield.
local y = setmetatable({}, { __tostring = function() coroutine.yield(1) return "y" end })
print(coroutine.resume(coroutine.create(function() b:put(y) return "done" end)))
print(coroutine.resume(coroutine.create(function() return b:putf("%s", y) end)))
-- Errors raised inside __tostring propagate.
local bad = setmetatable({}, { __tostring = function() error("boom") end })
print(pcall(b.put, b, bad))
print(pcall(b.putf, b, "%s", bad))
print(b:tostring())
-- Buffers inside coroutines.
local co = coroutine.wrap(function()
  local w = buffer.new()
  for i = 1, 3 do w:put(i); coroutine.yield(w:tostring()) end
  return w:get()
end)
print(co(), co(), co(), co())
