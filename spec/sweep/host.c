/*
 * host.c - the allocation-failure sweep's host program (mk/check.mk,
 * spec/sweep/run). It links Lua and the module statically and runs a script
 * with exactly one failure injected:
 *
 *   host lua K script.lua    the K-th Lua allocation fails (K = 0: none)
 *   host c K script.lua      the K-th C call of the module fails: malloc,
 *                            calloc, realloc, reallocarray, strdup, strndup
 *                            (errno ENOMEM), pthread_create (EAGAIN),
 *                            eventfd, pipe, pipe2, socketpair, epoll_create,
 *                            epoll_create1 (EMFILE)
 *
 * In c mode, SWEEP_THREAD=main counts only the calls made on the Lua
 * thread, SWEEP_THREAD=other only those of the module's own threads
 * (default: every thread). The C calls are caught by linking with
 * -Wl,--wrap=malloc,... (see mk/check.mk): every reference of the linked
 * objects goes to __wrap_X, which fails or calls __real_X. The Lua allocator
 * below calls __real_realloc and free directly, so c mode counts the
 * module's own calls only.
 *
 * A Lua allocation is counted when it allocates or grows a block (Lua
 * assumes a shrink never fails). When it fails, Lua runs an emergency
 * collection and asks again for the same block: that retry fails too,
 * without being counted, so that the failure reaches the code under test.
 *
 * Counting starts just before luaopen_ras (after the standard libraries
 * and the script have been loaded) and goes on through lua_close, whose
 * finalizers are part of the test.
 *
 * The last line on stderr is the outcome, for spec/sweep/run:
 *
 *   sweep-result mode=lua k=K count=N hit=0|1 clean=C outcome=WORD
 *
 * count: calls counted; hit: the K-th one was reached; clean: how many
 * clean failures the script reported through sweep_clean(); outcome: ok
 * (the script completed), nomem (it ended with a clean error, see
 * is_clean), error (any other error), setup (the host itself failed).
 * Exit status: 0 ok, 3 nomem, 1 error, 4 setup, 2 usage.
 *
 * SWEEP_BACKTRACE=1 prints the stack of the failing call (ASan's
 * symbolizer), to find where a K fails.
 *
 * The script sees the globals SWEEP_MODE ("lua" or "c") and
 * sweep_clean(message [, code]), which says whether a failure is a clean
 * one (and counts it when it is).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "lauxlib.h"
#include "lua.h"
#include "lualib.h"

int luaopen_ras(lua_State *L);

/* The real functions behind the wrappers (the linker's --wrap). */
void *__real_malloc(size_t n);
void *__real_calloc(size_t n, size_t size);
void *__real_realloc(void *p, size_t n);
void *__real_reallocarray(void *p, size_t n, size_t size);
char *__real_strdup(const char *s);
char *__real_strndup(const char *s, size_t n);
int __real_pthread_create(pthread_t *t, const pthread_attr_t *attr,
                          void *(*fn)(void *), void *arg);
int __real_eventfd(unsigned int initval, int flags);
int __real_pipe(int fds[2]);
int __real_pipe2(int fds[2], int flags);
int __real_socketpair(int domain, int type, int protocol, int sv[2]);
int __real_epoll_create(int size);
int __real_epoll_create1(int flags);

enum { MODE_LUA = 1, MODE_C };
enum { THREAD_ANY, THREAD_MAIN, THREAD_OTHER };

/* ASan's, when linked in: prints the calling stack, symbolized. */
void __sanitizer_print_stack_trace(void) __attribute__((weak));

static int mode;
static int backtrace_wanted;
static long fail_at;            /* 0: never */
static int thread_filter = THREAD_ANY;
static pthread_t main_thread;
static int armed;               /* counting has started */
static long count;              /* calls counted so far */
static int hit;                 /* the fail_at-th call was reached */
static long clean_seen;         /* clean failures the script reported */

/* The Lua allocator's retry of the block that just failed. */
static struct { int pending; void *ptr; size_t osize, nsize; } retry;

/* ---------------------------------------------------------------------- */
/* C side: the module's calls                                             */

static void failing(void) {
  if (!backtrace_wanted) return;
  fprintf(stderr, "sweep: the %s call K=%ld fails here:\n", mode == MODE_LUA ? "Lua" : "C", fail_at);
  if (__sanitizer_print_stack_trace) __sanitizer_print_stack_trace();
}

static int c_should_fail(void) {
  long n;
  if (mode != MODE_C || !__atomic_load_n(&armed, __ATOMIC_SEQ_CST)) return 0;
  if (thread_filter != THREAD_ANY) {
    int on_main = pthread_equal(pthread_self(), main_thread) != 0;
    if (on_main != (thread_filter == THREAD_MAIN)) return 0;
  }
  n = __atomic_add_fetch(&count, 1, __ATOMIC_SEQ_CST);
  if (n != fail_at) return 0;
  __atomic_store_n(&hit, 1, __ATOMIC_SEQ_CST);
  failing();
  return 1;
}

