/*
 * double_test.c -- proves the rasapi32 test double follows the RAS protocol
 * before the binding is tested against it. Run under Wine by check-double:
 *
 *   RAS_DOUBLE_FOREIGN="Office,Home;hangup_delay=50" RAS_DOUBLE_ENTRIES="Work VPN"
 *   RAS_DOUBLE_LATE_MS=0 (the events of one dial must not reach the next test;
 *   test_hangup asks for late notifications itself)
 *   spec/win32/wine-run --exe build/windows/double_test.exe
 *
 * With RAS_DOUBLE_WIN11 or RAS_DOUBLE_WINVER=0x600 set it checks only what
 * that mode changes (run-specs runs it so too).
 *
 * Prints one line per failed check and, last, "N passed, N failed".
 */
#include <windows.h>
#include <ras.h>
#include <raserror.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <wchar.h>

#define MAX_EVENTS 256
#define WAIT_MS 3000

/* Exported by the double only (mingw's import library lacks it): looked up. */
static LONG violations(void)
{
    typedef LONG(WINAPI * counter)(void);
    FARPROC fn = GetProcAddress(GetModuleHandleW(L"rasapi32.dll"), "RasDoubleProtocolViolations");
    return fn ? ((counter)(void *)fn)() : -1;
}

static int passed, failed;

static void check(BOOL ok, const char *what, int line)
{
    if (ok) {
        passed++;
    } else {
        failed++;
        printf("FAIL line %d: %s\n", line, what);
    }
}

static void check_eq(long long got, long long want, const char *what, int line)
{
    if (got == want) {
        passed++;
    } else {
        failed++;
        printf("FAIL line %d: %s is %lld, expected %lld\n", line, what, got, want);
    }
}

#define CHECK(cond) check((cond) != 0, #cond, __LINE__)
#define CHECK_EQ(got, want) check_eq((long long)(got), (long long)(want), #got, __LINE__)

/* ---- notifications recorded by the notifiers --------------------------- */

typedef struct {
    HRASCONN h;
    RASCONNSTATE state;
    DWORD error;
    DWORD thread;
    int nth_on_thread; /* 1 when the notification had a thread of its own */
    LONG dial_had_returned;
} event;

static CRITICAL_SECTION ev_lock;
static event events[MAX_EVENTS];
static int n_events;
static volatile LONG dial_returned;

/* What the notifier does besides recording, set per test. */
static DWORD func2_result;
static BOOL resume_inside;       /* call RasDialW from inside on a paused state */
static DWORD resume_inside_rc;
static RASCONNSTATE hangup_at;   /* RasHangUpW from inside at this state */
static BOOL hangup_inside;
static DWORD hangup_inside_rc;

static void reset(void)
{
    EnterCriticalSection(&ev_lock);
    n_events = 0;
    LeaveCriticalSection(&ev_lock);
    dial_returned = 0;
    func2_result = 1;
    resume_inside = hangup_inside = FALSE;
    resume_inside_rc = hangup_inside_rc = 0xFFFFFFFF;
}

static __thread int calls_on_this_thread;

static void record(HRASCONN h, RASCONNSTATE st, DWORD err)
{
    int nth = ++calls_on_this_thread;
    EnterCriticalSection(&ev_lock);
    if (n_events < MAX_EVENTS)
        events[n_events++] = (event){h, st, err, GetCurrentThreadId(), nth, dial_returned};
    LeaveCriticalSection(&ev_lock);
}

static void act_inside(HRASCONN h, RASCONNSTATE st)
{
    if (resume_inside && (st & RASCS_PAUSED)) {
        RASDIALPARAMSW p = {.dwSize = sizeof(p)};
        HRASCONN again = h;
        resume_inside_rc = RasDialW(NULL, NULL, &p, 0, NULL, &again);
    }
    if (hangup_inside && st == hangup_at)
        hangup_inside_rc = RasHangUpW(h);
}

static DWORD WINAPI func2(ULONG_PTR id, DWORD sub, HRASCONN h, UINT msg, RASCONNSTATE st,
                          DWORD err, DWORD ext)
{
    (void)id, (void)sub, (void)msg, (void)ext;
    record(h, st, err);
    act_inside(h, st);
    return func2_result;
}

static VOID WINAPI func1(HRASCONN h, UINT msg, RASCONNSTATE st, DWORD err, DWORD ext)
{
    (void)msg, (void)ext;
    record(h, st, err);
}

static VOID WINAPI func0(UINT msg, RASCONNSTATE st, DWORD err)
{
    (void)msg;
    record(NULL, st, err);
}

static int count_events(void)
{
    EnterCriticalSection(&ev_lock);
    int n = n_events;
    LeaveCriticalSection(&ev_lock);
    return n;
}

static event last_event(void)
{
    event e = {0};
    EnterCriticalSection(&ev_lock);
    if (n_events)
        e = events[n_events - 1];
    LeaveCriticalSection(&ev_lock);
    return e;
}

/* Wait until the dial ends or pauses (last event Connected, an error, or paused). */
static BOOL wait_settled(void)
{
    for (DWORD t = 0; t < WAIT_MS; t += 5) {
        event e = last_event();
        if (count_events() && (e.state == RASCS_Connected || e.error || (e.state & RASCS_PAUSED)))
            return TRUE;
        Sleep(5);
    }
    return FALSE;
}

static BOOL states_are(const RASCONNSTATE *want, int n)
{
    if (count_events() != n)
        return FALSE;
    for (int i = 0; i < n; i++)
        if (events[i].state != want[i])
            return FALSE;
    return TRUE;
}

/* ---- helpers around the API ------------------------------------------------- */

static DWORD dial_params(const WCHAR *entry, const WCHAR *password, const WCHAR *callback,
                         DWORD options, DWORD type, void *notifier, HRASCONN *h)
{
    RASDIALEXTENSIONS ext = {.dwSize = sizeof(ext), .dwfOptions = options};
    RASDIALPARAMSW p = {.dwSize = sizeof(p)};
    wcscpy(p.szEntryName, entry);
    wcscpy(p.szUserName, L"user");
    wcscpy(p.szPassword, password);
    wcscpy(p.szCallbackNumber, callback);
    reset();
    *h = NULL;
    DWORD rc = RasDialW(&ext, NULL, &p, type, notifier, h);
    InterlockedExchange(&dial_returned, 1);
    return rc;
}

