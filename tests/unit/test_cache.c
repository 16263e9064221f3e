/*
 * test_cache.c: unit tests of the message cache (cache.c).
 *
 * Queries and upstream answers are built with ldns, turned into wire form
 * and passed through wire_parse_query() and wire_scan() exactly as a worker
 * would; answers from the cache are parsed back with ldns to check IDs,
 * TTLs and rcodes.
 */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <ldns/ldns.h>

#include "cache.h"
#include "wire.h"

#define T0		1000		/* an arbitrary start time */
#define STALE_SECS	3600
#define BIG_CACHE	(16 * 1024 * 1024)

/* An answer as stored by a worker: the scanned bytes and their scan. */
struct answer {
	uint8_t			buf[4096];
	struct wire_scan	sc;
};

/* Parse a query for name/type (DO bit as given) into *q. */
static void
make_query(const char *name, ldns_rr_type type, int do_bit, uint16_t id,
    struct wire_query *q)
{
	ldns_pkt	*p;
	uint8_t		*wire = NULL;
	size_t		 len;

	p = ldns_pkt_query_new(ldns_dname_new_frm_str(name), type,
	    LDNS_RR_CLASS_IN, LDNS_RD);
	assert_non_null(p);
	ldns_pkt_set_id(p, id);
	if (do_bit) {
		ldns_pkt_set_edns_udp_size(p, 1232);
		ldns_pkt_set_edns_do(p, true);
	}
	assert_int_equal(ldns_pkt2wire(&wire, p, &len), LDNS_STATUS_OK);
	memset(q, 0, sizeof *q);
	assert_int_equal(wire_parse_query(wire, len, q), WIRE_OK);
	assert_int_equal(q->do_bit != 0, do_bit != 0);
	free(wire);
	ldns_pkt_free(p);
}

/*
 * Build an upstream answer to name/type with the given rcode, answer and
 * authority records (NULL-terminated lists of zone-file lines), then scan
 * it into *a.
 */
static void
make_answer(const char *name, ldns_rr_type type, ldns_pkt_rcode rcode,
    const char **an, const char **ns, struct answer *a)
{
	ldns_pkt	*p;
	ldns_rr		*rr;
	uint8_t		*wire = NULL;
	size_t		 len;

	p = ldns_pkt_new();
	assert_non_null(p);
	ldns_pkt_set_id(p, 4242);
	ldns_pkt_set_qr(p, true);
	ldns_pkt_set_rd(p, true);
	ldns_pkt_set_ra(p, true);
	ldns_pkt_set_rcode(p, rcode);

	rr = ldns_rr_new();
	ldns_rr_set_owner(rr, ldns_dname_new_frm_str(name));
	ldns_rr_set_type(rr, type);
	ldns_rr_set_class(rr, LDNS_RR_CLASS_IN);
	ldns_rr_set_question(rr, true);
	ldns_pkt_push_rr(p, LDNS_SECTION_QUESTION, rr);

	for (; an != NULL && *an != NULL; an++) {
		assert_int_equal(ldns_rr_new_frm_str(&rr, *an, 0, NULL, NULL),
		    LDNS_STATUS_OK);
		ldns_pkt_push_rr(p, LDNS_SECTION_ANSWER, rr);
	}
	for (; ns != NULL && *ns != NULL; ns++) {
		assert_int_equal(ldns_rr_new_frm_str(&rr, *ns, 0, NULL, NULL),
		    LDNS_STATUS_OK);
		ldns_pkt_push_rr(p, LDNS_SECTION_AUTHORITY, rr);
	}
	/* Upstream answers carry OPT; wire_scan() cuts it. */
	ldns_pkt_set_edns_udp_size(p, 1232);

	assert_int_equal(ldns_pkt2wire(&wire, p, &len), LDNS_STATUS_OK);
	assert_true(len <= sizeof a->buf);
	memcpy(a->buf, wire, len);
	memset(&a->sc, 0, sizeof a->sc);
	assert_int_equal(wire_scan(a->buf, len, &a->sc), 0);
	free(wire);
	ldns_pkt_free(p);
}

/* An A answer for name with one record of the given TTL and address. */
static void
make_a(const char *name, uint32_t ttl, const char *addr, struct answer *a)
{
	char		 line[512];
	const char	*an[] = { line, NULL };

	snprintf(line, sizeof line, "%s %u IN A %s", name, ttl, addr);
	make_answer(name, LDNS_RR_TYPE_A, LDNS_RCODE_NOERROR, an, NULL, a);
}

/* A lookup of q at now, fresh entries only, for a TCP-sized client. */
#define REQ(q, now, ins) \
	(&(struct cache_req){ (q), (now), 0, WIRE_MAX_UDP, (ins), NULL })

/* Look q up and, unless a miss, parse the answer into *pp. */
static enum cache_result
lookup(struct cache *c, const struct wire_query *q, uint32_t now,
    int allow_stale, ldns_pkt **pp)
{
	struct cache_req	req = { q, now, allow_stale, WIRE_MAX_UDP, NULL, NULL };
	uint8_t			out[4096];
	size_t			outlen = 0;
	enum cache_result	r;

	*pp = NULL;
	r = cache_lookup(c, &req, out, sizeof out, &outlen, NULL);
	if (r == CACHE_HIT || r == CACHE_STALE) {
		assert_true(outlen > WIRE_HDR_LEN);
		assert_int_equal(ldns_wire2pkt(pp, out, outlen),
		    LDNS_STATUS_OK);
		assert_int_equal(ldns_pkt_id(*pp), q->id);
		assert_true(ldns_pkt_qr(*pp));
	}
	return (r);
}

/* TTL of answer record i of p. */
static uint32_t
an_ttl(ldns_pkt *p, size_t i)
{
	assert_true(ldns_pkt_ancount(p) > i);
	return (ldns_rr_ttl(ldns_rr_list_rr(ldns_pkt_answer(p), i)));
}

/* The address of answer record i of p as text, into buf. */
static const char *
an_addr(ldns_pkt *p, size_t i, char *buf, size_t cap)
{
	char	*s;

	assert_true(ldns_pkt_ancount(p) > i);
	s = ldns_rdf2str(ldns_rr_rdf(ldns_rr_list_rr(ldns_pkt_answer(p), i),
	    0));
	assert_non_null(s);
	snprintf(buf, cap, "%s", s);
	free(s);
	return (buf);
}

static void
test_cache_hit(void **state)
{
	struct cache		*c;
	struct wire_query	 q;
	struct answer		 a;
	struct cache_stats	 st;
	ldns_pkt		*p;
	char			 buf[64];

	(void)state;
	c = cache_new(BIG_CACHE, STALE_SECS, 86400, 3600);
	assert_non_null(c);
	make_query("www.example.nl.", LDNS_RR_TYPE_A, 0, 0x1234, &q);

	assert_int_equal(lookup(c, &q, T0, 1, &p), CACHE_MISS);
	make_a("www.example.nl.", 300, "192.0.2.1", &a);
	assert_int_equal(a.sc.ttl, 300);
	cache_insert(c, &q, a.buf, &a.sc, T0, 0, 0);

	/* Another client with another ID gets its own ID back. */
	make_query("www.example.nl.", LDNS_RR_TYPE_A, 0, 0xbeef, &q);
	assert_int_equal(lookup(c, &q, T0, 0, &p), CACHE_HIT);
	assert_int_equal(ldns_pkt_id(p), 0xbeef);
	assert_int_equal(ldns_pkt_get_rcode(p), LDNS_RCODE_NOERROR);
	assert_int_equal(an_ttl(p, 0), 300);
	assert_string_equal(an_addr(p, 0, buf, sizeof buf), "192.0.2.1");
	ldns_pkt_free(p);

	cache_stats(c, &st);
	assert_int_equal(st.entries, 1);
	assert_int_equal(st.inserts, 1);
	assert_int_equal(st.hits, 1);
	assert_int_equal(st.misses, 1);
	assert_int_equal(st.stale_hits, 0);
	assert_true(st.bytes > a.sc.len);
	cache_free(c);
	cache_free(NULL);
}

/* Inspection bits: stored, returned, and redone once per new generation. */
static unsigned	 inspect_calls;

static uint64_t
inspect_fn(void *arg, const uint8_t *msg, size_t len)
{
	(void)msg;
	assert_true(len > WIRE_HDR_LEN);
	inspect_calls++;
	return (*(const uint64_t *)arg);
}

static void
test_cache_mask(void **state)
{
	struct cache		*c;
	struct cache_inspect	 ins;
	struct wire_query	 q;
	struct answer		 a;
	uint8_t			 out[4096];
	size_t			 outlen;
	uint64_t		 mask, newbits = 0x30;

	(void)state;
	c = cache_new(BIG_CACHE, STALE_SECS, 86400, 3600);
	assert_non_null(c);
	make_query("cdn.example.nl.", LDNS_RR_TYPE_A, 0, 7, &q);
	make_a("cdn.example.nl.", 300, "192.0.2.9", &a);
	cache_insert(c, &q, a.buf, &a.sc, T0, 0x5, 1);

	/* Same generation: the stored bits, no new inspection. */
	ins.fn = inspect_fn;
	ins.arg = &newbits;
	ins.gen = 1;
	inspect_calls = 0;
	mask = 0;
	assert_int_equal(cache_lookup(c, REQ(&q, T0, &ins), out,
	    sizeof out, &outlen, &mask), CACHE_HIT);
	assert_int_equal(mask, 0x5);
	assert_int_equal(inspect_calls, 0);

	/* A reload (generation 2): inspected again once, bits kept. */
	ins.gen = 2;
	assert_int_equal(cache_lookup(c, REQ(&q, T0 + 1, &ins), out,
	    sizeof out, &outlen, &mask), CACHE_HIT);
	assert_int_equal(mask, 0x30);
	assert_int_equal(inspect_calls, 1);
	assert_int_equal(cache_lookup(c, REQ(&q, T0 + 2, &ins), out,
	    sizeof out, &outlen, &mask), CACHE_HIT);
	assert_int_equal(mask, 0x30);
	assert_int_equal(inspect_calls, 1);

	/* Without an inspector the stored bits come back as they are. */
	mask = 0;
	assert_int_equal(cache_lookup(c, REQ(&q, T0 + 3, NULL), out,
	    sizeof out, &outlen, &mask), CACHE_HIT);
	assert_int_equal(mask, 0x30);
	/* A miss leaves mask alone. */
	make_query("other.example.nl.", LDNS_RR_TYPE_A, 0, 8, &q);
	mask = 0x99;
	assert_int_equal(cache_lookup(c, REQ(&q, T0, &ins), out,
	    sizeof out, &outlen, &mask), CACHE_MISS);
	assert_int_equal(mask, 0x99);
	cache_free(c);
}

