/*
 * watch.c - the binding of watchers: ctx.watch([options]) and the
 * "ras.watcher" object, which reports every connection of the machine
 * (this context's and other programs') coming up and going away.
 *
 * A watcher is a connection object's plumbing (binding.h) whose feed
 * carries changes (feed.h: ras_change) from the backend's watch(). A
 * change reaches Lua as { change = "connected" | "disconnected",
 * connection = <the object ctx.connections() returns>, entry =,
 * phonebook =, time = }: through w:next(), w:changes(), or on_change run
 * by whichever pump delivers (ctx.poll included). A watcher whose change
 * could not be queued for want of memory stops: on_change hears one last
 * { change = "stopped", error = 8 }, next() answers nil, message, 8.
 */
#include <string.h>

#include "binding.h"
#include "options.h"

typedef struct watch_request {
  int initial;
  int handler;              /* stack index of on_change; 0: none */
} watch_request;

static const ras_field watch_fields[] = {
  { .name = "initial", .kind = RAS_BOOLEAN, .offset = offsetof(watch_request, initial) },
  { .name = "on_change", .kind = RAS_HANDLER, .offset = offsetof(watch_request, handler) },
  { .name = NULL }
};

static const ras_record watch_record = { .size = sizeof(watch_request), .fields = watch_fields };

static connection *check_watcher(lua_State *L, int arg) {
  return luaL_checkudata(L, arg, WATCHER_MT);
}

/* ---------------------------------------------------------------------- */
/* changes                                                                */

/* Whether the batch's next event is a change Lua does not see: the
 * connections already up, when the watcher was not asked for them. */
static int hidden(const connection *w, const ras_event *ev) {
  return ev->substate == RAS_CHANGE_INITIAL && !w->initial;
}

/* A watcher's feed ends only when the backend could not queue a change
 * for want of memory (feed.h): then the watcher has stopped. */
static int failed(const ras_event *ev) {
  return ev->state == RAS_Disconnected;
}

/* The watcher's last change: it has stopped, since a change could not be
 * queued for want of memory (feed.h). on_change hears it as { change =
 * "stopped", error = 8, message = … }; next() answers nil, message, 8. */
static void push_stopped(lua_State *L, context *ctx, int obj) {
  ras_batch *b = &ctx->batch;
  ras_event *ev = &b->ev[b->next];
  connection *w = lua_touserdata(L, obj);
  ctx->taking = 1;                 /* till b->next++: the batch must stay put */
  lua_createtable(L, 0, 4);
  lua_pushliteral(L, "stopped");
  lua_setfield(L, -2, "change");
  lua_pushinteger(L, RAS_ERROR_NOT_ENOUGH_MEMORY);
  lua_setfield(L, -2, "error");
  bind_push_error_message(L, ctx->backend, RAS_ERROR_NOT_ENOUGH_MEMORY, NULL);
  lua_setfield(L, -2, "message");
  lua_pushnumber(L, ev->time);
  lua_setfield(L, -2, "time");
  b->next++;                       /* taken: nothing from here allocates */
  ctx->taking = 0;
  ras_event_free(ev);
  w->gone = 1;
  w->last_state = RAS_Disconnected;
}

/* The object this context already has for id, even one that is gone (a
 * "disconnected" change names the object the script saw come up); 0 if
 * there is none. */
static int push_known(lua_State *L, context *ctx, int registry, uint64_t id, int change) {
  connection *c = ras_idmap_get(&ctx->by_id, id);
  if (!c || !c->slot) return 0;
  if (c->gone && change == RAS_CHANGE_CONNECTED) return 0;   /* a reused id: a new one */
  lua_rawgeti(L, registry, c->slot);
  if (!lua_isnil(L, -1)) return 1;
  lua_pop(L, 1);
  return 0;
}

/*
 * Pushes the table of the batch's next change (of the watcher whose
 * object is at obj) and takes it from the batch. Everything that can fail
 * for want of memory comes first, so such an error loses nothing.
 */
