/*
 * backend_win32.c - the Windows backend: rasapi32's RasDialW, RasHangUpW,
 * RasGetConnectStatusW, the enumerations and RasConnectionNotificationW,
 * written for what real rasapi32 may do, not what a friendly double does.
 *
 * Threads. Calls come from the Lua thread. RasDialW's notifier (a
 * RasDialFunc2) runs on threads of rasapi32's, possibly before RasDialW has
 * returned the handle and possibly after RasHangUpW has returned ("most of
 * the hang-up processing occurs after the callback returns"). So its
 * dwCallbackId is a cookie (slot index + generation) that it looks up under
 * the lock; a cookie nobody holds any more is answered 0 (stop). The module
 * pins itself in memory, so that the notifier's code is there for as long as
 * rasapi32 may call it. One watcher thread per context waits for
 * RASCN_Disconnection and checks the status of every connected call every
 * 1.5 s, since Windows 11 may tell only a process's first connection.
 *
 * Handles. Windows gives a torn-down connection's handle value to the next
 * one. A call whose connection has ended (the status said
 * ERROR_INVALID_HANDLE, RasHangUpW said it is gone, RasDialW gave its value
 * to a new dial, or connections() found another connection under it) is
 * `ended` and never touches that value again. Enumeration ids come from a
 * counter, never from handle values: a handle plus the correlation GUID
 * (Vista and later) and the generation the backend saw it under.
 *
 * Locking. One lock (an SRW lock, for every context: the cookies are
 * process-wide) guards the cookies and every call's fields and call->feed;
 * events are pushed under it, so release() cannot race a push. It is never
 * held across RasDialW or RasHangUpW. A second lock, the gate, is held across
 * a new dial's RasDialW and every RasHangUpW, so that a hang-up of an old
 * handle value and the dial that is given that value cannot interleave.
 *
 * Lifetime. Only the watcher thread (or close(), after joining it) frees a
 * call, after release(); release() takes its cookie back at once.
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
/* Milliseconds between the watcher's status checks of connected calls. */
#define CHECK_INTERVAL_MS 1500
/* Retries of an enumeration whose count keeps growing, before giving up. */
#define ENUM_ATTEMPTS 32
/* The cookie's low bits are the slot; the rest its generation. */
#define COOKIE_SLOT_BITS 16
#define MAX_CALLS ((1u << COOKIE_SLOT_BITS) - 1)

/* ---------------------------------------------------------------------- */
/* the layouts ras.h declares, newest first                               */

/* RAS structures are packed to 4 and begin with dwSize. The older layouts
 * are prefixes of the newer; Windows answers ERROR_INVALID_SIZE (632) to a
 * size it does not know and takes the older ones. */
#include <pshpack4.h>
typedef struct status_win7 {      /* mingw stops at szPhoneNumber */
  RASCONNSTATUSW v1;
  RASTUNNELENDPOINT local_end;
  RASTUNNELENDPOINT remote_end;
  DWORD substate;
} status_win7;
typedef struct conn_vista {       /* mingw stops at luid */
  RASCONNW xp;
  GUID correlation;
} conn_vista;
#include <poppack.h>

#define ROUND4(n) (((n) + 3) & ~(size_t)3)

enum { L_DIALPARAMS, L_EXTENSIONS, L_CONN, L_STATUS, L_ENTRYNAME, L_COUNT };

typedef struct layouts {
  const char *name;
  DWORD sizes[5];                 /* newest first, 0-terminated */
} layouts;

static const layouts layout_table[L_COUNT] = {
  /* Windows 7 (dwIfIndex), Windows 2000 (dwCallbackId: RasDialFunc2 needs it) */
  [L_DIALPARAMS] = { "RASDIALPARAMSW",
                     { sizeof(RASDIALPARAMSW), offsetof(RASDIALPARAMSW, dwIfIndex) } },
  /* Windows 2000 (mingw's), NT 4 */
  [L_EXTENSIONS] = { "RASDIALEXTENSIONS",
                     { sizeof(RASDIALEXTENSIONS),
                       ROUND4(offsetof(RASDIALEXTENSIONS, reserved1)) } },
  /* Vista (guidCorrelationId), XP (mingw's), 2000, NT 4 with phonebook, NT 4 */
  [L_CONN] = { "RASCONNW",
               { sizeof(conn_vista), sizeof(RASCONNW), ROUND4(offsetof(RASCONNW, dwFlags)),
                 ROUND4(offsetof(RASCONNW, guidEntry)),
                 ROUND4(offsetof(RASCONNW, szPhonebook)) } },
  /* Windows 7 (endpoints, substate), NT 4 with szPhoneNumber (mingw's), NT 4 */
  [L_STATUS] = { "RASCONNSTATUSW",
                 { sizeof(status_win7), sizeof(RASCONNSTATUSW),
                   ROUND4(offsetof(RASCONNSTATUSW, szPhoneNumber)) } },
  /* Windows 2000 (phonebook path), NT 4 */
  [L_ENTRYNAME] = { "RASENTRYNAMEW",
                    { sizeof(RASENTRYNAMEW), ROUND4(offsetof(RASENTRYNAMEW, dwFlags)) } },
};