/* Question bits: the key's name, worked out once per generation. */
static unsigned	 qbits_calls;

static uint64_t
qbits_fn(void *arg, const uint8_t *lname, size_t len)
{
	assert_int_equal(len, 16);
	assert_memory_equal(lname, "\003cdn\007example\002nl", 16);
	qbits_calls++;
	return (*(const uint64_t *)arg);
}

/*
 * A lookup with a cache_qcheck: the entry's question bits are worked
 * out on the first lookup of a generation and kept; bits that meet the
 * stop mask give CACHE_POLICY with nothing written and nothing counted;
 * a miss with a qcheck is not counted (the caller's next lookup is).
 */
static void
test_cache_qcheck(void **state)
{
	struct cache		*c;
	struct cache_qcheck	 qk;
	struct cache_req	 req;
	struct cache_stats	 st;
	struct wire_query	 q, other;
	struct answer		 a;
	uint8_t			 out[4096];
	size_t			 outlen;
	uint64_t		 bits = 0x4;

	(void)state;
	c = cache_new(BIG_CACHE, STALE_SECS, 86400, 3600);
	assert_non_null(c);
	make_query("cdn.example.nl.", LDNS_RR_TYPE_A, 0, 7, &q);
	make_a("cdn.example.nl.", 300, "192.0.2.9", &a);
	cache_insert(c, &q, a.buf, &a.sc, T0, 0, 1);
	assert_int_equal(cache_prefetch_entry(c, wire_qhash(&q)), 1);

	qk.fn = qbits_fn;
	qk.arg = &bits;
	qk.gen = 1;
	qk.stop = 0x3;
	memset(&req, 0, sizeof req);
	req.q = &q;
	req.now = T0;
	req.udp_max = WIRE_MAX_UDP;
	req.qcheck = &qk;
	qbits_calls = 0;
	outlen = 0;
	assert_int_equal(cache_lookup(c, &req, out, sizeof out, &outlen,
	    NULL), CACHE_HIT);
	assert_true(outlen > WIRE_HDR_LEN);
	assert_int_equal(qbits_calls, 1);

	/* The stop mask meets them: nothing written, nothing counted. */
	qk.stop = 0x4;
	memset(out, 0xee, sizeof out);
	outlen = 0;
	assert_int_equal(cache_lookup(c, &req, out, sizeof out, &outlen,
	    NULL), CACHE_POLICY);
	assert_int_equal(outlen, 0);
	assert_int_equal(out[0], 0xee);
	assert_int_equal(qbits_calls, 1);

	/* A new generation: worked out again, once. */
	qk.gen = 2;
	bits = 0x8;
	assert_int_equal(cache_lookup(c, &req, out, sizeof out, &outlen,
	    NULL), CACHE_HIT);
	assert_int_equal(cache_lookup(c, &req, out, sizeof out, &outlen,
	    NULL), CACHE_HIT);
	assert_int_equal(qbits_calls, 2);
	qk.stop = 0x8;
	assert_int_equal(cache_lookup(c, &req, out, sizeof out, &outlen,
	    NULL), CACHE_POLICY);

	/* A name not there: a miss the lookup does not count. */
	make_query("other.example.nl.", LDNS_RR_TYPE_A, 0, 8, &other);
	req.q = &other;
	assert_int_equal(cache_lookup(c, &req, out, sizeof out, &outlen,
	    NULL), CACHE_MISS);
	assert_int_equal(qbits_calls, 2);
	cache_stats(c, &st);
	assert_int_equal(st.hits, 3);
	assert_int_equal(st.misses, 0);
	/* Without a qcheck it is counted. */
	req.qcheck = NULL;
	assert_int_equal(cache_lookup(c, &req, out, sizeof out, &outlen,
	    NULL), CACHE_MISS);
	cache_stats(c, &st);
	assert_int_equal(st.misses, 1);
	cache_free(c);
}

static void
test_cache_ttl_countdown(void **state)
{
	struct cache		*c;
	struct wire_query	 q;
	struct answer		 a;
	ldns_pkt		*p;

	(void)state;
	c = cache_new(BIG_CACHE, STALE_SECS, 86400, 3600);
	assert_non_null(c);
	make_query("www.example.nl.", LDNS_RR_TYPE_A, 0, 1, &q);
	make_a("www.example.nl.", 300, "192.0.2.1", &a);
	cache_insert(c, &q, a.buf, &a.sc, T0, 0, 0);

	assert_int_equal(lookup(c, &q, T0 + 10, 0, &p), CACHE_HIT);
	assert_int_equal(an_ttl(p, 0), 290);
	ldns_pkt_free(p);
	assert_int_equal(lookup(c, &q, T0 + 299, 0, &p), CACHE_HIT);
	assert_int_equal(an_ttl(p, 0), 1);
	ldns_pkt_free(p);
	cache_free(c);
}

static void
test_cache_expiry_stale(void **state)
{
	struct cache		*c;
	struct wire_query	 q;
	struct answer		 a;
	struct cache_stats	 st;
	ldns_pkt		*p;

	(void)state;
	c = cache_new(BIG_CACHE, STALE_SECS, 86400, 3600);
	assert_non_null(c);
	make_query("www.example.nl.", LDNS_RR_TYPE_A, 0, 7, &q);
	make_a("www.example.nl.", 300, "192.0.2.1", &a);
	cache_insert(c, &q, a.buf, &a.sc, T0, 0, 0);

	/* Expired: a miss unless stale answers are allowed. */
	assert_int_equal(lookup(c, &q, T0 + 300, 0, &p), CACHE_MISS);
	assert_int_equal(lookup(c, &q, T0 + 300, 1, &p), CACHE_STALE);
	assert_int_equal(an_ttl(p, 0), CACHE_STALE_TTL);
	ldns_pkt_free(p);
	assert_int_equal(lookup(c, &q, T0 + 300 + STALE_SECS - 1, 1, &p),
	    CACHE_STALE);
	assert_int_equal(an_ttl(p, 0), CACHE_STALE_TTL);
	ldns_pkt_free(p);

	cache_stats(c, &st);
	assert_int_equal(st.entries, 1);
	assert_int_equal(st.stale_hits, 2);
	assert_int_equal(st.misses, 1);

	/* Past the stale window: gone for good. */
	assert_int_equal(lookup(c, &q, T0 + 300 + STALE_SECS, 1, &p),
	    CACHE_MISS);
	cache_stats(c, &st);
	assert_int_equal(st.entries, 0);
	assert_int_equal(st.bytes, 0);
	assert_int_equal(st.evictions, 0);
	assert_int_equal(lookup(c, &q, T0 + 300, 1, &p), CACHE_MISS);
	cache_free(c);
}

static void
test_cache_key(void **state)
{
	struct cache		*c;
	struct wire_query	 q, qdo, qaaaa, qother;
	struct answer		 a, ado;
	ldns_pkt		*p;
	char			 buf[64];

	(void)state;
	c = cache_new(BIG_CACHE, STALE_SECS, 86400, 3600);
	assert_non_null(c);
	make_query("www.example.nl.", LDNS_RR_TYPE_A, 0, 1, &q);
	make_query("www.example.nl.", LDNS_RR_TYPE_A, 1, 2, &qdo);
	make_query("www.example.nl.", LDNS_RR_TYPE_AAAA, 0, 3, &qaaaa);
	make_query("ww.example.nl.", LDNS_RR_TYPE_A, 0, 4, &qother);
	make_a("www.example.nl.", 300, "192.0.2.1", &a);
	make_a("www.example.nl.", 300, "192.0.2.2", &ado);
	cache_insert(c, &q, a.buf, &a.sc, T0, 0, 0);

	/* DO bit, qtype and name are each part of the key. */
	assert_int_equal(lookup(c, &qdo, T0, 0, &p), CACHE_MISS);
	assert_int_equal(lookup(c, &qaaaa, T0, 0, &p), CACHE_MISS);
	assert_int_equal(lookup(c, &qother, T0, 0, &p), CACHE_MISS);

	cache_insert(c, &qdo, ado.buf, &ado.sc, T0, 0, 0);
	assert_int_equal(lookup(c, &qdo, T0, 0, &p), CACHE_HIT);
	assert_string_equal(an_addr(p, 0, buf, sizeof buf), "192.0.2.2");
	assert_true(ldns_pkt_edns_do(p));
	ldns_pkt_free(p);
	assert_int_equal(lookup(c, &q, T0, 0, &p), CACHE_HIT);
	assert_string_equal(an_addr(p, 0, buf, sizeof buf), "192.0.2.1");
	ldns_pkt_free(p);
	cache_free(c);
}

