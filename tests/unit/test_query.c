/*
 * test_query.c: unit tests of query.c, the decision on one query.
 *
 * Each test runs against a real configuration written into a mkdtemp()
 * directory (one board on 127.0.0.0/16 blocking a domain list and an ip
 * list, with safe search and an allow list), compiled into a snapshot
 * and published, a real cache, the real registry of questions in flight
 * and, for forwarded queries, the real forwarder asking a fake upstream on
 * 127.0.0.1 that runs on the test's own event_base. Queries are packets
 * built with ldns; answers are read back with ldns.
 *
 * The transport is the test's: its records live on the test's stack and
 * its operations note what query.c sent and when it let go.
 *
 * Covered: REFUSED (no board, AXFR, IXFR), dropped packets, FORMERR,
 * NOTIMP and BADVERS, blocked questions, rewrites answered from the cache,
 * cache hits (the client's ID and spelling), hits blocked by their
 * inspection bits (and re-inspected after a reload), by a CNAME onto the
 * deny list or to a canary, the allow list
 * skipping inspection, the transport's size rule, a miss -> FORWARD; then
 * query_finish() on an upstream answer (plain, blocked, rewritten), on a
 * failure with a stale entry (EDE 3), without one (SERVFAIL), after a
 * reload that removed the board (REFUSED) or blocks the name; and the
 * whole life of a forwarded query: answered, shared with another worker,
 * the waiter asking itself when the answer could not be cached, the
 * client response timer, a client gone, and query_ctx_free() with queries
 * out. The limits: waiters per question (in the forwarder and in the
 * registry), a client's share of forwarded queries and of questions, the
 * worker's share, each answered at once by query_fallback() (stale, else
 * SERVFAIL); a failure remembered (RFC 9520); response rate limiting of
 * datagram answers with slip. The memo of blocked verdicts (memo.h): a
 * repeat answered from it byte for byte as from the lists (list, deny
 * list, canary, RPZ), each board its own verdict, none of a policy
 * before a reload, names crowding its sets. And that a cache hit, a
 * blocked answer (from the memo too), a refused one and a rewrite with
 * its target cached allocate nothing:
 * this binary counts every malloc(), calloc() and realloc() of the
 * process (libraries too) while a test asks it to (alloc_begin(),
 * alloc_end()).
 */
#include <sys/socket.h>
#include <sys/stat.h>
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
#include <unistd.h>

#include <cmocka.h>
#include <event2/buffer.h>
#include <event2/event.h>
#include <ldns/ldns.h>

#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define ALLOC_HOOKS	1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer)
#define ALLOC_HOOKS	1
#endif
#endif
#ifdef ALLOC_HOOKS
/* The sanitizer runtime calls it on every allocation when it exists. */
void	__sanitizer_malloc_hook(const volatile void *, size_t);
#endif

#include "cache.h"
#include "conf.h"
#include "inflight.h"
#include "memo.h"
#include "policy.h"
#include "query.h"
#include "rrl.h"
#include "snapshot.h"
#include "wire.h"

#include "tdir.h"

#define CLIENT		"127.0.0.9"	/* in the board's networks */
#define STRANGER	"198.51.100.7"	/* in no board's */
#define BADIP		"192.0.2.66"	/* in the blocked ip list */

/* How the fake upstream answers. */
enum fake_mode {
	FAKE_GOOD,		/* A 192.0.2.1, TTL 300 */
	FAKE_BADIP,		/* A BADIP, TTL 300 */
	FAKE_TTL0,		/* A 192.0.2.1, TTL 0: not cached */
	FAKE_SILENT,		/* nothing */
};

/* One test's world. */
struct fx {
	struct tdir		 dir;
	struct event_base	*base;
	struct cache		*cache;
	struct inflight		*inflight;
	struct rrl		*rrl;
	struct query_ctx	*qc;
	struct snapshot		*snap;	/* published */
	const char		*conf_extra; /* more of veiligd.yaml */

	int			 up_fd;	/* the fake upstream */
	struct event		*up_ev;
	uint16_t		 up_port;
	enum fake_mode		 up_mode;
	unsigned		 up_queries;
	int			 expired; /* the guard timer fired */
};

/*
 * A forwarded query as the test's transport keeps it: the query first,
 * then what the transport's operations saw.
 */
struct late {
	struct query		 q;
	int			 alive;		/* the client can take answers */
	unsigned		 sent;
	enum query_state	 sent_state;	/* of the last answer sent */
	uint8_t			 ans[4096];	/* the last answer sent */
	size_t			 anslen;
	unsigned		 released;
};

static int
late_alive(const struct query *q)
{
	return (((const struct late *)q)->alive);
}

static void
late_send(struct query *q, const uint8_t *msg, size_t len)
{
	struct late	*l = (struct late *)q;

	assert_true(len <= sizeof l->ans);
	memcpy(l->ans, msg, len);
	l->anslen = len;
	l->sent_state = q->state;
	l->sent++;
}

static void
late_release(struct query *q)
{
	struct late	*l = (struct late *)q;

	assert_int_equal(q->state, QUERY_DONE);
	l->released++;
}

static const struct query_transport tp_udp = {
	1, late_alive, late_send, late_release
};
static const struct query_transport tp_tcp = {
	0, late_alive, late_send, late_release
};

/*
 * Counting allocations. Without a sanitizer this binary's malloc(),
 * calloc(), realloc() and the aligned ones stand in for glibc's (which
 * they call through its __libc_ names) for every caller, the libraries
 * too; under ASan, which has its own allocator, the hook it calls on
 * every allocation counts.
 */
static int		alloc_counting;
static unsigned long	alloc_count;

static void
alloc_begin(void)
{
	alloc_count = 0;
	alloc_counting = 1;
}

static unsigned long
alloc_end(void)
{
	alloc_counting = 0;
	return (alloc_count);
}

#ifdef ALLOC_HOOKS
void
__sanitizer_malloc_hook(const volatile void *p, size_t size)
{
	(void)p;
	(void)size;
	if (alloc_counting)
		alloc_count++;
}
#else
extern void	*__libc_malloc(size_t);
extern void	*__libc_calloc(size_t, size_t);
extern void	*__libc_realloc(void *, size_t);
extern void	*__libc_memalign(size_t, size_t);

void *
malloc(size_t size)
{
	if (alloc_counting)
		alloc_count++;
	return (__libc_malloc(size));
}

void *
calloc(size_t n, size_t size)
{
	if (alloc_counting)
		alloc_count++;
	return (__libc_calloc(n, size));
}

void *
realloc(void *p, size_t size)
{
	if (alloc_counting)
		alloc_count++;
	return (__libc_realloc(p, size));
}

void *
aligned_alloc(size_t align, size_t size)
{
	if (alloc_counting)
		alloc_count++;
	return (__libc_memalign(align, size));
}

int
posix_memalign(void **p, size_t align, size_t size)
{
	if (alloc_counting)
		alloc_count++;
	*p = __libc_memalign(align, size);
	return (*p == NULL && size != 0 ? ENOMEM : 0);
}
#endif

/* Configuration and policy messages: print them (a test then fails). */
static void
msg_cb(void *arg, const char *msg)
{
	(void)arg;
	print_message("  message: %s\n", msg);
}

/*
 * Write veiligd.yaml (forward: timeout and attempts) and the board file
 * (its networks, then any extra keys), and compile them into a snapshot.
 */
static struct snapshot *
fx_load(struct fx *fx, const char *timeout, int attempts,
    const char *networks, const char *extra)
{
	struct snapshot	*snap;
	struct conf	*conf;
	char		 text[2048], path[256];

	snprintf(text, sizeof text,
	    "upstreams: [ \"127.0.0.1:%u\" ]\n"
	    "forward: { timeout: %s, attempts: %d }\n"
	    "cache: { serve-stale: 1d }\n"
	    "boards: boards/*.yaml\n"
	    "filter: { block-ttl: 42s, tables: tables }\n"
	    "control: %s/control.sock\n"
	    "lists:\n"
	    "  ads: { file: lists/ads.txt, format: domains }\n"
	    "  badip: { file: lists/badip.txt, format: ip }\n%s",
	    fx->up_port, timeout, attempts, fx->dir.path,
	    fx->conf_extra != NULL ? fx->conf_extra : "");
	tdir_write(&fx->dir, "veiligd.yaml", text);
	snprintf(text, sizeof text,
	    "name: School\n"
	    "networks: [ %s ]\n"
	    "block: [ ads, badip ]\n"
	    "safe-search: true\n"
	    "allow: [ allowed.example.nl ]\n"
	    "%s", networks, extra != NULL ? extra : "");
	tdir_write(&fx->dir, "boards/school.yaml", text);

	snprintf(path, sizeof path, "%s/veiligd.yaml", fx->dir.path);
	conf = conf_load(path, msg_cb, NULL);
	assert_non_null(conf);
	snap = snapshot_new(conf, NULL, msg_cb, NULL);
	assert_non_null(snap);
	return (snap);
}

/* Publish a snapshot with these forward settings, as a reload would. */
static void
fx_publish(struct fx *fx, const char *timeout, int attempts)
{
	fx->snap = fx_load(fx, timeout, attempts, "127.0.0.0/16", NULL);
	snapshot_free(snapshot_swap(fx->snap));
}

/* Build the fake upstream's answer to the query qpkt. */
static uint8_t *
fake_answer(struct fx *fx, const uint8_t *qpkt, size_t qlen, size_t *alen)
{
	ldns_pkt	*qp, *ap;
	ldns_rr		*qrr, *rr;
	uint8_t		*out = NULL;
	char		*owner, text[512];

	assert_int_equal(ldns_wire2pkt(&qp, qpkt, qlen), LDNS_STATUS_OK);
	assert_non_null(ap = ldns_pkt_new());
	ldns_pkt_set_id(ap, ldns_pkt_id(qp));
	ldns_pkt_set_qr(ap, 1);
	ldns_pkt_set_rd(ap, 1);
	ldns_pkt_set_ra(ap, 1);
	qrr = ldns_rr_clone(ldns_rr_list_rr(ldns_pkt_question(qp), 0));
	ldns_pkt_push_rr(ap, LDNS_SECTION_QUESTION, qrr);
	owner = ldns_rdf2str(ldns_rr_owner(qrr));
	snprintf(text, sizeof text, "%s %d IN A %s", owner,
	    fx->up_mode == FAKE_TTL0 ? 0 : 300,
	    fx->up_mode == FAKE_BADIP ? BADIP : "192.0.2.1");
	free(owner);
	assert_int_equal(ldns_rr_new_frm_str(&rr, text, 0, NULL, NULL),
	    LDNS_STATUS_OK);
	ldns_pkt_push_rr(ap, LDNS_SECTION_ANSWER, rr);
	ldns_pkt_set_edns_udp_size(ap, 1232);
	assert_int_equal(ldns_pkt2wire(&out, ap, alen), LDNS_STATUS_OK);
	ldns_pkt_free(ap);
	ldns_pkt_free(qp);
	return (out);
}

/* Queries to the fake upstream. */
static void
fake_cb(evutil_socket_t fd, short events, void *arg)
{
	struct fx		*fx = arg;
	struct sockaddr_storage	 from;
	socklen_t		 fromlen = sizeof from;
	uint8_t			 buf[4096], *ans;
	ssize_t			 n;
	size_t			 alen;

	(void)events;
	n = recvfrom(fd, buf, sizeof buf, 0, (struct sockaddr *)&from,
	    &fromlen);
	if (n <= 0)
		return;
	fx->up_queries++;
	if (fx->up_mode == FAKE_SILENT)
		return;
	ans = fake_answer(fx, buf, (size_t)n, &alen);
	assert_int_equal(sendto(fd, ans, alen, 0, (struct sockaddr *)&from,
	    fromlen), (ssize_t)alen);
	free(ans);
}

/* The fake upstream on 127.0.0.1, a port of the kernel's choice. */
static void
fake_open(struct fx *fx)
{
	struct sockaddr_in	sin;
	socklen_t		len = sizeof sin;

	fx->up_fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0);
	assert_true(fx->up_fd != -1);
	memset(&sin, 0, sizeof sin);
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(bind(fx->up_fd, (struct sockaddr *)&sin, sizeof sin),
	    0);
	assert_int_equal(getsockname(fx->up_fd, (struct sockaddr *)&sin,
	    &len), 0);
	fx->up_port = ntohs(sin.sin_port);
	fx->up_ev = event_new(fx->base, fx->up_fd, EV_READ | EV_PERSIST,
	    fake_cb, fx);
	assert_non_null(fx->up_ev);
	assert_int_equal(event_add(fx->up_ev, NULL), 0);
}

