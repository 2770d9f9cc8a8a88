/*
 * info.c - what can be read about a pppd link and the machine:
 * statistics (the interface's counters, in the pppd's own network
 * namespace), projection (what the plugin said the link negotiated) and
 * devices (serial ports, Ethernet interfaces for PPPoE, VPN helpers).
 */
#ifdef __linux__
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "internal.h"

/* raserror.h's ERROR_PROJECTION_NOT_COMPLETE: what RasGetProjectionInfo
 * says before the link is projected. */
#define PROJECTION_NOT_COMPLETE 730

/* ---------------------------------------------------------------------- */
/* the plugin's lines (channel.c, pc lock held)                           */

void pppd_on_auth_ok(ras_call *c, const char *proto) {
  /* plugin.c's names; MS-CHAP v1 has no RAS_AUTH_ bit: unknown */
  c->auth = strcmp(proto, "pap") == 0 ? RAS_AUTH_PAP
          : strcmp(proto, "chap") == 0 ? RAS_AUTH_CHAP
          : strcmp(proto, "mschap-v2") == 0 ? RAS_AUTH_MSCHAPV2
          : strcmp(proto, "eap") == 0 ? RAS_AUTH_EAP : 0;
}

/* An address of the family, copied when it is one (the line is the
 * plugin's, never trusted to be well formed). */
static int take_address(char *dst, size_t size, const char *text, size_t len, int family) {
  char buf[RAS_MAX_ADDRESS];
  unsigned char bin[16];
  if (len == 0 || len >= sizeof buf) return 0;
  memcpy(buf, text, len);
  buf[len] = '\0';
  if (inet_pton(family, buf, bin) != 1) return 0;
  pppd_copy_text(dst, size, buf);
  return 1;
}

/* "a,b" of at most two parts: the length of the first, *second the other. */
static size_t split_pair(const char *v, size_t len, const char **second, size_t *second_len) {
  const char *comma = memchr(v, ',', len);
  if (!comma) {
    *second = v + len;
    *second_len = 0;
    return len;
  }
  *second = comma + 1;
  *second_len = len - (size_t)(comma + 1 - v);
  return (size_t)(comma - v);
}

/* An interface id as plugin.c writes it: 8 hex bytes joined by ':'. */
static int take_interface_id(char *dst, size_t size, const char *v, size_t len) {
  if (len != 23) return 0;
  for (size_t i = 0; i < len; i++) {
    int colon = i % 3 == 2;
    char ch = v[i];
    if (colon ? ch != ':' : !((ch >= '0' && ch <= '9') || (ch >= 'a' && ch <= 'f'))) return 0;
  }
  snprintf(dst, size, "%.23s", v);
  return 1;
}

static void take_mppe(ras_projection *p, const char *v, size_t len) {
  const char *rest;
  size_t rest_len, bits_len = split_pair(v, len, &rest, &rest_len);
  int stateful = rest_len == 8 && memcmp(rest, "stateful", 8) == 0;
  if ((bits_len != 2 && bits_len != 3) || (rest_len && !stateful)) return;
  if (memcmp(v, "40", bits_len) && memcmp(v, "56", bits_len) && memcmp(v, "128", bits_len))
    return;
  snprintf(p->encryption, sizeof p->encryption, "MPPE %.*s-bit %s", (int)bits_len, v,
           stateful ? "stateful" : "stateless");
}

static void take_ccp(ras_projection *p, const char *v, size_t len) {
  static const char *const methods[] = { "deflate", "bsd", "predictor-1", "predictor-2", NULL };
  for (int i = 0; methods[i]; i++)
    if (strlen(methods[i]) == len && memcmp(v, methods[i], len) == 0)
      pppd_copy_text(p->compression, sizeof p->compression, methods[i]);
}

/* Decimal bit/s, 0 (unknown) unless all digits and at most 12 of them: a
 * terabit, more than any tty runs at. */
static long long parse_speed(const char *v, size_t len) {
  long long speed = 0;
  if (len == 0 || len > 12) return 0;
  for (size_t i = 0; i < len; i++) {
    if (v[i] < '0' || v[i] > '9') return 0;
    speed = speed * 10 + (v[i] - '0');
  }
  return speed;
}

