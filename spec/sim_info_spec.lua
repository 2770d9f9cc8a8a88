-- The simulator's statistics, projection and devices (issue 12): the
-- scenario fields and options that make them, value for value.
local ras = require "ras"

local function sim(entries, options)
  options = options or {}
  options.entries = entries
  return assert(ras.open("sim", options))
end

local function open_error(options)
  local ok, err = pcall(ras.open, "sim", options)
  assert.is_false(ok, "ras.open accepted the options")
  return tostring(err)
end

local function until_state(conn, state)
  local ev
  repeat ev = conn:next(5) until not ev or ev.state == state or ev.state == "Disconnected"
  assert(ev and ev.state == state, "no " .. state)
  return ev
end

local function pause(ctx, seconds)
  local t0 = ctx.now()
  while ctx.now() - t0 < seconds do ctx.poll(seconds) end
end

local RATES = { step = 0, speed = 56000, bytes_sent_per_second = 10000,
                bytes_received_per_second = 30000, frame_size = 100, errors_per_second = 20 }

describe("the simulator's statistics", function()
  it("grow at the scenario's rates from Connected", function()
    local ctx = sim { Rated = RATES }
    local conn = assert(ctx.dial { entry = "Rated" })
    until_state(conn, "Connected")
    pause(ctx, 0.1)
    local st = assert(conn:statistics())
    local d = st.duration
    assert.is_true(d >= 0.1 and d < 5, "duration " .. d)
    assert.are.equal(56000, st.speed)
    assert.is_true(math.abs(st.bytes_sent - 10000 * d) <= 1)
    assert.is_true(math.abs(st.bytes_received - 30000 * d) <= 1)
    assert.are.equal(math.floor(st.bytes_sent / 100), st.frames_sent)
    assert.are.equal(math.floor(st.bytes_received / 100), st.frames_received)
    assert.is_true(math.abs(st.errors - 20 * d) <= 1)
    conn:hangup()
  end)

  it("are zero without a duration before Connected, speed already known", function()
    local ctx = sim { Slow = { step = 60, speed = 9600, bytes_sent_per_second = 1000 } }
    local conn = assert(ctx.dial { entry = "Slow" })
    assert(conn:next(5))
    assert.are.same({ bytes_sent = 0, bytes_received = 0, frames_sent = 0, frames_received = 0,
                      errors = 0, speed = 9600 }, conn:statistics())
    conn:hangup()
  end)

  it("have no speed and count nothing by default", function()
    local ctx = sim { Plain = { step = 0 } }
    local conn = assert(ctx.dial { entry = "Plain" })
    until_state(conn, "Connected")
    local st = assert(conn:statistics())
    assert.is_nil(st.speed)
    assert.are.equal(0, st.bytes_sent + st.bytes_received + st.frames_sent + st.frames_received + st.errors)
    assert.is_number(st.duration)
    conn:hangup()
  end)

  it("count no frames with frame_size 0", function()
    local ctx = sim { NoFrames = { step = 0, bytes_sent_per_second = 100000, frame_size = 0 } }
    local conn = assert(ctx.dial { entry = "NoFrames" })
    until_state(conn, "Connected")
    pause(ctx, 0.02)
    local st = assert(conn:statistics())
    assert.is_true(st.bytes_sent > 0)
    assert.are.equal(0, st.frames_sent)
    conn:hangup()
  end)

  it("stand still while a hang-up tears the link down, and are gone after a drop", function()
    local ctx = sim { Drop = { step = 0, drop_after = 0.05, bytes_sent_per_second = 100000 },
                      Teardown = { step = 0, hangup_delay = 2, bytes_sent_per_second = 100000 } }
    local conn = assert(ctx.dial { entry = "Drop" })
    until_state(conn, "Connected")
    assert.are.equal(629, until_state(conn, "Disconnected").error)
    local gone, msg, code = conn:statistics()     -- a dropped dial is over
    assert.is_nil(gone)
    assert.is_string(msg)
    assert.are.equal(6, code)
    local t = assert(ctx.dial { entry = "Teardown" })
    until_state(t, "Connected")
    t:hangup(0)
    local b = assert(t:statistics())
    pause(ctx, 0.03)
    assert.are.same(b, t:statistics())
  end)

  it("count an established connection from the context's opening", function()
    local opened = ras.now()
    local ctx = sim({ Up = { bytes_received_per_second = 1000 } }, { established = { "Up" } })
    pause(ctx, 0.05)
    local st = assert(ctx.connections()[1]:statistics())
    assert.is_true(st.duration >= 0.05 and st.duration <= ras.now() - opened + 1e-6)
    assert.is_true(st.bytes_received >= 50)
  end)

  it("raise for bad rates, naming them", function()
    for field, value in pairs { speed = -1, bytes_sent_per_second = 1.5, frame_size = "x",
                                errors_per_second = 1e13, bytes_received_per_second = -5 } do
      assert.matches("bad option 'entries.A." .. field .. "'",
                     open_error { entries = { A = { [field] = value } } }, 1, true)
    end
  end)
end)

