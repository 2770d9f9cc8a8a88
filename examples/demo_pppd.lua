-- make demo (Linux): dial a real pppd server and print the states live.
-- Runs inside spec/pppd/sandbox, which gives it kernel PPP (User-Mode Linux
-- when the host kernel has none) and private /etc/ppp and /run. The server
-- is a second pppd in its own network namespace, started by the client
-- through the peer file's `pty` line (spec/pppd/pty-server); it accepts
-- user "user" with password "right" over MS-CHAPv2.
local ras = require "ras"
local fixture = require "support.fixture"   -- writes the sandbox's peer files

local ctx = fixture.context()
print(string.format("ras %s: dialling peer 'ras-mschap-v2' with the %s backend", ras._VERSION, ctx.backend))
print("first with a wrong password; the handler answers RetryAuthentication with the right one")

local conn = assert(ctx.dial {
  entry = "ras-mschap-v2", username = "user", password = "wrong guess",
  paused_states = true, timeout = 30,
  on_state = function(_, ev)
    print(string.format("%7.3f s  %-20s %-8s %s", ev.elapsed, ev.state, ev.group,
                        ev.error and ("error " .. ev.error .. ": " .. ev.message) or ""))
    io.stdout:flush()
    if ev.state == "RetryAuthentication" then return { password = "right" } end
  end,
})

for _ in conn:states() do end

local st = assert(conn:status())
print(string.format("up on %s over %s: %s -> %s", st.interface, st.device_name,
                    st.local_address, st.remote_address))
print("ping across the link: " .. (os.execute("ping -c 1 -W 2 10.0.0.1 >/dev/null") and "ok" or "FAILED"))
assert(conn:hangup())
print("hung up: " .. conn:next(1).state .. "; pppd processes left: " ..
      select(2, fixture.sh("pgrep -c -x pppd")):gsub("%s+$", ""))
