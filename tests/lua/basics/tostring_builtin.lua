-- tostring of a library function: LuaJIT's fast functions print builtin#N, plain C
-- functions print an address (shown here as ADDR)
local function show(name, f)
  local s = tostring(f):gsub("0x%x+", "ADDR")
  print(name, s)
end
local libs = {
  _G = {"assert", "collectgarbage", "dofile", "error", "gcinfo", "getfenv", "getmetatable",
    "ipairs", "load", "loadfile", "loadstring", "module", "newproxy", "next", "pairs", "pcall",
    "print", "rawequal", "rawget", "rawset", "require", "select", "setfenv", "setmetatable",
    "tonumber", "tostring", "type", "unpack", "xpcall"},
  coroutine = {"create", "isyieldable", "resume", "running", "status", "wrap", "yield"},
  string = {"byte", "char", "dump", "find", "format", "gmatch", "gsub", "len", "lower", "match",
    "rep", "reverse", "sub", "upper"},
  table = {"concat", "foreach", "foreachi", "getn", "insert", "maxn", "move", "remove", "sort"},
  math = {"abs", "acos", "asin", "atan", "atan2", "ceil", "cos", "cosh", "deg", "exp", "floor",
    "fmod", "frexp", "ldexp", "log", "log10", "max", "min", "modf", "pow", "rad", "random",
    "randomseed", "sin", "sinh", "sqrt", "tan", "tanh"},
  bit = {"arshift", "band", "bnot", "bor", "bswap", "bxor", "lshift", "rol", "ror", "rshift",
    "tobit", "tohex"},
  io = {"close", "flush", "input", "lines", "open", "output", "popen", "read", "tmpfile", "type",
    "write"},
  os = {"clock", "date", "difftime", "execute", "exit", "getenv", "remove", "rename",
    "setlocale", "time", "tmpname"},
  debug = {"debug", "getfenv", "gethook", "getinfo", "getlocal", "getmetatable", "getregistry",
    "getupvalue", "setfenv", "sethook", "setlocal", "setmetatable", "setupvalue", "traceback",
    "upvalueid", "upvaluejoin"},
  jit = {"attach", "flush", "off", "on", "status"},
  package = {"loadlib", "searchpath", "seeall"},
}
for _, lib in ipairs{"_G", "coroutine", "string", "table", "math", "bit", "io", "os", "debug", "jit", "package"} do
  for _, name in ipairs(libs[lib]) do show(lib .. "." .. name, _G[lib][name]) end
end
for _, name in ipairs{"close", "flush", "lines", "read", "seek", "setvbuf", "write"} do
  show("file:" .. name, io.stdout[name])
end
local mt = getmetatable(io.stdout)
show("file.__gc", mt.__gc)
show("file.__tostring", mt.__tostring)
show("ipairs iterator", (ipairs({})))
show("pairs iterator", (pairs({})))
show("gmatch iterator", string.gmatch("a", "a"))
show("wrap function", coroutine.wrap(function() end))
show("io.lines iterator", io.lines("tostring_builtin.lua"))
show("jit.opt.start", jit.opt.start)
show("Lua function", function() end)
-- the same text through print, string.format and concatenation with tostring
print(print, tostring)
print(string.format("%s|%s", pairs, next))
print("x" .. tostring(select))
-- a replaced global keeps the original's id
local p = print
print = nil
print = p
print(print)
