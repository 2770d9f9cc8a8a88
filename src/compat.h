/*
 * compat.h - the Lua 5.4 C API that the binding uses, on Lua 5.1, 5.2, 5.3
 * and LuaJIT 2.1 (the 5.1 API plus a few 5.2 functions). The binding is
 * written against 5.4; on 5.4 this header adds nothing. Everywhere else it
 * gives the same names the same meaning, so no binding file needs an #if.
 * Included by options.h and binding.h, which every binding file includes.
 *
 * What a version cannot express stays out: `<close>` (__close) exists only on
 * 5.4, so contexts and connections are closed with :close() elsewhere; there
 * is no integer subtype before 5.3 (see lua_tointegerx below); there is no
 * lua_isyieldable before 5.3 (LuaJIT has it), and the binding does not use it.
 * lua_status needs nothing: 0 (LUA_OK), LUA_YIELD or the error a coroutine
 * died with on every version, so "suspended" is LUA_YIELD, or LUA_OK with no
 * frame and a function on the stack, everywhere.
 */
#ifndef RAS_COMPAT_H
#define RAS_COMPAT_H

#include <stdint.h>

#include "lauxlib.h"
#include "lua.h"

/* LuaJIT says "Lua 5.1" but has some 5.2 functions; its luaconf.h defines
 * LUA_LJDIR. */
#if LUA_VERSION_NUM == 501 && defined(LUA_LJDIR)
#define RAS_LUAJIT 1
#endif

#if LUA_VERSION_NUM < 504

/* 5.4's name for the failure value: nil on every version. */
#define luaL_pushfail(L) lua_pushnil(L)

/* 5.4's luaL_typeerror (5.1's luaL_typerror, 5.2 and 5.3 have none), with
 * 5.4's message: "T expected, got U", U the __name if there is one. */
static inline int ras_compat_typeerror(lua_State *L, int arg, const char *tname) {
  const char *got;
  if (luaL_getmetafield(L, arg, "__name") && lua_type(L, -1) == LUA_TSTRING)
    got = lua_tostring(L, -1);
  else if (lua_type(L, arg) == LUA_TLIGHTUSERDATA)
    got = "light userdata";
  else
    got = luaL_typename(L, arg);
  return luaL_argerror(L, arg, lua_pushfstring(L, "%s expected, got %s", tname, got));
}
#define luaL_typeerror(L, arg, tname) ras_compat_typeerror(L, arg, tname)

#endif /* < 5.4 */

#if LUA_VERSION_NUM == 501

#define LUA_OK 0

#define lua_rawlen(L, i) lua_objlen(L, i)

static inline int ras_compat_absindex(lua_State *L, int i) {
  return i > 0 || i <= LUA_REGISTRYINDEX ? i : lua_gettop(L) + i + 1;
}
#define lua_absindex(L, i) ras_compat_absindex(L, i)

static inline void ras_compat_rawgetp(lua_State *L, int t, const void *p) {
  t = lua_absindex(L, t);
  lua_pushlightuserdata(L, (void *)p);
  lua_rawget(L, t);
}
static inline void ras_compat_rawsetp(lua_State *L, int t, const void *p) {
  t = lua_absindex(L, t);
  lua_pushlightuserdata(L, (void *)p);
  lua_insert(L, -2);
  lua_rawset(L, t);
}
#define lua_rawgetp(L, t, p) (ras_compat_rawgetp(L, t, p), lua_type(L, -1))
#define lua_rawsetp(L, t, p) ras_compat_rawsetp(L, t, p)

/* 5.1's environment of a userdata stands in for 5.2's user value. */
#define ras_compat_getuv(L, i) lua_getfenv(L, i)
#define ras_compat_setuv(L, i) lua_setfenv(L, i)

#ifndef RAS_LUAJIT
/* luaL_setfuncs, luaL_setmetatable, luaL_testudata and luaL_traceback are in
 * 5.2 and in LuaJIT 2.1, not in 5.1: these are 5.2's. */
static inline void ras_compat_setfuncs(lua_State *L, const luaL_Reg *l, int nup) {
  luaL_checkstack(L, nup, "too many upvalues");
  for (; l->name; l++) {
    for (int i = 0; i < nup; i++) lua_pushvalue(L, -nup);
    lua_pushcclosure(L, l->func, nup);
    lua_setfield(L, -(nup + 2), l->name);
  }
  lua_pop(L, nup);
}
#define luaL_setfuncs(L, l, nup) ras_compat_setfuncs(L, l, nup)

#define luaL_setmetatable(L, tname) (luaL_getmetatable(L, tname), lua_setmetatable(L, -2))

static inline void *ras_compat_testudata(lua_State *L, int i, const char *tname) {
  void *p = lua_touserdata(L, i);
  if (p && lua_getmetatable(L, i)) {
    luaL_getmetatable(L, tname);
    if (!lua_rawequal(L, -1, -2)) p = NULL;
    lua_pop(L, 2);
    return p;
  }
  return NULL;
}
#define luaL_testudata(L, i, tname) ras_compat_testudata(L, i, tname)

