/*
 * blast.c: a UDP DNS load generator that is not the bottleneck.
 *
 *	blast -p PORT -d FILE [-s ADDR] [-c SOCKETS] [-w WINDOW] [-Q RATE]
 *	      [-l SECONDS] [-n QUERIES] [-t TIMEOUT] [-b BATCH] [-S FILE]
 *	      [-e] [-j|-k]
 *
 * Reads a dnsperf query file ("name TYPE" per line), turns every line into
 * its wire query once, then sends them in file order, over and over, from
 * SOCKETS connected UDP sockets to ADDR:PORT (loopback only), with
 * sendmmsg/recvmmsg batches and one thread:
 *
 * - closed loop (the default): each socket keeps WINDOW queries in flight
 *   and sends a new one when an answer comes or a query times out. The
 *   default, 8 sockets x 16, stays under what a server's socket buffer
 *   holds by default (about 270 small queries in 208 KiB): more in
 *   flight than that and a server that reads in batches drops queries;
 * - open loop (-Q RATE): queries leave at RATE per second, paced in steps
 *   of about 20 us, whatever the answers do; WINDOW (large by default)
 *   only caps what one socket may have in flight. When blast itself is
 *   held up (a busy machine), it catches up with a burst, so the rate
 *   asked for is the rate sent; queries more than 100 ms late are
 *   skipped and counted "behind" instead.
 *
 * It stops by itself: after -l seconds, or once -n queries are sent
 * (10 seconds when neither is given), it sends nothing more and waits at
 * most TIMEOUT for the answers still due. Then it prints how many queries
 * were answered (by rcode), lost (no answer within TIMEOUT), answered late
 * (after TIMEOUT: counted lost too), mismatched (an ID not in flight on
 * that socket, or an answer whose question is not the one sent), plus a
 * latency histogram (p50, p99, p99.9). -j adds one JSON line, -k one line
 * of key=value pairs, on standard output; the human summary then goes to
 * standard error.
 *
 * -S FILE sends the queries from many source addresses in turn, as many
 * clients (a server that tells its clients apart by address, as veiligd
 * tells boards apart, then sees them all): FILE has one IPv4 address of
 * 127.0.0.0/8 a line, all of which Linux delivers on loopback. The sockets
 * are then bound to 0.0.0.0, not connected, and each query says its
 * source in an IP_PKTINFO control message; answers come back to that
 * address and the socket's port. Without a connected socket, ICMP errors
 * are not seen.
 *
 * Why not dnsperf: one dnsperf thread does one system call per query and
 * saturates near the speed of the fastest servers, so it measures itself.
 * Here nothing is allocated per query: each line's wire form is built at
 * start, and a send is a two-part iovec, the 2-octet ID from the batch
 * array and the rest of the query from the shared buffer. Each socket has
 * a table of the 65536 IDs (send time, query, place in the send order), so
 * an answer is matched by socket and ID in O(1) and the oldest query in
 * flight, the next to time out, is the head of a list. IDs are used in
 * turn, skipping those in flight, so a timed-out ID is reused as late as
 * possible and a late answer to it is recognised as late.
 *
 * Links nothing but libc.
 */
#include <sys/epoll.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/types.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include <ctype.h>
#include <err.h>
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define BLAST_IDS		65536
#define BLAST_SOCKETS_MAX	1024
#define BLAST_WINDOW_MAX	60000	/* leaves IDs free to skip to */
#define BLAST_BATCH_MAX		1024
#define BLAST_RECV_SIZE		512	/* header and question are enough */
#define BLAST_PACE_NS		20000	/* open loop: one send step per 20 us */
#define BLAST_BACKLOG_NS	100000000 /* open loop: at most 100 ms behind */
#define BLAST_DEFAULT_SECONDS	10

/* State of one ID on one socket. */
enum blast_state {
	BLAST_FREE = 0,		/* never used, or answered */
	BLAST_INFLIGHT,		/* sent, no answer yet */
	BLAST_EXPIRED		/* timed out: an answer now is late */
};

/* One query of the file: its wire form in blast_wire. */
struct blast_query {
	uint32_t	off;		/* offset in blast_wire */
	uint16_t	len;		/* whole query */
	uint16_t	qlen;		/* question section: name, type, class */
};

/* One ID in flight (or expired) on one socket; 16 octets. */
struct blast_slot {
	uint64_t	sent;		/* ns since the start */
	uint32_t	query;		/* index in blast_queries */
	uint16_t	prev;		/* send order: older neighbour */
	uint16_t	next;		/* send order: newer neighbour */
};

/* One connected socket and its ID table. */
struct blast_sock {
	int			 fd;
	uint32_t		 inflight;	/* IDs in BLAST_INFLIGHT */
	uint16_t		 next_id;	/* next ID to try */
	uint16_t		 oldest;	/* send order head, if inflight */
	uint16_t		 newest;	/* send order tail, if inflight */
	int			 retry;		/* a send failed: try again soon */
	struct blast_slot	*slots;		/* BLAST_IDS */
	uint8_t			*state;		/* BLAST_IDS, enum blast_state */
};

/*
 * Latency histogram: exact below 64 ns, then 32 buckets per power of two,
 * so a reported value is within about 3 % of the real one. A value with
 * its top bit at e goes to ((e - 5) << 5) + its top 6 bits: at most 1919.
 */
#define HIST_SUB	5
#define HIST_BUCKETS	((65 - HIST_SUB) << HIST_SUB)

/* What a run counts. */
struct blast_stats {
	uint64_t	sent;
	uint64_t	answered;	/* in time, question matched */
	uint64_t	lost;		/* no answer within the timeout */
	uint64_t	late;		/* answer after the timeout */
	uint64_t	mismatched;	/* ID not in flight or question differs */
	uint64_t	malformed;	/* shorter than a header, or QR clear */
	uint64_t	truncated;	/* answered with TC set */
	uint64_t	refused;	/* ICMP errors (nothing listens) */
	uint64_t	behind;		/* open loop: not sent on schedule */
	uint64_t	rcodes[16];
	uint64_t	lat_sum;	/* ns, over answered */
	uint64_t	lat_max;
	uint64_t	hist[HIST_BUCKETS];
};

