/*
 * wire.h: DNS messages read and written in place, without allocation.
 *
 * This is the hot path's view of a packet. A query is parsed straight from
 * the receive buffer into a struct wire_query (fixed buffers, nothing
 * allocated). Upstream answers are checked against the question they answer,
 * scanned once (TTL positions, cacheable lifetime) when they arrive, and
 * stored without their OPT record. Every answer to a client is then written
 * from such a stored message by wire_answer(): ID, flags, the client's
 * spelling of the name and TTLs patched, our own OPT record appended, and
 * truncated with TC=1 when it does not fit the client's UDP size.
 *
 * Before it is scanned, an upstream answer is scrubbed by wire_scrub():
 * only the records of the question's chain (the name and its aliases)
 * stay, so nothing an upstream (or a spoofer) adds about other names is
 * cached or relayed.
 *
 * Records are read one way, through wire_rr_next(), which other modules
 * may use too; names are lower-cased one way, by wire_lower().
 *
 * ldns is kept for load time and tests; nothing here calls it.
 *
 * No function here keeps a pointer to its arguments after it returns,
 * except into the caller's struct wire_rr, which points into the message
 * it walks.
 */
#ifndef VEILIG_WIRE_H
#define VEILIG_WIRE_H

#include <stddef.h>
#include <stdint.h>

#include "siphash.h"

#define WIRE_HDR_LEN		12
#define WIRE_MAX_NAME		255	/* octets of a name in wire form */
#define WIRE_MAX_LABEL		63
#define WIRE_EDNS_SIZE		1232	/* UDP payload size we advertise */
#define WIRE_MAX_UDP		65535
#define WIRE_MIN_UDP		512	/* without EDNS, or a smaller size */
#define WIRE_OPT_LEN		11	/* an OPT RR without options */
#define WIRE_MAX_TTLS		512	/* TTL positions kept per message */

/* Header flag bits (host order of the 16-bit flags word). */
#define WIRE_QR		0x8000
#define WIRE_AA		0x0400
#define WIRE_TC		0x0200
#define WIRE_RD		0x0100
#define WIRE_RA		0x0080
#define WIRE_AD		0x0020
#define WIRE_CD		0x0010
#define WIRE_OPCODE(f)	(((f) >> 11) & 0xf)
#define WIRE_RCODE(f)	((f) & 0xf)

/* RCODEs; BADVERS (16) needs the extended RCODE in the OPT record. */
#define WIRE_NOERROR	0
#define WIRE_FORMERR	1
#define WIRE_SERVFAIL	2
#define WIRE_NXDOMAIN	3
#define WIRE_NOTIMP	4
#define WIRE_REFUSED	5
#define WIRE_BADVERS	16

/* Types and classes used by name in the code. */
#define WIRE_TYPE_A	1
#define WIRE_TYPE_NS	2
#define WIRE_TYPE_CNAME	5
#define WIRE_TYPE_SOA	6
#define WIRE_TYPE_AAAA	28
#define WIRE_TYPE_DNAME	39
#define WIRE_TYPE_OPT	41
#define WIRE_TYPE_RRSIG	46
#define WIRE_TYPE_NSEC	47
#define WIRE_TYPE_NSEC3	50
#define WIRE_TYPE_SVCB	64
#define WIRE_TYPE_HTTPS	65
#define WIRE_TYPE_IXFR	251
#define WIRE_TYPE_AXFR	252
#define WIRE_TYPE_ANY	255
#define WIRE_CLASS_IN	1

/* What to do with a query after wire_parse_query(). */
enum wire_verdict {
	WIRE_OK = 0,		/* well formed: answer it */
	WIRE_DROP,		/* no answer at all (QR=1, short header) */
	WIRE_ERR_FORMERR,	/* answer FORMERR */
	WIRE_ERR_NOTIMP,	/* answer NOTIMP (opcode other than QUERY) */
	WIRE_ERR_BADVERS,	/* answer BADVERS (EDNS version > 0) */
};

/*
 * One client query, parsed in place. Lives on the worker's stack or in a
 * waiter record while the query is forwarded; owns no memory.
 *
 * Fields after a verdict other than WIRE_OK are valid as far as parsing got:
 * id and flags always (unless WIRE_DROP), the question when have_question,
 * the EDNS fields when edns.
 */
