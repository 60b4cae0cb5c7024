-- Multiple returns, truncation in expressions, parenthesised calls.
local function mr() return 1, 2, 3 end
local function none() end
local function nilret() return nil end
print(mr())
print(mr(), "x")
print("x", mr())
print((mr()))
print(mr() + 10)
local t = {mr(), mr()}
print(#t)
print(select("#", none()), select("#", nilret()), select("#", (none())))
print(none(), nilret())
local a, b = none()
print(a, b)
local function tail() return mr() end
print(tail())
local function ifret(x) if x then return "yes" else return "no" end end
print(ifret(true), ifret(false))
local function early(n)
  for i = 1, 10 do if i == n then return i * 100 end end
  return -1
end
print(early(3), early(11))
local function manyret()
  return 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20
end
print(manyret())
print(select("#", manyret()))
local s = "a" .. (mr())
print(s)
