-- The pppd backend against a fake pppd: a small shell program given as the
-- `pppd` option that speaks the plugin protocol (src/pppd/protocol.h) badly
-- on fd 3. These need no PPP and run on any Linux host; the one that would
-- signal every process (pid -1) runs only inside User-Mode Linux.
local ras = require "ras"
local fixture = require "support.fixture"
local subprocess = require "support.subprocess"

local sh = fixture.sh
local tsan = (os.getenv("LD_PRELOAD") or ""):find("tsan", 1, true) ~= nil
local linux = not tsan and package.config:sub(1, 1) == "/" and sh("test \"$(uname -s)\" = Linux")

local function quote(s) return "'" .. s:gsub("'", "'\\''") .. "'" end

local function write(path, text, mode)
  local f = assert(io.open(path, "w"))
  f:write(text)
  f:close()
  if mode then assert(sh("chmod " .. mode .. " " .. quote(path))) end
end

local function alive(pid)
  local f = io.open("/proc/" .. pid .. "/stat")
  if not f then return false end
  local st = f:read("a")
  f:close()
  return st:match("^%d+ %b() (%a)") ~= "Z"
end

local function until_true(seconds, f)
  local deadline = ras.now() + seconds
  repeat
    if f() then return true end
    sh("sleep 0.05")
  until ras.now() > deadline
  return false
end

-- A sentinel process of the spec's own: nobody may signal it.
local function sentinel()
  local ok, out = sh("setsid sleep 60 >/dev/null 2>&1 & echo $!")
  assert(ok)
  return assert(tonumber(out))
end

