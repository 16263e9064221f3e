/*
 * blast.c: a DNS load generator that is not the bottleneck.
 *
 *	blast -p PORT -d FILE [-s ADDR] [-c SOCKETS] [-w WINDOW] [-Q RATE]
 *	      [-l SECONDS] [-n QUERIES] [-t TIMEOUT] [-b BATCH] [-e] [-U]
 *	      [-R RANGE | -S SOURCES-FILE] [-T [-m PER_CONNECTION]] [-j|-k]
 *	      [-i FILE] [-P US[/N]]
 *
 * Reads a dnsperf query file ("name TYPE" per line), turns every line into
 * its wire query once, then sends them in file order, over and over, from
 * SOCKETS connected UDP sockets to ADDR:PORT (loopback only), with
 * sendmmsg/recvmmsg batches and one thread:
 *
 * - closed loop (the default): each socket keeps WINDOW queries in flight
 *   and sends a new one when an answer comes or a query times out. The
 *   default, 4 sockets x 32 (TCP: 8 connections x 16), stays under what
 *   a server's socket buffer holds by default (about 270 small queries
 *   in 208 KiB): more in flight than that and a server that reads in
 *   batches drops queries. Fewer sockets with more in flight each make
 *   bigger batches: 4 x 32 cost blast 8 % less a query than 8 x 16, and
 *   echo 5 % (tests/bench/README.md); a server with several
 *   SO_REUSEPORT sockets needs more of them to spread over (make bench
 *   gives its two-worker runs 8 x 16);
 * - open loop (-Q RATE): queries leave at RATE per second, paced in steps,
 *   whatever the answers do; WINDOW (large by default) only caps what one
 *   socket may have in flight. blast sleeps to each step, then reads the
 *   answers that came meanwhile, which the kernel stamps as they come
 *   (SO_TIMESTAMPNS), and sends the step's queries in one sendmmsg. A
 *   step (-P US/N, default 20/16) lasts at least US microseconds and
 *   carries at least N queries, but is not made longer than 1 ms to
 *   reach N: at 100,000 a second 16 queries every 160 us, at 400,000
 *   every 40 us. Each step costs blast a sleep, a wake-up and, the server
 *   asleep, the server's wake-up, whatever it carries: steps of 20 us,
 *   a query or two each below 100,000 a second, cost blast 6.8-7.8 us a
 *   query at 100,000 a second, steps of 16 queries 3.9-4.7 us
 *   (tests/bench/README.md).
 *   When blast itself is held up (a busy machine), it catches up with a
 *   burst, so the rate asked for is the rate sent; queries more than
 *   100 ms late are skipped and counted "behind" instead. It reports
 *   the rate it sent (sent_qps) beside the rate asked.
 *
 * Three variations, for the mixes of make bench:
 *
 * - -R FIRST-LAST (or ADDR/LEN): each query leaves from another source
 *   address of that IPv4 range inside 127/8 (every address of 127/8 is
 *   local on Linux), taken in a scattered order (a step of about 0.618
 *   of the range, coprime with it), so a server with thousands of client
 *   networks sees them all, mixed. -S FILE does the same with the
 *   addresses of FILE (one of 127/8 a line, # comments), taken in file
 *   order: one address in each of a server's networks, say. The sockets
 *   are then unconnected, bound to the wildcard, and each message carries
 *   its source in an IP_PKTINFO control message; answers from anyone but
 *   the target count as mismatched.
 * - -U: each name gets a first label unique to this run and query (16 hex
 *   digits from a random start), so no answer can come from a cache: the
 *   miss path, with one line such as "miss.example A" in the file and a
 *   wildcard upstream.
 * - -T: TCP. Each of the SOCKETS is a connection with up to WINDOW
 *   queries pipelined (RFC 7766, answers in any order), written with a
 *   2-octet length; with -m N a connection is closed after N queries and
 *   all their answers, and another is opened at once, so connection set-
 *   up is part of the load. A connection refused, reset or closed with
 *   queries in flight counts as a connection error, and those queries as
 *   lost. Latency runs from the write to the answer, as for UDP. A
 *   connection costs blast socket, setsockopt (TCP_NODELAY), connect and
 *   close, and each refill of its window one send of all the queries
 *   that fit and each wake one read of all the answers there are: with
 *   -m 20 -w 16, 9 system calls for 20 queries, and the ppoll waits.
 *
 * It stops by itself: after -l seconds, or once -n queries are sent
 * (10 seconds when neither is given), it sends nothing more and waits at
 * most TIMEOUT for the answers still due. SIGTERM or SIGINT ends the
 * sending early in the same way (make bench stops its second generator,
 * at SCHED_IDLE on the server's core, when the first one ends). Then it prints how many queries
 * were answered (by rcode), lost (no answer within TIMEOUT), answered late
 * (after TIMEOUT: counted lost too), mismatched (an ID not in flight on
 * that socket, or an answer whose question is not the one sent), plus a
 * latency histogram (p50, p99, p99.9). -j adds one JSON line, -k one line
 * of key=value pairs, on standard output; the human summary then goes to
 * standard error. -i FILE writes the run as a series of 10 ms intervals
 * of the send time: for each, the queries sent in it, how many of them
 * were answered and lost, and their p99 (from a histogram of 8 buckets
 * per power of two: within about 9 %), so that a stall shows when it came
 * (make bench lays the reloads over it). Its first line gives the run's
 * start on CLOCK_MONOTONIC.
 *
 * Why not dnsperf: one dnsperf thread does one system call per query and
 * saturates near the speed of the fastest servers, so it measures itself.
 * Here nothing is allocated per query: each line's wire form is built at
 * start, and a send is a two-part iovec, the 2-octet ID from the batch
 * array and the rest of the query from the shared buffer (four parts with
 * -U: ID, rest of the header, the unique label, the question). Each socket
 * has a table of the 65536 IDs (send time, query, place in the send
 * order), so an answer is matched by socket and ID in O(1) and the oldest
 * query in flight, the next to time out, is the head of a list. IDs are
 * used in turn, skipping those in flight, so a timed-out ID is reused as
 * late as possible and a late answer to it is recognised as late.
 *
 * Links nothing but libc.
 */
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/types.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>

#include <ctype.h>
#include <err.h>
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <math.h>
#include <poll.h>
#include <signal.h>
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
#define BLAST_PACE_NS		20000	/* open loop: a step lasts >= 20 us */
#define BLAST_PACE_MIN		16	/* open loop: and carries >= 16 queries */
#define BLAST_PACE_CAP_NS	1000000	/* open loop: raised to that, <= 1 ms */
#define BLAST_BACKLOG_NS	100000000 /* open loop: at most 100 ms behind */
#define BLAST_DEFAULT_SECONDS	10
#define BLAST_UNIQ		16	/* -U: hex digits of the unique label */
#define BLAST_TCP_OUT		(256 * 1024) /* TCP: written, not yet sent */
#define BLAST_TCP_IN		(128 * 1024) /* TCP: >= one whole answer */
#define BLAST_RECONNECT_NS	10000000 /* TCP: 10 ms after a failure */
#define BLAST_IVAL_NS		10000000 /* -i: 10 ms intervals */

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

/* One ID in flight (or expired) on one socket; 24 octets. */
struct blast_slot {
	uint64_t	sent;		/* ns since the start */
	uint64_t	uniq;		/* -U: the number in the first label */
	uint32_t	query;		/* index in blast_queries */
	uint16_t	prev;		/* send order: older neighbour */
	uint16_t	next;		/* send order: newer neighbour */
};

/* Where a TCP connection is; a UDP socket is always BLAST_UP. */
enum blast_conn {
	BLAST_DOWN = 0,		/* closed: connect at reconnect_at */
	BLAST_CONNECTING,	/* connect() in progress: may be written */
	BLAST_UP
};

