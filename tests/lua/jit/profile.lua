-- jit.profile: the module, dumpstack's formats and levels, start/stop and the
-- callback's arguments.
local profile = require("jit.profile")
print(package.loaded["jit.profile"] == profile, jit.profile, require("jit.profile") == profile)
local names = {}
for k, v in pairs(profile) do names[#names + 1] = k .. ":" .. tostring(v) end
table.sort(names)
print(table.concat(names, " "))

-- dumpstack: levels from the top (dumpstack itself is level 0 when it dumps the
-- running coroutine), a negative depth lists them the other way round.
local function inner()
  print(profile.dumpstack("l", 3))
  print(profile.dumpstack("f;", 3))
  print(profile.dumpstack("F|", 4))
  print(profile.dumpstack("Z", 4))
  print(profile.dumpstack("lZ;", -3))
  print(profile.dumpstack("pl\n", 2))
  print(profile.dumpstack("fZ;", -5))
  print(profile.dumpstack("l;", -2))
  print(profile.dumpstack("x", 0), profile.dumpstack("x", 1.9), profile.dumpstack("", 3))
  print(profile.dumpstack("lF", -1))
  print(pcall(profile.dumpstack, coroutine.running(), "l ", 2))
  print(pcall(profile.dumpstack))
  print(pcall(profile.dumpstack, "l"))
  print(pcall(profile.dumpstack, "l", "x"))
  print(pcall(profile.dumpstack, 1, 2))
end
local t = { m = function() inner() end }
function g() t.m() end
g()
local co = coroutine.create(function() local x = 1; coroutine.yield() end)
coroutine.resume(co)
print(profile.dumpstack(co, "l;f;F|", 5))
print(profile.dumpstack(co, "l;", -2))
local dead = coroutine.create(function() end)
coroutine.resume(dead)
print(profile.dumpstack(dead, "l", 5) == "")
local wrapped = coroutine.wrap(function(...)
  print(profile.dumpstack("f ", 2))
end)
wrapped()
setmetatable(t, { __index = function(_, k) return profile.dumpstack("f;l", 1) end })
print(t.nothing)
-- Chunk names (not a tail call: the chunk's own frame is level 1).
local src = "local s = require('jit.profile').dumpstack(...) return s"
print(loadstring(src, "=name")("F|l", 2))
print(loadstring(src, "@/x/y.lua")("F|l", 2))
print(loadstring(src, "@/x/y.lua")("pF|pl", 2))
print(loadstring(src)("F|l", 2))

-- start and stop.
print(pcall(profile.start))
print(pcall(profile.start, "f"))
print(pcall(profile.start, {}, print))
print(select("#", profile.stop()), select("#", profile.stop()))

local seen, total = {}, 0
local function cb(thread, samples, vmstate)
  total = total + samples
  seen[#seen + 1] = { type(thread), samples, vmstate, profile.dumpstack(thread, "f", 1) }
end
local function hot()
  local x, deadline = 0, os.clock() + 10
  repeat
    for i = 1, 1e5 do x = x + i % 7 end
  until total >= 3 or os.clock() > deadline
  return x
end
print(select("#", profile.start("i1", cb)))
hot()
profile.stop()
local n = #seen
print(n >= 1, total >= 3)
local ok, inhot = true, false
for _, s in ipairs(seen) do
  ok = ok and s[1] == "thread" and s[2] >= 1 and s[3]:match("^[NICGJ]$") ~= nil
  inhot = inhot or s[4] == "hot"
end
print(ok, inhot)
-- Nothing is delivered after stop.
for i = 1, 3e6 do end
print(#seen == n)
-- A new start replaces the callback; the mode may be nil.
local other = 0
profile.start(nil, function() other = other + 1 end)
profile.start("i1", function() other = other + 1 end)
local deadline = os.clock() + 10
while other == 0 and os.clock() < deadline do end
profile.stop()
print(other > 0)
