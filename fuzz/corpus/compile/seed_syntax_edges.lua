local a, b, c = ..., 0x1p4, 1e-3
local s = [==[long ]] string]==] .. "esc\n\t\\\"\065\x41\z
   continued" .. 'single'
--[[ long
comment ]] goto skip
do local x <const> = 1 end
::skip::
local t = {[1]=1, 2, x=3; 4, f=function(...) return select('#', ...) end, {}, ...}
while a do if b then break elseif c then a = not a else return end end
repeat local z = 1 until z
for i = 10, 1, -1 do end for k, v in pairs(t) do end
function t.m:n(x) return self, x end
local function f(a, b, ...) return a and b or f(b, a, ...) end
return a.b.c[d](e):f{g}"h"
