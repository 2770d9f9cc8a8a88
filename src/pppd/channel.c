/*
 * channel.c - the plugin's lines (protocol.h) become RASCONNSTATE events;
 * pppd's termination reasons become RAS errors; Connected and its redials
 * are told to the context's watchers (watch.c). Everything here runs with
 * the context's lock held, in the watcher thread.
 */
#ifdef __linux__
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "internal.h"
#include "../queue.h"

/* ---------------------------------------------------------------------- */
/* termination reasons                                                    */

static const char *reason_text(int status) {
  static const char *const texts[] = {
    "pppd ended normally", "pppd hit a fatal error", "pppd option error",
    "pppd must run as root", "no kernel PPP support (/dev/ppp)",
    "pppd was stopped by a signal", "the serial port lock failed",
    "the serial port could not be opened", "the connect script failed",
    "the pty command failed", "PPP negotiation failed",
    "the peer failed to authenticate itself", "the link was idle",
    "the connect time limit was reached", "callback was negotiated",
    "the peer stopped answering echo requests", "the modem hung up",
    "a loopback was detected", "the init script failed",
    "we failed to authenticate to the peer", "the traffic limit was reached",
    "CNID authentication failed"
  };
  if (status >= 0 && status < (int)(sizeof texts / sizeof texts[0]))
    return texts[status];
  return "pppd ended";
}

/* The RAS error for pppd's termination reason. */
static int reason_error(int status, int was_up) {
  int dropped = was_up ? RAS_ERROR_REMOTE_DISCONNECTION : RAS_ERROR_PORT_DISCONNECTED;
  switch (status) {
  case RAS_PPPD_EXIT_AUTH_TOPEER: case RAS_PPPD_EXIT_PEER_AUTH: case RAS_PPPD_EXIT_CNID:
    return RAS_ERROR_AUTHENTICATION_FAILURE;
  case RAS_PPPD_EXIT_CONNECT: return RAS_ERROR_NO_ANSWER;
  case RAS_PPPD_EXIT_LOCK: case RAS_PPPD_EXIT_OPEN: return RAS_ERROR_DEVICE_NOT_READY;
  case RAS_PPPD_EXIT_NEGOTIATION: return RAS_ERROR_PPP_LCP_TERMINATED;
  case RAS_PPPD_EXIT_PEER_DEAD:
    return was_up ? RAS_ERROR_REMOTE_DISCONNECTION : RAS_ERROR_PPP_TIMEOUT;
  case RAS_PPPD_EXIT_LOOPBACK: return 737;
  case RAS_PPPD_EXIT_OK: case RAS_PPPD_EXIT_HANGUP: case RAS_PPPD_EXIT_SIGNAL:
  case RAS_PPPD_EXIT_IDLE: case RAS_PPPD_EXIT_CONNECT_TIME: case RAS_PPPD_EXIT_TRAFFIC:
    return dropped;
  default: return RAS_ERROR_FROM_DEVICE;
  }
}

/* ---------------------------------------------------------------------- */
/* events                                                                 */

static void protocol_error(ras_call *c, const char *fmt, ...)
  __attribute__((format(printf, 2, 3)));

void pppd_push(ras_call *c, int state, int substate, int error, int extended,
               const char *detail) {
  ras_event ev = { .state = state, .substate = substate, .error = error,
                   .extended_error = extended, .time = os_now() };
  c->state = state;
  c->substate = substate;
  if (error) c->error = error;
  if (!c->feed) return;
  if (detail) ev.detail = strdup(detail);
  ras_feed_push(c->feed, &ev);
  /* a plugin that floods events ends its connection: the queue is bounded */
  if (state != RAS_Disconnected && ras_feed_pending(c->feed) > MAX_QUEUED)
    protocol_error(c, "more than %d events unread", MAX_QUEUED);
}

/* Reports a running state once per dial attempt. */
static void reach(ras_call *c, int state) {
  if (c->emitted & (1u << state)) return;
  c->emitted |= 1u << state;
  pppd_push(c, state, RAS_SUB_None, 0, 0, NULL);
}

