-- os.exit flushes buffered files and stdout before leaving with the status
local name = os.tmpname()
local f = io.open(name, "w")
local g = io.open(name)
os.remove(name) -- the open handles keep the file until the process ends
f:write("buffered in f")
io.write("stdout before exit\n")
print(("%q"):format(g:read("*a")))
g:close()
print(pcall(os.exit, "x"))
print(pcall(os.exit, {}))
io.stdout:write("partial line, no newline")
os.exit(3)
