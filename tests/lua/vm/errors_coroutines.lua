-- error values and levels
local function lvl(n) error("at level " .. n, n) end
local function caller(n) lvl(n) end
for n = 0, 3 do print(pcall(caller, n)) end
print(pcall(error, setmetatable({}, {__tostring = function() return "custom" end})))
print(select(2, pcall(error)))
print(pcall(error, nil))
print(pcall(error, 42, 2))
-- xpcall with traceback handler
print(xpcall(function() error("E") end, function(m) return "handled: " .. m end))
print(xpcall(function(...) return select('#', ...) end, print, 1, 2, 3))
-- nested coroutines
local function gen(n)
  return coroutine.wrap(function() for i = 1, n do coroutine.yield(i) end end)
end
local outer = coroutine.wrap(function()
  for v in gen(3) do coroutine.yield(v * 10) end
  return "done"
end)
print(outer(), outer(), outer(), outer())
print(pcall(outer))
local co = coroutine.create(function(...) print("start", ...) local r = {coroutine.yield(1, 2)} print("resumed", unpack(r)) error("boom") end)
print(coroutine.resume(co, "a", "b"))
print(coroutine.resume(co, "x", "y", "z"))
print(coroutine.status(co), coroutine.resume(co))
-- yield across pcall boundaries inside coroutines
local co2 = coroutine.create(function()
  local ok, err = pcall(function()
    local v = coroutine.yield("in pcall")
    error("after " .. v)
  end)
  coroutine.yield(ok, err)
  return "end"
end)
print(coroutine.resume(co2))
print(coroutine.resume(co2, "resume"))
print(coroutine.resume(co2))
print(coroutine.resume(co2))
-- coroutine.running inside, wrap errors
local w = coroutine.wrap(function() error({code = 1}) end)
local ok, e = pcall(w)
print(ok, type(e), e.code)
-- table.sort comparator yield
print(pcall(coroutine.wrap(function() table.sort({3, 2, 1}, function(a, b) coroutine.yield() return a < b end) end)))
-- metamethod __call chains and __index depth
local chain = {}
for k = 1, 50 do chain = setmetatable({}, {__index = chain}) end
print(chain.missing)
local deep = setmetatable({}, {})
getmetatable(deep).__index = deep
print(pcall(function() return deep.x end))
-- tostring of special values
print(tostring(nil), tostring(true), tostring(-0), tostring(1e15), tostring(1e16), tostring(0.1))
print(string.format("%d %s %5.1f", 3, "x", 2.25), ("%g"):format(1e20))