/* One socket (UDP) or connection (TCP) and its ID table. */
struct blast_sock {
	int			 fd;		/* -1 when down */
	uint32_t		 inflight;	/* IDs in BLAST_INFLIGHT */
	uint16_t		 next_id;	/* next ID to try */
	uint16_t		 oldest;	/* send order head, if inflight */
	uint16_t		 newest;	/* send order tail, if inflight */
	int			 retry;		/* a send failed: try again soon */
	struct blast_slot	*slots;		/* BLAST_IDS */
	uint8_t			*state;		/* BLAST_IDS, enum blast_state */

	/* TCP only. */
	enum blast_conn		 conn;
	uint64_t		 conn_sent;	/* queries on this connection */
	uint64_t		 reconnect_at;	/* when down: ns */
	uint8_t			*out;		/* BLAST_TCP_OUT */
	size_t			 outoff;	/* sent up to here */
	size_t			 outlen;	/* written up to here */
	uint8_t			*in;		/* BLAST_TCP_IN */
	size_t			 inlen;
};

/*
 * Latency histogram: exact below 64 ns, then 32 buckets per power of two,
 * so a reported value is within about 3 % of the real one. A value with
 * its top bit at e goes to ((e - 5) << 5) + its top 6 bits: at most 1919.
 */
#define HIST_SUB	5
#define HIST_BUCKETS	((65 - HIST_SUB) << HIST_SUB)

/*
 * -i: one interval of the send time; its histogram is the run's with
 * four buckets in one (8 per power of two).
 */
#define IVAL_SHIFT	2
#define IVAL_BUCKETS	(HIST_BUCKETS >> IVAL_SHIFT)
struct blast_ival {
	uint32_t	sent;
	uint32_t	answered;
	uint32_t	lost;
	uint32_t	hist[IVAL_BUCKETS];
};

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
	uint64_t	connections;	/* TCP: connections opened */
	uint64_t	conn_errors;	/* TCP: refused, reset, closed early */
	uint64_t	rcodes[16];
	uint64_t	lat_sum;	/* ns, over answered */
	uint64_t	lat_max;
	uint64_t	hist[HIST_BUCKETS];
};

/* Options. */
static const char	*blast_addr = "127.0.0.1";
static int		 blast_port = -1;
static const char	*blast_file;
static int		 blast_nsocks = -1;	/* -1: by mode */
static int		 blast_window = -1;	/* -1: by mode */
static double		 blast_rate;		/* 0: closed loop */
static double		 blast_seconds = -1;	/* -1: not given */
static uint64_t		 blast_count;		/* 0: not given */
static uint64_t		 blast_timeout = 1000000000ULL;	/* ns */
static int		 blast_batch = 64;
static int		 blast_edns;
static int		 blast_output;		/* 'j', 'k' or 0 */
static const char	*blast_sources;		/* -R or -S, or NULL */
static int		 blast_srcopt;		/* 'R', 'S' or 0 */
static int		 blast_unique;		/* -U */
static int		 blast_tcp;		/* -T */
static uint64_t		 blast_per_conn;	/* -m; 0: no limit */
static const char	*blast_ival_path;	/* -i, or NULL */
static uint64_t		 blast_pace_ns = BLAST_PACE_NS;	/* -P */
static uint64_t		 blast_pace_min = BLAST_PACE_MIN; /* -P */

/* Set by SIGTERM and SIGINT: stop sending, as at the end of -l. */
static volatile sig_atomic_t	 blast_stop;

/* The queries. */
static uint8_t			*blast_wire;
static size_t			 blast_wire_len;
static struct blast_query	*blast_queries;
static uint32_t			 blast_nqueries;
static uint32_t			 blast_cursor;	/* next query to send */

static struct blast_sock	*blast_socks;
static struct blast_stats	 blast_st;
static struct timespec		 blast_t0;
static uint64_t			 blast_sending;	/* ns sending lasted */
static uint64_t			 blast_step;	/* open loop: queries a step */
static struct pollfd		*blast_pfd;	/* the sockets, for ppoll */
static struct blast_ival	*blast_ivals;	/* -i: the intervals */
static size_t			 blast_nivals;	/* -i: how many there are */
static FILE			*blast_ival_file; /* -i: opened at start */

/*
 * The target, and the source addresses (host order): with -R a range,
 * with -S the list read from the file (blast_src_list; step 1).
 */
static struct sockaddr_storage	 blast_ss;
static socklen_t		 blast_sslen;
static uint32_t			 blast_src_first;
static uint32_t			 blast_src_count;	/* 0: neither -R nor -S */
static uint32_t			 blast_src_step;
static uint32_t			 blast_src_next;	/* offset in the range */
static uint32_t			*blast_src_list;	/* -S: network order */

/* -U: the number of the next unique label; random start. */
static uint64_t			 blast_uniq_next;

/* Space for one IP_PKTINFO control message. */
union blast_ctl {
	struct cmsghdr	hdr;
	uint8_t		buf[CMSG_SPACE(sizeof(struct in_pktinfo))];
};

/* Space for one SCM_TIMESTAMPNS control message. */
union blast_stamp {
	struct cmsghdr	hdr;
	uint8_t		buf[CMSG_SPACE(sizeof(struct timespec))];
};

/* Batch buffers, reused by every send and receive. */
static struct mmsghdr	*blast_msgs;
static struct iovec	*blast_iov;	/* four per message on send */
static uint8_t		*blast_idbuf;	/* TCP length and ID: 4 a message */
static uint8_t		*blast_ubuf;	/* -U: a label per message */
static uint64_t		*blast_uniqs;	/* -U: its number */
static union blast_ctl	*blast_ctl;	/* -R, -S: a source per message */
static struct sockaddr_storage *blast_from; /* -R, -S: who answered */
static uint16_t		*blast_ids;
static uint8_t		*blast_rbuf;	/* BLAST_RECV_SIZE per message */
static union blast_stamp *blast_stamps;	/* open loop: when each came */

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
	    "[-b batch] [-e]\n"
	    "             [-U] [-R range | -S sources-file] "
	    "[-T [-m queries]] [-j|-k]\n"
	    "             [-i file] [-P us[/n]]\n"
	    "  -s  server address, loopback only (default 127.0.0.1)\n"
	    "  -p  server port\n"
	    "  -d  query file, dnsperf format: \"name TYPE\" per line\n"
	    "  -c  sockets (default 4, TCP 8)\n"
	    "  -w  queries in flight per socket (default 32 closed loop, "
	    "16 TCP,\n      "
	    "%d open loop)\n"
	    "  -Q  open loop at this many queries per second\n"
	    "  -l  stop sending after this many seconds\n"
	    "  -n  stop sending after this many queries (not passes over "
	    "the file)\n"
	    "      (neither -l nor -n: %d seconds)\n"
	    "  -t  seconds before a query counts lost (default 1)\n"
	    "  -b  messages per sendmmsg/recvmmsg (default 64)\n"
	    "  -e  add an EDNS0 OPT record (UDP size 1232)\n"
	    "  -U  prefix each name with a label unique to the query "
	    "(cache misses)\n"
	    "  -R  source addresses, FIRST-LAST or ADDR/LEN in 127/8: each "
	    "query from\n"
	    "      another one\n"
	    "  -S  sources-file: source addresses of 127.0.0.0/8, one a "
	    "line, used in turn\n"
	    "  -T  TCP: each socket a connection, queries pipelined\n"
	    "  -m  TCP: close a connection after this many queries and open "
	    "another\n"
	    "  -j  one JSON line on standard output (summary to stderr)\n"
	    "  -k  one key=value line on standard output (summary to "
	    "stderr)\n"
	    "  -i  write 10 ms intervals to file: sent, answered, lost, "
	    "p99\n"
	    "  -P  open loop: a step lasts at least US microseconds and "
	    "carries at least N\n"
	    "      queries, not made longer than 1 ms for N (default "
	    "%.0f/%d)\n", BLAST_WINDOW_MAX, BLAST_DEFAULT_SECONDS,
	    BLAST_PACE_NS / 1e3, BLAST_PACE_MIN);
	exit(2);
}

