/*
 * test_wire_scrub.c: upstream answers in wire.c: wire_scrub() keeping
 * only the question's chain, and wire_inspect() of SVCB and HTTPS
 * records. Kept apart from test_wire.c because these messages are built
 * from text records with ldns, and read back with ldns: each test says in
 * presentation format what goes in and what must come out.
 *
 * Every scrubbed message is also checked the way the daemon will use it:
 * ldns parses it (so every compression pointer leads to the right name),
 * the record iterator walks it to its last octet, wire_scan() takes it,
 * it is no longer than it was, and scrubbing it again drops nothing.
 */
#include <arpa/inet.h>
#include <sys/socket.h>

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

/* An upstream answer to build: question, rcode, DO, records by section. */
struct ans {
	const char		 *qname;
	ldns_rr_type		  qtype;
	ldns_pkt_rcode		  rcode;
	int			  do_bit;
	const char *const	 *an;
	const char *const	 *ns;
	const char *const	 *ar;
};

/* What must be left of it, and how many records go. */
struct want {
	const char *const	 *an;
	const char *const	 *ns;
	const char *const	 *ar;
	unsigned		  dropped;
};

static uint8_t	tmp[WIRE_MAX_UDP];

/* Push the text records rrs (NULL-ended, may be NULL) to a section. */
static void
push(ldns_pkt *pkt, ldns_pkt_section sec, const char *const *rrs)
{
	ldns_rr	*rr;

	for (; rrs != NULL && *rrs != NULL; rrs++) {
		if (ldns_rr_new_frm_str(&rr, *rrs, 300, NULL, NULL) !=
		    LDNS_STATUS_OK)
			fail_msg("bad record in test: %s", *rrs);
		assert_true(ldns_pkt_push_rr(pkt, sec, rr));
	}
}

/* The query a answers, parsed by wire_parse_query() into q. */
static void
mkq(const struct ans *a, struct wire_query *q)
{
	ldns_pkt	*pkt;
	uint8_t		*buf = NULL;
	size_t		 len = 0;

	pkt = ldns_pkt_query_new(ldns_dname_new_frm_str(a->qname), a->qtype,
	    LDNS_RR_CLASS_IN, LDNS_RD);
	assert_non_null(pkt);
	ldns_pkt_set_id(pkt, 0x1234);
	ldns_pkt_set_edns_udp_size(pkt, 1232);
	ldns_pkt_set_edns_do(pkt, a->do_bit);
	assert_int_equal(ldns_pkt2wire(&buf, pkt, &len), LDNS_STATUS_OK);
	ldns_pkt_free(pkt);
	assert_int_equal(wire_parse_query(buf, len, q), WIRE_OK);
	free(buf);
}

/* The answer a in wire form (compressed by ldns) into out; its length. */
static size_t
mkans(const struct ans *a, uint8_t *out, size_t cap)
{
	ldns_pkt	*pkt;
	uint8_t		*buf = NULL;
	size_t		 len = 0;

	pkt = ldns_pkt_query_new(ldns_dname_new_frm_str(a->qname), a->qtype,
	    LDNS_RR_CLASS_IN, LDNS_RD);
	assert_non_null(pkt);
	ldns_pkt_set_id(pkt, 0x1234);
	ldns_pkt_set_qr(pkt, true);
	ldns_pkt_set_ra(pkt, true);
	ldns_pkt_set_rcode(pkt, a->rcode);
	ldns_pkt_set_edns_udp_size(pkt, 1232);
	ldns_pkt_set_edns_do(pkt, a->do_bit);
	push(pkt, LDNS_SECTION_ANSWER, a->an);
	push(pkt, LDNS_SECTION_AUTHORITY, a->ns);
	push(pkt, LDNS_SECTION_ADDITIONAL, a->ar);
	assert_int_equal(ldns_pkt2wire(&buf, pkt, &len), LDNS_STATUS_OK);
	ldns_pkt_free(pkt);
	assert_true(len <= cap);
	memcpy(out, buf, len);
	free(buf);
	return (len);
}

/* The records of a section must be want's, in order (TTLs aside). */
static void
expect_section(const char *what, ldns_rr_list *got, const char *const *want)
{
	ldns_rr	*rr;
	char	*a, *b;
	size_t	 i, n = 0;

	while (want != NULL && want[n] != NULL)
		n++;
	if (ldns_rr_list_rr_count(got) != n) {
		a = ldns_rr_list2str(got);
		fail_msg("%s: %zu records, want %zu:\n%s", what,
		    ldns_rr_list_rr_count(got), n, a);
	}
	for (i = 0; i < n; i++) {
		assert_int_equal(ldns_rr_new_frm_str(&rr, want[i], 300, NULL,
		    NULL), LDNS_STATUS_OK);
		if (ldns_rr_compare(rr, ldns_rr_list_rr(got, i)) != 0) {
			a = ldns_rr2str(rr);
			b = ldns_rr2str(ldns_rr_list_rr(got, i));
			fail_msg("%s record %zu: want %sgot %s", what, i, a, b);
		}
		ldns_rr_free(rr);
	}
}

/*
 * The daemon's view of a scrubbed message msg (len octets, was orig_len):
 * the iterator walks it to the end, wire_scan() takes it, and scrubbing
 * again changes nothing.
 */
static void
check_usable(uint8_t *msg, size_t len, size_t orig_len,
    const struct wire_query *q)
{
	struct wire_rr		 rr;
	struct wire_scan	 sc;
	static uint8_t		 again[WIRE_MAX_UDP], copy[WIRE_MAX_UDP];
	unsigned		 dropped;
	size_t			 off;
	int			 r;

	assert_true(len > 0 && len <= orig_len);
	off = wire_skip_question(msg, len);
	assert_true(off > 0);
	wire_rr_begin(&rr, msg, len, off);
	while ((r = wire_rr_next(&rr)) == 1)
		;
	assert_int_equal(r, 0);
	assert_int_equal(rr.next, len);

	memcpy(again, msg, len);
	assert_int_equal(wire_scrub(again, len, q, tmp, &dropped), len);
	assert_int_equal(dropped, 0);
	assert_memory_equal(again, msg, len);

	memcpy(copy, msg, len);
	assert_int_equal(wire_scan(copy, len, &sc), 0);
}

/*
 * The records of msg (len octets) and of the same message scrubbed by
 * wire_scrub_rewrite() (rewritten, rlen octets) are the same, read by
 * ldns with their names in full, and so are their headers (counts
 * included) and questions: whether wire_scrub() cut it in place or
 * wrote it anew makes no difference.
 */
static void
same_as_rewrite(const uint8_t *msg, size_t len, const uint8_t *rewritten,
    size_t rlen)
{
	ldns_pkt	*a, *b;
	size_t		 qend;

	assert_true(rlen > 0);
	qend = wire_skip_question(msg, len);
	assert_int_equal(wire_skip_question(rewritten, rlen), qend);
	assert_memory_equal(msg, rewritten, qend);
	assert_int_equal(ldns_wire2pkt(&a, msg, len), LDNS_STATUS_OK);
	assert_int_equal(ldns_wire2pkt(&b, rewritten, rlen), LDNS_STATUS_OK);
	assert_int_equal(ldns_rr_list_compare(ldns_pkt_answer(a),
	    ldns_pkt_answer(b)), 0);
	assert_int_equal(ldns_rr_list_compare(ldns_pkt_authority(a),
	    ldns_pkt_authority(b)), 0);
	assert_int_equal(ldns_rr_list_compare(ldns_pkt_additional(a),
	    ldns_pkt_additional(b)), 0);
	assert_int_equal(ldns_pkt_edns(a), ldns_pkt_edns(b));
	assert_int_equal(ldns_pkt_edns_udp_size(a), ldns_pkt_edns_udp_size(b));
	assert_int_equal(ldns_pkt_edns_do(a), ldns_pkt_edns_do(b));
	ldns_pkt_free(a);
	ldns_pkt_free(b);
}

/*
 * Build a, scrub it as the forwarder does, and check what is left
 * against w, and against what wire_scrub_rewrite() leaves; the scrubbed
 * message goes to out (if not NULL), its length is returned.
 */
static size_t
scrub(const struct ans *a, const struct want *w, uint8_t *out)
{
	struct wire_query	 q;
	ldns_pkt		*pkt;
	uint8_t			 msg[8192], rw[8192];
	size_t			 len, n, rn;
	unsigned		 dropped = 12345, rdropped = 12345;

	mkq(a, &q);
	len = mkans(a, msg, sizeof msg);
	assert_int_equal(wire_check_answer(msg, len, &q, 0x1234), 0);
	memcpy(rw, msg, len);
	n = wire_scrub(msg, len, &q, tmp, &dropped);
	assert_true(n > 0);
	assert_int_equal(dropped, w->dropped);
	if (w->dropped == 0)
		assert_int_equal(n, len);
	rn = wire_scrub_rewrite(rw, len, &q, tmp, &rdropped);
	assert_int_equal(rdropped, dropped);
	same_as_rewrite(msg, n, rw, rn);

	if (ldns_wire2pkt(&pkt, msg, n) != LDNS_STATUS_OK)
		fail_msg("ldns cannot read the scrubbed message");
	assert_int_equal(ldns_pkt_id(pkt), 0x1234);
	assert_int_equal(ldns_pkt_get_rcode(pkt), a->rcode);
	assert_int_equal(ldns_pkt_qdcount(pkt), 1);
	/* The upstream's OPT stays, with its DO bit. */
	assert_true(ldns_pkt_edns(pkt));
	assert_int_equal(ldns_pkt_edns_do(pkt), a->do_bit);
	expect_section("answer", ldns_pkt_answer(pkt), w->an);
	expect_section("authority", ldns_pkt_authority(pkt), w->ns);
	expect_section("additional", ldns_pkt_additional(pkt), w->ar);
	ldns_pkt_free(pkt);

	check_usable(msg, n, len, &q);
	if (out != NULL)
		memcpy(out, msg, n);
	return (n);
}

