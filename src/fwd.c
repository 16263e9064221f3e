/*
 * fwd.c: forwarding of cache misses to the upstream resolvers.
 *
 * Every question in flight is a struct fwd_job, found by its key (lname,
 * qtype, qclass, DO bit) in a small chained hash table so that identical
 * questions are coalesced. A job owns a copy of the upstream list (a reload
 * may free the configuration snapshot meanwhile), ordered once when the job
 * starts: healthy upstreams first, in configuration order (the operator
 * lists them by preference), then the sick ones, also in order. Attempt i
 * goes to addrs[i % n], with a fresh random ID. An answer with TC=1 is
 * asked again over TCP of the same upstream within the same attempt.
 *
 * Upstream sockets. Each upstream address we talk to has a struct fwd_up
 * (its health, and its sockets). A fresh socket per query cost, measured
 * on the miss path, about a third of veiligd's CPU time: socket(), the
 * implicit bind, two epoll_ctl() calls and close() for every query. So a
 * UDP socket is now connected to its upstream (the kernel drops what
 * comes from elsewhere and picks a random source port at connect()) and
 * serves several queries: up to fwd->sock_queries in its life and for
 * fwd->sock_ms after it was opened (fwd.h says why those bounds). Its
 * queries are told apart by ID; an ID is used once per socket, so a late
 * answer can never be taken for a newer query's. A socket past its bounds
 * takes no new queries (retired) and is closed when its last query is
 * settled. One socket per upstream takes new queries at a time.
 *
 * 0x20: a job spells its name anew for each UDP query (job->qname) and
 * the answer must echo it. fwd.h says what happens when it does not, and
 * when a query goes over TCP instead, as counted by fwd_guess(). Over TCP
 * the name goes in lower case and its echo is not checked for case.
 *
 * Each job has one timer that bounds the current attempt. It is separate
 * from the socket's read event on purpose: a persistent event with a
 * timeout is re-armed by every datagram, so a flood of spoofed answers
 * could keep a job waiting for ever. The attempt timers of a struct fwd
 * are one list in order of expiry under one libevent timer set for the
 * first: every attempt of a configuration has the same timeout, so a new
 * one goes at the end (a shorter one after a reload walks back from
 * there), and starting or stopping one is a list operation, where a
 * libevent timer each cost an add and a delete per miss, with libevent's
 * lock. The job's own event (tev) only defers what must not happen
 * inside fwd_query() or a send (enum fwd_timer) to the loop.
 *
 * Random numbers come from a randbuf.h block (glibc 2.36 makes
 * arc4random() one getrandom() system call each, which showed up at 3 %
 * of the miss path).
 *
 * Jobs and waiters come from small free lists of their struct fwd (at
 * most FWD_POOL_KEEP of each kept idle; a job keeps its address array,
 * the waiters are a plain pool.h): malloc and free of these records
 * of about a kilobyte were a tenth of the miss path's instructions. The
 * lists never hold more than were in flight at once before, so the bound
 * on queries waiting (max_jobs, the caller's limits) bounds them too. The
 * job table's hash is SipHash under the process's random key
 * (wire_qhash()): clients choose the names, so unkeyed they could pile
 * their questions into one chain. It is the cache's and the registry's
 * hash too, worked out once per query (query.c keeps it in the question)
 * and carried with the waiters' copies of the question to the cache.
 *
 * Re-entrancy: the callbacks may call fwd_query() again, even for the same
 * key. So a settled job is taken out of the table before the first
 * callback runs, and goes back to the free list only after the last; the
 * callbacks see only the detached waiter list. A socket is not freed while
 * its read callback runs. fwd_free() must not be called from within a
 * callback.
 */
#include <sys/types.h>
#include <sys/queue.h>
#include <sys/socket.h>

#include <netinet/in.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/event_struct.h>

#include "cache.h"
#include "fwd.h"
#include "log.h"
#include "pool.h"
#include "randbuf.h"
#include "stats.h"
#include "wire.h"

#define FWD_BUCKETS_MIN		64	/* initial hash table size */
#define FWD_READ_BATCH		16	/* datagrams per recvmmsg() */
#define FWD_READ_ROUNDS		16	/* recvmmsg() calls per wake-up */
#define FWD_DGRAM_MAX		4096	/* we ask for WIRE_EDNS_SIZE; a larger
					   answer is taken as truncated */
#define FWD_QUERY_MAX		512	/* ours are < 300 octets */
#define FWD_SICK_TIMEOUTS	3	/* consecutive timeouts: tried last */
#define FWD_SICK_SECS		5	/* ... for so long after */
#define FWD_UPS_KEEP		32	/* upstream records kept when idle */
#define FWD_SOCK_SLOTS		(2 * FWD_SOCK_QUERIES)	/* ID table */
#define FWD_SEND_BATCH		32	/* queries per sendmmsg() at most */
#define FWD_POOL_KEEP		128	/* idle jobs, and waiters, kept */
#define FWD_PORTS_FILE		"/proc/sys/net/ipv4/ip_local_port_range"
#define FWD_PORTS_LOW		32768	/* Linux's default range, when */
#define FWD_PORTS_HIGH		60999	/* FWD_PORTS_FILE cannot be read */

/* What the deferred event of a job (tev) stands for. */
enum fwd_timer {
	FWD_TIMER_ATTEMPT,	/* none (attempts time out in fwd->timers) */
	FWD_TIMER_UNSENT,	/* its query could not be sent: move on now */
	FWD_TIMER_FAILED,	/* every attempt failed inside fwd_query():
				   report it now, from the loop */
};

/* One asker waiting for a question; q is its own copy. */
struct fwd_waiter {
	STAILQ_ENTRY(fwd_waiter) entry;		/* job's, or the free list */
	fwd_done_cb		 cb;
	void			*arg;
	struct wire_query	 q;
};
STAILQ_HEAD(fwd_waiters, fwd_waiter);

struct fwd_sock;

/* One question in flight; owned by the table of its struct fwd. */
struct fwd_job {
	LIST_ENTRY(fwd_job)	 entry;		/* hash chain, or free list */
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
	uint8_t			 qname[WIRE_MAX_NAME]; /* lname as sent
						   over UDP (0x20) */
	unsigned		 letters;	/* in lname: bits of case */
	int			 udp;		/* fwd_guess(): UDP will do */

