-- jit.vmdef: the names behind the VM's numbers, as LuaJIT's generated module
-- gives them to its tools.
--   bcnames  Perilune's opcode names, 6 characters each, in opcode order (the
--            opcode of an instruction from jit.util.funcbc is its low byte).
--   ffnames  fast-function id -> name ("print", "string.rep", "io.method.read"),
--            for the ids that tostring shows as "builtin#N".
-- The IR and trace tables (irnames, irfpm, irfield, ircall, traceerr) are empty:
-- Perilune's IR is not LuaJIT's, and jit.dump prints it itself (docs/jit.md).
local _, helpers = ...
local tostring, tonumber, pairs, type = tostring, tonumber, pairs, type

local ffnames = { [0] = "Lua", "C" }

local function scan(t, prefix)
  if type(t) ~= "table" then return end
  for k, v in pairs(t) do
    if type(k) == "string" and type(v) == "function" then
      local id = tostring(v):match("^function: builtin#(%d+)$")
      if id then ffnames[tonumber(id)] = prefix .. k end
    end
  end
end

local loaded = package and package.loaded or {}
scan(_G, "")
for _, lib in pairs({ "coroutine", "math", "bit", "string", "table", "io", "os",
                      "debug", "jit", "jit.opt", "jit.util", "jit.profile" }) do
  local t = loaded[lib]
  if t == nil and not lib:find(".", 1, true) then t = _G[lib] end
  scan(t, lib .. ".")
end
local stdout = io and io.stdout
if stdout then
  local mt = getmetatable(stdout)
  if type(mt) == "table" then
    scan(mt.__index, "io.method.")
    scan(mt, "io.method.")
  end
end
-- Functions made at run time or kept out of the library tables.
ffnames[6] = "ipairs_aux"
ffnames[36] = "coroutine.wrap_aux"
ffnames[86] = "string.gmatch_aux"

return {
  bcnames = helpers.bcnames,
  ffnames = ffnames,
  irnames = "",
  irfpm = {},
  irfield = {},
  ircall = {},
  traceerr = {},
}