static inline void ras_compat_traceback(lua_State *L, lua_State *L1, const char *msg, int level) {
  lua_Debug ar;
  int top = lua_gettop(L);
  if (msg) lua_pushfstring(L, "%s\n", msg);
  lua_pushliteral(L, "stack traceback:");
  while (lua_getstack(L1, level++, &ar)) {
    lua_getinfo(L1, "Snl", &ar);
    lua_pushfstring(L, "\n\t%s:", ar.short_src);
    if (ar.currentline > 0) lua_pushfstring(L, "%d:", ar.currentline);
    if (*ar.namewhat) lua_pushfstring(L, " in function '%s'", ar.name);
    else if (*ar.what == 'm') lua_pushliteral(L, " in main chunk");
    else if (*ar.what == 'C') lua_pushliteral(L, " ?");
    else lua_pushfstring(L, " in function <%s:%d>", ar.short_src, ar.linedefined);
    lua_concat(L, lua_gettop(L) - top);
  }
  lua_concat(L, lua_gettop(L) - top);
}
#define luaL_traceback(L, L1, msg, level) ras_compat_traceback(L, L1, msg, level)
#endif /* !LuaJIT */

/* lua_resume(L, nargs) on 5.1: no `from`. */
#define ras_compat_resume3(co, from, nargs) ((void)(from), (lua_resume)(co, nargs))

#else /* 5.2, 5.3 */

#define ras_compat_getuv(L, i) lua_getuservalue(L, i)
#define ras_compat_setuv(L, i) lua_setuservalue(L, i)
#define ras_compat_resume3(co, from, nargs) (lua_resume)(co, from, nargs)

#endif /* 5.1 */

#if LUA_VERSION_NUM < 503

/* lua_getfield, lua_rawgeti, lua_rawget, lua_gettable return the value's type
 * from 5.3 on. (A macro does not expand itself: the inner name is the
 * function.) */
#define lua_getfield(L, i, k) (lua_getfield(L, i, k), lua_type(L, -1))
#define lua_rawgeti(L, i, n) (lua_rawgeti(L, i, n), lua_type(L, -1))
#define lua_rawget(L, i) (lua_rawget(L, i), lua_type(L, -1))
#define lua_gettable(L, i) (lua_gettable(L, i), lua_type(L, -1))

#if LUA_VERSION_NUM == 502
#define lua_rawgetp(L, i, p) (lua_rawgetp(L, i, p), lua_type(L, -1))
#endif

static inline int ras_compat_geti(lua_State *L, int t, lua_Integer n) {
  t = lua_absindex(L, t);
  lua_pushinteger(L, n);
  return lua_gettable(L, t);
}
#define lua_geti(L, t, n) ras_compat_geti(L, t, n)

/*
 * No integer subtype: every number is a double. A number counts as an
 * integer when it is one exactly and lies in lua_Integer's range (64 bits
 * here); so 2^53 + 1, which a double cannot hold, reads as 2^53, and 2^63
 * is out of range as on 5.3. lua_tointegerx is exact like 5.3's (5.2's and
 * LuaJIT's truncate a fraction): a fraction or an out-of-range number
 * gives 0 with *isnum false. Strings convert as numbers, as on 5.3.
 */
#ifndef LUA_MAXINTEGER  /* 5.1 and 5.2 call lua_Integer LUA_INTEGER, a ptrdiff_t */
#define LUA_MAXINTEGER PTRDIFF_MAX
#define LUA_MININTEGER PTRDIFF_MIN
#endif

static inline lua_Integer ras_compat_tointegerx(lua_State *L, int i, int *isnum) {
  int ok = 0;
  lua_Integer v = 0;
  if (lua_isnumber(L, i)) {
    lua_Number d = lua_tonumber(L, i);
    if (d >= -9223372036854775808.0 && d < 9223372036854775808.0 &&
        (lua_Number)(lua_Integer)d == d) {
      v = (lua_Integer)d;
      ok = 1;
    }
  }
  if (isnum) *isnum = ok;
  return v;
}
#define lua_tointegerx(L, i, isnum) ras_compat_tointegerx(L, i, isnum)

static inline int ras_compat_isinteger(lua_State *L, int i) {
  int ok;
  if (lua_type(L, i) != LUA_TNUMBER) return 0;
  (void)lua_tointegerx(L, i, &ok);
  return ok;
}
#define lua_isinteger(L, i) ras_compat_isinteger(L, i)

