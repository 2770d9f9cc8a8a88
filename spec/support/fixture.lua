-- The backend under test, and the same named scenarios on each backend, so
-- that one spec file runs against the simulator, the rasapi32 test double
-- under Wine, and real pppd links.
--
-- RAS_TEST_BACKEND picks the backend (default "sim").

local ras = require "ras"

local fixture = {}

fixture.backend = os.getenv("RAS_TEST_BACKEND") or "sim"
fixture.user = "user"
fixture.password = "right"
fixture.wrong_password = "wrong-Pa55"

-- Scenarios for the simulator: each named scenario is one entry.
local sim_entries = {
  ok = { username = "user", password = "right", step = 0.002,
         local_address = "10.0.0.2", remote_address = "10.0.0.1" },
  authfail = { username = "user", password = "right", step = 0.002 },
  busy = { step = 0.002, fail = { at = "ConnectDevice", error = 676 } },
  noanswer = { step = 0.002, fail = { at = "ConnectDevice", error = 678 } },
  callback = { step = 0.002, callback = true },
  expired = { username = "user", password = "right", step = 0.002, password_expired = true },
  drop = { step = 0.002, drop_after = 0.05 },
  slow_hangup = { step = 0.002, hangup_delay = 0.1 },
  never = { step = 60 },
  open = { step = 0.002 },
}

-- The rasapi32 test double picks its scenario from the entry name.
local win32_entries = {
  ok = "ok;step=2", authfail = "authfail;step=2", busy = "busy;step=2",
  noanswer = "noanswer;step=2", callback = "callback;step=2",
  expired = "expired;step=2", drop = "ok;step=2;drop_after=50",
  slow_hangup = "ok;step=2;hangup_delay=100", never = "ok;step=2;hold_at=OpenPort",
  open = "ok;step=2",
}

-- pppd: peer files of the sandbox (spec/pppd/sandbox makes /etc/ppp and /run
-- private); each dial starts its own server through pppd's `pty` option.
local pppd_entries = {
  ok = "ras-pap", authfail = "ras-pap", chap = "ras-chap",
  mschap = "ras-mschap-v2", noanswer = "ras-noanswer", never = "ras-never",
  drop = "ras-drop", open = "ras-open",
}

local capabilities = {
  sim = { callback = true, expired = true, drop = true, slow_hangup = true,
          busy = true, noanswer = true, never = true, foreign = true },
  win32 = { callback = true, expired = true, drop = true, slow_hangup = true,
            busy = true, noanswer = true, never = true, foreign = true },
  pppd = { noanswer = true, never = true, drop = true, foreign = true },
}

-- The states a dial of scenario "ok" reports, in order.
local connected_states = {
  sim = { "OpenPort", "PortOpened", "ConnectDevice", "DeviceConnected",
          "AllDevicesConnected", "Authenticate", "AuthNotify", "Authenticated",
          "AuthProject", "Projected", "Connected" },
  pppd = { "OpenPort", "PortOpened", "ConnectDevice", "DeviceConnected",
           "AllDevicesConnected", "Authenticate", "Authenticated", "AuthProject",
           "Projected", "Connected" },
}
connected_states.win32 = connected_states.sim
fixture.connected_states = connected_states[fixture.backend] or connected_states.sim

local function sh(command)
  local f = assert(io.popen(command .. " 2>&1"))
  local out = f:read("*a")
  local ok = f:close()
  return ok, out
end
fixture.sh = sh

local function write_file(path, text, mode)
  local f = assert(io.open(path, "w"))
  f:write(text)
  f:close()
  if mode then assert(sh("chmod " .. mode .. " " .. path)) end
end

local pppd_ready = false
local function prepare_pppd()
  if pppd_ready then return end
  assert(os.getenv("RAS_SANDBOX"), "the pppd specs run inside spec/pppd/sandbox only")
  local server = (os.getenv("RAS_REPO") or ".") .. "/spec/pppd/pty-server"
  local common = "local noipv6 noccp noauth nodefaultroute noipdefault lcp-restart 1\n" ..
                 "remotename server\nlcp-echo-interval 1\nlcp-echo-failure 3\n"
  local function served(args) return 'pty "' .. server .. " " .. args .. '"\n' .. common end
  local peers = {
    ["ras-pap"] = served("pap"),
    ["ras-chap"] = served("chap"),
    ["ras-mschap-v2"] = served("mschap-v2"),
    ["ras-drop"] = served("pap 1 maxconnect 1"),
    ["ras-open"] = served("none"),
    ["ras-noanswer"] = 'pty "exec cat >/dev/null"\nconnect /bin/false\n' .. common,
    ["ras-never"] = 'pty "exec cat >/dev/null"\nlcp-max-configure 1000\n' .. common,
  }
  assert(sh("mkdir -p /etc/ppp/peers /run/ras-test"))
  write_file("/run/ras-test/server-secrets", '"user" "server" "right" *\n', "600")
  for name, text in pairs(peers) do write_file("/etc/ppp/peers/" .. name, text) end
  pppd_ready = true
