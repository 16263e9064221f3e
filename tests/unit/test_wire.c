/*
 * test_wire.c: the in-place DNS message code. Query parsing (good queries,
 * EDNS, a table of malformed packets with their verdicts), error responses,
 * upstream queries, answer checks, answer scans (TTLs, negative caching,
 * OPT cut) and answers written from stored messages. Output is read back
 * with ldns, which is fine here: tests are not the hot path.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <arpa/inet.h>
#include <sys/socket.h>

#include <cmocka.h>
#include <ldns/ldns.h>

#include "wire.h"

/* Header with ID 0x1234: flags, then the four counts (each < 256). */
#define HDR(fl, qd, an, ns, ar) \
	0x12, 0x34, ((fl) >> 8) & 0xff, (fl) & 0xff, 0, (qd), 0, (an), \
	0, (ns), 0, (ar)
/* www.example.nl. in mixed case, and type A class IN. */
#define QNAME	3, 'W', 'w', 'W', 7, 'e', 'X', 'a', 'm', 'p', 'l', 'e', \
	2, 'N', 'l', 0
#define QNAME_LEN 16
#define QTAIL	0, 1, 0, 1
/* OPT: size 1232, version v, DO in do_hi (0x80), no options. */
#define OPT(v, do_hi)	0, 0, 41, 0x04, 0xd0, 0, (v), (do_hi), 0, 0, 0

/* A stored message as wire_scan() left it; an answer already written. */
#define STORED(m, sc) \
	(&(struct wire_msg){ (m), (sc).len, (sc).ttl_off, (sc).nttl })
#define WRITTEN(m, n)	(&(struct wire_msg){ (m), (n), NULL, 0 })

static const uint8_t lname[] = { 3, 'w', 'w', 'w', 7, 'e', 'x', 'a', 'm',
	'p', 'l', 'e', 2, 'n', 'l', 0 };

/* Parse a packet that must be WIRE_OK. */
static void
parse_ok(const uint8_t *pkt, size_t len, struct wire_query *q)
{
	assert_int_equal(wire_parse_query(pkt, len, q), WIRE_OK);
}

/* Plain query: case kept in name, folded in lname, labels counted. */
static void
test_parse_plain(void **state)
{
	static const uint8_t pkt[] = { HDR(0x0110, 1, 0, 0, 0), QNAME,
		0, 28, 0, 1 };
	static const uint8_t sent[] = { QNAME };
	struct wire_query q;
	char		 buf[64];

	(void)state;
	parse_ok(pkt, sizeof pkt, &q);
	assert_int_equal(q.id, 0x1234);
	assert_int_equal(q.flags, 0x0110);
	assert_true(q.have_question);
	assert_int_equal(q.name_len, QNAME_LEN);
	assert_memory_equal(q.name, sent, QNAME_LEN);
	assert_memory_equal(q.lname, lname, QNAME_LEN);
	assert_int_equal(q.labels, 3);
	assert_int_equal(q.qtype, WIRE_TYPE_AAAA);
	assert_int_equal(q.qclass, WIRE_CLASS_IN);
	assert_false(q.edns);
	assert_false(q.do_bit);
	assert_int_equal(q.udp_size, 512);
	assert_string_equal(wire_name_str(q.name, q.name_len, buf, sizeof buf),
	    "WwW.eXample.Nl.");
}

/* The root name, and a query with TC set, are both fine. */
static void
test_parse_root_tc(void **state)
{
	static const uint8_t pkt[] = { HDR(0x0300, 1, 0, 0, 0), 0, 0, 2,
		0, 1 };
	struct wire_query q;
	char		 buf[8];

	(void)state;
	parse_ok(pkt, sizeof pkt, &q);
	assert_int_equal(q.name_len, 1);
	assert_int_equal(q.labels, 0);
	assert_int_equal(q.qtype, WIRE_TYPE_NS);
	assert_string_equal(wire_name_str(q.name, q.name_len, buf, sizeof buf),
	    ".");
}

/* EDNS: DO, size, small sizes raised to 512, options walked. */
static void
test_parse_edns(void **state)
{
	static const uint8_t do_pkt[] = { HDR(0x0100, 1, 0, 0, 1), QNAME,
		QTAIL, OPT(0, 0x80) };
	static const uint8_t small[] = { HDR(0x0100, 1, 0, 0, 1), QNAME,
		QTAIL, 0, 0, 41, 0x01, 0x00, 0, 0, 0, 0, 0, 0 };
	static const uint8_t big[] = { HDR(0x0100, 1, 0, 0, 1), QNAME,
		QTAIL, 0, 0, 41, 0xff, 0xff, 0, 0, 0, 0, 0, 0 };
	/* Options: a cookie (10, 8 octets) and an unknown empty one. */
	static const uint8_t opts[] = { HDR(0x0100, 1, 0, 0, 1), QNAME,
		QTAIL, 0, 0, 41, 0x10, 0x00, 0, 0, 0, 0, 0, 16,
		0, 10, 0, 8, 1, 2, 3, 4, 5, 6, 7, 8, 0xfe, 0xed, 0, 0 };
	/* Another RR before OPT, its owner a backward pointer. */
	static const uint8_t other[] = { HDR(0x0100, 1, 0, 0, 2), QNAME,
		QTAIL, 0xc0, 12, 0, 1, 0, 1, 0, 0, 0, 5, 0, 4, 192, 0, 2, 1,
		OPT(0, 0) };
	struct wire_query q;

	(void)state;
	parse_ok(do_pkt, sizeof do_pkt, &q);
	assert_true(q.edns);
	assert_true(q.do_bit);
	assert_int_equal(q.edns_version, 0);
	assert_int_equal(q.udp_size, 1232);

	parse_ok(small, sizeof small, &q);
	assert_true(q.edns);
	assert_false(q.do_bit);
	assert_int_equal(q.udp_size, 512);

	parse_ok(big, sizeof big, &q);
	assert_int_equal(q.udp_size, 65535);

	parse_ok(opts, sizeof opts, &q);
	assert_true(q.edns);
	assert_int_equal(q.udp_size, 4096);

	parse_ok(other, sizeof other, &q);
	assert_true(q.edns);
}

/* Packets built at run time for the table below. */
static size_t
build_label64(uint8_t *p)
{
	static const uint8_t h[] = { HDR(0x0100, 1, 0, 0, 0) };
	size_t	n = sizeof h;

	memcpy(p, h, n);
	p[n++] = 64;
	memset(p + n, 'a', 64);
	n += 64;
	p[n++] = 0;
	memcpy(p + n, (const uint8_t[]){ QTAIL }, 4);
	return (n + 4);
}

/* A name of total wire length total (>= 2), made of labels <= 63. */
static size_t
build_long(uint8_t *p, size_t total)
{
	static const uint8_t h[] = { HDR(0x0100, 1, 0, 0, 0) };
	size_t	n = sizeof h, left = total - 1, l;

	memcpy(p, h, n);
	while (left > 0) {
		l = left - 1 > 63 ? 63 : left - 1;
		if (left - (l + 1) == 1)
			l--;	/* never leave one octet: no 0-length label */
		p[n++] = l;
		memset(p + n, 'b', l);
		n += l;
		left -= l + 1;
	}
	p[n++] = 0;
	memcpy(p + n, (const uint8_t[]){ QTAIL }, 4);
	return (n + 4);
}

static size_t
build_name255(uint8_t *p)
{
	return (build_long(p, 255));
}

static size_t
build_name256(uint8_t *p)
{
	return (build_long(p, 256));
}

/* Pointer chains: "a" then a pointer back to itself, a loop of labels. */
static size_t
build_label_loop(uint8_t *p)
{
	static const uint8_t pkt[] = { HDR(0x0100, 1, 0, 0, 0), 1, 'a',
		0xc0, 12, QTAIL };

	memcpy(p, pkt, sizeof pkt);
	return (sizeof pkt);
}

/*
 * An additional record whose owner is a chain of 131 backward pointers:
 * the first record's rdata holds 130 pointers, each to the one before it
 * (the first to the qname), and the second record's owner points at the
 * last of them.
 */
static size_t
build_pointer_chain(uint8_t *p)
{
	static const uint8_t h[] = { HDR(0x0100, 1, 0, 0, 2), QNAME, QTAIL,
		0, 0, 16, 0, 1, 0, 0, 0, 0, 1, 4 };	/* TXT, rdlen 260 */
	size_t	n = sizeof h, i, rd;

	memcpy(p, h, n);
	rd = n;
	for (i = 0; i < 130; i++) {
		p[n] = 0xc0 | ((i == 0 ? 12 : rd + 2 * (i - 1)) >> 8);
		p[n + 1] = (i == 0 ? 12 : rd + 2 * (i - 1)) & 0xff;
		n += 2;
	}
	/* The last pointer is the two octets before n. */
	p[n] = 0xc0 | ((n - 2) >> 8);
	p[n + 1] = (n - 2) & 0xff;
	n += 2;
	memcpy(p + n, (const uint8_t[]){ 0, 1, 0, 1, 0, 0, 0, 0, 0, 0 }, 10);
	return (n + 10);
}

struct bad {
	const char	*what;
	const uint8_t	*pkt;
	size_t		 len;
	size_t		(*build)(uint8_t *);
	enum wire_verdict verdict;
	const char	*why;		/* the reason wire_parse_query gives */
};

#define PKT(...) (const uint8_t[]){ __VA_ARGS__ }, \
	sizeof((const uint8_t[]){ __VA_ARGS__ })

static const struct bad bad[] = {
	{ "pointer to itself",
	  PKT(HDR(0x0100, 1, 0, 0, 0), 0xc0, 12, QTAIL),
	  NULL, WIRE_ERR_FORMERR,
	  "compression pointer not backwards" },
	{ "two pointers at each other",
	  PKT(HDR(0x0100, 1, 0, 0, 0), 0xc0, 14, 0xc0, 12, QTAIL),
	  NULL, WIRE_ERR_FORMERR,
	  "compression pointer not backwards" },
	{ "label then pointer back to it", NULL, 0, build_label_loop,
	  WIRE_ERR_FORMERR,
	  "compression loop or name over 255 octets" },
	{ "forward pointer",
	  PKT(HDR(0x0100, 1, 0, 0, 0), 0xc0, 18, QTAIL, 1, 'a', 0),
	  NULL, WIRE_ERR_FORMERR,
	  "compression pointer not backwards" },
	{ "pointer into the header",
	  PKT(HDR(0x0100, 1, 0, 0, 0), 0xc0, 4, QTAIL),
	  NULL, WIRE_ERR_FORMERR,
	  "compression pointer not backwards" },
	{ "pointer cut short",
	  PKT(HDR(0x0100, 1, 0, 0, 0), 0xc0),
	  NULL, WIRE_ERR_FORMERR,
	  "name runs past the end" },
	{ "label of 64", NULL, 0, build_label64, WIRE_ERR_FORMERR,
	  "unknown label type" },
	{ "owner behind 131 pointers", NULL, 0, build_pointer_chain,
	  WIRE_ERR_FORMERR,
	  "too many compression pointers" },
	{ "name of 255", NULL, 0, build_name255, WIRE_OK,
	  NULL },
	{ "name over 255", NULL, 0, build_name256, WIRE_ERR_FORMERR,
	  "name over 255 octets" },
	{ "QR=1", PKT(HDR(0x8100, 1, 0, 0, 0), QNAME, QTAIL),
	  NULL, WIRE_DROP,
	  "QR is set" },
	{ "no qtype/qclass", PKT(HDR(0x0100, 1, 0, 0, 0), QNAME),
	  NULL, WIRE_ERR_FORMERR,
	  "question cut short" },
	{ "no qclass", PKT(HDR(0x0100, 1, 0, 0, 0), QNAME, 0, 1),
	  NULL, WIRE_ERR_FORMERR,
	  "question cut short" },
	{ "name without root", PKT(HDR(0x0100, 1, 0, 0, 0), 3, 'w', 'w', 'w'),
	  NULL, WIRE_ERR_FORMERR,
	  "name runs past the end" },
	{ "label past the end", PKT(HDR(0x0100, 1, 0, 0, 0), 9, 'w', 'w'),
	  NULL, WIRE_ERR_FORMERR,
	  "name runs past the end" },
	{ "truncated OPT",
	  PKT(HDR(0x0100, 1, 0, 0, 1), QNAME, QTAIL, 0, 0, 41, 0x04),
	  NULL, WIRE_ERR_FORMERR,
	  "record runs past the end" },
	{ "OPT rdata past the end",
	  PKT(HDR(0x0100, 1, 0, 0, 1), QNAME, QTAIL, 0, 0, 41, 0x04, 0xd0,
	      0, 0, 0, 0, 0, 8, 0, 10, 0, 4),
	  NULL, WIRE_ERR_FORMERR,
	  "rdata runs past the end" },
	{ "OPT option longer than rdata",
	  PKT(HDR(0x0100, 1, 0, 0, 1), QNAME, QTAIL, 0, 0, 41, 0x04, 0xd0,
	      0, 0, 0, 0, 0, 6, 0, 10, 0, 8, 1, 2),
	  NULL, WIRE_ERR_FORMERR,
	  "OPT options do not fill its rdata" },
	{ "OPT option header cut",
	  PKT(HDR(0x0100, 1, 0, 0, 1), QNAME, QTAIL, 0, 0, 41, 0x04, 0xd0,
	      0, 0, 0, 0, 0, 3, 0, 10, 0),
	  NULL, WIRE_ERR_FORMERR,
	  "OPT options do not fill its rdata" },
	{ "two OPTs",
	  PKT(HDR(0x0100, 1, 0, 0, 2), QNAME, QTAIL, OPT(0, 0), OPT(0, 0)),
	  NULL, WIRE_ERR_FORMERR,
	  "more than one OPT record" },
	{ "OPT owner not root",
	  PKT(HDR(0x0100, 1, 0, 0, 1), QNAME, QTAIL, 1, 'a', 0, 0, 41,
	      0x04, 0xd0, 0, 0, 0, 0, 0, 0),
	  NULL, WIRE_ERR_FORMERR,
	  "OPT owner is not the root" },
	{ "OPT owner a pointer to the qname",
	  PKT(HDR(0x0100, 1, 0, 0, 1), QNAME, QTAIL, 0xc0, 12, 0, 41,
	      0x04, 0xd0, 0, 0, 0, 0, 0, 0),
	  NULL, WIRE_ERR_FORMERR,
	  "OPT owner is not the root" },
	{ "QDCOUNT 0", PKT(HDR(0x0100, 0, 0, 0, 0)),
	  NULL, WIRE_ERR_FORMERR,
	  "QDCOUNT is 0" },
	{ "QDCOUNT 2",
	  PKT(HDR(0x0100, 2, 0, 0, 0), QNAME, QTAIL, 0xc0, 12, QTAIL),
	  NULL, WIRE_ERR_FORMERR,
	  "QDCOUNT is above 1" },
	{ "ANCOUNT 1",
	  PKT(HDR(0x0100, 1, 1, 0, 0), QNAME, QTAIL, 0xc0, 12, 0, 1, 0, 1,
	      0, 0, 0, 5, 0, 4, 192, 0, 2, 1),
	  NULL, WIRE_ERR_FORMERR,
	  "ANCOUNT is not 0" },
	{ "NSCOUNT 1",
	  PKT(HDR(0x0100, 1, 0, 1, 0), QNAME, QTAIL, 0xc0, 12, 0, 1, 0, 1,
	      0, 0, 0, 5, 0, 4, 192, 0, 2, 1),
	  NULL, WIRE_ERR_FORMERR,
	  "NSCOUNT is not 0" },
	{ "ARCOUNT 1, no record", PKT(HDR(0x0100, 1, 0, 0, 1), QNAME, QTAIL),
	  NULL, WIRE_ERR_FORMERR,
	  "name runs past the end" },
	{ "trailing garbage", PKT(HDR(0x0100, 1, 0, 0, 0), QNAME, QTAIL, 0),
	  NULL, WIRE_ERR_FORMERR,
	  "trailing octets" },
	{ "trailing after OPT",
	  PKT(HDR(0x0100, 1, 0, 0, 1), QNAME, QTAIL, OPT(0, 0), 1, 2),
	  NULL, WIRE_ERR_FORMERR,
	  "trailing octets" },
	{ "opcode 2", PKT(HDR(0x1100, 1, 0, 0, 0), QNAME, QTAIL),
	  NULL, WIRE_ERR_NOTIMP,
	  "opcode is not QUERY" },
	{ "opcode 5, no question", PKT(HDR(0x2800, 0, 0, 0, 0)),
	  NULL, WIRE_ERR_NOTIMP,
	  "opcode is not QUERY" },
	{ "EDNS version 1",
	  PKT(HDR(0x0100, 1, 0, 0, 1), QNAME, QTAIL, OPT(1, 0)),
	  NULL, WIRE_ERR_BADVERS,
	  "EDNS version above 0" },
	{ "label type 0x40",
	  PKT(HDR(0x0100, 1, 0, 0, 0), 0x41, 'a', 0, QTAIL),
	  NULL, WIRE_ERR_FORMERR,
	  "unknown label type" },
	{ "label type 0x80",
	  PKT(HDR(0x0100, 1, 0, 0, 0), 0x80, 0, QTAIL),
	  NULL, WIRE_ERR_FORMERR,
	  "unknown label type" },
};

