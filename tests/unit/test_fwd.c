/*
 * test_fwd.c: unit tests of the upstream forwarder.
 *
 * A fake upstream runs inside the test process on 127.0.0.1 (UDP and TCP on
 * the same kernel-chosen port), on the same event_base as the forwarder,
 * and answers with messages built by ldns in one of several ways (good,
 * silent, wrong ID, wrong question, from another port, TC=1, SERVFAIL,
 * malformed). Every loop run is bounded by a guard timer that fails the
 * test.
 */
#include <sys/types.h>
#include <sys/socket.h>

#include <netinet/in.h>
#include <arpa/inet.h>

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/listener.h>
#include <ldns/ldns.h>

#include "cache.h"
#include "conf.h"
#include "fwd.h"
#include "snapshot.h"
#include "stats.h"
#include "wire.h"

#include <jansson.h>

enum fake_mode {
	FAKE_SILENT,
	FAKE_GOOD,
	FAKE_WRONG_ID,		/* wrong ID first, then right */
	FAKE_WRONG_Q,		/* another question first, then right */
	FAKE_OTHER_PORT,	/* from another port first, then right */
	FAKE_TC,		/* TC=1 over UDP, the answer over TCP */
	FAKE_SERVFAIL,
	FAKE_GARBAGE,		/* right header and question, cut-off RR */
	FAKE_LATE,		/* answers the first query only, after
				   FAKE_LATE_MS */
	FAKE_LOWER,		/* the name in lower case, as an upstream
				   that loses the case does (0x20) */
	FAKE_FORGED,		/* first a forged answer (another address)
				   in lower case, then the right one */
	FAKE_POISON,		/* the answer, and records of other names */
	FAKE_HOLD,		/* answers kept until fake_release() */
};

#define FAKE_LATE_MS	150
#define FAKE_SEEN	256	/* queries whose port and ID are kept */

#define FAKE_MAX_CONNS	4
#define FAKE_HELD	64	/* FAKE_HOLD: answers kept at most */

/* One fake upstream. */
struct fake {
	enum fake_mode		 mode;
	int			 udp;
	int			 other;		/* 2nd UDP socket */
	struct event		*uev;
	struct evconnlistener	*lis;
	struct bufferevent	*conns[FAKE_MAX_CONNS];
	unsigned		 nconns;
	struct conf_sockaddr	 sa;
	unsigned		 udp_queries;
	unsigned		 tcp_queries;
	unsigned		 other_sent;	/* from the 2nd socket */
	uint16_t		 port[FAKE_SEEN];	/* source port and */
	uint16_t		 id[FAKE_SEEN];		/* ID of each query */
	uint8_t			 last_name[WIRE_MAX_NAME]; /* as received */
	struct event		*late;		/* FAKE_LATE: its timer */
	uint8_t			 late_ans[4096];
	size_t			 late_len;
	struct sockaddr_storage	 late_to;
	socklen_t		 late_tolen;
	int			 last_do;
	uint8_t			*held[FAKE_HELD];	/* FAKE_HOLD */
	size_t			 heldlen[FAKE_HELD];
	struct sockaddr_storage	 heldto[FAKE_HELD];
	socklen_t		 heldtolen[FAKE_HELD];
	unsigned		 nheld;
};

/* What one callback saw. */
struct result {
	int		called;
	int		ok;		/* msg != NULL */
	uint16_t	qid;		/* the waiter's own client ID */
	int		rcode;
	uint16_t	ancount;
	int		requery;	/* ask again from the callback */
};

/* A lookup of q now, fresh entries only, for a TCP-sized client. */
#define REQ(q)	(&(struct cache_req){ (q), cache_now(), 0, 65535, NULL, NULL })

static struct event_base *base;
static struct cache	*cache;
static struct fwd	*fwd;
static unsigned		 ndone;
static int		 expired;

/* Build the answer to query qpkt; see fake_mode. */
static uint8_t *
fake_answer(const uint8_t *qpkt, size_t qlen, int id_delta, int rcode,
    int tc, const char *qname, int edns, size_t *outlen)
{
	ldns_pkt	*qp, *ap;
	ldns_rr		*qrr, *rr;
	ldns_rdf	*owner;
	uint8_t		*out = NULL;
	char		*name, text[512];

	assert_int_equal(ldns_wire2pkt(&qp, qpkt, qlen), LDNS_STATUS_OK);
	ap = ldns_pkt_new();
	assert_non_null(ap);
	ldns_pkt_set_id(ap, (uint16_t)(ldns_pkt_id(qp) + id_delta));
	ldns_pkt_set_qr(ap, 1);
	ldns_pkt_set_rd(ap, 1);
	ldns_pkt_set_ra(ap, 1);
	ldns_pkt_set_tc(ap, tc);
	ldns_pkt_set_rcode(ap, (uint8_t)rcode);
	if (qname != NULL) {
		snprintf(text, sizeof text, "%s IN A", qname);
		assert_int_equal(ldns_rr_new_question_frm_str(&qrr, text,
		    NULL, NULL), LDNS_STATUS_OK);
	} else
		qrr = ldns_rr_clone(ldns_rr_list_rr(ldns_pkt_question(qp), 0));
	ldns_pkt_push_rr(ap, LDNS_SECTION_QUESTION, qrr);
	if (rcode == LDNS_RCODE_NOERROR && !tc) {
		owner = ldns_rr_owner(qrr);
		name = ldns_rdf2str(owner);
		snprintf(text, sizeof text, "%s 300 IN A 192.0.2.1", name);
		free(name);
		assert_int_equal(ldns_rr_new_frm_str(&rr, text, 0, NULL, NULL),
		    LDNS_STATUS_OK);
		ldns_pkt_push_rr(ap, LDNS_SECTION_ANSWER, rr);
	}
	if (edns) {
		ldns_pkt_set_edns_udp_size(ap, 1232);
		ldns_pkt_set_edns_do(ap, ldns_pkt_edns_do(qp));
	}
	assert_int_equal(ldns_pkt2wire(&out, ap, outlen), LDNS_STATUS_OK);
	ldns_pkt_free(ap);
	ldns_pkt_free(qp);
	return (out);
}

/*
 * The good answer to query qpkt with a poisoning attempt around it: an
 * address for another name in the answer section, NS records for a bank
 * in the authority section and their glue in the additional section.
 */
static uint8_t *
fake_poison(const uint8_t *qpkt, size_t qlen, size_t *outlen)
{
	static const char *const extra[] = {
	    "www.bank.example. 86400 IN A 203.0.113.66",
	    "bank.example. 86400 IN NS ns.evil.example.",
	    "ns.evil.example. 86400 IN A 203.0.113.53" };
	static const ldns_pkt_section sec[] = { LDNS_SECTION_ANSWER,
	    LDNS_SECTION_AUTHORITY, LDNS_SECTION_ADDITIONAL };
	ldns_pkt	*ap;
	ldns_rr		*rr;
	uint8_t		*good, *out = NULL;
	size_t		 len, i;

	good = fake_answer(qpkt, qlen, 0, 0, 0, NULL, 1, &len);
	assert_int_equal(ldns_wire2pkt(&ap, good, len), LDNS_STATUS_OK);
	free(good);
	for (i = 0; i < 3; i++) {
		assert_int_equal(ldns_rr_new_frm_str(&rr, extra[i], 0, NULL,
		    NULL), LDNS_STATUS_OK);
		ldns_pkt_push_rr(ap, sec[i], rr);
	}
	assert_int_equal(ldns_pkt2wire(&out, ap, outlen), LDNS_STATUS_OK);
	ldns_pkt_free(ap);
	return (out);
}

/* Send an answer built by fake_answer() from fd to sa, and free it. */
static void
fake_send(int fd, uint8_t *ans, size_t len, const struct sockaddr_storage *to,
    socklen_t tolen)
{
	assert_int_equal(sendto(fd, ans, len, 0, (const struct sockaddr *)to,
	    tolen), (ssize_t)len);
	free(ans);
}

