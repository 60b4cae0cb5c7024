-- Deliberate fragmentation: fill the heap with strings of one size, keep one string
-- per 64 KiB (one per allocator page, for any allocator with pages of 64 KiB or less),
-- collect, and move on to the next size. Each round pins a little live data but, in an
-- allocator that does not count its pages, a whole heap's worth of pages.
--
-- usage: perilune --memory-limit 64M fragmentation.lua [MiB per round] [rounds]
local per_round = (tonumber(arg and arg[1]) or 16) * 2^20
local rounds = tonumber(arg and arg[2]) or 40

local keep, kept_bytes = {}, 0
local size = 24
local oom_rounds = 0
for round = 1, rounds do
  local ok, err = pcall(function()
    local tmp, n = {}, math.floor(per_round / size)
    local pad = string.rep("x", size - 12)
    for i = 1, n do tmp[i] = pad .. i end
    local stride = math.max(1, math.floor(65536 / size))
    for i = 1, n, stride do
      keep[#keep + 1] = tmp[i]
      kept_bytes = kept_bytes + size
    end
  end)
  if not ok then
    oom_rounds = oom_rounds + 1
    assert(tostring(err):find("not enough memory"), err)
  end
  collectgarbage()
  size = math.floor(size * 1.25) + 8
  if size > 8192 then size = 24 end
end
print(string.format("rounds %d, out of memory in %d, kept %d strings",
  rounds, oom_rounds, #keep))
