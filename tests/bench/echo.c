/*
 * echo.c: a bare UDP echo server, the ceiling of a DNS server's speed.
 *
 *	echo -p PORT [-s ADDR] [-b BATCH] [-l SECONDS] [-D N] [-R N]
 *
 * Reads datagrams in recvmmsg batches on one socket, sets the QR bit of
 * each (so a DNS query comes back as an answer with the same ID and
 * question, rcode NOERROR) and sends the batch back with one sendmmsg.
 * No DNS work at all: the kernel's UDP path is all it costs, so it shows
 * how fast a load generator can go (blast against echo) and how close a
 * server comes to the kernel's limit (make bench).
 *
 * -p 0 takes a free port and prints "port N" on standard output. It binds
 * a loopback address only (127.0.0.1 by default) and exits by itself after
 * SECONDS (default 600), or on SIGINT/SIGTERM, printing what it echoed to
 * standard error. Links nothing but libc.
 *
 * For testing a load generator's counts, -D N drops every Nth datagram
 * received (the client must count it lost) and -R N sends every Nth answer
 * twice (the client must count the copy as an unexpected ID).
 */
#include <sys/socket.h>
#include <sys/types.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include <err.h>
#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define ECHO_BATCH_MAX	1024
#define ECHO_BUF	4096

static volatile sig_atomic_t	echo_stop;

static __attribute__((noreturn)) void
echo_usage(void)
{
	fprintf(stderr, "usage: echo -p port [-s address] [-b batch] "
	    "[-l seconds] [-D n] [-R n]\n");
	exit(2);
}

static void
echo_signal(int sig)
{
	(void)sig;
	echo_stop = 1;
}

/* A whole number option in [min, max], or exit with a message. */
static long
echo_number(const char *s, const char *what, long min, long max)
{
	char	*end;
	long	 v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno != 0 || end == s || *end != '\0' || v < min || v > max)
		errx(2, "%s: '%s' is not a number in [%ld, %ld]", what, s,
		    min, max);
	return (v);
}

/* Bind a UDP socket to a loopback address; returns it. */
static int
echo_bind(const char *addr, int port)
{
	struct sockaddr_storage	 ss;
	struct sockaddr_in	*sin = (struct sockaddr_in *)&ss;
	struct sockaddr_in6	*sin6 = (struct sockaddr_in6 *)&ss;
	socklen_t		 len;
	struct timeval		 tv = { 0, 100000 };
	int			 fd, size = 4 << 20;

	memset(&ss, 0, sizeof ss);
	if (inet_pton(AF_INET, addr, &sin->sin_addr) == 1 &&
	    (ntohl(sin->sin_addr.s_addr) >> 24) == 127) {
		sin->sin_family = AF_INET;
		sin->sin_port = htons((uint16_t)port);
		len = sizeof *sin;
	} else if (inet_pton(AF_INET6, addr, &sin6->sin6_addr) == 1 &&
	    IN6_IS_ADDR_LOOPBACK(&sin6->sin6_addr)) {
		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons((uint16_t)port);
		len = sizeof *sin6;
	} else
		errx(2, "%s: not a loopback address", addr);
	if ((fd = socket(ss.ss_family, SOCK_DGRAM | SOCK_CLOEXEC, 0)) == -1)
		err(1, "socket");
	if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &size,
	    sizeof size) == -1)
		(void)setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, sizeof size);
	if (setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &size,
	    sizeof size) == -1)
		(void)setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &size, sizeof size);
	/* Wake every 100 ms to check the time limit and signals. */
	if (setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv) == -1)
		err(1, "SO_RCVTIMEO");
	if (bind(fd, (struct sockaddr *)&ss, len) == -1)
		err(1, "bind %s port %d", addr, port);
	if (port == 0) {
		len = sizeof ss;
		if (getsockname(fd, (struct sockaddr *)&ss, &len) == -1)
			err(1, "getsockname");
		printf("port %u\n", ntohs(ss.ss_family == AF_INET ?
		    sin->sin_port : sin6->sin6_port));
		fflush(stdout);
	}
	return (fd);
}