	/* Our copy of the upstreams, in the order they are tried. */
	struct conf_sockaddr	*addrs;		/* kept on the free list */
	size_t			 naddrs;
	size_t			 addrs_cap;	/* room in addrs */
	unsigned		 attempts;	/* allowed in all */
	unsigned		 attempt;	/* started so far */
	size_t			 cur;		/* index in addrs */
	uint16_t		 id;		/* ID of this attempt */
	uint64_t		 sent;		/* when: stats_clock() */

	struct fwd_sock		*sock;		/* UDP socket of this attempt */
	size_t			 slot;		/* ... and our ID's slot in it */
	size_t			 queued;	/* 1 + place in fwd->send, or 0 */
	struct bufferevent	*bev;		/* TCP after TC=1 */
	struct event		 tev;		/* see timer */
	enum fwd_timer		 timer;
	uint64_t		 timeout_ms;	/* of an attempt */
	uint64_t		 deadline;	/* fwd_ms() when this attempt
						   times out, if timing */
	int			 timing;	/* in fwd->timers */
	TAILQ_ENTRY(fwd_job)	 tentry;	/* ... that list */

	struct fwd_waiters	 waiters;	/* never empty */
	size_t			 nwaiters;
};
LIST_HEAD(fwd_bucket, fwd_job);

/* An ID taken on a socket, and the job waiting for its answer. */
struct fwd_slot {
	struct fwd_job		*job;		/* NULL: settled, given up */
	uint16_t		 id;
	uint8_t			 used;		/* the ID is taken */
};

/*
 * A connected UDP socket to one upstream. Its ID table is open-addressed
 * and never shrinks: a socket takes at most FWD_SOCK_QUERIES IDs in its
 * life, half the slots, so probing always ends at a free slot.
 */
struct fwd_sock {
	LIST_ENTRY(fwd_sock)	 entry;		/* its upstream's socks */
	struct fwd_up		*up;
	int			 fd;
	struct event		 ev;		/* persistent read */
	uint64_t		 born;		/* fwd_ms() when opened */
	unsigned		 used;		/* IDs taken: queries sent */
	unsigned		 pending;	/* slots with a job */
	int			 retired;	/* takes no new queries */
	int			 reading;	/* in fwd_sock_cb: keep it */
	struct fwd_slot		 slots[FWD_SOCK_SLOTS];
};
LIST_HEAD(fwd_socks, fwd_sock);

/* An upstream address: its health and its sockets. */
struct fwd_up {
	LIST_ENTRY(fwd_up)	 entry;
	struct fwd		*fwd;
	struct conf_sockaddr	 sa;
	unsigned		 timeouts;	/* consecutive */
	uint32_t		 last;		/* cache_now() of last */
	uint64_t		 used;		/* fwd_ms() of last query */
	uint64_t		 nocase;	/* fwd_ms() until which it is
						   asked over TCP (0x20) */
	struct fwd_sock		*cur;		/* takes new queries, or NULL */
	struct fwd_socks	 socks;		/* all open ones, cur too */
};
LIST_HEAD(fwd_ups, fwd_up);

struct fwd {
	struct event_base	*base;
	struct cache		*cache;
	struct fwd_inspect	 inspect;	/* fn NULL: no inspection */

	struct fwd_bucket	*buckets;
	size_t			 nbuckets;	/* a power of two */
	size_t			 njobs;

	struct fwd_ups		 ups;
	size_t			 nups;
	unsigned		 sock_queries;	/* life of a socket */
	uint64_t		 sock_ms;
	uint32_t		 ports;		/* in the ephemeral range */

	struct fwd_bucket	 free_jobs;	/* idle, addrs kept */
	size_t			 nfree_jobs;	/* <= FWD_POOL_KEEP */
	struct pool		 waiters;	/* idle waiters */

	TAILQ_HEAD(fwd_timers, fwd_job) timers; /* attempts, by deadline */
	struct event		 timer_ev;	/* set for the first */

	struct fwd_stats	 stats;		/* in_flight is njobs */
	struct stats_worker	*rec;		/* per-upstream counts */
	size_t			 max_jobs;	/* questions in flight at most */

	struct randbuf		 random;	/* IDs, 0x20 bits */

	/*
	 * UDP queries wait here until the end of the loop's round, to go
	 * out with one sendmmsg() per socket: a worker's batch of misses
	 * costs a system call, not one each. send[i] NULL: cancelled.
	 */
	struct event		 flush_ev;
	size_t			 nsend;
	struct fwd_job		*send[FWD_SEND_BATCH];
	struct mmsghdr		 smsg[FWD_SEND_BATCH];
	struct iovec		 siov[FWD_SEND_BATCH];
	uint8_t			 sbuf[FWD_SEND_BATCH][FWD_QUERY_MAX];

	uint8_t			 qbuf[2 + FWD_QUERY_MAX]; /* over TCP */
	uint8_t			 buf[WIRE_MAX_UDP];	/* answer over TCP */
	struct mmsghdr		 rmsg[FWD_READ_BATCH];	/* over UDP */
	struct iovec		 riov[FWD_READ_BATCH];
	uint8_t			 rbuf[FWD_READ_BATCH][FWD_DGRAM_MAX];
	uint8_t			 tmp[WIRE_MAX_UDP];	/* wire_scrub() */
};

static void	fwd_sock_cb(int, short, void *);
static void	fwd_timeout_cb(int, short, void *);
static void	fwd_timers_cb(int, short, void *);
static void	fwd_tcp_read_cb(struct bufferevent *, void *);
static void	fwd_tcp_event_cb(struct bufferevent *, short, void *);
static void	fwd_job_next(struct fwd_job *);
static int	fwd_job_tcp(struct fwd_job *);
static void	fwd_flush_cb(int, short, void *);

