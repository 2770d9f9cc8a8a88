-- make demo: dial a simulated connection and print its states live.
--
-- The first attempt uses a wrong password; the dial pauses in
-- RetryAuthentication and the handler answers with the right one.
local ras = require "ras"

local sim = assert(ras.open("sim", { entries = {
  ["Office VPN"] = {
    username = "alice", password = "correct horse",
    step = 0.12, device_type = "vpn", device_name = "WAN Miniport (SSTP)",
    local_address = "192.0.2.10", remote_address = "192.0.2.1",
  },
} }))

print(string.format("ras %s: dialling 'Office VPN' on the %s backend", ras._VERSION, sim.backend))

local function show(_, ev)
  print(string.format("%7.3f s  %-22s %-8s %s", ev.elapsed, ev.state, ev.group,
                      ev.error and ("error " .. ev.error .. ": " .. ev.message) or ""))
  io.stdout:flush()
  if ev.state == "RetryAuthentication" then
    print("           password rejected: resuming with the right one")
    return { password = "correct horse" }
  end
end

local conn = assert(sim.dial {
  entry = "Office VPN", username = "alice", password = "wrong guess",
  paused_states = true, timeout = 30, on_state = show,
})

for _ in conn:states() do end  -- each event goes through show() first

local st = assert(conn:status())
print(string.format("connected through %s (%s): %s -> %s", st.device_name, st.device_type,
                    st.local_address, st.remote_address))
for _, c in ipairs(sim.connections()) do print("active: " .. tostring(c)) end
assert(conn:hangup())
print("hung up: " .. tostring(conn:next(1).state))
