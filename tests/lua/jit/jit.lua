-- jit library: the controls check their arguments as LuaJIT does
print(jit.version_num, jit.os, jit.arch, type(jit.version))
print(jit.version:match("^LuaJIT 2%.1") ~= nil)
print(require("jit") == jit, package.loaded["jit.opt"] == jit.opt, type(jit.opt.start))
print(select("#", jit.on()), select("#", jit.off()), select("#", jit.flush()))
print(pcall(jit.on, 1))
print(pcall(jit.on, function() end))
print(pcall(jit.off, function() end, true))
print(pcall(jit.flush, 1))
print(pcall(jit.on, print))
print(pcall(jit.off, {}))
print(pcall(jit.attach, print, "trace"))
print(pcall(jit.attach, print))
print(pcall(jit.attach))
print(pcall(jit.attach, 1))
for _, a in ipairs{"12", "+fold", "-hotloop", "hotloop", "hotloop=", "hotloop=5x", "maxmcode=1",
                   "+foo", "", "O3", "fold=1", "sizemcode=32", "-dce", "loop", "3", "nocse",
                   "no-dse", "nohotloop", "no", "minstitch=2"} do
  print(a, pcall(jit.opt.start, a))
end
print(pcall(jit.opt.start, 3, "hotloop=5", "-fold"))
print(pcall(jit.opt.start, -1))
print(pcall(jit.opt.start, true))
print(pcall(jit.opt.start))