static int
setup(void **state)
{
	struct fx	*fx;

	if ((fx = calloc(1, sizeof *fx)) == NULL)
		return (-1);
	*state = fx;
	tdir_new(&fx->dir, "test_query", "boards", "lists", "tables", NULL);
	tdir_write(&fx->dir, "lists/ads.txt", "ads.example.nl\n");
	tdir_write(&fx->dir, "lists/badip.txt", BADIP "\n");
	tdir_write(&fx->dir, "tables/safesearch.txt",
	    "www.google.nl forcesafesearch.google.com\n");
	tdir_write(&fx->dir, "tables/canaries.txt", "use-application-dns.net\n");

	assert_non_null(fx->base = event_base_new());
	assert_non_null(fx->cache = cache_new(1 << 20, 86400, 86400, 3600));
	assert_non_null(fx->inflight = inflight_new());
	assert_non_null(fx->rrl = rrl_new(4096));
	assert_non_null(fx->qc = query_ctx_new(fx->base, fx->cache,
	    fx->inflight, fx->rrl, 1, 64));
	fake_open(fx);
	fx_publish(fx, "1s", 3);
	return (0);
}

static int
teardown(void **state)
{
	struct fx	*fx = *state;

	query_ctx_free(fx->qc);
	snapshot_free(snapshot_swap(NULL));
	event_free(fx->up_ev);
	close(fx->up_fd);
	inflight_free(fx->inflight);
	rrl_free(fx->rrl);
	cache_free(fx->cache);
	event_base_free(fx->base);
	tdir_free(&fx->dir);
	free(fx);
	return (0);
}

static void
guard_cb(evutil_socket_t fd, short events, void *arg)
{
	struct fx	*fx = arg;

	(void)fd;
	(void)events;
	fx->expired = 1;
	event_base_loopbreak(fx->base);
}

/* Run the loop until *count reaches want; fail after 5 seconds. */
static void
run_until(struct fx *fx, const unsigned *count, unsigned want)
{
	struct event	*guard;
	struct timeval	 tv = { 5, 0 };
	int		 i;

	fx->expired = 0;
	assert_non_null(guard = evtimer_new(fx->base, guard_cb, fx));
	evtimer_add(guard, &tv);
	for (i = 0; i < 100000 && *count < want && !fx->expired; i++)
		event_base_loop(fx->base, EVLOOP_ONCE);
	event_free(guard);
	assert_false(fx->expired);
	assert_int_equal(*count, want);
}

/* Client packet flags, for mkpkt(). */
#define PKT_EDNS	0x01	/* an OPT record, size 1232 */
#define PKT_QR		0x02	/* a response: must be dropped */
#define PKT_STATUS	0x04	/* opcode STATUS: NOTIMP */
#define PKT_EDNS1	0x08	/* EDNS version 1: BADVERS */
#define PKT_QD2		0x10	/* QDCOUNT 2: FORMERR */

/* A client's query for name/type with ID 0x4242 into buf; its length. */
static size_t
mkpkt(const char *name, ldns_rr_type type, int flags, uint8_t *buf,
    size_t cap)
{
	ldns_pkt	*p;
	uint8_t		*wire = NULL;
	size_t		 len = 0;

	p = ldns_pkt_query_new(ldns_dname_new_frm_str(name), type,
	    LDNS_RR_CLASS_IN, LDNS_RD);
	assert_non_null(p);
	ldns_pkt_set_id(p, 0x4242);
	if (flags & (PKT_EDNS | PKT_EDNS1)) {
		ldns_pkt_set_edns_udp_size(p, 1232);
		if (flags & PKT_EDNS1)
			ldns_pkt_set_edns_version(p, 1);
	}
	assert_int_equal(ldns_pkt2wire(&wire, p, &len), LDNS_STATUS_OK);
	ldns_pkt_free(p);
	assert_true(len <= cap);
	memcpy(buf, wire, len);
	free(wire);
	if (flags & PKT_QR)
		buf[2] |= 0x80;
	if (flags & PKT_STATUS)
		buf[2] |= 2 << 3;
	if (flags & PKT_QD2)
		buf[5] = 2;
	return (len);
}

/* Set q's transport fields: a client at address from, answers into out. */
static void
qinit(struct query *q, const struct query_transport *tp, const char *from,
    uint8_t *out, size_t cap)
{
	struct sockaddr_in	*sin = (struct sockaddr_in *)&q->from;

	memset(q, 0, sizeof *q);
	q->tp = tp;
	sin->sin_family = AF_INET;
	sin->sin_port = htons(5353);
	assert_int_equal(inet_pton(AF_INET, from, &sin->sin_addr), 1);
	q->fromlen = sizeof *sin;
	clock_gettime(CLOCK_MONOTONIC, &q->received);
	q->out = out;
	q->cap = cap;
}

/* query_answer() on a query for name/type from a client over tp. */
static enum query_next
ask(struct fx *fx, struct query *q, const struct query_transport *tp,
    const char *from, const char *name, ldns_rr_type type, int flags,
    uint8_t *out, size_t cap)
{
	uint8_t	pkt[512];
	size_t	len;

	len = mkpkt(name, type, flags, pkt, sizeof pkt);
	qinit(q, tp, from, out, cap);
	return (query_answer(fx->qc, fx->snap, q, pkt, len));
}

/* The answer of len octets at msg, parsed; our ID, QR set. */
static ldns_pkt *
parse(const uint8_t *msg, size_t len)
{
	ldns_pkt	*p;

	assert_true(len > WIRE_HDR_LEN);
	assert_int_equal(ldns_wire2pkt(&p, msg, len), LDNS_STATUS_OK);
	assert_int_equal(ldns_pkt_id(p), 0x4242);
	assert_true(ldns_pkt_qr(p));
	return (p);
}

/* The EDE info code in p's OPT record (text into buf), or -1. */
static int
ede(ldns_pkt *p, char *buf, size_t cap)
{
	ldns_rdf	*d = ldns_pkt_edns_data(p);
	const uint8_t	*o;
	size_t		 n, off = 0, olen;

	buf[0] = '\0';
	if (d == NULL)
		return (-1);
	o = ldns_rdf_data(d);
	n = ldns_rdf_size(d);
	while (off + 4 <= n) {
		olen = (size_t)o[off + 2] << 8 | o[off + 3];
		assert_true(off + 4 + olen <= n);
		if ((o[off] << 8 | o[off + 1]) == WIRE_OPT_EDE) {
			assert_true(olen >= 2 && olen - 2 < cap);
			memcpy(buf, o + off + 6, olen - 2);
			buf[olen - 2] = '\0';
			return (o[off + 4] << 8 | o[off + 5]);
		}
		off += 4 + olen;
	}
	return (-1);
}

/* Answer record i of p as text, without the trailing newline. */
static void
assert_an(ldns_pkt *p, size_t i, const char *want)
{
	char	*s;
	size_t	 n;

	assert_true(i < ldns_rr_list_rr_count(ldns_pkt_answer(p)));
	s = ldns_rr2str(ldns_rr_list_rr(ldns_pkt_answer(p), i));
	n = strlen(s);
	while (n > 0 && s[n - 1] == '\n')
		s[--n] = '\0';
	assert_string_equal(s, want);
	free(s);
}

/*
 * An upstream answer to name/A with the records rrs (text, NULL ended),
 * as wire_scan() leaves it, into msg with its scan in *sc.
 */
static void
mkans(const char *name, const char *const *rrs, uint8_t *msg, size_t cap,
    struct wire_scan *sc)
{
	struct wire_query	 q;
	ldns_pkt		*p;
	ldns_rr			*rr;
	uint8_t			*wire = NULL, pkt[512];
	size_t			 len = 0, qlen;

	p = ldns_pkt_query_new(ldns_dname_new_frm_str(name), LDNS_RR_TYPE_A,
	    LDNS_RR_CLASS_IN, LDNS_RD);
	assert_non_null(p);
	ldns_pkt_set_id(p, 7);
	ldns_pkt_set_qr(p, 1);
	ldns_pkt_set_ra(p, 1);
	for (; *rrs != NULL; rrs++) {
		assert_int_equal(ldns_rr_new_frm_str(&rr, *rrs, 300, NULL,
		    NULL), LDNS_STATUS_OK);
		ldns_pkt_push_rr(p, LDNS_SECTION_ANSWER, rr);
	}
	assert_int_equal(ldns_pkt2wire(&wire, p, &len), LDNS_STATUS_OK);
	ldns_pkt_free(p);
	assert_true(len <= cap);
	memcpy(msg, wire, len);
	free(wire);
	qlen = mkpkt(name, LDNS_RR_TYPE_A, 0, pkt, sizeof pkt);
	assert_int_equal(wire_parse_query(pkt, qlen, &q), WIRE_OK);
	assert_int_equal(wire_check_answer(msg, len, &q, 7), 0);
	assert_int_equal(wire_scan(msg, len, sc), 0);
}

/*
 * Store an answer to name/A with the records rrs in the cache, as stored
 * at time stored; with its inspection bits under the policy in force, or
 * (inspected 0) with none, as if from an older policy.
 */
static void
cache_put(struct fx *fx, const char *name, const char *const *rrs,
    uint32_t stored, int inspected)
{
	struct wire_query	 q;
	struct wire_scan	 sc;
	uint8_t			 msg[4096], pkt[512];
	uint64_t		 mask = 0;
	uint32_t		 gen = 0;
	size_t			 len;

	mkans(name, rrs, msg, sizeof msg, &sc);
	if (inspected) {
		mask = policy_inspect(fx->snap->policy, msg, sc.len);
		gen = policy_generation(fx->snap->policy);
	}
	len = mkpkt(name, LDNS_RR_TYPE_A, 0, pkt, sizeof pkt);
	assert_int_equal(wire_parse_query(pkt, len, &q), WIRE_OK);
	cache_insert(fx->cache, &q, msg, &sc, stored, mask, gen);
}

/* The counters now. */
static struct query_stats
stats(const struct fx *fx)
{
	struct query_stats	st;

	query_ctx_stats(fx->qc, &st);
	return (st);
}

/* An address of no board, and zone transfers, are refused. */
static void
test_refused(void **state)
{
	struct fx	*fx = *state;
	struct query	 q;
	ldns_pkt	*p;
	uint8_t		 out[4096];

	assert_int_equal(ask(fx, &q, &tp_udp, STRANGER, "www.example.nl.",
	    LDNS_RR_TYPE_A, 0, out, sizeof out), QUERY_SEND);
	assert_null(q.board);
	p = parse(out, q.outlen);
	assert_int_equal(ldns_pkt_get_rcode(p), LDNS_RCODE_REFUSED);
	assert_int_equal(ldns_pkt_ancount(p), 0);
	ldns_pkt_free(p);

	assert_int_equal(ask(fx, &q, &tp_tcp, CLIENT, "example.nl.",
	    LDNS_RR_TYPE_AXFR, 0, out, sizeof out), QUERY_SEND);
	assert_non_null(q.board);
	p = parse(out, q.outlen);
	assert_int_equal(ldns_pkt_get_rcode(p), LDNS_RCODE_REFUSED);
	ldns_pkt_free(p);
	assert_int_equal(ask(fx, &q, &tp_udp, CLIENT, "example.nl.",
	    LDNS_RR_TYPE_IXFR, 0, out, sizeof out), QUERY_SEND);
	p = parse(out, q.outlen);
	assert_int_equal(ldns_pkt_get_rcode(p), LDNS_RCODE_REFUSED);
	ldns_pkt_free(p);

	assert_int_equal(stats(fx).refused, 3);
	assert_int_equal(stats(fx).forwarded, 0);
	assert_int_equal(fx->up_queries, 0);
}

/*
 * The cache's clock at the start of a second it has just turned to, so
 * that what a test puts keeps its whole TTL for a second: its answers'
 * TTLs are compared exactly, and a slow build (ASan, TSan) between put
 * and answer would otherwise cross into the next second now and then
 * (TTL 299 where 300 was expected, in test_cache_hit_reload and
 * test_cache_hit_question).
 */
static uint32_t
fresh_second(void)
{
	uint32_t	 t = cache_now();
	int		 i;

	for (i = 0; i < 1100 && cache_now() == t; i++)
		usleep(1000);
	return (cache_now());
}

/*
 * The answers given at once allocate nothing: each query is asked once to
 * warm what may be set up on first use, then 100 times counting every
 * allocation of the process around query_answer() alone.
 */
