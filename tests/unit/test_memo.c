/*
 * test_memo.c: the worker's memory of blocked verdicts. A verdict comes
 * back as it went in; a name whose 64-bit hash is another's (forced
 * here: the tests pick the hashes) never gets the other's verdict; a
 * verdict of another policy generation or another board is a miss; a
 * set keeps MEMO_WAYS verdicts, and a new generation empties the table;
 * only blocks of names up to MEMO_NAME octets are kept; a verdict is kept
 * on the second block of its question and board only, while its set
 * remembers the first, and a tag that is another's keeps no verdict for
 * the wrong name or board.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "memo.h"
#include "policy.h"
#include "tdir.h"
#include "wire.h"

/* q holds name (text, dots between labels) with the hash h, kept. */
static const struct wire_query *
mkq(struct wire_query *q, const char *name, uint64_t h)
{
	size_t		 off;

	memset(q, 0, sizeof *q);
	off = tname(name, q->lname, WIRE_MAX_NAME);
	memcpy(q->name, q->lname, off);
	q->name_len = (uint16_t)off;
	q->have_question = 1;
	q->qhash = h;
	q->qhashed = 1;
	return (q);
}

/* A name (text) of len octets in wire form, of labels "xx...", into buf. */
static const char *
longname(char *buf, size_t len)
{
	size_t	off = 0, n;

	/* Each label takes its length octet; the root one more. */
	len--;
	while (len > 0) {
		n = len - 1 > 9 ? 9 : len - 1;
		if (len - (n + 1) == 1)		/* no label of 0 after it */
			n--;
		if (off != 0)
			buf[off++] = '.';
		memset(buf + off, 'x', n);
		off += n;
		len -= n + 1;
	}
	buf[off] = '\0';
	return (buf);
}

/* A block as policy_question() writes it, by rule (list bit). */
static struct policy_verdict
block(enum policy_rule rule, int bit, const char *text, size_t apex_off)
{
	struct policy_verdict	v;

	memset(&v, 0, sizeof v);
	v.kind = POLICY_BLOCK;
	v.rule = rule;
	v.bit = bit;
	v.action = rule == POLICY_RULE_CANARY ? WIRE_BLOCK_NXDOMAIN :
	    WIRE_BLOCK_NODATA;
	v.ede_code = rule == POLICY_RULE_CANARY ? WIRE_EDE_BLOCKED :
	    WIRE_EDE_FILTERED;
	v.ede_text = text;
	v.apex_off = apex_off;
	return (v);
}

/* memo_get() gives want back, whole (every field, padding aside). */
static void
assert_got(const struct memo *m, const struct wire_query *q, uint32_t gen,
    unsigned board, const struct policy_verdict *want)
{
	struct policy_verdict	v;

	memset(&v, 0x5a, sizeof v);
	assert_int_equal(memo_get(m, q, gen, board, &v), 1);
	assert_int_equal(v.kind, want->kind);
	assert_int_equal(v.rule, want->rule);
	assert_int_equal(v.bit, want->bit);
	assert_int_equal(v.action, want->action);
	assert_int_equal(v.ede_code, want->ede_code);
	assert_ptr_equal(v.ede_text, want->ede_text);
	assert_int_equal(v.apex_off, want->apex_off);
	assert_null(v.target);
	assert_int_equal(v.tlen, 0);
	assert_int_equal(v.ttl, 0);
}

/* memo_get() has nothing, and leaves v alone. */
static void
assert_none(const struct memo *m, const struct wire_query *q, uint32_t gen,
    unsigned board)
{
	struct policy_verdict	v, was;

	memset(&v, 0x5a, sizeof v);
	was = v;
	assert_int_equal(memo_get(m, q, gen, board, &v), 0);
	assert_memory_equal(&v, &was, sizeof v);
}

/*
 * Put v for q twice, as two blocks of it: the first only notes that it
 * was seen (nothing to get), the second keeps it.
 */
static void
keep(struct memo *m, const struct wire_query *q, uint32_t gen,
    unsigned board, const struct policy_verdict *v)
{
	struct policy_verdict	got;

	memo_put(m, q, gen, board, v);
	assert_int_equal(memo_get(m, q, gen, board, &got), 0);
	memo_put(m, q, gen, board, v);
}

