-- Phone-book entries and saved credentials (issue 11), on every backend:
-- every function, every property, every error, name validation, and saved
-- credentials whose secrets never reach a string. A property the backend
-- cannot express must be refused naming it (then its round trip is
-- pending there); the simulator expresses every one.
local fixture = require "support.fixture"

local sim = fixture.backend == "sim"
local unpack = table.unpack or unpack  -- luacheck: ignore 113 (5.1's global)

local PASSWORD = "Pw-xyzzy-'\"\\ #;q"
local PSK = "Psk-plugh-'\"\\ #;q"

-- Entry names this run makes, deleted after each test.
local made, serial = {}, 0
local function fresh(prefix)
  serial = serial + 1
  local name = string.format("%s-%d-%d", prefix or "ras-spec", os.time() % 100000, serial)
  made[#made + 1] = name
  return name
end

-- A vpn entry every backend can make (PPTP is a pppd dial and a Windows one).
local function base(name, extra)
  local props = { name = name, type = "vpn", vpn = "pptp", number = "192.0.2.1" }
  for k, v in pairs(extra or {}) do props[k] = v end
  return props
end

-- Whether err is the backend's refusal of property `prop` (a raised
-- "bad property 'prop...'"), and never on the simulator.
local function refusal(err, prop)
  local s = tostring(err)
  return not sim and s:find("bad property '" .. prop, 1, true) ~= nil
end

-- Creates props; returns true, or "refused" when the backend cannot
-- express `prop`, or raises.
local function create(ctx, props, prop)
  local ok, r, msg, code = pcall(ctx.create_entry, props)
  if not ok then
    if prop and refusal(r, prop) then return "refused" end
    error(r, 0)
  end
  if r == nil and code == 120 and not sim then return "refused" end
  assert(r, "create_entry failed: " .. tostring(msg) .. " (" .. tostring(code) .. ")")
  return true
end

local function sorted(t)
  local copy = {}
  for i, v in ipairs(t) do copy[i] = v end
  table.sort(copy)
  return copy
end

-- The entry's value of a property, comparable with what was set.
local function comparable(v)
  if type(v) == "table" and #v > 0 then return sorted(v) end
  return v
end

local function entries_named(ctx, name, phonebook)
  local n = 0
  for _, e in ipairs(assert(ctx.entries(phonebook))) do
    if e.name == name then n = n + 1 end
  end
  return n
end

-- Every string reachable from v.
local function strings_of(v, out, seen)
  out, seen = out or {}, seen or {}
  if type(v) == "string" then out[#out + 1] = v
  elseif type(v) == "table" then
    if seen[v] then return out end
    seen[v] = true
    for k, x in pairs(v) do strings_of(k, out, seen); strings_of(x, out, seen) end
  elseif v ~= nil then out[#out + 1] = tostring(v) end
  return out
end

local function assert_no_secret(v, where)
  for _, s in ipairs(strings_of(v)) do
    for _, secret in ipairs { PASSWORD, PSK, "xyzzy", "plugh" } do
      assert(not s:find(secret, 1, true), where .. " shows a secret: " .. s)
    end
  end
end

describe("entries", function()
  local ctx
  before_each(function() ctx = fixture.context() end)
  after_each(function()
    for _, name in ipairs(made) do pcall(ctx.delete_entry, name) end
    made = {}
  end)

  describe("create_entry and entry", function()
    it("creates an entry that entry() and entries() then show", function()
      local name = fresh()
      assert.are.equal(0, entries_named(ctx, name))
      assert.is_true(create(ctx, base(name)))
      local e = assert(ctx.entry(name))
      assert.are.equal(name, e.name)
      assert.is_string(e.phonebook)
      assert.are.equal("vpn", e.type)
      assert.are.equal("192.0.2.1", e.number)
      assert.are.equal(1, entries_named(ctx, name))
      assert.are.same(e, assert(ctx.entry(name, e.phonebook)))
    end)

    local types = {
      modem = { number = "5551234" },
      vpn = { number = "vpn.example.com" },
      broadband = { number = "isp-service" },
      direct = {},
    }
    for kind, extra in pairs(types) do
      it("round-trips type " .. kind, function()
        local name = fresh()
        local props = { name = name, type = kind }
        for k, v in pairs(extra) do props[k] = v end
        if create(ctx, props, "type") == "refused" then return pending(fixture.backend .. " has no " .. kind) end
        local e = assert(ctx.entry(name))
        assert.are.equal(kind, e.type)
        if extra.number then assert.are.equal(extra.number, e.number) end
      end)
    end

    local devices = { sim = "Simulated Modem", pppd = "/dev/ttyS0", win32 = "Standard Modem" }
    -- One property at a time over the base entry: what is set is what is read.
    local samples = {
      { "device", devices[fixture.backend] or "device", { type = "modem", vpn = false } },
      { "number", "vpn2.example.com" },
      { "vpn", "auto" }, { "vpn", "pptp" }, { "vpn", "l2tp" }, { "vpn", "sstp" }, { "vpn", "ikev2" },
      { "auth", { "pap" } }, { "auth", { "chap", "mschapv2" } }, { "auth", { "eap" } },
      { "auth", { "pap", "chap", "mschapv2", "eap" } },
      { "encryption", "none" }, { "encryption", "optional" }, { "encryption", "required" },
      { "encryption", "maximum" },
      { "default_gateway", true }, { "default_gateway", false },
      { "dns", { "192.0.2.53", "2001:db8::53" } }, { "dns", { "198.51.100.1" } },
      { "use_peer_dns", true }, { "use_peer_dns", false },
      { "ipv4", true }, { "ipv6", true }, { "ipv6", false },
      { "idle_disconnect", 300 }, { "idle_disconnect", 0 },
      { "redial", { attempts = 3, interval = 5 } },
      { "username", "alice" },
      { "pppd_options", { "mtu", "1400" } },
    }
    for _, sample in ipairs(samples) do
      local prop, value, over = sample[1], sample[2], sample[3]
      local shown = type(value) == "table" and table.concat(value, ",") or value
      it("round-trips " .. prop .. " = " .. tostring(shown), function()
        local name = fresh()
        local props = base(name, { [prop] = value })
        for k, v in pairs(over or {}) do props[k] = v or nil end
        if create(ctx, props, prop) == "refused" then return pending(fixture.backend .. " cannot express " .. prop) end
        local e = assert(ctx.entry(name))
        if prop == "redial" then
          assert.are.equal(value.attempts, e.redial.attempts)
          assert.are.equal(value.interval, e.redial.interval)
        else
          assert.are.same(comparable(value), comparable(e[prop]))
        end
      end)
    end

    it("fails with nil, message, 183 for a name in use and leaves the entry as it was", function()
      local name = fresh()
      assert.is_true(create(ctx, base(name)))
      local ok, msg, code = ctx.create_entry(base(name, { number = "203.0.113.9" }))
      assert.is_nil(ok)
      assert.is_string(msg)
      assert.are.equal(183, code)
      assert.are.equal("192.0.2.1", assert(ctx.entry(name)).number)
      assert.are.equal(1, entries_named(ctx, name))
    end)

    local bad = {
      { "unknown property 'servr'", { type = "vpn", servr = "x" } },
      { "bad property 'auth[2]'", { type = "vpn", auth = { "pap", "telnet" } } },
      { "bad property 'type'", { type = "carrier-pigeon" } },
      { "bad property 'type' (missing)", { number = "1" } },
      { "bad property 'vpn'", { type = "modem", vpn = "pptp" } },
      { "bad property 'dns'", { type = "vpn", dns = { "192.0.2.1; rm -rf /" } } },
      { "bad property 'dns'", { type = "vpn", dns = { "192.0.2.1\nplugin /tmp/evil.so" } } },
      { "bad property 'use_peer_dns'", { type = "vpn", dns = { "192.0.2.1" }, use_peer_dns = true } },
      { "bad property 'number'", { type = "vpn", number = string.rep("9", 129) } },
      { "bad property 'number'", { type = "vpn", number = "1\0002" } },
      { "bad property 'idle_disconnect'", { type = "vpn", idle_disconnect = -1 } },
      { "bad property 'redial.attempts'", { type = "vpn", redial = { attempts = 1.5 } } },
      { "bad property 'default_gateway'", { type = "vpn", default_gateway = "yes" } },
      { "bad property 'name'", { name = string.rep("n", 257), type = "vpn" } },
      { "bad property 'name'", { name = 42, type = "vpn" } },
    }
    for _, case in ipairs(bad) do
      it("raises " .. case[1] .. " before anything is written", function()
        local name = fresh()
        local props = case[2]
        if props.name == nil then props.name = name end
        local ok, err = pcall(ctx.create_entry, props)
        assert.is_false(ok)
        assert.matches(case[1], tostring(err), 1, true)
        local _, _, code = ctx.entry(name)
        assert.are.equal(623, code)
      end)
    end

    it("refuses dangerous names with 123 and writes nothing", function()
      local before = #assert(ctx.entries())
      for _, name in ipairs { "../x", "a/b", ".", "..", "a\nb", "tab\there" } do
        local ok, msg, code = ctx.create_entry { name = name, type = "vpn", number = "192.0.2.1" }
        assert.is_nil(ok, ("name %q"):format(name))
        assert.is_string(msg)
        assert.are.equal(123, code, ("name %q"):format(name))
      end
      local ok, err = pcall(ctx.create_entry, { name = "", type = "vpn" })
      assert.is_false(ok)
      assert.matches("bad property 'name' (empty)", tostring(err), 1, true)
      assert.are.equal(before, #assert(ctx.entries()))
    end)

    it("answers nil, message, 623 for a missing entry", function()
      local e, msg, code = ctx.entry("ras-spec no such entry")
      assert.is_nil(e)
      assert.is_string(msg)
      assert.are.equal(623, code)
    end)

    it("raises for a name that is not a string, has a NUL or is too long", function()
      for _, name in ipairs { 42, "a\0b", string.rep("n", 257) } do
        assert.is_false(pcall(ctx.entry, name))
      end
      assert.is_false(pcall(ctx.entry))
    end)
  end)

  describe("update_entry", function()
    it("changes only the given properties", function()
      local name = fresh()
      assert.is_true(create(ctx, base(name, { username = "alice", idle_disconnect = 60 })))
      assert.is_true(ctx.update_entry(name, { number = "198.51.100.7" }))
      local e = assert(ctx.entry(name))
      assert.are.equal("198.51.100.7", e.number)
      assert.are.equal("alice", e.username)
      assert.are.equal(60, e.idle_disconnect)
      assert.are.equal("pptp", e.vpn)
      assert.is_true(ctx.update_entry(name, { username = "bob", idle_disconnect = 0 }))
      e = assert(ctx.entry(name))
      assert.are.equal("198.51.100.7", e.number)
      assert.are.equal("bob", e.username)
      assert.are.equal(0, e.idle_disconnect)
    end)

    it("takes the phonebook as its third argument", function()
      local name = fresh()
      assert.is_true(create(ctx, base(name)))
      local pb = assert(ctx.entry(name)).phonebook
      assert.is_true(ctx.update_entry(name, { number = "198.51.100.8" }, pb))
      assert.are.equal("198.51.100.8", assert(ctx.entry(name, pb)).number)
    end)

    it("answers nil, message, 623 for a missing entry", function()
      local ok, msg, code = ctx.update_entry("ras-spec no such entry", { number = "1" })
      assert.is_nil(ok)
      assert.is_string(msg)
      assert.are.equal(623, code)
    end)

    it("raises for name and phonebook among the changes and for bad properties, changing nothing", function()
      local name = fresh()
      assert.is_true(create(ctx, base(name)))
      for _, case in ipairs {
        { "use rename_entry", { name = "other" } },
        { "bad property 'phonebook'", { phonebook = "x" } },
        { "bad property 'encryption'", { encryption = "rot13" } },
        { "unknown property 'nmuber'", { nmuber = "1" } },
      } do
        local ok, err = pcall(ctx.update_entry, name, case[2])
        assert.is_false(ok)
        assert.matches(case[1], tostring(err), 1, true)
      end
      assert.are.equal("192.0.2.1", assert(ctx.entry(name)).number)
    end)
  end)

  describe("rename_entry", function()
    it("moves the entry and its properties to the new name", function()
      local old, new = fresh(), fresh()
      assert.is_true(create(ctx, base(old, { username = "carol" })))
      assert.is_true(ctx.rename_entry(old, new))
      local _, _, code = ctx.entry(old)
      assert.are.equal(623, code)
      local e = assert(ctx.entry(new))
      assert.are.equal(new, e.name)
      assert.are.equal("carol", e.username)
      assert.are.equal(0, entries_named(ctx, old))
      assert.are.equal(1, entries_named(ctx, new))
    end)

    it("answers 623 for a missing entry, 183 for a name in use, 123 for an invalid one", function()
      local a, b = fresh(), fresh()
      assert.is_true(create(ctx, base(a)))
      assert.is_true(create(ctx, base(b)))
      local ok, msg, code = ctx.rename_entry("ras-spec no such entry", fresh())
      assert.is_nil(ok)
      assert.is_string(msg)
      assert.are.equal(623, code)
      ok, msg, code = ctx.rename_entry(a, b)
      assert.is_nil(ok)
      assert.is_string(msg)
      assert.are.equal(183, code)
      ok, msg, code = ctx.rename_entry(a, "../escape")
      assert.is_nil(ok)
      assert.is_string(msg)
      assert.are.equal(123, code)
      assert.is_truthy(ctx.entry(a))
      assert.is_truthy(ctx.entry(b))
    end)

    it("raises for an empty new name", function()
      local a = fresh()
      assert.is_true(create(ctx, base(a)))
      assert.is_false(pcall(ctx.rename_entry, a, ""))
      assert.is_truthy(ctx.entry(a))
    end)
  end)

  describe("delete_entry", function()
    it("removes the entry", function()
      local name = fresh()
      assert.is_true(create(ctx, base(name)))
      assert.is_true(ctx.delete_entry(name))
      local _, _, code = ctx.entry(name)
      assert.are.equal(623, code)
      assert.are.equal(0, entries_named(ctx, name))
      local ok, msg
      ok, msg, code = ctx.delete_entry(name)
      assert.is_nil(ok)
      assert.is_string(msg)
      assert.are.equal(623, code)
    end)
  end)

  describe("validate_entry_name", function()
    it("accepts a free valid name, answers 183 for one in use", function()
      local name = fresh()
      assert.is_true(ctx.validate_entry_name(name))
      assert.is_true(create(ctx, base(name)))
      local ok, msg, code = ctx.validate_entry_name(name)
      assert.is_nil(ok)
      assert.is_string(msg)
      assert.are.equal(183, code)
    end)

    it("answers 123 for names no backend can store", function()
      for _, name in ipairs { "", "a/b", "../x", ".", "..", "a\nb", "del\127", "a\0b", string.rep("n", 257) } do
        local ok, msg, code = ctx.validate_entry_name(name)
        assert.is_nil(ok, ("name %q"):format(name))
        assert.is_string(msg)
        assert.are.equal(123, code, ("name %q"):format(name))
        if #name >= 3 then assert.is_nil(msg:find(name, 1, true), "the message shows the name") end
      end
    end)

    it("accepts spaces, punctuation and UTF-8", function()
      for _, name in ipairs { "Office VPN", "a;b", "Büro (Köln) #2", "x-y_z.1" } do
        assert.is_true(ctx.validate_entry_name(name), name)
      end
    end)

    it("raises for a name that is not a string (a number reads as its text)", function()
      assert.is_false(pcall(ctx.validate_entry_name, {}))
      assert.is_true(ctx.validate_entry_name(42))
      assert.is_false(pcall(ctx.validate_entry_name))
    end)
  end)
end)

describe("saved credentials", function()
  local ctx
  before_each(function() ctx = fixture.context() end)
  after_each(function()
    pcall(ctx.clear_credentials, fixture.entry("ok"))
    for _, name in ipairs(made) do pcall(ctx.delete_entry, name) end
    made = {}
  end)

  local function supported()
    local name = fresh()
    assert.is_true(create(ctx, base(name)))
    local ok, _, code = ctx.set_credentials(name, { username = "probe" })
    if ok == nil and code == 120 and not sim then return nil end
    return name
  end

  it("reads back user name and domain, and only whether a password and a key are saved", function()
    local name = supported()
    if not name then return pending("no saved credentials on " .. fixture.backend) end
    local c = assert(ctx.credentials(name))
    assert.are.equal("probe", c.username)
    assert.is_false(c.saved_password)
    assert.is_false(c.saved_psk)
    assert.is_true(ctx.set_credentials(name, { username = "dave", password = PASSWORD, domain = "CORP" }))
    c = assert(ctx.credentials(name))
    assert.are.same({ username = "dave", domain = "CORP", saved_password = true, saved_psk = false }, c)
    local ok = ctx.set_credentials(name, { psk = PSK })
    if ok then
      c = assert(ctx.credentials(name))
      assert.is_true(c.saved_psk)
      assert.are.equal("dave", c.username)   -- only what is given changes
      assert.is_true(c.saved_password)
    end
    assert.is_true(ctx.clear_credentials(name))
    c = assert(ctx.credentials(name))
    assert.is_nil(c.username)
    assert.is_nil(c.domain)
    assert.is_false(c.saved_password)
    assert.is_false(c.saved_psk)
  end)

  it("answers nil, message, 623 for a missing entry", function()
    for _, call in ipairs {
      { ctx.credentials, "ras-spec no such entry" },
      { ctx.set_credentials, "ras-spec no such entry", { username = "u", password = PASSWORD } },
      { ctx.clear_credentials, "ras-spec no such entry" },
    } do
      local ok, msg, code = call[1](unpack(call, 2))
      if code == 120 and not sim then return pending("no saved credentials on " .. fixture.backend) end
      assert.is_nil(ok)
      assert.is_string(msg)
      assert.are.equal(623, code)
      assert_no_secret(msg, "the 623 message")
    end
  end)

  it("raises for bad credential fields without showing them", function()
    local name = fresh()
    assert.is_true(create(ctx, base(name)))
    for _, case in ipairs {
      { "nothing to set", {} },
      { "unknown credential 'pasword'", { pasword = PASSWORD } },
      { "bad credential 'password'", { password = PASSWORD .. "\0" } },
      { "bad credential 'password'", { password = PASSWORD .. string.rep("x", 300) } },
      { "bad credential 'psk'", { psk = 42 } },
      { "bad credential 'domain'", { password = PASSWORD, domain = string.rep("d", 16) } },
    } do
      local ok, err = pcall(ctx.set_credentials, name, case[2])
      assert.is_false(ok)
      assert.matches(case[1], tostring(err), 1, true)
      assert_no_secret(err, "the error " .. case[1])
    end
    local c = ctx.credentials(name)
    if c then assert.is_false(c.saved_password) end
  end)

  it("let a dial without a password connect, unless saved_credentials = false", function()
    local entry = fixture.entry("ok")
    local ok, _, code = ctx.set_credentials(entry, { username = fixture.user, password = fixture.password })
    if ok == nil and code == 120 and not sim then return pending("no saved credentials on " .. fixture.backend) end
    assert.is_true(ok)
    local conn = assert(ctx.dial { entry = entry })
    local states = fixture.collect(conn)
    assert.are.equal("Connected", states[#states])
    conn:hangup()
    conn = assert(ctx.dial { entry = entry, saved_credentials = false })
    local last
    for ev in conn:states() do last = ev end
    assert.are.equal("Disconnected", last.state)
    assert.are.equal(691, last.error)
    conn:hangup()
  end)

  it("a wrong saved password fails authentication (691)", function()
    local entry = fixture.entry("ok")
    local ok, _, code = ctx.set_credentials(entry, { username = fixture.user, password = PASSWORD })
    if ok == nil and code == 120 and not sim then return pending("no saved credentials on " .. fixture.backend) end
    local conn = assert(ctx.dial { entry = entry })
    local last
    for ev in conn:states() do
      assert_no_secret(ev, "event " .. ev.state)
      last = ev
    end
    assert.are.equal(691, last.error)
    conn:hangup()
  end)

  it("never shows a password or key: entry(), credentials(), entries(), tostring, status, failures", function()
    local name = supported()
    if not name then return pending("no saved credentials on " .. fixture.backend) end
    assert.is_true(ctx.set_credentials(name, { username = "erin", password = PASSWORD }))
    pcall(ctx.set_credentials, name, { psk = PSK })
    local seen = {
      ctx.entry(name), ctx.credentials(name), ctx.entries(), tostring(ctx),
      { ctx.set_credentials("ras-spec no such entry", { password = PASSWORD, psk = PSK }) },
      { pcall(ctx.set_credentials, name, { password = PASSWORD, psk = PSK, x = 1 }) },
      { pcall(ctx.set_credentials, name, { password = PASSWORD .. "\0" .. PSK }) },
      { ctx.validate_entry_name(name) },
      { ctx.rename_entry(name, name) },
    }
    local entry = fixture.entry("ok")
    if ctx.set_credentials(entry, { username = fixture.user, password = PASSWORD }) then
      local conn = assert(ctx.dial { entry = entry })
      for ev in conn:states() do seen[#seen + 1] = ev end
      seen[#seen + 1] = tostring(conn)
      seen[#seen + 1] = { conn:status() }
      seen[#seen + 1] = ctx.connections()
      conn:hangup()
    end
    assert_no_secret(seen, "a result")
  end)
end)
