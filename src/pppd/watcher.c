/*
 * watcher.c - one thread per context watches every call's descriptors in
 * one epoll set: the plugin's channel, pppd's pidfd and pppd's stderr. Each
 * epoll event points at its call, so an event costs the same whatever the
 * number of connections; the thread sleeps without a timeout unless a real
 * deadline is pending (the SIGKILL of a hang-up, or a call without a pidfd,
 * looked at each second). Calls are freed only here, at the top of a round,
 * so that no pointer of a round's events outlives its call.
 */
#ifdef __linux__
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "internal.h"

#define EVENTS_PER_ROUND 64

void pppd_close_fd(ras_instance *pc, int *fd) {
  (void)pc;   /* a closed descriptor leaves the epoll set by itself */
  if (*fd >= 0) close(*fd);
  *fd = -1;
}

void pppd_free_call(ras_call *c) {
  pppd_close_fd(c->pc, &c->sock);
  pppd_close_fd(c->pc, &c->pidfd);
  pppd_close_fd(c->pc, &c->errfd);
  if (c->feed) ras_feed_unref(c->feed);
  os_wipe(c, sizeof *c);
  free(c);
}

void pppd_link(ras_call *c) {
  ras_instance *pc = c->pc;
  c->prev = NULL;
  c->next = pc->calls;
  if (pc->calls) pc->calls->prev = c;
  pc->calls = c;
}

static void unlink_call(ras_call *c) {
  ras_instance *pc = c->pc;
  if (c->prev) c->prev->next = c->next;
  else pc->calls = c->next;
  if (c->next) c->next->prev = c->prev;
  c->next = c->prev = NULL;
}

static int add_fd(ras_instance *pc, int fd, watch *w, ras_call *c, enum watch_kind kind) {
  struct epoll_event ev = { .events = EPOLLIN };
  if (fd < 0) return 0;
  w->c = c;
  w->kind = kind;
  ev.data.ptr = w;
  return epoll_ctl(pc->epoll, EPOLL_CTL_ADD, fd, &ev);
}

int pppd_watch(ras_call *c, ras_error *err) {
  ras_instance *pc = c->pc;
  if (add_fd(pc, c->sock, &c->w_sock, c, W_SOCK) != 0 ||
      add_fd(pc, c->pidfd, &c->w_pidfd, c, W_PIDFD) != 0 ||
      add_fd(pc, c->errfd, &c->w_err, c, W_STDERR) != 0)
    return ras_fail_errno(err, errno, "cannot watch pppd (epoll)");
  if (c->pidfd < 0) pc->unwatched++;
  return 0;
}

void pppd_schedule_kill(ras_call *c, double at) {
  c->kill_at = at;
  if (c->pc->next_kill == 0 || at < c->pc->next_kill) c->pc->next_kill = at;
  pppd_watcher_wake(c->pc);
}

void pppd_watcher_wake(ras_instance *pc) {
  uint64_t one = 1;
  ssize_t n = write(pc->wake, &one, sizeof one);
  (void)n;  /* a full counter is already a pending wake-up */
}

/* Once no descriptor will tell: a released call without a process. */
void pppd_maybe_free(ras_call *c) {
  if (!c->released || c->phase < PAUSED || c->freeing) return;
  c->freeing = 1;
  c->dead_next = c->pc->dead;
  c->pc->dead = c;
}

/* The process ended: read what it said last, reap, report. */
static void finish(ras_call *c) {
  ras_instance *pc = c->pc;
  int st = 0, reaped = 0;
  if (c->sock >= 0) pppd_read_channel(c);
  if (c->errfd >= 0) pppd_read_stderr(c);
  pppd_close_fd(pc, &c->sock);
  pppd_close_fd(pc, &c->errfd);
  if (c->pidfd < 0) pc->unwatched--;
  pppd_close_fd(pc, &c->pidfd);
  /* our own child only: the pid posix_spawn gave, never one a line named */
  if (!c->foreign && c->pid > 0 && waitpid(c->pid, &st, 0) == c->pid) reaped = 1;
  c->kill_at = 0;
  if (c->foreign) {
    if (!c->hangup_requested)
      pppd_push(c, RAS_Disconnected, RAS_SUB_None, RAS_ERROR_REMOTE_DISCONNECTION, 0,
                "pppd ended");
    pppd_set_phase(c, GONE);
  } else {
    pppd_report_exit(c, st, reaped);
    pppd_watchers_ended(c);     /* gone and reaped: its link is over */
  }
  pppd_maybe_free(c);
}

