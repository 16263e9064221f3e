/*
 * worker.c: a worker thread: UDP in batches, TCP per RFC 7766. The
 * transport only: what to answer is query.c's decision.
 *
 * Memory: a worker's receive and send buffers are part of struct worker,
 * allocated once; a query answered at once is written straight into the
 * send buffer (UDP) or the answer buffer (TCP) and costs no allocation. A
 * forwarded query needs one record, struct worker_late, holding the
 * struct query and how to reach its client; query.c gives it back through
 * the transport's release operation, and it waits in a pool (pool.h) for
 * the next one (at most WORKER_LATE_KEEP of them), so that a miss does not
 * cost a malloc and a free of its own.
 *
 * Answers to forwarded UDP queries come in batches too (the forwarder
 * reads its upstreams' answers with recvmmsg), so they are copied to a
 * queue and leave with one sendmmsg per socket when the loop's round is
 * over: one sendmsg each cost a fifth of the miss path's CPU time.
 */
#include <sys/types.h>
#include <sys/queue.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <linux/sock_diag.h>

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/listener.h>

#include "conf.h"
#include "fwd.h"
#include "log.h"
#include "policy.h"
#include "pool.h"
#include "query.h"
#include "quota.h"
#include "snapshot.h"
#include "wire.h"
#include "worker.h"

/*
 * Datagrams per recvmmsg/sendmmsg: 64, as build/echo reads them. Under
 * load the socket holds more than 32 (make bench keeps 128 in flight),
 * and each batch costs three system calls (epoll_wait, recvmmsg and
 * sendmmsg) however full it is: at 32, 26 datagrams a recvmmsg, at 64,
 * 34, a quarter fewer calls (blocked names, one worker, a busy machine).
 */
#define WORKER_BATCH		64
_Static_assert(WORKER_BATCH <= QUERY_BATCH,
    "query.c keeps the boards of a batch of at most QUERY_BATCH");
#define WORKER_ROUNDS		4	/* batches per readiness event */
#define WORKER_AHEAD		2	/* datagrams parsed ahead of the one
					   answered (worker_udp_answer()) */
#define WORKER_RXBUF		4096	/* longer queries are dropped */
#define WORKER_TXBUF		4096	/* >= WIRE_EDNS_SIZE */
#define WORKER_TCP_MAX		65535	/* a message: 2-octet length */
#define WORKER_TCP_QMIN		12	/* a DNS header; shorter closes */
#define WORKER_TCP_QMAX		WORKER_RXBUF /* a longer query closes */
#define WORKER_TCP_OUTPAUSE	(16 * 1024) /* queued answers: read no
					       more queries meanwhile */
#define WORKER_TCP_OUTMAX	(WORKER_TCP_OUTPAUSE + 2 + WORKER_TCP_MAX)
					    /* queued answers, at most */
#define WORKER_TCP_SOCKBUF	(16 * 1024) /* SO_SNDBUF, SO_RCVBUF: the
					       kernel doubles it */
#define WORKER_LATE_KEEP	128	/* idle records of forwarded queries
					   kept for the next ones */

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

/*
 * One UDP listen address of this worker: fd receives (and is in the
 * event loop), sfd sends the answers (see worker_udp_sender), or is fd
 * when no second socket could be made.
 */
struct worker_udp {
	struct worker		*w;
	int			 fd;
	int			 sfd;
	int			 pktinfo; /* bound to a wildcard address */
	struct event		*ev;
	uint32_t		 drops;	/* fd's SK_MEMINFO_DROPS when last
					   read (worker_rxq_read()) */
};

/*
 * A TCP connection. It outlives its socket while queries it forwarded are
 * still out (pending > 0): their answers are then dropped.
 *
 * Two deadlines (server.tcp-query-timeout) keep a slot from being held
 * by a client that sends or reads too slowly, whatever the idle timeout
 * (which every octet resets): a query must arrive whole within the
 * deadline of its first octet (in_ev), and answers queued must all be
 * taken by the client within the deadline of the first of them (out_ev).
 */
struct worker_conn {
	struct worker		*w;
	struct bufferevent	*bev;	/* NULL once closed */
	unsigned		 pending; /* queries forwarded, not answered */
	unsigned		 max_queries;
	int			 paused; /* reading stopped at max_queries */
	int			 full;	/* reading stopped: answers queued
					   (WORKER_TCP_OUTPAUSE) */
	int			 eof;	/* client finished sending, or
					   stopped taking answers */
	struct sockaddr_storage	 peer;	/* the client's address */
	socklen_t		 peerlen;
	struct timeval		 deadline;
	struct event		 in_ev;	/* a query is on its way */
	struct event		 out_ev; /* answers wait to be read */
	TAILQ_ENTRY(worker_conn) entry;
};

/*
 * A forwarded query, from query_forward() until query.c releases it: the
 * query first, so that the struct query * query.c hands back is the
 * record's address; then how to reach the client.
 */
struct worker_late {
	struct query		 q;
	struct worker_udp	*u;	/* UDP: the socket it came in on */
	struct worker_dst	 dst;	/* UDP: the address it was sent to */
	struct worker_conn	*conn;	/* TCP: its connection */
};

struct worker {
	unsigned		 id;
	unsigned		 nworkers;
	pthread_t		 thread;
	int			 started;
	struct event_base	*base;
	struct query_ctx	*qc;	/* the decisions, forwarder included */

	struct worker_udp	*udp;
	size_t			 nudp;
	struct evconnlistener	**tcp;
	size_t			 ntcp;
	unsigned		 nconns;
	struct event		*resume_ev;	/* accept() again after EMFILE */
	TAILQ_HEAD(, worker_conn) conns;
	struct quota		*tcp_clients;	/* connections per client */
	struct pool		 late;	/* idle records, for the next
					   forwarded queries */