/* The sizes of ../shared/reference/ras-api.md (mingw-w64, pack 4). */
#ifdef _WIN64
_Static_assert(sizeof(RASDIALPARAMSW) == 2112, "RASDIALPARAMSW (Windows 7) is 2112 on x64");
_Static_assert(offsetof(RASDIALPARAMSW, dwIfIndex) == 2108, "RASDIALPARAMSW (2000) is 2108 on x64");
_Static_assert(sizeof(RASDIALEXTENSIONS) == 44, "RASDIALEXTENSIONS (2000) is 44 on x64");
_Static_assert(sizeof(RASCONNW) == 1372, "RASCONNW (XP) is 1372 on x64");
_Static_assert(sizeof(conn_vista) == 1388, "RASCONNW (Vista) is 1388 on x64");
#else
_Static_assert(sizeof(RASDIALPARAMSW) == 2108, "RASDIALPARAMSW (Windows 7) is 2108 on i686");
_Static_assert(offsetof(RASDIALPARAMSW, dwIfIndex) == 2104, "RASDIALPARAMSW (2000) is 2104 on i686");
_Static_assert(sizeof(RASDIALEXTENSIONS) == 28, "RASDIALEXTENSIONS (2000) is 28 on i686");
_Static_assert(sizeof(RASCONNW) == 1368, "RASCONNW (XP) is 1368 on i686");
_Static_assert(sizeof(conn_vista) == 1384, "RASCONNW (Vista) is 1384 on i686");
#endif
_Static_assert(sizeof(RASCONNSTATUSW) == 564, "RASCONNSTATUSW (NT 4) is 564");
_Static_assert(sizeof(status_win7) == 608, "RASCONNSTATUSW (Windows 7) is 608");
_Static_assert(sizeof(RASENTRYNAMEW) == 1048, "RASENTRYNAMEW (2000) is 1048");

/* Which size of each structure this process uses: the newest the system
 * took. Process-wide, like the system's answer. */
static LONG layout_choice[L_COUNT];

static DWORD layout_size(int which) {
  LONG i = InterlockedCompareExchange(&layout_choice[which], 0, 0);
  return layout_table[which].sizes[i];
}

/* After a 632 for `size`: 1 if an older layout is left to try. */
static int older_layout(int which, DWORD size) {
  LONG i = InterlockedCompareExchange(&layout_choice[which], 0, 0);
  if (layout_table[which].sizes[i] != size) return 1;   /* another thread moved on */
  if (i + 1 >= 5 || layout_table[which].sizes[i + 1] == 0) return 0;
  InterlockedCompareExchange(&layout_choice[which], i + 1, i);
  return 1;
}

/* ---------------------------------------------------------------------- */
/* state                                                                  */

#define ENDPOINT_IPV4 1
#define ENDPOINT_IPV6 2

/* A connection connections() saw that no call of ours stands for: the id
 * it was given, kept while the handle stays listed under the same GUID. */
typedef struct seen {
  HRASCONN handle;
  uint64_t id;
  GUID correlation;
  int has_correlation;
  int listed;                     /* in the latest enumeration */
} seen;

struct ras_instance {
  HANDLE stop;                    /* manual reset: the watcher ends */
  HANDLE changed;                 /* auto reset: the watch list changed */
  HANDLE dropped;                 /* auto reset: RASCN_Disconnection, any call */
  os_thread *watcher;
  struct ras_call *calls;
  uint64_t next_id;
  seen *seen;
  size_t nseen, seen_cap;
  unsigned round;                 /* the watcher's: its checks so far */
};

struct ras_call {
  ras_instance *inst;
  struct ras_call *next;
  ULONG_PTR cookie;               /* the notifier's dwCallbackId; 0 once released */
  uint64_t id;
  HRASCONN handle;                /* NULL until the dial's first news of it */
  GUID correlation;               /* once an enumeration showed it */
  int has_correlation;
  ras_feed *feed;                 /* NULL once released */
  HANDLE teardown;                /* wait()'s RASCN_Disconnection event */
  RASDIALPARAMSW params;          /* a dial's, kept while it may be resumed */
  WCHAR phonebook[MAX_PATH + 1];
  int has_phonebook;
  int dialled;                    /* has a notifier (else attached) */
  DWORD dial_options;             /* RASDIALEXTENSIONS.dwfOptions, for resumes */
  int paused, state;
  int connected;                  /* reached Connected, or attached */
  int watching;                   /* registered for RASCN_Disconnection */
  int drop_seen;
  int hung_up, hangup_returned;
  int ended;                      /* the handle value is not ours any more */
  int released;
  unsigned checked;               /* the watcher's round that checked it */
};

static SRWLOCK lock = SRWLOCK_INIT;
static SRWLOCK gate = SRWLOCK_INIT;

static void lock_all(void) { AcquireSRWLockExclusive(&lock); }
static void unlock_all(void) { ReleaseSRWLockExclusive(&lock); }

/* The cookies: slot i holds a call and the generation its cookie carries. */
typedef struct slot {
  ras_call *call;
  ULONG_PTR generation;
} slot;

static slot *slots;
static size_t nslots;

/* A cookie for c, or 0 when there is no room. (lock held) */
static ULONG_PTR cookie_for(ras_call *c) {
  size_t i = 1;                   /* slot 0 unused: no cookie is 0 */
  while (i < nslots && slots[i].call) i++;
  if (i > MAX_CALLS) return 0;
  if (i >= nslots) {
    size_t size = nslots ? nslots * 2 : 16;
    slot *grown = realloc(slots, size * sizeof *slots);
    if (!grown) return 0;
    memset(grown + nslots, 0, (size - nslots) * sizeof *slots);
    slots = grown;
    nslots = size;
  }
  slots[i].call = c;
  slots[i].generation++;
  return (ULONG_PTR)i | slots[i].generation << COOKIE_SLOT_BITS;
}

