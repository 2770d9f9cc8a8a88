/*
 * entries.c - phone-book entries on pppd: an entry is a peer file, a phone
 * book a directory of them (the peers_dir option by default).
 *
 * A peer file is read as pppd reads it (secrets.c splits it into logical
 * lines and words) and each line that holds exactly one option the module
 * knows is put in a slot (the tty, `user`, `idle`, ...); every other line
 * is the entry's pppd_options. The properties come from the slots.
 *
 * An update renders each slot from the old properties and from the new
 * ones: a slot whose rendering does not change keeps its lines byte for
 * byte, one that changes gets its new lines where its first old line was
 * (at the end if it had none). Lines in no slot (comments, options the
 * module does not know, hand-written lines with several options) are never
 * touched unless pppd_options is given, and then only the lines whose
 * words are no longer in it go. So a hand-written file keeps every line
 * but those of the properties that changed.
 *
 * Every value is validated for what it becomes (a device must be a path
 * or a plain name, a VPN server a host name: it lands in a shell command)
 * and written as one quoted word (secrets.c).
 */
#ifdef __linux__
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "internal.h"

#define PEER_MODE 0644
#define SPEED "115200"
#define MAX_WORD 1023             /* pppd's MAXWORDLEN, less its NUL */
#define MAX_SECRET RAS_PPPD_SECRET_MAX
#define AUTH_ALL (RAS_AUTH_PAP | RAS_AUTH_CHAP | RAS_AUTH_MSCHAPV2 | RAS_AUTH_EAP)
#define HEADER "# pppd peer file written by the ras module; lines edited by hand are kept\n"

/* The modem's connect script: chat dials the number the dial gives
 * (RAS_NUMBER, spawn.c) or else the entry's. Run by /bin/sh: the number
 * sits inside double quotes, and only characters with no meaning there are
 * allowed in it (modem_number). */
#define CHAT_PREFIX "exec /usr/sbin/chat -v -T \"${RAS_NUMBER:-"
#define CHAT_SUFFIX "}\" ABORT BUSY ABORT 'NO CARRIER' ABORT 'NO DIALTONE' " \
                    "ABORT 'NO ANSWER' '' ATZ OK 'ATDT\\T' CONNECT ''"

typedef enum slot {
  S_NONE,                         /* blank or comment */
  S_PLUGIN, S_NIC, S_SERVICE,     /* broadband */
  S_PTY,                          /* vpn */
  S_TTY, S_SPEED, S_CRTSCTS, S_LOCK, S_LOCAL, S_CONNECT,   /* modem, direct */
  S_AUTH, S_ENCRYPTION, S_ROUTE, S_PEERDNS, S_IPV4, S_IPV6, S_IDLE, S_REDIAL, S_USER,
  S_OPTIONS,                      /* everything else */
  S_COUNT
} slot;

/* An entry as the slots see it. Texts are NULL when absent. */
typedef struct peer {
  int type, vpn, encryption;
  unsigned auth;
  int default_gateway, use_peer_dns, ipv4, ipv6;
  long long idle, attempts, interval;
  const char *device, *number, *username;
  const char **options;           /* the new pppd_options, when given */
  size_t noptions;
  int options_given;
} peer;

/* A peer file read: its records' slots and the entry they make. */
typedef struct peer_file {
  pppd_file f;
  slot *slots;                    /* one per record */
  peer p;
  char number[RAS_MAX_NUMBER + 1], server[RAS_MAX_NUMBER + 1];
  int persist, stateless;         /* seen: persist, nomppe-stateful */
  long long maxfail;              /* -1: not seen */
} peer_file;

/* What pppd does when a peer file says nothing (Debian's 2.4.9 runs
 * IPV6CP unless told noipv6). A new file says only what differs. */
static const peer defaults = {
  .auth = AUTH_ALL, .encryption = RAS_ENCRYPTION_OPTIONAL, .ipv4 = 1, .ipv6 = 1
};

/* ---------------------------------------------------------------------- */
/* names and values                                                       */

/* A name that can be a file in the peers directory and that pppd's `call`
 * and entries() take: no '/', no control characters, not hidden (".",
 * "..", and the module's temporary files start with '.'), no backup '~'. */
static int valid_name(const char *name) {
  size_t len = strlen(name);
  return len > 0 && len <= NAME_MAX && !strchr(name, '/') && !pppd_has_control(name) &&
         name[0] != '.' && name[len - 1] != '~';
}

static int only_chars(const char *s, const char *allowed) {
  for (; *s; s++)
    if (!strchr(allowed, *s)) return 0;
  return 1;
}

#define ALNUM "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"

/* A VPN server goes into pptp's or sstpc's command line, which pppd runs
 * through /bin/sh: a host name or address, nothing the shell reads. */
static int valid_host(const char *s) {
  return s[0] && s[0] != '-' && strlen(s) <= 253 && only_chars(s, ALNUM ".-:_");
}

/* A phone number as chat and Hayes modems take it. */
static int valid_modem_number(const char *s) {
  return only_chars(s, "0123456789 +*#,-().!@WwPpTt");
}

/* A tty: an absolute path (never an option word), or a plain name that
 * pppd looks up under /dev. */
static int valid_tty(const char *s) {
  return s[0] && !pppd_has_control(s) && (s[0] == '/' || only_chars(s, ALNUM "._-"));
}

static int valid_ifname(const char *s) {
  return s[0] && strlen(s) < IF_NAMESIZE && only_chars(s, ALNUM "._-");
}

static int bad(ras_error *err, const char *property, const char *why) {
  return ras_fail(err, RAS_BAD_ARGUMENT, "bad property '%s' (%s)", property, why);
}

/* ---------------------------------------------------------------------- */
/* reading                                                                */

static const char *base_name(const char *path) {
  const char *slash = strrchr(path, '/');
  return slash ? slash + 1 : path;
}

/* The words of a pty command, split at spaces (the module writes no
 * other form; anything fancier is not recognised). */