static void
test_no_alloc(void **state)
{
	static const struct {
		const char	*from;
		const char	*name;
		enum query_next	 next;
		int		 rcode;
		const char	*what;
	} cases[] = {
		{ CLIENT, "www.example.nl.", QUERY_SEND, LDNS_RCODE_NOERROR,
		  "a cache hit" },
		{ CLIENT, "tracker.ads.example.nl.", QUERY_SEND,
		  LDNS_RCODE_NXDOMAIN, "a blocked name" },
		{ STRANGER, "www.example.nl.", QUERY_SEND, LDNS_RCODE_REFUSED,
		  "an address of no board" },
		{ CLIENT, "www.google.nl.", QUERY_SEND, LDNS_RCODE_NOERROR,
		  "a rewrite, target cached" },
		{ CLIENT, "evil.example.nl.", QUERY_SEND, LDNS_RCODE_NXDOMAIN,
		  "a cache hit blocked by its answer" },
		{ CLIENT, "x.ads.example.nl.", QUERY_SEND, LDNS_RCODE_NXDOMAIN,
		  "a cached name the board blocks" },
		{ CLIENT, "use-application-dns.net.", QUERY_SEND,
		  LDNS_RCODE_NXDOMAIN, "a cached canary" },
	};
	const char *const	 hit[] = {
		"www.example.nl. 300 IN A 192.0.2.1", NULL };
	const char *const	 target[] = {
		"forcesafesearch.google.com. 300 IN A 216.239.38.120", NULL };
	const char *const	 evil[] = {
		"evil.example.nl. 300 IN A " BADIP, NULL };
	const char *const	 ads[] = {
		"x.ads.example.nl. 300 IN A 192.0.2.1", NULL };
	const char *const	 canary[] = {
		"use-application-dns.net. 300 IN A 192.0.2.1", NULL };
	struct fx		*fx = *state;
	struct query		 q;
	struct evbuffer		*buf;
	uint8_t			 out[4096], pkt[512];
	size_t			 i, k, len;
	unsigned long		 n;
	enum query_next		 next;

	cache_put(fx, "www.example.nl.", hit, cache_now(), 1);
	cache_put(fx, "forcesafesearch.google.com.", target, cache_now(), 1);
	cache_put(fx, "evil.example.nl.", evil, cache_now(), 1);
	/* Cached as for a board that does not block them. */
	cache_put(fx, "x.ads.example.nl.", ads, cache_now(), 1);
	cache_put(fx, "use-application-dns.net.", canary, cache_now(), 1);
	for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		len = mkpkt(cases[i].name, LDNS_RR_TYPE_A, PKT_EDNS, pkt,
		    sizeof pkt);
		qinit(&q, &tp_udp, cases[i].from, out, sizeof out);
		assert_int_equal(query_answer(fx->qc, fx->snap, &q, pkt, len),
		    cases[i].next);
		for (k = 0; k < 100; k++) {
			qinit(&q, &tp_udp, cases[i].from, out, sizeof out);
			alloc_begin();
			next = query_answer(fx->qc, fx->snap, &q, pkt, len);
			n = alloc_end();
			assert_int_equal(next, cases[i].next);
			if (n != 0)
				fail_msg("%s: %lu allocations", cases[i].what,
				    n);
		}
		assert_int_equal(WIRE_RCODE(out[3]), cases[i].rcode);
	}
	/* The three blocked names were answered from the memo from the
	   third time on (the second kept the verdict), allocating nothing
	   either. */
	assert_int_equal(stats(fx).memo_hits, 3 * 99);
	/* The counter counts, in a library too: a buffer of libevent's. */
	alloc_begin();
	buf = evbuffer_new();
	n = alloc_end();
	assert_non_null(buf);
	evbuffer_free(buf);
	assert_true(n >= 1);
}

/* Responses and runts are dropped; bad queries get FORMERR etc. */
static void
test_malformed(void **state)
{
	struct fx	*fx = *state;
	struct query	 q;
	ldns_pkt	*p;
	uint8_t		 out[4096], pkt[512];
	size_t		 len;

	assert_int_equal(ask(fx, &q, &tp_udp, CLIENT, "www.example.nl.",
	    LDNS_RR_TYPE_A, PKT_QR, out, sizeof out), QUERY_DROP);
	len = mkpkt("www.example.nl.", LDNS_RR_TYPE_A, 0, pkt, sizeof pkt);
	qinit(&q, &tp_udp, CLIENT, out, sizeof out);
	assert_int_equal(query_answer(fx->qc, fx->snap, &q, pkt, 5),
	    QUERY_DROP);
	assert_int_equal(stats(fx).dropped, 2);

	/* QDCOUNT 2. */
	assert_int_equal(ask(fx, &q, &tp_udp, CLIENT, "www.example.nl.",
	    LDNS_RR_TYPE_A, PKT_QD2, out, sizeof out), QUERY_SEND);
	assert_true(q.outlen >= WIRE_HDR_LEN);
	assert_int_equal(out[0] << 8 | out[1], 0x4242);
	assert_int_equal(WIRE_RCODE(out[3]), WIRE_FORMERR);
	/* Trailing garbage after the question. */
	pkt[len] = 0xff;
	qinit(&q, &tp_udp, CLIENT, out, sizeof out);
	assert_int_equal(query_answer(fx->qc, fx->snap, &q, pkt, len + 1),
	    QUERY_SEND);
	p = parse(out, q.outlen);
	assert_int_equal(ldns_pkt_get_rcode(p), LDNS_RCODE_FORMERR);
	ldns_pkt_free(p);

	/* Opcode STATUS. */
	assert_int_equal(ask(fx, &q, &tp_udp, CLIENT, "www.example.nl.",
	    LDNS_RR_TYPE_A, PKT_STATUS, out, sizeof out), QUERY_SEND);
	assert_int_equal(WIRE_RCODE(out[3]), WIRE_NOTIMP);

	/* EDNS version 1: BADVERS, 16, in the OPT record's upper bits. */
	assert_int_equal(ask(fx, &q, &tp_udp, CLIENT, "www.example.nl.",
	    LDNS_RR_TYPE_A, PKT_EDNS1, out, sizeof out), QUERY_SEND);
	p = parse(out, q.outlen);
	assert_int_equal(ldns_pkt_get_rcode(p), 0);
	assert_int_equal(ldns_pkt_edns_extended_rcode(p), WIRE_BADVERS >> 4);
	ldns_pkt_free(p);

	assert_int_equal(stats(fx).formerr, 4);
	assert_int_equal(stats(fx).forwarded, 0);
	assert_int_equal(stats(fx).cache_hits, 0);
}

/* A listed name is blocked from the question alone: NXDOMAIN, EDE 17. */
static void
test_blocked(void **state)
{
	struct fx	*fx = *state;
	struct query	 q;
	ldns_pkt	*p;
	uint8_t		 out[4096];
	char		 text[256];

	assert_int_equal(ask(fx, &q, &tp_udp, CLIENT, "Tracker.ADS.example.nl.",
	    LDNS_RR_TYPE_A, PKT_EDNS, out, sizeof out), QUERY_SEND);
	assert_int_equal(q.verdict.kind, POLICY_BLOCK);
	p = parse(out, q.outlen);
	assert_int_equal(ldns_pkt_get_rcode(p), LDNS_RCODE_NXDOMAIN);
	assert_int_equal(ldns_pkt_ancount(p), 0);
	assert_int_equal(ldns_pkt_nscount(p), 1);
	assert_int_equal(ede(p, text, sizeof text), WIRE_EDE_FILTERED);
	assert_string_equal(text, "blocked: ads");
	ldns_pkt_free(p);
	assert_int_equal(stats(fx).blocked, 1);
	assert_int_equal(stats(fx).forwarded, 0);
	assert_int_equal(stats(fx).cache_hits, 0);
}

/* Safe search: a CNAME to the enforced host, whose answer is cached. */
static void
test_rewrite_cached(void **state)
{
	struct fx		*fx = *state;
	const char *const	 rrs[] = {
		"forcesafesearch.google.com. 300 IN A 216.239.38.120", NULL };
	struct query		 q;
	ldns_pkt		*p;
	uint8_t			 out[4096];
	uint32_t		 now;

	/* Not cached yet: the target is what goes upstream. */
	assert_int_equal(ask(fx, &q, &tp_udp, CLIENT, "WWW.Google.NL.",
	    LDNS_RR_TYPE_A, 0, out, sizeof out), QUERY_FORWARD);
	assert_true(q.rewrite);
	assert_int_equal(q.tlen, 28);
	assert_memory_equal(q.target, "\017forcesafesearch\006google\003com",
	    28);

	now = fresh_second();
	cache_put(fx, "forcesafesearch.google.com.", rrs, now, 1);
	assert_int_equal(ask(fx, &q, &tp_udp, CLIENT, "WWW.Google.NL.",
	    LDNS_RR_TYPE_A, 0, out, sizeof out), QUERY_SEND);
	p = parse(out, q.outlen);
	assert_int_equal(ldns_pkt_get_rcode(p), LDNS_RCODE_NOERROR);
	assert_int_equal(ldns_pkt_ancount(p), 2);
	/* The question as the client spelled it; the CNAME's owner too. */
	assert_memory_equal(out + WIRE_HDR_LEN, "\003WWW\006Google\002NL", 15);
	/* The CNAME lives as long as a blocked answer (filter.block-ttl). */
	assert_an(p, 0, "WWW.Google.NL.\t42\tIN\tCNAME\t"
	    "forcesafesearch.google.com.");
	assert_an(p, 1, "forcesafesearch.google.com.\t300\tIN\tA\t"
	    "216.239.38.120");
	ldns_pkt_free(p);
	assert_int_equal(stats(fx).rewritten, 1);
	assert_int_equal(stats(fx).cache_hits, 1);
	assert_int_equal(stats(fx).forwarded, 1);
}

/* A hit: the client's ID and spelling; TTLs as stored, minus the age. */
static void
test_cache_hit(void **state)
{
	struct fx		*fx = *state;
	const char *const	 rrs[] = {
		"www.example.nl. 300 IN A 192.0.2.1", NULL };
	struct query		 q;
	ldns_pkt		*p;
	uint8_t			 out[4096];

	cache_put(fx, "www.example.nl.", rrs, cache_now() - 100, 1);
	assert_int_equal(ask(fx, &q, &tp_udp, CLIENT, "www.EXAMPLE.nl.",
	    LDNS_RR_TYPE_A, PKT_EDNS, out, sizeof out), QUERY_SEND);
	p = parse(out, q.outlen);
	assert_int_equal(ldns_pkt_get_rcode(p), LDNS_RCODE_NOERROR);
	assert_memory_equal(out + WIRE_HDR_LEN, "\003www\007EXAMPLE\002nl",
	    16);
	assert_int_equal(ldns_pkt_ancount(p), 1);
	assert_true(ldns_rr_ttl(ldns_rr_list_rr(ldns_pkt_answer(p), 0)) <=
	    200);
	assert_int_equal(ldns_pkt_edns_udp_size(p), WIRE_EDNS_SIZE);
	ldns_pkt_free(p);
	assert_int_equal(stats(fx).cache_hits, 1);
	assert_int_equal(stats(fx).forwarded, 0);
	assert_int_equal(fx->up_queries, 0);
}

/*
 * A hit whose answer points into a blocked ip list is blocked, by the
 * bits stored with it or, for an entry of an older policy, by bits worked
 * out again; a name on the allow list is not inspected at all.
 */
static void
test_cache_hit_blocked(void **state)
{
	struct fx		*fx = *state;
	const char *const	 evil[] = {
		"evil.example.nl. 300 IN A " BADIP, NULL };
	const char *const	 old[] = {
		"old.example.nl. 300 IN A " BADIP, NULL };
	const char *const	 ok[] = {
		"allowed.example.nl. 300 IN A " BADIP, NULL };
	struct query		 q;
	ldns_pkt		*p;
	uint8_t			 out[4096];
	char			 text[256];
	uint32_t		 now;

	now = fresh_second();
	cache_put(fx, "evil.example.nl.", evil, now, 1);
	cache_put(fx, "old.example.nl.", old, now, 0);
	cache_put(fx, "allowed.example.nl.", ok, now, 1);

	assert_int_equal(ask(fx, &q, &tp_udp, CLIENT, "evil.example.nl.",
	    LDNS_RR_TYPE_A, PKT_EDNS, out, sizeof out), QUERY_SEND);
	p = parse(out, q.outlen);
	assert_int_equal(ldns_pkt_get_rcode(p), LDNS_RCODE_NXDOMAIN);
	assert_int_equal(ldns_pkt_ancount(p), 0);
	assert_int_equal(ede(p, text, sizeof text), WIRE_EDE_FILTERED);
	assert_string_equal(text, "blocked: badip");
	ldns_pkt_free(p);

	assert_int_equal(ask(fx, &q, &tp_udp, CLIENT, "old.example.nl.",
	    LDNS_RR_TYPE_A, 0, out, sizeof out), QUERY_SEND);
	p = parse(out, q.outlen);
	assert_int_equal(ldns_pkt_get_rcode(p), LDNS_RCODE_NXDOMAIN);
	ldns_pkt_free(p);

	assert_int_equal(ask(fx, &q, &tp_udp, CLIENT, "allowed.example.nl.",
	    LDNS_RR_TYPE_A, 0, out, sizeof out), QUERY_SEND);
	assert_int_equal(q.verdict.kind, POLICY_ALLOWED);
	p = parse(out, q.outlen);
	assert_int_equal(ldns_pkt_get_rcode(p), LDNS_RCODE_NOERROR);
	assert_an(p, 0, "allowed.example.nl.\t300\tIN\tA\t" BADIP);
	ldns_pkt_free(p);

	assert_int_equal(stats(fx).blocked, 2);
	assert_int_equal(stats(fx).cache_hits, 3);
}

/*
 * A hit whose CNAME leads onto the board's deny list, or to a canary, is
 * blocked as the name itself would be: the deny list looked up in the
 * answer written for the client, because the cache keeps only "some
 * board denies a target".
 */
