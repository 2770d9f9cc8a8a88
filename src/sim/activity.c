/*
 * activity.c - other programs' connections: the `established` option (up
 * when we first look) and the `activity` option (their dials and hang-ups,
 * at times the thread plays). Everything an activity step needs is made
 * when the context opens, so nothing can fail when its time comes.
 */
#include <stdlib.h>

#include "internal.h"

/* Another program's dial comes up at once, Connected (its states are its
 * own business), and drops after the scenario's drop_after. */
static void play_dial(ras_call *c, double now) {
  c->phase = CONNECTED;
  c->state = RAS_Connected;
  c->projected = c->authenticated = 1;
  sim_set_due(c, c->sc->drop_after >= 0 ? now + c->sc->drop_after : -1);
  sim_bring_up(c, now);
}

/* Another program hangs up its connections to the entry: an object that
 * watches one hears Disconnected (no error), and the handle is invalid. */
static void play_hangup(sim *s, const scenario *sc, double now) {
  ras_call *c, *next;
  for (c = s->calls; c; c = next) {
    next = c->next;
    if (!c->foreign || c->sc != sc || c->phase != CONNECTED) continue;
    sim_bring_down(c, now);
    sim_emit(c, RAS_Disconnected, 0);
    sim_flush(s, c);
    c->phase = GONE;
    sim_set_due(c, -1);
    if (c->released) {
      sim_unlink_call(s, c);
      sim_free_call(c);
    }
    os_cond_broadcast(s->cond);
  }
}

void sim_play_activity(sim *s, double now) {
  while (s->next_activity < s->nactivity && s->activity[s->next_activity].due <= now) {
    activity_step *a = &s->activity[s->next_activity++];
    if (a->call) play_dial(a->call, now);
    else play_hangup(s, a->sc, now);
  }
}

/* Connections "dialled by another program": already up when we look. */
int sim_add_established(sim *s, const char *name, ras_error *err) {
  scenario *sc = sim_book_find(s->books[0], name);
  ras_call *c;
  if (!sc)
    return ras_fail(err, RAS_BAD_ARGUMENT, "bad option 'established' (no entry named '%.64s')",
                    name);
  c = sim_new_call(s, sc, s->books[0]);
  if (!c || sim_add_call(s, c) != 0) {
    if (c) sim_free_call(c);
    return ras_fail(err, RAS_ERROR_NOT_ENOUGH_MEMORY, "not enough memory");
  }
  c->phase = CONNECTED;
  sim_set_due(c, -1);
  c->state = RAS_Connected;
  c->projected = c->authenticated = c->released = c->foreign = c->up = 1;
  c->connected_at = os_now();
  return 0;
}

static int by_due(const void *a, const void *b) {
  const activity_step *x = a, *y = b;
  if (x->due != y->due) return x->due < y->due ? -1 : 1;
  return x->order < y->order ? -1 : x->order > y->order;
}

/* The activity steps, each with what it needs made now (a dial's
 * connection waits PENDING): nothing can fail when its time comes. */
int sim_add_activity(sim *s, const sim_config *cf, double opened, ras_error *err) {
  if (!cf->nactivity) return 0;
  if (!(s->activity = calloc(cf->nactivity, sizeof *s->activity)))
    return ras_fail(err, RAS_ERROR_NOT_ENOUGH_MEMORY, "not enough memory");
  for (size_t i = 0; i < cf->nactivity; i++) {
    const activity_config *a = &cf->activity[i];
    const char *name = a->dial ? a->dial : a->hangup;
    activity_step *step;
    scenario *sc = sim_book_find(s->books[0], name);
    if (!sc)
      return ras_fail(err, RAS_BAD_ARGUMENT,
                      "bad option 'activity[%lu].%s' (no entry named '%.64s')",
                      (unsigned long)(i + 1), a->dial ? "dial" : "hangup", name);
    if (a->at < 0) continue;             /* "forever": never happens */
    step = &s->activity[s->nactivity++];
    step->due = opened + a->at;
    step->order = i;
    if (a->hangup) {
      step->sc = sc;
      sc->refs++;
    } else if (!(step->call = sim_new_call(s, sc, s->books[0])) ||
               sim_add_call(s, step->call) != 0) {
      if (step->call) sim_free_call(step->call);
      step->call = NULL;
      s->nactivity--;
      return ras_fail(err, RAS_ERROR_NOT_ENOUGH_MEMORY, "not enough memory");
    } else {
      step->call->phase = PENDING;
      step->call->released = step->call->foreign = 1;
      step->call->due = -1;
    }
  }
  qsort(s->activity, s->nactivity, sizeof *s->activity, by_due);
  return 0;
}
