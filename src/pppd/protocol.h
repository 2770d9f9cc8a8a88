/*
 * protocol.h - the plugin protocol between ras_pppd.so (plugin.c, inside
 * pppd) and the pppd backend (the module): one header for both sides.
 *
 * The channel is an AF_UNIX SOCK_STREAM socket pair; pppd gets its end as
 * fd 3 (`ras-fd 3`).
 *
 * Module -> plugin, written once before pppd starts:
 *     "auth <ulen> <plen>[ only]\n" <ulen bytes user> <plen bytes password>
 *   decimal lengths of at most RAS_PPPD_SECRET_MAX, no NUL in either. ulen 0:
 *   keep the peer file's user; plen 0: pppd's own secrets files are used,
 *   unless "only" follows: then the password is the one given even when
 *   empty (a dial with saved_credentials = false).
 *   Nothing else is ever written: after the header the module only reads,
 *   and its end closing is the plugin's sign that nobody watches the dial.
 *
 * Plugin -> module: one line per event, at most RAS_PPPD_LINE_MAX bytes with
 * its '\n', printable ASCII, the verb and its arguments separated by one
 * space, each line sent with one non-blocking send() (a line that cannot be
 * sent whole closes the channel: the stream never carries a torn line).
 * The verbs are ras_pppd_verbs[] below. For the module, a NUL byte, an
 * unknown verb or a line that breaks the order below is a protocol error
 * that ends the connection; an overlong line is dropped whole, then a
 * protocol error too.
 *
 * Crash safety: the plugin polls the channel while the link is not up; once
 * the module's end is closed (the program died, or dropped the dial) a dial
 * that has not reached ip-up ends within RAS_PPPD_ORPHAN_GRACE seconds. An
 * established link stays up, as rasdial's do.
 */
#ifndef RAS_PPPD_PROTOCOL_H
#define RAS_PPPD_PROTOCOL_H

#define RAS_PPPD_FD 3                 /* the channel's descriptor in pppd */
#define RAS_PPPD_FD_WORD "3"
#define RAS_PPPD_OPTION "ras-fd"      /* the plugin's pppd option */
#define RAS_PPPD_LINE_MAX 512         /* one line, '\n' included */
#define RAS_PPPD_SECRET_MAX 255       /* user and password bytes */
#define RAS_PPPD_HEADER_VERB "auth"
#define RAS_PPPD_HEADER_ONLY "only"     /* never pppd's secrets files */
#define RAS_PPPD_HEADER_MAX 40        /* "auth 255 255\n" fits many times */
#define RAS_PPPD_HEADER_TIMEOUT_MS 10000
#define RAS_PPPD_ORPHAN_GRACE 2       /* seconds: see above */
#define RAS_PPPD_ORPHAN_POLL_MS 500   /* how often the plugin looks */

/* The events, in the order a link produces them. */
enum ras_pppd_verb {
  RAS_PPPD_PID,        /* pid <pid>: first line; pppd's own pid */
  RAS_PPPD_DEVICE,     /* device <devnam>: spaces and controls as '?' */
  RAS_PPPD_PHASE,      /* phase <n>: every phase change (below) */
  RAS_PPPD_AUTH_OK,    /* auth-ok <proto>: the peer accepted OUR login */
  RAS_PPPD_AUTH_FAIL,  /* auth-fail <proto>: it refused it */
  RAS_PPPD_AUTH_UP,    /* auth-up: pppd's auth_up_notifier */
  RAS_PPPD_IP_UP,      /* ip-up <ifname> <local-ip> <remote-ip> */
  RAS_PPPD_IP_DOWN,    /* ip-down */
  RAS_PPPD_LINK_DOWN,  /* link-down: LCP went down after being up */
  RAS_PPPD_SIGNAL,     /* signal <n>: pppd received signal n */
  RAS_PPPD_DEAD,       /* dead <status>: pppd's `status` at PHASE_DEAD, the
                        * true reason (the exit code is often 16) */
  RAS_PPPD_EXIT,       /* exit <code>: the last line */
  /* projection <key>=<value>...: what the link negotiated, sent just
   * before ip-up and again at IPV6CP up (the latest one holds). Keys, each
   * at most once, unknown ones ignored (a newer plugin may say more):
   *   ipv4=<ours>,<peer>   IPCP's addresses
   *   dns=<a>[,<b>]        the DNS servers the peer gave (usepeerdns)
   *   ipv6=<ours>,<peer>   IPV6CP's interface ids, 8 hex bytes as 01:23:...
   *   mppe=<bits>[,stateful]  MPPE is up: 40, 56 or 128
   *   ccp=<method>         CCP compression: deflate, bsd, predictor-1, -2
   *   speed=<bit/s>        the tty's speed; absent without a tty (PPPoE) */
  RAS_PPPD_PROJECTION,
  RAS_PPPD_VERBS
};

