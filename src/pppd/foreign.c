/*
 * foreign.c - connections other programs started, found through pppd's pid
 * files, and the peer files as entries.
 *
 * A pid file in run_dir names a connection only when all of these hold:
 *  - its process really is pppd: its executable is named pppd (not a name
 *    prefix: pppdump and pppd-watchdog are not), or, for a user who may not
 *    read that link, its command name is exactly "pppd";
 *  - it runs in this machine's network and mount namespaces (a test
 *    server's or a container's pppd is not ours to list or hang up);
 *  - the file is the one that process wrote: not older than the process,
 *    and its interface exists here;
 * and attach() takes a pidfd first and checks again through it, so that the
 * process every later signal goes to is the one that was checked.
 */
#ifdef __linux__
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "internal.h"

int pppd_valid_entry_name(const char *name) {
  return name[0] && name[0] != '.' && !strchr(name, '/');
}

static int read_small(const char *path, char *buf, size_t size) {
  FILE *f = fopen(path, "re");
  size_t n;
  if (!f) return -1;
  n = fread(buf, 1, size - 1, f);
  fclose(f);
  buf[n] = '\0';
  return (int)n;
}

/* Same namespace as ours; a namespace we may not look at counts as ours
 * (we may not signal that process either). */
static int same_namespace(pid_t pid, const char *ns) {
  char path[64];
  struct stat mine, theirs;
  snprintf(path, sizeof path, "/proc/self/ns/%s", ns);
  if (stat(path, &mine) != 0) return 1;
  snprintf(path, sizeof path, "/proc/%d/ns/%s", (int)pid, ns);
  if (stat(path, &theirs) != 0) return errno == EACCES || errno == EPERM;
  return mine.st_ino == theirs.st_ino && mine.st_dev == theirs.st_dev;
}

int pppd_is_local_pppd(pid_t pid) {
  char path[64], exe[PATH_MAX], comm[32];
  ssize_t n;
  if (pid <= 0) return 0;
  snprintf(path, sizeof path, "/proc/%d/exe", (int)pid);
  n = readlink(path, exe, sizeof exe - 1);
  if (n >= 0) {
    const char *base;
    exe[n] = '\0';
    base = strrchr(exe, '/');
    base = base ? base + 1 : exe;
    if (strcmp(base, "pppd") != 0) return 0;
  } else {
    if (errno != EACCES && errno != EPERM) return 0;
    snprintf(path, sizeof path, "/proc/%d/comm", (int)pid);
    if (read_small(path, comm, sizeof comm) <= 0 || strcmp(comm, "pppd\n") != 0) return 0;
  }
  return same_namespace(pid, "net") && same_namespace(pid, "mnt");
}

/* When the process started, in seconds since the epoch; -1 if unknown. */
static double start_time(pid_t pid) {
  char path[64], stat[1024], *p;
  unsigned long long ticks;
  long btime = -1;
  char line[256];
  FILE *f;
  snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
  if (read_small(path, stat, sizeof stat) <= 0 || !(p = strrchr(stat, ')'))) return -1;
  /* after the command: state is field 3, starttime field 22 */
  p += 2;
  for (int field = 3; field < 22; field++) {
    p = strchr(p, ' ');
    if (!p) return -1;
    p++;
  }
  if (sscanf(p, "%llu", &ticks) != 1) return -1;
  if (!(f = fopen("/proc/stat", "re"))) return -1;
  while (fgets(line, sizeof line, f))
    if (sscanf(line, "btime %ld", &btime) == 1) break;
  fclose(f);
  if (btime < 0) return -1;
  return (double)btime + (double)ticks / (double)sysconf(_SC_CLK_TCK);
}

/* A pid file: the pid, then (ppp-LINKNAME.pid) the interface; 0 if none. */
static pid_t read_pid_file(const char *path, char ifname[IF_NAMESIZE], struct stat *st) {
  FILE *f = fopen(path, "re");
  int pid = 0;
  ifname[0] = '\0';
  if (!f) return 0;
  if (fstat(fileno(f), st) != 0 || fscanf(f, "%d", &pid) != 1) pid = 0;
  if (fscanf(f, "%15s", ifname) != 1) ifname[0] = '\0';
  fclose(f);
  return pid;
}

/* The pid file belongs to the process: written after it started (a second
 * of slack for the boot time's rounding), for an interface that exists. */
static int pid_file_matches(pid_t pid, const struct stat *st, const char *ifname) {
  double started = start_time(pid);
  if (!ifname[0] || if_nametoindex(ifname) == 0) return 0;
  return started < 0 || (double)st->st_mtime + 1.0 >= started;
}

/* The next valid pppd pid file of run_dir: its pid (0 when there is none
 * left) and its interface (a pppN.pid file is named after it). */
