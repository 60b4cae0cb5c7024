-- os.exit(status, true) closes the state first: pending finalizers run; output written
-- so far (buffered: stdout is not a terminal here) comes out before theirs
local p = newproxy(true)
getmetatable(p).__gc = function() print("finalizer ran") end
local f = io.tmpfile()
f:write("pending")
io.write("before exit ")
print(io.type(f))
os.exit(3, true)
