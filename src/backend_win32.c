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
#include <winsock2.h>             /* inet_pton, inet_ntop: entries' DNS servers */
#include <ws2tcpip.h>
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
/* RASENTRYW as Windows 10 declares it; mingw stops at dwRedialPause (XP). */
typedef struct entry_full {
  RASENTRYW xp;
  BYTE dns6[16], dns6_alt[16];    /* Vista */
  DWORD metric4, metric6;
  BYTE ipv6_address[16];          /* Windows 7 */
  DWORD ipv6_prefix, outage;
  WCHAR idi[257], idr[257];       /* Windows 10 (RAS_MaxIDSize + 1) */
  BOOL ims;
  DWORD idi_type, idr_type;
  BOOL no_ikev2_fragmentation;
} entry_full;
#include <poppack.h>

#define ROUND4(n) (((n) + 3) & ~(size_t)3)

enum { L_DIALPARAMS, L_EXTENSIONS, L_CONN, L_STATUS, L_ENTRYNAME, L_ENTRY, L_PPPIP,
       L_DEVINFO, L_COUNT };

#define MAX_LAYOUTS 8

typedef struct layouts {
  const char *name;
  DWORD sizes[MAX_LAYOUTS];       /* newest first, 0-terminated */
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
  /* Windows 10 (IKEv2 identities), 7 (static IPv6), Vista (IPv6 DNS), XP
   * (mingw's: dwfOptions2, redial), 2000 (dwType, dwVpnStrategy), NT 4 with
   * multilink and idle time, NT 4 */
  [L_ENTRY] = { "RASENTRYW",
                { sizeof(entry_full), offsetof(entry_full, idi),
                  offsetof(entry_full, ipv6_address), sizeof(RASENTRYW),
                  ROUND4(offsetof(RASENTRYW, dwfOptions2)), ROUND4(offsetof(RASENTRYW, dwType)),
                  ROUND4(offsetof(RASENTRYW, dwSubEntries)) } },
  /* Windows 2000 (options), NT 4 */
  [L_PPPIP] = { "RASPPPIPW", { sizeof(RASPPPIPW), ROUND4(offsetof(RASPPPIPW, dwOptions)) } },
  [L_DEVINFO] = { "RASDEVINFOW", { sizeof(RASDEVINFOW) } },
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
  if (i + 1 >= MAX_LAYOUTS || layout_table[which].sizes[i + 1] == 0) return 0;
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

static void use_saved_credentials(ras_call *c, const ras_dial_params *d);

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
  if (p->entry && !p->password && p->saved_credentials) use_saved_credentials(c, p);
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

static void win32_unwatch(ras_watch *w);

/* ---------------------------------------------------------------------- */
/* phone-book entries (issue 11)                                          */

/* Does an entry of `size` bytes (one of the layouts) reach `field`'s end? */
#define ENTRY_HAS(size, field) \
  ((size) >= offsetof(entry_full, field) + sizeof(((entry_full *)0)->field))

/* A phonebook argument: NULL for the default one. */
#define PHONEBOOK(dst, src)                                                   \
  do {                                                                        \
    if (src) WIDE(dst, src, "phonebook");                                     \
  } while (0)
#define BOOK(src, dst) ((src) ? (dst) : NULL)

/* An entry as the system gave it: the layout it took, and the
 * device-specific data, which an update passes back unchanged. */
typedef struct entry_buf {
  entry_full e;
  DWORD size;
  BYTE *dev;
  DWORD ndev;
} entry_buf;

static void free_entry_buf(entry_buf *b) {
  free(b->dev);
  b->dev = NULL;
  b->ndev = 0;
}

/* One RasGetEntryPropertiesW in one layout; the device-specific data's
 * size comes back as ERROR_BUFFER_TOO_SMALL, and may grow meanwhile. */
static DWORD get_entry_as(const WCHAR *pb, const WCHAR *name, entry_buf *b, DWORD size) {
  DWORD rc = ERROR_BUFFER_TOO_SMALL;
  for (int attempt = 0; attempt < ENUM_ATTEMPTS && rc == ERROR_BUFFER_TOO_SMALL; attempt++) {
    DWORD cb = size, cbdev = b->ndev;
    memset(&b->e, 0, sizeof b->e);
    b->e.xp.dwSize = size;
    rc = RasGetEntryPropertiesW(pb, name, &b->e.xp, &cb, b->dev, &cbdev);
    if (rc == ERROR_BUFFER_TOO_SMALL) {
      BYTE *grown;
      if (cbdev <= b->ndev) return rc;           /* not the data: the structure */
      if (!(grown = realloc(b->dev, cbdev))) return ERROR_NOT_ENOUGH_MEMORY;
      b->dev = grown;
      b->ndev = cbdev;
    } else if (rc == 0) {
      b->ndev = cbdev;
    }
  }
  return rc;
}

/* The entry in the newest layout the system takes. */
static DWORD get_entry(const WCHAR *pb, const WCHAR *name, entry_buf *b) {
  for (;;) {
    DWORD size = layout_size(L_ENTRY), rc = get_entry_as(pb, name, b, size);
    b->size = size;
    if (rc != ERROR_INVALID_SIZE || !older_layout(L_ENTRY, size)) return rc;
  }
}

static DWORD set_entry(const WCHAR *pb, const WCHAR *name, entry_buf *b) {
  for (;;) {
    DWORD rc;
    b->e.xp.dwSize = b->size;
    rc = RasSetEntryPropertiesW(pb, name, &b->e.xp, b->size, b->dev, b->ndev);
    /* A new entry may meet a system that takes an older layout only. */
    if (rc != ERROR_INVALID_SIZE || !older_layout(L_ENTRY, b->size)) return rc;
    b->size = layout_size(L_ENTRY);
  }
}

static int entry_failure(ras_error *err, const char *what, DWORD rc) {
  if (rc == ERROR_NOT_ENOUGH_MEMORY) return ras_fail(err, RAS_ERROR_NOT_ENOUGH_MEMORY, "out of memory");
  return api_failure(err, what, rc);
}

/* A property the system's RASENTRYW has no field for. */
static int needs_newer(ras_error *err, const char *property, const char *windows) {
  return ras_fail(err, RAS_ERROR_NOT_SUPPORTED,
                  "property '%s' needs the RASENTRYW of Windows %s or later", property, windows);
}

static int bad_property(ras_error *err, const char *property, const char *why) {
  return ras_fail(err, RAS_BAD_ARGUMENT, "bad property '%s' (%s)", property, why);
}

/* --- the mapping, both ways (doc/api.md has it as a table) --- */

static const struct { int vpn; DWORD strategy; const WCHAR *device; } vpn_map[] = {
  /* VS_Default is "PPTP for now" in ras.h: its device is PPTP's. */
  { RAS_VPN_AUTO, 0, L"WAN Miniport (PPTP)" },
  { RAS_VPN_PPTP, 1, L"WAN Miniport (PPTP)" },     /* VS_PptpOnly */
  { RAS_VPN_L2TP, 3, L"WAN Miniport (L2TP)" },     /* VS_L2tpOnly */
  { RAS_VPN_SSTP, 5, L"WAN Miniport (SSTP)" },     /* VS_SstpOnly */
  { RAS_VPN_IKEV2, 7, L"WAN Miniport (IKEv2)" },   /* VS_Ikev2Only */
};

/* dwVpnStrategy to the schema: the "First" variants (2, 4, 6, 8) as the
 * protocol tried first; others (GRE, protocol lists) have no name: 0. */
static int vpn_of(DWORD strategy) {
  switch (strategy) {
  case 0: return RAS_VPN_AUTO;
  case 1: case 2: return RAS_VPN_PPTP;
  case 3: case 4: return RAS_VPN_L2TP;
  case 5: case 6: return RAS_VPN_SSTP;
  case 7: case 8: return RAS_VPN_IKEV2;
  default: return 0;
  }
}

static const struct { unsigned auth; DWORD option; } auth_map[] = {
  { RAS_AUTH_PAP, RASEO_RequirePAP }, { RAS_AUTH_CHAP, RASEO_RequireCHAP },
  { RAS_AUTH_MSCHAPV2, RASEO_RequireMsCHAP2 }, { RAS_AUTH_EAP, RASEO_RequireEAP },
};
#define AUTH_OPTIONS (RASEO_RequirePAP | RASEO_RequireSPAP | RASEO_RequireCHAP | \
                      RASEO_RequireMsCHAP | RASEO_RequireMsCHAP2 | RASEO_RequireW95MSCHAP | \
                      RASEO_RequireEAP | RASEO_RequireEncryptedPw | RASEO_RequireMsEncryptedPw)

