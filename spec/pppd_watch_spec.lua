-- ctx.watch() on the pppd backend, against real pppd inside
-- spec/pppd/sandbox: pppds another program starts (found by their pid
-- files, their interfaces and a pidfd each) and the module's own dials come
-- and go as changes, and the watcher's thread sleeps while nothing changes.
-- Outside the sandbox: pending.
local ras = require "ras"
local fixture = require "support.fixture"

local sh = fixture.sh
local in_sandbox = os.getenv("RAS_SANDBOX") ~= nil

local function sleep(seconds) sh("sleep " .. seconds) end

-- The pid of the foreign pppd's pid file, or nil.
local function foreign_pid()
  local f = io.open("/run/ppp0.pid")
  if not f then return nil end
  local pid = f:read("n")
  f:close()
  return pid
end

local function link_up()
  return (sh("ip -o -4 addr show | grep -q 'inet 10.0.0.2'"))
end

-- Starts a pppd as another program would (no plugin, detaching), and
-- returns the time its link was seen up (address assigned).
local function start_foreign()
  assert(sh("pppd call " .. fixture.entry("open") .. " user nobody"))
  local deadline = ras.now() + 10
  repeat
    if foreign_pid() and link_up() then return ras.now() end
    sleep(0.02)
  until ras.now() > deadline
  error("the foreign pppd did not come up")
end

-- The watcher thread's wake-ups: its voluntary and involuntary context
-- switches, from /proc (the thread names itself ras-pppd-watch).
local function watcher_switches()
  local pid = assert(io.open("/proc/self/stat")):read("n")
  local ok, out = sh("grep -lx ras-pppd-watch /proc/" .. pid .. "/task/*/comm")
  assert(ok, "no ras-pppd-watch thread: " .. out)
  local path = assert(out:match("^(%S+)/comm"))
  local status = assert(io.open(path .. "/status")):read("a")
  return tonumber(status:match("\nvoluntary_ctxt_switches:%s*(%d+)")) +
         tonumber(status:match("\nnonvoluntary_ctxt_switches:%s*(%d+)"))
end

