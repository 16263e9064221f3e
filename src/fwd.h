/*
 * fwd.h: forwarding of cache misses to the upstream resolvers.
 *
 * One struct fwd per worker, driven by that worker's event_base; it is
 * never touched from another thread. For each question it sends one
 * upstream query with a random ID, over a connected UDP socket on a
 * random source port that the kernel chose (see "Upstream sockets"
 * below), and waits up to the timeout; then it tries the next upstream,
 * up to the configured number of attempts in all. An answer with TC=1 is
 * asked again over TCP of the same upstream. An answer with another ID
 * or for another question is dropped and counted, and the wait goes on;
 * one from another address never reaches us (the socket is connected).
 * An answer with RCODE SERVFAIL or REFUSED, or one that wire_scrub() or
 * wire_scan() rejects, counts as a failed attempt.
 *
 * Of an answer, only the records of the question's chain are stored and
 * passed on (wire_scrub()): whatever else an upstream, or a spoofer who
 * got the ID, port and spelling right, adds about other names is
 * dropped, and counted.
 *
 * Identical questions in flight (same lname, qtype, qclass and DO bit) are
 * coalesced: the second asker is added to the first's waiters and no
 * second upstream query is sent.
 *
 * A usable answer is stored in the cache (cache_insert) and then passed to
 * every waiter's callback. When every attempt failed, the callbacks get a
 * NULL message; the caller then serves stale or SERVFAIL.
 *
 * Health: upstreams that have timed out several times in a row are tried
 * last for a few seconds, so one dead upstream does not cost every query a
 * timeout.
 *
 * Upstream sockets: a UDP socket serves up to FWD_SOCK_QUERIES queries
 * and FWD_SOCK_MS milliseconds after it was opened, then takes no new
 * ones and is closed once its last query is settled. An ID is used once
 * in a socket's life.
 *
 * 0x20: each letter of the name we ask is upper- or lower-case at random,
 * and an answer must echo that spelling. One that differs only in case is
 * dropped and counted (mismatched, case_mismatched); since honest
 * upstreams that lose the case exist, that upstream is then asked over
 * TCP (which an off-path attacker cannot forge) for FWD_NOCASE_MS, this
 * query included.
 *
 * So an off-path attacker who wants a forged answer accepted must guess
 * the ID (16 bits, less the few already used on the socket), the source
 * port (log2 of the kernel's ephemeral port range: 14.8 bits for Linux's
 * default 32768-60999) and one bit of case per letter. fwd_guess() counts
 * them; a query that would have fewer than FWD_MIN_BITS over UDP (a name
 * with fewer than two letters, with the default range) goes over TCP.
 */
#ifndef VEILIG_FWD_H
#define VEILIG_FWD_H

#include <stddef.h>
#include <stdint.h>

#include "conf.h"
#include "wire.h"

struct event_base;
struct cache;
struct fwd;
struct stats_worker;

/*
 * The upstreams and how to use them: part of the configuration snapshot,
 * immutable, may be replaced by a reload while queries are in flight;
 * fwd_query() copies what it needs.
 */
struct fwd_upstreams {
	const struct conf_sockaddr	*addrs;
	size_t				 n;
	uint32_t			 timeout_ms;	/* per attempt */
	unsigned			 attempts;	/* in all, >= 1 */
};

/* Counters of one fwd; plain integers, read by the owning thread. */
struct fwd_stats {
	uint64_t	queries;	/* upstream queries sent, UDP and TCP */
	uint64_t	tcp_queries;	/* of which over TCP: after TC=1, */
	uint64_t	tcp_nocase;	/* ... for an upstream that loses
					   the case, */
	uint64_t	tcp_few_bits;	/* ... or a name too short for
					   FWD_MIN_BITS over UDP */
	uint64_t	timeouts;
	uint64_t	mismatched;	/* answers dropped: wrong ID or
					   question, or not our case */
	uint64_t	case_mismatched; /* of which only the case (0x20) */
	uint64_t	malformed;	/* answers rejected by wire_scrub()
					   or wire_scan() */
	uint64_t	scrubbed;	/* records dropped from answers: not
					   of the question's chain */
	uint64_t	coalesced;	/* askers added to a query in flight */
	uint64_t	failures;	/* questions where every attempt failed */
	uint64_t	in_flight;	/* questions now waiting */
	uint64_t	overload;	/* refused: max_jobs in flight */
	uint64_t	sockets;	/* UDP sockets opened */
};

/* Questions in flight at once unless fwd_set_limit() says otherwise. */
#define FWD_MAX_JOBS	4096

