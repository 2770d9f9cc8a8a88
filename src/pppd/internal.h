/*
 * internal.h - what the parts of the Linux backend share (src/pppd/):
 *
 *   backend.c  the backend table: open, dial, resume, hang-up, status
 *   channel.c  the plugin's lines -> RASCONNSTATE events, termination reasons
 *   watcher.c  the one thread per context: epoll over every descriptor
 *   spawn.c    starting pppd (outside every lock), signalling only our child
 *   foreign.c  other programs' pppd: pid files, checks, entries
 *   entries.c  peer files as entries: read, create, update, rename, delete
 *   secrets.c  writing files pppd trusts; pppd's chap-secrets and pap-secrets
 *   watch.c    ctx.watch: every pppd of the machine coming up and going away
 *   info.c     statistics, projection, devices
 *   plugin.c   ras_pppd.so, inside pppd (protocol.h is the contract)
 */
#ifndef RAS_PPPD_H
#define RAS_PPPD_H

#include <dirent.h>
#include <net/if.h>
#include <limits.h>
#include <sys/types.h>

#include "../backend.h"
#include "protocol.h"

#define KILL_GRACE 5.0            /* seconds between SIGTERM and SIGKILL */
#define OPTION_MAX_PATH 4096      /* ras.open's path options: Linux's PATH_MAX */
#define OPTION_MAX_WORDS 256      /* ras.open's `options`: words, and bytes each */
#define OPTION_MAX_WORD 1024
#define MAX_QUEUED 1024           /* unread events one connection may have */
#define STDERR_KEEP 240           /* bytes of pppd's output kept for messages */

extern const ras_backend ras_backend_pppd;

enum phase {
  DIALLING,   /* pppd runs, not yet up */
  UP,         /* ip-up seen */
  PAUSED,     /* pppd exited on an auth failure; resume dials again */
  ENDED,      /* pppd exited by itself; the handle lives until hang-up */
  GONE
};

/* What an epoll event points at: one descriptor of one call, or the
 * watcher's own wake-up (call NULL). */
enum watch_kind { W_WAKE, W_SOCK, W_PIDFD, W_STDERR };
typedef struct watch {
  struct ras_call *c;
  enum watch_kind kind;
} watch;

struct ras_instance {
  os_mutex *lock;
  os_cond *cond;                  /* a call changed phase */
  os_thread *watcher;
  int epoll, wake;                /* epoll set; eventfd that wakes the watcher */
  watch wake_watch;
  int stopping;
  char *pppd, *peers_dir, *plugin, *run_dir;
  char *secrets_dir;              /* where chap-secrets and pap-secrets are */
  char **options;                 /* extra pppd words for every dial */
  size_t noptions;
  struct ras_call *calls;         /* every call, doubly linked */
  struct ras_call *dead;          /* released and done: the watcher frees them */
  double next_kill;               /* earliest SIGKILL deadline; 0: none */
  int unwatched;                  /* calls without a pidfd (polled each second) */
  struct ras_watch *watchers;     /* this context's ctx.watch()es (watch.c) */
};

struct ras_call {
  ras_instance *pc;
  struct ras_call *next, *prev, *dead_next;
  ras_feed *feed;
  pid_t pid;                      /* the process we spawned (or the foreign one) */
  int sock, pidfd, errfd;         /* -1 when closed */
  watch w_sock, w_pidfd, w_err;
  int foreign, released, hangup_requested, freeing;
  int by_name;                    /* `call ENTRY` rather than `file PATH` */
  int password_only;              /* no password, and no secrets files either */
  enum phase phase;
  double kill_at;                 /* SIGKILL deadline; 0: none */
  unsigned emitted;               /* running states already reported */
  int state, substate, error, dead_status, exit_status;
  int auth_failed;                /* the peer refused our credentials */
  int contacted;                  /* the plugin said `pid` */
  int link_phase;                 /* the latest `phase` number */
  int dropping;                   /* UP and the link went down (phase 10 seen) */
  int paused_states;
  char protocol_error[96];        /* "" or why the channel was given up */
  char line[RAS_PPPD_LINE_MAX];
  size_t linelen;
  int overlong;                   /* dropping the rest of a too long line */
  char errtext[STDERR_KEEP + 1];  /* the end of pppd's stdout and stderr */
  size_t errlen;
  int errtrimmed;                 /* errtext lost its start */
  char entry[RAS_MAX_ENTRY + 1], peer_file[PATH_MAX];
  char device[64], ifname[IF_NAMESIZE], local[64], remote[64];
  char username[RAS_MAX_USER + RAS_MAX_DOMAIN + 2];
  char password[RAS_MAX_PASSWORD + 1];
  char number[RAS_MAX_NUMBER + 1], callback[RAS_MAX_NUMBER + 1];
  /* what the plugin said the link negotiated (info.c) */
  ras_projection proj;            /* valid once `projected` */
  int projected;
  long long speed;                /* bit/s; 0 unknown */
  unsigned auth;                  /* RAS_AUTH_* bit of our accepted login; 0 none */
  double up_since;                /* os_now() at the latest ip-up; 0: never */
};

