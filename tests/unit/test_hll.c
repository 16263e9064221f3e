/*
 * test_hll.c: the HyperLogLog sketch (error within its bound from 10^3 to
 * 10^6 distinct inputs, duplicates, merging) and the SipHash it is fed
 * with (key and length dependence).
 */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "hll.h"
#include "siphash.h"

/* A fixed key per trial, so that the test gives the same result always. */
static void
key_of(struct siphash_key *k, unsigned trial)
{
	k->k[0] = 0x0123456789abcdefULL * (trial + 1);
	k->k[1] = 0xfedcba9876543210ULL ^ (trial * 0x9e3779b97f4a7c15ULL);
}

/* Add n distinct "addresses" (counters as 16 octets) hashed under k. */
static void
fill(struct hll *h, const struct siphash_key *k, uint64_t from, uint64_t n)
{
	uint8_t		addr[16];
	uint64_t	i;

	memset(addr, 0, sizeof addr);
	addr[0] = 0x20;
	addr[1] = 0x01;
	for (i = from; i < from + n; i++) {
		memcpy(addr + 8, &i, sizeof i);
		hll_add(h, siphash_13(k, addr, sizeof addr));
	}
}

/*
 * The estimate as hll.c worked it out before hll_count() counted octets:
 * the histogram one register at a time, in doubles, then Ertl's
 * estimator (the same code). hll_count() must give the same number.
 */
static double
ref_sigma(double x)
{
	double	y = 1.0, z = x, zp;

	if (x == 1.0)
		return (INFINITY);
	do {
		x *= x;
		zp = z;
		z += x * y;
		y += y;
	} while (z != zp);
	return (z);
}

static double
ref_tau(double x)
{
	double	y = 1.0, z, zp;

	if (x == 0.0 || x == 1.0)
		return (0.0);
	z = 1.0 - x;
	do {
		x = sqrt(x);
		zp = z;
		y *= 0.5;
		z -= (1.0 - x) * (1.0 - x) * y;
	} while (z != zp);
	return (z / 3.0);
}

static uint64_t
ref_count(const struct hll *h)
{
	double		c[HLL_Q + 2], z, m = HLL_M;
	unsigned	j, k;

	memset(c, 0, sizeof c);
	for (j = 0; j < HLL_M; j++)
		c[(j & 1) ? h->reg[j >> 1] >> 4 : h->reg[j >> 1] & 0x0f]++;
	if (c[0] == m)
		return (0);
	z = m * ref_tau(1.0 - c[HLL_Q + 1] / m);
	for (k = HLL_Q; k >= 1; k--)
		z = 0.5 * (z + c[k]);
	z += m * ref_sigma(c[0] / m);
	return ((uint64_t)llround(m * m / (2.0 * log(2.0)) / z));
}

/* hll_count() against the reference: filled sketches, random registers. */
static void
test_count_reference(void **state)
{
	struct siphash_key	k;
	struct hll		h;
	uint64_t		r = 0x9e3779b97f4a7c15ULL;
	unsigned		t, j, top;

	(void)state;
	for (t = 0; t < 40; t++) {
		hll_clear(&h);
		key_of(&k, t);
		fill(&h, &k, 0, (uint64_t)t * t * t * 20);
		assert_int_equal(hll_count(&h), ref_count(&h));
	}
	/* Registers at every value, the largest ones rarer or not at all. */
	for (t = 0; t < 200; t++) {
		top = 1 + t % 16;
		for (j = 0; j < HLL_M / 2; j++) {
			r ^= r << 13;
			r ^= r >> 7;
			r ^= r << 17;
			h.reg[j] = (uint8_t)((r % top) | (r >> 8) % top << 4);
		}
		assert_int_equal(hll_count(&h), ref_count(&h));
	}
}

static void
test_empty_and_small(void **state)
{
	struct hll		h;
	struct siphash_key	k;
	uint64_t		n;

	(void)state;
	hll_clear(&h);
	assert_int_equal(hll_count(&h), 0);
	key_of(&k, 0);
	fill(&h, &k, 0, 1);
	assert_int_equal(hll_count(&h), 1);
	/* Small counts are near exact (few registers collide). */
	for (n = 2; n <= 100; n *= 3) {
		hll_clear(&h);
		fill(&h, &k, 0, n);
		assert_true(llabs((long long)hll_count(&h) - (long long)n) <=
		    (long long)(n / 20 + 1));
	}
}

