-- and/or/not/comparisons as values in every table constructor position
local a = nil
local b = {}
local t = {[true] = a, [false] = b or 1}
print(t[true], type(t[false]))
local t2 = {[true] = nil, [false] = b or 1}
print(t2[true], type(t2[false]))
local x, y, z = nil, false, 3

local function show(t, n)
  local out = {}
  for i = 1, n do out[#out + 1] = tostring(t[i]) end
  print(table.concat(out, " "))
end

-- positional
show({x or 1, y and 2, z and 3, z or 4, x and 1 or 2, not x, z > 2, z == 3 or 9}, 8)
-- keyed with every kind of constant key
local k = {[true] = x or 1, [false] = y or 2, [1] = z and 3, [1000] = x or 4,
  [0.5] = z or 5, [-1] = y or 6, ["s"] = z and 7 or 8, n = x and 1 or 9, [2^53] = z < 1}
print(k[true], k[false], k[1], k[1000], k[0.5], k[-1], k.s, k.n, k[2^53])
-- computed keys
local kk = {[z] = x or 1, [z + 1] = y or 2, [tostring(z)] = z and 3}
print(kk[3], kk[4], kk["3"])
-- last item (not spread: it is not a call)
show({1, 2, x or 3}, 3)
show({1, 2, z and y}, 3)
show({x or z}, 1)
-- nested constructors
local n = {{x or 1, k = y or 2}, [true] = {[false] = x or 3}, {z and {y or 4}}}
print(n[1][1], n[1].k, n[true][false], n[2][1][1])
-- a long string key (index constant above 255)
local big = {}
for i = 1, 300 do big[i] = "k" .. i end
local src = "local x = ... return {" .. table.concat(big, " = 0, ") .. " = 0, [true] = x or 'ok', k300 = x or 'last'}"
local f = assert(loadstring(src))
local r = f(nil)
print(r[true], r.k300, r.k1)
-- many positional items so that indices pass 255
local parts = {}
for i = 1, 300 do parts[i] = "x or " .. i end
local g = assert(loadstring("local x = ... return {" .. table.concat(parts, ", ") .. "}"))
local r2 = g(nil)
print(#r2, r2[1], r2[256], r2[300])
local r3 = g(7)
print(#r3, r3[1], r3[256], r3[300])
-- values with nested and/or around calls
local function id(...) return ... end
show({id(x) or 1, id(z) and id(y) or 5, (id(1, 2))}, 3)
show({id(x) or id(2, 3)}, 2)
-- comparisons that are true, under keys that need a register
local c = {[2^53] = z > 1, [true] = z >= 3, [false] = z ~= 3, [1000] = not (z > 1)}
print(c[2^53], c[true], c[false], c[1000])