/* Options. */
static const char	*blast_addr = "127.0.0.1";
static int		 blast_port = -1;
static const char	*blast_file;
static int		 blast_nsocks = 8;
static int		 blast_window = -1;	/* -1: by mode */
static double		 blast_rate;		/* 0: closed loop */
static double		 blast_seconds = -1;	/* -1: not given */
static uint64_t		 blast_count;		/* 0: not given */
static uint64_t		 blast_timeout = 1000000000ULL;	/* ns */
static int		 blast_batch = 64;
static int		 blast_edns;
static int		 blast_output;		/* 'j', 'k' or 0 */
static const char	*blast_srcfile;		/* -S */

/* -S: the source addresses, taken in turn, and where queries go. */
static struct in_addr		*blast_srcs;
static uint32_t			 blast_nsrcs;
static uint32_t			 blast_srccur;
static struct sockaddr_storage	 blast_dst;
static socklen_t		 blast_dstlen;
static uint8_t			*blast_cbuf;	/* a control message each */
#define BLAST_CMSG_SPACE	CMSG_SPACE(sizeof(struct in_pktinfo))

/* The queries. */
static uint8_t			*blast_wire;
static size_t			 blast_wire_len;
static struct blast_query	*blast_queries;
static uint32_t			 blast_nqueries;
static uint32_t			 blast_cursor;	/* next query to send */

static struct blast_sock	*blast_socks;
static struct blast_stats	 blast_st;
static struct timespec		 blast_t0;

/* Batch buffers, reused by every send and receive. */
static struct mmsghdr	*blast_msgs;
static struct iovec	*blast_iov;	/* two per message on send */
static uint8_t		*blast_idbuf;	/* two octets per message */
static uint16_t		*blast_ids;
static uint8_t		*blast_rbuf;	/* BLAST_RECV_SIZE per message */

static const char *blast_rcode_names[16] = {
	"NOERROR", "FORMERR", "SERVFAIL", "NXDOMAIN", "NOTIMP", "REFUSED",
	"YXDOMAIN", "YXRRSET", "NXRRSET", "NOTAUTH", "NOTZONE", "RCODE11",
	"RCODE12", "RCODE13", "RCODE14", "RCODE15"
};

static const struct {
	const char	*name;
	uint16_t	 type;
} blast_types[] = {
	{ "A", 1 }, { "NS", 2 }, { "CNAME", 5 }, { "SOA", 6 }, { "PTR", 12 },
	{ "HINFO", 13 }, { "MX", 15 }, { "TXT", 16 }, { "AAAA", 28 },
	{ "LOC", 29 }, { "SRV", 33 }, { "NAPTR", 35 }, { "DNAME", 39 },
	{ "DS", 43 }, { "SSHFP", 44 }, { "RRSIG", 46 }, { "NSEC", 47 },
	{ "DNSKEY", 48 }, { "NSEC3", 50 }, { "NSEC3PARAM", 51 },
	{ "TLSA", 52 }, { "CDS", 59 }, { "CDNSKEY", 60 }, { "SVCB", 64 },
	{ "HTTPS", 65 }, { "SPF", 99 }, { "AXFR", 252 }, { "ANY", 255 },
	{ "URI", 256 }, { "CAA", 257 }
};

static __attribute__((noreturn)) void
blast_usage(void)
{
	fprintf(stderr,
	    "usage: blast -p port -d file [-s address] [-c sockets] "
	    "[-w window]\n"
	    "             [-Q rate] [-l seconds] [-n queries] [-t timeout] "
	    "[-b batch]\n"
	    "             [-S sources-file] [-e] [-j|-k]\n"
	    "  -s  server address, loopback only (default 127.0.0.1)\n"
	    "  -p  server port\n"
	    "  -d  query file, dnsperf format: \"name TYPE\" per line\n"
	    "  -c  sockets (default 8)\n"
	    "  -w  queries in flight per socket (default 16 closed loop, "
	    "%d open loop)\n"
	    "  -Q  open loop at this many queries per second\n"
	    "  -l  stop sending after this many seconds\n"
	    "  -n  stop sending after this many queries (not passes over "
	    "the file)\n"
	    "      (neither -l nor -n: %d seconds)\n"
	    "  -t  seconds before a query counts lost (default 1)\n"
	    "  -b  messages per sendmmsg/recvmmsg (default 64)\n"
	    "  -S  sources-file: source addresses of 127.0.0.0/8, one a "
	    "line, used in turn\n"
	    "  -e  add an EDNS0 OPT record (UDP size 1232)\n"
	    "  -j  one JSON line on standard output (summary to stderr)\n"
	    "  -k  one key=value line on standard output (summary to "
	    "stderr)\n", BLAST_WINDOW_MAX, BLAST_DEFAULT_SECONDS);
	exit(2);
}

/* Nanoseconds since the start. */
static inline uint64_t
blast_now(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ((uint64_t)(ts.tv_sec - blast_t0.tv_sec) * 1000000000ULL +
	    (uint64_t)ts.tv_nsec - (uint64_t)blast_t0.tv_nsec);
}

/* A number option in [min, max], or exit with a message. */
static double
blast_number(const char *s, const char *what, double min, double max)
{
	char	*end;
	double	 v;

	errno = 0;
	v = strtod(s, &end);
	if (errno != 0 || end == s || *end != '\0' || !isfinite(v) ||
	    v < min || v > max)
		errx(2, "%s: '%s' is not a number in [%g, %g]", what, s,
		    min, max);
	return (v);
}

/* Append n octets to the wire buffer. */
static void
blast_wire_add(const void *p, size_t n)
{
	static size_t	 size;
	uint8_t		*w;

	if (blast_wire_len + n > size) {
		size = size ? size * 2 : 1 << 20;
		if ((w = realloc(blast_wire, size)) == NULL)
			err(1, "realloc");
		blast_wire = w;
	}
	memcpy(blast_wire + blast_wire_len, p, n);
	blast_wire_len += n;
}

/*
 * Presentation name to wire, with \X and \DDD escapes; "." is the root.
 * Returns the wire length or 0 with *why set.
 */
