-- NaN: LuaJIT 2.1 prints every NaN as "nan", whatever its sign bit.
local z = 0
local n = z / z
print(n, -n, 0/0, -(0/0), n + 1, n * 0)
print(tostring(n), tostring(-n), n .. "", (-n) .. "")
print(n == n, n ~= n, rawequal(n, n), n < n, n > 0)
local t = {}
print(pcall(function() t[n] = 1 end))
print(t[n], rawget(t, n))
local inf = 1 / 0
print(inf - inf, inf * 0, tonumber("nan"), tonumber("-nan"))
