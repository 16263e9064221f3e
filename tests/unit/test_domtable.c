/*
 * test_domtable.c: unit tests of the compiled domain table (domtable.c).
 *
 * Names are written as text and turned into lower-case wire form by a
 * small helper here, so that the test needs no other module. The last
 * tests compare the table with a brute-force reading of the same entries
 * on random names over a small alphabet of labels, so that names, their
 * parents and their subdomains collide often.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "domtable.h"
#include "tdir.h"

#define NAME_MAX_WIRE	255

/* A name in wire form. */
struct name {
	uint8_t	wire[NAME_MAX_WIRE];
	size_t	len;
};

/* Text ("a.b.c", "a.b.c." or "." for the root) to wire form. */
static struct name
wire(const char *text)
{
	struct name	n;

	memset(&n, 0, sizeof n);
	n.len = tname(text, n.wire, sizeof n.wire);
	return (n);
}

static void
add(struct domtable_builder *b, const char *text, unsigned list,
    enum domtable_kind kind, enum domtable_match match, uint32_t tag)
{
	struct name	n = wire(text);

	assert_int_equal(domtable_add(b, n.wire, n.len, list, kind, match,
	    tag), 0);
}

static uint64_t
match(const struct domtable *t, const char *text)
{
	struct name	n = wire(text);

	return (domtable_match(t, n.wire, n.len));
}

static struct domtable *
build(struct domtable_builder *b)
{
	struct domtable	*t;

	t = domtable_build(b);
	assert_non_null(t);
	return (t);
}

static void
test_empty(void **state)
{
	struct domtable_builder	*b;
	struct domtable		*t;
	struct domtable_hit	 hit;
	struct name		 n = wire("example.com");

	(void)state;
	assert_int_equal(domtable_match(NULL, n.wire, n.len), 0);
	domtable_builder_free(NULL);
	domtable_free(NULL);
	assert_non_null(b = domtable_builder_new());
	t = build(b);
	assert_int_equal(match(t, "example.com"), 0);
	assert_int_equal(match(t, "."), 0);
	assert_int_equal(domtable_explain(t, n.wire, n.len, 0, &hit), -1);
	assert_int_equal(domtable_entries(t), 0);
	assert_true(domtable_bytes(t) > 0);
	domtable_free(t);

	/* A builder freed without building. */
	assert_non_null(b = domtable_builder_new());
	add(b, "example.com", 0, DOMTABLE_BLOCK, DOMTABLE_SUBTREE, 1);
	domtable_builder_free(b);
}

static void
test_bad_input(void **state)
{
	struct domtable_builder	*b;
	struct domtable		*t;
	struct name		 n = wire("example.com");
	const uint8_t		 bad[] = { 7, 'e', 'x', 0 };

	(void)state;
	assert_non_null(b = domtable_builder_new());
	assert_int_equal(domtable_add(b, n.wire, n.len, DOMTABLE_MAX_LISTS,
	    DOMTABLE_BLOCK, DOMTABLE_SUBTREE, 0), -1);
	assert_int_equal(domtable_add(b, bad, sizeof bad, 0, DOMTABLE_BLOCK,
	    DOMTABLE_SUBTREE, 0), -1);
	assert_int_equal(domtable_add(b, n.wire, n.len - 1, 0, DOMTABLE_BLOCK,
	    DOMTABLE_SUBTREE, 0), -1);
	assert_int_equal(domtable_add(b, n.wire, 0, 0, DOMTABLE_BLOCK,
	    DOMTABLE_SUBTREE, 0), -1);
	add(b, "com", 0, DOMTABLE_BLOCK, DOMTABLE_SUBTREE, 0);
	t = build(b);
	assert_int_equal(domtable_entries(t), 1);
	/* Malformed query names match nothing and do not crash. */
	assert_int_equal(domtable_match(t, bad, sizeof bad), 0);
	assert_int_equal(domtable_match(t, n.wire, n.len - 1), 0);
	assert_int_equal(domtable_match(t, n.wire, n.len + 1), 0);
	assert_int_equal(domtable_match(t, n.wire, 0), 0);
	assert_int_equal(match(t, "example.com"), 1);
	domtable_free(t);
}

static void
test_subtree(void **state)
{
	struct domtable_builder	*b;
	struct domtable		*t;

	(void)state;
	assert_non_null(b = domtable_builder_new());
	add(b, "example.com", 3, DOMTABLE_BLOCK, DOMTABLE_SUBTREE, 7);
	t = build(b);
	assert_int_equal(match(t, "example.com"), 1ULL << 3);
	assert_int_equal(match(t, "www.example.com"), 1ULL << 3);
	assert_int_equal(match(t, "a.b.c.example.com"), 1ULL << 3);
	assert_int_equal(match(t, "com"), 0);
	assert_int_equal(match(t, "example.net"), 0);
	assert_int_equal(match(t, "notexample.com"), 0);
	assert_int_equal(match(t, "example.com.evil"), 0);
	assert_int_equal(match(t, "."), 0);
	domtable_free(t);
}

static void
test_exact(void **state)
{
	struct domtable_builder	*b;
	struct domtable		*t;

	(void)state;
	assert_non_null(b = domtable_builder_new());
	add(b, "www.google.nl", 1, DOMTABLE_BLOCK, DOMTABLE_EXACT, 1);
	t = build(b);
	assert_int_equal(match(t, "www.google.nl"), 2);
	assert_int_equal(match(t, "a.www.google.nl"), 0);
	assert_int_equal(match(t, "google.nl"), 0);
	domtable_free(t);
}

static void
test_subonly(void **state)
{
	struct domtable_builder	*b;
	struct domtable		*t;

	(void)state;
	assert_non_null(b = domtable_builder_new());
	add(b, "example.com", 0, DOMTABLE_BLOCK, DOMTABLE_SUBONLY, 1);
	t = build(b);
	assert_int_equal(match(t, "example.com"), 0);
	assert_int_equal(match(t, "sub.example.com"), 1);
	assert_int_equal(match(t, "a.sub.example.com"), 1);
	domtable_free(t);
}

static void
test_most_specific(void **state)
{
	struct domtable_builder	*b;
	struct domtable		*t;

	(void)state;
	assert_non_null(b = domtable_builder_new());
	add(b, "example.com", 2, DOMTABLE_BLOCK, DOMTABLE_SUBTREE, 1);
	add(b, "ads.example.com", 2, DOMTABLE_PASS, DOMTABLE_SUBTREE, 2);
	add(b, "z.ads.example.com", 2, DOMTABLE_BLOCK, DOMTABLE_SUBTREE, 3);
	t = build(b);
	assert_int_equal(match(t, "example.com"), 4);
	assert_int_equal(match(t, "y.example.com"), 4);
	assert_int_equal(match(t, "ads.example.com"), 0);
	assert_int_equal(match(t, "x.ads.example.com"), 0);
	assert_int_equal(match(t, "z.ads.example.com"), 4);
	assert_int_equal(match(t, "q.z.ads.example.com"), 4);
	domtable_free(t);

	/* An exact exception only frees the name itself. */
	assert_non_null(b = domtable_builder_new());
	add(b, "example.com", 0, DOMTABLE_BLOCK, DOMTABLE_SUBTREE, 1);
	add(b, "www.example.com", 0, DOMTABLE_PASS, DOMTABLE_EXACT, 2);
	t = build(b);
	assert_int_equal(match(t, "www.example.com"), 0);
	assert_int_equal(match(t, "a.www.example.com"), 1);
	domtable_free(t);
}

