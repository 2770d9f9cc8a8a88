/*
 * rasapi32_double.c -- a test double of Windows' rasapi32.dll.
 *
 * Wine's own rasapi32 is stubs, so the binding is tested against this DLL,
 * which follows Microsoft's documented protocol for the W functions the
 * binding uses. The phonebook entry name picks a scenario:
 *
 *   keyword[;key=value...]
 *   keywords: ok authfail busy noanswer callback expired
 *   options:  step=MS (between notifications, default 10)
 *             hangup_delay=MS (status still answers this long after RasHangUpW)
 *             drop_after=MS (link drops this long after Connected: error 629)
 *             early=1 (first notification before RasDialW returns)
 *             fail_at=STATE (a RASCS_ name without the prefix, or a number)
 *             error=CODE (the error of fail_at; default 651)
 *             hold_at=STATE (the dial stops after reporting STATE, as if the
 *                 peer never answered, until it is hung up)
 *             vpn=1 (device "vpn" / "WAN Miniport (PPTP)")
 *             grow_conns=N, grow_entries=N (the next N RasEnumConnectionsW /
 *                 RasEnumEntriesW calls that answer ERROR_BUFFER_TOO_SMALL each
 *                 add one item, so the caller's retry finds more than it asked for)
 *
 * Credentials (authfail): user "user", password "right".
 * callback: after Authenticated the server asks (AuthCallback); a callback
 * number given at dial time answers it, else the dial pauses in
 * CallbackSetByCaller (error 703 without paused states) and asks again
 * (AuthCallback) after each resume.
 *
 * Environment, read at load:
 *   RAS_DOUBLE_FOREIGN="Office,Home"  connections "dialled by another process",
 *                                     already Connected (options allowed)
 *   RAS_DOUBLE_ENTRIES="Work,Home"    extra phonebook entries; they dial as "ok"
 *   RAS_DOUBLE_GROW_CONNS=N           as the grow_conns option, from the start
 *   RAS_DOUBLE_GROW_ENTRIES=N         as the grow_entries option, from the start
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
#define DEFAULT_FAIL_ERROR 651
#define AUTH_USER L"user"
#define AUTH_PASSWORD L"right"

/* RASCONNSTATUSW as Windows 7 and later declare it; mingw stops at szPhoneNumber. */
#include <pshpack4.h>
typedef struct {
    RASCONNSTATUSW v1;
    RASTUNNELENDPOINT localEndPoint;
    RASTUNNELENDPOINT remoteEndPoint;
    DWORD rasconnsubstate;
} RASCONNSTATUSW_WIN7;
#include <poppack.h>
#ifdef _WIN64
_Static_assert(sizeof(RASCONNSTATUSW_WIN7) == 608, "Windows 7 RASCONNSTATUSW is 608 bytes on x64");
#endif

/* Vista and later append a GUID (guidCorrelationId) to RASCONNW. */
#define RASCONNW_VISTA_SIZE (sizeof(RASCONNW) + sizeof(GUID))
/* Windows 8 appends szEncPassword to RASDIALPARAMSW (after mingw's dwIfIndex). */
#define RASDIALPARAMSW_WIN8_SIZE (sizeof(RASDIALPARAMSW) + sizeof(LPWSTR))
#define RASDIALPARAMSW_2K_SIZE offsetof(RASDIALPARAMSW, dwIfIndex)
/* Windows 7 appends fSkipPppAuth and RASDEVSPECIFICINFO {DWORD, BYTE*}. */
#define RASDIALEXT_WIN7_SIZE (sizeof(RASDIALEXTENSIONS) + sizeof(BOOL) + sizeof(DWORD) + sizeof(BYTE *))

enum kind { K_OK, K_AUTHFAIL, K_BUSY, K_NOANSWER, K_CALLBACK, K_EXPIRED };

typedef struct {
    enum kind kind;
    DWORD step, hangup_delay, drop_after, error, grow_conns, grow_entries;
    BOOL early, vpn;
    int fail_at; /* a RASCONNSTATE, or -1 */
    int hold_at; /* a RASCONNSTATE, or -1 */
} scenario;

