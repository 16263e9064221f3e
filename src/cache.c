/*
 * cache.c: the sharded message cache shared by all workers.
 *
 * The key (lname, qtype, qclass, DO bit) is hashed with SipHash-1-3
 * under the process's random key (wire_qhash()), so a remote party who
 * picks query names cannot aim them at one bucket; the hash is the one the
 * forwarder and the registry of questions in flight use, worked out once
 * per query by query.c and kept in the struct wire_query. The top bits of
 * the hash pick the shard, the low bits the bucket.
 *
 * Each shard has its own mutex, chained hash table, LRU list (head = most
 * recently used) and byte budget. A hit does not move its entry to the
 * head: it marks it used, and the eviction gives a used entry at the tail
 * a second chance (back to the head, mark cleared) instead of evicting it
 * (CLOCK). Moving the entry on every hit wrote to its two neighbours in
 * the list, random entries whose lines were cold, and the unlock that
 * follows waited for those writes: a tenth of a cache hit's time in
 * veiligd (perf, 10,000 names). An entry is one allocation: the header,
 * then its TTL offsets, its key name and the stored message; that whole
 * allocation is what the budget counts (the bucket arrays, 9 to 18 bytes
 * an entry, are not). Lookups never allocate; inserts allocate the entry
 * before taking the lock and free what they replaced or evicted after
 * dropping it.
 *
 * Beside each bucket is one octet of tags: bit cache_tag(hash) set for
 * every entry in its chain. A lookup for a key that is not there (every
 * cache miss, and the check an insert makes for an older entry) reads
 * only that octet, in an array an eighth the size of the buckets, and is
 * done unless its bit is set (one in eight for a chain of one): walking
 * the chain was a memory miss for the bucket and one per entry, the most
 * costly part of a miss in veiligd itself.
 *
 * Once the cache is full every miss evicts the LRU tail, an entry nobody
 * touched for long, in a chain nobody walked for long (the oldest entry
 * of its chain, so usually its last). Finding its predecessor walked the
 * chain from the bucket, a memory miss per entry, and recomputing the
 * bucket's tags walked it again. So each entry keeps a back pointer
 * (hpprev: the bucket's slot or the hnext of the entry before it), and
 * taking an entry out of its chain touches only its neighbours. The tags
 * may then keep a stale bit, for an entry gone from a chain that still
 * has two or more others (a shorter one is at hand and retagged
 * exactly): a stale bit only costs the lookup whose tag it matches a walk
 * of the chain, which finds nothing and sets the tags to what it saw.
 * The invariant is: the tags hold every bit of their chain, maybe more.
 * And the victim after next is known when one is evicted: its lines are
 * prefetched then, to be warm when its turn comes.
 *
 * A hit's own lines (the shard, the tags, the bucket, the entry) are cold
 * too, one after the other, each address known only once the line before
 * is in. A worker answering a batch of datagrams knows its questions
 * ahead: cache_prefetch() asks for the shard's tags and bucket of a
 * question a few queries before its lookup, and cache_prefetch_entry(),
 * one query later, for the entry the bucket points to. That read takes no
 * lock: it reads the tags and the bucket racily and uses what it finds
 * only as a hint (whether the key may be there: query.c asks the policy
 * at once for a question that is not, see cache_qcheck) and as an address
 * to prefetch (which never faults, even on a freed entry). So that the
 * tags and bucket it reads are never freed memory, cache_grow() keeps the
 * arrays it replaces until cache_free() (together less than the ones in
 * use: it doubles), and publishes new arrays before their size.
 *
 * An entry keeps two sets of policy bits, each with the generation of
 * the policy that gave them, worked out again under the shard lock by
 * the first lookup of another generation: the answer's (cache_inspect:
 * its targets and addresses, computed by the forwarder at insert time)
 * and the question's (cache_qcheck: the lists, deny and allow lists,
 * canaries and safe-search table that have the key's name, computed on
 * the first lookup that asks, so that an answer asked for once costs no
 * lookup of its name). A lookup checks the question's bits before it
 * writes anything: a hit whose bits the board's stop mask misses needs
 * no lookup of the name in the lists at all.
 */
#include <pthread.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cache.h"
#include "wire.h"

#define CACHE_SHARDS_MAX	64	/* a power of two */
#define CACHE_SHARD_MIN		(64 * 1024) /* least budget per shard */
#define CACHE_BUCKETS_INIT	64	/* a power of two */
#define CACHE_LINE		64	/* shard alignment */
#define CACHE_CHANCES		8	/* used entries sent back to the LRU
					   head per eviction, at most */

