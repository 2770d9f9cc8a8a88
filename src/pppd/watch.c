/*
 * watch.c - ctx.watch() on Linux: every pppd of the machine (this
 * context's and other programs') coming up and going away.
 *
 * Two paths report changes, and one table per watcher (links, under its
 * lock) makes sure that each pppd's link is reported once:
 *
 *   - This context's own dials are told directly by the context's watcher
 *     thread (channel.c, watcher.c): "connected" when the plugin says
 *     ip-up, "disconnected" when pppd has exited and been reaped (and
 *     around a `persist` redial). Nothing has to be looked at in time, so
 *     a link up for a millisecond is reported like any other.
 *   - Other programs' pppds are found by a scan: a link is "connected"
 *     while it has a valid pid file in run_dir (the checks of foreign.c: a
 *     real pppd of this machine's namespaces, the file it wrote) and its
 *     interface is up with an IPv4 address, as connections() and status()
 *     judge it. Nothing is polled: one thread per watcher sleeps in
 *     epoll_wait without a timeout on
 *       - inotify on run_dir (pid files written, removed),
 *       - an rtnetlink socket (links and IPv4 addresses added, removed),
 *       - a pidfd per connected pppd (it exited, even by SIGKILL),
 *       - an eventfd that unwatch() writes,
 *     and on any of them looks at the pid files again and reports what
 *     differs from what it reported before. A foreign link whose pid file
 *     comes and goes between two looks is not seen.
 *
 * The scan sees our own pppds too, and may see one first: a pid in the
 * table is never reported connected again by the other path; a link the
 * direct path knows (own) is ended only by it; and a link the scan saw
 * end while its process still existed is kept as a tombstone (dropped),
 * so that the ip-up line of a dial that came and went between the two
 * threads' looks is not reported a second time.
 *
 * Locks: the context's lock, then a watcher's; the scan never takes the
 * context's. The thread is named "ras-pppd-watch":
 * /proc/PID/task/TID/status's voluntary_ctxt_switches counts its wake-ups
 * (spec/pppd_watch_spec.lua shows it does not wake while nothing changes;
 * the direct path does not wake it at all).
 */
#ifdef __linux__
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/inotify.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "internal.h"

#define EVENTS_PER_ROUND 16

/* What an epoll event is about: the low byte; a pidfd's pid above it. */
enum { TAG_STOP, TAG_INOTIFY, TAG_NETLINK, TAG_PIDFD };

typedef struct link_seen {
  pid_t pid;
  int pidfd;                      /* -1 without one (old kernel, valgrind, own) */
  int seen;                       /* found by the current scan */
  int own;                        /* this context's dial: the direct path ends it */
  int dropped;                    /* reported disconnected, its process still there */
  char entry[RAS_MAX_ENTRY + 1];
} link_seen;

struct ras_watch {
  ras_instance *pc;               /* its run_dir and peers_dir, set at open; its
                                   * watchers list, under its lock */
  struct ras_watch *next;         /* in pc->watchers */
  ras_feed *feed;
  os_thread *thread;
  os_mutex *lock;                 /* links: this thread's and the context's */
  int epoll, stop, inotify, netlink;
  link_seen *links;
  size_t n, cap;
};

static void push_change(ras_watch *w, int change, const link_seen *l, int initial) {
  ras_event ev = ras_change(change, (uint64_t)l->pid, l->entry, w->pc->peers_dir, os_now());
  if (initial) ev.substate = RAS_CHANGE_INITIAL;
  ras_feed_push(w->feed, &ev);
}

static link_seen *find(ras_watch *w, pid_t pid) {
  for (size_t i = 0; i < w->n; i++)
    if (w->links[i].pid == pid) return &w->links[i];
  return NULL;
}

/* A new row for pid (no pidfd, not seen), or NULL when out of memory. */
static link_seen *append(ras_watch *w, pid_t pid) {
  if (w->n == w->cap) {
    size_t cap = w->cap ? 2 * w->cap : 8;
    link_seen *grown = realloc(w->links, cap * sizeof *grown);
    if (!grown) return NULL;
    w->links = grown;
    w->cap = cap;
  }
  w->links[w->n] = (link_seen){ .pid = pid, .pidfd = -1 };
  return &w->links[w->n++];
}

