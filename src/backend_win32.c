/*
 * backend_win32.c - the Windows backend: rasapi32's RasDialW, RasHangUpW,
 * RasGetConnectStatusW, the enumerations and RasConnectionNotificationW.
 *
 * Threads. Calls come from the Lua thread. RasDialW's notifier (a
 * RasDialFunc2) runs on a thread of rasapi32's, possibly before RasDialW has
 * returned the handle, so it finds its call through the callback id, which
 * is the call's address, and only copies the notification into the feed.
 * One watcher thread per context waits for RASCN_Disconnection on every
 * connected call and reports a link that drops.
 *
 * Locking. One critical section per context guards every call's fields and
 * call->feed; events are pushed under it, so release() cannot race a push.
 * It is never held across RasDialW or RasHangUpW: RasHangUpW waits for a
 * running notifier, and the notifier takes the lock.
 *
 * Lifetime. Only the watcher thread (or close(), after joining it) frees a
 * call, and only once no notifier can reach it any more; so the pointer the
 * notifier gets and the event handles the watcher waits on stay valid.
 */
#ifdef _WIN32
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Before the Windows headers: they define `interface` (a ras_status field). */
#include "backend.h"

#define WIN32_LEAN_AND_MEAN
#include <windows.h>
#include <ras.h>
#include <raserror.h>

/* Seconds one wait() sleeps at most: the teardown has no "gone" event. */
#define TEARDOWN_SLICE 0.05
/* Retries of an enumeration whose count keeps growing, before giving up. */
#define ENUM_ATTEMPTS 32
/* How long a failed RasDialW that still returned a handle is waited out. */
#define FAILED_DIAL_WAIT 1.0

/* RASCONNSTATUSW as Windows 7 and later declare it; mingw stops at
 * szPhoneNumber. Older systems refuse the larger size: see read_status. */
#include <pshpack4.h>
typedef struct status_win7 {
  RASCONNSTATUSW v1;
  RASTUNNELENDPOINT local_end;
  RASTUNNELENDPOINT remote_end;
  DWORD substate;
} status_win7;
#include <poppack.h>
#ifdef _WIN64
_Static_assert(sizeof(status_win7) == 608, "Windows 7 RASCONNSTATUSW is 608 bytes on x64");
#endif

#define ENDPOINT_IPV4 1
#define ENDPOINT_IPV6 2

struct ras_instance {
  CRITICAL_SECTION lock;
  HANDLE stop;                    /* manual reset: the watcher ends */
  HANDLE changed;                 /* auto reset: the watch list changed */
  os_thread *watcher;
  struct ras_call *calls;
  LONG status_size;               /* the RASCONNSTATUSW size the API took */
};

struct ras_call {
  ras_instance *inst;
  struct ras_call *next;
  HRASCONN handle;                /* NULL until the dial's first news of it */
  ras_feed *feed;                 /* NULL once released */
  HANDLE dropped;                 /* watcher's RASCN_Disconnection event,
                                   * manual reset: the wait must not eat it */
  HANDLE teardown;                /* wait()'s RASCN_Disconnection event */
  RASDIALPARAMSW params;          /* a dial's, kept while it may be resumed */
  WCHAR phonebook[MAX_PATH + 1];
  int has_phonebook;
  int dialled;                    /* has a notifier (else attached) */
  DWORD dial_options;             /* RASDIALEXTENSIONS.dwfOptions, for resumes */
  int notifier_done;              /* the notifier returned 0 */
  int paused, state;
  int watch_wanted, watching, drop_seen;
  int hung_up, hangup_returned;
  int released;
};

/* ---------------------------------------------------------------------- */
/* text conversion                                                        */

/* UTF-8 into dst (count WCHARs); 0 when invalid or too long. */
static int to_wide(const char *s, WCHAR *dst, int count) {
  if (!s) {
    dst[0] = L'\0';
    return 1;
  }
  return MultiByteToWideChar(CP_UTF8, MB_ERR_INVALID_CHARS, s, -1, dst, count) > 0;
}

