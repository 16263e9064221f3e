/*
 * cache.h: the message cache shared by all workers.
 *
 * Keyed by (lower-cased qname, qtype, qclass, DO bit), independent of who
 * asks. An entry holds an upstream answer as left by wire_scan() (no OPT
 * record) with the positions of its TTL fields, the time it was stored and
 * how long it is fresh. A hit writes the client's answer straight from the
 * entry into the caller's buffer with wire_answer(): no allocation and no
 * copy in between.
 *
 * Locking: the table is split into many shards, each with its own mutex and
 * its own share of the byte budget and LRU list; a lookup holds one shard's
 * lock for the time of one memcpy-sized wire_answer(). There is no lock
 * over the whole cache.
 *
 * Time is whole seconds of a monotonic clock, passed in by the caller
 * (cache_now() gives it), so tests can move it.
 *
 * Ownership: cache_new() returns a cache owned by the caller (veiligd's
 * main), which frees it after every worker has stopped. Entries are owned
 * by the cache; cache_insert() copies the message.
 */
#ifndef VEILIG_CACHE_H
#define VEILIG_CACHE_H

#include <stddef.h>
#include <stdint.h>

#include "wire.h"

struct cache;

/* How a lookup went. */
enum cache_result {
	CACHE_MISS = 0,	/* nothing usable: out untouched */
	CACHE_HIT,	/* fresh entry written to out */
	CACHE_STALE,	/* expired entry within serve-stale written to out,
			   with every TTL set to CACHE_STALE_TTL */
	CACHE_FAILED,	/* the upstreams failed the question a moment ago
			   (cache_fail) and there is no stale answer:
			   nothing written */
	CACHE_POLICY,	/* the entry's question bits meet the stop mask of
			   the lookup's cache_qcheck: nothing written */
};

/*
 * RFC 9520: a resolution failure is remembered for a while, so that a
 * name whose servers do not answer costs the upstreams one question per
 * while, not one per client query.
 */
#define CACHE_FAILURE_TTL	5	/* seconds, unless set otherwise */

#define CACHE_STALE_TTL	30	/* RFC 8767 4: TTL of a stale answer */

/*
 * Answer inspection: an entry keeps the bits policy_inspect() gave its
 * answer and the generation of the policy that gave them. A lookup with a
 * cache_inspect of another generation (a reload happened) inspects the
 * entry again, under the shard lock, and keeps the new bits.
 */
struct cache_inspect {
	uint64_t	(*fn)(void *arg, const uint8_t *msg, size_t len);
	void		*arg;
	uint32_t	 gen;
};

/*
 * The question's side (policy_question_bits()): an entry keeps too the
 * bits fn gives its key's name (lower-case wire form), for the policy
 * generation gen, worked out under the shard lock on the first lookup
 * that asks with a cache_qcheck of another generation (an insert stores
 * none). A lookup with one whose stop mask meets the bits returns
 * CACHE_POLICY, writes nothing and counts nothing: the caller must ask
 * the policy, then the cache again. A lookup with one that finds no
 * entry does not count a miss either (the caller's next one does).
 */
struct cache_qcheck {
	uint64_t	(*fn)(void *arg, const uint8_t *lname, size_t len);
	void		*arg;
	uint32_t	 gen;
	uint64_t	 stop;
};

/* Counters, summed over shards by cache_stats(). */
struct cache_stats {
	uint64_t	entries;
	uint64_t	bytes;		/* memory charged to entries */
	uint64_t	max_bytes;	/* the budget bytes is held to:
					   cache_new()'s, split among the
					   shards (a few octets below it) */
	uint64_t	hits;
	uint64_t	stale_hits;
	uint64_t	failed_hits;	/* CACHE_FAILED */
	uint64_t	misses;
	uint64_t	inserts;
	uint64_t	unstored;	/* answers or failures the index refused */
	uint64_t	evictions;	/* removed to stay within max_bytes */
	uint64_t	slots;		/* the shards' tables, in slots */
};

/*
 * A cache of at most max_bytes (entries, their keys and messages counted),
 * keeping expired entries for stale_secs more seconds for serve-stale, and
 * capping the lifetime of any entry at max_ttl seconds and of a negative
 * one (NXDOMAIN, NODATA) at max_neg_ttl seconds. NULL on allocation failure.
 */
struct cache	*cache_new(size_t max_bytes, uint32_t stale_secs,
		    uint32_t max_ttl, uint32_t max_neg_ttl);
