-- A loop of metamethod calls must not creep up the stack: each call's frame sits
-- above the caller's top, which must be restored when the metamethod returns
-- (it was not, and 33000 calls ended in "stack overflow"). Native and Lua
-- metamethods, for every continuation kind (value, condition, discarded, concat).
local N = 40000
local lt = { __lt = function(a, b) return true end, __le = rawequal, __eq = rawequal }
local a, b = setmetatable({}, lt), setmetatable({}, lt)
local n = 0
for _ = 1, N do
  if a < b then n = n + 1 end
  if a <= b then n = n + 1 end
  if a == b then n = n + 1 end
end
print("compare", n)
local ar = setmetatable({}, {
  __add = function(x, y) return 1 end,
  __unm = rawlen or function() return 2 end,
  __index = function(t, k) return k end,
  __newindex = function(t, k, v) end,
  __concat = function(x, y) return "c" end,
})
local s, c = 0, ""
for i = 1, N do
  s = s + (ar + i) + ar[i] - i
  ar[i] = i
  c = ar .. "x"
end
print("arith", s, c)
local idx = setmetatable({}, { __index = rawget, __newindex = rawset })
for i = 1, N do
  local _ = idx[i]
  idx.k = i
end
print("native index", rawget(idx, "k"))
