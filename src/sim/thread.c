/*
 * thread.c - the simulator's one background thread per context, started by
 * the first call that needs it. It sleeps on its timer heap until the next
 * thing is due, never polls, and plays each due connection's scenario a
 * step at a time: the states, the checkpoints (credentials, callback), the
 * failure, Connected, the drop. The thread holds the sim lock but while it
 * sleeps; every other function here is called with the lock held.
 */
#include <string.h>

#include "internal.h"

/* the states a checkpoint inserts before the scenario's next one */
static const unsigned char reauthenticate[] = { RAS_Authenticate };
static const unsigned char ask_callback[] = { RAS_AuthCallback };
static const unsigned char call_back[] = {
  RAS_PrepareForCallback, RAS_WaitForModemReset, RAS_WaitForCallback,
  RAS_CallbackComplete
};

#define INSERT(c, seq) \
  ((c)->extra = (seq), (c)->nextra = sizeof(seq), (c)->iextra = 0)

/* the timer heap (sim lock held): the thread finds what is due in
 * O(log n), so n simultaneous dials cost O(n log n), not O(n^2) */

static int sooner(const ras_call *a, const ras_call *b) {
  return a->due < b->due || (a->due == b->due && a->order < b->order);
}

static void heap_place(sim *s, size_t i, ras_call *c) {
  s->heap[i] = c;
  c->heap_i = i + 1;
}

static void sift_up(sim *s, size_t i) {
  ras_call *c = s->heap[i];
  while (i > 0 && sooner(c, s->heap[(i - 1) / 2])) {
    heap_place(s, i, s->heap[(i - 1) / 2]);
    i = (i - 1) / 2;
  }
  heap_place(s, i, c);
}

static void sift_down(sim *s, size_t i) {
  ras_call *c = s->heap[i];
  for (;;) {
    size_t child = 2 * i + 1;
    if (child >= s->nheap) break;
    if (child + 1 < s->nheap && sooner(s->heap[child + 1], s->heap[child])) child++;
    if (!sooner(s->heap[child], c)) break;
    heap_place(s, i, s->heap[child]);
    i = child;
  }
  heap_place(s, i, c);
}

void sim_heap_remove(sim *s, ras_call *c) {
  size_t i = c->heap_i - 1;
  ras_call *last;
  if (!c->heap_i) return;
  c->heap_i = 0;
  last = s->heap[--s->nheap];
  if (last == c) return;
  heap_place(s, i, last);
  sift_up(s, i);
  sift_down(s, last->heap_i - 1);
}

/* Room for every call is reserved by sim_add_call, so this cannot fail. */
void sim_set_due(ras_call *c, double due) {
  sim *s = c->sim;
  c->due = due;
  if (due < 0) {
    sim_heap_remove(s, c);
    return;
  }
  c->order = ++s->scheduled;
  if (!c->heap_i) {
    s->heap[s->nheap] = c;
    c->heap_i = ++s->nheap;
    sift_up(s, s->nheap - 1);
  } else {
    sift_up(s, c->heap_i - 1);
    sift_down(s, c->heap_i - 1);
  }
}

/* playing a scenario: each step emits into the batch, which the thread's
 * loop pushes to the call's feed under one lock */

/* Only the simulator thread emits; its loop flushes the batch. */
void sim_emit(ras_call *c, int state, int error) {
  sim *s = c->sim;
  ras_event ev = { .state = state, .error = error, .time = s->now };
  c->state = state;
  if (error) c->error = error;
  if (state == RAS_Projected || state == RAS_Connected) c->projected = 1;
  s->batch[s->nbatch++] = ev;
}

void sim_flush(sim *s, ras_call *c) {
  if (s->nbatch && c->feed) ras_feed_push_many(c->feed, s->batch, s->nbatch);
  s->nbatch = 0;
}

/* Another program's connection that ends is gone at once: nobody holds
 * its handle to hang it up. */
static int fail(ras_call *c, int error) {
  sim_emit(c, RAS_Disconnected, error);
  sim_bring_down(c, c->sim->now);
  c->phase = c->foreign ? GONE : ENDED;
  sim_set_due(c, -1);
  return 0;
}

/* Without paused_states, RAS reports a paused state as an error. */
static int pause_or_fail(ras_call *c, int paused_state, int error) {
  if (!c->paused_states) return fail(c, error);
  sim_emit(c, paused_state, 0);
  c->phase = PAUSED;
  sim_set_due(c, -1);
  return 0;
}

static int credentials_match(const ras_call *c) {
  const scenario *sc = c->sc;
  return (!sc->username || strcmp(sc->username, c->username ? c->username : "") == 0) &&
         (!sc->password || strcmp(sc->password, c->password ? c->password : "") == 0);
}

static int check_credentials(ras_call *c) {
  if (!credentials_match(c))
    return pause_or_fail(c, RAS_RetryAuthentication,
                         RAS_ERROR_AUTHENTICATION_FAILURE);
  if (c->sc->password_expired && !c->password_changed)
    return pause_or_fail(c, RAS_PasswordExpired, RAS_ERROR_PASSWD_EXPIRED);
  c->authenticated = 1;
  return 1;
}