/* What goes in comes out, for its generation and board only. */
static void
test_keyed(void **state)
{
	struct memo		*m;
	struct wire_query	 q;
	struct policy_verdict	 v = block(POLICY_RULE_LIST, 3,
				    "blocked: ads", 4);

	(void)state;
	assert_null(memo_new(0));
	assert_null(memo_new(3));
	assert_non_null(m = memo_new(MEMO_SETS));
	mkq(&q, "www.ads.example.nl", 0x1234);
	assert_none(m, &q, 7, 0);
	keep(m, &q, 7, 0, &v);
	assert_got(m, &q, 7, 0, &v);
	/* Another generation (a reload), another board: misses. */
	assert_none(m, &q, 8, 0);
	assert_none(m, &q, 6, 0);
	assert_none(m, &q, 7, 1);
	/* The same name with another hash (another qtype): its own. */
	mkq(&q, "www.ads.example.nl", 0x1234 + MEMO_SETS);
	assert_none(m, &q, 7, 0);
	memo_free(m);
	memo_free(NULL);
}

/* n names of one hash: "n0.ads.example.nl", ... into qs. */
static void
mkqs(struct wire_query *qs, size_t n, uint64_t h)
{
	char	name[64];
	size_t	i;

	for (i = 0; i < n; i++) {
		snprintf(name, sizeof name, "n%zu.ads.example.nl", i);
		mkq(&qs[i], name, h);
	}
}

/*
 * Names sharing a full hash, not just a set: each has its own verdict or
 * none, never another's, whatever the order of puts and gets; a name
 * that is the start of another's, or differs in one octet, too. One
 * more than a set holds pushes exactly one out.
 */
static void
test_collision(void **state)
{
	static const char *const texts[] = {
		"blocked: ads", "blocked: deny list", "blocked: canary" };
	struct memo		*m;
	struct wire_query	 a, b, c, d, qs[MEMO_WAYS + 1];
	struct policy_verdict	 va = block(POLICY_RULE_LIST, 0,
				    "blocked: ads", 4);
	struct policy_verdict	 vb = block(POLICY_RULE_DENY, -1,
				    "blocked: deny list", 0);
	struct policy_verdict	 vs[MEMO_WAYS + 1], v;
	size_t			 i, found;

	(void)state;
	assert_non_null(m = memo_new(1));
	mkq(&a, "www.ads.example.nl", 42);
	mkq(&b, "www.ads.example.nm", 42);
	mkq(&c, "www.ads.example.nl.x", 42);
	mkq(&d, "www.ads.example", 42);
	keep(m, &a, 1, 0, &va);
	assert_none(m, &b, 1, 0);
	assert_none(m, &c, 1, 0);
	assert_none(m, &d, 1, 0);
	keep(m, &b, 1, 0, &vb);
	assert_got(m, &a, 1, 0, &va);
	assert_got(m, &b, 1, 0, &vb);
	/* Put again: replaced where it is, nothing else pushed out. */
	memo_put(m, &b, 1, 0, &va);	/* its own way: at once */
	assert_got(m, &b, 1, 0, &va);
	assert_got(m, &a, 1, 0, &va);
	assert_none(m, &c, 1, 0);
	memo_free(m);

	/* MEMO_WAYS + 1 names of one hash in a set of MEMO_WAYS ways. */
	assert_non_null(m = memo_new(1));
	mkqs(qs, MEMO_WAYS + 1, 7);
	for (i = 0; i <= MEMO_WAYS; i++) {
		vs[i] = block(POLICY_RULE_LIST, (int)i, texts[i % 3], i % 5);
		keep(m, &qs[i], 1, 0, &vs[i]);
	}
	for (i = found = 0; i <= MEMO_WAYS; i++) {
		if (memo_get(m, &qs[i], 1, 0, &v) == 0)
			continue;
		assert_got(m, &qs[i], 1, 0, &vs[i]);
		found++;
	}
	assert_int_equal(found, MEMO_WAYS);
	memo_free(m);
}

/*
 * A new generation empties the table: its first block, kept or not, and
 * the old verdicts are gone, for the old generation too.
 */
