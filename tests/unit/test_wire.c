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
	return n + 4;
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
	return n + 4;
}

static size_t
build_name255(uint8_t *p)
{
	return build_long(p, 255);
}

static size_t
build_name256(uint8_t *p)
{
	return build_long(p, 256);
}

/* Pointer chains: "a" then a pointer back to itself, a loop of labels. */
static size_t
build_label_loop(uint8_t *p)
{
	static const uint8_t pkt[] = { HDR(0x0100, 1, 0, 0, 0), 1, 'a',
		0xc0, 12, QTAIL };

	memcpy(p, pkt, sizeof pkt);
	return sizeof pkt;
}

struct bad {
	const char	*what;
	const uint8_t	*pkt;
	size_t		 len;
	size_t		(*build)(uint8_t *);
	enum wire_verdict verdict;
};

#define PKT(...) (const uint8_t[]){ __VA_ARGS__ }, \
	sizeof((const uint8_t[]){ __VA_ARGS__ })

static const struct bad bad[] = {
	{ "pointer to itself",
	  PKT(HDR(0x0100, 1, 0, 0, 0), 0xc0, 12, QTAIL),
	  NULL, WIRE_ERR_FORMERR },
	{ "two pointers at each other",
	  PKT(HDR(0x0100, 1, 0, 0, 0), 0xc0, 14, 0xc0, 12, QTAIL),
	  NULL, WIRE_ERR_FORMERR },
	{ "label then pointer back to it", NULL, 0, build_label_loop,
	  WIRE_ERR_FORMERR },
	{ "forward pointer",
	  PKT(HDR(0x0100, 1, 0, 0, 0), 0xc0, 18, QTAIL, 1, 'a', 0),
	  NULL, WIRE_ERR_FORMERR },
	{ "pointer into the header",
	  PKT(HDR(0x0100, 1, 0, 0, 0), 0xc0, 4, QTAIL),
	  NULL, WIRE_ERR_FORMERR },
	{ "pointer cut short",
	  PKT(HDR(0x0100, 1, 0, 0, 0), 0xc0),
	  NULL, WIRE_ERR_FORMERR },
	{ "label of 64", NULL, 0, build_label64, WIRE_ERR_FORMERR },
	{ "name of 255", NULL, 0, build_name255, WIRE_OK },
	{ "name over 255", NULL, 0, build_name256, WIRE_ERR_FORMERR },
	{ "QR=1", PKT(HDR(0x8100, 1, 0, 0, 0), QNAME, QTAIL),
	  NULL, WIRE_DROP },
	{ "no qtype/qclass", PKT(HDR(0x0100, 1, 0, 0, 0), QNAME),
	  NULL, WIRE_ERR_FORMERR },
	{ "no qclass", PKT(HDR(0x0100, 1, 0, 0, 0), QNAME, 0, 1),
	  NULL, WIRE_ERR_FORMERR },
	{ "name without root", PKT(HDR(0x0100, 1, 0, 0, 0), 3, 'w', 'w', 'w'),
	  NULL, WIRE_ERR_FORMERR },
	{ "label past the end", PKT(HDR(0x0100, 1, 0, 0, 0), 9, 'w', 'w'),
	  NULL, WIRE_ERR_FORMERR },
	{ "truncated OPT",
	  PKT(HDR(0x0100, 1, 0, 0, 1), QNAME, QTAIL, 0, 0, 41, 0x04),
	  NULL, WIRE_ERR_FORMERR },
	{ "OPT rdata past the end",
	  PKT(HDR(0x0100, 1, 0, 0, 1), QNAME, QTAIL, 0, 0, 41, 0x04, 0xd0,
	      0, 0, 0, 0, 0, 8, 0, 10, 0, 4),
	  NULL, WIRE_ERR_FORMERR },
	{ "OPT option longer than rdata",
	  PKT(HDR(0x0100, 1, 0, 0, 1), QNAME, QTAIL, 0, 0, 41, 0x04, 0xd0,
	      0, 0, 0, 0, 0, 6, 0, 10, 0, 8, 1, 2),
	  NULL, WIRE_ERR_FORMERR },
	{ "OPT option header cut",
	  PKT(HDR(0x0100, 1, 0, 0, 1), QNAME, QTAIL, 0, 0, 41, 0x04, 0xd0,
	      0, 0, 0, 0, 0, 3, 0, 10, 0),
	  NULL, WIRE_ERR_FORMERR },
	{ "two OPTs",
	  PKT(HDR(0x0100, 1, 0, 0, 2), QNAME, QTAIL, OPT(0, 0), OPT(0, 0)),
	  NULL, WIRE_ERR_FORMERR },
	{ "OPT owner not root",
	  PKT(HDR(0x0100, 1, 0, 0, 1), QNAME, QTAIL, 1, 'a', 0, 0, 41,
	      0x04, 0xd0, 0, 0, 0, 0, 0, 0),
	  NULL, WIRE_ERR_FORMERR },
	{ "OPT owner a pointer to the qname",
	  PKT(HDR(0x0100, 1, 0, 0, 1), QNAME, QTAIL, 0xc0, 12, 0, 41,
	      0x04, 0xd0, 0, 0, 0, 0, 0, 0),
	  NULL, WIRE_ERR_FORMERR },
	{ "QDCOUNT 0", PKT(HDR(0x0100, 0, 0, 0, 0)),
	  NULL, WIRE_ERR_FORMERR },
	{ "QDCOUNT 2",
	  PKT(HDR(0x0100, 2, 0, 0, 0), QNAME, QTAIL, 0xc0, 12, QTAIL),
	  NULL, WIRE_ERR_FORMERR },
	{ "ANCOUNT 1",
	  PKT(HDR(0x0100, 1, 1, 0, 0), QNAME, QTAIL, 0xc0, 12, 0, 1, 0, 1,
	      0, 0, 0, 5, 0, 4, 192, 0, 2, 1),
	  NULL, WIRE_ERR_FORMERR },
	{ "NSCOUNT 1",
	  PKT(HDR(0x0100, 1, 0, 1, 0), QNAME, QTAIL, 0xc0, 12, 0, 1, 0, 1,
	      0, 0, 0, 5, 0, 4, 192, 0, 2, 1),
	  NULL, WIRE_ERR_FORMERR },
	{ "ARCOUNT 1, no record", PKT(HDR(0x0100, 1, 0, 0, 1), QNAME, QTAIL),
	  NULL, WIRE_ERR_FORMERR },
	{ "trailing garbage", PKT(HDR(0x0100, 1, 0, 0, 0), QNAME, QTAIL, 0),
	  NULL, WIRE_ERR_FORMERR },
	{ "trailing after OPT",
	  PKT(HDR(0x0100, 1, 0, 0, 1), QNAME, QTAIL, OPT(0, 0), 1, 2),
	  NULL, WIRE_ERR_FORMERR },
	{ "opcode 2", PKT(HDR(0x1100, 1, 0, 0, 0), QNAME, QTAIL),
	  NULL, WIRE_ERR_NOTIMP },
	{ "opcode 5, no question", PKT(HDR(0x2800, 0, 0, 0, 0)),
	  NULL, WIRE_ERR_NOTIMP },
	{ "EDNS version 1",
	  PKT(HDR(0x0100, 1, 0, 0, 1), QNAME, QTAIL, OPT(1, 0)),
	  NULL, WIRE_ERR_BADVERS },
	{ "label type 0x40",
	  PKT(HDR(0x0100, 1, 0, 0, 0), 0x41, 'a', 0, QTAIL),
	  NULL, WIRE_ERR_FORMERR },
	{ "label type 0x80",
	  PKT(HDR(0x0100, 1, 0, 0, 0), 0x80, 0, QTAIL),
	  NULL, WIRE_ERR_FORMERR },
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
	}

	/* 0 to 11 octets of an otherwise good query: no header, drop. */
	for (len = 0; len < WIRE_HDR_LEN; len++)
		assert_int_equal(wire_parse_query(good, len, &q), WIRE_DROP);
	/* And every cut inside the question is FORMERR. */
	for (len = WIRE_HDR_LEN; len < sizeof good; len++)
		assert_int_equal(wire_parse_query(good, len, &q),
		    WIRE_ERR_FORMERR);
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
	return p;
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