static void
test_lists_independent(void **state)
{
	struct domtable_builder	*b;
	struct domtable		*t;

	(void)state;
	assert_non_null(b = domtable_builder_new());
	add(b, "example.com", 0, DOMTABLE_BLOCK, DOMTABLE_SUBTREE, 1);
	add(b, "ads.example.com", 0, DOMTABLE_PASS, DOMTABLE_SUBTREE, 2);
	add(b, "ads.example.com", 1, DOMTABLE_BLOCK, DOMTABLE_SUBTREE, 3);
	add(b, "com", 63, DOMTABLE_BLOCK, DOMTABLE_SUBTREE, 4);
	add(b, "example.com", 5, DOMTABLE_BLOCK, DOMTABLE_EXACT, 5);
	t = build(b);
	assert_int_equal(match(t, "example.com"),
	    1ULL | 1ULL << 5 | 1ULL << 63);
	assert_int_equal(match(t, "www.example.com"), 1ULL | 1ULL << 63);
	assert_int_equal(match(t, "ads.example.com"), 2ULL | 1ULL << 63);
	assert_int_equal(match(t, "a.ads.example.com"), 2ULL | 1ULL << 63);
	assert_int_equal(match(t, "other.com"), 1ULL << 63);
	assert_int_equal(match(t, "other.net"), 0);
	domtable_free(t);
}

static void
test_many_lists(void **state)
{
	struct domtable_builder	*b;
	struct domtable		*t;
	struct domtable_hit	 hit;
	struct name		 n = wire("www.example.com");
	unsigned		 i;

	(void)state;
	assert_non_null(b = domtable_builder_new());
	for (i = 0; i < DOMTABLE_MAX_LISTS; i++)
		add(b, "example.com", i, DOMTABLE_BLOCK, DOMTABLE_SUBTREE,
		    100 + i);
	t = build(b);
	assert_int_equal(match(t, "www.example.com"), UINT64_MAX);
	assert_int_equal(domtable_entries(t), DOMTABLE_MAX_LISTS);
	for (i = 0; i < DOMTABLE_MAX_LISTS; i++) {
		assert_int_equal(domtable_explain(t, n.wire, n.len, i, &hit),
		    0);
		assert_int_equal(hit.tag, 100 + i);
		assert_int_equal(hit.suffix_off, 4);
	}
	assert_int_equal(domtable_explain(t, n.wire, n.len,
	    DOMTABLE_MAX_LISTS, &hit), -1);
	domtable_free(t);
}

static void
test_pass_beats_block(void **state)
{
	struct domtable_builder	*b;
	struct domtable		*t;
	struct domtable_hit	 hit;
	struct name		 n = wire("ads.example.com");

	(void)state;
	assert_non_null(b = domtable_builder_new());
	add(b, "example.com", 0, DOMTABLE_BLOCK, DOMTABLE_SUBTREE, 1);
	add(b, "example.com", 0, DOMTABLE_PASS, DOMTABLE_SUBTREE, 2);
	add(b, "example.com", 0, DOMTABLE_BLOCK, DOMTABLE_SUBTREE, 3);
	/* Different match types at one level: the PASS wins too. */
	add(b, "example.net", 1, DOMTABLE_BLOCK, DOMTABLE_SUBTREE, 4);
	add(b, "example.net", 1, DOMTABLE_PASS, DOMTABLE_EXACT, 5);
	add(b, "example.org", 1, DOMTABLE_PASS, DOMTABLE_SUBTREE, 6);
	add(b, "example.org", 1, DOMTABLE_BLOCK, DOMTABLE_SUBONLY, 7);
	t = build(b);
	assert_int_equal(match(t, "example.com"), 0);
	assert_int_equal(match(t, "ads.example.com"), 0);
	assert_int_equal(domtable_explain(t, n.wire, n.len, 0, &hit), 0);
	assert_int_equal(hit.kind, DOMTABLE_PASS);
	assert_int_equal(hit.tag, 2);
	assert_int_equal(match(t, "example.net"), 0);
	assert_int_equal(match(t, "a.example.net"), 2);
	assert_int_equal(match(t, "example.org"), 0);
	assert_int_equal(match(t, "a.example.org"), 0);
	/* One entry per (name, list, match). */
	assert_int_equal(domtable_entries(t), 5);
	domtable_free(t);
}

static void
test_duplicates(void **state)
{
	struct domtable_builder	*b;
	struct domtable		*t;
	struct domtable_hit	 hit;
	struct name		 n = wire("example.com");
	int			 i;

	(void)state;
	assert_non_null(b = domtable_builder_new());
	for (i = 0; i < 1000; i++)
		add(b, "example.com", 4, DOMTABLE_BLOCK, DOMTABLE_SUBTREE,
		    10 + i);
	add(b, "example.com", 5, DOMTABLE_BLOCK, DOMTABLE_SUBTREE, 99);
	add(b, "example.com", 4, DOMTABLE_BLOCK, DOMTABLE_EXACT, 98);
	t = build(b);
	assert_int_equal(domtable_entries(t), 3);
	assert_int_equal(match(t, "example.com"), 3ULL << 4);
	assert_int_equal(domtable_explain(t, n.wire, n.len, 5, &hit), 0);
	assert_int_equal(hit.tag, 99);
	/* At the name itself the narrower (EXACT) entry is reported. */
	assert_int_equal(domtable_explain(t, n.wire, n.len, 4, &hit), 0);
	assert_int_equal(hit.tag, 98);
	assert_int_equal(hit.match, DOMTABLE_EXACT);
	n = wire("www.example.com");
	assert_int_equal(domtable_explain(t, n.wire, n.len, 4, &hit), 0);
	assert_int_equal(hit.tag, 10);
	assert_int_equal(hit.match, DOMTABLE_SUBTREE);
	domtable_free(t);
}

static void
test_explain(void **state)
{
	struct domtable_builder	*b;
	struct domtable		*t;
	struct domtable_hit	 hit;
	struct name		 n;

	(void)state;
	assert_non_null(b = domtable_builder_new());
	add(b, "example.com", 2, DOMTABLE_BLOCK, DOMTABLE_SUBTREE, 11);
	add(b, "ads.example.com", 2, DOMTABLE_PASS, DOMTABLE_SUBTREE, 22);
	add(b, "example.com", 3, DOMTABLE_BLOCK, DOMTABLE_SUBONLY, 33);
	t = build(b);

	n = wire("x.ads.example.com");
	assert_int_equal(domtable_explain(t, n.wire, n.len, 2, &hit), 0);
	assert_int_equal(hit.suffix_off, 2);
	assert_int_equal(hit.kind, DOMTABLE_PASS);
	assert_int_equal(hit.match, DOMTABLE_SUBTREE);
	assert_int_equal(hit.tag, 22);
	assert_int_equal(domtable_explain(t, n.wire, n.len, 3, &hit), 0);
	assert_int_equal(hit.suffix_off, 6);
	assert_int_equal(hit.kind, DOMTABLE_BLOCK);
	assert_int_equal(hit.match, DOMTABLE_SUBONLY);
	assert_int_equal(hit.tag, 33);
	assert_int_equal(domtable_explain(t, n.wire, n.len, 1, &hit), -1);

	n = wire("example.com");
	assert_int_equal(domtable_explain(t, n.wire, n.len, 2, &hit), 0);
	assert_int_equal(hit.suffix_off, 0);
	assert_int_equal(hit.kind, DOMTABLE_BLOCK);
	assert_int_equal(hit.tag, 11);
	/* SUBONLY does not cover the name itself. */
	assert_int_equal(domtable_explain(t, n.wire, n.len, 3, &hit), -1);
	n = wire("example.net");
	assert_int_equal(domtable_explain(t, n.wire, n.len, 2, &hit), -1);
	domtable_free(t);
}