/* One cached answer; the variable part follows the header. */
struct cache_entry {
	struct cache_entry	*hnext;		/* hash chain; the first field */
	struct cache_entry	**hpprev;	/* what points to it: its
						   bucket or hnext before it */
	struct cache_entry	*prev;		/* LRU, towards the head */
	struct cache_entry	*next;		/* LRU, towards the tail */
	uint64_t		 hash;
	uint64_t		 mask;		/* inspection bits */
	uint32_t		 gen;		/* policy generation of mask */
	uint32_t		 qgen;		/* policy generation of qbits;
						   0: none yet */
	uint64_t		 qbits;		/* the key name's question
						   bits (cache_qcheck) */
	size_t			 charge;	/* bytes counted in the budget */
	uint32_t		 stored;	/* cache time of insertion */
	uint32_t		 ttl;		/* seconds fresh after stored */
	uint32_t		 failed;	/* cache time until which the
						   upstreams are not asked
						   again (cache_fail); 0 */
	uint32_t		 msg_len;
	uint16_t		 name_len;
	uint16_t		 qtype;
	uint16_t		 qclass;
	uint16_t		 nttl;
	uint8_t			 do_bit;
	uint8_t			 used;		/* hit since it was last put
						   at the LRU head */
	uint16_t		 ttl_off[];	/* nttl offsets, then the name
						   (name_len), then the message */
};

/* A bucket array replaced by a larger one, kept (see the top). */
struct cache_old {
	struct cache_old	*next;
	struct cache_entry	**buckets;
	uint8_t			*tags;
};

/* One shard; aligned so that two shards' locks share no cache line. */
struct cache_shard {
	pthread_mutex_t		 lock;
	struct cache_entry	**buckets;	/* read without the lock by
						   cache_prefetch_entry() */
	uint8_t			*tags;		/* of each bucket's chain */
	size_t			 nbuckets;	/* a power of two; the same */
	struct cache_old	*old;		/* arrays replaced, kept */
	struct cache_entry	*head;		/* most recently used */
	struct cache_entry	*tail;		/* next to evict */
	size_t			 max_bytes;
	size_t			 bytes;
	uint64_t		 entries;
	uint64_t		 hits;
	uint64_t		 stale_hits;
	uint64_t		 failed_hits;
	uint64_t		 misses;
	uint64_t		 inserts;
	uint64_t		 evictions;
} __attribute__((aligned(CACHE_LINE)));

struct cache {
	uint32_t		 stale_secs;
	uint32_t		 max_ttl;
	uint32_t		 max_neg_ttl;
	uint32_t		 failure_ttl;
	unsigned		 shard_shift;	/* 64 - log2(nshards) */
	size_t			 nshards;
	struct cache_shard	*shards;
};

static struct cache_shard *cache_shard(struct cache *, uint64_t);
static struct cache_entry *cache_find(struct cache_shard *, uint64_t,
		    const struct wire_query *);
static void	 cache_unchain(struct cache_shard *, struct cache_entry *);
static void	 cache_unlink(struct cache_shard *, struct cache_entry *);
static void	 cache_link(struct cache_shard *, struct cache_entry *);
static void	 cache_lru_front(struct cache_shard *, struct cache_entry *);
static struct cache_entry *cache_victim(struct cache_shard *);
static void	 cache_grow(struct cache_shard *);
static void	 cache_free_list(struct cache_entry *);

/* The shard of a hash: its top bits (the bucket uses the low ones). */
static struct cache_shard *
cache_shard(struct cache *c, uint64_t h)
{
	if (c->nshards == 1)
		return (&c->shards[0]);
	return (&c->shards[h >> c->shard_shift]);
}

/*
 * The tag bit of a hash, from bits that pick neither the shard (the top
 * ones) nor the bucket (the low ones, fewer than 32).
 */
static uint8_t
cache_tag(uint64_t h)
{
	return ((uint8_t)(1U << ((h >> 32) & 7)));
}

/*
 * The tags of bucket b made exactly its chain's. Every write of a tag is
 * an atomic store, as cache_prefetch_entry() reads them unlocked.
 */
static void __attribute__((noinline))
cache_retag(struct cache_shard *s, size_t b)
{
	const struct cache_entry	*e;
	uint8_t				 t = 0;

	for (e = s->buckets[b]; e != NULL; e = e->hnext)
		t |= cache_tag(e->hash);
	__atomic_store_n(&s->tags[b], t, __ATOMIC_RELAXED);
}