/*
 * From 10^3 to 10^6 distinct inputs, several keys each: every estimate
 * within three standard errors (4.9 %), and the root mean square of the
 * relative errors within 1.5 standard errors. The sketch is not exact,
 * so what this checks is the bound the README states.
 */
static void
test_error_bound(void **state)
{
	static const uint64_t	sizes[] = { 1000, 3000, 10000, 30000, 100000,
				    300000, 1000000 };
	struct hll		h;
	struct siphash_key	k;
	double			err, sq = 0, worst = 0;
	unsigned		i, t, trials = 0;
	uint64_t		est;

	(void)state;
	for (i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
		for (t = 0; t < (sizes[i] >= 300000 ? 6U : 16U); t++) {
			key_of(&k, t + 10 * i);
			hll_clear(&h);
			fill(&h, &k, 0, sizes[i]);
			est = hll_count(&h);
			err = ((double)est - (double)sizes[i]) /
			    (double)sizes[i];
			sq += err * err;
			trials++;
			if (fabs(err) > worst)
				worst = fabs(err);
			if (fabs(err) > 3 * HLL_ERROR)
				fail_msg("%llu distinct, key %u: estimate %llu "
				    "(%+.2f %%), bound %.2f %%",
				    (unsigned long long)sizes[i], t,
				    (unsigned long long)est, 100 * err,
				    300 * HLL_ERROR);
		}
	}
	print_message("hll: %u trials, worst %.2f %%, rms %.2f %% "
	    "(standard error %.2f %%)\n", trials, 100 * worst,
	    100 * sqrt(sq / trials), 100 * HLL_ERROR);
	assert_true(sqrt(sq / trials) <= 1.5 * HLL_ERROR);
}

/* Adding the same inputs again changes nothing. */
static void
test_duplicates(void **state)
{
	struct hll		h, g;
	struct siphash_key	k;

	(void)state;
	key_of(&k, 3);
	hll_clear(&h);
	fill(&h, &k, 0, 50000);
	g = h;
	fill(&h, &k, 0, 50000);
	fill(&h, &k, 10000, 20000);
	assert_memory_equal(&g, &h, sizeof h);
}

/* The merge of two sketches is the sketch of the union. */
static void
test_merge(void **state)
{
	struct hll		a, b, u;
	struct siphash_key	k;

	(void)state;
	key_of(&k, 4);
	hll_clear(&a);
	hll_clear(&b);
	hll_clear(&u);
	fill(&a, &k, 0, 60000);		/* 0 .. 59999 */
	fill(&b, &k, 40000, 60000);	/* 40000 .. 99999 */
	fill(&u, &k, 0, 100000);
	hll_merge(&a, &b);
	assert_memory_equal(&a, &u, sizeof u);
	assert_true(fabs((double)hll_count(&a) - 100000.0) <=
	    3 * HLL_ERROR * 100000.0);
}

/* Another key, another hash; the length counts, not only the octets. */
static void
test_siphash(void **state)
{
	struct siphash_key	k1, k2;
	uint8_t			buf[32];
	uint64_t		h1;
	size_t			n;

	(void)state;
	memset(buf, 0, sizeof buf);
	key_of(&k1, 1);
	key_of(&k2, 2);
	h1 = siphash_13(&k1, "192.0.2.1", 9);
	assert_int_equal(h1, siphash_13(&k1, "192.0.2.1", 9));
	assert_true(h1 != siphash_13(&k2, "192.0.2.1", 9));
	assert_true(h1 != siphash_13(&k1, "192.0.2.2", 9));
	/* Zero octets of every length up to 32 all hash differently. */
	for (n = 1; n <= sizeof buf; n++)
		assert_true(siphash_13(&k1, buf, n) !=
		    siphash_13(&k1, buf, n - 1));
	/* The padded form is the same hash, at every length of a tail. */
	for (n = 0; n <= 24; n++) {
		memset(buf, 0, sizeof buf);
		memcpy(buf, "abcdefghijklmnopqrstuvwxyz", n);
		assert_true(siphash_13_padded(&k1, buf, n) ==
		    siphash_13(&k1, buf, n));
	}
	siphash_key_random(&k2);
	siphash_key_clear(&k2);
	assert_int_equal(k2.k[0] | k2.k[1], 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_empty_and_small),
		cmocka_unit_test(test_count_reference),
		cmocka_unit_test(test_error_bound),
		cmocka_unit_test(test_duplicates),
		cmocka_unit_test(test_merge),
		cmocka_unit_test(test_siphash),
	};

	return (cmocka_run_group_tests(tests, NULL, NULL));
}
