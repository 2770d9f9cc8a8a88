/*
 * ras.c - the Lua binding: module and context functions, connection
 * objects, and the pumps that deliver queued events to Lua.
 *
 * No platform header here: the platform lives behind backend.h and os.h.
 * Lua tables are read only through options.c.
 *
 * Objects. A context is a table of closures sharing two upvalues: the
 * "ras.context_core" userdata (a struct context) and the table itself, so
 * that ctx:dial{} and ctx.dial{} both work. The module table is the default
 * context. A context is created closed, before any resource, and is
 * "open" exactly while it holds an opened backend (liolib's rule).
 *
 * A connection is a "ras.connection" userdata whose user values are:
 *   1 its context's core userdata (kept alive while the connection is),
 *   2 its on_state handler, 3 its entry name, 4 its phonebook.
 * The context core's first user value is a weak-valued table mapping each
 * connection's C address to its userdata, so that events taken by C reach
 * the right Lua object; an idmap maps enumeration ids to connections, so
 * that enumerations return the same object in O(1).
 */
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "lauxlib.h"
#include "lua.h"

#include "binding.h"
#include "options.h"

#define RAS_VERSION "0.1.0"
#define DEFAULT_HANGUP_TIMEOUT 30.0

static const char closed_message[] = "the context is closed";

/* ---------------------------------------------------------------------- */
/* small helpers                                                          */

int bind_push_failure(lua_State *L, const char *message, int code) {
  luaL_pushfail(L);
  lua_pushstring(L, message);
  lua_pushinteger(L, code);
  return 3;
}

int bind_push_error(lua_State *L, const ras_error *err) {
  return bind_push_failure(L, err->message, err->code);
}

/* A layer that finds a bad argument itself (text that is not UTF-8, say)
 * says so with RAS_BAD_ARGUMENT: raise it like the binding's own checks. */
int bind_push_error_or_raise(lua_State *L, const ras_error *err) {
  if (err->code == RAS_BAD_ARGUMENT) return luaL_error(L, "%s", err->message);
  return bind_push_error(L, err);
}

int bind_push_unsupported(lua_State *L, const context *ctx, const char *what) {
  lua_pushfstring(L, "%s is not supported by the %s backend", what, ctx->backend->name);
  return bind_push_failure(L, lua_tostring(L, -1), RAS_ERROR_NOT_SUPPORTED);
}

int bind_push_closed(lua_State *L) {
  return bind_push_failure(L, closed_message, RAS_ERROR_INVALID_HANDLE);
}

/* Seconds left until `until` (< 0: forever), never negative. */
double bind_left_until(double until, double now) {
  if (until < 0) return -1;
  return until > now ? until - now : 0;
}

static double earlier(double a, double b) {  /* < 0 means never */
  if (a < 0) return b;
  if (b < 0) return a;
  return a < b ? a : b;
}

double bind_deadline_in(double now, double seconds) {
  return seconds < 0 ? -1 : now + seconds;
}

/* The message for an error code: the OS's text if the backend has one. */
void bind_push_error_message(lua_State *L, const ras_backend *backend,
                               lua_Integer code, const char *detail) {
  char buf[512];
  const char *text = NULL;
  if (backend && backend->error_text && code > 0 && code <= 0x7fffffff)
    text = backend->error_text((int)code, buf, sizeof buf);
  if (!text) text = ras_error_text((long long)code);
  if (text && detail) lua_pushfstring(L, "%s (%s)", text, detail);
  else if (text) lua_pushstring(L, text);
  else {
    /* The number through Lua's own text: lua_pushfstring has %I from 5.3 on. */
    lua_pushinteger(L, code);
    if (detail) lua_pushfstring(L, "RAS error %s (%s)", lua_tostring(L, -1), detail);
    else lua_pushfstring(L, "RAS error %s", lua_tostring(L, -1));
    lua_remove(L, -2);
  }
}

static void push_state_name(lua_State *L, int state) {
  const char *name = ras_state_name(state);
  if (name) lua_pushstring(L, name);
  else lua_pushfstring(L, "State%d", state);
}

/* A userdata that owns a malloc'd block: made before the block, so that a
 * Lua error while the block is in use leaks nothing. */
static void **new_box(lua_State *L) {
  void **box = lua_newuserdatauv(L, sizeof *box, 0);
  *box = NULL;
  luaL_setmetatable(L, BOX_MT);
  return box;
}

/* The box frees its block only if an error unwinds past it: on the normal
 * path the block is freed at once, since a box made by a finalizer during
 * lua_close is never finalized itself. */
static void free_boxed(void **box) {
  free(*box);
  *box = NULL;
}

static int box_gc(lua_State *L) {
  free_boxed(lua_touserdata(L, 1));
  return 0;
}

ras_arena *bind_new_arena(lua_State *L) {
  ras_arena *a = lua_newuserdatauv(L, sizeof *a, 0);
  memset(a, 0, sizeof *a);
  luaL_setmetatable(L, ARENA_MT);
  return a;
}

static int arena_gc(lua_State *L) {
  ras_arena_free(lua_touserdata(L, 1));
  return 0;
}

/* ---------------------------------------------------------------------- */
/* parameters: read by options.c, every check before anything starts     */

typedef struct dial_request {
  ras_dial_params p;
  double timeout;           /* < 0: none */
  int handler;              /* anchor index of on_state; 0: none */
} dial_request;

