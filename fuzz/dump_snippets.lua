-- Functions whose `string.dump` output the `mutate_dump` fuzz target and the
-- `malformed_bytecode` tests mutate (docs/fuzzing.md). Each snippet is one chunk;
-- a line `--@@` separates them. Keep them quick (well under the budget) and varied
-- in the instructions they use.
local s = 0
for i = 1, 10 do s = s + i * 2 - 1 end
for i = 10, 1, -3 do s = s - i / 2 end
return s
--@@
local t = {}
for i = 1, 20 do t[i] = i * i end
local n = 0
for k, v in ipairs(t) do n = n + v % 7 end
for k, v in pairs({a = 1, b = 2, 3}) do n = n + v end
return n, #t
--@@
local i, acc = 0, 1
while i < 10 do i = i + 1; if i == 5 then break end acc = acc * i end
repeat i = i - 1; acc = acc + i until i <= 0
return acc
--@@
local function counter()
  local c = 0
  return function(d) c = c + (d or 1); return c end
end
local a, b = counter(), counter()
a(); a(5); b(2)
return a(), b()
--@@
local function f(...)
  local n = select('#', ...)
  local t = {...}
  return n, #t, ...
end
return f(1, nil, 3), f(), {f(4, 5)}
--@@
local function sum(...)
  local s = 0
  for i = 1, select('#', ...) do s = s + (select(i, ...) or 0) end
  return s
