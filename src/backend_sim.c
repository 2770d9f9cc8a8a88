/*
 * backend_sim.c - the simulator: dial scripts run against scenarios instead
 * of a server. One real background thread per context plays every
 * connection's scenario on a timer and pushes its notifications through the
 * same queue the real backends use, so the core is exercised for real.
 *
 * Phone books live in memory: the `entries` option seeds the default one,
 * create_entry adds entries (with the default scenario) to any. The same
 * thread plays the `activity` option (other programs' dials and hang-ups)
 * and tells watchers of every connection that comes up or goes away; it
 * sleeps on its timer heap until the next thing is due, never polls.
 */
#include <stdlib.h>
#include <string.h>

#include "backend.h"
#include "idmap.h"

/*
 * What a dial to one entry does, and the entry itself. Its behaviour is
 * fixed when it is made; its name, properties and saved credentials
 * change under the sim lock. Shared by its phone book and every call
 * that dialled it (refs), so that deleting an entry leaves its calls be.
 */
typedef struct scenario {
  unsigned refs;
  char *name;
  char *username, *password;      /* expected; NULL accepts anything */
  unsigned char *states;          /* running states reported before Connected */
  size_t nstates;
  double step;                    /* seconds between notifications; < 0: never */
  int fail_at, fail_error;        /* fail_at -1: never */
  int callback, password_expired;
  double drop_after;              /* < 0: the link never drops */
  double hangup_delay;            /* < 0: the teardown never ends */
  long long speed;                /* bit/s; < 0: unknown */
  double sent_rate, received_rate, error_rate;   /* per second once Connected */
  double frame_size;              /* bytes a frame; 0: no frames counted */
  ras_projection *projection;     /* NULL: from the addresses alone */
  char device_type[RAS_MAX_DEVICE_TYPE + 1];
  char device_name[RAS_MAX_DEVICE_NAME + 1];
  char local_address[64], remote_address[64];
  ras_entry props;                /* its texts are the scenario's; no name */
  char *saved_user, *saved_domain, *saved_password, *saved_psk;
} scenario;

typedef struct sim_book {
  char *name;
  scenario **entries;             /* sorted by name */
  size_t n, cap;
} sim_book;

/* One step of the activity option, at its time (os_now() clock). */
typedef struct activity_step {
  double due;
  size_t order;                   /* the option's order, for equal times */
  scenario *sc;                   /* hangup: the entry hung up (a reference) */
  struct ras_call *call;          /* dial: the connection it brings up */
} activity_step;

struct ras_watch {
  struct ras_instance *sim;
  ras_feed *feed;
  struct ras_watch *next, *prev;
};

struct ras_instance {
  os_mutex *lock;
  os_cond *cond;                  /* timer changes, and calls that are gone */
  os_thread *thread;              /* started by the first call that needs it */
  int stopping;
  int sleeping;                   /* the thread waits: wake it for news */
  double now;                     /* the thread's clock for this pass: every
                                   * event it emits in one pass is stamped so */
  sim_book **books;              /* [0]: the default one; never freed early */
  size_t nbooks;
  scenario fallback;              /* for dials by number alone */
  struct ras_call *calls;         /* doubly linked */
  struct ras_call **heap;         /* calls with a timer, soonest first */
  size_t nheap, heap_size, ncalls;
  uint64_t scheduled;             /* orders timers that are due together */
  ras_idmap by_id;
  uint64_t next_id;
  activity_step *activity;        /* sorted by due */
  size_t nactivity, next_activity;
  ras_device_info *devices;       /* the devices option (texts malloc'd) */
  size_t ndevices;
  struct ras_watch *watchers;
  ras_event batch[64];            /* one call's events, pushed under one lock */
  size_t nbatch;
};

typedef struct ras_instance sim;

/* PENDING: an activity dial whose time has not come (nobody sees it). */
enum phase { PENDING, RUNNING, PAUSED, CONNECTED, ENDED, TEARDOWN, GONE };