#define RRS(...)	((const char *const []){ __VA_ARGS__, NULL })

/* An answer of the question's records only is left as it is. */
static void
test_scrub_clean(void **state)
{
	const struct ans a = { "www.example.nl.", LDNS_RR_TYPE_A,
	    LDNS_RCODE_NOERROR, 0,
	    RRS("www.example.nl. 300 IN A 192.0.2.1",
		"www.example.nl. 300 IN A 192.0.2.2"), NULL, NULL };
	const struct want w = { a.an, NULL, NULL, 0 };

	(void)state;
	scrub(&a, &w, NULL);
}

/* An answer record about another name goes, before and after ours. */
static void
test_scrub_unrelated_answer(void **state)
{
	const struct ans a = { "www.example.nl.", LDNS_RR_TYPE_A,
	    LDNS_RCODE_NOERROR, 0,
	    RRS("bank.example.com. 86400 IN A 203.0.113.66",
		"www.example.nl. 300 IN A 192.0.2.1",
		"www.example.nl.bank.example.com. 300 IN A 203.0.113.66",
		"example.nl. 300 IN A 203.0.113.66"), NULL, NULL };
	const struct want w = {
	    RRS("www.example.nl. 300 IN A 192.0.2.1"), NULL, NULL, 3 };

	(void)state;
	scrub(&a, &w, NULL);
}

/* A record of our name but another type or class goes too. */
static void
test_scrub_other_type(void **state)
{
	const struct ans a = { "www.example.nl.", LDNS_RR_TYPE_AAAA,
	    LDNS_RCODE_NOERROR, 0,
	    RRS("www.example.nl. 300 IN A 192.0.2.1",
		"www.example.nl. 300 IN AAAA 2001:db8::1",
		"www.example.nl. 300 CH AAAA 2001:db8::66",
		"www.example.nl. 300 IN TXT \"hello\""), NULL, NULL };
	const struct want w = {
	    RRS("www.example.nl. 300 IN AAAA 2001:db8::1"), NULL, NULL, 3 };

	(void)state;
	scrub(&a, &w, NULL);
}

/*
 * Poisoned authority and glue: NS records (ours and someone else's) and
 * their addresses go from a positive answer; so does an additional
 * record about another name, or about ours.
 */
static void
test_scrub_authority_glue(void **state)
{
	const struct ans a = { "www.example.nl.", LDNS_RR_TYPE_A,
	    LDNS_RCODE_NOERROR, 0,
	    RRS("www.example.nl. 300 IN A 192.0.2.1"),
	    RRS("example.nl. 86400 IN NS ns1.example.nl.",
		"bank.example.com. 86400 IN NS ns.evil.example.",
		"com. 86400 IN NS ns.evil.example."),
	    RRS("ns1.example.nl. 86400 IN A 203.0.113.53",
		"ns.evil.example. 86400 IN A 203.0.113.66",
		"www.bank.example.com. 86400 IN A 203.0.113.66",
		"www.example.nl. 300 IN AAAA 2001:db8::66") };
	const struct want w = {
	    RRS("www.example.nl. 300 IN A 192.0.2.1"), NULL, NULL, 7 };

	(void)state;
	scrub(&a, &w, NULL);
}

/* An MX answer's "helpful" address of the exchanger goes. */
static void
test_scrub_additional_other(void **state)
{
	const struct ans a = { "example.nl.", LDNS_RR_TYPE_MX,
	    LDNS_RCODE_NOERROR, 0,
	    RRS("example.nl. 300 IN MX 10 mail.example.nl."), NULL,
	    RRS("mail.example.nl. 300 IN A 203.0.113.25") };
	const struct want w = { a.an, NULL, NULL, 1 };

	(void)state;
	scrub(&a, &w, NULL);
}

/*
 * A CNAME chain in any order is followed from the question's name;
 * CNAMEs and records beside it go, and so does a second CNAME of a name
 * of the chain (only the first is its link).
 */
static void
test_scrub_chain_order(void **state)
{
	const struct ans a = { "www.example.nl.", LDNS_RR_TYPE_A,
	    LDNS_RCODE_NOERROR, 0,
	    RRS("edge.cdn.example.net. 60 IN A 192.0.2.7",
		"other.example.nl. 300 IN CNAME edge.cdn.example.net.",
		"web.example.nl. 300 IN CNAME edge.cdn.example.net.",
		"www.example.nl. 300 IN CNAME web.example.nl.",
		"www.example.nl. 300 IN CNAME evil.example.",
		"evil.example. 300 IN A 203.0.113.66",
		"web.example.nl. 300 IN A 203.0.113.67"), NULL, NULL };
	const struct want w = {
	    RRS("edge.cdn.example.net. 60 IN A 192.0.2.7",
		"web.example.nl. 300 IN CNAME edge.cdn.example.net.",
		"www.example.nl. 300 IN CNAME web.example.nl."), NULL, NULL, 4 };

	(void)state;
	scrub(&a, &w, NULL);
}

/* Names are compared without regard to case, and kept as sent. */
static void
test_scrub_case(void **state)
{
	const struct ans a = { "WWW.Example.NL.", LDNS_RR_TYPE_A,
	    LDNS_RCODE_NOERROR, 0,
	    RRS("www.EXAMPLE.nl. 300 IN CNAME Web.Example.NL.",
		"WEB.example.nl. 300 IN A 192.0.2.1",
		"other.example.nl. 300 IN A 203.0.113.66"), NULL, NULL };
	const struct want w = {
	    RRS("www.EXAMPLE.nl. 300 IN CNAME Web.Example.NL.",
		"WEB.example.nl. 300 IN A 192.0.2.1"), NULL, NULL, 1 };

	(void)state;
	scrub(&a, &w, NULL);
}

/*
 * A record owned by a pointer to the question's name is of that name,
 * whatever the query asked: the scrub does not take the message's
 * question for the query's (wire_check_answer() refuses such a message
 * first; the scrub does not count on it). The same question in other
 * case (0x20) is the query's, and its record stays.
 */
static void
test_scrub_question_pointer(void **state)
{
	const struct ans asked = { "www.example.nl.", LDNS_RR_TYPE_A,
	    LDNS_RCODE_NOERROR, 0, NULL, NULL, NULL };
	const struct ans other = { "bank.example.com.", LDNS_RR_TYPE_A,
	    LDNS_RCODE_NOERROR, 0,
	    RRS("bank.example.com. 300 IN A 203.0.113.66"), NULL, NULL };
	const struct ans mixed = { "wWw.ExamPle.nL.", LDNS_RR_TYPE_A,
	    LDNS_RCODE_NOERROR, 0,
	    RRS("wWw.ExamPle.nL. 300 IN A 192.0.2.1"), NULL, NULL };
	struct wire_query	q;
	uint8_t			msg[512];
	size_t			len, off;
	unsigned		dropped;

	(void)state;
	mkq(&asked, &q);

	len = mkans(&other, msg, sizeof msg);
	off = wire_skip_question(msg, len);
	/* ldns wrote the owner as a pointer to the question. */
	assert_int_equal(msg[off], 0xc0);
	assert_int_equal(msg[off + 1], 12);
	/* The A record (16 octets) goes; the OPT stays. */
	assert_int_equal(wire_scrub(msg, len, &q, tmp, &dropped), len - 16);
	assert_int_equal(dropped, 1);
	assert_int_equal(msg[7], 0);		/* ANCOUNT */

	len = mkans(&mixed, msg, sizeof msg);
	off = wire_skip_question(msg, len);
	assert_int_equal(msg[off], 0xc0);
	assert_int_equal(msg[off + 1], 12);
	assert_int_equal(wire_scrub(msg, len, &q, tmp, &dropped), len);
	assert_int_equal(dropped, 0);
}

/* A loop ends the chain; its links stay. */
static void
test_scrub_loop(void **state)
{
	const struct ans a = { "a.example.nl.", LDNS_RR_TYPE_A,
	    LDNS_RCODE_NOERROR, 0,
	    RRS("a.example.nl. 300 IN CNAME b.example.nl.",
		"b.example.nl. 300 IN CNAME a.example.nl.",
		"c.example.nl. 300 IN A 203.0.113.66"), NULL, NULL };
	const struct want w = {
	    RRS("a.example.nl. 300 IN CNAME b.example.nl.",
		"b.example.nl. 300 IN CNAME a.example.nl."), NULL, NULL, 1 };

	(void)state;
	scrub(&a, &w, NULL);
}

/*
 * A chain of 20 aliases: the first WIRE_MAX_CHAIN names are followed
 * and their links kept (the last one's too); past them nothing stays.
 */
static void
test_scrub_long_chain(void **state)
{
	char		 an[22][64], keep[WIRE_MAX_CHAIN + 1][64];
	const char	*anp[22], *keepp[WIRE_MAX_CHAIN + 1];
	struct ans	 a = { "n0.example.nl.", LDNS_RR_TYPE_A,
	    LDNS_RCODE_NOERROR, 0, anp, NULL, NULL };
	struct want	 w = { keepp, NULL, NULL, 0 };
	size_t		 i;

	(void)state;
	for (i = 0; i < 20; i++) {
		snprintf(an[i], sizeof an[i], "n%zu.example.nl. 300 IN "
		    "CNAME n%zu.example.nl.", i, i + 1);
		anp[i] = an[i];
		if (i < WIRE_MAX_CHAIN) {
			memcpy(keep[i], an[i], sizeof keep[i]);
			keepp[i] = keep[i];
		}
	}
	snprintf(an[20], sizeof an[20], "n20.example.nl. 300 IN A 192.0.2.1");
	anp[20] = an[20];
	anp[21] = NULL;
	keepp[WIRE_MAX_CHAIN] = NULL;
	w.dropped = 21 - WIRE_MAX_CHAIN;
	scrub(&a, &w, NULL);
}

