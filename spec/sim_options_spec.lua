-- The simulator's options read like every other Lua input (issue 8): they
-- are checked and named, they cannot crash ras.open, huge durations mean
-- "forever" without deadlocking its thread, and the core under it waits
-- without spinning (huge timeouts, no descriptor left), drops what was
-- queued once a hang-up is asked for, and keeps its objects at scale.
--
-- What crashed, hung or spun the process before the fix runs in a
-- subprocess (a fresh lua5.4 with this process's module paths, bounded by
-- timeout(1)), so that a regression shows as a failing test.
local ras = require "ras"
local fixture = require "support.fixture"
local compat = require "support.compat"

local subprocess = require "support.subprocess"
local no_subprocess, run_lua = subprocess.unavailable, subprocess.run
local posix = package.config:sub(1, 1) == "/"

local function assert_ran(out, ok, how)
  assert(ok, "the subprocess failed (" .. how .. "):\n" .. out)
end

-- The value printed after `key ` on a line of its own, or nil.
local function printed(out, key)
  return ("\n" .. out):match("\n" .. key:gsub("%p", "%%%0") .. " ([^\n]*)")
end

local function sim(entries, options)
  options = options or {}
  options.entries = entries
  return assert(ras.open("sim", options))
end

-- The error ras.open("sim", options) raises.
local function open_error(options)
  local ok, err = pcall(ras.open, "sim", options)
  assert.is_false(ok, "ras.open accepted the options")
  return tostring(err)
end

-- CPU and wall seconds spent in fn, and its results.
local function measure(fn)
  local cpu, wall = os.clock(), ras.now()
  local r = compat.pack(fn())
  return os.clock() - cpu, ras.now() - wall, compat.unpack(r, 1, r.n)
end

describe("ras.open('sim') options", function()
  it("does not crash when a fail table's __index adds entries while the options are read (issue 8.3)", function()
    local why = no_subprocess()
    if why then return pending(why) end
    -- Either answer, as long as the process lives: nil for every key (the
    -- option is then bad), or good values (the entries read are the ones seen).
    for _, answer in ipairs { "nil", "good values" } do
      local out, ok, how = run_lua(([[
        local entries
        local grown = false
        local fail = setmetatable({}, { __index = function(_, k)
          if not grown then
            grown = true
            for i = 1, 5000 do entries[("added%%04d"):format(i)] = { step = 0 } end
          end
          if %s then return nil end
          if k == "at" then return "ConnectDevice" elseif k == "error" then return 678 end
        end })
        entries = { x = { fail = fail } }
        local ok, res = pcall(ras.open, "sim", { entries = entries })
        if ok then
          local conn = assert(res.dial { entry = "x" })
          conn:wait(5)
          res:close()
          print("result context")
        else
          print("result error " .. tostring(res))
        end
        collectgarbage()
        print("done")]]):format(answer == "nil" and "true" or "false"))
      assert_ran(out, ok, how)
      assert.is_truthy(printed(out, "result"), out)
      assert.is_truthy(out:find("\ndone\n", 1, true), out)
    end
  end)

  it("raises naming the option for fail.error beyond a 31-bit code (issue 8.10)", function()
    for _, code in ipairs { 4294967296, 2147483648, 4294967296 + 678 } do  -- 2^32, 2^31
      local err = open_error { entries = { e = { fail = { at = "ConnectDevice", error = code } } } }
      assert.matches("fail.error", err, 1, true)
    end
    local ctx = sim { e = { step = 0, fail = { at = "ConnectDevice", error = 678 } } }
    local conn = assert(ctx.dial { entry = "e" })
    assert.are.equal(678, conn:wait(5).error)
  end)

  it("raises for a state number beyond 32 bits in states (issue 8.10)", function()
    for _, state in ipairs { 4294967296 + 5, 2 ^ 32 + 5, 4294967296 + ras.states.PortOpened } do
      local err = open_error { entries = { e = { states = { "OpenPort", state } } } }
      assert.matches("states", err, 1, true)
    end
  end)

  it("raises 'unknown option' for an unknown option (issue 8.12)", function()
    assert.matches("unknown option 'entriez'", open_error { entriez = {} }, 1, true)
  end)

  it("raises 'unknown option' with its path for an unknown key inside fail (issue 8.12)", function()
    local err = open_error { entries = { e = { fail = { at = "ConnectDevice", error = 678, bogus = 1 } } } }
    assert.matches("unknown option 'entries.e.fail.bogus'", err, 1, true)
  end)

  it("raises for fail.at naming a state the scenario never reports (issue 8.12)", function()
    local listed = { "OpenPort", "PortOpened", "ConnectDevice" }
    local cases = {
      { states = listed, fail = { at = "Authenticate", error = 691 } },
      { fail = { at = "AuthRetry", error = 691 } },                    -- not in the default list
      { fail = { at = "RetryAuthentication", error = 691 } },          -- paused
      { fail = { at = "Connected", error = 691 } },                    -- terminal
      { fail = { at = "Disconnected", error = 691 } },
    }
    for _, scenario in ipairs(cases) do
      local err = open_error { entries = { e = scenario } }
      assert.matches("'entries.e.fail.at'", err, 1, true)
    end
    -- a state of the list is fine
    local ctx = sim { e = { states = listed, step = 0, fail = { at = "PortOpened", error = 678 } } }
    local conn = assert(ctx.dial { entry = "e" })
    assert.are.same({ "OpenPort", "PortOpened", "Disconnected" }, fixture.collect(conn))
  end)

  it("raises 'bad option' for a phonebook over 260 bytes and keeps one of 260 whole (issue 8.12)", function()
    local err = open_error { phonebook = string.rep("p", 261) }
    assert.matches("bad option 'phonebook'", err, 1, true)
    local name = string.rep("p", 260)
    local ctx = sim({ A = {} }, { phonebook = name })
    assert.are.equal(name, ctx.entries()[1].phonebook)
  end)

  it("raises 'bad option' with the option's path for states = 'x' (issue 8.12)", function()
    local err = open_error { entries = { e = { states = "x" } } }
    assert.matches("bad option 'entries.e.states' (", err, 1, true)
    assert.is_falsy(err:find("bad argument", 1, true), err)
  end)
end)

