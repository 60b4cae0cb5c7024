-- io.open modes, write/read/close, io.type, tostring, closed-file errors, error returns
local name
-- The body runs under pcall so that the temporary files go even when it fails
-- (the allocation-failure sweep runs this script thousands of times; a failed
-- os.remove may raise "not enough memory" there, hence the pcalls).
local ok, err = pcall(function()
  name = os.tmpname()
  local f = assert(io.open(name, "w"))
  print(io.type(f), io.type(io.stdout), io.type(42), io.type(nil), io.type({}))
  print(pcall(io.type))
  print(tostring(f):match("^file %(0x%x+%)$") ~= nil)
  print(f:write("hello", " ", 42, " ", 1.5, " ", -0.0, " ", 1e100, " ", 2^53, "\n"))
  print(select("#", f:write()))
  print(f:write("second line\n", "third"))
  print(f:close())
  print(io.type(f), tostring(f))
  for _, m in ipairs({"write", "read", "lines", "seek", "flush", "setvbuf", "close"}) do
    print(m, pcall(f[m], f))
  end
  print(pcall(function() return f:read() end))
  f = assert(io.open(name))
  print(f:read())
  print(f:read("*l"))
  print(f:read("*l"))
  print(f:read("*l"))
  print(f:read("*a"))
  f:close()
  f = assert(io.open(name, "rb"))
  print(f:read("*a"))
  f:close()
  -- modes (glibc rules: first character r/w/a, then '+', 'b' and others ignored)
  for _, m in ipairs({"r", "rb", "r+", "r+b", "rb+", "a", "ab", "a+", "ab+", "w+", "rw", "rbb"}) do
    local g, err, code = io.open(name, m)
    print(m, io.type(g), err, code)
    if g then g:close() end
  end
  for _, m in ipairs({"", "+", "x", "z", "R"}) do
    local g, err, code = io.open(name, m)
    print(("%q"):format(m), g, err == name .. ": Invalid argument", code)
  end
  -- errors
  print(io.open("/nonexistent/dir/file"))
  print(io.open("/nonexistent/dir/file", "w"))
  print(pcall(io.open))
  print(pcall(io.open, name, {}))
  print(pcall(io.open, {}))
  -- reading a write-only file, writing a read-only file
  f = io.open(name, "w")
  print(f:read("*a"))
  f:close()
  f = io.open(name, "r")
  print(f:write("x"))
  f:close()
  -- bad arguments
  f = io.open(name, "w")
  print(pcall(f.write, f, {}))
  print(pcall(f.write, f, "a", nil))
  print(pcall(function() f:write(true) end))
  print(pcall(f.write, 1))
  print(pcall(f.read, "x"))
  print(pcall(f.close, {}))
  f:close()
  -- getmetatable and methods
  local mt = getmetatable(io.stdout)
  local keys = {}
  for k in pairs(mt) do keys[#keys + 1] = k end
  table.sort(keys)
  print(table.concat(keys, " "))
  print(mt.__index == mt, getmetatable(f) == mt)
  -- io.close on a file, io.type after close
  f = io.open(name)
  print(io.close(f), io.type(f))
  print(pcall(io.close, f))
  print(pcall(io.close, 1))
  -- a file collected without close is closed (no crash)
  io.open(name)
  collectgarbage()
  collectgarbage()
  print(os.remove(name))
end)
if name then pcall(os.remove, name) end
if not ok then error(err, 0) end
