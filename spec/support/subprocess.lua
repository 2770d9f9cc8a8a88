-- Runs Lua source in a fresh interpreter, for specs of what once crashed,
-- hung or spun the process: there a regression shows as a failing test
-- rather than a dead runner. The child gets this process's module paths,
-- `ras` and `fixture` loaded, and timeout(1) as its bound.
local fixture = require "support.fixture"
local compat = require "support.compat"

local subprocess = {}

-- The interpreter children run (RAS_TEST_LUA, else lua5.4).
subprocess.lua = os.getenv("RAS_TEST_LUA") or "lua5.4"

local function quote(s) return "'" .. s:gsub("'", "'\\''") .. "'" end

-- Why no subprocess can run here, or nil.
function subprocess.unavailable()
  if package.config:sub(1, 1) ~= "/" then return "needs a POSIX shell" end
  if (os.getenv("LD_PRELOAD") or ""):find("tsan", 1, true) then
    return "popen under ThreadSanitizer crashes the child"
  end
  if not fixture.sh("command -v timeout >/dev/null") then return "needs timeout(1)" end
  return nil
end

-- Runs source for at most `seconds` (default 30), after the shell words
-- `prefix` (e.g. "ulimit -n 20; "). Returns what it printed, whether it
-- exited with status 0, and how it ended.
function subprocess.run(source, seconds, prefix)
  local path = os.tmpname()
  local f = assert(io.open(path, "w"))
  f:write(("package.path = %q\npackage.cpath = %q\n"):format(package.path, package.cpath),
          'local ras = require "ras"\nlocal fixture = require "support.fixture"\n',
          source, "\n")
  f:close()
  local out, ok, how, code = compat.run(("%stimeout %d %s %s 2>&1"):format(prefix or "", seconds or 30,
                                                                        subprocess.lua, quote(path)))
  os.remove(path)
  return out, ok == true, tostring(how) .. " " .. tostring(code)
end

return subprocess
