/*
 * backend_pppd.c - Linux: connections are pppd processes.
 *
 * A dial runs `pppd call ENTRY nodetach plugin ras_pppd.so ras-fd 3` with
 * one end of a socket pair as fd 3. Through it we hand the plugin the user
 * name and password (so they never reach pppd's command line, environment
 * or a file) and read back its events: phases, authentication results,
 * ip-up/ip-down and the true termination reason (the protocol is described
 * in pppd_plugin.c). One watcher thread per context reads every channel,
 * maps the events onto RASCONNSTATE, reaps pppd and enforces the SIGKILL
 * grace period of a hang-up.
 *
 * Connections started by other programs are found through pppd's pid files
 * and watched through a pidfd.
 */
#ifdef __linux__
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <ctype.h>
#include <dirent.h>
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <net/if.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "backend.h"

extern char **environ;
extern const ras_backend ras_backend_pppd;

#define KILL_GRACE 5.0            /* seconds between SIGTERM and SIGKILL */
#define PLUGIN_MAX_SECRET 255     /* the plugin's limit for user and password */
#define OPTION_MAX_PATH 4096      /* ras.open's path options: Linux's PATH_MAX */
#define OPTION_MAX_WORDS 256      /* ras.open's `options`: words, and bytes each */
#define OPTION_MAX_WORD 1024
/* Longest wait() sleeps at once: the contract says never forever, and the
 * hang-up loop asks the status again after each. */
#define WAIT_SLICE 1.0

/* pppd's exit statuses (pppd(8)), the `dead` reasons of the plugin */
enum {
  EXIT_OK = 0, EXIT_FATAL = 1, EXIT_OPTION = 2, EXIT_NOT_ROOT = 3,
  EXIT_NO_KERNEL = 4, EXIT_SIGNAL = 5, EXIT_LOCK = 6, EXIT_OPEN = 7,
  EXIT_CONNECT = 8, EXIT_PTYCMD = 9, EXIT_NEGOTIATION = 10,
  EXIT_PEER_AUTH = 11, EXIT_IDLE = 12, EXIT_CONNECT_TIME = 13,
  EXIT_CALLBACK = 14, EXIT_PEER_DEAD = 15, EXIT_HANGUP = 16,
  EXIT_LOOPBACK = 17, EXIT_INIT = 18, EXIT_AUTH_TOPEER = 19,
  EXIT_TRAFFIC = 20, EXIT_CNID = 21
};

/* ras.open("pppd", options), as the binding fills it by pppd_options;
 * NULL strings take the defaults. */
typedef struct pppd_config {
  const char *peers_dir, *pppd, *plugin, *run_dir;
  const char **options;
  size_t noptions;
} pppd_config;

struct ras_instance {
  os_mutex *lock;
  os_cond *cond;                  /* a call changed phase */
  os_thread *watcher;
  int wake[2];                    /* tells the watcher the call list changed */
  int stopping;
  char *pppd, *peers_dir, *plugin, *run_dir;
  char **options;                 /* extra pppd words for every dial */
  size_t noptions;
  struct ras_call *calls;
};

enum phase {
  DIALLING,   /* pppd runs, not yet up */
  UP,         /* ip-up seen */
  PAUSED,     /* pppd exited on an auth failure; resume dials again */
  ENDED,      /* pppd exited by itself; the handle lives until hang-up */
  GONE
};

struct ras_call {
  ras_instance *pc;
  struct ras_call *next;
  ras_feed *feed;
  pid_t pid;
  int sock, pidfd;                /* -1 when closed */
  int foreign, released, hangup_requested;
  int by_name;                    /* `call ENTRY` rather than `file PATH` */
  enum phase phase;
  double kill_at;                 /* SIGKILL deadline; 0: none */
  unsigned emitted;               /* running states already reported */
  int state, error, dead_status, exit_status;
  int auth_failed;                /* the peer refused our credentials */
  int paused_states;
  char line[512];
  size_t linelen;
  char entry[RAS_MAX_ENTRY + 1], peer_file[PATH_MAX];
  char device[64], ifname[IF_NAMESIZE], local[64], remote[64];
  char username[RAS_MAX_USER + RAS_MAX_DOMAIN + 2];
  char password[RAS_MAX_PASSWORD + 1];
  char number[RAS_MAX_NUMBER + 1], callback[RAS_MAX_NUMBER + 1];
};

/* ---------------------------------------------------------------------- */
/* termination reasons                                                    */

static const char *reason_text(int status) {
  static const char *const texts[] = {
    "pppd ended normally", "pppd hit a fatal error", "pppd option error",
    "pppd must run as root", "no kernel PPP support (/dev/ppp)",
    "pppd was stopped by a signal", "the serial port lock failed",
    "the serial port could not be opened", "the connect script failed",
    "the pty command failed", "PPP negotiation failed",
    "the peer failed to authenticate itself", "the link was idle",
    "the connect time limit was reached", "callback was negotiated",
    "the peer stopped answering echo requests", "the modem hung up",
    "a loopback was detected", "the init script failed",
    "we failed to authenticate to the peer", "the traffic limit was reached",
    "CNID authentication failed"
  };
  if (status >= 0 && status < (int)(sizeof texts / sizeof texts[0]))
    return texts[status];
  return "pppd ended";
}