static size_t split(const char *s, char *buf, size_t size, const char **words, size_t max) {
  size_t n = 0;
  snprintf(buf, size, "%s", s);
  for (char *save = NULL, *w = strtok_r(buf, " ", &save); w && n < max;
       w = strtok_r(NULL, " ", &save))
    words[n++] = w;
  return n;
}

/* pptp SERVER --nolaunchpppd, sstpc [options] --nolaunchpppd SERVER */
static int pty_vpn(const char *cmd, char *server, size_t size) {
  char buf[MAX_WORD + 1];
  const char *w[16];
  size_t n = split(cmd, buf, sizeof buf, w, 16);
  int nolaunch = 0, vpn = 0;
  const char *host = NULL;
  for (size_t i = 1; i < n; i++) nolaunch |= strcmp(w[i], "--nolaunchpppd") == 0;
  if (n < 2 || !nolaunch) return 0;
  if (strcmp(base_name(w[0]), "pptp") == 0) vpn = RAS_VPN_PPTP, host = w[1];
  else if (strcmp(base_name(w[0]), "sstpc") == 0) vpn = RAS_VPN_SSTP, host = w[n - 1];
  if (!vpn || !valid_host(host) || strlen(host) >= size) return 0;
  snprintf(server, size, "%s", host);
  return vpn;
}

static int chat_number(const char *script, char *number, size_t size) {
  size_t lp = strlen(CHAT_PREFIX), ls = strlen(CHAT_SUFFIX), len = strlen(script);
  if (len < lp + ls || strncmp(script, CHAT_PREFIX, lp) != 0 ||
      strcmp(script + len - ls, CHAT_SUFFIX) != 0 || len - lp - ls >= size)
    return 0;
  snprintf(number, size, "%.*s", (int)(len - lp - ls), script + lp);
  return valid_modem_number(number);
}

static int is_pppoe_plugin(const char *w) {
  return strcmp(base_name(w), "rp-pppoe.so") == 0 || strcmp(base_name(w), "pppoe.so") == 0;
}

static int is_speed(const char *w) {
  return w[0] >= '1' && w[0] <= '9' && only_chars(w, "0123456789") && strlen(w) <= 9;
}

static int is_number(const char *w, long long *v) {
  char *end;
  if (!w[0] || !only_chars(w, "0123456789") || strlen(w) > 9) return 0;
  *v = strtoll(w, &end, 10);
  return 1;
}

/* The link kind a file's records show: broadband, vpn, modem or direct. */
static int file_type(peer_file *pf) {
  int pppoe = 0, vpn = 0, serial = 0, connect = 0;
  for (size_t r = 0; r < pf->f.nrecs; r++) {
    const pppd_record *rec = &pf->f.recs[r];
    const char *w0 = rec->nwords ? pppd_word(&pf->f, r, 0) : "";
    if (rec->nwords == 2 && strcmp(w0, "plugin") == 0)
      pppoe |= is_pppoe_plugin(pppd_word(&pf->f, r, 1));
    else if (rec->nwords == 2 && strcmp(w0, "pty") == 0 && !vpn)
      vpn = pty_vpn(pppd_word(&pf->f, r, 1), pf->server, sizeof pf->server);
    else if (rec->nwords == 2 && strcmp(w0, "connect") == 0)
      connect = 1;
    else if (rec->nwords == 1 && ((w0[0] == '/' && valid_tty(w0)) || is_speed(w0)))
      serial = 1;
  }
  if (pppoe) return RAS_TYPE_BROADBAND;
  if (vpn) return pf->p.vpn = vpn, RAS_TYPE_VPN;
  if (serial || connect) return connect ? RAS_TYPE_MODEM : RAS_TYPE_DIRECT;
  return 0;
}

static const struct { const char *word; unsigned bit; } refusals[] = {
  { "refuse-pap", RAS_AUTH_PAP }, { "refuse-chap", RAS_AUTH_CHAP },
  { "refuse-mschap-v2", RAS_AUTH_MSCHAPV2 }, { "refuse-eap", RAS_AUTH_EAP },
  { "refuse-mschap", 0 }
};

/* The slot of a one-word record, setting what it says in pf->p. */
static slot flag_slot(peer_file *pf, const char *w, int type) {
  peer *p = &pf->p;
  int serial = type == RAS_TYPE_MODEM || type == RAS_TYPE_DIRECT;
  for (size_t i = 0; i < sizeof refusals / sizeof refusals[0]; i++)
    if (strcmp(w, refusals[i].word) == 0) return p->auth &= ~refusals[i].bit, S_AUTH;
  if (strcmp(w, "nomppe") == 0) return p->encryption = RAS_ENCRYPTION_NONE, S_ENCRYPTION;
  if (strcmp(w, "require-mppe") == 0 || strcmp(w, "require-mppe-128") == 0)
    return p->encryption = RAS_ENCRYPTION_REQUIRED, S_ENCRYPTION;
  /* pppd's default, written out with require-mppe-128 to mark "maximum" */
  if (strcmp(w, "nomppe-stateful") == 0) return pf->stateless = 1, S_ENCRYPTION;
  if (strcmp(w, "defaultroute") == 0) return p->default_gateway = 1, S_ROUTE;
  if (strcmp(w, "nodefaultroute") == 0) return p->default_gateway = 0, S_ROUTE;
  if (strcmp(w, "usepeerdns") == 0) return p->use_peer_dns = 1, S_PEERDNS;
  if (strcmp(w, "noip") == 0) return p->ipv4 = 0, S_IPV4;
  if (strcmp(w, "+ipv6") == 0) return p->ipv6 = 1, S_IPV6;
  if (strcmp(w, "noipv6") == 0 || strcmp(w, "-ipv6") == 0) return p->ipv6 = 0, S_IPV6;
  if (strcmp(w, "persist") == 0) return pf->persist = 1, S_REDIAL;
  if (strcmp(w, "nopersist") == 0) return pf->persist = 0, S_REDIAL;
  if (serial && w[0] == '/' && valid_tty(w)) return p->device = w, S_TTY;
  if (serial && is_speed(w)) return S_SPEED;
  if (serial && strcmp(w, "crtscts") == 0) return S_CRTSCTS;
  if (type == RAS_TYPE_MODEM && strcmp(w, "lock") == 0) return S_LOCK;
  if (type == RAS_TYPE_DIRECT && strcmp(w, "local") == 0) return S_LOCAL;
  if (type == RAS_TYPE_BROADBAND && strncmp(w, "nic-", 4) == 0 && valid_ifname(w + 4))
    return p->device = w + 4, S_NIC;
  return S_OPTIONS;
}