typedef struct conn {
    struct conn *next;
    HRASCONN handle;
    WCHAR entry[RAS_MaxEntryName + 1];
    scenario sc;
    RASDIALPARAMSW params;                /* latest, replaced on resume */
    WCHAR first_password[PWLEN + 1];
    DWORD notifier_type;
    void *notifier;
    BOOL paused_states;
    RASCONNSTATE state;
    DWORD error;
    BOOL started;     /* RasDialW has stored the handle */
    BOOL first_done;  /* the first notification has returned */
    BOOL dial_done;   /* Connected, failed or hung up */
    BOOL paused;      /* waiting for RasDialW to resume */
    BOOL quiet;       /* RasDialFunc2 returned 0 */
    BOOL in_callback;
    BOOL hung_up;
    DWORD hangup_tick;
    HANDLE thread;
    DWORD thread_id;
    CONDITION_VARIABLE cv; /* any change of the flags above */
} conn;

typedef struct registration {
    struct registration *next;
    HRASCONN target; /* INVALID_HANDLE_VALUE: every connection */
    HANDLE event;    /* our duplicate of the caller's event */
    DWORD flags;
} registration;

static CRITICAL_SECTION lock;
static conn *conns;
static registration *registrations;
static ULONG_PTR handle_counter;
static DWORD grow_connections, grow_entries, extra_entries_grown;
static WCHAR extra_entries[1024];
static LONG protocol_violations;

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
#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

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
    if (strcmp(opt, "early") == 0 && parse_number(value, &flag)) { sc->early = flag != 0; return TRUE; }
    if (strcmp(opt, "vpn") == 0 && parse_number(value, &flag)) { sc->vpn = flag != 0; return TRUE; }
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
    sc->fail_at = -1;
    sc->hold_at = -1;
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

/* A handle the API still answers for: not hung up, or within hangup_delay. */
static conn *find_live(HRASCONN h)
{
    for (conn *c = conns; c; c = c->next)
        if (c->handle == h)
            return expired(c) ? NULL : c;
    return NULL;
}

static void drop_registrations_of(HRASCONN h)
{
    for (registration **p = &registrations; *p;) {
        registration *r = *p;
        if (r->target == h) {
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
            drop_registrations_of(c->handle);
            free(c);
        } else {
            p = &c->next;
        }
    }
}

static void signal_event(const conn *c, DWORD flag)
{
    for (registration *r = registrations; r; r = r->next)
        if ((r->target == INVALID_HANDLE_VALUE || r->target == c->handle) && (r->flags & flag))
            SetEvent(r->event);
}

static conn *new_conn(const WCHAR *entry, const scenario *sc)
{
    conn *c = calloc(1, sizeof(*c));
    if (!c)
        return NULL;
    /* Counting up never reuses a handle; the offset keeps it clear of NULL. */
    c->handle = (HRASCONN)(ULONG_PTR)(0x5A0000 + 0x10 * ++handle_counter);
    wcsncpy(c->entry, entry, RAS_MaxEntryName);
    c->sc = *sc;
    InitializeConditionVariable(&c->cv);
    c->next = conns;
    conns = c;
    return c;
}

/* A connection made elsewhere: already Connected, no dial thread.
 * "Name;options": the options shape it, the name is listed. */
static void add_foreign(const WCHAR *spec)
{
    scenario sc;
    WCHAR name[RAS_MaxEntryName + 1];
    if (!parse_scenario(spec, &sc, TRUE))
        return;
    wcsncpy(name, spec, RAS_MaxEntryName);
    name[RAS_MaxEntryName] = L'\0';
    name[wcscspn(name, L";")] = L'\0';
    conn *c = new_conn(name, &sc);
    if (!c)
        return;
    c->state = RASCS_Connected;
    c->started = c->first_done = c->dial_done = TRUE;
}

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
        if (st == RASCS_Connected)
            signal_event(c, RASCN_Connection);
    }
    LeaveCriticalSection(&lock);
    DWORD keep = call ? deliver(c, st, err) : 1;
    EnterCriticalSection(&lock);
    c->in_callback = FALSE;
    c->first_done = TRUE;
    if (!keep)
        c->quiet = TRUE;
    WakeAllConditionVariable(&c->cv);
    LeaveCriticalSection(&lock);
    return go;
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
    if (nap(c, c->sc.step))
        notify(c, st, err, FALSE);
    return FALSE;
}

