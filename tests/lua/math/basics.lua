-- The math library: common functions and constants.
print(math.floor(3.7), math.ceil(3.2), math.floor(-3.5), math.ceil(-3.5))
print(math.abs(-4), math.max(1, 5, 3), math.min(4, 2, 8), math.huge, -math.huge)
print(math.sqrt(16), math.pi, math.fmod(7, 3), math.fmod(-7, 3), math.modf(3.75))
print(math.floor(2^31 + 0.5), math.tointeger == nil, math.log(1), math.exp(0))
print(math.floor(math.sin(1) * 10000) / 10000, math.random and "random present")