describe("the pppd backend with a fake pppd", function()
  if tsan then
    -- every spec here runs shell commands, and popen children crash there
    it("runs shell commands", function() pending("popen under ThreadSanitizer crashes the child") end)
    return
  end
  if not linux then
    it("needs Linux", function() pending("the pppd backend is Linux only") end)
    return
  end

  local dir, ctx, fakes
  before_each(function()
    dir = os.tmpname()
    os.remove(dir)
    assert(sh("mkdir -p " .. dir .. "/peers " .. dir .. "/run"))
    write(dir .. "/peers/fake", "# any peer file: the fake reads none\n")
    write(dir .. "/plugin.so", "")   -- the fake loads no plugin
    fakes = 0
  end)
  after_each(function()
    if ctx then ctx.close() end
    ctx = nil
    -- (no pgrep/pkill: under ASan's LD_PRELOAD procps can hang)
    for i = 1, fakes do
      local f = io.open(dir .. "/fake-" .. i .. ".pid")
      local pid = f and f:read("n")
      if f then f:close() end
      if pid then sh("kill -KILL " .. math.tointeger(pid) .. " 2>/dev/null") end
    end
    sh("rm -rf " .. quote(dir))
  end)

  -- A context whose pppd is the shell script `body` (its $$ is pppd's pid).
  local function fake(body, options)
    fakes = fakes + 1
    local path = dir .. "/fake-" .. fakes
    write(path, "#!/bin/sh\necho $$ > " .. path .. ".pid\n" .. body .. "\n", "755")
    local opts = { pppd = path, peers_dir = dir .. "/peers", plugin = dir .. "/plugin.so",
                   run_dir = dir .. "/run" }
    for k, v in pairs(options or {}) do opts[k] = v end
    ctx = assert(ras.open("pppd", opts))
    return ctx, path
  end

  -- Waits for the fake to be running, then returns its pid.
  local function pid_of(path)
    local pid
    assert(until_true(5, function()
      local f = io.open(path .. ".pid")
      pid = f and f:read("n")
      if f then f:close() end
      return pid
    end), "the fake pppd did not start")
    return pid
  end

  local function events(conn, seconds)
    local list = {}
    local deadline = ras.now() + seconds
    while ras.now() < deadline do
      local ev = conn:wait(deadline - ras.now())
      if not ev then break end
      list[#list + 1] = ev
      if ev.state == "Disconnected" then break end
    end
    return list
  end

  local loop = "trap 'exit 0' TERM\nwhile :; do sleep 0.05; done"

  it("never signals the pid the plugin reports: another process's pid", function()
    local other = sentinel()
    local _, path = fake("printf 'pid " .. other .. "\\nphase 2\\n' >&3\n" .. loop)
    local conn = assert(ctx.dial { entry = "fake" })
    local pid = pid_of(path)
    local evs = events(conn, 5)
    assert.is_true(conn:hangup(10))
    assert.is_true(alive(other), "the process named by the pid line was signalled")
    assert.is_true(until_true(6, function() return not alive(pid) end),
                   "the real child was never signalled")
    sh("kill " .. other)
    local last = evs[#evs]
    assert.are.equal("Disconnected", last and last.state)
    assert.matches("protocol error", last.message)
  end)

  it("never signals the pid the plugin reports: pid 0 (our own process group)", function()
    local unavailable = subprocess.unavailable()
    if unavailable then return pending(unavailable) end
    -- a child in a session of its own: were its group signalled, only it would die
    write(dir .. "/fake-0", "#!/bin/sh\nprintf 'pid 0\\nphase 2\\n' >&3\n" .. loop .. "\n", "755")
    local out, ok = subprocess.run(([[
      local dir = %q
      local ctx = assert(ras.open("pppd", { pppd = dir .. "/fake-0", peers_dir = dir .. "/peers",
                                           plugin = dir .. "/plugin.so", run_dir = dir .. "/run" }))
      local conn = assert(ctx.dial { entry = "fake" })
      local ev repeat ev = conn:next(5) until not ev or ev.state ~= "OpenPort"
      print("hangup", conn:hangup(10))
      print("alive")
    ]]):format(dir), 30, "setsid --wait ")
    assert.is_true(ok, out)
    assert.matches("hangup\ttrue", out)
    assert.matches("alive", out)
  end)

  it("never signals the pid the plugin reports: pid -1 (every process)", function()
    if os.getenv("RAS_SANDBOX") ~= "uml" then
      return pending("kill(-1) would reach every process of this machine: UML only")
    end
    local other = sentinel()
    local _, path = fake("printf 'pid -1\\nphase 2\\n' >&3\n" .. loop)
    local conn = assert(ctx.dial { entry = "fake" })
    local pid = pid_of(path)
    local ev repeat ev = conn:next(5) until not ev or ev.state ~= "OpenPort"
    assert.is_true(conn:hangup(10))
    assert.is_true(alive(other), "kill(-1) reached a bystander")
    assert.is_false(alive(pid))
    sh("kill " .. other)
  end)

  it("ends a dial whose pppd exits without contacting the plugin in 651, with its stderr", function()
    fake("echo 'pppd: unrecognized option '\\''frobnicate'\\''' >&2\nexit 2")
    local conn = assert(ctx.dial { entry = "fake" })
    local evs = events(conn, 10)
    local last = evs[#evs]
    assert.are.equal("Disconnected", last.state)
    assert.are.equal(651, last.error)
    assert.are.equal(2, last.extended_error)
    assert.matches("without contacting the plugin", last.message)
    assert.matches("unrecognized option 'frobnicate'", last.message, 1, true)
  end)

  it("ends a dial of pppd=/bin/true in 651, not 628", function()
    ctx = assert(ras.open("pppd", { pppd = "/bin/true", peers_dir = dir .. "/peers",
                                    plugin = dir .. "/plugin.so" }))
    local conn = assert(ctx.dial { entry = "fake" })
    local evs = events(conn, 10)
    local last = evs[#evs]
    assert.are.equal("Disconnected", last.state)
    assert.are.equal(651, last.error)
    assert.matches("/bin/true", last.message, 1, true)
    assert.matches("without contacting the plugin", last.message)
  end)

  it("drops a line of 511 bytes or more whole: no ip-up hidden in its tail", function()
    fake("printf 'pid %d\\nphase 2\\n' $$ >&3\n" ..
         "printf '%0511d' 0 >&3\nprintf 'ip-up ppp9 10.1.1.2 10.1.1.1\\ndead 16\\nexit 16\\n' >&3")
    local conn = assert(ctx.dial { entry = "fake" })
    local evs = events(conn, 10)
    for _, ev in ipairs(evs) do assert.are_not.equal("Connected", ev.state) end
    assert.are.equal("Disconnected", evs[#evs].state)
    assert.are.equal(628, evs[#evs].error)
  end)

  it("treats a NUL byte as a protocol error that ends the connection", function()
    local _, path = fake("printf 'pid %d\\nphase 2\\n\\000phase 4\\n' $$ >&3\n" .. loop)
    local conn = assert(ctx.dial { entry = "fake" })
    local pid = pid_of(path)
    local evs = events(conn, 10)
    local last = evs[#evs]
    assert.are.equal("Disconnected", last.state)
    assert.are.equal(651, last.error)
    assert.matches("protocol error: a NUL byte", last.message)
    assert.is_true(until_true(6, function() return not alive(pid) end), "the fake was not ended")
  end)

  it("treats an unknown verb as a protocol error that ends the connection", function()
    local _, path = fake("printf 'pid %d\\nphase 2\\nfrobnicate 1\\n' $$ >&3\n" .. loop)
    local conn = assert(ctx.dial { entry = "fake" })
    local pid = pid_of(path)
    local evs = events(conn, 10)
    local last = evs[#evs]
    assert.are.equal("Disconnected", last.state)
    assert.matches("unknown plugin event 'frobnicate'", last.message, 1, true)
    assert.is_true(until_true(6, function() return not alive(pid) end))
  end)

  it("bounds what one connection can queue", function()
    -- 100,000 ip-up lines, then 5,000 persist reconnections, unread
    fake("printf 'pid %d\\n' $$ >&3\n" ..
         "yes 'ip-up ppp9 10.1.1.2 10.1.1.1' | head -n 100000 >&3\n" .. loop)
    local conn = assert(ctx.dial { entry = "fake" })
    sh("sleep 1")
    local evs = events(conn, 15)
    assert.is_true(#evs < 10, #evs .. " events")
    assert.matches("ip%-up while the link is already up", evs[#evs].message)
    ctx.close()
    fake("printf 'pid %d\\nip-up ppp9 10.1.1.2 10.1.1.1\\n' $$ >&3\n" ..
         "yes 'phase 10\nphase 2\nip-up ppp9 10.1.1.2 10.1.1.1' | head -n 15000 >&3\n" .. loop)
    conn = assert(ctx.dial { entry = "fake" })
    sh("sleep 2")
    evs = events(conn, 15)
    assert.is_true(#evs <= 1100, #evs .. " events")
    assert.matches("more than 1024 events unread", evs[#evs].message)
  end)

  it("names the resource when descriptors run out", function()
    local unavailable = subprocess.unavailable()
    if unavailable then return pending(unavailable) end
    write(dir .. "/fake-fd", "#!/bin/sh\nexit 1\n", "755")
    -- with k descriptors left, some step of a dial finds none
    local out, ok = subprocess.run(([[
      local dir = %q
      local ctx = assert(ras.open("pppd", { pppd = dir .. "/fake-fd", peers_dir = dir .. "/peers",
                                           plugin = dir .. "/plugin.so" }))
      local held = {}
      while true do
        local f = io.open("/dev/null")
        if not f then break end
        held[#held + 1] = f
      end
      for k = 0, 6 do
        if k > 0 then held[#held]:close(); held[#held] = nil end
        local conn, msg, code = ctx.dial { entry = "fake" }
        if conn then conn:wait(5); conn:hangup(5) else print(code, msg) end
      end
    ]]):format(dir), 30, "ulimit -n 64; ")
    assert.is_true(ok, out)
    local n = 0
    for code, msg in out:gmatch("(%d+)\t([^\n]*)") do
      n = n + 1
      assert.are.equal("4", code, msg)
      assert.matches("EMFILE", msg)
      assert.is_truthy(msg:find("socket pair", 1, true) or msg:find("pipe", 1, true) or
                       msg:find("pidfd", 1, true) or msg:find("descriptor", 1, true) or
                       msg:find("epoll", 1, true), msg)
    end
    assert.is_true(n > 0, "no dial failed: " .. out)
  end)

  it("lists no pppd-named program behind a pid file, nor a pppd of another namespace", function()
    -- stand-ins: pppdump, pppd-watchdog (name prefixes) and an executable
    -- really called pppd in another network namespace
    local ok = sh("cp /bin/sleep " .. dir .. "/pppdump && cp /bin/sleep " .. dir ..
                  "/pppd-watchdog && mkdir -p " .. dir .. "/ns && cp /bin/sleep " .. dir .. "/ns/pppd")
    assert(ok)
    local pids = {}
    for i, prog in ipairs { "pppdump", "pppd-watchdog" } do
      local _, out = sh("setsid " .. dir .. "/" .. prog .. " 60 >/dev/null 2>&1 & echo $!")
      pids[i] = assert(tonumber(out))
      write(dir .. "/run/ppp" .. (6 + i) .. ".pid", pids[i] .. "\n")
    end
    local can_unshare = sh("unshare -n true")
    if can_unshare then
      local _, out = sh("setsid unshare -n " .. dir .. "/ns/pppd 60 >/dev/null 2>&1 & echo $!")
      local unshare_pid = assert(tonumber(out))
      local inner
      assert(until_true(5, function()
        local _, o = sh("cat /proc/" .. unshare_pid .. "/task/*/children 2>/dev/null")
        inner = tonumber(o:match("%d+")) or
                (sh("test \"$(readlink /proc/" .. unshare_pid .. "/exe)\" = " .. dir .. "/ns/pppd")
                 and unshare_pid)
        return inner
      end))
      pids[#pids + 1] = inner
      write(dir .. "/run/ppp-ns.pid", inner .. "\nlo\n")
    end
    sh("sleep 0.1")
    ctx = assert(ras.open("pppd", { run_dir = dir .. "/run", peers_dir = dir .. "/peers" }))
    local list = ctx.connections()
    for _, pid in ipairs(pids) do
      assert.is_true(alive(pid))
      sh("kill " .. pid)
    end
    assert.are.same({}, list)
  end)

  it("lists a pppd of this machine behind its own pid file, not behind a stale one", function()
    -- positive control for the spec above: an executable named pppd, here
    local ok = sh("cp /bin/sleep " .. dir .. "/pppd")
    assert(ok)
    write(dir .. "/run/ppp-old.pid", "0\nlo\n")   -- rewritten below, before the process
    sh("sleep 1.2")
    local _, out = sh("setsid " .. dir .. "/pppd 60 >/dev/null 2>&1 & echo $!")
    local pid = assert(tonumber(out))
    -- until setsid has exec'd it, the process is not yet "pppd" (a loaded machine)
    for _ = 1, 100 do
      local f = io.open("/proc/" .. pid .. "/comm")
      local comm = f and f:read("l")
      if f then f:close() end
      if comm == "pppd" then break end
      sh("sleep 0.05")
    end
    -- a stale file: older than the process it names
    assert(sh("printf '%d\\nlo\\n' " .. pid .. " > " .. dir .. "/run/ppp-old.pid.new && touch -d '-10 seconds' " ..
              dir .. "/run/ppp-old.pid.new && mv " .. dir .. "/run/ppp-old.pid.new " .. dir .. "/run/ppp-old.pid"))
    ctx = assert(ras.open("pppd", { run_dir = dir .. "/run", peers_dir = dir .. "/peers" }))
    assert.are.same({}, ctx.connections())
    write(dir .. "/run/ppp-new.pid", pid .. "\nlo\n")
    local list = ctx.connections()
    sh("kill " .. pid)
    assert.are.equal(1, #list)
  end)

  it("refuses options that would make pppd detach", function()
    for _, word in ipairs { "detach", "updetach" } do
      local ok, err = pcall(ras.open, "pppd", { options = { "debug", word } })
      assert.is_false(ok)
      assert.matches("bad option 'options'", err)
      assert.matches(word, err)
    end
  end)

  it("says permission denied for a peers directory it may not read", function()
    local unavailable = subprocess.unavailable()
    if unavailable then return pending(unavailable) end
    if not sh("test \"$(id -u)\" = 0 && command -v setpriv >/dev/null") then
      return pending("needs root and setpriv to run as another user")
    end
    assert(sh("chmod 755 " .. dir .. " && mkdir -p " .. dir .. "/closed && cp " .. dir ..
              "/peers/fake " .. dir .. "/closed/office && chmod 700 " .. dir .. "/closed"))
    local script = ([[
      local ras = require "ras"
      local ctx = assert(ras.open("pppd", { peers_dir = %q }))
      print("entries", ctx.entries())
      print("dial", ctx.dial { entry = "office" })
    ]]):format(dir .. "/closed")
    local _, out = sh("setpriv --reuid=65534 --regid=65534 --clear-groups lua5.4 -e " .. quote(script))
    assert.matches("entries\tnil\t[^\n]*EACCES[^\n]*\t5\n", out)
    assert.matches("dial\tnil\tpermission denied[^\n]*\t5\n", out)
  end)
end)