/* Queries on the fake's UDP socket. */
static void
fake_udp_cb(int fd, short events, void *arg)
{
	struct fake		*fk = arg;
	struct sockaddr_storage	 from;
	socklen_t		 fromlen;
	struct wire_query	 q;
	uint8_t			 buf[4096], *ans;
	ssize_t			 n;
	size_t			 alen;
	int			 i;
	static const struct timeval late_tv = { 0, FAKE_LATE_MS * 1000 };

	(void)events;
	for (i = 0; i < 16; i++) {
		fromlen = sizeof from;
		n = recvfrom(fd, buf, sizeof buf, 0, (struct sockaddr *)&from,
		    &fromlen);
		if (n == -1)
			return;
		assert_int_equal(wire_parse_query(buf, (size_t)n, &q), WIRE_OK);
		if (fk->udp_queries < FAKE_SEEN) {
			fk->port[fk->udp_queries] =
			    ntohs(((struct sockaddr_in *)&from)->sin_port);
			fk->id[fk->udp_queries] = q.id;
		}
		fk->udp_queries++;
		memcpy(fk->last_name, q.name, q.name_len);
		fk->last_do = q.do_bit;
		switch (fk->mode) {
		case FAKE_SILENT:
			break;
		case FAKE_GOOD:
			ans = fake_answer(buf, n, 0, 0, 0, NULL, 1, &alen);
			fake_send(fd, ans, alen, &from, fromlen);
			break;
		case FAKE_WRONG_ID:
			ans = fake_answer(buf, n, 1, 0, 0, NULL, 1, &alen);
			fake_send(fd, ans, alen, &from, fromlen);
			ans = fake_answer(buf, n, 0, 0, 0, NULL, 1, &alen);
			fake_send(fd, ans, alen, &from, fromlen);
			break;
		case FAKE_WRONG_Q:
			ans = fake_answer(buf, n, 0, 0, 0, "other.example.",
			    1, &alen);
			fake_send(fd, ans, alen, &from, fromlen);
			ans = fake_answer(buf, n, 0, 0, 0, NULL, 1, &alen);
			fake_send(fd, ans, alen, &from, fromlen);
			break;
		case FAKE_OTHER_PORT:
			ans = fake_answer(buf, n, 0, 0, 0, NULL, 1, &alen);
			fake_send(fk->other, ans, alen, &from, fromlen);
			fk->other_sent++;
			ans = fake_answer(buf, n, 0, 0, 0, NULL, 1, &alen);
			fake_send(fd, ans, alen, &from, fromlen);
			break;
		case FAKE_TC:
			ans = fake_answer(buf, n, 0, 0, 1, NULL, 1, &alen);
			fake_send(fd, ans, alen, &from, fromlen);
			break;
		case FAKE_SERVFAIL:
			ans = fake_answer(buf, n, 0, LDNS_RCODE_SERVFAIL, 0,
			    NULL, 1, &alen);
			fake_send(fd, ans, alen, &from, fromlen);
			break;
		case FAKE_GARBAGE:
			/* No OPT, so cutting the end cuts the A record. */
			ans = fake_answer(buf, n, 0, 0, 0, NULL, 0, &alen);
			fake_send(fd, ans, alen - 3, &from, fromlen);
			break;
		case FAKE_LOWER:
			ans = fake_answer(buf, n, 0, 0, 0, NULL, 1, &alen);
			wire_lower(ans + WIRE_HDR_LEN, ans + WIRE_HDR_LEN,
			    q.name_len);
			fake_send(fd, ans, alen, &from, fromlen);
			break;
		case FAKE_FORGED:
			ans = fake_answer(buf, n, 0, 0, 0, NULL, 1, &alen);
			wire_lower(ans + WIRE_HDR_LEN, ans + WIRE_HDR_LEN,
			    q.name_len);
			/* The A record's address, last: 198.51.100.66. */
			memcpy(ans + alen - 4 - WIRE_OPT_LEN,
			    "\xc6\x33\x64\x42", 4);
			fake_send(fd, ans, alen, &from, fromlen);
			ans = fake_answer(buf, n, 0, 0, 0, NULL, 1, &alen);
			fake_send(fd, ans, alen, &from, fromlen);
			break;
		case FAKE_LATE:
			if (fk->udp_queries > 1)
				break;
			ans = fake_answer(buf, n, 0, 0, 0, NULL, 1, &alen);
			assert_true(alen <= sizeof fk->late_ans);
			memcpy(fk->late_ans, ans, alen);
			free(ans);
			fk->late_len = alen;
			fk->late_to = from;
			fk->late_tolen = fromlen;
			evtimer_add(fk->late, &late_tv);
			break;
		case FAKE_POISON:
			ans = fake_poison(buf, n, &alen);
			fake_send(fd, ans, alen, &from, fromlen);
			break;
		case FAKE_HOLD:
			assert_true(fk->nheld < FAKE_HELD);
			fk->held[fk->nheld] = fake_answer(buf, n, 0, 0, 0, NULL,
			    1, &fk->heldlen[fk->nheld]);
			fk->heldto[fk->nheld] = from;
			fk->heldtolen[fk->nheld] = fromlen;
			fk->nheld++;
			break;
		}
	}
}

/* FAKE_LATE: the answer to the first query, late. */
static void
fake_late_cb(int fd, short events, void *arg)
{
	struct fake	*fk = arg;

	(void)fd;
	(void)events;
	assert_int_equal(sendto(fk->udp, fk->late_ans, fk->late_len, 0,
	    (struct sockaddr *)&fk->late_to, fk->late_tolen),
	    (ssize_t)fk->late_len);
}

/*
 * FAKE_HOLD: send every answer kept, at once, outside the loop, and give
 * loopback the moment it takes to queue them on the forwarder's socket
 * (it delivers in the sender's context unless the kernel defers that to
 * ksoftirqd): the next loop pass finds them all waiting there.
 */
static void
fake_release(struct fake *fk)
{
	struct timespec	ts = { 0, 20 * 1000 * 1000 };
	unsigned	i;

	for (i = 0; i < fk->nheld; i++)
		fake_send(fk->udp, fk->held[i], fk->heldlen[i], &fk->heldto[i],
		    fk->heldtolen[i]);
	fk->nheld = 0;
	nanosleep(&ts, NULL);
}

/* A length-prefixed query on a TCP connection to the fake. */
static void
fake_tcp_read_cb(struct bufferevent *bev, void *arg)
{
	struct fake	*fk = arg;
	struct evbuffer	*in = bufferevent_get_input(bev);
	uint8_t		 buf[4096], lenbuf[2], *ans;
	size_t		 len, alen;

	if (evbuffer_copyout(in, lenbuf, 2) != 2)
		return;
	len = (size_t)lenbuf[0] << 8 | lenbuf[1];
	assert_true(len <= sizeof buf);
	if (evbuffer_get_length(in) < 2 + len)
		return;
	evbuffer_drain(in, 2);
	assert_int_equal(evbuffer_remove(in, buf, len), (int)len);
	fk->tcp_queries++;
	ans = fake_answer(buf, len, 0, 0, 0, NULL, 1, &alen);
	lenbuf[0] = alen >> 8;
	lenbuf[1] = alen & 0xff;
	bufferevent_write(bev, lenbuf, 2);
	bufferevent_write(bev, ans, alen);
	free(ans);
}

/* A TCP connection to the fake. */
static void
fake_accept_cb(struct evconnlistener *lis, evutil_socket_t fd,
    struct sockaddr *sa, int salen, void *arg)
{
	struct fake		*fk = arg;
	struct bufferevent	*bev;

	(void)lis;
	(void)sa;
	(void)salen;
	assert_true(fk->nconns < FAKE_MAX_CONNS);
	bev = bufferevent_socket_new(base, fd, BEV_OPT_CLOSE_ON_FREE);
	assert_non_null(bev);
	bufferevent_setcb(bev, fake_tcp_read_cb, NULL, NULL, fk);
	bufferevent_enable(bev, EV_READ);
	fk->conns[fk->nconns++] = bev;
}

