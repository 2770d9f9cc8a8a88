-- Phone-book entries and saved credentials on the win32 backend (issue 11),
-- against the rasapi32 test double under Wine. The double stores what
-- RasSetEntryPropertiesW writes per phonebook path, takes only the RASENTRYW
-- sizes of the Windows RAS_DOUBLE_WINVER names (so the backend must fall back
-- on ERROR_INVALID_SIZE), and reports a protocol violation when an update
-- drops an entry's device-specific data: run with RAS_DOUBLE_SEEDED="Seeded
-- VPN" (an SSTP entry with such data, written "by the control panel").
-- Pending wherever ras.backend is not win32.
local ras = require "ras"

local WINVER = tonumber(os.getenv("RAS_DOUBLE_WINVER") or "0xA00")
local SECRET = "S3cr3t \"pa55\" \\ # wörd"

-- Every string inside v (keys and values, nested), for secret checks.
local function strings_of(v, out, seen)
  out, seen = out or {}, seen or {}
  if type(v) == "string" then
    out[#out + 1] = v
  elseif type(v) == "table" and not seen[v] then
    seen[v] = true
    for k, x in pairs(v) do
      strings_of(k, out, seen)
      strings_of(x, out, seen)
    end
  end
  return out
end

local function assert_no_secret(v, secret)
  for _, s in ipairs(strings_of(v)) do
    assert.is_nil(s:find(secret, 1, true), "a secret reached a string: " .. s)
  end
end

local function sorted(list)
  local copy = {}
  for i, v in ipairs(list) do copy[i] = v end
  table.sort(copy)
  return copy
end

describe("win32 entries", function()
  if ras.backend ~= "win32" then
    pending("win32 only (ras.backend is " .. tostring(ras.backend) .. ")")
    return
  end

  local ctx
  local serial = 0
  local function fresh(prefix)
    serial = serial + 1
    return (prefix or "Entry") .. " " .. serial
  end
  before_each(function() ctx = assert(ras.open("win32")) end)

  describe("create_entry and entry", function()
    it("write every property and read it back in this Windows' layout", function()
      local name = fresh("Office VPN")
      assert.is_true(ctx.create_entry {
        name = name, type = "vpn", vpn = "sstp", number = "vpn.example.com",
        auth = { "mschapv2", "eap" }, encryption = "required", default_gateway = false,
        dns = { "10.1.1.1", "10.1.1.2" }, ipv4 = true, idle_disconnect = 900,
        redial = { attempts = 5, interval = 30 }, username = "alice",
      })
      local e = assert(ctx.entry(name))
      assert.are.equal(name, e.name)
      assert.are.equal("vpn", e.type)
      assert.are.equal("WAN Miniport (SSTP)", e.device)   -- the strategy's device
      assert.are.equal("vpn.example.com", e.number)
      assert.are.same({ "eap", "mschapv2" }, sorted(e.auth))
      assert.is_false(e.default_gateway)
      assert.are.same({ "10.1.1.1", "10.1.1.2" }, e.dns)
      assert.is_false(e.use_peer_dns)
      assert.is_true(e.ipv4)
      assert.are.equal(900, e.idle_disconnect)
      assert.are.equal("alice", e.username)
      if WINVER >= 0x500 then
        assert.are.equal("sstp", e.vpn)
        assert.are.equal("required", e.encryption)
      end
      if WINVER >= 0x501 then
        assert.are.same({ attempts = 5, interval = 30 }, e.redial)
      end
      if WINVER >= 0x600 then
        assert.is_boolean(e.ipv6)   -- Vista's layout has RASNP_Ipv6
      else
        assert.is_nil(e.ipv6)       -- an older layout has no field for it
      end
    end)

    it("defaults a modem entry's device to the first modem RasEnumDevicesW lists", function()
      local name = fresh("Dial-up")
      assert.is_true(ctx.create_entry { name = name, type = "modem", number = "5550199" })
      local e = assert(ctx.entry(name))
      assert.are.equal("modem", e.type)
      assert.are.equal("Test Double Modem", e.device)
      assert.are.equal("5550199", e.number)
      assert.is_true(e.use_peer_dns)
    end)

    it("keeps IPv6 name servers where the layout has them, else says which property", function()
      local name = fresh("Dual stack")
      local ok, msg, code = ctx.create_entry { name = name, type = "vpn",
                                               dns = { "10.0.0.53", "fd00::53" } }
      if WINVER >= 0x600 then
        assert.is_true(ok, msg)
        assert.are.same({ "10.0.0.53", "fd00::53" }, ctx.entry(name).dns)
      else
        assert.is_nil(ok)
        assert.are.equal(120, code)
        assert.matches("'dns'", msg)
        assert.are.equal(623, select(3, ctx.entry(name)))   -- nothing was written
      end
    end)

    it("answers 183 for a name that exists, and changes nothing", function()
      local name = fresh("Twice")
      assert.is_true(ctx.create_entry { name = name, type = "vpn", number = "one.example" })
      local ok, msg, code = ctx.create_entry { name = name, type = "vpn", number = "two.example" }
      assert.is_nil(ok)
      assert.are.equal(183, code)
      assert.is_string(msg)
      assert.are.equal("one.example", ctx.entry(name).number)
      assert.are.equal(183, select(3, ctx.create_entry { name = "ok", type = "modem" }))
    end)

    it("raises for what win32 cannot express, naming it, before anything is written", function()
      local name = fresh("Refused")
      local ok, err = pcall(ctx.create_entry, { name = name, type = "modem",
                                                pppd_options = { "noauth" } })
      assert.is_false(ok)
      assert.matches("pppd_options", err)
      ok, err = pcall(ctx.create_entry, { name = name, type = "vpn",
                                          dns = { "10.0.0.1", "10.0.0.2", "10.0.0.3" } })
      assert.is_false(ok)
      assert.matches("'dns'", err)
      ok, err = pcall(ctx.create_entry, { name = name, type = "vpn",
                                          redial = { attempts = 1, interval = 2 ^ 40 } })
      assert.is_false(ok)
      assert.matches("'redial'", err)
      assert.is_true(ctx.validate_entry_name(name))   -- still free
    end)

    it("takes an idle time beyond any number of seconds as never", function()
      local name = fresh("Forever")
      assert.is_true(ctx.create_entry { name = name, type = "vpn", idle_disconnect = 2 ^ 40 })
      assert.are.equal(0, ctx.entry(name).idle_disconnect)
    end)

    it("answers 123 for a name Windows does not take", function()
      for _, bad in ipairs { "a/b", "back\\slash", ".hidden", "tab\tname", "colon:" } do
        local ok, _, code = ctx.create_entry { name = bad, type = "vpn" }
        assert.is_nil(ok, bad)
        assert.are.equal(123, code, bad)
      end
    end)

    it("keeps phonebooks apart", function()
      local name, book = fresh("Booked"), "C:\\Users\\Ünïcode\\other.pbk"
      assert.is_true(ctx.create_entry { name = name, phonebook = book, type = "vpn",
                                        number = "b.example" })
      assert.are.equal(623, select(3, ctx.entry(name)))
      local e = assert(ctx.entry(name, book))
      assert.are.equal("b.example", e.number)
      local listed = {}
      for _, item in ipairs(ctx.entries(book)) do listed[item.name] = item.phonebook end
      assert.are.equal(book, listed[name])
    end)

    it("reads a built-in entry the module never wrote", function()
      local e = assert(ctx.entry("ok"))
      assert.are.equal("modem", e.type)
      assert.are.equal("5550100", e.number)
      assert.are.equal(623, select(3, ctx.entry("no such entry")))
    end)
  end)

  describe("update_entry", function()
    it("changes only the given properties", function()
      local name = fresh("Changing")
      assert.is_true(ctx.create_entry { name = name, type = "vpn", vpn = "pptp",
                                        number = "old.example", auth = { "mschapv2" },
                                        idle_disconnect = 60 })
      local before = assert(ctx.entry(name))
      assert.is_true(ctx.update_entry(name, { number = "new.example", idle_disconnect = 0 }))
      local after = assert(ctx.entry(name))
      assert.are.equal("new.example", after.number)
      assert.are.equal(0, after.idle_disconnect)      -- "never" survives the round trip
      before.number, before.idle_disconnect = after.number, after.idle_disconnect
      assert.are.same(before, after)
    end)

    it("gives an entry whose type changes that type's device, unless one is given", function()
      local name = fresh("Retyped")
      assert.is_true(ctx.create_entry { name = name, type = "vpn", vpn = "ikev2" })
      assert.are.equal("WAN Miniport (IKEv2)", ctx.entry(name).device)
      assert.is_true(ctx.update_entry(name, { type = "vpn" }))   -- the same: kept
      assert.are.equal("WAN Miniport (IKEv2)", ctx.entry(name).device)
      assert.is_true(ctx.update_entry(name, { type = "modem", number = "5550123" }))
      local e = assert(ctx.entry(name))
      assert.are.equal("modem", e.type)
      assert.are.equal("Test Double Modem", e.device)
      assert.is_nil(e.vpn)
      assert.is_true(ctx.update_entry(name, { type = "broadband", device = "My PPPoE" }))
      assert.are.equal("My PPPoE", ctx.entry(name).device)
    end)

    it("passes an entry's device-specific data back unchanged", function()
      -- The double reports a protocol violation (failing the run) otherwise.
      local e = assert(ctx.entry("Seeded VPN"))
      assert.are.equal("vpn", e.type)
      assert.are.equal("WAN Miniport (SSTP)", e.device)
      assert.are.equal(600, e.idle_disconnect)
      assert.is_true(ctx.update_entry("Seeded VPN", { number = "other.example.com" }))
      assert.are.equal("other.example.com", ctx.entry("Seeded VPN").number)
      assert.are.equal("WAN Miniport (SSTP)", ctx.entry("Seeded VPN").device)
    end)

    it("answers 623 for a missing entry, and raises for pppd_options", function()
      assert.are.equal(623, select(3, ctx.update_entry("missing " .. serial, { number = "x" })))
      local name = fresh("Plain")
      assert.is_true(ctx.create_entry { name = name, type = "vpn" })
      local ok, err = pcall(ctx.update_entry, name, { pppd_options = { "debug" } })
      assert.is_false(ok)
      assert.matches("pppd_options", err)
    end)
  end)

  describe("rename_entry, delete_entry, validate_entry_name", function()
    it("rename moves the entry and its saved credentials", function()
      local old, new = fresh("Before"), fresh("After")
      assert.is_true(ctx.create_entry { name = old, type = "vpn", number = "r.example" })
      assert.is_true(ctx.set_credentials(old, { username = "carol", password = SECRET }))
      assert.is_true(ctx.rename_entry(old, new))
      assert.are.equal(623, select(3, ctx.entry(old)))
      assert.are.equal("r.example", ctx.entry(new).number)
      local cred = assert(ctx.credentials(new))
      assert.are.equal("carol", cred.username)
      assert.is_true(cred.saved_password)
    end)

    it("rename answers 623, 183 and 123", function()
      local a, b = fresh("A"), fresh("B")
      assert.is_true(ctx.create_entry { name = a, type = "vpn" })
      assert.is_true(ctx.create_entry { name = b, type = "vpn" })
      assert.are.equal(623, select(3, ctx.rename_entry("gone " .. serial, fresh("C"))))
      assert.are.equal(183, select(3, ctx.rename_entry(a, b)))
      assert.are.equal(183, select(3, ctx.rename_entry(a, b:upper())))   -- names ignore case
      assert.are.equal(123, select(3, ctx.rename_entry(a, "x|y")))
      assert.is_table(ctx.entry(a))
    end)

    it("delete removes the entry once", function()
      local name = fresh("Doomed")
      assert.is_true(ctx.create_entry { name = name, type = "vpn" })
      assert.is_true(ctx.delete_entry(name))
      assert.are.equal(623, select(3, ctx.entry(name)))
      assert.are.equal(623, select(3, ctx.delete_entry(name)))
      assert.is_true(ctx.validate_entry_name(name))
    end)

    it("validate says free, 183 (exists) or 123 (not a name)", function()
      local name = fresh("Validated")
      assert.is_true(ctx.validate_entry_name(name))
      assert.is_true(ctx.create_entry { name = name, type = "vpn" })
      assert.are.equal(183, select(3, ctx.validate_entry_name(name)))
      assert.are.equal(183, select(3, ctx.validate_entry_name("ok")))
      for _, bad in ipairs { ".dot", "a\nb", "q?", "nul\0byte", "", string.rep("x", 300) } do
        assert.are.equal(123, select(3, ctx.validate_entry_name(bad)), bad)
      end
    end)
  end)

  describe("credentials", function()
    it("saves and reads them without a secret ever coming back", function()
      local name = fresh("Secured")
      assert.is_true(ctx.create_entry { name = name, type = "vpn", vpn = "l2tp" })
      assert.are.same({ saved_password = false, saved_psk = false }, ctx.credentials(name))
      assert.is_true(ctx.set_credentials(name, { username = "bob", password = SECRET,
                                                 domain = "CORP" }))
      assert.is_true(ctx.set_credentials(name, { psk = SECRET .. "-psk" }))
      local cred = assert(ctx.credentials(name))
      assert.are.same({ username = "bob", domain = "CORP", saved_password = true,
                        saved_psk = true }, cred)
      assert_no_secret({ cred, ctx.entry(name), ctx.entries() }, "pa55")
      -- only the given fields change
      assert.is_true(ctx.set_credentials(name, { domain = "LAB" }))
      cred = assert(ctx.credentials(name))
      assert.are.equal("bob", cred.username)
      assert.are.equal("LAB", cred.domain)
      assert.is_true(cred.saved_password)
    end)

    it("clears them", function()
      local name = fresh("Cleared")
      assert.is_true(ctx.create_entry { name = name, type = "vpn", vpn = "l2tp" })
      assert.is_true(ctx.set_credentials(name, { username = "dave", password = SECRET,
                                                 psk = "k" }))
      assert.is_true(ctx.clear_credentials(name))
      assert.are.same({ saved_password = false, saved_psk = false }, ctx.credentials(name))
    end)

    it("answers 623 for a missing entry and raises for oversized fields", function()
      assert.are.equal(623, select(3, ctx.credentials("nobody " .. serial)))
      assert.are.equal(623, select(3, ctx.set_credentials("nobody " .. serial,
                                                           { password = SECRET })))
      local name = fresh("Sized")
      assert.is_true(ctx.create_entry { name = name, type = "vpn" })
      local ok, err = pcall(ctx.set_credentials, name, { domain = string.rep("d", 16) })
      assert.is_false(ok)
      assert.matches("domain", err)
      ok, err = pcall(ctx.set_credentials, name, { password = string.rep("p", 257) })
      assert.is_false(ok)
      assert.matches("password", err)
      assert.is_nil(err:find("ppppppppp", 1, true), "the password is not echoed")
    end)
  end)

  describe("a dial of an entry without a password", function()
    -- "authfail" takes user "user" and password "right" only.
    local function dial_ends(params)
      local conn = assert(ctx.dial(params))
      local ev = conn:wait(10)
      if ev.state == "Connected" then conn:hangup() end
      return ev
    end

    -- The double gives an entry with saved credentials an account: user
    -- "user", password "right".
    it("uses the saved user name and password (through Windows' handle)", function()
      local name = "authfail;step=1"   -- a scenario name: it exists in every phonebook
      assert.are.equal(691, dial_ends { entry = name }.error)   -- nothing saved yet
      assert.is_true(ctx.set_credentials(name, { username = "user", password = "right" }))
      assert.are.equal("Connected", dial_ends { entry = name }.state)
    end)

    it("does not with saved_credentials = false, nor when a password is given", function()
      local name = fresh("Saved")
      assert.is_true(ctx.create_entry { name = name, type = "modem" })
      assert.is_true(ctx.set_credentials(name, { username = "user", password = "right" }))
      assert.are.equal("Connected", dial_ends { entry = name }.state)
      assert.are.equal(691, dial_ends { entry = name, saved_credentials = false }.error)
      assert.are.equal(691, dial_ends { entry = name, password = "wrong" }.error)
      assert.are.equal("Connected", dial_ends { entry = name, username = "user" }.state)
    end)
  end)
end)
