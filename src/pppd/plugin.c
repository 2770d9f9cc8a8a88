/*
 * plugin.c - ras_pppd.so, the pppd plugin behind the ras pppd backend (pppd
 * 2.4.9 and 2.5.x; the version differences are all in pppd_compat.h).
 *
 * Loaded as:  pppd call PEER plugin /abs/path/ras_pppd.so ras-fd 3 ... nodetach
 * where fd 3 is an inherited AF_UNIX SOCK_STREAM socket (the "channel"). The
 * option is registered by this plugin, so it must come after `plugin`.
 * protocol.h is the contract with the module: the header the module writes,
 * the event lines this plugin sends, their order and limits.
 *
 * The header: read at the first phase change (the fd is only known after
 * option parsing), waiting at most RAS_PPPD_HEADER_TIMEOUT_MS; a missing or
 * malformed header is fatal (pppd exits with status 1, reported as `exit 1`
 * without `dead`). A ras-fd that is not an open fd is an option error (exit
 * 2, no events). The password reaches pppd only through
 * pap_passwd_hook/chap_passwd_hook: never through its command line,
 * environment or a file.
 *
 * Crash safety: until ip-up the plugin looks at the channel every
 * RAS_PPPD_ORPHAN_POLL_MS (pppd's own timer, no thread); once the module's
 * end has closed (the program died), or a send failed, a dial that is not up
 * is hung up as by SIGTERM. After ip-up the link stays up, as rasdial's do.
 *
 * Observed (pppd 2.4.9 client, pty link; pid/device lines omitted):
 *   up:            phase 2, 4, 5, auth-ok pap, auth-up, phase 7, 8,
 *                  projection ipv4=10.0.0.2,10.0.0.1 speed=38400,
 *                  ip-up ppp0 10.0.0.2 10.0.0.1
 *   we hang up:    signal 15, phase 9, ip-down, phase 7, link-down, phase 4,
 *                  10, 0, dead 5, exit 5
 *   peer hangs up: ip-down, phase 7, link-down, phase 4, 10, 0, dead 0, exit 16
 *   line dropped:  ip-down, phase 7, link-down, phase 4, 10, 0, dead 16, exit 16
 *   peer silent:   (lcp-echo) phase 9, ip-down, phase 7, link-down, phase 4,
 *                  10, 0, dead 15, exit 16
 *   bad password:  phase 2, 4, 5, auth-fail chap, phase 9, link-down, phase 4,
 *                  10, 0, dead 19, exit 19 (exit 16 with PAP)
 *   persist drop:  ip-down, ..., phase 10, 0, dead 16, [11 holdoff, 3], 2, 4,
 *                  5, ..., 8, ip-up (2.5 after a hangup: no holdoff, 0 then 2)
 * So: judge the outcome by `dead`, never by `exit`.
 *
 * If pppd exits before its first phase change (no kernel PPP 4, ...) the
 * exit notifier still sends `pid` and `exit`. If the module stops reading,
 * events are dropped rather than blocking pppd; a failed or partial send
 * closes the channel for good. EOF on the channel means pppd (and every
 * process that could hold the socket) is gone: the socket is close-on-exec
 * and closed in pppd's forked children.
 */

#define _GNU_SOURCE /* POLLRDHUP */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "pppd_compat.h"
#include "ccp.h"      /* the same in 2.4 and 2.5: the projection's parts */
#ifndef INET6
#define INET6 1      /* 2.4's eui64.h wants it; Debian builds pppd with IPv6 */
#endif
#include "eui64.h"
#include "ipv6cp.h"
#include "mppe.h"

#include "protocol.h"

_Static_assert(RAS_PPPD_PHASE_DEAD == (int)PHASE_DEAD && RAS_PPPD_PHASE_SERIALCONN == (int)PHASE_SERIALCONN &&
	       RAS_PPPD_PHASE_ESTABLISH == (int)PHASE_ESTABLISH &&
	       RAS_PPPD_PHASE_AUTHENTICATE == (int)PHASE_AUTHENTICATE &&
	       RAS_PPPD_PHASE_CALLBACK == (int)PHASE_CALLBACK && RAS_PPPD_PHASE_NETWORK == (int)PHASE_NETWORK &&
	       RAS_PPPD_PHASE_RUNNING == (int)PHASE_RUNNING && RAS_PPPD_PHASE_DISCONNECT == (int)PHASE_DISCONNECT &&
	       RAS_PPPD_PHASE_HOLDOFF == (int)PHASE_HOLDOFF && RAS_PPPD_PHASE_MASTER == (int)PHASE_MASTER,
	       "protocol.h's phases are pppd's");