struct wire_query {
	uint16_t	id;		/* client's query ID */
	uint16_t	flags;		/* client's header flags word */
	int		have_question;	/* name, lname, qtype, qclass valid */
	uint8_t		name[WIRE_MAX_NAME];	/* qname as sent (wire form) */
	uint8_t		lname[WIRE_MAX_NAME];	/* the same, lower-cased */
	uint16_t	name_len;	/* octets in name and lname, root = 1 */
	uint8_t		labels;		/* number of labels, root = 0 */
	uint16_t	qtype;
	uint16_t	qclass;
	int		edns;		/* an OPT record was present */
	uint8_t		edns_version;
	int		do_bit;		/* DNSSEC OK was set */
	uint16_t	udp_size;	/* the most we may send back over UDP:
					   max(512, client's size), 512 when
					   no EDNS */
	const char	*why;		/* why the verdict is not WIRE_OK
					   (static text, for a debug log);
					   NULL after WIRE_OK */
	uint64_t	qhash;		/* wire_qhash(), when qhashed */
	int		qhashed;	/* set by wire_qhash_keep() only;
					   0 after parsing and retargeting */
};

/*
 * Parse a query of len octets at pkt. Fills *q and returns the verdict;
 * for any verdict but WIRE_OK, q->why says which check failed ("QDCOUNT
 * is 0", "OPT owner is not the root", "trailing octets", ...), as
 * Unbound's worker_check_request() does, so that a FORMERR can be
 * diagnosed from a log. Checks: header present; QR=0; opcode QUERY;
 * QDCOUNT exactly 1; the name uncompressed or with backward pointers only,
 * no loops, labels <= 63, name <= 255; question complete; ANCOUNT 0;
 * NSCOUNT 0; additional records well formed, at most one OPT, OPT owner
 * the root; nothing trailing. (RFC 1035 4.1, RFC 6891 6.1.1.)
 */
enum wire_verdict wire_parse_query(const uint8_t *pkt, size_t len,
	    struct wire_query *q);

/* The verdict as a word for logs: "ok", "drop", "FORMERR", ... */
const char	*wire_verdict_name(enum wire_verdict v);

/*
 * Lower-case the len octets of a wire name at src into dst (which may be
 * src). Only ASCII letters change (RFC 4343); length octets (<= 63) are
 * never letters, so a whole name can be folded at once. The one place a
 * name is lower-cased, in this module and elsewhere.
 */
void	wire_lower(uint8_t *dst, const uint8_t *src, size_t len);

/*
 * Offset just past the question section of msg (len octets): every one of
 * its QDCOUNT questions skipped. 0 when msg has no header or a question is
 * malformed or cut short.
 */
size_t	wire_skip_question(const uint8_t *msg, size_t len);

/* Record sections, in message order. */
enum wire_section {
	WIRE_SEC_AN = 0,	/* answer */
	WIRE_SEC_NS,		/* authority */
	WIRE_SEC_AR,		/* additional */
};

/*
 * The one way a record is read: wire_rr_begin() starts a walk over the
 * records of a message, wire_rr_next() reads the next one's fixed part
 * and checks its bounds. A struct wire_rr lives on the caller's stack and
 * points into the message it walks; it owns nothing. The owner name is
 * left where it is (it may be compressed): owner is its offset and
 * owner_len the length it has uncompressed.
 */
struct wire_rr {
	/* The walk, set by wire_rr_begin(), moved by wire_rr_next(). */
	const uint8_t	*msg;		/* the message walked, len octets */
	size_t		 len;
	size_t		 next;		/* offset of the next record: after
					   the last one, where it ended */
	uint32_t	 read;		/* records read so far */
	uint32_t	 end[3];	/* records up to the end of each
					   section: AN, AN+NS, AN+NS+AR */
	const char	*why;		/* after -1: what was malformed
					   (static text) */

	/* The record just read. */
	enum wire_section section;
	uint16_t	 nth;		/* its place in its section, from 0 */
	size_t		 owner;		/* offset of the owner name */
	uint16_t	 owner_len;	/* uncompressed length, root = 1 */
	uint16_t	 type;
	uint16_t	 class;
	uint32_t	 ttl;
	size_t		 ttl_off;	/* offset of the TTL field */
	uint16_t	 rdlen;
	size_t		 rdata;		/* offset of the rdata */
};

