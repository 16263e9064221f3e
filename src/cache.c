/*
 * cache.c: the sharded message cache shared by all workers.
 *
 * The key (lname, qtype, qclass, DO bit) is hashed with SipHash-1-3
 * under the process's random key (wire_qhash()), so a remote party who
 * picks query names cannot aim them at one slot; the hash is the one the
 * forwarder and the registry of questions in flight use, worked out once
 * per query by query.c and kept in the struct wire_query. The top bits of
 * the hash pick the shard, the low bits the slot.
 *
 * Each shard has its own mutex, hash table, LRU list (head = most
 * recently used) and byte budget. A hit does not move its entry to the
 * head: it marks it used, and the eviction gives a used entry at the tail
 * a second chance (back to the head, mark cleared) instead of evicting it
 * (CLOCK). Moving the entry on every hit wrote to its two neighbours in
 * the list, random entries whose lines were cold, and the unlock that
 * follows waited for those writes: a tenth of a cache hit's time in
 * veiligd (perf, 10,000 names). An entry is one allocation: the header,
 * then its TTL offsets, its key name and the stored message; that whole
 * allocation is what the budget counts (the table of slots, 16 to 32
 * octets an entry, is not). Lookups never allocate; inserts allocate the entry
 * before taking the lock and free what they replaced or evicted after
 * dropping it.
 *
 * The index is a table of 8-octet slots, open addressing with linear
 * probing: a slot holds its entry's address (48 bits, which user space
 * addresses fit; an entry at an address that does not is just not
 * stored; malloc()'s 16-octet alignment leaves its low 4 bits to the
 * hash bits above those that pick the slot, which a doubling needs), its
 * distance from the slot its hash picks (8 bits) and 8 more bits of the
 * hash as a tag; 0 is an empty slot. A lookup reads the
 * slots from the one its hash picks to the first empty one, eight to a
 * line, and an entry's line only when a tag matches (one in 256 for
 * another key): a miss reads one line of slots, a hit that line and the
 * entry. The table doubles when it is half full, so runs are short; or
 * a little before: shard i of n at a load of 1/2 - i/(8n) (from 1/2 down
 * to about 3/8), so that the shards, which the hash fills evenly, do not
 * all double at once. They did: a doubling rewrites the whole table, and
 * all 64 of a 256 MiB cache doubled within some 40,000 inserts, about
 * 100 ms of a worker's time at a million entries, in which a worker at
 * two thirds of its core let its listening socket overflow
 * (tests/bench/README.md, "The cache's doublings in step"). Spread over
 * the quarter of the entries between the first shard's load and the
 * last's (250,000 inserts there), that work came to at most 9 ms of any
 * 100 ms. A table is at most half full still; a cache that stops
 * growing with its tables between 3/8 and 1/2 full has some of them
 * twice as large.
 * Removing an entry moves the slots after it in its run back (backward
 * shift, no tombstones), which the distances allow without reading
 * their entries: an eviction writes the victim's slot line (the victim's
 * own line it reads anyway) and nothing else of the index, and an insert
 * writes the one slot line its lookup read. The chains and tags before
 * this wrote, per miss of a full cache, the victim's chain neighbours (a
 * bucket or an entry before it, maybe one after), its bucket's tags and
 * the old head of the new entry's chain: cold lines of random pages,
 * with the domain lists beside them a third of the miss path's samples
 * (perf, tests/bench/README.md).
 *
 * Once the cache is full every miss evicts the LRU tail, an entry nobody
 * touched for long; the entry after it in the list, the next victim, has
 * its line warm then (the eviction wrote it): its slot's line is
 * prefetched at once.
 *
 * A hit's own lines (the shard, the slots, the entry) are cold too, one
 * after the other, each address known only once the line before is in.
 * A worker answering a batch of datagrams knows its questions ahead:
 * cache_prefetch() asks for the shard's slot line of a question a few
 * queries before its lookup, and cache_prefetch_entry(), one query later,
 * for the entry whose tag matches there. That read takes no lock: it
 * reads the slots racily (each one atomic, 8 octets) and uses what it
 * finds only as a hint (whether the key may be there: query.c asks the
 * policy at once for a question that is not, see cache_qcheck) and as an
 * address to prefetch (which never faults, even on a freed entry). So
 * that the slots it reads are never freed memory, a shard's table never
 * moves: cache_new() reserves the address space of the largest it can
 * need (the budget filled with the smallest entries, at half load), the
 * kernel gives pages as the table grows into it, and cache_grow()
 * rehashes in place, publishing the new size after the slots (an old size
 * reads within the new table; what it finds there is a hint, as ever).
 * Tables that were kept for such readers, each doubling's old one, came
 * to as much memory again as the table in use.
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
#include <sys/mman.h>

#include <pthread.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cache.h"
#include "huge.h"
#include "wire.h"

#define CACHE_SHARDS_MAX	64	/* a power of two */
#define CACHE_SHARD_MIN		(64 * 1024) /* least budget per shard */
#define CACHE_SLOTS_INIT	128	/* a power of two */
#define CACHE_LINE		64	/* shard alignment */
#define CACHE_PAGE		4096	/* the offset of one table from the
					   next (cache_new()) */