/* UTF-16 into UTF-8, cut to fit (never mid-character: a failed conversion
 * leaves ""). count is the source's capacity: it need not be terminated. */
static void to_utf8(const WCHAR *s, int count, char *dst, size_t size) {
  int len = 0;
  while (len < count && s[len]) len++;
  int n = WideCharToMultiByte(CP_UTF8, 0, s, len, dst, (int)size - 1, NULL, NULL);
  dst[n > 0 ? n : 0] = '\0';
}

static const char *win32_error_text(int code, char *buf, size_t size);

/* A failed API call: the system's text for its code, else the module's. */
static int api_failure(ras_error *err, const char *what, DWORD rc) {
  char buf[200];
  const char *text = win32_error_text((int)rc, buf, sizeof buf);
  if (!text) text = ras_error_text((int)rc);
  if (text) return ras_fail(err, (int)rc, "%s failed: %s", what, text);
  return ras_fail(err, (int)rc, "%s failed with error %lu", what, (unsigned long)rc);
}

/* A parameter that is not UTF-8: the core raises it like its own checks. */
static int bad_utf8(ras_error *err, const char *name) {
  return ras_fail(err, RAS_BAD_ARGUMENT, "bad parameter '%s' (not valid UTF-8)", name);
}

#define WIDE(field, src, name)                                                \
  do {                                                                        \
    if (!to_wide((src), (field), (int)(sizeof(field) / sizeof(WCHAR))))       \
      return bad_utf8(err, (name));                                           \
  } while (0)

/* Fills the parameters that a dial and a resume share; NULL keeps a field. */
static int set_credentials(RASDIALPARAMSW *p, const char *username,
                           const char *password, const char *domain,
                           const char *callback_number, ras_error *err) {
  if (username) WIDE(p->szUserName, username, "username");
  if (password) WIDE(p->szPassword, password, "password");
  if (domain) WIDE(p->szDomain, domain, "domain");
  if (callback_number) WIDE(p->szCallbackNumber, callback_number, "callback_number");
  return 0;
}

static int fill_dial_params(ras_call *c, const ras_dial_params *d, ras_error *err) {
  RASDIALPARAMSW *p = &c->params;
  p->dwSize = sizeof *p;
  WIDE(p->szEntryName, d->entry, "entry");
  WIDE(p->szPhoneNumber, d->number, "number");
  if (d->phonebook) {
    WIDE(c->phonebook, d->phonebook, "phonebook");
    c->has_phonebook = 1;
  }
  p->dwCallbackId = (ULONG_PTR)c;   /* how the notifier finds the call */
  return set_credentials(p, d->username, d->password, d->domain,
                         d->callback_number, err);
}

static void wipe_password(ras_call *c) {
  os_wipe(c->params.szPassword, sizeof c->params.szPassword);
}

/* ---------------------------------------------------------------------- */
/* the notifier (a rasapi32 thread)                                       */

static DWORD WINAPI on_dial_event(ULONG_PTR id, DWORD subentry, HRASCONN h,
                                  UINT msg, RASCONNSTATE state, DWORD error,
                                  DWORD extended) {
  ras_call *c = (ras_call *)id;
  ras_instance *inst = c->inst;
  /* The contract: a failure is one Disconnected event carrying its error.
   * dwSubEntry 0 and 1 both mean the only subentry, as ras_event's do. */
  ras_event ev = { .state = error ? RAS_Disconnected : (int)state, .error = (int)error,
                   .extended_error = (int)extended, .subentry = (int)subentry,
                   .time = os_now() };
  int done = error != 0 || (state & RASCS_DONE) != 0;
  (void)msg;
  EnterCriticalSection(&inst->lock);
  if (!c->handle) c->handle = h;
  c->state = ev.state;
  c->paused = (state & RASCS_PAUSED) && !done;
  if (done) {
    c->notifier_done = 1;
    wipe_password(c);               /* no resume can follow */
  }
  if (ev.state == RAS_Connected) {
    c->watch_wanted = 1;
    SetEvent(inst->changed);
  }
  if (c->feed) ras_feed_push(c->feed, &ev);
  LeaveCriticalSection(&inst->lock);
  return done ? 0 : 1;
}