/*
 * The life of an upstream UDP socket, unless fwd_set_reuse() says
 * otherwise: so many queries, so many milliseconds since it was opened.
 * A port an attacker has learnt (a side channel, say) is worth at most so
 * much. Opening and closing a socket cost, measured on the miss path,
 * about three misses' worth of CPU time (socket, connect, two epoll_ctl,
 * close): 4 % of it at 64 queries a socket, 1 % at 256.
 */
#define FWD_SOCK_QUERIES	256
#define FWD_SOCK_MS		2000

/* An upstream found to lose the case of names is asked over TCP so long. */
#define FWD_NOCASE_MS		300000

/*
 * What an off-path attacker must guess to have a forged answer to one
 * upstream query over UDP accepted, as fwd_guess() counts it. Below
 * FWD_MIN_BITS the query goes over TCP.
 */
#define FWD_MIN_BITS		32
struct fwd_guess {
	uint32_t	ids;		/* IDs the query may have: 65536 less
					   those its socket used before, at
					   most */
	uint32_t	ports;		/* source ports the kernel picks from:
					   its ephemeral range */
	unsigned	letters;	/* letters in the name: a bit of case
					   each (0x20) */
	unsigned	bits;		/* log2(ids * ports * 2^letters),
					   rounded down */
	unsigned	need;		/* letters a name needs for
					   FWD_MIN_BITS */
	int		udp;		/* letters >= need: UDP will do */
};

/*
 * Called once per waiter when its question is settled. On success msg and
 * sc describe the answer (valid only during the call; msg has no OPT
 * record, see wire_scan()); when every attempt failed both are NULL.
 * q is the waiter's own query, as it was passed to fwd_query(); mask is
 * the inspection bits of the answer (0 on failure).
 */
typedef void (*fwd_done_cb)(void *arg, const struct wire_query *q,
	    const uint8_t *msg, const struct wire_scan *sc, uint64_t mask);

/*
 * Answer inspection (policy.c): called once for each usable answer before
 * it is stored; returns the bits stored with it in the cache and passed to
 * the callbacks, and sets *gen to the generation of the policy that
 * computed them.
 */
struct fwd_inspect {
	uint64_t	(*fn)(void *arg, const uint8_t *msg, size_t len,
			    uint32_t *gen);
	void		*arg;
};

/*
 * A forwarder on base, storing answers in cache (may be NULL) after
 * inspecting them with ins (may be NULL: mask 0). NULL on failure.
 */
struct fwd	*fwd_new(struct event_base *base, struct cache *cache,
		    const struct fwd_inspect *ins);

/* Drop every query in flight without calling back, and free. */
void		 fwd_free(struct fwd *);

/*
 * Resolve q through ups; cb(arg, ...) is called exactly once, later, from
 * the event loop (never from within fwd_query). q is copied. Returns 0, or
 * -1 when no resources are left (nothing will be called back; the caller
 * answers SERVFAIL).
 */
int		 fwd_query(struct fwd *, const struct fwd_upstreams *ups,
		    const struct wire_query *q, fwd_done_cb cb, void *arg);

/*
 * At most max_jobs questions in flight; beyond it fwd_query() returns -1.
 * Coalescing onto a question in flight is always allowed.
 */
void		 fwd_set_limit(struct fwd *, size_t max_jobs);

/*
 * Reuse each upstream UDP socket for at most queries queries (1 to
 * FWD_SOCK_QUERIES: 1 is a fresh socket per query) and ms milliseconds.
 */
void		 fwd_set_reuse(struct fwd *, unsigned queries, unsigned ms);

/* Count what an attacker must guess of an upstream query for q. */
void		 fwd_guess(const struct fwd *, const struct wire_query *q,
		    struct fwd_guess *);

/* The limit on questions in flight. */
size_t		 fwd_limit(const struct fwd *);

/*
 * How many askers wait for question q (the asker that started it
 * included), or -1 when q is not in flight here: fwd_query() would start
 * it. For the caller's limits on waiters per question.
 */
long		 fwd_waiters(const struct fwd *, const struct wire_query *q);

/* Is there room for another question (fewer than the limit in flight)? */
int		 fwd_room(const struct fwd *);

/* Copy the counters. */
void		 fwd_stats(const struct fwd *, struct fwd_stats *);

/*
 * Count what each upstream does (queries, answers and their round trip,
 * timeouts, errors, mismatched answers) into the worker's statistics
 * recorder (stats.h); NULL: not counted.
 */
void		 fwd_set_stats(struct fwd *, struct stats_worker *);

#endif
