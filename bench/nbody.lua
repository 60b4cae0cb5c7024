-- nbody: floating-point arithmetic on table fields (a small gravitational system,
-- integrated with semi-implicit Euler steps).
-- Usage: nbody.lua [steps]   (default 1000000)
-- small size: 1000
local N = tonumber(arg and arg[1]) or 1000000
local sqrt = math.sqrt

-- A made-up system: a heavy central body and four lighter ones on rough orbits.
local function body(x, y, z, vx, vy, vz, mass)
  return { x = x, y = y, z = z, vx = vx, vy = vy, vz = vz, mass = mass }
end

local bodies = {
  body(0, 0, 0, 0, 0, 0, 40.0),
  body(3.0, 0.5, -0.1, 0.1, 3.5, 0.05, 0.04),
  body(-5.5, 1.0, 0.2, -0.4, -2.6, 0.0, 0.012),
  body(0.3, 8.0, -0.4, -2.1, 0.2, 0.03, 0.02),
  body(-1.0, -11.0, 0.6, 1.85, -0.1, -0.02, 0.003),
}

local function offset_momentum(bs)
  local px, py, pz, m = 0, 0, 0, 0
  for i = 1, #bs do
    local b = bs[i]
    px = px + b.vx * b.mass
    py = py + b.vy * b.mass
    pz = pz + b.vz * b.mass
    m = m + b.mass
  end
  local c = bs[1]
  c.vx = c.vx - px / c.mass
  c.vy = c.vy - py / c.mass
  c.vz = c.vz - pz / c.mass
end

local function energy(bs)
  local e = 0
  local n = #bs
  for i = 1, n do
    local a = bs[i]
    e = e + 0.5 * a.mass * (a.vx * a.vx + a.vy * a.vy + a.vz * a.vz)
    for j = i + 1, n do
      local b = bs[j]
      local dx, dy, dz = a.x - b.x, a.y - b.y, a.z - b.z
      e = e - a.mass * b.mass / sqrt(dx * dx + dy * dy + dz * dz)
    end
  end
  return e
end

local function advance(bs, n, dt)
  for i = 1, n do
    local a = bs[i]
    local ax, ay, az, am = a.x, a.y, a.z, a.mass
    for j = i + 1, n do
      local b = bs[j]
      local dx, dy, dz = ax - b.x, ay - b.y, az - b.z
      local d2 = dx * dx + dy * dy + dz * dz
      local mag = dt / (d2 * sqrt(d2))
      local bm = b.mass * mag
      a.vx = a.vx - dx * bm
      a.vy = a.vy - dy * bm
      a.vz = a.vz - dz * bm
      local amm = am * mag
      b.vx = b.vx + dx * amm
      b.vy = b.vy + dy * amm
      b.vz = b.vz + dz * amm
    end
  end
  for i = 1, n do
    local b = bs[i]
    b.x = b.x + dt * b.vx
    b.y = b.y + dt * b.vy
    b.z = b.z + dt * b.vz
  end
end

offset_momentum(bodies)
print(string.format("energy before %.6f", energy(bodies)))
local n = #bodies
for _ = 1, N do
  advance(bodies, n, 0.001)
end
print(string.format("energy after %.6f", energy(bodies)))
print(string.format("body2 at %.4f %.4f %.4f", bodies[2].x, bodies[2].y, bodies[2].z))
