-- load() with a reader function: pieces, end of input, errors raised or returned
-- by the reader (load reports them as nil plus the message), and when the reader
-- is called: only as the lexer needs more, so not after a syntax error.
-- Runs inside a coroutine: there no message handler is active, so the messages
-- are the same whichever way the error travels.

local function pieces(list)
  local i = 0
  return function()
    i = i + 1
    return list[i]
  end
end

local function chars(s)
  local i = 0
  return function()
    i = i + 1
    return s:sub(i, i)
  end
end

local function show(...)
  local t = {}
  for i = 1, select('#', ...) do
    local v = select(i, ...)
    t[i] = type(v) == 'string' and v or type(v)
  end
  print(select('#', ...), table.concat(t, ' | '))
end

coroutine.wrap(function()
  -- Pieces joined across token boundaries, nil or "" ends the input.
  local f = assert(load(pieces{'ret', 'urn 1', ' + ', '41'}))
  print(f())
  f = assert(load(chars("local a, b = ... return b, a"), "=swapper"))
  print(f(1, 2))
  print(debug.getinfo(f, 'S').source)
  f = assert(load(pieces{'return "x"', '', 'error("never read")'}))
  print(f())
  f = assert(load(function() return nil end))
  print(type(f), f and select('#', f()))

  -- A syntax error in the joined text.
  show(load(chars("x = = 1"), "=pieces"))
  show(load(pieces{'return 1 +'}, "@reader.lua"))

  -- Errors raised by the reader are returned, not raised.
  show(load(function() error("reader failed") end))
  show(load(function() error("no position", 0) end))
  local obj = {}
  local a, b = load(function() error(obj) end)
  print(a, b == obj)
  show(load(function() local t = nil; return t.x end))

  -- A reader must return strings.
  show(load(function() return {} end))
  show(load(function() return true end))

  -- Yielding from the reader crosses load's C boundary.
  show(load(function() coroutine.yield(1) end))

  -- The mode argument applies to what the reader delivers.
  show(load(pieces{'return 5'}, "=m", "b"))
  local bin = string.dump(function() return "from binary" end)
  f = assert(load(chars(bin), "=bin", "b"))
  print(f())
  show(load(chars(bin), "=bin", "t"))

  -- The reader is called as the lexer needs more: a syntax error stops it.
  local n = 0
  local function counted(s)
    return function()
      n = n + 1
      return s:sub(n, n)
    end
  end
  print(load(counted("*a = 123")), n)
  n = 0
  print(load(counted("x = = 1 -- the rest is never read")), n)
  n = 0
  f = assert(load(counted("#!shebang line\nreturn 7")))
  print(f(), n)

  -- The reader may collect garbage while the chunk is compiled.
  local src = [[
    local t = {}
    for i = 1, 3 do t[i] = function(x) return function(y) return "s" .. x .. y .. i end end end
    return t[1]("a")("b"), t[3]("c")("d"), #t
  ]]
  local i = 0
  f = assert(load(function()
    i = i + 1
    collectgarbage()
    return src:sub(i, i)
  end))
  print(f())

  -- The state is fine afterwards.
  print(assert(load(pieces{'return ', '"still working"'}))())
end)()