/* The RAS error for pppd's termination reason. */
static int reason_error(int status, int was_up) {
  int dropped = was_up ? RAS_ERROR_REMOTE_DISCONNECTION : RAS_ERROR_PORT_DISCONNECTED;
  switch (status) {
  case EXIT_AUTH_TOPEER: case EXIT_PEER_AUTH: case EXIT_CNID:
    return RAS_ERROR_AUTHENTICATION_FAILURE;
  case EXIT_CONNECT: return RAS_ERROR_NO_ANSWER;
  case EXIT_LOCK: case EXIT_OPEN: return RAS_ERROR_DEVICE_NOT_READY;
  case EXIT_NEGOTIATION: return RAS_ERROR_PPP_LCP_TERMINATED;
  case EXIT_PEER_DEAD: return was_up ? RAS_ERROR_REMOTE_DISCONNECTION : RAS_ERROR_PPP_TIMEOUT;
  case EXIT_LOOPBACK: return 737;
  case EXIT_OK: case EXIT_HANGUP: case EXIT_SIGNAL: case EXIT_IDLE:
  case EXIT_CONNECT_TIME: case EXIT_TRAFFIC:
    return dropped;
  default: return RAS_ERROR_FROM_DEVICE;
  }
}

/* ---------------------------------------------------------------------- */
/* events (pc lock held)                                                  */

static void push(ras_call *c, int state, int error, int extended, const char *detail) {
  ras_event ev = { .state = state, .error = error, .extended_error = extended,
                   .time = os_now() };
  c->state = state;
  if (error) c->error = error;
  if (!c->feed) return;
  if (detail) ev.detail = strdup(detail);
  ras_feed_push(c->feed, &ev);
}

/* Reports a running state once per dial attempt. */
static void reach(ras_call *c, int state) {
  if (c->emitted & (1u << state)) return;
  c->emitted |= 1u << state;
  push(c, state, 0, 0, NULL);
}

static void set_phase(ras_call *c, enum phase phase) {
  c->phase = phase;
  os_cond_broadcast(c->pc->cond);
}

static void on_phase(ras_call *c, int phase) {
  if (c->phase != DIALLING) return;   /* after ip-up only `dead` matters */
  switch (phase) {
  case 2: reach(c, RAS_PortOpened); reach(c, RAS_ConnectDevice); break;
  case 4: reach(c, RAS_DeviceConnected); break;
  case 5: reach(c, RAS_AllDevicesConnected); reach(c, RAS_Authenticate); break;
  case 6: reach(c, RAS_PrepareForCallback); reach(c, RAS_WaitForCallback); break;
  case 7: reach(c, RAS_AllDevicesConnected); reach(c, RAS_AuthProject); break;
  default: break;
  }
}

static void on_ip_up(ras_call *c, const char *args) {
  if (sscanf(args, "%15s %63s %63s", c->ifname, c->local, c->remote) != 3) return;
  reach(c, RAS_AuthProject);
  reach(c, RAS_Projected);
  push(c, RAS_Connected, 0, 0, NULL);
  set_phase(c, UP);
  os_wipe(c->password, sizeof c->password);  /* no resume after Connected */
}

static void on_line(ras_call *c, char *line) {
  char *args = strchr(line, ' ');
  if (args) *args++ = '\0';
  else args = "";
  if (strcmp(line, "phase") == 0) on_phase(c, atoi(args));
  else if (strcmp(line, "auth-ok") == 0 && c->phase == DIALLING) {
    reach(c, RAS_Authenticate);
    reach(c, RAS_Authenticated);
  } else if (strcmp(line, "auth-fail") == 0) c->auth_failed = 1;
  else if (strcmp(line, "ip-up") == 0) on_ip_up(c, args);
  else if (strcmp(line, "device") == 0) snprintf(c->device, sizeof c->device, "%s", args);
  else if (strcmp(line, "pid") == 0) c->pid = atoi(args);
  else if (strcmp(line, "dead") == 0) c->dead_status = atoi(args);
  else if (strcmp(line, "exit") == 0) c->exit_status = atoi(args);
}

/* pppd is gone and reaped: how the connection ends. */
static void on_exit_of_pppd(ras_call *c) {
  int status = c->dead_status >= 0 ? c->dead_status : c->exit_status;
  /* the peer may drop the line before pppd notices our failed login */
  if (c->auth_failed && c->phase == DIALLING) status = EXIT_AUTH_TOPEER;
  int was_up = c->phase == UP;
  char detail[96];
  if (c->hangup_requested) {
    set_phase(c, GONE);   /* the binding reports the hang-up itself */
    return;
  }
  if (status == EXIT_AUTH_TOPEER && c->paused_states && !was_up) {
    push(c, RAS_RetryAuthentication, 0, 0, NULL);
    set_phase(c, PAUSED);
    return;
  }
  if (status < 0) status = EXIT_FATAL;
  snprintf(detail, sizeof detail, "%s, pppd status %d", reason_text(status), status);
  push(c, RAS_Disconnected, reason_error(status, was_up), status, detail);
  set_phase(c, ENDED);
}

/* ---------------------------------------------------------------------- */
/* the watcher thread                                                     */

static void close_fd(int *fd) {
  if (*fd >= 0) close(*fd);
  *fd = -1;
}

/* Reads what the channel has; returns 0 at end of file. */
static int read_channel(ras_call *c) {
  for (;;) {
    ssize_t n = read(c->sock, c->line + c->linelen, sizeof c->line - 1 - c->linelen);
    char *start, *nl;
    if (n == 0) return 0;
    if (n < 0) return errno == EAGAIN || errno == EINTR;
    c->linelen += (size_t)n;
    c->line[c->linelen] = '\0';
    start = c->line;
    while ((nl = strchr(start, '\n')) != NULL) {
      *nl = '\0';
      on_line(c, start);
      start = nl + 1;
    }
    c->linelen -= (size_t)(start - c->line);
    memmove(c->line, start, c->linelen);
    if (c->linelen == sizeof c->line - 1) c->linelen = 0;  /* no such lines */
  }
}