static void
test_generation(void **state)
{
	struct memo		*m;
	struct wire_query	 old[MEMO_WAYS], cur[MEMO_WAYS];
	struct policy_verdict	 v = block(POLICY_RULE_LIST, 1,
				    "blocked: ads", 0);
	size_t			 i;

	(void)state;
	assert_non_null(m = memo_new(1));
	mkqs(old, MEMO_WAYS, 1);
	for (i = 0; i < MEMO_WAYS; i++)
		keep(m, &old[i], 1, 0, &v);
	for (i = 0; i < MEMO_WAYS; i++)
		assert_got(m, &old[i], 1, 0, &v);
	/*
	 * A reload: one block seen under it (a hash whose tag is not the
	 * small hashes' of this test), and none of the old stays.
	 */
	mkq(&cur[0], "c.example", 99 | (uint64_t)5 << 32);
	memo_put(m, &cur[0], 2, 0, &v);
	for (i = 0; i < MEMO_WAYS; i++) {
		assert_none(m, &old[i], 1, 0);
		assert_none(m, &old[i], 2, 0);
	}
	/* The set fills with the new generation's alone. */
	for (i = 0; i < MEMO_WAYS; i++) {
		mkq(&cur[i], i % 2 ? "a.example" : "b.example.nl", 100 + i);
		cur[i].qhash = 100 + i * 7;
		keep(m, &cur[i], 2, 0, &v);
	}
	for (i = 0; i < MEMO_WAYS; i++) {
		assert_got(m, &cur[i], 2, 0, &v);
		assert_none(m, &old[i], 1, 0);
		assert_none(m, &old[i], 2, 0);
	}
	memo_free(m);
}

/*
 * A verdict is kept on the second block of its question for its board,
 * not the first: for each board apart, and only while the set remembers
 * the first (its last MEMO_GHOSTS sightings). A verdict once kept is
 * replaced at once.
 */
static void
test_admission(void **state)
{
	struct memo		*m;
	struct wire_query	 q, qs[MEMO_GHOSTS + 1];
	struct policy_verdict	 v = block(POLICY_RULE_LIST, 5,
				    "blocked: ads", 4), w;
	size_t			 i;

	(void)state;
	assert_non_null(m = memo_new(MEMO_SETS));
	mkq(&q, "www.ads.example.nl", 0xabcdef0123456789ULL);
	memo_put(m, &q, 3, 0, &v);
	assert_none(m, &q, 3, 0);
	/* Another board's first block: its own sighting, not board 0's. */
	memo_put(m, &q, 3, 1, &v);
	assert_none(m, &q, 3, 1);
	assert_none(m, &q, 3, 0);
	memo_put(m, &q, 3, 0, &v);
	assert_got(m, &q, 3, 0, &v);
	assert_none(m, &q, 3, 1);
	memo_put(m, &q, 3, 1, &v);
	assert_got(m, &q, 3, 1, &v);
	/* Kept already: a new verdict replaces it at once. */
	w = block(POLICY_RULE_DENY, -1, "blocked: deny list", 0);
	memo_put(m, &q, 3, 0, &w);
	assert_got(m, &q, 3, 0, &w);
	assert_got(m, &q, 3, 1, &v);
	memo_free(m);

	/*
	 * One set: MEMO_GHOSTS + 1 questions seen once each push the first
	 * sighting out, so its second block is a first again; the others'
	 * second blocks keep them.
	 */
	assert_non_null(m = memo_new(1));
	for (i = 0; i <= MEMO_GHOSTS; i++) {
		mkq(&qs[i], i % 2 ? "a.ads.example" : "b.ads.example.nl",
		    (uint64_t)(i + 1) << 32);
		memo_put(m, &qs[i], 1, 0, &v);
		assert_none(m, &qs[i], 1, 0);
	}
	memo_put(m, &qs[0], 1, 0, &v);
	assert_none(m, &qs[0], 1, 0);
	memo_put(m, &qs[MEMO_GHOSTS], 1, 0, &v);
	assert_got(m, &qs[MEMO_GHOSTS], 1, 0, &v);
	/* The first's sighting after it was pushed out: kept now. */
	memo_put(m, &qs[0], 1, 0, &v);
	assert_got(m, &qs[0], 1, 0, &v);
	memo_free(m);
}

