/*
 * backend_sim.c - the simulator: dial scripts run against scenarios instead
 * of a server. One real background thread per context plays every
 * connection's scenario on a timer and pushes its notifications through the
 * same queue the real backends use, so the core is exercised for real.
 */
#include <stdlib.h>
#include <string.h>

#include "lauxlib.h"
#include "lua.h"

#include "backend.h"

/* What a dial to one entry does; read-only once the context is open. */
typedef struct scenario {
  char *name;
  char *username, *password;      /* expected; NULL accepts anything */
  unsigned char *states;          /* running states reported before Connected */
  size_t nstates;
  double step;                    /* seconds between notifications */
  int fail_at, fail_error;        /* fail_at -1: never */
  int callback, password_expired;
  double drop_after;              /* < 0: the link never drops */
  double hangup_delay;
  char device_type[RAS_MAX_DEVICE_TYPE + 1];
  char device_name[RAS_MAX_DEVICE_NAME + 1];
  char local_address[64], remote_address[64];
} scenario;

typedef struct sim {
  os_mutex *lock;
  os_cond *cond;                  /* timer changes, and calls that are gone */
  os_thread *thread;              /* started by the first call that needs it */
  int stopping;
  char *phonebook;
  scenario *scenarios;
  size_t nscenarios;
  scenario fallback;              /* for dials by number alone */
  struct ras_call *calls;
  uint64_t next_id;
  ras_event batch[64];            /* one call's events, pushed under one lock */
  size_t nbatch;
} sim;

enum phase { RUNNING, PAUSED, CONNECTED, ENDED, TEARDOWN, GONE };

struct ras_call {
  sim *sim;
  struct ras_call *next;
  uint64_t id;
  const scenario *sc;
  ras_link *link;                 /* NULL when nobody watches */
  enum phase phase;
  double due;                     /* next timed step; < 0: none */
  size_t next_state;
  const unsigned char *extra;     /* states inserted by a checkpoint */
  size_t nextra, iextra;
  int state, error;
  int paused_states, authenticated, password_changed, called_back, projected;
  int released;
  char username[RAS_MAX_USER + 1], password[RAS_MAX_PASSWORD + 1];
  char callback_number[RAS_MAX_NUMBER + 1];
};

static const unsigned char default_states[] = {
  RAS_OpenPort, RAS_PortOpened, RAS_ConnectDevice, RAS_DeviceConnected,
  RAS_AllDevicesConnected, RAS_Authenticate, RAS_AuthNotify,
  RAS_Authenticated, RAS_AuthProject, RAS_Projected
};
static const unsigned char reauthenticate[] = { RAS_Authenticate };
static const unsigned char ask_callback[] = { RAS_AuthCallback };
static const unsigned char call_back[] = {
  RAS_PrepareForCallback, RAS_WaitForModemReset, RAS_WaitForCallback,
  RAS_CallbackComplete
};

#define INSERT(c, seq) \
  ((c)->extra = (seq), (c)->nextra = sizeof(seq), (c)->iextra = 0)

/* playing a scenario (sim lock held) */

/* Only the simulator thread emits; its loop flushes the batch. */
static void emit(ras_call *c, int state, int error) {
  ras_event ev = { state, error, 0, 1, os_now(), NULL };
  sim *s = c->sim;
  c->state = state;
  if (error) c->error = error;
  if (state == RAS_Projected || state == RAS_Connected) c->projected = 1;
  s->batch[s->nbatch++] = ev;
}

static void flush(sim *s, ras_call *c) {
  if (s->nbatch && c->link) ras_link_push_many(c->link, s->batch, s->nbatch);
  s->nbatch = 0;
}

static int fail(ras_call *c, int error) {
  emit(c, RAS_Disconnected, error);
  c->phase = ENDED;
  c->due = -1;
  return 0;
}

/* Without paused_states, RAS reports a paused state as an error. */
static int pause_or_fail(ras_call *c, int paused_state, int error) {
  if (!c->paused_states) return fail(c, error);
  emit(c, paused_state, 0);
  c->phase = PAUSED;
  c->due = -1;
  return 0;
}

static int credentials_match(const ras_call *c) {
  const scenario *sc = c->sc;
  return (!sc->username || strcmp(sc->username, c->username) == 0) &&
         (!sc->password || strcmp(sc->password, c->password) == 0);
}