static DWORD dial(const WCHAR *entry, DWORD options, HRASCONN *h)
{
    return dial_params(entry, L"right", L"", options, 2, (void *)func2, h);
}

static DWORD resume(HRASCONN h, const WCHAR *password, const WCHAR *callback)
{
    RASDIALEXTENSIONS ext = {.dwSize = sizeof(ext), .dwfOptions = RDEOPT_PausedStates};
    RASDIALPARAMSW p = {.dwSize = sizeof(p)};
    wcscpy(p.szUserName, L"user");
    wcscpy(p.szPassword, password);
    wcscpy(p.szCallbackNumber, callback);
    HRASCONN again = h;
    return RasDialW(&ext, NULL, &p, 2, (void *)func2, &again);
}

static DWORD status_of(HRASCONN h, RASCONNSTATUSW *st)
{
    memset(st, 0, sizeof(*st));
    st->dwSize = sizeof(*st);
    return RasGetConnectStatusW(h, st);
}

/* Hang up and wait, as Microsoft's sample does, until the handle is gone. */
static BOOL hang_up(HRASCONN h)
{
    RASCONNSTATUSW st;
    if (RasHangUpW(h) != 0)
        return FALSE;
    for (DWORD t = 0; t < WAIT_MS; t += 5) {
        if (status_of(h, &st) == ERROR_INVALID_HANDLE)
            return TRUE;
        Sleep(5);
    }
    return FALSE;
}

/* ---- the scenarios --------------------------------------------------------- */

static const RASCONNSTATE ok_states[] = {
    RASCS_OpenPort, RASCS_PortOpened, RASCS_ConnectDevice, RASCS_DeviceConnected,
    RASCS_AllDevicesConnected, RASCS_Authenticate, RASCS_AuthNotify, RASCS_Authenticated,
    RASCS_AuthProject, RASCS_Projected, RASCS_Connected,
};
#define N_OK ((int)(sizeof(ok_states) / sizeof(ok_states[0])))

static void test_ok(void)
{
    HRASCONN h;
    RASCONNSTATUSW st;
    CHECK_EQ(dial(L"ok", 0, &h), 0);
    CHECK(h != NULL);
    CHECK(wait_settled());
    Sleep(50); /* nothing may follow Connected */
    CHECK(states_are(ok_states, N_OK));
    CHECK(events[0].h == h && events[0].thread != GetCurrentThreadId());
    /* The first notification comes while RasDialW has not yet returned. */
    CHECK(!events[0].dial_had_returned && events[1].dial_had_returned);
    CHECK_EQ(status_of(h, &st), 0);
    CHECK_EQ(st.rasconnstate, RASCS_Connected);
    CHECK_EQ(st.dwError, 0);
    CHECK(wcscmp(st.szDeviceType, L"modem") == 0);
    CHECK(wcscmp(st.szDeviceName, L"Test Double Modem") == 0);
    CHECK(hang_up(h));
    /* hang_up() was told the handle is invalid: using it again is counted. */
    LONG before = violations();
    CHECK_EQ(RasHangUpW(h), ERROR_INVALID_HANDLE);
    CHECK_EQ(violations(), before + 1);
}

static void test_notifier_kinds(void)
{
    HRASCONN h;
    CHECK_EQ(dial_params(L"ok;step=1", L"", L"", 0, 1, (void *)func1, &h), 0);
    CHECK(wait_settled() && states_are(ok_states, N_OK) && events[0].h == h);
    CHECK(hang_up(h));
    CHECK_EQ(dial_params(L"ok;step=1", L"", L"", 0, 0, (void *)func0, &h), 0);
    CHECK(wait_settled() && states_are(ok_states, N_OK));
    CHECK(hang_up(h));
    /* No notifier: RasDialW blocks until the dial ends. */
    CHECK_EQ(dial_params(L"ok;step=1", L"", L"", 0, 0, NULL, &h), 0);
    RASCONNSTATUSW st;
    CHECK(h && status_of(h, &st) == 0 && st.rasconnstate == RASCS_Connected);
    CHECK(hang_up(h));
    CHECK_EQ(dial_params(L"busy;step=1", L"", L"", 0, 0, NULL, &h), ERROR_LINE_BUSY);
    CHECK(h != NULL && hang_up(h));
}

static void test_invalid(void)
{
    HRASCONN h = NULL;
    RASDIALPARAMSW p = {.dwSize = sizeof(p)};
    wcscpy(p.szEntryName, L"ok");
    CHECK_EQ(dial(L"nosuchentry", 0, &h), ERROR_CANNOT_FIND_PHONEBOOK_ENTRY);
    CHECK(h == NULL);
    CHECK_EQ(dial(L"ok;bogus=1", 0, &h), ERROR_CANNOT_FIND_PHONEBOOK_ENTRY);
    CHECK_EQ(RasDialW(NULL, NULL, NULL, 2, (void *)func2, &h), ERROR_INVALID_PARAMETER);
    CHECK_EQ(RasDialW(NULL, NULL, &p, 2, (void *)func2, NULL), ERROR_INVALID_PARAMETER);
    CHECK_EQ(RasDialW(NULL, NULL, &p, 7, (void *)func2, &h), ERROR_INVALID_PARAMETER);
    p.dwSize = 12;
    CHECK_EQ(RasDialW(NULL, NULL, &p, 2, (void *)func2, &h), ERROR_INVALID_SIZE);
    CHECK(h == NULL);
    CHECK_EQ(RasHangUpW((HRASCONN)(ULONG_PTR)0x1234), ERROR_INVALID_HANDLE);
}

