-- if/elseif/else chains and truthiness of values.
local function classify(v)
  if v == nil then return "nil"
  elseif v == false then return "false"
  elseif type(v) == "number" and v < 0 then return "negative"
  elseif type(v) == "number" then return "number"
  else return "other" end
end
print(classify(nil), classify(false), classify(-1), classify(0), classify("s"))
for _, v in ipairs({0, "", {}, true}) do
  if v then print("truthy", type(v)) else print("falsy", type(v)) end
end
if nil then print("no") elseif false then print("no") else print("else branch") end
local x = 5
if x > 1 then if x > 3 then print("nested if") end end
