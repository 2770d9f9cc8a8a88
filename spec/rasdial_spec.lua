-- bin/rasdial.lua (lua-rasdial) run as a subprocess: against the simulator
-- through --scenario files, and against real pppd inside spec/pppd/sandbox
-- (RAS_TEST_BACKEND=pppd). Every output of every run is checked for the
-- passwords.
local fixture = require "support.fixture"

local REPO = os.getenv("RAS_REPO") or "."
local CLI = REPO .. "/bin/rasdial.lua"
local SCENARIOS = REPO .. "/spec/support/rasdial_scenarios.lua"
local ESTABLISHED = REPO .. "/spec/support/rasdial_established.lua"
local PASSWORD, WRONG = "s3cret-Pa55", "wrong-Pa55"
local SECRETS = { PASSWORD, WRONG, fixture.password, fixture.wrong_password }
local LUA = "lua5.4"

local function quote(s) return "'" .. s:gsub("'", "'\\''") .. "'" end

local function shell_words(args)
  local words = {}
  for i, a in ipairs(args) do words[i] = quote(a) end
  return table.concat(words, " ")
end

local function read_all(path)
  local f = assert(io.open(path, "rb"))
  local s = f:read("a")
  f:close()
  return s
end

local function assert_no_secret(text, where)
  for _, secret in ipairs(SECRETS) do
    assert(not text:find(secret, 1, true), "a password appears in " .. where .. ":\n" .. text)
  end
end

-- Runs the CLI with args (a list) after `prefix` (a shell fragment, e.g. a
-- pipe into it); returns stdout, stderr and the exit status.
local function run(args, prefix)
  local err_path = os.tmpname()
  local command = string.format("%s%s %s %s 2>%s", prefix or "", LUA, CLI, shell_words(args), err_path)
  local f = assert(io.popen(command))
  local out = f:read("a")
  local _, _, status = f:close()
  local err = read_all(err_path)
  os.remove(err_path)
  assert_no_secret(out, "stdout")
  assert_no_secret(err, "stderr")
  return out, err, status
end

local function sim(...)
  return run({ "--scenario", SCENARIOS, ... })
end