	/* The transport's counters: queries, drops, TCP connections; the
	   rest are query.c's (worker_stats() adds them up). */
	struct worker_stats	 st;
	/* The kernel's, of the UDP sockets: written by the main thread
	   (worker_rxq_read()), read by any, with relaxed atomics. */
	uint64_t		 rxq_drops;
	uint64_t		 rxq_octets;
	int			 rxq_known;

	/* recvmmsg and sendmmsg state, reused for every batch. */
	unsigned		 rxdirty;	/* rx headers to set up again */
	int			 rxpktinfo;	/* the pktinfo they are set up
						   for, -1 none yet */
	struct mmsghdr		 rx[WORKER_BATCH];
	struct iovec		 rxiov[WORKER_BATCH];
	struct sockaddr_storage	 rxaddr[WORKER_BATCH];
	union worker_ctl	 rxctl[WORKER_BATCH];
	struct mmsghdr		 tx[WORKER_BATCH];
	struct iovec		 txiov[WORKER_BATCH];
	union worker_ctl	 txctl[WORKER_BATCH];
	uint8_t			 rxbuf[WORKER_BATCH][WORKER_RXBUF];
	uint8_t			 txbuf[WORKER_BATCH][WORKER_TXBUF];
	/* Late UDP answers, until late_ev runs at the end of the round. */
	struct event		*late_ev;
	unsigned		 nlate;
	struct worker_udp	*lateu[WORKER_BATCH];
	struct mmsghdr		 latemsg[WORKER_BATCH];
	struct iovec		 lateiov[WORKER_BATCH];
	union worker_ctl	 latectl[WORKER_BATCH];
	struct sockaddr_storage	 lateaddr[WORKER_BATCH];
	uint8_t			 latebuf[WORKER_BATCH][WORKER_TXBUF];
	/* One TCP query and its answer. */
	uint8_t			 tcpin[WORKER_TCP_QMAX];
	uint8_t			 out[WORKER_TCP_MAX];
};

static void	worker_udp_read_cb(evutil_socket_t, short, void *);
static void	worker_late_cb(evutil_socket_t, short, void *);
static int	worker_udp_alive(const struct query *);
static void	worker_udp_send(struct query *, const uint8_t *, size_t);
static void	worker_udp_release(struct query *);
static void	worker_accept_cb(struct evconnlistener *, evutil_socket_t,
		    struct sockaddr *, int, void *);
static void	worker_accept_error_cb(struct evconnlistener *, void *);
static void	worker_resume_cb(evutil_socket_t, short, void *);
static void	worker_conn_read_cb(struct bufferevent *, void *);
static void	worker_conn_write_cb(struct bufferevent *, void *);
static void	worker_conn_event_cb(struct bufferevent *, short, void *);
static int	worker_conn_process(struct worker_conn *);
static void	worker_conn_close(struct worker_conn *);
static void	worker_conn_deadline_cb(evutil_socket_t, short, void *);
static int	worker_tcp_alive(const struct query *);
static void	worker_tcp_send(struct query *, const uint8_t *, size_t);
static void	worker_tcp_release(struct query *);

/* The two transports, as query.c sees them. */
static const struct query_transport worker_udp_tp = {
	1, worker_udp_alive, worker_udp_send, worker_udp_release
};
static const struct query_transport worker_tcp_tp = {
	0, worker_tcp_alive, worker_tcp_send, worker_tcp_release
};

/* Is sa the unspecified address (0.0.0.0 or ::)? */
static int
worker_wildcard(const struct sockaddr *sa)
{
	const struct sockaddr_in	*sin = (const struct sockaddr_in *)sa;
	const struct sockaddr_in6	*sin6 = (const struct sockaddr_in6 *)sa;

	if (sa->sa_family == AF_INET)
		return (sin->sin_addr.s_addr == htonl(INADDR_ANY));
	return (IN6_IS_ADDR_UNSPECIFIED(&sin6->sin6_addr));
}

/*
 * Open a socket of type on sa with SO_REUSEPORT, of rcvbuf octets of
 * receive buffer if it is UDP; -1 with *cause set.
 */
static int
worker_socket(const struct conf_sockaddr *sa, int type, int rcvbuf,
    char **cause)
{
	char	addr[80];
	int	fd, on = 1, bufsz = WORKER_TCP_SOCKBUF;
	int	pmtu = IP_PMTUDISC_PROBE;

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
	/*
	 * Small socket buffers for TCP (accepted sockets inherit them):
	 * what a client that does not read, or sends without end, can pin
	 * in the kernel on our account. DNS messages are at most 64 KiB.
	 */
	if (type == SOCK_STREAM &&
	    (setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &bufsz, sizeof bufsz) == -1 ||
	    setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &bufsz, sizeof bufsz) == -1))
		goto fail;
	if (type == SOCK_STREAM && listen(fd, 1024) == -1)
		goto fail;
	/*
	 * Room for a burst (server.receive-buffer): a worker held up for
	 * some tens of milliseconds (a busy machine, a reload) loses no
	 * datagram, but what waits there waits longer. SO_RCVBUF is capped
	 * at net.core.rmem_max (often 208 KiB: some 500 small queries, the
	 * kernel charging 832 octets for each against twice the size
	 * granted; measured on loopback with veiligd stopped: 512 to 546
	 * of a burst queued at 208 KiB, 2,520 at 1 MiB, for queries of 12
	 * to 90 octets alike; a network card's driver may charge more);
	 * SO_RCVBUFFORCE, allowed to root (the sockets are opened before
	 * veiligd drops root), is not. Kernel memory, used only by what
	 * waits. TCP listeners keep their small buffers: a connection has
	 * its own queue and flow control, and nothing waits in a listener
	 * but connections (listen()'s backlog).
	 */
	if (type == SOCK_DGRAM &&
	    setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &rcvbuf,
	    sizeof rcvbuf) == -1)
		(void)setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf,
		    sizeof rcvbuf);
	/*
	 * IPv4 answers go out with DF set and the path MTU ignored
	 * (IP_PMTUDISC_PROBE): answers are at most WIRE_EDNS_SIZE, so
	 * nothing needs fragments, and a datagram with DF gets IP ID 0
	 * instead of the kernel's shared, hashed ID counter
	 * (__ip_select_ident: 2 % of veiligd's CPU on cache hits).
	 */
	if (type == SOCK_DGRAM && sa->ss.ss_family == AF_INET)
		(void)setsockopt(fd, IPPROTO_IP, IP_MTU_DISCOVER, &pmtu,
		    sizeof pmtu);
	return (fd);
