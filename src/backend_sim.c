/*
 * backend_sim.c - the simulator: dial scripts run against scenarios instead
 * of a server. One real background thread per context plays every
 * connection's scenario on a timer and pushes its notifications through the
 * same queue the real backends use, so the core is exercised for real.
 */
#include <stdlib.h>
#include <string.h>

#include "backend.h"
#include "idmap.h"

/* What a dial to one entry does; read-only once the context is open. */
typedef struct scenario {
  char *name;
  char *username, *password;      /* expected; NULL accepts anything */
  unsigned char *states;          /* running states reported before Connected */
  size_t nstates;
  double step;                    /* seconds between notifications; < 0: never */
  int fail_at, fail_error;        /* fail_at -1: never */
  int callback, password_expired;
  double drop_after;              /* < 0: the link never drops */
  double hangup_delay;            /* < 0: the teardown never ends */
  char device_type[RAS_MAX_DEVICE_TYPE + 1];
  char device_name[RAS_MAX_DEVICE_NAME + 1];
  char local_address[64], remote_address[64];
} scenario;

struct ras_instance {
  os_mutex *lock;
  os_cond *cond;                  /* timer changes, and calls that are gone */
  os_thread *thread;              /* started by the first call that needs it */
  int stopping;
  int sleeping;                   /* the thread waits: wake it for news */
  double now;                     /* the thread's clock for this pass: every
                                   * event it emits in one pass is stamped so */
  char *phonebook;
  scenario *scenarios;
  size_t nscenarios;
  scenario fallback;              /* for dials by number alone */
  struct ras_call *calls;         /* doubly linked */
  struct ras_call **heap;         /* calls with a timer, soonest first */
  size_t nheap, heap_size, ncalls;
  uint64_t scheduled;             /* orders timers that are due together */
  ras_idmap by_id;
  uint64_t next_id;
  ras_event batch[64];            /* one call's events, pushed under one lock */
  size_t nbatch;
};

typedef struct ras_instance sim;

enum phase { RUNNING, PAUSED, CONNECTED, ENDED, TEARDOWN, GONE };

struct ras_call {
  sim *sim;
  struct ras_call *next, *prev;
  uint64_t id;
  const scenario *sc;
  ras_feed *feed;                 /* NULL when nobody watches */
  enum phase phase;
  double due;                     /* next timed step; < 0: none */
  uint64_t order;                 /* ties of due: first scheduled first */
  size_t heap_i;                  /* its place in the timer heap + 1; 0: none */
  size_t next_state;
  const unsigned char *extra;     /* states inserted by a checkpoint */
  size_t nextra, iextra;
  int state, error;
  int paused_states, authenticated, password_changed, called_back, projected;
  int released;
  char *username, *password;      /* what the dial gave; NULL: nothing */
  char *callback_number;          /* (malloc'd: most dials give none) */
};

static const unsigned char default_states[] = {
  RAS_OpenPort, RAS_PortOpened, RAS_ConnectDevice, RAS_DeviceConnected,
  RAS_AllDevicesConnected, RAS_Authenticate, RAS_AuthNotify,
  RAS_Authenticated, RAS_AuthProject, RAS_Projected
};
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