static int check_callback(ras_call *c) {
  if (!c->sc->callback || c->called_back) return 1;
  if (!c->callback_number || c->callback_number[0] == '\0')
    return pause_or_fail(c, RAS_CallbackSetByCaller,
                         RAS_ERROR_INTERACTIVE_MODE);
  c->called_back = 1;
  INSERT(c, call_back);
  return 0;
}

/* The list is played out: the checkpoints it lacked, then Connected. */
static void finish_dial(ras_call *c, double now) {
  const scenario *sc = c->sc;
  if (!c->authenticated && !check_credentials(c)) return;
  if (sc->callback && !c->called_back) {
    INSERT(c, ask_callback);
    return;
  }
  sim_emit(c, RAS_Connected, 0);
  sim_free_secret(&c->password); /* no resume after Connected */
  c->phase = CONNECTED;
  sim_set_due(c, sc->drop_after >= 0 ? now + sc->drop_after : -1);
  sim_bring_up(c, now);
}

static void run_step(ras_call *c, double now) {
  const scenario *sc = c->sc;
  int state;
  if (c->iextra < c->nextra) state = c->extra[c->iextra++];
  else if (c->next_state < sc->nstates) state = sc->states[c->next_state++];
  else {
    finish_dial(c, now);
    return;
  }
  sim_emit(c, state, 0);
  sim_set_due(c, sc->step < 0 ? -1 : now + sc->step);
  if (state == sc->fail_at) fail(c, sc->fail_error);
  else if (state == RAS_Authenticate) check_credentials(c);
  else if (state == RAS_Authenticated && sc->callback && !c->called_back)
    INSERT(c, ask_callback);
  else if (state == RAS_AuthCallback) check_callback(c);
}

static void advance(sim *s, ras_call *c, double now) {
  switch (c->phase) {
  case RUNNING: run_step(c, now); break;
  case CONNECTED: fail(c, RAS_ERROR_REMOTE_DISCONNECTION); break;
  case TEARDOWN:
    c->phase = GONE;
    sim_set_due(c, -1);
    os_cond_broadcast(s->cond);
    break;
  default: sim_set_due(c, -1); break;
  }
}

/* A resume plays again the checkpoint the dial paused at: the callback
 * question when it lacked a number, else authentication. */
void sim_insert_resume(ras_call *c) {
  if (c->state == RAS_CallbackSetByCaller) INSERT(c, ask_callback);
  else INSERT(c, reauthenticate);
}

/* When the thread has something to do next: < 0 never. */
static double next_due(const sim *s) {
  double next = s->nheap > 0 ? s->heap[0]->due : -1;
  if (s->next_activity < s->nactivity) {
    double a = s->activity[s->next_activity].due;
    if (next < 0 || a < next) next = a;
  }
  return next;
}

/* A call whose feed holds this many undelivered events waits (a burst
 * need not sit in memory whole), and looks again this much later. */
#define BACKLOG 8192
#define BACKLOG_PAUSE 0.0002

/* Plays every due step, soonest first; a step-0 burst yields the lock every
 * batch so that the Lua thread's status and hangup calls are not starved,
 * and goes behind the other calls due at the same time. */
static void sim_thread(void *arg) {
  sim *s = arg;
  os_mutex_lock(s->lock);
  while (!s->stopping) {
    double now = s->now = os_now(), next;
    sim_play_activity(s, now);
    for (int turns = 0; turns < 64 && s->nheap > 0 && s->heap[0]->due <= now; turns++) {
      ras_call *c = s->heap[0];
      if (c->feed && ras_feed_backlog(c->feed) >= BACKLOG) {
        sim_set_due(c, now + BACKLOG_PAUSE);   /* let the Lua thread catch up */
        continue;
      }
      /* a step emits at most two events (a state, then its failure) */
      for (int batch = 0; batch < 31 && c->due >= 0 && c->due <= now; batch++)
        advance(s, c, now);
      sim_flush(s, c);
      if (c->phase == GONE && c->released) {
        sim_unlink_call(s, c);
        sim_free_call(c);
      } else if (c->due >= 0 && c->due <= now) {
        sim_set_due(c, c->due);   /* behind the others due now */
      }
    }
    next = next_due(s);
    s->sleeping = next < 0 || next > now;
    if (next < 0) os_cond_wait(s->cond, s->lock, -1);
    else if (next > now) os_cond_wait(s->cond, s->lock, next - now);
    s->sleeping = 0;
    if (next >= 0 && next <= now) {
      os_mutex_unlock(s->lock);
      os_mutex_lock(s->lock);
    }
  }
  os_mutex_unlock(s->lock);
}

/* sim lock held (or not yet shared) */
int sim_ensure_thread(sim *s, ras_error *err) {
  if (s->thread) return 0;
  s->thread = os_thread_start(sim_thread, s);
  if (!s->thread)
    return ras_fail(err, RAS_ERROR_NOT_ENOUGH_MEMORY,
                    "cannot start the simulator thread");
  return 0;
}