/* A fake upstream on 127.0.0.1, UDP and TCP on one kernel-chosen port. */
static struct fake *
fake_new(enum fake_mode mode)
{
	struct fake		*fk;
	struct sockaddr_in	 sin;
	socklen_t		 len;
	int			 tcp, i, one = 1;

	fk = calloc(1, sizeof *fk);
	assert_non_null(fk);
	fk->mode = mode;
	for (i = 0; i < 20; i++) {
		memset(&sin, 0, sizeof sin);
		sin.sin_family = AF_INET;
		sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		tcp = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
		assert_true(tcp != -1);
		setsockopt(tcp, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
		assert_int_equal(bind(tcp, (struct sockaddr *)&sin,
		    sizeof sin), 0);
		len = sizeof sin;
		assert_int_equal(getsockname(tcp, (struct sockaddr *)&sin,
		    &len), 0);
		fk->udp = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0);
		assert_true(fk->udp != -1);
		if (bind(fk->udp, (struct sockaddr *)&sin, sizeof sin) == 0)
			break;
		close(fk->udp);
		close(tcp);
	}
	assert_true(i < 20);
	fk->lis = evconnlistener_new(base, fake_accept_cb, fk,
	    LEV_OPT_CLOSE_ON_FREE, 16, tcp);
	assert_non_null(fk->lis);
	memcpy(&fk->sa.ss, &sin, sizeof sin);
	fk->sa.len = sizeof sin;

	fk->uev = event_new(base, fk->udp, EV_READ | EV_PERSIST, fake_udp_cb,
	    fk);
	assert_non_null(fk->uev);
	assert_int_equal(event_add(fk->uev, NULL), 0);
	fk->late = evtimer_new(base, fake_late_cb, fk);
	assert_non_null(fk->late);

	/* The second socket: same address, another port. */
	fk->other = socket(AF_INET, SOCK_DGRAM, 0);
	assert_true(fk->other != -1);
	sin.sin_port = 0;
	assert_int_equal(bind(fk->other, (struct sockaddr *)&sin, sizeof sin),
	    0);
	return (fk);
}

static void
fake_free(struct fake *fk)
{
	unsigned	i;

	for (i = 0; i < fk->nconns; i++)
		bufferevent_free(fk->conns[i]);
	for (i = 0; i < fk->nheld; i++)
		free(fk->held[i]);
	evconnlistener_free(fk->lis);
	event_free(fk->uev);
	event_free(fk->late);
	close(fk->udp);
	close(fk->other);
	free(fk);
}

/* Make the parsed client query for name/type with the given DO and ID. */
static void
make_query(struct wire_query *q, const char *name, int do_bit, uint16_t id)
{
	ldns_pkt	*p;
	uint8_t		*wire = NULL;
	size_t		 len;

	assert_int_equal(ldns_pkt_query_new_frm_str(&p, name, LDNS_RR_TYPE_A,
	    LDNS_RR_CLASS_IN, LDNS_RD), LDNS_STATUS_OK);
	ldns_pkt_set_id(p, id);
	ldns_pkt_set_edns_udp_size(p, 1232);
	ldns_pkt_set_edns_do(p, do_bit);
	assert_int_equal(ldns_pkt2wire(&wire, p, &len), LDNS_STATUS_OK);
	assert_int_equal(wire_parse_query(wire, len, q), WIRE_OK);
	assert_int_equal(q->do_bit != 0, do_bit != 0);
	free(wire);
	ldns_pkt_free(p);
}

static struct fwd_upstreams ups_cur;
static struct conf_sockaddr ups_addrs[4];
static const struct wire_query *requery_q;

static uint64_t	last_mask;	/* bits passed to the last callback */

/* The callback of every fwd_query() in these tests. */
static void
done_cb(void *arg, const struct wire_query *q, const uint8_t *msg,
    const struct wire_scan *sc, uint64_t mask)
{
	struct result	*r = arg;

	/* No inspector in these tests but one: its bits are 0x5 or 0. */
	assert_true(mask == 0 || (mask == 0x5 && msg != NULL));
	last_mask = mask;

	r->called++;
	r->qid = q->id;
	r->ok = msg != NULL;
	assert_true((msg == NULL) == (sc == NULL));
	if (msg != NULL) {
		r->rcode = sc->rcode;
		r->ancount = sc->ancount;
	}
	ndone++;
	/* Re-entrancy: the job of q is gone, so this starts a new one. */
	if (r->requery) {
		r->requery = 0;
		assert_int_equal(fwd_query(fwd, &ups_cur, requery_q, done_cb,
		    r), 0);
	}
}

/* The guard timer: the loop ran too long. */
static void
guard_cb(int fd, short events, void *arg)
{
	(void)fd;
	(void)events;
	(void)arg;
	expired = 1;
	event_base_loopbreak(base);
}

/* Run the loop until *count reaches want, or fail after 5 seconds. */
static void
run_count(const unsigned *count, unsigned want)
{
	struct event	*guard;
	struct timeval	 tv = { 5, 0 };
	int		 i;

	expired = 0;
	guard = evtimer_new(base, guard_cb, NULL);
	assert_non_null(guard);
	evtimer_add(guard, &tv);
	for (i = 0; i < 100000 && *count < want && !expired; i++)
		event_base_loop(base, EVLOOP_ONCE);
	event_free(guard);
	assert_false(expired);
	assert_int_equal(*count, want);
}

/* Run the loop until ndone reaches want, or fail after 5 seconds. */
static void
run_until(unsigned want)
{
	run_count(&ndone, want);
}

/* Run the loop for about ms milliseconds (to see that nothing happens). */
static void
run_for(long ms)
{
	struct event	*guard;
	struct timeval	 tv = { 0, ms * 1000 };
	int		 i;

	expired = 0;
	guard = evtimer_new(base, guard_cb, NULL);
	assert_non_null(guard);
	evtimer_add(guard, &tv);
	for (i = 0; i < 100000 && !expired; i++)
		event_base_loop(base, EVLOOP_ONCE);
	event_free(guard);
}

/* Run the loop until fk holds n answers (FAKE_HOLD), or fail after 5 s. */
static void
run_until_held(struct fake *fk, unsigned n)
{
	run_count(&fk->nheld, n);
}

/* Use these fakes as the upstreams, in this order. */
static void
set_ups(struct fake **fk, size_t n, uint32_t timeout_ms, unsigned attempts)
{
	size_t	i;

	for (i = 0; i < n; i++)
		ups_addrs[i] = fk[i]->sa;
	ups_cur.addrs = ups_addrs;
	ups_cur.n = n;
	ups_cur.timeout_ms = timeout_ms;
	ups_cur.attempts = attempts;
}

static int
setup(void **state)
{
	(void)state;
	base = event_base_new();
	cache = cache_new(1 << 20, 0, 86400, 3600);
	fwd = fwd_new(base, cache, NULL);
	if (base == NULL || cache == NULL || fwd == NULL)
		return (-1);
	ndone = 0;
	return (0);
}

static int
teardown(void **state)
{
	struct fwd_stats	st;

	(void)state;
	if (fwd != NULL) {
		fwd_stats(fwd, &st);
		assert_int_equal(st.in_flight, 0);
	}
	fwd_free(fwd);
	cache_free(cache);
	event_base_free(base);
	fwd = NULL;
	return (0);
}

/* Ask one question of the fakes; returns the stats afterwards. */
static void
ask_one(struct fake **fk, size_t n, uint32_t timeout_ms, unsigned attempts,
    struct result *r, struct fwd_stats *st)
{
	struct wire_query	q;

	set_ups(fk, n, timeout_ms, attempts);
	make_query(&q, "www.example.nl.", 0, 4242);
	assert_int_equal(fwd_query(fwd, &ups_cur, &q, done_cb, r), 0);
	assert_int_equal(r->called, 0);		/* never synchronously */
	run_until(1);
	assert_int_equal(r->called, 1);
	assert_int_equal(r->qid, 4242);
	fwd_stats(fwd, st);
	assert_int_equal(st->in_flight, 0);
}

