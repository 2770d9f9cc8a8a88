/*
 * binding.h - what the binding's files share (ras.c, entries.c, watch.c,
 * info.c): the context and connection objects and the helpers that push
 * results. Part of the binding: backends never include it.
 */
#ifndef RAS_BINDING_H
#define RAS_BINDING_H

#include "lauxlib.h"
#include "lua.h"

#include "backend.h"
#include "compat.h"  /* the 5.4 API on 5.1-5.3 and LuaJIT */
#include "idmap.h"
#include "queue.h"

#define CONTEXT_MT "ras.context"
#define CORE_MT "ras.context_core"
#define CONNECTION_MT "ras.connection"
#define WATCHER_MT "ras.watcher"
#define BOX_MT "ras.box"
#define ARENA_MT "ras.arena"

enum {
  USERVAL_CONTEXT = 1, USERVAL_HANDLER, USERVAL_ENTRY, USERVAL_PHONEBOOK,
  USERVALS = 4
};

typedef struct connection connection;

typedef struct context {
  const ras_backend *backend;
  ras_instance *instance;   /* NULL: closed (or not yet opened) */
  ras_hub *hub;             /* lives until the core is collected */
  connection *conns;        /* every connection object not yet detached */
  ras_idmap by_id;          /* enumeration id -> connection */
  size_t ndeadlines;        /* connections with a dial timeout running */
  ras_batch batch;          /* events taken, being delivered */
  /* Each object has a slot in the registry (the core's weak table of
   * objects, an array): slots are handed out in order and reused, so an
   * enumeration walks the array instead of a hash of addresses. */
  lua_Integer nslots;       /* slots ever handed out */
  lua_Integer *free_slots;  /* room for nslots + 1, so freeing never allocates */
  size_t nfree;
  /* An event is being taken from the batch: its table is being made, and
   * a finalizer that runs meanwhile (any allocation can run one) must not
   * pump, hang up or close, since all of them hand the batch back. */
  int taking;
} context;

/*
 * A connection object, or a watcher (watch.c): a watcher has the same
 * plumbing (a feed on the hub, a place in the context's list and
 * registry) but watches the machine's connections instead of one call.
 */
struct connection {
  context *ctx;             /* NULL once detached (collected, or closed) */
  ras_feed *feed;
  ras_call *call;           /* NULL once released */
  ras_watch *watch;         /* a watcher's; NULL for a connection */
  connection *next, *prev;
  uint64_t id;
  lua_Integer slot;         /* in the registry; 0: none */
  double started;
  double deadline;          /* dial timeout; 0: none */
  int last_state;           /* last delivered, -1 before the first */
  unsigned dialled : 1;     /* dialled here (not found by enumeration) */
  unsigned hangup_started : 1;
  unsigned gone : 1;        /* status has reported an invalid handle */
  unsigned initial : 1;     /* a watcher that reports what is up at first */
};

/* ras.c */
context *bind_self_context(lua_State *L);   /* strips a self argument */
context *bind_open_context(lua_State *L);   /* ...and raises if closed */
int bind_push_failure(lua_State *L, const char *message, int code);
int bind_push_error(lua_State *L, const ras_error *err);
int bind_push_error_or_raise(lua_State *L, const ras_error *err);
int bind_push_closed(lua_State *L);
int bind_push_gone(lua_State *L);
/* nil, "not supported by the NAME backend", 120 */
int bind_push_unsupported(lua_State *L, const context *ctx, const char *what);
void bind_push_error_message(lua_State *L, const ras_backend *backend, lua_Integer code,
                             const char *detail);
/* A new object of metatable mt (CONNECTION_MT, WATCHER_MT) at the top. */
connection *bind_new_object(lua_State *L, int core_index, const char *mt);
void bind_map_id(connection *c, uint64_t id);
void bind_detach(connection *c);
void bind_push_registry(lua_State *L, int core_index);
/* The object for connection id (the one we have, or a new one watching
 * it); a gone one when the backend no longer has it. */
void bind_push_connection(lua_State *L, context *ctx, int core_index, int registry,
                          uint64_t id, const char *entry, const char *phonebook);
void bind_run_protected(lua_State *L, context *ctx, lua_CFunction fn, int nargs,
                        int nresults);
/* Raises when ctx->taking: a pump (or hang-up, or close) from a finalizer
 * that runs while an event's table is being made. */
void bind_check_pump(lua_State *L, const context *ctx);
void bind_return_batch(context *ctx);
/* Calls the handler at `handler` (function or coroutine) with the values
 * at obj and ev; returns with the stack as it was. */
void bind_call_handler(lua_State *L, int handler, int obj, int ev, const char *name);
int bind_push_pollable(lua_State *L, int fd, void *handle, const ras_error *err,
                       const char *other);
/* pollfd() and pollhandle() of an object's feed (other: the one to use
 * instead on the wrong platform). */
int bind_push_feed_pollfd(lua_State *L, const connection *c, const char *other);
int bind_push_feed_pollhandle(lua_State *L, const connection *c, const char *other);
double bind_left_until(double until, double now);
double bind_deadline_in(double now, double seconds);
/* Pushes an array of { k1 = item.at1, k2 = item.at2 } for n items of size
 * bytes whose fields at1 and at2 are texts (entries, devices). */
void bind_push_pairs(lua_State *L, const void *items, size_t n, size_t size, const char *k1,
                     size_t at1, const char *k2, size_t at2);
/* A userdata owning an arena (list.h), freed by __gc if an error unwinds. */
ras_arena *bind_new_arena(lua_State *L);

/* entries.c, watch.c, info.c: their functions, for the context table and
 * the connection methods. */
extern const luaL_Reg bind_entry_functions[];
extern const luaL_Reg bind_watch_functions[];
extern const luaL_Reg bind_info_functions[];   /* context functions */
extern const luaL_Reg bind_info_methods[];     /* connection methods */
void bind_create_watch_metatable(lua_State *L);
/* dispatch's share for a watcher: delivers its batch's changes to its
 * on_change (or consumes them when it has none); returns how many. */
size_t bind_watch_dispatch(lua_State *L, context *ctx, connection *w, int obj, size_t limit);

#endif
