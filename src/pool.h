/*
 * pool.h: a bounded free list of blocks of one size.
 *
 * For the records a cache miss takes and gives back (the forwarder's
 * waiters, the registry's entries, a worker's forwarded queries): a block
 * given back is kept for the next take while fewer than keep are idle, and
 * freed past that, so a miss costs no malloc and free, a flood turned away
 * keeps reusing the same blocks, and a worker that once had many queries
 * out keeps no more than keep of them once they are answered.
 *
 * One thread only, no lock. An idle block's first pointer links the list;
 * a block taken holds whatever it held before, for its taker to set.
 */
#ifndef POOL_H
#define POOL_H

#include <stdlib.h>

struct pool {
	void		*idle;		/* first idle block, or NULL */
	unsigned	 nidle;		/* <= keep */
	unsigned	 keep;
	size_t		 size;		/* of a block */
};

/* An empty pool of blocks of size octets, keeping at most keep idle. */
static inline void
pool_init(struct pool *p, size_t size, unsigned keep)
{
	p->idle = NULL;
	p->nidle = 0;
	p->keep = keep;
	p->size = size < sizeof (void *) ? sizeof (void *) : size;
}

/* A block: an idle one, or a new one; NULL when out of memory. */
static inline void *
pool_get(struct pool *p)
{
	void	*b;

	if ((b = p->idle) != NULL) {
		p->idle = *(void **)b;
		p->nidle--;
		return (b);
	}
	return (malloc(p->size));
}

/* Give b back: kept idle, or freed when keep are. */
static inline void
pool_put(struct pool *p, void *b)
{
	if (p->nidle < p->keep) {
		*(void **)b = p->idle;
		p->idle = b;
		p->nidle++;
		return;
	}
	free(b);
}

/* Free every idle block. */
static inline void
pool_clear(struct pool *p)
{
	void	*b;

	while ((b = p->idle) != NULL) {
		p->idle = *(void **)b;
		free(b);
	}
	p->nidle = 0;
}

#endif /* POOL_H */
