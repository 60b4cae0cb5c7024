-- sideexit: a numeric loop whose branch changes direction every other iteration
-- (issue 17's side-exit micro-benchmark). Without side traces the trace leaves at
-- the branch's guard every second iteration and the interpreter runs the rest of
-- that iteration; the cost of one exit is (time JIT on - time of the same work
-- without exits) / exits.
-- Usage: sideexit.lua [n]   (default 20000000 iterations)
-- small size: 1000
local N = tonumber(arg and arg[1]) or 20000000
local s, t = 0, 0
for i = 1, N do
  if i % 2 == 0 then
    s = s + i * 0.5
  else
    t = t - 1
  end
end
print(string.format("%.17g %.17g", s, t))