/* dwEncryptionType: ET_None 0, ET_Require 1, ET_RequireMax 2, ET_Optional 3. */
static const DWORD encryption_types[] = {
  [RAS_ENCRYPTION_NONE] = 0, [RAS_ENCRYPTION_OPTIONAL] = 3,
  [RAS_ENCRYPTION_REQUIRED] = 1, [RAS_ENCRYPTION_MAXIMUM] = 2,
};

#ifndef RASNP_Ipv6
#define RASNP_Ipv6 0x8
#endif
#define RASEO2_IPV6_NAME_SERVERS 0x1000     /* RASEO2_IPv6SpecificNameServers */
#define RASEO2_IPV6_DEFAULT_GATEWAY 0x2000  /* RASEO2_IPv6RemoteDefaultGateway */

/* The first device of a type RasEnumDevicesW lists ("modem"), for an
 * entry created without one. 0, or a code. */
static int first_device(const WCHAR *type, WCHAR *dst, ras_error *err);

static void set_wide(WCHAR *dst, size_t count, const WCHAR *src) {
  wcsncpy(dst, src, count - 1);
  dst[count - 1] = L'\0';
}

/* The device and type fields of a new entry, or of a changed type. */
static int type_of(const entry_buf *b);

static int apply_type(entry_buf *b, const ras_entry *x, int creating, ras_error *err) {
  RASENTRYW *e = &b->e.xp;
  int type = x->type, before = creating ? 0 : type_of(b);
  static const WCHAR *const device_types[] = {
    [RAS_TYPE_MODEM] = L"modem", [RAS_TYPE_VPN] = L"vpn", [RAS_TYPE_BROADBAND] = L"PPPoE",
    [RAS_TYPE_DIRECT] = L"SERIAL",
  };
  static const DWORD entry_types[] = {   /* RASET_Phone, Vpn, Broadband, Direct */
    [RAS_TYPE_MODEM] = 1, [RAS_TYPE_VPN] = 2, [RAS_TYPE_BROADBAND] = 5, [RAS_TYPE_DIRECT] = 3,
  };
  if (!(x->given & RAS_ENTRY_TYPE)) return 0;
  /* The same type again keeps the device it has; another type gets its own. */
  if (type == before && (x->given & RAS_ENTRY_DEVICE) == 0 && e->szDeviceName[0]) return 0;
  set_wide(e->szDeviceType, RAS_MaxDeviceType + 1, device_types[type]);
  if (ENTRY_HAS(b->size, xp.dwType)) e->dwType = entry_types[type];
  if (x->given & RAS_ENTRY_DEVICE) return 0;   /* apply_fields sets it */
  if (type == RAS_TYPE_VPN) {
    int vpn = (x->given & RAS_ENTRY_VPN) ? x->vpn : RAS_VPN_AUTO;
    for (size_t i = 0; i < sizeof vpn_map / sizeof vpn_map[0]; i++)
      if (vpn_map[i].vpn == vpn) set_wide(e->szDeviceName, RAS_MaxDeviceName + 1, vpn_map[i].device);
    return 0;
  }
  if (type == RAS_TYPE_BROADBAND) {
    set_wide(e->szDeviceName, RAS_MaxDeviceName + 1, L"WAN Miniport (PPPoE)");
    return 0;
  }
  return first_device(type == RAS_TYPE_MODEM ? L"modem" : L"SERIAL", e->szDeviceName, err);
}

/* An address, IPv4 or IPv6, as bytes; returns 4, 16, or 0. */
static int parse_address(const char *text, BYTE out[16]) {
  if (inet_pton(AF_INET, text, out) == 1) return 4;
  if (inet_pton(AF_INET6, text, out) == 1) return 16;
  return 0;
}

static int apply_dns(entry_buf *b, const ras_entry *x, ras_error *err) {
  RASENTRYW *e = &b->e.xp;
  BYTE v4[2][4] = { { 0 } }, v6[2][16] = { { 0 } };
  size_t n4 = 0, n6 = 0;
  for (size_t i = 0; i < x->ndns; i++) {
    BYTE addr[16];
    int len = parse_address(x->dns[i], addr);
    if (len == 0) return bad_property(err, "dns", "not an IPv4 or IPv6 address");
    if ((len == 4 && n4 == 2) || (len == 16 && n6 == 2))
      return bad_property(err, "dns", "win32 entries take at most two IPv4 and two IPv6 servers");
    if (len == 4) memcpy(v4[n4++], addr, 4);
    else memcpy(v6[n6++], addr, 16);
  }
  if (n6 && !ENTRY_HAS(b->size, dns6_alt)) return needs_newer(err, "dns", "Vista (IPv6 servers)");
  memcpy(&e->ipaddrDns, v4[0], 4);
  memcpy(&e->ipaddrDnsAlt, v4[1], 4);
  e->dwfOptions = n4 || !n6 ? e->dwfOptions | RASEO_SpecificNameServers
                            : e->dwfOptions & ~(DWORD)RASEO_SpecificNameServers;
  if (x->ndns == 0) e->dwfOptions &= ~(DWORD)RASEO_SpecificNameServers;
  if (ENTRY_HAS(b->size, dns6_alt)) {
    memcpy(b->e.dns6, v6[0], 16);
    memcpy(b->e.dns6_alt, v6[1], 16);
    if (n6) e->dwfOptions2 |= RASEO2_IPV6_NAME_SERVERS;
    else e->dwfOptions2 &= ~(DWORD)RASEO2_IPV6_NAME_SERVERS;
  }
  return 0;
}

static void set_bit(DWORD *word, DWORD bit, int on) {
  *word = on ? *word | bit : *word & ~bit;
}

static int apply_options(entry_buf *b, const ras_entry *x, ras_error *err) {
  RASENTRYW *e = &b->e.xp;
  unsigned g = x->given;
  int vista = ENTRY_HAS(b->size, metric6);
  if (g & RAS_ENTRY_AUTH) {
    e->dwfOptions &= ~(DWORD)AUTH_OPTIONS;
    for (size_t i = 0; i < sizeof auth_map / sizeof auth_map[0]; i++)
      if (x->auth & auth_map[i].auth) e->dwfOptions |= auth_map[i].option;
    /* Without PAP the password never crosses in clear. */
    if (x->auth && !(x->auth & RAS_AUTH_PAP)) e->dwfOptions |= RASEO_RequireEncryptedPw;
  }
  if (g & RAS_ENTRY_ENCRYPTION) {
    if (!ENTRY_HAS(b->size, xp.dwEncryptionType)) return needs_newer(err, "encryption", "2000");
    e->dwEncryptionType = encryption_types[x->encryption];
    set_bit(&e->dwfOptions, RASEO_RequireDataEncryption,
            x->encryption == RAS_ENCRYPTION_REQUIRED || x->encryption == RAS_ENCRYPTION_MAXIMUM);
  }
  if (g & RAS_ENTRY_DEFAULT_GATEWAY) {
    set_bit(&e->dwfOptions, RASEO_RemoteDefaultGateway, x->default_gateway);
    if (vista) set_bit(&e->dwfOptions2, RASEO2_IPV6_DEFAULT_GATEWAY, x->default_gateway);
  }
  if ((g & RAS_ENTRY_DNS) && apply_dns(b, x, err) != 0) return err->code;
  if ((g & RAS_ENTRY_USE_PEER_DNS) && x->use_peer_dns) {
    e->dwfOptions &= ~(DWORD)RASEO_SpecificNameServers;
    memset(&e->ipaddrDns, 0, 4);
    memset(&e->ipaddrDnsAlt, 0, 4);
    if (vista) e->dwfOptions2 &= ~(DWORD)RASEO2_IPV6_NAME_SERVERS;
  } else if ((g & RAS_ENTRY_USE_PEER_DNS) && !(g & RAS_ENTRY_DNS)) {
    e->dwfOptions |= RASEO_SpecificNameServers;   /* the servers it has, maybe none */
  }
  if (g & RAS_ENTRY_IPV4) set_bit(&e->dwfNetProtocols, RASNP_Ip, x->ipv4);
  if (g & RAS_ENTRY_IPV6) {
    if (!vista && x->ipv6) return needs_newer(err, "ipv6", "Vista");
    set_bit(&e->dwfNetProtocols, RASNP_Ipv6, x->ipv6);
  }
  return 0;
}

