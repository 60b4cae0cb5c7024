-- Generic for: stateless and stateful iterators, closures, extra values.
local function range(n)
  local i = 0
  return function() i = i + 1; if i <= n then return i end end
end
for v in range(3) do print("range", v) end
local function iter(state, ctl)
  if ctl < state then return ctl + 1, ctl * ctl end
end
for a, b in iter, 3, 0 do print("stateless", a, b) end
for k, v, extra in function(_, c) if not c then return 1, "v", "x" end end do
  print("three vars", k, v, extra)
end
local t = {}
for i = 1, 5 do t[i] = i * i end
local sum = 0
for _, v in ipairs(t) do sum = sum + v end
print("sum", sum)
for i, v in ipairs({"only"}) do print(i, v) end
-- iterator returning nil first ends immediately
for x in function() return nil end do print("never") end
-- break out of a generic for
for i, v in ipairs({1, 2, 3, 4}) do if v == 3 then break end print("before break", v) end
-- callable table as iterator
local callable = setmetatable({n = 0}, {__call = function(self) self.n = self.n + 1; if self.n <= 2 then return self.n end end})
for v in callable do print("callable iter", v) end
print(pcall(function() for x in 42 do end end))
print(pcall(function() for x in nil do end end))
