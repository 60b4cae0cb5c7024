-- jit.util.funcbc shows a loop's instruction as compiled, however the JIT patched
-- it (LuaJIT shows its patched JFORL/IFORL instead).
-- test: perilune-only
local util = require("jit.util")
jit.on()
jit.opt.start("hotloop=1")
local function f(n)
  local s = 0
  for i = 1, n do s = s + i end
  for i = 1, n do g = i end
  return s
end
local ops = {}
for pc = 1, 100 do
  local ins = util.funcbc(f, pc)
  if not ins then break end
  ops[pc] = ins
end
for _ = 1, 300 do f(300) end
local same = true
for pc, ins in pairs(ops) do
  if util.funcbc(f, pc) ~= ins then same = false end
end
print(same)
