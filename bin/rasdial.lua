#!/usr/bin/env lua5.4
-- lua-rasdial: rasdial.exe's command line on top of the ras module, plus
-- phone-book entries and saved credentials in the words of PowerShell's
-- VpnClient cmdlets, a watcher and connection status.
--
--   lua-rasdial entry [user [password|*]] [/domain:D] [/phone:N] [/callback:N]
--               [/phonebook:P] [/prefixsuffix]
--   lua-rasdial [entry] /disconnect
--   lua-rasdial                       (lists the active connections)
--   lua-rasdial --add-entry NAME --server-address HOST --tunnel-type Sstp ...
--
-- plus long options (--help). Passwords and pre-shared keys are never
-- written anywhere: not in output, not in JSON, not in an error message.
local ras = require "ras"

-- The reporters share one method interface; not all of them need self.
-- luacheck: ignore 212/self

local USAGE = [==[
Usage: lua-rasdial entry [user [password|*]] [/domain:D] [/phone:N] [/callback:N]
                   [/phonebook:P] [/prefixsuffix] [options]
       lua-rasdial [entry] /disconnect   (or /d; without entry: every connection)
       lua-rasdial [options]             (lists the active connections)
       lua-rasdial --watch [options]     (connections coming up and going away)
       lua-rasdial --status [entry] [--watch] [options]

rasdial's forms: dial an entry, hang up a connection, or list them. A password
of * is asked for without echo (read from stdin when stdin is not a terminal).
A password given on the command line is visible to other local users in the
process list: prefer *.

Phone-book entries, after PowerShell's Get-/Add-/Set-/Remove-VpnConnection:
       lua-rasdial --list-entries
       lua-rasdial --list-devices       (the devices an entry can dial through)
       lua-rasdial --show-entry NAME    (its properties and saved credentials)
       lua-rasdial --add-entry NAME [entry options]
       lua-rasdial --set-entry NAME [entry options]   (only those given change)
       lua-rasdial --rename-entry OLD NEW
       lua-rasdial --remove-entry NAME
       lua-rasdial --set-credentials NAME USER [PASSWORD|*]
                   [--domain D] [--psk KEY|*]
       lua-rasdial --clear-credentials NAME
Each takes --phonebook P (or /phonebook:P) for another phone book than the
default; --pass-thru after a change shows what it left (the entry and its
credentials as --show-entry does; after --remove-entry the entries left).
--set-credentials saves what is given; * asks for the password or the key
without echo (from stdin when it is not a terminal: the password's line
first, then the key's). Neither is ever shown: --show-entry says only
whether one is saved.

Entry options (choices are case-insensitive; the module's words work too):
  --type Modem|Vpn|Broadband|Direct     (--add-entry: Vpn unless given)
  --server-address HOST    a VPN's server (the entry's number)
  --phone-number N         a modem's number, a broadband entry's service name
  --device NAME            a tty, a network interface (PPPoE), a Windows device
  --tunnel-type Pptp|L2tp|Sstp|Ikev2|Automatic
  --authentication-method Pap,Chap,MSChapv2,Eap   (comma-separated)
  --encryption-level NoEncryption|Optional|Required|Maximum
  --split-tunneling        not the default gateway: only the link's networks go
                           through it (--no-split-tunneling: everything does)
  --dns-servers A,B        DNS server addresses ("" for none)
  --use-peer-dns, --no-use-peer-dns   the DNS servers the server offers
  --ipv4, --no-ipv4, --ipv6, --no-ipv6
  --idle-disconnect-seconds S        hang up after S idle seconds (0: never)
  --redial-attempts N, --redial-interval S
  --username USER          the entry's default user name (not a credential)
  --pppd-option WORD       pppd only, repeatable: an extra pppd word;
                           --no-pppd-options removes them all

Options:
  --backend NAME    a context of backend NAME (default: the module's, ras.backend)
  --scenario FILE   sim only (implies --backend sim): FILE is Lua returning the
                    ras.open("sim", options) table, its `activity` list
                    included (other programs' dials and hang-ups)
  --phonebook P     the phone book of the entry dialled, shown or changed
  --domain D        the domain of a dial (/domain:D) or of --set-credentials
  --timeout S       dial timeout per attempt, in seconds (error 638 when reached)
  --retries N       retry a failed dial N times, waiting --backoff S (default 1),
                    doubled after each attempt, at most 30 s; errors that
                    ras.error_info() calls not retryable (623, 646-649, 691,
                    703, 708, configuration errors) are not retried
  --json            one JSON object per line for every event and result
  --watch           follow connections appearing and disappearing, until
                    interrupted (Ctrl-C: exit 0), from the backend's watcher:
                    no polling. With --status: redraw the status every second
  --status [entry]  status, projection (addresses, DNS, authentication,
                    encryption) and statistics of every connection, or one
  --interval MS     deprecated, ignored (--watch no longer polls)
  --tty, --no-tty   force or disable the live display (default: on when
                    stdout is a terminal and TERM is not "dumb")
  --help, /?        this text

Exit status:
  0        connected, disconnected, listed, shown or changed as asked
  1        no context could be opened (unknown backend, bad scenario file)
  2        usage error (unknown option, bad parameter or property)
  100-254  RAS error 600-754: the exit status is the code - 500 (691 -> 191)
           (623 -> 123: no such entry)
  255      any other RAS error (codes below 600 or above 754: 183 the entry
           exists, 123 not a valid name, 120 not supported by the backend)
  130      interrupted by SIGINT during a dial (the dial is hung up first);
           note that RAS error 630 maps to 130 as well
  168      /disconnect or --status found no such connection (RAS error 668)
]==]

local EXIT = { ok = 0, failure = 1, usage = 2, interrupted = 130 }
local ERROR_NO_CONNECTION = 668
local MAX_BACKOFF = 30
-- Lua notices SIGINT only when Lua code runs, so waits for changes are cut
-- into slices this long: a wake-up of the CLI, no look at the connections.
local INTERRUPT_SLICE = 0.25
local STATUS_REFRESH = 1

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

-- A RAS error that ends the run with its exit status.
local function ras_failure(code, message)
  error({ ras_error = code, message = message }, 0)
end

---------------------------------------------------------------------------
-- JSON: strings, numbers, booleans, and the module's tables (objects, and
-- arrays of texts).

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

-- The properties whose values are arrays, also when empty.
local JSON_ARRAYS = { auth = true, dns = true, pppd_options = true }

local json_object

local function json_value(v, key)
  local t = type(v)
  if t == "string" then return json_string(v) end
  if t == "number" then return json_number(v) end
  if t == "boolean" then return tostring(v) end
  if t == "table" then
    if v[1] == nil and not JSON_ARRAYS[key] then return json_object(v) end
    local parts = {}
    for i, item in ipairs(v) do parts[i] = json_value(item) end
    return "[" .. table.concat(parts, ",") .. "]"
  end
  return "null"
end

-- An object with its keys sorted, so that lines are easy to compare.
function json_object(t)
  local keys = {}
  for k in pairs(t) do
    if type(k) == "string" then keys[#keys + 1] = k end
  end
  table.sort(keys)
  local parts = {}
  for i, k in ipairs(keys) do parts[i] = json_string(k) .. ":" .. json_value(t[k], k) end
  return "{" .. table.concat(parts, ",") .. "}"
end

---------------------------------------------------------------------------
-- PowerShell's words for the module's choices: { PowerShell, module }.

local CHOICES = {
  type = { { "Modem", "modem" }, { "Vpn", "vpn" }, { "Broadband", "broadband" },
           { "Direct", "direct" } },
  vpn = { { "Pptp", "pptp" }, { "L2tp", "l2tp" }, { "Sstp", "sstp" }, { "Ikev2", "ikev2" },
          { "Automatic", "auto" } },
  auth = { { "Pap", "pap" }, { "Chap", "chap" }, { "MSChapv2", "mschapv2" }, { "Eap", "eap" } },
  encryption = { { "NoEncryption", "none" }, { "Optional", "optional" },
                 { "Required", "required" }, { "Maximum", "maximum" } },
}

local function choice_list(kind)
  local names = {}
  for i, c in ipairs(CHOICES[kind]) do names[i] = c[1] end
  return table.concat(names, ", ", 1, #names - 1) .. " or " .. names[#names]
end

-- The module's word for a word typed in either spelling, or nil.
local function module_word(kind, word)
  word = word:lower()
  for _, c in ipairs(CHOICES[kind]) do
    if word == c[1]:lower() or word == c[2] then return c[2] end
  end
end

-- PowerShell's spelling of a module word (the word itself if unknown).
local function spelling(kind, word)
  for _, c in ipairs(CHOICES[kind]) do
    if c[2] == word then return c[1] end
  end
  return word
end

---------------------------------------------------------------------------
-- Command line

-- Actions and how many values follow each.
local ACTIONS = { ["list-devices"] = 0, ["list-entries"] = 0, ["show-entry"] = 1, ["add-entry"] = 1,
                  ["set-entry"] = 1, ["rename-entry"] = 2, ["remove-entry"] = 1,
                  ["set-credentials"] = 1, ["clear-credentials"] = 1, status = 0 }

local LONG_WITH_VALUE = { backend = true, scenario = true, timeout = true,
                          retries = true, backoff = true, interval = true,
                          phonebook = true, domain = true, psk = true }
local LONG_FLAGS = { json = true, watch = true, help = true, tty = true, ["no-tty"] = true,
                     ["pass-thru"] = true }
local SLASH_WITH_VALUE = { domain = "domain", phone = "number", callback = "callback_number",
                           phonebook = "phonebook" }

local function as_text(v) return v end

local function choice(kind)
  return function(v, option)
    return module_word(kind, v) or usage_error(string.format("bad value for --%s (expected %s)",
                                                             option, choice_list(kind)))
  end
end

local function words_of(v)
  local list = {}
  for word in v:gmatch("[^,]+") do
    list[#list + 1] = word:match("^%s*(.-)%s*$")
  end
  return list
end

local function auth_list(v, option)
  local list = words_of(v)
  if #list == 0 then usage_error("--" .. option .. " needs at least one method") end
  for i, word in ipairs(list) do list[i] = choice("auth")(word, option) end
  return list
end

local function number_of(v, option, whole)
  local n = tonumber(v)
  if not n or n < 0 or (whole and math.type(n) ~= "integer") then
    usage_error("--" .. option .. " needs a " .. (whole and "whole " or "") .. "number >= 0")
  end
  return n
end

local function as_seconds(v, option) return number_of(v, option, false) end
local function as_whole(v, option) return number_of(v, option, true) end

-- Entry options: option -> the property it sets and how its value is read.
local PROPERTY_OPTIONS = {
  type = { "type", choice("type") },
  device = { "device", as_text },
  ["server-address"] = { "number", as_text },
  ["phone-number"] = { "number", as_text },
  ["tunnel-type"] = { "vpn", choice("vpn") },
  ["authentication-method"] = { "auth", auth_list },
  ["encryption-level"] = { "encryption", choice("encryption") },
  ["dns-servers"] = { "dns", words_of },
  ["idle-disconnect-seconds"] = { "idle_disconnect", as_seconds },
  ["redial-attempts"] = { "redial.attempts", as_whole },
  ["redial-interval"] = { "redial.interval", as_seconds },
  username = { "username", as_text },
}

-- Entry flags: option -> the property and its value.
local PROPERTY_FLAGS = {
  ["split-tunneling"] = { "default_gateway", false },
  ["no-split-tunneling"] = { "default_gateway", true },
  ["use-peer-dns"] = { "use_peer_dns", true }, ["no-use-peer-dns"] = { "use_peer_dns", false },
  ipv4 = { "ipv4", true }, ["no-ipv4"] = { "ipv4", false },
  ipv6 = { "ipv6", true }, ["no-ipv6"] = { "ipv6", false },
}

-- The option that set each property, to name it in errors.
local OPTION_OF = {}

local function set_property(opts, option, property, value)
  if opts.properties_seen[property] then
    usage_error(string.format("--%s and --%s both set the %s", opts.properties_seen[property],
                              option, property))
  end
  opts.properties_seen[property] = option
  OPTION_OF[property] = option
  local record, field = property:match("^(%w+)%.(%w+)$")
  if record then
    OPTION_OF[record] = OPTION_OF[record] or option
    opts.properties[record] = opts.properties[record] or {}
    opts.properties[record][field] = value
  else
    opts.properties[property] = value
  end
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

local function set_action(opts, action, values)
  if opts.action then usage_error("--" .. opts.action .. " and --" .. action .. " cannot be combined") end
  opts.action, opts.action_values = action, values
end

-- Takes the `n` values after argv[i] for --long; returns them.
local function values_after(argv, i, n, long)
  local values = {}
  for k = 1, n do
    if argv[i + k] == nil then
      usage_error("--" .. long .. " needs " .. (n == 1 and "a value" or n .. " values"))
    end
    values[k] = argv[i + k]
  end
  return values
end

-- One long option at argv[i]; returns how many words it took.
local function parse_long(opts, argv, i, long)
  local inline
  -- --name=value, for the options that take one value (the value is never
  -- shown: it might be a secret typed in the wrong place).
  local name, value = long:match("^([%w-]+)=(.*)$")
  if name then long, inline = name, value end
  local takes = ACTIONS[long] or ((LONG_WITH_VALUE[long] or PROPERTY_OPTIONS[long]
                                   or long == "pppd-option") and 1)
  if inline and takes ~= 1 then
    local known = ACTIONS[long] or LONG_FLAGS[long] or PROPERTY_FLAGS[long] or long == "no-pppd-options"
    usage_error(known and "--" .. long .. " takes no =value" or "unknown option --" .. long)
  end
  local values = inline and { inline } or (takes and values_after(argv, i, takes, long)) or {}
  local used = inline and 0 or #values
  if ACTIONS[long] then set_action(opts, long, values)
  elseif LONG_WITH_VALUE[long] then
    if long == "phonebook" then opts.params.phonebook = values[1]
    elseif long == "domain" then opts.params.domain = values[1]
    else opts[long] = values[1] end
  elseif PROPERTY_OPTIONS[long] then
    local property, read = table.unpack(PROPERTY_OPTIONS[long])
    set_property(opts, long, property, read(values[1], long))
  elseif long == "pppd-option" then
    opts.pppd_options[#opts.pppd_options + 1] = values[1]
    opts.properties.pppd_options, OPTION_OF.pppd_options = opts.pppd_options, "pppd-option"
  elseif long == "no-pppd-options" then
    opts.properties.pppd_options, OPTION_OF.pppd_options = {}, "no-pppd-options"
  elseif PROPERTY_FLAGS[long] then
    set_property(opts, long, PROPERTY_FLAGS[long][1], PROPERTY_FLAGS[long][2])
  elseif LONG_FLAGS[long] then
    opts[long] = true
  else
    usage_error("unknown option --" .. long)
  end
  return used
end

local function number_option(opts, name, min)
  local v = tonumber(opts[name])
  if not v or v < min then usage_error("--" .. name .. " needs a number >= " .. min) end
  opts[name] = v
end

-- The forms that change something (--pass-thru shows the result).
local CHANGES = { ["add-entry"] = true, ["set-entry"] = true, ["rename-entry"] = true,
                  ["remove-entry"] = true, ["set-credentials"] = true, ["clear-credentials"] = true }

-- How many positional words each form takes, at most (and at least).
local WORDS = { ["set-credentials"] = { 1, 2 }, status = { 0, 1 } }

-- The combinations that make no sense are usage errors, named.
local function check_combination(opts)
  local action = opts.action
  local entry_form = action == "add-entry" or action == "set-entry"
  if next(opts.properties) and not entry_form then
    local property = next(opts.properties)
    usage_error("--" .. OPTION_OF[property] .. " is for --add-entry and --set-entry")
  end
  if opts.psk and action ~= "set-credentials" then usage_error("--psk is for --set-credentials") end
  if opts["pass-thru"] and not CHANGES[action] then
    usage_error("--pass-thru is for the forms that change entries or credentials")
  end
  if opts.watch and action and action ~= "status" then
    usage_error("--watch goes with --status only, not --" .. action)
  end
  if opts.disconnect and (action or opts.watch) then
    usage_error("/disconnect cannot be combined with --" .. (action or "watch"))
  end
  local range = WORDS[action] or (action and { 0, 0 }) or { 0, 3 }
  if #opts.words > range[2] then usage_error("too many arguments") end
  if #opts.words < range[1] then usage_error("--" .. action .. " needs NAME and USER") end
end

-- Returns the options table; positional words are in opts.words.
local function parse_args(argv)
  local opts = { words = {}, params = {}, properties = {}, properties_seen = {},
                 pppd_options = {} }
  local i = 1
  while i <= #argv do
    local word = argv[i]
    local long = word:match("^%-%-(.+)$")
    if long then
      i = i + parse_long(opts, argv, i, long)
    elseif word:match("^%-.") then
      usage_error("unknown option " .. (word:match("^([^=]*)=") or word))
    elseif word:match("^/.") then
      parse_slash(opts, word)
    else
      opts.words[#opts.words + 1] = word
    end
    i = i + 1
  end
  check_combination(opts)
  if opts.timeout then number_option(opts, "timeout", 0.001) end
  opts.retries, opts.backoff = opts.retries or 0, opts.backoff or 1
  number_option(opts, "retries", 0)
  if math.type(opts.retries) ~= "integer" then usage_error("--retries needs a whole number") end
  number_option(opts, "backoff", 0)
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

-- The prompt comes after the echo is off: what is typed as soon as it
-- shows is not echoed.
local function read_without_echo(prompt)
  local saved = first_line_of("stty -g 2>/dev/null") or ""
  local restore <close> = on_scope_exit(function()  -- luacheck: ignore 211 (used by <close>)
    if saved:match("^[%x:]+$") then os.execute("stty " .. saved .. " 2>/dev/null") end
  end)
  if saved:match("^[%x:]+$") then os.execute("stty -echo 2>/dev/null") end
  io.stderr:write(prompt, ": ")
  io.stderr:flush()
  return io.read("l")
end

-- Asks for a secret with `prompt` (without echo on a terminal; a line of
-- stdin otherwise); a usage error when none can be read.
local function ask_secret(prompt)
  local secret
  if not is_terminal(0) then
    secret = io.read("l")
  else
    secret = read_without_echo(prompt)
    io.stderr:write("\n")
  end
  if not secret then usage_error("no password was read") end
  return secret
end

---------------------------------------------------------------------------
-- Reporters: how events reach the user. Each has the same methods.

local function write_line(...)
  io.stdout:write(...)
  io.stdout:write("\n")
  io.stdout:flush()
end

-- A name or value as text output shows it: control bytes escaped, so that
-- no entry name can forge a line or drive the terminal.
local CONTROL = { ["\n"] = "\\n", ["\r"] = "\\r", ["\t"] = "\\t" }
local function printable(v)
  return (tostring(v):gsub("[%c\127]", function(c)
    return CONTROL[c] or string.format("\\x%02x", c:byte())
  end))
end

local function error_text(code, message)
  return string.format("Remote Access error %d - %s", code, printable(message or ras.error_message(code)))
end

local function connected_summary(conn, entry, elapsed)
  local st = conn and conn:status() or {}
  local where = {}
  if st.device_name then where[#where + 1] = st.device_name end
  if st.local_address and st.remote_address then
    where[#where + 1] = st.local_address .. " -> " .. st.remote_address
  end
  local detail = #where > 0 and " (" .. table.concat(where, ", ") .. ")" or ""
  return string.format("Connected to %s in %.2f s%s.", printable(entry), elapsed, printable(detail))
end

local function yes_no(v)
  if v == nil then return nil end
  return v and "True" or "False"
end

local function spelled_list(kind, words)
  if not words then return nil end
  local spelled = {}
  for i, w in ipairs(words) do spelled[i] = spelling(kind, w) end
  return table.concat(spelled, ",")
end

-- A pppd word as the shell would need it: quoted when it has to be.
local function shown_word(w)
  if w:match("^[%w%-_./:=,+@]+$") then return w end
  return "'" .. w:gsub("'", "'\\''") .. "'"
end

-- The rows of --show-entry, in PowerShell's names where it has them.
local function entry_rows(e, creds)
  local rows = {}
  local function add(label, value)
    if value ~= nil then rows[#rows + 1] = { label, type(value) == "number" and json_number(value) or value } end
  end
  add("Name", e.name)
  add("Phonebook", e.phonebook)
  add("Type", e.type and spelling("type", e.type))
  add("Device", e.device)
  add(e.type == "vpn" and "ServerAddress" or "PhoneNumber", e.number)
  add("TunnelType", e.vpn and spelling("vpn", e.vpn))
  add("AuthenticationMethod", spelled_list("auth", e.auth))
  add("EncryptionLevel", e.encryption and spelling("encryption", e.encryption))
  if e.default_gateway ~= nil then add("SplitTunneling", yes_no(not e.default_gateway)) end
  add("DnsServers", e.dns and table.concat(e.dns, ","))
  add("UsePeerDns", yes_no(e.use_peer_dns))
  add("IPv4", yes_no(e.ipv4))
  add("IPv6", yes_no(e.ipv6))
  add("IdleDisconnectSeconds", e.idle_disconnect)
  add("RedialAttempts", e.redial and e.redial.attempts)
  add("RedialInterval", e.redial and e.redial.interval)
  add("UserName", e.username)
  if e.pppd_options then
    local words = {}
    for i, w in ipairs(e.pppd_options) do words[i] = shown_word(w) end
    add("PppdOptions", table.concat(words, " "))
  end
  if creds then
    add("SavedUserName", creds.username)
    add("SavedDomain", creds.domain)
    add("SavedPassword", yes_no(creds.saved_password))
    add("SavedPsk", yes_no(creds.saved_psk))
  end
  return rows
end

-- Rows as PowerShell's Format-List writes them: "Name  : value".
local function write_rows(rows, indent)
  local width = 0
  for _, r in ipairs(rows) do width = math.max(width, #r[1]) end
  for _, r in ipairs(rows) do
    write_line(string.format("%s%-" .. width .. "s : %s", indent or "", r[1], printable(r[2])))
  end
end

-- Seconds as h:mm:ss (a count no clock can show as "?").
local function clock(s)
  s = math.tointeger(math.floor(s))
  if not s or s < 0 then return "?" end
  return string.format("%d:%02d:%02d", s // 3600, s // 60 % 60, s % 60)
end

-- The rows of --status for one connection's snapshot.
local function status_rows(snap)
  local st, p, stats = snap.status or {}, snap.projection or {}, snap.statistics or {}
  local rows = {}
  local function add(label, value)
    if value ~= nil then rows[#rows + 1] = { label, type(value) == "number" and json_number(value) or value } end
  end
  add("State", st.state and (st.state .. (st.error and " (error " .. st.error .. ")" or "")) or "gone")
  if st.substate and st.substate ~= "None" then add("Substate", st.substate) end
  add("Device", st.device_name and st.device_name .. (st.device_type and " (" .. st.device_type .. ")" or ""))
  add("Interface", p.interface or st.interface)
  local ipv4 = p.ipv4 or { address = st.local_address, server_address = st.remote_address }
  if ipv4.address then add("IPv4", ipv4.address .. " -> " .. (ipv4.server_address or "?")) end
  if ipv4.dns and #ipv4.dns > 0 then add("DnsServers", table.concat(ipv4.dns, ",")) end
  if p.ipv6 then add("IPv6", (p.ipv6.interface_id or "?") .. " -> " .. (p.ipv6.server_interface_id or "?")) end
  add("Authentication", p.auth_protocol and spelling("auth", p.auth_protocol))
  add("Encryption", p.encryption)
  add("Compression", p.compression)
  add("Duration", stats.duration and clock(stats.duration))
  add("Speed", stats.speed and json_number(stats.speed) .. " bit/s")
  -- counters as the module gives them (json_number: also a float beyond 2^63)
  local function traffic(bytes, frames)
    return string.format("%s bytes, %s frames", json_number(bytes or 0), json_number(frames or 0))
  end
  if stats.bytes_sent then
    add("Sent", traffic(stats.bytes_sent, stats.frames_sent))
    add("Received", traffic(stats.bytes_received, stats.frames_received))
    add("Errors", stats.errors)
  end
  return rows
end

local function write_snapshots(snaps)
  for i, snap in ipairs(snaps) do
    if i > 1 then write_line() end
    write_line(printable(snap.entry))
    write_rows(status_rows(snap), "  ")
  end
end

-- Lines a status display takes (to redraw it in place).
local function snapshot_lines(snaps)
  local n = 0
  for i, snap in ipairs(snaps) do n = n + #status_rows(snap) + 1 + (i > 1 and 1 or 0) end
  return n
end

-- One line per state: for pipes and log files.
local Lines = {}
Lines.__index = Lines

function Lines:dialling(entry, attempt)
  write_line("Connecting to ", printable(entry), attempt > 1 and string.format("... (attempt %d)", attempt) or "...")
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
    for _, c in ipairs(conns) do write_line(printable(c.entry)) end
  end
  write_line("Command completed successfully.")
end
function Lines:hung_up(entry)
  write_line("Disconnected ", printable(entry), ".")
end
function Lines:not_connected(entry)
  write_line(entry and "You are not connected to " .. printable(entry) .. "." or "No connections")
end
function Lines:done()
  write_line("Command completed successfully.")
end
function Lines:appeared(c, st)
  write_line(os.date("%H:%M:%S"), "  up    ", printable(c.entry), "  (", st and st.state or "gone", ")")
end
function Lines:disappeared(entry)
  write_line(os.date("%H:%M:%S"), "  down  ", printable(entry))
end
local function write_entries(list)
  if #list == 0 then write_line("No entries") end
  for _, e in ipairs(list) do write_line(printable(e.name)) end
end
function Lines:entries(list)
  write_entries(list)
  write_line("Command completed successfully.")
end
function Lines:devices(list)
  if #list == 0 then write_line("No devices") end
  for _, d in ipairs(list) do write_line(printable(d.name), "  (", printable(d.type), ")") end
  write_line("Command completed successfully.")
end
function Lines:entry_shown(e, creds)
  write_rows(entry_rows(e, creds))
  write_line("Command completed successfully.")
end

local CHANGED = {
  added = "Entry %s added.", changed = "Entry %s changed.", removed = "Entry %s removed.",
  renamed = "Entry %s renamed to %s.", credentials_saved = "Credentials of %s saved.",
  credentials_cleared = "Credentials of %s cleared.",
}

-- shown: what --pass-thru read back ({ entry =, credentials = } or
-- { entries = }), or nil.
function Lines:changed(status, entry, new_name, shown)
  write_line(string.format(CHANGED[status], printable(entry), new_name and printable(new_name)))
  if shown and shown.entry then write_rows(entry_rows(shown.entry, shown.credentials)) end
  if shown and shown.entries then write_entries(shown.entries) end
  write_line("Command completed successfully.")
end
function Lines:status(snaps)
  write_snapshots(snaps)
  write_line("Command completed successfully.")
end
-- --status --watch, piped: each snapshot in full, after the time.
function Lines:status_frame(snaps, entry)
  write_line("--- ", os.date("%H:%M:%S"), " ---")
  if #snaps == 0 then self:not_connected(entry) else write_snapshots(snaps) end
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
                                printable(self.entry), self.current, ras.now() - self.started))
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
-- --status --watch on a terminal: the same block redrawn in place.
function Live:status_frame(snaps, entry)
  if self.drawn and self.drawn > 0 then io.stdout:write(string.format("\027[%dA\r\027[J", self.drawn)) end
  write_line(os.date("%H:%M:%S"), "  (Ctrl-C to stop)")
  if #snaps == 0 then self:not_connected(entry) else write_snapshots(snaps) end
  self.drawn = 2 + (#snaps == 0 and 0 or snapshot_lines(snaps) - 1)
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
function Json.entries(_, list)
  for _, e in ipairs(list) do emit { event = "entry", name = e.name, phonebook = e.phonebook } end
  emit { event = "result", status = "listed", count = #list, exit = 0 }
end
function Json.devices(_, list)
  for _, d in ipairs(list) do emit { event = "device", name = d.name, type = d.type } end
  emit { event = "result", status = "listed", count = #list, exit = 0 }
end
function Json.entry_shown(_, e, creds)
  emit { event = "entry", name = e.name, phonebook = e.phonebook, properties = e,
         credentials = creds }
  emit { event = "result", status = "shown", entry = e.name, exit = 0 }
end
function Json.changed(_, status, entry, new_name, shown)
  if shown and shown.entry then
    local e = shown.entry
    emit { event = "entry", name = e.name, phonebook = e.phonebook, properties = e,
           credentials = shown.credentials }
  end
  for _, e in ipairs(shown and shown.entries or {}) do
    emit { event = "entry", name = e.name, phonebook = e.phonebook }
  end
  emit { event = "result", status = status, entry = entry, new_name = new_name, exit = 0 }
end

local function snapshot_object(snap, time)
  return { event = "status", entry = snap.entry, phonebook = snap.phonebook,
           state = snap.status and snap.status.state, status = snap.status,
           projection = snap.projection, statistics = snap.statistics, time = time }
end

function Json.status(_, snaps)
  for _, snap in ipairs(snaps) do emit(snapshot_object(snap)) end
  emit { event = "result", status = "shown", count = #snaps, exit = 0 }
end
function Json.status_frame(_, snaps)
  local time = os.time()
  for _, snap in ipairs(snaps) do emit(snapshot_object(snap, time)) end
end

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

local function open_context(opts)
  if not opts.scenario and not opts.backend then return ras end
  local backend = opts.backend or "sim"
  if opts.scenario and backend ~= "sim" then usage_error("--scenario is for --backend sim only") end
  local options
  if opts.scenario then
    local err
    options, err = load_scenario(opts.scenario)
    if not options then return nil, err end
  end
  local ok, ctx, err = pcall(ras.open, backend, options)
  if not ok then return nil, ctx end
  return ctx, err
end

-- Waits `seconds` without spinning: the context's pump blocks on its wake-up
-- descriptor and dispatches whatever comes meanwhile.
local function pause(ctx, seconds)
  local deadline = ras.now() + seconds
  repeat ctx.poll(math.max(0, deadline - ras.now())) until ras.now() >= deadline
end

-- Calls ctx[name](...): a property the module refuses is a usage error
-- (naming the option that gave it), a RAS error ends the run.
local function call(ctx, name, ...)
  local ok, result, message, code = pcall(ctx[name], ...)
  if not ok then
    local text = tostring(result)
    local path = text:match("property '([^']*)'") or ""
    local option = OPTION_OF[path] or OPTION_OF[path:match("^[%w_]*")]
    if option then text = "--" .. option .. ": " .. text end
    usage_error(text)
  end
  if result == nil then ras_failure(code or 87, message) end
  return result
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
    local ev, why = conn:next(out.tick_seconds or INTERRUPT_SLICE)
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
    params.password = ask_secret(string.format("Enter the password for %s to connect to %s",
                                               params.username, params.entry))
  end
  params.timeout = opts.timeout
  return params
end

-- Whether another attempt can cure the error (the module's own table).
local function retryable(ctx, code)
  return ctx.error_info(code).retryable
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
    if attempt > opts.retries or not retryable(ctx, code) then
      out:failed(code, message)
      return exit_status(code)
    end
    out:retry(delay, code)
    pause(ctx, delay)
    delay = math.min(delay * 2, MAX_BACKOFF)
  end
end

---------------------------------------------------------------------------
-- Entries and credentials

local function list_entries(ctx, opts, out)
  out:entries(call(ctx, "entries", opts.params.phonebook))
  return EXIT.ok
end

local function list_devices(ctx, _, out)
  out:devices(call(ctx, "devices"))
  return EXIT.ok
end

local function show_entry(ctx, opts, out)
  local name, phonebook = opts.action_values[1], opts.params.phonebook
  out.entry = name
  local e = call(ctx, "entry", name, phonebook)
  -- Credentials are extra: a backend without them still shows the entry.
  local creds = ctx.credentials(name, phonebook)
  out:entry_shown(e, creds)
  return EXIT.ok
end

-- --pass-thru (PowerShell's -PassThru): what the change left, read back:
-- the entry named, or (after a removal) the entries that remain.
local function pass_thru(ctx, opts, name)
  if not opts["pass-thru"] then return nil end
  local phonebook = opts.params.phonebook
  if not name then return { entries = call(ctx, "entries", phonebook) } end
  return { entry = call(ctx, "entry", name, phonebook), credentials = (ctx.credentials(name, phonebook)) }
end

local function add_entry(ctx, opts, out)
  local props = opts.properties
  props.name, props.phonebook = opts.action_values[1], opts.params.phonebook
  props.type = props.type or "vpn"
  out.entry = props.name
  call(ctx, "create_entry", props)
  out:changed("added", props.name, nil, pass_thru(ctx, opts, props.name))
  return EXIT.ok
end

local function set_entry(ctx, opts, out)
  local name, phonebook, changes = opts.action_values[1], opts.params.phonebook, opts.properties
  out.entry = name
  if not next(changes) then usage_error("--set-entry needs at least one entry option") end
  -- redial is one record: what the command line leaves out stays as it is.
  if changes.redial and (changes.redial.attempts == nil or changes.redial.interval == nil) then
    local current = call(ctx, "entry", name, phonebook).redial or {}
    changes.redial.attempts = changes.redial.attempts or current.attempts or 0
    changes.redial.interval = changes.redial.interval or current.interval or 0
  end
  call(ctx, "update_entry", name, changes, phonebook)
  out:changed("changed", name, nil, pass_thru(ctx, opts, name))
  return EXIT.ok
end

local function rename_entry(ctx, opts, out)
  local old, new = opts.action_values[1], opts.action_values[2]
  out.entry = old
  call(ctx, "rename_entry", old, new, opts.params.phonebook)
  out:changed("renamed", old, new, pass_thru(ctx, opts, new))
  return EXIT.ok
end

local function remove_entry(ctx, opts, out)
  local name = opts.action_values[1]
  out.entry = name
  call(ctx, "delete_entry", name, opts.params.phonebook)
  out:changed("removed", name, nil, pass_thru(ctx, opts, nil))
  return EXIT.ok
end

local function set_credentials(ctx, opts, out)
  local name = opts.action_values[1]
  local creds = { username = opts.words[1], password = opts.words[2], domain = opts.params.domain,
                  psk = opts.psk }
  out.entry = name
  if creds.password == "*" then
    creds.password = ask_secret(string.format("Enter the password to save for %s on %s",
                                              creds.username, name))
  end
  if creds.psk == "*" then
    creds.psk = ask_secret(string.format("Enter the pre-shared key to save for %s", name))
  end
  call(ctx, "set_credentials", name, creds, opts.params.phonebook)
  out:changed("credentials_saved", name, nil, pass_thru(ctx, opts, name))
  return EXIT.ok
end

local function clear_credentials(ctx, opts, out)
  local name = opts.action_values[1]
  out.entry = name
  call(ctx, "clear_credentials", name, opts.params.phonebook)
  out:changed("credentials_cleared", name, nil, pass_thru(ctx, opts, name))
  return EXIT.ok
end

---------------------------------------------------------------------------
-- Listing, disconnecting, watching, status

local function connections(ctx)
  local list, message, code = ctx.connections()
  if not list then ras_failure(code, message) end
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

local function open_watcher(ctx)
  local w, message, code = ctx.watch { initial = true }
  if not w then ras_failure(code, message) end
  return w
end

-- The watcher's next change, or nil once `until_time` (ras.now() time;
-- nil: never) has come. Waits in slices so that SIGINT is noticed.
local function next_change(w, until_time)
  while true do
    local wait = INTERRUPT_SLICE
    if until_time then wait = math.min(wait, math.max(0, until_time - ras.now())) end
    local ch, why, code = w:next(wait)
    if ch then return ch end
    if why ~= "timeout" then ras_failure(code or 6, "the watcher stopped: " .. tostring(why)) end
    if until_time and ras.now() >= until_time then return nil end
  end
end

-- Connections coming up and going away, from the backend's watcher: the
-- ones up already first. Ends with SIGINT.
local function watch(ctx, out)
  local w <close> = open_watcher(ctx)
  while true do
    local ch = next_change(w)
    if ch.change == "connected" then out:appeared(ch.connection, ch.connection:status())
    else out:disappeared(ch.entry) end
  end
end

local function snapshot(c)
  return { entry = c.entry, phonebook = c.phonebook, status = c:status(),
           projection = (c:projection()), statistics = (c:statistics()) }
end

local function snapshots(conns, entry)
  local snaps = {}
  for _, c in ipairs(conns) do
    if not entry or c.entry == entry then snaps[#snaps + 1] = snapshot(c) end
  end
  return snaps
end

local function status(ctx, opts, out)
  local entry = opts.words[1]
  local snaps = snapshots(connections(ctx), entry)
  if #snaps == 0 then
    out:not_connected(entry)
    return exit_status(ERROR_NO_CONNECTION)
  end
  out:status(snaps)
  return EXIT.ok
end

-- Takes the connection of a "disconnected" change out of `up`: the same
-- object, else one of its entry that is gone.
local function forget(up, ch)
  for i, c in ipairs(up) do
    if rawequal(c, ch.connection) then return table.remove(up, i) end
  end
  for i, c in ipairs(up) do
    if c.entry == ch.entry and not c:status() then return table.remove(up, i) end
  end
end

-- --status --watch: the connections the watcher reports, their status
-- redrawn on each change and every STATUS_REFRESH seconds (counters have no
-- event of their own). Ends with SIGINT.
local function watch_status(ctx, opts, out)
  local entry = opts.words[1]
  local w <close> = open_watcher(ctx)
  local up = {}                                -- the connections, in order of arrival
  while true do
    local ch = next_change(w, ras.now() + STATUS_REFRESH)
    if ch and ch.change == "connected" then
      up[#up + 1] = ch.connection
    elseif ch then
      forget(up, ch)
    end
    out:status_frame(snapshots(up, entry), entry)
  end
end

---------------------------------------------------------------------------
-- main

local function is_interrupt(err)
  return type(err) == "string" and err:find("interrupted!", 1, true) ~= nil
end

-- What runs each action but --status (which goes with --watch).
local ACTION_RUNNERS = {
  ["list-entries"] = list_entries, ["list-devices"] = list_devices, ["show-entry"] = show_entry,
  ["add-entry"] = add_entry, ["set-entry"] = set_entry, ["rename-entry"] = rename_entry,
  ["remove-entry"] = remove_entry, ["set-credentials"] = set_credentials,
  ["clear-credentials"] = clear_credentials,
}

local function run(opts, out)
  if opts.interval then
    io.stderr:write("lua-rasdial: --interval is deprecated and ignored: --watch waits for the ",
                    "backend's changes, it does not poll\n")
  end
  local ctx, message = open_context(opts)
  if not ctx then
    io.stderr:write("lua-rasdial: ", tostring(message), "\n")
    return EXIT.failure
  end
  if ACTION_RUNNERS[opts.action] then return ACTION_RUNNERS[opts.action](ctx, opts, out) end
  if opts.action == "status" then
    if opts.watch then return watch_status(ctx, opts, out) end
    return status(ctx, opts, out)
  end
  if opts.watch then return watch(ctx, out) end
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
  local status_code
  ok, status_code = xpcall(run, function(err)
    if type(err) == "string" and not is_interrupt(err) then return debug.traceback(err, 2) end
    return err
  end, opts, out)
  if ok then return status_code end
  return finish(status_code, opts, out)
end

os.exit(main(arg), true)
