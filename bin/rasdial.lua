#!/usr/bin/env lua5.4
-- lua-rasdial: rasdial.exe's command line on top of the ras module.
--
--   lua-rasdial entry [user [password|*]] [/domain:D] [/phone:N] [/callback:N]
--               [/phonebook:P] [/prefixsuffix]
--   lua-rasdial [entry] /disconnect
--   lua-rasdial                       (lists the active connections)
--
-- plus long options (--help). The password is never written anywhere: not in
-- output, not in JSON, not in an error message.
local ras = require "ras"

-- The reporters share one method interface; not all of them need self.
-- luacheck: ignore 212/self

local USAGE = [==[
Usage: lua-rasdial entry [user [password|*]] [/domain:D] [/phone:N] [/callback:N]
                   [/phonebook:P] [/prefixsuffix] [options]
       lua-rasdial [entry] /disconnect   (or /d; without entry: every connection)
       lua-rasdial [options]             (lists the active connections)
       lua-rasdial --watch [--interval MS] [options]

rasdial's forms: dial an entry, hang up a connection, or list them. A password
of * is asked for without echo (read from stdin when stdin is not a terminal).
A password given on the command line is visible to other local users in the
process list: prefer *.

Options:
  --backend NAME    a context of backend NAME (default: the module's, ras.backend)
  --scenario FILE   sim only (implies --backend sim): FILE is Lua returning the
                    ras.open("sim", options) table; its optional `activity`
                    list ({ at = s, dial = "E" } / { at = s, hangup = "E" })
                    plays other programs' dials and hang-ups during --watch
  --timeout S       dial timeout per attempt, in seconds (error 638 when reached)
  --retries N       retry a failed dial N times, waiting --backoff S (default 1),
                    doubled after each attempt, at most 30 s; errors that a retry
                    cannot cure are not retried (623, 646-649, 691, 703, 708)
  --json            one JSON object per line for every event
  --watch           follow connections appearing and disappearing until
                    interrupted (Ctrl-C: exit 0); polls ras.connections() every
                    --interval MS (default 500): other programs' connections have
                    no event source
  --tty, --no-tty   force or disable the live one-line display (default: on when
                    stdout is a terminal and TERM is not "dumb")
  --help, /?        this text

Exit status:
  0        connected, disconnected or listed as asked
  1        no context could be opened (unknown backend, bad scenario file)
  2        usage error (unknown option, bad parameter)
  100-254  RAS error 600-754: the exit status is the code - 500 (691 -> 191)
  255      any other RAS error (codes below 600 or above 754)
  130      interrupted by SIGINT during a dial (the dial is hung up first);
           note that RAS error 630 maps to 130 as well
  168      /disconnect found no such connection (RAS error 668)
]==]

local EXIT = { ok = 0, failure = 1, usage = 2, interrupted = 130 }
local ERROR_NO_CONNECTION = 668
local MAX_BACKOFF = 30

-- Errors that another attempt cannot cure: retrying them only repeats the
-- failure (and a wrong password repeated can lock the account).
local PERMANENT = { [623] = true, [646] = true, [647] = true, [648] = true,
                    [649] = true, [691] = true, [703] = true, [708] = true }

-- An exit status holds 0..255: RAS codes 600..754 become 100..254, so the
-- code can be read back from the status; anything else becomes 255.
local function exit_status(code)
  if code >= 600 and code <= 754 then return code - 500 end
  return 255
end

-- A usage error: raised as a table so that main tells it from a bug.
local function usage_error(message)
  error({ usage = message }, 0)
end

---------------------------------------------------------------------------
-- JSON: just enough for flat event objects (strings, numbers, booleans).

local ESCAPES = { ['"'] = '\\"', ['\\'] = '\\\\', ['\b'] = '\\b', ['\f'] = '\\f',
                  ['\n'] = '\\n', ['\r'] = '\\r', ['\t'] = '\\t' }

local function json_string(s)
  -- JSON text must be UTF-8: bytes of a non-UTF-8 name are read as Latin-1.
  local pattern = utf8.len(s) and '[%c"\\]' or '[%c"\\\128-\255]'
  return '"' .. s:gsub(pattern, function(c)
    return ESCAPES[c] or string.format("\\u%04x", c:byte())
  end) .. '"'
end

local function json_number(n)
  if n ~= n or n == math.huge or n == -math.huge then return "null" end
  if math.type(n) == "integer" then return tostring(n) end
  return (string.format("%.6f", n):gsub("%.?0+$", ""))
end

local function json_value(v)
  local t = type(v)
  if t == "string" then return json_string(v) end
  if t == "number" then return json_number(v) end
  if t == "boolean" then return tostring(v) end
  return "null"
end

-- A flat object with its keys sorted, so that lines are easy to compare.
local function json_object(t)
  local keys = {}
  for k in pairs(t) do keys[#keys + 1] = k end
  table.sort(keys)
  local parts = {}
  for i, k in ipairs(keys) do parts[i] = json_string(k) .. ":" .. json_value(t[k]) end
  return "{" .. table.concat(parts, ",") .. "}"
end

---------------------------------------------------------------------------
-- Command line

local LONG_WITH_VALUE = { backend = true, scenario = true, timeout = true,
                          retries = true, backoff = true, interval = true }
local LONG_FLAGS = { json = true, watch = true, help = true, tty = true, ["no-tty"] = true }
local SLASH_WITH_VALUE = { domain = "domain", phone = "number", callback = "callback_number",
                           phonebook = "phonebook" }

local function number_option(opts, name, min)
  local v = tonumber(opts[name])
  if not v or v < min then usage_error("--" .. name .. " needs a number >= " .. min) end
  opts[name] = v
end

local function parse_slash(opts, word)
  local name, value = word:match("^/(%a+):(.*)$")
  if name and SLASH_WITH_VALUE[name:lower()] then
    opts.params[SLASH_WITH_VALUE[name:lower()]] = value
    return
  end
  local flag = word:sub(2):lower()
  if flag == "disconnect" or flag == "d" then opts.disconnect = true
  elseif flag == "prefixsuffix" then opts.prefixsuffix = true
  elseif flag == "?" then opts.help = true
  else usage_error("unknown option " .. (name and "/" .. name or word)) end
end

-- Returns the options table; positional words are in opts.words.
local function parse_args(argv)
  local opts = { words = {}, params = {} }
  local i = 1
  while i <= #argv do
    local word = argv[i]
    local long = word:match("^%-%-(.+)$")
    if long and LONG_WITH_VALUE[long] then
      if argv[i + 1] == nil then usage_error("--" .. long .. " needs a value") end
      opts[long] = argv[i + 1]
      i = i + 1
    elseif long and LONG_FLAGS[long] then
      opts[long] = true
    elseif long or word:match("^%-.") then
      usage_error("unknown option " .. word)
    elseif word:match("^/.") then
      parse_slash(opts, word)
    else
      opts.words[#opts.words + 1] = word
    end
    i = i + 1
  end
  if opts.timeout then number_option(opts, "timeout", 0.001) end
  opts.retries, opts.backoff, opts.interval = opts.retries or 0, opts.backoff or 1, opts.interval or 500
  number_option(opts, "retries", 0)
  if math.type(opts.retries) ~= "integer" then usage_error("--retries needs a whole number") end
  number_option(opts, "backoff", 0)
  number_option(opts, "interval", 10)
  if #opts.words > 3 then usage_error("too many arguments") end
  return opts
end

---------------------------------------------------------------------------
-- The terminal

local function succeeded(...) return (...) == true end

local function is_terminal(fd)
  return succeeded(os.execute("test -t " .. fd))
end

local function wants_live_display(opts)
  if opts["no-tty"] then return false end
  if opts.tty then return true end
  return not opts.json and os.getenv("TERM") ~= "dumb" and is_terminal(1)
end

-- A to-be-closed value that runs fn when its scope ends, also on an error
-- (SIGINT raises "interrupted!" at the next Lua call).
local function on_scope_exit(fn)
  return setmetatable({}, { __close = fn })
end

-- Reads a line with the terminal's echo off, restoring the terminal's
-- settings on every path.
local function first_line_of(command)
  local f = io.popen(command)
  local line = f:read("l")
  f:close()
  return line
end

local function read_without_echo()
  local saved = first_line_of("stty -g 2>/dev/null") or ""
  if not saved:match("^[%x:]+$") then return io.read("l") end
  local restore <close> = on_scope_exit(function()  -- luacheck: ignore 211 (used by <close>)
    os.execute("stty " .. saved .. " 2>/dev/null")
  end)
  os.execute("stty -echo 2>/dev/null")
  return io.read("l")
end

local function ask_password(user, entry)
  if not is_terminal(0) then return io.read("l") end
  io.stderr:write(string.format("Enter the password for %s to connect to %s: ",
                                user, entry))
  io.stderr:flush()
  local password = read_without_echo()
  io.stderr:write("\n")
  return password
end

---------------------------------------------------------------------------
-- Reporters: how events reach the user. Each has the same methods.

local function write_line(...)
  io.stdout:write(...)
  io.stdout:write("\n")
  io.stdout:flush()
end

local function error_text(code, message)
  return string.format("Remote Access error %d - %s", code, message or ras.error_message(code))
end

local function connected_summary(conn, entry, elapsed)
  local st = conn and conn:status() or {}
  local where = {}
  if st.device_name then where[#where + 1] = st.device_name end
  if st.local_address and st.remote_address then
    where[#where + 1] = st.local_address .. " -> " .. st.remote_address
  end
  local detail = #where > 0 and " (" .. table.concat(where, ", ") .. ")" or ""
  return string.format("Connected to %s in %.2f s%s.", entry, elapsed, detail)
end

-- One line per state: for pipes and log files.
local Lines = {}
Lines.__index = Lines

function Lines:dialling(entry, attempt)
  write_line("Connecting to ", entry, attempt > 1 and string.format("... (attempt %d)", attempt) or "...")
end
function Lines:state(ev)
  write_line(string.format("%7.3f s  %s%s", ev.elapsed, ev.state,
                           ev.error and "  (error " .. ev.error .. ")" or ""))
end
function Lines.tick() end
function Lines:retry(delay, code)
  write_line(string.format("Error %d: retrying in %g s", code, delay))
end
function Lines:connected(conn, entry, elapsed)
  write_line(connected_summary(conn, entry, elapsed))
  write_line("Command completed successfully.")
end
function Lines:failed(code, message)
  write_line(error_text(code, message))
end
function Lines:interrupted(hung_up)
  write_line(hung_up and "Interrupted: the dial was hung up." or "Interrupted.")
end
function Lines:listed(conns)
  if #conns == 0 then write_line("No connections")
  else
    write_line("Connected to")
    for _, c in ipairs(conns) do write_line(c.entry) end
  end
  write_line("Command completed successfully.")
end
function Lines:hung_up(entry)
  write_line("Disconnected ", entry, ".")
end
function Lines:not_connected(entry)
  write_line(entry and "You are not connected to " .. entry .. "." or "No connections")
end
function Lines:done()
  write_line("Command completed successfully.")
end
function Lines:appeared(c, st)
  write_line(os.date("%H:%M:%S"), "  up    ", c.entry, "  (", st and st.state or "gone", ")")
end
function Lines:disappeared(entry)
  write_line(os.date("%H:%M:%S"), "  down  ", entry)
end

-- The live display: one line redrawn with \r (state, elapsed time, spinner),
-- then a summary line.
local SPINNER = { "|", "/", "-", "\\" }
local Live = setmetatable({}, { __index = Lines })
Live.__index = Live
Live.tick_seconds = 0.1

function Live:redraw()
  self.frame = self.frame % #SPINNER + 1
  io.stdout:write(string.format("\r%s %s: %-20s %6.1f s\027[K", SPINNER[self.frame],
                                self.entry, self.current, ras.now() - self.started))
  io.stdout:flush()
end
function Live:clear()
  io.stdout:write("\r\027[K")
end
function Live:dialling(entry, attempt)
  self.entry, self.frame, self.started = entry, 0, ras.now()
  self.current = attempt > 1 and string.format("dialling (attempt %d)", attempt) or "dialling"
  self:redraw()
end
function Live:state(ev)
  self.current = ev.state
  self:redraw()
end
function Live:tick() self:redraw() end
function Live:retry(delay, code)
  self:clear()
  Lines.retry(self, delay, code)
end
function Live:connected(...)
  self:clear()
  Lines.connected(self, ...)
end
function Live:failed(...)
  self:clear()
  Lines.failed(self, ...)
end
function Live:interrupted(hung_up)
  self:clear()
  Lines.interrupted(self, hung_up)
end

-- One JSON object per line.
local Json = {}
Json.__index = Json

local function emit(fields) write_line(json_object(fields)) end

function Json:dialling(entry, attempt)
  self.entry, self.attempt = entry, attempt
  emit { event = "dial", entry = entry, attempt = attempt }
end
function Json:state(ev)
  emit { event = "state", entry = self.entry, attempt = self.attempt, state = ev.state,
         state_code = ev.state_code, group = ev.group, elapsed = ev.elapsed,
         error = ev.error, message = ev.message, extended_error = ev.extended_error }
end
function Json.tick() end
function Json:retry(delay, code)
  emit { event = "retry", entry = self.entry, attempt = self.attempt + 1, delay = delay, error = code }
end
function Json:connected(conn, entry, elapsed)
  local st = conn:status() or {}
  emit { event = "result", status = "connected", entry = entry, elapsed = elapsed,
         device_name = st.device_name, device_type = st.device_type, interface = st.interface,
         local_address = st.local_address, remote_address = st.remote_address, exit = 0 }
end
function Json:failed(code, message)
  emit { event = "result", status = "failed", entry = self.entry, error = code,
         message = message or ras.error_message(code), exit = exit_status(code) }
end
function Json:interrupted()
  emit { event = "result", status = "interrupted", entry = self.entry, exit = EXIT.interrupted }
end
function Json.listed(_, conns)
  for _, c in ipairs(conns) do
    local st = c:status() or {}
    emit { event = "connection", entry = c.entry, phonebook = c.phonebook, state = st.state,
           device_name = st.device_name, interface = st.interface }
  end
  emit { event = "result", status = "listed", count = #conns, exit = 0 }
end
function Json.hung_up(_, entry) emit { event = "disconnected", entry = entry } end
function Json.not_connected(_, entry)
  emit { event = "result", status = "failed", entry = entry, error = ERROR_NO_CONNECTION,
         message = "not connected", exit = exit_status(ERROR_NO_CONNECTION) }
end
function Json.done() emit { event = "result", status = "disconnected", exit = 0 } end
function Json.appeared(_, c, st)
  emit { event = "up", entry = c.entry, phonebook = c.phonebook, state = st and st.state,
         time = os.time() }
end
function Json.disappeared(_, entry) emit { event = "down", entry = entry, time = os.time() } end

local function make_reporter(opts)
  if opts.json then return setmetatable({}, Json) end
  if wants_live_display(opts) then return setmetatable({}, Live) end
  return setmetatable({}, Lines)
end

---------------------------------------------------------------------------
-- The context

local function load_scenario(path)
  local chunk, err = loadfile(path, "t")
  if not chunk then return nil, err end
  local ok, options = pcall(chunk)
  if not ok then return nil, path .. ": " .. tostring(options) end
  if type(options) ~= "table" then return nil, path .. ": must return the ras.open options table" end
  return options
end

-- Returns the context and the scenario's activity list (sim only), or nil
-- and a message.
local function open_context(opts)
  if not opts.scenario and not opts.backend then return ras end
  local backend = opts.backend or "sim"
  if opts.scenario and backend ~= "sim" then usage_error("--scenario is for --backend sim only") end
  local options, activity
  if opts.scenario then
    local err
    options, err = load_scenario(opts.scenario)
    if not options then return nil, err end
    activity = options.activity
    options.activity = nil  -- ours, not ras.open's
  end
  local ok, ctx, err = pcall(ras.open, backend, options)
  if not ok then return nil, ctx end
  return ctx, err, activity
end

-- Waits `seconds` without spinning: the context's pump blocks on its wake-up
-- descriptor and dispatches whatever comes meanwhile.
local function pause(ctx, seconds)
  local deadline = ras.now() + seconds
  repeat ctx.poll(math.max(0, deadline - ras.now())) until ras.now() >= deadline
end

---------------------------------------------------------------------------
-- Dialling

-- The connection being dialled, so that an interrupt can hang it up.
local current_conn

-- One attempt: returns conn on Connected, else nil, code, message.
local function dial_once(ctx, params, out, attempt)
  out:dialling(params.entry, attempt)
  local ok, conn, message, code = pcall(ctx.dial, params)
  if not ok then usage_error(tostring(conn)) end  -- a bad parameter: names it, never its value
  if not conn then return nil, code, message end
  current_conn = conn
  while true do
    local ev, why = conn:next(out.tick_seconds)
    if ev then
      out:state(ev)
      if ev.state == "Connected" then return conn end
      if ev.state == "Disconnected" then return nil, ev.error or 631, ev.message end
    elseif why == "disconnected" then
      return nil, 631
    else
      out:tick()
    end
  end
end

local function dial_params(opts)
  local words = opts.words
  local params = opts.params
  params.entry, params.username = words[1], words[2]
  params.password = words[3]
  if params.password == "*" then
    params.password = ask_password(params.username, params.entry)
    if not params.password then usage_error("no password was read") end
  end
  params.timeout = opts.timeout
  return params
end

local function dial(ctx, opts, out)
  local params = dial_params(opts)
  local delay = opts.backoff
  for attempt = 1, opts.retries + 1 do
    local started = ras.now()
    local conn, code, message = dial_once(ctx, params, out, attempt)
    if conn then
      out:connected(conn, params.entry, ras.now() - started)
      return EXIT.ok
    end
    current_conn = nil
    if attempt > opts.retries or PERMANENT[code] then
      out:failed(code, message)
      return exit_status(code)
    end
    out:retry(delay, code)
    pause(ctx, delay)
    delay = math.min(delay * 2, MAX_BACKOFF)
  end
end

---------------------------------------------------------------------------
-- Listing, disconnecting, watching

local function connections(ctx)
  local list, message, code = ctx.connections()
  if not list then error({ ras_error = code, message = message }, 0) end
  return list
end

local function list(ctx, out)
  out:listed(connections(ctx))
  return EXIT.ok
end

local function disconnect(ctx, entry, out)
  local matching = {}
  for _, c in ipairs(connections(ctx)) do
    if not entry or c.entry == entry then matching[#matching + 1] = c end
  end
  if #matching == 0 then
    out:not_connected(entry)
    return exit_status(ERROR_NO_CONNECTION)
  end
  for _, c in ipairs(matching) do
    local ok, message, code = c:hangup()
    if not ok then
      out:failed(code or 638, message)
      return exit_status(code or 638)
    end
    out:hung_up(c.entry)
  end
  out:done()
  return EXIT.ok
end

-- The scenario's activity: other programs dialling and hanging up, played
-- in our own context (a simulator is private to its process).
local function play_activity(ctx, activity, elapsed, dialled)
  for _, step in ipairs(activity or {}) do
    if not step.done and elapsed >= (step.at or 0) then
      step.done = true
      if step.dial then dialled[#dialled + 1] = ctx.dial { entry = step.dial } end
      if step.hangup then
        for _, c in ipairs(connections(ctx)) do
          if c.entry == step.hangup then c:hangup() end
        end
      end
    end
  end
end

-- Polling, by necessity: connections of other programs have no event
-- source. The wait between two looks is the context's pump, so events of
-- connections we hold (their Disconnected) end it early.
local function watch(ctx, opts, out, activity)
  local seen, dialled = {}, {}
  local started = ras.now()
  while true do
    play_activity(ctx, activity, ras.now() - started, dialled)
    local up = {}
    for _, c in ipairs(connections(ctx)) do
      up[c] = true
      if not seen[c] then
        seen[c] = c.entry
        out:appeared(c, c:status())
      end
    end
    for c, entry in pairs(seen) do
      if not up[c] then
        seen[c] = nil
        out:disappeared(entry)
      end
    end
    pause(ctx, opts.interval / 1000)
  end
end

---------------------------------------------------------------------------
-- main

local function is_interrupt(err)
  return type(err) == "string" and err:find("interrupted!", 1, true) ~= nil
end

local function run(opts, out)
  local ctx, message, activity = open_context(opts)
  if not ctx then
    io.stderr:write("lua-rasdial: ", tostring(message), "\n")
    return EXIT.failure
  end
  if opts.watch then return watch(ctx, opts, out, activity) end
  if opts.disconnect then return disconnect(ctx, opts.words[1], out) end
  if #opts.words == 0 then return list(ctx, out) end
  if opts.prefixsuffix then
    io.stderr:write("lua-rasdial: /prefixsuffix has no effect (no dialling rules here)\n")
  end
  return dial(ctx, opts, out)
end

-- Maps whatever ended the run to an exit status.
local function finish(err, opts, out)
  if is_interrupt(err) then
    if opts.watch then return EXIT.ok end
    if current_conn then current_conn:hangup(5) end
    out:interrupted(current_conn ~= nil)
    return EXIT.interrupted
  end
  if type(err) == "table" and err.usage then
    io.stderr:write("lua-rasdial: ", err.usage, "\n(lua-rasdial --help for usage)\n")
    return EXIT.usage
  end
  if type(err) == "table" and err.ras_error then
    out:failed(err.ras_error, err.message)
    return exit_status(err.ras_error)
  end
  io.stderr:write("lua-rasdial: ", tostring(err), "\n")
  return EXIT.failure
end

local function main(argv)
  local ok, opts = pcall(parse_args, argv)
  if not ok then return finish(opts, {}, nil) end
  if opts.help then
    io.stdout:write(USAGE)
    return EXIT.ok
  end
  local out = make_reporter(opts)
  local status
  ok, status = xpcall(run, function(err)
    if type(err) == "string" and not is_interrupt(err) then return debug.traceback(err, 2) end
    return err
  end, opts, out)
  if ok then return status end
  return finish(status, opts, out)
end

os.exit(main(arg), true)
