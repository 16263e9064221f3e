/*
 * worker.c: a worker thread: UDP in batches, TCP per RFC 7766, and the
 * decision for each query (answer now, or forward and answer later).
 *
 * Memory: a worker's receive and send buffers are part of struct worker,
 * allocated once. Nothing is allocated for a query answered from the cache,
 * blocked, or answered with an error; a forwarded query needs one record
 * to remember the client's question and where the answer goes (struct
 * worker_pending).
 */
#include <sys/types.h>
#include <sys/queue.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <netinet/in.h>

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
/* struct event inside struct worker_pending: no allocation per timer. */
#include <event2/event_struct.h>
#include <event2/listener.h>

#include "cache.h"
#include "conf.h"
#include "fwd.h"
#include "inflight.h"
#include "log.h"
#include "snapshot.h"
#include "wire.h"
#include "worker.h"

#define WORKER_BATCH		32	/* datagrams per recvmmsg/sendmmsg */
#define WORKER_ROUNDS		4	/* batches per readiness event */
#define WORKER_RXBUF		4096	/* longer queries are dropped */
#define WORKER_TXBUF		4096	/* >= WIRE_EDNS_SIZE */
#define WORKER_TCP_MAX		65535
#define WORKER_TCP_OUTMAX	(1024 * 1024) /* unread answers per conn */
/*
 * RFC 8767 5: when the upstreams have not answered within this time and
 * the cache still has an expired answer (within serve-stale), the client
 * gets that at once; the upstream answer, when it comes, only refreshes
 * the cache. 1.8 s is the RFC's suggestion: below the usual stub resolver
 * timeout of 2 s or more.
 */
#define WORKER_STALE_MS		1800

/* Control message space for one IP_PKTINFO or IPV6_PKTINFO. */
union worker_ctl {
	struct cmsghdr	hdr;
	uint8_t		buf[CMSG_SPACE(sizeof(struct in6_pktinfo))];
};

/* The local address a datagram was sent to, for sockets on a wildcard. */
struct worker_dst {
	int			family;	/* 0 when not known or not needed */
	struct in_pktinfo	v4;
	struct in6_pktinfo	v6;
};

/* One UDP socket of this worker. */
struct worker_udp {
	struct worker		*w;
	int			 fd;
	int			 pktinfo; /* bound to a wildcard address */
	struct event		*ev;
};

/*
 * A query waiting for an upstream answer, UDP or TCP. The forwarded
 * question is the client's, or for a rewrite (safe search, RPZ CNAME) the
 * target's; the client's own question is kept here to answer it.
 */
struct worker_pending {
	struct worker		*w;
	struct worker_udp	*u;	/* UDP: the socket it came in on */
	struct worker_conn	*conn;	/* TCP: its connection */
	struct sockaddr_storage	 from;	/* the client */
	socklen_t		 fromlen;
	struct worker_dst	 dst;	/* UDP: the address it was sent to */
	struct wire_query	 q;	/* the client's question */
	int			 rewrite; /* answer with a CNAME to target */
	uint8_t			 target[WIRE_MAX_NAME];
	size_t			 tlen;
	uint32_t		 ttl;	/* of the CNAME */
	struct event		 stale_ev; /* the client response timer */
	int			 stale_armed;
	int			 answered; /* by the timer, from a stale entry */
	int			 owner;	/* owns the question in the registry */
	uint64_t		 token;	/* of that ownership */
	TAILQ_ENTRY(worker_pending) entry;
};

/* What worker_query() decided to forward. */
struct worker_fwd {
	struct wire_query	 fq;	/* the question to ask upstream */
	int			 rewrite;
	const uint8_t		*target;
	size_t			 tlen;
	uint32_t		 ttl;
};

/*
 * A TCP connection. It outlives its socket while queries it forwarded are
 * still out (pending > 0): their answers are then dropped.
 */
struct worker_conn {
	struct worker		*w;
	struct bufferevent	*bev;	/* NULL once closed */
	unsigned		 pending; /* queries forwarded, not answered */
	unsigned		 max_queries;
	int			 paused; /* reading stopped at max_queries */
	int			 eof;	/* client finished sending */
	struct sockaddr_storage	 peer;	/* the client's address */
	TAILQ_ENTRY(worker_conn) entry;
};

struct worker {
	unsigned		 id;
	unsigned		 nworkers;
	pthread_t		 thread;
	int			 started;
	struct event_base	*base;
	struct cache		*cache;
	struct fwd		*fwd;
	struct inflight		*inflight;	/* shared with every worker */
	struct inflight_mailbox	*mailbox;	/* our waiters come back here */

	struct worker_udp	*udp;
	size_t			 nudp;
	struct evconnlistener	**tcp;
	size_t			 ntcp;
	unsigned		 nconns;
	struct event		*resume_ev;	/* accept() again after EMFILE */
	TAILQ_HEAD(, worker_conn) conns;
	TAILQ_HEAD(, worker_pending) pending;

	struct worker_stats	 st;
	struct fwd_inspect	 inspect;	/* for fwd: policy_inspect */
	uint32_t		 fwd_gen;	/* policy generation of the
						   bits fwd is passing on: fwd
						   inspects, then calls the
						   waiters at once */

	/* recvmmsg and sendmmsg state, reused for every batch. */
	struct mmsghdr		 rx[WORKER_BATCH];
	struct iovec		 rxiov[WORKER_BATCH];
	struct sockaddr_storage	 rxaddr[WORKER_BATCH];
	union worker_ctl	 rxctl[WORKER_BATCH];
	struct mmsghdr		 tx[WORKER_BATCH];
	struct iovec		 txiov[WORKER_BATCH];
	union worker_ctl	 txctl[WORKER_BATCH];
	uint8_t			 rxbuf[WORKER_BATCH][WORKER_RXBUF];
	uint8_t			 txbuf[WORKER_BATCH][WORKER_TXBUF];
	/* One TCP query and one answer (TCP, or a late UDP answer). */
	uint8_t			 tcpin[WORKER_TCP_MAX];
	uint8_t			 out[WORKER_TCP_MAX];
	/* The answer about a rewrite's target, before it is wrapped. */
	uint8_t			 tmp[WORKER_TCP_MAX];
};