/* A question for a CNAME gets that CNAME, not its target's records. */
static void
test_scrub_qtype_cname(void **state)
{
	const struct ans a = { "www.example.nl.", LDNS_RR_TYPE_CNAME,
	    LDNS_RCODE_NOERROR, 0,
	    RRS("www.example.nl. 300 IN CNAME web.example.nl.",
		"web.example.nl. 300 IN CNAME edge.example.net.",
		"web.example.nl. 300 IN A 192.0.2.1"), NULL, NULL };
	const struct want w = {
	    RRS("www.example.nl. 300 IN CNAME web.example.nl."), NULL, NULL,
	    2 };

	(void)state;
	scrub(&a, &w, NULL);
}

/* ANY: every type at the name. */
static void
test_scrub_any(void **state)
{
	const struct ans a = { "example.nl.", LDNS_RR_TYPE_ANY,
	    LDNS_RCODE_NOERROR, 0,
	    RRS("example.nl. 300 IN A 192.0.2.1",
		"example.nl. 300 IN MX 10 mail.example.nl.",
		"example.nl. 300 IN TXT \"v=spf1 -all\"",
		"mail.example.nl. 300 IN A 192.0.2.25"), NULL, NULL };
	const struct want w = {
	    RRS("example.nl. 300 IN A 192.0.2.1",
		"example.nl. 300 IN MX 10 mail.example.nl.",
		"example.nl. 300 IN TXT \"v=spf1 -all\""), NULL, NULL, 1 };

	(void)state;
	scrub(&a, &w, NULL);
}

/*
 * A negative answer keeps its SOA when the SOA's owner is the last name
 * of the chain or above it; an SOA of another zone, NS records and
 * anything else go.
 */
static void
test_scrub_negative_soa(void **state)
{
	const struct ans nx = { "nx.example.nl.", LDNS_RR_TYPE_A,
	    LDNS_RCODE_NXDOMAIN, 0, NULL,
	    RRS("bank.example.com. 86400 IN SOA ns.evil. h.evil. 1 2 3 4 86400",
		"example.nl. 3600 IN SOA ns.example.nl. h.example.nl. 1 3600 "
		"600 86400 60",
		"example.nl. 3600 IN SOA ns.example.nl. h.example.nl. 2 3600 "
		"600 86400 60",
		"example.nl. 86400 IN NS ns.example.nl."),
	    RRS("ns.example.nl. 86400 IN A 203.0.113.53") };
	const struct want wnx = { NULL,
	    RRS("example.nl. 3600 IN SOA ns.example.nl. h.example.nl. 1 3600 "
		"600 86400 60"), NULL, 4 };
	/* NODATA at the end of a chain into another zone. */
	const struct ans nodata = { "www.example.nl.", LDNS_RR_TYPE_AAAA,
	    LDNS_RCODE_NOERROR, 0,
	    RRS("www.example.nl. 300 IN CNAME v4only.example.net."),
	    RRS("example.nl. 3600 IN SOA ns.example.nl. h.example.nl. 1 3600 "
		"600 86400 60",
		"example.net. 3600 IN SOA ns.example.net. h.example.net. 1 3600 "
		"600 86400 60"), NULL };
	const struct want wnodata = { nodata.an,
	    RRS("example.net. 3600 IN SOA ns.example.net. h.example.net. 1 "
		"3600 600 86400 60"), NULL, 1 };
	/* A positive answer has no use for an SOA. */
	const struct ans pos = { "www.example.nl.", LDNS_RR_TYPE_A,
	    LDNS_RCODE_NOERROR, 0,
	    RRS("www.example.nl. 300 IN A 192.0.2.1"),
	    RRS("example.nl. 3600 IN SOA ns.example.nl. h.example.nl. 1 3600 "
		"600 86400 60"), NULL };
	const struct want wpos = { pos.an, NULL, NULL, 1 };

	(void)state;
	scrub(&nx, &wnx, NULL);
	scrub(&nodata, &wnodata, NULL);
	scrub(&pos, &wpos, NULL);
}

/*
 * DO=1: the RRSIGs of what is kept stay (the data's, each CNAME link's);
 * RRSIGs of other names or types go. Without DO they all go.
 */
static void
test_scrub_dnssec_positive(void **state)
{
#define SIG(owner, type, labels, signer) owner " 300 IN RRSIG " type \
	" 8 " labels " 300 20300101000000 20200101000000 12345 " signer \
	" AwEAAaOSk2mSv8kNm4ywCTjEmGh3fmpgRKS0Rf4bkfFyAYgwf9e48+Hf"
	const struct ans a = { "www.example.nl.", LDNS_RR_TYPE_A,
	    LDNS_RCODE_NOERROR, 1,
	    RRS("www.example.nl. 300 IN CNAME web.example.nl.",
		SIG("www.example.nl.", "CNAME", "3", "example.nl."),
		SIG("www.example.nl.", "A", "3", "example.nl."),
		"web.example.nl. 300 IN A 192.0.2.1",
		SIG("web.example.nl.", "A", "3", "example.nl."),
		SIG("web.example.nl.", "AAAA", "3", "example.nl."),
		SIG("evil.example.", "A", "2", "example.")),
	    RRS("example.nl. 300 IN NS ns.example.nl.",
		SIG("example.nl.", "NS", "2", "example.nl."),
		"nl. 300 IN NSEC a.nl. NS SOA RRSIG NSEC DNSKEY"), NULL };
	const struct want w = {
	    RRS("www.example.nl. 300 IN CNAME web.example.nl.",
		SIG("www.example.nl.", "CNAME", "3", "example.nl."),
		"web.example.nl. 300 IN A 192.0.2.1",
		SIG("web.example.nl.", "A", "3", "example.nl.")), NULL, NULL,
	    6 };
	struct ans	 a0 = a;
	const struct want w0 = {
	    RRS("www.example.nl. 300 IN CNAME web.example.nl.",
		"web.example.nl. 300 IN A 192.0.2.1"), NULL, NULL, 8 };

	(void)state;
	scrub(&a, &w, NULL);
	a0.do_bit = 0;
	scrub(&a0, &w0, NULL);
}

/*
 * DO=1, negative: the SOA, its RRSIG and the NSEC and NSEC3 records of
 * its zone (with their RRSIGs) stay; another zone's proof goes.
 */
static void
test_scrub_dnssec_negative(void **state)
{
	const struct ans a = { "nx.example.nl.", LDNS_RR_TYPE_A,
	    LDNS_RCODE_NXDOMAIN, 1, NULL,
	    RRS("example.nl. 3600 IN SOA ns.example.nl. h.example.nl. 1 3600 "
		"600 86400 60",
		SIG("example.nl.", "SOA", "2", "example.nl."),
		SIG("example.nl.", "NS", "2", "example.nl."),
		"mail.example.nl. 60 IN NSEC www.example.nl. A RRSIG NSEC",
		SIG("mail.example.nl.", "NSEC", "3", "example.nl."),
		"example.nl. 60 IN NSEC a.example.nl. NS SOA RRSIG NSEC DNSKEY",
		SIG("example.nl.", "NSEC", "2", "example.nl."),
		"example.com. 60 IN NSEC zz.example.com. A RRSIG NSEC",
		SIG("example.com.", "NSEC", "2", "example.com."),
		"example.nl. 86400 IN NS ns.example.nl."), NULL };
	const struct want w = { NULL,
	    RRS("example.nl. 3600 IN SOA ns.example.nl. h.example.nl. 1 3600 "
		"600 86400 60",
		SIG("example.nl.", "SOA", "2", "example.nl."),
		"mail.example.nl. 60 IN NSEC www.example.nl. A RRSIG NSEC",
		SIG("mail.example.nl.", "NSEC", "3", "example.nl."),
		"example.nl. 60 IN NSEC a.example.nl. NS SOA RRSIG NSEC DNSKEY",
		SIG("example.nl.", "NSEC", "2", "example.nl.")), NULL, 4 };
	/* NSEC3: hashed owners under the zone. */
	const struct ans a3 = { "www.example.nl.", LDNS_RR_TYPE_AAAA,
	    LDNS_RCODE_NOERROR, 1, NULL,
	    RRS("example.nl. 3600 IN SOA ns.example.nl. h.example.nl. 1 3600 "
		"600 86400 60",
		"2vptu5timamqttgl4luu9kg21e0aor3s.example.nl. 60 IN NSEC3 1 0 "
		"10 aabbccdd 2vptu5timamqttgl4luu9kg21e0aor3t A RRSIG",
		SIG("2vptu5timamqttgl4luu9kg21e0aor3s.example.nl.", "NSEC3",
		    "3", "example.nl."),
		"2vptu5timamqttgl4luu9kg21e0aor3s.example.com. 60 IN NSEC3 1 0 "
		"10 aabbccdd 2vptu5timamqttgl4luu9kg21e0aor3t A RRSIG"), NULL };
	const struct want w3 = { NULL,
	    RRS("example.nl. 3600 IN SOA ns.example.nl. h.example.nl. 1 3600 "
		"600 86400 60",
		"2vptu5timamqttgl4luu9kg21e0aor3s.example.nl. 60 IN NSEC3 1 0 "
		"10 aabbccdd 2vptu5timamqttgl4luu9kg21e0aor3t A RRSIG",
		SIG("2vptu5timamqttgl4luu9kg21e0aor3s.example.nl.", "NSEC3",
		    "3", "example.nl.")), NULL, 1 };
	/* Without DO, only the SOA. */
	struct ans	 a0 = a;
	const struct want w0 = { NULL,
	    RRS("example.nl. 3600 IN SOA ns.example.nl. h.example.nl. 1 3600 "
		"600 86400 60"), NULL, 9 };

	(void)state;
	scrub(&a, &w, NULL);
	scrub(&a3, &w3, NULL);
	a0.do_bit = 0;
	scrub(&a0, &w0, NULL);
}

