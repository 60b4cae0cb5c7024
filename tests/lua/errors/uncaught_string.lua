-- An uncaught error: message and traceback on stderr, exit status 1.
print("before")
local function fail()
  error("something went wrong")
end
fail()
print("not reached")
