local a = 1
local function outer()
  local b = 2
  return function()
    local c = 3
    return function() return a + b + c end
  end
end
function M.f(x) return x end
function M.a.b:c(y) return self, y end
return outer