_Static_assert(RAS_PPPD_EXIT_AUTH_TOPEER == (int)EXIT_AUTH_TOPEER_FAILED && RAS_PPPD_EXIT_HANGUP == (int)EXIT_HANGUP &&
	       RAS_PPPD_EXIT_CNID == (int)EXIT_CNID_AUTH_FAILED && RAS_PPPD_EXIT_OPTION == (int)EXIT_OPTION_ERROR, "protocol.h's statuses are pppd's");

#ifndef PPP_EAP
#define PPP_EAP 0xc227
#endif
#define EAP_CODE_SUCCESS 3 /* RFC 3748; eap.h drags in more than we need */
#define EAP_CODE_FAILURE 4

#define HEADER_MAX RAS_PPPD_HEADER_MAX
#define HEADER_TIMEOUT_MS RAS_PPPD_HEADER_TIMEOUT_MS

char pppd_version[] = RAS_PPPD_VERSION;

enum chan_state { CHAN_UNOPENED, CHAN_OPEN, CHAN_CLOSED };

static int ras_fd = -1;                       /* set by the ras-fd option */
static volatile sig_atomic_t chan = CHAN_UNOPENED;
static char ras_user[MAXNAMELEN];
static char ras_pass[MAXSECRETLEN];
static size_t ras_ulen, ras_plen;
static int ras_only;	/* the header's "only": never pppd's secrets files */
static char sent_dev[MAXPATHLEN];             /* last device reported */
static int auth_result;                       /* 0 none, 1 ok, -1 fail (this link) */
static int last_phase = -1;
static int link_down_sent;                    /* for this link */
static int link_up;                           /* ip-up seen: the link outlives us */
static int orphan_watch;                      /* the channel poll timer is set */

/*
 * ras-fd N: checked while options are parsed, so a wrong fd is an option
 * error (exit 2) at once instead of a pppd that runs unobserved.
 */
static int set_ras_fd(char **argv)
{
	int fd;

	if (!RAS_INT_OPTION(*argv, &fd) || fd < 0) {
		RAS_OPTION_ERROR("ras-fd: bad file descriptor number %s", *argv);
		return 0;
	}
	/* Scripts pppd execs must not hold the socket: the module waits for EOF. */
	if (fcntl(fd, F_SETFD, FD_CLOEXEC) < 0) {
		RAS_OPTION_ERROR("ras-fd %d: %m", fd);
		return 0;
	}
	ras_fd = fd;
	return 1;
}

static option_t ras_options[] = {
	{ .name = "ras-fd", .type = o_special, .addr = (void *)set_ras_fd,
	  .description = "fd of the ras control socket" },
	{ .name = NULL }
};

/* ---- sending events ------------------------------------------------- */

/*
 * Nobody watches the dial any more: a link that is not up yet is hung up as
 * SIGTERM would (pppd's own handler: status 5, no persist). Async-signal-
 * safe: it may run from send_line in a signal handler.
 */
static void orphaned(void)
{
	if (!link_up)
		kill(getpid(), SIGTERM);
}

/*
 * Send one whole line or give up on the channel. Async-signal-safe (it runs
 * from pppd's signal handlers via sigreceived): no stdio, no logging.
 * MSG_DONTWAIT: a module that stops reading must never stall pppd.
 * MSG_NOSIGNAL: a vanished module must never raise SIGPIPE.
 */
static void send_line(const char *buf, size_t len)
{
	ssize_t n;

	if (chan != CHAN_OPEN)
		return;
	do
		n = send(ras_fd, buf, len, MSG_NOSIGNAL | MSG_DONTWAIT);
	while (n < 0 && errno == EINTR);
	if (n < 0 && errno == ENOTSOCK) {   /* a pipe, e.g. when debugging */
		do
			n = write(ras_fd, buf, len);
		while (n < 0 && errno == EINTR);
	}
	if (n != (ssize_t)len) {
		/* A torn or lost line: stop, so the stream never carries garbage. */
		chan = CHAN_CLOSED;
		close(ras_fd);
		orphaned();
	}
}