/* luaL_checkinteger as on 5.3: a fraction raises instead of truncating. */
static inline lua_Integer ras_compat_checkinteger(lua_State *L, int arg) {
  int ok;
  lua_Integer v = lua_tointegerx(L, arg, &ok);
  if (!ok) {
    if (lua_isnumber(L, arg)) luaL_argerror(L, arg, "number has no integer representation");
    else luaL_typeerror(L, arg, "number");
  }
  return v;
}
#define luaL_checkinteger(L, arg) ras_compat_checkinteger(L, arg)
#define luaL_optinteger(L, arg, def) \
  (lua_isnoneornil(L, (arg)) ? (lua_Integer)(def) : luaL_checkinteger(L, (arg)))

/* luaL_newmetatable sets __name from 5.3 on (error messages and luaL_typeerror
 * above show it). */
static inline int ras_compat_newmetatable(lua_State *L, const char *tname) {
  if (!(luaL_newmetatable)(L, tname)) return 0;
  lua_pushstring(L, tname);
  lua_setfield(L, -2, "__name");
  return 1;
}
#define luaL_newmetatable(L, tname) ras_compat_newmetatable(L, tname)

#endif /* < 5.3 */

#if LUA_VERSION_NUM < 504

/*
 * User values: 5.4's userdata has nuv of them; 5.2 and 5.3 have one, 5.1 an
 * environment table. Below 5.4 the one value is a table holding the nuv
 * values at 1..nuv and nuv itself at [0], so that a missing value (n out of
 * 1..nuv) is told from a nil one, as on 5.4. On 5.1 a new userdata gets the
 * running function's environment (often _G): a userdata without user values
 * gets an empty table instead, shared through the registry.
 */
#if LUA_VERSION_NUM == 501
static const char ras_compat_nouv_key = 0;  /* its address keys the registry */
#endif

static inline void *ras_compat_newuserdatauv(lua_State *L, size_t size, int nuv) {
  void *p = lua_newuserdata(L, size);
  if (nuv > 0) {
    lua_createtable(L, nuv, 1);
    lua_pushinteger(L, nuv);
    lua_rawseti(L, -2, 0);
    ras_compat_setuv(L, -2);
  }
#if LUA_VERSION_NUM == 501
  else {
    lua_rawgetp(L, LUA_REGISTRYINDEX, &ras_compat_nouv_key);
    if (!lua_istable(L, -1)) {
      lua_pop(L, 1);
      lua_newtable(L);
      lua_pushvalue(L, -1);
      lua_rawsetp(L, LUA_REGISTRYINDEX, &ras_compat_nouv_key);
    }
    ras_compat_setuv(L, -2);
  }
#endif
  return p;
}
#define lua_newuserdatauv(L, size, nuv) ras_compat_newuserdatauv(L, size, nuv)

/* Pushes the table of user values of the userdata at i, or nothing and
 * returns 0 if n is not one of them. */
static inline int ras_compat_uvtable(lua_State *L, int i, int n) {
  lua_Integer nuv = 0;
  if (lua_type(L, i) == LUA_TUSERDATA) {
    ras_compat_getuv(L, i);
    if (lua_istable(L, -1)) {
      lua_rawgeti(L, -1, 0);
      nuv = lua_tointeger(L, -1);
      lua_pop(L, 1);
    }
    if (n >= 1 && n <= nuv) return 1;
    lua_pop(L, 1);
  }
  return 0;
}

/* Pushes user value n and returns its type; LUA_TNONE (pushing nil) if the
 * userdata has no such value. */
static inline int ras_compat_getiuservalue(lua_State *L, int i, int n) {
  if (!ras_compat_uvtable(L, i, n)) {
    lua_pushnil(L);
    return LUA_TNONE;
  }
  lua_rawgeti(L, -1, n);
  lua_remove(L, -2);
  return lua_type(L, -1);
}
#define lua_getiuservalue(L, i, n) ras_compat_getiuservalue(L, i, n)

/* Pops a value into user value n; returns 0 if there is no such value. */
static inline int ras_compat_setiuservalue(lua_State *L, int i, int n) {
  i = lua_absindex(L, i);
  if (!ras_compat_uvtable(L, i, n)) {
    lua_pop(L, 1);
    return 0;
  }
  lua_insert(L, -2);
  lua_rawseti(L, -2, n);
  lua_pop(L, 1);
  return 1;
}
#define lua_setiuservalue(L, i, n) ras_compat_setiuservalue(L, i, n)

/*
 * lua_resume(co, from, nargs, &nres): before 5.4 there is no nres, and the
 * results (returned or yielded) are the whole of co's stack, which is how
 * 5.1 to 5.3's own coroutine.resume counts them.
 */
static inline int ras_compat_resume(lua_State *co, lua_State *from, int nargs, int *nres) {
  int status = ras_compat_resume3(co, from, nargs);
  *nres = status == LUA_OK || status == LUA_YIELD ? lua_gettop(co) : 0;
  return status;
}
#define lua_resume(co, from, nargs, nres) ras_compat_resume(co, from, nargs, nres)

#endif /* < 5.4 */

#endif
