local s = string.rep("a", 40)
print(string.find(s, "(a*)*b"), string.find(s, ".-.-.-.-b"))
print(string.gsub("hello world", "(%w+)", "<%1>"), string.format("%q|%5.2f|%-8s|%x", "a\0b", 1/3, "s", 255))
print(pcall(string.gsub, "abc", "(", ""), pcall(string.format, "%y", 1))
for k, v in string.gmatch("a=1, b=2", "(%w+)=(%w+)") do print(k, v) end