/*
 * DO=1, a wildcard expansion (the RRSIG has fewer labels than its owner):
 * the NSEC that proves no closer name exists stays with a positive
 * answer; without the wildcard it would go.
 */
static void
test_scrub_dnssec_wildcard(void **state)
{
	const struct ans a = { "x.wild.example.nl.", LDNS_RR_TYPE_A,
	    LDNS_RCODE_NOERROR, 1,
	    RRS("x.wild.example.nl. 300 IN A 192.0.2.1",
		SIG("x.wild.example.nl.", "A", "3", "example.nl.")),
	    RRS("example.nl. 300 IN NS ns.example.nl.",
		"w.example.nl. 60 IN NSEC y.wild.example.nl. A RRSIG NSEC",
		SIG("w.example.nl.", "NSEC", "3", "example.nl."),
		"a.example.com. 60 IN NSEC b.example.com. A RRSIG NSEC"), NULL };
	const struct want w = { a.an,
	    RRS("w.example.nl. 60 IN NSEC y.wild.example.nl. A RRSIG NSEC",
		SIG("w.example.nl.", "NSEC", "3", "example.nl.")), NULL, 2 };
	struct ans	 plain = a;
	const struct want wplain = {
	    RRS("x.wild.example.nl. 300 IN A 192.0.2.1",
		SIG("x.wild.example.nl.", "A", "4", "example.nl.")), NULL,
	    NULL, 4 };

	/* A signer that is not the owner's zone vouches for nothing. */
	const struct ans foreign = { "x.wild.example.nl.", LDNS_RR_TYPE_A,
	    LDNS_RCODE_NOERROR, 1,
	    RRS("x.wild.example.nl. 300 IN A 192.0.2.1",
		SIG("x.wild.example.nl.", "A", "2", "bank.example.")),
	    RRS("a.bank.example. 60 IN NSEC z.bank.example. A RRSIG NSEC"),
	    NULL };
	const struct want wforeign = { foreign.an, NULL, NULL, 1 };

	(void)state;
	scrub(&a, &w, NULL);
	plain.an = wplain.an;
	scrub(&plain, &wplain, NULL);
	scrub(&foreign, &wforeign, NULL);
#undef SIG
}

/*
 * DNAME (RFC 6672): kept with the CNAME it synthesises; a DNAME that
 * does not agree with the CNAME goes; a DNAME alone is followed.
 */
static void
test_scrub_dname(void **state)
{
	const struct ans a = { "www.old.example.", LDNS_RR_TYPE_A,
	    LDNS_RCODE_NOERROR, 0,
	    RRS("old.example. 300 IN DNAME new.example.",
		"old.example. 300 IN DNAME evil.example.",
		"www.old.example. 300 IN CNAME www.new.example.",
		"www.new.example. 300 IN A 192.0.2.1",
		"www.evil.example. 300 IN A 203.0.113.66"), NULL, NULL };
	const struct want w = {
	    RRS("old.example. 300 IN DNAME new.example.",
		"www.old.example. 300 IN CNAME www.new.example.",
		"www.new.example. 300 IN A 192.0.2.1"), NULL, NULL, 2 };
	const struct ans alone = { "www.old.example.", LDNS_RR_TYPE_A,
	    LDNS_RCODE_NOERROR, 0,
	    RRS("other.test. 300 IN DNAME evil.test.",
		"old.example. 300 IN DNAME new.example.",
		"www.new.example. 300 IN A 192.0.2.1",
		"www.evil.test. 300 IN A 203.0.113.66"), NULL, NULL };
	const struct want walone = {
	    RRS("old.example. 300 IN DNAME new.example.",
		"www.new.example. 300 IN A 192.0.2.1"), NULL, NULL, 2 };
	/* Without a CNAME, the DNAME closest to the name applies. */
	const struct ans close = { "www.a.b.example.", LDNS_RR_TYPE_A,
	    LDNS_RCODE_NOERROR, 0,
	    RRS("b.example. 300 IN DNAME x.example.",
		"a.b.example. 300 IN DNAME y.example.",
		"www.a.x.example. 300 IN A 203.0.113.66",
		"www.y.example. 300 IN A 192.0.2.1"), NULL, NULL };
	const struct want wclose = {
	    RRS("a.b.example. 300 IN DNAME y.example.",
		"www.y.example. 300 IN A 192.0.2.1"), NULL, NULL, 2 };
	/* A DNAME at the name itself does not apply to it. */
	const struct ans self = { "old.example.", LDNS_RR_TYPE_A,
	    LDNS_RCODE_NOERROR, 0,
	    RRS("old.example. 300 IN DNAME new.example.",
		"old.example. 300 IN A 192.0.2.1"), NULL, NULL };
	const struct want wself = {
	    RRS("old.example. 300 IN A 192.0.2.1"), NULL, NULL, 1 };

	(void)state;
	scrub(&a, &w, NULL);
	scrub(&alone, &walone, NULL);
	scrub(&close, &wclose, NULL);
	scrub(&self, &wself, NULL);
}

/*
 * Compression: ldns points the CNAME's target into the record before it
 * (about another name, so dropped); the kept CNAME must carry the name in
 * full, and the A record after it must still point at the right place.
 */
static void
test_scrub_pointers(void **state)
{
	const struct ans a = { "www.example.nl.", LDNS_RR_TYPE_A,
	    LDNS_RCODE_NOERROR, 0,
	    RRS("other.example.com. 300 IN A 203.0.113.66",
		"www.example.nl. 300 IN CNAME cdn.other.example.com.",
		"x.other.example.com. 300 IN A 203.0.113.67",
		"cdn.other.example.com. 300 IN A 192.0.2.1",
		"cdn.other.example.com. 300 IN A 192.0.2.2"), NULL, NULL };
	const struct want w = {
	    RRS("www.example.nl. 300 IN CNAME cdn.other.example.com.",
		"cdn.other.example.com. 300 IN A 192.0.2.1",
		"cdn.other.example.com. 300 IN A 192.0.2.2"), NULL, NULL, 2 };
	const struct ans fresh = { a.qname, a.qtype, a.rcode, a.do_bit, w.an,
	    NULL, NULL };
	uint8_t	out[1024];
	size_t	n;

	(void)state;
	n = scrub(&a, &w, out);
	/* As compressed as ldns writes the records kept anew. */
	assert_true(n <= mkans(&fresh, out, sizeof out));
}

/*
 * Raw messages for the cut in place, each with its question
 * www.example.nl. A IN (ID 0x1234, QR RD RA) and records built one by one.
 */
struct raw {
	uint8_t		b[1024];
	size_t		len;
};

/* The same with a question of type qtype. */
static void
raw_startq(struct raw *m, uint16_t qtype, unsigned an, unsigned ns,
    unsigned ar)
{
	static const uint8_t hq[] = { 0x12, 0x34, 0x81, 0x80, 0, 1, 0, 0,
		0, 0, 0, 0, 3, 'w', 'w', 'w', 7, 'e', 'x', 'a', 'm', 'p',
		'l', 'e', 2, 'n', 'l', 0, 0, 1, 0, 1 };

	memcpy(m->b, hq, sizeof hq);
	m->b[7] = (uint8_t)an;
	m->b[9] = (uint8_t)ns;
	m->b[11] = (uint8_t)ar;
	m->b[28] = (uint8_t)(qtype >> 8);
	m->b[29] = (uint8_t)qtype;
	m->len = sizeof hq;
}

static void
raw_start(struct raw *m, unsigned an, unsigned ns, unsigned ar)
{
	raw_startq(m, WIRE_TYPE_A, an, ns, ar);
}

static void
raw_put(struct raw *m, const void *p, size_t n)
{
	assert_true(m->len + n <= sizeof m->b);
	memcpy(m->b + m->len, p, n);
	m->len += n;
}

/* A record: owner octets, type, class, TTL 300, rdata. Its offset. */
static size_t
raw_rr(struct raw *m, const void *owner, size_t olen, uint16_t type,
    uint16_t class, const void *rdata, uint16_t rdlen)
{
	size_t	at = m->len;
	uint8_t	fixed[10] = { (uint8_t)(type >> 8), (uint8_t)type,
		(uint8_t)(class >> 8), (uint8_t)class, 0, 0, 1, 44,
		(uint8_t)(rdlen >> 8), (uint8_t)rdlen };

	raw_put(m, owner, olen);
	raw_put(m, fixed, sizeof fixed);
	raw_put(m, rdata, rdlen);
	return (at);
}

/*
 * Scrub m for its question both ways: the result (length n) must be
 * what wire_scrub_rewrite() gives, record for record, want_n long when
 * want_n is not 0 and with counts an, ns and ar. The scrubbed message
 * stays in m.
 */
