rockspec_format = "3.0"
package = "ras"
version = "0.1.0-1"
source = {
   url = "git+file:///dev/null",  -- built from a checkout with `luarocks make`
}
description = {
   summary = "Scriptable Remote Access (RAS) connections for Lua 5.1 to 5.4 and LuaJIT",
   detailed = [[
Dial, watch, script and hang up Remote Access connections (RasDial and friends
on Windows, pppd on Linux, and a simulator everywhere), with every connection
state change delivered to Lua as a callback, a coroutine resume or an iterator.
]],
   license = "MIT",
}
dependencies = {
   "lua >= 5.1",  -- 5.1, 5.2, 5.3, 5.4 and LuaJIT 2.1 (src/compat.h)
}
-- `luarocks test` runs the spec suite with busted (the checkout's .busted:
-- every spec file, against the simulator unless RAS_TEST_BACKEND says).
-- Arguments after `--` go to busted: `luarocks test -- spec/dial_spec.lua`.
test_dependencies = {
   "busted",
}
test = {
   type = "busted",
}
build = {
   type = "builtin",
   modules = {
      ras = {
         sources = {
            "src/ras.c", "src/options.c", "src/entries.c", "src/watch.c", "src/info.c", "src/queue.c", "src/idmap.c", "src/list.c",
            "src/states.c", "src/errors.c", "src/backends.c",
            "src/backend_win32.c", "src/os_posix.c", "src/os_win32.c",
            "src/sim/backend.c", "src/sim/options.c", "src/sim/scenario.c", "src/sim/book.c",
            "src/sim/text.c", "src/sim/thread.c", "src/sim/calls.c", "src/sim/entries.c",
            "src/sim/watch.c", "src/sim/activity.c", "src/sim/info.c",
            "src/pppd/backend.c", "src/pppd/channel.c", "src/pppd/watcher.c",
            "src/pppd/spawn.c", "src/pppd/foreign.c", "src/pppd/watch.c", "src/pppd/info.c",
            "src/pppd/entries.c", "src/pppd/secrets.c",
         },
         incdirs = { "src" },
      },
   },
   install = {
      bin = { ["lua-rasdial"] = "bin/rasdial.lua" },
   },
   platforms = {
      unix = {
         modules = { ras = { libraries = { "pthread", "m" } } },
      },
      windows = {
         modules = { ras = { libraries = { "rasapi32" } } },
      },
   },
}
