-- The simulator's `activity` option (issue 12): other programs' dials and
-- hang-ups, played at their times by the simulator thread, seen through
-- watchers, connections() and the objects that watch them; and the thread
-- sleeps while nothing is due.
local ras = require "ras"

local function sim(options)
  options.entries = options.entries or { Other = { step = 0 }, Mine = { step = 0 } }
  return assert(ras.open("sim", options))
end

local function next_change(w, seconds)
  local ch, why = w:next(seconds or 5)
  assert(ch, "no change: " .. tostring(why))
  return ch
end

local function open_error(options)
  local ok, err = pcall(ras.open, "sim", options)
  assert.is_false(ok, "ras.open accepted the options")
  return tostring(err)
end

describe("the simulator's activity option", function()
  it("brings another program's connection up and down at the given times", function()
    local opened = ras.now()
    local ctx = sim { activity = { { at = 0.2, dial = "Other" }, { at = 0.3, hangup = "Other" } } }
    local w = assert(ctx.watch())
    assert.are.same({}, ctx.connections())
    local ch = next_change(w)
    assert.are.equal("connected", ch.change)
    assert.are.equal("Other", ch.entry)
    assert.are.equal("sim", ch.phonebook)
    assert.is_true(ch.time >= opened + 0.2, "came up early")
    local list = ctx.connections()
    assert.are.equal(1, #list)
    assert.is_true(rawequal(ch.connection, list[1]))
    assert.are.equal("Connected", assert(list[1]:status()).state)
    local other = ch.connection
    ch = next_change(w)
    assert.are.equal("disconnected", ch.change)
    assert.is_true(rawequal(other, ch.connection))
    assert.is_true(ch.time >= opened + 0.3, "went down early")
    assert.are.same({}, ctx.connections())
    local ev = other:next(1)
    assert.are.equal("Disconnected", ev and ev.state)
    assert.is_nil(ev.error)
    local st, _, code = other:status()
    assert.is_nil(st)
    assert.are.equal(6, code)
    ctx:close()
  end)

  it("hangs up established connections too, and reports them as initial first", function()
    local ctx = sim { established = { "Other" }, activity = { { at = 0.2, hangup = "Other" } } }
    local w = assert(ctx.watch { initial = true })
    local ch = next_change(w, 1)
    assert.are.equal("connected", ch.change)
    assert.is_true(rawequal(ch.connection, ctx.connections()[1]))
    ch = next_change(w)
    assert.are.equal("disconnected", ch.change)
    assert.are.same({}, ctx.connections())
  end)

  it("reports a hang-up of an established connection through connections(), at the hang-up", function()
    local ctx = sim { entries = { Slow = { hangup_delay = 30 } }, established = { "Slow" } }
    local w = assert(ctx.watch { initial = true })
    local ch = next_change(w, 1)
    assert.are.equal("connected", ch.change)
    local t0 = ras.now()
    ctx.connections()[1]:hangup(0)           -- the teardown goes on for 30 s
    ch = next_change(w, 1)
    assert.are.equal("disconnected", ch.change)
    assert.are.equal("Slow", ch.entry)
    assert.is_true(ch.time >= t0 and ch.time < t0 + 5)
    ctx:close()
  end)

  it("names the phone book of a dial to a created entry", function()
    local ctx = sim {}
    assert.is_true(ctx.create_entry { name = "W", phonebook = "work.pbk", type = "vpn" })
    local w = assert(ctx.watch())
    local conn = assert(ctx.dial { entry = "W", phonebook = "work.pbk", on_state = function() end })
    local ch = next_change(w)
    assert.are.equal("connected", ch.change)
    assert.are.equal("W", ch.entry)
    assert.are.equal("work.pbk", ch.phonebook)
    assert.is_true(rawequal(conn, ch.connection))
    conn:hangup()
  end)

  it("leaves this context's own dials to the entry alone", function()
    local ctx = sim { activity = { { at = 0.2, dial = "Other" }, { at = 0.25, hangup = "Other" } } }
    local w = assert(ctx.watch())
    local mine = assert(ctx.dial { entry = "Other" })
    local seen = {}
    for _ = 1, 3 do
      local ch = next_change(w)
      seen[#seen + 1] = ch.change .. (rawequal(ch.connection, mine) and " mine" or " other")
    end
    table.sort(seen)
    assert.are.same({ "connected mine", "connected other", "disconnected other" }, seen)
    assert.are.equal("Connected", assert(mine:status()).state)
    assert.is_true(rawequal(mine, ctx.connections()[1]))
    mine:hangup()
    assert.are.equal("disconnected", next_change(w).change)
  end)

  it("drops another program's connection after its scenario's drop_after", function()
    local ctx = sim { entries = { Flaky = { drop_after = 0.05 } }, activity = { { at = 0.2, dial = "Flaky" } } }
    local w = assert(ctx.watch())
    assert.are.equal("connected", next_change(w).change)
    local ch = next_change(w)
    assert.are.equal("disconnected", ch.change)
    assert.are.equal("Flaky", ch.entry)
    assert.are.same({}, ctx.connections())
  end)

  it("plays steps in the order of their times, equal times in the given order", function()
    local ctx = sim {
      entries = { A = {}, B = {}, C = {} },
      activity = { { at = 0.3, dial = "C" }, { at = 0.2, dial = "A" }, { at = 0.2, dial = "B" },
                   { at = 0.32, hangup = "A" } },
    }
    local w = assert(ctx.watch())
    local seen = {}
    for _ = 1, 4 do
      local ch = next_change(w)
      seen[#seen + 1] = ch.change:sub(1, 1) .. ch.entry
    end
    assert.are.same({ "cA", "cB", "cC", "dA" }, seen)
  end)

  it("never plays a step at a huge time, nor hangs up what is not up", function()
    local ctx = sim { activity = { { at = 0, hangup = "Other" }, { at = math.huge, dial = "Other" } } }
    local w = assert(ctx.watch())
    local ch, why = w:next(0.1)
    assert.is_nil(ch)
    assert.are.equal("timeout", why)
    assert.are.same({}, ctx.connections())
    ctx:close()
  end)

  it("reports a burst of other programs' dials, none lost", function()
    local activity = {}
    for i = 1, 200 do activity[i] = { at = 0, dial = "Other" } end
    local ctx = sim { activity = activity }
    local w = assert(ctx.watch { initial = true })   -- some may be up already
    local n, ids = 0, {}
    for _ = 1, 200 do
      local ch = next_change(w)
      assert.are.equal("connected", ch.change)
      ids[ch.connection] = true
      n = n + 1
    end
    local distinct = 0
    for _ in pairs(ids) do distinct = distinct + 1 end
    assert.are.equal(200, distinct)
    assert.are.equal(200, #ctx.connections())
    assert.is_nil(w:next(0.02))
  end)

  it("sleeps while nothing is due (no polling)", function()
    local ctx = sim { activity = { { at = 30, dial = "Other" } } }
    local w = assert(ctx.watch())
    local cpu = os.clock()
    assert.is_nil(w:next(0.3))
    local spent = os.clock() - cpu
    assert.is_true(spent < 0.05, "the process spent " .. spent .. " s of CPU waiting 0.3 s")
    ctx:close()
  end)

  it("raises for bad activity, naming the item", function()
    local cases = {
      { "bad option 'activity[2].dial' (no entry named 'Nobody')",
        { activity = { { at = 0, dial = "Other" }, { at = 1, dial = "Nobody" } } } },
      { "bad option 'activity[1].hangup' (no entry named 'Nobody')", { activity = { { at = 0, hangup = "Nobody" } } } },
      { "bad option 'activity[1].dial' (give one of dial and hangup)", { activity = { { at = 0 } } } },
      { "bad option 'activity[1].dial' (give one of dial and hangup)",
        { activity = { { at = 0, dial = "Other", hangup = "Other" } } } },
      { "bad option 'activity[1].at' (missing)", { activity = { { dial = "Other" } } } },
      { "bad option 'activity[1].at' (must be >= 0)", { activity = { { at = -1, dial = "Other" } } } },
      { "bad option 'activity[1]' (table expected, got string)", { activity = { "Other" } } },
      { "unknown option 'activity[1].hangpu'", { activity = { { at = 0, hangpu = "Other" } } } },
      { "bad option 'activity' (table expected", { activity = "Other" } },
    }
    for _, case in ipairs(cases) do
      local options = case[2]
      options.entries = { Other = {} }
      assert.matches(case[1], open_error(options), 1, true)
    end
  end)

  it("raises for more than 65,536 steps", function()
    local activity = {}
    for i = 1, 65537 do activity[i] = { at = 1e9, hangup = "Other" } end
    assert.matches("bad option 'activity' (more than 65536 items)",
                   open_error { entries = { Other = {} }, activity = activity }, 1, true)
  end)
end)
