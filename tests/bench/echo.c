/*
 * echo.c: a bare UDP echo server, the ceiling of a DNS server's speed.
 *
 *	echo -p PORT [-s ADDR] [-b BATCH] [-l SECONDS] [-B BYTES] [-D N] [-R N]
 *	     [-A] [-T]
 *
 * Reads datagrams in recvmmsg batches on one socket, sets the QR bit of
 * each (so a DNS query comes back as an answer with the same ID and
 * question, rcode NOERROR) and sends the batch back with one sendmmsg.
 * No DNS work at all: the kernel's UDP path is all it costs, so it shows
 * how fast a load generator can go (blast against echo) and how close a
 * server comes to the kernel's limit (make bench).
 *
 * Its socket buffers are 4 MiB (-B BYTES; -B 0 keeps the system's
 * default, as a server that sets none has). -p 0 takes a free port and
 * prints "port N" on standard output. It binds
 * a loopback address only (127.0.0.1 by default) and exits by itself after
 * SECONDS (default 600), or on SIGINT/SIGTERM, printing what it echoed to
 * standard error. Links nothing but libc.
 *
 * For testing a load generator's counts, -D N drops every Nth datagram
 * received (the client must count it lost) and -R N sends every Nth answer
 * twice (the client must count the copy as an unexpected ID). -A counts
 * the distinct client addresses in 127/8 (a bit each), printed at the end:
 * a generator's spread of source addresses.
 *
 * -T serves TCP instead (DNS framing: a 2-octet length before each
 * message), with one epoll loop: every whole message read from a
 * connection goes back on it at once with QR set, in the order read; -D
 * and -R count messages over all connections. The TCP ceiling, and what
 * blast -T is tested against.
 */
#include <sys/epoll.h>
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
#define ECHO_TCP_IN	(128 * 1024)	/* >= one whole message */
#define ECHO_TCP_OUT	(512 * 1024)
#define ECHO_TCP_EVENTS	64

/* -T: one client connection. */
struct echo_conn {
	int		 fd;
	int		 want_out;	/* registered for EPOLLOUT */
	uint8_t		*in;		/* ECHO_TCP_IN */
	size_t		 inlen;
	uint8_t		*out;		/* ECHO_TCP_OUT */
	size_t		 outoff;	/* sent up to here */
	size_t		 outlen;
};

static volatile sig_atomic_t	echo_stop;

/* Options. */
static const char	*echo_addr = "127.0.0.1";
static int		 echo_port = -1;
static int		 echo_batch_size = 64;
static long		 echo_seconds = 600;
static long		 echo_bufsize = 4 << 20;	/* -B; 0: default */
static long		 echo_drop;		/* -D: drop every Nth */
static long		 echo_twice;		/* -R: send every Nth twice */
static int		 echo_tcp;		/* -T */
static uint8_t		*echo_seen;		/* -A: 2^24 bits, for 127/8 */
static uint64_t		 echo_addrs;		/* -A: distinct addresses */

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
	    "[-l seconds] [-B bytes] [-D n] [-R n] [-A] [-T]\n");
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
	int			 fd, one = 1, size = (int)echo_bufsize;

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
	fd = socket(ss.ss_family, (echo_tcp ? SOCK_STREAM | SOCK_NONBLOCK :
	    SOCK_DGRAM) | SOCK_CLOEXEC, 0);
	if (fd == -1)
		err(1, "socket");
	if (echo_tcp && setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one,
	    sizeof one) == -1)
		err(1, "SO_REUSEADDR");
	if (size > 0 && setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &size,
	    sizeof size) == -1)
		(void)setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, sizeof size);
	if (size > 0 && setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &size,
	    sizeof size) == -1)
		(void)setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &size, sizeof size);
	/* Wake every 100 ms to check the time limit and signals. */
	if (setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv) == -1)
		err(1, "SO_RCVTIMEO");
	if (bind(fd, (struct sockaddr *)&ss, len) == -1)
		err(1, "bind %s port %d", addr, port);
	if (echo_tcp && listen(fd, 4096) == -1)
		err(1, "listen");
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

	while ((ch = getopt(argc, argv, "s:p:b:l:B:D:R:AT")) != -1) {
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
		case 'B':
			echo_bufsize = echo_number(optarg, "-B", 0, 1L << 30);
			break;
		case 'D':
			echo_drop = echo_number(optarg, "-D", 1, 1000000000);
			break;
		case 'R':
			echo_twice = echo_number(optarg, "-R", 1, 1000000000);
			break;
		case 'T':
			echo_tcp = 1;
			break;
		case 'A':
			if ((echo_seen = calloc(1, 1 << 21)) == NULL)
				err(1, "calloc");
			break;
		default:
			echo_usage();
		}
	}
	if (optind != argc || echo_port == -1)
		echo_usage();
}

