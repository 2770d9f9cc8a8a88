-- Against Wine's own rasapi32, which is stubs (RasDialW returns 1, the rest
-- answer 0 with nothing filled in, and some are not there at all): every
-- call it has must come back cleanly, with no crash and no hang. Run by spec/win32/run-specs through wine-run --stub.
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

-- A paused-state dial fails the same way and leaves nothing behind. With a
-- password: without one the backend asks RasGetCredentialsW for the saved
-- one, which Wine does not implement at all (calling it aborts the process,
-- as would the entry, statistics and device functions); real rasapi32 has
-- had them since Windows 2000, and the double covers them.
conn = ctx.dial { entry = "Office", paused_states = true, timeout = 1, password = "S3cr3t" }
check(conn == nil, "a dial with paused states fails cleanly too")

ctx = nil  -- luacheck: ignore
collectgarbage()
collectgarbage()
print(string.format("%d passed, 0 failed", checks))