/* The process ended: read what it said last, reap, report. */
static void finish(ras_call *c) {
  int st;
  if (c->sock >= 0) read_channel(c);
  close_fd(&c->sock);
  close_fd(&c->pidfd);
  if (!c->foreign && c->pid > 0 && waitpid(c->pid, &st, 0) == c->pid && c->dead_status < 0 &&
      c->exit_status < 0 && WIFEXITED(st))
    c->exit_status = WEXITSTATUS(st);
  c->kill_at = 0;
  if (c->foreign) {
    if (!c->hangup_requested)
      push(c, RAS_Disconnected, RAS_ERROR_REMOTE_DISCONNECTION, 0, "pppd ended");
    set_phase(c, GONE);
  } else {
    on_exit_of_pppd(c);
  }
}

/* Without a pidfd (kernels before 5.3, valgrind) the watcher looks again
 * at least once a second. */
static int process_exited(ras_call *c) {
  siginfo_t info;
  if (c->pidfd >= 0) {
    struct pollfd p = { c->pidfd, POLLIN, 0 };
    return poll(&p, 1, 0) > 0;
  }
  if (c->foreign) return kill(c->pid, 0) != 0 && errno == ESRCH;
  memset(&info, 0, sizeof info);
  if (waitid(P_PID, (id_t)c->pid, &info, WEXITED | WNOHANG | WNOWAIT) != 0)
    return errno == ECHILD;   /* reaped by someone else (SIGCHLD ignored) */
  return info.si_pid == c->pid;
}

static void free_call(ras_call *c) {
  close_fd(&c->sock);
  close_fd(&c->pidfd);
  if (c->feed) ras_feed_unref(c->feed);
  os_wipe(c, sizeof *c);
  free(c);
}

/* One round: handle what is ready, free what is done. Lock held. */
static void service(ras_instance *pc, double now) {
  ras_call **pp = &pc->calls;
  while (*pp) {
    ras_call *c = *pp;
    if (c->sock >= 0 && !read_channel(c)) close_fd(&c->sock);
    if ((c->phase == DIALLING || c->phase == UP) && (c->sock < 0 || c->pidfd >= 0) &&
        process_exited(c))
      finish(c);
    if (c->kill_at > 0 && now >= c->kill_at) {
      kill(c->pid, SIGKILL);
      c->kill_at = 0;
    }
    if (c->released && c->phase >= PAUSED) {   /* no process, nobody watching */
      *pp = c->next;
      free_call(c);
      continue;
    }
    pp = &c->next;
  }
}

/* Room for the wake-up pipe and two descriptors per call; lock held. */
static struct pollfd *poll_set(ras_instance *pc, struct pollfd *fds, size_t *cap) {
  size_t need = 1;
  for (ras_call *c = pc->calls; c; c = c->next) need += 2;
  if (need > *cap) {
    struct pollfd *grown = realloc(fds, need * sizeof *fds);
    if (!grown) return fds;   /* keep the old set: the 1 s timeout still services all */
    fds = grown;
    *cap = need;
  }
  return fds;
}

static void watcher(void *arg) {
  ras_instance *pc = arg;
  struct pollfd *fds = NULL;
  size_t cap = 0;
  os_mutex_lock(pc->lock);
  while (!pc->stopping) {
    nfds_t n = 1;
    double next = -1, now = os_now();
    char drain[64];
    fds = poll_set(pc, fds, &cap);
    if (!fds) {
      os_cond_wait(pc->cond, pc->lock, 1.0);
      service(pc, os_now());
      continue;
    }
    fds[0].fd = pc->wake[0];
    fds[0].events = POLLIN;
    for (ras_call *c = pc->calls; c && n + 2 <= cap; c = c->next) {
      if (c->sock >= 0) fds[n].fd = c->sock, fds[n++].events = POLLIN;
      if (c->pidfd >= 0) fds[n].fd = c->pidfd, fds[n++].events = POLLIN;
      if (c->kill_at > 0 && (next < 0 || c->kill_at < next)) next = c->kill_at;
    }
    os_mutex_unlock(pc->lock);
    poll(fds, n, next < 0 ? 1000 : (int)((next > now ? next - now : 0) * 1000) + 1);
    while (read(pc->wake[0], drain, sizeof drain) > 0) {}
    os_mutex_lock(pc->lock);
    service(pc, os_now());
  }
  os_mutex_unlock(pc->lock);
  free(fds);
}

static void wake_watcher(ras_instance *pc) {
  ssize_t n = write(pc->wake[1], "x", 1);
  (void)n;  /* a full pipe is already a pending wake-up */
}

/* pc lock held */
static int ensure_watcher(ras_instance *pc, ras_error *err) {
  if (pc->watcher) return 0;
  pc->watcher = os_thread_start(watcher, pc);
  return pc->watcher ? 0 : ras_fail(err, RAS_ERROR_NOT_ENOUGH_MEMORY,
                                    "cannot start the pppd watcher thread");
}

/* ---------------------------------------------------------------------- */
/* starting pppd                                                          */

static int pidfd_of(pid_t pid) {
#ifdef SYS_pidfd_open
  int fd = (int)syscall(SYS_pidfd_open, pid, 0);
  if (fd >= 0) fcntl(fd, F_SETFD, FD_CLOEXEC);
  return fd;
#else
  (void)pid;
  return -1;
#endif
}

