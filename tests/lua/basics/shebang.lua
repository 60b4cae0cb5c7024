#!/usr/bin/env perilune this first line is skipped by the lexer
-- Comments of every shape; the shebang line above must be ignored.
print("line", 2 + 1) -- trailing comment
--[[ block
comment ]] print("after block comment")
--[==[ another
]] still comment
]==] print("after level-2 comment")
---[[ not a block comment
print("single-line comment trick")
--]]
print(1 --[[ inline ]] + --[=[ x ]=] 2)
