/*
 * queue.h - the consumer side of the event queue: what the binding sees.
 *
 * A hub is one context's shared state: a lock, the list of feeds that have
 * events pending, a condition variable the Lua thread waits on, and (made
 * only when a scheduler asks for one) a level-triggered wake-up descriptor
 * that is readable while that list is not empty. A feed (feed.h) is one
 * connection's FIFO; it too gets its own descriptor only on request.
 *
 * Only the Lua thread pops. Waits use the condition variable, so that a
 * process out of descriptors still waits without spinning.
 */
#ifndef RAS_QUEUE_H
#define RAS_QUEUE_H

#include "errors.h"
#include "feed.h"
#include "os.h"

typedef struct ras_hub ras_hub;

ras_hub *ras_hub_new(ras_error *err);
void ras_hub_unref(ras_hub *hub);
/* Waits up to `seconds` (< 0: forever) until some feed has an event. */
int ras_hub_wait(ras_hub *hub, double seconds);
/*
 * A batch: events of one feed taken under one lock. The binding delivers
 * ev[next] .. ev[n - 1] one by one and returns the batch when it stops, for
 * whatever reason; ras_hub_return puts what was not delivered back at the
 * front of the feed (nothing is lost, no allocation), unless the feed's
 * events were dropped meanwhile (a hang-up, an orphaned feed).
 */
#define RAS_BATCH 64
typedef struct ras_batch {
  ras_feed *feed;             /* NULL: empty */
  unsigned epoch;
  size_t n, next;
  ras_event ev[RAS_BATCH];
} ras_batch;

/* Takes the oldest events of the first feed with some (round robin over
 * the feeds); returns how many. The batch holds a reference on its feed. */
size_t ras_hub_take(ras_hub *hub, ras_batch *b);
/* The same for one feed: up to max of its own events. */
size_t ras_feed_take(ras_feed *feed, ras_batch *b, size_t max);
void ras_hub_return(ras_hub *hub, ras_batch *b);
/* Events pending in the whole hub. */
size_t ras_hub_pending(ras_hub *hub);
/* The pollable descriptor / Windows event; -1 / NULL with *err filled. */
int ras_hub_pollfd(ras_hub *hub, ras_error *err);
void *ras_hub_pollhandle(ras_hub *hub, ras_error *err);

/* A new feed holds one reference, for its creator; NULL when out of
 * memory. Its last event always has room (feed.h). */
ras_feed *ras_feed_new(ras_hub *hub);

int ras_feed_pop(ras_feed *feed, ras_event *ev);
size_t ras_feed_pending(ras_feed *feed);
/* Waits up to `seconds` (< 0: forever) for an event of this feed. */
int ras_feed_wait(ras_feed *feed, double seconds);
int ras_feed_pollfd(ras_feed *feed, ras_error *err);
void *ras_feed_pollhandle(ras_feed *feed, ras_error *err);
/* Whether Connected was ever pushed. */
int ras_feed_reached_connected(ras_feed *feed);
/* Like ras_feed_push, but only while no terminal state has been pushed. */
int ras_feed_push_unless_terminal(ras_feed *feed, const ras_event *ev);

/*
 * A hang-up was asked for: drops every queued event except a Disconnected
 * (which carries the connection's error), and queues *ev (a Disconnected)
 * unless one was pushed already. Returns 1 if *ev was queued.
 */
int ras_feed_finish(ras_feed *feed, const ras_event *ev);

/* Nobody will pop any more: drop what is queued and refuse what comes. */
void ras_feed_orphan(ras_feed *feed);

/* The binding's pointer for this feed (only the Lua thread uses it). */
void ras_feed_set_owner(ras_feed *feed, void *owner);
void *ras_feed_owner(ras_feed *feed);

#endif