static int check_credentials(ras_call *c) {
  if (!credentials_match(c))
    return pause_or_fail(c, RAS_RetryAuthentication,
                         RAS_ERROR_AUTHENTICATION_FAILURE);
  if (c->sc->password_expired && !c->password_changed)
    return pause_or_fail(c, RAS_PasswordExpired, RAS_ERROR_PASSWD_EXPIRED);
  c->authenticated = 1;
  return 1;
}

static int check_callback(ras_call *c) {
  if (!c->sc->callback || c->called_back) return 1;
  if (c->callback_number[0] == '\0')
    return pause_or_fail(c, RAS_CallbackSetByCaller,
                         RAS_ERROR_INTERACTIVE_MODE);
  c->called_back = 1;
  INSERT(c, call_back);
  return 0;
}

/* The list is played out: the checkpoints it lacked, then Connected. */
static void finish_dial(ras_call *c, double now) {
  const scenario *sc = c->sc;
  if (!c->authenticated && !check_credentials(c)) return;
  if (sc->callback && !c->called_back) {
    INSERT(c, ask_callback);
    return;
  }
  emit(c, RAS_Connected, 0);
  os_wipe(c->password, sizeof c->password);  /* no resume after Connected */
  c->phase = CONNECTED;
  c->due = sc->drop_after >= 0 ? now + sc->drop_after : -1;
}

static void run_step(ras_call *c, double now) {
  const scenario *sc = c->sc;
  int state;
  if (c->iextra < c->nextra) state = c->extra[c->iextra++];
  else if (c->next_state < sc->nstates) state = sc->states[c->next_state++];
  else {
    finish_dial(c, now);
    return;
  }
  emit(c, state, 0);
  c->due = now + sc->step;
  if (state == sc->fail_at) fail(c, sc->fail_error);
  else if (state == RAS_Authenticate) check_credentials(c);
  else if (state == RAS_Authenticated && sc->callback && !c->called_back)
    INSERT(c, ask_callback);
  else if (state == RAS_AuthCallback) check_callback(c);
}

static void advance(sim *s, ras_call *c, double now) {
  switch (c->phase) {
  case RUNNING: run_step(c, now); break;
  case CONNECTED: fail(c, RAS_ERROR_REMOTE_DISCONNECTION); break;
  case TEARDOWN:
    c->phase = GONE;
    c->due = -1;
    os_cond_broadcast(s->cond);
    break;
  default: c->due = -1; break;
  }
}

static void free_call(ras_call *c) {
  os_wipe(c, sizeof *c);
  free(c);
}

/* Plays every due step; a step-0 burst yields the lock every batch so that
 * the Lua thread's status and hangup calls are not starved. */
static void sim_thread(void *arg) {
  sim *s = arg;
  os_mutex_lock(s->lock);
  while (!s->stopping) {
    double now = os_now(), next = -1;
    ras_call **pp = &s->calls;
    while (*pp) {
      ras_call *c = *pp;
      /* a step emits at most two events (a state, then its failure) */
      for (int batch = 0; batch < 31 && c->due >= 0 && c->due <= now; batch++)
        advance(s, c, now);
      flush(s, c);
      if (c->phase == GONE && c->released) {
        *pp = c->next;
        free_call(c);
        continue;
      }
      if (c->due >= 0 && (next < 0 || c->due < next)) next = c->due;
      pp = &c->next;
    }
    if (next < 0) os_cond_wait(s->cond, s->lock, -1);
    else if (next > now) os_cond_wait(s->cond, s->lock, next - now);
    else {
      os_mutex_unlock(s->lock);
      os_mutex_lock(s->lock);
    }
  }
  os_mutex_unlock(s->lock);
}

/* sim lock held */
static int ensure_thread(sim *s, ras_error *err) {
  if (s->thread) return 0;
  s->thread = os_thread_start(sim_thread, s);
  if (!s->thread)
    return ras_fail(err, RAS_ERROR_NOT_ENOUGH_MEMORY,
                    "cannot start the simulator thread");
  return 0;
}

/* backend interface */

static const scenario *find_scenario(sim *s, const char *entry) {
  for (size_t i = 0; i < s->nscenarios; i++)
    if (strcmp(s->scenarios[i].name, entry) == 0) return &s->scenarios[i];
  return NULL;
}

/* Copies src (when given), cut to fit: the core has checked the lengths. */
static void copy_text(char *dst, size_t size, const char *src) {
  size_t len;
  if (!src) return;
  len = strlen(src);
  if (len >= size) len = size - 1;
  memcpy(dst, src, len);
  dst[len] = '\0';
}

