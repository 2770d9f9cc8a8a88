/*
 * rasapi32_double.c -- a test double of Windows' rasapi32.dll, as strict as
 * Windows is allowed to be.
 *
 * Wine's own rasapi32 is stubs, so the backend is tested against this DLL,
 * written from Microsoft's pages and the SDK's ras.h for the W functions the
 * backend uses. Where the documentation leaves Windows free, the double takes
 * the least convenient reading:
 *
 *   - every notification runs on a fresh thread, and the first one runs
 *     while RasDialW has not yet returned the handle;
 *   - RasHangUpW returns without waiting for a running notifier, and a dial
 *     hung up before it ended gets one more notification `late` ms after
 *     RasHangUpW returned ("most of the hang-up processing occurs after the
 *     RasDialFunc2 callback function returns");
 *   - a handle stays valid for hangup_delay after RasHangUpW; then its value
 *     goes to the next connection (lowest free value first);
 *   - RasDialW can fail with an error AND a handle, which must be hung up;
 *   - RasHangUpW of a link that dropped answers ERROR_NO_CONNECTION (668);
 *   - only the structure sizes that ras.h declares are accepted, others get
 *     ERROR_INVALID_SIZE (632); RAS_DOUBLE_WINVER narrows them to the layouts
 *     of an older Windows;
 *   - RAS_DOUBLE_WIN11=1: RASCN_Connection and RASCN_Disconnection fire only
 *     for the process's first connection (DotRas issue 105).
 *
 * Protocol violations are counted (RasDoubleProtocolViolations) and each is
 * written to stderr as "rasapi32 double: protocol violation: ...", so a run
 * can fail on them: RasDialW inside a notifier, a handle used after the API
 * answered ERROR_INVALID_HANDLE for it (until its value is given out again),
 * and a handle of a failed RasDialW never hung up (checked at exit).
 *
 * The phonebook entry name picks a scenario:
 *
 *   keyword[;key=value...]
 *   keywords: ok authfail busy noanswer callback expired
 *   options:  step=MS (between notifications, default 10)
 *             hangup_delay=MS (status still answers this long after RasHangUpW)
 *             late=MS (the notification after RasHangUpW; default
 *                 RAS_DOUBLE_LATE_MS, else 150; 0: none)
 *             drop_after=MS (link drops this long after Connected: error 629)
 *             fail_at=STATE (a RASCS_ name without the prefix, or a number)
 *             error=CODE (the error of fail_at; default 651)
 *             dial_error=CODE (RasDialW returns CODE and the handle, after the
 *                 first notification; the dial itself goes on)
 *             redial_after=MS (a foreign connection: its program hangs it up
 *                 after MS and at once dials the same entry again, which is
 *                 given the same handle value under a new correlation GUID)
 *             hold_at=STATE (the dial stops after reporting STATE, as if the
 *                 peer never answered, until it is hung up)
 *             extra=STATE (also reports STATE, a number, after
 *                 AllDevicesConnected: a state a newer Windows might have)
 *             vpn=1 (device "vpn" / "WAN Miniport (PPTP)")
 *             wide=1 (device name of 128 x U+4E2D, the longest there is)
 *             grow_conns=N, grow_entries=N (the next N RasEnumConnectionsW /
 *                 RasEnumEntriesW calls that answer ERROR_BUFFER_TOO_SMALL each
 *                 add one item, so the caller's retry finds more than it asked for)
 *
 * Credentials (authfail): user "user", password "right"; an "ok" entry
 * whose credentials were saved (RasSetCredentialsW) checks them too.
 *
 * Entries: RasGetEntryPropertiesW / RasSetEntryPropertiesW (RASENTRYW by
 * the layouts of RAS_DOUBLE_WINVER, ERROR_INVALID_SIZE otherwise; the
 * device-specific data's size through ERROR_BUFFER_TOO_SMALL), rename,
 * delete, validate (123 for an empty name, one starting with ".", control
 * characters or \ / : * ? " < > |), RasGet/SetCredentialsW (the saved
 * password and key come back as handles that RasDialW takes in their
 * place), stored per phonebook path in memory. The built-in entries and
 * scenario names exist in every phonebook; writing to one stores a copy.
 * An update that drops an entry's device-specific data is a protocol
 * violation. RAS_DOUBLE_SEEDED="Name,..." seeds SSTP entries that have such
 * data. Statistics grow with the time since Connected; projection is PPP
 * (RasGetProjectionInfoEx from 0x601, RasGetProjectionInfoW) or, with
 * ikev2=1, IKEv2; RasEnumDevicesW lists a modem, the WAN miniports, a "gre"
 * device and a serial cable (RAS_DOUBLE_GROW_DEVICES=N: growth between the
 * size query and the retry). spawn=1;life=MS: as the dial connects, "another
 * program" brings up "SpawnedN", and hangs it up after MS (0: never).
 * callback: after Authenticated the server asks (AuthCallback); a callback
 * number given at dial time answers it, else the dial pauses in
 * CallbackSetByCaller (error 703 without paused states) and asks again
 * (AuthCallback) after each resume.
 *
 * Environment, read at load:
 * In these lists and paths \uXXXX stands for that UTF-16 unit, so that
 * names beyond ASCII need no particular locale on the way through Wine.
 *
 *   RAS_DOUBLE_FOREIGN="Office,Home"  connections "dialled by another process",
 *                                     already Connected (options allowed)
 *   RAS_DOUBLE_ENTRIES="Work,Home"    extra phonebook entries; they dial as "ok"
 *   RAS_DOUBLE_PHONEBOOK=PATH         the default phonebook's path
 *   RAS_DOUBLE_GROW_CONNS=N           as the grow_conns option, from the start
 *   RAS_DOUBLE_GROW_ENTRIES=N         as the grow_entries option, from the start
 *   RAS_DOUBLE_LATE_MS=MS             the default of the late option
 *   RAS_DOUBLE_WINVER=0x600           accept only layouts of that Windows and
 *                                     older (default: every layout ras.h has)
 *   RAS_DOUBLE_WIN11=1                RASCN_Connection, RASCN_Disconnection
 *                                     for the first connection only
 *
 * One critical section guards all state; notifiers are called without it,
 * so they may call back into the DLL (RasDialW excepted: a protocol
 * violation, refused and counted).
 */
#include <windows.h>
#include <ras.h>
#include <raserror.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <wchar.h>

#define RASTUNNELENDPOINT_IPv4 1
#define DEFAULT_STEP_MS 10
#define DEFAULT_LATE_MS 150
#define DEFAULT_FAIL_ERROR 651
#define AUTH_USER L"user"
#define AUTH_PASSWORD L"right"
#define WIDE_CHAR 0x4E2D

/* RASCONNSTATUSW as Windows 7 and later declare it; mingw stops at szPhoneNumber. */
#include <pshpack4.h>
typedef struct {
    RASCONNSTATUSW v1;
    RASTUNNELENDPOINT localEndPoint;
    RASTUNNELENDPOINT remoteEndPoint;
    DWORD rasconnsubstate;
} RASCONNSTATUSW_WIN7;
/* RASCONNW as Vista and later declare it: guidCorrelationId appended. */
typedef struct {
    RASCONNW xp;
    GUID guidCorrelationId;
} RASCONNW_VISTA;
#include <poppack.h>

/* ---- the layouts ras.h declares, by the WINVER that brought each -------- */

/* Every RAS structure is packed to 4 and holds DWORDs: an older layout's
 * size is the offset of the first newer field, rounded up to 4. */
#define ROUND4(n) (((n) + 3) & ~(size_t)3)

typedef struct { DWORD winver; size_t size; } layout;

static const layout dialparams_layouts[] = {
    {0x400, ROUND4(offsetof(RASDIALPARAMSW, dwSubEntry))},
    {0x401, ROUND4(offsetof(RASDIALPARAMSW, dwIfIndex))},
    {0x601, sizeof(RASDIALPARAMSW)},
    {0x602, sizeof(RASDIALPARAMSW) + sizeof(LPWSTR)},   /* szEncPassword */
};
static const layout extensions_layouts[] = {
    {0x400, ROUND4(offsetof(RASDIALEXTENSIONS, reserved1))},
    {0x500, sizeof(RASDIALEXTENSIONS)},
    /* fSkipPppAuth and RASDEVSPECIFICINFO { DWORD dwSize; BYTE *pb; } */
    {0x601, sizeof(RASDIALEXTENSIONS) + sizeof(BOOL) + sizeof(DWORD) + sizeof(BYTE *)},
};
static const layout conn_layouts[] = {
    {0x400, ROUND4(offsetof(RASCONNW, szPhonebook))},
    {0x401, ROUND4(offsetof(RASCONNW, guidEntry))},
    {0x500, ROUND4(offsetof(RASCONNW, dwFlags))},
    {0x501, sizeof(RASCONNW)},
    {0x600, sizeof(RASCONNW_VISTA)},
};
static const layout status_layouts[] = {
    {0x400, ROUND4(offsetof(RASCONNSTATUSW, szPhoneNumber))},
    {0x401, sizeof(RASCONNSTATUSW)},
    {0x601, sizeof(RASCONNSTATUSW_WIN7)},
};
static const layout entryname_layouts[] = {
    {0x400, ROUND4(offsetof(RASENTRYNAMEW, dwFlags))},
    {0x500, sizeof(RASENTRYNAMEW)},
};
#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

static DWORD winver = 0xA00; /* RAS_DOUBLE_WINVER */

static BOOL accepts(const layout *list, size_t n, DWORD size)
{
    for (size_t i = 0; i < n; i++)
        if (list[i].winver <= winver && list[i].size == size)
            return TRUE;
    return FALSE;
}
#define ACCEPTS(list, size) accepts(list, COUNT(list), (DWORD)(size))

/* Does a structure of `size` bytes (one of the layouts) reach field end `end`? */
#define HAS(size, type, field) ((size) >= offsetof(type, field) + sizeof(((type *)0)->field))

enum kind { K_OK, K_AUTHFAIL, K_BUSY, K_NOANSWER, K_CALLBACK, K_EXPIRED };

typedef struct {
    enum kind kind;
    DWORD step, hangup_delay, drop_after, error, grow_conns, grow_entries, late, dial_error;
    DWORD redial_after;
    DWORD spawn, life;    /* spawn=1: a foreign connection when Connected; life: its MS */
    BOOL vpn, wide, ikev2;
    int fail_at; /* a RASCONNSTATE, or -1 */
    int hold_at; /* a RASCONNSTATE, or -1 */
    int extra;   /* a RASCONNSTATE reported after the link states, or -1 */
} scenario;

