-- pcall_loop: protected calls in a loop (pcall and xpcall that succeed, errors with
-- string and table values, error levels, errors raised by the VM itself).
-- Usage: pcall_loop.lua [n]   (default 1200000)
-- small size: 2000
local N = tonumber(arg and arg[1]) or 1200000

local function ok_fn(a, b)
  return a + b, a * b
end

local function fail_str(x)
  error("bad value", 2)
end

local function fail_tab(x)
  error({ code = x % 17 })
end

local function fail_vm(x)
  local t = nil
  return t.field
end

local function handler(e)
  if type(e) == "table" then
    return e.code
  end
  return -1
end

local sum, okc, errc, codes = 0, 0, 0, 0
for i = 1, N do
  local k = i % 4
  if k == 0 then
    local ok, a, b = pcall(ok_fn, i, 2)
    if ok then
      okc = okc + 1
      sum = (sum + a + b) % 1000000007
    end
  elseif k == 1 then
    local ok, e = pcall(fail_str, i)
    if not ok and type(e) == "string" then
      errc = errc + 1
    end
  elseif k == 2 then
    local ok, code = xpcall(function()
      return fail_tab(i)
    end, handler)
    if not ok then
      codes = codes + code
    end
  else
    local ok, e = pcall(fail_vm, i)
    if not ok then
      errc = errc + 1
    end
  end
end
print(string.format("ok %d sum %d", okc, sum))
print(string.format("errors %d codes %d", errc, codes))

-- nested protected calls
local depth_total = 0
local function nest(d)
  if d == 0 then
    error("bottom")
  end
  local ok = pcall(nest, d - 1)
  depth_total = depth_total + 1
  if d % 3 == 0 then
    error("again")
  end
  return ok
end
for _ = 1, N / 100 do
  pcall(nest, 20)
end
print(string.format("nested %d", depth_total))
