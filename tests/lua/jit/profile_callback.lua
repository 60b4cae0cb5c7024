-- The profiler callback in Perilune (docs/stdlib-debug-package-jit.md,
-- "jit.profile"): an error in it is raised into the sampled code (LuaJIT ends the
-- process), stop() in it is safe, it runs on a coroutine of its own, a yield in it
-- is an error.
-- test: perilune-only
local profile = require("jit.profile")
local function wait(cond)
  local deadline = os.clock() + 10
  while not cond() and os.clock() < deadline do end
  return cond()
end

profile.start("i1", function() error("from the callback") end)
local ok, e = pcall(wait, function() return false end)
profile.stop()
print(ok, e)

local n = 0
profile.start("i1", function(th)
  n = n + 1
  profile.stop()
  collectgarbage()
  local s = profile.dumpstack(th, "l", 1)
  collectgarbage()
  n = n + #s
end)
print(wait(function() return n > 0 end), n > 1)

local where
local co = coroutine.create(function()
  profile.start("i1", function(th)
    where = where or tostring(profile.dumpstack(th, "l", 1):match("^profile_callback.lua:%d+$") ~= nil)
      .. " " .. tostring(th == coroutine.running()) .. " " .. coroutine.status(th)
  end)
  local function incoroutine() return wait(function() return where end) end
  incoroutine()
  profile.stop()
end)
print(coroutine.resume(co))
print(where)

-- A yield in the callback is an error, as across LuaJIT's lua_pcall of it.
local yields = 0
profile.start("i1", function() yields = yields + 1 coroutine.yield() yields = yields + 100 end)
print(pcall(wait, function() return false end))
profile.stop()
print(yields)

-- Whatever a script puts under the profiler's registry keys is replaced.
local m = 0
profile.start("i1", function() m = m + 1 end)
wait(function() return m > 0 end)
local reg = debug.getregistry()
for _, v in ipairs({ print, coroutine.create(print), string.gmatch("a", "a") }) do
  for k in pairs(reg) do
    if type(k) == "userdata" then reg[k] = v end
  end
  profile.start("i1", function() m = m + 1 end)
  local before = m
  wait(function() return m > before end)
end
profile.stop()
print(m >= 4)
