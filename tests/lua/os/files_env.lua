-- os.remove, os.rename, os.tmpname, os.getenv, os.setlocale
local name, other, t1, t2
-- The body runs under pcall so that the temporary files go even when it fails
-- (the allocation-failure sweep runs this script thousands of times; a failed
-- os.remove may raise "not enough memory" there, hence the pcalls).
local ok, err = pcall(function()
  name = os.tmpname()
  print(type(name), #name > 0)
  local f = io.open(name)
  print(io.type(f))
  f:close()
  other = name .. ".renamed"
  print(os.rename(name, other))
  print(io.open(name) == nil)
  local msg, code = select(2, os.rename(name, other))
  print(msg == name .. ": No such file or directory", code)
  print(os.remove(other))
  local r, m, c = os.remove(other)
  print(r, m == other .. ": No such file or directory", c)
  print(os.remove("/nonexistent/dir/file"))
  print(os.rename("/nonexistent/a", "/nonexistent/b"))
  print(pcall(os.remove))
  print(pcall(os.remove, {}))
  print(pcall(os.rename, "a"))
  print(pcall(os.rename, {}, "b"))
  t1 = os.tmpname()
  t2 = os.tmpname()
  print(t1 ~= t2)
  os.remove(t1)
  os.remove(t2)
  -- getenv
  print(os.getenv("PERILUNE_SURELY_NOT_SET_12345"))
  print(type(os.getenv("PATH")))
  print(pcall(os.getenv))
  print(pcall(os.getenv, {}))
  print(os.getenv(""))
  -- setlocale: the "C" locale
  print(os.setlocale(), os.setlocale("C"), os.setlocale(nil, "numeric"), os.setlocale("C", "all"))
  print(os.setlocale("xx_YY.nonexistent"))
  print(pcall(os.setlocale, nil, "bad"))
  print(pcall(os.setlocale, {}))
end)
if name then pcall(os.remove, name) end
if other then pcall(os.remove, other) end
if t1 then pcall(os.remove, t1) end
if t2 then pcall(os.remove, t2) end
if not ok then error(err, 0) end
