-- The fuzz target's driver (spec/fuzz/fuzz_options.c loads it; make
-- check-fuzz, make fuzz). Returns a function that takes the input bytes
-- and plays them as a small program against the module: ras.open("sim",
-- options) and ras.open of other names with option tables built from the
-- bytes, dials with parameter tables built from the bytes, resumes, brief
-- pumps (timeouts 0 or a few milliseconds: nothing waits for wall-clock
-- time), hang-ups with short timeouts, status, enumeration, collection,
-- context closing and finalizers that use contexts.
--
-- The values: nested tables, strings with NUL bytes and of lengths around
-- every limit, huge, NaN, negative and fractional numbers, integers near
-- 2^31, 2^32, 2^53 and 2^63, booleans, functions, coroutines (ones that
-- yield hundreds of values, the running one), tables whose __index is a
-- function (answering once, answering fresh strings while collecting
-- garbage, adding keys to the table being traversed, raising), handlers
-- that pump, hang up, dial, collect or raise tables.
--
-- Every call into the module runs under pcall: its results and errors are
-- not judged here; ASan, UBSan, LeakSanitizer and libFuzzer's timeout judge
-- the module. An error that escapes this driver is a bug of the driver
-- (the harness aborts on it). Only "sim" contexts dial: nothing starts pppd.
--
-- The byte format (kept simple so that seeds can be written by hand, see
-- spec/fuzz/make_corpus.lua): each operation starts with a byte (its number
-- modulo #ops, in the order of the `ops` list below); its arguments take the
-- bytes after it; past the end of the input every byte reads as 0.
local ras = require "ras"

local M = {}

local MAX_OPS = 32
local MAX_CONTEXTS = 4
local MAX_CONNS = 24
local MAX_DEPTH = 3

local state_names = {
  "OpenPort", "PortOpened", "ConnectDevice", "DeviceConnected", "AllDevicesConnected",
  "Authenticate", "AuthNotify", "AuthRetry", "AuthCallback", "AuthChangePassword",
  "AuthProject", "AuthLinkSpeed", "AuthAck", "ReAuthenticate", "Authenticated",
  "PrepareForCallback", "WaitForModemReset", "WaitForCallback", "Projected",
  "StartAuthentication", "CallbackComplete", "LogonNetwork", "SubEntryConnected",
  "SubEntryDisconnected", "ApplySettings", "Interactive", "RetryAuthentication",
  "CallbackSetByCaller", "PasswordExpired", "InvokeEapUI", "Connected", "Disconnected",
}

local integers = {
  0, 1, -1, 2, 5, 8, 24, 25, 87, 623, 629, 638, 676, 691, 703,
  0x1000, 0x1001, 0x1004, 0x2000, 0x2001, 255, 256, 257,
  (1 << 31) - 1, 1 << 31, -(1 << 31), -(1 << 31) - 1, (1 << 32) - 1, 1 << 32,
  (1 << 32) + 5, (1 << 32) + 691, (1 << 32) + 0x2000, 1 << 53, (1 << 53) + 1,
  math.maxinteger, math.mininteger, math.maxinteger - 1, math.mininteger + 1,
}

local floats = {
  0.0, -0.0, 0.5, 1e-9, 0.001, 0.002, 0.01, 1.5, 1e9, 1e10, 2^31 + 0.5, 2^32 + 0.0,
  2^53, 2^63, -2^63, 1e300, -1e300, math.huge, -math.huge, 0 / 0, -1.0, -0.001,
}

-- Short step and delay values, mostly harmless, some hostile.
local seconds = { 0, 0, 0, 0.0005, 0.001, 0.002, 0, 1e6, math.huge, 1e300, 0 / 0, -1, 2^63, "0", 1 << 62 }

local words = {
  "entry", "phonebook", "number", "username", "password", "domain", "callback_number",
  "paused_states", "timeout", "on_state", "new_password", "entries", "established",
  "states", "step", "fail", "at", "error", "callback", "password_expired", "drop_after",
  "hangup_delay", "device_type", "device_name", "local_address", "remote_address",
  "sim", "pppd", "win32", "A", "B", "Office", "", "user", "right", "wrong",
  "peers_dir", "pppd", "options", "plugin", "run_dir", "backend", "close", "entriez",
}

local dial_keys = {
  "entry", "entry", "entry", "phonebook", "number", "username", "password", "domain",
  "callback_number", "paused_states", "timeout", "on_state", "on_state",
}
local resume_keys = { "username", "password", "new_password", "domain", "callback_number" }
local scenario_keys = {
  "username", "password", "states", "step", "step", "fail", "callback", "password_expired",
  "drop_after", "hangup_delay", "device_type", "device_name", "local_address", "remote_address",
}
local option_keys = { "entries", "entries", "phonebook", "established" }
local entry_keys = {
  "name", "name", "type", "type", "phonebook", "device", "number", "vpn", "auth", "encryption",
  "default_gateway", "dns", "use_peer_dns", "ipv4", "ipv6", "idle_disconnect", "redial",
  "username", "pppd_options",
}
local entry_words = {
  "modem", "vpn", "broadband", "direct", "auto", "pptp", "l2tp", "sstp", "ikev2", "pap",
  "chap", "mschapv2", "eap", "none", "optional", "required", "maximum", "192.0.2.1",
  "2001:db8::1", "a b", "A", "Office", "New", "../x", "a\nb", "x\nplugin /tmp/evil.so",
}
local credential_keys = { "username", "password", "domain", "psk" }
local entry_names = { "A", "B", "C", "Office", "A\0B", "", string.rep("E", 256), string.rep("E", 257) }
-- Lengths just under, at and over the limits (15, 16, 63, 64, 128, 256, 260).
local lengths = { 0, 1, 14, 15, 16, 17, 63, 64, 65, 127, 128, 129, 255, 256, 257, 259, 260, 261, 300 }

-- The schedule: an operation's byte, modulo its length, picks one of these
-- (the common ones appear more than once); spec/fuzz/make_corpus.lua names
-- seeds by what they reach.
M.schedule = {
  "open_sim", "open_sim", "open_other", "dial", "dial", "dial", "resume", "pump", "pump",
  "pump", "poll", "poll", "hangup", "status", "enumerate", "collect", "module", "close",
  "finalizer", "method", "entry", "entry", "credentials", "watch", "info",
}

-- What the last run reached (spec/fuzz/make_corpus.lua picks seeds by it).
M.stats = {}

function M.run(data)
  local stats = {}
  M.stats = stats
  local function reached(what) stats[what] = (stats[what] or 0) + 1 end
  local pos = 0
  local function byte()
    pos = pos + 1
    return data:byte(pos) or 0
  end
  local function pick(list) return list[byte() % #list + 1] end
  local function chance(n) return byte() % n == 0 end

  local ctxs, conns, names = {}, {}, {}   -- names[ctx]: entry names it was opened with
  local depth = 0
  local value -- forward

  local function text()
    local kind = byte() % 6
    if kind == 0 then return pick(words) end
    if kind == 1 then return pick(state_names) end
    if kind == 2 then return string.rep(string.char(65 + byte() % 26), pick(lengths)) end
    if kind == 3 then return pick(words) .. "\0" .. pick(words) end
    if kind == 4 then return pick(entry_names) end
    local n = byte() % 24
    local t = {}
    for i = 1, n do t[i] = string.char(byte()) end
    return table.concat(t)
  end

  local function number()
    local kind = byte() % 3
    if kind == 0 then return pick(integers) + (byte() % 3 - 1) end
    if kind == 1 then return pick(floats) end
    return byte() - 128
  end

  local function some_ctx() if #ctxs > 0 then return ctxs[byte() % #ctxs + 1] end end
  local function some_conn() if #conns > 0 then return conns[byte() % #conns + 1] end end

  -- A handler: functions and coroutines that do what scripts do in
  -- handlers, and hostile ones.
  local function handler()
    local kind = byte() % 14
    local ctx = some_ctx()
    local answer = { password = "right", new_password = "new", callback_number = "5550100" }
    if kind == 0 then return function() end end
    if kind == 1 then
      return function(_, ev) if ev.group == "paused" then return answer end end
    end
    if kind == 2 then return function() error("handler error") end end
    if kind == 3 then return function() error(setmetatable({}, { __tostring = function() return "obj" end })) end end
    if kind == 4 then
      return function()
        if depth >= MAX_DEPTH or not ctx then return end
        depth = depth + 1
        pcall(ctx.poll, 0)
        depth = depth - 1
      end
    end
    if kind == 5 then return function(c) pcall(c.hangup, c, 0) end end
    if kind == 6 then return function() collectgarbage() end end
    if kind == 7 then
      return function(c)
        if depth >= MAX_DEPTH then return end
        depth = depth + 1
        local other = some_conn()
        if other and other ~= c then pcall(other.next, other, 0) end
        depth = depth - 1
      end
    end
    if kind == 8 then
      return function()
        if depth >= MAX_DEPTH or not ctx or #conns >= MAX_CONNS then return end
        depth = depth + 1
        local ok, c = pcall(ctx.dial, { entry = "A", on_state = function() end })
        if ok and c then conns[#conns + 1] = c end
        depth = depth - 1
      end
    end
    if kind == 9 then   -- yields (and finally returns) hundreds of values
      local n = 1 + byte() % 3 * 100
      return coroutine.create(function(_, ev)
        while ev.group ~= "terminal" do
          _, ev = coroutine.yield(answer, table.unpack({}, 1, n))
        end
        return table.unpack({}, 1, n)
      end)
    end
    if kind == 10 then
      return coroutine.create(function(_, ev)
        while true do
          if ev.group == "paused" then _, ev = coroutine.yield(answer) else _, ev = coroutine.yield() end
        end
      end)
    end
    if kind == 11 then return coroutine.create(function() error({ "from a coroutine" }) end) end
    if kind == 12 then return coroutine.running() end   -- the main thread
    local dead = coroutine.create(function() end)
    coroutine.resume(dead)
    return dead
  end

  -- Wraps t in a metatable of a hostile kind, or returns it as it is.
  local function disguise(t)
    local kind = byte() % 8
    if kind == 0 then   -- a proxy: every read goes through __index
      return setmetatable({}, { __index = function(_, k) return t[k] end })
    end
    if kind == 1 then   -- answers once per key, then nil
      local seen = {}
      return setmetatable({}, { __index = function(_, k)
        if seen[k] then return nil end
        seen[k] = true
        return t[k]
      end })
    end
    if kind == 2 then   -- fresh strings each time, collecting garbage
      return setmetatable({}, { __index = function(_, k)
        collectgarbage()
        local v = t[k]
        if type(v) == "string" then return (v .. "x"):sub(1, -2) end
        return v
      end })
    end
    if kind == 3 then   -- grows while it is traversed
      local n = 0
      return setmetatable(t, { __index = function(self)
        n = n + 1
        if n < 50 then rawset(self, "extra" .. n, n) end
        return nil
      end })
    end
    if kind == 4 then
      return setmetatable({}, { __index = function() error("no such field") end })
    end
    if kind == 5 then   -- a table whose values are behind __index, a different one each read
      local n = 0
      return setmetatable({}, { __index = function(_, k)
        n = n + 1
        if n % 2 == 0 then return nil end
        return t[k]
      end })
    end
    return t
  end

  -- A table of keys from the list (and now and then any key), built on
  -- base (fields the bytes may override), in some disguise.
  local function table_of(keys, field, base)
    local t = base or {}
    for _ = 1, byte() % 6 do
      if chance(8) then
        local k = value(1)
        if k ~= nil and k == k then t[k] = value(1) end
      else
        local k = pick(keys)
        t[k] = field(k)
      end
    end
    return disguise(t)
  end

  local function states_list()
    local t = {}
    local n = chance(16) and 300 or byte() % 6
    for i = 1, n do
      if chance(4) then t[i] = number() else t[i] = pick(state_names) end
    end
    if chance(8) then t[#t + 1] = value(1) end
    return disguise(t)
  end

  local function scenario_field(k)
    if chance(6) then return value(1) end
    if k == "states" then return states_list() end
    if k == "step" or k == "drop_after" or k == "hangup_delay" then return pick(seconds) end
    if k == "fail" then
      return disguise({ at = chance(4) and number() or pick(state_names),
                        error = chance(2) and pick(integers) or value(1) })
    end
    if k == "callback" or k == "password_expired" then return chance(2) end
    return text()
  end

  -- ras.open("sim", ...)'s options: mostly an entry "A" with step 0 (and
  -- maybe a callback that pauses) to begin with, which the bytes may replace.
  local function options()
    local names_here = {}
    local base
    if not chance(4) then
      base = { entries = { A = { step = 0, callback = chance(2) } } }
      names_here[1] = "A"
    end
    local t = table_of(option_keys, function(k)
      if k == "entries" then
        local e = {}
        for _ = 1, byte() % 4 do
          local name = chance(3) and pick(entry_names) or text()
          names_here[#names_here + 1] = name
          -- step 0 unless the bytes say otherwise: dials end within a few pumps
          e[name] = chance(10) and value(1) or table_of(scenario_keys, scenario_field, { step = 0 })
        end
        if chance(8) then
          local key = number()
          if key == key then e[key] = {} end
        end
        return disguise(e)
      end
      if k == "established" then
        local e = {}
        for i = 1, byte() % 3 do e[i] = chance(2) and pick(entry_names) or text() end
        return disguise(e)
      end
      return text()
    end, base)
    return t, names_here
  end

  local function dial_field(ctx, k)
    if chance(6) then return value(1) end
    if k == "entry" then
      local known = names[ctx]
      if known and #known > 0 and not chance(4) then return known[byte() % #known + 1] end
      return pick(entry_names)
    end
    if k == "timeout" then return chance(2) and pick(floats) or number() end
    if k == "on_state" then return handler() end
    if k == "paused_states" then return chance(2) end
    return text()
  end

  function value(d)
    d = d or 0
    local kind = byte() % 12
    if kind == 0 then return nil end
    if kind == 1 then return chance(2) end
    if kind == 2 or kind == 3 then return number() end
    if kind == 4 or kind == 5 then return text() end
    if kind == 6 then return function() return value(d + 1) end end
    if kind == 7 then return handler() end
    if kind == 8 then return some_ctx() or ras end
    if kind == 9 then return some_conn() or io.stdout end
    if d >= 2 then return {} end
    local t = {}
    for _ = 1, byte() % 4 do
      local k = value(d + 1)
      if k ~= nil and k == k then t[k] = value(d + 1) end
    end
    return disguise(t)
  end

  -- A call into the module: under pcall, results kept only when wanted.
  local function try(f, ...)
    if type(f) ~= "function" then return end
    return pcall(f, ...)
  end

  local function add_conn(ok, c)
    if ok and type(c) == "userdata" and #conns < MAX_CONNS then conns[#conns + 1] = c end
    return ok and c
  end

  local function got_event(ok, ev)
    if ok and type(ev) == "table" then
      reached("event")
      reached(tostring(ev.group))
      if ev.state == "Connected" then reached("connected") end
      if ev.error then reached("error") end
    end
  end

  local ops = {
    open_sim = function()   -- open a sim context
      local opts, names_here = options()
      local ok, ctx = try(ras.open, "sim", chance(16) and value(1) or opts)
      if ok and type(ctx) == "table" and #ctxs < MAX_CONTEXTS then
        reached("open")
        ctxs[#ctxs + 1] = ctx
        names[ctx] = names_here
      end
    end,
    open_other = function()   -- open something else (never kept: only sim contexts dial)
      local name = pick { "sim\0x", "pppd", "win32", "nope", "", "SIM", 5 }
      try(ras.open, name, chance(2) and value(1) or table_of(words, function() return value(1) end))
    end,
    dial = function()   -- dial
      local ctx = some_ctx()
      if not ctx then return end
      local known = names[ctx]
      local base = known and #known > 0 and { entry = known[1], paused_states = chance(2) } or nil
      if add_conn(try(ctx.dial, table_of(dial_keys, function(k) return dial_field(ctx, k) end, base))) then
        reached("dial")
      end
    end,
    resume = function()   -- resume
      local c = some_conn()
      if not c then return end
      local ok, done = try(c.resume, c, table_of(resume_keys, function() return chance(4) and value(1) or text() end))
      if ok and done then reached("resume") end
    end,
    pump = function()   -- a connection's pumps, briefly
      local c = some_conn()
      if not c then return end
      local kind = byte() % 4
      if kind == 0 then got_event(try(c.next, c, 0))
      elseif kind == 1 then got_event(try(c.wait, c, 0))
      elseif kind == 2 then got_event(try(c.next, c, 0.002))
      else got_event(try(c.wait, c, 0.002)) end
    end,
    poll = function()   -- a context's pump, briefly
      local ctx = some_ctx()
      if not ctx then return end
      local ok, n = try(ctx.poll, chance(2) and 0 or 0.002)
      if ok and math.type(n) == "integer" and n > 0 then reached("poll") end
    end,
    hangup = function()   -- hang up, with a short timeout
      local c = some_conn()
      if c then try(c.hangup, c, chance(2) and 0 or 0.005) end
    end,
    status = function()   -- status and the small methods
      local c = some_conn()
      if not c then return end
      try(c.status, c)
      try(c.pollfd, c)
      try(c.timeout, c)
      try(tostring, c)
      local _, _ = c.entry, c.phonebook
    end,
    enumerate = function()   -- enumeration
      local ctx = some_ctx()
      if not ctx then return end
      if chance(2) then
        local ok, list = try(ctx.connections)
        if ok and type(list) == "table" then
          reached("connections")
          for _, c in ipairs(list) do add_conn(true, c) end
        end
      else
        try(ctx.entries, chance(2) and nil or value(1))
      end
    end,
    collect = function()   -- let go of something, collect
      local kind = byte() % 4
      if kind == 0 and #conns > 0 then table.remove(conns, byte() % #conns + 1)
      elseif kind == 1 and #ctxs > 0 then table.remove(ctxs, byte() % #ctxs + 1) end
      if chance(2) then collectgarbage() else collectgarbage("step") end
    end,
    module = function()   -- module functions with any argument
      local ctx = some_ctx() or ras
      local f = pick { ras.state_name, ras.state_group, ras.error_message, ctx.error_message,
                       ctx.state_name, ras.backends, ras.now, ctx.timeout, ctx.pollfd }
      try(f, value(1))
    end,
    close = function()   -- close a context (when the binding has close), then use it
      local ctx = some_ctx()
      if not ctx or not chance(3) then return end
      if type(ctx.close) == "function" and try(ctx.close, ctx) then reached("close") end
      local kind = byte() % 4
      if kind == 0 then try(ctx.poll, 0)
      elseif kind == 1 then add_conn(try(ctx.dial, { entry = "A" }))
      elseif kind == 2 then try(ctx.connections)
      else try(ctx.entries) end
    end,
    finalizer = function()   -- a finalizer that uses whatever contexts there are when it runs
      local all = ctxs
      setmetatable({}, { __gc = function()
        for _, ctx in ipairs(all) do
          pcall(ctx.poll, 0)
          pcall(ctx.connections)
          local ok, c = pcall(ctx.dial, { entry = "A" })
          if ok and type(c) == "userdata" then pcall(c.hangup, c, 0) end
        end
      end })
    end,
    entry = function()   -- the entry functions, with property tables built from the bytes
      local ctx = some_ctx()
      if not ctx then return end
      local function prop(k)
        if chance(3) then return value(1) end
        if k == "auth" or k == "dns" or k == "pppd_options" then
          local t = {}
          for i = 1, byte() % 4 do t[i] = chance(4) and value(1) or pick(entry_words) end
          return disguise(t)
        elseif k == "redial" then
          return table_of({ "attempts", "interval" }, function() return chance(2) and number() or value(1) end)
        end
        return chance(2) and pick(entry_words) or value(1)
      end
      local name = chance(4) and value(1) or pick(entry_words)
      local kind = byte() % 6
      if kind == 0 then
        if try(ctx.create_entry, table_of(entry_keys, prop, { name = name, type = pick(entry_words) })) then
          reached("entry")
        end
      elseif kind == 1 then try(ctx.update_entry, name, table_of(entry_keys, prop))
      elseif kind == 2 then try(ctx.entry, name, chance(4) and value(1) or nil)
      elseif kind == 3 then try(ctx.rename_entry, name, chance(2) and pick(entry_words) or value(1))
      elseif kind == 4 then try(ctx.delete_entry, name)
      else try(ctx.validate_entry_name, name) end
    end,
    credentials = function()   -- saved credentials
      local ctx = some_ctx()
      if not ctx then return end
      local name = chance(4) and value(1) or pick(entry_words)
      local kind = byte() % 3
      if kind == 0 then
        try(ctx.set_credentials, name,
            table_of(credential_keys, function() return chance(3) and value(1) or text() end))
      elseif kind == 1 then try(ctx.credentials, name)
      else try(ctx.clear_credentials, name) end
    end,
    watch = function()   -- a watcher, pumped briefly, maybe closed
      local ctx = some_ctx()
      if not ctx then return end
      local ok, w = try(ctx.watch, chance(2) and nil or table_of({ "initial", "on_change" }, function(k)
        if k == "on_change" and chance(2) then return handler() end
        return chance(2) and (byte() % 2 == 0) or value(1)
      end))
      if not (ok and type(w) == "userdata") then return end
      reached("watch")
      try(w.next, w, chance(2) and 0 or 0.002)
      try(w.pollfd, w)
      try(tostring, w)
      if chance(2) then try(w.close, w) end
      if chance(2) then try(ctx.poll, 0) end
    end,
    info = function()   -- statistics, projection, devices, error_info
      local c = some_conn()
      if c then
        try(c.statistics, c)
        try(c.projection, c)
      end
      local ctx = some_ctx() or ras
      try(ctx.devices)
      try(ras.error_info, value(1))
    end,
    method = function()   -- the method form: ctx:dial{...}
      local ctx = some_ctx()
      if ctx then add_conn(try(ctx.dial, ctx, { entry = "A" })) end
    end,
  }
  for _ = 1, MAX_OPS do
    if pos >= #data then break end
    ops[M.schedule[byte() % #M.schedule + 1]]()
  end
  -- what is left is collected by lua_close: contexts, connections, finalizers
end

return M
