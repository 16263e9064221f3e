/*
 * fwd.c: forwarding of cache misses to the upstream resolvers.
 *
 * Every question in flight is a struct fwd_job, found by its key (lname,
 * qtype, qclass, DO bit) in a small chained hash table so that identical
 * questions are coalesced. A job owns a copy of the upstream list (a reload
 * may free the configuration snapshot meanwhile), ordered once when the job
 * starts: healthy upstreams first, in configuration order (the operator
 * lists them by preference), then the sick ones, also in order. Attempt i
 * goes to addrs[i % n]; a fresh UDP socket and a fresh random ID are used
 * for every attempt. An answer with TC=1 is asked again over TCP of the
 * same upstream within the same attempt.
 *
 * Each job has two events: a persistent read event on its UDP socket (or a
 * bufferevent once on TCP), and one timer that bounds the current attempt.
 * The timer is separate from the read event on purpose: a persistent event
 * with a timeout is re-armed by every datagram, so a flood of spoofed
 * answers could keep a job waiting for ever.
 *
 * Jobs and waiters are allocated on the miss path; a miss costs a network
 * round trip anyway. The hash is FNV-1a with a random seed per fwd: simple
 * and enough for a table of at most a few thousand questions in flight.
 *
 * Re-entrancy: the callbacks may call fwd_query() again, even for the same
 * key. So a settled job is taken out of the table and freed before the first
 * callback runs; the callbacks then only see the detached waiter list.
 * fwd_free() must not be called from within a callback.
 */
#include <sys/types.h>
#include <sys/queue.h>
#include <sys/socket.h>

#include <netinet/in.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>

#include "cache.h"
#include "fwd.h"
#include "log.h"
#include "wire.h"

#define FWD_BUCKETS_MIN		64	/* initial hash table size */
#define FWD_READ_BATCH		16	/* datagrams per callback */
#define FWD_QUERY_MAX		512	/* ours are < 300 octets */
#define FWD_SICK_TIMEOUTS	3	/* consecutive timeouts: tried last */
#define FWD_SICK_SECS		5	/* ... for so long after */
#define FWD_HEALTH_MAX		32	/* upstream addresses tracked */

/* One asker waiting for a question; q is its own copy. */
struct fwd_waiter {
	STAILQ_ENTRY(fwd_waiter) entry;
	fwd_done_cb		 cb;
	void			*arg;
	struct wire_query	 q;
};
STAILQ_HEAD(fwd_waiters, fwd_waiter);

/* One question in flight; owned by the table of its struct fwd. */
struct fwd_job {
	LIST_ENTRY(fwd_job)	 entry;		/* hash chain */
	struct fwd		*fwd;
	uint32_t		 hash;

	/* The key; the rest of the question is in the first waiter. */
	uint8_t			 lname[WIRE_MAX_NAME];
	uint16_t		 name_len;
	uint16_t		 qtype;
	uint16_t		 qclass;
	int			 do_bit;
	int			 cd;		/* checking disabled: the
						   upstream did not validate */

	/* Our copy of the upstreams, in the order they are tried. */
	struct conf_sockaddr	*addrs;
	size_t			 naddrs;
	struct timeval		 timeout;
	unsigned		 attempts;	/* allowed in all */
	unsigned		 attempt;	/* started so far */
	size_t			 cur;		/* index in addrs */
	uint16_t		 id;		/* ID of this attempt */

	int			 fd;		/* UDP socket or -1 */
	struct event		*rev;		/* read event on fd */
	struct bufferevent	*bev;		/* TCP after TC=1 */
	struct event		*tev;		/* attempt timeout */
	int			 sync_fail;	/* tev: report failure */

	struct fwd_waiters	 waiters;	/* never empty */
};
LIST_HEAD(fwd_bucket, fwd_job);

/* Recent timeouts of one upstream address. */
struct fwd_health {
	struct sockaddr_storage	 ss;
	unsigned		 timeouts;	/* consecutive */
	uint32_t		 last;		/* cache_now() of last */
};

struct fwd {
	struct event_base	*base;
	struct cache		*cache;
	struct fwd_inspect	 inspect;	/* fn NULL: no inspection */
	uint32_t		 seed;		/* of the hash */

	struct fwd_bucket	*buckets;
	size_t			 nbuckets;	/* a power of two */
	size_t			 njobs;

	struct fwd_health	 health[FWD_HEALTH_MAX];
	size_t			 nhealth;