static void emit(const char *fmt, ...)
{
	char buf[RAS_PPPD_LINE_MAX];
	va_list ap;
	int n;

	if (chan != CHAN_OPEN)
		return;
	va_start(ap, fmt);
	n = vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	if ((size_t)n > sizeof(buf) - 1)
		n = (int)sizeof(buf) - 1;   /* a long device name: cut, as the limit says */
	dbglog("ras: %s", buf);
	buf[n++] = '\n';
	send_line(buf, (size_t)n);
	if (chan == CHAN_CLOSED)
		dbglog("ras: control channel lost, events dropped from now on");
}

/* "name <n>\n" without stdio, for signal context. */
static void emit_num_safe(const char *name, long v)
{
	char buf[48], digits[24];
	size_t len = 0, nd = 0;
	unsigned long u = v < 0 ? 0UL - (unsigned long)v : (unsigned long)v;

	while (*name && len < 20)
		buf[len++] = *name++;
	buf[len++] = ' ';
	if (v < 0)
		buf[len++] = '-';
	do {
		digits[nd++] = (char)('0' + u % 10);
		u /= 10;
	} while (u);
	while (nd)
		buf[len++] = digits[--nd];
	buf[len++] = '\n';
	send_line(buf, len);
}

/* ---- reading the auth header ---------------------------------------- */

static int ms_left(const struct timespec *deadline)
{
	struct timespec now;
	long ms;

	clock_gettime(CLOCK_MONOTONIC, &now);
	ms = (deadline->tv_sec - now.tv_sec) * 1000
	   + (deadline->tv_nsec - now.tv_nsec) / 1000000;
	return ms > 0 ? (int)ms : 0;
}

/* Read exactly len bytes before the deadline; 0 on success. */
static int read_exact(char *buf, size_t len, const struct timespec *deadline)
{
	struct pollfd pfd = { .fd = ras_fd, .events = POLLIN };
	size_t got = 0;
	ssize_t n;
	int r;

	while (got < len) {
		r = poll(&pfd, 1, ms_left(deadline));
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return -1;              /* error or timeout */
		n = read(ras_fd, buf + got, len - got);
		if (n < 0 && (errno == EINTR || errno == EAGAIN))
			continue;
		if (n <= 0)
			return -1;              /* error or EOF */
		got += (size_t)n;
	}
	return 0;
}

/* Strict decimal field ending at `end`; -1 if malformed or > limit. */
static long parse_len(const char *s, char **end, long limit)
{
	long v;

	if (*s < '0' || *s > '9')
		return -1;
	errno = 0;
	v = strtol(s, end, 10);
	if (errno || v > limit)
		return -1;
	return v;
}

/* Header line, byte by byte so nothing after '\n' is consumed. */
static int read_header(long *ulen, long *plen, const struct timespec *dl)
{
	char line[HEADER_MAX + 1], *p;
	size_t i = 0;

	for (;;) {
		if (i == HEADER_MAX || read_exact(&line[i], 1, dl) < 0)
			return -1;
		if (line[i] == '\n')
			break;
		i++;
	}
	line[i] = '\0';
	if (strncmp(line, RAS_PPPD_HEADER_VERB " ", sizeof RAS_PPPD_HEADER_VERB) != 0)
		return -1;
	*ulen = parse_len(line + sizeof RAS_PPPD_HEADER_VERB, &p, MAXNAMELEN - 1);
	if (*ulen < 0 || *p != ' ')
		return -1;
	*plen = parse_len(p + 1, &p, MAXSECRETLEN - 1);
	if (*plen < 0)
		return -1;
	if (strcmp(p, " " RAS_PPPD_HEADER_ONLY) == 0)
		ras_only = 1;
	else if (*p != '\0')
		return -1;
	return 0;
}

static int read_auth(void)
{
	struct timespec dl;
	long ulen, plen;

	clock_gettime(CLOCK_MONOTONIC, &dl);
	dl.tv_sec += HEADER_TIMEOUT_MS / 1000;
	if (read_header(&ulen, &plen, &dl) < 0)
		return -1;
	if (read_exact(ras_user, (size_t)ulen, &dl) < 0
	    || read_exact(ras_pass, (size_t)plen, &dl) < 0)
		return -1;
	/* pppd handles names and secrets as C strings: a NUL would truncate. */
	if (memchr(ras_user, 0, (size_t)ulen) || memchr(ras_pass, 0, (size_t)plen))
		return -1;
	ras_ulen = (size_t)ulen;
	ras_plen = (size_t)plen;
	return 0;
}

