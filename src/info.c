/*
 * info.c - the binding of what can be read about links and the machine:
 * conn:statistics(), conn:projection(), ctx.devices(), ras.error_info().
 */
#include <stdlib.h>
#include <string.h>

#include "binding.h"
#include "options.h"

static const char *const auth_names[] = { "pap", "chap", "mschapv2", "eap", NULL };

static connection *check_conn(lua_State *L, int arg) {
  return luaL_checkudata(L, arg, CONNECTION_MT);
}

/* nil, message, code when c cannot be asked (closed, gone); else 0. */
static int unavailable(lua_State *L, const connection *c) {
  if (!c->ctx) return bind_push_closed(L);
  if (!c->call || c->gone || !c->ctx->instance) return bind_push_gone(L);
  return 0;
}

static int push_call_error(lua_State *L, connection *c, int rc, const ras_error *err) {
  if (rc == RAS_ERROR_INVALID_HANDLE) {
    c->gone = 1;
    return bind_push_gone(L);
  }
  return bind_push_error_or_raise(L, err);
}

static void set_text(lua_State *L, const char *key, const char *value) {
  if (!value[0]) return;
  lua_pushstring(L, value);
  lua_setfield(L, -2, key);
}

static void set_count(lua_State *L, const char *key, unsigned long long v) {
  /* a counter beyond 2^63 is no count any link reaches: keep it exact in
   * the integer range */
  lua_pushinteger(L, v > (unsigned long long)LUA_MAXINTEGER ? LUA_MAXINTEGER : (lua_Integer)v);
  lua_setfield(L, -2, key);
}

static int conn_statistics(lua_State *L) {
  connection *c = check_conn(L, 1);
  ras_statistics st;
  ras_error err;
  int rc;
  if (unavailable(L, c)) return 3;
  if (!c->ctx->backend->statistics) return bind_push_unsupported(L, c->ctx, "statistics");
  memset(&st, 0, sizeof st);
  st.speed = -1;
  st.duration = -1;
  rc = c->ctx->backend->statistics(c->call, &st, &err);
  if (rc != 0) return push_call_error(L, c, rc, &err);
  lua_createtable(L, 0, 7);
  set_count(L, "bytes_sent", st.bytes_sent);
  set_count(L, "bytes_received", st.bytes_received);
  set_count(L, "frames_sent", st.frames_sent);
  set_count(L, "frames_received", st.frames_received);
  set_count(L, "errors", st.errors);
  if (st.speed >= 0) {
    lua_pushinteger(L, (lua_Integer)st.speed);
    lua_setfield(L, -2, "speed");
  }
  if (st.duration >= 0) {
    lua_pushnumber(L, st.duration);
    lua_setfield(L, -2, "duration");
  }
  return 1;
}

static int conn_projection(lua_State *L) {
  connection *c = check_conn(L, 1);
  ras_projection p;
  ras_error err;
  int rc;
  if (unavailable(L, c)) return 3;
  if (!c->ctx->backend->projection) return bind_push_unsupported(L, c->ctx, "projection");
  memset(&p, 0, sizeof p);
  rc = c->ctx->backend->projection(c->call, &p, &err);
  if (rc != 0) return push_call_error(L, c, rc, &err);
  lua_createtable(L, 0, 6);
  set_text(L, "interface", p.interface);
  if (p.has_ipv4) {
    lua_createtable(L, 0, 3);
    set_text(L, "address", p.ipv4_address);
    set_text(L, "server_address", p.ipv4_server_address);
    lua_createtable(L, p.ndns, 0);
    for (int i = 0; i < p.ndns && i < RAS_MAX_DNS; i++) {
      lua_pushstring(L, p.dns[i]);
      lua_rawseti(L, -2, i + 1);
    }
    lua_setfield(L, -2, "dns");
    lua_setfield(L, -2, "ipv4");
  }
  if (p.has_ipv6) {
    lua_createtable(L, 0, 2);
    set_text(L, "interface_id", p.ipv6_interface_id);
    set_text(L, "server_interface_id", p.ipv6_server_interface_id);
    lua_setfield(L, -2, "ipv6");
  }
  for (int i = 0; auth_names[i]; i++)
    if (p.auth == 1u << i) {
      lua_pushstring(L, auth_names[i]);
      lua_setfield(L, -2, "auth_protocol");
    }
  set_text(L, "encryption", p.encryption);
  set_text(L, "compression", p.compression);
  return 1;
}

static int ctx_devices(lua_State *L) {
  context *ctx = bind_open_context(L);
  ras_device_info *list;
  ras_error err;
  size_t n;
  void **box;
  if (!ctx->backend->devices) return bind_push_unsupported(L, ctx, "listing devices");
  lua_settop(L, 0);
  box = lua_newuserdatauv(L, sizeof *box, 0);    /* owns the list if an error unwinds */
  *box = NULL;
  luaL_setmetatable(L, BOX_MT);
  *box = list = ctx->backend->devices(ctx->instance, &n, &err);
  if (!list) return bind_push_error_or_raise(L, &err);
  bind_push_pairs(L, list, n, sizeof *list, "name", offsetof(ras_device_info, name),
                  "type", offsetof(ras_device_info, type));
  free(*box);
  *box = NULL;
  return 1;
}

/* ras.error_info(code): what the CLI's --retries decides by, made public. */
static int m_error_info(lua_State *L) {
  context *ctx = bind_self_context(L);
  lua_Integer code = luaL_checkinteger(L, 1);
  int retryable;
  const char *kind = ras_error_kind((long long)code, &retryable);
  lua_createtable(L, 0, 4);
  lua_pushinteger(L, code);
  lua_setfield(L, -2, "code");
  bind_push_error_message(L, ctx->backend, code, NULL);
  lua_setfield(L, -2, "message");
  lua_pushboolean(L, retryable);
  lua_setfield(L, -2, "retryable");
  lua_pushstring(L, kind);
  lua_setfield(L, -2, "kind");
  return 1;
}

const luaL_Reg bind_info_functions[] = {
  { "devices", ctx_devices }, { "error_info", m_error_info }, { NULL, NULL }
};

const luaL_Reg bind_info_methods[] = {
  { "statistics", conn_statistics }, { "projection", conn_projection }, { NULL, NULL }
};