/* The plugin's header and the secrets, written before pppd starts. */
static int send_secrets(int sock, const ras_call *c) {
  char buf[32 + sizeof c->username + sizeof c->password];
  size_t ulen = strlen(c->username), plen = strlen(c->password);
  int head = snprintf(buf, 32, "auth %zu %zu\n", ulen, plen);
  size_t len = (size_t)head;
  ssize_t n;
  memcpy(buf + len, c->username, ulen);
  len += ulen;
  memcpy(buf + len, c->password, plen);
  len += plen;
  n = write(sock, buf, len);
  os_wipe(buf, sizeof buf);
  return n == (ssize_t)len ? 0 : -1;
}

/* pppd, call|file, the peer, nodetach, plugin, its path, ras-fd, 3 and
 * callback NUMBER, around the context's options, then NULL: every word
 * ras.open and dial can give fits. */
#define FIXED_WORDS 10

typedef struct argv_builder {
  char *words[FIXED_WORDS + OPTION_MAX_WORDS + 1];
  int n;
} argv_builder;

static void add_word(argv_builder *a, const char *w) {
  if (a->n < (int)(sizeof a->words / sizeof a->words[0]) - 1) a->words[a->n++] = (char *)w;
  a->words[a->n] = NULL;
}

/* Variables pppd does not inherit: our own, and preloads, which have no
 * business in a daemon that runs as root (sudo drops them too). */
static int inherited(const char *var) {
  static const char *const dropped[] = { "RAS_NUMBER=", "LD_PRELOAD=", "LD_AUDIT=", NULL };
  for (int i = 0; dropped[i]; i++)
    if (strncmp(var, dropped[i], strlen(dropped[i])) == 0) return 0;
  return 1;
}

/* The environment plus RAS_NUMBER=..., for the peer's connect script. */
static char **child_environment(const ras_call *c, char *number_var, size_t size) {
  size_t n = 0;
  char **env;
  while (environ[n]) n++;
  env = calloc(n + 2, sizeof *env);
  if (!env) return NULL;
  for (size_t i = 0, j = 0; i < n; i++)
    if (inherited(environ[i])) env[j++] = environ[i];
  if (c->number[0]) {
    snprintf(number_var, size, "RAS_NUMBER=%s", c->number);
    for (n = 0; env[n]; n++) {}
    env[n] = number_var;
  }
  return env;
}

/* Out of processes, memory or descriptors: say which (code 8 or 4). A
 * pppd that cannot be run at all is the device's error, as before. */
static int spawn_failure(ras_error *err, int rc, const char *pppd) {
  if (rc == EAGAIN || rc == ENOMEM || rc == EMFILE || rc == ENFILE)
    return ras_fail_errno(err, rc, "cannot start pppd");
  return ras_fail(err, RAS_ERROR_FROM_DEVICE, "cannot run %s: %s", pppd, strerror(rc));
}

static int spawn_pppd(ras_instance *pc, ras_call *c, ras_error *err) {
  argv_builder a = { { NULL }, 0 };
  posix_spawn_file_actions_t fa;
  posix_spawnattr_t attr;
  sigset_t none, defaults;
  static const int reset[] = { SIGPIPE, SIGCHLD, SIGINT, SIGTERM, SIGHUP, SIGQUIT,
                               SIGUSR1, SIGUSR2, SIGALRM };
  char number_var[32 + RAS_MAX_NUMBER], **env;
  int sv[2], child, rc;
  if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0)
    return ras_fail_errno(err, errno, "cannot create the socket pair for pppd's channel");
  /* fd 3 in the child: keep our copy above it so that dup2 really copies */
  child = fcntl(sv[1], F_DUPFD_CLOEXEC, 10);
  if (child < 0) {
    rc = errno;
    close(sv[0]);
    close(sv[1]);
    return ras_fail_errno(err, rc, "cannot duplicate pppd's channel descriptor");
  }
  close(sv[1]);
  if (send_secrets(sv[0], c) != 0) {
    close(sv[0]);
    close(child);
    return ras_fail(err, RAS_ERROR_FROM_DEVICE, "cannot set up the pppd channel");
  }
  add_word(&a, pc->pppd);
  if (c->by_name) add_word(&a, "call"), add_word(&a, c->entry);
  else add_word(&a, "file"), add_word(&a, c->peer_file);
  add_word(&a, "nodetach");
  add_word(&a, "plugin");
  add_word(&a, pc->plugin);
  add_word(&a, "ras-fd");
  add_word(&a, "3");
  for (size_t i = 0; i < pc->noptions; i++) add_word(&a, pc->options[i]);
  if (c->callback[0]) add_word(&a, "callback"), add_word(&a, c->callback);
  env = child_environment(c, number_var, sizeof number_var);
  posix_spawn_file_actions_init(&fa);
  /* pppd logs to stderr under nodetach: keep it out of the script's output
   * (it logs to syslog too) */
  for (int fd = 0; fd <= 2; fd++)
    posix_spawn_file_actions_addopen(&fa, fd, "/dev/null", fd ? O_WRONLY : O_RDONLY, 0);
  posix_spawn_file_actions_adddup2(&fa, child, 3);
  posix_spawnattr_init(&attr);
  sigemptyset(&none);
  sigemptyset(&defaults);
  for (size_t i = 0; i < sizeof reset / sizeof reset[0]; i++) sigaddset(&defaults, reset[i]);
  posix_spawnattr_setsigmask(&attr, &none);
  posix_spawnattr_setsigdefault(&attr, &defaults);
  /* its own session: a Ctrl-C aimed at the script does not cut the link */
  posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF |
                                  POSIX_SPAWN_SETSID);
  rc = env ? posix_spawn(&c->pid, pc->pppd, &fa, &attr, a.words, env) : ENOMEM;
  posix_spawn_file_actions_destroy(&fa);
  posix_spawnattr_destroy(&attr);
  free(env);
  close(child);
  if (rc != 0) {
    close(sv[0]);
    return spawn_failure(err, rc, pc->pppd);
  }
  fcntl(sv[0], F_SETFL, O_NONBLOCK);
  c->sock = sv[0];
  c->pidfd = pidfd_of(c->pid);
  c->dead_status = c->exit_status = -1;
  c->auth_failed = 0;
  c->linelen = 0;
  c->phase = DIALLING;
  return 0;
}

