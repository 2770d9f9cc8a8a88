-- Enumeration: connections (ours and other programs'), and phonebook entries.
local fixture = require "support.fixture"

describe("connections()", function()
  local ctx
  before_each(function() ctx = fixture.context() end)

  it("returns the very object a dial through this context returned", function()
    local conn = assert(fixture.dial(ctx, "ok"))
    conn:wait(5)
    local list = ctx.connections()
    assert.are.equal(1, #list)
    assert.is_true(rawequal(conn, list[1]))
    assert.is_true(rawequal(ctx.connections()[1], conn))
    conn:hangup()
    assert.are.equal(0, #ctx.connections())
  end)

  it("lists dials still in progress", function()
    local conn = assert(fixture.dial(ctx, "never"))
    assert.is_true(rawequal(conn, ctx.connections()[1]))
    conn:hangup()
  end)
end)

describe("connections dialled by another program", function()
  local ctx
  before_each(function() ctx = fixture.foreign_context() end)

  it("are listed with their entry, and status works on them", function()
    if not ctx then return pending("no foreign connections here") end
    local list = ctx.connections()
    assert.are.equal(1, #list)
    local other = list[1]
    assert.is_string(other.entry)
    local st = assert(other:status())
    assert.are.equal("Connected", st.state)
    assert.is_true(rawequal(other, ctx.connections()[1]))
  end)

  it("are never hung up by collection", function()
    if not ctx then return pending("no foreign connections here") end
    ctx.connections()
    collectgarbage()
    collectgarbage()
    local list = ctx.connections()
    assert.are.equal(1, #list)
    assert.are.equal("Connected", list[1]:status().state)
  end)

  it("can be hung up, which delivers Disconnected and removes them", function()
    if not ctx then return pending("no foreign connections here") end
    local other = ctx.connections()[1]
    assert.is_true(other:hangup())
    assert.are.equal("Disconnected", other:next(1).state)
    assert.are.equal(0, #ctx.connections())
    local st, _, code = other:status()
    assert.is_nil(st)
    assert.are.equal(6, code)
  end)
end)

describe("entries()", function()
  it("lists the phonebook's entries with name and phonebook", function()
    local ctx = fixture.context()
    local list = ctx.entries()
    assert.is_true(#list > 0)
    local names = {}
    for _, e in ipairs(list) do
      assert.is_string(e.name)
      assert.is_string(e.phonebook)
      names[e.name] = true
    end
    if fixture.backend == "sim" then assert.is_true(names.ok) end
  end)

  it("lists nothing for a phonebook the backend does not have", function()
    if fixture.backend ~= "sim" then return pending("sim only") end
    local ctx = fixture.context()
    assert.are.same({}, ctx.entries("another-phonebook"))
  end)
end)