typedef struct conn {
    struct conn *next;
    HRASCONN handle;
    GUID correlation;                     /* what tells reused handle values apart */
    WCHAR entry[RAS_MaxEntryName + 1];
    scenario sc;
    RASDIALPARAMSW params;                /* latest, replaced on resume */
    WCHAR first_password[PWLEN + 1];
    DWORD notifier_type;
    void *notifier;
    BOOL paused_states;
    RASCONNSTATE state;
    RASCONNSTATE pending;  /* the state the dial reports next */
    DWORD error;
    BOOL started;     /* RasDialW has stored the handle */
    BOOL first_done;  /* the first notification has returned */
    BOOL dial_done;   /* Connected, failed or hung up */
    BOOL finished;    /* the notifier heard Connected or an error */
    BOOL paused;      /* waiting for RasDialW to resume */
    BOOL quiet;       /* RasDialFunc2 returned 0 */
    BOOL in_callback;
    DWORD callback_thread; /* the thread running the notifier */
    BOOL hung_up;
    BOOL dropped;     /* the link went down by itself */
    BOOL must_hang_up; /* RasDialW failed but gave out this handle */
    BOOL first_of_process;
    DWORD hangup_tick;
    DWORD connected_tick; /* when it reached Connected: statistics grow from here */
    HANDLE thread;
    CONDITION_VARIABLE cv; /* any change of the flags above */
} conn;

typedef struct registration {
    struct registration *next;
    conn *target;    /* NULL: every connection */
    HANDLE event;    /* our duplicate of the caller's event */
    DWORD flags;
} registration;

static CRITICAL_SECTION lock;
static conn *conns;
static registration *registrations;
static DWORD grow_connections, grow_entries, extra_entries_grown;
static WCHAR extra_entries[1024];
static WCHAR default_phonebook[MAX_PATH + 1] = L"C:\\rasphone.pbk";
static LONG protocol_violations;
static DWORD default_late = DEFAULT_LATE_MS;
static BOOL win11;
static BOOL dialled_any;
static unsigned long correlation_counter;

/* Handle values the API answered ERROR_INVALID_HANDLE for and has not given
 * out again: using one is acting on a connection that has ended. */
#define MAX_TOLD 256
static HRASCONN told_invalid[MAX_TOLD];
static unsigned n_told;

static const struct { const char *name; RASCONNSTATE state; } state_names[] = {
    {"OpenPort", RASCS_OpenPort}, {"PortOpened", RASCS_PortOpened},
    {"ConnectDevice", RASCS_ConnectDevice}, {"DeviceConnected", RASCS_DeviceConnected},
    {"AllDevicesConnected", RASCS_AllDevicesConnected}, {"Authenticate", RASCS_Authenticate},
    {"AuthNotify", RASCS_AuthNotify}, {"AuthCallback", RASCS_AuthCallback},
    {"AuthChangePassword", RASCS_AuthChangePassword}, {"AuthProject", RASCS_AuthProject},
    {"Authenticated", RASCS_Authenticated}, {"PrepareForCallback", RASCS_PrepareForCallback},
    {"WaitForModemReset", RASCS_WaitForModemReset}, {"WaitForCallback", RASCS_WaitForCallback},
    {"Projected", RASCS_Projected}, {"CallbackComplete", RASCS_CallbackComplete},
};

static const struct { const char *name; enum kind kind; int fail_at; DWORD error; } keywords[] = {
    {"ok", K_OK, -1, 0},
    {"authfail", K_AUTHFAIL, -1, 0},
    {"busy", K_BUSY, RASCS_ConnectDevice, 676},
    {"noanswer", K_NOANSWER, RASCS_ConnectDevice, 678},
    {"callback", K_CALLBACK, -1, 0},
    {"expired", K_EXPIRED, -1, 0},
};

/* Straight to the handle: no CRT buffer may hold it back behind later output. */
static void note(const char *text)
{
    DWORD written;
    WriteFile(GetStdHandle(STD_ERROR_HANDLE), text, (DWORD)strlen(text), &written, NULL);
}

static void violation(const char *what)
{
    char line[200];
    InterlockedIncrement(&protocol_violations);
    snprintf(line, sizeof(line), "rasapi32 double: protocol violation: %s\n", what);
    note(line);
}

/* ---- scenario parsing ------------------------------------------------- */

static int parse_state(const char *value)
{
    char *end;
    unsigned long n = strtoul(value, &end, 0);
    if (*value && !*end)
        return (int)n;
    for (size_t i = 0; i < COUNT(state_names); i++)
        if (strcmp(value, state_names[i].name) == 0)
            return (int)state_names[i].state;
    return -2;
}

static BOOL parse_number(const char *value, DWORD *out)
{
    char *end;
    unsigned long n = strtoul(value, &end, 10);
    if (!*value || *end)
        return FALSE;
    *out = (DWORD)n;
    return TRUE;
}

static BOOL parse_option(char *opt, scenario *sc)
{
    char *value = strchr(opt, '=');
    DWORD flag = 0;
    if (!value)
        return FALSE;
    *value++ = '\0';
    if (strcmp(opt, "step") == 0) return parse_number(value, &sc->step);
    if (strcmp(opt, "hangup_delay") == 0) return parse_number(value, &sc->hangup_delay);
    if (strcmp(opt, "drop_after") == 0) return parse_number(value, &sc->drop_after);
    if (strcmp(opt, "grow_conns") == 0) return parse_number(value, &sc->grow_conns);
    if (strcmp(opt, "grow_entries") == 0) return parse_number(value, &sc->grow_entries);
    if (strcmp(opt, "error") == 0) return parse_number(value, &sc->error);
    if (strcmp(opt, "fail_at") == 0) return (sc->fail_at = parse_state(value)) >= 0;
    if (strcmp(opt, "hold_at") == 0) return (sc->hold_at = parse_state(value)) >= 0;
    if (strcmp(opt, "extra") == 0) return (sc->extra = parse_state(value)) >= 0;
    if (strcmp(opt, "late") == 0) return parse_number(value, &sc->late);
    if (strcmp(opt, "dial_error") == 0) return parse_number(value, &sc->dial_error);
    if (strcmp(opt, "redial_after") == 0) return parse_number(value, &sc->redial_after);
    if (strcmp(opt, "vpn") == 0 && parse_number(value, &flag)) { sc->vpn = flag != 0; return TRUE; }
    if (strcmp(opt, "wide") == 0 && parse_number(value, &flag)) { sc->wide = flag != 0; return TRUE; }
    if (strcmp(opt, "ikev2") == 0 && parse_number(value, &flag)) { sc->ikev2 = sc->vpn = flag != 0; return TRUE; }
    if (strcmp(opt, "spawn") == 0) return parse_number(value, &sc->spawn);
    if (strcmp(opt, "life") == 0) return parse_number(value, &sc->life);
    return FALSE;
}

/* Is `name` (a keyword) one of the comma-separated RAS_DOUBLE_ENTRIES? */
static BOOL is_extra_entry(const char *name)
{
    char list[sizeof(extra_entries)], *save = NULL;
    WideCharToMultiByte(CP_UTF8, 0, extra_entries, -1, list, sizeof(list), NULL, NULL);
    for (char *item = strtok_r(list, ",", &save); item; item = strtok_r(NULL, ",", &save))
        if (strcmp(item, name) == 0)
            return TRUE;
    return FALSE;
}

/* Fill *sc from an entry name; FALSE for an unknown keyword or option.
 * any_name accepts every keyword as "ok" (foreign connections). */
static BOOL parse_scenario(const WCHAR *entry, scenario *sc, BOOL any_name)
{
    char text[4 * (RAS_MaxEntryName + 1)], *save = NULL;
    if (!WideCharToMultiByte(CP_UTF8, 0, entry, -1, text, sizeof(text), NULL, NULL))
        return FALSE;
    memset(sc, 0, sizeof(*sc));
    sc->step = DEFAULT_STEP_MS;
    sc->late = default_late;
    sc->fail_at = -1;
    sc->hold_at = -1;
    sc->extra = -1;
    char *keyword = strtok_r(text, ";", &save);
    BOOL known = any_name || (keyword && is_extra_entry(keyword));
    for (size_t i = 0; keyword && i < COUNT(keywords); i++) {
        if (strcmp(keyword, keywords[i].name) == 0) {
            sc->kind = keywords[i].kind;
            sc->fail_at = keywords[i].fail_at;
            sc->error = keywords[i].error;
            known = TRUE;
        }
    }
    if (!known)
        return FALSE;
    for (char *opt = strtok_r(NULL, ";", &save); opt; opt = strtok_r(NULL, ";", &save))
        if (!parse_option(opt, sc))
            return FALSE;
    if (sc->error && sc->fail_at < 0)
        sc->fail_at = RASCS_ConnectDevice;
    if (sc->fail_at >= 0 && !sc->error)
        sc->error = DEFAULT_FAIL_ERROR;
    return TRUE;
}

/* The next non-empty item of a comma-separated list, cut in place; NULL at the end. */
static WCHAR *next_item(WCHAR **cursor)
{
    while (*cursor && **cursor) {
        WCHAR *item = *cursor, *comma = wcschr(item, L',');
        *cursor = comma ? comma + 1 : NULL;
        if (comma)
            *comma = L'\0';
        if (*item)
            return item;
    }
    return NULL;
}

/* ---- connection bookkeeping (lock held) --------------------------------- */

static BOOL expired(const conn *c)
{
    return c->hung_up && GetTickCount() - c->hangup_tick >= c->sc.hangup_delay;
}

static void forget_told(HRASCONN h)
{
    for (unsigned i = 0; i < n_told; i++)
        if (told_invalid[i] == h)
            told_invalid[i] = told_invalid[--n_told];
}

/* The answer for a handle with no connection: remembered, so that a caller
 * who goes on using it is caught. */
static DWORD invalid_handle(HRASCONN h, const char *api)
{
    for (unsigned i = 0; i < n_told; i++) {
        if (told_invalid[i] == h) {
            char what[120];
            snprintf(what, sizeof(what), "%s on handle %p after it was reported invalid",
                     api, (void *)h);
            violation(what);
            return ERROR_INVALID_HANDLE;
        }
    }
    if (n_told < MAX_TOLD)
        told_invalid[n_told++] = h;
    return ERROR_INVALID_HANDLE;
}

/* The connection a handle value stands for now: not hung up, or within
 * hangup_delay. Expired records may linger (a late notification is due)
 * beside a new connection that was given the same value. */
static conn *find_live(HRASCONN h)
{
    for (conn *c = conns; c; c = c->next)
        if (c->handle == h && !expired(c))
            return c;
    return NULL;
}

static void drop_registrations_of(const conn *c)
{
    for (registration **p = &registrations; *p;) {
        registration *r = *p;
        if (r->target == c) {
            *p = r->next;
            CloseHandle(r->event);
            free(r);
        } else {
            p = &r->next;
        }
    }
}