static void
test_cache_case(void **state)
{
	struct cache		*c;
	struct wire_query	 q, qmixed;
	struct answer		 a;
	uint8_t			 out[4096];
	size_t			 outlen = 0;

	(void)state;
	c = cache_new(BIG_CACHE, STALE_SECS, 86400, 3600);
	assert_non_null(c);
	make_query("www.example.nl.", LDNS_RR_TYPE_A, 0, 1, &q);
	make_query("WWW.Example.NL.", LDNS_RR_TYPE_A, 0, 2, &qmixed);
	make_a("www.example.nl.", 300, "192.0.2.1", &a);
	cache_insert(c, &q, a.buf, &a.sc, T0, 0, 0);

	assert_int_equal(cache_lookup(c, REQ(&qmixed, T0, NULL), out,
	    sizeof out, &outlen, NULL), CACHE_HIT);
	/* The question comes back in the client's spelling. */
	assert_true(outlen > (size_t)WIRE_HDR_LEN + qmixed.name_len);
	assert_memory_equal(out + WIRE_HDR_LEN, qmixed.name, qmixed.name_len);
	assert_memory_equal(out + WIRE_HDR_LEN, "\003WWW\007Example\002NL", 16);
	cache_free(c);
}

static void
test_cache_negative(void **state)
{
	struct cache		*c;
	struct wire_query	 q;
	struct answer		 a;
	ldns_pkt		*p;
	const char		*soa[] = { "example.nl. 3600 IN SOA ns.example.nl. "
				    "host.example.nl. 1 7200 3600 1209600 300",
				    NULL };

	(void)state;
	make_query("nx.example.nl.", LDNS_RR_TYPE_A, 0, 9, &q);
	make_answer("nx.example.nl.", LDNS_RR_TYPE_A, LDNS_RCODE_NXDOMAIN,
	    NULL, soa, &a);
	/* RFC 2308 5: min(SOA TTL, SOA MINIMUM). */
	assert_int_equal(a.sc.ttl, 300);

	c = cache_new(BIG_CACHE, 0, 86400, 3600);
	assert_non_null(c);
	cache_insert(c, &q, a.buf, &a.sc, T0, 0, 0);
	assert_int_equal(lookup(c, &q, T0 + 299, 0, &p), CACHE_HIT);
	assert_int_equal(ldns_pkt_get_rcode(p), LDNS_RCODE_NXDOMAIN);
	assert_int_equal(ldns_pkt_ancount(p), 0);
	assert_int_equal(ldns_pkt_nscount(p), 1);
	ldns_pkt_free(p);
	assert_int_equal(lookup(c, &q, T0 + 300, 0, &p), CACHE_MISS);
	cache_free(c);

	/* Capped by max_neg_ttl, while max_ttl does not apply. */
	c = cache_new(BIG_CACHE, 0, 10, 60);
	assert_non_null(c);
	cache_insert(c, &q, a.buf, &a.sc, T0, 0, 0);
	assert_int_equal(lookup(c, &q, T0, 0, &p), CACHE_HIT);
	/* The SOA says so too. */
	assert_int_equal(ldns_rr_ttl(ldns_rr_list_rr(ldns_pkt_authority(p),
	    0)), 60);
	ldns_pkt_free(p);
	assert_int_equal(lookup(c, &q, T0 + 59, 0, &p), CACHE_HIT);
	ldns_pkt_free(p);
	assert_int_equal(lookup(c, &q, T0 + 60, 0, &p), CACHE_MISS);

	/* NODATA is negative too. */
	make_query("nodata.example.nl.", LDNS_RR_TYPE_AAAA, 0, 9, &q);
	make_answer("nodata.example.nl.", LDNS_RR_TYPE_AAAA,
	    LDNS_RCODE_NOERROR, NULL, soa, &a);
	assert_int_equal(a.sc.ttl, 300);
	cache_insert(c, &q, a.buf, &a.sc, T0, 0, 0);
	assert_int_equal(lookup(c, &q, T0 + 59, 0, &p), CACHE_HIT);
	assert_int_equal(ldns_pkt_get_rcode(p), LDNS_RCODE_NOERROR);
	ldns_pkt_free(p);
	assert_int_equal(lookup(c, &q, T0 + 60, 0, &p), CACHE_MISS);
	cache_free(c);
}

static void
test_cache_max_ttl(void **state)
{
	struct cache		*c;
	struct wire_query	 q;
	struct answer		 a;
	ldns_pkt		*p;

	(void)state;
	c = cache_new(BIG_CACHE, 0, 3600, 60);
	assert_non_null(c);
	make_query("www.example.nl.", LDNS_RR_TYPE_A, 0, 1, &q);
	make_a("www.example.nl.", 86400, "192.0.2.1", &a);
	cache_insert(c, &q, a.buf, &a.sc, T0, 0, 0);
	/* Clients are told max_ttl, not the upstream's day. */
	assert_int_equal(lookup(c, &q, T0, 0, &p), CACHE_HIT);
	assert_int_equal(an_ttl(p, 0), 3600);
	ldns_pkt_free(p);
	assert_int_equal(lookup(c, &q, T0 + 3599, 0, &p), CACHE_HIT);
	assert_int_equal(an_ttl(p, 0), 1);
	ldns_pkt_free(p);
	assert_int_equal(lookup(c, &q, T0 + 3600, 0, &p), CACHE_MISS);
	cache_free(c);
}

/* Answers to CD=1 queries were not validated upstream: never stored. */
static void
test_cache_cd_not_stored(void **state)
{
	struct cache		*c;
	struct wire_query	 q;
	struct answer		 a;
	ldns_pkt		*p;

	(void)state;
	c = cache_new(BIG_CACHE, 0, 3600, 60);
	assert_non_null(c);
	make_query("cd.example.nl.", LDNS_RR_TYPE_A, 0, 1, &q);
	make_a("cd.example.nl.", 300, "192.0.2.1", &a);
	q.flags |= WIRE_CD;
	cache_insert(c, &q, a.buf, &a.sc, T0, 0, 0);
	q.flags &= ~WIRE_CD;
	assert_int_equal(lookup(c, &q, T0, 0, &p), CACHE_MISS);
	cache_insert(c, &q, a.buf, &a.sc, T0, 0, 0);
	assert_int_equal(lookup(c, &q, T0, 0, &p), CACHE_HIT);
	ldns_pkt_free(p);
	cache_free(c);
}

static void
test_cache_not_stored(void **state)
{
	struct cache		*c;
	struct wire_query	 q;
	struct answer		 a;
	struct cache_stats	 st;
	ldns_pkt		*p;
	const char		*an[] = { "www.example.nl. 300 IN A 192.0.2.1",
				    NULL };

	(void)state;
	c = cache_new(BIG_CACHE, STALE_SECS, 86400, 3600);
	assert_non_null(c);
	make_query("www.example.nl.", LDNS_RR_TYPE_A, 0, 1, &q);

	/* SERVFAIL, even with a lifetime forced on it. */
	make_answer("www.example.nl.", LDNS_RR_TYPE_A, LDNS_RCODE_SERVFAIL,
	    NULL, NULL, &a);
	assert_int_equal(a.sc.rcode, WIRE_SERVFAIL);
	cache_insert(c, &q, a.buf, &a.sc, T0, 0, 0);
	a.sc.ttl = 300;
	cache_insert(c, &q, a.buf, &a.sc, T0, 0, 0);
	assert_int_equal(lookup(c, &q, T0, 1, &p), CACHE_MISS);

	/* REFUSED with a record in it. */
	make_answer("www.example.nl.", LDNS_RR_TYPE_A, LDNS_RCODE_REFUSED,
	    an, NULL, &a);
	a.sc.ttl = 300;
	cache_insert(c, &q, a.buf, &a.sc, T0, 0, 0);
	assert_int_equal(lookup(c, &q, T0, 1, &p), CACHE_MISS);

	/* A record with TTL 0 makes the answer uncacheable. */
	make_a("www.example.nl.", 0, "192.0.2.1", &a);
	assert_int_equal(a.sc.ttl, 0);
	cache_insert(c, &q, a.buf, &a.sc, T0, 0, 0);
	assert_int_equal(lookup(c, &q, T0, 1, &p), CACHE_MISS);

	/*
	 * An answer to another question: another name, another type. It
	 * would never be served (a hit does not check the question again,
	 * so it must not be there to find).
	 */
	make_a("other.example.nl.", 300, "192.0.2.1", &a);
	cache_insert(c, &q, a.buf, &a.sc, T0, 0, 0);
	assert_int_equal(lookup(c, &q, T0, 1, &p), CACHE_MISS);
	make_answer("www.example.nl.", LDNS_RR_TYPE_AAAA, LDNS_RCODE_NOERROR,
	    NULL, NULL, &a);
	a.sc.ttl = 300;
	cache_insert(c, &q, a.buf, &a.sc, T0, 0, 0);
	assert_int_equal(lookup(c, &q, T0, 1, &p), CACHE_MISS);

	cache_stats(c, &st);
	assert_int_equal(st.inserts, 0);
	assert_int_equal(st.entries, 0);
	assert_int_equal(st.bytes, 0);
	cache_free(c);
}