/* ---------------------------------------------------------------------- */
/* the backend interface                                                  */

static int valid_entry_name(const char *name) {
  return name[0] && name[0] != '.' && !strchr(name, '/');
}

static void copy_text(char *dst, size_t size, const char *src) {
  snprintf(dst, size, "%s", src ? src : "");
}

static int store_credentials(ras_call *c, const char *user, const char *password,
                             const char *domain, ras_error *err) {
  if (user) {
    if (domain && domain[0]) snprintf(c->username, sizeof c->username, "%s\\%s", domain, user);
    else copy_text(c->username, sizeof c->username, user);
  }
  if (password) copy_text(c->password, sizeof c->password, password);
  if (strlen(c->username) > PLUGIN_MAX_SECRET)
    return ras_fail(err, RAS_BAD_ARGUMENT,
                    "bad parameter 'username' (pppd takes at most %d bytes%s)",
                    PLUGIN_MAX_SECRET, domain && domain[0] ? ", domain included" : "");
  if (strlen(c->password) > PLUGIN_MAX_SECRET)
    return ras_fail(err, RAS_BAD_ARGUMENT,
                    "bad parameter 'password' (pppd takes at most %d bytes)", PLUGIN_MAX_SECRET);
  return 0;
}

static int pppd_dial(ras_instance *pc, ras_feed *feed, const ras_dial_params *p,
                     ras_call **out, uint64_t *id, ras_error *err) {
  const char *dir = p->phonebook ? p->phonebook : pc->peers_dir;
  struct stat st;
  ras_call *c;
  if (!p->entry || !valid_entry_name(p->entry))
    return ras_fail(err, RAS_ERROR_CANNOT_FIND_PHONEBOOK_ENTRY,
                    "pppd dials a peer file: an entry name is required");
  c = calloc(1, sizeof *c);
  if (!c) return ras_fail(err, RAS_ERROR_NOT_ENOUGH_MEMORY, "out of memory");
  c->pc = pc;
  c->sock = c->pidfd = -1;
  copy_text(c->entry, sizeof c->entry, p->entry);
  snprintf(c->peer_file, sizeof c->peer_file, "%s/%s", dir, p->entry);
  c->by_name = strcmp(dir, "/etc/ppp/peers") == 0;
  copy_text(c->number, sizeof c->number, p->number);
  copy_text(c->callback, sizeof c->callback, p->callback_number);
  c->paused_states = p->paused_states;
  if (stat(c->peer_file, &st) != 0 || !S_ISREG(st.st_mode)) {
    free_call(c);
    return ras_fail(err, RAS_ERROR_CANNOT_FIND_PHONEBOOK_ENTRY,
                    "no peer file '%s' in %s", p->entry, dir);
  }
  if (access(pc->plugin, R_OK) != 0) {
    free_call(c);
    return ras_fail(err, RAS_ERROR_FROM_DEVICE, "the pppd plugin %s is missing: "
                    "install it beside the module or give ras.open the plugin option",
                    pc->plugin);
  }
  if (store_credentials(c, p->username, p->password, p->domain, err) != 0) {
    free_call(c);
    return err->code;
  }
  os_mutex_lock(pc->lock);
  if (ensure_watcher(pc, err) != 0 || spawn_pppd(pc, c, err) != 0) {
    os_mutex_unlock(pc->lock);
    free_call(c);
    return err->code;
  }
  ras_feed_ref(feed);
  c->feed = feed;
  push(c, RAS_OpenPort, 0, 0, NULL);
  c->emitted = 1u << RAS_OpenPort;
  c->next = pc->calls;
  pc->calls = c;
  *id = (uint64_t)c->pid;
  wake_watcher(pc);
  os_mutex_unlock(pc->lock);
  *out = c;
  return 0;
}

static int pppd_resume(ras_call *c, const ras_resume_params *p, ras_error *err) {
  ras_instance *pc = c->pc;
  int rc = 0;
  os_mutex_lock(pc->lock);
  if (c->phase != PAUSED) {
    rc = ras_fail(err, RAS_ERROR_INVALID_PARAMETER,
                  "the connection is not in a paused state (%s)", ras_state_name(c->state));
  } else if ((rc = store_credentials(c, p->username, p->new_password ? p->new_password
                                     : p->password, p->domain, err)) == 0 &&
             (rc = spawn_pppd(pc, c, err)) == 0) {
    /* a new pppd: report authentication again, not the way to it */
    c->emitted &= (1u << RAS_Authenticate) - 1;
    c->state = RAS_Authenticate;
    wake_watcher(pc);
  }
  os_mutex_unlock(pc->lock);
  return rc;
}

static int pppd_hangup(ras_call *c, ras_error *err) {
  ras_instance *pc = c->pc;
  int rc = 0;
  os_mutex_lock(pc->lock);
  if (c->phase == PAUSED || c->phase == ENDED) set_phase(c, GONE);
  else if (c->phase != GONE && !c->hangup_requested) {
    if (kill(c->pid, SIGTERM) != 0 && errno != ESRCH) {
      rc = ras_fail(err, errno == EPERM ? 5 : RAS_ERROR_FROM_DEVICE,
                    "cannot signal pppd (pid %d): %s", (int)c->pid, strerror(errno));
    } else {
      c->hangup_requested = 1;
      c->kill_at = c->foreign ? 0 : os_now() + KILL_GRACE;
      wake_watcher(pc);
    }
  }
  os_mutex_unlock(pc->lock);
  return rc;
}

