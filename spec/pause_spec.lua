-- Paused states: with paused_states the dial waits for resume; without it,
-- the same situations end the dial with an error.
local fixture = require "support.fixture"
local compat = require "support.compat"

describe("paused states", function()
  local ctx
  before_each(function() ctx = fixture.context() end)

  it("pauses in RetryAuthentication and goes on after a resume with the right password", function()
    local conn = assert(fixture.dial(ctx, "authfail",
      { password = fixture.wrong_password, paused_states = true }))
    local ev = assert(conn:wait(5))
    assert.are.equal("RetryAuthentication", ev.state)
    assert.are.equal("paused", ev.group)
    assert.is_nil(ev.error)
    assert.are.equal("RetryAuthentication", conn:status().state)
    assert.is_true(conn:resume { password = fixture.password })
    assert.are.equal("Connected", conn:wait(5).state)
    conn:hangup()
  end)

  it("pauses again when the resume brings another wrong password", function()
    local conn = assert(fixture.dial(ctx, "authfail",
      { password = fixture.wrong_password, paused_states = true }))
    assert.are.equal("RetryAuthentication", conn:wait(5).state)
    assert.is_true(conn:resume { password = "still-" .. fixture.wrong_password })
    assert.are.equal("RetryAuthentication", conn:wait(5).state)
    assert.is_true(conn:hangup())
  end)

  it("pauses in CallbackSetByCaller until a callback number is given", function()
    if not fixture.supports("callback") then return pending("no callback here") end
    local conn = assert(fixture.dial(ctx, "callback", { paused_states = true }))
    assert.are.equal("CallbackSetByCaller", conn:wait(5).state)
    assert.is_true(conn:resume { callback_number = "5551234" })
    local rest = {}
    for ev in conn:states() do rest[#rest + 1] = ev.state end
    assert.are.same({ "AuthCallback", "PrepareForCallback", "WaitForModemReset",
                      "WaitForCallback", "CallbackComplete" },
                    { compat.unpack(rest, 1, 5) })
    assert.are.equal("Connected", rest[#rest])
    conn:hangup()
  end)

  it("does not pause for a callback number given at dial time", function()
    if not fixture.supports("callback") then return pending("no callback here") end
    local conn = assert(fixture.dial(ctx, "callback",
      { paused_states = true, callback_number = "5551234" }))
    local states = fixture.collect(conn)
    for _, s in ipairs(states) do assert.are_not.equal("CallbackSetByCaller", s) end
    assert.are.equal("Connected", states[#states])
    conn:hangup()
  end)

  it("pauses in PasswordExpired until resumed with a new password", function()
    if not fixture.supports("expired") then return pending("no expiry here") end
    local conn = assert(fixture.dial(ctx, "expired", { paused_states = true }))
    assert.are.equal("PasswordExpired", conn:wait(5).state)
    assert.is_true(conn:resume { new_password = "n3w-secret" })
    assert.are.equal("Connected", conn:wait(5).state)
    conn:hangup()
  end)

  local errors = { authfail = 691, callback = 703, expired = 648 }
  for name, code in pairs(errors) do
    it("without paused_states, " .. name .. " ends in error " .. code, function()
      if name ~= "authfail" and not fixture.supports(name) then return pending(name) end
      local conn = assert(fixture.dial(ctx, name, { password = name == "authfail"
        and fixture.wrong_password or fixture.password }))
      local ev = assert(conn:wait(5))
      assert.are.equal("Disconnected", ev.state)
      assert.are.equal(code, ev.error)
    end)
  end

  it("refuses to resume a dial that is not paused", function()
    local conn = assert(fixture.dial(ctx, "ok"))
    assert.are.equal("Connected", conn:wait(5).state)
    local ok, msg, code = conn:resume { password = "x" }
    assert.is_nil(ok)
    assert.is_string(msg)
    assert.is_number(code)
    conn:hangup()
    ok, msg, code = conn:resume { password = "x" }
    assert.is_nil(ok)
    assert.is_string(msg)
    assert.are.equal(6, code)
  end)
end)
