/*
 * ras.c - the Lua binding: module and context functions, connection
 * objects, and the pumps that deliver queued events to Lua.
 *
 * No platform header here: the platform lives behind backend.h and os.h.
 *
 * Objects. A context is a table of closures sharing one "ras.context"
 * userdata (upvalue 1); the module table is the default context. A
 * connection is a "ras.connection" userdata whose user values are:
 *   1 its context userdata (kept alive while the connection is),
 *   2 its on_state handler, 3 its entry name, 4 its phonebook.
 * The context userdata's user value is a weak-valued table mapping each
 * connection's C address to its userdata, so that events popped by C can be
 * handed to the right Lua object and enumerations return the same object.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "lauxlib.h"
#include "lua.h"

#include "backend.h"

#define RAS_VERSION "0.1.0"
#define CONTEXT_MT "ras.context"
#define CONNECTION_MT "ras.connection"
#define DEFAULT_HANGUP_TIMEOUT 30.0

enum { UV_CONTEXT = 1, UV_HANDLER, UV_ENTRY, UV_PHONEBOOK, UV_COUNT = 4 };

typedef struct lconn lconn;

typedef struct lctx {
  ras_ctx *queue;
  const ras_backend *be;
  void *state;           /* the backend's; NULL once the context is closed */
  lconn *conns;          /* connection objects not yet collected */
} lctx;

struct lconn {
  lctx *ctx;
  ras_link *link;        /* NULL only if the object never got one */
  ras_call *call;        /* NULL once released */
  lconn *next, *prev;
  uint64_t id;
  double started;
  double deadline;       /* dial timeout; 0: none */
  int last_state;        /* last delivered, -1 before the first */
  unsigned dialled : 1;  /* dialled here (not found by enumeration) */
  unsigned hangup_started : 1;
  unsigned gone : 1;     /* status has reported an invalid handle */
};

/* ---------------------------------------------------------------------- */
/* small helpers                                                          */

static int push_failure(lua_State *L, const char *message, int code) {
  luaL_pushfail(L);
  lua_pushstring(L, message);
  lua_pushinteger(L, code);
  return 3;
}

static int push_error(lua_State *L, const ras_error *err) {
  return push_failure(L, err->message, err->code);
}

/* A backend that finds a bad argument itself (text that is not UTF-8, say)
 * says so with RAS_BAD_ARGUMENT: raise it as read_dial_params does. */
static int push_error_or_raise(lua_State *L, const ras_error *err) {
  if (err->code == RAS_BAD_ARGUMENT) return luaL_error(L, "%s", err->message);
  return push_error(L, err);
}

static double opt_seconds(lua_State *L, int arg, double def) {
  double v;
  if (lua_isnoneornil(L, arg)) return def;
  v = luaL_checknumber(L, arg);
  luaL_argcheck(L, v >= 0 && !isnan(v), arg, "timeout must be a number >= 0");
  return v;
}

/* Seconds left until `until` (< 0: forever), never negative. */
static double left_until(double until, double now) {
  if (until < 0) return -1;
  return until > now ? until - now : 0;
}

static double earlier(double a, double b) {  /* < 0 means never */
  if (a < 0) return b;
  if (b < 0) return a;
  return a < b ? a : b;
}

/* The message for an error code: the OS's text if the backend has one. */
static void push_error_message(lua_State *L, const ras_backend *be, int code,
                               const char *detail) {
  char buf[512];
  const char *text = be && be->error_text ? be->error_text(code, buf, sizeof buf) : NULL;
  if (!text) text = ras_error_text(code);
  if (text && detail) lua_pushfstring(L, "%s (%s)", text, detail);
  else if (text) lua_pushstring(L, text);
  else if (detail) lua_pushfstring(L, "RAS error %d (%s)", code, detail);
  else lua_pushfstring(L, "RAS error %d", code);
}

static void push_state_name(lua_State *L, int state) {
  const char *name = ras_state_name(state);
  if (name) lua_pushstring(L, name);
  else lua_pushfstring(L, "State%d", state);
}

/* ---------------------------------------------------------------------- */
/* parameters: every check runs before anything is started                */

static const char *string_param(lua_State *L, int t, const char *name,
                                size_t max) {
  size_t len;
  const char *s;
  int type = lua_getfield(L, t, name);
  lua_pop(L, 1);  /* the table keeps the string alive */
  if (type == LUA_TNIL) return NULL;
  if (type != LUA_TSTRING)
    luaL_error(L, "bad parameter '%s' (string expected, got %s)", name,
               lua_typename(L, type));
  lua_getfield(L, t, name);
  s = lua_tolstring(L, -1, &len);
  lua_pop(L, 1);
  if (strlen(s) != len)
    luaL_error(L, "bad parameter '%s' (contains a NUL byte)", name);
  if (len > max)
    luaL_error(L, "bad parameter '%s' (longer than %d bytes)", name, (int)max);
  return s;
}