describe("huge waits (issue 8.5)", function()
  local function cpu_pending()
    if not posix then return "os.clock() is wall time on Windows" end
    return nil
  end

  -- OpenPort at once, Connected 0.3 s later.
  local slow = { states = { "OpenPort" }, step = 0.3 }

  local function assert_blocked(cpu, wall, what)
    assert.is_true(wall >= 0.25, what .. " returned after " .. wall .. " s")
    assert.is_true(cpu < 0.1, what .. " used " .. cpu .. " s of CPU in " .. wall .. " s")
  end

  it("conn:next(math.huge) blocks without spinning", function()
    local why = cpu_pending()
    if why then return pending(why) end
    local ctx = sim { slow = slow }
    local conn = assert(ctx.dial { entry = "slow" })
    assert.are.equal("OpenPort", conn:next(5).state)
    local cpu, wall, ev = measure(function() return conn:next(math.huge) end)
    assert.are.equal("Connected", ev.state)
    assert_blocked(cpu, wall, "next(math.huge)")
  end)

  it("conn:wait(1e300) blocks without spinning", function()
    local why = cpu_pending()
    if why then return pending(why) end
    local ctx = sim { slow = slow }
    local conn = assert(ctx.dial { entry = "slow" })
    local cpu, wall, ev = measure(function() return conn:wait(1e300) end)
    assert.are.equal("Connected", ev.state)
    assert_blocked(cpu, wall, "wait(1e300)")
  end)

  it("ctx.poll(math.huge) blocks without spinning", function()
    local why = cpu_pending()
    if why then return pending(why) end
    local ctx = sim { slow = slow }
    local conn = assert(ctx.dial { entry = "slow" })
    assert.are.equal("OpenPort", conn:next(5).state)
    local cpu, wall, n = measure(function() return ctx.poll(math.huge) end)
    assert.are.equal(1, n)
    assert_blocked(cpu, wall, "poll(math.huge)")
  end)

  it("conn:hangup(math.huge) blocks on the teardown without spinning", function()
    local why = cpu_pending()
    if why then return pending(why) end
    local ctx = sim { e = { step = 0, hangup_delay = 0.3 } }
    local conn = assert(ctx.dial { entry = "e" })
    assert.are.equal("Connected", conn:wait(5).state)
    local cpu, wall, ok = measure(function() return conn:hangup(math.huge) end)
    assert.is_true(ok)
    assert_blocked(cpu, wall, "hangup(math.huge)")
  end)

  -- Each scenario field at math.huge means never / forever, and nothing
  -- that waits on the simulator blocks because of it.
  it("takes step = math.huge as never advancing; status, hangup and close return at once", function()
    local why = no_subprocess()
    if why then return pending(why) end
    local out, ok, how = run_lua [[
      local ctx = assert(ras.open("sim", { entries = { e = { step = math.huge } } }))
      local conn = assert(ctx.dial { entry = "e" })
      print("first " .. conn:next(5).state)
      local ev, why = conn:next(0.2)
      print("then " .. (ev and ev.state or why))
      local t = ras.now()
      print("status " .. conn:status().state)
      print(("status_took %.3f"):format(ras.now() - t))
      t = ras.now()
      print("hangup " .. tostring(conn:hangup(0.1)))
      print(("hangup_took %.3f"):format(ras.now() - t))
      t = ras.now()
      ctx:close()
      print(("close_took %.3f"):format(ras.now() - t))]]
    assert_ran(out, ok, how)
    assert.are.equal("OpenPort", printed(out, "first"), out)
    assert.are.equal("timeout", printed(out, "then"), out)
    assert.are.equal("OpenPort", printed(out, "status"), out)
    assert.are.equal("true", printed(out, "hangup"), out)
    for _, key in ipairs { "status_took", "hangup_took", "close_took" } do
      assert.is_true(tonumber(printed(out, key) or "99") < 1, key .. ":\n" .. out)
    end
  end)

  it("takes drop_after = math.huge as never dropping", function()
    local why = no_subprocess()
    if why then return pending(why) end
    local out, ok, how = run_lua [[
      local ctx = assert(ras.open("sim", { entries = { e = { step = 0, drop_after = math.huge } } }))
      local conn = assert(ctx.dial { entry = "e" })
      print("first " .. conn:wait(5).state)
      local ev, why = conn:next(0.3)
      print("then " .. (ev and ev.state or why))
      print("status " .. conn:status().state)
      print("hangup " .. tostring(conn:hangup(1)))
      local t = ras.now()
      ctx:close()
      print(("close_took %.3f"):format(ras.now() - t))]]
    assert_ran(out, ok, how)
    assert.are.equal("Connected", printed(out, "first"), out)
    assert.are.equal("timeout", printed(out, "then"), out)
    assert.are.equal("Connected", printed(out, "status"), out)
    assert.are.equal("true", printed(out, "hangup"), out)
    assert.is_true(tonumber(printed(out, "close_took") or "99") < 1, out)
  end)

  it("takes hangup_delay = math.huge as a teardown that never ends; close still returns at once", function()
    local why = no_subprocess()
    if why then return pending(why) end
    local out, ok, how = run_lua [[
      local ctx = assert(ras.open("sim", { entries = { e = { step = 0, hangup_delay = math.huge } } }))
      local conn = assert(ctx.dial { entry = "e" })
      print("first " .. conn:wait(5).state)
      local t = ras.now()
      local done, why = conn:hangup(0.1)
      print("hangup " .. tostring(done) .. " " .. tostring(why))
      print(("hangup_took %.3f"):format(ras.now() - t))
      t = ras.now()
      ctx:close()
      print(("close_took %.3f"):format(ras.now() - t))]]
    assert_ran(out, ok, how)
    assert.are.equal("Connected", printed(out, "first"), out)
    assert.are.equal("nil timeout", printed(out, "hangup"), out)
    local took = tonumber(printed(out, "hangup_took") or "99")
    assert.is_true(took >= 0.09 and took < 1, out)
    assert.is_true(tonumber(printed(out, "close_took") or "99") < 1, out)
  end)
end)

