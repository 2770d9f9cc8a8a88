-- Real broadband and VPN links through the pppd backend, inside
-- spec/pppd/sandbox: Debian's pppoe-server and pptpd in a network namespace
-- of their own over a veth pair (spec/pppd/vpn-server), SSTP's client with
-- no server to meet, and L2TP, whose pppd xl2tpd starts itself (to the
-- module a foreign connection). Outside the sandbox: pending.
local ras = require "ras"
local fixture = require "support.fixture"

local sh = fixture.sh
local in_sandbox = os.getenv("RAS_SANDBOX") ~= nil
local vpn = (os.getenv("RAS_REPO") or ".") .. "/spec/pppd/vpn-server"

local function until_true(seconds, f)
  local deadline = ras.now() + seconds
  repeat
    if f() then return true end
    sh("sleep 0.1")
  until ras.now() > deadline
  return false
end

-- Client pppds: those of this network namespace (servers run in `srv`).
local function client_pids()
  local _, self_ns = sh("readlink /proc/self/ns/net")
  local _, out = sh("pgrep -x pppd")
  local mine = {}
  for pid in out:gmatch("%d+") do
    local _, ns = sh("readlink /proc/" .. pid .. "/ns/net")
    if ns == self_ns then mine[#mine + 1] = tonumber(pid) end
  end
  return mine
end

local function zombies()
  local _, out = sh("ps -eo stat=,comm= | awk '$1 ~ /^Z/ {print $2}'")
  return out
end

local function server(args)
  local ok, out = sh(vpn .. " " .. args)
  assert(ok, out)
end

local function dial(ctx, entry, password, on_state)
  return assert(ctx.dial { entry = entry, username = "user", password = password or "right",
                           on_state = on_state })
end

describe("real broadband and VPN links", function()
  if not in_sandbox then
    it("run in spec/pppd/sandbox", function() pending("make test-pppd runs these") end)
    return
  end

  local ctx
  before_each(function() ctx = fixture.context() end)
  after_each(function() fixture.stop_all_pppd() end)
  teardown(function() sh(vpn .. " stop") end)

  -- name, server command, peer, the server's address over the link
  local links = {
    { "PPPoE (PAP)", "pppoe", "ras-pppoe", "10.2.0.1" },
    { "PPTP (MS-CHAPv2)", "pptp", "ras-pptp", "10.5.0.1" },
    { "PPTP (MS-CHAPv2, require-mppe-128)", "pptp mppe", "ras-pptp-mppe", "10.5.0.1" },
  }
  for _, link in ipairs(links) do
    local name, start, entry, address = link[1], link[2], link[3], link[4]
    describe(name, function()
      setup(function()
        sh(vpn .. " stop")
        server(start)
      end)

      it("connects with the states in order and carries traffic; hang-up leaves nothing", function()
        local conn = dial(ctx, entry)
        assert.are.same(fixture.connected_states, fixture.collect(conn))
        local st = assert(conn:status())
        assert.matches("^ppp%d+$", st.interface)
        assert.are.equal(address, st.remote_address)
        assert.is_true((sh("ping -c 1 -W 2 -I " .. st.interface .. " " .. address)))
        assert.is_true(conn:hangup())
        assert.are.same({}, client_pids())
        assert.are.equal("", zombies())
      end)

      it("reports a wrong password as 691", function()
        local conn = dial(ctx, entry, fixture.wrong_password)
        local ev = assert(conn:wait(20))
        assert.are.equal("Disconnected", ev.state)
        assert.are.equal(691, ev.error, ev.message)
        assert.is_true(conn:hangup())
      end)

      it("delivers Disconnected 629 within the LCP echo period when the server is killed", function()
        local last
        local conn = dial(ctx, entry, nil, function(_, ev) last = ev end)
        repeat ctx.poll(1) until last and last.group == "terminal"
        assert.are.equal("Connected", last.state)
        local t = ras.now()
        server("kill " .. start:match("^%S+"))
        while not (last and last.state == "Disconnected") and ras.now() - t < 15 do ctx.poll(0.5) end
        assert.are.equal("Disconnected", last and last.state)
        assert.are.equal(629, last.error, last.message)
        -- lcp-echo-interval 1, lcp-echo-failure 3: about 4 s at most
        assert.is_true(ras.now() - t < 8, "took " .. (ras.now() - t))
        assert.is_true(conn:hangup())
        assert.are.same({}, client_pids())
        server(start)   -- for the next spec
      end)
    end)
  end

  it("runs the SSTP client and gives a clear error when no server answers", function()
    server("underlay")
    local conn = dial(ctx, "ras-sstp")
    local ev = assert(conn:wait(20))
    assert.are.equal("Disconnected", ev.state)
    assert.are.equal(628, ev.error)
    -- sstpc's own words, through pppd's log
    assert.matches("sstpc", ev.message)
    assert.is_truthy(ev.message:find("handshake", 1, true) or ev.message:find("connect", 1, true),
                     ev.message)
    assert.is_true(conn:hangup())
    assert.are.same({}, client_pids())
  end)

  it("lists, reads and hangs up the pppd that xl2tpd starts for an L2TP tunnel", function()
    sh(vpn .. " stop")
    server("l2tp")
    server("l2tp-dial")
    local list
    assert(until_true(20, function()
      list = ctx.connections()
      return #list == 1 and list[1]:status() and list[1]:status().state == "Connected"
    end), "the L2TP pppd was not listed as Connected")
    local st = list[1]:status()
    assert.matches("^ppp%d+$", st.interface)
    assert.are.equal("10.7.0.1", st.remote_address)
    assert.is_true((sh("ping -c 1 -W 2 -I " .. st.interface .. " 10.7.0.1")))
    assert.is_true(list[1]:hangup())
    assert.are.same({}, client_pids())
    assert.are.equal(0, #ctx.connections())
  end)
end)