static size_t
blast_name(const char *s, uint8_t *out, const char **why)
{
	size_t	 n = 0, lab = 0;
	int	 c, len = 0;

	if (strcmp(s, ".") == 0) {
		out[0] = 0;
		return (1);
	}
	for (;;) {
		c = (unsigned char)*s;
		if (c == '\0' || c == '.') {
			if (len == 0) {
				if (c == '\0' && n > 0)
					break;	/* trailing dot */
				*why = "empty label";
				return (0);
			}
			out[lab] = (uint8_t)len;
			n = lab + 1 + len;
			len = 0;
			if (c == '\0')
				break;
			s++;
			continue;
		}
		if (c == '\\') {
			if (isdigit((unsigned char)s[1]) &&
			    isdigit((unsigned char)s[2]) &&
			    isdigit((unsigned char)s[3])) {
				c = (s[1] - '0') * 100 + (s[2] - '0') * 10 +
				    (s[3] - '0');
				if (c > 255) {
					*why = "bad \\DDD escape";
					return (0);
				}
				s += 4;
			} else if (s[1] != '\0') {
				c = (unsigned char)s[1];
				s += 2;
			} else {
				*why = "lone backslash";
				return (0);
			}
		} else
			s++;
		if (len == 0)
			lab = n;
		if (++len > 63) {
			*why = "label longer than 63 octets";
			return (0);
		}
		if (lab + 1 + len > 254) {
			*why = "name longer than 255 octets";
			return (0);
		}
		out[lab + len] = (uint8_t)c;
		n = lab + 1 + len;
	}
	out[n++] = 0;
	return (n);
}

/* Type mnemonic or TYPEnnn to its number; -1 if unknown. */
static int
blast_type(const char *s)
{
	size_t	 i;
	char	*end;
	long	 v;

	for (i = 0; i < sizeof blast_types / sizeof blast_types[0]; i++) {
		if (strcasecmp(s, blast_types[i].name) == 0)
			return (blast_types[i].type);
	}
	if (strncasecmp(s, "TYPE", 4) == 0 && isdigit((unsigned char)s[4])) {
		errno = 0;
		v = strtol(s + 4, &end, 10);
		if (errno == 0 && *end == '\0' && v >= 0 && v <= 65535)
			return ((int)v);
	}
	return (-1);
}

/*
 * Read the query file and build every wire query: header (ID 0, RD),
 * question, and an OPT record with -e. Blank lines and lines starting
 * with ';' or '#' are skipped; anything else that is not "name TYPE" is
 * an error with file:line.
 */
static void
blast_load(const char *path)
{
	FILE			*f;
	char			*line = NULL, *name, *type, *extra, *save;
	size_t			 size = 0, cap = 0, nlen;
	ssize_t			 r;
	unsigned long		 lineno = 0;
	uint8_t			 q[12 + 255 + 4 + 11];
	const char		*why = NULL;
	int			 t;
	struct blast_query	*nq;
	static const uint8_t	 hdr[12] = { 0, 0, 0x01, 0, 0, 1, 0, 0, 0, 0,
				     0, 0 };
	static const uint8_t	 opt[11] = { 0, 0, 41, 0x04, 0xd0, 0, 0, 0,
				     0, 0, 0 };

	if ((f = fopen(path, "r")) == NULL)
		err(2, "%s", path);
	while ((r = getline(&line, &size, f)) != -1) {
		lineno++;
		name = strtok_r(line, " \t\r\n", &save);
		if (name == NULL || *name == ';' || *name == '#')
			continue;
		type = strtok_r(NULL, " \t\r\n", &save);
		extra = strtok_r(NULL, " \t\r\n", &save);
		if (type == NULL)
			errx(2, "%s:%lu: no query type after '%s'", path,
			    lineno, name);
		if (extra != NULL)
			errx(2, "%s:%lu: unexpected '%s' after the type",
			    path, lineno, extra);
		if ((t = blast_type(type)) == -1)
			errx(2, "%s:%lu: unknown query type '%s'", path,
			    lineno, type);
		memcpy(q, hdr, sizeof hdr);
		if ((nlen = blast_name(name, q + 12, &why)) == 0)
			errx(2, "%s:%lu: bad name '%s': %s", path, lineno,
			    name, why);
		q[12 + nlen] = (uint8_t)(t >> 8);
		q[12 + nlen + 1] = (uint8_t)t;
		q[12 + nlen + 2] = 0;
		q[12 + nlen + 3] = 1;		/* IN */
		if (blast_nqueries == cap) {
			cap = cap ? cap * 2 : 4096;
			if (cap > UINT32_MAX / 2)
				errx(2, "%s: too many queries", path);
			if ((nq = reallocarray(blast_queries, cap,
			    sizeof *nq)) == NULL)
				err(1, "reallocarray");
			blast_queries = nq;
		}
		if (blast_wire_len > UINT32_MAX - sizeof q)
			errx(2, "%s: too many queries", path);
		nq = &blast_queries[blast_nqueries++];
		nq->off = (uint32_t)blast_wire_len;
		nq->qlen = (uint16_t)(nlen + 4);
		nq->len = (uint16_t)(12 + nlen + 4);
		if (blast_edns) {
			q[11] = 1;		/* ARCOUNT */
			memcpy(q + nq->len, opt, sizeof opt);
			nq->len += sizeof opt;
		}
		blast_wire_add(q, nq->len);
	}
	if (ferror(f))
		err(2, "%s", path);
	free(line);
	fclose(f);
	if (blast_nqueries == 0)
		errx(2, "%s: no queries", path);
}

