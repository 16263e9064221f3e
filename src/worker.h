/*
 * worker.h: one thread with its own event loop, sockets and forwarder.
 *
 * Each worker opens its own SO_REUSEPORT UDP and TCP sockets on every
 * listen address, so the kernel spreads clients over the workers and no
 * socket is shared. UDP is read and answered in batches (recvmmsg,
 * sendmmsg). TCP follows RFC 7766: many queries per connection, answers in
 * the order they are ready, an idle timeout, a cap on connections per
 * daemon and on queries in flight per connection. And so that no client
 * can hold TCP slots from the others: connections only from boards'
 * networks, a cap per client (quota.h), a deadline on each query's octets
 * and on answers left unread, and a bound on both buffers.
 *
 * The worker is the transport only: it reads each query, fills a struct
 * query (the client's address, its own operations, the buffer the answer
 * goes to) and lets query.c decide. An answer decided at once is sent
 * from the same batch; a forwarded query is copied into a record of the
 * worker's (struct worker_late in worker.c), which query.c answers through
 * the transport's operations when the upstreams are done and then gives
 * back to be freed. The counters of struct worker_stats are the
 * transport's (queries, drops, TCP connections) and query.c's (the
 * decisions), added up by worker_stats().
 *
 * Ownership: main creates workers with worker_new(), starts them, and after
 * worker_stop() frees them. The cache is shared and owned by main.
 */
#ifndef VEILIG_WORKER_H
#define VEILIG_WORKER_H

#include <stdint.h>

struct cache;
struct conf;
struct inflight;
struct rrl;
struct stats_worker;
struct worker;

/* Counters of one worker, written only by its thread. */
struct worker_stats {
	uint64_t	udp_queries;
	uint64_t	tcp_queries;
	uint64_t	dropped;	/* no answer: QR=1, short, too long */
	uint64_t	refused;	/* no board, AXFR/IXFR */
	uint64_t	blocked;	/* blocked answers (question or answer) */
	uint64_t	memo_hits;	/* of which the verdict came from the
					   worker's memo (memo.h) */
	uint64_t	rewritten;	/* safe-search and RPZ CNAME answers */
	uint64_t	formerr;	/* FORMERR, NOTIMP, BADVERS */
	uint64_t	cache_hits;
	uint64_t	forwarded;
	uint64_t	shared;		/* of which asked by another worker */
	uint64_t	stale;		/* stale answers served */
	uint64_t	servfail;
	uint64_t	failed;		/* of which at once: failed a
					   moment ago (RFC 9520) */
	uint64_t	limit_worker;	/* not forwarded: limits.forwarded */
	uint64_t	limit_question;	/* ... forwarded-per-question */
	uint64_t	limit_client;	/* ... client-share */
	uint64_t	rrl_dropped;	/* answers not sent: over the rate */
	uint64_t	rrl_slipped;	/* ... sent cut, with TC=1 */
	uint64_t	tcp_accepted;
	uint64_t	tcp_rejected;	/* over tcp-max-connections */
	uint64_t	tcp_refused;	/* closed at once: no board's */
	uint64_t	tcp_client_limit; /* over ...-per-client */
	uint64_t	tcp_deadline;	/* closed: a query or its answers
					   too slow (tcp-query-timeout) */
	uint64_t	tcp_unread;	/* answers dropped: too many left
					   unread */
	/* The kernel's, of the listening UDP sockets, as of the last
	   worker_rxq_read(): */
	uint64_t	rxq_drops;	/* datagrams dropped, the receive
					   buffer full */
	uint64_t	rxq_octets;	/* octets waiting to be read (a
					   gauge) */
	int		rxq_known;	/* 0: the kernel would not say, for
					   one socket or more: both above
					   are then no figure at all */
};

/*
 * Create worker number id (0 is the first) of nworkers and open its
 * sockets on conf's listen addresses. cache, inflight (the registry of
 * questions in flight) and rrl (response rate limiting; NULL: none) are
 * shared by all workers. On failure return NULL and set *cause to an
 * allocated message.
 */
struct worker	*worker_new(unsigned id, unsigned nworkers,
		    const struct conf *conf, struct cache *cache,
		    struct inflight *inflight, struct rrl *rrl, char **cause);

/* Start the worker's thread. 0 or -1. */
int		 worker_start(struct worker *);

/* Ask the worker's loop to end and wait for its thread. */
void		 worker_stop(struct worker *);

/* Close the sockets and free; the worker must be stopped (or never
   started). */
void		 worker_free(struct worker *);

/* Count its queries into the statistics recorder sw (before start). */
void		 worker_set_stats(struct worker *, struct stats_worker *sw);

/* Copy the counters (racy reads of plain integers: for reports only). */
void		 worker_stats(const struct worker *, struct worker_stats *);

/*
 * Read the kernel's figures of the worker's listening UDP sockets
 * (getsockopt SO_MEMINFO): the datagrams it dropped on them, their
 * receive buffers being full (server.receive-buffer), and the octets
 * waiting in them, for worker_stats(). A few system calls: called from
 * one thread only (main's, every second and for veiligctl stats), never
 * per query. SO_MEMINFO rather than SO_RXQ_OVFL, which gives the same
 * count but as a control message on every datagram received: a cost on
 * each query, and no news at all while nothing is read. 0, or -1 with
 * errno set when a socket's figures could not be read (a kernel without
 * SO_MEMINFO or its drops count, or a system call filter): rxq_known is
 * then 0 until a read succeeds for every socket.
 */
int		 worker_rxq_read(struct worker *);

#endif
