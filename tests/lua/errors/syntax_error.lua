-- A syntax error: reported on stderr without a traceback; nothing runs.
print("never printed")
local x = = 1
