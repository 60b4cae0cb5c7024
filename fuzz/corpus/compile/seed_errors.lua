local x = = 1
goto nowhere
for i = 1 do end
local function () end
x = "unterminated
