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