/* The entries of the table of test_like, first version. */
static struct domtable *
like_base(void)
{
	struct domtable_builder	*b;

	assert_non_null(b = domtable_builder_new());
	add(b, "example.com", 2, DOMTABLE_BLOCK, DOMTABLE_SUBTREE, 11);
	add(b, "ads.example.com", 2, DOMTABLE_PASS, DOMTABLE_SUBTREE, 22);
	add(b, "example.com", 3, DOMTABLE_BLOCK, DOMTABLE_SUBONLY, 33);
	add(b, "tracker.test", 0, DOMTABLE_BLOCK, DOMTABLE_EXACT, 44);
	return (build(b));
}

/* A builder like base with its names again, tags moved by shift. */
static struct domtable_builder *
like_again(struct domtable *base, uint32_t shift)
{
	struct domtable_builder	*b;

	assert_non_null(b = domtable_builder_like(base));
	assert_int_equal(domtable_builder_reserve(b, 8), 0);
	/* Another order, and a duplicate. */
	add(b, "tracker.test", 0, DOMTABLE_BLOCK, DOMTABLE_EXACT, 44 + shift);
	add(b, "example.com", 3, DOMTABLE_BLOCK, DOMTABLE_SUBONLY, 33 + shift);
	add(b, "ads.example.com", 2, DOMTABLE_PASS, DOMTABLE_SUBTREE,
	    22 + shift);
	add(b, "example.com", 2, DOMTABLE_BLOCK, DOMTABLE_SUBTREE, 11 + shift);
	add(b, "example.com", 2, DOMTABLE_BLOCK, DOMTABLE_SUBTREE, 99 + shift);
	return (b);
}

/*
 * The same names again: a table that shares the first's slots, with the
 * new tags, and outlives it. Any other name, a name fewer, or a name in
 * another list or of another kind: the build says the names differ.
 */
static void
test_like(void **state)
{
	struct domtable_builder	*b;
	struct domtable		*t1, *t2, *t3;
	struct domtable_hit	 hit;
	struct name		 n;
	int			 differ;

	(void)state;
	t1 = like_base();
	b = like_again(t1, 100);
	assert_int_equal(domtable_builder_diverged(b), 0);
	assert_non_null(t2 = domtable_build_like(b, &differ));
	assert_int_equal(differ, 0);
	assert_int_equal(domtable_entries(t2), domtable_entries(t1));
	/* A third one like the second: three tables on one set of slots. */
	b = like_again(t2, 200);
	assert_non_null(t3 = domtable_build_like(b, &differ));
	domtable_free(t1);
	domtable_free(t2);
	assert_int_equal(match(t3, "www.example.com"), 1U << 2 | 1U << 3);
	assert_int_equal(match(t3, "x.ads.example.com"), 1U << 3);
	assert_int_equal(match(t3, "example.com"), 1U << 2);
	assert_int_equal(match(t3, "tracker.test"), 1);
	assert_int_equal(match(t3, "www.tracker.test"), 0);
	assert_int_equal(match(t3, "example.net"), 0);
	n = wire("x.ads.example.com");
	assert_int_equal(domtable_explain(t3, n.wire, n.len, 2, &hit), 0);
	assert_int_equal(hit.kind, DOMTABLE_PASS);
	assert_int_equal(hit.tag, 222);
	assert_int_equal(domtable_explain(t3, n.wire, n.len, 3, &hit), 0);
	assert_int_equal(hit.tag, 233);
	n = wire("example.com");
	/* Of the duplicates the lowest tag. */
	assert_int_equal(domtable_explain(t3, n.wire, n.len, 2, &hit), 0);
	assert_int_equal(hit.tag, 211);

	/* A name t3 has not: that add and all after it fail. */
	assert_non_null(b = domtable_builder_like(t3));
	add(b, "example.com", 2, DOMTABLE_BLOCK, DOMTABLE_SUBTREE, 1);
	n = wire("new.test");
	assert_int_equal(domtable_add(b, n.wire, n.len, 0, DOMTABLE_BLOCK,
	    DOMTABLE_SUBTREE, 2), 0);	/* pending: found out later */
	assert_int_equal(domtable_builder_diverged(b), 1);
	n = wire("example.com");
	assert_int_equal(domtable_add(b, n.wire, n.len, 3, DOMTABLE_BLOCK,
	    DOMTABLE_SUBONLY, 3), -1);
	assert_null(domtable_build_like(b, &differ));
	assert_int_equal(differ, 1);

	/* A name fewer. */
	assert_non_null(b = domtable_builder_like(t3));
	add(b, "example.com", 2, DOMTABLE_BLOCK, DOMTABLE_SUBTREE, 1);
	add(b, "ads.example.com", 2, DOMTABLE_PASS, DOMTABLE_SUBTREE, 2);
	add(b, "example.com", 3, DOMTABLE_BLOCK, DOMTABLE_SUBONLY, 3);
	assert_int_equal(domtable_builder_diverged(b), 0);
	assert_null(domtable_build_like(b, &differ));
	assert_int_equal(differ, 1);

	/* The same names, one of them in another list, or of another kind. */
	assert_non_null(b = domtable_builder_like(t3));
	add(b, "example.com", 2, DOMTABLE_BLOCK, DOMTABLE_SUBTREE, 1);
	add(b, "ads.example.com", 2, DOMTABLE_PASS, DOMTABLE_SUBTREE, 2);
	add(b, "example.com", 3, DOMTABLE_BLOCK, DOMTABLE_SUBONLY, 3);
	add(b, "tracker.test", 1, DOMTABLE_BLOCK, DOMTABLE_EXACT, 4);
	assert_null(domtable_build_like(b, &differ));
	assert_int_equal(differ, 1);
	assert_non_null(b = domtable_builder_like(t3));
	add(b, "example.com", 2, DOMTABLE_BLOCK, DOMTABLE_SUBTREE, 1);
	add(b, "ads.example.com", 2, DOMTABLE_BLOCK, DOMTABLE_SUBTREE, 2);
	add(b, "example.com", 3, DOMTABLE_BLOCK, DOMTABLE_SUBONLY, 3);
	add(b, "tracker.test", 0, DOMTABLE_BLOCK, DOMTABLE_EXACT, 4);
	assert_null(domtable_build_like(b, &differ));
	assert_int_equal(differ, 1);
	/* A builder of domtable_builder_new() builds as domtable_build(). */
	assert_non_null(b = domtable_builder_new());
	add(b, "example.org", 5, DOMTABLE_BLOCK, DOMTABLE_SUBTREE, 1);
	assert_non_null(t1 = domtable_build_like(b, &differ));
	assert_int_equal(differ, 0);
	assert_int_equal(match(t1, "www.example.org"), 1U << 5);
	domtable_free(t1);
	/* t3 is still whole after the builders like it failed. */
	assert_int_equal(match(t3, "www.example.com"), 1U << 2 | 1U << 3);
	domtable_free(t3);
}

