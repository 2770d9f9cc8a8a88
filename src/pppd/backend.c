/*
 * backend.c - Linux: connections are pppd processes. The backend table,
 * what ras.open("pppd", ...) takes, and the calls the binding makes (the
 * other parts: internal.h).
 */
#ifdef __linux__
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "internal.h"

/* Longest wait() sleeps at once: the contract says never forever, and the
 * hang-up loop asks the status again after each. */
#define WAIT_SLICE 1.0

/* ras.open("pppd", options), as the binding fills it by pppd_options;
 * NULL strings take the defaults. */
typedef struct pppd_config {
  const char *peers_dir, *pppd, *plugin, *run_dir, *secrets_dir;
  const char **options;
  size_t noptions;
} pppd_config;

void pppd_copy_text(char *dst, size_t size, const char *src) {
  snprintf(dst, size, "%s", src ? src : "");
}

static int store_credentials(ras_call *c, const char *user, const char *password,
                             const char *domain, ras_error *err) {
  if (user) {
    if (domain && domain[0]) snprintf(c->username, sizeof c->username, "%s\\%s", domain, user);
    else pppd_copy_text(c->username, sizeof c->username, user);
  }
  if (password) pppd_copy_text(c->password, sizeof c->password, password);
  if (strlen(c->username) > RAS_PPPD_SECRET_MAX)
    return ras_fail(err, RAS_BAD_ARGUMENT,
                    "bad parameter 'username' (pppd takes at most %d bytes%s)",
                    RAS_PPPD_SECRET_MAX, domain && domain[0] ? ", domain included" : "");
  if (strlen(c->password) > RAS_PPPD_SECRET_MAX)
    return ras_fail(err, RAS_BAD_ARGUMENT,
                    "bad parameter 'password' (pppd takes at most %d bytes)", RAS_PPPD_SECRET_MAX);
  return 0;
}

/* A fresh pppd's descriptors go into the call (pc lock held). */
static void adopt(ras_call *c, const pppd_spawned *s) {
  c->pid = s->pid;
  c->sock = s->sock;
  c->pidfd = s->pidfd;
  c->errfd = s->errfd;
  c->dead_status = c->exit_status = -1;
  c->auth_failed = c->contacted = c->overlong = c->dropping = 0;
  c->link_phase = -1;
  c->linelen = c->errlen = 0;
  c->errtrimmed = 0;
  c->errtext[0] = c->protocol_error[0] = '\0';
  c->phase = DIALLING;
}

static void discard(const pppd_spawned *s) {
  int st;
  kill(s->pid, SIGKILL);   /* our child, not yet reaped: safe */
  waitpid(s->pid, &st, 0);
  close(s->sock);
  close(s->errfd);
  if (s->pidfd >= 0) close(s->pidfd);
}

static int pppd_dial(ras_instance *pc, ras_feed *feed, const ras_dial_params *p,
                     ras_call **out, uint64_t *id, ras_error *err) {
  const char *dir = p->phonebook ? p->phonebook : pc->peers_dir;
  struct stat st;
  pppd_spawned s;
  ras_call *c;
  if (!p->entry || !pppd_valid_entry_name(p->entry))
    return ras_fail(err, RAS_ERROR_CANNOT_FIND_PHONEBOOK_ENTRY,
                    "pppd dials a peer file: an entry name is required");
  c = calloc(1, sizeof *c);
  if (!c) return ras_fail(err, RAS_ERROR_NOT_ENOUGH_MEMORY, "out of memory");
  c->pc = pc;
  c->sock = c->pidfd = c->errfd = -1;
  pppd_copy_text(c->entry, sizeof c->entry, p->entry);
  snprintf(c->peer_file, sizeof c->peer_file, "%s/%s", dir, p->entry);
  c->by_name = strcmp(dir, "/etc/ppp/peers") == 0;
  pppd_copy_text(c->number, sizeof c->number, p->number);
  pppd_copy_text(c->callback, sizeof c->callback, p->callback_number);
  c->paused_states = p->paused_states;
  /* no password and none saved may be used: pppd must not read its
   * secrets files either (the plugin answers with an empty password) */
  c->password_only = !p->password && !p->saved_credentials;
  if (stat(c->peer_file, &st) != 0 || !S_ISREG(st.st_mode)) {
    int e = errno;
    free(c);
    if (e == EACCES || e == EPERM)
      return ras_fail(err, RAS_ERROR_ACCESS_DENIED, "permission denied: cannot look up "
                      "peer file '%s' in %s", p->entry, dir);
    return ras_fail(err, RAS_ERROR_CANNOT_FIND_PHONEBOOK_ENTRY,
                    "no peer file '%s' in %s", p->entry, dir);
  }
  if (access(pc->plugin, R_OK) != 0) {
    free(c);
    return ras_fail(err, RAS_ERROR_FROM_DEVICE, "the pppd plugin %s is missing: "
                    "install it beside the module or give ras.open the plugin option",
                    pc->plugin);
  }
  if (store_credentials(c, p->username, p->password, p->domain, err) != 0 ||
      pppd_spawn(pc, c, &s, err) != 0) {   /* no lock: the watcher goes on */
    pppd_free_call(c);
    return err->code;
  }
  adopt(c, &s);
  os_mutex_lock(pc->lock);
  if (pppd_watcher_start(pc, err) != 0 || pppd_watch(c, err) != 0) {
    os_mutex_unlock(pc->lock);
    discard(&s);
    c->sock = c->pidfd = c->errfd = -1;
    pppd_free_call(c);
    return err->code;
  }
  ras_feed_ref(feed);
  c->feed = feed;
  pppd_push(c, RAS_OpenPort, RAS_SUB_None, 0, 0, NULL);
  c->emitted = 1u << RAS_OpenPort;
  pppd_link(c);
  *id = (uint64_t)c->pid;
  os_mutex_unlock(pc->lock);
  *out = c;
  return 0;
}

