-- Delivery of state changes: callbacks, coroutines, iterators and pumps.
local fixture = require "support.fixture"

describe("delivery", function()
  local ctx
  before_each(function() ctx = fixture.context() end)

  it("calls an on_state function with the connection and each event", function()
    local seen, conn = {}, nil
    conn = assert(fixture.dial(ctx, "ok", { on_state = function(c, ev)
      assert.is_true(rawequal(c, conn))
      seen[#seen + 1] = ev.state
    end }))
    local delivered = {}
    for ev in conn:states() do delivered[#delivered + 1] = ev.state end
    assert.are.same(delivered, seen)
    assert.are.equal("Connected", seen[#seen])
    conn:hangup()
  end)

  it("delivers to handlers through ras.poll", function()
    local seen = {}
    local conn = assert(fixture.dial(ctx, "ok", { on_state = function(_, ev)
      seen[#seen + 1] = ev.state
    end }))
    local deadline = ctx.now() + 10
    while seen[#seen] ~= "Connected" and ctx.now() < deadline do
      ctx.poll(1)
    end
    assert.are.equal("OpenPort", seen[1])
    assert.are.equal("Connected", seen[#seen])
    assert.are.equal(0, ctx.poll(0))
    conn:hangup()
  end)

  it("ras.poll(0) does not wait and returns 0 with nothing pending", function()
    local t = ctx.now()
    assert.are.equal(0, ctx.poll(0))
    assert.is_true(ctx.now() - t < 0.5)
  end)

  it("resumes an on_state coroutine with every event until it ends", function()
    local got = {}
    local co = coroutine.create(function(_, ev)
      while true do
        got[#got + 1] = ev.state
        if ev.state == "Authenticate" then return end
        _, ev = coroutine.yield()
      end
    end)
    local conn = assert(fixture.dial(ctx, "ok", { on_state = co }))
    local all = fixture.collect(conn)
    assert.are.equal("dead", coroutine.status(co))
    assert.are.same({ "OpenPort", "PortOpened", "ConnectDevice", "DeviceConnected",
                      "AllDevicesConnected", "Authenticate" }, got)
    assert.are.equal("Connected", all[#all])
    conn:hangup()
  end)

  it("works as an iterator inside a coroutine", function()
    local conn = assert(fixture.dial(ctx, "ok"))
    local co = coroutine.wrap(function()
      local n = 0
      for _ in conn:states() do n = n + 1 end
      return n
    end)
    assert.are.equal(#fixture.connected_states, co())
    conn:hangup()
  end)

  it("next times out with nil, 'timeout'", function()
    local conn = assert(fixture.dial(ctx, "never"))
    assert(conn:next(5))
    local t = ctx.now()
    local ev, err = conn:next(0.05)
    assert.is_nil(ev)
    assert.are.equal("timeout", err)
    assert.is_true(ctx.now() - t >= 0.04)
    conn:hangup()
  end)

  it("wait returns the first paused or terminal event", function()
    local conn = assert(fixture.dial(ctx, "authfail",
      { password = fixture.wrong_password, paused_states = true }))
    assert.are.equal("RetryAuthentication", conn:wait(5).state)
    conn:hangup()
    assert.are.equal("Disconnected", conn:wait(5).state)
    local ev, err = conn:wait(0.01)
    assert.is_nil(ev)
    assert.are.equal("disconnected", err)
  end)

  it("delivers each event once, in order, whichever pump takes it", function()
    local conn = assert(fixture.dial(ctx, "ok"))
    local seen = {}
    local ev = conn:next(5)
    seen[#seen + 1] = ev.state
    ctx.poll(0)   -- takes whatever is pending, handler-less
    -- Not conn:states(): on a loaded machine poll may already have taken
    -- Connected, and states() would then wait for ever.
    repeat
      local e = conn:next(5)
      if e then seen[#seen + 1] = e.state end
    until not e or e.group == "terminal"
    local idx = {}
    for i, s in ipairs(seen) do
      assert.is_nil(idx[s], s .. " delivered twice")
      idx[s] = i
    end
    assert.are.equal(1, idx.OpenPort)
    conn:hangup()
  end)

  it("propagates a handler error with a traceback and loses no event", function()
    local calls = 0
    local conn = assert(fixture.dial(ctx, "ok", { on_state = function(_, ev)
      calls = calls + 1
      if ev.state == "ConnectDevice" then error("boom in handler") end
    end }))
    local seen = {}
    local ok, err = pcall(function()
      for ev in conn:states() do seen[#seen + 1] = ev.state end
    end)
    assert.is_false(ok)
    assert.matches("boom in handler", err)
    assert.matches("traceback", err)
    assert.are.same({ "OpenPort", "PortOpened" }, seen)
    local rest = fixture.collect(conn)
    assert.are.equal("DeviceConnected", rest[1])
    assert.are.equal("Connected", rest[#rest])
    assert.are.equal(#fixture.connected_states, calls)
    conn:hangup()
  end)

  it("propagates an error raised in a coroutine handler", function()
    local co = coroutine.create(function() error("coroutine trouble") end)
    local conn = assert(fixture.dial(ctx, "ok", { on_state = co }))
    local ok, err = pcall(conn.next, conn, 5)
    assert.is_false(ok)
    assert.matches("coroutine trouble", err)
    assert.are.equal("PortOpened", conn:next(5).state)
    conn:hangup()
  end)

  it("lets a handler hang up its own connection", function()
    local conn
    conn = assert(fixture.dial(ctx, "never", { on_state = function(c, ev)
      if ev.state == "OpenPort" then assert.is_true(c:hangup()) end
    end }))
    assert.are.same({ "OpenPort", "Disconnected" }, fixture.collect(conn))
    assert.is_nil((conn:status()))
  end)

  it("lets a handler resume a paused dial by returning a table", function()
    local conn = assert(fixture.dial(ctx, "authfail", {
      password = fixture.wrong_password, paused_states = true,
      on_state = function(_, ev)
        if ev.state == "RetryAuthentication" then
          return { password = fixture.password }
        end
      end }))
    local states = fixture.collect(conn)
    assert.are.equal("Connected", states[#states])
    conn:hangup()
  end)

  it("lets a coroutine handler resume by yielding a table", function()
    local co = coroutine.create(function(_, ev)
      while true do
        local answer
        if ev.state == "RetryAuthentication" then answer = { password = fixture.password } end
        _, ev = coroutine.yield(answer)
      end
    end)
    local conn = assert(fixture.dial(ctx, "authfail",
      { password = fixture.wrong_password, paused_states = true, on_state = co }))
    local states = fixture.collect(conn)
    assert.are.equal("Connected", states[#states])
    conn:hangup()
  end)

  it("lets a handler call status and dial a new connection", function()
    local second, status
    local conn = assert(fixture.dial(ctx, "ok", { on_state = function(c, ev)
      if ev.state == "Connected" then
        status = c:status()
        second = assert(fixture.dial(ctx, "ok"))
      end
    end }))
    fixture.collect(conn)
    assert.are.equal("Connected", status.state)
    assert.are.equal("Connected", second:wait(5).state)
    conn:hangup()
    second:hangup()
  end)
end)