/* Raises an error naming the first key of table t that is not allowed. */
static void check_keys(lua_State *L, int t, const char *const allowed[]) {
  lua_pushnil(L);
  while (lua_next(L, t)) {
    int known = 0;
    lua_pop(L, 1);
    if (lua_type(L, -1) == LUA_TSTRING)
      for (int i = 0; allowed[i] && !known; i++)
        known = strcmp(allowed[i], lua_tostring(L, -1)) == 0;
    if (!known)
      luaL_error(L, "unknown parameter '%s'", luaL_tolstring(L, -1, NULL));
  }
}

static const char *const dial_keys[] = {
  "entry", "phonebook", "number", "username", "password", "domain",
  "callback_number", "paused_states", "timeout", "on_state", NULL
};

static const char *const resume_keys[] = {
  "username", "password", "new_password", "domain", "callback_number", NULL
};

typedef struct dial_request {
  ras_dial_params p;
  double timeout;        /* 0: none */
  int has_handler;
} dial_request;

static void read_dial_params(lua_State *L, int t, dial_request *r) {
  int type;
  luaL_checktype(L, t, LUA_TTABLE);
  check_keys(L, t, dial_keys);
  memset(r, 0, sizeof *r);
  r->p.entry = string_param(L, t, "entry", RAS_MAX_ENTRY);
  r->p.phonebook = string_param(L, t, "phonebook", RAS_MAX_PATH);
  r->p.number = string_param(L, t, "number", RAS_MAX_NUMBER);
  r->p.username = string_param(L, t, "username", RAS_MAX_USER);
  r->p.password = string_param(L, t, "password", RAS_MAX_PASSWORD);
  r->p.domain = string_param(L, t, "domain", RAS_MAX_DOMAIN);
  r->p.callback_number = string_param(L, t, "callback_number", RAS_MAX_NUMBER);
  if (!r->p.entry && !r->p.number)
    luaL_error(L, "bad parameter 'entry' (an entry or a number is required)");
  type = lua_getfield(L, t, "paused_states");
  if (type != LUA_TNIL && type != LUA_TBOOLEAN)
    luaL_error(L, "bad parameter 'paused_states' (boolean expected, got %s)",
               lua_typename(L, type));
  r->p.paused_states = lua_toboolean(L, -1);
  type = lua_getfield(L, t, "timeout");
  if (type != LUA_TNIL) {
    r->timeout = lua_tonumber(L, -1);
    if (type != LUA_TNUMBER || !(r->timeout > 0) || isinf(r->timeout))
      luaL_error(L, "bad parameter 'timeout' (a number of seconds > 0 expected)");
  }
  type = lua_getfield(L, t, "on_state");
  if (type != LUA_TNIL && type != LUA_TFUNCTION && type != LUA_TTHREAD)
    luaL_error(L, "bad parameter 'on_state' (function or coroutine expected, got %s)",
               lua_typename(L, type));
  r->has_handler = type != LUA_TNIL;
  lua_pop(L, 3);
}

static void read_resume_params(lua_State *L, int t, ras_resume_params *p) {
  luaL_checktype(L, t, LUA_TTABLE);
  check_keys(L, t, resume_keys);
  p->username = string_param(L, t, "username", RAS_MAX_USER);
  p->password = string_param(L, t, "password", RAS_MAX_PASSWORD);
  p->new_password = string_param(L, t, "new_password", RAS_MAX_PASSWORD);
  p->domain = string_param(L, t, "domain", RAS_MAX_DOMAIN);
  p->callback_number = string_param(L, t, "callback_number", RAS_MAX_NUMBER);
}

/* ---------------------------------------------------------------------- */
/* contexts and connection objects                                        */

static lctx *upvalue_ctx(lua_State *L) {
  return luaL_checkudata(L, lua_upvalueindex(1), CONTEXT_MT);
}

static lconn *check_conn(lua_State *L, int arg) {
  return luaL_checkudata(L, arg, CONNECTION_MT);
}

static int is_open(const lconn *c) { return c->ctx && c->call && c->ctx->state; }

/* Pushes the context's weak table of connection objects. */
static void push_registry_of(lua_State *L, int ctx_index) {
  lua_getiuservalue(L, ctx_index, 1);
}

/* Pushes the Lua object of c, or nil if it is being collected. */
static void push_object(lua_State *L, int registry, const lconn *c) {
  lua_rawgetp(L, registry, c);
}

static void start_hangup(lconn *c) {
  ras_error err;
  if (!is_open(c) || c->hangup_started) return;
  c->hangup_started = 1;
  c->ctx->be->hangup(c->call, &err);
}

/*
 * The Lua side lets go of the backend's connection: a dial nobody can
 * finish any more is hung up first; an established one stays up.
 */
static void release_call(lconn *c) {
  if (!is_open(c)) return;
  if (c->dialled && !ras_link_reached_connected(c->link)) start_hangup(c);
  c->ctx->be->release(c->call);
  c->call = NULL;
}

static void unlist(lconn *c) {
  if (c->prev) c->prev->next = c->next;
  else if (c->ctx && c->ctx->conns == c) c->ctx->conns = c->next;
  if (c->next) c->next->prev = c->prev;
  c->next = c->prev = NULL;
}

/* Everything __gc does; also run early on an object that is being
 * collected when an enumeration needs its connection again. */