/* What to do with a query once worker_query() has looked at it. */
enum worker_next {
	WORKER_SEND,		/* the answer is in out */
	WORKER_DROP,		/* send nothing */
	WORKER_FORWARD,		/* ask the upstreams */
};

static uint64_t	worker_fwd_inspect_cb(void *, const uint8_t *, size_t,
		    uint32_t *);
static void	worker_udp_read_cb(evutil_socket_t, short, void *);
static void	worker_done_cb(void *, const struct wire_query *,
		    const uint8_t *, const struct wire_scan *, uint64_t);
static void	worker_stale_cb(evutil_socket_t, short, void *);
static void	worker_wake_cb(void *, int, void *);
static int	worker_pending_fq(const struct worker_pending *,
		    struct wire_query *);
static int	worker_forward(struct worker *, const struct snapshot *,
		    struct worker_pending *, const struct wire_query *);
static void	worker_stale_arm(struct worker *, struct worker_pending *);
static void	worker_accept_cb(struct evconnlistener *, evutil_socket_t,
		    struct sockaddr *, int, void *);
static void	worker_accept_error_cb(struct evconnlistener *, void *);
static void	worker_resume_cb(evutil_socket_t, short, void *);
static void	worker_conn_read_cb(struct bufferevent *, void *);
static void	worker_conn_write_cb(struct bufferevent *, void *);
static void	worker_conn_event_cb(struct bufferevent *, short, void *);
static void	worker_conn_process(struct worker_conn *);
static void	worker_conn_close(struct worker_conn *);

/* Is sa the unspecified address (0.0.0.0 or ::)? */
static int
worker_wildcard(const struct sockaddr *sa)
{
	const struct sockaddr_in	*sin = (const struct sockaddr_in *)sa;
	const struct sockaddr_in6	*sin6 = (const struct sockaddr_in6 *)sa;

	if (sa->sa_family == AF_INET)
		return sin->sin_addr.s_addr == htonl(INADDR_ANY);
	return IN6_IS_ADDR_UNSPECIFIED(&sin6->sin6_addr);
}

/* Open a socket of type on sa with SO_REUSEPORT; -1 with *cause set. */
static int
worker_socket(const struct conf_sockaddr *sa, int type, char **cause)
{
	char	addr[80];
	int	fd, on = 1;

	fd = socket(sa->ss.ss_family, type | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd == -1)
		goto fail;
	if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof on) == -1 ||
	    setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &on, sizeof on) == -1)
		goto fail;
	/* [::]:53 and 0.0.0.0:53 must be able to live side by side. */
	if (sa->ss.ss_family == AF_INET6 && setsockopt(fd, IPPROTO_IPV6,
	    IPV6_V6ONLY, &on, sizeof on) == -1)
		goto fail;
	if (bind(fd, (const struct sockaddr *)&sa->ss, sa->len) == -1)
		goto fail;
	if (type == SOCK_STREAM && listen(fd, 1024) == -1)
		goto fail;
	return fd;
fail:
	if (asprintf(cause, "%s %s: %s", type == SOCK_STREAM ? "tcp" : "udp",
	    conf_sockaddr_str(sa, addr, sizeof addr), strerror(errno)) == -1)
		*cause = NULL;
	if (fd != -1)
		close(fd);
	return -1;
}

/*
 * How many questions one worker may have in flight: each holds a socket,
 * so the descriptors left after TCP connections and listeners are shared
 * out over the workers.
 */
static size_t
worker_job_limit(const struct conf *conf, unsigned nworkers)
{
	struct rlimit	rl;
	rlim_t		left, reserve;

	if (getrlimit(RLIMIT_NOFILE, &rl) == -1 || rl.rlim_cur == RLIM_INFINITY)
		return FWD_MAX_JOBS;
	reserve = 64 + conf->tcp_max_conns + 2 * conf->nlisten * nworkers;
	left = rl.rlim_cur > reserve ? rl.rlim_cur - reserve : 0;
	left /= nworkers;
	if (left < 16)
		left = 16;
	return left < FWD_MAX_JOBS * 16 ? (size_t)left : FWD_MAX_JOBS * 16;
}

struct worker *
worker_new(unsigned id, unsigned nworkers, const struct conf *conf,
    struct cache *cache, struct inflight *inflight, char **cause)
{
	struct worker		*w;
	struct worker_udp	*u;
	size_t			 i;
	int			 fd, on = 1;

