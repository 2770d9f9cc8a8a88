-- A quick proof that an installed module works: one simulated dial.
local ras = require "ras"
local sim = assert(ras.open("sim", { entries = { Smoke = { step = 0 } } }))
local conn = assert(sim.dial { entry = "Smoke" })
local last
for ev in conn:states() do last = ev.state end
assert(last == "Connected", "smoke dial ended in " .. tostring(last))
assert(conn:hangup())
print("smoke: ras " .. ras._VERSION .. " (" .. (arg and arg[1] or "loaded") .. ") dials to Connected")