/* Free connections that are gone for good and whose thread has ended. */
static void sweep(void)
{
    for (conn **p = &conns; *p;) {
        conn *c = *p;
        BOOL thread_over = !c->thread || WaitForSingleObject(c->thread, 0) == WAIT_OBJECT_0;
        if (expired(c) && thread_over) {
            *p = c->next;
            if (c->thread)
                CloseHandle(c->thread);
            drop_registrations_of(c);
            free(c);
        } else {
            p = &c->next;
        }
    }
}

static void signal_event(const conn *c, DWORD flag)
{
    /* Windows 11 (DotRas issue 105): connections and disconnections are
     * told only for the first connection the process dialled. */
    if (win11 && !c->first_of_process)
        return;
    for (registration *r = registrations; r; r = r->next)
        if ((!r->target || r->target == c) && (r->flags & flag))
            SetEvent(r->event);
}

/* The lowest handle value no connection holds: Windows gives a torn-down
 * connection's value to the next one. The offset keeps it clear of NULL. */
static HRASCONN free_handle(void)
{
    for (ULONG_PTR k = 1;; k++) {
        HRASCONN h = (HRASCONN)(0x5A0000 + 0x10 * k);
        if (!find_live(h))
            return h;
    }
}

static conn *new_conn(const WCHAR *entry, const scenario *sc)
{
    conn *c = calloc(1, sizeof(*c));
    if (!c)
        return NULL;
    c->handle = free_handle();
    forget_told(c->handle);
    c->correlation.Data1 = (DWORD)++correlation_counter;
    c->correlation.Data2 = 0x5A5A;
    wcsncpy(c->entry, entry, RAS_MaxEntryName);
    c->sc = *sc;
    c->pending = RASCS_OpenPort;
    InitializeConditionVariable(&c->cv);
    c->next = conns;
    conns = c;
    return c;
}

/* redial_after: the connection's program hangs it up and dials the same
 * entry again at once; the new connection is given the lowest free value,
 * which is this one's. */
static void redial(conn *c)
{
    EnterCriticalSection(&lock);
    if (c->hung_up) {
        LeaveCriticalSection(&lock);
        return;
    }
    scenario sc = c->sc;
    c->hung_up = TRUE;
    c->hangup_tick = GetTickCount();
    c->sc.hangup_delay = 0;
    c->state = RASCS_Disconnected;
    signal_event(c, RASCN_Disconnection);
    sc.redial_after = 0;
    conn *again = new_conn(c->entry, &sc);
    if (again) {
        again->state = RASCS_Connected;
        again->connected_tick = GetTickCount();
        again->started = again->first_done = again->dial_done = TRUE;
    }
    LeaveCriticalSection(&lock);
}

static DWORD WINAPI foreign_redial(void *arg)
{
    conn *c = arg;
    Sleep(c->sc.redial_after);
    redial(c);
    return 0;
}

/* life=MS: the connection's program hangs it up after MS. */
static DWORD WINAPI foreign_life(void *arg)
{
    conn *c = arg;
    Sleep(c->sc.life);
    EnterCriticalSection(&lock);
    if (!c->hung_up) {
        c->hung_up = TRUE;
        c->hangup_tick = GetTickCount();
        c->sc.hangup_delay = 0;
        c->state = RASCS_Disconnected;
        signal_event(c, RASCN_Disconnection);
    }
    LeaveCriticalSection(&lock);
    return 0;
}

/* A connection made elsewhere: already Connected, no dial thread.
 * "Name;options": the options shape it, the name is listed. (lock held,
 * or at load) */
static conn *add_foreign(const WCHAR *spec)
{
    scenario sc;
    WCHAR name[RAS_MaxEntryName + 1];
    if (!parse_scenario(spec, &sc, TRUE))
        return NULL;
    wcsncpy(name, spec, RAS_MaxEntryName);
    name[RAS_MaxEntryName] = L'\0';
    name[wcscspn(name, L";")] = L'\0';
    conn *c = new_conn(name, &sc);
    if (!c)
        return NULL;
    c->state = RASCS_Connected;
    c->connected_tick = GetTickCount();
    c->started = c->first_done = c->dial_done = TRUE;
    if (sc.redial_after)
        c->thread = CreateThread(NULL, 0, foreign_redial, c, 0, NULL);
    else if (sc.life)
        c->thread = CreateThread(NULL, 0, foreign_life, c, 0, NULL);
    return c;
}

static void unescape(WCHAR *s);
static void resolve_saved_password(const WCHAR *phonebook, RASDIALPARAMSW *p);
static BOOL has_saved_credentials(const WCHAR *phonebook, const WCHAR *name);
typedef struct stored stored;
static stored **find_stored(const WCHAR *phonebook, const WCHAR *name);

/* ---- the dial thread ------------------------------------------------------ */

static DWORD deliver(conn *c, RASCONNSTATE st, DWORD err)
{
    switch (c->notifier_type) {
    case 0:
        ((RASDIALFUNC)c->notifier)(WM_RASDIALEVENT, st, err);
        return 1;
    case 1:
        ((RASDIALFUNC1)c->notifier)(c->handle, WM_RASDIALEVENT, st, err, 0);
        return 1;
    case 2:
        return ((RASDIALFUNC2)c->notifier)(c->params.dwCallbackId, c->params.dwSubEntry,
                                            c->handle, WM_RASDIALEVENT, st, err, 0);
    default: {
        /* A window: posted, since a sent message would block on its thread. */
        UINT msg = RegisterWindowMessageA(RASDIALEVENT);
        PostMessageW((HWND)c->notifier, msg ? msg : WM_RASDIALEVENT, st, err);
        return 1;
    }
    }
}

typedef struct {
    conn *c;
    RASCONNSTATE st;
    DWORD err, keep;
} notification;

static DWORD WINAPI notification_thread(void *arg)
{
    notification *n = arg;
    EnterCriticalSection(&lock);
    n->c->callback_thread = GetCurrentThreadId();
    LeaveCriticalSection(&lock);
    n->keep = deliver(n->c, n->st, n->err);
    return 0;
}

/* Calls the notifier on a thread of its own and waits for it: dialling is
 * suspended while the notifier runs. Returns its answer (0: stop). */
static DWORD deliver_on_new_thread(conn *c, RASCONNSTATE st, DWORD err)
{
    notification n = {.c = c, .st = st, .err = err, .keep = 1};
    HANDLE t = CreateThread(NULL, 0, notification_thread, &n, 0, NULL);
    if (!t)
        return deliver(c, st, err); /* no thread to be had: this one */
    WaitForSingleObject(t, INFINITE);
    CloseHandle(t);
    return n.keep;
}

/* Enter a state and tell the notifier; FALSE once hung up. `pause` marks a
 * paused state before the notifier hears of it, so a resume can follow at once. */
static BOOL notify(conn *c, RASCONNSTATE st, DWORD err, BOOL pause)
{
    EnterCriticalSection(&lock);
    BOOL go = !c->hung_up;
    BOOL call = go && !c->quiet && c->notifier;
    if (go) {
        c->state = st;
        c->error = err;
        c->paused = pause;
        c->in_callback = call;
        c->finished = err != 0 || st == RASCS_Connected;
        if (st == RASCS_Connected) {
            c->connected_tick = GetTickCount();
            signal_event(c, RASCN_Connection);
        }
    }
    LeaveCriticalSection(&lock);
    DWORD keep = call ? deliver_on_new_thread(c, st, err) : 1;
    EnterCriticalSection(&lock);
    c->in_callback = FALSE;
    c->first_done = TRUE;
    if (!keep)
        c->quiet = TRUE;
    WakeAllConditionVariable(&c->cv);
    LeaveCriticalSection(&lock);
    return go;
}

/* The hang-up's own processing: a dial that had not ended hears once more,
 * `late` ms after RasHangUpW returned, of the state it was about to report. */
static void notify_late(conn *c)
{
    EnterCriticalSection(&lock);
    BOOL call = c->hung_up && !c->finished && !c->quiet && c->notifier && c->sc.late;
    RASCONNSTATE st = c->pending;
    DWORD late = c->sc.late;
    LeaveCriticalSection(&lock);
    if (!call)
        return;
    Sleep(late);
    deliver_on_new_thread(c, st, 0);
}

/* Wait up to ms, or until hung up; FALSE if hung up. */
static BOOL nap(conn *c, DWORD ms)
{
    DWORD start = GetTickCount();
    EnterCriticalSection(&lock);
    for (DWORD spent; !c->hung_up && (spent = GetTickCount() - start) < ms;)
        SleepConditionVariableCS(&c->cv, &lock, ms - spent);
    BOOL alive = !c->hung_up;
    LeaveCriticalSection(&lock);
    return alive;
}

/* hold_at: nothing more happens until the dial is hung up. */
static void hold(conn *c)
{
    EnterCriticalSection(&lock);
    while (!c->hung_up)
        SleepConditionVariableCS(&c->cv, &lock, INFINITE);
    LeaveCriticalSection(&lock);
}

/* One step of the dial; FALSE when the dial is over (error or hang-up). */
static BOOL advance(conn *c, RASCONNSTATE st)
{
    DWORD err = (int)st == c->sc.fail_at ? c->sc.error : 0;
    c->pending = st;
    if (!nap(c, c->sc.step) || !notify(c, st, err, FALSE))
        return FALSE;
    if (err == 0 && (int)st == c->sc.hold_at) {
        hold(c);
        return FALSE;
    }
    return err == 0;
}

static BOOL fail(conn *c, RASCONNSTATE st, DWORD err)
{
    c->pending = st;
    if (nap(c, c->sc.step))
        notify(c, st, err, FALSE);
    return FALSE;
}

/* Report a paused state and wait for RasDialW to resume; FALSE if hung up. */
static BOOL pause_in(conn *c, RASCONNSTATE st)
{
    c->pending = st;
    if (!nap(c, c->sc.step) || !notify(c, st, 0, TRUE))
        return FALSE;
    EnterCriticalSection(&lock);
    while (c->paused && !c->hung_up)
        SleepConditionVariableCS(&c->cv, &lock, INFINITE);
    BOOL alive = !c->hung_up;
    LeaveCriticalSection(&lock);
    return alive;
}

/* Reads of c->params race with nothing: RasDialW only replaces them while paused. */
static BOOL credentials_right(const conn *c)
{
    return wcscmp(c->params.szUserName, AUTH_USER) == 0 &&
           wcscmp(c->params.szPassword, AUTH_PASSWORD) == 0;
}

