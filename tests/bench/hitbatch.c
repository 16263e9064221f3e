/*
 * hitbatch.c: cache hits answered one by one, and in the UDP worker's
 * steps, in CPU nanoseconds per hit.
 *
 *     make build/hitbatch
 *     build/hitbatch [NAMES [ROUNDS [BLOCKED]]]
 *
 * fills a cache of 256 MiB (as make bench's veiligd) with NAMES names
 * (10,000, as make bench's hits), each with one A record, then answers
 * every name once in a random order, in batches of 64 as recvmmsg brings
 * them, ROUNDS times (7) in each of two ways, alternating: "inline",
 * query_answer() on one query after the other (main before the batch
 * steps), and "ahead", the steps of worker_udp_answer() (query_prepare()
 * two datagrams ahead, query_prefetch() one ahead, then
 * query_answer_prepared()). The policy is hitpath.c's school board, which
 * also blocks a list of BLOCKED synthetic names (1,000,000), so that the
 * lists' table is as large as make bench's. The names' cache entries are
 * scattered over the heap as in service, so a lookup's shard, bucket and
 * entry are memory misses unless fetched ahead: this measures what
 * instruction counts (build/hitpath) cannot.
 * With HITBATCH_ASK=blocked in the environment it asks NAMES names of
 * the large list instead (the hits' names still cached, as in service):
 * blocked answers, whose names the cache does not have.
 * It prints each round, the medians and ahead/inline per round. Run it
 * alone (flock /work/bench.lock on a shared machine).
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

#include "cache.h"
#include "conf.h"
#include "inflight.h"
#include "policy.h"
#include "query.h"
#include "snapshot.h"
#include "wire.h"

#include "qbench.h"

#define BATCH	64	/* datagrams per recvmmsg, as worker.c */
#define AHEAD	2	/* WORKER_AHEAD of worker.c */
#define PKT	64	/* room for one query */

/*
 * A list of n synthetic names (at least one), blocked by the board too, so that the
 * lists' table is as large as in service (make bench blocks 1.4
 * million) and its lookups are memory misses as there.
 */
static void
biglist(size_t n)
{
	char	 path[256];
	FILE	*f;
	size_t	 i;

	snprintf(path, sizeof path, "%s/lists/big.txt", qbench_dir);
	if ((f = fopen(path, "w")) == NULL)
		err(1, "%s", path);
	/* At least one: an empty list is an error of the configuration. */
	for (i = 0; i < n || i == 0; i++)
		fprintf(f, "s%zu.blocked.example\n", i);
	if (fclose(f) != 0)
		err(1, "%s", path);
}

/* hitpath.c's configuration and the large list, compiled and published. */
static void
load(size_t nblocked)
{
	struct conf	*conf;
	struct snapshot	*snap;
	char		 path[256];

	qbench_mkdir("hitbatch");
	qbench_put("lists/ads.txt", "ads.example.nl\ntracker.example\n");
	biglist(nblocked);
	qbench_put("lists/badip.txt", "192.0.2.66\n");
	qbench_put("tables/safesearch.txt", "www.google.nl forcesafesearch.google.com\n");
	qbench_put("tables/canaries.txt", "use-application-dns.net\n");
	qbench_put("veiligd.yaml", "upstreams: [ \"127.0.0.1:9\" ]\n"
	    "boards: boards/*.yaml\n"
	    "filter: { tables: tables }\n"
	    "lists:\n"
	    "  ads: { file: lists/ads.txt, format: domains }\n"
	    "  big: { file: lists/big.txt, format: domains }\n"
	    "  badip: { file: lists/badip.txt, format: ip }\n");
	qbench_put("boards/school.yaml", "name: School\n"
	    "networks: [ 127.0.0.0/16 ]\n"
	    "block: [ ads, big, badip ]\n"
	    "safe-search: true\n"
	    "allow: [ allowed.example.nl ]\n"
	    "deny: [ denied.example ]\n");
	snprintf(path, sizeof path, "%s/veiligd.yaml", qbench_dir);
	if ((conf = conf_load(path, qbench_fatal, NULL)) == NULL ||
	    (snap = snapshot_new(conf, NULL, qbench_fatal, NULL)) == NULL)
		errx(1, "cannot load %s", path);
	snapshot_free(snapshot_swap(snap));
}