static void
test_cache_size_bound(void **state)
{
	struct cache		*c;
	struct wire_query	 q;
	struct answer		 a;
	struct cache_stats	 st;
	ldns_pkt		*p;
	char			 name[64];
	const size_t		 max = 64 * 1024;
	int			 i;

	(void)state;
	c = cache_new(max, STALE_SECS, 86400, 3600);
	assert_non_null(c);
	for (i = 0; i < 2000; i++) {
		snprintf(name, sizeof name, "host%d.example.nl.", i);
		make_query(name, LDNS_RR_TYPE_A, 0, 1, &q);
		make_a(name, 300, "192.0.2.1", &a);
		cache_insert(c, &q, a.buf, &a.sc, T0, 0, 0);
		cache_stats(c, &st);
		assert_true(st.bytes <= max);
	}
	cache_stats(c, &st);
	assert_int_equal(st.max_bytes, max);
	assert_int_equal(st.inserts, 2000);
	assert_true(st.evictions > 0);
	assert_true(st.entries > 0 && st.entries < 2000);
	assert_int_equal(st.entries + st.evictions, 2000);

	/* The newest entry is still there, the oldest is gone. */
	assert_int_equal(lookup(c, &q, T0, 0, &p), CACHE_HIT);
	ldns_pkt_free(p);
	make_query("host0.example.nl.", LDNS_RR_TYPE_A, 0, 1, &q);
	assert_int_equal(lookup(c, &q, T0, 0, &p), CACHE_MISS);

	/* The budget in force: split among the shards, all of it when it
	   divides, the rest of the division short when not. */
	cache_free(c);
	c = cache_new(256 * 1024 * 1024, STALE_SECS, 86400, 3600);
	assert_non_null(c);
	cache_stats(c, &st);
	assert_int_equal(st.max_bytes, 256 * 1024 * 1024);
	cache_free(c);
	c = cache_new(100000001, STALE_SECS, 86400, 3600);
	assert_non_null(c);
	cache_stats(c, &st);
	assert_int_equal(st.max_bytes, 100000001 - 100000001 % 64);
	cache_free(c);

	/* An answer larger than the whole budget is not stored. */
	c = cache_new(64, STALE_SECS, 86400, 3600);
	assert_non_null(c);
	make_a("host0.example.nl.", 300, "192.0.2.1", &a);
	cache_insert(c, &q, a.buf, &a.sc, T0, 0, 0);
	cache_stats(c, &st);
	assert_int_equal(st.entries, 0);
	assert_int_equal(st.inserts, 0);
	cache_free(c);
}

static void
test_cache_lru(void **state)
{
	struct cache		*c;
	struct wire_query	 q[3];
	struct answer		 a[3];
	struct cache_stats	 st;
	ldns_pkt		*p;
	size_t			 max;
	char			 name[32];
	int			 i;

	(void)state;
	for (i = 0; i < 3; i++) {
		/* Names of one length, so entries of one size. */
		snprintf(name, sizeof name, "%c.example.nl.", 'a' + i);
		make_query(name, LDNS_RR_TYPE_A, 0, 1, &q[i]);
		make_a(name, 300, "192.0.2.1", &a[i]);
	}

	/* Room for two entries of this size (one shard), not three. */
	c = cache_new(4096, 0, 86400, 3600);
	assert_non_null(c);
	cache_insert(c, &q[0], a[0].buf, &a[0].sc, T0, 0, 0);
	cache_stats(c, &st);
	max = st.bytes * 2 + st.bytes / 2;
	cache_free(c);

	c = cache_new(max, 0, 86400, 3600);
	assert_non_null(c);
	cache_insert(c, &q[0], a[0].buf, &a[0].sc, T0, 0, 0);
	cache_insert(c, &q[1], a[1].buf, &a[1].sc, T0, 0, 0);
	/* Using a makes b the least recently used. */
	assert_int_equal(lookup(c, &q[0], T0, 0, &p), CACHE_HIT);
	ldns_pkt_free(p);
	cache_insert(c, &q[2], a[2].buf, &a[2].sc, T0, 0, 0);
	assert_int_equal(lookup(c, &q[1], T0, 0, &p), CACHE_MISS);
	assert_int_equal(lookup(c, &q[0], T0, 0, &p), CACHE_HIT);
	ldns_pkt_free(p);
	assert_int_equal(lookup(c, &q[2], T0, 0, &p), CACHE_HIT);
	ldns_pkt_free(p);
	cache_stats(c, &st);
	assert_int_equal(st.evictions, 1);
	assert_int_equal(st.entries, 2);
	cache_free(c);
}

/*
 * A hit marks its entry used, and eviction sends a used entry at the tail
 * back to the head (a second chance), at most CACHE_CHANCES (8) a time:
 * with every entry used, an insert still evicts exactly one, and the one
 * hit after all the others (the most recent) is never it.
 */
static void
test_cache_second_chance(void **state)
{
	struct cache		*c;
	struct wire_query	 q[21];
	struct answer		 a[21];
	struct cache_stats	 st;
	ldns_pkt		*p;
	size_t			 one;
	char			 name[32];
	int			 i, hits;

	(void)state;
	for (i = 0; i < 21; i++) {
		/* Names of one length, so entries of one size. */
		snprintf(name, sizeof name, "n%02d.example.nl.", i);
		make_query(name, LDNS_RR_TYPE_A, 0, 1, &q[i]);
		make_a(name, 300, "192.0.2.1", &a[i]);
	}
	c = cache_new(4096, 0, 86400, 3600);
	assert_non_null(c);
	cache_insert(c, &q[0], a[0].buf, &a[0].sc, T0, 0, 0);
	cache_stats(c, &st);
	one = st.bytes;
	cache_free(c);

	/* Room for 20 entries (one shard), not 21; all 20 used. */
	c = cache_new(one * 20 + one / 2, 0, 86400, 3600);
	assert_non_null(c);
	for (i = 0; i < 20; i++)
		cache_insert(c, &q[i], a[i].buf, &a[i].sc, T0, 0, 0);
	for (i = 0; i < 20; i++) {
		assert_int_equal(lookup(c, &q[i], T0, 0, &p), CACHE_HIT);
		ldns_pkt_free(p);
	}
	cache_insert(c, &q[20], a[20].buf, &a[20].sc, T0, 0, 0);
	cache_stats(c, &st);
	assert_int_equal(st.evictions, 1);
	assert_int_equal(st.entries, 20);
	assert_true(st.bytes <= one * 20 + one / 2);
	/* The new one and the last one used are there; one other is not. */
	assert_int_equal(lookup(c, &q[20], T0, 0, &p), CACHE_HIT);
	ldns_pkt_free(p);
	assert_int_equal(lookup(c, &q[19], T0, 0, &p), CACHE_HIT);
	ldns_pkt_free(p);
	for (i = 0, hits = 0; i < 19; i++) {
		if (lookup(c, &q[i], T0, 0, &p) == CACHE_HIT) {
			ldns_pkt_free(p);
			hits++;
		}
	}
	assert_int_equal(hits, 18);
	cache_free(c);
}

/*
 * The LRU list when entries leave it from the tail, the middle and the
 * head (replaced, or expired at a lookup), checked by cache_verify() at
 * every step; evictions then take the rest in their order.
 */
static void
test_cache_lru_order(void **state)
{
	struct cache		*c;
	struct wire_query	 q[14];
	struct answer		 a[14];
	struct cache_stats	 st;
	ldns_pkt		*p;
	size_t			 one;
	char			 name[32];
	const int		 gone[] = { 1, 2, 4, 5, 6, 3 };
	const int		 held[] = { 7, 0, 8, 9, 10, 11, 12, 13 };
	int			 i;

	(void)state;
	for (i = 0; i < 14; i++) {
		/* Names of one length, so entries of one size. */
		snprintf(name, sizeof name, "n%02d.example.nl.", i);
		make_query(name, LDNS_RR_TYPE_A, 0, 1, &q[i]);
		make_a(name, i == 5 ? 60 : 300, "192.0.2.1", &a[i]);
	}
	c = cache_new(4096, 0, 86400, 3600);
	assert_non_null(c);
	cache_insert(c, &q[0], a[0].buf, &a[0].sc, T0, 0, 0);
	cache_stats(c, &st);
	one = st.bytes;
	cache_free(c);

	/* Room for 8 entries (one shard), not 9. */
	c = cache_new(one * 8 + one / 2, 0, 86400, 3600);
	assert_non_null(c);
	for (i = 0; i < 8; i++) {
		cache_insert(c, &q[i], a[i].buf, &a[i].sc, T0, 0, 0);
		assert_int_equal(cache_verify(c, NULL), 0);
	}
	/* Replaced: from the middle, the head, the tail. */
	cache_insert(c, &q[3], a[3].buf, &a[3].sc, T0, 0, 0);
	assert_int_equal(cache_verify(c, NULL), 0);
	cache_insert(c, &q[7], a[7].buf, &a[7].sc, T0, 0, 0);
	assert_int_equal(cache_verify(c, NULL), 0);
	cache_insert(c, &q[0], a[0].buf, &a[0].sc, T0, 0, 0);
	assert_int_equal(cache_verify(c, NULL), 0);
	/* Expired past its stale window: taken out by the lookup. */
	assert_int_equal(lookup(c, &q[5], T0 + 100, 0, &p), CACHE_MISS);
	assert_int_equal(cache_verify(c, NULL), 0);
	cache_stats(c, &st);
	assert_int_equal(st.entries, 7);
	assert_int_equal(st.evictions, 0);

	/* One more fits; five more evict 1, 2, 4, 6, 3 in their order. */
	for (i = 8; i < 14; i++) {
		cache_insert(c, &q[i], a[i].buf, &a[i].sc, T0 + 100, 0, 0);
		assert_int_equal(cache_verify(c, NULL), 0);
		cache_stats(c, &st);
		assert_int_equal(st.evictions, i == 8 ? 0 : i - 8);
		if (i > 8)
			assert_int_equal(lookup(c, &q[gone[i - 9]], T0 + 100,
			    0, &p), CACHE_MISS);
	}
	assert_int_equal(lookup(c, &q[gone[5]], T0 + 100, 0, &p), CACHE_MISS);
	for (i = 0; i < 8; i++) {
		assert_int_equal(lookup(c, &q[held[i]], T0 + 100, 0, &p),
		    CACHE_HIT);
		ldns_pkt_free(p);
	}
	assert_int_equal(cache_verify(c, NULL), 0);
	cache_flush(c);
	assert_int_equal(cache_verify(c, NULL), 0);
	cache_stats(c, &st);
	assert_int_equal(st.entries, 0);
	cache_free(c);
}

