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

int main(int argc, char **argv) {
  lua_State *L;
  int status;
  if (argc < 2) {
    fprintf(stderr, "usage: %s script.lua [args...]\n", argv[0]);
    return 2;
  }
  L = luaL_newstate();
  luaL_openlibs(L);
  luaL_requiref(L, "ras", luaopen_ras, 0);  /* into package.loaded, no global */
  lua_pop(L, 1);
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