static void unpin(link_seen *l) {
  if (l->pidfd >= 0) close(l->pidfd);   /* leaves the epoll set */
  l->pidfd = -1;
}

static void forget(ras_watch *w, size_t i) {
  unpin(&w->links[i]);
  w->links[i] = w->links[--w->n];
}

/* /proc/PID is there, a zombie's too: nothing is signalled to ask. */
static int process_exists(pid_t pid) {
  char path[32];
  snprintf(path, sizeof path, "/proc/%d", (int)pid);
  return access(path, F_OK) == 0;
}

/* The scan saw a link end. While its process is there (our own dial not
 * yet reaped among them) the row stays, dropped: a late ip-up of that
 * dial must not report it again. */
static void drop(ras_watch *w, size_t i) {
  link_seen *l = &w->links[i];
  push_change(w, RAS_CHANGE_DISCONNECTED, l, 0);
  if (process_exists(l->pid)) {
    l->dropped = 1;
    unpin(l);
  } else {
    forget(w, i);
  }
}

/* Pins l's pppd by a pidfd, so that its exit wakes us: 0, or -1 when it
 * has exited already. */
static int pin(ras_watch *w, link_seen *l) {
  struct epoll_event ev = { .events = EPOLLIN,
                            .data.u64 = (uint64_t)l->pid << 8 | TAG_PIDFD };
  int pidfd = pppd_pidfd_open(l->pid);
  if (pidfd < 0) return errno == ESRCH ? -1 : 0;
  if (epoll_ctl(w->epoll, EPOLL_CTL_ADD, pidfd, &ev) != 0) {
    close(pidfd);                 /* netlink and inotify still tell its end */
    return 0;
  }
  l->pidfd = pidfd;
  return 0;
}

/* A newly connected pppd the scan found. */
static void add(ras_watch *w, pid_t pid, int initial) {
  link_seen *l = append(w, pid);
  if (!l) return;                 /* out of memory: reported at a later scan */
  if (pin(w, l) != 0) {
    w->n--;
    return;
  }
  l->seen = 1;
  pppd_entry_of_process(pid, l->entry, sizeof l->entry);
  push_change(w, RAS_CHANGE_CONNECTED, l, initial);
}

/* A dropped link up again (a `persist` redial): connected once more. Our
 * own need no pidfd: the direct path tells their end. */
static void revive(ras_watch *w, link_seen *l, int initial) {
  if (!l->own && pin(w, l) != 0) return;   /* exited: the scan forgets it */
  l->dropped = 0;
  l->seen = 1;
  push_change(w, RAS_CHANGE_CONNECTED, l, initial);
}

/* The pid files again: report the links that came and went (lock held). */
static void scan(ras_watch *w, int initial) {
  const char *run_dir = w->pc->run_dir;
  char ifname[IF_NAMESIZE];
  DIR *d = opendir(run_dir);
  pid_t pid;
  for (size_t i = 0; i < w->n; i++) w->links[i].seen = 0;
  if (d) {
    while ((pid = pppd_next_pid_file(d, run_dir, ifname)) > 0) {
      link_seen *l = find(w, pid);
      if (!pppd_interface_connected(ifname)) continue;
      if (l && l->dropped) revive(w, l, initial);
      else if (l) l->seen = 1;    /* also its second pid file (ppp-LINKNAME.pid) */
      else add(w, pid, initial);
    }
    closedir(d);
  }
  for (size_t i = w->n; i-- > 0;) {
    link_seen *l = &w->links[i];
    if (l->dropped) {
      if (!l->own && !process_exists(l->pid)) forget(w, i);
    } else if (!l->seen && !l->own) {
      drop(w, i);
    }
  }
}

/* Reads whatever the descriptor holds: only "something changed" matters. */
static void drain(int fd) {
  for (;;) {
    char buf[4096];
    ssize_t n = read(fd, buf, sizeof buf);
    if (n <= 0 && !(n < 0 && errno == EINTR)) return;   /* EAGAIN: empty */
  }
}