/* The call a cookie stands for, or NULL for one nobody holds. (lock held) */
static ras_call *call_of(ULONG_PTR cookie) {
  size_t i = cookie & MAX_CALLS;
  if (i == 0 || i >= nslots || !slots[i].call) return NULL;
  if ((slots[i].generation << COOKIE_SLOT_BITS) != (cookie & ~(ULONG_PTR)MAX_CALLS))
    return NULL;
  return slots[i].call;
}

static void drop_cookie(ras_call *c) {
  if (c->cookie) slots[c->cookie & MAX_CALLS].call = NULL;
  c->cookie = 0;
}

/* The notifier's code must outlive any FreeLibrary of the module. */
static void pin_module(void) {
  HMODULE self;
  GetModuleHandleExW(GET_MODULE_HANDLE_EX_FLAG_FROM_ADDRESS | GET_MODULE_HANDLE_EX_FLAG_PIN,
                     (LPCWSTR)(void *)pin_module, &self);
}

/* ---------------------------------------------------------------------- */
/* text conversion                                                        */

/* Why to_wide refused a text. */
enum { WIDE_OK, WIDE_INVALID, WIDE_TOO_LONG };

/* UTF-8 into dst (count WCHARs, the terminator included). Windows' limits
 * count UTF-16 units, so the length is checked in units, after validity. */
static int to_wide(const char *s, WCHAR *dst, int count) {
  int units;
  if (!s) {
    dst[0] = L'\0';
    return WIDE_OK;
  }
  units = MultiByteToWideChar(CP_UTF8, MB_ERR_INVALID_CHARS, s, -1, NULL, 0);
  if (units <= 0) return WIDE_INVALID;
  if (units > count) return WIDE_TOO_LONG;
  MultiByteToWideChar(CP_UTF8, MB_ERR_INVALID_CHARS, s, -1, dst, count);
  return WIDE_OK;
}

/* UTF-16 into UTF-8. count is the source's capacity (it need not be
 * terminated); every destination is sized for 3 bytes a unit
 * (RAS_TEXT_BYTES), so the text always fits whole. */
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

/* A parameter Windows cannot take: the core raises it like its own checks. */
static int bad_text(ras_error *err, const char *name, int why, int count) {
  if (why == WIDE_TOO_LONG)
    return ras_fail(err, RAS_BAD_ARGUMENT, "bad parameter '%s' (longer than %d UTF-16 units)",
                    name, count - 1);
  return ras_fail(err, RAS_BAD_ARGUMENT, "bad parameter '%s' (not valid UTF-8)", name);
}

#define WIDE(field, src, name)                                                \
  do {                                                                        \
    int count_ = (int)(sizeof(field) / sizeof(WCHAR));                        \
    int why_ = to_wide((src), (field), count_);                               \
    if (why_ != WIDE_OK) return bad_text(err, (name), why_, count_);           \
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
  return set_credentials(p, d->username, d->password, d->domain,
                         d->callback_number, err);
}

static void wipe_password(ras_call *c) {
  os_wipe(c->params.szPassword, sizeof c->params.szPassword);
}

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

/* ---------------------------------------------------------------------- */
/* the end of a connection                                                */

/* c's connection is over and its handle value may already stand for
 * another: never act on it again, and tell the feed once. (lock held) */
static void forget_seen(ras_instance *inst, uint64_t id);

static void end_call(ras_call *c) {
  if (c->ended) return;
  c->ended = 1;
  /* The id stood for this connection only: the value's next is another. */
  forget_seen(c->inst, c->id);
  c->paused = 0;
  if (c->feed && !c->hung_up && !c->drop_seen) {
    /* The feed discards it if the connection has ended already. */
    ras_event ev = { .state = RAS_Disconnected, .time = os_now() };
    ras_feed_push(c->feed, &ev);
  }
  c->drop_seen = 1;
}

/* h has just been given to a new dial (to), or the API has said it is
 * invalid (to NULL): whoever held that value before has lost it, in every
 * context. (lock held) */
static void handle_given_out(HRASCONN h, const ras_call *to) {
  for (size_t i = 1; i < nslots; i++) {
    ras_call *c = slots[i].call;
    if (c && c != to && c->handle == h) end_call(c);
  }
}

/* ---------------------------------------------------------------------- */
/* the notifier (a rasapi32 thread)                                       */

static DWORD WINAPI on_dial_event(ULONG_PTR cookie, DWORD subentry, HRASCONN h,
                                  UINT msg, RASCONNSTATE state, DWORD error,
                                  DWORD extended) {
  /* The contract: a failure is one Disconnected event carrying its error.
   * dwSubEntry 0 and 1 both mean the only subentry, as ras_event's do. */
  ras_event ev = { .state = error ? RAS_Disconnected : (int)state, .error = (int)error,
                   .extended_error = (int)extended, .subentry = (short)subentry,
                   .time = os_now() };
  int done = error != 0 || (state & RASCS_DONE) != 0;
  ras_call *c;
  (void)msg;
  lock_all();
  c = call_of(cookie);
  /* Late news of a call hung up, failed or released: nobody to tell. */
  if (!c || c->ended || c->hung_up) {
    unlock_all();
    return 0;
  }
  if (!c->handle) c->handle = h;
  c->state = ev.state;
  c->paused = (state & RASCS_PAUSED) && !done;
  if (done) wipe_password(c);     /* no resume can follow */
  if (ev.state == RAS_Connected) {
    c->connected = 1;
    SetEvent(c->inst->changed);
  }
  if (c->feed) ras_feed_push(c->feed, &ev);
  unlock_all();
  return done ? 0 : 1;
}

