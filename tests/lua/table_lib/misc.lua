-- table.maxn, getn, foreach, foreachi, move, and LuaJIT's table.new/table.clear.
print(table.maxn({}), table.maxn({1, 2, 3}), table.maxn({1, 2, [10] = 3}))
print(table.maxn({[1.5] = true}), table.maxn({[-3] = true}), table.maxn({x = 1, [2] = 1}))
print(table.maxn({[2^40] = 1, 1}), table.maxn({[1/0] = 1}))
print(pcall(table.maxn), pcall(table.maxn, 1))
print(table.getn({}), table.getn({1, 2, 3}), table.getn({n = 5}))
print(pcall(table.getn))
print(pcall(table.getn, "x"))
-- foreachi: every index up to #t; a non-nil result stops it and is returned.
print(table.foreachi({"a", "b", "c"}, function(i, v) print("i", i, v) end))
print(table.foreachi({"a", "b", "c"}, function(i, v) if v == "b" then return i * 10, "ignored" end end))
print(select("#", table.foreachi({}, print)))
-- foreach over a sequence visits it in order; results stop it too.
table.foreach({10, 20}, print)
print(table.foreach({x = 1}, function(k, v) return k .. "=" .. v end))
local keys = {}
table.foreach({a = 1, b = 2, c = 3, 4}, function(k) keys[#keys + 1] = tostring(k) end)
table.sort(keys)
print(table.concat(keys, " "))
print(pcall(table.foreach, {}, nil))
print(pcall(table.foreachi, {1}))
print(pcall(table.foreachi, {1}, function() error("stop") end))
-- move
local function show(t, lo, hi)
  local out = {}
  for i = lo, hi do out[#out + 1] = tostring(rawget(t, i)) end
  print(table.concat(out, " "))
end
local a = {1, 2, 3, 4, 5}
show(table.move(a, 1, 3, 3), 1, 6)
a = {1, 2, 3, 4, 5}
show(table.move(a, 3, 5, 1), 1, 6)
a = {1, 2, 3}
local b = {}
print(table.move(a, 1, 3, 2, b) == b)
show(b, 1, 4)
print(table.move(a, 2, 1, 5) == a, a[5])
show(table.move({10, 20, 30, 40}, 1.5, 3, 1), 1, 4)
show(table.move({10, 20, 30, 40}, 1, 2.5, 3.7), 1, 4)
show(table.move({10, 20, 30, 40}, "2", "3", "1"), 1, 4)
print(pcall(table.move, {}, 1, 2))
print(pcall(table.move, {}, 1, 2, 3, 4))
print(pcall(table.move))
-- table.new / table.clear (LuaJIT loads them with require)
local new = table.new or require("table.new")
local clear = table.clear or require("table.clear")
local n = new(10, 5)
print(type(n), #n, next(n))
n[1], n.x = 1, 2
print(#n, n.x)
local c = {1, 2, 3, x = 1, y = 2}
clear(c)
print(#c, next(c))
c[5] = "again"
print(c[5], #c)
print(select("#", clear({})))
print(pcall(new))
print(pcall(new, 1))
print(pcall(clear))
print(pcall(clear, 1))
