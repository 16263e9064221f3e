/*
 * query.h: the decision on one query, whatever transport brought it.
 *
 * How a transport uses it (worker.c does for UDP and TCP; DNS over TLS or
 * HTTPS would do the same):
 *
 *  1. It receives a message and fills the first fields of a struct query
 *     (on its stack: nothing is allocated): its operations (tp), the
 *     client's address, the receive time and the buffer for the answer.
 *  2. Inside a snapshot read section it calls query_answer(): parse, who is
 *     asking (the board of the address), the board's policy on the
 *     question, the cache, and for a datagram answer response rate
 *     limiting (rrl.h). The result is one of
 *       QUERY_SEND     the answer is in q->out, q->outlen octets: send it;
 *       QUERY_DROP     send nothing;
 *       QUERY_FORWARD  the upstreams must be asked.
 *  3. On QUERY_FORWARD it copies the struct query into a record of its own
 *     (with whatever it needs to reach the client later) and hands that to
 *     query_forward(). If that fails (over a limit on what forwarded
 *     queries may hold, or out of resources), or there was no memory for
 *     the record, query_fallback() writes the answer to send at once.
 *  4. From then on query.c runs the query's life (enum query_state): it
 *     asks through the registry of questions in flight (inflight.c: the
 *     first worker to ask owns a question, the others wait for it) and this
 *     worker's forwarder (fwd.c), runs the client response timer of RFC
 *     8767 (a stale answer after QUERY_STALE_MS), and when the question is
 *     settled writes the answer with query_finish(), under the policy in
 *     force then. It gives every late answer to tp->send() and the record
 *     back with tp->release(), once, as the last thing it does with it.
 *
 * Ownership: main owns the cache and the registry (shared by all workers).
 * Each worker owns its struct query_ctx (forwarder, mailbox, scratch
 * buffers, counters, its memo of blocked verdicts: memo.h), made with
 * query_ctx_new() on the worker's
 * event_base. The transport owns every record holding a forwarded struct
 * query; query.c keeps a pointer to it from query_forward() until it calls
 * tp->release(), after which it never touches it again. board and verdict
 * point into the configuration snapshot's policy: valid inside the read
 * section of the call that set them, and in a later one whose policy has
 * the same generation (gen), which is that same policy.
 *
 * Memory: a query answered at once (cache hit, blocked, refused, an error)
 * costs no allocation and no lock beyond the cache shard's (and the RRL
 * shard's, when it is on); the answer is written straight into the
 * transport's buffer (test_query.c's test_no_alloc counts the allocations
 * of the process around it). A forwarded query costs the transport's
 * record (and small nodes in fwd.c and inflight.c); query_forward()
 * bounds how many a worker holds, how many wait for one question, and
 * what one client (an address, an IPv6 /64: quota.h) holds of them.
 *
 * Threads: a query_ctx and its queries belong to one worker thread; only
 * the cache and the registry are shared.
 */
#ifndef VEILIG_QUERY_H
#define VEILIG_QUERY_H

#include <sys/queue.h>
#include <sys/socket.h>

#include <stddef.h>
#include <stdint.h>
#include <time.h>

/* struct event inside struct query: no allocation for the stale timer. */
#include <event2/event_struct.h>

#include "policy.h"
#include "quota.h"
#include "wire.h"

struct cache;
struct event_base;
struct inflight;
struct query;
struct query_ctx;
struct rrl;
struct snapshot;
struct stats_worker;

/*
 * RFC 8767 5: when the upstreams have not answered within this time and
 * the cache still has an expired answer (within serve-stale), the client
 * gets that at once; the upstream answer, when it comes, only refreshes
 * the cache. 1.8 s is the RFC's suggestion: below the usual stub resolver
 * timeout of 2 s or more.
 */
#define QUERY_STALE_MS		1800

/* What to do with a query once query_answer() has looked at it. */
enum query_next {
	QUERY_SEND,		/* the answer is in q->out */
	QUERY_DROP,		/* send nothing */
	QUERY_FORWARD,		/* ask the upstreams: query_forward() */
};

