/*
 * flood.c: a bounded DNS query flood over UDP, for the attack tests of
 * tests/e2e/test_limits.py (and for measuring by hand).
 *
 *	flood -p PORT [-a ADDR] [-b SRC] [-n NAME] [-t TYPE] [-d SECONDS]
 *	    [-r QPS] [-s SOCKETS] [-e]
 *
 * Sends queries for NAME (type TYPE, default A; "%random%" in NAME becomes
 * twelve random letters in each query, for a random-subdomain flood) to
 * ADDR:PORT (default 127.0.0.1) from SOCKETS sockets bound to SRC (default
 * 127.0.0.1; each socket has its own port, so the kernel spreads them
 * over the daemon's workers), with a random ID each, at QPS queries a
 * second (default 20000) for SECONDS seconds (default 3, at most 60), or
 * until SIGTERM or SIGINT: a test that floods until its other client has
 * asked enough ends it so, however slow a busy machine makes that client.
 * -e adds an EDNS OPT record (size 1232). It reads every answer that
 * comes back meanwhile and for half a second after, and prints one line
 * of JSON:
 *
 *	{"seconds": S, "sent": N, "received": N, "octets": N, "tc": N,
 *	 "rcodes": {"0": N, "2": N, ...},
 *	 "per_second": [N, ...], "full_per_second": [N, ...],
 *	 "tc_per_second": [N, ...]}
 *
 * seconds is how long the flood ran (less than SECONDS if a signal ended
 * it). per_second counts the answers received in each second of the flood
 * (full_per_second those without TC=1, tc_per_second those with it).
 * Loopback only: ADDR must be a loopback address, so it cannot be
 * pointed at anyone else.
 */
#include <sys/socket.h>
#include <sys/types.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define FLOOD_MAX_SOCKETS	64
#define FLOOD_MAX_SECONDS	60
#define FLOOD_TAIL_MS		500	/* read answers this long after */
#define FLOOD_BATCH		32	/* queries per round */

struct flood {
	int		 fds[FLOOD_MAX_SOCKETS];
	int		 nfds;
	struct sockaddr_in to;
	const char	*name;
	uint16_t	 qtype;
	int		 edns;
	uint64_t	 sent, received, octets, tc;
	uint64_t	 rcodes[16];
	uint64_t	 per_second[FLOOD_MAX_SECONDS + 1];
	uint64_t	 full_per_second[FLOOD_MAX_SECONDS + 1];
	uint64_t	 tc_per_second[FLOOD_MAX_SECONDS + 1];
	double		 start;
	int		 seconds;
};

static volatile sig_atomic_t flood_stop;	/* a signal ends the flood */

static void
usage(void)
{
	fprintf(stderr, "usage: flood -p PORT [-a ADDR] [-b SRC] [-n NAME] "
	    "[-t TYPE] [-d SECONDS] [-r QPS] [-s SOCKETS] [-e]\n");
	exit(2);
}

static double
now(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (ts.tv_sec + ts.tv_nsec / 1e9);
}

static void
on_signal(int sig)
{
	(void)sig;
	flood_stop = 1;
}

/* A number from s within lo..hi, or exit. */
static long
number(const char *s, long lo, long hi)
{
	char	*end;
	long	 v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno != 0 || *s == '\0' || *end != '\0' || v < lo || v > hi) {
		fprintf(stderr, "flood: %s: not a number from %ld to %ld\n",
		    s, lo, hi);
		exit(2);
	}
	return (v);
}

/* Append name (dotted, "%random%" expanded) in wire form; the length. */
static size_t
put_name(uint8_t *p, size_t cap, const char *name)
{
	char		 text[256];
	const char	*r;
	size_t		 n = 0, i, len;
	char		*label, *save = NULL;

	/* Expand %random% once per query. */
	if ((r = strstr(name, "%random%")) != NULL) {
		len = (size_t)(r - name);
		if (len > 200)
			return (0);
		memcpy(text, name, len);
		for (i = 0; i < 12; i++)
			text[len + i] = 'a' + (char)(random() % 26);
		snprintf(text + len + 12, sizeof text - len - 12, "%s",
		    r + strlen("%random%"));
	} else
		snprintf(text, sizeof text, "%s", name);

	for (label = strtok_r(text, ".", &save); label != NULL;
	    label = strtok_r(NULL, ".", &save)) {
		len = strlen(label);
		if (len == 0 || len > 63 || n + 1 + len + 1 > cap)
			return (0);
		p[n++] = (uint8_t)len;
		memcpy(p + n, label, len);
		n += len;
	}
	p[n++] = 0;
	return (n);
}

