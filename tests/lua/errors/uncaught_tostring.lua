-- An uncaught error object with __tostring is converted with it.
error(setmetatable({}, {__tostring = function() return "custom error object" end}))
