/*
 * hll.c: HyperLogLog with Ertl's improved raw estimator.
 *
 * Register j lives in the low nibble of reg[j / 2] for even j and in the
 * high nibble for odd j. hll_count() builds the histogram of register
 * values and runs the estimator over it: the cost is one pass over 4096
 * registers, done once per board per interval, never per query.
 */
#include <math.h>
#include <string.h>

#include "hll.h"

/* Register j of h. */
static unsigned
hll_get(const struct hll *h, unsigned j)
{
	return ((j & 1) ? h->reg[j >> 1] >> 4 : h->reg[j >> 1] & 0x0f);
}

/* Set register j of h to v (0..15). */
static void
hll_set(struct hll *h, unsigned j, unsigned v)
{
	uint8_t	*r = &h->reg[j >> 1];

	if (j & 1)
		*r = (uint8_t)((*r & 0x0f) | (v << 4));
	else
		*r = (uint8_t)((*r & 0xf0) | v);
}

void
hll_clear(struct hll *h)
{
	memset(h->reg, 0, sizeof h->reg);
}

void
hll_add(struct hll *h, uint64_t hash)
{
	unsigned	j = (unsigned)(hash >> (64 - HLL_P));
	uint64_t	w = (hash >> (64 - HLL_P - HLL_Q)) &
			    ((1ULL << HLL_Q) - 1);
	unsigned	rank;

	/* Leading zeros of the 14-bit word, plus one; 15 when all zero. */
	if (w == 0)
		rank = HLL_Q + 1;
	else
		rank = (unsigned)__builtin_clzll(w) - (64 - HLL_Q) + 1;
	if (rank > hll_get(h, j))
		hll_set(h, j, rank);
}

void
hll_merge(struct hll *dst, const struct hll *src)
{
	unsigned	j, a, b;

	for (j = 0; j < HLL_M; j++) {
		a = hll_get(dst, j);
		b = hll_get(src, j);
		if (b > a)
			hll_set(dst, j, b);
	}
}

/* Ertl's sigma(x) = x + sum_k x^(2^k) 2^(k-1): the share of empty registers. */
static double
hll_sigma(double x)
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

/* Ertl's tau(x): the correction for registers at the largest value. */
static double
hll_tau(double x)
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

uint64_t
hll_count(const struct hll *h)
{
	uint32_t	n[4][256];
	double		c[HLL_Q + 2], z, m = HLL_M;
	unsigned	j, k, v;

	/*
	 * The histogram of the octets (two registers each), into four
	 * tables in turn so that increments of the same octet do not wait
	 * for each other, then of the registers from it: a sixth of the
	 * instructions of one register and one double at a time, and the
	 * same counts. With 10,000 boards this runs 20,000 times at every
	 * interval's end.
	 */
	memset(n, 0, sizeof n);
	for (j = 0; j < HLL_M / 2; j += 4) {
		n[0][h->reg[j]]++;
		n[1][h->reg[j + 1]]++;
		n[2][h->reg[j + 2]]++;
		n[3][h->reg[j + 3]]++;
	}
	memset(c, 0, sizeof c);
	for (v = 0; v < 256; v++) {
		k = n[0][v] + n[1][v] + n[2][v] + n[3][v];
		c[v & 0x0f] += k;
		c[v >> 4] += k;
	}
	if (c[0] == m)
		return (0);
	/* Algorithm 6 of Ertl (2017), alpha_inf = 1 / (2 ln 2). */
	z = m * hll_tau(1.0 - c[HLL_Q + 1] / m);
	for (k = HLL_Q; k >= 1; k--)
		z = 0.5 * (z + c[k]);
	z += m * hll_sigma(c[0] / m);
	return ((uint64_t)llround(m * m / (2.0 * log(2.0)) / z));
}