/* ---------------------------------------------------------------------- */
/* status                                                                 */

static void format_endpoint(const RASTUNNELENDPOINT *ep, char *dst, size_t size) {
  const BYTE *b = (const BYTE *)&ep->ipv4;
  if (ep->dwType == ENDPOINT_IPV4) {
    snprintf(dst, size, "%u.%u.%u.%u", b[0], b[1], b[2], b[3]);
  } else if (ep->dwType == ENDPOINT_IPV6) {
    b = (const BYTE *)&ep->ipv6;
    snprintf(dst, size, "%x:%x:%x:%x:%x:%x:%x:%x",
             b[0] << 8 | b[1], b[2] << 8 | b[3], b[4] << 8 | b[5], b[6] << 8 | b[7],
             b[8] << 8 | b[9], b[10] << 8 | b[11], b[12] << 8 | b[13], b[14] << 8 | b[15]);
  }
}

/* RasGetConnectStatusW with the newest layout the system takes; returns the
 * API's code, and *with_endpoints whether the Windows 7 fields are there. */
static DWORD read_status(ras_instance *inst, HRASCONN h, status_win7 *st, int *with_endpoints) {
  LONG size = InterlockedCompareExchange(&inst->status_size, 0, 0);
  DWORD rc;
  memset(st, 0, sizeof *st);
  st->v1.dwSize = size ? (DWORD)size : sizeof *st;
  rc = RasGetConnectStatusW(h, &st->v1);
  if (rc == ERROR_INVALID_SIZE && st->v1.dwSize != sizeof st->v1) {
    InterlockedExchange(&inst->status_size, sizeof st->v1);
    memset(st, 0, sizeof *st);
    st->v1.dwSize = sizeof st->v1;
    rc = RasGetConnectStatusW(h, &st->v1);
  }
  *with_endpoints = st->v1.dwSize == sizeof *st;
  return rc;
}

static HRASCONN handle_of(ras_call *c) {
  HRASCONN h;
  EnterCriticalSection(&c->inst->lock);
  h = c->handle;
  LeaveCriticalSection(&c->inst->lock);
  return h;
}

static int win32_status(ras_call *c, ras_status *st) {
  HRASCONN h = handle_of(c);
  status_win7 s;
  int with_endpoints;
  DWORD rc;
  if (!h) return RAS_ERROR_INVALID_HANDLE;
  rc = read_status(c->inst, h, &s, &with_endpoints);
  if (rc != 0) return (int)rc;
  st->state = (int)s.v1.rasconnstate;
  st->substate = with_endpoints ? (int)s.substate : RAS_SUB_None;
  st->error = (int)s.v1.dwError;
  to_utf8(s.v1.szDeviceType, RAS_MaxDeviceType + 1, st->device_type, sizeof st->device_type);
  to_utf8(s.v1.szDeviceName, RAS_MaxDeviceName + 1, st->device_name, sizeof st->device_name);
  if (with_endpoints) {
    format_endpoint(&s.local_end, st->local_address, sizeof st->local_address);
    format_endpoint(&s.remote_end, st->remote_address, sizeof st->remote_address);
  }
  return 0;
}

/* ---------------------------------------------------------------------- */
/* the watcher thread                                                     */

static void free_call(ras_call *c) {
  if (c->dropped) CloseHandle(c->dropped);
  if (c->teardown) CloseHandle(c->teardown);
  os_wipe(c, sizeof *c);
  free(c);
}

