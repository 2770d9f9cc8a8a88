-- cqueues: a connection is a pollable object (pollfd, events, timeout), so
-- a cqueues coroutine can wait on it next to its other work.
local cqueues = require "cqueues"
local ras = require "ras"

local sim = assert(ras.open("sim", { entries = { Office = { step = 0.01 } } }))
local cq = cqueues.new()
local ticks = 0

cq:wrap(function()
  local conn = assert(sim.dial { entry = "Office", timeout = 5 })
  local states = 0
  while true do
    cqueues.poll(conn)               -- readable while an event is pending
    local ev = conn:next(0)
    while ev do
      states = states + 1
      if ev.group == "terminal" then
        print(string.format("cqueues: %s after %d states, %.3f s", ev.state, states, ev.elapsed))
        assert(conn:hangup())
        return
      end
      ev = conn:next(0)
    end
  end
end)

cq:wrap(function()                   -- other work, interleaved with the dial
  for _ = 1, 5 do
    ticks = ticks + 1
    cqueues.sleep(0.01)
  end
end)

assert(cq:loop())
print(string.format("cqueues: the other coroutine ran %d times meanwhile", ticks))
