-- The allocation-failure sweep's script: spec/sweep/host.c runs it once per
-- failing allocation, spec/sweep/run drives the host (make check-sweep-lua,
-- make check-sweep-c). A representative use of the module against the
-- simulator, in sections. Each section runs under pcall and either
-- completes with every expectation met, or ends with a clean failure
-- (sweep_clean: "not enough memory"; in c mode also code 8 or the OS's text
-- for the injected error); then the next section runs, since a module that
-- failed once must go on working. Anything else raises out of the script
-- and fails the run.
--
-- Every dial records the events its handler sees (each event reaches the
-- handler first, whichever pump delivers it) and is pumped, with a bound,
-- to its terminal event; then the record must be the scenario's whole
-- sequence, or a prefix of it and Disconnected with error 8 (the module
-- ran out of something and ended the connection): an event is never lost.
--
-- Without the host (lua5.4 spec/sweep/script.lua) it runs once, with no
-- failure, and prints "sweep script: N sections passed".
local ras = require "ras"

local MODE = rawget(_G, "SWEEP_MODE") or "plain"
local clean = rawget(_G, "sweep_clean") or function() return false end
local LIMIT = 5 -- seconds a step-0 dial may take before an event counts as lost

local entries = {
  Fast = { step = 0 },
  Auth = { step = 0, username = "user", password = "right" },
  Expiring = { step = 0, password_expired = true },
  Callback = { step = 0, callback = true, states = { "OpenPort", "Authenticate", "Authenticated" } },
  Busy = { step = 0, fail = { at = "ConnectDevice", error = 676 } },
  Drop = { step = 0, drop_after = 0, states = { "OpenPort", "Projected" } },
  Never = { step = 1e6, states = { "OpenPort", "PortOpened" } },
  Teardown = { step = 0, hangup_delay = 0.001, states = { "OpenPort" } },
}
local ENTRIES = 8

