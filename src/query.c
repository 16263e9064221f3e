/*
 * query.c: the decision on one query, and the life of a forwarded one.
 *
 * query_answer() follows the README's path of a query in order: parse,
 * who is asking, policy on the question, cache, else forward; but for a
 * question whose name is cached, the policy on it comes from the bits the
 * cache entry keeps (policy_question_bits(), for the policy generation
 * in force): PASS with one AND of the board's qstop, and only when that
 * says otherwise, or the name is not cached, policy_question() itself
 * (query_prepare_at(), query_decide()), unless the worker blocked the
 * name for the board before under the same policy: its memo (memo.h)
 * has the verdict then (query_settle()). When the
 * forwarded question is settled, query_finish() decides again under the
 * policy in force then if a reload brought a new one (it may have changed
 * the board or its lists), and adds the policy on the answer.
 *
 * A forwarded query moves through enum query_state:
 *
 *   query_forward()  -> ASKING   we own the question in the registry (or
 *                                our forwarder asks it already, or the
 *                                registry had no memory): fwd.c asks
 *                    -> WAITING  another worker asks it: we wait in its
 *                                registry entry
 *   WAITING, woken   -> answered from the cache; or ASKING, when the
 *                       answer could not be cached after all
 *   ASKING or WAITING, client response timer, stale entry in the cache
 *                    -> STALE    the client has its answer; the question
 *                                goes on to refresh the cache
 *   fwd.c done, or woken
 *                    -> DONE     the answer is sent (unless STALE), the
 *                                registry entry released, the record
 *                                given back to the transport
 *
 * A query leaves for the upstreams in one place, query_ask(), and joins
 * another worker's question in one place, the registry claim in
 * query_forward(), which keeps the limits (limits: in veiligd.yaml): a
 * worker holds at most its share of limits.forwarded queries, at most
 * forwarded-per-question of them wait for one question in its forwarder
 * (and as many in the registry from all other workers), and one client
 * (quota.h) holds at most client-share percent of the worker's forwarded
 * queries and of its upstream questions. Beyond a limit the query is
 * answered at once by query_fallback() (stale, else SERVFAIL) and costs
 * nothing more: memory stays bounded whatever a client sends, and one
 * client's flood of random names leaves room for everyone else's misses.
 *
 * Every datagram answer passes response rate limiting (rrl.h) last, in
 * query_rate(): at once in query_answer() and query_fallback(), late in
 * query_finish_now() and query_wake_cb().
 *
 * Statistics (stats.h): where an answer is decided, q->how (and q->cat
 * for a block) says what kind it is, and q->limited which limits cut it
 * short (a refusal of query_forward() reaches it through qc->refusal, as
 * the query answered in query_fallback() is the transport's, not the
 * copy query_forward() was given); query_count() counts it once, when
 * the client gets it (after response rate limiting, which may drop it),
 * inside the read section of the snapshot whose board it was answered
 * for: an answer given at once at the end of query_answer() or in
 * query_fallback() (timed with the transport's batch), a forwarded one
 * when query_fwd_cb(), query_wake_cb() or the client response timer
 * answers it (timed then). A forwarded query whose client has gone counts
 * as dropped.
 */
#include <sys/types.h>
#include <sys/queue.h>
#include <sys/socket.h>

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <event2/event.h>

#include "cache.h"
#include "fwd.h"
#include "inflight.h"
#include "log.h"
#include "memo.h"
#include "policy.h"
#include "query.h"
#include "quota.h"
#include "rrl.h"
#include "snapshot.h"
#include "stats.h"
#include "wire.h"

/* q->deferred when the lists are to be asked with q->key. */
#define QUERY_LISTS	2
/* The ring of keys: more than the datagrams a worker prefetches ahead. */
#define QUERY_KEYS	3

struct query_ctx {
	struct event_base	*base;
	struct cache		*cache;		/* shared, owned by main */
	struct inflight		*inflight;	/* shared, owned by main */
	struct fwd		*fwd;
	struct inflight_mailbox	*mailbox;	/* our waiters come back here */
	struct fwd_inspect	 inspect;	/* for fwd: policy_inspect */
	uint32_t		 fwd_gen;	/* policy generation of the
						   bits fwd is passing on: fwd
						   inspects, then calls the
						   waiters at once */
	TAILQ_HEAD(, query)	 pending;	/* forwarded, not released */
	size_t			 npending;
	struct quota		*clients;	/* what each client holds */
	struct rrl		*rrl;		/* shared, owned by main */
	unsigned		 nworkers;	/* sharing limits.forwarded */
	struct query_stats	 st;
	unsigned		 refusal;	/* the limit that refused the
						   last query_forward() (1 <<
						   enum stats_limit), for
						   query_fallback() to count */
	struct stats_worker	*sw;		/* statistics, or NULL */
	/*
	 * The board index of each datagram query_batch_prefetch() looked
	 * up in this batch (-1: none), in order, for query_prepare_batch().
	 */
	int			 bboard[QUERY_BATCH];
	unsigned		 nbboard;
	struct memo		*memo;		/* blocked questions' verdicts
						   (memo.h) */
	int			 batched;	/* between query_batch_begin()
						   and query_batch_end() */
	uint32_t		 now;		/* then, the batch's cache_now():
						   one clock read a batch, not
						   one a cache lookup */
	/*
	 * The keys of the names query_prefetch() asked the lists' places
	 * of, for query_settle() at their answer: a ring, since a worker
	 * prefetches one datagram ahead of the one it answers.
	 */
	struct domtable_key	 keys[QUERY_KEYS];
	unsigned		 nkeys;

	/*
	 * The client response timers of the forwarded queries: all of one
	 * duration (QUERY_STALE_MS), so in order of expiry when appended,
	 * under one libevent timer for the first. Adding and taking one is
	 * a list operation, where a libevent timer each cost an assign, an
	 * add and a delete per miss.
	 */
	TAILQ_HEAD(, query)	 timers;
	struct event		*timer_ev;

	/* A late answer, and the answer about a rewrite's target before it
	   is wrapped in the CNAME. */
	uint8_t			 out[WIRE_MAX_UDP];
	uint8_t			 tmp[WIRE_MAX_UDP];
};

/* The client counters of quota.h. */
#define QUERY_HELD		0	/* forwarded queries */
#define QUERY_JOBS		1	/* upstream questions started */