static BOOL authenticate(conn *c)
{
    if (!advance(c, RASCS_Authenticate))
        return FALSE;
    if (c->sc.kind == K_AUTHFAIL) {
        while (!credentials_right(c)) {
            if (!c->paused_states)
                return fail(c, RASCS_AuthNotify, ERROR_AUTHENTICATION_FAILURE);
            if (!pause_in(c, RASCS_RetryAuthentication) || !advance(c, RASCS_Authenticate))
                return FALSE;
        }
    }
    if (c->sc.kind == K_EXPIRED) {
        if (!c->paused_states)
            return fail(c, RASCS_AuthNotify, ERROR_PASSWD_EXPIRED);
        /* RASDIALPARAMSW has no new-password field: a changed szPassword is the new one. */
        do {
            if (!pause_in(c, RASCS_PasswordExpired))
                return FALSE;
        } while (wcscmp(c->params.szPassword, c->first_password) == 0);
        if (!advance(c, RASCS_AuthChangePassword))
            return FALSE;
    }
    return advance(c, RASCS_AuthNotify) && advance(c, RASCS_Authenticated);
}

/* The server asks for a number (AuthCallback); one given at dial time
 * answers it, else the caller is asked in CallbackSetByCaller and the
 * question comes again after each resume. */
static BOOL call_back(conn *c)
{
    if (!advance(c, RASCS_AuthCallback))
        return FALSE;
    while (c->params.szCallbackNumber[0] == L'\0') {
        if (!c->paused_states)
            return fail(c, RASCS_AuthCallback, ERROR_INTERACTIVE_MODE);
        if (!pause_in(c, RASCS_CallbackSetByCaller) || !advance(c, RASCS_AuthCallback))
            return FALSE;
    }
    return advance(c, RASCS_PrepareForCallback) && advance(c, RASCS_WaitForModemReset) &&
           advance(c, RASCS_WaitForCallback) && advance(c, RASCS_CallbackComplete);
}

static BOOL run_dial(conn *c)
{
    static const RASCONNSTATE link[] = {
        RASCS_OpenPort, RASCS_PortOpened, RASCS_ConnectDevice,
        RASCS_DeviceConnected, RASCS_AllDevicesConnected,
    };
    for (size_t i = 0; i < COUNT(link); i++)
        if (!advance(c, link[i]))
            return FALSE;
    if (c->sc.extra >= 0 && !advance(c, (RASCONNSTATE)c->sc.extra))
        return FALSE;
    if (!authenticate(c))
        return FALSE;
    if (c->sc.kind == K_CALLBACK && !call_back(c))
        return FALSE;
    return advance(c, RASCS_AuthProject) && advance(c, RASCS_Projected) &&
           advance(c, RASCS_Connected);
}

/* The link drops drop_after ms after Connected, unless hung up first. */
static void watch_link(conn *c)
{
    if (c->sc.redial_after && nap(c, c->sc.redial_after))
        redial(c);
    if (!c->sc.drop_after || !nap(c, c->sc.drop_after))
        return;
    EnterCriticalSection(&lock);
    if (!c->hung_up) {
        c->state = RASCS_Disconnected;
        c->error = ERROR_REMOTE_DISCONNECTION;
        c->dropped = TRUE;
        signal_event(c, RASCN_Disconnection);
    }
    LeaveCriticalSection(&lock);
}

/* spawn=1: another program brings a connection up as this one connects,
 * and (life=MS) takes it down again. */
static void spawn_foreign(conn *c)
{
    static unsigned long spawned;
    WCHAR spec[64];
    EnterCriticalSection(&lock);
    swprintf(spec, 64, L"Spawned%lu;life=%lu", ++spawned, (unsigned long)c->sc.life);
    conn *f = add_foreign(spec);
    if (f)
        signal_event(f, RASCN_Connection);
    LeaveCriticalSection(&lock);
}

static DWORD WINAPI dial_thread(void *arg)
{
    conn *c = arg;
    BOOL connected = run_dial(c);
    if (connected && c->sc.spawn)
        spawn_foreign(c);
    notify_late(c);
    EnterCriticalSection(&lock);
    c->dial_done = c->first_done = TRUE;
    WakeAllConditionVariable(&c->cv);
    LeaveCriticalSection(&lock);
    if (connected)
        watch_link(c);
    return 0;
}

/* ---- RasDialW --------------------------------------------------------------- */

/* Is the calling thread inside one of our notifiers? (lock held) */
static BOOL inside_notifier(void)
{
    for (conn *c = conns; c; c = c->next)
        if (c->in_callback && c->callback_thread == GetCurrentThreadId())
            return TRUE;
    return FALSE;
}

static void copy_params(conn *c, const RASDIALPARAMSW *p)
{
    memset(&c->params, 0, sizeof(c->params));
    memcpy(&c->params, p, p->dwSize < sizeof(*p) ? p->dwSize : sizeof(*p));
}

/* Continue a dial paused in a RASCS_PAUSED state with new parameters. (lock held) */
static DWORD resume(HRASCONN h, const WCHAR *phonebook, const RASDIALPARAMSW *p, DWORD type,
                    void *notifier)
{
    conn *c = find_live(h);
    if (!c)
        return invalid_handle(h, "RasDialW (resume)");
    if (c->hung_up)
        return ERROR_INVALID_HANDLE;
    if (!c->paused)
        return c->dial_done || c->finished ? ERROR_INVALID_PARAMETER
                                           : ERROR_DIAL_ALREADY_IN_PROGRESS;
    copy_params(c, p);
    resolve_saved_password(phonebook, &c->params);
    if (notifier) {
        c->notifier_type = type;
        c->notifier = notifier;
    }
    c->paused = FALSE;
    WakeAllConditionVariable(&c->cv);
    return 0;
}

/* Start a new dial; the thread runs it. With a notifier RasDialW returns
 * once the first notification has been delivered (Windows may deliver it
 * before the caller has the handle); without one, when the dial has ended. */
static DWORD start_dial(const RASDIALEXTENSIONS *ext, const WCHAR *phonebook,
                        const RASDIALPARAMSW *p, DWORD type, void *notifier, HRASCONN *out)
{
    scenario sc;
    /* An entry written with RasSetEntryPropertiesW dials as its keyword, or "ok". */
    if (!parse_scenario(p->szEntryName, &sc, *find_stored(phonebook, p->szEntryName) != NULL))
        return ERROR_CANNOT_FIND_PHONEBOOK_ENTRY;
    /* Saved credentials give the entry an account: user "user", password
     * "right", checked as authfail checks them. */
    if (sc.kind == K_OK && has_saved_credentials(phonebook, p->szEntryName))
        sc.kind = K_AUTHFAIL;
    conn *c = new_conn(p->szEntryName, &sc);
    if (!c)
        return ERROR_NOT_ENOUGH_MEMORY;
    copy_params(c, p);
    resolve_saved_password(phonebook, &c->params);
    wcscpy(c->first_password, c->params.szPassword);
    c->notifier_type = type;
    c->notifier = notifier;
    c->first_of_process = !dialled_any;
    dialled_any = TRUE;
    /* Without a notifier nobody could resume a pause: treated as errors then. */
    c->paused_states = notifier && ext && (ext->dwfOptions & RDEOPT_PausedStates);
    grow_connections += sc.grow_conns;
    grow_entries += sc.grow_entries;
    c->thread = CreateThread(NULL, 0, dial_thread, c, 0, NULL);
    if (!c->thread) {
        c->hung_up = TRUE; /* swept at once */
        return ERROR_NOT_ENOUGH_MEMORY;
    }
    while (notifier ? !c->first_done : !c->dial_done)
        SleepConditionVariableCS(&c->cv, &lock, INFINITE);
    *out = c->handle;
    c->started = TRUE;
    WakeAllConditionVariable(&c->cv);
    if (sc.dial_error) {
        /* An error, and a handle all the same: the caller must hang it up. */
        c->must_hang_up = TRUE;
        return sc.dial_error;
    }
    return notifier ? 0 : c->error;
}

DWORD WINAPI RasDialW(LPRASDIALEXTENSIONS ext, LPCWSTR phonebook, LPRASDIALPARAMSW params,
                      DWORD notifier_type, LPVOID notifier, LPHRASCONN out)
{
    if (!params || !out || (notifier && notifier_type > 2 && notifier_type != 0xFFFFFFFF))
        return ERROR_INVALID_PARAMETER;
    if ((ext && !ACCEPTS(extensions_layouts, ext->dwSize)) ||
        !ACCEPTS(dialparams_layouts, params->dwSize))
        return ERROR_INVALID_SIZE;
    EnterCriticalSection(&lock);
    sweep();
    DWORD rc;
    if (inside_notifier()) {
        violation("RasDialW called inside a notifier");
        rc = ERROR_INVALID_PARAMETER;
    } else if (*out) {
        rc = resume(*out, phonebook, params, notifier_type, notifier);
    } else {
        rc = start_dial(ext, phonebook, params, notifier_type, notifier, out);
    }
    LeaveCriticalSection(&lock);
    return rc;
}

/* ---- hang-up and status --------------------------------------------------- */

/* Returns at once: nothing waits for a running notifier, and a dial that had
 * not ended still hears from us once (notify_late). */
DWORD WINAPI RasHangUpW(HRASCONN h)
{
    DWORD rc = 0;
    EnterCriticalSection(&lock);
    sweep();
    conn *c = find_live(h);
    if (!c) {
        rc = invalid_handle(h, "RasHangUpW");
    } else if (!c->hung_up) {
        c->hung_up = TRUE;
        c->must_hang_up = FALSE;
        c->hangup_tick = GetTickCount();
        if (c->dropped) {
            /* The link is gone already: so is the connection. */
            c->sc.hangup_delay = 0;
            rc = ERROR_NO_CONNECTION;
        } else {
            c->state = RASCS_Disconnected;
            c->error = 0;
            signal_event(c, RASCN_Disconnection);
        }
        c->paused = FALSE;
        WakeAllConditionVariable(&c->cv);
    }
    LeaveCriticalSection(&lock);
    return rc;
}

static const WCHAR *device_of(const conn *c)
{
    if (c->sc.ikev2)
        return L"WAN Miniport (IKEv2)";
    return c->sc.vpn ? L"WAN Miniport (PPTP)" : L"Test Double Modem";
}

static void fill_status(const conn *c, RASCONNSTATUSW *st)
{
    RASCONNSTATUSW_WIN7 full;
    DWORD size = st->dwSize;
    memset(&full, 0, sizeof(full));
    full.v1.dwSize = size;
    full.v1.rasconnstate = c->state;
    full.v1.dwError = c->error;
    wcscpy(full.v1.szDeviceType, c->sc.vpn ? L"vpn" : L"modem");
    if (c->sc.wide) {
        for (int i = 0; i < RAS_MaxDeviceName; i++)
            full.v1.szDeviceName[i] = WIDE_CHAR;
    } else {
        wcscpy(full.v1.szDeviceName, device_of(c));
    }
    wcsncpy(full.v1.szPhoneNumber,
            c->params.szPhoneNumber[0] ? c->params.szPhoneNumber : L"5550100", RAS_MaxPhoneNumber);
    static const BYTE local[4] = {10, 0, 0, 2}, remote[4] = {10, 0, 0, 1};
    full.localEndPoint.dwType = RASTUNNELENDPOINT_IPv4;
    memcpy(&full.localEndPoint.ipv4, local, sizeof(local));
    full.remoteEndPoint.dwType = RASTUNNELENDPOINT_IPv4;
    memcpy(&full.remoteEndPoint.ipv4, remote, sizeof(remote));
    memcpy(st, &full, size); /* the caller's layout is a prefix of the newest */
}

