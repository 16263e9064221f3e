/*
 * wire.c: DNS messages read and written in place, without allocation.
 *
 * Written by hand rather than with ldns because this is the per-query hot
 * path: ldns builds a tree of allocated objects for every packet, while a
 * resolver only needs the header, the question, the OPT record and the
 * positions of the TTLs. Every read is bounds-checked against the length
 * given; nothing here allocates or keeps a pointer after it returns.
 *
 * One way to read, one way to write: names through wire_name(), records
 * through wire_rr_next(), and every packet through a struct wire_buf, so
 * each bounds check is written once.
 */
#include <pthread.h>
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

/*
 * Types whose rdata holds names that may come compressed, private to
 * wire_rdata_shape(): RFC 1035's (NS, CNAME, SOA above); those RFC 3597
 * 4 says receivers SHOULD decompress too (RP, AFSDB, RT, PX, NAPTR, and
 * SRV, which some servers compress anyway); and KX, whose RFC 2230 says
 * MUST NOT compress, read as RT is all the same (below). Not SIG and NXT,
 * also on RFC 3597's list: obsolete since RFC 3755 (RRSIG and NSEC, whose
 * names are never compressed), their rdata is copied as it is.
 */
#define WIRE_TYPE_MD	3
#define WIRE_TYPE_MF	4
#define WIRE_TYPE_MB	7
#define WIRE_TYPE_MG	8
#define WIRE_TYPE_MR	9
#define WIRE_TYPE_PTR	12
#define WIRE_TYPE_MINFO	14
#define WIRE_TYPE_MX	15
#define WIRE_TYPE_RP	17
#define WIRE_TYPE_AFSDB	18
#define WIRE_TYPE_RT	21
#define WIRE_TYPE_PX	26
#define WIRE_TYPE_SRV	33
#define WIRE_TYPE_NAPTR	35
#define WIRE_TYPE_KX	36

/* NAPTR's order and preference, before its three character-strings. */
#define WIRE_NAPTR_FIXED	4

/* SVCB and HTTPS parameters we look into (RFC 9460 14.3.2). */
#define WIRE_SVC_IPV4HINT	4
#define WIRE_SVC_IPV6HINT	6

/* The fixed octets of an RRSIG's rdata before the signer's name. */
#define WIRE_RRSIG_FIXED	18

/* Records wire_scrub() takes in one message (wire_scan() takes 512). */
#define WIRE_SCRUB_MAX_RR	1024

/* Label positions wire_scrub() remembers to move pointers to them. */
#define WIRE_MAP_MAX		1024

/* No record: an index no message reaches. */
#define WIRE_NONE		UINT32_MAX

/* Zones whose NSEC and NSEC3 records a scrubbed answer keeps. */
#define WIRE_MAX_PROOFS		4

/* Our SOA for blocked names: MNAME localhost., RNAME nobody.invalid. */
#define WIRE_SOA_MNAME	"\011localhost"
#define WIRE_SOA_RNAME	"\006nobody\007invalid"

/*
 * An output buffer that keeps counting past its capacity, so a message is
 * written in one pass and its full length is known even when it does not
 * fit (to choose between truncation and failure afterwards). Every packet
 * this module writes goes through one.
 */
struct wire_buf {
	uint8_t		*p;
	size_t		 cap;
	size_t		 len;	/* may pass cap: counted, not written */
};

/* What wire_scan() carries from one record to the next. */
struct wire_ttls {
	uint32_t	 min;		/* smallest TTL of answer, authority */
	uint32_t	 soa;		/* min(TTL, MINIMUM) of the first SOA
					   in the authority section */
	size_t		 soa_off;	/* that SOA's TTL field */
	int		 have_soa;
};

/*
 * Where the names are in the rdata of a record: pre octets, then names
 * names, then exactly post octets (the rest, when there are no names).
 * Read from the rdata itself for NAPTR, whose pre ends after three
 * character-strings.
 */
struct wire_shape {
	size_t		 pre;
	int		 names;
	size_t		 post;
};

/*
 * Where labels went when a message was written anew: the label at offset
 * from[i] of the old message is at to[i] of the new, with the same name
 * after it. from[] only grows, so it is searched by halves.
 */
struct wire_map {
	uint16_t	 from[WIRE_MAP_MAX];
	uint16_t	 to[WIRE_MAP_MAX];
	size_t		 n;
};

/* A name, lower-cased, uncompressed. */
struct wire_lname {
	uint8_t		 name[WIRE_MAX_NAME];
	size_t		 len;
};

/*
 * The chain of a question as wire_scrub() follows it, and what it learns
 * of the answer on the way. Link i leads from name[i] to name[i + 1] (or
 * back into the chain, or past its end, for the last name).
 */
/*
 * What the first walk of a message learnt of its records, for the later
 * walks of the same message from the same offset (wire_scrub() walks an
 * answer three or four times): for record i < n, where its fixed part
 * starts and its owner's length, so that the owner name is not read
 * again (the name was most of the cost of a walk).
 */
struct wire_rrmemo {
	uint32_t		 n;
	uint16_t		 qlen;		/* octets of the question's name,
						   which is checked and
						   uncompressed; 0: unknown */
	uint16_t		 fixed[WIRE_SCRUB_MAX_RR];
	uint16_t		 nlen[WIRE_SCRUB_MAX_RR];
};

struct wire_chain {
	const struct wire_query	*q;
	struct wire_rrmemo	*memo;		/* the walks' records */
	struct wire_lname	 name[WIRE_MAX_CHAIN];
	size_t			 n;
	uint32_t		 cname[WIRE_MAX_CHAIN];	/* the CNAME record
							   of link i, or
							   WIRE_NONE */
	uint32_t		 dname[WIRE_MAX_CHAIN];	/* the DNAME record
							   of link i, or
							   WIRE_NONE */
	size_t			 dlen[WIRE_MAX_CHAIN];	/* its owner: the
							   last dlen octets
							   of name[i] */
	int			 rcode;		/* the answer's */
	int			 qsame;		/* the message's question is
						   name[0] (any case) */
	int			 positive;	/* data at the last name */
	uint32_t		 soa;		/* the SOA kept, or WIRE_NONE */
	struct wire_lname	 zone;		/* ... and its owner */
	struct wire_lname	 proof[WIRE_MAX_PROOFS]; /* zones whose NSEC
							   and NSEC3 stay */
	size_t			 nproof;
};

static uint16_t	wire_get16(const uint8_t *);
static uint32_t	wire_get32(const uint8_t *);
static void	wire_put16(uint8_t *, uint16_t);
static void	wire_put32(uint8_t *, uint32_t);
static uint8_t	wire_fold(uint8_t);
static uint64_t	wire_fold8(uint64_t);
static int	wire_equal_lower(const uint8_t *, const uint8_t *, size_t);
static const char *wire_name(const uint8_t *, size_t, size_t *, uint8_t *,
		    size_t *, uint8_t *);
static int	wire_name_check(const uint8_t *, size_t, uint8_t *);
static size_t	wire_parse_question(const uint8_t *, size_t,
		    struct wire_query *);
static int	wire_rr_read_memo(struct wire_rr *, struct wire_rrmemo *);
static int	wire_rr_read(struct wire_rr *);
static int	wire_parse_opt(const struct wire_rr *, struct wire_query *);
static enum wire_verdict wire_parse_additional(const uint8_t *, size_t,
		    size_t, struct wire_query *);
static enum wire_verdict wire_parse_body(const uint8_t *, size_t,
		    struct wire_query *);
static int	wire_soa_min(const uint8_t *, size_t, size_t, size_t,
		    uint32_t *);
static int	wire_scan_rr(const struct wire_rr *, struct wire_scan *,
		    struct wire_ttls *);
static void	wire_scan_ttl(uint8_t *, struct wire_scan *,
		    const struct wire_ttls *);
static void	wire_str_put(char *, size_t, size_t *, const char *, size_t);
static void	wire_buf_put(struct wire_buf *, const void *, size_t);
static void	wire_buf_put16(struct wire_buf *, uint16_t);
static void	wire_buf_put32(struct wire_buf *, uint32_t);
static void	wire_buf_set16(struct wire_buf *, size_t, uint16_t);
static void	wire_buf_header(struct wire_buf *, uint16_t, uint16_t,
		    uint16_t);
static void	wire_buf_question(struct wire_buf *, const uint8_t *, size_t,
		    uint16_t, uint16_t);
static void	wire_buf_counts(struct wire_buf *, uint16_t, uint16_t,
		    uint16_t);
static uint16_t	wire_flags(const struct wire_query *, int);
static void	wire_buf_head(struct wire_buf *, const struct wire_query *,
		    uint16_t);
static size_t	wire_ede_len(const char *);
static size_t	wire_opt_len(uint16_t, const char *);
static void	wire_buf_opt(struct wire_buf *, int, int, uint16_t,
		    const char *);
static size_t	wire_truncated(uint8_t *, size_t, const struct wire_query *,
		    uint16_t, uint16_t, size_t);
static size_t	wire_block_apex(const struct wire_query *,
		    const struct wire_block *);
static uint8_t	*wire_block_soa(uint8_t *, const struct wire_block *, size_t);
static uint8_t	*wire_block_opt(uint8_t *, const struct wire_query *,
		    const struct wire_block *, size_t);
static int	wire_rdata_shape(const struct wire_rr *, struct wire_shape *);
static int	wire_map_find(const struct wire_map *, size_t, size_t *);
static void	wire_map_add(struct wire_map *, size_t, size_t);
static void	wire_buf_name(struct wire_buf *, const uint8_t *, size_t,
		    struct wire_map *);
static int	wire_copy_rr(const struct wire_rr *, struct wire_buf *,
		    struct wire_map *);
static int	wire_svcb(const struct wire_rr *, const struct wire_visit *);
static size_t	wire_lname_read(const uint8_t *, size_t, size_t, size_t,
		    struct wire_lname *);
static int	wire_lname_eq(const struct wire_lname *, const uint8_t *,
		    size_t);
static int	wire_under(const uint8_t *, size_t, const uint8_t *, size_t);
static int	wire_class_ok(const struct wire_chain *,
		    const struct wire_rr *);
static int	wire_chain_cname(struct wire_chain *, size_t,
		    const struct wire_rr *, struct wire_lname *);
static int	wire_chain_dname(struct wire_chain *, size_t,
		    const struct wire_rr *, struct wire_lname *);
static int	wire_chain_link(struct wire_chain *, size_t, const uint8_t *,
		    size_t, size_t, struct wire_lname *);
static int	wire_chain_build(struct wire_chain *, const uint8_t *, size_t,
		    size_t);
static void	wire_chain_proof(struct wire_chain *, const uint8_t *,
		    size_t);
static int	wire_keep_sig(struct wire_chain *, const struct wire_rr *,
		    const struct wire_lname *);
static int	wire_keep_proof(const struct wire_chain *,
		    const struct wire_rr *, const struct wire_lname *);
static int	wire_keep(struct wire_chain *, const struct wire_rr *);
static int	wire_chain_soa(struct wire_chain *, struct wire_rr);
static int	wire_scrub_mark(struct wire_chain *, const uint8_t *, size_t,
		    size_t, uint8_t *);
static size_t	wire_scrub_write(const uint8_t *, size_t, size_t,
		    const uint8_t *, struct wire_rrmemo *, uint8_t *);
static size_t	wire_scrub_cut(uint8_t *, size_t, size_t, const uint8_t *,
		    struct wire_rrmemo *);

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

/* Big-endian writes; only for fields already inside the message. */
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

/* One octet to lower case: ASCII letters only (RFC 4343). */
static inline uint8_t
wire_fold(uint8_t c)
{
	return ((uint8_t)(c - 'A') < 26 ? c + ('a' - 'A') : c);
}

/*
 * Eight octets to lower case at once, as wire_fold() each: in every
 * octet under 0x80, its low seven bits plus 0x3f reach 0x80 from 'A' on,
 * plus 0x25 from past 'Z' on (no carry leaves an octet), and the octets
 * in between get 0x20. A query's name was folded and compared an octet
 * at a time: a tenth of a cache hit's instructions.
 */