/* Where a forwarded query is in its life. */
enum query_state {
	QUERY_NEW = 0,		/* not forwarded (yet) */
	QUERY_ASKING,		/* our forwarder asks the upstreams */
	QUERY_WAITING,		/* another worker asks; it wakes us when done */
	QUERY_STALE,		/* the client had a stale answer (client
				   response timer); the question goes on only
				   to refresh the cache */
	QUERY_DONE,		/* answered or given up: being released */
};

/* What a transport does for query.c; one static table per transport. */
struct query_transport {
	/* Answers go out as datagrams: at most the client's EDNS size, and
	   never above WIRE_EDNS_SIZE; else (a stream) up to 65535 octets. */
	int	  datagram;
	/* Can q's client still take an answer (a connection may be gone)? */
	int	(*alive)(const struct query *q);
	/* Send the late answer msg (len octets) to q's client. */
	void	(*send)(struct query *q, const uint8_t *msg, size_t len);
	/* query.c is done with q: free the record that holds it. */
	void	(*release)(struct query *q);
};

/* One query. */
struct query {
	/* Set by the transport before query_answer(). */
	const struct query_transport *tp;
	struct sockaddr_storage	 from;	/* the client */
	socklen_t		 fromlen;
	struct timespec		 received; /* CLOCK_MONOTONIC, when it came
					      in: for latency statistics */
	uint8_t			*out;	/* the answer goes here (cap octets):
					   the transport's buffer, until
					   query_forward() points it at the
					   worker's scratch for late answers */
	size_t			 cap;

	/*
	 * Set by query_answer(); board and verdict again by query_finish()
	 * when the policy has changed since (gen).
	 */
	struct wire_query	 wq;	/* the client's query, parsed */
	enum wire_verdict	 pv;	/* how parsing it went (set first,
					   by query_prepare()) */
	const struct policy_board *board; /* the client's, or NULL */
	const struct policy_hot	*hot;	/* board's masks (set with it): a
					   hit reads these */
	unsigned		 bindex; /* board->index, set with it */
	struct policy_verdict	 verdict; /* on the question */
	int			 deferred; /* verdict not asked yet: PASS
					      if the cache entry's question
					      bits say so; QUERY_LISTS: not
					      cached, not in the memo, the
					      lists' places asked for in
					      key (query.c) */
	struct domtable_key	*key;	/* with QUERY_LISTS: the name's
					   key, in the worker's ring */
	uint32_t		 gen;	/* policy_generation() of the policy
					   that gave board and verdict */
	size_t			 outlen; /* QUERY_SEND: the answer's length */
	int			 rewrite; /* answer with a CNAME to target
					     (safe search, RPZ CNAME) */
	uint8_t			 target[WIRE_MAX_NAME]; /* lower-case wire */
	size_t			 tlen;
	uint32_t		 ttl;	/* of the CNAME */

	/* Set with the answer, for the statistics (stats.h). */
	int			 how;	/* enum stats_answer */
	int			 cat;	/* how STATS_BLOCKED: the category (a
					   policy bit, STATS_CAT_DENY or
					   STATS_CAT_CANARY), else -1 */
	int			 rcode;	/* an extended rcode written (BADVERS),
					   or -1: the answer's header says */
	unsigned		 limited; /* the limits that cut it short:
					    1 << enum stats_limit, or'd */
	int			 counted; /* once, when the client got it */

	/* Set by query_forward(): a forwarded query's life. */
	struct query_ctx	*qc;
	struct quota_client	 client; /* q->from in qc's table of
					    clients, hashed once */
	enum query_state	 state;
	uint64_t		 token;	/* owns its question in the registry
					   with this token; 0: does not */
	int			 job;	/* started its question in our
					   forwarder: counted in the
					   client's share of questions */
	uint64_t		 stale_at; /* the client response timer: when
					      (query.c's clock, ms), if
					      timing */
	int			 timing;  /* in qc's list of timers */
	TAILQ_ENTRY(query)	 tentry;  /* ... that list */
	TAILQ_ENTRY(query)	 entry;	/* in qc's list of queries out */
};

/*
 * How a forwarded question was settled, for query_finish(): the
 * upstreams' answer (msg, as left by wire_scan(), and its scan sc), or
 * none (msg NULL: the upstreams failed, or the answer is in the cache).
 */
