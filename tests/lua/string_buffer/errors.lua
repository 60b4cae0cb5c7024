-- string.buffer: argument checks and their messages (LuaJIT's wording).
local buffer = require("string.buffer")
local b = buffer.new()

local function try(f, ...)
  local r = { pcall(f, ...) }
  print(r[1], r[2])
end

-- Called as methods: argument numbers count after the receiver.
try(function() b:put({}) end)
try(function() b:put(nil) end)
try(function() b:put("ok", true) end)
try(function() b:put(b) end)
try(function() b:put(setmetatable({}, {__tostring = function() return {} end})) end)
try(function() b:put(setmetatable({}, {__tostring = function() return b end})) end)
try(function() b:get("1") end)
try(function() b:get(-1) end)
try(function() b:get(1, 2^31) end)
try(function() b:get(0/0) end)
try(function() b:skip() end)
try(function() b:skip(-1) end)
try(function() b:skip("2") end)
try(function() b:set() end)
try(function() b:set(12) end)
try(function() b:set(buffer.new()) end)
try(function() b:encode() end)
try(function() b:putf() end)
try(function() b:putf("%d") end)
try(function() b:putf("%d", "x") end)
try(function() b:putf("%y", 1) end)
try(function() b:putf("%s %s", 1, b) end)
try(function() b:decode() end)
-- Called as fields: the receiver is argument 1.
try(function() b.put(1) end)
try(function() b.get() end)
try(function() b.reset("x") end)
try(function() b.tostring({}) end)
try(function() local t = { put = b.put }; t:put("x") end)
-- Called through pcall: no function name.
try(b.put, b, {})
try(b.skip, nil, 1)
try(b.putf, b, "%s", b)
-- Library functions.
try(function() buffer.new(-1) end)
try(function() buffer.new(2^31) end)
try(function() buffer.new(0x7fffff01) end)
try(function() buffer.new("10") end)
try(function() buffer.new(false) end)
try(function() buffer.new(1, 2) end)
try(function() buffer.new(nil, nil) end)
try(function() buffer.new(5, nil) end)
try(function() buffer.new({dict = {1}}) end)
try(function() buffer.new({dict = {"a", "b", {}}}) end)
try(function() buffer.new({metatable = {"x"}}) end)
try(function() buffer.new({metatable = {{}, true}}) end)
print(pcall(buffer.new, {dict = "x", metatable = 5}))
try(function() buffer.encode() end)
try(function() buffer.decode() end)
try(function() buffer.decode(12) end)
try(function() buffer.decode(b) end)
-- Unsupported values.
try(function() buffer.encode(print) end)
try(function() buffer.encode(function() end) end)
try(function() buffer.encode(coroutine.create(print)) end)
try(function() buffer.encode(b) end)
try(function() buffer.encode(newproxy()) end)
try(function() buffer.encode({ 1, { print } }) end)
try(function() b:encode({ k = io.stdout }) end)
-- Depth: 100 nested tables encode, 101 do not; a cycle is too deep too.
local deep = {}
local c = deep
for i = 1, 99 do c[1] = {}; c = c[1] end
print(pcall(function() return #buffer.encode(deep) end))
c[1] = {}
try(function() buffer.encode(deep) end)
local cyc = {}; cyc.self = cyc
try(function() buffer.encode(cyc) end)
-- A failed method leaves the buffer usable.
b:reset():put("still ok")
print(b:tostring())