static int pppd_resume(ras_call *c, const ras_resume_params *p, ras_error *err) {
  ras_instance *pc = c->pc;
  pppd_spawned s;
  int paused;
  os_mutex_lock(pc->lock);
  paused = c->phase == PAUSED;
  os_mutex_unlock(pc->lock);
  /* a paused call has no process: the watcher leaves it alone */
  if (!paused)
    return ras_fail(err, RAS_ERROR_INVALID_PARAMETER,
                    "the connection is not in a paused state (%s)", ras_state_name(c->state));
  if (store_credentials(c, p->username, p->new_password ? p->new_password : p->password,
                        p->domain, err) != 0 ||
      pppd_spawn(pc, c, &s, err) != 0)
    return err->code;
  os_mutex_lock(pc->lock);
  adopt(c, &s);
  if (pppd_watch(c, err) != 0) {
    c->sock = c->pidfd = c->errfd = -1;
    c->phase = PAUSED;
    os_mutex_unlock(pc->lock);
    discard(&s);
    return err->code;
  }
  /* a new pppd: report authentication again, not the way to it */
  c->emitted &= (1u << RAS_Authenticate) - 1;
  c->state = RAS_Authenticate;
  os_mutex_unlock(pc->lock);
  return 0;
}

static int pppd_hangup(ras_call *c, ras_error *err) {
  ras_instance *pc = c->pc;
  int rc = 0;
  os_mutex_lock(pc->lock);
  if (c->phase == PAUSED || c->phase == ENDED) pppd_set_phase(c, GONE);
  else if (c->phase != GONE && !c->hangup_requested) {
    int e = pppd_signal(c, SIGTERM);
    if (e != 0 && e != ESRCH) {
      rc = ras_fail(err, e == EPERM ? RAS_ERROR_ACCESS_DENIED : RAS_ERROR_FROM_DEVICE,
                    "cannot signal pppd (pid %d): %s", (int)c->pid, strerror(e));
    } else {
      c->hangup_requested = 1;
      if (!c->foreign) pppd_schedule_kill(c, os_now() + KILL_GRACE);
      pppd_watcher_wake(pc);
    }
  }
  os_mutex_unlock(pc->lock);
  return rc;
}

static int pppd_status(ras_call *c, ras_status *st) {
  ras_instance *pc = c->pc;
  int rc = 0, foreign;
  os_mutex_lock(pc->lock);
  foreign = c->foreign;
  if (c->phase == GONE) rc = RAS_ERROR_INVALID_HANDLE;
  else {
    if (foreign && c->phase == UP) c->state = pppd_foreign_state(c);
    st->state = c->state;
    st->substate = c->substate;
    st->error = c->error;
    pppd_copy_text(st->device_type, sizeof st->device_type, "ppp");
    pppd_copy_text(st->device_name, sizeof st->device_name, c->device);
    pppd_copy_text(st->interface, sizeof st->interface, c->ifname);
    pppd_copy_text(st->local_address, sizeof st->local_address, c->local);
    pppd_copy_text(st->remote_address, sizeof st->remote_address, c->remote);
  }
  os_mutex_unlock(pc->lock);
  if (rc == 0 && foreign && st->interface[0] && !st->local_address[0]) {
    pppd_interface_address(st->interface, SIOCGIFADDR, st->local_address,
                           sizeof st->local_address);
    pppd_interface_address(st->interface, SIOCGIFDSTADDR, st->remote_address,
                           sizeof st->remote_address);
  }
  return rc;
}