/*
 * Start a walk over the records of msg (len octets, at least a header)
 * at offset off, normally the end of the question section (see
 * wire_skip_question()). The section counts come from the header.
 */
void	wire_rr_begin(struct wire_rr *rr, const uint8_t *msg, size_t len,
	    size_t off);

/*
 * Read the next record into rr: 1 when one was read, 0 when the header's
 * counts are used up, -1 when the record is malformed (owner name bad,
 * fixed part or rdata running past the end; rr->why says which). The
 * rdata is only bounds-checked, not looked into.
 */
int	wire_rr_next(struct wire_rr *rr);

/*
 * Write a response without records to out (cap octets): the client's ID,
 * QR=1, RA=1, RD and CD copied, the rcode given (WIRE_BADVERS included, put
 * into the OPT record's extended RCODE), the question echoed when
 * q->have_question, and our OPT record when q->edns. Returns the length,
 * or 0 if cap is too small (cap >= 512 always suffices).
 */
size_t	wire_error(uint8_t *out, size_t cap, const struct wire_query *q,
	    int rcode);

/*
 * Write the query we send upstream for q: the given ID, RD=1, CD copied,
 * q->lname as the name, spelled as name when that is not NULL (the same
 * name in mixed case: see wire_mix_case()), and an OPT record (size
 * WIRE_EDNS_SIZE, DO as in q). Returns the length or 0 if it does not
 * fit.
 */
size_t	wire_make_query(uint8_t *out, size_t cap, const struct wire_query *q,
	    uint16_t id, const uint8_t *name);

/*
 * 0x20 (draft-vixie-dnsext-dns0x20): upstreams echo the question as it
 * was spelled, so an off-path attacker must guess the case of each letter
 * of the name we asked too. wire_letters() counts the letters of a
 * lower-case wire name of len octets: the bits of case it carries.
 * wire_mix_case() writes that name to dst with its octet i in upper case
 * where it is a letter and bit i of bits is set (bits[i / 8] >> (i % 8)
 * & 1); bits holds at least len bits. Every letter has a bit of its own,
 * so a name carries wire_letters() bits of case all the same; the bits
 * of the other octets go unused (a few random octets a name, for eight
 * octets done at once).
 */
size_t	wire_letters(const uint8_t *lname, size_t len);
void	wire_mix_case(uint8_t *dst, const uint8_t *lname, size_t len,
	    const uint8_t *bits);

/*
 * What wire_scan() learns of an upstream answer. ttl_off holds the offset
 * of every TTL field in the message except the OPT record's.
 */
struct wire_scan {
	size_t		len;		/* message length once OPT is cut off */
	uint16_t	flags;		/* header flags word */
	int		rcode;		/* header RCODE (low 4 bits) */
	uint16_t	ancount, nscount, arcount; /* after cutting OPT */
	uint32_t	ttl;		/* how long it may be cached: the
					   smallest TTL of the answer and
					   authority sections; for NXDOMAIN and
					   NODATA, min(SOA TTL, SOA MINIMUM)
					   (RFC 2308 5); 0 when it must not be
					   cached */
	uint16_t	nttl;
	uint16_t	ttl_off[WIRE_MAX_TTLS];
};

/*
 * Check that msg (len octets) answers q: QR=1, ID id, opcode QUERY, QDCOUNT
 * 1 and the same question (name compared case-insensitively, type, class).
 * Returns 0 if it does, -1 if not (the caller drops and counts it).
 */
int	wire_check_answer(const uint8_t *msg, size_t len,
	    const struct wire_query *q, uint16_t id);

/* The most names in a question's chain: the name and its aliases. */
#define WIRE_MAX_CHAIN	16