static int apply_timers(entry_buf *b, const ras_entry *x, ras_error *err) {
  RASENTRYW *e = &b->e.xp;
  if (x->given & RAS_ENTRY_IDLE_DISCONNECT) {
    double s = x->idle_disconnect;
    if (!ENTRY_HAS(b->size, xp.dwIdleDisconnectSeconds))
      return needs_newer(err, "idle_disconnect", "NT 4 (multilink)");
    if (s > 4294967294.0) return bad_property(err, "idle_disconnect", "at most 4294967294 seconds");
    /* 0 (and "forever", < 0) is "never" here, RASIDS_Disabled there (Windows'
     * 0 is "the global value"). */
    e->dwIdleDisconnectSeconds = s <= 0 ? 0xFFFFFFFF : (DWORD)(s + 0.5 < 1 ? 1 : s + 0.5);
  }
  if (x->given & RAS_ENTRY_REDIAL) {
    if (!ENTRY_HAS(b->size, xp.dwRedialPause)) return needs_newer(err, "redial", "XP");
    if (x->redial.interval < 0 || x->redial.interval > 4294967295.0)   /* < 0: "forever" */
      return bad_property(err, "redial", "interval: at most 4294967295 seconds");
    e->dwRedialCount = (DWORD)x->redial.attempts;
    e->dwRedialPause = (DWORD)(x->redial.interval + 0.5);
  }
  return 0;
}

/* Changes b by x's given fields; nothing is written yet. */
static int apply_entry(entry_buf *b, const ras_entry *x, int creating, ras_error *err) {
  RASENTRYW *e = &b->e.xp;
  unsigned g = x->given;
  if (g & RAS_ENTRY_PPPD_OPTIONS)
    return bad_property(err, "pppd_options", "win32 entries have no pppd options");
  if (g & RAS_ENTRY_VPN) {
    int type = (g & RAS_ENTRY_TYPE) ? x->type : (e->dwType == 2 || !wcscmp(e->szDeviceType, L"vpn"))
                                                   ? RAS_TYPE_VPN : 0;
    if (type != RAS_TYPE_VPN) return bad_property(err, "vpn", "needs type \"vpn\"");
    if (!ENTRY_HAS(b->size, xp.dwVpnStrategy)) return needs_newer(err, "vpn", "2000");
    for (size_t i = 0; i < sizeof vpn_map / sizeof vpn_map[0]; i++)
      if (vpn_map[i].vpn == x->vpn) {
        e->dwVpnStrategy = vpn_map[i].strategy;
        if (!(g & (RAS_ENTRY_DEVICE | RAS_ENTRY_TYPE)))
          set_wide(e->szDeviceName, RAS_MaxDeviceName + 1, vpn_map[i].device);
      }
  }
  if (apply_type(b, x, creating, err) != 0) return err->code;
  if (g & RAS_ENTRY_DEVICE) WIDE(e->szDeviceName, x->device, "device");
  if (g & RAS_ENTRY_NUMBER) WIDE(e->szLocalPhoneNumber, x->number, "number");
  if (apply_options(b, x, err) != 0 || apply_timers(b, x, err) != 0) return err->code;
  return 0;
}

/* What a new entry starts from: PPP over IP (and IPv6 where the layout
 * has it), the remote gateway, VPNs' data encryption required. */
static void new_entry(entry_buf *b, const ras_entry *x) {
  RASENTRYW *e = &b->e.xp;
  memset(b, 0, sizeof *b);
  b->size = layout_size(L_ENTRY);
  e->dwSize = b->size;
  e->dwFramingProtocol = RASFP_Ppp;
  e->dwfNetProtocols = RASNP_Ip | (ENTRY_HAS(b->size, metric6) ? RASNP_Ipv6 : 0);
  e->dwfOptions = RASEO_RemoteDefaultGateway;
  if (x->type == RAS_TYPE_VPN && ENTRY_HAS(b->size, xp.dwEncryptionType)) {
    e->dwEncryptionType = 1;      /* ET_Require: Add-VpnConnection's default */
    e->dwfOptions |= RASEO_RequireDataEncryption;
  }
  if (ENTRY_HAS(b->size, xp.dwIdleDisconnectSeconds)) e->dwIdleDisconnectSeconds = 0xFFFFFFFF;
}

/* --- reading --- */

static const char *arena_utf8(ras_arena *arena, const WCHAR *w, int count) {
  char text[RAS_TEXT_BYTES(MAX_PATH + 1)];
  to_utf8(w, count, text, sizeof text);
  return ras_arena_text(arena, text);
}

static int type_of(const entry_buf *b) {
  const RASENTRYW *e = &b->e.xp;
  if (ENTRY_HAS(b->size, xp.dwType)) {
    switch (e->dwType) {
    case 1: return RAS_TYPE_MODEM;
    case 2: return RAS_TYPE_VPN;
    case 3: return RAS_TYPE_DIRECT;
    case 5: return RAS_TYPE_BROADBAND;
    default: break;               /* RASET_Internet and newer: by the device */
    }
  }
  if (!_wcsicmp(e->szDeviceType, L"vpn")) return RAS_TYPE_VPN;
  if (!_wcsicmp(e->szDeviceType, L"PPPoE")) return RAS_TYPE_BROADBAND;
  if (!_wcsicmp(e->szDeviceType, L"modem") || !_wcsicmp(e->szDeviceType, L"isdn"))
    return RAS_TYPE_MODEM;
  return 0;
}

static int zero_bytes(const BYTE *p, size_t n) {
  for (size_t i = 0; i < n; i++) if (p[i]) return 0;
  return 1;
}

static void read_dns(const entry_buf *b, ras_entry *out, ras_arena *arena) {
  const RASENTRYW *e = &b->e.xp;
  int vista = ENTRY_HAS(b->size, dns6_alt);
  const BYTE *v4[2] = { (const BYTE *)&e->ipaddrDns, (const BYTE *)&e->ipaddrDnsAlt };
  const BYTE *v6[2] = { b->e.dns6, b->e.dns6_alt };
  const char **list = ras_arena_alloc(arena, 4 * sizeof *list);
  int specific4 = (e->dwfOptions & RASEO_SpecificNameServers) != 0;
  int specific6 = vista && (e->dwfOptions2 & RASEO2_IPV6_NAME_SERVERS);
  char text[64];
  out->use_peer_dns = !specific4 && !specific6;
  out->given |= RAS_ENTRY_USE_PEER_DNS;
  if (!list) return;
  for (int i = 0; specific4 && i < 2; i++)
    if (!zero_bytes(v4[i], 4) && inet_ntop(AF_INET, v4[i], text, sizeof text))
      list[out->ndns++] = ras_arena_text(arena, text);
  for (int i = 0; specific6 && i < 2; i++)
    if (!zero_bytes(v6[i], 16) && inet_ntop(AF_INET6, v6[i], text, sizeof text))
      list[out->ndns++] = ras_arena_text(arena, text);
  out->dns = list;
  if (out->ndns) out->given |= RAS_ENTRY_DNS;
}