static const char *const ras_pppd_verbs[RAS_PPPD_VERBS] = {
  "pid", "device", "phase", "auth-ok", "auth-fail", "auth-up", "ip-up",
  "ip-down", "link-down", "signal", "dead", "exit", "projection"
};

/* The verb of a word of len bytes, or -1 when it is none. */
static inline int ras_pppd_verb(const char *word, unsigned long len) {
  for (int v = 0; v < RAS_PPPD_VERBS; v++) {
    const char *name = ras_pppd_verbs[v];
    unsigned long i = 0;
    while (i < len && name[i] && name[i] == word[i]) i++;
    if (i == len && !name[i]) return v;
  }
  return -1;
}

/* pppd 2.4.9's PHASE_* (pppd.h); plugin.c checks that they agree. */
enum {
  RAS_PPPD_PHASE_DEAD = 0, RAS_PPPD_PHASE_INITIALIZE = 1, RAS_PPPD_PHASE_SERIALCONN = 2,
  RAS_PPPD_PHASE_DORMANT = 3, RAS_PPPD_PHASE_ESTABLISH = 4,
  RAS_PPPD_PHASE_AUTHENTICATE = 5, RAS_PPPD_PHASE_CALLBACK = 6,
  RAS_PPPD_PHASE_NETWORK = 7, RAS_PPPD_PHASE_RUNNING = 8,
  RAS_PPPD_PHASE_TERMINATE = 9, RAS_PPPD_PHASE_DISCONNECT = 10,
  RAS_PPPD_PHASE_HOLDOFF = 11, RAS_PPPD_PHASE_MASTER = 12
};

/* pppd's exit statuses (pppd(8)): the `dead` and `exit` numbers. */
enum {
  RAS_PPPD_EXIT_OK = 0, RAS_PPPD_EXIT_FATAL = 1, RAS_PPPD_EXIT_OPTION = 2,
  RAS_PPPD_EXIT_NOT_ROOT = 3, RAS_PPPD_EXIT_NO_KERNEL = 4, RAS_PPPD_EXIT_SIGNAL = 5,
  RAS_PPPD_EXIT_LOCK = 6, RAS_PPPD_EXIT_OPEN = 7, RAS_PPPD_EXIT_CONNECT = 8,
  RAS_PPPD_EXIT_PTYCMD = 9, RAS_PPPD_EXIT_NEGOTIATION = 10,
  RAS_PPPD_EXIT_PEER_AUTH = 11, RAS_PPPD_EXIT_IDLE = 12,
  RAS_PPPD_EXIT_CONNECT_TIME = 13, RAS_PPPD_EXIT_CALLBACK = 14,
  RAS_PPPD_EXIT_PEER_DEAD = 15, RAS_PPPD_EXIT_HANGUP = 16,
  RAS_PPPD_EXIT_LOOPBACK = 17, RAS_PPPD_EXIT_INIT = 18,
  RAS_PPPD_EXIT_AUTH_TOPEER = 19, RAS_PPPD_EXIT_TRAFFIC = 20, RAS_PPPD_EXIT_CNID = 21
};

#endif
