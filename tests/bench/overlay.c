/*
 * overlay.c: the cost of a lookup in a domain table with an overlay
 * (domtable_build_like() of names that changed a little) against the same
 * names compiled anew. Not run by make check.
 *
 *     make build/overlay
 *     build/overlay [PCT [fresh|overlay [QUERIES]]]
 *     valgrind --tool=callgrind --toggle-collect=ov_run \
 *         --callgrind-out-file=/dev/null build/overlay 1 fresh 200000
 *
 * Builds a table of a million names (n<i>.ads.example), one like it with
 * PCT % of them (default 1) replaced by others (r<i>.ads.example), as a
 * list's daily update does, and the second version compiled anew; then
 * looks QUERIES names (default a million: one in ten a subdomain of a
 * listed name, the others unlisted) up in each, as a worker does
 * (domtable_key_init, domtable_prefetch, domtable_match_key), in
 * alternating rounds, and prints the nanoseconds a lookup of each (and
 * the fastest round of each, the least disturbed by other processes)
 * and checks that both answered alike. With fresh or overlay it looks up in
 * that table only, once: the instruction counts of callgrind's
 * --toggle-collect=ov_run divided by QUERIES are the cost of a lookup,
 * which, unlike the clock, another process on the machine does not
 * disturb.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "domtable.h"

#define OV_NAMES	1000000
#define OV_ROUNDS	11
#define OV_WIRE		64

/* Wire form of "<pre><i>.<rest...>" into w; its length. */
static size_t
ov_name(uint8_t *w, const char *pre, unsigned i, const char *rest)
{
	char		 text[OV_WIRE];
	const char	*p, *d;
	size_t		 n = 0;

	snprintf(text, sizeof text, "%s%u.%s", pre, i, rest);
	for (p = text; *p != '\0'; p = *d != '\0' ? d + 1 : d) {
		if ((d = strchr(p, '.')) == NULL)
			d = p + strlen(p);
		w[n++] = (uint8_t)(d - p);
		memcpy(w + n, p, (size_t)(d - p));
		n += (size_t)(d - p);
	}
	w[n++] = 0;
	return (n);
}

/*
 * The names of version gen (0: none replaced; else every every-th name,
 * from an offset of gen, replaced), compiled anew or like like.
 */
static struct domtable *
ov_load(struct domtable *like, unsigned gen, unsigned every)
{
	struct domtable_builder	*b;
	struct domtable		*t;
	uint8_t			 w[OV_WIRE];
	size_t			 n;
	unsigned		 i;
	int			 differ;

	b = like != NULL ? domtable_builder_like(like) :
	    domtable_builder_new();
	if (b == NULL || domtable_builder_reserve(b, OV_NAMES) == -1) {
		fprintf(stderr, "overlay: out of memory\n");
		exit(1);
	}
	for (i = 0; i < OV_NAMES; i++) {
		if (gen > 0 && (i + gen) % every == 0)
			n = ov_name(w, "r", i, "ads.example");
		else
			n = ov_name(w, "n", i, "ads.example");
		if (domtable_add(b, w, n, 0, DOMTABLE_BLOCK, DOMTABLE_SUBTREE,
		    i) == -1)
			break;
	}
	t = domtable_build_like(b, &differ);
	if (t == NULL) {
		fprintf(stderr, "overlay: %s\n", differ ? "too many names "
		    "differ for an overlay" : "out of memory");
		exit(1);
	}
	return (t);
}

/* Look the queries up in t; nanoseconds a lookup, *sum the results. */
static double __attribute__((noinline))
ov_run(const struct domtable *t, uint8_t (*qs)[OV_WIRE], const size_t *ql,
    size_t nq, uint64_t *sum)
{
	struct domtable_key	k;
	struct timespec		a, z;
	size_t			i, off;

	clock_gettime(CLOCK_MONOTONIC, &a);
	for (i = 0; i < nq; i++) {
		domtable_key_init(&k, qs[i], ql[i]);
		domtable_prefetch(t, &k);
		*sum += domtable_match_key(t, &k, 1, &off) + off;
	}
	clock_gettime(CLOCK_MONOTONIC, &z);
	return (((double)(z.tv_sec - a.tv_sec) * 1e9 +
	    (double)(z.tv_nsec - a.tv_nsec)) / (double)nq);
}

int
main(int argc, char **argv)
{
	struct domtable	*base, *fresh = NULL, *over = NULL;
	uint8_t		(*qs)[OV_WIRE];
	size_t		*ql, nq = 1000000, i;
	double		 pct = 1, a, b, mina = 1e9, minb = 1e9;
	uint64_t	 s1 = 0, s2 = 0, r = 1;
	const char	*mode = "both";
	unsigned	 every, round;

	if (argc > 1)
		pct = atof(argv[1]);
	if (argc > 2)
		mode = argv[2];
	if (argc > 3)
		nq = strtoul(argv[3], NULL, 10);
	if (pct <= 0 || pct > 100 || nq == 0 || (strcmp(mode, "both") != 0 &&
	    strcmp(mode, "fresh") != 0 && strcmp(mode, "overlay") != 0)) {
		fprintf(stderr, "usage: overlay [PCT [fresh|overlay "
		    "[QUERIES]]]\n");
		return (2);
	}
	every = (unsigned)(100 / pct + 0.5);
	if ((qs = calloc(nq, sizeof *qs)) == NULL ||
	    (ql = calloc(nq, sizeof *ql)) == NULL) {
		fprintf(stderr, "overlay: out of memory\n");
		return (1);
	}
	for (i = 0; i < nq; i++) {
		r = r * 6364136223846793005ULL + 1442695040888963407ULL;
		if (i % 10 == 0)
			ql[i] = ov_name(qs[i], "www.n", (unsigned)(r >> 33) %
			    OV_NAMES, "ads.example");
		else
			ql[i] = ov_name(qs[i], "www.q", (unsigned)(r >> 33) %
			    OV_NAMES, "example.com");
	}
	base = ov_load(NULL, 0, every);
	if (strcmp(mode, "fresh") != 0)
		over = ov_load(base, 1, every);
	if (strcmp(mode, "overlay") != 0)
		fresh = ov_load(NULL, 1, every);
	if (strcmp(mode, "both") != 0) {
		a = ov_run(over != NULL ? over : fresh, qs, ql, nq, &s1);
		printf("%s, %.3g %% replaced: %.1f ns a lookup\n", mode, pct,
		    a);
		return (0);
	}
	for (round = 0; round < OV_ROUNDS; round++) {
		a = ov_run(fresh, qs, ql, nq, &s1);
		b = ov_run(over, qs, ql, nq, &s2);
		printf("%.3g %% replaced: compiled anew %.1f ns, overlay "
		    "%.1f ns a lookup (%.3fx)\n", pct, a, b, b / a);
		mina = a < mina ? a : mina;
		minb = b < minb ? b : minb;
	}
	/* The fastest round of each: the least disturbed by others. */
	printf("fastest rounds: compiled anew %.1f ns, overlay %.1f ns "
	    "(%.3fx)\n", mina, minb, minb / mina);
	if (s1 != s2) {
		printf("the overlay answered otherwise\n");
		return (1);
	}
	domtable_free(fresh);
	domtable_free(over);
	domtable_free(base);
	free(qs);
	free(ql);
	return (0);
}
