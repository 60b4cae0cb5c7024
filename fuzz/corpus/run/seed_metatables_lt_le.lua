-- __lt and __le, including 5.1's fallback of a <= b to not (b < a).
local mt = {}
mt.__lt = function(a, b) return a.v < b.v end
local function n(v) return setmetatable({v = v}, mt) end
local one, two = n(1), n(2)
print(one < two, two < one, one > two, two > one)
print(pcall(function() return one <= two end))
mt.__le = function(a, b) return a.v <= b.v end
print(one <= two, two <= one, one >= two, one <= n(1))
local only_lt = {__lt = function(a, b) return a.v < b.v end}
local a, b = setmetatable({v = 1}, only_lt), setmetatable({v = 2}, only_lt)
print(a <= b, b <= a, a >= b, a <= setmetatable({v = 1}, only_lt))
local log = {}
local rec = {
  __lt = function(x, y) log[#log + 1] = "lt(" .. x.n .. "," .. y.n .. ")"; return true end,
}
local x, y = setmetatable({n = "x"}, rec), setmetatable({n = "y"}, rec)
local _ = x <= y
local _ = x > y
local _ = x >= y
print(table_concat_missing == nil, #log, log[1], log[2], log[3])
print(pcall(function() return one < 1 end))
print(pcall(function() return 1 < one end))
local diff1 = setmetatable({v = 1}, {__lt = function() return true end})
local diff2 = setmetatable({v = 2}, {__lt = function() return true end})
print(pcall(function() return diff1 < diff2 end))
local r = setmetatable({}, {__lt = function() return 1 end, __le = function() return nil end})
local r2 = setmetatable({}, getmetatable(r))
print(r < r2, r <= r2)
