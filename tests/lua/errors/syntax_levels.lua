-- syntax nesting and register limits as LuaJIT 2.1 has them, and very deep input (an error, never a crash)
-- probe(name, n, mk): the construct nested n times compiles and n + 1 times does not
local function probe(name, n, mk)
  local f1, e1 = loadstring(mk(n))
  local f2, e2 = loadstring(mk(n + 1))
  print(name, n, f1 and "ok" or e1, f2 and "ok" or e2:sub(-70))
end
local R = string.rep
probe("do blocks", 198, function(n) return R("do ", n) .. R("end ", n) end)
probe("while", 198, function(n) return R("while x do ", n) .. R("end ", n) end)
probe("if", 198, function(n) return R("if x then ", n) .. R("end ", n) end)
probe("for", 50, function(n) return R("for i=1,2 do ", n) .. R("end ", n) end)
probe("repeat", 198, function(n) return R("repeat ", n) .. R("until x ", n) end)
probe("functions", 198, function(n) return R("local function f() ", n) .. R("end ", n) end)
probe("function exprs", 98, function(n) return "return " .. R("function() return ", n) .. "1" .. R(" end", n) end)
probe("parens", 197, function(n) return "return " .. R("(", n) .. "1" .. R(")", n) end)
probe("tables", 198, function(n) return "return " .. R("{", n) .. R("}", n) end)
probe("tables keyed", 197, function(n) return "return " .. R("{a=", n) .. "1" .. R("}", n) end)
probe("unary minus", 197, function(n) return "return " .. R("- ", n) .. "1" end)
probe("not", 197, function(n) return "return " .. R("not ", n) .. "1" end)
probe("concat right", 197, function(n) return "return " .. R("'a'..", n) .. "'a'" end)
probe("pow right", 197, function(n) return "return " .. R("2^", n) .. "1" end)
probe("add left", 3000, function(n) return "return " .. R("1+", n) .. "1" end)
probe("calls", 124, function(n) return "return " .. R("f(", n) .. R(")", n) end)
probe("index", 197, function(n) return "return " .. R("t[", n) .. "1" .. R("]", n) end)
probe("args nest", 124, function(n) return "f" .. R("(f", n) .. R(")", n) end)
probe("assign lhs", 198, function(n) return R("a,", n) .. "a = 1" end)
probe("paren+table", 99, function(n) return "return " .. R("({", n) .. R("})", n) end)
probe("func in table", 65, function(n) return "return " .. R("{function() return ", n) .. "1" .. R(" end}", n) end)
probe("method call chain", 3000, function(n) return "return x" .. R(":m()", n) end)
probe("string call chain", 3000, function(n) return "return f" .. R("'a'", n) end)
probe("index chain", 3000, function(n) return "return x" .. R(".a", n) end)
probe("len", 197, function(n) return "return " .. R("#", n) .. "t" end)
probe("do+if", 99, function(n) return R("do if x then ", n) .. R("end end ", n) end)
probe("func+do", 99, function(n) return R("local function f() do ", n) .. R("end end ", n) end)
probe("paren expr stmt", 198, function(n) return R("(", n) .. "f" .. R(")", n) .. "()" end)
probe("nested funcs in args", 99, function(n) return R("f(function() ", n) .. R("end)", n) end)
probe("table in call", 83, function(n) return "return " .. R("f{", n) .. R("}", n) end)
probe("anon funcs params", 98, function(n) return "return " .. R("function(a) return ", n) .. "1" .. R(" end", n) end)
probe("while cond parens", 197, function(n) return "while " .. R("(", n) .. "x" .. R(")", n) .. " do end" end)
probe("local fn chain", 198, function(n) return R("function f() ", n) .. R("end ", n) end)
probe("return in block", 197, function(n) return R("do ", n) .. "return 1 " .. R("end ", n) end)
probe("if cond nest", 197, function(n) return "if " .. R("(", n) .. "x" .. R(")", n) .. " then end" end)
probe("comparisons", 98, function(n) return "return " .. R("1 < (", n) .. "1" .. R(")", n) end)
probe("or nested paren", 98, function(n) return "return " .. R("x or (", n) .. "1" .. R(")", n) end)
probe("call args", 246, function(n) return "f(" .. R("1,", n) .. "1)" end)
probe("local call args", 246, function(n) return "local x = f(" .. R("1,", n) .. "1)" end)
probe("method args", 245, function(n) return "o:m(" .. R("1,", n) .. "1)" end)
probe("return list", 248, function(n) return "return " .. R("x,", n) .. "x" end)
probe("table items", 3000, function(n) return "return {" .. R("x,", n) .. "x}" end)
probe("locals+call", 200, function(n) return R("local a ", 150) .. "f(" .. R("1,", n) .. "1)" end)
probe("concat", 197, function(n) return "return " .. R("x..", n) .. "x" end)
probe("locals+forin", 196, function(n) return R("local a ", n) .. "for k in x do end" end)
probe("locals+forin2", 194, function(n) return R("local a ", n) .. "for k, v, w in x do end" end)
probe("locals+fornum", 196, function(n) return R("local a ", n) .. "for i = 1, 2 do end" end)
probe("locals+method", 200, function(n) return R("local a ", n) .. "o:m()" end)
probe("locals+call", 200, function(n) return R("local a ", n) .. "f()" end)
probe("locals+callstr", 200, function(n) return R("local a ", n) .. "f'x'" end)
probe("locals+vararg", 199, function(n) return "local a = ... " .. R("local a ", n) .. "return ..." end)
probe("locals+concat", 200, function(n) return R("local a ", n) .. "return a..a..a" end)
probe("locals+table", 200, function(n) return R("local a ", n) .. "return {a, a, {a}}" end)
probe("locals+bigmethod", 200, function(n) local t = {} for i = 1, 300 do t[i] = "x" .. i .. "=1" end return table.concat(t, " ") .. R(" local a", n) .. " o:m300()" end)
probe("tail call args", 246, function(n) return "return f(" .. R("1,", n) .. "1)" end)
probe("call in table", 3000, function(n) return "return {" .. R("1,", n) .. "f(1)}" end)
probe("call multret", 245, function(n) return "f(" .. R("1,", n) .. "g())" end)
local N = 100000
local cases = {
  {"parens", "return " .. R("(", N) .. "1" .. R(")", N)},
  {"tables", "return " .. R("{", N) .. R("}", N)},
  {"keyed tables", "return " .. R("{a=", N) .. "1" .. R("}", N)},
  {"functions", R("local function f() ", N) .. R("end ", N)},
  {"function exprs", "return " .. R("function() return ", N) .. "1" .. R(" end", N)},
  {"do", R("do ", N) .. R("end ", N)},
  {"if", R("if x then ", N) .. R("end ", N)},
  {"while", R("while x do ", N) .. R("end ", N)},
  {"repeat", R("repeat ", N) .. R("until x ", N)},
  {"calls", "return " .. R("f(", N) .. R(")", N)},
  {"index", "return " .. R("t[", N) .. "1" .. R("]", N)},
  {"not", "return " .. R("not ", N) .. "1"},
  {"minus", "return " .. R("- ", N) .. "1"},
  {"pow", "return " .. R("2^", N) .. "1"},
  {"concat", "return " .. R("'a'..", N) .. "'a'"},
  {"args funcs", R("f(function() ", N) .. R("end)", N)},
  {"table funcs", "return " .. R("{function() return ", N) .. "1" .. R(" end}", N)},
  {"unclosed parens", "return " .. R("(", N)},
  {"unclosed do", R("do ", N)},
  {"unclosed funcs", R("function f() ", N)},
  {"assign lhs", R("a,", N) .. "a = 1"},
  {"method chain", "return x" .. R(":m()", N)},
  {"unclosed tables", "return " .. R("{", N)},
  {"compare nest", "return " .. R("1 < (", N) .. "1" .. R(")", N)},
}
for _, c in ipairs(cases) do
  local f, e = loadstring(c[2])
  print(c[1], f and "compiled" or e:gsub("^%[string \"[^\"]*\"%]", "[string]"))
end
