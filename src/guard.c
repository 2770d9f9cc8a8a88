/*
 * guard.c - for a backend's open(): while it reads ras.open's options (which
 * may raise a Lua error halfway), a guard userdata owns the half-built state
 * and frees it if the error unwinds past it.
 */
#include "lauxlib.h"
#include "lua.h"

#include "backend.h"

typedef struct guard {
  void *state;
  void (*free_state)(void *);
} guard;

static int guard_gc(lua_State *L) {
  guard *g = lua_touserdata(L, 1);
  if (g->state) g->free_state(g->state);
  g->state = NULL;
  return 0;
}

void *ras_guard_push(lua_State *L, void *state, void (*free_state)(void *)) {
  guard *g = lua_newuserdatauv(L, sizeof *g, 0);
  g->state = state;
  g->free_state = free_state;
  if (luaL_newmetatable(L, "ras.guard")) {
    lua_pushcfunction(L, guard_gc);
    lua_setfield(L, -2, "__gc");
  }
  lua_setmetatable(L, -2);
  return g;
}

void ras_guard_release(lua_State *L, void *g) {
  ((guard *)g)->state = NULL;
  lua_pop(L, 1);
}

int ras_option(lua_State *L, int options, const char *name) {
  if (options) return lua_getfield(L, options, name);
  lua_pushnil(L);
  return LUA_TNIL;
}