describe("out of descriptors (issue 8.7)", function()
  it("reports EMFILE from pollfd, and conn:next still delivers without spinning", function()
    local why = no_subprocess()
    if why then return pending(why) end
    local out, ok, how = run_lua([[
      local ctx = assert(ras.open("sim", { entries = { slow = { states = { "OpenPort", "PortOpened" },
                                                                step = 0.3 } } }))
      local files = {}
      while true do
        local f = io.open("/dev/null")
        if not f then break end
        files[#files + 1] = f
      end
      print("files " .. #files)
      local conn = assert(ctx.dial { entry = "slow" })
      local function show(name, a, b, c) print(("%s %s|%s|%s"):format(name, tostring(a), tostring(b), tostring(c))) end
      show("conn.pollfd", conn:pollfd())
      show("ras.pollfd", ras.pollfd())
      show("ctx.pollfd", ctx.pollfd())
      local ev = conn:next(0.5)
      print("first " .. tostring(ev and ev.state))
      local cpu, t = os.clock(), ras.now()
      ev = conn:next(0.5)
      print("second " .. tostring(ev and ev.state))
      print(("wait %.3f %.3f"):format(ras.now() - t, os.clock() - cpu))
      ev = conn:next(0.5)
      print("third " .. tostring(ev and ev.state))
      for _, f in ipairs(files) do f:close() end]], 10, "ulimit -n 20; ")
    assert_ran(out, ok, how)
    for _, name in ipairs { "conn.pollfd", "ras.pollfd", "ctx.pollfd" } do
      local a, msg, code = (printed(out, name) or ""):match("^(.-)|(.*)|(.-)$")
      assert.are.equal("nil", a, name .. ":\n" .. out)
      assert.matches("EMFILE", msg, 1, true)
      assert.are.equal("4", code, name .. ":\n" .. out)
    end
    assert.are.equal("OpenPort", printed(out, "first"), out)
    assert.are.equal("PortOpened", printed(out, "second"), out)
    assert.are.equal("Connected", printed(out, "third"), out)
    local wall, cpu = (printed(out, "wait") or ""):match("^(%S+) (%S+)$")
    assert.is_true(tonumber(wall) >= 0.25, out)
    assert.is_true(tonumber(cpu) < 0.1, "conn:next spun:\n" .. out)
  end)
end)

describe("a hang-up asked for with events queued (issue 8.13)", function()
  -- step 0: the whole dial is queued at once; wait until it is.
  local function burst_dial(ctx, params)
    local conn = assert(ctx.dial(params))
    local deadline = ras.now() + 10
    while conn:status().state ~= "Connected" and ras.now() < deadline do end
    assert.are.equal("Connected", conn:status().state)
    return conn
  end

  it("delivers Disconnected next after a handler hung up, dropping what was queued", function()
    local ctx = sim { burst = { step = 0 } }
    local seen = {}
    local conn = burst_dial(ctx, { entry = "burst", on_state = function(c, ev)
      seen[#seen + 1] = ev.state
      if #seen == 1 then assert(c:hangup()) end
    end })
    assert.are.equal("OpenPort", conn:next(5).state)
    local ev = conn:next(5)
    assert.are.equal("Disconnected", ev.state)
    assert.is_nil(ev.error)
    local none, why = conn:next(0.1)
    assert.is_nil(none)
    assert.are.equal("disconnected", why)
    assert.are.same({ "OpenPort", "Disconnected" }, seen)
  end)

  it("ends a states() loop on Disconnected, never Connected, after a handler hung up", function()
    local ctx = sim { burst = { step = 0 } }
    local conn = burst_dial(ctx, { entry = "burst", on_state = function(c, ev)
      if ev.state == "OpenPort" then assert(c:hangup()) end
    end })
    assert.are.same({ "OpenPort", "Disconnected" }, fixture.collect(conn))
  end)

  it("ends a states() loop on Disconnected after a hang-up in its body", function()
    local ctx = sim { burst = { step = 0 } }
    local conn = burst_dial(ctx, { entry = "burst" })
    local seen = {}
    for ev in conn:states() do
      seen[#seen + 1] = ev.state
      if #seen == 1 then assert(conn:hangup()) end
    end
    assert.are.same({ "OpenPort", "Disconnected" }, seen)
  end)
end)

describe("at scale (issue 8.14)", function()
  it("enumerates 2,000 simultaneous dials as exactly the objects dialled", function()
    local ctx = sim { fast = { step = 0 } }
    local n, connected = 2000, 0
    local function on_state(_, ev) if ev.state == "Connected" then connected = connected + 1 end end
    local dialled = {}
    for i = 1, n do dialled[i] = assert(ctx.dial { entry = "fast", on_state = on_state }) end
    local deadline = ras.now() + 20
    while connected < n and ras.now() < deadline do ctx.poll(1) end
    assert.are.equal(n, connected)
    local index = {}
    for i, conn in ipairs(dialled) do index[conn] = i end
    local list = ctx.connections()
    assert.are.equal(n, #list)
    local found = {}
    for _, conn in ipairs(list) do
      local i = index[conn]
      assert(i and rawequal(dialled[i], conn), "connections() returned an object that was not dialled")
      assert(not found[i], "connections() returned an object twice")
      found[i] = true
    end
    for _, conn in ipairs(dialled) do conn:hangup() end
    assert.are.equal(0, #ctx.connections())
  end)
end)