/* Many names like a table, against the table they share slots with. */
static void
test_like_large(void **state)
{
	struct domtable_builder	*b;
	struct domtable		*t1, *t2;
	struct domtable_hit	 hit;
	struct name		 n;
	char			 text[64];
	unsigned		 i;
	int			 differ;

	(void)state;
	assert_non_null(b = domtable_builder_new());
	for (i = 0; i < 20000; i++) {
		snprintf(text, sizeof text, "n%u.l%u.test", i, i % 7);
		add(b, text, i % 3, i % 11 == 0 ? DOMTABLE_PASS :
		    DOMTABLE_BLOCK, DOMTABLE_SUBTREE, i);
	}
	t1 = build(b);
	assert_non_null(b = domtable_builder_like(t1));
	for (i = 20000; i-- > 0;) {
		snprintf(text, sizeof text, "n%u.l%u.test", i, i % 7);
		add(b, text, i % 3, i % 11 == 0 ? DOMTABLE_PASS :
		    DOMTABLE_BLOCK, DOMTABLE_SUBTREE, i + 1);
	}
	assert_non_null(t2 = domtable_build_like(b, &differ));
	assert_int_equal(domtable_entries(t2), 20000);
	for (i = 0; i < 20000; i += 7) {
		snprintf(text, sizeof text, "x.n%u.l%u.test", i, i % 7);
		assert_int_equal(match(t2, text), match(t1, text));
		n = wire(text);
		assert_int_equal(domtable_explain(t2, n.wire, n.len, i % 3,
		    &hit), 0);
		assert_int_equal(hit.tag, i + 1);
	}
	domtable_free(t2);
	domtable_free(t1);
}

/* Whether a name is a name of t's slots: domtable_slotted(). */
static int
slotted(const struct domtable *t, const char *text)
{
	struct name	n = wire(text);

	return (domtable_slotted(t, n.wire, n.len));
}

/*
 * domtable_slotted() says whether a name is one the slots were compiled
 * from, whatever an overlay says of it: a name gone still is, a name
 * added is not. domtable_like_worth() says no only when a sample's
 * names added and gone are clearly more than an eighth of the slots'
 * names, and never for a small table.
 */
static void
test_like_worth(void **state)
{
	struct domtable_builder	*b;
	struct domtable		*t1, *t2, *small;
	struct name		 bad;
	char			 text[64];
	unsigned		 i;
	int			 differ;

	(void)state;
	assert_non_null(b = domtable_builder_new());
	for (i = 0; i < 16000; i++) {
		snprintf(text, sizeof text, "n%u.test", i);
		add(b, text, 0, DOMTABLE_BLOCK, DOMTABLE_SUBTREE, i);
	}
	t1 = build(b);
	/* n0..n99 gone, a0..a99 added. */
	assert_non_null(b = domtable_builder_like(t1));
	for (i = 0; i < 16000; i++) {
		snprintf(text, sizeof text, "%c%u.test", i < 100 ? 'a' : 'n',
		    i);
		add(b, text, 0, DOMTABLE_BLOCK, DOMTABLE_SUBTREE, i);
	}
	assert_non_null(t2 = domtable_build_like(b, &differ));
	assert_int_equal(match(t2, "n5.test"), 0);
	assert_int_equal(match(t2, "a5.test"), 1);
	assert_int_equal(slotted(t2, "n5.test"), 1);
	assert_int_equal(slotted(t2, "n500.test"), 1);
	assert_int_equal(slotted(t2, "a5.test"), 0);
	assert_int_equal(slotted(t2, "www.n500.test"), 0);
	assert_int_equal(slotted(t2, "test"), 0);
	assert_int_equal(slotted(t1, "a5.test"), 0);
	bad = wire("n5.test");
	assert_int_equal(domtable_slotted(t1, bad.wire, bad.len - 1), 0);
	assert_int_equal(domtable_slotted(NULL, bad.wire, bad.len), 0);

	/* 16,000 names, an eighth 2000; samples of one in 16. */
	assert_int_equal(domtable_like_worth(t1, 0, 1000, 16), 1);
	assert_int_equal(domtable_like_worth(t1, 60, 940, 16), 1);
	assert_int_equal(domtable_like_worth(t1, 125, 1000, 16), 1);
	/*
	 * 3200 added or gone: more, but a sample of 1000 names varies by
	 * some 500 (times 16); 4800: clearly more.
	 */
	assert_int_equal(domtable_like_worth(t1, 200, 1000, 16), 1);
	assert_int_equal(domtable_like_worth(t1, 0, 800, 16), 1);
	assert_int_equal(domtable_like_worth(t1, 300, 1000, 16), 0);
	assert_int_equal(domtable_like_worth(t1, 0, 700, 16), 0);
	assert_int_equal(domtable_like_worth(t1, 250, 750, 16), 0);
	/* The names gone not known: only those added count. */
	assert_int_equal(domtable_like_worth(t1, 0, SIZE_MAX, 16), 1);
	assert_int_equal(domtable_like_worth(t1, 100, SIZE_MAX, 16), 1);
	assert_int_equal(domtable_like_worth(t1, 250, SIZE_MAX, 16), 0);
	/* Past the eighth, but not past what a sample varies by. */
	assert_int_equal(domtable_like_worth(t1, 3, SIZE_MAX, 1000), 1);
	assert_int_equal(domtable_like_worth(NULL, 0, 0, 16), 0);
	assert_int_equal(domtable_like_worth(t1, 0, 1000, 0), 0);

	/* A small table: always worth the try. */
	assert_non_null(b = domtable_builder_new());
	add(b, "a.test", 0, DOMTABLE_BLOCK, DOMTABLE_SUBTREE, 1);
	small = build(b);
	assert_int_equal(domtable_like_worth(small, 1000, 0, 16), 1);
	assert_int_equal(slotted(small, "a.test"), 1);
	assert_int_equal(slotted(small, "b.test"), 0);
	domtable_free(small);
	domtable_free(t2);
	domtable_free(t1);
}