/*
 * A table that doubles five times (80,000 names over 64 shards, some
 * 1,250 a shard, 128 slots to 4,096): four doublings place the slots by
 * the hash bits their spare bits keep, the fifth reads every entry for
 * them and gives the slots their spare bits again (cache_grow()). Every
 * entry is then in its run with the spare bits its hash gives
 * (cache_verify()) and found.
 */
static void
test_cache_grow_spare(void **state)
{
	struct cache		*c;
	struct wire_query	 q;
	struct answer		 a;
	struct cache_stats	 st;
	ldns_pkt		*p;
	char			 name[64];
	int			 i, n = 80000;

	(void)state;
	c = cache_new(32 * 1024 * 1024, 0, 86400, 3600);
	assert_non_null(c);
	for (i = 0; i < n; i++) {
		snprintf(name, sizeof name, "s%d.grow.example.nl.", i);
		make_query(name, LDNS_RR_TYPE_A, 0, 1, &q);
		make_a(name, 3600, "192.0.2.1", &a);
		cache_insert(c, &q, a.buf, &a.sc, T0, 0, 0);
		if (i % 10000 == 0)
			assert_int_equal(cache_verify(c, NULL), 0);
	}
	assert_int_equal(cache_verify(c, NULL), 0);
	cache_stats(c, &st);
	assert_int_equal(st.entries, n);
	assert_int_equal(st.evictions, 0);
	for (i = 0; i < n; i += 7) {
		snprintf(name, sizeof name, "s%d.grow.example.nl.", i);
		make_query(name, LDNS_RR_TYPE_A, 0, 1, &q);
		assert_int_equal(lookup(c, &q, T0, 0, &p), CACHE_HIT);
		ldns_pkt_free(p);
	}
	cache_free(c);
}

/*
 * The shards do not double all at once: a cache of 64 shards filled
 * evenly (every name a new one) has each shard's doubling from 4,096
 * slots to 8,192 at another count of entries, the middle half of them
 * spread over more than 8 % of the entries at the last one's (each
 * shard's load from 1/2 down to 3/8: some 12 %), where doublings at the
 * same load of every shard came within 3 % (the hash's spread: one
 * standard deviation of a shard's 2,048 entries is 2.2 % of them). The
 * tables together are never more than half full.
 */
static void
test_cache_grow_spread(void **state)
{
	struct cache		*c;
	struct wire_query	 q;
	struct answer		 a;
	struct cache_stats	 st;
	ldns_pkt		*p;
	uint8_t			*wire = NULL, qbuf[512];
	size_t			 len, at[64], n = 0, i, lo = 64 * 4096;
	size_t			 hi = 64 * 8192;
	uint64_t		 slots = 0;
	char			 label[16];
	const char		*name = "s0000000.spread.example.nl.";

	(void)state;
	c = cache_new(128 * 1024 * 1024, 0, 86400, 3600);
	assert_non_null(c);
	/* The name's first label, 8 octets from octet 13, is rewritten. */
	p = ldns_pkt_query_new(ldns_dname_new_frm_str(name), LDNS_RR_TYPE_A,
	    LDNS_RR_CLASS_IN, LDNS_RD);
	assert_non_null(p);
	assert_int_equal(ldns_pkt2wire(&wire, p, &len), LDNS_STATUS_OK);
	assert_true(len <= sizeof qbuf);
	memcpy(qbuf, wire, len);
	free(wire);
	ldns_pkt_free(p);
	make_a(name, 3600, "192.0.2.1", &a);
	assert_memory_equal(qbuf + 13, "s0000000", 8);
	assert_memory_equal(a.buf + 13, "s0000000", 8);
	cache_stats(c, &st);
	slots = st.slots;
	for (i = 0; slots < hi; i++) {
		assert_true(i < 400000);
		snprintf(label, sizeof label, "s%07zu", i);
		memcpy(qbuf + 13, label, 8);
		memcpy(a.buf + 13, label, 8);
		memset(&q, 0, sizeof q);
		assert_int_equal(wire_parse_query(qbuf, len, &q), WIRE_OK);
		cache_insert(c, &q, a.buf, &a.sc, T0, 0, 0);
		cache_stats(c, &st);
		assert_int_equal(st.entries, i + 1);
		assert_true(st.slots >= 2 * st.entries);
		if (st.slots == slots)
			continue;
		/* One shard doubled with this insert, no more. */
		assert_true(st.slots - slots <= 4096);
		if (st.slots > lo) {
			assert_int_equal(st.slots - slots, 4096);
			assert_true(n < 64);
			at[n++] = i + 1;
		}
		slots = st.slots;
	}
	assert_int_equal(n, 64);
	assert_int_equal(cache_verify(c, NULL), 0);
	/* In the order of the inserts: at[16] is the 17th doubling. */
	assert_true((at[48] - at[16]) * 100 > at[63] * 8);
	cache_free(c);
}

/*
 * Threads filling one cache, each with names of its own: the shards'
 * tables double while other threads' doublings hold the cache's one
 * scratch table (cache_grow()), which each must find all zero, and
 * while the huge pages their tables share are advised (cache_huge()).
 * 4 threads of 64,000 names over the 64 shards of a 64 MiB cache, some
 * 4,000 a shard: 128 slots to 8,192 or 16,384 (the most such a shard
 * may need, 128 KiB of the 2 MiB huge pages its neighbours' share),
 * six or seven doublings, one or two of them ones that read every
 * entry. Every entry is then in its run (cache_verify()) and found.
 */
#define GROW_THREADS	4
#define GROW_NAMES	64000

struct grow_arg {
	struct cache	*c;
	int		 t;		/* the thread's number */
	const uint8_t	*qbuf;		/* a query, the label at 13 */
	size_t		 qlen;
	const struct answer *a;		/* its answer, the same */
	uint64_t	 missing;	/* names not found after */
};

/* The query and answer of name i of thread t: "g<t><i, 6 digits>". */
static void
grow_make(const struct grow_arg *g, int i, uint8_t *qbuf, struct answer *a,
    struct wire_query *q)
{
	char	label[16];

	snprintf(label, sizeof label, "g%d%06d", g->t, i);
	memcpy(qbuf, g->qbuf, g->qlen);
	memcpy(qbuf + 13, label, 8);
	memcpy(a->buf + 13, label, 8);
	memset(q, 0, sizeof *q);
	if (wire_parse_query(qbuf, g->qlen, q) != WIRE_OK)
		abort();
}

static void *
grow_main(void *arg)
{
	struct grow_arg		*g = arg;
	struct cache_req	 req = { NULL, T0, 0, WIRE_MAX_UDP, NULL, NULL };
	struct wire_query	 q;
	struct answer		*a;
	uint8_t			 qbuf[512], out[512];
	size_t			 outlen;
	int			 i;

	if ((a = malloc(sizeof *a)) == NULL)
		abort();
	memcpy(a, g->a, sizeof *a);
	for (i = 0; i < GROW_NAMES; i++) {
		grow_make(g, i, qbuf, a, &q);
		cache_insert(g->c, &q, a->buf, &a->sc, T0, 0, 0);
	}
	for (i = 0; i < GROW_NAMES; i++) {
		grow_make(g, i, qbuf, a, &q);
		req.q = &q;
		if (cache_lookup(g->c, &req, out, sizeof out, &outlen,
		    NULL) != CACHE_HIT)
			g->missing++;
	}
	free(a);
	return (NULL);
}

static void
test_cache_grow_threads(void **state)
{
	struct cache		*c;
	struct answer		 a;
	struct cache_stats	 st;
	struct grow_arg		 g[GROW_THREADS];
	pthread_t		 tid[GROW_THREADS];
	ldns_pkt		*p;
	uint8_t			*wire = NULL;
	size_t			 len, far;
	const char		*name = "g0000000.threads.example.nl.";
	int			 i;

	(void)state;
	c = cache_new(64 * 1024 * 1024, 0, 86400, 3600);
	assert_non_null(c);
	p = ldns_pkt_query_new(ldns_dname_new_frm_str(name), LDNS_RR_TYPE_A,
	    LDNS_RR_CLASS_IN, LDNS_RD);
	assert_non_null(p);
	assert_int_equal(ldns_pkt2wire(&wire, p, &len), LDNS_STATUS_OK);
	assert_true(len <= 512);
	ldns_pkt_free(p);
	make_a(name, 3600, "192.0.2.1", &a);
	assert_memory_equal(wire + 13, "g0000000", 8);
	assert_memory_equal(a.buf + 13, "g0000000", 8);
	for (i = 0; i < GROW_THREADS; i++) {
		memset(&g[i], 0, sizeof g[i]);
		g[i].c = c;
		g[i].t = i;
		g[i].qbuf = wire;
		g[i].qlen = len;
		g[i].a = &a;
		assert_int_equal(pthread_create(&tid[i], NULL, grow_main,
		    &g[i]), 0);
	}
	for (i = 0; i < GROW_THREADS; i++) {
		assert_int_equal(pthread_join(tid[i], NULL), 0);
		assert_int_equal(g[i].missing, 0);
	}
	free(wire);
	assert_int_equal(cache_verify(c, &far), 0);
	cache_stats(c, &st);
	assert_int_equal(st.entries, GROW_THREADS * GROW_NAMES);
	assert_int_equal(st.evictions, 0);
	assert_int_equal(st.unstored, 0);
	/* Every shard doubled past its first table, at most half full. */
	assert_true(st.slots >= 64 * 8192);
	assert_true(st.slots >= 2 * st.entries);
	cache_free(c);
}