static int sim_dial(void *be, ras_link *link, const ras_dial_params *p,
                    ras_call **out, uint64_t *id, ras_error *err) {
  sim *s = be;
  const scenario *sc = p->entry ? find_scenario(s, p->entry) : &s->fallback;
  ras_call *c;
  if (!sc || (p->phonebook && strcmp(p->phonebook, s->phonebook) != 0))
    return ras_fail(err, RAS_ERROR_CANNOT_FIND_PHONEBOOK_ENTRY,
                    "no entry '%s' in the simulator's phonebook '%s'",
                    p->entry ? p->entry : "", s->phonebook);
  c = calloc(1, sizeof *c);
  if (!c) return ras_fail(err, RAS_ERROR_NOT_ENOUGH_MEMORY, "out of memory");
  c->sim = s;
  c->sc = sc;
  c->paused_states = p->paused_states;
  copy_text(c->username, sizeof c->username, p->username);
  copy_text(c->password, sizeof c->password, p->password);
  copy_text(c->callback_number, sizeof c->callback_number, p->callback_number);
  c->phase = RUNNING;
  c->due = os_now();
  os_mutex_lock(s->lock);
  if (ensure_thread(s, err) != 0) {
    os_mutex_unlock(s->lock);
    free_call(c);
    return err->code;
  }
  ras_link_ref(link);
  c->link = link;
  c->id = *id = ++s->next_id;
  c->next = s->calls;
  s->calls = c;
  os_cond_broadcast(s->cond);
  os_mutex_unlock(s->lock);
  *out = c;
  return 0;
}

static ras_call *find_call(sim *s, uint64_t id) {
  for (ras_call *c = s->calls; c; c = c->next)
    if (c->id == id && c->phase != GONE) return c;
  return NULL;
}

static ras_call *sim_attach(void *be, ras_link *link, uint64_t id,
                            ras_error *err) {
  sim *s = be;
  ras_call *c;
  os_mutex_lock(s->lock);
  c = find_call(s, id);
  if (c && !c->link) {
    ras_link_ref(link);
    c->link = link;
    c->released = 0;
  } else {
    ras_fail(err, RAS_ERROR_INVALID_HANDLE, "the connection no longer exists");
    c = NULL;
  }
  os_mutex_unlock(s->lock);
  return c;
}

static int sim_resume(ras_call *c, const ras_resume_params *p, ras_error *err) {
  sim *s = c->sim;
  int rc = 0;
  os_mutex_lock(s->lock);
  if (c->phase != PAUSED) {
    rc = ras_fail(err, RAS_ERROR_INVALID_PARAMETER,
                  "the connection is not in a paused state (%s)",
                  ras_state_name(c->state));
  } else {
    copy_text(c->username, sizeof c->username, p->username);
    copy_text(c->password, sizeof c->password, p->password);
    copy_text(c->callback_number, sizeof c->callback_number, p->callback_number);
    if (p->new_password) c->password_changed = 1;
    if (c->state == RAS_CallbackSetByCaller) INSERT(c, ask_callback);
    else INSERT(c, reauthenticate);
    c->phase = RUNNING;
    c->due = os_now() + c->sc->step;
    os_cond_broadcast(s->cond);
  }
  os_mutex_unlock(s->lock);
  return rc;
}

static int sim_hangup(ras_call *c, ras_error *err) {
  sim *s = c->sim;
  os_mutex_lock(s->lock);
  if (c->phase != TEARDOWN && c->phase != GONE) {
    c->state = RAS_Disconnected;
    if (c->sc->hangup_delay > 0 && ensure_thread(s, err) == 0) {
      c->phase = TEARDOWN;
      c->due = os_now() + c->sc->hangup_delay;
    } else {
      c->phase = GONE;
      c->due = -1;
    }
    os_cond_broadcast(s->cond);
  }
  os_mutex_unlock(s->lock);
  return 0;
}

