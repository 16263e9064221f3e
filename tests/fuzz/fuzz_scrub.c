/*
 * fuzz_scrub.c: libFuzzer target for wire_scrub(), the scrubber of
 * upstream answers.
 *
 * Each input is an upstream answer; the question it is scrubbed for is
 * its own (read from a copy made to look like a query, as fuzz_wire.c
 * does), with DO taken from a header bit, so most inputs pass
 * wire_check_answer() as the forwarder requires. The scrubber runs on
 * every input all the same: it must be safe on anything. When it keeps
 * the message, these must hold:
 *  - it is no longer than it was, and untouched when nothing was dropped;
 *  - it is a valid message: the question readable, the record iterator
 *    walks every record to the last octet, every compression pointer (in
 *    owners, and when it was written anew in the rdata of the types that
 *    may compress) points back to a readable name;
 *  - as many records as before, less those said to be dropped, and
 *    each one kept is one of the upstream's, in order, the same when
 *    read with its names in full (owners, and the rdata names of the
 *    types that may compress them: RFC 1035's, DNAME, and RP, AFSDB,
 *    RT, PX, NAPTR, SRV and KX) as it was in the upstream's message;
 *  - every record kept belongs to the question's chain, checked here by
 *    following the chain again, in the scrubbed message, with a reader
 *    of our own: answer records are the chain's links, DNAMEs above it,
 *    data of the question's type at its last name, or (DO=1) RRSIGs at
 *    those names; the authority section has at most one SOA, at or above
 *    the last name, only in a negative answer, and DNSSEC records only
 *    for DO=1; the additional section nothing but OPT;
 *  - scrubbing it again drops nothing and changes nothing;
 *  - wire_scrub_rewrite(), which writes every message that loses records
 *    anew, where wire_scrub() may cut it in place, keeps the same: as
 *    many records dropped, the same header and question, and the same
 *    records, read with their names in full (the two may compress them
 *    differently).
 */
#include <assert.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "wire.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

/* Room for fz_canon(): a message and 1024 records' names in full. */
#define FZ_CANON_MAX	(WIRE_MAX_UDP + 1024 * (3 * WIRE_MAX_NAME + 16))

/* A name as this file reads it: lower-case, uncompressed. */
struct fz_name {
	uint8_t		n[WIRE_MAX_NAME];
	size_t		len;
};

/* The chain, as followed here. */
struct fz_chain {
	struct fz_name	name[WIRE_MAX_CHAIN];
	size_t		n;
};

static uint16_t
fz_get16(const uint8_t *p)
{
	return ((uint16_t)((p[0] << 8) | p[1]));
}

/* fz_full()'s name, lower-cased or as it is. */
static int	fz_name_at(const uint8_t *, size_t, size_t, uint8_t *, size_t *,
		    size_t *, int);

/*
 * Read the name at off of m (len octets): labels of at most 63 octets,
 * pointers only backwards, at most 255 octets in all. 0 with the name
 * (lower case) and *end (just past it where it starts), or -1.
 */
static int
fz_read(const uint8_t *m, size_t len, size_t off, struct fz_name *out,
    size_t *end)
{
	out->len = 0;
	return (fz_name_at(m, len, off, out->n, &out->len, end, 1));
}

static int
fz_eq(const struct fz_name *a, const struct fz_name *b)
{
	return (a->len == b->len && memcmp(a->n, b->n, a->len) == 0);
}

/* Is a at or below b? */
static int
fz_under(const struct fz_name *a, const struct fz_name *b)
{
	size_t	off = 0;

	while (a->len - off > b->len) {
		if (a->n[off] == 0)
			return (0);
		off += a->n[off] + 1;
	}
	return (a->len - off == b->len &&
	    memcmp(a->n + off, b->n, b->len) == 0);
}

/* Is a strictly above some name of the chain? */
static int
fz_above_chain(const struct fz_chain *c, const struct fz_name *a)
{
	size_t	i;

	for (i = 0; i < c->n; i++) {
		if (c->name[i].len > a->len && fz_under(&c->name[i], a))
			return (1);
	}
	return (0);
}

static int
fz_in_chain(const struct fz_chain *c, const struct fz_name *a)
{
	size_t	i;

	for (i = 0; i < c->n; i++) {
		if (fz_eq(&c->name[i], a))
			return (1);
	}
	return (0);
}

/*
 * Where the names that may be compressed are in the rdata of rr, read
 * here from the RFCs rather than from wire.c: *skip octets, then *names
 * names (0: none). NAPTR's skip ends after three character-strings
 * (RFC 3403 4.1), each inside the rdata. 0, or -1 when they are not.
 */
