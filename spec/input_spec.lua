-- Bad input: a clear error naming the argument, and nothing started.
local fixture = require "support.fixture"

describe("bad input", function()
  local ctx
  before_each(function() ctx = fixture.context() end)

  local function rejects(params, pattern)
    local before = #ctx.connections()
    local ok, err = pcall(ctx.dial, params)
    assert.is_false(ok, "dial accepted bad input")
    assert.matches(pattern, err)
    assert.are.equal(before, #ctx.connections(), "nothing was started")
  end

  it("requires a table", function()
    rejects(nil, "table expected")
    rejects("ok", "table expected")
  end)

  it("requires an entry or a number", function()
    rejects({ username = "u" }, "'entry'")
  end)

  it("names an unknown key", function()
    rejects({ entry = "ok", pasword = "x" }, "unknown parameter 'pasword'")
    rejects({ entry = "ok", [1] = "x" }, "unknown parameter '1'")
  end)

  local strings = { "entry", "phonebook", "number", "username", "password",
                    "domain", "callback_number" }
  for _, key in ipairs(strings) do
    it("checks the type of '" .. key .. "'", function()
      rejects({ entry = "ok", [key] = 42 }, "'" .. key .. "' %(string expected, got number%)")
    end)
    it("rejects a NUL byte in '" .. key .. "'", function()
      rejects({ entry = "ok", [key] = "a\0b" }, "'" .. key .. "' %(contains a NUL byte%)")
    end)
  end

  local limits = { entry = 256, username = 256, password = 256, domain = 15,
                   number = 128, callback_number = 128, phonebook = 260 }
  for key, max in pairs(limits) do
    it("limits '" .. key .. "' to " .. max .. " bytes", function()
      rejects({ entry = "ok", [key] = string.rep("x", max + 1) },
              "'" .. key .. "' %(longer than " .. max .. " bytes%)")
      -- exactly at the limit is accepted by the checks (the entry may not exist)
      local p = { entry = "ok", [key] = string.rep("x", max) }
      local conn = ctx.dial(p)
      if conn then conn:hangup() end
    end)
  end

  it("checks paused_states, timeout and on_state", function()
    rejects({ entry = "ok", paused_states = "yes" }, "'paused_states' %(boolean expected")
    rejects({ entry = "ok", timeout = "5" }, "'timeout'")
    rejects({ entry = "ok", timeout = 0 }, "'timeout'")
    rejects({ entry = "ok", timeout = -1 }, "'timeout'")
    rejects({ entry = "ok", timeout = 0 / 0 }, "'timeout' %(not a number%)")
    rejects({ entry = "ok", on_state = "print" }, "'on_state' %(function or coroutine expected")
  end)

  it("checks resume parameters the same way", function()
    local conn = assert(fixture.dial(ctx, "authfail",
      { password = fixture.wrong_password, paused_states = true }))
    conn:wait(5)
    assert.has_error(function() conn:resume("x") end)
    assert.has_error(function() conn:resume { pasword = "x" } end, nil)
    local ok, err = pcall(conn.resume, conn, { domain = string.rep("d", 16) })
    assert.is_false(ok)
    assert.matches("'domain' %(longer than 15 bytes%)", err)
    ok, err = pcall(conn.resume, conn, { new_password = "a\0b" })
    assert.is_false(ok)
    assert.matches("'new_password' %(contains a NUL byte%)", err)
    assert.are.equal("RetryAuthentication", conn:status().state)
    conn:hangup()
  end)

  it("checks pump and hangup timeouts", function()
    local conn = assert(fixture.dial(ctx, "ok"))
    assert.has_error(function() conn:next("soon") end)
    assert.has_error(function() conn:next(-1) end)
    assert.has_error(function() conn:wait(-1) end)
    assert.has_error(function() conn:hangup(-1) end)
    assert.has_error(function() ctx.poll(-1) end)
    assert.has_error(function() conn.next({}) end)
    conn:hangup()
  end)

  it("checks open's arguments", function()
    assert.has_error(function() ctx.open() end)
    assert.has_error(function() ctx.open("sim", "options") end)
  end)
end)