/* Address of an interface from the kernel (foreign connections). */
static void interface_address(const char *ifname, unsigned long request, char *out, size_t size) {
  struct ifreq ifr;
  int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (s < 0) return;
  memset(&ifr, 0, sizeof ifr);
  snprintf(ifr.ifr_name, sizeof ifr.ifr_name, "%s", ifname);
  if (ioctl(s, request, &ifr) == 0)
    inet_ntop(AF_INET, &((struct sockaddr_in *)&ifr.ifr_addr)->sin_addr, out, (socklen_t)size);
  close(s);
}

static int pppd_status(ras_call *c, ras_status *st) {
  ras_instance *pc = c->pc;
  int rc = 0;
  os_mutex_lock(pc->lock);
  if (c->phase == GONE) rc = RAS_ERROR_INVALID_HANDLE;
  else {
    st->state = c->state;
    st->substate = RAS_SUB_None;
    st->error = c->error;
    copy_text(st->device_type, sizeof st->device_type, "ppp");
    copy_text(st->device_name, sizeof st->device_name, c->device);
    copy_text(st->interface, sizeof st->interface, c->ifname);
    copy_text(st->local_address, sizeof st->local_address, c->local);
    copy_text(st->remote_address, sizeof st->remote_address, c->remote);
  }
  os_mutex_unlock(pc->lock);
  if (rc == 0 && c->foreign && c->ifname[0] && !st->local_address[0]) {
    interface_address(c->ifname, SIOCGIFADDR, st->local_address, sizeof st->local_address);
    interface_address(c->ifname, SIOCGIFDSTADDR, st->remote_address, sizeof st->remote_address);
  }
  return rc;
}

static void pppd_wait(ras_call *c, double seconds) {
  ras_instance *pc = c->pc;
  if (!(seconds >= 0 && seconds <= WAIT_SLICE)) seconds = WAIT_SLICE;
  os_mutex_lock(pc->lock);
  if (c->phase != GONE) os_cond_wait(pc->cond, pc->lock, seconds);
  os_mutex_unlock(pc->lock);
}

static void pppd_release(ras_call *c) {
  ras_instance *pc = c->pc;
  ras_feed *feed;
  os_mutex_lock(pc->lock);
  feed = c->feed;
  c->feed = NULL;
  c->released = 1;
  os_wipe(c->password, sizeof c->password);
  wake_watcher(pc);   /* it frees the call once it is gone */
  os_mutex_unlock(pc->lock);
  if (feed) ras_feed_unref(feed);
}

/* foreign connections: pppd's pid files */

/* A pid file: the pid, then (ppp-LINKNAME.pid) the interface; 0 if none. */
static pid_t read_pid_file(const char *path, char ifname[IF_NAMESIZE]) {
  FILE *f = fopen(path, "re");
  int pid = 0;
  ifname[0] = '\0';
  if (!f) return 0;
  if (fscanf(f, "%d", &pid) != 1) pid = 0;
  if (fscanf(f, "%15s", ifname) != 1) ifname[0] = '\0';
  fclose(f);
  return pid;
}

/* The next pppd pid file of run_dir: its pid (0 when there is none left)
 * and its interface (a pppN.pid file is named after it). */
static pid_t next_pid_file(DIR *d, const char *run_dir, char ifname[IF_NAMESIZE]) {
  struct dirent *e;
  while ((e = readdir(d)) != NULL) {
    const char *dot = strstr(e->d_name, ".pid");
    char path[PATH_MAX];
    pid_t pid;
    if (strncmp(e->d_name, "ppp", 3) != 0 || !dot) continue;
    snprintf(path, sizeof path, "%s/%s", run_dir, e->d_name);
    if ((pid = read_pid_file(path, ifname)) <= 0) continue;
    if (!ifname[0] && isdigit((unsigned char)e->d_name[3]))
      snprintf(ifname, IF_NAMESIZE, "%.*s", (int)(dot - e->d_name), e->d_name);
    return pid;
  }
  return 0;
}

/* The entry a pppd was started for: `call NAME`, `file PATH`, else "". */
static void entry_of_process(pid_t pid, char *entry, size_t size) {
  char path[64], args[4096];
  size_t n;
  FILE *f;
  entry[0] = '\0';
  snprintf(path, sizeof path, "/proc/%d/cmdline", (int)pid);
  if (!(f = fopen(path, "re"))) return;
  n = fread(args, 1, sizeof args - 1, f);
  fclose(f);
  args[n] = '\0';
  for (char *w = args; w < args + n; w += strlen(w) + 1) {
    char *next = w + strlen(w) + 1;
    if (next >= args + n) break;
    if (strcmp(w, "call") == 0) { copy_text(entry, size, next); return; }
    if (strcmp(w, "file") == 0) {
      const char *slash = strrchr(next, '/');
      copy_text(entry, size, slash ? slash + 1 : next);
      return;
    }
  }
}

static int is_pppd(pid_t pid) {
  char path[64], comm[32] = "";
  FILE *f;
  snprintf(path, sizeof path, "/proc/%d/comm", (int)pid);
  if (!(f = fopen(path, "re"))) return 0;
  if (!fgets(comm, sizeof comm, f)) comm[0] = '\0';
  fclose(f);
  return strncmp(comm, "pppd", 4) == 0;
}

static ras_call *own_call(ras_instance *pc, pid_t pid) {
  for (ras_call *c = pc->calls; c; c = c->next)
    if (c->pid == pid && c->phase != GONE) return c;
  return NULL;
}