static int
fz_shape(const struct wire_rr *rr, size_t *skip, size_t *names)
{
	int	i;

	*skip = 0;
	*names = 1;
	switch (rr->type) {
	case 2: case 3: case 4: case 5: case 7: case 8: case 9: case 12:
	case 39:
		break;
	case 6: case 14: case 17:		/* SOA, MINFO, RP */
		*names = 2;
		break;
	case 15: case 18: case 21: case 36:	/* MX, AFSDB, RT, KX */
		*skip = 2;
		break;
	case 26:				/* PX */
		*skip = 2;
		*names = 2;
		break;
	case 33:
		*skip = 6;
		break;
	case 35:				/* NAPTR */
		*skip = 4;
		for (i = 0; i < 3; i++) {
			if (*skip >= rr->rdlen)
				return (-1);
			*skip += 1 + (size_t)rr->msg[rr->rdata + *skip];
		}
		if (*skip > rr->rdlen)
			return (-1);
		break;
	default:
		*names = 0;
		break;
	}
	return (0);
}

/*
 * The names in the rdata of rr that may be compressed must read well:
 * a check of the pointers the scrubber moved.
 */
static void
fz_rdata_names(const struct wire_rr *rr)
{
	struct fz_name	name;
	size_t		pos, end = rr->rdata + rr->rdlen, i, skip, names;

	assert(fz_shape(rr, &skip, &names) == 0);
	if (names == 0)
		return;
	assert(skip <= rr->rdlen);
	pos = rr->rdata + skip;
	for (i = 0; i < names; i++) {
		assert(pos < end);
		assert(fz_read(rr->msg, rr->len, pos, &name, &pos) == 0);
		assert(pos <= end);
	}
}

/*
 * The name at off of m in full, its case kept, appended to out at *pos
 * (the pointers as fz_read() follows them). 0, or -1.
 */
static int
fz_full(const uint8_t *m, size_t len, size_t off, uint8_t *out, size_t *pos,
    size_t *end)
{
	return (fz_name_at(m, len, off, out, pos, end, 0));
}

/*
 * The reader of both: the name at off of m appended to out at *pos, each
 * octet lower-cased when lower is set; *end just past it where it
 * starts. 0, or -1.
 */
static int
fz_name_at(const uint8_t *m, size_t len, size_t off, uint8_t *out,
    size_t *pos, size_t *end, int lower)
{
	size_t	hops = 0, n = 0, i;
	int	jumped = 0;
	uint8_t	c, o;

	for (;;) {
		if (off >= len)
			return (-1);
		c = m[off];
		if ((c & 0xc0) == 0xc0) {
			if (off + 1 >= len || ++hops > 128)
				return (-1);
			if (!jumped)
				*end = off + 2;
			jumped = 1;
			i = ((size_t)(c & 0x3f) << 8) | m[off + 1];
			if (i >= off || i < WIRE_HDR_LEN)
				return (-1);
			off = i;
			continue;
		}
		if (c > 63 || n + c + 1 > WIRE_MAX_NAME || off + 1 + c > len)
			return (-1);
		for (i = 0; i <= c; i++) {
			o = m[off + i];
			out[*pos + i] = lower && o >= 'A' && o <= 'Z' ?
			    (uint8_t)(o + 32) : o;
		}
		*pos += (size_t)c + 1;
		n += (size_t)c + 1;
		off += (size_t)c + 1;
		if (c == 0)
			break;
	}
	if (!jumped)
		*end = off;
	return (0);
}

/*
 * m (len octets) in a form that does not depend on its compression:
 * the header and question as they are, then each record with its owner
 * in full, its type, class and TTL, and its rdata with the names of the
 * types that may compress them in full (as it is when they do not read).
 * The length written to out (FZ_CANON_MAX octets: a record of a message
 * fz_walk() reads grows by at most its three names, each to 255 octets).
 */