/* Where the lowest wanted bit was decided, in one walk. */
static void
test_match_at(void **state)
{
	struct domtable_builder	*b;
	struct domtable		*t;
	struct name		 n = wire("a.www.example.com");
	size_t			 off;

	(void)state;
	assert_non_null(b = domtable_builder_new());
	add(b, "example.com", 0, DOMTABLE_BLOCK, DOMTABLE_SUBTREE, 1);
	add(b, "www.example.com", 1, DOMTABLE_BLOCK, DOMTABLE_SUBTREE, 2);
	add(b, "a.www.example.com", 2, DOMTABLE_PASS, DOMTABLE_EXACT, 3);
	add(b, "com", 2, DOMTABLE_BLOCK, DOMTABLE_SUBTREE, 4);
	t = build(b);
	off = 99;
	assert_int_equal(domtable_match_at(t, n.wire, n.len, 3, &off), 3);
	assert_int_equal(off, 6);
	assert_int_equal(domtable_match_at(t, n.wire, n.len, 2, &off), 3);
	assert_int_equal(off, 2);
	/* List 2 passes the name itself: its block of com is not reached. */
	off = 99;
	assert_int_equal(domtable_match_at(t, n.wire, n.len, 4, &off), 3);
	assert_int_equal(off, 99);
	assert_int_equal(domtable_match_at(t, n.wire, n.len, 0, &off), 3);
	assert_int_equal(off, 99);
	n = wire("b.www.example.com");
	assert_int_equal(domtable_match_at(t, n.wire, n.len, 4, &off), 7);
	assert_int_equal(off, 14);
	assert_int_equal(domtable_match(t, n.wire, n.len), 7);
	domtable_free(t);
}

/*
 * One key looked up in several tables (as policy_question() does): each
 * answers as it does for the name alone, whatever was asked before; an
 * empty table does not hash, and a bad name fails in every table.
 */
static void
test_keys(void **state)
{
	struct domtable_builder	*b;
	struct domtable		*t1, *t2, *t3, *empty;
	struct domtable_key	 k;
	struct domtable_hit	 hit;
	struct name		 n = wire("a.www.example.com");
	size_t			 off = 99;
	const uint8_t		 bad[] = { 3, 'w', 'w', 0 };

	(void)state;
	assert_non_null(b = domtable_builder_new());
	add(b, "example.com", 0, DOMTABLE_BLOCK, DOMTABLE_SUBTREE, 1);
	t1 = build(b);
	assert_non_null(b = domtable_builder_new());
	/* Names of other depths and lengths only: nothing probed. */
	add(b, "x.y.z.w.v.u", 1, DOMTABLE_BLOCK, DOMTABLE_SUBTREE, 2);
	add(b, "org", 1, DOMTABLE_BLOCK, DOMTABLE_SUBTREE, 3);
	t2 = build(b);
	assert_non_null(b = domtable_builder_new());
	add(b, "www.example.com", 5, DOMTABLE_BLOCK, DOMTABLE_SUBTREE, 4);
	add(b, "a.www.example.com", 5, DOMTABLE_PASS, DOMTABLE_EXACT, 5);
	add(b, "com", 6, DOMTABLE_BLOCK, DOMTABLE_SUBONLY, 6);
	/* Same length as a.www.example.com (mod 64) and depth, not it. */
	add(b, "b.www.example.org", 7, DOMTABLE_BLOCK, DOMTABLE_EXACT, 7);
	t3 = build(b);
	empty = build(domtable_builder_new());

	domtable_key_init(&k, n.wire, n.len);
	assert_int_equal(domtable_match_key(empty, &k, 1, &off), 0);
	assert_int_equal(domtable_match_key(NULL, &k, 1, &off), 0);
	assert_int_equal(k.n, 0);	/* not hashed yet */
	assert_int_equal(domtable_match_key(t2, &k, 2, &off), 0);
	assert_int_equal(off, 99);
	assert_int_equal(domtable_match_key(t3, &k, 1ULL << 6, &off),
	    1ULL << 6);
	assert_int_equal(off, 14);
	assert_int_equal(domtable_match_key(t1, &k, 1, &off), 1);
	assert_int_equal(off, 6);
	assert_int_equal(domtable_explain_key(t3, &k, 5, &hit), 0);
	assert_int_equal(hit.kind, DOMTABLE_PASS);
	assert_int_equal(hit.tag, 5);
	assert_int_equal(hit.suffix_off, 0);
	assert_int_equal(domtable_explain_key(t3, &k, 7, &hit), -1);
	assert_int_equal(domtable_explain_key(t1, &k, 0, &hit), 0);
	assert_int_equal(hit.tag, 1);
	assert_int_equal(hit.suffix_off, 6);
	/* The same answers without a key. */
	assert_int_equal(domtable_match(t3, n.wire, n.len), 1ULL << 6);
	assert_int_equal(domtable_match(t1, n.wire, n.len), 1);
	assert_int_equal(domtable_match(t2, n.wire, n.len), 0);

	domtable_key_init(&k, bad, sizeof bad);
	assert_int_equal(domtable_match_key(t1, &k, 1, &off), 0);
	assert_int_equal(domtable_match_key(t3, &k, 1, &off), 0);
	assert_int_equal(domtable_explain_key(t1, &k, 0, &hit), -1);
	domtable_free(t1);
	domtable_free(t2);
	domtable_free(t3);
	domtable_free(empty);
}

static void
test_root(void **state)
{
	struct domtable_builder	*b;
	struct domtable		*t;
	struct domtable_hit	 hit;
	struct name		 n = wire("a.b.example");

	(void)state;
	assert_non_null(b = domtable_builder_new());
	add(b, ".", 0, DOMTABLE_BLOCK, DOMTABLE_SUBTREE, 1);
	add(b, ".", 1, DOMTABLE_BLOCK, DOMTABLE_EXACT, 2);
	add(b, ".", 2, DOMTABLE_BLOCK, DOMTABLE_SUBONLY, 3);
	add(b, "example", 0, DOMTABLE_PASS, DOMTABLE_SUBTREE, 4);
	t = build(b);
	assert_int_equal(match(t, "."), 3);
	assert_int_equal(match(t, "com"), 5);
	assert_int_equal(match(t, "a.b.example"), 4);
	assert_int_equal(match(t, "example"), 4);
	assert_int_equal(domtable_explain(t, n.wire, n.len, 2, &hit), 0);
	assert_int_equal(hit.suffix_off, n.len - 1);
	assert_int_equal(hit.tag, 3);
	assert_int_equal(domtable_explain(t, n.wire, n.len, 0, &hit), 0);
	assert_int_equal(hit.suffix_off, 4);
	assert_int_equal(hit.kind, DOMTABLE_PASS);
	domtable_free(t);
}

static void
test_long_names(void **state)
{
	struct domtable_builder	*b;
	struct domtable		*t;
	struct domtable_hit	 hit;
	struct name		 n;
	size_t			 i;

	(void)state;
	/* 127 labels "a": 254 octets and the root, 255 in all. */
	memset(&n, 0, sizeof n);
	for (i = 0; i < 127; i++) {
		n.wire[2 * i] = 1;
		n.wire[2 * i + 1] = 'a';
	}
	n.len = 255;
	assert_non_null(b = domtable_builder_new());
	assert_int_equal(domtable_add(b, n.wire, n.len, 0, DOMTABLE_BLOCK,
	    DOMTABLE_EXACT, 1), 0);
	/* The 100-label suffix, in list 1. */
	assert_int_equal(domtable_add(b, n.wire + 54, n.len - 54, 1,
	    DOMTABLE_BLOCK, DOMTABLE_SUBTREE, 2), 0);
	add(b, "a", 2, DOMTABLE_BLOCK, DOMTABLE_SUBONLY, 3);
	t = build(b);
	assert_int_equal(domtable_match(t, n.wire, n.len), 7);
	assert_int_equal(domtable_match(t, n.wire + 52, n.len - 52), 6);
	assert_int_equal(domtable_match(t, n.wire + 56, n.len - 56), 4);
	assert_int_equal(domtable_explain(t, n.wire, n.len, 1, &hit), 0);
	assert_int_equal(hit.suffix_off, 54);
	assert_int_equal(domtable_explain(t, n.wire, n.len, 2, &hit), 0);
	assert_int_equal(hit.suffix_off, 252);
	domtable_free(t);
}