DWORD WINAPI RasGetConnectStatusW(HRASCONN h, LPRASCONNSTATUSW status)
{
    if (!status)
        return ERROR_INVALID_PARAMETER;
    if (!ACCEPTS(status_layouts, status->dwSize))
        return ERROR_INVALID_SIZE;
    EnterCriticalSection(&lock);
    sweep();
    conn *c = find_live(h);
    DWORD rc = c ? 0 : invalid_handle(h, "RasGetConnectStatusW");
    if (c)
        fill_status(c, status);
    LeaveCriticalSection(&lock);
    return rc;
}

/* ---- enumerations ------------------------------------------------------------ */

/* The size protocol shared by both enumerations; 0 means "go on and fill". (lock held) */
static DWORD check_buffer(const void *buf, DWORD elem_size, DWORD count, DWORD *lpcb,
                          DWORD *lpcount, DWORD *grow, void (*grow_one)(void))
{
    if (!buf && *lpcb != 0)
        return ERROR_INVALID_PARAMETER;
    DWORD needed = count * elem_size;
    *lpcount = count;
    if (*lpcb >= needed)
        return 0;
    *lpcb = needed;
    if (*grow) {
        /* Deterministic growth between a size query and the retry. */
        (*grow)--;
        grow_one();
    }
    return ERROR_BUFFER_TOO_SMALL;
}

static void grow_a_connection(void)
{
    static unsigned long grown;
    WCHAR name[32];
    swprintf(name, 32, L"Grown%lu", ++grown);
    add_foreign(name);
}

static DWORD live_count(void)
{
    DWORD n = 0;
    for (conn *c = conns; c; c = c->next)
        n += !c->hung_up;
    return n;
}

static void fill_conn(const conn *c, RASCONNW *out, DWORD size)
{
    RASCONNW_VISTA full;
    memset(&full, 0, sizeof(full));
    full.xp.dwSize = size;
    full.xp.hrasconn = c->handle;
    wcsncpy(full.xp.szEntryName, c->entry, RAS_MaxEntryName);
    wcscpy(full.xp.szDeviceType, c->sc.vpn ? L"vpn" : L"modem");
    wcscpy(full.xp.szDeviceName, device_of(c));
    wcscpy(full.xp.szPhonebook, default_phonebook);
    full.xp.luid.LowPart = 0x3E7; /* the logon session: the same for every connection */
    full.guidCorrelationId = c->correlation;
    memcpy(out, &full, size);
}

DWORD WINAPI RasEnumConnectionsW(LPRASCONNW buf, LPDWORD lpcb, LPDWORD lpcount)
{
    if (!lpcb || !lpcount)
        return ERROR_INVALID_PARAMETER;
    DWORD size = buf ? buf->dwSize : sizeof(RASCONNW);
    if (!ACCEPTS(conn_layouts, size))
        return ERROR_INVALID_SIZE;
    EnterCriticalSection(&lock);
    sweep();
    DWORD count = live_count();
    DWORD rc = count ? check_buffer(buf, size, count, lpcb, lpcount, &grow_connections,
                                    grow_a_connection) : 0;
    if (rc == 0) {
        /* conns is newest first; list the oldest first, as dialled. */
        DWORD i = count;
        for (conn *c = conns; c; c = c->next)
            if (!c->hung_up)
                fill_conn(c, (RASCONNW *)((BYTE *)buf + --i * size), size);
        *lpcb = count * size;
        *lpcount = count;
    }
    LeaveCriticalSection(&lock);
    return rc;
}

static void grow_an_entry(void)
{
    extra_entries_grown++;
}

/* Entry i of: the keywords, then RAS_DOUBLE_ENTRIES, then the grown ones. */
static DWORD entry_names(WCHAR names[][RAS_MaxEntryName + 1], DWORD max)
{
    DWORD n = 0;
    for (size_t i = 0; i < COUNT(keywords) && n < max; i++)
        MultiByteToWideChar(CP_UTF8, 0, keywords[i].name, -1, names[n++], RAS_MaxEntryName + 1);
    WCHAR list[COUNT(extra_entries)], *cursor = list;
    wcscpy(list, extra_entries);
    for (WCHAR *item; n < max && (item = next_item(&cursor));)
        wcsncpy(names[n++], item, RAS_MaxEntryName);
    for (DWORD i = 1; i <= extra_entries_grown && n < max; i++)
        swprintf(names[n++], RAS_MaxEntryName + 1, L"Grown%lu", (unsigned long)i);
    return n;
}

#define MAX_ENTRIES 64

static DWORD stored_names(const WCHAR *phonebook, WCHAR names[][RAS_MaxEntryName + 1], DWORD max);

DWORD WINAPI RasEnumEntriesW(LPCWSTR reserved, LPCWSTR phonebook, LPRASENTRYNAMEW buf,
                             LPDWORD lpcb, LPDWORD lpcount)
{
    static WCHAR names[MAX_ENTRIES][RAS_MaxEntryName + 1]; /* used under the lock */
    if (reserved || !lpcb || !lpcount)
        return ERROR_INVALID_PARAMETER;
    DWORD size = buf ? buf->dwSize : sizeof(RASENTRYNAMEW);
    if (!ACCEPTS(entryname_layouts, size))
        return ERROR_INVALID_SIZE;
    EnterCriticalSection(&lock);
    DWORD count = entry_names(names, MAX_ENTRIES);
    count += stored_names(phonebook, names + count, MAX_ENTRIES - count);
    DWORD rc = check_buffer(buf, size, count, lpcb, lpcount, &grow_entries, grow_an_entry);
    for (DWORD i = 0; rc == 0 && i < count; i++) {
        RASENTRYNAMEW full;
        memset(&full, 0, sizeof(full));
        full.dwSize = size;
        wcscpy(full.szEntryName, names[i]);
        full.dwFlags = REN_User;
        wcsncpy(full.szPhonebookPath, phonebook ? phonebook : default_phonebook, MAX_PATH);
        memcpy((BYTE *)buf + i * size, &full, size);
    }
    if (rc == 0)
        *lpcb = count * size;
    LeaveCriticalSection(&lock);
    return rc;
}

/* ---- phone-book entries and saved credentials ------------------------------ */

#ifndef RAS_MaxIDSize
#define RAS_MaxIDSize 256
#endif
#ifndef ERROR_PROJECTION_NOT_COMPLETE
#define ERROR_PROJECTION_NOT_COMPLETE 730
#endif

/* RASENTRYW as Windows 10 declares it; mingw's stops at dwRedialPause (XP). */
#include <pshpack4.h>
typedef struct {
    RASENTRYW xp;
    BYTE ipv6addrDns[16], ipv6addrDnsAlt[16];   /* Vista */
    DWORD dwIPv4InterfaceMetric, dwIPv6InterfaceMetric;
    BYTE ipv6addr[16];                           /* Windows 7 */
    DWORD dwIPv6PrefixLength, dwNetworkOutageTime;
    WCHAR szIDi[RAS_MaxIDSize + 1], szIDr[RAS_MaxIDSize + 1];   /* Windows 10 */
    BOOL fIsImsConfig;
    DWORD IdiType, IdrType;
    BOOL fDisableIKEv2Fragmentation;
} RASENTRYW_WIN10;
#include <poppack.h>

static const layout entry_layouts[] = {
    {0x400, ROUND4(offsetof(RASENTRYW, dwSubEntries))},
    {0x401, ROUND4(offsetof(RASENTRYW, dwType))},
    {0x500, ROUND4(offsetof(RASENTRYW, dwfOptions2))},
    {0x501, sizeof(RASENTRYW)},
    {0x600, offsetof(RASENTRYW_WIN10, ipv6addr)},
    {0x601, offsetof(RASENTRYW_WIN10, szIDi)},
    {0xA00, sizeof(RASENTRYW_WIN10)},
};

/* The newest RASENTRYW this Windows has. */
static DWORD newest_entry_size(void)
{
    DWORD size = 0;
    for (size_t i = 0; i < COUNT(entry_layouts); i++)
        if (entry_layouts[i].winver <= winver)
            size = (DWORD)entry_layouts[i].size;
    return size;
}

/* An entry written with RasSetEntryPropertiesW, in the phonebook it was
 * written to. The built-in entries (the keywords, RAS_DOUBLE_ENTRIES and
 * the grown ones) are in every phonebook and cannot be changed
 * (ERROR_ACCESS_DENIED): they are the system's. */
struct stored {
    struct stored *next;
    WCHAR phonebook[MAX_PATH + 1];
    WCHAR name[RAS_MaxEntryName + 1];
    RASENTRYW_WIN10 props;
    BYTE *devinfo;
    DWORD ndevinfo;
    WCHAR user[UNLEN + 1], password[PWLEN + 1], domain[DNLEN + 1], psk[PWLEN + 1];
    BOOL has_password, has_psk;
    unsigned long serial;      /* what its password handles are made of */
};

static stored *store;          /* oldest first */
static unsigned long store_serial;

static const WCHAR *book(const WCHAR *phonebook)
{
    return phonebook && *phonebook ? phonebook : default_phonebook;
}

/* Entry names compare as Windows compares them: without case. */
static stored **find_stored(const WCHAR *phonebook, const WCHAR *name)
{
    stored **p = &store;
    for (; *p; p = &(*p)->next)
        if (_wcsicmp((*p)->phonebook, book(phonebook)) == 0 && _wcsicmp((*p)->name, name) == 0)
            break;
    return p;
}

static BOOL builtin_entry(const WCHAR *name)
{
    static WCHAR names[MAX_ENTRIES][RAS_MaxEntryName + 1];
    DWORD n = entry_names(names, MAX_ENTRIES);
    for (DWORD i = 0; i < n; i++)
        if (_wcsicmp(names[i], name) == 0)
            return TRUE;
    return FALSE;
}

/* An entry that exists without being written: a built-in one, or any
 * name that picks a scenario ("ok;step=2"). Writing to one (properties,
 * credentials) makes a stored copy; it cannot be renamed or deleted. */
static BOOL virtual_entry(const WCHAR *name)
{
    scenario sc;
    return builtin_entry(name) || parse_scenario(name, &sc, FALSE);
}

/* What this double takes for a name: 1 to 256 units, no control
 * character, none of \ / : * ? " < > |, not starting with a dot. */