/*
 * Find the entry for q in shard s; the caller holds the lock. A walk that
 * finds nothing has the whole chain in the processor's cache: its tags
 * become exactly the chain's, which drops a stale bit (see the top of the
 * file). A hit, the common walk, does not pay for that (cache_retag()
 * is out of line so that the walk's loop stays as tight as it was).
 */
static struct cache_entry *
cache_find(struct cache_shard *s, uint64_t h, const struct wire_query *q)
{
	struct cache_entry	*e;
	const uint8_t		*name;
	size_t			 b = h & (s->nbuckets - 1);

	/* Nothing of this tag in the chain: not there, chain unread. */
	if ((s->tags[b] & cache_tag(h)) == 0)
		return (NULL);
	for (e = s->buckets[b]; e != NULL; e = e->hnext) {
		if (e->hash != h || e->name_len != q->name_len ||
		    e->qtype != q->qtype || e->qclass != q->qclass ||
		    e->do_bit != (q->do_bit ? 1 : 0))
			continue;
		name = (const uint8_t *)(e->ttl_off + e->nttl);
		if (memcmp(name, q->lname, e->name_len) == 0)
			return (e);
	}
	cache_retag(s, b);
	return (NULL);
}

/*
 * Take e out of its hash chain through its back pointer. What is left of
 * the chain is retagged when it is at most one entry, and that one is at
 * hand (e's neighbour, whose line the unlinking wrote); a longer rest
 * keeps e's bit, maybe stale (cache_find() drops it).
 */
static void
cache_unchain(struct cache_shard *s, struct cache_entry *e)
{
	struct cache_entry	**first, *one = NULL, *before;
	size_t			  b = e->hash & (s->nbuckets - 1);

	first = &s->buckets[b];
	/* Maybe a bucket, which cache_prefetch_entry() reads unlocked. */
	__atomic_store_n(e->hpprev, e->hnext, __ATOMIC_RELAXED);
	if (e->hnext != NULL)
		e->hnext->hpprev = e->hpprev;
	if (e->hpprev == first) {
		/* e was first: the rest is what followed it. */
		if (e->hnext == NULL) {
			__atomic_store_n(&s->tags[b], 0, __ATOMIC_RELAXED);
			return;
		}
		if (e->hnext->hnext == NULL)
			one = e->hnext;
	} else if (e->hnext == NULL) {
		/* e was last: the rest ends with the entry before it. */
		before = (struct cache_entry *)(void *)((uint8_t *)e->hpprev -
		    offsetof(struct cache_entry, hnext));
		if (before->hpprev == first)
			one = before;
	}
	if (one != NULL)
		__atomic_store_n(&s->tags[b], cache_tag(one->hash),
		    __ATOMIC_RELAXED);
}

/* Take e out of its chain and the LRU list and uncharge it. */
static void
cache_unlink(struct cache_shard *s, struct cache_entry *e)
{
	cache_unchain(s, e);

	if (e->prev != NULL)
		e->prev->next = e->next;
	else
		s->head = e->next;
	if (e->next != NULL)
		e->next->prev = e->prev;
	else
		s->tail = e->prev;

	s->bytes -= e->charge;
	s->entries--;
}

/* Put e in its chain and at the LRU head and charge it. */
static void
cache_link(struct cache_shard *s, struct cache_entry *e)
{
	size_t	b = e->hash & (s->nbuckets - 1);

	e->hnext = s->buckets[b];
	if (e->hnext != NULL)
		e->hnext->hpprev = &e->hnext;
	e->hpprev = &s->buckets[b];
	__atomic_store_n(&s->buckets[b], e, __ATOMIC_RELAXED);
	__atomic_store_n(&s->tags[b], s->tags[b] | cache_tag(e->hash),
	    __ATOMIC_RELAXED);

	e->prev = NULL;
	e->next = s->head;
	if (s->head != NULL)
		s->head->prev = e;
	else
		s->tail = e;
	s->head = e;
	e->used = 0;

	s->bytes += e->charge;
	s->entries++;
}

/* Move e to the LRU head: a few pointer writes under the lock. */
static void
cache_lru_front(struct cache_shard *s, struct cache_entry *e)
{
	if (s->head == e)
		return;
	e->prev->next = e->next;
	if (e->next != NULL)
		e->next->prev = e->prev;
	else
		s->tail = e->prev;
	e->prev = NULL;
	e->next = s->head;
	s->head->prev = e;
	s->head = e;
}