/*
 * Scrub the upstream answer msg (len octets, already passed
 * wire_check_answer() for q): keep only the records that belong to the
 * chain of q's question, drop every other one, so that nothing else is
 * cached or relayed (a poisoning attempt, or an upstream's extras). The
 * chain is q's name, then the target of the CNAME owned by each name in
 * turn, whatever order the records come in (at most WIRE_MAX_CHAIN
 * names; a loop ends it; for qtype CNAME only the name itself). A DNAME
 * (RFC 6672) whose owner is above a name of the chain makes a link too:
 * kept when it yields the next name (the synthesised CNAME's target, or
 * when there is no CNAME, its own substitution, which is then followed).
 * Kept, of the records of class q->qclass:
 *  - answer: the CNAME and DNAME links of the chain; the records of type
 *    qtype (any type for ANY) owned by the last name of the chain;
 *  - authority, when the answer is negative (NXDOMAIN, or no record of
 *    type qtype at the last name): the first SOA whose owner is the last
 *    name or above it;
 *  - additional: the OPT record (wire_scan() cuts it later);
 *  - for a DO=1 question: the RRSIGs of what is kept (an RRSIG owned by
 *    the owner of a kept RRset and covering its type), and in the
 *    authority section the NSEC and NSEC3 records (and their RRSIGs) at
 *    or below the zone of the proof: the SOA's owner in a negative answer,
 *    or the signer of a wildcard expansion (an answer RRSIG with fewer
 *    labels than its owner), so that validating clients still validate.
 * Everything else goes, NS and glue of a positive answer included: a
 * forwarder's clients do not follow referrals.
 *
 * When nothing is dropped msg is left as it is. Otherwise the kept
 * records are written to tmp (at least len octets, the caller's scratch)
 * and copied back over msg: bytes as they were, except that compression
 * pointers (in owners, and in the rdata of the types whose names may come
 * compressed: RFC 1035's, DNAME, and those RFC 3597 4 says to decompress
 * too, RP, AFSDB, RT, PX, NAPTR and SRV, and KX) are moved with what they
 * point at, and a name pointing into a dropped record is written out in
 * full. Other rdata is copied as it is: RFC 3597 forbids compressing
 * names in it (SIG and NXT, also on its list, are obsolete). Returns
 * the new length (never above len) with *dropped set to the number of
 * records removed, or 0 when the message cannot be scrubbed (malformed,
 * a compressed question, more than 1024 records, a kept record's names
 * unreadable or its rdata not of its type's shape, NAPTR strings past
 * its end included, or it would grow); such an answer is treated as a
 * failed upstream, like one wire_scan() refuses.
 */
size_t	wire_scrub(uint8_t *msg, size_t len, const struct wire_query *q,
	    uint8_t *tmp, unsigned *dropped);
/*
 * wire_scrub() without its cut in place (when only records after the
 * first ones go, it cuts msg short rather than write it anew): every
 * message that loses records is written anew. For the tests, which check
 * that the two give the same records.
 */
size_t	wire_scrub_rewrite(uint8_t *msg, size_t len,
	    const struct wire_query *q, uint8_t *tmp, unsigned *dropped);

/*
 * Is the question name of msg (len octets, past wire_check_answer())
 * spelled exactly as name (name_len octets), case and all? For 0x20: an
 * answer whose name differs from the query's only in case is either
 * forged or from an upstream that does not keep the case. 1 or 0.
 */
int	wire_check_case(const uint8_t *msg, size_t len, const uint8_t *name,
	    size_t name_len);

/*
 * Walk every record of msg (len octets, already passed wire_check_answer)
 * and fill *sc. The OPT record and anything after it in the additional
 * section is cut: msg is modified in place (ARCOUNT lowered) and sc->len
 * says how much of it remains. Returns 0, or -1 when the message is
 * malformed (bad names, records running past the end, more than
 * WIRE_MAX_TTLS records, a CNAME or DNAME whose rdata is not one name, an
 * SVCB or HTTPS record wire_inspect() could not read); such a message is
 * treated as a failed upstream.
 */
int	wire_scan(uint8_t *msg, size_t len, struct wire_scan *sc);

/*
 * A message to answer from: an upstream answer as left by wire_scan()
 * (without OPT), and where its TTL fields are, or an answer already
 * written for a client (nttl 0). Points into memory its user owns.
 */
struct wire_msg {
	const uint8_t	*data;
	size_t		 len;
	const uint16_t	*ttl_off;	/* offsets of the TTL fields */
	uint16_t	 nttl;
};

/*
 * Lower every TTL of msg above max to max; ttl_off[0..nttl-1] are the
 * offsets of its TTL fields, as wire_scan() found them.
 */
