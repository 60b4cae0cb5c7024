-- math.ceil of x in (-1, -0.5) is +0 in LuaJIT (its SSE rounding adds 1 to -1), of
-- -0.5 and of x in (-0.5, 0) -0; floor, modf and fmod signs around zero.
local function s(v)
  if v ~= v then return "nan" end
  return string.format("%.17g", v)
end
local vals = {
  -0.0, 0.0, -0.25, -0.5, -0.5000000000000001, -0.49999999999999994, -0.75, -0.9,
  -0.999, -0.9999999999999999, -1, -1.5, -1e-300, -5e-324, 0.25, 0.5, 0.75, 1e-300,
  5e-324, 1.5, -2.5, 2^52 + 0.5, -2^52 - 0.5, 2^53, -2^53, 1/0, -1/0, 0/0,
  4503599627370495.5, -4503599627370495.5, 2^31 + 0.5, -2^31 - 0.5, 1e300, -1e300,
}
for _, v in ipairs(vals) do
  local ip, fp = math.modf(v)
  print(s(v), s(math.ceil(v)), s(math.floor(v)), s(ip), s(fp), s(math.fmod(v, 1)),
    s(math.fmod(v, -1)), s(math.fmod(v, 0.3)), s(math.fmod(v, 1/0)), s(math.fmod(v, 0)))
end
-- As the generated programs show them (%.14g): ceil gives 0 in (-1, -0.5).
print(string.format("%.14g %.14g %.14g %.14g", math.ceil(-0.5), math.ceil(-0.75),
  math.ceil(-0.25), math.ceil(-0.9)))
print(math.ceil(-0.5), math.ceil(-0.75), math.ceil(-0.25), math.ceil(-0.9), math.ceil("-0.6"))
local pairs_ = {
  {5, 0}, {-5, 0}, {0, 0}, {-0.0, 1}, {-0.0, -1}, {-6, 4}, {6, -4}, {-6, -4},
  {1, 1/0}, {-1, 1/0}, {1/0, 1}, {-1/0, 2}, {0/0, 1}, {1, 0/0}, {-4, 2}, {4, -2},
  {-4, -2}, {2^53, 3}, {-2^53, 3}, {5.5, 2}, {-5.5, 2}, {3, 2^60}, {7, 2.5},
  {-7, 2.5}, {2^31, 3}, {-2^31, 3}, {2^31 - 1, -7}, {-(2^31), -1},
}
for _, p in ipairs(pairs_) do
  print("fmod", s(p[1]), s(p[2]), s(math.fmod(p[1], p[2])))
end
