-- xpcall: handlers receive the error object; handler errors; results.
local function handler(e) return "handled: " .. tostring(e) end
print(xpcall(function() error("oops") end, handler))
print(xpcall(function() return "ok", 2 end, handler))
print(xpcall(function() error({}) end, function(e) return type(e) end))
print(xpcall(function() local x = nil; return x.y end, handler))
print(xpcall(error, function(e) return "got " .. tostring(e) end))
-- the handler runs before the stack unwinds: it can see the depth
local depth_seen
local function deep(n) if n == 0 then error("bottom") end return deep(n - 1) + 1 end
print(xpcall(function() return deep(5) end, function(e) depth_seen = true; return e end))
print(depth_seen)
-- handler returning several values: only the first is kept
print(xpcall(function() error("x") end, function() return 1, 2, 3 end))
-- an error inside the handler
print(xpcall(function() error("first") end, function(e) error("in handler") end))
-- a non-function handler
print(pcall(xpcall, function() error("z") end, 42))
print(pcall(xpcall, function() return "no error" end, nil))
print(pcall(xpcall))
-- xpcall nested in pcall
print(pcall(function()
  return xpcall(function() error("inner") end, function(e) return "H:" .. e end)
end))