#define DIAL_STRING(field, most) \
  { .name = #field, .kind = RAS_STRING, .offset = offsetof(dial_request, p.field), .max = (most) }

static const ras_field dial_fields[] = {
  DIAL_STRING(entry, RAS_MAX_ENTRY), DIAL_STRING(phonebook, RAS_MAX_PATH),
  DIAL_STRING(number, RAS_MAX_NUMBER), DIAL_STRING(username, RAS_MAX_USER),
  DIAL_STRING(password, RAS_MAX_PASSWORD), DIAL_STRING(domain, RAS_MAX_DOMAIN),
  DIAL_STRING(callback_number, RAS_MAX_NUMBER),
  { .name = "paused_states", .kind = RAS_BOOLEAN,
    .offset = offsetof(dial_request, p.paused_states) },
  { .name = "saved_credentials", .kind = RAS_BOOLEAN,
    .offset = offsetof(dial_request, p.saved_credentials) },
  { .name = "timeout", .kind = RAS_SECONDS, .flags = RAS_POSITIVE,
    .offset = offsetof(dial_request, timeout) },
  { .name = "on_state", .kind = RAS_HANDLER, .offset = offsetof(dial_request, handler) },
  { .name = NULL }
};

static void dial_init(void *rec) {
  ((dial_request *)rec)->timeout = RAS_FOREVER;
  ((dial_request *)rec)->p.saved_credentials = 1;
}

static const char *dial_check(const void *rec, const char **field) {
  const dial_request *r = rec;
  if (r->p.entry || r->p.number) return NULL;
  *field = "entry";
  return "an entry or a number is required";
}

static const ras_record dial_record = {
  .size = sizeof(dial_request), .fields = dial_fields,
  .init = dial_init, .check = dial_check
};

#define RESUME_STRING(field, most) \
  { .name = #field, .kind = RAS_STRING, .offset = offsetof(ras_resume_params, field), .max = (most) }

static const ras_field resume_fields[] = {
  RESUME_STRING(username, RAS_MAX_USER), RESUME_STRING(password, RAS_MAX_PASSWORD),
  RESUME_STRING(new_password, RAS_MAX_PASSWORD), RESUME_STRING(domain, RAS_MAX_DOMAIN),
  RESUME_STRING(callback_number, RAS_MAX_NUMBER),
  { .name = NULL }
};

static const ras_record resume_record = {
  .size = sizeof(ras_resume_params), .fields = resume_fields
};

/* ---------------------------------------------------------------------- */
/* contexts                                                               */

/* Every context function starts here: ctx:f() and ctx.f() both work. */
context *bind_self_context(lua_State *L) {
  if (lua_rawequal(L, 1, lua_upvalueindex(2))) lua_remove(L, 1);
  return lua_touserdata(L, lua_upvalueindex(1));
}

/* ...and those that need the backend go on here. */
context *bind_open_context(lua_State *L) {
  context *ctx = bind_self_context(L);
  if (!ctx->instance) luaL_error(L, "ras: %s", closed_message);
  return ctx;
}

/* Pushes the weak table of connection objects of the core at idx. */
void bind_push_registry(lua_State *L, int core_index) {
  lua_getiuservalue(L, core_index, 1);
}

/* Pushes the Lua object of c, or nil if it is being collected. */
static void push_object(lua_State *L, int registry, const connection *c) {
  lua_rawgeti(L, registry, c->slot);
}

/* The slot the next object gets (taken by take_slot once it is made). */
static lua_Integer next_slot(lua_State *L, context *ctx) {
  size_t need = (size_t)ctx->nslots + 1;
  if (ctx->nfree) return ctx->free_slots[ctx->nfree - 1];
  if (need > SIZE_MAX / sizeof *ctx->free_slots - 1) luaL_error(L, "not enough memory");
  if (need % 1024 == 1) {   /* grown in steps, ahead of need */
    lua_Integer *more = realloc(ctx->free_slots, (need + 1024) * sizeof *more);
    if (!more) luaL_error(L, "not enough memory");
    ctx->free_slots = more;
  }
  return ctx->nslots + 1;
}

static void take_slot(context *ctx, connection *c, lua_Integer slot) {
  c->slot = slot;
  if (ctx->nfree && ctx->free_slots[ctx->nfree - 1] == slot) ctx->nfree--;
  else ctx->nslots = slot;
}

static void free_slot(context *ctx, connection *c) {
  if (c->slot) ctx->free_slots[ctx->nfree++] = c->slot;
  c->slot = 0;
}

static void set_deadline(connection *c, double deadline) {
  if (c->ctx) c->ctx->ndeadlines += (deadline > 0) - (c->deadline > 0);
  c->deadline = deadline;
}

/* A batch being delivered goes back to its feed before any other pump
 * runs (a handler's nested poll or next), so events stay in order. */
void bind_return_batch(context *ctx) {
  if (ctx->hub && ctx->batch.feed) ras_hub_return(ctx->hub, &ctx->batch);
}

/* ---------------------------------------------------------------------- */
/* connection objects                                                     */

static connection *check_conn(lua_State *L, int arg) {
  return luaL_checkudata(L, arg, CONNECTION_MT);
}

static int is_open(const connection *c) {
  return c->ctx && c->call && c->ctx->instance;
}

static void start_hangup(connection *c) {
  ras_error err;
  if (!is_open(c) || c->hangup_started) return;
  c->hangup_started = 1;
  c->ctx->backend->hangup(c->call, &err);
}

/*
 * The Lua side lets go of the backend's connection: a dial nobody can
 * finish any more is hung up first; an established one stays up.
 */
static void release_call(connection *c) {
  if (!is_open(c)) return;
  if (c->dialled && !ras_feed_reached_connected(c->feed)) start_hangup(c);
  c->ctx->backend->release(c->call);
  c->call = NULL;
}

static void unlist(connection *c) {
  context *ctx = c->ctx;
  if (c->prev) c->prev->next = c->next;
  else ctx->conns = c->next;
  if (c->next) c->next->prev = c->prev;
  c->next = c->prev = NULL;
  if (c->id && ras_idmap_get(&ctx->by_id, c->id) == c) ras_idmap_remove(&ctx->by_id, c->id);
}

/* Everything __gc does; also what closing the context does to each of its
 * connections. Afterwards the object answers "closed". */
void bind_detach(connection *c) {
  if (!c->ctx) return;
  if (c->watch) c->ctx->backend->unwatch(c->watch);
  c->watch = NULL;
  release_call(c);
  set_deadline(c, 0);
  ras_feed_set_owner(c->feed, NULL);
  ras_feed_orphan(c->feed);
  ras_feed_unref(c->feed);
  c->feed = NULL;
  unlist(c);
  free_slot(c->ctx, c);
  c->ctx = NULL;
}

static int conn_gc(lua_State *L) {
  bind_detach(check_conn(L, 1));
  return 0;
}

/*
 * Pushes a new connection object of the context whose state is at
 * core_index. Every Lua allocation comes before the feed, so an error
 * leaves only garbage that __gc ignores.
 */
connection *bind_new_object(lua_State *L, int core_index, const char *mt) {
  context *ctx = lua_touserdata(L, core_index);
  connection *c = lua_newuserdatauv(L, sizeof *c, USERVALS);
  ras_feed *feed = NULL;
  lua_Integer slot;
  memset(c, 0, sizeof *c);
  c->last_state = -1;
  luaL_setmetatable(L, mt);
  lua_pushvalue(L, core_index);
  lua_setiuservalue(L, -2, USERVAL_CONTEXT);
  slot = next_slot(L, ctx);
  bind_push_registry(L, core_index);
  lua_pushvalue(L, -2);
  lua_rawseti(L, -2, slot);   /* an error before take_slot: the next one reuses it */
  lua_pop(L, 1);
  if (ras_idmap_reserve(&ctx->by_id) != 0 || !(feed = ras_feed_new(ctx->hub)))
    luaL_error(L, "not enough memory");
  take_slot(ctx, c, slot);
  c->feed = feed;
  c->ctx = ctx;
  ras_feed_set_owner(feed, c);
  c->next = ctx->conns;
  if (ctx->conns) ctx->conns->prev = c;
  ctx->conns = c;
  return c;
}

static connection *new_connection(lua_State *L, int core_index) {
  return bind_new_object(L, core_index, CONNECTION_MT);
}

/* Enters c in the id map (room was reserved by new_connection). */
void bind_map_id(connection *c, uint64_t id) {
  c->id = id;
  if (id) ras_idmap_put(&c->ctx->by_id, id, c);
}

/* ---------------------------------------------------------------------- */
/* delivering events                                                      */

/*
 * What every event table needs, made once per Lua state and kept in the
 * registry: two small Lua functions, which fill a plain event's fields
 * (state and group names from tables of their own), and the substate
 * names, for status and for the rare events C fills itself (set_fields).
 * C hands the Lua functions numbers only: each C API call costs more than
 * a VM instruction, the more so through a shared liblua.
 */
enum { S_FILL = 1, S_RUN, S_SUBSTATES };
static const char strings_key = 0;   /* its address keys the registry */

/*
 * S_FILL fills an event table (made by C, presized, so that nothing here
 * allocates): the VM's SETFIELD beats any sequence of C API calls. S_RUN
 * delivers a whole batch to a function handler in one call from C: `take`
 * (C) hands out the next event's table and numbers, and hears the
 * handler's result, until the batch is spent; a call from Lua to C costs
 * less than one from C to Lua.
 */
static const char event_code[] =
  "local names, groups = ...\n"
  "local function fill(ev, started, c, t)\n"
  "  ev.state = names[c] ev.state_code = c ev.group = groups[c] ev.substate = 'None'\n"
  "  ev.subentry = 1 ev.time = t ev.elapsed = t - started\n"
  "  return ev\n"
  "end\n"
  "local function run(take, h, conn, started)\n"
  "  local names, groups, r = names, groups\n"   /* locals: cheaper than upvalues */
  "  while true do\n"
  "    local ev, c, t = take(r)\n"
  "    if c then\n"                             /* plain: its fields are ours to set */
  "      ev.state = names[c] ev.state_code = c ev.group = groups[c] ev.substate = 'None'\n"
  "      ev.subentry = 1 ev.time = t ev.elapsed = t - started\n"
  "    elseif not ev then\n"
  "      return\n"
  "    end\n"
  "    r = h(conn, ev)\n"
  "  end\n"
  "end\n"
  "return fill, run\n";

static const int substates[4] = {
  RAS_SUB_None, RAS_SUB_Dormant, RAS_SUB_Reconnecting, RAS_SUB_Reconnected
};

/* Pushes a substate's name: "None", "Reconnecting", … ("SubstateN" for a
 * value the module does not know). */
static void push_substate(lua_State *L, int strings, int substate) {
  for (int i = 0; i < 4; i++)
    if (substates[i] == substate) {
      lua_rawgeti(L, strings, S_SUBSTATES + i);
      return;
    }
  lua_pushfstring(L, "Substate%d", substate);
}

static void create_strings(lua_State *L) {
  lua_createtable(L, S_SUBSTATES + 4, 0);
  if (luaL_loadbuffer(L, event_code, sizeof event_code - 1, "=ras event") != LUA_OK)
    lua_error(L);
  lua_createtable(L, RAS_ApplySettings, ras_state_count());     /* names by code */
  lua_createtable(L, RAS_ApplySettings, ras_state_count());     /* groups by code */
  for (int i = 0; i < ras_state_count(); i++) {
    const char *name;
    int code = ras_state_at(i, &name);
    lua_pushstring(L, name);
    lua_rawseti(L, -3, code);
    lua_pushstring(L, ras_group_name(ras_state_group(code)));
    lua_rawseti(L, -2, code);
  }
  lua_call(L, 2, 2);
  lua_rawseti(L, -3, S_RUN);
  lua_rawseti(L, -2, S_FILL);
  for (int i = 0; i < 4; i++) {
    lua_pushstring(L, ras_substate_name(substates[i]));
    lua_rawseti(L, -2, S_SUBSTATES + i);
  }
  lua_rawsetp(L, LUA_REGISTRYINDEX, &strings_key);
}

static void push_strings(lua_State *L) {
  lua_rawgetp(L, LUA_REGISTRYINDEX, &strings_key);
}


static int resume_with(lua_State *L, connection *c, int params);

/* A paused state's handler answered with a table: resume the dial. */
static void resume_from_handler(lua_State *L, connection *c, int state, int result) {
  int top = lua_gettop(L);
  if (ras_state_group(state) != RAS_GROUP_PAUSED || !lua_istable(L, result)) return;
  if (resume_with(L, c, result) != 1)
    luaL_error(L, "on_state: resuming from %s failed: %s", ras_state_name(state),
               lua_tostring(L, -2));
  lua_settop(L, top);
}

/* The message handler of every pump: strings get a traceback, any other
 * error object passes unchanged (luv's rule). */
static int traceback(lua_State *L) {
  if (lua_type(L, 1) == LUA_TSTRING) luaL_traceback(L, L, lua_tostring(L, 1), 1);
  return 1;
}

/* A coroutine can take an event only when suspended: not running, not
 * normal (it resumed the one running now), not the main thread. */
static int resumable(lua_State *L, lua_State *co) {
  lua_Debug ar;
  if (co == L) return 0;
  if (lua_status(co) == LUA_YIELD) return 1;
  return lua_status(co) == LUA_OK && lua_getstack(co, 0, &ar) == 0 && lua_gettop(co) > 0;
}

/* An ended coroutine wants no more events. */
static int ended(lua_State *co) {
  int status = lua_status(co);
  lua_Debug ar;
  return (status == LUA_OK && lua_gettop(co) == 0 && lua_getstack(co, 0, &ar) == 0) ||
         (status != LUA_OK && status != LUA_YIELD);
}

/*
 * Resumes the handler coroutine co with the values at obj and ev (name
 * says whose handler, for errors). Pushes its first result and returns 1,
 * or returns 0 when it gave none or has ended; any further results are
 * dropped, never moved.
 */
static int resume_handler(lua_State *L, lua_State *co, int obj, int ev, const char *name) {
  int status, nres;
  if (ended(co)) return 0;
  if (!resumable(L, co))
    luaL_error(L, "%s: the handler coroutine cannot be resumed (it is running)", name);
  if (!lua_checkstack(co, 2)) luaL_error(L, "%s: the handler coroutine's stack is full", name);
  lua_pushvalue(L, obj);
  lua_pushvalue(L, ev);
  lua_xmove(L, co, 2);
  status = lua_resume(co, L, 2, &nres);
  if (status != LUA_OK && status != LUA_YIELD) {
    if (lua_type(co, -1) == LUA_TSTRING) luaL_traceback(L, co, lua_tostring(co, -1), 0);
    else lua_xmove(co, L, 1);
    lua_error(L);
  }
  if (nres == 0) return 0;
  lua_settop(co, lua_gettop(co) - nres + 1);
  lua_xmove(co, L, 1);
  return 1;
}

/* The handler (a coroutine) is at the top; only its first result counts. */
static void resume_coroutine(lua_State *L, int conn, connection *c, int ev, int state) {
  lua_State *co = lua_tothread(L, -1);
  if (resume_handler(L, co, conn, ev, "on_state")) {
    resume_from_handler(L, c, state, lua_gettop(L));
    lua_pop(L, 1);
  }
  lua_pop(L, 1);  /* the coroutine */
}

void bind_call_handler(lua_State *L, int handler, int obj, int ev, const char *name) {
  int top = lua_gettop(L);
  handler = lua_absindex(L, handler);
  luaL_checkstack(L, 4, name);
  if (lua_isfunction(L, handler)) {
    lua_pushvalue(L, handler);
    lua_pushvalue(L, obj);
    lua_pushvalue(L, ev);
    lua_call(L, 2, 0);
  } else if (lua_isthread(L, handler)) {
    resume_handler(L, lua_tothread(L, handler), obj, ev, name);
  }
  lua_settop(L, top);
}

/* Book-keeping for an event that has reached Lua. */
static void note_event(connection *c, int state) {
  c->last_state = state;
  if (state & RAS_DONE) set_deadline(c, 0);
  /* RAS wants every handle hung up, also after a failed dial or a drop. */
  if (state == RAS_Disconnected) start_hangup(c);
}

/* A plain event: no error, substate None, the one subentry, a state the
 * module names. S_FILL and S_RUN give those their fields. */
static int is_plain(const ras_event *ev) {
  return !ev->error && !ev->extended_error && !ev->substate && ev->subentry <= 1 &&
         ((unsigned)ev->state <= RAS_ApplySettings || ras_state_name(ev->state));
}

/* Sets every field of the event table at the top for an event that is not
 * plain: rare, so C does it, with the table's room made beforehand. */
static void set_fields(lua_State *L, int strings, const ras_event *ev, double started) {
  push_state_name(L, ev->state);
  lua_setfield(L, -2, "state");
  lua_pushinteger(L, ev->state);
  lua_setfield(L, -2, "state_code");
  lua_pushstring(L, ras_group_name(ras_state_group(ev->state)));
  lua_setfield(L, -2, "group");
  push_substate(L, strings, ev->substate);
  lua_setfield(L, -2, "substate");
  lua_pushinteger(L, ev->subentry > 1 ? ev->subentry : 1);
  lua_setfield(L, -2, "subentry");
  lua_pushnumber(L, ev->time);
  lua_setfield(L, -2, "time");
  lua_pushnumber(L, ev->time - started);
  lua_setfield(L, -2, "elapsed");
  if (ev->error) {
    lua_pushinteger(L, ev->error);
    lua_setfield(L, -2, "error");
  }
  if (ev->extended_error) {
    lua_pushinteger(L, ev->extended_error);
    lua_setfield(L, -2, "extended_error");
  }
}

/*
 * Takes the next event of the context's batch (c's) and pushes a new table
 * for it. A plain event's table is empty, and its state code and time
 * follow it (3 values), for Lua to fill; any other's comes filled (1
 * value). Whatever can fail for want of memory (the table, a name, the
 * message) happens before the event leaves the batch, so such an error
 * loses nothing: the batch goes back. The caller makes sure of stack room
 * (8 slots).
 */
static int take_event(lua_State *L, context *ctx, connection *c, int strings) {
  ras_batch *b = &ctx->batch;
  ras_event *ev = &b->ev[b->next];
  int state = ev->state, plain = is_plain(ev);
  ctx->taking = 1;                 /* till b->next++: the batch must stay put */
  lua_createtable(L, 0, plain ? 7 : 10);
  if (plain) {
    lua_pushinteger(L, state);
    lua_pushnumber(L, ev->time);
  } else {
    set_fields(L, strings, ev, c->started);
    if (ev->error) {
      bind_push_error_message(L, ctx->backend, ev->error, ev->detail);
      lua_setfield(L, -2, "message");
    }
  }
  b->next++;                       /* taken: nothing from here allocates */
  ctx->taking = 0;
  if (ev->detail) ras_event_free(ev);
  note_event(c, state);
  return plain ? 3 : 1;
}

/*
 * Delivers the next event of the context's batch to connection c, whose
 * object is at `conn` and handler at `handler`: the event's table, then the
 * handler. Leaves the table at the top. An event counts as delivered once
 * its table exists; a handler may raise after that. The caller makes sure
 * of stack room (16 slots).
 */
static void deliver_event(lua_State *L, context *ctx, connection *c, int conn, int handler,
                          int strings) {
  int top = lua_gettop(L), state = ctx->batch.ev[ctx->batch.next].state;
  lua_rawgeti(L, strings, S_FILL);
  if (take_event(L, ctx, c, strings) == 3) {   /* fill, ev, c, t */
    lua_pushnumber(L, c->started);
    lua_insert(L, top + 3);                     /* fill(ev, started, c, t) */
    lua_call(L, 4, 1);                          /* the table, at top + 1 */
  } else {
    lua_remove(L, top + 1);
  }
  if (lua_isfunction(L, handler)) {
    lua_pushvalue(L, handler);
    lua_pushvalue(L, conn);
    lua_pushvalue(L, top + 1);
    lua_call(L, 2, 1);
    resume_from_handler(L, c, state, top + 2);
  } else if (lua_isthread(L, handler)) {
    lua_pushvalue(L, handler);
    resume_coroutine(L, conn, c, top + 1, state);
  }
  lua_settop(L, top + 1);
}

/* Drops what is left of the batch: its connection is being collected. */
static void drop_batch(context *ctx) {
  ras_batch *b = &ctx->batch;
  while (b->next < b->n) ras_event_free(&b->ev[b->next++]);
}

/* For conn:next(): delivers the batch's one event (c's, object at conn)
 * and leaves its table at the top; 0 if it could not be delivered. */
static int deliver_one(lua_State *L, context *ctx, connection *c, int conn, int strings) {
  ras_batch *b = &ctx->batch;
  if (!b->feed || b->next >= b->n || ras_feed_owner(b->feed) != c) return 0;
  lua_getiuservalue(L, conn, USERVAL_HANDLER);
  deliver_event(L, ctx, c, conn, lua_gettop(L), strings);
  lua_remove(L, -2);
  return 1;
}

/* The dial timeout: hang up and end in Disconnected with 638. */
static void expire(connection *c, double now) {
  ras_event ev = { .state = RAS_Disconnected, .error = RAS_ERROR_REQUEST_TIMEOUT, .time = now };
  if (c->deadline <= 0 || now < c->deadline || !c->feed) return;
  set_deadline(c, 0);
  if (ras_feed_push_unless_terminal(c->feed, &ev)) start_hangup(c);
}

static void expire_all(context *ctx, double now) {
  if (ctx->ndeadlines == 0) return;
  for (connection *c = ctx->conns, *next; c; c = next) {
    next = c->next;
    expire(c, now);
  }
}

static double next_deadline(const context *ctx) {
  double d = -1;
  if (ctx->ndeadlines == 0) return d;
  for (const connection *c = ctx->conns; c; c = c->next)
    if (c->deadline > 0) d = earlier(d, c->deadline);
  return d;
}

/* No event can come any more: the final Disconnected has been delivered. */
static int finished(const connection *c) {
  return !c->feed || (c->last_state == RAS_Disconnected && ras_feed_pending(c->feed) == 0);
}

/*
 * Runs fn under a protected call with the traceback handler; then returns
 * the context's batch, so that what a handler's error left undelivered goes
 * back to its feed at once; then raises the error again, if any. The
 * nargs arguments are at the top.
 */
void bind_run_protected(lua_State *L, context *ctx, lua_CFunction fn, int nargs,
                          int nresults) {
  int base = lua_gettop(L) - nargs, status;
  lua_pushcfunction(L, traceback);
  lua_insert(L, base + 1);
  lua_pushcfunction(L, fn);
  lua_insert(L, base + 2);
  status = lua_pcall(L, nargs, nresults, base + 1);
  ctx->taking = 0;                 /* an error while taking: the batch goes back */
  bind_return_batch(ctx);
  lua_remove(L, base + 1);
  if (status != LUA_OK) lua_error(L);
}

void bind_check_pump(lua_State *L, const context *ctx) {
  if (ctx->taking)
    luaL_error(L, "ras: no pump, hang-up or close from a finalizer while an event is being "
               "delivered");
}

/* next_protected(context, conn, strings): delivers one taken event of conn
 * and returns its table. */
static int next_protected(lua_State *L) {
  context *ctx = lua_touserdata(L, 1);
  luaL_checkstack(L, 20, "delivering an event");
  deliver_one(L, ctx, check_conn(L, 2), 2, 3);
  return 1;
}

/*
 * Waits up to `seconds` (< 0: forever) for c's next event and delivers it.
 * Returns 1 with the event table pushed, or 0 (timeout or finished).
 */
static int next_event(lua_State *L, int conn, connection *c, double seconds) {
  double now = os_now(), until = bind_deadline_in(now, seconds);
  for (;;) {
    context *ctx = c->ctx;
    if (!ctx) return 0;
    bind_check_pump(L, ctx);
    bind_return_batch(ctx);
    expire(c, now);
    if (ras_feed_take(c->feed, &ctx->batch, 1)) {
      lua_pushlightuserdata(L, ctx);
      lua_pushvalue(L, conn);
      push_strings(L);
      bind_run_protected(L, ctx, next_protected, 3, 1);
      return 1;
    }
    if (finished(c) || (until >= 0 && now >= until)) return 0;
    ras_feed_wait(c->feed, bind_left_until(earlier(until, c->deadline > 0 ? c->deadline : -1), now));
    now = os_now();
  }
}

static int push_no_event(lua_State *L, const connection *c) {
  luaL_pushfail(L);
  if (!c->ctx) lua_pushliteral(L, "closed");
  else lua_pushstring(L, finished(c) ? "disconnected" : "timeout");
  return 2;
}

/* ---------------------------------------------------------------------- */
/* connection methods                                                     */

static int conn_next(lua_State *L) {
  connection *c = check_conn(L, 1);
  double seconds = opt_check_seconds(L, 2, RAS_FOREVER);
  lua_settop(L, 1);
  return next_event(L, 1, c, seconds) ? 1 : push_no_event(L, c);
}

static int conn_wait(lua_State *L) {
  connection *c = check_conn(L, 1);
  double seconds = opt_check_seconds(L, 2, RAS_FOREVER);
  double until = bind_deadline_in(os_now(), seconds);
  lua_settop(L, 1);
  while (next_event(L, 1, c, bind_left_until(until, os_now()))) {
    if (ras_state_group(c->last_state) != RAS_GROUP_RUNNING) return 1;
    lua_pop(L, 1);
  }
  return push_no_event(L, c);
}

static int states_step(lua_State *L) {
  connection *c = check_conn(L, lua_upvalueindex(1));
  if (lua_toboolean(L, lua_upvalueindex(2))) return 0;
  lua_settop(L, 0);
  lua_pushvalue(L, lua_upvalueindex(1));
  if (!next_event(L, 1, c, RAS_FOREVER)) return 0;
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

int bind_push_gone(lua_State *L) {
  return bind_push_failure(L, ras_error_text(RAS_ERROR_INVALID_HANDLE), RAS_ERROR_INVALID_HANDLE);
}

static int conn_status(lua_State *L) {
  connection *c = check_conn(L, 1);
  ras_status st;
  int rc;
  if (!c->ctx) return bind_push_closed(L);
  if (!is_open(c) || c->gone) return bind_push_gone(L);
  memset(&st, 0, sizeof st);
  rc = c->ctx->backend->status(c->call, &st);
  if (rc == RAS_ERROR_INVALID_HANDLE) c->gone = 1;
  if (rc != 0) {
    bind_push_error_message(L, c->ctx->backend, rc, NULL);
    return bind_push_failure(L, lua_tostring(L, -1), rc);
  }
  lua_createtable(L, 0, 10);
  push_state_name(L, st.state);
  lua_setfield(L, -2, "state");
  lua_pushinteger(L, st.state);
  lua_setfield(L, -2, "state_code");
  lua_pushstring(L, ras_group_name(ras_state_group(st.state)));
  lua_setfield(L, -2, "group");
  push_strings(L);
  push_substate(L, lua_gettop(L), st.substate);
  lua_remove(L, -2);
  lua_setfield(L, -2, "substate");
  if (st.error) {
    lua_pushinteger(L, st.error);
    lua_setfield(L, -2, "error");
    bind_push_error_message(L, c->ctx->backend, st.error, NULL);
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
static int resume_with(lua_State *L, connection *c, int params) {
  ras_resume_params p;
  ras_error err;
  int rc, top = lua_gettop(L);
  luaL_checktype(L, params, LUA_TTABLE);
  opt_read_flat(L, params, &resume_record, "parameter", &p);
  if (!c->ctx) return bind_push_closed(L);
  if (!is_open(c) || c->gone) return bind_push_gone(L);
  rc = c->ctx->backend->resume(c->call, &p, &err);
  os_wipe(&p, sizeof p);
  lua_settop(L, top);
  if (rc != 0) return bind_push_error_or_raise(L, &err);
  lua_pushboolean(L, 1);
  return 1;
}

static int conn_resume(lua_State *L) {
  return resume_with(L, check_conn(L, 1), 2);
}

/*
 * The RAS hang-up protocol: hang up, then wait until the status reports an
 * invalid handle. Events still queued are dropped: the final Disconnected
 * is what the pumps deliver next.
 */
static int hangup(lua_State *L, connection *c, double seconds) {
  ras_event ev = { .state = RAS_Disconnected, .time = os_now() };
  double until = bind_deadline_in(os_now(), seconds);
  ras_status st;
  ras_error err;
  if (!c->ctx) return bind_push_closed(L);
  if (!is_open(c)) {
    lua_pushboolean(L, 1);
    return 1;
  }
  bind_check_pump(L, c->ctx);
  bind_return_batch(c->ctx);
  if (!c->hangup_started) {
    c->hangup_started = 1;
    if (c->ctx->backend->hangup(c->call, &err) != 0) {
      c->hangup_started = 0;
      return bind_push_error(L, &err);
    }
  }
  set_deadline(c, 0);
  ras_feed_finish(c->feed, &ev);
  while (c->ctx->backend->status(c->call, &st) != RAS_ERROR_INVALID_HANDLE) {
    double now = os_now();
    if (until >= 0 && now >= until) {
      luaL_pushfail(L);
      lua_pushliteral(L, "timeout");
      return 2;
    }
    c->ctx->backend->wait(c->call, until < 0 ? 1.0 : until - now);
  }
  c->gone = 1;
  c->ctx->backend->release(c->call);
  c->call = NULL;
  lua_pushboolean(L, 1);
  return 1;
}

static int conn_hangup(lua_State *L) {
  connection *c = check_conn(L, 1);
  return hangup(L, c, opt_check_seconds(L, 2, DEFAULT_HANGUP_TIMEOUT));
}

static int conn_close(lua_State *L) {
  connection *c = check_conn(L, 1);
  if (c->ctx) hangup(L, c, DEFAULT_HANGUP_TIMEOUT);
  return 0;
}

/* pollfd and pollhandle: the platform has one of the two. */
int bind_push_pollable(lua_State *L, int fd, void *handle, const ras_error *err,
                         const char *other) {
  if (fd >= 0) lua_pushinteger(L, fd);
  else if (handle) lua_pushlightuserdata(L, handle);
  else if (err->code) return bind_push_error(L, err);
  else {
    lua_pushfstring(L, "not available on this platform: use %s instead", other);
    return bind_push_failure(L, lua_tostring(L, -1), RAS_ERROR_INVALID_PARAMETER);
  }
  return 1;
}

int bind_push_feed_pollfd(lua_State *L, const connection *c, const char *other) {
  ras_error err = { .code = 0 };
  if (!c->ctx) return bind_push_closed(L);
  return bind_push_pollable(L, ras_feed_pollfd(c->feed, &err), NULL, &err, other);
}

int bind_push_feed_pollhandle(lua_State *L, const connection *c, const char *other) {
  ras_error err = { .code = 0 };
  if (!c->ctx) return bind_push_closed(L);
  return bind_push_pollable(L, -1, ras_feed_pollhandle(c->feed, &err), &err, other);
}

static int conn_pollfd(lua_State *L) {
  return bind_push_feed_pollfd(L, check_conn(L, 1), "conn:pollhandle()");
}

static int conn_pollhandle(lua_State *L) {
  return bind_push_feed_pollhandle(L, check_conn(L, 1), "conn:pollfd()");
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
  else lua_pushnumber(L, bind_left_until(deadline, os_now()));
  return 1;
}

static int conn_timeout(lua_State *L) {
  return push_timeout(L, check_conn(L, 1)->deadline);
}

static int conn_tostring(lua_State *L) {
  connection *c = check_conn(L, 1);
  lua_getiuservalue(L, 1, USERVAL_ENTRY);
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
  size_t len;
  const char *key = lua_tolstring(L, 2, &len);
  check_conn(L, 1);
  if (key && len == 5 && memcmp(key, "entry", 5) == 0) lua_getiuservalue(L, 1, USERVAL_ENTRY);
  else if (key && len == 9 && memcmp(key, "phonebook", 9) == 0)
    lua_getiuservalue(L, 1, USERVAL_PHONEBOOK);
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
  context *ctx = bind_open_context(L);
  dial_request r;
  ras_error err;
  connection *c;
  uint64_t id = 0;
  int rc, conn;
  luaL_checktype(L, 1, LUA_TTABLE);
  lua_settop(L, 1);
  opt_read_flat(L, 1, &dial_record, "parameter", &r);  /* its values above 1 */
  c = new_connection(L, lua_upvalueindex(1));
  conn = lua_gettop(L);
  c->dialled = 1;
  c->started = os_now();
  rc = ctx->backend->dial(ctx->instance, c->feed, &r.p, &c->call, &id, &err);
  if (rc != 0) {
    bind_detach(c);
    return bind_push_error_or_raise(L, &err);
  }
  bind_map_id(c, id);
  if (r.timeout > 0) set_deadline(c, c->started + r.timeout);
  if (r.handler) {
    lua_pushvalue(L, r.handler);
    lua_setiuservalue(L, conn, USERVAL_HANDLER);
  }
  lua_pushstring(L, r.p.entry ? r.p.entry : r.p.number);
  lua_setiuservalue(L, conn, USERVAL_ENTRY);
  if (r.p.phonebook) {
    lua_pushstring(L, r.p.phonebook);
    lua_setiuservalue(L, conn, USERVAL_PHONEBOOK);
  }
  lua_settop(L, conn);
  return 1;
}

/* The object for connection id: the one we have, or a new one watching
 * it; a gone one (status says so) if the backend no longer has it. */
void bind_push_connection(lua_State *L, context *ctx, int core_index, int registry,
                          uint64_t id, const char *entry, const char *phonebook) {
  connection *c = ras_idmap_get(&ctx->by_id, id);
  ras_error err;
  core_index = lua_absindex(L, core_index);
  registry = lua_absindex(L, registry);
  if (c && is_open(c) && !c->gone) {
    push_object(L, registry, c);
    if (!lua_isnil(L, -1)) return;
    lua_pop(L, 1);
    bind_detach(c);  /* unreachable, awaiting __gc: let go of the call now */
  }
  lua_pushstring(L, entry);
  lua_pushstring(L, phonebook && phonebook[0] ? phonebook : NULL);
  c = new_connection(L, core_index);
  c->started = os_now();
  c->call = ctx->backend->attach(ctx->instance, c->feed, id, &err);
  if (c->call) bind_map_id(c, id);
  else {  /* gone between the enumeration and now */
    c->gone = 1;
    c->last_state = RAS_Disconnected;
  }
  lua_insert(L, -3);
  lua_setiuservalue(L, -3, USERVAL_PHONEBOOK);
  lua_setiuservalue(L, -2, USERVAL_ENTRY);
}

static int ctx_connections(lua_State *L) {
  context *ctx = bind_open_context(L);
  ras_conn_info *list;
  ras_error err;
  size_t n;
  lua_Integer k = 0;
  void **box;
  lua_settop(L, 0);
  bind_push_registry(L, lua_upvalueindex(1));          /* 1 */
  box = new_box(L);                               /* 2 */
  *box = list = ctx->backend->connections(ctx->instance, &n, &err);
  if (!list) return bind_push_error(L, &err);
  lua_createtable(L, n < INT_MAX ? (int)n : INT_MAX, 0); /* 3: sized once, no rehash */
  for (size_t i = 0; i < n; i++) {
    connection *c;
    bind_push_connection(L, ctx, lua_upvalueindex(1), 1, list[i].id, list[i].entry,
                         list[i].phonebook);
    c = lua_touserdata(L, -1);
    if (c->gone && !c->call) lua_pop(L, 1);   /* went away meanwhile */
    else lua_rawseti(L, 3, ++k);
  }
  free_boxed(box);
  return 1;
}

static int ctx_entries(lua_State *L) {
  context *ctx = bind_open_context(L);
  const char *phonebook = opt_check_string(L, 1, RAS_MAX_PATH, 1);
  ras_entry_info *list;
  ras_error err;
  size_t n;
  void **box = new_box(L);
  *box = list = ctx->backend->entries(ctx->instance, phonebook, &n, &err);
  if (!list) return bind_push_error_or_raise(L, &err);
  bind_push_pairs(L, list, n, sizeof *list, "name", offsetof(ras_entry_info, name),
                  "phonebook", offsetof(ras_entry_info, phonebook));
  free_boxed(box);
  return 1;
}

void bind_push_pairs(lua_State *L, const void *items, size_t n, size_t size, const char *k1,
                     size_t at1, const char *k2, size_t at2) {
  lua_createtable(L, n < INT_MAX ? (int)n : INT_MAX, 0);
  for (size_t i = 0; i < n; i++) {
    const char *item = (const char *)items + i * size, *v;
    lua_createtable(L, 0, 2);
    memcpy(&v, item + at1, sizeof v);
    lua_pushstring(L, v);
    lua_setfield(L, -2, k1);
    memcpy(&v, item + at2, sizeof v);
    lua_pushstring(L, v);
    lua_setfield(L, -2, k2);
    lua_rawseti(L, -2, (lua_Integer)i + 1);
  }
}

/* What ras.poll's take() (below) works on: one dispatch's progress. */
typedef struct run_state {
  context *ctx;
  connection *c;            /* whose batch S_RUN delivers */
  ras_feed *feed;           /* c's: the batch is still c's while it is its */
  size_t n, limit;          /* delivered, most to deliver */
  int last_state;           /* of the event delivered last; -1: none */
} run_state;

/* take(r): r is what the handler answered to the last event (a table
 * resumes a paused dial); returns the next event's table and values, or
 * nothing once the batch is spent or handed back. */
static int take_next(lua_State *L) {
  run_state *rs = lua_touserdata(L, lua_upvalueindex(1));
  context *ctx = rs->ctx;
  ras_batch *b = &ctx->batch;
  if (rs->last_state >= 0 && (rs->last_state & RAS_PAUSED))
    resume_from_handler(L, rs->c, rs->last_state, 1);
  rs->last_state = -1;
  /* c's object is on dispatch's stack, so c cannot be detached meanwhile;
   * a handler may hand the batch back, though (a nested pump, a hang-up) */
  if (rs->n >= rs->limit || !ctx->instance || b->feed != rs->feed || b->next >= b->n)
    return 0;
  rs->last_state = b->ev[b->next].state;
  rs->n++;
  return take_event(L, ctx, rs->c, lua_upvalueindex(2));
}

/* Events of a connection without a handler: consumed, no table made. */
static void consume_events(context *ctx, connection *c, run_state *rs) {
  ras_batch *b = &ctx->batch;
  while (rs->n < rs->limit && b->next < b->n) {
    ras_event *ev = &b->ev[b->next++];
    int state = ev->state;
    ras_event_free(ev);
    note_event(c, state);
    rs->n++;
  }
}

/*
 * dispatch(context, limit, registry, strings): delivers up to limit queued
 * events of the context and returns how many. Runs as one protected call
 * (a handler error unwinds straight out of it, after its event was
 * delivered), and takes events in batches: one lock per batch, and for a
 * function handler one call from C per batch.
 */
static int dispatch(lua_State *L) {
  run_state rs = { .ctx = lua_touserdata(L, 1), .limit = (size_t)lua_tointeger(L, 2),
                   .last_state = -1 };
  context *ctx = rs.ctx;
  ras_batch *b = &ctx->batch;
  luaL_checkstack(L, 24, "delivering events");
  lua_pushlightuserdata(L, &rs);
  lua_pushvalue(L, 4);
  lua_pushcclosure(L, take_next, 2);              /* 5: take */
  while (rs.n < rs.limit && ctx->instance) {
    connection *c;
    if (b->next == b->n) {
      bind_return_batch(ctx);
      if (!ras_hub_take(ctx->hub, b)) break;
    }
    c = ras_feed_owner(b->feed);
    if (c) push_object(L, 3, c);                  /* 6 */
    if (!c || lua_isnil(L, -1)) {  /* collected: nobody can see it */
      lua_settop(L, 5);
      drop_batch(ctx);
      continue;
    }
    if (c->watch) {
      rs.n += bind_watch_dispatch(L, ctx, c, 6, rs.limit - rs.n);
      lua_settop(L, 5);
      continue;
    }
    lua_getiuservalue(L, 6, USERVAL_HANDLER);     /* 7 */
    if (lua_isfunction(L, 7)) {
      rs.c = c;
      rs.feed = b->feed;
      rs.last_state = -1;
      lua_rawgeti(L, 4, S_RUN);
      lua_pushvalue(L, 5);
      lua_pushvalue(L, 7);
      lua_pushvalue(L, 6);
      lua_pushnumber(L, c->started);
      lua_call(L, 4, 0);
    } else if (lua_isnil(L, 7)) {
      consume_events(ctx, c, &rs);
    } else {
      /* a coroutine: the same object and handler serve the whole batch,
       * unless a handler hands the batch back (a nested pump, a hang-up) */
      while (rs.n < rs.limit && b->feed && b->next < b->n && ras_feed_owner(b->feed) == c &&
             ctx->instance) {
        deliver_event(L, ctx, c, 6, 7, 4);
        lua_settop(L, 7);
        rs.n++;
      }
    }
    lua_settop(L, 5);
  }
  lua_pushinteger(L, (lua_Integer)rs.n);
  return 1;
}

static int ctx_poll(lua_State *L) {
  context *ctx = bind_open_context(L);
  double seconds = opt_check_seconds(L, 1, RAS_FOREVER);
  double now = os_now(), until = bind_deadline_in(now, seconds);
  bind_check_pump(L, ctx);
  lua_settop(L, 0);
  for (;;) {
    size_t pending;
    bind_return_batch(ctx);
    expire_all(ctx, now);
    pending = ras_hub_pending(ctx->hub);
    if (pending > 0) {
      lua_pushlightuserdata(L, ctx);
      lua_pushinteger(L, (lua_Integer)pending);
      bind_push_registry(L, lua_upvalueindex(1));
      push_strings(L);
      bind_run_protected(L, ctx, dispatch, 4, 1);
      /* all of them for collected connections: nothing yet, wait on */
      if (lua_tointeger(L, -1) > 0 || !ctx->instance) return 1;
      lua_settop(L, 0);
      now = os_now();
      continue;
    }
    if (until >= 0 && now >= until) break;
    ras_hub_wait(ctx->hub, bind_left_until(earlier(until, next_deadline(ctx)), now));
    now = os_now();
    if (!ctx->instance) luaL_error(L, "ras: %s", closed_message);
  }
  lua_pushinteger(L, 0);
  return 1;
}

static int ctx_pollfd(lua_State *L) {
  context *ctx = bind_open_context(L);
  ras_error err = { .code = 0 };
  return bind_push_pollable(L, ras_hub_pollfd(ctx->hub, &err), NULL, &err, "ras.pollhandle()");
}

static int ctx_pollhandle(lua_State *L) {
  context *ctx = bind_open_context(L);
  ras_error err = { .code = 0 };
  return bind_push_pollable(L, -1, ras_hub_pollhandle(ctx->hub, &err), &err, "ras.pollfd()");
}

static int ctx_events(lua_State *L) {
  bind_open_context(L);
  return push_events(L);
}

static int ctx_timeout(lua_State *L) {
  double d = next_deadline(bind_open_context(L));
  return push_timeout(L, d < 0 ? 0 : d);
}

/* Lets go of every connection (a dial not yet Connected is hung up, an
 * established one stays up) and then of the backend. Idempotent. */
static void close_context(context *ctx) {
  if (!ctx->instance) return;
  bind_return_batch(ctx);
  while (ctx->conns) bind_detach(ctx->conns);
  ctx->backend->close(ctx->instance);
  ctx->instance = NULL;
  ras_idmap_free(&ctx->by_id);
}

static int ctx_close(lua_State *L) {
  context *ctx = bind_self_context(L);
  bind_check_pump(L, ctx);
  close_context(ctx);
  return 0;
}

/* The core userdata is collected: nothing can reach the context now. */
static int core_gc(lua_State *L) {
  context *ctx = lua_touserdata(L, 1);
  close_context(ctx);
  if (ctx->hub) ras_hub_unref(ctx->hub);
  ctx->hub = NULL;
  free(ctx->free_slots);   /* every object was detached by close_context */
  ctx->free_slots = NULL;
  ctx->nfree = 0;
  return 0;
}

static int ctx_tostring(lua_State *L) {
  context *ctx = lua_touserdata(L, lua_upvalueindex(1));
  lua_pushfstring(L, "ras.context: %s%s", ctx->backend->name, ctx->instance ? "" : " (closed)");
  return 1;
}

/* ---------------------------------------------------------------------- */
/* module functions that need no open context                             */

static int m_state_name(lua_State *L) {
  lua_Integer v;
  const char *name = NULL;
  bind_self_context(L);
  v = luaL_checkinteger(L, 1);
  if (v >= 0 && v <= 0x7fffffff) name = ras_state_name((int)v);
  if (name) lua_pushstring(L, name);
  else luaL_pushfail(L);
  return 1;
}

static int m_state_group(lua_State *L) {
  int state = -1;
  bind_self_context(L);
  if (lua_type(L, 1) == LUA_TSTRING) {
    size_t len;
    const char *name = lua_tolstring(L, 1, &len);
    if (strlen(name) == len) state = ras_state_value(name);
    luaL_argcheck(L, state >= 0, 1, "unknown state name");
  } else {
    lua_Integer v = luaL_checkinteger(L, 1);
    if (v >= 0 && v <= 0x7fffffff && ras_state_name((int)v)) state = (int)v;
    luaL_argcheck(L, state >= 0, 1, "unknown state value");
  }
  lua_pushstring(L, ras_group_name(ras_state_group(state)));
  return 1;
}

static int m_error_message(lua_State *L) {
  context *ctx = bind_self_context(L);
  bind_push_error_message(L, ctx->backend, luaL_checkinteger(L, 1), NULL);
  return 1;
}

static int m_now(lua_State *L) {
  lua_pushnumber(L, os_now());
  return 1;
}

static int m_backends(lua_State *L) {
  lua_newtable(L);
  for (int i = 0; ras_backends[i]; i++) {
    lua_pushstring(L, ras_backends[i]->name);
    lua_rawseti(L, -2, i + 1);
  }
  return 1;
}

static const ras_backend *find_backend(const char *name, size_t len) {
  for (int i = 0; ras_backends[i]; i++)
    if (strlen(ras_backends[i]->name) == len && memcmp(ras_backends[i]->name, name, len) == 0)
      return ras_backends[i];
  return NULL;
}

static void push_context(lua_State *L, const ras_backend *backend);

/* Opens the backend of the context core at `core` with the config at the
 * top (popped). Returns 1, or 0 with *err filled. */
static int open_instance(lua_State *L, int core, ras_error *err) {
  context *ctx = lua_touserdata(L, core);
  ctx->hub = ras_hub_new(err);
  if (ctx->hub) ctx->instance = ctx->backend->open(lua_touserdata(L, -1), err);
  lua_pop(L, 1);
  return ctx->instance != NULL;
}

static int m_open(lua_State *L) {
  size_t len;
  const char *name;
  const ras_backend *backend;
  ras_error err;
  bind_self_context(L);
  name = luaL_checklstring(L, 1, &len);
  if (!lua_isnoneornil(L, 2)) luaL_checktype(L, 2, LUA_TTABLE);
  lua_settop(L, 2);
  backend = find_backend(name, len);
  if (!backend) {
    lua_pushfstring(L, "unknown or unavailable backend '%s'", name);
    return bind_push_failure(L, lua_tostring(L, -1), RAS_ERROR_INVALID_PARAMETER);
  }
  push_context(L, backend);                        /* 3 */
  lua_getfield(L, 3, "close");
  lua_getupvalue(L, -1, 1);                   /* 5: the core */
  opt_read(L, 2, backend->options, "option");
  if (!open_instance(L, 5, &err)) return bind_push_error_or_raise(L, &err);
  lua_settop(L, 3);
  return 1;
}

static const luaL_Reg context_functions[] = {
  { "dial", ctx_dial }, { "connections", ctx_connections },
  { "entries", ctx_entries }, { "poll", ctx_poll }, { "pollfd", ctx_pollfd },
  { "pollhandle", ctx_pollhandle }, { "events", ctx_events },
  { "timeout", ctx_timeout }, { "close", ctx_close },
  { "error_message", m_error_message }, { "open", m_open },
  { "backends", m_backends }, { "state_name", m_state_name },
  { "state_group", m_state_group }, { "now", m_now },
  { NULL, NULL }
};

static const luaL_Reg *const function_lists[] = {
  context_functions, bind_entry_functions, bind_watch_functions, bind_info_functions
};

static void push_states_table(lua_State *L) {
  lua_createtable(L, 0, ras_state_count());
  for (int i = 0; i < ras_state_count(); i++) {
    const char *name;
    lua_pushinteger(L, ras_state_at(i, &name));
    lua_setfield(L, -2, name);
  }
}

/*
 * Pushes a closed context table for backend: its functions, its fields and its
 * metatable (__close, __tostring), all sharing its core userdata. The
 * backend is opened afterwards, so a failure here leaks nothing.
 */
static void push_context(lua_State *L, const ras_backend *backend) {
  context *ctx;
  int t;
  lua_createtable(L, 0, 24);
  t = lua_gettop(L);
  ctx = lua_newuserdatauv(L, sizeof *ctx, 1);
  memset(ctx, 0, sizeof *ctx);
  ctx->backend = backend;
  luaL_setmetatable(L, CORE_MT);
  lua_createtable(L, 0, 1);                /* the registry of connection objects */
  lua_createtable(L, 0, 1);
  lua_pushliteral(L, "v");
  lua_setfield(L, -2, "__mode");
  lua_setmetatable(L, -2);
  lua_setiuservalue(L, -2, 1);
  for (size_t i = 0; i < sizeof function_lists / sizeof function_lists[0]; i++) {
    lua_pushvalue(L, t);                   /* the table to fill */
    lua_pushvalue(L, t + 1);
    lua_pushvalue(L, t);
    luaL_setfuncs(L, function_lists[i], 2);  /* upvalues: core, table */
    lua_pop(L, 1);
  }
  lua_pop(L, 1);
  lua_pushstring(L, backend->name);
  lua_setfield(L, t, "backend");
  lua_pushliteral(L, RAS_VERSION);
  lua_setfield(L, t, "_VERSION");
  push_states_table(L);
  lua_setfield(L, t, "states");
  lua_createtable(L, 0, 3);                /* its own metatable: __close knows it */
  lua_getfield(L, t, "close");
  lua_setfield(L, -2, "__close");
  lua_getfield(L, t, "close");
  lua_getupvalue(L, -1, 1);
  lua_pushvalue(L, t);
  lua_pushcclosure(L, ctx_tostring, 2);
  lua_setfield(L, -3, "__tostring");
  lua_pop(L, 1);
  lua_pushliteral(L, CONTEXT_MT);
  lua_setfield(L, -2, "__name");
  lua_setmetatable(L, t);
}

static void create_metatables(lua_State *L) {
  luaL_newmetatable(L, CONNECTION_MT);
  luaL_setfuncs(L, conn_metamethods, 0);
  lua_newtable(L);
  luaL_setfuncs(L, conn_methods, 0);
  luaL_setfuncs(L, bind_info_methods, 0);
  lua_pushcclosure(L, conn_index, 1);
  lua_setfield(L, -2, "__index");
  lua_pop(L, 1);
  luaL_newmetatable(L, CORE_MT);
  lua_pushcfunction(L, core_gc);
  lua_setfield(L, -2, "__gc");
  lua_pop(L, 1);
  luaL_newmetatable(L, BOX_MT);
  lua_pushcfunction(L, box_gc);
  lua_setfield(L, -2, "__gc");
  lua_pop(L, 1);
  luaL_newmetatable(L, ARENA_MT);
  lua_pushcfunction(L, arena_gc);
  lua_setfield(L, -2, "__gc");
  lua_pop(L, 1);
  bind_create_watch_metatable(L);
}

/* The default context: the platform's backend, else the simulator. */
int luaopen_ras(lua_State *L) {
  ras_error err = { .code = 0, .message = "no backend compiled in" };
  create_metatables(L);
  create_strings(L);
  for (int i = 0; ras_backends[i]; i++) {
    lua_settop(L, 0);
    push_context(L, ras_backends[i]);        /* 1 */
    lua_getfield(L, 1, "close");
    lua_getupvalue(L, -1, 1);                /* 3: the core */
    opt_read(L, 0, ras_backends[i]->options, "option");
    if (open_instance(L, 3, &err)) {
      lua_settop(L, 1);
      lua_pushliteral(L, "ras");
      lua_setfield(L, 1, "_NAME");
      return 1;
    }
  }
  return luaL_error(L, "ras: no backend could be opened: %s", err.message);
}