void	wire_cap_ttls(uint8_t *msg, const uint16_t *ttl_off, uint16_t nttl,
	    uint32_t max);

/*
 * Write the answer for q to out (cap octets) from a stored message m:
 *  - ID set to q->id; RD and CD copied from the query; QR=1 and RA=1 set;
 *    AA cleared; the rest of the header as stored;
 *  - the question name rewritten with the client's spelling (q->name);
 *  - every TTL: when fixed_ttl is 0, stored TTL minus elapsed (never below
 *    0); otherwise set to fixed_ttl: a non-zero fixed_ttl marks a stale
 *    answer (RFC 8767 uses 30);
 *  - our OPT record appended when q->edns, with DO echoed, and for a
 *    stale answer an Extended DNS Error 3, Stale Answer (RFC 8914);
 *  - when the result is longer than udp_max (pass 65535 for TCP), only the
 *    header, question and OPT are sent with TC=1 and all counts 0.
 * Returns the length written, or 0 when cap is too small.
 */
size_t	wire_answer(uint8_t *out, size_t cap, const struct wire_msg *m,
	    uint32_t elapsed, uint32_t fixed_ttl, const struct wire_query *q,
	    size_t udp_max);

/*
 * Is the question of msg (len octets, uncompressed, right after the
 * header, as wire_scan() leaves an answer) q's, up to case: name, type
 * and class? wire_answer() asks first and writes nothing for another
 * question; wire_answer_known() is wire_answer() for a caller that made
 * sure of it before (the cache, when it stored the message under q's
 * key: a hit's key is the same name, type and class).
 */
int	wire_question_is(const uint8_t *msg, size_t len,
	    const struct wire_query *q);
size_t	wire_answer_known(uint8_t *out, size_t cap, const struct wire_msg *m,
	    uint32_t elapsed, uint32_t fixed_ttl, const struct wire_query *q,
	    size_t udp_max);

/*
 * Write the name in wire form at name (name_len octets) as text into out
 * ("www.example.nl." or "." for the root), cap octets with the NUL.
 * Non-printable octets and dots inside labels are escaped as \DDD.
 * Returns out. For logs and tests only.
 */
char	*wire_name_str(const uint8_t *name, size_t name_len, char *out,
	    size_t cap);

/*
 * Filtering (policy.c decides, these write). Extended DNS Errors, RFC
 * 8914: the OPT option code and the info codes we use.
 */
#define WIRE_OPT_EDE		15
#define WIRE_EDE_STALE		3	/* Stale Answer */
#define WIRE_EDE_STALE_LEN	6	/* that option, without text */
#define WIRE_EDE_BLOCKED	15
#define WIRE_EDE_FILTERED	17
#define WIRE_EDE_MAX_TEXT	128	/* longer EXTRA-TEXT is cut */

/* What a blocked answer looks like. */
enum wire_block_action {
	WIRE_BLOCK_NXDOMAIN = 0,	/* NXDOMAIN + SOA */
	WIRE_BLOCK_NODATA,		/* NOERROR, no answer, SOA */
	WIRE_BLOCK_REFUSED,		/* REFUSED, no records */
	WIRE_BLOCK_REDIRECT,		/* A/AAAA of a block page; other
					   types (or a family without an
					   address) get NODATA + SOA */
};

struct wire_block {
	enum wire_block_action	 action;
	uint32_t		 ttl;	/* of the SOA and of redirect records;
					   the SOA MINIMUM is the same */
	const uint8_t		*apex;	/* SOA owner: the name of the rule
					   that matched (lower-case wire
					   form), a suffix of the qname; NULL
					   means the qname itself */
	size_t			 apex_len;
	int			 have4, have6;
	uint8_t			 addr4[4];
	uint8_t			 addr6[16];
	uint16_t		 ede_code; /* 0 = no EDE option */
	const char		*ede_text; /* NUL-terminated UTF-8, or NULL */
};

/*
 * Write the blocked answer for q to out (cap octets): ID, RD, CD copied,
 * QR=1, RA=1, AA=0, the question echoed as the client spelled it, records
 * as b->action says (the SOA: owner apex, MNAME "localhost.", RNAME
 * "nobody.invalid.", serial 1, refresh 3600, retry 600, expire 86400,
 * minimum b->ttl), and when q->edns our OPT with DO echoed and, when
 * b->ede_code is set, an EDE option (info code, then the text). Returns
 * the length or 0 if cap is too small (512 always suffices for texts up to
 * WIRE_EDE_MAX_TEXT).
 */
