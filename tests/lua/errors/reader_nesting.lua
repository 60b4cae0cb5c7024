-- load through a reader that itself loads through a reader, each at the deepest syntax level
-- test: perilune-only
-- LuaJIT does not bound this nesting and crashes (segmentation fault) on this script.
-- Perilune bounds the nesting of reader compilations (2 on a thread, docs/compiler.md),
-- so the Rust stack stays small: the innermost load fails with "C stack overflow".
local R = string.rep
local n = 0
local function mkreader(depth)
  local parts = {R("local function f() ", 198), " ", R("end ", 198), " return 'compiled'"}
  local i = 0
  return function()
    i = i + 1
    if i == 2 then
      n = n + 1
      local ok, f, e = pcall(load, mkreader(depth + 1))
      print(depth, ok, type(f), e)
    end
    return parts[i]
  end
end
local f, e = load(mkreader(1))
print(type(f), e, f and f())
print(n)
