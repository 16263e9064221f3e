/*
 * inflight.c: the registry of questions asked upstream, across workers.
 *
 * Entries live only while a question is in flight (a few thousand at
 * most), so each shard is a fixed array of hash chains. A waiter's node
 * moves from the entry to its mailbox when the owner is done, so
 * delivery allocates nothing. A released entry goes back to a short free
 * list of its owner's mailbox (at most INFLIGHT_KEEP, each with room for
 * any name): the owner claims and releases from its own thread, so the
 * list needs no lock, and a miss costs no malloc and free here. The hash
 * is keyed (SipHash, wire_qhash() under the process's random key): clients
 * choose the names, and must not be able to pile them into one shard and
 * chain. It is the cache's and the forwarder's hash too, worked out once
 * per query and kept in the question.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>

#include "inflight.h"
#include "pool.h"

#define INFLIGHT_SHARDS		64
#define INFLIGHT_BUCKETS	256	/* per shard */
#define INFLIGHT_KEEP		128	/* idle entries a mailbox keeps */

/* A waiter: in an entry's list, then in its mailbox. */
struct inflight_node {
	struct inflight_node	*next;
	struct inflight_mailbox	*mb;
	void			*waiter;
	int			 ok;
};

struct inflight_entry {
	struct inflight_entry	*next;
	uint64_t		 hash;
	uint64_t		 token;
	struct inflight_mailbox	*owner;
	struct inflight_node	*waiters;
	size_t			 nwaiters;
	uint16_t		 qtype, qclass;
	uint8_t			 flags;		/* 1 DO, 2 CD */
	uint16_t		 len;
	uint8_t			 lname[];
};

struct inflight_shard {
	pthread_mutex_t		 lock;
	struct inflight_entry	*buckets[INFLIGHT_BUCKETS];
} __attribute__((aligned(64)));

struct inflight {
	uint64_t		 next_token;	/* atomic */
	struct inflight_shard	 shards[INFLIGHT_SHARDS];
};

struct inflight_mailbox {
	pthread_mutex_t		 lock;
	struct inflight_node	*head;
	struct inflight_node	**tailp;
	struct event		*ev;
	inflight_wake_cb	 cb;
	void			*arg;

	/* The owner's thread only, no lock: idle entries (pool.h). */
	struct pool		 idle;
};

/* An entry with room for any name. */
#define INFLIGHT_ENTRY_SIZE	(sizeof(struct inflight_entry) + WIRE_MAX_NAME)

/* The key's flags: DO and CD, as the cache and the forwarder see them. */
static uint8_t
inflight_flags(const struct wire_query *q)
{
	return ((q->do_bit ? 1 : 0) | ((q->flags & WIRE_CD) ? 2 : 0));
}


static int
inflight_match(const struct inflight_entry *e, uint64_t h,
    const struct wire_query *q)
{
	return (e->hash == h && e->len == q->name_len &&
	    e->qtype == q->qtype && e->qclass == q->qclass &&
	    e->flags == inflight_flags(q) &&
	    memcmp(e->lname, q->lname, q->name_len) == 0);
}

struct inflight *
inflight_new(void)
{
	struct inflight	*in;
	size_t		 i;

	if ((in = calloc(1, sizeof *in)) == NULL)
		return (NULL);
	for (i = 0; i < INFLIGHT_SHARDS; i++)
		pthread_mutex_init(&in->shards[i].lock, NULL);
	return (in);
}

void
inflight_free(struct inflight *in)
{
	struct inflight_entry	*e;
	struct inflight_node	*n;
	size_t			 i, b;

	if (in == NULL)
		return;
	for (i = 0; i < INFLIGHT_SHARDS; i++) {
		for (b = 0; b < INFLIGHT_BUCKETS; b++) {
			while ((e = in->shards[i].buckets[b]) != NULL) {
				in->shards[i].buckets[b] = e->next;
				while ((n = e->waiters) != NULL) {
					e->waiters = n->next;
					free(n);
				}
				free(e);
			}
		}
		pthread_mutex_destroy(&in->shards[i].lock);
	}
	free(in);
}

/* The mailbox's event: deliver everything queued, outside the lock. */
static void
inflight_mailbox_cb(evutil_socket_t fd, short events, void *arg)
{
	struct inflight_mailbox	*mb = arg;
	struct inflight_node	*n, *list;

	(void)fd;
	(void)events;
	pthread_mutex_lock(&mb->lock);
	list = mb->head;
	mb->head = NULL;
	mb->tailp = &mb->head;
	pthread_mutex_unlock(&mb->lock);
	while ((n = list) != NULL) {
		list = n->next;
		mb->cb(n->waiter, n->ok, mb->arg);
		free(n);
	}
}