/*
 * The entries just evicted, the LRU tail is the next to go: its line is
 * warm now (the eviction wrote its next), so ask for the lines its own
 * eviction will write (its chain neighbours before and after it, its LRU
 * neighbour, its bucket's tags) while they are known without a wait.
 */
static void
cache_prefetch_victim(struct cache_shard *s)
{
	struct cache_entry	*t = s->tail;

	if (t == NULL)
		return;
	__builtin_prefetch(t->hpprev, 1);
	if (t->hnext != NULL)
		__builtin_prefetch(t->hnext, 1);
	if (t->prev != NULL)
		__builtin_prefetch(t->prev, 1);
	__builtin_prefetch(&s->tags[t->hash & (s->nbuckets - 1)], 1);
}

/*
 * The entry to evict next: the LRU tail, once the used entries found there
 * went back to the head with their mark cleared. At most CACHE_CHANCES of
 * them per eviction, so that one eviction under the lock stays short
 * whatever the hits did; past that the tail goes, used or not. NULL when
 * the shard is empty.
 */
static struct cache_entry *
cache_victim(struct cache_shard *s)
{
	struct cache_entry	*e;
	unsigned		 i;

	for (i = 0; i < CACHE_CHANCES; i++) {
		if ((e = s->tail) == NULL || !e->used)
			break;
		e->used = 0;
		cache_lru_front(s, e);
	}
	return (s->tail);
}

/*
 * Double the bucket array when the chains average more than one entry.
 * Only inserts call it; if the allocation fails the chains just get longer.
 */
static void
cache_grow(struct cache_shard *s)
{
	struct cache_entry	**nb, *e, *next;
	struct cache_old	 *old;
	uint8_t			 *nt;
	size_t			  n, i, b;

	if (s->entries <= s->nbuckets)
		return;
	n = s->nbuckets * 2;
	if ((nb = calloc(n, sizeof *nb)) == NULL)
		return;
	if ((nt = calloc(n, sizeof *nt)) == NULL) {
		free(nb);
		return;
	}
	if ((old = malloc(sizeof *old)) == NULL) {
		free(nt);
		free(nb);
		return;
	}
	for (i = 0; i < s->nbuckets; i++) {
		for (e = s->buckets[i]; e != NULL; e = next) {
			next = e->hnext;
			b = e->hash & (n - 1);
			e->hnext = nb[b];
			if (e->hnext != NULL)
				e->hnext->hpprev = &e->hnext;
			e->hpprev = &nb[b];
			nb[b] = e;
			nt[b] |= cache_tag(e->hash);
		}
	}
	/*
	 * The old arrays are kept (cache_prefetch_entry() may be reading
	 * them); the new ones are seen before their size, so that a reader
	 * who sees the new size sees them (an old size with a new array is
	 * in bounds).
	 */
	old->buckets = s->buckets;
	old->tags = s->tags;
	old->next = s->old;
	s->old = old;
	__atomic_store_n(&s->buckets, nb, __ATOMIC_RELEASE);
	__atomic_store_n(&s->tags, nt, __ATOMIC_RELEASE);
	__atomic_store_n(&s->nbuckets, n, __ATOMIC_RELEASE);
}

/* Free a list of entries chained through hnext. */
static void
cache_free_list(struct cache_entry *e)
{
	struct cache_entry	*next;

	for (; e != NULL; e = next) {
		next = e->hnext;
		free(e);
	}
}

struct cache *
cache_new(size_t max_bytes, uint32_t stale_secs, uint32_t max_ttl,
    uint32_t max_neg_ttl)
{
	struct cache		*c;
	struct cache_shard	*s;
	size_t			 i, bits;

	if ((c = calloc(1, sizeof *c)) == NULL)
		return (NULL);
	c->stale_secs = stale_secs;
	c->max_ttl = max_ttl;
	c->max_neg_ttl = max_neg_ttl;
	c->failure_ttl = CACHE_FAILURE_TTL;

	/*
	 * As many shards as fit with CACHE_SHARD_MIN each, up to the maximum,
	 * so that a small cache still takes answers of a few kilobytes.
	 */
	c->nshards = 1;
	bits = 0;
	while (c->nshards < CACHE_SHARDS_MAX &&
	    max_bytes / (c->nshards * 2) >= CACHE_SHARD_MIN) {
		c->nshards *= 2;
		bits++;
	}
	c->shard_shift = 64 - bits;

	if ((c->shards = aligned_alloc(CACHE_LINE,
	    c->nshards * sizeof *s)) == NULL) {
		free(c);
		return (NULL);
	}
	memset(c->shards, 0, c->nshards * sizeof *s);
	for (i = 0; i < c->nshards; i++) {
		s = &c->shards[i];
		s->max_bytes = max_bytes / c->nshards;
		s->nbuckets = CACHE_BUCKETS_INIT;
		s->buckets = calloc(s->nbuckets, sizeof *s->buckets);
		s->tags = calloc(s->nbuckets, sizeof *s->tags);
		if (s->buckets == NULL || s->tags == NULL ||
		    pthread_mutex_init(&s->lock, NULL) != 0) {
			free(s->buckets);
			free(s->tags);
			c->nshards = i;
			cache_free(c);
			return (NULL);
		}
	}
	return (c);
}