/* Parse the target; only loopback addresses are accepted. */
static socklen_t
blast_target(struct sockaddr_storage *ss)
{
	struct sockaddr_in	*sin = (struct sockaddr_in *)ss;
	struct sockaddr_in6	*sin6 = (struct sockaddr_in6 *)ss;

	memset(ss, 0, sizeof *ss);
	if (inet_pton(AF_INET, blast_addr, &sin->sin_addr) == 1) {
		if ((ntohl(sin->sin_addr.s_addr) >> 24) != 127)
			errx(2, "%s: not a loopback address (127.0.0.0/8 or "
			    "::1 only)", blast_addr);
		sin->sin_family = AF_INET;
		sin->sin_port = htons((uint16_t)blast_port);
		return (sizeof *sin);
	}
	if (inet_pton(AF_INET6, blast_addr, &sin6->sin6_addr) == 1) {
		if (!IN6_IS_ADDR_LOOPBACK(&sin6->sin6_addr))
			errx(2, "%s: not a loopback address (127.0.0.0/8 or "
			    "::1 only)", blast_addr);
		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons((uint16_t)blast_port);
		return (sizeof *sin6);
	}
	errx(2, "%s: not an IPv4 or IPv6 address", blast_addr);
}

/* -S: bind fd to 0.0.0.0 and a port of the kernel's choice. */
static void
blast_bind_any(int fd)
{
	struct sockaddr_in	sin;

	memset(&sin, 0, sizeof sin);
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_ANY);
	if (bind(fd, (struct sockaddr *)&sin, sizeof sin) == -1)
		err(1, "bind 0.0.0.0");
}

/* -S: read the source addresses of path; each must be in 127.0.0.0/8. */
static void
blast_load_sources(const char *path)
{
	FILE		*f;
	char		*line = NULL, *p, *e;
	size_t		 cap = 0, lineno = 0, n = 0, alloc = 0;
	struct in_addr	*a;

	if ((f = fopen(path, "r")) == NULL)
		err(1, "%s", path);
	while (getline(&line, &cap, f) != -1) {
		lineno++;
		for (p = line; isspace((unsigned char)*p); p++)
			;
		for (e = p; *e != '\0' && !isspace((unsigned char)*e); e++)
			;
		*e = '\0';
		if (*p == '\0' || *p == '#')
			continue;
		if (n == alloc) {
			alloc = alloc ? alloc * 2 : 1024;
			if ((a = reallocarray(blast_srcs, alloc, sizeof *a)) ==
			    NULL)
				err(1, "reallocarray");
			blast_srcs = a;
		}
		if (inet_pton(AF_INET, p, &blast_srcs[n]) != 1 ||
		    (ntohl(blast_srcs[n].s_addr) >> 24) != 127)
			errx(2, "%s:%zu: not an address in 127.0.0.0/8: %s",
			    path, lineno, p);
		n++;
	}
	if (ferror(f))
		err(1, "%s", path);
	fclose(f);
	free(line);
	if (n == 0 || n > UINT32_MAX)
		errx(2, "%s: no source address", path);
	blast_nsrcs = (uint32_t)n;
}

/* -S: message m of the batch goes to the server from the next source. */
static void
blast_source(struct mmsghdr *m, int i)
{
	struct cmsghdr		*c;
	struct in_pktinfo	 pi;

	m->msg_hdr.msg_name = &blast_dst;
	m->msg_hdr.msg_namelen = blast_dstlen;
	m->msg_hdr.msg_control = blast_cbuf + (size_t)i * BLAST_CMSG_SPACE;
	m->msg_hdr.msg_controllen = BLAST_CMSG_SPACE;
	c = CMSG_FIRSTHDR(&m->msg_hdr);
	c->cmsg_level = IPPROTO_IP;
	c->cmsg_type = IP_PKTINFO;
	c->cmsg_len = CMSG_LEN(sizeof pi);
	memset(&pi, 0, sizeof pi);
	pi.ipi_spec_dst = blast_srcs[blast_srccur];
	memcpy(CMSG_DATA(c), &pi, sizeof pi);
	if (++blast_srccur == blast_nsrcs)
		blast_srccur = 0;
}

/* Open the sockets, connected to the target, and register them. */
static int
blast_open(void)
{
	struct sockaddr_storage	 ss;
	socklen_t		 sslen;
	struct epoll_event	 ev;
	struct blast_sock	*s;
	int			 i, ep, size = 4 << 20;

	sslen = blast_target(&ss);
	blast_dst = ss;
	blast_dstlen = sslen;
	if (blast_nsrcs > 0 && ss.ss_family != AF_INET)
		errx(2, "-S: IPv4 sources need an IPv4 server address");
	if ((ep = epoll_create1(EPOLL_CLOEXEC)) == -1)
		err(1, "epoll_create1");
	if ((blast_socks = calloc(blast_nsocks, sizeof *blast_socks)) == NULL)
		err(1, "calloc");
	for (i = 0; i < blast_nsocks; i++) {
		s = &blast_socks[i];
		s->fd = socket(ss.ss_family, SOCK_DGRAM | SOCK_NONBLOCK |
		    SOCK_CLOEXEC, 0);
		if (s->fd == -1)
			err(1, "socket");
		/* Big buffers so a burst is not dropped here; FORCE as root. */
		if (setsockopt(s->fd, SOL_SOCKET, SO_RCVBUFFORCE, &size,
		    sizeof size) == -1)
			(void)setsockopt(s->fd, SOL_SOCKET, SO_RCVBUF, &size,
			    sizeof size);
		if (setsockopt(s->fd, SOL_SOCKET, SO_SNDBUFFORCE, &size,
		    sizeof size) == -1)
			(void)setsockopt(s->fd, SOL_SOCKET, SO_SNDBUF, &size,
			    sizeof size);
		if (blast_nsrcs > 0)
			blast_bind_any(s->fd);
		else if (connect(s->fd, (struct sockaddr *)&ss, sslen) == -1)
			err(1, "connect %s port %d", blast_addr, blast_port);
		s->slots = calloc(BLAST_IDS, sizeof *s->slots);
		s->state = calloc(BLAST_IDS, 1);
		if (s->slots == NULL || s->state == NULL)
			err(1, "calloc");
		/* Start each socket's IDs somewhere else. */
		s->next_id = (uint16_t)(i * 7919);
		ev.events = EPOLLIN;
		ev.data.u32 = (uint32_t)i;
		if (epoll_ctl(ep, EPOLL_CTL_ADD, s->fd, &ev) == -1)
			err(1, "epoll_ctl");
	}
	return (ep);
}

