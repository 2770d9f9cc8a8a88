/*
 * internal.h - what the parts of the simulator backend share (src/sim/).
 *
 * The simulator runs dial scripts against scenarios instead of a server.
 * One real background thread per context plays every connection's
 * scenario on a timer and pushes its notifications through the same queue
 * the real backends use, so the core is exercised for real. Phone books
 * live in memory. Every part works under the one sim lock (s->lock).
 *
 *   backend.c   the backend table: open (from the config) and close
 *   options.c   the schema the binding reads ras.open's table by
 *   scenario.c  scenarios: defaults, entry properties, copies of the config
 *   book.c      phone books: sorted entries, the default one seeded
 *   text.c      copies of texts; secrets wiped before they are freed
 *   thread.c    the thread: its timer heap and the playing of steps
 *   calls.c     dial, attach, resume, hang-up, status, release, connections
 *   entries.c   entries and their saved credentials
 *   watch.c     ctx.watch: connections coming up and going away
 *   activity.c  other programs' connections: `established` and `activity`
 *   info.c      statistics, projection, devices
 */
#ifndef RAS_SIM_H
#define RAS_SIM_H

#include "../backend.h"
#include "../idmap.h"

/* An entry's saved credentials (set_credentials): copies, wiped when they
 * are freed; NULL: none saved. */
typedef struct saved_credentials {
  char *user, *domain, *password, *psk;
} saved_credentials;

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
  saved_credentials saved;
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

/* the config the binding fills from ras.open's table (options.c) */

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

extern const ras_backend ras_backend_sim;
extern const ras_record sim_record;               /* options.c */

/* scenario.c (sim lock held, or not yet shared) */
extern const unsigned char sim_default_states[];  /* what a dial reports by default */
extern const size_t sim_ndefault_states;
void sim_set_defaults(scenario *sc);
void sim_free_scenario(scenario *sc);
void sim_scenario_unref(scenario *sc);
int sim_copy_scenario(scenario *sc, const scenario_config *cf);
void sim_free_props(ras_entry *e);
int sim_merge_props(ras_entry *out, const ras_entry *old, const ras_entry *changes);
void sim_forget_saved(saved_credentials *t);

/* book.c (sim lock held, or not yet shared) */
int sim_seed_book(sim *s, const sim_config *cf);
void sim_free_book(sim_book *b);
sim_book *sim_find_book(sim *s, const char *name);
sim_book *sim_get_book(sim *s, const char *name);
size_t sim_book_place(const sim_book *b, const char *name, int *found);
scenario *sim_book_find(const sim_book *b, const char *name);
int sim_book_insert(sim_book *b, scenario *sc);
scenario *sim_book_take(sim_book *b, size_t i);
int sim_no_entry(ras_error *err, const char *name, const char *book);

/* text.c */
void sim_free_secret(char **text);
char *sim_dup_text(const char *s, int *ok);
void sim_copy_text(char *dst, size_t size, const char *src);
void sim_replace_text(char **slot, char *copy);

/* thread.c (sim lock held) */
int sim_ensure_thread(sim *s, ras_error *err);
void sim_set_due(ras_call *c, double due);
void sim_heap_remove(sim *s, ras_call *c);
void sim_emit(ras_call *c, int state, int error);
void sim_flush(sim *s, ras_call *c);
void sim_insert_resume(ras_call *c);

/* calls.c */
int sim_add_call(sim *s, ras_call *c);
void sim_unlink_call(sim *s, ras_call *c);
void sim_free_call(ras_call *c);
ras_call *sim_new_call(sim *s, scenario *sc, const sim_book *book);
int sim_dial(ras_instance *s, ras_feed *feed, const ras_dial_params *p,
             ras_call **out, uint64_t *id, ras_error *err);
ras_call *sim_attach(ras_instance *s, ras_feed *feed, uint64_t id, ras_error *err);
int sim_resume(ras_call *c, const ras_resume_params *p, ras_error *err);
int sim_hangup(ras_call *c, ras_error *err);
int sim_status(ras_call *c, ras_status *st);
void sim_wait(ras_call *c, double seconds);
void sim_release(ras_call *c);
ras_conn_info *sim_connections(ras_instance *s, size_t *n, ras_error *err);

/* entries.c */
ras_entry_info *sim_entries(ras_instance *s, const char *phonebook, size_t *n,
                            ras_error *err);
int sim_entry(ras_instance *s, const char *name, const char *phonebook, ras_entry *out,
              ras_arena *arena, ras_error *err);
int sim_create_entry(ras_instance *s, const ras_entry *e, ras_error *err);
int sim_update_entry(ras_instance *s, const char *name, const char *phonebook,
                     const ras_entry *changes, ras_error *err);
int sim_rename_entry(ras_instance *s, const char *old_name, const char *new_name,
                     const char *phonebook, ras_error *err);
int sim_delete_entry(ras_instance *s, const char *name, const char *phonebook,
                     ras_error *err);
int sim_validate_entry_name(ras_instance *s, const char *name, const char *phonebook,
                            ras_error *err);
int sim_credentials(ras_instance *s, const char *entry, const char *phonebook,
                    ras_credentials_info *out, ras_error *err);
int sim_set_credentials(ras_instance *s, const char *entry, const char *phonebook,
                        const ras_credentials *cred, ras_error *err);
int sim_clear_credentials(ras_instance *s, const char *entry, const char *phonebook,
                          ras_error *err);

/* watch.c (sim lock held, but for sim_watch and sim_unwatch) */
void sim_bring_up(ras_call *c, double now);
void sim_bring_down(ras_call *c, double now);
ras_watch *sim_watch(ras_instance *s, ras_feed *feed, ras_error *err);
void sim_unwatch(ras_watch *w);

/* activity.c (sim lock held, or not yet shared) */
int sim_add_established(sim *s, const char *name, ras_error *err);
int sim_add_activity(sim *s, const sim_config *cf, double opened, ras_error *err);
void sim_play_activity(sim *s, double now);

/* info.c */
int sim_add_devices(sim *s, const sim_config *cf);
int sim_statistics(ras_call *c, ras_statistics *out, ras_error *err);
int sim_projection(ras_call *c, ras_projection *out, ras_error *err);
ras_device_info *sim_devices(ras_instance *s, size_t *n, ras_error *err);

#endif
