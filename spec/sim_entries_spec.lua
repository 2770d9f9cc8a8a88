-- The simulator's phone books (issue 11): what only the simulator can show
-- exactly. Seeded and created entries, several phone books, entries that
-- change under live connections, its name rules, and how dials use saved
-- credentials and the entry's user name.
local ras = require "ras"

local function sim(entries, options)
  options = options or {}
  options.entries = entries or {}
  return assert(ras.open("sim", options))
end

local function last_event(conn)
  local last
  for ev in conn:states() do last = ev end
  return last
end

local ALL = {
  name = "Full", type = "vpn", device = "WAN Miniport (SSTP)", number = "vpn.example.com",
  vpn = "sstp", auth = { "pap", "mschapv2" }, encryption = "required", default_gateway = false,
  dns = { "192.0.2.53", "2001:db8::1" }, use_peer_dns = false, ipv4 = true, ipv6 = false,
  idle_disconnect = 900, redial = { attempts = 4, interval = 2.5 }, username = "frank",
  pppd_options = { "mtu", "1400", "noccp" },
}

describe("the simulator's entries", function()
  it("reads a seeded entry as a modem on its scenario's device", function()
    local ctx = sim { A = {}, B = { device_name = "USB Modem" } }
    assert.are.same({ name = "A", phonebook = "sim", type = "modem", device = "Simulated Modem" },
                    ctx.entry("A"))
    assert.are.same({ name = "B", phonebook = "sim", type = "modem", device = "USB Modem" },
                    ctx.entry("B"))
  end)

  it("gives back exactly the properties it was given, every one at once", function()
    local ctx = sim()
    assert.is_true(ctx.create_entry(ALL))
    local expected = {}
    for k, v in pairs(ALL) do expected[k] = v end
    expected.phonebook = "sim"
    assert.are.same(expected, ctx.entry("Full"))
    assert.are.same({ { name = "Full", phonebook = "sim" } }, ctx.entries())
  end)

  it("gives a created entry the default scenario", function()
    local ctx = sim()
    assert.is_true(ctx.create_entry { name = "New", type = "modem" })
    local conn = assert(ctx.dial { entry = "New" })
    local states = {}
    for ev in conn:states() do states[#states + 1] = ev.state end
    assert.are.same({ "OpenPort", "PortOpened", "ConnectDevice", "DeviceConnected",
                      "AllDevicesConnected", "Authenticate", "AuthNotify", "Authenticated",
                      "AuthProject", "Projected", "Connected" }, states)
    assert.are.equal("Simulated Modem", assert(conn:status()).device_name)
    conn:hangup()
  end)

  it("keeps phone books apart and makes one on the first entry created in it", function()
    local ctx = sim { A = {} }
    assert.are.same({}, ctx.entries("work.pbk"))
    assert.is_true(ctx.create_entry { name = "A", phonebook = "work.pbk", type = "vpn", number = "w" })
    assert.is_true(ctx.create_entry { name = "W", phonebook = "work.pbk", type = "broadband" })
    assert.are.same({ { name = "A", phonebook = "work.pbk" }, { name = "W", phonebook = "work.pbk" } },
                    ctx.entries("work.pbk"))
    assert.are.same({ { name = "A", phonebook = "sim" } }, ctx.entries())
    assert.are.equal("vpn", ctx.entry("A", "work.pbk").type)
    assert.are.equal("modem", ctx.entry("A").type)
    local _, _, code = ctx.entry("W")
    assert.are.equal(623, code)
    local conn = assert(ctx.dial { entry = "W", phonebook = "work.pbk" })
    assert.are.equal("work.pbk", conn.phonebook)
    assert.are.equal("Connected", last_event(conn).state)
    assert.are.equal("work.pbk", ctx.connections()[1].phonebook)
    conn:hangup()
    _, _, code = ctx.dial { entry = "W" }
    assert.are.equal(623, code)
    assert.is_true(ctx.rename_entry("W", "W2", "work.pbk"))
    assert.is_true(ctx.delete_entry("A", "work.pbk"))
    assert.are.same({ { name = "W2", phonebook = "work.pbk" } }, ctx.entries("work.pbk"))
    assert.is_truthy(ctx.entry("A"))
    assert.is_true(ctx.validate_entry_name("A", "work.pbk"))
    _, _, code = ctx.validate_entry_name("A")
    assert.are.equal(183, code)
  end)

  it("lists entries sorted by name after creates and renames", function()
    local ctx = sim { m = {}, c = {} }
    for _, name in ipairs { "z", "a", "k" } do assert.is_true(ctx.create_entry { name = name, type = "modem" }) end
    assert.is_true(ctx.rename_entry("z", "b"))
    local names = {}
    for _, e in ipairs(ctx.entries()) do names[#names + 1] = e.name end
    assert.are.same({ "a", "b", "c", "k", "m" }, names)
  end)

  it("leaves a connection up when its entry is renamed or deleted", function()
    local ctx = sim { Live = { step = 0 } }
    local conn = assert(ctx.dial { entry = "Live" })
    local ev
    repeat ev = conn:next(5) until not ev or ev.state == "Connected"
    assert.are.equal("Connected", ev and ev.state)
    assert.is_true(ctx.rename_entry("Live", "Renamed"))
    assert.are.equal("Live", ctx.connections()[1].entry)   -- the object keeps the name it dialled
    assert.is_true(ctx.delete_entry("Renamed"))
    assert.are.same({}, ctx.entries())
    assert.are.equal("Connected", assert(conn:status()).state)
    assert.is_true(rawequal(conn, ctx.connections()[1]))
    assert.is_true(conn:hangup())
    assert.are.same({}, ctx.connections())
  end)

  it("applies its name rules to created and renamed entries, and takes seeded ones as given", function()
    local ctx = sim { [".seeded"] = { step = 0 } }
    assert.are.equal(".seeded", ctx.entries()[1].name)
    assert.is_true(ctx.validate_entry_name(string.rep("n", 256)))
    assert.is_true(ctx.create_entry { name = string.rep("n", 256), type = "modem" })
    for name, why in pairs { [".hidden"] = "begins with a dot", ["a\\b"] = "slash or a backslash",
                             ["a/b"] = "slash", ["bell\7"] = "control character",
                             ["del\127"] = "control character" } do
      local ok, msg, code = ctx.validate_entry_name(name)
      assert.is_nil(ok)
      assert.are.equal(123, code)
      assert.matches(why, msg, 1, true)
      ok, msg, code = ctx.create_entry { name = name, type = "modem" }
      assert.is_nil(ok)
      assert.matches(why, msg, 1, true)
      assert.are.equal(123, code)
      ok, msg, code = ctx.rename_entry(".seeded", name)
      assert.is_nil(ok)
      assert.matches(why, msg, 1, true)
      assert.are.equal(123, code)
    end
    assert.are.equal(2, #ctx.entries())
  end)

  it("drops vpn when update_entry sets another type, and refuses vpn for a modem", function()
    local ctx = sim()
    assert.is_true(ctx.create_entry { name = "T", type = "vpn", vpn = "l2tp" })
    assert.is_true(ctx.update_entry("T", { type = "modem" }))
    local e = ctx.entry("T")
    assert.are.equal("modem", e.type)
    assert.is_nil(e.vpn)
    local ok, err = pcall(ctx.update_entry, "T", { vpn = "pptp" })
    assert.is_false(ok)
    assert.matches("bad property 'vpn' (needs type \"vpn\")", tostring(err), 1, true)
    assert.is_true(ctx.update_entry("T", { type = "vpn", vpn = "ikev2" }))
    assert.are.equal("ikev2", ctx.entry("T").vpn)
  end)

  it("reads a huge idle_disconnect as never (0) and a huge redial interval as 10^9 s", function()
    local ctx = sim()
    assert.is_true(ctx.create_entry { name = "H", type = "modem", idle_disconnect = math.huge,
                                      redial = { attempts = 999, interval = 1e300 } })
    local e = ctx.entry("H")
    assert.are.equal(0, e.idle_disconnect)
    assert.are.same({ attempts = 999, interval = 1e9 }, e.redial)
  end)

  it("writes nothing when reading the properties raises (a hostile __index)", function()
    local ctx = sim()
    local props = setmetatable({ name = "Hostile", type = "vpn" }, { __index = function(_, k)
      if k == "username" then error("boom from __index") end
    end })
    local ok, err = pcall(ctx.create_entry, props)
    assert.is_false(ok)
    assert.matches("boom from __index", tostring(err), 1, true)
    assert.are.same({}, ctx.entries())
    assert.is_true(ctx.create_entry(setmetatable({ name = "Inherited" }, { __index = { type = "direct" } })))
    assert.are.equal("direct", ctx.entry("Inherited").type)
  end)

  it("keeps dns and use_peer_dns from contradicting each other across updates", function()
    local ctx = sim()
    assert.is_true(ctx.create_entry { name = "D", type = "vpn", use_peer_dns = true })
    assert.is_true(ctx.update_entry("D", { dns = { "192.0.2.1" } }))
    local e = ctx.entry("D")
    assert.are.same({ "192.0.2.1" }, e.dns)
    assert.is_false(e.use_peer_dns)
    assert.is_true(ctx.update_entry("D", { use_peer_dns = true }))
    e = ctx.entry("D")
    assert.are.same({}, e.dns)
    assert.is_true(e.use_peer_dns)
  end)

  it("starts with no saved credentials: the scenario's are what the server expects", function()
    local ctx = sim { S = { username = "user", password = "right" } }
    assert.are.same({ saved_password = false, saved_psk = false }, ctx.credentials("S"))
    local conn = assert(ctx.dial { entry = "S" })
    assert.are.equal(691, last_event(conn).error)
  end)
end)

describe("the simulator's dials of saved credentials", function()
  local ctx
  before_each(function()
    ctx = sim { S = { step = 0, username = "user", password = "right" } }
  end)

  it("use the saved user name unless the dial gives one", function()
    assert.is_true(ctx.set_credentials("S", { username = "user", password = "right" }))
    assert.are.equal("Connected", last_event(assert(ctx.dial { entry = "S" })).state)
    assert.are.equal(691, last_event(assert(ctx.dial { entry = "S", username = "mallory" })).error)
  end)

  it("use the entry's username property when nothing else names one", function()
    assert.is_true(ctx.update_entry("S", { username = "user" }))
    assert.is_true(ctx.set_credentials("S", { password = "right" }))
    assert.are.equal("Connected", last_event(assert(ctx.dial { entry = "S" })).state)
    assert.are.equal(691, last_event(assert(ctx.dial { entry = "S", saved_credentials = false })).error)
    assert.are.equal("Connected",
                     last_event(assert(ctx.dial { entry = "S", saved_credentials = false, password = "right" })).state)
  end)

  it("are not used when the dial gives a password", function()
    assert.is_true(ctx.set_credentials("S", { username = "user", password = "right" }))
    assert.are.equal(691, last_event(assert(ctx.dial { entry = "S", password = "wrong" })).error)
  end)

  it("with saved_credentials = false pause in RetryAuthentication under paused_states", function()
    assert.is_true(ctx.set_credentials("S", { username = "user", password = "right" }))
    local conn = assert(ctx.dial { entry = "S", saved_credentials = false, paused_states = true })
    local ev
    repeat ev = conn:next(5) until not ev or ev.group ~= "running"
    assert.are.equal("RetryAuthentication", ev.state)
    assert.is_true(conn:resume { username = "user", password = "right" })
    assert.are.equal("Connected", last_event(conn).state)
  end)

  it("keep an empty password as a saved one, and forget all on clear", function()
    assert.is_true(ctx.set_credentials("S", { password = "" }))
    assert.is_true(ctx.credentials("S").saved_password)
    assert.are.equal(691, last_event(assert(ctx.dial { entry = "S" })).error)
    assert.is_true(ctx.clear_credentials("S"))
    assert.are.same({ saved_password = false, saved_psk = false }, ctx.credentials("S"))
  end)

  it("belong to their phone book", function()
    assert.is_true(ctx.create_entry { name = "S", phonebook = "other", type = "modem" })
    assert.is_true(ctx.set_credentials("S", { username = "user", password = "right" }, "other"))
    assert.are.same({ saved_password = false, saved_psk = false }, ctx.credentials("S"))
    assert.are.equal("user", ctx.credentials("S", "other").username)
    assert.are.equal(691, last_event(assert(ctx.dial { entry = "S" })).error)
  end)

  it("follow the entry through a rename and go with a delete", function()
    assert.is_true(ctx.set_credentials("S", { username = "user", password = "right" }))
    assert.is_true(ctx.rename_entry("S", "S2"))
    assert.is_true(ctx.credentials("S2").saved_password)
    assert.are.equal("Connected", last_event(assert(ctx.dial { entry = "S2" })).state)
    assert.is_true(ctx.delete_entry("S2"))
    assert.is_true(ctx.create_entry { name = "S2", type = "modem" })
    assert.is_false(ctx.credentials("S2").saved_password)
  end)
end)