static size_t
fz_canon(const uint8_t *m, size_t len, uint8_t *out, size_t *starts,
    size_t *nrr)
{
	struct wire_rr	rr;
	size_t		pos, off, at, rd, end, names, i, skip, n = 0;

	off = wire_skip_question(m, len);
	memcpy(out, m, off);
	pos = off;
	wire_rr_begin(&rr, m, len, off);
	while (wire_rr_next(&rr) == 1) {
		if (starts != NULL)
			starts[n] = pos;
		n++;
		out[pos++] = (uint8_t)rr.section;
		assert(fz_full(m, len, rr.owner, out, &pos, &end) == 0);
		memcpy(out + pos, m + rr.rdata - 10, 8);
		pos += 8;
		/* The rdata's own length, then the rdata, after it. */
		at = pos;
		pos += 2;
		rd = rr.rdata;
		if (fz_shape(&rr, &skip, &names) != 0 || skip > rr.rdlen)
			names = skip = 0;
		memcpy(out + pos, m + rd, skip);
		pos += skip;
		rd += skip;
		for (i = 0; i < names; i++) {
			/*
			 * Read to the end of the message, as wire.c reads
			 * it: a label pointed at may run on past the rdata
			 * (a hostile upstream's), so long as the name's own
			 * octets lie in it.
			 */
			if (rd >= rr.rdata + rr.rdlen ||
			    fz_full(m, len, rd, out, &pos, &end) != 0 ||
			    end > rr.rdata + rr.rdlen) {
				/* Unreadable: all of it as it is. */
				pos = at + 2;
				rd = rr.rdata;
				break;
			}
			rd = end;
		}
		memcpy(out + pos, m + rd, rr.rdata + rr.rdlen - rd);
		pos += rr.rdata + rr.rdlen - rd;
		out[at] = (uint8_t)((pos - at - 2) >> 8);
		out[at + 1] = (uint8_t)(pos - at - 2);
	}
	if (starts != NULL)
		starts[n] = pos;
	if (nrr != NULL)
		*nrr = n;
	return (pos);
}

/*
 * Every record of the scrubbed message (canon b, nb records from bs[])
 * is a record of the upstream's (canon a, na records from as[]), in the
 * same order, the same with its names read in full: the scrub keeps
 * records as they came, whether it cut or wrote, and whatever their
 * pointers led to in the upstream's message.
 */
static void
fz_kept_as_sent(const uint8_t *a, const size_t *as, size_t na,
    const uint8_t *b, const size_t *bs, size_t nb)
{
	size_t	i = 0, j, n;

	for (j = 0; j < nb; j++) {
		n = bs[j + 1] - bs[j];
		while (i < na && (as[i + 1] - as[i] != n ||
		    memcmp(a + as[i], b + bs[j], n) != 0))
			i++;
		assert(i < na);
		i++;
	}
}

/*
 * Walk m (len octets): every record readable, nothing after the last,
 * and with names, the names in their rdata too. The number of records.
 */
static size_t
fz_walk(const uint8_t *m, size_t len, int names)
{
	struct wire_rr	rr;
	struct fz_name	owner;
	size_t		off, end, n = 0;
	int		r;

	off = wire_skip_question(m, len);
	assert(off > WIRE_HDR_LEN);
	wire_rr_begin(&rr, m, len, off);
	while ((r = wire_rr_next(&rr)) == 1) {
		assert(fz_read(m, len, rr.owner, &owner, &end) == 0);
		assert(end + 10 == rr.rdata);
		if (names)
			fz_rdata_names(&rr);
		n++;
	}
	assert(r == 0 && rr.next == len);
	return (n);
}

/*
 * Link i of the chain in the answer section of m: the first CNAME owned
 * by name i, else the DNAME closest above it. 0 with *next, or -1.
 */
static int
fz_link(const uint8_t *m, size_t len, size_t off, const struct wire_query *q,
    const struct fz_name *from, struct fz_name *next)
{
	struct wire_rr	rr;
	struct fz_name	owner, to;
	size_t		end, best = 0;
	int		found = 0;

	wire_rr_begin(&rr, m, len, off);
	while (wire_rr_next(&rr) == 1 && rr.section == WIRE_SEC_AN) {
		if (rr.class != q->qclass && q->qclass != 255)
			continue;
		if (rr.type != 5 && rr.type != 39)
			continue;
		assert(fz_read(m, len, rr.owner, &owner, &end) == 0);
		if (rr.type == 5 && fz_eq(&owner, from)) {
			assert(fz_read(m, len, rr.rdata, next, &end) == 0);
			return (0);
		}
		if (rr.type != 39 || owner.len >= from->len ||
		    owner.len <= best || !fz_under(from, &owner))
			continue;
		if (fz_read(m, len, rr.rdata, &to, &end) != 0 ||
		    from->len - owner.len + to.len > WIRE_MAX_NAME)
			continue;
		memcpy(next->n, from->n, from->len - owner.len);
		memcpy(next->n + from->len - owner.len, to.n, to.len);
		next->len = from->len - owner.len + to.len;
		best = owner.len;
		found = 1;
	}
	return (found ? 0 : -1);
}

/* Follow the chain of q in the answer section of m. */
static void
fz_chain(const uint8_t *m, size_t len, const struct wire_query *q,
    struct fz_chain *c)
{
	struct fz_name	next;
	size_t		off = wire_skip_question(m, len);

	memcpy(c->name[0].n, q->lname, q->name_len);
	c->name[0].len = q->name_len;
	c->n = 1;
	while (q->qtype != 5 && c->n < WIRE_MAX_CHAIN &&
	    fz_link(m, len, off, q, &c->name[c->n - 1], &next) == 0 &&
	    !fz_in_chain(c, &next))
		c->name[c->n++] = next;
}

