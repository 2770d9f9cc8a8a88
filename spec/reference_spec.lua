-- doc/api.md must name everything the module offers: this spec enumerates
-- the module (live objects, and the sources where a name lives only in C)
-- and fails for each name the reference lacks, in the section where it
-- belongs, as a code span or a heading.
local ras = require "ras"
local fixture = require "support.fixture"

-- Backend-neutral: one run, in the plain (sim) suite, is enough.
if fixture.backend ~= "sim" then return end

local REPO = os.getenv("RAS_REPO") or "."

local function read(path)
  local f = assert(io.open(REPO .. "/" .. path, "rb"))
  local s = f:read("*a")
  f:close()
  return s
end

-- Level-2 sections of the reference: title -> body (with its subsections).
local function split_sections(text)
  local sections, title = {}, nil
  for line in (text .. "\n"):gmatch("([^\n]*)\n") do
    local h2 = line:match("^##%s+(.-)%s*$")
    if h2 and not line:match("^###") then
      title = h2
      sections[title] = { line }
    elseif title then
      table.insert(sections[title], line)
    end
  end
  for k, lines in pairs(sections) do sections[k] = table.concat(lines, "\n") end
  return sections
end

-- The code spans of a text and its heading lines (without their #s).
local function spans_of(body)
  local spans = {}
  for span in body:gmatch("`([^`\n]+)`") do spans[#spans + 1] = span end
  for heading in body:gmatch("\n#+%s+([^\n]+)") do spans[#spans + 1] = (heading:gsub("`", "")) end
  return spans
end

-- Whether some span is `form` or starts with it followed by a non-name
-- character: `ras.dial(params)` documents "ras.dial", `ras.dialx` does not.
local function has_form(spans, form)
  for _, span in ipairs(spans) do
    if span == form then return true end
    local start = span:find(form, 1, true)
    while start do
      local before = start > 1 and span:sub(start - 1, start - 1) or ""
      local after = span:sub(start + #form, start + #form)
      if not before:match("[%w_.:]") and not after:match("[%w_]") then return true end
      start = span:find(form, start + 1, true)
    end
  end
  return false
end

local doc = read("doc/api.md")
local sections = split_sections(doc)

local function section(title)
  local body = sections[title]
  assert(body, "doc/api.md has no section '## " .. title .. "'")
  return spans_of("\n" .. body)
end

-- Asserts that every name has one of the forms made by `forms(name)`.
local function assert_documented(title, names, forms)
  local spans = section(title)
  local missing = {}
  for _, name in ipairs(names) do
    local found = false
    for _, form in ipairs(forms(name)) do found = found or has_form(spans, form) end
    if not found then missing[#missing + 1] = forms(name)[1] end
  end
  table.sort(missing)
  assert(#missing == 0, "doc/api.md, section '" .. title .. "', lacks: " .. table.concat(missing, ", "))
end

local function sorted_keys(t)
  local keys = {}
  for k in pairs(t) do keys[#keys + 1] = k end
  table.sort(keys)
  return keys
end

-- The field names of the schema array `name[] = { … }` (src/schema.h): the
-- `.name = "x"` entries and the first argument of helper macros.
local function schema_fields(source, name)
  local body = source:match(name .. "%[%]%s*=%s*(%b{})")
  assert(body, "no schema " .. name .. " in the source")
  local names = {}
  for s in body:gmatch('%.name = "([%w_]+)"') do names[#names + 1] = s end
  for s in body:gmatch('%u[%u_]*%(([%a_][%w_]*),') do names[#names + 1] = s end
  assert(#names > 0, "schema " .. name .. " names no field")
  return names
end

-- The quoted first arguments of every call `pattern` matches in text.
local function quoted_matches(text, pattern)
  local seen, names = {}, {}
  for s in text:gmatch(pattern) do
    if not seen[s] then
      seen[s] = true
      names[#names + 1] = s
    end
  end
  assert(#names > 0, "nothing matches " .. pattern)
  return names
end

-- The body of the C function `name` in source.
local function c_function(source, name)
  local body = source:match("\n[%w_ *]-" .. name .. "%b()%s*(%b{})")
  assert(body, "no function " .. name .. " in the source")
  return body
end

local ras_c = read("src/ras.c")
local entries_c = read("src/entries.c")
local watch_c = read("src/watch.c")
local info_c = read("src/info.c")
local sim_c = ""    -- the simulator's parts (src/sim/)
for _, part in ipairs { "backend", "options", "scenario", "book", "text", "thread", "calls",
                        "entries", "watch", "activity", "info" } do
  sim_c = sim_c .. read("src/sim/" .. part .. ".c")
end
local pppd_c = ""   -- the Linux backend's parts (src/pppd/)
for _, part in ipairs { "backend", "channel", "watcher", "spawn", "foreign" } do
  pppd_c = pppd_c .. read("src/pppd/" .. part .. ".c")
end

local sim = assert(ras.open("sim", { entries = {
  Office = { step = 0, local_address = "192.0.2.10", remote_address = "192.0.2.1" },
  Busy = { step = 0, fail = { at = "ConnectDevice", error = 676 } },
} }))

local function qualified(prefix) return function(name) return { prefix .. name } end end
local function plain(name) return { name } end

describe("doc/api.md", function()
  it("is linked from the README", function()
    assert.matches("(doc/api.md)", read("README.md"), 1, true)
  end)

  it("documents every field and function of the module as ras.NAME", function()
    assert_documented("Module and context functions", sorted_keys(ras), qualified("ras."))
  end)

  it("documents every function of a context (as ctx.NAME or ras.NAME)", function()
    assert_documented("Module and context functions", sorted_keys(sim), function(name)
      return { "ctx." .. name, "ras." .. name }
    end)
  end)

  it("documents every connection method as conn:NAME and every field as conn.NAME", function()
    local conn = assert(sim.dial { entry = "Office" })
    local mt = getmetatable(conn)
    local _, methods = debug.getupvalue(mt.__index, 1)
    assert.is_table(methods)
    assert_documented("Connection methods and fields", sorted_keys(methods), qualified("conn:"))
    local fields = quoted_matches(c_function(ras_c, "conn_index"), 'memcmp%(key, "([%w_]+)"')
    assert_documented("Connection methods and fields", fields, qualified("conn."))
    local metamethods = {}
    for k in pairs(mt) do if k ~= "__index" and k ~= "__name" then metamethods[#metamethods + 1] = k end end
    table.sort(metamethods)
    assert_documented("Connection methods and fields", metamethods, plain)
    conn:hangup()
  end)

  it("documents every event field", function()
    local names, seen = {}, {}
    for _, entry in ipairs { "Office", "Busy" } do
      local conn = assert(sim.dial { entry = entry })
      for ev in conn:states() do
        for k in pairs(ev) do
          if not seen[k] then seen[k], names[#names + 1] = true, k end
        end
      end
      conn:hangup()
    end
    local set_by_c = c_function(ras_c, "set_fields") .. c_function(ras_c, "take_event")
    for _, k in ipairs(quoted_matches(ras_c:match("event_code%[%] =(.-);\n"), 'ev%.([%w_]+) = ')) do
      if not seen[k] then seen[k], names[#names + 1] = true, k end
    end
    for _, k in ipairs(quoted_matches(set_by_c, 'lua_setfield%(L, %-2, "([%w_]+)"%)')) do
      if not seen[k] then seen[k], names[#names + 1] = true, k end
    end
    assert.is_true(seen.extended_error and seen.error and seen.elapsed)
    assert_documented("Events", names, function(name) return { "ev." .. name, name } end)
  end)

  it("documents every status field", function()
    local body = c_function(ras_c, "conn_status")
    local names = quoted_matches(body, 'lua_setfield%(L, %-2, "([%w_]+)"%)')
    for _, k in ipairs(quoted_matches(body, 'set_text%(L, "([%w_]+)"')) do names[#names + 1] = k end
    local conn = assert(sim.dial { entry = "Office" })
    for _ in conn:states() do end
    for k in pairs(assert(conn:status())) do names[#names + 1] = k end
    conn:hangup()
    assert_documented("Status", names, function(name) return { "st." .. name, name } end)
  end)

  it("documents every dial parameter (src/ras.c dial_fields)", function()
    assert_documented("Dial parameters", schema_fields(ras_c, "dial_fields"), plain)
  end)

  it("documents every resume parameter (src/ras.c resume_fields)", function()
    assert_documented("Resume parameters", schema_fields(ras_c, "resume_fields"), plain)
  end)

  it("documents every entry property (src/entries.c entry_fields) and credential field", function()
    assert_documented("Entries", schema_fields(entries_c, "entry_fields"), plain)
    local creds = schema_fields(entries_c, "credentials_fields")
    for _, k in ipairs(quoted_matches(c_function(entries_c, "ctx_credentials"), '"([%l_]+)", info')) do
      creds[#creds + 1] = k
    end
    for _, k in ipairs(quoted_matches(c_function(entries_c, "ctx_credentials"), 'set_boolean%(L, "([%l_]+)"')) do
      creds[#creds + 1] = k
    end
    assert_documented("Credentials", creds, plain)
  end)

  it("documents every watcher method as w:NAME and every change field as ch.NAME", function()
    local methods = quoted_matches(watch_c:match("watcher_methods%[%] =(.-);\n"), '{ "([%w_]+)"')
    assert_documented("Watchers", methods, qualified("w:"))
    local fields = quoted_matches(c_function(watch_c, "push_change"), 'lua_setfield%(L, %-?[%w +]+, "([%w_]+)"%)')
    assert_documented("Watchers", fields, qualified("ch."))
    assert_documented("Watchers", schema_fields(watch_c, "watch_fields"), plain)
  end)

  it("documents every statistics and projection field", function()
    local function fields(fn)
      local body = c_function(info_c, fn)
      local names = quoted_matches(body, 'lua_setfield%(L, %-%d, "([%l%d_]+)"%)')
      for k in body:gmatch('set_%a+%(L, "([%l%d_]+)"') do names[#names + 1] = k end
      return names
    end
    assert_documented("Statistics", fields("conn_statistics"), plain)
    assert_documented("Projection", fields("conn_projection"), plain)
    local errinfo = quoted_matches(c_function(info_c, "m_error_info"), 'lua_setfield%(L, %-2, "([%l_]+)"%)')
    assert_documented("Module and context functions", errinfo, plain)
  end)

  it("documents every state name of ras.states with its number", function()
    local names = sorted_keys(ras.states)
    assert.is_true(#names >= 30)
    assert_documented("States", names, plain)
    local spans = section("States")
    for _, name in ipairs(names) do
      local n = ras.states[name]
      assert(has_form(spans, tostring(n)) or has_form(spans, string.format("0x%x", n)),
             "doc/api.md, section 'States', lacks the number of " .. name)
    end
  end)

  it("documents every simulator option and scenario field (src/sim/options.c)", function()
    assert_documented("The simulator backend (sim)", schema_fields(sim_c, "sim_fields"), plain)
    local fields = schema_fields(sim_c, "scenario_fields")
    for _, k in ipairs(schema_fields(sim_c, "fail_fields")) do fields[#fields + 1] = "fail." .. k end
    assert_documented("The simulator backend (sim)", fields, plain)
    -- the records inside options and scenarios: activity and devices items, projection
    for _, record in ipairs { "activity_fields", "device_fields", "projection_fields", "ipv4_fields",
                              "ipv6_fields" } do
      assert_documented("The simulator backend (sim)", schema_fields(sim_c, record), plain)
    end
  end)

  it("documents every pppd option (src/pppd/backend.c)", function()
    assert_documented("The pppd backend", schema_fields(pppd_c, "pppd_fields"), plain)
  end)

  it("documents every error code the module and its backends produce", function()
    local values = {}
    for name, n in read("src/errors.h"):gmatch("(RAS_ERROR_[%u_]+) = (%d+)") do values[name] = n end
    local codes, seen = {}, {}
    local function add(code)
      if not seen[code] then seen[code], codes[#codes + 1] = true, code end
    end
    for _, source in ipairs { ras_c, sim_c, pppd_c, entries_c, watch_c, info_c,
                              read("src/options.c"), read("src/queue.c"), read("src/errors.c") } do
      for name in source:gmatch("RAS_ERROR_[%u_]+") do add(assert(values[name], name)) end
    end
    for code in c_function(pppd_c, "reason_error"):gmatch("return (%d%d%d);") do add(code) end
    for code in pppd_c:gmatch("errno == EPERM %? (%d+)") do add(code) end
    assert.is_true(seen["737"] and seen["5"] and seen["638"], "the source parse found too little")
    table.sort(codes, function(a, b) return tonumber(a) < tonumber(b) end)
    assert_documented("Error codes", codes, plain)
  end)

  it("describes each backend and the command-line tool", function()
    local spans = section("Backend differences")
    for _, name in ipairs(ras.backends()) do assert(has_form(spans, name), "no backend " .. name) end
    assert(has_form(spans, "win32"), "no word on win32")
    local cli = section("lua-rasdial")
    for _, option in ipairs { "--backend", "--scenario", "--timeout", "--retries", "--json", "--watch" } do
      assert(has_form(cli, option), "the lua-rasdial section lacks " .. option)
    end
  end)
end)
