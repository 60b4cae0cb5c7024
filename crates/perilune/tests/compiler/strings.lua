local s = "tab\tnl\nq\"\\x41=\x41 dec=\065 u=\u{48}\u{20AC} z=\z
      after"
local l = [[
first line dropped
second]]
local l2 = [==[ with ]] inside ]==]
return s, l, l2, '\'', "\0"