/* The slot of a two-word record (an option and its value). */
static slot option_slot(peer_file *pf, const char *w, const char *v, int type) {
  peer *p = &pf->p;
  long long n;
  if (strcmp(w, "user") == 0) return p->username = v, S_USER;
  if (strcmp(w, "idle") == 0 && is_number(v, &n)) return p->idle = n, S_IDLE;
  if (strcmp(w, "maxfail") == 0 && is_number(v, &n)) return pf->maxfail = n, S_REDIAL;
  if (strcmp(w, "holdoff") == 0 && is_number(v, &n)) return p->interval = n, S_REDIAL;
  if (type == RAS_TYPE_BROADBAND && strcmp(w, "plugin") == 0 && is_pppoe_plugin(v))
    return S_PLUGIN;
  if (type == RAS_TYPE_BROADBAND && strcmp(w, "rp_pppoe_service") == 0 &&
      !pppd_has_control(v) && strlen(v) <= RAS_MAX_NUMBER)
    return p->number = v, S_SERVICE;
  if (type == RAS_TYPE_VPN && strcmp(w, "pty") == 0 &&
      pty_vpn(v, pf->server, sizeof pf->server) == p->vpn)
    return p->number = pf->server, S_PTY;
  if (type == RAS_TYPE_MODEM && strcmp(w, "connect") == 0 &&
      chat_number(v, pf->number, sizeof pf->number))
    return p->number = pf->number, S_CONNECT;
  return S_OPTIONS;
}

static int classify(peer_file *pf) {
  int type = file_type(pf);
  pf->p.type = type;
  pf->slots = calloc(pf->f.nrecs + 1, sizeof *pf->slots);
  if (!pf->slots) return -1;
  for (size_t r = 0; r < pf->f.nrecs; r++) {
    size_t n = pf->f.recs[r].nwords;
    const char *w0 = n ? pppd_word(&pf->f, r, 0) : NULL;
    if (n == 0) pf->slots[r] = S_NONE;
    else if (n == 1) pf->slots[r] = flag_slot(pf, w0, type);
    else if (n == 2) pf->slots[r] = option_slot(pf, w0, pppd_word(&pf->f, r, 1), type);
    else pf->slots[r] = S_OPTIONS;
  }
  if (pf->stateless && pf->p.encryption == RAS_ENCRYPTION_REQUIRED)
    pf->p.encryption = RAS_ENCRYPTION_MAXIMUM;
  /* pppd's maxfail: 10 by default, 0 for no limit (the schema's most) */
  if (pf->persist) pf->p.attempts = pf->maxfail < 0 ? 10 : pf->maxfail ? pf->maxfail : 999;
  return 0;
}

static void peer_file_free(peer_file *pf) {
  pppd_file_free(&pf->f);
  free(pf->slots);
  memset(pf, 0, sizeof *pf);
}

/* 0, 623 when there is no such entry, or another error code. */
static int read_peer(int dfd, const char *dir, const char *name, peer_file *pf,
                     ras_error *err) {
  int rc;
  memset(pf, 0, sizeof *pf);
  pf->p = defaults;
  pf->maxfail = -1;
  if (!valid_name(name))
    return ras_fail(err, RAS_ERROR_CANNOT_FIND_PHONEBOOK_ENTRY,
                    "no entry of that name: not a valid peer file name");
  rc = pppd_read_file(dfd, dir, name, &pf->f, err);
  if (rc == 1)
    return ras_fail(err, RAS_ERROR_CANNOT_FIND_PHONEBOOK_ENTRY, "no peer file '%s' in %s",
                    name, dir);
  if (rc != 0) return rc;
  if (classify(pf) != 0) {
    peer_file_free(pf);
    return ras_fail(err, RAS_ERROR_NOT_ENOUGH_MEMORY, "not enough memory");
  }
  return 0;
}

static const char *phonebook_dir(ras_instance *pc, const char *phonebook) {
  return phonebook ? phonebook : pc->peers_dir;
}

static int open_phonebook(ras_instance *pc, const char *phonebook, ras_error *err) {
  return pppd_open_dir(phonebook_dir(pc, phonebook), RAS_ERROR_CANNOT_FIND_PHONEBOOK_ENTRY,
                       err);
}

/* ---------------------------------------------------------------------- */
/* entry()                                                                */

static void report(const peer_file *pf, const char *dir, ras_entry *out, ras_arena *a) {
  const peer *p = &pf->p;
  size_t n = 0, k = 0;
  out->phonebook = ras_arena_text(a, dir);
  out->given = RAS_ENTRY_PHONEBOOK | RAS_ENTRY_AUTH | RAS_ENTRY_ENCRYPTION | RAS_ENTRY_DEFAULT_GATEWAY |
               RAS_ENTRY_USE_PEER_DNS | RAS_ENTRY_IPV4 | RAS_ENTRY_IPV6 |
               RAS_ENTRY_IDLE_DISCONNECT | RAS_ENTRY_REDIAL | RAS_ENTRY_PPPD_OPTIONS;
  if (p->type) out->type = p->type, out->given |= RAS_ENTRY_TYPE;
  if (p->type == RAS_TYPE_VPN) out->vpn = p->vpn, out->given |= RAS_ENTRY_VPN;
  if (p->device) out->device = ras_arena_text(a, p->device), out->given |= RAS_ENTRY_DEVICE;
  if (p->number) out->number = ras_arena_text(a, p->number), out->given |= RAS_ENTRY_NUMBER;
  if (p->username)
    out->username = ras_arena_text(a, p->username), out->given |= RAS_ENTRY_USERNAME;
  out->auth = p->auth;
  out->encryption = p->encryption;
  out->default_gateway = p->default_gateway;
  out->use_peer_dns = p->use_peer_dns;
  out->ipv4 = p->ipv4;
  out->ipv6 = p->ipv6;
  out->idle_disconnect = (double)p->idle;
  out->redial.attempts = p->attempts;
  out->redial.interval = (double)p->interval;
  for (size_t r = 0; r < pf->f.nrecs; r++)
    if (pf->slots[r] == S_OPTIONS) n += pf->f.recs[r].nwords;
  out->pppd_options = ras_arena_alloc(a, (n ? n : 1) * sizeof *out->pppd_options);
  if (!out->pppd_options) return;
  for (size_t r = 0; r < pf->f.nrecs; r++)
    for (size_t i = 0; pf->slots[r] == S_OPTIONS && i < pf->f.recs[r].nwords; i++)
      out->pppd_options[k++] = ras_arena_text(a, pppd_word(&pf->f, r, i));
  out->npppd_options = k;
}