/* Every record of the scrubbed m belongs to q's chain. */
static void
fz_belongs(const uint8_t *m, size_t len, const struct wire_query *q)
{
	struct fz_chain	 c;
	struct wire_rr	 rr;
	struct fz_name	 owner;
	struct fz_name	*last;
	size_t		 end, soas = 0;
	int		 positive = 0, sigs;

	fz_chain(m, len, q, &c);
	last = &c.name[c.n - 1];
	sigs = q->do_bit || q->qtype == 46 || q->qtype == 255;
	wire_rr_begin(&rr, m, len, wire_skip_question(m, len));
	while (wire_rr_next(&rr) == 1) {
		if (rr.type == WIRE_TYPE_OPT)
			continue;
		assert(rr.class == q->qclass || q->qclass == 255);
		assert(fz_read(m, len, rr.owner, &owner, &end) == 0);
		switch (rr.section) {
		case WIRE_SEC_AN:
			/* Data at the last name, or a link, or a signature. */
			if (fz_eq(&owner, last) &&
			    (rr.type == q->qtype || q->qtype == 255))
				positive = 1;
			else if (rr.type == 5)
				assert(fz_in_chain(&c, &owner));
			else if (rr.type == 39)
				assert(fz_above_chain(&c, &owner));
			else
				assert(rr.type == 46 && sigs &&
				    (fz_in_chain(&c, &owner) ||
				    fz_above_chain(&c, &owner)));
			break;
		case WIRE_SEC_NS:
			if (rr.type == WIRE_TYPE_SOA) {
				assert(++soas == 1);
				assert(fz_under(last, &owner));
				assert(!positive ||
				    (fz_get16(m + 2) & 0xf) == WIRE_NXDOMAIN);
			} else {
				assert(q->do_bit);
				assert(rr.type == 46 || rr.type == 47 ||
				    rr.type == 50);
			}
			break;
		default:
			assert(0 && "a record in the additional section");
		}
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint8_t		 msg[WIRE_MAX_UDP], again[WIRE_MAX_UDP];
	static uint8_t		 tmp[WIRE_MAX_UDP];
	static uint8_t		 canon[FZ_CANON_MAX], canon2[FZ_CANON_MAX];
	static size_t		 starts[1025], starts2[1025];
	struct wire_query	 q;
	size_t			 n, n2, before, na, nb, ra, rb;
	unsigned		 dropped, dropped2;

	if (size < WIRE_HDR_LEN || size > WIRE_MAX_UDP)
		return (0);

	/* The question: the input's own, read as a query's. */
	memcpy(msg, data, size);
	msg[2] &= 0x7f;
	memset(msg + 6, 0, 6);
	(void)wire_parse_query(msg, size, &q);
	if (!q.have_question)
		return (0);
	q.do_bit = (data[3] & 0x40) != 0;

	memcpy(msg, data, size);
	n = wire_scrub(msg, size, &q, tmp, &dropped);
	if (n == 0) {
		assert(dropped == 0);
		return (0);
	}
	assert(n <= size);
	if (dropped == 0)
		assert(n == size && memcmp(msg, data, size) == 0);

	/*
	 * What was rewritten has its pointers moved: those in rdata too.
	 * (Kept as it came, rdata is the upstream's, checked or not.)
	 */
	before = fz_walk(data, size, 0);
	assert(fz_walk(msg, n, dropped != 0) + dropped == before);
	fz_belongs(msg, n, &q);
	if (dropped != 0) {
		fz_canon(data, size, canon, starts, &ra);
		fz_canon(msg, n, canon2, starts2, &rb);
		fz_kept_as_sent(canon, starts, ra, canon2, starts2, rb);
	}

	memcpy(again, msg, n);
	n2 = wire_scrub(again, n, &q, tmp, &dropped2);
	assert(n2 == n && dropped2 == 0 && memcmp(again, msg, n) == 0);

	/*
	 * Written anew instead of cut: the same records (when the rewrite
	 * does not refuse the message: it may, when names pointing into
	 * what goes grow longer in full than what was cut).
	 */
	memcpy(again, data, size);
	n2 = wire_scrub_rewrite(again, size, &q, tmp, &dropped2);
	if (n2 != 0) {
		assert(dropped2 == dropped);
		na = fz_canon(msg, n, canon, NULL, NULL);
		nb = fz_canon(again, n2, canon2, NULL, NULL);
		assert(na == nb && memcmp(canon, canon2, na) == 0);
	} else
		assert(dropped2 == 0);
	return (0);
}
