-- Local scoping: shadowing, blocks, globals vs locals.
x = "global"
local x = "local"
print(x, _G.x)
do
  local x = "inner"
  print(x)
  do
    local x = x .. "-nested"
    print(x)
  end
  print(x)
end
print(x)
local a = 1
local a = a + 1
print(a)
local function f() return x end
print(f())
local y
print(y)
local p, p = 1, 2
print(p)
if true then local z = 1 end
print(z)
for i = 1, 2 do local i = i * 10; print("shadowed loop var", i) end
local g = 10
local function h(g) return g end
print(h(5), g)
local i = 100
for i = 1, 2 do end
print(i)
print(undefined_global, type(undefined_global))
-- many locals in one function
local v1, v2, v3, v4, v5, v6, v7, v8, v9, v10 = 1, 2, 3, 4, 5, 6, 7, 8, 9, 10
print(v1 + v2 + v3 + v4 + v5 + v6 + v7 + v8 + v9 + v10)