/* Every malformed packet gets its verdict; short headers are dropped. */
static void
test_parse_bad(void **state)
{
	static const uint8_t good[] = { HDR(0x0100, 1, 0, 0, 0), QNAME,
		QTAIL };
	struct wire_query q;
	uint8_t		 buf[512];
	const uint8_t	*p;
	size_t		 i, len;
	enum wire_verdict v;

	(void)state;
	for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		if (bad[i].build != NULL) {
			len = bad[i].build(buf);
			p = buf;
		} else {
			p = bad[i].pkt;
			len = bad[i].len;
		}
		v = wire_parse_query(p, len, &q);
		if (v != bad[i].verdict)
			fail_msg("%s: verdict %d, want %d", bad[i].what, v,
			    bad[i].verdict);
		if (bad[i].why == NULL ? q.why != NULL :
		    q.why == NULL || strcmp(q.why, bad[i].why) != 0)
			fail_msg("%s: reason \"%s\", want \"%s\"", bad[i].what,
			    q.why != NULL ? q.why : "(none)",
			    bad[i].why != NULL ? bad[i].why : "(none)");
	}

	/* 0 to 11 octets of an otherwise good query: no header, drop. */
	for (len = 0; len < WIRE_HDR_LEN; len++) {
		assert_int_equal(wire_parse_query(good, len, &q), WIRE_DROP);
		assert_string_equal(q.why, "shorter than a header");
	}
	/* And every cut inside the question is FORMERR. */
	for (len = WIRE_HDR_LEN; len < sizeof good; len++) {
		assert_int_equal(wire_parse_query(good, len, &q),
		    WIRE_ERR_FORMERR);
		assert_non_null(q.why);
	}
	/* A good query has no reason: the field is cleared. */
	assert_int_equal(wire_parse_query(good, sizeof good, &q), WIRE_OK);
	assert_null(q.why);

	/* The verdicts have names for the log line that carries q.why. */
	assert_string_equal(wire_verdict_name(WIRE_OK), "ok");
	assert_string_equal(wire_verdict_name(WIRE_DROP), "drop");
	assert_string_equal(wire_verdict_name(WIRE_ERR_FORMERR), "FORMERR");
	assert_string_equal(wire_verdict_name(WIRE_ERR_NOTIMP), "NOTIMP");
	assert_string_equal(wire_verdict_name(WIRE_ERR_BADVERS), "BADVERS");
}

/* After an error verdict the fields parsed so far are usable. */
static void
test_parse_partial(void **state)
{
	static const uint8_t notimp[] = { HDR(0x1100, 1, 0, 0, 0), QNAME,
		QTAIL };
	static const uint8_t badvers[] = { HDR(0x0100, 1, 0, 0, 1), QNAME,
		QTAIL, OPT(1, 0x80) };
	static const uint8_t an[] = { HDR(0x0100, 1, 1, 0, 0), QNAME, QTAIL };
	struct wire_query q;

	(void)state;
	assert_int_equal(wire_parse_query(notimp, sizeof notimp, &q),
	    WIRE_ERR_NOTIMP);
	assert_true(q.have_question);
	assert_int_equal(WIRE_OPCODE(q.flags), 2);

	assert_int_equal(wire_parse_query(badvers, sizeof badvers, &q),
	    WIRE_ERR_BADVERS);
	assert_true(q.edns);
	assert_true(q.do_bit);
	assert_int_equal(q.edns_version, 1);
	assert_true(q.have_question);

	assert_int_equal(wire_parse_query(an, sizeof an, &q),
	    WIRE_ERR_FORMERR);
	assert_true(q.have_question);
	assert_false(q.edns);
}

/* Read out with ldns, or fail. */
static ldns_pkt *
ldns_read(const uint8_t *buf, size_t len)
{
	ldns_pkt	*p = NULL;

	assert_int_equal(ldns_wire2pkt(&p, buf, len), LDNS_STATUS_OK);
	assert_non_null(p);
	return (p);
}

/* The question's owner, as text. */
static void
assert_qname(ldns_pkt *p, const char *want)
{
	ldns_rr	*rr;
	char	*s;

	assert_int_equal(ldns_pkt_qdcount(p), 1);
	rr = ldns_rr_list_rr(ldns_pkt_question(p), 0);
	s = ldns_rdf2str(ldns_rr_owner(rr));
	assert_string_equal(s, want);
	free(s);
}

/* Error responses: rcode, ID, question echo, OPT, BADVERS. */
static void
test_error(void **state)
{
	static const uint8_t plain[] = { HDR(0x0110, 1, 0, 0, 0), QNAME,
		QTAIL };
	static const uint8_t edns[] = { HDR(0x0100, 1, 0, 0, 1), QNAME,
		QTAIL, OPT(0, 0x80) };
	static const uint8_t badvers[] = { HDR(0x0100, 1, 0, 0, 1), QNAME,
		QTAIL, OPT(2, 0) };
	static const uint8_t noq[] = { HDR(0x0100, 0, 0, 0, 0) };
	struct wire_query q;
	uint8_t		 out[512];
	size_t		 len;
	ldns_pkt	*p;

	(void)state;
	/* REFUSED to a plain query: RD, CD, RA, question, no OPT. */
	parse_ok(plain, sizeof plain, &q);
	len = wire_error(out, sizeof out, &q, WIRE_REFUSED);
	assert_int_equal(len, WIRE_HDR_LEN + QNAME_LEN + 4);
	p = ldns_read(out, len);
	assert_int_equal(ldns_pkt_id(p), 0x1234);
	assert_true(ldns_pkt_qr(p));
	assert_true(ldns_pkt_rd(p));
	assert_true(ldns_pkt_cd(p));
	assert_true(ldns_pkt_ra(p));
	assert_false(ldns_pkt_aa(p));
	assert_int_equal(ldns_pkt_get_rcode(p), LDNS_RCODE_REFUSED);
	assert_int_equal(ldns_pkt_ancount(p), 0);
	assert_int_equal(ldns_pkt_arcount(p), 0);
	assert_false(ldns_pkt_edns(p));
	assert_memory_equal(out + WIRE_HDR_LEN, q.name, q.name_len);
	assert_qname(p, "WwW.eXample.Nl.");
	ldns_pkt_free(p);

	/* Too small a buffer. */
	assert_int_equal(wire_error(out, len - 1, &q, WIRE_REFUSED), 0);

	/* SERVFAIL with EDNS: OPT with DO echoed. */
	parse_ok(edns, sizeof edns, &q);
	len = wire_error(out, sizeof out, &q, WIRE_SERVFAIL);
	p = ldns_read(out, len);
	assert_int_equal(ldns_pkt_get_rcode(p), LDNS_RCODE_SERVFAIL);
	assert_int_equal(out[11], 1);	/* ldns hides OPT */
	assert_true(ldns_pkt_edns_do(p));
	assert_int_equal(ldns_pkt_edns_udp_size(p), WIRE_EDNS_SIZE);
	assert_int_equal(ldns_pkt_edns_extended_rcode(p), 0);
	assert_false(ldns_pkt_cd(p));
	ldns_pkt_free(p);

	/* BADVERS: header 0, extended RCODE 1, version 0. */
	assert_int_equal(wire_parse_query(badvers, sizeof badvers, &q),
	    WIRE_ERR_BADVERS);
	len = wire_error(out, sizeof out, &q, WIRE_BADVERS);
	p = ldns_read(out, len);
	assert_int_equal(ldns_pkt_get_rcode(p), 0);
	assert_int_equal(ldns_pkt_edns_extended_rcode(p), 1);
	assert_int_equal(ldns_pkt_edns_version(p), 0);
	assert_int_equal(out[11], 1);	/* ldns hides OPT */
	ldns_pkt_free(p);

	/* BADVERS always has an OPT, even if q->edns were clear. */
	q.edns = 0;
	len = wire_error(out, sizeof out, &q, WIRE_BADVERS);
	p = ldns_read(out, len);
	assert_int_equal(out[11], 1);	/* ldns hides OPT */
	assert_int_equal(ldns_pkt_edns_extended_rcode(p), 1);
	ldns_pkt_free(p);

	/* FORMERR without a question: header only. */
	assert_int_equal(wire_parse_query(noq, sizeof noq, &q),
	    WIRE_ERR_FORMERR);
	len = wire_error(out, sizeof out, &q, WIRE_FORMERR);
	assert_int_equal(len, WIRE_HDR_LEN);
	p = ldns_read(out, len);
	assert_int_equal(ldns_pkt_get_rcode(p), LDNS_RCODE_FORMERR);
	assert_int_equal(ldns_pkt_qdcount(p), 0);
	ldns_pkt_free(p);
}

/* NOTIMP keeps the opcode of the query, and says nothing of recursion. */
static void
test_error_notimp(void **state)
{
	static const uint8_t pkt[] = { HDR(0x1000, 1, 0, 0, 0), QNAME,
		QTAIL };
	static const uint8_t rd[] = { HDR(0x2900, 1, 0, 0, 0), QNAME,
		QTAIL };
	static const uint8_t query[] = { HDR(0x0100, 1, 0, 0, 0), QNAME,
		QTAIL };
	struct wire_query q;
	uint8_t		 out[512];
	size_t		 len;

	(void)state;
	assert_int_equal(wire_parse_query(pkt, sizeof pkt, &q),
	    WIRE_ERR_NOTIMP);
	len = wire_error(out, sizeof out, &q, WIRE_NOTIMP);
	assert_int_equal(len, WIRE_HDR_LEN + QNAME_LEN + 4);
	assert_int_equal(out[2], 0x80 | (2 << 3));
	assert_int_equal(out[3] & 0x80, 0);		/* RA clear */
	assert_int_equal(out[3], WIRE_NOTIMP);

	/* RD asked for: echoed, but still no RA (opcode 5, UPDATE). */
	assert_int_equal(wire_parse_query(rd, sizeof rd, &q),
	    WIRE_ERR_NOTIMP);
	len = wire_error(out, sizeof out, &q, WIRE_NOTIMP);
	assert_int_equal(out[2], 0x80 | (5 << 3) | 0x01);
	assert_int_equal(out[3], WIRE_NOTIMP);

	/* A refusal of a QUERY does say recursion is available. */
	assert_int_equal(wire_parse_query(query, sizeof query, &q),
	    WIRE_OK);
	len = wire_error(out, sizeof out, &q, WIRE_REFUSED);
	assert_int_equal(out[3], 0x80 | WIRE_REFUSED);
}

/* The upstream query: given ID, RD, CD copied, lname, OPT with DO. */
static void
test_make_query(void **state)
{
	static const uint8_t pkt[] = { HDR(0x0010, 1, 0, 0, 1), QNAME,
		0, 28, 0, 1, OPT(0, 0x80) };
	static const uint8_t plain[] = { HDR(0x0000, 1, 0, 0, 0), QNAME,
		QTAIL };
	struct wire_query q;
	uint8_t		 out[512];
	size_t		 len;
	ldns_pkt	*p;

	(void)state;
	parse_ok(pkt, sizeof pkt, &q);
	len = wire_make_query(out, sizeof out, &q, 0xbeef, NULL);
	assert_int_equal(len, WIRE_HDR_LEN + QNAME_LEN + 4 + WIRE_OPT_LEN);
	p = ldns_read(out, len);
	assert_int_equal(ldns_pkt_id(p), 0xbeef);
	assert_false(ldns_pkt_qr(p));
	assert_true(ldns_pkt_rd(p));
	assert_true(ldns_pkt_cd(p));
	assert_int_equal(ldns_pkt_get_opcode(p), LDNS_PACKET_QUERY);
	assert_qname(p, "www.example.nl.");
	assert_int_equal(ldns_rr_get_type(ldns_rr_list_rr(
	    ldns_pkt_question(p), 0)), LDNS_RR_TYPE_AAAA);
	assert_true(ldns_pkt_edns_do(p));
	assert_int_equal(ldns_pkt_edns_udp_size(p), WIRE_EDNS_SIZE);
	ldns_pkt_free(p);
	assert_int_equal(wire_make_query(out, len - 1, &q, 1, NULL), 0);

	/* Without CD or DO from the client. */
	parse_ok(plain, sizeof plain, &q);
	len = wire_make_query(out, sizeof out, &q, 7, NULL);
	p = ldns_read(out, len);
	assert_true(ldns_pkt_rd(p));
	assert_false(ldns_pkt_cd(p));
	assert_false(ldns_pkt_edns_do(p));
	assert_int_equal(out[11], 1);	/* ldns hides OPT */
	ldns_pkt_free(p);
}

/*
 * Build an answer with ldns into buf: question "www.example.nl. IN <type>"
 * (mkmsg: any name), records given as text per section (NULL-terminated
 * lists or NULL). ldns compresses owners and NS, MX, SOA, CNAME rdata.
 */
static size_t	mkmsg(uint8_t *, size_t, uint16_t, int, const char *,
		    const char *, const char **, const char **, const char **,
		    int);

static size_t
mkanswer(uint8_t *buf, size_t cap, uint16_t id, int rcode, const char *qtype,
    const char **an, const char **ns, const char **ar, int edns)
{
	return (mkmsg(buf, cap, id, rcode, "www.example.nl.", qtype, an, ns,
	    ar, edns));
}

/* The same for any question name. */
static size_t
mkmsg(uint8_t *buf, size_t cap, uint16_t id, int rcode, const char *qname,
    const char *qtype, const char **an, const char **ns, const char **ar,
    int edns)
{
	ldns_pkt	*p;
	ldns_rr		*rr;
	uint8_t		*wire;
	size_t		 size;
	char		 qs[128];
	int		 i;

	p = ldns_pkt_new();
	assert_non_null(p);
	ldns_pkt_set_id(p, id);
	ldns_pkt_set_qr(p, 1);
	ldns_pkt_set_rd(p, 1);
	ldns_pkt_set_ra(p, 1);
	ldns_pkt_set_aa(p, 1);
	ldns_pkt_set_rcode(p, rcode);
	snprintf(qs, sizeof qs, "%s IN %s", qname, qtype);
	assert_int_equal(ldns_rr_new_question_frm_str(&rr, qs, NULL, NULL),
	    LDNS_STATUS_OK);
	ldns_pkt_push_rr(p, LDNS_SECTION_QUESTION, rr);
	for (i = 0; an != NULL && an[i] != NULL; i++) {
		assert_int_equal(ldns_rr_new_frm_str(&rr, an[i], 0, NULL,
		    NULL), LDNS_STATUS_OK);
		ldns_pkt_push_rr(p, LDNS_SECTION_ANSWER, rr);
	}
	for (i = 0; ns != NULL && ns[i] != NULL; i++) {
		assert_int_equal(ldns_rr_new_frm_str(&rr, ns[i], 0, NULL,
		    NULL), LDNS_STATUS_OK);
		ldns_pkt_push_rr(p, LDNS_SECTION_AUTHORITY, rr);
	}
	for (i = 0; ar != NULL && ar[i] != NULL; i++) {
		assert_int_equal(ldns_rr_new_frm_str(&rr, ar[i], 0, NULL,
		    NULL), LDNS_STATUS_OK);
		ldns_pkt_push_rr(p, LDNS_SECTION_ADDITIONAL, rr);
	}
	if (edns) {
		ldns_pkt_set_edns_udp_size(p, 4096);
		ldns_pkt_set_edns_do(p, 1);
	}
	assert_int_equal(ldns_pkt2wire(&wire, p, &size), LDNS_STATUS_OK);
	assert_true(size <= cap);
	memcpy(buf, wire, size);
	free(wire);
	ldns_pkt_free(p);
	return (size);
}

