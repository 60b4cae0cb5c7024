-- gcstress: the collector under load (weak-keyed and weak-valued caches, ephemeron-
-- like tables, userdata finalizers via newproxy/__gc, and explicit full collections).
-- Usage: gcstress.lua [n]   (default 450000)
-- small size: 5000
local N = tonumber(arg and arg[1]) or 450000

-- Objects with finalizers: newproxy in Lua 5.1/LuaJIT, a table with __gc elsewhere.
local finalized = 0
local make_finalizable
if newproxy then
  local proto = newproxy(true)
  getmetatable(proto).__gc = function()
    finalized = finalized + 1
  end
  make_finalizable = function()
    return newproxy(proto)
  end
else
  local mt = {
    __gc = function()
      finalized = finalized + 1
    end,
  }
  make_finalizable = function()
    return setmetatable({}, mt)
  end
end

-- 1: finalizable objects, most of them garbage right away, some kept alive
local keep = {}
local created = 0
for i = 1, N do
  local p = make_finalizable()
  created = created + 1
  if i % 100 == 0 then
    keep[#keep + 1] = p
  end
end
collectgarbage("collect")
collectgarbage("collect")
print(string.format("created %d kept %d finalized %d", created, #keep, finalized))
keep = nil
collectgarbage("collect")
collectgarbage("collect")
print(string.format("after release finalized %d", finalized))

-- 2: a weak-valued cache: entries disappear when nothing else holds the value
local cache = setmetatable({}, { __mode = "v" })
local strong = {}
for i = 1, N do
  local v = { i }
  cache[i] = v
  if i % 7 == 0 then
    strong[#strong + 1] = v
  end
end
collectgarbage("collect")
local live = 0
for _, v in pairs(cache) do
  live = live + 1
end
print(string.format("weak values live %d strong %d", live, #strong))

-- 3: weak keys: per-object side data that dies with the object
local side = setmetatable({}, { __mode = "k" })
local objs = {}
for i = 1, N do
  local o = {}
  side[o] = { data = i }
  if i % 5 == 0 then
    objs[#objs + 1] = o
  end
end
collectgarbage("collect")
local lk, sum = 0, 0
for k, v in pairs(side) do
  lk = lk + 1
  sum = sum + v.data
end
print(string.format("weak keys live %d sum %d", lk, sum))

-- 4: churn: many rounds of building and dropping linked structures and weak tables,
-- with finalizable objects mixed in, under the automatic collector only
local before = finalized
local rounds = math.floor(N / 1000)
local survivors = 0
for r = 1, rounds do
  local list = nil
  local w = setmetatable({}, { __mode = "kv" })
  for i = 1, 1000 do
    list = { next = list, value = i, tag = "r" .. r }
    if i % 50 == 0 then
      w[list] = make_finalizable()
    end
  end
  local n = 0
  while list do
    n = n + 1
    list = list.next
  end
  survivors = survivors + n
end
collectgarbage("collect")
collectgarbage("collect")
print(string.format("churn rounds %d nodes %d finalized %d", rounds, survivors, finalized - before))