static void take_word(ras_call *c, ras_projection *p, const char *key, size_t klen,
                      const char *v, size_t len) {
  const char *second;
  size_t second_len, first_len = split_pair(v, len, &second, &second_len);
#define IS(name) (klen == sizeof name - 1 && memcmp(key, name, klen) == 0)
  if (IS("ipv4")) {
    p->has_ipv4 = take_address(p->ipv4_address, sizeof p->ipv4_address, v, first_len, AF_INET) &&
                  take_address(p->ipv4_server_address, sizeof p->ipv4_server_address, second,
                               second_len, AF_INET);
  } else if (IS("dns")) {
    p->ndns = 0;
    if (take_address(p->dns[0], sizeof p->dns[0], v, first_len, AF_INET)) p->ndns = 1;
    if (p->ndns && take_address(p->dns[1], sizeof p->dns[1], second, second_len, AF_INET))
      p->ndns = 2;
  } else if (IS("ipv6")) {
    p->has_ipv6 = take_interface_id(p->ipv6_interface_id, sizeof p->ipv6_interface_id, v,
                                    first_len) &&
                  take_interface_id(p->ipv6_server_interface_id,
                                    sizeof p->ipv6_server_interface_id, second, second_len);
  } else if (IS("mppe")) {
    take_mppe(p, v, len);
  } else if (IS("ccp")) {
    take_ccp(p, v, len);
  } else if (IS("speed")) {
    c->speed = parse_speed(v, len);
  }
#undef IS
}

/* `projection key=value ...`: the latest line replaces what came before;
 * values that do not parse are left out, unknown keys ignored. */
void pppd_on_projection(ras_call *c, const char *args) {
  ras_projection p;
  memset(&p, 0, sizeof p);
  c->speed = 0;
  while (*args) {
    const char *end = strchr(args, ' '), *eq;
    size_t len = end ? (size_t)(end - args) : strlen(args);
    eq = memchr(args, '=', len);
    if (eq) take_word(c, &p, args, (size_t)(eq - args), eq + 1, len - (size_t)(eq + 1 - args));
    args += len;
    while (*args == ' ') args++;
  }
  c->proj = p;
  c->projected = 1;
}

/* ---------------------------------------------------------------------- */
/* statistics                                                             */

/* The interface's counters in the network namespace of process pid (the
 * link is where its pppd is): /proc/PID/net/dev. 0, or -1 if not there. */
static int read_counters(pid_t pid, const char *ifname, ras_statistics *out) {
  char path[64], line[512];
  size_t ilen = strlen(ifname);
  int found = -1;
  FILE *f;
  snprintf(path, sizeof path, "/proc/%d/net/dev", (int)pid);
  if (!(f = fopen(path, "re"))) return -1;
  while (found < 0 && fgets(line, sizeof line, f)) {
    const char *p = line;
    unsigned long long v[16];
    while (*p == ' ') p++;
    if (strncmp(p, ifname, ilen) != 0 || p[ilen] != ':') continue;
    if (sscanf(p + ilen + 1, "%llu %llu %llu %llu %llu %llu %llu %llu %llu %llu %llu %llu %llu "
               "%llu %llu %llu", &v[0], &v[1], &v[2], &v[3], &v[4], &v[5], &v[6], &v[7], &v[8],
               &v[9], &v[10], &v[11], &v[12], &v[13], &v[14], &v[15]) != 16) break;
    /* receive: bytes packets errs drop fifo frame compressed multicast;
     * transmit: bytes packets errs drop fifo colls carrier compressed */
    out->bytes_received = v[0];
    out->frames_received = v[1];
    out->bytes_sent = v[8];
    out->frames_sent = v[9];
    out->errors = v[2] + v[3] + v[4] + v[5] + v[10] + v[11] + v[12] + v[13] + v[14];
    found = 0;
  }
  fclose(f);
  return found;
}

/* When a foreign link came up, as near as can be told: pppd writes
 * RUN_DIR/IFNAME.pid as it makes the interface. -1 if unknown. */