static size_t
raw_scrub(struct raw *m, unsigned drop, size_t want_n, unsigned an,
    unsigned ns, unsigned ar)
{
	const struct ans a = { "www.example.nl.", LDNS_RR_TYPE_A,
	    LDNS_RCODE_NOERROR, 0, NULL, NULL, NULL };
	struct wire_query	 q;
	uint8_t			 rw[1024];
	unsigned		 dropped = 9, rdropped = 9;
	size_t			 n, rn;

	mkq(&a, &q);
	memcpy(rw, m->b, m->len);
	n = wire_scrub(m->b, m->len, &q, tmp, &dropped);
	rn = wire_scrub_rewrite(rw, m->len, &q, tmp, &rdropped);
	assert_int_equal(dropped, drop);
	assert_int_equal(rdropped, drop);
	assert_true(n > 0 && n <= m->len);
	if (want_n != 0)
		assert_int_equal(n, want_n);
	assert_int_equal(m->b[7], an);
	assert_int_equal(m->b[9], ns);
	assert_int_equal(m->b[11], ar);
	assert_int_equal(m->b[6] | m->b[8] | m->b[10], 0);
	same_as_rewrite(m->b, n, rw, rn);
	m->len = n;
	return (n);
}

/*
 * The cut in place against hostile shapes of what follows the records
 * kept: two OPTs (both move up, in order, bytes as they were), an OPT in
 * the answer section after a record that goes (it stays an answer
 * record: the counts follow the sections), an OPT not owned by the root
 * (a pointer to the question: written anew, not moved), a record kept
 * after one that goes (written anew), records that go after the OPT,
 * and an owner that points at a kept owner that points at the question.
 * Each gives what the rewrite gives.
 */
static void
test_scrub_cut_shapes(void **state)
{
	static const uint8_t qp[] = { 0xc0, 12 }, root[] = { 0 };
	static const uint8_t ip1[] = { 192, 0, 2, 1 }, ip2[] = { 192, 0, 2,
		2 }, evil[] = { 203, 0, 113, 66 };
	static const uint8_t other[] = { 4, 'e', 'v', 'i', 'l', 0 };
	static const uint8_t opt1[] = { 0, 10, 0, 4, 1, 2, 3, 4 };
	static const uint8_t opt2[] = { 0, 12, 0, 2, 0, 0 };
	struct raw	m;
	uint8_t		want[1024];
	size_t		a1, o1, o2, end1, wlen;
	uint8_t		own2[2];

	(void)state;

	/* A, A owned by a pointer to the first A's owner; NS; two OPTs. */
	raw_start(&m, 2, 1, 2);
	a1 = raw_rr(&m, qp, 2, 1, 1, ip1, 4);
	own2[0] = 0xc0;
	own2[1] = (uint8_t)a1;
	raw_rr(&m, own2, 2, 1, 1, ip2, 4);
	end1 = m.len;
	raw_rr(&m, other, sizeof other, 2, 1, other, sizeof other);
	o1 = raw_rr(&m, root, 1, WIRE_TYPE_OPT, 1232, opt1, sizeof opt1);
	o2 = raw_rr(&m, root, 1, WIRE_TYPE_OPT, 1232, opt2, sizeof opt2);
	memcpy(want, m.b, end1);
	memcpy(want + end1, m.b + o1, m.len - o1);
	wlen = end1 + m.len - o1;
	want[9] = 0;
	want[11] = 2;
	(void)o2;
	raw_scrub(&m, 1, wlen, 2, 0, 2);
	assert_memory_equal(m.b, want, wlen);

	/* A; another name's A; an OPT in the answer section; NS. */
	raw_start(&m, 3, 1, 0);
	raw_rr(&m, qp, 2, 1, 1, ip1, 4);
	end1 = m.len;
	raw_rr(&m, other, sizeof other, 1, 1, evil, 4);
	o1 = raw_rr(&m, root, 1, WIRE_TYPE_OPT, 1232, opt1, sizeof opt1);
	raw_rr(&m, qp, 2, 2, 1, other, sizeof other);
	memcpy(want, m.b, end1);
	memcpy(want + end1, m.b + o1, 11 + sizeof opt1);
	wlen = end1 + 11 + sizeof opt1;
	want[7] = 2;
	want[9] = 0;
	raw_scrub(&m, 2, wlen, 2, 0, 0);
	assert_memory_equal(m.b, want, wlen);

	/* A; NS; an OPT owned by a pointer to the question's name. */
	raw_start(&m, 1, 1, 1);
	raw_rr(&m, qp, 2, 1, 1, ip1, 4);
	raw_rr(&m, other, sizeof other, 2, 1, other, sizeof other);
	raw_rr(&m, qp, 2, WIRE_TYPE_OPT, 1232, opt1, sizeof opt1);
	raw_scrub(&m, 1, 0, 1, 0, 1);

	/* A; another name's A; A again (kept after one that goes); OPT. */
	raw_start(&m, 3, 0, 1);
	raw_rr(&m, qp, 2, 1, 1, ip1, 4);
	raw_rr(&m, other, sizeof other, 1, 1, evil, 4);
	raw_rr(&m, qp, 2, 1, 1, ip2, 4);
	raw_rr(&m, root, 1, WIRE_TYPE_OPT, 1232, opt1, sizeof opt1);
	raw_scrub(&m, 1, 0, 2, 0, 1);

	/* A; NS; OPT; then glue and an A of ours in the additional. */
	raw_start(&m, 1, 1, 3);
	raw_rr(&m, qp, 2, 1, 1, ip1, 4);
	end1 = m.len;
	raw_rr(&m, qp, 2, 2, 1, other, sizeof other);
	o1 = raw_rr(&m, root, 1, WIRE_TYPE_OPT, 1232, opt1, sizeof opt1);
	raw_rr(&m, other, sizeof other, 1, 1, evil, 4);
	raw_rr(&m, qp, 2, 1, 1, evil, 4);
	memcpy(want, m.b, end1);
	memcpy(want + end1, m.b + o1, 11 + sizeof opt1);
	wlen = end1 + 11 + sizeof opt1;
	want[9] = 0;
	want[11] = 1;
	raw_scrub(&m, 3, wlen, 1, 0, 1);
	assert_memory_equal(m.b, want, wlen);

	/* Three OPTs after what goes: written anew, all three kept. */
	raw_start(&m, 1, 1, 3);
	raw_rr(&m, qp, 2, 1, 1, ip1, 4);
	raw_rr(&m, other, sizeof other, 2, 1, other, sizeof other);
	raw_rr(&m, root, 1, WIRE_TYPE_OPT, 1232, opt1, sizeof opt1);
	raw_rr(&m, root, 1, WIRE_TYPE_OPT, 1232, opt2, sizeof opt2);
	raw_rr(&m, root, 1, WIRE_TYPE_OPT, 1232, opt1, sizeof opt1);
	raw_scrub(&m, 1, 0, 1, 0, 3);
}

/*
 * A kept record whose owner runs on past itself: a pointer back to a
 * copy of the question's name (one label of 21 octets, as a client may
 * ask) whose octets are the record's own and the first octets of the
 * record after it, which goes. Read as the upstream sent it, the owner
 * is the question's name; cut in place (the OPT moved up over what
 * went), the same pointer would read another name or none. Found by
 * fuzz_scrub. Every answer record left must still be owned by the
 * question's name, as when written anew.
 */
static void
test_scrub_cut_overrun(void **state)
{
	/* The question's label: "abc", then AN1 and the first of AN2. */
	static const uint8_t label[21] = { 'a', 'b', 'c',
		0xc0, 51, 0, 1, 0, 1, 0, 0, 1, 44, 0, 4, 192, 0, 2, 1,
		1, 'e' };
	static const uint8_t an0[] = { 0xc0, 12, 0, 1, 0, 1, 0, 0, 1, 44,
		0, 4, 21, 'a', 'b', 'c' };
	/* Long enough that AN1's owner written in full still fits. */
	static const uint8_t an2[] = { 1, 'e', 0, 0, 16, 0, 1, 0, 0, 1, 44,
		0, 32, 31, 'a', 'n', 'y', 't', 'h', 'i', 'n', 'g', ' ', 't',
		'h', 'a', 't', ' ', 'g', 'o', 'e', 's', ',', ' ', 'l', 'o',
		'n', 'g', ' ', 'e', 'n', 'o', 'u', 'g', 'h' };
	static const uint8_t opt[] = { 0, 0, 41, 16, 0, 0, 0, 0, 0, 0, 0 };
	struct wire_query	 q;
	uint8_t			 msg[256], rw[256];
	size_t			 len, qlen, n, rn, i;
	unsigned		 dropped, rdropped;
	ldns_pkt		*pkt;
	ldns_rdf		*qname;

	(void)state;
	/* The query, then the answer to it. */
	memset(msg, 0, sizeof msg);
	msg[0] = 0x12;
	msg[1] = 0x34;
	msg[2] = 0x01;
	msg[5] = 1;
	len = WIRE_HDR_LEN;
	msg[len++] = sizeof label;
	memcpy(msg + len, label, sizeof label);
	len += sizeof label;
	msg[len++] = 0;
	msg[len++] = 0;
	msg[len++] = 1;
	msg[len++] = 0;
	msg[len++] = 1;
	qlen = len;
	assert_int_equal(wire_parse_query(msg, qlen, &q), WIRE_OK);
	msg[2] = 0x81;
	msg[3] = 0x80;
	msg[7] = 3;
	msg[11] = 1;
	assert_int_equal(len, 39);
	memcpy(msg + len, an0, sizeof an0);
	len += sizeof an0;
	/* AN1, owned by a pointer to the label in AN0's rdata (51). */
	memcpy(msg + len, label + 3, 16);
	len += 16;
	memcpy(msg + len, an2, sizeof an2);
	len += sizeof an2;
	memcpy(msg + len, opt, sizeof opt);
	len += sizeof opt;
	assert_int_equal(wire_check_answer(msg, len, &q, 0x1234), 0);

	memcpy(rw, msg, len);
	n = wire_scrub(msg, len, &q, tmp, &dropped);
	rn = wire_scrub_rewrite(rw, len, &q, tmp, &rdropped);
	assert_int_equal(dropped, 1);
	assert_int_equal(rdropped, 1);
	assert_true(n > 0);
	same_as_rewrite(msg, n, rw, rn);
	assert_int_equal(ldns_wire2pkt(&pkt, msg, n), LDNS_STATUS_OK);
	qname = ldns_rr_owner(ldns_rr_list_rr(ldns_pkt_question(pkt), 0));
	assert_int_equal(ldns_rr_list_rr_count(ldns_pkt_answer(pkt)), 2);
	for (i = 0; i < 2; i++) {
		assert_int_equal(ldns_dname_compare(ldns_rr_owner(
		    ldns_rr_list_rr(ldns_pkt_answer(pkt), i)), qname), 0);
	}
	ldns_pkt_free(pkt);
	check_usable(msg, n, len, &q);
}