void pppd_set_phase(ras_call *c, enum phase phase) {
  c->phase = phase;
  os_cond_broadcast(c->pc->cond);
}

/* The channel is given up: no more lines, and pppd is ended (only our own
 * child, through its pidfd). The Disconnected comes when it has exited. */
static void protocol_error(ras_call *c, const char *fmt, ...) {
  va_list ap;
  if (c->protocol_error[0]) return;
  va_start(ap, fmt);
  vsnprintf(c->protocol_error, sizeof c->protocol_error, fmt, ap);
  va_end(ap);
  if (c->foreign || c->hangup_requested) return;
  if (pppd_signal(c, SIGTERM) == 0) pppd_schedule_kill(c, os_now() + KILL_GRACE);
}

/* A strict decimal integer in [min, max] that is the whole of s. */
static int parse_int(const char *s, long min, long max, long *out) {
  char *end;
  long v;
  if (!((*s >= '0' && *s <= '9') || (*s == '-' && s[1] >= '0' && s[1] <= '9'))) return -1;
  errno = 0;
  v = strtol(s, &end, 10);
  if (errno || *end || v < min || v > max) return -1;
  *out = v;
  return 0;
}

static void on_phase(ras_call *c, int phase) {
  int before = c->link_phase;
  c->link_phase = phase;
  if (c->phase == UP) {
    /* persist: after DISCONNECT, DEAD or HOLDOFF pppd goes on instead of
     * dying (2.4 holds off after DEAD; 2.5 after a hangup goes from DEAD
     * straight to SERIALCONN) */
    if (!c->dropping && (before == RAS_PPPD_PHASE_DISCONNECT ||
                         before == RAS_PPPD_PHASE_DEAD ||
                         before == RAS_PPPD_PHASE_HOLDOFF) &&
        phase != RAS_PPPD_PHASE_DEAD) {
      c->dropping = 1;
      c->local[0] = c->remote[0] = '\0';
      pppd_push(c, RAS_Connected, RAS_SUB_Reconnecting, 0, 0, NULL);
      pppd_watchers_dropping(c);
    }
    return;
  }
  if (c->phase != DIALLING) return;
  switch (phase) {
  case RAS_PPPD_PHASE_SERIALCONN: reach(c, RAS_PortOpened); reach(c, RAS_ConnectDevice); break;
  case RAS_PPPD_PHASE_ESTABLISH: reach(c, RAS_DeviceConnected); break;
  case RAS_PPPD_PHASE_AUTHENTICATE:
    reach(c, RAS_AllDevicesConnected); reach(c, RAS_Authenticate); break;
  case RAS_PPPD_PHASE_CALLBACK:
    reach(c, RAS_PrepareForCallback); reach(c, RAS_WaitForCallback); break;
  case RAS_PPPD_PHASE_NETWORK: reach(c, RAS_AllDevicesConnected); reach(c, RAS_AuthProject); break;
  default: break;
  }
}

static void on_ip_up(ras_call *c, const char *args) {
  char ifname[IF_NAMESIZE], local[64], remote[64], extra;
  if (sscanf(args, "%15s %63s %63s %c", ifname, local, remote, &extra) != 3) {
    protocol_error(c, "a malformed ip-up line");
    return;
  }
  if (c->phase == UP && !c->dropping) {
    protocol_error(c, "ip-up while the link is already up");
    return;
  }
  pppd_copy_text(c->ifname, sizeof c->ifname, ifname);
  pppd_copy_text(c->local, sizeof c->local, local);
  pppd_copy_text(c->remote, sizeof c->remote, remote);
  c->up_since = os_now();
  if (c->phase == UP) {          /* a persist link is back */
    c->dropping = 0;
    pppd_push(c, RAS_Connected, RAS_SUB_Reconnected, 0, 0, NULL);
    pppd_watchers_connected(c);
    return;
  }
  reach(c, RAS_AuthProject);
  reach(c, RAS_Projected);
  pppd_push(c, RAS_Connected, RAS_SUB_None, 0, 0, NULL);
  /* now, not when a scan gets round to it: the link may be gone by then */
  pppd_watchers_connected(c);
  pppd_set_phase(c, UP);
  os_wipe(c->password, sizeof c->password);  /* no resume after Connected */
}