struct inflight_mailbox *
inflight_mailbox_new(struct event_base *base, inflight_wake_cb cb, void *arg)
{
	struct inflight_mailbox	*mb;

	if ((mb = calloc(1, sizeof *mb)) == NULL)
		return (NULL);
	if ((mb->ev = event_new(base, -1, 0, inflight_mailbox_cb, mb)) ==
	    NULL) {
		free(mb);
		return (NULL);
	}
	pthread_mutex_init(&mb->lock, NULL);
	mb->tailp = &mb->head;
	mb->cb = cb;
	mb->arg = arg;
	pool_init(&mb->idle, INFLIGHT_ENTRY_SIZE, INFLIGHT_KEEP);
	return (mb);
}

void
inflight_mailbox_free(struct inflight_mailbox *mb)
{
	struct inflight_node	*n;

	if (mb == NULL)
		return;
	event_free(mb->ev);
	while ((n = mb->head) != NULL) {
		mb->head = n->next;
		free(n);
	}
	pool_clear(&mb->idle);
	pthread_mutex_destroy(&mb->lock);
	free(mb);
}

enum inflight_claim
inflight_claim(struct inflight *in, const struct wire_query *q,
    struct inflight_mailbox *mb, void *waiter, size_t max_waiters, int own,
    uint64_t *token)
{
	struct inflight_shard	*s;
	struct inflight_entry	*e, **bucket;
	struct inflight_node	*n;
	enum inflight_claim	 r;
	uint64_t		 h;

	h = wire_qhash(q);
	s = &in->shards[h % INFLIGHT_SHARDS];
	bucket = &s->buckets[(h / INFLIGHT_SHARDS) % INFLIGHT_BUCKETS];
	pthread_mutex_lock(&s->lock);
	for (e = *bucket; e != NULL; e = e->next)
		if (inflight_match(e, h, q))
			break;
	if (e != NULL && e->owner == mb) {
		/* Our own worker asks already: its forwarder coalesces. */
		*token = e->token;
		r = INFLIGHT_OWNER;
	} else if (e != NULL && e->nwaiters >= max_waiters)
		r = INFLIGHT_FULL;
	else if (e != NULL) {
		if ((n = calloc(1, sizeof *n)) != NULL) {
			n->mb = mb;
			n->waiter = waiter;
			n->next = e->waiters;
			e->waiters = n;
			e->nwaiters++;
		}
		r = n != NULL ? INFLIGHT_WAITER : INFLIGHT_NOMEM;
	} else if (!own)
		r = INFLIGHT_NONE;
	else if ((e = pool_get(&mb->idle)) == NULL)
		r = INFLIGHT_NOMEM;
	else {
		e->waiters = NULL;
		e->nwaiters = 0;
		e->hash = h;
		e->token = __atomic_add_fetch(&in->next_token, 1,
		    __ATOMIC_RELAXED);
		e->owner = mb;
		e->qtype = q->qtype;
		e->qclass = q->qclass;
		e->flags = inflight_flags(q);
		e->len = q->name_len;
		memcpy(e->lname, q->lname, q->name_len);
		e->next = *bucket;
		*bucket = e;
		*token = e->token;
		r = INFLIGHT_OWNER;
	}
	pthread_mutex_unlock(&s->lock);
	return (r);
}

void
inflight_release(struct inflight *in, const struct wire_query *q,
    uint64_t token, int ok)
{
	struct inflight_shard	*s;
	struct inflight_entry	*e, **ep;
	struct inflight_node	*n;
	struct inflight_mailbox	*mb;
	uint64_t		 h;
	int			 wake;

	h = wire_qhash(q);
	s = &in->shards[h % INFLIGHT_SHARDS];
	ep = &s->buckets[(h / INFLIGHT_SHARDS) % INFLIGHT_BUCKETS];
	pthread_mutex_lock(&s->lock);
	for (; (e = *ep) != NULL; ep = &e->next)
		if (e->token == token && inflight_match(e, h, q))
			break;
	if (e != NULL)
		*ep = e->next;
	pthread_mutex_unlock(&s->lock);
	if (e == NULL)
		return;

	/* Each waiter's node moves to its own worker's mailbox. */
	while ((n = e->waiters) != NULL) {
		e->waiters = n->next;
		mb = n->mb;
		n->ok = ok;
		n->next = NULL;
		pthread_mutex_lock(&mb->lock);
		wake = mb->head == NULL;
		*mb->tailp = n;
		mb->tailp = &n->next;
		pthread_mutex_unlock(&mb->lock);
		/* Thread-safe: libevent runs with evthread_use_pthreads(). */
		if (wake)
			event_active(mb->ev, EV_READ, 1);
	}
	/* Idle in its owner's mailbox, or freed. */
	pool_put(&e->owner->idle, e);
}