static BOOL valid_name(const WCHAR *name)
{
    size_t len = name ? wcslen(name) : 0;
    if (len == 0 || len > RAS_MaxEntryName || name[0] == L'.')
        return FALSE;
    for (; *name; name++)
        if (*name < 0x20 || *name == 0x7F || wcschr(L"\\/:*?\"<>|", *name))
            return FALSE;
    return TRUE;
}

/* A built-in entry as RasGetEntryPropertiesW shows it: a modem. */
static void builtin_props(RASENTRYW_WIN10 *e)
{
    memset(e, 0, sizeof(*e));
    e->xp.dwfOptions = RASEO_RemoteDefaultGateway;
    wcscpy(e->xp.szLocalPhoneNumber, L"5550100");
    e->xp.dwfNetProtocols = RASNP_Ip;
    e->xp.dwFramingProtocol = RASFP_Ppp;
    wcscpy(e->xp.szDeviceType, L"modem");
    wcscpy(e->xp.szDeviceName, L"Test Double Modem");
    e->xp.dwType = RASET_Phone;
}

static void wipe(void *p, size_t n)
{
    SecureZeroMemory(p, n);
}

static void free_stored(stored *st)
{
    free(st->devinfo);
    wipe(st, sizeof(*st));
    free(st);
}

DWORD WINAPI RasGetEntryPropertiesW(LPCWSTR phonebook, LPCWSTR name, LPRASENTRYW entry,
                                    LPDWORD cb, LPBYTE devinfo, LPDWORD cbdev)
{
    if (!cb || !name)
        return ERROR_INVALID_PARAMETER;
    /* No structure: the sizes this Windows wants (name may be "": the default entry). */
    DWORD newest = newest_entry_size();
    if (!entry) {
        *cb = newest;
        if (cbdev)
            *cbdev = 0;
        return ERROR_BUFFER_TOO_SMALL;
    }
    if (!ACCEPTS(entry_layouts, entry->dwSize))
        return ERROR_INVALID_SIZE;
    if (*cb < entry->dwSize) {
        *cb = entry->dwSize;
        return ERROR_BUFFER_TOO_SMALL;
    }
    EnterCriticalSection(&lock);
    RASENTRYW_WIN10 full;
    DWORD rc = 0, ndev = 0;
    stored *st = *find_stored(phonebook, name);
    if (st) {
        full = st->props;
        ndev = st->ndevinfo;
    } else if (virtual_entry(name)) {
        builtin_props(&full);
    } else {
        rc = ERROR_CANNOT_FIND_PHONEBOOK_ENTRY;
    }
    if (rc == 0 && ndev && (!devinfo || !cbdev || *cbdev < ndev)) {
        /* The device-specific part does not fit: both sizes, nothing filled. */
        if (cbdev)
            *cbdev = ndev;
        *cb = entry->dwSize;
        rc = ERROR_BUFFER_TOO_SMALL;
    }
    if (rc == 0) {
        DWORD size = entry->dwSize;
        full.xp.dwSize = size;
        memcpy(entry, &full, size);
        if (ndev)
            memcpy(devinfo, st->devinfo, ndev);
        if (cbdev)
            *cbdev = ndev;
    }
    LeaveCriticalSection(&lock);
    return rc;
}

static stored *new_stored(const WCHAR *phonebook, const WCHAR *name)
{
    stored *st = calloc(1, sizeof(*st));
    if (!st)
        return NULL;
    wcsncpy(st->phonebook, book(phonebook), MAX_PATH);
    wcsncpy(st->name, name, RAS_MaxEntryName);
    st->serial = ++store_serial;
    stored **tail = &store;
    while (*tail)
        tail = &(*tail)->next;
    *tail = st;
    return st;
}

/* Writes an entry, new or not. Strict about what Windows requires: a
 * device, PPP framing. Writing over an entry without the device-specific
 * data it has drops that data (Windows' documented behaviour); the backend
 * must read and pass it back, so the double reports it. */
DWORD WINAPI RasSetEntryPropertiesW(LPCWSTR phonebook, LPCWSTR name, LPRASENTRYW entry,
                                    DWORD cb, LPBYTE devinfo, DWORD cbdev)
{
    if (!entry || !name)
        return ERROR_INVALID_PARAMETER;
    if (!ACCEPTS(entry_layouts, entry->dwSize))
        return ERROR_INVALID_SIZE;
    if (cb < entry->dwSize || (cbdev && !devinfo))
        return ERROR_INVALID_PARAMETER;
    if (!valid_name(name))
        return ERROR_INVALID_NAME;
    if (!entry->szDeviceType[0] || !entry->szDeviceName[0])
        return ERROR_INVALID_PARAMETER;
    EnterCriticalSection(&lock);
    DWORD rc = 0;
    stored *st = *find_stored(phonebook, name);
    if (!st && !(st = new_stored(phonebook, name)))
        rc = ERROR_NOT_ENOUGH_MEMORY;
    BYTE *copy = NULL;
    if (rc == 0 && cbdev && !(copy = malloc(cbdev)))
        rc = ERROR_NOT_ENOUGH_MEMORY;
    if (rc == 0) {
        if (st->ndevinfo && (cbdev != st->ndevinfo || memcmp(devinfo, st->devinfo, cbdev) != 0))
            violation("RasSetEntryPropertiesW dropped or changed the device-specific data");
        /* The fields an older layout lacks keep their values. */
        memcpy(&st->props, entry, entry->dwSize);
        st->props.xp.dwSize = sizeof(st->props);
        if (cbdev)
            memcpy(copy, devinfo, cbdev);
        free(st->devinfo);
        st->devinfo = copy;
        st->ndevinfo = cbdev;
    }
    LeaveCriticalSection(&lock);
    return rc;
}

DWORD WINAPI RasValidateEntryNameW(LPCWSTR phonebook, LPCWSTR name)
{
    if (!valid_name(name))
        return ERROR_INVALID_NAME;
    EnterCriticalSection(&lock);
    BOOL exists = *find_stored(phonebook, name) || virtual_entry(name);
    LeaveCriticalSection(&lock);
    return exists ? ERROR_ALREADY_EXISTS : 0;
}

DWORD WINAPI RasRenameEntryW(LPCWSTR phonebook, LPCWSTR old_name, LPCWSTR new_name)
{
    if (!old_name || !new_name)
        return ERROR_INVALID_PARAMETER;
    EnterCriticalSection(&lock);
    DWORD rc = 0;
    stored *st = *find_stored(phonebook, old_name);
    if (!st)
        rc = virtual_entry(old_name) ? ERROR_ACCESS_DENIED : ERROR_CANNOT_FIND_PHONEBOOK_ENTRY;
    else if (!valid_name(new_name))
        rc = ERROR_INVALID_NAME;
    else if (_wcsicmp(old_name, new_name) != 0 &&
             (*find_stored(phonebook, new_name) || virtual_entry(new_name)))
        rc = ERROR_ALREADY_EXISTS;
    else
        wcscpy(st->name, new_name);   /* its saved credentials go with it */
    LeaveCriticalSection(&lock);
    return rc;
}

DWORD WINAPI RasDeleteEntryW(LPCWSTR phonebook, LPCWSTR name)
{
    if (!name)
        return ERROR_INVALID_PARAMETER;
    EnterCriticalSection(&lock);
    DWORD rc = 0;
    stored **p = find_stored(phonebook, name);
    if (*p) {
        stored *st = *p;
        *p = st->next;
        free_stored(st);
    } else {
        rc = virtual_entry(name) ? ERROR_ACCESS_DENIED : ERROR_CANNOT_FIND_PHONEBOOK_ENTRY;
    }
    LeaveCriticalSection(&lock);
    return rc;
}

/* The names of the entries written to a phonebook, oldest first. (lock held) */
static DWORD stored_names(const WCHAR *phonebook, WCHAR names[][RAS_MaxEntryName + 1], DWORD max)
{
    DWORD n = 0;
    for (stored *st = store; st && n < max; st = st->next)
        if (_wcsicmp(st->phonebook, book(phonebook)) == 0 && !builtin_entry(st->name))
            wcscpy(names[n++], st->name);
    return n;
}

/* The handle RasGetCredentialsW gives for a saved secret: never the secret. */
static void secret_handle(const stored *st, BOOL psk, WCHAR *out)
{
    swprintf(out, PWLEN + 1, L"\x01RasDoubleSaved%s#%lu", psk ? L"Psk" : L"Password", st->serial);
}

#define CRED_MASKS (RASCM_UserName | RASCM_Password | RASCM_Domain | RASCM_PreSharedKey)

DWORD WINAPI RasGetCredentialsW(LPCWSTR phonebook, LPCWSTR name, LPRASCREDENTIALSW cred)
{
    if (!name || !cred)
        return ERROR_INVALID_PARAMETER;
    if (cred->dwSize != sizeof(*cred))
        return ERROR_INVALID_SIZE;
    /* The password and the key share szPassword: one of them a call. */
    if ((cred->dwMask & RASCM_Password) && (cred->dwMask & RASCM_PreSharedKey))
        return ERROR_INVALID_PARAMETER;
    EnterCriticalSection(&lock);
    DWORD rc = 0, asked = cred->dwMask;
    stored *st = *find_stored(phonebook, name);
    memset(cred->szUserName, 0, sizeof(cred->szUserName));
    memset(cred->szPassword, 0, sizeof(cred->szPassword));
    memset(cred->szDomain, 0, sizeof(cred->szDomain));
    cred->dwMask = 0;
    if (!st) {
        rc = virtual_entry(name) ? 0 : ERROR_CANNOT_FIND_PHONEBOOK_ENTRY;
    } else {
        if ((asked & RASCM_UserName) && st->user[0]) {
            wcscpy(cred->szUserName, st->user);
            cred->dwMask |= RASCM_UserName;
        }
        if ((asked & RASCM_Domain) && st->domain[0]) {
            wcscpy(cred->szDomain, st->domain);
            cred->dwMask |= RASCM_Domain;
        }
        if ((asked & RASCM_Password) && st->has_password) {
            secret_handle(st, FALSE, cred->szPassword);
            cred->dwMask |= RASCM_Password;
        }
        if ((asked & RASCM_PreSharedKey) && st->has_psk) {
            secret_handle(st, TRUE, cred->szPassword);
            cred->dwMask |= RASCM_PreSharedKey;
        }
    }
    LeaveCriticalSection(&lock);
    return rc;
}

