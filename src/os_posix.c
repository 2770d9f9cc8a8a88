/*
 * os_posix.c - os.h for POSIX systems: pthreads, CLOCK_MONOTONIC, and a
 * wake-up descriptor (an eventfd on Linux, a non-blocking pipe elsewhere).
 */
#ifndef _WIN32
#define _GNU_SOURCE
#include "os.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#ifdef __linux__
#include <sys/eventfd.h>
#endif

double os_now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

void os_wipe(void *p, size_t n) {
#if defined(__GLIBC__) && (__GLIBC__ > 2 || (__GLIBC__ == 2 && __GLIBC_MINOR__ >= 25))
  explicit_bzero(p, n);           /* a memset the compiler may not drop */
#else
  volatile unsigned char *b = p;
  while (n--) *b++ = 0;
#endif
}

/* Longest single wait: anything beyond it (math.huge, 1e300) is "forever".
 * Keeps every conversion below far from time_t's range. */
#define LONGEST_WAIT 1e9

static int forever(double seconds) { return seconds < 0 || !(seconds < LONGEST_WAIT); }

static struct timespec to_timespec(double seconds) {
  struct timespec ts;
  if (!(seconds > 0)) seconds = 0;
  ts.tv_sec = (time_t)seconds;
  ts.tv_nsec = (long)((seconds - (double)ts.tv_sec) * 1e9);
  if (ts.tv_nsec >= 1000000000L) { ts.tv_sec++; ts.tv_nsec -= 1000000000L; }
  return ts;
}

/* mutex */

struct os_mutex { pthread_mutex_t m; };

os_mutex *os_mutex_new(void) {
  os_mutex *m = malloc(sizeof *m);
  if (m && pthread_mutex_init(&m->m, NULL) != 0) { free(m); m = NULL; }
  return m;
}

void os_mutex_free(os_mutex *m) {
  if (!m) return;
  pthread_mutex_destroy(&m->m);
  free(m);
}

void os_mutex_lock(os_mutex *m) { pthread_mutex_lock(&m->m); }
void os_mutex_unlock(os_mutex *m) { pthread_mutex_unlock(&m->m); }

/* condition variable, on the monotonic clock so waits ignore clock jumps */

struct os_cond { pthread_cond_t c; };

os_cond *os_cond_new(void) {
  pthread_condattr_t attr;
  os_cond *c = malloc(sizeof *c);
  if (!c) return NULL;
  pthread_condattr_init(&attr);
  pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
  if (pthread_cond_init(&c->c, &attr) != 0) { free(c); c = NULL; }
  pthread_condattr_destroy(&attr);
  return c;
}

void os_cond_free(os_cond *c) {
  if (!c) return;
  pthread_cond_destroy(&c->c);
  free(c);
}

void os_cond_wait(os_cond *c, os_mutex *m, double seconds) {
  struct timespec until;
  if (forever(seconds)) { pthread_cond_wait(&c->c, &m->m); return; }
  until = to_timespec(os_now() + seconds);
  pthread_cond_timedwait(&c->c, &m->m, &until);
}

void os_cond_broadcast(os_cond *c) { pthread_cond_broadcast(&c->c); }

/* thread */

struct os_thread {
  pthread_t t;
  void (*fn)(void *);
  void *arg;
};

static void *thread_main(void *p) {
  os_thread *t = p;
  t->fn(t->arg);
  return NULL;
}

os_thread *os_thread_start(void (*fn)(void *), void *arg) {
  os_thread *t = malloc(sizeof *t);
  if (!t) return NULL;
  t->fn = fn;
  t->arg = arg;
  if (pthread_create(&t->t, NULL, thread_main, t) != 0) { free(t); return NULL; }
  return t;
}

void os_thread_join(os_thread *t) {
  pthread_join(t->t, NULL);
  free(t);
}

/* wake-up descriptor */

struct os_wakeup { int rfd, wfd; };

os_wakeup *os_wakeup_new(ras_error *err) {
  os_wakeup *w = malloc(sizeof *w);
  if (!w) {
    ras_fail_errno(err, ENOMEM, "cannot create a wake-up descriptor");
    return NULL;
  }
#ifdef __linux__
  w->rfd = w->wfd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  if (w->rfd < 0) {
    ras_fail_errno(err, errno, "cannot create a wake-up descriptor");
    free(w);
    return NULL;
  }
#else
  int fds[2];
  if (pipe(fds) != 0) {
    ras_fail_errno(err, errno, "cannot create a wake-up descriptor");
    free(w);
    return NULL;
  }
  for (int i = 0; i < 2; i++) {
    fcntl(fds[i], F_SETFD, FD_CLOEXEC);
    fcntl(fds[i], F_SETFL, O_NONBLOCK);
  }
  w->rfd = fds[0];
  w->wfd = fds[1];
#endif
  return w;
}

void os_wakeup_free(os_wakeup *w) {
  if (!w) return;
  close(w->rfd);
  if (w->wfd != w->rfd) close(w->wfd);
  free(w);
}

void os_wakeup_signal(os_wakeup *w) {
  uint64_t one = 1;
  ssize_t n;
  /* EAGAIN means it is already signalled, which is all we want. */
  do n = write(w->wfd, &one, w->wfd == w->rfd ? sizeof one : 1);
  while (n < 0 && errno == EINTR);
}

void os_wakeup_clear(os_wakeup *w) {
  char buf[64];
  ssize_t n;
  do n = read(w->rfd, buf, sizeof buf);
  while (n > 0 || (n < 0 && errno == EINTR));
}

int os_wakeup_wait(os_wakeup *w, double seconds) {
  struct pollfd p = { .fd = w->rfd, .events = POLLIN };
  int wait_forever = forever(seconds);
  double until = wait_forever ? 0 : os_now() + seconds;
  for (;;) {
    struct timespec ts;
    int n;
    if (!wait_forever) ts = to_timespec(until - os_now());
    n = ppoll(&p, 1, wait_forever ? NULL : &ts, NULL);
    if (n > 0) return 1;
    if (n == 0) return 0;
    if (errno != EINTR) return 0;
  }
}

int os_wakeup_fd(os_wakeup *w) { return w->rfd; }
void *os_wakeup_handle(os_wakeup *w) { (void)w; return NULL; }

#endif /* !_WIN32 */
