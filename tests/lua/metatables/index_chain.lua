-- Field lookups through chains of __index tables (the interpreter follows table
-- chains inline and falls back to the general path for functions and loops).
local A = { a = "A.a", shared = "from A" }
local B = setmetatable({ b = "B.b" }, { __index = A })
local C = setmetatable({ c = "C.c", shared = "from C" }, { __index = B })
local obj = setmetatable({}, { __index = C })
print(obj.a, obj.b, obj.c, obj.shared, obj.missing)

-- A function at the end of a chain of tables.
local calls = 0
setmetatable(A, { __index = function(t, k)
  calls = calls + 1
  return "fn:" .. k .. ":" .. tostring(t == A)
end })
print(obj.anything, obj.a, calls)

-- Stored false is found, not skipped.
B.flag = false
print(obj.flag)

-- Replacing __index in the middle of a chain takes effect at once.
getmetatable(C).__index = { b = "new B" }
print(obj.b, obj.a)

-- A loop of __index tables.
local x, y = {}, {}
setmetatable(x, { __index = y })
setmetatable(y, { __index = x })
print(pcall(function() return x.nope end))
