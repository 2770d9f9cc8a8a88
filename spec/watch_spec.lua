-- Watchers (issue 12), on every backend: ctx.watch reports connections
-- coming up and going away, through w:next, w:changes, on_change (run by
-- ctx.poll, a function or a coroutine), and from schedulers through
-- w:pollfd (cqueues, luv). Other programs' connections come from the
-- fixture's foreign context; the simulator's `activity` option has its own
-- spec (sim_watch_spec.lua).
local fixture = require "support.fixture"
local subprocess = require "support.subprocess"

local posix = package.config:sub(1, 1) == "/" and fixture.backend ~= "win32"

-- The next change within seconds, skipping none; fails on a timeout.
local function next_change(w, seconds)
  local ch, why = w:next(seconds or 5)
  assert(ch, "no change: " .. tostring(why))
  return ch
end

-- Dials scenario `name` and waits for its Connected.
local function connected(ctx, name)
  local conn = assert(fixture.dial(ctx, name or "ok"))
  local ev
  repeat ev = conn:next(10) until not ev or ev.state == "Connected" or ev.state == "Disconnected"
  assert(ev and ev.state == "Connected", "the dial did not connect")
  return conn
end

describe("ctx.watch", function()
  local ctx
  before_each(function() ctx = fixture.context() end)
  after_each(function()
    for _, c in ipairs(ctx.connections()) do c:hangup() end
  end)

  it("reports this context's dial reaching Connected and its hang-up, with the dial's object", function()
    local w = assert(ctx.watch())
    local before = ctx.now()
    local conn = connected(ctx)
    local ch = next_change(w)
    assert.are.equal("connected", ch.change)
    assert.is_true(rawequal(conn, ch.connection))
    assert.are.equal(conn.entry, ch.entry)
    assert.is_number(ch.time)
    assert.is_true(ch.time >= before and ch.time <= ctx.now())
    assert.is_true(conn:hangup())
    ch = next_change(w)
    assert.are.equal("disconnected", ch.change)
    assert.is_true(rawequal(conn, ch.connection))
    assert.are.equal(conn.entry, ch.entry)
    local none, why = w:next(0.05)
    assert.is_nil(none)
    assert.are.equal("timeout", why)
    w:close()
  end)

  it("reports nothing for a dial that fails before Connected", function()
    if not fixture.supports("busy") then return pending("backend cannot busy") end
    local w = assert(ctx.watch())
    local conn = assert(fixture.dial(ctx, "busy"))
    fixture.collect(conn)
    local none, why = w:next(0.1)
    assert.is_nil(none)
    assert.are.equal("timeout", why)
    w:close()
  end)

  it("reports a drop as disconnected", function()
    if not fixture.supports("drop") then return pending("backend cannot drop") end
    local w = assert(ctx.watch())
    local conn = assert(fixture.dial(ctx, "drop"))
    assert.are.equal("connected", next_change(w, 10).change)
    local ch = next_change(w, 10)
    assert.are.equal("disconnected", ch.change)
    assert.is_true(rawequal(conn, ch.connection))
    w:close()
  end)

  it("with initial = true first reports what is up already, and without it does not", function()
    local conn = connected(ctx)
    local quiet = assert(ctx.watch())
    local w = assert(ctx.watch { initial = true })
    local ch = next_change(w, 1)
    assert.are.equal("connected", ch.change)
    assert.is_true(rawequal(conn, ch.connection))
    assert.is_nil(w:next(0.05))
    assert.is_nil(quiet:next(0.05))
    conn:hangup()
    assert.are.equal("disconnected", next_change(w).change)
    assert.are.equal("disconnected", next_change(quiet).change)
    w:close()
    quiet:close()
  end)

  it("reports another program's connection with the object connections() returns", function()
    local foreign = fixture.foreign_context()
    if not foreign then return pending("no foreign connections here") end
    local w = assert(foreign.watch { initial = true })
    local ch = next_change(w, 2)
    assert.are.equal("connected", ch.change)
    assert.is_true(rawequal(ch.connection, foreign.connections()[1]))
    assert.are.equal(foreign.connections()[1].entry, ch.entry)
    w:close()
  end)

  it("runs on_change, a function, from ctx.poll", function()
    local seen = {}
    local w
    w = assert(ctx.watch { on_change = function(watcher, ch)
      assert.is_true(rawequal(w, watcher))
      seen[#seen + 1] = ch.change
    end })
    local conn = connected(ctx)
    local deadline = ctx.now() + 5
    while #seen < 1 and ctx.now() < deadline do ctx.poll(0.5) end
    conn:hangup()
    while #seen < 2 and ctx.now() < deadline do ctx.poll(0.5) end
    assert.are.same({ "connected", "disconnected" }, seen)
    assert.are.equal(0, ctx.poll(0))
    w:close()
  end)

  it("runs on_change, a coroutine, from ctx.poll", function()
    local seen = {}
    local co = coroutine.create(function(_, ch)
      while true do
        seen[#seen + 1] = ch.change .. " " .. ch.entry
        _, ch = coroutine.yield()
      end
    end)
    local w = assert(ctx.watch { on_change = co })
    local conn = connected(ctx)
    conn:hangup()
    local deadline = ctx.now() + 5   -- after the hang-up: pppd's can take seconds under load
    while #seen < 2 and ctx.now() < deadline do ctx.poll(0.5) end
    assert.are.same({ "connected " .. conn.entry, "disconnected " .. conn.entry }, seen)
    w:close()
  end)

  it("runs on_change for the change w:next returns too", function()
    local calls = 0
    local w = assert(ctx.watch { on_change = function() calls = calls + 1 end })
    connected(ctx)
    assert.are.equal("connected", next_change(w).change)
    assert.are.equal(1, calls)
    w:close()
  end)

  it("waits in w:next no longer than asked", function()
    local w = assert(ctx.watch())
    local t0 = ctx.now()
    local ch, why = w:next(0.1)
    local waited = ctx.now() - t0
    assert.is_nil(ch)
    assert.are.equal("timeout", why)
    assert.is_true(waited >= 0.09 and waited < 2, "waited " .. waited)
    t0 = ctx.now()
    assert.is_nil(w:next(0))
    assert.is_true(ctx.now() - t0 < 0.5)
    assert.is_false(pcall(w.next, w, -1))
    assert.is_false(pcall(w.next, w, 0 / 0))
    w:close()
  end)

  it("iterates with w:changes() until the watcher is closed", function()
    local w = assert(ctx.watch())
    local conn = connected(ctx)
    local seen = {}
    for ch in w:changes() do
      seen[#seen + 1] = ch.change
      if ch.change == "connected" then conn:hangup() else w:close() end
    end
    assert.are.same({ "connected", "disconnected" }, seen)
  end)

  it("answers closed once closed, idempotently, and says so in tostring", function()
    local w = assert(ctx.watch())
    assert.are.equal("ras.watcher (watching)", tostring(w))
    w:close()
    w:close()
    assert.are.equal("ras.watcher (closed)", tostring(w))
    local ch, why = w:next(0)
    assert.is_nil(ch)
    assert.are.equal("closed", why)
    local fd, msg, code = w:pollfd()
    assert.is_nil(fd)
    assert.is_string(msg)
    assert.are.equal(6, code)
    local n = 0
    for _ in w:changes() do n = n + 1 end
    assert.are.equal(0, n)
  end)

  it("closes with its <close> variable", function()
    if _VERSION ~= "Lua 5.4" then return pending("<close> is Lua 5.4") end
    local chunk = assert(load([[
      local ctx = ...
      local kept
      do
        local w <close> = assert(ctx.watch())
        kept = w
      end
      return kept
    ]]))
    local w = chunk(ctx)
    assert.are.equal("ras.watcher (closed)", tostring(w))
  end)

  it("is closed with its context, and a closed context cannot watch", function()
    local other = fixture.context()
    local w = assert(other.watch())
    other:close()
    local ch, why = w:next(0)
    assert.is_nil(ch)
    assert.are.equal("closed", why)
    assert.is_false(pcall(other.watch))
  end)

  it("survives collection without close", function()
    for _ = 1, 20 do assert(ctx.watch { initial = true }) end
    collectgarbage()
    collectgarbage()
    local w = assert(ctx.watch())
    local conn = connected(ctx)
    assert.are.equal("connected", next_change(w).change)
    conn:hangup()
    assert.are.equal("disconnected", next_change(w).change)
    ctx.poll(0)
  end)

  it("raises for bad options, naming them", function()
    for _, case in ipairs {
      { "unknown option 'inital'", { inital = true } },
      { "bad option 'initial'", { initial = "yes" } },
      { "bad option 'on_change'", { on_change = 42 } },
    } do
      local ok, err = pcall(ctx.watch, case[2])
      assert.is_false(ok)
      assert.matches(case[1], tostring(err), 1, true)
    end
    assert.is_false(pcall(ctx.watch, "initial"))
  end)

  it("has events 'r' and no timeout of its own", function()
    local w = assert(ctx.watch())
    assert.are.equal("r", w:events())
    assert.is_nil(w:timeout())
    w:close()
  end)

  it("wakes cqueues.poll through w:pollfd when a change comes", function()
    if not posix then return pending("POSIX only") end
    local cqueues = require "cqueues"
    local w = assert(ctx.watch())
    assert.is_number(w:pollfd())
    local loop = cqueues.new()
    local got, idle
    loop:wrap(function()
      idle = cqueues.poll(w, 0.05) ~= w     -- nothing yet: not readable
      connected(ctx)
      local ready = cqueues.poll(w, 5) == w
      got = ready and w:next(0)
    end)
    assert(loop:loop(10))
    assert.is_true(idle)
    assert.is_table(got)
    assert.are.equal("connected", got.change)
    w:close()
  end)

  -- In a child process: luv loaded a second time into one process (busted
  -- unloads modules between spec files, and scheduler_spec loads luv too)
  -- crashes in uv_poll_init.
  it("wakes a luv poll handle on w:pollfd when a change comes", function()
    if not posix then return pending("POSIX only") end
    local why = subprocess.unavailable()
    if why then return pending(why) end
    local out, ok, how = subprocess.run([[
      local uv = require "luv"
      local ctx = fixture.context()
      local w = assert(ctx.watch())
      local got = {}
      local poll, timer = uv.new_poll(w:pollfd()), uv.new_timer()
      local function finish()
        poll:close()
        timer:close()
      end
      poll:start("r", function()
        local ch = w:next(0)
        while ch do
          got[#got + 1] = ch.change
          ch = w:next(0)
        end
        if #got >= 2 then finish() end
      end)
      local conn = assert(fixture.dial(ctx, "ok"))
      local ev
      repeat ev = conn:next(10) until not ev or ev.state == "Connected"
      conn:hangup()
      -- the bound starts now: a pppd dial and hang-up can outlast it under load
      uv.update_time()
      timer:start(10000, 0, finish)
      uv.run()
      print("got " .. table.concat(got, " "))
    ]])
    assert(ok, "the child failed (" .. how .. "):\n" .. out)
    assert.are.equal("connected disconnected", out:match("got ([^\n]*)"))
  end)
end)