/* No notifier can reach c any more. (lock held) */
static int quiet(const ras_call *c) {
  return !c->dialled || c->notifier_done || c->hangup_returned || !c->handle;
}

/* Frees the calls the Lua side is done with. (lock held) */
static void sweep(ras_instance *inst) {
  for (ras_call **pp = &inst->calls; *pp;) {
    ras_call *c = *pp;
    if (c->released && quiet(c)) {
      *pp = c->next;
      free_call(c);
    } else {
      pp = &c->next;
    }
  }
}

/* Registers the calls that reached Connected (or were attached) for
 * RASCN_Disconnection, outside the lock: only this thread frees calls. */
static void start_watching(ras_instance *inst) {
  for (;;) {
    ras_call *c = NULL;
    HRASCONN h;
    EnterCriticalSection(&inst->lock);
    for (ras_call *p = inst->calls; p && !c; p = p->next)
      if (p->watch_wanted && !p->watching && !p->released) c = p;
    if (c) c->watching = 1;
    h = c ? c->handle : NULL;
    LeaveCriticalSection(&inst->lock);
    if (!c) return;
    /* If that fails the handle is gone already; either way one status
     * check now also catches a drop from before the registration. */
    RasConnectionNotificationW(h, c->dropped, RASCN_Disconnection);
    SetEvent(c->dropped);
  }
}

/* c's line may have dropped: if the status says so, report it once. */
static void check_drop(ras_instance *inst, ras_call *c) {
  status_win7 st;
  int with_endpoints, error = -1;
  HRASCONN h = handle_of(c);
  DWORD rc = read_status(inst, h, &st, &with_endpoints);
  if (rc == ERROR_INVALID_HANDLE) error = 0;     /* gone, no reason left to read */
  else if (rc == 0 && st.v1.rasconnstate == RASCS_Disconnected) error = (int)st.v1.dwError;
  if (error < 0) return;
  EnterCriticalSection(&inst->lock);
  if (!c->hung_up && !c->drop_seen && c->feed) {
    ras_event ev = { .state = RAS_Disconnected, .error = error, .time = os_now() };
    ras_feed_push(c->feed, &ev);
  }
  c->drop_seen = 1;
  LeaveCriticalSection(&inst->lock);
}

/* Fills waits[2..] with the events of watched calls; returns the count, and
 * *more when some did not fit (those are then polled every slice). */
static DWORD collect_waits(ras_instance *inst, HANDLE *waits, int *more) {
  DWORD n = 2;
  *more = 0;
  waits[0] = inst->stop;
  waits[1] = inst->changed;
  EnterCriticalSection(&inst->lock);
  sweep(inst);
  for (ras_call *c = inst->calls; c; c = c->next) {
    if (!c->watching || c->drop_seen || c->hung_up || c->released) continue;
    if (n < MAXIMUM_WAIT_OBJECTS) waits[n++] = c->dropped;
    else *more = 1;
  }
  LeaveCriticalSection(&inst->lock);
  return n;
}

static void check_signalled(ras_instance *inst) {
  for (;;) {
    ras_call *c = NULL;
    EnterCriticalSection(&inst->lock);
    for (ras_call *p = inst->calls; p && !c; p = p->next)
      if (p->watching && !p->drop_seen && !p->hung_up && !p->released &&
          WaitForSingleObject(p->dropped, 0) == WAIT_OBJECT_0)
        c = p;
    if (c) ResetEvent(c->dropped);
    LeaveCriticalSection(&inst->lock);
    if (!c) return;
    check_drop(inst, c);
  }
}

static void watcher_main(void *arg) {
  ras_instance *inst = arg;
  HANDLE waits[MAXIMUM_WAIT_OBJECTS];
  for (;;) {
    int more;
    DWORD n, r;
    start_watching(inst);
    n = collect_waits(inst, waits, &more);
    r = WaitForMultipleObjects(n, waits, FALSE,
                               more ? (DWORD)(TEARDOWN_SLICE * 1000) : INFINITE);
    if (r == WAIT_OBJECT_0 || r == WAIT_FAILED) return;
    check_signalled(inst);
  }
}

