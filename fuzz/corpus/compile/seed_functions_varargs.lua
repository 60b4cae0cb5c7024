-- Varargs: ..., select, adjusting, nils in the middle and at the end.
local function count(...) return select("#", ...) end
print(count(), count(nil), count(nil, nil), count(1, nil, 3, nil))
local function pass(...) return ... end
print(pass(1, 2, 3))
print(pass())
print((pass(1, 2, 3)))
local function first(...) local a = ... return a end
print(first(9, 8, 7))
local function tbl(...) local t = {...} return #t, t[1], t[3] end
print(tbl("a", "b", "c"))
print(select(2, "a", "b", "c"))
print(select(-1, "a", "b", "c"))
print(select(-3, "a", "b", "c"))
print(pcall(select, -4, "a", "b", "c"))
print(pcall(select, 0, "a"))
print(select(5, "a", "b"))
print(select("#"))
print(pcall(select, "x"))
local function mid(...) return ..., "end" end
print(mid(1, 2, 3))
local function wrap(...) return pass(...) end
print(wrap(nil, nil, 3))
local function sum(...)
  local s = 0
  for i = 1, select("#", ...) do s = s + (select(i, ...)) end
  return s
end
print(sum(1, 2, 3, 4, 5), sum())
local function named(a, b, ...) return a, b, select("#", ...) end
print(named(1))
print(named(1, 2, 3, 4))
local function va_in_table(...) return {n = select("#", ...), ...} end
local t = va_in_table(1, nil, 3)
print(t.n, t[1], t[2], t[3])
-- many values through varargs
local function many(n) if n == 0 then return end return n, many(n - 1) end
print(count(many(100)), select(100, many(100)))
-- main chunk varargs are the script arguments (none here)
print(select("#", ...))