/* Milliseconds of a monotonic clock (coarse: a vDSO read, no call). */
static uint64_t
fwd_ms(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
	return ((uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000);
}

/* Hash the key of a question: the hash kept in q, if it has one. */
static uint32_t
fwd_hash(const struct wire_query *q)
{
	return ((uint32_t)wire_qhash(q));
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

/* The job asking q (whose hash is h), or NULL. */
static struct fwd_job *
fwd_job_find(const struct fwd *fwd, const struct wire_query *q, uint32_t h)
{
	struct fwd_job	*job;

	LIST_FOREACH(job, &fwd->buckets[h & (fwd->nbuckets - 1)], entry) {
		if (job->hash == h && fwd_job_match(job, q))
			return (job);
	}
	return (NULL);
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

/* Count ev of upstream sa in the statistics (rtt for an answer). */
static void
fwd_count_up(struct fwd *fwd, const struct sockaddr_storage *ss,
    enum stats_up_event ev, uint64_t rtt)
{
	if (fwd->rec != NULL)
		stats_upstream(fwd->rec, ss, ev, rtt);
}

/* Count ev of the current attempt's upstream of job. */
static void
fwd_count(struct fwd_job *job, enum stats_up_event ev)
{
	if (job->fwd->rec == NULL)
		return;
	stats_upstream(job->fwd->rec, &job->addrs[job->cur].ss, ev,
	    ev == STATS_UP_ANSWER ? stats_clock() - job->sent : 0);
}

/* Close a socket now, whatever still waits on it. */
static void
fwd_sock_free(struct fwd_sock *s)
{
	event_del(&s->ev);
	close(s->fd);
	LIST_REMOVE(s, entry);
	if (s->up->cur == s)
		s->up->cur = NULL;
	free(s);
}

/* s takes no new queries; it is closed once nothing waits on it. */
static void
fwd_sock_retire(struct fwd_sock *s)
{
	s->retired = 1;
	if (s->up->cur == s)
		s->up->cur = NULL;
	if (s->pending == 0 && !s->reading)
		fwd_sock_free(s);
}

/* Can up's record go: does nothing wait on any of its sockets? */
static int
fwd_up_idle(const struct fwd_up *up)
{
	const struct fwd_sock	*s;

	LIST_FOREACH(s, &up->socks, entry) {
		if (s->pending != 0 || s->reading)
			return (0);
	}
	return (1);
}

/* Close up's sockets and forget it. */
static void
fwd_up_free(struct fwd_up *up)
{
	struct fwd_sock	*s;

	while ((s = LIST_FIRST(&up->socks)) != NULL)
		fwd_sock_free(s);
	LIST_REMOVE(up, entry);
	up->fwd->nups--;
	free(up);
}

/* The record of upstream address ss, or NULL if it has none. */
static struct fwd_up *
fwd_up_find(struct fwd *fwd, const struct sockaddr_storage *ss)
{
	struct fwd_up	*up;

	LIST_FOREACH(up, &fwd->ups, entry) {
		if (fwd_sa_equal(&up->sa.ss, &ss[0]))
			return (up);
	}
	return (NULL);
}

/*
 * The record of upstream sa, made if need be; NULL when out of memory.
 * Beyond FWD_UPS_KEEP records (upstreams gone by a reload), the one used
 * least recently that nothing waits on makes way, with its health.
 */
static struct fwd_up *
fwd_up_get(struct fwd *fwd, const struct conf_sockaddr *sa)
{
	struct fwd_up	*up, *old = NULL;

	if ((up = fwd_up_find(fwd, &sa->ss)) != NULL)
		return (up);
	if (fwd->nups >= FWD_UPS_KEEP) {
		LIST_FOREACH(up, &fwd->ups, entry) {
			if (fwd_up_idle(up) &&
			    (old == NULL || up->used < old->used))
				old = up;
		}
		if (old != NULL)
			fwd_up_free(old);
	}
	if ((up = calloc(1, sizeof *up)) == NULL)
		return (NULL);
	up->fwd = fwd;
	up->sa = *sa;
	LIST_INIT(&up->socks);
	LIST_INSERT_HEAD(&fwd->ups, up, entry);
	fwd->nups++;
	return (up);
}

/* Is ss to be tried last for now? */
static int
fwd_health_sick(struct fwd *fwd, const struct sockaddr_storage *ss,
    uint32_t now)
{
	struct fwd_up	*up;

	if ((up = fwd_up_find(fwd, ss)) == NULL)
		return (0);
	return (up->timeouts >= FWD_SICK_TIMEOUTS &&
	    now - up->last < FWD_SICK_SECS);
}

/* Count a timeout of sa. */
static void
fwd_health_timeout(struct fwd *fwd, const struct conf_sockaddr *sa)
{
	struct fwd_up	*up;

	if ((up = fwd_up_get(fwd, sa)) == NULL)
		return;
	up->timeouts++;
	up->last = cache_now();
}

/* An upstream answered: it is healthy again. */
static void
fwd_health_ok(struct fwd_job *job)
{
	struct fwd_up	*up;

	/* Over UDP the socket knows it; over TCP look it up. */
	if (job->sock != NULL)
		up = job->sock->up;
	else
		up = fwd_up_find(job->fwd, &job->addrs[job->cur].ss);
	if (up != NULL)
		up->timeouts = 0;
}

/*
 * A new UDP socket to up, connected: the kernel picks a random source
 * port from its ephemeral range, and drops datagrams from anywhere but
 * the upstream. NULL on failure.
 */
static struct fwd_sock *
fwd_sock_new(struct fwd *fwd, struct fwd_up *up)
{
	struct fwd_sock	*s;

	if ((s = calloc(1, sizeof *s)) == NULL)
		return (NULL);
	s->fd = socket(up->sa.ss.ss_family,
	    SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (s->fd == -1) {
		free(s);
		return (NULL);
	}
	event_assign(&s->ev, fwd->base, s->fd, EV_READ | EV_PERSIST,
	    fwd_sock_cb, s);
	if (connect(s->fd, (const struct sockaddr *)&up->sa.ss,
	    up->sa.len) == -1 || event_add(&s->ev, NULL) == -1) {
		close(s->fd);
		free(s);
		return (NULL);
	}
	s->up = up;
	s->born = fwd_ms();
	LIST_INSERT_HEAD(&up->socks, s, entry);
	fwd->stats.sockets++;
	return (s);
}

/* The socket for a new query to up: its current one, or a new one. */
static struct fwd_sock *
fwd_sock_get(struct fwd *fwd, struct fwd_up *up)
{
	struct fwd_sock	*s = up->cur;

	if (s != NULL && fwd_ms() - s->born >= fwd->sock_ms) {
		fwd_sock_retire(s);
		s = NULL;
	}
	if (s == NULL && (s = fwd_sock_new(fwd, up)) != NULL)
		up->cur = s;
	return (s);
}

/* The slot of id on s, or NULL. */
static struct fwd_slot *
fwd_sock_slot(struct fwd_sock *s, uint16_t id)
{
	size_t	i;

	for (i = id & (FWD_SOCK_SLOTS - 1); s->slots[i].used;
	    i = (i + 1) & (FWD_SOCK_SLOTS - 1)) {
		if (s->slots[i].id == id)
			return (&s->slots[i]);
	}
	return (NULL);
}

/*
 * Take an ID never used on s for job's query: random, redrawn while
 * taken. Sets job->id, job->sock and job->slot. A socket that has had its
 * share of queries is retired at once, so that it closes as soon as the
 * last answer is in.
 */
static void
fwd_sock_claim(struct fwd *fwd, struct fwd_sock *s, struct fwd_job *job)
{
	uint16_t	id;
	size_t		i;

	do {
		randbuf_take(&fwd->random, &id, sizeof id);
	} while (fwd_sock_slot(s, id) != NULL);
	for (i = id & (FWD_SOCK_SLOTS - 1); s->slots[i].used;
	    i = (i + 1) & (FWD_SOCK_SLOTS - 1))
		;
	s->slots[i].used = 1;
	s->slots[i].id = id;
	s->slots[i].job = job;
	s->used++;
	s->pending++;
	job->id = id;
	job->sock = s;
	job->slot = i;
	if (s->used >= fwd->sock_queries)
		fwd_sock_retire(s);
}

/* job no longer waits on its socket. */
static void
fwd_sock_release(struct fwd_job *job)
{
	struct fwd_sock	*s = job->sock;

	job->sock = NULL;
	s->slots[job->slot].job = NULL;
	s->pending--;
	if (s->retired && s->pending == 0 && !s->reading)
		fwd_sock_free(s);
}

/* Set the libevent timer for the first attempt timer, if any. */
static void
fwd_timers_arm(struct fwd *fwd, uint64_t now)
{
	struct fwd_job	*job;
	struct timeval	 tv;
	uint64_t	 ms;

	if ((job = TAILQ_FIRST(&fwd->timers)) == NULL)
		return;
	/* At least a millisecond: fwd_ms() is coarse (a few ms). */
	ms = job->deadline > now ? job->deadline - now : 1;
	tv.tv_sec = (time_t)(ms / 1000);
	tv.tv_usec = (suseconds_t)(ms % 1000) * 1000;
	evtimer_add(&fwd->timer_ev, &tv);
}

/* Start the timer of job's attempt: job->timeout_ms from now. */
static void
fwd_job_timer_add(struct fwd_job *job)
{
	struct fwd	*fwd = job->fwd;
	struct fwd_job	*at;
	uint64_t	 now = fwd_ms();

	job->deadline = now + job->timeout_ms;
	job->timing = 1;
	/* After the last that expires no later: the end, as a rule. */
	TAILQ_FOREACH_REVERSE(at, &fwd->timers, fwd_timers, tentry) {
		if (at->deadline <= job->deadline)
			break;
	}
	if (at != NULL)
		TAILQ_INSERT_AFTER(&fwd->timers, at, job, tentry);
	else
		TAILQ_INSERT_HEAD(&fwd->timers, job, tentry);
	if (TAILQ_FIRST(&fwd->timers) == job)
		fwd_timers_arm(fwd, now);
}

/*
 * Stop the timer of job's attempt, if it runs. The libevent timer stays
 * set for a first one stopped: it finds nothing due and is set again.
 */
static void
fwd_job_timer_del(struct fwd_job *job)
{
	struct fwd	*fwd = job->fwd;

	if (!job->timing)
		return;
	TAILQ_REMOVE(&fwd->timers, job, tentry);
	job->timing = 0;
	if (TAILQ_EMPTY(&fwd->timers))
		evtimer_del(&fwd->timer_ev);
}

/* Give up the UDP socket and TCP connection of the current attempt. */
static void
fwd_job_close(struct fwd_job *job)
{
	if (job->queued != 0) {
		job->fwd->send[job->queued - 1] = NULL;
		job->queued = 0;
	}
	if (job->sock != NULL)
		fwd_sock_release(job);
	if (job->bev != NULL) {
		bufferevent_free(job->bev);
		job->bev = NULL;
	}
	fwd_job_timer_del(job);
	if (job->timer != FWD_TIMER_ATTEMPT) {
		evtimer_del(&job->tev);
		job->timer = FWD_TIMER_ATTEMPT;
	}
}

/* Take job out of the table; its waiters are left alone. */
static void
fwd_job_detach(struct fwd_job *job)
{
	LIST_REMOVE(job, entry);
	job->fwd->njobs--;
	fwd_job_close(job);
}

/* A detached job goes to the free list, or is freed when that is full. */
static void
fwd_job_put(struct fwd *fwd, struct fwd_job *job)
{
	if (fwd->nfree_jobs < FWD_POOL_KEEP) {
		LIST_INSERT_HEAD(&fwd->free_jobs, job, entry);
		fwd->nfree_jobs++;
		return;
	}
	free(job->addrs);
	free(job);
}

/* Take job out of the table and free it; its waiters are left alone. */
static void
fwd_job_free(struct fwd_job *job)
{
	fwd_job_detach(job);
	fwd_job_put(job->fwd, job);
}

/* A job cleared for a question, with room for n upstreams; or NULL. */
static struct fwd_job *
fwd_job_get(struct fwd *fwd, size_t n)
{
	struct fwd_job		*job;
	struct conf_sockaddr	*addrs = NULL;
	size_t			 cap = 0;

	if ((job = LIST_FIRST(&fwd->free_jobs)) != NULL) {
		LIST_REMOVE(job, entry);
		fwd->nfree_jobs--;
		addrs = job->addrs;
		cap = job->addrs_cap;
	} else if ((job = malloc(sizeof *job)) == NULL)
		return (NULL);
	memset(job, 0, sizeof *job);
	if (cap < n) {
		free(addrs);
		cap = 0;
		if ((addrs = calloc(n, sizeof *addrs)) != NULL)
			cap = n;
	}
	job->addrs = addrs;
	job->addrs_cap = cap;
	if (addrs == NULL) {
		fwd_job_put(fwd, job);
		return (NULL);
	}
	return (job);
}

/*
 * Write the query of job with its current ID to out (FWD_QUERY_MAX):
 * over UDP with the name spelled anew in random case (job->qname), over
 * TCP in lower case.
 */
static size_t
fwd_job_make_query(struct fwd_job *job, uint8_t *out, int tcp)
{
	struct fwd_waiter	*w = STAILQ_FIRST(&job->waiters);
	uint8_t			 bits[WIRE_MAX_NAME / 8 + 1];

	if (tcp)
		return (wire_make_query(out, FWD_QUERY_MAX, &w->q, job->id,
		    NULL));
	randbuf_take(&job->fwd->random, bits, (job->name_len + 7) / 8);
	wire_mix_case(job->qname, job->lname, job->name_len, bits);
	return (wire_make_query(out, FWD_QUERY_MAX, &w->q, job->id,
	    job->qname));
}

/*
 * The query of job could not be sent: its socket goes, and the job moves
 * on from the loop (never from here: we may be inside fwd_query()).
 */
static void
fwd_job_unsent(struct fwd_job *job)
{
	static const struct timeval zero = { 0, 0 };

	if (job->sock != NULL)
		fwd_sock_retire(job->sock);
	job->timer = FWD_TIMER_UNSENT;
	evtimer_add(&job->tev, &zero);
}

/* Send the queued UDP queries, one sendmmsg() per run of one socket. */
static void
fwd_flush(struct fwd *fwd)
{
	struct fwd_job	*job;
	size_t		 i = 0, j;
	uint64_t	 now = fwd->rec != NULL ? stats_clock() : 0;
	int		 n;

	while (i < fwd->nsend) {
		if ((job = fwd->send[i]) == NULL) {
			i++;
			continue;
		}
		for (j = i + 1; j < fwd->nsend && fwd->send[j] != NULL &&
		    fwd->send[j]->sock == job->sock; j++)
			;
		n = sendmmsg(job->sock->fd, fwd->smsg + i, (unsigned)(j - i),
		    0);
		if (n == -1 && errno == EINTR)
			continue;
		for (; n > 0; n--) {
			fwd->send[i]->sent = now;
			fwd_count(fwd->send[i], STATS_UP_SENT);
			fwd->send[i++]->queued = 0;
			fwd->stats.queries++;
		}
		if (i < j) {
			/* send[i] failed (an ICMP error left on the socket). */
			fwd_count(fwd->send[i], STATS_UP_ERROR);
			fwd->send[i]->queued = 0;
			fwd_job_unsent(fwd->send[i++]);
		}
	}
	fwd->nsend = 0;
}

/* The end of the loop's round: out with the queries. */
static void
fwd_flush_cb(int fd, short events, void *arg)
{
	(void)fd;
	(void)events;
	fwd_flush(arg);
}

/*
 * Queue job's query for s: it goes out when the loop's round is over, or
 * when the queue is full. 0, or -1 if it cannot be written.
 */
static int
fwd_job_queue(struct fwd_job *job)
{
	struct fwd	*fwd = job->fwd;
	size_t		 len;

	if (fwd->nsend == FWD_SEND_BATCH)
		fwd_flush(fwd);
	if ((len = fwd_job_make_query(job, fwd->sbuf[fwd->nsend], 0)) == 0)
		return (-1);
	fwd->siov[fwd->nsend].iov_len = len;
	fwd->send[fwd->nsend] = job;
	job->queued = ++fwd->nsend;
	if (fwd->nsend == 1)
		event_active(&fwd->flush_ev, EV_TIMEOUT, 1);
	return (0);
}

/*
 * Start the next attempt over UDP, skipping upstreams that fail at once
 * (no socket, a send error). Returns 0 when a query is out and the timer
 * runs, -1 when no attempts are left. Never calls back.
 */
static int
fwd_job_send(struct fwd_job *job)
{
	struct fwd		*fwd = job->fwd;
	struct fwd_up		*up;
	struct fwd_sock		*s;

	fwd_job_close(job);
	job->timer = FWD_TIMER_ATTEMPT;
	while (job->attempt < job->attempts) {
		job->cur = job->attempt % job->naddrs;
		job->attempt++;
		if ((up = fwd_up_get(fwd, &job->addrs[job->cur])) == NULL)
			continue;
		/* Too few bits to guess over UDP, or case not echoed: TCP. */
		if (!job->udp || fwd_ms() < up->nocase) {
			if (fwd_job_tcp(job) == -1)
				continue;
			if (!job->udp)
				fwd->stats.tcp_few_bits++;
			else
				fwd->stats.tcp_nocase++;
			return (0);
		}
		if ((s = fwd_sock_get(fwd, up)) == NULL)
			continue;
		fwd_sock_claim(fwd, s, job);
		if (fwd_job_queue(job) == -1) {
			fwd_job_close(job);
			return (-1);
		}
		up->used = fwd_ms();
		fwd_job_timer_add(job);
		return (0);
	}
	return (-1);
}

/*
 * Ask the current upstream again over TCP: 2-octet length and the same
 * query, a new ID. Returns 0 or -1. Never calls back.
 */
static int
fwd_job_tcp(struct fwd_job *job)
{
	struct fwd		*fwd = job->fwd;
	const struct conf_sockaddr *sa = &job->addrs[job->cur];
	size_t			 len;
	int			 fd;

	fwd_job_close(job);
	job->timer = FWD_TIMER_ATTEMPT;
	randbuf_take(&fwd->random, &job->id, sizeof job->id);
	if ((len = fwd_job_make_query(job, fwd->qbuf + 2, 1)) == 0)
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
	    bufferevent_enable(job->bev, EV_READ) == -1) {
		fwd_job_close(job);
		return (-1);
	}
	fwd_job_timer_add(job);
	fwd->stats.queries++;
	fwd->stats.tcp_queries++;
	if (fwd->rec != NULL) {
		job->sent = stats_clock();
		fwd_count(job, STATS_UP_SENT_TCP);
	}
	return (0);
}

/*
 * Call back every waiter of the detached job, then put the job and each
 * waiter back on the free lists (a callback may take from them).
 */
static void
fwd_waiters_call(struct fwd *fwd, struct fwd_job *job, const uint8_t *msg,
    const struct wire_scan *sc, uint64_t mask)
{
	struct fwd_waiters	 waiters;
	struct fwd_waiter	*w;

	STAILQ_INIT(&waiters);
	STAILQ_CONCAT(&waiters, &job->waiters);
	while ((w = STAILQ_FIRST(&waiters)) != NULL) {
		STAILQ_REMOVE_HEAD(&waiters, entry);
		w->cb(w->arg, &w->q, msg, sc, mask);
		pool_put(&fwd->waiters, w);
	}
	fwd_job_put(fwd, job);
}

/*
 * Every attempt failed: tell every waiter, NULL message. When the
 * upstreams failed it (not our own lack of sockets, remote unset), the
 * cache remembers the failure for a while (RFC 9520).
 */
static void
fwd_job_fail(struct fwd_job *job, int remote)
{
	struct fwd		*fwd = job->fwd;

	fwd->stats.failures++;
	if (remote && fwd->cache != NULL)
		cache_fail(fwd->cache, &STAILQ_FIRST(&job->waiters)->q,
		    cache_now());
	if (log_would(LOG_LEVEL_DEBUG)) {
		char	name[1024];

		log_debug("%s: every upstream failed", wire_name_str(job->lname,
		    job->name_len, name, sizeof name));
	}

	/* Detach the job first: callbacks may query again. */
	fwd_job_detach(job);
	fwd_waiters_call(fwd, job, NULL, NULL, 0);
}

/* The current attempt failed: try the next one, or give up. */
static void
fwd_job_next(struct fwd_job *job)
{
	if (fwd_job_send(job) == -1)
		fwd_job_fail(job, 1);
}

/*
 * A usable answer at msg: store it and tell every waiter. The first
 * waiter's question is the one that was asked, and is the key.
 */
static void
fwd_job_done(struct fwd_job *job, uint8_t *msg,
    const struct wire_scan *sc)
{
	struct fwd		*fwd = job->fwd;
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

	/* Detach the job first: callbacks may query again. */
	fwd_job_detach(job);
	fwd_waiters_call(fwd, job, msg, sc, mask);
}

/*
 * An answer to this attempt's query (ID and question checked) of len
 * octets at msg; tcp says how it came, cut that it did not fit our
 * buffer (and is to be asked again over TCP, as if TC=1).
 */
static void
fwd_job_answer(struct fwd_job *job, uint8_t *msg, size_t len, int tcp,
    int cut)
{
	struct fwd		*fwd = job->fwd;
	struct wire_scan	 sc;
	uint16_t		 flags;
	unsigned		 dropped;

	fwd_health_ok(job);

	/* Truncated over UDP: the same upstream over TCP. */
	flags = (uint16_t)(msg[2] << 8 | msg[3]);
	if (!tcp && ((flags & WIRE_TC) || cut)) {
		if (fwd_job_tcp(job) == -1)
			fwd_job_next(job);
		return;
	}

	/* Only the question's chain is cached and relayed: scrub first. */
	len = wire_scrub(msg, len, &STAILQ_FIRST(&job->waiters)->q, fwd->tmp,
	    &dropped);
	fwd->stats.scrubbed += dropped;
	if (dropped != 0 && fwd->rec != NULL)
		stats_upstream(fwd->rec, &job->addrs[job->cur].ss,
		    STATS_UP_SCRUBBED, dropped);
	if (len == 0 || wire_scan(msg, len, &sc) == -1) {
		fwd->stats.malformed++;
		fwd_count(job, STATS_UP_ERROR);
		log_ratelimited("malformed answer from upstream");
		fwd_job_next(job);
		return;
	}
	/* SERVFAIL, REFUSED, FORMERR, NOTIMP...: another upstream may do. */
	if (sc.rcode != WIRE_NOERROR && sc.rcode != WIRE_NXDOMAIN) {
		fwd_count(job, STATS_UP_ERROR);
		fwd_job_next(job);
		return;
	}
	fwd_count(job, STATS_UP_ANSWER);
	fwd_job_done(job, msg, &sc);
}

/*
 * job's answer over UDP had the question right but not its case: drop it
 * (it may be forged), and since the upstream may just lose the case, ask
 * it over TCP, this query and the next ones for a while.
 */
static void
fwd_job_nocase(struct fwd_job *job)
{
	struct fwd		*fwd = job->fwd;
	struct fwd_up		*up = job->sock->up;
	char			 addr[80];
	uint64_t		 now = fwd_ms();

	fwd->stats.mismatched++;
	fwd->stats.case_mismatched++;
	fwd_count(job, STATS_UP_MISMATCH);
	if (now >= up->nocase)
		log_warnx("upstream %s: an answer lost the case of the name "
		    "asked (0x20): asking it over TCP for %d s",
		    conf_sockaddr_str(&up->sa, addr, sizeof addr),
		    FWD_NOCASE_MS / 1000);
	up->nocase = now + FWD_NOCASE_MS;
	if (fwd_job_tcp(job) == -1) {
		fwd_job_next(job);
		return;
	}
	fwd->stats.tcp_nocase++;
}

/*
 * A datagram of len octets on s (cut: longer than our buffer). The ID
 * says whose answer it is; a late answer, an unknown ID or another
 * question is dropped, and one that does not echo our case too.
 */
static void
fwd_sock_answer(struct fwd_sock *s, uint8_t *msg, size_t len, int cut)
{
	struct fwd		*fwd = s->up->fwd;
	struct fwd_slot		*sl;
	struct fwd_job		*job;

	if (len < WIRE_HDR_LEN ||
	    (sl = fwd_sock_slot(s, (uint16_t)(msg[0] << 8 | msg[1]))) == NULL ||
	    (job = sl->job) == NULL ||
	    wire_check_answer(msg, len, &STAILQ_FIRST(&job->waiters)->q,
	    job->id) == -1) {
		fwd->stats.mismatched++;
		fwd_count_up(fwd, &s->up->sa.ss, STATS_UP_MISMATCH, 0);
		return;
	}
	if (!wire_check_case(msg, len, job->qname, job->name_len)) {
		fwd_job_nocase(job);
		return;
	}
	fwd_job_answer(job, msg, len, 0, cut);
}

/*
 * The socket reported an error, most likely an ICMP port or host
 * unreachable for one of its queries: the upstream is not there, so every
 * query on it moves on, and the socket goes.
 */
static void
fwd_sock_error(struct fwd_sock *s)
{
	size_t	i;

	fwd_sock_retire(s);
	for (i = 0; i < FWD_SOCK_SLOTS && s->pending > 0; i++) {
		if (s->slots[i].job != NULL) {
			fwd_count(s->slots[i].job, STATS_UP_ERROR);
			fwd_job_next(s->slots[i].job);
		}
	}
}

/*
 * Datagrams on an upstream socket: answers, in batches, until the socket
 * is empty or FWD_READ_ROUNDS batches were read. One batch a wake-up
 * against the 256 new queries the listening socket gives a loop pass
 * let answers queue here under open load (30-50 ms of them over 16
 * sockets, p99 85-100 ms at half load: tests/bench/README.md, "Misses:
 * latency under open load"); the bound keeps one socket from holding
 * the loop.
 */
static void
fwd_sock_cb(int fd, short events, void *arg)
{
	struct fwd_sock		*s = arg;
	struct fwd		*fwd = s->up->fwd;
	int			 i, n, r;

	(void)events;
	n = recvmmsg(fd, fwd->rmsg, FWD_READ_BATCH, MSG_DONTWAIT, NULL);
	if (n == -1 && (errno == EAGAIN || errno == EWOULDBLOCK ||
	    errno == EINTR))
		return;

	/* Callbacks may retire s; it stays until we are done with it. */
	s->reading = 1;
	for (r = 1;; r++) {
		if (n == -1) {
			if (errno != EAGAIN && errno != EWOULDBLOCK &&
			    errno != EINTR)
				fwd_sock_error(s);
			break;
		}
		for (i = 0; i < n; i++)
			fwd_sock_answer(s, fwd->rbuf[i], fwd->rmsg[i].msg_len,
			    (fwd->rmsg[i].msg_hdr.msg_flags & MSG_TRUNC) != 0);
		if (n < FWD_READ_BATCH || s->pending == 0 ||
		    r == FWD_READ_ROUNDS)
			break;
		n = recvmmsg(fd, fwd->rmsg, FWD_READ_BATCH, MSG_DONTWAIT,
		    NULL);
	}
	s->reading = 0;
	if (s->retired && s->pending == 0)
		fwd_sock_free(s);
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
			fwd_count(job, STATS_UP_ERROR);
			fwd_job_next(job);
			return;
		}
		if (wire_check_answer(fwd->buf, len, &w->q, job->id) == -1) {
			fwd->stats.mismatched++;
			fwd_count(job, STATS_UP_MISMATCH);
			continue;
		}
		fwd_job_answer(job, fwd->buf, len, 1, 0);
		return;		/* job may be gone */
	}
}

/* Connected, or the TCP connection failed or was closed. */
static void
fwd_tcp_event_cb(struct bufferevent *bev, short what, void *arg)
{
	struct fwd_job	*job = arg;

	(void)bev;
	if (what & (BEV_EVENT_EOF | BEV_EVENT_ERROR | BEV_EVENT_TIMEOUT)) {
		fwd_count(job, STATS_UP_ERROR);
		fwd_job_next(job);
	}
}

/* The deferred event of a job: see enum fwd_timer. */
static void
fwd_timeout_cb(int fd, short events, void *arg)
{
	struct fwd_job	*job = arg;

	(void)fd;
	(void)events;
	switch (job->timer) {
	case FWD_TIMER_FAILED:
		fwd_job_fail(job, 0);
		return;
	case FWD_TIMER_UNSENT:
		fwd_job_next(job);
		return;
	case FWD_TIMER_ATTEMPT:
		break;
	}
}

/* The libevent timer of fwd->timers: every attempt that is due. */
static void
fwd_timers_cb(int fd, short events, void *arg)
{
	struct fwd	*fwd = arg;
	struct fwd_job	*job;
	uint64_t	 now = fwd_ms();

	(void)fd;
	(void)events;
	while ((job = TAILQ_FIRST(&fwd->timers)) != NULL &&
	    job->deadline <= now) {
		TAILQ_REMOVE(&fwd->timers, job, tentry);
		job->timing = 0;
		/* Its deferred event moves it on already. */
		if (job->timer != FWD_TIMER_ATTEMPT)
			continue;
		fwd->stats.timeouts++;
		fwd_count(job, STATS_UP_TIMEOUT);
		fwd_health_timeout(fwd, &job->addrs[job->cur]);
		fwd_job_next(job);
	}
	fwd_timers_arm(fwd, now);
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

/*
 * How many source ports the kernel picks from for our sockets: its
 * ephemeral range (read once; reserved ports are not subtracted).
 */
static uint32_t
fwd_ports(void)
{
	FILE		*f;
	unsigned	 lo = FWD_PORTS_LOW, hi = FWD_PORTS_HIGH;

	if ((f = fopen(FWD_PORTS_FILE, "re")) != NULL) {
		if (fscanf(f, "%u %u", &lo, &hi) != 2 || lo > hi ||
		    hi > 65535) {
			lo = FWD_PORTS_LOW;
			hi = FWD_PORTS_HIGH;
		}
		fclose(f);
	}
	return (hi - lo + 1);
}

struct fwd *
fwd_new(struct event_base *base, struct cache *cache,
    const struct fwd_inspect *ins)
{
	struct fwd	*fwd;
	size_t		 i;

	if ((fwd = calloc(1, sizeof *fwd)) == NULL)
		return (NULL);
	fwd->base = base;
	fwd->cache = cache;
	fwd->max_jobs = FWD_MAX_JOBS;
	fwd->sock_queries = FWD_SOCK_QUERIES;
	fwd->sock_ms = FWD_SOCK_MS;
	fwd->ports = fwd_ports();
	if (ins != NULL)
		fwd->inspect = *ins;
	LIST_INIT(&fwd->ups);
	LIST_INIT(&fwd->free_jobs);
	pool_init(&fwd->waiters, sizeof (struct fwd_waiter), FWD_POOL_KEEP);
	TAILQ_INIT(&fwd->timers);
	evtimer_assign(&fwd->timer_ev, base, fwd_timers_cb, fwd);
	event_assign(&fwd->flush_ev, base, -1, 0, fwd_flush_cb, fwd);
	for (i = 0; i < FWD_SEND_BATCH; i++) {
		fwd->siov[i].iov_base = fwd->sbuf[i];
		fwd->smsg[i].msg_hdr.msg_iov = &fwd->siov[i];
		fwd->smsg[i].msg_hdr.msg_iovlen = 1;
	}
	for (i = 0; i < FWD_READ_BATCH; i++) {
		fwd->riov[i].iov_base = fwd->rbuf[i];
		fwd->riov[i].iov_len = sizeof fwd->rbuf[i];
		fwd->rmsg[i].msg_hdr.msg_iov = &fwd->riov[i];
		fwd->rmsg[i].msg_hdr.msg_iovlen = 1;
	}
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
	struct fwd_up		*up;
	size_t			 i;

	if (fwd == NULL)
		return;
	for (i = 0; i < fwd->nbuckets; i++) {
		while ((job = LIST_FIRST(&fwd->buckets[i])) != NULL) {
			while ((w = STAILQ_FIRST(&job->waiters)) != NULL) {
				STAILQ_REMOVE_HEAD(&job->waiters, entry);
				free(w);
			}
			fwd_job_detach(job);
			free(job->addrs);
			free(job);
		}
	}
	while ((job = LIST_FIRST(&fwd->free_jobs)) != NULL) {
		LIST_REMOVE(job, entry);
		free(job->addrs);
		free(job);
	}
	pool_clear(&fwd->waiters);
	event_del(&fwd->flush_ev);
	event_del(&fwd->timer_ev);
	while ((up = LIST_FIRST(&fwd->ups)) != NULL)
		fwd_up_free(up);
	free(fwd->buckets);
	randbuf_clear(&fwd->random);
	free(fwd);
}

/* A new waiter for q, from the free list if it can; NULL when out of
   memory. */
static struct fwd_waiter *
fwd_waiter_new(struct fwd *fwd, const struct wire_query *q, fwd_done_cb cb,
    void *arg)
{
	struct fwd_waiter	*w;

	if ((w = pool_get(&fwd->waiters)) == NULL)
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
	struct fwd_guess	 guess;
	uint32_t		 h, now;
	size_t			 i, n;
	int			 sick;
	static const struct timeval zero = { 0, 0 };

	if (!q->have_question || q->name_len == 0 ||
	    q->name_len > WIRE_MAX_NAME || ups->n == 0)
		return (-1);

	/* The same question in flight: just wait for it too. */
	h = fwd_hash(q);
	b = &fwd->buckets[h & (fwd->nbuckets - 1)];
	if ((job = fwd_job_find(fwd, q, h)) != NULL) {
		if ((w = fwd_waiter_new(fwd, q, cb, arg)) == NULL)
			return (-1);
		STAILQ_INSERT_TAIL(&job->waiters, w, entry);
		job->nwaiters++;
		fwd->stats.coalesced++;
		return (0);
	}

	/*
	 * Beyond the limit the caller answers at once (stale or SERVFAIL)
	 * rather than the whole process running out of memory or, over
	 * TCP, of file descriptors.
	 */
	if (fwd->njobs >= fwd->max_jobs) {
		fwd->stats.overload++;
		return (-1);
	}
	if ((w = fwd_waiter_new(fwd, q, cb, arg)) == NULL)
		return (-1);
	if ((job = fwd_job_get(fwd, ups->n)) == NULL) {
		pool_put(&fwd->waiters, w);
		return (-1);
	}
	job->fwd = fwd;
	job->hash = h;
	evtimer_assign(&job->tev, fwd->base, fwd_timeout_cb, job);
	STAILQ_INIT(&job->waiters);
	memcpy(job->lname, q->lname, q->name_len);
	job->name_len = q->name_len;
	job->qtype = q->qtype;
	job->qclass = q->qclass;
	job->do_bit = q->do_bit != 0;
	job->cd = (q->flags & WIRE_CD) != 0;
	fwd_guess(fwd, q, &guess);
	job->letters = guess.letters;
	job->udp = guess.udp;
	job->timeout_ms = ups->timeout_ms;
	job->attempts = ups->attempts > 0 ? ups->attempts : 1;

	/* Copy the upstreams: healthy ones first, sick ones last. */
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
	job->nwaiters = 1;

	LIST_INSERT_HEAD(b, job, entry);
	if (++fwd->njobs > fwd->nbuckets)
		fwd_grow(fwd);

	/*
	 * Nothing could be sent at all: report it from the loop, never from
	 * here. Askers of the same question meanwhile share the failure.
	 */
	if (fwd_job_send(job) == -1) {
		job->timer = FWD_TIMER_FAILED;
		if (evtimer_add(&job->tev, &zero) == -1) {
			fwd_job_free(job);
			pool_put(&fwd->waiters, w);
			return (-1);
		}
	}
	return (0);
}

long
fwd_waiters(const struct fwd *fwd, const struct wire_query *q)
{
	const struct fwd_job	*job;

	if (!q->have_question || q->name_len == 0 ||
	    q->name_len > WIRE_MAX_NAME)
		return (-1);
	job = fwd_job_find(fwd, q, fwd_hash(q));
	return (job != NULL ? (long)job->nwaiters : -1);
}

int
fwd_room(const struct fwd *fwd)
{
	return (fwd->njobs < fwd->max_jobs);
}

size_t
fwd_limit(const struct fwd *fwd)
{
	return (fwd->max_jobs);
}

void
fwd_set_limit(struct fwd *fwd, size_t max_jobs)
{
	fwd->max_jobs = max_jobs > 0 ? max_jobs : 1;
}

void
fwd_set_reuse(struct fwd *fwd, unsigned queries, unsigned ms)
{
	if (queries < 1)
		queries = 1;
	fwd->sock_queries = queries < FWD_SOCK_QUERIES ? queries :
	    FWD_SOCK_QUERIES;
	fwd->sock_ms = ms;
}

void
fwd_guess(const struct fwd *fwd, const struct wire_query *q,
    struct fwd_guess *g)
{
	uint64_t	space, min = (uint64_t)1 << FWD_MIN_BITS;

	g->ids = 65536 - (fwd->sock_queries - 1);
	g->ports = fwd->ports;
	g->letters = (unsigned)wire_letters(q->lname, q->name_len);
	/* ids * ports < 2^32, so space << need stays well inside 64 bits. */
	space = (uint64_t)g->ids * g->ports;
	g->bits = 63 - (unsigned)__builtin_clzll(space) + g->letters;
	for (g->need = 0; (space << g->need) < min; g->need++)
		;
	g->udp = g->letters >= g->need;
}

void
fwd_stats(const struct fwd *fwd, struct fwd_stats *st)
{
	*st = fwd->stats;
	st->in_flight = fwd->njobs;
}

void
fwd_set_stats(struct fwd *fwd, struct stats_worker *rec)
{
	fwd->rec = rec;
}
