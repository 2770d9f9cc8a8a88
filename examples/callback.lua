-- A function handler: the context's pump, ras.poll, hands every event to
-- on_state(conn, ev); the program just pumps until the dial has ended.
local ras = require "ras"

local sim = assert(ras.open("sim", { entries = {
  Office = { username = "alice", password = "pa55", step = 0.01,
             local_address = "192.0.2.10", remote_address = "192.0.2.1" },
} }))

local finished = false
local function on_state(conn, ev)
  print(string.format("%-20s %-8s after %.3f s", ev.state, ev.group, ev.elapsed))
  if ev.group == "terminal" then
    finished = true
    if ev.state == "Connected" then
      local st = conn:status()
      print("callback: connected, " .. st.local_address .. " -> " .. st.remote_address)
    end
  end
end

local conn = assert(sim.dial { entry = "Office", username = "alice", password = "pa55",
                               on_state = on_state })
local delivered = 0
while not finished do delivered = delivered + sim.poll() end
print(string.format("callback: %d events delivered by ras.poll", delivered))
assert(conn:hangup())