static void detach(lconn *c) {
  release_call(c);
  if (c->link) {
    ras_link_orphan(c->link);
    ras_link_unref(c->link);
    c->link = NULL;
  }
  unlist(c);
  c->ctx = NULL;
}

static int conn_gc(lua_State *L) {
  lconn *c = check_conn(L, 1);
  if (c->ctx) detach(c);
  return 0;
}

/* Creates a connection object for ctx (at ctx_index) with a new link. */
static lconn *new_conn(lua_State *L, int ctx_index) {
  lctx *ctx = luaL_checkudata(L, ctx_index, CONTEXT_MT);
  lconn *c = lua_newuserdatauv(L, sizeof *c, UV_COUNT);
  memset(c, 0, sizeof *c);
  c->last_state = -1;
  luaL_setmetatable(L, CONNECTION_MT);
  lua_pushvalue(L, ctx_index);
  lua_setiuservalue(L, -2, UV_CONTEXT);
  c->link = ras_link_new(ctx->queue);
  if (!c->link) luaL_error(L, "out of memory");
  ras_link_set_owner(c->link, c);
  c->ctx = ctx;
  c->next = ctx->conns;
  if (ctx->conns) ctx->conns->prev = c;
  ctx->conns = c;
  push_registry_of(L, ctx_index);
  lua_pushvalue(L, -2);
  lua_rawsetp(L, -2, c);
  lua_pop(L, 1);
  return c;
}

/* ---------------------------------------------------------------------- */
/* delivering events                                                      */

static void push_event(lua_State *L, const lconn *c, ras_event *ev) {
  lua_createtable(L, 0, 6 + (ev->error ? 2 : 0) + (ev->extended_error != 0));
  push_state_name(L, ev->state);
  lua_setfield(L, -2, "state");
  lua_pushinteger(L, ev->state);
  lua_setfield(L, -2, "state_code");
  lua_pushstring(L, ras_group_name(ras_state_group(ev->state)));
  lua_setfield(L, -2, "group");
  if (ev->error) {
    lua_pushinteger(L, ev->error);
    lua_setfield(L, -2, "error");
    push_error_message(L, c->ctx ? c->ctx->be : NULL, ev->error, ev->detail);
    lua_setfield(L, -2, "message");
  }
  if (ev->extended_error) {
    lua_pushinteger(L, ev->extended_error);
    lua_setfield(L, -2, "extended_error");
  }
  lua_pushinteger(L, ev->subentry);
  lua_setfield(L, -2, "subentry");
  lua_pushnumber(L, ev->time);
  lua_setfield(L, -2, "time");
  lua_pushnumber(L, ev->time - c->started);
  lua_setfield(L, -2, "elapsed");
  ras_event_free(ev);
}

static int resume_with(lua_State *L, lconn *c, int params);

/* A paused state's handler answered with a table: resume the dial. */
static void resume_from_handler(lua_State *L, lconn *c, int state, int result) {
  int top = lua_gettop(L);
  if (ras_state_group(state) != RAS_GROUP_PAUSED || !lua_istable(L, result))
    return;
  if (resume_with(L, c, result) != 1)
    luaL_error(L, "on_state: resuming from %s failed: %s",
               ras_state_name(state), lua_tostring(L, -2));
  lua_settop(L, top);
}

static int traceback(lua_State *L) {
  const char *msg = lua_tostring(L, 1);
  if (!msg) msg = lua_pushfstring(L, "(error object is a %s value)",
                                  luaL_typename(L, 1));
  luaL_traceback(L, L, msg, 1);
  return 1;
}

/*
 * msgh: the index of the traceback message handler, or 0 when the caller
 * already runs under one (ras.poll protects its whole loop at once, which
 * is much cheaper than a protected call per event).
 */
static void call_function(lua_State *L, int msgh, int conn, lconn *c, int ev,
                          int state) {
  int base = lua_gettop(L);          /* the handler is at base */
  lua_pushvalue(L, conn);
  lua_pushvalue(L, ev);
  if (msgh == 0) lua_call(L, 2, 1);
  else if (lua_pcall(L, 2, 1, msgh) != LUA_OK) lua_error(L);
  resume_from_handler(L, c, state, base);
  lua_settop(L, base - 1);
}

static void resume_coroutine(lua_State *L, int conn, lconn *c, int ev, int state) {
  lua_State *co = lua_tothread(L, -1);
  int status = lua_status(co), nres;
  if (status != LUA_YIELD && (status != LUA_OK || lua_gettop(co) == 0)) {
    lua_pop(L, 1);  /* the coroutine has ended: it wants no more events */
    return;
  }
  lua_pushvalue(L, conn);
  lua_pushvalue(L, ev);
  lua_xmove(L, co, 2);
  status = lua_resume(co, L, 2, &nres);
  if (status != LUA_OK && status != LUA_YIELD) {
    luaL_traceback(L, co, lua_tostring(co, -1), 0);
    lua_settop(co, 0);
    lua_error(L);
  }
  if (nres > 0) {
    lua_xmove(co, L, nres);
    lua_settop(L, lua_gettop(L) - nres + 1);
    resume_from_handler(L, c, state, lua_gettop(L));
    lua_pop(L, 1);
  }
  lua_pop(L, 1);  /* the coroutine */
}

