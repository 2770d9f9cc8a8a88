-- Entries and saved credentials on the pppd backend: peer files and pppd's
-- own chap-secrets and pap-secrets.
--
-- Outside the sandbox (plain `make spec`, any user): the files themselves,
-- in a temporary peers and secrets directory: what is written for each
-- property, hostile names and values, hand-written files surviving an
-- update line for line, other programs' secrets lines kept byte for byte,
-- symbolic links never written through.
--
-- Inside spec/pppd/sandbox: entries created through the API and dialled for
-- real with no password, pppd reading the saved one from its secrets files:
-- PPPoE (pppoe-server), PPTP with MPPE (pptpd), and a modem entry whose chat
-- script dials a simulated Hayes modem (spec/pppd/hayes-modem) that hands
-- the line to a server pppd; a password of quotes, backslashes, spaces and
-- '#' proves that pppd reads exactly the value saved.
local ras = require "ras"
local fixture = require "support.fixture"

local sh = fixture.sh
local in_sandbox = os.getenv("RAS_SANDBOX") ~= nil
-- the temporary directories and links are made by shell commands, which a
-- process with the TSan runtime preloaded cannot run (see the Makefile)
local tsan = (os.getenv("LD_PRELOAD") or ""):find("tsan", 1, true) ~= nil
local linux = package.config:sub(1, 1) == "/" and pcall(ras.open, "pppd")
local repo = os.getenv("RAS_REPO") or "."

local function read(path)
  local f = io.open(path, "rb")
  if not f then return nil end
  local s = f:read("a")
  f:close()
  return s
end

local function write(path, text)
  local f = assert(io.open(path, "wb"))
  f:write(text)
  f:close()
end