	*cause = NULL;
	if ((w = calloc(1, sizeof *w)) == NULL)
		goto nomem;
	w->id = id;
	w->nworkers = nworkers;
	w->cache = cache;
	TAILQ_INIT(&w->conns);
	TAILQ_INIT(&w->pending);
	if ((w->base = event_base_new()) == NULL)
		goto nomem;
	w->inspect.fn = worker_fwd_inspect_cb;
	w->inspect.arg = w;
	if ((w->fwd = fwd_new(w->base, cache, &w->inspect)) == NULL)
		goto nomem;
	fwd_set_limit(w->fwd, worker_job_limit(conf, nworkers));
	w->inflight = inflight;
	if ((w->mailbox = inflight_mailbox_new(w->base, worker_wake_cb, w)) ==
	    NULL)
		goto nomem;
	if ((w->resume_ev = evtimer_new(w->base, worker_resume_cb, w)) ==
	    NULL)
		goto nomem;
	w->udp = calloc(conf->nlisten, sizeof *w->udp);
	w->tcp = calloc(conf->nlisten, sizeof *w->tcp);
	if (w->udp == NULL || w->tcp == NULL)
		goto nomem;
	for (i = 0; i < conf->nlisten; i++) {
		u = &w->udp[w->nudp];
		u->w = w;
		u->fd = worker_socket(&conf->listen[i], SOCK_DGRAM, cause);
		if (u->fd == -1)
			goto fail;
		w->nudp++;
		if (worker_wildcard((const struct sockaddr *)&conf->listen[i].ss)) {
			u->pktinfo = 1;
			if (conf->listen[i].ss.ss_family == AF_INET)
				setsockopt(u->fd, IPPROTO_IP, IP_PKTINFO, &on,
				    sizeof on);
			else
				setsockopt(u->fd, IPPROTO_IPV6,
				    IPV6_RECVPKTINFO, &on, sizeof on);
		}
		u->ev = event_new(w->base, u->fd, EV_READ | EV_PERSIST,
		    worker_udp_read_cb, u);
		if (u->ev == NULL || event_add(u->ev, NULL) == -1)
			goto nomem;

		fd = worker_socket(&conf->listen[i], SOCK_STREAM, cause);
		if (fd == -1)
			goto fail;
		w->tcp[w->ntcp] = evconnlistener_new(w->base, worker_accept_cb,
		    w, LEV_OPT_CLOSE_ON_FREE, -1, fd);
		if (w->tcp[w->ntcp] == NULL) {
			close(fd);
			goto nomem;
		}
		evconnlistener_set_error_cb(w->tcp[w->ntcp],
		    worker_accept_error_cb);
		w->ntcp++;
	}
	return w;
nomem:
	if (asprintf(cause, "worker %u: out of memory", id) == -1)
		*cause = NULL;
fail:
	worker_free(w);
	return NULL;
}

/* The worker thread: register as a snapshot reader and run the loop. */
static void *
worker_main(void *arg)
{
	struct worker	*w = arg;

	snapshot_thread_init();
	log_debug("worker %u running", w->id);
	event_base_dispatch(w->base);
	snapshot_thread_done();
	return NULL;
}

int
worker_start(struct worker *w)
{
	if (pthread_create(&w->thread, NULL, worker_main, w) != 0)
		return -1;
	w->started = 1;
	return 0;
}

void
worker_stop(struct worker *w)
{
	if (!w->started)
		return;
	event_base_loopexit(w->base, NULL);
	pthread_join(w->thread, NULL);
	w->started = 0;
}

void
worker_free(struct worker *w)
{
	struct worker_conn	*c;
	struct worker_pending	*pq;
	size_t			 i;

	if (w == NULL)
		return;
	/* The forwarder goes first: it calls nobody back when freed. */
	fwd_free(w->fwd);
	while ((pq = TAILQ_FIRST(&w->pending)) != NULL) {
		TAILQ_REMOVE(&w->pending, pq, entry);
		if (pq->stale_armed)
			event_del(&pq->stale_ev);
		free(pq);
	}
	inflight_mailbox_free(w->mailbox);
	while ((c = TAILQ_FIRST(&w->conns)) != NULL) {
		TAILQ_REMOVE(&w->conns, c, entry);
		if (c->bev != NULL)
			bufferevent_free(c->bev);
		free(c);
	}
	for (i = 0; i < w->ntcp; i++)
		evconnlistener_free(w->tcp[i]);
	if (w->resume_ev != NULL)
		event_free(w->resume_ev);
	for (i = 0; i < w->nudp; i++) {
		if (w->udp[i].ev != NULL)
			event_free(w->udp[i].ev);
		close(w->udp[i].fd);
	}
	free(w->tcp);
	free(w->udp);
	if (w->base != NULL)
		event_base_free(w->base);
	free(w);
}

void
worker_stats(const struct worker *w, struct worker_stats *st)
{
	*st = w->st;
}

/* The most a UDP answer to q may carry; WIRE_MAX_UDP over TCP. */
static size_t
worker_udp_max(const struct wire_query *q, int tcp)
{
	if (tcp)
		return WIRE_MAX_UDP;
	/* Stay below the size that risks fragments (DNS flag day 2020). */
	return q->udp_size < WIRE_EDNS_SIZE ? q->udp_size : WIRE_EDNS_SIZE;
}

/* Cache inspection callback: the policy's bits of an answer. */
static uint64_t
worker_cache_inspect_cb(void *arg, const uint8_t *msg, size_t len)
{
	return policy_inspect(arg, msg, len);
}

/* The forwarder's inspection callback, outside any read section. */
static uint64_t
worker_fwd_inspect_cb(void *arg, const uint8_t *msg, size_t len,
    uint32_t *gen)
{
	struct worker		*w = arg;
	const struct snapshot	*snap;
	uint64_t		 mask;

	snapshot_read_begin();
	snap = snapshot_current();
	mask = policy_inspect(snap->policy, msg, len);
	*gen = w->fwd_gen = policy_generation(snap->policy);
	snapshot_read_end();
	return mask;
}

/* Write the blocked answer of verdict v for board b into out. */
static size_t
worker_block(struct worker *w, const struct policy_board *b,
    const struct policy_verdict *v, const struct wire_query *q, uint8_t *out,
    size_t cap)
{
	struct wire_block	wb;

	w->st.blocked++;
	policy_block(b, v, q, &wb);
	return wire_block_answer(out, cap, q, &wb);
}

/*
 * Look up fq (the question itself, or a rewrite's target) in the cache:
 * into out when it answers q directly, else into w->tmp. With a hit, an
 * answer the board blocks (by its inspection bits) becomes the blocked
 * answer to q. Returns CACHE_MISS, or the result with *outlen set.
 */