/* A scenario that fails: the last notification carries the error, none follow. */
static void expect_failure(const WCHAR *entry, DWORD options, RASCONNSTATE at, DWORD err)
{
    HRASCONN h;
    RASCONNSTATUSW st;
    CHECK_EQ(dial_params(entry, L"wrong", L"", options, 2, (void *)func2, &h), 0);
    CHECK(wait_settled());
    int n = count_events();
    Sleep(60);
    CHECK_EQ(count_events(), n);
    CHECK_EQ(last_event().state, at);
    CHECK_EQ(last_event().error, err);
    CHECK(status_of(h, &st) == 0 && st.dwError == err && st.rasconnstate == at);
    CHECK(hang_up(h)); /* a failed dial still has a handle to hang up */
}

static void test_failures(void)
{
    expect_failure(L"busy", 0, RASCS_ConnectDevice, ERROR_LINE_BUSY);
    expect_failure(L"noanswer", 0, RASCS_ConnectDevice, ERROR_NO_ANSWER);
    expect_failure(L"authfail", 0, RASCS_AuthNotify, ERROR_AUTHENTICATION_FAILURE);
    expect_failure(L"expired", 0, RASCS_AuthNotify, ERROR_PASSWD_EXPIRED);
    expect_failure(L"callback", 0, RASCS_AuthCallback, ERROR_INTERACTIVE_MODE);
    expect_failure(L"ok;fail_at=Authenticate;error=718", 0, RASCS_Authenticate, 718);
    expect_failure(L"ok;fail_at=Projected", 0, RASCS_Projected, 651);
}

/* Dial, expect a pause in `paused`, resume wrongly once (pauses again), then rightly. */
static void expect_pause(const WCHAR *entry, RASCONNSTATE paused, const WCHAR *bad_pw,
                         const WCHAR *bad_cb, const WCHAR *good_pw, const WCHAR *good_cb)
{
    HRASCONN h;
    RASCONNSTATUSW st;
    CHECK_EQ(dial_params(entry, L"wrong", L"", RDEOPT_PausedStates, 2, (void *)func2, &h), 0);
    CHECK(wait_settled());
    CHECK_EQ(last_event().state, paused);
    CHECK(status_of(h, &st) == 0 && st.rasconnstate == paused);
    int n = count_events();
    CHECK_EQ(resume(h, bad_pw, bad_cb), 0);
    for (DWORD t = 0; t < WAIT_MS && count_events() <= n; t += 5)
        Sleep(5);
    CHECK(wait_settled());
    CHECK_EQ(last_event().state, paused);
    CHECK_EQ(resume(h, good_pw, good_cb), 0);
    for (DWORD t = 0; t < WAIT_MS && last_event().state != RASCS_Connected; t += 5)
        Sleep(5);
    CHECK_EQ(last_event().state, RASCS_Connected);
    CHECK_EQ(last_event().error, 0);
    CHECK(hang_up(h));
}

static void test_paused_states(void)
{
    expect_pause(L"authfail", RASCS_RetryAuthentication, L"still-wrong", L"", L"right", L"");
    expect_pause(L"expired", RASCS_PasswordExpired, L"wrong", L"", L"new-password", L"");
    expect_pause(L"callback", RASCS_CallbackSetByCaller, L"right", L"", L"right", L"5550199");
    /* Callback without pauses but with a number: straight through. */
    HRASCONN h;
    CHECK_EQ(dial_params(L"callback", L"right", L"5550199", 0, 2, (void *)func2, &h), 0);
    CHECK(wait_settled() && last_event().state == RASCS_Connected);
    CHECK(hang_up(h));
    /* Resuming a connection that is not paused. */
    CHECK_EQ(dial(L"ok;step=1", 0, &h), 0);
    CHECK(wait_settled());
    CHECK_EQ(resume(h, L"right", L""), ERROR_INVALID_PARAMETER);
    CHECK(hang_up(h));
    LONG before = violations();
    CHECK_EQ(resume(h, L"right", L""), ERROR_INVALID_HANDLE);
    CHECK_EQ(violations(), before + 1);
}

static void test_resume_inside_notifier(void)
{
    HRASCONN h;
    LONG before = violations();
    reset();
    resume_inside = TRUE;
    RASDIALEXTENSIONS ext = {.dwSize = sizeof(ext), .dwfOptions = RDEOPT_PausedStates};
    RASDIALPARAMSW p = {.dwSize = sizeof(p)};
    wcscpy(p.szEntryName, L"authfail");
    wcscpy(p.szPassword, L"wrong");
    h = NULL;
    CHECK_EQ(RasDialW(&ext, NULL, &p, 2, (void *)func2, &h), 0);
    CHECK(wait_settled());
    /* The notifier records the pause before it calls RasDialW: wait for that. */
    for (DWORD t = 0; t < WAIT_MS && *(volatile DWORD *)&resume_inside_rc == 0xFFFFFFFF; t += 5)
        Sleep(5);
    CHECK_EQ(resume_inside_rc, ERROR_INVALID_PARAMETER);
    CHECK_EQ(violations(), before + 1);
    CHECK_EQ(last_event().state, RASCS_RetryAuthentication);
    resume_inside = FALSE;
    CHECK(hang_up(h));
}

static void test_func2_stops(void)
{
    HRASCONN h;
    RASCONNSTATUSW st;
    CHECK_EQ(dial(L"ok;step=1", 0, &h), 0);
    func2_result = 0;
    for (DWORD t = 0; t < WAIT_MS; t += 5) {
        if (status_of(h, &st) == 0 && st.rasconnstate == RASCS_Connected)
            break;
        Sleep(5);
    }
    CHECK_EQ(st.rasconnstate, RASCS_Connected);
    /* The first came before the test could change the answer; the second
     * returned 0, and nothing followed. */
    CHECK_EQ(count_events(), 2);
    CHECK(hang_up(h));
}

/* Every notification runs on a thread of its own. */
static void test_fresh_threads(void)
{
    HRASCONN h;
    CHECK_EQ(dial(L"ok;step=1", 0, &h), 0);
    CHECK(count_events() >= 1); /* already delivered when RasDialW returned */
    CHECK(wait_settled());
    /* Thread ids are recycled: each thread counts the calls it saw instead. */
    BOOL fresh = count_events() == N_OK;
    for (int i = 0; i < count_events(); i++)
        fresh = fresh && events[i].nth_on_thread == 1;
    CHECK(fresh);
    CHECK(hang_up(h));
}

