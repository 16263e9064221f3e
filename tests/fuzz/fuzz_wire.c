/*
 * fuzz_wire.c: libFuzzer target for the in-place DNS message code.
 *
 * Each input is parsed as a client query, answered with an error response
 * for every verdict that gets one, and then treated as an upstream answer
 * to that query: checked, scanned (on a copy, since scanning cuts the OPT
 * record in place) and written back out as a client answer. The scanned
 * answer is inspected (CNAME targets, addresses), the input is used as the
 * target message of a safe-search CNAME answer, and a blocked answer of
 * every kind is written for its question. Sizes are asserted against the
 * buffers and the 512-octet UDP limit; every refusal has a reason, and
 * every record the iterator reads lies inside the input.
 */
#include <assert.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <sys/socket.h>

#include "wire.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

/*
 * 0x20: q's name in upper case (every bit set) folds back to lname, and a
 * query sent in that spelling is answered only in that spelling.
 */
static void
fuzz_wire_case(const struct wire_query *q)
{
	uint8_t	ones[WIRE_MAX_NAME / 8 + 1];
	uint8_t	mixed[WIRE_MAX_NAME], back[WIRE_MAX_NAME], up[512];
	size_t	len, letters;

	memset(ones, 0xff, sizeof ones);
	letters = wire_letters(q->lname, q->name_len);
	assert(letters < q->name_len);
	wire_mix_case(mixed, q->lname, q->name_len, ones);
	wire_lower(back, mixed, q->name_len);
	assert(memcmp(back, q->lname, q->name_len) == 0);
	len = wire_make_query(up, sizeof up, q, 0x1234, mixed);
	assert(len > 0 && len <= sizeof up);
	assert(wire_check_case(up, len, mixed, q->name_len));
	assert(wire_check_case(up, len, q->lname, q->name_len) ==
	    (letters == 0));
}

/* The safe-search target the CNAME answers point at. */
static const uint8_t fuzz_wire_target[] = { 15, 'f', 'o', 'r', 'c', 'e',
	's', 'a', 'f', 'e', 's', 'e', 'a', 'r', 'c', 'h', 6, 'g', 'o', 'o',
	'g', 'l', 'e', 3, 'c', 'o', 'm', 0 };

/*
 * An EDE text longer than WIRE_EDE_MAX_TEXT with multi-octet UTF-8
 * sequences around the cut.
 */
static const char fuzz_wire_ede[] =
    "geblokkeerd \xe2\x80\x94 categorie malware, lijst "
    "\xe2\x80\x9curlhaus\xe2\x80\x9d; neem contact op met de "
    "beheerder van uw school \xf0\x9f\x8f\xab of \xc3\xa9\xc3\xa9n "
    "van de collega\xe2\x80\x99s";

/* wire_inspect() callbacks: check what they are given, never stop. */
static int
fuzz_wire_name(void *arg, const uint8_t *lname, size_t len)
{
	size_t	i;

	(void)arg;
	assert(len >= 1 && len <= WIRE_MAX_NAME && lname[len - 1] == 0);
	for (i = 0; i < len; i++)
		assert(lname[i] < 'A' || lname[i] > 'Z');
	return (0);
}

static int
fuzz_wire_addr(void *arg, int family, const uint8_t *addr)
{
	int	*stop = arg;

	assert(family == AF_INET || family == AF_INET6);
	(void)addr;
	return (*stop);
}