void *__wrap_malloc(size_t n) {
  if (c_should_fail()) { errno = ENOMEM; return NULL; }
  return __real_malloc(n);
}

void *__wrap_calloc(size_t n, size_t size) {
  if (c_should_fail()) { errno = ENOMEM; return NULL; }
  return __real_calloc(n, size);
}

void *__wrap_realloc(void *p, size_t n) {
  if (c_should_fail()) { errno = ENOMEM; return NULL; }
  return __real_realloc(p, n);
}

void *__wrap_reallocarray(void *p, size_t n, size_t size) {
  if (c_should_fail()) { errno = ENOMEM; return NULL; }
  return __real_reallocarray(p, n, size);
}

char *__wrap_strdup(const char *s) {
  if (c_should_fail()) { errno = ENOMEM; return NULL; }
  return __real_strdup(s);
}

char *__wrap_strndup(const char *s, size_t n) {
  if (c_should_fail()) { errno = ENOMEM; return NULL; }
  return __real_strndup(s, n);
}

int __wrap_pthread_create(pthread_t *t, const pthread_attr_t *attr,
                          void *(*fn)(void *), void *arg) {
  if (c_should_fail()) return EAGAIN;
  return __real_pthread_create(t, attr, fn, arg);
}

int __wrap_eventfd(unsigned int initval, int flags) {
  if (c_should_fail()) { errno = EMFILE; return -1; }
  return __real_eventfd(initval, flags);
}

int __wrap_pipe(int fds[2]) {
  if (c_should_fail()) { errno = EMFILE; return -1; }
  return __real_pipe(fds);
}

int __wrap_pipe2(int fds[2], int flags) {
  if (c_should_fail()) { errno = EMFILE; return -1; }
  return __real_pipe2(fds, flags);
}

int __wrap_socketpair(int domain, int type, int protocol, int sv[2]) {
  if (c_should_fail()) { errno = EMFILE; return -1; }
  return __real_socketpair(domain, type, protocol, sv);
}

int __wrap_epoll_create(int size) {
  if (c_should_fail()) { errno = EMFILE; return -1; }
  return __real_epoll_create(size);
}

int __wrap_epoll_create1(int flags) {
  if (c_should_fail()) { errno = EMFILE; return -1; }
  return __real_epoll_create1(flags);
}

/* Lua seeds its string hashes with time(NULL) (and addresses, which
 * spec/sweep/run fixes with setarch -R): a constant keeps every run of a
 * given K the same. Only the linked objects see this; the script's os.time
 * is constant too. */
time_t __wrap_time(time_t *t) {
  if (t) *t = 1;
  return 1;
}

/* ---------------------------------------------------------------------- */
/* Lua side                                                               */

/* Lua calls this from its own thread only. */
static void *lua_alloc(void *ud, void *ptr, size_t osize, size_t nsize) {
  (void)ud;
  if (nsize == 0) {
    free(ptr);
    return NULL;
  }
  if (mode == MODE_LUA && armed && (ptr == NULL || nsize > osize)) {
    if (retry.pending) {
      int same = retry.ptr == ptr && retry.osize == osize && retry.nsize == nsize;
      retry.pending = 0;
      if (same) return NULL;
    }
    if (++count == fail_at) {
      hit = 1;
      failing();
      retry.pending = 1;
      retry.ptr = ptr;
      retry.osize = osize;
      retry.nsize = nsize;
      return NULL;
    }
  }
  return __real_realloc(ptr, nsize);
}

/* Warnings (an error in a finalizer is one) go to stderr, for the log. */
static void warn(void *ud, const char *msg, int tocont) {
  static int continued;
  (void)ud;
  if (!continued) fputs("sweep: lua warning: ", stderr);
  fputs(msg, stderr);
  if (!tocont) fputc('\n', stderr);
  continued = tocont;
}

/* What a clean failure says. Lua mode: exactly Lua's memory error (after
 * any "chunk:line:" position, in the first line: a traceback may follow).
 * C mode: that, or the OS's text for the error the wrapper set. */
static const char *const clean_lua[] = { "not enough memory", NULL };
static const char *const clean_c[] = {
  "not enough memory",
  "Cannot allocate memory",             /* strerror(ENOMEM) */
  "Too many open files",                /* strerror(EMFILE) */
  "Resource temporarily unavailable",   /* strerror(EAGAIN) */
  NULL
};

