-- Paused states: a wrong password pauses the dial in RetryAuthentication
-- instead of failing it; the program asks for a new password (here: takes
-- the next from a list) and resumes the same dial.
local ras = require "ras"

local sim = assert(ras.open("sim", { entries = {
  Office = { username = "alice", password = "third time lucky", step = 0.01 },
} }))

local guesses = { "first guess", "second guess", "third time lucky" }
local conn = assert(sim.dial { entry = "Office", username = "alice", password = guesses[1],
                               paused_states = true, timeout = 10 })
local attempt = 1
while true do
  local ev = assert(conn:wait())   -- the first paused or terminal state
  if ev.state == "RetryAuthentication" then
    attempt = attempt + 1
    print(string.format("retry_password: password %d refused, trying password %d", attempt - 1, attempt))
    assert(conn:resume { password = guesses[attempt] })
  else
    print(string.format("retry_password: %s after %d passwords, %.3f s", ev.state, attempt, ev.elapsed))
    break
  end
end
assert(conn:hangup())
