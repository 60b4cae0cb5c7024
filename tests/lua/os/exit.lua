-- os.exit flushes buffered files and stdout before leaving with the status
local name = os.tmpname()
local f = io.open(name, "w")
f:write("written before exit")
io.write("stdout before exit\n")
local g = io.open(name)
print(("%q"):format(g:read("*a")))
g:close()
if arg and arg[1] == "child" then os.exit(7) end
print(pcall(os.exit, "x"))
print(pcall(os.exit, {}))
io.stdout:write("partial line, no newline")
os.exit(3)
