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
local PSK = "psk-Secr3t"  -- a pre-shared key
local SECRETS = { PASSWORD, WRONG, PSK, fixture.password, fixture.wrong_password }
local LUA = "lua5.4"

local function quote(s) return "'" .. s:gsub("'", "'\\''") .. "'" end

local function shell_words(args)
  local words = {}
  for i, a in ipairs(args) do words[i] = quote(a) end
  return table.concat(words, " ")
end

local function read_all(path)
  local f = assert(io.open(path, "rb"))
  local s = f:read("*a")
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
  local out = f:read("*a")
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

-- Runs the CLI with args in the background until its stdout holds `done`
-- `times` times (plain text; at most 10 s), then interrupts it as Ctrl-C
-- does; returns stdout, stderr and the exit status as run() does.
local function run_until(args, done, times)
  local dir = os.tmpname()
  os.remove(dir)
  assert(fixture.sh("mkdir -m 700 " .. dir))
  assert(fixture.sh(string.format("(%s %s %s >%s/out 2>%s/err & echo $! >%s/pid; wait $!; echo $? >%s/status)"
                                  .. " </dev/null >/dev/null 2>&1 &", LUA, CLI, shell_words(args),
                                  dir, dir, dir, dir)))
  local function file(name)
    local f = io.open(dir .. "/" .. name, "rb")
    if not f then return nil end
    local text = f:read("a")
    f:close()
    return text
  end
  local function seen()
    local out = file("out") or ""
    local n, at = 0, 1
    while true do
      local _, e = out:find(done, at, true)
      if not e then return n >= (times or 1) end
      n, at = n + 1, e + 1
    end
  end
  for _ = 1, 200 do
    if seen() then break end
    fixture.sh("sleep 0.05")
  end
  local pid = assert((file("pid") or ""):match("^(%d+)"), "the CLI did not start")
  fixture.sh("kill -INT " .. pid)
  for _ = 1, 200 do
    if (file("status") or ""):match("%d") then break end
    fixture.sh("sleep 0.05")
  end
  local out, err, status = file("out") or "", file("err") or "", tonumber((file("status") or ""):match("%d+"))
  fixture.sh("rm -rf " .. dir)
  assert_no_secret(out, "stdout")
  assert_no_secret(err, "stderr")
  return out, err, status
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

    it("shows a dialled name's control bytes escaped, also in the module's error message", function()
      local out, _, status = sim("x\nCommand completed successfully.\27[2J")
      assert.are.equal(123, status)
      assert.is_nil(out:find("\27", 1, true), "a raw ESC reached the terminal")
      for _, line in ipairs(lines_of(out)) do
        assert.are_not.equal("Command completed successfully.", line, "a forged line:\n" .. out)
      end
      assert.matches("Connecting to x\\nCommand completed successfully.\\x1b[2J...", out, 1, true)
      assert.matches("no entry 'x\\nCommand completed successfully.\\x1b[2J'", out, 1, true)
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
      local out, _, status = run_until({ "--watch", "--scenario", ESTABLISHED }, "  down  ")
      assert.are.equal(0, status)
      local lines = lines_of(out)
      assert.are.equal(3, #lines, out)
      assert.matches("^%d%d:%d%d:%d%d  up    Office VPN  %(Connected%)$", lines[1])
      assert.matches("  up    Branch  ", lines[2], 1, true)
      assert.matches("  down  Office VPN$", lines[3])
    end)

    it("--json: up and down objects; --interval of older scripts is ignored, with a note on stderr", function()
      if not json_ok then return pending("lua-cjson is not installed") end
      local out, err, status = run_until({ "--watch", "--json", "--interval", "50", "--scenario", ESTABLISHED },
                                         '"event":"down"')
      assert.are.equal(0, status)
      assert.matches("--interval is deprecated and ignored", err, 1, true)
      local events = decode_lines(out)
      assert.are.equal(3, #events, out)
      assert.are.same({ { "up", "Office VPN", "Connected" }, { "up", "Branch", "Connected" },
                        { "down", "Office VPN" } },
                      { { events[1].event, events[1].entry, events[1].state },
                        { events[2].event, events[2].entry, events[2].state },
                        { events[3].event, events[3].entry } })
    end)

    it("names a combination it does not take", function()
      local _, err, status = sim("--watch", "/disconnect")
      assert.are.equal(2, status)
      assert.matches("/disconnect cannot be combined with --watch", err, 1, true)
    end)
  end)

  describe("phone-book entries, in PowerShell's words", function()
    local scenario_names = {}
    for name in pairs(dofile(SCENARIOS).entries) do scenario_names[#scenario_names + 1] = name end
    table.sort(scenario_names)

    -- The entry --pass-thru read back (JSON), and the run's result object.
    local function passed_thru(out)
      local events = decode_lines(out)
      local shown, result = events[#events - 1], events[#events]
      assert.are.equal("entry", shown.event, out)
      return shown, result
    end

    before_each(function()
      if not json_ok then pending("lua-cjson is not installed") end
    end)

    it("--list-entries names every entry of the phone book, one a line", function()
      local out, _, status = sim("--list-entries")
      assert.are.equal(0, status)
      local lines = lines_of(out)
      assert.are.equal("Command completed successfully.", table.remove(lines))
      table.sort(lines)
      assert.are.same(scenario_names, lines)
    end)

    it("--list-entries --json: an object per entry and a result with the count", function()
      local out, _, status = sim("--list-entries", "--json")
      assert.are.equal(0, status)
      local events = decode_lines(out)
      local result = table.remove(events)
      assert.are.same({ "result", "listed", #scenario_names, 0 },
                      { result.event, result.status, result.count, result.exit })
      local names = {}
      for i, ev in ipairs(events) do
        assert.are.same({ "entry", "sim" }, { ev.event, ev.phonebook })
        names[i] = ev.name
      end
      table.sort(names)
      assert.are.same(scenario_names, names)
    end)

    it("--list-devices lists the devices as the module does, escaping control bytes in text", function()
      local DEVICES = REPO .. "/spec/support/rasdial_devices.lua"
      local ras = require "ras"
      local ctx <close> = assert(ras.open("sim", dofile(DEVICES)))
      local expected = {}
      for i, d in ipairs(ctx.devices()) do expected[i] = { d.name, d.type } end
      local out, _, status = run({ "--scenario", DEVICES, "--list-devices", "--json" })
      assert.are.equal(0, status, out)
      local events, got = decode_lines(out), {}
      local result = table.remove(events)
      for i, ev in ipairs(events) do got[i] = { ev.name, ev.type } end
      assert.are.same(expected, got)
      assert.are.same({ "listed", #expected }, { result.status, result.count })
      out, _, status = run({ "--scenario", DEVICES, "--list-devices" })
      assert.are.equal(0, status)
      assert.is_nil(out:find("\27", 1, true))
      assert.matches("\nWAN Miniport (SSTP)  (vpn)\n", "\n" .. out, 1, true)
      assert.matches("\ngre\\x1b[2J0  (gre)\n", out, 1, true)
    end)

    it("--add-entry maps every option to its property, as --pass-thru reads it back", function()
      local out, _, status = sim("--add-entry", "New VPN", "--server-address", "vpn.example.com",
        "--tunnel-type", "Sstp", "--authentication-method", "MSChapv2,Eap",
        "--encryption-level", "Required", "--split-tunneling", "--dns-servers", "10.0.0.1, 2001:db8::1",
        "--no-use-peer-dns", "--ipv4", "--no-ipv6", "--idle-disconnect-seconds", "600",
        "--redial-attempts", "3", "--redial-interval", "5", "--username", "bob",
        "--device", "WAN Miniport (SSTP)", "--pass-thru", "--json")
      assert.are.equal(0, status, out)
      local shown, result = passed_thru(out)
      assert.are.same({ "added", "New VPN", 0 }, { result.status, result.entry, result.exit })
      local expected = { name = "New VPN", type = "vpn", number = "vpn.example.com", vpn = "sstp",
                         auth = { "mschapv2", "eap" }, encryption = "required",
                         default_gateway = false, dns = { "10.0.0.1", "2001:db8::1" },
                         use_peer_dns = false, ipv4 = true, ipv6 = false, idle_disconnect = 600,
                         redial = { attempts = 3, interval = 5 }, username = "bob",
                         device = "WAN Miniport (SSTP)" }
      for property, value in pairs(expected) do
        assert.are.same(value, shown.properties[property], property)
      end
    end)

    it("shows an entry in PowerShell's names and spellings", function()
      local out, _, status = sim("--add-entry", "Shown", "--server-address", "vpn.example.com",
        "--tunnel-type", "automatic", "--authentication-method", "pap,CHAP",
        "--encryption-level", "noencryption", "--no-split-tunneling", "--pass-thru")
      assert.are.equal(0, status, out)
      local lines = lines_of(out)
      assert.are.equal("Entry Shown added.", lines[1])
      for _, row in ipairs { "Name +: Shown", "Type +: Vpn", "ServerAddress +: vpn%.example%.com",
                             "TunnelType +: Automatic", "AuthenticationMethod +: Pap,Chap",
                             "EncryptionLevel +: NoEncryption", "SplitTunneling +: False" } do
        local found = false
        for _, line in ipairs(lines) do found = found or line:match("^" .. row .. "$") ~= nil end
        assert(found, "no row " .. row .. " in:\n" .. out)
      end
      assert.are.equal("Command completed successfully.", lines[#lines])
    end)

    it("takes the module's words and any case for the choices; --add-entry's type is vpn", function()
      local out, _, status = sim("--add-entry", "Words", "--tunnel-type", "PPTP", "--encryption-level",
                                 "none", "--authentication-method", "mschapv2", "--pass-thru", "--json")
      assert.are.equal(0, status, out)
      local p = passed_thru(out).properties
      assert.are.same({ "vpn", "pptp", "none", { "mschapv2" } }, { p.type, p.vpn, p.encryption, p.auth })
      out, _, status = sim("--add-entry", "Dialup", "--type", "modem", "--phone-number", "555 0100",
                           "--device", "/dev/ttyS0", "--pass-thru", "--json")
      assert.are.equal(0, status, out)
      p = passed_thru(out).properties
      assert.are.same({ "modem", "555 0100", "/dev/ttyS0" }, { p.type, p.number, p.device })
    end)

    it("--pppd-option words go into pppd_options in order; --no-pppd-options empties them", function()
      local out, _, status = sim("--add-entry", "Words", "--pppd-option", "name x", "--pppd-option", "noauth",
                                 "--pass-thru", "--json")
      assert.are.equal(0, status, out)
      assert.are.same({ "name x", "noauth" }, passed_thru(out).properties.pppd_options)
      out, _, status = sim("--set-entry", "Branch", "--no-pppd-options", "--pass-thru", "--json")
      assert.are.equal(0, status, out)
      local p = passed_thru(out).properties.pppd_options
      assert(p == nil or next(p) == nil, "pppd_options left after --no-pppd-options")
    end)

    it("--add-entry of a name that exists fails with 183 (exit 255), and says so", function()
      local out, _, status = sim("--add-entry", "Office VPN", "--server-address", "x.example")
      assert.are.equal(255, status)
      assert.matches("^Remote Access error 183 ", out)
      out, _, status = sim("--add-entry", "Office VPN", "--json")
      assert.are.equal(255, status)
      local result = decode_lines(out)[1]
      assert.are.same({ "failed", 183, 255, "Office VPN" },
                      { result.status, result.error, result.exit, result.entry })
    end)

    it("--set-entry changes the options given and nothing else", function()
      local before = passed_thru((sim("--show-entry", "Office VPN", "--json"))).properties
      local out, _, status = sim("--set-entry", "Office VPN", "--phone-number", "555 0199",
                                 "--redial-interval", "7", "--pass-thru", "--json")
      assert.are.equal(0, status, out)
      local shown, result = passed_thru(out)
      assert.are.same({ "changed", "Office VPN" }, { result.status, result.entry })
      local after = shown.properties
      assert.are.equal("555 0199", after.number)
      -- redial is one record: the attempts the command line left out stay
      assert.are.same({ attempts = (before.redial or {}).attempts or 0, interval = 7 }, after.redial)
      after.number, after.redial, before.number, before.redial = nil, nil, nil, nil
      assert.are.same(before, after)
    end)

    it("--set-entry without an entry option is a usage error; a missing entry is 623", function()
      local _, err, status = sim("--set-entry", "Office VPN")
      assert.are.equal(2, status)
      assert.matches("--set-entry needs at least one entry option", err, 1, true)
      local out
      out, _, status = sim("--set-entry", "Nowhere", "--ipv6")
      assert.are.equal(123, status)
      assert.matches("Remote Access error 623 ", out, 1, true)
    end)

    it("--rename-entry OLD NEW: --pass-thru shows NEW; 623 for no OLD, 183 for an existing NEW", function()
      local out, _, status = sim("--rename-entry", "Branch", "Head Office", "--pass-thru", "--json")
      assert.are.equal(0, status, out)
      local shown, result = passed_thru(out)
      assert.are.same({ "renamed", "Branch", "Head Office" }, { result.status, result.entry, result.new_name })
      assert.are.equal("Head Office", shown.name)
      out, _, status = sim("--rename-entry", "Nowhere", "Elsewhere")
      assert.are.equal(123, status)
      assert.matches("Remote Access error 623 ", out, 1, true)
      out, _, status = sim("--rename-entry", "Branch", "Busy")
      assert.are.equal(255, status)
      assert.matches("Remote Access error 183 ", out, 1, true)
      local err
      _, err, status = sim("--rename-entry", "Branch")
      assert.are.equal(2, status)
      assert.matches("--rename-entry needs 2 values", err, 1, true)
    end)

    it("--remove-entry removes it (--pass-thru lists the entries left); 623 for a missing one", function()
      local out, _, status = sim("--remove-entry", "Busy", "--pass-thru")
      assert.are.equal(0, status, out)
      local lines = lines_of(out)
      assert.are.equal("Entry Busy removed.", table.remove(lines, 1))
      assert.are.equal("Command completed successfully.", table.remove(lines))
      table.sort(lines)
      local left = {}
      for _, name in ipairs(scenario_names) do if name ~= "Busy" then left[#left + 1] = name end end
      assert.are.same(left, lines)
      out, _, status = sim("--remove-entry", "Nowhere")
      assert.are.equal(123, status)
      assert.matches("Remote Access error 623 ", out, 1, true)
    end)

    it("--show-entry of a missing entry exits 123 (error 623)", function()
      local out, _, status = sim("--show-entry", "Nowhere")
      assert.are.equal(123, status)
      assert.matches("Remote Access error 623 ", out, 1, true)
    end)

    it("a property the module refuses is a usage error naming the option, and nothing is added", function()
      for _, case in ipairs {
        { { "--dns-servers", "10.0.0.1,not an address" }, "--dns-servers: bad property 'dns" },
        { { "--redial-attempts", "1000" }, "--redial-attempts: bad property 'redial.attempts'" },
        { { "--device", string.rep("d", 4096) }, "--device: bad property 'device'" },
        { { "--dns-servers", "10.0.0.1", "--use-peer-dns" }, "--use-peer-dns: bad property 'use_peer_dns'" },
        { { "--type", "modem", "--tunnel-type", "Pptp" }, "--tunnel-type: bad property 'vpn'" },
      } do
        local args = { "--add-entry", "Refused" }
        for _, a in ipairs(case[1]) do args[#args + 1] = a end
        local out, err, status = sim(table.unpack(args))
        assert.are.equal(2, status, err)
        assert.are.equal("", out)
        assert.matches(case[2], err, 1, true)
      end
    end)

    it("names the option of a bad value, a misplaced option and a clash, with exit 2", function()
      for _, case in ipairs {
        { { "--add-entry", "X", "--tunnel-type", "Gre" },
          "bad value for --tunnel-type (expected Pptp, L2tp, Sstp, Ikev2 or Automatic)" },
        { { "--add-entry", "X", "--authentication-method", "Pap,Kerberos" },
          "bad value for --authentication-method (expected Pap, Chap, MSChapv2 or Eap)" },
        { { "--add-entry", "X", "--encryption-level", "Custom" }, "bad value for --encryption-level" },
        { { "--add-entry", "X", "--idle-disconnect-seconds", "soon" },
          "--idle-disconnect-seconds needs a number >= 0" },
        { { "--add-entry", "X", "--redial-attempts", "1.5" }, "--redial-attempts needs a whole number" },
        { { "--tunnel-type", "Pptp" }, "--tunnel-type is for --add-entry and --set-entry" },
        { { "--show-entry", "X", "--split-tunneling" }, "--split-tunneling is for --add-entry and --set-entry" },
        { { "--add-entry", "X", "--ipv4", "--no-ipv4" }, "--ipv4 and --no-ipv4 both set the ipv4" },
        { { "--add-entry", "X", "--server-address", "a", "--phone-number", "b" },
          "--server-address and --phone-number both set the number" },
        { { "--add-entry", "X", "--remove-entry", "Y" }, "--add-entry and --remove-entry cannot be combined" },
        { { "--list-entries", "--watch" }, "--watch goes with --status only" },
        { { "--list-entries", "extra" }, "too many arguments" },
        { { "--list-entries", "--pass-thru" }, "--pass-thru is for the forms that change" },
        { { "--add-entry", "X", "--dns-suffix", "corp" }, "unknown option --dns-suffix" },
        { { "--add-entry" }, "--add-entry needs a value" },
      } do
        local out, err, status = sim(table.unpack(case[1]))
        assert.are.equal(2, status, table.concat(case[1], " ") .. ": " .. err)
        assert.are.equal("", out)
        assert.matches(case[2], err, 1, true)
      end
    end)

    it("names every entry option given without --add-entry or --set-entry", function()
      for _, args in ipairs {
        { "--type", "Vpn" }, { "--server-address", "h" }, { "--phone-number", "1" }, { "--device", "d" },
        { "--tunnel-type", "Sstp" }, { "--authentication-method", "Pap" }, { "--encryption-level", "Optional" },
        { "--split-tunneling" }, { "--no-split-tunneling" }, { "--dns-servers", "10.0.0.1" },
        { "--use-peer-dns" }, { "--no-use-peer-dns" }, { "--ipv4" }, { "--no-ipv4" }, { "--ipv6" },
        { "--no-ipv6" }, { "--idle-disconnect-seconds", "1" }, { "--redial-attempts", "3" },
        { "--redial-interval", "3" }, { "--username", "u" }, { "--pppd-option", "noauth" },
        { "--no-pppd-options" },
      } do
        for _, form in ipairs { {}, { "--remove-entry", "Branch" } } do
          local argv = { table.unpack(form) }
          for _, a in ipairs(args) do argv[#argv + 1] = a end
          local out, err, status = sim(table.unpack(argv))
          assert.are.equal(2, status, table.concat(argv, " ") .. ": " .. err)
          assert.are.equal("", out)
          assert.matches(args[1] .. " is for --add-entry and --set-entry", err, 1, true)
        end
      end
    end)

    it("shows a hostile entry name with its control bytes escaped in text, as JSON escapes in JSON", function()
      local HOSTILE = REPO .. "/spec/support/rasdial_hostile.lua"
      local name = next(dofile(HOSTILE).entries)
      local shown = "evil\\nCommand completed successfully.\\x1b[2J"
      for _, args in ipairs { { "--list-entries" }, { "--show-entry", name }, {}, { "--status" },
                              { "--set-entry", name, "--ipv6" }, { "--remove-entry", name } } do
        local out, _, status = run({ "--scenario", HOSTILE, table.unpack(args) })
        local form = args[1] or "(listing)"
        assert.are.equal(0, status, form .. ": " .. out)
        assert.is_nil(out:find("\27", 1, true), form .. ": a raw ESC reached the terminal")
        assert.matches(shown, out, 1, true)
        local completed = 0
        for _, line in ipairs(lines_of(out)) do
          if line == "Command completed successfully." then completed = completed + 1 end
        end
        assert.are.equal(1, completed, form .. ": a forged line")
        out = run({ "--scenario", HOSTILE, "--json", table.unpack(args) })
        assert.is_nil(out:find("\27", 1, true))
        local found = false
        for _, ev in ipairs(decode_lines(out)) do found = found or ev.name == name or ev.entry == name end
        assert(found, form .. ": the name does not come back from the JSON:\n" .. out)
      end
      -- and such a name is not one a new entry may have
      local out, _, status = sim("--add-entry", name)
      assert.are.equal(255, status)
      assert.matches("Remote Access error 123 ", out, 1, true)
    end)

    it("lists every form in --help", function()
      local out = run({ "--help" })
      for _, form in ipairs { "--list-entries", "--list-devices", "--show-entry NAME", "--add-entry NAME",
                              "--set-entry NAME", "--rename-entry OLD NEW", "--remove-entry NAME",
                              "--set-credentials NAME USER [PASSWORD|*]", "--domain D", "--psk KEY|*",
                              "--clear-credentials NAME", "--status [entry]", "--pass-thru",
                              "--server-address", "--tunnel-type Pptp|L2tp|Sstp|Ikev2|Automatic",
                              "--authentication-method Pap,Chap,MSChapv2,Eap",
                              "--encryption-level NoEncryption|Optional|Required|Maximum",
                              "--split-tunneling", "--dns-servers", "--use-peer-dns", "--ipv6",
                              "--idle-disconnect-seconds", "--redial-attempts", "--redial-interval",
                              "--username", "--pppd-option", "--phone-number", "--device", "--type" } do
        assert.matches(form, out, 1, true)
      end
    end)
  end)

  describe("saved credentials", function()
    local function creds_of(out)
      local events = decode_lines(out)
      assert.are.equal("entry", events[#events - 1].event, out)
      return events[#events - 1].credentials, events[#events]
    end

    before_each(function()
      if not json_ok then pending("lua-cjson is not installed") end
    end)

    it("--show-entry says whether a password is saved (the simulator starts with none)", function()
      local out, _, status = sim("--show-entry", "Office VPN")
      assert.are.equal(0, status)
      assert.matches("\nSavedPassword +: False\nSavedPsk +: False\n", out)
      assert.is_nil(out:find("SavedUserName", 1, true))
      local creds = creds_of((sim("--show-entry", "Office VPN", "--json")))
      assert.are.same({ saved_password = false, saved_psk = false }, creds)
    end)

    it("--set-credentials NAME USER PASSWORD --domain D saves them (--pass-thru: only that they are)", function()
      local out, _, status = sim("--set-credentials", "Branch", "bob", PASSWORD, "--domain", "CORP",
                                 "--pass-thru", "--json")
      assert.are.equal(0, status, out)
      local creds, result = creds_of(out)
      assert.are.same({ "credentials_saved", "Branch" }, { result.status, result.entry })
      assert.are.same({ username = "bob", domain = "CORP", saved_password = true, saved_psk = false }, creds)
      out, _, status = sim("--set-credentials", "Branch", "bob", PASSWORD, "--pass-thru")
      assert.are.equal(0, status)
      assert.matches("^Credentials of Branch saved%.\n", out)
      assert.matches("\nSavedPassword +: True\n", out)
    end)

    it("reads * and --psk * from stdin when it is not a terminal: the password's line, then the key's", function()
      local out, _, status = run({ "--scenario", SCENARIOS, "--set-credentials", "Branch", "carol", "*",
                                   "--psk", "*", "--pass-thru", "--json" },
                                 "printf '%s\\n%s\\n' " .. PASSWORD .. " " .. PSK .. " | ")
      assert.are.equal(0, status, out)
      local creds = creds_of(out)
      assert.are.same({ username = "carol", saved_password = true, saved_psk = true }, creds)
    end)

    it("saves nothing when * finds nothing to read", function()
      local out, err, status = run({ "--scenario", SCENARIOS, "--set-credentials", "Branch", "carol", "*" },
                                   "true | ")
      assert.are.equal(2, status)
      assert.are.equal("", out)
      assert.matches("no password was read", err, 1, true)
    end)

    it("--clear-credentials forgets them: --pass-thru reads back none", function()
      local out, _, status = sim("--clear-credentials", "Office VPN", "--pass-thru", "--json")
      assert.are.equal(0, status, out)
      local creds, result = creds_of(out)
      assert.are.same({ "credentials_cleared", "Office VPN" }, { result.status, result.entry })
      assert.is_false(creds.saved_password)
      assert.is_false(creds.saved_psk)
      out, _, status = sim("--clear-credentials", "Nowhere")
      assert.are.equal(123, status)
      assert.matches("Remote Access error 623 ", out, 1, true)
    end)

    it("never shows a password or key: not in a refusal, an error, or a misplaced option", function()
      local cases = {
        { { "--set-credentials", "Branch", "bob", string.rep(PASSWORD, 40) }, 2, "bad credential 'password'" },
        { { "--set-credentials", "Branch", "bob", PASSWORD, "--psk", string.rep(PSK, 60) }, 2,
          "bad credential 'psk'" },
        { { "--set-credentials", "Nowhere", "bob", PASSWORD, "--psk", PSK }, 123, nil },
        { { "--set-credentials", "Branch", "bob", PASSWORD, "extra" }, 2, "too many arguments" },
        { { "--set-credentials", "Branch", "bob", "--password=" .. PASSWORD }, 2, "unknown option --password" },
        { { "--set-credentials", "Branch", "bob", "-p=" .. PASSWORD }, 2, "unknown option -p" },
        { { "--psk", PSK, "--list-entries" }, 2, "--psk is for --set-credentials" },
        { { "--json=" .. PSK }, 2, "--json takes no =value" },
        { { "--set-credentials", "Branch" }, 2, "--set-credentials needs NAME and USER" },
      }
      for _, case in ipairs(cases) do
        local out, err, status = sim(table.unpack(case[1]))
        assert.are.equal(case[2], status, err)
        if case[3] then assert.matches(case[3], err, 1, true) end
        for _, text in ipairs { out, err } do
          assert.is_nil(text:find(PSK, 1, true), "the key appears in:\n" .. text)
        end
        out = sim("--json", table.unpack(case[1]))
        assert.is_nil(out:find(PSK, 1, true), "the key appears in:\n" .. out)
      end
    end)
  end)

  describe("--status", function()
    -- What the module itself answers for the scenario's established
    -- connection: the CLI must show the same.
    local function module_view()
      local ras = require "ras"
      local options = dofile(ESTABLISHED)
      options.activity = nil
      local ctx <close> = assert(ras.open("sim", options))
      local conn = ctx.connections()[1]
      return conn:projection(), conn:statistics(), conn:status()
    end

    it("shows status, projection and statistics of every connection", function()
      local p, stats = module_view()
      local out, _, status = run({ "--scenario", ESTABLISHED, "--status" })
      assert.are.equal(0, status, out)
      local lines = lines_of(out)
      assert.are.equal("Office VPN", lines[1])
      local rows = {}
      for i = 2, #lines - 1 do
        local label, value = lines[i]:match("^  (%w+) +: (.*)$")
        assert(label, "not a row: " .. lines[i])
        rows[label] = value
      end
      assert.are.equal("Connected", rows.State)
      assert.are.equal(p.interface, rows.Interface)
      assert.are.equal(p.ipv4.address .. " -> " .. p.ipv4.server_address, rows.IPv4)
      assert.are.equal(table.concat(p.ipv4.dns, ","), rows.DnsServers)
      assert.are.equal(p.ipv6.interface_id .. " -> " .. p.ipv6.server_interface_id, rows.IPv6)
      assert.are.equal("MSChapv2", rows.Authentication)
      assert.are.same({ p.encryption, p.compression }, { rows.Encryption, rows.Compression })
      assert.are.equal(stats.speed .. " bit/s", rows.Speed)
      assert.matches("^%d+ bytes, %d+ frames$", rows.Sent)
      assert.matches("^%d+ bytes, %d+ frames$", rows.Received)
      assert.matches("^%d+:%d%d:%d%d$", rows.Duration)
      assert.are.equal("Command completed successfully.", lines[#lines])
    end)

    it("--json: the module's own tables, and a result", function()
      if not json_ok then return pending("lua-cjson is not installed") end
      local p, stats, st = module_view()
      local out, _, status = run({ "--scenario", ESTABLISHED, "--status", "Office VPN", "--json" })
      assert.are.equal(0, status, out)
      local events = decode_lines(out)
      assert.are.equal(2, #events, out)
      local snap = events[1]
      assert.are.same({ "status", "Office VPN", "Connected" }, { snap.event, snap.entry, snap.state })
      assert.are.same(p, snap.projection)
      assert.are.same(st.device_name, snap.status.device_name)
      for key, value in pairs(stats) do
        if key ~= "duration" and not key:match("^bytes_") and not key:match("^frames_") then
          assert.are.same(value, snap.statistics[key], key)
        end
        assert.is_number(snap.statistics[key], key)
      end
      assert.are.same({ "result", "shown", 1 }, { events[2].event, events[2].status, events[2].count })
    end)

    it("exits 168 (error 668) for an entry that is not connected", function()
      local out, _, status = run({ "--scenario", ESTABLISHED, "--status", "Branch" })
      assert.are.equal(168, status)
      assert.matches("You are not connected to Branch.", out, 1, true)
      out, _, status = sim("--status")
      assert.are.equal(168, status)
      assert.matches("No connections", out, 1, true)
    end)

    it("--watch: a frame on each change and each second, until SIGINT (exit 0)", function()
      -- the frame after Office VPN went (Branch alone), and the next second's
      local out, _, status = run_until({ "--scenario", ESTABLISHED, "--status", "--watch" }, " ---\nBranch\n", 2)
      assert.are.equal(0, status, out)
      local frames = {}
      for line in out:gmatch("[^\n]*\n") do
        if line:match("^%-%-%- %d%d:%d%d:%d%d %-%-%-\n$") then frames[#frames + 1] = ""
        else frames[#frames] = frames[#frames] .. line end
      end
      assert(#frames >= 4, "fewer frames than changes and a refresh:\n" .. out)
      assert.matches("^Office VPN\n  State +: Connected\n", frames[1])
      assert.is_nil(frames[1]:find("Branch", 1, true))
      assert.matches("^Office VPN\n.*\n\nBranch\n", frames[2])
      assert.matches("^Branch\n", frames[#frames])
      assert.is_nil(frames[#frames]:find("Office VPN", 1, true), "the hung-up connection is still shown")
    end)

    it("--watch --json: a status object per connection and frame, with the time", function()
      if not json_ok then return pending("lua-cjson is not installed") end
      -- Branch in the second frame (with Office VPN) and the third (alone)
      local out, _, status = run_until({ "--scenario", ESTABLISHED, "--status", "--watch", "--json" },
                                       '"entry":"Branch"', 2)
      assert.are.equal(0, status, out)
      local events = decode_lines(out)
      assert.are.same({ "status", "Office VPN" }, { events[1].event, events[1].entry })
      assert.are.same({ "status", "Branch" }, { events[#events].event, events[#events].entry })
      for _, ev in ipairs(events) do assert.is_number(ev.time) end
    end)

    it("--watch on a terminal: redraws the block in place", function()
      if not have("script") or not have("timeout") then return pending("needs script(1) and timeout(1)") end
      local command = string.format("timeout --preserve-status -s INT 1 %s %s --scenario %s --status --watch",
                                    LUA, CLI, ESTABLISHED)
      local out = select(2, fixture.sh("script -qfec " .. quote(command) .. " /dev/null </dev/null"))
      assert.matches("%(Ctrl%-C to stop%)", out)
      assert.matches("\27%[%d+A\r\27%[J", out)
      assert.matches("Branch", out, 1, true)
    end)
  end)

  describe("--retries", function()
    it("asks ras.error_info whether a retry can cure the error", function()
      local ras = require "ras"
      local ctx <close> = assert(ras.open("sim", dofile(SCENARIOS)))
      for _, case in ipairs { { "NoProtocols", 720 }, { "Busy", 676 }, { "Nowhere", 623 } } do
        local out = sim(case[1], "--retries", "2", "--backoff", "0.01")
        local attempts = ctx.error_info(case[2]).retryable and 3 or 1
        assert.are.equal(attempts, count(out, "Connecting to " .. case[1]), case[1] .. ":\n" .. out)
      end
    end)

    it("retries a dial timeout (638)", function()
      local out, _, status = sim("Never", "--timeout", "0.05", "--retries", "1", "--backoff", "0.01")
      assert.are.equal(138, status)
      assert.are.equal(2, count(out, "Connecting to Never"))
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

    it("--set-credentials with * asks without echo and restores the echo", function()
      if not have("tmux") then return end
      start("--set-credentials 'Branch' alice '*' --pass-thru")
      wait_for("Enter the password to save for alice on Branch:", 5)
      assert(tmux("send-keys -l " .. PASSWORD))
      assert(tmux("send-keys Enter"))
      local s = wait_for("[echo ", 10)
      assert_no_secret(s, "the terminal")
      assert.matches("[exit 0]", s, 1, true)
      assert.matches("[echo on]", s, 1, true)
      assert.matches("SavedPassword +: True", s)
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

  -- The entry forms against pppd's own files: each run is a new process,
  -- so what one run writes the next one reads from /etc/ppp (the sandbox's).
  local function entries_supported()
    local out, _, status = run({ "--show-entry", "ras-pap", "--json" })
    return not (status == 255 and out:find('"error":120', 1, true))
  end

  it("creates, shows, renames and removes a peer file across runs", function()
    if not entries_supported() then return pending("the pppd backend does not do entries yet") end
    local out, _, status = run({ "--add-entry", "cli-pptp", "--tunnel-type", "Pptp", "--server-address",
                                 "vpn.example.com", "--encryption-level", "Required", "--username", "bob" })
    assert.are.equal(0, status, out)
    assert.is_true(fixture.sh("test -f /etc/ppp/peers/cli-pptp"), "no peer file")
    if json_ok then
      out, _, status = run({ "--show-entry", "cli-pptp", "--json" })
      assert.are.equal(0, status, out)
      local p = decode_lines(out)[1].properties
      assert.are.same({ "vpn", "pptp", "vpn.example.com", "required", "bob" },
                      { p.type, p.vpn, p.number, p.encryption, p.username })
    end
    out, _, status = run({ "--rename-entry", "cli-pptp", "cli-pptp2" })
    assert.are.equal(0, status, out)
    assert.is_falsy(fixture.sh("test -e /etc/ppp/peers/cli-pptp"))
    out, _, status = run({ "--remove-entry", "cli-pptp2" })
    assert.are.equal(0, status, out)
    assert.is_falsy(fixture.sh("test -e /etc/ppp/peers/cli-pptp2"))
    out, _, status = run({ "--remove-entry", "cli-pptp2" })
    assert.are.equal(123, status, out)
  end)

  it("names the option of a property pppd cannot express (L2TP is no pppd dial)", function()
    if not entries_supported() then return pending("the pppd backend does not do entries yet") end
    local out, err, status = run({ "--add-entry", "cli-l2tp", "--tunnel-type", "L2tp", "--server-address", "x" })
    assert.are.equal(2, status, out)
    assert.matches("--tunnel-type: bad property 'vpn'", err, 1, true)
    assert.is_falsy(fixture.sh("test -e /etc/ppp/peers/cli-l2tp"), "a refused entry was written")
  end)

  it("saves credentials that a later dial without a password uses, and forgets them", function()
    if not entries_supported() then return pending("the pppd backend does not do entries yet") end
    local out, _, status = run({ "--set-credentials", "ras-pap", fixture.user, "*", "--pass-thru" },
                               "printf '%s\\n' " .. fixture.password .. " | ")
    assert.are.equal(0, status, out)
    assert.matches("SavedPassword +: True", out)
    local ok, listing = fixture.sh("stat -c %a /etc/ppp/pap-secrets")
    assert(ok and listing:match("^600"), "pap-secrets is not mode 0600: " .. listing)
    out, _, status = run({ "ras-pap", "--timeout", "30" })
    assert.are.equal(0, status, out)
    assert.matches("Connected to ras-pap", out, 1, true)
    out, _, status = run({ "ras-pap", "/disconnect" })
    assert.are.equal(0, status, out)
    out, _, status = run({ "--clear-credentials", "ras-pap", "--pass-thru" })
    assert.are.equal(0, status, out)
    assert.matches("SavedPassword +: False", out)
    out, _, status = run({ "ras-pap", "--timeout", "30" })
    assert.are_not.equal(0, status, "dialled without a password after --clear-credentials:\n" .. out)
  end)

  it("--status shows a link's addresses and counters from another run", function()
    local out, _, status = run({ "ras-pap", fixture.user, fixture.password, "--timeout", "30" })
    assert.are.equal(0, status, out)
    out, _, status = run({ "--status", "ras-pap" })
    assert.are.equal(0, status, out)
    assert.matches("\n  State +: Connected\n", out)
    assert.matches("\n  IPv4 +: 10%.0%.0%.2 %-> 10%.0%.0%.1\n", out)
    assert.matches("\n  Received +: %d+ bytes, %d+ frames\n", out)
    if json_ok then
      out, _, status = run({ "--status", "ras-pap", "--json" })
      assert.are.equal(0, status, out)
      local snap = decode_lines(out)[1]
      assert.are.same({ "status", "ras-pap", "Connected" }, { snap.event, snap.entry, snap.state })
      assert.are.same({ "10.0.0.2", "10.0.0.1" }, { snap.projection.ipv4.address, snap.projection.ipv4.server_address })
      -- (auth_protocol: what the plugin told the run that dialled; this is another)
      assert.is_true(snap.statistics.bytes_received > 0)
    end
    out, _, status = run({ "ras-pap", "/disconnect" })
    assert.are.equal(0, status, out)
  end)

  it("exits 178 when the connect script fails (no answer)", function()
    local _, _, status = run({ "ras-noanswer", "--timeout", "30" })
    assert.are.equal(178, status)
  end)
end)

end
