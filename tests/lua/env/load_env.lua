-- load, loadstring and loadfile take LuaJIT 2.1's mode and environment arguments
print(load('return x', 'n', 't', {x = 5})())
print(load('return x', 'n', nil, {x = 6})())
print(loadstring('return x', 'n', 't', {x = 7})())
-- loadstring is load: it takes a reader function too
local parts = {"return ", "y"}
local i = 0
print(loadstring(function() i = i + 1 return parts[i] end, "rd", "t", {y = 8})())
-- the chunk sees the table as its environment; globals it sets go there
local env = {}
local f = load('z = 42; return getfenv and "has getfenv" or "no getfenv"', 'n', 't', env)
print(f(), env.z, z)
-- an environment that is not a table is ignored
x = "global x"
print(pcall(load('return x', 'n', 't', 5)))
print(pcall(load('return x', 'n', 't', nil)))
print(pcall(load('return x', 'n', 't', "str")))
-- modes
print(load('return 1', 'n', 'b'))
print(load('return 1', 'n', 'x'))
print(load('return 1', 'n', ''))
print(load('return 1', 'n', 'tb')())
print(load('return 1', 'n', 'bt')())
local dumped = string.dump(function() return 9 end)
print(load(dumped, 'n', 't'))
print(load(dumped, 'n', 'b')())
print(load(dumped, 'n', 'b', {})())
print(pcall(load, 'return 1', 'n', 5))
print(pcall(load, 'return 1', 'n', {}))
print(load(function() return nil end, 'e', 'b'))
print(type(load(function() return nil end, 'e', 't', {})))
print(load('syntax error here', 'n', 't', {}))
-- argument errors
print(pcall(loadstring))
print(pcall(loadstring, {}))
print(pcall(load))
print(pcall(loadstring, 5))
-- loadfile: mode and environment
local name = os.tmpname()
local fh = io.open(name, "w") fh:write("return z") fh:close()
print(loadfile(name, "t", {z = 10})())
print(loadfile(name, "b"))
print(loadfile(name, nil, {z = 11})())
print(pcall(loadfile(name, "t", 3)))
print(pcall(loadfile, name, {}))
os.remove(name)