/* RasDialW fails, and gives out a handle that must still be hung up. */
static void test_dial_error_with_handle(void)
{
    HRASCONN h;
    CHECK_EQ(dial(L"ok;step=1;dial_error=651", 0, &h), 651);
    CHECK(h != NULL && count_events() >= 1);
    RASCONNSTATUSW st;
    CHECK_EQ(status_of(h, &st), 0);
    CHECK(hang_up(h));
}

static void test_hangup(void)
{
    HRASCONN h;
    RASCONNSTATUSW st;
    /* Mid-dial: RasHangUpW returns at once; one notification comes late. */
    CHECK_EQ(dial(L"ok;step=5;late=120", 0, &h), 0);
    while (count_events() < 3)
        Sleep(1);
    CHECK_EQ(RasHangUpW(h), 0);
    int n = count_events();
    Sleep(40);
    CHECK_EQ(count_events(), n);
    Sleep(200);
    CHECK_EQ(count_events(), n + 1);
    CHECK(last_event().h == h && last_event().state != RASCS_Connected);
    Sleep(100);
    CHECK_EQ(count_events(), n + 1);
    /* late=0: nothing after the hang-up. */
    CHECK_EQ(dial(L"ok;step=5;late=0", 0, &h), 0);
    while (count_events() < 3)
        Sleep(1);
    CHECK_EQ(RasHangUpW(h), 0);
    n = count_events();
    Sleep(80);
    CHECK_EQ(count_events(), n);
    /* hangup_delay: status answers Disconnected for a while, then handle invalid. */
    CHECK_EQ(dial(L"ok;step=1;hangup_delay=300", 0, &h), 0);
    CHECK(wait_settled());
    CHECK_EQ(RasHangUpW(h), 0);
    CHECK_EQ(status_of(h, &st), 0);
    CHECK_EQ(st.rasconnstate, RASCS_Disconnected);
    Sleep(100);
    CHECK_EQ(status_of(h, &st), 0);
    Sleep(400);
    CHECK_EQ(status_of(h, &st), ERROR_INVALID_HANDLE);
    /* From inside the notifier: allowed, and the dial stops there. */
    hangup_at = RASCS_DeviceConnected;
    CHECK_EQ(dial(L"ok;step=1;late=0", 0, &h), 0);
    hangup_inside = TRUE;
    Sleep(200);
    CHECK_EQ(hangup_inside_rc, 0);
    CHECK_EQ(last_event().state, RASCS_DeviceConnected);
    CHECK_EQ(status_of(h, &st), ERROR_INVALID_HANDLE);
}

static void test_drop_and_events(void)
{
    HRASCONN h;
    RASCONNSTATUSW st;
    HANDLE any_up = CreateEventW(NULL, FALSE, FALSE, NULL);
    HANDLE any_down = CreateEventW(NULL, FALSE, FALSE, NULL);
    HANDLE this_down = CreateEventW(NULL, FALSE, FALSE, NULL);
    CHECK_EQ(RasConnectionNotificationW(INVALID_HANDLE_VALUE, any_up, RASCN_Connection), 0);
    CHECK_EQ(RasConnectionNotificationW(INVALID_HANDLE_VALUE, any_down, RASCN_Disconnection), 0);
    CHECK_EQ(RasConnectionNotificationW((HRASCONN)(ULONG_PTR)0x77, this_down, RASCN_Disconnection),
             ERROR_INVALID_HANDLE);
    CHECK_EQ(RasConnectionNotificationW(INVALID_HANDLE_VALUE, NULL, RASCN_Connection),
             ERROR_INVALID_PARAMETER);
    CHECK_EQ(dial(L"ok;step=1;drop_after=150", 0, &h), 0);
    CHECK_EQ(RasConnectionNotificationW(h, this_down, RASCN_Disconnection), 0);
    CHECK_EQ(WaitForSingleObject(any_up, WAIT_MS), WAIT_OBJECT_0);
    CHECK(wait_settled() && last_event().state == RASCS_Connected);
    int n = count_events();
    CHECK_EQ(WaitForSingleObject(this_down, WAIT_MS), WAIT_OBJECT_0);
    CHECK_EQ(WaitForSingleObject(any_down, WAIT_MS), WAIT_OBJECT_0);
    CHECK(status_of(h, &st) == 0 && st.rasconnstate == RASCS_Disconnected);
    CHECK_EQ(st.dwError, ERROR_REMOTE_DISCONNECTION);
    CHECK_EQ(count_events(), n); /* RasDial notifications stopped at Connected */
    /* The link is gone: so is the connection (DotRas treats 668 as success). */
    CHECK_EQ(RasHangUpW(h), ERROR_NO_CONNECTION);
    CHECK_EQ(status_of(h, &st), ERROR_INVALID_HANDLE);
    /* Hanging up signals Disconnection too; the caller may close its event. */
    CHECK_EQ(dial(L"ok;step=1", 0, &h), 0);
    CHECK(wait_settled());
    CHECK_EQ(RasConnectionNotificationW(h, this_down, RASCN_Disconnection), 0);
    CloseHandle(this_down);
    ResetEvent(any_down);
    CHECK(hang_up(h));
    CHECK_EQ(WaitForSingleObject(any_down, 0), WAIT_OBJECT_0);
    CloseHandle(any_up);
    CloseHandle(any_down);
}

/* Entries, credentials, devices, projection: the same size protocol and
 * strictness as the dial calls. */
typedef DWORD(WINAPI *projection_ex_fn)(HRASCONN, void *, DWORD *);