/*
 * Enough names that the table has more than 65536 slots (the tag sort
 * then takes two passes); every name must still explain its own tag.
 */
static void
test_large(void **state)
{
	struct domtable_builder	*b;
	struct domtable		*t;
	struct domtable_hit	 hit;
	struct name		 n;
	char			 text[64];
	size_t			 i, names = 0, count = 100000;

	(void)state;
	assert_non_null(b = domtable_builder_new());
	for (i = 0; i < count; i++) {
		snprintf(text, sizeof text, "n%zu.example", i);
		n = wire(text);
		names += n.len;
		assert_int_equal(domtable_add(b, n.wire, n.len, i % 64,
		    DOMTABLE_BLOCK, DOMTABLE_SUBTREE, (uint32_t)i), 0);
	}
	t = build(b);
	assert_int_equal(domtable_entries(t), count);
	/* About 24 octets an entry, the names included (domtable.h). */
	assert_true(domtable_bytes(t) < count * 26);
	assert_true(domtable_bytes(t) < names + count * 12);
	for (i = 0; i < count; i += 7) {
		snprintf(text, sizeof text, "www.n%zu.example", i);
		n = wire(text);
		assert_int_equal(domtable_match(t, n.wire, n.len),
		    1ULL << (i % 64));
		assert_int_equal(domtable_explain(t, n.wire, n.len, i % 64,
		    &hit), 0);
		assert_int_equal(hit.tag, i);
		assert_int_equal(hit.suffix_off, 4);
		assert_int_equal(domtable_explain(t, n.wire, n.len,
		    (i + 1) % 64, &hit), -1);
	}
	assert_int_equal(match(t, "example"), 0);
	assert_int_equal(match(t, "n100000.example"), 0);
	domtable_free(t);
}

/*
 * Reserving: slots for more names than come are given back at build; a
 * reserve after some adds keeps them; a tag too wide is refused.
 */
static void
test_reserve(void **state)
{
	struct domtable_builder	*b;
	struct domtable		*t;
	struct domtable_hit	 hit;
	struct name		 n;
	char			 text[64];
	size_t			 i;

	(void)state;
	assert_non_null(b = domtable_builder_new());
	assert_int_equal(domtable_builder_reserve(b, 100000), 0);
	add(b, "a.example", 0, DOMTABLE_BLOCK, DOMTABLE_SUBTREE, 1);
	add(b, "b.example", 1, DOMTABLE_BLOCK, DOMTABLE_SUBTREE, 2);
	t = build(b);
	assert_true(domtable_bytes(t) < 1024);
	assert_int_equal(match(t, "x.a.example"), 1);
	assert_int_equal(match(t, "b.example"), 2);
	domtable_free(t);

	assert_non_null(b = domtable_builder_new());
	for (i = 0; i < 3000; i++) {
		snprintf(text, sizeof text, "n%zu.example", i);
		add(b, text, 2, DOMTABLE_BLOCK, DOMTABLE_SUBTREE, (uint32_t)i);
		if (i == 1000)
			assert_int_equal(domtable_builder_reserve(b, 2000), 0);
	}
	n = wire("n17.example");
	assert_int_equal(domtable_add(b, n.wire, n.len, 3, DOMTABLE_BLOCK,
	    DOMTABLE_SUBTREE, DOMTABLE_MAX_TAG + 1), -1);
	assert_int_equal(domtable_add(b, n.wire, n.len, 3, DOMTABLE_BLOCK,
	    DOMTABLE_SUBTREE, DOMTABLE_MAX_TAG), 0);
	t = build(b);
	assert_int_equal(domtable_entries(t), 3001);
	for (i = 0; i < 3000; i++) {
		snprintf(text, sizeof text, "www.n%zu.example", i);
		n = wire(text);
		assert_int_equal(domtable_match(t, n.wire, n.len),
		    i == 17 ? 12 : 4);
		assert_int_equal(domtable_explain(t, n.wire, n.len, 2, &hit),
		    0);
		assert_int_equal(hit.tag, i);
	}
	n = wire("n17.example");
	assert_int_equal(domtable_explain(t, n.wire, n.len, 3, &hit), 0);
	assert_int_equal(hit.tag, DOMTABLE_MAX_TAG);
	domtable_free(t);
}

/*
 * The brute-force reference: every added entry kept as added, read
 * with the rules of domtable.h for each query.
 */
struct ref_entry {
	struct name		name;
	unsigned		list;
	enum domtable_kind	kind;
	enum domtable_match	match;
	uint32_t		tag;
};

#define REF_LISTS	6
#define REF_ENTRIES	2500
#define REF_QUERIES	20000

static const char *ref_labels[] = {
	"a", "b", "ads", "www", "x1", "example", "com", "net", "nl",
	"tracker-cdn", "0",
};

static uint64_t	ref_state = 0x2545f4914f6cdd1dULL;

/* A small fixed-seed generator (xorshift64*), so failures repeat. */
static uint32_t
ref_rand(uint32_t n)
{
	ref_state ^= ref_state >> 12;
	ref_state ^= ref_state << 25;
	ref_state ^= ref_state >> 27;
	return ((uint32_t)((ref_state * 0x2545f4914f6cdd1dULL) >> 33) % n);
}

static struct name
ref_name(unsigned maxlabels)
{
	struct name	n;
	const char	*l;
	unsigned	 i, k;
	size_t		 len;

	memset(&n, 0, sizeof n);
	k = ref_rand(maxlabels + 1);
	for (i = 0; i < k; i++) {
		l = ref_labels[ref_rand(sizeof ref_labels /
		    sizeof ref_labels[0])];
		len = strlen(l);
		n.wire[n.len++] = (uint8_t)len;
		memcpy(n.wire + n.len, l, len);
		n.len += len;
	}
	n.wire[n.len++] = 0;
	return (n);
}

#define REF_MAX_SUFFIXES	8

/* The list number of reference list index i: 0..REF_LISTS-2, then 63. */
static unsigned
ref_list(unsigned i)
{
	return (i == REF_LISTS - 1 ? 63 : i);
}

/*
 * The deduplicated entries of q's suffixes, found in one scan: for each
 * suffix, list index and match, the first PASS if there is one, else the
 * first BLOCK. offs gets the suffix offsets; returns their count.
 */
static size_t
ref_scan(const struct ref_entry *e, size_t ne, const struct name *q,
    size_t *offs, const struct ref_entry *(*found)[REF_LISTS][3])
{
	const struct ref_entry	**f;
	size_t			 n = 0, i, k, off = 0;
	unsigned		 li;

	for (;;) {
		assert_true(n < REF_MAX_SUFFIXES);
		offs[n++] = off;
		if (q->wire[off] == 0)
			break;
		off += (size_t)q->wire[off] + 1;
	}
	memset(found, 0, n * sizeof *found);
	for (i = 0; i < ne; i++) {
		for (k = 0; k < n; k++)
			if (q->len - offs[k] == e[i].name.len)
				break;
		if (k == n || memcmp(e[i].name.wire, q->wire + offs[k],
		    e[i].name.len) != 0)
			continue;
		li = e[i].list == 63 ? REF_LISTS - 1 : e[i].list;
		f = &found[k][li][e[i].match];
		if (*f == NULL || ((*f)->kind == DOMTABLE_BLOCK &&
		    e[i].kind == DOMTABLE_PASS))
			*f = &e[i];
	}
	return (n);
}