int pppd_entry(ras_instance *pc, const char *name, const char *phonebook, ras_entry *out,
               ras_arena *arena, ras_error *err) {
  const char *dir = phonebook_dir(pc, phonebook);
  peer_file pf;
  int dfd = open_phonebook(pc, phonebook, err), rc;
  if (dfd < 0) return err->code;
  rc = read_peer(dfd, dir, name, &pf, err);
  close(dfd);
  if (rc != 0) return rc;
  report(&pf, dir, out, arena);
  peer_file_free(&pf);
  return 0;
}

/* ---------------------------------------------------------------------- */
/* rendering                                                              */

static void option_line(pppd_buf *b, const char *option, const char *value) {
  pppd_buf_str(b, option);
  pppd_buf_str(b, " ");
  pppd_buf_quote(b, value);
  pppd_buf_str(b, "\n");
}

static void number_line(pppd_buf *b, const char *option, long long v) {
  char line[64];
  snprintf(line, sizeof line, "%s %lld\n", option, v);
  pppd_buf_str(b, line);
}

static void render_link(const peer *p, slot s, pppd_buf *b) {
  int serial = p->type == RAS_TYPE_MODEM || p->type == RAS_TYPE_DIRECT;
  switch (s) {
  case S_PLUGIN:
    if (p->type == RAS_TYPE_BROADBAND) pppd_buf_str(b, "plugin rp-pppoe.so\n");
    break;
  case S_NIC:
    if (p->type == RAS_TYPE_BROADBAND && p->device) {
      pppd_buf_str(b, "\"nic-");
      pppd_buf_str(b, p->device);       /* valid_ifname: nothing to escape */
      pppd_buf_str(b, "\"\n");
    }
    break;
  case S_SERVICE:
    if (p->type == RAS_TYPE_BROADBAND && p->number && p->number[0])
      option_line(b, "rp_pppoe_service", p->number);
    break;
  case S_PTY:
    if (p->type == RAS_TYPE_VPN && p->number) {
      char cmd[RAS_MAX_NUMBER + 64];
      if (p->vpn == RAS_VPN_SSTP) snprintf(cmd, sizeof cmd, "sstpc --nolaunchpppd %s", p->number);
      else snprintf(cmd, sizeof cmd, "pptp %s --nolaunchpppd", p->number);
      option_line(b, "pty", cmd);
    }
    break;
  case S_TTY:
    if (serial && p->device) {
      /* a plain name as pppd takes it, so that it reads back as the tty */
      char dev[RAS_MAX_DEVICE_NAME + 8];
      snprintf(dev, sizeof dev, "%s%s", p->device[0] == '/' ? "" : "/dev/", p->device);
      pppd_buf_quote(b, dev);
      pppd_buf_str(b, "\n");
    }
    break;
  case S_SPEED: if (serial) pppd_buf_str(b, SPEED "\n"); break;
  case S_CRTSCTS: if (serial) pppd_buf_str(b, "crtscts\n"); break;
  case S_LOCK: if (p->type == RAS_TYPE_MODEM) pppd_buf_str(b, "lock\n"); break;
  case S_LOCAL: if (p->type == RAS_TYPE_DIRECT) pppd_buf_str(b, "local\n"); break;
  case S_CONNECT:
    if (p->type == RAS_TYPE_MODEM) {
      char script[sizeof CHAT_PREFIX + sizeof CHAT_SUFFIX + RAS_MAX_NUMBER];
      snprintf(script, sizeof script, "%s%s%s", CHAT_PREFIX, p->number ? p->number : "",
               CHAT_SUFFIX);
      option_line(b, "connect", script);
    }
    break;
  default: break;
  }
}

static void render(const peer *p, slot s, pppd_buf *b) {
  switch (s) {
  case S_AUTH:
    for (size_t i = 0; p->auth != AUTH_ALL && i < sizeof refusals / sizeof refusals[0]; i++)
      /* MS-CHAP v1 goes with v2: the schema has no name of its own for it */
      if (!(p->auth & (refusals[i].bit ? refusals[i].bit : RAS_AUTH_MSCHAPV2))) {
        pppd_buf_str(b, refusals[i].word);
        pppd_buf_str(b, "\n");
      }
    break;
  case S_ENCRYPTION:
    if (p->encryption == RAS_ENCRYPTION_NONE) pppd_buf_str(b, "nomppe\n");
    if (p->encryption >= RAS_ENCRYPTION_REQUIRED) pppd_buf_str(b, "require-mppe-128\n");
    if (p->encryption == RAS_ENCRYPTION_MAXIMUM) pppd_buf_str(b, "nomppe-stateful\n");
    break;
  case S_ROUTE: if (p->default_gateway) pppd_buf_str(b, "defaultroute\n"); break;
  case S_PEERDNS: if (p->use_peer_dns) pppd_buf_str(b, "usepeerdns\n"); break;
  case S_IPV4: if (!p->ipv4) pppd_buf_str(b, "noip\n"); break;
  case S_IPV6: pppd_buf_str(b, p->ipv6 ? "+ipv6\n" : "noipv6\n"); break;
  case S_IDLE: if (p->idle > 0) number_line(b, "idle", p->idle); break;
  case S_REDIAL:
    if (p->attempts > 0) {
      pppd_buf_str(b, "persist\n");
      number_line(b, "maxfail", p->attempts);
      number_line(b, "holdoff", p->interval);
    }
    break;
  case S_USER: if (p->username && p->username[0]) option_line(b, "user", p->username); break;
  case S_OPTIONS:
    for (size_t i = 0; i < p->noptions; i++) {
      pppd_buf_quote(b, p->options[i]);
      pppd_buf_str(b, i + 1 < p->noptions ? " " : "\n");
    }
    break;
  default: render_link(p, s, b); break;
  }
}