/* Hands the event table at `ev` to the connection's handler, if any. */
static void run_handler(lua_State *L, int msgh, int conn, lconn *c, int ev,
                        int state) {
  int type = lua_getiuservalue(L, conn, UV_HANDLER);
  if (type == LUA_TFUNCTION) call_function(L, msgh, conn, c, ev, state);
  else if (type == LUA_TTHREAD) resume_coroutine(L, conn, c, ev, state);
  else lua_pop(L, 1);
}

/* Book-keeping for an event about to reach Lua. */
static void note_event(lconn *c, const ras_event *ev) {
  c->last_state = ev->state;
  if (ev->state & RAS_DONE) c->deadline = 0;
  /* RAS wants every handle hung up, also after a failed dial or a drop. */
  if (ev->state == RAS_Disconnected) start_hangup(c);
}

/* Delivers one popped event: leaves its table on the stack. The handler
 * may raise; the event has been delivered by then. msgh is the index of
 * the traceback function. */
static void deliver(lua_State *L, int msgh, int conn, lconn *c, ras_event *ev) {
  int state = ev->state;
  note_event(c, ev);
  push_event(L, c, ev);
  run_handler(L, msgh, conn, c, lua_gettop(L), state);
}

/* The dial timeout: hang up and end in Disconnected with 638. */
static void expire(lconn *c, double now) {
  ras_event ev = { RAS_Disconnected, RAS_ERROR_REQUEST_TIMEOUT, 0, 1, now, NULL };
  if (c->deadline <= 0 || now < c->deadline || !c->link) return;
  c->deadline = 0;
  if (ras_link_push_unless_terminal(c->link, &ev)) start_hangup(c);
}

static void expire_all(lctx *ctx, double now) {
  for (lconn *c = ctx->conns; c; c = c->next) expire(c, now);
}

static double next_deadline(const lctx *ctx) {
  double d = -1;
  for (const lconn *c = ctx->conns; c; c = c->next)
    if (c->deadline > 0) d = earlier(d, c->deadline);
  return d;
}

/* No event can come any more: the final Disconnected has been delivered. */
static int finished(const lconn *c) {
  return !c->link || (c->last_state == RAS_Disconnected && ras_link_pending(c->link) == 0);
}

/*
 * Waits up to `seconds` (< 0: forever) for c's next event and delivers it.
 * Returns 1 with the event table pushed, or 0 (timeout or finished).
 */
static int next_event(lua_State *L, int conn, lconn *c, double seconds) {
  double now = os_now();
  double until = seconds < 0 ? -1 : now + seconds;
  ras_event ev;
  for (;;) {
    expire(c, now);
    if (c->link && ras_link_pop(c->link, &ev)) {
      int msgh = lua_gettop(L) + 1;
      lua_pushcfunction(L, traceback);
      deliver(L, msgh, conn, c, &ev);
      lua_remove(L, msgh);
      return 1;
    }
    if (finished(c) || (until >= 0 && now >= until)) return 0;
    ras_link_wait(c->link, left_until(earlier(until, c->deadline > 0 ? c->deadline : -1), now));
    now = os_now();
  }
}

static int push_no_event(lua_State *L, const lconn *c) {
  luaL_pushfail(L);
  lua_pushstring(L, finished(c) ? "disconnected" : "timeout");
  return 2;
}

/* ---------------------------------------------------------------------- */
/* connection methods                                                     */

static int conn_next(lua_State *L) {
  lconn *c = check_conn(L, 1);
  double seconds = opt_seconds(L, 2, -1);
  lua_settop(L, 1);
  return next_event(L, 1, c, seconds) ? 1 : push_no_event(L, c);
}

static int conn_wait(lua_State *L) {
  lconn *c = check_conn(L, 1);
  double seconds = opt_seconds(L, 2, -1);
  double until = seconds < 0 ? -1 : os_now() + seconds;
  lua_settop(L, 1);
  while (next_event(L, 1, c, left_until(until, os_now()))) {
    if (ras_state_group(c->last_state) != RAS_GROUP_RUNNING) return 1;
    lua_pop(L, 1);
  }
  return push_no_event(L, c);
}

static int states_step(lua_State *L) {
  lconn *c = check_conn(L, lua_upvalueindex(1));
  if (lua_toboolean(L, lua_upvalueindex(2))) return 0;
  lua_settop(L, 0);
  lua_pushvalue(L, lua_upvalueindex(1));
  if (!next_event(L, 1, c, -1)) return 0;
  if (c->last_state & RAS_DONE) {
    lua_pushboolean(L, 1);
    lua_replace(L, lua_upvalueindex(2));
  }
  return 1;
}

static int conn_states(lua_State *L) {
  check_conn(L, 1);
  lua_settop(L, 1);
  lua_pushboolean(L, 0);   /* ended after a terminal event */
  lua_pushcclosure(L, states_step, 2);
  return 1;
}

static void set_text(lua_State *L, const char *name, const char *value) {
  if (!value[0]) return;
  lua_pushstring(L, value);
  lua_setfield(L, -2, name);
}