static void on_line(ras_call *c, char *line, size_t len) {
  char *sp = memchr(line, ' ', len);
  size_t wlen = sp ? (size_t)(sp - line) : len;
  const char *args = sp ? sp + 1 : "";
  int verb = ras_pppd_verb(line, wlen);
  long v;
  if (verb < 0) {
    protocol_error(c, "unknown plugin event '%.*s'", (int)(wlen > 32 ? 32 : wlen), line);
    return;
  }
  if (!c->contacted && verb != RAS_PPPD_PID) {
    protocol_error(c, "'%s' before the plugin's pid line", ras_pppd_verbs[verb]);
    return;
  }
  switch (verb) {
  case RAS_PPPD_PID:
    /* never a pid to signal: only a check that pppd is the process we started */
    if (parse_int(args, 1, INT_MAX, &v) != 0 || (pid_t)v != c->pid || c->contacted)
      protocol_error(c, "the plugin reported pid %.16s, pppd is %d%s", args, (int)c->pid,
                     c->contacted ? " (pppd detached?)" : "");
    c->contacted = 1;
    break;
  case RAS_PPPD_DEVICE:
    pppd_copy_text(c->device, sizeof c->device, args);
    break;
  case RAS_PPPD_PHASE:
    if (parse_int(args, 0, RAS_PPPD_PHASE_MASTER, &v) != 0)
      protocol_error(c, "a bad phase '%.16s'", args);
    else on_phase(c, (int)v);
    break;
  case RAS_PPPD_AUTH_OK:
    pppd_on_auth_ok(c, args);
    if (c->phase == DIALLING) {
      reach(c, RAS_Authenticate);
      reach(c, RAS_Authenticated);
    }
    break;
  case RAS_PPPD_AUTH_FAIL: c->auth_failed = 1; break;
  case RAS_PPPD_IP_UP: on_ip_up(c, args); break;
  case RAS_PPPD_PROJECTION: pppd_on_projection(c, args); break;
  case RAS_PPPD_DEAD:
  case RAS_PPPD_EXIT:
    if (parse_int(args, 0, 255, &v) != 0) protocol_error(c, "a bad %s status", ras_pppd_verbs[verb]);
    else if (verb == RAS_PPPD_DEAD) c->dead_status = (int)v;
    else c->exit_status = (int)v;
    break;
  default: break;   /* auth-up, ip-down, link-down, signal: nothing to report */
  }
}

int pppd_read_channel(ras_call *c) {
  for (;;) {
    char buf[4096];
    ssize_t n = read(c->sock, buf, sizeof buf);
    if (n == 0) return 0;
    if (n < 0) return errno == EAGAIN || errno == EINTR;
    if (c->protocol_error[0]) continue;   /* drain, ignore */
    for (ssize_t i = 0; i < n; i++) {
      char ch = buf[i];
      if (ch == '\0') {
        protocol_error(c, "a NUL byte on the channel");
        return 0;
      }
      if (ch == '\n') {
        if (!c->overlong) {
          c->line[c->linelen] = '\0';
          on_line(c, c->line, c->linelen);
        }
        c->linelen = 0;
        c->overlong = 0;
        if (c->protocol_error[0]) return 0;
        continue;
      }
      if (c->overlong) continue;
      if (c->linelen == sizeof c->line - 1) {   /* no room for '\n': drop it whole */
        c->overlong = 1;
        c->linelen = 0;
        continue;
      }
      c->line[c->linelen++] = ch;
    }
  }
}

/* The end of what pppd said (stdout and stderr), as one line of printable
 * text: its last words are the reason, whatever came before. */
