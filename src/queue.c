/*
 * queue.c - per-connection event FIFOs (feeds), the per-context hub that
 * lists the feeds with events pending, and the waits over them.
 *
 * One lock per hub guards every feed of the context, so that a push can
 * move a feed onto the ready list and wake the Lua thread atomically. Wake-
 * ups change only on empty/non-empty transitions: a burst costs one signal,
 * not one per event.
 *
 * The binding takes events in batches (ras_hub_take) to pay for the lock
 * once per batch. A batch is lent, not given: its chunk is kept until the
 * binding returns the batch, so events a handler's error (or a nested pump)
 * left undelivered go back to the front of their feed without allocating.
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
  unsigned reserved : 1;      /* the feed's own: never freed */
  ras_event ev[];
} chunk;

/* Spent big chunks kept for reuse, so that a burst does not pay malloc and
 * a cross-thread free (producer allocates, Lua thread frees) per chunk. */
#define SPARE_CHUNKS 8

struct ras_hub {
  os_mutex *lock;
  chunk *spare[SPARE_CHUNKS];
  int nspare;
  os_cond *cond;              /* the Lua thread waits here */
  os_wakeup *wake;            /* made on the first pollfd; NULL before */
  ras_feed *ready_head, *ready_tail;
  size_t pending;
  int refs;
};