static int is_clean(const char *msg) {
  size_t len;
  const char *end;
  if (!msg) return 0;
  end = strchr(msg, '\n');
  len = end ? (size_t)(end - msg) : strlen(msg);
  if (mode == MODE_LUA) {
    /* skip "source:line: " prefixes */
    for (;;) {
      const char *colon = memchr(msg, ':', len);
      const char *p = colon ? colon + 1 : NULL;
      if (!p || p >= msg + len || *p < '0' || *p > '9') break;
      while (p < msg + len && *p >= '0' && *p <= '9') p++;
      if (p + 1 >= msg + len || p[0] != ':' || p[1] != ' ') break;
      len -= (size_t)(p + 2 - msg);
      msg = p + 2;
    }
    for (int i = 0; clean_lua[i]; i++)
      if (len == strlen(clean_lua[i]) && memcmp(msg, clean_lua[i], len) == 0) return 1;
    return 0;
  }
  for (int i = 0; clean_c[i]; i++) {
    size_t n = strlen(clean_c[i]);
    for (const char *p = msg; p + n <= msg + len; p++)
      if (memcmp(p, clean_c[i], n) == 0) return 1;
  }
  return 0;
}

/* sweep_clean(message [, code]): a failure result of the module is clean
 * when it says so, or (c mode) carries code 8, ERROR_NOT_ENOUGH_MEMORY. */
static int l_sweep_clean(lua_State *L) {
  int clean = is_clean(lua_tostring(L, 1));
  if (!clean && mode == MODE_C && lua_isinteger(L, 2) && lua_tointeger(L, 2) == 8)
    clean = 1;
  if (clean) clean_seen++;
  lua_pushboolean(L, clean);
  return 1;
}

static int setup_failed;

/* Protected: the libraries, the script, then (counting) the module. */
static int pmain(lua_State *L) {
  const char *script = lua_touserdata(L, 1);
  luaL_openlibs(L);
  lua_pushstring(L, mode == MODE_LUA ? "lua" : "c");
  lua_setglobal(L, "SWEEP_MODE");
  lua_pushcfunction(L, l_sweep_clean);
  lua_setglobal(L, "sweep_clean");
  if (luaL_loadfile(L, script) != LUA_OK) {
    setup_failed = 1;
    return lua_error(L);
  }
  retry.pending = 0;
  __atomic_store_n(&armed, 1, __ATOMIC_SEQ_CST);
  luaL_requiref(L, "ras", luaopen_ras, 0);   /* into package.loaded only */
  lua_pop(L, 1);
  lua_call(L, 0, 0);
  return 0;
}

static long parse_k(const char *s) {
  char *end;
  long k;
  errno = 0;
  k = strtol(s, &end, 10);
  if (errno || end == s || *end || k < 0) return -1;
  return k;
}

int main(int argc, char **argv) {
  const char *outcome, *msg = NULL, *env;
  lua_State *L;
  int status, rc;
  if (argc != 4 || (strcmp(argv[1], "lua") != 0 && strcmp(argv[1], "c") != 0) ||
      parse_k(argv[2]) < 0) {
    fprintf(stderr, "usage: %s lua|c K script.lua   (SWEEP_THREAD=any|main|other)\n",
            argv[0]);
    return 2;
  }
  mode = strcmp(argv[1], "lua") == 0 ? MODE_LUA : MODE_C;
  fail_at = parse_k(argv[2]);
  env = getenv("SWEEP_THREAD");
  if (env && strcmp(env, "main") == 0) thread_filter = THREAD_MAIN;
  else if (env && strcmp(env, "other") == 0) thread_filter = THREAD_OTHER;
  else if (env && *env && strcmp(env, "any") != 0) {
    fprintf(stderr, "%s: SWEEP_THREAD must be any, main or other\n", argv[0]);
    return 2;
  }
  main_thread = pthread_self();
  env = getenv("SWEEP_BACKTRACE");
  backtrace_wanted = env && *env && strcmp(env, "0") != 0;
  /* The allocations must not depend on the caller's environment: a longer
   * package.path shifts every later collection. */
  unsetenv("LUA_PATH");
  unsetenv("LUA_PATH_5_4");
  unsetenv("LUA_CPATH");
  unsetenv("LUA_CPATH_5_4");
  L = lua_newstate(lua_alloc, NULL);
  if (!L) {
    fprintf(stderr, "sweep: cannot create a Lua state\n");
    return 4;
  }
  lua_setwarnf(L, warn, NULL);
  lua_pushcfunction(L, pmain);
  lua_pushlightuserdata(L, argv[3]);
  status = lua_pcall(L, 1, 0, 0);
  if (status != LUA_OK) {
    msg = lua_tostring(L, -1);
    if (!msg) msg = "(error object is not a string)";
    fprintf(stderr, "sweep: %s\n", msg);
  }
  if (setup_failed) outcome = "setup", rc = 4;
  else if (status == LUA_OK) outcome = "ok", rc = 0;
  else if (status == LUA_ERRMEM || is_clean(msg)) outcome = "nomem", rc = 3;
  else outcome = "error", rc = 1;
  lua_close(L);
  fprintf(stderr, "sweep-result mode=%s k=%ld count=%ld hit=%d clean=%ld outcome=%s\n",
          argv[1], fail_at, __atomic_load_n(&count, __ATOMIC_SEQ_CST),
          __atomic_load_n(&hit, __ATOMIC_SEQ_CST), clean_seen, outcome);
  return rc;
}