/* The reference's deciding entry of list index li; -1 if none. */
static int
ref_explain(const struct ref_entry *(*found)[REF_LISTS][3],
    const size_t *offs, size_t n, unsigned li, struct domtable_hit *hit)
{
	const struct ref_entry	*st, *ot, *pick;
	size_t			 k;

	for (k = 0; k < n; k++) {
		st = found[k][li][DOMTABLE_SUBTREE];
		ot = found[k][li][k == 0 ? DOMTABLE_EXACT : DOMTABLE_SUBONLY];
		if (st == NULL && ot == NULL)
			continue;
		pick = ot;
		if (ot == NULL || (st != NULL && st->kind == DOMTABLE_PASS &&
		    ot->kind == DOMTABLE_BLOCK))
			pick = st;
		hit->suffix_off = offs[k];
		hit->kind = pick->kind;
		hit->match = pick->match;
		hit->tag = pick->tag;
		return (0);
	}
	return (-1);
}

static void
test_random_reference(void **state)
{
	struct domtable_builder	*b;
	struct domtable		*t;
	struct ref_entry	*e;
	struct domtable_hit	 h1, h2;
	struct domtable_key	 k;
	struct name		 q;
	const struct ref_entry	*found[REF_MAX_SUFFIXES][REF_LISTS][3];
	uint64_t		 want;
	size_t			 offs[REF_MAX_SUFFIXES];
	size_t			 i, j, n, distinct = 0, hits = 0;
	unsigned		 li;
	int			 r1, r2;

	(void)state;
	e = calloc(REF_ENTRIES, sizeof *e);
	assert_non_null(e);
	assert_non_null(b = domtable_builder_new());
	for (i = 0; i < REF_ENTRIES; i++) {
		e[i].name = ref_name(3);
		e[i].list = ref_list(ref_rand(REF_LISTS));
		e[i].kind = ref_rand(4) == 0 ? DOMTABLE_PASS : DOMTABLE_BLOCK;
		e[i].match = (enum domtable_match)ref_rand(3);
		e[i].tag = (uint32_t)i;
		assert_int_equal(domtable_add(b, e[i].name.wire, e[i].name.len,
		    e[i].list, e[i].kind, e[i].match, e[i].tag), 0);
	}
	t = build(b);

	/* Entries are distinct (name, list, match). */
	for (i = 0; i < REF_ENTRIES; i++) {
		for (j = 0; j < i; j++) {
			if (e[j].list == e[i].list &&
			    e[j].match == e[i].match &&
			    e[j].name.len == e[i].name.len &&
			    memcmp(e[j].name.wire, e[i].name.wire,
			    e[i].name.len) == 0)
				break;
		}
		if (j == i)
			distinct++;
	}
	assert_int_equal(domtable_entries(t), distinct);
	assert_true(domtable_bytes(t) > distinct * 12);

	for (i = 0; i < REF_QUERIES; i++) {
		q = ref_name(6);
		n = ref_scan(e, REF_ENTRIES, &q, offs, found);
		/* One key for all the lookups of the query. */
		domtable_key_init(&k, q.wire, q.len);
		want = 0;
		for (li = 0; li < REF_LISTS; li++) {
			r1 = ref_explain(found, offs, n, li, &h1);
			if (r1 == 0 && h1.kind == DOMTABLE_BLOCK)
				want |= 1ULL << ref_list(li);
			r2 = domtable_explain(t, q.wire, q.len, ref_list(li),
			    &h2);
			assert_int_equal(r1, r2);
			if (r1 != 0)
				continue;
			assert_int_equal(h1.suffix_off, h2.suffix_off);
			assert_int_equal(h1.kind, h2.kind);
			assert_int_equal(h1.match, h2.match);
			assert_int_equal(h1.tag, h2.tag);
			assert_int_equal(domtable_explain_key(t, &k,
			    ref_list(li), &h2), 0);
			assert_int_equal(h1.suffix_off, h2.suffix_off);
			assert_int_equal(h1.tag, h2.tag);
		}
		if (want != 0)
			hits++;
		assert_int_equal(domtable_match(t, q.wire, q.len), want);
		assert_int_equal(domtable_match_key(t, &k, 0, &j), want);
	}
	/* The alphabet is small enough that many queries match. */
	assert_true(hits > REF_QUERIES / 10);
	domtable_free(t);
	free(e);
}

/*
 * Overlays (domtable_build_like() of names that differ a little) against
 * a table compiled anew from the same entries. The entries: filler names
 * enough for a table that may have an overlay (one with 4096 slots or
 * more), and entries of random names over the small alphabet of the
 * reference, so that a name, its parents and its subdomains are in the
 * lists often. Each generation drops some entries, changes the list,
 * kind or match of others (a name's verdict set changes), adds new ones
 * (names the slots have or lack, names dropped before) and moves every
 * tag; it is read in another order into a builder like the table before,
 * whose overlay must answer every lookup as the fresh table does. The
 * tables of two generations before are freed first, the first last, so
 * that the slots outlive the table that made them.
 */
#define OVER_FILLER	6000
#define OVER_RANDOM	1500
#define OVER_GENS	6
#define OVER_QUERIES	6000

/* An entry of the overlay test: a reference entry that may be gone. */
struct over_entry {
	struct ref_entry	e;
	int			alive;
};

/* Fresh, or like like (NULL: fresh), from the live entries in order. */
static struct domtable *
over_build(const struct over_entry *e, size_t ne, const size_t *order,
    struct domtable *like, int *differ)
{
	struct domtable_builder	*b;
	const struct ref_entry	*r;
	size_t			 i;

	*differ = 0;
	assert_non_null(b = like != NULL ? domtable_builder_like(like) :
	    domtable_builder_new());
	assert_int_equal(domtable_builder_reserve(b, ne), 0);
	for (i = 0; i < ne; i++) {
		if (!e[order[i]].alive)
			continue;
		r = &e[order[i]].e;
		if (domtable_add(b, r->name.wire, r->name.len, r->list,
		    r->kind, r->match, r->tag) == -1) {
			/* Only a builder like another gives up. */
			assert_non_null(like);
			assert_int_equal(domtable_builder_diverged(b), 1);
			break;
		}
	}
	if (like == NULL)
		return (build(b));
	return (domtable_build_like(b, differ));
}

