-- Helpers of the stress specs (spec/stress/*_spec.lua): contexts of fast
-- simulated entries, and a recorder that checks each connection's events
-- against the scenario's sequence, as its handler sees them.
local ras = require "ras"

local support = {}

-- The events of a dial of the default scenario, in order.
support.sequence = {
  "OpenPort", "PortOpened", "ConnectDevice", "DeviceConnected", "AllDevicesConnected",
  "Authenticate", "AuthNotify", "Authenticated", "AuthProject", "Projected", "Connected",
}

-- Seconds a pump loop may go on before the spec gives up (an event lost).
support.LIMIT = 120

function support.context(options)
  options = options or {}
  options.entries = options.entries or { Fast = { step = 0 } }
  return assert(ras.open("sim", options))
end

-- A recorder: rec:handler(inner) makes an on_state function that notes each
-- event (at entry, before inner runs: a nested pump delivers later events
-- inside it) and checks it is the next of the sequence; rec.done counts the
-- connections that reached Connected; rec:check() raises on any event
-- missing, repeated or out of order.
function support.recorder(sequence)
  local rec = { sequence = sequence or support.sequence, done = 0, seen = {}, problem = nil }
  function rec:handler(inner)
    local n = 0
    local id = #self.seen + 1
    self.seen[id] = 0
    return function(conn, ev)
      n = n + 1
      self.seen[id] = n
      if ev.state ~= self.sequence[n] and not self.problem then
        self.problem = string.format("connection %d: event %d is %s, expected %s", id, n,
                                     ev.state, tostring(self.sequence[n]))
      end
      if ev.state == "Connected" then self.done = self.done + 1 end
      if inner then return inner(conn, ev) end
    end
  end
  function rec:check(expected_done)
    assert(not self.problem, self.problem)
    for id, n in ipairs(self.seen) do
      if n ~= #self.sequence then
        error(string.format("connection %d saw %d events, expected %d", id, n, #self.sequence), 2)
      end
    end
    if expected_done and self.done ~= expected_done then
      error(string.format("%d connections reached Connected, expected %d", self.done, expected_done), 2)
    end
  end
  return rec
end

-- Pumps ctx until done() or support.LIMIT seconds have passed.
function support.poll_until(ctx, done)
  local deadline = ras.now() + support.LIMIT
  while not done() do
    ctx.poll(1)
    if ras.now() > deadline then error("the dials did not end within " .. support.LIMIT .. " s", 2) end
  end
end

return support