/* The limits of limits: for one worker, worked out from the conf. */
struct query_limits {
	size_t		held;		/* forwarded queries */
	size_t		per_question;	/* waiting for one question */
	uint32_t	client_held;	/* forwarded queries of one client */
	uint32_t	client_jobs;	/* questions one client started */
};

static void	query_fwd_cb(void *, const struct wire_query *,
		    const uint8_t *, const struct wire_scan *, uint64_t);
static void	query_wake_cb(void *, int, void *);
static void	query_stale_cb(evutil_socket_t, short, void *);
static size_t	query_servfail_write(struct query_ctx *, struct query *);

/* The most an answer to q may carry over its transport. */
static size_t
query_udp_max(const struct query *q)
{
	if (!q->tp->datagram)
		return (WIRE_MAX_UDP);
	/* Stay below the size that risks fragments (DNS flag day 2020). */
	return (q->wq.udp_size < WIRE_EDNS_SIZE ? q->wq.udp_size :
	    WIRE_EDNS_SIZE);
}

/* Cache inspection callback: the policy's bits of an answer. */
static uint64_t
query_cache_inspect_cb(void *arg, const uint8_t *msg, size_t len)
{
	return (policy_inspect(arg, msg, len));
}

/* Cache question callback: the policy's bits of the key's name. */
static uint64_t
query_cache_qbits_cb(void *arg, const uint8_t *lname, size_t len)
{
	return (policy_question_bits(arg, lname, len));
}

/* The forwarder's inspection callback, outside any read section. */
static uint64_t
query_fwd_inspect_cb(void *arg, const uint8_t *msg, size_t len,
    uint32_t *gen)
{
	struct query_ctx	*qc = arg;
	const struct snapshot	*snap;
	uint64_t		 mask;

	snapshot_read_begin();
	snap = snapshot_current();
	mask = policy_inspect(snap->policy, msg, len);
	*gen = qc->fwd_gen = policy_generation(snap->policy);
	snapshot_read_end();
	return (mask);
}

/*
 * Count q in the statistics, once: answered with len octets in q->out
 * (0: dropped) under snap, the snapshot of the read section we are in.
 * late: a forwarded query, timed now; else it is timed with its batch.
 */
static void
query_count(struct query_ctx *qc, const struct snapshot *snap,
    struct query *q, size_t len, int late)
{
	struct stats_query	sq;
	const struct policy_board *b = q->board;

	if (qc->sw == NULL || q->counted)
		return;
	q->counted = 1;
	/* An error found before "who is asking" is still the board's. */
	if (b == NULL && q->how != STATS_REFUSED)
		b = policy_board_for(snap->policy,
		    (const struct sockaddr *)&q->from);
	sq.from = (const struct sockaddr *)&q->from;
	sq.lname = q->wq.have_question ? q->wq.lname : NULL;
	sq.name_len = q->wq.name_len;
	sq.qtype = q->wq.have_question ? q->wq.qtype : 0;
	sq.answer = len == 0 ? STATS_DROPPED : (enum stats_answer)q->how;
	/* The rcode from the answer's header, unless it was extended. */
	sq.rcode = len < 4 ? -1 : q->rcode >= 0 ? q->rcode : q->out[3] & 0x0f;
	sq.category = q->cat;
	sq.safe_search = q->how == STATS_REWRITTEN &&
	    q->verdict.rule == POLICY_RULE_SAFESEARCH;
	sq.upstream = late;
	sq.limited = q->limited;
	sq.ns = !late ? STATS_NS_BATCH : stats_clock() - ((uint64_t)
	    q->received.tv_sec * 1000000000ULL + (uint64_t)q->received.tv_nsec);
	/* q's own board's index is q->bindex, not read from its line. */
	stats_count(qc->sw, snap->stats, b == NULL ? STATS_OUTSIDE :
	    b == q->board ? (int)q->bindex : (int)b->index, &sq);
}

/* q's answer is len octets in q->out: send it, unless there is none. */
static enum query_next
query_send(struct query *q, size_t len)
{
	q->outlen = len;
	return (len != 0 ? QUERY_SEND : QUERY_DROP);
}

/* Answer q with an error rcode (FORMERR, NOTIMP, BADVERS, SERVFAIL). */
static enum query_next
query_error(struct query_ctx *qc, struct query *q, int rcode)
{
	qc->st.formerr++;
	q->how = STATS_ERROR;
	q->rcode = rcode > 15 ? rcode : -1;
	return (query_send(q, wire_error(q->out, q->cap, &q->wq, rcode)));
}

/* Write the blocked answer of verdict v on q's board into q->out. */
static size_t
query_block(struct query_ctx *qc, struct query *q,
    const struct policy_verdict *v)
{
	struct wire_block	wb;

	qc->st.blocked++;
	q->how = STATS_BLOCKED;
	q->cat = v->rule == POLICY_RULE_DENY ? STATS_CAT_DENY :
	    v->rule == POLICY_RULE_CANARY ? STATS_CAT_CANARY : v->bit;
	policy_block(q->board, v, &q->wq, &wb);
	return (wire_block_answer(q->out, q->cap, &q->wq, &wb));
}

/*
 * The question asked upstream and looked up in the cache for q: its own,
 * or for a rewrite the same question about the target (written to *tq).
 * NULL if the target is no name a question can carry. Its hash is worked
 * out here and kept in it, once for the cache, the forwarder and the
 * registry (wire_qhash()); q's own question keeps it while q lives, so
 * later calls for the same q do not hash again.
 */
static const struct wire_query *
query_fq(struct query *q, struct wire_query *tq)
{
	struct wire_query	*fq = &q->wq;

	if (q->rewrite) {
		if (wire_query_retarget(tq, &q->wq, q->target, q->tlen) == -1)
			return (NULL);
		fq = tq;
	}
	wire_qhash_keep(fq);
	return (fq);
}

/* Keep the rewrite target of q's verdict (it points into the policy). */
static void
query_keep_target(struct query *q)
{
	const struct policy_verdict	*v = &q->verdict;

	q->rewrite = 1;
	q->tlen = v->tlen < sizeof q->target ? v->tlen : sizeof q->target;
	memcpy(q->target, v->target, q->tlen);
	q->ttl = v->ttl;
}

