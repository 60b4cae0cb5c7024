-- stdout: print, io.write, io.stdout:write and io.output():write share one buffer, in order
print(io.stdout:setvbuf("full"))
io.write("a", 1, " ")
print("b", 2.5, nil, true)
io.stdout:write("c\n")
io.output():write("d", "\n")
print(io.stdout:setvbuf("line", 100))
io.write("partial ")
print("line")
print(io.stdout:setvbuf("no"))
io.write("e", "\n")
print(io.stdout:setvbuf("full", 8))
for i = 1, 5 do io.write(i, "-") end
print()
print(io.write("x") == true, io.stdout:write("y") == io.stdout)
print(pcall(io.stdout.setvbuf, io.stdout, "big"))
print(pcall(io.write, {}))
print(io.stdout:flush(), io.flush())
-- print converts numbers with __tostring when numbers have a metatable
debug.setmetatable(0, {__tostring = function(n) return "N" .. string.format("%d", n) end})
print(1, 2.5, "s")
debug.setmetatable(0, nil)
print(3)
local orig = tostring
tostring = function(v) return "<" .. orig(v) .. ">" end
print(4, "t")
tostring = orig
print(5)
