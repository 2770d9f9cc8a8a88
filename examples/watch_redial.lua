-- Watch and redial: a watcher notices when an entry's connection drops,
-- whoever dialled it, and dials it again with back-off. The delay doubles
-- while the link keeps dropping soon after it came up and goes back to the
-- first one once a link has stayed up; a failed redial that another attempt
-- can cure (ras.error_info) waits and tries again, one that cannot ends it.
--
-- Against the simulator: another program dials Office at 0.05 s (the
-- `activity` option), and every Office link drops 0.3 s after Connected
-- (`drop_after`, error 629).
local ras = require "ras"

local ENTRY = "Office"
local sim = assert(ras.open("sim", {
  entries = { [ENTRY] = { step = 0.005, drop_after = 0.3 } },
  activity = { { at = 0.05, dial = ENTRY } },
}))

local FIRST_DELAY, MAX_DELAY = 0.05, 30
local STABLE = 5            -- seconds up after which a drop is news, not a pattern
local REDIALS = 3           -- the example stops at the drop after the third redial
local QUIET = 5             -- no change for this long: something is wrong

-- The watcher reports every connection of the machine: those up already
-- first (initial), then each one coming up and going away.
local watcher <close> = sim.watch { initial = true }

local function next_change(seconds)
  local ch, why = watcher:next(seconds)
  if not ch and why ~= "timeout" then error("the watcher stopped: " .. tostring(why)) end
  return ch
end

-- Dials ENTRY once: true when Connected, else false and the error.
local function dial()
  local conn, message, code = sim.dial { entry = ENTRY }
  if not conn then return false, code, message end
  local last
  for ev in conn:states() do last = ev end
  if last.state == "Connected" then return true end
  return false, last.error, last.message
end

local delay, redials, up_since, delays = FIRST_DELAY, 0, nil, {}

-- Waits `delay` for ENTRY to come back by itself (another program may
-- redial it; other entries' changes do not end the wait), then dials until
-- it is up; each failure doubles the delay. Returns the change that showed
-- ENTRY up again, if one did.
local function redial()
  while true do
    delays[#delays + 1] = string.format("%.2f", delay)
    local deadline = ras.now() + delay
    repeat
      local ch = next_change(math.max(0, deadline - ras.now()))
      if ch and ch.entry == ENTRY and ch.change == "connected" then return ch end
    until ras.now() >= deadline
    local ok, code, message = dial()
    delay = math.min(delay * 2, MAX_DELAY)
    if ok then return nil end
    print(string.format("watch_redial: redial failed with %d (%s)", code, message))
    if not sim.error_info(code).retryable then os.exit(1) end
  end
end

local pending                        -- a change redial() took while waiting
while true do
  local ch = pending or next_change(QUIET)
  pending = nil
  if not ch then
    print("watch_redial: no change in " .. QUIET .. " s")
    os.exit(1)
  end
  if ch.entry == ENTRY and ch.change == "connected" then
    print(string.format("watch_redial: %s is up%s", ENTRY, redials > 0 and " again" or ""))
    up_since = ch.time
  elseif ch.entry == ENTRY then
    local lasted = up_since and ch.time - up_since or 0
    if redials == REDIALS then break end
    if lasted >= STABLE then delay = FIRST_DELAY end
    print(string.format("watch_redial: %s dropped after %.2f s; redialling in %.2f s",
                        ENTRY, lasted, delay))
    redials = redials + 1
    pending = redial()
  end
end
print(string.format("watch_redial: redialled %s %d times, waiting %s s", ENTRY, redials,
                    table.concat(delays, " > ")))