/*
 * -i: the interval of a query sent at ns since the start, or NULL
 * without -i. The table grows by doubling (a run longer than main()
 * sized it for: -n, or a wait for answers).
 */
static struct blast_ival *
blast_ival(uint64_t sent)
{
	struct blast_ival	*p;
	size_t			 i = (size_t)(sent / BLAST_IVAL_NS), n;

	if (blast_ival_path == NULL)
		return (NULL);
	if (i >= blast_nivals) {
		n = blast_nivals != 0 ? blast_nivals : 64;
		while (n <= i)
			n *= 2;
		p = reallocarray(blast_ivals, n, sizeof *p);
		if (p == NULL)
			err(1, "-i: %zu intervals", n);
		memset(p + blast_nivals, 0, (n - blast_nivals) * sizeof *p);
		blast_ivals = p;
		blast_nivals = n;
	}
	return (&blast_ivals[i]);
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
		if (blast_unique && nlen + 1 + BLAST_UNIQ > 255)
			errx(2, "%s:%lu: '%s' is too long for a unique label "
			    "in front (-U)", path, lineno, name);
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

/* An IPv4 address inside 127/8, in host order, or exit 2. */
static uint32_t
blast_loopback4(const char *s, const char *where)
{
	struct in_addr	a;

	if (inet_pton(AF_INET, s, &a) != 1)
		errx(2, "%s: '%s' is not an IPv4 address", where, s);
	if ((ntohl(a.s_addr) >> 24) != 127)
		errx(2, "%s: %s is not in 127.0.0.0/8 (loopback only)", where,
		    s);
	return (ntohl(a.s_addr));
}

static uint32_t
blast_gcd(uint32_t a, uint32_t b)
{
	uint32_t	t;

	while (b != 0) {
		t = a % b;
		a = b;
		b = t;
	}
	return (a);
}

/*
 * -R FIRST-LAST or ADDR/LEN to the first source address and the count.
 * The step through the range is about 0.618 of it and coprime with it:
 * every address comes once a pass, and consecutive queries come from far
 * apart (other networks, other boards).
 */
static void
blast_source_range(void)
{
	char		 buf[64], *sep;
	uint32_t	 first, last, host;
	int		 len;

	if (strlen(blast_sources) >= sizeof buf)
		errx(2, "-R: '%s' is too long", blast_sources);
	strcpy(buf, blast_sources);
	if ((sep = strchr(buf, '-')) != NULL) {
		*sep = '\0';
		first = blast_loopback4(buf, "-R");
		last = blast_loopback4(sep + 1, "-R");
		if (last < first)
			errx(2, "-R: %s comes before %s", sep + 1, buf);
	} else if ((sep = strchr(buf, '/')) != NULL) {
		*sep = '\0';
		len = (int)blast_number(sep + 1, "-R prefix length", 8, 32);
		host = len == 32 ? 0 : 0xffffffffU >> len;
		first = blast_loopback4(buf, "-R") & ~host;
		last = first | host;
	} else
		errx(2, "-R: '%s' is neither FIRST-LAST nor ADDR/LEN",
		    blast_sources);
	blast_src_first = first;
	blast_src_count = last - first + 1;	/* at most 2^24 */
	blast_src_step = (uint32_t)((double)blast_src_count * 0.6180339887) |
	    1;
	while (blast_gcd(blast_src_step, blast_src_count) != 1)
		blast_src_step += 2;
}

/* -S FILE: its addresses, one of 127/8 a line, into blast_src_list. */
static void
blast_source_file(void)
{
	FILE		*f;
	char		*line = NULL, *p, *e, where[4096 + 32];
	size_t		 cap = 0, lineno = 0, alloc = 0;
	uint32_t	*a;

	if ((f = fopen(blast_sources, "r")) == NULL)
		err(2, "-S: %s", blast_sources);
	while (getline(&line, &cap, f) != -1) {
		lineno++;
		for (p = line; isspace((unsigned char)*p); p++)
			;
		for (e = p; *e != '\0' && !isspace((unsigned char)*e); e++)
			;
		*e = '\0';
		if (*p == '\0' || *p == '#')
			continue;
		if (blast_src_count == alloc) {
			if (alloc >= (1U << 24))
				errx(2, "-S: %s: more than 2^24 addresses",
				    blast_sources);
			alloc = alloc ? alloc * 2 : 1024;
			if ((a = reallocarray(blast_src_list, alloc,
			    sizeof *a)) == NULL)
				err(1, "reallocarray");
			blast_src_list = a;
		}
		snprintf(where, sizeof where, "-S: %s:%zu", blast_sources,
		    lineno);
		blast_src_list[blast_src_count++] = htonl(blast_loopback4(p,
		    where));
	}
	if (ferror(f))
		err(2, "-S: %s", blast_sources);
	fclose(f);
	free(line);
	if (blast_src_count == 0)
		errx(2, "-S: %s: no address", blast_sources);
	blast_src_step = 1;
}

/* The next source address of -R or -S, in network order. */
static inline uint32_t
blast_source(void)
{
	uint32_t	i = blast_src_next;

	blast_src_next += blast_src_step;
	if (blast_src_next >= blast_src_count)
		blast_src_next -= blast_src_count;
	return (blast_src_list != NULL ? blast_src_list[i] :
	    htonl(blast_src_first + i));
}

/*
 * Whether ppoll should say when TCP socket s can take more: while some
 * of its buffer is left to send (a send came short, or the connect is not
 * over yet). Otherwise a writable socket would wake every wait.
 */
static inline void
blast_want_out(struct blast_sock *s)
{
	struct pollfd	*pfd = &blast_pfd[s - blast_socks];

	pfd->events = POLLIN | POLLRDHUP | (s->outoff < s->outlen ?
	    POLLOUT : 0);
}

/*
 * Open UDP socket i: connected to the target, or with -R or -S
 * unconnected, as each message then names its source and the target.
 */
static void
blast_udp_open(uint32_t i)
{
	struct blast_sock	*s = &blast_socks[i];
	int			 size = 4 << 20;

	s->fd = socket(blast_ss.ss_family, SOCK_DGRAM | SOCK_NONBLOCK |
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
	/*
	 * Open loop: the kernel stamps each answer as it comes, since blast
	 * reads only once a step (blast_udp_wait); without the stamp, the
	 * answer's time is when it was read.
	 */
	if (blast_rate > 0 && setsockopt(s->fd, SOL_SOCKET, SO_TIMESTAMPNS,
	    &(int){ 1 }, sizeof(int)) == -1)
		warn("SO_TIMESTAMPNS");
	if (blast_src_count == 0 && connect(s->fd,
	    (struct sockaddr *)&blast_ss, blast_sslen) == -1)
		err(1, "connect %s port %d", blast_addr, blast_port);
	s->conn = BLAST_UP;
	blast_pfd[i].fd = s->fd;
	blast_pfd[i].events = POLLIN;
}

/* Open the sockets (TCP: connected later, by blast_tcp_tend). */
static void
blast_open(void)
{
	struct blast_sock	*s;
	int			 i;

	blast_sslen = blast_target(&blast_ss);
	if (blast_srcopt != 0 && blast_ss.ss_family != AF_INET)
		errx(2, "-%c: the target must be an IPv4 address",
		    blast_srcopt);
	if (blast_srcopt == 'R')
		blast_source_range();
	else if (blast_srcopt == 'S')
		blast_source_file();
	if ((blast_socks = calloc(blast_nsocks, sizeof *blast_socks)) == NULL ||
	    (blast_pfd = calloc(blast_nsocks, sizeof *blast_pfd)) == NULL)
		err(1, "calloc");
	for (i = 0; i < blast_nsocks; i++) {
		s = &blast_socks[i];
		s->slots = calloc(BLAST_IDS, sizeof *s->slots);
		s->state = calloc(BLAST_IDS, 1);
		if (s->slots == NULL || s->state == NULL)
			err(1, "calloc");
		/* Start each socket's IDs somewhere else. */
		s->next_id = (uint16_t)(i * 7919);
		if (!blast_tcp) {
			blast_udp_open((uint32_t)i);
			continue;
		}
		s->fd = blast_pfd[i].fd = -1;	/* poll skips it */
		s->out = malloc(BLAST_TCP_OUT);
		s->in = malloc(BLAST_TCP_IN);
		if (s->out == NULL || s->in == NULL)
			err(1, "malloc");
	}
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

/* TCP socket s's connect has finished: count the connection. */
static inline void
blast_tcp_up(struct blast_sock *s)
{
	s->conn = BLAST_UP;
	blast_st.connections++;
}

/*
 * Connect TCP socket i, without waiting. On loopback the handshake is
 * over when connect() returns EINPROGRESS (the SYN, the SYN-ACK and the
 * ACK all pass through the softirq run as the call ends), so the first
 * queries are written at once, with no wait for an event and no
 * SO_ERROR asked: the first send that takes them says the connection is
 * up (blast_tcp_flush), and a connection refused says so there too.
 */
static void
blast_tcp_connect(uint32_t i, uint64_t now)
{
	struct blast_sock	*s = &blast_socks[i];
	struct sockaddr_in	 src;
	int			 one = 1;

	s->fd = socket(blast_ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK |
	    SOCK_CLOEXEC, 0);
	if (s->fd == -1)
		err(1, "socket");
	(void)setsockopt(s->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
	if (blast_src_count != 0) {
		/* The port is picked at connect(), per source address. */
		(void)setsockopt(s->fd, IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT,
		    &one, sizeof one);
		memset(&src, 0, sizeof src);
		src.sin_family = AF_INET;
		src.sin_addr.s_addr = blast_source();
		if (bind(s->fd, (struct sockaddr *)&src, sizeof src) == -1)
			err(1, "bind");
	}
	s->conn_sent = 0;
	s->outoff = s->outlen = s->inlen = 0;
	if (connect(s->fd, (struct sockaddr *)&blast_ss, blast_sslen) == 0)
		blast_tcp_up(s);
	else if (errno == EINPROGRESS)
		s->conn = BLAST_CONNECTING;
	else {
		close(s->fd);
		s->fd = -1;
		blast_st.conn_errors++;
		s->reconnect_at = now + BLAST_RECONNECT_NS;
		return;
	}
	blast_pfd[i].fd = s->fd;
	blast_want_out(s);
}

/*
 * Close TCP socket s. The queries still in flight on it can no longer be
 * answered: they are lost now. error: count a connection error and wait a
 * little before connecting again.
 */
static void
blast_tcp_close(struct blast_sock *s, int error, uint64_t now)
{
	struct blast_ival	*iv;
	uint16_t		 id;

	while (s->inflight > 0) {
		id = s->oldest;
		s->state[id] = BLAST_FREE;
		blast_unlink(s, id);
		blast_st.lost++;
		if ((iv = blast_ival(s->slots[id].sent)) != NULL)
			iv->lost++;
	}
	close(s->fd);
	s->fd = blast_pfd[s - blast_socks].fd = -1;
	s->conn = BLAST_DOWN;
	if (error)
		blast_st.conn_errors++;
	s->reconnect_at = error ? now + BLAST_RECONNECT_NS : now;
}

/*
 * Send what TCP socket s has buffered, as far as the socket takes it; the
 * rest goes when ppoll says there is room (or the connect finished). A
 * send taken while connecting means the connection is up. 0, or -1 when
 * the connection failed.
 */
static int
blast_tcp_flush(struct blast_sock *s)
{
	ssize_t	w;

	while (s->outoff < s->outlen) {
		w = send(s->fd, s->out + s->outoff, s->outlen - s->outoff,
		    MSG_NOSIGNAL);
		if (w > 0) {
			if (s->conn == BLAST_CONNECTING)
				blast_tcp_up(s);
			s->outoff += (size_t)w;
			continue;
		}
		if (w == -1 && errno == EINTR)
			continue;
		if (w == -1 && errno == EAGAIN)
			break;
		return (-1);
	}
	if (s->outoff == s->outlen)
		s->outoff = s->outlen = 0;
	blast_want_out(s);
	return (0);
}

/* The 16 hex digits of n as a label (length octet first) into u. */
static inline void
blast_hex(uint8_t *u, uint64_t n)
{
	static const char	hex[] = "0123456789abcdef";
	int			k;

	u[0] = BLAST_UNIQ;
	for (k = 0; k < BLAST_UNIQ; k++)
		u[1 + k] = (uint8_t)hex[(n >> (60 - 4 * k)) & 15];
}

/*
 * The iovec parts of message i, in blast_iov[4 * i]: the ID (after the
 * 2-octet length over TCP), then the rest of the query from the shared
 * buffer; with -U the rest of the header, the message's unique label and
 * the question. Returns the number of parts.
 */
static inline int
blast_compose(int i, uint16_t id, const struct blast_query *q)
{
	struct iovec	*iov = &blast_iov[4 * i];
	uint8_t		*h = &blast_idbuf[4 * i], *u;
	size_t		 len = q->len + (blast_unique ? 1 + BLAST_UNIQ : 0);

	h[0] = (uint8_t)(len >> 8);
	h[1] = (uint8_t)len;
	h[2] = (uint8_t)(id >> 8);
	h[3] = (uint8_t)id;
	iov[0].iov_base = blast_tcp ? h : h + 2;
	iov[0].iov_len = blast_tcp ? 4 : 2;
	if (!blast_unique) {
		iov[1].iov_base = blast_wire + q->off + 2;
		iov[1].iov_len = q->len - 2U;
		return (2);
	}
	u = &blast_ubuf[(size_t)i * (1 + BLAST_UNIQ)];
	blast_uniqs[i] = blast_uniq_next++;
	blast_hex(u, blast_uniqs[i]);
	iov[1].iov_base = blast_wire + q->off + 2;
	iov[1].iov_len = 10;
	iov[2].iov_base = u;
	iov[2].iov_len = 1 + BLAST_UNIQ;
	iov[3].iov_base = blast_wire + q->off + 12;
	iov[3].iov_len = q->len - 12U;
	return (4);
}

/* -R, -S: message i goes to the target from the next source address. */
static inline void
blast_pktinfo(struct msghdr *h, int i)
{
	struct cmsghdr		*c;
	struct in_pktinfo	 pi;

	h->msg_name = &blast_ss;
	h->msg_namelen = blast_sslen;
	h->msg_control = blast_ctl[i].buf;
	h->msg_controllen = sizeof blast_ctl[i].buf;
	c = CMSG_FIRSTHDR(h);
	c->cmsg_level = IPPROTO_IP;
	c->cmsg_type = IP_PKTINFO;
	c->cmsg_len = CMSG_LEN(sizeof pi);
	memset(&pi, 0, sizeof pi);
	pi.ipi_spec_dst.s_addr = blast_source();
	memcpy(CMSG_DATA(c), &pi, sizeof pi);
}

/*
 * UDP: send the n messages of the batch on s with sendmmsg; returns how
 * many the kernel took.
 */
static int
blast_udp_send(struct blast_sock *s, int n)
{
	int	k = 0, r, refused = 0;

	/*
	 * When nothing listens, each query brings back an ICMP error that
	 * stops the batch after it and fails the next call: count it and go
	 * on (reporting it cleared it); at most one per message.
	 */
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
	return (k);
}

/*
 * TCP: append the n messages of the batch to s's buffer, as many as fit
 * whole; returns how many. blast_tcp_flush sends them.
 */
static int
blast_tcp_send(struct blast_sock *s, int n)
{
	struct msghdr	*h;
	size_t		 need, j;
	int		 i;

	if (s->outoff > 0 && BLAST_TCP_OUT - s->outlen < 64 * 1024) {
		memmove(s->out, s->out + s->outoff, s->outlen - s->outoff);
		s->outlen -= s->outoff;
		s->outoff = 0;
	}
	for (i = 0; i < n; i++) {
		h = &blast_msgs[i].msg_hdr;
		for (need = 0, j = 0; j < h->msg_iovlen; j++)
			need += h->msg_iov[j].iov_len;
		if (need > BLAST_TCP_OUT - s->outlen)
			break;
		for (j = 0; j < h->msg_iovlen; j++) {
			memcpy(s->out + s->outlen, h->msg_iov[j].iov_base,
			    h->msg_iov[j].iov_len);
			s->outlen += h->msg_iov[j].iov_len;
		}
	}
	return (i);
}

/*
 * Send up to n queries on socket i in one batch; returns how many were
 * left. IDs and queries are taken in turn; those the kernel (or the TCP
 * buffer) did not take are given back, so the next call sends them.
 */
static int
blast_send(uint32_t si, int n)
{
	struct blast_sock	*s = &blast_socks[si];
	struct blast_ival	*iv;
	struct msghdr		*h;
	uint32_t		 cursor = blast_cursor;
	uint16_t		 id = s->next_id;
	uint64_t		 now;
	int			 i, k, failed = 0;

	if (s->conn == BLAST_DOWN)
		return (n);
	for (i = 0; i < n; i++) {
		while (s->state[id] == BLAST_INFLIGHT)
			id++;
		blast_ids[i] = id;
		h = &blast_msgs[i].msg_hdr;
		memset(h, 0, sizeof *h);
		h->msg_iov = &blast_iov[4 * i];
		h->msg_iovlen = (size_t)blast_compose(i, id,
		    &blast_queries[cursor]);
		if (blast_src_count != 0 && !blast_tcp)
			blast_pktinfo(h, i);
		id++;
		if (++cursor == blast_nqueries)
			cursor = 0;
	}
	now = blast_now();
	k = blast_tcp ? blast_tcp_send(s, n) : blast_udp_send(s, n);
	/*
	 * TCP: the batch goes out now, in one send. A connection refused
	 * fails its first send: then nothing of the batch left, and nothing
	 * is counted sent.
	 */
	if (blast_tcp && blast_tcp_flush(s) == -1) {
		failed = 1;
		if (s->conn == BLAST_CONNECTING)
			k = 0;
	}
	s->retry = (k < n) && !failed;
	for (i = 0; i < k; i++) {
		id = blast_ids[i];
		s->slots[id].sent = now;
		s->slots[id].query = blast_cursor;
		s->slots[id].uniq = blast_unique ? blast_uniqs[i] : 0;
		s->state[id] = BLAST_INFLIGHT;
		blast_link(s, id);
		if (++blast_cursor == blast_nqueries)
			blast_cursor = 0;
	}
	s->next_id = (k < n) ? blast_ids[k] : id;
	blast_st.sent += (uint64_t)k;
	if (k > 0 && (iv = blast_ival(now)) != NULL)
		iv->sent += (uint32_t)k;
	if (blast_tcp) {
		s->conn_sent += (uint64_t)k;
		if (failed)
			blast_tcp_close(s, 1, now);
	}
	return (n - k);
}

/* Add one latency to the histogram; its bucket. */
static inline unsigned
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
	return (idx);
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
 * Whether the answer p carries the question of query q (with -U, after
 * the label of number uniq): the same octets, or the same name in another
 * case (a server may echo 0x20 case bits).
 */
static inline int
blast_same_question(const uint8_t *p, size_t len, const struct blast_query *q,
    uint64_t uniq)
{
	const uint8_t	*a = p + 12, *b = blast_wire + q->off + 12;
	uint8_t		 u[1 + BLAST_UNIQ];
	size_t		 i;

	if (blast_unique) {
		if (len < 12U + sizeof u)
			return (0);
		blast_hex(u, uniq);
		for (i = 0; i < sizeof u; i++) {
			if (tolower(a[i]) != u[i])
				return (0);
		}
		a += sizeof u;
		len -= sizeof u;
	}
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
	struct blast_ival	*iv;
	unsigned		 idx;
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
	if ((p[4] != 0 || p[5] != 0) && !blast_same_question(p, len, q,
	    sl->uniq)) {
		blast_st.mismatched++;
		return;
	}
	s->state[id] = BLAST_FREE;
	blast_unlink(s, id);
	blast_st.answered++;
	blast_st.rcodes[p[3] & 0x0f]++;
	if (p[2] & 0x02)
		blast_st.truncated++;
	idx = blast_hist_add(now > sl->sent ? now - sl->sent : 0);
	if ((iv = blast_ival(sl->sent)) != NULL) {
		iv->answered++;
		iv->hist[idx >> IVAL_SHIFT]++;
	}
}

/* Whether an answer came from the target (-R, -S: the sockets are open). */
static inline int
blast_from_target(const struct sockaddr_storage *ss)
{
	const struct sockaddr_in	*a = (const struct sockaddr_in *)ss;
	const struct sockaddr_in	*t = (const struct sockaddr_in *)&blast_ss;

	return (a->sin_family == AF_INET && a->sin_port == t->sin_port &&
	    a->sin_addr.s_addr == t->sin_addr.s_addr);
}

/*
 * Open loop: when the kernel took answer h in (SO_TIMESTAMPNS), in ns
 * since the start, from now and real, CLOCK_REALTIME read beside it; now
 * when there is no stamp. The stamp is wall-clock time, so only its
 * distance from real counts: a step of the wall clock matters only if it
 * falls in those microseconds, and blast_answer takes a time before the
 * send as the send's.
 */
static inline uint64_t
blast_stamp(struct msghdr *h, uint64_t now, const struct timespec *real)
{
	struct cmsghdr	*c;
	struct timespec	 ts;
	int64_t		 ago;

	for (c = CMSG_FIRSTHDR(h); c != NULL; c = CMSG_NXTHDR(h, c)) {
		if (c->cmsg_level != SOL_SOCKET ||
		    c->cmsg_type != SCM_TIMESTAMPNS)
			continue;
		memcpy(&ts, CMSG_DATA(c), sizeof ts);
		ago = (int64_t)(real->tv_sec - ts.tv_sec) * 1000000000LL +
		    (real->tv_nsec - ts.tv_nsec);
		if (ago > 0 && (uint64_t)ago < now)
			return (now - (uint64_t)ago);
		break;
	}
	return (now);
}

/*
 * Read what UDP socket s has; an ICMP error (nothing listens) is counted.
 * With -S an answer from anyone but the target counts as mismatched.
 */
static void
blast_udp_recv(struct blast_sock *s)
{
	struct msghdr	*h;
	struct timespec	 real;
	uint64_t	 now;
	int		 i, k;

	for (;;) {
		for (i = 0; i < blast_batch; i++) {
			blast_iov[i].iov_base = blast_rbuf +
			    (size_t)i * BLAST_RECV_SIZE;
			blast_iov[i].iov_len = BLAST_RECV_SIZE;
			h = &blast_msgs[i].msg_hdr;
			memset(h, 0, sizeof *h);
			h->msg_iov = &blast_iov[i];
			h->msg_iovlen = 1;
			if (blast_src_count != 0) {
				h->msg_name = &blast_from[i];
				h->msg_namelen = sizeof blast_from[i];
			}
			if (blast_rate > 0) {
				h->msg_control = &blast_stamps[i];
				h->msg_controllen = sizeof blast_stamps[i];
			}
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
		if (blast_rate > 0)
			clock_gettime(CLOCK_REALTIME, &real);
		now = blast_now();
		for (i = 0; i < k; i++) {
			if (blast_src_count != 0 &&
			    !blast_from_target(&blast_from[i])) {
				blast_st.mismatched++;
				continue;
			}
			blast_answer(s, blast_rbuf + (size_t)i *
			    BLAST_RECV_SIZE, blast_msgs[i].msg_len,
			    blast_rate > 0 ? blast_stamp(&blast_msgs[i].msg_hdr,
			    now, &real) : now);
		}
		if (k < blast_batch)
			return;
	}
}

/*
 * Read what TCP socket s has and match every whole answer in it. 0, or -1
 * when the connection was closed by the server or failed.
 *
 * A read that fills less than the room it was given has emptied the
 * socket (TCP returns short only with its queue empty): one read an
 * event, not a second one to be told EAGAIN, unless the server has hung
 * up (events), when the read that says so follows.
 */
static int
blast_tcp_read(struct blast_sock *s, uint32_t events)
{
	ssize_t		r;
	size_t		pos, flen, room;
	uint64_t	now;
	int		hup = (events & (POLLRDHUP | POLLHUP | POLLERR)) != 0;

	for (;;) {
		room = BLAST_TCP_IN - s->inlen;
		r = read(s->fd, s->in + s->inlen, room);
		if (r == 0)
			return (-1);
		if (r == -1) {
			if (errno == EINTR)
				continue;
			return (errno == EAGAIN ? 0 : -1);
		}
		s->inlen += (size_t)r;
		now = blast_now();
		for (pos = 0; s->inlen - pos >= 2; pos += 2 + flen) {
			flen = (size_t)s->in[pos] << 8 | s->in[pos + 1];
			if (s->inlen - pos - 2 < flen)
				break;
			blast_answer(s, s->in + pos + 2, flen, now);
		}
		memmove(s->in, s->in + pos, s->inlen - pos);
		s->inlen -= pos;
		if ((size_t)r < room && !hup)
			return (0);
	}
}

/*
 * An event on socket i (ppoll's revents). TCP: a
 * connect that finished (or failed), room to send what is buffered,
 * answers, or the end of the connection (an error only if queries were
 * still in flight on it).
 */
static void
blast_event(uint32_t i, uint32_t events)
{
	struct blast_sock	*s = &blast_socks[i];

	if (!blast_tcp) {
		blast_udp_recv(s);
		return;
	}
	if (s->conn == BLAST_DOWN)
		return;
	/*
	 * Still connecting (no send has been taken yet): a failed connect
	 * is an error (or a hang-up), a writable socket one that is up.
	 */
	if (s->conn == BLAST_CONNECTING) {
		if (events & (POLLERR | POLLHUP)) {
			blast_tcp_close(s, 1, blast_now());
			return;
		}
		if ((events & POLLOUT) == 0)
			return;
		blast_tcp_up(s);
	}
	if ((events & POLLOUT) && s->outoff < s->outlen &&
	    blast_tcp_flush(s) == -1) {
		blast_tcp_close(s, 1, blast_now());
		return;
	}
	if ((events & (POLLIN | POLLRDHUP | POLLHUP | POLLERR)) &&
	    blast_tcp_read(s, events) == -1)
		blast_tcp_close(s, s->inflight > 0, blast_now());
}

/*
 * TCP: close the connections that have sent their -m share and have all
 * its answers, and connect those that are down and due (while sending).
 * Returns when the next one is due, or UINT64_MAX.
 */
static uint64_t
blast_tcp_tend(uint64_t now, int sending)
{
	struct blast_sock	*s;
	uint64_t		 wake = UINT64_MAX;
	int			 i;

	for (i = 0; i < blast_nsocks; i++) {
		s = &blast_socks[i];
		if (s->conn == BLAST_UP && blast_per_conn != 0 &&
		    s->conn_sent >= blast_per_conn && s->inflight == 0)
			blast_tcp_close(s, 0, now);
		if (s->conn != BLAST_DOWN || !sending)
			continue;
		if (s->reconnect_at <= now)
			blast_tcp_connect((uint32_t)i, now);
		else if (s->reconnect_at < wake)
			wake = s->reconnect_at;
	}
	return (wake);
}

/* How many more queries socket s may have in flight now. */
static inline uint64_t
blast_room(const struct blast_sock *s)
{
	uint64_t	room;

	if (s->conn == BLAST_DOWN)
		return (0);
	room = (uint64_t)blast_window - s->inflight;
	if (blast_per_conn != 0 && room > blast_per_conn - s->conn_sent)
		room = blast_per_conn - s->conn_sent;
	return (room);
}

/* Expire what has waited TIMEOUT on socket s; next deadline or 0. */
static uint64_t
blast_expire(struct blast_sock *s, uint64_t now)
{
	struct blast_ival	*iv;
	uint16_t		 id;

	while (s->inflight > 0) {
		id = s->oldest;
		if (s->slots[id].sent + blast_timeout > now)
			return (s->slots[id].sent + blast_timeout);
		s->state[id] = BLAST_EXPIRED;
		blast_unlink(s, id);
		blast_st.lost++;
		if ((iv = blast_ival(s->slots[id].sent)) != NULL)
			iv->lost++;
	}
	return (0);
}

/* Open-loop pacing. */
struct blast_pace {
	uint64_t	issued;		/* sent or skipped as behind */
	uint64_t	step;		/* queries a step (blast_pace_step) */
	uint64_t	backlog;	/* most queries due at once */
	int		rr;		/* next socket, round-robin */
};

/*
 * Open loop: the queries of one step at rate a second, for -P US/N: the
 * rate's share of US microseconds, raised to N queries if fewer, but not
 * beyond the share of 1 ms (BLAST_PACE_CAP_NS), so that at a low rate a
 * step still comes every millisecond; at least one query.
 */
static uint64_t
blast_pace_step(double rate, uint64_t ns, uint64_t min)
{
	uint64_t	n = (uint64_t)ceil(rate * (double)ns / 1e9), cap;

	if (n < min) {
		/* Up to min, or the share of 1 ms if less; never down. */
		cap = (uint64_t)floor(rate * BLAST_PACE_CAP_NS / 1e9);
		if (cap > min)
			cap = min;
		if (cap > n)
			n = cap;
	}
	return (n > 0 ? n : 1);
}

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
		room = blast_room(s);
		if (blast_count != 0 && room > blast_count - blast_st.sent)
			room = blast_count - blast_st.sent;
		while (room > 0) {
			n = room > (uint64_t)blast_batch ? blast_batch :
			    (int)room;
			if (blast_send((uint32_t)i, n) != 0)
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
 * last: the end of -l, so what is due goes even if it is not a whole
 * step, and the count sent is the rate times the seconds. Returns when
 * the next step is due.
 */
static uint64_t
blast_open_loop(struct blast_pace *p, uint64_t now, int last)
{
	struct blast_sock	*s;
	uint64_t		 want, due, room;
	int			 i, n, si, progress = 1;

	want = (uint64_t)((double)now * blast_rate / 1e9) + 1;
	if (blast_count != 0 && want > blast_count)
		want = blast_count;
	due = want > p->issued ? want - p->issued : 0;
	/*
	 * Whole steps only (but the last one of -n): an early wake-up sends
	 * nothing, as a batch of a query or two costs a sendmmsg and, when
	 * the server sleeps, its wake-up, as much as a whole step does.
	 */
	if (due < p->step && !last &&
	    (blast_count == 0 || want < blast_count))
		return ((uint64_t)((double)(p->issued + p->step) * 1e9 /
		    blast_rate));
	if (due > p->backlog) {
		blast_st.behind += due - p->backlog;
		p->issued += due - p->backlog;
		due = p->backlog;
	}
	while (due > 0 && progress) {
		progress = 0;
		for (i = 0; i < blast_nsocks && due > 0; i++) {
			si = p->rr;
			s = &blast_socks[si];
			p->rr = (p->rr + 1) % blast_nsocks;
			room = blast_room(s);
			if (room == 0)
				continue;
			n = (int)(due < room ? due : room);
			if (n > blast_batch)
				n = blast_batch;
			n -= blast_send((uint32_t)si, n);
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

/* A socket ppoll found ready, and what it found (revents). */
struct blast_ready {
	uint32_t	sock;
	uint32_t	events;
};

/*
 * The sockets that have something to read, room asked for (TCP) or an
 * error, in evs; waits up to ts when none has. poll, not epoll: a poll
 * that does not wait puts nobody on the sockets' wait queues, and one
 * that waits only while it does, so while blast works the kernel finds
 * nobody to wake when a query it sent leaves its send buffer or an answer
 * comes. Under epoll every socket always has a waiter, and each datagram,
 * either way, took the wait queue's lock for nothing (5 % of blast's
 * time, and some of the server's: it queues the answers). TCP: the same,
 * and no epoll_ctl for each new connection.
 */
static int
blast_wait(struct blast_ready *evs, const struct timespec *ts, int paced)
{
	static const struct timespec	zero;
	int				i, k = 0, n;

	/*
	 * Paced (open loop, sending): sleep to the next step, then read
	 * what came meanwhile, its times stamped by the kernel. Woken by
	 * every answer, blast ran its loop for a few answers at a time and
	 * sent a query or two a turn, each turn a timer set and cancelled
	 * in ppoll: at 80 % of the saturated rate it used its whole core.
	 */
	if (paced && (ts->tv_sec != 0 || ts->tv_nsec != 0)) {
		if (nanosleep(ts, NULL) == -1 && errno != EINTR)
			err(1, "nanosleep");
		ts = &zero;
	}
	n = ppoll(blast_pfd, (nfds_t)blast_nsocks, &zero, NULL);
	if (n == 0 && (ts->tv_sec != 0 || ts->tv_nsec != 0))
		n = ppoll(blast_pfd, (nfds_t)blast_nsocks, ts, NULL);
	for (i = 0; i < blast_nsocks && k < n; i++) {
		if (blast_pfd[i].revents == 0)
			continue;
		evs[k].sock = (uint32_t)i;
		evs[k++].events = (uint32_t)blast_pfd[i].revents;
	}
	return (n > 0 ? k : n);
}

/*
 * Run the load: expire, send, wait for answers or the next deadline, read
 * them; until sending has stopped and nothing is in flight. Returns how
 * long the run lasted, in ns.
 */
static uint64_t
blast_run(void)
{
	struct blast_ready	*evs;
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
		pace.step = blast_pace_step(blast_rate, blast_pace_ns,
		    blast_pace_min);
		pace.backlog = (uint64_t)ceil(blast_rate * BLAST_BACKLOG_NS /
		    1e9);
		if (pace.backlog < 8)
			pace.backlog = 8;
		if (pace.backlog < pace.step)
			pace.backlog = pace.step;
		blast_step = pace.step;
	}

	for (;;) {
		now = blast_now();
		if (sending && (blast_stop || now >= stop_at ||
		    (blast_count != 0 &&
		    blast_st.sent + blast_st.behind >= blast_count))) {
			/*
			 * The end of -l: the queries due before it that
			 * did not make a whole step go now.
			 */
			if (blast_rate > 0 && !blast_stop && now >= stop_at)
				(void)blast_open_loop(&pace, stop_at - 1, 1);
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

		if (blast_tcp) {
			d = blast_tcp_tend(now, sending);
			if (d < wake)
				wake = d;
		}
		if (sending) {
			d = blast_rate > 0 ? blast_open_loop(&pace, now, 0) :
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
		/*
		 * TCP is not paced: read() brings no kernel stamp, so an
		 * answer's time is when it is read, and a sleep to the step
		 * would add up to a step to every latency.
		 */
		n = blast_wait(evs, &ts, sending && blast_rate > 0 &&
		    !blast_tcp);
		if (n == -1) {
			if (errno == EINTR)
				continue;
			err(1, "wait");
		}
		for (i = 0; i < n; i++) {
			before = blast_st.answered;
			blast_event(evs[i].sock, evs[i].events);
			if (blast_st.answered != before)
				last = blast_now();
		}
	}
	free(evs);
	blast_sending = stopped;
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

/*
 * The rate blast sent at while sending, per second: in open loop the
 * rate asked for when blast kept up with it, less when it could not (a
 * full window, or blast held up for more than the backlog).
 */
static double
blast_sent_rate(void)
{
	return (blast_sending > 0 ? (double)blast_st.sent * 1e9 /
	    (double)blast_sending : 0);
}

/* Print the human summary to f. */
static void
blast_summary(FILE *f, double secs)
{
	int	i, any = 0;
	double	qps = secs > 0 ? (double)blast_st.answered / secs : 0;

	fprintf(f, "blast: %s port %d, %d %s, %s, %u queries in the "
	    "file%s\n", blast_addr, blast_port, blast_nsocks, blast_tcp ?
	    "TCP connections" : "UDP sockets", blast_rate > 0 ?
	    "open loop" : "closed loop", blast_nqueries, blast_unique ?
	    ", unique names" : "");
	if (blast_src_count != 0)
		fprintf(f, "  sources      %s (%" PRIu32 " addresses)\n",
		    blast_sources, blast_src_count);
	if (blast_rate > 0) {
		fprintf(f, "  rate         %.0f/s asked, %.0f/s sent (%.1f %%), "
		    "at most %d in flight per socket\n", blast_rate,
		    blast_sent_rate(), 100 * blast_sent_rate() / blast_rate,
		    blast_window);
		fprintf(f, "  steps        %" PRIu64 " queries every %.1f us "
		    "(-P %g/%" PRIu64 ")\n", blast_step, (double)blast_step *
		    1e6 / blast_rate, (double)blast_pace_ns / 1e3,
		    blast_pace_min);
	} else
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
	if (blast_tcp)
		fprintf(f, "  connections  %" PRIu64 "  (%" PRIu64 " errors: "
		    "refused, reset or closed with queries in flight)\n",
		    blast_st.connections, blast_st.conn_errors);
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
		{ "connections", (double)blast_st.connections, 1 },
		{ "conn_errors", (double)blast_st.conn_errors, 1 },
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
		{ "sent_qps", blast_sent_rate(), 0 },
		{ "tcp", blast_tcp, 1 },
		{ "sources", blast_src_count, 1 },
		{ "step", (double)blast_step, 1 },
		{ "step_us", blast_rate > 0 ? (double)blast_step * 1e6 /
		    blast_rate : 0, 0 },
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

/*
 * -P US[/N]: a step of the open loop lasts at least US microseconds and
 * carries at least N queries (N 1 when not given).
 */
static void
blast_pace_option(const char *arg)
{
	char	buf[64], *slash;

	if (strlen(arg) >= sizeof buf)
		errx(2, "-P: '%s' is too long", arg);
	strcpy(buf, arg);
	if ((slash = strchr(buf, '/')) != NULL) {
		*slash = '\0';
		blast_pace_min = (uint64_t)blast_number(slash + 1,
		    "-P queries", 1, 4096);
	} else
		blast_pace_min = 1;
	blast_pace_ns = (uint64_t)(blast_number(buf, "-P microseconds", 1,
	    100000) * 1000);
}

/*
 * -i: the intervals to blast_ival_path, up to the last in which a query
 * was sent: a line "# t0 SECONDS" (the start, CLOCK_MONOTONIC), one of
 * column names, then "ms sent answered lost p99_us" an interval. p99 is
 * the middle of the highest fine bucket of the interval's coarse one:
 * 0 with no answer.
 */
static void
blast_ival_write(void)
{
	struct blast_ival	*iv;
	FILE			*f = blast_ival_file;
	uint64_t		 rank, seen;
	size_t			 i, last = 0;
	unsigned		 b;
	double			 p99;

	for (i = 0; i < blast_nivals; i++) {
		if (blast_ivals[i].sent != 0)
			last = i + 1;
	}
	fprintf(f, "# t0 %lld.%09ld\nms sent answered lost p99_us\n",
	    (long long)blast_t0.tv_sec, blast_t0.tv_nsec);
	for (i = 0; i < last; i++) {
		iv = &blast_ivals[i];
		p99 = 0;
		if (iv->answered != 0) {
			rank = (uint64_t)ceil(0.99 * iv->answered);
			for (b = 0, seen = 0; b < IVAL_BUCKETS; b++) {
				seen += iv->hist[b];
				if (seen >= rank)
					break;
			}
			p99 = blast_hist_value((b << IVAL_SHIFT) +
			    (1U << IVAL_SHIFT) - 1) / 1e3;
		}
		fprintf(f, "%zu %" PRIu32 " %" PRIu32 " %" PRIu32 " %.1f\n",
		    i * (BLAST_IVAL_NS / 1000000), iv->sent, iv->answered,
		    iv->lost, p99);
	}
	if (ferror(f) || fclose(f) == EOF)
		err(1, "-i: %s", blast_ival_path);
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
		{ "edns", no_argument, NULL, 'e' },
		{ "json", no_argument, NULL, 'j' },
		{ "kv", no_argument, NULL, 'k' },
		{ "unique", no_argument, NULL, 'U' },
		{ "range", required_argument, NULL, 'R' },
		{ "sources", required_argument, NULL, 'S' },
		{ "tcp", no_argument, NULL, 'T' },
		{ "per-connection", required_argument, NULL, 'm' },
		{ "intervals", required_argument, NULL, 'i' },
		{ "pace", required_argument, NULL, 'P' },
		{ NULL, 0, NULL, 0 }
	};
	int	ch;

	while ((ch = getopt_long(argc, argv, "s:p:d:c:w:Q:l:n:t:b:ejkUR:S:Tm:i:P:",
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
		case 'e':
			blast_edns = 1;
			break;
		case 'j':
		case 'k':
			blast_output = ch;
			break;
		case 'U':
			blast_unique = 1;
			break;
		case 'R':
		case 'S':
			if (blast_srcopt != 0 && blast_srcopt != ch)
				errx(2, "-R and -S: one or the other");
			blast_srcopt = ch;
			blast_sources = optarg;
			break;
		case 'T':
			blast_tcp = 1;
			break;
		case 'm':
			blast_per_conn = (uint64_t)blast_number(optarg, "-m", 1,
			    1e15);
			break;
		case 'i':
			blast_ival_path = optarg;
			break;
		case 'P':
			blast_pace_option(optarg);
			break;
		default:
			blast_usage();
		}
	}
	if (optind != argc || blast_port == -1 || blast_file == NULL)
		blast_usage();
	if (blast_per_conn != 0 && !blast_tcp)
		errx(2, "-m: queries per connection are for TCP (-T)");
	if (blast_seconds < 0 && blast_count == 0)
		blast_seconds = BLAST_DEFAULT_SECONDS;
	if (blast_nsocks == -1)
		blast_nsocks = blast_tcp ? 8 : 4;
	if (blast_window == -1)
		blast_window = blast_rate > 0 ? BLAST_WINDOW_MAX :
		    blast_tcp ? 16 : 32;
}

static void
blast_stop_cb(int sig)
{
	(void)sig;
	blast_stop = 1;
}

/*
 * SIGTERM and SIGINT end the sending; the answers still due are waited
 * for and counted. No SA_RESTART: a wait in ppoll returns at once.
 */
static void
blast_signals(void)
{
	struct sigaction	sa;

	memset(&sa, 0, sizeof sa);
	sa.sa_handler = blast_stop_cb;
	sigemptyset(&sa.sa_mask);
	if (sigaction(SIGTERM, &sa, NULL) == -1 ||
	    sigaction(SIGINT, &sa, NULL) == -1)
		err(1, "sigaction");
}

int
main(int argc, char **argv)
{
	uint64_t	end;
	double		secs;
	size_t		batch;

	blast_signals();	/* first: a stop during the load counts too */
	blast_options(argc, argv);
	blast_load(blast_file);

	batch = (size_t)blast_batch;
	blast_msgs = calloc(batch, sizeof *blast_msgs);
	blast_iov = calloc(4 * batch, sizeof *blast_iov);
	blast_idbuf = calloc(batch, 4);
	blast_ubuf = calloc(batch, 1 + BLAST_UNIQ);
	blast_uniqs = calloc(batch, sizeof *blast_uniqs);
	blast_ctl = calloc(batch, sizeof *blast_ctl);
	blast_from = calloc(batch, sizeof *blast_from);
	blast_ids = calloc(batch, sizeof *blast_ids);
	blast_rbuf = calloc(batch, BLAST_RECV_SIZE);
	blast_stamps = calloc(batch, sizeof *blast_stamps);
	if (blast_msgs == NULL || blast_iov == NULL || blast_idbuf == NULL ||
	    blast_ubuf == NULL || blast_uniqs == NULL || blast_ctl == NULL ||
	    blast_from == NULL || blast_ids == NULL || blast_rbuf == NULL ||
	    blast_stamps == NULL)
		err(1, "calloc");
	/* -U: a random start, so that no two runs share a label. */
	if (getentropy(&blast_uniq_next, sizeof blast_uniq_next) == -1)
		err(1, "getentropy");
	blast_open();
	/*
	 * -i: the file opened now, so that a path that cannot be written
	 * fails before the run; the intervals of the run's length, so that
	 * none is added in it.
	 */
	if (blast_ival_path != NULL &&
	    (blast_ival_file = fopen(blast_ival_path, "w")) == NULL)
		err(2, "-i: %s", blast_ival_path);
	if (blast_seconds > 0)
		(void)blast_ival((uint64_t)((blast_seconds + 1) * 1e9) +
		    blast_timeout);

	/* Sleep to the nanosecond: the open loop's steps are short. */
	(void)prctl(PR_SET_TIMERSLACK, 1UL, 0, 0, 0);

	clock_gettime(CLOCK_MONOTONIC, &blast_t0);
	end = blast_run();
	secs = (double)end / 1e9;
	if (blast_ival_path != NULL)
		blast_ival_write();

	if (blast_output != 0) {
		blast_line(blast_output, secs);
		blast_summary(stderr, secs);
	} else
		blast_summary(stdout, secs);
	return (0);
}