/*
 * The policy on q's question, which query_prepare_at() left to the
 * cache's bits (q->deferred): asked now, under the same policy. A name
 * this worker blocked for the board before has its verdict in the memo
 * (whose set query_prepare() asked for a datagram ago), and then the
 * lists are not asked; a new block goes into the memo. With QUERY_LISTS,
 * query_settle_ahead() found no verdict in the memo and hashed the name
 * into q->key: the lists are asked with it.
 */
static void
query_settle(struct query_ctx *qc, const struct snapshot *snap,
    struct query *q)
{
	int	lists = q->deferred == QUERY_LISTS;

	q->deferred = 0;
	if (!lists && memo_get(qc->memo, &q->wq, q->gen, q->bindex,
	    &q->verdict)) {
		qc->st.memo_hits++;
		return;
	}
	/* The key query_prefetch() made, unless the ring moved on. */
	if (lists && q->key->lname == q->wq.lname)
		policy_question_key(snap->policy, q->board, q->key,
		    &q->verdict);
	else
		policy_question(snap->policy, q->board, &q->wq, &q->verdict);
	if (q->verdict.kind == POLICY_BLOCK)
		memo_put(qc->memo, &q->wq, q->gen, q->bindex, &q->verdict);
}

/*
 * The first half of query_settle() for q, which the cache's slots say is
 * not cached, a datagram before its answer: its verdict from the memo,
 * else the lists' places of its suffixes start loading, and
 * query_settle() asks the lists at its answer (asked at once, each such
 * name waited for them). Not inlined, so that a hit's query_prefetch()
 * stays a test and a call.
 */
static void __attribute__((noinline))
query_settle_ahead(struct query_ctx *qc, const struct snapshot *snap,
    struct query *q)
{
	/*
	 * Only a question the cache lacks reads its board's own line (the
	 * policy, a blocked answer): it starts loading now, not for every
	 * datagram of the batch (a hit reads only the board's hot part).
	 */
	__builtin_prefetch(q->board);
	if (memo_get(qc->memo, &q->wq, q->gen, q->bindex, &q->verdict)) {
		q->deferred = 0;
		qc->st.memo_hits++;
		return;
	}
	q->key = &qc->keys[qc->nkeys++ % QUERY_KEYS];
	policy_question_prefetch(snap->policy, &q->wq, q->key);
	q->deferred = QUERY_LISTS;
}

/*
 * Look up fq (q's question, or its rewrite's target) in the cache and
 * write the answer to q into q->out: as it is, or for a rewrite the CNAME
 * followed by the target's answer (looked up into qc->tmp). An answer the
 * board blocks by its inspection bits becomes the blocked answer. For a
 * question whose policy was left to the cache (q->deferred), the entry's
 * question bits decide first: CACHE_POLICY (or CACHE_MISS) says the
 * policy must be asked (query_settle()) and the cache again.
 * Returns CACHE_MISS, or how the lookup went with *len set.
 */
static enum cache_result
query_cached(struct query_ctx *qc, const struct policy *p, struct query *q,
    const struct wire_query *fq, int allow_stale, size_t *len)
{
	struct cache_inspect	 ins;
	struct cache_qcheck	 qk;
	struct cache_req	 req;
	struct policy_verdict	 av;
	enum cache_result	 r;
	uint64_t		 mask = 0;
	size_t			 n;

	ins.fn = query_cache_inspect_cb;
	ins.arg = (void *)(uintptr_t)p;
	ins.gen = policy_generation(p);
	req.q = fq;
	req.now = qc->batched ? qc->now : cache_now();
	req.allow_stale = allow_stale;
	req.udp_max = q->rewrite ? WIRE_MAX_UDP : query_udp_max(q);
	req.ins = &ins;
	req.qcheck = NULL;
	if (q->deferred) {
		/* The board's verdict is PASS unless its stop mask says. */
		qk.fn = query_cache_qbits_cb;
		qk.arg = ins.arg;
		qk.gen = ins.gen;
		qk.stop = q->hot->qstop;
		req.qcheck = &qk;
	}
	if (q->rewrite)
		r = cache_lookup(qc->cache, &req, qc->tmp, sizeof qc->tmp, &n,
		    &mask);
	else
		r = cache_lookup(qc->cache, &req, q->out, q->cap, &n, &mask);
	if (r == CACHE_MISS || r == CACHE_FAILED || r == CACHE_POLICY)
		return (r);

	/*
	 * Answer inspection: one AND per hit (targets: lists, canaries, deny
	 * lists; addresses: ip lists, geo), the answer walked only when a
	 * target is on some deny list. The board's own line only when its
	 * answer mask has one of the answer's bits.
	 */
	if (q->verdict.kind != POLICY_ALLOWED &&
	    (mask & q->hot->amask) != 0) {
		policy_answer(p, q->board, mask, q->rewrite ? qc->tmp : q->out,
		    n, &av);
		if (av.kind == POLICY_BLOCK) {
			*len = query_block(qc, q, &av);
			return (r);
		}
	}
	if (q->rewrite) {
		n = wire_cname_answer(q->out, q->cap, &q->wq, q->target,
		    q->tlen, q->ttl, &(struct wire_msg){ qc->tmp, n, NULL, 0 },
		    query_udp_max(q));
		if (n == 0)
			return (CACHE_MISS);
		qc->st.rewritten++;
	}
	q->how = q->rewrite ? STATS_REWRITTEN : r == CACHE_STALE ?
	    STATS_STALE : STATS_CACHE;
	*len = n;
	return (r);
}