/*
 * The types whose rdata names wire_scrub() moves besides RFC 1035's:
 * those RFC 3597 4 says receivers SHOULD decompress (RP, AFSDB, RT, PX,
 * NAPTR; SRV and SIG, NXT aside), KX (like RT; RFC 2230 forbids the
 * compression, an upstream may do it all the same), and MX to compare.
 * Each: its type, the rdata before the names (NAPTR's three strings
 * included) as octets and as text, and how many names follow.
 */
struct rdn {
	uint16_t	 type;
	const char	*tname;
	uint8_t		 pre[32];
	size_t		 prelen;
	const char	*ptext;
	int		 names;
};

static const struct rdn rdns[] = {
	{ 17, "RP", { 0 }, 0, NULL, 2 },
	{ 18, "AFSDB", { 0, 1 }, 2, "1", 1 },
	{ 21, "RT", { 0, 10 }, 2, "10", 1 },
	{ 26, "PX", { 0, 10 }, 2, "10", 2 },
	{ 35, "NAPTR", { 0, 100, 0, 10, 1, 'U', 7, 'E', '2', 'U', '+', 's',
	    'i', 'p', 8, '!', '^', '.', '*', '$', '!', 'x', '!' }, 23,
	    "100 10 \"U\" \"E2U+sip\" \"!^.*$!x!\"", 1 },
	{ 36, "KX", { 0, 10 }, 2, "10", 1 },
	{ 15, "MX", { 0, 10 }, 2, "10", 1 },
};

/* A record of www.example.nl. in presentation format, names[] after. */
static void
rdn_text(char *out, size_t cap, const struct rdn *t, const char *names[2])
{
	int	i, n;

	n = snprintf(out, cap, "www.example.nl. 300 IN %s", t->tname);
	if (t->ptext != NULL)
		n += snprintf(out + n, cap - n, " %s", t->ptext);
	for (i = 0; i < t->names; i++)
		n += snprintf(out + n, cap - n, " %s", names[i]);
	assert_true(n > 0 && (size_t)n < cap);
}

/*
 * Scrub m, a message with the question www.example.nl. of type t->type,
 * both ways: drop records must go, and what is left must be what the
 * rewrite leaves, the answer section want (ldns reads every name in
 * full; not checked when NULL), usable as check_usable() says. The
 * scrubbed message stays in m.
 */
static void
rdn_scrub(struct raw *m, const struct rdn *t, unsigned drop,
    const char *const *want)
{
	const struct ans a = { "www.example.nl.", (ldns_rr_type)t->type,
	    LDNS_RCODE_NOERROR, 0, NULL, NULL, NULL };
	struct wire_query	 q;
	ldns_pkt		*pkt;
	uint8_t			 rw[1024];
	unsigned		 dropped = 9, rdropped = 9;
	size_t			 n, rn, len = m->len;

	mkq(&a, &q);
	assert_int_equal(wire_check_answer(m->b, len, &q, 0x1234), 0);
	memcpy(rw, m->b, len);
	n = wire_scrub(m->b, len, &q, tmp, &dropped);
	rn = wire_scrub_rewrite(rw, len, &q, tmp, &rdropped);
	if (n == 0)
		fail_msg("%s: the scrub refuses the message", t->tname);
	assert_int_equal(dropped, drop);
	assert_int_equal(rdropped, drop);
	same_as_rewrite(m->b, n, rw, rn);
	if (ldns_wire2pkt(&pkt, m->b, n) != LDNS_STATUS_OK)
		fail_msg("%s: ldns cannot read the scrubbed message", t->tname);
	if (want != NULL)
		expect_section(t->tname, ldns_pkt_answer(pkt), want);
	expect_section("authority", ldns_pkt_authority(pkt), NULL);
	ldns_pkt_free(pkt);
	check_usable(m->b, n, len, &q);
	m->len = n;
}

/*
 * Written anew, the names in the rdata of these types follow what they
 * point at. A record about another name that goes (host.cdn.example.com.
 * TXT, first, so everything after it moves), then two records of the
 * question's type: the first's names point at the owner of the one that
 * goes (so written out in full), the second's into the first's rdata (so
 * moved with it). Copied as octets, both would point at whatever now
 * stands where those names stood: the first record's owner, "www...".
 */
static void
test_scrub_rdata_names(void **state)
{
	static const uint8_t qp[] = { 0xc0, 12 }, root[] = { 0 };
	static const uint8_t host[] = { 4, 'h', 'o', 's', 't', 3, 'c', 'd',
		'n', 7, 'e', 'x', 'a', 'm', 'p', 'l', 'e', 3, 'c', 'o', 'm',
		0 };
	static const uint8_t opt[] = { 0, 10, 0, 4, 1, 2, 3, 4 };
	const struct rdn	*t;
	const char		*n1[2] = { "a0.host.cdn.example.com.",
				    "a1.host.cdn.example.com." };
	const char		*n2[2] = { "b0.a0.host.cdn.example.com.",
				    "b1.a1.host.cdn.example.com." };
	char			 w1[256], w2[256];
	const char		*want[3] = { w1, w2, NULL };
	struct raw		 m;
	uint8_t			 rd[64], rd2[64], txt[64];
	size_t			 i, k, len, at, hostat, names[2];

	(void)state;
	/* Long enough that the names written in full still fit. */
	memset(txt, 'x', sizeof txt);
	txt[0] = sizeof txt - 1;
	for (i = 0; i < sizeof rdns / sizeof rdns[0]; i++) {
		t = &rdns[i];
		raw_startq(&m, t->type, 3, 0, 1);
		hostat = raw_rr(&m, host, sizeof host, 16, 1, txt, sizeof txt);

		/* The first: a<k>. and a pointer to host.cdn.example.com. */
		memcpy(rd, t->pre, t->prelen);
		len = t->prelen;
		for (k = 0; k < (size_t)t->names; k++) {
			names[k] = len;
			rd[len++] = 2;
			rd[len++] = 'a';
			rd[len++] = (uint8_t)('0' + k);
			rd[len++] = 0xc0;
			rd[len++] = (uint8_t)hostat;
		}
		at = raw_rr(&m, qp, 2, t->type, 1, rd, (uint16_t)len);

		/* The second: b<k>. and a pointer to the first's name k. */
		memcpy(rd2, t->pre, t->prelen);
		len = t->prelen;
		for (k = 0; k < (size_t)t->names; k++) {
			rd2[len++] = 2;
			rd2[len++] = 'b';
			rd2[len++] = (uint8_t)('0' + k);
			rd2[len++] = 0xc0;
			rd2[len++] = (uint8_t)(at + 12 + names[k]);
		}
		raw_rr(&m, qp, 2, t->type, 1, rd2, (uint16_t)len);
		raw_rr(&m, root, 1, WIRE_TYPE_OPT, 1232, opt, sizeof opt);
		assert_true(m.len < 256);

		rdn_text(w1, sizeof w1, t, n1);
		rdn_text(w2, sizeof w2, t, n2);
		rdn_scrub(&m, t, 1, want);
	}
}

/*
 * The cut in place with a name in rdata that reads past its record: each
 * name of the record kept points back at the record's own rdlen, read as
 * the length of a label that is the whole rdata, followed by the owner
 * of the next record (a label of 17 octets and the root), which goes.
 * Read as the upstream sent it, that is a name; cut in place (the OPT
 * moved up over what went), the same pointer reads another name or
 * none. As with owners (test_scrub_cut_overrun), the record must not be
 * cut in place but written anew, its names in full.
 */
