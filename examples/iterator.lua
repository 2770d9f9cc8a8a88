-- The iterator: `for ev in conn:states()` yields each state and ends after
-- the terminal one. Two dials: one that connects, one that fails.
local ras = require "ras"

local sim = assert(ras.open("sim", { entries = {
  Office = { step = 0.01 },
  Busy = { step = 0.01, fail = { at = "ConnectDevice", error = 676 } },
} }))

for _, entry in ipairs { "Office", "Busy" } do
  local conn = assert(sim.dial { entry = entry })
  local last
  for ev in conn:states() do
    io.write(ev.state, ev.group == "terminal" and "\n" or " > ")
    last = ev
  end
  if last.error then
    print(string.format("iterator: %s failed with %d: %s", entry, last.error, last.message))
  else
    print(string.format("iterator: %s is %s after %.3f s", entry, last.state, last.elapsed))
  end
  conn:hangup()
end