static void
test_cache_hit_targets(void **state)
{
	struct fx		*fx = *state;
	const char *const	 denied[] = {
		"deny.example.nl. 300 IN CNAME cdn.Denied.example.",
		"cdn.denied.example. 300 IN A 192.0.2.1", NULL };
	const char *const	 canary[] = {
		"canary.example.nl. 300 IN CNAME use-application-dns.net.",
		"use-application-dns.net. 300 IN A 192.0.2.1", NULL };
	const char *const	 fine[] = {
		"fine.example.nl. 300 IN CNAME cdn.example.net.",
		"cdn.example.net. 300 IN A 192.0.2.1", NULL };
	struct query		 q;
	ldns_pkt		*p;
	uint8_t			 out[4096];
	char			 text[256];

	fx->snap = fx_load(fx, "1s", 3, "127.0.0.0/16",
	    "deny: [ denied.example ]\naction: nodata\n");
	snapshot_free(snapshot_swap(fx->snap));
	cache_put(fx, "deny.example.nl.", denied, cache_now(), 1);
	cache_put(fx, "canary.example.nl.", canary, cache_now(), 1);
	cache_put(fx, "fine.example.nl.", fine, cache_now(), 1);

	assert_int_equal(ask(fx, &q, &tp_udp, CLIENT, "deny.example.nl.",
	    LDNS_RR_TYPE_A, PKT_EDNS, out, sizeof out), QUERY_SEND);
	p = parse(out, q.outlen);
	assert_int_equal(ldns_pkt_get_rcode(p), LDNS_RCODE_NOERROR);
	assert_int_equal(ldns_pkt_ancount(p), 0);
	assert_int_equal(ede(p, text, sizeof text), WIRE_EDE_FILTERED);
	assert_string_equal(text, "blocked: deny list");
	ldns_pkt_free(p);

	assert_int_equal(ask(fx, &q, &tp_udp, CLIENT, "canary.example.nl.",
	    LDNS_RR_TYPE_A, PKT_EDNS, out, sizeof out), QUERY_SEND);
	p = parse(out, q.outlen);
	assert_int_equal(ldns_pkt_get_rcode(p), LDNS_RCODE_NXDOMAIN);
	assert_int_equal(ede(p, text, sizeof text), WIRE_EDE_BLOCKED);
	assert_string_equal(text, "blocked: canary");
	ldns_pkt_free(p);

	assert_int_equal(ask(fx, &q, &tp_udp, CLIENT, "fine.example.nl.",
	    LDNS_RR_TYPE_A, PKT_EDNS, out, sizeof out), QUERY_SEND);
	p = parse(out, q.outlen);
	assert_int_equal(ldns_pkt_get_rcode(p), LDNS_RCODE_NOERROR);
	assert_int_equal(ldns_pkt_ancount(p), 2);
	ldns_pkt_free(p);

	assert_int_equal(stats(fx).blocked, 2);
	assert_int_equal(stats(fx).cache_hits, 3);
}

/*
 * query_answer() in the worker's steps (query_prepare(), query_prefetch(),
 * query_answer_prepared()), for name/A from a client over tp.
 */
static enum query_next
ask_steps(struct fx *fx, struct query *q, const char *from, const char *name,
    uint8_t *out, size_t cap)
{
	uint8_t	pkt[512];
	size_t	len;

	len = mkpkt(name, LDNS_RR_TYPE_A, PKT_EDNS, pkt, sizeof pkt);
	qinit(q, &tp_udp, from, out, cap);
	query_prepare(fx->qc, fx->snap, q, pkt, len);
	memset(pkt, 0, sizeof pkt);	/* q must not need it any more */
	query_prefetch(fx->qc, fx->snap, q);
	return (query_answer_prepared(fx->qc, fx->snap, q));
}

/* name/A with EDNS from a client over UDP: query_answer(), or in steps. */
static enum query_next
ask_way(struct fx *fx, struct query *q, const char *from, const char *name,
    uint8_t *out, size_t cap, int steps)
{
	if (steps)
		return (ask_steps(fx, q, from, name, out, cap));
	return (ask(fx, q, &tp_udp, from, name, LDNS_RR_TYPE_A, PKT_EDNS,
	    out, cap));
}

#define OPEN	"10.1.2.3"	/* in the board that blocks nothing */

/* A second board, Open, for 10.1.0.0/16: no lists, no canaries. */
static void
fx_open_board(struct fx *fx)
{
	tdir_write(&fx->dir, "boards/open.yaml",
	    "name: Open\n"
	    "networks: [ 10.1.0.0/16 ]\n"
	    "canaries: false\n");
}

/*
 * Answer name from a client, once as query_answer() does and once in the
 * worker's steps, and check both give rcode, EDE code (-1: none) and EDE
 * text, and first answer record (NULL: not checked). Returns the
 * verdict of the last.
 */
static enum policy_kind
check_answer(struct fx *fx, const char *from, const char *name, int rcode,
    int code, const char *text, const char *an)
{
	struct query	 q;
	ldns_pkt	*p;
	uint8_t		 out[4096];
	char		 got[256];
	int		 i;

	for (i = 0; i < 2; i++) {
		assert_int_equal(ask_way(fx, &q, from, name, out, sizeof out,
		    i), QUERY_SEND);
		p = parse(out, q.outlen);
		assert_int_equal(ldns_pkt_get_rcode(p), rcode);
		assert_int_equal(ede(p, got, sizeof got), code);
		if (text != NULL)
			assert_string_equal(got, text);
		if (an != NULL)
			assert_an(p, 0, an);
		ldns_pkt_free(p);
	}
	return (q.verdict.kind);
}

/*
 * A cache hit takes its question's verdict from the bits the entry keeps
 * (policy_question_bits()) when they say the board passes it, and asks
 * the policy otherwise: names cached for a board that lets them through
 * (Open) are blocked, rewritten or allowed for one that does not (School:
 * its list, deny list, canaries, safe search, allow list), with the
 * EDE and answer of the policy's own verdict, on the first hit (bits
 * worked out) and the ones after (bits kept).
 */
static void
test_cache_hit_question(void **state)
{
	struct fx		*fx = *state;
	const char *const	 tracker[] = {
		"tracker.ads.example.nl. 300 IN A 192.0.2.7", NULL };
	const char *const	 canary[] = {
		"use-application-dns.net. 300 IN A 192.0.2.8", NULL };
	const char *const	 google[] = {
		"www.google.nl. 300 IN A 192.0.2.9", NULL };
	const char *const	 target[] = {
		"forcesafesearch.google.com. 300 IN A 216.239.38.120", NULL };
	const char *const	 allowed[] = {
		"allowed.example.nl. 300 IN A " BADIP, NULL };
	const char *const	 denied[] = {
		"www.denied.example. 300 IN A 192.0.2.10", NULL };
	const char *const	 plain[] = {
		"www.example.nl. 300 IN A 192.0.2.1", NULL };
	struct cache_stats	 cs;
	int			 round;
	uint32_t		 now;

	fx_open_board(fx);
	fx->snap = fx_load(fx, "1s", 3, "127.0.0.0/16",
	    "deny: [ denied.example ]\n");
	snapshot_free(snapshot_swap(fx->snap));
	now = fresh_second();
	cache_put(fx, "tracker.ads.example.nl.", tracker, now, 1);
	cache_put(fx, "use-application-dns.net.", canary, now, 1);
	cache_put(fx, "www.google.nl.", google, now, 1);
	cache_put(fx, "forcesafesearch.google.com.", target, now, 1);
	cache_put(fx, "allowed.example.nl.", allowed, now, 1);
	cache_put(fx, "www.denied.example.", denied, now, 1);
	cache_put(fx, "www.example.nl.", plain, now, 1);

	for (round = 0; round < 2; round++) {
		/* Open: every one a plain hit, its own answer. */
		assert_int_equal(check_answer(fx, OPEN,
		    "tracker.ads.example.nl.", LDNS_RCODE_NOERROR, -1, NULL,
		    "tracker.ads.example.nl.\t300\tIN\tA\t192.0.2.7"),
		    POLICY_PASS);
		check_answer(fx, OPEN, "use-application-dns.net.",
		    LDNS_RCODE_NOERROR, -1, NULL,
		    "use-application-dns.net.\t300\tIN\tA\t192.0.2.8");
		check_answer(fx, OPEN, "www.google.nl.", LDNS_RCODE_NOERROR,
		    -1, NULL, "www.google.nl.\t300\tIN\tA\t192.0.2.9");
		/* Not allowed in Open: its address is blocked nowhere. */
		check_answer(fx, OPEN, "allowed.example.nl.",
		    LDNS_RCODE_NOERROR, -1, NULL,
		    "allowed.example.nl.\t300\tIN\tA\t" BADIP);
		check_answer(fx, OPEN, "www.denied.example.",
		    LDNS_RCODE_NOERROR, -1, NULL, NULL);

		/* School: the policy's verdicts, as if nothing were cached. */
		assert_int_equal(check_answer(fx, CLIENT,
		    "tracker.ads.example.nl.", LDNS_RCODE_NXDOMAIN,
		    WIRE_EDE_FILTERED, "blocked: ads", NULL), POLICY_BLOCK);
		check_answer(fx, CLIENT, "use-application-dns.net.",
		    LDNS_RCODE_NXDOMAIN, WIRE_EDE_BLOCKED, "blocked: canary",
		    NULL);
		assert_int_equal(check_answer(fx, CLIENT, "www.google.nl.",
		    LDNS_RCODE_NOERROR, -1, NULL,
		    "www.google.nl.\t42\tIN\tCNAME\tforcesafesearch.google.com."),
		    POLICY_REWRITE);
		/* Allowed: its answer not inspected (BADIP is blocked). */
		assert_int_equal(check_answer(fx, CLIENT,
		    "allowed.example.nl.", LDNS_RCODE_NOERROR, -1, NULL,
		    "allowed.example.nl.\t300\tIN\tA\t" BADIP),
		    POLICY_ALLOWED);
		check_answer(fx, CLIENT, "www.denied.example.",
		    LDNS_RCODE_NXDOMAIN, WIRE_EDE_FILTERED,
		    "blocked: deny list", NULL);
		assert_int_equal(check_answer(fx, CLIENT, "www.example.nl.",
		    LDNS_RCODE_NOERROR, -1, NULL,
		    "www.example.nl.\t300\tIN\tA\t192.0.2.1"), POLICY_PASS);
	}
	/* Asked twice in two ways in two rounds: 4 answers a name. */
	assert_int_equal(stats(fx).blocked, 3 * 4);
	assert_int_equal(stats(fx).rewritten, 4);
	assert_int_equal(stats(fx).forwarded, 0);
	assert_int_equal(fx->up_queries, 0);
	/* A cache hit is counted once for each answer it wrote. */
	cache_stats(fx->cache, &cs);
	assert_int_equal(cs.hits, 5 * 4 + 3 * 4);
	assert_int_equal(cs.misses, 0);
}

/*
 * A reload never lets a verdict of the policy before it through: the
 * question bits kept with a cached answer are of a policy generation,
 * and worked out again under a new one. A name added to a blocked list
 * is blocked on the next hit of its cached answer; one taken off it is
 * answered from the cache.
 */
static void
test_cache_hit_reload(void **state)
{
	struct fx		*fx = *state;
	const char *const	 news[] = {
		"news.example.org. 300 IN A 192.0.2.11", NULL };
	const char *const	 ads[] = {
		"ads.example.nl. 300 IN A 192.0.2.12", NULL };
	uint32_t		 now;

	fx_open_board(fx);
	fx->snap = fx_load(fx, "1s", 3, "127.0.0.0/16", NULL);
	snapshot_free(snapshot_swap(fx->snap));
	/* ads.example.nl as the Open board's query would have cached it. */
	now = fresh_second();
	cache_put(fx, "news.example.org.", news, now, 1);
	cache_put(fx, "ads.example.nl.", ads, now, 1);
	check_answer(fx, CLIENT, "news.example.org.", LDNS_RCODE_NOERROR, -1,
	    NULL, "news.example.org.\t300\tIN\tA\t192.0.2.11");
	check_answer(fx, CLIENT, "ads.example.nl.", LDNS_RCODE_NXDOMAIN,
	    WIRE_EDE_FILTERED, "blocked: ads", NULL);

	/* The list now has news.example.org, not ads.example.nl. */
	tdir_write(&fx->dir, "lists/ads.txt", "news.example.org\n");
	fx->snap = fx_load(fx, "1s", 3, "127.0.0.0/16", NULL);
	snapshot_free(snapshot_swap(fx->snap));
	check_answer(fx, CLIENT, "news.example.org.", LDNS_RCODE_NXDOMAIN,
	    WIRE_EDE_FILTERED, "blocked: ads", NULL);
	check_answer(fx, CLIENT, "ads.example.nl.", LDNS_RCODE_NOERROR, -1,
	    NULL, "ads.example.nl.\t300\tIN\tA\t192.0.2.12");
	check_answer(fx, OPEN, "news.example.org.", LDNS_RCODE_NOERROR, -1,
	    NULL, "news.example.org.\t300\tIN\tA\t192.0.2.11");

	/* And back, with a deny list of the board's own this time. */
	tdir_write(&fx->dir, "lists/ads.txt", "ads.example.nl\n");
	fx->snap = fx_load(fx, "1s", 3, "127.0.0.0/16",
	    "deny: [ example.org ]\n");
	snapshot_free(snapshot_swap(fx->snap));
	check_answer(fx, CLIENT, "news.example.org.", LDNS_RCODE_NXDOMAIN,
	    WIRE_EDE_FILTERED, "blocked: deny list", NULL);
	check_answer(fx, CLIENT, "ads.example.nl.", LDNS_RCODE_NXDOMAIN,
	    WIRE_EDE_FILTERED, "blocked: ads", NULL);
	check_answer(fx, OPEN, "ads.example.nl.", LDNS_RCODE_NOERROR, -1,
	    NULL, "ads.example.nl.\t300\tIN\tA\t192.0.2.12");
	assert_int_equal(fx->up_queries, 0);
}