/*
 * The query for n<i>.bench.test A into pkt (blocked: s<i>.blocked.example,
 * a name of the large list); its length.
 */
static size_t
mkquery(size_t i, uint8_t *pkt, int blocked)
{
	char	label[32];
	size_t	llen;
	uint8_t	*p;

	llen = (size_t)snprintf(label, sizeof label, blocked ? "s%zu" :
	    "n%zu", i);
	memset(pkt, 0, 12);
	pkt[2] = 0x01;		/* RD */
	pkt[5] = 1;		/* QDCOUNT */
	p = pkt + 12;
	*p++ = (uint8_t)llen;
	memcpy(p, label, llen);
	p += llen;
	if (blocked) {
		memcpy(p, "\007blocked\007example\000\000\001\000\001",
		    21);
		p += 21;
	} else {
		memcpy(p, "\005bench\004test\000\000\001\000\001", 16);
		p += 16;
	}
	return ((size_t)(p - pkt));
}

/* Cache the answer to the query pkt: one A record pointing at it. */
static void
fill(struct cache *c, const uint8_t *pkt, size_t len)
{
	const struct snapshot	*snap;
	struct wire_query	 q;
	struct wire_scan	 sc;
	uint8_t			 ans[128];

	if (wire_parse_query(pkt, len, &q) != WIRE_OK)
		errx(1, "query");
	memcpy(ans, pkt, len);
	ans[2] = 0x81;
	ans[3] = 0x80;
	ans[7] = 1;		/* ANCOUNT */
	memcpy(ans + len, "\300\014\000\001\000\001\000\000\016\020\000\004"
	    "\012\000\000\001", 16);
	if (wire_scan(ans, len + 16, &sc) != 0)
		errx(1, "answer");
	snapshot_read_begin();
	snap = snapshot_current();
	cache_insert(c, &q, ans, &sc, cache_now(), policy_inspect(snap->policy, ans,
	    sc.len), policy_generation(snap->policy));
	snapshot_read_end();
}

/* A record for the queries from 127.0.0.9. */
static void
setup(struct query *q)
{
	struct sockaddr_in	*sin = (struct sockaddr_in *)&q->from;

	memset(q, 0, sizeof *q);
	q->tp = &qbench_tp;
	sin->sin_family = AF_INET;
	sin->sin_addr.s_addr = htonl(0x7f000009);
	q->fromlen = sizeof *sin;
}

/* Answer the n queries at pkts[order[...]], one way; CPU ns of it. */
static double
run(struct query_ctx *qc, uint8_t (*pkts)[PKT], const size_t *lens,
    const size_t *order, size_t n, int ahead, uint8_t *out)
{
	struct query	 qs[AHEAD + 1], *q;
	struct timespec	 t0, t1;
	size_t		 b, i, m, k;

	for (k = 0; k <= AHEAD; k++)
		setup(&qs[k]);
	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t0);
	for (b = 0; b < n; b += m) {
		m = n - b < BATCH ? n - b : BATCH;
		snapshot_read_begin();
		for (i = 0; i < m && ahead && i < AHEAD; i++)
			query_prepare(qc, snapshot_current(), &qs[i],
			    pkts[order[b + i]], lens[order[b + i]]);
		if (ahead)
			query_prefetch(qc, snapshot_current(), &qs[0]);
		for (i = 0; i < m; i++) {
			q = &qs[i % (AHEAD + 1)];
			q->out = out;
			q->cap = 4096;
			if (!ahead) {
				if (query_answer(qc, snapshot_current(), q,
				    pkts[order[b + i]], lens[order[b + i]]) !=
				    QUERY_SEND)
					errx(1, "not answered");
				continue;
			}
			if (i + AHEAD < m)
				query_prepare(qc, snapshot_current(),
				    &qs[(i + AHEAD) % (AHEAD + 1)],
				    pkts[order[b + i + AHEAD]],
				    lens[order[b + i + AHEAD]]);
			if (i + 1 < m)
				query_prefetch(qc, snapshot_current(),
				    &qs[(i + 1) % (AHEAD + 1)]);
			if (query_answer_prepared(qc, snapshot_current(), q) !=
			    QUERY_SEND)
				errx(1, "not answered");
		}
		snapshot_read_end();
	}
	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t1);
	return (((double)(t1.tv_sec - t0.tv_sec) * 1e9 +
	    (double)(t1.tv_nsec - t0.tv_nsec)) / (double)n);
}