/* Report a paused state and wait for RasDialW to resume; FALSE if hung up. */
static BOOL pause_in(conn *c, RASCONNSTATE st)
{
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
    if (!c->sc.drop_after || !nap(c, c->sc.drop_after))
        return;
    EnterCriticalSection(&lock);
    if (!c->hung_up) {
        c->state = RASCS_Disconnected;
        c->error = ERROR_REMOTE_DISCONNECTION;
        signal_event(c, RASCN_Disconnection);
    }
    LeaveCriticalSection(&lock);
}

static DWORD WINAPI dial_thread(void *arg)
{
    conn *c = arg;
    EnterCriticalSection(&lock);
    /* Normally the first notification waits until RasDialW has returned the handle. */
    while (!c->started && c->notifier && !c->sc.early)
        SleepConditionVariableCS(&c->cv, &lock, INFINITE);
    LeaveCriticalSection(&lock);
    BOOL connected = run_dial(c);
    EnterCriticalSection(&lock);
    c->dial_done = c->first_done = TRUE;
    WakeAllConditionVariable(&c->cv);
    LeaveCriticalSection(&lock);
    if (connected)
        watch_link(c);
    return 0;
}

/* Straight to the handle: no CRT buffer may hold it back behind later output. */
static void note(const char *text)
{
    DWORD written;
    WriteFile(GetStdHandle(STD_ERROR_HANDLE), text, (DWORD)strlen(text), &written, NULL);
}

/* ---- RasDialW --------------------------------------------------------------- */

static BOOL valid_sizes(const RASDIALEXTENSIONS *ext, const RASDIALPARAMSW *p)
{
    if (ext && ext->dwSize != sizeof(*ext) && ext->dwSize != RASDIALEXT_WIN7_SIZE)
        return FALSE;
    return p->dwSize == sizeof(*p) || p->dwSize == RASDIALPARAMSW_2K_SIZE ||
           p->dwSize == RASDIALPARAMSW_WIN8_SIZE;
}

/* Is the calling thread inside one of our notifiers? (lock held) */
static BOOL inside_notifier(void)
{
    for (conn *c = conns; c; c = c->next)
        if (c->in_callback && c->thread_id == GetCurrentThreadId())
            return TRUE;
    return FALSE;
}

static void copy_params(conn *c, const RASDIALPARAMSW *p)
{
    memset(&c->params, 0, sizeof(c->params));
    memcpy(&c->params, p, p->dwSize < sizeof(*p) ? p->dwSize : sizeof(*p));
}

/* Continue a dial paused in a RASCS_PAUSED state with new parameters. (lock held) */
static DWORD resume(HRASCONN h, const RASDIALPARAMSW *p, DWORD type, void *notifier)
{
    conn *c = find_live(h);
    if (!c || c->hung_up)
        return ERROR_INVALID_HANDLE;
    if (!c->paused)
        return c->dial_done ? ERROR_INVALID_PARAMETER : ERROR_DIAL_ALREADY_IN_PROGRESS;
    copy_params(c, p);
    if (notifier) {
        c->notifier_type = type;
        c->notifier = notifier;
    }
    c->paused = FALSE;
    WakeAllConditionVariable(&c->cv);
    return 0;
}

/* Start a new dial; the thread runs it, RasDialW waits only as the mode requires. */
static DWORD start_dial(const RASDIALEXTENSIONS *ext, const RASDIALPARAMSW *p,
                        DWORD type, void *notifier, HRASCONN *out)
{
    scenario sc;
    if (!parse_scenario(p->szEntryName, &sc, FALSE))
        return ERROR_CANNOT_FIND_PHONEBOOK_ENTRY;
    conn *c = new_conn(p->szEntryName, &sc);
    if (!c)
        return ERROR_NOT_ENOUGH_MEMORY;
    copy_params(c, p);
    wcscpy(c->first_password, c->params.szPassword);
    c->notifier_type = type;
    c->notifier = notifier;
    /* Without a notifier nobody could resume a pause: treated as errors then. */
    c->paused_states = notifier && ext && (ext->dwfOptions & RDEOPT_PausedStates);
    grow_connections += sc.grow_conns;
    grow_entries += sc.grow_entries;
    c->thread = CreateThread(NULL, 0, dial_thread, c, 0, &c->thread_id);
    if (!c->thread) {
        c->hung_up = TRUE; /* swept at once */
        return ERROR_NOT_ENOUGH_MEMORY;
    }
    while (notifier ? (sc.early && !c->first_done) : !c->dial_done)
        SleepConditionVariableCS(&c->cv, &lock, INFINITE);
    *out = c->handle;
    c->started = TRUE;
    WakeAllConditionVariable(&c->cv);
    return notifier ? 0 : c->error;
}