#define OTHER	"10.2.3.4"	/* in the board that denies ads.example.nl */

/*
 * Boards beside School for the memo's tests: Other (10.2.0.0/16), whose
 * deny list has ads.example.nl, answered NODATA, and which blocks the
 * RPZ list rpz (NXDOMAIN and NODATA by the zone's own word); and Open.
 */
static void
fx_memo_boards(struct fx *fx, const char *rpz)
{
	fx_open_board(fx);
	tdir_write(&fx->dir, "boards/other.yaml",
	    "name: Other\n"
	    "networks: [ 10.2.0.0/16 ]\n"
	    "block: [ rpz ]\n"
	    "deny: [ ads.example.nl ]\n"
	    "action: nodata\n");
	tdir_write(&fx->dir, "lists/rpz.zone",
	    "$TTL 300\n"
	    "$ORIGIN rpz.test.\n"
	    "@ SOA ns.test. admin.test. 1 3600 600 86400 60\n"
	    "@ NS ns.test.\n"
	    "nx.test CNAME .\n"
	    "*.nodata.test CNAME *.\n"
	    "walled.test CNAME garden.test.\n");
	fx->conf_extra = "  rpz: { file: lists/rpz.zone, format: rpz }\n";
	fx->snap = fx_load(fx, "1s", 3, "127.0.0.0/16", rpz);
	snapshot_free(snapshot_swap(fx->snap));
}

/*
 * Ask name/A from a client blocked for it, four times: the first from
 * the lists, the second from the lists too (the memo keeps a verdict
 * when its question comes again), the third (query_answer()) and fourth
 * (the worker's steps) from the memo, byte for byte the same answer,
 * verdict and statistics' category. The first is checked: rcode, EDE
 * code and text, and the SOA's owner (the blocked suffix: apex_off) when
 * there is one.
 */
static void
assert_memo_block(struct fx *fx, const char *from, const char *name,
    int rcode, int code, const char *text, const char *soa)
{
	struct query		 q;
	struct policy_verdict	 v;
	ldns_pkt		*p;
	uint8_t			 first[4096], out[4096];
	char			 got[256], *owner;
	size_t			 len;
	uint64_t		 hits = stats(fx).memo_hits;
	int			 cat, i;

	assert_int_equal(ask(fx, &q, &tp_udp, from, name, LDNS_RR_TYPE_A,
	    PKT_EDNS, first, sizeof first), QUERY_SEND);
	assert_int_equal(q.verdict.kind, POLICY_BLOCK);
	assert_int_equal(stats(fx).memo_hits, hits);
	len = q.outlen;
	v = q.verdict;
	cat = q.cat;
	p = parse(first, len);
	assert_int_equal(ldns_pkt_get_rcode(p), rcode);
	assert_int_equal(ede(p, got, sizeof got), code);
	assert_string_equal(got, text);
	if (soa != NULL) {
		assert_int_equal(ldns_pkt_nscount(p), 1);
		owner = ldns_rdf2str(ldns_rr_owner(ldns_rr_list_rr(
		    ldns_pkt_authority(p), 0)));
		assert_string_equal(owner, soa);
		free(owner);
	}
	ldns_pkt_free(p);

	for (i = -1; i < 2; i++) {
		memset(out, 0xee, sizeof out);
		assert_int_equal(ask_way(fx, &q, from, name, out, sizeof out,
		    i < 0 ? 0 : i), QUERY_SEND);
		assert_int_equal(q.outlen, len);
		assert_memory_equal(out, first, len);
		assert_int_equal(q.verdict.kind, v.kind);
		assert_int_equal(q.verdict.rule, v.rule);
		assert_int_equal(q.verdict.bit, v.bit);
		assert_int_equal(q.verdict.action, v.action);
		assert_int_equal(q.verdict.ede_code, v.ede_code);
		assert_ptr_equal(q.verdict.ede_text, v.ede_text);
		assert_int_equal(q.verdict.apex_off, v.apex_off);
		assert_int_equal(q.cat, cat);
		assert_int_equal(stats(fx).memo_hits, hits + (uint64_t)(i + 1));
	}
}

/*
 * A blocked name asked again takes its verdict from the worker's memo:
 * the same answer as from the lists, for a list (its suffix in the SOA),
 * the deny list, a canary, an RPZ NXDOMAIN and NODATA; a cached name a
 * board blocks too. An RPZ CNAME (a rewrite) is not kept.
 */
static void
test_memo_blocked(void **state)
{
	struct fx		*fx = *state;
	const char *const	 ads[] = {
		"x.ads.example.nl. 300 IN A 192.0.2.1", NULL };
	struct query		 q;
	uint8_t			 out[4096];
	uint64_t		 hits;
	int			 i;

	fx_memo_boards(fx, "deny: [ denied.example ]\n");
	assert_memo_block(fx, CLIENT, "Tracker.ADS.example.nl.",
	    LDNS_RCODE_NXDOMAIN, WIRE_EDE_FILTERED, "blocked: ads",
	    "ADS.example.nl.");
	assert_memo_block(fx, CLIENT, "a.b.www.denied.example.",
	    LDNS_RCODE_NXDOMAIN, WIRE_EDE_FILTERED, "blocked: deny list",
	    "denied.example.");
	assert_memo_block(fx, CLIENT, "use-application-dns.net.",
	    LDNS_RCODE_NXDOMAIN, WIRE_EDE_BLOCKED, "blocked: canary",
	    "use-application-dns.net.");
	assert_memo_block(fx, OTHER, "nx.test.", LDNS_RCODE_NXDOMAIN,
	    WIRE_EDE_FILTERED, "blocked: rpz", "nx.test.");
	assert_memo_block(fx, OTHER, "a.nodata.test.", LDNS_RCODE_NOERROR,
	    WIRE_EDE_FILTERED, "blocked: rpz", NULL);
	/* Cached for Open, blocked for School: from the memo too. */
	cache_put(fx, "x.ads.example.nl.", ads, cache_now(), 1);
	assert_memo_block(fx, CLIENT, "x.ads.example.nl.",
	    LDNS_RCODE_NXDOMAIN, WIRE_EDE_FILTERED, "blocked: ads",
	    "ads.example.nl.");

	/* Three times: a block would come from the memo by the third. */
	hits = stats(fx).memo_hits;
	for (i = 0; i < 3; i++) {
		assert_int_equal(ask(fx, &q, &tp_udp, OTHER, "walled.test.",
		    LDNS_RR_TYPE_A, 0, out, sizeof out), QUERY_FORWARD);
		assert_int_equal(q.verdict.kind, POLICY_REWRITE);
	}
	assert_int_equal(stats(fx).memo_hits, hits);
	assert_int_equal(stats(fx).blocked, 6 * 4);
}

#define MANY		3000	/* distinct blocked names: more than the
				   memo holds (MEMO_SETS * MEMO_WAYS) */

/* Name i of test_steps_many_blocked(), and the client asking it. */
static const char *
many_name(int i, char *name, size_t cap)
{
	/* Now and then the name before again: a repeat a step behind. */
	if (i % 10 == 9)
		i--;
	switch (i % 4) {
	case 0:
	case 1:
		snprintf(name, cap, "n%d.ads.example.nl.", i);
		return (CLIENT);
	case 2:
		snprintf(name, cap, "n%d.www.denied.example.", i);
		return (CLIENT);
	default:
		snprintf(name, cap, "n%d.nodata.test.", i);
		return (OTHER);
	}
}

/*
 * The boards of a batch found once (query_batch_prefetch()) and taken by
 * query_prepare_batch(): datagrams from three boards and from no board,
 * a blocked name and an allowed one, and one prepared past the batch's
 * boards (looked up as query_prepare() does), give each the board, index
 * and hot part, the answer and the verdict that query_answer() gives the
 * same query alone.
 */
static void
test_batch_boards(void **state)
{
	struct fx		*fx = *state;
	const char		*from[] = { CLIENT, OTHER, OPEN, STRANGER,
				    OTHER, CLIENT, OPEN };
	const char		*name[] = { "ads.example.nl.", "n1.nodata.test.",
				    "ads.example.nl.", "ads.example.nl.",
				    "ads.example.nl.", "n2.www.denied.example.",
				    "n3.nodata.test." };
	struct query		 qs[7], q;
	struct sockaddr_storage	 ss[7];
	struct timespec		 now;
	enum query_next		 next[7];
	uint8_t			 pkt[7][512], out[7][512], one[512];
	size_t			 len[7];
	unsigned		 i, n = 6;	/* the 7th: past the batch's */

	fx_memo_boards(fx, "deny: [ denied.example ]\n");
	clock_gettime(CLOCK_MONOTONIC, &now);
	snapshot_read_begin();
	query_batch_begin(fx->qc, &now);
	for (i = 0; i < 7; i++) {
		len[i] = mkpkt(name[i], LDNS_RR_TYPE_A, PKT_EDNS, pkt[i],
		    sizeof pkt[i]);
		qinit(&qs[i], &tp_udp, from[i], out[i], sizeof out[i]);
		memcpy(&ss[i], &qs[i].from, sizeof ss[i]);
	}
	for (i = 0; i < n; i++)
		query_batch_prefetch_net(fx->snap,
		    (const struct sockaddr *)&ss[i]);
	for (i = 0; i < n; i++)
		query_batch_prefetch(fx->qc, fx->snap,
		    (const struct sockaddr *)&ss[i]);
	for (i = 0; i < 7; i++) {
		query_prepare_batch(fx->qc, fx->snap, &qs[i], pkt[i], len[i],
		    i);
		query_prefetch(fx->qc, fx->snap, &qs[i]);
		next[i] = query_answer_prepared(fx->qc, fx->snap, &qs[i]);
	}
	query_batch_end(fx->qc);
	snapshot_read_end();

	for (i = 0; i < 7; i++) {
		memset(one, 0xee, sizeof one);
		qinit(&q, &tp_udp, from[i], one, sizeof one);
		assert_int_equal(query_answer(fx->qc, fx->snap, &q, pkt[i],
		    len[i]), next[i]);
		assert_ptr_equal(qs[i].board, q.board);
		assert_ptr_equal(qs[i].hot, q.hot);
		if (q.board == NULL) {
			assert_string_equal(from[i], STRANGER);
			assert_int_equal(qs[i].how, q.how);
		} else
			assert_int_equal(qs[i].bindex, q.board->index);
		assert_int_equal(qs[i].verdict.kind, q.verdict.kind);
		assert_int_equal(qs[i].verdict.rule, q.verdict.rule);
		if (next[i] == QUERY_SEND) {
			assert_int_equal(qs[i].outlen, q.outlen);
			assert_memory_equal(out[i], one, q.outlen);
		}
	}
	/* Blocked by a list, a deny list and RPZ; refused; passed. */
	assert_int_equal(qs[0].verdict.kind, POLICY_BLOCK);
	assert_int_equal(qs[4].verdict.rule, POLICY_RULE_DENY);
	assert_int_equal(qs[5].verdict.rule, POLICY_RULE_DENY);
	assert_int_equal(qs[1].verdict.kind, POLICY_BLOCK);
	assert_int_equal(next[3], QUERY_SEND);
	assert_int_equal(next[2], QUERY_FORWARD);
}

/*
 * More distinct blocked names than the memo holds (lists, deny list, RPZ
 * NODATA; some asked twice in a row), through the worker's steps as
 * worker_udp_answer() takes them (query_prepare() two datagrams ahead,
 * query_prefetch() one ahead, which asks for the lists' places of a name
 * the memo lacks, then query_answer_prepared()), give byte for byte the
 * answers, verdicts and categories of query_answer() one by one, and the
 * same count of blocked answers.
 */
