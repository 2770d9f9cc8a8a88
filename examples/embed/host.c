/*
 * host.c - a C program that embeds Lua and links the ras module statically:
 * no ras.so and no Lua files are needed at run time.
 *
 *   host script.lua [args...]
 */
#include <stdio.h>

#include "lauxlib.h"
#include "lua.h"
#include "lualib.h"

int luaopen_ras(lua_State *L);

#ifndef LUA_OK  /* Lua 5.1 and LuaJIT */
#define LUA_OK 0
#endif

int main(int argc, char **argv) {
  lua_State *L;
  int status;
  if (argc < 2) {
    fprintf(stderr, "usage: %s script.lua [args...]\n", argv[0]);
    return 2;
  }
  L = luaL_newstate();
  luaL_openlibs(L);
#if LUA_VERSION_NUM >= 502
  luaL_requiref(L, "ras", luaopen_ras, 0);  /* into package.loaded, no global */
  lua_pop(L, 1);
#else
  /* Lua 5.1 and LuaJIT have no luaL_requiref: require finds it in package.preload */
  lua_getglobal(L, "package");
  lua_getfield(L, -1, "preload");
  lua_pushcfunction(L, luaopen_ras);
  lua_setfield(L, -2, "ras");
  lua_pop(L, 2);
#endif
  lua_createtable(L, argc - 2, 0);          /* arg, as lua.c makes it */
  for (int i = 1; i < argc; i++) {
    lua_pushstring(L, argv[i]);
    lua_rawseti(L, -2, i - 1);
  }
  lua_setglobal(L, "arg");
  status = luaL_dofile(L, argv[1]);
  if (status != LUA_OK) fprintf(stderr, "%s\n", lua_tostring(L, -1));
  lua_close(L);
  return status == LUA_OK ? 0 : 1;
}
