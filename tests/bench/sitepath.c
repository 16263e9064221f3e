/*
 * sitepath.c: what a blocked name new to its board costs the statistics'
 * site tables, for callgrind.
 *
 *     make build/sitepath
 *     build/sitepath BOARDS NAMES SITES [INTERVALS]
 *
 * Adds NAMES blocked names to BOARDS boards' site tables (kanon.h, k = 5)
 * as stats_fold_ring() does: in batches of 32, each name's board and site
 * at random (a fixed seed; SITES a file of sites, one a line, at most
 * 1,000 used), every name from a new client, each table made on its
 * board's first name, hashes and prefetches taken a batch ahead. Then
 * the tables are freed, as an interval's close does, and with INTERVALS
 * > 1 the next interval's names come the same way, each table made for
 * the sites its board had the interval before (stats_sites()). Each
 * interval runs in si_interval(), so that
 *
 *     valgrind --tool=callgrind --cache-sim=yes \
 *         --toggle-collect=si_interval build/sitepath 10000 50000 sites
 *
 * counts the adds apart from the setup. It prints the entries, the
 * budget left and the minor page faults (the fresh memory the tables
 * took).
 */
#include <sys/resource.h>

#include <err.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kanon.h"

#define SI_SITES	1000
#define SI_BATCH	32	/* STATS_FOLD_BATCH */
#define SI_BUDGET	(64UL << 20)	/* STATS_SITES_BYTES */
#define SI_PER_BOARD	4096	/* STATS_SITES_BOARD */

static char		 si_site[SI_SITES][256];
static unsigned		 si_nsites;
static uint64_t		 si_seed = 88172645463325252ULL;

/* xorshift64: the same names every run. */
static uint64_t
si_random(void)
{
	si_seed ^= si_seed << 13;
	si_seed ^= si_seed >> 7;
	si_seed ^= si_seed << 17;
	return (si_seed);
}

/* One interval's names into tab[], made with the sizes of last[]. */
__attribute__((noinline)) void si_interval(struct kanon **, const size_t *,
    unsigned, unsigned, struct kanon_budget *);
__attribute__((noinline)) void
si_interval(struct kanon **tab, const size_t *last, unsigned nboards,
    unsigned names, struct kanon_budget *budget)
{
	struct kanon	*t[SI_BATCH];
	const char	*s[SI_BATCH];
	uint64_t	 h[SI_BATCH], c[SI_BATCH];
	unsigned	 i, j, b;

	for (i = 0; i < names; i += SI_BATCH) {
		for (j = 0; j < SI_BATCH; j++) {
			b = si_random() % nboards;
			if (tab[b] == NULL && (tab[b] = kanon_new(5,
			    SI_PER_BOARD, budget, last[b])) == NULL)
				err(1, "kanon_new");
			t[j] = tab[b];
			s[j] = si_site[si_random() % si_nsites];
			c[j] = si_random();
			__builtin_prefetch(t[j]);
		}
		for (j = 0; j < SI_BATCH; j++) {
			h[j] = kanon_hash(t[j], s[j], 1);
			kanon_prefetch(t[j], h[j]);
		}
		for (j = 0; j < SI_BATCH; j++)
			kanon_add_hash(t[j], s[j], 1, h[j], c[j], 1);
	}
}

int
main(int argc, char **argv)
{
	struct kanon_budget	 budget = { .left = SI_BUDGET };
	struct kanon		**tab;
	struct rusage		 ru;
	size_t			*last, n;
	unsigned		 nboards, names, intervals = 1, i, b;
	FILE			*f;

	if (argc < 4)
		errx(1, "usage: sitepath BOARDS NAMES SITES [INTERVALS]");
	nboards = (unsigned)strtoul(argv[1], NULL, 10);
	names = (unsigned)strtoul(argv[2], NULL, 10);
	if (argc > 4)
		intervals = (unsigned)strtoul(argv[4], NULL, 10);
	if (nboards == 0 || (f = fopen(argv[3], "r")) == NULL)
		err(1, "%s", argv[3]);
	while (si_nsites < SI_SITES && fgets(si_site[si_nsites],
	    sizeof si_site[0], f) != NULL) {
		si_site[si_nsites][strcspn(si_site[si_nsites], "\n")] = '\0';
		if (si_site[si_nsites][0] != '\0')
			si_nsites++;
	}
	fclose(f);
	if (si_nsites == 0)
		errx(1, "%s: no sites", argv[3]);
	if ((tab = calloc(nboards, sizeof *tab)) == NULL ||
	    (last = calloc(nboards, sizeof *last)) == NULL)
		err(1, NULL);
	for (i = 0; i < intervals; i++) {
		si_interval(tab, last, nboards, names, &budget);
		for (n = 0, b = 0; b < nboards; b++) {
			last[b] = tab[b] != NULL ? kanon_size(tab[b]) : 0;
			n += last[b];
		}
		printf("interval %u: %zu entries, budget %zu of %lu octets "
		    "left\n", i, n, budget.left, SI_BUDGET);
		for (b = 0; b < nboards; b++) {
			kanon_free(tab[b]);
			tab[b] = NULL;
		}
	}
	getrusage(RUSAGE_SELF, &ru);
	printf("minor page faults %ld\n", ru.ru_minflt);
	randbuf_clear(&budget.random);
	free(tab);
	free(last);
	return (0);
}