static int conn_status(lua_State *L) {
  lconn *c = check_conn(L, 1);
  ras_status st;
  int rc;
  if (!is_open(c) || c->gone)
    return push_failure(L, ras_error_text(RAS_ERROR_INVALID_HANDLE), RAS_ERROR_INVALID_HANDLE);
  memset(&st, 0, sizeof st);
  rc = c->ctx->be->status(c->call, &st);
  if (rc == RAS_ERROR_INVALID_HANDLE) c->gone = 1;
  if (rc != 0) {
    push_error_message(L, c->ctx->be, rc, NULL);
    return push_failure(L, lua_tostring(L, -1), rc);
  }
  lua_createtable(L, 0, 10);
  push_state_name(L, st.state);
  lua_setfield(L, -2, "state");
  lua_pushinteger(L, st.state);
  lua_setfield(L, -2, "state_code");
  lua_pushstring(L, ras_group_name(ras_state_group(st.state)));
  lua_setfield(L, -2, "group");
  if (st.error) {
    lua_pushinteger(L, st.error);
    lua_setfield(L, -2, "error");
    push_error_message(L, c->ctx->be, st.error, NULL);
    lua_setfield(L, -2, "message");
  }
  set_text(L, "device_type", st.device_type);
  set_text(L, "device_name", st.device_name);
  set_text(L, "interface", st.interface);
  set_text(L, "local_address", st.local_address);
  set_text(L, "remote_address", st.remote_address);
  return 1;
}

/* conn:resume(t) with the table at index params; 1 result or 3 on failure. */
static int resume_with(lua_State *L, lconn *c, int params) {
  ras_resume_params p;
  ras_error err;
  memset(&p, 0, sizeof p);
  read_resume_params(L, params, &p);
  if (!is_open(c) || c->gone)
    return push_failure(L, ras_error_text(RAS_ERROR_INVALID_HANDLE), RAS_ERROR_INVALID_HANDLE);
  if (c->ctx->be->resume(c->call, &p, &err) != 0) return push_error_or_raise(L, &err);
  lua_pushboolean(L, 1);
  return 1;
}

static int conn_resume(lua_State *L) {
  lconn *c = check_conn(L, 1);
  return resume_with(L, c, 2);
}

/*
 * The RAS hang-up protocol: hang up, then wait until the status reports an
 * invalid handle. The backend's wait blocks on the teardown itself.
 */
static int hangup(lua_State *L, lconn *c, double seconds) {
  ras_event ev = { RAS_Disconnected, 0, 0, 1, os_now(), NULL };
  double until = os_now() + seconds;
  ras_status st;
  ras_error err;
  if (!is_open(c)) {
    lua_pushboolean(L, 1);
    return 1;
  }
  if (!c->hangup_started) {
    c->hangup_started = 1;
    if (c->ctx->be->hangup(c->call, &err) != 0) {
      c->hangup_started = 0;
      return push_error(L, &err);
    }
  }
  c->deadline = 0;
  ras_link_push(c->link, &ev);  /* refused if the connection had ended */
  while (c->ctx->be->status(c->call, &st) != RAS_ERROR_INVALID_HANDLE) {
    double now = os_now();
    if (now >= until) {
      luaL_pushfail(L);
      lua_pushliteral(L, "timeout");
      return 2;
    }
    c->ctx->be->wait(c->call, until - now);
  }
  c->gone = 1;
  c->ctx->be->release(c->call);
  c->call = NULL;
  lua_pushboolean(L, 1);
  return 1;
}

static int conn_hangup(lua_State *L) {
  lconn *c = check_conn(L, 1);
  return hangup(L, c, opt_seconds(L, 2, DEFAULT_HANGUP_TIMEOUT));
}

static int conn_close(lua_State *L) {
  lconn *c = check_conn(L, 1);
  hangup(L, c, DEFAULT_HANGUP_TIMEOUT);
  return 0;
}

static int conn_pollfd(lua_State *L) {
  lconn *c = check_conn(L, 1);
  int fd = c->link ? ras_link_pollfd(c->link) : -1;
  if (fd < 0)
    return push_failure(L, "pollfd is not available on this platform: "
                           "wait on conn:pollhandle() instead", RAS_ERROR_INVALID_PARAMETER);
  lua_pushinteger(L, fd);
  return 1;
}

static int conn_pollhandle(lua_State *L) {
  lconn *c = check_conn(L, 1);
  void *h = c->link ? ras_link_pollhandle(c->link) : NULL;
  if (!h)
    return push_failure(L, "pollhandle is a Windows event handle: "
                           "use conn:pollfd() on this platform", RAS_ERROR_INVALID_PARAMETER);
  lua_pushlightuserdata(L, h);
  return 1;
}

static int push_events(lua_State *L) {
  lua_pushliteral(L, "r");
  return 1;
}

static int conn_events(lua_State *L) {
  check_conn(L, 1);
  return push_events(L);
}

static int push_timeout(lua_State *L, double deadline) {
  if (deadline <= 0) lua_pushnil(L);
  else lua_pushnumber(L, left_until(deadline, os_now()));
  return 1;
}