static void
test_good(void **state)
{
	struct fake		*fk = fake_new(FAKE_GOOD);
	struct result		 r = { 0 };
	struct fwd_stats	 st;
	struct wire_query	 q;
	uint8_t			 out[4096];
	size_t			 outlen;

	(void)state;
	make_query(&q, "www.example.nl.", 0, 7);
	assert_int_equal(cache_lookup(cache, REQ(&q), out, sizeof out,
	    &outlen, NULL), CACHE_MISS);
	ask_one(&fk, 1, 1000, 3, &r, &st);
	assert_true(r.ok);
	assert_int_equal(r.rcode, WIRE_NOERROR);
	assert_int_equal(r.ancount, 1);
	assert_int_equal(st.queries, 1);
	assert_int_equal(st.mismatched, 0);
	assert_int_equal(st.timeouts, 0);
	assert_int_equal(fk->udp_queries, 1);
	/* The answer is now in the cache. */
	assert_int_equal(cache_lookup(cache, REQ(&q), out, sizeof out,
	    &outlen, NULL), CACHE_HIT);
	assert_true(outlen > WIRE_HDR_LEN);
	assert_int_equal(out[0] << 8 | out[1], 7);
	fake_free(fk);
}

/* The inspector: called once per answer; its bits reach cache and waiters. */
static unsigned	inspect_calls;

static uint64_t
inspect_fn(void *arg, const uint8_t *msg, size_t len, uint32_t *gen)
{
	assert_ptr_equal(arg, &inspect_calls);
	assert_true(len > WIRE_HDR_LEN);
	assert_int_equal(msg[2] & 0x80, 0x80);	/* an answer, QR set */
	inspect_calls++;
	*gen = 9;
	return (0x5);
}

static void
test_inspect(void **state)
{
	struct fake		*fk = fake_new(FAKE_GOOD);
	struct fwd_inspect	 ins = { inspect_fn, &inspect_calls };
	struct result		 r = { 0 };
	struct fwd_stats	 st;
	struct wire_query	 q;
	uint8_t			 out[4096];
	size_t			 outlen;
	uint64_t		 mask = 0;

	(void)state;
	fwd_free(fwd);
	assert_non_null(fwd = fwd_new(base, cache, &ins));
	inspect_calls = 0;
	last_mask = 0;
	make_query(&q, "www.example.nl.", 0, 7);
	ask_one(&fk, 1, 1000, 3, &r, &st);
	assert_true(r.ok);
	assert_int_equal(inspect_calls, 1);
	assert_int_equal(last_mask, 0x5);
	/* Stored with the answer, as generation 9. */
	assert_int_equal(cache_lookup(cache, REQ(&q), out, sizeof out,
	    &outlen, &mask), CACHE_HIT);
	assert_int_equal(mask, 0x5);
	fake_free(fk);
}

static void
test_wrong_id(void **state)
{
	struct fake		*fk = fake_new(FAKE_WRONG_ID);
	struct result		 r = { 0 };
	struct fwd_stats	 st;

	(void)state;
	ask_one(&fk, 1, 1000, 3, &r, &st);
	assert_true(r.ok);
	assert_int_equal(st.mismatched, 1);
	assert_int_equal(st.queries, 1);
	fake_free(fk);
}

static void
test_wrong_question(void **state)
{
	struct fake		*fk = fake_new(FAKE_WRONG_Q);
	struct result		 r = { 0 };
	struct fwd_stats	 st;

	(void)state;
	ask_one(&fk, 1, 1000, 3, &r, &st);
	assert_true(r.ok);
	assert_int_equal(r.ancount, 1);
	assert_int_equal(st.mismatched, 1);
	assert_int_equal(st.queries, 1);
	fake_free(fk);
}

/*
 * The upstream socket is connected: an answer from another port of the
 * upstream's address never reaches the forwarder (not even to be counted
 * as mismatched), and the real one is taken.
 */
static void
test_other_port(void **state)
{
	struct fake		*fk = fake_new(FAKE_OTHER_PORT);
	struct result		 r = { 0 };
	struct fwd_stats	 st;

	(void)state;
	ask_one(&fk, 1, 1000, 3, &r, &st);
	assert_true(r.ok);
	assert_int_equal(st.mismatched, 0);
	assert_int_equal(st.queries, 1);
	assert_int_equal(fk->other_sent, 1);
	fake_free(fk);
}

static void
test_timeout_retry(void **state)
{
	struct fake		*fk[2];
	struct result		 r = { 0 };
	struct fwd_stats	 st;

	(void)state;
	fk[0] = fake_new(FAKE_SILENT);
	fk[1] = fake_new(FAKE_GOOD);
	ask_one(fk, 2, 100, 3, &r, &st);
	assert_true(r.ok);
	assert_int_equal(st.timeouts, 1);
	assert_int_equal(st.queries, 2);
	assert_int_equal(st.failures, 0);
	assert_int_equal(fk[0]->udp_queries, 1);
	assert_int_equal(fk[1]->udp_queries, 1);
	fake_free(fk[0]);
	fake_free(fk[1]);
}

static void
test_tc_tcp(void **state)
{
	struct fake		*fk = fake_new(FAKE_TC);
	struct result		 r = { 0 };
	struct fwd_stats	 st;

	(void)state;
	ask_one(&fk, 1, 1000, 3, &r, &st);
	assert_true(r.ok);
	assert_int_equal(r.ancount, 1);
	assert_int_equal(st.tcp_queries, 1);
	assert_int_equal(st.queries, 2);
	assert_int_equal(fk->udp_queries, 1);
	assert_int_equal(fk->tcp_queries, 1);
	fake_free(fk);
}

static void
test_servfail_next(void **state)
{
	struct fake		*fk[2];
	struct result		 r = { 0 };
	struct fwd_stats	 st;

	(void)state;
	fk[0] = fake_new(FAKE_SERVFAIL);
	fk[1] = fake_new(FAKE_GOOD);
	ask_one(fk, 2, 1000, 3, &r, &st);
	assert_true(r.ok);
	assert_int_equal(r.rcode, WIRE_NOERROR);
	assert_int_equal(st.queries, 2);
	assert_int_equal(st.timeouts, 0);
	assert_int_equal(fk[0]->udp_queries, 1);
	assert_int_equal(fk[1]->udp_queries, 1);
	fake_free(fk[0]);
	fake_free(fk[1]);
}

static void
test_all_silent(void **state)
{
	struct fake		*fk[2];
	struct result		 r = { 0 };
	struct fwd_stats	 st;

	(void)state;
	fk[0] = fake_new(FAKE_SILENT);
	fk[1] = fake_new(FAKE_SILENT);
	ask_one(fk, 2, 50, 3, &r, &st);
	assert_false(r.ok);
	assert_int_equal(st.failures, 1);
	assert_int_equal(st.timeouts, 3);
	assert_int_equal(st.queries, 3);
	/* Attempts go round the list: 1, 2, 1. */
	assert_int_equal(fk[0]->udp_queries, 2);
	assert_int_equal(fk[1]->udp_queries, 1);
	fake_free(fk[0]);
	fake_free(fk[1]);
}

static void
test_all_servfail(void **state)
{
	struct fake		*fk = fake_new(FAKE_SERVFAIL);
	struct result		 r = { 0 };
	struct fwd_stats	 st;
	struct wire_query	 q;
	uint8_t			 out[4096];
	size_t			 outlen;

	(void)state;
	ask_one(&fk, 1, 1000, 2, &r, &st);
	assert_false(r.ok);
	assert_int_equal(st.failures, 1);
	assert_int_equal(fk->udp_queries, 2);
	/* The failure is remembered for a while (RFC 9520), no longer. */
	make_query(&q, "www.example.nl.", 0, 7);
	assert_int_equal(cache_lookup(cache, REQ(&q), out, sizeof out,
	    &outlen, NULL), CACHE_FAILED);
	assert_int_equal(cache_lookup(cache, &(struct cache_req){ &q,
	    cache_now() + CACHE_FAILURE_TTL, 0, 65535, NULL, NULL },
	    out, sizeof out, &outlen, NULL), CACHE_MISS);
	fake_free(fk);
}