end
return sum(1, 2, 3, sum(4, 5)), sum(unpack({6, 7, 8}))
--@@
local t = { 1, 2.5, "s", x = true, y = false, [10] = "ten", nil, { 1, 2 } }
t.z = t.x and 1 or 2
t[#t + 1] = "last"
return t[1], t.x, t[10], t.z, #t
--@@
local s = "hello"
local r = s .. " " .. "world" .. 1 .. 2.5
r = r:upper():sub(2, -2):rep(2, ",")
local n = 0
for w in r:gmatch("%a+") do n = n + #w end
return r, n, string.format("%5.2f|%d|%s|%q", 3.14159, 42, "x", "a\nb"), r:find("L", 1, true)
--@@
local function fib(n) if n < 2 then return n end return fib(n - 1) + fib(n - 2) end
local function tail(n, acc) if n == 0 then return acc end return tail(n - 1, acc + n) end
return fib(12), tail(100, 0)
--@@
local mt = {
  __add = function(a, b) return a.v + b.v end,
  __index = function(t, k) return k .. "!" end,
  __call = function(self, x) return x * 2 end,
  __eq = function() return true end,
  __lt = function(a, b) return a.v < b.v end,
  __le = function(a, b) return a.v <= b.v end,
  __concat = function(a, b) return "cat" end,
  __len = function() return 99 end,
  __unm = function(a) return -a.v end,
}
local a = setmetatable({v = 1}, mt)
local b = setmetatable({v = 2}, mt)
return a + b, a.foo, a(21), a == b, a < b, a <= b, a .. b, -a
--@@
local ok, err = pcall(function() error("boom") end)
local ok2, err2 = pcall(error, {code = 1})
local ok3, v = xpcall(function() return nil + 1 end, function(m) return "handled: " .. tostring(m) end)
return ok, err, ok2, type(err2), ok3, v
--@@
local co = coroutine.create(function(a, b)
  local c = coroutine.yield(a + b)
  local d, e = coroutine.yield(c * 2)
  return d + e
end)
local _, x = coroutine.resume(co, 1, 2)
local _, y = coroutine.resume(co, 10)
local _, z = coroutine.resume(co, 3, 4)
local gen = coroutine.wrap(function() for i = 1, 3 do coroutine.yield(i) end end)
return x, y, z, gen(), gen(), coroutine.status(co)
--@@
local x, y = 3, 4.5
local r = {}
r[1] = x < y; r[2] = x <= y; r[3] = x > y; r[4] = x >= y
r[5] = x == 3; r[6] = x ~= 3; r[7] = "a" < "b"; r[8] = not x
r[9] = x == nil; r[10] = y ~= false; r[11] = "s" == "s"; r[12] = x ~= "3"
r[13] = x ^ 2; r[14] = x % 2; r[15] = 2 - x; r[16] = 10 / x; r[17] = -y
return unpack(r)
--@@
local i = 1
::top::
i = i + 1
if i < 5 then goto top end
do
  local j = 0
  ::again::
  j = j + 1
  if j < 3 then goto again end
  i = i + j
end
return i
--@@
local fs = {}
for i = 1, 5 do
  local j = i * 10
  fs[i] = function() return i + j end
end
local k = 0
while k < 3 do
  k = k + 1
  local v = k
  fs[#fs + 1] = function() return v end
  if k == 2 then break end
end
local s = 0
for _, f in ipairs(fs) do s = s + f() end
return s
--@@
local t = {}
for i = 1, 30 do t[#t + 1] = tostring(i) end
table.sort(t, function(a, b) return a > b end)
table.insert(t, 1, "first")
table.remove(t)
return table.concat(t, ","), #t, next({}), rawget(t, 1), rawlen and rawlen(t)
--@@
local obj = {n = 0}
function obj:add(k) self.n = self.n + k; return self end
function obj.get(self) return self.n end
obj:add(1):add(2):add(3)
local a = {b = {c = {d = 4}}}
a.b.c.e = a.b.c.d * 2
return obj:get(), a.b.c.e, a["b"].c["d"]
--@@
local function varret(n) if n == 0 then return end return n, varret(n - 1) end
local t = {varret(5)}
local u = {varret(3), varret(2)}
return #t, #u, select('#', varret(4)), (varret(6))
--@@
local up1, up2 = 1, "two"
local function outer()
  local x = up1
  local function mid()
    local y = x + 1
    return function() up1 = up1 + y; up2 = up2 .. y; return up1, up2 end
  end
  return mid()
end
local g = outer()
g()
return g()
--@@
local n = 0
for i = 1, 3 do
  for j = i, 3 do
    for k = j, 3, 2 do
      if (i + j + k) % 2 == 0 then n = n + 1 else n = n - 1 end
    end
  end
end
local w = 0
while true do w = w + 1; if w > 4 then break end end
return n, w
--@@
local s = string.rep("ab", 5)
local r = s:gsub("a", "x")
local r2 = s:gsub("(b)", function(c) return c:upper() end)
local r3 = ("%d-%s"):format(1, "z")
local bytes = {s:byte(1, 4)}
return r, r2, r3, string.char(unpack(bytes)), #s, s:len(), tostring(12.5), tonumber("0x10")
--@@
local t = setmetatable({}, {__newindex = function(t, k, v) rawset(t, k, v * 2) end})
t.a = 1; t[1] = 2; t[2.5] = 3
local p = setmetatable({}, {__index = t})
return t.a, t[1], t[2.5], p.a, p[1], rawequal(t, p)
--@@
local a = {}
for i = 1, 100 do a[i] = i end
local s = 0
for i = #a, 1, -1 do
  if a[i] % 3 == 0 then s = s + a[i] elseif a[i] % 5 == 0 then s = s - 1 else s = s + 0.5 end
end
return s, math.floor(s), math.max(1, 5, 3), math.huge, -math.huge, 0/0 ~= 0/0
--@@
local function f(a, b, c) return a, b, c end
local function g(...) return f(...) end
local function h(...) return ... end
return g(1), g(1, 2, 3, 4), h(), h(nil, nil), (h(7, 8))
--@@
local x = nil
local y = x or "default"
local z = x and x.field or 0
local w = (y == "default") and (z == 0) and "both" or "neither"
local t = {x = x, y = y, [1] = z}
return y, z, w, t.y, t[1], not not w
--@@
local res = {}
local ok, e = pcall(function()
  local t = nil
  return t.x
end)
res[1] = e
ok, e = pcall(function() return #nil end)
res[2] = e
ok, e = pcall(function() return {} < {} end)
res[3] = e
ok, e = pcall(function() local s = "a" .. {} end)
res[4] = e
return unpack(res)
--@@
local t = {10, 20, 30, 40}
local i = 0
local function iter() i = i + 1; if t[i] then return i, t[i] end end
local s = 0
for k, v in iter do s = s + k * v end
for k, v in next, {5, 6} do s = s + v end
return s
--@@
local big = {}
for i = 1, 64 do big["k" .. i] = i end
local n = 0
for k, v in pairs(big) do n = n + v end
big.k1 = nil
collectgarbage()
return n, big.k2, big.k1
--@@
return (function(...)
  local a, b, c = ...
  local d = {...}
  d[#d + 1] = a
  return #d, b, c
end)(1, 2, 3)
