-- An uncaught string library error: message with position and a traceback.
print("before")
local s = ("x"):rep(2)
print(s:find("(", 1))