/* ---------------------------------------------------------------------- */
/* status                                                                 */

/* RasGetConnectStatusW with the newest layout the system takes. */
static DWORD read_status(HRASCONN h, status_win7 *st) {
  for (;;) {
    DWORD size = layout_size(L_STATUS), rc;
    memset(st, 0, sizeof *st);
    st->v1.dwSize = size;
    rc = RasGetConnectStatusW(h, &st->v1);
    if (rc != ERROR_INVALID_SIZE || !older_layout(L_STATUS, size)) return rc;
  }
}

/*
 * Every use of a handle value goes through the gate, one at a time in the
 * process (the Lua threads and the watchers all use them), so that once
 * the API has answered ERROR_INVALID_HANDLE for a value, no call that held
 * it uses it again, and no dial can be given the value in between. Returns
 * the handle with the gate held, or NULL (gate free) when c has none or its
 * connection has ended; probe_end() takes the API's answer and lets go.
 */
static HRASCONN probe_begin(ras_call *c) {
  HRASCONN h;
  AcquireSRWLockExclusive(&gate);
  lock_all();
  h = c->ended ? NULL : c->handle;
  unlock_all();
  if (!h) ReleaseSRWLockExclusive(&gate);
  return h;
}

static void probe_end(HRASCONN h, DWORD rc) {
  if (rc == ERROR_INVALID_HANDLE) {
    lock_all();
    handle_given_out(h, NULL);    /* every call that held it has lost it */
    unlock_all();
  }
  ReleaseSRWLockExclusive(&gate);
}

/* The status of c's handle; an invalid handle ends c. */
static DWORD call_status(ras_call *c, status_win7 *st) {
  HRASCONN h = probe_begin(c);
  DWORD rc;
  if (!h) return ERROR_INVALID_HANDLE;
  rc = read_status(h, st);
  probe_end(h, rc);
  return rc;
}

static int win32_status(ras_call *c, ras_status *st) {
  status_win7 s;
  DWORD size, rc = call_status(c, &s);
  if (rc != 0) return (int)rc;
  size = s.v1.dwSize;
  st->state = (int)s.v1.rasconnstate;
  st->substate = size >= sizeof s ? (int)s.substate : RAS_SUB_None;
  st->error = (int)s.v1.dwError;
  to_utf8(s.v1.szDeviceType, RAS_MaxDeviceType + 1, st->device_type, sizeof st->device_type);
  to_utf8(s.v1.szDeviceName, RAS_MaxDeviceName + 1, st->device_name, sizeof st->device_name);
  if (size >= sizeof s) {
    format_endpoint(&s.local_end, st->local_address, sizeof st->local_address);
    format_endpoint(&s.remote_end, st->remote_address, sizeof st->remote_address);
  }
  return 0;
}

/* ---------------------------------------------------------------------- */
/* the watcher thread                                                     */

static void free_call(ras_call *c) {
  if (c->teardown) CloseHandle(c->teardown);
  os_wipe(c, sizeof *c);
  free(c);
}

/* Frees the calls the Lua side is done with. (lock held) */
static void sweep(ras_instance *inst) {
  for (ras_call **pp = &inst->calls; *pp;) {
    ras_call *c = *pp;
    if (c->released) {
      *pp = c->next;
      free_call(c);
    } else {
      pp = &c->next;
    }
  }
}

/* Is c one the watcher checks? Connected and up, or hung up and not yet
 * known gone (its handle value must not be taken for it after teardown). */
static int watched(const ras_call *c) {
  if (c->released || c->ended) return 0;
  return c->hangup_returned || (c->connected && !c->drop_seen && !c->hung_up);
}

/* Registers the calls that reached Connected (or were attached) for
 * RASCN_Disconnection on the instance's one event, outside the lock. */
static void start_watching(ras_instance *inst) {
  for (;;) {
    ras_call *c = NULL;
    HRASCONN h;
    lock_all();
    for (ras_call *p = inst->calls; p && !c; p = p->next)
      if (p->connected && !p->watching && watched(p)) c = p;
    if (c) c->watching = 1;
    unlock_all();
    if (!c) return;
    /* If that fails the handle is gone; the check that follows finds out. */
    if ((h = probe_begin(c)))
      probe_end(h, RasConnectionNotificationW(h, inst->dropped, RASCN_Disconnection));
  }
}

/* A call this round has not checked yet. (lock held) */
static ras_call *next_watched(ras_instance *inst, unsigned round) {
  for (ras_call *c = inst->calls; c; c = c->next)
    if (watched(c) && c->checked != round) return c;
  return NULL;
}

/* c's line may have dropped: if the status says so, report it once. */
static void check_call(ras_call *c) {
  status_win7 st;
  DWORD rc = call_status(c, &st);
  int error = -1;
  if (rc == 0 && st.v1.rasconnstate == RASCS_Disconnected) error = (int)st.v1.dwError;
  if (error < 0) return;
  lock_all();
  if (!c->hung_up && !c->drop_seen && !c->ended && c->feed) {
    ras_event ev = { .state = RAS_Disconnected, .error = error, .time = os_now() };
    ras_feed_push(c->feed, &ev);
  }
  c->drop_seen = 1;
  unlock_all();
}

static void verify_listed(ras_instance *inst);