static void
test_scrub_rdata_overrun(void **state)
{
	static const uint8_t qp[] = { 0xc0, 12 }, root[] = { 0 };
	static const uint8_t next[] = { 17, 'a', 'n', 'y', 't', 'h', 'i',
		'n', 'g', '-', 't', 'h', 'a', 't', 'g', 'o', 'e', 's', 0 };
	static const uint8_t opt[] = { 0, 10, 0, 4, 1, 2, 3, 4 };
	const struct rdn	*t;
	struct raw		 m;
	ldns_pkt		*pkt;
	ldns_rr			*rr;
	ldns_rdf		*want_name;
	uint8_t			 rd[64], txt[120], full[128];
	size_t			 i, k, len, at, flen;

	(void)state;
	memset(txt, 'x', sizeof txt);
	txt[0] = sizeof txt - 1;
	for (i = 0; i < sizeof rdns / sizeof rdns[0]; i++) {
		t = &rdns[i];
		raw_startq(&m, t->type, 1, 1, 1);
		memcpy(rd, t->pre, t->prelen);
		len = t->prelen + 2 * (size_t)t->names;
		/* Where the rdlen's second octet will be. */
		at = m.len + 2 + 9;
		for (k = 0; k < (size_t)t->names; k++) {
			rd[t->prelen + 2 * k] = 0xc0;
			rd[t->prelen + 2 * k + 1] = (uint8_t)at;
		}
		raw_rr(&m, qp, 2, t->type, 1, rd, (uint16_t)len);
		assert_int_equal(m.b[at], len);
		raw_rr(&m, next, sizeof next, 16, 1, txt, sizeof txt);
		raw_rr(&m, root, 1, WIRE_TYPE_OPT, 1232, opt, sizeof opt);

		/* The name as the upstream sent it, in full. */
		full[0] = (uint8_t)len;
		memcpy(full + 1, rd, len);
		memcpy(full + 1 + len, next, sizeof next);
		flen = 1 + len + sizeof next;
		want_name = ldns_dname_new_frm_data(flen, full);
		assert_non_null(want_name);

		rdn_scrub(&m, t, 1, NULL);
		assert_int_equal(ldns_wire2pkt(&pkt, m.b, m.len),
		    LDNS_STATUS_OK);
		assert_int_equal(ldns_rr_list_rr_count(ldns_pkt_answer(pkt)),
		    1);
		rr = ldns_rr_list_rr(ldns_pkt_answer(pkt), 0);
		assert_int_equal(ldns_rr_get_type(rr), t->type);
		/* Every name of the record is that one (PX, RP: both). */
		for (k = 0; k < ldns_rr_rd_count(rr); k++) {
			if (ldns_rdf_get_type(ldns_rr_rdf(rr, k)) !=
			    LDNS_RDF_TYPE_DNAME)
				continue;
			if (ldns_dname_compare(ldns_rr_rdf(rr, k),
			    want_name) != 0)
				fail_msg("%s: name %zu is another", t->tname,
				    k);
		}
		ldns_rdf_deep_free(want_name);
		ldns_pkt_free(pkt);
	}
}

/*
 * Scrub m (question q) in a buffer of its own length, so that a read
 * past the message is one past the buffer: with the cut (rewrite 0) or
 * without. The length the scrub returns; *dropped.
 */
static size_t
raw_scrub_exact(const struct raw *m, const struct wire_query *q,
    int rewrite, unsigned *dropped)
{
	uint8_t	*msg;
	size_t	 n;

	msg = malloc(m->len);
	assert_non_null(msg);
	memcpy(msg, m->b, m->len);
	*dropped = 7;
	if (rewrite)
		n = wire_scrub_rewrite(msg, m->len, q, tmp, dropped);
	else
		n = wire_scrub(msg, m->len, q, tmp, dropped);
	/* Nothing dropped: as it came. */
	if (n == m->len && *dropped == 0)
		assert_memory_equal(msg, m->b, m->len);
	free(msg);
	return (n);
}

/*
 * NAPTR rdata the scrub reads its strings through: order, preference,
 * three character-strings, a name. Malformed, with every length read
 * inside the rdata (the message ends with the record when it comes
 * second): a string that runs past the rdata by one octet, no room for
 * the name (twice), for the regexp's length, for any string (twice), an
 * octet after the name, a name that runs on past the rdata. Kept in an
 * answer that loses a record, it makes the message unusable (0), as a
 * kept MX with a bad name does, cut in place or not; from a message that
 * loses nothing it passes as it came, as any rdata does. Well formed,
 * strings of 200 octets (the name is past 255 octets of rdata) and all
 * empty, it stays octet for octet.
 */
static void
test_scrub_naptr_strings(void **state)
{
	static const uint8_t qp[] = { 0xc0, 12 }, ip[] = { 192, 0, 2, 1 };
	static const uint8_t other[] = { 4, 'e', 'v', 'i', 'l', 0 };
	static const struct {
		uint8_t	rd[16];
		size_t	len;
	} bad[] = {
		{ { 0, 100, 0, 10, 1, 'U', 0, 4, 'a', 'b', 0 }, 11 },
		{ { 0, 100, 0, 10, 1, 'U', 0, 3, 'a', 'b', 0 }, 11 },
		{ { 0, 100, 0, 10, 1, 'U', 0 }, 7 },
		{ { 0, 100, 0, 10, 1, 'U', 0, 0 }, 8 },
		{ { 0, 100, 0, 10 }, 4 },
		{ { 0, 100, 0 }, 3 },
		{ { 0, 100, 0, 10, 0, 0, 0, 0, 7 }, 9 },
		{ { 0, 100, 0, 10, 0, 0, 0, 1, 'a' }, 9 },
	};
	const struct ans a = { "www.example.nl.", LDNS_RR_TYPE_NAPTR,
	    LDNS_RCODE_NOERROR, 0, NULL, NULL, NULL };
	const struct rdn	*naptr = NULL;
	struct wire_query	 q;
	struct raw		 m;
	uint8_t			 rd[512], was[512];
	size_t			 i, rec, reclen;
	unsigned		 dropped;
	int			 first;

	(void)state;
	for (i = 0; i < sizeof rdns / sizeof rdns[0]; i++) {
		if (rdns[i].type == LDNS_RR_TYPE_NAPTR)
			naptr = &rdns[i];
	}
	assert_non_null(naptr);
	mkq(&a, &q);
	for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		/* The NAPTR first (the cut) or after what goes (written). */
		for (first = 0; first < 2; first++) {
			raw_startq(&m, LDNS_RR_TYPE_NAPTR, 2, 0, 0);
			if (!first)
				raw_rr(&m, other, sizeof other, 1, 1, ip, 4);
			raw_rr(&m, qp, 2, 35, 1, bad[i].rd,
			    (uint16_t)bad[i].len);
			if (first)
				raw_rr(&m, other, sizeof other, 1, 1, ip, 4);
			assert_int_equal(wire_check_answer(m.b, m.len, &q,
			    0x1234), 0);
			if (raw_scrub_exact(&m, &q, 0, &dropped) != 0 ||
			    raw_scrub_exact(&m, &q, 1, &dropped) != 0)
				fail_msg("bad NAPTR %zu kept", i);
			assert_int_equal(dropped, 0);
		}
		/* Alone: nothing goes, nothing is read, all passes. */
		raw_startq(&m, LDNS_RR_TYPE_NAPTR, 1, 0, 0);
		raw_rr(&m, qp, 2, 35, 1, bad[i].rd, (uint16_t)bad[i].len);
		assert_int_equal(raw_scrub_exact(&m, &q, 0, &dropped), m.len);
		assert_int_equal(dropped, 0);
	}

	/* Long strings, then empty ones: kept as they are. */
	for (i = 0; i < 2; i++) {
		memset(rd, 'x', sizeof rd);
		rd[0] = 0;
		rd[1] = 100;
		rd[2] = 0;
		rd[3] = 10;
		rd[4] = 0;
		rd[5] = i == 0 ? 200 : 0;
		rd[6 + rd[5]] = i == 0 ? 200 : 0;
		reclen = 6 + rd[5] + 1 + rd[6 + rd[5]];
		rd[reclen++] = 0;
		raw_startq(&m, LDNS_RR_TYPE_NAPTR, 2, 0, 0);
		raw_rr(&m, other, sizeof other, 1, 1, ip, 4);
		rec = raw_rr(&m, qp, 2, 35, 1, rd, (uint16_t)reclen);
		reclen = m.len - rec;
		memcpy(was, m.b + rec, reclen);
		rdn_scrub(&m, naptr, 1, NULL);
		assert_int_equal(m.len, 32 + reclen);
		assert_memory_equal(m.b + 32, was, reclen);
	}
}

/* Malformed: cut short, trailing octets, a bad link, no question. */
static void
test_scrub_bad(void **state)
{
	const struct ans a = { "www.example.nl.", LDNS_RR_TYPE_A,
	    LDNS_RCODE_NOERROR, 0,
	    RRS("www.example.nl. 300 IN CNAME web.example.nl.",
		"web.example.nl. 300 IN A 192.0.2.1",
		"evil.example. 300 IN A 203.0.113.66"), NULL, NULL };
	/* a. CNAME b. with one octet too many in its rdata, then b. A. */
	static const uint8_t badlink[] = { 0x12, 0x34, 0x81, 0x80, 0, 1,
		0, 2, 0, 0, 0, 0, 1, 'a', 0, 0, 1, 0, 1,
		0xc0, 12, 0, 5, 0, 1, 0, 0, 0, 60, 0, 4, 1, 'b', 0, 0,
		1, 'b', 0, 0, 1, 0, 1, 0, 0, 0, 60, 0, 4, 192, 0, 2, 1 };
	static const uint8_t pastq[] = { 0x12, 0x34, 0xe3, 0x80, 0, 1, 0, 3,
		0, 0, 0, 1, 3, 'w', 'w', 60, 0xc0, 15, 0, 0, 0, 0, 0, 0,
		0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x35,
		0x29, 0x20, 0, 0, 0, 0, 0, 0, 0, 'x', 'a', 'm', 'p', 'l', 'e', 0,
		0xc0, 16, 0, 39, 0, 1, 0, 0, 1, 44, 0, 13, 3, 'w', 'n', 'e',
		7, 'e', 'x', 'a', 'm', 'p', 'l', 'e', 0, 3, 'w', 'w', 'w',
		3, 'n', 'e', 'w', 0xc0, 20, 0, 1, 0, 1, 0, 0, 1, 44, 0, 4,
		192, 0, 2, 1, 0, 0, 41, 0x20, 0, 0, 0, 0, 0, 0, 0, 0 };
	const struct ans qa = { "a.", LDNS_RR_TYPE_A, LDNS_RCODE_NOERROR, 0,
	    NULL, NULL, NULL };
	struct wire_query	 q, noq;
	uint8_t			 msg[1024];
	size_t			 len, i;
	unsigned		 dropped;

	(void)state;
	mkq(&a, &q);
	len = mkans(&a, msg, sizeof msg);
	for (i = 0; i < len; i++) {
		mkans(&a, msg, sizeof msg);
		dropped = 7;
		assert_int_equal(wire_scrub(msg, i, &q, tmp, &dropped), 0);
		assert_int_equal(dropped, 0);
	}
	len = mkans(&a, msg, sizeof msg);
	msg[len] = 0;
	assert_int_equal(wire_scrub(msg, len + 1, &q, tmp, &dropped), 0);

	mkq(&qa, &q);
	memcpy(msg, badlink, sizeof badlink);
	assert_int_equal(wire_check_answer(msg, sizeof badlink, &q, 0x1234),
	    0);
	assert_int_equal(wire_scrub(msg, sizeof badlink, &q, tmp, &dropped),
	    0);

	/*
	 * A question whose name points past itself into the records (found
	 * by fuzz_scrub): what it reads would move. Its own question is
	 * read from a copy made to look like a query.
	 */
	memcpy(msg, pastq, sizeof pastq);
	msg[2] &= 0x7f;
	memset(msg + 6, 0, 6);
	(void)wire_parse_query(msg, sizeof pastq, &q);
	assert_true(q.have_question);
	memcpy(msg, pastq, sizeof pastq);
	assert_int_equal(wire_scrub(msg, sizeof pastq, &q, tmp, &dropped), 0);

	mkq(&a, &q);
	memset(&noq, 0, sizeof noq);
	len = mkans(&a, msg, sizeof msg);
	assert_int_equal(wire_scrub(msg, len, &noq, tmp, &dropped), 0);
	/* Two questions. */
	msg[5] = 2;
	assert_int_equal(wire_scrub(msg, len, &q, tmp, &dropped), 0);
}

