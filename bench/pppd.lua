-- make bench (Linux): link-up time through the module against a bare pppd
-- with the same peer file on the same kind of link. Runs in spec/pppd/sandbox.
local ras = require "ras"
local fixture = require "support.fixture"

local function median(t)
  table.sort(t)
  return t[(#t + 1) // 2]
end

local ctx = fixture.context()

local function through_module()
  local t0 = ras.now()
  local conn = assert(ctx.dial { entry = "ras-open" })
  local ev = conn:wait(30)
  local took = ras.now() - t0
  assert(ev and ev.state == "Connected", "the module's dial did not connect")
  assert(conn:hangup())
  return took
end

-- `updetach`: the parent exits once IPCP is up, the moment the module
-- reports Connected.
local function bare_pppd()
  local t0 = ras.now()
  assert(os.execute("/usr/sbin/pppd call ras-open updetach >/dev/null 2>&1"), "bare pppd failed")
  local took = ras.now() - t0
  fixture.stop_all_pppd()
  return took
end

local module_times, bare_times = {}, {}
through_module()   -- warm the page cache for both
for i = 1, 10 do
  module_times[i] = through_module()
  bare_times[i] = bare_pppd()
end
local m, b = median(module_times), median(bare_times)
print(string.format("%-34s %-28s (target: %s)", "pppd link-up through the module",
                    string.format("%.0f ms (median of 10)", m * 1e3), "near 1 s"))
print(string.format("%-34s %-28s (target: %s)", "bare pppd, same peer and link",
                    string.format("%.0f ms (median of 10)", b * 1e3), "-"))
print(string.format("%-34s %-28s (target: %s)", "pppd: module / bare",
                    string.format("%.3f", m / b), "<= 1.05"))

-- 50 dials at once, each against a server of its own (spec/pppd/pty-server):
-- how many come up, and how long until the last is Connected. UML starts
-- processes slowly: LCP gets more tries than the default 10.
local N = 50
do
  local f = assert(io.open("/etc/ppp/peers/ras-open", "r"))
  local text = f:read("a")
  f:close()
  f = assert(io.open("/etc/ppp/peers/ras-bench50", "w"))
  f:write(text, "lcp-max-configure 60\n")
  f:close()
end
local conns, up, last = {}, 0, 0
local t0 = ras.now()
for i = 1, N do conns[i] = assert(ctx.dial { entry = "ras-bench50" }) end
for i = 1, N do
  local ev = conns[i]:wait(120)
  if ev and ev.state == "Connected" then
    up = up + 1
    last = math.max(last, ras.now() - t0)
  end
end
for i = 1, N do conns[i]:hangup(0) end
for i = 1, N do conns[i]:hangup(30) end
fixture.stop_all_pppd()
print(string.format("%-34s %-28s (target: %s)", "pppd: 50 concurrent real dials",
                    string.format("%d/%d Connected, last at %.1f s", up, N, last), "50/50"))