static int sim_status(ras_call *c, ras_status *st) {
  sim *s = c->sim;
  const scenario *sc = c->sc;
  int rc = 0;
  os_mutex_lock(s->lock);
  if (c->phase == GONE) rc = RAS_ERROR_INVALID_HANDLE;
  else {
    st->state = c->state;
    st->error = c->error;
    copy_text(st->device_type, sizeof st->device_type, sc->device_type);
    copy_text(st->device_name, sizeof st->device_name, sc->device_name);
    if (c->projected) {
      copy_text(st->local_address, sizeof st->local_address, sc->local_address);
      copy_text(st->remote_address, sizeof st->remote_address, sc->remote_address);
    }
  }
  os_mutex_unlock(s->lock);
  return rc;
}

static void sim_wait(ras_call *c, double seconds) {
  sim *s = c->sim;
  os_mutex_lock(s->lock);
  if (c->phase != GONE) os_cond_wait(s->cond, s->lock, seconds);
  os_mutex_unlock(s->lock);
}

static void unlink_call(sim *s, ras_call *c) {
  for (ras_call **pp = &s->calls; *pp; pp = &(*pp)->next)
    if (*pp == c) {
      *pp = c->next;
      return;
    }
}

static void sim_release(ras_call *c) {
  sim *s = c->sim;
  ras_link *link;
  os_mutex_lock(s->lock);
  link = c->link;
  c->link = NULL;
  c->released = 1;
  if (c->phase == GONE) {
    unlink_call(s, c);
    free_call(c);
  }
  os_mutex_unlock(s->lock);
  if (link) ras_link_unref(link);
}

static ras_conn_info *sim_connections(void *be, size_t *n, ras_error *err) {
  sim *s = be;
  size_t count = 0, i = 0;
  ras_conn_info *list;
  os_mutex_lock(s->lock);
  for (ras_call *c = s->calls; c; c = c->next) count += c->phase != GONE;
  list = calloc(count + 1, sizeof *list);
  if (list) {
    for (ras_call *c = s->calls; c; c = c->next) {
      if (c->phase == GONE) continue;
      list[i].id = c->id;
      copy_text(list[i].entry, sizeof list[i].entry, c->sc->name);
      copy_text(list[i].phonebook, sizeof list[i].phonebook, s->phonebook);
      i++;
    }
  }
  os_mutex_unlock(s->lock);
  if (!list) ras_fail(err, RAS_ERROR_NOT_ENOUGH_MEMORY, "out of memory");
  *n = count;
  return list;
}

static ras_entry_info *sim_entries(void *be, const char *phonebook, size_t *n,
                                   ras_error *err) {
  sim *s = be;
  int listed = !phonebook || strcmp(phonebook, s->phonebook) == 0;
  ras_entry_info *list = calloc(s->nscenarios + 1, sizeof *list);
  if (!list) {
    ras_fail(err, RAS_ERROR_NOT_ENOUGH_MEMORY, "out of memory");
    return NULL;
  }
  *n = listed ? s->nscenarios : 0;
  for (size_t i = 0; i < *n; i++) {
    copy_text(list[i].name, sizeof list[i].name, s->scenarios[i].name);
    copy_text(list[i].phonebook, sizeof list[i].phonebook, s->phonebook);
  }
  return list;
}

static void free_scenario(scenario *sc) {
  free(sc->name);
  free(sc->username);
  if (sc->password) os_wipe(sc->password, strlen(sc->password));
  free(sc->password);
  if (sc->states != default_states) free(sc->states);
}

static void free_sim(sim *s) {
  while (s->calls) {
    ras_call *c = s->calls;
    s->calls = c->next;
    if (c->link) ras_link_unref(c->link);
    free_call(c);
  }
  for (size_t i = 0; i < s->nscenarios; i++) free_scenario(&s->scenarios[i]);
  free(s->scenarios);
  free(s->phonebook);
  os_cond_free(s->cond);
  os_mutex_free(s->lock);
  free(s);
}

static void sim_close(void *be) {
  sim *s = be;
  os_mutex_lock(s->lock);
  s->stopping = 1;
  os_cond_broadcast(s->cond);
  os_mutex_unlock(s->lock);
  if (s->thread) os_thread_join(s->thread);
  free_sim(s);
}

/* options: everything that can raise runs while a guard owns the state */

static void set_defaults(scenario *sc) {
  sc->states = (unsigned char *)default_states;
  sc->nstates = sizeof default_states;
  sc->step = 0.01;
  sc->fail_at = -1;
  sc->drop_after = -1;
  strcpy(sc->device_type, "modem");
  strcpy(sc->device_name, "Simulated Modem");
}

