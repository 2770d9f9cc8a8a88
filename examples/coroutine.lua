-- A coroutine handler: written as straight-line code that yields for the
-- next event, resumed by the pump with (conn, ev) for every state change.
local ras = require "ras"

local sim = assert(ras.open("sim", { entries = {
  Office = { step = 0.01, callback = true },
} }))

-- The dial pauses in CallbackSetByCaller: the coroutine yields a table,
-- which resumes the dial with it, as conn:resume(t) would.
local script = coroutine.create(function(_, ev)
  local seen = 0
  while ev.group == "running" do
    seen = seen + 1
    _, ev = coroutine.yield()
  end
  print(string.format("coroutine: %d running states, then %s", seen, ev.state))
  if ev.state == "CallbackSetByCaller" then
    print("coroutine: answering with callback number 555-0100")
    _, ev = coroutine.yield { callback_number = "555-0100" }
    while ev.group ~= "terminal" do
      print("coroutine: after the callback number: " .. ev.state)
      _, ev = coroutine.yield()
    end
  end
  print("coroutine: ended in " .. ev.state)
end)

local conn = assert(sim.dial { entry = "Office", paused_states = true, on_state = script })
for _ in conn:states() do end  -- the pump: each event goes to the coroutine first
print("coroutine status: " .. coroutine.status(script))
assert(conn:hangup())
