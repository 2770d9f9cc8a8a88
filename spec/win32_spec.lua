-- The win32 backend's own behaviour, against the rasapi32 test double under
-- Wine (spec/win32/rasapi32_double.c: the entry name picks the scenario).
-- Run with RAS_DOUBLE_FOREIGN="Office;vpn=1" for the foreign connection; the
-- whole file is pending wherever ras.backend is not win32.
local ras = require "ras"

local USER, PASSWORD = "user", "right"
local SECRET = "S3cr3t-Pa55w0rd"

local function context()
  return assert(ras.open("win32"))
end

local function dial(ctx, entry, params)
  local p = { entry = entry, username = USER, password = PASSWORD }
  for k, v in pairs(params or {}) do p[k] = v end
  return ctx.dial(p)
end

local function collect(conn)
  local names = {}
  for ev in conn:states() do names[#names + 1] = ev.state end
  return names
end

local function names_of(list, field)
  local names = {}
  for _, item in ipairs(list) do names[item[field]] = (names[item[field]] or 0) + 1 end
  return names
end

-- Hangs up the connections the double "grew" during an enumeration.
local function hang_up_grown(ctx)
  for _, conn in ipairs(ctx.connections()) do
    if conn.entry:match("^Grown") then assert(conn:hangup()) end
  end
end

describe("the win32 backend", function()
  if ras.backend ~= "win32" then
    pending("win32 only (ras.backend is " .. tostring(ras.backend) .. ")")
    return
  end

  local ctx
  before_each(function() ctx = context() end)

  describe("ras.open", function()
    it("is the default backend and takes nil or an empty table", function()
      assert.are.equal("win32", ras.backends()[1])
      assert.is_table(ras.open("win32"))
      assert.is_table(ras.open("win32", {}))
    end)

    it("names an option it does not know", function()
      local ok, err = pcall(ras.open, "win32", { phonebook = "x" })
      assert.is_false(ok)
      assert.matches("unknown option 'phonebook'", err)
    end)
  end)

  describe("dialling", function()
    it("takes a notification that comes before RasDialW has returned", function()
      local conn = assert(dial(ctx, "ok;step=2"))
      local states = collect(conn)
      assert.are.equal("OpenPort", states[1])
      assert.are.equal("Connected", states[#states])
      assert.are.equal(11, #states)
      local listed = false
      for _, c in ipairs(ctx.connections()) do listed = listed or rawequal(c, conn) end
      assert.is_true(listed, "the dial is listed as the same object")
      assert.is_true(conn:hangup())
    end)

    it("routes early notifications of many dials to their own connections", function()
      local conns = {}
      for i = 1, 8 do conns[i] = assert(dial(ctx, "ok;step=1")) end
      for i = 1, 8 do
        local states = collect(conns[i])
        assert.are.equal("OpenPort", states[1])
        assert.are.equal("Connected", states[#states])
      end
      for i = 1, 8 do assert.is_true(conns[i]:hangup()) end
    end)

    it("delivers a state the module does not name as StateN, with its code and group", function()
      -- 0x77: a running state no Windows has yet; every handler style sees it alike
      local seen, done
      local conn = assert(ctx.dial { entry = "ok;step=1;extra=0x77", on_state = function(_, ev)
        if ev.state_code == 0x77 then seen = ev end
        done = ev.group == "terminal"
      end })
      while not done do ctx.poll(5) end
      assert.are.same({ state = "State119", state_code = 0x77, group = "running", substate = "None",
                        subentry = 1, time = seen.time, elapsed = seen.elapsed }, seen)
      assert.is_number(seen.time)
      assert.is_true(seen.elapsed >= 0)
      local other = assert(dial(ctx, "ok;step=1;extra=0x77"))
      local states = collect(other)
      assert.are.equal("State119", states[6])
      assert.are.equal("Connected", states[#states])
      assert.is_true(conn:hangup())
      assert.is_true(other:hangup())
    end)

    it("reports a failure as one Disconnected carrying the error", function()
      local conn = assert(dial(ctx, "ok;step=1;fail_at=Authenticate;error=718"))
      local states = collect(conn)
      assert.are.same({ "OpenPort", "PortOpened", "ConnectDevice", "DeviceConnected",
                        "AllDevicesConnected", "Disconnected" }, states)
      assert.is_nil(conn:next(0.05))
    end)

    it("reports the drop of many connected links, past one wait's 64 handles", function()
      local conns = {}
      for i = 1, 70 do conns[i] = assert(dial(ctx, "ok;step=0;drop_after=300")) end
      for i = 1, 70 do assert.are.equal("Connected", conns[i]:wait(10).state) end
      for i = 1, 70 do
        local ev = assert(conns[i]:next(10))
        assert.are.equal("Disconnected", ev.state)
        assert.are.equal(629, ev.error)
      end
      for i = 1, 70 do assert.is_true(conns[i]:hangup()) end
    end)
  end)

  describe("text", function()
    local fields = { "entry", "phonebook", "number", "username", "password", "domain",
                     "callback_number" }
    for _, key in ipairs(fields) do
      it("raises an error naming '" .. key .. "' when it is not UTF-8, and starts nothing", function()
        local before = #ctx.connections()
        local ok, err = pcall(dial, ctx, "ok;step=1", { [key] = "ab\255c" })
        assert.is_false(ok)
        assert.matches("bad parameter '" .. key .. "' %(not valid UTF%-8%)", err)
        assert.are.equal(before, #ctx.connections())
      end)
    end

    it("passes UTF-8 through to the API and back", function()
      local conn = assert(dial(ctx, "ok;step=1", { username = "üser", password = "pässwört" }))
      assert.are.equal("Connected", conn:wait(5).state)
      assert.is_true(conn:hangup())
    end)

    it("raises on a resume parameter that is not UTF-8, keeping the password out", function()
      local conn = assert(dial(ctx, "authfail;step=1", { password = "wrong", paused_states = true }))
      assert.are.equal("RetryAuthentication", conn:wait(5).state)
      local ok, err = pcall(conn.resume, conn, { password = SECRET .. "\255" })
      assert.is_false(ok)
      assert.matches("'password' %(not valid UTF%-8%)", err)
      assert.is_nil(err:find("Pa55w0rd", 1, true))
      assert.is_true(conn:resume { password = PASSWORD })
      assert.are.equal("Connected", conn:wait(5).state)
      assert.is_true(conn:hangup())
    end)

    it("raises an error naming a phonebook path that is not UTF-8", function()
      local ok, err = pcall(ctx.entries, "C:\\\255.pbk")
      assert.is_false(ok)
      assert.matches("'phonebook' %(not valid UTF%-8%)", err)
    end)
  end)

  describe("enumerations", function()
    -- The backend's first call has room for one connection, so two make it
    -- grow, and each ERROR_BUFFER_TOO_SMALL answer adds one more (grow_conns).
    it("retry while the connection count grows between the calls", function()
      local before = #ctx.connections()
      local conn = assert(dial(ctx, "ok;step=0;grow_conns=3"))
      local other = assert(dial(ctx, "ok;step=0"))
      assert.are.equal("Connected", conn:wait(5).state)
      assert.are.equal("Connected", other:wait(5).state)
      local list = ctx.connections()
      assert.are.equal(before + 2 + 3, #list)
      local grown = 0
      for _, c in ipairs(list) do
        if c.entry:match("^Grown") then
          grown = grown + 1
          assert.are.equal("Connected", c:status().state)
        end
      end
      assert.are.equal(3, grown)
      hang_up_grown(ctx)
      assert.is_true(conn:hangup())
      assert.is_true(other:hangup())
      assert.are.equal(before, #ctx.connections())
    end)

    it("list the entries with the same protocol, growth included", function()
      local before = #ctx.entries()
      local conn = assert(dial(ctx, "ok;step=0;grow_entries=2"))
      local list = ctx.entries()
      assert.are.equal(before + 2, #list)
      local names = names_of(list, "name")
      assert.are.equal(1, names.ok)
      assert.are.equal(1, names.callback)
      for _, e in ipairs(list) do assert.is_string(e.phonebook) end
      conn:hangup()
    end)

    it("pass the phonebook path through", function()
      local list = ctx.entries("C:\\Users\\Ünïcode\\my.pbk")
      assert.is_true(#list > 0)
      assert.are.equal("C:\\Users\\Ünïcode\\my.pbk", list[1].phonebook)
    end)
  end)

  describe("status", function()
    it("has the tunnel endpoints of the Windows 7 layout and the device", function()
      local conn = assert(dial(ctx, "ok;step=1;vpn=1"))
      assert.are.equal("Connected", conn:wait(5).state)
      local st = assert(conn:status())
      if tonumber(os.getenv("RAS_DOUBLE_WINVER") or "0xA00") < 0x601 then
        assert.is_nil(st.local_address)   -- an older Windows: no endpoints
      else
        assert.are.equal("10.0.0.2", st.local_address)
        assert.are.equal("10.0.0.1", st.remote_address)
      end
      assert.are.equal("vpn", st.device_type)
      assert.are.equal("WAN Miniport (PPTP)", st.device_name)
      assert.is_true(conn:hangup())
      local none, _, code = conn:status()
      assert.is_nil(none)
      assert.are.equal(6, code)
    end)

    it("carries the error of a dropped link, as the event does", function()
      local conn = assert(dial(ctx, "ok;step=1;drop_after=30"))
      assert.are.equal("Connected", conn:wait(5).state)
      local st
      local deadline = ras.now() + 5
      repeat
        st = assert(conn:status())
      until st.state == "Disconnected" or ras.now() > deadline
      assert.are.equal("Disconnected", st.state)
      assert.are.equal(629, st.error)
      assert.are.equal(629, conn:next(5).error)
      assert.is_true(conn:hangup())
    end)
  end)

  describe("polling", function()
    it("has no descriptor and points at pollhandle instead", function()
      local conn = assert(dial(ctx, "ok;step=1;hold_at=OpenPort"))
      local fd, msg, code = ctx.pollfd()
      assert.is_nil(fd)
      assert.matches("pollhandle", msg)
      assert.are.equal(87, code)
      fd, msg = conn:pollfd()
      assert.is_nil(fd)
      assert.matches("pollhandle", msg)
      assert.are.equal("userdata", type(ctx.pollhandle()))
      assert.are.equal("userdata", type(conn:pollhandle()))
      assert.is_true(conn:hangup())
    end)
  end)

  describe("error texts", function()
    it("come from RasGetErrorStringW", function()
      assert.are.equal("The user name or password is not valid.", ctx.error_message(691))
      local conn = assert(dial(ctx, "busy;step=1"))
      local ev = conn:wait(5)
      assert.are.equal(676, ev.error)
      assert.are.equal("The phone line is busy.", ev.message)
    end)

    it("fall back to the module's table where Windows has none", function()
      assert.is_nil(ctx.error_message(619):match("^RAS error"))
      assert.are.equal("RAS error 12345", ctx.error_message(12345))
    end)
  end)

  describe("a connection dialled by another process", function()
    local foreign = os.getenv("RAS_DOUBLE_FOREIGN")

    local function office()
      for _, conn in ipairs(ctx.connections()) do
        if conn.entry == "Office" then return conn end
      end
    end

    it("is listed with its entry and status", function()
      if not foreign then return pending("set RAS_DOUBLE_FOREIGN='Office;vpn=1'") end
      local conn = assert(office(), "Office is listed")
      local st = assert(conn:status())
      assert.are.equal("Connected", st.state)
      assert.are.equal("vpn", st.device_type)
      assert.is_true(rawequal(conn, office()))
    end)

    it("is never hung up when its object or context is collected", function()
      if not foreign then return pending("set RAS_DOUBLE_FOREIGN='Office;vpn=1'") end
      assert(office())
      ctx = nil  -- luacheck: ignore
      collectgarbage()
      collectgarbage()
      ctx = context()
      assert.are.equal("Connected", assert(office()):status().state)
    end)

    it("can be hung up by its handle, which delivers Disconnected", function()
      if not foreign then return pending("set RAS_DOUBLE_FOREIGN='Office;vpn=1'") end
      local conn = assert(office())
      assert.is_true(conn:hangup())
      assert.are.equal("Disconnected", conn:next(1).state)
      assert.is_nil(office())
    end)
  end)
end)
