-- String literals: escapes, long strings, lengths.
print("tab:\tend", 'single \'quoted\'', "double \"quoted\"")
print("backslash \\ bell-free", "a\
b")
print(#"\n", #"\0", #"a\0b", #"\65\066\0677", "\65\066\0677")
print("\97\98\99", "\x41\x42", "\z
      continued")
print(#"", #"abc", #"\\", #'\'', #"\r\n")
print([[long
string]], [==[with ]] inside]==], #[[
skipped first newline]])
print([[a]] .. [=[b]=] .. [==[c]==])
print("x" == 'x', "abc" < "abd", "Z" < "a", "" < "a", "a" < "aa")
print("10" + 1, "3" * "4", "0x10" + 0, " 5 " * 2, "1e1" + 0)
print(10 .. 20, 1.5 .. "", -0.0 .. "", 2^63 .. "")
local s = "hello"
print(#s, s, #s .. s)
print("\u{48}" == "\u{48}", #"\u{48}")