void
cache_free(struct cache *c)
{
	struct cache_shard	*s;
	struct cache_old	*old;
	size_t			 i;

	if (c == NULL)
		return;
	cache_flush(c);
	for (i = 0; i < c->nshards; i++) {
		s = &c->shards[i];
		pthread_mutex_destroy(&s->lock);
		free(s->buckets);
		free(s->tags);
		while ((old = s->old) != NULL) {
			s->old = old->next;
			free(old->buckets);
			free(old->tags);
			free(old);
		}
	}
	free(c->shards);
	free(c);
}

uint32_t
cache_now(void)
{
	struct timespec	ts;

	if (clock_gettime(CLOCK_MONOTONIC_COARSE, &ts) != 0)
		clock_gettime(CLOCK_MONOTONIC, &ts);
	return ((uint32_t)ts.tv_sec);
}

void
cache_prefetch(struct cache *c, uint64_t h)
{
	struct cache_shard	*s = cache_shard(c, h);
	size_t			 b;

	/* Racy reads, for addresses only (see the top of the file). */
	b = h & (__atomic_load_n(&s->nbuckets, __ATOMIC_ACQUIRE) - 1);
	__builtin_prefetch(&__atomic_load_n(&s->tags, __ATOMIC_RELAXED)[b]);
	__builtin_prefetch(&__atomic_load_n(&s->buckets, __ATOMIC_RELAXED)[b]);
}

int
cache_prefetch_entry(struct cache *c, uint64_t h)
{
	struct cache_shard	*s = cache_shard(c, h);
	struct cache_entry	**bk, *e;
	const uint8_t		*tags;
	size_t			 b;

	/*
	 * The size first, then an array at least as new: in bounds, and
	 * never freed (cache_grow() keeps it). The first entry of the chain
	 * (usually its only one) is the likely hit: its header, key name and
	 * the start of its message.
	 */
	b = h & (__atomic_load_n(&s->nbuckets, __ATOMIC_ACQUIRE) - 1);
	bk = __atomic_load_n(&s->buckets, __ATOMIC_ACQUIRE);
	/*
	 * The tags of an array as new as the buckets' or newer, at an index
	 * within its size (cache_grow() publishes both before the size and
	 * keeps the old ones): a hint, as the bucket is.
	 */
	tags = __atomic_load_n(&s->tags, __ATOMIC_ACQUIRE);
	if ((__atomic_load_n(&tags[b], __ATOMIC_RELAXED) & cache_tag(h)) == 0)
		return (0);
	if ((e = __atomic_load_n(&bk[b], __ATOMIC_RELAXED)) == NULL)
		return (0);
	__builtin_prefetch(e);
	__builtin_prefetch((const uint8_t *)e + CACHE_LINE);
	__builtin_prefetch((const uint8_t *)e + 2 * CACHE_LINE);
	return (1);
}

/*
 * Whether e's question bits, worked out again if they are of another
 * generation than qc's, meet qc's stop mask: a name the policy must be
 * asked about (blocked, rewritten, allowed for the caller's board), and
 * the cache again once it has been. The caller holds the shard's lock.
 */
static int
cache_qstop(struct cache_entry *e, const struct cache_qcheck *qc)
{
	if (e->qgen != qc->gen) {
		e->qbits = qc->fn(qc->arg, (const uint8_t *)(e->ttl_off +
		    e->nttl), e->name_len);
		e->qgen = qc->gen;
	}
	return ((e->qbits & qc->stop) != 0);
}

