-- Is `err` one of the errors LuaJIT's string.buffer decoder raises for bad input?
-- Shared by crates/perilune/tests/string_buffer_host.rs and the buffer_decode fuzz
-- target (fuzz/src/lib.rs): decoding arbitrary bytes may fail with these only.
local known = {
  ["unexpected end of buffer"] = true, ["left-over data in buffer"] = true,
  ["too deep to serialize"] = true, ["duplicate table key"] = true,
  ["table index is nil"] = true, ["table index is NaN"] = true,
  ["table overflow"] = true, ["not enough memory"] = true,
  ["bad light userdata pointer"] = true,
}
return function(err)
  local m = tostring(err)
  return known[m] ~= nil or m:match("^cannot deserialize tag 0x%x+$") ~= nil
    or m:match("^cannot deserialize dictionary index %-?%d+$") ~= nil
end