static pid_t next_pid_file(DIR *d, const char *run_dir, char ifname[IF_NAMESIZE]) {
  struct dirent *e;
  while ((e = readdir(d)) != NULL) {
    const char *dot = strstr(e->d_name, ".pid");
    char path[PATH_MAX];
    struct stat st;
    pid_t pid;
    if (strncmp(e->d_name, "ppp", 3) != 0 || !dot || dot[4]) continue;
    snprintf(path, sizeof path, "%s/%s", run_dir, e->d_name);
    if ((pid = read_pid_file(path, ifname, &st)) <= 0) continue;
    if (!ifname[0] && isdigit((unsigned char)e->d_name[3]) && dot - e->d_name < IF_NAMESIZE)
      snprintf(ifname, IF_NAMESIZE, "%.*s", (int)(dot - e->d_name), e->d_name);
    if (!pppd_is_local_pppd(pid) || !pid_file_matches(pid, &st, ifname)) continue;
    return pid;
  }
  return 0;
}

pid_t pppd_next_pid_file(DIR *d, const char *run_dir, char ifname[IF_NAMESIZE]) {
  return next_pid_file(d, run_dir, ifname);
}

/* The entry a pppd was started for: `call NAME`, `file PATH`, else "". */
static void entry_of_process(pid_t pid, char *entry, size_t size) {
  char path[64], args[4096];
  int n;
  entry[0] = '\0';
  snprintf(path, sizeof path, "/proc/%d/cmdline", (int)pid);
  if ((n = read_small(path, args, sizeof args)) <= 0) return;
  for (char *w = args; w < args + n; w += strlen(w) + 1) {
    char *next = w + strlen(w) + 1;
    if (next >= args + n) break;
    if (strcmp(w, "call") == 0) { pppd_copy_text(entry, size, next); return; }
    if (strcmp(w, "file") == 0) {
      const char *slash = strrchr(next, '/');
      pppd_copy_text(entry, size, slash ? slash + 1 : next);
      return;
    }
  }
}

void pppd_entry_of_process(pid_t pid, char *entry, size_t size) {
  entry_of_process(pid, entry, size);
}

static ras_call *own_call(ras_instance *pc, pid_t pid) {
  for (ras_call *c = pc->calls; c; c = c->next)
    if (c->pid == pid && c->phase != GONE && !c->freeing) return c;
  return NULL;
}

static const size_t conn_texts[] = RAS_CONN_TEXTS, entry_texts[] = RAS_ENTRY_TEXTS;

static int add_info(ras_list *l, uint64_t id, const char *entry, const char *phonebook) {
  ras_conn_info *info = ras_list_add(l);
  if (!info) return -1;
  info->id = id;
  ras_list_text(l, info, offsetof(ras_conn_info, entry), entry);
  ras_list_text(l, info, offsetof(ras_conn_info, phonebook), phonebook);
  return l->failed ? -1 : 0;
}

/* Whether id is listed already. */
static int listed(const ras_list *l, uint64_t id) {
  for (size_t i = 0; i < l->n; i++)
    if (((const ras_conn_info *)(const void *)(l->items + i * l->item_size))->id == id) return 1;
  return 0;
}

/* Foreign pppd processes with a valid pid file in the run directory. */
static int scan_pid_files(ras_instance *pc, ras_list *l) {
  DIR *d = opendir(pc->run_dir);
  char ifname[IF_NAMESIZE];
  pid_t pid;
  if (!d) return 0;
  while ((pid = next_pid_file(d, pc->run_dir, ifname)) > 0) {
    char entry[RAS_MAX_ENTRY + 1];
    if (listed(l, (uint64_t)pid)) continue;
    entry_of_process(pid, entry, sizeof entry);
    if (add_info(l, (uint64_t)pid, entry, pc->peers_dir) != 0) break;
  }
  closedir(d);
  return 0;
}

ras_conn_info *pppd_connections(ras_instance *pc, size_t *n, ras_error *err) {
  ras_list l = { .item_size = sizeof(ras_conn_info) };
  ras_conn_info *list;
  os_mutex_lock(pc->lock);
  for (ras_call *c = pc->calls; c; c = c->next)   /* ours, and foreign ones we watch */
    if (c->phase != GONE && !c->freeing) add_info(&l, (uint64_t)c->pid, c->entry, pc->peers_dir);
  os_mutex_unlock(pc->lock);
  scan_pid_files(pc, &l);
  list = ras_list_finish(&l, conn_texts, 2, n);
  if (!list) ras_fail(err, RAS_ERROR_NOT_ENOUGH_MEMORY, "not enough memory");
  return list;
}

/* The interface of a foreign pppd, from its valid pid file; 0 if none. */
static int interface_of(ras_instance *pc, pid_t pid, char *ifname, size_t size) {
  DIR *d = opendir(pc->run_dir);
  char name[IF_NAMESIZE];
  pid_t found;
  ifname[0] = '\0';
  if (!d) return 0;
  while ((found = next_pid_file(d, pc->run_dir, name)) > 0 && found != pid) {}
  if (found == pid) pppd_copy_text(ifname, size, name);
  closedir(d);
  return found == pid;
}

void pppd_interface_address(const char *ifname, unsigned long request, char *out,
                            size_t size) {
  struct ifreq ifr;
  int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (s < 0) return;
  memset(&ifr, 0, sizeof ifr);
  snprintf(ifr.ifr_name, sizeof ifr.ifr_name, "%s", ifname);
  if (ioctl(s, request, &ifr) == 0)
    inet_ntop(AF_INET, &((struct sockaddr_in *)&ifr.ifr_addr)->sin_addr, out, (socklen_t)size);
  close(s);
}