static double foreign_since(const ras_instance *pc, pid_t pid, const char *ifname) {
  char path[PATH_MAX];
  struct stat st;
  FILE *f;
  int file_pid = 0;
  snprintf(path, sizeof path, "%s/%s.pid", pc->run_dir, ifname);
  if (!(f = fopen(path, "re"))) return -1;
  if (fstat(fileno(f), &st) != 0 || fscanf(f, "%d", &file_pid) != 1) file_pid = 0;
  fclose(f);
  if (file_pid != (int)pid) return -1;
  return (double)st.st_mtim.tv_sec + (double)st.st_mtim.tv_nsec / 1e9;
}

int pppd_statistics(ras_call *c, ras_statistics *out, ras_error *err) {
  ras_instance *pc = c->pc;
  char ifname[IF_NAMESIZE];
  pid_t pid;
  int foreign, up;
  double since, now = os_now();
  os_mutex_lock(pc->lock);
  if (c->phase == GONE || c->phase == ENDED) {
    os_mutex_unlock(pc->lock);
    return ras_fail(err, RAS_ERROR_INVALID_HANDLE, "the connection no longer exists");
  }
  up = c->phase == UP && !c->dropping;
  pid = c->pid;
  foreign = c->foreign;
  since = c->up_since;
  pppd_copy_text(ifname, sizeof ifname, c->ifname);
  out->speed = c->speed > 0 ? c->speed : -1;
  os_mutex_unlock(pc->lock);
  out->duration = -1;
  if (!up || !ifname[0]) return 0;      /* dialling (or redialling): nothing counted */
  if (read_counters(pid, ifname, out) != 0) {
    if (kill(pid, 0) != 0 && errno == ESRCH)
      return ras_fail(err, RAS_ERROR_INVALID_HANDLE, "the connection no longer exists");
    return 0;                           /* the interface is going: counters unknown */
  }
  if (foreign) since = foreign_since(pc, pid, ifname);
  if (since > 0) out->duration = now > since ? now - since : 0;
  return 0;
}

/* ---------------------------------------------------------------------- */
/* projection                                                             */

int pppd_projection(ras_call *c, ras_projection *out, ras_error *err) {
  ras_instance *pc = c->pc;
  int rc = 0, foreign = 0;
  os_mutex_lock(pc->lock);
  if (c->phase == GONE || c->phase == ENDED) {
    rc = ras_fail(err, RAS_ERROR_INVALID_HANDLE, "the connection no longer exists");
  } else if (c->foreign && c->phase == UP) {
    foreign = 1;                        /* no plugin: what the interface tells */
    pppd_copy_text(out->interface, sizeof out->interface, c->ifname);
  } else if (c->phase != UP || c->dropping || !c->projected) {
    rc = ras_fail(err, PROJECTION_NOT_COMPLETE, "the link is not projected yet (%s)",
                  ras_state_name(c->state));
  } else {
    *out = c->proj;
    out->auth = c->auth;
    pppd_copy_text(out->interface, sizeof out->interface, c->ifname);
  }
  os_mutex_unlock(pc->lock);
  if (foreign) {
    if (!out->interface[0] || !pppd_interface_connected(out->interface))
      return ras_fail(err, PROJECTION_NOT_COMPLETE, "the link is not projected yet");
    pppd_interface_address(out->interface, SIOCGIFADDR, out->ipv4_address,
                           sizeof out->ipv4_address);
    pppd_interface_address(out->interface, SIOCGIFDSTADDR, out->ipv4_server_address,
                           sizeof out->ipv4_server_address);
    out->has_ipv4 = 1;
  }
  return rc;
}

/* ---------------------------------------------------------------------- */
/* devices                                                                */

static const size_t device_texts[] = RAS_DEVICE_TEXTS;

static void add_device(ras_list *l, const char *name, const char *type) {
  ras_device_info *d = ras_list_add(l);
  if (!d) return;
  ras_list_text(l, d, offsetof(ras_device_info, name), name);
  ras_list_text(l, d, offsetof(ras_device_info, type), type);
}

