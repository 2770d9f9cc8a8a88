-- A dial timeout and retries with back-off: each attempt that reaches no
-- terminal state in time ends in Disconnected with error 638; the next one
-- waits twice as long before dialling and allows twice as long a dial.
local ras = require "ras"

-- Ten notifications 20 ms apart: a dial needs about 0.2 s.
local sim = assert(ras.open("sim", { entries = { Slow = { step = 0.02 } } }))

local TRANSIENT = { [638] = true, [676] = true, [678] = true, [628] = true }

-- Waits without sleeping in a loop: the context's pump blocks until then.
local function pause(seconds)
  local deadline = ras.now() + seconds
  repeat sim.poll(math.max(0, deadline - ras.now())) until ras.now() >= deadline
end

local function dial(timeout)
  local conn = assert(sim.dial { entry = "Slow", timeout = timeout })
  local last
  for ev in conn:states() do last = ev end
  return conn, last
end

local timeout, backoff = 0.05, 0.05
for attempt = 1, 5 do
  local conn, ev = dial(timeout)
  if ev.state == "Connected" then
    print(string.format("timeout_retry: attempt %d connected in %.3f s (timeout %.2f s)",
                        attempt, ev.elapsed, timeout))
    assert(conn:hangup())
    return
  end
  print(string.format("timeout_retry: attempt %d: error %d (%s)", attempt, ev.error, ev.message))
  if not TRANSIENT[ev.error] then os.exit(1) end
  print(string.format("timeout_retry: waiting %.2f s, then allowing %.2f s", backoff, timeout * 2))
  pause(backoff)
  timeout, backoff = timeout * 2, backoff * 2
end
print("timeout_retry: giving up")
os.exit(1)
