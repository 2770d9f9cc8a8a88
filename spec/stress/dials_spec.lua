-- Stress: 10,000 simultaneous simulated dials (make check-tsan-stress runs
-- spec/stress under ThreadSanitizer; make spec runs it too).
local ras = require "ras"
local support = require "stress.support"

local N = 10000

describe("10,000 simultaneous dials", function()
  it("all reach Connected with every event delivered once and in order", function()
    local ctx = support.context()
    local rec = support.recorder()
    local conns = {}
    for i = 1, N do
      conns[i] = assert(ctx.dial { entry = "Fast", on_state = rec:handler() })
    end
    support.poll_until(ctx, function() return rec.done == N end)
    assert.are.equal(0, ctx.poll(0))
    rec:check(N)
    -- every one is listed, as the object that dialled it
    local listed = ctx.connections()
    assert.are.equal(N, #listed)
    local mine = {}
    for _, c in ipairs(conns) do mine[c] = true end
    for _, c in ipairs(listed) do assert.is_true(mine[c]) end
    for _, c in ipairs(conns) do assert.is_true(c:hangup()) end
    assert.are.equal(0, #ctx.connections())
  end)

  it("all end when they are dropped at once without a pump", function()
    local ctx = support.context()
    for _ = 1, N do assert(ctx.dial { entry = "Fast" }) end
    collectgarbage()
    collectgarbage()
    -- what never reached Connected was hung up; what did stays up: hang it up
    local deadline = ras.now() + support.LIMIT
    local left = ctx.connections()
    while #left > 0 and ras.now() < deadline do
      for _, c in ipairs(left) do c:hangup(1) end
      left = ctx.connections()
    end
    assert.are.equal(0, #left)
  end)
end)