void pppd_read_stderr(ras_call *c) {
  for (;;) {
    char buf[1024];
    ssize_t n = read(c->errfd, buf, sizeof buf);
    if (n <= 0) {
      if (n == 0 || (errno != EAGAIN && errno != EINTR)) pppd_close_fd(c->pc, &c->errfd);
      return;
    }
    for (ssize_t i = 0; i < n; i++) {
      unsigned char ch = (unsigned char)buf[i];
      if (ch < ' ' || ch >= 0x7f) ch = ' ';
      if (ch == ' ' && (c->errlen == 0 || c->errtext[c->errlen - 1] == ' ')) continue;
      if (c->errlen == STDERR_KEEP) {   /* keep the tail */
        memmove(c->errtext, c->errtext + STDERR_KEEP / 2, STDERR_KEEP - STDERR_KEEP / 2);
        c->errlen = STDERR_KEEP - STDERR_KEEP / 2;
        c->errtrimmed = 1;
      }
      c->errtext[c->errlen++] = (char)ch;
    }
    c->errtext[c->errlen] = '\0';
  }
}

static void say(char *out, size_t size, const char *fmt, ...)
  __attribute__((format(printf, 3, 4)));
static void say(char *out, size_t size, const char *fmt, ...) {
  va_list ap;
  size_t len = strlen(out);
  va_start(ap, fmt);
  if (len < size) vsnprintf(out + len, size - len, fmt, ap);
  va_end(ap);
}

void pppd_report_exit(ras_call *c, int wait_status, int reaped) {
  int status = c->dead_status >= 0 ? c->dead_status : c->exit_status;
  int was_up = c->phase == UP;
  char detail[96 + sizeof c->protocol_error + STDERR_KEEP] = "";
  while (c->errlen && c->errtext[c->errlen - 1] == ' ') c->errtext[--c->errlen] = '\0';
  if (c->hangup_requested) {
    pppd_set_phase(c, GONE);   /* the binding reports the hang-up itself */
    return;
  }
  if (status < 0 && reaped && WIFEXITED(wait_status)) status = WEXITSTATUS(wait_status);
  /* the peer may drop the line before pppd notices our failed login */
  if (c->auth_failed && c->phase == DIALLING) status = RAS_PPPD_EXIT_AUTH_TOPEER;
  if (c->protocol_error[0]) {
    say(detail, sizeof detail, "pppd plugin protocol error: %s", c->protocol_error);
    pppd_push(c, RAS_Disconnected, RAS_SUB_None, RAS_ERROR_FROM_DEVICE,
              status > 0 ? status : 0, detail);
    pppd_set_phase(c, ENDED);
    return;
  }
  if (!c->contacted) {
    /* option errors, a wrong pppd, a plugin that is not ours: only stderr knows */
    if (reaped && WIFSIGNALED(wait_status))
      say(detail, sizeof detail, "%s was killed by signal %d", c->pc->pppd,
          WTERMSIG(wait_status));
    else if (status >= 0)
      say(detail, sizeof detail, "%s (%s, status %d)", c->pc->pppd, reason_text(status), status);
    else
      say(detail, sizeof detail, "%s", c->pc->pppd);
    say(detail, sizeof detail, " exited without contacting the plugin%s%s%s",
        c->errlen ? ": " : "", c->errtrimmed ? "..." : "", c->errtext);
    pppd_push(c, RAS_Disconnected, RAS_SUB_None, RAS_ERROR_FROM_DEVICE,
              status > 0 ? status : 0, detail);
    pppd_set_phase(c, ENDED);
    return;
  }
  if (status == RAS_PPPD_EXIT_AUTH_TOPEER && c->paused_states && !was_up) {
    pppd_push(c, RAS_RetryAuthentication, RAS_SUB_None, 0, 0, NULL);
    pppd_set_phase(c, PAUSED);
    return;
  }
  if (status < 0) status = RAS_PPPD_EXIT_FATAL;
  say(detail, sizeof detail, "%s, pppd status %d%s%s%s", reason_text(status), status,
      c->errlen ? ": " : "", c->errtrimmed ? "..." : "", c->errtext);
  pppd_push(c, RAS_Disconnected, RAS_SUB_None, reason_error(status, was_up), status, detail);
  pppd_set_phase(c, ENDED);
}

#endif /* __linux__ */