DWORD WINAPI RasDialW(LPRASDIALEXTENSIONS ext, LPCWSTR phonebook, LPRASDIALPARAMSW params,
                      DWORD notifier_type, LPVOID notifier, LPHRASCONN out)
{
    (void)phonebook;
    if (!params || !out || (notifier && notifier_type > 2 && notifier_type != 0xFFFFFFFF))
        return ERROR_INVALID_PARAMETER;
    if (!valid_sizes(ext, params))
        return ERROR_INVALID_SIZE;
    EnterCriticalSection(&lock);
    sweep();
    DWORD rc;
    if (inside_notifier()) {
        InterlockedIncrement(&protocol_violations);
        note("rasapi32 double: protocol violation: RasDialW called inside a notifier\n");
        rc = ERROR_INVALID_PARAMETER;
    } else if (*out) {
        rc = resume(*out, params, notifier_type, notifier);
    } else {
        rc = start_dial(ext, params, notifier_type, notifier, out);
    }
    LeaveCriticalSection(&lock);
    return rc;
}

/* ---- hang-up and status --------------------------------------------------- */

DWORD WINAPI RasHangUpW(HRASCONN h)
{
    EnterCriticalSection(&lock);
    sweep();
    conn *c = find_live(h);
    if (c && !c->hung_up) {
        c->hung_up = TRUE;
        c->hangup_tick = GetTickCount();
        c->state = RASCS_Disconnected;
        c->error = 0;
        c->paused = FALSE;
        signal_event(c, RASCN_Disconnection);
        WakeAllConditionVariable(&c->cv);
        /* No notification may follow our return; a notifier hanging up its
         * own connection must not wait for itself. */
        while (c->in_callback && c->thread_id != GetCurrentThreadId())
            SleepConditionVariableCS(&c->cv, &lock, INFINITE);
    }
    LeaveCriticalSection(&lock);
    return c ? 0 : ERROR_INVALID_HANDLE;
}

static void fill_status(const conn *c, RASCONNSTATUSW *st)
{
    DWORD size = st->dwSize;
    memset(st, 0, size);
    st->dwSize = size;
    st->rasconnstate = c->state;
    st->dwError = c->error;
    wcscpy(st->szDeviceType, c->sc.vpn ? L"vpn" : L"modem");
    wcscpy(st->szDeviceName, c->sc.vpn ? L"WAN Miniport (PPTP)" : L"Test Double Modem");
    wcsncpy(st->szPhoneNumber, c->params.szPhoneNumber[0] ? c->params.szPhoneNumber : L"5550100",
            RAS_MaxPhoneNumber);
    if (size >= sizeof(RASCONNSTATUSW_WIN7)) {
        RASCONNSTATUSW_WIN7 *w7 = (RASCONNSTATUSW_WIN7 *)st;
        static const BYTE local[4] = {10, 0, 0, 2}, remote[4] = {10, 0, 0, 1};
        w7->localEndPoint.dwType = RASTUNNELENDPOINT_IPv4;
        memcpy(&w7->localEndPoint.ipv4, local, sizeof(local));
        w7->remoteEndPoint.dwType = RASTUNNELENDPOINT_IPv4;
        memcpy(&w7->remoteEndPoint.ipv4, remote, sizeof(remote));
    }
}

DWORD WINAPI RasGetConnectStatusW(HRASCONN h, LPRASCONNSTATUSW status)
{
    if (!status)
        return ERROR_INVALID_PARAMETER;
    if (status->dwSize != sizeof(RASCONNSTATUSW) && status->dwSize != sizeof(RASCONNSTATUSW_WIN7))
        return ERROR_INVALID_SIZE;
    EnterCriticalSection(&lock);
    sweep();
    conn *c = find_live(h);
    if (c)
        fill_status(c, status);
    LeaveCriticalSection(&lock);
    return c ? 0 : ERROR_INVALID_HANDLE;
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
    memset(out, 0, size);
    out->dwSize = size;
    out->hrasconn = c->handle;
    wcsncpy(out->szEntryName, c->entry, RAS_MaxEntryName);
    wcscpy(out->szDeviceType, c->sc.vpn ? L"vpn" : L"modem");
    wcscpy(out->szDeviceName, c->sc.vpn ? L"WAN Miniport (PPTP)" : L"Test Double Modem");
    out->luid.LowPart = (DWORD)(ULONG_PTR)c->handle;
}