static void read_entry(const entry_buf *b, ras_entry *out, ras_arena *arena) {
  const RASENTRYW *e = &b->e.xp;
  int type = type_of(b);
  if (type) {
    out->type = type;
    out->given |= RAS_ENTRY_TYPE;
  }
  out->device = arena_utf8(arena, e->szDeviceName, RAS_MaxDeviceName + 1);
  out->number = arena_utf8(arena, e->szLocalPhoneNumber, RAS_MaxPhoneNumber + 1);
  out->given |= RAS_ENTRY_DEVICE | RAS_ENTRY_NUMBER;
  if (type == RAS_TYPE_VPN && ENTRY_HAS(b->size, xp.dwVpnStrategy) &&
      (out->vpn = vpn_of(e->dwVpnStrategy)))
    out->given |= RAS_ENTRY_VPN;
  for (size_t i = 0; i < sizeof auth_map / sizeof auth_map[0]; i++)
    if (e->dwfOptions & auth_map[i].option) out->auth |= auth_map[i].auth;
  if (out->auth) out->given |= RAS_ENTRY_AUTH;   /* none required: Windows negotiates */
  if (ENTRY_HAS(b->size, xp.dwEncryptionType)) {
    static const int by_type[] = { RAS_ENCRYPTION_NONE, RAS_ENCRYPTION_REQUIRED,
                                   RAS_ENCRYPTION_MAXIMUM, RAS_ENCRYPTION_OPTIONAL };
    if (e->dwEncryptionType < 4) {
      out->encryption = by_type[e->dwEncryptionType];
      out->given |= RAS_ENTRY_ENCRYPTION;
    }
  }
  out->default_gateway = (e->dwfOptions & RASEO_RemoteDefaultGateway) != 0;
  out->ipv4 = (e->dwfNetProtocols & RASNP_Ip) != 0;
  out->given |= RAS_ENTRY_DEFAULT_GATEWAY | RAS_ENTRY_IPV4;
  if (ENTRY_HAS(b->size, metric6)) {
    out->ipv6 = (e->dwfNetProtocols & RASNP_Ipv6) != 0;
    out->given |= RAS_ENTRY_IPV6;
  }
  read_dns(b, out, arena);
  if (ENTRY_HAS(b->size, xp.dwIdleDisconnectSeconds) && e->dwIdleDisconnectSeconds != 0) {
    out->idle_disconnect = e->dwIdleDisconnectSeconds == 0xFFFFFFFF ? 0 : e->dwIdleDisconnectSeconds;
    out->given |= RAS_ENTRY_IDLE_DISCONNECT;
  }
  if (ENTRY_HAS(b->size, xp.dwRedialPause)) {
    out->redial.attempts = e->dwRedialCount;
    out->redial.interval = e->dwRedialPause;
    out->given |= RAS_ENTRY_REDIAL;
  }
}

/* --- credentials --- */

static DWORD get_credentials(const WCHAR *pb, const WCHAR *name, DWORD mask,
                             RASCREDENTIALSW *cred) {
  memset(cred, 0, sizeof *cred);
  cred->dwSize = sizeof *cred;
  cred->dwMask = mask;
  return RasGetCredentialsW(pb, name, cred);
}

/* The entry's default user name, read into the arena ("" is none). */
static void read_username(const WCHAR *pb, const WCHAR *name, ras_entry *out, ras_arena *arena) {
  RASCREDENTIALSW cred;
  if (get_credentials(pb, name, RASCM_UserName, &cred) == 0 && (cred.dwMask & RASCM_UserName) &&
      cred.szUserName[0]) {
    out->username = arena_utf8(arena, cred.szUserName, UNLEN + 1);
    out->given |= RAS_ENTRY_USERNAME;
  }
  os_wipe(&cred, sizeof cred);
}

/* RasSetCredentialsW with the fields mask names. */
static DWORD put_credentials(const WCHAR *pb, const WCHAR *name, RASCREDENTIALSW *cred,
                             DWORD mask, BOOL clear) {
  cred->dwSize = sizeof *cred;
  cred->dwMask = mask;
  return RasSetCredentialsW(pb, name, cred, clear);
}

static int save_username(const WCHAR *pb, const WCHAR *name, const char *username,
                         ras_error *err) {
  RASCREDENTIALSW cred;
  DWORD rc;
  memset(&cred, 0, sizeof cred);
  WIDE(cred.szUserName, username, "username");
  rc = put_credentials(pb, name, &cred, RASCM_UserName, FALSE);
  return rc ? api_failure(err, "RasSetCredentialsW", rc) : 0;
}

/* The default phonebook's path, as RasEnumEntriesW lists it with the
 * entry (RasGetEntryPropertiesW does not tell it). */
static void entry_phonebook(ras_instance *inst, const char *name, ras_entry *out,
                            ras_arena *arena) {
  ras_error err;
  size_t n;
  ras_entry_info *list = win32_entries(inst, NULL, &n, &err);
  WCHAR want[RAS_MaxEntryName + 1], have[RAS_MaxEntryName + 1];
  if (!list) return;
  to_wide(name, want, RAS_MaxEntryName + 1);
  for (size_t i = 0; i < n; i++) {
    if (to_wide(list[i].name, have, RAS_MaxEntryName + 1) != WIDE_OK || _wcsicmp(have, want))
      continue;
    if (list[i].phonebook && list[i].phonebook[0]) {
      out->phonebook = ras_arena_text(arena, list[i].phonebook);
      out->given |= RAS_ENTRY_PHONEBOOK;
    }
    break;
  }
  free(list);
}

static int win32_entry(ras_instance *inst, const char *name, const char *phonebook,
                       ras_entry *out, ras_arena *arena, ras_error *err) {
  WCHAR wname[RAS_MaxEntryName + 1], pb[MAX_PATH + 1];
  entry_buf b = { .dev = NULL };
  DWORD rc;
  WIDE(wname, name, "name");
  PHONEBOOK(pb, phonebook);
  rc = get_entry(BOOK(phonebook, pb), wname, &b);
  free_entry_buf(&b);             /* only an update needs the device data */
  if (rc != 0) return entry_failure(err, "RasGetEntryPropertiesW", rc);
  read_entry(&b, out, arena);
  read_username(BOOK(phonebook, pb), wname, out, arena);
  if (!phonebook) entry_phonebook(inst, name, out, arena);
  return 0;
}

static int win32_create_entry(ras_instance *inst, const ras_entry *x, ras_error *err) {
  WCHAR wname[RAS_MaxEntryName + 1], pb[MAX_PATH + 1];
  const WCHAR *book;
  entry_buf b;
  DWORD rc;
  (void)inst;
  WIDE(wname, x->name, "name");
  PHONEBOOK(pb, x->phonebook);
  book = BOOK(x->phonebook, pb);
  new_entry(&b, x);
  /* Every property is checked before anything is written. */
  if (apply_entry(&b, x, 1, err) != 0) return err->code;
  rc = RasValidateEntryNameW(book, wname);
  if (rc != 0) return api_failure(err, "RasValidateEntryNameW", rc);
  rc = set_entry(book, wname, &b);
  if (rc != 0) return entry_failure(err, "RasSetEntryPropertiesW", rc);
  if (x->given & RAS_ENTRY_USERNAME) return save_username(book, wname, x->username, err);
  return 0;
}

