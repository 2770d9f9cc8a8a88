-- Statistics, projection, devices and the machine-wide watcher on the win32
-- backend (issue 12), against the rasapi32 test double under Wine. The
-- double's connection counters grow with the time since Connected; its
-- projection is PPP (10.0.0.2 / 10.0.0.1, MS-CHAPv2, stateful MPPE-128 and MPPC on
-- vpn=1) or IKEv2 (ikev2=1); RasGetProjectionInfoEx exists from Windows 7
-- (RAS_DOUBLE_WINVER >= 0x601), else the backend must fall back on
-- RasGetProjectionInfoW. A dial with spawn=1;life=MS makes "another program"
-- bring a connection up as it connects and take it down MS later; with
-- RAS_DOUBLE_WIN11=1 the double signals RASCN_Connection/Disconnection only
-- for the process's first connection, so only the backend's periodic diff
-- (every 2 s) can see the others. Run with RAS_DOUBLE_FOREIGN="Office" and
-- RAS_DOUBLE_GROW_DEVICES=2. Pending wherever ras.backend is not win32.
local ras = require "ras"

local WINVER = tonumber(os.getenv("RAS_DOUBLE_WINVER") or "0xA00")
local WIN11 = os.getenv("RAS_DOUBLE_WIN11") == "1"

local function pause(seconds)
  local untill = ras.now() + seconds
  while ras.now() < untill do end
end

