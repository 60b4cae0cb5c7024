-- repeated keys in table constructors: constant entries take effect first, stored ones after, in source order
local function show(t)
  local keys = {}
  for k in pairs(t) do keys[#keys + 1] = k end
  table.sort(keys, function(a, b) if type(a) ~= type(b) then return type(a) < type(b) end return tostring(a) < tostring(b) end)
  local out = {}
  for _, k in ipairs(keys) do out[#out + 1] = tostring(k) .. "=" .. tostring(t[k]) end
  return table.concat(out, " ") .. " #" .. #t
end
local x, y = 5, nil
local cases = {
  "{x = nil, x = 1}", "{x = 1, x = nil}", "{x = 1, x = 2}", "{[1]=1, [1]=2}", "{1, [1]=2}", "{[1]=2, 1}",
  "{x = y, x = 1}", "{x = 1, x = y}", "{x = x, x = 1}", "{x = 1, x = x}", "{[1] = x, 1}", "{1, [1] = x}",
  "{[1] = y, 1}", "{1, [1] = y}", "{nil, [1] = 2}", "{[1] = 2, nil}", "{[2] = 3, 1, 2}", "{1, 2, [2] = 3}",
  "{x = 1, ['x'] = 2}", "{[true] = 1, [true] = 2}", "{[true] = x, [true] = 1}", "{[true] = 1, [true] = x}",
  "{[1.5] = 1, [1.5] = x}", "{[1.5] = x, [1.5] = 1}", "{x = nil}", "{[1] = nil, 2}", "{f(), [1] = 9}", "{[1] = 9, f()}",
  "{[1] = 9, f(), 7}", "{f(), f()}", "{[2] = 9, f()}", "{x = f(), x = 1}", "{x = 1, x = f()}", "{[300]=1, [300]=x}",
  "{[1e300] = 1, [1e300] = 2}", "{[-0] = 1, [0] = 2}", "{[0] = 1, [-0] = 2}", "{['1'] = 1, [1] = 2}",
  "{x = nil, x = nil}", "{x = 1, x = nil, x = 2}", "{x = nil, x = 1, x = nil}", "{x = y, x = nil}",
  "{x = 1, x = 2, x = y}", "{a = 1, b = 2, a = y, b = 3}", "{[1] = 1, [2] = 2, [1] = y}", "{1, 2, 3, [2] = y}",
  "{[1] = y, [1] = 1}", "{[true] = y, [true] = 1}", "{x = y or 1, x = 2}", "{x = 2, x = y or 1}",
  "{1, 2, [1] = 'a', [2] = 'b', 3}", "{[3] = 'c', 1, 2, 3}", "{[3] = 'c', 1, 2}", "{[3] = y, 1, 2, 3}",
  "{n = 1, [ 'n' ] = y}", "{[2^53] = 1, [2^53] = 2}",
}
local env = {x = x, y = y, f = function() return 'f1', 'f2' end}
for _, c in ipairs(cases) do
  local fn = assert(loadstring("local x, y, f = x, y, f return " .. c))
  setfenv(fn, env)
  print(c, show(fn()))
end
-- a constant nil or NaN key still raises when the constructor runs
print(pcall(loadstring("return {[nil] = 1}")))
print(pcall(loadstring("local n = 0/0 return {[n] = 1, x = 2}")))
print(pcall(loadstring("return {[0/0] = 1}")))
-- string keys with computed values keep constant neighbours
local t = {a = tostring(1), b = 2, a = "const", c = tostring(3)}
print(t.a, t.b, t.c)