/* Append ID to the socket's send order. */
static inline void
blast_link(struct blast_sock *s, uint16_t id)
{
	if (s->inflight++ == 0)
		s->oldest = id;
	else {
		s->slots[s->newest].next = id;
		s->slots[id].prev = s->newest;
	}
	s->newest = id;
}

/* Take ID out of the socket's send order. */
static inline void
blast_unlink(struct blast_sock *s, uint16_t id)
{
	struct blast_slot	*sl = &s->slots[id];

	if (--s->inflight == 0)
		return;
	if (id == s->oldest)
		s->oldest = sl->next;
	else if (id == s->newest)
		s->newest = sl->prev;
	else {
		s->slots[sl->prev].next = sl->next;
		s->slots[sl->next].prev = sl->prev;
	}
}

/*
 * Send up to n queries on socket s in one sendmmsg; returns how many left.
 * IDs and queries are taken in turn; those the kernel did not take are
 * given back, so the next call sends them.
 */
static int
blast_send(struct blast_sock *s, int n)
{
	struct mmsghdr		*m;
	struct blast_query	*q;
	uint32_t		 cursor = blast_cursor;
	uint16_t		 id = s->next_id;
	uint64_t		 now;
	int			 i, k, r, refused;

	for (i = 0; i < n; i++) {
		while (s->state[id] == BLAST_INFLIGHT)
			id++;
		blast_ids[i] = id;
		q = &blast_queries[cursor];
		blast_idbuf[2 * i] = (uint8_t)(id >> 8);
		blast_idbuf[2 * i + 1] = (uint8_t)id;
		blast_iov[2 * i].iov_base = &blast_idbuf[2 * i];
		blast_iov[2 * i].iov_len = 2;
		blast_iov[2 * i + 1].iov_base = blast_wire + q->off + 2;
		blast_iov[2 * i + 1].iov_len = q->len - 2;
		m = &blast_msgs[i];
		memset(&m->msg_hdr, 0, sizeof m->msg_hdr);
		m->msg_hdr.msg_iov = &blast_iov[2 * i];
		m->msg_hdr.msg_iovlen = 2;
		if (blast_nsrcs > 0)
			blast_source(m, i);
		id++;
		if (++cursor == blast_nqueries)
			cursor = 0;
	}
	/*
	 * When nothing listens, each query brings back an ICMP error that
	 * stops the batch after it and fails the next call: count it and go
	 * on (reporting it cleared it); at most one per message.
	 */
	now = blast_now();
	k = 0;
	refused = 0;
	while (k < n) {
		r = sendmmsg(s->fd, blast_msgs + k, (unsigned int)(n - k), 0);
		if (r > 0) {
			k += r;
			continue;
		}
		if (errno == ECONNREFUSED && refused++ < n)
			continue;
		if (errno == ECONNREFUSED || errno == EAGAIN ||
		    errno == ENOBUFS || errno == EINTR)
			break;
		err(1, "sendmmsg");
	}
	blast_st.refused += (uint64_t)refused;
	s->retry = (k < n);
	for (i = 0; i < k; i++) {
		id = blast_ids[i];
		s->slots[id].sent = now;
		s->slots[id].query = blast_cursor;
		s->state[id] = BLAST_INFLIGHT;
		blast_link(s, id);
		if (++blast_cursor == blast_nqueries)
			blast_cursor = 0;
	}
	s->next_id = (k < n) ? blast_ids[k] : id;
	blast_st.sent += (uint64_t)k;
	return (n - k);
}

/* Add one latency to the histogram. */
static inline void
blast_hist_add(uint64_t ns)
{
	unsigned	e, idx;

	if (ns < (2U << HIST_SUB))
		idx = (unsigned)ns;
	else {
		e = 63 - (unsigned)__builtin_clzll(ns);
		idx = ((e - HIST_SUB) << HIST_SUB) +
		    (unsigned)(ns >> (e - HIST_SUB));
	}
	blast_st.hist[idx]++;
	blast_st.lat_sum += ns;
	if (ns > blast_st.lat_max)
		blast_st.lat_max = ns;
}

/* The middle of histogram bucket idx, in ns. */
static double
blast_hist_value(unsigned idx)
{
	unsigned	e, m;

	if (idx < (2U << HIST_SUB))
		return (idx);
	e = (idx >> HIST_SUB) + HIST_SUB - 1;
	m = (idx & ((1U << HIST_SUB) - 1)) | (1U << HIST_SUB);
	return (((double)m + 0.5) * (double)(1ULL << (e - HIST_SUB)));
}

/* The latency at quantile p (0..1) of the answered queries, in ns. */
static double
blast_hist_quantile(double p)
{
	uint64_t	rank, seen = 0;
	unsigned	i;

	if (blast_st.answered == 0)
		return (0);
	rank = (uint64_t)ceil(p * (double)blast_st.answered);
	if (rank == 0)
		rank = 1;
	for (i = 0; i < HIST_BUCKETS; i++) {
		seen += blast_st.hist[i];
		if (seen >= rank)
			return (blast_hist_value(i));
	}
	return ((double)blast_st.lat_max);
}

/*
 * Whether the answer p carries the question of query q: the same octets,
 * or the same name in another case (a server may echo 0x20 case bits).
 */
static inline int
blast_same_question(const uint8_t *p, size_t len, const struct blast_query *q)
{
	const uint8_t	*a = p + 12, *b = blast_wire + q->off + 12;
	size_t		 i;

	if (len < 12U + q->qlen)
		return (0);
	if (memcmp(a, b, q->qlen) == 0)
		return (1);
	for (i = 0; i < q->qlen - 4U; i++) {
		if (a[i] != b[i] && tolower(a[i]) != tolower(b[i]))
			return (0);
	}
	return (memcmp(a + i, b + i, 4) == 0);
}

