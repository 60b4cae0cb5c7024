-- oop: method calls through metatables (classes with __index chains two and three
-- levels deep, self calls, a small job scheduler in the spirit of an OS simulator).
-- Usage: oop.lua [rounds]   (default 320000)
-- small size: 200
local N = tonumber(arg and arg[1]) or 320000

local function class(parent)
  local c = {}
  c.__index = c
  if parent then
    setmetatable(c, { __index = parent })
  end
  c.new = function(...)
    local o = setmetatable({}, c)
    o:init(...)
    return o
  end
  return c
end

-- Tasks: a base class, two subclasses and a sub-subclass.
local Task = class()
function Task:init(id, prio)
  self.id = id
  self.prio = prio
  self.runs = 0
  self.state = "ready"
end
function Task:is_ready()
  return self.state == "ready"
end
function Task:step(sched)
  self.runs = self.runs + 1
  return self:work(sched)
end
function Task:work(_)
  return 1
end

local Worker = class(Task)
function Worker:init(id, prio, load)
  Task.init(self, id, prio)
  self.load = load
  self.done = 0
end
function Worker:work(sched)
  self.done = self.done + self.load
  if self.done % 5 == 0 then
    sched:send(self.id, (self.id % sched.ntasks) + 1, self.done)
  end
  return self.load
end

local Device = class(Task)
function Device:init(id, prio)
  Task.init(self, id, prio)
  self.queue = {}
  self.head = 1
  self.tail = 0
  self.handled = 0
end
function Device:post(msg)
  self.tail = self.tail + 1
  self.queue[self.tail] = msg
end
function Device:work(sched)
  if self.head > self.tail then
    self.state = "waiting"
    return 0
  end
  local msg = self.queue[self.head]
  self.queue[self.head] = nil
  self.head = self.head + 1
  self.handled = self.handled + msg.value % 97
  return 2
end

local Logger = class(Device)
function Logger:work(sched)
  local r = Device.work(self, sched)
  if r > 0 then
    sched.logged = sched.logged + 1
  end
  return r
end

local Message = class()
function Message:init(from, to, value)
  self.from = from
  self.to = to
  self.value = value
end

local Scheduler = class()
function Scheduler:init()
  self.tasks = {}
  self.ntasks = 0
  self.clock = 0
  self.logged = 0
  self.sent = 0
end
function Scheduler:add(t)
  self.ntasks = self.ntasks + 1
  self.tasks[self.ntasks] = t
end
function Scheduler:send(from, to, value)
  local t = self.tasks[to]
  if t.post then
    t:post(Message.new(from, to, value))
    t.state = "ready"
    self.sent = self.sent + 1
  end
end
function Scheduler:round()
  local tasks = self.tasks
  for i = 1, self.ntasks do
    local t = tasks[i]
    if t:is_ready() then
      self.clock = self.clock + t:step(self)
    end
  end
end

local s = Scheduler.new()
for i = 1, 24 do
  local k = i % 4
  if k == 0 then
    s:add(Device.new(i, 1))
  elseif k == 1 then
    s:add(Worker.new(i, 2, i % 7 + 1))
  elseif k == 2 then
    s:add(Logger.new(i, 3))
  else
    s:add(Worker.new(i, 1, i % 3 + 2))
  end
end
for _ = 1, N do
  s:round()
end
local runs, handled = 0, 0
for i = 1, s.ntasks do
  local t = s.tasks[i]
  runs = runs + t.runs
  handled = handled + (t.handled or 0)
end
print(string.format("clock %d sent %d logged %d", s.clock, s.sent, s.logged))
print(string.format("runs %d handled %d", runs, handled))

-- Vectors with arithmetic metamethods
local Vec = {}
Vec.__index = Vec
local function vec(x, y)
  return setmetatable({ x = x, y = y }, Vec)
end
Vec.__add = function(a, b)
  return vec(a.x + b.x, a.y + b.y)
end
Vec.__mul = function(a, k)
  return vec(a.x * k, a.y * k)
end
Vec.__eq = function(a, b)
  return a.x == b.x and a.y == b.y
end
function Vec:dot(o)
  return self.x * o.x + self.y * o.y
end
local acc = vec(0, 0)
local dots = 0
for i = 1, N * 2 do
  local v = vec(i % 10, i % 7) * 2
  acc = acc + v
  dots = (dots + v:dot(acc)) % 1000000007
  if v == vec(0, 0) then
    dots = dots + 1
  end
end
print(string.format("vectors %d %d dots %d", acc.x, acc.y, dots))
