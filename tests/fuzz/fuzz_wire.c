/*
 * fuzz_wire.c: libFuzzer target for the in-place DNS message code.
 *
 * Each input is parsed as a client query, answered with an error response
 * for every verdict that gets one, and then treated as an upstream answer
 * to that query: checked, scanned (on a copy, since scanning cuts the OPT
 * record in place) and written back out as a client answer. Sizes are
 * asserted against the buffers and the 512-octet UDP limit.
 */
#include <assert.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "wire.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

/* The message ID (the caller has checked there is a header). */
static uint16_t
fuzz_wire_id(const uint8_t *p)
{
	return (uint16_t)((p[0] << 8) | p[1]);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint8_t		 msg[WIRE_MAX_UDP];
	static struct wire_scan	 sc;
	struct wire_query	 q, qa;
	enum wire_verdict	 v;
	uint8_t			 out[512], up[512];
	char			 text[1024];
	size_t			 len;
	int			 rcode = -1;

	if (size > WIRE_MAX_UDP)
		return 0;

	/* As a query: the verdict, and the error response it gets. */
	v = wire_parse_query(data, size, &q);
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
		len = wire_make_query(up, sizeof up, &q, 0x1234);
		assert(len > 0 && len <= sizeof up);
		(void)wire_check_answer(data, size, &q, q.id);
	}

	/*
	 * As an answer. Answers have QR=1 and records, so the question it
	 * answers is read from a copy made to look like a query (QR and the
	 * record counts cleared; the verdict is then FORMERR for trailing
	 * data but the question is kept). Two header bits pick the EDNS
	 * state of that query.
	 */
	if (size < WIRE_HDR_LEN)
		return 0;
	memcpy(msg, data, size);
	msg[2] &= 0x7f;
	memset(msg + 6, 0, 6);
	(void)wire_parse_query(msg, size, &qa);
	if (!qa.have_question)
		return 0;
	qa.edns = (data[3] & 0x40) != 0;
	qa.do_bit = (data[3] & 0x20) != 0;
	qa.udp_size = qa.edns ? 1232 : 512;
	len = wire_make_query(up, sizeof up, &qa, 0x1234);
	assert(len > 0 && len <= sizeof up);
	(void)wire_check_answer(data, size, &qa, fuzz_wire_id(data));

	memcpy(msg, data, size);
	if (wire_scan(msg, size, &sc) != 0)
		return 0;
	assert(sc.len <= size && sc.nttl <= WIRE_MAX_TTLS);
	len = wire_answer(out, sizeof out, msg, sc.len, sc.ttl_off, sc.nttl,
	    7, 0, &qa, 512);
	assert(len <= sizeof out);
	len = wire_answer(out, sizeof out, msg, sc.len, sc.ttl_off, sc.nttl,
	    0, 30, &qa, qa.udp_size);
	assert(len <= sizeof out);
	return 0;
}
