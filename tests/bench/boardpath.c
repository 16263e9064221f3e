/*
 * boardpath.c: what a query costs with N boards, for callgrind.
 *
 *     make build/boardpath
 *     tests/bench/boardcost            # callgrind at 1, 1,000 and 10,000
 *     build/boardpath N QUERIES [PER_TICK]
 *
 * Loads N boards of four /24s each in 127/8 as make bench's boards mix
 * does (network j is 127.(j >> 8).(j & 255).0/24 and belongs to board
 * j mod N; one board is 127.0.0.0/8), each blocking one list with safe
 * search, and statistics on (stats: dir, an interval of a day, so that
 * no interval ends on its own). Then it answers QUERIES queries in
 * batches of 64 in the steps of worker_udp_answer() (query_batch_begin,
 * query_batch_prefetch_net and query_batch_prefetch for the whole
 * batch, then query_prepare_batch() two datagrams ahead (the board the
 * batch's pass found), query_prefetch() one ahead and
 * query_answer_prepared(), query_batch_end), 9 in 10 cache
 * hits and 1 in 10 blocked (100 names, each a site of its own, so that
 * the fold adds to the boards' site tables as the daemon's does in the
 * boards mix), each from another address scattered over
 * the networks of 10,000 boards (with
 * N > 1 over N's own networks, so that every query has a board), and
 * calls stats_tick() after every PER_TICK queries (default 25,000) with
 * the clock one second on, as main does once a second: the fold of the
 * statistics. Two ticks' queries before those are not measured (the
 * interval's tables are made, the sets of clients grow). At the end one stats_flush() closes the interval, as the
 * end of one does (its records written); the figure per query is that
 * close spread over the queries of 300 s (the default interval) at
 * PER_TICK a second.
 *
 * The queries run in bp_batch(), the ticks in bp_tick() and the close in
 * bp_close(), so that callgrind --toggle-collect counts them apart and
 * nothing of the setup; tests/bench/boardcost does that and prints
 * instructions and simulated cache misses per query. Addresses and names
 * come from a fixed seed; the keys of the statistics are random (as in
 * service), so the counts vary by a few instructions from run to run.
 */
#include <sys/socket.h>
#include <sys/stat.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <err.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>
#include <ldns/ldns.h>

#include "cache.h"
#include "conf.h"
#include "inflight.h"
#include "policy.h"
#include "query.h"
#include "snapshot.h"
#include "stats.h"
#include "wire.h"

#include "qbench.h"

#define BP_BATCH	64	/* datagrams a worker reads at once */
#define BP_AHEAD	2	/* WORKER_AHEAD of worker.c */
#define BP_NAMES	1000	/* names asked: 900 cached, 100 blocked */
#define BP_INTERVAL	300	/* seconds of an interval, the default */
#define BP_SOURCES	10000	/* boards whose networks one board's
				   queries come from, as in make bench */

/* CPU time of the queries and of the ticks, in ns. */
static uint64_t	ns_batch, ns_tick, ns_close, ns_first, ns_next;