struct query_settled {
	const uint8_t		*msg;
	const struct wire_scan	*sc;
	uint64_t		 mask;	/* msg's inspection bits ... */
	uint32_t		 gen;	/* ... under this policy generation */
	int			 servfail; /* if nothing answers: SERVFAIL
					      (else write nothing) */
};

/* Counters of the decisions of one worker, written only by its thread. */
struct query_stats {
	uint64_t	dropped;	/* no answer: QR=1, short */
	uint64_t	refused;	/* no board, AXFR/IXFR */
	uint64_t	blocked;	/* blocked answers (question or answer) */
	uint64_t	memo_hits;	/* of which the question's verdict came
					   from the worker's memo (memo.h) */
	uint64_t	rewritten;	/* safe-search and RPZ CNAME answers */
	uint64_t	formerr;	/* FORMERR, NOTIMP, BADVERS */
	uint64_t	cache_hits;
	uint64_t	forwarded;
	uint64_t	shared;		/* of which asked by another worker */
	uint64_t	stale;		/* stale answers served */
	uint64_t	servfail;
	uint64_t	failed;		/* of which at once: the upstreams
					   failed the question a moment ago
					   (RFC 9520) */
	/* Not forwarded, answered at once (stale or SERVFAIL), because: */
	uint64_t	limit_worker;	/* the worker holds its share of
					   limits.forwarded, or its
					   forwarder has no room */
	uint64_t	limit_question;	/* limits.forwarded-per-question
					   wait on the question already */
	uint64_t	limit_client;	/* the client holds its share
					   (limits.client-share) */
	/* Response rate limiting (rrl.h) of datagram answers: */
	uint64_t	rrl_dropped;
	uint64_t	rrl_slipped;	/* sent cut, with TC=1 */
};

/*
 * The per-worker context on base, for one of nworkers workers: a
 * forwarder storing answers in cache, with at most max_jobs questions in
 * flight; a mailbox in the registry inflight; the shared table of
 * response rate limiting rrl (NULL: none). NULL when out of memory.
 */
struct query_ctx *query_ctx_new(struct event_base *base, struct cache *cache,
		    struct inflight *inflight, struct rrl *rrl,
		    unsigned nworkers, size_t max_jobs);

/*
 * Stop every forwarded query (no answer is sent; each record goes back
 * through tp->release()) and free. The event loop must not be running.
 */
void		 query_ctx_free(struct query_ctx *);

/* Copy the counters (racy reads of plain integers: for reports only). */
void		 query_ctx_stats(const struct query_ctx *, struct query_stats *);

/*
 * Count this worker's queries into its statistics recorder (stats.h),
 * and have its forwarder count each upstream's; NULL: not counted.
 */
void		 query_ctx_set_stats(struct query_ctx *, struct stats_worker *);

/*
 * A transport's batch of queries (received at once, answered in one read
 * section): call query_batch_begin() after snapshot_read_begin(), and
 * query_batch_end() just before the answers go out and the section ends.
 * The answers given at once are timed together at the end (one clock
 * read per batch), and counted per board; the cache's ages of their
 * answers are of one cache_now() taken at the batch's start.
 */
void		 query_batch_begin(struct query_ctx *,
		    const struct timespec *received);
void		 query_batch_end(struct query_ctx *);

/*
 * After query_batch_begin(), for every datagram of the batch before any
 * is answered: start loading the board of a query from the address from,
 * and the board's statistics counters. With thousands of boards these
 * are cache misses that would each stall one query after the other;
 * started for the whole batch at once, they overlap.
 *
 * In two passes over the batch: query_batch_prefetch_net() for every
 * datagram first (the line of the board index each reads, the address
 * worked out and nothing read), then query_batch_prefetch() for every
 * one, whose lookups then find their lines in or on the way instead of
 * waiting for each in turn. The board query_batch_prefetch() found for
 * the batch's datagram i (the i-th call, up to QUERY_BATCH of them) is
 * kept for query_prepare_batch() of the same datagram.
 */