static enum cache_result
worker_cached(struct worker *w, const struct policy *p,
    const struct policy_board *b, const struct policy_verdict *v,
    const struct wire_query *q, const struct wire_query *fq, int tcp,
    int allow_stale, const uint8_t *target, size_t tlen, uint32_t ttl,
    uint8_t *out, size_t cap, size_t *outlen)
{
	struct cache_inspect	 ins;
	struct cache_req	 req;
	struct policy_verdict	 av;
	enum cache_result	 r;
	uint64_t		 mask = 0;
	uint8_t			*buf = target != NULL ? w->tmp : out;
	size_t			 len, bcap = target != NULL ? sizeof w->tmp : cap;

	ins.fn = worker_cache_inspect_cb;
	ins.arg = (void *)(uintptr_t)p;
	ins.gen = policy_generation(p);
	req.q = fq;
	req.now = cache_now();
	req.allow_stale = allow_stale;
	req.udp_max = target != NULL ? WIRE_MAX_UDP : worker_udp_max(q, tcp);
	req.ins = &ins;
	r = cache_lookup(w->cache, &req, buf, bcap, &len, &mask);
	if (r == CACHE_MISS)
		return r;
	/* Answer inspection: one AND per hit (CNAME cloaking, IPs, geo). */
	if (v->kind != POLICY_ALLOWED) {
		policy_answer(p, b, mask, &av);
		if (av.kind == POLICY_BLOCK) {
			*outlen = worker_block(w, b, &av, q, out, cap);
			return r;
		}
	}
	if (target != NULL) {
		len = wire_cname_answer(out, cap, q, target, tlen, ttl, w->tmp,
		    len, worker_udp_max(q, tcp));
		if (len == 0)
			return CACHE_MISS;
		w->st.rewritten++;
	}
	*outlen = len;
	return r;
}

/*
 * Decide on one query: answer it now into out (cap octets), or say what
 * to forward in *f.
 */
static enum worker_next
worker_query(struct worker *w, const struct snapshot *snap, const uint8_t *pkt,
    size_t len, const struct sockaddr *from, int tcp, struct wire_query *q,
    uint8_t *out, size_t cap, size_t *outlen, struct worker_fwd *f)
{
	const struct policy_board	*b;
	struct policy_verdict		 v;
	int				 rcode;

	switch (wire_parse_query(pkt, len, q)) {
	case WIRE_OK:
		break;
	case WIRE_DROP:
		w->st.dropped++;
		return WORKER_DROP;
	case WIRE_ERR_NOTIMP:
		rcode = WIRE_NOTIMP;
		goto error;
	case WIRE_ERR_BADVERS:
		rcode = WIRE_BADVERS;
		goto error;
	case WIRE_ERR_FORMERR:
	default:
		rcode = WIRE_FORMERR;
		goto error;
	}
	/* Who is asking: an address of no board is refused. */
	b = policy_board_for(snap->policy, from);
	if (b == NULL || q->qtype == WIRE_TYPE_AXFR ||
	    q->qtype == WIRE_TYPE_IXFR) {
		w->st.refused++;
		*outlen = wire_error(out, cap, q, WIRE_REFUSED);
		return *outlen != 0 ? WORKER_SEND : WORKER_DROP;
	}

	/* Policy on the question. */
	policy_question(snap->policy, b, q, &v);
	memset(f, 0, sizeof *f);
	switch (v.kind) {
	case POLICY_BLOCK:
		*outlen = worker_block(w, b, &v, q, out, cap);
		return *outlen != 0 ? WORKER_SEND : WORKER_DROP;
	case POLICY_REWRITE:
		if (wire_query_retarget(&f->fq, q, v.target, v.tlen) == -1) {
			rcode = WIRE_SERVFAIL;
			goto error;
		}
		f->rewrite = 1;
		f->target = v.target;
		f->tlen = v.tlen;
		f->ttl = v.ttl;
		break;
	case POLICY_ALLOWED:
	case POLICY_PASS:
		f->fq = *q;
		break;
	}

	if (worker_cached(w, snap->policy, b, &v, q, &f->fq, tcp, 0,
	    f->target, f->tlen, f->ttl, out, cap, outlen) == CACHE_HIT) {
		w->st.cache_hits++;
		return WORKER_SEND;
	}
	w->st.forwarded++;
	return WORKER_FORWARD;

error:
	w->st.formerr++;
	*outlen = wire_error(out, cap, q, rcode);
	return *outlen != 0 ? WORKER_SEND : WORKER_DROP;
}

/* Remember a query to forward, for worker_done_cb. NULL if no memory. */
static struct worker_pending *
worker_pending_new(struct worker *w, const struct wire_query *q,
    const struct worker_fwd *f, const struct sockaddr *from,
    socklen_t fromlen)
{
	struct worker_pending	*pq;

	if ((pq = calloc(1, sizeof *pq)) == NULL)
		return NULL;
	pq->w = w;
	pq->q = *q;
	if (fromlen > sizeof pq->from)
		fromlen = sizeof pq->from;
	memcpy(&pq->from, from, fromlen);
	pq->fromlen = fromlen;
	if (f->rewrite) {
		pq->rewrite = 1;
		memcpy(pq->target, f->target, f->tlen);
		pq->tlen = f->tlen;
		pq->ttl = f->ttl;
	}
	return pq;
}

/*
 * Write the answer to a forwarded query pq whose forwarded question fq
 * was settled: from the upstream's answer (msg, sc, its inspection bits
 * mask), or when every upstream failed from a stale cache entry (RFC
 * 8767), or SERVFAIL. The policy in force now decides (a reload may have
 * happened meanwhile). With stale_only (the client response timer, before
 * the upstreams are done) only a cached answer is written, else nothing.
 */