static void
test_garbage(void **state)
{
	struct fake		*fk[2];
	struct result		 r = { 0 };
	struct fwd_stats	 st;

	(void)state;
	fk[0] = fake_new(FAKE_GARBAGE);
	fk[1] = fake_new(FAKE_GOOD);
	ask_one(fk, 2, 1000, 3, &r, &st);
	assert_true(r.ok);
	assert_int_equal(st.malformed, 1);
	assert_int_equal(st.mismatched, 0);
	assert_int_equal(fk[1]->udp_queries, 1);
	fake_free(fk[0]);
	fake_free(fk[1]);
}

/*
 * Records of other names in an answer are neither passed on nor cached;
 * the answer is, and the dropped records are counted.
 */
static void
test_poison(void **state)
{
	struct fake		*fk = fake_new(FAKE_POISON);
	struct result		 r = { 0 };
	struct fwd_stats	 st;
	struct wire_query	 q, other;
	ldns_pkt		*pkt;
	uint8_t			 out[4096];
	size_t			 outlen;

	(void)state;
	ask_one(&fk, 1, 1000, 3, &r, &st);
	assert_true(r.ok);
	assert_int_equal(r.ancount, 1);
	assert_int_equal(st.scrubbed, 3);
	assert_int_equal(st.malformed, 0);

	make_query(&q, "www.example.nl.", 0, 7);
	assert_int_equal(cache_lookup(cache, REQ(&q), out, sizeof out,
	    &outlen, NULL), CACHE_HIT);
	assert_int_equal(ldns_wire2pkt(&pkt, out, outlen), LDNS_STATUS_OK);
	assert_int_equal(ldns_pkt_ancount(pkt), 1);
	assert_int_equal(ldns_pkt_nscount(pkt), 0);
	assert_int_equal(ldns_pkt_arcount(pkt), 0);
	ldns_pkt_free(pkt);
	make_query(&other, "www.bank.example.", 0, 8);
	assert_int_equal(cache_lookup(cache, REQ(&other), out, sizeof out,
	    &outlen, NULL), CACHE_MISS);
	fake_free(fk);
}

static void
test_coalesce(void **state)
{
	struct fake		*fk = fake_new(FAKE_GOOD);
	struct result		 r1 = { 0 }, r2 = { 0 };
	struct fwd_stats	 st;
	struct wire_query	 q1, q2;

	(void)state;
	set_ups(&fk, 1, 1000, 3);
	/* Same question, other spelling and client ID. */
	make_query(&q1, "www.example.nl.", 0, 1);
	make_query(&q2, "WWW.Example.NL.", 0, 2);
	assert_int_equal(fwd_query(fwd, &ups_cur, &q1, done_cb, &r1), 0);
	assert_int_equal(fwd_query(fwd, &ups_cur, &q2, done_cb, &r2), 0);
	fwd_stats(fwd, &st);
	assert_int_equal(st.in_flight, 1);
	assert_int_equal(st.coalesced, 1);
	run_until(2);
	assert_int_equal(fk->udp_queries, 1);
	assert_true(r1.ok && r2.ok);
	/* Each waiter gets its own query back. */
	assert_int_equal(r1.qid, 1);
	assert_int_equal(r2.qid, 2);
	fwd_stats(fwd, &st);
	assert_int_equal(st.queries, 1);
	fake_free(fk);
}

static void
test_do_bit_apart(void **state)
{
	struct fake		*fk = fake_new(FAKE_GOOD);
	struct result		 r1 = { 0 }, r2 = { 0 };
	struct fwd_stats	 st;
	struct wire_query	 q1, q2;

	(void)state;
	set_ups(&fk, 1, 1000, 3);
	make_query(&q1, "www.example.nl.", 0, 1);
	make_query(&q2, "www.example.nl.", 1, 2);
	assert_int_equal(fwd_query(fwd, &ups_cur, &q1, done_cb, &r1), 0);
	assert_int_equal(fwd_query(fwd, &ups_cur, &q2, done_cb, &r2), 0);
	run_until(2);
	assert_int_equal(fk->udp_queries, 2);
	assert_true(r1.ok && r2.ok);
	fwd_stats(fwd, &st);
	assert_int_equal(st.coalesced, 0);
	assert_int_equal(st.queries, 2);
	fake_free(fk);
}

/* A CD=1 question is not coalesced with a CD=0 one: it was not validated. */
static void
test_cd_bit_apart(void **state)
{
	struct fake		*fk = fake_new(FAKE_GOOD);
	struct result		 r1 = { 0 }, r2 = { 0 };
	struct fwd_stats	 st;
	struct wire_query	 q1, q2;

	(void)state;
	set_ups(&fk, 1, 1000, 3);
	make_query(&q1, "www.example.nl.", 0, 1);
	make_query(&q2, "www.example.nl.", 0, 2);
	q2.flags |= WIRE_CD;
	assert_int_equal(fwd_query(fwd, &ups_cur, &q1, done_cb, &r1), 0);
	assert_int_equal(fwd_query(fwd, &ups_cur, &q2, done_cb, &r2), 0);
	run_until(2);
	assert_int_equal(fk->udp_queries, 2);
	fwd_stats(fwd, &st);
	assert_int_equal(st.coalesced, 0);
	fake_free(fk);
}

/* Beyond the limit a new question is refused; coalescing still works. */
static void
test_job_limit(void **state)
{
	struct fake		*fk = fake_new(FAKE_GOOD);
	struct result		 r1 = { 0 }, r2 = { 0 }, r3 = { 0 };
	struct fwd_stats	 st;
	struct wire_query	 q1, q2, q3;

	(void)state;
	set_ups(&fk, 1, 1000, 3);
	fwd_set_limit(fwd, 1);
	make_query(&q1, "www.example.nl.", 0, 1);
	make_query(&q2, "www.example.nl.", 0, 2);
	make_query(&q3, "mail.example.nl.", 0, 3);
	assert_int_equal(fwd_query(fwd, &ups_cur, &q1, done_cb, &r1), 0);
	assert_int_equal(fwd_query(fwd, &ups_cur, &q2, done_cb, &r2), 0);
	assert_int_equal(fwd_query(fwd, &ups_cur, &q3, done_cb, &r3), -1);
	run_until(2);
	assert_true(r1.ok && r2.ok);
	assert_int_equal(r3.called, 0);
	fwd_stats(fwd, &st);
	assert_int_equal(st.overload, 1);
	assert_int_equal(st.coalesced, 1);
	/* Once settled there is room again. */
	assert_int_equal(fwd_query(fwd, &ups_cur, &q3, done_cb, &r3), 0);
	run_until(3);
	assert_true(r3.ok);
	fake_free(fk);
}

static void
test_requery_from_cb(void **state)
{
	struct fake		*fk = fake_new(FAKE_GOOD);
	struct result		 r = { 0 };
	struct fwd_stats	 st;
	struct wire_query	 q;

	(void)state;
	set_ups(&fk, 1, 1000, 3);
	make_query(&q, "www.example.nl.", 0, 9);
	requery_q = &q;
	r.requery = 1;
	assert_int_equal(fwd_query(fwd, &ups_cur, &q, done_cb, &r), 0);
	run_until(2);
	assert_int_equal(r.called, 2);
	assert_int_equal(fk->udp_queries, 2);
	fwd_stats(fwd, &st);
	assert_int_equal(st.coalesced, 0);
	fake_free(fk);
}

