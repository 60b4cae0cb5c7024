-- module(), package.seeall, package.searchpath, package.loadlib
package.path = "./modules/?.luamod"
print(require("oldmod").hello(), oldmod.hello(), oldmod._NAME, oldmod._PACKAGE)
print(require("a.b") == a.b, a.b.value, a.b._NAME, a.b._PACKAGE, a.b._M == a.b)
print(package.searchpath("a.b", "./modules/?.luamod"))
print(package.searchpath("a.b", "./?.lua;./?/x.lua"))
print(package.searchpath("a.b", "?.x", "", ""))
print(package.searchpath("a_b", "?.x", "_", "-"))
print(pcall(package.searchpath, "a"))
print(select("#", package.loadlib("x.so", "f")), (package.loadlib("x.so", "f")))
local t = {}
package.seeall(t)
print(getmetatable(t).__index == _G, t.print == print)
print(pcall(package.seeall, 1))
print(pcall(module))
print(pcall(module, "m.x.y", 1))
print(type(m), m.x._PACKAGE, m.x.y._PACKAGE, m.x.y._NAME)
x = 1
print(pcall(module, "x.y"))
local function make_inner()
  module("inner.mod")
  value = 5
end
make_inner()
print(inner.mod.value, _G.value, inner.mod._NAME, inner.mod._PACKAGE)
local f = loadstring("module('viaopt', function(m) m.opt = true end) return _M")
print(f() == viaopt, viaopt.opt)
