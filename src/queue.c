/*
 * queue.c - per-connection event FIFOs, the per-context list of connections
 * with events pending, and the level-triggered wake-ups over them.
 *
 * One lock per context guards every queue of the context, so that a push
 * can move a link onto the ready list and signal both wake-ups atomically.
 * Wake-ups change only on empty/non-empty transitions: a burst costs one
 * signal, not one per event.
 */
#include <stdlib.h>
#include <string.h>

#include "queue.h"
#include "states.h"

/* Chunks start small, since most connections see a dozen events taken one
 * at a time, and double while a burst piles up. */
#define SMALL_CHUNK 8
#define BIG_CHUNK 256

typedef struct chunk {
  struct chunk *next;
  unsigned size;
  ras_event ev[];
} chunk;

struct ras_ctx {
  os_mutex *lock;
  os_wakeup *wake;
  ras_link *ready_head, *ready_tail;
  size_t pending;
  int refs;
};

struct ras_link {
  ras_ctx *ctx;
  int refs;
  chunk *head, *tail;
  unsigned head_i, tail_i;
  size_t count;
  ras_link *ready_next, *ready_prev;
  os_wakeup *wake;            /* created on first wait or pollfd */
  unsigned in_ready : 1;
  unsigned ended : 1;         /* a Disconnected was pushed */
  unsigned terminal : 1;      /* Connected or Disconnected was pushed */
  unsigned connected : 1;     /* Connected was pushed */
  unsigned orphaned : 1;
  void *owner;
};

void ras_event_free(ras_event *ev) {
  free(ev->detail);
  ev->detail = NULL;
}

/* context */

ras_ctx *ras_ctx_new(void) {
  ras_ctx *ctx = calloc(1, sizeof *ctx);
  if (!ctx) return NULL;
  ctx->lock = os_mutex_new();
  ctx->wake = os_wakeup_new();
  if (!ctx->lock || !ctx->wake) {
    os_mutex_free(ctx->lock);
    os_wakeup_free(ctx->wake);
    free(ctx);
    return NULL;
  }
  ctx->refs = 1;
  return ctx;
}

void ras_ctx_unref(ras_ctx *ctx) {
  int refs;
  os_mutex_lock(ctx->lock);
  refs = --ctx->refs;
  os_mutex_unlock(ctx->lock);
  if (refs > 0) return;
  os_wakeup_free(ctx->wake);
  os_mutex_free(ctx->lock);
  free(ctx);
}

int ras_ctx_wait(ras_ctx *ctx, double seconds) {
  return os_wakeup_wait(ctx->wake, seconds);
}

size_t ras_ctx_pending(ras_ctx *ctx) {
  size_t n;
  os_mutex_lock(ctx->lock);
  n = ctx->pending;
  os_mutex_unlock(ctx->lock);
  return n;
}

int ras_ctx_pollfd(ras_ctx *ctx) { return os_wakeup_fd(ctx->wake); }
void *ras_ctx_pollhandle(ras_ctx *ctx) { return os_wakeup_handle(ctx->wake); }

/* ready list: links that have events, in the order they became ready */

static void ready_append(ras_ctx *ctx, ras_link *link) {
  link->ready_next = NULL;
  link->ready_prev = ctx->ready_tail;
  if (ctx->ready_tail) ctx->ready_tail->ready_next = link;
  else ctx->ready_head = link;
  ctx->ready_tail = link;
  link->in_ready = 1;
}

static void ready_remove(ras_ctx *ctx, ras_link *link) {
  if (!link->in_ready) return;
  if (link->ready_prev) link->ready_prev->ready_next = link->ready_next;
  else ctx->ready_head = link->ready_next;
  if (link->ready_next) link->ready_next->ready_prev = link->ready_prev;
  else ctx->ready_tail = link->ready_prev;
  link->ready_next = link->ready_prev = NULL;
  link->in_ready = 0;
}

/* link */

ras_link *ras_link_new(ras_ctx *ctx) {
  ras_link *link = calloc(1, sizeof *link);
  if (!link) return NULL;
  link->refs = 1;
  link->ctx = ctx;
  os_mutex_lock(ctx->lock);
  ctx->refs++;
  os_mutex_unlock(ctx->lock);
  return link;
}

void ras_link_ref(ras_link *link) {
  os_mutex_lock(link->ctx->lock);
  link->refs++;
  os_mutex_unlock(link->ctx->lock);
}

/* Drops every queued event; ctx lock held. */
static void drop_events(ras_link *link) {
  ras_ctx *ctx = link->ctx;
  ras_event ev;
  while (link->count > 0) {
    ev = link->head->ev[link->head_i];
    ras_event_free(&ev);
    if (++link->head_i == link->head->size) {
      chunk *c = link->head;
      link->head = c->next;
      link->head_i = 0;
      free(c);
    }
    link->count--;
    ctx->pending--;
  }
  free(link->head);
  link->head = link->tail = NULL;
  link->head_i = link->tail_i = 0;
  ready_remove(ctx, link);
  if (ctx->pending == 0) os_wakeup_clear(ctx->wake);
}

void ras_link_unref(ras_link *link) {
  ras_ctx *ctx = link->ctx;
  int refs;
  os_mutex_lock(ctx->lock);
  refs = --link->refs;
  if (refs == 0) drop_events(link);
  os_mutex_unlock(ctx->lock);
  if (refs > 0) return;
  os_wakeup_free(link->wake);
  free(link);
  ras_ctx_unref(ctx);
}