static int conn_timeout(lua_State *L) {
  return push_timeout(L, check_conn(L, 1)->deadline);
}

static int conn_tostring(lua_State *L) {
  lconn *c = check_conn(L, 1);
  lua_getiuservalue(L, 1, UV_ENTRY);
  if (c->last_state < 0)
    lua_pushfstring(L, "ras.connection: %s (no state yet)", luaL_optstring(L, -1, "?"));
  else {
    push_state_name(L, c->last_state);
    lua_pushfstring(L, "ras.connection: %s (%s)", luaL_optstring(L, -2, "?"),
                    lua_tostring(L, -1));
  }
  return 1;
}

static int conn_index(lua_State *L) {
  const char *key = lua_tostring(L, 2);
  check_conn(L, 1);
  if (key && strcmp(key, "entry") == 0) lua_getiuservalue(L, 1, UV_ENTRY);
  else if (key && strcmp(key, "phonebook") == 0) lua_getiuservalue(L, 1, UV_PHONEBOOK);
  else {
    lua_pushvalue(L, 2);
    lua_rawget(L, lua_upvalueindex(1));
  }
  return 1;
}

static const luaL_Reg conn_methods[] = {
  { "next", conn_next }, { "wait", conn_wait }, { "states", conn_states },
  { "status", conn_status }, { "resume", conn_resume },
  { "hangup", conn_hangup }, { "close", conn_close },
  { "pollfd", conn_pollfd }, { "pollhandle", conn_pollhandle },
  { "events", conn_events }, { "timeout", conn_timeout },
  { NULL, NULL }
};

static const luaL_Reg conn_metamethods[] = {
  { "__gc", conn_gc }, { "__close", conn_close },
  { "__tostring", conn_tostring }, { NULL, NULL }
};

/* ---------------------------------------------------------------------- */
/* context functions                                                      */

static int ctx_dial(lua_State *L) {
  lctx *ctx = upvalue_ctx(L);
  dial_request r;
  ras_error err;
  lconn *c;
  int rc;
  read_dial_params(L, 1, &r);
  lua_settop(L, 1);
  c = new_conn(L, lua_upvalueindex(1));          /* at 2 */
  c->dialled = 1;
  c->started = os_now();
  rc = ctx->be->dial(ctx->state, c->link, &r.p, &c->call, &c->id, &err);
  if (rc != 0) {
    detach(c);
    return push_error_or_raise(L, &err);
  }
  if (r.timeout > 0) c->deadline = c->started + r.timeout;
  lua_getfield(L, 1, "on_state");
  lua_setiuservalue(L, 2, UV_HANDLER);
  lua_getfield(L, 1, "entry");
  if (lua_isnil(L, -1)) {
    lua_pop(L, 1);
    lua_getfield(L, 1, "number");
  }
  lua_setiuservalue(L, 2, UV_ENTRY);
  lua_getfield(L, 1, "phonebook");
  lua_setiuservalue(L, 2, UV_PHONEBOOK);
  return 1;
}

/* The object for an enumerated connection: the one we have, or a new one. */
static void push_enumerated(lua_State *L, int ctx_index, int registry,
                            const ras_conn_info *info) {
  lctx *ctx = lua_touserdata(L, ctx_index);
  ras_error err;
  lconn *c;
  for (c = ctx->conns; c; c = c->next) {
    if (c->id != info->id || !is_open(c) || c->gone) continue;
    push_object(L, registry, c);
    if (!lua_isnil(L, -1)) return;
    lua_pop(L, 1);
    detach(c);  /* unreachable, awaiting __gc: let go of the call now */
    break;
  }
  c = new_conn(L, ctx_index);
  c->id = info->id;
  c->started = os_now();
  c->call = ctx->be->attach(ctx->state, c->link, info->id, &err);
  if (!c->call) {  /* gone between the enumeration and now */
    detach(c);
    lua_pop(L, 1);
    lua_pushnil(L);
    return;
  }
  lua_pushstring(L, info->entry);
  lua_setiuservalue(L, -2, UV_ENTRY);
  lua_pushstring(L, info->phonebook);
  lua_setiuservalue(L, -2, UV_PHONEBOOK);
}

static int ctx_connections(lua_State *L) {
  lctx *ctx = upvalue_ctx(L);
  ras_error err;
  size_t n;
  lua_Integer k = 0;
  ras_conn_info *list = ctx->be->connections(ctx->state, &n, &err);
  if (!list) return push_error(L, &err);
  lua_settop(L, 0);
  push_registry_of(L, lua_upvalueindex(1));       /* 1 */
  lua_createtable(L, (int)n, 0);                  /* 2 */
  for (size_t i = 0; i < n; i++) {
    push_enumerated(L, lua_upvalueindex(1), 1, &list[i]);
    if (lua_isnil(L, -1)) lua_pop(L, 1);
    else lua_rawseti(L, 2, ++k);
  }
  free(list);
  return 1;
}