/* Answers to the query www.example.nl. A, ID 0x1234. */
static void
test_check_answer(void **state)
{
	static const uint8_t pkt[] = { HDR(0x0100, 1, 0, 0, 0), QNAME,
		QTAIL };
	static const char *an[] = { "www.example.nl. 300 IN A 192.0.2.1",
		NULL };
	struct wire_query q;
	uint8_t		 msg[1024];
	size_t		 len, i;

	(void)state;
	parse_ok(pkt, sizeof pkt, &q);
	len = mkanswer(msg, sizeof msg, 0x4242, LDNS_RCODE_NOERROR, "A", an,
	    NULL, NULL, 0);
	assert_int_equal(wire_check_answer(msg, len, &q, 0x4242), 0);
	/* Case does not matter. */
	msg[13] = 'W';
	msg[17] = 'E';
	assert_int_equal(wire_check_answer(msg, len, &q, 0x4242), 0);
	/* Wrong ID. */
	assert_int_equal(wire_check_answer(msg, len, &q, 0x4243), -1);
	/* QR=0. */
	msg[2] &= ~0x80;
	assert_int_equal(wire_check_answer(msg, len, &q, 0x4242), -1);
	msg[2] |= 0x80;
	/* Another opcode. */
	msg[2] |= 0x10;
	assert_int_equal(wire_check_answer(msg, len, &q, 0x4242), -1);
	msg[2] &= ~0x10;
	/* Wrong type. */
	len = mkanswer(msg, sizeof msg, 0x4242, LDNS_RCODE_NOERROR, "AAAA",
	    NULL, NULL, NULL, 0);
	assert_int_equal(wire_check_answer(msg, len, &q, 0x4242), -1);
	/* Wrong name: one letter changed. */
	len = mkanswer(msg, sizeof msg, 0x4242, LDNS_RCODE_NOERROR, "A", an,
	    NULL, NULL, 0);
	msg[14] = 'x';
	assert_int_equal(wire_check_answer(msg, len, &q, 0x4242), -1);
	msg[14] = 'w';
	/* Wrong class. */
	msg[WIRE_HDR_LEN + QNAME_LEN + 3] = 3;
	assert_int_equal(wire_check_answer(msg, len, &q, 0x4242), -1);
	msg[WIRE_HDR_LEN + QNAME_LEN + 3] = 1;
	/* QDCOUNT 0. */
	msg[5] = 0;
	assert_int_equal(wire_check_answer(msg, len, &q, 0x4242), -1);
	msg[5] = 1;
	assert_int_equal(wire_check_answer(msg, len, &q, 0x4242), 0);
	/* Every cut before the end of the question. */
	for (i = 0; i < WIRE_HDR_LEN + QNAME_LEN + 4; i++)
		assert_int_equal(wire_check_answer(msg, i, &q, 0x4242), -1);
	/* A pointer instead of the question name. */
	msg[12] = 0xc0;
	msg[13] = 12;
	assert_int_equal(wire_check_answer(msg, len, &q, 0x4242), -1);
}

/*
 * wire_lower() folds eight octets at a time: every octet value, at every
 * place of a word and in the tail, in place and not, as one at a time
 * (RFC 4343: only A-Z change).
 */
static void
test_lower_words(void **state)
{
	uint8_t		src[19], dst[19], want;
	unsigned	c, pos, len;

	(void)state;
	for (c = 0; c < 256; c++) {
		for (pos = 0; pos < sizeof src; pos++) {
			for (len = pos + 1; len <= sizeof src; len += 5) {
				memset(src, 'Q', sizeof src);
				src[pos] = (uint8_t)c;
				memset(dst, 0xee, sizeof dst);
				wire_lower(dst, src, len);
				want = c >= 'A' && c <= 'Z' ? (uint8_t)(c + 32) :
				    (uint8_t)c;
				assert_int_equal(dst[pos], want);
				if (pos > 0 || len > 1)
					assert_int_equal(dst[pos > 0 ? 0 : 1],
					    'q');
				/* Nothing written past len. */
				if (len < sizeof dst)
					assert_int_equal(dst[len], 0xee);
				wire_lower(src, src, len);
				assert_memory_equal(src, dst, len);
			}
		}
	}
}

/*
 * 0x20: the letters of a name counted, mixed as the bits say, sent so, and
 * an answer's echo of that spelling checked.
 */
static void
test_mix_case(void **state)
{
	static const uint8_t pkt[] = { HDR(0x0100, 1, 0, 0, 0), QNAME,
		QTAIL };
	/*
	 * Octets 1, 3 and 10 (of 3 w w w 7 e x a m p l e 2 n l 0) in upper
	 * case; the bits of octets 0, 4 and 12 (lengths) do nothing.
	 */
	static const uint8_t bits[2] = { 0x1b, 0x14 };
	static const uint8_t want[] = { 3, 'W', 'w', 'W', 7, 'e', 'x', 'a',
		'm', 'p', 'L', 'e', 2, 'n', 'l', 0 };
	static const uint8_t digits[] = { HDR(0x0100, 1, 0, 0, 0), 1, '1',
		2, '2', '3', 0, QTAIL };
	static const char *an[] = { "www.example.nl. 300 IN A 192.0.2.1",
		NULL };
	struct wire_query q;
	uint8_t		 mixed[WIRE_MAX_NAME], out[512], msg[1024];
	size_t		 len;
	ldns_pkt	*p;

	(void)state;
	parse_ok(pkt, sizeof pkt, &q);
	assert_int_equal(wire_letters(q.lname, q.name_len), 12);
	wire_mix_case(mixed, q.lname, q.name_len, bits);
	assert_memory_equal(mixed, want, sizeof want);

	/* Sent as mixed; an answer in that spelling passes both checks. */
	len = wire_make_query(out, sizeof out, &q, 9, mixed);
	p = ldns_read(out, len);
	assert_qname(p, "WwW.exampLe.nl.");
	ldns_pkt_free(p);
	assert_true(wire_check_case(out, len, mixed, q.name_len));
	len = mkanswer(msg, sizeof msg, 9, LDNS_RCODE_NOERROR, "A", an, NULL,
	    NULL, 0);
	memcpy(msg + WIRE_HDR_LEN, mixed, q.name_len);
	assert_int_equal(wire_check_answer(msg, len, &q, 9), 0);
	assert_true(wire_check_case(msg, len, mixed, q.name_len));

	/* One letter's case differs: the same question, not the echo. */
	msg[WIRE_HDR_LEN + 1] = 'w';
	assert_int_equal(wire_check_answer(msg, len, &q, 9), 0);
	assert_false(wire_check_case(msg, len, mixed, q.name_len));
	assert_false(wire_check_case(msg, len, q.lname, q.name_len));
	msg[WIRE_HDR_LEN + 1] = 'W';
	/* Cut short of the name's end. */
	assert_false(wire_check_case(msg, WIRE_HDR_LEN + q.name_len - 1,
	    mixed, q.name_len));

	/* A name of digits carries no case at all. */
	parse_ok(digits, sizeof digits, &q);
	assert_int_equal(wire_letters(q.lname, q.name_len), 0);
	wire_mix_case(mixed, q.lname, q.name_len, bits);
	assert_memory_equal(mixed, q.lname, q.name_len);
}

/*
 * 0x20 eight octets at a time against the rule one octet at a time: names
 * of every length to 255 with every octet value (letters, digits, upper
 * case, length octets), random bits. Only letters change, and a letter
 * goes upper case exactly when its bit is set.
 */
static void
test_mix_case_words(void **state)
{
	uint8_t		name[WIRE_MAX_NAME], bits[WIRE_MAX_NAME / 8 + 1];
	uint8_t		got[WIRE_MAX_NAME + 8], want;
	size_t		len, i, letters;
	unsigned	round;

	(void)state;
	srandom(20261130);
	for (round = 0; round < 2000; round++) {
		len = 1 + (size_t)random() % WIRE_MAX_NAME;
		for (i = 0; i < len; i++) {
			/* Half letters, half anything else. */
			name[i] = random() & 1 ? (uint8_t)('a' + random() %
			    26) : (uint8_t)random();
		}
		for (i = 0; i < sizeof bits; i++)
			bits[i] = (uint8_t)random();
		memset(got, 0xee, sizeof got);
		wire_mix_case(got, name, len, bits);
		letters = 0;
		for (i = 0; i < len; i++) {
			want = name[i];
			if (want >= 'a' && want <= 'z') {
				letters++;
				if (bits[i / 8] >> (i % 8) & 1)
					want = (uint8_t)(want - 'a' + 'A');
			}
			assert_int_equal(got[i], want);
		}
		/* Nothing written past the name. */
		for (; i < sizeof got; i++)
			assert_int_equal(got[i], 0xee);
		assert_int_equal(wire_letters(name, len), letters);
	}
}

/*
 * The key of a question, hashed with SipHash: the same for any spelling
 * and for CD (the tables compare CD themselves), apart for type and DO,
 * and another under another key.
 */
static void
test_key_hash(void **state)
{
	static const uint8_t pkt[] = { HDR(0x0100, 1, 0, 0, 0), QNAME,
		QTAIL };
	static const uint8_t lower[] = { HDR(0x0100, 1, 0, 0, 0), 3, 'w', 'w',
		'w', 7, 'e', 'x', 'a', 'm', 'p', 'l', 'e', 2, 'n', 'l', 0,
		QTAIL };
	struct siphash_key k1 = { { 1, 2 } }, k2 = { { 1, 3 } };
	struct wire_query q, l;
	uint64_t	 h;
	uint8_t		 buf[QNAME_LEN + 5];

	(void)state;
	parse_ok(pkt, sizeof pkt, &q);
	parse_ok(lower, sizeof lower, &l);
	h = wire_key_hash(&q, &k1);
	assert_true(h == wire_key_hash(&l, &k1));
	assert_true(h != wire_key_hash(&q, &k2));
	q.do_bit = 1;
	assert_true(h != wire_key_hash(&q, &k1));
	q.do_bit = 0;
	q.flags |= WIRE_CD;
	assert_true(h == wire_key_hash(&q, &k1));
	q.flags &= ~WIRE_CD;
	q.qtype = WIRE_TYPE_AAAA;
	assert_true(h != wire_key_hash(&q, &k1));
	/* SipHash-1-3 itself: lname and the 5-octet tail, nothing else. */
	q.qtype = WIRE_TYPE_A;
	memcpy(buf, q.lname, QNAME_LEN);
	memcpy(buf + QNAME_LEN, "\0\1\0\1\0", 5);
	assert_true(h == siphash_13(&k1, buf, sizeof buf));
}

/*
 * siphash_13_tail(), which wire_key_hash() hashes a name with where it
 * lies: SipHash-1-3 of the octets followed by the tail's, for every
 * length a name can have and every tail length, the name at the end of
 * its buffer (the last word is read ending at the name's last octet).
 */
static void
test_key_hash_tail(void **state)
{
	struct siphash_key k = { { 0x0706050403020100ULL,
	    0x0f0e0d0c0b0a0908ULL } };
	uint8_t		 in[WIRE_MAX_NAME], cat[WIRE_MAX_NAME + 8];
	uint64_t	 tail;
	size_t		 len, t, j;

	(void)state;
	for (j = 0; j < sizeof in; j++)
		in[j] = (uint8_t)(j * 37 + 11);
	for (len = 0; len <= sizeof in; len++) {
		for (t = 0; t <= 8; t++) {
			tail = 0;
			for (j = 0; j < t; j++) {
				cat[len + j] = (uint8_t)(0xa0 + j * 7 + len);
				tail |= (uint64_t)cat[len + j] << (8 * j);
			}
			memcpy(cat, in + sizeof in - len, len);
			assert_true(siphash_13_tail(&k, in + sizeof in - len,
			    len, tail, t) == siphash_13(&k, cat, len + t));
		}
	}
}

/*
 * The process's hash of a question (wire_qhash): the same for any
 * spelling, worked out anew unless kept; wire_qhash_keep() keeps it, and
 * parsing again or retargeting the question drops what was kept.
 */
static void
test_qhash(void **state)
{
	static const uint8_t pkt[] = { HDR(0x0100, 1, 0, 0, 0), QNAME,
		QTAIL };
	static const uint8_t lower[] = { HDR(0x0100, 1, 0, 0, 0), 3, 'w', 'w',
		'w', 7, 'e', 'x', 'a', 'm', 'p', 'l', 'e', 2, 'n', 'l', 0,
		QTAIL };
	static const uint8_t target[] = { 3, 'f', 'o', 'o', 2, 'n', 'l', 0 };
	struct wire_query q, l, t;
	uint64_t	 h;

	(void)state;
	parse_ok(pkt, sizeof pkt, &q);
	parse_ok(lower, sizeof lower, &l);
	assert_int_equal(q.qhashed, 0);
	h = wire_qhash(&q);
	assert_int_equal(q.qhashed, 0);
	assert_true(h == wire_qhash(&l));
	assert_true(h == wire_qhash(&q));
	q.do_bit = 1;
	assert_true(h != wire_qhash(&q));
	q.do_bit = 0;

	/* Kept: returned as kept, even by the const call. */
	assert_true(wire_qhash_keep(&q) == h);
	assert_int_equal(q.qhashed, 1);
	assert_true(q.qhash == h);
	q.qhash = h ^ 1;
	assert_true(wire_qhash(&q) == (h ^ 1));
	assert_true(wire_qhash_keep(&q) == (h ^ 1));

	/* A retargeted copy is another key: hashed anew. */
	assert_int_equal(wire_query_retarget(&t, &q, target, sizeof target),
	    0);
	assert_int_equal(t.qhashed, 0);
	assert_true(wire_qhash(&t) != h);
	/* Parsing again drops what was kept. */
	parse_ok(pkt, sizeof pkt, &q);
	assert_int_equal(q.qhashed, 0);
	assert_true(wire_qhash(&q) == h);
}

/* Check that every TTL offset holds one of the expected TTLs, in order. */
static void
assert_ttls(const uint8_t *msg, const struct wire_scan *sc,
    const uint32_t *want, size_t n)
{
	size_t		 i;
	const uint8_t	*p;

	assert_int_equal(sc->nttl, n);
	for (i = 0; i < n; i++) {
		p = msg + sc->ttl_off[i];
		assert_int_equal(((uint32_t)p[0] << 24) | (p[1] << 16) |
		    (p[2] << 8) | p[3], want[i]);
	}
}

/* Positive answers: the smallest TTL of answer and authority. */
static void
test_scan_positive(void **state)
{
	static const char *an[] = {
		"www.example.nl. 300 IN CNAME web.example.nl.",
		"web.example.nl. 120 IN A 192.0.2.1",
		"web.example.nl. 600 IN A 192.0.2.2", NULL };
	static const char *ns[] = {
		"example.nl. 900 IN NS ns1.example.nl.", NULL };
	static const char *ar[] = {
		"ns1.example.nl. 60 IN A 192.0.2.53", NULL };
	static const uint32_t ttls[] = { 300, 120, 600, 900, 60 };
	uint8_t		 msg[1024];
	size_t		 len;
	struct wire_scan sc;

	(void)state;
	len = mkanswer(msg, sizeof msg, 1, LDNS_RCODE_NOERROR, "A", an, ns,
	    ar, 0);
	assert_int_equal(wire_scan(msg, len, &sc), 0);
	assert_int_equal(sc.len, len);
	assert_int_equal(sc.rcode, WIRE_NOERROR);
	assert_int_equal(sc.ancount, 3);
	assert_int_equal(sc.nscount, 1);
	assert_int_equal(sc.arcount, 1);
	/* 60 is in the additional section and does not count. */
	assert_int_equal(sc.ttl, 120);
	assert_ttls(msg, &sc, ttls, 5);
}

/*
 * A CNAME whose rdata is not exactly one name (here one trailing octet)
 * makes the answer unusable: it could not be inspected for cloaking.
 */