static inline uint64_t
wire_fold8(uint64_t w)
{
	uint64_t	low = w & 0x7f7f7f7f7f7f7f7fULL;
	uint64_t	from_a = low + 0x3f3f3f3f3f3f3f3fULL;
	uint64_t	past_z = low + 0x2525252525252525ULL;

	return (w | ((from_a & ~past_z & ~w & 0x8080808080808080ULL) >> 2));
}

void
wire_lower(uint8_t *dst, const uint8_t *src, size_t len)
{
	uint64_t	w;
	size_t		i;

	for (i = 0; i + 8 <= len; i += 8) {
		memcpy(&w, src + i, sizeof w);
		w = wire_fold8(w);
		memcpy(dst + i, &w, sizeof w);
	}
	/*
	 * The last octets of a name of eight or more as one more word, the
	 * last eight, overlapping the word before: folding an octet twice
	 * folds it once (dst may be src). The octet loop took a third of
	 * the fold of a question's name.
	 */
	if (i < len && len >= 8) {
		memcpy(&w, src + len - 8, sizeof w);
		w = wire_fold8(w);
		memcpy(dst + len - 8, &w, sizeof w);
		return;
	}
	for (; i < len; i++)
		dst[i] = wire_fold(src[i]);
}

/*
 * Is name (len octets, any case) lname (lower case)? Length octets (<= 63)
 * are never letters, so folding every octet compares the labels and the
 * structure at once; a pointer octet never matches a length.
 */
static int
wire_equal_lower(const uint8_t *name, const uint8_t *lname, size_t len)
{
	uint64_t	a, b;
	size_t		i;

	for (i = 0; i + 8 <= len; i += 8) {
		memcpy(&a, name + i, sizeof a);
		memcpy(&b, lname + i, sizeof b);
		if (wire_fold8(a) != b)
			return (0);
	}
	for (; i < len; i++) {
		if (wire_fold(name[i]) != lname[i])
			return (0);
	}
	return (1);
}

/*
 * Walk the name at *off in pkt (len octets). On success returns NULL, *off
 * is just past the name where it starts (past the first pointer if
 * compressed), *nlen the length of the uncompressed wire form including
 * the root octet, and, if out is not NULL, that form is copied to out
 * (WIRE_MAX_NAME octets). Pointers must point backwards (strictly before
 * the pointer itself) and past the header; the jump bound and the
 * 255-octet bound together rule out loops. Label types 0x40 and 0x80 are
 * refused (RFC 6891 5). On failure returns what was wrong (static text).
 * The labels between two pointers lie together in pkt and in out, and
 * are copied at once when the walk leaves them (a question's name: once).
 */