static void heap_remove(sim *s, ras_call *c) {
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

/* Room for every call is reserved by add_call, so this cannot fail. */
static void set_due(ras_call *c, double due) {
  sim *s = c->sim;
  c->due = due;
  if (due < 0) {
    heap_remove(s, c);
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

/* the texts a dial or resume gives (secrets wiped before they are freed) */

static void free_secret(char **text) {
  if (*text) os_wipe(*text, strlen(*text));
  free(*text);
  *text = NULL;
}

/* *copy = a copy of src (NULL when src is); -1 when out of memory. */
static int copy_param(char **copy, const char *src) {
  size_t size;
  *copy = NULL;
  if (!src) return 0;
  size = strlen(src) + 1;
  if (!(*copy = malloc(size))) return -1;
  memcpy(*copy, src, size);
  return 0;
}

/* The texts a dial or a resume gives the call, copied before its lock. */
typedef struct given {
  char *user, *password, *number;
} given;

static void free_given(given *g) {
  free_secret(&g->user);
  free_secret(&g->password);
  free_secret(&g->number);
}

/* 0, or -1 (nothing kept) when out of memory. */
static int copy_given(given *g, const char *user, const char *password, const char *number) {
  if ((copy_param(&g->user, user) | copy_param(&g->password, password) |
       copy_param(&g->number, number)) == 0)
    return 0;
  free_given(g);
  return -1;
}

/* Replaces *slot with the copy when there is one (given at all). */
static void replace_text(char **slot, char *copy) {
  if (!copy) return;
  free_secret(slot);
  *slot = copy;
}

/* playing a scenario (sim lock held) */

/* Only the simulator thread emits; its loop flushes the batch. */
static void emit(ras_call *c, int state, int error) {
  sim *s = c->sim;
  ras_event ev = { .state = state, .error = error, .time = s->now };
  c->state = state;
  if (error) c->error = error;
  if (state == RAS_Projected || state == RAS_Connected) c->projected = 1;
  s->batch[s->nbatch++] = ev;
}

static void flush(sim *s, ras_call *c) {
  if (s->nbatch && c->feed) ras_feed_push_many(c->feed, s->batch, s->nbatch);
  s->nbatch = 0;
}

static int fail(ras_call *c, int error) {
  emit(c, RAS_Disconnected, error);
  c->phase = ENDED;
  set_due(c, -1);
  return 0;
}

/* Without paused_states, RAS reports a paused state as an error. */
static int pause_or_fail(ras_call *c, int paused_state, int error) {
  if (!c->paused_states) return fail(c, error);
  emit(c, paused_state, 0);
  c->phase = PAUSED;
  set_due(c, -1);
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
  emit(c, RAS_Connected, 0);
  free_secret(&c->password);     /* no resume after Connected */
  c->phase = CONNECTED;
  set_due(c, sc->drop_after >= 0 ? now + sc->drop_after : -1);
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
  emit(c, state, 0);
  set_due(c, sc->step < 0 ? -1 : now + sc->step);
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
    set_due(c, -1);
    os_cond_broadcast(s->cond);
    break;
  default: set_due(c, -1); break;
  }
}

/* The call list (sim lock held): doubly linked and indexed by id, so that
 * attach and release cost O(1) however many calls there are. */
static int add_call(sim *s, ras_call *c) {
  if (s->ncalls == s->heap_size) {
    size_t size = s->heap_size ? 2 * s->heap_size : 16;
    ras_call **heap = realloc(s->heap, size * sizeof *heap);
    if (!heap) return -1;
    s->heap = heap;
    s->heap_size = size;
  }
  if (ras_idmap_put(&s->by_id, c->id, c) != 0) return -1;
  s->ncalls++;
  c->prev = NULL;
  c->next = s->calls;
  if (s->calls) s->calls->prev = c;
  s->calls = c;
  return 0;
}

static void unlink_call(sim *s, ras_call *c) {
  heap_remove(s, c);
  s->ncalls--;
  if (c->prev) c->prev->next = c->next;
  else s->calls = c->next;
  if (c->next) c->next->prev = c->prev;
  ras_idmap_remove(&s->by_id, c->id);
}

static void free_call(ras_call *c) {
  free_secret(&c->username);
  free_secret(&c->password);
  free_secret(&c->callback_number);
  os_wipe(c, sizeof *c);
  free(c);
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
    for (int turns = 0; turns < 64 && s->nheap > 0 && s->heap[0]->due <= now; turns++) {
      ras_call *c = s->heap[0];
      if (c->feed && ras_feed_backlog(c->feed) >= BACKLOG) {
        set_due(c, now + BACKLOG_PAUSE);   /* let the Lua thread catch up */
        continue;
      }
      /* a step emits at most two events (a state, then its failure) */
      for (int batch = 0; batch < 31 && c->due >= 0 && c->due <= now; batch++)
        advance(s, c, now);
      flush(s, c);
      if (c->phase == GONE && c->released) {
        unlink_call(s, c);
        free_call(c);
      } else if (c->due >= 0 && c->due <= now) {
        set_due(c, c->due);   /* behind the others due now */
      }
    }
    next = s->nheap > 0 ? s->heap[0]->due : -1;
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

/* sim lock held */
static int ensure_thread(sim *s, ras_error *err) {
  if (s->thread) return 0;
  s->thread = os_thread_start(sim_thread, s);
  if (!s->thread)
    return ras_fail(err, RAS_ERROR_NOT_ENOUGH_MEMORY,
                    "cannot start the simulator thread");
  return 0;
}

/* backend interface */

static const scenario *find_scenario(sim *s, const char *entry) {
  size_t lo = 0, hi = s->nscenarios;   /* sorted by name */
  while (lo < hi) {
    size_t mid = lo + (hi - lo) / 2;
    int cmp = strcmp(s->scenarios[mid].name, entry);
    if (cmp == 0) return &s->scenarios[mid];
    if (cmp < 0) lo = mid + 1;
    else hi = mid;
  }
  return NULL;
}

/* Copies src (when given), cut to fit: the binding has checked lengths. */
static void copy_text(char *dst, size_t size, const char *src) {
  size_t len;
  if (!src) return;
  len = strlen(src);
  if (len >= size) len = size - 1;
  memcpy(dst, src, len);
  dst[len] = '\0';
}

static ras_call *new_call(sim *s, const scenario *sc) {
  ras_call *c = calloc(1, sizeof *c);
  if (!c) return NULL;
  c->sim = s;
  c->sc = sc;
  c->id = ++s->next_id;
  return c;
}

static int sim_dial(ras_instance *s, ras_feed *feed, const ras_dial_params *p,
                    ras_call **out, uint64_t *id, ras_error *err) {
  const scenario *sc = p->entry ? find_scenario(s, p->entry) : &s->fallback;
  given g;
  ras_call *c;
  if (!sc || (p->phonebook && strcmp(p->phonebook, s->phonebook) != 0))
    return ras_fail(err, RAS_ERROR_CANNOT_FIND_PHONEBOOK_ENTRY,
                    "no entry '%s' in the simulator's phonebook '%s'",
                    p->entry ? p->entry : "", s->phonebook);
  if (copy_given(&g, p->username, p->password, p->callback_number) != 0)
    return ras_fail(err, RAS_ERROR_NOT_ENOUGH_MEMORY, "not enough memory");
  os_mutex_lock(s->lock);
  c = new_call(s, sc);
  if (c) {
    c->username = g.user;         /* the call owns them from here */
    c->password = g.password;
    c->callback_number = g.number;
  }
  if (!c || ensure_thread(s, err) != 0 || add_call(s, c) != 0) {
    os_mutex_unlock(s->lock);
    if (c) free_call(c);
    else free_given(&g);
    if (!c || s->thread) ras_fail(err, RAS_ERROR_NOT_ENOUGH_MEMORY, "not enough memory");
    return err->code;
  }
  c->paused_states = p->paused_states;
  c->phase = RUNNING;
  set_due(c, os_now());
  ras_feed_ref(feed);
  c->feed = feed;
  *id = c->id;
  if (s->sleeping) os_cond_broadcast(s->cond);  /* news for the thread */
  os_mutex_unlock(s->lock);
  *out = c;
  return 0;
}

static ras_call *sim_attach(ras_instance *s, ras_feed *feed, uint64_t id,
                            ras_error *err) {
  ras_call *c;
  os_mutex_lock(s->lock);
  c = ras_idmap_get(&s->by_id, id);
  if (c && c->phase != GONE && !c->feed) {
    ras_feed_ref(feed);
    c->feed = feed;
    c->released = 0;
  } else {
    ras_fail(err, RAS_ERROR_INVALID_HANDLE, "the connection no longer exists");
    c = NULL;
  }
  os_mutex_unlock(s->lock);
  return c;
}

static int sim_resume(ras_call *c, const ras_resume_params *p, ras_error *err) {
  sim *s = c->sim;
  given g;
  int rc = 0;
  if (copy_given(&g, p->username, p->password, p->callback_number) != 0)
    return ras_fail(err, RAS_ERROR_NOT_ENOUGH_MEMORY, "not enough memory");
  os_mutex_lock(s->lock);
  if (c->phase != PAUSED) {
    rc = ras_fail(err, RAS_ERROR_INVALID_PARAMETER,
                  "the connection is not in a paused state (%s)",
                  ras_state_name(c->state));
    free_given(&g);
  } else {
    replace_text(&c->username, g.user);
    replace_text(&c->password, g.password);
    replace_text(&c->callback_number, g.number);
    if (p->new_password) c->password_changed = 1;
    if (c->state == RAS_CallbackSetByCaller) INSERT(c, ask_callback);
    else INSERT(c, reauthenticate);
    c->phase = RUNNING;
    set_due(c, c->sc->step < 0 ? -1 : os_now() + c->sc->step);
    if (s->sleeping) os_cond_broadcast(s->cond);  /* news for the thread */
  }
  os_mutex_unlock(s->lock);
  return rc;
}

static int sim_hangup(ras_call *c, ras_error *err) {
  sim *s = c->sim;
  double delay = c->sc->hangup_delay;
  os_mutex_lock(s->lock);
  if (c->phase != TEARDOWN && c->phase != GONE) {
    c->state = RAS_Disconnected;
    if (delay != 0 && ensure_thread(s, err) == 0) {
      c->phase = TEARDOWN;
      set_due(c, delay < 0 ? -1 : os_now() + delay);
    } else {
      c->phase = GONE;
      set_due(c, -1);
    }
    if (s->sleeping) os_cond_broadcast(s->cond);  /* news for the thread */
  }
  os_mutex_unlock(s->lock);
  return 0;
}

static int sim_status(ras_call *c, ras_status *st) {
  sim *s = c->sim;
  const scenario *sc = c->sc;
  int rc = 0;
  os_mutex_lock(s->lock);
  if (c->phase == GONE) rc = RAS_ERROR_INVALID_HANDLE;
  else {
    st->state = c->state;
    st->error = c->error;
    copy_text(st->device_type, sizeof st->device_type, sc->device_type);
    copy_text(st->device_name, sizeof st->device_name, sc->device_name);
    if (c->projected) {
      copy_text(st->local_address, sizeof st->local_address, sc->local_address);
      copy_text(st->remote_address, sizeof st->remote_address, sc->remote_address);
    }
  }
  os_mutex_unlock(s->lock);
  return rc;
}

static void sim_wait(ras_call *c, double seconds) {
  sim *s = c->sim;
  os_mutex_lock(s->lock);
  if (c->phase != GONE) os_cond_wait(s->cond, s->lock, seconds);
  os_mutex_unlock(s->lock);
}

static void sim_release(ras_call *c) {
  sim *s = c->sim;
  ras_feed *feed;
  os_mutex_lock(s->lock);
  feed = c->feed;
  c->feed = NULL;
  c->released = 1;
  if (c->phase == GONE) {
    unlink_call(s, c);
    free_call(c);
  }
  os_mutex_unlock(s->lock);
  if (feed) ras_feed_unref(feed);
}

static const size_t conn_texts[] = RAS_CONN_TEXTS, entry_texts[] = RAS_ENTRY_TEXTS;

static ras_conn_info *sim_connections(ras_instance *s, size_t *n, ras_error *err) {
  ras_list l = { .item_size = sizeof(ras_conn_info) };
  ras_conn_info *list;
  os_mutex_lock(s->lock);
  ras_list_reserve(&l, s->ncalls, s->ncalls * 16);
  for (ras_call *c = s->calls; c; c = c->next) {
    ras_conn_info *info;
    if (c->phase == GONE || !(info = ras_list_add(&l))) continue;
    info->id = c->id;
    ras_list_text(&l, info, offsetof(ras_conn_info, entry), c->sc->name);
    ras_list_text(&l, info, offsetof(ras_conn_info, phonebook), s->phonebook);
  }
  os_mutex_unlock(s->lock);
  list = ras_list_finish(&l, conn_texts, 2, n);
  if (!list) ras_fail(err, RAS_ERROR_NOT_ENOUGH_MEMORY, "not enough memory");
  return list;
}

static ras_entry_info *sim_entries(ras_instance *s, const char *phonebook, size_t *n,
                                   ras_error *err) {
  ras_list l = { .item_size = sizeof(ras_entry_info) };
  ras_entry_info *list;
  if (!phonebook || strcmp(phonebook, s->phonebook) == 0)
    for (size_t i = 0; i < s->nscenarios; i++) {
      ras_entry_info *info = ras_list_add(&l);
      if (!info) break;
      ras_list_text(&l, info, offsetof(ras_entry_info, name), s->scenarios[i].name);
      ras_list_text(&l, info, offsetof(ras_entry_info, phonebook), s->phonebook);
    }
  list = ras_list_finish(&l, entry_texts, 2, n);
  if (!list) ras_fail(err, RAS_ERROR_NOT_ENOUGH_MEMORY, "not enough memory");
  return list;
}

static void free_scenario(scenario *sc) {
  free(sc->name);
  free(sc->username);
  if (sc->password) os_wipe(sc->password, strlen(sc->password));
  free(sc->password);
  if (sc->states != default_states) free(sc->states);
}

static void free_sim(sim *s) {
  while (s->calls) {
    ras_call *c = s->calls;
    s->calls = c->next;
    if (c->feed) ras_feed_unref(c->feed);
    free_call(c);
  }
  for (size_t i = 0; i < s->nscenarios; i++) free_scenario(&s->scenarios[i]);
  free(s->scenarios);
  free(s->phonebook);
  ras_idmap_free(&s->by_id);
  free(s->heap);
  os_cond_free(s->cond);
  os_mutex_free(s->lock);
  free(s);
}

static void sim_close(ras_instance *s) {
  os_mutex_lock(s->lock);
  s->stopping = 1;
  os_cond_broadcast(s->cond);
  os_mutex_unlock(s->lock);
  if (s->thread) os_thread_join(s->thread);
  free_sim(s);
}

/* ---------------------------------------------------------------------- */
/* options: the schema the binding reads ras.open's table by              */

typedef struct fail_config {
  int at;
  long long error;
} fail_config;

typedef struct scenario_config {
  const char *name;
  const char *username, *password;
  int *states;
  size_t nstates;
  int has_states, has_fail;
  double step, drop_after, hangup_delay;
  fail_config fail;
  int callback, password_expired;
  const char *device_type, *device_name, *local_address, *remote_address;
} scenario_config;

typedef struct sim_config {
  const char *phonebook;
  scenario_config *entries;
  size_t nentries;
  const char **established;
  size_t nestablished;
} sim_config;

static const ras_field fail_fields[] = {
  { .name = "at", .kind = RAS_STATE, .offset = offsetof(fail_config, at),
    .flags = RAS_REQUIRED | RAS_RUNNING_ONLY },
  { .name = "error", .kind = RAS_INTEGER, .offset = offsetof(fail_config, error),
    .min = 1, .max = 0x7fffffff, .flags = RAS_REQUIRED },
  { .name = NULL }
};

static const ras_record fail_record = { .size = sizeof(fail_config), .fields = fail_fields };

#define SC(field) offsetof(scenario_config, field)
#define SC_TEXT(field, most) { .name = #field, .kind = RAS_STRING, .offset = SC(field), .max = (most) }

static const ras_field scenario_fields[] = {
  SC_TEXT(username, RAS_MAX_USER), SC_TEXT(password, RAS_MAX_PASSWORD),
  { .name = "states", .kind = RAS_STATES, .offset = SC(states), .count = SC(nstates),
    .present = SC(has_states), .limit = 1 << 24, .flags = RAS_RUNNING_ONLY },
  { .name = "step", .kind = RAS_SECONDS, .offset = SC(step) },
  { .name = "fail", .kind = RAS_RECORD, .offset = SC(fail), .present = SC(has_fail),
    .record = &fail_record },
  { .name = "callback", .kind = RAS_BOOLEAN, .offset = SC(callback) },
  { .name = "password_expired", .kind = RAS_BOOLEAN, .offset = SC(password_expired) },
  { .name = "drop_after", .kind = RAS_SECONDS, .offset = SC(drop_after) },
  { .name = "hangup_delay", .kind = RAS_SECONDS, .offset = SC(hangup_delay) },
  SC_TEXT(device_type, RAS_MAX_DEVICE_TYPE), SC_TEXT(device_name, RAS_MAX_DEVICE_NAME),
  SC_TEXT(local_address, 63), SC_TEXT(remote_address, 63),
  { .name = NULL }
};

static void scenario_init(void *rec) {
  scenario_config *sc = rec;
  sc->step = 0.01;
  sc->drop_after = RAS_FOREVER;
  sc->fail.at = -1;
}

/* fail.at must be a state the dial reports, or it never fires. */
static const char *scenario_check(const void *rec, const char **field) {
  const scenario_config *sc = rec;
  const unsigned char *list = default_states;
  size_t n = sizeof default_states;
  if (!sc->has_fail) return NULL;
  *field = "fail.at";
  if (sc->has_states) {
    for (size_t i = 0; i < sc->nstates; i++)
      if (sc->states[i] == sc->fail.at) return NULL;
    return "not one of the scenario's states";
  }
  for (size_t i = 0; i < n; i++)
    if (list[i] == sc->fail.at) return NULL;
  return "not one of the scenario's states (the default list)";
}

static const ras_record scenario_record = {
  .size = sizeof(scenario_config), .fields = scenario_fields,
  .key = SC(name), .key_max = RAS_MAX_ENTRY,
  .init = scenario_init, .check = scenario_check
};

static const ras_field sim_fields[] = {
  { .name = "phonebook", .kind = RAS_STRING, .offset = offsetof(sim_config, phonebook),
    .max = RAS_MAX_PATH },
  { .name = "entries", .kind = RAS_RECORDS, .offset = offsetof(sim_config, entries),
    .count = offsetof(sim_config, nentries), .limit = 1 << 20, .record = &scenario_record },
  { .name = "established", .kind = RAS_STRINGS, .offset = offsetof(sim_config, established),
    .count = offsetof(sim_config, nestablished), .limit = 1 << 20, .max = RAS_MAX_ENTRY },
  { .name = NULL }
};

static const ras_record sim_record = { .size = sizeof(sim_config), .fields = sim_fields };

/* ---------------------------------------------------------------------- */
/* opening: copies of the config, every allocation checked                */

static void set_defaults(scenario *sc) {
  sc->states = (unsigned char *)default_states;
  sc->nstates = sizeof default_states;
  sc->step = 0.01;
  sc->fail_at = -1;
  sc->drop_after = -1;
  strcpy(sc->device_type, "modem");
  strcpy(sc->device_name, "Simulated Modem");
}

static char *dup_text(const char *s, int *ok) {
  size_t size;
  char *copy;
  if (!s) return NULL;
  size = strlen(s) + 1;
  copy = malloc(size);
  if (copy) memcpy(copy, s, size);
  else *ok = 0;
  return copy;
}

static int copy_scenario(scenario *sc, const scenario_config *cf) {
  int ok = 1;
  set_defaults(sc);
  sc->name = dup_text(cf->name, &ok);
  sc->username = dup_text(cf->username, &ok);
  sc->password = dup_text(cf->password, &ok);
  if (cf->has_states) {
    sc->states = malloc(cf->nstates ? cf->nstates : 1);
    if (!sc->states) return 0;
    for (size_t i = 0; i < cf->nstates; i++) sc->states[i] = (unsigned char)cf->states[i];
    sc->nstates = cf->nstates;
  }
  sc->step = cf->step;
  if (cf->has_fail) {
    sc->fail_at = cf->fail.at;
    sc->fail_error = (int)cf->fail.error;
  }
  sc->callback = cf->callback;
  sc->password_expired = cf->password_expired;
  sc->drop_after = cf->drop_after;
  sc->hangup_delay = cf->hangup_delay;
  copy_text(sc->device_type, sizeof sc->device_type, cf->device_type);
  copy_text(sc->device_name, sizeof sc->device_name, cf->device_name);
  copy_text(sc->local_address, sizeof sc->local_address, cf->local_address);
  copy_text(sc->remote_address, sizeof sc->remote_address, cf->remote_address);
  return ok;
}

static int by_name(const void *a, const void *b) {
  return strcmp(((const scenario *)a)->name, ((const scenario *)b)->name);
}

/* Connections "dialled by another program": already up when we look. */
static int add_established(sim *s, const char *name, ras_error *err) {
  const scenario *sc = find_scenario(s, name);
  ras_call *c;
  if (!sc)
    return ras_fail(err, RAS_BAD_ARGUMENT, "bad option 'established' (no entry named '%.64s')", name);
  c = new_call(s, sc);
  if (!c || add_call(s, c) != 0) {
    free(c);
    return ras_fail(err, RAS_ERROR_NOT_ENOUGH_MEMORY, "not enough memory");
  }
  c->phase = CONNECTED;
  set_due(c, -1);
  c->state = RAS_Connected;
  c->projected = c->authenticated = c->released = 1;
  return 0;
}

static ras_instance *sim_open(const void *config, ras_error *err) {
  const sim_config *cf = config;
  sim *s = calloc(1, sizeof *s);
  int ok = 1;
  if (!s) goto out_of_memory;
  s->lock = os_mutex_new();
  s->cond = os_cond_new();
  s->phonebook = dup_text(cf->phonebook ? cf->phonebook : "sim", &ok);
  s->scenarios = calloc(cf->nentries + 1, sizeof *s->scenarios);
  if (!s->lock || !s->cond || !ok || !s->scenarios) goto out_of_memory;
  set_defaults(&s->fallback);
  s->fallback.name = "";
  for (size_t i = 0; i < cf->nentries; i++) {
    s->nscenarios++;
    if (!copy_scenario(&s->scenarios[i], &cf->entries[i])) goto out_of_memory;
  }
  if (s->nscenarios) qsort(s->scenarios, s->nscenarios, sizeof *s->scenarios, by_name);
  for (size_t i = 0; i < cf->nestablished; i++)
    if (add_established(s, cf->established[i], err) != 0) {
      free_sim(s);
      return NULL;
    }
  return s;
out_of_memory:
  if (s) free_sim(s);
  ras_fail(err, RAS_ERROR_NOT_ENOUGH_MEMORY, "not enough memory for the simulator");
  return NULL;
}

const ras_backend ras_backend_sim = {
  .name = "sim",
  .options = &sim_record,
  .open = sim_open,
  .close = sim_close,
  .dial = sim_dial,
  .attach = sim_attach,
  .resume = sim_resume,
  .hangup = sim_hangup,
  .status = sim_status,
  .wait = sim_wait,
  .release = sim_release,
  .connections = sim_connections,
  .entries = sim_entries,
};
