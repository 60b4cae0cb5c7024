-- `goto` is a keyword only at the start of a statement followed by a name (LuaJIT 2.1)
local cases = {
 "goto = 1 return goto",
 "local goto = 7 return goto",
 "local t = {} t.goto = 3 return t.goto",
 "local t = {goto = 1} return t.goto",
 "function goto() return 5 end return goto()",
 "local function goto() return 6 end return goto()",
 "local t = {} function t.goto() return 8 end return t.goto()",
 "local t = {} function t:goto() return 9 end return t:goto()",
 "goto(1)",
 "goto 'x'",
 "goto {}",
 "goto.x = 1",
 "goto[1] = 1",
 "goto, x = 1, 2 return goto",
 "local a, goto = 1, 2 return goto",
 "for goto = 1, 2 do end return 'ok'",
 "for k, goto in pairs({}) do end return 'ok'",
 "return (function(goto) return goto end)(4)",
 "return (function(a, goto, ...) return goto end)(1, 5)",
 "goto x ::x:: return 'jumped'",
 "goto goto ::goto:: return 'g'",
 "::goto:: return 'l'",
 "return goto",
 "return 1 + goto",
 "goto = 1 goto x ::x:: return goto",
 "x = goto",
 "goto",
 "goto;",
 "goto:f()",
 "goto\n= 5 return goto",
 "goto --[[c]] x ::x:: return 1",
 "do goto end end",
 "return goto.x",
 "local x = goto",
 "return #{goto}",
 "return next({[goto]=1})",
 "goto 1",
 "goto end",
 "goto = goto",
 "break = 1",
 "local break = 1",
 "t.break = 1",
 "return {break = 1}",
 "local t = {} return t:goto()",
}
for _, s in ipairs(cases) do
  local f, e = loadstring(s)
  if f then print(s:gsub("\n", "\\n"), "->", pcall(f)) else print(s:gsub("\n", "\\n"), "=>", e) end
end
-- goto used as a variable around goto statements
local goto = 0
for i = 1, 3 do
  goto = goto + i
  if i == 2 then goto continue end
  goto = goto * 10
  ::continue::
end
print(goto)
-- goto followed by a name on the next line is a goto statement
local ok = loadstring("do goto\nskip\nerror('not skipped') ::skip:: end return 'skipped'")
print(ok())
print(loadstring("goto ::x::"))
print(loadstring("goto x"))