	struct fwd_stats	 stats;		/* in_flight is njobs */
	size_t			 max_jobs;	/* questions in flight at most */
	uint8_t			 qbuf[2 + FWD_QUERY_MAX]; /* to send */
	uint8_t			 buf[WIRE_MAX_UDP];	/* answer */
};

static void	fwd_udp_cb(int, short, void *);
static void	fwd_timeout_cb(int, short, void *);
static void	fwd_tcp_read_cb(struct bufferevent *, void *);
static void	fwd_tcp_event_cb(struct bufferevent *, short, void *);

/* Hash the key of a question. */
static uint32_t
fwd_hash(const struct fwd *fwd, const struct wire_query *q)
{
	return ((uint32_t)wire_key_hash(q, fwd->seed));
}

/* Does job ask q's question? lname is lower-cased, so memcmp will do. */
static int
fwd_job_match(const struct fwd_job *job, const struct wire_query *q)
{
	return (job->name_len == q->name_len && job->qtype == q->qtype &&
	    job->qclass == q->qclass && job->do_bit == (q->do_bit != 0) &&
	    job->cd == ((q->flags & WIRE_CD) != 0) &&
	    memcmp(job->lname, q->lname, q->name_len) == 0);
}

/* Same address and port? */
static int
fwd_sa_equal(const struct sockaddr_storage *a, const struct sockaddr_storage *b)
{
	const struct sockaddr_in	*a4, *b4;
	const struct sockaddr_in6	*a6, *b6;

	if (a->ss_family != b->ss_family)
		return (0);
	switch (a->ss_family) {
	case AF_INET:
		a4 = (const struct sockaddr_in *)a;
		b4 = (const struct sockaddr_in *)b;
		return (a4->sin_port == b4->sin_port &&
		    a4->sin_addr.s_addr == b4->sin_addr.s_addr);
	case AF_INET6:
		a6 = (const struct sockaddr_in6 *)a;
		b6 = (const struct sockaddr_in6 *)b;
		return (a6->sin6_port == b6->sin6_port &&
		    memcmp(&a6->sin6_addr, &b6->sin6_addr,
		    sizeof a6->sin6_addr) == 0);
	}
	return (0);
}

/* The health record of ss, or NULL if it has none. */
static struct fwd_health *
fwd_health_find(struct fwd *fwd, const struct sockaddr_storage *ss)
{
	size_t	i;

	for (i = 0; i < fwd->nhealth; i++) {
		if (fwd_sa_equal(&fwd->health[i].ss, ss))
			return (&fwd->health[i]);
	}
	return (NULL);
}

/* Is ss to be tried last for now? */
static int
fwd_health_sick(struct fwd *fwd, const struct sockaddr_storage *ss,
    uint32_t now)
{
	struct fwd_health	*h;

	if ((h = fwd_health_find(fwd, ss)) == NULL)
		return (0);
	return (h->timeouts >= FWD_SICK_TIMEOUTS &&
	    now - h->last < FWD_SICK_SECS);
}

/*
 * Count a timeout of ss. The table is rebuilt lazily: when full, the
 * record with the oldest timeout (likely an upstream gone by a reload)
 * makes way.
 */
static void
fwd_health_timeout(struct fwd *fwd, const struct sockaddr_storage *ss)
{
	struct fwd_health	*h;
	size_t			 i;

	if ((h = fwd_health_find(fwd, ss)) == NULL) {
		if (fwd->nhealth < FWD_HEALTH_MAX)
			h = &fwd->health[fwd->nhealth++];
		else {
			h = &fwd->health[0];
			for (i = 1; i < fwd->nhealth; i++) {
				if (fwd->health[i].last < h->last)
					h = &fwd->health[i];
			}
		}
		memset(h, 0, sizeof *h);
		h->ss = *ss;
	}
	h->timeouts++;
	h->last = cache_now();
}

/* An upstream answered: it is healthy again. */
static void
fwd_health_ok(struct fwd *fwd, const struct sockaddr_storage *ss)
{
	struct fwd_health	*h;

	if ((h = fwd_health_find(fwd, ss)) != NULL)
		h->timeouts = 0;
}

/* Close the UDP socket and TCP connection of the current attempt. */
static void
fwd_job_close(struct fwd_job *job)
{
	if (job->rev != NULL) {
		event_free(job->rev);
		job->rev = NULL;
	}
	if (job->fd != -1) {
		close(job->fd);
		job->fd = -1;
	}
	if (job->bev != NULL) {
		bufferevent_free(job->bev);
		job->bev = NULL;
	}
	if (job->tev != NULL)
		event_del(job->tev);
}