static void test_entries_protocol(void)
{
    static BYTE buf[8192];
    RASENTRYW *e = (RASENTRYW *)buf;
    DWORD cb = 0, cbdev = 0;
    LONG before = violations();
    /* No structure: the newest size (Windows 10's, beyond mingw's XP layout). */
    CHECK_EQ(RasGetEntryPropertiesW(NULL, L"ok", NULL, &cb, NULL, &cbdev), ERROR_BUFFER_TOO_SMALL);
    CHECK(cb > sizeof(RASENTRYW) && cb < sizeof(buf));
    memset(buf, 0, sizeof(buf));
    e->dwSize = sizeof(RASENTRYW) + 2;
    cb = sizeof(buf);
    CHECK_EQ(RasGetEntryPropertiesW(NULL, L"ok", e, &cb, NULL, NULL), ERROR_INVALID_SIZE);
    e->dwSize = sizeof(RASENTRYW);
    CHECK_EQ(RasGetEntryPropertiesW(NULL, L"ok", e, &cb, NULL, NULL), 0);
    CHECK(wcscmp(e->szDeviceType, L"modem") == 0 && e->dwType == RASET_Phone);
    CHECK_EQ(RasGetEntryPropertiesW(NULL, L"no such", e, &cb, NULL, NULL),
             ERROR_CANNOT_FIND_PHONEBOOK_ENTRY);
    /* Device-specific data: its size comes as ERROR_BUFFER_TOO_SMALL. */
    BYTE dev[8] = {1, 2, 3, 4, 5, 6, 7, 8}, back[8] = {0};
    wcscpy(e->szDeviceType, L"vpn");
    wcscpy(e->szDeviceName, L"WAN Miniport (SSTP)");
    CHECK_EQ(RasSetEntryPropertiesW(NULL, L"bad|name", e, e->dwSize, NULL, 0), ERROR_INVALID_NAME);
    CHECK_EQ(RasSetEntryPropertiesW(NULL, L"Dev test", e, e->dwSize, dev, sizeof(dev)), 0);
    CHECK_EQ(RasValidateEntryNameW(NULL, L"dev TEST"), ERROR_ALREADY_EXISTS);
    cbdev = 0;
    CHECK_EQ(RasGetEntryPropertiesW(NULL, L"Dev test", e, &cb, NULL, &cbdev), ERROR_BUFFER_TOO_SMALL);
    CHECK_EQ(cbdev, sizeof(dev));
    CHECK_EQ(RasGetEntryPropertiesW(NULL, L"Dev test", e, &cb, back, &cbdev), 0);
    CHECK(memcmp(back, dev, sizeof(dev)) == 0);
    /* An update that drops it is reported. */
    CHECK_EQ(RasSetEntryPropertiesW(NULL, L"Dev test", e, e->dwSize, NULL, 0), 0);
    CHECK_EQ(violations(), before + 1);
    /* Credentials: the saved password comes back as a handle, not itself. */
    RASCREDENTIALSW cred = {.dwSize = sizeof(cred), .dwMask = RASCM_UserName | RASCM_Password};
    wcscpy(cred.szUserName, L"u");
    wcscpy(cred.szPassword, L"secret");
    CHECK_EQ(RasSetCredentialsW(NULL, L"Dev test", &cred, FALSE), 0);
    cred.dwMask = RASCM_Password | RASCM_PreSharedKey;
    CHECK_EQ(RasGetCredentialsW(NULL, L"Dev test", &cred), ERROR_INVALID_PARAMETER);
    memset(&cred, 0, sizeof(cred));
    cred.dwSize = sizeof(cred) - 2;
    cred.dwMask = RASCM_Password;
    CHECK_EQ(RasGetCredentialsW(NULL, L"Dev test", &cred), ERROR_INVALID_SIZE);
    cred.dwSize = sizeof(cred);
    CHECK_EQ(RasGetCredentialsW(NULL, L"Dev test", &cred), 0);
    CHECK(cred.dwMask == RASCM_Password && cred.szPassword[0] && wcscmp(cred.szPassword, L"secret"));
    CHECK_EQ(RasRenameEntryW(NULL, L"Dev test", L"ok"), ERROR_ALREADY_EXISTS);
    CHECK_EQ(RasDeleteEntryW(NULL, L"ok"), ERROR_ACCESS_DENIED);
    CHECK_EQ(RasDeleteEntryW(NULL, L"Dev test"), 0);
    CHECK_EQ(RasDeleteEntryW(NULL, L"Dev test"), ERROR_CANNOT_FIND_PHONEBOOK_ENTRY);
    /* Devices: the enumerations' size protocol. */
    DWORD n = 0;
    cb = 0;
    CHECK_EQ(RasEnumDevicesW(NULL, &cb, &n), ERROR_BUFFER_TOO_SMALL);
    CHECK(n >= 8 && cb == n * sizeof(RASDEVINFOW));
    RASDEVINFOW *devs = (RASDEVINFOW *)buf;
    devs->dwSize = sizeof(RASDEVINFOW) - 2;
    cb = sizeof(buf);
    CHECK_EQ(RasEnumDevicesW(devs, &cb, &n), ERROR_INVALID_SIZE);
    devs->dwSize = sizeof(RASDEVINFOW);
    CHECK_EQ(RasEnumDevicesW(devs, &cb, &n), 0);
    /* Projection: a version it does not know, a buffer too small, not yet projected. */
    projection_ex_fn ex;
    FARPROC fn = GetProcAddress(GetModuleHandleW(L"rasapi32.dll"), "RasGetProjectionInfoEx");
    memcpy(&ex, &fn, sizeof(ex));
    CHECK(ex != NULL);
    HRASCONN h = NULL;
    CHECK_EQ(dial(L"ok;step=1;hold_at=Authenticate", 0, &h), 0);
    DWORD info[64] = {0};
    cb = 8;
    if (ex) {
        info[0] = 4;
        CHECK_EQ(ex(h, info, &cb), ERROR_BUFFER_TOO_SMALL);
        CHECK(cb > 8 && cb <= sizeof(info));
        info[0] = 3;
        CHECK_EQ(ex(h, info, &cb), ERROR_INVALID_PARAMETER);
        info[0] = 4;
        CHECK_EQ(ex(h, info, &cb), 730);   /* ERROR_PROJECTION_NOT_COMPLETE */
    }
    CHECK(hang_up(h));
}