/* Do old and new render slot s alike? Then its lines stay as they are. */
static int same(const peer *old, const peer *new, slot s) {
  pppd_buf a = { 0 }, b = { 0 };
  int eq;
  render(old, s, &a);
  render(new, s, &b);
  /* out of memory: "changed", so that the new text is rendered (or the
   * write fails on its own buffer), never a change silently dropped */
  eq = !a.failed && !b.failed && a.len == b.len && (a.len == 0 || memcmp(a.p, b.p, a.len) == 0);
  pppd_buf_free(&a);
  pppd_buf_free(&b);
  return eq;
}

/* Keeps a pppd_options record whose words come next in the new list. */
static int keep_options(const peer_file *pf, size_t r, const peer *new, size_t *k) {
  size_t n = pf->f.recs[r].nwords;
  if (*k + n > new->noptions) return 0;
  for (size_t i = 0; i < n; i++)
    if (strcmp(pppd_word(&pf->f, r, i), new->options[*k + i]) != 0) return 0;
  *k += n;
  return 1;
}

/* A kept last line that no newline ends (no newline at all, or a
 * backslash-newline: pppd would go on reading our line as part of it)
 * gets one before anything follows. */
static void end_line(pppd_buf *out, int *open) {
  if (*open) pppd_buf_str(out, "\n");
  *open = 0;
}

/* The file's new text (see the top of this file). */
static void rewrite_peer(const peer_file *pf, const peer *new, pppd_buf *out) {
  int changed[S_COUNT] = { 0 }, placed[S_COUNT] = { 0 }, open = 0;
  size_t k = 0;
  for (int s = S_PLUGIN; s < S_OPTIONS; s++) changed[s] = !same(&pf->p, new, (slot)s);
  for (size_t r = 0; r < pf->f.nrecs; r++) {
    const pppd_record *rec = &pf->f.recs[r];
    slot s = pf->slots[r];
    int keep = s == S_NONE || (s == S_OPTIONS ? !new->options_given || keep_options(pf, r, new, &k)
                                              : !changed[s]);
    if (keep) {
      pppd_buf_add(out, pf->f.text + rec->start, rec->end - rec->start);
      open = r + 1 == pf->f.nrecs && pf->f.unterminated;
    } else if (s != S_OPTIONS && !placed[s]) {
      end_line(out, &open);
      render(new, s, out);
      placed[s] = 1;
    }
  }
  for (int s = S_PLUGIN; s < S_OPTIONS; s++)
    if (changed[s] && !placed[s]) {
      end_line(out, &open);
      render(new, (slot)s, out);
    }
  if (new->options_given && k < new->noptions) {
    peer rest = *new;
    rest.options += k;
    rest.noptions -= k;
    end_line(out, &open);
    render(&rest, S_OPTIONS, out);
  }
}

/* ---------------------------------------------------------------------- */
/* changes                                                                */

static int check_options(const ras_entry *e, ras_error *err) {
  const char *detach = pppd_detach_word(e->pppd_options, e->npppd_options);
  if (detach)
    return ras_fail(err, RAS_BAD_ARGUMENT, "bad property 'pppd_options' ('%s': the module "
                    "keeps pppd in the foreground to watch it)", detach);
  for (size_t i = 0; i < e->npppd_options; i++) {
    const char *w = e->pppd_options[i];
    if (!w[0] || pppd_has_control(w) || strlen(w) > MAX_WORD)
      return bad(err, "pppd_options", "each word: 1 to 1023 bytes, no control characters");
  }
  return 0;
}

static int check_vpn(int vpn, ras_error *err) {
  switch (vpn) {
  case RAS_VPN_AUTO:
    return bad(err, "vpn", "pppd dials one protocol: give \"pptp\" or \"sstp\"");
  case RAS_VPN_L2TP:
    return bad(err, "vpn", "l2tp is not a pppd dial: xl2tpd starts pppd itself; set up an "
               "xl2tpd LAC (with IPsec for the pre-shared key), whose pppd connections() lists");
  case RAS_VPN_IKEV2:
    return bad(err, "vpn", "ikev2 is IPsec, not PPP: use strongSwan or libreswan");
  default: return 0;
  }
}

static int to_count(double seconds, long long *out) {
  if (seconds < 0 || seconds > INT_MAX) return -1;   /* RAS_FOREVER is < 0 */
  *out = (long long)ceil(seconds);
  return 0;
}

/* The scalar properties changes gives, into *p. */
static int apply_settings(peer *p, const ras_entry *c, ras_error *err) {
  unsigned g = c->given;
  if ((g & RAS_ENTRY_DNS) && c->ndns)
    return bad(err, "dns", "a pppd client cannot set its DNS servers: ms-dns is what a pppd "
               "server offers; use use_peer_dns, or the resolver's own configuration");
  if (g & RAS_ENTRY_AUTH) p->auth = c->auth;
  if (g & RAS_ENTRY_ENCRYPTION) p->encryption = c->encryption;
  if (g & RAS_ENTRY_DEFAULT_GATEWAY) p->default_gateway = c->default_gateway;
  if (g & RAS_ENTRY_USE_PEER_DNS) p->use_peer_dns = c->use_peer_dns;
  if (g & RAS_ENTRY_IPV4) p->ipv4 = c->ipv4;
  if (g & RAS_ENTRY_IPV6) p->ipv6 = c->ipv6;
  if ((g & RAS_ENTRY_IDLE_DISCONNECT) &&
      to_count(c->idle_disconnect < 0 ? 0 : c->idle_disconnect, &p->idle) != 0)
    return bad(err, "idle_disconnect", "pppd takes whole seconds up to 2^31");
  if (g & RAS_ENTRY_REDIAL) {
    p->attempts = c->redial.attempts;
    if (to_count(c->redial.interval, &p->interval) != 0)
      return bad(err, "redial", "interval: pppd's holdoff takes whole seconds up to 2^31");
  }
  if (g & RAS_ENTRY_USERNAME) {
    if (pppd_has_control(c->username) || strlen(c->username) > MAX_SECRET)
      return bad(err, "username", "pppd takes at most 255 bytes, no control characters");
    p->username = c->username;
  }
  if (g & RAS_ENTRY_PPPD_OPTIONS) {
    if (check_options(c, err) != 0) return err->code;
    p->options = c->pppd_options;
    p->noptions = c->npppd_options;
    p->options_given = 1;
  }
  return 0;
}