/* ---------------------------------------------------------------------- */
/* calls                                                                  */

static ras_call *new_call(ras_instance *inst, ras_error *err) {
  ras_call *c = calloc(1, sizeof *c);
  if (!c) {
    ras_fail(err, RAS_ERROR_NOT_ENOUGH_MEMORY, "out of memory");
    return NULL;
  }
  c->inst = inst;
  c->dropped = CreateEventW(NULL, TRUE, FALSE, NULL);
  c->teardown = CreateEventW(NULL, FALSE, FALSE, NULL);
  if (!c->dropped || !c->teardown) {
    free_call(c);
    ras_fail(err, RAS_ERROR_NOT_ENOUGH_MEMORY, "cannot create an event");
    return NULL;
  }
  return c;
}

static void add_call(ras_instance *inst, ras_call *c, ras_feed *feed) {
  ras_feed_ref(feed);
  EnterCriticalSection(&inst->lock);
  c->feed = feed;
  c->next = inst->calls;
  inst->calls = c;
  SetEvent(inst->changed);
  LeaveCriticalSection(&inst->lock);
}

/* Takes c out of the list before the watcher ever saw it. */
static void remove_call(ras_instance *inst, ras_call *c) {
  ras_feed *feed;
  EnterCriticalSection(&inst->lock);
  for (ras_call **pp = &inst->calls; *pp; pp = &(*pp)->next)
    if (*pp == c) {
      *pp = c->next;
      break;
    }
  feed = c->feed;
  c->feed = NULL;
  LeaveCriticalSection(&inst->lock);
  if (feed) ras_feed_unref(feed);
  free_call(c);
}

/* RasDialW failed but left a handle: RAS wants it hung up and waited out. */
static void abandon_handle(ras_instance *inst, HRASCONN h) {
  double until = os_now() + FAILED_DIAL_WAIT;
  status_win7 st;
  int with_endpoints;
  RasHangUpW(h);
  while (read_status(inst, h, &st, &with_endpoints) != ERROR_INVALID_HANDLE &&
         os_now() < until)
    Sleep((DWORD)(TEARDOWN_SLICE * 1000));
}

static void set_extensions(const ras_call *c, RASDIALEXTENSIONS *ext) {
  memset(ext, 0, sizeof *ext);
  ext->dwSize = sizeof *ext;
  ext->dwfOptions = c->dial_options;
}

static int win32_dial(ras_instance *inst, ras_feed *feed, const ras_dial_params *p,
                      ras_call **out, uint64_t *id, ras_error *err) {
  RASDIALEXTENSIONS ext;
  RASDIALPARAMSW params;
  HRASCONN h = NULL;
  DWORD rc;
  ras_call *c = new_call(inst, err);
  if (!c) return err->code;
  c->dialled = 1;
  if (fill_dial_params(c, p, err) != 0) {
    free_call(c);
    return err->code;
  }
  if (p->paused_states) c->dial_options |= RDEOPT_PausedStates;
  set_extensions(c, &ext);
  params = c->params;             /* the API's copy; c's may be wiped meanwhile */
  add_call(inst, c, feed);          /* the notifier may run before RasDialW returns */
  rc = RasDialW(&ext, c->has_phonebook ? c->phonebook : NULL, &params, 2,
                (LPVOID)on_dial_event, &h);
  os_wipe(params.szPassword, sizeof params.szPassword);
  if (rc != 0) {
    if (h) abandon_handle(inst, h);
    remove_call(inst, c);
    return api_failure(err, "RasDialW", rc);
  }
  EnterCriticalSection(&inst->lock);
  c->handle = h;
  LeaveCriticalSection(&inst->lock);
  *id = (uint64_t)(uintptr_t)h;
  *out = c;
  return 0;
}