DWORD WINAPI RasEnumConnectionsW(LPRASCONNW buf, LPDWORD lpcb, LPDWORD lpcount)
{
    if (!lpcb || !lpcount)
        return ERROR_INVALID_PARAMETER;
    DWORD size = buf ? buf->dwSize : sizeof(RASCONNW);
    if (size != sizeof(RASCONNW) && size != RASCONNW_VISTA_SIZE)
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

DWORD WINAPI RasEnumEntriesW(LPCWSTR reserved, LPCWSTR phonebook, LPRASENTRYNAMEW buf,
                             LPDWORD lpcb, LPDWORD lpcount)
{
    static WCHAR names[MAX_ENTRIES][RAS_MaxEntryName + 1]; /* used under the lock */
    if (reserved || !lpcb || !lpcount)
        return ERROR_INVALID_PARAMETER;
    if (buf && buf->dwSize != sizeof(RASENTRYNAMEW))
        return ERROR_INVALID_SIZE;
    EnterCriticalSection(&lock);
    DWORD count = entry_names(names, MAX_ENTRIES);
    DWORD rc = check_buffer(buf, sizeof(RASENTRYNAMEW), count, lpcb, lpcount, &grow_entries,
                            grow_an_entry);
    for (DWORD i = 0; rc == 0 && i < count; i++) {
        RASENTRYNAMEW *e = &buf[i];
        memset(e, 0, sizeof(*e));
        e->dwSize = sizeof(*e);
        wcscpy(e->szEntryName, names[i]);
        e->dwFlags = REN_User;
        wcsncpy(e->szPhonebookPath, phonebook ? phonebook : L"C:\\rasphone.pbk", MAX_PATH);
    }
    if (rc == 0)
        *lpcb = count * sizeof(RASENTRYNAMEW);
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
    if (h != INVALID_HANDLE_VALUE && !find_live(h))
        rc = ERROR_INVALID_HANDLE;
    else if (!(r = calloc(1, sizeof(*r))))
        rc = ERROR_NOT_ENOUGH_MEMORY;
    /* Our own duplicate: the caller may close its handle whenever it likes. */
    else if (!DuplicateHandle(GetCurrentProcess(), event, GetCurrentProcess(), &r->event,
                              0, FALSE, DUPLICATE_SAME_ACCESS))
        rc = ERROR_INVALID_HANDLE;
    if (rc == 0) {
        r->target = h;
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

/* Not part of rasapi32: lets the double's own test see refused RasDialW calls. */
LONG WINAPI RasDoubleProtocolViolations(void)
{
    return InterlockedCompareExchange(&protocol_violations, 0, 0);
}

/* ---- load ------------------------------------------------------------------- */

static DWORD env_number(const WCHAR *name)
{
    WCHAR value[32];
    DWORD n = GetEnvironmentVariableW(name, value, COUNT(value));
    return n && n < COUNT(value) ? (DWORD)wcstoul(value, NULL, 10) : 0;
}

static void load_foreign(void)
{
    WCHAR list[1024], *cursor = list;
    DWORD n = GetEnvironmentVariableW(L"RAS_DOUBLE_FOREIGN", list, COUNT(list));
    if (!n || n >= COUNT(list))
        return;
    for (WCHAR *item; (item = next_item(&cursor));)
        add_foreign(item);
}

BOOL WINAPI DllMain(HINSTANCE inst, DWORD reason, LPVOID reserved)
{
    (void)reserved;
    if (reason != DLL_PROCESS_ATTACH)
        return TRUE;
    /* Dial threads may outlive a FreeLibrary; nothing is torn down on detach. */
    DisableThreadLibraryCalls(inst);
    InitializeCriticalSection(&lock);
    DWORD n = GetEnvironmentVariableW(L"RAS_DOUBLE_ENTRIES", extra_entries, COUNT(extra_entries));
    if (n >= COUNT(extra_entries))
        extra_entries[0] = L'\0';
    grow_connections = env_number(L"RAS_DOUBLE_GROW_CONNS");
    grow_entries = env_number(L"RAS_DOUBLE_GROW_ENTRIES");
    load_foreign();
    return TRUE;
}