/* The link properties (type, vpn, device, number), checked together: what
 * a value may be depends on the type it ends up with. */
static int apply_link(peer *p, const ras_entry *c, ras_error *err) {
  unsigned g = c->given;
  if (g & RAS_ENTRY_TYPE) {
    if (c->type != p->type && !(g & RAS_ENTRY_DEVICE)) p->device = NULL;
    if (c->type != p->type && !(g & RAS_ENTRY_NUMBER)) p->number = NULL;
    p->type = c->type;
  }
  if (g & RAS_ENTRY_VPN) p->vpn = c->vpn;
  if (g & RAS_ENTRY_DEVICE) p->device = c->device[0] ? c->device : NULL;
  if (g & RAS_ENTRY_NUMBER) p->number = c->number[0] ? c->number : NULL;
  if (!p->type && (g & (RAS_ENTRY_VPN | RAS_ENTRY_DEVICE | RAS_ENTRY_NUMBER)))
    return bad(err, "type", "the peer file's link is none the module knows: give the type");
  if (p->type == RAS_TYPE_VPN) {
    if (!p->vpn) p->vpn = RAS_VPN_PPTP;
    if (check_vpn(p->vpn, err) != 0) return err->code;
    if (!p->number) return bad(err, "number", "missing: the VPN server");
    if (!valid_host(p->number)) return bad(err, "number", "the VPN server: a host name or address");
    if (g & RAS_ENTRY_DEVICE)
      return bad(err, "device", "a pppd VPN entry runs its client as pppd's pty: no device");
  } else if (g & RAS_ENTRY_VPN) {
    return bad(err, "vpn", "needs type \"vpn\"");
  }
  if (p->type == RAS_TYPE_BROADBAND && p->device && !valid_ifname(p->device))
    return bad(err, "device", "a network interface name for PPPoE");
  if ((p->type == RAS_TYPE_MODEM || p->type == RAS_TYPE_DIRECT) && p->device &&
      !valid_tty(p->device))
    return bad(err, "device", "a tty: an absolute path or a name under /dev");
  if (p->type == RAS_TYPE_MODEM && p->number && !valid_modem_number(p->number))
    return bad(err, "number", "a phone number: digits, spaces and +*#,-().!@WwPpTt");
  if (p->type == RAS_TYPE_DIRECT && p->number)
    return bad(err, "number", "a direct link dials no number");
  if (p->type == RAS_TYPE_BROADBAND && p->number && pppd_has_control(p->number))
    return bad(err, "number", "a PPPoE service name: no control characters");
  return 0;
}

static int apply(peer *p, const ras_entry *c, ras_error *err) {
  if (apply_link(p, c, err) != 0) return err->code;
  return apply_settings(p, c, err);
}

static int exists(int dfd, const char *name) {
  struct stat st;
  return fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW) == 0;
}

static int lock_dir(int dfd, ras_error *err) {
  if (flock(dfd, LOCK_EX) == 0) return 0;
  return ras_fail_errno(err, errno, "cannot lock the peers directory");
}

static void peer_key(char *key, size_t size, const char *dir, const char *name) {
  snprintf(key, size, "%s/%s", dir, name);
}

int pppd_create_entry(ras_instance *pc, const ras_entry *e, ras_error *err) {
  const char *dir = phonebook_dir(pc, e->phonebook);
  peer p = defaults;
  pppd_buf out = { 0 };
  int dfd, rc;
  if (!valid_name(e->name))
    return ras_fail(err, RAS_ERROR_INVALID_NAME, "not a valid entry name: a peer file name "
                    "(no '/', no control characters, not starting with '.')");
  if (apply(&p, e, err) != 0) return err->code;
  if ((dfd = open_phonebook(pc, e->phonebook, err)) < 0) return err->code;
  if ((rc = lock_dir(dfd, err)) == 0) {
    if (exists(dfd, e->name)) {
      rc = ras_fail(err, RAS_ERROR_ALREADY_EXISTS, "the entry '%s' exists already in %s",
                    e->name, dir);
    } else {
      peer_file empty = { .p = defaults };   /* the slots that differ from pppd's defaults */
      pppd_buf_str(&out, HEADER);
      rewrite_peer(&empty, &p, &out);
      rc = pppd_write_file(dfd, dir, e->name, &out, PEER_MODE, 1, err);
    }
  }
  pppd_buf_free(&out);
  close(dfd);
  return rc;
}

/* The new user name's secrets lines follow it (their saved password kept). */
static int follow_user(ras_instance *pc, const char *dir, const char *name,
                       const char *old_user, const char *new_user, ras_error *err) {
  char key[PATH_MAX];
  if (!new_user || !new_user[0] || (old_user && strcmp(old_user, new_user) == 0)) return 0;
  peer_key(key, sizeof key, dir, name);
  return pppd_secrets_set(pc, key, new_user, NULL, err);
}