static void
test_scan_bad_cname_rdata(void **state)
{
	static const char *an[] = {
		"www.example.nl. 300 IN A 192.0.2.1",
		"www.example.nl. 300 IN CNAME evil.example.", NULL };
	uint8_t		 msg[1024];
	size_t		 len, rdl;
	struct wire_scan sc;

	(void)state;
	len = mkanswer(msg, sizeof msg, 1, LDNS_RCODE_NOERROR, "A", an, NULL,
	    NULL, 0);
	assert_int_equal(wire_scan(msg, len, &sc), 0);
	/* The CNAME is last: its RDLENGTH follows its TTL. */
	rdl = sc.ttl_off[1] + 4;
	len = mkanswer(msg, sizeof msg, 1, LDNS_RCODE_NOERROR, "A", an, NULL,
	    NULL, 0);
	msg[rdl + 1]++;
	msg[len++] = 0;
	assert_int_equal(wire_scan(msg, len, &sc), -1);
	/* One octet short is no better. */
	len = mkanswer(msg, sizeof msg, 1, LDNS_RCODE_NOERROR, "A", an, NULL,
	    NULL, 0);
	msg[rdl + 1]--;
	assert_int_equal(wire_scan(msg, len - 1, &sc), -1);
}

/* NXDOMAIN and NODATA: min(SOA TTL, MINIMUM); no SOA: 0. */
static void
test_scan_negative(void **state)
{
	static const char *soa_low_min[] = {
		"example.nl. 3600 IN SOA ns1.example.nl. "
		"hostmaster.example.nl. 1 7200 3600 1209600 300", NULL };
	static const char *soa_low_ttl[] = {
		"example.nl. 60 IN SOA ns1.example.nl. "
		"hostmaster.example.nl. 1 7200 3600 1209600 300", NULL };
	static const char *ns_only[] = {
		"example.nl. 900 IN NS ns1.example.nl.", NULL };
	uint8_t		 msg[1024];
	size_t		 len;
	struct wire_scan sc;

	(void)state;
	len = mkanswer(msg, sizeof msg, 1, LDNS_RCODE_NXDOMAIN, "A", NULL,
	    soa_low_min, NULL, 0);
	static const uint32_t capped[] = { 300 };
	assert_int_equal(wire_scan(msg, len, &sc), 0);
	assert_int_equal(sc.rcode, WIRE_NXDOMAIN);
	assert_int_equal(sc.ttl, 300);
	assert_int_equal(sc.nttl, 1);
	/* The SOA passed on carries the negative TTL, not its own 3600. */
	assert_ttls(msg, &sc, capped, 1);

	len = mkanswer(msg, sizeof msg, 1, LDNS_RCODE_NXDOMAIN, "A", NULL,
	    soa_low_ttl, NULL, 0);
	assert_int_equal(wire_scan(msg, len, &sc), 0);
	assert_int_equal(sc.ttl, 60);

	/* NODATA: NOERROR without answers. */
	len = mkanswer(msg, sizeof msg, 1, LDNS_RCODE_NOERROR, "A", NULL,
	    soa_low_min, NULL, 0);
	assert_int_equal(wire_scan(msg, len, &sc), 0);
	assert_int_equal(sc.ancount, 0);
	assert_int_equal(sc.ttl, 300);

	/* No SOA: not cacheable (RFC 2308 5). */
	len = mkanswer(msg, sizeof msg, 1, LDNS_RCODE_NXDOMAIN, "A", NULL,
	    ns_only, NULL, 0);
	assert_int_equal(wire_scan(msg, len, &sc), 0);
	assert_int_equal(sc.ttl, 0);
	len = mkanswer(msg, sizeof msg, 1, LDNS_RCODE_NOERROR, "A", NULL,
	    NULL, NULL, 0);
	assert_int_equal(wire_scan(msg, len, &sc), 0);
	assert_int_equal(sc.ttl, 0);

	/* SERVFAIL and others: 0, even with a SOA. */
	len = mkanswer(msg, sizeof msg, 1, LDNS_RCODE_SERVFAIL, "A", NULL,
	    soa_low_min, NULL, 0);
	assert_int_equal(wire_scan(msg, len, &sc), 0);
	assert_int_equal(sc.rcode, WIRE_SERVFAIL);
	assert_int_equal(sc.ttl, 0);
}

/* The OPT record and all after it are cut, ARCOUNT lowered. */
static void
test_scan_opt(void **state)
{
	static const char *an[] = { "www.example.nl. 300 IN A 192.0.2.1",
		NULL };
	static const char *ar[] = { "ns1.example.nl. 60 IN A 192.0.2.53",
		NULL };
	/* An RR after the OPT: root owner, type A, TTL 5, 4 octets. */
	static const uint8_t tail[] = { 0, 0, 1, 0, 1, 0, 0, 0, 5, 0, 4,
		1, 2, 3, 4 };
	static const uint32_t ttls[] = { 300, 60 };
	uint8_t		 msg[1024];
	size_t		 len, cut;
	struct wire_scan sc;
	ldns_pkt	*p;

	(void)state;
	len = mkanswer(msg, sizeof msg, 1, LDNS_RCODE_NOERROR, "A", an, NULL,
	    ar, 1);
	assert_int_equal(msg[11], 2);
	cut = len - WIRE_OPT_LEN;
	memcpy(msg + len, tail, sizeof tail);
	len += sizeof tail;
	msg[11] = 3;
	assert_int_equal(wire_scan(msg, len, &sc), 0);
	assert_int_equal(sc.len, cut);
	assert_int_equal(sc.arcount, 1);
	assert_int_equal(msg[10], 0);
	assert_int_equal(msg[11], 1);
	assert_int_equal(sc.ttl, 300);
	assert_ttls(msg, &sc, ttls, 2);
	/* What is left is a well-formed message without EDNS. */
	p = ldns_read(msg, sc.len);
	assert_false(ldns_pkt_edns(p));
	assert_int_equal(ldns_pkt_arcount(p), 1);
	ldns_pkt_free(p);
}

/* Malformed answers are refused. */
static void
test_scan_bad(void **state)
{
	static const char *an[] = { "www.example.nl. 300 IN A 192.0.2.1",
		NULL };
	static const uint8_t loop[] = { HDR(0x8180, 1, 1, 0, 0), QNAME,
		QTAIL, 1, 'a', 0xc0, 32, 0, 1, 0, 1, 0, 0, 0, 5, 0, 4,
		1, 2, 3, 4 };
	static const uint8_t fwd[] = { HDR(0x8180, 1, 1, 0, 0), QNAME,
		QTAIL, 0xc0, 40, 0, 1, 0, 1, 0, 0, 0, 5, 0, 4, 1, 2, 3, 4 };
	static const uint8_t opt_an[] = { HDR(0x8180, 1, 1, 0, 0), QNAME,
		QTAIL, OPT(0, 0) };
	static const uint8_t soa_short[] = { HDR(0x8183, 1, 0, 1, 0), QNAME,
		QTAIL, 0xc0, 16, 0, 6, 0, 1, 0, 0, 0, 5, 0, 6,
		0, 0, 1, 2, 3, 4 };
	uint8_t		 msg[1024];
	size_t		 len, i;
	struct wire_scan sc;

	(void)state;
	len = mkanswer(msg, sizeof msg, 1, LDNS_RCODE_NOERROR, "A", an, NULL,
	    NULL, 0);
	/* Every cut of a good answer is malformed, except none. */
	for (i = 0; i < len; i++)
		assert_int_equal(wire_scan(msg, i, &sc), -1);
	/* Trailing garbage. */
	msg[len] = 0;
	assert_int_equal(wire_scan(msg, len + 1, &sc), -1);
	/* Counts larger than the records present. */
	msg[7] = 2;
	assert_int_equal(wire_scan(msg, len, &sc), -1);

	memcpy(msg, loop, sizeof loop);
	assert_int_equal(wire_scan(msg, sizeof loop, &sc), -1);
	memcpy(msg, fwd, sizeof fwd);
	assert_int_equal(wire_scan(msg, sizeof fwd, &sc), -1);
	memcpy(msg, opt_an, sizeof opt_an);
	assert_int_equal(wire_scan(msg, sizeof opt_an, &sc), -1);
	memcpy(msg, soa_short, sizeof soa_short);
	assert_int_equal(wire_scan(msg, sizeof soa_short, &sc), -1);
}

/* More than WIRE_MAX_TTLS records: refused. */
static void
test_scan_too_many(void **state)
{
	static const uint8_t h[] = { HDR(0x8180, 1, 0, 0, 0), QNAME, QTAIL };
	static const uint8_t rr[] = { 0xc0, 12, 0, 1, 0, 1, 0, 0, 0, 5, 0, 4,
		1, 2, 3, 4 };
	static uint8_t	 msg[WIRE_HDR_LEN + QNAME_LEN + 4 +
			    (WIRE_MAX_TTLS + 1) * sizeof rr];
	struct wire_scan sc;
	size_t		 len = sizeof h, i, n;

	(void)state;
	memcpy(msg, h, len);
	for (i = 0; i < WIRE_MAX_TTLS + 1; i++) {
		memcpy(msg + len, rr, sizeof rr);
		len += sizeof rr;
	}
	/* Exactly WIRE_MAX_TTLS is fine. */
	n = WIRE_MAX_TTLS;
	msg[6] = n >> 8;
	msg[7] = n & 0xff;
	assert_int_equal(wire_scan(msg, len - sizeof rr, &sc), 0);
	assert_int_equal(sc.nttl, WIRE_MAX_TTLS);
	n++;
	msg[6] = n >> 8;
	msg[7] = n & 0xff;
	assert_int_equal(wire_scan(msg, len, &sc), -1);
}

/* A client query for www.example.nl. A in mixed case, ID 0x1234. */
static void
client_query(struct wire_query *q, uint16_t flags, int edns, int do_bit)
{
	uint8_t	pkt[] = { HDR(0x0100, 1, 0, 0, 0), QNAME, QTAIL,
		OPT(0, 0) };
	size_t	len = sizeof pkt;

	pkt[2] = flags >> 8;
	pkt[3] = flags & 0xff;
	if (edns) {
		pkt[11] = 1;
		if (do_bit)
			pkt[len - 4] = 0x80;
	} else
		len -= WIRE_OPT_LEN;
	parse_ok(pkt, len, q);
}

/* Answers from a stored message: header, name, TTLs, OPT. */
static void
test_answer(void **state)
{
	static const char *an[] = {
		"www.example.nl. 300 IN A 192.0.2.1",
		"www.example.nl. 10 IN A 192.0.2.2", NULL };
	static const char *ar[] = { "ns1.example.nl. 60 IN A 192.0.2.53",
		NULL };
	uint8_t		 msg[1024], out[1024];
	size_t		 len, olen;
	struct wire_scan sc;
	struct wire_query q;
	ldns_pkt	*p;
	ldns_rr_list	*l;

	(void)state;
	len = mkanswer(msg, sizeof msg, 0x9999, LDNS_RCODE_NOERROR, "A", an,
	    NULL, ar, 1);
	assert_int_equal(wire_scan(msg, len, &sc), 0);
	/* Pretend the stored copy had TC set; it must go. */
	msg[2] |= WIRE_TC >> 8;

	/* Client: RD and CD, EDNS with DO; 20 seconds later. */
	client_query(&q, WIRE_RD | WIRE_CD, 1, 1);
	olen = wire_answer(out, sizeof out, STORED(msg, sc),
	    20, 0, &q, q.udp_size);
	assert_int_equal(olen, sc.len + WIRE_OPT_LEN);
	assert_memory_equal(out + WIRE_HDR_LEN, q.name, q.name_len);
	p = ldns_read(out, olen);
	assert_int_equal(ldns_pkt_id(p), 0x1234);
	assert_true(ldns_pkt_qr(p));
	assert_true(ldns_pkt_ra(p));
	assert_true(ldns_pkt_rd(p));
	assert_true(ldns_pkt_cd(p));
	assert_false(ldns_pkt_aa(p));
	assert_false(ldns_pkt_tc(p));
	assert_int_equal(ldns_pkt_get_rcode(p), LDNS_RCODE_NOERROR);
	assert_true(ldns_pkt_edns(p));
	assert_true(ldns_pkt_edns_do(p));
	assert_int_equal(ldns_pkt_edns_udp_size(p), WIRE_EDNS_SIZE);
	assert_int_equal(out[11], 2);	/* ldns hides OPT */
	l = ldns_pkt_answer(p);
	assert_int_equal(ldns_rr_list_rr_count(l), 2);
	assert_int_equal(ldns_rr_ttl(ldns_rr_list_rr(l, 0)), 280);
	assert_int_equal(ldns_rr_ttl(ldns_rr_list_rr(l, 1)), 0);
	assert_int_equal(ldns_rr_ttl(ldns_rr_list_rr(ldns_pkt_additional(p),
	    0)), 40);
	ldns_pkt_free(p);
	/* The stored message is not changed. */
	assert_int_equal(msg[0], 0x99);

	/* Client without RD, CD or EDNS; stale answer with a fixed TTL. */
	client_query(&q, 0, 0, 0);
	olen = wire_answer(out, sizeof out, STORED(msg, sc),
	    100000, 30, &q, q.udp_size);
	assert_int_equal(olen, sc.len);
	p = ldns_read(out, olen);
	assert_false(ldns_pkt_rd(p));
	assert_false(ldns_pkt_cd(p));
	assert_false(ldns_pkt_edns(p));
	assert_int_equal(ldns_pkt_arcount(p), 1);
	l = ldns_pkt_answer(p);
	assert_int_equal(ldns_rr_ttl(ldns_rr_list_rr(l, 0)), 30);
	assert_int_equal(ldns_rr_ttl(ldns_rr_list_rr(l, 1)), 30);
	ldns_pkt_free(p);

	/* Stale with EDNS: the OPT carries EDE 3, Stale Answer (RFC 8914). */
	client_query(&q, WIRE_RD, 1, 1);
	olen = wire_answer(out, sizeof out, STORED(msg, sc),
	    100000, 30, &q, q.udp_size);
	assert_int_equal(olen, sc.len + WIRE_OPT_LEN + WIRE_EDE_STALE_LEN);
	/* OPT RDLENGTH 6; option 15, length 2, info-code 3. */
	assert_int_equal(out[sc.len + 9] << 8 | out[sc.len + 10], 6);
	assert_int_equal(out[olen - 6] << 8 | out[olen - 5], WIRE_OPT_EDE);
	assert_int_equal(out[olen - 4] << 8 | out[olen - 3], 2);
	assert_int_equal(out[olen - 2] << 8 | out[olen - 1], WIRE_EDE_STALE);
	p = ldns_read(out, olen);
	assert_true(ldns_pkt_edns_do(p));
	assert_int_equal(ldns_rr_ttl(ldns_rr_list_rr(ldns_pkt_answer(p), 0)),
	    30);
	ldns_pkt_free(p);
	/* Truncated, it still says so. */
	olen = wire_answer(out, sizeof out, STORED(msg, sc),
	    100000, 30, &q, 60);
	/* Header 12, question 20, OPT 11 and EDE 6. */
	assert_int_equal(olen, 49);
	assert_int_equal(out[2] & (WIRE_TC >> 8), WIRE_TC >> 8);
	assert_int_equal(out[olen - 2] << 8 | out[olen - 1], WIRE_EDE_STALE);

	/* EDNS without DO: OPT present, DO clear. */
	client_query(&q, WIRE_RD, 1, 0);
	olen = wire_answer(out, sizeof out, STORED(msg, sc),
	    0, 0, &q, q.udp_size);
	p = ldns_read(out, olen);
	assert_true(ldns_pkt_edns(p));
	assert_false(ldns_pkt_edns_do(p));
	assert_int_equal(ldns_rr_ttl(ldns_rr_list_rr(ldns_pkt_answer(p), 0)),
	    300);
	ldns_pkt_free(p);

	/* Cap too small: 0. */
	assert_int_equal(wire_answer(out, sc.len, STORED(msg, sc),
	    0, 0, &q, q.udp_size), 0);
	assert_int_equal(wire_answer(out, 20, STORED(msg, sc),
	    0, 0, &q, 20), 0);

	/* A stored answer to another type or class is not this answer. */
	q.qtype = WIRE_TYPE_AAAA;
	assert_int_equal(wire_answer(out, sizeof out, STORED(msg, sc), 0, 0,
	    &q, q.udp_size), 0);
	q.qtype = WIRE_TYPE_A;
	q.qclass = 3;
	assert_int_equal(wire_answer(out, sizeof out, STORED(msg, sc), 0, 0,
	    &q, q.udp_size), 0);
}