/* One query in buf; its length, or 0. */
static size_t
make_query(const struct flood *f, uint8_t *buf, size_t cap)
{
	uint16_t	id = (uint16_t)random();
	size_t		n;

	if (cap < 12 + 4 + 11)
		return (0);
	memset(buf, 0, 12);
	buf[0] = id >> 8;
	buf[1] = id & 0xff;
	buf[2] = 0x01;			/* RD */
	buf[5] = 1;			/* QDCOUNT */
	if ((n = put_name(buf + 12, cap - 12 - 4 - 11, f->name)) == 0)
		return (0);
	n += 12;
	buf[n++] = f->qtype >> 8;
	buf[n++] = f->qtype & 0xff;
	buf[n++] = 0;
	buf[n++] = 1;			/* IN */
	if (f->edns) {
		static const uint8_t opt[11] = { 0, 0, 41, 0x04, 0xd0,
		    0, 0, 0, 0, 0, 0 };

		buf[11] = 1;		/* ARCOUNT */
		memcpy(buf + n, opt, sizeof opt);
		n += sizeof opt;
	}
	return (n);
}

/* Read every answer waiting on the sockets. */
static void
drain(struct flood *f)
{
	uint8_t	buf[65536];
	ssize_t	n;
	int	i, k, sec, tc;

	for (i = 0; i < f->nfds; i++) {
		for (k = 0; k < 1024; k++) {
			n = recv(f->fds[i], buf, sizeof buf, MSG_DONTWAIT);
			if (n < 12)
				break;
			f->received++;
			f->octets += (uint64_t)n;
			f->rcodes[buf[3] & 0x0f]++;
			tc = (buf[2] & 0x02) != 0;
			f->tc += tc;
			sec = (int)(now() - f->start);
			if (sec < 0)
				sec = 0;
			if (sec >= f->seconds)
				sec = f->seconds - 1;
			f->per_second[sec]++;
			if (tc)
				f->tc_per_second[sec]++;
			else
				f->full_per_second[sec]++;
		}
	}
}

static void
print_list(const char *key, const uint64_t *v, int n)
{
	int	i;

	printf(", \"%s\": [", key);
	for (i = 0; i < n; i++)
		printf("%s%llu", i ? ", " : "", (unsigned long long)v[i]);
	printf("]");
}