/* Milliseconds of a monotonic clock, for response rate limiting. */
static uint64_t
query_now_ms(void)
{
	struct timespec	ts;

	if (clock_gettime(CLOCK_MONOTONIC_COARSE, &ts) != 0)
		clock_gettime(CLOCK_MONOTONIC, &ts);
	return ((uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000);
}

/*
 * Response rate limiting of the answer of len octets at msg to q's
 * client, under conf: len, the length of the answer cut to go out with
 * TC=1 (slip), or 0 when nothing is to be sent. Only datagrams are
 * limited: over a stream the client's address is its own.
 */
static size_t __attribute__((noinline))
query_rate_limit(struct query_ctx *qc, const struct conf *conf,
    struct query *q, uint8_t *msg, size_t len)
{
	struct rrl_params	p;
	size_t			i;

	for (i = 0; i < RRL_NCLASSES; i++)
		p.rates[i] = conf->rrl_rates[i];
	p.slip = conf->rrl_slip;
	p.prefix4 = conf->rrl_prefix4;
	p.prefix6 = conf->rrl_prefix6;
	switch (rrl_check(qc->rrl, &p, (const struct sockaddr *)&q->from, msg,
	    len, query_now_ms())) {
	case RRL_PASS:
		break;
	case RRL_DROP:
		qc->st.rrl_dropped++;
		q->limited |= 1U << STATS_LIM_RRL_DROPPED;
		return (0);
	case RRL_SLIP:
		qc->st.rrl_slipped++;
		q->limited |= 1U << STATS_LIM_RRL_SLIPPED;
		return (rrl_slip(msg, len));
	}
	return (len);
}

/*
 * query_rate_limit() when some rate is set (rrl_enabled()); inline, so
 * that an answer with no limit on costs a few tests and no call.
 */
static inline __attribute__((always_inline)) size_t
query_rate(struct query_ctx *qc, const struct conf *conf, struct query *q,
    uint8_t *msg, size_t len)
{
	unsigned	any = 0;
	size_t		i;

	if (!q->tp->datagram || qc->rrl == NULL || len == 0)
		return (len);
	for (i = 0; i < RRL_NCLASSES; i++)
		any |= conf->rrl_rates[i];
	if (any == 0)
		return (len);
	return (query_rate_limit(qc, conf, q, msg, len));
}

/* query_prepare_at()'s found when no prefetch pass looked the board up
   (-1 is a pass that found none). */
#define QUERY_BOARD_UNSEEN	(-2)

/*
 * The first half of query_answer()'s decision, which writes nothing: parse
 * pkt, find who is asking, and hash the question (the hash kept for the
 * cache, the forwarder and the registry); with ahead set its shard's
 * slot line starts loading. The policy on the question is left for later
 * (q->deferred): query_prefetch() asks the memo for a name the cache's
 * slots say it does not have (a blocked name is never cached), else gets
 * the lists' places loading for query_decide() to ask, and for the
 * others the cache entry's question bits decide in query_decide(): a hit
 * whose bits miss the board's stop mask is PASS without the lookups of
 * the name in the lists (hashing every suffix, a memory miss in the
 * lists' large table), half of veiligd's own time on a hit before.
 * Inlined (as query_decide() is), so that the steps cost no calls the
 * one-step query_answer() did not make.
 */
static inline __attribute__((always_inline)) void
query_prepare_at(struct query_ctx *qc, const struct snapshot *snap,
    struct query *q, const uint8_t *pkt, size_t len, int ahead, int found)
{
	uint64_t	h;

	q->board = NULL;
	q->hot = NULL;
	q->deferred = 0;
	q->how = STATS_DROPPED;
	q->cat = -1;
	q->rcode = -1;
	q->limited = 0;
	q->counted = 0;

	/* Parse in place; query_decide() answers what does not parse. */
	if ((q->pv = wire_parse_query(pkt, len, &q->wq)) != WIRE_OK)
		return;

	/*
	 * Who is asking: query_decide() refuses no board, AXFR, IXFR. The
	 * batch's prefetch pass found it already (-1: no board), and asked
	 * for its counters; else its board's counters load while the
	 * policy works.
	 */
	if (found != QUERY_BOARD_UNSEEN)
		q->board = policy_board_at(snap->policy, found, &q->hot,
		    &q->bindex);
	else
		q->board = policy_board_find(snap->policy,
		    (const struct sockaddr *)&q->from, &q->hot, &q->bindex);
	if (q->board == NULL || q->wq.qtype == WIRE_TYPE_AXFR ||
	    q->wq.qtype == WIRE_TYPE_IXFR)
		return;
	if (found == QUERY_BOARD_UNSEEN)
		stats_prefetch(qc->sw, snap->stats, (int)q->bindex,
		    (const struct sockaddr *)&q->from);

	/*
	 * The policy on the question: PASS, unless query_settle() says
	 * otherwise. A rewrite's target is hashed when it is known
	 * (query_fq()).
	 */
	q->gen = policy_generation(snap->policy);
	q->deferred = 1;
	q->verdict.kind = POLICY_PASS;
	q->verdict.rule = POLICY_RULE_NONE;
	q->verdict.bit = -1;
	h = wire_qhash_keep(&q->wq);
	if (ahead) {
		memo_prefetch(qc->memo, h);
		cache_prefetch(qc->cache, h);
	}
}

/* How a lookup of query_cached() in query_decide() went: the answer. */
static inline __attribute__((always_inline)) enum query_next
query_decided(struct query_ctx *qc, struct query *q, enum cache_result r,
    size_t n)
{
	switch (r) {
	case CACHE_HIT:
		qc->st.cache_hits++;
		return (query_send(q, n));
	case CACHE_STALE:
		/* The upstreams failed it a moment ago (RFC 8767, 9520). */
		qc->st.stale++;
		return (query_send(q, n));
	case CACHE_FAILED:
		qc->st.failed++;
		q->limited |= 1U << STATS_LIM_FAILED;
		return (query_send(q, query_servfail_write(qc, q)));
	case CACHE_MISS:
	case CACHE_POLICY:
		break;
	}
	qc->st.forwarded++;
	return (QUERY_FORWARD);
}

/*
 * The second half of query_answer()'s decision, before rate limiting and
 * counting: the answer to the query query_prepare_at() prepared.
 */
static inline __attribute__((always_inline)) enum query_next
query_decide(struct query_ctx *qc, const struct snapshot *snap,
    struct query *q)
{
	const struct wire_query	*fq;
	struct wire_query	 tq;
	enum cache_result	 r;
	size_t			 n;

	/*
	 * What cannot be parsed gets an error or nothing, and with -vv a
	 * log line saying why (rate limited: remote input).
	 */
	if (q->pv != WIRE_OK && log_would(LOG_LEVEL_DEBUG))
		log_ratelimited("bad query, %s: %s",
		    wire_verdict_name(q->pv), q->wq.why);
	switch (q->pv) {
	case WIRE_OK:
		break;
	case WIRE_DROP:
		qc->st.dropped++;
		q->how = STATS_DROPPED;
		return (QUERY_DROP);
	case WIRE_ERR_NOTIMP:
		return (query_error(qc, q, WIRE_NOTIMP));
	case WIRE_ERR_BADVERS:
		return (query_error(qc, q, WIRE_BADVERS));
	case WIRE_ERR_FORMERR:
	default:
		return (query_error(qc, q, WIRE_FORMERR));
	}

	/* An address of no board is refused; so is AXFR. */
	if (q->board == NULL || q->wq.qtype == WIRE_TYPE_AXFR ||
	    q->wq.qtype == WIRE_TYPE_IXFR) {
		qc->st.refused++;
		q->how = STATS_REFUSED;
		return (query_send(q, wire_error(q->out, q->cap, &q->wq,
		    WIRE_REFUSED)));
	}

	/*
	 * A question left to the cache: a hit whose question bits the
	 * board's stop mask misses is answered (its answer inspected as any
	 * PASS); anything else asks the policy, and then the cache again.
	 */
	q->rewrite = 0;
	if (q->deferred == QUERY_LISTS)
		query_settle(qc, snap, q);
	else if (q->deferred) {
		r = query_cached(qc, snap->policy, q, &q->wq, 0, &n);
		if (r != CACHE_MISS && r != CACHE_POLICY)
			return (query_decided(qc, q, r, n));
		query_settle(qc, snap, q);
	}

	/* The policy's verdict on the question. */
	switch (q->verdict.kind) {
	case POLICY_BLOCK:
		return (query_send(q, query_block(qc, q, &q->verdict)));
	case POLICY_REWRITE:
		query_keep_target(q);
		break;
	case POLICY_ALLOWED:
	case POLICY_PASS:
		break;
	}
	/* A rewrite target that no question can carry: counted as FORMERR. */
	if ((fq = query_fq(q, &tq)) == NULL)
		return (query_error(qc, q, WIRE_SERVFAIL));

	/* The cache, else the upstreams. */
	r = query_cached(qc, snap->policy, q, fq, 0, &n);
	return (query_decided(qc, q, r, n));
}

enum query_next
query_answer(struct query_ctx *qc, const struct snapshot *snap,
    struct query *q, const uint8_t *pkt, size_t len)
{
	query_prepare_at(qc, snap, q, pkt, len, 0, QUERY_BOARD_UNSEEN);
	query_prefetch(qc, snap, q);
	return (query_answer_prepared(qc, snap, q));
}

void
query_prepare(struct query_ctx *qc, const struct snapshot *snap,
    struct query *q, const uint8_t *pkt, size_t len)
{
	query_prepare_at(qc, snap, q, pkt, len, 1, QUERY_BOARD_UNSEEN);
}

void
query_prepare_batch(struct query_ctx *qc, const struct snapshot *snap,
    struct query *q, const uint8_t *pkt, size_t len, unsigned i)
{
	query_prepare_at(qc, snap, q, pkt, len, 1, i < qc->nbboard ?
	    qc->bboard[i] : QUERY_BOARD_UNSEEN);
}

void
query_prefetch(struct query_ctx *qc, const struct snapshot *snap,
    struct query *q)
{
	/*
	 * Not in the cache, by its slots (blocked names never are): the
	 * memo now, else the lists' places (query_settle_ahead()). The
	 * slots' line was asked for by query_prepare() a datagram ago.
	 */
	if (q->deferred && !cache_prefetch_entry(qc->cache, q->wq.qhash))
		query_settle_ahead(qc, snap, q);
}

enum query_next
query_answer_prepared(struct query_ctx *qc, const struct snapshot *snap,
    struct query *q)
{
	enum query_next	next;

	next = query_decide(qc, snap, q);
	if (next == QUERY_SEND)
		next = query_send(q, query_rate(qc, snap->conf, q, q->out,
		    q->outlen));
	/* Answered now (or not at all): counted with its batch. */
	if (next != QUERY_FORWARD)
		query_count(qc, snap, q, next == QUERY_SEND ? q->outlen : 0,
		    0);
	return (next);
}

void
query_batch_begin(struct query_ctx *qc, const struct timespec *received)
{
	qc->now = cache_now();
	qc->batched = 1;
	qc->nbboard = 0;
	if (qc->sw != NULL)
		stats_worker_begin(qc->sw, (uint64_t)received->tv_sec *
		    1000000000ULL + (uint64_t)received->tv_nsec);
}

void
query_batch_prefetch_net(const struct snapshot *snap,
    const struct sockaddr *from)
{
	policy_board_net_prefetch(snap->policy, from);
}

void
query_batch_prefetch(struct query_ctx *qc, const struct snapshot *snap,
    const struct sockaddr *from)
{
	int	board;

	if ((board = policy_board_prefetch(snap->policy, from)) >= 0)
		stats_prefetch(qc->sw, snap->stats, board, from);
	if (qc->nbboard < QUERY_BATCH)
		qc->bboard[qc->nbboard++] = board;
}

void
query_batch_end(struct query_ctx *qc)
{
	qc->batched = 0;
	stats_worker_end(qc->sw);
}

/*
 * The answer to q from the upstreams' answer s->msg; q->board and
 * q->verdict are those of the policy p in force now.
 */
static size_t
query_upstream(struct query_ctx *qc, const struct policy *p, struct query *q,
    const struct query_settled *s)
{
	const struct wire_scan	*sc = s->sc;
	const struct wire_query	*fq;
	struct wire_query	 tq;
	struct wire_msg		 m;
	struct policy_verdict	 av;
	uint64_t		 mask = s->mask;
	size_t			 len;

	/* Policy on the answer, unless the name is on the allow list. */
	if (q->verdict.kind != POLICY_ALLOWED) {
		/* The bits were worked out under an older policy: again. */
		if (s->gen != policy_generation(p))
			mask = policy_inspect(p, s->msg, sc->len);
		policy_answer(p, q->board, mask, s->msg, sc->len, &av);
		if (av.kind == POLICY_BLOCK)
			return (query_block(qc, q, &av));
	}
	m.data = s->msg;
	m.len = sc->len;
	m.ttl_off = sc->ttl_off;
	m.nttl = sc->nttl;
	q->how = q->rewrite ? STATS_REWRITTEN : STATS_FORWARDED;
	if (!q->rewrite)
		return (wire_answer(q->out, q->cap, &m, 0, 0, &q->wq,
		    query_udp_max(q)));

	/* A rewrite: the CNAME, then the answer about its target. */
	if ((fq = query_fq(q, &tq)) == NULL)
		return (0);
	len = wire_answer(qc->tmp, sizeof qc->tmp, &m, 0, 0, fq, WIRE_MAX_UDP);
	if (len != 0)
		len = wire_cname_answer(q->out, q->cap, &q->wq, q->target,
		    q->tlen, q->ttl,
		    &(struct wire_msg){ qc->tmp, len, NULL, 0 },
		    query_udp_max(q));
	if (len != 0)
		qc->st.rewritten++;
	return (len);
}

size_t
query_finish(struct query_ctx *qc, const struct snapshot *snap,
    struct query *q, const struct query_settled *s)
{
	const struct wire_query	*fq;
	struct wire_query	 tq;
	size_t			 len = 0;

	/*
	 * Who is asking, and the policy on the question, as of now: again
	 * only if a reload brought another policy since query_decide() (the
	 * same generation is the same policy, so board and verdict stand:
	 * that saves the miss path a second walk of the lists), or if the
	 * verdict was never asked (q->deferred: query_decide() settles every
	 * question it forwards, so only as a safeguard).
	 */
	if (q->board == NULL || q->gen != policy_generation(snap->policy) ||
	    q->deferred) {
		q->board = policy_board_find(snap->policy,
		    (const struct sockaddr *)&q->from, &q->hot, &q->bindex);
		if (q->board == NULL) {
			/* Its board went away in a reload. */
			qc->st.refused++;
			q->how = STATS_REFUSED;
			q->outlen = wire_error(q->out, q->cap, &q->wq,
			    WIRE_REFUSED);
			return (q->outlen);
		}
		policy_question(snap->policy, q->board, &q->wq, &q->verdict);
		q->gen = policy_generation(snap->policy);
		q->deferred = 0;
	}
	if (q->verdict.kind == POLICY_BLOCK) {
		q->outlen = query_block(qc, q, &q->verdict);
		return (q->outlen);
	}

	/* The upstreams' answer, or the cache's (RFC 8767: stale too). */
	if (s->msg != NULL)
		len = query_upstream(qc, snap->policy, q, s);
	else if ((fq = query_fq(q, &tq)) != NULL) {
		switch (query_cached(qc, snap->policy, q, fq, 1, &len)) {
		case CACHE_STALE:
			qc->st.stale++;
			break;
		case CACHE_HIT:
			/* Put there by the upstream query we waited for. */
			if (q->how == STATS_CACHE)
				q->how = STATS_FORWARDED;
			break;
		case CACHE_FAILED:
		case CACHE_MISS:
		case CACHE_POLICY:	/* only for q->deferred, clear here */
			break;
		}
	}
	q->outlen = len;
	if (len != 0 || !s->servfail)
		return (len);
	return (query_servfail_write(qc, q));
}

/*
 * A forwarded query's answer, in a read section of its own: unless its
 * client has gone, write it with query_finish(), and pass it through
 * response rate limiting with the settings in force now: *send is what
 * is left to send (0: nothing). Count it (a client gone, nothing written
 * with s->servfail set, or dropped by the rate: dropped), unless nothing
 * was written and the question goes on (s->servfail clear). Returns the
 * length written, before rate limiting.
 */
static size_t
query_finish_now(struct query_ctx *qc, struct query *q,
    const struct query_settled *s, size_t *send)
{
	const struct snapshot	*snap;
	size_t			 len = 0;

	snapshot_read_begin();
	snap = snapshot_current();
	if (q->tp->alive(q))
		len = query_finish(qc, snap, q, s);
	*send = query_rate(qc, snap->conf, q, q->out, len);
	if (qc->sw != NULL && (len != 0 || s->servfail)) {
		stats_worker_begin(qc->sw, 0);
		query_count(qc, snap, q, *send, 1);
	}
	snapshot_read_end();
	return (len);
}

/* Write SERVFAIL for q into q->out: q->outlen, or 0. */
static size_t
query_servfail_write(struct query_ctx *qc, struct query *q)
{
	qc->st.servfail++;
	q->how = STATS_ERROR;
	q->rcode = -1;
	q->outlen = wire_error(q->out, q->cap, &q->wq, WIRE_SERVFAIL);
	return (q->outlen);
}

size_t
query_fallback(struct query_ctx *qc, const struct snapshot *snap,
    struct query *q)
{
	struct query_settled	s = { NULL, NULL, 0, 0, 1 };
	size_t			len;

	/* The limit that refused query_forward(), if one did. */
	q->limited |= qc->refusal;
	qc->refusal = 0;
	len = query_finish(qc, snap, q, &s);
	q->outlen = query_rate(qc, snap->conf, q, q->out, len);
	/* Answered now (or dropped): counted with its batch. */
	query_count(qc, snap, q, q->outlen, 0);
	return (q->outlen);
}

/* The limits of conf for this worker. */
static void
query_limits(const struct query_ctx *qc, const struct conf *conf,
    struct query_limits *l)
{
	size_t	jobs;

	l->held = (conf->lim_forwarded + qc->nworkers - 1) / qc->nworkers;
	l->per_question = conf->lim_per_question;
	/* A share of what the worker may hold; at least one of each. */
	l->client_held = (uint32_t)(l->held * conf->lim_client_share / 100);
	jobs = fwd_limit(qc->fwd) < l->held ? fwd_limit(qc->fwd) : l->held;
	l->client_jobs = (uint32_t)(jobs * conf->lim_client_share / 100);
	if (l->client_held == 0)
		l->client_held = 1;
	if (l->client_jobs == 0)
		l->client_jobs = 1;
}

/*
 * Ask fq (q's question, or its rewrite's target) with our forwarder, which
 * calls query_fwd_cb once it is settled. A question it starts (rather
 * than joins: waiters, fwd_waiters() of fq, is -1) counts in the client's
 * share of questions until it is settled. 0, or -1 when out of resources.
 */
static int
query_ask(struct query_ctx *qc, const struct snapshot *snap, struct query *q,
    const struct wire_query *fq, long waiters)
{
	int	start = waiters < 0;

	if (fwd_query(qc->fwd, &snap->ups, fq, query_fwd_cb, q) == -1)
		return (-1);
	if (start && quota_take_cl(qc->clients, &q->client, QUERY_JOBS,
	    UINT32_MAX) == 0)
		q->job = 1;
	q->state = QUERY_ASKING;
	return (0);
}

/*
 * Query_forward() is refused by the limit why: count it for veiligctl,
 * and keep it for query_fallback() to count with the answer per board.
 */
static void
query_refused(struct query_ctx *qc, enum stats_limit why)
{
	switch (why) {
	case STATS_LIM_FORWARDED:
		qc->st.limit_worker++;
		break;
	case STATS_LIM_PER_QUESTION:
		qc->st.limit_question++;
		break;
	case STATS_LIM_CLIENT_SHARE:
		qc->st.limit_client++;
		break;
	default:
		break;
	}
	qc->refusal = 1U << why;
}

/* A question could not be started: count why. */
static void
query_no_start(struct query_ctx *qc)
{
	query_refused(qc, fwd_room(qc->fwd) ? STATS_LIM_CLIENT_SHARE :
	    STATS_LIM_FORWARDED);
}

/*
 * Join or start fq for q: in our forwarder, or as a waiter in another
 * worker's registry entry, within lim. 0, or -1 with the reason counted.
 */
static int
query_join(struct query_ctx *qc, const struct snapshot *snap,
    struct query *q, const struct wire_query *fq,
    const struct query_limits *lim)
{
	uint64_t	token;
	long		n;
	int		own;

	/* Our forwarder asks it already: room for one more waiter? */
	if ((n = fwd_waiters(qc->fwd, fq)) >= (long)lim->per_question) {
		query_refused(qc, STATS_LIM_PER_QUESTION);
		return (-1);
	}
	/* A new question: within the client's share and our room. */
	own = n >= 0 || (fwd_room(qc->fwd) && quota_held_cl(qc->clients,
	    &q->client, QUERY_JOBS) < lim->client_jobs);

	/* Through the registry: a question is asked by one worker at once. */
	switch (inflight_claim(qc->inflight, fq, qc->mailbox, q,
	    lim->per_question, own, &token)) {
	case INFLIGHT_WAITER:
		/* Another worker asks: wait for its answer in the cache. */
		qc->st.shared++;
		q->state = QUERY_WAITING;
		return (0);
	case INFLIGHT_FULL:
		query_refused(qc, STATS_LIM_PER_QUESTION);
		return (-1);
	case INFLIGHT_NONE:
		query_no_start(qc);
		return (-1);
	case INFLIGHT_OWNER:
		/* Ours (or our forwarder's already, which coalesces). */
		q->token = token;
		break;
	case INFLIGHT_NOMEM:
		/* The registry had no memory; ask all the same. */
		break;
	}
	if (!own) {
		/* Ours to start (the registry had no entry to join). */
		q->token = 0;
		query_no_start(qc);
		return (-1);
	}
	/* n still holds: the registry does not touch our forwarder. */
	if (query_ask(qc, snap, q, fq, n) == -1) {
		if (q->token != 0)
			inflight_release(qc->inflight, fq, q->token, 0);
		q->token = 0;
		query_refused(qc, STATS_LIM_FORWARDED);
		return (-1);
	}
	return (0);
}

/* Arm the libevent timer for the first client response timer, if any. */
static void
query_timer_arm(struct query_ctx *qc, uint64_t now)
{
	struct query	*q;
	struct timeval	 tv;
	uint64_t	 ms;

	if ((q = TAILQ_FIRST(&qc->timers)) == NULL)
		return;
	/* At least a millisecond: the clock is coarse (a few ms). */
	ms = q->stale_at > now ? q->stale_at - now : 0;
	if (ms == 0)
		ms = 1;
	tv.tv_sec = (time_t)(ms / 1000);
	tv.tv_usec = (suseconds_t)(ms % 1000) * 1000;
	evtimer_add(qc->timer_ev, &tv);
}

/* Start q's client response timer: QUERY_STALE_MS from now. */
static void
query_timer_add(struct query_ctx *qc, struct query *q)
{
	uint64_t	now = query_now_ms();

	q->stale_at = now + QUERY_STALE_MS;
	q->timing = 1;
	TAILQ_INSERT_TAIL(&qc->timers, q, tentry);
	if (TAILQ_FIRST(&qc->timers) == q)
		query_timer_arm(qc, now);
}

/*
 * Stop q's client response timer, if it runs. The libevent timer stays
 * set for a first one taken: it finds nothing due and is set again.
 */
static void
query_timer_del(struct query_ctx *qc, struct query *q)
{
	if (!q->timing)
		return;
	TAILQ_REMOVE(&qc->timers, q, tentry);
	q->timing = 0;
	if (TAILQ_EMPTY(&qc->timers))
		evtimer_del(qc->timer_ev);
}

int
query_forward(struct query_ctx *qc, const struct snapshot *snap,
    struct query *q)
{
	const struct sockaddr	*from = (const struct sockaddr *)&q->from;
	const struct wire_query	*fq;
	struct wire_query	 tq;
	struct query_limits	 lim;

	if ((fq = query_fq(q, &tq)) == NULL)
		return (-1);
	q->qc = qc;
	q->token = 0;
	q->job = 0;
	qc->refusal = 0;

	/*
	 * Every forwarded query holds memory until it is answered: the
	 * worker's share of limits.forwarded, and the client's share of it.
	 */
	query_limits(qc, snap->conf, &lim);
	if (qc->npending >= lim.held) {
		query_refused(qc, STATS_LIM_FORWARDED);
		return (-1);
	}
	/* The client hashed once for every count below and at the end. */
	if (quota_client(qc->clients, from, &q->client) == -1 ||
	    quota_take_cl(qc->clients, &q->client, QUERY_HELD,
	    lim.client_held) == -1) {
		query_refused(qc, STATS_LIM_CLIENT_SHARE);
		return (-1);
	}
	if (query_join(qc, snap, q, fq, &lim) == -1) {
		quota_give_cl(qc->clients, &q->client, QUERY_HELD);
		return (-1);
	}

	/* Late answers are written in the worker's scratch. */
	q->out = qc->out;
	q->cap = sizeof qc->out;
	TAILQ_INSERT_TAIL(&qc->pending, q, entry);
	qc->npending++;
	/* The client response timer (nothing is allocated). */
	q->timing = 0;
	if (snap->conf->serve_stale != 0)
		query_timer_add(qc, q);
	return (0);
}

/* Take q off the list of forwarded queries and give back what it held. */
static void
query_unhold(struct query_ctx *qc, struct query *q)
{
	TAILQ_REMOVE(&qc->pending, q, entry);
	qc->npending--;
	query_timer_del(qc, q);
	if (q->job)
		quota_give_cl(qc->clients, &q->client, QUERY_JOBS);
	quota_give_cl(qc->clients, &q->client, QUERY_HELD);
	q->job = 0;
	q->state = QUERY_DONE;
}

/*
 * q is done: send the answer of len octets in q->out (none if 0) and give
 * the record back to the transport.
 */
static void
query_done(struct query_ctx *qc, struct query *q, size_t len)
{
	query_unhold(qc, q);
	if (len != 0)
		q->tp->send(q, q->out, len);
	q->tp->release(q);
}

/* The upstreams have settled q's question fq: answer the client. */
static void
query_fwd_cb(void *arg, const struct wire_query *fq, const uint8_t *msg,
    const struct wire_scan *sc, uint64_t mask)
{
	struct query		*q = arg;
	struct query_ctx	*qc = q->qc;
	struct query_settled	 s = { msg, sc, mask, qc->fwd_gen, 1 };
	size_t			 len = 0;

	/* The answer is in the cache now: wake other workers' waiters. */
	if (q->token != 0)
		inflight_release(qc->inflight, fq, q->token, msg != NULL);
	/* STALE: the client had its answer (and it was counted). */
	if (q->state == QUERY_ASKING)
		query_finish_now(qc, q, &s, &len);
	query_done(qc, q, len);
}

/*
 * Another worker asked q's question for us and is done (ok: an answer
 * went to the cache). Answer from the cache; if the answer could not be
 * cached after all, ask ourselves; if the upstreams failed, stale or
 * SERVFAIL.
 */
static void
query_wake_cb(void *waiter, int ok, void *arg)
{
	struct query		*q = waiter;
	struct query_ctx	*qc = arg;
	struct query_settled	 s = { NULL, NULL, 0, 0, !ok };
	const struct snapshot	*snap;
	const struct wire_query	*fq;
	struct wire_query	 tq;
	size_t			 len;

	if (q->state != QUERY_WAITING) {
		query_done(qc, q, 0);
		return;
	}
	snapshot_read_begin();
	snap = snapshot_current();
	len = 0;
	if (q->tp->alive(q) && (len = query_finish(qc, snap, q, &s)) == 0) {
		/* Not in the cache (not cacheable): ask it ourselves. */
		if ((fq = query_fq(q, &tq)) != NULL &&
		    query_ask(qc, snap, q, fq, fwd_waiters(qc->fwd, fq)) == 0) {
			snapshot_read_end();
			return;
		}
		len = query_servfail_write(qc, q);
	}
	len = query_rate(qc, snap->conf, q, q->out, len);
	/* Answered, or its client gone or over the rate (dropped). */
	if (qc->sw != NULL) {
		stats_worker_begin(qc->sw, 0);
		query_count(qc, snap, q, len, 1);
	}
	snapshot_read_end();
	query_done(qc, q, len);
}

/*
 * The client response timer of q: the upstreams are slow; answer from a
 * stale cache entry if there is one (RFC 8767 5), and let the question go
 * on.
 */
static void
query_stale(struct query *q)
{
	struct query_settled	 s = { NULL, NULL, 0, 0, 0 };
	size_t			 len;

	/* An answer dropped by the rate is given all the same: STALE. */
	if (!q->tp->alive(q) || query_finish_now(q->qc, q, &s, &len) == 0)
		return;
	q->state = QUERY_STALE;
	if (len != 0)
		q->tp->send(q, q->out, len);
}

/* The libevent timer: every client response timer that is due. */
static void
query_stale_cb(evutil_socket_t fd, short events, void *arg)
{
	struct query_ctx	*qc = arg;
	struct query		*q;
	uint64_t		 now = query_now_ms();

	(void)fd;
	(void)events;
	while ((q = TAILQ_FIRST(&qc->timers)) != NULL && q->stale_at <= now) {
		TAILQ_REMOVE(&qc->timers, q, tentry);
		q->timing = 0;
		query_stale(q);
	}
	query_timer_arm(qc, now);
}

struct query_ctx *
query_ctx_new(struct event_base *base, struct cache *cache,
    struct inflight *inflight, struct rrl *rrl, unsigned nworkers,
    size_t max_jobs)
{
	struct query_ctx	*qc;

	if ((qc = calloc(1, sizeof *qc)) == NULL)
		return (NULL);
	qc->base = base;
	qc->cache = cache;
	qc->inflight = inflight;
	qc->rrl = rrl;
	qc->nworkers = nworkers > 0 ? nworkers : 1;
	TAILQ_INIT(&qc->timers);
	TAILQ_INIT(&qc->pending);
	qc->inspect.fn = query_fwd_inspect_cb;
	qc->inspect.arg = qc;
	if ((qc->clients = quota_new()) == NULL ||
	    (qc->memo = memo_new(MEMO_SETS)) == NULL ||
	    (qc->fwd = fwd_new(base, cache, &qc->inspect)) == NULL ||
	    (qc->timer_ev = evtimer_new(base, query_stale_cb, qc)) == NULL ||
	    (qc->mailbox = inflight_mailbox_new(base, query_wake_cb, qc)) ==
	    NULL) {
		query_ctx_free(qc);
		return (NULL);
	}
	fwd_set_limit(qc->fwd, max_jobs);
	return (qc);
}

void
query_ctx_free(struct query_ctx *qc)
{
	struct query	*q;

	if (qc == NULL)
		return;
	/* The forwarder goes first: it calls nobody back when freed. */
	fwd_free(qc->fwd);
	while ((q = TAILQ_FIRST(&qc->pending)) != NULL) {
		query_unhold(qc, q);
		q->tp->release(q);
	}
	inflight_mailbox_free(qc->mailbox);
	if (qc->timer_ev != NULL)
		event_free(qc->timer_ev);
	quota_free(qc->clients);
	memo_free(qc->memo);
	free(qc);
}

void
query_ctx_stats(const struct query_ctx *qc, struct query_stats *st)
{
	*st = qc->st;
}

void
query_ctx_set_stats(struct query_ctx *qc, struct stats_worker *sw)
{
	qc->sw = sw;
	fwd_set_stats(qc->fwd, sw);
}