static void
test_sync_failure(void **state)
{
	struct conf_sockaddr	 bad;
	struct result		 r = { 0 };
	struct fwd_stats	 st;
	struct wire_query	 q;

	(void)state;
	/* No socket can be made for this family: every send fails. */
	memset(&bad, 0, sizeof bad);
	bad.ss.ss_family = AF_UNSPEC;
	bad.len = sizeof(struct sockaddr_in);
	ups_cur.addrs = &bad;
	ups_cur.n = 1;
	ups_cur.timeout_ms = 1000;
	ups_cur.attempts = 2;
	make_query(&q, "www.example.nl.", 0, 5);
	assert_int_equal(fwd_query(fwd, &ups_cur, &q, done_cb, &r), 0);
	assert_int_equal(r.called, 0);
	run_until(1);
	assert_int_equal(r.called, 1);
	assert_false(r.ok);
	fwd_stats(fwd, &st);
	assert_int_equal(st.failures, 1);
	assert_int_equal(st.queries, 0);
	assert_int_equal(st.timeouts, 0);
}

static void
test_health(void **state)
{
	struct fake		*fk[2];
	struct result		 r[4];
	struct fwd_stats	 st;
	struct wire_query	 q;
	char			 name[64];
	unsigned		 i;

	(void)state;
	memset(r, 0, sizeof r);
	fk[0] = fake_new(FAKE_SILENT);
	fk[1] = fake_new(FAKE_GOOD);
	set_ups(fk, 2, 200, 2);
	/* Three timeouts in a row make upstream 1 sick... */
	for (i = 0; i < 3; i++) {
		snprintf(name, sizeof name, "h%u.example.nl.", i);
		make_query(&q, name, 0, (uint16_t)i);
		assert_int_equal(fwd_query(fwd, &ups_cur, &q, done_cb, &r[i]),
		    0);
		run_until(i + 1);
		assert_true(r[i].ok);
	}
	fwd_stats(fwd, &st);
	assert_int_equal(st.timeouts, 3);
	assert_int_equal(fk[0]->udp_queries, 3);
	/* ...so it is tried last: the next question goes to 2 at once. */
	make_query(&q, "h3.example.nl.", 0, 3);
	assert_int_equal(fwd_query(fwd, &ups_cur, &q, done_cb, &r[3]), 0);
	run_until(4);
	assert_true(r[3].ok);
	fwd_stats(fwd, &st);
	assert_int_equal(st.timeouts, 3);
	assert_int_equal(fk[0]->udp_queries, 3);
	assert_int_equal(fk[1]->udp_queries, 4);
	fake_free(fk[0]);
	fake_free(fk[1]);
}

static void
test_free_in_flight(void **state)
{
	struct fake		*fk = fake_new(FAKE_SILENT);
	struct result		 r1 = { 0 }, r2 = { 0 }, r3 = { 0 };
	struct wire_query	 q1, q2;

	(void)state;
	set_ups(&fk, 1, 50, 3);
	make_query(&q1, "www.example.nl.", 0, 1);
	make_query(&q2, "mail.example.nl.", 0, 2);
	assert_int_equal(fwd_query(fwd, &ups_cur, &q1, done_cb, &r1), 0);
	assert_int_equal(fwd_query(fwd, &ups_cur, &q1, done_cb, &r2), 0);
	assert_int_equal(fwd_query(fwd, &ups_cur, &q2, done_cb, &r3), 0);
	fwd_free(fwd);
	fwd = NULL;
	/* Longer than every timeout: nothing may call back now. */
	run_for(300);
	assert_int_equal(r1.called + r2.called + r3.called, 0);
	assert_int_equal(ndone, 0);
	fake_free(fk);
}

/*
 * Ask n different questions, one after another, prefix followed by the
 * number as the first label; each must be answered.
 */
static void
ask_each(unsigned n, const char *prefix)
{
	struct result		r;
	struct wire_query	q;
	char			name[64];
	unsigned		i;

	for (i = 0; i < n; i++) {
		memset(&r, 0, sizeof r);
		snprintf(name, sizeof name, "%s%u.example.nl.", prefix, i);
		make_query(&q, name, 0, (uint16_t)i);
		assert_int_equal(fwd_query(fwd, &ups_cur, &q, done_cb, &r), 0);
		run_until(ndone + 1);
		assert_true(r.ok);
	}
}

/*
 * A socket serves FWD_SOCK_QUERIES queries, never twice with one ID; the
 * next query goes out on a new one.
 */
static void
test_reuse_queries(void **state)
{
	struct fake		*fk = fake_new(FAKE_GOOD);
	struct fwd_stats	 st;
	unsigned		 i, j;

	(void)state;
	set_ups(&fk, 1, 1000, 3);
	ask_each(FWD_SOCK_QUERIES + 1, "s");
	assert_int_equal(fk->udp_queries, FWD_SOCK_QUERIES + 1);
	for (i = 0; i < FWD_SOCK_QUERIES; i++) {
		assert_int_equal(fk->port[i], fk->port[0]);
		for (j = 0; j < i; j++)
			assert_int_not_equal(fk->id[i], fk->id[j]);
	}
	fwd_stats(fwd, &st);
	assert_int_equal(st.sockets, 2);
	assert_int_equal(st.queries, FWD_SOCK_QUERIES + 1);
	assert_int_equal(st.mismatched, 0);
	fake_free(fk);
}

/* ... and for FWD_SOCK_MS (here 100 ms) after it was opened. */
static void
test_reuse_time(void **state)
{
	struct fake		*fk = fake_new(FAKE_GOOD);
	struct fwd_stats	 st;

	(void)state;
	set_ups(&fk, 1, 1000, 3);
	fwd_set_reuse(fwd, FWD_SOCK_QUERIES, 100);
	ask_each(2, "a");
	fwd_stats(fwd, &st);
	assert_int_equal(st.sockets, 1);
	run_for(150);
	ask_each(2, "b");
	fwd_stats(fwd, &st);
	assert_int_equal(st.sockets, 2);
	assert_int_equal(fk->port[1], fk->port[0]);
	assert_int_equal(fk->port[3], fk->port[2]);
	fake_free(fk);
}

/* Reuse 1: a fresh socket, so a fresh random port, for every query. */
static void
test_reuse_none(void **state)
{
	struct fake		*fk = fake_new(FAKE_GOOD);
	struct fwd_stats	 st;
	unsigned		 i, j, same = 0;

	(void)state;
	set_ups(&fk, 1, 1000, 3);
	fwd_set_reuse(fwd, 1, FWD_SOCK_MS);
	ask_each(20, "n");
	fwd_stats(fwd, &st);
	assert_int_equal(st.sockets, 20);
	/* Kernel-chosen ports: two of 20 alike is a rare coincidence. */
	for (i = 0; i < 20; i++) {
		for (j = 0; j < i; j++)
			same += fk->port[i] == fk->port[j];
	}
	assert_true(same <= 2);
	fake_free(fk);
}

/* Many questions in flight at once share one socket, told apart by ID. */
static void
test_reuse_concurrent(void **state)
{
	struct fake		*fk = fake_new(FAKE_GOOD);
	struct result		 r[20];
	struct fwd_stats	 st;
	struct wire_query	 q;
	char			 name[64];
	unsigned		 i;

	(void)state;
	memset(r, 0, sizeof r);
	set_ups(&fk, 1, 1000, 3);
	for (i = 0; i < 20; i++) {
		snprintf(name, sizeof name, "c%u.example.nl.", i);
		make_query(&q, name, 0, (uint16_t)i);
		assert_int_equal(fwd_query(fwd, &ups_cur, &q, done_cb, &r[i]),
		    0);
	}
	fwd_stats(fwd, &st);
	assert_int_equal(st.in_flight, 20);
	run_until(20);
	for (i = 0; i < 20; i++) {
		assert_true(r[i].ok);
		assert_int_equal(r[i].qid, i);
		assert_int_equal(fk->port[i], fk->port[0]);
	}
	fwd_stats(fwd, &st);
	assert_int_equal(st.sockets, 1);
	assert_int_equal(st.mismatched, 0);
	fake_free(fk);
}

