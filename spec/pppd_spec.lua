-- The Linux backend against real pppd: a client pppd of ours against a
-- server pppd in its own network namespace, inside spec/pppd/sandbox (User-
-- Mode Linux where the kernel has no PPP). Outside the sandbox only the
-- "no kernel PPP" case runs.
local ras = require "ras"
local fixture = require "support.fixture"

local in_sandbox = os.getenv("RAS_SANDBOX") ~= nil
local sh = fixture.sh

local function fd_count()
  local ok, out = sh("ls /proc/" .. assert(io.open("/proc/self/stat")):read("n") .. "/fd | wc -l")
  assert(ok)
  return tonumber(out)
end

local function rss_kib()
  local f = assert(io.open("/proc/self/statm"))
  local _, resident = f:read("n", "n")
  f:close()
  return resident * 4
end

local function pppd_pids()
  local _, out = sh("pgrep -x pppd")
  local pids = {}
  for pid in out:gmatch("%d+") do pids[#pids + 1] = tonumber(pid) end
  return pids
end

local function zombies()
  local _, out = sh("ps -eo stat=,comm= | awk '$1 ~ /^Z/ {print $2}'")
  return out
end

local function read_proc(pid, what)
  local f = io.open("/proc/" .. pid .. "/" .. what, "rb")
  if not f then return "" end
  local s = f:read("a")
  f:close()
  return s
end

local function until_true(seconds, f)
  local deadline = ras.now() + seconds
  while ras.now() < deadline do
    if f() then return true end
    sh("sleep 0.05")
  end
  return false
end

describe("the pppd backend", function()
  if not in_sandbox then
    it("ends in 651 saying so when the kernel has no PPP support", function()
      -- checked in Lua: a shell would inherit a sanitizer's LD_PRELOAD
      local status = assert(io.open("/proc/self/status")):read("a")
      local root = status:match("\nUid:%s+0%s") ~= nil
      local pppd = io.open("/usr/sbin/pppd")
      local dev_ppp = io.open("/dev/ppp")
      if pppd then pppd:close() end
      if dev_ppp then dev_ppp:close() end
      if not (root and pppd and not dev_ppp) then
        return pending("needs root, pppd, and a kernel without PPP")
      end
      local peer = os.tmpname()   -- the peer file; its directory is the phonebook
      local f = assert(io.open(peer, "w"))
      f:write('pty "exec cat >/dev/null"\nlocal noauth\n')
      f:close()
      local dir, entry = peer:match("^(.*)/([^/]+)$")
      local ctx = assert(ras.open("pppd", { peers_dir = dir }))
      local conn = assert(ctx.dial { entry = entry })
      local ev = assert(conn:wait(10))
      os.remove(peer)
      assert.are.equal("Disconnected", ev.state)
      assert.are.equal(651, ev.error)
      assert.matches("no kernel PPP support", ev.message)
      assert.are.equal(4, ev.extended_error)
    end)
    return
  end

  local ctx
  before_each(function() ctx = fixture.context() end)
  after_each(function() fixture.stop_all_pppd() end)

  for _, auth in ipairs { "ok", "chap", "mschap" } do
    it("connects with " .. (auth == "ok" and "pap" or auth) .. ", states in order, traffic crossing", function()
      local conn = assert(fixture.dial(ctx, auth))
      assert.are.same(fixture.connected_states, fixture.collect(conn))
      local st = assert(conn:status())
      assert.matches("^ppp%d+$", st.interface)
      assert.are.equal("10.0.0.2", st.local_address)
      assert.are.equal("10.0.0.1", st.remote_address)
      assert.matches("^/dev/pts/", st.device_name)
      -- the server lives in another network namespace: this crosses the link
      assert.is_true((sh("ping -c 1 -W 2 -I " .. st.interface .. " 10.0.0.1")))
      assert.is_true(conn:hangup())
    end)
  end

  it("reports a wrong password as 691 with pppd's reason kept", function()
    local conn = assert(fixture.dial(ctx, "chap", { password = fixture.wrong_password }))
    local ev = assert(conn:wait(15))
    assert.are.equal(691, ev.error)
    assert.are.equal(19, ev.extended_error)
    assert.matches("authenticate", ev.message)
  end)

  it("pauses after a wrong password and dials again on resume", function()
    local conn = assert(fixture.dial(ctx, "mschap",
      { password = fixture.wrong_password, paused_states = true }))
    assert.are.equal("RetryAuthentication", conn:wait(15).state)
    assert.are.same({}, pppd_pids(), "no pppd runs while paused")
    assert.is_true(conn:resume { password = fixture.password })
    local rest = fixture.collect(conn)
    assert.are.same({ "Authenticate", "Authenticated", "AuthProject", "Projected", "Connected" }, rest)
    assert.is_true(conn:hangup())
  end)

  -- SIGTERM: the server says goodbye over LCP; SIGKILL: the pty just closes.
  local drops = { { "TERM", "the server is killed" }, { "KILL", "the line drops" } }
  for _, drop in ipairs(drops) do
    it("delivers Disconnected to a callback within seconds when " .. drop[2], function()
      local last
      local conn = assert(fixture.dial(ctx, "ok", { on_state = function(_, ev) last = ev end }))
      repeat ctx.poll(5) until last and last.group == "terminal"
      assert.are.equal("Connected", last.state)
      local _, pid = sh("cat /run/ras-test/server.pid")
      local t = ras.now()
      assert(sh("kill -" .. drop[1] .. " " .. pid))
      while last.state ~= "Disconnected" and ras.now() - t < 10 do ctx.poll(1) end
      assert.are.equal("Disconnected", last.state)
      assert.are.equal(629, last.error)
      assert.is_true(ras.now() - t < 5, "took " .. (ras.now() - t))
      assert.is_true(conn:hangup())
    end)
  end

  it("ends by the dial timeout when no server answers", function()
    local conn = assert(fixture.dial(ctx, "never", { timeout = 1.5 }))
    local ev = assert(conn:wait(10))
    assert.are.equal("Disconnected", ev.state)
    assert.are.equal(638, ev.error)
    assert.is_true(ev.elapsed >= 1.4)
    assert.is_true(conn:hangup())
    assert.are.same({}, pppd_pids())
  end)

  it("leaves no pppd, no zombie and no descriptor behind a hang-up", function()
    collectgarbage()
    local before = fd_count()
    local conn = assert(fixture.dial(ctx, "ok"))
    assert.are.equal("Connected", conn:wait(15).state)
    local pid = pppd_pids()[1]
    assert.is_number(pid)
    assert.is_true(conn:hangup())
    assert.is_nil(io.open("/proc/" .. pid .. "/stat"), "pppd was reaped")
    assert.are.same({}, pppd_pids())
    assert.are.equal("", zombies())
    conn = nil  -- luacheck: ignore
    collectgarbage()
    assert.are.equal(before, fd_count())
  end)

  it("keeps the password off pppd's command line and environment", function()
    local secret = "Sup3r-" .. fixture.password
    local conn = assert(fixture.dial(ctx, "ok", { password = secret }))
    assert(conn:next(5))
    local pid
    assert(until_true(5, function() pid = pppd_pids()[1]; return pid end))
    local cmdline, environ = read_proc(pid, "cmdline"), read_proc(pid, "environ")
    assert.matches("ras%-fd", cmdline)
    assert.is_nil(cmdline:find(secret, 1, true))
    assert.is_nil(environ:find(secret, 1, true))
    assert.is_nil(cmdline:find("Sup3r", 1, true))
    conn:hangup()
  end)

  it("hands the number to the connect script as RAS_NUMBER", function()
    assert(sh("printf 'pty \"exec cat >/dev/null\"\\nconnect \"echo $RAS_NUMBER > " ..
              "/run/ras-test/number; exit 1\"\\nlocal noauth\\n' > /etc/ppp/peers/ras-number"))
    local conn = assert(ctx.dial { entry = "ras-number", number = "5550123" })
    local ev = assert(conn:wait(10))
    assert.are.equal(678, ev.error)
    local _, number = sh("cat /run/ras-test/number")
    assert.are.equal("5550123\n", number)
  end)

  it("shows a pppd started elsewhere in connections() and hangs it up", function()
    fixture.foreign_context()   -- starts `pppd call ras-open` without us
    local list = ctx.connections()
    assert.are.equal(1, #list)
    local other = list[1]
    assert.are.equal("ras-open", other.entry)
    local st = assert(other:status())
    assert.are.equal("Connected", st.state)
    assert.matches("^ppp%d+$", st.interface)
    assert.are.equal("10.0.0.2", st.local_address)
    assert.is_true(other:hangup())
    assert.are.same({}, pppd_pids())
    assert.are.equal(0, #ctx.connections())
  end)

  it("returns nil, message, 5 when it may not hang up someone else's pppd", function()
    fixture.foreign_context()   -- a root pppd the module did not start
    local script = [[
      local ras = require "ras"
      local list = ras.connections()
      local ok, msg, code = list[1]:hangup(1)
      print(#list, ok, code, msg)
    ]]
    local ok, out = sh("setpriv --reuid=65534 --regid=65534 --clear-groups lua5.4 -e '" .. script .. "'")
    assert.is_true(ok, out)
    local n, hung_up, code, msg = out:match("^(%d+)\t(%S+)\t(%S+)\t([^\n]*)")
    assert.are.equal("1", n)
    assert.are.equal("nil", hung_up)
    assert.are.equal("5", code)
    assert.matches("cannot signal pppd", msg)
    local list = ctx.connections()
    assert.are.equal(1, #list)
    assert.are.equal("Connected", list[1]:status().state, "the pppd is still up")
    assert.is_true(list[1]:hangup())
  end)

  it("lists the peer files as entries", function()
    local names = {}
    for _, e in ipairs(ctx.entries()) do
      names[e.name] = true
      assert.are.equal("/etc/ppp/peers", e.phonebook)
    end
    assert.is_true(names["ras-pap"])
    assert.is_true(names["ras-chap"])
    assert.are.same({}, ctx.entries("/nonexistent"))
  end)

  it("dials a peer file from another directory given as phonebook", function()
    assert(sh("mkdir -p /run/ras-test/book && cp /etc/ppp/peers/ras-pap /run/ras-test/book/office"))
    local conn = assert(fixture.dial(ctx, "ok", { entry = "office", phonebook = "/run/ras-test/book" }))
    assert.are.equal("Connected", conn:wait(15).state)
    assert.are.equal("/run/ras-test/book", conn.phonebook)
    conn:hangup()
  end)

  it("rejects an unknown peer with 623 and starts nothing", function()
    local conn, _, code = ctx.dial { entry = "no-such-peer" }
    assert.is_nil(conn)
    assert.are.equal(623, code)
    conn, _, code = ctx.dial { entry = "../secrets" }
    assert.is_nil(conn)
    assert.are.equal(623, code)
    assert.are.same({}, pppd_pids())
  end)

  it("runs 50 dial/hangup cycles without leaking", function()
    local function cycle()
      local conn = assert(fixture.dial(ctx, "open"))
      local ev = conn:wait(15)
      assert.are.equal("Connected", ev.state)
      assert.is_true(conn:hangup())
    end
    for _ = 1, 5 do cycle() end
    collectgarbage()
    local fds, rss = fd_count(), rss_kib()
    for _ = 6, 50 do cycle() end
    collectgarbage()
    assert.are.equal(fds, fd_count())
    assert.is_true(rss_kib() - rss < 1024, "RSS grew by " .. (rss_kib() - rss) .. " KiB")
    assert.are.same({}, pppd_pids())
    assert.are.equal("", zombies())
  end)
end)
