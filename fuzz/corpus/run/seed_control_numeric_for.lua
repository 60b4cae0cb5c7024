-- Numeric for: steps, bounds evaluated once, float steps, loop variable is a copy.
for i = 1, 3 do print("up", i) end
for i = 3, 1, -1 do print("down", i) end
for i = 1, 0 do print("never") end
for i = 1, 1 do print("once", i) end
for i = 0, 1, 0.25 do print("float", i) end
for i = 10, 1, -3 do print("step -3", i) end
for i = 1.5, 3 do print("from 1.5", i) end
local n = 3
for i = 1, n do n = 1; print("bound fixed", i) end
for i = 1, 3 do local j = i; i = i * 10; print("copy", j, i) end
local count = 0
for i = 1, 1e6 do count = count + 1 end
print("count", count)
for i = -2, 2 do end
print(pcall(function() for i = 1, "x" do end end))
print(pcall(function() for i = "a", 2 do end end))
print(pcall(function() for i = 1, 2, nil do end end))
for i = "1", "3" do print("string bounds", i, type(i)) end
for i = 2^53 - 2, 2^53 - 1 do print("big", i) end
local inf = 1/0
local k = 0
for i = 1, inf do k = k + 1; if k == 5 then break end end
print("inf bound broke at", k)
for i = 1, 3 do
  for j = 1, 3 do
    if j == 2 then break end
    print("nested", i, j)
  end
end