/* Ask n questions at once, named prefix<i>.example.nl., into r[i]. */
static void
ask_many(struct result *r, unsigned n, const char *prefix)
{
	struct wire_query	q;
	char			name[64];
	unsigned		i;

	for (i = 0; i < n; i++) {
		snprintf(name, sizeof name, "%s%u.example.nl.", prefix, i);
		make_query(&q, name, 0, (uint16_t)i);
		assert_int_equal(fwd_query(fwd, &ups_cur, &q, done_cb, &r[i]),
		    0);
	}
}

/*
 * One wake-up of an upstream socket settles every answer queued on it
 * (up to 16 batches of 16), not one recvmmsg() batch of 16: answers left
 * there wait behind a loop pass of new queries (fwd_sock_cb(), 2d258f6).
 * 40 answers wait on the socket before the one loop pass: two full
 * batches and a short one.
 */
static void
test_drain(void **state)
{
	struct fake		*fk = fake_new(FAKE_HOLD);
	struct result		 r[40];
	struct fwd_stats	 st;
	unsigned		 i;

	(void)state;
	memset(r, 0, sizeof r);
	set_ups(&fk, 1, 1000, 3);
	ask_many(r, 40, "d");
	run_until_held(fk, 40);
	assert_int_equal(ndone, 0);
	fake_release(fk);
	event_base_loop(base, EVLOOP_ONCE);
	assert_int_equal(ndone, 40);
	for (i = 0; i < 40; i++) {
		assert_true(r[i].ok);
		assert_int_equal(r[i].qid, i);
	}
	fwd_stats(fwd, &st);
	assert_int_equal(st.sockets, 1);
	assert_int_equal(st.in_flight, 0);
	fake_free(fk);
}

/*
 * An answer that comes after its attempt timed out is dropped, though it
 * is for the same question and comes on the socket the next attempt
 * uses: its ID is never used again there.
 */
static void
test_late_answer(void **state)
{
	struct fake		*fk = fake_new(FAKE_LATE);
	struct result		 r = { 0 };
	struct fwd_stats	 st;

	(void)state;
	ask_one(&fk, 1, 100, 2, &r, &st);
	assert_false(r.ok);
	assert_int_equal(fk->udp_queries, 2);
	assert_int_equal(fk->port[1], fk->port[0]);
	assert_int_equal(st.timeouts, 2);
	assert_int_equal(st.mismatched, 1);
	fake_free(fk);
}

/*
 * Nothing listens on the first upstream's port: the ICMP error reaches
 * the connected socket and the next upstream is asked at once, with no
 * timeout.
 */
static void
test_unreachable(void **state)
{
	struct fake		*fk[2];
	struct result		 r = { 0 };
	struct fwd_stats	 st;
	struct sockaddr_in	 sin;
	socklen_t		 len = sizeof sin;
	int			 fd;

	(void)state;
	fk[0] = fake_new(FAKE_SILENT);
	fk[1] = fake_new(FAKE_GOOD);
	/* fk[0]'s address, but a port that was free a moment ago. */
	memset(&sin, 0, sizeof sin);
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_true((fd = socket(AF_INET, SOCK_DGRAM, 0)) != -1);
	assert_int_equal(bind(fd, (struct sockaddr *)&sin, sizeof sin), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&sin, &len), 0);
	close(fd);
	memcpy(&fk[0]->sa.ss, &sin, sizeof sin);
	ask_one(fk, 2, 2000, 2, &r, &st);
	assert_true(r.ok);
	assert_int_equal(st.timeouts, 0);
	assert_int_equal(st.queries, 2);
	assert_int_equal(fk[1]->udp_queries, 1);
	fake_free(fk[0]);
	fake_free(fk[1]);
}

/* A name of 48 letters: a random spelling is all lower case 1 in 2^48. */
#define LONG_NAME	"abcdefghijklmnopqrstuvwxyzabcdefghij.example.nl."

/*
 * 0x20: the upstream sees the name in mixed case, the answer echoes it,
 * and a client gets its own spelling back from the cache.
 */
static void
test_case_echo(void **state)
{
	struct fake		*fk = fake_new(FAKE_GOOD);
	struct result		 r = { 0 };
	struct fwd_stats	 st;
	struct wire_query	 q, qc;
	uint8_t			 folded[WIRE_MAX_NAME], out[4096];
	size_t			 outlen;

	(void)state;
	set_ups(&fk, 1, 1000, 3);
	make_query(&q, LONG_NAME, 0, 1);
	assert_int_equal(fwd_query(fwd, &ups_cur, &q, done_cb, &r), 0);
	run_until(1);
	assert_true(r.ok);
	/* Sent in another spelling of the same name. */
	wire_lower(folded, fk->last_name, q.name_len);
	assert_memory_equal(folded, q.lname, q.name_len);
	assert_memory_not_equal(fk->last_name, q.lname, q.name_len);
	fwd_stats(fwd, &st);
	assert_int_equal(st.mismatched, 0);
	assert_int_equal(st.tcp_queries, 0);

	/* A client that spells it its own way gets that spelling back. */
	make_query(&qc, "ABCdefghijklmnopqrstuvwxyzabcdefghij.Example.NL.", 0,
	    2);
	assert_int_equal(cache_lookup(cache, REQ(&qc), out, sizeof out,
	    &outlen, NULL), CACHE_HIT);
	assert_true(outlen > WIRE_HDR_LEN + (size_t)qc.name_len);
	assert_memory_equal(out + WIRE_HDR_LEN, qc.name, qc.name_len);
	fake_free(fk);
}

/*
 * An upstream that loses the case: its answer is dropped and counted, the
 * same upstream is asked over TCP at once, and the next question goes
 * over TCP straight away.
 */
static void
test_case_lost(void **state)
{
	struct fake		*fk = fake_new(FAKE_LOWER);
	struct result		 r1 = { 0 }, r2 = { 0 };
	struct fwd_stats	 st;
	struct wire_query	 q;

	(void)state;
	set_ups(&fk, 1, 1000, 3);
	make_query(&q, LONG_NAME, 0, 1);
	assert_int_equal(fwd_query(fwd, &ups_cur, &q, done_cb, &r1), 0);
	run_until(1);
	assert_true(r1.ok);
	assert_int_equal(r1.ancount, 1);
	fwd_stats(fwd, &st);
	assert_int_equal(st.mismatched, 1);
	assert_int_equal(st.case_mismatched, 1);
	assert_int_equal(st.tcp_nocase, 1);
	assert_int_equal(fk->udp_queries, 1);
	assert_int_equal(fk->tcp_queries, 1);

	make_query(&q, "www.example.nl.", 0, 2);
	assert_int_equal(fwd_query(fwd, &ups_cur, &q, done_cb, &r2), 0);
	run_until(2);
	assert_true(r2.ok);
	fwd_stats(fwd, &st);
	assert_int_equal(st.tcp_nocase, 2);
	assert_int_equal(st.case_mismatched, 1);
	assert_int_equal(fk->udp_queries, 1);
	assert_int_equal(fk->tcp_queries, 2);
	fake_free(fk);
}

/*
 * A forged answer with the right ID but not our case (another address in
 * it) never reaches the cache; the answer that is cached is the one over
 * TCP.
 */
static void
test_case_forged(void **state)
{
	struct fake		*fk = fake_new(FAKE_FORGED);
	struct result		 r = { 0 };
	struct fwd_stats	 st;
	struct wire_query	 q;
	uint8_t			 out[4096];
	size_t			 outlen;
	ldns_pkt		*p;
	ldns_rr			*rr;
	char			*addr;

	(void)state;
	ask_one(&fk, 1, 1000, 3, &r, &st);
	assert_true(r.ok);
	assert_int_equal(st.case_mismatched, 1);
	assert_int_equal(fk->tcp_queries, 1);
	make_query(&q, "www.example.nl.", 0, 7);
	assert_int_equal(cache_lookup(cache, REQ(&q), out, sizeof out,
	    &outlen, NULL), CACHE_HIT);
	assert_int_equal(ldns_wire2pkt(&p, out, outlen), LDNS_STATUS_OK);
	assert_int_equal(ldns_pkt_ancount(p), 1);
	rr = ldns_rr_list_rr(ldns_pkt_answer(p), 0);
	addr = ldns_rdf2str(ldns_rr_rdf(rr, 0));
	assert_string_equal(addr, "192.0.2.1");
	free(addr);
	ldns_pkt_free(p);
	fake_free(fk);
}

