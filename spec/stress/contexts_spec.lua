-- Stress: 100 contexts at once, each with its own simulator thread
-- (make check-tsan-stress; make spec runs it too).
local ras = require "ras"
local support = require "stress.support"

local CONTEXTS = 100
local DIALS = 5

-- Opens the contexts, dials on each, pumps them in turn, checks that each
-- delivered its own events only, then closes half of them (once the
-- binding has close); the rest is left to the collector.
local function dial_everywhere()
  local ctxs, recs, conns = {}, {}, {}
  for i = 1, CONTEXTS do
    ctxs[i] = support.context { entries = { Fast = { step = 0 }, Up = { step = 0 } },
                                established = { "Up" } }
    recs[i] = support.recorder()
    for _ = 1, DIALS do
      conns[#conns + 1] = assert(ctxs[i].dial { entry = "Fast", on_state = recs[i]:handler() })
    end
  end
  local deadline = ras.now() + support.LIMIT
  local pending = CONTEXTS
  while pending > 0 and ras.now() < deadline do
    pending = 0
    for i = 1, CONTEXTS do
      ctxs[i].poll(0)
      if recs[i].done < DIALS then pending = pending + 1 end
    end
  end
  for i = 1, CONTEXTS do
    recs[i]:check(DIALS)
    assert.are.equal(0, ctxs[i].poll(0))
    -- its dials and its one established connection, nobody else's
    assert.are.equal(DIALS + 1, #ctxs[i].connections())
  end
  assert.are.equal(CONTEXTS * DIALS, #conns)
  for i = 1, CONTEXTS, 2 do
    if ctxs[i].close then ctxs[i]:close() end
  end
end

describe("100 contexts at once", function()
  it("dial, deliver and enumerate independently, then all close", function()
    dial_everywhere()
    collectgarbage()
    collectgarbage()
  end)

  it("many contexts opened and collected while others dial", function()
    local keep = support.context()
    local rec = support.recorder()
    local conns = {}
    for i = 1, CONTEXTS do
      local ctx = support.context()
      ctx.dial { entry = "Fast" }      -- dropped with its context
      conns[i] = assert(keep.dial { entry = "Fast", on_state = rec:handler() })
      if i % 10 == 0 then collectgarbage() end
      keep.poll(0)
    end
    support.poll_until(keep, function() return rec.done == CONTEXTS end)
    rec:check(CONTEXTS)
    assert.are.equal(CONTEXTS, #conns)
  end)
end)