describe("win32 information", function()
  if ras.backend ~= "win32" then
    pending("win32 only (ras.backend is " .. tostring(ras.backend) .. ")")
    return
  end

  local ctx
  before_each(function() ctx = assert(ras.open("win32")) end)

  local function connected(entry)
    local conn = assert(ctx.dial { entry = entry, username = "user", password = "right" })
    assert.are.equal("Connected", conn:wait(10).state)
    return conn
  end

  local function gone(conn)
    assert.is_true(conn:hangup())
    local deadline = ras.now() + 5
    while conn:status() and ras.now() < deadline do pause(0.02) end
  end

  describe("statistics", function()
    it("has counters that grow, the speed and the time since Connected", function()
      local conn = connected("ok;step=1")
      local a = assert(conn:statistics())
      pause(0.3)
      local b = assert(conn:statistics())
      for _, k in ipairs { "bytes_sent", "bytes_received", "frames_sent", "frames_received" } do
        assert.is_true(math.type(a[k]) == "integer" and b[k] > a[k], k)
      end
      assert.is_true(b.bytes_received - a.bytes_received >= 7 * 250)   -- 7 bytes a ms
      assert.are.equal(3, b.errors)                  -- CRC 1 + timeouts 2, summed
      assert.are.equal(115200, b.speed)
      assert.is_true(b.duration >= a.duration + 0.25 and b.duration < 30)
      local vpn = connected("ok;step=1;vpn=1")
      assert.are.equal(100000000, assert(vpn:statistics()).speed)
      gone(vpn)
      gone(conn)
      local none, msg, code = conn:statistics()
      assert.is_nil(none)
      assert.are.equal(6, code)
      assert.is_string(msg)
    end)
  end)

  describe("projection", function()
    it("gives the PPP results (RasGetProjectionInfoEx, or RASP_PppIp before Windows 7)", function()
      local conn = connected("ok;step=1;vpn=1")
      local p = assert(conn:projection())
      assert.are.same({ address = "10.0.0.2", server_address = "10.0.0.1", dns = {} }, p.ipv4)
      if WINVER >= 0x601 then
        assert.are.same({ interface_id = "02:11:22:ff:fe:33:44:55",
                          server_interface_id = "02:66:77:ff:fe:88:99:aa" }, p.ipv6)
        assert.are.equal("mschapv2", p.auth_protocol)
        assert.are.equal("MPPE 128-bit stateful", p.encryption)
        assert.are.equal("mppc", p.compression)
      else
        -- RASPPPIPW has the addresses only
        assert.is_nil(p.ipv6)
        assert.is_nil(p.auth_protocol)
        assert.is_nil(p.encryption)
      end
      gone(conn)
    end)

    it("gives the IKEv2 variant's addresses, EAP and the cipher", function()
      if WINVER < 0x601 then return pending("IKEv2 projection is Windows 7's") end
      local conn = connected("ok;step=1;ikev2=1")
      local p = assert(conn:projection())
      assert.are.equal("10.0.0.2", p.ipv4.address)
      assert.are.equal("10.0.0.1", p.ipv4.server_address)
      assert.are.equal("00:00:00:00:00:00:00:02", p.ipv6.interface_id)
      assert.are.equal("eap", p.auth_protocol)
      assert.are.equal("AES-256", p.encryption)
      assert.is_nil(p.compression)
      gone(conn)
    end)

    it("answers 730 before the link is projected, and 6 once it is gone", function()
      local conn = assert(ctx.dial { entry = "ok;step=1;hold_at=Authenticate" })
      local ev
      repeat ev = conn:next(5) until not ev or ev.state == "Authenticate"
      assert.are.equal("Authenticate", ev and ev.state)
      local none, msg, code = conn:projection()
      assert.is_nil(none)
      assert.are.equal(730, code)
      assert.matches("projected", msg)
      gone(conn)
      assert.are.equal(6, select(3, conn:projection()))
    end)
  end)

  describe("devices", function()
    it("lists every device with the size protocol, unknown types as Windows wrote them", function()
      local list = assert(ctx.devices())
      local grown = tonumber(os.getenv("RAS_DOUBLE_GROW_DEVICES") or "0")
      assert.are.equal(8 + grown, #list)   -- the retries found the devices that came
      local types = {}
      for _, d in ipairs(list) do types[d.name] = d.type end
      assert.are.equal("modem", types["Test Double Modem"])
      assert.are.equal("vpn", types["WAN Miniport (SSTP)"])
      assert.are.equal("pppoe", types["WAN Miniport (PPPoE)"])
      assert.are.equal("gre", types["WAN Miniport (GRE)"])   -- newer than any header
      assert.are.equal("serial", types["Communications cable (COM1)"])
      if grown > 0 then assert.are.equal("serial", types["Grown Port " .. grown]) end
    end)
  end)

  describe("ctx.watch", function()
    -- The next change of an entry matching `pattern`, with the time it took;
    -- changes of other entries wait their turn (in arrival order).
    local held = setmetatable({}, { __mode = "k" })
    local function change_of(w, pattern, seconds)
      local t0 = ras.now()
      held[w] = held[w] or {}
      for i, ch in ipairs(held[w]) do
        if ch.entry:match(pattern) then return table.remove(held[w], i), 0 end
      end
      while true do
        local ch, why = w:next(math.max(0, seconds - (ras.now() - t0)))
        assert(ch, "no change of " .. pattern .. ": " .. tostring(why))
        if ch.entry:match(pattern) then return ch, ras.now() - t0 end
        table.insert(held[w], ch)
      end
    end

    it("reports the connections up already first, when asked", function()
      local w = assert(ctx.watch { initial = true })
      local ch = change_of(w, "^Office$", 1)
      assert.are.equal("connected", ch.change)
      assert.are.equal("Office", ch.connection.entry)
      assert.is_number(ch.time)
      w:close()
      assert.are.equal("closed", select(2, w:next(0)))
      local quiet = assert(ctx.watch())
      assert.are.equal("timeout", select(2, quiet:next(0.1)))   -- not without initial
      quiet:close()
    end)

    it("reports this program's and another's connections coming and going", function()
      -- Without signals only a connection that outlives a 2 s period is seen.
      local life = WIN11 and 2.5 or 0.7
      local w = assert(ctx.watch())
      local conn = connected("ok;step=1;spawn=1;life=" .. math.floor(life * 1000))
      local mine = change_of(w, "^ok;", 3)
      assert.are.equal("connected", mine.change)
      local spawned, up = change_of(w, "^Spawned", 3)
      assert.are.equal("connected", spawned.change)
      local name = spawned.entry
      local down, after = change_of(w, "^" .. name .. "$", life + 3.5)
      assert.are.equal("disconnected", down.change)
      assert.are.equal(name, down.connection.entry)
      gone(conn)
      local last = change_of(w, "^ok;", 4)
      assert.are.equal("disconnected", last.change)
      if WIN11 then
        -- No signal for another's connection: the periodic diff, within 3 s.
        assert.is_true(after - life < 3, "disconnection seen " .. after .. " s after")
      else
        -- The notifications, not the 2 s diff: well within its period.
        assert.is_true(up < 0.5, "connection seen " .. up .. " s after")
        assert.is_true(after < life + 0.5, "disconnection seen " .. after .. " s after")
      end
      w:close()
    end)

    it("sees every change within 3 s when Windows signals only once", function()
      -- Under RAS_DOUBLE_WIN11 the first dial of the process takes the only
      -- signals; this one (after the dials above) has none.
      local first = connected("ok;step=1")
      gone(first)
      local w = assert(ctx.watch())
      local conn = connected("ok;step=2")
      local ch = change_of(w, "^ok;step=2$", 3)
      assert.are.equal("connected", ch.change)
      gone(conn)
      local t
      ch, t = change_of(w, "^ok;step=2$", 3)
      assert.are.equal("disconnected", ch.change)
      assert.is_true(t < 3)
      w:close()
    end)
  end)
end)