fail:
	if (asprintf(cause, "%s %s: %s", type == SOCK_STREAM ? "tcp" : "udp",
	    conf_sockaddr_str(sa, addr, sizeof addr), strerror(errno)) == -1)
		*cause = NULL;
	if (fd != -1)
		close(fd);
	return (-1);
}

/*
 * Warn, once at start, when the kernel gave the UDP socket fd less
 * receive buffer than server.receive-buffer asks: not root (no
 * SO_RCVBUFFORCE) and net.core.rmem_max lower. Datagrams are then
 * dropped at a shorter burst than the operator chose, and the reason is
 * the system's setting, which only this line names.
 */
static void
worker_rcvbuf_check(int fd, const struct conf *conf)
{
	FILE		*f;
	char		 max[32] = "?";
	int		 got;
	socklen_t	 len = sizeof got;

	if (getsockopt(fd, SOL_SOCKET, SO_RCVBUF, &got, &len) == -1)
		return;
	/* The kernel doubles what it is given (its own overhead). */
	if ((uint64_t)got / 2 >= conf->receive_buffer)
		return;
	if ((f = fopen("/proc/sys/net/core/rmem_max", "re")) != NULL) {
		if (fgets(max, sizeof max, f) == NULL)
			snprintf(max, sizeof max, "?");
		max[strcspn(max, "\n")] = '\0';
		fclose(f);
	}
	log_warnx("%s: server.receive-buffer: %llu octets asked, the kernel "
	    "granted %d (net.core.rmem_max is %s; more takes root or "
	    "CAP_NET_ADMIN at start, or a higher net.core.rmem_max)",
	    conf->path, (unsigned long long)conf->receive_buffer, got / 2,
	    max);
}

/*
 * A second socket for the answers of the UDP socket fd, or fd itself if
 * one cannot be made. The kernel frees a datagram sent on loopback at
 * once, or when the card has sent it, and then wakes whoever waits on
 * its socket for room to write (sock_wfree); the epoll entry of a socket
 * in the event loop always waits there, so every answer sent on fd took
 * the socket's wait-queue lock and called epoll back for nothing: a
 * quarter of a microsecond an answer, 10 % of a cache hit's CPU (an echo
 * server with epoll against the same without). Nothing waits on this one.
 *
 * It is bound to fd's address and port beside it (SO_REUSEADDR, not in
 * fd's SO_REUSEPORT group, which would share out the queries to it) and
 * connected to that same address, so that the kernel gives it only
 * datagrams from itself, which it never sends (a wildcard gets the
 * loopback address of its family; those from outside with our own address
 * as source are martians). sendmsg with an address of its own still works
 * on a connected UDP socket, and an ICMP error for an answer is looked up
 * as a datagram from the client: it goes to fd, which ignores it as
 * before, and does not fail this socket's next send.
 */
static int
worker_udp_sender(int fd)
{
	struct sockaddr_storage	 ss, peer;
	struct sockaddr_in	*sin = (struct sockaddr_in *)&peer;
	struct sockaddr_in6	*sin6 = (struct sockaddr_in6 *)&peer;
	socklen_t		 len = sizeof ss;
	int			 sfd, on = 1, pmtu = IP_PMTUDISC_PROBE;

	if (getsockname(fd, (struct sockaddr *)&ss, &len) == -1)
		return (fd);
	sfd = socket(ss.ss_family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
	    0);
	if (sfd == -1)
		return (fd);
	memcpy(&peer, &ss, len);
	if (worker_wildcard((const struct sockaddr *)&peer)) {
		if (peer.ss_family == AF_INET)
			sin->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		else
			sin6->sin6_addr = in6addr_loopback;
	}
	/* As worker_socket() sets up fd's sending side (IPv4: no IP ID). */
	if (ss.ss_family == AF_INET)
		(void)setsockopt(sfd, IPPROTO_IP, IP_MTU_DISCOVER, &pmtu,
		    sizeof pmtu);
	if (setsockopt(sfd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof on) == -1 ||
	    (ss.ss_family == AF_INET6 && setsockopt(sfd, IPPROTO_IPV6,
	    IPV6_V6ONLY, &on, sizeof on) == -1) ||
	    bind(sfd, (struct sockaddr *)&ss, len) == -1 ||
	    connect(sfd, (struct sockaddr *)&peer, len) == -1) {
		log_debug("udp: no socket of its own for answers: %s",
		    strerror(errno));
		close(sfd);
		return (fd);
	}
	return (sfd);
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
		return (FWD_MAX_JOBS);
	reserve = 64 + conf->tcp_max_conns + 3 * conf->nlisten * nworkers;
	left = rl.rlim_cur > reserve ? rl.rlim_cur - reserve : 0;
	left /= nworkers;
	if (left < 16)
		left = 16;
	return (left < FWD_MAX_JOBS * 16 ? (size_t)left : FWD_MAX_JOBS * 16);
}

