/*
 * watch.c - ctx.watch() on Linux: every pppd of the machine (this
 * context's and other programs') coming up and going away.
 *
 * A link is "connected" while it has a valid pid file in run_dir (the
 * checks of foreign.c: a real pppd of this machine's namespaces, the file
 * it wrote) and its interface is up with an IPv4 address, as
 * connections() and status() judge it. Nothing is polled: one thread per
 * watcher sleeps in epoll_wait without a timeout on
 *   - inotify on run_dir (pid files written, removed),
 *   - an rtnetlink socket (links and IPv4 addresses added, removed),
 *   - a pidfd per connected pppd (it exited, even by SIGKILL),
 *   - an eventfd that unwatch() writes,
 * and on any of them looks at the pid files again and reports what
 * differs from what it reported before. The thread is named
 * "ras-pppd-watch": /proc/PID/task/TID/status's voluntary_ctxt_switches
 * counts its wake-ups (spec/pppd_watch_spec.lua shows it does not wake
 * while nothing changes).
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
  int pidfd;                      /* -1 without one (old kernel, valgrind) */
  int seen;                       /* found by the current scan */
  char entry[RAS_MAX_ENTRY + 1];
} link_seen;

struct ras_watch {
  ras_instance *pc;               /* only its run_dir and peers_dir, set at open */
  ras_feed *feed;
  os_thread *thread;
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

static void drop(ras_watch *w, size_t i) {
  push_change(w, RAS_CHANGE_DISCONNECTED, &w->links[i], 0);
  if (w->links[i].pidfd >= 0) close(w->links[i].pidfd);   /* leaves the epoll set */
  w->links[i] = w->links[--w->n];
}

/* A newly connected pppd: pinned by a pidfd, so that its exit wakes us. */
static void add(ras_watch *w, pid_t pid, int initial) {
  link_seen *l;
  int pidfd;
  if (w->n == w->cap) {
    size_t cap = w->cap ? 2 * w->cap : 8;
    link_seen *grown = realloc(w->links, cap * sizeof *grown);
    if (!grown) return;           /* out of memory: reported at a later scan */
    w->links = grown;
    w->cap = cap;
  }
  pidfd = pppd_pidfd_open(pid);
  if (pidfd < 0 && errno == ESRCH) return;
  if (pidfd >= 0) {
    struct epoll_event ev = { .events = EPOLLIN,
                              .data.u64 = (uint64_t)pid << 8 | TAG_PIDFD };
    if (epoll_ctl(w->epoll, EPOLL_CTL_ADD, pidfd, &ev) != 0) {
      close(pidfd);
      pidfd = -1;                 /* netlink and inotify still tell its end */
    }
  }
  l = &w->links[w->n++];
  l->pid = pid;
  l->pidfd = pidfd;
  l->seen = 1;
  pppd_entry_of_process(pid, l->entry, sizeof l->entry);
  push_change(w, RAS_CHANGE_CONNECTED, l, initial);
}

/* The pid files again: report the links that came and went. */
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
      if (l) l->seen = 1;         /* also its second pid file (ppp-LINKNAME.pid) */
      else add(w, pid, initial);
    }
    closedir(d);
  }
  for (size_t i = w->n; i-- > 0;)
    if (!w->links[i].seen) drop(w, i);
}

/* Reads whatever the descriptor holds: only "something changed" matters. */
static void drain(int fd) {
  for (;;) {
    char buf[4096];
    ssize_t n = read(fd, buf, sizeof buf);
    if (n <= 0 && !(n < 0 && errno == EINTR)) return;   /* EAGAIN: empty */
  }
}

static void watch_thread(void *arg) {
  ras_watch *w = arg;
  prctl(PR_SET_NAME, "ras-pppd-watch", 0, 0, 0);   /* the spec counts its wake-ups */
  for (;;) {
    struct epoll_event evs[EVENTS_PER_ROUND];
    int n = epoll_wait(w->epoll, evs, EVENTS_PER_ROUND, -1);
    for (int i = 0; i < n; i++) {
      uint64_t tag = evs[i].data.u64;
      switch (tag & 0xff) {
      case TAG_STOP: return;
      case TAG_INOTIFY: drain(w->inotify); break;
      case TAG_NETLINK: drain(w->netlink); break;
      case TAG_PIDFD: {
        link_seen *l = find(w, (pid_t)(tag >> 8));
        if (l && l->pidfd >= 0) {   /* exited: never level-triggered again */
          close(l->pidfd);
          l->pidfd = -1;
        }
        break;
      }
      default: break;
      }
    }
    if (n > 0) scan(w, 0);
  }
}

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

ras_watch *pppd_watch_start(ras_instance *pc, ras_feed *feed, ras_error *err) {
  ras_watch *w = calloc(1, sizeof *w);
  if (!w) {
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
  scan(w, 1);
  if (!(w->thread = os_thread_start(watch_thread, w))) {
    ras_fail(err, RAS_ERROR_NOT_ENOUGH_MEMORY, "cannot start the pppd watch thread");
    free_watch(w);
    return NULL;
  }
  return w;
}

void pppd_unwatch(ras_watch *w) {
  uint64_t one = 1;
  if (write(w->stop, &one, sizeof one) < 0) {}   /* a full counter still wakes it */
  os_thread_join(w->thread);
  free_watch(w);
}

#endif /* __linux__ */
