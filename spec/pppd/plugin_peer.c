/*
 * plugin_peer - the module's half of the ras_pppd.so protocol, for tests.
 *
 *   plugin_peer [-u USER] [-p PASSWORD] [-r RAWHEADER] [-l LOG] -- CMD [ARGS...]
 *
 * Runs CMD (pppd ... plugin ras_pppd.so ras-fd 3) with fd 3 one end of an
 * AF_UNIX stream socketpair, writes "auth <ulen> <plen>\n" USER PASSWORD on
 * the other end (or RAWHEADER verbatim, to test bad input), then prints each
 * event line as "<ms since start>\t<line>" on stdout, flushed, until EOF.
 * Last line: "<ms>\twait exit N" or "wait signal N". CMD's stdout/stderr go
 * to LOG if given. Exit status: CMD's (128+N if killed by signal N).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

struct opts {
	const char *user, *pass, *raw, *log;
	char **cmd;
};

static struct timespec t0;

static long ms_since_start(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (t.tv_sec - t0.tv_sec) * 1000 + (t.tv_nsec - t0.tv_nsec) / 1000000;
}

static int parse(int argc, char **argv, struct opts *o)
{
	int c;

	memset(o, 0, sizeof(*o));
	o->user = o->pass = "";
	while ((c = getopt(argc, argv, "u:p:r:l:")) != -1) {
		switch (c) {
		case 'u': o->user = optarg; break;
		case 'p': o->pass = optarg; break;
		case 'r': o->raw = optarg; break;
		case 'l': o->log = optarg; break;
		default: return -1;
		}
	}
	if (optind >= argc)
		return -1;
	o->cmd = argv + optind;
	return 0;
}

/* In the child: the socket becomes fd 3 (inherited), output goes to LOG. */
static void exec_child(const struct opts *o, int sock)
{
	int fd;

	if (o->log) {
		fd = open(o->log, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
		if (fd < 0 || dup2(fd, 1) < 0 || dup2(fd, 2) < 0)
			_exit(126);
	}
	if (sock == 3)
		fcntl(3, F_SETFD, 0);       /* dup2 onto itself keeps CLOEXEC */
	else if (dup2(sock, 3) < 0)
		_exit(126);
	execvp(o->cmd[0], o->cmd);
	perror(o->cmd[0]);
	_exit(127);
}

static int write_all(int fd, const char *p, size_t n)
{
	ssize_t w;

	while (n) {
		w = write(fd, p, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

static int send_header(const struct opts *o, int sock)
{
	char head[64];

	if (o->raw)
		return write_all(sock, o->raw, strlen(o->raw));
	snprintf(head, sizeof(head), "auth %zu %zu\n", strlen(o->user), strlen(o->pass));
	if (write_all(sock, head, strlen(head)) < 0
	    || write_all(sock, o->user, strlen(o->user)) < 0
	    || write_all(sock, o->pass, strlen(o->pass)) < 0)
		return -1;
	return 0;
}

/* Print complete lines with their arrival time; a torn tail is shown as such. */
static void relay_events(int sock)
{
	char buf[8192];
	size_t have = 0;
	ssize_t n;
	char *nl;

	for (;;) {
		n = read(sock, buf + have, sizeof(buf) - 1 - have);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		have += (size_t)n;
		while ((nl = memchr(buf, '\n', have)) != NULL) {
			*nl = '\0';
			printf("%ld\t%s\n", ms_since_start(), buf);
			have -= (size_t)(nl + 1 - buf);
			memmove(buf, nl + 1, have);
		}
		if (have == sizeof(buf) - 1)
			have = 0;               /* absurd line: drop it */
		fflush(stdout);
	}
	if (have) {
		buf[have] = '\0';
		printf("%ld\tpartial %s\n", ms_since_start(), buf);
	}
}

int main(int argc, char **argv)
{
	struct opts o;
	int sv[2], st;
	pid_t pid;

	if (parse(argc, argv, &o) < 0) {
		fprintf(stderr, "usage: plugin_peer [-u USER] [-p PASSWORD] [-r RAW] [-l LOG] -- CMD...\n");
		return 2;
	}
	clock_gettime(CLOCK_MONOTONIC, &t0);
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0)
		return perror("socketpair"), 1;
	pid = fork();
	if (pid < 0)
		return perror("fork"), 1;
	if (pid == 0)
		exec_child(&o, sv[1]);
	close(sv[1]);
	if (send_header(&o, sv[0]) < 0)
		perror("plugin_peer: header");
	relay_events(sv[0]);
	while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
		;
	if (WIFSIGNALED(st)) {
		printf("%ld\twait signal %d\n", ms_since_start(), WTERMSIG(st));
		return 128 + WTERMSIG(st);
	}
	printf("%ld\twait exit %d\n", ms_since_start(), WEXITSTATUS(st));
	return WEXITSTATUS(st);
}