static void wipe_secrets(void)
{
	explicit_bzero(ras_pass, sizeof(ras_pass));
	explicit_bzero(ras_user, sizeof(ras_user));
	ras_plen = ras_ulen = 0;
}

/* ---- secrets hooks (installed only when we hold a password) ---------- */

/* Also asked with passwd == NULL: "could you supply one?" */
static int ras_pap_passwd(char *u, char *passwd)
{
	if (ras_ulen && u)
		strlcpy(u, ras_user, MAXNAMELEN);
	if (passwd)
		strlcpy(passwd, ras_pass, MAXSECRETLEN);
	return 1;
}

static int ras_chap_passwd(char *u, char *passwd)
{
	(void)u;  /* pppd passes its global `user`, already overridden */
	strlcpy(passwd, ras_pass, MAXSECRETLEN);
	return 0;
}

/*
 * pppd asks this both "can we authenticate ourselves with CHAP?" (client)
 * and "can we verify the peer?" (server, only with `auth`). Saying yes is
 * what the client needs; on the server side it merely moves a missing-secret
 * failure from startup to the CHAP exchange, where pppd still verifies the
 * peer against chap-secrets. pap_check_hook is deliberately not installed:
 * pppd consults it only for verifying the peer; the client-side PAP question
 * goes to pap_passwd_hook with passwd == NULL.
 */
static int ras_chap_check(void)
{
	return 1;
}

static void install_secret_hooks(void)
{
	if (ras_ulen) {
		/* CHAP responds with the global `user`; set it before LCP starts. */
		strlcpy(user, ras_user, MAXNAMELEN);
	}
	if (!ras_plen && !ras_only)
		return;     /* no password from us: pppd uses its secrets files */
	pap_passwd_hook = ras_pap_passwd;
	chap_passwd_hook = ras_chap_passwd;
	chap_check_hook = ras_chap_check;
}

/* ---- channel life ----------------------------------------------------- */

/* Claim the socket and announce ourselves; 0 if the channel is usable. */
static int chan_claim(void)
{
	if (chan != CHAN_UNOPENED)
		return -1;
	chan = CHAN_CLOSED;
	if (ras_fd < 0) {
		notice("ras: plugin loaded without ras-fd; inactive");
		return -1;
	}
	chan = CHAN_OPEN;
	emit("pid %d", (int)getpid());
	return 0;
}

/*
 * pppd's timer: has the module's end closed? It never writes after the
 * header, so readable means EOF (or a module that breaks the protocol).
 */
static void watch_channel(void *arg)
{
	struct pollfd pfd = { .fd = ras_fd, .events = POLLIN | POLLRDHUP };

	(void)arg;
	orphan_watch = 0;
	if (link_up)
		return;
	if (chan != CHAN_OPEN) {
		orphaned();
		return;
	}
	if (poll(&pfd, 1, 0) > 0 && pfd.revents) {
		notice("ras: the control channel closed before the link was up; hanging up");
		chan = CHAN_CLOSED;
		close(ras_fd);
		orphaned();
		return;
	}
	orphan_watch = 1;
	RAS_TIMEOUT(watch_channel, NULL, 0, RAS_PPPD_ORPHAN_POLL_MS * 1000);
}

/* First phase change: the channel, then the secrets, before LCP starts. */
static void chan_open(void)
{
	if (chan_claim() < 0)
		return;
	if (read_auth() < 0) {
		wipe_secrets();
		fatal("ras: no valid auth header on ras-fd %d", ras_fd);
	}
	install_secret_hooks();
	watch_channel(NULL);
}

static void report_device(void)
{
	/* With `pty` (or `notty`) devnam stays empty: the link is the pty. */
	const char *name = RAS_DEVNAM()[0] ? RAS_DEVNAM() : RAS_TTYNAME();
	char dev[MAXPATHLEN];
	size_t i;

	if (!name[0] || strcmp(name, sent_dev) == 0)
		return;
	strlcpy(sent_dev, name, sizeof(sent_dev));
	strlcpy(dev, name, sizeof(dev));
	for (i = 0; dev[i]; i++)
		if ((unsigned char)dev[i] <= ' ' || dev[i] == 0x7f)
			dev[i] = '?';
	emit("device %s", dev);
}

/* ---- notifiers ---------------------------------------------------------- */

/*
 * pppd's link_down_notifier fires only if the peer authenticated to us, so a
 * client never hears it. link_down() always ends by entering ESTABLISH from
 * a later phase: that transition is the link-down on every side.
 */
