-- Every example runs as a subprocess against the simulator, with the
-- repository's LUA_CPATH/LUA_PATH, and must exit 0 printing what it is
-- about. The embed example runs in build/embed-host (make embed-check).
local fixture = require "support.fixture"
local compat = require "support.compat"
local subprocess = require "support.subprocess"

local REPO = os.getenv("RAS_REPO") or "."

local function run(command)
  local out, _, _, status = compat.run(command .. " 2>&1")
  return out, status
end

local function run_example(name)
  return run(string.format("%s %s/examples/%s", subprocess.lua, REPO, name))
end

-- Looked up, not loaded: busted unloads a test file's modules afterwards,
-- and luv cannot be loaded a second time into the same Lua state.
local function has_module(name)
  return compat.searchpath(name, package.cpath) ~= nil or compat.searchpath(name, package.path) ~= nil
end

-- Each example, and patterns its output must match (plain text unless it
-- starts with ^).
local expectations = {
  ["callback.lua"] = { "Connected            terminal", "callback: connected, 192.0.2.10 -> 192.0.2.1",
                       "callback: 11 events delivered by ras.poll" },
  ["iterator.lua"] = { "OpenPort > PortOpened > ConnectDevice > Disconnected",
                       "iterator: Office is Connected", "iterator: Busy failed with 676: The line is busy." },
  ["coroutine.lua"] = { "then CallbackSetByCaller", "after the callback number: CallbackComplete",
                        "coroutine: ended in Connected", "coroutine status: dead" },
  ["retry_password.lua"] = { "password 1 refused, trying password 2", "password 2 refused, trying password 3",
                             "retry_password: Connected after 3 passwords" },
  ["timeout_retry.lua"] = { "attempt 1: error 638 (The request timed out",
                            "waiting 0.05 s, then allowing 0.10 s", "^timeout_retry: attempt %d connected" },
  ["cqueues.lua"] = { "cqueues: Connected after 11 states", "the other coroutine ran 5 times meanwhile" },
  ["luv.lua"] = { "luv: OpenPort > PortOpened", "> Projected > Connected", "11 states through the poll handle" },
  -- another program's dial seen, each drop (drop_after) seen and redialled,
  -- the delay doubling while the link keeps dropping
  ["watch_redial.lua"] = { "watch_redial: Office is up\n",
                           "^watch_redial: Office dropped after 0%.3%d s; redialling in 0%.05 s\n",
                           "redialling in 0.10 s", "redialling in 0.20 s",
                           "watch_redial: redialled Office 3 times, waiting 0.05 > 0.10 > 0.20 s" },
}

local needs = { ["cqueues.lua"] = "cqueues", ["luv.lua"] = "luv" }

local function assert_output(out, patterns)
  for _, p in ipairs(patterns) do
    if p:sub(1, 1) == "^" then
      assert(out:match("\n" .. p:sub(2)) or out:match(p), "no match for " .. p .. " in:\n" .. out)
    else
      assert(out:find(p, 1, true), "no '" .. p .. "' in:\n" .. out)
    end
  end
end

-- The examples dial the simulator only: one run, in the plain (sim) suite,
-- is enough; the pppd and Wine runs of the suite skip this file.
if fixture.backend ~= "sim" then return end

describe("examples", function()
  local names = {}
  for name in pairs(expectations) do names[#names + 1] = name end
  table.sort(names)

  for _, name in ipairs(names) do
    it(name .. " runs against the simulator and prints what it shows", function()
      if needs[name] and not has_module(needs[name]) then
        return pending("needs the Lua module " .. needs[name])
      end
      -- On an older Lua, an example written in 5.4 syntax (<close>) is not run.
      if not compat.close and not loadfile(REPO .. "/examples/" .. name) then
        return pending("written in Lua 5.4 syntax")
      end
      local out, status = run_example(name)
      assert.are.equal(0, status, out)
      assert_output(out, expectations[name])
    end)
  end

  it("has an expectation for every example script", function()
    local _, listing = fixture.sh("ls " .. REPO .. "/examples/*.lua")
    for path in listing:gmatch("[^\n]+") do
      local name = path:match("([^/]+%.lua)$")
      local shown_elsewhere = name == "demo.lua" or name == "demo_pppd.lua"  -- make demo / demo-sim
      assert(shown_elsewhere or expectations[name], "examples/" .. name .. " is not run by this spec")
    end
  end)

  it("embed/dial.lua runs in the static host without ras.so", function()
    local host = os.getenv("RAS_EMBED_HOST") or REPO .. "/build/embed-host"  -- make test-lua-versions: each one's
    if not io.open(host) then return pending("build/embed-host is missing: make embed-check builds it") end
    local out, status = run(string.format("LUA_CPATH='/nonexistent/?.so' %s %s/examples/embed/dial.lua Branch",
                                          host, REPO))
    assert.are.equal(0, status, out)
    assert_output(out, { "embed: Branch Connected after 11 states", "embed: ras 0.1.0 from the host itself" })
  end)
end)