static void
test_cache_replace(void **state)
{
	struct cache		*c;
	struct wire_query	 q;
	struct answer		 a1, a2;
	struct cache_stats	 st;
	ldns_pkt		*p;
	char			 buf[64];

	(void)state;
	c = cache_new(BIG_CACHE, STALE_SECS, 86400, 3600);
	assert_non_null(c);
	make_query("www.example.nl.", LDNS_RR_TYPE_A, 0, 1, &q);
	make_a("www.example.nl.", 300, "192.0.2.1", &a1);
	make_a("www.example.nl.", 600, "198.51.100.7", &a2);
	cache_insert(c, &q, a1.buf, &a1.sc, T0, 0, 0);
	cache_insert(c, &q, a2.buf, &a2.sc, T0 + 5, 0, 0);

	assert_int_equal(lookup(c, &q, T0 + 10, 0, &p), CACHE_HIT);
	assert_string_equal(an_addr(p, 0, buf, sizeof buf), "198.51.100.7");
	assert_int_equal(an_ttl(p, 0), 595);
	ldns_pkt_free(p);

	cache_stats(c, &st);
	assert_int_equal(st.entries, 1);
	assert_int_equal(st.inserts, 2);
	assert_int_equal(st.evictions, 0);
	cache_free(c);
}

static void
test_cache_flush(void **state)
{
	struct cache		*c;
	struct wire_query	 q;
	struct answer		 a;
	struct cache_stats	 st;
	ldns_pkt		*p;
	char			 name[64];
	int			 i;

	(void)state;
	c = cache_new(BIG_CACHE, STALE_SECS, 86400, 3600);
	assert_non_null(c);
	for (i = 0; i < 100; i++) {
		snprintf(name, sizeof name, "h%d.example.nl.", i);
		make_query(name, LDNS_RR_TYPE_A, 0, 1, &q);
		make_a(name, 300, "192.0.2.1", &a);
		cache_insert(c, &q, a.buf, &a.sc, T0, 0, 0);
	}
	cache_stats(c, &st);
	assert_int_equal(st.entries, 100);

	cache_flush(c);
	cache_stats(c, &st);
	assert_int_equal(st.entries, 0);
	assert_int_equal(st.bytes, 0);
	assert_int_equal(lookup(c, &q, T0, 1, &p), CACHE_MISS);

	/* Still usable afterwards. */
	cache_insert(c, &q, a.buf, &a.sc, T0, 0, 0);
	assert_int_equal(lookup(c, &q, T0, 0, &p), CACHE_HIT);
	ldns_pkt_free(p);
	cache_free(c);
}

static void
test_cache_small_out(void **state)
{
	struct cache		*c;
	struct wire_query	 q;
	struct answer		 a;
	uint8_t			 out[16];
	size_t			 outlen = 0;

	(void)state;
	c = cache_new(BIG_CACHE, STALE_SECS, 86400, 3600);
	assert_non_null(c);
	make_query("www.example.nl.", LDNS_RR_TYPE_A, 0, 1, &q);
	make_a("www.example.nl.", 300, "192.0.2.1", &a);
	cache_insert(c, &q, a.buf, &a.sc, T0, 0, 0);
	/* wire_answer() cannot write it: a miss, outlen untouched. */
	assert_int_equal(cache_lookup(c, REQ(&q, T0, NULL), out,
	    sizeof out, &outlen, NULL), CACHE_MISS);
	assert_int_equal(outlen, 0);
	cache_free(c);
}

/* Shared by the threads of test_cache_threads. */
#define THR_KEYS	16
#define THR_N		4
#define THR_OPS		20000

struct thr_arg {
	struct cache		*c;
	const struct wire_query	*q;		/* THR_KEYS queries */
	const struct answer	*a;		/* THR_KEYS answers */
	unsigned		 seed;
	uint64_t		 lookups, inserts, answered, bad;
};

static void *
thr_main(void *arg)
{
	struct thr_arg		*t = arg;
	struct cache_req	 req = { NULL, 0, 0, WIRE_MAX_UDP, NULL, NULL };
	uint8_t			 out[1024];
	size_t			 outlen;
	unsigned		 r, k;
	uint32_t		 now;
	int			 i;

	for (i = 0; i < THR_OPS; i++) {
		r = rand_r(&t->seed);
		k = r % THR_KEYS;
		/* Time wanders so entries expire, go stale and get removed. */
		now = T0 + (i / 100) % 120;
		if ((r >> 8) % 4 == 0) {
			cache_insert(t->c, &t->q[k], t->a[k].buf, &t->a[k].sc,
			    now, 0, 0);
			t->inserts++;
			continue;
		}
		/*
		 * The hints a worker gives ahead of a lookup, without the
		 * lock, while others insert (and grow the tables).
		 */
		cache_prefetch(t->c, wire_qhash(&t->q[k]));
		cache_prefetch_entry(t->c, wire_qhash(&t->q[(k + 1) %
		    THR_KEYS]));
		outlen = 0;
		t->lookups++;
		req.q = &t->q[k];
		req.now = now;
		req.allow_stale = (r >> 12) & 1;
		if (cache_lookup(t->c, &req, out, sizeof out, &outlen, NULL) ==
		    CACHE_MISS)
			continue;
		t->answered++;
		/* Our ID and a sane length. */
		if (outlen <= WIRE_HDR_LEN || outlen > sizeof out ||
		    ((out[0] << 8) | out[1]) != t->q[k].id)
			t->bad++;
	}
	return (NULL);
}

/* Run THR_N threads on a cache of max bytes and check the counters. */
static void
run_threads(size_t max)
{
	struct cache		*c;
	struct wire_query	 q[THR_KEYS];
	struct answer		*a;
	struct thr_arg		 t[THR_N];
	pthread_t		 tid[THR_N];
	struct cache_stats	 st;
	uint64_t		 lookups = 0, inserts = 0, answered = 0;
	char			 name[64];
	int			 i;

	a = calloc(THR_KEYS, sizeof *a);
	assert_non_null(a);
	for (i = 0; i < THR_KEYS; i++) {
		snprintf(name, sizeof name, "t%d.example.nl.", i);
		make_query(name, LDNS_RR_TYPE_A, i & 1, 100 + i, &q[i]);
		make_a(name, 30, "192.0.2.1", &a[i]);
	}
	c = cache_new(max, 20, 86400, 3600);
	assert_non_null(c);
	for (i = 0; i < THR_N; i++) {
		memset(&t[i], 0, sizeof t[i]);
		t[i].c = c;
		t[i].q = q;
		t[i].a = a;
		t[i].seed = 7919 * (i + 1);
		assert_int_equal(pthread_create(&tid[i], NULL, thr_main,
		    &t[i]), 0);
	}
	for (i = 0; i < THR_N; i++) {
		assert_int_equal(pthread_join(tid[i], NULL), 0);
		assert_int_equal(t[i].bad, 0);
		lookups += t[i].lookups;
		inserts += t[i].inserts;
		answered += t[i].answered;
	}
	cache_stats(c, &st);
	assert_int_equal(st.hits + st.stale_hits + st.misses, lookups);
	assert_int_equal(st.hits + st.stale_hits, answered);
	assert_int_equal(st.inserts, inserts);
	assert_true(answered > 0);
	assert_true(st.entries <= THR_KEYS);
	assert_true(st.bytes <= max);
	cache_free(c);
	free(a);
}

static void
test_cache_threads(void **state)
{
	(void)state;
	run_threads(BIG_CACHE);		/* many shards */
	run_threads(1024);		/* one shard, constant eviction */
}

/* A prefetching worker: hints for every key until told to stop. */
struct pf_arg {
	struct cache		*c;
	struct wire_query	*q;	/* the questions, */
	uint64_t		*h;	/* their hashes */
	int			 n;
	int			 stop;
	uint64_t		 rounds;
	pthread_t		 tid;
};

static void *
pf_main(void *arg)
{
	struct pf_arg	*t = arg;
	int		 i;

	while (!__atomic_load_n(&t->stop, __ATOMIC_ACQUIRE)) {
		for (i = 0; i < t->n; i++) {
			cache_prefetch(t->c, t->h[i]);
			cache_prefetch_entry(t->c, t->h[i]);
		}
		__atomic_add_fetch(&t->rounds, 1, __ATOMIC_RELEASE);
	}
	return (NULL);
}

/*
 * n questions "<prefix><i>.example.nl." of type A in t, with their
 * hashes, and a thread prefetching them all from c until pf_stop().
 */
static void
pf_start(struct pf_arg *t, struct cache *c, const char *prefix, int n)
{
	char	name[64];
	int	i;

	memset(t, 0, sizeof *t);
	t->c = c;
	t->n = n;
	t->q = calloc((size_t)n, sizeof *t->q);
	t->h = calloc((size_t)n, sizeof *t->h);
	assert_non_null(t->q);
	assert_non_null(t->h);
	for (i = 0; i < n; i++) {
		snprintf(name, sizeof name, "%s%d.example.nl.", prefix, i);
		make_query(name, LDNS_RR_TYPE_A, 0, 1, &t->q[i]);
		t->h[i] = wire_qhash(&t->q[i]);
	}
	assert_int_equal(pthread_create(&t->tid, NULL, pf_main, t), 0);
}