static void test_status_sizes(void)
{
    HRASCONN h;
    BYTE buf[1024];
    RASCONNSTATUSW *st = (RASCONNSTATUSW *)buf;
    CHECK_EQ(dial(L"ok;step=1;vpn=1", 0, &h), 0);
    CHECK(wait_settled());
    memset(buf, 0xEE, sizeof(buf));
    st->dwSize = 608; /* Windows 7 layout: endpoints and substate */
    CHECK_EQ(RasGetConnectStatusW(h, st), 0);
    CHECK(wcscmp(st->szDeviceType, L"vpn") == 0);
    CHECK(wcscmp(st->szDeviceName, L"WAN Miniport (PPTP)") == 0);
    static const BYTE local[] = {1, 0, 0, 0, 10, 0, 0, 2}, remote[] = {1, 0, 0, 0, 10, 0, 0, 1};
    CHECK(memcmp(buf + 564, local, sizeof(local)) == 0);
    CHECK(memcmp(buf + 584, remote, sizeof(remote)) == 0);
    CHECK(buf[608] == 0xEE); /* nothing written past dwSize */
    memset(buf, 0xEE, sizeof(buf));
    st->dwSize = sizeof(RASCONNSTATUSW);
    CHECK_EQ(RasGetConnectStatusW(h, st), 0);
    CHECK(buf[sizeof(RASCONNSTATUSW)] == 0xEE);
    memset(buf, 0xEE, sizeof(buf));
    st->dwSize = 304; /* Windows NT 4: no szPhoneNumber */
    CHECK_EQ(RasGetConnectStatusW(h, st), 0);
    CHECK(buf[304] == 0xEE);
    st->dwSize = 100;
    CHECK_EQ(RasGetConnectStatusW(h, st), ERROR_INVALID_SIZE);
    CHECK_EQ(RasGetConnectStatusW(h, NULL), ERROR_INVALID_PARAMETER);
    CHECK(hang_up(h));
}

/* The caller's retry loop: size query, then retry until the buffer fits. */
static DWORD enum_connections(RASCONNW *out, DWORD max, int *calls)
{
    DWORD cb = 0, n = 0, rc = RasEnumConnectionsW(NULL, &cb, &n);
    for (*calls = 1; rc == ERROR_BUFFER_TOO_SMALL && cb <= max * sizeof(RASCONNW); (*calls)++) {
        out[0].dwSize = sizeof(RASCONNW);
        rc = RasEnumConnectionsW(out, &cb, &n);
    }
    return rc == 0 ? n : 0xFFFFFFFF;
}

static int find_conn(const RASCONNW *list, DWORD n, const WCHAR *name)
{
    for (DWORD i = 0; i < n; i++)
        if (wcscmp(list[i].szEntryName, name) == 0)
            return (int)i;
    return -1;
}

static void test_enum_connections(void)
{
    static RASCONNW list[16];
    RASCONNSTATUSW st;
    int calls;
    DWORD n = enum_connections(list, 16, &calls);
    CHECK_EQ(n, 2);
    int home = find_conn(list, n, L"Home");
    CHECK(find_conn(list, n, L"Office") >= 0 && home >= 0);
    if (home < 0)
        return;
    HRASCONN h = list[home].hrasconn;
    CHECK(status_of(h, &st) == 0 && st.rasconnstate == RASCS_Connected);
    /* Size protocol details. */
    DWORD cb = 0, count = 0;
    CHECK_EQ(RasEnumConnectionsW(NULL, &cb, &count), ERROR_BUFFER_TOO_SMALL);
    CHECK_EQ(cb, 2 * sizeof(RASCONNW));
    list[0].dwSize = 16;
    cb = sizeof(list);
    CHECK_EQ(RasEnumConnectionsW(list, &cb, &count), ERROR_INVALID_SIZE);
    CHECK_EQ(RasEnumConnectionsW(list, NULL, &count), ERROR_INVALID_PARAMETER);
    /* The Vista layout (guidCorrelationId appended) is accepted too. */
    static BYTE big[2 * (sizeof(RASCONNW) + 16)];
    ((RASCONNW *)big)->dwSize = sizeof(RASCONNW) + 16;
    cb = sizeof(big);
    CHECK_EQ(RasEnumConnectionsW((RASCONNW *)big, &cb, &count), 0);
    CHECK_EQ(cb, sizeof(big));
    CHECK_EQ(((RASCONNW *)(big + sizeof(RASCONNW) + 16))->dwSize, sizeof(RASCONNW) + 16);
    /* A foreign connection hangs up by handle; it honours its own hangup_delay. */
    CHECK_EQ(RasHangUpW(h), 0);
    CHECK_EQ(status_of(h, &st), 0);
    CHECK(enum_connections(list, 16, &calls) == 1 && find_conn(list, 1, L"Office") == 0);
    Sleep(100);
    CHECK_EQ(status_of(h, &st), ERROR_INVALID_HANDLE);
    /* Growth: the count goes up between the size query and the retry. */
    HRASCONN d;
    CHECK_EQ(dial(L"ok;step=1;grow_conns=1", 0, &d), 0);
    CHECK(wait_settled());
    n = enum_connections(list, 16, &calls);
    CHECK_EQ(n, 3); /* Office, ok, Grown1 */
    CHECK_EQ(calls, 3);
    CHECK(find_conn(list, n, L"Grown1") >= 0);
    CHECK(hang_up(d) && hang_up(list[find_conn(list, n, L"Grown1")].hrasconn));
}

