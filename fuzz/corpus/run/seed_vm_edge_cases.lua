-- Assorted edge cases checked against LuaJIT: coercion, modulo, assignment order,
-- escapes, loops, goto, closures in loops, borders, messages.
print("10" + 1, "0x10" * 1, " 3 " - 1, 1 .. 2, 1e100 .. "", 2^53 .. "", -0 .. "", 0.1 + 0.2)
print(-7 % 3, 7 % -3, 5.5 % 2, -5.5 % 2, 5 % math.huge, -5 % math.huge, 1/0, -1/0)
local a, b = 1, 2
a, b = b, a
print(a, b)
local t = {1, 2}
local i, j = 1, 2
t[i], t[j] = t[j], t[i]
print(t[1], t[2])
i, t[i] = i + 1, 20
print(i, t[1], t[2])
local function f(...) return ... end
print(f(1, 2, 3), f(1, 2, 3))
print((f(1, 2, 3)))
print(select('#', nil, nil), select('#'), select(2, "a", "b", "c"))
print("\z
      abc", "\x41\u{48}\065\10x", [==[a]]b]=]c]==], #"\0\0\0")
for i = 1, 2, 0.25 do io = nil; print(i) end
for i = 3, 1, -1 do print(i) end
for i = 1, 0 do print("never") end
local fs = {}
for i = 1, 3 do
  for j = 1, 2 do
    if j == 2 then break end
    fs[#fs + 1] = function() return i * 10 + j end
  end
end
print(fs[1](), fs[2](), fs[3]())
for i = 1, 3 do
  if i == 2 then goto continue end
  print("goto", i)
  ::continue::
end
do
  local k = 0
  ::top::
  k = k + 1
  if k < 3 then goto top end
  print("k", k)
end
local x = 0
while true do x = x + 1 if x > 5 then break end end
repeat local y = x; x = x - 1 until y < 3
print(x)
print(2^-1074, 2^1023 * 2, -2^1023 * 2, 1e308 * 10 - 1e308 * 10)
print(math.max(1, 2, 3), math.min(-1, 5), math.floor(-3.5), math.ceil(-3.5), math.fmod(-7, 3))
print(string.format("%5.2f|%-5d|%x|%q", 3.14159, 42, 255, "a\nb\"c"))
print(tostring(1/3), tostring(100), tostring(-1e-7), 123456789012345678)
print(#{1, 2, nil, 4}, #{nil, nil, 3})
print(not nil == true, 1 == 1.0, "1" == 1, 0 == -0)
print(("x"):rep(3, ","), ("abc"):upper(), #"héllo")
local mt = {__index = function(t, k) return k .. "!" end}
local p = setmetatable({}, mt)
print(p.foo, p[1], rawget(p, "foo"))
print(string.find("hello world", "o w"), string.match("key=val", "(%w+)=(%w+)"))
print(pcall(function() local a = nil; return a.b.c end))
print(pcall(function() return #nil end))
print(pcall(function() return {} < {} end))
print(pcall(function() return nil .. "x" end))
print(pcall(function() undefinedfunc() end))
print(pcall(function() local t = {} t.x.y = 1 end))
print(pcall(function() return 1 + {} end))
print(pcall(function() return -{} end))
print(pcall(function() local s = "x" return s.y.z end))