static int win32_update_entry(ras_instance *inst, const char *name, const char *phonebook,
                              const ras_entry *x, ras_error *err) {
  WCHAR wname[RAS_MaxEntryName + 1], pb[MAX_PATH + 1];
  const WCHAR *book;
  entry_buf b = { .dev = NULL };
  DWORD rc;
  (void)inst;
  WIDE(wname, name, "name");
  PHONEBOOK(pb, phonebook);
  book = BOOK(phonebook, pb);
  rc = get_entry(book, wname, &b);
  if (rc != 0) {
    free_entry_buf(&b);
    return entry_failure(err, "RasGetEntryPropertiesW", rc);
  }
  /* Written back in the layout it was read in, device data unchanged. */
  if (apply_entry(&b, x, 0, err) != 0) {
    free_entry_buf(&b);
    return err->code;
  }
  rc = set_entry(book, wname, &b);
  free_entry_buf(&b);
  if (rc != 0) return entry_failure(err, "RasSetEntryPropertiesW", rc);
  if (x->given & RAS_ENTRY_USERNAME) return save_username(book, wname, x->username, err);
  return 0;
}

static int win32_rename_entry(ras_instance *inst, const char *old_name, const char *new_name,
                              const char *phonebook, ras_error *err) {
  WCHAR from[RAS_MaxEntryName + 1], to[RAS_MaxEntryName + 1], pb[MAX_PATH + 1];
  DWORD rc;
  (void)inst;
  WIDE(from, old_name, "name");
  WIDE(to, new_name, "new name");
  PHONEBOOK(pb, phonebook);
  rc = RasRenameEntryW(BOOK(phonebook, pb), from, to);
  return rc ? api_failure(err, "RasRenameEntryW", rc) : 0;
}

static int win32_delete_entry(ras_instance *inst, const char *name, const char *phonebook,
                              ras_error *err) {
  WCHAR wname[RAS_MaxEntryName + 1], pb[MAX_PATH + 1];
  DWORD rc;
  (void)inst;
  WIDE(wname, name, "name");
  PHONEBOOK(pb, phonebook);
  rc = RasDeleteEntryW(BOOK(phonebook, pb), wname);
  return rc ? api_failure(err, "RasDeleteEntryW", rc) : 0;
}

static int win32_validate_entry_name(ras_instance *inst, const char *name,
                                     const char *phonebook, ras_error *err) {
  WCHAR wname[RAS_MaxEntryName + 1], pb[MAX_PATH + 1];
  DWORD rc;
  (void)inst;
  /* A name Windows cannot even hold is not a valid one: an answer, not a raise. */
  if (to_wide(name, wname, RAS_MaxEntryName + 1) != WIDE_OK)
    return api_failure(err, "RasValidateEntryNameW", RAS_ERROR_INVALID_NAME);
  PHONEBOOK(pb, phonebook);
  rc = RasValidateEntryNameW(BOOK(phonebook, pb), wname);
  return rc ? api_failure(err, "RasValidateEntryNameW", rc) : 0;
}

static int win32_credentials(ras_instance *inst, const char *entry, const char *phonebook,
                             ras_credentials_info *out, ras_error *err) {
  WCHAR wname[RAS_MaxEntryName + 1], pb[MAX_PATH + 1];
  RASCREDENTIALSW cred;
  DWORD rc;
  (void)inst;
  WIDE(wname, entry, "entry");
  PHONEBOOK(pb, phonebook);
  /* szPassword comes back as a handle to the saved one: wiped unread. */
  rc = get_credentials(BOOK(phonebook, pb), wname, RASCM_UserName | RASCM_Password | RASCM_Domain,
                       &cred);
  if (rc == 0) {
    if (cred.dwMask & RASCM_UserName) to_utf8(cred.szUserName, UNLEN + 1, out->username, sizeof out->username);
    if (cred.dwMask & RASCM_Domain) to_utf8(cred.szDomain, DNLEN + 1, out->domain, sizeof out->domain);
    out->saved_password = (cred.dwMask & RASCM_Password) != 0;
    rc = get_credentials(BOOK(phonebook, pb), wname, RASCM_PreSharedKey, &cred);
    out->saved_psk = rc == 0 && (cred.dwMask & RASCM_PreSharedKey);
    rc = 0;                       /* no key to be had (not L2TP/IKEv2) is no key */
  }
  os_wipe(&cred, sizeof cred);
  return rc ? api_failure(err, "RasGetCredentialsW", rc) : 0;
}

/* The password and the key both travel in szPassword: one call each. */
static int win32_set_credentials(ras_instance *inst, const char *entry, const char *phonebook,
                                 const ras_credentials *c, ras_error *err) {
  WCHAR wname[RAS_MaxEntryName + 1], pb[MAX_PATH + 1];
  RASCREDENTIALSW cred;
  DWORD mask = 0, rc = 0;
  int why;
  (void)inst;
  WIDE(wname, entry, "entry");
  PHONEBOOK(pb, phonebook);
  memset(&cred, 0, sizeof cred);
  if (c->username && (why = to_wide(c->username, cred.szUserName, UNLEN + 1)) != WIDE_OK)
    return bad_text(err, "username", why, UNLEN + 1);
  if (c->domain && (why = to_wide(c->domain, cred.szDomain, DNLEN + 1)) != WIDE_OK)
    return bad_text(err, "domain", why, DNLEN + 1);
  if (c->password && (why = to_wide(c->password, cred.szPassword, PWLEN + 1)) != WIDE_OK) {
    os_wipe(&cred, sizeof cred);
    return bad_text(err, "password", why, PWLEN + 1);
  }
  if (c->psk) {
    /* Checked without a copy: the key is converted only where it is wiped. */
    int units = MultiByteToWideChar(CP_UTF8, MB_ERR_INVALID_CHARS, c->psk, -1, NULL, 0);
    if (units <= 0 || units > PWLEN + 1) {
      os_wipe(&cred, sizeof cred);
      return bad_text(err, "psk", units <= 0 ? WIDE_INVALID : WIDE_TOO_LONG, PWLEN + 1);
    }
  }
  mask = (c->username ? RASCM_UserName : 0) | (c->domain ? RASCM_Domain : 0) |
         (c->password ? RASCM_Password : 0);
  if (mask) rc = put_credentials(BOOK(phonebook, pb), wname, &cred, mask, FALSE);
  os_wipe(&cred, sizeof cred);
  if (rc == 0 && c->psk) {
    to_wide(c->psk, cred.szPassword, PWLEN + 1);
    rc = put_credentials(BOOK(phonebook, pb), wname, &cred, RASCM_PreSharedKey, FALSE);
    os_wipe(&cred, sizeof cred);
  }
  return rc ? api_failure(err, "RasSetCredentialsW", rc) : 0;
}

static int win32_clear_credentials(ras_instance *inst, const char *entry, const char *phonebook,
                                   ras_error *err) {
  WCHAR wname[RAS_MaxEntryName + 1], pb[MAX_PATH + 1];
  RASCREDENTIALSW cred;
  DWORD rc;
  (void)inst;
  WIDE(wname, entry, "entry");
  PHONEBOOK(pb, phonebook);
  memset(&cred, 0, sizeof cred);
  rc = put_credentials(BOOK(phonebook, pb), wname, &cred,
                       RASCM_UserName | RASCM_Password | RASCM_Domain, TRUE);
  if (rc == 0) rc = put_credentials(BOOK(phonebook, pb), wname, &cred, RASCM_PreSharedKey, TRUE);
  return rc ? api_failure(err, "RasSetCredentialsW", rc) : 0;
}

/*
 * A dial of an entry without a password: RasGetCredentialsW's szPassword
 * is a handle to the saved password, which RasDialW takes in its place
 * (the password itself never reaches this process). The saved user name
 * and domain fill in what the dial did not give.
 */