-- What each dial of the script delivers, "State" or "State:error".
local function words(s)
  local t = {}
  for w in s:gmatch("%S+") do t[#t + 1] = w end
  return t
end
local running = "OpenPort PortOpened ConnectDevice DeviceConnected AllDevicesConnected Authenticate "
local sequences = {
  Fast = words(running .. "AuthNotify Authenticated AuthProject Projected Connected"),
  Auth = words(running .. "RetryAuthentication Authenticate AuthNotify Authenticated AuthProject Projected Connected"),
  Expiring = words(running .. "PasswordExpired Authenticate AuthNotify Authenticated AuthProject Projected Connected"),
  Callback = words("OpenPort Authenticate Authenticated AuthCallback CallbackSetByCaller AuthCallback " ..
                   "PrepareForCallback WaitForModemReset WaitForCallback CallbackComplete Connected"),
  Busy = words("OpenPort PortOpened ConnectDevice Disconnected:676"),
  Drop = words("OpenPort Projected Connected Disconnected:629"),
  Never = words("OpenPort Disconnected:638"),
  Teardown = words("OpenPort Connected"),
}

-- A failure that is not clean ends the run: raised with its text.
local Bad = {}
local function bad(fmt, ...)
  error(setmetatable({ msg = string.format(fmt, ...) }, Bad), 0)
end

-- A module call's failure result (nil, message, code) must be clean.
local function check(what, value, msg, code)
  if value == nil and not clean(msg, code) then
    bad("%s failed uncleanly: %s (code %s)", what, tostring(msg), tostring(code))
  end
  return value
end

-- Contexts close at scope exit once the binding gives them __close.
local function closing(ctx)
  return ctx.close and ctx or nil
end

local function open(options)
  return check("ras.open", ras.open("sim", options))
end

-- A record of the events a dial's handler saw.
local function new_log(name)
  return { name = name, events = {} }
end

local function note(log, ev)
  log.events[#log.events + 1] = ev.error and ev.state .. ":" .. ev.error or ev.state
end

-- Dials with a handler that records every event into log (a coroutine
-- handler records by itself), then takes the connection's wake-up
-- descriptor at once (pollfd), so that its creation does not depend on
-- whether a pump found the events already queued: the C calls of a run come
-- in the same order each time. Returns conn (or nil after a clean failure)
-- and the log.
local function dial(ctx, params, log)
  log = log or new_log(params.entry)
  local inner = params.on_state
  if type(inner) ~= "thread" then
    params.on_state = function(c, ev)
      note(log, ev)
      if inner then return inner(c, ev) end
    end
  end
  local conn = check("dial " .. tostring(params.entry), ctx.dial(params))
  if conn then check("pollfd", conn:pollfd()) end
  return conn, log
end

-- The log must hold the scenario's whole sequence, or a prefix of it and
-- then Disconnected with error 8. Returns true for the whole sequence.
local function verify(log, expect)
  expect = expect or sequences[log.name]
  local got, n = log.events, #log.events
  local same = n == #expect
  for i = 1, n do
    if got[i] ~= expect[i] then
      same = i == n and got[i] == "Disconnected:8"
      if not same then break end
      clean("Disconnected with error 8", 8)
      return false
    end
  end
  if not same then
    bad("%s delivered [%s], expected [%s] (or a prefix of it, then Disconnected:8)",
        log.name, table.concat(got, " "), table.concat(expect, " "))
  end
  return n == #expect
end

-- Pumps conn to its first paused or terminal event.
local function wait(conn, what)
  local ev, why = conn:wait(LIMIT)
  if not ev then bad("%s: no paused or terminal event (%s): an event was lost", what, why) end
  return ev
end

-- Pumps conn until its terminal event and returns it.
local function finish(conn, what)
  for _ = 1, 100 do
    local ev, why = conn:next(LIMIT)
    if not ev then bad("%s: no terminal event (%s): an event was lost", what, why) end
    if ev.group == "terminal" then return ev end
  end
  bad("%s: more than 100 events", what)
end

-- The same with the iterator (c mode: bounded as finish is, since a lost
-- event there is what the sweep looks for).
local function iterate(conn, what)
  if MODE == "c" then return finish(conn, what) end
  local last
  for ev in conn:states() do last = ev end
  if not last then bad("%s: the iterator gave no event", what) end
  return last
end

-- Pumps the context until done(), or until LIMIT seconds pass without an
-- event delivered (poll may return 0 early: the events of collected
-- connections are consumed without being counted).
local function poll_until(ctx, done, what)
  local deadline = ras.now() + LIMIT
  while not done() do
    if ctx.poll(LIMIT) > 0 then
      deadline = ras.now() + LIMIT
    elseif ras.now() >= deadline then
      bad("%s: ras.poll delivered nothing for %d s: an event was lost", what, LIMIT)
    end
  end
end

local sections = {}
local function section(name, fn) sections[#sections + 1] = { name = name, fn = fn } end

-- The main context; the next section opens it again if a failure cut the
-- first attempt short.
local main
local function context()
  if not main then main = open { entries = entries, established = { "Fast" } } end
  return main
end

section("open a context", function()
  context()
end)

section("module functions", function()
  local ctx = context()
  if not ctx then return end
  local names = ras.backends()
  if names[#names] ~= "sim" then bad("ras.backends() does not end with sim") end
  if ras.state_name(0) ~= "OpenPort" or ras.state_group("Connected") ~= "terminal" then
    bad("state names or groups are wrong")
  end
  if not ras.error_message(691):find("password") then bad("error_message(691) is wrong") end
  if math.type(check("ctx.pollfd", ctx.pollfd())) ~= "integer" and MODE ~= "c" then
    bad("ctx.pollfd() is not a descriptor")
  end
  if ctx.events() ~= "r" or ctx.timeout() ~= nil then bad("ctx.events/timeout are wrong") end
end)

section("dial with a callback", function()
  local ctx = context()
  if not ctx then return end
  local conn, log = dial(ctx, { entry = "Fast", on_state = function() end })
  if not conn then return end
  wait(conn, "Fast")
  if verify(log) then
    local st = check("status", conn:status())
    if st and st.state ~= "Connected" then bad("status says %s after Connected", st.state) end
    if not tostring(conn):find("Fast (Connected)", 1, true) then bad("tostring(conn) is %s", tostring(conn)) end
  end
  check("hangup", conn:hangup(LIMIT))
end)

section("a paused state resumed", function()
  local ctx = context()
  if not ctx then return end
  local conn, log = dial(ctx, { entry = "Auth", username = "user", password = "wrong",
                                paused_states = true })
  if not conn then return end
  local ev = wait(conn, "Auth")
  if ev.state == "RetryAuthentication" and check("resume", conn:resume { password = "right" }) then
    finish(conn, "Auth")
    verify(log)
  elseif ev.state ~= "RetryAuthentication" then
    verify(log)
  end
  check("hangup", conn:hangup(LIMIT))
end)

section("a handler that resumes", function()
  local ctx = context()
  if not ctx then return end
  local conn, log = dial(ctx, { entry = "Expiring", paused_states = true, on_state = function(_, ev)
    if ev.state == "PasswordExpired" then return { new_password = "new" } end
  end })
  if not conn then return end
  finish(conn, "Expiring")
  verify(log)
  check("hangup", conn:hangup(LIMIT))
end)

section("coroutine handlers under poll", function()
  local ctx = context()
  if not ctx then return end
  local ended = {}
  local function handler(log)
    return coroutine.create(function(_, ev)
      while true do
        note(log, ev)
        if ev.group == "terminal" then break end
        if ev.state == "CallbackSetByCaller" then
          _, ev = coroutine.yield { callback_number = "5550100" }
        else
          _, ev = coroutine.yield()
        end
      end
      ended[log] = true
    end)
  end
  local alog, blog = new_log("Callback"), new_log("Fast")
  local a = dial(ctx, { entry = "Callback", paused_states = true, on_state = handler(alog) }, alog)
  local b = dial(ctx, { entry = "Fast", on_state = handler(blog) }, blog)
  poll_until(ctx, function()
    return (not a or ended[alog]) and (not b or ended[blog])
  end, "coroutines")
  if a then
    verify(alog)
    check("hangup", a:hangup(LIMIT))
  end
  if b then
    verify(blog)
    check("hangup", b:hangup(LIMIT))
  end
end)

section("failed dials", function()
  local ctx = context()
  if not ctx then return end
  local none, msg, code = ctx.dial { entry = "Missing" }
  if none or (code ~= 623 and not clean(msg, code)) then
    bad("a dial of a missing entry gave %s, code %s", tostring(none), tostring(code))
  end
  local conn, log = dial(ctx, { entry = "Busy" })
  if not conn then return end
  iterate(conn, "Busy")
  verify(log)
end)

section("a dial timeout", function()
  local ctx = context()
  if not ctx then return end
  local conn, log = dial(ctx, { entry = "Never", timeout = 0.02 })
  if not conn then return end
  finish(conn, "Never")
  -- on a loaded machine the timeout may fire before the thread's first step
  if not (#log.events == 1 and log.events[1] == "Disconnected:638") then verify(log) end
end)

section("a drop", function()
  local ctx = context()
  if not ctx then return end
  local conn, log = dial(ctx, { entry = "Drop" })
  if not conn then return end
  if iterate(conn, "Drop").state == "Connected" then
    local ev, why = conn:next(LIMIT)
    if not ev then bad("Drop: no Disconnected after Connected (%s)", why) end
  end
  verify(log)
end)

section("a handler's error", function()
  local ctx = context()
  if not ctx then return end
  local raised = false
  local conn, log = dial(ctx, { entry = "Fast", on_state = function(_, ev)
    if ev.state == "Authenticate" and not raised then
      raised = true
      error({ "from the handler" })
    end
  end })
  if not conn then return end
  -- The error reaches the pump's caller (unchanged; the binding before the
  -- rewrite makes it "(error object is a table value)"), later events too.
  local arrived, failed_cleanly = false, false
  for _ = 1, 3 do
    local ok, err = pcall(finish, conn, "Fast (handler error)")
    if ok then break end
    if getmetatable(err) == Bad then error(err, 0) end
    if type(err) == "table" and err[1] == "from the handler" then
      arrived = true
    elseif type(err) == "string" and clean(err) then
      failed_cleanly = true
    elseif type(err) == "string" and err:find("table value", 1, true) then
      arrived = true
    else
      bad("the handler's error became %s", tostring(err))
    end
  end
  if not arrived and not failed_cleanly and verify(log) then
    bad("the handler's error did not reach the pump's caller")
  end
  check("hangup", conn:hangup(LIMIT))
end)

section("connections and entries", function()
  local ctx = context()
  if not ctx then return end
  local list = check("connections", ctx.connections())
  if not list then return end
  local up
  for _, c in ipairs(list) do
    if c.entry == "Fast" then up = c end
    local st, msg, code = c:status()
    if not st and code ~= 6 then check("status", st, msg, code) end
  end
  if not up then bad("connections() lacks the established connection") end
  local names = check("entries", ctx.entries())
  if names and #names ~= ENTRIES then bad("entries() listed %d entries, expected %d", #names, ENTRIES) end
  local other = check("entries(other)", ctx.entries("elsewhere"))
  if other and #other ~= 0 then bad("entries(other) is not empty") end
  check("hangup of the established connection", up:hangup(LIMIT))
end)

section("entries and saved credentials", function()
  local ctx = context()
  if not ctx then return end
  local props = { name = "Made", type = "vpn", vpn = "pptp", number = "vpn.example.com",
                  auth = { "mschapv2", "chap" }, encryption = "required", dns = { "192.0.2.53" },
                  redial = { attempts = 3, interval = 2 }, username = "user" }
  if not check("create_entry", ctx.create_entry(props)) then return end
  local e = check("entry", ctx.entry("Made"))
  if e and (e.vpn ~= "pptp" or e.number ~= "vpn.example.com" or #e.auth ~= 2) then
    bad("entry() does not give back what create_entry set")
  end
  if check("update_entry", ctx.update_entry("Made", { encryption = "maximum", ipv6 = true })) then
    e = check("entry after update", ctx.entry("Made"))
    if e and (e.encryption ~= "maximum" or e.vpn ~= "pptp") then bad("update_entry changed the wrong properties") end
  end
  local none, _, code = ctx.create_entry(props)
  if none or (code ~= 183 and not clean(_, code)) then bad("a second create_entry gave %s", tostring(code)) end
  if check("set_credentials", ctx.set_credentials("Made", { username = "user", password = "right" })) then
    local c = check("credentials", ctx.credentials("Made"))
    if c and (c.username ~= "user" or c.saved_password ~= true or c.password) then
      bad("credentials() is wrong")
    end
  end
  if check("rename_entry", ctx.rename_entry("Made", "Renamed")) then
    check("validate_entry_name", ctx.validate_entry_name("Made"))
    check("clear_credentials", ctx.clear_credentials("Renamed"))
    check("delete_entry", ctx.delete_entry("Renamed"))
  else
    ctx.delete_entry("Made")
  end
end)

section("a dial with saved credentials", function()
  local ctx = context()
  if not ctx then return end
  if not check("set_credentials", ctx.set_credentials("Auth", { username = "user", password = "right" })) then
    return
  end
  local conn, log = dial(ctx, { entry = "Auth" })
  if conn then
    finish(conn, "Auth (saved)")
    verify(log, words(running .. "AuthNotify Authenticated AuthProject Projected Connected"))
    check("hangup", conn:hangup(LIMIT))
  end
  check("clear_credentials", ctx.clear_credentials("Auth"))
end)

section("a watcher, statistics, projection, devices", function()
  -- Far comes up at once (an initial change or a change, whichever the
  -- watcher sees first); the watcher's own dial decides when it is done,
  -- so nothing here depends on how fast a run under ASan gets there.
  local other = open { entries = { Fast = entries.Fast, Far = { step = 0 } },
                       activity = { { at = 0, dial = "Far" } } }
  local _ <close> = other and closing(other)
  if not other then return end
  local up, down, stopped = false, false, false
  local w = check("watch", other.watch { initial = true, on_change = function(_, ch)
    if ch.change == "stopped" then
      stopped = true
      clean(ch.message, ch.error)
    elseif ch.entry == "Fast" then
      if ch.change == "connected" then up = true else down = true end
    end
  end })
  if not w then return end
  check("watcher pollfd", w:pollfd())
  local conn, log = dial(other, { entry = "Fast" })
  if not conn then return w:close() end
  finish(conn, "Fast (watched)")
  if verify(log, sequences.Fast) then
    local st = check("statistics", conn:statistics())
    if st and math.type(st.bytes_sent) ~= "integer" then bad("statistics without counters") end
    check("projection", conn:projection())
  end
  local connected = false
  for _, e in ipairs(log.events) do connected = connected or e == "Connected" end
  if connected then   -- else it ended with 8 before: nothing to watch come up
    poll_until(other, function() return up or stopped end, "the watcher (connected)")
  end
  check("hangup", conn:hangup(LIMIT))
  if connected then
    poll_until(other, function() return down or stopped end, "the watcher (disconnected)")
  end
  check("devices", other.devices())
  local info = ras.error_info(691)
  if info.kind ~= "authentication" or info.retryable then bad("error_info(691) is wrong") end
  w:close()
end)

section("<close> variables", function()
  local ctx = context()
  if not ctx then return end
  do
    local conn <close>, log = dial(ctx, { entry = "Teardown" })
    if conn then
      finish(conn, "Teardown")
      verify(log)
    end
  end
  do
    local other = open { entries = { Fast = entries.Fast } }
    local _ <close> = other and closing(other)
    if other then
      local conn <close>, log = dial(other, { entry = "Fast" })
      if conn then
        finish(conn, "Fast (second context)")
        verify(log)
      end
    end
  end
end)

section("dropped objects and contexts", function()
  local ctx = context()
  if not ctx then return end
  for _ = 1, 3 do dial(ctx, { entry = "Fast" }) end -- never pumped, never referenced
  do
    local gone = open { entries = { Fast = entries.Fast, Busy = entries.Busy } }
    if gone then
      dial(gone, { entry = "Fast" })
      local conn = dial(gone, { entry = "Busy" })
      if conn then conn:next(LIMIT) end
    end
  end
  collectgarbage()
  collectgarbage()
end)

section("the main context closed", function()
  if main and main.close then main:close() end
  main = nil
  collectgarbage()
end)

local passed, failed = 0, 0
for _, s in ipairs(sections) do
  local ok, err = pcall(s.fn)
  if ok then
    passed = passed + 1
  elseif getmetatable(err) == Bad then
    error(s.name .. ": " .. err.msg, 0)
  elseif type(err) == "string" and clean(err) then
    failed = failed + 1
    if MODE ~= "plain" then -- for the run's log
      io.stderr:write("sweep: section '", s.name, "' failed cleanly: ", err:match("[^\n]*"), "\n")
    end
  else
    error(s.name .. ": " .. tostring(err), 0)
  end
end
if MODE == "plain" then
  print(string.format("sweep script: %d sections passed, %d failed cleanly", passed, failed))
end