/* One received datagram on socket s at time now. */
static inline void
blast_answer(struct blast_sock *s, const uint8_t *p, size_t len,
    uint64_t now)
{
	struct blast_slot	*sl;
	struct blast_query	*q;
	uint16_t		 id;

	if (len < 12 || (p[2] & 0x80) == 0) {
		blast_st.malformed++;
		return;
	}
	id = (uint16_t)(p[0] << 8 | p[1]);
	switch (s->state[id]) {
	case BLAST_INFLIGHT:
		break;
	case BLAST_EXPIRED:
		s->state[id] = BLAST_FREE;
		blast_st.late++;
		return;
	default:
		blast_st.mismatched++;
		return;
	}
	/*
	 * The question must be the one sent with this ID. An answer with no
	 * question (some FORMERR) is matched by ID alone. A wrong question
	 * leaves the query in flight: its real answer may still come.
	 */
	sl = &s->slots[id];
	q = &blast_queries[sl->query];
	if ((p[4] != 0 || p[5] != 0) && !blast_same_question(p, len, q)) {
		blast_st.mismatched++;
		return;
	}
	s->state[id] = BLAST_FREE;
	blast_unlink(s, id);
	blast_st.answered++;
	blast_st.rcodes[p[3] & 0x0f]++;
	if (p[2] & 0x02)
		blast_st.truncated++;
	blast_hist_add(now - sl->sent);
}

/* Read what socket s has; an ICMP error (nothing listens) is counted. */
static void
blast_recv(struct blast_sock *s)
{
	uint64_t	now;
	int		i, k;

	for (;;) {
		for (i = 0; i < blast_batch; i++) {
			blast_iov[i].iov_base = blast_rbuf +
			    (size_t)i * BLAST_RECV_SIZE;
			blast_iov[i].iov_len = BLAST_RECV_SIZE;
			memset(&blast_msgs[i].msg_hdr, 0,
			    sizeof blast_msgs[i].msg_hdr);
			blast_msgs[i].msg_hdr.msg_iov = &blast_iov[i];
			blast_msgs[i].msg_hdr.msg_iovlen = 1;
		}
		k = recvmmsg(s->fd, blast_msgs, (unsigned int)blast_batch,
		    MSG_DONTWAIT, NULL);
		if (k == -1) {
			if (errno == ECONNREFUSED) {
				blast_st.refused++;
				continue;
			}
			if (errno == EAGAIN || errno == EINTR)
				return;
			err(1, "recvmmsg");
		}
		now = blast_now();
		for (i = 0; i < k; i++)
			blast_answer(s, blast_rbuf + (size_t)i *
			    BLAST_RECV_SIZE, blast_msgs[i].msg_len, now);
		if (k < blast_batch)
			return;
	}
}

/* Expire what has waited TIMEOUT on socket s; next deadline or 0. */
static uint64_t
blast_expire(struct blast_sock *s, uint64_t now)
{
	uint16_t	id;

	while (s->inflight > 0) {
		id = s->oldest;
		if (s->slots[id].sent + blast_timeout > now)
			return (s->slots[id].sent + blast_timeout);
		s->state[id] = BLAST_EXPIRED;
		blast_unlink(s, id);
		blast_st.lost++;
	}
	return (0);
}

/* Open-loop pacing. */
struct blast_pace {
	uint64_t	issued;		/* sent or skipped as behind */
	uint64_t	step;		/* queries per ~20 us step */
	uint64_t	backlog;	/* most queries due at once */
	int		rr;		/* next socket, round-robin */
};

/*
 * Closed loop: fill every socket's window (up to the count). Returns the
 * time to try again if a send came short, else UINT64_MAX.
 */
static uint64_t
blast_closed(uint64_t now)
{
	struct blast_sock	*s;
	uint64_t		 room, wake = UINT64_MAX;
	int			 i, n;

	for (i = 0; i < blast_nsocks; i++) {
		s = &blast_socks[i];
		room = (uint64_t)blast_window - s->inflight;
		if (blast_count != 0 && room > blast_count - blast_st.sent)
			room = blast_count - blast_st.sent;
		while (room > 0) {
			n = room > (uint64_t)blast_batch ? blast_batch :
			    (int)room;
			if (blast_send(s, n) != 0)
				break;
			room -= (uint64_t)n;
		}
		if (s->retry)
			wake = now + 1000000;
	}
	return (wake);
}

/*
 * Open loop: send what is due by now, round-robin over the sockets with
 * room; what is more than the backlog behind is skipped and counted.
 * Returns when the next step is due.
 */
static uint64_t
blast_open_loop(struct blast_pace *p, uint64_t now)
{
	struct blast_sock	*s;
	uint64_t		 want, due, room;
	int			 i, n, progress = 1;

	want = (uint64_t)((double)now * blast_rate / 1e9) + 1;
	if (blast_count != 0 && want > blast_count)
		want = blast_count;
	due = want > p->issued ? want - p->issued : 0;
	if (due > p->backlog) {
		blast_st.behind += due - p->backlog;
		p->issued += due - p->backlog;
		due = p->backlog;
	}
	while (due > 0 && progress) {
		progress = 0;
		for (i = 0; i < blast_nsocks && due > 0; i++) {
			s = &blast_socks[p->rr];
			p->rr = (p->rr + 1) % blast_nsocks;
			room = (uint64_t)blast_window - s->inflight;
			if (room == 0)
				continue;
			n = (int)(due < room ? due : room);
			if (n > blast_batch)
				n = blast_batch;
			n -= blast_send(s, n);
			due -= (uint64_t)n;
			p->issued += (uint64_t)n;
			if (n > 0)
				progress = 1;
		}
	}
	if (due > 0)
		return (now + 1000000);	/* no room or a short send: retry */
	return ((uint64_t)((double)(p->issued + p->step) * 1e9 / blast_rate));
}

/*
 * Run the load: expire, send, wait for answers or the next deadline, read
 * them; until sending has stopped and nothing is in flight. Returns how
 * long the run lasted, in ns.
 */
