-- What real rasapi32 may do and a friendly double does not (issue 10), one
-- describe per finding, against the strict rasapi32 double under Wine
-- (spec/win32/rasapi32_double.c). spec/win32/run-specs runs this file in
-- each of the double's modes; RAS_DOUBLE_WINVER and RAS_DOUBLE_WIN11 say
-- which one this is. Pending wherever ras.backend is not win32.
--
-- What crashed the process before the fix runs in a child lua.exe, so that
-- a regression is a failing test rather than a dead runner.
local ras = require "ras"

local WINVER = tonumber(os.getenv("RAS_DOUBLE_WINVER") or "0xA00")
local WIDE = string.rep("\u{4E2D}", 100)          -- 100 UTF-16 units, 300 bytes
local WIDEST = string.rep("\u{4E2D}", 256)        -- RAS_MaxEntryName units
-- run-specs gives the double this default phonebook (257 units, 507 bytes).
local PHONEBOOK = "C:\\" .. string.rep("\u{E9}", 250) .. ".pbk"

local function dial(ctx, entry, params)
  local p = { entry = entry, username = "user", password = "right" }
  for k, v in pairs(params or {}) do p[k] = v end
  return ctx.dial(p)
end

-- Waits `seconds` without pumping anybody's events: an empty context's poll.
local idle = ras.backend == "win32" and assert(ras.open("win32")) or nil
local function sleep(seconds) idle.poll(seconds) end

-- Runs Lua source in a fresh lua.exe; returns its output and whether it
-- exited 0. A crash shows here, not as a dead runner. Wine's heap checks
-- (warn+heap) fill freed memory, so a use after free crashes every time
-- instead of reading what happens to be left there.
local function child(source)
  local path = "build/windows/child_" .. tostring(os.time()) .. "_" ..
               tostring(math.random(1e9)) .. ".lua"
  local f = assert(io.open(path, "w"))
  f:write('local ras = require "ras"\n', source, '\nprint("child done")\n')
  f:close()
  local p = assert(io.popen('set "WINEDEBUG=warn+heap" && build\\windows\\lua.exe ' ..
                            path .. ' 2>&1'))
  local out = p:read("a")
  local ok, how, code = p:close()
  os.remove(path)
  return out, ok == true and out:find("child done", 1, true) ~= nil,
         tostring(how) .. " " .. tostring(code)
end

local function assert_child(source)
  local out, ok, how = child(source)
  assert(ok, "the child failed (" .. how .. "):\n" .. out)
  assert(not out:find("protocol violation", 1, true), "the double saw a violation:\n" .. out)
end

-- A new dial after the trouble, to Connected: the process still works.
local STILL_WORKS = [[
  local ctx2 = assert(ras.open("win32"))
  local last = assert(ctx2.dial { entry = "ok;step=1" })
  assert(last:wait(5).state == "Connected")
  assert(last:hangup())
]]

local function listed(ctx, conn)
  for _, c in ipairs(ctx.connections()) do
    if rawequal(c, conn) then return true end
  end
  return false
end

