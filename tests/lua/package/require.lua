-- require: package.path search, loaded/preload, loop detection, error messages
package.path = "./modules/?.luamod"
package.cpath = "./modules/?.so"
local ks = {} for k in pairs(package) do ks[#ks + 1] = k end table.sort(ks) print(table.concat(ks, " "))
print(#package.loaders, package.config)
local m = require("mymod")
print(m.name, require("mymod") == m, package.loaded.mymod == m)
print(require("sub.inner"), package.loaded["sub.inner"])
print(pcall(require, "nope"))
print(pcall(require, "nope.x"))
print(pcall(require, "errmod"))
print(pcall(require, "errmod"))
print(pcall(require, "syntaxerr"))
print(pcall(require, "loopa"))
print(pcall(require))
print(pcall(require, 1))
package.preload.pre = function(...) print("preload", ...) return "P" end
print(require("pre"), package.loaded.pre)
package.preload.pnil = function() end
print(require("pnil"), package.loaded.pnil)
package.preload.pset = function(name) package.loaded[name] = "set" end
print(require("pset"))
print(require("table.new") == table.new, require("table.clear") == table.clear)
print(require("jit") == jit, require("bit") == bit, require("string") == string, require("_G") == _G)
print(require("debug") == debug, require("package") == package, require("coroutine") == coroutine)
print(require("jit.opt") == jit.opt, require("math") == math, require("table") == table)
package.loaders[1] = function(n) return 5 end
print(pcall(require, "q"))
package.path = 5
print(pcall(require, "zzz"))
package.path = nil
print(pcall(require, "q"))
package.path = "./modules/?.luamod"
package.preload = nil
print(pcall(require, "q"))
package.cpath = {}
print(pcall(require, "q"))
package.loaders = nil
print(pcall(require, "zzz2"))