/* One round's events (lock held); 0 when told to stop. */
static int handle(ras_watch *w, const struct epoll_event *evs, int n) {
  for (int i = 0; i < n; i++) {
    uint64_t tag = evs[i].data.u64;
    switch (tag & 0xff) {
    case TAG_STOP: return 0;
    case TAG_INOTIFY: drain(w->inotify); break;
    case TAG_NETLINK: drain(w->netlink); break;
    case TAG_PIDFD: {
      link_seen *l = find(w, (pid_t)(tag >> 8));
      if (l) unpin(l);            /* exited: never level-triggered again */
      break;
    }
    default: break;
    }
  }
  if (n > 0) scan(w, 0);
  return 1;
}

static void watch_thread(void *arg) {
  ras_watch *w = arg;
  int going = 1;
  prctl(PR_SET_NAME, "ras-pppd-watch", 0, 0, 0);   /* the spec counts its wake-ups */
  while (going) {
    struct epoll_event evs[EVENTS_PER_ROUND];
    int n = epoll_wait(w->epoll, evs, EVENTS_PER_ROUND, -1);
    os_mutex_lock(w->lock);
    going = handle(w, evs, n);
    os_mutex_unlock(w->lock);
  }
}

/* ---------------------------------------------------------------------- */
/* this context's own dials, told directly (pc lock held)                 */

/* A change that cannot be kept in the table ends the watcher, as a feed
 * ends when out of memory (feed.h): one Disconnected with error 8, rather
 * than a "connected" whose "disconnected" could never come. */
static void stop_out_of_memory(ras_watch *w) {
  ras_event ev = { .state = RAS_Disconnected, .error = RAS_ERROR_NOT_ENOUGH_MEMORY,
                   .time = os_now() };
  ras_feed_push(w->feed, &ev);
}

/* again: a `persist` link back up, reported unless a scan did so first;
 * else the dial's first Connected, reported unless a scan saw this pppd
 * (up, or already up and gone: dropped). */
static void tell_connected(ras_watch *w, const ras_call *c, int again) {
  link_seen *l;
  os_mutex_lock(w->lock);
  l = find(w, c->pid);
  if (l) {
    l->own = 1;
    if (again && l->dropped) revive(w, l, 0);
  } else if (!(l = append(w, c->pid))) {
    stop_out_of_memory(w);
  } else {
    l->own = 1;
    pppd_copy_text(l->entry, sizeof l->entry, c->entry);
    push_change(w, RAS_CHANGE_CONNECTED, l, 0);
  }
  os_mutex_unlock(w->lock);
}

/* gone: pppd has exited (the row goes); else a `persist` link went down
 * and pppd redials (the row stays, dropped). */
static void tell_down(ras_watch *w, pid_t pid, int gone) {
  link_seen *l;
  os_mutex_lock(w->lock);
  l = find(w, pid);
  if (l) {
    if (!l->dropped) push_change(w, RAS_CHANGE_DISCONNECTED, l, 0);
    if (gone) {
      forget(w, (size_t)(l - w->links));
    } else {
      l->own = 1;
      l->dropped = 1;
      unpin(l);
    }
  }
  os_mutex_unlock(w->lock);
}

void pppd_watchers_connected(ras_call *c) {
  int again = c->substate == RAS_SUB_Reconnected;
  for (ras_watch *w = c->pc->watchers; w; w = w->next) tell_connected(w, c, again);
}

void pppd_watchers_dropping(ras_call *c) {
  for (ras_watch *w = c->pc->watchers; w; w = w->next) tell_down(w, c->pid, 0);
}

void pppd_watchers_ended(ras_call *c) {
  for (ras_watch *w = c->pc->watchers; w; w = w->next) tell_down(w, c->pid, 1);
}

/* ---------------------------------------------------------------------- */
/* starting and stopping                                                  */

static int add_fd(ras_watch *w, int fd, uint64_t tag) {
  struct epoll_event ev = { .events = EPOLLIN, .data.u64 = tag };
  return epoll_ctl(w->epoll, EPOLL_CTL_ADD, fd, &ev);
}

static void free_watch(ras_watch *w) {
  for (size_t i = 0; i < w->n; i++)
    if (w->links[i].pidfd >= 0) close(w->links[i].pidfd);
  free(w->links);
  if (w->epoll >= 0) close(w->epoll);
  if (w->stop >= 0) close(w->stop);
  if (w->inotify >= 0) close(w->inotify);
  if (w->netlink >= 0) close(w->netlink);
  if (w->feed) ras_feed_unref(w->feed);
  if (w->lock) os_mutex_free(w->lock);
  free(w);
}