struct ras_call {
  sim *sim;
  struct ras_call *next, *prev;
  uint64_t id;
  scenario *sc;                   /* a reference */
  const sim_book *book;
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
  int foreign;                    /* "another program's": established, activity */
  int up;                         /* watchers were told it is connected */
  double connected_at, ended_at;  /* < 0: not yet */
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

/* texts: copies, and secrets wiped before they are freed */

static void free_secret(char **text) {
  if (*text) os_wipe(*text, strlen(*text));
  free(*text);
  *text = NULL;
}

/* A copy of s (NULL when s is); NULL and *ok = 0 when out of memory. */
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

/* Copies src (when given), cut to fit: the binding has checked lengths. */
static void copy_text(char *dst, size_t size, const char *src) {
  size_t len;
  if (!src) return;
  len = strlen(src);
  if (len >= size) len = size - 1;
  memcpy(dst, src, len);
  dst[len] = '\0';
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
  int ok = 1;
  g->user = dup_text(user, &ok);
  g->password = dup_text(password, &ok);
  g->number = dup_text(number, &ok);
  if (ok) return 0;
  free_given(g);
  return -1;
}

/* Replaces *slot with the copy when there is one (given at all). */
static void replace_text(char **slot, char *copy) {
  if (!copy) return;
  free_secret(slot);
  *slot = copy;
}

/* ---------------------------------------------------------------------- */
/* scenarios and phone books (sim lock held, or not yet shared)           */

static void free_texts(const char **texts, size_t n) {
  for (size_t i = 0; texts && i < n; i++) free((char *)texts[i]);
  free((void *)texts);
}

static void free_props(ras_entry *e) {
  free((char *)e->device);
  free((char *)e->number);
  free((char *)e->username);
  free_texts(e->dns, e->ndns);
  free_texts(e->pppd_options, e->npppd_options);
  memset(e, 0, sizeof *e);
}

/* Copies of n texts; NULL (and *ok = 0) when out of memory, or for none. */
static const char **dup_texts(const char *const *texts, size_t n, size_t *count, int *ok) {
  const char **copy;
  *count = 0;
  if (!n) return NULL;
  if (!(copy = calloc(n, sizeof *copy))) return *ok = 0, NULL;
  for (size_t i = 0; i < n; i++) copy[i] = dup_text(texts[i], ok);
  *count = n;
  return copy;
}

/*
 * *out = the properties of old with those changes gives over them, every
 * text a new copy: 0, or -1 when out of memory (nothing kept). Servers
 * and use_peer_dns exclude each other, so the one given last wins.
 */
static int merge_props(ras_entry *out, const ras_entry *old, const ras_entry *changes) {
  ras_entry m = *old;
  unsigned g = changes->given;
  int ok = 1;
  if (g & RAS_ENTRY_TYPE) m.type = changes->type;
  if (g & RAS_ENTRY_DEVICE) m.device = changes->device;
  if (g & RAS_ENTRY_NUMBER) m.number = changes->number;
  if (g & RAS_ENTRY_VPN) m.vpn = changes->vpn;
  if (g & RAS_ENTRY_AUTH) m.auth = changes->auth;
  if (g & RAS_ENTRY_ENCRYPTION) m.encryption = changes->encryption;
  if (g & RAS_ENTRY_DEFAULT_GATEWAY) m.default_gateway = changes->default_gateway;
  if (g & RAS_ENTRY_DNS) {
    m.dns = changes->dns;
    m.ndns = changes->ndns;
    if (m.ndns && !(g & RAS_ENTRY_USE_PEER_DNS) && (m.given & RAS_ENTRY_USE_PEER_DNS))
      m.use_peer_dns = 0;
  }
  if (g & RAS_ENTRY_USE_PEER_DNS) {
    m.use_peer_dns = changes->use_peer_dns;
    if (m.use_peer_dns && !(g & RAS_ENTRY_DNS)) m.ndns = 0;
  }
  if (g & RAS_ENTRY_IPV4) m.ipv4 = changes->ipv4;
  if (g & RAS_ENTRY_IPV6) m.ipv6 = changes->ipv6;
  /* seconds arrive as RAS_FOREVER when huge: idling forever is never
   * disconnecting (0); a pause that long reads back as the longest one */
  if (g & RAS_ENTRY_IDLE_DISCONNECT)
    m.idle_disconnect = changes->idle_disconnect < 0 ? 0 : changes->idle_disconnect;
  if (g & RAS_ENTRY_REDIAL) {
    m.redial = changes->redial;
    if (m.redial.interval < 0) m.redial.interval = RAS_MAX_SECONDS;
  }
  if (g & RAS_ENTRY_USERNAME) m.username = changes->username;
  if (g & RAS_ENTRY_PPPD_OPTIONS) {
    m.pppd_options = changes->pppd_options;
    m.npppd_options = changes->npppd_options;
  }
  m.given = (m.given | g) & ~(unsigned)(RAS_ENTRY_NAME | RAS_ENTRY_PHONEBOOK);
  /* a type other than vpn has no tunnel: a vpn choice it had goes */
  if ((m.given & RAS_ENTRY_VPN) && (m.given & RAS_ENTRY_TYPE) && m.type != RAS_TYPE_VPN) {
    m.given &= ~(unsigned)RAS_ENTRY_VPN;
    m.vpn = 0;
  }
  *out = m;
  out->name = out->phonebook = NULL;
  out->device = dup_text(m.device, &ok);
  out->number = dup_text(m.number, &ok);
  out->username = dup_text(m.username, &ok);
  out->dns = dup_texts(m.dns, m.ndns, &out->ndns, &ok);
  out->pppd_options = dup_texts(m.pppd_options, m.npppd_options, &out->npppd_options, &ok);
  if (ok) return 0;
  free_props(out);
  return -1;
}

static void free_scenario(scenario *sc) {
  free(sc->name);
  free(sc->username);
  free_secret(&sc->password);
  if (sc->states != default_states) free(sc->states);
  free(sc->projection);
  free_props(&sc->props);
  free_secret(&sc->saved_user);
  free_secret(&sc->saved_domain);
  free_secret(&sc->saved_password);
  free_secret(&sc->saved_psk);
  free(sc);
}

static void scenario_unref(scenario *sc) {
  if (--sc->refs == 0) free_scenario(sc);
}

static void set_defaults(scenario *sc) {
  sc->states = (unsigned char *)default_states;
  sc->nstates = sizeof default_states;
  sc->step = 0.01;
  sc->fail_at = -1;
  sc->drop_after = -1;
  sc->speed = -1;
  sc->frame_size = 1500;
  strcpy(sc->device_type, "modem");
  strcpy(sc->device_name, "Simulated Modem");
}

static void free_book(sim_book *b) {
  if (!b) return;
  for (size_t i = 0; i < b->n; i++) scenario_unref(b->entries[i]);
  free(b->entries);
  free(b->name);
  free(b);
}

static sim_book *find_book(sim *s, const char *name) {
  if (!name) return s->books[0];
  for (size_t i = 0; i < s->nbooks; i++)
    if (strcmp(s->books[i]->name, name) == 0) return s->books[i];
  return NULL;
}

/* The book of that name, made when missing; NULL when out of memory. */
static sim_book *get_book(sim *s, const char *name) {
  sim_book *b = find_book(s, name), **books;
  int ok = 1;
  if (b) return b;
  books = realloc(s->books, (s->nbooks + 1) * sizeof *books);
  if (!books) return NULL;
  s->books = books;
  if (!(b = calloc(1, sizeof *b)) || !(b->name = dup_text(name, &ok))) {
    free(b);
    return NULL;
  }
  s->books[s->nbooks++] = b;
  return b;
}

/* The index of name in b, or where it would go (*found says which). */
static size_t book_place(const sim_book *b, const char *name, int *found) {
  size_t lo = 0, hi = b->n;
  *found = 0;
  while (lo < hi) {
    size_t mid = lo + (hi - lo) / 2;
    int cmp = strcmp(b->entries[mid]->name, name);
    if (cmp == 0) return *found = 1, mid;
    if (cmp < 0) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

static scenario *book_find(const sim_book *b, const char *name) {
  int found;
  size_t i = b ? book_place(b, name, &found) : 0;
  return b && found ? b->entries[i] : NULL;
}

/* Takes sc (its reference) into b at its place: 0, or -1 out of memory. */
static int book_insert(sim_book *b, scenario *sc) {
  int found;
  size_t i = book_place(b, sc->name, &found);
  if (b->n == b->cap) {
    size_t cap = b->cap ? 2 * b->cap : 8;
    scenario **entries = realloc(b->entries, cap * sizeof *entries);
    if (!entries) return -1;
    b->entries = entries;
    b->cap = cap;
  }
  memmove(b->entries + i + 1, b->entries + i, (b->n - i) * sizeof *b->entries);
  b->entries[i] = sc;
  b->n++;
  return 0;
}

/* Takes the entry at i out of b; the caller has its reference. */
static scenario *book_take(sim_book *b, size_t i) {
  scenario *sc = b->entries[i];
  memmove(b->entries + i, b->entries + i + 1, (b->n - i - 1) * sizeof *b->entries);
  b->n--;
  return sc;
}

/*
 * What pppd's peer files and Windows' phone books both accept as an entry
 * name: a file name in a peers directory, a section of a .pbk file. NULL
 * when fine, else why not.
 */
static const char *bad_name(const char *name) {
  if (!name[0]) return "empty";
  if (strlen(name) > RAS_MAX_ENTRY) return "longer than 256 bytes";
  if (name[0] == '.') return "begins with a dot";
  for (const unsigned char *p = (const unsigned char *)name; *p; p++) {
    if (*p < 0x20 || *p == 0x7f) return "contains a control character";
    if (*p == '/' || *p == '\\') return "contains a slash or a backslash";
  }
  return NULL;
}

static int invalid_name(ras_error *err, const char *why) {
  return ras_fail(err, RAS_ERROR_INVALID_NAME, "not a valid entry name (%s)", why);
}

static int no_entry(ras_error *err, const char *name, const char *book) {
  return ras_fail(err, RAS_ERROR_CANNOT_FIND_PHONEBOOK_ENTRY,
                  "no entry '%.64s' in the simulator's phonebook '%.64s'", name, book);
}

/* ---------------------------------------------------------------------- */
/* watchers (sim lock held): changes pushed as they happen                */

static void tell(ras_watch *w, const ras_call *c, int change, int initial, double time) {
  ras_event ev = ras_change(change, c->id, c->sc->name, c->book->name, time);
  if (initial) ev.substate = RAS_CHANGE_INITIAL;
  ras_feed_push(w->feed, &ev);
}

/* The call is Connected: the watchers hear of it, its clock starts. */
static void bring_up(ras_call *c, double now) {
  c->up = 1;
  c->connected_at = now;
  for (ras_watch *w = c->sim->watchers; w; w = w->next) tell(w, c, RAS_CHANGE_CONNECTED, 0, now);
}

/* The call stops being connected (dropped, hung up): once. */
static void bring_down(ras_call *c, double now) {
  if (!c->up) return;
  c->up = 0;
  c->ended_at = now;
  for (ras_watch *w = c->sim->watchers; w; w = w->next)
    tell(w, c, RAS_CHANGE_DISCONNECTED, 0, now);
}

/* ---------------------------------------------------------------------- */
/* playing a scenario (sim lock held)                                     */

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

/* Another program's connection that ends is gone at once: nobody holds
 * its handle to hang it up. */
static int fail(ras_call *c, int error) {
  emit(c, RAS_Disconnected, error);
  bring_down(c, c->sim->now);
  c->phase = c->foreign ? GONE : ENDED;
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
  bring_up(c, now);
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
  scenario_unref(c->sc);
  os_wipe(c, sizeof *c);
  free(c);
}

static ras_call *new_call(sim *s, scenario *sc, const sim_book *book) {
  ras_call *c = calloc(1, sizeof *c);
  if (!c) return NULL;
  c->sim = s;
  c->sc = sc;
  sc->refs++;
  c->book = book;
  c->id = ++s->next_id;
  c->connected_at = c->ended_at = -1;
  return c;
}

/* ---------------------------------------------------------------------- */
/* the activity option: other programs' dials and hang-ups (lock held)    */

/* Another program's dial comes up at once, Connected (its states are its
 * own business), and drops after the scenario's drop_after. */
static void play_dial(ras_call *c, double now) {
  c->phase = CONNECTED;
  c->state = RAS_Connected;
  c->projected = c->authenticated = 1;
  set_due(c, c->sc->drop_after >= 0 ? now + c->sc->drop_after : -1);
  bring_up(c, now);
}

/* Another program hangs up its connections to the entry: an object that
 * watches one hears Disconnected (no error), and the handle is invalid. */
static void play_hangup(sim *s, const scenario *sc, double now) {
  ras_call *c, *next;
  for (c = s->calls; c; c = next) {
    next = c->next;
    if (!c->foreign || c->sc != sc || c->phase != CONNECTED) continue;
    bring_down(c, now);
    emit(c, RAS_Disconnected, 0);
    flush(s, c);
    c->phase = GONE;
    set_due(c, -1);
    if (c->released) {
      unlink_call(s, c);
      free_call(c);
    }
    os_cond_broadcast(s->cond);
  }
}

static void play_activity(sim *s, double now) {
  while (s->next_activity < s->nactivity && s->activity[s->next_activity].due <= now) {
    activity_step *a = &s->activity[s->next_activity++];
    if (a->call) play_dial(a->call, now);
    else play_hangup(s, a->sc, now);
  }
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
    play_activity(s, now);
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
static int ensure_thread(sim *s, ras_error *err) {
  if (s->thread) return 0;
  s->thread = os_thread_start(sim_thread, s);
  if (!s->thread)
    return ras_fail(err, RAS_ERROR_NOT_ENOUGH_MEMORY,
                    "cannot start the simulator thread");
  return 0;
}

/* ---------------------------------------------------------------------- */
/* dialling and connections                                               */

/* The saved credentials a dial without a password uses, and the entry's
 * default user name when the dial gives none: copies into g (lock held).
 * 0, or -1 when out of memory (g keeps what it had). */
static int use_entry_credentials(given *g, const scenario *sc, int saved) {
  int ok = 1;
  const char *user = NULL;
  char *password = NULL, *copy;
  if (saved && !g->password && sc->saved_password) password = dup_text(sc->saved_password, &ok);
  if (saved && !g->password && sc->saved_user) user = sc->saved_user;
  else if (sc->props.given & RAS_ENTRY_USERNAME) user = sc->props.username;
  copy = g->user ? NULL : dup_text(user, &ok);
  if (!ok) {
    free_secret(&password);
    free_secret(&copy);
    return -1;
  }
  if (password) g->password = password;
  if (copy) g->user = copy;
  return 0;
}

static int sim_dial(ras_instance *s, ras_feed *feed, const ras_dial_params *p,
                    ras_call **out, uint64_t *id, ras_error *err) {
  given g;
  sim_book *book;
  scenario *sc;
  ras_call *c = NULL;
  if (copy_given(&g, p->username, p->password, p->callback_number) != 0)
    return ras_fail(err, RAS_ERROR_NOT_ENOUGH_MEMORY, "not enough memory");
  os_mutex_lock(s->lock);
  book = find_book(s, p->phonebook);
  sc = !p->entry ? (book ? &s->fallback : NULL) : book_find(book, p->entry);
  if (!sc) {
    os_mutex_unlock(s->lock);
    free_given(&g);
    return no_entry(err, p->entry ? p->entry : "", p->phonebook ? p->phonebook
                                                                : s->books[0]->name);
  }
  if (use_entry_credentials(&g, sc, p->saved_credentials) == 0) c = new_call(s, sc, book);
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
  if (c && c->phase != GONE && c->phase != PENDING && !c->feed) {
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
    bring_down(c, os_now());
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
    if (c->phase == GONE || c->phase == PENDING || !(info = ras_list_add(&l))) continue;
    info->id = c->id;
    ras_list_text(&l, info, offsetof(ras_conn_info, entry), c->sc->name);
    ras_list_text(&l, info, offsetof(ras_conn_info, phonebook), c->book->name);
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
  const sim_book *b;
  os_mutex_lock(s->lock);
  b = find_book(s, phonebook);
  for (size_t i = 0; b && i < b->n; i++) {
    ras_entry_info *info = ras_list_add(&l);
    if (!info) break;
    ras_list_text(&l, info, offsetof(ras_entry_info, name), b->entries[i]->name);
    ras_list_text(&l, info, offsetof(ras_entry_info, phonebook), b->name);
  }
  os_mutex_unlock(s->lock);
  list = ras_list_finish(&l, entry_texts, 2, n);
  if (!list) ras_fail(err, RAS_ERROR_NOT_ENOUGH_MEMORY, "not enough memory");
  return list;
}

/* ---------------------------------------------------------------------- */
/* statistics, projection, devices, watching                              */

/* rate × seconds as a counter, saturated rather than wrapped. */
static unsigned long long counted(double rate, double seconds) {
  double v = rate * seconds;
  return v >= 1.8e19 ? ~0ULL : (unsigned long long)v;
}

/* The counters grow at the scenario's rates while the link is up and
 * stand still once it is down; before Connected they are 0. */
static int sim_statistics(ras_call *c, ras_statistics *out, ras_error *err) {
  sim *s = c->sim;
  const scenario *sc = c->sc;
  int rc = 0;
  os_mutex_lock(s->lock);
  if (c->phase == GONE) {
    rc = ras_fail(err, RAS_ERROR_INVALID_HANDLE, "the connection no longer exists");
  } else {
    out->speed = sc->speed;
    if (c->connected_at >= 0) {
      double end = c->up ? os_now() : c->ended_at;
      double d = end > c->connected_at ? end - c->connected_at : 0;
      out->duration = d;
      out->bytes_sent = counted(sc->sent_rate, d);
      out->bytes_received = counted(sc->received_rate, d);
      if (sc->frame_size > 0) {
        out->frames_sent = out->bytes_sent / (unsigned long long)sc->frame_size;
        out->frames_received = out->bytes_received / (unsigned long long)sc->frame_size;
      }
      out->errors = counted(sc->error_rate, d);
    }
  }
  os_mutex_unlock(s->lock);
  return rc;
}

static int sim_projection(ras_call *c, ras_projection *out, ras_error *err) {
  sim *s = c->sim;
  const scenario *sc = c->sc;
  int rc = 0;
  os_mutex_lock(s->lock);
  if (c->phase == GONE) {
    rc = ras_fail(err, RAS_ERROR_INVALID_HANDLE, "the connection no longer exists");
  } else if (!c->projected) {
    rc = ras_fail(err, RAS_ERROR_PROJECTION_NOT_COMPLETE,
                  "the link is not projected yet (%s)", ras_state_name(c->state));
  } else if (sc->projection) {
    *out = *sc->projection;
  } else if (sc->local_address[0] || sc->remote_address[0]) {
    out->has_ipv4 = 1;
    copy_text(out->ipv4_address, sizeof out->ipv4_address, sc->local_address);
    copy_text(out->ipv4_server_address, sizeof out->ipv4_server_address, sc->remote_address);
  }
  os_mutex_unlock(s->lock);
  return rc;
}

static const size_t device_texts[] = RAS_DEVICE_TEXTS;

static ras_device_info *sim_devices(ras_instance *s, size_t *n, ras_error *err) {
  ras_list l = { .item_size = sizeof(ras_device_info) };
  ras_device_info *list;
  for (size_t i = 0; i < s->ndevices; i++) {   /* fixed once open: no lock */
    ras_device_info *info = ras_list_add(&l);
    if (!info) break;
    ras_list_text(&l, info, offsetof(ras_device_info, name), s->devices[i].name);
    ras_list_text(&l, info, offsetof(ras_device_info, type), s->devices[i].type);
  }
  list = ras_list_finish(&l, device_texts, 2, n);
  if (!list) ras_fail(err, RAS_ERROR_NOT_ENOUGH_MEMORY, "not enough memory");
  return list;
}

/* The connections up now come first (oldest first), then every change:
 * pushed under the lock the changes are made under, so none is missed or
 * told twice. */
static ras_watch *sim_watch(ras_instance *s, ras_feed *feed, ras_error *err) {
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

static void sim_unwatch(ras_watch *w) {
  sim *s = w->sim;
  os_mutex_lock(s->lock);
  if (w->prev) w->prev->next = w->next;
  else s->watchers = w->next;
  if (w->next) w->next->prev = w->prev;
  os_mutex_unlock(s->lock);
  ras_feed_unref(w->feed);
  free(w);
}

/* ---------------------------------------------------------------------- */
/* entries and saved credentials                                          */

/* The entry name in book (NULL: the default one), or NULL with *err. */
static scenario *lookup(sim *s, const char *name, const char *book, ras_error *err) {
  scenario *sc = book_find(find_book(s, book), name);
  if (!sc) no_entry(err, name, book ? book : s->books[0]->name);
  return sc;
}

static const char **arena_texts(ras_arena *a, const char *const *texts, size_t n) {
  const char **copy = ras_arena_alloc(a, (n ? n : 1) * sizeof *copy);
  for (size_t i = 0; copy && i < n; i++) copy[i] = ras_arena_text(a, texts[i]);
  return copy;
}

static int sim_entry(ras_instance *s, const char *name, const char *phonebook, ras_entry *out,
                     ras_arena *arena, ras_error *err) {
  scenario *sc;
  int rc = 0;
  os_mutex_lock(s->lock);
  if (!(sc = lookup(s, name, phonebook, err))) rc = err->code;
  else {
    const ras_entry *e = &sc->props;
    *out = *e;
    out->name = ras_arena_text(arena, sc->name);
    out->phonebook = ras_arena_text(arena, find_book(s, phonebook)->name);
    out->device = ras_arena_text(arena, e->device);
    out->number = ras_arena_text(arena, e->number);
    out->username = ras_arena_text(arena, e->username);
    out->dns = arena_texts(arena, e->dns, e->ndns);
    out->pppd_options = arena_texts(arena, e->pppd_options, e->npppd_options);
    out->given |= RAS_ENTRY_NAME | RAS_ENTRY_PHONEBOOK;
  }
  os_mutex_unlock(s->lock);
  return rc;
}

/* A new entry with the default scenario and e's properties; NULL when out
 * of memory. */
static scenario *new_entry(const ras_entry *e) {
  static const ras_entry none = { .given = 0 };
  scenario *sc = calloc(1, sizeof *sc);
  int ok = 1;
  if (!sc) return NULL;
  sc->refs = 1;
  set_defaults(sc);
  sc->name = dup_text(e->name, &ok);
  if (!ok || merge_props(&sc->props, &none, e) != 0) {
    free_scenario(sc);
    return NULL;
  }
  return sc;
}

static int sim_create_entry(ras_instance *s, const ras_entry *e, ras_error *err) {
  const char *why = bad_name(e->name);
  scenario *sc;
  sim_book *book;
  int rc = 0;
  if (why) return invalid_name(err, why);
  if (!(sc = new_entry(e))) return ras_fail(err, RAS_ERROR_NOT_ENOUGH_MEMORY, "not enough memory");
  os_mutex_lock(s->lock);
  book = get_book(s, e->phonebook);
  if (book && book_find(book, e->name))
    rc = ras_fail(err, RAS_ERROR_ALREADY_EXISTS, "the phonebook '%.64s' has an entry '%.64s'",
                  book->name, e->name);
  else if (!book || book_insert(book, sc) != 0)
    rc = ras_fail(err, RAS_ERROR_NOT_ENOUGH_MEMORY, "not enough memory");
  if (rc != 0) scenario_unref(sc);
  os_mutex_unlock(s->lock);
  return rc;
}

static int sim_update_entry(ras_instance *s, const char *name, const char *phonebook,
                            const ras_entry *changes, ras_error *err) {
  scenario *sc;
  ras_entry merged;
  int rc = 0;
  os_mutex_lock(s->lock);
  if (!(sc = lookup(s, name, phonebook, err))) rc = err->code;
  else if ((changes->given & RAS_ENTRY_VPN) && !(changes->given & RAS_ENTRY_TYPE) &&
           sc->props.type != RAS_TYPE_VPN)
    rc = ras_fail(err, RAS_BAD_ARGUMENT, "bad property 'vpn' (needs type \"vpn\")");
  else if (merge_props(&merged, &sc->props, changes) != 0)
    rc = ras_fail(err, RAS_ERROR_NOT_ENOUGH_MEMORY, "not enough memory");
  else {
    free_props(&sc->props);
    sc->props = merged;
  }
  os_mutex_unlock(s->lock);
  return rc;
}

static int sim_rename_entry(ras_instance *s, const char *old_name, const char *new_name,
                            const char *phonebook, ras_error *err) {
  const char *why = bad_name(new_name);
  int ok = 1, found, rc = 0;
  char *copy = why ? NULL : dup_text(new_name, &ok);
  sim_book *book;
  scenario *sc;
  size_t i;
  if (!ok) return ras_fail(err, RAS_ERROR_NOT_ENOUGH_MEMORY, "not enough memory");
  os_mutex_lock(s->lock);
  book = find_book(s, phonebook);
  i = book ? book_place(book, old_name, &found) : 0;
  if (!book || !found) rc = no_entry(err, old_name, phonebook ? phonebook : s->books[0]->name);
  else if (why) rc = invalid_name(err, why);
  else if (book_find(book, new_name))
    rc = ras_fail(err, RAS_ERROR_ALREADY_EXISTS, "the phonebook '%.64s' has an entry '%.64s'",
                  book->name, new_name);
  else {
    sc = book_take(book, i);     /* room for it stays: the insert cannot fail */
    free(sc->name);
    sc->name = copy;
    copy = NULL;
    book_insert(book, sc);
  }
  os_mutex_unlock(s->lock);
  free(copy);
  return rc;
}

static int sim_delete_entry(ras_instance *s, const char *name, const char *phonebook,
                            ras_error *err) {
  sim_book *book;
  int found, rc = 0;
  size_t i;
  os_mutex_lock(s->lock);
  book = find_book(s, phonebook);
  i = book ? book_place(book, name, &found) : 0;
  if (!book || !found) rc = no_entry(err, name, phonebook ? phonebook : s->books[0]->name);
  else scenario_unref(book_take(book, i));   /* its calls keep theirs */
  os_mutex_unlock(s->lock);
  return rc;
}

static int sim_validate_entry_name(ras_instance *s, const char *name, const char *phonebook,
                                   ras_error *err) {
  const char *why = bad_name(name);
  int rc = 0;
  if (why) return invalid_name(err, why);
  os_mutex_lock(s->lock);
  if (book_find(find_book(s, phonebook), name))
    rc = ras_fail(err, RAS_ERROR_ALREADY_EXISTS, "the phonebook has an entry of that name");
  os_mutex_unlock(s->lock);
  return rc;
}

static int sim_credentials(ras_instance *s, const char *entry, const char *phonebook,
                           ras_credentials_info *out, ras_error *err) {
  scenario *sc;
  int rc = 0;
  os_mutex_lock(s->lock);
  if (!(sc = lookup(s, entry, phonebook, err))) rc = err->code;
  else {
    copy_text(out->username, sizeof out->username, sc->saved_user);
    copy_text(out->domain, sizeof out->domain, sc->saved_domain);
    out->saved_password = sc->saved_password != NULL;
    out->saved_psk = sc->saved_psk != NULL;
  }
  os_mutex_unlock(s->lock);
  return rc;
}

static int sim_set_credentials(ras_instance *s, const char *entry, const char *phonebook,
                               const ras_credentials *cred, ras_error *err) {
  int ok = 1, rc = 0;
  char *user = dup_text(cred->username, &ok), *domain = dup_text(cred->domain, &ok);
  char *password = dup_text(cred->password, &ok), *psk = dup_text(cred->psk, &ok);
  scenario *sc = NULL;
  if (!ok) rc = ras_fail(err, RAS_ERROR_NOT_ENOUGH_MEMORY, "not enough memory");
  os_mutex_lock(s->lock);
  if (rc == 0 && !(sc = lookup(s, entry, phonebook, err))) rc = err->code;
  if (sc) {
    replace_text(&sc->saved_user, user);
    replace_text(&sc->saved_domain, domain);
    replace_text(&sc->saved_password, password);
    replace_text(&sc->saved_psk, psk);
    user = domain = password = psk = NULL;
  }
  os_mutex_unlock(s->lock);
  free_secret(&user);
  free_secret(&domain);
  free_secret(&password);
  free_secret(&psk);
  return rc;
}

static int sim_clear_credentials(ras_instance *s, const char *entry, const char *phonebook,
                                 ras_error *err) {
  scenario *sc;
  int rc = 0;
  os_mutex_lock(s->lock);
  if (!(sc = lookup(s, entry, phonebook, err))) rc = err->code;
  else {
    free_secret(&sc->saved_user);
    free_secret(&sc->saved_domain);
    free_secret(&sc->saved_password);
    free_secret(&sc->saved_psk);
  }
  os_mutex_unlock(s->lock);
  return rc;
}

/* ---------------------------------------------------------------------- */
/* closing                                                                */

static void free_sim(sim *s) {
  while (s->calls) {
    ras_call *c = s->calls;
    s->calls = c->next;
    if (c->feed) ras_feed_unref(c->feed);
    free_call(c);
  }
  while (s->watchers) {     /* the binding unwatches first; this is a guard */
    ras_watch *w = s->watchers;
    s->watchers = w->next;
    ras_feed_unref(w->feed);
    free(w);
  }
  for (size_t i = 0; i < s->nactivity; i++)
    if (s->activity[i].sc) scenario_unref(s->activity[i].sc);
  free(s->activity);
  for (size_t i = 0; i < s->ndevices; i++) {
    free((char *)s->devices[i].name);
    free((char *)s->devices[i].type);
  }
  free(s->devices);
  for (size_t i = 0; i < s->nbooks; i++) free_book(s->books[i]);
  free(s->books);
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

typedef struct ipv4_config {
  const char *address, *server_address;
  const char **dns;
  size_t ndns;
} ipv4_config;

typedef struct ipv6_config {
  const char *interface_id, *server_interface_id;
} ipv6_config;

typedef struct projection_config {
  const char *interface;
  ipv4_config ipv4;
  ipv6_config ipv6;
  int has_ipv4, has_ipv6;
  int auth_protocol;              /* auth_names index + 1; 0: unknown */
  const char *encryption, *compression;
} projection_config;

typedef struct scenario_config {
  const char *name;
  const char *username, *password;
  int *states;
  size_t nstates;
  int has_states, has_fail, has_projection;
  double step, drop_after, hangup_delay;
  fail_config fail;
  int callback, password_expired;
  const char *device_type, *device_name, *local_address, *remote_address;
  long long speed, bytes_sent_per_second, bytes_received_per_second, frame_size;
  long long errors_per_second;
  projection_config projection;
} scenario_config;

typedef struct activity_config {
  double at;
  const char *dial, *hangup;
} activity_config;

typedef struct device_config {
  const char *name, *type;
} device_config;

typedef struct sim_config {
  const char *phonebook;
  scenario_config *entries;
  size_t nentries;
  const char **established;
  size_t nestablished;
  activity_config *activity;
  size_t nactivity;
  device_config *devices;
  size_t ndevices;
  int has_devices;
} sim_config;

static const ras_field fail_fields[] = {
  { .name = "at", .kind = RAS_STATE, .offset = offsetof(fail_config, at),
    .flags = RAS_REQUIRED | RAS_RUNNING_ONLY },
  { .name = "error", .kind = RAS_INTEGER, .offset = offsetof(fail_config, error),
    .min = 1, .max = 0x7fffffff, .flags = RAS_REQUIRED },
  { .name = NULL }
};

static const ras_record fail_record = { .size = sizeof(fail_config), .fields = fail_fields };

/* (the field first: spec/reference_spec.lua reads the names from here) */
#define TEXT(field, type, most) \
  { .name = #field, .kind = RAS_STRING, .offset = offsetof(type, field), .max = (most) }

static const ras_field ipv4_fields[] = {
  TEXT(address, ipv4_config, RAS_MAX_ADDRESS - 1),
  TEXT(server_address, ipv4_config, RAS_MAX_ADDRESS - 1),
  { .name = "dns", .kind = RAS_STRINGS, .offset = offsetof(ipv4_config, dns),
    .count = offsetof(ipv4_config, ndns), .max = RAS_MAX_ADDRESS - 1, .limit = RAS_MAX_DNS },
  { .name = NULL }
};

static const ras_record ipv4_record = { .size = sizeof(ipv4_config), .fields = ipv4_fields };

static const ras_field ipv6_fields[] = {
  TEXT(interface_id, ipv6_config, 31), TEXT(server_interface_id, ipv6_config, 31),
  { .name = NULL }
};

static const ras_record ipv6_record = { .size = sizeof(ipv6_config), .fields = ipv6_fields };

static const char *const auth_names[] = { "pap", "chap", "mschapv2", "eap", NULL };

#define PC(field) offsetof(projection_config, field)

static const ras_field projection_fields[] = {
  TEXT(interface, projection_config, 63),
  { .name = "ipv4", .kind = RAS_RECORD, .offset = PC(ipv4), .present = PC(has_ipv4),
    .record = &ipv4_record },
  { .name = "ipv6", .kind = RAS_RECORD, .offset = PC(ipv6), .present = PC(has_ipv6),
    .record = &ipv6_record },
  { .name = "auth_protocol", .kind = RAS_CHOICE, .offset = PC(auth_protocol),
    .choices = auth_names },
  TEXT(encryption, projection_config, 63), TEXT(compression, projection_config, 63),
  { .name = NULL }
};

static const ras_record projection_record = {
  .size = sizeof(projection_config), .fields = projection_fields
};

#define SC(field) offsetof(scenario_config, field)
#define SC_TEXT(field, most) TEXT(field, scenario_config, most)
/* counts per second and speeds: up to 10^12 (a terabit link) */
#define SC_RATE(field) \
  { .name = #field, .kind = RAS_INTEGER, .offset = SC(field), .min = 0, .max = 1000000000000LL }

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
  SC_RATE(speed), SC_RATE(bytes_sent_per_second), SC_RATE(bytes_received_per_second),
  SC_RATE(frame_size), SC_RATE(errors_per_second),
  { .name = "projection", .kind = RAS_RECORD, .offset = SC(projection),
    .present = SC(has_projection), .record = &projection_record },
  { .name = NULL }
};

static void scenario_init(void *rec) {
  scenario_config *sc = rec;
  sc->step = 0.01;
  sc->drop_after = RAS_FOREVER;
  sc->fail.at = -1;
  sc->speed = -1;
  sc->frame_size = 1500;
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

static const ras_field activity_fields[] = {
  { .name = "at", .kind = RAS_SECONDS, .offset = offsetof(activity_config, at),
    .flags = RAS_REQUIRED },
  TEXT(dial, activity_config, RAS_MAX_ENTRY), TEXT(hangup, activity_config, RAS_MAX_ENTRY),
  { .name = NULL }
};

static const char *activity_check(const void *rec, const char **field) {
  const activity_config *a = rec;
  *field = "dial";
  if (!a->dial == !a->hangup) return "give one of dial and hangup";
  return NULL;
}

static const ras_record activity_record = {
  .size = sizeof(activity_config), .fields = activity_fields, .check = activity_check
};

static const ras_field device_fields[] = {
  { .name = "name", .kind = RAS_STRING, .offset = offsetof(device_config, name),
    .max = RAS_MAX_DEVICE_NAME, .flags = RAS_REQUIRED },
  { .name = "type", .kind = RAS_STRING, .offset = offsetof(device_config, type),
    .max = RAS_MAX_DEVICE_TYPE, .flags = RAS_REQUIRED },
  { .name = NULL }
};

static const ras_record device_record = { .size = sizeof(device_config), .fields = device_fields };

static const ras_field sim_fields[] = {
  { .name = "phonebook", .kind = RAS_STRING, .offset = offsetof(sim_config, phonebook),
    .max = RAS_MAX_PATH },
  { .name = "entries", .kind = RAS_RECORDS, .offset = offsetof(sim_config, entries),
    .count = offsetof(sim_config, nentries), .limit = 1 << 20, .record = &scenario_record },
  { .name = "established", .kind = RAS_STRINGS, .offset = offsetof(sim_config, established),
    .count = offsetof(sim_config, nestablished), .limit = 1 << 20, .max = RAS_MAX_ENTRY },
  { .name = "activity", .kind = RAS_RECORD_ARRAY, .offset = offsetof(sim_config, activity),
    .count = offsetof(sim_config, nactivity), .limit = 1 << 16, .record = &activity_record },
  { .name = "devices", .kind = RAS_RECORD_ARRAY, .offset = offsetof(sim_config, devices),
    .count = offsetof(sim_config, ndevices), .present = offsetof(sim_config, has_devices),
    .limit = 1 << 12, .record = &device_record },
  { .name = NULL }
};

static const ras_record sim_record = { .size = sizeof(sim_config), .fields = sim_fields };

/* ---------------------------------------------------------------------- */
/* opening: copies of the config, every allocation checked                */

/* A copy of the projection option, its addresses defaulting to the
 * status ones and the other way round; NULL when out of memory. */
static ras_projection *copy_projection(scenario *sc, const projection_config *cf) {
  ras_projection *p = calloc(1, sizeof *p);
  if (!p) return NULL;
  copy_text(p->interface, sizeof p->interface, cf->interface);
  p->has_ipv4 = cf->has_ipv4 || sc->local_address[0] || sc->remote_address[0];
  copy_text(p->ipv4_address, sizeof p->ipv4_address,
            cf->ipv4.address ? cf->ipv4.address : sc->local_address);
  copy_text(p->ipv4_server_address, sizeof p->ipv4_server_address,
            cf->ipv4.server_address ? cf->ipv4.server_address : sc->remote_address);
  for (size_t i = 0; i < cf->ipv4.ndns && i < RAS_MAX_DNS; i++)
    copy_text(p->dns[p->ndns++], sizeof p->dns[0], cf->ipv4.dns[i]);
  p->has_ipv6 = cf->has_ipv6;
  copy_text(p->ipv6_interface_id, sizeof p->ipv6_interface_id, cf->ipv6.interface_id);
  copy_text(p->ipv6_server_interface_id, sizeof p->ipv6_server_interface_id,
            cf->ipv6.server_interface_id);
  p->auth = cf->auth_protocol ? 1u << (cf->auth_protocol - 1) : 0;
  copy_text(p->encryption, sizeof p->encryption, cf->encryption);
  copy_text(p->compression, sizeof p->compression, cf->compression);
  if (!sc->local_address[0]) copy_text(sc->local_address, sizeof sc->local_address, p->ipv4_address);
  if (!sc->remote_address[0])
    copy_text(sc->remote_address, sizeof sc->remote_address, p->ipv4_server_address);
  return p;
}

/* A seeded entry: a modem on the scenario's device. 0 when out of memory. */
static int copy_scenario(scenario *sc, const scenario_config *cf) {
  int ok = 1;
  set_defaults(sc);
  sc->refs = 1;
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
  sc->speed = cf->speed;
  sc->sent_rate = (double)cf->bytes_sent_per_second;
  sc->received_rate = (double)cf->bytes_received_per_second;
  sc->frame_size = (double)cf->frame_size;
  sc->error_rate = (double)cf->errors_per_second;
  copy_text(sc->device_type, sizeof sc->device_type, cf->device_type);
  copy_text(sc->device_name, sizeof sc->device_name, cf->device_name);
  copy_text(sc->local_address, sizeof sc->local_address, cf->local_address);
  copy_text(sc->remote_address, sizeof sc->remote_address, cf->remote_address);
  if (cf->has_projection && !(sc->projection = copy_projection(sc, &cf->projection))) return 0;
  sc->props.type = RAS_TYPE_MODEM;
  sc->props.device = dup_text(sc->device_name, &ok);
  if (sc->props.device) sc->props.given = RAS_ENTRY_TYPE | RAS_ENTRY_DEVICE;
  return ok;
}

static int by_name(const void *a, const void *b) {
  return strcmp((*(scenario *const *)a)->name, (*(scenario *const *)b)->name);
}

/* The default phone book, from the entries option; 0 when out of memory. */
static int seed_book(sim *s, const sim_config *cf) {
  sim_book *b = calloc(1, sizeof *b);
  int ok = 1;
  if (!b || !(s->books = malloc(sizeof *s->books))) {
    free(b);
    return 0;
  }
  s->books[s->nbooks++] = b;
  b->name = dup_text(cf->phonebook ? cf->phonebook : "sim", &ok);
  b->cap = cf->nentries ? cf->nentries : 1;
  if (!ok || !(b->entries = calloc(b->cap, sizeof *b->entries))) return 0;
  for (size_t i = 0; i < cf->nentries; i++) {
    scenario *sc = calloc(1, sizeof *sc);
    if (!sc) return 0;
    b->entries[b->n++] = sc;
    if (!copy_scenario(sc, &cf->entries[i]) || !sc->name) return 0;
  }
  if (b->n) qsort(b->entries, b->n, sizeof *b->entries, by_name);
  return 1;
}

/* Connections "dialled by another program": already up when we look. */
static int add_established(sim *s, const char *name, ras_error *err) {
  scenario *sc = book_find(s->books[0], name);
  ras_call *c;
  if (!sc)
    return ras_fail(err, RAS_BAD_ARGUMENT, "bad option 'established' (no entry named '%.64s')", name);
  c = new_call(s, sc, s->books[0]);
  if (!c || add_call(s, c) != 0) {
    if (c) free_call(c);
    return ras_fail(err, RAS_ERROR_NOT_ENOUGH_MEMORY, "not enough memory");
  }
  c->phase = CONNECTED;
  set_due(c, -1);
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
static int add_activity(sim *s, const sim_config *cf, double opened, ras_error *err) {
  if (!cf->nactivity) return 0;
  if (!(s->activity = calloc(cf->nactivity, sizeof *s->activity)))
    return ras_fail(err, RAS_ERROR_NOT_ENOUGH_MEMORY, "not enough memory");
  for (size_t i = 0; i < cf->nactivity; i++) {
    const activity_config *a = &cf->activity[i];
    const char *name = a->dial ? a->dial : a->hangup;
    activity_step *step;
    scenario *sc = book_find(s->books[0], name);
    if (!sc)
      return ras_fail(err, RAS_BAD_ARGUMENT, "bad option 'activity[%lu].%s' (no entry named '%.64s')",
                      (unsigned long)(i + 1), a->dial ? "dial" : "hangup", name);
    if (a->at < 0) continue;             /* "forever": never happens */
    step = &s->activity[s->nactivity++];
    step->due = opened + a->at;
    step->order = i;
    if (a->hangup) {
      step->sc = sc;
      sc->refs++;
    } else if (!(step->call = new_call(s, sc, s->books[0])) || add_call(s, step->call) != 0) {
      if (step->call) free_call(step->call);
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

static int add_devices(sim *s, const sim_config *cf) {
  static const device_config modem = { .name = "Simulated Modem", .type = "modem" };
  const device_config *list = cf->has_devices ? cf->devices : &modem;
  size_t n = cf->has_devices ? cf->ndevices : 1;
  int ok = 1;
  if (!n) return 1;
  if (!(s->devices = calloc(n, sizeof *s->devices))) return 0;
  for (; s->ndevices < n; s->ndevices++) {
    s->devices[s->ndevices].name = dup_text(list[s->ndevices].name, &ok);
    s->devices[s->ndevices].type = dup_text(list[s->ndevices].type, &ok);
  }
  return ok;
}

static ras_instance *sim_open(const void *config, ras_error *err) {
  const sim_config *cf = config;
  sim *s = calloc(1, sizeof *s);
  double opened = os_now();
  if (!s) goto out_of_memory;
  s->lock = os_mutex_new();
  s->cond = os_cond_new();
  set_defaults(&s->fallback);
  s->fallback.name = "";
  s->fallback.refs = 1;             /* the sim's own: never freed */
  if (!s->lock || !s->cond || !seed_book(s, cf) || !add_devices(s, cf)) goto out_of_memory;
  for (size_t i = 0; i < cf->nestablished; i++)
    if (add_established(s, cf->established[i], err) != 0) goto failed;
  if (add_activity(s, cf, opened, err) != 0) goto failed;
  if (s->nactivity && ensure_thread(s, err) != 0) goto failed;   /* last: it shares s */
  return s;
out_of_memory:
  ras_fail(err, RAS_ERROR_NOT_ENOUGH_MEMORY, "not enough memory for the simulator");
failed:
  if (s) free_sim(s);
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
  .entry = sim_entry,
  .create_entry = sim_create_entry,
  .update_entry = sim_update_entry,
  .rename_entry = sim_rename_entry,
  .delete_entry = sim_delete_entry,
  .validate_entry_name = sim_validate_entry_name,
  .credentials = sim_credentials,
  .set_credentials = sim_set_credentials,
  .clear_credentials = sim_clear_credentials,
  .statistics = sim_statistics,
  .projection = sim_projection,
  .devices = sim_devices,
  .watch = sim_watch,
  .unwatch = sim_unwatch,
};
