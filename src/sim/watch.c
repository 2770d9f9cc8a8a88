/*
 * watch.c - ctx.watch on the simulator: the connections up now, then every
 * one that comes up or goes away. Changes are pushed under the sim lock
 * they are made under, as they happen, so none is missed or told twice.
 */
#include <stdlib.h>

#include "internal.h"

static void tell(ras_watch *w, const ras_call *c, int change, int initial, double time) {
  ras_event ev = ras_change(change, c->id, c->sc->name, c->book->name, time);
  if (initial) ev.substate = RAS_CHANGE_INITIAL;
  ras_feed_push(w->feed, &ev);
}

/* The call is Connected: the watchers hear of it, its clock starts. */
void sim_bring_up(ras_call *c, double now) {
  c->up = 1;
  c->connected_at = now;
  for (ras_watch *w = c->sim->watchers; w; w = w->next) tell(w, c, RAS_CHANGE_CONNECTED, 0, now);
}

/* The call stops being connected (dropped, hung up): once. */
void sim_bring_down(ras_call *c, double now) {
  if (!c->up) return;
  c->up = 0;
  c->ended_at = now;
  for (ras_watch *w = c->sim->watchers; w; w = w->next)
    tell(w, c, RAS_CHANGE_DISCONNECTED, 0, now);
}

/* The connections up now come first (oldest first), then every change:
 * pushed under the lock the changes are made under, so none is missed or
 * told twice. */
ras_watch *sim_watch(ras_instance *s, ras_feed *feed, ras_error *err) {
  ras_watch *w = calloc(1, sizeof *w);
  ras_call *c;
  double now = os_now();
  if (!w) {
    ras_fail(err, RAS_ERROR_NOT_ENOUGH_MEMORY, "not enough memory");
    return NULL;
  }
  w->sim = s;
  w->feed = feed;
  ras_feed_ref(feed);
  os_mutex_lock(s->lock);
  for (c = s->calls; c && c->next; c = c->next) {}
  for (; c; c = c->prev)
    if (c->up) tell(w, c, RAS_CHANGE_CONNECTED, 1, now);
  w->next = s->watchers;
  if (s->watchers) s->watchers->prev = w;
  s->watchers = w;
  os_mutex_unlock(s->lock);
  return w;
}

void sim_unwatch(ras_watch *w) {
  sim *s = w->sim;
  os_mutex_lock(s->lock);
  if (w->prev) w->prev->next = w->next;
  else s->watchers = w->next;
  if (w->next) w->next->prev = w->prev;
  os_mutex_unlock(s->lock);
  ras_feed_unref(w->feed);
  free(w);
}
