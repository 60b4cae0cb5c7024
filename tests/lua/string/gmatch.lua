-- string.gmatch: captures, empty matches, '^' is a literal here (LuaJIT/5.1).
local function all(s, p)
  local out = {}
  for a, b in s:gmatch(p) do
    out[#out + 1] = b ~= nil and (tostring(a) .. "=" .. tostring(b)) or tostring(a)
  end
  local r = ""
  for i = 1, #out do r = r .. "[" .. out[i] .. "]" end
  return r
end
print(all("one two  three", "%a+"))
print(all("k=v, x=y", "(%w+)=(%w+)"))
print(all("abc", "()"))
print(all("abc", ""))
print(all("abc", "b*"))
print(all("abc", ".-"))
print(all("^a^a", "^a"))
print(all("aaa", "^a"))
print(all("a,b,,c", "([^,]*)"))
print(all("hello", "()l"))
print(all("", "x*"))
print(all("", "x"))
print(all("1 22 333", "%d+"))
print(all("f(a) g(b(c))", "%b()"))
-- The iterator ignores its arguments and can be driven by hand.
local it = ("a1b2"):gmatch("%a(%d)")
print(it(), it("x", 5), it(), it())
print(pcall(string.gmatch))
print(pcall(string.gmatch, "x"))
print(type(string.gmatch("x", "[")))
print(pcall(string.gmatch("x", "[")))
print(string.gmatch(123, "%d")())
