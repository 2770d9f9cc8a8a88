/*
 * feed.h - the producer side of the event queue: what a backend sees.
 *
 * A feed is one connection's FIFO of events. A backend pushes onto it from
 * any thread; the binding pops (queue.h). Feeds are reference-counted
 * because a backend thread may still push after the Lua object that watched
 * the connection has been collected: the backend holds its own reference.
 *
 * A connection's events are never lost: when an event cannot be queued for
 * want of memory, the feed ends with one Disconnected carrying error 8,
 * from room reserved when the feed was made.
 */
#ifndef RAS_FEED_H
#define RAS_FEED_H

#include <stddef.h>
#include <stdint.h>

/* 32 bytes: a burst of a million events is 32 MB, so the small fields are
 * small. */
typedef struct ras_event {
  int state;           /* RASCONNSTATE value */
  short substate;      /* RASCONNSUBSTATE value (up to 0x2000); 0: none */
  short subentry;      /* 0 or 1: the only subentry; more with multilink */
  int error;           /* 0: none */
  int extended_error;  /* 0: none */
  double time;         /* os_now() when produced; 0: stamped by the push */
  char *detail;        /* malloc'd backend text (pppd's reason), or NULL */
} ras_event;

typedef struct ras_feed ras_feed;

void ras_feed_ref(ras_feed *feed);
void ras_feed_unref(ras_feed *feed);

/*
 * Appends a copy of *ev; the feed takes ownership of ev->detail whatever
 * happens. Events after a Disconnected, or once nobody will pop any more,
 * are discarded: a connection ends once. Returns 1 if the event was queued.
 */
int ras_feed_push(ras_feed *feed, const ras_event *ev);
/* Pushes n events under one lock; returns how many were queued. */
size_t ras_feed_push_many(ras_feed *feed, ras_event *evs, size_t n);

/* Events queued and not yet taken by the binding: a producer that can wait
 * (the simulator) holds back while this is high, so that a burst does not
 * pile up in memory. */
size_t ras_feed_backlog(ras_feed *feed);

void ras_event_free(ras_event *ev);

/*
 * A watcher's feed (backend.h: watch) carries changes, not states: .state
 * is RAS_CHANGE_CONNECTED or RAS_CHANGE_DISCONNECTED (never a terminal
 * state, so the feed never ends), .substate RAS_CHANGE_INITIAL for the
 * connections already up when watching began, the connection's id in
 * .error and .extended_error (ras_change_id), and .detail the entry name
 * and the phonebook, one after the other, each ending in NUL
 * (ras_change_detail; NULL when out of memory: the change still comes).
 */
enum { RAS_CHANGE_CONNECTED = 1, RAS_CHANGE_DISCONNECTED = 2 };
enum { RAS_CHANGE_INITIAL = 1 };

/* A change event; detail allocated here (NULL on failure). */
ras_event ras_change(int change, uint64_t id, const char *entry, const char *phonebook,
                     double time);
uint64_t ras_change_id(const ras_event *ev);
/* The entry name and phonebook of a change's detail ("" when absent). */
const char *ras_change_entry(const ras_event *ev);
const char *ras_change_phonebook(const ras_event *ev);

#endif
