-- Weak tables: keys, values, both; strings/numbers/booleans are never collected.
local function count(t) local n = 0 for _ in pairs(t) do n = n + 1 end return n end
local wk = setmetatable({}, {__mode = "k"})
local wv = setmetatable({}, {__mode = "v"})
local wkv = setmetatable({}, {__mode = "kv"})
local keep = {}
for i = 1, 10 do
  local obj = {}
  wk[obj] = i
  wv[i] = obj
  wkv[obj] = obj
  if i % 2 == 0 then keep[#keep + 1] = obj end
end
wv.str = "strings stay"
wv.num = 42
wk[1] = {}
wk.key = {}
print(count(wk), count(wv), count(wkv))
collectgarbage()
collectgarbage()
print(count(wk), count(wv), count(wkv))
print(wv.str, wv.num)
keep = nil
collectgarbage()
print(count(wk), count(wv), count(wkv))
-- values reachable only from a weak-key entry's value (ephemeron-like)
local eph = setmetatable({}, {__mode = "k"})
do
  local k = {}
  eph[k] = {ref = k}
end
collectgarbage()
print("ephemeron entries", count(eph))
-- functions and coroutines as weak values
local wf = setmetatable({}, {__mode = "v"})
wf[1] = function() end
wf[2] = coroutine.create(function() end)
wf[3] = print
collectgarbage()
print(wf[1], wf[2], wf[3] == print)
-- changing __mode after creation
local later = setmetatable({}, {})
later[1] = {}
getmetatable(later).__mode = "v"
collectgarbage()
print(later[1])
