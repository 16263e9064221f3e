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

/* Options. */
static const char	*echo_addr = "127.0.0.1";
static int		 echo_port = -1;
static int		 echo_batch_size = 64;
static long		 echo_seconds = 600;
static long		 echo_drop;		/* -D: drop every Nth */
static long		 echo_twice;		/* -R: send every Nth twice */

/* Batch buffers, reused for every batch; counters. */
static struct mmsghdr		*echo_msgs;
static struct mmsghdr		*echo_out;	/* -D/-R: what goes back */
static struct iovec		*echo_iov;
static struct sockaddr_storage	*echo_from;
static uint8_t			*echo_buf;	/* ECHO_BUF per message */
static uint64_t			 echo_received, echo_echoed, echo_seq;

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

/* Parse the command line into the option variables, or exit 2. */
static void
echo_options(int argc, char **argv)
{
	int	ch;

	while ((ch = getopt(argc, argv, "s:p:b:l:D:R:")) != -1) {
		switch (ch) {
		case 's':
			echo_addr = optarg;
			break;
		case 'p':
			echo_port = (int)echo_number(optarg, "-p", 0, 65535);
			break;
		case 'b':
			echo_batch_size = (int)echo_number(optarg, "-b", 1,
			    ECHO_BATCH_MAX);
			break;
		case 'l':
			echo_seconds = echo_number(optarg, "-l", 1, 86400);
			break;
		case 'D':
			echo_drop = echo_number(optarg, "-D", 1, 1000000000);
			break;
		case 'R':
			echo_twice = echo_number(optarg, "-R", 1, 1000000000);
			break;
		default:
			echo_usage();
		}
	}
	if (optind != argc || echo_port == -1)
		echo_usage();
}

/*
 * Only with -D or -R: build in echo_out the batch to send back, without
 * every Nth datagram or with it twice. Returns its length.
 */
static int
echo_faults(int n)
{
	int	i, k = 0;

	for (i = 0; i < n; i++) {
		echo_seq++;
		if (echo_drop != 0 && echo_seq % (uint64_t)echo_drop == 0)
			continue;
		echo_out[k++] = echo_msgs[i];
		if (echo_twice != 0 && echo_seq % (uint64_t)echo_twice == 0)
			echo_out[k++] = echo_msgs[i];
	}
	return (k);
}

/*
 * Wait for datagrams (at most 100 ms), take what is there, set QR in each
 * and send them all back.
 */
static void
echo_batch(int fd)
{
	struct mmsghdr	*send = echo_msgs;
	int		 i, n, k, off;

	for (i = 0; i < echo_batch_size; i++) {
		echo_iov[i].iov_base = echo_buf + (size_t)i * ECHO_BUF;
		echo_iov[i].iov_len = ECHO_BUF;
		memset(&echo_msgs[i].msg_hdr, 0, sizeof echo_msgs[i].msg_hdr);
		echo_msgs[i].msg_hdr.msg_name = &echo_from[i];
		echo_msgs[i].msg_hdr.msg_namelen = sizeof echo_from[i];
		echo_msgs[i].msg_hdr.msg_iov = &echo_iov[i];
		echo_msgs[i].msg_hdr.msg_iovlen = 1;
	}
	/* Block for the first datagram, then take what is there. */
	n = recvmmsg(fd, echo_msgs, (unsigned int)echo_batch_size,
	    MSG_WAITFORONE, NULL);
	if (n == -1) {
		if (errno == EAGAIN || errno == EINTR)
			return;
		err(1, "recvmmsg");
	}
	echo_received += (uint64_t)n;
	for (i = 0; i < n; i++) {
		echo_iov[i].iov_len = echo_msgs[i].msg_len;
		if (echo_msgs[i].msg_len >= 3)
			echo_buf[(size_t)i * ECHO_BUF + 2] |= 0x80;	/* QR */
	}
	/* The test faults, off the fast path. */
	if (echo_drop != 0 || echo_twice != 0) {
		n = echo_faults(n);
		send = echo_out;
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
		echo_echoed += (uint64_t)k;
	}
}

int
main(int argc, char **argv)
{
	struct sigaction	sa;
	struct timespec		t0, now;
	size_t			batch;
	int			fd;

	echo_options(argc, argv);

	memset(&sa, 0, sizeof sa);
	sa.sa_handler = echo_signal;	/* no SA_RESTART: wake recvmmsg */
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);

	fd = echo_bind(echo_addr, echo_port);
	batch = (size_t)echo_batch_size;
	echo_msgs = calloc(batch, sizeof *echo_msgs);
	echo_out = calloc(2 * batch, sizeof *echo_out);
	echo_iov = calloc(batch, sizeof *echo_iov);
	echo_from = calloc(batch, sizeof *echo_from);
	echo_buf = malloc(batch * ECHO_BUF);
	if (echo_msgs == NULL || echo_out == NULL || echo_iov == NULL ||
	    echo_from == NULL || echo_buf == NULL)
		err(1, "calloc");

	clock_gettime(CLOCK_MONOTONIC, &t0);
	while (!echo_stop) {
		clock_gettime(CLOCK_MONOTONIC, &now);
		if (now.tv_sec - t0.tv_sec >= echo_seconds)
			break;
		echo_batch(fd);
	}
	fprintf(stderr, "echo: received %" PRIu64 ", echoed %" PRIu64 "\n",
	    echo_received, echo_echoed);
	return (0);
}