#define CACHE_CHANCES		8	/* used entries sent back to the LRU
					   head per eviction, at most */
#define CACHE_LOAD_UNIT		1024	/* a shard's load is in 1/1024ths */
#define CACHE_LOAD_MAX		512	/* half: the load of shard 0 */
#define CACHE_LOAD_SPREAD	128	/* the last shard's is almost this
					   much less (cache_new()) */

/* A slot: entry address, distance from its hash's slot, tag; 0: empty. */
#define CACHE_ADDR_BITS		48
#define CACHE_ADDR_MASK		((UINT64_C(1) << CACHE_ADDR_BITS) - 1)
#define CACHE_SPARE_BITS	4	/* an entry's address is 16-aligned:
					   its low bits carry hash bits */
#define CACHE_SPARE_MASK	((UINT64_C(1) << CACHE_SPARE_BITS) - 1)
#define CACHE_DIST_MAX		255
#define CACHE_DIST_FIELD	((uint64_t)CACHE_DIST_MAX << CACHE_ADDR_BITS)

/* One cached answer; the variable part follows the header. */
struct cache_entry {
	struct cache_entry	*prev;		/* LRU, towards the head */
	struct cache_entry	*next;		/* LRU, towards the tail; once
						   out of the cache, the list
						   of entries to free */
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

/* One shard; aligned so that two shards' locks share no cache line. */
struct cache_shard {
	pthread_mutex_t		 lock;
	uint64_t		*slots;		/* maxslots reserved, nslots
						   in use; read without the
						   lock by
						   cache_prefetch_entry() */
	size_t			 nslots;	/* a power of two; the same */
	size_t			 maxslots;	/* the most it can need */
	size_t			 load;		/* doubles past this many
						   1/CACHE_LOAD_UNIT of
						   nslots taken */
	unsigned		 spare;		/* how many of every slot's
						   spare bits hold hash bits
						   (cache_grow()) */
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
	uint64_t		 unstored;	/* cache_link() refused */
	uint64_t		 evictions;
} __attribute__((aligned(CACHE_LINE)));

struct cache {
	/*
	 * The table every doubling builds the new slots in, before they
	 * are written over the old ones: as large as the largest table,
	 * all zero between doublings, its pages kept. Taken after a
	 * shard's lock, never before one.
	 */
	pthread_mutex_t		 scratch_lock;
	uint64_t		*scratch;
	size_t			 scratch_len;	/* octets mapped */
	uint8_t			*map;		/* the mapping all the shards'
						   tables lie in */
	size_t			 maplen;	/* its length */
	uint8_t			*huge;		/* per huge page of the tables
						   (from the first aligned
						   one): 1 once on a huge page
						   (cache_huge()), under
						   scratch_lock */
	size_t			 nhuge;
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
static void	 cache_unslot(struct cache_shard *, struct cache_entry *);
static void	 cache_unlink(struct cache_shard *, struct cache_entry *);
static int	 cache_link(struct cache_shard *, struct cache_entry *);
static void	 cache_lru_front(struct cache_shard *, struct cache_entry *);
static struct cache_entry *cache_victim(struct cache_shard *);
static void	 cache_grow(struct cache *, struct cache_shard *);
static void	 cache_huge(struct cache *, const struct cache_shard *);
static void	 cache_free_list(struct cache_entry *);

/* The shard of a hash: its top bits (the slot uses the low ones). */
static struct cache_shard *
cache_shard(struct cache *c, uint64_t h)
{
	if (c->nshards == 1)
		return (&c->shards[0]);
	return (&c->shards[h >> c->shard_shift]);
}

/*
 * The tag of a hash, from bits that pick neither the shard (the top six
 * at most) nor the slot (the low ones, fewer than 40).
 */
static uint64_t
cache_tag(uint64_t h)
{
	return ((h >> 40) & 0xff);
}

/*
 * The slot of entry e at distance dist from its hash's slot in a table of
 * nslots; its spare bits carry the hash bits just above those that pick
 * the slot, which the table's next doublings need (cache_grow()).
 */
static uint64_t
cache_slot_make(size_t nslots, const struct cache_entry *e, uint64_t dist)
{
	unsigned	bits = (unsigned)__builtin_ctzll(nslots);

	return ((uint64_t)(uintptr_t)e | ((e->hash >> bits) &
	    CACHE_SPARE_MASK) | dist << CACHE_ADDR_BITS |
	    cache_tag(e->hash) << 56);
}

/* The entry of an occupied slot. */
static struct cache_entry *
cache_slot_entry(uint64_t v)
{
	return ((struct cache_entry *)(uintptr_t)(v & CACHE_ADDR_MASK &
	    ~CACHE_SPARE_MASK));
}

/* Its distance from the slot its hash picks. */
static uint64_t
cache_slot_dist(uint64_t v)
{
	return ((v >> CACHE_ADDR_BITS) & CACHE_DIST_MAX);
}

/*
 * Write a slot. Every write is an atomic store, as cache_prefetch_entry()
 * reads the slots unlocked.
 */
static void
cache_slot_set(uint64_t *slot, uint64_t v)
{
	__atomic_store_n(slot, v, __ATOMIC_RELAXED);
}

/*
 * Are the names a and b of len octets the same? Eight octets at a time,
 * the last eight overlapping the word before: inline, where a call of
 * memcmp() cost a hit some 25 instructions.
 */
static inline __attribute__((always_inline)) int
cache_name_equal(const uint8_t *a, const uint8_t *b, size_t len)
{
	uint64_t	x, y;
	size_t		i;

	if (len < 8)
		return (memcmp(a, b, len) == 0);
	for (i = 0; i + 8 < len; i += 8) {
		memcpy(&x, a + i, sizeof x);
		memcpy(&y, b + i, sizeof y);
		if (x != y)
			return (0);
	}
	memcpy(&x, a + len - 8, sizeof x);
	memcpy(&y, b + len - 8, sizeof y);
	return (x == y);
}

/*
 * Find the entry for q in shard s; the caller holds the lock. The run
 * from the hash's slot to an empty one holds every entry of this hash;
 * an entry's line is read only when its slot's tag is the key's. Inline:
 * a hit saves the call and the saving of registers around it (callgrind,
 * build/hitpath).
 */
static inline __attribute__((always_inline)) struct cache_entry *
cache_find(struct cache_shard *s, uint64_t h, const struct wire_query *q)
{
	struct cache_entry	*e;
	const uint8_t		*name;
	uint64_t		 v, tag = cache_tag(h) << 56;
	size_t			 mask = s->nslots - 1, i;

	for (i = h & mask; (v = s->slots[i]) != 0; i = (i + 1) & mask) {
		if ((v & (UINT64_C(0xff) << 56)) != tag)
			continue;
		e = cache_slot_entry(v);
		if (e->hash != h || e->name_len != q->name_len ||
		    e->qtype != q->qtype || e->qclass != q->qclass ||
		    e->do_bit != (q->do_bit ? 1 : 0))
			continue;
		name = (const uint8_t *)(e->ttl_off + e->nttl);
		if (cache_name_equal(name, q->lname, e->name_len))
			return (e);
	}
	return (NULL);
}

/*
 * Take e's slot out of the table: find it in e's run, then move back
 * each slot after it in the run that may be nearer its hash's slot
 * (its distance says how far it may go), until an empty slot. Only
 * slots are read and written, no other entry.
 */
static void
cache_unslot(struct cache_shard *s, struct cache_entry *e)
{
	size_t		 mask = s->nslots - 1, i, j, gap;
	uint64_t	 v;

	for (i = e->hash & mask; cache_slot_entry(s->slots[i]) != e;
	    i = (i + 1) & mask)
		;
	for (j = (i + 1) & mask; (v = s->slots[j]) != 0;
	    j = (j + 1) & mask) {
		gap = (j - i) & mask;
		if (cache_slot_dist(v) < gap)
			continue;	/* its hash's slot is after the hole */
		cache_slot_set(&s->slots[i], v - ((uint64_t)gap <<
		    CACHE_ADDR_BITS));
		i = j;
	}
	cache_slot_set(&s->slots[i], 0);
}

/* Take e out of the table and the LRU list and uncharge it. */
static void
cache_unlink(struct cache_shard *s, struct cache_entry *e)
{
	cache_unslot(s, e);

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

/*
 * Put e in the first empty slot of its run and at the LRU head and charge
 * it. -1, and nothing changed, when the table has no room for it: more
 * than three quarters full (cache_grow() failed) or no empty slot within
 * CACHE_DIST_MAX, or an address above 48 bits.
 */
static int
cache_link(struct cache_shard *s, struct cache_entry *e)
{
	size_t		 mask = s->nslots - 1, i, dist;

	if (((uintptr_t)e & ~(uintptr_t)(CACHE_ADDR_MASK &
	    ~CACHE_SPARE_MASK)) != 0 ||
	    (s->entries + 1) * 4 > s->nslots * 3)
		return (-1);
	i = e->hash & mask;
	for (dist = 0; s->slots[i] != 0; dist++) {
		if (dist == CACHE_DIST_MAX)
			return (-1);
		i = (i + 1) & mask;
	}
	cache_slot_set(&s->slots[i], cache_slot_make(s->nslots, e, dist));

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
	return (0);
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
 * eviction will write (its slot's, its LRU neighbour's) while they are
 * known without a wait.
 */
static void
cache_prefetch_victim(struct cache_shard *s)
{
	struct cache_entry	*t = s->tail;

	if (t == NULL)
		return;
	__builtin_prefetch(&s->slots[t->hash & (s->nslots - 1)], 1);
	if (t->prev != NULL)
		__builtin_prefetch(t->prev, 1);
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
 * Double the table when one more entry would fill more than its shard's
 * load of it (half, or a little less: see the top). Only inserts call
 * it; if a run does not fit in the new table the runs just get longer
 * (and cache_link() refuses entries past three quarters). The
 * new slot of an entry needs one bit of its hash that its old slot does
 * not give: its slot's spare bits hold the next few
 * (cache_slot_make()), one used up a doubling, so that only one doubling
 * in CACHE_SPARE_BITS + 1 reads every entry for it (and gives every slot
 * its spare bits again). That read of every entry's line, cold in a large
 * cache, under the shard's lock, took 12-24 % of veiligd's samples on the
 * miss path while the cache filled (tests/bench/README.md).
 * The new table is built aside, then written over the old one in place
 * (see the top: readers without the lock), then its size published.
 * Aside is the cache's scratch table, whose pages stay: a table calloc()ed
 * for each doubling was fresh pages from the kernel, whose faults took
 * two thirds of a doubling's time on this guest (2.4 of 3.8 ms to 65,536
 * slots; tests/bench/README.md, "The cache's doublings: a scratch table
 * kept").
 */
static void
cache_grow(struct cache *c, struct cache_shard *s)
{
	struct cache_entry	*e;
	uint64_t		*nt, v, nv;
	size_t			 n, i, j, dist, mask = s->nslots - 1;
	unsigned		 bits = (unsigned)__builtin_ctzll(s->nslots);

	if ((s->entries + 1) * CACHE_LOAD_UNIT <= s->nslots * s->load ||
	    s->nslots * 2 > s->maxslots)
		return;
	n = s->nslots * 2;
	pthread_mutex_lock(&c->scratch_lock);
	nt = c->scratch;
	for (i = 0; i < s->nslots; i++) {
		if ((v = s->slots[i]) == 0)
			continue;
		if (s->spare > 0) {
			/* Its hash's old slot, and the bit above from v. */
			j = ((i - cache_slot_dist(v)) & mask) |
			    (size_t)(v & 1) << bits;
			nv = (v & ~(CACHE_SPARE_MASK | CACHE_DIST_FIELD)) |
			    (v & CACHE_SPARE_MASK) >> 1;
		} else {
			e = cache_slot_entry(v);
			j = e->hash & (n - 1);
			nv = cache_slot_make(n, e, 0);
		}
		for (dist = 0; nt[j] != 0; dist++)
			j = (j + 1) & (n - 1);
		/*
		 * In a table twice the size, half as dense, runs are
		 * short: within CACHE_DIST_MAX all but surely, but
		 * checked.
		 */
		if (dist > CACHE_DIST_MAX) {
			memset(nt, 0, n * sizeof *nt);
			pthread_mutex_unlock(&c->scratch_lock);
			return;
		}
		nt[j] = nv | (uint64_t)dist << CACHE_ADDR_BITS;
	}
	/* Copied over, and the scratch left all zero for the next. */
	for (i = 0; i < n; i++) {
		cache_slot_set(&s->slots[i], nt[i]);
		nt[i] = 0;
	}
	__atomic_store_n(&s->nslots, n, __ATOMIC_RELEASE);
	s->spare = s->spare > 0 ? s->spare - 1 : CACHE_SPARE_BITS;
	cache_huge(c, s);
	pthread_mutex_unlock(&c->scratch_lock);
}

/* Where the tables start in c's mapping: its first huge page boundary. */
static uintptr_t
cache_tables(const struct cache *c)
{
	return (((uintptr_t)c->map + HUGE_PAGE - 1) &
	    ~(uintptr_t)(HUGE_PAGE - 1));
}

/*
 * Put on huge pages those of the 2 MiB the grown table of s lies in that
 * the tables (s's and its neighbours') now fill at least 3/8 of. A
 * full cache's tables are read at random, a line per lookup and per
 * eviction, tens of MiB of them: on 4 KiB pages most such reads miss
 * the TLB, and more so while the VM's DAMON scans (tests/bench/
 * README.md, "Huge pages for the cache's tables"). Not the whole
 * mapping: every table's first pages, touched at once, would then take
 * a huge page each, 64 MiB for an empty cache of 256 MiB. Not at half
 * either: a full cache of 256 MiB has its tables at half of what they
 * may become, a page short of half of each 2 MiB. So the tables of a
 * full cache take twice their memory (32 MiB more at 256 MiB), those of
 * a cache that stays small none. khugepaged puts them on huge pages,
 * in its own time (huge_later()), a minute or so for those 32 MiB.
 * The caller holds the scratch lock, which every table's doubling
 * takes: the sizes read here are exact.
 */
static void
cache_huge(struct cache *c, const struct cache_shard *s)
{
	uintptr_t	 base, p, a, b, lo, hi;
	size_t		 h, i, used;

	base = cache_tables(c);
	lo = (uintptr_t)s->slots;
	hi = (uintptr_t)(s->slots + s->nslots);
	if (hi <= base)
		return;
	h = lo > base ? (lo - base) / HUGE_PAGE : 0;
	for (; h < c->nhuge && base + h * HUGE_PAGE < hi; h++) {
		if (c->huge[h])
			continue;
		p = base + h * HUGE_PAGE;
		used = 0;
		for (i = 0; i < c->nshards; i++) {
			a = (uintptr_t)c->shards[i].slots;
			b = (uintptr_t)(c->shards[i].slots +
			    c->shards[i].nslots);
			a = a > p ? a : p;
			b = b < p + HUGE_PAGE ? b : p + HUGE_PAGE;
			if (b > a)
				used += b - a;
		}
		if (used * 8 < HUGE_PAGE * 3)
			continue;
		c->huge[h] = 1;
		huge_later((void *)p);
	}
}

/* Free a list of entries chained through next. */
static void
cache_free_list(struct cache_entry *e)
{
	struct cache_entry	*next;

	for (; e != NULL; e = next) {
		next = e->next;
		free(e);
	}
}

struct cache *
cache_new(size_t max_bytes, uint32_t stale_secs, uint32_t max_ttl,
    uint32_t max_neg_ttl)
{
	struct cache		*c;
	struct cache_shard	*s;
	uintptr_t		 base;
	size_t			 i, bits, most, slots, stride;

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
	/*
	 * The largest table a shard can need: every entry is charged more
	 * than its header, so the budget holds fewer than most entries;
	 * the table is at most half full, so it needs at most twice as
	 * many slots. Every shard has the same budget, so the same
	 * largest table, and the scratch (cache_grow()) is one of those.
	 * Reserved, not touched: pages come as the tables grow.
	 */
	most = (max_bytes / c->nshards) / sizeof(struct cache_entry) + 1;
	for (slots = CACHE_SLOTS_INIT; slots < most * 2; slots *= 2)
		;
	c->scratch_len = slots * sizeof *c->scratch;
	c->scratch = mmap(NULL, c->scratch_len, PROT_READ | PROT_WRITE,
	    MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (c->scratch == MAP_FAILED ||
	    pthread_mutex_init(&c->scratch_lock, NULL) != 0) {
		if (c->scratch != MAP_FAILED)
			munmap(c->scratch, c->scratch_len);
		free(c->shards);
		free(c);
		return (NULL);
	}
	/*
	 * The tables side by side in one mapping, aligned to a huge page
	 * (cache_huge()), each a page after the end of the one before: in
	 * mappings a power of two apart their first pages, the only ones of
	 * a small table, all fell in one set of the second-level TLB (16
	 * ways on the development machine's EPYC), and a lookup walked the
	 * page tables for most slot lines it read. Pages never touched are
	 * never backed.
	 */
	stride = slots * sizeof *s->slots + CACHE_PAGE;
	c->nhuge = (c->nshards * stride + HUGE_PAGE - 1) / HUGE_PAGE;
	/* Its huge pages whole, so that no advice falls past its end. */
	c->maplen = (c->nhuge + 1) * HUGE_PAGE;
	c->map = mmap(NULL, c->maplen, PROT_READ | PROT_WRITE,
	    MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (c->map == MAP_FAILED ||
	    (c->huge = calloc(c->nhuge, 1)) == NULL) {
		if (c->map != MAP_FAILED)
			munmap(c->map, c->maplen);
		pthread_mutex_destroy(&c->scratch_lock);
		munmap(c->scratch, c->scratch_len);
		free(c->shards);
		free(c);
		return (NULL);
	}
	base = cache_tables(c);
	for (i = 0; i < c->nshards; i++) {
		s = &c->shards[i];
		s->max_bytes = max_bytes / c->nshards;
		s->maxslots = slots;
		s->nslots = CACHE_SLOTS_INIT;
		s->spare = CACHE_SPARE_BITS;
		/* Each shard its own, so that they double one by one. */
		s->load = CACHE_LOAD_MAX - i * CACHE_LOAD_SPREAD / c->nshards;
		s->slots = (uint64_t *)(base + i * stride);
		if (pthread_mutex_init(&s->lock, NULL) != 0) {
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
	size_t			 i;

	if (c == NULL)
		return;
	cache_flush(c);
	for (i = 0; i < c->nshards; i++) {
		s = &c->shards[i];
		pthread_mutex_destroy(&s->lock);
	}
	munmap(c->map, c->maplen);
	free(c->huge);
	pthread_mutex_destroy(&c->scratch_lock);
	munmap(c->scratch, c->scratch_len);
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
	b = h & (__atomic_load_n(&s->nslots, __ATOMIC_ACQUIRE) - 1);
	__builtin_prefetch(&s->slots[b]);
}

int
cache_prefetch_entry(struct cache *c, uint64_t h)
{
	struct cache_shard	*s = cache_shard(c, h);
	struct cache_entry	*e;
	const uint64_t		*t;
	uint64_t		 v;
	size_t			 mask, i, k;

	/*
	 * The size, in bounds of the table whatever happens after (it
	 * grows in place). The slots of the run are read atomically each,
	 * but not together (a hint); the first entry whose tag is the
	 * key's, the likely hit: its header, key name and the start of its
	 * message. A run longer than a line's slots may have it further: 1
	 * without a look.
	 */
	mask = __atomic_load_n(&s->nslots, __ATOMIC_ACQUIRE) - 1;
	t = s->slots;
	for (k = 0, i = h & mask; k < 8; k++, i = (i + 1) & mask) {
		if ((v = __atomic_load_n(&t[i], __ATOMIC_RELAXED)) == 0)
			return (0);
		if ((v >> 56) != cache_tag(h))
			continue;
		e = cache_slot_entry(v);
		__builtin_prefetch(e);
		__builtin_prefetch((const uint8_t *)e + CACHE_LINE);
		__builtin_prefetch((const uint8_t *)e + 2 * CACHE_LINE);
		return (1);
	}
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
		__builtin_prefetch(&s->slots[h & (s->nslots - 1)], 1);
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
		old->next = dead;
		dead = old;
	}
	/* Evict from the LRU tail until the new entry fits. */
	while (s->bytes + charge > s->max_bytes &&
	    (old = cache_victim(s)) != NULL) {
		cache_unlink(s, old);
		old->next = dead;
		dead = old;
		s->evictions++;
	}
	if (dead != NULL)
		cache_prefetch_victim(s);
	cache_grow(c, s);
	if (cache_link(s, e) == 0)
		s->inserts++;
	else {
		/* No room in the table (see cache_link()): not stored. */
		s->unstored++;
		e->next = dead;
		dead = e;
	}
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
		old->next = dead;
		dead = old;
		s->evictions++;
	}
	if (dead != NULL)
		cache_prefetch_victim(s);
	cache_grow(c, s);
	if (cache_link(s, e) != 0) {
		s->unstored++;
		e->next = dead;
		dead = e;
	}
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
		 * cache_prefetch_entry() reads the slots unlocked, with
		 * atomic loads: so they are cleared with atomic stores, not
		 * memset() (a data race, which TSan reports, and a torn
		 * slot in theory; only ever hints, but a race).
		 */
		for (b = 0; b < s->nslots; b++)
			cache_slot_set(&s->slots[b], 0);
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
		st->max_bytes += s->max_bytes;
		st->hits += s->hits;
		st->stale_hits += s->stale_hits;
		st->failed_hits += s->failed_hits;
		st->misses += s->misses;
		st->inserts += s->inserts;
		st->unstored += s->unstored;
		st->evictions += s->evictions;
		st->slots += s->nslots;
		pthread_mutex_unlock(&s->lock);
	}
}

/*
 * cache_verify() of one shard, locked; raises *far to the longest
 * distance of a slot from its hash's.
 */
static int
cache_verify_shard(const struct cache_shard *s, size_t *far)
{
	const struct cache_entry	*e, *prev = NULL;
	uint64_t			 n = 0, slotted = 0, v, valid;
	size_t				 bytes = 0, mask = s->nslots - 1, i, d;

	/* Spare bits past the valid ones may be anything. */
	valid = ~CACHE_SPARE_MASK | ((UINT64_C(1) << s->spare) - 1);

	for (e = s->head; e != NULL; prev = e, e = e->next) {
		if (e->prev != prev || ++n > s->entries)
			return (-1);
		bytes += e->charge;
		/* In the run of its hash, before any empty slot. */
		for (i = e->hash & mask, d = 0; cache_slot_entry(s->slots[i]) !=
		    e; i = (i + 1) & mask, d++) {
			if (s->slots[i] == 0 || d >= s->nslots)
				return (-1);
		}
		if (((s->slots[i] ^ cache_slot_make(s->nslots, e, d)) &
		    valid) != 0)
			return (-1);
	}
	if (prev != s->tail || n != s->entries || bytes != s->bytes ||
	    bytes > s->max_bytes)
		return (-1);
	/* No other slot taken: each entry has one, found above. */
	for (i = 0; i < s->nslots; i++) {
		if ((v = s->slots[i]) == 0)
			continue;
		slotted++;
		if (cache_slot_dist(v) > *far)
			*far = cache_slot_dist(v);
	}
	return (slotted == n ? 0 : -1);
}

int
cache_verify(struct cache *c, size_t *far)
{
	struct cache_shard	*s;
	size_t			 i, dummy = 0;
	int			 r = 0;

	if (far == NULL)
		far = &dummy;
	*far = 0;
	for (i = 0; i < c->nshards && r == 0; i++) {
		s = &c->shards[i];
		pthread_mutex_lock(&s->lock);
		r = cache_verify_shard(s, far);
		pthread_mutex_unlock(&s->lock);
	}
	return (r);
}