describe("win32 against what real rasapi32 may do", function()
  if ras.backend ~= "win32" then
    pending("win32 only (ras.backend is " .. tostring(ras.backend) .. ")")
    return
  end

  local ctx
  before_each(function() ctx = assert(ras.open("win32")) end)

  -- Finding 1: RasHangUpW does not wait for the hang-up's notifications.
  describe("notifications after RasHangUpW has returned (1)", function()
    if WINVER < 0x500 then return pending("no dial in this mode") end

    it("are ignored for a dial hung up from its handler", function()
      assert_child([[
        local ctx = assert(ras.open("win32"))
        local done = false
        local conn = assert(ctx.dial { entry = "ok;step=5;late=200", on_state = function(c, ev)
          if ev.state == "DeviceConnected" then assert(c:hangup(5)) end
          if ev.state == "Disconnected" then done = true end
        end })
        repeat ctx.poll(1) until done
        ctx.poll(0.4)
        conn = nil
        collectgarbage()
        ctx.poll(0.4)
      ]] .. STILL_WORKS)
    end)

    it("are ignored for a RasDialW that failed with a handle, which is hung up", function()
      assert_child([[
        local ctx = assert(ras.open("win32"))
        local conn, msg, code = ctx.dial { entry = "ok;step=5;late=200;dial_error=651" }
        assert(conn == nil and code == 651, tostring(msg))
        ctx.poll(0.5)
        for _, c in ipairs(ctx.connections()) do
          assert(not c.entry:find("dial_error", 1, true), "the failed dial's handle is still up")
        end
      ]] .. STILL_WORKS)
    end)

    it("are ignored for a hang-up half-way through a dial", function()
      assert_child([[
        local ctx = assert(ras.open("win32"))
        -- The peer never answers Authenticate: the dial is half-way for sure.
        local conn = assert(ctx.dial { entry = "ok;step=5;late=200;hold_at=Authenticate" })
        repeat local ev = assert(conn:next(5)) until ev.state == "Authenticate"
        assert(conn:hangup())
        conn = nil
        collectgarbage()
        ctx.poll(0.4)
      ]] .. STILL_WORKS)
    end)

    it("are ignored for a dial collected while dialling", function()
      assert_child([[
        local ctx = assert(ras.open("win32"))
        do local conn = assert(ctx.dial { entry = "ok;step=5;late=200" }) end
        ctx.poll(0.03)
        collectgarbage()
        collectgarbage()
        ctx.poll(0.4)
      ]] .. STILL_WORKS)
    end)
  end)

  -- Finding 2: a torn-down handle's value goes to the next connection.
  describe("handle values given out again (2)", function()
    if WINVER < 0x500 then return pending("no dial in this mode") end

    it("never make a failed dial's object stand for the new connection", function()
      local failed = assert(dial(ctx, "busy;step=2"))
      local ev = failed:wait(5)
      assert.are.equal(676, ev.error)      -- delivered: the module hung it up
      sleep(0.05)
      local new = assert(dial(ctx, "ok;step=1"))
      assert.are.equal("Connected", new:wait(5).state)
      assert.is_true(listed(ctx, new))
      assert.is_false(listed(ctx, failed))
      local st, _, code = failed:status()
      assert.is_nil(st)
      assert.are.equal(6, code)
      assert.is_true(failed:hangup(2))
      assert.are.equal("Connected", assert(new:status()).state)
      assert.is_true(new:hangup())
    end)

    it("never let a stale object of another program's connection hang up a new dial", function()
      local other = assert(ras.open("win32"))         -- "another program"
      local theirs = assert(dial(other, "ok;step=1"))
      assert.are.equal("Connected", theirs:wait(5).state)
      local seen
      for _, c in ipairs(ctx.connections()) do
        if c.entry == "ok;step=1" then seen = c end
      end
      assert(seen, "the other program's connection is listed")
      assert.is_true(theirs:hangup())                 -- they hang it up
      local mine = assert(dial(ctx, "ok;step=1"))     -- and its value comes to us
      assert.are.equal("Connected", mine:wait(5).state)
      local ev = seen:next(5)                         -- its Disconnected, late
      assert.are.equal("Disconnected", ev.state)
      assert.is_nil(mine:next(0.3))
      assert.are.equal("Connected", assert(mine:status()).state)
      assert.is_true(mine:hangup())
    end)

    it("give a new object to a new connection in connections()", function()
      local other = assert(ras.open("win32"))
      local first = assert(dial(other, "ok;step=1"))
      assert.are.equal("Connected", first:wait(5).state)
      local seen
      for _, c in ipairs(ctx.connections()) do
        if c.entry == "ok;step=1" then seen = c end
      end
      assert(seen)
      assert.is_true(first:hangup())
      local second = assert(dial(other, "ok;step=1"))
      assert.are.equal("Connected", second:wait(5).state)
      local now
      for _, c in ipairs(ctx.connections()) do
        if c.entry == "ok;step=1" then now = c end
      end
      assert(now, "the second connection is listed")
      assert.is_false(rawequal(now, seen))
      assert.is_nil((seen:status()))
      assert.is_true(second:hangup())
    end)
  end)

  -- Beyond finding 2: another program may take a value back at once.
  describe("handle values taken back by another program", function()
    if WINVER < 0x600 then return pending("needs the correlation GUID of Vista's RASCONNW") end

    it("end an object watching the old connection without a call to connections()", function()
      local entry = "ok;step=1;redial_after=600"
      local other = assert(ras.open("win32"))
      local theirs = assert(dial(other, entry))
      assert.are.equal("Connected", theirs:wait(5).state)
      local seen
      for _, c in ipairs(ctx.connections()) do
        if c.entry == entry then seen = c end
      end
      assert(seen, "the other program's connection is listed")
      -- It hangs up and redials at once: the same value, another connection.
      local ev = seen:next(5)
      assert.are.equal("Disconnected", ev and ev.state)
      assert.are.equal(6, select(3, seen:status()))
      local now
      for _, c in ipairs(ctx.connections()) do
        if c.entry == entry then now = c end
      end
      assert(now, "the new connection is listed")
      assert.is_false(rawequal(now, seen))
      assert.are.equal("Connected", assert(now:status()).state)
      assert.is_true(now:hangup())
    end)
  end)

  -- Finding 3: RASCN_Disconnection may fire only for the first connection.
  describe("drops (3)", function()
    if WINVER < 0x500 then return pending("no dial in this mode") end

    -- Under RAS_DOUBLE_WIN11=1 no notification comes for these: only the check finds them.
    it("are found by the periodic status check when no notification comes", function()
      local conns = {}
      for i = 1, 3 do conns[i] = assert(dial(ctx, "ok;step=1;drop_after=100")) end
      for i = 1, 3 do assert.are.equal("Connected", conns[i]:wait(5).state) end
      local t0 = ras.now()
      for i = 1, 3 do
        local ev = assert(conns[i]:next(4))
        assert.are.equal("Disconnected", ev.state)
        assert.are.equal(629, ev.error)
      end
      assert.is_true(ras.now() - t0 < 3.5, "found within the 1-2 s check")
      for i = 1, 3 do assert.is_true(conns[i]:hangup()) end
    end)
  end)

  -- Finding 4: ERROR_NO_CONNECTION from RasHangUpW means it is gone already.
  describe("RasHangUpW answering 668 (4)", function()
    if WINVER < 0x500 then return pending("no dial in this mode") end

    it("is a successful hang-up", function()
      local conn = assert(dial(ctx, "ok;step=1;drop_after=30"))
      assert.are.equal("Connected", conn:wait(5).state)
      local deadline = ras.now() + 5
      repeat sleep(0.02) until conn:status().state == "Disconnected" or ras.now() > deadline
      assert.are.equal(629, conn:status().error)
      local ok, msg, code = conn:hangup()
      assert.is_true(ok, tostring(msg) .. " " .. tostring(code))
      assert.are.equal(6, select(3, conn:status()))
    end)
  end)

  -- Finding 5: 256 UTF-16 units can be 768 bytes of UTF-8.
  describe("text from Windows (5)", function()
    it("keeps an entry name of 100 x U+4E2D whole", function()
      local names = {}
      for _, e in ipairs(ctx.entries()) do names[e.name] = true end
      assert.is_true(names[WIDE] == true, "entries() has the 300-byte name")
    end)

    it("keeps the longest entry name and phonebook path whole in connections()", function()
      local found
      for _, c in ipairs(ctx.connections()) do
        if c.entry == WIDEST then found = c end
      end
      assert(found, "connections() has the 768-byte name")
      -- The NT 4 RASCONNW has no phonebook: absent, as an unknown one is.
      if WINVER >= 0x401 then
        assert.are.equal(PHONEBOOK, found.phonebook)
      else
        assert.is_nil(found.phonebook)
      end
    end)

    it("keeps the longest phonebook path whole in entries()", function()
      local list = ctx.entries()
      assert.is_true(#list > 0)
      -- The NT 4 RASENTRYNAMEW has no path.
      assert.are.equal(WINVER >= 0x500 and PHONEBOOK or "", list[1].phonebook)
    end)

    it("keeps a device name of 128 x U+4E2D whole in status()", function()
      if WINVER < 0x500 then return pending("no dial in this mode") end
      local conn = assert(dial(ctx, "ok;step=1;wide=1"))
      assert.are.equal("Connected", conn:wait(5).state)
      assert.are.equal(string.rep("\u{4E2D}", 128), assert(conn:status()).device_name)
      assert.is_true(conn:hangup())
    end)
  end)

  -- Finding 6: older Windows answer 632 to the newer layouts.
  describe("structure sizes (6)", function()
    if WINVER < 0x500 then
      it("fall back to the NT 4 RASENTRYNAMEW, and a dial fails cleanly", function()
        local list = ctx.entries()
        assert.is_true(#list > 5)
        local conn, _, code = dial(ctx, "ok;step=1")
        assert.is_nil(conn)
        assert.are.equal(632, code)
        assert.is_table(ctx.connections())
      end)
      return
    end

    it("fall back to what Windows takes for dial, resume, status and the lists", function()
      local conn = assert(dial(ctx, "authfail;step=1", { password = "wrong", paused_states = true }))
      assert.are.equal("RetryAuthentication", conn:wait(5).state)
      assert.is_true(conn:resume { password = "right" })
      assert.are.equal("Connected", conn:wait(5).state)
      local st = assert(conn:status())
      assert.are.equal("Connected", st.state)
      if WINVER < 0x601 then assert.is_nil(st.local_address)
      else assert.are.equal("10.0.0.2", st.local_address) end
      assert.is_true(listed(ctx, conn))
      assert.is_true(#ctx.entries() > 5)
      assert.is_true(conn:hangup())
    end)
  end)
end)