DWORD WINAPI RasSetCredentialsW(LPCWSTR phonebook, LPCWSTR name, LPRASCREDENTIALSW cred,
                                BOOL clear)
{
    if (!name || !cred)
        return ERROR_INVALID_PARAMETER;
    if (cred->dwSize != sizeof(*cred))
        return ERROR_INVALID_SIZE;
    DWORD mask = cred->dwMask;
    if ((mask & ~(CRED_MASKS | RASCM_DefaultCreds)) ||
        ((mask & RASCM_Password) && (mask & RASCM_PreSharedKey)))
        return ERROR_INVALID_PARAMETER;
    if (wmemchr(cred->szUserName, 0, UNLEN + 1) == NULL ||
        wmemchr(cred->szPassword, 0, PWLEN + 1) == NULL ||
        wmemchr(cred->szDomain, 0, DNLEN + 1) == NULL)
        return ERROR_INVALID_PARAMETER;
    EnterCriticalSection(&lock);
    DWORD rc = 0;
    stored *st = *find_stored(phonebook, name);
    if (!st && virtual_entry(name) && (st = new_stored(phonebook, name)))
        builtin_props(&st->props);
    if (!st) {
        rc = virtual_entry(name) ? ERROR_NOT_ENOUGH_MEMORY : ERROR_CANNOT_FIND_PHONEBOOK_ENTRY;
    } else {
        if (mask & RASCM_UserName)
            wcscpy(st->user, clear ? L"" : cred->szUserName);
        if (mask & RASCM_Domain)
            wcscpy(st->domain, clear ? L"" : cred->szDomain);
        WCHAR handle[PWLEN + 1];
        BOOL psk = (mask & RASCM_PreSharedKey) != 0;
        if (mask & (RASCM_Password | RASCM_PreSharedKey)) {
            WCHAR *secret = psk ? st->psk : st->password;
            BOOL *has = psk ? &st->has_psk : &st->has_password;
            secret_handle(st, psk, handle);
            /* The handle stands for what is saved already: keep it. */
            if (clear) {
                wipe(secret, sizeof(st->password));
                *has = FALSE;
            } else if (wcscmp(cred->szPassword, handle) != 0) {
                wcscpy(secret, cred->szPassword);
                *has = TRUE;
            }
        }
    }
    LeaveCriticalSection(&lock);
    return rc;
}

static BOOL has_saved_credentials(const WCHAR *phonebook, const WCHAR *name)
{
    stored *st = *find_stored(phonebook, name);
    return st && (st->user[0] || st->has_password);
}

/* A dial's szPassword may be the handle of the entry's saved password:
 * RasDialW then uses the saved one. (lock held) */
static void resolve_saved_password(const WCHAR *phonebook, RASDIALPARAMSW *p)
{
    stored *st = *find_stored(phonebook, p->szEntryName);
    WCHAR handle[PWLEN + 1];
    if (!st || !st->has_password)
        return;
    secret_handle(st, FALSE, handle);
    if (wcscmp(p->szPassword, handle) == 0)
        wcscpy(p->szPassword, st->password);
}

/* RAS_DOUBLE_SEEDED="Name,...": entries written "by the control panel"
 * before the test, each a SSTP VPN with 16 bytes of device-specific data. */
static void seed_entries(void)
{
    WCHAR list[4096], *cursor = list;
    DWORD n = GetEnvironmentVariableW(L"RAS_DOUBLE_SEEDED", list, COUNT(list));
    if (!n || n >= COUNT(list))
        return;
    unescape(list);
    for (WCHAR *item; (item = next_item(&cursor));) {
        stored *st = valid_name(item) ? new_stored(NULL, item) : NULL;
        if (!st || !(st->devinfo = malloc(16)))
            continue;
        for (int i = 0; i < 16; i++)
            st->devinfo[i] = (BYTE)(0xA0 + i);
        st->ndevinfo = 16;
        RASENTRYW_WIN10 *e = &st->props;
        e->xp.dwSize = sizeof(*e);
        e->xp.dwfOptions = RASEO_RemoteDefaultGateway | RASEO_RequireMsCHAP2 |
                           RASEO_RequireEncryptedPw | RASEO_RequireDataEncryption;
        wcscpy(e->xp.szLocalPhoneNumber, L"vpn.example.com");
        e->xp.dwfNetProtocols = RASNP_Ip;
        e->xp.dwFramingProtocol = RASFP_Ppp;
        wcscpy(e->xp.szDeviceType, L"vpn");
        wcscpy(e->xp.szDeviceName, L"WAN Miniport (SSTP)");
        e->xp.dwType = RASET_Vpn;
        e->xp.dwEncryptionType = 1;   /* ET_Require */
        e->xp.dwVpnStrategy = 5;      /* VS_SstpOnly */
        e->xp.dwIdleDisconnectSeconds = 600;
        e->xp.dwRedialCount = 3;
        e->xp.dwRedialPause = 60;
    }
}

/* ---- statistics, projection, devices ---------------------------------------- */

/* Counters that grow with the time since Connected, as a busy link's do. */
DWORD WINAPI RasGetConnectionStatistics(HRASCONN h, RAS_STATS *stats)
{
    if (!stats)
        return ERROR_INVALID_PARAMETER;
    if (stats->dwSize != sizeof(*stats))
        return ERROR_INVALID_SIZE;
    EnterCriticalSection(&lock);
    sweep();
    conn *c = find_live(h);
    DWORD rc = c ? 0 : invalid_handle(h, "RasGetConnectionStatistics");
    if (c) {
        DWORD ms = c->state == RASCS_Connected ? GetTickCount() - c->connected_tick : 0;
        memset(stats, 0, sizeof(*stats));
        stats->dwSize = sizeof(*stats);
        stats->dwBytesXmited = 1000 + 3 * ms;
        stats->dwBytesRcved = 2000 + 7 * ms;
        stats->dwFramesXmited = 10 + ms / 20;
        stats->dwFramesRcved = 20 + ms / 10;
        stats->dwCrcErr = 1;
        stats->dwTimeoutErr = 2;
        stats->dwBps = c->sc.vpn ? 100000000 : 115200;
        stats->dwConnectDuration = ms;
    }
    LeaveCriticalSection(&lock);
    return rc;
}

/* RAS_PROJECTION_INFO as Windows 7 declares it; mingw has none of it. */
#include <pshpack4.h>
typedef struct {
    DWORD dwIPv4NegotiationError;
    BYTE ipv4Address[4], ipv4ServerAddress[4];
    DWORD dwIPv4Options, dwIPv4ServerOptions;
    DWORD dwIPv6NegotiationError;
    BYTE bInterfaceIdentifier[8], bServerInterfaceIdentifier[8];
    BOOL fBundled, fMultilink;
    DWORD dwAuthenticationProtocol, dwAuthenticationData;
    DWORD dwServerAuthenticationProtocol, dwServerAuthenticationData;
    DWORD dwEapTypeId, dwServerEapTypeId, dwLcpOptions, dwLcpServerOptions;
    DWORD dwCcpError, dwCcpCompressionAlgorithm, dwCcpServerCompressionAlgorithm;
    DWORD dwCcpOptions, dwCcpServerOptions;
} PPP_INFO;
typedef struct {
    DWORD dwIPv4NegotiationError;
    BYTE ipv4Address[4], ipv4ServerAddress[4];
    DWORD dwIPv6NegotiationError;
    BYTE ipv6Address[16], ipv6ServerAddress[16];
    DWORD dwPrefixLength, dwAuthenticationProtocol, dwEapTypeId, dwFlags, dwEncryptionMethod;
    DWORD numIPv4ServerAddresses;
    void *ipv4ServerAddresses;
    DWORD numIPv6ServerAddresses;
    void *ipv6ServerAddresses;
} IKEV2_INFO;
typedef struct {
    DWORD version;          /* RASAPIVERSION */
    DWORD type;             /* 1 PPP, 2 IKEv2 */
    union { PPP_INFO ppp; IKEV2_INFO ikev2; } u;
} PROJECTION_INFO;
#include <poppack.h>

static const BYTE LOCAL_IP[4] = {10, 0, 0, 2}, SERVER_IP[4] = {10, 0, 0, 1};

/* Projected: after RASCS_Projected, and the connection is up. (lock held) */
static BOOL projected(const conn *c)
{
    return c->state == RASCS_Connected;
}

/* Windows 7 and later; an older Windows has no such function, which the
 * double can only say with ERROR_CALL_NOT_IMPLEMENTED. */