static ras_call *win32_attach(ras_instance *inst, ras_feed *feed, uint64_t id,
                              ras_error *err) {
  HRASCONN h = (HRASCONN)(uintptr_t)id;
  status_win7 st;
  int with_endpoints;
  DWORD rc = read_status(inst, h, &st, &with_endpoints);
  ras_call *c;
  if (rc != 0) {
    ras_fail(err, RAS_ERROR_INVALID_HANDLE, "the connection no longer exists");
    return NULL;
  }
  c = new_call(inst, err);
  if (!c) return NULL;
  c->handle = h;
  c->state = (int)st.v1.rasconnstate;
  c->watch_wanted = 1;            /* a drop of a listed connection is news too */
  add_call(inst, c, feed);
  return c;
}

static int win32_resume(ras_call *c, const ras_resume_params *p, ras_error *err) {
  ras_instance *inst = c->inst;
  RASDIALEXTENSIONS ext;
  RASDIALPARAMSW params;
  HRASCONN h;
  DWORD rc;
  int state;
  set_extensions(c, &ext);
  EnterCriticalSection(&inst->lock);
  state = c->state;
  h = c->handle;
  params = c->params;
  if (c->paused && !c->hung_up) c->paused = 0;
  else h = NULL;
  LeaveCriticalSection(&inst->lock);
  if (!h) {
    os_wipe(&params, sizeof params);
    return ras_fail(err, RAS_ERROR_INVALID_PARAMETER,
                    "the connection is not in a paused state (%s)",
                    ras_state_name(state) ? ras_state_name(state) : "unknown");
  }
  /* RASDIALPARAMSW has no field for a new password: after PasswordExpired,
   * Windows takes the new one in szPassword. */
  rc = set_credentials(&params, p->username,
                       p->new_password ? p->new_password : p->password,
                       p->domain, p->callback_number, err);
  if (rc == 0) {
    EnterCriticalSection(&inst->lock);
    c->params = params;           /* a later pause resumes from these */
    LeaveCriticalSection(&inst->lock);
    /* The same extensions and notifier as the dial, from this thread. */
    rc = RasDialW(&ext, c->has_phonebook ? c->phonebook : NULL, &params, 2,
                  (LPVOID)on_dial_event, &h);
    if (rc != 0) api_failure(err, "RasDialW (resume)", rc);
  }
  os_wipe(&params, sizeof params);
  if (rc != 0) {
    EnterCriticalSection(&inst->lock);
    if (c->state == state && !c->hung_up) c->paused = 1;  /* still waiting */
    LeaveCriticalSection(&inst->lock);
  }
  return (int)rc;
}

static int win32_hangup(ras_call *c, ras_error *err) {
  ras_instance *inst = c->inst;
  HRASCONN h;
  DWORD rc;
  EnterCriticalSection(&inst->lock);
  h = c->handle;
  if (c->hung_up) h = NULL;
  c->hung_up = 1;
  c->paused = 0;
  LeaveCriticalSection(&inst->lock);
  if (!h) return 0;
  /* Before the hang-up, so that wait() hears of the teardown. */
  RasConnectionNotificationW(h, c->teardown, RASCN_Disconnection);
  rc = RasHangUpW(h);             /* waits for a running notifier: no lock */
  EnterCriticalSection(&inst->lock);
  c->hangup_returned = 1;
  wipe_password(c);
  SetEvent(inst->changed);
  LeaveCriticalSection(&inst->lock);
  if (rc != 0 && rc != ERROR_INVALID_HANDLE)
    return api_failure(err, "RasHangUpW", rc);
  return 0;
}

/* The teardown signals RASCN_Disconnection, but nothing says when the
 * handle is finally gone: after that one event, sleep in short slices. */