/* The ports the kernel picks from, as fwd.c reads them. */
static uint32_t
kernel_ports(void)
{
	FILE		*f;
	unsigned	 lo = 32768, hi = 60999;

	if ((f = fopen("/proc/sys/net/ipv4/ip_local_port_range", "r")) !=
	    NULL) {
		assert_int_equal(fscanf(f, "%u %u", &lo, &hi), 2);
		fclose(f);
	}
	return (hi - lo + 1);
}

/*
 * What an attacker must guess, counted: ID, port and a bit per letter;
 * the letters a name needs for FWD_MIN_BITS; and a name with fewer goes
 * over TCP.
 */
static void
test_guess(void **state)
{
	struct fake		*fk = fake_new(FAKE_GOOD);
	struct result		 r = { 0 };
	struct fwd_guess	 g;
	struct fwd_stats	 st;
	struct wire_query	 q;
	uint64_t		 space;
	unsigned		 need, bits;
	char			 name[WIRE_MAX_NAME];

	(void)state;
	make_query(&q, "www.example.nl.", 0, 1);
	fwd_guess(fwd, &q, &g);
	assert_int_equal(g.ids, 65536 - (FWD_SOCK_QUERIES - 1));
	assert_int_equal(g.ports, kernel_ports());
	assert_int_equal(g.letters, 12);
	space = (uint64_t)g.ids * g.ports;
	for (bits = 0; (space >> bits) > 1; bits++)
		;
	assert_int_equal(g.bits, bits + 12);
	for (need = 0; (space << need) < ((uint64_t)1 << FWD_MIN_BITS); need++)
		;
	assert_int_equal(g.need, need);
	assert_true(g.udp);
	/* With Linux's default range: 14.8 + 16.0 bits, so two letters. */
	if (g.ports == 60999 - 32768 + 1)
		assert_int_equal(g.need, 2);

	/* A fresh socket per query: every ID is possible. */
	fwd_set_reuse(fwd, 1, FWD_SOCK_MS);
	fwd_guess(fwd, &q, &g);
	assert_int_equal(g.ids, 65536);
	fwd_set_reuse(fwd, FWD_SOCK_QUERIES, FWD_SOCK_MS);

	/* Digits and one letter short of need: over TCP. */
	if (need > 0) {
		memset(name, 0, sizeof name);
		memset(name, 'x', need - 1);
		strcat(name, "1.2.");
		make_query(&q, name, 0, 2);
		fwd_guess(fwd, &q, &g);
		assert_int_equal(g.letters, need - 1);
		assert_false(g.udp);
		set_ups(&fk, 1, 1000, 3);
		assert_int_equal(fwd_query(fwd, &ups_cur, &q, done_cb, &r), 0);
		run_until(1);
		assert_true(r.ok);
		fwd_stats(fwd, &st);
		assert_int_equal(st.tcp_few_bits, 1);
		assert_int_equal(fk->udp_queries, 0);
		assert_int_equal(fk->tcp_queries, 1);
	}
	fake_free(fk);
}

/* The JSON totals of upstream fk from veiligctl stats --json. */
static json_t *
up_totals(struct stats *st, const struct fake *fk)
{
	struct evbuffer	*out = evbuffer_new();
	json_t		*o, *u, *found = NULL;
	char		 name[64];
	size_t		 i;

	assert_int_equal(stats_show(st, NULL, 1, NULL, 0, out), 0);
	o = json_loadb((const char *)evbuffer_pullup(out, -1),
	    evbuffer_get_length(out), 0, NULL);
	assert_non_null(o);
	conf_sockaddr_str(&fk->sa, name, sizeof name);
	json_array_foreach(json_object_get(o, "upstreams"), i, u)
		if (strcmp(json_string_value(json_object_get(u, "upstream")),
		    name) == 0)
			found = json_incref(u);
	json_decref(o);
	evbuffer_free(out);
	assert_non_null(found);
	return (found);
}

/* Each upstream's queries, answers, timeouts, errors, mismatches, TCP,
   records scrubbed. */
static void
test_upstream_stats(void **state)
{
	struct fake		*fk[5];
	struct result		 r = { 0 };
	struct fwd_stats	 fs;
	struct conf		 conf;
	struct stats		*st;
	char			*cause;
	json_t			*u;
	int			 i;
	static const int	 want[5][7] = {
		/* queries answers timeouts errors mismatched tcp scrubbed */
		{ 1, 0, 1, 0, 0, 0, 0 },	/* silent */
		{ 2, 1, 0, 0, 0, 1, 0 },	/* TC=1, then TCP */
		{ 1, 0, 0, 1, 0, 0, 0 },	/* garbage */
		{ 1, 1, 0, 0, 1, 0, 0 },	/* a wrong ID first */
		{ 1, 1, 0, 0, 0, 0, 3 },	/* three records of others */
	};
	static const char *const keys[7] = { "queries", "answers",
	    "timeouts", "errors", "mismatched", "tcp", "scrubbed" };

	(void)state;
	memset(&conf, 0, sizeof conf);
	conf.stats_interval = 300;
	conf.stats_k = 5;
	st = stats_new(&conf, 1, &cause);
	assert_non_null(st);
	fwd_set_stats(fwd, stats_worker(st, 0));
	fk[0] = fake_new(FAKE_SILENT);
	fk[1] = fake_new(FAKE_TC);
	fk[2] = fake_new(FAKE_GARBAGE);
	fk[3] = fake_new(FAKE_WRONG_ID);
	fk[4] = fake_new(FAKE_POISON);
	ask_one(fk, 2, 100, 3, &r, &fs);
	assert_true(r.ok);
	memset(&r, 0, sizeof r);
	ndone = 0;
	ask_one(fk + 2, 2, 1000, 3, &r, &fs);
	assert_true(r.ok);
	memset(&r, 0, sizeof r);
	ndone = 0;
	ask_one(fk + 4, 1, 1000, 3, &r, &fs);
	assert_true(r.ok);
	stats_tick(st, time(NULL));
	for (i = 0; i < 5; i++) {
		u = up_totals(st, fk[i]);
		for (size_t k = 0; k < 7; k++)
			if (json_integer_value(json_object_get(u, keys[k])) !=
			    want[i][k])
				fail_msg("upstream %d: %s is %lld, not %d", i,
				    keys[k], json_integer_value(
				    json_object_get(u, keys[k])), want[i][k]);
		json_decref(u);
		fake_free(fk[i]);
	}
	fwd_set_stats(fwd, NULL);
	stats_free(st);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_good, setup, teardown),
		cmocka_unit_test_setup_teardown(test_inspect, setup, teardown),
		cmocka_unit_test_setup_teardown(test_wrong_id, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_wrong_question, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_other_port, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_timeout_retry, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_tc_tcp, setup, teardown),
		cmocka_unit_test_setup_teardown(test_servfail_next, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_all_silent, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_all_servfail, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_garbage, setup, teardown),
		cmocka_unit_test_setup_teardown(test_poison, setup, teardown),
		cmocka_unit_test_setup_teardown(test_coalesce, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_do_bit_apart, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_cd_bit_apart, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_job_limit, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_requery_from_cb, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_sync_failure, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_health, setup, teardown),
		cmocka_unit_test_setup_teardown(test_free_in_flight, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_reuse_queries, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_reuse_time, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_reuse_none, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_reuse_concurrent, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_drain, setup, teardown),
		cmocka_unit_test_setup_teardown(test_late_answer, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_unreachable, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_case_echo, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_case_lost, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_case_forged, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_guess, setup, teardown),
		cmocka_unit_test_setup_teardown(test_upstream_stats, setup,
		    teardown),
	};

	/* The statistics count in snapshot read sections. */
	snapshot_thread_init();
	return (cmocka_run_group_tests(tests, NULL, NULL));
}