static size_t
worker_finish(struct worker *w, struct worker_pending *pq,
    const struct wire_query *fq, const uint8_t *msg,
    const struct wire_scan *sc, uint64_t mask, int stale_only, uint8_t *out,
    size_t cap)
{
	const struct snapshot		*snap;
	const struct policy_board	*b;
	const uint8_t			*target = NULL;
	struct policy_verdict		 v, av;
	const struct wire_query		*q = &pq->q;
	size_t				 len = 0;
	int				 tcp = pq->conn != NULL;

	snapshot_read_begin();
	snap = snapshot_current();
	b = policy_board_for(snap->policy, (struct sockaddr *)&pq->from);
	if (b == NULL) {
		/* Its board went away in a reload. */
		w->st.refused++;
		len = wire_error(out, cap, q, WIRE_REFUSED);
		goto done;
	}
	policy_question(snap->policy, b, q, &v);
	if (v.kind == POLICY_BLOCK) {
		len = worker_block(w, b, &v, q, out, cap);
		goto done;
	}
	if (pq->rewrite)
		target = pq->target;
	if (msg == NULL) {
		switch (worker_cached(w, snap->policy, b, &v, q, fq, tcp, 1,
		    target, pq->tlen, pq->ttl, out, cap, &len)) {
		case CACHE_STALE:
			w->st.stale++;
			goto done;
		case CACHE_HIT:
			goto done;
		case CACHE_MISS:
			break;
		}
		len = 0;
		goto done;
	}
	if (v.kind != POLICY_ALLOWED) {
		/* The bits were worked out under an older policy: again. */
		if (w->fwd_gen != policy_generation(snap->policy))
			mask = policy_inspect(snap->policy, msg, sc->len);
		policy_answer(snap->policy, b, mask, &av);
		if (av.kind == POLICY_BLOCK) {
			len = worker_block(w, b, &av, q, out, cap);
			goto done;
		}
	}
	if (target == NULL)
		len = wire_answer(out, cap, msg, sc->len, sc->ttl_off,
		    sc->nttl, 0, 0, q, worker_udp_max(q, tcp));
	else {
		len = wire_answer(w->tmp, sizeof w->tmp, msg, sc->len,
		    sc->ttl_off, sc->nttl, 0, 0, fq, WIRE_MAX_UDP);
		if (len != 0)
			len = wire_cname_answer(out, cap, q, target, pq->tlen,
			    pq->ttl, w->tmp, len, worker_udp_max(q, tcp));
		if (len != 0)
			w->st.rewritten++;
	}
done:
	snapshot_read_end();
	if (len != 0 || stale_only)
		return len;
	w->st.servfail++;
	return wire_error(out, cap, q, WIRE_SERVFAIL);
}

/* Read the destination address of a received datagram, if recorded. */
static void
worker_dst_get(struct msghdr *mh, struct worker_dst *dst)
{
	struct cmsghdr	*cm;

	dst->family = 0;
	for (cm = CMSG_FIRSTHDR(mh); cm != NULL; cm = CMSG_NXTHDR(mh, cm)) {
		if (cm->cmsg_level == IPPROTO_IP &&
		    cm->cmsg_type == IP_PKTINFO) {
			memcpy(&dst->v4, CMSG_DATA(cm), sizeof dst->v4);
			/* Answer from the address the query was sent to. */
			dst->v4.ipi_spec_dst = dst->v4.ipi_addr;
			dst->v4.ipi_ifindex = 0;
			dst->family = AF_INET;
		} else if (cm->cmsg_level == IPPROTO_IPV6 &&
		    cm->cmsg_type == IPV6_PKTINFO) {
			memcpy(&dst->v6, CMSG_DATA(cm), sizeof dst->v6);
			dst->family = AF_INET6;
		}
	}
}

/* Put the source address dst into mh's control data (ctl as space). */
static void
worker_dst_set(struct msghdr *mh, const struct worker_dst *dst,
    union worker_ctl *ctl)
{
	struct cmsghdr	*cm;

	mh->msg_control = NULL;
	mh->msg_controllen = 0;
	if (dst->family == 0)
		return;
	memset(ctl, 0, sizeof *ctl);
	mh->msg_control = ctl->buf;
	cm = &ctl->hdr;
	if (dst->family == AF_INET) {
		mh->msg_controllen = CMSG_SPACE(sizeof dst->v4);
		cm->cmsg_level = IPPROTO_IP;
		cm->cmsg_type = IP_PKTINFO;
		cm->cmsg_len = CMSG_LEN(sizeof dst->v4);
		memcpy(CMSG_DATA(cm), &dst->v4, sizeof dst->v4);
	} else {
		mh->msg_controllen = CMSG_SPACE(sizeof dst->v6);
		cm->cmsg_level = IPPROTO_IPV6;
		cm->cmsg_type = IPV6_PKTINFO;
		cm->cmsg_len = CMSG_LEN(sizeof dst->v6);
		memcpy(CMSG_DATA(cm), &dst->v6, sizeof dst->v6);
	}
}

/* Send the batch of answers collected in w->tx; what fails is dropped. */
static void
worker_udp_flush(struct worker_udp *u, unsigned ntx)
{
	struct worker	*w = u->w;
	unsigned	 done = 0;
	int		 n;

	while (done < ntx) {
		n = sendmmsg(u->fd, w->tx + done, ntx - done, 0);
		if (n == -1) {
			if (errno == EINTR)
				continue;
			log_ratelimited("udp send: %s", strerror(errno));
			if (errno == EAGAIN || errno == ENOBUFS) {
				/* The socket is full: the rest would be too. */
				w->st.dropped += ntx - done;
				return;
			}
			/* Skip the datagram that failed, keep the rest. */
			w->st.dropped++;
			done++;
			continue;
		}
		done += (unsigned)n;
	}
}

/*
 * Fill send slot i of the batch with the answer of outlen octets in
 * w->txbuf[i] for the datagram mh, from the address it was sent to.
 */
static void
worker_tx_add(struct worker_udp *u, struct msghdr *mh, unsigned i,
    size_t outlen)
{
	struct worker		*w = u->w;
	struct worker_dst	 dst;

	dst.family = 0;
	if (u->pktinfo)
		worker_dst_get(mh, &dst);
	w->txiov[i].iov_base = w->txbuf[i];
	w->txiov[i].iov_len = outlen;
	memset(&w->tx[i], 0, sizeof w->tx[i]);
	w->tx[i].msg_hdr.msg_name = mh->msg_name;
	w->tx[i].msg_hdr.msg_namelen = mh->msg_namelen;
	w->tx[i].msg_hdr.msg_iov = &w->txiov[i];
	w->tx[i].msg_hdr.msg_iovlen = 1;
	worker_dst_set(&w->tx[i].msg_hdr, &dst, &w->txctl[i]);
}