/* What wire_inspect() reported, as text. */
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
	assert_non_null(inet_ntop(family, addr, buf, sizeof buf));
	snprintf(s->ev[s->n++], sizeof s->ev[0], "%d %s",
	    family == AF_INET ? 4 : 6, buf);
	return (s->n == s->stop_at);
}

/*
 * Scan the answer a as the daemon does and inspect it, stopping at event
 * stop_at (0: never); the events must be want (NULL-ended).
 */
static void
expect_inspect(const struct ans *a, size_t stop_at, const char *const *want)
{
	struct wire_visit	 v = { seen_name, seen_addr, NULL };
	struct wire_scan	 sc;
	struct seen		 s;
	uint8_t			 msg[2048];
	size_t			 len, i;

	len = mkans(a, msg, sizeof msg);
	assert_int_equal(wire_scan(msg, len, &sc), 0);
	memset(&s, 0, sizeof s);
	s.stop_at = stop_at;
	v.arg = &s;
	assert_int_equal(wire_inspect(msg, sc.len, &v), 0);
	for (i = 0; want[i] != NULL; i++) {
		if (i >= s.n)
			fail_msg("missing event %s", want[i]);
		assert_string_equal(s.ev[i], want[i]);
	}
	assert_int_equal(s.n, i);
}

/*
 * HTTPS and SVCB: the target name (unless ".") and every ipv4hint and
 * ipv6hint address, in order, as CNAME targets and A/AAAA are.
 */
static void
test_inspect_svcb(void **state)
{
	const struct ans https = { "www.example.nl.", LDNS_RR_TYPE_HTTPS,
	    LDNS_RCODE_NOERROR, 0,
	    RRS("www.example.nl. 300 IN HTTPS 1 CDN.Example.com. alpn=h2,h3 "
		"ipv4hint=192.0.2.1,198.51.100.66 ech=AEX+DQBB "
		"ipv6hint=2001:db8::1,2001:db8:bad::1",
		"www.example.nl. 300 IN HTTPS 2 . port=8443 "
		"ipv4hint=192.0.2.9"), NULL, NULL };
	const struct ans svcb = { "_dns.example.nl.", LDNS_RR_TYPE_SVCB,
	    LDNS_RCODE_NOERROR, 0,
	    RRS("_dns.example.nl. 300 IN SVCB 0 alias.example.net.",
		"_dns.example.nl. 300 CH SVCB 1 . ipv4hint=192.0.2.66"),
	    NULL, NULL };

	(void)state;
	expect_inspect(&https, 0, RRS("name cdn.example.com.",
	    "4 192.0.2.1", "4 198.51.100.66", "6 2001:db8::1",
	    "6 2001:db8:bad::1", "4 192.0.2.9"));
	/* A callback that says stop, at a name and at an address. */
	expect_inspect(&https, 1, RRS("name cdn.example.com."));
	expect_inspect(&https, 3, RRS("name cdn.example.com.",
	    "4 192.0.2.1", "4 198.51.100.66"));
	/* AliasMode: the target; class CH: no addresses. */
	expect_inspect(&svcb, 0, RRS("name alias.example.net."));
}

/*
 * SvcParams that a client would reject, or that we could not read all
 * of, make the answer unusable: wire_scan() and wire_inspect() refuse it.
 * Written by hand (ldns refuses some of them): an answer to
 * www.example.nl/HTTPS with one HTTPS record of the rdata given.
 */
static void
test_inspect_svcb_bad(void **state)
{
	static const struct {
		const char	*why;
		size_t		 len;
		uint8_t		 rdata[24];
	} bad[] = {
	    { "keys out of order", 17, { 0, 1, 0, 0, 4, 0, 4, 192, 0, 2, 1,
		0, 3, 0, 2, 1, 187 } },
	    { "a key twice", 17, { 0, 1, 0, 0, 4, 0, 4, 192, 0, 2, 1,
		0, 4, 0, 2, 1, 187 } },
	    { "ipv4hint of 5", 12, { 0, 1, 0, 0, 4, 0, 5, 192, 0, 2, 1, 1 } },
	    { "ipv4hint of 0", 7, { 0, 1, 0, 0, 4, 0, 0 } },
	    { "ipv6hint of 8", 15, { 0, 1, 0, 0, 6, 0, 8, 0x20, 1, 0xd, 0xb8,
		0, 0, 0, 0 } },
	    { "value past the rdata", 11, { 0, 1, 0, 0, 4, 0, 8, 192, 0, 2,
		1 } },
	    { "half a key", 5, { 0, 1, 0, 0, 4 } },
	    { "target past the rdata", 6, { 0, 1, 3, 'w', 'w', 'w' } },
	    { "no target", 2, { 0, 1 } },
	};
	static const uint8_t head[] = { 0x12, 0x34, 0x81, 0x80, 0, 1, 0, 1,
		0, 0, 0, 0, 3, 'w', 'w', 'w', 7, 'e', 'x', 'a', 'm', 'p', 'l',
		'e', 2, 'n', 'l', 0, 0, 65, 0, 1,
		0xc0, 12, 0, 65, 0, 1, 0, 0, 1, 44 };
	struct wire_visit	 v = { seen_name, seen_addr, NULL };
	struct wire_scan	 sc;
	struct seen		 s;
	uint8_t			 msg[256];
	size_t			 len, i;

	(void)state;
	for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		memcpy(msg, head, sizeof head);
		len = sizeof head;
		msg[len++] = 0;
		msg[len++] = bad[i].len;
		memcpy(msg + len, bad[i].rdata, bad[i].len);
		len += bad[i].len;
		memset(&s, 0, sizeof s);
		v.arg = &s;
		if (wire_inspect(msg, len, &v) != -1)
			fail_msg("wire_inspect() took %s", bad[i].why);
		if (wire_scan(msg, len, &sc) != -1)
			fail_msg("wire_scan() took %s", bad[i].why);
	}
	/* The first one, put right, is fine. */
	memcpy(msg, head, sizeof head);
	len = sizeof head;
	msg[len++] = 0;
	msg[len++] = 17;
	memcpy(msg + len, bad[0].rdata, 17);
	msg[len + 12] = 5;
	len += 17;
	memset(&s, 0, sizeof s);
	v.arg = &s;
	assert_int_equal(wire_inspect(msg, len, &v), 0);
	assert_int_equal(s.n, 1);
	assert_string_equal(s.ev[0], "4 192.0.2.1");
	assert_int_equal(wire_scan(msg, len, &sc), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_scrub_clean),
		cmocka_unit_test(test_scrub_unrelated_answer),
		cmocka_unit_test(test_scrub_other_type),
		cmocka_unit_test(test_scrub_authority_glue),
		cmocka_unit_test(test_scrub_additional_other),
		cmocka_unit_test(test_scrub_chain_order),
		cmocka_unit_test(test_scrub_case),
		cmocka_unit_test(test_scrub_question_pointer),
		cmocka_unit_test(test_scrub_loop),
		cmocka_unit_test(test_scrub_long_chain),
		cmocka_unit_test(test_scrub_qtype_cname),
		cmocka_unit_test(test_scrub_any),
		cmocka_unit_test(test_scrub_negative_soa),
		cmocka_unit_test(test_scrub_dnssec_positive),
		cmocka_unit_test(test_scrub_dnssec_negative),
		cmocka_unit_test(test_scrub_dnssec_wildcard),
		cmocka_unit_test(test_scrub_dname),
		cmocka_unit_test(test_scrub_pointers),
		cmocka_unit_test(test_scrub_cut_shapes),
		cmocka_unit_test(test_scrub_cut_overrun),
		cmocka_unit_test(test_scrub_rdata_names),
		cmocka_unit_test(test_scrub_rdata_overrun),
		cmocka_unit_test(test_scrub_naptr_strings),
		cmocka_unit_test(test_scrub_bad),
		cmocka_unit_test(test_inspect_svcb),
		cmocka_unit_test(test_inspect_svcb_bad),
	};

	return (cmocka_run_group_tests(tests, NULL, NULL));
}
