-- debug.getinfo names of functions called as metamethods and iterators
local function info() local i = debug.getinfo(2, "n") return tostring(i.name) .. "/" .. tostring(i.namewhat) end
local r
local m = {}
for _, k in ipairs{"__index","__newindex","__add","__sub","__mul","__div","__mod","__pow","__unm","__eq","__lt","__le","__concat","__call","__len","__tostring"} do
  m[k] = function() r = info() return 1 end
end
local a = setmetatable({}, m)
local b = setmetatable({}, m)
local u = newproxy(true) for k, v in pairs(m) do getmetatable(u)[k] = v end
local function t(name, f) r = nil f() print(name, r) end
t("index", function() return a.x end)
t("newindex", function() a.x = 1 end)
t("add", function() return a + 1 end)
t("sub", function() return a - 1 end)
t("mul", function() return 1 * a end)
t("div", function() return a / 1 end)
t("mod", function() return a % 1 end)
t("pow", function() return a ^ 1 end)
t("unm", function() return -a end)
t("eq", function() return a == b end)
t("lt", function() return a < b end)
t("le", function() return a <= b end)
t("concat", function() return a .. "x" end)
t("call", function() return a() end)
t("len", function() return #u end)
t("tostring", function() return tostring(a) end)
t("index-u", function() return u.x end)
t("iter", function() for k in function() r = info() end do end end)