static void
test_steps_many_blocked(void **state)
{
	struct fx		*fx = *state;
	struct query		 qs[3], q, *sq;
	struct policy_verdict	*v;
	uint8_t			(*pkt)[512], (*out)[512], one[512];
	size_t			*len, plen;
	uint64_t		 blocked;
	char			 name[64];
	const char		*from;
	int			 i, *cat;

	fx_memo_boards(fx, "deny: [ denied.example ]\n");
	pkt = calloc(MANY, sizeof *pkt);
	out = calloc(MANY, sizeof *out);
	len = calloc(MANY, sizeof *len);
	v = calloc(MANY, sizeof *v);
	cat = calloc(MANY, sizeof *cat);
	assert_true(pkt != NULL && out != NULL && len != NULL && v != NULL &&
	    cat != NULL);
	for (i = 0; i < MANY; i++) {
		many_name(i, name, sizeof name);
		len[i] = mkpkt(name, LDNS_RR_TYPE_A, PKT_EDNS, pkt[i],
		    sizeof pkt[i]);
	}

	/* The worker's steps, on a ring of three queries. */
	blocked = stats(fx).blocked;
	for (i = 0; i < MANY + 2; i++) {
		if (i < MANY) {
			from = many_name(i, name, sizeof name);
			qinit(&qs[i % 3], &tp_udp, from, out[i],
			    sizeof out[i]);
			query_prepare(fx->qc, fx->snap, &qs[i % 3], pkt[i],
			    len[i]);
		}
		if (i >= 1 && i - 1 < MANY)
			query_prefetch(fx->qc, fx->snap, &qs[(i - 1) % 3]);
		if (i < 2)
			continue;
		sq = &qs[(i - 2) % 3];
		assert_int_equal(query_answer_prepared(fx->qc, fx->snap, sq),
		    QUERY_SEND);
		assert_int_equal(sq->verdict.kind, POLICY_BLOCK);
		len[i - 2] = sq->outlen;
		v[i - 2] = sq->verdict;
		cat[i - 2] = sq->cat;
	}
	assert_int_equal(stats(fx).blocked, blocked + MANY);

	/* query_answer() one by one: the same (len now the answers'). */
	for (i = 0; i < MANY; i++) {
		from = many_name(i, name, sizeof name);
		plen = mkpkt(name, LDNS_RR_TYPE_A, PKT_EDNS, pkt[0],
		    sizeof pkt[0]);
		memset(one, 0xee, sizeof one);
		qinit(&q, &tp_udp, from, one, sizeof one);
		assert_int_equal(query_answer(fx->qc, fx->snap, &q, pkt[0],
		    plen), QUERY_SEND);
		assert_int_equal(q.outlen, len[i]);
		assert_memory_equal(one, out[i], len[i]);
		assert_int_equal(q.verdict.kind, v[i].kind);
		assert_int_equal(q.verdict.rule, v[i].rule);
		assert_int_equal(q.verdict.bit, v[i].bit);
		assert_int_equal(q.verdict.action, v[i].action);
		assert_int_equal(q.verdict.ede_code, v[i].ede_code);
		assert_ptr_equal(q.verdict.ede_text, v[i].ede_text);
		assert_int_equal(q.verdict.apex_off, v[i].apex_off);
		assert_int_equal(q.cat, cat[i]);
	}
	assert_int_equal(stats(fx).blocked, blocked + 2 * MANY);
	free(pkt);
	free(out);
	free(len);
	free(v);
	free(cat);
}

/* Ask name/A from a client: the verdict, and the EDE text into text. */
static enum policy_kind
memo_verdict(struct fx *fx, const char *from, const char *name,
    enum query_next next, char *text, size_t cap)
{
	struct query	 q;
	ldns_pkt	*p;
	uint8_t		 out[4096];

	text[0] = '\0';
	assert_int_equal(ask(fx, &q, &tp_udp, from, name, LDNS_RR_TYPE_A,
	    PKT_EDNS, out, sizeof out), next);
	if (next == QUERY_SEND) {
		p = parse(out, q.outlen);
		ede(p, text, cap);
		ldns_pkt_free(p);
	}
	return (q.verdict.kind);
}

/*
 * Boards keep their own verdicts: one name asked by School (its list),
 * Other (its deny list, NODATA) and Open (passed: forwarded), one after
 * the other, each gets its board's answer from the memo as from the
 * lists; and after a reload the memo's verdicts are of no use: a name
 * taken off the list passes, one put on it is blocked, and a board's new
 * action (the lists unchanged, shared with the policy before) holds.
 */
static void
test_memo_reload(void **state)
{
	struct fx	*fx = *state;
	char		 text[256];
	int		 i;

	fx_memo_boards(fx, NULL);
	for (i = 0; i < 4; i++) {
		assert_int_equal(memo_verdict(fx, CLIENT, "ads.example.nl.",
		    QUERY_SEND, text, sizeof text), POLICY_BLOCK);
		assert_string_equal(text, "blocked: ads");
		assert_int_equal(memo_verdict(fx, OTHER, "ads.example.nl.",
		    QUERY_SEND, text, sizeof text), POLICY_BLOCK);
		assert_string_equal(text, "blocked: deny list");
		assert_int_equal(memo_verdict(fx, OPEN, "ads.example.nl.",
		    QUERY_FORWARD, text, sizeof text), POLICY_PASS);
	}
	assert_int_equal(stats(fx).memo_hits, 2 * 2);

	/* The list now has news.example.org, not ads.example.nl. */
	tdir_write(&fx->dir, "lists/ads.txt", "news.example.org\n");
	fx->snap = fx_load(fx, "1s", 3, "127.0.0.0/16", NULL);
	snapshot_free(snapshot_swap(fx->snap));
	assert_int_equal(memo_verdict(fx, CLIENT, "ads.example.nl.",
	    QUERY_FORWARD, text, sizeof text), POLICY_PASS);
	for (i = 0; i < 3; i++)
		assert_int_equal(memo_verdict(fx, CLIENT, "news.example.org.",
		    QUERY_SEND, text, sizeof text), POLICY_BLOCK);
	assert_string_equal(text, "blocked: ads");
	assert_int_equal(stats(fx).memo_hits, 2 * 2 + 1);

	/* The same lists, School's action now NODATA. */
	fx->snap = fx_load(fx, "1s", 3, "127.0.0.0/16", "action: nodata\n");
	snapshot_free(snapshot_swap(fx->snap));
	assert_memo_block(fx, CLIENT, "news.example.org.", LDNS_RCODE_NOERROR,
	    WIRE_EDE_FILTERED, "blocked: ads", "news.example.org.");
}

/*
 * More blocked names than the memo has room for, of two kinds (a list's,
 * the deny list's) with other EDE texts and suffixes, asked in a random
 * order, most of them of a few hundred often asked: they share sets and
 * push each other out, those asked often are answered from the memo,
 * and each answer is still its own name's.
 */
static void
test_memo_crowded(void **state)
{
	struct fx	*fx = *state;
	struct query	 q;
	ldns_pkt	*p;
	uint8_t		 out[4096];
	char		 name[64], text[256], *owner;
	uint32_t	 x = 1;
	int		 i, n, deny, asks = 4 * MEMO_SETS * MEMO_WAYS;

	fx_memo_boards(fx, "deny: [ denied.example ]\n");
	for (i = 0; i < asks; i++) {
		x = x * 1103515245 + 12345;
		n = (int)((x >> 8) % (i % 4 == 0 ? (unsigned)asks : 500));
		deny = n % 3 == 0;
		snprintf(name, sizeof name, "n%d.%s", n, deny ?
		    "denied.example." : "ads.example.nl.");
		assert_int_equal(ask(fx, &q, &tp_udp, CLIENT, name,
		    LDNS_RR_TYPE_A, PKT_EDNS, out, sizeof out), QUERY_SEND);
		p = parse(out, q.outlen);
		assert_int_equal(ede(p, text, sizeof text),
		    WIRE_EDE_FILTERED);
		assert_string_equal(text, deny ? "blocked: deny list" :
		    "blocked: ads");
		owner = ldns_rdf2str(ldns_rr_owner(ldns_rr_list_rr(
		    ldns_pkt_authority(p), 0)));
		assert_string_equal(owner, deny ? "denied.example." :
		    "ads.example.nl.");
		free(owner);
		ldns_pkt_free(p);
		/* The question's name, echoed: its first label. */
		assert_memory_equal(out + WIRE_HDR_LEN + 1, name,
		    strchr(name, '.') - name);
	}
	assert_int_equal(stats(fx).blocked, asks);
	print_message("  %llu of %d from the memo\n",
	    (unsigned long long)stats(fx).memo_hits, asks);
	assert_true(stats(fx).memo_hits > (uint64_t)asks / 2);
	assert_true(stats(fx).memo_hits < (uint64_t)asks);
}

/*
 * The transport's size rule: over a datagram transport an answer larger
 * than the client takes (512 without EDNS) is truncated with TC=1; over a
 * stream it goes whole.
 */
static void
test_transport_size(void **state)
{
	struct fx	*fx = *state;
	char		 lines[40][64];
	const char	*rrs[41];
	struct query	 q;
	ldns_pkt	*p;
	uint8_t		 out[4096];
	int		 i;

	for (i = 0; i < 40; i++) {
		snprintf(lines[i], sizeof lines[i],
		    "big.example.nl. 300 IN A 192.0.2.%d", i + 1);
		rrs[i] = lines[i];
	}
	rrs[40] = NULL;
	cache_put(fx, "big.example.nl.", rrs, cache_now(), 1);

	assert_int_equal(ask(fx, &q, &tp_udp, CLIENT, "big.example.nl.",
	    LDNS_RR_TYPE_A, 0, out, sizeof out), QUERY_SEND);
	assert_true(q.outlen <= WIRE_MIN_UDP);
	p = parse(out, q.outlen);
	assert_true(ldns_pkt_tc(p));
	assert_int_equal(ldns_pkt_ancount(p), 0);
	ldns_pkt_free(p);

	assert_int_equal(ask(fx, &q, &tp_tcp, CLIENT, "big.example.nl.",
	    LDNS_RR_TYPE_A, 0, out, sizeof out), QUERY_SEND);
	assert_true(q.outlen > WIRE_MIN_UDP);
	p = parse(out, q.outlen);
	assert_false(ldns_pkt_tc(p));
	assert_int_equal(ldns_pkt_ancount(p), 40);
	ldns_pkt_free(p);
}

/* A miss: QUERY_FORWARD, nothing written, nothing asked yet. */
static void
test_miss_forward(void **state)
{
	struct fx	*fx = *state;
	struct query	 q;
	uint8_t		 out[4096];

	memset(out, 0xee, sizeof out);
	assert_int_equal(ask(fx, &q, &tp_udp, CLIENT, "www.example.nl.",
	    LDNS_RR_TYPE_A, 0, out, sizeof out), QUERY_FORWARD);
	assert_int_equal(q.verdict.kind, POLICY_PASS);
	assert_non_null(q.board);
	assert_false(q.rewrite);
	assert_int_equal(q.wq.id, 0x4242);
	assert_int_equal(out[0], 0xee);
	assert_int_equal(stats(fx).forwarded, 1);
	assert_int_equal(stats(fx).cache_hits, 0);
	assert_int_equal(fx->up_queries, 0);
}

/*
 * query_finish() on an upstream answer: written for the client; blocked
 * when the answer points into a blocked list (bits of an older policy are
 * worked out again); for a rewrite, the CNAME and the target's answer.
 */
static void
test_finish_upstream(void **state)
{
	struct fx		*fx = *state;
	const char *const	 good[] = {
		"www.example.nl. 300 IN A 192.0.2.1", NULL };
	const char *const	 bad[] = {
		"www.example.nl. 300 IN A " BADIP, NULL };
	const char *const	 safe[] = {
		"forcesafesearch.google.com. 300 IN A 216.239.38.120", NULL };
	struct query_settled	 s = { NULL, NULL, 0, 0, 1 };
	struct wire_scan	 sc;
	struct query		 q;
	ldns_pkt		*p;
	uint8_t			 out[4096], msg[4096];
	char			 text[256];

	assert_int_equal(ask(fx, &q, &tp_udp, CLIENT, "WWW.example.nl.",
	    LDNS_RR_TYPE_A, PKT_EDNS, out, sizeof out), QUERY_FORWARD);
	mkans("www.example.nl.", good, msg, sizeof msg, &sc);
	s.msg = msg;
	s.sc = &sc;
	s.gen = policy_generation(fx->snap->policy);
	assert_true(query_finish(fx->qc, fx->snap, &q, &s) > 0);
	p = parse(out, q.outlen);
	assert_int_equal(ldns_pkt_get_rcode(p), LDNS_RCODE_NOERROR);
	/* The client's spelling, in the answer's owner (a pointer) too. */
	assert_memory_equal(out + WIRE_HDR_LEN, "\003WWW\007example\002nl",
	    16);
	assert_an(p, 0, "WWW.example.nl.\t300\tIN\tA\t192.0.2.1");
	ldns_pkt_free(p);

	/* Bits of generation 0 (no policy): inspected again, blocked. */
	mkans("www.example.nl.", bad, msg, sizeof msg, &sc);
	s.mask = 0;
	s.gen = 0;
	assert_true(query_finish(fx->qc, fx->snap, &q, &s) > 0);
	p = parse(out, q.outlen);
	assert_int_equal(ldns_pkt_get_rcode(p), LDNS_RCODE_NXDOMAIN);
	assert_int_equal(ede(p, text, sizeof text), WIRE_EDE_FILTERED);
	assert_string_equal(text, "blocked: badip");
	ldns_pkt_free(p);
	assert_int_equal(stats(fx).blocked, 1);

	/* A rewrite: the answer about the target, behind the CNAME. */
	assert_int_equal(ask(fx, &q, &tp_udp, CLIENT, "www.google.nl.",
	    LDNS_RR_TYPE_A, 0, out, sizeof out), QUERY_FORWARD);
	mkans("forcesafesearch.google.com.", safe, msg, sizeof msg, &sc);
	s.gen = policy_generation(fx->snap->policy);
	assert_true(query_finish(fx->qc, fx->snap, &q, &s) > 0);
	p = parse(out, q.outlen);
	assert_int_equal(ldns_pkt_ancount(p), 2);
	assert_an(p, 0, "www.google.nl.\t42\tIN\tCNAME\t"
	    "forcesafesearch.google.com.");
	assert_an(p, 1, "forcesafesearch.google.com.\t300\tIN\tA\t"
	    "216.239.38.120");
	ldns_pkt_free(p);
	assert_int_equal(stats(fx).rewritten, 1);
	assert_int_equal(stats(fx).servfail, 0);
}

