-- numeric literals as LuaJIT reads them, and tonumber on the same text: hex signs, 0b, exponent range
local function try(s)
  local f, e = loadstring("return " .. s)
  local r
  if f then
    local ok, v = pcall(f)
    r = ok and string.format("%.17g", v) or "ERR " .. tostring(v)
  else
    r = e
  end
  print(s, r, tonumber(s), tonumber("  " .. s .. "\n"), tonumber("-" .. s))
end
-- in a hex literal only p starts an exponent: + and - after e are operators
for _, s in ipairs{"0xe+9", "0xE-1", "0x1e+1", "0xe+", "0xe+0x1", "0xe-0xe", "0x1p4", "0xep+1", "0x1P-2",
  "0x1p+", "0xfp", "0xp1", "0x.8", "0x.8p1", "0x.", "0x", "0x1.", "0xA.", "0x1.8", "0x1.8p1", "0xep+1e+1",
  "0x10000000000000000", "00x1", "0x1p1e", "0x1.0000000000001p-1074", "0x1p-1075"} do
  try(s)
end
-- binary integers
for _, s in ipairs{"0b101", "0B11", "0b", "0b2", "0b1.1", "0b1e1", "0b1p1", "0b101+1", "0b1+0b1", "0b1e+1",
  "0b1E-1", "0b0000000000000000000000000000000000000000000000000000000000000000000001",
  "0b1111111111111111111111111111111111111111111111111111111111111111",
  "0b11111111111111111111111111111111111111111111111111111111111111111"} do
  try(s)
end
-- decimal exponents: 2^20 or more in magnitude is malformed
for _, s in ipairs{"5e1048576", "5e1048575", "5e-1048576", "5e-1048575", "1e400", "0x1p1048576",
  "0x1p1048575", "0x1p-1048576", "1e0001048575", "5e01048576", "0.0000000001e1048576",
  "1e99999999999999999999", "1e-00000000000000000000001", "0x1p99999999999", "2e-324"} do
  try(s)
end
-- other forms
for _, s in ipairs{"08", "1.5e3", "3..2", "3.", ".5", "1e1.5", "1e+", "1p+1", "1P-1", "1e5p", "1e+1e+1", "1f"} do
  try(s)
end
-- string coercion uses the same scanner
print(pcall(function() return "0b101" + 0 end))
print(pcall(function() return "0xe+9" + 0 end))
print(pcall(function() return "5e1048576" + 0 end))
print(tonumber("0b101", 10), tonumber("0b101", 2), tonumber("101", 2), tonumber("0b101", 16))
print(tonumber("0b101\0"), tonumber("\t0B11\n"), tonumber("- 0b1"), tonumber("-0b1"), tonumber("+0b1"))
