-- Against Wine's own rasapi32, which is stubs (RasDialW returns 1, the rest
-- answer 0 with nothing filled in): every call must come back cleanly, with
-- no crash and no hang. Run by spec/win32/run-specs through wine-run --stub.
local ras = require "ras"

local checks = 0
local function check(cond, what)
  checks = checks + 1
  if not cond then error("stub smoke: " .. what, 2) end
  print("ok   stub: " .. what)
end

check(ras.backend == "win32", "win32 is the default backend")
local ctx = assert(ras.open("win32"))

local conn, msg, code = ctx.dial { entry = "Office", username = "user", password = "S3cr3t" }
check(conn == nil and type(msg) == "string" and math.type(code) == "integer",
      "dial fails with nil, message, code (" .. tostring(msg) .. ")")
check(not msg:find("S3cr3t", 1, true), "the failure keeps the password out")

local list = ctx.connections()
check(type(list) == "table" and #list == 0, "connections() is empty")
local entries, emsg = ctx.entries()
check(type(entries) == "table" and #entries == 0, "entries() is empty " .. tostring(emsg))

check(ctx.error_message(691) == ras.error_message(691) and
      not ctx.error_message(691):match("^RAS error"),
      "error texts fall back to the module's table")
check(ctx.poll(0) == 0, "poll(0) has nothing to deliver")

-- A paused-state dial fails the same way and leaves nothing behind.
conn = ctx.dial { entry = "Office", paused_states = true, timeout = 1 }
check(conn == nil, "a dial with paused states fails cleanly too")

ctx = nil  -- luacheck: ignore
collectgarbage()
collectgarbage()
print(string.format("%d passed, 0 failed", checks))