typedef struct info_list {
  ras_conn_info *items;
  size_t n, cap;
} info_list;

static int add_info(info_list *l, uint64_t id, const char *entry, const char *phonebook) {
  if (l->n == l->cap) {
    size_t cap = l->cap ? 2 * l->cap : 8;
    ras_conn_info *items = realloc(l->items, cap * sizeof *items);
    if (!items) return -1;
    l->items = items;
    l->cap = cap;
  }
  memset(&l->items[l->n], 0, sizeof l->items[0]);
  l->items[l->n].id = id;
  copy_text(l->items[l->n].entry, sizeof l->items[0].entry, entry);
  copy_text(l->items[l->n].phonebook, sizeof l->items[0].phonebook, phonebook);
  l->n++;
  return 0;
}

/* Foreign pppd processes with a pid file in the run directory. */
static int scan_pid_files(ras_instance *pc, info_list *l) {
  DIR *d = opendir(pc->run_dir);
  char ifname[IF_NAMESIZE];
  pid_t pid;
  if (!d) return 0;
  while ((pid = next_pid_file(d, pc->run_dir, ifname)) > 0) {
    char entry[RAS_MAX_ENTRY + 1];
    int listed = 0;
    for (size_t i = 0; i < l->n; i++) listed |= l->items[i].id == (uint64_t)pid;
    if (listed || !is_pppd(pid)) continue;
    entry_of_process(pid, entry, sizeof entry);
    if (add_info(l, (uint64_t)pid, entry, pc->peers_dir) != 0) break;
  }
  closedir(d);
  return 0;
}

static ras_conn_info *pppd_connections(ras_instance *pc, size_t *n, ras_error *err) {
  info_list l = { NULL, 0, 0 };
  os_mutex_lock(pc->lock);
  for (ras_call *c = pc->calls; c; c = c->next)   /* ours, and foreign ones we watch */
    if (c->phase != GONE) add_info(&l, (uint64_t)c->pid, c->entry, pc->peers_dir);
  scan_pid_files(pc, &l);
  os_mutex_unlock(pc->lock);
  if (!l.items && !(l.items = calloc(1, sizeof *l.items))) {
    ras_fail(err, RAS_ERROR_NOT_ENOUGH_MEMORY, "out of memory");
    return NULL;
  }
  *n = l.n;
  return l.items;
}

/* The interface a foreign pppd runs, from its pid file. */
static void interface_of(ras_instance *pc, pid_t pid, char *ifname, size_t size) {
  DIR *d = opendir(pc->run_dir);
  char name[IF_NAMESIZE];
  pid_t found;
  ifname[0] = '\0';
  if (!d) return;
  while ((found = next_pid_file(d, pc->run_dir, name)) > 0 && !(found == pid && name[0])) {}
  if (found == pid) copy_text(ifname, size, name);
  closedir(d);
}

static ras_call *pppd_attach(ras_instance *pc, ras_feed *feed, uint64_t id,
                             ras_error *err) {
  pid_t pid = (pid_t)id;
  ras_call *c;
  os_mutex_lock(pc->lock);
  c = own_call(pc, pid);
  if (c && !c->feed) {
    ras_feed_ref(feed);
    c->feed = feed;
    c->released = 0;
  } else if (!c && is_pppd(pid) && (c = calloc(1, sizeof *c)) != NULL) {
    c->pc = pc;
    c->pid = pid;
    c->foreign = 1;
    c->sock = -1;
    c->pidfd = pidfd_of(pid);
    c->phase = UP;
    c->state = RAS_Connected;
    entry_of_process(pid, c->entry, sizeof c->entry);
    interface_of(pc, pid, c->ifname, sizeof c->ifname);
    ras_feed_ref(feed);
    c->feed = feed;
    c->next = pc->calls;
    pc->calls = c;
    if (ensure_watcher(pc, err) == 0) wake_watcher(pc);
  } else {
    ras_fail(err, RAS_ERROR_INVALID_HANDLE, "the connection no longer exists");
    c = NULL;
  }
  os_mutex_unlock(pc->lock);
  return c;
}

static ras_entry_info *pppd_entries(ras_instance *pc, const char *phonebook, size_t *n,
                                    ras_error *err) {
  const char *dir = phonebook ? phonebook : pc->peers_dir;
  DIR *d = opendir(dir);
  struct dirent *e;
  ras_entry_info *list = NULL;
  size_t count = 0, cap = 0;
  *n = 0;
  if (!d) return calloc(1, sizeof *list);   /* no directory: no entries */
  while ((e = readdir(d)) != NULL) {
    char path[PATH_MAX];
    struct stat st;
    if (!valid_entry_name(e->d_name) || e->d_name[strlen(e->d_name) - 1] == '~') continue;
    snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
    if (stat(path, &st) != 0 || !S_ISREG(st.st_mode)) continue;
    if (count == cap) {
      ras_entry_info *grown = realloc(list, (cap = cap ? 2 * cap : 8) * sizeof *list);
      if (!grown) break;
      list = grown;
    }
    copy_text(list[count].name, sizeof list[count].name, e->d_name);
    copy_text(list[count].phonebook, sizeof list[count].phonebook, dir);
    count++;
  }
  closedir(d);
  if (!list && !(list = calloc(1, sizeof *list)))
    ras_fail(err, RAS_ERROR_NOT_ENOUGH_MEMORY, "out of memory");
  *n = count;
  return list;
}

/* ---------------------------------------------------------------------- */
/* context                                                                */