static void report_link_down(void)
{
	if (!link_down_sent)
		emit("link-down");
	link_down_sent = 1;
}

static void on_phase(void *arg, int p)
{
	(void)arg;
	chan_open();
	report_device();
	if (p == PHASE_ESTABLISH && last_phase > PHASE_ESTABLISH)
		report_link_down();
	if (p == PHASE_SERIALCONN || p == PHASE_ESTABLISH) {
		auth_result = 0;            /* a new link: report afresh */
		link_down_sent = 0;
	}
	last_phase = p;
	emit("phase %d", p);
	if (p == PHASE_DEAD)
		emit("dead %d", RAS_STATUS());   /* the exit code may lie later */
}

static void on_pidchange(void *arg, int pid)
{
	(void)arg;
	emit("pid %d", pid);
}

/* Runs inside pppd's signal handler. */
static void on_signal(void *arg, int sig)
{
	int saved = errno;

	(void)arg;
	emit_num_safe("signal", sig);
	errno = saved;
}

static void on_auth_up(void *arg, int unused)
{
	(void)arg;
	(void)unused;
	emit("auth-up");
}

/* ---- projection: what the link negotiated (protocol.h) ---------------- */

static void add_word(char *line, size_t size, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void add_word(char *line, size_t size, const char *fmt, ...)
{
	size_t len = strlen(line);
	va_list ap;

	va_start(ap, fmt);
	if (len < size)
		vsnprintf(line + len, size - len, fmt, ap);
	va_end(ap);
}

static void add_ipv4(char *line, size_t size)
{
	char a[INET_ADDRSTRLEN], b[INET_ADDRSTRLEN];
	u_int32_t our = ipcp_gotoptions[0].ouraddr, his = ipcp_hisoptions[0].hisaddr;
	u_int32_t *dns = ipcp_gotoptions[0].dnsaddr;

	if (ipcp_fsm[0].state != OPENED)
		return;
	inet_ntop(AF_INET, &our, a, sizeof(a));
	inet_ntop(AF_INET, &his, b, sizeof(b));
	add_word(line, size, " ipv4=%s,%s", a, b);
	if (!dns[0])
		return;        /* no usepeerdns, or the peer offered none */
	inet_ntop(AF_INET, &dns[0], a, sizeof(a));
	add_word(line, size, " dns=%s", a);
	if (dns[1]) {
		inet_ntop(AF_INET, &dns[1], b, sizeof(b));
		add_word(line, size, ",%s", b);
	}
}

static void add_interface_id(char *line, size_t size, const eui64_t *id)
{
	const unsigned char *b = (const unsigned char *)id;   /* e8 is a macro on Linux */

	for (int i = 0; i < 8; i++)
		add_word(line, size, "%s%02x", i ? ":" : "", b[i]);
}

static void add_ccp(char *line, size_t size)
{
	const ccp_options *go = &ccp_gotoptions[0];
	int bits;

	if (ccp_fsm[0].state != OPENED)
		return;
	if (go->mppe) {
		bits = go->mppe & MPPE_OPT_128 ? 128 : go->mppe & MPPE_OPT_56 ? 56 : 40;
		add_word(line, size, " mppe=%d%s", bits,
			 go->mppe & MPPE_OPT_STATEFUL ? ",stateful" : "");
		return;
	}
	switch (go->method) {   /* RFC 1962's option numbers */
	case 26: add_word(line, size, " ccp=deflate"); break;
	case 21: add_word(line, size, " ccp=bsd"); break;
	case 1:  add_word(line, size, " ccp=predictor-1"); break;
	case 2:  add_word(line, size, " ccp=predictor-2"); break;
	default: break;
	}
}

static void report_projection(void)
{
	char line[RAS_PPPD_LINE_MAX - 16] = "";

	add_ipv4(line, sizeof(line));
	if (ipv6cp_fsm[0].state == OPENED) {
		add_word(line, sizeof(line), " ipv6=");
		add_interface_id(line, sizeof(line), &ipv6cp_gotoptions[0].ourid);
		add_word(line, sizeof(line), ",");
		add_interface_id(line, sizeof(line), &ipv6cp_hisoptions[0].hisid);
	}
	add_ccp(line, sizeof(line));
	if (baud_rate > 0)
		add_word(line, sizeof(line), " speed=%d", baud_rate);
	emit("projection%s", line);
}

static void on_ipv6_up(void *arg, int unused)
{
	(void)arg;
	(void)unused;
	report_projection();
}

static void on_ip_up(void *arg, int unused)
{
	char local[INET_ADDRSTRLEN], remote[INET_ADDRSTRLEN];
	u_int32_t our = ipcp_gotoptions[0].ouraddr;
	u_int32_t his = ipcp_hisoptions[0].hisaddr;

	(void)arg;
	(void)unused;
	inet_ntop(AF_INET, &our, local, sizeof(local));
	inet_ntop(AF_INET, &his, remote, sizeof(remote));
	link_up = 1;
	if (orphan_watch)
		RAS_UNTIMEOUT(watch_channel, NULL);
	orphan_watch = 0;
	report_projection();
	emit("ip-up %s %s %s", RAS_IFNAME(), local, remote);
}

static void on_ip_down(void *arg, int unused)
{
	(void)arg;
	(void)unused;
	emit("ip-down");
}

static void on_link_down(void *arg, int unused)
{
	(void)arg;
	(void)unused;
	report_link_down();
}

static void on_exit_notify(void *arg, int code)
{
	(void)arg;
	chan_claim();   /* dying before any phase change: still say why */
	emit("exit %d", code);
	wipe_secrets();
}

/* A forked child (script runner, charshunt) must not write or hold events. */
static void on_fork(void *arg, int unused)
{
	(void)arg;
	(void)unused;
	if (chan == CHAN_OPEN)
		close(ras_fd);
	chan = CHAN_CLOSED;
	wipe_secrets();
}

/* ---- watching our own authentication ------------------------------------ */

static const char *chap_flavor(void)
{
	switch (lcp_hisoptions[0].chap_mdtype) {
	case MDTYPE_MICROSOFT_V2: return "mschap-v2";
	case MDTYPE_MICROSOFT:    return "mschap";
	default:                  return "chap";
	}
}

static void report_auth(int ok, const char *proto)
{
	int r = ok ? 1 : -1;

	if (r == auth_result)
		return;                     /* retransmitted Ack/Success */
	auth_result = r;
	emit("%s %s", ok ? "auth-ok" : "auth-fail", proto);
}

/*
 * Packets as received: address, control, protocol (2), then code. Only the
 * authenticator sends Ack/Nak/Success/Failure, so seeing one means the peer
 * judged OUR credentials; we also require that the peer asked us for that
 * protocol in LCP.
 */
static void on_recv(unsigned char *pkt, int len)
{
	lcp_options *ho = &lcp_hisoptions[0];
	int proto, code;

	if (len < 5 || lcp_fsm[0].state != OPENED)
		return;
	proto = (pkt[2] << 8) | pkt[3];
	code = pkt[4];
	if (proto == PPP_PAP && ho->neg_upap) {
		if (code == UPAP_AUTHACK || code == UPAP_AUTHNAK)
			report_auth(code == UPAP_AUTHACK, "pap");
	} else if (proto == PPP_CHAP && ho->neg_chap) {
		if (code == CHAP_SUCCESS || code == CHAP_FAILURE)
			report_auth(code == CHAP_SUCCESS, chap_flavor());
	} else if (proto == PPP_EAP && ho->neg_eap) {
		if (code == EAP_CODE_SUCCESS || code == EAP_CODE_FAILURE)
			report_auth(code == EAP_CODE_SUCCESS, "eap");
	}
}

void plugin_init(void)
{
	RAS_ADD_OPTIONS(ras_options);
	RAS_NOTIFY(NF_PHASE_CHANGE, phasechange, on_phase);
	RAS_NOTIFY(NF_PID_CHANGE, pidchange, on_pidchange);
	RAS_NOTIFY(NF_SIGNALED, sigreceived, on_signal);
	RAS_NOTIFY(NF_AUTH_UP, auth_up_notifier, on_auth_up);
	RAS_NOTIFY(NF_IP_UP, ip_up_notifier, on_ip_up);
	RAS_NOTIFY(NF_IP_DOWN, ip_down_notifier, on_ip_down);
	RAS_NOTIFY(NF_IPV6_UP, ipv6_up_notifier, on_ipv6_up);
	RAS_NOTIFY(NF_LINK_DOWN, link_down_notifier, on_link_down);
	RAS_NOTIFY(NF_EXIT, exitnotify, on_exit_notify);
	RAS_NOTIFY(NF_FORK, fork_notifier, on_fork);
	snoop_recv_hook = on_recv;
}