/* Datagrams are waiting on u: read, answer and send them in batches. */
static void
worker_udp_read_cb(evutil_socket_t fd, short events, void *arg)
{
	struct worker_udp	*u = arg;
	struct worker		*w = u->w;
	const struct snapshot	*snap;
	struct worker_pending	*pq;
	struct worker_fwd	 f;
	struct wire_query	 q;
	struct msghdr		*mh;
	size_t			 outlen;
	unsigned		 round, i, ntx;
	int			 n;

	(void)events;
	for (round = 0; round < WORKER_ROUNDS; round++) {
		for (i = 0; i < WORKER_BATCH; i++) {
			mh = &w->rx[i].msg_hdr;
			w->rxiov[i].iov_base = w->rxbuf[i];
			w->rxiov[i].iov_len = WORKER_RXBUF;
			mh->msg_name = &w->rxaddr[i];
			mh->msg_namelen = sizeof w->rxaddr[i];
			mh->msg_iov = &w->rxiov[i];
			mh->msg_iovlen = 1;
			mh->msg_control = u->pktinfo ? w->rxctl[i].buf : NULL;
			mh->msg_controllen = u->pktinfo ?
			    sizeof w->rxctl[i].buf : 0;
			mh->msg_flags = 0;
		}
		n = recvmmsg(fd, w->rx, WORKER_BATCH, MSG_DONTWAIT, NULL);
		if (n <= 0) {
			if (n == -1 && errno != EAGAIN && errno != EINTR)
				log_ratelimited("udp receive: %s",
				    strerror(errno));
			return;
		}
		ntx = 0;
		snapshot_read_begin();
		snap = snapshot_current();
		for (i = 0; i < (unsigned)n; i++) {
			mh = &w->rx[i].msg_hdr;
			w->st.udp_queries++;
			if (mh->msg_flags & MSG_TRUNC) {
				w->st.dropped++;
				continue;
			}
			switch (worker_query(w, snap, w->rxbuf[i],
			    w->rx[i].msg_len, mh->msg_name, 0, &q,
			    w->txbuf[ntx], WORKER_TXBUF, &outlen, &f)) {
			case WORKER_DROP:
				break;
			case WORKER_SEND:
				worker_tx_add(u, mh, ntx++, outlen);
				break;
			case WORKER_FORWARD:
				pq = worker_pending_new(w, &q, &f,
				    mh->msg_name, mh->msg_namelen);
				if (pq == NULL)
					goto servfail;
				pq->u = u;
				if (u->pktinfo)
					worker_dst_get(mh, &pq->dst);
				if (worker_forward(w, snap, pq, &f.fq) == -1) {
					free(pq);
					goto servfail;
				}
				break;
			servfail:
				/* Out of resources: say so at once. */
				w->st.servfail++;
				outlen = wire_error(w->txbuf[ntx], WORKER_TXBUF,
				    &q, WIRE_SERVFAIL);
				if (outlen != 0)
					worker_tx_add(u, mh, ntx++, outlen);
				break;
			}
		}
		snapshot_read_end();
		worker_udp_flush(u, ntx);
		if (n < WORKER_BATCH)
			return;
	}
}

/* A TCP client connects: take it unless this worker has its share. */
static void
worker_accept_cb(struct evconnlistener *lev, evutil_socket_t fd,
    struct sockaddr *sa, int salen, void *arg)
{
	struct worker		*w = arg;
	const struct snapshot	*snap;
	struct worker_conn	*c;
	struct timeval		 idle;
	unsigned		 limit;

	(void)lev;
	snapshot_read_begin();
	snap = snapshot_current();
	limit = (snap->conf->tcp_max_conns + w->nworkers - 1) / w->nworkers;
	idle.tv_sec = snap->conf->tcp_idle_ms / 1000;
	idle.tv_usec = (snap->conf->tcp_idle_ms % 1000) * 1000;
	c = NULL;
	if (w->nconns < limit)
		c = calloc(1, sizeof *c);
	if (c != NULL)
		c->max_queries = snap->conf->tcp_max_queries;
	snapshot_read_end();
	if (c == NULL) {
		w->st.tcp_rejected++;
		close(fd);
		return;
	}
	c->w = w;
	if (salen > 0 && (size_t)salen <= sizeof c->peer)
		memcpy(&c->peer, sa, (size_t)salen);
	c->bev = bufferevent_socket_new(w->base, fd, BEV_OPT_CLOSE_ON_FREE);
	if (c->bev == NULL) {
		close(fd);
		free(c);
		w->st.tcp_rejected++;
		return;
	}
	w->st.tcp_accepted++;
	w->nconns++;
	TAILQ_INSERT_TAIL(&w->conns, c, entry);
	bufferevent_setcb(c->bev, worker_conn_read_cb, worker_conn_write_cb,
	    worker_conn_event_cb, c);
	/* RFC 7766 6.2.3: an idle connection is closed after a while. */
	bufferevent_set_timeouts(c->bev, &idle, &idle);
	/*
	 * Read no more than two whole messages ahead: a client that sends
	 * faster than it is answered waits in its own socket buffer, not in
	 * our memory.
	 */
	bufferevent_setwatermark(c->bev, EV_READ, 0, 2 * (2 + WORKER_TCP_MAX));
	bufferevent_enable(c->bev, EV_READ);
}

/*
 * accept() failed (EMFILE, ENFILE, ENOBUFS): libevent would call it again
 * at once and spin. Stop listening for a moment on every TCP socket.
 */
