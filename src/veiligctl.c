/*
 * veiligctl.c: the command line client of veiligd's control socket.
 *
 *	veiligctl [-s SOCKET] [-t SECONDS] COMMAND [ARG...]
 *
 * Sends the words as one line, reads the answer to the end and prints it:
 * the body to standard output when the first line is "ok" (exit 0), all of
 * it to standard error when it is "error: ..." (exit 1). A socket that
 * cannot be reached, a timeout or an answer that is neither exits 2.
 *
 * Plain sockets and poll(2) only: this links nothing but libc, so that it
 * works (and starts fast) on a box where the daemon's libraries are broken.
 */
#include <sys/types.h>
#include <sys/socket.h>
#include <sys/un.h>

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "control.h"

#define VEILIGCTL_SOCKET	"/run/veilig/control.sock"
#define VEILIGCTL_TIMEOUT	30		/* seconds for the whole talk */
#define VEILIGCTL_TIMEOUT_RELOAD 600		/* seconds: big lists, busy box */
#define VEILIGCTL_TIMEOUT_MAX	86400
#define VEILIGCTL_ANSWER_MAX	(64 << 20)	/* octets */

#define EXIT_ERROR_ANSWER	1
#define EXIT_NO_DAEMON		2

static const char	*veiligctl_path;
static struct timespec	 veiligctl_deadline;
static int		 veiligctl_timeout;	/* seconds */

static __attribute__((noreturn)) void
veiligctl_usage(void)
{
	fprintf(stderr, "usage: veiligctl [-s socket] [-t seconds] command "
	    "[argument ...]\n"
	    "commands: status, stats [--json] [BOARD], reload, flush,\n"
	    "          explain BOARD|ADDRESS NAME [TYPE], boards, lists, help\n");
	exit(1);
}

/* Give up talking to the daemon: exit 2 with reason. */
static __attribute__((noreturn)) void
veiligctl_fail(const char *reason)
{
	fprintf(stderr, "veiligctl: %s: %s\n", veiligctl_path, reason);
	exit(EXIT_NO_DAEMON);
}

/*
 * No answer in time. The daemon may still carry the command out (a reload
 * goes on), so say so rather than let a timeout read as a failed command.
 */
static __attribute__((noreturn)) void
veiligctl_timed_out(void)
{
	char	reason[128];

	snprintf(reason, sizeof reason, "no answer within %d seconds (the "
	    "daemon may still carry the command out; -t sets the wait)",
	    veiligctl_timeout);
	veiligctl_fail(reason);
}

/* Milliseconds left until the deadline, at least 0. */
static int
veiligctl_left(void)
{
	struct timespec	now;
	long long	ms;

	clock_gettime(CLOCK_MONOTONIC, &now);
	ms = (veiligctl_deadline.tv_sec - now.tv_sec) * 1000LL +
	    (veiligctl_deadline.tv_nsec - now.tv_nsec) / 1000000;
	return (ms > 0 ? (int)ms : 0);
}

/* Wait until fd is ready for events or the deadline passes. */
static void
veiligctl_wait(int fd, short events)
{
	struct pollfd	pfd;
	int		n;

	for (;;) {
		pfd.fd = fd;
		pfd.events = events;
		n = poll(&pfd, 1, veiligctl_left());
		if (n > 0)
			return;
		if (n == 0)
			veiligctl_timed_out();
		if (errno != EINTR)
			veiligctl_fail(strerror(errno));
	}
}

/* Connect with a bound wait: SO_SNDTIMEO limits a blocking AF_UNIX connect. */
static int
veiligctl_connect(void)
{
	struct sockaddr_un	sun;
	struct timeval		tv = { veiligctl_timeout, 0 };
	int			fd;

	memset(&sun, 0, sizeof sun);
	sun.sun_family = AF_UNIX;
	if (strlen(veiligctl_path) >= sizeof sun.sun_path)
		veiligctl_fail("path too long");
	memcpy(sun.sun_path, veiligctl_path, strlen(veiligctl_path) + 1);

	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1)
		veiligctl_fail(strerror(errno));
	if (setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv) == -1)
		veiligctl_fail(strerror(errno));
	if (connect(fd, (struct sockaddr *)&sun, sizeof sun) == -1) {
		if (errno == EAGAIN || errno == EINPROGRESS)
			veiligctl_timed_out();
		veiligctl_fail(strerror(errno));
	}
	return (fd);
}

/*
 * Send all of buf, waiting with poll. A daemon that closed at once may
 * have said why (too many connections): then the answer is read still.
 */
static void
veiligctl_send(int fd, const char *buf, size_t len)
{
	ssize_t	n;

	while (len > 0) {
		veiligctl_wait(fd, POLLOUT);
		n = send(fd, buf, len, MSG_NOSIGNAL | MSG_DONTWAIT);
		if (n == -1) {
			if (errno == EINTR || errno == EAGAIN)
				continue;
			if (errno == EPIPE || errno == ECONNRESET)
				return;
			veiligctl_fail(strerror(errno));
		}
		buf += n;
		len -= n;
	}
}