static void pppd_wait(ras_call *c, double seconds) {
  ras_instance *pc = c->pc;
  if (!(seconds >= 0 && seconds <= WAIT_SLICE)) seconds = WAIT_SLICE;
  os_mutex_lock(pc->lock);
  if (c->phase != GONE) os_cond_wait(pc->cond, pc->lock, seconds);
  os_mutex_unlock(pc->lock);
}

static void pppd_release(ras_call *c) {
  ras_instance *pc = c->pc;
  ras_feed *feed;
  os_mutex_lock(pc->lock);
  feed = c->feed;
  c->feed = NULL;
  c->released = 1;
  os_wipe(c->password, sizeof c->password);
  pppd_maybe_free(c);          /* the watcher frees it once it is gone */
  pppd_watcher_wake(pc);
  os_mutex_unlock(pc->lock);
  if (feed) ras_feed_unref(feed);
}

/* ---------------------------------------------------------------------- */
/* context                                                                */

static void free_ctx(ras_instance *pc) {
  while (pc->calls) {
    ras_call *c = pc->calls;
    pc->calls = c->next;
    pppd_free_call(c);
  }
  for (size_t i = 0; i < pc->noptions; i++) free(pc->options[i]);
  free(pc->options);
  free(pc->pppd);
  free(pc->peers_dir);
  free(pc->plugin);
  free(pc->run_dir);
  free(pc->secrets_dir);
  if (pc->epoll >= 0) close(pc->epoll);
  if (pc->wake >= 0) close(pc->wake);
  os_cond_free(pc->cond);
  os_mutex_free(pc->lock);
  free(pc);
}

/* Hung-up dials are waited for (SIGKILL after the grace period) so that no
 * zombie is left; established connections stay up. */
static void pppd_close(ras_instance *pc) {
  double until = os_now() + KILL_GRACE;
  os_mutex_lock(pc->lock);
  for (;;) {
    int waiting = 0;
    for (ras_call *c = pc->calls; c; c = c->next)
      waiting |= c->hangup_requested && c->phase != GONE;
    if (!waiting || !pc->watcher || os_now() >= until + 1) break;
    pppd_watcher_wake(pc);
    os_cond_wait(pc->cond, pc->lock, 0.05);
  }
  pc->stopping = 1;
  pppd_watcher_wake(pc);
  os_mutex_unlock(pc->lock);
  if (pc->watcher) os_thread_join(pc->watcher);
  free_ctx(pc);
}

/* The plugin sits beside the module (or the program that links it): found
 * through this backend's own symbol. */
static char *default_plugin(void) {
  Dl_info info;
  char path[PATH_MAX];
  const char *slash;
  if (!dladdr(&ras_backend_pppd, &info) || !info.dli_fname) return strdup("ras_pppd.so");
  slash = strrchr(info.dli_fname, '/');
  if (!slash) return strdup("./ras_pppd.so");
  snprintf(path, sizeof path, "%.*s/ras_pppd.so", (int)(slash - info.dli_fname), info.dli_fname);
  {
    char *real = realpath(path, NULL);
    return real ? real : strdup(path);
  }
}

/* The config's strings die with open(): everything kept is a copy. */
static char *copy_option(const char *value, const char *def) {
  return value ? strdup(value) : def ? strdup(def) : NULL;
}

static int copy_words(ras_instance *pc, const pppd_config *cfg) {
  pc->options = calloc(cfg->noptions + 1, sizeof *pc->options);
  if (!pc->options) return -1;
  for (; pc->noptions < cfg->noptions; pc->noptions++)
    if (!(pc->options[pc->noptions] = strdup(cfg->options[pc->noptions]))) return -1;
  return 0;
}

static int copy_config(ras_instance *pc, const pppd_config *cfg) {
  pc->pppd = copy_option(cfg->pppd, "/usr/sbin/pppd");
  pc->peers_dir = copy_option(cfg->peers_dir, "/etc/ppp/peers");
  pc->run_dir = copy_option(cfg->run_dir, "/var/run");
  pc->secrets_dir = copy_option(cfg->secrets_dir, "/etc/ppp");
  pc->plugin = cfg->plugin ? strdup(cfg->plugin) : default_plugin();
  if (!pc->pppd || !pc->peers_dir || !pc->run_dir || !pc->plugin || !pc->secrets_dir)
    return -1;
  return copy_words(pc, cfg);
}