/* rtnetlink's link and IPv4 address groups: the interfaces' comings and
 * goings, and the address that makes a link Connected. */
static int open_netlink(void) {
  struct sockaddr_nl sa = { .nl_family = AF_NETLINK,
                            .nl_groups = RTMGRP_LINK | RTMGRP_IPV4_IFADDR };
  int fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC | SOCK_NONBLOCK, NETLINK_ROUTE);
  if (fd >= 0 && bind(fd, (struct sockaddr *)&sa, sizeof sa) != 0) {
    close(fd);
    fd = -1;
  }
  return fd;
}

static int open_sources(ras_watch *w, ras_error *err) {
  if ((w->epoll = epoll_create1(EPOLL_CLOEXEC)) < 0 ||
      (w->stop = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK)) < 0 ||
      (w->inotify = inotify_init1(IN_CLOEXEC | IN_NONBLOCK)) < 0 ||
      (w->netlink = open_netlink()) < 0)
    return ras_fail_errno(err, errno, "cannot watch pppd links (epoll, inotify, rtnetlink)");
  /* a run_dir that does not exist yet holds no pid file: netlink still
   * tells of every ppp interface */
  if (inotify_add_watch(w->inotify, w->pc->run_dir, IN_CREATE | IN_CLOSE_WRITE | IN_DELETE |
                        IN_MOVED_FROM | IN_MOVED_TO) < 0 && errno != ENOENT &&
      errno != ENOTDIR) {
    char what[64 + OPTION_MAX_PATH];
    snprintf(what, sizeof what, "cannot watch the run directory %s (inotify)", w->pc->run_dir);
    return ras_fail_errno(err, errno, what);
  }
  if (add_fd(w, w->stop, TAG_STOP) != 0 || add_fd(w, w->inotify, TAG_INOTIFY) != 0 ||
      add_fd(w, w->netlink, TAG_NETLINK) != 0)
    return ras_fail_errno(err, errno, "cannot watch pppd links (epoll)");
  return 0;
}

/* Into the context's list before the initial scan, and the watcher's lock
 * held through it: a dial that comes up meanwhile is told after the
 * initial changes, by whichever path finds it first, once. */
static void join(ras_watch *w) {
  ras_instance *pc = w->pc;
  os_mutex_lock(pc->lock);
  w->next = pc->watchers;
  pc->watchers = w;
  os_mutex_lock(w->lock);
  os_mutex_unlock(pc->lock);
  scan(w, 1);
  os_mutex_unlock(w->lock);
}

/* Out of the list: the context's threads tell it nothing more. */
static void leave(ras_watch *w) {
  ras_instance *pc = w->pc;
  os_mutex_lock(pc->lock);
  for (ras_watch **p = &pc->watchers; *p; p = &(*p)->next)
    if (*p == w) {
      *p = w->next;
      break;
    }
  os_mutex_unlock(pc->lock);
}

ras_watch *pppd_watch_start(ras_instance *pc, ras_feed *feed, ras_error *err) {
  ras_watch *w = calloc(1, sizeof *w);
  if (!w || !(w->lock = os_mutex_new())) {
    free(w);
    ras_fail(err, RAS_ERROR_NOT_ENOUGH_MEMORY, "cannot watch pppd links: out of memory");
    return NULL;
  }
  w->pc = pc;
  w->epoll = w->stop = w->inotify = w->netlink = -1;
  if (open_sources(w, err) != 0) {
    free_watch(w);
    return NULL;
  }
  ras_feed_ref(feed);
  w->feed = feed;
  /* the sources first, then the scan: a change in between wakes the
   * thread, whose scan finds it; the initial changes come before any */
  join(w);
  if (!(w->thread = os_thread_start(watch_thread, w))) {
    ras_fail(err, RAS_ERROR_NOT_ENOUGH_MEMORY, "cannot start the pppd watch thread");
    leave(w);
    free_watch(w);
    return NULL;
  }
  return w;
}

void pppd_unwatch(ras_watch *w) {
  uint64_t one = 1;
  leave(w);
  if (write(w->stop, &one, sizeof one) < 0) {}   /* a full counter still wakes it */
  os_thread_join(w->thread);
  free_watch(w);
}

#endif /* __linux__ */