static void test_enum_entries(void)
{
    static RASENTRYNAMEW list[32];
    DWORD cb = 0, n = 0;
    CHECK_EQ(RasEnumEntriesW(NULL, NULL, NULL, &cb, &n), ERROR_BUFFER_TOO_SMALL);
    CHECK_EQ(n, 7);
    CHECK_EQ(cb, 7 * sizeof(RASENTRYNAMEW));
    list[0].dwSize = sizeof(RASENTRYNAMEW);
    CHECK_EQ(RasEnumEntriesW(NULL, NULL, list, &cb, &n), 0);
    CHECK(wcscmp(list[0].szEntryName, L"ok") == 0 && wcscmp(list[6].szEntryName, L"Work VPN") == 0);
    CHECK_EQ(RasEnumEntriesW(L"x", NULL, list, &cb, &n), ERROR_INVALID_PARAMETER);
    list[0].dwSize = 3;
    CHECK_EQ(RasEnumEntriesW(NULL, NULL, list, &cb, &n), ERROR_INVALID_SIZE);
    /* The extra entry dials like "ok". */
    HRASCONN h;
    CHECK_EQ(dial(L"Work VPN", 0, &h), 0);
    CHECK(wait_settled() && last_event().state == RASCS_Connected);
    CHECK(hang_up(h));
    /* grow_entries=1: the retry finds one more entry than the query said. */
    CHECK_EQ(dial(L"ok;step=1;grow_entries=1", 0, &h), 0);
    cb = sizeof(RASENTRYNAMEW) * 7;
    list[0].dwSize = sizeof(RASENTRYNAMEW);
    CHECK_EQ(RasEnumEntriesW(NULL, NULL, list, &cb, &n), 0); /* big enough: no growth */
    cb = sizeof(RASENTRYNAMEW);
    CHECK_EQ(RasEnumEntriesW(NULL, NULL, list, &cb, &n), ERROR_BUFFER_TOO_SMALL);
    CHECK_EQ(cb, 7 * sizeof(RASENTRYNAMEW));
    CHECK_EQ(RasEnumEntriesW(NULL, NULL, list, &cb, &n), ERROR_BUFFER_TOO_SMALL);
    CHECK_EQ(cb, 8 * sizeof(RASENTRYNAMEW));
    CHECK_EQ(RasEnumEntriesW(NULL, NULL, list, &cb, &n), 0);
    CHECK(n == 8 && wcscmp(list[7].szEntryName, L"Grown1") == 0);
    CHECK(hang_up(h));
}

static void test_errors_and_handles(void)
{
    WCHAR text[512];
    CHECK_EQ(RasGetErrorStringW(ERROR_AUTHENTICATION_FAILURE, text, 512), 0);
    CHECK(wcslen(text) > 0);
    CHECK_EQ(RasGetErrorStringW(676, text, 512), 0);
    CHECK_EQ(RasGetErrorStringW(99999, text, 512), ERROR_INVALID_PARAMETER);
    CHECK_EQ(RasGetErrorStringW(691, NULL, 512), ERROR_INVALID_PARAMETER);
    /* A torn-down handle's value goes to the next connection. */
    HRASCONN seen[5];
    BOOL same = TRUE;
    for (int i = 0; i < 5; i++) {
        dial_params(L"ok;step=1", L"", L"", 0, 0, NULL, &seen[i]);
        same = same && seen[i] && seen[i] == seen[0] && hang_up(seen[i]);
    }
    CHECK(same);
    /* Not while it is being torn down, nor while it is up. */
    HRASCONN a, b, c;
    dial_params(L"ok;step=1;hangup_delay=200", L"", L"", 0, 0, NULL, &a);
    dial_params(L"ok;step=1", L"", L"", 0, 0, NULL, &b);
    CHECK(a && b && a != b);
    CHECK_EQ(RasHangUpW(a), 0);
    dial_params(L"ok;step=1", L"", L"", 0, 0, NULL, &c);
    CHECK(c && c != a && c != b);
    /* a's teardown delay may be over already on a loaded machine. */
    RASCONNSTATUSW st;
    DWORD again = RasHangUpW(a);
    CHECK(again == 0 || again == ERROR_INVALID_HANDLE);
    for (DWORD t = 0; again == 0 && t < WAIT_MS && status_of(a, &st) != ERROR_INVALID_HANDLE; t += 5)
        Sleep(5);
    CHECK(hang_up(b) && hang_up(c));
}

/* The sizes ras.h declares (mingw-w64 and the SDK, packed to 4; the table in
 * ../shared/reference/ras-api.md): each is accepted, a size 2 bytes off is not
 * (every layout is a multiple of 4). */
typedef struct { const char *what; DWORD size; } size_case;

static const size_case layouts[] = {
#ifdef _WIN64
    {"dialparams", 2108}, {"dialparams", 2112}, {"dialparams", 2120},
    {"extensions", 44}, {"extensions", 60}, {"extensions", 24},
    {"conn", 1372}, {"conn", 1388}, {"status", 564}, {"status", 608},
#else
    {"dialparams", 2104}, {"dialparams", 2108}, {"dialparams", 2112},
    {"extensions", 28}, {"extensions", 40}, {"extensions", 16},
    {"conn", 1368}, {"conn", 1384}, {"status", 564}, {"status", 608},
#endif
    {"entryname", 1048}, {"entryname", 520},
};

/* The answer to a call with one structure of `size` bytes: 632 when refused. */
static DWORD try_size(const char *what, DWORD size, HRASCONN live)
{
    static BYTE buf[4 * 2200];
    DWORD cb = sizeof(buf), n = 0;
    HRASCONN h = NULL;
    memset(buf, 0, sizeof(buf));
    *(DWORD *)buf = size;
    if (strcmp(what, "dialparams") == 0)
        return RasDialW(NULL, NULL, (RASDIALPARAMSW *)buf, 2, (void *)func2, &h);
    if (strcmp(what, "extensions") == 0) {
        /* Parameters every mode takes (Windows 2000's): only ext can be refused. */
        RASDIALPARAMSW p = {.dwSize = offsetof(RASDIALPARAMSW, dwIfIndex)};
        return RasDialW((RASDIALEXTENSIONS *)buf, NULL, &p, 2, (void *)func2, &h);
    }
    if (strcmp(what, "conn") == 0)
        return RasEnumConnectionsW((RASCONNW *)buf, &cb, &n);
    if (strcmp(what, "status") == 0)
        return RasGetConnectStatusW(live, (RASCONNSTATUSW *)buf);
    return RasEnumEntriesW(NULL, NULL, (RASENTRYNAMEW *)buf, &cb, &n);
}

