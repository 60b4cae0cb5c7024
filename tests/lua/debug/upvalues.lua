-- debug.getupvalue/setupvalue/upvalueid/upvaluejoin
local a, b = 1, 2
local function f() return a + b end
print(debug.getupvalue(f, 1), debug.getupvalue(f, 2), debug.getupvalue(f, 3), debug.getupvalue(f, 0))
print(select("#", debug.getupvalue(f, -1)), select("#", debug.getupvalue(f, 3)))
print(debug.setupvalue(f, 1, 10), debug.setupvalue(f, 3, 10), f(), a)
print(select("#", debug.setupvalue(f, 9, 1)))
print(pcall(debug.getupvalue, 1, 1))
print(pcall(debug.getupvalue, f))
print(pcall(debug.setupvalue, f, 1))
print(pcall(debug.getupvalue, {}, 1))

-- closed upvalues
local function mk()
  local n = 0
  return function() n = n + 1; return n end
end
local c1, c2 = mk(), mk()
c1()
print(debug.getupvalue(c1, 1))
print(debug.setupvalue(c1, 1, 100), c1())

-- identity
local function g() return a end
print(debug.upvalueid(f, 1) == debug.upvalueid(g, 1), debug.upvalueid(f, 2) == debug.upvalueid(g, 1))
print(type(debug.upvalueid(f, 1)))
print(debug.upvalueid(c1, 1) == debug.upvalueid(c2, 1))
print(pcall(debug.upvalueid, f, 3))
print(pcall(debug.upvalueid, f, 0))
print(pcall(debug.upvalueid, 1, 1))

-- joining
print(pcall(debug.upvaluejoin, f, 2, g, 1))
print(f(), debug.upvalueid(f, 2) == debug.upvalueid(g, 1))
debug.upvaluejoin(c1, 1, c2, 1)
print(c1(), c2(), c1())
print(pcall(debug.upvaluejoin, f, 3, g, 1))
print(pcall(debug.upvaluejoin, f, 1, g, 2))
print(pcall(debug.upvaluejoin, print, 1, g, 1))
print(pcall(debug.upvaluejoin, f, 1, print, 1))
print(pcall(debug.upvaluejoin, f, 1, 1, 1))
print(pcall(debug.upvaluejoin, 1, 1, g, 1))
collectgarbage()
print(c1(), c2())