void pppd_copy_text(char *dst, size_t size, const char *src);

/* channel.c (pc lock held) */
void pppd_push(ras_call *c, int state, int substate, int error, int extended,
               const char *detail);
void pppd_set_phase(ras_call *c, enum phase phase);
/* Reads what the channel has; returns 0 at end of file or on a protocol
 * error (then c->protocol_error says which and pppd is being ended). */
int pppd_read_channel(ras_call *c);
void pppd_read_stderr(ras_call *c);
/* pppd is gone and reaped: how the connection ends. */
void pppd_report_exit(ras_call *c, int wait_status, int reaped);

/* watcher.c (pc lock held) */
int pppd_watcher_start(ras_instance *pc, ras_error *err);
void pppd_watcher_wake(ras_instance *pc);
/* Puts the call's descriptors in the epoll set. */
int pppd_watch(ras_call *c, ras_error *err);
void pppd_close_fd(ras_instance *pc, int *fd);
void pppd_free_call(ras_call *c);
/* Links a new call into pc->calls. */
void pppd_link(ras_call *c);
void pppd_schedule_kill(ras_call *c, double at);
/* Queues a released call without a process for freeing by the watcher. */
void pppd_maybe_free(ras_call *c);

/* spawn.c */
typedef struct pppd_spawned {
  pid_t pid;
  int sock, pidfd, errfd;
} pppd_spawned;
/* Starts pppd for c; touches only c's dial fields, no lock needed. */
int pppd_spawn(const ras_instance *pc, const ras_call *c, pppd_spawned *out,
               ras_error *err);
int pppd_pidfd_open(pid_t pid);
/* Signals c's process through its pidfd (or, without one, a pid that is
 * still our unreaped child): 0, or an errno value. */
int pppd_signal(ras_call *c, int sig);
/* A word that would make pppd leave the foreground, or NULL. */
const char *pppd_detach_word(const char *const *words, size_t n);

/* foreign.c */
ras_conn_info *pppd_connections(ras_instance *pc, size_t *n, ras_error *err);
ras_call *pppd_attach(ras_instance *pc, ras_feed *feed, uint64_t id, ras_error *err);
ras_entry_info *pppd_entries(ras_instance *pc, const char *phonebook, size_t *n,
                             ras_error *err);
/* Is pid a pppd of this machine (executable, namespaces)? */
int pppd_is_local_pppd(pid_t pid);
/* A foreign call's state from its interface: Connected only when it is up
 * with an address. */
int pppd_foreign_state(const ras_call *c);
void pppd_interface_address(const char *ifname, unsigned long request, char *out,
                            size_t size);
int pppd_valid_entry_name(const char *name);

/* entries.c: the backend's entry and credential calls */
int pppd_entry(ras_instance *pc, const char *name, const char *phonebook, ras_entry *out,
               ras_arena *arena, ras_error *err);
int pppd_create_entry(ras_instance *pc, const ras_entry *e, ras_error *err);
int pppd_update_entry(ras_instance *pc, const char *name, const char *phonebook,
                      const ras_entry *changes, ras_error *err);
int pppd_rename_entry(ras_instance *pc, const char *old_name, const char *new_name,
                      const char *phonebook, ras_error *err);
int pppd_delete_entry(ras_instance *pc, const char *name, const char *phonebook,
                      ras_error *err);
int pppd_validate_entry_name(ras_instance *pc, const char *name, const char *phonebook,
                             ras_error *err);
int pppd_credentials(ras_instance *pc, const char *entry, const char *phonebook,
                     ras_credentials_info *out, ras_error *err);
int pppd_set_credentials(ras_instance *pc, const char *entry, const char *phonebook,
                         const ras_credentials *cred, ras_error *err);
int pppd_clear_credentials(ras_instance *pc, const char *entry, const char *phonebook,
                           ras_error *err);

/* secrets.c: files pppd trusts, written so that no value can add a word,
 * an option or a line (see there) */