/*
 * Stop t's thread, which must have gone over its keys at least once. On a
 * busy machine it may not have run yet when the inserts are done (the
 * unit tests failed so under load): let it finish its first round, 10 s
 * at the longest, before telling it to stop.
 */
static void
pf_stop(struct pf_arg *t)
{
	int	i;

	for (i = 0; i < 10000 &&
	    __atomic_load_n(&t->rounds, __ATOMIC_ACQUIRE) == 0; i++)
		usleep(1000);
	__atomic_store_n(&t->stop, 1, __ATOMIC_RELEASE);
	assert_int_equal(pthread_join(t->tid, NULL), 0);
	assert_true(t->rounds > 0);
}

/*
 * cache_prefetch_entry() reads the slots without the lock while an
 * insert grows their table: the tables it may still read are kept, not freed
 * (ASan would see such a read), and the cache is as the inserts left it.
 */
static void
test_cache_prefetch_grow(void **state)
{
	struct cache		*c;
	struct answer		 a;
	struct pf_arg		 t;
	ldns_pkt		*p;
	char			 name[64];
	int			 i, n = 6000;

	(void)state;
	c = cache_new(BIG_CACHE, 0, 86400, 3600);
	assert_non_null(c);
	pf_start(&t, c, "g", n);
	for (i = 0; i < n; i++) {
		snprintf(name, sizeof name, "g%d.example.nl.", i);
		make_a(name, 3600, "192.0.2.1", &a);
		cache_insert(c, &t.q[i], a.buf, &a.sc, T0, 0, 0);
	}
	pf_stop(&t);
	assert_int_equal(cache_verify(c, NULL), 0);
	for (i = 0; i < n; i++) {
		assert_int_equal(lookup(c, &t.q[i], T0, 0, &p), CACHE_HIT);
		ldns_pkt_free(p);
	}
	cache_free(c);
	free(t.h);
	free(t.q);
}

/*
 * An entry the index has no room for is not stored, and says so: 300
 * questions whose hash is the same (set by hand here; under the secret
 * key no sender can choose it) fill one run of slots. Entries go at
 * most REACH (cache.c's CACHE_DIST_MAX) from their home slot, so the first 256 are
 * stored and found and the other 44 are counted in unstored and are
 * misses; the index stays consistent, its longest run 255.
 */
#define REACH	255

static void
test_cache_unstored(void **state)
{
	struct cache		*c;
	struct cache_stats	 st;
	struct wire_query	*q;
	struct answer		 a;
	ldns_pkt		*p;
	char			 name[64];
	size_t			 far = 0;
	int			 i, n = 300;

	(void)state;
	c = cache_new(BIG_CACHE, 0, 86400, 3600);
	assert_non_null(c);
	q = calloc(n, sizeof *q);
	assert_non_null(q);
	for (i = 0; i < n; i++) {
		snprintf(name, sizeof name, "same%d.example.nl.", i);
		make_query(name, LDNS_RR_TYPE_A, 0, 1, &q[i]);
		q[i].qhash = UINT64_C(0x5eed0000a11c0de5);
		q[i].qhashed = 1;
		make_a(name, 3600, "192.0.2.1", &a);
		cache_insert(c, &q[i], a.buf, &a.sc, T0, 0, 0);
	}
	cache_stats(c, &st);
	assert_int_equal(st.inserts, REACH + 1);
	assert_int_equal(st.unstored, n - (REACH + 1));
	assert_int_equal(st.entries, REACH + 1);
	assert_int_equal(cache_verify(c, &far), 0);
	assert_int_equal(far, REACH);
	for (i = 0; i < n; i++) {
		if (i <= REACH) {
			assert_int_equal(lookup(c, &q[i], T0, 0, &p),
			    CACHE_HIT);
			ldns_pkt_free(p);
		} else
			assert_int_equal(lookup(c, &q[i], T0, 0, &p),
			    CACHE_MISS);
	}
	/* A remembered failure the index refuses is counted too. */
	cache_fail(c, &q[n - 1], T0);
	cache_stats(c, &st);
	assert_int_equal(st.unstored, n - REACH);
	cache_free(c);
	free(q);
}

/*
 * The other writers of a slot while cache_prefetch_entry() reads it
 * unlocked: an eviction's backward shift (a cache of one small shard), an
 * insert that replaces an entry, a remembered failure, and a flush,
 * which empties every slot of tables grown large before. Under
 * ThreadSanitizer (make tsan, part of make check) every such store must
 * be atomic, as the read is: a flush that cleared the buckets with
 * memset() was a data race that TSan reported; under ASan, no read of an
 * array or entry freed. Afterwards the cache is consistent and the
 * names inserted since the last flush, as many as fit, are hits.
 */
static void
test_cache_prefetch_churn(void **state)
{
	struct cache		*c;
	struct cache_stats	 st;
	struct wire_query	*q;
	struct answer		 a;
	struct pf_arg		 t;
	ldns_pkt		*p;
	char			 name[64];
	int			 i, round, n = 3000, hits = 0;

	(void)state;
	/* Small: one shard, which evicts on most inserts once full. */
	c = cache_new(256 * 1024, STALE_SECS, 86400, 3600);
	assert_non_null(c);
	pf_start(&t, c, "c", n);
	q = t.q;
	for (round = 0; round < 4; round++) {
		for (i = 0; i < n; i++) {
			snprintf(name, sizeof name, "c%d.example.nl.", i);
			if (i % 7 == 3) {
				cache_fail(c, &q[i], T0);
				continue;
			}
			make_a(name, 3600, round & 1 ? "192.0.2.2" :
			    "192.0.2.1", &a);
			cache_insert(c, &q[i], a.buf, &a.sc, T0, 0, 0);
		}
		if (round < 3)
			cache_flush(c);
	}
	pf_stop(&t);
	assert_int_equal(cache_verify(c, NULL), 0);
	cache_stats(c, &st);
	assert_true(st.evictions > 0);
	for (i = 0; i < n; i++) {
		if (i % 7 == 3 || lookup(c, &q[i], T0, 0, &p) != CACHE_HIT)
			continue;
		hits++;
		ldns_pkt_free(p);
	}
	assert_true(hits > 0);
	cache_flush(c);
	assert_int_equal(cache_verify(c, NULL), 0);
	cache_free(c);
	free(t.h);
	free(t.q);
}

static void
test_cache_now(void **state)
{
	uint32_t	a, b;

	(void)state;
	a = cache_now();
	b = cache_now();
	assert_true(b >= a);
}

/*
 * RFC 9520: a failure is remembered for the failure TTL: a question
 * without an entry gets CACHE_FAILED (a small entry, counted), one with
 * an expired answer gets that at once as stale, even when the caller did
 * not ask for stale answers; then it is forgotten, and a real answer
 * replaces it. CD=1 failures are not remembered.
 */
static void
test_cache_fail(void **state)
{
	struct cache		*c;
	struct cache_stats	 st;
	struct wire_query	 q, qs, qcd;
	struct answer		 a;
	ldns_pkt		*p;

	(void)state;
	c = cache_new(BIG_CACHE, STALE_SECS, 86400, 3600);
	assert_non_null(c);
	cache_set_failure_ttl(c, 7);
	make_query("down.example.nl.", LDNS_RR_TYPE_A, 0, 3, &q);
	cache_fail(c, &q, T0);
	assert_int_equal(lookup(c, &q, T0, 0, &p), CACHE_FAILED);
	assert_int_equal(lookup(c, &q, T0 + 6, 1, &p), CACHE_FAILED);
	cache_stats(c, &st);
	assert_int_equal(st.entries, 1);
	assert_int_equal(st.failed_hits, 2);
	assert_true(st.bytes > 0 && st.bytes < 512);
	/* Forgotten after the failure TTL; the entry goes. */
	assert_int_equal(lookup(c, &q, T0 + 7, 1, &p), CACHE_MISS);
	cache_stats(c, &st);
	assert_int_equal(st.entries, 0);
	assert_int_equal(st.bytes, 0);

	/* Failed again, then answered: the answer replaces the mark. */
	cache_fail(c, &q, T0 + 10);
	make_a("down.example.nl.", 300, "192.0.2.9", &a);
	cache_insert(c, &q, a.buf, &a.sc, T0 + 11, 0, 0);
	assert_int_equal(lookup(c, &q, T0 + 11, 0, &p), CACHE_HIT);
	ldns_pkt_free(p);

	/* An expired answer: served stale at once while the failure is. */
	make_query("stale.example.nl.", LDNS_RR_TYPE_A, 0, 4, &qs);
	make_a("stale.example.nl.", 10, "192.0.2.10", &a);
	cache_insert(c, &qs, a.buf, &a.sc, T0, 0, 0);
	assert_int_equal(lookup(c, &qs, T0 + 20, 0, &p), CACHE_MISS);
	cache_fail(c, &qs, T0 + 20);
	assert_int_equal(lookup(c, &qs, T0 + 20, 0, &p), CACHE_STALE);
	assert_int_equal(an_ttl(p, 0), CACHE_STALE_TTL);
	ldns_pkt_free(p);
	/* Then the answer is stale as before, for allow_stale only. */
	assert_int_equal(lookup(c, &qs, T0 + 27, 0, &p), CACHE_MISS);
	assert_int_equal(lookup(c, &qs, T0 + 27, 1, &p), CACHE_STALE);
	ldns_pkt_free(p);
	/* A fresh answer wins over a failure mark. */
	make_a("stale.example.nl.", 300, "192.0.2.11", &a);
	cache_insert(c, &qs, a.buf, &a.sc, T0 + 30, 0, 0);
	cache_fail(c, &qs, T0 + 30);
	assert_int_equal(lookup(c, &qs, T0 + 31, 0, &p), CACHE_HIT);
	ldns_pkt_free(p);

	/* CD=1: not remembered. */
	make_query("cd.example.nl.", LDNS_RR_TYPE_A, 0, 5, &qcd);
	qcd.flags |= WIRE_CD;
	cache_fail(c, &qcd, T0);
	qcd.flags &= ~WIRE_CD;
	assert_int_equal(lookup(c, &qcd, T0, 0, &p), CACHE_MISS);
	cache_free(c);

	/* Without serve-stale the mark works alone. */
	c = cache_new(BIG_CACHE, 0, 86400, 3600);
	assert_non_null(c);
	cache_insert(c, &qs, a.buf, &a.sc, T0, 0, 0);
	cache_fail(c, &qs, T0 + 400);
	assert_int_equal(lookup(c, &qs, T0 + 400, 0, &p), CACHE_FAILED);
	assert_int_equal(lookup(c, &qs, T0 + 400 + CACHE_FAILURE_TTL, 0, &p),
	    CACHE_MISS);
	cache_free(c);
}

