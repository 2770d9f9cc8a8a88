/*
 * fake_pppd - a stand-in for pppd that speaks the plugin protocol
 * (src/pppd/protocol.h) on fd 3 correctly, for measuring the backend at a
 * scale real pppd cannot reach in the sandbox (bench/pppd_scale.lua).
 *
 * Run by the backend as `fake_pppd call|file PEER plugin X ras-fd 3 [words]
 * nodetach`. It reads the credentials header, reports a link that comes up
 * at once, then idles. SIGUSR1: it sends `fake-lines N` (a context option
 * word; default 10000) lines one write each, 50 us apart, then a persist reconnection, so
 * that the module reports Reconnecting and Reconnected when all have been
 * read. SIGTERM: an orderly end (dead 5, exit 5).
 */
#define _GNU_SOURCE
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "../../src/pppd/protocol.h"

static volatile sig_atomic_t burst, stop;

static void on_usr1(int sig) { (void)sig; burst = 1; }
static void on_term(int sig) { (void)sig; stop = 1; }

static void say(const char *line) {
  size_t len = strlen(line);
  if (write(RAS_PPPD_FD, line, len) != (ssize_t)len) _exit(16);
}

int main(int argc, char **argv) {
  char buf[512];
  long lines = 10000;
  struct sigaction sa;
  sigset_t mask, old;
  for (int i = 1; i + 1 < argc; i++)
    if (strcmp(argv[i], "fake-lines") == 0) lines = atol(argv[i + 1]);
  if (read(RAS_PPPD_FD, buf, sizeof buf) <= 0) return 1;   /* the header */
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_usr1;
  sigaction(SIGUSR1, &sa, NULL);
  sa.sa_handler = on_term;
  sigaction(SIGTERM, &sa, NULL);
  snprintf(buf, sizeof buf, "pid %d\nphase 2\nphase 4\nphase 5\nauth-ok pap\nphase 7\n"
           "phase 8\nip-up ppp%d 10.64.%d.%d 10.64.0.1\n", (int)getpid(), (int)getpid() % 4096,
           (int)(getpid() / 250) % 250, (int)getpid() % 250 + 2);
  say(buf);
  sigemptyset(&mask);
  sigaddset(&mask, SIGUSR1);
  sigaddset(&mask, SIGTERM);
  sigprocmask(SIG_BLOCK, &mask, &old);
  while (!stop) {
    while (!burst && !stop) sigsuspend(&old);
    if (burst && !stop) {
      burst = 0;
      for (long i = 0; i < lines && !stop; i++) {
        struct timespec gap = { 0, 50000 };   /* one wake-up each, mostly */
        say("phase 8\n");
        nanosleep(&gap, NULL);
      }
      say("ip-down\nphase 10\nphase 2\nphase 4\nphase 5\nphase 7\nphase 8\n");
      snprintf(buf, sizeof buf, "ip-up ppp%d 10.64.0.2 10.64.0.1\n", (int)getpid() % 4096);
      say(buf);
    }
  }
  say("signal 15\nphase 9\nip-down\nphase 10\nphase 0\ndead 5\nexit 5\n");
  return 5;
}
