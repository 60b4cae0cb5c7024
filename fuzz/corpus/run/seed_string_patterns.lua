-- Pattern classes, complements, sets, ranges and quantifiers over every byte.
local all = ""
for i = 0, 255 do all = all .. string.char(i) end
local function members(pat)
  local out, n = "", 0
  for c in all:gmatch(pat) do
    n = n + 1
    local b = c:byte()
    if b >= 33 and b <= 126 then out = out .. c end
  end
  return n, out
end
for _, cl in ipairs({"a", "c", "d", "g", "l", "p", "s", "u", "w", "x", "z"}) do
  print("%" .. cl, members("%" .. cl))
  print("%" .. cl:upper(), (members("%" .. cl:upper())))
  print("[%" .. cl .. "]", (members("[%" .. cl .. "]")), (members("[^%" .. cl .. "]")))
end
print(members("."))
print(members("[a-f]"), members("[^a-z]"))
print(members("[%a_][%w_]*"))
print(members("[]]"), members("[^]]"))
print(members("[a-]"), members("[-a]"), members("[%-]"), members("[a%-z]"))
print(members("[%d-]"), members("[z-a]"), members("[!-/]"))
print(members("%%"), members("%."), members("%]"), members("%["))
-- Quantifiers.
local s = "aaabbbccc"
print(s:match("a*"), s:match("a+"), s:match("a-"), s:match("a?"), s:match("b*"), s:match("b+"))
print(s:match("a-b"), s:match("a*b"), s:match("a-c"), s:match("^a-c$"), s:match("[ab]*"))
print(s:match("a?a?a?a?b"), s:match("x?a"), s:match("(a*)(.*)"), s:match("(a-)(.*)"))
print(("<a><b>"):match("<.->"), ("<a><b>"):match("<.*>"), ("<a><b>"):match("<(.-)>$"))
print(("color colour"):gsub("colou?r", "C"))
print(("  x  "):match("^%s*(.-)%s*$") .. "|", ("xyz"):match("%w+$"), ("$x"):match("%$(%w)"))
print(("a^b"):match("a^b"), ("a$b"):match("a$b"), ("ab$"):match("b%$$"))
-- %b and %f.
print(("x = f(a, g(b), c) + 1"):match("%b()"), ("[[]]"):match("%b[]"), ("'a' 'b'"):match("%b''"))
print(("(unclosed"):match("%b()"), (")("):match("%b()"))
print(("THE (quick) fox"):gsub("%f[%a]%a+", "W"))
print(("hello world"):gsub("%f[%w]%w", string.upper))
print(("a1b2"):gsub("%f[%d]", "#"), ("ab"):find("%f[%z]"), (""):find("%f[%z]"), ("x"):match("%f[^%z]()"))
print(("THE END"):gsub("%f[%W]", "|"))
