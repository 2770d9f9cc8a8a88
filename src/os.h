/*
 * os.h - the few operating-system primitives the core needs: a monotonic
 * clock, a mutex, a condition variable, a thread, and the wake-up object
 * that a pump blocks on.
 *
 * Every type is opaque so that no platform header leaks into the binding.
 * One file implements it per platform: os_posix.c and os_win32.c.
 */
#ifndef RAS_OS_H
#define RAS_OS_H

#include <stddef.h>

#include "errors.h"

/* Seconds on a monotonic clock; events are stamped with it (ras.now()). */
double os_now(void);

/* Overwrite memory that held a secret, in a way the compiler keeps. */
void os_wipe(void *p, size_t n);

typedef struct os_mutex os_mutex;
os_mutex *os_mutex_new(void);
void os_mutex_free(os_mutex *m);
void os_mutex_lock(os_mutex *m);
void os_mutex_unlock(os_mutex *m);

typedef struct os_cond os_cond;
os_cond *os_cond_new(void);
void os_cond_free(os_cond *c);
/* Waits at most `seconds` (< 0, or too far for the clock: forever); m
 * must be held. May return early (spuriously): callers loop. */
void os_cond_wait(os_cond *c, os_mutex *m, double seconds);
void os_cond_broadcast(os_cond *c);

typedef struct os_thread os_thread;
os_thread *os_thread_start(void (*fn)(void *), void *arg);
void os_thread_join(os_thread *t);

/*
 * A wake-up is level-triggered: it stays signalled until cleared. The core
 * signals it when a queue becomes non-empty and clears it when the queue
 * drains, so the descriptor is readable exactly while an event is pending.
 */
typedef struct os_wakeup os_wakeup;
/* NULL with *err naming the cause (EMFILE: the descriptor limit). */
os_wakeup *os_wakeup_new(ras_error *err);
void os_wakeup_free(os_wakeup *w);
void os_wakeup_signal(os_wakeup *w);
void os_wakeup_clear(os_wakeup *w);
/* 1 when signalled, 0 after `seconds` (< 0: forever) without a signal. */
int os_wakeup_wait(os_wakeup *w, double seconds);
/* The pollable descriptor, or -1 where the platform has none (Windows). */
int os_wakeup_fd(os_wakeup *w);
/* The waitable handle (a Windows event) as a pointer, or NULL on POSIX. */
void *os_wakeup_handle(os_wakeup *w);

#endif
