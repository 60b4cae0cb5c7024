-- jit.p: the profiler behind -jp, on top of jit.profile. Options and report
-- formats are LuaJIT's (docs/stdlib-debug-package-jit.md, "jit.p"):
--
--   f  stack dump: function name, else chunk:line (default)
--   F  stack dump: chunk:name, else chunk:line
--   l  stack dump: chunk:line
--   N  stack dump depth N (callee < caller; default 1); -N: caller > callee
--   s  split the dump after its first level (implies a depth of 2 or -2)
--   p  full path of chunk names
--   v  VM states; z  zones (jit.zone); combined with f/F/l: a two-level view
--   r  raw sample counts instead of percentages
--   a  annotate excerpts of the source files; A  whole source files
--   G  folded stacks for flame graph tools: one line "caller;...;callee count"
--      per stack (flamegraph.pl and inferno read it)
--   mN minimum percentage shown (default 3); iN sampling interval in ms (default 10)
--
-- require("jit.p").start(options, output) starts it, .stop() stops it and writes
-- the report (to stdout, or output: a file name, "-" for stdout, default the
-- environment variable LUAJIT_PROFILEFILE). A run that is not stopped is reported
-- when the state closes (the command's -jp).
local profile = require("jit.profile")
local vmdef = require("jit.vmdef")
local floor, max, ceil, log10 = math.floor, math.max, math.ceil, math.log10
local format, rep = string.format, string.rep
local sort, concat = table.sort, table.concat
local pairs, ipairs, tonumber, type = pairs, ipairs, tonumber, type

local VMSTATE_NAMES = {
  N = "Compiled", I = "Interpreted", C = "C code",
  G = "Garbage Collector", J = "JIT Compiler",
}

-- The run in progress (nil when none): its settings and counts.
local run

local function builtin_name(id)
  return vmdef.ffnames[tonumber(id)]
end

local function add(t, k, n)
  t[k] = (t[k] or 0) + n
end

local function on_sample(thread, samples, vmstate)
  local r = run
  if not r then return end
  r.total = r.total + samples
  local state
  if r.states == "v" then
    state = VMSTATE_NAMES[vmstate] or vmstate
  elseif r.states == "z" then
    state = r.zone:get() or "(none)"
  end
  local stack, stack2
  if r.fmt then
    stack = profile.dumpstack(thread, r.fmt, r.depth):gsub("%[builtin#(%d+)%]", builtin_name)
    if r.split == "levels" then
      local first, rest = stack:match("^(.-) [<>] (.*)$")
      if rest then stack, stack2 = first, rest end
    elseif r.split == "lines" then
      stack2 = profile.dumpstack(thread, "l", 1)
    end
  end
  local outer, inner
  if r.split == "state" then
    outer, inner = state, stack
  else
    outer, inner = stack, stack2 or state
  end
  if not outer then return end
  add(r.counts, outer, samples)
  if inner then
    local sub = r.subcounts[outer]
    if not sub then
      sub = {}
      r.subcounts[outer] = sub
    end
    add(sub, inner, samples)
  end
end

-- Keys of `counts`, most samples first (ties in key order).
local function ranked(counts)
  local keys = {}
  for k in pairs(counts) do keys[#keys + 1] = k end
  sort(keys, function(a, b)
    local ca, cb = counts[a], counts[b]
    if ca ~= cb then return ca > cb end
    return a < b
  end)
  return keys
end

local function report_top(r, out, counts, subcounts, total, indent)
  for _, k in ipairs(ranked(counts)) do
    local n = counts[k]
    local pct = floor(n * 100 / total + 0.5)
    if pct < r.min then break end
    if r.raw == "folded" then
      out:write(k, " ", n, "\n")
    elseif r.raw then
      out:write(format("%s%5d  %s\n", indent, n, k))
    else
      out:write(format("%s%2d%%  %s\n", indent, pct, k))
    end
    local sub = subcounts and subcounts[k]
    if sub then
      local mark
      if r.split == "lines" or r.split == "state" then
        mark = "  -- "
      else
        mark = r.depth < 0 and "  -> " or "  <- "
      end
      report_top(r, out, sub, nil, n, mark)
    end
  end
end

-- Source files with the share of samples of each line.
local function report_annotated(r, out, total)
  local files, names, most = {}, {}, 0
  for k, n in pairs(r.counts) do
    most = max(most, n)
    local pct = floor(n * 100 / total + 0.5)
    if pct >= r.min then
      local file, line = k:match("^(.*):(%d+)$")
      if not file then file, line = k, 0 end
      local lines = files[file]
      if not lines then
        lines = {}
        files[file] = lines
        names[#names + 1] = file
      end
      lines[tonumber(line)] = r.raw and n or pct
    end
  end
  sort(names)
  local with, without = " %3d%% | %s\n", "      | %s\n"
  if r.raw then
    local w = max(5, ceil(log10(most)))
    with, without = "%" .. w .. "d | %s\n", rep(" ", w) .. " | %s\n"
  end
  local context = r.annotate
  for _, file in ipairs(names) do
    local c = file:sub(1, 1)
    if c == "(" or c == "[" then
      out:write(format("\n====== %s ======\n[Cannot annotate non-file]\n", file))
      break
    end
    local fp, err = io.open(file)
    if not fp then
      out:write(format("====== ERROR: %s: %s\n", file, err))
      break
    end
    out:write(format("\n====== %s ======\n", file))
    local lines = files[file]
    -- With a context, only lines within `context` lines of a sampled one are
    -- shown, each block after an "@@ N @@" header.
    local shown = {}
    if context ~= 0 then
      for line in pairs(lines) do
        for i = line - context, line + context do shown[i] = true end
      end
    end
    local n = 0
    for text in fp:lines() do
      n = n + 1
      if text:byte() == 27 then
        out:write("[Cannot annotate bytecode file]\n")
        break
      end
      if context == 0 or shown[n] then
        if context ~= 0 and not shown[n - 1] then out:write(format("@@ %d @@\n", n)) end
        local v = lines[n]
        if v then
          out:write(format(with, v, text))
        else
          out:write(format(without, text))
        end
      end
    end
    fp:close()
  end
end

-- Stop the run in progress and write its report.
local function stop()
  local r = run
  if not r then return end
  run = nil
  profile.stop()
  local out = r.out
  if r.total == 0 then
    if r.raw ~= "folded" then out:write("[No samples collected]\n") end
  elseif r.annotate then
    report_annotated(r, out, r.total)
  else
    report_top(r, out, r.counts, r.subcounts, r.total, "")
  end
  if out ~= io.stdout then
    out:close()
  else
    out:flush()
  end
end

-- Settings from an option string.
local function configure(mode)
  local r = { min = 3, depth = 1, interval = "" }
  mode = mode:gsub("i%d*", function(s) r.interval = s; return "" end)
  mode = mode:gsub("m(%d+)", function(s) r.min = tonumber(s); return "" end)
  mode = mode:gsub("%-?%d+", function(s) r.depth = tonumber(s); return "" end)
  local has = {}
  for c in mode:gmatch(".") do has[c] = true end
  r.states = (has.z and "z") or (has.v and "v") or nil
  local scope = (has.l and "l") or (has.f and "f") or (has.F and "F") or (r.states and "" or "f")
  r.raw = has.r
  if has.s then
    r.split = "levels"
    if r.depth == -1 or has["-"] then
      r.depth = -2
    elseif r.depth == 1 then
      r.depth = 2
    end
  elseif mode:find("[fF].*l") then
    scope = "l"
    r.split = "lines"
  elseif scope == "" or mode:find("[zv].*[lfF]") then
    r.split = "state"
  end
  if has.A or has.a then
    r.annotate = has.A and 0 or 3
    scope, r.fmt, r.split, r.depth = "l", "pl", nil, 1
  elseif has.G and scope ~= "" then
    r.fmt = (has.p and "p" or "") .. scope .. "Z;"
    r.depth, r.raw, r.min = -100, "folded", 0
  elseif scope ~= "" then
    local shown = (r.split == "lines" and has.f and "f") or (has.F and "F") or scope
    r.fmt = (has.p and "p" or "") .. shown .. (r.depth >= 0 and "Z < " or "Z > ")
  end
  r.scope = scope
  return r
end

-- Start profiling with `mode` (default "f"), reporting to `outfile`.
local function start(mode, outfile)
  stop()
  outfile = outfile or os.getenv("LUAJIT_PROFILEFILE")
  local out = io.stdout
  if outfile and outfile ~= "-" then out = assert(io.open(outfile, "w")) end
  local r = configure(mode or "f")
  r.out = out
  r.total, r.counts, r.subcounts = 0, {}, {}
  if r.states == "z" then r.zone = require("jit.zone") end
  -- Reported when the state closes if nobody stops it first.
  r.anchor = newproxy(true)
  getmetatable(r.anchor).__gc = function() if run == r then stop() end end
  run = r
  profile.start(r.scope:lower() .. r.interval, on_sample)
end

return { start = start, stop = stop }