/* Checks every watched call once; returns whether any is left to watch. */
static int check_all(ras_instance *inst) {
  unsigned round = ++inst->round ? inst->round : ++inst->round;  /* never 0 */
  int any;
  verify_listed(inst);
  for (;;) {
    ras_call *c;
    lock_all();
    c = next_watched(inst, round);
    if (c) c->checked = round;
    unlock_all();
    if (!c) break;
    check_call(c);
  }
  lock_all();
  sweep(inst);
  any = 0;
  for (ras_call *c = inst->calls; c && !any; c = c->next) any = watched(c);
  unlock_all();
  return any;
}

static void watcher_main(void *arg) {
  ras_instance *inst = arg;
  HANDLE waits[3] = { inst->stop, inst->changed, inst->dropped };
  int any = 0;
  for (;;) {
    DWORD r = WaitForMultipleObjects(3, waits, FALSE, any ? CHECK_INTERVAL_MS : INFINITE);
    if (r == WAIT_OBJECT_0) return;
    if (r == WAIT_FAILED) {
      /* Keep watching by the clock alone, and say why. */
      char text[96];
      snprintf(text, sizeof text, "ras: the win32 watcher's wait failed (error %lu): "
               "polling every %d ms\n", (unsigned long)GetLastError(), CHECK_INTERVAL_MS);
      OutputDebugStringA(text);
      Sleep(CHECK_INTERVAL_MS);
      if (WaitForSingleObject(inst->stop, 0) == WAIT_OBJECT_0) return;
    }
    /* Any news, or the interval: check them all (Windows 11 may tell of
     * the first connection only). */
    start_watching(inst);
    any = check_all(inst);
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
  c->teardown = CreateEventW(NULL, FALSE, FALSE, NULL);
  if (!c->teardown) {
    free_call(c);
    ras_fail(err, RAS_ERROR_NOT_ENOUGH_MEMORY, "cannot create an event");
    return NULL;
  }
  return c;
}

/* Gives c its cookie and puts it in the list; 0, or an error. */
static int add_call(ras_instance *inst, ras_call *c, ras_feed *feed, ras_error *err) {
  lock_all();
  c->cookie = cookie_for(c);
  if (c->cookie) {
    ras_feed_ref(feed);
    c->feed = feed;
    c->params.dwCallbackId = c->cookie;
    c->next = inst->calls;
    inst->calls = c;
    SetEvent(inst->changed);
  }
  unlock_all();
  if (!c->cookie) return ras_fail(err, RAS_ERROR_NOT_ENOUGH_MEMORY, "too many connections");
  return 0;
}

/* Takes c out of the list before the watcher ever saw it. */
static void remove_call(ras_instance *inst, ras_call *c) {
  ras_feed *feed;
  lock_all();
  for (ras_call **pp = &inst->calls; *pp; pp = &(*pp)->next)
    if (*pp == c) {
      *pp = c->next;
      break;
    }
  drop_cookie(c);
  feed = c->feed;
  c->feed = NULL;
  unlock_all();
  if (feed) ras_feed_unref(feed);
  free_call(c);
}

static void set_extensions(const ras_call *c, RASDIALEXTENSIONS *ext) {
  memset(ext, 0, sizeof *ext);
  ext->dwfOptions = c->dial_options;
}

/* RasDialW with the newest layouts the system takes (a new dial, or a
 * resume when *h is set). */
static DWORD dial_api(const ras_call *c, RASDIALPARAMSW *params, HRASCONN *h) {
  RASDIALEXTENSIONS ext;
  for (;;) {
    DWORD psize = layout_size(L_DIALPARAMS), esize = layout_size(L_EXTENSIONS), rc;
    set_extensions(c, &ext);
    ext.dwSize = esize;
    params->dwSize = psize;
    rc = RasDialW(&ext, c->has_phonebook ? c->phonebook : NULL, params, 2,
                  (LPVOID)on_dial_event, h);
    if (rc != ERROR_INVALID_SIZE) return rc;
    /* Either structure may be the one refused: the parameters first (they
     * grew last, in Windows 7). */
    if (!older_layout(L_DIALPARAMS, psize) && !older_layout(L_EXTENSIONS, esize)) return rc;
  }
}

/* RasHangUpW through the gate: no dial is being given the value meanwhile. */
static DWORD hang_up_handle(HRASCONN h) {
  DWORD rc;
  AcquireSRWLockExclusive(&gate);
  rc = RasHangUpW(h);
  ReleaseSRWLockExclusive(&gate);
  return rc;
}

/* RasDialW failed and left a handle: RAS wants it hung up. The call is
 * gone from the Lua side; its late notifications find no cookie. */
static void abandon(ras_call *c, HRASCONN h) {
  lock_all();
  c->ended = 1;                   /* nothing is pushed: the dial "never began" */
  unlock_all();
  hang_up_handle(h);
}

static int win32_dial(ras_instance *inst, ras_feed *feed, const ras_dial_params *p,
                      ras_call **out, uint64_t *id, ras_error *err) {
  RASDIALPARAMSW params;
  HRASCONN h = NULL;
  DWORD rc;
  ras_call *c = new_call(inst, err);
  if (!c) return err->code;
  c->dialled = 1;
  if (fill_dial_params(c, p, err) != 0 || add_call(inst, c, feed, err) != 0) {
    wipe_password(c);
    free_call(c);
    return err->code;
  }
  if (p->paused_states) c->dial_options |= RDEOPT_PausedStates;
  params = c->params;             /* the API's copy; c's may be wiped meanwhile */
  /* The notifier may run before RasDialW returns: c is listed already. */
  AcquireSRWLockExclusive(&gate);
  rc = dial_api(c, &params, &h);
  lock_all();
  if (h) handle_given_out(h, c);
  if (rc == 0) {
    c->handle = h;
    c->id = ++inst->next_id;
  }
  unlock_all();
  ReleaseSRWLockExclusive(&gate);
  os_wipe(params.szPassword, sizeof params.szPassword);
  if (rc != 0) {
    if (h) abandon(c, h);
    remove_call(inst, c);
    return api_failure(err, "RasDialW", rc);
  }
  *id = c->id;
  *out = c;
  return 0;
}

static int win32_resume(ras_call *c, const ras_resume_params *p, ras_error *err) {
  RASDIALPARAMSW params;
  HRASCONN h = probe_begin(c), held = h;
  DWORD rc;
  int state;
  lock_all();
  state = c->state;
  params = c->params;
  if (c->paused && !c->hung_up && h) c->paused = 0;
  else h = NULL;
  unlock_all();
  if (!h) {
    if (held) probe_end(held, 0);
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
    lock_all();
    c->params = params;           /* a later pause resumes from these */
    unlock_all();
    /* The same extensions and notifier as the dial, from this thread. */
    rc = dial_api(c, &params, &h);
    if (rc != 0) api_failure(err, "RasDialW (resume)", rc);
  }
  probe_end(held, rc == ERROR_INVALID_HANDLE ? rc : 0);
  os_wipe(&params, sizeof params);
  if (rc != 0) {
    lock_all();
    if (c->state == state && !c->hung_up && !c->ended) c->paused = 1;  /* still waiting */
    unlock_all();
  }
  return (int)rc;
}

static int win32_hangup(ras_call *c, ras_error *err) {
  HRASCONN h = probe_begin(c);
  DWORD rc;
  int again;
  if (!h) return 0;               /* ended: the value may be another's now */
  lock_all();
  again = c->hung_up;
  c->hung_up = 1;
  c->paused = 0;
  unlock_all();
  if (again) {
    probe_end(h, 0);
    return 0;
  }
  /* Before the hang-up, so that wait() hears of the teardown. */
  rc = RasConnectionNotificationW(h, c->teardown, RASCN_Disconnection);
  if (rc != ERROR_INVALID_HANDLE) rc = RasHangUpW(h);  /* no lock: the notifier takes it */
  probe_end(h, rc == ERROR_NO_CONNECTION ? ERROR_INVALID_HANDLE : rc);
  lock_all();
  c->hangup_returned = 1;
  wipe_password(c);
  /* 668: already gone (DotRas takes it so); 6: gone before we asked. */
  if (rc == ERROR_NO_CONNECTION || rc == ERROR_INVALID_HANDLE) end_call(c);
  SetEvent(c->inst->changed);     /* the watcher sees it to its end */
  unlock_all();
  if (rc != 0 && rc != ERROR_INVALID_HANDLE && rc != ERROR_NO_CONNECTION)
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
  lock_all();
  feed = c->feed;
  c->feed = NULL;
  c->released = 1;
  drop_cookie(c);                 /* late notifications find nobody */
  wipe_password(c);
  SetEvent(inst->changed);        /* the watcher frees it */
  unlock_all();
  if (feed) ras_feed_unref(feed);
}

/* ---------------------------------------------------------------------- */
/* enumerations                                                           */

/*
 * The size protocol: the first element's dwSize says the layout; on
 * ERROR_BUFFER_TOO_SMALL *cb says the size needed, which may have grown
 * again by the retry; on ERROR_INVALID_SIZE the next older layout. Returns
 * the malloc'd array with *count items of *elem bytes, or NULL with *err.
 */
typedef DWORD (*enum_fn)(void *ctx, void *buf, DWORD *cb, DWORD *count);

static void *enumerate_as(enum_fn fn, void *ctx, DWORD elem, DWORD *count, DWORD *rc) {
  DWORD cb = elem;
  void *buf = NULL;
  *rc = ERROR_BUFFER_TOO_SMALL;
  for (int attempt = 0; attempt < ENUM_ATTEMPTS && *rc == ERROR_BUFFER_TOO_SMALL; attempt++) {
    DWORD items = (cb + elem - 1) / elem;
    void *grown;
    if (items == 0) items = 1;
    grown = realloc(buf, (size_t)items * elem);
    if (!grown) {
      free(buf);
      *rc = ERROR_NOT_ENOUGH_MEMORY;
      return NULL;
    }
    buf = grown;
    memset(buf, 0, (size_t)items * elem);
    *(DWORD *)buf = elem;         /* dwSize of the first element */
    cb = items * elem;
    *count = 0;
    *rc = fn(ctx, buf, &cb, count);
  }
  if (*rc != 0) {
    free(buf);
    return NULL;
  }
  return buf;
}

static void *enumerate(int which, enum_fn fn, void *ctx, DWORD *elem, DWORD *count,
                       ras_error *err) {
  for (;;) {
    DWORD rc;
    void *buf;
    *elem = layout_size(which);
    buf = enumerate_as(fn, ctx, *elem, count, &rc);
    if (buf) return buf;
    if (rc == ERROR_INVALID_SIZE && older_layout(which, *elem)) continue;
    if (rc == ERROR_NOT_ENOUGH_MEMORY) ras_fail(err, RAS_ERROR_NOT_ENOUGH_MEMORY, "out of memory");
    else api_failure(err, "the enumeration", rc);
    return NULL;
  }
}

static DWORD enum_connections(void *ctx, void *buf, DWORD *cb, DWORD *count) {
  (void)ctx;
  return RasEnumConnectionsW(buf, cb, count);
}

/* One listed connection, in whichever layout the system took. */
typedef struct listed {
  HRASCONN handle;
  GUID correlation;
  int has_correlation;
  const RASCONNW *raw;
  DWORD size;
} listed;

static listed listed_at(const BYTE *raw, DWORD elem, DWORD i) {
  const RASCONNW *rc = (const RASCONNW *)(raw + (size_t)i * elem);
  listed l = { .handle = rc->hrasconn, .raw = rc, .size = elem };
  if (elem >= sizeof(conn_vista)) {
    l.correlation = ((const conn_vista *)rc)->correlation;
    l.has_correlation = 1;
  }
  return l;
}

static int same_correlation(int has_a, const GUID *a, int has_b, const GUID *b) {
  return !has_a || !has_b || memcmp(a, b, sizeof *a) == 0;
}

/* Our call for a listed connection: the one that holds its handle value
 * under the same correlation. One that holds the value under another has
 * lost it. (lock held) */
static ras_call *call_listed(ras_instance *inst, const listed *l) {
  for (ras_call *c = inst->calls; c; c = c->next) {
    if (c->released || c->ended || c->handle != l->handle) continue;
    if (!same_correlation(c->has_correlation, &c->correlation, l->has_correlation,
                          &l->correlation)) {
      end_call(c);
      continue;
    }
    if (l->has_correlation && !c->has_correlation) {
      c->correlation = l->correlation;
      c->has_correlation = 1;
    }
    return c;
  }
  return NULL;
}

/* Is l a connection of ours being torn down (not to be listed)? (lock held) */
static int tearing_down(ras_instance *inst, const listed *l) {
  for (ras_call *c = inst->calls; c; c = c->next)
    if (c->hung_up && !c->ended && c->handle == l->handle &&
        same_correlation(c->has_correlation, &c->correlation, l->has_correlation,
                         &l->correlation))
      return 1;
  return 0;
}

/* The id of a listed connection no call of ours stands for. (lock held) */
static uint64_t seen_id(ras_instance *inst, const listed *l) {
  seen *s;
  for (size_t i = 0; i < inst->nseen; i++) {
    s = &inst->seen[i];
    if (s->handle != l->handle) continue;
    if (!same_correlation(s->has_correlation, &s->correlation, l->has_correlation,
                          &l->correlation))
      s->id = ++inst->next_id;    /* the same value, another connection */
    s->correlation = l->correlation;
    s->has_correlation = l->has_correlation;
    s->listed = 1;
    return s->id;
  }
  if (inst->nseen == inst->seen_cap) {
    size_t cap = inst->seen_cap ? inst->seen_cap * 2 : 8;
    seen *grown = realloc(inst->seen, cap * sizeof *grown);
    if (!grown) return 0;
    inst->seen = grown;
    inst->seen_cap = cap;
  }
  s = &inst->seen[inst->nseen++];
  *s = (seen){ .handle = l->handle, .id = ++inst->next_id, .correlation = l->correlation,
               .has_correlation = l->has_correlation, .listed = 1 };
  return s->id;
}

static void forget_seen(ras_instance *inst, uint64_t id) {
  for (size_t i = 0; i < inst->nseen; i++)
    if (inst->seen[i].id == id) inst->seen[i] = inst->seen[--inst->nseen];
}

/* Forgets what the latest enumeration no longer showed: those ended, and a
 * later connection under the same value is another. (lock held) */
static void forget_unlisted(ras_instance *inst) {
  size_t kept = 0;
  for (size_t i = 0; i < inst->nseen; i++) {
    if (!inst->seen[i].listed) continue;
    inst->seen[i].listed = 0;
    inst->seen[kept++] = inst->seen[i];
  }
  inst->nseen = kept;
}

/*
 * Another program may hang a connection up and dial again at once, and be
 * given the same value: the status then reads like ours. With Vista's
 * RASCONNW the watcher compares correlation GUIDs once a round, so such a
 * call ends without waiting for connections().
 */
static void verify_listed(ras_instance *inst) {
  DWORD count, elem;
  ras_error err;
  BYTE *raw;
  int any = 0;
  lock_all();
  for (ras_call *c = inst->calls; c && !any; c = c->next) any = watched(c) && !c->hung_up;
  unlock_all();
  if (!any || layout_size(L_CONN) < sizeof(conn_vista)) return;
  raw = enumerate(L_CONN, enum_connections, NULL, &elem, &count, &err);
  if (!raw) return;
  lock_all();
  for (DWORD i = 0; elem >= sizeof(conn_vista) && i < count; i++) {
    listed l = listed_at(raw, elem, i);
    call_listed(inst, &l);          /* learns GUIDs, ends calls that lost the value */
  }
  unlock_all();
  free(raw);
}

static const size_t conn_texts[] = RAS_CONN_TEXTS, entry_texts[] = RAS_ENTRY_TEXTS;

/* Texts from Windows, converted in a buffer sized for the worst case. */
static void list_text(ras_list *list, void *item, size_t field, const WCHAR *w, size_t units) {
  char text[RAS_TEXT_BYTES(MAX_PATH + 1)];
  to_utf8(w, units, text, sizeof text);
  ras_list_text(list, item, field, text);
}

static void fill_info(ras_list *list, ras_conn_info *info, const listed *l) {
  const RASCONNW *rc = l->raw;
  list_text(list, info, offsetof(ras_conn_info, entry), rc->szEntryName, RAS_MaxEntryName + 1);
  if (l->size >= ROUND4(offsetof(RASCONNW, guidEntry)))
    list_text(list, info, offsetof(ras_conn_info, phonebook), rc->szPhonebook, MAX_PATH);
}

static ras_conn_info *win32_connections(ras_instance *inst, size_t *n, ras_error *err) {
  DWORD count, elem;
  BYTE *raw = enumerate(L_CONN, enum_connections, NULL, &elem, &count, err);
  ras_list list = { .item_size = sizeof(ras_conn_info) };
  ras_conn_info *result;
  if (!raw) return NULL;
  lock_all();
  for (DWORD i = 0; i < count; i++) {
    listed l = listed_at(raw, elem, i);
    ras_call *c = call_listed(inst, &l);
    uint64_t id;
    ras_conn_info *info;
    if (!c && tearing_down(inst, &l)) continue;
    id = c ? c->id : seen_id(inst, &l);
    if (!id || !(info = ras_list_add(&list))) continue;   /* out of memory: skip it */
    info->id = id;
    fill_info(&list, info, &l);
  }
  forget_unlisted(inst);
  unlock_all();
  free(raw);
  result = ras_list_finish(&list, conn_texts, 2, n);
  if (!result) ras_fail(err, RAS_ERROR_NOT_ENOUGH_MEMORY, "out of memory");
  return result;
}

static ras_call *win32_attach(ras_instance *inst, ras_feed *feed, uint64_t id,
                              ras_error *err) {
  seen found = { .handle = NULL };
  status_win7 st;
  ras_call *c;
  lock_all();
  for (size_t i = 0; i < inst->nseen; i++)
    if (inst->seen[i].id == id) found = inst->seen[i];
  unlock_all();
  if (found.handle) {
    DWORD rc;
    AcquireSRWLockExclusive(&gate);
    rc = read_status(found.handle, &st);
    probe_end(found.handle, rc);
    if (rc != 0) found.handle = NULL;
  }
  if (!found.handle) {
    ras_fail(err, RAS_ERROR_INVALID_HANDLE, "the connection no longer exists");
    return NULL;
  }
  c = new_call(inst, err);
  if (!c) return NULL;
  c->id = id;
  c->handle = found.handle;
  c->correlation = found.correlation;
  c->has_correlation = found.has_correlation;
  c->state = (int)st.v1.rasconnstate;
  c->connected = 1;               /* a drop of a listed connection is news too */
  if (add_call(inst, c, feed, err) != 0) {
    free_call(c);
    return NULL;
  }
  return c;
}

static DWORD enum_entries(void *ctx, void *buf, DWORD *cb, DWORD *count) {
  return RasEnumEntriesW(NULL, ctx, buf, cb, count);
}

static ras_entry_info *win32_entries(ras_instance *inst, const char *phonebook,
                                     size_t *n, ras_error *err) {
  WCHAR path[MAX_PATH + 1];
  DWORD count, elem;
  BYTE *raw;
  ras_list names = { .item_size = sizeof(ras_entry_info) };
  ras_entry_info *list;
  (void)inst;
  if (phonebook) {
    int why = to_wide(phonebook, path, MAX_PATH + 1);
    if (why != WIDE_OK) {
      bad_text(err, "phonebook", why, MAX_PATH + 1);
      return NULL;
    }
  }
  raw = enumerate(L_ENTRYNAME, enum_entries, phonebook ? path : NULL, &elem, &count, err);
  if (!raw) return NULL;
  for (DWORD i = 0; i < count; i++) {
    const RASENTRYNAMEW *e = (const RASENTRYNAMEW *)(raw + (size_t)i * elem);
    ras_entry_info *info = ras_list_add(&names);
    if (!info) break;
    list_text(&names, info, offsetof(ras_entry_info, name), e->szEntryName, RAS_MaxEntryName + 1);
    /* The NT 4 layout has no path: the phonebook asked for, if any. */
    if (elem >= sizeof(RASENTRYNAMEW))
      list_text(&names, info, offsetof(ras_entry_info, phonebook), e->szPhonebookPath,
                MAX_PATH + 1);
    else
      ras_list_text(&names, info, offsetof(ras_entry_info, phonebook), phonebook);
  }
  free(raw);
  list = ras_list_finish(&names, entry_texts, 2, n);
  if (!list) ras_fail(err, RAS_ERROR_NOT_ENOUGH_MEMORY, "out of memory");
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
  lock_all();
  while (inst->calls) {
    ras_call *c = inst->calls;
    inst->calls = c->next;
    drop_cookie(c);               /* a late notification finds nobody */
    if (c->feed) ras_feed_unref(c->feed);
    c->feed = NULL;
    free_call(c);
  }
  unlock_all();
  if (inst->stop) CloseHandle(inst->stop);
  if (inst->changed) CloseHandle(inst->changed);
  if (inst->dropped) CloseHandle(inst->dropped);
  free(inst->seen);
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
  pin_module();
  inst->stop = CreateEventW(NULL, TRUE, FALSE, NULL);
  inst->changed = CreateEventW(NULL, FALSE, FALSE, NULL);
  inst->dropped = CreateEventW(NULL, FALSE, FALSE, NULL);
  if (inst->stop && inst->changed && inst->dropped)
    inst->watcher = os_thread_start(watcher_main, inst);
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