static uint64_t
blast_run(int ep)
{
	struct epoll_event	*evs;
	struct blast_pace	 pace;
	struct timespec		 ts;
	uint64_t		 now, stop_at, wake, d, left, before;
	uint64_t		 last = 0, stopped = 0;
	int			 i, n, sending = 1;

	if ((evs = calloc(blast_nsocks, sizeof *evs)) == NULL)
		err(1, "calloc");
	stop_at = blast_seconds >= 0 ?
	    (uint64_t)(blast_seconds * 1e9) : UINT64_MAX;
	memset(&pace, 0, sizeof pace);
	if (blast_rate > 0) {
		pace.step = (uint64_t)ceil(blast_rate * BLAST_PACE_NS / 1e9);
		pace.backlog = (uint64_t)ceil(blast_rate * BLAST_BACKLOG_NS /
		    1e9);
		if (pace.backlog < 8)
			pace.backlog = 8;
	}

	for (;;) {
		now = blast_now();
		if (sending && (now >= stop_at || (blast_count != 0 &&
		    blast_st.sent + blast_st.behind >= blast_count))) {
			sending = 0;
			stopped = now;
		}

		/* Queries that have waited too long are lost. */
		wake = sending ? stop_at : UINT64_MAX;
		left = 0;
		for (i = 0; i < blast_nsocks; i++) {
			d = blast_expire(&blast_socks[i], now);
			if (d != 0 && d < wake)
				wake = d;
			left += blast_socks[i].inflight;
		}
		if (!sending && left == 0)
			break;

		if (sending) {
			d = blast_rate > 0 ? blast_open_loop(&pace, now) :
			    blast_closed(now);
			if (d < wake)
				wake = d;
		}

		/* Wait for answers or the next deadline (at most 1 s). */
		now = blast_now();
		d = wake > now ? wake - now : 0;
		if (d > 1000000000ULL)
			d = 1000000000ULL;
		ts.tv_sec = (time_t)(d / 1000000000ULL);
		ts.tv_nsec = (long)(d % 1000000000ULL);
		n = epoll_pwait2(ep, evs, blast_nsocks, &ts, NULL);
		if (n == -1) {
			if (errno == EINTR)
				continue;
			err(1, "epoll_pwait2");
		}
		for (i = 0; i < n; i++) {
			before = blast_st.answered;
			blast_recv(&blast_socks[evs[i].data.u32]);
			if (blast_st.answered != before)
				last = blast_now();
		}
	}
	free(evs);
	/*
	 * The run lasts until sending stopped, or until the last answer
	 * after that; not the wait for answers that never came.
	 */
	return (last > stopped ? last : stopped);
}

/* CPU time blast has used, user and system, in seconds. */
static double
blast_cpu(void)
{
	struct rusage	ru;

	if (getrusage(RUSAGE_SELF, &ru) == -1)
		return (0);
	return ((double)ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 +
	    (double)ru.ru_stime.tv_sec + ru.ru_stime.tv_usec / 1e6);
}

/* Print the human summary to f. */
static void
blast_summary(FILE *f, double secs)
{
	int	i, any = 0;
	double	qps = secs > 0 ? (double)blast_st.answered / secs : 0;

	fprintf(f, "blast: %s port %d, %d sockets, %s, %u queries in the "
	    "file\n", blast_addr, blast_port, blast_nsocks, blast_rate > 0 ?
	    "open loop" : "closed loop", blast_nqueries);
	if (blast_rate > 0)
		fprintf(f, "  rate         %.0f/s asked, at most %d in flight "
		    "per socket\n", blast_rate, blast_window);
	else
		fprintf(f, "  window       %d per socket\n", blast_window);
	fprintf(f, "  sent         %" PRIu64 "\n", blast_st.sent);
	fprintf(f, "  answered     %" PRIu64 "  (", blast_st.answered);
	for (i = 0; i < 16; i++) {
		if (blast_st.rcodes[i] == 0)
			continue;
		fprintf(f, "%s%s %" PRIu64, any ? ", " : "",
		    blast_rcode_names[i], blast_st.rcodes[i]);
		any = 1;
	}
	fprintf(f, "%s)\n", any ? "" : "none");
	fprintf(f, "  lost         %" PRIu64 "  (no answer within %.3f s)\n",
	    blast_st.lost, (double)blast_timeout / 1e9);
	fprintf(f, "  late         %" PRIu64 "\n", blast_st.late);
	fprintf(f, "  mismatched   %" PRIu64 "\n", blast_st.mismatched);
	if (blast_st.malformed != 0)
		fprintf(f, "  malformed    %" PRIu64 "\n", blast_st.malformed);
	if (blast_st.truncated != 0)
		fprintf(f, "  truncated    %" PRIu64 "\n", blast_st.truncated);
	if (blast_st.refused != 0)
		fprintf(f, "  ICMP errors  %" PRIu64 "  (nothing listens?)\n",
		    blast_st.refused);
	if (blast_st.behind != 0)
		fprintf(f, "  behind       %" PRIu64 "  (not sent on schedule: "
		    "window full or generator too slow)\n", blast_st.behind);
	fprintf(f, "  time         %.3f s\n", secs);
	fprintf(f, "  blast cpu    %.3f s  (%.0f %% of one core: near 100 "
	    "and blast is the bottleneck)\n", blast_cpu(), secs > 0 ?
	    100 * blast_cpu() / secs : 0);
	fprintf(f, "  qps          %.0f\n", qps);
	if (blast_st.answered != 0)
		fprintf(f, "  latency us   p50 %.1f  p99 %.1f  p99.9 %.1f  "
		    "mean %.1f  max %.1f\n", blast_hist_quantile(0.5) / 1e3,
		    blast_hist_quantile(0.99) / 1e3,
		    blast_hist_quantile(0.999) / 1e3,
		    (double)blast_st.lat_sum / (double)blast_st.answered / 1e3,
		    (double)blast_st.lat_max / 1e3);
}

