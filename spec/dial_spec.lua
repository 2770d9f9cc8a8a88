-- Dialling: states in order, failures with their codes, status, and the
-- connection object's fields.
local fixture = require "support.fixture"


describe("dial", function()
  local ctx
  before_each(function() ctx = fixture.context() end)

  it("reaches Connected through the running states in order", function()
    local conn = assert(fixture.dial(ctx, "ok"))
    assert.are.same(fixture.connected_states, fixture.collect(conn))
    assert.is_true(conn:hangup())
  end)

  it("returns at once while the dial goes on in the background", function()
    local conn = assert(fixture.dial(ctx, "never"))
    local ev = assert(conn:next(5))
    assert.are.equal("OpenPort", ev.state)
    assert.is_nil(conn:next(0.05))
    assert.is_true(conn:hangup())
  end)

  it("stamps events with the module clock and the time since the dial", function()
    local before = ctx.now()
    local conn = assert(fixture.dial(ctx, "ok"))
    local last = before
    for ev in conn:states() do
      assert.is_true(ev.time >= last)
      assert.is_true(ev.elapsed >= 0 and ev.elapsed <= ev.time - before + 1e-6)
      assert.are.equal(1, ev.subentry)
      assert.are.equal(ctx.states[ev.state], ev.state_code)
      assert.are.equal(ctx.state_group(ev.state), ev.group)
      last = ev.time
    end
    assert.is_true(ctx.now() >= last)
    conn:hangup()
  end)

  it("reports substate None in the events and the status of a plain dial", function()
    local conn = assert(fixture.dial(ctx, "ok"))
    for ev in conn:states() do assert.are.equal("None", ev.substate, ev.state) end
    assert.are.equal("None", assert(conn:status()).substate)
    conn:hangup()
  end)

  it("fails with nil, message, 623 for an unknown entry and starts nothing", function()
    local before = #ctx.connections()
    local conn, msg, code = ctx.dial { entry = "no such entry" }
    assert.is_nil(conn)
    assert.is_string(msg)
    assert.are.equal(623, code)
    assert.are.equal(before, #ctx.connections())
  end)

  local failures = { busy = 676, noanswer = 678 }
  for name, code in pairs(failures) do
    it("ends in Disconnected with " .. code .. " for scenario " .. name, function()
      if not fixture.supports(name) then return pending("backend cannot " .. name) end
      local conn = assert(fixture.dial(ctx, name))
      local ev = assert(conn:wait(5))
      assert.are.equal("Disconnected", ev.state)
      assert.are.equal(code, ev.error)
      local text = ctx.error_message(code)   -- a backend may add its detail
      assert.are.equal(text, ev.message:sub(1, #text))
      assert.is_true(conn:hangup())
    end)
  end

  it("ends in Disconnected with 691 for a wrong password", function()
    local conn = assert(fixture.dial(ctx, "authfail", { password = fixture.wrong_password }))
    local ev = assert(conn:wait(5))
    assert.are.equal("Disconnected", ev.state)
    assert.are.equal(691, ev.error)
    assert.is_string(ev.message)
  end)

  it("hangs up a failed dial by itself", function()
    local conn = assert(fixture.dial(ctx, "authfail", { password = fixture.wrong_password }))
    assert(conn:wait(5))
    local st, msg, code
    for _ = 1, 100 do
      st, msg, code = conn:status()
      if not st then break end
      conn:next(0.05)
    end
    assert.is_nil(st)
    assert.is_string(msg)
    assert.are.equal(6, code)
  end)

  it("reports status while connected", function()
    local conn = assert(fixture.dial(ctx, "ok"))
    assert.are.equal("Connected", conn:wait(5).state)
    local st = assert(conn:status())
    assert.are.equal("Connected", st.state)
    assert.are.equal(0x2000, st.state_code)
    assert.are.equal("terminal", st.group)
    assert.is_nil(st.error)
    assert.is_string(st.device_type)
    assert.is_string(st.device_name)
    assert.are.equal("10.0.0.2", st.local_address)
    assert.are.equal("10.0.0.1", st.remote_address)
    conn:hangup()
  end)

  it("names its entry and last state", function()
    local conn = assert(fixture.dial(ctx, "ok"))
    assert.are.equal(fixture.entry("ok"), conn.entry)
    assert.matches("no state yet", tostring(conn))
    conn:wait(5)
    assert.are.equal("ras.connection: " .. fixture.entry("ok") .. " (Connected)", tostring(conn))
    conn:hangup()
  end)

  it("dials several connections at once", function()
    local conns = {}
    for i = 1, 5 do conns[i] = assert(fixture.dial(ctx, "ok")) end
    for i = 1, 5 do assert.are.equal("Connected", conns[i]:wait(5).state) end
    assert.are.equal(5, #ctx.connections())
    for i = 1, 5 do assert.is_true(conns[i]:hangup()) end
  end)
end)