-- The next change within `seconds`, and how long it took.
-- Dials "ok" through context c and reads its states up to Connected.
local function dial_to_connected(c, round)
  local conn = assert(fixture.dial(c, "ok"))
  local states = fixture.collect(conn)   -- up to Connected
  assert.are.equal("Connected", states[#states], "round " .. round .. ": " ..
                   table.concat(states, " "))
  return conn
end

local function next_change(w, seconds)
  local t = ras.now()
  local ch = w:next(seconds)
  return ch, ras.now() - t
end

describe("pppd watcher", function()
  if not in_sandbox then
    it("runs in spec/pppd/sandbox", function() pending("make test-pppd runs these") end)
    return
  end

  local ctx
  before_each(function() ctx = fixture.context() end)
  after_each(function()
    ctx.close()
    fixture.stop_all_pppd()
  end)

  it("reports a pppd started outside the module as connected within 1 s, and disconnected " ..
     "within 1 s of SIGTERM and of SIGKILL", function()
    local w <close> = assert(ctx.watch())
    for _, signal in ipairs { "TERM", "KILL" } do
      local up = start_foreign()
      local ch = w:next(1)
      assert(ch, "no change within 1 s of the link coming up")
      assert.are.equal("connected", ch.change)
      assert.is_true(ch.time <= up + 1, "reported " .. (ch.time - up) .. " s after the link")
      assert.are.equal(fixture.entry("open"), ch.entry)
      -- the same object connections() gives, and a live one
      local list = ctx.connections()
      assert.are.equal(1, #list)
      assert.are.equal(list[1], ch.connection)
      assert.are.equal("Connected", assert(ch.connection:status()).state)

      local pid = assert(foreign_pid())
      assert(sh("kill -" .. signal .. " " .. pid))
      local gone, took = next_change(w, 1)
      assert(gone, "no change within 1 s of SIG" .. signal)
      assert.are.equal("disconnected", gone.change)
      assert.are.equal(ch.connection, gone.connection)
      assert.is_true(took < 1, "took " .. took)
      fixture.stop_all_pppd()
      sh("rm -f /run/ppp*.pid")   -- SIGKILL leaves it behind
    end
    assert.are.same({ nil, "timeout" }, { w:next(0) })
  end)

  it("reports the links already up first, as initial, only when asked", function()
    start_foreign()
    local quiet <close> = assert(ctx.watch())
    local w <close> = assert(ctx.watch { initial = true })
    local ch = assert(w:next(0), "the initial change is queued when watch() returns")
    assert.are.equal("connected", ch.change)
    assert.are.equal(fixture.entry("open"), ch.entry)
    assert.are.equal(ctx.connections()[1], ch.connection)
    assert.are.same({ nil, "timeout" }, { w:next(0.2) })
    assert.are.same({ nil, "timeout" }, { quiet:next(0) })
  end)

  it("reports the module's own dial and hang-up", function()
    local changes = {}
    local w <close> = assert(ctx.watch { on_change = function(_, ch) changes[#changes + 1] = ch end })
    local conn = assert(fixture.dial(ctx, "ok"))
    local ev = conn:wait(20)
    assert.are.equal("Connected", ev and ev.state)
    local deadline = ras.now() + 2
    while #changes == 0 and ras.now() < deadline do ctx.poll(0.1) end
    assert.are.equal(1, #changes)
    assert.are.equal("connected", changes[1].change)
    assert.are.equal(fixture.entry("ok"), changes[1].entry)
    assert.are.equal(conn, changes[1].connection)
    assert.is_true(conn:hangup())
    deadline = ras.now() + 2
    while #changes < 2 and ras.now() < deadline do ctx.poll(0.1) end
    assert.are.equal(2, #changes)
    assert.are.equal("disconnected", changes[2].change)
    assert.is_nil(w:next(0))
  end)

  -- This context's own dials are told to its watchers by the context itself
  -- (the plugin's ip-up, pppd's exit), not found by the pid-file scan: a
  -- watcher of a context whose run_dir pppd never writes to still sees them.
  it("reports the module's own dial and its end without any pid file of it", function()
    local dir = os.tmpname()
    os.remove(dir)
    assert(sh("mkdir -p " .. dir))
    local blind = assert(ras.open("pppd", { run_dir = dir }))
    local w <close> = assert(blind.watch())
    local conn = assert(fixture.dial(blind, "ok"))
    local ev = conn:wait(20)
    assert.are.equal("Connected", ev and ev.state)
    local ch = assert(w:next(2), "no connected change for our own dial")
    assert.are.equal("connected", ch.change)
    assert.is_true(rawequal(conn, ch.connection))
    assert.are.equal(fixture.entry("ok"), ch.entry)
    assert.is_true(conn:hangup())
    ch = assert(w:next(5), "no disconnected change for our own dial")
    assert.are.equal("disconnected", ch.change)
    assert.is_true(rawequal(conn, ch.connection))
    assert.are.same({ nil, "timeout" }, { w:next(0.3) })
    w:close()
    blind.close()
    assert(sh("rmdir " .. dir))
  end)

  -- The quick hang-up of watch_spec, ten times: hung up the moment the dial
  -- reports Connected, the link is gone before the scan (one thread among
  -- pppd's, the servers' and this one on UML's one CPU) has looked, most
  -- times. Each time: one connected, then one disconnected, and no more.
  it("reports a dial hung up the moment it is Connected, each time once, connected " ..
     "then disconnected", function()
    for round = 1, 10 do
      local w <close> = assert(ctx.watch())
      local conn = dial_to_connected(ctx, round)
      assert.is_true(conn:hangup())
      local ch = assert(w:next(5), "round " .. round .. ": no connected change")
      assert.are.equal("connected", ch.change)
      -- (its object: a "connected" for an object already hung up is taken
      -- for a reused id, src/watch.c push_known; the entry is the dial's)
      assert.are.equal(conn.entry, ch.entry)
      ch = assert(w:next(5), "round " .. round .. ": no disconnected change")
      assert.are.equal("disconnected", ch.change)
      assert.is_true(rawequal(conn, ch.connection))
      assert.are.same({ nil, "timeout" }, { w:next(0.3) })
    end
  end)

  -- pppd runs /etc/ppp/ip-up (the sandbox's own /etc/ppp) after it has told
  -- the plugin ip-up; this one ends the dial's pppd at once (only the dials
  -- with ipparam ras-short: the servers run it too), so that the link lives
  -- milliseconds, ending before or while the scan looks. Each time: one
  -- connected, then one disconnected, both for the dial's object, and
  -- nothing more (the scan, which may see it too, does not repeat it).
  for _, signal in ipairs { "TERM", "KILL" } do
    it("reports a link that SIG" .. signal .. " ends within milliseconds of Connected " ..
       "exactly once, connected then disconnected", function()
      local script = "/etc/ppp/ip-up"
      local f = assert(io.open(script, "w"))
      f:write("#!/bin/sh\n[ \"$6\" = ras-short ] && exec kill -" .. signal ..
              " \"${PPPD_PID:-$PPID}\"\nexit 0\n")
      f:close()
      assert(sh("chmod 755 " .. script))
      local short = assert(ras.open("pppd", { options = { "ipparam", "ras-short" } }))
      local ok, err = pcall(function()
        for round = 1, 5 do
          local w <close> = assert(short.watch())
          local conn = dial_to_connected(short, round)
          local ch = assert(w:next(5), "round " .. round .. ": no connected change")
          assert.are.equal("connected", ch.change)
          assert.is_true(rawequal(conn, ch.connection))
          ch = assert(w:next(5), "round " .. round .. ": no disconnected change")
          assert.are.equal("disconnected", ch.change)
          assert.is_true(rawequal(conn, ch.connection))
          assert.are.same({ nil, "timeout" }, { w:next(0.5) })
          local ev = conn:next(5)      -- the link did end, by itself
          assert.are.equal("Disconnected", ev and ev.state)
          conn:hangup()
        end
      end)
      os.remove(script)
      short.close()
      sh("rm -f /run/ppp*.pid")   -- SIGKILL leaves it behind
      assert(ok, err)
    end)
  end

  it("does not wake while nothing changes, and wakes when something does", function()
    start_foreign()   -- a live link (LCP echoes every second) that does not change
    local w <close> = assert(ctx.watch { initial = true })
    assert.are.equal("connected", assert(w:next(1)).change)
    sleep(0.3)        -- let the thread settle into epoll_wait
    local before = watcher_switches()
    sleep(2)
    assert.are.equal(before, watcher_switches(), "the watcher thread woke with nothing changing")
    -- the count does see wake-ups: a change makes some
    assert(sh("kill -TERM " .. assert(foreign_pid())))
    assert.are.equal("disconnected", assert(w:next(2)).change)
    assert.is_true(watcher_switches() > before)
  end)

  it("ends its thread at close: no change is pushed after it", function()
    local w = assert(ctx.watch())
    watcher_switches()   -- the thread exists
    w:close()
    local pid = assert(io.open("/proc/self/stat")):read("n")
    assert.is_falsy((sh("grep -qx ras-pppd-watch /proc/" .. pid .. "/task/*/comm")))
    assert.are.same({ nil, "closed" }, { w:next(0) })
  end)
end)

-- Without PPP (any Linux host, under valgrind, ASan and TSan too): a run
-- directory of our own whose pid files name no pppd.
describe("pppd watcher on a host without links", function()
  if package.config:sub(1, 1) ~= "/" or not io.open("/proc/self/stat") then
    it("needs Linux", function() pending("the pppd backend is Linux only") end)
    return
  end

  it("reports nothing for pid files that name no pppd, and closes at once", function()
    local tmp = os.tmpname()
    local missing = tmp .. ".run"
    -- a run_dir that does not exist yet is no error: there is no pid file
    local ctx = assert(ras.open("pppd", { run_dir = missing }))
    local w = assert(ctx.watch { initial = true })
    assert.are.same({ nil, "timeout" }, { w:next(0) })
    w:close()
    assert.are.same({ nil, "closed" }, { w:next(0) })
    ctx.close()
    -- pid files (in tmpname's directory) of processes that are not pppd:
    -- init, and this Lua, with an interface that exists
    local run = assert(tmp:match("^(.*)/[^/]*$"))
    local stem = assert(tmp:match("([^/]*)$")):gsub("[^%w]", "")
    ctx = assert(ras.open("pppd", { run_dir = run }))
    w = assert(ctx.watch { initial = true })
    local self = assert(io.open("/proc/self/stat")):read("n")
    local files = {}
    for _, pid in ipairs { 1, self } do
      files[#files + 1] = run .. "/ppp-" .. stem .. pid .. ".pid"
      local f = assert(io.open(files[#files], "w"))
      f:write(pid, "\nlo\n")
      f:close()
    end
    assert.are.same({ nil, "timeout" }, { w:next(0.2) })
    assert.are.same({}, ctx.connections())
    w:close()
    ctx.close()
    for _, path in ipairs(files) do os.remove(path) end
    os.remove(tmp)
  end)
end)

-- This context's own dials reach its watchers from the dial itself (the
-- plugin's ip-up, pppd's exit), not from pid files: against a fake pppd (a
-- shell script given as `pppd` that speaks the plugin protocol on fd 3 and
-- writes no pid file), on any Linux host. `make check-tsan-pppd` runs these
-- under ThreadSanitizer (it cannot run inside User-Mode Linux).
describe("pppd watcher of the context's own dials, with a fake pppd", function()
  local linux = package.config:sub(1, 1) == "/" and io.open("/proc/self/stat") and
                (os.getenv("LD_PRELOAD") or ""):find("tsan", 1, true) == nil
  if not linux then
    it("needs Linux, and popen", function() pending("the pppd backend is Linux only") end)
    return
  end

  local dir, ctx
  before_each(function()
    dir = os.tmpname()
    os.remove(dir)
    assert(sh("mkdir -p " .. dir .. "/peers " .. dir .. "/run"))
    assert(io.open(dir .. "/peers/fake", "w")):close()
    assert(io.open(dir .. "/plugin.so", "w")):close()   -- the fake loads no plugin
  end)
  after_each(function()
    -- a failed case may leave its fake pppd up, and closing a context hangs
    -- up nothing that is established: hang them up, so that none outlives it
    if ctx then
      for _, c in ipairs(ctx.connections()) do c:hangup(5) end
      ctx.close()
    end
    ctx = nil
    sh("rm -rf " .. dir)
  end)

  -- A context whose pppd is the shell script `body` ($$ is pppd's pid).
  local function fake(body)
    local path = dir .. "/fake"
    local f = assert(io.open(path, "w"))
    f:write("#!/bin/sh\n", body, "\n")
    f:close()
    assert(sh("chmod 755 " .. path))
    ctx = assert(ras.open("pppd", { pppd = path, peers_dir = dir .. "/peers",
                                    plugin = dir .. "/plugin.so", run_dir = dir .. "/run" }))
  end

  local function states_until(conn, last)
    local seen = {}
    repeat
      local ev = conn:next(10)
      assert(ev, "no event after " .. table.concat(seen, " "))
      seen[#seen + 1] = ev.state .. (ev.substate and ev.substate ~= "None" and
                                     "/" .. ev.substate or "")
    until ev.state == last
    return seen
  end

  it("reports a link that ends the moment it is up, twenty times, each once: connected " ..
     "then disconnected, to every watcher of the context", function()
    fake("printf 'pid %d\\nphase 2\\nphase 4\\nphase 7\\nphase 8\\n" ..
         "ip-up ppp9 10.1.1.2 10.1.1.1\\nphase 10\\nphase 0\\ndead 16\\nexit 16\\n' $$ >&3\n" ..
         "exit 16")
    local w1 <close> = assert(ctx.watch())
    local w2 <close> = assert(ctx.watch())
    -- meanwhile the watch threads scan, again and again: a pid file of init
    -- (no pppd, never reported) rewritten in run_dir wakes them
    assert(sh("(for i in $(seq 200); do echo 1 > " .. dir .. "/run/ppp-init.pid; sleep 0.01; " ..
              "done) >/dev/null 2>&1 &"))
    for round = 1, 20 do
      local conn = assert(ctx.dial { entry = "fake" })
      local seen = states_until(conn, "Disconnected")
      assert.are.equal("Connected", seen[#seen - 1], table.concat(seen, " "))
      for _, w in ipairs { w1, w2 } do
        local ch = assert(w:next(5), "round " .. round .. ": no connected change")
        assert.are.equal("connected", ch.change)
        assert.is_true(rawequal(conn, ch.connection))
        assert.are.equal("fake", ch.entry)
        ch = assert(w:next(5), "round " .. round .. ": no disconnected change")
        assert.are.equal("disconnected", ch.change)
        assert.is_true(rawequal(conn, ch.connection))
        assert.are.same({ nil, "timeout" }, { w:next(0) })
      end
      conn:hangup()
    end
    assert.are.same({ nil, "timeout" }, { w1:next(0.2) })
  end)

  it("reports a persist link's drop and redial, and its hang-up, in order, once each", function()
    fake("printf 'pid %d\\nip-up ppp9 10.1.1.2 10.1.1.1\\nphase 10\\nphase 2\\n" ..
         "ip-up ppp9 10.1.1.2 10.1.1.1\\n' $$ >&3\n" ..
         "trap 'exit 5' TERM\nwhile :; do sleep 0.05; done")
    local w <close> = assert(ctx.watch())
    local conn = assert(ctx.dial { entry = "fake" })
    local seen = states_until(conn, "Connected")
    assert.are.equal("Connected", seen[#seen])
    seen = states_until(conn, "Connected")   -- Reconnecting
    assert.are.equal("Connected/Reconnecting", seen[#seen])
    seen = states_until(conn, "Connected")
    assert.are.equal("Connected/Reconnected", seen[#seen])
    local changes = {}
    for _ = 1, 3 do
      local ch = assert(w:next(5), "only " .. table.concat(changes, " "))
      assert.is_true(rawequal(conn, ch.connection))
      changes[#changes + 1] = ch.change
    end
    assert.are.same({ "connected", "disconnected", "connected" }, changes)
    assert.is_true(conn:hangup())
    local ch = assert(w:next(5), "no change for the hang-up")
    assert.are.equal("disconnected", ch.change)
    assert.is_true(rawequal(conn, ch.connection))
    assert.are.same({ nil, "timeout" }, { w:next(0.2) })
  end)

  it("tells nothing to a watcher closed before the dial, nor to another context's", function()
    fake("printf 'pid %d\\nip-up ppp9 10.1.1.2 10.1.1.1\\n' $$ >&3\n" ..
         "trap 'exit 5' TERM\nwhile :; do sleep 0.05; done")
    local other = assert(ras.open("pppd", { run_dir = dir .. "/run" }))
    local elsewhere <close> = assert(other.watch())
    local closed = assert(ctx.watch())
    closed:close()
    local w <close> = assert(ctx.watch())
    local conn = assert(ctx.dial { entry = "fake" })
    states_until(conn, "Connected")
    assert.are.equal("connected", assert(w:next(5)).change)
    assert.is_true(conn:hangup())
    assert.are.equal("disconnected", assert(w:next(5)).change)
    assert.are.same({ nil, "closed" }, { closed:next(0) })
    assert.are.same({ nil, "timeout" }, { elsewhere:next(0.1) })
    elsewhere:close()
    other.close()
  end)
end)
