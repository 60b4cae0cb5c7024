-- Matcher recursion is bounded (200 levels, "pattern too complex"); long inputs work.
local function t(...) local ok, r = pcall(...) print(ok, type(r) == "string" and #r > 40 and #r or r) end
t(string.match, ("a"):rep(199), ("a?"):rep(199))
t(string.match, ("a"):rep(200), ("a?"):rep(200))
t(string.match, ("a"):rep(300), ("a?"):rep(300) .. ("a"):rep(300))
t(string.match, ("a"):rep(99), ("(a)"):rep(99))
t(string.find, ("a"):rep(500), ("a*"):rep(250))
t(string.gsub, ("a"):rep(300), ("a?"):rep(300), "x")
local long = ("x"):rep(200000)
t(string.match, long, ".*")
t(string.match, long, ".-$")
t(string.match, long, ("x"):rep(10000))
t(string.find, long .. "y", "y")
t(string.find, long:sub(1, 3000), "x-y")
t(string.match, "(" .. long .. ")", "%b()")
print((long:gsub("x", "yz")):len(), select(2, long:gsub("x", "")))
local n = 0
for _ in long:gmatch("x") do n = n + 1 end
print(n)
t(string.rep, "ab", 1e10, "")