int pppd_interface_connected(const char *ifname) {
  struct ifreq ifr;
  char addr[64] = "";
  int s, up = 0;
  if ((s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0)) >= 0) {
    memset(&ifr, 0, sizeof ifr);
    snprintf(ifr.ifr_name, sizeof ifr.ifr_name, "%s", ifname);
    up = ioctl(s, SIOCGIFFLAGS, &ifr) == 0 && (ifr.ifr_flags & IFF_UP);
    close(s);
  }
  pppd_interface_address(ifname, SIOCGIFADDR, addr, sizeof addr);
  return up && addr[0];
}

/* Up with an address: Connected; otherwise still in LCP (or going down). */
int pppd_foreign_state(const ras_call *c) {
  if (!c->ifname[0]) return RAS_DeviceConnected;
  return pppd_interface_connected(c->ifname) ? RAS_Connected : RAS_DeviceConnected;
}

ras_call *pppd_attach(ras_instance *pc, ras_feed *feed, uint64_t id, ras_error *err) {
  pid_t pid = (pid_t)id;
  ras_call *c;
  int pidfd;
  os_mutex_lock(pc->lock);
  c = own_call(pc, pid);
  if (c && !c->feed) {          /* ours, let go of by its Lua object */
    ras_feed_ref(feed);
    c->feed = feed;
    c->released = 0;
    os_mutex_unlock(pc->lock);
    return c;
  }
  if (c) {                      /* watched already: the binding has its object */
    os_mutex_unlock(pc->lock);
    ras_fail(err, RAS_ERROR_INVALID_HANDLE, "the connection no longer exists");
    return NULL;
  }
  os_mutex_unlock(pc->lock);
  /* pin the process first, then check it: a signal can only reach it */
  pidfd = pid > 0 ? pppd_pidfd_open(pid) : -1;
  if ((pid > 0 && pidfd < 0 && errno == ESRCH) || !pppd_is_local_pppd(pid) ||
      !(c = calloc(1, sizeof *c))) {
    if (pidfd >= 0) close(pidfd);
    ras_fail(err, RAS_ERROR_INVALID_HANDLE, "the connection no longer exists");
    return NULL;
  }
  c->pc = pc;
  c->pid = pid;
  c->foreign = 1;
  c->sock = c->errfd = -1;
  c->pidfd = pidfd;
  c->phase = UP;
  c->dead_status = c->exit_status = -1;
  entry_of_process(pid, c->entry, sizeof c->entry);
  if (!interface_of(pc, pid, c->ifname, sizeof c->ifname)) {
    pppd_free_call(c);
    ras_fail(err, RAS_ERROR_INVALID_HANDLE, "the connection no longer exists");
    return NULL;
  }
  c->state = pppd_foreign_state(c);
  os_mutex_lock(pc->lock);
  if (pppd_watcher_start(pc, err) != 0 || pppd_watch(c, err) != 0) {
    os_mutex_unlock(pc->lock);
    pppd_free_call(c);
    return NULL;
  }
  ras_feed_ref(feed);
  c->feed = feed;
  pppd_link(c);
  pppd_watcher_wake(pc);
  os_mutex_unlock(pc->lock);
  return c;
}

ras_entry_info *pppd_entries(ras_instance *pc, const char *phonebook, size_t *n,
                             ras_error *err) {
  const char *dir = phonebook ? phonebook : pc->peers_dir;
  DIR *d = opendir(dir);
  struct dirent *e;
  ras_list l = { .item_size = sizeof(ras_entry_info) };
  ras_entry_info *list;
  *n = 0;
  if (!d) {
    if (errno == ENOENT || errno == ENOTDIR) {        /* no entries */
      list = ras_list_finish(&l, entry_texts, 2, n);
      if (!list) ras_fail(err, RAS_ERROR_NOT_ENOUGH_MEMORY, "not enough memory");
      return list;
    }
    char what[64 + OPTION_MAX_PATH];
    snprintf(what, sizeof what, "cannot read the peers directory %s", dir);
    ras_fail_errno(err, errno, what);
    return NULL;
  }
  while ((e = readdir(d)) != NULL) {
    char path[PATH_MAX];
    struct stat st;
    if (!pppd_valid_entry_name(e->d_name) || e->d_name[strlen(e->d_name) - 1] == '~') continue;
    snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
    if (stat(path, &st) != 0 || !S_ISREG(st.st_mode)) continue;
    ras_entry_info *info = ras_list_add(&l);
    if (!info) break;
    ras_list_text(&l, info, offsetof(ras_entry_info, name), e->d_name);
    ras_list_text(&l, info, offsetof(ras_entry_info, phonebook), dir);
  }
  closedir(d);
  list = ras_list_finish(&l, entry_texts, 2, n);
  if (!list) ras_fail(err, RAS_ERROR_NOT_ENOUGH_MEMORY, "not enough memory");
  return list;
}

#endif /* __linux__ */