static void use_saved_credentials(ras_call *c, const ras_dial_params *d) {
  RASCREDENTIALSW cred;
  RASDIALPARAMSW *p = &c->params;
  if (get_credentials(c->has_phonebook ? c->phonebook : NULL, p->szEntryName,
                      RASCM_UserName | RASCM_Password | RASCM_Domain, &cred) == 0) {
    if (cred.dwMask & RASCM_Password) memcpy(p->szPassword, cred.szPassword, sizeof p->szPassword);
    if (!d->username && (cred.dwMask & RASCM_UserName))
      memcpy(p->szUserName, cred.szUserName, sizeof p->szUserName);
    if (!d->domain && (cred.dwMask & RASCM_Domain))
      memcpy(p->szDomain, cred.szDomain, sizeof p->szDomain);
  }
  os_wipe(&cred, sizeof cred);
}

/* ---------------------------------------------------------------------- */
/* statistics, projection, devices (issue 12)                             */

static int win32_statistics(ras_call *c, ras_statistics *out, ras_error *err) {
  RAS_STATS st;
  HRASCONN h = probe_begin(c);
  DWORD rc;
  if (!h) return ras_fail(err, RAS_ERROR_INVALID_HANDLE, "the connection no longer exists");
  memset(&st, 0, sizeof st);
  st.dwSize = sizeof st;
  rc = RasGetConnectionStatistics(h, &st);
  probe_end(h, rc);
  if (rc == ERROR_INVALID_HANDLE)
    return ras_fail(err, RAS_ERROR_INVALID_HANDLE, "the connection no longer exists");
  if (rc != 0) return api_failure(err, "RasGetConnectionStatistics", rc);
  out->bytes_sent = st.dwBytesXmited;
  out->bytes_received = st.dwBytesRcved;
  out->frames_sent = st.dwFramesXmited;
  out->frames_received = st.dwFramesRcved;
  out->errors = (unsigned long long)st.dwCrcErr + st.dwTimeoutErr + st.dwAlignmentErr +
                st.dwHardwareOverrunErr + st.dwFramingErr + st.dwBufferOverrunErr;
  out->speed = st.dwBps ? (long long)st.dwBps : -1;
  out->duration = st.dwConnectDuration / 1000.0;
  return 0;
}

/* RAS_PROJECTION_INFO (Windows 7 ras.h); mingw declares none of it. */
#include <pshpack4.h>
typedef struct ppp_info {
  DWORD ipv4_error;
  BYTE ipv4[4], ipv4_server[4];
  DWORD ipv4_options, ipv4_server_options;
  DWORD ipv6_error;
  BYTE interface_id[8], server_interface_id[8];
  BOOL bundled, multilink;
  DWORD auth_protocol, auth_data, server_auth_protocol, server_auth_data;
  DWORD eap_type, server_eap_type, lcp_options, lcp_server_options;
  DWORD ccp_error, ccp_compression, ccp_server_compression, ccp_options, ccp_server_options;
} ppp_info;
typedef struct ikev2_info {
  DWORD ipv4_error;
  BYTE ipv4[4], ipv4_server[4];
  DWORD ipv6_error;
  BYTE ipv6[16], ipv6_server[16];
  DWORD prefix_length, auth_protocol, eap_type, flags, encryption_method;
  DWORD n_ipv4_servers;
  void *ipv4_servers;
  DWORD n_ipv6_servers;
  void *ipv6_servers;
} ikev2_info;
typedef struct projection_info {
  DWORD version;                  /* RASAPIVERSION */
  DWORD type;                     /* PROJECTION_INFO_TYPE_PPP 1, _IKEv2 2 */
  union { ppp_info ppp; ikev2_info ikev2; } u;
} projection_info;
#include <poppack.h>

#define RASAPIVERSION_601 4
#define PROJECTION_NOT_COMPLETE 730   /* ERROR_PROJECTION_NOT_COMPLETE */

typedef DWORD (WINAPI *projection_ex_fn)(HRASCONN, projection_info *, DWORD *);

/* RasGetProjectionInfoEx is Windows 7's: looked up, so that an older
 * rasapi32 (and mingw's import library, which lacks it) does not matter. */
static projection_ex_fn projection_ex(void) {
  static LONG looked;
  static projection_ex_fn fn;
  if (!InterlockedCompareExchange(&looked, 0, 0)) {
    HMODULE m = GetModuleHandleW(L"rasapi32.dll");
    FARPROC p = m ? GetProcAddress(m, "RasGetProjectionInfoEx") : NULL;
    memcpy(&fn, &p, sizeof fn);
    InterlockedExchange(&looked, 1);
  }
  return fn;
}

static void format_ipv4(const BYTE *b, char *dst, size_t size) {
  snprintf(dst, size, "%u.%u.%u.%u", b[0], b[1], b[2], b[3]);
}

static void format_id(const BYTE *b, char *dst, size_t size) {
  snprintf(dst, size, "%02x:%02x:%02x:%02x:%02x:%02x:%02x:%02x",
           b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7]);
}

static void read_ppp(const ppp_info *p, ras_projection *out) {
  if (p->ipv4_error == 0 && !zero_bytes(p->ipv4, 4)) {
    out->has_ipv4 = 1;
    format_ipv4(p->ipv4, out->ipv4_address, sizeof out->ipv4_address);
    if (!zero_bytes(p->ipv4_server, 4))
      format_ipv4(p->ipv4_server, out->ipv4_server_address, sizeof out->ipv4_server_address);
  }
  if (p->ipv6_error == 0 && !zero_bytes(p->interface_id, 8)) {
    out->has_ipv6 = 1;
    format_id(p->interface_id, out->ipv6_interface_id, sizeof out->ipv6_interface_id);
    format_id(p->server_interface_id, out->ipv6_server_interface_id,
              sizeof out->ipv6_server_interface_id);
  }
  /* RASLCPAP_PAP 0xC023, _CHAP 0xC223 (data: MD5 5, MS-CHAP 0x80, v2 0x81), _EAP 0xC227 */
  if (p->auth_protocol == 0xC023) out->auth = RAS_AUTH_PAP;
  else if (p->auth_protocol == 0xC227) out->auth = RAS_AUTH_EAP;
  else if (p->auth_protocol == 0xC223 && p->auth_data == 0x05) out->auth = RAS_AUTH_CHAP;
  else if (p->auth_protocol == 0xC223 && p->auth_data == 0x81) out->auth = RAS_AUTH_MSCHAPV2;
  if (p->ccp_error != 0) return;
  /* RASCCPO_Encryption128bit 0x40, 56bit 0x10, 40bit 0x20, HistoryLess 0x2;
   * RASCCPCA_MPPC 6, STAC 5. The text is pppd's, so both backends agree. */
  {
    const char *bits = (p->ccp_options & 0x40) ? "128" : (p->ccp_options & 0x10) ? "56"
                     : (p->ccp_options & 0x20) ? "40" : NULL;
    if (bits)
      snprintf(out->encryption, sizeof out->encryption, "MPPE %s-bit %s", bits,
               (p->ccp_options & 0x2) ? "stateless" : "stateful");
  }
  if ((p->ccp_options & 0x1) && p->ccp_compression == 6)
    snprintf(out->compression, sizeof out->compression, "mppc");
  else if ((p->ccp_options & 0x1) && p->ccp_compression == 5)
    snprintf(out->compression, sizeof out->compression, "stac");
}

/* IKEv2 has addresses, not PPP's interface identifiers: the addresses'
 * lower 64 bits stand in for them. */
static void read_ikev2(const ikev2_info *k, ras_projection *out) {
  static const char *const ciphers[] = { NULL, "DES", "3DES", "AES-128", "AES-192", "AES-256" };
  if (k->ipv4_error == 0 && !zero_bytes(k->ipv4, 4)) {
    out->has_ipv4 = 1;
    format_ipv4(k->ipv4, out->ipv4_address, sizeof out->ipv4_address);
    if (!zero_bytes(k->ipv4_server, 4))
      format_ipv4(k->ipv4_server, out->ipv4_server_address, sizeof out->ipv4_server_address);
  }
  if (k->ipv6_error == 0 && !zero_bytes(k->ipv6, 16)) {
    out->has_ipv6 = 1;
    format_id(k->ipv6 + 8, out->ipv6_interface_id, sizeof out->ipv6_interface_id);
    format_id(k->ipv6_server + 8, out->ipv6_server_interface_id,
              sizeof out->ipv6_server_interface_id);
  }
  if (k->auth_protocol == 2) out->auth = RAS_AUTH_EAP;   /* RASIKEv2_AUTH_EAP */
  if (k->encryption_method >= 1 && k->encryption_method <= 5)   /* IPSEC_CIPHER_TYPE */
    snprintf(out->encryption, sizeof out->encryption, "%s", ciphers[k->encryption_method]);
}

