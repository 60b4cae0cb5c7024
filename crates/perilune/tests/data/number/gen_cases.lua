-- Generates luajit_cases.txt: expected outputs captured from LuaJIT 2.1 (x86-64),
-- read by crates/perilune/src/number/tests.rs.
-- Run from this directory: luajit gen_cases.lua > luajit_cases.txt
--
-- One case a line: the section, then its fields, separated by tabs. Numbers are the
-- bits of a double in hex; `-` is "no number" (tonumber returned nil); text fields
-- are bytes with \xHH standing for a control byte, a byte above 0x7e, a backslash
-- and a space that ends the line.
local function esc(s)
  s = s:gsub('[%z\1-\31\\\127-\255]', function(c) return string.format("\\x%02x", c:byte()) end)
  -- Spaces at the end of a line would not survive editors: spell them too.
  return (s:gsub(" +$", function(sp) return ("\\x20"):rep(#sp) end))
end
local function row(...) io.write(table.concat({...}, "\t"), "\n") end
local function part1()
local ffi = require "ffi"
local function bits(v) local d = ffi.new("double[1]", v); return string.format("0x%016x", ffi.cast("uint64_t*", d)[0]) end
local z = tonumber("0")
math.randomseed(12345)
local function randbits()
  local hi = math.random(0, 0x7fffffff) * 2 + math.random(0,1)  -- 32 bits
  local lo = math.random(0, 0x7fffffff) * 2 + math.random(0,1)
  local u = ffi.new("uint64_t[1]", ffi.cast("uint64_t", hi) * 4294967296ULL + lo)
  return ffi.cast("double*", u)[0]
end
local vals = {0, -0.0, 1, -1, 0.1, 1e-5, 1e15, 1e14, 99999999999999, -99999999999999, 123456789012345, 1234567890123456, 1e100, 2^53, 2^63, -2^63, 2^64, 1/z, -1/z, z/z, -(z/z),
 3.14159265358979, 100, 1e-300, 5e-324, 1.7976931348623157e308, 0.5, 123.456, 1e21, 99999999999999.9, 999999999999999, 9999999999999999, 0.1+0.2, 1/3, -1/3, 2^-1074,
 12345678901234567890, 1e-4, 0.0001234, 2^31, -2^31, 4294967296, 1e16, 9007199254740993, -123, 2.5, 2.2250738585072014e-308, 2^-1022 - 2^-1074, 12345678901234.5, 1e15+5,
 0.25, 0.125, 0.375, 1.5, 1250, 125, 2^-20, 1.005, 1e-7, 123e-7, 1e22, 1e23, 9.9999999999999995e22, 5e-5, 9.99999999999995, 0.999999999999995, 99999999999999.5, 999999999999995, 2^70, 2^74+2^20, 1152921504606846976, 0.3, 2/3, 1e-310, 4.35, 1e300*10}
for i = 1, 60 do vals[#vals+1] = randbits() end
for i = 1, 80 do vals[#vals+1] = math.random(-1e6, 1e6) / 10^math.random(0, 12) end
for i = 1, 150 do vals[#vals+1] = (math.random(0, 2^20) + 0.5) * 2^math.random(-30, 40) end
for i = 1, 50 do vals[#vals+1] = math.random(1, 99999) * 5 * 10^math.random(0, 15) end
for i = 1, 50 do vals[#vals+1] = math.random(1, 2^30) * 2^math.random(-1074, -1000) end
for _, v in ipairs(vals) do row("fmt_number", bits(v), esc(tostring(v))) end

local specs = {"%g","%.0g","%.1g","%.3g","%.17g","%.20g","%.99g","%e","%.0e","%.3e","%.16e","%.99e","%E","%G","%f","%.0f","%.1f","%.2f","%.3f","%.20f","%.99f","%10.3f","%-10.3g","%+g","% g","%#g","%#.0e","%#.0f","%05.1f","%+ g","%+5g","%06g","%+06g","%-06g","%010.3e","%a","%A","%.0a","%.1a","%.3a","%.13a","%.20a","%#.0a","%020a","%+a","%-+8.2f","%#.3g","%#.10g","%99.2f","%#G","%.15g","%.16g","%.1e","%.2e","%.5f","%.10f","%.14g"}
local fvals = {0, -0.0, 1, 0.5, 1.5, 2.5, -2.5, 3.5, 0.25, 0.125, 0.375, 100000, 1e6, 1e-4, 1e-5, 123456789, 0.000123456, 1e300, 5e-324, 2.2250738585072014e-308, 1.7976931348623157e308, z/z, -(z/z), 1/z, -1/z, 3.14159, 1.03125, 1250, 125, 0.1, 1/3, 9.5, 99.5, 0.95, 0.05, 1e15+5, 12345678901234.5, 2^-20, 1.0000001, 999999.5, 0.9999995, 1e21, 2^70}
local nfixed = #fvals
for i = 1, 10 do fvals[#fvals+1] = randbits() end
for i = 1, 10 do fvals[#fvals+1] = math.random(-1e6, 1e6) / 10^math.random(0, 8) end
for i = 1, 10 do fvals[#fvals+1] = (math.random(0, 2^12) + 0.5) * 2^math.random(-12, 12) end
for _, f in ipairs(specs) do for i, v in ipairs(fvals) do
  local s = string.format(f, v)
  if #s < 1200 and (i <= nfixed or not f:find("99")) then row("fmt_float", esc(f), bits(v), esc(s)) end
end end
end
local function part2()
local ffi = require "ffi"
local function bits(v) local d = ffi.new("double[1]", v); return string.format("0x%016x", ffi.cast("uint64_t*", d)[0]) end
local function opt(v) return v == nil and "-" or bits(v) end
local parse = {"", " ", "1", " 1 ", "\t1\n", "\v1\f", "\r1", "1.", ".5", ".", "-.5", "+1", "+.5", "-", "+", "1e5", "1E-3", "1e+3", "1e", "1e+", "e5", "1.5e2", "0x", "0x1F", "0X1f", "-0x10", "+0x10", "0x-10", "- 1", "0x1p4", "0x.8", "0x1.8", "0x1P-1", "0x1p", "0xg", "0x1.", "0x.", "0x.p1", "0xffffffffffffffff", "0x10000000000000000", "0x1fffffffffffff", "0x20000000000001", "0x20000000000003", "inf", "nan", "-inf", "infinity", "1 2", "1x", "1\0", "\0", "1e400", "-1e400", "1e-400", "00012", "0012.5", "1_000", "\239\188\145", "0b101", "1e5.5", "9007199254740993", "123456789012345678901234567890", "0.1", "2.2250738585072011e-308", "4.9e-324", "2e-324", "0x1e", "0x1E+1", "0x1p+4", "0x1p-4", "0X1P4", "0x8000000000000000", "-0", "-0x0", "0x0.1p4", "1e0000000000000005", "1e-0000000000000005", "0x1p99999", "0x1p-99999", "1LL", "1ULL", "1i", "0x1ULL", "\n\n5\n\n", "5 \0", "0x1.fffffffffffff8p1023", ".e5", "1.e5", "0x1e-5",
 "INF", "Inf", "NaN", "NAN", "-nan", "+inf", " inf ", "infinit", "infinity ", "INFINITY", "-infinity", "+nan", "nanx", "in", "0B11", "0b", "0b2", "0b1.1", "0b1p1", "-0b11", "0b1e1", "0o17", "0x1.8p1.5", "0x1p-1074", "0x1.8p-1074", "0x1p-1075", "0x1.0000000000001p-1075", "0x0.0000000000001p-1022", "0x1.fffffffffffffp1023", "0x1.fffffffffffff7ffp1023", "0x10000000000000800", "0x10000000000000801", "0x1000000000000080000000001",
 "1e-99999999999999999999", "1e99999999999999999999", "0e99999999999", "0x1p-99999999999999999999999", "0x1p9999999999999999999999", ".0", "0.", "00", "0x0p0", "0x.0", "1e-5",
 "1e999999", "1e1048575", "1e1048576", "1e-1048575", "1e-1048576", "0x1p1048575", "0x1p1048576", "0x1p-1048576", "0e1048576", "1e0065536", "1e000000000000000000000000000001",
 "12345678901234567890e-20", "0.1e-400", "123456789012345", "1234567890123456", "12345678901234567", "0.000001", "1000000000000000000000", "1e22", "1e23", "8.98846567431158e307", "1.7976931348623157e308", "1.7976931348623158e308", "1.7976931348623159e308",
 "2.4703282292062327e-324", "2.4703282292062328e-324", "0.30000000000000004", "3.0000000000000004e-1", "179769313486231570000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000",
 "0x1.000000000000080p0", "0x1.000000000000081p0", "0x1.000000000000180p0", "0x.00000000000000000001p80", "0xABCDEFabcdef", "0x123456789abcdef0123", "+-1", "-+1", "1..2", "1.2.3", "0x1..2", "1e1e1", "0x1p1p1", "1 e5", "1e 5", "0 x10", "0x 10", "\0001", "1\0 ", " \t\v\f\r\n"}
for _, s in ipairs(parse) do row("parse", esc(s), opt(tonumber(s))) end
local base = {{"-ff",16},{"ff",16},{"FF",16},{"  11  ",2},{"1.5",10},{"z",36},{"Z",36},{"",10},{" ",10},{"-",10},{"+5",10},{"- 5",10},{" -5 ",10},{"12",2},{"0x10",16},{"0x10",10},{"10",36},{"1e5",10},{"1e5",16},{"7fffffffffffffff",16},{"ffffffffffffffff",16},{"10000000000000000",16},{"1" .. string.rep("0",100),2},{string.rep("z",30),36},{"\t10\n",8},{"10\0",10},{"99999999999999999999",10},{"18446744073709551615",10},{"18446744073709551616",10},{"9007199254740993",10},{"-9007199254740993",10},{"--5",10},{"-0",10},{"0",10},{"inf",10},{"nan",36},{"8",8},{"-ff",16}, {"ff  x",16}, {"+ff",16}, {"0b11", 2}, {"abc", 13}, {" ",36}, {"-1",2},
 {"123456789abcdef01",16},{"10000000000000001",16},{"-zzzzzzzzzzzzzzzz",36},{"fffffffffffffffe",16},{"1fffffffffffff",16},{"20000000000001",16},{"3w5e11264sgsf",36},{"3w5e11264sgsg",36}, {"0.5",16},{"1 ",16},{" 1",36},{"\v\f1\r",16}, {"00000000000000000000000000000001", 2}, {"-0", 16}, {"777", 8}, {"778", 8}, {"zZ", 36}, {"g", 16}, {"G", 17}, {"-", 16}, {"+", 16}, {"1\0", 16}, {"101", 3}, {"0x1p4", 10}, {"1\0zz",16},{"\0",16},{"1 \0 x",16},{"-\0",16},{"1\0",2},{"-0x10",16},{"0x",16},{"0X1f",16},{"0x 1",16},{"0x10",8},{"0x10",36},{"0x10",17},{"0x0x1",16},{"+0x1",16},{" 0x1 ",16},{"0b1",2},{"0b1",16},{"00x1",16},{"0x",36}}
for _, c in ipairs(base) do row("base", esc(c[1]), c[2], opt(tonumber(c[1], c[2]))) end
local z = tonumber("0"); local inf = 1/z; local nan = z/z
local mv = {5, -5, 3, -3, 5.5, -5.5, 2, 0, -0.0, 1, inf, -inf, nan, 0.1, 1e308, 2^53, 1e-300, 7, 0.5, -0.25, 1/3, 2^-1074, 10, -8, 1/3}
for _, a in ipairs(mv) do for _, b in ipairs(mv) do
  row("arith", bits(a), bits(b), bits(a % b), bits(a ^ b))
end end
end
io.write("# @generated by gen_cases.lua from LuaJIT 2.1 output; do not edit by hand.\n")
part1()
part2()
