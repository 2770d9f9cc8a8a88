-- Stress: collection and pumps inside handlers (make check-tsan-stress;
-- make spec runs it too). Each connection's handler records its events at
-- entry, so an event delivered by a nested pump still has to come after the
-- ones before it, exactly once.
local ras = require "ras"
local support = require "stress.support"

local DIALS = 200
local MAX_DEPTH = 5

describe("handlers that", function()
  it("collect garbage, while other connections are dropped", function()
    local ctx = support.context()
    local rec = support.recorder()
    local kept, dropped, events = {}, {}, 0
    local function collect()
      events = events + 1
      if events % 16 == 0 then collectgarbage() else collectgarbage("step") end
      -- let go of a dropped connection now and then: it is collected
      -- while its events may still be queued
      if events % 3 == 0 then dropped[#dropped] = nil end
    end
    for i = 1, DIALS do
      kept[i] = assert(ctx.dial { entry = "Fast", on_state = rec:handler(collect) })
      dropped[i] = assert(ctx.dial { entry = "Fast", on_state = collect })
    end
    support.poll_until(ctx, function() return rec.done == DIALS end)
    rec:check(DIALS)
    assert.are.equal(DIALS, #kept)
  end)

  it("collect garbage from a coroutine handler", function()
    local ctx = support.context()
    local got, conns = {}, {}
    for i = 1, DIALS // 4 do
      got[i] = {}
      conns[i] = assert(ctx.dial { entry = "Fast", on_state = coroutine.create(function(_, ev)
        while true do
          got[i][#got[i] + 1] = ev.state
          collectgarbage("step")
          if ev.state == "Connected" then return end
          _, ev = coroutine.yield()
        end
      end) })
    end
    for i = 1, #conns do
      for _ in conns[i]:states() do end
      assert.are.same(support.sequence, got[i])
    end
  end)

  it("pump another connection with conn:next", function()
    local ctx = support.context()
    local rec = support.recorder()
    local conns = {}
    local depth = 0
    local function pump_other(conn)
      if depth >= MAX_DEPTH then return end
      depth = depth + 1
      for _ = 1, 3 do
        local other = conns[math.random(#conns)]
        if other ~= conn then other:next(0) end
      end
      depth = depth - 1
    end
    for i = 1, DIALS do
      conns[i] = assert(ctx.dial { entry = "Fast", on_state = rec:handler(pump_other) })
    end
    -- each connection pumped by conn:next until Connected (its events may
    -- all come from other connections' handlers instead)
    local deadline = ras.now() + support.LIMIT
    while rec.done < DIALS and ras.now() < deadline do
      for i, c in ipairs(conns) do
        if rec.seen[i] < #support.sequence then c:next(0.01) end
      end
    end
    rec:check(DIALS)
  end)

  it("call ras.poll inside a handler", function()
    local ctx = support.context()
    local rec = support.recorder()
    local depth, deepest = 0, 0
    local function nested()
      if depth >= MAX_DEPTH then return end
      depth = depth + 1
      if depth > deepest then deepest = depth end
      ctx.poll(0)
      depth = depth - 1
    end
    local conns = {}
    for i = 1, DIALS do
      conns[i] = assert(ctx.dial { entry = "Fast", on_state = rec:handler(nested) })
    end
    support.poll_until(ctx, function() return rec.done == DIALS end)
    rec:check(DIALS)
    assert.are.equal(DIALS, #conns)
    assert.is_true(deepest > 1, "no poll ran nested")
  end)

  it("dial new connections from handlers, and hang up", function()
    local ctx = support.context()
    -- the hang-up after Connected adds the final Disconnected
    local sequence = { table.unpack(support.sequence) }
    sequence[#sequence + 1] = "Disconnected"
    local rec = support.recorder(sequence)
    local conns, started = {}, 0
    local function chain(conn, ev)
      if ev.state == "Connected" then
        if started < DIALS then
          started = started + 1
          conns[#conns + 1] = assert(ctx.dial { entry = "Fast", on_state = rec:handler(chain) })
        end
        assert.is_true(conn:hangup())
      end
    end
    for _ = 1, 10 do
      started = started + 1
      conns[#conns + 1] = assert(ctx.dial { entry = "Fast", on_state = rec:handler(chain) })
    end
    support.poll_until(ctx, function() return rec.done == started and started >= DIALS end)
    while ctx.poll(0.05) > 0 do end   -- the last Disconnected events
    rec:check(started)
    assert.are.equal(0, #ctx.connections())
  end)
end)