/* Over the client's UDP size: header, question, OPT, TC=1. */
static void
test_answer_truncated(void **state)
{
	static char	 rrs[40][64];
	const char	*an[41];
	uint8_t		 msg[2048], out[2048];
	size_t		 len, olen, i;
	struct wire_scan sc;
	struct wire_query q;
	ldns_pkt	*p;

	(void)state;
	for (i = 0; i < 40; i++) {
		snprintf(rrs[i], sizeof rrs[i],
		    "www.example.nl. 300 IN A 192.0.2.%zu", i + 1);
		an[i] = rrs[i];
	}
	an[40] = NULL;
	len = mkanswer(msg, sizeof msg, 5, LDNS_RCODE_NOERROR, "A", an, NULL,
	    NULL, 0);
	assert_true(len > 512);
	assert_int_equal(wire_scan(msg, len, &sc), 0);

	/* Plain UDP client: 512. */
	client_query(&q, WIRE_RD, 0, 0);
	olen = wire_answer(out, sizeof out, STORED(msg, sc),
	    0, 0, &q, q.udp_size);
	assert_int_equal(olen, WIRE_HDR_LEN + QNAME_LEN + 4);
	p = ldns_read(out, olen);
	assert_true(ldns_pkt_tc(p));
	assert_true(ldns_pkt_qr(p));
	assert_int_equal(ldns_pkt_id(p), 0x1234);
	assert_int_equal(ldns_pkt_ancount(p), 0);
	assert_int_equal(ldns_pkt_arcount(p), 0);
	assert_qname(p, "WwW.eXample.Nl.");
	ldns_pkt_free(p);

	/* With EDNS the OPT stays. */
	client_query(&q, WIRE_RD, 1, 1);
	olen = wire_answer(out, sizeof out, STORED(msg, sc),
	    0, 0, &q, 512);
	assert_int_equal(olen, WIRE_HDR_LEN + QNAME_LEN + 4 + WIRE_OPT_LEN);
	p = ldns_read(out, olen);
	assert_true(ldns_pkt_tc(p));
	assert_true(ldns_pkt_edns_do(p));
	assert_int_equal(out[11], 1);	/* ldns hides OPT */
	ldns_pkt_free(p);

	/* Over TCP it all fits. */
	olen = wire_answer(out, sizeof out, STORED(msg, sc),
	    0, 0, &q, WIRE_MAX_UDP);
	assert_int_equal(olen, sc.len + WIRE_OPT_LEN);
	p = ldns_read(out, olen);
	assert_false(ldns_pkt_tc(p));
	assert_int_equal(ldns_pkt_ancount(p), 40);
	ldns_pkt_free(p);
}

/* Names as text: escapes, the root, a short buffer. */
static void
test_name_str(void **state)
{
	static const uint8_t odd[] = { 3, 'a', '.', 0x07, 1, '\\', 0 };
	char	buf[64];

	(void)state;
	assert_string_equal(wire_name_str(lname, sizeof lname, buf,
	    sizeof buf), "www.example.nl.");
	assert_string_equal(wire_name_str((const uint8_t *)"", 1, buf,
	    sizeof buf), ".");
	assert_string_equal(wire_name_str(odd, sizeof odd, buf, sizeof buf),
	    "a\\046\\007.\\092.");
	assert_string_equal(wire_name_str(lname, sizeof lname, buf, 6),
	    "www.e");
}

/* Names used by the filtering tests, in lower-case wire form. */
static const uint8_t apex_parent[] = { 7, 'e', 'x', 'a', 'm', 'p', 'l', 'e',
	2, 'n', 'l', 0 };
static const uint8_t apex_other[] = { 5, 'o', 't', 'h', 'e', 'r', 2, 'n',
	'l', 0 };
static const uint8_t safe[] = { 15, 'f', 'o', 'r', 'c', 'e', 's', 'a', 'f',
	'e', 's', 'e', 'a', 'r', 'c', 'h', 6, 'g', 'o', 'o', 'g', 'l', 'e',
	3, 'c', 'o', 'm', 0 };

/* A record as ldns prints it, compared to want; case is kept. */
static void
assert_rr(ldns_rr *rr, const char *want)
{
	char	*s;

	assert_non_null(rr);
	s = ldns_rr2str(rr);
	assert_string_equal(s, want);
	free(s);
}

/* Every record of a section, in order, as ldns prints them. */
static void
assert_section(ldns_rr_list *l, const char **want)
{
	size_t	i;

	for (i = 0; want[i] != NULL; i++)
		assert_rr(ldns_rr_list_rr(l, i), want[i]);
	assert_int_equal(ldns_rr_list_rr_count(l), i);
}

/* The EDNS option data, compared octet by octet. */
static void
assert_edns_data(ldns_pkt *p, const uint8_t *want, size_t n)
{
	ldns_rdf	*d = ldns_pkt_edns_data(p);

	if (n == 0) {
		assert_true(d == NULL || ldns_rdf_size(d) == 0);
		return;
	}
	assert_non_null(d);
	assert_int_equal(ldns_rdf_size(d), n);
	assert_memory_equal(ldns_rdf_data(d), want, n);
}

/* An EDE option for code and text as it must appear on the wire. */
static size_t
ede_bytes(uint8_t *p, uint16_t code, const char *text, size_t tlen)
{
	p[0] = 0;
	p[1] = WIRE_OPT_EDE;
	p[2] = (2 + tlen) >> 8;
	p[3] = (2 + tlen) & 0xff;
	p[4] = code >> 8;
	p[5] = code & 0xff;
	memcpy(p + 6, text, tlen);
	return (6 + tlen);
}

static void
block_init(struct wire_block *b, enum wire_block_action action)
{
	memset(b, 0, sizeof *b);
	b->action = action;
	b->ttl = 60;
}

/* NXDOMAIN with EDNS: SOA at the apex (a pointer), EDE, DO echoed. */
static void
test_block_nxdomain(void **state)
{
	static const char *soa[] = { "eXample.Nl.\t60\tIN\tSOA\tlocalhost. "
		"nobody.invalid. 1 3600 600 86400 60\n", NULL };
	static const char text[] = "blocked: malware (list urlhaus)";
	struct wire_query q;
	struct wire_block b;
	uint8_t		 out[512], ede[256];
	size_t		 len, n;
	ldns_pkt	*p;

	(void)state;
	client_query(&q, WIRE_RD | WIRE_CD, 1, 1);
	block_init(&b, WIRE_BLOCK_NXDOMAIN);
	b.apex = apex_parent;
	b.apex_len = sizeof apex_parent;
	b.ede_code = WIRE_EDE_BLOCKED;
	b.ede_text = text;
	len = wire_block_answer(out, sizeof out, &q, &b);
	assert_true(len > 0);
	p = ldns_read(out, len);
	assert_int_equal(ldns_pkt_id(p), 0x1234);
	assert_true(ldns_pkt_qr(p));
	assert_true(ldns_pkt_ra(p));
	assert_true(ldns_pkt_rd(p));
	assert_true(ldns_pkt_cd(p));
	assert_false(ldns_pkt_aa(p));
	assert_false(ldns_pkt_tc(p));
	assert_int_equal(ldns_pkt_get_opcode(p), LDNS_PACKET_QUERY);
	assert_int_equal(ldns_pkt_get_rcode(p), LDNS_RCODE_NXDOMAIN);
	assert_qname(p, "WwW.eXample.Nl.");
	assert_int_equal(ldns_pkt_ancount(p), 0);
	assert_section(ldns_pkt_authority(p), soa);
	/* The SOA owner is a pointer to "eXample" in the question. */
	assert_int_equal(out[WIRE_HDR_LEN + QNAME_LEN + 4], 0xc0);
	assert_int_equal(out[WIRE_HDR_LEN + QNAME_LEN + 5], WIRE_HDR_LEN + 4);
	assert_int_equal(out[11], 1);	/* ldns hides OPT */
	assert_true(ldns_pkt_edns(p));
	assert_true(ldns_pkt_edns_do(p));
	assert_int_equal(ldns_pkt_edns_udp_size(p), WIRE_EDNS_SIZE);
	n = ede_bytes(ede, WIRE_EDE_BLOCKED, text, strlen(text));
	assert_edns_data(p, ede, n);
	ldns_pkt_free(p);

	/* Every cap short of the length fails; the exact length does not. */
	for (n = 0; n < len; n++)
		assert_int_equal(wire_block_answer(out, n, &q, &b), 0);
	assert_int_equal(wire_block_answer(out, len, &q, &b), len);

	/* Without EDNS: no OPT and so no EDE, same records. */
	client_query(&q, WIRE_RD, 0, 0);
	len = wire_block_answer(out, sizeof out, &q, &b);
	p = ldns_read(out, len);
	assert_int_equal(ldns_pkt_get_rcode(p), LDNS_RCODE_NXDOMAIN);
	assert_false(ldns_pkt_edns(p));
	assert_int_equal(out[11], 0);
	assert_false(ldns_pkt_cd(p));
	assert_section(ldns_pkt_authority(p), soa);
	ldns_pkt_free(p);

	/* EDNS without DO, and no EDE code: an empty OPT. */
	client_query(&q, 0, 1, 0);
	b.ede_code = 0;
	len = wire_block_answer(out, sizeof out, &q, &b);
	assert_int_equal(len, WIRE_HDR_LEN + QNAME_LEN + 4 + 2 + 10 +
	    11 + 16 + 20 + WIRE_OPT_LEN);
	p = ldns_read(out, len);
	assert_true(ldns_pkt_edns(p));
	assert_false(ldns_pkt_edns_do(p));
	assert_false(ldns_pkt_rd(p));
	assert_edns_data(p, NULL, 0);
	ldns_pkt_free(p);
}

/* NODATA: the SOA owner is the qname itself, or an apex written out. */
static void
test_block_nodata(void **state)
{
	static const char *at_qname[] = { "WwW.eXample.Nl.\t300\tIN\tSOA\t"
		"localhost. nobody.invalid. 1 3600 600 86400 300\n", NULL };
	static const char *at_other[] = { "other.nl.\t300\tIN\tSOA\t"
		"localhost. nobody.invalid. 1 3600 600 86400 300\n", NULL };
	static const char *at_y[] = { "y.\t300\tIN\tSOA\t"
		"localhost. nobody.invalid. 1 3600 600 86400 300\n", NULL };
	struct wire_query q;
	struct wire_block b;
	uint8_t		 out[512], ede[64];
	size_t		 len, n;
	ldns_pkt	*p;
	ldns_rr		*qr;

	(void)state;
	client_query(&q, WIRE_RD, 1, 0);
	block_init(&b, WIRE_BLOCK_NODATA);
	b.ttl = 300;
	b.ede_code = WIRE_EDE_FILTERED;
	b.ede_text = "filtered";
	len = wire_block_answer(out, sizeof out, &q, &b);
	p = ldns_read(out, len);
	assert_int_equal(ldns_pkt_get_rcode(p), LDNS_RCODE_NOERROR);
	assert_int_equal(ldns_pkt_ancount(p), 0);
	assert_section(ldns_pkt_authority(p), at_qname);
	assert_int_equal(out[WIRE_HDR_LEN + QNAME_LEN + 4], 0xc0);
	assert_int_equal(out[WIRE_HDR_LEN + QNAME_LEN + 5], WIRE_HDR_LEN);
	n = ede_bytes(ede, WIRE_EDE_FILTERED, "filtered", 8);
	assert_edns_data(p, ede, n);
	ldns_pkt_free(p);

	/* The apex equal to the qname: the same pointer. */
	b.apex = lname;
	b.apex_len = sizeof lname;
	assert_int_equal(wire_block_answer(out, sizeof out, &q, &b), len);
	assert_int_equal(out[WIRE_HDR_LEN + QNAME_LEN + 5], WIRE_HDR_LEN);

	/* An apex that is not a suffix is written out in full. */
	b.apex = apex_other;
	b.apex_len = sizeof apex_other;
	len = wire_block_answer(out, sizeof out, &q, &b);
	p = ldns_read(out, len);
	assert_section(ldns_pkt_authority(p), at_other);
	ldns_pkt_free(p);
	/* Its length is known before a write: every shorter cap fails. */
	for (n = 0; n < len; n++)
		assert_int_equal(wire_block_answer(out, n, &q, &b), 0);
	assert_int_equal(wire_block_answer(out, len, &q, &b), len);

	/* An apex of no octets is refused. */
	b.apex_len = 0;
	assert_int_equal(wire_block_answer(out, sizeof out, &q, &b), 0);

	/*
	 * The qname x\001y. (one label) ends in the octets of y., which are
	 * not a label of it: no pointer, the apex is written out.
	 */
	memcpy(q.name, (const uint8_t[]){ 3, 'x', 1, 'y', 0 }, 5);
	memcpy(q.lname, q.name, 5);
	q.name_len = 5;
	q.labels = 1;
	b.apex = q.name + 2;
	b.apex_len = 3;
	len = wire_block_answer(out, sizeof out, &q, &b);
	p = ldns_read(out, len);
	assert_section(ldns_pkt_authority(p), at_y);
	ldns_pkt_free(p);
	client_query(&q, WIRE_RD, 1, 0);

	/* The class is echoed as asked; the SOA stays IN. */
	b.apex = NULL;
	q.qclass = 3;
	len = wire_block_answer(out, sizeof out, &q, &b);
	p = ldns_read(out, len);
	qr = ldns_rr_list_rr(ldns_pkt_question(p), 0);
	assert_int_equal(ldns_rr_get_class(qr), 3);
	assert_int_equal(ldns_rr_get_class(ldns_rr_list_rr(
	    ldns_pkt_authority(p), 0)), LDNS_RR_CLASS_IN);
	ldns_pkt_free(p);

	/* No question: nothing to block. */
	q.have_question = 0;
	assert_int_equal(wire_block_answer(out, sizeof out, &q, &b), 0);
}

/* REFUSED: no records at all, but the EDE when EDNS. */
static void
test_block_refused(void **state)
{
	struct wire_query q;
	struct wire_block b;
	uint8_t		 out[512], ede[64];
	size_t		 len, n;
	ldns_pkt	*p;

	(void)state;
	client_query(&q, WIRE_RD, 1, 1);
	block_init(&b, WIRE_BLOCK_REFUSED);
	b.apex = apex_parent;
	b.apex_len = sizeof apex_parent;
	b.ede_code = WIRE_EDE_BLOCKED;
	len = wire_block_answer(out, sizeof out, &q, &b);
	p = ldns_read(out, len);
	assert_int_equal(ldns_pkt_get_rcode(p), LDNS_RCODE_REFUSED);
	assert_int_equal(ldns_pkt_ancount(p), 0);
	assert_int_equal(ldns_pkt_nscount(p), 0);
	assert_true(ldns_pkt_edns_do(p));
	/* A NULL text: the info code alone. */
	n = ede_bytes(ede, WIRE_EDE_BLOCKED, "", 0);
	assert_edns_data(p, ede, n);
	ldns_pkt_free(p);

	client_query(&q, WIRE_RD, 0, 0);
	len = wire_block_answer(out, sizeof out, &q, &b);
	assert_int_equal(len, WIRE_HDR_LEN + QNAME_LEN + 4);
	p = ldns_read(out, len);
	assert_int_equal(ldns_pkt_get_rcode(p), LDNS_RCODE_REFUSED);
	assert_false(ldns_pkt_edns(p));
	ldns_pkt_free(p);
}