/* The message ID (the caller has checked there is a header). */
static uint16_t
fuzz_wire_id(const uint8_t *p)
{
	return ((uint16_t)((p[0] << 8) | p[1]));
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint8_t		 msg[WIRE_MAX_UDP];
	static uint8_t		 big[2 * WIRE_MAX_UDP];
	static struct wire_scan	 sc;
	struct wire_query	 q, qa, qr;
	struct wire_block	 b;
	struct wire_visit	 vis;
	struct wire_msg		 m;
	struct wire_rr		 rr;
	enum wire_verdict	 v;
	uint8_t			 out[512], up[512];
	char			 text[1024];
	size_t			 len, off;
	int			 rcode = -1, stop, a;

	if (size > WIRE_MAX_UDP)
		return (0);

	/* As a query: the verdict, its reason, the error response. */
	v = wire_parse_query(data, size, &q);
	assert((v == WIRE_OK) == (q.why == NULL));
	assert(q.why == NULL || strlen(q.why) > 0);
	switch (v) {
	case WIRE_OK:
	case WIRE_DROP:
		break;
	case WIRE_ERR_FORMERR:
		rcode = WIRE_FORMERR;
		break;
	case WIRE_ERR_NOTIMP:
		rcode = WIRE_NOTIMP;
		break;
	case WIRE_ERR_BADVERS:
		rcode = WIRE_BADVERS;
		break;
	}
	if (rcode != -1) {
		len = wire_error(out, sizeof out, &q, rcode);
		assert(len > 0 && len <= sizeof out);
	}
	if (v != WIRE_DROP && q.have_question) {
		wire_name_str(q.name, q.name_len, text, sizeof text);
		assert(strlen(text) < sizeof text);
		len = wire_make_query(up, sizeof up, &q, 0x1234, q.name);
		assert(len > 0 && len <= sizeof up);
		(void)wire_check_answer(data, size, &q, q.id);
	}

	/* Every record the iterator hands out lies inside the input. */
	if ((off = wire_skip_question(data, size)) != 0) {
		assert(off >= WIRE_HDR_LEN && off <= size);
		wire_rr_begin(&rr, data, size, off);
		while ((a = wire_rr_next(&rr)) == 1) {
			assert(rr.owner_len >= 1 &&
			    rr.owner_len <= WIRE_MAX_NAME);
			assert(rr.owner < rr.ttl_off &&
			    rr.ttl_off + 6 == rr.rdata);
			assert(rr.rdata + rr.rdlen == rr.next &&
			    rr.next <= size);
			assert(rr.section <= WIRE_SEC_AR);
		}
		assert(a == 0 ? rr.why == NULL : rr.why != NULL);
	}

	/*
	 * As an answer. Answers have QR=1 and records, so the question it
	 * answers is read from a copy made to look like a query (QR and the
	 * record counts cleared; the verdict is then FORMERR for trailing
	 * data but the question is kept). Two header bits pick the EDNS
	 * state of that query.
	 */
	if (size < WIRE_HDR_LEN)
		return (0);
	memcpy(msg, data, size);
	msg[2] &= 0x7f;
	memset(msg + 6, 0, 6);
	(void)wire_parse_query(msg, size, &qa);
	if (!qa.have_question)
		return (0);
	qa.edns = (data[3] & 0x40) != 0;
	qa.do_bit = (data[3] & 0x20) != 0;
	qa.udp_size = qa.edns ? 1232 : 512;
	len = wire_make_query(up, sizeof up, &qa, 0x1234, NULL);
	assert(len > 0 && len <= sizeof up);
	/* qa's name is data's, as spelled: an answer echoes its case. */
	if (wire_check_answer(data, size, &qa, fuzz_wire_id(data)) == 0)
		assert(wire_check_case(data, size, qa.name, qa.name_len));
	fuzz_wire_case(&qa);

	/*
	 * Blocked answers of every kind: the apex is the qname's parent (or
	 * the qname when it has no parent), so 512 octets always suffice.
	 */
	memset(&b, 0, sizeof b);
	b.ttl = 60;
	if (qa.labels > 0) {
		b.apex = qa.lname + qa.lname[0] + 1;
		b.apex_len = qa.name_len - qa.lname[0] - 1;
	}
	b.have4 = (data[2] & 0x01) != 0;
	b.have6 = (data[2] & 0x02) != 0;
	b.ede_code = WIRE_EDE_BLOCKED;
	b.ede_text = fuzz_wire_ede;
	for (a = WIRE_BLOCK_NXDOMAIN; a <= WIRE_BLOCK_REDIRECT; a++) {
		b.action = a;
		len = wire_block_answer(out, sizeof out, &qa, &b);
		assert(len > WIRE_HDR_LEN && len <= sizeof out);
		assert(wire_block_answer(out, len - 1, &qa, &b) == 0);
	}

	/* The input as the answer about a safe-search target. */
	m.data = data;
	m.len = size;
	m.ttl_off = NULL;
	m.nttl = 0;
	len = wire_cname_answer(out, sizeof out, &qa, fuzz_wire_target,
	    sizeof fuzz_wire_target, 3600, &m, sizeof out);
	assert(len <= sizeof out);
	len = wire_cname_answer(big, sizeof big, &qa, fuzz_wire_target,
	    sizeof fuzz_wire_target, 3600, &m, WIRE_MAX_UDP);
	assert(len <= WIRE_MAX_UDP);

	/* The input's question retargeted at its own parent name. */
	if (qa.labels > 0) {
		assert(wire_query_retarget(&qr, &qa, b.apex, b.apex_len) == 0);
		assert(qr.labels == qa.labels - 1);
	}
	(void)wire_query_retarget(&qr, &qa, data,
	    size < WIRE_MAX_NAME ? size : WIRE_MAX_NAME);

	memcpy(msg, data, size);
	if (wire_scan(msg, size, &sc) != 0)
		return (0);
	assert(sc.len <= size && sc.nttl <= WIRE_MAX_TTLS);
	/*
	 * Inspect it; wire_scan() does not look inside rdata, so a bad CNAME
	 * target can still make this -1. One header bit stops at addresses.
	 */
	stop = (data[3] & 0x10) != 0;
	vis.name = fuzz_wire_name;
	vis.addr = fuzz_wire_addr;
	vis.arg = &stop;
	a = wire_inspect(msg, sc.len, &vis);
	assert(a == 0 || a == -1);
	m.data = msg;
	m.len = sc.len;
	m.ttl_off = sc.ttl_off;
	m.nttl = sc.nttl;
	len = wire_answer(out, sizeof out, &m, 7, 0, &qa, 512);
	assert(len <= sizeof out);
	len = wire_answer(out, sizeof out, &m, 0, 30, &qa, qa.udp_size);
	assert(len <= sizeof out);
	return (0);
}