static void win32_wait(ras_call *c, double seconds) {
  double slice = seconds < 0 || seconds > TEARDOWN_SLICE ? TEARDOWN_SLICE : seconds;
  WaitForSingleObject(c->teardown, (DWORD)(slice * 1000.0 + 0.999));
}

static void win32_release(ras_call *c) {
  ras_instance *inst = c->inst;
  ras_feed *feed;
  EnterCriticalSection(&inst->lock);
  feed = c->feed;
  c->feed = NULL;
  c->released = 1;
  wipe_password(c);
  SetEvent(inst->changed);          /* the watcher frees it once it is quiet */
  LeaveCriticalSection(&inst->lock);
  if (feed) ras_feed_unref(feed);
}

/* ---------------------------------------------------------------------- */
/* enumerations                                                           */

/*
 * The size protocol: the first element's dwSize says the layout; on
 * ERROR_BUFFER_TOO_SMALL *cb says the size needed, which may have grown
 * again by the retry. Returns the malloc'd array with *count items, or
 * NULL with *err.
 */
typedef DWORD (*enum_fn)(void *ctx, void *buf, DWORD *cb, DWORD *count);

static void *enumerate(enum_fn fn, void *ctx, DWORD elem, DWORD *count, ras_error *err) {
  DWORD cb = elem, rc = ERROR_BUFFER_TOO_SMALL;
  void *buf = NULL;
  for (int attempt = 0; attempt < ENUM_ATTEMPTS && rc == ERROR_BUFFER_TOO_SMALL; attempt++) {
    DWORD items = (cb + elem - 1) / elem;
    void *grown = realloc(buf, (size_t)(items ? items : 1) * elem);
    if (!grown) {
      free(buf);
      ras_fail(err, RAS_ERROR_NOT_ENOUGH_MEMORY, "out of memory");
      return NULL;
    }
    buf = grown;
    memset(buf, 0, (size_t)(items ? items : 1) * elem);
    *(DWORD *)buf = elem;         /* dwSize of the first element */
    cb = (items ? items : 1) * elem;
    *count = 0;
    rc = fn(ctx, buf, &cb, count);
  }
  if (rc != 0) {
    free(buf);
    api_failure(err, "the enumeration", rc);
    return NULL;
  }
  return buf;
}

static DWORD enum_connections(void *ctx, void *buf, DWORD *cb, DWORD *count) {
  (void)ctx;
  return RasEnumConnectionsW(buf, cb, count);
}

static ras_conn_info *win32_connections(ras_instance *inst, size_t *n, ras_error *err) {
  DWORD count;
  RASCONNW *raw = enumerate(enum_connections, NULL, sizeof(RASCONNW), &count, err);
  ras_conn_info *list;
  (void)inst;                       /* the enumeration is system-wide */
  if (!raw) return NULL;
  list = calloc(count + 1, sizeof *list);
  if (!list) {
    free(raw);
    ras_fail(err, RAS_ERROR_NOT_ENOUGH_MEMORY, "out of memory");
    return NULL;
  }
  for (DWORD i = 0; i < count; i++) {
    list[i].id = (uint64_t)(uintptr_t)raw[i].hrasconn;
    to_utf8(raw[i].szEntryName, RAS_MaxEntryName + 1, list[i].entry, sizeof list[i].entry);
    to_utf8(raw[i].szPhonebook, MAX_PATH, list[i].phonebook, sizeof list[i].phonebook);
  }
  free(raw);
  *n = count;
  return list;
}

static DWORD enum_entries(void *ctx, void *buf, DWORD *cb, DWORD *count) {
  return RasEnumEntriesW(NULL, ctx, buf, cb, count);
}