/* REDIRECT: A or AAAA of the block page; anything else NODATA. */
static void
test_block_redirect(void **state)
{
	static const char *a[] = { "WwW.eXample.Nl.\t120\tIN\tA\t"
		"192.0.2.80\n", NULL };
	static const char *aaaa[] = { "WwW.eXample.Nl.\t120\tIN\tAAAA\t"
		"2001:db8::80\n", NULL };
	static const char *soa[] = { "eXample.Nl.\t120\tIN\tSOA\tlocalhost. "
		"nobody.invalid. 1 3600 600 86400 120\n", NULL };
	static const uint16_t nodata_types[] = { 15, 16, WIRE_TYPE_ANY };
	struct wire_query q;
	struct wire_block b;
	uint8_t		 out[512];
	size_t		 len, i;
	ldns_pkt	*p;

	(void)state;
	client_query(&q, WIRE_RD, 1, 0);
	block_init(&b, WIRE_BLOCK_REDIRECT);
	b.ttl = 120;
	b.apex = apex_parent;
	b.apex_len = sizeof apex_parent;
	b.have4 = b.have6 = 1;
	memcpy(b.addr4, (const uint8_t[]){ 192, 0, 2, 80 }, 4);
	memcpy(b.addr6, (const uint8_t[]){ 0x20, 0x01, 0x0d, 0xb8, 0, 0, 0,
	    0, 0, 0, 0, 0, 0, 0, 0, 0x80 }, 16);
	b.ede_code = WIRE_EDE_BLOCKED;
	b.ede_text = "see the block page";

	len = wire_block_answer(out, sizeof out, &q, &b);
	p = ldns_read(out, len);
	assert_int_equal(ldns_pkt_get_rcode(p), LDNS_RCODE_NOERROR);
	assert_section(ldns_pkt_answer(p), a);
	assert_int_equal(ldns_pkt_nscount(p), 0);
	assert_true(ldns_pkt_edns(p));
	ldns_pkt_free(p);
	/* The owner is a pointer to the question. */
	assert_int_equal(out[WIRE_HDR_LEN + QNAME_LEN + 4], 0xc0);
	assert_int_equal(out[WIRE_HDR_LEN + QNAME_LEN + 5], WIRE_HDR_LEN);

	q.qtype = WIRE_TYPE_AAAA;
	len = wire_block_answer(out, sizeof out, &q, &b);
	p = ldns_read(out, len);
	assert_section(ldns_pkt_answer(p), aaaa);
	ldns_pkt_free(p);
	/* Every cap short of the length fails; the exact length does not. */
	for (i = 0; i < len; i++)
		assert_int_equal(wire_block_answer(out, i, &q, &b), 0);
	assert_int_equal(wire_block_answer(out, len, &q, &b), len);

	/* Other types: NODATA with the SOA. */
	for (i = 0; i < sizeof nodata_types / sizeof nodata_types[0]; i++) {
		q.qtype = nodata_types[i];
		len = wire_block_answer(out, sizeof out, &q, &b);
		p = ldns_read(out, len);
		assert_int_equal(ldns_pkt_get_rcode(p), LDNS_RCODE_NOERROR);
		assert_int_equal(ldns_pkt_ancount(p), 0);
		assert_section(ldns_pkt_authority(p), soa);
		ldns_pkt_free(p);
	}

	/* A family without an address: NODATA too. */
	b.have6 = 0;
	q.qtype = WIRE_TYPE_AAAA;
	len = wire_block_answer(out, sizeof out, &q, &b);
	p = ldns_read(out, len);
	assert_int_equal(ldns_pkt_ancount(p), 0);
	assert_section(ldns_pkt_authority(p), soa);
	ldns_pkt_free(p);
	b.have6 = 1;
	b.have4 = 0;
	q.qtype = WIRE_TYPE_A;
	len = wire_block_answer(out, sizeof out, &q, &b);
	p = ldns_read(out, len);
	assert_int_equal(ldns_pkt_ancount(p), 0);
	assert_section(ldns_pkt_authority(p), soa);
	ldns_pkt_free(p);
}

/* Build "<prefix><char x n><tail>" into buf; returns buf. */
static char *
ede_text(char *buf, size_t n, const char *tail)
{
	memset(buf, 'a', n);
	strcpy(buf + n, tail);
	return (buf);
}

/* The EDE text: cut at WIRE_EDE_MAX_TEXT, never inside a UTF-8 sequence. */
static void
test_block_ede_cut(void **state)
{
	static const struct {
		size_t		 n;	/* 'a's before the tail */
		const char	*tail;
		size_t		 want;	/* octets sent */
	} cases[] = {
		{ WIRE_EDE_MAX_TEXT, "", WIRE_EDE_MAX_TEXT },
		{ WIRE_EDE_MAX_TEXT, "bcd", WIRE_EDE_MAX_TEXT },
		{ 200, "", WIRE_EDE_MAX_TEXT },
		/* e-acute (2 octets) across the limit: dropped whole. */
		{ WIRE_EDE_MAX_TEXT - 1, "\xc3\xa9xyz", WIRE_EDE_MAX_TEXT - 1 },
		/* ... and just fitting: kept. */
		{ WIRE_EDE_MAX_TEXT - 2, "\xc3\xa9xyz", WIRE_EDE_MAX_TEXT },
		/* The euro sign (3 octets), its second or third octet cut. */
		{ WIRE_EDE_MAX_TEXT - 1, "\xe2\x82\xac",
		  WIRE_EDE_MAX_TEXT - 1 },
		{ WIRE_EDE_MAX_TEXT - 2, "\xe2\x82\xacq",
		  WIRE_EDE_MAX_TEXT - 2 },
		/* A 4-octet sequence starting 3 before the limit. */
		{ WIRE_EDE_MAX_TEXT - 3, "\xf0\x9f\x98\x80",
		  WIRE_EDE_MAX_TEXT - 3 },
		{ WIRE_EDE_MAX_TEXT - 4, "\xf0\x9f\x98\x80!",
		  WIRE_EDE_MAX_TEXT },
	};
	struct wire_query q;
	struct wire_block b;
	uint8_t		 out[512], ede[256];
	char		 text[512];
	size_t		 len, n, i;
	ldns_pkt	*p;

	(void)state;
	client_query(&q, WIRE_RD, 1, 0);
	block_init(&b, WIRE_BLOCK_NXDOMAIN);
	b.ede_code = WIRE_EDE_BLOCKED;
	for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		b.ede_text = ede_text(text, cases[i].n, cases[i].tail);
		len = wire_block_answer(out, sizeof out, &q, &b);
		p = ldns_read(out, len);
		n = ede_bytes(ede, WIRE_EDE_BLOCKED, text, cases[i].want);
		assert_edns_data(p, ede, n);
		ldns_pkt_free(p);
	}
}

/* The worst case fits 512: a 255-octet qname, a written-out apex too. */
static void
test_block_worst(void **state)
{
	uint8_t		 pkt[512], out[512];
	char		 text[512];
	struct wire_query q;
	struct wire_block b;
	size_t		 len;
	ldns_pkt	*p;

	(void)state;
	len = build_name255(pkt);
	parse_ok(pkt, len, &q);
	q.edns = 1;
	block_init(&b, WIRE_BLOCK_NXDOMAIN);
	b.ede_code = WIRE_EDE_BLOCKED;
	b.ede_text = ede_text(text, 300, "");
	b.apex = apex_other;
	b.apex_len = sizeof apex_other;
	len = wire_block_answer(out, sizeof out, &q, &b);
	assert_true(len > 0 && len <= 512);
	p = ldns_read(out, len);
	assert_int_equal(ldns_pkt_nscount(p), 1);
	ldns_pkt_free(p);
}

/*
 * The answer section of the message m (as ldns reads it), printed record
 * by record after the CNAME line first, into want[]; returns the count and
 * adds the records' uncompressed sizes to *size.
 */
static size_t
expect_rrs(const uint8_t *m, size_t mlen, ldns_pkt_section sec,
    char want[][256], size_t max, size_t *size)
{
	ldns_pkt	*p = ldns_read(m, mlen);
	ldns_rr_list	*l;
	ldns_rr		*rr;
	char		*str;
	size_t		 i, n;

	l = ldns_pkt_get_section_clone(p, sec);
	n = ldns_rr_list_rr_count(l);
	assert_true(n <= max);
	for (i = 0; i < n; i++) {
		rr = ldns_rr_list_rr(l, i);
		str = ldns_rr2str(rr);
		assert_true(strlen(str) < 256);
		strcpy(want[i], str);
		free(str);
		*size += ldns_rr_uncompressed_size(rr);
	}
	ldns_rr_list_deep_free(l);
	ldns_pkt_free(p);
	return (n);
}

/* Compare a section of p with n printed records. */
static void
assert_rrs(ldns_rr_list *l, char want[][256], size_t n)
{
	size_t	i;

	assert_int_equal(ldns_rr_list_rr_count(l), n);
	for (i = 0; i < n; i++)
		assert_rr(ldns_rr_list_rr(l, i), want[i]);
}

static const char cname_line[] = "WwW.eXample.Nl.\t3600\tIN\tCNAME\t"
	"forcesafesearch.google.com.\n";
/* Header, question, and the CNAME record with its pointer owner. */
#define CNAME_HEAD	(WIRE_HDR_LEN + QNAME_LEN + 4 + 2 + 10 + sizeof safe)

/* A CNAME chain with A records, compressed by ldns, copied uncompressed. */
static void
test_cname_chain(void **state)
{
	static const char *an[] = {
		"forcesafesearch.google.com. 300 IN CNAME Safe.Google.com.",
		"Safe.Google.com. 60 IN A 216.239.38.120",
		"safe.google.com. 60 IN A 216.239.38.121",
		"safe.google.com. 60 IN AAAA 2001:4860:4802:32::78", NULL };
	static const char *ns[] = {
		"google.com. 900 IN NS ns1.google.com.", NULL };
	static const char *ar[] = {
		"ns1.google.com. 60 IN A 216.239.32.10", NULL };
	struct wire_query q;
	uint8_t		 tmsg[1024], out[1024];
	char		 want[8][256];
	size_t		 tlen, len, n, size = 0;
	ldns_pkt	*p;

	(void)state;
	tlen = mkmsg(tmsg, sizeof tmsg, 7, LDNS_RCODE_NOERROR,
	    "forcesafesearch.google.com.", "A", an, ns, ar, 1);
	tmsg[3] |= WIRE_AD;
	n = expect_rrs(tmsg, tlen, LDNS_SECTION_ANSWER, want, 8, &size);
	assert_int_equal(n, 4);

	client_query(&q, WIRE_RD | WIRE_CD, 1, 1);
	len = wire_cname_answer(out, sizeof out, &q, safe, sizeof safe, 3600,
	    WRITTEN(tmsg, tlen), q.udp_size);
	/* Every name written out: the length of the uncompressed records. */
	assert_int_equal(len, CNAME_HEAD + size + WIRE_OPT_LEN);
	p = ldns_read(out, len);
	assert_int_equal(ldns_pkt_id(p), 0x1234);
	assert_true(ldns_pkt_qr(p));
	assert_true(ldns_pkt_ra(p));
	assert_true(ldns_pkt_rd(p));
	assert_true(ldns_pkt_cd(p));
	assert_false(ldns_pkt_aa(p));
	assert_false(ldns_pkt_ad(p));
	assert_false(ldns_pkt_tc(p));
	assert_int_equal(ldns_pkt_get_rcode(p), LDNS_RCODE_NOERROR);
	assert_qname(p, "WwW.eXample.Nl.");
	assert_rr(ldns_rr_list_rr(ldns_pkt_answer(p), 0), cname_line);
	assert_int_equal(ldns_pkt_ancount(p), 1 + n);
	for (size_t i = 0; i < n; i++)
		assert_rr(ldns_rr_list_rr(ldns_pkt_answer(p), i + 1), want[i]);
	assert_int_equal(ldns_pkt_nscount(p), 0);
	assert_int_equal(out[11], 1);	/* ldns hides OPT */
	assert_true(ldns_pkt_edns_do(p));
	ldns_pkt_free(p);

	/* Without EDNS or RD. */
	client_query(&q, 0, 0, 0);
	len = wire_cname_answer(out, sizeof out, &q, safe, sizeof safe, 3600,
	    WRITTEN(tmsg, tlen), q.udp_size);
	assert_int_equal(len, CNAME_HEAD + size);
	p = ldns_read(out, len);
	assert_false(ldns_pkt_rd(p));
	assert_false(ldns_pkt_edns(p));
	assert_int_equal(out[11], 0);
	ldns_pkt_free(p);

	/* Every cap short of the length fails. */
	for (n = 0; n < len; n++)
		assert_int_equal(wire_cname_answer(out, n, &q, safe,
		    sizeof safe, 3600, WRITTEN(tmsg, tlen), WIRE_MAX_UDP), 0);
}

/* Negative answers about the target: the SOA goes to authority. */
static void
test_cname_negative(void **state)
{
	static const char *ns[] = {
		"google.com. 900 IN NS ns1.google.com.",
		"google.com. 60 IN SOA ns1.google.com. dns-admin.google.com. "
		"1 900 900 1800 60",
		"google.com. 60 IN SOA ns2.google.com. other.google.com. "
		"2 900 900 1800 60", NULL };
	static const char *ns_only[] = {
		"google.com. 900 IN NS ns1.google.com.", NULL };
	struct wire_query q;
	uint8_t		 tmsg[1024], out[1024];
	char		 want[8][256];
	size_t		 tlen, len, size = 0;
	ldns_pkt	*p;

	(void)state;
	client_query(&q, WIRE_RD, 1, 0);
	tlen = mkmsg(tmsg, sizeof tmsg, 7, LDNS_RCODE_NXDOMAIN,
	    "forcesafesearch.google.com.", "A", NULL, ns, NULL, 0);
	assert_int_equal(expect_rrs(tmsg, tlen, LDNS_SECTION_AUTHORITY, want,
	    8, &size), 3);
	len = wire_cname_answer(out, sizeof out, &q, safe, sizeof safe, 3600,
	    WRITTEN(tmsg, tlen), q.udp_size);
	assert_true(len > 0);
	p = ldns_read(out, len);
	assert_int_equal(ldns_pkt_get_rcode(p), LDNS_RCODE_NXDOMAIN);
	assert_int_equal(ldns_pkt_ancount(p), 1);
	assert_rr(ldns_rr_list_rr(ldns_pkt_answer(p), 0), cname_line);
	/* Only the first SOA, written out. */
	assert_rrs(ldns_pkt_authority(p), want + 1, 1);
	ldns_pkt_free(p);

	/* NODATA the same way, NOERROR kept. */
	tlen = mkmsg(tmsg, sizeof tmsg, 7, LDNS_RCODE_NOERROR,
	    "forcesafesearch.google.com.", "AAAA", NULL, ns + 1, NULL, 0);
	len = wire_cname_answer(out, sizeof out, &q, safe, sizeof safe, 3600,
	    WRITTEN(tmsg, tlen), q.udp_size);
	p = ldns_read(out, len);
	assert_int_equal(ldns_pkt_get_rcode(p), LDNS_RCODE_NOERROR);
	assert_int_equal(ldns_pkt_ancount(p), 1);
	assert_rrs(ldns_pkt_authority(p), want + 1, 1);
	ldns_pkt_free(p);

	/* No SOA: an empty authority section. */
	tlen = mkmsg(tmsg, sizeof tmsg, 7, LDNS_RCODE_SERVFAIL,
	    "forcesafesearch.google.com.", "A", NULL, ns_only, NULL, 0);
	len = wire_cname_answer(out, sizeof out, &q, safe, sizeof safe, 3600,
	    WRITTEN(tmsg, tlen), q.udp_size);
	p = ldns_read(out, len);
	assert_int_equal(ldns_pkt_get_rcode(p), LDNS_RCODE_SERVFAIL);
	assert_int_equal(ldns_pkt_ancount(p), 1);
	assert_int_equal(ldns_pkt_nscount(p), 0);
	ldns_pkt_free(p);
}