/* -A: count the client address ss if it is in 127/8 and new. */
static void
echo_count(const struct sockaddr_storage *ss)
{
	const struct sockaddr_in	*sin = (const struct sockaddr_in *)ss;
	uint32_t			 a;

	if (echo_seen == NULL || ss->ss_family != AF_INET)
		return;
	a = ntohl(sin->sin_addr.s_addr);
	if ((a >> 24) != 127)
		return;
	a &= 0xffffff;
	if ((echo_seen[a >> 3] & (1U << (a & 7))) == 0) {
		echo_seen[a >> 3] |= (uint8_t)(1U << (a & 7));
		echo_addrs++;
	}
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
		echo_count(&echo_from[i]);
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

/* -T: register c for input, and for output when it has some left. */
static void
echo_tcp_watch(int ep, struct echo_conn *c, int op)
{
	struct epoll_event	ev;

	memset(&ev, 0, sizeof ev);
	ev.events = EPOLLIN | (c->want_out ? EPOLLOUT : 0);
	ev.data.ptr = c;
	if (epoll_ctl(ep, op, c->fd, &ev) == -1)
		err(1, "epoll_ctl");
}

/* -T: accept what is waiting on the listening socket lfd. */
static void
echo_tcp_accept(int ep, int lfd)
{
	struct echo_conn	*c;
	struct sockaddr_storage	 ss;
	socklen_t		 len = sizeof ss;
	int			 fd;

	while ((fd = accept4(lfd, (struct sockaddr *)&ss, &len,
	    SOCK_NONBLOCK | SOCK_CLOEXEC)) != -1) {
		echo_count(&ss);
		len = sizeof ss;
		if ((c = calloc(1, sizeof *c)) == NULL ||
		    (c->in = malloc(ECHO_TCP_IN)) == NULL ||
		    (c->out = malloc(ECHO_TCP_OUT)) == NULL)
			err(1, "malloc");
		c->fd = fd;
		echo_tcp_watch(ep, c, EPOLL_CTL_ADD);
	}
	if (errno != EAGAIN && errno != EINTR && errno != ECONNABORTED)
		warn("accept");
}

/* -T: close c and forget it. */
static void
echo_tcp_close(struct echo_conn *c)
{
	close(c->fd);
	free(c->in);
	free(c->out);
	free(c);
}

/*
 * -T: the whole messages in c's input go to its output with QR set (with
 * -D and -R applied). Returns 0, or -1 when the output is full: the
 * client reads nothing, and echo stops reading until it does.
 */
static int
echo_tcp_answer(struct echo_conn *c)
{
	size_t	pos, len, k, copies;

	for (pos = 0; c->inlen - pos >= 2; pos += 2 + len) {
		len = (size_t)c->in[pos] << 8 | c->in[pos + 1];
		if (c->inlen - pos - 2 < len)
			break;
		if (ECHO_TCP_OUT - c->outlen < 2 * (2 + len))
			break;
		echo_received++;
		echo_seq++;
		copies = 1;
		if (echo_drop != 0 && echo_seq % (uint64_t)echo_drop == 0)
			copies = 0;
		if (echo_twice != 0 && echo_seq % (uint64_t)echo_twice == 0)
			copies = 2;
		if (len >= 3)
			c->in[pos + 2 + 2] |= 0x80;	/* QR */
		for (k = 0; k < copies; k++) {
			memcpy(c->out + c->outlen, c->in + pos, 2 + len);
			c->outlen += 2 + len;
			echo_echoed++;
		}
	}
	memmove(c->in, c->in + pos, c->inlen - pos);
	c->inlen -= pos;
	return (c->inlen >= 2 && ECHO_TCP_OUT - c->outlen < 2 * (2 +
	    ((size_t)c->in[0] << 8 | c->in[1])) ? -1 : 0);
}

/* -T: send what c has for its client; -1 when the connection failed. */
static int
echo_tcp_flush(int ep, struct echo_conn *c)
{
	ssize_t	w;
	int	want;

	while (c->outoff < c->outlen) {
		w = send(c->fd, c->out + c->outoff, c->outlen - c->outoff,
		    MSG_NOSIGNAL);
		if (w > 0)
			c->outoff += (size_t)w;
		else if (w == -1 && errno == EINTR)
			continue;
		else if (w == -1 && errno == EAGAIN)
			break;
		else
			return (-1);
	}
	memmove(c->out, c->out + c->outoff, c->outlen - c->outoff);
	c->outlen -= c->outoff;
	c->outoff = 0;
	want = c->outlen > 0;
	if (want != c->want_out) {
		c->want_out = want;
		echo_tcp_watch(ep, c, EPOLL_CTL_MOD);
	}
	return (0);
}

/*
 * -T: a readiness event on connection c: answer, send and read until the
 * socket has nothing more to read or no room for more answers.
 */
static void
echo_tcp_event(int ep, struct echo_conn *c)
{
	ssize_t	r;
	int	blocked;

	for (;;) {
		blocked = echo_tcp_answer(c) == -1;
		if (echo_tcp_flush(ep, c) == -1)
			break;			/* reset */
		if (blocked) {
			if (c->outlen == 0)
				continue;	/* all sent: answer more */
			return;			/* wait for EPOLLOUT */
		}
		r = read(c->fd, c->in + c->inlen, ECHO_TCP_IN - c->inlen);
		if (r > 0) {
			c->inlen += (size_t)r;
			continue;
		}
		if (r == -1 && (errno == EAGAIN || errno == EINTR))
			return;
		break;				/* EOF or error */
	}
	echo_tcp_close(c);
}

/* -T: serve TCP on the listening socket lfd until the time is up. */
static void
echo_tcp_loop(int lfd, time_t t0)
{
	struct epoll_event	 evs[ECHO_TCP_EVENTS], ev;
	struct timespec		 now;
	int			 ep, i, n;

	if ((ep = epoll_create1(EPOLL_CLOEXEC)) == -1)
		err(1, "epoll_create1");
	memset(&ev, 0, sizeof ev);
	ev.events = EPOLLIN;
	ev.data.ptr = NULL;
	if (epoll_ctl(ep, EPOLL_CTL_ADD, lfd, &ev) == -1)
		err(1, "epoll_ctl");
	while (!echo_stop) {
		clock_gettime(CLOCK_MONOTONIC, &now);
		if (now.tv_sec - t0 >= echo_seconds)
			break;
		n = epoll_wait(ep, evs, ECHO_TCP_EVENTS, 100);
		for (i = 0; i < n; i++) {
			if (evs[i].data.ptr == NULL)
				echo_tcp_accept(ep, lfd);
			else
				echo_tcp_event(ep, evs[i].data.ptr);
		}
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
	if (echo_tcp)
		echo_tcp_loop(fd, t0.tv_sec);
	while (!echo_tcp && !echo_stop) {
		clock_gettime(CLOCK_MONOTONIC, &now);
		if (now.tv_sec - t0.tv_sec >= echo_seconds)
			break;
		echo_batch(fd);
	}
	fprintf(stderr, "echo: received %" PRIu64 ", echoed %" PRIu64,
	    echo_received, echo_echoed);
	if (echo_seen != NULL)
		fprintf(stderr, ", from %" PRIu64 " addresses", echo_addrs);
	fprintf(stderr, "\n");
	return (0);
}