static char *dup_string(lua_State *L, int idx, const char *field) {
  size_t len;
  const char *s;
  char *copy;
  if (lua_type(L, idx) != LUA_TSTRING)
    luaL_error(L, "scenario field '%s' must be a string", field);
  s = lua_tolstring(L, idx, &len);
  if (strlen(s) != len)
    luaL_error(L, "scenario field '%s' contains a NUL byte", field);
  copy = malloc(len + 1);
  if (!copy) luaL_error(L, "out of memory");
  memcpy(copy, s, len + 1);
  return copy;
}

static void text_field(lua_State *L, int idx, const char *field, char *dst,
                       size_t size) {
  size_t len;
  const char *s = lua_tolstring(L, idx, &len);
  if (lua_type(L, idx) != LUA_TSTRING || len >= size || strlen(s) != len)
    luaL_error(L, "scenario field '%s' must be a string of at most %d bytes",
               field, (int)size - 1);
  memcpy(dst, s, len + 1);
}

static double seconds_field(lua_State *L, int idx, const char *field) {
  double v = lua_tonumber(L, idx);
  if (lua_type(L, idx) != LUA_TNUMBER || !(v >= 0))
    luaL_error(L, "scenario field '%s' must be a number of seconds >= 0", field);
  return v;
}

static int state_arg(lua_State *L, int idx, const char *what) {
  int state = -1;
  if (lua_type(L, idx) == LUA_TSTRING) state = ras_state_value(lua_tostring(L, idx));
  else if (lua_isinteger(L, idx) && ras_state_name((int)lua_tointeger(L, idx)))
    state = (int)lua_tointeger(L, idx);
  if (state < 0) luaL_error(L, "%s: unknown state", what);
  return state;
}

static void parse_states(lua_State *L, int idx, scenario *sc) {
  size_t n;
  luaL_argexpected(L, lua_istable(L, idx), idx, "table of states");
  n = lua_rawlen(L, idx);
  sc->states = malloc(n ? n : 1);
  if (!sc->states) luaL_error(L, "out of memory");
  sc->nstates = 0;
  for (size_t i = 1; i <= n; i++) {
    int state;
    lua_rawgeti(L, idx, (lua_Integer)i);
    state = state_arg(L, -1, "scenario field 'states'");
    if (ras_state_group(state) != RAS_GROUP_RUNNING)
      luaL_error(L, "scenario field 'states' may list running states only "
                    "(Connected is reported at the end by itself)");
    sc->states[sc->nstates++] = (unsigned char)state;
    lua_pop(L, 1);
  }
}

static void parse_fail(lua_State *L, int idx, scenario *sc) {
  if (!lua_istable(L, idx)) luaL_error(L, "scenario field 'fail' must be a table");
  lua_getfield(L, idx, "at");
  sc->fail_at = state_arg(L, -1, "scenario field 'fail.at'");
  lua_getfield(L, idx, "error");
  if (!lua_isinteger(L, -1) || lua_tointeger(L, -1) <= 0)
    luaL_error(L, "scenario field 'fail.error' must be a positive error code");
  sc->fail_error = (int)lua_tointeger(L, -1);
  lua_pop(L, 2);
}

/* Parses the scenario at the top of the stack into *sc. */
static void parse_scenario(lua_State *L, scenario *sc) {
  int t = lua_gettop(L);
  if (!lua_istable(L, t)) luaL_error(L, "scenario '%s' must be a table", sc->name);
  lua_pushnil(L);
  while (lua_next(L, t)) {
    const char *k = lua_type(L, -2) == LUA_TSTRING ? lua_tostring(L, -2) : "?";
    int v = lua_gettop(L);
    if (strcmp(k, "username") == 0) sc->username = dup_string(L, v, k);
    else if (strcmp(k, "password") == 0) sc->password = dup_string(L, v, k);
    else if (strcmp(k, "states") == 0) parse_states(L, v, sc);
    else if (strcmp(k, "step") == 0) sc->step = seconds_field(L, v, k);
    else if (strcmp(k, "fail") == 0) parse_fail(L, v, sc);
    else if (strcmp(k, "callback") == 0) sc->callback = lua_toboolean(L, v);
    else if (strcmp(k, "password_expired") == 0) sc->password_expired = lua_toboolean(L, v);
    else if (strcmp(k, "drop_after") == 0) sc->drop_after = seconds_field(L, v, k);
    else if (strcmp(k, "hangup_delay") == 0) sc->hangup_delay = seconds_field(L, v, k);
    else if (strcmp(k, "device_type") == 0) text_field(L, v, k, sc->device_type, sizeof sc->device_type);
    else if (strcmp(k, "device_name") == 0) text_field(L, v, k, sc->device_name, sizeof sc->device_name);
    else if (strcmp(k, "local_address") == 0) text_field(L, v, k, sc->local_address, sizeof sc->local_address);
    else if (strcmp(k, "remote_address") == 0) text_field(L, v, k, sc->remote_address, sizeof sc->remote_address);
    else luaL_error(L, "unknown scenario field '%s' in entry '%s'", k, sc->name);
    lua_settop(L, v - 1);
  }
}