/* Names inside rdata (MX, NS, PTR, SOA, SRV, DNAME, AFSDB, NAPTR) in full. */
static void
test_cname_rdata(void **state)
{
	static const char *an[] = {
		"forcesafesearch.google.com. 300 IN MX 10 Mail.google.com.",
		"forcesafesearch.google.com. 300 IN NS ns1.google.com.",
		"forcesafesearch.google.com. 300 IN PTR ptr.google.com.",
		"forcesafesearch.google.com. 300 IN SOA ns1.google.com. "
		"dns-admin.google.com. 1 2 3 4 5",
		"forcesafesearch.google.com. 300 IN TXT \"google.com\"",
		"forcesafesearch.google.com. 300 IN SRV 1 2 443 "
		"srv.google.com.",
		"forcesafesearch.google.com. 300 IN DNAME d.google.com.",
		"forcesafesearch.google.com. 300 IN TYPE999 \\# 3 c00c00",
		NULL };
	/* SRV with a compressed target: srv + pointer to "google" (28). */
	static const uint8_t srv[] = { HDR(0x8180, 1, 1, 0, 0), 15, 'f', 'o',
		'r', 'c', 'e', 's', 'a', 'f', 'e', 's', 'e', 'a', 'r', 'c',
		'h', 6, 'g', 'o', 'o', 'g', 'l', 'e', 3, 'c', 'o', 'm', 0,
		0, 33, 0, 1, 0xc0, 12, 0, 33, 0, 1, 0, 0, 1, 0x2c, 0, 12,
		0, 1, 0, 2, 0x01, 0xbb, 3, 's', 'r', 'v', 0xc0, 28 };
	static const char srv_line[] = "forcesafesearch.google.com.\t300\t"
	    "IN\tSRV\t1 2 443 srv.google.com.\n";
	/*
	 * AFSDB and NAPTR (RFC 3597 4: SHOULD decompress) with their names
	 * compressed the same way: afs, and _sip._udp after NAPTR's strings.
	 */
	static const uint8_t more[] = { HDR(0x8180, 1, 2, 0, 0), 15, 'f',
		'o', 'r', 'c', 'e', 's', 'a', 'f', 'e', 's', 'e', 'a', 'r',
		'c', 'h', 6, 'g', 'o', 'o', 'g', 'l', 'e', 3, 'c', 'o', 'm', 0,
		0, 255, 0, 1,
		0xc0, 12, 0, 18, 0, 1, 0, 0, 1, 0x2c, 0, 8,
		0, 1, 3, 'a', 'f', 's', 0xc0, 28,
		0xc0, 12, 0, 35, 0, 1, 0, 0, 1, 0x2c, 0, 27,
		0, 10, 0, 20, 1, 'S', 7, 'S', 'I', 'P', '+', 'D', '2', 'U', 0,
		4, '_', 's', 'i', 'p', 4, '_', 'u', 'd', 'p', 0xc0, 28 };
	static const char afsdb_line[] = "forcesafesearch.google.com.\t300\t"
	    "IN\tAFSDB\t1 afs.google.com.\n";
	static const char naptr_line[] = "forcesafesearch.google.com.\t300\t"
	    "IN\tNAPTR\t10 20 \"S\" \"SIP+D2U\" \"\" _sip._udp.google.com.\n";
	struct wire_query q;
	uint8_t		 tmsg[1024], out[1024];
	char		 want[16][256];
	size_t		 tlen, len, n, size = 0;
	ldns_pkt	*p;

	(void)state;
	client_query(&q, WIRE_RD, 0, 0);
	tlen = mkmsg(tmsg, sizeof tmsg, 7, LDNS_RCODE_NOERROR,
	    "forcesafesearch.google.com.", "ANY", an, NULL, NULL, 0);
	n = expect_rrs(tmsg, tlen, LDNS_SECTION_ANSWER, want, 16, &size);
	assert_int_equal(n, 8);
	len = wire_cname_answer(out, sizeof out, &q, safe, sizeof safe, 3600,
	    WRITTEN(tmsg, tlen), WIRE_MAX_UDP);
	assert_int_equal(len, CNAME_HEAD + size);
	p = ldns_read(out, len);
	assert_rr(ldns_rr_list_rr(ldns_pkt_answer(p), 0), cname_line);
	assert_int_equal(ldns_pkt_ancount(p), 1 + n);
	for (size_t i = 0; i < n; i++)
		assert_rr(ldns_rr_list_rr(ldns_pkt_answer(p), i + 1), want[i]);
	ldns_pkt_free(p);

	/* The hand-made SRV whose target is compressed. */
	len = wire_cname_answer(out, sizeof out, &q, safe, sizeof safe, 3600,
	    WRITTEN(srv, sizeof srv), WIRE_MAX_UDP);
	assert_int_equal(len, CNAME_HEAD + sizeof safe + 10 + 6 + 16);
	p = ldns_read(out, len);
	assert_int_equal(ldns_pkt_ancount(p), 2);
	assert_rr(ldns_rr_list_rr(ldns_pkt_answer(p), 1), srv_line);
	ldns_pkt_free(p);

	/* Owners of 28 octets, names of 16 and 22, all in full. */
	len = wire_cname_answer(out, sizeof out, &q, safe, sizeof safe, 3600,
	    WRITTEN(more, sizeof more), WIRE_MAX_UDP);
	assert_int_equal(len, CNAME_HEAD + (28 + 10 + 2 + 16) +
	    (28 + 10 + 15 + 22));
	p = ldns_read(out, len);
	assert_int_equal(ldns_pkt_ancount(p), 3);
	assert_rr(ldns_rr_list_rr(ldns_pkt_answer(p), 1), afsdb_line);
	assert_rr(ldns_rr_list_rr(ldns_pkt_answer(p), 2), naptr_line);
	ldns_pkt_free(p);
}

/* Over udp_max: header, question, OPT and TC=1. */
static void
test_cname_truncated(void **state)
{
	static char	 rrs[40][64];
	const char	*an[41];
	struct wire_query q;
	uint8_t		 tmsg[2048], out[2048];
	size_t		 tlen, len, i;
	ldns_pkt	*p;

	(void)state;
	for (i = 0; i < 40; i++) {
		snprintf(rrs[i], sizeof rrs[i],
		    "forcesafesearch.google.com. 300 IN A 192.0.2.%zu", i + 1);
		an[i] = rrs[i];
	}
	an[40] = NULL;
	tlen = mkmsg(tmsg, sizeof tmsg, 7, LDNS_RCODE_NOERROR,
	    "forcesafesearch.google.com.", "A", an, NULL, NULL, 0);

	client_query(&q, WIRE_RD, 1, 1);
	len = wire_cname_answer(out, sizeof out, &q, safe, sizeof safe, 3600,
	    WRITTEN(tmsg, tlen), 512);
	assert_int_equal(len, WIRE_HDR_LEN + QNAME_LEN + 4 + WIRE_OPT_LEN);
	p = ldns_read(out, len);
	assert_true(ldns_pkt_tc(p));
	assert_true(ldns_pkt_qr(p));
	assert_int_equal(ldns_pkt_ancount(p), 0);
	assert_int_equal(ldns_pkt_nscount(p), 0);
	assert_true(ldns_pkt_edns_do(p));
	assert_int_equal(out[11], 1);	/* ldns hides OPT */
	assert_qname(p, "WwW.eXample.Nl.");
	ldns_pkt_free(p);

	/* Even when the full answer would not fit the buffer. */
	assert_int_equal(wire_cname_answer(out, 600, &q, safe, sizeof safe,
	    3600, WRITTEN(tmsg, tlen), 512), len);

	/* Over TCP it fits; into a small buffer it does not. */
	len = wire_cname_answer(out, sizeof out, &q, safe, sizeof safe, 3600,
	    WRITTEN(tmsg, tlen), WIRE_MAX_UDP);
	p = ldns_read(out, len);
	assert_false(ldns_pkt_tc(p));
	assert_int_equal(ldns_pkt_ancount(p), 41);
	ldns_pkt_free(p);
	assert_int_equal(wire_cname_answer(out, 600, &q, safe, sizeof safe,
	    3600, WRITTEN(tmsg, tlen), WIRE_MAX_UDP), 0);
}

/* Malformed target messages and targets give 0. */
static void
test_cname_bad(void **state)
{
	static const char *an[] = {
		"forcesafesearch.google.com. 300 IN CNAME safe.google.com.",
		"safe.google.com. 60 IN A 216.239.38.120",
		"safe.google.com. 60 IN MX 1 mx.google.com.", NULL };
	/* A CNAME whose target runs past its rdata (rdlen 2). */
	static const uint8_t past[] = { HDR(0x8180, 1, 1, 0, 0), 1, 'a', 0,
		0, 1, 0, 1, 0xc0, 12, 0, 5, 0, 1, 0, 0, 0, 5, 0, 2,
		1, 'b', 0 };
	/* A SOA with 19 octets after its names. */
	static const uint8_t soa[] = { HDR(0x8183, 1, 0, 1, 0), 1, 'a', 0,
		0, 1, 0, 1, 0xc0, 12, 0, 6, 0, 1, 0, 0, 0, 5, 0, 23,
		0, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16,
		17, 18, 19 };
	/* An owner that points forward. */
	static const uint8_t fwd[] = { HDR(0x8180, 1, 1, 0, 0), 1, 'a', 0,
		0, 1, 0, 1, 0xc0, 40, 0, 1, 0, 1, 0, 0, 0, 5, 0, 4,
		1, 2, 3, 4 };
	/* An MX shorter than its preference. */
	static const uint8_t mx[] = { HDR(0x8180, 1, 1, 0, 0), 1, 'a', 0,
		0, 15, 0, 1, 0xc0, 12, 0, 15, 0, 1, 0, 0, 0, 5, 0, 1, 0 };
	static const uint8_t bad_targets[][4] = { { 1, 'a', 0, 0 },
		{ 3, 'a', 'b', 0 }, { 0xc0, 12, 0, 0 } };
	struct wire_query q;
	uint8_t		 tmsg[1024], out[1024];
	size_t		 tlen, i;

	(void)state;
	client_query(&q, WIRE_RD, 1, 0);
	tlen = mkmsg(tmsg, sizeof tmsg, 7, LDNS_RCODE_NOERROR,
	    "forcesafesearch.google.com.", "A", an, NULL, NULL, 0);
	assert_true(wire_cname_answer(out, sizeof out, &q, safe, sizeof safe,
	    60, WRITTEN(tmsg, tlen), WIRE_MAX_UDP) > 0);
	/* Every cut of it. */
	for (i = 0; i < tlen; i++)
		assert_int_equal(wire_cname_answer(out, sizeof out, &q, safe,
		    sizeof safe, 60, WRITTEN(tmsg, i), WIRE_MAX_UDP), 0);
	/* More answers than there are. */
	tmsg[7]++;
	assert_int_equal(wire_cname_answer(out, sizeof out, &q, safe,
	    sizeof safe, 60, WRITTEN(tmsg, tlen), WIRE_MAX_UDP), 0);
	tmsg[6] = tmsg[7] = 0xff;
	assert_int_equal(wire_cname_answer(out, sizeof out, &q, safe,
	    sizeof safe, 60, WRITTEN(tmsg, tlen), WIRE_MAX_UDP), 0);

	assert_int_equal(wire_cname_answer(out, sizeof out, &q, safe,
	    sizeof safe, 60, WRITTEN(past, sizeof past), WIRE_MAX_UDP), 0);
	assert_int_equal(wire_cname_answer(out, sizeof out, &q, safe,
	    sizeof safe, 60, WRITTEN(soa, sizeof soa), WIRE_MAX_UDP), 0);
	assert_int_equal(wire_cname_answer(out, sizeof out, &q, safe,
	    sizeof safe, 60, WRITTEN(fwd, sizeof fwd), WIRE_MAX_UDP), 0);
	assert_int_equal(wire_cname_answer(out, sizeof out, &q, safe,
	    sizeof safe, 60, WRITTEN(mx, sizeof mx), WIRE_MAX_UDP), 0);

	/* Bad targets: trailing octet, label past the end, a pointer. */
	tlen = mkmsg(tmsg, sizeof tmsg, 7, LDNS_RCODE_NOERROR,
	    "forcesafesearch.google.com.", "A", an, NULL, NULL, 0);
	for (i = 0; i < sizeof bad_targets / sizeof bad_targets[0]; i++)
		assert_int_equal(wire_cname_answer(out, sizeof out, &q,
		    bad_targets[i], 4, 60, WRITTEN(tmsg, tlen),
		    WIRE_MAX_UDP), 0);
	assert_int_equal(wire_cname_answer(out, sizeof out, &q, safe, 0, 60,
	    WRITTEN(tmsg, tlen), WIRE_MAX_UDP), 0);
	/* No question to answer. */
	q.have_question = 0;
	assert_int_equal(wire_cname_answer(out, sizeof out, &q, safe,
	    sizeof safe, 60, WRITTEN(tmsg, tlen), WIRE_MAX_UDP), 0);
}

/* Retargeting a query at the safe-search name. */
static void
test_query_retarget(void **state)
{
	static const uint8_t upper[] = { 4, 'S', 'a', 'F', 'e', 2, 'N', 'l',
		0 };
	static const uint8_t upper_l[] = { 4, 's', 'a', 'f', 'e', 2, 'n', 'l',
		0 };
	static const struct {
		const uint8_t	*name;
		size_t		 len;
	} bad_names[] = {
		{ (const uint8_t *)"", 0 },
		{ (const uint8_t *)"\001a", 2 },		/* no root */
		{ (const uint8_t *)"\003ab", 3 },		/* past end */
		{ (const uint8_t *)"\000\000", 2 },	/* trailing */
		{ (const uint8_t *)"\300\014", 2 },		/* pointer */
		{ (const uint8_t *)"\100aaa", 5 },		/* label 64 */
	};
	struct wire_query q, d;
	uint8_t		 long_name[256], out[512];
	size_t		 i, len;
	ldns_pkt	*p;

	(void)state;
	client_query(&q, WIRE_RD | WIRE_CD, 1, 1);
	q.qtype = WIRE_TYPE_AAAA;
	assert_int_equal(wire_query_retarget(&d, &q, safe, sizeof safe), 0);
	assert_int_equal(d.id, q.id);
	assert_int_equal(d.flags, q.flags);
	assert_int_equal(d.qtype, WIRE_TYPE_AAAA);
	assert_int_equal(d.qclass, WIRE_CLASS_IN);
	assert_true(d.have_question);
	assert_true(d.edns);
	assert_true(d.do_bit);
	assert_int_equal(d.udp_size, q.udp_size);
	assert_int_equal(d.name_len, sizeof safe);
	assert_int_equal(d.labels, 3);
	assert_memory_equal(d.name, safe, sizeof safe);
	assert_memory_equal(d.lname, safe, sizeof safe);
	/* The original is untouched. */
	assert_int_equal(q.name_len, QNAME_LEN);
	assert_memory_equal(q.lname, lname, QNAME_LEN);

	/* The upstream query now asks for the new name. */
	len = wire_make_query(out, sizeof out, &d, 99, NULL);
	p = ldns_read(out, len);
	assert_qname(p, "forcesafesearch.google.com.");
	ldns_pkt_free(p);

	/* Upper case given: lname folded anyway. */
	assert_int_equal(wire_query_retarget(&d, &q, upper, sizeof upper), 0);
	assert_memory_equal(d.name, upper, sizeof upper);
	assert_memory_equal(d.lname, upper_l, sizeof upper);
	assert_int_equal(d.labels, 2);

	/* The root, and dst the same as q with the name inside it. */
	assert_int_equal(wire_query_retarget(&d, &q, (const uint8_t *)"", 1),
	    0);
	assert_int_equal(d.labels, 0);
	assert_int_equal(d.name_len, 1);
	d = q;
	assert_int_equal(wire_query_retarget(&d, &d, d.name + 4,
	    d.name_len - 4), 0);
	assert_int_equal(d.name_len, QNAME_LEN - 4);
	assert_int_equal(d.labels, 2);
	assert_memory_equal(d.lname, lname + 4, QNAME_LEN - 4);

	/* Invalid names. */
	for (i = 0; i < sizeof bad_names / sizeof bad_names[0]; i++)
		assert_int_equal(wire_query_retarget(&d, &q,
		    bad_names[i].name, bad_names[i].len), -1);
	memset(long_name, 1, sizeof long_name);
	long_name[255] = 0;
	assert_int_equal(wire_query_retarget(&d, &q, long_name, 256), -1);
	assert_int_equal(wire_query_retarget(&d, &q, long_name + 1, 255), 0);
	assert_int_equal(d.labels, 127);
}

/*
 * A message with one record in each section, built by hand so that every
 * offset is known: the answer's owner a pointer to the qname, the
 * authority's a pointer into it, and an OPT.
 */
static const uint8_t rr_msg[] = { HDR(0x8180, 1, 1, 1, 1), QNAME, QTAIL,
	/* 32: www.example.nl. 300 IN A 192.0.2.1 */
	0xc0, 12, 0, 1, 0, 1, 0, 0, 1, 0x2c, 0, 4, 192, 0, 2, 1,
	/* 48: example.nl. 3600 IN NS ns1.example.nl. */
	0xc0, 16, 0, 2, 0, 1, 0, 0, 0x0e, 0x10, 0, 6, 3, 'n', 's', '1',
	0xc0, 16,
	/* 66: OPT, size 1232, DO */
	0, 0, 41, 0x04, 0xd0, 0, 0, 0x80, 0, 0, 0 };