static void
worker_accept_error_cb(struct evconnlistener *lev, void *arg)
{
	struct worker	*w = arg;
	struct timeval	 tv = { 0, 100 * 1000 };
	size_t		 i;

	(void)lev;
	log_ratelimited("tcp accept: %s", strerror(errno));
	for (i = 0; i < w->ntcp; i++)
		evconnlistener_disable(w->tcp[i]);
	evtimer_add(w->resume_ev, &tv);
}

/* Listen again after an accept() failure. */
static void
worker_resume_cb(evutil_socket_t fd, short events, void *arg)
{
	struct worker	*w = arg;
	size_t		 i;

	(void)fd;
	(void)events;
	for (i = 0; i < w->ntcp; i++)
		evconnlistener_enable(w->tcp[i]);
}

/* Queue one answer on a connection, with its two-octet length. */
static void
worker_conn_send(struct worker_conn *c, const uint8_t *msg, size_t len)
{
	uint8_t	hdr[2];

	if (c->bev == NULL)
		return;
	if (evbuffer_get_length(bufferevent_get_output(c->bev)) >
	    WORKER_TCP_OUTMAX) {
		/*
		 * The client does not read its answers: read no more from
		 * it; the write timeout or the last write closes it.
		 */
		c->eof = 1;
		bufferevent_disable(c->bev, EV_READ);
		return;
	}
	hdr[0] = len >> 8;
	hdr[1] = len & 0xff;
	bufferevent_write(c->bev, hdr, 2);
	bufferevent_write(c->bev, msg, len);
}

/* Answer every complete query in the connection's input buffer. */
static void
worker_conn_process(struct worker_conn *c)
{
	struct worker		*w = c->w;
	const struct snapshot	*snap;
	struct evbuffer		*in;
	struct worker_pending	*pq;
	struct worker_fwd	 f;
	struct wire_query	 q;
	uint8_t			 hdr[2];
	size_t			 len, outlen;

	in = bufferevent_get_input(c->bev);
	snapshot_read_begin();
	snap = snapshot_current();
	while (!c->eof) {
		if (c->pending >= c->max_queries) {
			/* Enough in flight: read more once answers left. */
			bufferevent_disable(c->bev, EV_READ);
			c->paused = 1;
			break;
		}
		if (evbuffer_copyout(in, hdr, 2) != 2)
			break;
		len = (size_t)hdr[0] << 8 | hdr[1];
		if (evbuffer_get_length(in) < 2 + len)
			break;
		evbuffer_drain(in, 2);
		evbuffer_remove(in, w->tcpin, len);
		w->st.tcp_queries++;
		switch (worker_query(w, snap, w->tcpin, len,
		    (struct sockaddr *)&c->peer, 1, &q, w->out, sizeof w->out,
		    &outlen, &f)) {
		case WORKER_DROP:
			break;
		case WORKER_SEND:
			worker_conn_send(c, w->out, outlen);
			break;
		case WORKER_FORWARD:
			pq = worker_pending_new(w, &q, &f,
			    (struct sockaddr *)&c->peer, sizeof c->peer);
			if (pq != NULL) {
				pq->conn = c;
				if (worker_forward(w, snap, pq, &f.fq) == 0) {
					c->pending++;
					break;
				}
				free(pq);
			}
			w->st.servfail++;
			outlen = wire_error(w->out, sizeof w->out, &q,
			    WIRE_SERVFAIL);
			worker_conn_send(c, w->out, outlen);
			break;
		}
	}
	snapshot_read_end();
}

static void
worker_conn_read_cb(struct bufferevent *bev, void *arg)
{
	(void)bev;
	worker_conn_process(arg);
}

/* Everything written: a client that has finished can now be let go. */
static void
worker_conn_write_cb(struct bufferevent *bev, void *arg)
{
	struct worker_conn	*c = arg;

	(void)bev;
	if (c->eof && c->pending == 0)
		worker_conn_close(c);
}

static void
worker_conn_event_cb(struct bufferevent *bev, short what, void *arg)
{
	struct worker_conn	*c = arg;

	if ((what & BEV_EVENT_TIMEOUT) && (what & BEV_EVENT_READING) &&
	    c->pending > 0 && !c->eof) {
		/* Not idle: answers are still on their way. */
		bufferevent_enable(bev, EV_READ);
		return;
	}
	if ((what & BEV_EVENT_EOF) && (c->pending > 0 ||
	    evbuffer_get_length(bufferevent_get_output(bev)) > 0)) {
		/* Half-closed: send what is owed, then close. */
		c->eof = 1;
		bufferevent_disable(bev, EV_READ);
		return;
	}
	worker_conn_close(c);
}

/* Close the socket; free the record unless answers are still owed. */
static void
worker_conn_close(struct worker_conn *c)
{
	struct worker	*w = c->w;

	if (c->bev != NULL) {
		bufferevent_free(c->bev);
		c->bev = NULL;
		w->nconns--;
	}
	if (c->pending == 0) {
		TAILQ_REMOVE(&w->conns, c, entry);
		free(c);
	}
}

/* Send the answer of len octets in w->out to the UDP client of pq. */
static void
worker_udp_reply(struct worker_pending *pq, size_t len)
{
	struct worker		*w = pq->w;
	union worker_ctl	 ctl;
	struct msghdr		 mh;
	struct iovec		 iov;

	memset(&mh, 0, sizeof mh);
	iov.iov_base = w->out;
	iov.iov_len = len;
	mh.msg_name = &pq->from;
	mh.msg_namelen = pq->fromlen;
	mh.msg_iov = &iov;
	mh.msg_iovlen = 1;
	worker_dst_set(&mh, &pq->dst, &ctl);
	if (sendmsg(pq->u->fd, &mh, 0) == -1)
		log_ratelimited("udp send: %s", strerror(errno));
}

/* Arm pq's client response timer (nothing is allocated). */
static void
worker_stale_arm(struct worker *w, struct worker_pending *pq)
{
	struct timeval	tv = { WORKER_STALE_MS / 1000,
			    (WORKER_STALE_MS % 1000) * 1000 };

	if (event_assign(&pq->stale_ev, w->base, -1, 0, worker_stale_cb,
	    pq) == 0 && event_add(&pq->stale_ev, &tv) == 0)
		pq->stale_armed = 1;
}