static void push_change(lua_State *L, context *ctx, int obj) {
  ras_batch *b = &ctx->batch;
  ras_event *ev = &b->ev[b->next];
  int top = lua_gettop(L);
  luaL_checkstack(L, 12, "delivering a change");
  if (failed(ev)) {
    push_stopped(L, ctx, obj);
    return;
  }
  ctx->taking = 1;                 /* till b->next++: the batch must stay put */
  lua_createtable(L, 0, 5);                                  /* top + 1 */
  lua_getiuservalue(L, obj, USERVAL_CONTEXT);                /* top + 2: the core */
  bind_push_registry(L, top + 2);                            /* top + 3 */
  if (!push_known(L, ctx, top + 3, ras_change_id(ev), ev->state))
    bind_push_connection(L, ctx, top + 2, top + 3, ras_change_id(ev), ras_change_entry(ev),
                         ras_change_phonebook(ev));
  /* the names from the change, else (its text could not be allocated)
   * from the object, which knows them when it is one of ours */
  if (ras_change_entry(ev)[0]) lua_pushstring(L, ras_change_entry(ev));
  else lua_getiuservalue(L, top + 4, USERVAL_ENTRY);
  lua_setfield(L, top + 1, "entry");
  if (ras_change_phonebook(ev)[0]) lua_pushstring(L, ras_change_phonebook(ev));
  else lua_getiuservalue(L, top + 4, USERVAL_PHONEBOOK);
  lua_setfield(L, top + 1, "phonebook");
  lua_setfield(L, top + 1, "connection");
  lua_settop(L, top + 1);
  lua_pushstring(L, ev->state == RAS_CHANGE_CONNECTED ? "connected" : "disconnected");
  lua_setfield(L, -2, "change");
  lua_pushnumber(L, ev->time);
  lua_setfield(L, -2, "time");
  b->next++;                       /* taken: nothing from here allocates */
  ctx->taking = 0;
  ras_event_free(ev);
}

/* Skips the hidden changes at the front of the batch; 1 when a change
 * (or the watcher's end) is next. */
static int next_visible(context *ctx, connection *w) {
  ras_batch *b = &ctx->batch;
  while (b->next < b->n) {
    ras_event *ev = &b->ev[b->next];
    if (failed(ev) || !hidden(w, ev)) return 1;
    ras_event_free(ev);
    b->next++;
  }
  return 0;
}

size_t bind_watch_dispatch(lua_State *L, context *ctx, connection *w, int obj, size_t limit) {
  ras_batch *b = &ctx->batch;
  ras_feed *feed = b->feed;
  size_t n = 0;
  int top = lua_gettop(L), handler;
  lua_getiuservalue(L, obj, USERVAL_HANDLER);
  handler = lua_gettop(L);
  while (n < limit && b->feed == feed && ctx->instance && !w->gone && next_visible(ctx, w)) {
    if (lua_isnil(L, handler)) {                /* nobody listens here: consumed */
      if (failed(&b->ev[b->next])) w->gone = 1;
      ras_event_free(&b->ev[b->next++]);
    } else {
      push_change(L, ctx, obj);
      bind_call_handler(L, handler, obj, lua_gettop(L), "on_change");
      lua_settop(L, handler);
    }
    n++;
  }
  lua_settop(L, top);
  return n;
}

/* ---------------------------------------------------------------------- */
/* w:next, w:changes                                                      */

/* watch_next_protected(context, w): delivers the batch's next change to
 * on_change and returns its table. */
static int next_protected(lua_State *L) {
  context *ctx = lua_touserdata(L, 1);
  int handler;
  lua_getiuservalue(L, 2, USERVAL_HANDLER);
  handler = lua_gettop(L);
  push_change(L, ctx, 2);
  if (!lua_isnil(L, handler)) bind_call_handler(L, handler, 2, lua_gettop(L), "on_change");
  return 1;
}

/* Waits up to seconds (< 0: forever) for w's next change: 1 with its
 * table pushed, or 0. */
static int next_change(lua_State *L, int obj, connection *w, double seconds) {
  double now = os_now(), until = bind_deadline_in(now, seconds);
  for (;;) {
    context *ctx = w->ctx;
    if (!ctx || w->gone) return 0;
    bind_check_pump(L, ctx);
    bind_return_batch(ctx);
    if (ras_feed_take(w->feed, &ctx->batch, 1)) {
      if (!next_visible(ctx, w)) continue;
      lua_pushlightuserdata(L, ctx);
      lua_pushvalue(L, obj);
      bind_run_protected(L, ctx, next_protected, 2, 1);
      if (!w->gone) return 1;
      lua_pop(L, 1);          /* "stopped": on_change has it; next says why */
      return 0;
    }
    if (until >= 0 && now >= until) return 0;
    ras_feed_wait(w->feed, bind_left_until(until, now));
    now = os_now();
  }
}