local function lines_of(text)
  local lines = {}
  for line in text:gmatch("[^\n]*") do if line ~= "" then lines[#lines + 1] = line end end
  return lines
end

local function count(text, plain)
  local n, at = 0, 1
  while true do
    local s, e = text:find(plain, at, true)
    if not s then return n end
    n, at = n + 1, e + 1
  end
end

local function have(command) return fixture.sh("command -v " .. command .. " >/dev/null") end

local json_ok, cjson = pcall(require, "cjson")

local function decode_lines(text)
  local events = {}
  for i, line in ipairs(lines_of(text)) do
    local ok, value = pcall(cjson.decode, line)
    assert(ok, "line " .. i .. " is not JSON: " .. line)
    events[i] = value
  end
  return events
end

if fixture.backend == "sim" then

describe("lua-rasdial on the simulator", function()
  describe("dialling, piped", function()
    it("prints one line per state, a summary, and exits 0 when connected", function()
      local out, _, status = sim("Office VPN", "alice", PASSWORD)
      assert.are.equal(0, status)
      local lines = lines_of(out)
      assert.are.equal("Connecting to Office VPN...", lines[1])
      local states = {}
      for i = 2, #lines - 2 do states[#states + 1] = lines[i]:match("^%s*[%d.]+ s  (%a+)$") end
      assert.are.same(fixture.connected_states, states)
      assert.matches("^Connected to Office VPN in [%d.]+ s %(WAN Miniport %(SSTP%), 192.0.2.10 %-> 192.0.2.1%)%.$",
                     lines[#lines - 1])
      assert.are.equal("Command completed successfully.", lines[#lines])
      assert.is_nil(out:find("\r", 1, true))
    end)

    it("exits 191 for error 691 (wrong password) and says so", function()
      local out, _, status = sim("Office VPN", "alice", WRONG)
      assert.are.equal(191, status)
      assert.matches("Remote Access error 691 %- Access was denied", out)
    end)

    it("exits 176 for error 676 (busy)", function()
      local out, _, status = sim("Busy")
      assert.are.equal(176, status)
      assert.matches("Disconnected  %(error 676%)", out)
      assert.matches("Remote Access error 676 %- The line is busy%.", out)
    end)

    it("exits 123 for error 623 (no such entry)", function()
      local out, _, status = sim("Nowhere", "alice", PASSWORD)
      assert.are.equal(123, status)
      assert.matches("Remote Access error 623 ", out)
    end)

    it("ends a dial with error 638 at --timeout and exits 138", function()
      local out, _, status = sim("Never", "--timeout", "0.1")
      assert.are.equal(138, status)
      assert.matches("Remote Access error 638 ", out)
    end)

    it("retries a failed dial --retries times with a doubling back-off", function()
      local out, _, status = sim("Busy", "--retries", "2", "--backoff", "0.05")
      assert.are.equal(176, status)
      assert.are.equal(3, count(out, "Connecting to Busy"))
      assert.matches("Error 676: retrying in 0.05 s", out, 1, true)
      assert.matches("Error 676: retrying in 0.1 s", out, 1, true)
      assert.matches("(attempt 3)", out, 1, true)
    end)

    it("does not retry an error a retry cannot cure (691)", function()
      local out, _, status = sim("Office VPN", "alice", WRONG, "--retries", "3", "--backoff", "0.01")
      assert.are.equal(191, status)
      assert.are.equal(1, count(out, "Connecting to"))
    end)

    it("passes /domain and the other slash options to the dial, checked by the module", function()
      local _, err, status = sim("Office VPN", "alice", PASSWORD, "/domain:" .. string.rep("D", 16))
      assert.are.equal(2, status)
      assert.matches("bad parameter 'domain' (longer than 15 bytes)", err, 1, true)
      local out
      out, _, status = sim("Office VPN", "alice", PASSWORD, "/DOMAIN:CORP", "/phone:555", "/callback:123")
      assert.are.equal(0, status, out)
    end)

    it("reads the password from stdin for * when stdin is not a terminal", function()
      local out, _, status = run({ "--scenario", SCENARIOS, "Office VPN", "alice", "*" },
                                 "printf '%s\\n' " .. PASSWORD .. " | ")
      assert.are.equal(0, status, out)
      assert.matches("Command completed successfully.", out, 1, true)
    end)
  end)

  describe("--json", function()
    if not json_ok then
      it("needs lua-cjson to check the JSON", function() pending("lua-cjson is not installed") end)
      return
    end

    it("writes one parsable object per event, no password, and a result", function()
      local out, _, status = sim("--json", "Office VPN", "alice", PASSWORD)
      assert.are.equal(0, status)
      local events = decode_lines(out)
      assert.are.equal("dial", events[1].event)
      assert.are.equal("Office VPN", events[1].entry)
      local states = {}
      for i = 2, #events - 1 do
        assert.are.equal("state", events[i].event)
        assert.is_number(events[i].elapsed)
        states[#states + 1] = events[i].state
      end
      assert.are.same(fixture.connected_states, states)
      local result = events[#events]
      assert.are.same({ "result", "connected", 0, "192.0.2.10" },
                      { result.event, result.status, result.exit, result.local_address })
    end)

    it("carries the error, its message and the exit status of a failure", function()
      local out, _, status = sim("--json", "Office VPN", "alice", WRONG)
      assert.are.equal(191, status)
      local events = decode_lines(out)
      local last_state, result = events[#events - 1], events[#events]
      assert.are.same({ "Disconnected", 691, "terminal" },
                      { last_state.state, last_state.error, last_state.group })
      assert.are.same({ "failed", 691, 191 }, { result.status, result.error, result.exit })
      assert.matches("Access was denied", result.message)
    end)

    it("lists connections as objects", function()
      local out, _, status = run({ "--json", "--scenario", ESTABLISHED })
      assert.are.equal(0, status)
      local events = decode_lines(out)
      assert.are.same({ "connection", "Office VPN", "Connected" },
                      { events[1].event, events[1].entry, events[1].state })
      assert.are.same({ "result", "listed", 1 }, { events[2].event, events[2].status, events[2].count })
    end)
  end)

  describe("listing and /disconnect", function()
    it("lists the active connections like rasdial", function()
      local out, _, status = run({ "--scenario", ESTABLISHED })
      assert.are.equal(0, status)
      assert.are.same({ "Connected to", "Office VPN", "Command completed successfully." }, lines_of(out))
    end)

    it("says when there are none", function()
      local out, _, status = sim()
      assert.are.equal(0, status)
      assert.are.same({ "No connections", "Command completed successfully." }, lines_of(out))
    end)

    it("hangs up the named connection with /disconnect and /d", function()
      for _, form in ipairs { "/disconnect", "/d", "/DISCONNECT" } do
        local out, _, status = run({ "--scenario", ESTABLISHED, "Office VPN", form })
        assert.are.equal(0, status, form)
        assert.are.same({ "Disconnected Office VPN.", "Command completed successfully." }, lines_of(out))
      end
    end)

    it("hangs up every connection with a bare /disconnect", function()
      local out, _, status = run({ "--scenario", ESTABLISHED, "/disconnect" })
      assert.are.equal(0, status)
      assert.matches("Disconnected Office VPN.", out, 1, true)
    end)

    it("exits 168 (error 668) when the entry is not connected", function()
      local out, _, status = run({ "--scenario", ESTABLISHED, "Branch", "/disconnect" })
      assert.are.equal(168, status)
      assert.matches("You are not connected to Branch.", out, 1, true)
    end)
  end)

  describe("the command line", function()
    it("documents the exit status rule in --help and exits 0", function()
      local out, _, status = run({ "--help" })
      assert.are.equal(0, status)
      assert.matches("code - 500 (691 -> 191)", out, 1, true)
      assert.matches("--watch", out, 1, true)
    end)

    it("exits 2 on an unknown option, naming it", function()
      local _, err, status = run({ "--frobnicate" })
      assert.are.equal(2, status)
      assert.matches("unknown option --frobnicate", err, 1, true)
      _, err, status = run({ "entry", "/frob:1" })
      assert.are.equal(2, status)
      assert.matches("unknown option /frob", err, 1, true)
    end)

    it("exits 1 for a backend that does not exist or a scenario file that does not load", function()
      local _, err, status = run({ "--backend", "nonesuch" })
      assert.are.equal(1, status)
      assert.matches("unknown or unavailable backend 'nonesuch'", err, 1, true)
      _, err, status = run({ "--scenario", "/nonexistent.lua" })
      assert.are.equal(1, status)
      assert.matches("/nonexistent.lua", err, 1, true)
    end)

    it("never echoes a password given on the command line, even in a usage error", function()
      local out, err, status = run({ "Office VPN", "alice", PASSWORD, "extra", "--scenario", SCENARIOS })
      assert.are.equal(2, status)
      assert.matches("too many arguments", err, 1, true)
      assert.are.equal("", out)
    end)
  end)

  describe("--watch", function()
    it("reports connections appearing and going, and exits 0 on SIGINT", function()
      if not have("timeout") then return pending("needs timeout(1)") end
      local out, _, status = run({ "--watch", "--interval", "50", "--scenario", ESTABLISHED },
                                 "timeout --preserve-status -s INT 1.5 ")
      assert.are.equal(0, status)
      local lines = lines_of(out)
      assert.are.equal(3, #lines, out)
      assert.matches("^%d%d:%d%d:%d%d  up    Office VPN  %(Connected%)$", lines[1])
      assert.matches("  up    Branch  ", lines[2], 1, true)
      assert.matches("  down  Office VPN$", lines[3])
    end)
  end)

  describe("on a terminal", function()
    it("redraws one live line (spinner, state, elapsed time) and ends with a summary", function()
      if not have("script") then return pending("needs script(1)") end
      local command = string.format("%s %s --scenario %s Slow alice %s", LUA, CLI, SCENARIOS, PASSWORD)
      local out = select(2, fixture.sh("script -qfec " .. quote(command) .. " /dev/null </dev/null"))
      assert_no_secret(out, "the terminal")
      assert.matches("\r| Slow: dialling", out, 1, true)
      assert.matches("\r[|/\\-] Slow: Authenticate +%d+%.%d s\27%[K", out)
      assert.is_true(count(out, "\r") > 11, "fewer redraws than states")
      assert.matches("\r\27[KConnected to Slow in ", out, 1, true)
      assert.matches("Command completed successfully.", out, 1, true)
    end)

    it("keeps one line per state with --no-tty, and draws live with --tty when piped", function()
      if not have("script") then return pending("needs script(1)") end
      local command = string.format("%s %s --no-tty --scenario %s Busy", LUA, CLI, SCENARIOS)
      local out = select(2, fixture.sh("script -qfec " .. quote(command) .. " /dev/null </dev/null"))
      assert.is_nil(out:find("\27[K", 1, true))
      assert.matches("ConnectDevice", out, 1, true)
      out = sim("--tty", "Busy")
      assert.matches("\r\27[KRemote Access error 676", out, 1, true)
    end)
  end)

  describe("* through a terminal (tmux)", function()
    local socket = os.tmpname()
    local function tmux(args) return fixture.sh("tmux -S " .. socket .. " " .. args) end
    local function screen() return select(2, tmux("capture-pane -p")) end

    -- Starts the CLI in a detached 100x10 session; after it ends the shell
    -- prints its exit status and whether the terminal echoes again.
    local function start(args)
      local inner = string.format(
        "trap : INT; %s %s --scenario %s %s; echo \"[exit $?]\"; " ..
        "if stty -a | grep -qw -- -echo; then echo '[echo off]'; else echo '[echo on]'; fi; sleep 60",
        LUA, CLI, SCENARIOS, args)
      local env = string.format("env LUA_CPATH=%s LUA_PATH=%s ", quote(package.cpath), quote(package.path))
      assert(tmux("new-session -d -x 100 -y 10 " .. quote(env .. "sh -c " .. quote(inner))))
    end

    local function wait_for(text, seconds)
      for _ = 1, seconds * 20 do
        local s = screen()
        if s:find(text, 1, true) then return s end
        fixture.sh("sleep 0.05")
      end
      error("no '" .. text .. "' on the screen:\n" .. screen())
    end

    before_each(function()
      if not have("tmux") then pending("needs tmux") end
    end)
    after_each(function()
      tmux("kill-server")
      os.remove(socket)
    end)

    it("asks without echo, dials, and restores the echo", function()
      if not have("tmux") then return end
      start("'Office VPN' alice '*'")
      wait_for("Enter the password for alice to connect to Office VPN:", 5)
      assert(tmux("send-keys -l " .. PASSWORD))
      assert(tmux("send-keys Enter"))
      local s = wait_for("[echo ", 10)
      assert_no_secret(s, "the terminal")
      assert.matches("[exit 0]", s, 1, true)
      assert.matches("[echo on]", s, 1, true)
      assert.matches("Connected to Office VPN in", s, 1, true)
    end)

    it("restores the echo and exits 130 when interrupted at the prompt", function()
      if not have("tmux") then return end
      start("'Office VPN' alice '*'")
      wait_for("Enter the password", 5)
      assert(tmux("send-keys -l half-typed"))
      assert(tmux("send-keys C-c"))
      local s = wait_for("[echo ", 10)
      assert.matches("[exit 130]", s, 1, true)
      assert.matches("[echo on]", s, 1, true)
      assert.is_nil(s:find("half-typed", 1, true))
    end)
  end)
end)

end

if fixture.backend == "pppd" then

describe("lua-rasdial against real pppd", function()
  before_each(function() fixture.context() end)  -- writes the peers, no pppd left
  after_each(function() fixture.stop_all_pppd() end)

  it("dials, lists, and disconnects with rasdial's forms", function()
    local out, _, status = run({ "ras-pap", fixture.user, fixture.password, "--timeout", "30" })
    assert.are.equal(0, status, out)
    assert.matches("Connected to ras%-pap in [%d.]+ s %(.*10%.0%.0%.2 %-> 10%.0%.0%.1%)", out)
    assert.is_true(fixture.sh("ping -c 1 -W 2 10.0.0.1 >/dev/null"), "the link is not up after the CLI exited")
    out, _, status = run({})
    assert.are.equal(0, status)
    assert.are.same({ "Connected to", "ras-pap", "Command completed successfully." }, lines_of(out))
    out, _, status = run({ "ras-pap", "/disconnect" })
    assert.are.equal(0, status, out)
    assert.is_falsy(fixture.sh("pgrep -x pppd >/dev/null"), "pppd still runs")
  end)

  it("exits 191 for a wrong password, with JSON events", function()
    local out, _, status = run({ "--json", "ras-pap", fixture.user, fixture.wrong_password, "--timeout", "30" })
    assert.are.equal(191, status, out)
    if json_ok then
      local events = decode_lines(out)
      assert.are.same({ "failed", 691 }, { events[#events].status, events[#events].error })
    end
  end)

  it("exits 178 when the connect script fails (no answer)", function()
    local _, _, status = run({ "ras-noanswer", "--timeout", "30" })
    assert.are.equal(178, status)
  end)
end)

end