/*
 * Many names, so that the shards' tables grow and runs of slots form:
 * every name stored is found and none other, also after some were
 * replaced (the slots after the old one's moved back in their run) and
 * after others expired and were taken out by the lookup that found them
 * so.
 */
static void
test_cache_many(void **state)
{
	struct cache		*c;
	struct wire_query	 q;
	struct answer		 a;
	struct cache_stats	 st;
	ldns_pkt		*p;
	char			 name[64];
	int			 i, n = 3000;

	(void)state;
	c = cache_new(BIG_CACHE, 0, 86400, 3600);
	assert_non_null(c);
	/* Even names live long, odd ones 10 s. */
	for (i = 0; i < n; i++) {
		snprintf(name, sizeof name, "n%d.many.example.nl.", i);
		make_query(name, LDNS_RR_TYPE_A, 0, 1, &q);
		make_a(name, i % 2 == 0 ? 3600 : 10, "192.0.2.1", &a);
		cache_insert(c, &q, a.buf, &a.sc, T0, 0, 0);
	}
	cache_stats(c, &st);
	assert_int_equal(st.entries, n);
	for (i = 0; i < 2 * n; i++) {
		snprintf(name, sizeof name, "n%d.many.example.nl.", i);
		make_query(name, LDNS_RR_TYPE_A, 0, 1, &q);
		/* The hints change nothing, present or not. */
		cache_prefetch(c, wire_qhash(&q));
		cache_prefetch_entry(c, wire_qhash(&q));
		assert_int_equal(lookup(c, &q, T0, 0, &p),
		    i < n ? CACHE_HIT : CACHE_MISS);
		ldns_pkt_free(p);
	}
	/* Replace every third name (the old entry goes, the new one in). */
	for (i = 0; i < n; i += 3) {
		snprintf(name, sizeof name, "n%d.many.example.nl.", i);
		make_query(name, LDNS_RR_TYPE_A, 0, 1, &q);
		make_a(name, 3600, "192.0.2.2", &a);
		cache_insert(c, &q, a.buf, &a.sc, T0, 0, 0);
	}
	/* Past 10 s, with no serve-stale: the odd ones go as looked up. */
	for (i = 1; i < n; i += 2) {
		snprintf(name, sizeof name, "n%d.many.example.nl.", i);
		make_query(name, LDNS_RR_TYPE_A, 0, 1, &q);
		assert_int_equal(lookup(c, &q, T0 + 20, 0, &p),
		    i % 3 == 0 ? CACHE_HIT : CACHE_MISS);
		ldns_pkt_free(p);
	}
	for (i = 0; i < n; i++) {
		snprintf(name, sizeof name, "n%d.many.example.nl.", i);
		make_query(name, LDNS_RR_TYPE_A, 0, 1, &q);
		assert_int_equal(lookup(c, &q, T0 + 20, 0, &p),
		    i % 2 == 0 || i % 3 == 0 ? CACHE_HIT : CACHE_MISS);
		ldns_pkt_free(p);
	}
	cache_stats(c, &st);
	assert_int_equal(st.entries, n - (n / 2 - n / 6));
	cache_free(c);
}

/*
 * Eviction under churn, with slots moved back in their runs as entries
 * leave: a small cache (two shards) takes thousands of names, some
 * looked up again (so the LRU tail is not always the oldest of its run)
 * and some replaced; cache_verify() checks the slots (each entry in the
 * run of its hash, with its distance and tag), the LRU list, the counts
 * and the budget as it goes, and the counters add up. Runs longer than
 * one slot do happen, and lookups stay right with them: every name is a
 * hit or a miss as the cache holds it, and the hits counted are the
 * entries held.
 */
static void
test_cache_churn(void **state)
{
	struct cache		*c;
	struct wire_query	 q;
	struct answer		 a;
	struct cache_stats	 st;
	ldns_pkt		*p;
	char			 name[96];
	size_t			 far, most = 0;
	uint64_t		 held;
	int			 i, n = 12000, hits, r;

	(void)state;
	c = cache_new(256 * 1024, 0, 86400, 3600);
	assert_non_null(c);
	for (i = 0; i < n; i++) {
		/* Names of several lengths: entries of several sizes. */
		snprintf(name, sizeof name, "c%d.%.*schurn.example.nl.", i,
		    i % 5 * 4, "abc.abc.abc.abc.abc.");
		make_query(name, LDNS_RR_TYPE_A, 0, 1, &q);
		make_a(name, 3600, "192.0.2.1", &a);
		cache_insert(c, &q, a.buf, &a.sc, T0, 0, 0);
		if (i % 11 == 0) {
			/* The name just stored replaced: the old entry out, the new one in. */
			make_a(name, 3600, "192.0.2.2", &a);
			cache_insert(c, &q, a.buf, &a.sc, T0, 0, 0);
		}
		if (i % 7 == 0) {
			/* A newer name again: moved to the LRU head. */
			snprintf(name, sizeof name, "c%d.%.*schurn.example.nl.",
			    i / 2, i / 2 % 5 * 4, "abc.abc.abc.abc.abc.");
			make_query(name, LDNS_RR_TYPE_A, 0, 1, &q);
			(void)lookup(c, &q, T0, 0, &p);
			ldns_pkt_free(p);
		}
		if (i % 50 == 0) {
			assert_int_equal(cache_verify(c, &far), 0);
			if (far > most)
				most = far;
		}
	}
	assert_int_equal(cache_verify(c, &far), 0);
	cache_stats(c, &st);
	assert_true(st.evictions > (uint64_t)n / 2);
	assert_true(st.bytes <= 256 * 1024);
	/* Every insert is held, or was replaced or evicted. */
	assert_int_equal(st.entries + st.evictions + (n + 10) / 11, st.inserts);
	/* Slots away from their hash's came (runs), and were moved back. */
	assert_true(most > 0);

	/* Every name: a hit for each entry held, a miss for the rest. */
	held = st.entries;
	hits = 0;
	for (i = 0; i < n; i++) {
		snprintf(name, sizeof name, "c%d.%.*schurn.example.nl.", i,
		    i % 5 * 4, "abc.abc.abc.abc.abc.");
		make_query(name, LDNS_RR_TYPE_A, 0, 1, &q);
		r = lookup(c, &q, T0, 0, &p);
		assert_true(r == CACHE_HIT || r == CACHE_MISS);
		if (r == CACHE_HIT) {
			hits++;
			assert_int_equal(ldns_pkt_ancount(p), 1);
		}
		ldns_pkt_free(p);
	}
	assert_int_equal(hits, held);
	assert_int_equal(cache_verify(c, NULL), 0);
	cache_stats(c, &st);
	assert_int_equal(st.entries, held);

	/* A flush leaves nothing, and it is all consistent. */
	cache_flush(c);
	assert_int_equal(cache_verify(c, &far), 0);
	assert_int_equal(far, 0);
	cache_free(c);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_cache_hit),
		cmocka_unit_test(test_cache_many),
		cmocka_unit_test(test_cache_churn),
		cmocka_unit_test(test_cache_mask),
		cmocka_unit_test(test_cache_qcheck),
		cmocka_unit_test(test_cache_ttl_countdown),
		cmocka_unit_test(test_cache_expiry_stale),
		cmocka_unit_test(test_cache_key),
		cmocka_unit_test(test_cache_case),
		cmocka_unit_test(test_cache_negative),
		cmocka_unit_test(test_cache_max_ttl),
		cmocka_unit_test(test_cache_cd_not_stored),
		cmocka_unit_test(test_cache_not_stored),
		cmocka_unit_test(test_cache_size_bound),
		cmocka_unit_test(test_cache_lru),
		cmocka_unit_test(test_cache_second_chance),
		cmocka_unit_test(test_cache_lru_order),
		cmocka_unit_test(test_cache_grow_spare),
		cmocka_unit_test(test_cache_grow_spread),
		cmocka_unit_test(test_cache_grow_threads),
		cmocka_unit_test(test_cache_replace),
		cmocka_unit_test(test_cache_flush),
		cmocka_unit_test(test_cache_small_out),
		cmocka_unit_test(test_cache_threads),
		cmocka_unit_test(test_cache_prefetch_grow),
		cmocka_unit_test(test_cache_prefetch_churn),
		cmocka_unit_test(test_cache_now),
		cmocka_unit_test(test_cache_fail),
		cmocka_unit_test(test_cache_unstored),
	};

	return (cmocka_run_group_tests(tests, NULL, NULL));
}