static void parse_entries(lua_State *L, int idx, sim *s) {
  size_t n = 0;
  if (!lua_istable(L, idx)) luaL_error(L, "option 'entries' must be a table");
  lua_pushnil(L);
  while (lua_next(L, idx)) n++, lua_pop(L, 1);
  s->scenarios = calloc(n + 1, sizeof *s->scenarios);
  if (!s->scenarios) luaL_error(L, "out of memory");
  lua_pushnil(L);
  while (lua_next(L, idx)) {
    scenario *sc = &s->scenarios[s->nscenarios++];
    set_defaults(sc);
    if (lua_type(L, -2) != LUA_TSTRING)
      luaL_error(L, "option 'entries' must be keyed by entry name");
    sc->name = dup_string(L, -2, "entries");
    if (strlen(sc->name) > RAS_MAX_ENTRY)
      luaL_error(L, "entry name longer than %d bytes", RAS_MAX_ENTRY);
    parse_scenario(L, sc);
    lua_pop(L, 1);
  }
}

static int by_name(const void *a, const void *b) {
  return strcmp(((const scenario *)a)->name, ((const scenario *)b)->name);
}

/* Connections "dialled by another program": already up when we look. */
static void parse_established(lua_State *L, int idx, sim *s) {
  if (!lua_istable(L, idx)) luaL_error(L, "option 'established' must be a table");
  for (lua_Integer i = 1; lua_rawgeti(L, idx, i) != LUA_TNIL; i++) {
    const scenario *sc = lua_isstring(L, -1) ? find_scenario(s, lua_tostring(L, -1)) : NULL;
    ras_call *c;
    if (!sc) luaL_error(L, "option 'established': no entry named '%s'", luaL_tolstring(L, -1, NULL));
    c = calloc(1, sizeof *c);
    if (!c) luaL_error(L, "out of memory");
    c->sim = s;
    c->sc = sc;
    c->id = ++s->next_id;
    c->phase = CONNECTED;
    c->due = -1;
    c->state = RAS_Connected;
    c->projected = c->authenticated = c->released = 1;
    c->next = s->calls;
    s->calls = c;
    lua_pop(L, 1);
  }
  lua_pop(L, 1);
}

static void free_sim_state(void *s) { free_sim(s); }

static void *sim_open(lua_State *L, int options, ras_error *err) {
  sim *s = calloc(1, sizeof *s);
  void *guard;
  if (!s) {
    ras_fail(err, RAS_ERROR_NOT_ENOUGH_MEMORY, "out of memory");
    return NULL;
  }
  guard = ras_guard_push(L, s, free_sim_state);
  s->lock = os_mutex_new();
  s->cond = os_cond_new();
  if (!s->lock || !s->cond) luaL_error(L, "out of memory");
  set_defaults(&s->fallback);
  s->fallback.name = "";
  if (ras_option(L, options, "phonebook") == LUA_TNIL) {
    lua_pop(L, 1);
    lua_pushliteral(L, "sim");
  }
  s->phonebook = dup_string(L, -1, "phonebook");
  if (ras_option(L, options, "entries") != LUA_TNIL)
    parse_entries(L, lua_gettop(L), s);
  if (s->nscenarios) qsort(s->scenarios, s->nscenarios, sizeof *s->scenarios, by_name);
  if (ras_option(L, options, "established") != LUA_TNIL)
    parse_established(L, lua_gettop(L), s);
  lua_pop(L, 3);
  ras_guard_release(L, guard);
  return s;
}

const ras_backend ras_backend_sim = {
  "sim",
  sim_open, sim_close,
  sim_dial, sim_attach, sim_resume, sim_hangup, sim_status, sim_wait,
  sim_release,
  sim_connections, sim_entries,
  NULL
};
