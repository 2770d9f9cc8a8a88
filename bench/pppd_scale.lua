-- make bench (Linux): the pppd backend's watcher at scale, against
-- build/fake_pppd (spec/pppd/fake_pppd.c: the plugin protocol without PPP),
-- since 1,600 real links do not fit in the sandbox. Runs on the host.
--   per-event watcher CPU with 1,600 idle connections vs 10
--   the watcher's wake-ups per second while connections are up and idle
local ras = require "ras"

local build = arg[1] or "build"
local fake = build .. "/fake_pppd"
local LINES = 20000

local function sh(cmd)
  local p = assert(io.popen(cmd .. " 2>&1"))
  local out = p:read("a")
  return p:close(), out
end

local dir = os.tmpname()
os.remove(dir)
assert(sh("mkdir -p " .. dir .. "/peers && : > " .. dir .. "/peers/fake && : > " .. dir .. "/plugin.so"))

-- The watcher thread of this process: the only "ras-pppd" task.
local function watcher_task()
  local _, out = sh("grep -l '^ras-pppd$' /proc/" .. assert(io.open("/proc/self/stat")):read("n") ..
                    "/task/*/comm")
  return assert(out:match("(/proc/%d+/task/%d+)/comm"), "no watcher thread")
end

local function cpu_ns(task)
  local f = assert(io.open(task .. "/schedstat"))
  local ns = f:read("n")
  f:close()
  return ns
end

local function switches(task)
  local f = assert(io.open(task .. "/status"))
  local s = f:read("a")
  f:close()
  return tonumber(s:match("voluntary_ctxt_switches:%s+(%d+)")) +
         tonumber(s:match("nonvoluntary_ctxt_switches:%s+(%d+)"))
end

local function wait_for(conn, substate)
  local deadline = ras.now() + 120
  while ras.now() < deadline do
    local ev = conn:wait(deadline - ras.now())
    assert(ev, "no event")
    assert(ev.state ~= "Disconnected", ev.message)
    if ev.state == "Connected" and ev.substate == substate then return end
  end
  error("timed out waiting for " .. substate)
end

-- n idle connections plus one that gets LINES lines: the watcher's CPU per
-- line, and its wake-ups over `idle` seconds with all n + 1 up and quiet.
local function measure(n, idle)
  local ctx = assert(ras.open("pppd", { pppd = fake, peers_dir = dir .. "/peers",
                                        plugin = dir .. "/plugin.so",
                                        options = { "fake-lines", tostring(LINES) } }))
  local conns = { assert(ctx.dial { entry = "fake" }) }
  -- the busy one is dialled first: the newest fake_pppd right now
  local _, newest = sh("pgrep -n -x fake_pppd")
  local pid = assert(tonumber(newest:match("%d+")))
  for i = 2, n + 1 do conns[i] = assert(ctx.dial { entry = "fake" }) end
  for _, c in ipairs(conns) do wait_for(c, "None") end
  local task = watcher_task()
  local idle_switches
  if idle then
    local s0 = switches(task)
    sh("sleep " .. idle)
    idle_switches = (switches(task) - s0) / idle
  end
  local busy = conns[1]
  local c0 = cpu_ns(task)
  assert(sh("kill -USR1 " .. pid))
  wait_for(busy, "Reconnecting")
  wait_for(busy, "Reconnected")
  local per_line = (cpu_ns(task) - c0) / LINES
  for _, c in ipairs(conns) do c:hangup(0) end
  for _, c in ipairs(conns) do assert(c:hangup(30)) end
  ctx:close()
  return per_line, idle_switches
end

local small, idle_small = measure(10, 10)
local big, idle_big = measure(1600, 10)
sh("rm -rf " .. dir)

local function row(what, value, target)
  print(string.format("%-44s %-26s (target: %s)", what, value, target))
end
row("pppd watcher CPU per event, 10 idle", string.format("%.2f us", small / 1e3), "-")
row("pppd watcher CPU per event, 1,600 idle", string.format("%.2f us", big / 1e3), "-")
row("pppd watcher: 1,600 / 10", string.format("%.2f", big / small), "<= 2")
row("pppd watcher wake-ups/s idle, 11 up", string.format("%.1f", idle_small), "0")
row("pppd watcher wake-ups/s idle, 1,601 up", string.format("%.1f", idle_big), "0")