enum cache_result
cache_lookup(struct cache *c, const struct cache_req *req, uint8_t *out,
    size_t cap, size_t *outlen, uint64_t *mask)
{
	const struct wire_query		*q = req->q;
	const struct cache_inspect	*ins = req->ins;
	const struct cache_qcheck	*qc = req->qcheck;
	struct cache_shard		*s;
	struct cache_entry		*e, *dead = NULL;
	enum cache_result		 res = CACHE_MISS;
	struct wire_msg			 m;
	const uint8_t			*msg;
	uint64_t			 h;
	uint32_t			 age;
	size_t				 n = 0;
	int				 failed;

	if (!q->have_question)
		return (CACHE_MISS);
	h = wire_qhash(q);
	s = cache_shard(c, h);

	pthread_mutex_lock(&s->lock);
	if ((e = cache_find(s, h, q)) == NULL) {
		/*
		 * The insert of the answer, when it comes, writes this
		 * bucket (a cold line of a large cache): ask for it now.
		 */
		__builtin_prefetch(&s->buckets[h & (s->nbuckets - 1)], 1);
		goto out;
	}
	/* The question's bits, before anything is written or counted. */
	if (qc != NULL && cache_qstop(e, qc)) {
		res = CACHE_POLICY;
		goto out;
	}
	/* A clock that went back (only tests do that) counts as age 0. */
	age = req->now >= e->stored ? req->now - e->stored : 0;
	msg = (const uint8_t *)(e->ttl_off + e->nttl) + e->name_len;
	m.data = msg;
	m.len = e->msg_len;
	m.ttl_off = e->ttl_off;
	m.nttl = e->nttl;
	failed = req->now < e->failed;
	if (e->msg_len != 0 && age < e->ttl) {
		n = wire_answer_known(out, cap, &m, age, 0, q, req->udp_max);
		if (n != 0)
			res = CACHE_HIT;
	} else if (e->msg_len != 0 &&
	    (uint64_t)age < (uint64_t)e->ttl + c->stale_secs) {
		/*
		 * Kept for serve-stale; used when the upstreams failed, now
		 * (allow_stale) or a moment ago (RFC 8767's failure recheck
		 * timer: the stale answer at once, without asking again).
		 */
		if (req->allow_stale || failed) {
			n = wire_answer_known(out, cap, &m, 0, CACHE_STALE_TTL,
			    q, req->udp_max);
			if (n != 0)
				res = CACHE_STALE;
		}
		if (res == CACHE_MISS && failed)
			res = CACHE_FAILED;
	} else if (failed)
		res = CACHE_FAILED;
	else {
		/* Past the stale window, or a failure forgotten. */
		cache_unlink(s, e);
		dead = e;
		e = NULL;
	}
	/*
	 * Marked only when clear: a hot name's hits then read its line and
	 * do not write it, so with many workers the line is not moved
	 * between their cores on every hit.
	 */
	if (res != CACHE_MISS && !e->used)
		e->used = 1;
	if (res == CACHE_FAILED)
		s->failed_hits++;
	else if (res != CACHE_MISS) {
		/* Bits from an older policy: inspect again, once. */
		if (ins != NULL && e->gen != ins->gen) {
			e->mask = ins->fn(ins->arg, msg, e->msg_len);
			e->gen = ins->gen;
		}
		if (mask != NULL)
			*mask = e->mask;
	}
out:
	if (res == CACHE_HIT)
		s->hits++;
	else if (res == CACHE_STALE)
		s->stale_hits++;
	else if (res == CACHE_MISS && qc == NULL)
		s->misses++;
	pthread_mutex_unlock(&s->lock);

	free(dead);
	if (res == CACHE_HIT || res == CACHE_STALE)
		*outlen = n;
	return (res);
}

/*
 * How long an answer may live: its own TTL (sc->ttl), at most max_ttl, or
 * for a negative answer (RFC 2308: NXDOMAIN or NODATA) max_neg_ttl.
 */
static uint32_t
cache_lifetime(const struct cache *c, const struct wire_scan *sc)
{
	int	negative = sc->rcode == WIRE_NXDOMAIN || sc->ancount == 0;
	uint32_t cap = negative ? c->max_neg_ttl : c->max_ttl;

	return (sc->ttl < cap ? sc->ttl : cap);
}

void
cache_cap(const struct cache *c, uint8_t *msg, const struct wire_scan *sc)
{
	if (sc->rcode == WIRE_NOERROR || sc->rcode == WIRE_NXDOMAIN)
		wire_cap_ttls(msg, sc->ttl_off, sc->nttl,
		    cache_lifetime(c, sc));
}

