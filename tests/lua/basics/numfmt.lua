-- How numbers print (%.14g) and convert to strings.
local values = {
  0, 1, -1, 10, 100, 1000000, 1e14, 1e15, 1e16, 1e17, 123456789012, 2^31, 2^32, -2^31,
  0.5, 0.25, 0.1, 0.3, 1/3, 2/3, 3.14159265358979, 1e-5, 1e-4, 0.0001234, 1e100, 1e-100,
  123.456, -123.456, 99999999999999, 999999999999999, 9999999999999999,
  1.5e300, 2^-1074, 2^1023, 255/256, 1e21, 1e22,
}
for i = 1, #values do
  local v = values[i]
  print(i, v, tostring(v), v .. "", -v)
end
print(1/0, -1/0, tostring(1/0), (1/0) .. "")
print(-0, 0 * -1, tostring(-0.0))
local nan = 0/0
print(nan ~= nan, nan == nan, type(nan))
print(3 == 3.0, tostring(3) == tostring(3.0), 2^53 == 2^53 + 1)