/* Read the whole answer into an allocated buffer, NUL-terminated. */
static char *
veiligctl_receive(int fd, size_t *lenp)
{
	char	*buf = NULL, *nbuf;
	size_t	 len = 0, size = 0;
	ssize_t	 n;

	for (;;) {
		if (size - len < 4096) {
			if (size >= VEILIGCTL_ANSWER_MAX)
				veiligctl_fail("answer too long");
			size = size == 0 ? 16384 : size * 2;
			if ((nbuf = realloc(buf, size + 1)) == NULL)
				veiligctl_fail("out of memory");
			buf = nbuf;
		}
		veiligctl_wait(fd, POLLIN);
		n = recv(fd, buf + len, size - len, MSG_DONTWAIT);
		if (n == 0)
			break;
		if (n == -1) {
			if (errno == EINTR || errno == EAGAIN)
				continue;
			/* The daemon may close with our excess unread. */
			if (errno == ECONNRESET && len > 0)
				break;
			veiligctl_fail(strerror(errno));
		}
		len += n;
	}
	buf[len] = '\0';
	*lenp = len;
	return (buf);
}

int
main(int argc, char **argv)
{
	char		 req[CONTROL_MAX_LINE + 1], *answer, *body, *end;
	size_t		 len, reqlen, n;
	long		 seconds;
	int		 ch, fd, i;

	veiligctl_path = getenv("VEILIGCTL_SOCKET");
	if (veiligctl_path == NULL || *veiligctl_path == '\0')
		veiligctl_path = VEILIGCTL_SOCKET;
	/* "+": stop at the command, so its arguments are never options. */
	while ((ch = getopt(argc, argv, "+s:t:")) != -1) {
		switch (ch) {
		case 's':
			veiligctl_path = optarg;
			break;
		case 't':
			errno = 0;
			seconds = strtol(optarg, &end, 10);
			if (errno != 0 || end == optarg || *end != '\0' ||
			    seconds < 1 || seconds > VEILIGCTL_TIMEOUT_MAX) {
				fprintf(stderr, "veiligctl: -t %s: not a number "
				    "of seconds from 1 to %d\n", optarg,
				    VEILIGCTL_TIMEOUT_MAX);
				return (1);
			}
			veiligctl_timeout = (int)seconds;
			break;
		default:
			veiligctl_usage();
		}
	}
	argc -= optind;
	argv += optind;
	if (argc == 0)
		veiligctl_usage();
	/* A reload compiles every list anew: give it longer than a query. */
	if (veiligctl_timeout == 0)
		veiligctl_timeout = strcmp(argv[0], "reload") == 0 ?
		    VEILIGCTL_TIMEOUT_RELOAD : VEILIGCTL_TIMEOUT;

	/* The words, joined by single spaces; the daemon splits them again. */
	reqlen = 0;
	for (i = 0; i < argc; i++) {
		n = strlen(argv[i]);
		if (n == 0 || strpbrk(argv[i], " \t\r\n") != NULL) {
			fprintf(stderr, "veiligctl: argument \"%s\" is empty "
			    "or contains white space\n", argv[i]);
			return (1);
		}
		if (reqlen + n + 1 > CONTROL_MAX_LINE) {
			fprintf(stderr, "veiligctl: command too long (at most "
			    "%d octets)\n", CONTROL_MAX_LINE);
			return (1);
		}
		memcpy(req + reqlen, argv[i], n);
		reqlen += n;
		req[reqlen++] = i + 1 < argc ? ' ' : '\n';
	}

	clock_gettime(CLOCK_MONOTONIC, &veiligctl_deadline);
	veiligctl_deadline.tv_sec += veiligctl_timeout;
	fd = veiligctl_connect();
	veiligctl_send(fd, req, reqlen);
	answer = veiligctl_receive(fd, &len);
	close(fd);

	if (len == 0)
		veiligctl_fail("connection closed without an answer");
	if (strlen(answer) != len)
		veiligctl_fail("NUL octet in the answer");
	if ((body = strchr(answer, '\n')) != NULL)
		*body++ = '\0';
	else
		body = answer + len;
	if (strcmp(answer, "ok") == 0) {
		fputs(body, stdout);
		if (fflush(stdout) == EOF || ferror(stdout)) {
			perror("veiligctl: stdout");
			return (1);
		}
		free(answer);
		return (0);
	}
	if (strncmp(answer, "error:", 6) == 0) {
		fprintf(stderr, "%s\n%s", answer, body);
		free(answer);
		return (EXIT_ERROR_ANSWER);
	}
	veiligctl_fail("unexpected answer");
}
