-- make bench: the core's figures against the simulator. Prints, never fails:
-- the targets are printed beside the figures for a reader to compare.
local ras = require "ras"

local function rss_kib()
  local f = io.open("/proc/self/statm")
  if not f then return nil end
  local _, resident = f:read("n", "n")
  f:close()
  return resident * 4
end

local function median(sorted)
  local k = #sorted
  return (sorted[(k + 1) // 2] + sorted[k // 2 + 1]) / 2
end

local function percentile(sorted, p)
  return sorted[math.max(1, math.ceil(#sorted * p))]
end

local function line(name, value, target)
  print(string.format("%-34s %-28s (target: %s)", name, value, target))
end

-- 1. Burst: step-0 notifications into a Lua callback, against the same
-- callback called from a Lua loop with a same-shaped table. A million
-- events in all, as 10 pairs of rounds of 100,000, each module round
-- followed at once by its Lua round: a shared machine's noise then hits
-- both of a pair alike, and the figure is the median of the 10 pairs'
-- ratios (the ratio of each side's fastest round beside it). Then one
-- burst of a million each way, once, as the figure was first measured: on
-- a shared machine a single pair is as noisy as its neighbours.
local function burst()
  local n, rounds, whole = 100000, 10, 1000000
  local function states_of(count)
    local states = {}
    for i = 1, count do states[i] = i % 2 == 0 and "AuthNotify" or "AuthProject" end
    return states
  end
  local ctx = assert(ras.open("sim", { entries = {
    Burst = { states = states_of(n), step = 0 }, Whole = { states = states_of(whole), step = 0 } } }))
  local count = 0
  local function on_state(_, ev)
    if ev.state_code >= 0 then count = count + 1 end
  end

  local function through_module(entry, events)
    count = 0
    collectgarbage()
    local t0 = ras.now()
    local conn = assert(ctx.dial { entry = entry, on_state = on_state })
    repeat ctx.poll(1) until count >= events + 1
    local took = ras.now() - t0
    conn:hangup()
    ctx.poll(0)   -- its Disconnected, so that the next round counts its own events only
    return took
  end

  local function plain_lua(events)
    count = 0
    collectgarbage()
    local t0 = ras.now()
    for i = 1, events + 1 do
      local ev = { state = "AuthProject", state_code = 10, group = "running",
                   substate = "None", subentry = 1, time = t0, elapsed = i * 1e-9 }
      on_state(ctx, ev)
    end
    return ras.now() - t0
  end

  local module_times, lua_times, ratios = {}, {}, {}
  for round = 1, rounds do
    module_times[round] = through_module("Burst", n)
    lua_times[round] = plain_lua(n)
    ratios[round] = module_times[round] / lua_times[round]
  end
  table.sort(module_times)
  table.sort(lua_times)
  table.sort(ratios)
  local m, l = module_times[1], lua_times[1]
  line("burst: events/s", string.format("%.0f", (n + 1) / m), "-")
  line("burst: ratio to a Lua loop", string.format("%.2f (fastest rounds: %.1f ms / %.1f ms = %.2f)",
       median(ratios), m * 1e3, l * 1e3, m / l), "<= 1.3")
  m, l = through_module("Whole", whole), plain_lua(whole)
  line("burst: one of 1,000,000, once", string.format("%.2f (%.3f s / %.3f s)", m / l, m, l), "-")
end

-- 2. Wake-up latency: a pump blocked in next(), an event every millisecond.
local function latency()
  local n = 10000
  local states = {}
  for i = 1, n do states[i] = "AuthNotify" end
  local ctx = assert(ras.open("sim", { entries = { Tick = { states = states, step = 0.001 } } }))
  local conn = assert(ctx.dial { entry = "Tick" })
  local samples = {}
  for i = 1, n do
    local ev = assert(conn:next(5))
    samples[i] = ras.now() - ev.time
  end
  conn:hangup()
  table.sort(samples)
  line("wake-up latency p50", string.format("%.1f us", percentile(samples, 0.5) * 1e6), "-")
  line("wake-up latency p99", string.format("%.1f us", percentile(samples, 0.99) * 1e6), "<= 100 us")
end

-- 3. Hangup with a 50 ms teardown: wall time and CPU time.
local function hangup()
  local ctx = assert(ras.open("sim", { entries = { Slow = { step = 0, hangup_delay = 0.05 } } }))
  local worst_wall, worst_cpu = 0, 0
  for _ = 1, 20 do
    local conn = assert(ctx.dial { entry = "Slow" })
    assert(conn:wait(5).state == "Connected")
    local w, c = ras.now(), os.clock()
    assert(conn:hangup())
    worst_wall = math.max(worst_wall, ras.now() - w)
    worst_cpu = math.max(worst_cpu, os.clock() - c)
  end
  line("hangup wall time (worst of 20)", string.format("%.1f ms", worst_wall * 1e3), "<= 60 ms")
  line("hangup CPU time (worst of 20)", string.format("%.2f ms", worst_cpu * 1e3), "< 5 ms")
end

-- 4. Memory: 10,000 dial-Connected-hangup cycles, and the cost of a live one.
local function memory()
  local ctx = assert(ras.open("sim", { entries = { Quick = { step = 0 } } }))
  local function cycle()
    local conn = assert(ctx.dial { entry = "Quick" })
    assert(conn:wait(5).state == "Connected")
    assert(conn:hangup())
  end
  for _ = 1, 100 do cycle() end
  collectgarbage()
  local base = rss_kib()
  for _ = 101, 10000 do cycle() end
  collectgarbage()
  local after = rss_kib()
  line("RSS growth, cycles 100..10000", string.format("%d KiB", after - base), "< 1024 KiB")

  local live, n = {}, 1000
  collectgarbage()
  local lua_before, rss_before = collectgarbage("count"), rss_kib()
  for i = 1, n do
    live[i] = assert(ctx.dial { entry = "Quick" })
    live[i]:wait(5)
  end
  collectgarbage()
  local lua_bytes = (collectgarbage("count") - lua_before) * 1024 / n
  local rss_bytes = (rss_kib() - rss_before) * 1024 / n
  line("bytes per live connection",
       string.format("%.0f (Lua heap %.0f)", math.max(rss_bytes, lua_bytes), lua_bytes), "-")
  for i = 1, n do live[i]:hangup() end
end

local function peak_rss_mib()
  local f = io.open("/proc/self/status")
  if not f then return nil end
  local text = f:read("a")
  f:close()
  local kib = text:match("VmHWM:%s*(%d+)")
  return kib and tonumber(kib) / 1024
end

-- Dials n connections at once (step 0) and delivers until all are Connected.
local function dial_all(ctx, n)
  local connected, conns = 0, {}
  local function on_state(_, ev) if ev.state == "Connected" then connected = connected + 1 end end
  for i = 1, n do conns[i] = assert(ctx.dial { entry = "Quick", on_state = on_state }) end
  while connected < n do ctx.poll(5) end
  return conns, connected
end

local function quick_context()
  return assert(ras.open("sim", { entries = { Quick = { step = 0 } } }))
end

-- 5. 10,000 simultaneous dials: the best of three fresh contexts, and the
-- peak RSS after the first.
local function dials()
  local best, connected, peak = math.huge, 0, nil
  for _ = 1, 3 do
    local ctx = quick_context()
    collectgarbage()
    local t0 = ras.now()
    local conns
    conns, connected = dial_all(ctx, 10000)
    best = math.min(best, ras.now() - t0)
    peak = peak or peak_rss_mib()
    for _, c in ipairs(conns) do c:hangup() end
    ctx:close()
  end
  line("10,000 simultaneous dials", string.format("%.3f s, %d Connected, peak RSS %.1f MiB",
       best, connected, peak or 0), "all Connected")
end

-- 6. connections() of a context with 10,000 live objects and of one with
-- 30,000, called in turn, the fastest of 20 each, so that both see the
-- same machine; then the hang-up of the 30,000.
local function connections()
  local small, large = quick_context(), quick_context()
  local keep = { dial_all(small, 10000), dial_all(large, 30000) }
  collectgarbage()
  local t10, t30 = math.huge, math.huge
  for _ = 1, 20 do
    local t = ras.now()
    local a = small.connections()
    t10 = math.min(t10, ras.now() - t)
    t = ras.now()
    local b = large.connections()
    t30 = math.min(t30, ras.now() - t)
    assert(#a == 10000 and #b == 30000)
  end
  line("connections(): 10,000 / 30,000 live", string.format("%.1f ms / %.1f ms: ratio %.2f",
       t10 * 1e3, t30 * 1e3, t30 / t10), "<= 3.5")
  local t = ras.now()
  for _, c in ipairs(keep[2]) do c:hangup() end
  line("hangup of 30,000", string.format("%.3f s", ras.now() - t), "-")
  for _, c in ipairs(keep[1]) do c:hangup() end
end

-- Each figure runs in a process of its own, so that one's heap and GC pacing
-- (the burst allocates a million-entry table) do not colour the next.
local sections = { burst = burst, latency = latency, hangup = hangup, memory = memory,
                   dials = dials, connections = connections }
local order = { "burst", "latency", "hangup", "memory", "dials", "connections" }

if arg[1] then
  assert(sections[arg[1]], "unknown section " .. arg[1])()
else
  print(string.format("ras %s, backend sim, %s", ras._VERSION, _VERSION))
  local lua = arg[-1] or "lua5.4"
  for _, name in ipairs(order) do
    assert(os.execute(string.format("%q %q %s", lua, arg[0], name)))
  end
end