#define QUERY_BATCH	64	/* datagrams whose boards a batch keeps */
void		 query_batch_prefetch_net(const struct snapshot *snap,
		    const struct sockaddr *from);
void		 query_batch_prefetch(struct query_ctx *,
		    const struct snapshot *snap, const struct sockaddr *from);

/*
 * Decide on the query of len octets at pkt, under snap: write the answer
 * into q->out (QUERY_SEND, q->outlen set), or say QUERY_DROP or
 * QUERY_FORWARD. q's transport fields must be set. No allocation. Inside
 * a batch (query_batch_begin); an answer given now is counted in the
 * statistics, a forwarded one when it is answered.
 */
enum query_next	 query_answer(struct query_ctx *, const struct snapshot *snap,
		    struct query *q, const uint8_t *pkt, size_t len);

/*
 * query_answer() in steps, for a batch whose queries are known ahead, all
 * inside one read section of snap: query_prepare() parses pkt (len
 * octets) into q, finds its board, hashes its question and starts
 * loading the cache line of its slots (cache_prefetch()) and its set
 * in the worker's memo of blocked verdicts (memo_prefetch());
 * query_prefetch(), a query or so later, those of its cache entry
 * (cache_prefetch_entry()), or for a question the slots say is
 * not cached, takes the board's verdict on it from the memo or asks the
 * policy (a question that is cached gets it from the entry's bits,
 * query.c);
 * query_answer_prepared(), a query or so later again, decides and
 * answers as query_answer() does (pkt may be gone by then: q holds what
 * it needs). q's transport fields (tp, from, received) are set before
 * query_prepare(), out and cap before query_answer_prepared(). The
 * prefetches only hint: the answer is the same as query_answer()'s.
 */
void		 query_prepare(struct query_ctx *, const struct snapshot *snap,
		    struct query *q, const uint8_t *pkt, size_t len);

/*
 * query_prepare() of the batch's datagram i, whose source (q->from) was
 * the i-th given to query_batch_prefetch(): its board is the one found
 * there, not looked up again, and its counters and client were asked for
 * there too (with many boards the second lookup's lines were out of the
 * first-level cache again 64 datagrams later). Without such a call for
 * i, it is query_prepare().
 */
void		 query_prepare_batch(struct query_ctx *,
		    const struct snapshot *snap, struct query *q,
		    const uint8_t *pkt, size_t len, unsigned i);
void		 query_prefetch(struct query_ctx *,
		    const struct snapshot *snap, struct query *q);
enum query_next	 query_answer_prepared(struct query_ctx *,
		    const struct snapshot *snap, struct query *q);

/*
 * Forward q (a copy of the query that query_answer() said QUERY_FORWARD
 * to, in the transport's record), within the limits (limits: in
 * veiligd.yaml): the worker's share of forwarded queries, the waiters per
 * question, the client's share of both and of upstream questions. 0: q
 * is now query.c's until q->tp->release(). -1: over a limit or out of
 * resources, nothing pending; the caller frees its record and answers
 * with query_fallback().
 */
int		 query_forward(struct query_ctx *, const struct snapshot *snap,
		    struct query *q);

/*
 * Write into q->out the answer to q that could not be forwarded (over a
 * limit, out of resources): a stale answer if the cache has one (RFC
 * 8767), else SERVFAIL; for a datagram, under response rate limiting.
 * Returns the length to send, or 0 for nothing. Inside the batch whose
 * query_answer() said QUERY_FORWARD for q, under its snap: it is counted
 * as that batch's answer.
 */
size_t		 query_fallback(struct query_ctx *, const struct snapshot *snap,
		    struct query *q);

/*
 * Write into q->out the answer to q, whose forwarded question is settled
 * as s says, under snap (the policy in force now: a reload may have
 * happened since query_answer()): REFUSED if its board is gone, blocked if
 * the policy blocks the question or the answer, else the answer (from
 * s->msg, or from the cache, a stale entry too (RFC 8767)), or SERVFAIL
 * when there is none and s->servfail is set. Returns the length, or 0 when
 * nothing was written.
 */
size_t		 query_finish(struct query_ctx *, const struct snapshot *snap,
		    struct query *q, const struct query_settled *s);

#endif