/* RasGetProjectionInfoEx: 0 with *out filled, or the API's answer. */
static DWORD projection_new(HRASCONN h, ras_projection *out) {
  projection_ex_fn fn = projection_ex();
  projection_info info;
  DWORD cb = sizeof info, rc;
  if (!fn) return ERROR_CALL_NOT_IMPLEMENTED;
  memset(&info, 0, sizeof info);
  info.version = RASAPIVERSION_601;
  rc = fn(h, &info, &cb);
  if (rc != 0) return rc;
  if (info.type == 1) read_ppp(&info.u.ppp, out);
  else if (info.type == 2) read_ikev2(&info.u.ikev2, out);
  return 0;
}

/* RasGetProjectionInfoW(RASP_PppIp): the addresses, nothing more. */
static DWORD projection_old(HRASCONN h, ras_projection *out) {
  for (;;) {
    RASPPPIPW ip;
    DWORD size = layout_size(L_PPPIP), cb = size, rc;
    memset(&ip, 0, sizeof ip);
    ip.dwSize = size;
    rc = RasGetProjectionInfoW(h, RASP_PppIp, &ip, &cb);
    if (rc == ERROR_INVALID_SIZE && older_layout(L_PPPIP, size)) continue;
    if (rc != 0) return rc;
    if (ip.dwError == 0) {
      out->has_ipv4 = 1;
      to_utf8(ip.szIpAddress, RAS_MaxIpAddress + 1, out->ipv4_address, sizeof out->ipv4_address);
      to_utf8(ip.szServerIpAddress, RAS_MaxIpAddress + 1, out->ipv4_server_address,
              sizeof out->ipv4_server_address);
    }
    return 0;
  }
}

static int win32_projection(ras_call *c, ras_projection *out, ras_error *err) {
  HRASCONN h = probe_begin(c);
  DWORD rc;
  if (!h) return ras_fail(err, RAS_ERROR_INVALID_HANDLE, "the connection no longer exists");
  rc = projection_new(h, out);
  /* Not there (before Windows 7), or a version or size it does not take. */
  if (rc == ERROR_CALL_NOT_IMPLEMENTED || rc == ERROR_INVALID_PARAMETER ||
      rc == ERROR_INVALID_SIZE || rc == ERROR_BUFFER_TOO_SMALL) {
    memset(out, 0, sizeof *out);
    rc = projection_old(h, out);
  }
  probe_end(h, rc);
  if (rc == ERROR_INVALID_HANDLE)
    return ras_fail(err, RAS_ERROR_INVALID_HANDLE, "the connection no longer exists");
  if (rc == PROJECTION_NOT_COMPLETE)
    return ras_fail(err, (int)rc, "the link is not projected yet (error %d)", (int)rc);
  if (rc != 0) return api_failure(err, "RasGetProjectionInfoEx", rc);
  return 0;
}

static DWORD enum_devices(void *ctx, void *buf, DWORD *cb, DWORD *count) {
  (void)ctx;
  return RasEnumDevicesW(buf, cb, count);
}

/* The types ras.h names, as the schema spells them; any other (newer than
 * every header: "gre") passes through as Windows wrote it. */
static void device_type_text(const WCHAR *w, char *dst, size_t size) {
  static const struct { const WCHAR *os; const char *name; } known[] = {
    { L"modem", "modem" }, { L"vpn", "vpn" }, { L"PPPoE", "pppoe" }, { L"isdn", "isdn" },
    { L"SERIAL", "serial" }, { L"PARALLEL", "parallel" }, { L"x25", "x25" },
    { L"GENERIC", "generic" }, { L"ATM", "atm" }, { L"IRDA", "irda" },
  };
  for (size_t i = 0; i < sizeof known / sizeof known[0]; i++)
    if (!_wcsicmp(w, known[i].os)) {
      snprintf(dst, size, "%s", known[i].name);
      return;
    }
  to_utf8(w, RAS_MaxDeviceType + 1, dst, size);
}

static const size_t device_texts[] = RAS_DEVICE_TEXTS;

static ras_device_info *win32_devices(ras_instance *inst, size_t *n, ras_error *err) {
  DWORD count, elem;
  BYTE *raw = enumerate(L_DEVINFO, enum_devices, NULL, &elem, &count, err);
  ras_list list = { .item_size = sizeof(ras_device_info) };
  ras_device_info *result;
  (void)inst;
  if (!raw) return NULL;
  for (DWORD i = 0; i < count; i++) {
    const RASDEVINFOW *d = (const RASDEVINFOW *)(raw + (size_t)i * elem);
    char type[RAS_TEXT_BYTES(RAS_MaxDeviceType + 1)];
    ras_device_info *info = ras_list_add(&list);
    if (!info) break;
    list_text(&list, info, offsetof(ras_device_info, name), d->szDeviceName, RAS_MaxDeviceName + 1);
    device_type_text(d->szDeviceType, type, sizeof type);
    ras_list_text(&list, info, offsetof(ras_device_info, type), type);
  }
  free(raw);
  result = ras_list_finish(&list, device_texts, 2, n);
  if (!result) ras_fail(err, RAS_ERROR_NOT_ENOUGH_MEMORY, "out of memory");
  return result;
}

static int first_device(const WCHAR *type, WCHAR *dst, ras_error *err) {
  DWORD count, elem;
  BYTE *raw = enumerate(L_DEVINFO, enum_devices, NULL, &elem, &count, err);
  if (!raw) return err->code;
  for (DWORD i = 0; i < count; i++) {
    const RASDEVINFOW *d = (const RASDEVINFOW *)(raw + (size_t)i * elem);
    if (_wcsicmp(d->szDeviceType, type) == 0) {
      memcpy(dst, d->szDeviceName, sizeof d->szDeviceName);
      free(raw);
      return 0;
    }
  }
  free(raw);
  return ras_fail(err, RAS_ERROR_DEVICE_NOT_READY,
                  "no device of type '%ls' for the entry: give 'device'", type);
}

/* ---------------------------------------------------------------------- */
/* watching every connection of the machine (issue 12)                    */

/* Milliseconds between the watcher's own diffs: Windows 11 may signal
 * only a process's first connection (DotRas issue 105). */
#define WATCH_INTERVAL_MS 2000

/* A connection the watcher has reported up. */
typedef struct known {
  uint64_t id;
  char *entry, *phonebook;
} known;

struct ras_watch {
  ras_instance *inst;
  ras_feed *feed;
  HANDLE stop, wake;              /* manual reset; auto reset */
  os_thread *thread;
  known *known;
  size_t nknown;
  struct ras_watch *next;         /* the relay's list */
};

/* The one machine-wide registration a process may make (it cannot be
 * undone), and the relay thread that passes its signal to every watcher. */
static INIT_ONCE machine_once = INIT_ONCE_STATIC_INIT;
static HANDLE machine_event;
static ras_watch *watchers;       /* under lock */

static DWORD WINAPI relay_main(void *arg) {
  (void)arg;
  for (;;) {
    if (WaitForSingleObject(machine_event, INFINITE) != WAIT_OBJECT_0) return 0;
    lock_all();
    for (ras_watch *w = watchers; w; w = w->next) SetEvent(w->wake);
    unlock_all();
  }
}

