-- The pppd backend against real pppd in spec/pppd/sandbox: what a root tool
-- must get right about processes it did not start, about its own death, and
-- about links that come back (persist). Outside the sandbox: pending.
local ras = require "ras"
local fixture = require "support.fixture"

local sh = fixture.sh
local in_sandbox = os.getenv("RAS_SANDBOX") ~= nil
local server = (os.getenv("RAS_REPO") or ".") .. "/spec/pppd/pty-server"
local common = "local noipv6 noccp noauth nodefaultroute noipdefault lcp-restart 1\n" ..
               "remotename server\nlcp-echo-interval 1\nlcp-echo-failure 3\n"

local function write(path, text)
  local f = assert(io.open(path, "w"))
  f:write(text)
  f:close()
end

local function peer(name, text) write("/etc/ppp/peers/" .. name, text) end
local function served(args) return 'pty "' .. server .. " " .. args .. '"\n' .. common end

local function pppd_pids()
  local _, out = sh("pgrep -x pppd")
  local pids = {}
  for pid in out:gmatch("%d+") do pids[#pids + 1] = tonumber(pid) end
  return pids
end

-- Our client pppds only: the servers run in namespaces of their own.
local function client_pids()
  local mine = {}
  local _, self_ns = sh("readlink /proc/self/ns/net")
  for _, pid in ipairs(pppd_pids()) do
    local _, ns = sh("readlink /proc/" .. pid .. "/ns/net")
    if ns == self_ns then mine[#mine + 1] = pid end
  end
  return mine
end

local function parent_of(pid)
  local f = io.open("/proc/" .. pid .. "/status")
  if not f then return nil end
  local ppid = f:read("a"):match("\nPPid:%s+(%d+)")
  f:close()
  return tonumber(ppid)
end

local function self_pid()
  local f = assert(io.open("/proc/self/stat"))
  local pid = f:read("n")
  f:close()
  return pid
end

local function until_true(seconds, f)
  local deadline = ras.now() + seconds
  repeat
    if f() then return true end
    sh("sleep 0.1")
  until ras.now() > deadline
  return false
end

local lua = os.getenv("RAS_TEST_LUA") or "lua5.4"

-- Runs `source` in a Lua process of its own, in the background; it gets
-- the module paths. Returns the shell's pid file path.
local function background(source)
  local path = os.tmpname()
  write(path, ("package.path = %q\npackage.cpath = %q\nlocal ras = require 'ras'\n%s\n")
                :format(package.path, package.cpath, source))
  local log = path .. ".log"
  assert(sh("setsid " .. lua .. " " .. path .. " >" .. log .. " 2>&1 & echo $! > " .. path .. ".pid"))
  return path
end

local function read(path)
  local f = io.open(path)
  if not f then return "" end
  local s = f:read("a")
  f:close()
  return s
end

describe("the pppd backend against real pppd", function()
  if not in_sandbox then
    it("runs in spec/pppd/sandbox", function() pending("make test-pppd runs these") end)
    return
  end

  local ctx
  before_each(function() ctx = fixture.context() end)
  after_each(function()
    fixture.stop_all_pppd()
    sh("spec/pppd/server stop >/dev/null 2>&1")
  end)

  for _, word in ipairs { "updetach" } do   -- (2.4.9 has no `detach` word)
    it("keeps a pppd whose peer file says " .. word .. " its own child", function()
      peer("ras-" .. word, served("none") .. word .. "\n")
      local conn = assert(ctx.dial { entry = "ras-" .. word })
      local ev = conn:wait(20)
      assert.are.equal("Connected", ev and ev.state, ev and ev.message)
      local pids = client_pids()
      assert.are.equal(1, #pids)
      assert.are.equal(self_pid(), parent_of(pids[1]), "pppd detached from the module")
      assert.is_true(conn:hangup())
      assert.are.same({}, client_pids())
    end)
  end

  it("puts pppd's own words in the message of a configuration error", function()
    peer("ras-badopt", served("none") .. "frobnicate-option\n")
    peer("ras-notty", "/dev/ttyNOPE\nnoauth\n")
    local cases = {
      { ctx, "ras-badopt", "unrecognized option 'frobnicate-option'" },
      { ctx, "ras-notty", "unrecognized option '/dev/ttyNOPE'" },
      { assert(ras.open("pppd", { plugin = "/bin/true" })), "ras-open", "Couldn't load plugin /bin/true" },
    }
    for _, case in ipairs(cases) do
      local conn = assert(case[1].dial { entry = case[2] })
      local ev
      repeat ev = conn:wait(15) until not ev or ev.state == "Disconnected"
      assert.are.equal("Disconnected", ev and ev.state)
      assert.are.equal(651, ev.error)
      assert.is_truthy(ev.message:find(case[3], 1, true), ev.message)
    end
  end)

  it("ends a dial in progress within 2 s once the program that dialled is killed", function()
    for _, sig in ipairs { "KILL", "TERM" } do
      local script = background([[
        local ctx = assert(ras.open("pppd"))
        local conn = assert(ctx.dial { entry = "ras-never" })
        repeat local ev = conn:next(10) until not ev or ev.state == "DeviceConnected"
        print("lcp")
        io.stdout:flush()
        os.execute("sleep 60")
      ]])
      assert(until_true(10, function() return read(script .. ".log"):find("lcp") end),
             "the dial did not reach LCP: " .. read(script .. ".log"))
      local pids = client_pids()
      assert.are.equal(1, #pids)
      local t = ras.now()
      sh("kill -" .. sig .. " " .. read(script .. ".pid"))
      assert.is_true(until_true(5, function() return #client_pids() == 0 end),
                     "pppd went on dialling without its program")
      assert.is_true(ras.now() - t < 3, "took " .. (ras.now() - t) .. " s")
      os.remove(script)
    end
  end)

  it("leaves an established link up when its program dies, for connections() to hang up", function()
    local script = background([[
      local conn = assert(ras.open("pppd").dial { entry = "ras-open" })
      local ev repeat ev = conn:wait(20) until not ev or ev.group == "terminal"
      print(ev and ev.state)
      io.stdout:flush()
      os.execute("sleep 60")
    ]])
    assert(until_true(20, function() return read(script .. ".log"):find("Connected") end),
           read(script .. ".log"))
    sh("kill -KILL " .. read(script .. ".pid"))
    sh("sleep 3")
    assert.are.equal(1, #client_pids(), "the link went down with its program")
    local list = ctx.connections()
    assert.are.equal(1, #list)
    assert.are.equal("ras-open", list[1].entry)
    assert.are.equal("Connected", list[1]:status().state)
    assert.is_true(list[1]:hangup())
    assert.are.same({}, client_pids())
    os.remove(script)
  end)

  it("reports a foreign pppd still in LCP as not Connected", function()
    assert(sh("pppd call ras-never user nobody"))   -- detaches: another program's pppd
    local list
    assert(until_true(10, function()
      list = ctx.connections()
      return #list == 1
    end), "the foreign pppd was not listed")
    local st = assert(list[1]:status())
    assert.are_not.equal("Connected", st.state)
    assert.is_true(list[1]:hangup())
    assert.are.same({}, client_pids())
  end)

  it("does not list a server pppd of another network namespace", function()
    assert(sh("spec/pppd/server start >/dev/null"))
    assert(until_true(5, function() return sh("ls /run/ppp*.pid >/dev/null 2>&1") end),
           "the server wrote no pid file")
    assert.are.same({}, ctx.connections())
  end)

  it("reports a persist link's drops as Reconnecting and Reconnected on one connection", function()
    -- the server ends each link after 2 s; the client's pppd dials again
    peer("ras-persist", served("pap 1 maxconnect 2") .. "persist\nholdoff 1\nmaxfail 0\n")
    local seen = {}
    local conn = assert(fixture.dial(ctx, "ok", { entry = "ras-persist",
      on_state = function(c, ev) seen[#seen + 1] = { c = c, state = ev.state, substate = ev.substate } end }))
    local deadline = ras.now() + 14
    while ras.now() < deadline do ctx.poll(0.5) end
    local st = assert(conn:status())
    local connected = {}
    for _, ev in ipairs(seen) do
      assert.are.equal(conn, ev.c)
      assert.are_not.equal("Disconnected", ev.state)
      if ev.state == "Connected" then connected[#connected + 1] = ev.substate end
    end
    assert.is_true(#connected >= 3, "only " .. #connected .. " Connected events")
    assert.are.equal("None", connected[1])
    for i = 2, #connected do
      assert.are.equal(i % 2 == 0 and "Reconnecting" or "Reconnected", connected[i])
    end
    assert.are.equal("Connected", st.state)
    assert.are.equal(connected[#connected], st.substate)
    assert.is_true(conn:hangup())
    assert.are.same({}, client_pids())
  end)
end)