/* Without a pidfd (kernels before 5.3, valgrind): has it exited? */
static int exited_without_pidfd(ras_call *c) {
  siginfo_t info;
  if (c->foreign) return kill(c->pid, 0) != 0 && errno == ESRCH;
  memset(&info, 0, sizeof info);
  if (waitid(P_PID, (id_t)c->pid, &info, WEXITED | WNOHANG | WNOWAIT) != 0)
    return errno == ECHILD;   /* reaped by someone else (SIGCHLD ignored) */
  return info.si_pid == c->pid;
}

static int running(const ras_call *c) {
  return c->phase == DIALLING || c->phase == UP;
}

static void on_event(ras_call *c, enum watch_kind kind) {
  if (!running(c)) return;
  switch (kind) {
  case W_SOCK:
    if (c->sock >= 0 && !pppd_read_channel(c)) pppd_close_fd(c->pc, &c->sock);
    break;
  case W_STDERR:
    if (c->errfd >= 0) pppd_read_stderr(c);
    break;
  case W_PIDFD:
    if (c->pidfd >= 0) finish(c);
    break;
  default: break;
  }
}

/* Deadlines: SIGKILLs due, and the calls nothing would tell about. */
static void deadlines(ras_instance *pc, double now) {
  if (pc->next_kill > 0 && now >= pc->next_kill) {
    pc->next_kill = 0;
    for (ras_call *c = pc->calls; c; c = c->next) {
      if (c->kill_at <= 0) continue;
      if (now >= c->kill_at) {
        pppd_signal(c, SIGKILL);
        c->kill_at = 0;
      } else if (pc->next_kill == 0 || c->kill_at < pc->next_kill) {
        pc->next_kill = c->kill_at;
      }
    }
  }
  if (pc->unwatched > 0)
    for (ras_call *c = pc->calls; c; c = c->next)
      if (running(c) && c->pidfd < 0 && (c->sock < 0 || c->foreign) && exited_without_pidfd(c))
        finish(c);
}

static void free_dead(ras_instance *pc) {
  while (pc->dead) {
    ras_call *c = pc->dead;
    pc->dead = c->dead_next;
    unlink_call(c);
    pppd_free_call(c);
  }
}

static int timeout_ms(ras_instance *pc, double now) {
  double next = pc->next_kill;
  if (pc->unwatched > 0 && (next == 0 || next > now + 1)) next = now + 1;
  if (next == 0) return -1;
  return next <= now ? 0 : (int)((next - now) * 1000) + 1;
}

static void watcher(void *arg) {
  ras_instance *pc = arg;
  struct epoll_event evs[EVENTS_PER_ROUND];
  prctl(PR_SET_NAME, "ras-pppd", 0, 0, 0);   /* the benchmark finds it by name */
  os_mutex_lock(pc->lock);
  while (!pc->stopping) {
    int n, wait_ms;
    free_dead(pc);
    wait_ms = timeout_ms(pc, os_now());
    os_mutex_unlock(pc->lock);
    n = epoll_wait(pc->epoll, evs, EVENTS_PER_ROUND, wait_ms);
    os_mutex_lock(pc->lock);
    for (int i = 0; i < n; i++) {
      watch *w = evs[i].data.ptr;
      if (w->kind == W_WAKE) {
        uint64_t count;
        ssize_t r = read(pc->wake, &count, sizeof count);
        (void)r;
        continue;
      }
      on_event(w->c, w->kind);
      pppd_maybe_free(w->c);
    }
    deadlines(pc, os_now());
  }
  free_dead(pc);
  os_mutex_unlock(pc->lock);
}

/* pc lock held */
int pppd_watcher_start(ras_instance *pc, ras_error *err) {
  if (pc->watcher) return 0;
  pc->watcher = os_thread_start(watcher, pc);
  return pc->watcher ? 0 : ras_fail(err, RAS_ERROR_NOT_ENOUGH_MEMORY,
                                    "cannot start the pppd watcher thread");
}

#endif /* __linux__ */