static ras_entry_info *win32_entries(ras_instance *inst, const char *phonebook,
                                     size_t *n, ras_error *err) {
  WCHAR path[MAX_PATH + 1];
  DWORD count;
  RASENTRYNAMEW *raw;
  ras_entry_info *list;
  (void)inst;
  if (phonebook && !to_wide(phonebook, path, MAX_PATH + 1)) {
    bad_utf8(err, "phonebook");
    return NULL;
  }
  raw = enumerate(enum_entries, phonebook ? path : NULL, sizeof(RASENTRYNAMEW), &count, err);
  if (!raw) return NULL;
  list = calloc(count + 1, sizeof *list);
  if (!list) {
    free(raw);
    ras_fail(err, RAS_ERROR_NOT_ENOUGH_MEMORY, "out of memory");
    return NULL;
  }
  for (DWORD i = 0; i < count; i++) {
    to_utf8(raw[i].szEntryName, RAS_MaxEntryName + 1, list[i].name, sizeof list[i].name);
    to_utf8(raw[i].szPhonebookPath, MAX_PATH + 1, list[i].phonebook, sizeof list[i].phonebook);
  }
  free(raw);
  *n = count;
  return list;
}

static const char *win32_error_text(int code, char *buf, size_t size) {
  WCHAR text[512];
  size_t len;
  if (code < 0 || RasGetErrorStringW((UINT)code, text, 512) != 0) return NULL;
  to_utf8(text, 512, buf, size);
  len = strlen(buf);
  while (len > 0 && (buf[len - 1] == '\r' || buf[len - 1] == '\n' || buf[len - 1] == ' '))
    buf[--len] = '\0';
  return len ? buf : NULL;
}

/* ---------------------------------------------------------------------- */
/* the context                                                            */

static void free_context(ras_instance *inst) {
  while (inst->calls) {
    ras_call *c = inst->calls;
    inst->calls = c->next;
    if (c->feed) ras_feed_unref(c->feed);
    c->feed = NULL;
    /* Moot: the binding hangs up every unfinished dial before close, so no
     * notifier can still come; were one due, a leak beats a freed call. */
    if (quiet(c)) free_call(c);
  }
  if (inst->stop) CloseHandle(inst->stop);
  if (inst->changed) CloseHandle(inst->changed);
  DeleteCriticalSection(&inst->lock);
  free(inst);
}

static void win32_close(ras_instance *inst) {
  SetEvent(inst->stop);
  if (inst->watcher) os_thread_join(inst->watcher);
  free_context(inst);
}

static ras_instance *win32_open(const void *config, ras_error *err) {
  ras_instance *inst = calloc(1, sizeof *inst);
  (void)config;                   /* there are no options */
  if (!inst) {
    ras_fail(err, RAS_ERROR_NOT_ENOUGH_MEMORY, "out of memory");
    return NULL;
  }
  InitializeCriticalSection(&inst->lock);
  inst->stop = CreateEventW(NULL, TRUE, FALSE, NULL);
  inst->changed = CreateEventW(NULL, FALSE, FALSE, NULL);
  if (inst->stop && inst->changed) inst->watcher = os_thread_start(watcher_main, inst);
  if (!inst->watcher) {
    free_context(inst);
    ras_fail(err, RAS_ERROR_NOT_ENOUGH_MEMORY, "cannot start the watcher thread");
    return NULL;
  }
  return inst;
}

/* rasapi32 takes its settings from the phone book: ras.open("win32", t)
 * takes no option, so any key of t is an unknown option. */
typedef struct win32_config { char unused; } win32_config;

static const ras_field win32_fields[] = { { .name = NULL } };

static const ras_record win32_options = {
  .size = sizeof(win32_config),
  .fields = win32_fields
};

const ras_backend ras_backend_win32 = {
  .name = "win32",
  .options = &win32_options,
  .open = win32_open,
  .close = win32_close,
  .dial = win32_dial,
  .attach = win32_attach,
  .resume = win32_resume,
  .hangup = win32_hangup,
  .status = win32_status,
  .wait = win32_wait,
  .release = win32_release,
  .connections = win32_connections,
  .entries = win32_entries,
  .error_text = win32_error_text
};

#endif /* _WIN32 */