static int ctx_entries(lua_State *L) {
  lctx *ctx = upvalue_ctx(L);
  const char *phonebook = luaL_optstring(L, 1, NULL);
  ras_error err;
  size_t n;
  ras_entry_info *list;
  if (phonebook && strlen(phonebook) > RAS_MAX_PATH)
    luaL_argerror(L, 1, "phonebook path too long");
  list = ctx->be->entries(ctx->state, phonebook, &n, &err);
  if (!list) return push_error_or_raise(L, &err);
  lua_createtable(L, (int)n, 0);
  for (size_t i = 0; i < n; i++) {
    lua_createtable(L, 0, 2);
    lua_pushstring(L, list[i].name);
    lua_setfield(L, -2, "name");
    lua_pushstring(L, list[i].phonebook);
    lua_setfield(L, -2, "phonebook");
    lua_rawseti(L, -2, (lua_Integer)i + 1);
  }
  free(list);
  return 1;
}

/*
 * dispatch(ctx, limit, registry): delivers up to limit queued events of the
 * context and returns how many. Runs as one protected call, so a handler
 * error unwinds straight out of it, after its event was delivered.
 */
static int dispatch(lua_State *L) {
  lctx *ctx = lua_touserdata(L, 1);
  size_t limit = (size_t)lua_tointeger(L, 2);
  int n = 0, registry = 3;
  while ((size_t)n < limit) {
    ras_event ev;
    ras_link *link = ras_ctx_pop(ctx->queue, &ev);
    lconn *c;
    if (!link) break;
    c = ras_link_owner(link);
    push_object(L, registry, c);
    if (lua_isnil(L, -1)) {   /* collected: nobody can see it */
      ras_event_free(&ev);
      lua_pop(L, 1);
      continue;
    }
    deliver(L, 0, registry + 1, c, &ev);
    lua_settop(L, registry);
    n++;
  }
  lua_pushinteger(L, n);
  return 1;
}

static void dispatch_protected(lua_State *L, lctx *ctx, size_t limit) {
  lua_pushcfunction(L, traceback);
  lua_pushcfunction(L, dispatch);
  lua_pushlightuserdata(L, ctx);
  lua_pushinteger(L, (lua_Integer)limit);
  push_registry_of(L, lua_upvalueindex(1));
  if (lua_pcall(L, 3, 1, -5) != LUA_OK) lua_error(L);
}

static int ctx_poll(lua_State *L) {
  lctx *ctx = upvalue_ctx(L);
  double seconds = opt_seconds(L, 1, -1);
  double now = os_now(), until = seconds < 0 ? -1 : now + seconds;
  lua_settop(L, 0);
  for (;;) {
    size_t pending;
    expire_all(ctx, now);
    pending = ras_ctx_pending(ctx->queue);
    if (pending > 0) {
      dispatch_protected(L, ctx, pending);
      return 1;
    }
    if (until >= 0 && now >= until) break;
    ras_ctx_wait(ctx->queue, left_until(earlier(until, next_deadline(ctx)), now));
    now = os_now();
  }
  lua_pushinteger(L, 0);
  return 1;
}

static int ctx_pollfd(lua_State *L) {
  int fd = ras_ctx_pollfd(upvalue_ctx(L)->queue);
  if (fd < 0)
    return push_failure(L, "pollfd is not available on this platform: "
                           "wait on ras.pollhandle() instead", RAS_ERROR_INVALID_PARAMETER);
  lua_pushinteger(L, fd);
  return 1;
}

static int ctx_pollhandle(lua_State *L) {
  void *h = ras_ctx_pollhandle(upvalue_ctx(L)->queue);
  if (!h)
    return push_failure(L, "pollhandle is a Windows event handle: "
                           "use ras.pollfd() on this platform", RAS_ERROR_INVALID_PARAMETER);
  lua_pushlightuserdata(L, h);
  return 1;
}

static int ctx_events(lua_State *L) {
  upvalue_ctx(L);
  return push_events(L);
}

static int ctx_timeout(lua_State *L) {
  double d = next_deadline(upvalue_ctx(L));
  return push_timeout(L, d < 0 ? 0 : d);
}

/* The context's Lua side is gone: let go of every call, then the backend. */
static int ctx_gc(lua_State *L) {
  lctx *ctx = luaL_checkudata(L, 1, CONTEXT_MT);
  if (!ctx->state) return 0;
  for (lconn *c = ctx->conns; c; c = c->next) release_call(c);
  ctx->be->close(ctx->state);
  ctx->state = NULL;
  ras_ctx_unref(ctx->queue);
  return 0;
}

/* ---------------------------------------------------------------------- */
/* module functions that need no context                                  */

static int m_state_name(lua_State *L) {
  const char *name = ras_state_name((int)luaL_checkinteger(L, 1));
  if (name) lua_pushstring(L, name);
  else luaL_pushfail(L);
  return 1;
}

static int m_state_group(lua_State *L) {
  int state;
  if (lua_type(L, 1) == LUA_TSTRING) {
    state = ras_state_value(lua_tostring(L, 1));
    luaL_argcheck(L, state >= 0, 1, "unknown state name");
  } else {
    state = (int)luaL_checkinteger(L, 1);
    luaL_argcheck(L, ras_state_name(state) != NULL, 1, "unknown state value");
  }
  lua_pushstring(L, ras_group_name(ras_state_group(state)));
  return 1;
}

