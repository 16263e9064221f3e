/*
 * wire.c: DNS messages read and written in place, without allocation.
 *
 * Written by hand rather than with ldns because this is the per-query hot
 * path: ldns builds a tree of allocated objects for every packet, while a
 * resolver only needs the header, the question, the OPT record and the
 * positions of the TTLs. Every read is bounds-checked against the length
 * given; nothing here allocates or keeps a pointer after it returns.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <sys/socket.h>

#include "wire.h"

/*
 * Most compression pointers followed in one name. A name of 255 octets has
 * at most 127 labels and a sane compressor never points at a pointer, so
 * this only stops pointer chains built to waste our time.
 */
#define WIRE_MAX_JUMPS	128

/* Fixed part of a resource record after its owner name. */
#define WIRE_RR_FIXED	10

/* Types whose rdata holds names, private to the copy in wire_copy_rr(). */
#define WIRE_TYPE_PTR	12
#define WIRE_TYPE_MX	15
#define WIRE_TYPE_SRV	33
#define WIRE_TYPE_DNAME	39

/* Our SOA for blocked names: MNAME localhost., RNAME nobody.invalid. */
#define WIRE_SOA_MNAME	"\011localhost"
#define WIRE_SOA_RNAME	"\006nobody\007invalid"

/*
 * An output buffer that keeps counting past its capacity, so a message is
 * written in one pass and its full length is known even when it does not
 * fit (to choose between truncation and failure afterwards).
 */
struct wire_buf {
	uint8_t		*p;
	size_t		 cap;
	size_t		 len;	/* may pass cap: counted, not written */
};

/* Where a record sits, for wire_scan(). */
#define WIRE_SEC_AN	0
#define WIRE_SEC_NS	1
#define WIRE_SEC_AR	2

static uint16_t	wire_get16(const uint8_t *);
static uint32_t	wire_get32(const uint8_t *);
static void	wire_put16(uint8_t *, uint16_t);
static void	wire_put32(uint8_t *, uint32_t);
static int	wire_name(const uint8_t *, size_t, size_t *, uint8_t *,
		    size_t *, uint8_t *);
static size_t	wire_put_opt(uint8_t *, int, int);
static void	wire_put_answer_opt(uint8_t *, int, int);
static enum wire_verdict wire_parse_body(const uint8_t *, size_t,
		    struct wire_query *, uint16_t, uint16_t, uint16_t, uint16_t);
static int	wire_parse_opt(const uint8_t *, size_t, size_t, uint16_t,
		    uint32_t, uint16_t, struct wire_query *);
static int	wire_soa_min(const uint8_t *, size_t, size_t, size_t,
		    uint32_t *);
static void	wire_str_put(char *, size_t, size_t *, const char *, size_t);
static int	wire_name_check(const uint8_t *, size_t, uint8_t *);
static void	wire_buf_put(struct wire_buf *, const void *, size_t);
static void	wire_buf_put16(struct wire_buf *, uint16_t);
static void	wire_buf_put32(struct wire_buf *, uint32_t);
static void	wire_buf_set16(struct wire_buf *, size_t, uint16_t);
static void	wire_buf_head(struct wire_buf *, const struct wire_query *,
		    uint16_t);
static void	wire_buf_opt(struct wire_buf *, int, uint16_t, const char *);
static size_t	wire_ede_len(const char *);
static void	wire_buf_soa(struct wire_buf *, const struct wire_query *,
		    const struct wire_block *);
static int	wire_copy_rr(const uint8_t *, size_t, size_t *,
		    struct wire_buf *);
static size_t	wire_truncated(uint8_t *, size_t,
		    const struct wire_query *, uint16_t, size_t);

/* Big-endian 16-bit read; the caller has checked the bounds. */
static uint16_t
wire_get16(const uint8_t *p)
{
	return ((uint16_t)((p[0] << 8) | p[1]));
}