/* This thread's CPU time in ns. */
static uint64_t
bp_cpu(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return ((uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec);
}

/* The query of each name, parsed once. */
static uint8_t	pkts[BP_NAMES][64];
static size_t	lens[BP_NAMES];

/* The board files of n boards, as make bench's board_dir() writes. */
static void
boards(unsigned n)
{
	char		 rel[64], *text;
	size_t		 cap = 64 + 24 * 4 * (size_t)(n == 1 ? 1 : 4);
	unsigned	 b, j;
	int		 off;

	if ((text = malloc(cap)) == NULL)
		err(1, "malloc");
	for (b = 0; b < n; b++) {
		off = snprintf(text, cap, "name: Bestuur %05u\nnetworks: [ ",
		    b);
		if (n == 1)
			off += snprintf(text + off, cap - off, "127.0.0.0/8");
		for (j = b; n > 1 && j < 4 * n; j += n)
			off += snprintf(text + off, cap - off,
			    "%s127.%u.%u.0/24", j == b ? "" : ", ", j >> 8,
			    j & 255);
		snprintf(text + off, cap - off,
		    " ]\nblock: [ ads ]\nsafe-search: true\n");
		snprintf(rel, sizeof rel, "boards/b%05u.yaml", b);
		qbench_put(rel, text);
	}
	free(text);
}

/* The configuration, compiled and published, with the statistics' map. */
static struct stats *
load(unsigned n)
{
	struct conf	*conf;
	struct snapshot	*snap;
	struct stats	*st;
	char		 path[256], *cause = NULL;
	FILE		*f;
	unsigned	 i;

	qbench_mkdir("boardpath");
	qbench_put("tables/safesearch.txt", "www.google.nl forcesafesearch.google.com\n");
	qbench_put("tables/canaries.txt", "use-application-dns.net\n");
	snprintf(path, sizeof path, "%s/lists/ads.txt", qbench_dir);
	if ((f = fopen(path, "w")) == NULL)
		err(1, "%s", path);
	/*
	 * Each blocked name a site of its own, as the boards mix's are (its
	 * 1,000 blocked names, half of them the real lists', have hundreds
	 * of registrable domains): names under one domain ("b1.ads.test",
	 * "b2.ads.test") would all be the one site "ads.test", and at many
	 * boards every board's site table would hold that one entry, where
	 * the daemon's take a new entry for nearly every blocked name.
	 */
	for (i = 0; i < BP_NAMES / 10; i++)
		fprintf(f, "ads%u.test\n", i);
	if (fclose(f) != 0)
		err(1, "%s", path);
	qbench_put("veiligd.yaml", "upstreams: [ \"127.0.0.1:9\" ]\n"
	    "boards: boards/*.yaml\n"
	    "board-limits: { widest-ipv4: 8 }\n"
	    "filter: { tables: tables }\n"
	    "stats: { dir: stats, interval: 1d }\n"
	    "lists:\n"
	    "  ads: { file: lists/ads.txt, format: domains }\n");
	boards(n);
	snprintf(path, sizeof path, "%s/veiligd.yaml", qbench_dir);
	if ((conf = conf_load(path, qbench_fatal, NULL)) == NULL ||
	    (snap = snapshot_new(conf, NULL, qbench_fatal, NULL)) == NULL)
		errx(1, "cannot load %s", path);
	if ((st = stats_new(snap->conf, 1, &cause)) == NULL)
		errx(1, "stats: %s", cause);
	if ((snap->stats = stats_map_new(st, snap->conf, snap->policy)) ==
	    NULL)
		errx(1, "out of memory");
	snapshot_free(snapshot_swap(snap));
	return (st);
}

/* The query for name with EDNS into pkts[i]. */
static void
mkquery(unsigned i, const char *name)
{
	ldns_pkt	*p;
	uint8_t		*wire = NULL;
	size_t		 len = 0;

	if (ldns_pkt_query_new_frm_str(&p, name, LDNS_RR_TYPE_A,
	    LDNS_RR_CLASS_IN, LDNS_RD) != LDNS_STATUS_OK)
		errx(1, "ldns");
	ldns_pkt_set_edns_udp_size(p, 1232);
	if (ldns_pkt2wire(&wire, p, &len) != LDNS_STATUS_OK ||
	    len > sizeof pkts[i])
		errx(1, "ldns");
	memcpy(pkts[i], wire, len);
	lens[i] = len;
	free(wire);
	ldns_pkt_free(p);
}

/* An answer of one A record for the query of name i, into the cache. */
static void
fill(struct cache *cache, unsigned i, const char *name)
{
	const struct snapshot	*snap;
	struct wire_query	 wq;
	struct wire_scan	 sc;
	ldns_pkt		*p;
	ldns_rr			*rr;
	char			 text[128];
	uint8_t			*wire = NULL;
	size_t			 len = 0;

	if (wire_parse_query(pkts[i], lens[i], &wq) != WIRE_OK)
		errx(1, "query %s", name);
	snprintf(text, sizeof text, "%s 3600 IN A 192.0.2.%u", name,
	    1 + i % 250);
	if (ldns_pkt_query_new_frm_str(&p, name, LDNS_RR_TYPE_A,
	    LDNS_RR_CLASS_IN, LDNS_RD) != LDNS_STATUS_OK ||
	    ldns_rr_new_frm_str(&rr, text, 0, NULL, NULL) != LDNS_STATUS_OK)
		errx(1, "ldns");
	ldns_pkt_set_qr(p, 1);
	ldns_pkt_set_ra(p, 1);
	ldns_pkt_push_rr(p, LDNS_SECTION_ANSWER, rr);
	if (ldns_pkt2wire(&wire, p, &len) != LDNS_STATUS_OK ||
	    wire_scan(wire, len, &sc) != 0)
		errx(1, "answer");
	snapshot_read_begin();
	snap = snapshot_current();
	cache_insert(cache, &wq, wire, &sc, cache_now(),
	    policy_inspect(snap->policy, wire, sc.len),
	    policy_generation(snap->policy));
	snapshot_read_end();
	free(wire);
	ldns_pkt_free(p);
}

/* The next number of a fixed sequence (xorshift64*). */
static uint64_t
bp_random(uint64_t *s)
{
	*s ^= *s >> 12;
	*s ^= *s << 25;
	*s ^= *s >> 27;
	return (*s * 0x2545f4914f6cdd1dULL);
}

/* The addresses and names of a batch, out of nets networks. */
static void
bp_sources(struct sockaddr_in *from, unsigned *name, uint64_t *seed,
    unsigned nets)
{
	uint64_t	r;
	unsigned	i;

	for (i = 0; i < BP_BATCH; i++) {
		r = bp_random(seed);
		memset(&from[i], 0, sizeof from[i]);
		from[i].sin_family = AF_INET;
		from[i].sin_addr.s_addr = htonl(0x7f000000U |
		    (uint32_t)(r % nets) << 8 | (uint32_t)(r >> 56));
		name[i] = (unsigned)((r >> 32) % BP_NAMES);
	}
}

/*
 * Query name from address from, the batch's datagram i, into q, as
 * worker_udp_prepare() does.
 */
static void
bp_prepare(struct query_ctx *qc, const struct snapshot *snap,
    struct query *q, const struct sockaddr_in *from, unsigned name,
    unsigned i)
{
	memcpy(&q->from, from, sizeof *from);
	q->fromlen = sizeof *from;
	query_prepare_batch(qc, snap, q, pkts[name], lens[name], i);
}

/*
 * One batch of n queries from the addresses from[], names name[], as
 * worker_udp_answer() answers a batch: the boards of the batch first,
 * then a ring of BP_AHEAD + 1 queries, datagram i + BP_AHEAD prepared
 * (query_prepare_batch(): parsed, board taken from the batch's pass,
 * hashed, the memo's and cache's lines asked for), i + 1 prefetched (query_prefetch(): the memo asked,
 * or the lists' places, for a name the cache lacks) and i answered, so
 * that the memo is written and read as in the daemon.
 */
static long
bp_answer(struct query_ctx *qc, const struct sockaddr_in *from,
    const unsigned *name, unsigned n, uint8_t *out, size_t cap)
{
	const struct snapshot	*snap;
	struct query		 qs[BP_AHEAD + 1], *q;
	unsigned		 i, j;
	long			 sent = 0;

	memset(qs, 0, sizeof qs);
	clock_gettime(CLOCK_MONOTONIC, &qs[0].received);
	for (j = 0; j <= BP_AHEAD; j++) {
		qs[j].tp = &qbench_tp;
		qs[j].received = qs[0].received;
	}
	snapshot_read_begin();
	snap = snapshot_current();
	query_batch_begin(qc, &qs[0].received);
	for (i = 0; i < n; i++)
		query_batch_prefetch_net(snap,
		    (const struct sockaddr *)&from[i]);
	for (i = 0; i < n; i++)
		query_batch_prefetch(qc, snap,
		    (const struct sockaddr *)&from[i]);
	for (i = 0; i < n && i < BP_AHEAD; i++)
		bp_prepare(qc, snap, &qs[i], &from[i], name[i], i);
	if (n > 0)
		query_prefetch(qc, snap, &qs[0]);
	for (i = 0; i < n; i++) {
		if (i + BP_AHEAD < n)
			bp_prepare(qc, snap, &qs[(i + BP_AHEAD) %
			    (BP_AHEAD + 1)], &from[i + BP_AHEAD],
			    name[i + BP_AHEAD], i + BP_AHEAD);
		if (i + 1 < n)
			query_prefetch(qc, snap, &qs[(i + 1) % (BP_AHEAD + 1)]);
		q = &qs[i % (BP_AHEAD + 1)];
		q->out = out;
		q->cap = cap;
		if (query_answer_prepared(qc, snap, q) != QUERY_SEND)
			errx(1, "a query was not answered at once");
		sent += (long)q->outlen;
	}
	query_batch_end(qc);
	snapshot_read_end();
	return (sent);
}

/*
 * The same, measured (--toggle-collect=bp_batch), and in the warm-up
 * (bp_warm), which callgrind does not count: neither inlined nor
 * merged with the other (noipa), so that each has its name.
 */
static __attribute__((noipa)) long
bp_batch(struct query_ctx *qc, const struct sockaddr_in *from,
    const unsigned *name, unsigned n, uint8_t *out, size_t cap)
{
	return (bp_answer(qc, from, name, n, out, cap));
}

static __attribute__((noipa)) long
bp_warm(struct query_ctx *qc, const struct sockaddr_in *from,
    const unsigned *name, unsigned n, uint8_t *out, size_t cap)
{
	return (bp_answer(qc, from, name, n, out, cap));
}

/* Main's tick (--toggle-collect=bp_tick); in the warm-up bp_warm_tick. */
static __attribute__((noipa)) void
bp_tick(struct stats *st, time_t now)
{
	stats_tick(st, now);
}

static __attribute__((noipa)) void
bp_warm_tick(struct stats *st, time_t now)
{
	stats_tick(st, now);
}

/* The end of an interval (--toggle-collect=bp_close). */
static __attribute__((noipa)) void
bp_close(struct stats *st, time_t now)
{
	stats_flush(st, now, 0);
}

int
main(int argc, char **argv)
{
	struct event_base	*base;
	struct cache		*cache;
	struct inflight		*inflight;
	struct query_ctx	*qc;
	struct stats		*st;
	struct sockaddr_in	 from[BP_BATCH];
	unsigned		 name[BP_BATCH], n, i, nets;
	uint8_t			 out[4096];
	char			 text[64];
	long			 queries, per_tick, warm, done, next;
	long			 sent = 0;
	uint64_t		 seed = 0x9e3779b97f4a7c15ULL, t0, t1;
	time_t			 now;

	if (argc < 3 || argc > 4 ||
	    (n = (unsigned)strtoul(argv[1], NULL, 10)) < 1 || n > 16384 ||
	    (queries = strtol(argv[2], NULL, 10)) <= 0 ||
	    (per_tick = argc == 4 ? strtol(argv[3], NULL, 10) : 25000) <= 0)
		errx(2, "usage: boardpath BOARDS(1-16384) QUERIES [PER_TICK]");
	snapshot_thread_init();
	st = load(n);
	if ((base = event_base_new()) == NULL ||
	    (cache = cache_new(1 << 24, 0, 86400, 3600)) == NULL ||
	    (inflight = inflight_new()) == NULL ||
	    (qc = query_ctx_new(base, cache, inflight, NULL, 1, 64)) == NULL)
		errx(1, "out of memory");
	query_ctx_set_stats(qc, stats_worker(st, 0));
	for (i = 0; i < BP_NAMES; i++) {
		if (i % 10 == 9)
			snprintf(text, sizeof text, "www.ads%u.test.", i / 10);
		else
			snprintf(text, sizeof text, "n%u.bench.test.", i);
		mkquery(i, text);
		if (i % 10 != 9)
			fill(cache, i, text);
	}

	/* Sources over every board's networks, scattered. */
	nets = 4 * (n == 1 ? BP_SOURCES : n);
	now = time(NULL);
	/*
	 * Two ticks' queries first, not measured: the first tick makes the
	 * interval's tables (once an interval, not a second), and the two
	 * sets of clients (the workers write one while main folds the
	 * other) grow to their size.
	 */
	warm = 2 * per_tick;
	next = per_tick;
	for (done = 0; done < queries + warm; done += BP_BATCH) {
		bp_sources(from, name, &seed, nets);
		if (done < warm) {
			bp_warm(qc, from, name, BP_BATCH, out, sizeof out);
			if (done + BP_BATCH >= next) {
				t0 = bp_cpu();
				bp_warm_tick(st, ++now);
				if (next == per_tick)
					ns_first = bp_cpu() - t0;
				next += per_tick;
			}
			continue;
		}
		t0 = bp_cpu();
		sent += bp_batch(qc, from, name, BP_BATCH, out, sizeof out);
		t1 = bp_cpu();
		ns_batch += t1 - t0;
		if (done + BP_BATCH >= next) {
			bp_tick(st, ++now);
			ns_tick += bp_cpu() - t1;
			next += per_tick;
		}
	}
	done -= warm;
	t0 = bp_cpu();
	bp_close(st, ++now);
	ns_close = bp_cpu() - t0;
	/* The first tick of the next interval, not counted by callgrind. */
	for (i = 0; i < per_tick; i += BP_BATCH) {
		bp_sources(from, name, &seed, nets);
		bp_warm(qc, from, name, BP_BATCH, out, sizeof out);
	}
	t0 = bp_cpu();
	bp_warm_tick(st, ++now);
	ns_next = bp_cpu() - t0;
	/* CPU time: a rough figure beside callgrind's counts. */
	printf("boardpath: %u boards, %ld queries, %ld octets, a tick every "
	    "%ld; CPU per query: %.0f ns answering, %.0f ns ticks; an "
	    "interval's first tick %.1f ms, the next's %.1f ms; close %.1f ms "
	    "(%.1f ns a query over %d s)\n", n, done, sent, per_tick,
	    (double)ns_batch / (double)done, (double)ns_tick / (double)done,
	    (double)ns_first / 1e6, (double)ns_next / 1e6,
	    (double)ns_close / 1e6, (double)ns_close / (double)per_tick /
	    BP_INTERVAL, BP_INTERVAL);

	query_ctx_free(qc);
	inflight_free(inflight);
	cache_free(cache);
	event_base_free(base);
	snapshot_free(snapshot_swap(NULL));
	stats_free(st);
	qbench_rmdir();
	snapshot_thread_done();
	return (0);
}
