-- test: perilune-only
-- An error in a finalizer does not propagate into the code that happened to run
-- the collection (DESIGN.md, invariant 6): the command reports it on stderr as
-- `ERROR in finalizer: <message>` (`?` for a non-string error object) and the script
-- carries on, as LuaJIT v2.1 does since its commit 1c279127. The LuaJIT 2.1.0-beta3
-- that Debian ships still rethrows it from collectgarbage(), so this script is not
-- run differentially; its expectations are hand-written.
local p = newproxy(true)
getmetatable(p).__gc = function() error("error in finalizer") end
p = nil
print(pcall(collectgarbage))
print(pcall(collectgarbage, "collect"))
local ran = false
local q = newproxy(true)
getmetatable(q).__gc = function() ran = true end
q = nil
collectgarbage()
print("later finalizer ran", ran)
local bad = newproxy(true)
getmetatable(bad).__gc = function() error({}) end
bad = nil
collectgarbage()
print("still running")