/* Big-endian 32-bit read; the caller has checked the bounds. */
static uint32_t
wire_get32(const uint8_t *p)
{
	return (((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) |
	    ((uint32_t)p[2] << 8) | (uint32_t)p[3]);
}

static void
wire_put16(uint8_t *p, uint16_t v)
{
	p[0] = v >> 8;
	p[1] = v & 0xff;
}

static void
wire_put32(uint8_t *p, uint32_t v)
{
	p[0] = v >> 24;
	p[1] = (v >> 16) & 0xff;
	p[2] = (v >> 8) & 0xff;
	p[3] = v & 0xff;
}

/*
 * Walk the name at *off in pkt (len octets). On success *off is just past
 * the name where it starts (past the first pointer if compressed), *nlen
 * the length of the uncompressed wire form including the root octet, and,
 * if out is not NULL, that form is copied to out (WIRE_MAX_NAME octets).
 * Pointers must point backwards (strictly before the pointer itself) and
 * past the header; the jump bound and the 255-octet bound together rule
 * out loops. Label types 0x40 and 0x80 are refused (RFC 6891 5).
 */
static int
wire_name(const uint8_t *pkt, size_t len, size_t *off, uint8_t *out,
    size_t *nlen, uint8_t *nlabels)
{
	size_t	 pos = *off, end = 0, n = 0, ptr;
	int	 jumped = 0, jumps = 0;
	uint8_t	 c, labels = 0;

	for (;;) {
		if (pos >= len)
			return (-1);
		c = pkt[pos];
		if ((c & 0xc0) == 0xc0) {
			/* Compression pointer: 14-bit offset, backwards only. */
			if (pos + 1 >= len)
				return (-1);
			ptr = ((size_t)(c & 0x3f) << 8) | pkt[pos + 1];
			if (ptr < WIRE_HDR_LEN || ptr >= pos)
				return (-1);
			if (++jumps > WIRE_MAX_JUMPS)
				return (-1);
			if (!jumped) {
				end = pos + 2;
				jumped = 1;
			}
			pos = ptr;
			continue;
		}
		if (c & 0xc0)
			return (-1);
		if (n + c + 1 > WIRE_MAX_NAME || pos + 1 + c > len)
			return (-1);
		if (out != NULL)
			memcpy(out + n, pkt + pos, c + 1);
		n += c + 1;
		pos += c + 1;
		if (c == 0)
			break;
		labels++;
	}
	*off = jumped ? end : pos;
	if (nlen != NULL)
		*nlen = n;
	if (nlabels != NULL)
		*nlabels = labels;
	return (0);
}

/*
 * Check an OPT record whose rdata is rdlen octets at off and take its
 * fields into q. Returns -1 if the options do not exactly fill the rdata.
 */
static int
wire_parse_opt(const uint8_t *pkt, size_t len, size_t off, uint16_t rdlen,
    uint32_t ttl, uint16_t class, struct wire_query *q)
{
	size_t	 end = off + rdlen;
	uint16_t olen;

	if (end > len)
		return (-1);
	/* Options: code and length, each needing to fit; unknown ignored. */
	while (off < end) {
		if (end - off < 4)
			return (-1);
		olen = wire_get16(pkt + off + 2);
		off += 4;
		if (end - off < olen)
			return (-1);
		off += olen;
	}

	/* TTL: extended RCODE (ignored in a query), version, DO. */
	q->edns = 1;
	q->edns_version = (ttl >> 16) & 0xff;
	q->do_bit = (ttl & 0x8000) != 0;
	q->udp_size = class < WIRE_MIN_UDP ? WIRE_MIN_UDP : class;
	return (0);
}

/*
 * Everything after the header: question, then the sections. Fills q as far
 * as it gets and returns the verdict for a QUERY opcode.
 */
static enum wire_verdict
wire_parse_body(const uint8_t *pkt, size_t len, struct wire_query *q,
    uint16_t qd, uint16_t an, uint16_t ns, uint16_t ar)
{
	size_t	 off = WIRE_HDR_LEN, nlen, i;
	uint16_t type, class, rdlen;
	uint32_t ttl;
	int	 opt_seen = 0;

	if (qd != 1)
		return (WIRE_ERR_FORMERR);

	/* The question; kept as sent and lower-cased for lookups. */
	if (wire_name(pkt, len, &off, q->name, &nlen, &q->labels) != 0)
		return (WIRE_ERR_FORMERR);
	if (len - off < 4)
		return (WIRE_ERR_FORMERR);
	q->name_len = nlen;
	for (i = 0; i < nlen; i++) {
		if (q->name[i] >= 'A' && q->name[i] <= 'Z')
			q->lname[i] = q->name[i] + ('a' - 'A');
		else
			q->lname[i] = q->name[i];
	}
	q->qtype = wire_get16(pkt + off);
	q->qclass = wire_get16(pkt + off + 2);
	off += 4;
	q->have_question = 1;

	/* A query carries no answers and no authority (RFC 1035 4.1.1). */
	if (an != 0 || ns != 0)
		return (WIRE_ERR_FORMERR);

	/* Additional section: every record well formed, one OPT at most. */
	for (i = 0; i < ar; i++) {
		if (wire_name(pkt, len, &off, NULL, &nlen, NULL) != 0)
			return (WIRE_ERR_FORMERR);
		if (len - off < WIRE_RR_FIXED)
			return (WIRE_ERR_FORMERR);
		type = wire_get16(pkt + off);
		class = wire_get16(pkt + off + 2);
		ttl = wire_get32(pkt + off + 4);
		rdlen = wire_get16(pkt + off + 8);
		off += WIRE_RR_FIXED;
		if (len - off < rdlen)
			return (WIRE_ERR_FORMERR);
		if (type == WIRE_TYPE_OPT) {
			/* RFC 6891 6.1.1: root owner, only one. */
			if (opt_seen || nlen != 1)
				return (WIRE_ERR_FORMERR);
			opt_seen = 1;
			if (wire_parse_opt(pkt, len, off, rdlen, ttl, class,
			    q) != 0)
				return (WIRE_ERR_FORMERR);
		}
		off += rdlen;
	}
	if (off != len)
		return (WIRE_ERR_FORMERR);

	/* Only version 0 is known (RFC 6891 6.1.3). */
	if (q->edns && q->edns_version > 0)
		return (WIRE_ERR_BADVERS);
	return (WIRE_OK);
}

enum wire_verdict
wire_parse_query(const uint8_t *pkt, size_t len, struct wire_query *q)
{
	enum wire_verdict v;

	q->id = 0;
	q->flags = 0;
	q->have_question = 0;
	q->name_len = 0;
	q->labels = 0;
	q->qtype = 0;
	q->qclass = 0;
	q->edns = 0;
	q->edns_version = 0;
	q->do_bit = 0;
	q->udp_size = WIRE_MIN_UDP;

	/* No header or a response: nothing to answer to. */
	if (len < WIRE_HDR_LEN)
		return (WIRE_DROP);
	q->id = wire_get16(pkt);
	q->flags = wire_get16(pkt + 2);
	if (q->flags & WIRE_QR)
		return (WIRE_DROP);

	v = wire_parse_body(pkt, len, q, wire_get16(pkt + 4),
	    wire_get16(pkt + 6), wire_get16(pkt + 8), wire_get16(pkt + 10));

	/* Another opcode: NOTIMP, echoing whatever question was readable. */
	if (WIRE_OPCODE(q->flags) != 0)
		return (WIRE_ERR_NOTIMP);
	return (v);
}

/* Write our OPT record at p; returns its length (WIRE_OPT_LEN). */
static size_t
wire_put_opt(uint8_t *p, int ext_rcode, int do_bit)
{
	uint32_t ttl;

	ttl = ((uint32_t)(ext_rcode & 0xff) << 24) | (do_bit ? 0x8000 : 0);
	p[0] = 0;			/* root owner */
	wire_put16(p + 1, WIRE_TYPE_OPT);
	wire_put16(p + 3, WIRE_EDNS_SIZE);
	wire_put32(p + 5, ttl);
	wire_put16(p + 9, 0);		/* no options */
	return (WIRE_OPT_LEN);
}

/*
 * Our OPT for an answer at p; for a stale one with an EDE option (RFC
 * 8914): info-code 3, Stale Answer, no text. WIRE_OPT_LEN octets, plus
 * WIRE_EDE_STALE_LEN when stale.
 */
static void
wire_put_answer_opt(uint8_t *p, int do_bit, int stale)
{
	wire_put_opt(p, 0, do_bit);
	if (!stale)
		return;
	wire_put16(p + 9, WIRE_EDE_STALE_LEN);	/* RDLENGTH */
	wire_put16(p + WIRE_OPT_LEN, WIRE_OPT_EDE);
	wire_put16(p + WIRE_OPT_LEN + 2, 2);
	wire_put16(p + WIRE_OPT_LEN + 4, WIRE_EDE_STALE);
}

size_t
wire_error(uint8_t *out, size_t cap, const struct wire_query *q, int rcode)
{
	size_t	 need = WIRE_HDR_LEN, off;
	uint16_t flags;
	int	 opt;

	/* BADVERS only exists in an OPT record, so it always carries one. */
	opt = q->edns || rcode == WIRE_BADVERS;
	if (q->have_question)
		need += q->name_len + 4;
	if (opt)
		need += WIRE_OPT_LEN;
	if (need > cap)
		return (0);

	flags = WIRE_QR | WIRE_RA | (q->flags & (0xf << 11)) |
	    (q->flags & (WIRE_RD | WIRE_CD)) | (rcode & 0xf);
	wire_put16(out, q->id);
	wire_put16(out + 2, flags);
	wire_put16(out + 4, q->have_question ? 1 : 0);
	wire_put16(out + 6, 0);
	wire_put16(out + 8, 0);
	wire_put16(out + 10, opt ? 1 : 0);
	off = WIRE_HDR_LEN;

	if (q->have_question) {
		memcpy(out + off, q->name, q->name_len);
		off += q->name_len;
		wire_put16(out + off, q->qtype);
		wire_put16(out + off + 2, q->qclass);
		off += 4;
	}
	if (opt)
		off += wire_put_opt(out + off, rcode >> 4, q->do_bit);
	return (off);
}

size_t
wire_make_query(uint8_t *out, size_t cap, const struct wire_query *q,
    uint16_t id)
{
	size_t	off;

	if (!q->have_question ||
	    (size_t)WIRE_HDR_LEN + q->name_len + 4 + WIRE_OPT_LEN > cap)
		return (0);

	wire_put16(out, id);
	wire_put16(out + 2, WIRE_RD | (q->flags & WIRE_CD));
	wire_put16(out + 4, 1);
	wire_put16(out + 6, 0);
	wire_put16(out + 8, 0);
	wire_put16(out + 10, 1);
	off = WIRE_HDR_LEN;

	memcpy(out + off, q->lname, q->name_len);
	off += q->name_len;
	wire_put16(out + off, q->qtype);
	wire_put16(out + off + 2, q->qclass);
	off += 4;
	off += wire_put_opt(out + off, 0, q->do_bit);
	return (off);
}

int
wire_check_answer(const uint8_t *msg, size_t len, const struct wire_query *q,
    uint16_t id)
{
	size_t	 i, off;
	uint16_t flags;
	uint8_t	 c;

	if (!q->have_question || len < WIRE_HDR_LEN)
		return (-1);
	flags = wire_get16(msg + 2);
	if (wire_get16(msg) != id || !(flags & WIRE_QR) ||
	    WIRE_OPCODE(flags) != 0 || wire_get16(msg + 4) != 1)
		return (-1);
	if (len - WIRE_HDR_LEN < (size_t)q->name_len + 4)
		return (-1);

	/*
	 * The question is the first name in the message, so it cannot be
	 * compressed. Length octets (<= 63) are never letters, so folding
	 * every octet compares the labels and the structure at once; a
	 * pointer octet never matches.
	 */
	for (i = 0; i < q->name_len; i++) {
		c = msg[WIRE_HDR_LEN + i];
		if (c >= 'A' && c <= 'Z')
			c += 'a' - 'A';
		if (c != q->lname[i])
			return (-1);
	}
	off = WIRE_HDR_LEN + q->name_len;
	if (wire_get16(msg + off) != q->qtype ||
	    wire_get16(msg + off + 2) != q->qclass)
		return (-1);
	return (0);
}

/*
 * Read the SOA rdata at off (rdlen octets) and return its MINIMUM field,
 * the last 32 bits after the two (possibly compressed) names.
 */
static int
wire_soa_min(const uint8_t *msg, size_t len, size_t off, size_t rdlen,
    uint32_t *minimum)
{
	size_t	end = off + rdlen;

	if (wire_name(msg, len, &off, NULL, NULL, NULL) != 0 || off > end)
		return (-1);
	if (wire_name(msg, len, &off, NULL, NULL, NULL) != 0 || off > end)
		return (-1);
	if (end - off != 20)
		return (-1);
	*minimum = wire_get32(msg + off + 16);
	return (0);
}

int
wire_scan(uint8_t *msg, size_t len, struct wire_scan *sc)
{
	size_t	 off = WIRE_HDR_LEN, rr, i, total, rd;
	uint16_t qd, type, rdlen;
	uint32_t ttl, min_ttl = UINT32_MAX, soa_ttl = 0, soa_min;
	size_t	 soa_ttl_off = 0;
	int	 sec, have_soa = 0;

	if (len < WIRE_HDR_LEN || len > WIRE_MAX_UDP)
		return (-1);
	sc->flags = wire_get16(msg + 2);
	sc->rcode = WIRE_RCODE(sc->flags);
	qd = wire_get16(msg + 4);
	sc->ancount = wire_get16(msg + 6);
	sc->nscount = wire_get16(msg + 8);
	sc->arcount = wire_get16(msg + 10);
	sc->nttl = 0;
	sc->ttl = 0;
	sc->len = len;

	/* Skip the question(s). */
	for (i = 0; i < qd; i++) {
		if (wire_name(msg, len, &off, NULL, NULL, NULL) != 0 ||
		    len - off < 4)
			return (-1);
		off += 4;
	}

	/* Every record of the three sections, in order. */
	total = (size_t)sc->ancount + sc->nscount + sc->arcount;
	for (i = 0; i < total; i++) {
		if (i < sc->ancount)
			sec = WIRE_SEC_AN;
		else if (i < (size_t)sc->ancount + sc->nscount)
			sec = WIRE_SEC_NS;
		else
			sec = WIRE_SEC_AR;
		rr = off;
		if (wire_name(msg, len, &off, NULL, NULL, NULL) != 0 ||
		    len - off < WIRE_RR_FIXED)
			return (-1);
		type = wire_get16(msg + off);
		ttl = wire_get32(msg + off + 4);
		rdlen = wire_get16(msg + off + 8);
		if (len - off - WIRE_RR_FIXED < rdlen)
			return (-1);

		if (type == WIRE_TYPE_OPT) {
			/* OPT is hop-by-hop: cut it and all after it. */
			if (sec != WIRE_SEC_AR)
				return (-1);
			sc->arcount = i - sc->ancount - sc->nscount;
			wire_put16(msg + 10, sc->arcount);
			sc->len = rr;
			off = len;
			break;
		}

		/*
		 * A CNAME or DNAME is inspected (CNAME cloaking): its rdata
		 * must be exactly one name, or the answer cannot be judged.
		 */
		if (type == WIRE_TYPE_CNAME || type == WIRE_TYPE_DNAME) {
			rd = off + WIRE_RR_FIXED;
			if (wire_name(msg, off + WIRE_RR_FIXED + rdlen, &rd,
			    NULL, NULL, NULL) != 0 ||
			    rd != off + WIRE_RR_FIXED + rdlen)
				return (-1);
		}
		if (sc->nttl >= WIRE_MAX_TTLS)
			return (-1);
		sc->ttl_off[sc->nttl++] = off + 4;
		/* RFC 2181 8: a TTL with the top bit set means zero. */
		if (ttl > INT32_MAX)
			ttl = 0;
		if (sec != WIRE_SEC_AR && ttl < min_ttl)
			min_ttl = ttl;
		if (sec == WIRE_SEC_NS && type == WIRE_TYPE_SOA && !have_soa) {
			if (wire_soa_min(msg, len, off + WIRE_RR_FIXED, rdlen,
			    &soa_min) != 0)
				return (-1);
			if (soa_min > INT32_MAX)
				soa_min = 0;
			soa_ttl = ttl < soa_min ? ttl : soa_min;
			soa_ttl_off = off + 4;
			have_soa = 1;
		}
		off += WIRE_RR_FIXED + rdlen;
	}
	if (off != len)
		return (-1);

	/* How long it may be cached (RFC 2308 5 for negative answers). */
	if (sc->rcode == WIRE_NOERROR && sc->ancount > 0)
		sc->ttl = min_ttl;
	else if ((sc->rcode == WIRE_NXDOMAIN || sc->rcode == WIRE_NOERROR) &&
	    have_soa) {
		/*
		 * A negative answer lives min(SOA TTL, MINIMUM), and the SOA
		 * we pass on says so too, or clients would keep the negative
		 * answer for the SOA's own, often much longer, TTL.
		 */
		sc->ttl = soa_ttl < min_ttl ? soa_ttl : min_ttl;
		wire_put32(msg + soa_ttl_off, soa_ttl);
	} else
		sc->ttl = 0;
	return (0);
}

size_t
wire_answer(uint8_t *out, size_t cap, const uint8_t *msg, size_t len,
    const uint16_t *ttl_off, uint16_t nttl, uint32_t elapsed,
    uint32_t fixed_ttl, const struct wire_query *q, size_t udp_max)
{
	size_t	 qend, total, i, off;
	uint16_t flags;
	uint32_t ttl;
	uint8_t	 c;
	int	 opt = q->edns;
	/* Our OPT; a stale answer says so in it (RFC 8914 EDE 3). */
	size_t	 optlen = !opt ? 0 : WIRE_OPT_LEN +
		     (fixed_ttl != 0 ? WIRE_EDE_STALE_LEN : 0);

	/* The stored question must be the client's, up to case. */
	if (!q->have_question || len < WIRE_HDR_LEN)
		return (0);
	qend = WIRE_HDR_LEN + q->name_len + 4;
	if (qend > len)
		return (0);
	for (i = 0; i < q->name_len; i++) {
		c = msg[WIRE_HDR_LEN + i];
		if (c >= 'A' && c <= 'Z')
			c += 'a' - 'A';
		if (c != q->lname[i])
			return (0);
	}

	flags = wire_get16(msg + 2);
	flags &= ~(WIRE_AA | WIRE_TC | WIRE_RD | WIRE_CD);
	flags |= WIRE_QR | WIRE_RA | (q->flags & (WIRE_RD | WIRE_CD));

	total = len + optlen;
	if (total > udp_max) {
		/* Too big for the client: header, question, OPT and TC=1. */
		total = qend + optlen;
		if (total > cap || total > udp_max)
			return (0);
		wire_put16(out, q->id);
		wire_put16(out + 2, flags | WIRE_TC);
		wire_put16(out + 4, 1);
		wire_put16(out + 6, 0);
		wire_put16(out + 8, 0);
		wire_put16(out + 10, opt ? 1 : 0);
		memcpy(out + WIRE_HDR_LEN, q->name, q->name_len);
		memcpy(out + qend - 4, msg + qend - 4, 4);
		if (opt)
			wire_put_answer_opt(out + qend, q->do_bit,
			    fixed_ttl != 0);
		return (total);
	}
	if (total > cap)
		return (0);

	/* The whole stored message, then ID, flags and name patched. */
	memcpy(out, msg, len);
	wire_put16(out, q->id);
	wire_put16(out + 2, flags);
	memcpy(out + WIRE_HDR_LEN, q->name, q->name_len);

	/* TTLs count down from when the answer was stored. */
	for (i = 0; i < nttl; i++) {
		off = ttl_off[i];
		if (off < qend || off + 4 > len)
			return (0);
		if (fixed_ttl != 0)
			ttl = fixed_ttl;
		else {
			ttl = wire_get32(out + off);
			if (ttl > INT32_MAX || ttl < elapsed)
				ttl = 0;
			else
				ttl -= elapsed;
		}
		wire_put32(out + off, ttl);
	}

	if (opt) {
		wire_put_answer_opt(out + len, q->do_bit, fixed_ttl != 0);
		wire_put16(out + 10, wire_get16(out + 10) + 1);
	}
	return (total);
}

/* Append n octets of s to out at *pos, keeping room for the NUL. */
static void
wire_str_put(char *out, size_t cap, size_t *pos, const char *s, size_t n)
{
	while (n-- > 0 && *pos + 1 < cap)
		out[(*pos)++] = *s++;
}

char *
wire_name_str(const uint8_t *name, size_t name_len, char *out, size_t cap)
{
	size_t	 pos = 0, off = 0, i;
	uint8_t	 c, lab;
	char	 esc[8];

	if (cap == 0)
		return (out);
	while (off < name_len) {
		lab = name[off++];
		if (lab == 0) {
			if (pos == 0)
				wire_str_put(out, cap, &pos, ".", 1);
			break;
		}
		/* A pointer or a label past the end: not a name we can show. */
		if (lab > WIRE_MAX_LABEL || lab > name_len - off) {
			wire_str_put(out, cap, &pos, "?", 1);
			break;
		}
		for (i = 0; i < lab; i++) {
			c = name[off + i];
			if (c <= 0x20 || c >= 0x7f || c == '.' || c == '\\') {
				snprintf(esc, sizeof esc, "\\%03u", c);
				wire_str_put(out, cap, &pos, esc, 4);
			} else
				wire_str_put(out, cap, &pos, (char *)&c, 1);
		}
		off += lab;
		wire_str_put(out, cap, &pos, ".", 1);
	}
	out[pos] = '\0';
	return (out);
}

/*
 * Check that name (len octets) is one uncompressed wire name ending
 * exactly at len; count its labels into *labels. 0 or -1.
 */
static int
wire_name_check(const uint8_t *name, size_t len, uint8_t *labels)
{
	size_t	off = 0;
	uint8_t	n = 0;

	if (len == 0 || len > WIRE_MAX_NAME)
		return (-1);
	while (off < len) {
		if (name[off] == 0) {
			if (off + 1 != len)
				return (-1);
			*labels = n;
			return (0);
		}
		if (name[off] > WIRE_MAX_LABEL)
			return (-1);
		off += name[off] + 1;
		n++;
	}
	return (-1);
}

/* Append n octets; past the capacity only the length grows. */
static void
wire_buf_put(struct wire_buf *b, const void *data, size_t n)
{
	if (n > 0 && b->len <= b->cap && b->cap - b->len >= n)
		memcpy(b->p + b->len, data, n);
	b->len += n;
}

static void
wire_buf_put16(struct wire_buf *b, uint16_t v)
{
	uint8_t	p[2];

	wire_put16(p, v);
	wire_buf_put(b, p, sizeof p);
}

static void
wire_buf_put32(struct wire_buf *b, uint32_t v)
{
	uint8_t	p[4];

	wire_put32(p, v);
	wire_buf_put(b, p, sizeof p);
}

/* Overwrite 16 bits already appended at at, if they were written. */
static void
wire_buf_set16(struct wire_buf *b, size_t at, uint16_t v)
{
	if (at + 2 <= b->cap)
		wire_put16(b->p + at, v);
}

/*
 * Header (counts 0, patched by the caller) and the question as the client
 * spelled it. The flags: QR, RA, RD and CD from the query, AA=0, opcode 0.
 */
static void
wire_buf_head(struct wire_buf *b, const struct wire_query *q, uint16_t rcode)
{
	wire_buf_put16(b, q->id);
	wire_buf_put16(b, WIRE_QR | WIRE_RA |
	    (q->flags & (WIRE_RD | WIRE_CD)) | (rcode & 0xf));
	wire_buf_put16(b, 1);
	wire_buf_put16(b, 0);
	wire_buf_put16(b, 0);
	wire_buf_put16(b, 0);
	wire_buf_put(b, q->name, q->name_len);
	wire_buf_put16(b, q->qtype);
	wire_buf_put16(b, q->qclass);
}

/*
 * How many octets of an EDE text to send: at most WIRE_EDE_MAX_TEXT, cut
 * back to the start of a UTF-8 sequence that the limit would split (the
 * octet just past the cut is then a continuation octet, 10xxxxxx).
 */
static size_t
wire_ede_len(const char *text)
{
	size_t	n;

	if (text == NULL)
		return (0);
	n = strnlen(text, WIRE_EDE_MAX_TEXT + 1);
	if (n <= WIRE_EDE_MAX_TEXT)
		return (n);
	n = WIRE_EDE_MAX_TEXT;
	while (n > 0 && ((uint8_t)text[n] & 0xc0) == 0x80)
		n--;
	return (n);
}

/* Our OPT record with DO echoed and, when code is not 0, an EDE option. */
static void
wire_buf_opt(struct wire_buf *b, int do_bit, uint16_t code, const char *text)
{
	size_t	tlen = wire_ede_len(text);

	wire_buf_put(b, "", 1);			/* root owner */
	wire_buf_put16(b, WIRE_TYPE_OPT);
	wire_buf_put16(b, WIRE_EDNS_SIZE);
	wire_buf_put32(b, do_bit ? 0x8000 : 0);
	if (code == 0) {
		wire_buf_put16(b, 0);
		return;
	}
	/* RFC 8914 2: option code, length, INFO-CODE, EXTRA-TEXT. */
	wire_buf_put16(b, 4 + 2 + tlen);
	wire_buf_put16(b, WIRE_OPT_EDE);
	wire_buf_put16(b, 2 + tlen);
	wire_buf_put16(b, code);
	wire_buf_put(b, text, tlen);
}

/*
 * The SOA of a blocked answer. Its owner is the apex: a pointer into the
 * question when the apex is a label-aligned suffix of the qname (it should
 * always be), else written out.
 */
static void
wire_buf_soa(struct wire_buf *b, const struct wire_query *q,
    const struct wire_block *bl)
{
	size_t	off = 0, at;

	if (bl->apex == NULL)
		wire_buf_put16(b, 0xc000 | WIRE_HDR_LEN);
	else {
		at = bl->apex_len <= q->name_len ?
		    q->name_len - bl->apex_len : q->name_len;
		/* Walk the labels of the qname to see if one starts at at. */
		while (off < at && q->lname[off] != 0)
			off += q->lname[off] + 1;
		if (off == at && at < q->name_len &&
		    memcmp(q->lname + at, bl->apex, bl->apex_len) == 0)
			wire_buf_put16(b, 0xc000 | (WIRE_HDR_LEN + at));
		else
			wire_buf_put(b, bl->apex, bl->apex_len);
	}
	wire_buf_put16(b, WIRE_TYPE_SOA);
	wire_buf_put16(b, WIRE_CLASS_IN);
	wire_buf_put32(b, bl->ttl);
	wire_buf_put16(b, sizeof WIRE_SOA_MNAME + sizeof WIRE_SOA_RNAME + 20);
	/* sizeof counts the NUL, which is the root label. */
	wire_buf_put(b, WIRE_SOA_MNAME, sizeof WIRE_SOA_MNAME);
	wire_buf_put(b, WIRE_SOA_RNAME, sizeof WIRE_SOA_RNAME);
	wire_buf_put32(b, 1);			/* serial */
	wire_buf_put32(b, 3600);		/* refresh */
	wire_buf_put32(b, 600);			/* retry */
	wire_buf_put32(b, 86400);		/* expire */
	wire_buf_put32(b, bl->ttl);		/* minimum */
}

size_t
wire_block_answer(uint8_t *out, size_t cap, const struct wire_query *q,
    const struct wire_block *bl)
{
	struct wire_buf	 b = { out, cap, 0 };
	uint16_t	 rcode = WIRE_NOERROR, an = 0, ns = 0;
	int		 soa = 0;

	if (!q->have_question)
		return (0);
	if (bl->apex != NULL &&
	    (bl->apex_len == 0 || bl->apex_len > WIRE_MAX_NAME))
		return (0);

	switch (bl->action) {
	case WIRE_BLOCK_NXDOMAIN:
		rcode = WIRE_NXDOMAIN;
		soa = 1;
		break;
	case WIRE_BLOCK_NODATA:
		soa = 1;
		break;
	case WIRE_BLOCK_REFUSED:
		rcode = WIRE_REFUSED;
		break;
	case WIRE_BLOCK_REDIRECT:
		/* Only a family we have an address for; else NODATA. */
		if ((q->qtype == WIRE_TYPE_A && bl->have4) ||
		    (q->qtype == WIRE_TYPE_AAAA && bl->have6))
			an = 1;
		else
			soa = 1;
		break;
	default:
		return (0);
	}

	wire_buf_head(&b, q, rcode);
	if (an) {
		wire_buf_put16(&b, 0xc000 | WIRE_HDR_LEN);
		wire_buf_put16(&b, q->qtype);
		wire_buf_put16(&b, WIRE_CLASS_IN);
		wire_buf_put32(&b, bl->ttl);
		if (q->qtype == WIRE_TYPE_A) {
			wire_buf_put16(&b, sizeof bl->addr4);
			wire_buf_put(&b, bl->addr4, sizeof bl->addr4);
		} else {
			wire_buf_put16(&b, sizeof bl->addr6);
			wire_buf_put(&b, bl->addr6, sizeof bl->addr6);
		}
	}
	if (soa) {
		wire_buf_soa(&b, q, bl);
		ns = 1;
	}
	if (q->edns)
		wire_buf_opt(&b, q->do_bit, bl->ede_code, bl->ede_text);
	if (b.len > cap)
		return (0);
	wire_put16(out + 6, an);
	wire_put16(out + 8, ns);
	wire_put16(out + 10, q->edns ? 1 : 0);
	return (b.len);
}

/*
 * Copy the record at *off in msg (len octets) to b with every name
 * decompressed: the owner, and the names inside the rdata of the types
 * RFC 1035 (and RFC 2782 for SRV, which some servers compress anyway)
 * define with names. Other rdata is copied as it is. *off moves past the
 * record. 0, or -1 when the record is malformed.
 */
static int
wire_copy_rr(const uint8_t *msg, size_t len, size_t *off, struct wire_buf *b)
{
	uint8_t	 name[WIRE_MAX_NAME];
	size_t	 nlen, rd, rdend, at, start, pre = 0, post = 0, i, pos;
	uint16_t type, rdlen;
	int	 names = 0;

	if (wire_name(msg, len, off, name, &nlen, NULL) != 0 ||
	    len - *off < WIRE_RR_FIXED)
		return (-1);
	type = wire_get16(msg + *off);
	rdlen = wire_get16(msg + *off + 8);
	rd = *off + WIRE_RR_FIXED;
	if (len - rd < rdlen)
		return (-1);
	rdend = rd + rdlen;
	wire_buf_put(b, name, nlen);
	wire_buf_put(b, msg + *off, 8);		/* type, class, TTL */
	at = b->len;
	wire_buf_put16(b, 0);			/* rdlen, set below */
	start = b->len;

	/* The rdata as: pre octets, then names, then post octets. */
	switch (type) {
	case WIRE_TYPE_CNAME:
	case WIRE_TYPE_DNAME:
	case WIRE_TYPE_NS:
	case WIRE_TYPE_PTR:
		names = 1;
		break;
	case WIRE_TYPE_MX:
		pre = 2;
		names = 1;
		break;
	case WIRE_TYPE_SRV:
		pre = 6;
		names = 1;
		break;
	case WIRE_TYPE_SOA:
		names = 2;
		post = 20;
		break;
	default:
		pre = rdlen;
		break;
	}
	if (rdlen < pre)
		return (-1);
	wire_buf_put(b, msg + rd, pre);
	pos = rd + pre;
	for (i = 0; i < (size_t)names; i++) {
		/* The name starts in the rdata and may not run past it. */
		if (wire_name(msg, len, &pos, name, &nlen, NULL) != 0 ||
		    pos > rdend)
			return (-1);
		wire_buf_put(b, name, nlen);
	}
	if (rdend - pos != post)
		return (-1);
	wire_buf_put(b, msg + pos, post);

	if (b->len - start > UINT16_MAX)
		return (-1);
	wire_buf_set16(b, at, b->len - start);
	*off = rdend;
	return (0);
}

/*
 * Header, question and OPT with TC=1, for an answer over the client's
 * UDP size (as wire_answer() does). Returns the length or 0.
 */
static size_t
wire_truncated(uint8_t *out, size_t cap, const struct wire_query *q,
    uint16_t rcode, size_t udp_max)
{
	struct wire_buf	b = { out, cap, 0 };

	wire_buf_head(&b, q, rcode);
	if (q->edns)
		wire_buf_opt(&b, q->do_bit, 0, NULL);
	if (b.len > cap || b.len > udp_max)
		return (0);
	wire_put16(out + 2, wire_get16(out + 2) | WIRE_TC);
	wire_put16(out + 10, q->edns ? 1 : 0);
	return (b.len);
}

size_t
wire_cname_answer(uint8_t *out, size_t cap, const struct wire_query *q,
    const uint8_t *target, size_t tlen, uint32_t ttl, const uint8_t *tmsg,
    size_t tmsglen, size_t udp_max)
{
	struct wire_buf	 b = { out, cap, 0 };
	size_t		 off = WIRE_HDR_LEN, i, rr;
	uint16_t	 qd, an, ns, rcode, type, nsout = 0;
	uint8_t		 labels;

	if (!q->have_question || wire_name_check(target, tlen, &labels) != 0)
		return (0);
	if (tmsglen < WIRE_HDR_LEN)
		return (0);
	rcode = WIRE_RCODE(wire_get16(tmsg + 2));
	qd = wire_get16(tmsg + 4);
	an = wire_get16(tmsg + 6);
	ns = wire_get16(tmsg + 8);
	if (an == UINT16_MAX)
		return (0);

	/*
	 * Flags built afresh rather than taken from tmsg: AD in particular
	 * cannot stand, since our CNAME is not signed by anyone.
	 */
	wire_buf_head(&b, q, rcode);
	wire_buf_put16(&b, 0xc000 | WIRE_HDR_LEN);
	wire_buf_put16(&b, WIRE_TYPE_CNAME);
	wire_buf_put16(&b, WIRE_CLASS_IN);
	wire_buf_put32(&b, ttl);
	wire_buf_put16(&b, tlen);
	wire_buf_put(&b, target, tlen);

	for (i = 0; i < qd; i++) {
		if (wire_name(tmsg, tmsglen, &off, NULL, NULL, NULL) != 0 ||
		    tmsglen - off < 4)
			return (0);
		off += 4;
	}
	for (i = 0; i < an; i++) {
		if (wire_copy_rr(tmsg, tmsglen, &off, &b) != 0)
			return (0);
	}
	/* A negative answer about the target: pass on its SOA. */
	for (i = 0; an == 0 && i < ns; i++) {
		rr = off;
		if (wire_name(tmsg, tmsglen, &off, NULL, NULL, NULL) != 0 ||
		    tmsglen - off < WIRE_RR_FIXED)
			return (0);
		type = wire_get16(tmsg + off);
		if (type == WIRE_TYPE_SOA) {
			if (wire_copy_rr(tmsg, tmsglen, &rr, &b) != 0)
				return (0);
			nsout = 1;
			break;
		}
		off += WIRE_RR_FIXED;
		if (tmsglen - off < wire_get16(tmsg + off - 2))
			return (0);
		off += wire_get16(tmsg + off - 2);
	}
	if (q->edns)
		wire_buf_opt(&b, q->do_bit, 0, NULL);

	if (b.len > udp_max)
		return (wire_truncated(out, cap, q, rcode, udp_max));
	if (b.len > cap)
		return (0);
	wire_put16(out + 6, 1 + an);
	wire_put16(out + 8, nsout);
	wire_put16(out + 10, q->edns ? 1 : 0);
	return (b.len);
}

int
wire_query_retarget(struct wire_query *dst, const struct wire_query *q,
    const uint8_t *name, size_t len)
{
	uint8_t	labels;
	size_t	i;

	if (wire_name_check(name, len, &labels) != 0)
		return (-1);
	if (dst != q)
		*dst = *q;
	/* memmove: name may be dst's own buffer. */
	memmove(dst->name, name, len);
	for (i = 0; i < len; i++) {
		if (dst->name[i] >= 'A' && dst->name[i] <= 'Z')
			dst->lname[i] = dst->name[i] + ('a' - 'A');
		else
			dst->lname[i] = dst->name[i];
	}
	dst->name_len = len;
	dst->labels = labels;
	dst->have_question = 1;
	return (0);
}

int
wire_inspect(const uint8_t *msg, size_t len, const struct wire_visit *v)
{
	uint8_t	 name[WIRE_MAX_NAME];
	size_t	 off = WIRE_HDR_LEN, i, j, nlen, rd;
	uint16_t qd, an, type, class, rdlen;

	if (len < WIRE_HDR_LEN)
		return (-1);
	qd = wire_get16(msg + 4);
	an = wire_get16(msg + 6);
	for (i = 0; i < qd; i++) {
		if (wire_name(msg, len, &off, NULL, NULL, NULL) != 0 ||
		    len - off < 4)
			return (-1);
		off += 4;
	}
	for (i = 0; i < an; i++) {
		if (wire_name(msg, len, &off, NULL, NULL, NULL) != 0 ||
		    len - off < WIRE_RR_FIXED)
			return (-1);
		type = wire_get16(msg + off);
		class = wire_get16(msg + off + 2);
		rdlen = wire_get16(msg + off + 8);
		off += WIRE_RR_FIXED;
		if (len - off < rdlen)
			return (-1);
		rd = off;
		off += rdlen;

		if (type == WIRE_TYPE_CNAME || type == WIRE_TYPE_DNAME) {
			/* The target fills the rdata exactly. */
			if (wire_name(msg, len, &rd, name, &nlen, NULL) != 0 ||
			    rd != off)
				return (-1);
			for (j = 0; j < nlen; j++) {
				if (name[j] >= 'A' && name[j] <= 'Z')
					name[j] += 'a' - 'A';
			}
			if (v->name != NULL && v->name(v->arg, name, nlen) != 0)
				return (0);
		}
		/* Addresses only in class IN; a CH "A" is something else. */
		if (v->addr == NULL || class != WIRE_CLASS_IN)
			continue;
		if (type == WIRE_TYPE_A && rdlen == 4) {
			if (v->addr(v->arg, AF_INET, msg + rd) != 0)
				return (0);
		} else if (type == WIRE_TYPE_AAAA && rdlen == 16) {
			if (v->addr(v->arg, AF_INET6, msg + rd) != 0)
				return (0);
		}
	}
	return (0);
}

uint64_t
wire_key_hash(const struct wire_query *q, uint64_t seed)
{
	uint64_t	h = 14695981039346656037ULL ^ seed;
	uint8_t		tail[5];
	size_t		i;

	for (i = 0; i < q->name_len; i++)
		h = (h ^ q->lname[i]) * 1099511628211ULL;
	tail[0] = q->qtype >> 8;
	tail[1] = q->qtype & 0xff;
	tail[2] = q->qclass >> 8;
	tail[3] = q->qclass & 0xff;
	tail[4] = (q->do_bit ? 1 : 0) | ((q->flags & WIRE_CD) ? 2 : 0);
	for (i = 0; i < sizeof tail; i++)
		h = (h ^ tail[i]) * 1099511628211ULL;
	return (h);
}