describe("the simulator's projection", function()
  local FULL = {
    interface = "ppp7",
    ipv4 = { address = "10.1.0.2", server_address = "10.1.0.1", dns = { "10.1.0.53", "10.1.0.54" } },
    ipv6 = { interface_id = "02:00:5e:ff:fe:00:53:01", server_interface_id = "02:00:5e:ff:fe:00:53:02" },
    auth_protocol = "mschapv2", encryption = "MPPE 128", compression = "MPPC",
  }

  it("answers the scenario's projection once Projected, and 730 before", function()
    local ctx = sim { Full = { step = 0, projection = FULL },
                      NotYet = { step = 60, states = { "AuthProject", "Projected" }, projection = FULL } }
    local early = assert(ctx.dial { entry = "NotYet" })
    until_state(early, "AuthProject")              -- and 60 s to Projected
    local p, msg, code = early:projection()
    assert.is_nil(p)
    assert.are.equal(730, code)
    assert.matches("not projected yet (AuthProject)", msg, 1, true)
    early:hangup()
    local conn = assert(ctx.dial { entry = "Full" })
    until_state(conn, "Projected")
    assert.are.same(FULL, conn:projection())
    local st = assert(conn:status())
    assert.are.equal("10.1.0.2", st.local_address)
    assert.are.equal("10.1.0.1", st.remote_address)
    conn:hangup()
    local _, _, gone = conn:projection()
    assert.are.equal(6, gone)
  end)

  it("is projected at Connected when the states leave out Projected", function()
    local ctx = sim { Short = { step = 0, states = { "OpenPort" }, projection = { interface = "ppp1" } },
                      Stuck = { step = 60, states = { "OpenPort", "AuthProject" },
                                projection = { interface = "ppp1" } } }
    local stuck = assert(ctx.dial { entry = "Stuck" })
    until_state(stuck, "OpenPort")
    local _, _, code = stuck:projection()
    assert.are.equal(730, code)
    stuck:hangup()
    local conn = assert(ctx.dial { entry = "Short" })
    until_state(conn, "Connected")
    assert.are.same({ interface = "ppp1" }, conn:projection())
    conn:hangup()
  end)

  it("comes from the status addresses without a projection field, and is empty without them", function()
    local ctx = sim { Addr = { step = 0, local_address = "192.0.2.2", remote_address = "192.0.2.1" },
                      Bare = { step = 0 },
                      Half = { step = 0, local_address = "192.0.2.9", projection = { auth_protocol = "pap" } } }
    local function projected(name)
      local conn = assert(ctx.dial { entry = name })
      until_state(conn, "Connected")
      local p = assert(conn:projection())
      conn:hangup()
      return p
    end
    assert.are.same({ ipv4 = { address = "192.0.2.2", server_address = "192.0.2.1", dns = {} } },
                    projected("Addr"))
    assert.are.same({}, projected("Bare"))
    assert.are.same({ ipv4 = { address = "192.0.2.9", dns = {} }, auth_protocol = "pap" }, projected("Half"))
  end)

  it("names each authentication protocol", function()
    for _, name in ipairs { "pap", "chap", "mschapv2", "eap" } do
      local ctx = sim { A = { step = 0, projection = { auth_protocol = name } } }
      local conn = assert(ctx.dial { entry = "A" })
      until_state(conn, "Connected")
      assert.are.equal(name, assert(conn:projection()).auth_protocol)
      ctx:close()
    end
  end)

  it("answers for established connections", function()
    local ctx = sim({ Up = { projection = { interface = "ppp9" } } }, { established = { "Up" } })
    assert.are.same({ interface = "ppp9" }, ctx.connections()[1]:projection())
  end)

  it("raises for a bad projection, naming the field", function()
    local nine = {}
    for i = 1, 9 do nine[i] = "10.0.0." .. i end
    local cases = {
      { "bad option 'entries.A.projection.auth_protocol'", { auth_protocol = "ntlm" } },
      { "bad option 'entries.A.projection.ipv4.dns'", { ipv4 = { dns = nine } } },
      { "bad option 'entries.A.projection.interface'", { interface = string.rep("i", 64) } },
      { "bad option 'entries.A.projection.ipv6.interface_id'", { ipv6 = { interface_id = string.rep("0", 32) } } },
      { "bad option 'entries.A.projection.encryption'", { encryption = "a\0b" } },
      { "unknown option 'entries.A.projection.ipv4.gateway'", { ipv4 = { gateway = "x" } } },
      { "bad option 'entries.A.projection.ipv6'", { ipv6 = "::1" } },
    }
    for _, case in ipairs(cases) do
      assert.matches(case[1], open_error { entries = { A = { projection = case[2] } } }, 1, true)
    end
  end)
end)

describe("the simulator's devices", function()
  it("lists the simulated modem by default", function()
    assert.are.same({ { name = "Simulated Modem", type = "modem" } }, sim({}).devices())
  end)

  it("lists the devices option in its order, any type passed through", function()
    local devices = { { name = "WAN Miniport (SSTP)", type = "vpn" }, { name = "eth0", type = "pppoe" },
                      { name = "GRE tunnel", type = "gre" }, { name = "/dev/ttyS0", type = "serial" } }
    assert.are.same(devices, sim({}, { devices = devices }).devices())
    assert.are.same({}, sim({}, { devices = {} }).devices())
  end)

  it("raises for bad devices, naming the item", function()
    local cases = {
      { "bad option 'devices[1].type' (missing)", { { name = "x" } } },
      { "bad option 'devices[2].name' (missing)", { { name = "x", type = "modem" }, { type = "modem" } } },
      { "bad option 'devices[1].name' (longer than 128 bytes)", { { name = string.rep("n", 129), type = "modem" } } },
      { "bad option 'devices[1].type' (longer than 16 bytes)", { { name = "n", type = string.rep("t", 17) } } },
      { "unknown option 'devices[1].kind'", { { name = "n", type = "t", kind = "x" } } },
      { "bad option 'devices[1]' (table expected, got string)", { "modem" } },
    }
    for _, case in ipairs(cases) do
      assert.matches(case[1], open_error { entries = {}, devices = case[2] }, 1, true)
    end
  end)
end)