/* update_entry, under the directory's lock. */
static int update_locked(ras_instance *pc, int dfd, const char *dir, const char *name,
                         const ras_entry *changes, ras_error *err) {
  peer_file pf;
  pppd_buf out = { 0 };
  peer p;
  int rc = read_peer(dfd, dir, name, &pf, err);
  if (rc != 0) return rc;
  p = pf.p;
  if (pppd_is_symlink(dfd, name))
    rc = ras_fail(err, RAS_ERROR_ACCESS_DENIED, "the peer file %s/%s is a symbolic link, "
                  "which the module never writes through", dir, name);
  else if (apply(&p, changes, err) != 0)
    rc = err->code;
  if (rc == 0) rewrite_peer(&pf, &p, &out);
  if (rc == 0 && !out.failed && out.len == pf.f.len &&
      (out.len == 0 || memcmp(out.p, pf.f.text, out.len) == 0))
    ;                                 /* nothing changed: nothing to write */
  else if (rc == 0 && pf.f.open_end)
    rc = pppd_open_end(err, dir, name);
  else if (rc == 0)
    rc = pppd_write_file(dfd, dir, name, &out, pf.f.mode & 07777, 0, err);
  if (rc == 0) rc = follow_user(pc, dir, name, pf.p.username, p.username, err);
  pppd_buf_free(&out);
  peer_file_free(&pf);
  return rc;
}

int pppd_update_entry(ras_instance *pc, const char *name, const char *phonebook,
                      const ras_entry *changes, ras_error *err) {
  int dfd = open_phonebook(pc, phonebook, err), rc;
  if (dfd < 0) return err->code;
  rc = lock_dir(dfd, err);
  if (rc == 0) rc = update_locked(pc, dfd, phonebook_dir(pc, phonebook), name, changes, err);
  close(dfd);
  return rc;
}

/* A peer file the module may rename or delete: there, and not a link. */
static int own_file(int dfd, const char *dir, const char *name, ras_error *err) {
  struct stat st;
  if (!valid_name(name) || fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW) != 0)
    return ras_fail(err, RAS_ERROR_CANNOT_FIND_PHONEBOOK_ENTRY, "no peer file '%s' in %s",
                    name, dir);
  if (S_ISLNK(st.st_mode))
    return ras_fail(err, RAS_ERROR_ACCESS_DENIED, "the peer file %s/%s is a symbolic link: "
                    "the module leaves it alone", dir, name);
  if (!S_ISREG(st.st_mode))
    return ras_fail(err, RAS_ERROR_CANNOT_FIND_PHONEBOOK_ENTRY, "%s/%s is not a peer file",
                    dir, name);
  return 0;
}

static int rename_locked(ras_instance *pc, int dfd, const char *dir, const char *old_name,
                         const char *new_name, ras_error *err) {
  char key[PATH_MAX], new_key[PATH_MAX], user[MAX_SECRET + 1] = "";
  peer_file pf;
  int rc = own_file(dfd, dir, old_name, err);
  if (rc != 0) return rc;
  if (!valid_name(new_name))
    return ras_fail(err, RAS_ERROR_INVALID_NAME, "not a valid entry name: a peer file name "
                    "(no '/', no control characters, not starting with '.')");
  if (exists(dfd, new_name))
    return ras_fail(err, RAS_ERROR_ALREADY_EXISTS, "the entry '%s' exists already in %s",
                    new_name, dir);
  if ((rc = read_peer(dfd, dir, old_name, &pf, err)) != 0) return rc;
  if (pf.p.username) pppd_copy_text(user, sizeof user, pf.p.username);
  peer_file_free(&pf);
  if (pppd_rename_noreplace(dfd, old_name, new_name) != 0) {
    if (errno == EEXIST)
      return ras_fail(err, RAS_ERROR_ALREADY_EXISTS, "the entry '%s' exists already in %s",
                      new_name, dir);
    return ras_fail_errno(err, errno, "cannot rename the peer file");
  }
  fsync(dfd);
  peer_key(key, sizeof key, dir, old_name);
  peer_key(new_key, sizeof new_key, dir, new_name);
  return pppd_secrets_rename(pc, key, new_key, user[0] ? user : NULL, err);
}

int pppd_rename_entry(ras_instance *pc, const char *old_name, const char *new_name,
                      const char *phonebook, ras_error *err) {
  int dfd = open_phonebook(pc, phonebook, err), rc;
  if (dfd < 0) return err->code;
  rc = lock_dir(dfd, err);
  if (rc == 0)
    rc = rename_locked(pc, dfd, phonebook_dir(pc, phonebook), old_name, new_name, err);
  close(dfd);
  return rc;
}

int pppd_delete_entry(ras_instance *pc, const char *name, const char *phonebook,
                      ras_error *err) {
  const char *dir = phonebook_dir(pc, phonebook);
  char key[PATH_MAX];
  int dfd = open_phonebook(pc, phonebook, err), rc;
  if (dfd < 0) return err->code;
  rc = lock_dir(dfd, err);
  if (rc == 0) rc = own_file(dfd, dir, name, err);
  if (rc == 0 && unlinkat(dfd, name, 0) != 0)
    rc = ras_fail_errno(err, errno, "cannot delete the peer file");
  if (rc == 0) fsync(dfd);
  close(dfd);
  if (rc != 0) return rc;
  peer_key(key, sizeof key, dir, name);
  return pppd_secrets_remove(pc, key, err);   /* the saved password goes with it */
}

int pppd_validate_entry_name(ras_instance *pc, const char *name, const char *phonebook,
                             ras_error *err) {
  int dfd, taken;
  if (!valid_name(name))
    return ras_fail(err, RAS_ERROR_INVALID_NAME, "not a valid entry name: a peer file name "
                    "(no '/', no control characters, not starting with '.')");
  dfd = pppd_open_dir(phonebook_dir(pc, phonebook), 0, err);
  if (dfd < 0) return errno == ENOENT ? 0 : err->code;   /* creating would make it */
  taken = exists(dfd, name);
  close(dfd);
  if (taken)
    return ras_fail(err, RAS_ERROR_ALREADY_EXISTS, "the entry '%s' exists already in %s",
                    name, phonebook_dir(pc, phonebook));
  return 0;
}

/* ---------------------------------------------------------------------- */
/* credentials                                                            */

