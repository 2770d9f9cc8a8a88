/*
 * spawn.c - starting pppd, and the only way the module signals one.
 *
 * A dial runs `pppd call ENTRY plugin ras_pppd.so ras-fd 3 [options...]
 * [callback N] nodetach` in a session of its own, fd 3 the plugin's channel,
 * fds 1 and 2 a pipe whose last words go into a failed dial's message. `nodetach` comes
 * last so that no peer file or option can make pppd leave the foreground
 * (and become a process we did not start); ras.open refuses `detach` and
 * `updetach` in its options. Spawning takes no lock: the watcher never waits
 * for a fork.
 *
 * Signals go to the process posix_spawn returned, through its pidfd; without
 * a pidfd only while it is still our unreaped child (its pid cannot have
 * been reused then). The plugin's `pid` line is never a pid to signal.
 */
#ifdef __linux__
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "internal.h"

extern char **environ;

int pppd_pidfd_open(pid_t pid) {
#ifdef SYS_pidfd_open
  int fd = (int)syscall(SYS_pidfd_open, pid, 0);
  if (fd >= 0) fcntl(fd, F_SETFD, FD_CLOEXEC);
  return fd;
#else
  (void)pid;
  errno = ENOSYS;
  return -1;
#endif
}

int pppd_signal(ras_call *c, int sig) {
  siginfo_t info;
  if (c->pidfd >= 0) {
#ifdef SYS_pidfd_send_signal
    if (syscall(SYS_pidfd_send_signal, c->pidfd, sig, NULL, 0) == 0) return 0;
    return errno;
#endif
  }
  if (c->foreign) {
    /* no pidfd to pin it: only a process that is still a pppd of ours to see */
    if (!pppd_is_local_pppd(c->pid)) return ESRCH;
    return kill(c->pid, sig) == 0 ? 0 : errno;
  }
  memset(&info, 0, sizeof info);
  if (c->pid <= 0 || waitid(P_PID, (id_t)c->pid, &info, WEXITED | WNOHANG | WNOWAIT) != 0)
    return ESRCH;                 /* not (or no longer) our child */
  if (info.si_pid == c->pid) return 0;   /* exited, not reaped: nothing to signal */
  return kill(c->pid, sig) == 0 ? 0 : errno;
}

const char *pppd_detach_word(const char *const *words, size_t n) {
  for (size_t i = 0; i < n; i++)
    if (strcmp(words[i], "detach") == 0 || strcmp(words[i], "updetach") == 0)
      return words[i];
  return NULL;
}