typedef struct pppd_buf {
  char *p;
  size_t len, cap;
  int failed;                     /* out of memory: the contents are short */
} pppd_buf;
void pppd_buf_add(pppd_buf *b, const void *s, size_t n);
void pppd_buf_str(pppd_buf *b, const char *s);
/* s as one double-quoted word of pppd's option and secrets files. */
void pppd_buf_quote(pppd_buf *b, const char *s);
void pppd_buf_free(pppd_buf *b);  /* wipes: buffers may hold secrets */
int pppd_has_control(const char *s);

#define PPPD_NO_COMMENT ((size_t)-1)
/* A logical line of a file as pppd's getword reads it: text[start, end),
 * newline included; its words are words[word, word + nwords). */
typedef struct pppd_record {
  size_t start, end, word, nwords;
  size_t comment;                 /* where its '#' comment starts, or PPPD_NO_COMMENT */
} pppd_record;
typedef struct pppd_word_at {
  size_t raw_start, raw_end;      /* in text, quotes included */
  size_t text;                    /* the unquoted word, in texts */
} pppd_word_at;
typedef struct pppd_file {
  char *text;
  size_t len;
  unsigned mode;                  /* the file's permission bits */
  pppd_record *recs;
  size_t nrecs, recs_cap;
  pppd_word_at *words;
  size_t nwords, words_cap;
  pppd_buf texts;                 /* every word, unquoted, NUL-terminated */
  int open_end;                   /* the text ends inside a quote or after a '\\' */
  int unterminated;               /* its last line has no newline that ends it */
} pppd_file;
#define PPPD_CORRUPT_PHONEBOOK 625   /* ERROR_CORRUPT_PHONEBOOK */
/* Fails with 625: nothing can be added to a file with an open end. */
int pppd_open_end(ras_error *err, const char *dir, const char *name);
/* An O_DIRECTORY descriptor, or -1 with *err (code `missing` when it does
 * not exist, if not 0) and errno kept. */
int pppd_open_dir(const char *path, int missing, ras_error *err);
/* 0 with *f read and parsed, 1 when there is no such file, or an error
 * code (not a regular file, too big). */
int pppd_read_file(int dfd, const char *dir, const char *name, pppd_file *f, ras_error *err);
const char *pppd_word(const pppd_file *f, size_t record, size_t n);
void pppd_file_free(pppd_file *f);
int pppd_is_symlink(int dfd, const char *name);
/* Replaces dir/name with b's bytes: temp file, mode, fsync, rename (with
 * create: never over an existing file, 183). */
int pppd_write_file(int dfd, const char *dir, const char *name, const pppd_buf *b,
                    mode_t mode, int create, ras_error *err);
/* rename(2) that fails with EEXIST rather than replace. */
int pppd_rename_noreplace(int dfd, const char *from, const char *to);
/* The module's lines for one entry (key: its peer file's path) in both
 * secrets files. set: user and password (password NULL: keep the saved
 * one, if any); rename: to new_key, under user (NULL: remove them). */
int pppd_secrets_set(ras_instance *pc, const char *key, const char *user,
                     const char *password, ras_error *err);
int pppd_secrets_remove(ras_instance *pc, const char *key, ras_error *err);
int pppd_secrets_rename(ras_instance *pc, const char *key, const char *new_key,
                        const char *user, ras_error *err);
int pppd_secrets_saved(ras_instance *pc, const char *key, int *saved, ras_error *err);
/* The next valid pppd pid file of an open run_dir (watch.c): its pid, 0 at
 * the end; ifname gets its interface. */
pid_t pppd_next_pid_file(DIR *d, const char *run_dir, char ifname[IF_NAMESIZE]);
void pppd_entry_of_process(pid_t pid, char *entry, size_t size);
/* Up with an IPv4 address: the link is Connected. */
int pppd_interface_connected(const char *ifname);

/* info.c */
int pppd_statistics(ras_call *c, ras_statistics *out, ras_error *err);
int pppd_projection(ras_call *c, ras_projection *out, ras_error *err);
ras_device_info *pppd_devices(ras_instance *pc, size_t *n, ras_error *err);
/* channel.c's lines (pc lock held): `projection ...`, `auth-ok <proto>` */
void pppd_on_projection(ras_call *c, const char *args);
void pppd_on_auth_ok(ras_call *c, const char *proto);

/* watch.c */
ras_watch *pppd_watch_start(ras_instance *pc, ras_feed *feed, ras_error *err);
void pppd_unwatch(ras_watch *w);
/* This context's own dial reached Connected, or its pppd is gone and
 * reaped: told to the context's watchers at once (pc lock held), so that
 * a link too short for a scan of the pid files is still reported. */
void pppd_watchers_connected(ras_call *c);   /* Connected, or Reconnected */
void pppd_watchers_dropping(ras_call *c);    /* a `persist` link went down */
void pppd_watchers_ended(ras_call *c);

#endif
