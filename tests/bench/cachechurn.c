/*
 * cachechurn.c: the cost of the cache on the miss path of a full cache,
 * in wall-clock nanoseconds per miss.
 *
 *     make build/cachechurn
 *     build/cachechurn [MIB [MISSES [ROUNDS [SPREAD]]]]
 *
 * fills a cache of MIB MiB (256, as make bench's veiligd) with unique
 * names, then times MISSES more (1,000,000) as a worker makes them: a
 * lookup that misses, then an insert that evicts the LRU tail, ROUNDS
 * times (5) with the median and the range, in wall-clock time and in the
 * thread's CPU time (which leaves out the time other programs had the
 * core: the figure to compare on a shared machine). SPREAD (0) makes the
 * names' first labels 0 to SPREAD-1 octets longer, one length per name
 * from its number, so that the entries differ in size as real ones do
 * and the allocator sees many sizes, not one. The queries and answers are
 * built in the loop (the same work for any cache.c), so that the cache
 * does not stay in the processor's caches: this measures what
 * instruction counts cannot, the memory misses of a large cache's
 * eviction. Compare two trees by building it in each, one run at a time
 * (flock /work/bench.lock on a shared machine).
 */
#include <err.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cache.h"
#include "qbench.h"
#include "wire.h"

#define T0	1000

/* The query and the answer for name number n, parsed and scanned. */
static unsigned spread;

static void
make(uint64_t n, struct wire_query *q, uint8_t *ans, struct wire_scan *sc)
{
	char		label[64];
	unsigned	pad = 0;

	/* A length from the name's number, scattered (Knuth's multiplier). */
	if (spread != 0)
		pad = (unsigned)(((n * 2654435761ULL) >> 16) % spread);
	snprintf(label, sizeof label, "m%llu%.*s", (unsigned long long)n,
	    (int)pad, "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx");
	qbench_pair(label, q, ans, sc);
}

/* One miss: the lookup, then the insert of the answer. */
static void
miss(struct cache *c, uint64_t n)
{
	struct wire_query	q;
	struct wire_scan	sc;
	struct cache_req	req;
	uint8_t			ans[256], out[512];
	size_t			outlen;

	make(n, &q, ans, &sc);
	req.q = &q;
	req.now = T0;
	req.allow_stale = 0;
	req.udp_max = WIRE_MAX_UDP;
	req.ins = NULL;
	req.qcheck = NULL;
	if (cache_lookup(c, &req, out, sizeof out, &outlen, NULL) !=
	    CACHE_MISS)
		errx(1, "name %llu was there", (unsigned long long)n);
	cache_insert(c, &q, ans, &sc, T0, 0, 0);
}

int
main(int argc, char **argv)
{
	struct cache		*c;
	struct cache_stats	 st;
	struct timespec		 t0, t1, c0, c1;
	double			 ns[64], cpu[64];
	uint64_t		 n = 0, i, misses = 1000000;
	size_t			 mib = 256;
	int			 r, rounds = 5;

	if (argc > 1)
		mib = strtoul(argv[1], NULL, 10);
	if (argc > 2)
		misses = strtoull(argv[2], NULL, 10);
	if (argc > 3)
		rounds = atoi(argv[3]);
	if (argc > 4)
		spread = (unsigned)strtoul(argv[4], NULL, 10);
	if (mib == 0 || misses == 0 || rounds < 1 || rounds > 64 ||
	    spread > 40)
		errx(1, "usage: cachechurn [MIB [MISSES [ROUNDS [SPREAD]]]] "
		    "(SPREAD at most 40)");
	if ((c = cache_new(mib << 20, 0, 86400, 3600)) == NULL)
		errx(1, "cache_new");

	/* Full, and then some, so that every shard evicts. */
	do {
		for (i = 0; i < 100000; i++)
			miss(c, n++);
		cache_stats(c, &st);
	} while (st.evictions < st.entries / 4);
	printf("full: %llu entries, %llu MiB, after %llu names\n",
	    (unsigned long long)st.entries,
	    (unsigned long long)(st.bytes >> 20), (unsigned long long)n);

	for (r = 0; r < rounds; r++) {
		clock_gettime(CLOCK_MONOTONIC, &t0);
		clock_gettime(CLOCK_THREAD_CPUTIME_ID, &c0);
		for (i = 0; i < misses; i++)
			miss(c, n++);
		clock_gettime(CLOCK_THREAD_CPUTIME_ID, &c1);
		clock_gettime(CLOCK_MONOTONIC, &t1);
		ns[r] = qbench_ns(&t0, &t1) / (double)misses;
		cpu[r] = qbench_ns(&c0, &c1) / (double)misses;
		printf("round %d: %.1f ns per miss, %.1f ns CPU\n", r, ns[r],
		    cpu[r]);
	}
	qsort(ns, (size_t)rounds, sizeof ns[0], qbench_cmp_double);
	qsort(cpu, (size_t)rounds, sizeof cpu[0], qbench_cmp_double);
	printf("median %.1f ns per miss (%.1f-%.1f)\n", ns[rounds / 2], ns[0],
	    ns[rounds - 1]);
	printf("median %.1f ns CPU per miss (%.1f-%.1f)\n", cpu[rounds / 2],
	    cpu[0], cpu[rounds - 1]);
	cache_free(c);
	return (0);
}
