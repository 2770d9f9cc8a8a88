-- The module table: version, backends, contexts, state tables and helpers.
local ras = require "ras"
local fixture = require "support.fixture"

describe("the module", function()
  it("has a version and names its backend", function()
    assert.matches("^%d+%.%d+%.%d+$", ras._VERSION)
    assert.is_string(ras.backend)
    local names = ras.backends()
    assert.is_true(#names >= 1)
    assert.are.equal("sim", names[#names])
    local found = false
    for _, n in ipairs(names) do found = found or n == ras.backend end
    assert.is_true(found, "the default backend is one of ras.backends()")
  end)

  it("opens contexts that carry the same functions as the module", function()
    local ctx = fixture.context()
    assert.are.equal(fixture.backend, ctx.backend)
    for name, f in pairs(ras) do
      if type(f) == "function" then
        assert.is_function(ctx[name], name)
      end
    end
    assert.are.equal(ras._VERSION, ctx._VERSION)
  end)

  it("returns nil and a message for an unknown backend", function()
    local ctx, msg, code = ras.open("carrier-pigeon")
    assert.is_nil(ctx)
    assert.matches("carrier%-pigeon", msg)
    assert.is_number(code)
  end)

  it("maps every documented state name to its number", function()
    local expected = {
      OpenPort = 0, PortOpened = 1, ConnectDevice = 2, DeviceConnected = 3,
      AllDevicesConnected = 4, Authenticate = 5, AuthNotify = 6, AuthRetry = 7,
      AuthCallback = 8, AuthChangePassword = 9, AuthProject = 10,
      AuthLinkSpeed = 11, AuthAck = 12, ReAuthenticate = 13, Authenticated = 14,
      PrepareForCallback = 15, WaitForModemReset = 16, WaitForCallback = 17,
      Projected = 18, StartAuthentication = 19, CallbackComplete = 20,
      LogonNetwork = 21, SubEntryConnected = 22, SubEntryDisconnected = 23,
      ApplySettings = 24, Interactive = 0x1000, RetryAuthentication = 0x1001,
      CallbackSetByCaller = 0x1002, PasswordExpired = 0x1003,
      InvokeEapUI = 0x1004, Connected = 0x2000, Disconnected = 0x2001,
    }
    assert.are.same(expected, ras.states)
    for name, value in pairs(expected) do
      assert.are.equal(name, ras.state_name(value))
    end
    assert.is_nil(ras.state_name(99))
  end)

  it("groups states into running, paused and terminal", function()
    assert.are.equal("running", ras.state_group("OpenPort"))
    assert.are.equal("running", ras.state_group(24))
    assert.are.equal("paused", ras.state_group("RetryAuthentication"))
    assert.are.equal("paused", ras.state_group(0x1004))
    assert.are.equal("terminal", ras.state_group("Connected"))
    assert.are.equal("terminal", ras.state_group(0x2001))
    assert.has_error(function() ras.state_group("Dancing") end)
    assert.has_error(function() ras.state_group(77) end)
  end)

  it("has a text for every error code of the reference", function()
    for _, code in ipairs { 6, 603, 619, 623, 628, 629, 633, 638, 651, 668,
                            676, 678, 679, 680, 691, 703, 718, 734, 756, 800,
                            807, 809 } do
      local text = ras.error_message(code)
      assert.is_string(text)
      assert.is_nil(text:match("^RAS error"), "code " .. code .. " has a text")
    end
    assert.matches("691", ras.error_message(691) .. " 691")
    assert.are.equal("RAS error 12345", ras.error_message(12345))
  end)

  it("has a monotonic clock in seconds", function()
    local a = ras.now()
    local b = ras.now()
    assert.is_number(a)
    assert.is_true(b >= a)
  end)
end)
