-- Run by examples/embed/host.c (build/embed-host, `make embed-check` builds
-- it): the host links Lua and ras statically and preloads the module, so
-- no ras.so is searched for.
--
--   build/embed-host examples/embed/dial.lua [entry]
local ras = require "ras"

local entry = arg[1] or "Embedded"
local sim = assert(ras.open("sim", { entries = { [entry] = { step = 0.005 } } }))
local conn = assert(sim.dial { entry = entry })
local n = 0
for ev in conn:states() do
  n = n + 1
  if ev.group == "terminal" then
    print(string.format("embed: %s %s after %d states", entry, ev.state, n))
  end
end
-- (Lua 5.1 has no package.searchpath; LuaJIT and 5.2+ do.)
local so = package.searchpath and package.searchpath("ras", package.cpath)
print("embed: ras " .. ras._VERSION .. " from " .. (so or "the host itself"))
assert(conn:hangup())