/*
 * Tags are 32 bits of a hash and the board: two questions may share
 * one. That keeps a verdict at its first block, and nothing else: each
 * name and board still gets only its own verdict.
 */
static void
test_ghost_collision(void **state)
{
	struct memo		*m;
	struct wire_query	 a, b, c;
	struct policy_verdict	 va = block(POLICY_RULE_LIST, 0,
				    "blocked: ads", 4);
	struct policy_verdict	 vb = block(POLICY_RULE_CANARY, -1,
				    "blocked: canary", 0);
	uint64_t		 h = 0x1111222233334444ULL;

	(void)state;
	assert_non_null(m = memo_new(MEMO_SETS));
	/* Two names of one hash, one board: b kept at its first block. */
	mkq(&a, "www.ads.example.nl", h);
	mkq(&b, "use-application-dns.net", h);
	memo_put(m, &a, 1, 0, &va);
	memo_put(m, &b, 1, 0, &vb);
	assert_got(m, &b, 1, 0, &vb);
	assert_none(m, &a, 1, 0);
	assert_none(m, &b, 1, 1);
	/* a's sighting was used up by b: two blocks of its own to keep. */
	memo_put(m, &a, 1, 0, &va);
	assert_none(m, &a, 1, 0);
	memo_put(m, &a, 1, 0, &va);
	assert_got(m, &a, 1, 0, &va);
	assert_got(m, &b, 1, 0, &vb);

	/*
	 * A hash of the same set whose tag for board 1 is a's tag for
	 * board 0: kept for board 1 at once, and for board 1 alone.
	 */
	mkq(&c, "www.ads.example.nl", h ^ ((uint64_t)(0x9e3779b1U * 1U ^
	    0x9e3779b1U * 2U) << 32));
	assert_true((c.qhash & (MEMO_SETS - 1)) == (h & (MEMO_SETS - 1)));
	memo_free(m);
	assert_non_null(m = memo_new(MEMO_SETS));
	memo_put(m, &a, 1, 0, &va);
	memo_put(m, &c, 1, 1, &vb);
	assert_got(m, &c, 1, 1, &vb);
	assert_none(m, &c, 1, 0);
	assert_none(m, &a, 1, 0);
	assert_none(m, &a, 1, 1);
	memo_free(m);
}

/* Only blocks of names up to MEMO_NAME octets are kept. */
static void
test_kept(void **state)
{
	struct memo		*m;
	struct wire_query	 q;
	struct policy_verdict	 v = block(POLICY_RULE_LIST, 2,
				    "blocked: ads", 0);
	char			 name[256];

	(void)state;
	assert_non_null(m = memo_new(4));
	mkq(&q, "pass.example", 9);
	v.kind = POLICY_PASS;
	keep(m, &q, 1, 0, &v);
	assert_none(m, &q, 1, 0);
	v.kind = POLICY_ALLOWED;
	keep(m, &q, 1, 0, &v);
	assert_none(m, &q, 1, 0);
	v.kind = POLICY_REWRITE;
	keep(m, &q, 1, 0, &v);
	assert_none(m, &q, 1, 0);
	v.kind = POLICY_BLOCK;

	/* MEMO_NAME octets exactly, then one more. */
	mkq(&q, longname(name, MEMO_NAME), 10);
	assert_int_equal(q.name_len, MEMO_NAME);
	keep(m, &q, 1, 0, &v);
	assert_got(m, &q, 1, 0, &v);
	mkq(&q, longname(name, MEMO_NAME + 1), 11);
	assert_int_equal(q.name_len, MEMO_NAME + 1);
	keep(m, &q, 1, 0, &v);
	assert_none(m, &q, 1, 0);
	/* A question whose hash was never worked out. */
	mkq(&q, "unhashed.example", 12);
	q.qhashed = 0;
	keep(m, &q, 1, 0, &v);
	q.qhashed = 1;
	assert_none(m, &q, 1, 0);
	memo_free(m);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_keyed),
		cmocka_unit_test(test_collision),
		cmocka_unit_test(test_generation),
		cmocka_unit_test(test_kept),
		cmocka_unit_test(test_admission),
		cmocka_unit_test(test_ghost_collision),
	};

	return (cmocka_run_group_tests(tests, NULL, NULL));
}