/* Print one machine-readable line: JSON ('j') or key=value ('k'). */
static void
blast_line(int how, double secs)
{
	struct {
		const char	*key;
		double		 v;
		int		 integer;
	} f[] = {
		{ "sent", (double)blast_st.sent, 1 },
		{ "answered", (double)blast_st.answered, 1 },
		{ "lost", (double)blast_st.lost, 1 },
		{ "late", (double)blast_st.late, 1 },
		{ "mismatched", (double)blast_st.mismatched, 1 },
		{ "malformed", (double)blast_st.malformed, 1 },
		{ "truncated", (double)blast_st.truncated, 1 },
		{ "icmp_errors", (double)blast_st.refused, 1 },
		{ "behind", (double)blast_st.behind, 1 },
		{ "seconds", secs, 0 },
		{ "cpu_s", blast_cpu(), 0 },
		{ "qps", secs > 0 ? (double)blast_st.answered / secs : 0, 0 },
		{ "p50_us", blast_hist_quantile(0.5) / 1e3, 0 },
		{ "p99_us", blast_hist_quantile(0.99) / 1e3, 0 },
		{ "p999_us", blast_hist_quantile(0.999) / 1e3, 0 },
		{ "mean_us", blast_st.answered ? (double)blast_st.lat_sum /
		    (double)blast_st.answered / 1e3 : 0, 0 },
		{ "max_us", (double)blast_st.lat_max / 1e3, 0 },
		{ "sockets", blast_nsocks, 1 },
		{ "window", blast_window, 1 },
		{ "rate", blast_rate, 0 },
	};
	size_t	i;
	int	r, any = 0;

	if (how == 'j')
		printf("{");
	for (i = 0; i < sizeof f / sizeof f[0]; i++) {
		if (how == 'j')
			printf("%s\"%s\": ", i ? ", " : "", f[i].key);
		else
			printf("%s%s=", i ? " " : "", f[i].key);
		if (f[i].integer)
			printf("%.0f", f[i].v);
		else
			printf("%.3f", f[i].v);
	}
	if (how == 'j')
		printf(", \"rcodes\": {");
	for (r = 0; r < 16; r++) {
		if (blast_st.rcodes[r] == 0)
			continue;
		if (how == 'j')
			printf("%s\"%s\": %" PRIu64, any ? ", " : "",
			    blast_rcode_names[r], blast_st.rcodes[r]);
		else
			printf(" rcode_%s=%" PRIu64, blast_rcode_names[r],
			    blast_st.rcodes[r]);
		any = 1;
	}
	if (how == 'j')
		printf("}}");
	printf("\n");
	fflush(stdout);
}

/* Parse the command line into the option variables, or exit 2. */
static void
blast_options(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "server", required_argument, NULL, 's' },
		{ "port", required_argument, NULL, 'p' },
		{ "file", required_argument, NULL, 'd' },
		{ "sockets", required_argument, NULL, 'c' },
		{ "window", required_argument, NULL, 'w' },
		{ "rate", required_argument, NULL, 'Q' },
		{ "seconds", required_argument, NULL, 'l' },
		{ "count", required_argument, NULL, 'n' },
		{ "timeout", required_argument, NULL, 't' },
		{ "batch", required_argument, NULL, 'b' },
		{ "sources", required_argument, NULL, 'S' },
		{ "edns", no_argument, NULL, 'e' },
		{ "json", no_argument, NULL, 'j' },
		{ "kv", no_argument, NULL, 'k' },
		{ NULL, 0, NULL, 0 }
	};
	int	ch;

	while ((ch = getopt_long(argc, argv, "s:p:d:c:w:Q:l:n:t:b:S:ejk",
	    longopts, NULL)) != -1) {
		switch (ch) {
		case 's':
			blast_addr = optarg;
			break;
		case 'p':
			blast_port = (int)blast_number(optarg, "-p", 1, 65535);
			break;
		case 'd':
			blast_file = optarg;
			break;
		case 'c':
			blast_nsocks = (int)blast_number(optarg, "-c", 1,
			    BLAST_SOCKETS_MAX);
			break;
		case 'w':
			blast_window = (int)blast_number(optarg, "-w", 1,
			    BLAST_WINDOW_MAX);
			break;
		case 'Q':
			blast_rate = blast_number(optarg, "-Q", 1, 1e8);
			break;
		case 'l':
			blast_seconds = blast_number(optarg, "-l", 0.001,
			    86400);
			break;
		case 'n':
			blast_count = (uint64_t)blast_number(optarg, "-n", 1,
			    1e15);
			break;
		case 't':
			blast_timeout = (uint64_t)(blast_number(optarg, "-t",
			    0.001, 3600) * 1e9);
			break;
		case 'b':
			blast_batch = (int)blast_number(optarg, "-b", 1,
			    BLAST_BATCH_MAX);
			break;
		case 'S':
			blast_srcfile = optarg;
			break;
		case 'e':
			blast_edns = 1;
			break;
		case 'j':
		case 'k':
			blast_output = ch;
			break;
		default:
			blast_usage();
		}
	}
	if (optind != argc || blast_port == -1 || blast_file == NULL)
		blast_usage();
	if (blast_seconds < 0 && blast_count == 0)
		blast_seconds = BLAST_DEFAULT_SECONDS;
	if (blast_window == -1)
		blast_window = blast_rate > 0 ? BLAST_WINDOW_MAX : 16;
}

int
main(int argc, char **argv)
{
	uint64_t	end;
	double		secs;
	int		ep;

	blast_options(argc, argv);
	blast_load(blast_file);
	if (blast_srcfile != NULL) {
		blast_load_sources(blast_srcfile);
		if ((blast_cbuf = calloc(blast_batch, BLAST_CMSG_SPACE)) ==
		    NULL)
			err(1, "calloc");
	}

	blast_msgs = calloc(blast_batch, sizeof *blast_msgs);
	blast_iov = calloc(2 * (size_t)blast_batch, sizeof *blast_iov);
	blast_idbuf = calloc(blast_batch, 2);
	blast_ids = calloc(blast_batch, sizeof *blast_ids);
	blast_rbuf = calloc(blast_batch, BLAST_RECV_SIZE);
	if (blast_msgs == NULL || blast_iov == NULL || blast_idbuf == NULL ||
	    blast_ids == NULL || blast_rbuf == NULL)
		err(1, "calloc");
	ep = blast_open();

	/* Sleep to the nanosecond: the open loop paces in 20 us steps. */
	(void)prctl(PR_SET_TIMERSLACK, 1UL, 0, 0, 0);

	clock_gettime(CLOCK_MONOTONIC, &blast_t0);
	end = blast_run(ep);
	secs = (double)end / 1e9;

	if (blast_output != 0) {
		blast_line(blast_output, secs);
		blast_summary(stderr, secs);
	} else
		blast_summary(stdout, secs);
	return (0);
}
