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
}

-- The rasapi32 test double picks its scenario from the entry name.
local win32_entries = {
  ok = "ok;step=2", authfail = "authfail;step=2", busy = "busy;step=2",
  noanswer = "noanswer;step=2", callback = "callback;step=2",
  expired = "expired;step=2", drop = "ok;step=2;drop_after=50",
  slow_hangup = "ok;step=2;hangup_delay=100", never = "ok;step=60000",
}

local capabilities = {
  sim = { callback = true, expired = true, drop = true, slow_hangup = true,
          busy = true, noanswer = true, never = true, foreign = true },
  win32 = { callback = true, expired = true, drop = true, slow_hangup = true,
            busy = true, noanswer = true, never = true, foreign = true },
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
  return assert(ras.open(fixture.backend, options))
end

function fixture.entry(name)
  if fixture.backend == "sim" then return name end
  if fixture.backend == "win32" then return win32_entries[name] end
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

return fixture