/*
 * query_finish() when the upstreams failed: a stale entry answers with
 * TTL 30 and EDE 3; without one, SERVFAIL, or nothing at all when the
 * caller only wants what the cache has.
 */
static void
test_finish_failed(void **state)
{
	struct fx		*fx = *state;
	const char *const	 rrs[] = {
		"stale.example.nl. 10 IN A 192.0.2.5", NULL };
	struct query_settled	 s = { NULL, NULL, 0, 0, 1 };
	struct query		 q;
	ldns_pkt		*p;
	uint8_t			 out[4096];
	char			 text[256];

	/* Expired 10 seconds ago: not a hit, but still within serve-stale. */
	assert_true(cache_now() > 20);
	cache_put(fx, "stale.example.nl.", rrs, cache_now() - 20, 1);
	assert_int_equal(ask(fx, &q, &tp_udp, CLIENT, "stale.example.nl.",
	    LDNS_RR_TYPE_A, PKT_EDNS, out, sizeof out), QUERY_FORWARD);
	assert_true(query_finish(fx->qc, fx->snap, &q, &s) > 0);
	p = parse(out, q.outlen);
	assert_int_equal(ldns_pkt_get_rcode(p), LDNS_RCODE_NOERROR);
	assert_an(p, 0, "stale.example.nl.\t30\tIN\tA\t192.0.2.5");
	assert_int_equal(ede(p, text, sizeof text), WIRE_EDE_STALE);
	ldns_pkt_free(p);
	assert_int_equal(stats(fx).stale, 1);

	assert_int_equal(ask(fx, &q, &tp_udp, CLIENT, "gone.example.nl.",
	    LDNS_RR_TYPE_A, PKT_EDNS, out, sizeof out), QUERY_FORWARD);
	s.servfail = 0;
	assert_int_equal(query_finish(fx->qc, fx->snap, &q, &s), 0);
	assert_int_equal(stats(fx).servfail, 0);
	s.servfail = 1;
	assert_true(query_finish(fx->qc, fx->snap, &q, &s) > 0);
	p = parse(out, q.outlen);
	assert_int_equal(ldns_pkt_get_rcode(p), LDNS_RCODE_SERVFAIL);
	assert_int_equal(ldns_pkt_ancount(p), 0);
	ldns_pkt_free(p);
	assert_int_equal(stats(fx).servfail, 1);
	assert_int_equal(stats(fx).stale, 1);
}

/*
 * A reload while a query is out: its board's networks no longer hold the
 * client (REFUSED), or the board now denies the name (blocked).
 */
static void
test_finish_reload(void **state)
{
	struct fx		*fx = *state;
	const char *const	 rrs[] = {
		"www.example.nl. 300 IN A 192.0.2.1", NULL };
	struct query_settled	 s = { NULL, NULL, 0, 0, 1 };
	struct snapshot		*gone, *deny;
	struct wire_scan	 sc;
	struct query		 q;
	ldns_pkt		*p;
	uint8_t			 out[4096], msg[4096];
	char			 text[256];

	assert_int_equal(ask(fx, &q, &tp_udp, CLIENT, "www.example.nl.",
	    LDNS_RR_TYPE_A, PKT_EDNS, out, sizeof out), QUERY_FORWARD);
	assert_int_equal(q.gen, policy_generation(fx->snap->policy));
	mkans("www.example.nl.", rrs, msg, sizeof msg, &sc);
	s.msg = msg;
	s.sc = &sc;

	gone = fx_load(fx, "1s", 3, "192.0.2.0/24", NULL);
	assert_true(query_finish(fx->qc, gone, &q, &s) > 0);
	assert_null(q.board);
	p = parse(out, q.outlen);
	assert_int_equal(ldns_pkt_get_rcode(p), LDNS_RCODE_REFUSED);
	ldns_pkt_free(p);
	assert_int_equal(stats(fx).refused, 1);

	deny = fx_load(fx, "1s", 3, "127.0.0.0/16", "deny: [ example.nl ]\n");
	s.gen = policy_generation(deny->policy);
	assert_true(query_finish(fx->qc, deny, &q, &s) > 0);
	p = parse(out, q.outlen);
	assert_int_equal(ldns_pkt_get_rcode(p), LDNS_RCODE_NXDOMAIN);
	assert_int_equal(ede(p, text, sizeof text), WIRE_EDE_FILTERED);
	assert_string_equal(text, "blocked: deny list");
	ldns_pkt_free(p);
	assert_int_equal(stats(fx).blocked, 1);
	assert_int_equal(q.gen, policy_generation(deny->policy));

	/* The same policy again: its decision stands, no second lookup. */
	q.verdict.kind = POLICY_PASS;
	assert_true(query_finish(fx->qc, deny, &q, &s) > 0);
	p = parse(out, q.outlen);
	assert_int_equal(ldns_pkt_get_rcode(p), LDNS_RCODE_NOERROR);
	ldns_pkt_free(p);
	snapshot_free(gone);
	snapshot_free(deny);
}

/* query_answer() for name over the test transport, then forward it. */
static void
forward(struct fx *fx, struct query_ctx *qc, struct late *l,
    const char *name)
{
	uint8_t	out[4096], pkt[512];
	size_t	len;

	memset(l, 0, sizeof *l);
	l->alive = 1;
	len = mkpkt(name, LDNS_RR_TYPE_A, PKT_EDNS, pkt, sizeof pkt);
	qinit(&l->q, &tp_udp, CLIENT, out, sizeof out);
	assert_int_equal(query_answer(qc, fx->snap, &l->q, pkt, len),
	    QUERY_FORWARD);
	assert_int_equal(query_forward(qc, fx->snap, &l->q), 0);
	/* Late answers go to the worker's scratch, not to out. */
	assert_ptr_not_equal(l->q.out, out);
	assert_int_equal(l->sent, 0);
}

/* The whole life: asked upstream, answered, released, then cached. */
static void
test_life_answered(void **state)
{
	struct fx	*fx = *state;
	struct late	 l;
	struct query	 q;
	ldns_pkt	*p;
	uint8_t		 out[4096];

	forward(fx, fx->qc, &l, "www.example.nl.");
	assert_int_equal(l.q.state, QUERY_ASKING);
	assert_true(l.q.token != 0);
	run_until(fx, &l.released, 1);
	assert_int_equal(l.sent, 1);
	assert_int_equal(l.sent_state, QUERY_DONE);
	p = parse(l.ans, l.anslen);
	assert_an(p, 0, "www.example.nl.\t300\tIN\tA\t192.0.2.1");
	ldns_pkt_free(p);
	assert_int_equal(fx->up_queries, 1);

	/* In the cache now. */
	assert_int_equal(ask(fx, &q, &tp_udp, CLIENT, "www.example.nl.",
	    LDNS_RR_TYPE_A, 0, out, sizeof out), QUERY_SEND);
	assert_int_equal(stats(fx).cache_hits, 1);
	assert_int_equal(stats(fx).forwarded, 1);
}

/* An answer that points into a blocked list is blocked on arrival. */
static void
test_life_blocked(void **state)
{
	struct fx	*fx = *state;
	struct late	 l;
	ldns_pkt	*p;

	fx->up_mode = FAKE_BADIP;
	forward(fx, fx->qc, &l, "evil.example.nl.");
	run_until(fx, &l.released, 1);
	assert_int_equal(l.sent, 1);
	p = parse(l.ans, l.anslen);
	assert_int_equal(ldns_pkt_get_rcode(p), LDNS_RCODE_NXDOMAIN);
	ldns_pkt_free(p);
	assert_int_equal(stats(fx).blocked, 1);
}

/*
 * Two workers ask the same question: the second waits for the first's
 * upstream query and answers from the cache. When the answer could not be
 * cached, the waiter asks itself.
 */
static void
test_life_shared(void **state)
{
	struct fx		*fx = *state;
	struct query_ctx	*qc2;
	struct query_stats	 st2;
	struct late		 a, b;
	ldns_pkt		*p;

	assert_non_null(qc2 = query_ctx_new(fx->base, fx->cache,
	    fx->inflight, NULL, 1, 64));
	forward(fx, fx->qc, &a, "www.example.nl.");
	forward(fx, qc2, &b, "www.example.nl.");
	assert_int_equal(a.q.state, QUERY_ASKING);
	assert_int_equal(b.q.state, QUERY_WAITING);
	assert_int_equal(b.q.token, 0);
	run_until(fx, &b.released, 1);
	run_until(fx, &a.released, 1);
	assert_int_equal(fx->up_queries, 1);
	assert_int_equal(b.sent, 1);
	p = parse(b.ans, b.anslen);
	assert_an(p, 0, "www.example.nl.\t300\tIN\tA\t192.0.2.1");
	ldns_pkt_free(p);
	query_ctx_stats(qc2, &st2);
	assert_int_equal(st2.shared, 1);
	assert_int_equal(st2.forwarded, 1);

	/* TTL 0: nothing cached, so the waiter asks on its own. */
	fx->up_mode = FAKE_TTL0;
	forward(fx, fx->qc, &a, "ttl0.example.nl.");
	forward(fx, qc2, &b, "ttl0.example.nl.");
	assert_int_equal(b.q.state, QUERY_WAITING);
	run_until(fx, &b.released, 1);
	assert_int_equal(a.released, 1);
	assert_int_equal(fx->up_queries, 3);
	assert_int_equal(a.sent, 1);
	assert_int_equal(b.sent, 1);
	p = parse(b.ans, b.anslen);
	assert_an(p, 0, "ttl0.example.nl.\t0\tIN\tA\t192.0.2.1");
	ldns_pkt_free(p);
	query_ctx_free(qc2);
}

/*
 * The upstreams are silent. With a stale entry the client response timer
 * answers from it while the question goes on, and nothing more is sent
 * when it fails; without one, SERVFAIL when every attempt has failed.
 */
static void
test_life_silent(void **state)
{
	struct fx		*fx = *state;
	const char *const	 rrs[] = {
		"stale.example.nl. 10 IN A 192.0.2.5", NULL };
	struct late		 l;
	ldns_pkt		*p;
	char			 text[256];

	fx->up_mode = FAKE_SILENT;
	fx_publish(fx, "1100ms", 2);
	assert_true(cache_now() > 20);
	cache_put(fx, "stale.example.nl.", rrs, cache_now() - 20, 1);
	forward(fx, fx->qc, &l, "stale.example.nl.");
	run_until(fx, &l.sent, 1);
	assert_int_equal(l.released, 0);
	assert_int_equal(l.q.state, QUERY_STALE);
	assert_int_equal(l.sent_state, QUERY_STALE);
	p = parse(l.ans, l.anslen);
	assert_an(p, 0, "stale.example.nl.\t30\tIN\tA\t192.0.2.5");
	assert_int_equal(ede(p, text, sizeof text), WIRE_EDE_STALE);
	ldns_pkt_free(p);
	run_until(fx, &l.released, 1);
	assert_int_equal(l.sent, 1);
	assert_int_equal(fx->up_queries, 2);
	assert_int_equal(stats(fx).stale, 1);
	assert_int_equal(stats(fx).servfail, 0);

	fx_publish(fx, "50ms", 1);
	forward(fx, fx->qc, &l, "nothing.example.nl.");
	run_until(fx, &l.released, 1);
	assert_int_equal(l.sent, 1);
	p = parse(l.ans, l.anslen);
	assert_int_equal(ldns_pkt_get_rcode(p), LDNS_RCODE_SERVFAIL);
	ldns_pkt_free(p);
	assert_int_equal(stats(fx).servfail, 1);
}

/* A client that went away (a closed connection) is sent nothing. */
static void
test_life_gone(void **state)
{
	struct fx	*fx = *state;
	struct late	 l;

	forward(fx, fx->qc, &l, "www.example.nl.");
	l.alive = 0;
	run_until(fx, &l.released, 1);
	assert_int_equal(l.sent, 0);
	assert_int_equal(fx->up_queries, 1);
}

/* Freeing the context with queries out releases them, sending nothing. */
static void
test_ctx_free(void **state)
{
	struct fx	*fx = *state;
	struct late	 a, b;

	forward(fx, fx->qc, &a, "one.example.nl.");
	forward(fx, fx->qc, &b, "two.example.nl.");
	query_ctx_free(fx->qc);
	assert_int_equal(a.released, 1);
	assert_int_equal(b.released, 1);
	assert_int_equal(a.sent + b.sent, 0);
	fx->qc = query_ctx_new(fx->base, fx->cache, fx->inflight, fx->rrl, 1,
	    64);
	assert_non_null(fx->qc);
}

