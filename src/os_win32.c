/*
 * os_win32.c - os.h for Windows: critical sections, condition variables,
 * threads, QueryPerformanceCounter, and a manual-reset event as wake-up.
 */
#ifdef _WIN32
#define WIN32_LEAN_AND_MEAN
#include <windows.h>
#include <process.h>
#include <stdlib.h>

#include "os.h"

double os_now(void) {
  static LARGE_INTEGER freq;
  LARGE_INTEGER now;
  if (freq.QuadPart == 0) QueryPerformanceFrequency(&freq);
  QueryPerformanceCounter(&now);
  return (double)now.QuadPart / (double)freq.QuadPart;
}

void os_wipe(void *p, size_t n) { SecureZeroMemory(p, n); }

/* Waits past 49 days (math.huge, 1e300) are "forever"; callers loop on
 * their own deadlines, so a long wait cut short is harmless. */
static DWORD to_millis(double seconds) {
  if (seconds < 0 || !(seconds < 4e6)) return INFINITE;
  /* Round up so a short wait is not turned into a busy 0 ms wait. */
  return (DWORD)(seconds * 1000.0 + 0.999);
}

struct os_mutex { CRITICAL_SECTION cs; };

os_mutex *os_mutex_new(void) {
  os_mutex *m = malloc(sizeof *m);
  if (m) InitializeCriticalSection(&m->cs);
  return m;
}

void os_mutex_free(os_mutex *m) {
  if (!m) return;
  DeleteCriticalSection(&m->cs);
  free(m);
}

void os_mutex_lock(os_mutex *m) { EnterCriticalSection(&m->cs); }
void os_mutex_unlock(os_mutex *m) { LeaveCriticalSection(&m->cs); }

struct os_cond { CONDITION_VARIABLE cv; };

os_cond *os_cond_new(void) {
  os_cond *c = malloc(sizeof *c);
  if (c) InitializeConditionVariable(&c->cv);
  return c;
}

void os_cond_free(os_cond *c) { free(c); }

void os_cond_wait(os_cond *c, os_mutex *m, double seconds) {
  SleepConditionVariableCS(&c->cv, &m->cs, to_millis(seconds));
}

void os_cond_broadcast(os_cond *c) { WakeAllConditionVariable(&c->cv); }

struct os_thread {
  HANDLE h;
  void (*fn)(void *);
  void *arg;
};

static unsigned __stdcall thread_main(void *p) {
  os_thread *t = p;
  t->fn(t->arg);
  return 0;
}

os_thread *os_thread_start(void (*fn)(void *), void *arg) {
  os_thread *t = malloc(sizeof *t);
  if (!t) return NULL;
  t->fn = fn;
  t->arg = arg;
  t->h = (HANDLE)_beginthreadex(NULL, 0, thread_main, t, 0, NULL);
  if (!t->h) { free(t); return NULL; }
  return t;
}

void os_thread_join(os_thread *t) {
  WaitForSingleObject(t->h, INFINITE);
  CloseHandle(t->h);
  free(t);
}

struct os_wakeup { HANDLE event; };

os_wakeup *os_wakeup_new(ras_error *err) {
  os_wakeup *w = malloc(sizeof *w);
  if (!w) {
    ras_fail(err, RAS_ERROR_NOT_ENOUGH_MEMORY, "cannot create a wake-up event: out of memory");
    return NULL;
  }
  w->event = CreateEventW(NULL, TRUE, FALSE, NULL);
  if (!w->event) {
    ras_fail(err, (int)GetLastError(), "cannot create a wake-up event (Windows error %lu)",
             (unsigned long)GetLastError());
    free(w);
    return NULL;
  }
  return w;
}

void os_wakeup_free(os_wakeup *w) {
  if (!w) return;
  CloseHandle(w->event);
  free(w);
}

void os_wakeup_signal(os_wakeup *w) { SetEvent(w->event); }
void os_wakeup_clear(os_wakeup *w) { ResetEvent(w->event); }

int os_wakeup_wait(os_wakeup *w, double seconds) {
  return WaitForSingleObject(w->event, to_millis(seconds)) == WAIT_OBJECT_0;
}

int os_wakeup_fd(os_wakeup *w) { (void)w; return -1; }
void *os_wakeup_handle(os_wakeup *w) { return w->event; }

#endif /* _WIN32 */