/* The user word, split as pppd's MS-CHAP splits DOMAIN\user. */
static void split_user(const char *word, ras_credentials_info *out) {
  const char *bs = strchr(word, '\\');
  if (bs && (size_t)(bs - word) < sizeof out->domain) {
    snprintf(out->domain, sizeof out->domain, "%.*s", (int)(bs - word), word);
    pppd_copy_text(out->username, sizeof out->username, bs + 1);
  } else {
    pppd_copy_text(out->username, sizeof out->username, word);
  }
}

int pppd_credentials(ras_instance *pc, const char *entry, const char *phonebook,
                     ras_credentials_info *out, ras_error *err) {
  const char *dir = phonebook_dir(pc, phonebook);
  char key[PATH_MAX];
  peer_file pf;
  int dfd = open_phonebook(pc, phonebook, err), rc;
  if (dfd < 0) return err->code;
  rc = read_peer(dfd, dir, entry, &pf, err);
  close(dfd);
  if (rc != 0) return rc;
  if (pf.p.username) split_user(pf.p.username, out);
  peer_file_free(&pf);
  peer_key(key, sizeof key, dir, entry);
  return pppd_secrets_saved(pc, key, &out->saved_password, err);
}

/* The user word set_credentials makes: [DOMAIN\]NAME, old parts kept. */
static int new_user(const char *old, const ras_credentials *c, char *user, size_t size,
                    ras_error *err) {
  ras_credentials_info parts = { .username = "" };
  if (old) split_user(old, &parts);
  if (c->username) pppd_copy_text(parts.username, sizeof parts.username, c->username);
  if (c->domain) pppd_copy_text(parts.domain, sizeof parts.domain, c->domain);
  if (pppd_has_control(parts.username) || pppd_has_control(parts.domain) ||
      strchr(parts.domain, '\\'))
    return ras_fail(err, RAS_BAD_ARGUMENT, "bad credential '%s' (no control characters%s)",
                    c->domain ? "domain" : "username", c->domain ? ", no '\\'" : "");
  if (parts.domain[0]) snprintf(user, size, "%s\\%s", parts.domain, parts.username);
  else snprintf(user, size, "%s", parts.username);
  if (strlen(user) > MAX_SECRET)
    return ras_fail(err, RAS_BAD_ARGUMENT, "bad credential 'username' (pppd takes at most "
                    "%d bytes, domain included)", MAX_SECRET);
  return 0;
}

static int check_password(const ras_credentials *c, const char *user, ras_error *err) {
  if (!c->password) return 0;
  if (strlen(c->password) > MAX_SECRET)
    return ras_fail(err, RAS_BAD_ARGUMENT, "bad credential 'password' (pppd takes at most "
                    "%d bytes)", MAX_SECRET);
  /* pppd reads a secret "@/file" from that file, whatever the quoting */
  if (c->password[0] == '@')
    return ras_fail(err, RAS_BAD_ARGUMENT, "bad credential 'password' (pppd would read a "
                    "saved secret that starts with '@' as the name of a file)");
  if (!user[0] || strcmp(user, "*") == 0)
    return ras_fail(err, RAS_BAD_ARGUMENT, "bad credential 'username' (pppd finds a saved "
                    "password by the user name: give one, not \"*\")");
  return 0;
}

static int set_locked(ras_instance *pc, int dfd, const char *dir, const char *entry,
                      const ras_credentials *c, ras_error *err) {
  char user[RAS_TEXT_BYTES(RAS_MAX_USER) + RAS_TEXT_BYTES(RAS_MAX_DOMAIN) + 2], key[PATH_MAX];
  peer_file pf;
  int rc = read_peer(dfd, dir, entry, &pf, err);
  if (rc != 0) return rc;
  if (c->psk) {
    peer_file_free(&pf);
    return ras_fail(err, RAS_ERROR_NOT_SUPPORTED, "saving a pre-shared key is not supported "
                    "by the pppd backend (it is L2TP/IPsec's, and L2TP is not a pppd dial)");
  }
  rc = new_user(pf.p.username, c, user, sizeof user, err);
  if (rc == 0) rc = check_password(c, user, err);
  if (rc == 0 && (c->username || c->domain) &&
      !(pf.p.username && strcmp(pf.p.username, user) == 0)) {
    ras_entry change = { .username = user, .given = RAS_ENTRY_USERNAME };
    rc = update_locked(pc, dfd, dir, entry, &change, err);   /* the secrets follow */
  }
  peer_file_free(&pf);
  peer_key(key, sizeof key, dir, entry);
  if (rc == 0 && c->password) rc = pppd_secrets_set(pc, key, user, c->password, err);
  return rc;
}

int pppd_set_credentials(ras_instance *pc, const char *entry, const char *phonebook,
                         const ras_credentials *cred, ras_error *err) {
  int dfd = open_phonebook(pc, phonebook, err), rc;
  if (dfd < 0) return err->code;
  rc = lock_dir(dfd, err);
  if (rc == 0) rc = set_locked(pc, dfd, phonebook_dir(pc, phonebook), entry, cred, err);
  close(dfd);
  return rc;
}

/* The saved password goes, and the user name with it (as on Windows): the
 * peer file's `user` is where pppd keeps it. */
static int clear_locked(ras_instance *pc, int dfd, const char *dir, const char *entry,
                        ras_error *err) {
  char key[PATH_MAX];
  peer_file pf;
  int rc = read_peer(dfd, dir, entry, &pf, err), had_user;
  if (rc != 0) return rc;
  had_user = pf.p.username != NULL;
  peer_file_free(&pf);
  if (had_user) {
    ras_entry change = { .username = "", .given = RAS_ENTRY_USERNAME };
    if ((rc = update_locked(pc, dfd, dir, entry, &change, err)) != 0) return rc;
  }
  peer_key(key, sizeof key, dir, entry);
  return pppd_secrets_remove(pc, key, err);
}

int pppd_clear_credentials(ras_instance *pc, const char *entry, const char *phonebook,
                           ras_error *err) {
  int dfd = open_phonebook(pc, phonebook, err), rc;
  if (dfd < 0) return err->code;
  rc = lock_dir(dfd, err);
  if (rc == 0) rc = clear_locked(pc, dfd, phonebook_dir(pc, phonebook), entry, err);
  close(dfd);
  return rc;
}

#endif /* __linux__ */
