-- Hanging up: the RAS protocol (wait until the handle is invalid), the final
-- Disconnected event, drops, dial timeouts and what collection does.
local fixture = require "support.fixture"
local compat = require "support.compat"

describe("hangup", function()
  local ctx
  before_each(function() ctx = fixture.context() end)

  it("returns only when the connection is gone, waiting out the teardown", function()
    if not fixture.supports("slow_hangup") then return pending("no teardown delay") end
    local conn = assert(fixture.dial(ctx, "slow_hangup"))
    assert.are.equal("Connected", conn:wait(5).state)
    local t = ctx.now()
    assert.is_true(conn:hangup())
    local took = ctx.now() - t
    assert.is_true(took >= 0.09, "waited " .. took)
    local st, _, code = conn:status()
    assert.is_nil(st)
    assert.are.equal(6, code)
  end)

  it("returns nil, 'timeout' when the teardown outlasts the timeout, and can be retried", function()
    if not fixture.supports("slow_hangup") then return pending("no teardown delay") end
    local conn = assert(fixture.dial(ctx, "slow_hangup"))
    conn:wait(5)
    local ok, err = conn:hangup(0.01)
    assert.is_nil(ok)
    assert.are.equal("timeout", err)
    assert.is_true(conn:hangup(5))
  end)

  it("is idempotent", function()
    local conn = assert(fixture.dial(ctx, "ok"))
    conn:wait(5)
    assert.is_true(conn:hangup())
    assert.is_true(conn:hangup())
    assert.is_true(conn:hangup(0))
  end)

  it("delivers one final Disconnected without error", function()
    local conn = assert(fixture.dial(ctx, "ok"))
    assert.are.equal("Connected", conn:wait(5).state)
    conn:hangup()
    local ev = assert(conn:next(1))
    assert.are.equal("Disconnected", ev.state)
    assert.is_nil(ev.error)
    local none, why = conn:next(0.01)
    assert.is_nil(none)
    assert.are.equal("disconnected", why)
  end)

  it("delivers no extra Disconnected after a failed dial", function()
    local conn = assert(fixture.dial(ctx, "authfail", { password = fixture.wrong_password }))
    local ev = assert(conn:wait(5))
    assert.are.equal(691, ev.error)
    conn:hangup()
    assert.is_nil(conn:next(0.01))
  end)

  -- Lua 5.4 syntax: a string, loaded only there (pending elsewhere).
  local it_54 = compat.close and it or pending
  it_54("closes a <close> variable at the end of its scope", function()
    local kept = compat.load([[
      local assert, fixture, ctx = ...
      local kept
      do
        local conn <close> = assert(fixture.dial(ctx, "ok"))
        conn:wait(5)
        kept = conn
      end
      return kept]], "=<close> case")(assert, fixture, ctx)
    assert.is_nil((kept:status()))
  end)

  it("delivers Disconnected with 629 when the link drops after Connected", function()
    if not fixture.supports("drop") then return pending("no drops") end
    local conn = assert(fixture.dial(ctx, "drop"))
    assert.are.equal("Connected", conn:wait(5).state)
    local ev = assert(conn:next(5))
    assert.are.equal("Disconnected", ev.state)
    assert.are.equal(629, ev.error)
    assert.is_true(conn:hangup())
  end)

  it("delivers a drop to an on_state callback through ras.poll", function()
    if not fixture.supports("drop") then return pending("no drops") end
    local last
    local conn = assert(fixture.dial(ctx, "drop", { on_state = function(_, ev) last = ev end }))
    local deadline = ctx.now() + 10
    while not (last and last.state == "Disconnected") and ctx.now() < deadline do
      ctx.poll(1)
    end
    assert.are.equal(629, last.error)
    conn:hangup()
  end)

  it("ends a dial that outlives its timeout in Disconnected with 638", function()
    local t = ctx.now()
    local conn = assert(fixture.dial(ctx, "never", { timeout = 0.1 }))
    local states = fixture.collect(conn)
    if fixture.backend == "pppd" then
      -- a real pppd may reach its first phases within the 0.1 s: what counts is the end
      states = { states[1], states[#states] }
    end
    assert.are.same({ "OpenPort", "Disconnected" }, states)
    assert.is_true(ctx.now() - t >= 0.09)
    local st, _, code = conn:status()
    if st then  -- the teardown may still be running: wait for it
      assert.is_true(conn:hangup())
    else
      assert.are.equal(6, code)
    end
  end)

  it("reports 638 in the event and leaves the connection hung up", function()
    local conn = assert(fixture.dial(ctx, "never", { timeout = 0.05 }))
    local ev = assert(conn:wait(5))
    assert.are.equal(638, ev.error)
    assert.is_true(conn:hangup())
    assert.are.equal(0, #ctx.connections())
  end)

  it("enforces a dial timeout through ras.poll too", function()
    local last
    fixture.dial(ctx, "never", { timeout = 0.05, on_state = function(_, ev) last = ev end })
    local deadline = ctx.now() + 5
    while not (last and last.state == "Disconnected") and ctx.now() < deadline do
      ctx.poll(1)
    end
    assert.are.equal(638, last.error)
  end)

  it("hangs up a dial that never connected when its object is collected", function()
    fixture.dial(ctx, "never")
    assert.are.equal(1, #ctx.connections())
    collectgarbage()
    collectgarbage()
    local deadline = ctx.now() + 5
    while #ctx.connections() > 0 and ctx.now() < deadline do ctx.poll(0.01) end
    assert.are.equal(0, #ctx.connections())
  end)

  it("leaves an established connection up when its object is collected", function()
    local conn = assert(fixture.dial(ctx, "ok"))
    assert.are.equal("Connected", conn:wait(5).state)
    conn = nil  -- luacheck: ignore
    collectgarbage()
    collectgarbage()
    local list = ctx.connections()
    assert.are.equal(1, #list)
    assert.are.equal("Connected", list[1]:status().state)
    assert.is_true(list[1]:hangup())
  end)
end)
