-- Scheduler integration: pollfd/events/timeout, so that cqueues and luv can
-- wait on a connection or a whole context. POSIX only.
local ras = require "ras"
local fixture = require "support.fixture"

local posix = ras.backend ~= "win32"

describe("scheduler integration", function()
  local ctx
  before_each(function() ctx = fixture.context() end)

  it("exposes a descriptor, 'r' and the dial timeout", function()
    if not posix then return pending("POSIX only") end
    local conn = assert(fixture.dial(ctx, "never", { timeout = 30 }))
    assert.is_number(conn:pollfd())
    assert.are.equal("r", conn:events())
    local t = conn:timeout()
    assert.is_true(t > 29 and t <= 30)
    assert.is_number(ctx.pollfd())
    assert.are.equal("r", ctx.events())
    assert.is_true(ctx.timeout() <= 30)
    conn:hangup()
    assert.is_nil(conn:timeout())
    assert.is_nil(ctx.timeout())
  end)

  it("works with cqueues.poll on a connection", function()
    if not posix then return pending("POSIX only") end
    local cqueues = require "cqueues"
    local conn = assert(fixture.dial(ctx, "ok"))
    local loop = cqueues.new()
    local got = {}
    loop:wrap(function()
      repeat
        cqueues.poll(conn)
        local ev = conn:next(0)
        if ev then got[#got + 1] = ev.state end
      until got[#got] == "Connected"
    end)
    assert(loop:loop(10))
    assert.are.equal(#fixture.connected_states, #got)
    conn:hangup()
  end)

  it("works with a luv poll handle on the context's descriptor", function()
    if not posix then return pending("POSIX only") end
    local uv = require "luv"
    local seen = {}
    local conn = assert(fixture.dial(ctx, "ok", { on_state = function(_, ev) seen[#seen + 1] = ev.state end }))
    local poll, timer = uv.new_poll(ctx.pollfd()), uv.new_timer()
    local function finish()
      poll:close()
      timer:close()
    end
    poll:start("r", function()
      ctx.poll(0)
      if seen[#seen] == "Connected" then finish() end
    end)
    timer:start(10000, 0, finish)
    uv.run()
    assert.are.equal("Connected", seen[#seen])
    conn:hangup()
  end)

  it("keeps the descriptor readable exactly while an event is pending", function()
    if not posix then return pending("POSIX only") end
    local cqueues = require "cqueues"
    local conn = assert(fixture.dial(ctx, "never"))
    local loop = cqueues.new()
    local readable_before, readable_after
    loop:wrap(function()
      readable_before = cqueues.poll(conn, 5) == conn
      conn:next(0)
      readable_after = cqueues.poll(conn, 0.05) == conn
    end)
    assert(loop:loop(10))
    assert.is_true(readable_before)
    assert.is_false(readable_after)
    conn:hangup()
  end)

  it("says clearly when there is no descriptor", function()
    if posix then
      local h, msg = ctx.pollhandle()
      assert.is_nil(h)
      assert.matches("pollfd", msg)
    else
      local fd, msg = ctx.pollfd()
      assert.is_nil(fd)
      assert.matches("pollhandle", msg)
    end
  end)
end)