size_t	wire_block_answer(uint8_t *out, size_t cap, const struct wire_query *q,
	    const struct wire_block *b);

/*
 * Write the answer for q that says q's name is an alias: a CNAME record
 * (owner the question name, TTL ttl, target the lower-case wire name
 * target of tlen octets), followed by the answer-section records of tm
 * (a complete answer about target, as wire_answer() or cache_lookup()
 * wrote it; its TTL offsets are not used). When tm has no answer
 * records, its authority-section SOA is copied to the authority section.
 * RCODE from tm. Names of copied records (owners, and names inside the
 * rdata of the types wire_scrub() reads them in) are written uncompressed,
 * since tm's compression pointers mean nothing in out. Our OPT when q->edns.
 * Truncated with TC=1 like wire_answer() when over udp_max. Returns the
 * length, or 0 when cap is too small or tm is malformed.
 */
size_t	wire_cname_answer(uint8_t *out, size_t cap, const struct wire_query *q,
	    const uint8_t *target, size_t tlen, uint32_t ttl,
	    const struct wire_msg *tm, size_t udp_max);

/*
 * Make *dst the query q asked about another name (lower-case wire form,
 * len octets): the same ID, flags, type, class and EDNS; name and lname
 * both set to name. For following a safe-search CNAME. 0 or -1 (name
 * invalid).
 */
int	wire_query_retarget(struct wire_query *dst, const struct wire_query *q,
	    const uint8_t *name, size_t len);

/*
 * SipHash (siphash.h) under key of the key of a question: lname, qtype,
 * qclass and DO. Not CD: the cache answers CD=1 and CD=0 alike (it stores
 * no CD=1 answer); the forwarder's and the cross-worker tables of
 * questions in flight keep the two apart by comparing CD, in one chain.
 * Keyed, because clients pick the names: no one can aim them at one
 * bucket.
 */
uint64_t	wire_key_hash(const struct wire_query *q,
		    const struct siphash_key *key);

/*
 * The hash of q's key for the cache, the forwarder and the registry of
 * questions in flight: wire_key_hash() under a secret key drawn at random
 * once per process. One hash serves all three, so a miss hashes its
 * question once: wire_qhash_keep() works it out and keeps it in q
 * (qhash), and wire_qhash() returns the kept one, or works it out when q
 * has none (wire_qhash_work(), without keeping it: q is not ours to
 * change). Whoever changes
 * the key of a question it kept the hash of clears qhashed (parsing and
 * wire_query_retarget() do).
 */
uint64_t	wire_qhash_keep(struct wire_query *q);
uint64_t	wire_qhash_work(const struct wire_query *q);

/* Inline: the cache's lookup on every hit finds the hash kept. */
static inline uint64_t
wire_qhash(const struct wire_query *q)
{
	return (q->qhashed ? q->qhash : wire_qhash_work(q));
}

/* Answer inspection: what wire_inspect() reports of each answer record. */
struct wire_visit {
	/* The target of a CNAME, DNAME, SVCB or HTTPS record (not the
	   root), decompressed and lower-cased. */
	int	(*name)(void *arg, const uint8_t *lname, size_t len);
	/* The address of an A (family AF_INET, 4 octets) or AAAA record, or
	   an ipv4hint or ipv6hint address of an SVCB or HTTPS record; class
	   IN only. */
	int	(*addr)(void *arg, int family, const uint8_t *addr);
	void	*arg;
};

/*
 * Walk the answer section of msg (len octets, as left by wire_scan()),
 * calling v->name and v->addr (either may be NULL); a callback returning
 * non-zero stops the walk. SVCB and HTTPS records (RFC 9460) are read
 * defensively: their parameters must lie inside the rdata in increasing
 * key order, hints whole addresses (wire_scan() refuses an answer with
 * one that is not). Returns 0, or -1 when msg is malformed.
 */
int	wire_inspect(const uint8_t *msg, size_t len, const struct wire_visit *v);

#endif