int
main(int argc, char **argv)
{
	struct flood		 f;
	struct sockaddr_in	 src;
	struct pollfd		 pfd[FLOOD_MAX_SOCKETS];
	uint8_t			 buf[512];
	const char		*addr = "127.0.0.1", *from = "127.0.0.1";
	struct sigaction	 sa;
	double			 end, t, rate = 20000;
	uint64_t		 due;
	size_t			 len;
	int			 c, i, k, port = 0, nsock = 4, first = 1;

	memset(&f, 0, sizeof f);
	f.name = "example.test";
	f.qtype = 1;
	f.seconds = 3;
	while ((c = getopt(argc, argv, "a:b:d:en:p:r:s:t:")) != -1) {
		switch (c) {
		case 'a': addr = optarg; break;
		case 'b': from = optarg; break;
		case 'd': f.seconds = (int)number(optarg, 1,
			      FLOOD_MAX_SECONDS); break;
		case 'e': f.edns = 1; break;
		case 'n': f.name = optarg; break;
		case 'p': port = (int)number(optarg, 1, 65535); break;
		case 'r': rate = (double)number(optarg, 1, 1000000); break;
		case 's': nsock = (int)number(optarg, 1, FLOOD_MAX_SOCKETS);
			  break;
		case 't': f.qtype = (uint16_t)number(optarg, 1, 65535); break;
		default: usage();
		}
	}
	if (port == 0 || optind != argc)
		usage();

	memset(&f.to, 0, sizeof f.to);
	f.to.sin_family = AF_INET;
	f.to.sin_port = htons((uint16_t)port);
	memset(&src, 0, sizeof src);
	src.sin_family = AF_INET;
	if (inet_pton(AF_INET, addr, &f.to.sin_addr) != 1 ||
	    inet_pton(AF_INET, from, &src.sin_addr) != 1) {
		fprintf(stderr, "flood: addresses are IPv4 dotted quads\n");
		return (2);
	}
	/* Loopback only: this is a test tool, not a weapon. */
	if ((ntohl(f.to.sin_addr.s_addr) >> 24) != 127) {
		fprintf(stderr, "flood: %s is not a loopback address\n", addr);
		return (2);
	}
	srandom((unsigned)getpid() ^ (unsigned)time(NULL));
	for (i = 0; i < nsock; i++) {
		if ((f.fds[i] = socket(AF_INET, SOCK_DGRAM, 0)) == -1 ||
		    bind(f.fds[i], (struct sockaddr *)&src, sizeof src) == -1) {
			perror("flood: socket");
			return (1);
		}
		pfd[i].fd = f.fds[i];
		pfd[i].events = POLLIN;
		f.nfds++;
	}

	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_signal;
	if (sigaction(SIGTERM, &sa, NULL) == -1 ||
	    sigaction(SIGINT, &sa, NULL) == -1) {
		perror("flood: sigaction");
		return (1);
	}

	f.start = now();
	end = f.start + f.seconds;
	k = 0;
	while (!flood_stop && (t = now()) < end) {
		due = (uint64_t)((t - f.start) * rate);
		for (i = 0; i < FLOOD_BATCH && f.sent < due; i++) {
			if ((len = make_query(&f, buf, sizeof buf)) == 0) {
				if (first)
					fprintf(stderr, "flood: bad name %s\n",
					    f.name);
				return (2);
			}
			first = 0;
			/* A full socket buffer just loses the query. */
			if (sendto(f.fds[k], buf, len, MSG_DONTWAIT,
			    (struct sockaddr *)&f.to, sizeof f.to) == -1 &&
			    errno != EAGAIN && errno != ENOBUFS &&
			    errno != ECONNREFUSED) {
				perror("flood: sendto");
				return (1);
			}
			f.sent++;
			k = (k + 1) % f.nfds;
		}
		drain(&f);
		if (f.sent >= due)
			poll(pfd, (nfds_t)f.nfds, 1);
	}
	/* Cut short: the lists end with the second it ran into. */
	t = now() - f.start;
	if (t < f.seconds)
		f.seconds = (int)t + 1;
	/* The answers still on their way. */
	end = now() + FLOOD_TAIL_MS / 1000.0;
	while (now() < end) {
		if (poll(pfd, (nfds_t)f.nfds, 50) > 0)
			drain(&f);
	}

	printf("{\"seconds\": %.3f, \"sent\": %llu, \"received\": %llu, "
	    "\"octets\": %llu, \"tc\": %llu, \"rcodes\": {", t,
	    (unsigned long long)f.sent,
	    (unsigned long long)f.received, (unsigned long long)f.octets,
	    (unsigned long long)f.tc);
	for (i = 0, first = 1; i < 16; i++) {
		if (f.rcodes[i] == 0)
			continue;
		printf("%s\"%d\": %llu", first ? "" : ", ", i,
		    (unsigned long long)f.rcodes[i]);
		first = 0;
	}
	printf("}");
	print_list("per_second", f.per_second, f.seconds);
	print_list("full_per_second", f.full_per_second, f.seconds);
	print_list("tc_per_second", f.tc_per_second, f.seconds);
	printf("}\n");
	for (i = 0; i < f.nfds; i++)
		close(f.fds[i]);
	return (0);
}
