/*
 * hll.h: HyperLogLog sketches for counting distinct clients.
 *
 * A sketch estimates how many distinct 64-bit hashes were added to it,
 * in fixed memory, without holding any of them: all it keeps is, per
 * register, the longest run of leading zeros seen. The statistics feed it
 * keyed hashes of client addresses (siphash.c, keys only in memory), so
 * the sketch cannot be used to tell whether a given address was counted.
 *
 * Precision: 2^12 = 4096 registers of 4 bits each (2 KiB a sketch). The
 * relative standard error of an estimate is 1.04 / sqrt(4096) = 1.6 %; 99.7
 * % of estimates fall within 3 standard errors (4.9 %). Why 12: the
 * daemon keeps an interval sketch and a day sketch for every board that
 * had traffic, so 10,000 busy boards cost 40 MiB; p = 14 would cost 160
 * MiB for an error of 0.8 %, which a report rounding to whole pupils does
 * not need, and p = 10 (3.3 %) saves too little to matter. The workers
 * keep no sketches (see stats.c), so the number of workers does not
 * multiply this.
 *
 * Four bits a register: of the hash, 12 bits choose the register and the
 * next 14 bits give the rank (1 + leading zeros, 15 when all 14 are
 * zero). Estimates are good up to about 4096 * 2^14 = 6.7e7 distinct
 * inputs, far beyond the clients of any board. The estimator is Ertl's
 * "improved raw estimator" (arXiv:1702.01284, algorithm 6), which needs
 * neither bias tables nor a switch to linear counting for small counts.
 *
 * Ownership: struct hll is a plain value; embed it or allocate it.
 */
#ifndef VEILIG_HLL_H
#define VEILIG_HLL_H

#include <stdint.h>

#define HLL_P		12			/* log2 of registers */
#define HLL_M		(1U << HLL_P)		/* registers */
#define HLL_Q		14			/* rank bits */
#define HLL_ERROR	(1.04 / 64.0)		/* 1.04 / sqrt(HLL_M) */

struct hll {
	uint8_t		reg[HLL_M / 2];		/* two registers an octet */
};

/* Empty the sketch. */
void		hll_clear(struct hll *);

/* Add a hash (uniformly distributed 64 bits, e.g. from siphash_13). */
void		hll_add(struct hll *, uint64_t hash);

/*
 * Start loading the register that hll_add(h, hash) will write: a caller
 * adding to many sketches at random (the statistics' fold, one sketch of
 * 2 KiB per board) prefetches a batch, then adds it, so that the cache
 * misses overlap instead of following each other.
 */
static inline void
hll_prefetch(const struct hll *h, uint64_t hash)
{
	__builtin_prefetch(&h->reg[(hash >> (64 - HLL_P)) >> 1], 1);
}

/* Make dst the sketch of the union of dst's and src's inputs. */
void		hll_merge(struct hll *dst, const struct hll *src);

/* The estimated number of distinct hashes added, rounded; 0 if none. */
uint64_t	hll_count(const struct hll *);

#endif