static ras_instance *pppd_open(const void *config, ras_error *err) {
  static const pppd_config defaults;   /* the default context may pass none */
  const pppd_config *cfg = config ? config : &defaults;
  const char *detach = pppd_detach_word(cfg->options, cfg->noptions);
  ras_instance *pc;
  if (detach) {
    ras_fail(err, RAS_BAD_ARGUMENT, "bad option 'options' ('%s': the module keeps pppd in "
             "the foreground to watch it; it cannot follow a pppd that detaches)", detach);
    return NULL;
  }
  if (!(pc = calloc(1, sizeof *pc))) {
    ras_fail(err, RAS_ERROR_NOT_ENOUGH_MEMORY, "cannot open the pppd backend: out of memory");
    return NULL;
  }
  pc->epoll = pc->wake = -1;
  pc->lock = os_mutex_new();
  pc->cond = os_cond_new();
  if (!pc->lock || !pc->cond || copy_config(pc, cfg) != 0) {
    ras_fail(err, RAS_ERROR_NOT_ENOUGH_MEMORY, "cannot open the pppd backend: out of memory");
    free_ctx(pc);
    return NULL;
  }
  if ((pc->epoll = epoll_create1(EPOLL_CLOEXEC)) < 0 ||
      (pc->wake = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK)) < 0) {
    ras_fail_errno(err, errno, "cannot create the pppd watcher's epoll set and eventfd");
    free_ctx(pc);
    return NULL;
  }
  {
    struct epoll_event ev = { .events = EPOLLIN, .data.ptr = &pc->wake_watch };
    pc->wake_watch.kind = W_WAKE;
    if (epoll_ctl(pc->epoll, EPOLL_CTL_ADD, pc->wake, &ev) != 0) {
      ras_fail_errno(err, errno, "cannot watch the pppd watcher's eventfd");
      free_ctx(pc);
      return NULL;
    }
  }
  return pc;
}

static const ras_field pppd_fields[] = {
  { .name = "peers_dir", .kind = RAS_STRING, .offset = offsetof(pppd_config, peers_dir),
    .max = OPTION_MAX_PATH },
  { .name = "pppd", .kind = RAS_STRING, .offset = offsetof(pppd_config, pppd),
    .max = OPTION_MAX_PATH },
  { .name = "options", .kind = RAS_STRINGS, .offset = offsetof(pppd_config, options),
    .count = offsetof(pppd_config, noptions), .limit = OPTION_MAX_WORDS,
    .max = OPTION_MAX_WORD },
  { .name = "plugin", .kind = RAS_STRING, .offset = offsetof(pppd_config, plugin),
    .max = OPTION_MAX_PATH },
  { .name = "run_dir", .kind = RAS_STRING, .offset = offsetof(pppd_config, run_dir),
    .max = OPTION_MAX_PATH },
  { .name = "secrets_dir", .kind = RAS_STRING, .offset = offsetof(pppd_config, secrets_dir),
    .max = OPTION_MAX_PATH },
  { .name = NULL }
};

static const ras_record pppd_options = {
  .size = sizeof(pppd_config),
  .fields = pppd_fields
};

const ras_backend ras_backend_pppd = {
  .name = "pppd",
  .options = &pppd_options,
  .open = pppd_open,
  .close = pppd_close,
  .dial = pppd_dial,
  .attach = pppd_attach,
  .resume = pppd_resume,
  .hangup = pppd_hangup,
  .status = pppd_status,
  .wait = pppd_wait,
  .release = pppd_release,
  .connections = pppd_connections,
  .entries = pppd_entries,
  .error_text = NULL,
  /* issue 12: info.c, watch.c */
  .statistics = pppd_statistics,
  .projection = pppd_projection,
  .devices = pppd_devices,
  .watch = pppd_watch_start,
  .unwatch = pppd_unwatch,
  /* issue 11: entries.c, secrets.c */
  .entry = pppd_entry,
  .create_entry = pppd_create_entry,
  .update_entry = pppd_update_entry,
  .rename_entry = pppd_rename_entry,
  .delete_entry = pppd_delete_entry,
  .validate_entry_name = pppd_validate_entry_name,
  .credentials = pppd_credentials,
  .set_credentials = pppd_set_credentials,
  .clear_credentials = pppd_clear_credentials
};

#endif /* __linux__ */
