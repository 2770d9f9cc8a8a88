-- Passwords never appear in any string the module produces.
local fixture = require "support.fixture"

local SECRET = "S3cr3t-Pa55w0rd"

-- Every string reachable from v (tables walked, no cycles expected).
local function strings_of(v, out)
  out = out or {}
  if type(v) == "string" then out[#out + 1] = v
  elseif type(v) == "table" then
    for k, x in pairs(v) do strings_of(k, out); strings_of(x, out) end
  elseif v ~= nil then out[#out + 1] = tostring(v) end
  return out
end

local function assert_clean(v, where)
  for _, s in ipairs(strings_of(v)) do
    assert.is_nil(s:find(SECRET, 1, true), where .. " leaks the password: " .. s)
    assert.is_nil(s:find("Pa55w0rd", 1, true), where .. " leaks part of the password")
  end
end

describe("passwords", function()
  local ctx
  before_each(function() ctx = fixture.context() end)

  it("stay out of events, status, tostring and failures of a wrong-password dial", function()
    local conn = assert(fixture.dial(ctx, "authfail", { password = SECRET }))
    for ev in conn:states() do assert_clean(ev, "event " .. ev.state) end
    assert_clean(tostring(conn), "tostring")
    assert_clean({ conn:status() }, "status")
    assert_clean({ conn:resume { password = SECRET } }, "resume failure")
    assert_clean({ conn:hangup() }, "hangup")
  end)

  it("stay out of paused-state events and resumes", function()
    local conn = assert(fixture.dial(ctx, "authfail", { password = SECRET, paused_states = true }))
    local ev = conn:wait(5)
    assert_clean(ev, "paused event")
    assert_clean({ conn:resume { password = SECRET .. "2", new_password = SECRET } }, "resume")
    assert_clean(conn:wait(5), "second pause")
    assert_clean(conn:status(), "status while paused")
    conn:hangup()
  end)

  it("stay out of error messages about bad parameters", function()
    local bad = {
      { entry = "ok", password = SECRET .. string.rep("x", 300) },
      { entry = "ok", password = SECRET .. "\0" },
      { entry = "ok", password = SECRET, pasword = SECRET },
      { entry = "ok", password = SECRET, domain = string.rep("d", 20) },
      { entry = "ok", password = SECRET, timeout = SECRET },
      { password = SECRET },
    }
    for i, p in ipairs(bad) do
      local ok, err = pcall(ctx.dial, p)
      assert.is_false(ok)
      assert_clean(err, "error " .. i)
    end
  end)

  it("stay out of the failure of an unknown entry", function()
    assert_clean({ ctx.dial { entry = "missing", password = SECRET } }, "dial failure")
  end)

  it("stay out of connections() and entries()", function()
    local conn = assert(fixture.dial(ctx, "open", { password = SECRET }))
    conn:wait(5)
    for _, c in ipairs(ctx.connections()) do
      assert_clean(tostring(c), "listed connection")
      assert_clean(c:status(), "listed status")
    end
    assert_clean(ctx.entries(), "entries")
    conn:hangup()
  end)
end)