struct worker *
worker_new(unsigned id, unsigned nworkers, const struct conf *conf,
    struct cache *cache, struct inflight *inflight, struct rrl *rrl,
    char **cause)
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
	w->rxpktinfo = -1;
	TAILQ_INIT(&w->conns);
	pool_init(&w->late, sizeof (struct worker_late), WORKER_LATE_KEEP);
	if ((w->base = event_base_new()) == NULL)
		goto nomem;
	w->qc = query_ctx_new(w->base, cache, inflight, rrl, nworkers,
	    worker_job_limit(conf, nworkers));
	if (w->qc == NULL || (w->tcp_clients = quota_new()) == NULL)
		goto nomem;
	if ((w->resume_ev = evtimer_new(w->base, worker_resume_cb, w)) ==
	    NULL)
		goto nomem;
	if ((w->late_ev = event_new(w->base, -1, 0, worker_late_cb, w)) ==
	    NULL)
		goto nomem;
	w->udp = calloc(conf->nlisten, sizeof *w->udp);
	w->tcp = calloc(conf->nlisten, sizeof *w->tcp);
	if (w->udp == NULL || w->tcp == NULL)
		goto nomem;
	for (i = 0; i < conf->nlisten; i++) {
		u = &w->udp[w->nudp];
		u->w = w;
		u->fd = worker_socket(&conf->listen[i], SOCK_DGRAM,
		    (int)conf->receive_buffer, cause);
		if (u->fd == -1)
			goto fail;
		/* Every socket gets the same: the first one says for all. */
		if (id == 0 && i == 0)
			worker_rcvbuf_check(u->fd, conf);
		u->sfd = worker_udp_sender(u->fd);
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

		fd = worker_socket(&conf->listen[i], SOCK_STREAM, 0, cause);
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
	return (w);
nomem:
	if (asprintf(cause, "worker %u: out of memory", id) == -1)
		*cause = NULL;
fail:
	worker_free(w);
	return (NULL);
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
	return (NULL);
}

int
worker_start(struct worker *w)
{
	if (pthread_create(&w->thread, NULL, worker_main, w) != 0)
		return (-1);
	w->started = 1;
	return (0);
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
	size_t			 i;

	if (w == NULL)
		return;
	/*
	 * Connections close first, so that releasing their queries below
	 * reads nothing more from them; each query still out frees its
	 * connection when it is the last.
	 */
	TAILQ_FOREACH(c, &w->conns, entry) {
		if (c->bev != NULL) {
			bufferevent_free(c->bev);
			c->bev = NULL;
			event_del(&c->in_ev);
			event_del(&c->out_ev);
		}
	}
	query_ctx_free(w->qc);
	while ((c = TAILQ_FIRST(&w->conns)) != NULL) {
		TAILQ_REMOVE(&w->conns, c, entry);
		free(c);
	}
	for (i = 0; i < w->ntcp; i++)
		evconnlistener_free(w->tcp[i]);
	if (w->resume_ev != NULL)
		event_free(w->resume_ev);
	if (w->late_ev != NULL)
		event_free(w->late_ev);
	for (i = 0; i < w->nudp; i++) {
		if (w->udp[i].ev != NULL)
			event_free(w->udp[i].ev);
		if (w->udp[i].sfd != w->udp[i].fd)
			close(w->udp[i].sfd);
		close(w->udp[i].fd);
	}
	free(w->tcp);
	free(w->udp);
	pool_clear(&w->late);
	quota_free(w->tcp_clients);
	if (w->base != NULL)
		event_base_free(w->base);
	free(w);
}

void
worker_set_stats(struct worker *w, struct stats_worker *sw)
{
	query_ctx_set_stats(w->qc, sw);
}

void
worker_stats(const struct worker *w, struct worker_stats *st)
{
	struct query_stats	qs;

	/* The transport's counters, then the decisions'. */
	*st = w->st;
	query_ctx_stats(w->qc, &qs);
	st->dropped += qs.dropped;
	st->refused = qs.refused;
	st->blocked = qs.blocked;
	st->memo_hits = qs.memo_hits;
	st->rewritten = qs.rewritten;
	st->formerr = qs.formerr;
	st->cache_hits = qs.cache_hits;
	st->forwarded = qs.forwarded;
	st->shared = qs.shared;
	st->stale = qs.stale;
	st->servfail = qs.servfail;
	st->failed = qs.failed;
	st->limit_worker = qs.limit_worker;
	st->limit_question = qs.limit_question;
	st->limit_client = qs.limit_client;
	st->rrl_dropped = qs.rrl_dropped;
	st->rrl_slipped = qs.rrl_slipped;
	st->rxq_drops = __atomic_load_n(&w->rxq_drops, __ATOMIC_RELAXED);
	st->rxq_octets = __atomic_load_n(&w->rxq_octets, __ATOMIC_RELAXED);
	st->rxq_known = __atomic_load_n(&w->rxq_known, __ATOMIC_RELAXED);
}

