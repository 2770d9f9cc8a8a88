-- Hostile but legal uses of the API (issue 8), against every backend: they
-- must neither crash, hang, spin nor mislead. Parameter tables that are
-- proxies, contexts used after close or collection, handlers with many
-- results, odd error objects and unresumable handlers, huge and bad
-- timeouts, integers beyond 32 bits, NUL bytes, and the context object.
--
-- What crashed the process before the fix runs in a subprocess (a fresh
-- lua5.4 with this process's module paths, bounded by timeout(1)), so that a
-- regression shows as a failing test rather than a dead runner.
local ras = require "ras"
local fixture = require "support.fixture"
local compat = require "support.compat"

local subprocess = require "support.subprocess"
local no_subprocess, run_lua = subprocess.unavailable, subprocess.run

-- The subprocess ended cleanly and printed `line` (a plain line).
local function assert_printed(out, ok, how, line)
  assert(ok, "the subprocess failed (" .. how .. "):\n" .. out)
  assert(("\n" .. out):find("\n" .. line .. "\n", 1, true),
         "expected the line '" .. line .. "' in:\n" .. out)
end

local function assert_closed(fn, ...)
  local ok, err = pcall(fn, ...)
  assert.is_false(ok, "a closed context answered")
  assert.matches("context is closed", tostring(err), 1, true)
end

-- Every function of a context that touches its backend.
local function context_calls(ctx)
  return {
    dial = function() return ctx.dial { entry = fixture.entry("ok") } end,
    connections = function() return ctx.connections() end,
    entries = function() return ctx.entries() end,
    poll = function() return ctx.poll(0) end,
    pollfd = function() return ctx.pollfd() end,
    pollhandle = function() return ctx.pollhandle() end,
    events = function() return ctx.events() end,
    timeout = function() return ctx.timeout() end,
    ["method dial"] = function() return ctx:dial { entry = fixture.entry("ok") } end,
    ["method poll"] = function() return ctx:poll(0) end,
  }
end

describe("a parameter table with metamethods (issue 8.1)", function()
  local ctx
  before_each(function() ctx = fixture.context() end)

  -- A proxy of `real` through __index, counting the reads of each key.
  local function proxy(real, reads)
    return setmetatable({}, { __index = function(_, k)
      reads[k] = (reads[k] or 0) + 1
      return real[k]
    end })
  end

  local function assert_read_once(reads)
    for k, n in pairs(reads) do assert(n <= 1, "'" .. tostring(k) .. "' was read " .. n .. " times") end
  end

  it("dials with a proxy table, its handler included, reading each key at most once", function()
    local reads, seen = {}, {}
    local conn = assert(ctx.dial(proxy({
      entry = fixture.entry("ok"), username = fixture.user, password = fixture.password,
      on_state = function(_, ev) seen[#seen + 1] = ev.state end,
    }, reads)))
    local states = fixture.collect(conn)
    assert.are.equal("Connected", states[#states])
    assert.are.same(states, seen)
    assert.are.equal(1, reads.entry)
    assert_read_once(reads)
    conn:hangup()
  end)

  it("resumes with a proxy table, reading each key at most once", function()
    local conn = assert(fixture.dial(ctx, "authfail",
      { password = fixture.wrong_password, paused_states = true }))
    assert.are.equal("RetryAuthentication", conn:wait(30).state)
    local reads = {}
    assert.is_true(conn:resume(proxy({ password = fixture.password }, reads)))
    assert.are.equal("Connected", conn:wait(30).state)
    assert.are.equal(1, reads.password)
    assert_read_once(reads)
    conn:hangup()
  end)

  it("resumes with a proxy returned by a handler in a paused state, each key read at most once", function()
    local reads = {}
    local conn = assert(fixture.dial(ctx, "authfail", {
      password = fixture.wrong_password, paused_states = true,
      on_state = function(_, ev)
        if ev.state == "RetryAuthentication" then return proxy({ password = fixture.password }, reads) end
      end }))
    local states = fixture.collect(conn)
    assert.are.equal("Connected", states[#states])
    assert.are.equal(1, reads.password)
    assert_read_once(reads)
    conn:hangup()
  end)

  -- In a subprocess: these crashed (NULL strlen, use after free).
  local proxies = {
    ["answers once, then nil"] = [[
      local function make(real)
        return setmetatable({}, { __index = function(_, k)
          reads[k] = (reads[k] or 0) + 1
          if reads[k] == 1 then return real[k] end
        end })
      end]],
    ["returns fresh strings and collects garbage"] = [[
      local function make(real)
        return setmetatable({}, { __index = function(_, k)
          reads[k] = (reads[k] or 0) + 1
          collectgarbage()
          local v = real[k]
          if type(v) == "string" then v = v:sub(1) end
          return v
        end })
      end]],
  }
  local uses = {
    dial = [[
      -- long strings are not interned: each read of the fresh proxy makes a new one
      local conn = assert(ctx.dial(make { entry = fixture.entry("open"), username = string.rep("u", 100),
                                          password = string.rep("p", 100), number = string.rep("5", 100) }))
      collectgarbage()
      local states = fixture.collect(conn)]],
    resume = [[
      local conn = assert(fixture.dial(ctx, "authfail",
        { password = fixture.wrong_password, paused_states = true }))
      assert(conn:wait(30).state == "RetryAuthentication")
      assert(conn:resume(make { password = fixture.password }) == true)
      collectgarbage()
      local states = fixture.collect(conn)]],
    handler = [[
      local conn = assert(fixture.dial(ctx, "authfail", {
        password = fixture.wrong_password, paused_states = true,
        on_state = function(_, ev)
          if ev.state == "RetryAuthentication" then return make { password = fixture.password } end
        end }))
      local states = fixture.collect(conn)]],
  }
  for pname, make in pairs(proxies) do
    for use, body in pairs(uses) do
      it(use .. " works with a table whose __index " .. pname .. ", each key read at most once", function()
        local why = no_subprocess()
        if why then return pending(why) end
        local out, ok, how = run_lua("local ctx = fixture.context()\nlocal reads = {}\n" .. make ..
          "\n" .. body .. [[

          print("last " .. states[#states])
          for k, n in pairs(reads) do if n > 1 then print("read twice " .. k) end end
          conn:hangup()
          print("done")]])
        assert_printed(out, ok, how, "last Connected")
        assert_printed(out, ok, how, "done")
        assert.is_falsy(out:find("read twice", 1, true), out)
      end)
    end
  end
end)

describe("a closed or collected context (issue 8.2)", function()
  -- A finalizer object made before the context runs after the context's own
  -- __gc: it finds the context collected.
  for _, call in ipairs { "connections", "poll", "dial" } do
    it("raises 'context is closed' from ctx." .. call .. " in a finalizer that runs after the context's", function()
      local why = no_subprocess()
      if why then return pending(why) end
      local out, ok, how = run_lua(([[
        local calls = {
          connections = function(c) return c.connections() end,
          poll = function(c) return c.poll(0) end,
          dial = function(c) return c.dial { entry = fixture.entry("ok") } end,
        }
        local function make()
          local box = fixture.finalized(function(b)
            local ok, err = pcall(calls["%s"], b.ctx)
            print("called " .. tostring(ok) .. " " .. tostring(err))
          end)
          box.ctx = fixture.context()
        end
        make()
        collectgarbage()
        collectgarbage()
        print("done")]]):format(call), 20)
      assert_printed(out, ok, how, "done")
      assert.matches("\ncalled false [^\n]*context is closed", "\n" .. out)
    end)
  end

  it("raises 'context is closed' from every function of a context resurrected after its __gc", function()
    local why = no_subprocess()
    if why then return pending(why) end
    local out, ok, how = run_lua([[
      local revived
      local function make()
        local box = fixture.finalized(function(b) revived = b.ctx end)
        box.ctx = fixture.context()
      end
      make()
      collectgarbage()
      collectgarbage()
      assert(revived, "the finalizer did not run")
      local calls = {
        { "connections", function() return revived.connections() end },
        { "poll", function() return revived.poll(0) end },
        { "dial", function() return revived.dial { entry = fixture.entry("ok") } end },
        { "entries", function() return revived.entries() end },
        { "timeout", function() return revived.timeout() end },
        { "pollfd", function() return revived.pollfd() end },
        { "close", function() return revived:close() end },
      }
      for _, c in ipairs(calls) do
        local ok, err = pcall(c[2])
        if c[1] == "close" then
          print("close " .. (ok and "ok" or tostring(err)))
        elseif not ok and tostring(err):find("context is closed", 1, true) then
          print("closed " .. c[1])
        else
          print("answered " .. c[1] .. ": " .. tostring(err))
        end
      end
      revived = nil
      collectgarbage()
      print("done")]], 20)
    assert_printed(out, ok, how, "done")
    for _, name in ipairs { "connections", "poll", "dial", "entries", "timeout", "pollfd" } do
      assert_printed(out, ok, how, "closed " .. name)
    end
    assert_printed(out, ok, how, "close ok")
  end)

  it("raises 'context is closed' from every context function after ctx:close(), which is idempotent", function()
    local ctx = fixture.context()
    ctx:close()
    for name, call in pairs(context_calls(ctx)) do
      local ok, err = pcall(call)
      assert.is_false(ok, name .. " answered on a closed context")
      assert.matches("context is closed", tostring(err), 1, true)
    end
    assert.has_no.errors(function() ctx:close() end)
    assert.has_no.errors(function() ctx.close() end)
    assert_closed(ctx.poll, 0)
  end)
end)

describe("a coroutine handler with many results (issue 8.4)", function()
  -- 200 results at every event; in RetryAuthentication the first is the
  -- table that resumes the dial, at Connected the coroutine returns 200.
  local handler = [[
    local function many(first)
      local t = { first }
      for i = 2, 200 do t[i] = i end
      return (table.unpack or unpack)(t, 1, 200)
    end
    local co = coroutine.create(function(_, ev)
      while true do
        if ev.state == "RetryAuthentication" then
          _, ev = coroutine.yield(many { password = fixture.password })
        elseif ev.state == "Connected" then
          return many("the end")
        else
          _, ev = coroutine.yield(many(ev.state))
        end
      end
    end)
    local ctx = fixture.context()
    local conn = assert(fixture.dial(ctx, "authfail",
      { password = fixture.wrong_password, paused_states = true, on_state = co }))
  ]]
  local pumps = {
    ["a states() loop"] = [[
      local states = fixture.collect(conn)
      print("last " .. states[#states])]],
    ["ctx.poll"] = [[
      local deadline = ras.now() + 30
      while coroutine.status(co) ~= "dead" and ras.now() < deadline do ctx.poll(1) end
      print("last " .. tostring(conn:status().state))]],
  }
  for pump, body in pairs(pumps) do
    it("does not crash when it yields or returns 200 values under " .. pump ..
       "; the first result alone counts", function()
      local why = no_subprocess()
      if why then return pending(why) end
      local out, ok, how = run_lua(handler .. body .. [[

        print("coroutine " .. coroutine.status(co))
        conn:hangup()
        print("done")]])
      assert_printed(out, ok, how, "last Connected")
      assert_printed(out, ok, how, "coroutine dead")
      assert_printed(out, ok, how, "done")
    end)
  end
end)

describe("timeouts (issue 8.5)", function()
  local ctx
  before_each(function() ctx = fixture.context() end)

  it("takes dial{ timeout = math.huge } as no timeout at all", function()
    local conn = assert(fixture.dial(ctx, "ok", { timeout = math.huge }))
    assert.is_nil(conn:timeout())
    assert.is_nil(ctx.timeout())
    assert.are.equal("Connected", conn:wait(30).state)
    conn:hangup()
  end)

  it("raises a bad argument for NaN and negative timeouts, and a bad parameter in dial", function()
    local conn = assert(fixture.dial(ctx, "never"))
    local calls = {
      next = function(s) return conn:next(s) end,
      wait = function(s) return conn:wait(s) end,
      hangup = function(s) return conn:hangup(s) end,
      poll = function(s) return ctx.poll(s) end,
    }
    for _, bad in ipairs { 0 / 0, -1, -math.huge } do
      for name, call in pairs(calls) do
        local ok, err = pcall(call, bad)
        assert.is_false(ok, name .. " accepted " .. tostring(bad))
        assert.matches("bad argument", err, 1, true)
      end
      local ok, err = pcall(fixture.dial, ctx, "ok", { timeout = bad })
      assert.is_false(ok, "dial accepted timeout " .. tostring(bad))
      assert.matches("bad parameter 'timeout'", err, 1, true)
    end
    assert.is_table(conn:status(), "a rejected hangup did not hang up")
    conn:hangup()
  end)
end)

describe("handler errors and unresumable handlers (issue 8.9)", function()
  local ctx
  before_each(function() ctx = fixture.context() end)

  local pumps = {
    { "conn:next()", function(_, conn) return conn:next(30) end },
    { "conn:wait()", function(_, conn) return conn:wait(30) end },
    { "ctx.poll()", function(c) return c.poll(30) end },
    { "a states() loop", function(_, conn) for _ in conn:states() do end end },
  }
  -- Handlers that raise at their first event only (a coroutine is dead then).
  local kinds = {
    ["function"] = function(raise)
      local raised = false
      return function()
        if not raised then
          raised = true
          raise()
        end
      end
    end,
    coroutine = function(raise) return coroutine.create(function() raise() end) end,
  }

  -- Hangs up and delivers what is left of conn, so that a later ctx.poll
  -- sees only the next connection's events (the handler may still raise).
  local function finish(conn)
    conn:hangup()
    for _ = 1, 100 do
      local ok, ev = pcall(conn.next, conn, 1)
      if ok and not ev then return end
    end
  end

  for _, pump in ipairs(pumps) do
    for kind, make in pairs(kinds) do
      it("hands the very error object of a " .. kind .. " handler to the caller of " .. pump[1] ..
         " (a string with a traceback)", function()
        local objects = {
          { reason = "a table" },
          setmetatable({}, { __tostring = function() return "a table with __tostring" end }),
        }
        for _, obj in ipairs(objects) do
          local conn = assert(fixture.dial(ctx, "never", { on_state = make(function() error(obj) end) }))
          local ok, err = pcall(pump[2], ctx, conn)
          assert.is_false(ok)
          assert.is_true(rawequal(obj, err), "got " .. type(err) .. ": " .. tostring(err))
          finish(conn)
        end
        local conn = assert(fixture.dial(ctx, "never",
          { on_state = make(function() error("a string error") end) }))
        local ok, err = pcall(pump[2], ctx, conn)
        assert.is_false(ok)
        assert.is_string(err)
        assert.matches("a string error", err, 1, true)
        assert.matches("stack traceback", err, 1, true)
        finish(conn)
      end)
    end
  end

  it("raises 'cannot be resumed' when the handler is the coroutine that runs the pump", function()
    for _, pump in ipairs(pumps) do
      local co = coroutine.create(function()
        local conn = assert(fixture.dial(ctx, "never", { on_state = coroutine.running() }))
        local ok, err = pcall(pump[2], ctx, conn)
        finish(conn)
        return ok, err
      end)
      local resumed, ok, err = coroutine.resume(co)
      assert.is_true(resumed, tostring(ok))
      assert.is_false(ok, pump[1] .. " did not raise")
      assert.is_string(err, pump[1] .. " raised a " .. type(err))
      assert.matches("cannot be resumed", err, 1, true)
    end
  end)

  it("raises 'cannot be resumed' when the handler is the main thread", function()
    if not compat.main_thread then return pending("Lua 5.1 gives Lua code no main thread value") end
    local why = no_subprocess()
    if why then return pending(why) end
    local out, ok, how = run_lua([[
      local ctx = fixture.context()
      local pumps = {
        next = function(conn) return conn:next(30) end,
        wait = function(conn) return conn:wait(30) end,
        poll = function() return ctx.poll(30) end,
        states = function(conn) for _ in conn:states() do end end,
      }
      for _, name in ipairs { "next", "wait", "poll", "states" } do
        local conn = assert(fixture.dial(ctx, "never", { on_state = (coroutine.running()) }))
        local ok, err = pcall(pumps[name], conn)
        if not ok and type(err) == "string" and err:find("cannot be resumed", 1, true) then
          print("clear " .. name)
        else
          print("unclear " .. name .. ": " .. type(err) .. " " .. tostring(err))
        end
        conn:hangup()
        repeat local delivered, ev = pcall(conn.next, conn, 1) until delivered and not ev
      end
      print("done")]])
    assert_printed(out, ok, how, "done")
    for _, name in ipairs { "next", "wait", "poll", "states" } do
      assert_printed(out, ok, how, "clear " .. name)
    end
  end)
end)

describe("integers beyond 32 bits (issue 8.10)", function()
  it("are unknown states and error codes, not truncated ones", function()
    assert.are.equal("OpenPort", ras.state_name(0))
    assert.is_nil(ras.state_name(4294967296))   -- 2^32: an integer literal on 5.3+, exact everywhere
    assert.is_nil(ras.state_name(4294967296 + ras.states.Connected))
    assert.is_nil(ras.state_name(2 ^ 53))
    assert.is_nil(ras.state_name(-1))
    assert.has_error(function() ras.state_group(4294967296) end)
    assert.has_error(function() ras.state_group(4294967296 + ras.states.Connected) end)
    assert.are_not.equal(ras.error_message(691), ras.error_message(2 ^ 32 + 691))
    assert.are.equal("RAS error 4294967987", ras.error_message(2 ^ 32 + 691))
  end)
end)

describe("names with a NUL byte (issue 8.11)", function()
  local ctx
  before_each(function() ctx = fixture.context() end)

  it("are unknown dial and resume parameters, not their prefix", function()
    local before = #ctx.connections()
    local ok, err = pcall(ctx.dial, { entry = fixture.entry("ok"), ["password\0"] = "x" })
    assert.is_false(ok, "dial accepted the key 'password\\0'")
    assert.matches("unknown parameter", err, 1, true)
    assert.are.equal(before, #ctx.connections(), "nothing was started")
    local conn = assert(fixture.dial(ctx, "authfail",
      { password = fixture.wrong_password, paused_states = true }))
    assert.are.equal("RetryAuthentication", conn:wait(30).state)
    ok, err = pcall(conn.resume, conn, { ["password\0"] = fixture.password })
    assert.is_false(ok, "resume accepted the key 'password\\0'")
    assert.matches("unknown parameter", err, 1, true)
    assert.are.equal("RetryAuthentication", conn:status().state)
    conn:hangup()
  end)

  it("is an unknown backend for ras.open", function()
    local none, msg, code = ras.open("sim\0x")
    assert.is_nil(none)
    assert.is_string(msg)
    assert.are.equal(87, code)
  end)

  it("raises for the phonebook of entries()", function()
    local ok, err = pcall(ctx.entries, "sim\0junk")
    assert.is_false(ok, "entries accepted a phonebook with a NUL byte")
    assert.matches("NUL", err, 1, true)
  end)
end)

describe("the context object", function()
  -- Lua 5.4 syntax: a string, loaded only there (pending elsewhere).
  local it_54 = compat.close and it or pending
  it_54("closes a `<close>` variable at scope exit", function()
    local kept = compat.load([[
      local assert, fixture = ...
      local kept
      do
        local ctx <close> = fixture.context()
        kept = ctx
        assert.is_table(kept.connections())
      end
      return kept]], "=<close> case")(assert, fixture)
    assert_closed(kept.connections)
    assert.has_no.errors(function() kept:close() end)
  end)

  it("takes every function as a method too: ctx:dial{}, ctx:poll(0), ras:dial{}, ras:state_name(0)", function()
    local ctx = fixture.context()
    local a = assert(ctx:dial { entry = fixture.entry("ok"), username = fixture.user,
                                password = fixture.password })
    local b = assert(ctx.dial { entry = fixture.entry("ok"), username = fixture.user,
                                password = fixture.password })
    assert.are.equal("Connected", a:wait(30).state)
    assert.are.equal("Connected", b:wait(30).state)
    assert.are.same(ctx.entries(), ctx:entries())
    assert.are.equal(#ctx.connections(), #ctx:connections())
    assert.are.equal(0, ctx:poll(0))
    assert.are.equal(ctx.timeout(), ctx:timeout())
    assert.are.equal(ctx.events(), ctx:events())
    assert.are.equal("OpenPort", ras:state_name(0))
    assert.are.equal(ras.error_message(691), ras:error_message(691))
    -- the module's own context: an unknown entry fails the same either way
    local entry = "ras-spec-no-such-entry"
    local r1, _, c1 = ras.dial { entry = entry }
    local r2, _, c2 = ras:dial { entry = entry }
    for _, r in ipairs { r1 or false, r2 or false } do if r then r:hangup() end end
    assert.are.equal(type(r1), type(r2))
    assert.are.equal(c1, c2)
    a:hangup()
    b:hangup()
  end)

  it("leaves connections that answer 'context is closed' once it is closed", function()
    local ctx = fixture.context()
    local conn = assert(fixture.dial(ctx, "never"))
    assert.are.equal("OpenPort", conn:next(30).state)
    ctx:close()
    for name, call in pairs {
      status = function() return conn:status() end,
      resume = function() return conn:resume { password = "x" } end,
      hangup = function() return conn:hangup() end,
    } do
      local ok, msg, code = call()
      assert.is_nil(ok, name .. " answered")
      assert.matches("context is closed", tostring(msg), 1, true)
      assert.are.equal(6, code, name)
    end
    local t = ras.now()
    for name, call in pairs {
      next = function() return conn:next(5) end,
      wait = function() return conn:wait(5) end,
    } do
      local ev, why = call()
      assert.is_nil(ev, name .. " delivered")
      assert.are.equal("closed", why, name)
    end
    assert.is_true(ras.now() - t < 2, "a pump waited on a closed context")
    local n = 0
    for _ in conn:states() do n = n + 1 end
    assert.are.equal(0, n)
    assert.has_no.errors(function() conn:close() end)
    conn = nil  -- luacheck: ignore
    assert.has_no.errors(function() collectgarbage() collectgarbage() end)
  end)

  it("survives being closed by a handler during ctx.poll", function()
    local ctx = fixture.context()
    local closed = false
    local conn = assert(fixture.dial(ctx, "ok", { on_state = function()
      if not closed then
        closed = true
        ctx:close()
      end
    end }))
    local ok, res = pcall(ctx.poll, 30)
    assert.is_true(closed, "the handler did not run")
    if ok then assert.is_number(res) else assert.matches("context is closed", tostring(res), 1, true) end
    assert_closed(ctx.poll, 0)
    local st, msg, code = conn:status()
    assert.is_nil(st)
    assert.matches("context is closed", tostring(msg), 1, true)
    assert.are.equal(6, code)
  end)

  it("hangs up a dial in progress when it is closed", function()
    if fixture.backend == "sim" then
      return pending("no other sim context can see this one's connections")
    end
    local ctx = fixture.context()
    local entry = fixture.entry("never")
    local conn = assert(fixture.dial(ctx, "never"))
    assert(conn:next(30))
    local observer = assert(ras.open(fixture.backend))
    local function dials()
      if fixture.backend == "pppd" then
        -- a dialling pppd writes no pid file before its link is up: look
        -- for the process itself
        local n = 0
        local ls = assert(io.popen("ls /proc"))
        for pid in ls:lines() do
          local f = pid:match("^%d+$") and io.open("/proc/" .. pid .. "/cmdline")
          if f then
            local cmd = f:read("*a") or ""
            f:close()
            if cmd:find("pppd", 1, true) and (cmd:find("\0" .. entry .. "\0", 1, true)
                or cmd:find("/" .. entry .. "\0", 1, true)) then n = n + 1 end
          end
        end
        ls:close()
        return n
      end
      local n = 0
      for _, c in ipairs(observer.connections()) do if c.entry == entry then n = n + 1 end end
      return n
    end
    assert.are.equal(1, dials(), "the dial is not visible to another context")
    ctx:close()
    local deadline = ras.now() + 15
    while dials() > 0 and ras.now() < deadline do observer.poll(0.1) end
    assert.are.equal(0, dials(), "the dial went on after its context was closed")
  end)
end)

describe("finalizers that pump while an event is being delivered", function()
  -- Any allocation can run a finalizer, among them the one that makes an
  -- event's table. One that pumps, reads or hangs up there handed the
  -- batch back under the table being made; the event was then taken from
  -- an empty batch and the next pump read a NULL feed (found by the fuzz
  -- run; a segfault before the fix). Now such a pump raises in the
  -- finalizer (a warning at most) and every event still arrives once.
  it("cannot disturb the delivery, and no event is lost", function()
    local why = no_subprocess()
    if why then return pending(why) end
    local out, ok, how = run_lua([[
      local ctx = assert(ras.open("sim", { entries = { Fast = { step = 0 } } }))
      local twice_seen = false
      local conns, terminal, seen = {}, {}, {}
      local function pumper()
        return fixture.finalized(function()
          pcall(ctx.poll, 0)
          for _, c in ipairs(conns) do pcall(c.next, c, 0) end
          if conns[1] then pcall(conns[1].hangup, conns[1], 0) end
        end)
      end
      -- a cycle at nearly every allocation (5.4's form, else setpause)
      if not pcall(collectgarbage, "incremental", 0, 10) or _VERSION < "Lua 5.4" then
        collectgarbage("setpause", 0)
        collectgarbage("setstepmul", 10)
      end
      for _ = 1, 10 do
        for _ = 1, 20 do
          local c
          c = assert(ctx.dial { entry = "Fast", on_state = function(_, ev)
            for _ = 1, 3 do pumper() end
            seen[c] = seen[c] or {}
            if seen[c][ev.state] then twice_seen = true end   -- an event delivered again
            seen[c][ev.state] = true
            if ev.group == "terminal" then terminal[c] = true end
          end })
          conns[#conns + 1] = c
        end
        for _ = 1, 50 do pumper() ctx.poll(0.001) end
      end
      collectgarbage("setpause", 200)
      collectgarbage("setstepmul", 100)
      local deadline = ras.now() + 10
      local function all_done()
        for _, c in ipairs(conns) do if not terminal[c] then return false end end
        return true
      end
      while not all_done() and ras.now() < deadline do ctx.poll(0.01) end
      print(all_done() and "every dial ended" or "a dial never ended",
            twice_seen and "an event came twice" or "each event once")
    ]], 60)
    assert_printed(out, ok, how, "every dial ended\teach event once")
  end)
end)