local function lines(text)
  local t = {}
  for line in text:gmatch("([^\n]*)\n") do t[#t + 1] = line end
  return t
end

-- A password as a server's secrets file can hold it whatever its bytes:
-- every byte an octal escape (pppd's getword), independent of the module's
-- own quoting.
local function octal(s)
  return '"' .. s:gsub(".", function(c) return ("\\%03o"):format(c:byte()) end) .. '"'
end

local hostile_password = [[p"a ss\w #rd' \\"]]

describe("pppd entries: the files", function()
  if not linux or tsan then
    it("need the pppd backend (Linux) and a shell", function()
      pending(tsan and "not under ThreadSanitizer: shell commands" or "Linux only")
    end)
    return
  end

  local dir, peers, secrets, ctx
  before_each(function()
    dir = os.tmpname()
    os.remove(dir)
    assert(os.execute("mkdir -p '" .. dir .. "/peers' '" .. dir .. "/etc'"))
    peers, secrets = dir .. "/peers", dir .. "/etc"
    ctx = assert(ras.open("pppd", { peers_dir = peers, secrets_dir = secrets }))
  end)
  after_each(function()
    ctx.close()
    os.execute("rm -rf '" .. dir .. "'")
  end)

  it("writes and reads back every property of each link type", function()
    local cases = {
      { name = "bb", type = "broadband", device = "veth0", number = "ISP service",
        auth = { "pap" }, default_gateway = true, use_peer_dns = true, ipv6 = false,
        username = "user", pppd_options = { "noauth", "mtu", "1492" } },
      { name = "pptp", type = "vpn", vpn = "pptp", number = "vpn.example.com",
        auth = { "mschapv2" }, encryption = "required", idle_disconnect = 30,
        redial = { attempts = 3, interval = 5 } },
      { name = "sstp", type = "vpn", vpn = "sstp", number = "10.9.0.1", encryption = "maximum",
        ipv4 = false, ipv6 = true },
      { name = "modem", type = "modem", device = "/dev/ttyUSB0", number = "+1 (555) 123-4567,,9",
        encryption = "none", auth = { "chap", "mschapv2" } },
      { name = "cable", type = "direct", device = "ttyS1" },
    }
    for _, props in ipairs(cases) do
      assert.is_true(ctx.create_entry(props))
      local e = assert(ctx.entry(props.name))
      props.device = props.device and props.device:gsub("^ttyS1$", "/dev/ttyS1")   -- pppd's own
      for k, v in pairs(props) do assert.are.same(v, e[k], props.name .. "." .. k) end
      assert.are.equal(peers, e.phonebook)
    end
    local text = read(peers .. "/pptp")
    assert.matches('\npty "pptp vpn%.example%.com %-%-nolaunchpppd"\n', text)
    assert.matches("\nrequire%-mppe%-128\n", text)
    assert.matches("\nrefuse%-pap\nrefuse%-chap\nrefuse%-eap\n", text)
    assert.matches("\npersist\nmaxfail 3\nholdoff 5\n", text)
    assert.matches("\nidle 30\n", text)
    text = read(peers .. "/bb")
    assert.matches('\nplugin rp%-pppoe%.so\n"nic%-veth0"\nrp_pppoe_service "ISP service"\n', text)
    assert.matches('\nuser "user"\n', text)
    assert.matches('\n"noauth" "mtu" "1492"\n', text)
    assert.matches("\ndefaultroute\n", text)
    assert.matches("\nusepeerdns\n", text)
    assert.matches("\nnoipv6\n", text)
    assert.is_nil(read(peers .. "/pptp"):find("ipv6", 1, true))   -- pppd's default: not written
    text = read(peers .. "/modem")
    assert.matches('\n"/dev/ttyUSB0"\n115200\ncrtscts\nlock\nconnect "exec /usr/sbin/chat ', text)
    assert.truthy(text:find('${RAS_NUMBER:-+1 (555) 123-4567,,9}', 1, true))
    assert.matches("\nsstpc", "\n" .. read(peers .. "/sstp"):match('pty "([^"]*)"'))
    assert.matches('\n"/dev/ttyS1"\n115200\ncrtscts\nlocal\n', read(peers .. "/cable"))
  end)

  it("lists the entries it creates, with mode 0644, and no temporary file is left", function()
    assert.is_true(ctx.create_entry { name = "one", type = "vpn", number = "h" })
    local names = {}
    for _, e in ipairs(assert(ctx.entries())) do names[#names + 1] = e.name end
    assert.are.same({ "one" }, names)
    local _, ls = sh("ls -la '" .. peers .. "'")
    assert.matches("\n%-rw%-r%-%-r%-%- [^\n]* one\n", ls)
    assert.is_nil(ls:find(".ras-tmp", 1, true), ls)
    assert.are.equal("pptp", ctx.entry("one").vpn)   -- a vpn without `vpn` is PPTP
  end)

  it("refuses what pppd cannot dial or express, naming the property, before writing", function()
    local refusals = {
      { { vpn = "l2tp" }, "bad property 'vpn' %(l2tp is not a pppd dial" },
      { { vpn = "ikev2" }, "bad property 'vpn' %(ikev2 is IPsec" },
      { { vpn = "auto" }, "bad property 'vpn'" },
      { { dns = { "10.0.0.53" } }, "bad property 'dns'" },
      { { device = "WAN Miniport (PPTP)" }, "bad property 'device'" },
      { { number = "x\nplugin /tmp/evil.so" }, "bad property 'number'" },
      { { number = "x;reboot" }, "bad property 'number'" },
      { { number = "$(reboot)" }, "bad property 'number'" },
      { { pppd_options = { "detach" } }, "bad property 'pppd_options'" },
      { { pppd_options = { "a\nplugin" } }, "bad property 'pppd_options'" },
      { { pppd_options = { "" } }, "bad property 'pppd_options'" },
      { { username = "u\nplugin /tmp/evil.so" }, "bad property 'username'" },
    }
    for _, r in ipairs(refusals) do
      local props = { name = "v", type = "vpn", number = "10.9.0.1" }
      for k, v in pairs(r[1]) do props[k] = v end
      local ok, msg = pcall(ctx.create_entry, props)
      assert.is_false(ok)
      assert.matches(r[2], msg)
      assert.is_nil(read(peers .. "/v"), "written despite " .. msg)
    end
    local ok, msg = pcall(ctx.create_entry, { name = "m", type = "modem", number = "555`reboot`" })
    assert.is_false(ok)
    assert.matches("bad property 'number'", msg)
    ok, msg = pcall(ctx.create_entry, { name = "m", type = "modem", device = "defaultroute x" })
    assert.is_false(ok)
    assert.matches("bad property 'device'", msg)
    ok, msg = pcall(ctx.create_entry, { name = "b", type = "broadband", device = "eth0 nic-x" })
    assert.is_false(ok)
    assert.matches("bad property 'device'", msg)
  end)

  it("rejects names that are not a peer file's: '/', '..', controls, hidden, too long", function()
    for _, name in ipairs { "../x", "a/b", "a\nb", ".", "..", ".hidden", "tab\tname", "x~",
                            ("n"):rep(256) } do
      local ok, msg, code = ctx.create_entry { name = name, type = "vpn", number = "h" }
      assert.is_nil(ok, name)
      assert.are.equal(123, code, msg)
      local _, _, vcode = ctx.validate_entry_name(name)
      assert.are.equal(123, vcode)
      assert.are.equal(623, select(3, ctx.entry(name)))
    end
    assert.are.same({}, assert(ctx.entries()))
    assert.is_nil(read(dir .. "/x"))
    assert.is_true(ctx.validate_entry_name("fine name (2)"))
  end)

  it("quotes values so that a quote, backslash, '#' or newline stays in its word", function()
    local service = 'a "b" \\ #c" plugin /tmp/evil.so'
    local ok, msg = pcall(ctx.create_entry, { name = "q", type = "broadband",
                                              number = "a\nplugin /tmp/evil.so" })
    assert.is_false(ok)
    assert.matches("bad property 'number'", msg)
    assert.is_true(ctx.create_entry { name = "q", type = "broadband", number = service,
                                      username = 'u"\\# x', pppd_options = { "x#y", 'a"b' } })
    local text = read(peers .. "/q")
    for _, line in ipairs(lines(text)) do
      assert.is_nil(line:match("^%s*plugin%s+/tmp"), "a line of its own: " .. line)
    end
    local e = assert(ctx.entry("q"))
    assert.are.equal(service, e.number)
    assert.are.equal('u"\\# x', e.username)
    assert.are.same({ "x#y", 'a"b' }, e.pppd_options)
  end)

  it("keeps a hand-written peer file line for line except the changed options", function()
    local hand = table.concat({
      "# my ISP, set up by hand",
      "plugin rp-pppoe.so",
      "nic-eth1   # the DSL port",
      "",
      "noauth  noipdefault",
      'user "me@isp"',
      "mtu 1492",
      "defaultroute",
      "lcp-echo-interval 20",
      "pty-redir  \\",
      "  /bin/true",
    }, "\n") .. "\n"
    write(peers .. "/isp", hand)
    local e = assert(ctx.entry("isp"))
    assert.are.equal("broadband", e.type)
    assert.are.equal("eth1", e.device)
    assert.are.equal("me@isp", e.username)
    assert.is_true(e.default_gateway)
    assert.are.same({ "noauth", "noipdefault", "mtu", "1492", "lcp-echo-interval", "20",
                      "pty-redir", "/bin/true" }, e.pppd_options)
    assert.is_true(ctx.update_entry("isp", { idle_disconnect = 600, username = "you@isp" }))
    local after = lines(read(peers .. "/isp"))
    local before = lines(hand)
    before[6] = 'user "you@isp"'
    before[#before + 1] = "idle 600"
    assert.are.same(before, after)
    -- nothing given: nothing changes, byte for byte
    local text = read(peers .. "/isp")
    assert.is_true(ctx.update_entry("isp", {}))
    assert.are.equal(text, read(peers .. "/isp"))
    -- pppd_options: only the lines whose words went are dropped
    assert.is_true(ctx.update_entry("isp", { pppd_options = { "noauth", "noipdefault", "mtu",
      "1492", "pty-redir", "/bin/true", "noccp" } }))
    after = lines(read(peers .. "/isp"))
    table.remove(before, 9)               -- lcp-echo-interval 20
    before[#before + 1] = '"noccp"'
    assert.are.same(before, after)
  end)

  it("never changes a byte it need not, whatever a hand-written file holds", function()
    -- random files of pppd's syntax and its corner cases: quotes, escapes,
    -- backslash-newlines, comments, NULs, no final newline
    local pieces = { '"', "'", "\\", "#", "\n", " ", "\t", "a", "user", "pty", "plugin",
      "rp-pppoe.so", "nic-eth0", "/dev/ttyS0", "115200", "connect", "persist", "maxfail", "0", "7",
      "idle", "refuse-pap", "require-mppe-128", "nomppe-stateful", "\\\n", "\\012", "\\x4",
      "pptp 1.2.3.4 --nolaunchpppd", '"pptp h --nolaunchpppd"', "usepeerdns", "+ipv6", "noip",
      "\0", "\255", "\r" }
    local seed = 12345
    local function random(n)   -- the same files on every run and Lua version
      seed = (seed * 1103515245 + 12345) % 2147483648
      return seed % n + 1
    end
    for _ = 1, 150 do
      local t = {}
      for _ = 1, random(30) - 1 do t[#t + 1] = pieces[random(#pieces)] end
      local text = table.concat(t)
      write(peers .. "/x", text)
      local e = assert(ctx.entry("x"))
      assert.is_true(ctx.update_entry("x", {}))
      assert.are.equal(text, read(peers .. "/x"))
      local raised, ok, msg, code = pcall(ctx.update_entry, "x", { idle_disconnect = 9,
                                          username = "z", pppd_options = e.pppd_options })
      if not raised then
        -- words the module would not write itself (control characters, empty)
        assert.matches("bad property 'pppd_options'", ok)
        assert.are.equal(text, read(peers .. "/x"))
      elseif ok then
        local e2 = assert(ctx.entry("x"))
        assert.are.same({ 9, "z" }, { e2.idle_disconnect, e2.username }, ("%q"):format(text))
        for k, v in pairs(e) do
          if k ~= "idle_disconnect" and k ~= "username" then assert.are.same(v, e2[k], k) end
        end
      else
        -- it ends inside a quoted word or after a backslash: a line added would join it
        assert.are.equal(625, code, msg)
        assert.are.equal(text, read(peers .. "/x"))
      end
    end
  end)

  it("ends a hand-written last line before adding one (no newline, or a backslash-newline)", function()
    write(peers .. "/c", "noauth \\\n")
    assert.is_true(ctx.update_entry("c", { idle_disconnect = 5 }))
    assert.are.equal("noauth \\\n\nidle 5\n", read(peers .. "/c"))
    assert.are.equal(5, ctx.entry("c").idle_disconnect)
    write(peers .. "/d", '"unterminated')
    assert.are.equal(625, select(3, ctx.update_entry("d", { idle_disconnect = 5 })))
    assert.are.equal('"unterminated', read(peers .. "/d"))
    assert.is_true(ctx.create_entry { name = "s", type = "vpn", number = "h", username = "u" })
    write(secrets .. "/chap-secrets", '"a" * "b" # no newline')
    assert.is_true(ctx.set_credentials("s", { password = "pw" }))
    assert.matches('^"a" %* "b" # no newline\n"u" %* "pw" # ras%-entry ', read(secrets .. "/chap-secrets"))
    write(secrets .. "/pap-secrets", '"a" * "open quote')
    local ok, _, code = ctx.set_credentials("s", { password = "pw2" })
    assert.is_nil(ok)
    assert.are.equal(625, code)
    assert.are.equal('"a" * "open quote', read(secrets .. "/pap-secrets"))
  end)

  it("reads the peer files of spec/pppd/vpn-server as the entries they are", function()
    write(peers .. "/ras-pptp", 'pty "pptp 10.9.0.1 --nolaunchpppd"\nrequire-mppe-128\nnoauth\n' ..
          'noipdefault\nnodefaultroute\nnoipv6\nremotename server\n')
    write(peers .. "/ras-sstp", 'pty "sstpc --log-stderr --nolaunchpppd --cert-warn 10.9.0.1"\n')
    local e = assert(ctx.entry("ras-pptp"))
    assert.are.same({ "vpn", "pptp", "10.9.0.1", "required", false, false },
                    { e.type, e.vpn, e.number, e.encryption, e.default_gateway, e.ipv6 })
    assert.are.same({ "noauth", "noipdefault", "remotename", "server" }, e.pppd_options)
    e = assert(ctx.entry("ras-sstp"))
    assert.are.same({ "vpn", "sstp", "10.9.0.1" }, { e.type, e.vpn, e.number })
  end)

  it("never writes through, renames or deletes a symbolic link", function()
    local target = dir .. "/target"
    write(target, "user \"x\"\n")
    assert(os.execute("ln -s '" .. target .. "' '" .. peers .. "/link'"))
    local ok, msg = ctx.update_entry("link", { idle_disconnect = 5 })
    assert.is_nil(ok)
    assert.matches("symbolic link", msg)
    assert.is_nil(ctx.rename_entry("link", "other"))
    assert.is_nil(ctx.delete_entry("link"))
    assert.is_nil(ctx.set_credentials("link", { username = "y" }))
    assert.are.equal("user \"x\"\n", read(target))
    local _, ls = sh("ls -l '" .. peers .. "'")
    assert.matches("link %-> ", ls)
    assert.is_nil(read(peers .. "/other"))
    -- a symlinked secrets file is not written through either
    assert(os.execute("ln -s '" .. target .. "' '" .. secrets .. "/chap-secrets'"))
    assert.is_true(ctx.create_entry { name = "s", type = "vpn", number = "h", username = "u" })
    ok, msg = ctx.set_credentials("s", { password = "pw" })
    assert.is_nil(ok)
    assert.matches("symbolic link", msg)
    assert.are.equal("user \"x\"\n", read(target))
  end)

  it("saves credentials in chap-secrets and pap-secrets, keeping other lines byte for byte", function()
    local others = '# other programs\n"alice" * "s3cret" *\n  bob   server\t"x y"   10.0.0.0/8\n' ..
                   '"carol" * "no newline at the end"'
    write(secrets .. "/chap-secrets", others)
    assert.is_true(ctx.create_entry { name = "w", type = "vpn", number = "h", username = "user" })
    assert.are.same({ username = "user", saved_password = false, saved_psk = false },
                    ctx.credentials("w"))
    assert.is_true(ctx.set_credentials("w", { password = hostile_password }))
    local chap = read(secrets .. "/chap-secrets")
    assert.are.equal(others, chap:sub(1, #others))
    assert.are.equal(others .. "\n", chap:sub(1, #others + 1))
    assert.are.equal(read(secrets .. "/pap-secrets"):match("[^\n]*\n$"), chap:match("[^\n]*\n$"))
    assert.are.same({ username = "user", saved_password = true, saved_psk = false },
                    ctx.credentials("w"))
    local _, ls = sh("ls -l '" .. secrets .. "'")
    assert.matches("%-rw%-%-%-%-%-%-%- [^\n]* chap%-secrets", ls)
    assert.matches("%-rw%-%-%-%-%-%-%- [^\n]* pap%-secrets", ls)
    -- a domain, as pppd's MS-CHAP takes it; the password stays
    assert.is_true(ctx.set_credentials("w", { domain = "CORP", username = "joe" }))
    assert.are.same({ username = "joe", domain = "CORP", saved_password = true, saved_psk = false },
                    ctx.credentials("w"))
    assert.are.equal("CORP\\joe", ctx.entry("w").username)
    assert.truthy(read(secrets .. "/chap-secrets"):find('"CORP\\\\joe" * ', 1, true))
    -- rename carries the line, delete takes it; the others stay
    assert.is_true(ctx.rename_entry("w", "w2"))
    assert.is_true(ctx.credentials("w2").saved_password)
    assert.is_true(ctx.clear_credentials("w2"))
    assert.are.same({ saved_password = false, saved_psk = false }, ctx.credentials("w2"))
    assert.is_nil(ctx.entry("w2").username)                 -- the user name went with it
    assert.is_true(ctx.set_credentials("w2", { username = "user" }))
    assert.are.equal(others .. "\n", read(secrets .. "/chap-secrets"))
    assert.is_true(ctx.set_credentials("w2", { password = "x" }))
    assert.is_true(ctx.delete_entry("w2"))
    assert.are.equal(others .. "\n", read(secrets .. "/chap-secrets"))
    assert.are.equal("", read(secrets .. "/pap-secrets"))
  end)

  it("never puts a password in a message, and refuses what pppd would misread", function()
    assert.is_true(ctx.create_entry { name = "p", type = "vpn", number = "h", username = "u" })
    local ok, msg = pcall(ctx.set_credentials, "p", { password = "@/etc/shadow" })
    assert.is_false(ok)
    assert.matches("bad credential 'password'", msg)
    assert.is_nil(msg:find("shadow", 1, true))
    local code
    ok, msg, code = ctx.set_credentials("p", { psk = "k3y", password = "pw" })
    assert.is_nil(ok)
    assert.are.equal(120, code)
    assert.is_nil(msg:find("k3y", 1, true))
    assert.is_false(ctx.credentials("p").saved_password)   -- nothing of it was saved
    assert.is_true(ctx.create_entry { name = "nouser", type = "vpn", number = "h" })
    ok, msg = pcall(ctx.set_credentials, "nouser", { password = "Secret-123" })
    assert.is_false(ok)
    assert.matches("bad credential 'username'", msg)
    assert.is_nil(msg:find("Secret-123", 1, true))
    assert.are.equal(623, select(3, ctx.set_credentials("missing", { password = "x" })))
    assert.are.equal(623, select(3, ctx.credentials("missing")))
    assert.are.equal(623, select(3, ctx.clear_credentials("missing")))
    assert.are.equal(623, select(3, ctx.update_entry("missing", { ipv6 = true })))
    assert.are.equal(623, select(3, ctx.delete_entry("missing")))
    assert.are.equal(623, select(3, ctx.rename_entry("missing", "x")))
    assert.are.equal(183, select(3, ctx.rename_entry("p", "nouser")))
    assert.are.equal(183, select(3, ctx.create_entry { name = "p", type = "vpn", number = "h" }))
    assert.are.equal(183, select(3, ctx.validate_entry_name("p")))
  end)
end)

-- ---------------------------------------------------------------------------

describe("pppd entries: dialled for real", function()
  if not in_sandbox then
    it("run in spec/pppd/sandbox", function() pending("make test-pppd runs these") end)
    return
  end

  local vpn = repo .. "/spec/pppd/vpn-server"
  local ctx
  -- the test servers' peers: their names and no more options than needed
  local common = { "noauth", "noipdefault", "remotename", "server", "lcp-restart", "1",
                   "lcp-echo-interval", "1", "lcp-echo-failure", "3" }
  local function with(extra)
    local t = {}
    for _, w in ipairs(common) do t[#t + 1] = w end
    for _, w in ipairs(extra or {}) do t[#t + 1] = w end
    return t
  end

  local function connected(conn)
    local ev = assert(conn:wait(30))
    while ev.group ~= "terminal" do ev = assert(conn:wait(30)) end
    return ev
  end

  local function ping(conn, address)
    local st = assert(conn:status())
    assert.are.equal(address, st.remote_address)
    assert.is_true((sh("ping -c 1 -W 2 -I " .. st.interface .. " " .. address)))
  end

  before_each(function() ctx = fixture.context() end)
  after_each(function()
    fixture.stop_all_pppd()
    for _, name in ipairs { "ent-pppoe", "ent-pptp", "ent-modem" } do ctx.delete_entry(name) end
    -- the fixture's server password, for the specs after this one
    write("/run/ras-test/server-secrets", '"user" "server" "right" *\n')
  end)
  teardown(function() sh(vpn .. " stop") end)

  it("dials a broadband entry with its saved password against pppoe-server", function()
    assert(sh(vpn .. " stop; " .. vpn .. " pppoe"))
    assert.is_true(ctx.create_entry { name = "ent-pppoe", type = "broadband", device = "veth0",
                                      pppd_options = with { "noccp" } })
    assert.is_true(ctx.set_credentials("ent-pppoe", { username = "user", password = "right" }))
    local conn = assert(ctx.dial { entry = "ent-pppoe" })
    local ev = connected(conn)
    assert.are.equal("Connected", ev.state, ev.message)
    ping(conn, "10.2.0.1")
    assert.is_true(conn:hangup())
    -- saved_credentials = false: pppd may not read them, so the login fails
    conn = assert(ctx.dial { entry = "ent-pppoe", saved_credentials = false })
    ev = connected(conn)
    assert.are.equal("Disconnected", ev.state)
    assert.are.equal(691, ev.error, ev.message)
    assert.is_true(conn:hangup())
  end)

  it("dials a PPTP entry with MPPE required and its saved password against pptpd", function()
    assert(sh(vpn .. " stop; " .. vpn .. " pptp mppe"))
    assert.is_true(ctx.create_entry { name = "ent-pptp", type = "vpn", vpn = "pptp",
                                      number = "10.9.0.1", encryption = "required",
                                      username = "user", pppd_options = with() })
    assert.is_true(ctx.set_credentials("ent-pptp", { password = "right" }))
    local conn = assert(ctx.dial { entry = "ent-pptp" })
    local ev = connected(conn)
    assert.are.equal("Connected", ev.state, ev.message)
    ping(conn, "10.5.0.1")
    assert.is_true(conn:hangup())
  end)

  describe("a modem entry", function()
    local modem = "/run/ras-test/modem"
    local socat
    local function start_modem(number)
      os.remove("/run/ras-test/modem.log")
      os.remove(modem)
      socat = io.popen("exec socat PTY,link=" .. modem .. ",raw,echo=0,wait-slave EXEC:'" ..
                       repo .. "/spec/pppd/hayes-modem " .. number .. "',pty,raw,echo=0 2>&1")
      for _ = 1, 50 do
        if sh("test -L " .. modem) then return end   -- never opened here: socat waits for pppd
        sh("sleep 0.05")
      end
      error("socat did not make the modem's pty")
    end
    after_each(function()
      sh("pkill -x socat")
      if socat then socat:close() end
      socat = nil
    end)

    it("dials the number through chat; pppd reads a hostile user name and password exactly", function()
      local user = [[u"s e#r\ 'x]]
      write("/run/ras-test/server-secrets", octal(user) .. ' "server" ' .. octal(hostile_password) ..
            " *\n")
      start_modem("555-1234")
      assert.is_true(ctx.create_entry { name = "ent-modem", type = "modem", device = modem,
                                        number = "555-1234", pppd_options = with { "local" } })
      assert.is_true(ctx.set_credentials("ent-modem", { username = user,
                                                        password = hostile_password }))
      assert.is_nil(read("/etc/ppp/peers/ent-modem"):find("ss\\w", 1, true))
      local conn = assert(ctx.dial { entry = "ent-modem" })
      local ev = connected(conn)
      assert.are.equal("Connected", ev.state, ev.message)
      ping(conn, "10.0.0.1")
      assert.are.equal("ATZ\nATDT555-1234\n", read("/run/ras-test/modem.log"))
      assert.is_true(conn:hangup())
    end)

    it("dials the number the dial gives instead (RAS_NUMBER), and fails on no carrier", function()
      start_modem("777")
      assert.is_true(ctx.create_entry { name = "ent-modem", type = "modem", device = modem,
                                        number = "5551234", username = "user",
                                        pppd_options = with { "local" } })
      assert.is_true(ctx.set_credentials("ent-modem", { password = "right" }))
      local conn = assert(ctx.dial { entry = "ent-modem", number = "777" })
      local ev = connected(conn)
      assert.are.equal("Connected", ev.state, ev.message)
      assert.is_true(conn:hangup())
      sh("pkill -x socat")
      socat:close()
      start_modem("777")
      conn = assert(ctx.dial { entry = "ent-modem" })      -- dials 5551234
      ev = connected(conn)
      assert.are.equal("Disconnected", ev.state)
      assert.matches("ATDT5551234", read("/run/ras-test/modem.log"))
      assert.is_true(conn:hangup())
    end)
  end)
end)