static BOOL CALLBACK register_machine(INIT_ONCE *once, void *arg, void **ctx) {
  HANDLE relay;
  (void)once; (void)arg; (void)ctx;
  machine_event = CreateEventW(NULL, FALSE, FALSE, NULL);
  if (!machine_event) return TRUE;              /* the interval alone, then */
  if (RasConnectionNotificationW((HRASCONN)INVALID_HANDLE_VALUE, machine_event,
                                 RASCN_Connection | RASCN_Disconnection) != 0) {
    CloseHandle(machine_event);
    machine_event = NULL;
    return TRUE;
  }
  relay = CreateThread(NULL, 0, relay_main, NULL, 0, NULL);
  if (relay) CloseHandle(relay);  /* it runs as long as the process */
  return TRUE;
}

static void free_known(known *k, size_t n) {
  for (size_t i = 0; i < n; i++) {
    free(k[i].entry);
    free(k[i].phonebook);
  }
  free(k);
}

static const known *find_known(const known *k, size_t n, uint64_t id) {
  for (size_t i = 0; i < n; i++)
    if (k[i].id == id) return &k[i];
  return NULL;
}

static char *copy_text(const char *s) {
  size_t len = strlen(s) + 1;
  char *copy = malloc(len);
  if (copy) memcpy(copy, s, len);
  return copy;
}

/* Is the listed handle's connection up (Connected)? Through the gate, as
 * every use of a handle value. */
static int is_connected(HRASCONN h) {
  status_win7 st;
  DWORD rc;
  AcquireSRWLockExclusive(&gate);
  rc = read_status(h, &st);
  probe_end(h, rc);
  return rc == 0 && st.v1.rasconnstate == RASCS_Connected;
}

/* The connections up now, with the ids connections() gives them; *n of
 * them, or NULL when the enumeration failed. */
static known *connections_up(ras_watch *w, const known *before, size_t nbefore, size_t *n) {
  ras_instance *inst = w->inst;
  DWORD count, elem;
  ras_error err;
  BYTE *raw = enumerate(L_CONN, enum_connections, NULL, &elem, &count, &err);
  known *now;
  HRASCONN *handles;
  if (!raw) return NULL;
  now = calloc(count ? count : 1, sizeof *now);
  handles = calloc(count ? count : 1, sizeof *handles);
  *n = 0;
  if (!now || !handles) {
    free(raw);
    free(now);
    free(handles);
    return NULL;
  }
  lock_all();
  for (DWORD i = 0; i < count; i++) {
    listed l = listed_at(raw, elem, i);
    ras_call *c = call_listed(inst, &l);
    uint64_t id;
    if (!c && tearing_down(inst, &l)) continue;
    id = c ? c->id : seen_id(inst, &l);
    if (!id) continue;            /* a dial RasDialW has not returned yet, or no memory */
    handles[*n] = l.handle;
    now[*n].id = id;
    {
      char entry[RAS_TEXT_BYTES(RAS_MaxEntryName + 1)], pb[RAS_TEXT_BYTES(MAX_PATH)];
      to_utf8(l.raw->szEntryName, RAS_MaxEntryName + 1, entry, sizeof entry);
      pb[0] = '\0';
      if (l.size >= ROUND4(offsetof(RASCONNW, guidEntry)))
        to_utf8(l.raw->szPhonebook, MAX_PATH, pb, sizeof pb);
      now[*n].entry = copy_text(entry);
      now[*n].phonebook = copy_text(pb);
    }
    (*n)++;
  }
  forget_unlisted(inst);
  unlock_all();
  free(raw);
  /* A connection still dialling is not up: it counts once Connected; one
   * whose link dropped stays listed until hung up, but is not up either. */
  (void)before;
  (void)nbefore;
  for (size_t i = 0; i < *n;) {
    if (is_connected(handles[i])) {
      i++;
      continue;
    }
    free(now[i].entry);
    free(now[i].phonebook);
    now[i] = now[--*n];
    handles[i] = handles[*n];
  }
  free(handles);
  return now;
}

static void push_change(ras_watch *w, int change, const known *k, int initial) {
  ras_event ev = ras_change(change, k->id, k->entry ? k->entry : "",
                            k->phonebook && k->phonebook[0] ? k->phonebook : NULL, os_now());
  if (initial) ev.substate = RAS_CHANGE_INITIAL;
  ras_feed_push(w->feed, &ev);
}

/* One diff: what came up, what went away, since the last. */
static void diff_connections(ras_watch *w, int initial) {
  size_t n;
  known *now = connections_up(w, w->known, w->nknown, &n);
  if (!now) return;               /* the next signal or interval tries again */
  for (size_t i = 0; i < w->nknown; i++)
    if (!find_known(now, n, w->known[i].id))
      push_change(w, RAS_CHANGE_DISCONNECTED, &w->known[i], 0);
  for (size_t i = 0; i < n; i++)
    if (!find_known(w->known, w->nknown, now[i].id))
      push_change(w, RAS_CHANGE_CONNECTED, &now[i], initial);
  free_known(w->known, w->nknown);
  w->known = now;
  w->nknown = n;
}

static void watch_main(void *arg) {
  ras_watch *w = arg;
  HANDLE waits[2] = { w->stop, w->wake };
  for (;;) {
    DWORD r = WaitForMultipleObjects(2, waits, FALSE, WATCH_INTERVAL_MS);
    if (r == WAIT_OBJECT_0) return;
    if (r == WAIT_FAILED) Sleep(WATCH_INTERVAL_MS);
    diff_connections(w, 0);
  }
}

static void free_watch(ras_watch *w) {
  if (w->stop) CloseHandle(w->stop);
  if (w->wake) CloseHandle(w->wake);
  free_known(w->known, w->nknown);
  free(w);
}

static ras_watch *win32_watch(ras_instance *inst, ras_feed *feed, ras_error *err) {
  ras_watch *w = calloc(1, sizeof *w);
  if (!w) {
    ras_fail(err, RAS_ERROR_NOT_ENOUGH_MEMORY, "out of memory");
    return NULL;
  }
  w->inst = inst;
  w->feed = feed;
  w->stop = CreateEventW(NULL, TRUE, FALSE, NULL);
  w->wake = CreateEventW(NULL, FALSE, FALSE, NULL);
  if (!w->stop || !w->wake) {
    free_watch(w);
    ras_fail(err, RAS_ERROR_NOT_ENOUGH_MEMORY, "cannot create an event");
    return NULL;
  }
  InitOnceExecuteOnce(&machine_once, register_machine, NULL, NULL);
  ras_feed_ref(feed);
  lock_all();
  w->next = watchers;
  watchers = w;
  unlock_all();
  diff_connections(w, 1);         /* the connections up already, first */
  w->thread = os_thread_start(watch_main, w);
  if (!w->thread) {
    win32_unwatch(w);
    ras_fail(err, RAS_ERROR_NOT_ENOUGH_MEMORY, "cannot start the watcher thread");
    return NULL;
  }
  return w;
}

static void win32_unwatch(ras_watch *w) {
  SetEvent(w->stop);
  if (w->thread) os_thread_join(w->thread);
  lock_all();
  for (ras_watch **pp = &watchers; *pp; pp = &(*pp)->next)
    if (*pp == w) {
      *pp = w->next;
      break;
    }
  unlock_all();
  ras_feed_unref(w->feed);
  free_watch(w);
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
  .error_text = win32_error_text,
  .entry = win32_entry,
  .create_entry = win32_create_entry,
  .update_entry = win32_update_entry,
  .rename_entry = win32_rename_entry,
  .delete_entry = win32_delete_entry,
  .validate_entry_name = win32_validate_entry_name,
  .credentials = win32_credentials,
  .set_credentials = win32_set_credentials,
  .clear_credentials = win32_clear_credentials,
  .statistics = win32_statistics,
  .projection = win32_projection,
  .devices = win32_devices,
  .watch = win32_watch,
  .unwatch = win32_unwatch
};

#endif /* _WIN32 */