/*
 * The client response timer: the upstreams are slow; answer from a stale
 * cache entry if there is one (RFC 8767 5), and let the query go on.
 */
static void
worker_stale_cb(evutil_socket_t fd, short events, void *arg)
{
	struct worker_pending	*pq = arg;
	struct worker		*w = pq->w;
	struct wire_query	 fq;
	size_t			 len;

	(void)fd;
	(void)events;
	pq->stale_armed = 0;
	if (worker_pending_fq(pq, &fq) == -1)
		return;
	len = worker_finish(w, pq, &fq, NULL, NULL, 0, 1, w->out,
	    sizeof w->out);
	if (len == 0)
		return;
	pq->answered = 1;
	if (pq->conn == NULL)
		worker_udp_reply(pq, len);
	else if (pq->conn->bev != NULL)
		worker_conn_send(pq->conn, w->out, len);
}

/*
 * Ask fq (the client's question, or a rewrite's target) for pq: through
 * the registry, so that a question another worker is asking already is
 * not asked twice; then through our forwarder. pq joins the pending list.
 * Returns 0, or -1 (nothing pending; the caller answers SERVFAIL).
 */
static int
worker_forward(struct worker *w, const struct snapshot *snap,
    struct worker_pending *pq, const struct wire_query *fq)
{
	switch (inflight_claim(w->inflight, fq, w->mailbox, pq, &pq->token)) {
	case 0:
		/* Another worker asks: wait for its answer in the cache. */
		w->st.shared++;
		break;
	case 1:
		pq->owner = 1;
		/* FALLTHROUGH */
	default:
		if (fwd_query(w->fwd, &snap->ups, fq, worker_done_cb, pq) ==
		    -1) {
			if (pq->owner)
				inflight_release(w->inflight, fq, pq->token, 0);
			return -1;
		}
		break;
	}
	TAILQ_INSERT_TAIL(&w->pending, pq, entry);
	if (snap->conf->serve_stale != 0)
		worker_stale_arm(w, pq);
	return 0;
}

/*
 * pq is done: send the answer of len octets in w->out (none if 0), take
 * it off the pending list and free it, keeping its TCP connection's
 * accounting.
 */
static void
worker_complete(struct worker *w, struct worker_pending *pq, size_t len)
{
	struct worker_conn	*c = pq->conn;

	TAILQ_REMOVE(&w->pending, pq, entry);
	if (pq->stale_armed)
		event_del(&pq->stale_ev);
	if (c == NULL) {
		/* UDP: one datagram from the address it was sent to. */
		if (len != 0)
			worker_udp_reply(pq, len);
		free(pq);
		return;
	}

	/* TCP: on its connection, if that is still open. */
	free(pq);
	c->pending--;
	if (c->bev == NULL) {
		if (c->pending == 0)
			worker_conn_close(c);
		return;
	}
	if (len != 0)
		worker_conn_send(c, w->out, len);
	/* A connection that stopped reading for good (eof) stays stopped. */
	if (c->bev != NULL && c->paused && !c->eof &&
	    c->pending < c->max_queries) {
		c->paused = 0;
		bufferevent_enable(c->bev, EV_READ);
		worker_conn_process(c);
	}
	if (c->bev != NULL && c->eof && c->pending == 0 &&
	    evbuffer_get_length(bufferevent_get_output(c->bev)) == 0)
		worker_conn_close(c);
}

/* The question pq asks upstream: its own, or its rewrite's target. */
static int
worker_pending_fq(const struct worker_pending *pq, struct wire_query *fq)
{
	if (pq->rewrite)
		return wire_query_retarget(fq, &pq->q, pq->target, pq->tlen);
	*fq = pq->q;
	return 0;
}

/* The upstreams have settled a forwarded query: answer the client. */
static void
worker_done_cb(void *arg, const struct wire_query *fq, const uint8_t *msg,
    const struct wire_scan *sc, uint64_t mask)
{
	struct worker_pending	*pq = arg;
	struct worker		*w = pq->w;
	size_t			 len = 0;

	/* The answer is in the cache now: wake other workers' waiters. */
	if (pq->owner)
		inflight_release(w->inflight, fq, pq->token, msg != NULL);
	if (!pq->answered && (pq->conn == NULL || pq->conn->bev != NULL))
		len = worker_finish(w, pq, fq, msg, sc, mask, 0, w->out,
		    sizeof w->out);
	worker_complete(w, pq, len);
}

/*
 * Another worker asked pq's question for us and is done (ok: an answer
 * went to the cache). Answer from the cache; if the answer could not be
 * cached after all, ask ourselves; if the upstreams failed, stale or
 * SERVFAIL.
 */
static void
worker_wake_cb(void *waiter, int ok, void *arg)
{
	struct worker_pending	*pq = waiter;
	struct worker		*w = arg;
	const struct snapshot	*snap;
	struct wire_query	 fq;
	size_t			 len = 0;
	int			 rc;

	if (pq->answered || (pq->conn != NULL && pq->conn->bev == NULL) ||
	    worker_pending_fq(pq, &fq) == -1) {
		worker_complete(w, pq, 0);
		return;
	}
	len = worker_finish(w, pq, &fq, NULL, NULL, 0, ok, w->out,
	    sizeof w->out);
	if (len == 0) {
		/* Not in the cache (not cacheable): ask it ourselves. */
		snapshot_read_begin();
		snap = snapshot_current();
		rc = fwd_query(w->fwd, &snap->ups, &fq, worker_done_cb, pq);
		snapshot_read_end();
		if (rc == 0)
			return;
		w->st.servfail++;
		len = wire_error(w->out, sizeof w->out, &pq->q, WIRE_SERVFAIL);
	}
	worker_complete(w, pq, len);
}
