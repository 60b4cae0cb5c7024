-- Argument numbers in "bad argument" errors count from after the receiver in
-- method calls, and a bad receiver is "calling 'name' on bad self".
print(pcall(function() local x = ("x"):rep("a") end))
print(pcall(function() local t = {rep = string.rep} local x = t:rep(2) end))
print(pcall(function() local x = string.rep({}, 2) end))
print(pcall(function() local s = "abc" local x = s:sub({}) end))
print(pcall(function() local s = "abc" local x = s.sub(s, {}) end))