/* One walk over every record: the fields, the sections, the end. */
static void
test_rr_walk(void **state)
{
	struct wire_rr	rr;
	size_t		off;

	(void)state;
	off = wire_skip_question(rr_msg, sizeof rr_msg);
	assert_int_equal(off, WIRE_HDR_LEN + QNAME_LEN + 4);
	wire_rr_begin(&rr, rr_msg, sizeof rr_msg, off);

	assert_int_equal(wire_rr_next(&rr), 1);
	assert_int_equal(rr.section, WIRE_SEC_AN);
	assert_int_equal(rr.nth, 0);
	assert_int_equal(rr.owner, 32);
	assert_int_equal(rr.owner_len, QNAME_LEN);
	assert_int_equal(rr.type, WIRE_TYPE_A);
	assert_int_equal(rr.class, WIRE_CLASS_IN);
	assert_int_equal(rr.ttl, 300);
	assert_int_equal(rr.ttl_off, 38);
	assert_int_equal(rr.rdlen, 4);
	assert_int_equal(rr.rdata, 44);
	assert_int_equal(rr_msg[rr.rdata], 192);

	assert_int_equal(wire_rr_next(&rr), 1);
	assert_int_equal(rr.section, WIRE_SEC_NS);
	assert_int_equal(rr.nth, 0);
	assert_int_equal(rr.owner, 48);
	assert_int_equal(rr.owner_len, 12);	/* example.nl. */
	assert_int_equal(rr.type, WIRE_TYPE_NS);
	assert_int_equal(rr.ttl, 3600);
	assert_int_equal(rr.ttl_off, 54);
	assert_int_equal(rr.rdlen, 6);
	assert_int_equal(rr.rdata, 60);

	assert_int_equal(wire_rr_next(&rr), 1);
	assert_int_equal(rr.section, WIRE_SEC_AR);
	assert_int_equal(rr.nth, 0);
	assert_int_equal(rr.owner, 66);
	assert_int_equal(rr.owner_len, 1);
	assert_int_equal(rr.type, WIRE_TYPE_OPT);
	assert_int_equal(rr.class, 1232);
	assert_int_equal(rr.ttl, 0x8000);
	assert_int_equal(rr.rdlen, 0);
	assert_int_equal(rr.rdata, sizeof rr_msg);

	/* The counts are used up: the end, where the last record ended. */
	assert_int_equal(wire_rr_next(&rr), 0);
	assert_int_equal(wire_rr_next(&rr), 0);
	assert_int_equal(rr.next, sizeof rr_msg);
	assert_null(rr.why);
}

/* Walk msg from the end of its question; the result of the last next. */
static int
rr_walk(const uint8_t *msg, size_t len, struct wire_rr *rr)
{
	size_t	off;
	int	r;

	off = wire_skip_question(msg, len);
	assert_true(off > 0);
	wire_rr_begin(rr, msg, len, off);
	while ((r = wire_rr_next(rr)) == 1)
		assert_true(rr->rdata + rr->rdlen <= len);
	return (r);
}

/* Malformed records: each stops the walk with -1 and says why. */
static void
test_rr_bad(void **state)
{
	/* The answer's owner: "a", then a pointer back to the "a". */
	static const uint8_t loop[] = { HDR(0x8180, 1, 1, 0, 0), QNAME,
		QTAIL, 1, 'a', 0xc0, 32, 0, 1, 0, 1, 0, 0, 0, 5, 0, 4,
		1, 2, 3, 4 };
	/* The answer's owner a pointer forward, to its own rdata. */
	static const uint8_t fwd[] = { HDR(0x8180, 1, 1, 0, 0), QNAME,
		QTAIL, 0xc0, 44, 0, 1, 0, 1, 0, 0, 0, 5, 0, 4, 1, 2, 3, 0 };
	/* The answer's owner a label of type 0x40. */
	static const uint8_t ext[] = { HDR(0x8180, 1, 1, 0, 0), QNAME,
		QTAIL, 0x41, 'a', 0, 0, 1, 0, 1, 0, 0, 0, 5, 0, 4,
		1, 2, 3, 4 };
	uint8_t		 chain[512], msg[sizeof rr_msg];
	struct wire_rr	 rr;
	size_t		 len, cut;

	(void)state;
	assert_int_equal(rr_walk(loop, sizeof loop, &rr), -1);
	assert_string_equal(rr.why,
	    "compression loop or name over 255 octets");
	assert_int_equal(rr_walk(fwd, sizeof fwd, &rr), -1);
	assert_string_equal(rr.why, "compression pointer not backwards");
	assert_int_equal(rr_walk(ext, sizeof ext, &rr), -1);
	assert_string_equal(rr.why, "unknown label type");
	len = build_pointer_chain(chain);
	assert_int_equal(rr_walk(chain, len, &rr), -1);
	assert_string_equal(rr.why, "too many compression pointers");

	/* Cut inside the fixed part, then inside the rdata. */
	assert_int_equal(rr_walk(rr_msg, 40, &rr), -1);
	assert_string_equal(rr.why, "record runs past the end");
	assert_int_equal(rr_walk(rr_msg, 46, &rr), -1);
	assert_string_equal(rr.why, "rdata runs past the end");
	/* Every cut after the question: -1, never a record past the cut. */
	for (cut = WIRE_HDR_LEN + QNAME_LEN + 4; cut < sizeof rr_msg; cut++) {
		assert_int_equal(rr_walk(rr_msg, cut, &rr), -1);
		assert_non_null(rr.why);
	}
	/* An RDLENGTH running past the end of the message. */
	memcpy(msg, rr_msg, sizeof msg);
	msg[43] = 200;
	assert_int_equal(rr_walk(msg, sizeof msg, &rr), -1);
	assert_string_equal(rr.why, "rdata runs past the end");
	/* A count above the records there are. */
	memcpy(msg, rr_msg, sizeof msg);
	msg[11] = 2;
	assert_int_equal(rr_walk(msg, sizeof msg, &rr), -1);
	assert_string_equal(rr.why, "name runs past the end");
	/* One below: the walk ends early, before the OPT. */
	msg[11] = 0;
	assert_int_equal(rr_walk(msg, sizeof msg, &rr), 0);
	assert_int_equal(rr.next, 66);
}

/* Questions skipped: none, one, two, and malformed ones. */
static void
test_skip_question(void **state)
{
	static const uint8_t none[] = { HDR(0x8180, 0, 0, 0, 0), 1, 2 };
	static const uint8_t two[] = { HDR(0x0100, 2, 0, 0, 0), QNAME, QTAIL,
		0xc0, 12, QTAIL };
	static const uint8_t cut[] = { HDR(0x0100, 1, 0, 0, 0), QNAME, 0 };
	static const uint8_t self[] = { HDR(0x0100, 1, 0, 0, 0), 0xc0, 12,
		QTAIL };
	static const uint8_t more[] = { HDR(0x0100, 2, 0, 0, 0), QNAME,
		QTAIL };

	(void)state;
	assert_int_equal(wire_skip_question(none, sizeof none), WIRE_HDR_LEN);
	assert_int_equal(wire_skip_question(two, sizeof two),
	    WIRE_HDR_LEN + QNAME_LEN + 4 + 2 + 4);
	assert_int_equal(wire_skip_question(cut, sizeof cut), 0);
	assert_int_equal(wire_skip_question(self, sizeof self), 0);
	assert_int_equal(wire_skip_question(more, sizeof more), 0);
	assert_int_equal(wire_skip_question(none, WIRE_HDR_LEN - 1), 0);
}

/* Only ASCII letters are folded; in place and into another buffer. */
static void
test_lower(void **state)
{
	static const uint8_t in[] = { 5, 'A', 'z', 'Z', '@', '[', 4, '`',
		'{', 0xc1, 0xe1, 3, '0', '-', '_', 0 };
	static const uint8_t want[] = { 5, 'a', 'z', 'z', '@', '[', 4, '`',
		'{', 0xc1, 0xe1, 3, '0', '-', '_', 0 };
	uint8_t	buf[sizeof in];
	int	c;

	(void)state;
	wire_lower(buf, in, sizeof in);
	assert_memory_equal(buf, want, sizeof want);
	memcpy(buf, in, sizeof in);
	wire_lower(buf, buf, sizeof buf);
	assert_memory_equal(buf, want, sizeof want);
	/* Every octet: only A-Z move, by 32. */
	for (c = 0; c < 256; c++) {
		buf[0] = c;
		wire_lower(buf, buf, 1);
		assert_int_equal(buf[0], c >= 'A' && c <= 'Z' ? c + 32 : c);
	}
}

/* TTLs above the cap come down to it; the rest stay. */
static void
test_cap_ttls(void **state)
{
	static const char *an[] = {
		"www.example.nl. 300 IN A 192.0.2.1",
		"www.example.nl. 10 IN A 192.0.2.2", NULL };
	static const char *ar[] = { "ns1.example.nl. 60 IN A 192.0.2.53",
		NULL };
	static const uint32_t want[] = { 60, 10, 60 };
	uint8_t		 msg[1024];
	size_t		 len;
	struct wire_scan sc;

	(void)state;
	len = mkanswer(msg, sizeof msg, 1, LDNS_RCODE_NOERROR, "A", an, NULL,
	    ar, 0);
	assert_int_equal(wire_scan(msg, len, &sc), 0);
	wire_cap_ttls(msg, sc.ttl_off, sc.nttl, 60);
	assert_ttls(msg, &sc, want, 3);
	wire_cap_ttls(msg, sc.ttl_off, 0, 0);
	assert_ttls(msg, &sc, want, 3);
}

/* What wire_inspect() reported, as text, for comparing. */
struct seen {
	char	 ev[16][320];
	size_t	 n;
	size_t	 stop_at;	/* stop at this event (from 1); 0: never */
};

static int
seen_name(void *arg, const uint8_t *name, size_t len)
{
	struct seen	*s = arg;
	char		 buf[256];

	assert_true(s->n < 16);
	snprintf(s->ev[s->n++], sizeof s->ev[0], "name %s",
	    wire_name_str(name, len, buf, sizeof buf));
	return (s->n == s->stop_at);
}

static int
seen_addr(void *arg, int family, const uint8_t *addr)
{
	struct seen	*s = arg;
	char		 buf[INET6_ADDRSTRLEN];

	assert_true(s->n < 16);
	assert_true(family == AF_INET || family == AF_INET6);
	assert_non_null(inet_ntop(family, addr, buf, sizeof buf));
	snprintf(s->ev[s->n++], sizeof s->ev[0], "%d %s",
	    family == AF_INET ? 4 : 6, buf);
	return (s->n == s->stop_at);
}

/* Walk a message and compare the events with want (NULL-terminated). */
static void
assert_inspect(const uint8_t *msg, size_t len, struct wire_visit *v,
    size_t stop_at, const char **want)
{
	struct seen	 s;
	size_t		 i;

	memset(&s, 0, sizeof s);
	s.stop_at = stop_at;
	v->arg = &s;
	assert_int_equal(wire_inspect(msg, len, v), 0);
	for (i = 0; want[i] != NULL; i++) {
		assert_true(i < s.n);
		assert_string_equal(s.ev[i], want[i]);
	}
	assert_int_equal(s.n, i);
}

/* Answer inspection: targets and addresses in order, early stop. */
static void
test_inspect(void **state)
{
	static const char *an[] = {
		"www.example.nl. 300 IN CNAME Web.EXAMPLE.nl.",
		"web.example.nl. 300 IN DNAME Other.Example.NL.",
		"web.example.nl. 60 IN A 192.0.2.1",
		"web.example.nl. 60 IN TXT \"x\"",
		"web.example.nl. 60 IN AAAA 2001:db8::1",
		"web.example.nl. 60 CH A 192.0.2.9",
		"web.example.nl. 60 IN A 192.0.2.2", NULL };
	static const char *ns[] = {
		"example.nl. 60 IN NS ns.example.nl.", NULL };
	static const char *ar[] = { "ns.example.nl. 60 IN A 192.0.2.53",
		NULL };
	static const char *all[] = { "name web.example.nl.",
		"name other.example.nl.", "4 192.0.2.1", "6 2001:db8::1",
		"4 192.0.2.2", NULL };
	static const char *addrs[] = { "4 192.0.2.1", "6 2001:db8::1",
		"4 192.0.2.2", NULL };
	static const char *names[] = { "name web.example.nl.",
		"name other.example.nl.", NULL };
	/* A CNAME whose rdata is one octet longer than its target. */
	static const uint8_t longer[] = { HDR(0x8180, 1, 1, 0, 0), 1, 'a', 0,
		0, 1, 0, 1, 0xc0, 12, 0, 5, 0, 1, 0, 0, 0, 5, 0, 4,
		1, 'b', 0, 0 };
	struct wire_visit v = { seen_name, seen_addr, NULL };
	struct wire_scan sc;
	struct seen	 s;
	uint8_t		 msg[1024];
	size_t		 len, i;

	(void)state;
	len = mkanswer(msg, sizeof msg, 1, LDNS_RCODE_NOERROR, "A", an, NULL,
	    NULL, 0);
	assert_inspect(msg, len, &v, 0, all);
	/* Stopped at the first name, and at the first address. */
	assert_inspect(msg, len, &v, 1, (const char *[]){
	    "name web.example.nl.", NULL });
	assert_inspect(msg, len, &v, 3, (const char *[]){
	    "name web.example.nl.", "name other.example.nl.",
	    "4 192.0.2.1", NULL });
	/* One callback only. */
	v.name = NULL;
	assert_inspect(msg, len, &v, 0, addrs);
	v.name = seen_name;
	v.addr = NULL;
	assert_inspect(msg, len, &v, 0, names);
	v.addr = seen_addr;

	/* Every cut is malformed. */
	for (i = 0; i < len; i++) {
		memset(&s, 0, sizeof s);
		v.arg = &s;
		assert_int_equal(wire_inspect(msg, i, &v), -1);
	}
	s.n = 0;
	assert_int_equal(wire_inspect(longer, sizeof longer, &v), -1);

	/* As wire_scan() leaves it: other sections and OPT do not matter. */
	len = mkanswer(msg, sizeof msg, 1, LDNS_RCODE_NOERROR, "A", an, ns,
	    ar, 1);
	assert_int_equal(wire_scan(msg, len, &sc), 0);
	assert_inspect(msg, sc.len, &v, 0, all);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_plain),
		cmocka_unit_test(test_parse_root_tc),
		cmocka_unit_test(test_parse_edns),
		cmocka_unit_test(test_parse_bad),
		cmocka_unit_test(test_parse_partial),
		cmocka_unit_test(test_error),
		cmocka_unit_test(test_error_notimp),
		cmocka_unit_test(test_make_query),
		cmocka_unit_test(test_check_answer),
		cmocka_unit_test(test_lower_words),
		cmocka_unit_test(test_mix_case),
		cmocka_unit_test(test_mix_case_words),
		cmocka_unit_test(test_key_hash),
		cmocka_unit_test(test_key_hash_tail),
		cmocka_unit_test(test_qhash),
		cmocka_unit_test(test_scan_positive),
		cmocka_unit_test(test_scan_negative),
		cmocka_unit_test(test_scan_bad_cname_rdata),
		cmocka_unit_test(test_scan_opt),
		cmocka_unit_test(test_scan_bad),
		cmocka_unit_test(test_scan_too_many),
		cmocka_unit_test(test_answer),
		cmocka_unit_test(test_answer_truncated),
		cmocka_unit_test(test_name_str),
		cmocka_unit_test(test_block_nxdomain),
		cmocka_unit_test(test_block_nodata),
		cmocka_unit_test(test_block_refused),
		cmocka_unit_test(test_block_redirect),
		cmocka_unit_test(test_block_ede_cut),
		cmocka_unit_test(test_block_worst),
		cmocka_unit_test(test_cname_chain),
		cmocka_unit_test(test_cname_negative),
		cmocka_unit_test(test_cname_rdata),
		cmocka_unit_test(test_cname_truncated),
		cmocka_unit_test(test_cname_bad),
		cmocka_unit_test(test_query_retarget),
		cmocka_unit_test(test_inspect),
		cmocka_unit_test(test_rr_walk),
		cmocka_unit_test(test_rr_bad),
		cmocka_unit_test(test_skip_question),
		cmocka_unit_test(test_lower),
		cmocka_unit_test(test_cap_ttls),
	};

	return (cmocka_run_group_tests(tests, NULL, NULL));
}
