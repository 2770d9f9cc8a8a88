-- conn:statistics(), conn:projection() and ctx.devices() on the pppd
-- backend, against real pppd inside spec/pppd/sandbox: a server pppd that
-- offers DNS servers (ms-dns) to a client with usepeerdns, over PAP, CHAP
-- and MS-CHAPv2, and PPTP with MPPE required (spec/pppd/vpn-server).
-- Outside the sandbox: pending.
local ras = require "ras"
local fixture = require "support.fixture"

local sh = fixture.sh
local in_sandbox = os.getenv("RAS_SANDBOX") ~= nil
local repo = os.getenv("RAS_REPO") or "."
local vpn = repo .. "/spec/pppd/vpn-server"

local DNS1, DNS2 = "10.0.0.53", "10.0.0.54"

-- Client peers whose pty-server offers DNS servers.
local function write_peers()
  for _, auth in ipairs { "pap", "chap", "mschap-v2" } do
    local f = assert(io.open("/etc/ppp/peers/ras-info-" .. auth, "w"))
    f:write('pty "', repo, "/spec/pppd/pty-server ", auth, " 1 ms-dns ", DNS1, " ms-dns ", DNS2,
            '"\n', "local noipv6 noccp noauth nodefaultroute noipdefault lcp-restart 1\n",
            "remotename server\nusepeerdns\n")
    f:close()
  end
  -- IPv6 on both ends (pty-server's later words override its noipv6)
  local f = assert(io.open("/etc/ppp/peers/ras-info-ipv6", "w"))
  f:write('pty "', repo, '/spec/pppd/pty-server pap 1 +ipv6"\n',
          "local +ipv6 noccp noauth nodefaultroute noipdefault lcp-restart 1\nremotename server\n")
  f:close()
end

local function connect(ctx, entry)
  local conn = assert(ctx.dial { entry = entry, username = fixture.user,
                                 password = fixture.password })
  return conn
end

local function wait_connected(conn)
  local ev = conn:wait(20)
  assert.are.equal("Connected", ev and ev.state, ev and ev.message)
end

describe("pppd statistics, projection and devices", function()
  if not in_sandbox then
    it("run in spec/pppd/sandbox", function() pending("make test-pppd runs these") end)
    return
  end

  local ctx
  setup(function()
    ctx = fixture.context()
    write_peers()
  end)
  teardown(function()
    ctx.close()
    fixture.stop_all_pppd()
    sh(vpn .. " stop")
  end)

  it("counts a 10-packet ping in both directions and gives the speed and duration; " ..
     "nothing before Connected and nil, message, 6 once gone", function()
    local conn = connect(ctx, "ras-info-pap")
    local early = assert(conn:statistics())
    assert.are.equal(0, early.bytes_sent)
    assert.is_nil(early.duration)
    local none, msg, code = conn:projection()
    assert.is_nil(none)
    assert.are.equal(730, code)
    assert.matches("not projected", msg)
    wait_connected(conn)

    local st = assert(conn:status())
    local s1 = assert(conn:statistics())
    -- 10 echo requests and replies of 56 bytes of data: 84-byte IP packets
    assert(sh("ping -q -c 10 -i 0.05 -s 56 -W 2 -I " .. st.interface .. " 10.0.0.1"))
    local s2 = assert(conn:statistics())
    assert.is_true(s2.bytes_sent - s1.bytes_sent >= 840, s2.bytes_sent - s1.bytes_sent)
    assert.is_true(s2.bytes_received - s1.bytes_received >= 840,
                   s2.bytes_received - s1.bytes_received)
    assert.is_true(s2.frames_sent - s1.frames_sent >= 10)
    assert.is_true(s2.frames_received - s1.frames_received >= 10)
    assert.are.equal(0, s2.errors)
    assert.is_true(math.type(s2.speed) == "integer" and s2.speed > 0, tostring(s2.speed))
    assert.is_true(s2.duration > 0 and s2.duration < 30, s2.duration)
    assert.is_true(s2.duration > s1.duration)

    assert.is_true(conn:hangup())
    local gone
    gone, msg, code = conn:statistics()
    assert.is_nil(gone)
    assert.are.equal(6, code, msg)
    gone, msg, code = conn:projection()
    assert.is_nil(gone)
    assert.are.equal(6, code, msg)
  end)

  for _, case in ipairs { { "pap", "pap" }, { "chap", "chap" }, { "mschap-v2", "mschapv2" } } do
    it("projects the server's addresses, its DNS servers and " .. case[2], function()
      local conn = connect(ctx, "ras-info-" .. case[1])
      wait_connected(conn)
      local p = assert(conn:projection())
      local st = assert(conn:status())
      assert.are.equal(st.interface, p.interface)
      assert.are.same({ address = "10.0.0.2", server_address = "10.0.0.1", dns = { DNS1, DNS2 } },
                      p.ipv4)
      assert.are.equal(case[2], p.auth_protocol)
      assert.is_nil(p.ipv6)          -- noipv6
      assert.is_nil(p.encryption)    -- noccp
      assert.is_nil(p.compression)
      assert.is_true(conn:hangup())
    end)
  end

  it("projects IPV6CP's interface ids, the kernel's link-local address ending in ours", function()
    local conn = connect(ctx, "ras-info-ipv6")
    wait_connected(conn)
    local p
    -- IPV6CP may open after IPCP: its projection line comes then
    for _ = 1, 50 do
      p = assert(conn:projection())
      if p.ipv6 then break end
      sh("sleep 0.1")
    end
    local id = "^" .. ("%x%x:"):rep(7) .. "%x%x$"
    assert.matches(id, p.ipv6 and p.ipv6.interface_id or "")
    assert.matches(id, p.ipv6.server_interface_id)
    assert.are_not.equal(p.ipv6.interface_id, p.ipv6.server_interface_id)
    assert.are.equal("10.0.0.2", p.ipv4.address)
    -- the last two groups of fe80::<our id> (no zero compression there)
    local b = {}
    for byte in p.ipv6.interface_id:gmatch("%x%x") do b[#b + 1] = byte end
    local tail = ("%x:%x"):format(tonumber(b[5] .. b[6], 16), tonumber(b[7] .. b[8], 16))
    local _, addrs = sh("ip -6 addr show dev " .. p.interface)
    assert.is_truthy(addrs:find(":" .. tail, 1, true), addrs)
    assert.is_true(conn:hangup())
  end)

  it("projects what a foreign pppd's interface tells, and counts its traffic", function()
    local foreign = fixture.foreign_context()
    local conn = assert(foreign.connections()[1])
    local p = assert(conn:projection())
    assert.matches("^ppp%d+$", p.interface)
    assert.are.same({ address = "10.0.0.2", server_address = "10.0.0.1", dns = {} }, p.ipv4)
    assert.is_nil(p.auth_protocol)   -- no plugin: unknown
    local s1 = assert(conn:statistics())
    assert(sh("ping -q -c 10 -i 0.05 -W 2 -I " .. p.interface .. " 10.0.0.1"))
    local s2 = assert(conn:statistics())
    assert.is_true(s2.bytes_received - s1.bytes_received >= 840)
    assert.is_true(s2.duration >= 0 and s2.duration < 30, s2.duration)
    foreign.close()
    fixture.stop_all_pppd()
  end)

  it("projects MPPE 128-bit and MS-CHAPv2 over PPTP with require-mppe-128, and lists " ..
     "the PPPoE interfaces and VPN helpers", function()
    assert(sh(vpn .. " stop"))
    local ok, out = sh(vpn .. " pptp mppe")
    assert(ok, out)
    local conn = connect(ctx, "ras-pptp-mppe")
    wait_connected(conn)
    local p = assert(conn:projection())
    assert.matches("^MPPE 128%-bit state", p.encryption)
    assert.are.equal("mschapv2", p.auth_protocol)
    assert.are.equal("10.5.0.1", p.ipv4.server_address)

    local devices = assert(ctx.devices())
    local by_name = {}
    for _, d in ipairs(devices) do
      assert.are.equal("string", type(d.name))
      assert.are.equal("string", type(d.type))
      by_name[d.name] = d.type
      if d.type == "serial" or d.type == "modem" then
        assert.is_truthy(io.open("/dev/" .. d.name), d.name)
      end
    end
    assert.are.equal("pppoe", by_name.veth0)      -- the underlay: Ethernet
    assert.is_nil(by_name.lo)
    assert.is_nil(by_name[assert(conn:status()).interface])   -- PPP carries no PPPoE
    assert.are.equal("vpn", by_name.pptp)
    assert.are.equal(sh("command -v sstpc") and "vpn" or nil, by_name.sstpc)
    assert.is_true(conn:hangup())
  end)
end)

-- The projection line comes from the plugin, inside pppd: a fake pppd (a
-- shell script speaking protocol.h on fd 3) sends hostile values. No PPP
-- needed: this runs on any Linux host, under valgrind and ASan too.
describe("pppd projection from a hostile plugin line", function()
  local tsan = (os.getenv("LD_PRELOAD") or ""):find("tsan", 1, true) ~= nil
  if tsan or not sh("test \"$(uname -s)\" = Linux") then
    it("runs shell commands on Linux", function() pending("popen under TSan / not Linux") end)
    return
  end

  local dir, ctx
  before_each(function()
    dir = os.tmpname()
    os.remove(dir)
    assert(sh("mkdir -p " .. dir .. "/peers " .. dir .. "/run"))
  end)
  after_each(function()
    if ctx then ctx.close() end
    local f = io.open(dir .. "/fake.pid")
    local pid = f and f:read("n")
    if f then f:close() end
    if pid then sh("kill -KILL " .. math.tointeger(pid) .. " 2>/dev/null") end
    sh("rm -rf '" .. dir .. "'")
  end)

  local function write(path, text)
    local f = assert(io.open(path, "w"))
    f:write(text)
    f:close()
  end

  local function until_true(seconds, f)
    local deadline = os.time() + seconds
    repeat
      if f() then return true end
      sh("sleep 0.02")
    until os.time() > deadline
    return false
  end

  it("keeps only well-formed values, and the latest line holds", function()
    local hostile = "projection ipv4=10.0.0.2,10.0.0.1 dns=10.0.0.53,1.2.3.4.5 " ..
      "ipv6=zz:00:00:00:00:00:00:01,00:00:00:00:00:00:00:02 mppe=129 ccp=lzs;rm " ..
      "speed=99999999999999999999999 junk =x novalue mppe=128,statefulX ipv4"
    local later = "projection ipv4=10.0.0.2,10.0.0.1 speed=115200 mppe=128,stateful ccp=deflate " ..
      "ipv6=02:00:00:ff:fe:00:00:01,02:00:00:ff:fe:00:00:02"
    local gate = function(name) return "while [ ! -e " .. dir .. "/" .. name .. " ]; do sleep 0.02; done\n" end
    write(dir .. "/fake", "#!/bin/sh\necho $$ > " .. dir .. "/fake.pid\n" ..
      "printf 'pid %d\\nphase 2\\nphase 4\\nauth-ok mschap-v2\\nphase 7\\n' $$ >&3\n" ..
      gate("go1") .. "printf '%s\\n' '" .. hostile .. "' 'ip-up ppp9 10.0.0.2 10.0.0.1' >&3\n" ..
      gate("go2") .. "printf '%s\\n' '" .. later .. "' >&3\n" ..
      "trap 'exit 0' TERM\nwhile :; do sleep 0.05; done\n")
    assert(sh("chmod 755 " .. dir .. "/fake"))
    write(dir .. "/peers/fake", "# the fake reads none\n")
    write(dir .. "/plugin.so", "")
    ctx = assert(ras.open("pppd", { pppd = dir .. "/fake", peers_dir = dir .. "/peers",
                                    plugin = dir .. "/plugin.so", run_dir = dir .. "/run" }))
    local conn = assert(ctx.dial { entry = "fake" })
    assert(until_true(5, function() return conn:status().state == "AuthProject" end))
    local none, msg, code = conn:projection()
    assert.is_nil(none)
    assert.are.equal(730, code, msg)

    write(dir .. "/go1", "")
    local ev
    repeat ev = conn:wait(5) until not ev or ev.state == "Connected" or ev.state == "Disconnected"
    assert.are.equal("Connected", ev and ev.state, ev and ev.message)
    local p = assert(conn:projection())
    assert.are.same({ interface = "ppp9", auth_protocol = "mschapv2",
                      ipv4 = { address = "10.0.0.2", server_address = "10.0.0.1",
                               dns = { "10.0.0.53" } } }, p)
    assert.is_nil(assert(conn:statistics()).speed)   -- 23 digits: no speed

    write(dir .. "/go2", "")
    assert(until_true(5, function() return conn:projection().encryption end))
    assert.are.same({ interface = "ppp9", auth_protocol = "mschapv2",
                      ipv4 = { address = "10.0.0.2", server_address = "10.0.0.1", dns = {} },
                      ipv6 = { interface_id = "02:00:00:ff:fe:00:00:01",
                               server_interface_id = "02:00:00:ff:fe:00:00:02" },
                      encryption = "MPPE 128-bit stateful", compression = "deflate" },
                    conn:projection())
    assert.are.equal(115200, assert(conn:statistics()).speed)
    assert.is_true(conn:hangup(5))
  end)
end)