end

-- Ends every pppd of the sandbox and waits until they are gone.
function fixture.stop_all_pppd()
  sh("pkill -TERM -x pppd")
  for _ = 1, 100 do
    -- zombies do not count: a pppd that ends after its context was closed is
    -- reaped by nobody until this program exits (README), and would hold
    -- every later spec here for the whole loop
    if not sh("pgrep -x -r R,S,D,T,t pppd >/dev/null") then return end
    sh("sleep 0.05")
  end
  sh("pkill -KILL -x pppd")
end

-- A pppd that another program started: no plugin, found by its pid file.
local function start_pppd_foreign()
  prepare_pppd()
  assert(sh("pppd call ras-open user nobody"))
  for _ = 1, 100 do
    local ok = sh("ls /run/ppp*.pid >/dev/null 2>&1 && ip -o -4 addr show | grep -q 'inet 10.0.0.2'")
    if ok then return end
    sh("sleep 0.1")
  end
  error("the foreign pppd did not come up")
end

-- The rasapi32 double keeps its connections in this process, so a
-- connection "dialled by another program" is one the fixture dials through
-- a context of its own: the context under test did not dial it and finds it
-- only by enumeration, as it would find another program's. One at a time.
local win32_dialler, win32_foreign
local function ensure_win32_foreign()
  if win32_foreign and win32_foreign:status() then return end
  win32_dialler = win32_dialler or assert(ras.open("win32"))
  win32_foreign = assert(win32_dialler.dial { entry = "ok;step=0" })
  local ev = win32_foreign:wait(5)
  assert(ev and ev.state == "Connected", "the foreign connection did not come up")
end

-- What a backend must set up before a spec may rely on a capability.
local preparations = {
  win32 = { foreign = ensure_win32_foreign },
  pppd = { foreign = start_pppd_foreign },
}

function fixture.supports(what)
  local caps = capabilities[fixture.backend] or {}
  return caps[what] == true
end

-- A fresh context of the backend under test.
function fixture.context(options)
  if fixture.backend == "sim" then
    options = options or {}
    options.entries = options.entries or sim_entries
    return assert(ras.open("sim", options))
  end
  if fixture.backend == "pppd" then
    prepare_pppd()
    fixture.stop_all_pppd()  -- connections() sees the whole system: start clean
  end
  return assert(ras.open(fixture.backend, options))
end

-- A context that finds one connection "dialled by another program", or nil
-- where the backend cannot have one.
function fixture.foreign_context()
  if not fixture.supports("foreign") then return nil end
  if fixture.backend == "sim" then return fixture.context { established = { "ok" } } end
  local ctx = fixture.context()
  local prepare = (preparations[fixture.backend] or {}).foreign
  if prepare then prepare() end
  return ctx
end

function fixture.entry(name)
  if fixture.backend == "sim" then return name end
  if fixture.backend == "win32" then return win32_entries[name] end
  if fixture.backend == "pppd" and pppd_entries[name] then return pppd_entries[name] end
  error("no scenario '" .. name .. "' for backend " .. fixture.backend)
end

-- Dials scenario `name` with the right credentials unless params say otherwise.
function fixture.dial(ctx, name, params)
  local p = { entry = fixture.entry(name), username = fixture.user,
              password = fixture.password }
  for k, v in pairs(params or {}) do p[k] = v end
  return ctx.dial(p)
end

-- Collects every event of conn up to and including the terminal one.
function fixture.collect(conn)
  local names = {}
  for ev in conn:states() do names[#names + 1] = ev.state end
  return names
end

-- A table whose finalizer calls fn(t): __gc on the table from 5.2 on; on 5.1
-- and LuaJIT, which run no __gc of a table, a proxy userdata that the table
-- holds carries it. Either way finalizers run in reverse order of creation.
function fixture.finalized(fn)
  local t = {}
  local newproxy = rawget(_G, "newproxy")
  if _VERSION == "Lua 5.1" and newproxy then
    t.proxy = newproxy(true)
    getmetatable(t.proxy).__gc = function() fn(t) end
  else
    setmetatable(t, { __gc = fn })
  end
  return t
end

return fixture