/* NOTIMP keeps the opcode of the query. */
static void
test_error_notimp(void **state)
{
	static const uint8_t pkt[] = { HDR(0x1000, 1, 0, 0, 0), QNAME,
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
	assert_int_equal(out[3], 0x80 | WIRE_NOTIMP);
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
	len = wire_make_query(out, sizeof out, &q, 0xbeef);
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
	assert_int_equal(wire_make_query(out, len - 1, &q, 1), 0);

	/* Without CD or DO from the client. */
	parse_ok(plain, sizeof plain, &q);
	len = wire_make_query(out, sizeof out, &q, 7);
	p = ldns_read(out, len);
	assert_true(ldns_pkt_rd(p));
	assert_false(ldns_pkt_cd(p));
	assert_false(ldns_pkt_edns_do(p));
	assert_int_equal(out[11], 1);	/* ldns hides OPT */
	ldns_pkt_free(p);
}

/*
 * Build an answer with ldns into buf: question "www.example.nl. IN <type>",
 * records given as text per section (NULL-terminated lists or NULL).
 */
static size_t
mkanswer(uint8_t *buf, size_t cap, uint16_t id, int rcode, const char *qtype,
    const char **an, const char **ns, const char **ar, int edns)
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
	snprintf(qs, sizeof qs, "www.example.nl. IN %s", qtype);
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
	return size;
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
	olen = wire_answer(out, sizeof out, msg, sc.len, sc.ttl_off, sc.nttl,
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
	olen = wire_answer(out, sizeof out, msg, sc.len, sc.ttl_off, sc.nttl,
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

	/* EDNS without DO: OPT present, DO clear. */
	client_query(&q, WIRE_RD, 1, 0);
	olen = wire_answer(out, sizeof out, msg, sc.len, sc.ttl_off, sc.nttl,
	    0, 0, &q, q.udp_size);
	p = ldns_read(out, olen);
	assert_true(ldns_pkt_edns(p));
	assert_false(ldns_pkt_edns_do(p));
	assert_int_equal(ldns_rr_ttl(ldns_rr_list_rr(ldns_pkt_answer(p), 0)),
	    300);
	ldns_pkt_free(p);

	/* Cap too small: 0. */
	assert_int_equal(wire_answer(out, sc.len, msg, sc.len, sc.ttl_off,
	    sc.nttl, 0, 0, &q, q.udp_size), 0);
	assert_int_equal(wire_answer(out, 20, msg, sc.len, sc.ttl_off,
	    sc.nttl, 0, 0, &q, 20), 0);
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
	olen = wire_answer(out, sizeof out, msg, sc.len, sc.ttl_off, sc.nttl,
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
	olen = wire_answer(out, sizeof out, msg, sc.len, sc.ttl_off, sc.nttl,
	    0, 0, &q, 512);
	assert_int_equal(olen, WIRE_HDR_LEN + QNAME_LEN + 4 + WIRE_OPT_LEN);
	p = ldns_read(out, olen);
	assert_true(ldns_pkt_tc(p));
	assert_true(ldns_pkt_edns_do(p));
	assert_int_equal(out[11], 1);	/* ldns hides OPT */
	ldns_pkt_free(p);

	/* Over TCP it all fits. */
	olen = wire_answer(out, sizeof out, msg, sc.len, sc.ttl_off, sc.nttl,
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
		cmocka_unit_test(test_scan_positive),
		cmocka_unit_test(test_scan_negative),
		cmocka_unit_test(test_scan_opt),
		cmocka_unit_test(test_scan_bad),
		cmocka_unit_test(test_scan_too_many),
		cmocka_unit_test(test_answer),
		cmocka_unit_test(test_answer_truncated),
		cmocka_unit_test(test_name_str),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