static int push_no_change(lua_State *L, const connection *w) {
  if (w->gone && w->ctx)
    return bind_push_failure(L, "the watcher stopped: not enough memory",
                             RAS_ERROR_NOT_ENOUGH_MEMORY);
  luaL_pushfail(L);
  if (!w->ctx) lua_pushliteral(L, "closed");
  else lua_pushliteral(L, "timeout");
  return 2;
}

static int w_next(lua_State *L) {
  connection *w = check_watcher(L, 1);
  double seconds = opt_check_seconds(L, 2, RAS_FOREVER);
  lua_settop(L, 1);
  return next_change(L, 1, w, seconds) ? 1 : push_no_change(L, w);
}

static int changes_step(lua_State *L) {
  connection *w = check_watcher(L, lua_upvalueindex(1));
  lua_settop(L, 0);
  lua_pushvalue(L, lua_upvalueindex(1));
  return next_change(L, 1, w, RAS_FOREVER) ? 1 : 0;
}

/* for ch in w:changes() do … end: ends only when the watcher is closed. */
static int w_changes(lua_State *L) {
  check_watcher(L, 1);
  lua_settop(L, 1);
  lua_pushcclosure(L, changes_step, 1);
  return 1;
}

/* ---------------------------------------------------------------------- */
/* waiting from a scheduler, closing                                      */

static int w_pollfd(lua_State *L) {
  return bind_push_feed_pollfd(L, check_watcher(L, 1), "w:pollhandle()");
}

static int w_pollhandle(lua_State *L) {
  return bind_push_feed_pollhandle(L, check_watcher(L, 1), "w:pollfd()");
}

static int w_events(lua_State *L) {
  check_watcher(L, 1);
  lua_pushliteral(L, "r");
  return 1;
}

/* A watcher has no deadline of its own. */
static int w_timeout(lua_State *L) {
  check_watcher(L, 1);
  lua_pushnil(L);
  return 1;
}

static int w_close(lua_State *L) {
  bind_detach(check_watcher(L, 1));
  return 0;
}

static int w_tostring(lua_State *L) {
  connection *w = check_watcher(L, 1);
  lua_pushfstring(L, "ras.watcher (%s)", w->ctx ? "watching" : "closed");
  return 1;
}

static const luaL_Reg watcher_methods[] = {
  { "next", w_next }, { "changes", w_changes }, { "pollfd", w_pollfd },
  { "pollhandle", w_pollhandle }, { "events", w_events }, { "timeout", w_timeout },
  { "close", w_close }, { NULL, NULL }
};

void bind_create_watch_metatable(lua_State *L) {
  luaL_newmetatable(L, WATCHER_MT);
  lua_pushcfunction(L, w_close);
  lua_setfield(L, -2, "__gc");
  lua_pushcfunction(L, w_close);
  lua_setfield(L, -2, "__close");
  lua_pushcfunction(L, w_tostring);
  lua_setfield(L, -2, "__tostring");
  lua_newtable(L);
  luaL_setfuncs(L, watcher_methods, 0);
  lua_setfield(L, -2, "__index");
  lua_pop(L, 1);
}

/* ---------------------------------------------------------------------- */
/* ctx.watch                                                              */

static int ctx_watch(lua_State *L) {
  context *ctx = bind_open_context(L);
  watch_request r;
  ras_error err;
  connection *w;
  int obj;
  if (!lua_isnoneornil(L, 1)) luaL_checktype(L, 1, LUA_TTABLE);
  lua_settop(L, 1);
  if (lua_isnil(L, 1)) memset(&r, 0, sizeof r);
  else opt_read_flat(L, 1, &watch_record, "option", &r);
  if (!ctx->backend->watch) return bind_push_unsupported(L, ctx, "watching");
  w = bind_new_object(L, lua_upvalueindex(1), WATCHER_MT);
  obj = lua_gettop(L);
  w->initial = r.initial != 0;
  w->started = os_now();
  if (r.handler) {
    lua_pushvalue(L, r.handler);
    lua_setiuservalue(L, obj, USERVAL_HANDLER);
  }
  w->watch = ctx->backend->watch(ctx->instance, w->feed, &err);
  if (!w->watch) {
    bind_detach(w);
    return bind_push_error_or_raise(L, &err);
  }
  lua_settop(L, obj);
  return 1;
}

const luaL_Reg bind_watch_functions[] = {
  { "watch", ctx_watch }, { NULL, NULL }
};
