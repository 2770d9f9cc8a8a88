-- The simulator's own scenario fields, its thread, and stress on the core.
local ras = require "ras"

local function sim(entries, options)
  options = options or {}
  options.entries = entries
  return assert(ras.open("sim", options))
end

describe("the simulator", function()
  it("reports the states a scenario lists, then Connected", function()
    local ctx = sim { Short = { states = { "OpenPort", 2, "Projected" }, step = 0 } }
    local conn = assert(ctx.dial { entry = "Short" })
    local got = {}
    for ev in conn:states() do got[#got + 1] = ev.state end
    assert.are.same({ "OpenPort", "ConnectDevice", "Projected", "Connected" }, got)
  end)

  it("spaces notifications by step", function()
    local ctx = sim { Slow = { states = { "OpenPort", "PortOpened", "ConnectDevice" }, step = 0.03 } }
    local conn = assert(ctx.dial { entry = "Slow" })
    local first = conn:next(5).time
    local last
    for ev in conn:states() do last = ev.time end
    assert.is_true(last - first >= 0.08, "took " .. (last - first))
  end)

  it("fails at the state named by fail", function()
    local ctx = sim { Bad = { step = 0, fail = { at = "Authenticate", error = 651 } } }
    local conn = assert(ctx.dial { entry = "Bad" })
    local got, last = {}, nil
    for ev in conn:states() do got[#got + 1] = ev.state; last = ev end
    assert.are.equal("Authenticate", got[#got - 1])
    assert.are.equal(651, last.error)
  end)

  it("reports the device and addresses of the scenario", function()
    local ctx = sim { Vpn = { step = 0, device_type = "vpn", device_name = "WAN Miniport (SSTP)",
                              local_address = "192.0.2.2", remote_address = "192.0.2.1" } }
    local conn = assert(ctx.dial { entry = "Vpn" })
    local first = conn:next(5)
    local st = conn:status()
    assert.are.equal("OpenPort", first.state)
    assert.are.equal("vpn", st.device_type)
    assert.are.equal("WAN Miniport (SSTP)", st.device_name)
    conn:wait(5)
    st = conn:status()
    assert.are.equal("192.0.2.2", st.local_address)
    assert.are.equal("192.0.2.1", st.remote_address)
    conn:hangup()
  end)

  it("dials by number alone with the default scenario", function()
    local ctx = sim {}
    local conn = assert(ctx.dial { number = "5550100" })
    assert.are.equal("Connected", conn:wait(5).state)
    assert.are.equal("5550100", conn.entry)
    conn:hangup()
  end)

  it("has a phonebook of its own name", function()
    local ctx = sim({ A = {} }, { phonebook = "office.pbk" })
    assert.are.same({ { name = "A", phonebook = "office.pbk" } }, ctx.entries())
    assert.are.same({ { name = "A", phonebook = "office.pbk" } }, ctx.entries("office.pbk"))
    local none, _, code = ctx.dial { entry = "A", phonebook = "other.pbk" }
    assert.is_nil(none)
    assert.are.equal(623, code)
    local conn = assert(ctx.dial { entry = "A", phonebook = "office.pbk" })
    assert.are.equal("office.pbk", conn.phonebook)
    conn:hangup()
  end)

  it("keeps a hung-up connection in status for hangup_delay", function()
    local ctx = sim { Slow = { step = 0, hangup_delay = 0.2 } }
    local conn = assert(ctx.dial { entry = "Slow" })
    conn:wait(5)
    local t = ctx.now()
    assert.is_true(conn:hangup())
    assert.is_true(ctx.now() - t >= 0.19)
  end)

  it("notifies from its own thread while Lua does not pump", function()
    local ctx = sim { Fast = { step = 0 } }
    local conn = assert(ctx.dial { entry = "Fast" })
    local t = ctx.now()
    -- busy, and no pump runs: status reads the backend, it delivers nothing
    while conn:status().state ~= "Connected" and ctx.now() - t < 10 do end
    assert.are.equal("Connected", conn:status().state)
    assert.are.equal(11, ctx.poll(0))
    conn:hangup()
  end)

  it("delivers a burst exactly once and in order", function()
    local names = { "OpenPort", "PortOpened", "ConnectDevice", "DeviceConnected",
                    "AllDevicesConnected", "AuthNotify", "AuthProject" }
    local list = {}
    for i = 1, 20000 do list[i] = names[(i * 7 + math.floor(i / 3)) % #names + 1] end
    local ctx = sim { Burst = { states = list, step = 0 } }
    local i, bad = 0, nil
    local conn = assert(ctx.dial { entry = "Burst", on_state = function(_, ev)
      i = i + 1
      if i <= #list and ev.state ~= list[i] and not bad then bad = i end
    end })
    while conn:status().state ~= "Connected" or ctx.poll(0) > 0 do ctx.poll(1) end
    assert.is_nil(bad, "first event out of order")
    assert.are.equal(#list + 1, i)
    conn:hangup()
  end)

  it("survives 1,000 dials dropped and collected while notifying", function()
    local ctx = sim { Busy = { step = 0.0005, drop_after = 0.001, hangup_delay = 0.002 } }
    for n = 1, 1000 do
      local conn = ctx.dial { entry = "Busy" }
      if n % 3 == 0 then conn:next(1) end
      if n % 100 == 0 then collectgarbage() end
    end
    collectgarbage()
    collectgarbage()
    -- everything that never connected is hung up; what connected drops by itself
    local deadline = ctx.now() + 20
    local left = #ctx.connections()
    while left > 0 and ctx.now() < deadline do
      for _, c in ipairs(ctx.connections()) do c:hangup(1) end
      left = #ctx.connections()
    end
    assert.are.equal(0, left)
  end)

  it("raises an error naming a bad scenario field", function()
    local cases = {
      { { X = { step = -1 } }, "bad option 'entries.X.step' %(must be >= 0%)" },
      { { X = { states = { "Connected" } } }, "'entries.X.states%[1%]' %(running states only" },
      { { X = { states = { "Nonsense" } } }, "'entries.X.states%[1%]' %(unknown state" },
      { { X = { fail = { at = "OpenPort" } } }, "'entries.X.fail.error' %(missing%)" },
      { { X = { colour = "red" } }, "unknown option 'entries.X.colour'" },
      { { X = { username = 5 } }, "'entries.X.username' %(string expected, got number%)" },
      { { X = { device_type = string.rep("t", 17) } }, "'entries.X.device_type' %(longer than 16" },
      { { X = "ok" }, "'entries.X' %(table expected, got string%)" },
    }
    for _, case in ipairs(cases) do
      local ok, err = pcall(ras.open, "sim", { entries = case[1] })
      assert.is_false(ok)
      assert.matches(case[2], err)
    end
    local ok, err = pcall(ras.open, "sim", { entries = {}, established = { "Missing" } })
    assert.is_false(ok)
    assert.matches("Missing", err)
  end)
end)

describe("connections() of the simulator", function()
  it("names each connection's own entry when names repeat and alternate", function()
    -- a listing shares the copy of a name repeated from the last two: a cycle
    -- of three names shows that equal texts are shared and others are not
    local order = { "Alpha", "Beta", "Gamma", "Alpha", "Beta", "Gamma", "Gamma", "Alpha" }
    local ctx = sim({ Alpha = {}, Beta = {}, Gamma = {} }, { established = order })
    local counts = {}
    for _, conn in ipairs(ctx.connections()) do
      counts[conn.entry] = (counts[conn.entry] or 0) + 1
      assert.are.equal("sim", conn.phonebook)
    end
    assert.are.same({ Alpha = 3, Beta = 2, Gamma = 3 }, counts)
    ctx:close()
  end)
end)