/* Every lookup of q in t as in f. */
static void
over_same(const struct domtable *t, const struct domtable *f,
    const struct name *q)
{
	struct domtable_key	k1, k2;
	struct domtable_hit	h1, h2;
	uint64_t		want;
	size_t			o1 = 999, o2 = 999;
	unsigned		li;
	int			r1, r2;

	domtable_key_init(&k1, q->wire, q->len);
	domtable_key_init(&k2, q->wire, q->len);
	domtable_prefetch(t, &k1);
	want = domtable_match(f, q->wire, q->len);
	assert_int_equal(domtable_match(t, q->wire, q->len), want);
	/* Where the lowest bit blocked was decided, and each bit. */
	assert_int_equal(domtable_match_key(t, &k1, want, &o1), want);
	assert_int_equal(domtable_match_key(f, &k2, want, &o2), want);
	assert_int_equal(o1, o2);
	for (li = 0; li < REF_LISTS; li++) {
		r1 = domtable_explain_key(t, &k1, ref_list(li), &h1);
		r2 = domtable_explain_key(f, &k2, ref_list(li), &h2);
		assert_int_equal(r1, r2);
		if (r1 != 0)
			continue;
		assert_int_equal(h1.suffix_off, h2.suffix_off);
		assert_int_equal(h1.kind, h2.kind);
		assert_int_equal(h1.match, h2.match);
		assert_int_equal(h1.tag, h2.tag);
	}
}

/* A new random entry: over the alphabet, or a new filler name. */
static void
over_new(struct over_entry *o, size_t serial)
{
	char	text[64];

	memset(o, 0, sizeof *o);
	if (ref_rand(4) == 0) {
		snprintf(text, sizeof text, "new%zu.f%u.filler", serial,
		    ref_rand(50));
		o->e.name = wire(text);
	} else
		o->e.name = ref_name(3);
	o->e.list = ref_list(ref_rand(REF_LISTS));
	o->e.kind = ref_rand(4) == 0 ? DOMTABLE_PASS : DOMTABLE_BLOCK;
	o->e.match = (enum domtable_match)ref_rand(3);
	o->alive = 1;
}

static void
test_overlay_reference(void **state)
{
	struct over_entry	*e;
	struct domtable		*t[OVER_GENS + 1], *f;
	struct name		 q;
	char			 text[64];
	size_t			*order, ne = 0, cap, i, j, x, g, live;
	size_t			 changed;
	int			 differ, overlays = 0;

	(void)state;
	cap = OVER_FILLER + OVER_RANDOM + OVER_GENS * 400;
	assert_non_null(e = calloc(cap, sizeof *e));
	assert_non_null(order = calloc(cap, sizeof *order));
	for (i = 0; i < OVER_FILLER; i++, ne++) {
		snprintf(text, sizeof text, "n%zu.f%zu.filler", i, i % 50);
		e[ne].e.name = wire(text);
		e[ne].e.list = ref_list((unsigned)i % REF_LISTS);
		e[ne].e.kind = i % 13 == 0 ? DOMTABLE_PASS : DOMTABLE_BLOCK;
		e[ne].e.match = (enum domtable_match)(i % 3);
		e[ne].alive = 1;
	}
	for (i = 0; i < OVER_RANDOM; i++, ne++)
		over_new(&e[ne], ne);
	for (i = 0; i < ne; i++) {
		order[i] = i;
		e[i].e.tag = (uint32_t)i;
	}
	t[0] = over_build(e, ne, order, NULL, &differ);

	for (g = 1; g <= OVER_GENS; g++) {
		/*
		 * About 1 % of the entries gone, 0.5 % changed, 1 % new; the
		 * last generation changes a third: too much for an overlay.
		 */
		changed = g == OVER_GENS ? ne / 3 : ne / 100;
		for (i = 0; i < changed; i++) {
			x = ref_rand((uint32_t)ne);
			e[x].alive = !e[x].alive && ref_rand(2) == 0;
		}
		for (i = 0; i < changed / 2; i++) {
			x = ref_rand((uint32_t)ne);
			switch (ref_rand(3)) {
			case 0:
				e[x].e.list = ref_list(ref_rand(REF_LISTS));
				break;
			case 1:
				e[x].e.kind = e[x].e.kind == DOMTABLE_PASS ?
				    DOMTABLE_BLOCK : DOMTABLE_PASS;
				break;
			default:
				e[x].e.match = (enum domtable_match)
				    ((e[x].e.match + 1) % 3);
			}
		}
		for (i = 0; i < changed && ne < cap; i++, ne++) {
			over_new(&e[ne], ne);
			order[ne] = ne;
		}
		/* New tags, and another order (a shuffle). */
		for (i = 0, live = 0; i < ne; i++) {
			e[i].e.tag = (uint32_t)(g * cap + i);
			live += e[i].alive;
		}
		for (i = ne; i > 1; i--) {
			j = ref_rand((uint32_t)i);
			x = order[i - 1];
			order[i - 1] = order[j];
			order[j] = x;
		}
		f = over_build(e, ne, order, NULL, &differ);
		t[g] = over_build(e, ne, order, t[g - 1], &differ);
		if (g == OVER_GENS) {
			/* More than an eighth differs from the slots. */
			assert_null(t[g]);
			assert_int_equal(differ, 1);
			t[g] = f;
			f = NULL;
		} else if (t[g] == NULL) {
			/*
			 * The changes of the generations so far, all against
			 * the first table's slots, came to more than an
			 * eighth: compiled anew, as listset.c does.
			 */
			assert_int_equal(differ, 1);
			assert_true(g > 2);
			t[g] = over_build(e, ne, order, NULL, &differ);
		} else {
			assert_int_equal(differ, 0);
			overlays++;
			assert_int_equal(domtable_entries(t[g]),
			    domtable_entries(f));
		}
		if (g >= 3 && g < OVER_GENS)
			domtable_free(t[g - 2]);
		for (i = 0; i < OVER_QUERIES; i++) {
			q = ref_name(6);
			over_same(t[g], f != NULL ? f : t[g], &q);
		}
		/* Every entry's own name, and a subdomain of it. */
		for (i = 0; f != NULL && i < ne; i += 3) {
			over_same(t[g], f, &e[i].e.name);
			q = wire("x");
			q.len = 2;
			memcpy(q.wire + q.len, e[i].e.name.wire,
			    e[i].e.name.len);
			q.len += e[i].e.name.len;
			over_same(t[g], f, &q);
		}
		domtable_free(f);
	}
	assert_true(overlays >= 3);
	domtable_free(t[OVER_GENS - 2]);
	domtable_free(t[OVER_GENS - 1]);
	domtable_free(t[OVER_GENS]);
	domtable_free(t[0]);
	free(order);
	free(e);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_empty),
		cmocka_unit_test(test_bad_input),
		cmocka_unit_test(test_subtree),
		cmocka_unit_test(test_exact),
		cmocka_unit_test(test_subonly),
		cmocka_unit_test(test_most_specific),
		cmocka_unit_test(test_lists_independent),
		cmocka_unit_test(test_many_lists),
		cmocka_unit_test(test_pass_beats_block),
		cmocka_unit_test(test_duplicates),
		cmocka_unit_test(test_explain),
		cmocka_unit_test(test_like),
		cmocka_unit_test(test_like_large),
		cmocka_unit_test(test_like_worth),
		cmocka_unit_test(test_match_at),
		cmocka_unit_test(test_keys),
		cmocka_unit_test(test_root),
		cmocka_unit_test(test_long_names),
		cmocka_unit_test(test_large),
		cmocka_unit_test(test_reserve),
		cmocka_unit_test(test_random_reference),
		cmocka_unit_test(test_overlay_reference),
	};

	return (cmocka_run_group_tests(tests, NULL, NULL));
}