static void free_ctx(ras_instance *pc) {
  while (pc->calls) {
    ras_call *c = pc->calls;
    pc->calls = c->next;
    free_call(c);
  }
  for (size_t i = 0; i < pc->noptions; i++) free(pc->options[i]);
  free(pc->options);
  free(pc->pppd);
  free(pc->peers_dir);
  free(pc->plugin);
  free(pc->run_dir);
  if (pc->wake[0] >= 0) close(pc->wake[0]);
  if (pc->wake[1] >= 0) close(pc->wake[1]);
  os_cond_free(pc->cond);
  os_mutex_free(pc->lock);
  free(pc);
}

/* Hung-up dials are waited for (SIGKILL after the grace period) so that no
 * zombie is left; established connections stay up. */
static void pppd_close(ras_instance *pc) {
  double until = os_now() + KILL_GRACE;
  os_mutex_lock(pc->lock);
  for (;;) {
    int waiting = 0;
    for (ras_call *c = pc->calls; c; c = c->next)
      waiting |= c->hangup_requested && c->phase != GONE;
    if (!waiting || !pc->watcher || os_now() >= until + 1) break;
    wake_watcher(pc);
    os_cond_wait(pc->cond, pc->lock, 0.05);
  }
  pc->stopping = 1;
  wake_watcher(pc);
  os_mutex_unlock(pc->lock);
  if (pc->watcher) os_thread_join(pc->watcher);
  free_ctx(pc);
}

/* The plugin sits beside the module (or the program that links it). */
static char *default_plugin(void) {
  Dl_info info;
  char path[PATH_MAX];
  const char *slash;
  if (!dladdr(&ras_backend_pppd, &info) || !info.dli_fname) return strdup("ras_pppd.so");
  slash = strrchr(info.dli_fname, '/');
  if (!slash) return strdup("./ras_pppd.so");
  snprintf(path, sizeof path, "%.*s/ras_pppd.so", (int)(slash - info.dli_fname), info.dli_fname);
  {
    char *real = realpath(path, NULL);
    return real ? real : strdup(path);
  }
}

/* The config's strings die with open(): everything kept is a copy. */
static char *copy_option(const char *value, const char *def) {
  return value ? strdup(value) : def ? strdup(def) : NULL;
}

static int copy_words(ras_instance *pc, const pppd_config *cfg) {
  pc->options = calloc(cfg->noptions + 1, sizeof *pc->options);
  if (!pc->options) return -1;
  for (; pc->noptions < cfg->noptions; pc->noptions++)
    if (!(pc->options[pc->noptions] = strdup(cfg->options[pc->noptions]))) return -1;
  return 0;
}

static int copy_config(ras_instance *pc, const pppd_config *cfg) {
  pc->pppd = copy_option(cfg->pppd, "/usr/sbin/pppd");
  pc->peers_dir = copy_option(cfg->peers_dir, "/etc/ppp/peers");
  pc->run_dir = copy_option(cfg->run_dir, "/var/run");
  pc->plugin = cfg->plugin ? strdup(cfg->plugin) : default_plugin();
  if (!pc->pppd || !pc->peers_dir || !pc->run_dir || !pc->plugin) return -1;
  return copy_words(pc, cfg);
}

static ras_instance *pppd_open(const void *config, ras_error *err) {
  static const pppd_config defaults;   /* the default context may pass none */
  const pppd_config *cfg = config ? config : &defaults;
  ras_instance *pc = calloc(1, sizeof *pc);
  if (!pc) {
    ras_fail(err, RAS_ERROR_NOT_ENOUGH_MEMORY, "cannot open the pppd backend: out of memory");
    return NULL;
  }
  pc->wake[0] = pc->wake[1] = -1;
  pc->lock = os_mutex_new();
  pc->cond = os_cond_new();
  if (!pc->lock || !pc->cond || copy_config(pc, cfg) != 0) {
    ras_fail(err, RAS_ERROR_NOT_ENOUGH_MEMORY, "cannot open the pppd backend: out of memory");
    free_ctx(pc);
    return NULL;
  }
  if (pipe2(pc->wake, O_CLOEXEC | O_NONBLOCK) != 0) {
    ras_fail_errno(err, errno, "cannot create the pppd watcher's wake-up pipe");
    free_ctx(pc);
    return NULL;
  }
  return pc;
}

static const ras_field pppd_fields[] = {
  { .name = "peers_dir", .kind = RAS_STRING, .offset = offsetof(pppd_config, peers_dir),
    .max = OPTION_MAX_PATH },
  { .name = "pppd", .kind = RAS_STRING, .offset = offsetof(pppd_config, pppd),
    .max = OPTION_MAX_PATH },
  { .name = "options", .kind = RAS_STRINGS, .offset = offsetof(pppd_config, options),
    .count = offsetof(pppd_config, noptions), .limit = OPTION_MAX_WORDS,
    .max = OPTION_MAX_WORD },
  { .name = "plugin", .kind = RAS_STRING, .offset = offsetof(pppd_config, plugin),
    .max = OPTION_MAX_PATH },
  { .name = "run_dir", .kind = RAS_STRING, .offset = offsetof(pppd_config, run_dir),
    .max = OPTION_MAX_PATH },
  { .name = NULL }
};

static const ras_record pppd_options = {
  .size = sizeof(pppd_config),
  .fields = pppd_fields
};

const ras_backend ras_backend_pppd = {
  .name = "pppd",
  .options = &pppd_options,
  .open = pppd_open,
  .close = pppd_close,
  .dial = pppd_dial,
  .attach = pppd_attach,
  .resume = pppd_resume,
  .hangup = pppd_hangup,
  .status = pppd_status,
  .wait = pppd_wait,
  .release = pppd_release,
  .connections = pppd_connections,
  .entries = pppd_entries,
  .error_text = NULL
};

#endif /* __linux__ */
