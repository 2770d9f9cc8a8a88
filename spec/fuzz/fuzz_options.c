/*
 * fuzz_options.c - a libFuzzer target for the module's input handling
 * (make check-fuzz, make fuzz; built with clang -fsanitize=fuzzer,address,
 * undefined by mk/check.mk, Lua and the module linked statically).
 *
 * Each input runs in a fresh lua_State: the standard libraries, the module
 * (luaL_requiref, as an embedding host does), then the driver
 * spec/fuzz/fuzz_options.lua, whose run(bytes) turns the bytes into
 * ras.open option tables, dial and resume parameter tables, handlers and
 * calls, all under pcall. lua_close then collects everything, contexts and
 * their threads included, so that LeakSanitizer sees each input's leaks.
 *
 * The driver is read once, from FUZZ_DRIVER (the environment variable, else
 * the path compiled in), and kept as bytecode. An error that escapes the
 * driver is a bug of the driver, not of the module: it aborts, so that it
 * is seen rather than silently ignored.
 *
 * Nothing here waits for wall-clock time: the driver's pumps use timeouts
 * of 0 or a few milliseconds, and only libFuzzer's -timeout (a hang) is
 * measured in seconds.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lauxlib.h"
#include "lua.h"
#include "lualib.h"

#ifndef FUZZ_DRIVER
#define FUZZ_DRIVER "spec/fuzz/fuzz_options.lua"
#endif

int luaopen_ras(lua_State *L);

static char *bytecode;
static size_t bytecode_len;

static int collect(lua_State *L, const void *p, size_t size, void *ud) {
  (void)L;
  (void)ud;
  char *grown = realloc(bytecode, bytecode_len + size);
  if (!grown) return 1;
  memcpy(grown + bytecode_len, p, size);
  bytecode = grown;
  bytecode_len += size;
  return 0;
}

int LLVMFuzzerInitialize(int *argc, char ***argv) {
  const char *path = getenv("FUZZ_DRIVER");
  lua_State *L = luaL_newstate();
  (void)argc;
  (void)argv;
  if (!path || !*path) path = FUZZ_DRIVER;
  if (!L || luaL_loadfile(L, path) != LUA_OK) {
    fprintf(stderr, "fuzz_options: cannot load the driver %s: %s\n", path,
            L ? lua_tostring(L, -1) : "no Lua state");
    exit(2);
  }
  if (lua_dump(L, collect, NULL, 0) != 0) {
    fprintf(stderr, "fuzz_options: cannot keep the driver's bytecode\n");
    exit(2);
  }
  lua_close(L);
  return 0;
}

/* Protected: the module, the driver, then run(bytes). */
static int run(lua_State *L) {
  const char *data = lua_touserdata(L, 1);
  size_t size = (size_t)lua_tointeger(L, 2);
  luaL_openlibs(L);
  luaL_requiref(L, "ras", luaopen_ras, 0);
  lua_pop(L, 1);
  if (luaL_loadbuffer(L, bytecode, bytecode_len, "=spec/fuzz/fuzz_options.lua") != LUA_OK)
    return lua_error(L);
  lua_call(L, 0, 1);
  lua_getfield(L, -1, "run");
  lua_pushlstring(L, data, size);
  lua_call(L, 1, 0);
  return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  lua_State *L = luaL_newstate();
  if (!L) abort();
  lua_pushcfunction(L, run);
  lua_pushlightuserdata(L, (void *)data);
  lua_pushinteger(L, (lua_Integer)size);
  if (lua_pcall(L, 2, 0, 0) != LUA_OK) {
    const char *msg = lua_tostring(L, -1);
    fprintf(stderr, "fuzz_options: an error escaped the driver: %s\n",
            msg ? msg : "(not a string)");
    abort();
  }
  lua_close(L);
  return 0;
}
