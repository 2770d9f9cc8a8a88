/*
 * queue.h - the event queue between backends and the Lua thread.
 *
 * A ras_ctx is one context's shared state: a lock, the list of connections
 * that have events pending, and a wake-up that is signalled while that list
 * is not empty. A ras_link is one connection's shared state: its FIFO of
 * events and, once somebody waits on it alone, its own wake-up.
 *
 * Backends push from any thread; only the Lua thread pops. Both objects are
 * reference-counted because a backend thread may still push after the Lua
 * object that watched the connection has been collected.
 */
#ifndef RAS_QUEUE_H
#define RAS_QUEUE_H

#include "os.h"

typedef struct ras_event {
  int state;           /* RASCONNSTATE value */
  int error;           /* 0: none */
  int extended_error;  /* 0: none */
  int subentry;        /* 1 unless multilink */
  double time;         /* os_now() when the backend produced it */
  char *detail;        /* malloc'd backend text (e.g. pppd's reason), or NULL */
} ras_event;

typedef struct ras_ctx ras_ctx;
typedef struct ras_link ras_link;

ras_ctx *ras_ctx_new(void);
void ras_ctx_unref(ras_ctx *ctx);
/* Waits until some connection of the context has an event pending. */
int ras_ctx_wait(ras_ctx *ctx, double seconds);
/* Pops the oldest event of the first connection with one, round robin. */
ras_link *ras_ctx_pop(ras_ctx *ctx, ras_event *ev);
/* Events pending in the whole context. */
size_t ras_ctx_pending(ras_ctx *ctx);
int ras_ctx_pollfd(ras_ctx *ctx);
void *ras_ctx_pollhandle(ras_ctx *ctx);

/* A new link holds one reference, for its creator. */
ras_link *ras_link_new(ras_ctx *ctx);
void ras_link_ref(ras_link *link);
void ras_link_unref(ras_link *link);

/*
 * Appends a copy of *ev (the link takes ownership of ev->detail). Events
 * after a Disconnected, or after the link was orphaned, are discarded: a
 * connection ends once. Returns 1 if the event was queued.
 */
int ras_link_push(ras_link *link, const ras_event *ev);
/* Pushes n events under one lock; returns how many were queued. */
size_t ras_link_push_many(ras_link *link, ras_event *evs, size_t n);
/* Like ras_link_push, but only while no terminal state has been pushed. */
int ras_link_push_unless_terminal(ras_link *link, const ras_event *ev);
/* Whether Connected was ever pushed. */
int ras_link_reached_connected(ras_link *link);

int ras_link_pop(ras_link *link, ras_event *ev);
size_t ras_link_pending(ras_link *link);
int ras_link_wait(ras_link *link, double seconds);
int ras_link_pollfd(ras_link *link);
void *ras_link_pollhandle(ras_link *link);

/* Nobody will pop any more: drop what is queued and refuse what comes. */
void ras_link_orphan(ras_link *link);

/* The Lua side's pointer for this link (only the Lua thread uses it). */
void ras_link_set_owner(ras_link *link, void *owner);
void *ras_link_owner(ras_link *link);

void ras_event_free(ras_event *ev);

#endif
