-- An uncaught runtime error inside nested Lua functions.
local function inner(t)
  return t.missing.value
end
local function outer()
  local r = inner({})
  return r
end
print("start")
outer()
