/*
 * cachegrow.c: what the cache's table doublings cost while it fills.
 *
 *     make build/cachegrow
 *     build/cachegrow [MIB [NAMES [ROUNDS]]]
 *
 * fills a cache of MIB MiB (256, as veiligd's default) with NAMES unique
 * names (1,100,000: past the doublings to 65,536 slots a shard, which
 * come between some 780,000 and 1,060,000 entries), inserting one by one
 * and timing each insert in wall-clock nanoseconds; an insert after which
 * cache_stats() counts more slots is one that doubled a shard's table.
 * Per round: the doublings, their time in all, and those of the last
 * size reached (the wave near a million entries) by their median and
 * largest; then the round's fill in the thread's CPU time and the RSS of
 * the process, full, at its peak (VmHWM, so the first round's; the rounds
 * after it fill a new cache in memory the allocator has already) and on
 * huge pages (AnonHugePages). ROUNDS (3)
 * rounds, each with a new cache, the figures of the last line medians.
 * Compare two trees by building it in each and running them in turn,
 * pinned, under the bench lock (tests/bench/README.md).
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

#define T0		1000
#define ROUNDS_MAX	16

/* The query and the answer for name number n, parsed and scanned. */
static void
make(uint64_t n, struct wire_query *q, uint8_t *ans, struct wire_scan *sc)
{
	char	label[64];

	snprintf(label, sizeof label, "g%llu", (unsigned long long)n);
	qbench_pair(label, q, ans, sc);
}

/* The KiB of the line of file that starts with key ("VmHWM:"), or 0. */
static long
proc_kib(const char *file, const char *key)
{
	FILE	*f;
	char	 line[128];
	long	 kib = 0;
	size_t	 len = strlen(key);

	if ((f = fopen(file, "r")) == NULL)
		return (0);
	while (fgets(line, sizeof line, f) != NULL)
		if (strncmp(line, key, len) == 0) {
			kib = strtol(line + len, NULL, 10);
			break;
		}
	fclose(f);
	return (kib);
}

int
main(int argc, char **argv)
{
	struct cache		*c;
	struct cache_stats	 st;
	struct wire_query	 q;
	struct wire_scan	 sc;
	struct timespec		 t0, t1, c0, c1;
	uint8_t			 ans[256];
	double			*last, all[ROUNDS_MAX], med[ROUNDS_MAX];
	double			 top[ROUNDS_MAX], fill[ROUNDS_MAX], ns;
	uint64_t		 i, names = 1100000, slots, was;
	size_t			 mib = 256, nlast, ndbl, lastsize, size;
	int			 r, rounds = 3;

	if (argc > 1)
		mib = strtoul(argv[1], NULL, 10);
	if (argc > 2)
		names = strtoull(argv[2], NULL, 10);
	if (argc > 3)
		rounds = atoi(argv[3]);
	if (mib == 0 || mib > 65536 || names == 0 || rounds < 1 ||
	    rounds > ROUNDS_MAX)
		errx(1, "usage: cachegrow [MIB [NAMES [ROUNDS]]] (MIB 1 to "
		    "65536, ROUNDS 1 to %d)", ROUNDS_MAX);
	/* 64 shards at most: a doubling's insert per shard and size. */
	if ((last = calloc(64, sizeof *last)) == NULL)
		err(1, "calloc");

	for (r = 0; r < rounds; r++) {
		if ((c = cache_new(mib << 20, 0, 86400, 3600)) == NULL)
			errx(1, "cache_new");
		cache_stats(c, &st);
		slots = st.slots;
		all[r] = 0;
		ndbl = nlast = lastsize = 0;
		clock_gettime(CLOCK_THREAD_CPUTIME_ID, &c0);
		for (i = 0; i < names; i++) {
			make(i, &q, ans, &sc);
			clock_gettime(CLOCK_MONOTONIC, &t0);
			cache_insert(c, &q, ans, &sc, T0, 0, 0);
			clock_gettime(CLOCK_MONOTONIC, &t1);
			was = slots;
			cache_stats(c, &st);
			if ((slots = st.slots) == was)
				continue;
			/* One shard doubled: to slots - was slots. */
			ns = qbench_ns(&t0, &t1);
			size = (size_t)(slots - was) * 2;
			all[r] += ns;
			ndbl++;
			if (size > lastsize) {
				lastsize = size;
				nlast = 0;
			}
			if (size == lastsize && nlast < 64)
				last[nlast++] = ns;
		}
		clock_gettime(CLOCK_THREAD_CPUTIME_ID, &c1);
		if (st.evictions != 0)
			warnx("round %d: %llu evictions: the cache was full",
			    r, (unsigned long long)st.evictions);
		fill[r] = qbench_ns(&c0, &c1) / 1e6;
		qsort(last, nlast, sizeof last[0], qbench_cmp_double);
		med[r] = nlast > 0 ? last[nlast / 2] / 1e3 : 0;
		top[r] = nlast > 0 ? last[nlast - 1] / 1e3 : 0;
		all[r] /= 1e6;
		printf("round %d: %llu entries, %zu doublings %.1f ms in all; "
		    "%zu to %zu slots: median %.0f us, largest %.0f us; "
		    "fill %.0f ms CPU (with cache_stats), RSS %ld KiB (peak "
		    "%ld, on huge pages %ld)\n", r,
		    (unsigned long long)st.entries, ndbl, all[r], nlast,
		    lastsize, med[r], top[r], fill[r],
		    proc_kib("/proc/self/status", "VmRSS:"),
		    proc_kib("/proc/self/status", "VmHWM:"),
		    proc_kib("/proc/self/smaps_rollup", "AnonHugePages:"));
		cache_free(c);
	}
	qsort(all, (size_t)rounds, sizeof all[0], qbench_cmp_double);
	qsort(med, (size_t)rounds, sizeof med[0], qbench_cmp_double);
	qsort(top, (size_t)rounds, sizeof top[0], qbench_cmp_double);
	qsort(fill, (size_t)rounds, sizeof fill[0], qbench_cmp_double);
	printf("medians: doublings %.1f ms in all (%.1f-%.1f), the last "
	    "size's median %.0f us (%.0f-%.0f), largest %.0f us (%.0f-%.0f), "
	    "fill %.0f ms CPU (%.0f-%.0f)\n", all[rounds / 2], all[0],
	    all[rounds - 1], med[rounds / 2], med[0], med[rounds - 1],
	    top[rounds / 2], top[0], top[rounds - 1], fill[rounds / 2],
	    fill[0], fill[rounds - 1]);
	free(last);
	return (0);
}
