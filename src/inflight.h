/*
 * inflight.h: questions being asked upstream, across all workers.
 *
 * Each worker's forwarder coalesces identical questions of that worker.
 * This registry does it across workers: the first worker to ask a
 * question owns it; another worker asking the same question meanwhile
 * queues its query as a waiter and sends nothing. When the owner's
 * question is settled, its answer is already in the shared cache, and the
 * waiters are handed back to their own workers through each worker's
 * mailbox (a libevent event made active from the owner's thread), where
 * they are answered from the cache.
 *
 * The key is the cache's and the forwarder's: lower-cased name, type,
 * class, DO and CD.
 *
 * Bounds: an entry lives while its owner's question is in flight, and
 * holds at most the max_waiters its claimers allow (query.c passes
 * limits.forwarded-per-question); a claimer that may not start a question
 * (over its client's share) can still join one.
 *
 * Locking: the table is split into shards, each with its own mutex, held
 * only to look up, add or take an entry. A mailbox has its own mutex.
 *
 * Ownership: main owns the registry and frees it after every worker has
 * been freed; each worker owns its mailbox. Waiters are the workers'
 * records; the registry only carries the pointers.
 */
#ifndef VEILIG_INFLIGHT_H
#define VEILIG_INFLIGHT_H

#include <stddef.h>
#include <stdint.h>

#include "wire.h"

struct event_base;
struct inflight;
struct inflight_mailbox;

/* Called in the waiter's own thread: ok when an answer went to the cache. */
typedef void (*inflight_wake_cb)(void *waiter, int ok, void *arg);

struct inflight	*inflight_new(void);
void		 inflight_free(struct inflight *);

/* A worker's mailbox on base; cb(waiter, ok, arg) for each delivery. */
struct inflight_mailbox *inflight_mailbox_new(struct event_base *base,
		    inflight_wake_cb cb, void *arg);
/* Drop what was not delivered (the worker is stopping) and free. */
void		 inflight_mailbox_free(struct inflight_mailbox *);

/* What inflight_claim() did. */
enum inflight_claim {
	INFLIGHT_OWNER,		/* mb owns q (now, or already: a question
				   of the same worker): ask upstream */
	INFLIGHT_WAITER,	/* another mailbox owns q: the waiter is
				   queued, delivered to mb when it is done */
	INFLIGHT_FULL,		/* another mailbox owns q and max_waiters
				   wait for it already: nothing queued */
	INFLIGHT_NONE,		/* nobody owns q and own was 0: nothing
				   done */
	INFLIGHT_NOMEM,		/* out of memory: nothing done (the caller
				   may just ask itself) */
};

/*
 * Claim question q for mailbox mb: join its owner as a waiter (unless
 * max_waiters wait already, from all other workers together), or, when
 * nobody asks it and own is set, become its owner (*token set). A
 * question mb owns already is claimed again with its token, whatever
 * own says: the worker's forwarder coalesces it.
 */
enum inflight_claim inflight_claim(struct inflight *,
		    const struct wire_query *q, struct inflight_mailbox *mb,
		    void *waiter, size_t max_waiters, int own,
		    uint64_t *token);

/*
 * The owner's question q is settled (ok: an answer is in the cache, or
 * not cacheable). Take the entry with this token, if still there, and
 * deliver its waiters. Calling it again for the same token does nothing.
 * The entry goes back to the owner's mailbox, which has no lock for it:
 * call it from the owner's thread (or another while the owner's claims
 * and releases nothing).
 */
void		 inflight_release(struct inflight *, const struct wire_query *q,
		    uint64_t token, int ok);

#endif
