-- jit.bcsave: save or list bytecode, LuaJIT's -b from Lua code:
--   require("jit.bcsave").start("-l", "in.lua")
--   require("jit.bcsave").start("-t", "h", "in.lua", "out.h")
-- Arguments as `perilune -b` takes them (docs/bytecode-dump.md). The bytecode is
-- Perilune's own format (what string.dump writes; stripped unless -g, as in
-- LuaJIT); -t c and -t h write it as a C array named luaJIT_BC_<name>
-- as LuaJIT does. Object files (-t o/obj) are not written. Where LuaJIT prints a
-- message and exits, this raises the message as an error.
local _, helpers = ...
local listing = helpers.listing
local dump, format, concat = string.dump, string.format, table.concat
local type, tostring, error, loadfile, loadstring = type, tostring, error, loadfile, loadstring

local USAGE = [[
Save Perilune bytecode: perilune -b[options] input output
  -l        Only list bytecode.
  -s        Strip debug info (default).
  -g        Keep debug info.
  -n name   Set module name (default: auto-detect from input name).
  -t type   Set output file type (default: auto-detect from output name).
  -a arch   Override architecture for object files (default: native).
  -o os     Override OS for object files (default: native).
  -e chunk  Use chunk string as input.
  --        Stop handling options.
  -         Use stdin as input and/or stdout as output.

File types: c h raw (default)
]]

local TYPES = { raw = "raw", c = "c", h = "h", o = "obj", obj = "obj" }
local ARCHS = {
  x86 = true, x64 = true, arm = true, arm64 = true, arm64be = true, ppc = true,
  mips = true, mipsel = true, mips64 = true, mips64el = true, mips64r6 = true,
  mips64r6el = true,
}
local OSES = {
  linux = true, windows = true, osx = true, freebsd = true, netbsd = true,
  openbsd = true, dragonfly = true, solaris = true,
}

local function fail(...)
  error(concat({ ... }), 0)
end

local function usage()
  error(USAGE, 0)
end

local function input_function(input)
  if type(input) == "function" then return input end
  local f, err = loadfile(input ~= "-" and input or nil)
  if not f then fail(err) end
  return f
end

local function output_file(name, mode)
  if name == "-" then return io.stdout end
  local fp, err = io.open(name, mode)
  if not fp then fail(err) end
  return fp
end

local function write_all(fp, name, text)
  local ok, err = fp:write(text)
  if ok and name ~= "-" then ok, err = fp:close() end
  if not ok then fail("cannot write ", name, ": ", tostring(err)) end
end

-- A C identifier from a module name: dots and dashes become underscores.
local function c_name(name)
  return (name:gsub("[%.%-]", "_"))
end

local function module_name_of(input)
  local name
  if type(input) == "string" then
    name = input:match("[^/\\]+$") or input
    name = name:match("^(.*)%.[^.]*$") or name
    name = name:match("^[%w_.%-]+")
  end
  if not name then fail("cannot derive module name, use -n name") end
  return c_name(name)
end

local function write_c(kind, modname, output, bytes)
  local fp = output_file(output, "w")
  local sym = "luaJIT_BC_" .. modname
  local head
  if kind == "c" then
    head = '#ifdef __cplusplus\nextern "C"\n#endif\n#ifdef _WIN32\n__declspec(dllexport)\n#endif\n'
      .. "const unsigned char " .. sym .. "[] = {\n"
  else
    head = format("#define %s_SIZE %d\nstatic const unsigned char %s[] = {\n", sym, #bytes, sym)
  end
  -- Decimal bytes, lines of at most 78 characters.
  local parts, lines, width = {}, { head }, 0
  for i = 1, #bytes do
    local b = tostring(bytes:byte(i))
    width = width + #b + 1
    if width > 78 then
      lines[#lines + 1] = concat(parts, ",") .. ",\n"
      parts, width = {}, #b + 1
    end
    parts[#parts + 1] = b
  end
  lines[#lines + 1] = concat(parts, ",") .. "\n};\n"
  write_all(fp, output, concat(lines))
end

local function start(...)
  local args = { ... }
  local list, kind, modname, strip = false, nil, nil, true
  local files = {}
  local i = 1
  while i <= #args do
    local a = args[i]
    i = i + 1
    if type(a) == "string" and a:sub(1, 1) == "-" and a ~= "-" then
      if a == "--" then
        for j = i, #args do files[#files + 1] = args[j] end
        break
      end
      for k = 2, #a do
        local opt = a:sub(k, k)
        if opt == "l" then
          list = true
        elseif opt == "s" then
          strip = true
        elseif opt == "g" then
          strip = false
        elseif opt == "e" or opt == "n" or opt == "t" or opt == "a" or opt == "o" then
          local value = args[i]
          if value == nil or k ~= #a then usage() end
          i = i + 1
          if opt == "e" then
            if #files > 0 then usage() end
            local f, err = loadstring(value)
            if not f then fail(err) end
            files[1] = f
          elseif opt == "n" then
            if not value:match("^[%w_.%-]+$") then fail("bad module name") end
            modname = c_name(value)
          elseif opt == "t" then
            kind = TYPES[value:lower()] or fail("unknown file type")
          elseif opt == "a" then
            if not ARCHS[value:lower()] then fail("unknown architecture") end
          else
            if not OSES[value:lower()] then fail("unknown OS name") end
          end
        else
          usage()
        end
      end
    else
      files[#files + 1] = a
    end
  end
  if list then
    if #files == 0 or #files > 2 then usage() end
    local f = input_function(files[1])
    write_all(output_file(files[2] or "-", "w"), files[2] or "-", listing(f))
    return
  end
  if #files ~= 2 then usage() end
  local input, output = files[1], files[2]
  local bytes = dump(input_function(input), strip)
  kind = kind or TYPES[(output:lower():match("%.(%a+)$"))] or "raw"
  if kind == "raw" then
    write_all(output_file(output, "wb"), output, bytes)
  elseif kind == "obj" then
    fail("object files are not supported: write C source with -t c or -t h")
  else
    write_c(kind, modname or module_name_of(input), output, bytes)
  end
end

return { start = start }