static chunk *new_chunk(ras_link *link) {
  unsigned size = link->tail ? link->tail->size * 2 : SMALL_CHUNK;
  chunk *c;
  if (size > BIG_CHUNK) size = BIG_CHUNK;
  c = malloc(sizeof *c + size * sizeof c->ev[0]);
  if (c) {
    c->next = NULL;
    c->size = size;
  }
  return c;
}

/* Appends under the ctx lock; returns 0 (and frees ev's detail) if refused. */
static int push_locked(ras_link *link, const ras_event *ev) {
  ras_ctx *ctx = link->ctx;
  if (link->ended || link->orphaned) return 0;
  if (!link->tail || link->tail_i == link->tail->size) {
    chunk *c = new_chunk(link);
    if (!c) return 0;
    if (link->tail) link->tail->next = c;
    else link->head = c, link->head_i = 0;
    link->tail = c;
    link->tail_i = 0;
  }
  link->tail->ev[link->tail_i++] = *ev;
  if (ev->state == RAS_Disconnected) link->ended = 1;
  if (ev->state == RAS_Connected) link->connected = 1;
  if (ev->state & RAS_DONE) link->terminal = 1;
  if (link->count++ == 0) {
    if (link->wake) os_wakeup_signal(link->wake);
    ready_append(ctx, link);
  }
  if (ctx->pending++ == 0) os_wakeup_signal(ctx->wake);
  return 1;
}

int ras_link_push(ras_link *link, const ras_event *ev) {
  int queued;
  os_mutex_lock(link->ctx->lock);
  queued = push_locked(link, ev);
  os_mutex_unlock(link->ctx->lock);
  if (!queued) free(ev->detail);
  return queued;
}

size_t ras_link_push_many(ras_link *link, ras_event *evs, size_t n) {
  size_t queued = 0;
  os_mutex_lock(link->ctx->lock);
  for (size_t i = 0; i < n; i++) {
    if (push_locked(link, &evs[i])) queued++;
    else ras_event_free(&evs[i]);
  }
  os_mutex_unlock(link->ctx->lock);
  return queued;
}

int ras_link_push_unless_terminal(ras_link *link, const ras_event *ev) {
  int queued = 0;
  os_mutex_lock(link->ctx->lock);
  if (!link->terminal) queued = push_locked(link, ev);
  os_mutex_unlock(link->ctx->lock);
  if (!queued) free(ev->detail);
  return queued;
}

int ras_link_reached_connected(ras_link *link) {
  int connected;
  os_mutex_lock(link->ctx->lock);
  connected = link->connected;
  os_mutex_unlock(link->ctx->lock);
  return connected;
}

/* Takes the oldest event; ctx lock held and count > 0. */
static void pop_locked(ras_link *link, ras_event *ev) {
  ras_ctx *ctx = link->ctx;
  *ev = link->head->ev[link->head_i];
  if (++link->head_i == link->head->size || link->count == 1) {
    chunk *c = link->head;
    link->head = c->next;
    link->head_i = 0;
    if (!link->head) link->tail = NULL, link->tail_i = 0;
    free(c);
  }
  if (--link->count == 0) {
    if (link->wake) os_wakeup_clear(link->wake);
    ready_remove(ctx, link);
  }
  if (--ctx->pending == 0) os_wakeup_clear(ctx->wake);
}

int ras_link_pop(ras_link *link, ras_event *ev) {
  int got = 0;
  os_mutex_lock(link->ctx->lock);
  if (link->count > 0) {
    pop_locked(link, ev);
    got = 1;
  }
  os_mutex_unlock(link->ctx->lock);
  return got;
}

ras_link *ras_ctx_pop(ras_ctx *ctx, ras_event *ev) {
  ras_link *link;
  os_mutex_lock(ctx->lock);
  link = ctx->ready_head;
  if (link) {
    pop_locked(link, ev);
    if (link->in_ready && link->ready_next) {  /* round robin */
      ready_remove(ctx, link);
      ready_append(ctx, link);
    }
  }
  os_mutex_unlock(ctx->lock);
  return link;
}

size_t ras_link_pending(ras_link *link) {
  size_t n;
  os_mutex_lock(link->ctx->lock);
  n = link->count;
  os_mutex_unlock(link->ctx->lock);
  return n;
}

/* The link's own wake-up, created in the state the queue is in. */
static os_wakeup *link_wakeup(ras_link *link) {
  os_wakeup *w;
  os_mutex_lock(link->ctx->lock);
  if (!link->wake) {
    link->wake = os_wakeup_new();
    if (link->wake && link->count > 0) os_wakeup_signal(link->wake);
  }
  w = link->wake;
  os_mutex_unlock(link->ctx->lock);
  return w;
}

int ras_link_wait(ras_link *link, double seconds) {
  os_wakeup *w = link_wakeup(link);
  if (!w) return ras_link_pending(link) > 0;
  return os_wakeup_wait(w, seconds);
}

int ras_link_pollfd(ras_link *link) {
  os_wakeup *w = link_wakeup(link);
  return w ? os_wakeup_fd(w) : -1;
}

void *ras_link_pollhandle(ras_link *link) {
  os_wakeup *w = link_wakeup(link);
  return w ? os_wakeup_handle(w) : NULL;
}

void ras_link_orphan(ras_link *link) {
  os_mutex_lock(link->ctx->lock);
  link->orphaned = 1;
  drop_events(link);
  if (link->wake) os_wakeup_clear(link->wake);
  os_mutex_unlock(link->ctx->lock);
}

void ras_link_set_owner(ras_link *link, void *owner) { link->owner = owner; }
void *ras_link_owner(ras_link *link) { return link->owner; }