static int read_line(const char *path, char *buf, size_t size) {
  FILE *f = fopen(path, "re");
  int ok;
  if (!f) return 0;
  ok = fgets(buf, (int)size, f) != NULL;
  fclose(f);
  if (ok) buf[strcspn(buf, "\n")] = '\0';
  return ok;
}

/* A serial port that exists: ttyUSB and ttyACM nodes come and go with the
 * hardware; the 8250 driver makes ttyS nodes for ports it may not have, so
 * those count when their UART type is known (not 0, PORT_UNKNOWN). */
static int serial_exists(const char *name) {
  char path[PATH_MAX], type[16];
  struct stat st;
  snprintf(path, sizeof path, "/dev/%s", name);
  if (stat(path, &st) != 0 || !S_ISCHR(st.st_mode)) return 0;
  if (strncmp(name, "ttyS", 4) != 0) return 1;
  snprintf(path, sizeof path, "/sys/class/tty/%s/type", name);
  return read_line(path, type, sizeof type) && strcmp(type, "0") != 0;
}

static int numbered(const char *name, const char *prefix) {
  size_t n = strlen(prefix);
  if (strncmp(name, prefix, n) != 0 || !name[n]) return 0;
  for (const char *p = name + n; *p; p++)
    if (*p < '0' || *p > '9') return 0;
  return 1;
}

static void add_serial_ports(ras_list *l) {
  DIR *d = opendir("/dev");
  struct dirent *e;
  if (!d) return;
  while ((e = readdir(d)) != NULL) {
    const char *n = e->d_name;
    if (numbered(n, "ttyACM") && serial_exists(n)) add_device(l, n, "modem");
    else if ((numbered(n, "ttyS") || numbered(n, "ttyUSB")) && serial_exists(n))
      add_device(l, n, "serial");
  }
  closedir(d);
}

/* An interface PPPoE can run over: Ethernet (ARPHRD_ETHER, so loopback
 * and PPP are out by their type) that ARPs (IFF_NOARP marks pseudo-devices
 * such as ifb, which never reach a wire). */
static int carries_pppoe(const char *name) {
  char path[PATH_MAX], text[32];
  snprintf(path, sizeof path, "/sys/class/net/%s/type", name);
  if (!read_line(path, text, sizeof text) || strcmp(text, "1") != 0) return 0;
  snprintf(path, sizeof path, "/sys/class/net/%s/flags", name);
  return read_line(path, text, sizeof text) && !(strtoul(text, NULL, 16) & IFF_NOARP);
}

static void add_pppoe_interfaces(ras_list *l) {
  DIR *d = opendir("/sys/class/net");
  struct dirent *e;
  if (!d) return;
  while ((e = readdir(d)) != NULL)
    if (e->d_name[0] != '.' && carries_pppoe(e->d_name)) add_device(l, e->d_name, "pppoe");
  closedir(d);
}

/* The helpers a pppd `pty` runs for a VPN, where Debian installs them. */
static void add_vpn_helpers(ras_list *l) {
  static const char *const helpers[] = { "pptp", "sstpc", NULL };
  static const char *const dirs[] = { "/usr/sbin", "/sbin", "/usr/bin", "/bin",
                                      "/usr/local/sbin", "/usr/local/bin", NULL };
  for (int h = 0; helpers[h]; h++)
    for (int i = 0; dirs[i]; i++) {
      char path[PATH_MAX];
      snprintf(path, sizeof path, "%s/%s", dirs[i], helpers[h]);
      if (access(path, X_OK) == 0) {
        add_device(l, helpers[h], "vpn");
        break;
      }
    }
}

ras_device_info *pppd_devices(ras_instance *pc, size_t *n, ras_error *err) {
  ras_list l = { .item_size = sizeof(ras_device_info) };
  ras_device_info *list;
  (void)pc;
  add_serial_ports(&l);
  add_pppoe_interfaces(&l);
  add_vpn_helpers(&l);
  list = ras_list_finish(&l, device_texts, 2, n);
  if (!list) ras_fail(err, RAS_ERROR_NOT_ENOUGH_MEMORY, "not enough memory");
  return list;
}

#endif /* __linux__ */
