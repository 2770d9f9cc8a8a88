-- luv (libuv): a poll handle on conn:pollfd() calls back while an event of
-- the connection is pending; a timer runs alongside.
local uv = require "luv"
local ras = require "ras"

local sim = assert(ras.open("sim", { entries = { Office = { step = 0.01 } } }))
local conn = assert(sim.dial { entry = "Office", timeout = 5 })

local poll = uv.new_poll(assert(conn:pollfd()))
local timer = uv.new_timer()
local timer_runs, states = 0, {}

timer:start(5, 5, function() timer_runs = timer_runs + 1 end)

poll:start("r", function(err)
  assert(not err, err)
  for ev in function() return conn:next(0) end do   -- drain what is pending
    states[#states + 1] = ev.state
    if ev.group == "terminal" then
      poll:stop()
      poll:close()
      timer:close()
    end
  end
end)

uv.run()
print("luv: " .. table.concat(states, " > "))
print(string.format("luv: %d states through the poll handle; the timer ran %d times", #states, timer_runs))
assert(conn:hangup())