int
worker_rxq_read(struct worker *w)
{
	uint32_t	 mi[SK_MEMINFO_VARS];
	socklen_t	 len;
	uint64_t	 drops, octets = 0;
	size_t		 i;
	int		 error = 0;

	drops = __atomic_load_n(&w->rxq_drops, __ATOMIC_RELAXED);
	for (i = 0; i < w->nudp; i++) {
		len = sizeof mi;
		if (getsockopt(w->udp[i].fd, SOL_SOCKET, SO_MEMINFO, mi,
		    &len) == -1) {
			error = errno;
			continue;
		}
		/* A kernel whose figures end before the drops' count. */
		if (len <= SK_MEMINFO_DROPS * sizeof mi[0]) {
			error = ENOPROTOOPT;
			continue;
		}
		/* The kernel's count is 32 bits: add what it grew by. */
		drops += (uint32_t)(mi[SK_MEMINFO_DROPS] - w->udp[i].drops);
		w->udp[i].drops = mi[SK_MEMINFO_DROPS];
		octets += mi[SK_MEMINFO_RMEM_ALLOC];
	}
	__atomic_store_n(&w->rxq_drops, drops, __ATOMIC_RELAXED);
	__atomic_store_n(&w->rxq_octets, octets, __ATOMIC_RELAXED);
	__atomic_store_n(&w->rxq_known, error == 0, __ATOMIC_RELAXED);
	if (error != 0) {
		errno = error;
		return (-1);
	}
	return (0);
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

/* Send the ntx datagrams at tx on u; what fails is dropped. */
static void
worker_udp_sendmmsg(struct worker_udp *u, struct mmsghdr *tx, unsigned ntx)
{
	struct worker	*w = u->w;
	unsigned	 done = 0;
	int		 n;

	while (done < ntx) {
		n = sendmmsg(u->sfd, tx + done, ntx - done, 0);
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

/* Send the batch of answers collected in w->tx. */
static void
worker_udp_flush(struct worker_udp *u, unsigned ntx)
{
	worker_udp_sendmmsg(u, u->w->tx, ntx);
}

/* Send the late answers queued, one sendmmsg per run of one socket. */
static void
worker_late_flush(struct worker *w)
{
	unsigned	i = 0, j;

	while (i < w->nlate) {
		for (j = i + 1; j < w->nlate && w->lateu[j] == w->lateu[i]; j++)
			;
		worker_udp_sendmmsg(w->lateu[i], w->latemsg + i, j - i);
		i = j;
	}
	w->nlate = 0;
}

/* The end of the loop's round: out with the late answers. */
static void
worker_late_cb(evutil_socket_t fd, short events, void *arg)
{
	(void)fd;
	(void)events;
	worker_late_flush(arg);
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

/*
 * Forward q, received on u as the datagram mh, in a record of its own.
 * 0, or -1 when over a limit or out of resources (nothing is kept).
 */
static int
worker_udp_forward(struct worker_udp *u, struct msghdr *mh,
    const struct query *q, const struct snapshot *snap)
{
	struct worker_late	*l;

	if ((l = pool_get(&u->w->late)) == NULL)
		return (-1);
	l->q = *q;
	l->u = u;
	l->conn = NULL;
	l->dst.family = 0;
	if (u->pktinfo)
		worker_dst_get(mh, &l->dst);
	if (query_forward(u->w->qc, snap, &l->q) == -1) {
		pool_put(&u->w->late, l);
		return (-1);
	}
	return (0);
}

/*
 * Parse datagram i of w->rx into q ahead of its answer; a truncated one
 * (dropped unanswered) as nothing, so that no prefetch follows it.
 */
static void
worker_udp_prepare(struct worker *w, const struct snapshot *snap,
    struct query *q, unsigned i)
{
	struct msghdr	*mh = &w->rx[i].msg_hdr;

	/* An IPv4 client's address as one fixed copy, inlined. */
	if (mh->msg_namelen == sizeof(struct sockaddr_in))
		memcpy(&q->from, mh->msg_name, sizeof(struct sockaddr_in));
	else
		memcpy(&q->from, mh->msg_name, mh->msg_namelen);
	q->fromlen = mh->msg_namelen;
	query_prepare_batch(w->qc, snap, q, w->rxbuf[i], (mh->msg_flags &
	    MSG_TRUNC) ? 0 : w->rx[i].msg_len, i);
}

/* Read up to a batch of datagrams from u into w->rx. Their number. */
static int
worker_udp_recv(struct worker_udp *u)
{
	struct worker	*w = u->w;
	struct msghdr	*mh;
	unsigned	 i;
	int		 n;

	/*
	 * The kernel writes back only the headers of the datagrams it
	 * fills: set up again those alone, and all of them when the socket
	 * wants control space and the last did not (or the other way).
	 * Setting up all 64 for every call cost some 600 instructions, as
	 * much as a cache hit, when a call under light load brings one.
	 */
	if (w->rxpktinfo != u->pktinfo) {
		w->rxpktinfo = u->pktinfo;
		w->rxdirty = WORKER_BATCH;
	}
	for (i = 0; i < w->rxdirty; i++) {
		mh = &w->rx[i].msg_hdr;
		w->rxiov[i].iov_base = w->rxbuf[i];
		w->rxiov[i].iov_len = WORKER_RXBUF;
		mh->msg_name = &w->rxaddr[i];
		mh->msg_namelen = sizeof w->rxaddr[i];
		mh->msg_iov = &w->rxiov[i];
		mh->msg_iovlen = 1;
		mh->msg_control = u->pktinfo ? w->rxctl[i].buf : NULL;
		mh->msg_controllen = u->pktinfo ? sizeof w->rxctl[i].buf : 0;
		mh->msg_flags = 0;
	}
	n = recvmmsg(u->fd, w->rx, WORKER_BATCH, MSG_DONTWAIT, NULL);
	w->rxdirty = n > 0 ? (unsigned)n : 0;
	if (n == -1 && errno != EAGAIN && errno != EINTR)
		log_ratelimited("udp receive: %s", strerror(errno));
	return (n);
}

/*
 * Answer the n datagrams in w->rx and send the answers in one batch.
 *
 * The queries go through a ring of WORKER_AHEAD + 1 records, in steps:
 * datagram i + WORKER_AHEAD is parsed, its board taken from the batch's
 * pass and its question hashed (query_prepare_batch(): its cache bucket
 * starts loading), the bucket
 * of i + 1, in by now, gives its cache entry to load, or says the name
 * is not cached and the policy is asked on it (query_prefetch()), and i
 * is answered. A hit's lookup then finds warm lines where each was a
 * memory miss after the one before (shard, bucket, entry), and takes
 * the policy's verdict on its question from the entry (query.c).
 */
static void
worker_udp_answer(struct worker_udp *u, unsigned n)
{
	struct worker		*w = u->w;
	const struct snapshot	*snap;
	struct query		 qs[WORKER_AHEAD + 1], *q;
	struct msghdr		*mh;
	unsigned		 i, j, ntx = 0;

	clock_gettime(CLOCK_MONOTONIC, &qs[0].received);
	for (j = 0; j <= WORKER_AHEAD; j++) {
		qs[j].tp = &worker_udp_tp;
		qs[j].received = qs[0].received;
	}
	snapshot_read_begin();
	snap = snapshot_current();
	query_batch_begin(w->qc, &qs[0].received);
	/*
	 * The boards of the batch, their misses overlapping (many boards):
	 * the board index lines of all, then the boards and counters.
	 */
	for (i = 0; i < n; i++)
		query_batch_prefetch_net(snap, (const struct sockaddr *)
		    w->rx[i].msg_hdr.msg_name);
	for (i = 0; i < n; i++)
		query_batch_prefetch(w->qc, snap, (const struct sockaddr *)
		    w->rx[i].msg_hdr.msg_name);
	for (i = 0; i < n && i < WORKER_AHEAD; i++)
		worker_udp_prepare(w, snap, &qs[i], i);
	/* The first has no datagram before it to do its second step. */
	if (n > 0)
		query_prefetch(w->qc, snap, &qs[0]);
	for (i = 0; i < n; i++) {
		if (i + WORKER_AHEAD < n)
			worker_udp_prepare(w, snap, &qs[(i + WORKER_AHEAD) %
			    (WORKER_AHEAD + 1)], i + WORKER_AHEAD);
		if (i + 1 < n)
			query_prefetch(w->qc, snap,
			    &qs[(i + 1) % (WORKER_AHEAD + 1)]);
		q = &qs[i % (WORKER_AHEAD + 1)];
		mh = &w->rx[i].msg_hdr;
		w->st.udp_queries++;
		if (mh->msg_flags & MSG_TRUNC) {
			w->st.dropped++;
			continue;
		}
		q->out = w->txbuf[ntx];
		q->cap = WORKER_TXBUF;
		switch (query_answer_prepared(w->qc, snap, q)) {
		case QUERY_DROP:
			break;
		case QUERY_SEND:
			worker_tx_add(u, mh, ntx++, q->outlen);
			break;
		case QUERY_FORWARD:
			if (worker_udp_forward(u, mh, q, snap) == 0)
				break;
			/* Over a limit, out of resources: answer at once. */
			if (query_fallback(w->qc, snap, q) != 0)
				worker_tx_add(u, mh, ntx++, q->outlen);
			break;
		}
	}
	query_batch_end(w->qc);
	snapshot_read_end();
	worker_udp_flush(u, ntx);
}

/* Datagrams are waiting on u: read, answer and send them in batches. */
static void
worker_udp_read_cb(evutil_socket_t fd, short events, void *arg)
{
	struct worker_udp	*u = arg;
	unsigned		 round;
	int			 n;

	(void)fd;
	(void)events;
	for (round = 0; round < WORKER_ROUNDS; round++) {
		if ((n = worker_udp_recv(u)) <= 0)
			return;
		worker_udp_answer(u, (unsigned)n);
		if (n < WORKER_BATCH)
			return;
	}
}

/* A UDP client can always be sent to. */
static int
worker_udp_alive(const struct query *q)
{
	(void)q;
	return (1);
}

/*
 * Send a late answer to q's UDP client, from the address it asked: queued
 * (see the top of the file), or at once if it is too large for the queue.
 */
static void
worker_udp_send(struct query *q, const uint8_t *msg, size_t len)
{
	struct worker_late	*l = (struct worker_late *)q;
	struct worker		*w = l->u->w;
	union worker_ctl	 ctl;
	struct msghdr		 mh, *m;
	struct iovec		 iov;
	unsigned		 i;

	if (len <= WORKER_TXBUF && q->fromlen <= sizeof w->lateaddr[0]) {
		if (w->nlate == WORKER_BATCH)
			worker_late_flush(w);
		i = w->nlate++;
		if (i == 0)
			event_active(w->late_ev, EV_TIMEOUT, 1);
		memcpy(w->latebuf[i], msg, len);
		memcpy(&w->lateaddr[i], &q->from, q->fromlen);
		w->lateiov[i].iov_base = w->latebuf[i];
		w->lateiov[i].iov_len = len;
		m = &w->latemsg[i].msg_hdr;
		memset(m, 0, sizeof *m);
		m->msg_name = &w->lateaddr[i];
		m->msg_namelen = q->fromlen;
		m->msg_iov = &w->lateiov[i];
		m->msg_iovlen = 1;
		worker_dst_set(m, &l->dst, &w->latectl[i]);
		w->lateu[i] = l->u;
		return;
	}
	memset(&mh, 0, sizeof mh);
	iov.iov_base = (void *)(uintptr_t)msg;
	iov.iov_len = len;
	mh.msg_name = &q->from;
	mh.msg_namelen = q->fromlen;
	mh.msg_iov = &iov;
	mh.msg_iovlen = 1;
	worker_dst_set(&mh, &l->dst, &ctl);
	if (sendmsg(l->u->sfd, &mh, 0) == -1)
		log_ratelimited("udp send: %s", strerror(errno));
}

/* query.c is done with a UDP query: its record goes back. */
static void
worker_udp_release(struct query *q)
{
	struct worker_late	*l = (struct worker_late *)q;

	pool_put(&l->u->w->late, l);
}

/*
 * A TCP client connects. Over TCP the address is the client's own (no
 * spoofing), so an address of no board is closed at once: it would only
 * be refused, and it must not hold a slot meanwhile. Else take it unless
 * this worker has its share of connections, in all or of that client.
 */
static void
worker_accept_cb(struct evconnlistener *lev, evutil_socket_t fd,
    struct sockaddr *sa, int salen, void *arg)
{
	struct worker		*w = arg;
	const struct snapshot	*snap;
	struct worker_conn	*c;
	struct timeval		 idle, deadline;
	unsigned		 limit, per_client, max_queries;
	int			 board;

	(void)lev;
	snapshot_read_begin();
	snap = snapshot_current();
	board = policy_board_for(snap->policy, sa) != NULL;
	limit = (snap->conf->tcp_max_conns + w->nworkers - 1) / w->nworkers;
	per_client = (snap->conf->tcp_max_conns_client + w->nworkers - 1) /
	    w->nworkers;
	idle.tv_sec = snap->conf->tcp_idle_ms / 1000;
	idle.tv_usec = (snap->conf->tcp_idle_ms % 1000) * 1000;
	deadline.tv_sec = snap->conf->tcp_query_ms / 1000;
	deadline.tv_usec = (snap->conf->tcp_query_ms % 1000) * 1000;
	max_queries = snap->conf->tcp_max_queries;
	snapshot_read_end();
	if (!board || salen <= 0 || (size_t)salen > sizeof c->peer) {
		w->st.tcp_refused++;
		close(fd);
		return;
	}
	if (w->nconns >= limit) {
		w->st.tcp_rejected++;
		close(fd);
		return;
	}
	if (quota_take(w->tcp_clients, sa, 0, per_client) == -1) {
		w->st.tcp_client_limit++;
		close(fd);
		return;
	}
	if ((c = calloc(1, sizeof *c)) == NULL ||
	    (c->bev = bufferevent_socket_new(w->base, fd,
	    BEV_OPT_CLOSE_ON_FREE)) == NULL) {
		quota_give(w->tcp_clients, sa, 0);
		free(c);
		close(fd);
		w->st.tcp_rejected++;
		return;
	}
	c->w = w;
	c->max_queries = max_queries;
	memcpy(&c->peer, sa, (size_t)salen);
	c->peerlen = (socklen_t)salen;
	c->deadline = deadline;
	evtimer_assign(&c->in_ev, w->base, worker_conn_deadline_cb, c);
	evtimer_assign(&c->out_ev, w->base, worker_conn_deadline_cb, c);
	w->st.tcp_accepted++;
	w->nconns++;
	TAILQ_INSERT_TAIL(&w->conns, c, entry);
	bufferevent_setcb(c->bev, worker_conn_read_cb, worker_conn_write_cb,
	    worker_conn_event_cb, c);
	/* RFC 7766 6.2.3: an idle connection is closed after a while. */
	bufferevent_set_timeouts(c->bev, &idle, &idle);
	/*
	 * Read no more than one whole query ahead: a client that sends
	 * faster than it is answered waits in its own socket buffer, not in
	 * our memory.
	 */
	bufferevent_setwatermark(c->bev, EV_READ, 0, 2 + WORKER_TCP_QMAX);
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

/*
 * Queue one answer on a connection, with its two-octet length. Answers
 * the client leaves unread are bounded: worker_conn_process() reads no
 * more queries while WORKER_TCP_OUTPAUSE are queued, so only late
 * answers (forwarded queries) can take it further, and not past
 * WORKER_TCP_OUTMAX; what is queued must be taken within the deadline of
 * the first answer.
 */
static void
worker_conn_send(struct worker_conn *c, const uint8_t *msg, size_t len)
{
	uint8_t	hdr[2];
	size_t	queued;

	if (c->bev == NULL)
		return;
	queued = evbuffer_get_length(bufferevent_get_output(c->bev));
	if (queued > 0 && queued + 2 + len > WORKER_TCP_OUTMAX) {
		/*
		 * The client does not read its answers: drop this one and
		 * read no more from it; the last write, or the deadline on
		 * what is queued, closes it.
		 */
		c->w->st.tcp_unread++;
		c->eof = 1;
		bufferevent_disable(c->bev, EV_READ);
		event_del(&c->in_ev);
		return;
	}
	hdr[0] = len >> 8;
	hdr[1] = len & 0xff;
	bufferevent_write(c->bev, hdr, 2);
	bufferevent_write(c->bev, msg, len);
	/* Until the client has taken it all (worker_conn_write_cb). */
	if (!evtimer_pending(&c->out_ev, NULL))
		evtimer_add(&c->out_ev, &c->deadline);
}

/*
 * After reading: a query only partly here must arrive whole within the
 * deadline of its first octet; a whole one read (progress) starts the
 * next one's deadline. Not reading (paused, full, finished), we wait for
 * nothing here.
 */
static void
worker_conn_in_deadline(struct worker_conn *c, int progress)
{
	if (c->bev == NULL || c->paused || c->full || c->eof ||
	    evbuffer_get_length(bufferevent_get_input(c->bev)) == 0) {
		event_del(&c->in_ev);
		return;
	}
	if (progress || !evtimer_pending(&c->in_ev, NULL))
		evtimer_add(&c->in_ev, &c->deadline);
}

/* A deadline passed: the client is too slow to send, or to read. */
static void
worker_conn_deadline_cb(evutil_socket_t fd, short events, void *arg)
{
	struct worker_conn	*c = arg;

	(void)fd;
	(void)events;
	c->w->st.tcp_deadline++;
	worker_conn_close(c);
}

/*
 * Forward q, read from connection c, in a record of its own. 0, or -1
 * when out of resources (nothing is kept).
 */
static int
worker_tcp_forward(struct worker_conn *c, const struct query *q,
    const struct snapshot *snap)
{
	struct worker_late	*l;

	if ((l = pool_get(&c->w->late)) == NULL)
		return (-1);
	l->q = *q;
	l->u = NULL;
	l->conn = c;
	l->dst.family = 0;
	if (query_forward(c->w->qc, snap, &l->q) == -1) {
		pool_put(&c->w->late, l);
		return (-1);
	}
	c->pending++;
	return (0);
}

/*
 * Answer every complete query in the connection's input buffer. -1 when
 * the connection was closed (and c may be gone), else 0.
 */
static int
worker_conn_process(struct worker_conn *c)
{
	struct worker		*w = c->w;
	const struct snapshot	*snap;
	struct evbuffer		*in;
	struct query		 q;
	uint8_t			 hdr[2];
	size_t			 len;
	int			 progress = 0;

	in = bufferevent_get_input(c->bev);
	q.tp = &worker_tcp_tp;
	memcpy(&q.from, &c->peer, sizeof q.from);
	q.fromlen = c->peerlen;
	clock_gettime(CLOCK_MONOTONIC, &q.received);
	q.out = w->out;
	q.cap = sizeof w->out;
	snapshot_read_begin();
	snap = snapshot_current();
	query_batch_begin(w->qc, &q.received);
	while (!c->eof && c->bev != NULL) {
		if (c->pending >= c->max_queries) {
			/* Enough in flight: read more once answers left. */
			bufferevent_disable(c->bev, EV_READ);
			c->paused = 1;
			break;
		}
		if (evbuffer_get_length(bufferevent_get_output(c->bev)) >=
		    WORKER_TCP_OUTPAUSE) {
			/* Answers queued: read more once they are taken. */
			bufferevent_disable(c->bev, EV_READ);
			c->full = 1;
			break;
		}
		if (evbuffer_copyout(in, hdr, 2) != 2)
			break;
		len = (size_t)hdr[0] << 8 | hdr[1];
		if (len < WORKER_TCP_QMIN || len > WORKER_TCP_QMAX) {
			/*
			 * No query is that short or that long (UDP drops them
			 * too); a client that sends one is not speaking DNS,
			 * so it is told at once rather than left waiting.
			 */
			w->st.dropped++;
			query_batch_end(w->qc);
			snapshot_read_end();
			worker_conn_close(c);
			return (-1);
		}
		if (evbuffer_get_length(in) < 2 + len)
			break;
		evbuffer_drain(in, 2);
		evbuffer_remove(in, w->tcpin, len);
		w->st.tcp_queries++;
		progress = 1;
		switch (query_answer(w->qc, snap, &q, w->tcpin, len)) {
		case QUERY_DROP:
			break;
		case QUERY_SEND:
			worker_conn_send(c, q.out, q.outlen);
			break;
		case QUERY_FORWARD:
			if (worker_tcp_forward(c, &q, snap) == 0)
				break;
			/* Over a limit, out of resources: answer at once. */
			if (query_fallback(w->qc, snap, &q) != 0)
				worker_conn_send(c, q.out, q.outlen);
			break;
		}
	}
	query_batch_end(w->qc);
	snapshot_read_end();
	worker_conn_in_deadline(c, progress);
	return (0);
}

static void
worker_conn_read_cb(struct bufferevent *bev, void *arg)
{
	(void)bev;
	(void)worker_conn_process(arg);
}

/*
 * Everything written: the client has taken its answers in time; one that
 * has finished can now be let go.
 */
static void
worker_conn_write_cb(struct bufferevent *bev, void *arg)
{
	struct worker_conn	*c = arg;

	(void)bev;
	event_del(&c->out_ev);
	if (c->eof && c->pending == 0) {
		worker_conn_close(c);
		return;
	}
	if (c->full) {
		/* Taken: read the queries waiting meanwhile. */
		c->full = 0;
		if (!c->paused && !c->eof)
			bufferevent_enable(c->bev, EV_READ);
		(void)worker_conn_process(c);
	}
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
		event_del(&c->in_ev);
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
		event_del(&c->in_ev);
		event_del(&c->out_ev);
		quota_give(w->tcp_clients, (struct sockaddr *)&c->peer, 0);
		w->nconns--;
	}
	if (c->pending == 0) {
		TAILQ_REMOVE(&w->conns, c, entry);
		free(c);
	}
}

/* Is q's connection still open? */
static int
worker_tcp_alive(const struct query *q)
{
	return (((const struct worker_late *)q)->conn->bev != NULL);
}

/* Send a late answer on q's connection (dropped if it has closed). */
static void
worker_tcp_send(struct query *q, const uint8_t *msg, size_t len)
{
	worker_conn_send(((struct worker_late *)q)->conn, msg, len);
}

/*
 * query.c is done with a TCP query: its record goes back; then the
 * connection's accounting: read again if it waited for room, close it if
 * it was the last answer owed.
 */
static void
worker_tcp_release(struct query *q)
{
	struct worker_conn	*c = ((struct worker_late *)q)->conn;

	pool_put(&c->w->late, q);
	c->pending--;
	if (c->bev == NULL) {
		if (c->pending == 0)
			worker_conn_close(c);
		return;
	}
	/* A connection that stopped reading for good (eof) stays stopped. */
	if (c->paused && !c->eof && c->pending < c->max_queries) {
		c->paused = 0;
		if (!c->full)
			bufferevent_enable(c->bev, EV_READ);
		/* A fresh deadline for a query that waited on us. */
		if (worker_conn_process(c) == -1)
			return;
	}
	if (c->bev != NULL && c->eof && c->pending == 0 &&
	    evbuffer_get_length(bufferevent_get_output(c->bev)) == 0)
		worker_conn_close(c);
}