struct ras_feed {
  ras_hub *hub;
  int refs;
  chunk *head, *tail;
  unsigned head_i, tail_i;
  size_t count;
  size_t lent;                /* events of the head chunk out in a batch */
  unsigned epoch;             /* bumped when queued events are dropped */
  ras_feed *ready_next, *ready_prev;
  os_wakeup *wake;            /* made on the first pollfd; NULL before */
  chunk *reserve;             /* room for the last event, whatever happens */
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

/* ---------------------------------------------------------------------- */
/* a watcher's changes (feed.h)                                           */

ras_event ras_change(int change, uint64_t id, const char *entry, const char *phonebook,
                     double time) {
  size_t e = entry ? strlen(entry) : 0, p = phonebook ? strlen(phonebook) : 0;
  ras_event ev = { .state = change, .error = (int)(uint32_t)(id >> 32),
                   .extended_error = (int)(uint32_t)id, .time = time };
  ev.detail = malloc(e + p + 2);
  if (ev.detail) {
    memcpy(ev.detail, entry ? entry : "", e + 1);
    memcpy(ev.detail + e + 1, phonebook ? phonebook : "", p + 1);
  }
  return ev;
}

uint64_t ras_change_id(const ras_event *ev) {
  return (uint64_t)(uint32_t)ev->error << 32 | (uint32_t)ev->extended_error;
}

const char *ras_change_entry(const ras_event *ev) {
  return ev->detail ? ev->detail : "";
}

const char *ras_change_phonebook(const ras_event *ev) {
  return ev->detail ? ev->detail + strlen(ev->detail) + 1 : "";
}

/* ---------------------------------------------------------------------- */
/* hub                                                                    */

ras_hub *ras_hub_new(ras_error *err) {
  ras_hub *hub = calloc(1, sizeof *hub);
  if (hub) {
    hub->lock = os_mutex_new();
    hub->cond = os_cond_new();
  }
  if (!hub || !hub->lock || !hub->cond) {
    if (hub) {
      os_mutex_free(hub->lock);
      os_cond_free(hub->cond);
    }
    free(hub);
    ras_fail(err, RAS_ERROR_NOT_ENOUGH_MEMORY, "not enough memory for the event queue");
    return NULL;
  }
  hub->refs = 1;
  return hub;
}

void ras_hub_unref(ras_hub *hub) {
  int refs;
  os_mutex_lock(hub->lock);
  refs = --hub->refs;
  os_mutex_unlock(hub->lock);
  if (refs > 0) return;
  while (hub->nspare > 0) free(hub->spare[--hub->nspare]);
  os_wakeup_free(hub->wake);
  os_cond_free(hub->cond);
  os_mutex_free(hub->lock);
  free(hub);
}

/* Waits on the hub's condition until ready() or `seconds` have passed;
 * hub lock held. Loops over spurious wake-ups, never spins. */
static int wait_until(ras_hub *hub, int (*ready)(const void *), const void *what,
                      double seconds) {
  double until = seconds < 0 ? -1 : os_now() + seconds;
  while (!ready(what)) {
    double left = -1;
    if (until >= 0) {
      left = until - os_now();
      if (left <= 0) return 0;
    }
    os_cond_wait(hub->cond, hub->lock, left);
  }
  return 1;
}

static int hub_ready(const void *p) { return ((const ras_hub *)p)->pending > 0; }
static int feed_ready(const void *p) { return ((const ras_feed *)p)->count > 0; }

int ras_hub_wait(ras_hub *hub, double seconds) {
  int got;
  os_mutex_lock(hub->lock);
  got = wait_until(hub, hub_ready, hub, seconds);
  os_mutex_unlock(hub->lock);
  return got;
}

size_t ras_hub_pending(ras_hub *hub) {
  size_t n;
  os_mutex_lock(hub->lock);
  n = hub->pending;
  os_mutex_unlock(hub->lock);
  return n;
}

/* The wake-up descriptor of *slot, made in the state the queue is in
 * (signalled while *count > 0). */
static os_wakeup *wakeup_of(ras_hub *hub, os_wakeup **slot, const size_t *count,
                            ras_error *err) {
  os_wakeup *w;
  os_mutex_lock(hub->lock);
  if (!*slot) {
    *slot = os_wakeup_new(err);
    if (*slot && *count > 0) os_wakeup_signal(*slot);
  }
  w = *slot;
  os_mutex_unlock(hub->lock);
  return w;
}

int ras_hub_pollfd(ras_hub *hub, ras_error *err) {
  os_wakeup *w = wakeup_of(hub, &hub->wake, &hub->pending, err);
  return w ? os_wakeup_fd(w) : -1;
}

void *ras_hub_pollhandle(ras_hub *hub, ras_error *err) {
  os_wakeup *w = wakeup_of(hub, &hub->wake, &hub->pending, err);
  return w ? os_wakeup_handle(w) : NULL;
}

/* ready list: feeds that have events, in the order they became ready */

static void ready_append(ras_hub *hub, ras_feed *feed) {
  feed->ready_next = NULL;
  feed->ready_prev = hub->ready_tail;
  if (hub->ready_tail) hub->ready_tail->ready_next = feed;
  else hub->ready_head = feed;
  hub->ready_tail = feed;
  feed->in_ready = 1;
}

static void ready_remove(ras_hub *hub, ras_feed *feed) {
  if (!feed->in_ready) return;
  if (feed->ready_prev) feed->ready_prev->ready_next = feed->ready_next;
  else hub->ready_head = feed->ready_next;
  if (feed->ready_next) feed->ready_next->ready_prev = feed->ready_prev;
  else hub->ready_tail = feed->ready_prev;
  feed->ready_next = feed->ready_prev = NULL;
  feed->in_ready = 0;
}

/* Count bookkeeping for n events appearing in / leaving a feed; hub lock
 * held. The wake-ups follow the empty/non-empty transitions. */
static void count_in(ras_feed *feed, size_t n) {
  ras_hub *hub = feed->hub;
  if (feed->count == 0) {
    if (feed->wake) os_wakeup_signal(feed->wake);
    ready_append(hub, feed);
    os_cond_broadcast(hub->cond);
  }
  if (hub->pending == 0 && hub->wake) os_wakeup_signal(hub->wake);
  feed->count += n;
  hub->pending += n;
}

static void count_out(ras_feed *feed, size_t n) {
  ras_hub *hub = feed->hub;
  feed->count -= n;
  hub->pending -= n;
  if (feed->count == 0) {
    if (feed->wake) os_wakeup_clear(feed->wake);
    ready_remove(hub, feed);
  }
  if (hub->pending == 0 && hub->wake) os_wakeup_clear(hub->wake);
}

/* ---------------------------------------------------------------------- */
/* feed storage                                                           */

/* hub lock held */
static void free_chunk(ras_hub *hub, chunk *c) {
  if (!c || c->reserved) return;
  if (c->size == BIG_CHUNK && hub->nspare < SPARE_CHUNKS) hub->spare[hub->nspare++] = c;
  else free(c);
}

/* Frees the head chunk once everything in it is consumed and nothing of it
 * is lent; hub lock held. */
static void trim_head(ras_feed *feed) {
  while (feed->head && feed->lent == 0) {
    chunk *c = feed->head;
    if (feed->count == 0) {
      feed->head = feed->tail = NULL;
      feed->head_i = feed->tail_i = 0;
      free_chunk(feed->hub, c);
      return;
    }
    if (feed->head_i < c->size) return;
    feed->head = c->next;
    feed->head_i = 0;
    free_chunk(feed->hub, c);
  }
}

/* Drops every queued event; with keep_last, all but the last one. */
static void drop_events(ras_feed *feed, int keep_last) {
  size_t drop = feed->count - (keep_last && feed->count > 0);
  feed->lent = 0;
  feed->epoch++;
  for (size_t i = 0; i < drop; i++) {
    ras_event_free(&feed->head->ev[feed->head_i]);
    if (++feed->head_i == feed->head->size && feed->head != feed->tail) {
      chunk *c = feed->head;
      feed->head = c->next;
      feed->head_i = 0;
      free_chunk(feed->hub, c);
    }
  }
  if (drop > 0) count_out(feed, drop);
  trim_head(feed);
}

/* hub lock held */
static chunk *new_chunk(const ras_feed *feed) {
  unsigned size = feed->tail ? feed->tail->size * 2 : SMALL_CHUNK;
  ras_hub *hub = feed->hub;
  chunk *c;
  if (size > BIG_CHUNK) size = BIG_CHUNK;
  if (size == BIG_CHUNK && hub->nspare > 0) {
    c = hub->spare[--hub->nspare];
    c->next = NULL;
    return c;
  }
  c = malloc(sizeof *c + size * sizeof c->ev[0]);
  if (c) {
    c->next = NULL;
    c->size = size;
    c->reserved = 0;
  }
  return c;
}

/*
 * Appends under the hub lock; returns 0 (and frees ev's detail) if refused.
 * Out of memory, the feed ends with a Disconnected carrying error 8 in its
 * reserved room: a states() loop still sees its end.
 */
static int push_locked(ras_feed *feed, const ras_event *ev) {
  ras_event e = *ev;
  if (feed->ended || feed->orphaned) {
    ras_event_free(&e);
    return 0;
  }
  if (e.time == 0) e.time = os_now();
  if (!feed->tail || feed->tail_i == feed->tail->size) {
    chunk *c = new_chunk(feed);
    if (!c) {
      c = feed->reserve;
      if (e.state != RAS_Disconnected) {
        ras_event_free(&e);
        e = (ras_event){ .state = RAS_Disconnected, .time = e.time,
                         .error = RAS_ERROR_NOT_ENOUGH_MEMORY };
      }
    }
    if (feed->tail) feed->tail->next = c;
    else feed->head = c, feed->head_i = 0;
    feed->tail = c;
    feed->tail_i = 0;
  }
  feed->tail->ev[feed->tail_i++] = e;
  if (e.state == RAS_Disconnected) feed->ended = 1;
  if (e.state == RAS_Connected) feed->connected = 1;
  if (e.state & RAS_DONE) feed->terminal = 1;
  count_in(feed, 1);
  return 1;
}

/* ---------------------------------------------------------------------- */
/* feed                                                                   */

ras_feed *ras_feed_new(ras_hub *hub) {
  ras_feed *feed = calloc(1, sizeof *feed + sizeof(chunk) + sizeof(ras_event));
  if (!feed) return NULL;
  feed->reserve = (chunk *)(feed + 1);
  feed->reserve->size = 1;
  feed->reserve->reserved = 1;
  feed->refs = 1;
  feed->hub = hub;
  os_mutex_lock(hub->lock);
  hub->refs++;
  os_mutex_unlock(hub->lock);
  return feed;
}

void ras_feed_ref(ras_feed *feed) {
  os_mutex_lock(feed->hub->lock);
  feed->refs++;
  os_mutex_unlock(feed->hub->lock);
}

void ras_feed_unref(ras_feed *feed) {
  ras_hub *hub = feed->hub;
  int refs;
  os_mutex_lock(hub->lock);
  refs = --feed->refs;
  if (refs == 0) drop_events(feed, 0);
  os_mutex_unlock(hub->lock);
  if (refs > 0) return;
  os_wakeup_free(feed->wake);
  free(feed);
  ras_hub_unref(hub);
}

int ras_feed_push(ras_feed *feed, const ras_event *ev) {
  int queued;
  os_mutex_lock(feed->hub->lock);
  queued = push_locked(feed, ev);
  os_mutex_unlock(feed->hub->lock);
  return queued;
}

size_t ras_feed_push_many(ras_feed *feed, ras_event *evs, size_t n) {
  size_t queued = 0;
  os_mutex_lock(feed->hub->lock);
  for (size_t i = 0; i < n; i++) queued += (size_t)push_locked(feed, &evs[i]);
  os_mutex_unlock(feed->hub->lock);
  return queued;
}

int ras_feed_push_unless_terminal(ras_feed *feed, const ras_event *ev) {
  int queued = 0;
  os_mutex_lock(feed->hub->lock);
  if (!feed->terminal) queued = push_locked(feed, ev);
  else free(ev->detail);
  os_mutex_unlock(feed->hub->lock);
  return queued;
}

int ras_feed_finish(ras_feed *feed, const ras_event *ev) {
  int queued = 0;
  os_mutex_lock(feed->hub->lock);
  drop_events(feed, feed->ended);
  if (!feed->ended) queued = push_locked(feed, ev);
  else free(ev->detail);
  os_mutex_unlock(feed->hub->lock);
  return queued;
}

int ras_feed_reached_connected(ras_feed *feed) {
  int connected;
  os_mutex_lock(feed->hub->lock);
  connected = feed->connected;
  os_mutex_unlock(feed->hub->lock);
  return connected;
}

/* Copies up to max events from the head chunk (never across its end);
 * hub lock held, count > 0. */
static size_t take_locked(ras_feed *feed, ras_event *evs, size_t max) {
  chunk *c = feed->head;
  size_t end = c == feed->tail ? feed->tail_i : c->size;
  size_t n = end - feed->head_i;
  if (n > max) n = max;
  if (n > feed->count) n = feed->count;
  memcpy(evs, &c->ev[feed->head_i], n * sizeof *evs);
  feed->head_i += (unsigned)n;
  count_out(feed, n);
  return n;
}

int ras_feed_pop(ras_feed *feed, ras_event *ev) {
  int got = 0;
  os_mutex_lock(feed->hub->lock);
  trim_head(feed);
  if (feed->count > 0 && feed->lent == 0) {
    got = (int)take_locked(feed, ev, 1);
    trim_head(feed);
  }
  os_mutex_unlock(feed->hub->lock);
  return got;
}

size_t ras_hub_take(ras_hub *hub, ras_batch *b) {
  ras_feed *feed;
  os_mutex_lock(hub->lock);
  feed = hub->ready_head;
  b->feed = feed;
  b->n = b->next = 0;
  if (feed) {
    if (feed->lent) {       /* a batch never returned: it is the binding's */
      feed->lent = 0;
      feed->epoch++;
    }
    trim_head(feed);
    b->n = take_locked(feed, b->ev, RAS_BATCH);
    b->epoch = feed->epoch;
    feed->lent = b->n;
    feed->refs++;
    if (feed->in_ready && feed->ready_next) {  /* round robin */
      ready_remove(hub, feed);
      ready_append(hub, feed);
    }
  }
  os_mutex_unlock(hub->lock);
  return b->n;
}

size_t ras_feed_take(ras_feed *feed, ras_batch *b, size_t max) {
  ras_hub *hub = feed->hub;
  os_mutex_lock(hub->lock);
  b->feed = NULL;
  b->n = b->next = 0;
  if (feed->lent) {
    feed->lent = 0;
    feed->epoch++;
  }
  trim_head(feed);
  if (feed->count > 0) {
    b->feed = feed;
    b->n = take_locked(feed, b->ev, max < RAS_BATCH ? max : RAS_BATCH);
    b->epoch = feed->epoch;
    feed->lent = b->n;
    feed->refs++;
  }
  os_mutex_unlock(hub->lock);
  return b->n;
}

void ras_hub_return(ras_hub *hub, ras_batch *b) {
  ras_feed *feed = b->feed;
  size_t n = b->n - b->next;
  int restored = 0;
  if (!feed) return;
  os_mutex_lock(hub->lock);
  if (feed->epoch == b->epoch) {
    if (n > 0 && !feed->orphaned) {
      feed->head_i -= (unsigned)n;
      memcpy(&feed->head->ev[feed->head_i], &b->ev[b->next], n * sizeof b->ev[0]);
      count_in(feed, n);
      restored = 1;
    }
    feed->lent = 0;
    trim_head(feed);
  }
  os_mutex_unlock(hub->lock);
  if (!restored)
    for (size_t i = b->next; i < b->n; i++) ras_event_free(&b->ev[i]);
  b->feed = NULL;
  b->n = b->next = 0;
  ras_feed_unref(feed);
}

size_t ras_feed_backlog(ras_feed *feed) { return ras_feed_pending(feed); }

size_t ras_feed_pending(ras_feed *feed) {
  size_t n;
  os_mutex_lock(feed->hub->lock);
  n = feed->count;
  os_mutex_unlock(feed->hub->lock);
  return n;
}

int ras_feed_wait(ras_feed *feed, double seconds) {
  int got;
  os_mutex_lock(feed->hub->lock);
  got = wait_until(feed->hub, feed_ready, feed, seconds);
  os_mutex_unlock(feed->hub->lock);
  return got;
}

int ras_feed_pollfd(ras_feed *feed, ras_error *err) {
  os_wakeup *w = wakeup_of(feed->hub, &feed->wake, &feed->count, err);
  return w ? os_wakeup_fd(w) : -1;
}

void *ras_feed_pollhandle(ras_feed *feed, ras_error *err) {
  os_wakeup *w = wakeup_of(feed->hub, &feed->wake, &feed->count, err);
  return w ? os_wakeup_handle(w) : NULL;
}

void ras_feed_orphan(ras_feed *feed) {
  os_mutex_lock(feed->hub->lock);
  feed->orphaned = 1;
  drop_events(feed, 0);
  os_mutex_unlock(feed->hub->lock);
}

void ras_feed_set_owner(ras_feed *feed, void *owner) { feed->owner = owner; }
void *ras_feed_owner(ras_feed *feed) { return feed->owner; }