void		 cache_free(struct cache *);

/* Seconds of CLOCK_MONOTONIC_COARSE. */
uint32_t	 cache_now(void);

/*
 * Hints, without the lock, for a lookup of the question of hash h
 * (wire_qhash()) that comes soon: a worker's batch knows its questions
 * ahead. cache_prefetch() starts loading the line of its shard's slots;
 * cache_prefetch_entry(), called later, once that is in, those of the
 * entry whose slot's tag matches, and says whether there may be one for
 * h: 0 when the slots say there is none (read without the lock: a hint,
 * right nearly always, never a promise). Nothing changes.
 */
void		 cache_prefetch(struct cache *, uint64_t h);
int		 cache_prefetch_entry(struct cache *, uint64_t h);

/*
 * One lookup: the question q (its lname, qtype, qclass and DO bit are the
 * key; its ID, spelling of the name and EDNS shape the answer written), at
 * time now, for a client that takes at most udp_max octets (as for
 * wire_answer). allow_stale: an expired entry within serve-stale may
 * answer. ins (may be NULL: the bits as stored) brings the entry's
 * inspection bits up to date first; qcheck (may be NULL) checks the
 * question's bits before anything is written.
 */
struct cache_req {
	const struct wire_query		*q;
	uint32_t			 now;
	int				 allow_stale;
	size_t				 udp_max;
	const struct cache_inspect	*ins;
	const struct cache_qcheck	*qcheck; /* NULL: none */
};

/*
 * Look up req->q. On a fresh hit write the answer for q into out (cap
 * octets) and return CACHE_HIT with *outlen set. If the entry is expired
 * but within serve-stale and req->allow_stale is set, or the upstreams
 * failed the question within the failure TTL (cache_fail()), write it
 * with TTL CACHE_STALE_TTL and return CACHE_STALE. Else, after such a
 * failure, CACHE_FAILED; otherwise CACHE_MISS. On a hit or stale hit,
 * *mask (if mask is not NULL) gets the entry's inspection bits.
 */
enum cache_result cache_lookup(struct cache *, const struct cache_req *req,
		    uint8_t *out, size_t cap, size_t *outlen, uint64_t *mask);

/*
 * Store the answer msg (as left by wire_scan(), described by *sc) for q at
 * time now, with inspection bits mask of policy generation gen, replacing
 * any older entry for the same key. The record TTLs in the stored copy are
 * capped at the entry's lifetime (max_ttl, max_neg_ttl), so clients are
 * never told to keep an answer longer than we would. Nothing is stored
 * when sc->ttl is 0, when the rcode is other than NOERROR or NXDOMAIN,
 * when q was asked with CD=1 (the upstream did not validate it), or when
 * the message is larger than a shard's budget. Allocation failure just
 * means nothing is stored.
 */
void		 cache_insert(struct cache *, const struct wire_query *q,
		    const uint8_t *msg, const struct wire_scan *sc,
		    uint32_t now, uint64_t mask, uint32_t gen);

/*
 * Cap the record TTLs of an upstream answer msg (as left by wire_scan) in
 * place at the lifetime the cache gives it (max_ttl, max_neg_ttl, its own
 * smallest TTL), so that the client who asked first is told what later
 * clients are told from the cache.
 */
void		 cache_cap(const struct cache *, uint8_t *msg,
		    const struct wire_scan *sc);

/*
 * The upstreams failed q at time now: remember it for the failure TTL.
 * An entry for q keeps its answer (a stale answer is better than none);
 * without one, a small entry with no answer is stored. Nothing is
 * remembered for q asked with CD=1, whose answers are not cached either.
 */
void		 cache_fail(struct cache *, const struct wire_query *q,
		    uint32_t now);

/* Remember failures for secs seconds (1 to 300) from now on. */
void		 cache_set_failure_ttl(struct cache *, uint32_t secs);

/* Remove every entry (veiligctl flush later). */
void		 cache_flush(struct cache *);

/* Add up the counters of all shards into *st. */
void		 cache_stats(struct cache *, struct cache_stats *st);

/*
 * For the tests: walk every shard under its lock and check the cache's
 * invariants: the LRU list both ways, every entry in it in one slot of
 * the run its hash starts, with its distance and tag, no other slot
 * taken, the counts and the bytes charged (within the budget). *far (if
 * not NULL) gets the longest distance of a slot from its hash's. 0, or
 * -1 at the first broken invariant.
 */
int		 cache_verify(struct cache *, size_t *far);

#endif