/* The plugin's header and the secrets, written before pppd starts. */
static int send_secrets(int sock, const ras_call *c) {
  char buf[32 + sizeof c->username + sizeof c->password];
  size_t ulen = strlen(c->username), plen = strlen(c->password);
  int head = snprintf(buf, 32, RAS_PPPD_HEADER_VERB " %zu %zu%s\n", ulen, plen,
                      c->password_only ? " " RAS_PPPD_HEADER_ONLY : "");
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

/* pppd, call|file, the peer, plugin, its path, ras-fd, 3, callback NUMBER
 * and nodetach, around the context's options, then NULL. */
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
 * pppd that cannot be run at all is the device's error. */
static int spawn_failure(ras_error *err, int rc, const char *pppd) {
  if (rc == EAGAIN || rc == ENOMEM || rc == EMFILE || rc == ENFILE)
    return ras_fail_errno(err, rc, "cannot start pppd (processes, memory or descriptors)");
  return ras_fail(err, RAS_ERROR_FROM_DEVICE, "cannot run %s: %s", pppd, strerror(rc));
}

static void close_pair(int fds[2]) {
  if (fds[0] >= 0) close(fds[0]);
  if (fds[1] >= 0) close(fds[1]);
  fds[0] = fds[1] = -1;
}

int pppd_spawn(const ras_instance *pc, const ras_call *c, pppd_spawned *out,
               ras_error *err) {
  argv_builder a = { { NULL }, 0 };
  posix_spawn_file_actions_t fa;
  posix_spawnattr_t attr;
  sigset_t none, defaults;
  static const int reset[] = { SIGPIPE, SIGCHLD, SIGINT, SIGTERM, SIGHUP, SIGQUIT,
                               SIGUSR1, SIGUSR2, SIGALRM };
  char number_var[32 + RAS_MAX_NUMBER], **env;
  int sv[2] = { -1, -1 }, errp[2] = { -1, -1 }, child, rc;
  pid_t pid;
  out->sock = out->pidfd = out->errfd = -1;
  if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0)
    return ras_fail_errno(err, errno, "cannot create the socket pair for pppd's channel");
  if (pipe2(errp, O_CLOEXEC) != 0) {
    rc = errno;
    close_pair(sv);
    return ras_fail_errno(err, rc, "cannot create the pipe for pppd's stderr");
  }
  /* fd 3 in the child: keep our copy above it so that dup2 really copies */
  child = fcntl(sv[1], F_DUPFD_CLOEXEC, 10);
  if (child < 0) {
    rc = errno;
    close_pair(sv);
    close_pair(errp);
    return ras_fail_errno(err, rc, "cannot duplicate pppd's channel descriptor");
  }
  close(sv[1]);
  sv[1] = child;
  if (send_secrets(sv[0], c) != 0) {
    rc = errno;
    close_pair(sv);
    close_pair(errp);
    return ras_fail_errno(err, rc, "cannot write the credentials to pppd's channel");
  }
  add_word(&a, pc->pppd);
  if (c->by_name) add_word(&a, "call"), add_word(&a, c->entry);
  else add_word(&a, "file"), add_word(&a, c->peer_file);
  add_word(&a, "plugin");
  add_word(&a, pc->plugin);
  add_word(&a, RAS_PPPD_OPTION);
  add_word(&a, RAS_PPPD_FD_WORD);
  for (size_t i = 0; i < pc->noptions; i++) add_word(&a, pc->options[i]);
  if (c->callback[0]) add_word(&a, "callback"), add_word(&a, c->callback);
  add_word(&a, "nodetach");   /* last: nothing before it can undo it */
  env = child_environment(c, number_var, sizeof number_var);
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
  /* what pppd says goes to the module, not into the script's output: its
   * option errors (stderr), and its log (stdout under nodetach), where the
   * pty and connect commands' stderr goes too (sstpc's, pptp's) */
  posix_spawn_file_actions_adddup2(&fa, errp[1], 1);
  posix_spawn_file_actions_adddup2(&fa, errp[1], 2);
  posix_spawn_file_actions_adddup2(&fa, child, RAS_PPPD_FD);
  posix_spawnattr_init(&attr);
  sigemptyset(&none);
  sigemptyset(&defaults);
  for (size_t i = 0; i < sizeof reset / sizeof reset[0]; i++) sigaddset(&defaults, reset[i]);
  posix_spawnattr_setsigmask(&attr, &none);
  posix_spawnattr_setsigdefault(&attr, &defaults);
  /* its own session: a Ctrl-C aimed at the script does not cut the link */
  posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF |
                                  POSIX_SPAWN_SETSID);
  rc = env ? posix_spawn(&pid, pc->pppd, &fa, &attr, a.words, env) : ENOMEM;
  posix_spawn_file_actions_destroy(&fa);
  posix_spawnattr_destroy(&attr);
  free(env);
  close(child);
  close(errp[1]);
  if (rc != 0) {
    close(sv[0]);
    close(errp[0]);
    return spawn_failure(err, rc, pc->pppd);
  }
  out->pidfd = pppd_pidfd_open(pid);
  if (out->pidfd < 0 && (errno == EMFILE || errno == ENFILE || errno == ENOMEM)) {
    rc = errno;
    kill(pid, SIGKILL);           /* our child, not yet reaped: safe */
    waitpid(pid, NULL, 0);
    close(sv[0]);
    close(errp[0]);
    return ras_fail_errno(err, rc, "cannot open a pidfd for pppd");
  }
  fcntl(sv[0], F_SETFL, O_NONBLOCK);
  fcntl(errp[0], F_SETFL, O_NONBLOCK);
  out->pid = pid;
  out->sock = sv[0];
  out->errfd = errp[0];
  return 0;
}

#endif /* __linux__ */