/* Take job out of the table and free it; its waiters are left alone. */
static void
fwd_job_free(struct fwd_job *job)
{
	LIST_REMOVE(job, entry);
	job->fwd->njobs--;
	fwd_job_close(job);
	if (job->tev != NULL)
		event_free(job->tev);
	free(job->addrs);
	free(job);
}

/* Write the query of job with its current ID into fwd->qbuf + 2. */
static size_t
fwd_job_make_query(struct fwd_job *job)
{
	struct fwd_waiter	*w = STAILQ_FIRST(&job->waiters);

	return (wire_make_query(job->fwd->qbuf + 2, FWD_QUERY_MAX, &w->q,
	    job->id));
}

/*
 * Start the next attempt over UDP, skipping upstreams that fail at once
 * (no socket, sendto error). Returns 0 when a query is out and the timer
 * runs, -1 when no attempts are left. Never calls back.
 */
static int
fwd_job_send(struct fwd_job *job)
{
	struct fwd		*fwd = job->fwd;
	const struct conf_sockaddr *sa;
	size_t			 len;

	fwd_job_close(job);
	while (job->attempt < job->attempts) {
		job->cur = job->attempt % job->naddrs;
		job->attempt++;
		sa = &job->addrs[job->cur];

		/* Fresh socket and ID; the kernel picks the source port. */
		job->id = (uint16_t)arc4random();
		if ((len = fwd_job_make_query(job)) == 0)
			return (-1);
		job->fd = socket(sa->ss.ss_family,
		    SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
		if (job->fd == -1)
			continue;
		if (sendto(job->fd, fwd->qbuf + 2, len, 0,
		    (const struct sockaddr *)&sa->ss, sa->len) == -1) {
			fwd_job_close(job);
			continue;
		}
		fwd->stats.queries++;

		job->rev = event_new(fwd->base, job->fd, EV_READ | EV_PERSIST,
		    fwd_udp_cb, job);
		if (job->rev == NULL || event_add(job->rev, NULL) == -1 ||
		    event_add(job->tev, &job->timeout) == -1) {
			fwd_job_close(job);
			continue;
		}
		return (0);
	}
	return (-1);
}

/*
 * Ask the current upstream again over TCP: 2-octet length and the same
 * query, same ID. Returns 0 or -1. Never calls back.
 */
static int
fwd_job_tcp(struct fwd_job *job)
{
	struct fwd		*fwd = job->fwd;
	const struct conf_sockaddr *sa = &job->addrs[job->cur];
	size_t			 len;
	int			 fd;

	fwd_job_close(job);
	if ((len = fwd_job_make_query(job)) == 0)
		return (-1);
	fwd->qbuf[0] = len >> 8;
	fwd->qbuf[1] = len & 0xff;

	/* Our own socket, so that it is close-on-exec. */
	fd = socket(sa->ss.ss_family,
	    SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd == -1)
		return (-1);
	job->bev = bufferevent_socket_new(fwd->base, fd, BEV_OPT_CLOSE_ON_FREE);
	if (job->bev == NULL) {
		close(fd);
		return (-1);
	}
	bufferevent_setcb(job->bev, fwd_tcp_read_cb, NULL, fwd_tcp_event_cb,
	    job);
	if (bufferevent_socket_connect(job->bev,
	    (const struct sockaddr *)&sa->ss, (int)sa->len) == -1 ||
	    bufferevent_write(job->bev, fwd->qbuf, 2 + len) == -1 ||
	    bufferevent_enable(job->bev, EV_READ) == -1 ||
	    event_add(job->tev, &job->timeout) == -1) {
		fwd_job_close(job);
		return (-1);
	}
	fwd->stats.queries++;
	fwd->stats.tcp_queries++;
	return (0);
}

/* Call back and free every waiter of a detached list. */
static void
fwd_waiters_call(struct fwd_waiters *waiters, const uint8_t *msg,
    const struct wire_scan *sc, uint64_t mask)
{
	struct fwd_waiter	*w;

	while ((w = STAILQ_FIRST(waiters)) != NULL) {
		STAILQ_REMOVE_HEAD(waiters, entry);
		w->cb(w->arg, &w->q, msg, sc, mask);
		free(w);
	}
}

/* Every attempt failed: tell every waiter, NULL message. */
static void
fwd_job_fail(struct fwd_job *job)
{
	struct fwd		*fwd = job->fwd;
	struct fwd_waiters	 waiters;

	fwd->stats.failures++;
	if (log_would(LOG_LEVEL_DEBUG)) {
		char	name[1024];

		log_debug("%s: every upstream failed", wire_name_str(job->lname,
		    job->name_len, name, sizeof name));
	}

	/* Detach and free the job first: callbacks may query again. */
	STAILQ_INIT(&waiters);
	STAILQ_CONCAT(&waiters, &job->waiters);
	fwd_job_free(job);
	fwd_waiters_call(&waiters, NULL, NULL, 0);
}

/* The current attempt failed: try the next one, or give up. */
static void
fwd_job_next(struct fwd_job *job)
{
	if (fwd_job_send(job) == -1)
		fwd_job_fail(job);
}

/*
 * A usable answer at msg (in fwd->buf): store it and tell every waiter.
 * The first waiter's question is the one that was asked, and is the key.
 */
static void
fwd_job_done(struct fwd_job *job, uint8_t *msg,
    const struct wire_scan *sc)
{
	struct fwd		*fwd = job->fwd;
	struct fwd_waiters	 waiters;
	struct fwd_waiter	*w;
	uint64_t		 mask = 0;
	uint32_t		 gen = 0;

	/* Capped TTLs for everyone; inspect once, store the bits too. */
	if (fwd->cache != NULL)
		cache_cap(fwd->cache, msg, sc);
	if (fwd->inspect.fn != NULL)
		mask = fwd->inspect.fn(fwd->inspect.arg, msg, sc->len, &gen);
	if (fwd->cache != NULL) {
		w = STAILQ_FIRST(&job->waiters);
		cache_insert(fwd->cache, &w->q, msg, sc, cache_now(), mask,
		    gen);
	}

	/* Detach and free the job first: callbacks may query again. */
	STAILQ_INIT(&waiters);
	STAILQ_CONCAT(&waiters, &job->waiters);
	fwd_job_free(job);
	fwd_waiters_call(&waiters, msg, sc, mask);
}

/*
 * An answer to this attempt's query (address, ID and question checked)
 * of len octets at fwd->buf; tcp says how it came.
 */
static void
fwd_job_answer(struct fwd_job *job, size_t len, int tcp)
{
	struct fwd		*fwd = job->fwd;
	struct wire_scan	 sc;
	uint16_t		 flags;

	fwd_health_ok(fwd, &job->addrs[job->cur].ss);

	/* Truncated over UDP: the same upstream over TCP. */
	flags = (uint16_t)(fwd->buf[2] << 8 | fwd->buf[3]);
	if (!tcp && (flags & WIRE_TC)) {
		if (fwd_job_tcp(job) == -1)
			fwd_job_next(job);
		return;
	}

	if (wire_scan(fwd->buf, len, &sc) == -1) {
		fwd->stats.malformed++;
		log_ratelimited("malformed answer from upstream");
		fwd_job_next(job);
		return;
	}
	/* SERVFAIL, REFUSED, FORMERR, NOTIMP...: another upstream may do. */
	if (sc.rcode != WIRE_NOERROR && sc.rcode != WIRE_NXDOMAIN) {
		fwd_job_next(job);
		return;
	}
	fwd_job_done(job, fwd->buf, &sc);
}

/* Datagrams on the UDP socket of a job. */
static void
fwd_udp_cb(int fd, short events, void *arg)
{
	struct fwd_job		*job = arg;
	struct fwd		*fwd = job->fwd;
	struct fwd_waiter	*w = STAILQ_FIRST(&job->waiters);
	struct sockaddr_storage	 from;
	socklen_t		 fromlen;
	ssize_t			 n;
	int			 i;

	(void)events;
	for (i = 0; i < FWD_READ_BATCH; i++) {
		fromlen = sizeof from;
		n = recvfrom(fd, fwd->buf, sizeof fwd->buf, 0,
		    (struct sockaddr *)&from, &fromlen);
		if (n == -1) {
			if (errno == EAGAIN || errno == EWOULDBLOCK ||
			    errno == EINTR)
				return;
			/* A socket error: this attempt is lost. */
			fwd_job_next(job);
			return;
		}

		/* Not from where we sent it, or not our question: drop. */
		if (!fwd_sa_equal(&from, &job->addrs[job->cur].ss) ||
		    wire_check_answer(fwd->buf, (size_t)n, &w->q,
		    job->id) == -1) {
			fwd->stats.mismatched++;
			continue;
		}
		fwd_job_answer(job, (size_t)n, 0);
		return;		/* job may be gone */
	}
}

/* Data on the TCP connection of a job: length-prefixed messages. */
static void
fwd_tcp_read_cb(struct bufferevent *bev, void *arg)
{
	struct fwd_job		*job = arg;
	struct fwd		*fwd = job->fwd;
	struct fwd_waiter	*w = STAILQ_FIRST(&job->waiters);
	struct evbuffer		*in = bufferevent_get_input(bev);
	uint8_t			 lenbuf[2];
	size_t			 len;
	int			 i;

	for (i = 0; i < FWD_READ_BATCH; i++) {
		if (evbuffer_copyout(in, lenbuf, 2) != 2)
			return;
		len = (size_t)lenbuf[0] << 8 | lenbuf[1];
		if (evbuffer_get_length(in) < 2 + len)
			return;
		evbuffer_drain(in, 2);
		if (evbuffer_remove(in, fwd->buf, len) != (int)len) {
			fwd_job_next(job);
			return;
		}
		if (wire_check_answer(fwd->buf, len, &w->q, job->id) == -1) {
			fwd->stats.mismatched++;
			continue;
		}
		fwd_job_answer(job, len, 1);
		return;		/* job may be gone */
	}
}

/* Connected, or the TCP connection failed or was closed. */
static void
fwd_tcp_event_cb(struct bufferevent *bev, short what, void *arg)
{
	struct fwd_job	*job = arg;

	(void)bev;
	if (what & (BEV_EVENT_EOF | BEV_EVENT_ERROR | BEV_EVENT_TIMEOUT))
		fwd_job_next(job);
}

/*
 * The timer of a job: the attempt timed out, or (sync_fail) every attempt
 * already failed inside fwd_query() and the failure is reported now.
 */
static void
fwd_timeout_cb(int fd, short events, void *arg)
{
	struct fwd_job	*job = arg;
	struct fwd	*fwd = job->fwd;

	(void)fd;
	(void)events;
	if (job->sync_fail) {
		fwd_job_fail(job);
		return;
	}
	fwd->stats.timeouts++;
	fwd_health_timeout(fwd, &job->addrs[job->cur].ss);
	fwd_job_next(job);
}

/* Allocate a hash table of n buckets. */
static struct fwd_bucket *
fwd_buckets_new(size_t n)
{
	struct fwd_bucket	*b;
	size_t			 i;

	if ((b = calloc(n, sizeof *b)) == NULL)
		return (NULL);
	for (i = 0; i < n; i++)
		LIST_INIT(&b[i]);
	return (b);
}

/* Double the hash table; on failure keep the old one, only slower. */
static void
fwd_grow(struct fwd *fwd)
{
	struct fwd_bucket	*nb;
	struct fwd_job		*job;
	size_t			 i, n = fwd->nbuckets * 2;

	if ((nb = fwd_buckets_new(n)) == NULL)
		return;
	for (i = 0; i < fwd->nbuckets; i++) {
		while ((job = LIST_FIRST(&fwd->buckets[i])) != NULL) {
			LIST_REMOVE(job, entry);
			LIST_INSERT_HEAD(&nb[job->hash & (n - 1)], job, entry);
		}
	}
	free(fwd->buckets);
	fwd->buckets = nb;
	fwd->nbuckets = n;
}

struct fwd *
fwd_new(struct event_base *base, struct cache *cache,
    const struct fwd_inspect *ins)
{
	struct fwd	*fwd;

	if ((fwd = calloc(1, sizeof *fwd)) == NULL)
		return (NULL);
	fwd->base = base;
	fwd->cache = cache;
	fwd->max_jobs = FWD_MAX_JOBS;
	if (ins != NULL)
		fwd->inspect = *ins;
	fwd->seed = arc4random();
	fwd->nbuckets = FWD_BUCKETS_MIN;
	if ((fwd->buckets = fwd_buckets_new(fwd->nbuckets)) == NULL) {
		free(fwd);
		return (NULL);
	}
	return (fwd);
}

void
fwd_free(struct fwd *fwd)
{
	struct fwd_job		*job;
	struct fwd_waiter	*w;
	size_t			 i;

	if (fwd == NULL)
		return;
	for (i = 0; i < fwd->nbuckets; i++) {
		while ((job = LIST_FIRST(&fwd->buckets[i])) != NULL) {
			while ((w = STAILQ_FIRST(&job->waiters)) != NULL) {
				STAILQ_REMOVE_HEAD(&job->waiters, entry);
				free(w);
			}
			fwd_job_free(job);
		}
	}
	free(fwd->buckets);
	free(fwd);
}

/* A new waiter for q; NULL when out of memory. */
static struct fwd_waiter *
fwd_waiter_new(const struct wire_query *q, fwd_done_cb cb, void *arg)
{
	struct fwd_waiter	*w;

	if ((w = malloc(sizeof *w)) == NULL)
		return (NULL);
	w->cb = cb;
	w->arg = arg;
	w->q = *q;
	return (w);
}

int
fwd_query(struct fwd *fwd, const struct fwd_upstreams *ups,
    const struct wire_query *q, fwd_done_cb cb, void *arg)
{
	struct fwd_job		*job;
	struct fwd_waiter	*w;
	struct fwd_bucket	*b;
	uint32_t		 h, now;
	size_t			 i, n;
	int			 sick;
	static const struct timeval zero = { 0, 0 };

	if (!q->have_question || q->name_len == 0 ||
	    q->name_len > WIRE_MAX_NAME || ups->n == 0)
		return (-1);

	/* The same question in flight: just wait for it too. */
	h = fwd_hash(fwd, q);
	b = &fwd->buckets[h & (fwd->nbuckets - 1)];
	LIST_FOREACH(job, b, entry) {
		if (job->hash == h && fwd_job_match(job, q))
			break;
	}
	if (job != NULL) {
		if ((w = fwd_waiter_new(q, cb, arg)) == NULL)
			return (-1);
		STAILQ_INSERT_TAIL(&job->waiters, w, entry);
		fwd->stats.coalesced++;
		return (0);
	}

	/*
	 * Each question in flight holds a socket: beyond the limit the
	 * caller answers at once (stale or SERVFAIL) rather than the whole
	 * process running out of file descriptors.
	 */
	if (fwd->njobs >= fwd->max_jobs) {
		fwd->stats.overload++;
		return (-1);
	}
	if ((job = calloc(1, sizeof *job)) == NULL)
		return (-1);
	job->fwd = fwd;
	job->hash = h;
	job->fd = -1;
	STAILQ_INIT(&job->waiters);
	memcpy(job->lname, q->lname, q->name_len);
	job->name_len = q->name_len;
	job->qtype = q->qtype;
	job->qclass = q->qclass;
	job->do_bit = q->do_bit != 0;
	job->cd = (q->flags & WIRE_CD) != 0;
	job->timeout.tv_sec = ups->timeout_ms / 1000;
	job->timeout.tv_usec = (ups->timeout_ms % 1000) * 1000;
	job->attempts = ups->attempts > 0 ? ups->attempts : 1;

	/* Copy the upstreams: healthy ones first, sick ones last. */
	job->addrs = calloc(ups->n, sizeof *job->addrs);
	job->tev = evtimer_new(fwd->base, fwd_timeout_cb, job);
	w = fwd_waiter_new(q, cb, arg);
	if (job->addrs == NULL || job->tev == NULL || w == NULL) {
		free(w);
		if (job->tev != NULL)
			event_free(job->tev);
		free(job->addrs);
		free(job);
		return (-1);
	}
	now = cache_now();
	n = 0;
	for (sick = 0; sick <= 1; sick++) {
		for (i = 0; i < ups->n; i++) {
			if (fwd_health_sick(fwd, &ups->addrs[i].ss, now) ==
			    sick)
				job->addrs[n++] = ups->addrs[i];
		}
	}
	job->naddrs = n;
	STAILQ_INSERT_TAIL(&job->waiters, w, entry);

	LIST_INSERT_HEAD(b, job, entry);
	if (++fwd->njobs > fwd->nbuckets)
		fwd_grow(fwd);

	/*
	 * Nothing could be sent at all: report it from the loop, never from
	 * here. Askers of the same question meanwhile share the failure.
	 */
	if (fwd_job_send(job) == -1) {
		job->sync_fail = 1;
		if (event_add(job->tev, &zero) == -1) {
			fwd_job_free(job);
			free(w);
			return (-1);
		}
	}
	return (0);
}

void
fwd_set_limit(struct fwd *fwd, size_t max_jobs)
{
	fwd->max_jobs = max_jobs > 0 ? max_jobs : 1;
}

void
fwd_stats(const struct fwd *fwd, struct fwd_stats *st)
{
	*st = fwd->stats;
	st->in_flight = fwd->njobs;
}
