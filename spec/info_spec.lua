-- What can be read about links and the machine (issue 12), on every
-- backend: conn:statistics(), conn:projection(), ctx.devices() and
-- ras.error_info(), every field and path; a connection that is gone
-- answers nil, message, 6. Exact values from scenario fields are in
-- sim_info_spec.lua.
local ras = require "ras"
local fixture = require "support.fixture"

local COUNTERS = { "bytes_sent", "bytes_received", "frames_sent", "frames_received", "errors" }
local AUTH = { pap = true, chap = true, mschapv2 = true, eap = true }

local function is_integer(v)
  return type(v) == "number" and v >= 0 and v == math.floor(v)
end

local function connected(ctx, name)
  local conn = assert(fixture.dial(ctx, name or "ok"))
  local ev
  repeat ev = conn:next(10) until not ev or ev.state == "Connected" or ev.state == "Disconnected"
  assert(ev and ev.state == "Connected", "the dial did not connect")
  return conn
end

local function assert_gone(conn, method)
  local r, msg, code = conn[method](conn)
  assert.is_nil(r)
  assert.is_string(msg)
  assert.are.equal(6, code)
end

describe("conn:statistics()", function()
  local ctx
  before_each(function() ctx = fixture.context() end)

  it("counts a connected link: integer counters, speed, and a duration that grows", function()
    local conn = connected(ctx)
    local first = assert(conn:statistics())
    for _, k in ipairs(COUNTERS) do assert(is_integer(first[k]), k .. " is " .. tostring(first[k])) end
    assert.is_true(first.speed == nil or is_integer(first.speed))
    assert.is_number(first.duration)
    assert.is_true(first.duration >= 0)
    local t0 = ctx.now()
    while ctx.now() - t0 < 0.05 do ctx.poll(0.05) end
    local second = assert(conn:statistics())
    assert.is_true(second.duration > first.duration)
    for _, k in ipairs(COUNTERS) do assert.is_true(second[k] >= first[k], k .. " went back") end
    local known = { speed = true, duration = true }
    for _, k in ipairs(COUNTERS) do known[k] = true end
    for k in pairs(second) do assert(known[k], "unknown field " .. tostring(k)) end
    conn:hangup()
  end)

  it("answers while dialling, with zero or more counted", function()
    local conn = assert(fixture.dial(ctx, "never"))
    assert(conn:next(5))
    local st = assert(conn:statistics())
    for _, k in ipairs(COUNTERS) do assert(is_integer(st[k]), k) end
    assert.is_true(st.duration == nil or st.duration >= 0)
    conn:hangup()
  end)

  it("answers nil, message, 6 once the connection is gone or its context closed", function()
    local conn = connected(ctx)
    assert.is_true(conn:hangup())
    assert_gone(conn, "statistics")
    local other = connected(ctx)
    ctx:close()
    assert_gone(other, "statistics")
  end)

  it("raises when not called on a connection", function()
    local conn = connected(ctx)
    assert.is_false(pcall(conn.statistics, {}))
    assert.is_false(pcall(conn.statistics))
    conn:hangup()
  end)
end)

describe("conn:projection()", function()
  local ctx
  before_each(function() ctx = fixture.context() end)

  it("answers nil, message, code before the link is projected", function()
    local conn = assert(fixture.dial(ctx, "never"))
    assert(conn:next(5))
    local p, msg, code = conn:projection()
    assert.is_nil(p)
    assert.is_string(msg)
    assert.is_number(code)
    assert.are_not.equal(0, code)
    conn:hangup()
  end)

  it("tells what the link negotiated once Connected, consistent with status", function()
    local conn = connected(ctx)
    local p = assert(conn:projection())
    local st = assert(conn:status())
    assert.is_true(p.interface == nil or type(p.interface) == "string")
    if p.ipv4 then
      assert.is_table(p.ipv4.dns)
      for _, s in ipairs(p.ipv4.dns) do assert.is_string(s) end
      if p.ipv4.address and st.local_address then assert.are.equal(st.local_address, p.ipv4.address) end
      if p.ipv4.server_address and st.remote_address then
        assert.are.equal(st.remote_address, p.ipv4.server_address)
      end
    end
    if p.ipv6 then
      for _, k in ipairs { "interface_id", "server_interface_id" } do
        if p.ipv6[k] then assert.matches("^%x%x:%x%x", p.ipv6[k]) end
      end
    end
    assert.is_true(p.auth_protocol == nil or AUTH[p.auth_protocol] == true)
    assert.is_true(p.encryption == nil or type(p.encryption) == "string")
    assert.is_true(p.compression == nil or type(p.compression) == "string")
    conn:hangup()
  end)

  it("answers nil, message, 6 once the connection is gone", function()
    local conn = connected(ctx)
    conn:hangup()
    assert_gone(conn, "projection")
  end)
end)

describe("ctx.devices()", function()
  it("lists devices as { name =, type = } texts", function()
    local ctx = fixture.context()
    local list, msg, code = ctx.devices()
    if not list and code == 120 then return pending(msg) end
    assert.is_table(list)
    for i, d in ipairs(list) do
      assert.is_string(d.name, "device " .. i)
      assert.is_true(#d.name > 0)
      assert.is_string(d.type, "device " .. i)
    end
  end)

  it("raises on a closed context", function()
    local ctx = fixture.context()
    ctx:close()
    assert.is_false(pcall(ctx.devices))
  end)
end)

describe("ras.error_info()", function()
  local cases = {
    { 691, "authentication", false }, { 648, "authentication", false },
    { 645, "authentication", true }, { 629, "line", true }, { 638, "line", true },
    { 678, "line", true }, { 123, "configuration", false }, { 183, "configuration", false },
    { 623, "configuration", false }, { 8, "resource", true }, { 633, "resource", true },
    { 800, "vpn", true }, { 809, "vpn", true }, { 12345, "local", true }, { 0, "local", true },
    { -1, "local", true },
  }
  for _, case in ipairs(cases) do
    local code, kind, retryable = case[1], case[2], case[3]
    it("describes " .. code .. " as " .. kind .. (retryable and ", retryable" or ", not retryable"), function()
      local info = ras.error_info(code)
      assert.are.same({ code = code, kind = kind, retryable = retryable,
                        message = ras.error_message(code) }, info)
    end)
  end

  it("is the same from every context, with the context's texts", function()
    local ctx = fixture.context()
    assert.are.same(ctx.error_info(691).kind, ras.error_info(691).kind)
    assert.are.equal(ctx.error_message(691), ctx.error_info(691).message)
    assert.are.same(ctx:error_info(629), ctx.error_info(629))
  end)

  it("takes any integer, and raises for what is not one", function()
    assert.are.equal("local", ras.error_info(2 ^ 40).kind)
    assert.are.equal(2 ^ 40, ras.error_info(2 ^ 40).code)
    for _, v in ipairs { "x", {}, 1.5, 2 ^ 63 * 4 } do assert.is_false(pcall(ras.error_info, v)) end
    assert.is_false(pcall(ras.error_info))
  end)
end)