void
cache_insert(struct cache *c, const struct wire_query *q, const uint8_t *msg,
    const struct wire_scan *sc, uint32_t now, uint64_t mask, uint32_t gen)
{
	struct cache_shard	*s;
	struct cache_entry	*e, *old, *dead = NULL;
	uint32_t		 ttl;
	uint64_t		 h;
	size_t			 charge;

	if (sc->ttl == 0 || !q->have_question || sc->nttl > WIRE_MAX_TTLS)
		return;
	/*
	 * Asked with CD=1, the upstream did not validate: such an answer
	 * must not reach the clients that rely on its validation.
	 */
	if (q->flags & WIRE_CD)
		return;
	if (sc->rcode != WIRE_NOERROR && sc->rcode != WIRE_NXDOMAIN)
		return;
	if (sc->len < WIRE_HDR_LEN || sc->len > WIRE_MAX_UDP)
		return;
	/*
	 * An answer to another question would never be served: not stored.
	 * So a hit, whose key is q's name, type and class, writes its
	 * answer without checking the question again (wire_answer_known()).
	 */
	if (!wire_question_is(msg, sc->len, q))
		return;

	if ((ttl = cache_lifetime(c, sc)) == 0)
		return;

	h = wire_qhash(q);
	s = cache_shard(c, h);
	charge = sizeof *e + sc->nttl * sizeof e->ttl_off[0] + q->name_len +
	    sc->len;
	if (charge > s->max_bytes)
		return;

	/* Build the entry before taking the lock. */
	if ((e = malloc(charge)) == NULL)
		return;
	e->hash = h;
	e->mask = mask;
	e->gen = gen;
	e->charge = charge;
	e->stored = now;
	e->ttl = ttl;
	e->failed = 0;
	e->msg_len = sc->len;
	e->name_len = q->name_len;
	e->qtype = q->qtype;
	e->qclass = q->qclass;
	e->nttl = sc->nttl;
	e->do_bit = q->do_bit ? 1 : 0;
	memcpy(e->ttl_off, sc->ttl_off, sc->nttl * sizeof e->ttl_off[0]);
	memcpy((uint8_t *)(e->ttl_off + e->nttl), q->lname, q->name_len);
	memcpy((uint8_t *)(e->ttl_off + e->nttl) + q->name_len, msg, sc->len);
	wire_cap_ttls((uint8_t *)(e->ttl_off + e->nttl) + q->name_len,
	    e->ttl_off, e->nttl, ttl);

	pthread_mutex_lock(&s->lock);
	if ((old = cache_find(s, h, q)) != NULL) {
		cache_unlink(s, old);
		old->hnext = dead;
		dead = old;
	}
	/* Evict from the LRU tail until the new entry fits. */
	while (s->bytes + charge > s->max_bytes &&
	    (old = cache_victim(s)) != NULL) {
		cache_unlink(s, old);
		old->hnext = dead;
		dead = old;
		s->evictions++;
	}
	if (dead != NULL)
		cache_prefetch_victim(s);
	cache_link(s, e);
	s->inserts++;
	cache_grow(s);
	pthread_mutex_unlock(&s->lock);

	cache_free_list(dead);
}

void
cache_fail(struct cache *c, const struct wire_query *q, uint32_t now)
{
	struct cache_shard	*s;
	struct cache_entry	*e, *old, *dead = NULL;
	uint64_t		 h;
	size_t			 charge;

	if (!q->have_question || (q->flags & WIRE_CD))
		return;
	h = wire_qhash(q);
	s = cache_shard(c, h);

	/* An entry already there (stale, likely) just remembers it. */
	pthread_mutex_lock(&s->lock);
	if ((e = cache_find(s, h, q)) != NULL) {
		e->failed = now + c->failure_ttl;
		pthread_mutex_unlock(&s->lock);
		return;
	}
	pthread_mutex_unlock(&s->lock);

	/* Else a small entry: the key and the time, no answer. */
	charge = sizeof *e + q->name_len;
	if (charge > s->max_bytes || (e = calloc(1, charge)) == NULL)
		return;
	e->hash = h;
	e->charge = charge;
	e->stored = now;
	e->failed = now + c->failure_ttl;
	e->name_len = q->name_len;
	e->qtype = q->qtype;
	e->qclass = q->qclass;
	e->do_bit = q->do_bit ? 1 : 0;
	memcpy((uint8_t *)(e->ttl_off + e->nttl), q->lname, q->name_len);

	pthread_mutex_lock(&s->lock);
	/* Another thread may have stored an answer meanwhile: keep it. */
	if ((old = cache_find(s, h, q)) != NULL) {
		old->failed = e->failed;
		pthread_mutex_unlock(&s->lock);
		free(e);
		return;
	}
	while (s->bytes + charge > s->max_bytes &&
	    (old = cache_victim(s)) != NULL) {
		cache_unlink(s, old);
		old->hnext = dead;
		dead = old;
		s->evictions++;
	}
	if (dead != NULL)
		cache_prefetch_victim(s);
	cache_link(s, e);
	cache_grow(s);
	pthread_mutex_unlock(&s->lock);
	cache_free_list(dead);
}