static const char *
wire_name(const uint8_t *pkt, size_t len, size_t *off, uint8_t *out,
    size_t *nlen, uint8_t *nlabels)
{
	size_t	 pos = *off, end = 0, n = 0, ptr, from = pos, at = 0;
	int	 jumped = 0, jumps = 0;
	uint8_t	 c, labels = 0;

	/*
	 * The root alone, as the loop below would take it: the owner of
	 * every query's OPT record, where the loop's setup and checks cost
	 * some 50 instructions for one octet.
	 */
	if (pos < len && pkt[pos] == 0) {
		if (out != NULL)
			out[0] = 0;
		*off = pos + 1;
		if (nlen != NULL)
			*nlen = 1;
		if (nlabels != NULL)
			*nlabels = 0;
		return (NULL);
	}
	for (;;) {
		if (pos >= len)
			return ("name runs past the end");
		c = pkt[pos];
		if ((c & 0xc0) == 0xc0) {
			/* Compression pointer: 14-bit offset, backwards only. */
			if (pos + 1 >= len)
				return ("name runs past the end");
			ptr = ((size_t)(c & 0x3f) << 8) | pkt[pos + 1];
			if (ptr < WIRE_HDR_LEN || ptr >= pos)
				return ("compression pointer not backwards");
			if (++jumps > WIRE_MAX_JUMPS)
				return ("too many compression pointers");
			if (!jumped) {
				end = pos + 2;
				jumped = 1;
			}
			/* The labels walked since the last jump. */
			if (out != NULL)
				memcpy(out + at, pkt + from, n - at);
			pos = from = ptr;
			at = n;
			continue;
		}
		if (c & 0xc0)
			return ("unknown label type");
		/* Labels that come round again: a loop, caught here. */
		if (n + c + 1 > WIRE_MAX_NAME) {
			return (jumped ? "compression loop or name over 255 "
			    "octets" : "name over 255 octets");
		}
		if (pos + 1 + c > len)
			return ("name runs past the end");
		n += c + 1;
		pos += c + 1;
		if (c == 0)
			break;
		labels++;
	}
	if (out != NULL)
		memcpy(out + at, pkt + from, n - at);
	*off = jumped ? end : pos;
	if (nlen != NULL)
		*nlen = n;
	if (nlabels != NULL)
		*nlabels = labels;
	return (NULL);
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

size_t
wire_skip_question(const uint8_t *msg, size_t len)
{
	size_t		 off = WIRE_HDR_LEN;
	unsigned int	 qd, i;

	if (len < WIRE_HDR_LEN)
		return (0);
	qd = wire_get16(msg + 4);
	for (i = 0; i < qd; i++) {
		if (wire_name(msg, len, &off, NULL, NULL, NULL) != NULL ||
		    len - off < 4)
			return (0);
		off += 4;
	}
	return (off);
}

void
wire_rr_begin(struct wire_rr *rr, const uint8_t *msg, size_t len,
    size_t off)
{
	rr->msg = msg;
	rr->len = len;
	rr->next = off;
	rr->read = 0;
	rr->end[WIRE_SEC_AN] = wire_get16(msg + 6);
	rr->end[WIRE_SEC_NS] = rr->end[WIRE_SEC_AN] + wire_get16(msg + 8);
	rr->end[WIRE_SEC_AR] = rr->end[WIRE_SEC_NS] + wire_get16(msg + 10);
	rr->why = NULL;
}

/*
 * Is the name at off of msg (len octets) just a pointer to the question's
 * name, right after the header? Nearly every record of an answer is
 * owned so.
 */
static int
wire_at_question(const uint8_t *msg, size_t len, size_t off)
{
	return (len - off >= 2 && msg[off] == 0xc0 &&
	    msg[off + 1] == WIRE_HDR_LEN);
}

/*
 * The body of wire_rr_next(), with a memo m of the records of the message
 * (or NULL): a record m knows is not read again up to its fixed part; the
 * next one read is added to it. Always inlined so that the walkers here
 * get it inlined (the parse of every query runs it): the stores a walker
 * does not read then cost nothing, and so does the memo when it is NULL
 * (called out of line from the scrub's walks, it cost 90 instructions a
 * record more).
 */
static inline int __attribute__((always_inline))
wire_rr_read_memo(struct wire_rr *rr, struct wire_rrmemo *m)
{
	const uint8_t	*p;
	size_t		 off = rr->next, nlen;

	if (rr->read >= rr->end[WIRE_SEC_AR])
		return (0);
	if (m != NULL && rr->read < m->n) {
		/* Read before by this walk's first pass: checked then. */
		off = m->fixed[rr->read];
		nlen = m->nlen[rr->read];
	} else {
		if (m != NULL && m->qlen != 0 &&
		    wire_at_question(rr->msg, rr->len, off)) {
			/*
			 * Just a pointer to the question's name, which the
			 * scrub checked: what wire_name() would say of it.
			 * Nearly every answer's records are owned so.
			 */
			off += 2;
			nlen = m->qlen;
		} else if (off < rr->len && rr->msg[off] == 0) {
			/*
			 * The root, as wire_name() would take it: the owner
			 * of every query's OPT record, without the call.
			 */
			off++;
			nlen = 1;
		} else if ((rr->why = wire_name(rr->msg, rr->len, &off, NULL,
		    &nlen, NULL)) != NULL)
			return (-1);
		if (m != NULL && rr->read == m->n &&
		    m->n < WIRE_SCRUB_MAX_RR && off <= UINT16_MAX) {
			m->fixed[m->n] = (uint16_t)off;
			m->nlen[m->n] = (uint16_t)nlen;
			m->n++;
		}
	}
	/* wire_name() leaves off <= len. */
	if (rr->len - off < WIRE_RR_FIXED) {
		rr->why = "record runs past the end";
		return (-1);
	}
	p = rr->msg + off;
	rr->owner = rr->next;
	rr->owner_len = nlen;
	rr->type = wire_get16(p);
	rr->class = wire_get16(p + 2);
	rr->ttl = wire_get32(p + 4);
	rr->ttl_off = off + 4;
	rr->rdlen = wire_get16(p + 8);
	rr->rdata = off + WIRE_RR_FIXED;
	if (rr->len - rr->rdata < rr->rdlen) {
		rr->why = "rdata runs past the end";
		return (-1);
	}

	if (rr->read < rr->end[WIRE_SEC_AN]) {
		rr->section = WIRE_SEC_AN;
		rr->nth = rr->read;
	} else if (rr->read < rr->end[WIRE_SEC_NS]) {
		rr->section = WIRE_SEC_NS;
		rr->nth = rr->read - rr->end[WIRE_SEC_AN];
	} else {
		rr->section = WIRE_SEC_AR;
		rr->nth = rr->read - rr->end[WIRE_SEC_NS];
	}
	rr->next = rr->rdata + rr->rdlen;
	rr->read++;
	return (1);
}

/* wire_rr_read_memo() without a memo. */
static inline int
wire_rr_read(struct wire_rr *rr)
{
	return (wire_rr_read_memo(rr, NULL));
}

int
wire_rr_next(struct wire_rr *rr)
{
	return (wire_rr_read(rr));
}

/*
 * len octets of src copied to name and, lower-cased, to lname, eight at a
 * time (the last eight overlapping the word before, as wire_lower()).
 */
static inline void
wire_copy_lower(uint8_t *name, uint8_t *lname, const uint8_t *src,
    size_t len)
{
	uint64_t	w;
	size_t		i;

	for (i = 0; i + 8 <= len; i += 8) {
		memcpy(&w, src + i, sizeof w);
		memcpy(name + i, &w, sizeof w);
		w = wire_fold8(w);
		memcpy(lname + i, &w, sizeof w);
	}
	if (i < len && len >= 8) {
		memcpy(&w, src + len - 8, sizeof w);
		memcpy(name + len - 8, &w, sizeof w);
		w = wire_fold8(w);
		memcpy(lname + len - 8, &w, sizeof w);
		return;
	}
	for (; i < len; i++) {
		name[i] = src[i];
		lname[i] = wire_fold(src[i]);
	}
}

/*
 * The question's name when it is plain labels to the root, as nearly
 * every query's is: what wire_name() would take, its length to *nlen and
 * its labels to q->labels, in a loop of a test or two a label; the offset
 * just past it, or 0 for anything else (a pointer, a label type, a name
 * over 255 octets or past the end), which wire_name() then walks and
 * says what was wrong with. Its checks and the copy took a tenth of a
 * cache hit's instructions.
 */
static inline size_t
wire_qname_plain(const uint8_t *pkt, size_t len, struct wire_query *q,
    size_t *nlen)
{
	size_t	pos = WIRE_HDR_LEN;
	uint8_t	c;
	unsigned labels = 0;

	for (;;) {
		if (pos >= len)
			return (0);
		if ((c = pkt[pos]) == 0)
			break;
		if (c > 63)
			return (0);
		pos += (size_t)c + 1;
		labels++;
	}
	/* Lengths only grow: the whole within bounds, every prefix is. */
	if (pos + 1 - WIRE_HDR_LEN > WIRE_MAX_NAME)
		return (0);
	*nlen = pos + 1 - WIRE_HDR_LEN;
	q->labels = (uint8_t)labels;
	return (pos + 1);
}

/*
 * The question of a query: the name as sent and lower-cased, type and
 * class. Returns the offset just past it, or 0 with q->why set.
 */
static size_t
wire_parse_question(const uint8_t *pkt, size_t len, struct wire_query *q)
{
	size_t	 off = WIRE_HDR_LEN, nlen, end;
	uint16_t qd = wire_get16(pkt + 4);

	if (qd != 1) {
		q->why = qd == 0 ? "QDCOUNT is 0" : "QDCOUNT is above 1";
		return (0);
	}
	/* Kept as sent for the answer, lower-cased for every lookup. */
	if ((end = wire_qname_plain(pkt, len, q, &nlen)) != 0) {
		wire_copy_lower(q->name, q->lname, pkt + WIRE_HDR_LEN, nlen);
		off = end;
	} else {
		q->why = wire_name(pkt, len, &off, q->name, &nlen,
		    &q->labels);
		if (q->why != NULL)
			return (0);
		wire_lower(q->lname, q->name, nlen);
	}
	if (len - off < 4) {
		q->why = "question cut short";
		return (0);
	}
	q->name_len = nlen;
	q->qtype = wire_get16(pkt + off);
	q->qclass = wire_get16(pkt + off + 2);
	q->have_question = 1;
	return (off + 4);
}

/*
 * Check the options of the OPT record rr and take its fields into q.
 * Returns -1 if the options do not exactly fill the rdata.
 */
static int
wire_parse_opt(const struct wire_rr *rr, struct wire_query *q)
{
	size_t	 off = rr->rdata, end = rr->rdata + rr->rdlen;
	uint16_t olen;

	/* Options: code and length, each needing to fit; unknown ignored. */
	while (off < end) {
		if (end - off < 4)
			return (-1);
		olen = wire_get16(rr->msg + off + 2);
		off += 4;
		if (end - off < olen)
			return (-1);
		off += olen;
	}

	/* TTL: extended RCODE (ignored in a query), version, DO. */
	q->edns = 1;
	q->edns_version = (rr->ttl >> 16) & 0xff;
	q->do_bit = (rr->ttl & 0x8000) != 0;
	q->udp_size = rr->class < WIRE_MIN_UDP ? WIRE_MIN_UDP : rr->class;
	return (0);
}

/*
 * The additional section of a query from off: every record well formed,
 * one OPT at most (RFC 6891 6.1.1), nothing after the last record.
 */
static enum wire_verdict
wire_parse_additional(const uint8_t *pkt, size_t len, size_t off,
    struct wire_query *q)
{
	struct wire_rr	rr;
	int		r, opt_seen = 0;

	/* Inlined (the parse of every query): a call cost 50 a record. */
	wire_rr_begin(&rr, pkt, len, off);
	while ((r = wire_rr_read_memo(&rr, NULL)) == 1) {
		if (rr.type != WIRE_TYPE_OPT)
			continue;
		if (opt_seen) {
			q->why = "more than one OPT record";
			return (WIRE_ERR_FORMERR);
		}
		if (rr.owner_len != 1) {
			q->why = "OPT owner is not the root";
			return (WIRE_ERR_FORMERR);
		}
		opt_seen = 1;
		if (wire_parse_opt(&rr, q) != 0) {
			q->why = "OPT options do not fill its rdata";
			return (WIRE_ERR_FORMERR);
		}
	}
	if (r == -1) {
		q->why = rr.why;
		return (WIRE_ERR_FORMERR);
	}
	if (rr.next != len) {
		q->why = "trailing octets";
		return (WIRE_ERR_FORMERR);
	}
	return (WIRE_OK);
}

/*
 * Everything after the header: question, then the sections. Fills q as far
 * as it gets and returns the verdict for a QUERY opcode.
 */
static enum wire_verdict
wire_parse_body(const uint8_t *pkt, size_t len, struct wire_query *q)
{
	enum wire_verdict	v;
	size_t			off;

	if ((off = wire_parse_question(pkt, len, q)) == 0)
		return (WIRE_ERR_FORMERR);

	/* A query carries no answers and no authority (RFC 1035 4.1.1). */
	if (wire_get16(pkt + 6) != 0) {
		q->why = "ANCOUNT is not 0";
		return (WIRE_ERR_FORMERR);
	}
	if (wire_get16(pkt + 8) != 0) {
		q->why = "NSCOUNT is not 0";
		return (WIRE_ERR_FORMERR);
	}
	if ((v = wire_parse_additional(pkt, len, off, q)) != WIRE_OK)
		return (v);

	/* Only version 0 is known (RFC 6891 6.1.3). */
	if (q->edns && q->edns_version > 0) {
		q->why = "EDNS version above 0";
		return (WIRE_ERR_BADVERS);
	}
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
	q->why = NULL;
	q->qhashed = 0;

	/* No header or a response: nothing to answer to. */
	if (len < WIRE_HDR_LEN) {
		q->why = "shorter than a header";
		return (WIRE_DROP);
	}
	q->id = wire_get16(pkt);
	q->flags = wire_get16(pkt + 2);
	if (q->flags & WIRE_QR) {
		q->why = "QR is set";
		return (WIRE_DROP);
	}

	v = wire_parse_body(pkt, len, q);

	/* Another opcode: NOTIMP, echoing whatever question was readable. */
	if (WIRE_OPCODE(q->flags) != 0) {
		q->why = "opcode is not QUERY";
		return (WIRE_ERR_NOTIMP);
	}
	return (v);
}

const char *
wire_verdict_name(enum wire_verdict v)
{
	switch (v) {
	case WIRE_OK:
		return ("ok");
	case WIRE_DROP:
		return ("drop");
	case WIRE_ERR_FORMERR:
		return ("FORMERR");
	case WIRE_ERR_NOTIMP:
		return ("NOTIMP");
	case WIRE_ERR_BADVERS:
		return ("BADVERS");
	}
	return ("?");
}

/* Append n octets; past the capacity only the length grows. */
static void
wire_buf_put(struct wire_buf *b, const void *data, size_t n)
{
	if (n > 0 && b->len <= b->cap && b->cap - b->len >= n)
		memcpy(b->p + b->len, data, n);
	b->len += n;
}

/* Fixed-size appends written in place: these run for every field. */
static void
wire_buf_put16(struct wire_buf *b, uint16_t v)
{
	if (b->len <= b->cap && b->cap - b->len >= 2)
		wire_put16(b->p + b->len, v);
	b->len += 2;
}

static void
wire_buf_put32(struct wire_buf *b, uint32_t v)
{
	if (b->len <= b->cap && b->cap - b->len >= 4)
		wire_put32(b->p + b->len, v);
	b->len += 4;
}

/* Overwrite two octets already appended at at, if they were written. */
static void
wire_buf_set16(struct wire_buf *b, size_t at, uint16_t v)
{
	if (at + 2 <= b->cap)
		wire_put16(b->p + at, v);
}

/* A header: ID, flags, QDCOUNT; the other counts 0 until set. */
static void
wire_buf_header(struct wire_buf *b, uint16_t id, uint16_t flags, uint16_t qd)
{
	uint8_t	h[WIRE_HDR_LEN] = { 0 };

	wire_put16(h, id);
	wire_put16(h + 2, flags);
	wire_put16(h + 4, qd);
	wire_buf_put(b, h, sizeof h);
}

/* A question: name (len octets, wire form), type and class. */
static void
wire_buf_question(struct wire_buf *b, const uint8_t *name, size_t len,
    uint16_t type, uint16_t class)
{
	wire_buf_put(b, name, len);
	wire_buf_put16(b, type);
	wire_buf_put16(b, class);
}

/* The header's record counts, once the records are written. */
static void
wire_buf_counts(struct wire_buf *b, uint16_t an, uint16_t ns, uint16_t ar)
{
	wire_buf_set16(b, 6, an);
	wire_buf_set16(b, 8, ns);
	wire_buf_set16(b, 10, ar);
}

/*
 * The flags of a response we build ourselves: QR, RA, RD and CD from the
 * query, the rcode's low bits; AA=0, opcode 0, AD=0.
 */
static uint16_t
wire_flags(const struct wire_query *q, int rcode)
{
	return (WIRE_QR | WIRE_RA | (q->flags & (WIRE_RD | WIRE_CD)) |
	    (rcode & 0xf));
}

/*
 * Header with flags (counts but QDCOUNT 0) and the question, when q has
 * one, as the client spelled it.
 */
static void
wire_buf_head(struct wire_buf *b, const struct wire_query *q, uint16_t flags)
{
	wire_buf_header(b, q->id, flags, q->have_question ? 1 : 0);
	if (q->have_question)
		wire_buf_question(b, q->name, q->name_len, q->qtype,
		    q->qclass);
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

/* The length wire_buf_opt() writes for an EDE code (0: none) and text. */
static size_t
wire_opt_len(uint16_t code, const char *text)
{
	return (WIRE_OPT_LEN + (code != 0 ? 6 + wire_ede_len(text) : 0));
}

/*
 * Our OPT record, the only one this module writes: UDP size
 * WIRE_EDNS_SIZE, the extended bits of rcode (BADVERS), DO as given and,
 * when code is not 0, an Extended DNS Error option with that info code and
 * text (RFC 8914 2). Built on the stack and appended at once, since every
 * answer to an EDNS client carries one.
 */
static void
wire_buf_opt(struct wire_buf *b, int rcode, int do_bit, uint16_t code,
    const char *text)
{
	uint8_t	opt[WIRE_OPT_LEN + 6];
	size_t	n = WIRE_OPT_LEN, tlen = 0;

	opt[0] = 0;				/* root owner */
	wire_put16(opt + 1, WIRE_TYPE_OPT);
	wire_put16(opt + 3, WIRE_EDNS_SIZE);
	wire_put32(opt + 5, ((uint32_t)((rcode >> 4) & 0xff) << 24) |
	    (do_bit ? 0x8000 : 0));
	wire_put16(opt + 9, 0);			/* no options */
	if (code != 0) {
		/* Option code, length, INFO-CODE, then EXTRA-TEXT. */
		tlen = wire_ede_len(text);
		wire_put16(opt + 9, 4 + 2 + tlen);
		wire_put16(opt + 11, WIRE_OPT_EDE);
		wire_put16(opt + 13, 2 + tlen);
		wire_put16(opt + 15, code);
		n += 6;
	}
	wire_buf_put(b, opt, n);
	wire_buf_put(b, text, tlen);
}

size_t
wire_error(uint8_t *out, size_t cap, const struct wire_query *q, int rcode)
{
	struct wire_buf	 b = { out, cap, 0 };
	uint16_t	 flags;
	/* BADVERS only exists in an OPT record, so it always carries one. */
	int		 opt = q->edns || rcode == WIRE_BADVERS;

	/* Unlike our answers, an error echoes the opcode it refuses. */
	flags = wire_flags(q, rcode) | (q->flags & (0xf << 11));
	/*
	 * Recursion is available for QUERY only: an answer to another
	 * opcode (NOTIMP) must not claim RA (ISC's DNS compliance tests).
	 */
	if (q->flags & (0xf << 11))
		flags &= ~WIRE_RA;
	wire_buf_head(&b, q, flags);
	if (opt)
		wire_buf_opt(&b, rcode, q->do_bit, 0, NULL);
	if (b.len > cap)
		return (0);
	wire_buf_counts(&b, 0, 0, opt ? 1 : 0);
	return (b.len);
}

size_t
wire_make_query(uint8_t *out, size_t cap, const struct wire_query *q,
    uint16_t id, const uint8_t *name)
{
	struct wire_buf	b = { out, cap, 0 };

	if (!q->have_question)
		return (0);
	wire_buf_header(&b, id, WIRE_RD | (q->flags & WIRE_CD), 1);
	wire_buf_question(&b, name != NULL ? name : q->lname, q->name_len,
	    q->qtype, q->qclass);
	wire_buf_opt(&b, 0, q->do_bit, 0, NULL);
	if (b.len > cap)
		return (0);
	wire_buf_counts(&b, 0, 0, 1);
	return (b.len);
}

int
wire_check_answer(const uint8_t *msg, size_t len, const struct wire_query *q,
    uint16_t id)
{
	size_t	 off;
	uint16_t flags;

	if (!q->have_question || len < WIRE_HDR_LEN)
		return (-1);
	flags = wire_get16(msg + 2);
	if (wire_get16(msg) != id || !(flags & WIRE_QR) ||
	    WIRE_OPCODE(flags) != 0 || wire_get16(msg + 4) != 1)
		return (-1);
	if (len - WIRE_HDR_LEN < (size_t)q->name_len + 4)
		return (-1);

	/* The question is the first name, so it cannot be compressed. */
	if (!wire_equal_lower(msg + WIRE_HDR_LEN, q->lname, q->name_len))
		return (-1);
	off = WIRE_HDR_LEN + q->name_len;
	if (wire_get16(msg + off) != q->qtype ||
	    wire_get16(msg + off + 2) != q->qclass)
		return (-1);
	return (0);
}

int
wire_check_case(const uint8_t *msg, size_t len, const uint8_t *name,
    size_t name_len)
{
	return (len >= WIRE_HDR_LEN + name_len &&
	    memcmp(msg + WIRE_HDR_LEN, name, name_len) == 0);
}

/*
 * 0x20 in each octet of w (eight octets of a lower-case name) that is a
 * letter, 0 in the others: wire_fold8()'s test, for 'a' to 'z'.
 */
static inline uint64_t
wire_letters8(uint64_t w)
{
	uint64_t	low = w & 0x7f7f7f7f7f7f7f7fULL;
	uint64_t	from_a = low + 0x1f1f1f1f1f1f1f1fULL;
	uint64_t	past_z = low + 0x0505050505050505ULL;

	return ((from_a & ~past_z & ~w & 0x8080808080808080ULL) >> 2);
}

size_t
wire_letters(const uint8_t *lname, size_t len)
{
	uint64_t	w;
	size_t		i, n = 0;

	for (i = 0; i + 8 <= len; i += 8) {
		memcpy(&w, lname + i, sizeof w);
		n += (size_t)__builtin_popcountll(wire_letters8(w));
	}
	for (; i < len; i++)
		n += (uint8_t)(lname[i] - 'a') < 26;
	return (n);
}

/*
 * Eight octets at a time (a third of the instructions of one at a time):
 * the byte of bits for them is spread to one bit per octet, bit i to the
 * 0x20 of octet i, and what falls on a letter turns it to upper case.
 */
void
wire_mix_case(uint8_t *dst, const uint8_t *lname, size_t len,
    const uint8_t *bits)
{
	uint64_t	w, x;
	size_t		i;
	uint8_t		c;

	/* Length octets (<= 63) are never letters: no need to skip them. */
	for (i = 0; i + 8 <= len; i += 8) {
		memcpy(&w, lname + i, sizeof w);
		/* Octet j gets bit j of the byte, then 0x20 when it is set. */
		x = ((uint64_t)bits[i / 8] * 0x0101010101010101ULL) &
		    0x8040201008040201ULL;
		x = ((x + 0x7f7f7f7f7f7f7f7fULL) & 0x8080808080808080ULL) >> 2;
		w ^= x & wire_letters8(w);
		memcpy(dst + i, &w, sizeof w);
	}
	for (; i < len; i++) {
		c = lname[i];
		if ((uint8_t)(c - 'a') < 26 && (bits[i / 8] >> (i % 8) & 1))
			c -= 'a' - 'A';
		dst[i] = c;
	}
}

/*
 * Read the name at pos of msg (len octets) into *n, lower-cased. It must
 * start before end and not run past it (end is len for an owner, the end
 * of the rdata for a name in rdata). Returns the offset just past it
 * where it starts, or 0 when it is malformed.
 */
static size_t
wire_lname_read(const uint8_t *msg, size_t len, size_t pos, size_t end,
    struct wire_lname *n)
{
	size_t	after = pos;

	if (pos >= end || wire_name(msg, len, &after, n->name, &n->len,
	    NULL) != NULL || after > end)
		return (0);
	wire_lower(n->name, n->name, n->len);
	return (after);
}

/*
 * The owner of rr, lower-cased: name[0] of the chain when it is a pointer
 * to the question's name and that is name[0] (c->qsame), which spares
 * reading the name again; else read into *buf. NULL when malformed.
 */
static const struct wire_lname *
wire_chain_owner(const struct wire_chain *c, const struct wire_rr *rr,
    struct wire_lname *buf)
{
	if (c->qsame && wire_at_question(rr->msg, rr->len, rr->owner))
		return (&c->name[0]);
	if (wire_lname_read(rr->msg, rr->len, rr->owner, rr->len, buf) == 0)
		return (NULL);
	return (buf);
}

/* Is n the lower-case name of len octets at name? */
static int
wire_lname_eq(const struct wire_lname *n, const uint8_t *name, size_t len)
{
	return (n->len == len && memcmp(n->name, name, len) == 0);
}

/*
 * Is name (nlen octets) zone (zlen octets) or below it? Both lower-case
 * and uncompressed; the suffix must start at a label.
 */
static int
wire_under(const uint8_t *name, size_t nlen, const uint8_t *zone,
    size_t zlen)
{
	size_t	off = 0;

	while (nlen - off > zlen) {
		if (name[off] == 0)
			return (0);
		off += name[off] + 1;
	}
	return (nlen - off == zlen && memcmp(name + off, zone, zlen) == 0);
}

/* Is rr of the question's class (any class for a question of ANY)? */
static int
wire_class_ok(const struct wire_chain *c, const struct wire_rr *rr)
{
	return (rr->class == c->q->qclass || c->q->qclass == WIRE_TYPE_ANY);
}

/*
 * The answer record rr is a CNAME: if it is owned by name[i] and link i
 * has no CNAME yet, it becomes the link and its target *next. 0, or -1
 * when that CNAME's rdata is not exactly one name.
 */
static int
wire_chain_cname(struct wire_chain *c, size_t i, const struct wire_rr *rr,
    struct wire_lname *next)
{
	struct wire_lname	 buf;
	const struct wire_lname	*owner;
	size_t			 rdend = rr->rdata + rr->rdlen;

	if (c->cname[i] != WIRE_NONE)
		return (0);
	if ((owner = wire_chain_owner(c, rr, &buf)) == NULL)
		return (-1);
	if (!wire_lname_eq(&c->name[i], owner->name, owner->len))
		return (0);
	if (wire_lname_read(rr->msg, rr->len, rr->rdata, rdend,
	    next) != rdend)
		return (-1);
	c->cname[i] = rr->read - 1;
	return (0);
}

/*
 * The answer record rr is a DNAME. If its owner is above name[i], it
 * turns name[i] into another name (RFC 6672 2.2: the labels left of the
 * owner, then the DNAME's target). When link i has a CNAME, the first
 * DNAME that agrees with the CNAME's target (*next) is part of the link:
 * it is what signs the synthesised CNAME. When there is no CNAME, the
 * DNAME closest to name[i] is the link and its name *next. 0, or -1 when
 * the DNAME's rdata is not exactly one name.
 */
static int
wire_chain_dname(struct wire_chain *c, size_t i, const struct wire_rr *rr,
    struct wire_lname *next)
{
	const struct wire_lname	*n = &c->name[i];
	struct wire_lname	 owner, to;
	size_t			 rdend = rr->rdata + rr->rdlen, left;

	if (c->dname[i] != WIRE_NONE && c->cname[i] != WIRE_NONE)
		return (0);
	if (wire_lname_read(rr->msg, rr->len, rr->owner, rr->len,
	    &owner) == 0)
		return (-1);
	if (n->len <= owner.len || owner.len <= c->dlen[i] ||
	    !wire_under(n->name, n->len, owner.name, owner.len))
		return (0);
	if (wire_lname_read(rr->msg, rr->len, rr->rdata, rdend, &to) !=
	    rdend)
		return (-1);
	/* Too long a result is YXDOMAIN (RFC 6672 2.2): no link. */
	left = n->len - owner.len;
	if (left + to.len > WIRE_MAX_NAME)
		return (0);
	memmove(to.name + left, to.name, to.len);
	memcpy(to.name, n->name, left);
	to.len += left;
	if (c->cname[i] != WIRE_NONE) {
		if (!wire_lname_eq(next, to.name, to.len))
			return (0);
	} else
		*next = to;
	c->dname[i] = rr->read - 1;
	c->dlen[i] = owner.len;
	return (0);
}

/*
 * Find link i of the chain in the answer section of msg (records from
 * off): its CNAME, then the DNAME that makes or signs it. 1 with the
 * next name in *next, 0 when name[i] has no link, -1 when malformed.
 */
static int
wire_chain_link(struct wire_chain *c, size_t i, const uint8_t *msg,
    size_t len, size_t off, struct wire_lname *next)
{
	struct wire_rr	rr;
	int		r, dnames = 0;

	wire_rr_begin(&rr, msg, len, off);
	while ((r = wire_rr_read_memo(&rr, c->memo)) == 1 &&
	    rr.section == WIRE_SEC_AN) {
		if (!wire_class_ok(c, &rr))
			continue;
		if (rr.type == WIRE_TYPE_DNAME)
			dnames = 1;
		else if (rr.type == WIRE_TYPE_CNAME &&
		    wire_chain_cname(c, i, &rr, next) == -1)
			return (-1);
	}
	if (r == -1)
		return (-1);
	/* Only answers with a DNAME in them take a second walk. */
	wire_rr_begin(&rr, msg, len, off);
	while (dnames && wire_rr_read_memo(&rr, c->memo) == 1 &&
	    rr.section == WIRE_SEC_AN) {
		if (rr.type == WIRE_TYPE_DNAME && wire_class_ok(c, &rr) &&
		    wire_chain_dname(c, i, &rr, next) == -1)
			return (-1);
	}
	return (c->cname[i] != WIRE_NONE || c->dname[i] != WIRE_NONE);
}

/*
 * Follow the chain of c->q's question through the answer section of msg
 * (records from off): from the name, link by link, until a name has no
 * link, a link leads back into the chain (a loop), or the chain is full.
 * A question of type CNAME asks for the first link itself, so the chain
 * stays at the name. 0, or -1 when a link is malformed.
 */
static int
wire_chain_build(struct wire_chain *c, const uint8_t *msg, size_t len,
    size_t off)
{
	struct wire_lname	next;
	size_t			i, j;
	int			r;

	for (i = 0; i < WIRE_MAX_CHAIN; i++) {
		c->cname[i] = WIRE_NONE;
		c->dname[i] = WIRE_NONE;
		c->dlen[i] = 0;
	}
	memcpy(c->name[0].name, c->q->lname, c->q->name_len);
	c->name[0].len = c->q->name_len;
	c->n = 1;
	for (i = 0; i < c->n; i++) {
		if ((r = wire_chain_link(c, i, msg, len, off, &next)) != 1)
			return (r);
		if (c->q->qtype == WIRE_TYPE_CNAME || c->n == WIRE_MAX_CHAIN)
			break;
		for (j = 0; j < c->n; j++) {
			if (wire_lname_eq(&c->name[j], next.name, next.len))
				return (0);
		}
		c->name[c->n++] = next;
	}
	return (0);
}

/* Keep the NSEC and NSEC3 records at or below zone (zlen octets). */
static void
wire_chain_proof(struct wire_chain *c, const uint8_t *zone, size_t zlen)
{
	size_t	i;

	for (i = 0; i < c->nproof; i++) {
		if (wire_lname_eq(&c->proof[i], zone, zlen))
			return;
	}
	if (c->nproof == WIRE_MAX_PROOFS)
		return;
	memcpy(c->proof[c->nproof].name, zone, zlen);
	c->proof[c->nproof].len = zlen;
	c->nproof++;
}

/*
 * The answer record rr (owned by owner), neither a link nor data: kept
 * when it is an RRSIG, for a DO=1 question, over a kept RRset: the data
 * at the last name, a CNAME link at its owner, a DNAME link at its
 * owner. A kept RRSIG with fewer labels than its owner signs a wildcard
 * expansion (RFC 4035 5.3.4), whose proof of no closer name is in the
 * authority section: its signer's NSEC and NSEC3 records are kept too.
 */
static int
wire_keep_sig(struct wire_chain *c, const struct wire_rr *rr,
    const struct wire_lname *owner)
{
	const struct wire_lname	*n;
	struct wire_lname	 signer;
	size_t			 i, pos;
	uint16_t		 covered;
	uint8_t			 labels = 0;
	int			 keep = 0;

	if (rr->type != WIRE_TYPE_RRSIG || !c->q->do_bit ||
	    rr->rdlen <= WIRE_RRSIG_FIXED)
		return (0);
	covered = wire_get16(rr->msg + rr->rdata);
	for (i = 0; i < c->n && !keep; i++) {
		n = &c->name[i];
		if (wire_lname_eq(n, owner->name, owner->len))
			keep = (covered == WIRE_TYPE_CNAME &&
			    c->cname[i] != WIRE_NONE) ||
			    (i == c->n - 1 && covered == c->q->qtype);
		if (covered == WIRE_TYPE_DNAME && c->dname[i] != WIRE_NONE &&
		    c->dlen[i] == owner->len)
			keep |= memcmp(n->name + n->len - c->dlen[i],
			    owner->name, owner->len) == 0;
	}
	if (!keep)
		return (0);
	/* The signer is the zone of the owner (RFC 4034 3.1.7), or no use. */
	for (pos = 0; owner->name[pos] != 0; pos += owner->name[pos] + 1)
		labels++;
	if (rr->msg[rr->rdata + 3] < labels &&
	    wire_lname_read(rr->msg, rr->len, rr->rdata + WIRE_RRSIG_FIXED,
	    rr->rdata + rr->rdlen, &signer) != 0 &&
	    wire_under(owner->name, owner->len, signer.name, signer.len))
		wire_chain_proof(c, signer.name, signer.len);
	return (1);
}

/*
 * The authority record rr (owned by owner), not the SOA kept: for a DO=1
 * question, the NSEC and NSEC3 records at or below a zone of the proofs,
 * their RRSIGs, and the RRSIG of the SOA kept.
 */
static int
wire_keep_proof(const struct wire_chain *c, const struct wire_rr *rr,
    const struct wire_lname *owner)
{
	uint16_t	type = rr->type;
	size_t		i;

	if (!c->q->do_bit)
		return (0);
	if (type == WIRE_TYPE_RRSIG) {
		if (rr->rdlen <= WIRE_RRSIG_FIXED)
			return (0);
		type = wire_get16(rr->msg + rr->rdata);
		if (type == WIRE_TYPE_SOA)
			return (c->soa != WIRE_NONE && wire_lname_eq(&c->zone,
			    owner->name, owner->len));
	}
	if (type != WIRE_TYPE_NSEC && type != WIRE_TYPE_NSEC3)
		return (0);
	for (i = 0; i < c->nproof; i++) {
		if (wire_under(owner->name, owner->len, c->proof[i].name,
		    c->proof[i].len))
			return (1);
	}
	return (0);
}

/*
 * Does the record rr stay? 1 or 0, or -1 when it is malformed. The
 * answer section is decided before the others (it is read first), so
 * c->positive is known by the time the authority section comes.
 */
static int
wire_keep(struct wire_chain *c, const struct wire_rr *rr)
{
	const struct wire_lname	*last = &c->name[c->n - 1];
	struct wire_lname	 buf;
	const struct wire_lname	*owner;
	uint32_t		 idx = rr->read - 1;
	size_t			 i;

	/* The upstream's OPT: wire_scan() cuts it (or refuses it). */
	if (rr->type == WIRE_TYPE_OPT)
		return (1);
	if (!wire_class_ok(c, rr))
		return (0);
	/*
	 * What goes whatever its owner goes without reading the owner
	 * again (wire_rr_read() has checked it): the additional section,
	 * and the authority section of a DO=0 question but the SOA kept.
	 * That is the NS and glue of nearly every positive answer.
	 */
	if (rr->section == WIRE_SEC_AR)
		return (0);
	if (rr->section == WIRE_SEC_NS && idx != c->soa && !c->q->do_bit)
		return (0);
	if ((owner = wire_chain_owner(c, rr, &buf)) == NULL)
		return (-1);
	switch (rr->section) {
	case WIRE_SEC_AN:
		for (i = 0; i < c->n; i++) {
			if (c->cname[i] == idx || c->dname[i] == idx)
				return (1);
		}
		if (wire_lname_eq(last, owner->name, owner->len) &&
		    (rr->type == c->q->qtype ||
		    c->q->qtype == WIRE_TYPE_ANY)) {
			c->positive = 1;
			return (1);
		}
		return (wire_keep_sig(c, rr, owner));
	case WIRE_SEC_NS:
		if (idx == c->soa)
			return (1);
		return (wire_keep_proof(c, rr, owner));
	default:
		return (0);
	}
}

/*
 * For a negative answer (NXDOMAIN, or no data at the last name), find
 * the SOA to keep: the first one in the authority section, which rr (a
 * copy of the walk) is at the start of, owned by the last name or a name
 * above it. Its zone's NSEC and NSEC3 records are the proof. 0, or -1
 * when malformed.
 */
static int
wire_chain_soa(struct wire_chain *c, struct wire_rr rr)
{
	const struct wire_lname	*last = &c->name[c->n - 1];
	struct wire_lname	*z = &c->zone;
	int			 r;

	if (c->positive && c->rcode != WIRE_NXDOMAIN)
		return (0);
	while ((r = wire_rr_read_memo(&rr, c->memo)) == 1 &&
	    rr.section == WIRE_SEC_NS) {
		if (rr.type != WIRE_TYPE_SOA || !wire_class_ok(c, &rr))
			continue;
		if (wire_lname_read(rr.msg, rr.len, rr.owner, rr.len, z) == 0)
			return (-1);
		if (!wire_under(last->name, last->len, z->name, z->len))
			continue;
		c->soa = rr.read - 1;
		wire_chain_proof(c, z->name, z->len);
		return (0);
	}
	return (r == -1 ? -1 : 0);
}

/*
 * Decide for every record of msg (records from off) whether it stays:
 * bit i of keep for record i. 0, or -1 when the message is malformed or
 * has anything after its last record.
 */
static int
wire_scrub_mark(struct wire_chain *c, const uint8_t *msg, size_t len,
    size_t off, uint8_t *keep)
{
	struct wire_rr	rr, before;
	int		r, k, soa_done = 0;

	/* All set: the first copy to before is of a record not read yet. */
	memset(&rr, 0, sizeof rr);
	wire_rr_begin(&rr, msg, len, off);
	for (;;) {
		before = rr;
		if ((r = wire_rr_read_memo(&rr, c->memo)) != 1)
			break;
		/* Past the answer section: first the SOA, if negative. */
		if (rr.section != WIRE_SEC_AN && !soa_done) {
			soa_done = 1;
			if (wire_chain_soa(c, before) == -1)
				return (-1);
		}
		if ((k = wire_keep(c, &rr)) == -1)
			return (-1);
		if (k)
			keep[(rr.read - 1) / 8] |= 1 << ((rr.read - 1) % 8);
	}
	if (r == -1 || rr.next != len)
		return (-1);
	return (0);
}

/*
 * Write msg (len octets, records from off) to tmp with only the records
 * keep marks: header and question as they are, then each record kept,
 * in order, through wire_copy_rr() with a map of where labels went, so
 * that the compression pointers in them follow what they point at. The
 * new length, or 0 when a record is malformed or the result would be
 * longer than the message.
 */
static size_t
wire_scrub_write(const uint8_t *msg, size_t len, size_t off,
    const uint8_t *keep, struct wire_rrmemo *memo, uint8_t *tmp)
{
	struct wire_buf	 b = { tmp, len, 0 };
	struct wire_map	 map;
	struct wire_rr	 rr;
	uint16_t	 count[3] = { 0, 0, 0 };
	size_t		 pos = WIRE_HDR_LEN;
	uint32_t	 i;

	wire_buf_put(&b, msg, off);
	map.n = 0;
	/* The question's labels (uncompressed) stay where they are. */
	while (msg[pos] != 0) {
		wire_map_add(&map, pos, pos);
		pos += msg[pos] + 1;
	}
	wire_rr_begin(&rr, msg, len, off);
	while (wire_rr_read_memo(&rr, memo) == 1) {
		i = rr.read - 1;
		if (!((keep[i / 8] >> (i % 8)) & 1))
			continue;
		if (wire_copy_rr(&rr, &b, &map) == -1)
			return (0);
		count[rr.section]++;
	}
	if (b.len > len)
		return (0);
	wire_buf_counts(&b, count[WIRE_SEC_AN], count[WIRE_SEC_NS],
	    count[WIRE_SEC_AR]);
	return (b.len);
}

/*
 * Does the name at off of msg, which wire_name() has read (well formed),
 * lie wholly before limit: every label it reads, every pointer? The
 * owner of a record lies before the record's fixed part in any message
 * but one made so that a label runs on over the record itself into the
 * octets after it (a pointer back to a long label), whose name then
 * changes when what follows is cut.
 */
static int
wire_name_before(const uint8_t *msg, size_t off, size_t limit)
{
	unsigned	jumps = 0;

	for (;;) {
		if (off >= limit)
			return (0);
		if ((msg[off] & 0xc0) == 0xc0) {
			if (off + 1 >= limit || ++jumps > WIRE_MAX_JUMPS)
				return (0);
			off = ((size_t)(msg[off] & 0x3f) << 8) | msg[off + 1];
			continue;
		}
		if (msg[off] == 0)
			return (1);
		off += (size_t)msg[off] + 1;
	}
}

/*
 * The common case of wire_scrub_write(), done in place: the records kept
 * are the first ones, up to the first that goes, and after that only OPT
 * records owned by the root (a positive answer's upstream OPT, after the
 * authority and glue that go). Nothing kept then moves but the OPT
 * records, which hold no name, and what is kept before them stays where
 * it is, every pointer in it leading back to where it led. The records
 * kept first must have no names in their rdata where wire_rdata_shape()
 * finds them (wire_scrub_write() would check the pointers in those; one
 * may read past its record as an owner may, below): A and AAAA answers,
 * not a CNAME chain, MX, AFSDB or NAPTR.
 * Nor may their owners read any octet past their own records
 * (wire_name_before()): that is what the cut changes, and a name that
 * read so would be another after it, or none (a hostile upstream's
 * record kept as the question's, then owned by a name of its choice).
 * The new length, or 0 (msg untouched) where this does not apply.
 */
static size_t
wire_scrub_cut(uint8_t *msg, size_t len, size_t off, const uint8_t *keep,
    struct wire_rrmemo *memo)
{
	struct wire_rr		rr;
	struct wire_shape	sh;
	uint16_t		count[3] = { 0, 0, 0 };
	size_t			end = 0, start, from[2], n[2], nopt = 0, i;
	uint32_t		idx;
	int			r, kept, cut = 0;

	wire_rr_begin(&rr, msg, len, off);
	for (;;) {
		start = rr.next;
		if ((r = wire_rr_read_memo(&rr, memo)) != 1)
			break;
		idx = rr.read - 1;
		kept = (keep[idx / 8] >> (idx % 8)) & 1;
		if (!cut && kept) {
			if (wire_rdata_shape(&rr, &sh) == -1 ||
			    sh.names != 0)
				return (0);
			if (!wire_at_question(msg, len, start) &&
			    !wire_name_before(msg, start,
			    rr.rdata - WIRE_RR_FIXED))
				return (0);
			count[rr.section]++;
		} else if (!cut) {
			cut = 1;
			end = start;
		} else if (kept) {
			if (rr.type != WIRE_TYPE_OPT || msg[start] != 0 ||
			    nopt == 2)
				return (0);
			from[nopt] = start;
			n[nopt++] = rr.next - start;
			count[rr.section]++;
		}
	}
	if (r == -1 || !cut)
		return (0);
	/* Decided: now move the OPT records up, in order. */
	for (i = 0; i < nopt; i++) {
		memmove(msg + end, msg + from[i], n[i]);
		end += n[i];
	}
	wire_put16(msg + 6, count[WIRE_SEC_AN]);
	wire_put16(msg + 8, count[WIRE_SEC_NS]);
	wire_put16(msg + 10, count[WIRE_SEC_AR]);
	return (end);
}

/* wire_scrub(), with the cut in place (cut) or not. */
static size_t
wire_scrub_at(uint8_t *msg, size_t len, const struct wire_query *q,
    uint8_t *tmp, unsigned *dropped, int cut)
{
	struct wire_chain	 c;
	struct wire_rrmemo	 memo;
	uint8_t			 keep[WIRE_SCRUB_MAX_RR / 8];
	size_t			 off, n, total, i, kept = 0;

	*dropped = 0;
	if (!q->have_question || len < WIRE_HDR_LEN || len > WIRE_MAX_UDP ||
	    wire_get16(msg + 4) != 1)
		return (0);
	total = (size_t)wire_get16(msg + 6) + wire_get16(msg + 8) +
	    wire_get16(msg + 10);
	if (total > WIRE_SCRUB_MAX_RR)
		return (0);
	/*
	 * The question is copied as it is, so it must not point into what
	 * may move: uncompressed, as wire_check_answer() has it anyway.
	 * One walk of its labels checks it as wire_skip_question() would
	 * (within the message, at most WIRE_MAX_NAME octets, then type and
	 * class) and that no label is a pointer.
	 */
	for (i = WIRE_HDR_LEN; i < len && msg[i] != 0; i += msg[i] + 1) {
		if (msg[i] > WIRE_MAX_LABEL)
			return (0);
	}
	if (i >= len || i + 1 - WIRE_HDR_LEN > WIRE_MAX_NAME ||
	    len - i - 1 < 4)
		return (0);
	off = i + 5;

	c.q = q;
	memo.n = 0;
	memo.qlen = (uint16_t)(off - 4 - WIRE_HDR_LEN);
	c.memo = &memo;
	/*
	 * The question as asked (wire_check_answer() has made sure of it,
	 * but the scrub does not rely on its caller): then an owner that
	 * points at it is name[0] without reading it.
	 */
	c.qsame = memo.qlen == q->name_len &&
	    wire_equal_lower(msg + WIRE_HDR_LEN, q->lname, q->name_len);
	c.rcode = WIRE_RCODE(wire_get16(msg + 2));
	c.positive = 0;
	c.soa = WIRE_NONE;
	c.nproof = 0;
	memset(keep, 0, sizeof keep);
	if (wire_chain_build(&c, msg, len, off) == -1 ||
	    wire_scrub_mark(&c, msg, len, off, keep) == -1)
		return (0);
	for (i = 0; i < total; i++)
		kept += (keep[i / 8] >> (i % 8)) & 1;
	if (kept == total)
		return (len);

	/*
	 * Something goes: cut in place when only what follows the first
	 * records goes, else the rest written anew, then back over msg.
	 */
	if (!cut || (n = wire_scrub_cut(msg, len, off, keep, &memo)) == 0) {
		if ((n = wire_scrub_write(msg, len, off, keep, &memo,
		    tmp)) == 0)
			return (0);
		memcpy(msg, tmp, n);
	}
	*dropped = total - kept;
	return (n);
}

size_t
wire_scrub(uint8_t *msg, size_t len, const struct wire_query *q,
    uint8_t *tmp, unsigned *dropped)
{
	return (wire_scrub_at(msg, len, q, tmp, dropped, 1));
}

size_t
wire_scrub_rewrite(uint8_t *msg, size_t len, const struct wire_query *q,
    uint8_t *tmp, unsigned *dropped)
{
	return (wire_scrub_at(msg, len, q, tmp, dropped, 0));
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

	if (wire_name(msg, len, &off, NULL, NULL, NULL) != NULL || off > end)
		return (-1);
	if (wire_name(msg, len, &off, NULL, NULL, NULL) != NULL || off > end)
		return (-1);
	if (end - off != 20)
		return (-1);
	*minimum = wire_get32(msg + off + 16);
	return (0);
}

/*
 * Take one record of an upstream answer (not OPT) into sc and t: its TTL
 * position, the smallest TTL, the first SOA of the authority section.
 * 0, or -1 when the answer is unusable.
 */
static int
wire_scan_rr(const struct wire_rr *rr, struct wire_scan *sc,
    struct wire_ttls *t)
{
	size_t		rd = rr->rdata, rdend = rr->rdata + rr->rdlen;
	uint32_t	ttl = rr->ttl, soa_min;

	/*
	 * A CNAME or DNAME is inspected (CNAME cloaking): its rdata must be
	 * exactly one name, or the answer cannot be judged. So must an SVCB
	 * or HTTPS record's target and address hints be readable.
	 */
	if (rr->type == WIRE_TYPE_CNAME || rr->type == WIRE_TYPE_DNAME) {
		if (wire_name(rr->msg, rdend, &rd, NULL, NULL, NULL) != NULL ||
		    rd != rdend)
			return (-1);
	}
	if ((rr->type == WIRE_TYPE_SVCB || rr->type == WIRE_TYPE_HTTPS) &&
	    wire_svcb(rr, NULL) != 0)
		return (-1);
	if (sc->nttl >= WIRE_MAX_TTLS)
		return (-1);
	sc->ttl_off[sc->nttl++] = rr->ttl_off;

	/* RFC 2181 8: a TTL with the top bit set means zero. */
	if (ttl > INT32_MAX)
		ttl = 0;
	if (rr->section != WIRE_SEC_AR && ttl < t->min)
		t->min = ttl;
	if (rr->section == WIRE_SEC_NS && rr->type == WIRE_TYPE_SOA &&
	    !t->have_soa) {
		if (wire_soa_min(rr->msg, rr->len, rr->rdata, rr->rdlen,
		    &soa_min) != 0)
			return (-1);
		if (soa_min > INT32_MAX)
			soa_min = 0;
		t->soa = ttl < soa_min ? ttl : soa_min;
		t->soa_off = rr->ttl_off;
		t->have_soa = 1;
	}
	return (0);
}

/* How long a scanned answer may be cached (RFC 2308 5 when negative). */
static void
wire_scan_ttl(uint8_t *msg, struct wire_scan *sc, const struct wire_ttls *t)
{
	if (sc->rcode == WIRE_NOERROR && sc->ancount > 0)
		sc->ttl = t->min;
	else if ((sc->rcode == WIRE_NXDOMAIN || sc->rcode == WIRE_NOERROR) &&
	    t->have_soa) {
		/*
		 * A negative answer lives min(SOA TTL, MINIMUM), and the SOA
		 * we pass on says so too, or clients would keep the negative
		 * answer for the SOA's own, often much longer, TTL.
		 */
		sc->ttl = t->soa < t->min ? t->soa : t->min;
		wire_put32(msg + t->soa_off, t->soa);
	} else
		sc->ttl = 0;
}

int
wire_scan(uint8_t *msg, size_t len, struct wire_scan *sc)
{
	struct wire_rr		rr;
	struct wire_ttls	t = { UINT32_MAX, 0, 0, 0 };
	size_t			off;
	int			r;

	if (len < WIRE_HDR_LEN || len > WIRE_MAX_UDP)
		return (-1);
	sc->flags = wire_get16(msg + 2);
	sc->rcode = WIRE_RCODE(sc->flags);
	sc->ancount = wire_get16(msg + 6);
	sc->nscount = wire_get16(msg + 8);
	sc->arcount = wire_get16(msg + 10);
	sc->nttl = 0;
	sc->ttl = 0;
	sc->len = len;

	if ((off = wire_skip_question(msg, len)) == 0)
		return (-1);
	wire_rr_begin(&rr, msg, len, off);
	while ((r = wire_rr_read(&rr)) == 1) {
		if (rr.type == WIRE_TYPE_OPT) {
			/* OPT is hop-by-hop: cut it and all after it. */
			if (rr.section != WIRE_SEC_AR)
				return (-1);
			sc->arcount = rr.nth;
			wire_put16(msg + 10, sc->arcount);
			sc->len = rr.owner;
			break;
		}
		if (wire_scan_rr(&rr, sc, &t) != 0)
			return (-1);
	}
	if (r == -1 || (r == 0 && rr.next != len))
		return (-1);
	wire_scan_ttl(msg, sc, &t);
	return (0);
}

void
wire_cap_ttls(uint8_t *msg, const uint16_t *ttl_off, uint16_t nttl,
    uint32_t max)
{
	uint16_t	i;

	for (i = 0; i < nttl; i++) {
		if (wire_get32(msg + ttl_off[i]) > max)
			wire_put32(msg + ttl_off[i], max);
	}
}

/*
 * The response to q cut to header, question and our OPT (with an EDE of
 * code ede, or none), TC=1 and no records: for an answer over the
 * client's UDP size. flags are the answer's. 0 when over cap or udp_max.
 */
static size_t
wire_truncated(uint8_t *out, size_t cap, const struct wire_query *q,
    uint16_t flags, uint16_t ede, size_t udp_max)
{
	struct wire_buf	b = { out, cap, 0 };

	wire_buf_head(&b, q, flags | WIRE_TC);
	if (q->edns)
		wire_buf_opt(&b, 0, q->do_bit, ede, NULL);
	if (b.len > cap || b.len > udp_max)
		return (0);
	wire_buf_counts(&b, 0, 0, q->edns ? 1 : 0);
	return (b.len);
}

int
wire_question_is(const uint8_t *msg, size_t len, const struct wire_query *q)
{
	size_t	qend = WIRE_HDR_LEN + q->name_len + 4;

	return (q->have_question && qend <= len &&
	    wire_equal_lower(msg + WIRE_HDR_LEN, q->lname, q->name_len) &&
	    wire_get16(msg + qend - 4) == q->qtype &&
	    wire_get16(msg + qend - 2) == q->qclass);
}

/*
 * wire_answer(); known says that the caller made sure of
 * wire_question_is() (a constant where this is inlined).
 */
static inline __attribute__((always_inline)) size_t
wire_answer_at(uint8_t *out, size_t cap, const struct wire_msg *m,
    uint32_t elapsed, uint32_t fixed_ttl, const struct wire_query *q,
    size_t udp_max, int known)
{
	struct wire_buf	 b = { out, cap, 0 };
	const uint8_t	*msg = m->data;
	size_t		 qend, total, i, off;
	uint16_t	 flags, ede;
	uint32_t	 ttl;

	/* The stored question must be the client's, up to case. */
	if (!known && !wire_question_is(msg, m->len, q))
		return (0);
	qend = WIRE_HDR_LEN + q->name_len + 4;

	flags = wire_get16(msg + 2);
	flags &= ~(WIRE_AA | WIRE_TC | WIRE_RD | WIRE_CD);
	flags |= WIRE_QR | WIRE_RA | (q->flags & (WIRE_RD | WIRE_CD));
	/* Our OPT; a stale answer says so in it (RFC 8914 EDE 3). */
	ede = fixed_ttl != 0 ? WIRE_EDE_STALE : 0;
	total = m->len + (q->edns ? wire_opt_len(ede, NULL) : 0);
	if (total > udp_max)
		return (wire_truncated(out, cap, q, flags, ede, udp_max));
	if (total > cap)
		return (0);

	/*
	 * The whole stored message, then ID, flags and name patched: plain
	 * stores, as total (the message and our OPT) fits in cap.
	 */
	memcpy(out, msg, m->len);
	wire_put16(out, q->id);
	wire_put16(out + 2, flags);
	memcpy(out + WIRE_HDR_LEN, q->name, q->name_len);

	/* TTLs count down from when the answer was stored. */
	for (i = 0; i < m->nttl; i++) {
		off = m->ttl_off[i];
		if (off < qend || off + 4 > m->len)
			return (0);
		if (fixed_ttl != 0)
			ttl = fixed_ttl;
		else {
			ttl = wire_get32(msg + off);
			if (ttl > INT32_MAX || ttl < elapsed)
				ttl = 0;
			else
				ttl -= elapsed;
		}
		wire_put32(out + off, ttl);
	}

	if (!q->edns)
		return (m->len);
	wire_put16(out + 10, wire_get16(msg + 10) + 1);
	if (ede == 0) {
		/* Our OPT without options, as wire_buf_opt() writes it. */
		b.p = out + m->len;
		b.p[0] = 0;
		wire_put16(b.p + 1, WIRE_TYPE_OPT);
		wire_put16(b.p + 3, WIRE_EDNS_SIZE);
		wire_put32(b.p + 5, q->do_bit ? 0x8000 : 0);
		wire_put16(b.p + 9, 0);
		return (total);
	}
	b.len = m->len;
	wire_buf_opt(&b, 0, q->do_bit, ede, NULL);
	return (b.len);
}

size_t
wire_answer(uint8_t *out, size_t cap, const struct wire_msg *m,
    uint32_t elapsed, uint32_t fixed_ttl, const struct wire_query *q,
    size_t udp_max)
{
	return (wire_answer_at(out, cap, m, elapsed, fixed_ttl, q, udp_max,
	    0));
}

size_t
wire_answer_known(uint8_t *out, size_t cap, const struct wire_msg *m,
    uint32_t elapsed, uint32_t fixed_ttl, const struct wire_query *q,
    size_t udp_max)
{
	return (wire_answer_at(out, cap, m, elapsed, fixed_ttl, q, udp_max,
	    1));
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
 * The SOA's rdata of a blocked answer but its last field (MINIMUM, the
 * TTL): MNAME, RNAME (sizeof counts the NUL, which is the root label),
 * serial 1, refresh 3600, retry 600, expire 86400.
 */
static const uint8_t wire_soa_fixed[sizeof WIRE_SOA_MNAME +
    sizeof WIRE_SOA_RNAME + 16] =
	WIRE_SOA_MNAME "\0" WIRE_SOA_RNAME "\0"
	"\0\0\0\1"			/* serial 1 */
	"\0\0\016\020"			/* refresh 3600 */
	"\0\0\002\130"			/* retry 600 */
	"\0\001\121\200";			/* expire 86400 */

/*
 * Where the SOA owner of a blocked answer comes from: the offset of the
 * apex in the question when it is a label-aligned suffix of the qname (it
 * should always be; policy_block() points into q->lname itself, so the
 * compare is skipped then), else WIRE_NONE: written out.
 */
static size_t
wire_block_apex(const struct wire_query *q, const struct wire_block *bl)
{
	size_t	off = 0, at;

	if (bl->apex == NULL)
		return (0);
	at = bl->apex_len <= q->name_len ? q->name_len - bl->apex_len :
	    q->name_len;
	/* Walk the labels of the qname to see if one starts at at. */
	while (off < at && q->lname[off] != 0)
		off += q->lname[off] + 1;
	if (off == at && at < q->name_len && (bl->apex == q->lname + at ||
	    memcmp(q->lname + at, bl->apex, bl->apex_len) == 0))
		return (at);
	return (WIRE_NONE);
}

/*
 * The SOA of a blocked answer at p, room checked: owner the apex, a
 * pointer to offset apex of the question unless apex is WIRE_NONE (then
 * written out). Returns the end.
 */
static uint8_t *
wire_block_soa(uint8_t *p, const struct wire_block *bl, size_t apex)
{
	if (apex == WIRE_NONE) {
		memcpy(p, bl->apex, bl->apex_len);
		p += bl->apex_len;
	} else {
		wire_put16(p, 0xc000 | (WIRE_HDR_LEN + apex));
		p += 2;
	}
	wire_put16(p, WIRE_TYPE_SOA);
	wire_put16(p + 2, WIRE_CLASS_IN);
	wire_put32(p + 4, bl->ttl);
	wire_put16(p + 8, sizeof wire_soa_fixed + 4);
	memcpy(p + 10, wire_soa_fixed, sizeof wire_soa_fixed);
	p += 10 + sizeof wire_soa_fixed;
	wire_put32(p, bl->ttl);		/* minimum */
	return (p + 4);
}

/*
 * Our OPT at p, room checked, as wire_buf_opt() writes it: rcode 0 (no
 * extended bits), DO echoed, and the EDE option (tlen octets of text)
 * when there is a code. Returns the end.
 */
static uint8_t *
wire_block_opt(uint8_t *p, const struct wire_query *q,
    const struct wire_block *bl, size_t tlen)
{
	p[0] = 0;
	wire_put16(p + 1, WIRE_TYPE_OPT);
	wire_put16(p + 3, WIRE_EDNS_SIZE);
	wire_put32(p + 5, q->do_bit ? 0x8000 : 0);
	wire_put16(p + 9, 0);
	p += WIRE_OPT_LEN;
	if (bl->ede_code == 0)
		return (p);
	wire_put16(p - 2, 4 + 2 + tlen);
	wire_put16(p, WIRE_OPT_EDE);
	wire_put16(p + 2, 2 + tlen);
	wire_put16(p + 4, bl->ede_code);
	if (tlen > 0)
		memcpy(p + 6, bl->ede_text, tlen);
	return (p + 6 + tlen);
}

/*
 * Its length known first and checked once against cap, a blocked answer
 * is written with plain stores, not wire_buf's checked appends: it is the
 * answer to every blocked name, the one answer written per query that no
 * cache holds.
 */
size_t
wire_block_answer(uint8_t *out, size_t cap, const struct wire_query *q,
    const struct wire_block *bl)
{
	uint8_t		*p = out;
	uint16_t	 rcode = WIRE_NOERROR, an = 0, ns = 0;
	size_t		 len, apex = 0, tlen = 0, rdlen = 0;

	if (!q->have_question)
		return (0);
	if (bl->apex != NULL &&
	    (bl->apex_len == 0 || bl->apex_len > WIRE_MAX_NAME))
		return (0);

	switch (bl->action) {
	case WIRE_BLOCK_NXDOMAIN:
		rcode = WIRE_NXDOMAIN;
		ns = 1;
		break;
	case WIRE_BLOCK_NODATA:
		ns = 1;
		break;
	case WIRE_BLOCK_REFUSED:
		rcode = WIRE_REFUSED;
		break;
	case WIRE_BLOCK_REDIRECT:
		/* Only a family we have an address for; else NODATA. */
		if (q->qtype == WIRE_TYPE_A && bl->have4)
			rdlen = sizeof bl->addr4;
		else if (q->qtype == WIRE_TYPE_AAAA && bl->have6)
			rdlen = sizeof bl->addr6;
		if (rdlen != 0)
			an = 1;
		else
			ns = 1;
		break;
	default:
		return (0);
	}

	/* The length: header, question, records, OPT. */
	len = WIRE_HDR_LEN + q->name_len + 4;
	if (an)
		len += 2 + 10 + rdlen;
	if (ns) {
		apex = wire_block_apex(q, bl);
		len += (apex == WIRE_NONE ? bl->apex_len : 2) + 10 +
		    sizeof wire_soa_fixed + 4;
	}
	if (q->edns) {
		if (bl->ede_code != 0)
			tlen = wire_ede_len(bl->ede_text);
		len += WIRE_OPT_LEN + (bl->ede_code != 0 ? 6 + tlen : 0);
	}
	if (len > cap)
		return (0);

	/* Header: QDCOUNT 1 and the counts; the question as spelled. */
	wire_put16(p, q->id);
	wire_put16(p + 2, wire_flags(q, rcode));
	wire_put16(p + 4, 1);
	wire_put16(p + 6, an);
	wire_put16(p + 8, ns);
	wire_put16(p + 10, q->edns ? 1 : 0);
	p += WIRE_HDR_LEN;
	memcpy(p, q->name, q->name_len);
	p += q->name_len;
	wire_put16(p, q->qtype);
	wire_put16(p + 2, q->qclass);
	p += 4;

	if (an) {
		/* The redirect's address, owner a pointer to the qname. */
		wire_put16(p, 0xc000 | WIRE_HDR_LEN);
		wire_put16(p + 2, q->qtype);
		wire_put16(p + 4, WIRE_CLASS_IN);
		wire_put32(p + 6, bl->ttl);
		wire_put16(p + 10, rdlen);
		memcpy(p + 12, rdlen == sizeof bl->addr4 ? bl->addr4 :
		    bl->addr6, rdlen);
		p += 12 + rdlen;
	}
	if (ns)
		p = wire_block_soa(p, bl, apex);
	if (q->edns)
		p = wire_block_opt(p, q, bl, tlen);
	return ((size_t)(p - out));
}

/*
 * The shape of the rdata of rr: where its names are. Only the types
 * whose names may come compressed (RFC 3597 4, and KX) have names here;
 * any other rdata is octets to copy as they are. 0, or -1 when the rdata
 * cannot hold the shape: a NAPTR's strings run past it (every length
 * read lies inside the rdata, so inside the message). That the names
 * read, and fill the rdata to post, wire_copy_rr() checks.
 */
static int
wire_rdata_shape(const struct wire_rr *rr, struct wire_shape *sh)
{
	int	i;

	sh->pre = 0;
	sh->names = 1;
	sh->post = 0;
	switch (rr->type) {
	case WIRE_TYPE_NS:
	case WIRE_TYPE_MD:
	case WIRE_TYPE_MF:
	case WIRE_TYPE_CNAME:
	case WIRE_TYPE_MB:
	case WIRE_TYPE_MG:
	case WIRE_TYPE_MR:
	case WIRE_TYPE_PTR:
	case WIRE_TYPE_DNAME:
		break;
	case WIRE_TYPE_MINFO:
	case WIRE_TYPE_RP:		/* mailbox, TXT owner (RFC 1183) */
		sh->names = 2;
		break;
	case WIRE_TYPE_MX:
	case WIRE_TYPE_AFSDB:		/* subtype, host (RFC 1183) */
	case WIRE_TYPE_RT:		/* preference, host (RFC 1183) */
	case WIRE_TYPE_KX:		/* preference, exchanger */
		sh->pre = 2;
		break;
	case WIRE_TYPE_PX:		/* preference, MAP822, MAPX400 */
		sh->pre = 2;
		sh->names = 2;
		break;
	case WIRE_TYPE_SRV:
		sh->pre = 6;
		break;
	case WIRE_TYPE_NAPTR:
		/*
		 * Order, preference, then flags, services and regexp
		 * (RFC 3403 4.1), each a length octet and that many, then
		 * the replacement. pre stays under 4 + 3 * 256.
		 */
		sh->pre = WIRE_NAPTR_FIXED;
		for (i = 0; i < 3; i++) {
			if (sh->pre >= rr->rdlen)
				return (-1);
			sh->pre += 1 + (size_t)rr->msg[rr->rdata + sh->pre];
		}
		if (sh->pre > rr->rdlen)
			return (-1);
		break;
	case WIRE_TYPE_SOA:
		sh->names = 2;
		sh->post = 20;
		break;
	default:
		sh->pre = rr->rdlen;
		sh->names = 0;
		break;
	}
	return (0);
}

/* Where the label at old offset from went: 0 and *to, or -1. */
static int
wire_map_find(const struct wire_map *map, size_t from, size_t *to)
{
	size_t	lo = 0, hi = map->n, mid;

	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		if (map->from[mid] == from) {
			*to = map->to[mid];
			return (0);
		}
		if (map->from[mid] < from)
			lo = mid + 1;
		else
			hi = mid;
	}
	return (-1);
}

/*
 * Remember that the label at old offset from is at to now. Only offsets a
 * pointer can reach, in order, while there is room: a label not
 * remembered is written out again where it is pointed at, which costs
 * octets, never correctness.
 */
static void
wire_map_add(struct wire_map *map, size_t from, size_t to)
{
	if (map->n == WIRE_MAP_MAX || to > 0x3fff ||
	    (map->n > 0 && map->from[map->n - 1] >= from))
		return;
	map->from[map->n] = from;
	map->to[map->n] = to;
	map->n++;
}

/*
 * Write the name at pos in msg (already checked by wire_name()) to b.
 * Without a map it is written uncompressed. With one, a pointer to a label
 * the map knows stays a pointer, moved to where that label went; a pointer
 * to any other label is followed and what it points at written out; and
 * the labels written where they stood in the name are added to the map.
 */
static void
wire_buf_name(struct wire_buf *b, const uint8_t *msg, size_t pos,
    struct wire_map *map)
{
	size_t	to;
	int	moved = 0;
	uint8_t	c;

	for (;;) {
		c = msg[pos];
		if ((c & 0xc0) == 0xc0) {
			pos = ((size_t)(c & 0x3f) << 8) | msg[pos + 1];
			if (map != NULL && wire_map_find(map, pos, &to) == 0) {
				wire_buf_put16(b, 0xc000 | to);
				return;
			}
			moved = 1;
			continue;
		}
		if (map != NULL && !moved && c != 0)
			wire_map_add(map, pos, b->len);
		wire_buf_put(b, msg + pos, c + 1);
		if (c == 0)
			return;
		pos += c + 1;
	}
}

/*
 * Copy the record rr to b: the owner, and the names inside the rdata
 * where wire_rdata_shape() says they are, written by wire_buf_name() (so
 * uncompressed when map is NULL); other rdata copied as it is. 0, or -1
 * when the rdata is malformed.
 */
static int
wire_copy_rr(const struct wire_rr *rr, struct wire_buf *b,
    struct wire_map *map)
{
	struct wire_shape	 sh;
	size_t			 rdend = rr->rdata + rr->rdlen, at, start;
	size_t			 i, pos, next;

	wire_buf_name(b, rr->msg, rr->owner, map);
	wire_buf_put(b, rr->msg + rr->ttl_off - 4, 8);	/* type, class, TTL */
	at = b->len;
	wire_buf_put16(b, 0);				/* rdlen, set below */
	start = b->len;

	if (wire_rdata_shape(rr, &sh) == -1 || rr->rdlen < sh.pre)
		return (-1);
	wire_buf_put(b, rr->msg + rr->rdata, sh.pre);
	pos = rr->rdata + sh.pre;
	for (i = 0; i < (size_t)sh.names; i++) {
		/* The name starts in the rdata and may not run past it. */
		next = pos;
		if (pos >= rdend || wire_name(rr->msg, rr->len, &next, NULL,
		    NULL, NULL) != NULL || next > rdend)
			return (-1);
		wire_buf_name(b, rr->msg, pos, map);
		pos = next;
	}
	if (rdend - pos != sh.post)
		return (-1);
	wire_buf_put(b, rr->msg + pos, sh.post);

	if (b->len - start > UINT16_MAX)
		return (-1);
	wire_buf_set16(b, at, b->len - start);
	return (0);
}

size_t
wire_cname_answer(uint8_t *out, size_t cap, const struct wire_query *q,
    const uint8_t *target, size_t tlen, uint32_t ttl,
    const struct wire_msg *tm, size_t udp_max)
{
	struct wire_buf	 b = { out, cap, 0 };
	struct wire_rr	 rr;
	size_t		 off, i;
	uint16_t	 an, ns, flags, nsout = 0;
	uint8_t		 labels;

	if (!q->have_question || wire_name_check(target, tlen, &labels) != 0)
		return (0);
	if ((off = wire_skip_question(tm->data, tm->len)) == 0)
		return (0);
	an = wire_get16(tm->data + 6);
	ns = wire_get16(tm->data + 8);
	if (an == UINT16_MAX)
		return (0);

	/*
	 * Flags built afresh rather than taken from tm: AD in particular
	 * cannot stand, since our CNAME is not signed by anyone.
	 */
	flags = wire_flags(q, WIRE_RCODE(wire_get16(tm->data + 2)));
	wire_buf_head(&b, q, flags);
	wire_buf_put16(&b, 0xc000 | WIRE_HDR_LEN);
	wire_buf_put16(&b, WIRE_TYPE_CNAME);
	wire_buf_put16(&b, WIRE_CLASS_IN);
	wire_buf_put32(&b, ttl);
	wire_buf_put16(&b, tlen);
	wire_buf_put(&b, target, tlen);

	/* Its answer records; nothing after them is read. */
	wire_rr_begin(&rr, tm->data, tm->len, off);
	for (i = 0; i < an; i++) {
		if (wire_rr_read(&rr) != 1 || wire_copy_rr(&rr, &b, NULL) != 0)
			return (0);
	}
	/* A negative answer about the target: pass on its SOA. */
	for (i = 0; an == 0 && i < ns; i++) {
		if (wire_rr_read(&rr) != 1)
			return (0);
		if (rr.type == WIRE_TYPE_SOA) {
			if (wire_copy_rr(&rr, &b, NULL) != 0)
				return (0);
			nsout = 1;
			break;
		}
	}
	if (q->edns)
		wire_buf_opt(&b, 0, q->do_bit, 0, NULL);

	if (b.len > udp_max)
		return (wire_truncated(out, cap, q, flags, 0, udp_max));
	if (b.len > cap)
		return (0);
	wire_buf_counts(&b, 1 + an, nsout, q->edns ? 1 : 0);
	return (b.len);
}

int
wire_query_retarget(struct wire_query *dst, const struct wire_query *q,
    const uint8_t *name, size_t len)
{
	uint8_t	labels;

	if (wire_name_check(name, len, &labels) != 0)
		return (-1);
	if (dst != q)
		*dst = *q;
	/* memmove: name may be dst's own buffer. */
	memmove(dst->name, name, len);
	wire_lower(dst->lname, dst->name, len);
	dst->name_len = len;
	dst->labels = labels;
	dst->have_question = 1;
	/* Another key: a hash kept for q's is not dst's. */
	dst->qhashed = 0;
	return (0);
}

/*
 * Walk the rdata of the SVCB or HTTPS record rr (RFC 9460 2.2): priority,
 * target name (never compressed, says the RFC; followed if it is), then
 * the SvcParams: each inside the rdata, keys strictly increasing,
 * ipv4hint a non-empty multiple of 4 octets and ipv6hint of 16. With v,
 * the target goes to v->name unless it is the root (in ServiceMode "the
 * owner itself", a name of the chain already checked; in AliasMode "no
 * service"), and every hint to v->addr (class IN only). 0, 1 when a
 * callback says stop, -1 when the rdata is malformed.
 */
static int
wire_svcb(const struct wire_rr *rr, const struct wire_visit *v)
{
	struct wire_lname	 target;
	const uint8_t		*msg = rr->msg;
	size_t			 pos, end = rr->rdata + rr->rdlen, vlen, i;
	size_t			 alen;
	int			 key, last = -1, addrs;

	if (rr->rdlen < 3 || (pos = wire_lname_read(msg, rr->len,
	    rr->rdata + 2, end, &target)) == 0)
		return (-1);
	if (v != NULL && v->name != NULL && target.len > 1 &&
	    v->name(v->arg, target.name, target.len) != 0)
		return (1);
	addrs = v != NULL && v->addr != NULL && rr->class == WIRE_CLASS_IN;
	while (pos < end) {
		if (end - pos < 4)
			return (-1);
		key = wire_get16(msg + pos);
		vlen = wire_get16(msg + pos + 2);
		pos += 4;
		if (key <= last || end - pos < vlen)
			return (-1);
		last = key;
		alen = key == WIRE_SVC_IPV4HINT ? 4 :
		    key == WIRE_SVC_IPV6HINT ? 16 : 0;
		if (alen != 0 && (vlen == 0 || vlen % alen != 0))
			return (-1);
		for (i = 0; alen != 0 && addrs && i < vlen; i += alen) {
			if (v->addr(v->arg, alen == 4 ? AF_INET : AF_INET6,
			    msg + pos + i) != 0)
				return (1);
		}
		pos += vlen;
	}
	return (0);
}

int
wire_inspect(const uint8_t *msg, size_t len, const struct wire_visit *v)
{
	uint8_t		 name[WIRE_MAX_NAME];
	struct wire_rr	 rr;
	size_t		 off, i, nlen, rd;
	uint16_t	 an;
	int		 r;

	if ((off = wire_skip_question(msg, len)) == 0)
		return (-1);
	an = wire_get16(msg + 6);
	wire_rr_begin(&rr, msg, len, off);
	for (i = 0; i < an; i++) {
		if (wire_rr_read(&rr) != 1)
			return (-1);
		/* A service binding: a target and addresses (RFC 9460). */
		if (rr.type == WIRE_TYPE_SVCB || rr.type == WIRE_TYPE_HTTPS) {
			if ((r = wire_svcb(&rr, v)) != 0)
				return (r == 1 ? 0 : -1);
			continue;
		}
		if (rr.type == WIRE_TYPE_CNAME || rr.type == WIRE_TYPE_DNAME) {
			/* The target fills the rdata exactly. */
			rd = rr.rdata;
			if (wire_name(msg, len, &rd, name, &nlen,
			    NULL) != NULL || rd != rr.next)
				return (-1);
			wire_lower(name, name, nlen);
			if (v->name != NULL && v->name(v->arg, name, nlen) != 0)
				return (0);
		}
		/* Addresses only in class IN; a CH "A" is something else. */
		if (v->addr == NULL || rr.class != WIRE_CLASS_IN)
			continue;
		if (rr.type == WIRE_TYPE_A && rr.rdlen == 4) {
			if (v->addr(v->arg, AF_INET, msg + rr.rdata) != 0)
				return (0);
		} else if (rr.type == WIRE_TYPE_AAAA && rr.rdlen == 16) {
			if (v->addr(v->arg, AF_INET6, msg + rr.rdata) != 0)
				return (0);
		}
	}
	return (0);
}

uint64_t
wire_key_hash(const struct wire_query *q, const struct siphash_key *key)
{
	uint64_t	tail;

	/* lname, then qtype, qclass (network order) and DO: 5 octets. */
	tail = (uint64_t)(q->qtype >> 8) | (uint64_t)(q->qtype & 0xff) << 8 |
	    (uint64_t)(q->qclass >> 8) << 16 |
	    (uint64_t)(q->qclass & 0xff) << 24 |
	    (uint64_t)(q->do_bit ? 1 : 0) << 32;
	return (siphash_13_tail(key, q->lname, q->name_len, tail, 5));
}

/*
 * The process's key of wire_qhash(), drawn once; wire_qkey_ready says so
 * without a call into the C library for every hash (a cache hit's).
 */
static struct siphash_key	wire_qkey;
static pthread_once_t		wire_qkey_once = PTHREAD_ONCE_INIT;
static int			wire_qkey_ready;

static void
wire_qkey_init(void)
{
	siphash_key_random(&wire_qkey);
	__atomic_store_n(&wire_qkey_ready, 1, __ATOMIC_RELEASE);
}

uint64_t
wire_qhash_work(const struct wire_query *q)
{
	if (!__atomic_load_n(&wire_qkey_ready, __ATOMIC_ACQUIRE))
		(void)pthread_once(&wire_qkey_once, wire_qkey_init);
	return (wire_key_hash(q, &wire_qkey));
}

uint64_t
wire_qhash_keep(struct wire_query *q)
{
	if (q->qhashed)
		return (q->qhash);
	if (!__atomic_load_n(&wire_qkey_ready, __ATOMIC_ACQUIRE))
		(void)pthread_once(&wire_qkey_once, wire_qkey_init);
	q->qhash = wire_key_hash(q, &wire_qkey);
	q->qhashed = 1;
	return (q->qhash);
}
