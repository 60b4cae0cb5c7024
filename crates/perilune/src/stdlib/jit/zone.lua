-- jit.zone: a stack of named zones for the profiler (-jp=z).
--   zone("name")  push a zone
--   zone()        pop the current zone, return its name
--   zone:get()    the current zone, or nil
--   zone:flush()  empty the stack
local stack, depth = {}, 0

local zone = {}

function zone.get()
  return stack[depth]
end

function zone.flush()
  for i = depth, 1, -1 do stack[i] = nil end
  depth = 0
end

return setmetatable(zone, {
  __call = function(_, name)
    if name then
      depth = depth + 1
      stack[depth] = name
    else
      local top = stack[depth]
      if top ~= nil then
        stack[depth] = nil
        depth = depth - 1
      end
      return top
    end
  end,
})