int
main(int argc, char **argv)
{
	struct mmsghdr		*msgs, *out, *send;
	struct iovec		*iov;
	struct sockaddr_storage	*from;
	struct sigaction	 sa;
	struct timespec		 t0, now;
	uint8_t			*buf;
	const char		*addr = "127.0.0.1";
	uint64_t		 received = 0, echoed = 0, seq = 0;
	long			 seconds = 600, drop = 0, twice = 0;
	int			 ch, fd, port = -1, batch = 64, i, n, k, off;

	while ((ch = getopt(argc, argv, "s:p:b:l:D:R:")) != -1) {
		switch (ch) {
		case 's':
			addr = optarg;
			break;
		case 'p':
			port = (int)echo_number(optarg, "-p", 0, 65535);
			break;
		case 'b':
			batch = (int)echo_number(optarg, "-b", 1,
			    ECHO_BATCH_MAX);
			break;
		case 'l':
			seconds = echo_number(optarg, "-l", 1, 86400);
			break;
		case 'D':
			drop = echo_number(optarg, "-D", 1, 1000000000);
			break;
		case 'R':
			twice = echo_number(optarg, "-R", 1, 1000000000);
			break;
		default:
			echo_usage();
		}
	}
	if (optind != argc || port == -1)
		echo_usage();

	memset(&sa, 0, sizeof sa);
	sa.sa_handler = echo_signal;	/* no SA_RESTART: wake recvmmsg */
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);

	fd = echo_bind(addr, port);
	msgs = calloc(batch, sizeof *msgs);
	out = calloc(2 * (size_t)batch, sizeof *out);
	iov = calloc(batch, sizeof *iov);
	from = calloc(batch, sizeof *from);
	buf = malloc((size_t)batch * ECHO_BUF);
	if (msgs == NULL || out == NULL || iov == NULL || from == NULL ||
	    buf == NULL)
		err(1, "calloc");

	clock_gettime(CLOCK_MONOTONIC, &t0);
	while (!echo_stop) {
		clock_gettime(CLOCK_MONOTONIC, &now);
		if (now.tv_sec - t0.tv_sec >= seconds)
			break;
		for (i = 0; i < batch; i++) {
			iov[i].iov_base = buf + (size_t)i * ECHO_BUF;
			iov[i].iov_len = ECHO_BUF;
			memset(&msgs[i].msg_hdr, 0, sizeof msgs[i].msg_hdr);
			msgs[i].msg_hdr.msg_name = &from[i];
			msgs[i].msg_hdr.msg_namelen = sizeof from[i];
			msgs[i].msg_hdr.msg_iov = &iov[i];
			msgs[i].msg_hdr.msg_iovlen = 1;
		}
		/* Block for the first datagram, then take what is there. */
		n = recvmmsg(fd, msgs, (unsigned int)batch, MSG_WAITFORONE,
		    NULL);
		if (n == -1) {
			if (errno == EAGAIN || errno == EINTR)
				continue;
			err(1, "recvmmsg");
		}
		received += (uint64_t)n;
		for (i = 0; i < n; i++) {
			iov[i].iov_len = msgs[i].msg_len;
			if (msgs[i].msg_len >= 3)
				buf[(size_t)i * ECHO_BUF + 2] |= 0x80;	/* QR */
		}
		/* The test faults, off the fast path: drops and copies. */
		send = msgs;
		if (drop != 0 || twice != 0) {
			k = 0;
			for (i = 0; i < n; i++) {
				seq++;
				if (drop != 0 && seq % (uint64_t)drop == 0)
					continue;
				out[k++] = msgs[i];
				if (twice != 0 && seq % (uint64_t)twice == 0)
					out[k++] = msgs[i];
			}
			send = out;
			n = k;
		}
		for (off = 0; off < n; off += k) {
			k = sendmmsg(fd, send + off, (unsigned int)(n - off), 0);
			if (k == -1) {
				if (errno == EINTR || errno == EAGAIN ||
				    errno == ENOBUFS)
					break;	/* drop the rest: a loss */
				/* An ICMP error from an earlier send: skip one. */
				k = 1;
				continue;
			}
			echoed += (uint64_t)k;
		}
	}
	fprintf(stderr, "echo: received %" PRIu64 ", echoed %" PRIu64 "\n",
	    received, echoed);
	return (0);
}
