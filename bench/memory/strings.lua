-- Strings of every size, kept until the limit refuses one; then all are dropped and
-- it starts over, three times.
for round = 1, 3 do
  local keep = {}
  local ok, err = pcall(function()
    for i = 1, 1e9 do keep[i] = string.rep("s", (i * 7919) % 20000 + 1) .. i end
  end)
  print(round, ok, err)
  keep = nil
  collectgarbage()
end
