-- debug.getinfo: fields, option subsets, levels, functions, threads, names, errors
local function keys(t)
  local ks = {}
  for k in pairs(t) do ks[#ks + 1] = k end
  table.sort(ks)
  return ks
end
local function show(label, t)
  if t == nil then print(label, "nil") return end
  local out = {}
  for _, k in ipairs(keys(t)) do
    local v = t[k]
    if k == "activelines" then
      v = "{" .. table.concat(keys(v), ",") .. "}"
    elseif k == "func" then
      v = type(v)
    end
    out[#out + 1] = k .. "=" .. tostring(v)
  end
  print(label, table.concat(out, " "))
end

local function f(a, b)
  local c = 3
  show("level1", debug.getinfo(1))
  show("level2", debug.getinfo(2, "nSl"))
  return c
end
f()
show("lua fn", debug.getinfo(f))
show("lines", debug.getinfo(f, "L"))
show("S", debug.getinfo(f, "S"))
show("u", debug.getinfo(f, "u"))
show("C fn S", debug.getinfo(print, "Sl"))
show("C fn L", debug.getinfo(print, "L"))
show("main", debug.getinfo(1, "Sl"))
show("out of range", debug.getinfo(100))
show("negative", debug.getinfo(-1))
show("string level", debug.getinfo("1", "l"))
show("empty opts", debug.getinfo(1, ""))
print(debug.getinfo(1, "f").func == nil, debug.getinfo(f, "f").func == f)
print(pcall(debug.getinfo, 1, "x"))
print(pcall(debug.getinfo, 1, ">S"))
print(pcall(debug.getinfo, {}))
print(pcall(debug.getinfo))
print(debug.getinfo(100, "x"))

-- names from the calling instruction
local t = {}
function t.m(self) return debug.getinfo(1, "n") end
show("method", t:m())
show("field", t.m())
local g = t.m
show("local", g())
function gg() return debug.getinfo(1, "n") end
show("global", gg())
local up = gg
local function viaup() return up() end
show("upvalue", (viaup()))
show("pcall'd", select(2, pcall(gg)))
for _ in function() show("generator", debug.getinfo(1, "n")) end do end
local mt = {}
mt.__index = function() show("index", debug.getinfo(1, "n")) end
mt.__add = function() show("add", debug.getinfo(1, "n")) return 0 end
mt.__concat = function() show("concat", debug.getinfo(1, "n")) return "" end
mt.__eq = function() show("eq", debug.getinfo(1, "n")) return true end
mt.__lt = function() show("lt", debug.getinfo(1, "n")) return true end
mt.__le = function() show("le", debug.getinfo(1, "n")) return true end
mt.__newindex = function() show("newindex", debug.getinfo(1, "n")) end
mt.__call = function() show("call", debug.getinfo(1, "n")) end
local a, b = setmetatable({}, mt), setmetatable({}, mt)
local _ = a.x
_ = a + 1
_ = a .. "s"
_ = a == b
_ = a < b
_ = a <= b
a.y = 1
a()

-- loaded chunks
local chunk = assert(loadstring("local a = 1\nlocal b = 2\n\nreturn debug.getinfo(1, 'SlL')"))
show("chunk", chunk())
show("named chunk", debug.getinfo(assert(loadstring("return 1", "=name")), "S"))

-- threads
local co = coroutine.create(function(x) local y = x; coroutine.yield(y) end)
coroutine.resume(co, 1)
show("co 0", debug.getinfo(co, 0, "nSl"))
show("co 1", debug.getinfo(co, 1, "Sl"))
show("co 2", debug.getinfo(co, 2))
show("co fn", debug.getinfo(co, print, "S"))
print(pcall(debug.getinfo, co))
print(pcall(debug.getinfo, co, 1, "q"))
show("fresh co", debug.getinfo(coroutine.create(print), 0))
