-- Writes the fuzz target's seed corpus (make fuzz-corpus):
--
--   lua5.4 spec/fuzz/make_corpus.lua DIR
--
-- A deterministic random search (fixed seed) over inputs for the driver
-- (spec/fuzz/fuzz_options.lua), run here against the module on LUA_CPATH:
-- it keeps the first inputs that reach each milestone of M.stats (a context
-- opened, a dial started, an event, Connected, a paused state, a resume, a
-- poll that delivered, an enumeration, a closed context ...), at most two
-- per milestone, so that a short fuzz run starts past the shallow checks.
-- Run it again when the driver's byte format changes.
package.path = "spec/fuzz/?.lua;" .. package.path
local driver = require "fuzz_options"

local dir = assert(arg[1], "usage: lua5.4 spec/fuzz/make_corpus.lua DIR")
local TRIES = 20000
local PER_MILESTONE = 2

math.randomseed(20240601)

-- Small byte values choose the first (most ordinary) alternatives, which
-- valid tables are made of; some bytes are anything.
local function input()
  local t = {}
  for i = 1, math.random(24, 320) do
    t[i] = string.char(math.random() < 0.8 and math.random(0, 15) or math.random(0, 255))
  end
  return table.concat(t)
end

local kept, count = {}, 0
for try = 1, TRIES do
  local data = input()
  driver.run(data)
  collectgarbage()
  local new
  for what in pairs(driver.stats) do
    if (kept[what] or 0) < PER_MILESTONE then new = new or {} new[#new + 1] = what end
  end
  if new then
    table.sort(new)
    for _, what in ipairs(new) do kept[what] = (kept[what] or 0) + 1 end
    count = count + 1
    local name = string.format("%s/seed-%03d-%s", dir, count, table.concat(new, "-"))
    local f = assert(io.open(name, "wb"))
    f:write(data)
    f:close()
  end
  if try % 5000 == 0 then collectgarbage() end
end

local reached = {}
for what, n in pairs(kept) do reached[#reached + 1] = what .. " " .. n end
table.sort(reached)
print(string.format("make_corpus: %d seeds in %s (%s)", count, dir, table.concat(reached, ", ")))