/*
 * query_answer() for name from a client over the UDP test transport, then
 * query_forward(): its result. On -1 the transport's answer is written
 * with query_fallback() into l->ans.
 */
static int
try_forward(struct fx *fx, struct query_ctx *qc, struct late *l,
    const char *from, const char *name)
{
	uint8_t	pkt[512];
	size_t	len;
	int	r;

	memset(l, 0, sizeof *l);
	l->alive = 1;
	len = mkpkt(name, LDNS_RR_TYPE_A, PKT_EDNS, pkt, sizeof pkt);
	qinit(&l->q, &tp_udp, from, l->ans, sizeof l->ans);
	assert_int_equal(query_answer(qc, fx->snap, &l->q, pkt, len),
	    QUERY_FORWARD);
	if ((r = query_forward(qc, fx->snap, &l->q)) == -1)
		l->anslen = query_fallback(qc, fx->snap, &l->q);
	return (r);
}

/* The rcode of the answer in l->ans. */
static int
late_rcode(const struct late *l)
{
	ldns_pkt	*p = parse(l->ans, l->anslen);
	int		 rcode = ldns_pkt_get_rcode(p);

	ldns_pkt_free(p);
	return (rcode);
}

/*
 * limits.forwarded-per-question: the waiters of one worker's forwarder,
 * and those of other workers in the registry. Over the limit: stale if
 * the cache has it, else SERVFAIL, at once.
 */
static void
test_limit_question(void **state)
{
	struct fx		*fx = *state;
	const char *const	 rrs[] = {
		"hot.example.nl. 10 IN A 192.0.2.5", NULL };
	struct query_ctx	*qc2;
	struct query_stats	 st2;
	struct late		 a[3], b[3];
	ldns_pkt		*p;

	fx->up_mode = FAKE_SILENT;
	fx->conf_extra = "limits: { forwarded-per-question: 2 }\n";
	fx_publish(fx, "300ms", 1);
	assert_non_null(qc2 = query_ctx_new(fx->base, fx->cache,
	    fx->inflight, fx->rrl, 2, 64));
	assert_int_equal(try_forward(fx, fx->qc, &a[0], CLIENT,
	    "hot.example.nl."), 0);
	assert_int_equal(try_forward(fx, fx->qc, &a[1], "127.0.0.10",
	    "hot.example.nl."), 0);
	assert_int_equal(try_forward(fx, fx->qc, &a[2], "127.0.0.11",
	    "hot.example.nl."), -1);
	assert_int_equal(late_rcode(&a[2]), LDNS_RCODE_SERVFAIL);
	assert_int_equal(stats(fx).limit_question, 1);
	assert_int_equal(stats(fx).servfail, 1);

	/* Another worker: two wait in the registry, the third may not. */
	assert_int_equal(try_forward(fx, qc2, &b[0], CLIENT,
	    "hot.example.nl."), 0);
	assert_int_equal(b[0].q.state, QUERY_WAITING);
	assert_int_equal(try_forward(fx, qc2, &b[1], CLIENT,
	    "hot.example.nl."), 0);
	/* With a stale answer in the cache, that is what it gets. */
	assert_true(cache_now() > 20);
	cache_put(fx, "hot.example.nl.", rrs, cache_now() - 20, 1);
	assert_int_equal(try_forward(fx, qc2, &b[2], CLIENT,
	    "hot.example.nl."), -1);
	p = parse(b[2].ans, b[2].anslen);
	assert_an(p, 0, "hot.example.nl.\t30\tIN\tA\t192.0.2.5");
	ldns_pkt_free(p);
	query_ctx_stats(qc2, &st2);
	assert_int_equal(st2.limit_question, 1);
	assert_int_equal(st2.stale, 1);

	/* One upstream query for them all; everyone is let go. */
	run_until(fx, &a[1].released, 1);
	run_until(fx, &b[1].released, 1);
	assert_int_equal(a[0].released + b[0].released, 2);
	assert_int_equal(fx->up_queries, 1);
	query_ctx_free(qc2);
}

/*
 * limits.client-share: of the worker's forwarded queries, and of the
 * questions its forwarder starts. Another client is not affected.
 */
static void
test_limit_client(void **state)
{
	struct fx	*fx = *state;
	struct late	 l[7];
	int		 i;

	fx->up_mode = FAKE_SILENT;
	/* One worker: 40 forwarded, 4 a client; 2 new questions a client. */
	fx->conf_extra = "limits: { forwarded: 40, client-share: 10 }\n";
	fx_publish(fx, "300ms", 1);
	query_ctx_free(fx->qc);
	assert_non_null(fx->qc = query_ctx_new(fx->base, fx->cache,
	    fx->inflight, fx->rrl, 1, 20));

	assert_int_equal(try_forward(fx, fx->qc, &l[0], CLIENT,
	    "r1.example.nl."), 0);
	assert_int_equal(try_forward(fx, fx->qc, &l[1], CLIENT,
	    "r2.example.nl."), 0);
	/* A third question of its own: over its share of questions. */
	assert_int_equal(try_forward(fx, fx->qc, &l[2], CLIENT,
	    "r3.example.nl."), -1);
	assert_int_equal(late_rcode(&l[2]), LDNS_RCODE_SERVFAIL);
	assert_int_equal(stats(fx).limit_client, 1);
	/* Joining a question in flight is still allowed, up to 4 held. */
	assert_int_equal(try_forward(fx, fx->qc, &l[2], CLIENT,
	    "r1.example.nl."), 0);
	assert_int_equal(try_forward(fx, fx->qc, &l[3], CLIENT,
	    "r2.example.nl."), 0);
	assert_int_equal(try_forward(fx, fx->qc, &l[4], CLIENT,
	    "r1.example.nl."), -1);
	assert_int_equal(stats(fx).limit_client, 2);
	/* Another client (the same board) has its own share. */
	assert_int_equal(try_forward(fx, fx->qc, &l[4], "127.0.0.10",
	    "r4.example.nl."), 0);
	assert_int_equal(try_forward(fx, fx->qc, &l[5], "127.0.0.10",
	    "r5.example.nl."), 0);

	/* When they are done, the client's share is free again. */
	for (i = 0; i < 6; i++)
		run_until(fx, &l[i].released, 1);
	assert_int_equal(fx->up_queries, 4);
	assert_int_equal(try_forward(fx, fx->qc, &l[6], CLIENT,
	    "r6.example.nl."), 0);
	run_until(fx, &l[6].released, 1);
}

/* The worker's share of limits.forwarded, whoever holds it. */
static void
test_limit_worker(void **state)
{
	struct fx	*fx = *state;
	struct late	 l[17];
	char		 name[64];
	int		 i;

	fx->up_mode = FAKE_SILENT;
	/* Two workers share 32; a client may hold all 16 of this one. */
	fx->conf_extra = "limits: { forwarded: 32, client-share: 100 }\n";
	fx_publish(fx, "300ms", 1);
	query_ctx_free(fx->qc);
	assert_non_null(fx->qc = query_ctx_new(fx->base, fx->cache,
	    fx->inflight, fx->rrl, 2, 64));
	for (i = 0; i < 16; i++) {
		snprintf(name, sizeof name, "w%d.example.nl.", i);
		assert_int_equal(try_forward(fx, fx->qc, &l[i], CLIENT, name),
		    0);
	}
	assert_int_equal(try_forward(fx, fx->qc, &l[16], "127.0.0.10",
	    "w16.example.nl."), -1);
	assert_int_equal(late_rcode(&l[16]), LDNS_RCODE_SERVFAIL);
	assert_int_equal(stats(fx).limit_worker, 1);
	/* Freed: the records are released, nothing is sent. */
	query_ctx_free(fx->qc);
	for (i = 0; i < 16; i++)
		assert_int_equal(l[i].released, 1);
	assert_non_null(fx->qc = query_ctx_new(fx->base, fx->cache,
	    fx->inflight, fx->rrl, 1, 64));
}

/*
 * RFC 9520: when the upstreams failed a question, the next query for it
 * is answered at once (SERVFAIL, or a stale answer) without asking them
 * again, for the failure TTL.
 */
static void
test_failed_at_once(void **state)
{
	struct fx		*fx = *state;
	const char *const	 rrs[] = {
		"old.example.nl. 10 IN A 192.0.2.7", NULL };
	struct late		 l;
	struct query		 q;
	ldns_pkt		*p;
	uint8_t			 out[4096];

	fx->up_mode = FAKE_SILENT;
	fx_publish(fx, "50ms", 1);
	forward(fx, fx->qc, &l, "down.example.nl.");
	run_until(fx, &l.released, 1);
	assert_int_equal(fx->up_queries, 1);
	assert_int_equal(ask(fx, &q, &tp_udp, CLIENT, "down.example.nl.",
	    LDNS_RR_TYPE_A, PKT_EDNS, out, sizeof out), QUERY_SEND);
	p = parse(out, q.outlen);
	assert_int_equal(ldns_pkt_get_rcode(p), LDNS_RCODE_SERVFAIL);
	ldns_pkt_free(p);
	assert_int_equal(stats(fx).failed, 1);
	assert_int_equal(stats(fx).forwarded, 1);
	assert_int_equal(fx->up_queries, 1);

	/* An expired answer: given at once, stale. */
	assert_true(cache_now() > 20);
	cache_put(fx, "old.example.nl.", rrs, cache_now() - 20, 1);
	forward(fx, fx->qc, &l, "old.example.nl.");
	run_until(fx, &l.released, 1);
	assert_int_equal(ask(fx, &q, &tp_udp, CLIENT, "old.example.nl.",
	    LDNS_RR_TYPE_A, PKT_EDNS, out, sizeof out), QUERY_SEND);
	p = parse(out, q.outlen);
	assert_an(p, 0, "old.example.nl.\t30\tIN\tA\t192.0.2.7");
	ldns_pkt_free(p);
	assert_int_equal(fx->up_queries, 2);
	assert_int_equal(stats(fx).stale, 2);
}

/*
 * Response rate limiting applies to datagram answers to any address
 * (REFUSED ones to addresses of no board too): over the rate dropped,
 * every slip-th cut with TC=1; over TCP never.
 */
static void
test_rrl(void **state)
{
	struct fx	*fx = *state;
	struct query	 q;
	ldns_pkt	*p;
	uint8_t		 out[4096];
	int		 i, sent = 0, tc = 0;

	fx->conf_extra = "rrl: { errors-per-second: 2, slip: 2 }\n";
	fx_publish(fx, "1s", 3);
	for (i = 0; i < 6; i++) {
		if (ask(fx, &q, &tp_udp, STRANGER, "www.example.nl.",
		    LDNS_RR_TYPE_A, PKT_EDNS, out, sizeof out) != QUERY_SEND)
			continue;
		p = parse(out, q.outlen);
		assert_int_equal(ldns_pkt_get_rcode(p), LDNS_RCODE_REFUSED);
		if (ldns_pkt_tc(p)) {
			/* Cut: the question alone, no larger than a query. */
			tc++;
			assert_int_equal(ldns_pkt_arcount(p), 0);
			assert_true(q.outlen <= 12 + 16 + 4);
		}
		sent++;
		ldns_pkt_free(p);
	}
	assert_int_equal(sent, 4);
	assert_int_equal(tc, 2);
	assert_int_equal(stats(fx).rrl_dropped, 2);
	assert_int_equal(stats(fx).rrl_slipped, 2);
	/* Over TCP the address is real: no limit. */
	for (i = 0; i < 5; i++)
		assert_int_equal(ask(fx, &q, &tp_tcp, STRANGER,
		    "www.example.nl.", LDNS_RR_TYPE_A, 0, out, sizeof out),
		    QUERY_SEND);
	/* A board's client: answers with data are not limited here. */
	for (i = 0; i < 5; i++)
		assert_int_equal(ask(fx, &q, &tp_udp, CLIENT,
		    "ads.example.nl.", LDNS_RR_TYPE_A, 0, out, sizeof out),
		    QUERY_SEND);
	assert_int_equal(stats(fx).rrl_dropped, 2);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(test_no_alloc, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_malformed, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_blocked, setup, teardown),
		cmocka_unit_test_setup_teardown(test_rewrite_cached, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_cache_hit, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_cache_hit_blocked, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_cache_hit_targets, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_cache_hit_question, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_cache_hit_reload, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_memo_blocked, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_steps_many_blocked, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_batch_boards, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_memo_reload, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_memo_crowded, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_transport_size, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_miss_forward, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_finish_upstream, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_finish_failed, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_finish_reload, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_life_answered, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_life_blocked, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_life_shared, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_life_silent, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_life_gone, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_ctx_free, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_limit_question, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_limit_client, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_limit_worker, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_failed_at_once, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_rrl, setup, teardown),
	};

	snapshot_thread_init();
	return (cmocka_run_group_tests(tests, NULL, NULL));
}