static void test_layouts(void)
{
    HRASCONN live;
    CHECK_EQ(dial(L"ok;step=1", 0, &live), 0);
    CHECK(wait_settled());
    for (size_t i = 0; i < sizeof(layouts) / sizeof(layouts[0]); i++) {
        char what[80];
        snprintf(what, sizeof(what), "%s of %lu bytes", layouts[i].what,
                 (unsigned long)layouts[i].size);
        check(try_size(layouts[i].what, layouts[i].size, live) != ERROR_INVALID_SIZE, what, __LINE__);
        snprintf(what, sizeof(what), "%s of %lu bytes refused", layouts[i].what,
                 (unsigned long)layouts[i].size + 2);
        check(try_size(layouts[i].what, layouts[i].size + 2, live) == ERROR_INVALID_SIZE, what,
              __LINE__);
    }
    CHECK(hang_up(live));
}

static void test_stub_is_not_loaded(void)
{
    /* Only the double exports this: proves Wine loaded ours, not its stub. */
    HMODULE m = GetModuleHandleW(L"rasapi32.dll");
    CHECK(m && GetProcAddress(m, "RasDoubleProtocolViolations"));
}

/* DOUBLE_TEST_TIMES=1 prints how long each group takes. */
static void run(void (*test)(void), const char *name)
{
    DWORD start = GetTickCount();
    test();
    if (GetEnvironmentVariableW(L"DOUBLE_TEST_TIMES", NULL, 0))
        printf("%-28s %5lu ms\n", name, (unsigned long)(GetTickCount() - start));
}
#define RUN(test) run(test, #test)

/* RAS_DOUBLE_WINVER=0x600: the Windows 7 layouts are refused, the older taken. */
static void test_winver_600(void)
{
    HRASCONN live;
    CHECK_EQ(dial(L"ok;step=1", 0, &live), ERROR_INVALID_SIZE); /* mingw's: Windows 7 */
#ifdef _WIN64
    CHECK(try_size("dialparams", 2108, NULL) != ERROR_INVALID_SIZE);
    CHECK_EQ(try_size("extensions", 60, NULL), ERROR_INVALID_SIZE);
    CHECK(try_size("conn", 1388, NULL) != ERROR_INVALID_SIZE);
#else
    CHECK(try_size("dialparams", 2104, NULL) != ERROR_INVALID_SIZE);
    CHECK_EQ(try_size("extensions", 40, NULL), ERROR_INVALID_SIZE);
    CHECK(try_size("conn", 1384, NULL) != ERROR_INVALID_SIZE);
#endif
    CHECK_EQ(try_size("dialparams", sizeof(RASDIALPARAMSW), NULL), ERROR_INVALID_SIZE);
    CHECK_EQ(try_size("entryname", 1048, NULL), 0);
}

/* RAS_DOUBLE_WIN11=1: RASCN_Disconnection for the process's first connection only. */
static void test_win11(void)
{
    HRASCONN first, second;
    RASCONNSTATUSW st;
    HANDLE any = CreateEventW(NULL, TRUE, FALSE, NULL);
    CHECK_EQ(RasConnectionNotificationW(INVALID_HANDLE_VALUE, any, RASCN_Disconnection), 0);
    CHECK_EQ(dial(L"ok;step=1;drop_after=300", 0, &first), 0);
    CHECK(wait_settled());
    CHECK_EQ(WaitForSingleObject(any, WAIT_MS), WAIT_OBJECT_0);  /* the first: told */
    CHECK(status_of(first, &st) == 0 && st.rasconnstate == RASCS_Disconnected);
    CHECK_EQ(RasHangUpW(first), ERROR_NO_CONNECTION);
    ResetEvent(any);
    CHECK_EQ(dial(L"ok;step=1;drop_after=100", 0, &second), 0);
    CHECK(wait_settled());
    CHECK_EQ(WaitForSingleObject(any, 600), WAIT_TIMEOUT);       /* the second: not told */
    CHECK(status_of(second, &st) == 0 && st.rasconnstate == RASCS_Disconnected);
    CHECK_EQ(RasHangUpW(second), ERROR_NO_CONNECTION);
    CloseHandle(any);
}

int main(void)
{
    setvbuf(stdout, NULL, _IONBF, 0);
    InitializeCriticalSection(&ev_lock);
    WCHAR env[64];
    /* The modes: only what each changes (the rest is the default's test). */
    if (GetEnvironmentVariableW(L"RAS_DOUBLE_WIN11", env, 64)) {
        RUN(test_win11);
        printf("%d passed, %d failed\n", passed, failed);
        return failed ? 1 : 0;
    }
    if (GetEnvironmentVariableW(L"RAS_DOUBLE_WINVER", env, 64)) {
        RUN(test_winver_600);
        printf("%d passed, %d failed\n", passed, failed);
        return failed ? 1 : 0;
    }
    if (!GetEnvironmentVariableW(L"RAS_DOUBLE_FOREIGN", env, 64)) {
        puts("double_test: run with RAS_DOUBLE_FOREIGN and RAS_DOUBLE_ENTRIES set (make check-double)");
        return 2;
    }
    RUN(test_stub_is_not_loaded);
    RUN(test_enum_connections); /* first: it expects only the foreign connections */
    RUN(test_enum_entries);
    RUN(test_ok);
    RUN(test_notifier_kinds);
    RUN(test_invalid);
    RUN(test_failures);
    RUN(test_paused_states);
    RUN(test_resume_inside_notifier);
    RUN(test_func2_stops);
    RUN(test_fresh_threads);
    RUN(test_dial_error_with_handle);
    RUN(test_layouts);
    RUN(test_hangup);
    RUN(test_drop_and_events);
    RUN(test_status_sizes);
    RUN(test_errors_and_handles);
    RUN(test_entries_protocol);
    printf("%d passed, %d failed\n", passed, failed);
    return failed ? 1 : 0;
}