int
main(int argc, char **argv)
{
	struct event_base	*base;
	struct cache		*cache;
	struct inflight		*inflight;
	struct query_ctx	*qc;
	struct cache_stats	 st;
	uint8_t			(*pkts)[PKT], out[4096];
	size_t			*lens, *order, n = 10000, rounds = 7, i, j, t;
	size_t			 nblocked = 1000000;
	double			 ns[2][64], ratio[64], sorted[2][64];
	int			 r, way, blocked;

	if (argc > 1 && (n = strtoul(argv[1], NULL, 10)) == 0)
		errx(2, "usage: hitbatch [NAMES [ROUNDS [BLOCKED]]]");
	if (argc > 2 && ((rounds = strtoul(argv[2], NULL, 10)) == 0 ||
	    rounds > 64))
		errx(2, "ROUNDS: 1 to 64");
	if (argc > 3)
		nblocked = strtoul(argv[3], NULL, 10);
	blocked = getenv("HITBATCH_ASK") != NULL &&
	    strcmp(getenv("HITBATCH_ASK"), "blocked") == 0;
	if (blocked && n > nblocked)
		errx(2, "HITBATCH_ASK=blocked: NAMES at most BLOCKED");
	snapshot_thread_init();
	load(nblocked);
	if ((base = event_base_new()) == NULL ||
	    (cache = cache_new(256 << 20, 0, 86400, 3600)) == NULL ||
	    (inflight = inflight_new()) == NULL ||
	    (qc = query_ctx_new(base, cache, inflight, NULL, 1, 64)) == NULL ||
	    (pkts = calloc(n, sizeof *pkts)) == NULL ||
	    (lens = calloc(n, sizeof *lens)) == NULL ||
	    (order = calloc(n, sizeof *order)) == NULL)
		errx(1, "out of memory");
	for (i = 0; i < n; i++) {
		/* The names of the hits cached either way: as in service. */
		lens[i] = mkquery(i, pkts[i], 0);
		fill(cache, pkts[i], lens[i]);
		if (blocked)
			lens[i] = mkquery(i, pkts[i], 1);
		order[i] = i;
	}
	cache_stats(cache, &st);
	if (st.entries != n)
		errx(1, "%llu entries cached of %zu",
		    (unsigned long long)st.entries, n);
	/* One random order (fixed seed), the same for both ways. */
	srandom(1);
	for (i = n - 1; i > 0; i--) {
		j = (size_t)random() % (i + 1);
		t = order[i];
		order[i] = order[j];
		order[j] = t;
	}

	(void)run(qc, pkts, lens, order, n, 0, out);	/* warm up */
	for (r = 0; r < (int)rounds; r++) {
		for (way = 0; way < 2; way++) {
			/* Alternate which way goes first. */
			j = (size_t)(way ^ (r & 1));
			ns[j][r] = run(qc, pkts, lens, order, n, (int)j, out);
		}
		ratio[r] = ns[1][r] / ns[0][r];
		printf("round %d: inline %.1f ns, ahead %.1f ns: %.3f\n",
		    r + 1, ns[0][r], ns[1][r], ratio[r]);
	}
	for (way = 0; way < 2; way++) {
		memcpy(sorted[way], ns[way], rounds * sizeof ns[0][0]);
		qsort(sorted[way], rounds, sizeof sorted[0][0],
		    qbench_cmp_double);
	}
	qsort(ratio, rounds, sizeof ratio[0], qbench_cmp_double);
	printf("%zu names, %zu blocked: median inline %.1f ns, ahead %.1f ns "
	    "per %s; ahead/inline per round median %.3f (%.3f-%.3f)\n", n,
	    nblocked, sorted[0][rounds / 2], sorted[1][rounds / 2],
	    blocked ? "blocked answer" : "hit", ratio[rounds / 2],
	    ratio[0], ratio[rounds - 1]);

	query_ctx_free(qc);
	inflight_free(inflight);
	cache_free(cache);
	event_base_free(base);
	snapshot_free(snapshot_swap(NULL));
	free(pkts);
	free(lens);
	free(order);
	qbench_rmdir();
	snapshot_thread_done();
	return (0);
}
