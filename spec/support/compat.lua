-- What the specs need that Lua 5.1, 5.2, 5.3 and LuaJIT lack or name
-- otherwise: the backend-neutral specs run on every version (make
-- test-lua-versions). Spec files keep to syntax all of them parse; a case
-- that needs 5.4's syntax (`<close>`) is a string, loaded only on 5.4.
local compat = {}

compat.unpack = table.unpack or rawget(_G, "unpack")

function compat.pack(...)
  return { n = select("#", ...), ... }
end

-- `<close>` and __close: Lua 5.4 only. Elsewhere a spec about them is
-- pending (`(compat.close and it or pending)(...)`).
compat.close = _VERSION == "Lua 5.4"

-- Integers are a subtype from 5.3 on; before (and on LuaJIT) every number is
-- a double.
compat.integers = math.type ~= nil

-- load() of a string on every version (5.1's load takes a function).
function compat.load(code, name)
  local loader = rawget(_G, "loadstring") or load
  return assert(loader(code, name))
end

-- Runs a shell command: what it printed, then what popen():close() gives on
-- 5.2+ (true or nil, "exit" or "signal", the code). 5.1's and LuaJIT's
-- close() says true whatever the status: there the shell prints the status
-- after the output ("exit", 128 + N for a signal).
function compat.run(command)
  if _VERSION ~= "Lua 5.1" then
    local p = assert(io.popen(command))
    local out = p:read("*a")
    return out, p:close()
  end
  local p = assert(io.popen("(" .. command .. "); echo \"@status $?\""))
  local out = p:read("*a")
  p:close()
  local code = tonumber(out:match("@status (%d+)\n$"))
  out = out:gsub("@status %d+\n$", "")
  return out, code == 0 or nil, "exit", code
end

-- The main thread as a value: coroutine.running() gives nil there on 5.1
-- and LuaJIT (which calls itself 5.1).
compat.main_thread = _VERSION ~= "Lua 5.1"

-- package.searchpath (5.2 and LuaJIT; 5.1 has none).
function compat.searchpath(name, path)
  if package.searchpath then return package.searchpath(name, path) end
  local file = name:gsub("%.", "/")
  for template in path:gmatch("[^;]+") do
    local candidate = template:gsub("%?", file)
    local f = io.open(candidate)
    if f then
      f:close()
      return candidate
    end
  end
  return nil
end

return compat