static int m_error_message(lua_State *L) {
  int code = (int)luaL_checkinteger(L, 1);
  lctx *ctx = upvalue_ctx(L);
  push_error_message(L, ctx->be, code, NULL);
  return 1;
}

static int m_now(lua_State *L) {
  lua_pushnumber(L, os_now());
  return 1;
}

/* The platform's backends, then the simulator; NULL past the end. */
static const ras_backend *backend_at(int i) {
  int n = 0;
  while (os_backends[n]) n++;
  if (i < n) return os_backends[i];
  return i == n ? &ras_backend_sim : NULL;
}

static int m_backends(lua_State *L) {
  const ras_backend *be;
  lua_newtable(L);
  for (int i = 0; (be = backend_at(i)) != NULL; i++) {
    lua_pushstring(L, be->name);
    lua_rawseti(L, -2, i + 1);
  }
  return 1;
}

static void push_context(lua_State *L, const ras_backend *be, void *state);

static int m_open(lua_State *L) {
  const char *name = luaL_checkstring(L, 1);
  const ras_backend *be;
  ras_error err;
  void *state;
  int i = 0;
  if (!lua_isnoneornil(L, 2)) luaL_checktype(L, 2, LUA_TTABLE);
  lua_settop(L, 2);
  while ((be = backend_at(i)) != NULL && strcmp(be->name, name) != 0) i++;
  if (!be) {
    lua_pushfstring(L, "unknown or unavailable backend '%s'", name);
    return push_failure(L, lua_tostring(L, -1), RAS_ERROR_INVALID_PARAMETER);
  }
  state = be->open(L, lua_isnil(L, 2) ? 0 : 2, &err);
  if (!state) return push_error(L, &err);
  push_context(L, be, state);
  return 1;
}

static const luaL_Reg context_functions[] = {
  { "dial", ctx_dial }, { "connections", ctx_connections },
  { "entries", ctx_entries }, { "poll", ctx_poll }, { "pollfd", ctx_pollfd },
  { "pollhandle", ctx_pollhandle }, { "events", ctx_events },
  { "timeout", ctx_timeout }, { "error_message", m_error_message },
  { "open", m_open }, { "backends", m_backends },
  { "state_name", m_state_name }, { "state_group", m_state_group },
  { "now", m_now },
  { NULL, NULL }
};

static void push_states_table(lua_State *L) {
  lua_createtable(L, 0, ras_state_count());
  for (int i = 0; i < ras_state_count(); i++) {
    const char *name;
    lua_pushinteger(L, ras_state_at(i, &name));
    lua_setfield(L, -2, name);
  }
}

/* Fills the table at the top with the context's functions and fields. */
static void fill_context(lua_State *L, const ras_backend *be, void *state) {
  lctx *ctx;
  ctx = lua_newuserdatauv(L, sizeof *ctx, 1);
  memset(ctx, 0, sizeof *ctx);
  luaL_setmetatable(L, CONTEXT_MT);
  ctx->queue = ras_ctx_new();
  if (!ctx->queue) {
    be->close(state);
    luaL_error(L, "out of memory");
  }
  ctx->be = be;
  ctx->state = state;
  lua_newtable(L);                   /* the registry of connection objects */
  lua_createtable(L, 0, 1);
  lua_pushliteral(L, "v");
  lua_setfield(L, -2, "__mode");
  lua_setmetatable(L, -2);
  lua_setiuservalue(L, -2, 1);
  luaL_setfuncs(L, context_functions, 1);
  lua_pushstring(L, be->name);
  lua_setfield(L, -2, "backend");
  lua_pushliteral(L, RAS_VERSION);
  lua_setfield(L, -2, "_VERSION");
  push_states_table(L);
  lua_setfield(L, -2, "states");
}

static void push_context(lua_State *L, const ras_backend *be, void *state) {
  lua_newtable(L);
  fill_context(L, be, state);
}

static void create_metatables(lua_State *L) {
  luaL_newmetatable(L, CONNECTION_MT);
  luaL_setfuncs(L, conn_metamethods, 0);
  lua_newtable(L);
  luaL_setfuncs(L, conn_methods, 0);
  lua_pushcclosure(L, conn_index, 1);
  lua_setfield(L, -2, "__index");
  lua_pop(L, 1);
  luaL_newmetatable(L, CONTEXT_MT);
  lua_pushcfunction(L, ctx_gc);
  lua_setfield(L, -2, "__gc");
  lua_pop(L, 1);
}

/* The default context: the platform's backend, else the simulator. */
static void *open_default(lua_State *L, const ras_backend **be) {
  ras_error err;
  for (int i = 0; (*be = backend_at(i)) != NULL; i++) {
    void *state = (*be)->open(L, 0, &err);
    if (state) return state;
  }
  luaL_error(L, "ras: no backend could be opened: %s", err.message);
  return NULL;
}

int luaopen_ras(lua_State *L) {
  const ras_backend *be;
  void *state;
  create_metatables(L);
  state = open_default(L, &be);
  push_context(L, be, state);
  lua_pushliteral(L, "ras");
  lua_setfield(L, -2, "_NAME");
  return 1;
}