void
cache_set_failure_ttl(struct cache *c, uint32_t secs)
{
	c->failure_ttl = secs;
}

void
cache_flush(struct cache *c)
{
	struct cache_shard	*s;
	struct cache_entry	*dead, *e;
	size_t			 i, b;

	for (i = 0; i < c->nshards; i++) {
		s = &c->shards[i];
		/* Detach the whole LRU list under the lock, free it after. */
		pthread_mutex_lock(&s->lock);
		dead = s->head;
		s->head = s->tail = NULL;
		/*
		 * cache_prefetch_entry() reads the buckets and tags
		 * unlocked, with atomic loads: so they are cleared with
		 * atomic stores, not memset() (a data race, which TSan
		 * reports, and a torn pointer in theory; only ever hints,
		 * but a race).
		 */
		for (b = 0; b < s->nbuckets; b++) {
			__atomic_store_n(&s->buckets[b], NULL,
			    __ATOMIC_RELAXED);
			__atomic_store_n(&s->tags[b], 0, __ATOMIC_RELAXED);
		}
		s->bytes = 0;
		s->entries = 0;
		pthread_mutex_unlock(&s->lock);

		for (; dead != NULL; dead = e) {
			e = dead->next;
			free(dead);
		}
	}
}

void
cache_stats(struct cache *c, struct cache_stats *st)
{
	struct cache_shard	*s;
	size_t			 i;

	memset(st, 0, sizeof *st);
	for (i = 0; i < c->nshards; i++) {
		s = &c->shards[i];
		pthread_mutex_lock(&s->lock);
		st->entries += s->entries;
		st->bytes += s->bytes;
		st->hits += s->hits;
		st->stale_hits += s->stale_hits;
		st->failed_hits += s->failed_hits;
		st->misses += s->misses;
		st->inserts += s->inserts;
		st->evictions += s->evictions;
		pthread_mutex_unlock(&s->lock);
	}
}

/* cache_verify() of one shard, locked; adds its stale buckets to *stale. */
static int
cache_verify_shard(const struct cache_shard *s, size_t *stale)
{
	const struct cache_entry	*e, *prev = NULL;
	struct cache_entry * const	*pp;
	uint64_t			 n = 0, chained = 0;
	size_t				 bytes = 0, b;
	uint8_t				 t;

	for (e = s->head; e != NULL; prev = e, e = e->next) {
		if (e->prev != prev || ++n > s->entries)
			return (-1);
		bytes += e->charge;
	}
	if (prev != s->tail || n != s->entries || bytes != s->bytes ||
	    bytes > s->max_bytes)
		return (-1);
	for (b = 0; b < s->nbuckets; b++) {
		t = 0;
		for (pp = &s->buckets[b]; (e = *pp) != NULL; pp = &e->hnext) {
			if (e->hpprev != pp ||
			    (e->hash & (s->nbuckets - 1)) != b ||
			    ++chained > n)
				return (-1);
			t |= cache_tag(e->hash);
		}
		if ((s->tags[b] & t) != t)
			return (-1);
		if (s->tags[b] != t)
			(*stale)++;
	}
	return (chained == n ? 0 : -1);
}

int
cache_verify(struct cache *c, size_t *stale)
{
	struct cache_shard	*s;
	size_t			 i, dummy = 0;
	int			 r = 0;

	if (stale == NULL)
		stale = &dummy;
	*stale = 0;
	for (i = 0; i < c->nshards && r == 0; i++) {
		s = &c->shards[i];
		pthread_mutex_lock(&s->lock);
		r = cache_verify_shard(s, stale);
		pthread_mutex_unlock(&s->lock);
	}
	return (r);
}