DWORD WINAPI RasGetProjectionInfoEx(HRASCONN h, PROJECTION_INFO *info, LPDWORD cb)
{
    if (winver < 0x601)
        return ERROR_CALL_NOT_IMPLEMENTED;
    if (!cb || (!info && *cb))
        return ERROR_INVALID_PARAMETER;
    if (*cb < sizeof(*info)) {
        *cb = sizeof(*info);
        return ERROR_BUFFER_TOO_SMALL;
    }
    if (info->version != 4)   /* RASAPIVERSION_601, the only one there is */
        return ERROR_INVALID_PARAMETER;
    EnterCriticalSection(&lock);
    sweep();
    conn *c = find_live(h);
    DWORD rc = c ? (projected(c) ? 0 : ERROR_PROJECTION_NOT_COMPLETE)
                 : invalid_handle(h, "RasGetProjectionInfoEx");
    if (rc == 0) {
        memset(&info->u, 0, sizeof(info->u));
        if (c->sc.ikev2) {
            IKEV2_INFO *k = &info->u.ikev2;
            info->type = 2;
            memcpy(k->ipv4Address, LOCAL_IP, 4);
            memcpy(k->ipv4ServerAddress, SERVER_IP, 4);
            static const BYTE v6[16] = {0xfd, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2};
            static const BYTE v6s[16] = {0xfd, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
            memcpy(k->ipv6Address, v6, 16);
            memcpy(k->ipv6ServerAddress, v6s, 16);
            k->dwPrefixLength = 64;
            k->dwAuthenticationProtocol = 2;   /* RASIKEv2_AUTH_EAP */
            k->dwEncryptionMethod = 5;         /* IPSEC_CIPHER_TYPE_AES_256 */
        } else {
            PPP_INFO *p = &info->u.ppp;
            info->type = 1;
            memcpy(p->ipv4Address, LOCAL_IP, 4);
            memcpy(p->ipv4ServerAddress, SERVER_IP, 4);
            static const BYTE id[8] = {0x02, 0x11, 0x22, 0xff, 0xfe, 0x33, 0x44, 0x55};
            static const BYTE sid[8] = {0x02, 0x66, 0x77, 0xff, 0xfe, 0x88, 0x99, 0xaa};
            memcpy(p->bInterfaceIdentifier, id, 8);
            memcpy(p->bServerInterfaceIdentifier, sid, 8);
            p->dwAuthenticationProtocol = 0xC223;   /* RASLCPAP_CHAP */
            p->dwAuthenticationData = 0x81;         /* RASLCPAD_CHAP_MSV2 */
            if (c->sc.vpn) {
                p->dwCcpCompressionAlgorithm = RASCCPCA_MPPC;
                p->dwCcpOptions = RASCCPO_Compression | RASCCPO_Encryption128bit;
            } else {
                p->dwCcpError = ERROR_PROTOCOL_NOT_CONFIGURED;   /* no CCP on the modem */
            }
        }
    }
    LeaveCriticalSection(&lock);
    return rc;
}

static const layout ppp_ip_layouts[] = {
    {0x400, ROUND4(offsetof(RASPPPIPW, dwOptions))},
    {0x500, sizeof(RASPPPIPW)},
};

DWORD WINAPI RasGetProjectionInfoW(HRASCONN h, RASPROJECTION proj, LPVOID buf, LPDWORD cb)
{
    RASPPPIPW *ip = buf;
    if (!cb || !buf)
        return ERROR_INVALID_PARAMETER;
    if (proj != RASP_PppIp)
        return ERROR_PROTOCOL_NOT_CONFIGURED;
    if (!ACCEPTS(ppp_ip_layouts, ip->dwSize))
        return ERROR_INVALID_SIZE;
    if (*cb < ip->dwSize) {
        *cb = ip->dwSize;
        return ERROR_BUFFER_TOO_SMALL;
    }
    EnterCriticalSection(&lock);
    sweep();
    conn *c = find_live(h);
    DWORD rc = c ? (projected(c) ? 0 : ERROR_PROJECTION_NOT_COMPLETE)
                 : invalid_handle(h, "RasGetProjectionInfoW");
    if (rc == 0) {
        RASPPPIPW full;
        memset(&full, 0, sizeof(full));
        full.dwSize = ip->dwSize;
        wcscpy(full.szIpAddress, L"10.0.0.2");
        wcscpy(full.szServerIpAddress, L"10.0.0.1");
        memcpy(ip, &full, ip->dwSize);
    }
    LeaveCriticalSection(&lock);
    return rc;
}

/* The devices, one of a type newer than any header ("gre", which DotRas
 * crashed on). RAS_DOUBLE_GROW_DEVICES=N: as grow_conns, for devices. */
static const struct { const WCHAR *type, *name; } device_list[] = {
    {L"modem", L"Test Double Modem"},
    {L"vpn", L"WAN Miniport (PPTP)"},
    {L"vpn", L"WAN Miniport (L2TP)"},
    {L"vpn", L"WAN Miniport (SSTP)"},
    {L"vpn", L"WAN Miniport (IKEv2)"},
    {L"PPPoE", L"WAN Miniport (PPPoE)"},
    {L"gre", L"WAN Miniport (GRE)"},
    {L"SERIAL", L"Communications cable (COM1)"},
};
static DWORD grow_devices, devices_grown;

static void grow_a_device(void)
{
    devices_grown++;
}

DWORD WINAPI RasEnumDevicesW(LPRASDEVINFOW buf, LPDWORD lpcb, LPDWORD lpcount)
{
    if (!lpcb || !lpcount)
        return ERROR_INVALID_PARAMETER;
    if (buf && buf->dwSize != sizeof(RASDEVINFOW))
        return ERROR_INVALID_SIZE;
    EnterCriticalSection(&lock);
    DWORD count = COUNT(device_list) + devices_grown;
    DWORD rc = check_buffer(buf, sizeof(RASDEVINFOW), count, lpcb, lpcount, &grow_devices,
                            grow_a_device);
    for (DWORD i = 0; rc == 0 && i < count; i++) {
        RASDEVINFOW *d = buf + i;
        memset(d, 0, sizeof(*d));
        d->dwSize = sizeof(*d);
        if (i < COUNT(device_list)) {
            wcscpy(d->szDeviceType, device_list[i].type);
            wcscpy(d->szDeviceName, device_list[i].name);
        } else {
            wcscpy(d->szDeviceType, L"serial");
            swprintf(d->szDeviceName, RAS_MaxDeviceName + 1, L"Grown Port %lu",
                     (unsigned long)(i - COUNT(device_list) + 1));
        }
    }
    if (rc == 0)
        *lpcb = count * sizeof(RASDEVINFOW);
    LeaveCriticalSection(&lock);
    return rc;
}

/* ---- notifications and errors ----------------------------------------------- */

DWORD WINAPI RasConnectionNotificationW(HRASCONN h, HANDLE event, DWORD flags)
{
    if (!event || !flags)
        return ERROR_INVALID_PARAMETER;
    EnterCriticalSection(&lock);
    sweep();
    DWORD rc = 0;
    registration *r = NULL;
    conn *target = h == INVALID_HANDLE_VALUE ? NULL : find_live(h);
    if (h != INVALID_HANDLE_VALUE && !target)
        rc = invalid_handle(h, "RasConnectionNotificationW");
    else if (!(r = calloc(1, sizeof(*r))))
        rc = ERROR_NOT_ENOUGH_MEMORY;
    /* Our own duplicate: the caller may close its handle whenever it likes. */
    else if (!DuplicateHandle(GetCurrentProcess(), event, GetCurrentProcess(), &r->event,
                              0, FALSE, DUPLICATE_SAME_ACCESS))
        rc = ERROR_INVALID_HANDLE;
    if (rc == 0) {
        r->target = target;
        r->flags = flags;
        r->next = registrations;
        registrations = r;
    } else {
        free(r);
    }
    LeaveCriticalSection(&lock);
    return rc;
}

static const struct { DWORD code; const WCHAR *text; } error_texts[] = {
    {ERROR_INVALID_HANDLE, L"The connection handle is invalid."},
    {ERROR_INVALID_PARAMETER, L"A parameter is incorrect."},
    {ERROR_BUFFER_TOO_SMALL, L"The buffer is too small."},
    {ERROR_PORT_NOT_AVAILABLE, L"The port is already in use or is not configured for dialing out."},
    {ERROR_CANNOT_FIND_PHONEBOOK_ENTRY, L"The phonebook entry does not exist."},
    {ERROR_PORT_DISCONNECTED, L"The port was disconnected."},
    {ERROR_REMOTE_DISCONNECTION, L"The connection was closed by the remote computer."},
    {ERROR_INVALID_SIZE, L"The structure size is incorrect."},
    {ERROR_REQUEST_TIMEOUT, L"The request timed out."},
    {ERROR_PASSWD_EXPIRED, L"The password of this account has expired."},
    {ERROR_FROM_DEVICE, L"The modem or other connecting device reported an error."},
    {ERROR_LINE_BUSY, L"The phone line is busy."},
    {ERROR_NO_ANSWER, L"The remote computer did not answer."},
    {ERROR_NO_CARRIER, L"No carrier was detected."},
    {ERROR_NO_DIALTONE, L"There is no dial tone."},
    {ERROR_AUTHENTICATION_FAILURE, L"The user name or password is not valid."},
    {ERROR_INTERACTIVE_MODE, L"The connection needs information from the user."},
    {ERROR_PPP_TIMEOUT, L"The remote computer did not respond in time."},
    {ERROR_NO_CONNECTION, L"The connection was dropped."},
    {ERROR_DIAL_ALREADY_IN_PROGRESS, L"This connection is already being dialed."},
};

DWORD WINAPI RasGetErrorStringW(UINT code, LPWSTR buf, DWORD cch)
{
    if (!buf || !cch)
        return ERROR_INVALID_PARAMETER;
    for (size_t i = 0; i < COUNT(error_texts); i++) {
        if (error_texts[i].code != code)
            continue;
        if (wcslen(error_texts[i].text) >= cch)
            return ERROR_BUFFER_TOO_SMALL;
        wcscpy(buf, error_texts[i].text);
        return 0;
    }
    return ERROR_INVALID_PARAMETER;
}

/* Not part of rasapi32: lets the double's own test see the violations. */
LONG WINAPI RasDoubleProtocolViolations(void)
{
    return InterlockedCompareExchange(&protocol_violations, 0, 0);
}

/* ---- load and exit ------------------------------------------------------- */

static DWORD env_number(const WCHAR *name, DWORD fallback)
{
    WCHAR value[32];
    DWORD n = GetEnvironmentVariableW(name, value, COUNT(value));
    return n && n < COUNT(value) ? (DWORD)wcstoul(value, NULL, 0) : fallback;
}

/* \uXXXX to the unit it names, in place. */
static void unescape(WCHAR *s)
{
    WCHAR *out = s;
    while (*s) {
        WCHAR hex[5] = {0};
        if (s[0] == L'\\' && s[1] == L'u' && wcslen(s) >= 6) {
            wcsncpy(hex, s + 2, 4);
            *out++ = (WCHAR)wcstoul(hex, NULL, 16);
            s += 6;
        } else {
            *out++ = *s++;
        }
    }
    *out = L'\0';
}

static void load_foreign(void)
{
    WCHAR list[4096], *cursor = list;
    DWORD n = GetEnvironmentVariableW(L"RAS_DOUBLE_FOREIGN", list, COUNT(list));
    if (!n || n >= COUNT(list))
        return;
    unescape(list);
    for (WCHAR *item; (item = next_item(&cursor));)
        add_foreign(item);
}

static void load_text(const WCHAR *name, WCHAR *dst, DWORD count)
{
    WCHAR value[4096];
    DWORD n = GetEnvironmentVariableW(name, value, COUNT(value));
    if (!n || n >= COUNT(value))
        return;
    unescape(value);
    if (wcslen(value) < count)
        wcscpy(dst, value);
}

/* At exit the other threads are gone (maybe inside the lock): read only. */
static void check_at_exit(void)
{
    for (conn *c = conns; c; c = c->next) {
        if (c->must_hang_up && !c->hung_up) {
            char what[120];
            snprintf(what, sizeof(what), "handle %p of a failed RasDialW never hung up",
                     (void *)c->handle);
            violation(what);
        }
    }
}

BOOL WINAPI DllMain(HINSTANCE inst, DWORD reason, LPVOID reserved)
{
    (void)reserved;
    if (reason == DLL_PROCESS_DETACH) {
        check_at_exit();
        return TRUE;
    }
    if (reason != DLL_PROCESS_ATTACH)
        return TRUE;
    /* Dial threads may outlive a FreeLibrary; nothing is torn down on detach. */
    DisableThreadLibraryCalls(inst);
    InitializeCriticalSection(&lock);
    load_text(L"RAS_DOUBLE_ENTRIES", extra_entries, COUNT(extra_entries));
    load_text(L"RAS_DOUBLE_PHONEBOOK", default_phonebook, COUNT(default_phonebook));
    grow_connections = env_number(L"RAS_DOUBLE_GROW_CONNS", 0);
    grow_entries = env_number(L"RAS_DOUBLE_GROW_ENTRIES", 0);
    default_late = env_number(L"RAS_DOUBLE_LATE_MS", DEFAULT_LATE_MS);
    winver = env_number(L"RAS_DOUBLE_WINVER", winver);
    win11 = env_number(L"RAS_DOUBLE_WIN11", 0) != 0;
    grow_devices = env_number(L"RAS_DOUBLE_GROW_DEVICES", 0);
    load_foreign();
    seed_entries();
    return TRUE;
}
