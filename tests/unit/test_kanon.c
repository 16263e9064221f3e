/*
 * test_kanon.c: the k-anonymity table of blocked sites: a site is named
 * only at k distinct clients, however often fewer clients asked; the
 * ordering and the top; hidden sites and answers; the byte budget and the
 * entry limit never name a site; k = 0 names everything; the table's
 * shape: sites longer than an entry holds, more clients than it holds (a
 * larger k), growth over many sites, kanon_top()'s own copies of the
 * sites, clients kept as 32 bits of their hash, and the hashes of a
 * batch taken before its adds (kanon_add_hash()); each table's own key
 * from its budget's random block; a table sized for what it expects
 * reporting what a grown one does.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "kanon.h"

/* The named sites of t, as "site/cat=count" joined by spaces. */
static char *
named(struct kanon *t, size_t top, uint64_t *hs, uint64_t *hc)
{
	struct kanon_site	*v;
	static char		 buf[4096];
	size_t			 len = 0;
	int			 n, i;

	n = kanon_top(t, top, &v, hs, hc);
	assert_true(n >= 0);
	buf[0] = '\0';
	for (i = 0; i < n; i++)
		len += (size_t)snprintf(buf + len, sizeof buf - len, "%s%s/%u=%llu",
		    i > 0 ? " " : "", v[i].site, v[i].cat,
		    (unsigned long long)v[i].count);
	free(v);
	return (buf);
}

static void
test_threshold(void **state)
{
	struct kanon_budget	 b = { .left = 1 << 20 };
	struct kanon		*t;
	uint64_t		 hs, hc, c;

	(void)state;
	t = kanon_new(5, 100, &b, 0);
	assert_non_null(t);
	/* Four clients, a thousand times each: never named. */
	for (c = 1; c <= 4; c++)
		assert_int_equal(kanon_add(t, "example.com", 1, c * 77, 250),
		    0);
	assert_string_equal(named(t, 20, &hs, &hc), "");
	assert_int_equal(hs, 1);
	assert_int_equal(hc, 1000);
	/* The same four again: still not. */
	for (c = 1; c <= 4; c++)
		kanon_add(t, "example.com", 1, c * 77, 1);
	assert_string_equal(named(t, 20, &hs, &hc), "");
	/* The same site in another category is another entry. */
	for (c = 5; c <= 9; c++)
		kanon_add(t, "example.com", 2, c * 77, 1);
	assert_string_equal(named(t, 20, &hs, &hc), "example.com/2=5");
	assert_int_equal(hs, 1);
	assert_int_equal(hc, 1004);
	/* The fifth distinct client names it, with every answer counted. */
	kanon_add(t, "example.com", 1, 5 * 77, 1);
	assert_string_equal(named(t, 20, &hs, &hc),
	    "example.com/1=1005 example.com/2=5");
	assert_int_equal(hs, 0);
	assert_int_equal(hc, 0);
	assert_int_equal(kanon_size(t), 2);
	kanon_free(t);
	assert_int_equal(b.left, 1 << 20);
}

static void
test_order_and_top(void **state)
{
	struct kanon_budget	 b = { .left = 1 << 20 };
	struct kanon		*t;
	uint64_t		 hs, hc, c;

	(void)state;
	t = kanon_new(2, 100, &b, 0);
	for (c = 0; c < 2; c++) {
		kanon_add(t, "b.example", 0, c, 10);
		kanon_add(t, "a.example", 0, c, 10);
		kanon_add(t, "c.example", 3, c, 30);
		kanon_add(t, "d.example", 0, c, 1);
	}
	kanon_add(t, "e.example", 0, 9, 100);		/* one client */
	kanon_lost(t, 7);
	assert_string_equal(named(t, 3, &hs, &hc),
	    "c.example/3=60 a.example/0=20 b.example/0=20");
	/* d beyond the top, e below k, and the lost answers. */
	assert_int_equal(hs, 2);
	assert_int_equal(hc, 2 + 100 + 7);
	assert_string_equal(named(t, 0, &hs, &hc), "");
	assert_int_equal(hs, 5);
	kanon_free(t);
}

/* Full tables and an empty budget hide sites; they never name one. */
static void
test_bounds(void **state)
{
	struct kanon_budget	 b = { .left = 1 << 20 }, tiny = { .left = 200 };
	struct kanon		*t;
	uint64_t		 hs, hc, c;
	char			 site[32];
	int			 i;

	(void)state;
	t = kanon_new(2, 10, &b, 0);
	for (i = 0; i < 15; i++) {
		snprintf(site, sizeof site, "s%d.example", i);
		for (c = 0; c < 3; c++)
			assert_int_equal(kanon_add(t, site, 0, c, 1),
			    i < 10 ? 0 : -1);
	}
	assert_int_equal(kanon_size(t), 10);
	named(t, 100, &hs, &hc);
	assert_int_equal(hs, 0);
	assert_int_equal(hc, 15);	/* five sites, three answers each */
	kanon_free(t);

	/* Room for one entry but not for its clients: stays unnamed. */
	t = kanon_new(50, 10, &tiny, 0);
	for (c = 0; c < 100; c++)
		kanon_add(t, "x.example", 0, c, 1);
	assert_string_equal(named(t, 10, &hs, &hc), "");
	assert_int_equal(hs, 1);
	assert_int_equal(hc, 100);
	kanon_free(t);
	assert_int_equal(tiny.left, 200);
}

/* k = 0: the day's table of sites named by its intervals. */
static void
test_k0(void **state)
{
	struct kanon_budget	 b = { .left = 1 << 20 };
	struct kanon		*t;
	uint64_t		 hs, hc;

	(void)state;
	t = kanon_new(0, 100, &b, 0);
	kanon_add(t, "a.example", 0, 0, 5);
	kanon_add(t, "a.example", 0, 0, 6);
	kanon_add(t, "b.example", 1, 0, 3);
	assert_string_equal(named(t, 10, &hs, &hc),
	    "a.example/0=11 b.example/1=3");
	assert_int_equal(hs, 0);
	kanon_free(t);
}

/* Sites too long for an entry are kept apart and compared in full. */
static void
test_long_sites(void **state)
{
	struct kanon_budget	 b = { .left = 1 << 20 };
	struct kanon		*t;
	const char		*a = "a-long-registrable-domain-name.example";
	const char		*a2 = "a-long-registrable-domain-name.examplf";
	uint64_t		 hs, hc, c;
	char			 want[256];

	(void)state;
	t = kanon_new(3, 100, &b, 0);
	for (c = 1; c <= 3; c++) {
		assert_int_equal(kanon_add(t, a, 4, c, 2), 0);
		assert_int_equal(kanon_add(t, a2, 4, c, 1), 0);
	}
	/* 25 octets fit in the entry, 26 do not. */
	for (c = 1; c <= 3; c++) {
		kanon_add(t, "abcdefghijklmnopqrst.test", 0, c, 1);
		kanon_add(t, "abcdefghijklmnopqrstu.test", 0, c, 1);
	}
	assert_int_equal(kanon_size(t), 4);
	snprintf(want, sizeof want, "%s/4=6 %s/4=3 %s %s", a, a2,
	    "abcdefghijklmnopqrst.test/0=3", "abcdefghijklmnopqrstu.test/0=3");
	assert_string_equal(named(t, 10, &hs, &hc), want);
	assert_int_equal(hs, 0);
	kanon_free(t);
	assert_int_equal(b.left, 1 << 20);
}

/* A k larger than the clients an entry holds counts them all. */
static void
test_large_k(void **state)
{
	struct kanon_budget	 b = { .left = 1 << 20 };
	struct kanon		*t;
	uint64_t		 hs, hc, c;

	(void)state;
	assert_null(kanon_new(70000, 10, &b, 0));
	t = kanon_new(12, 100, &b, 0);
	for (c = 1; c <= 11; c++) {
		/* Each client twice: repeats are not new clients. */
		kanon_add(t, "many.example", 1, c * 0x9e3779b9U, 1);
		kanon_add(t, "many.example", 1, c * 0x9e3779b9U, 1);
	}
	assert_string_equal(named(t, 10, &hs, &hc), "");
	assert_int_equal(hs, 1);
	assert_int_equal(hc, 22);
	assert_true(b.left < (1 << 20) - 11 * sizeof(uint32_t));
	kanon_add(t, "many.example", 1, 12 * 0x9e3779b9U, 1);
	assert_string_equal(named(t, 10, &hs, &hc), "many.example/1=23");
	kanon_free(t);
	assert_int_equal(b.left, 1 << 20);
}

/*
 * Clients are told apart by 32 bits of their hash: two that agree there
 * count as one, which can keep a site unnamed, never name it early.
 */
static void
test_client_bits(void **state)
{
	struct kanon_budget	 b = { .left = 1 << 20 };
	struct kanon		*t;
	uint64_t		 hs, hc, c;

	(void)state;
	t = kanon_new(2, 10, &b, 0);
	for (c = 1; c <= 5; c++)
		kanon_add(t, "same.example", 0, c << 32 | 7, 1);
	assert_string_equal(named(t, 10, &hs, &hc), "");
	kanon_add(t, "same.example", 0, 8, 1);
	assert_string_equal(named(t, 10, &hs, &hc), "same.example/0=6");
	kanon_free(t);
}

/*
 * Many sites: the table grows, every site keeps its count; the array of
 * kanon_top() keeps its strings while the table grows and after it is
 * freed.
 */
static void
test_growth(void **state)
{
	struct kanon_budget	 b = { .left = 64 << 20 };
	struct kanon		*t;
	struct kanon_site	*v;
	uint64_t		 hs, hc, c;
	char			 site[64];
	int			 i, n;

	(void)state;
	t = kanon_new(2, 5000, &b, 0);
	for (i = 0; i < 3000; i++) {
		snprintf(site, sizeof site, i % 7 == 0 ?
		    "site-%d.with-a-long-name.example" : "s%d.example", i);
		for (c = 0; c < (uint64_t)(i % 3 == 0 ? 1 : 2); c++)
			assert_int_equal(kanon_add(t, site, (uint16_t)(i % 5),
			    c, (uint64_t)i + 1), 0);
	}
	assert_int_equal(kanon_size(t), 3000);
	n = kanon_top(t, 5000, &v, &hs, &hc);
	/* Sites i % 3 == 0 had one client: hidden. */
	assert_int_equal(n, 2000);
	assert_int_equal(hs, 1000);
	/* The most blocked first: i = 2999 (not hidden), twice. */
	assert_string_equal(v[0].site, "s2999.example");
	assert_int_equal(v[0].count, 2 * 3000);
	assert_int_equal(v[0].cat, 2999 % 5);
	for (i = 3000; i < 6000; i++) {
		snprintf(site, sizeof site, "t%d.example", i);
		kanon_add(t, site, 0, 1, 1);
	}
	assert_int_equal(kanon_size(t), 5000);
	kanon_free(t);
	assert_string_equal(v[0].site, "s2999.example");
	assert_string_equal(v[n - 1].site, "s1.example");
	free(v);
	assert_int_equal(b.left, 64 << 20);
}

/*
 * kanon_add_hash() with hashes taken a batch before, as the fold takes
 * them, the table growing in the middle of the batch (its lines then
 * move) and a site coming twice in one batch: every site named or
 * hidden with the counts of kanon_add() one name at a time.
 */
static void
test_hash_batches(void **state)
{
	struct kanon_budget	 b = { .left = 64 << 20 };
	struct kanon		*one, *batch;
	uint64_t		 h[32], hs1, hc1, hs2, hc2, c;
	char			 site[32][64], want[4096];
	int			 i, j, n;

	(void)state;
	one = kanon_new(3, 5000, &b, 0);
	batch = kanon_new(3, 5000, &b, 0);
	for (i = 0; i < 1200; i += 32) {
		for (j = 0; j < 32; j++) {
			/* Sites come back, one twice in a batch. */
			n = j == 31 ? i % 100 : (i + j) % 100;
			snprintf(site[j], sizeof site[j], n % 9 == 0 ?
			    "site-%d.with-a-long-name.example" :
			    "s%d.example", n);
			h[j] = kanon_hash(batch, site[j], (uint16_t)(n % 3));
			assert_int_equal(h[j], kanon_hash(batch, site[j],
			    (uint16_t)(n % 3)));
			kanon_prefetch(batch, h[j]);
		}
		for (j = 0; j < 32; j++) {
			n = j == 31 ? i % 100 : (i + j) % 100;
			c = (uint64_t)(i / 32 + j) % 4;
			assert_int_equal(kanon_add(one, site[j],
			    (uint16_t)(n % 3), c, 1), 0);
			assert_int_equal(kanon_add_hash(batch, site[j],
			    (uint16_t)(n % 3), h[j], c, 1), 0);
		}
	}
	assert_int_equal(kanon_size(one), kanon_size(batch));
	snprintf(want, sizeof want, "%s", named(one, 5000, &hs1, &hc1));
	assert_string_equal(named(batch, 5000, &hs2, &hc2), want);
	assert_int_equal(hs1, hs2);
	assert_int_equal(hc1, hc2);
	assert_true(strlen(want) > 0);
	kanon_free(one);
	kanon_free(batch);
	assert_int_equal(b.left, 64 << 20);
}

/*
 * Each table takes a key of its own from its budget's block of random
 * octets (16 of them, wiped from the block as they are taken): two
 * tables hash a site apart.
 */
static void
test_keys(void **state)
{
	struct kanon_budget	 b = { .left = 1 << 20 };
	struct kanon		*t1, *t2;
	static const uint8_t	 zero[32];

	(void)state;
	t1 = kanon_new(5, 100, &b, 0);
	assert_int_equal(b.random.left, RANDBUF_SIZE - 16);
	t2 = kanon_new(5, 100, &b, 0);
	assert_int_equal(b.random.left, RANDBUF_SIZE - 32);
	assert_memory_equal(b.random.buf, zero, sizeof zero);
	/* 2^-64 that the keys agree on it. */
	assert_true(kanon_hash(t1, "example.com", 1) !=
	    kanon_hash(t2, "example.com", 1));
	kanon_free(t1);
	kanon_free(t2);
	randbuf_clear(&b.random);
	assert_int_equal(b.random.left, 0);
}

/*
 * A table made for the sites its board had before (expect) keeps and
 * names exactly what one grown from a few slots does: the same names,
 * counts, hidden sites and answers, charges and limit, whether it
 * expected fewer sites than came, as many, or more than its limit.
 */
static void
test_expect(void **state)
{
	static const size_t	 expect[] = { 0, 1, 40, 300, 1000, 100000 };
	struct kanon_budget	 b = { .left = 64 << 20 };
	struct kanon		*t;
	uint64_t		 hs, hc, hs0 = 0, hc0 = 0, c;
	size_t			 left0 = 0, e;
	char			 site[64], want[4096];
	int			 i;

	(void)state;
	for (e = 0; e < sizeof expect / sizeof expect[0]; e++) {
		t = kanon_new(3, 500, &b, expect[e]);
		for (i = 0; i < 700; i++) {
			snprintf(site, sizeof site, i % 7 == 0 ?
			    "site-%d.with-a-long-name.example" :
			    "s%d.example", i % 600);
			for (c = 0; c <= (uint64_t)(i % 4); c++)
				kanon_add(t, site, (uint16_t)(i % 3), c,
				    (uint64_t)i + 1);
		}
		if (e == 0) {
			left0 = b.left;
			snprintf(want, sizeof want, "%s",
			    named(t, 20, &hs0, &hc0));
			assert_int_not_equal(hs0, 0);
		} else {
			assert_int_equal(b.left, left0);
			assert_string_equal(named(t, 20, &hs, &hc), want);
			assert_int_equal(hs, hs0);
			assert_int_equal(hc, hc0);
		}
		assert_int_equal(kanon_size(t), 500);
		kanon_free(t);
		assert_int_equal(b.left, 64 << 20);
	}
	randbuf_clear(&b.random);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_threshold),
		cmocka_unit_test(test_order_and_top),
		cmocka_unit_test(test_bounds),
		cmocka_unit_test(test_k0),
		cmocka_unit_test(test_long_sites),
		cmocka_unit_test(test_large_k),
		cmocka_unit_test(test_client_bits),
		cmocka_unit_test(test_growth),
		cmocka_unit_test(test_hash_batches),
		cmocka_unit_test(test_keys),
		cmocka_unit_test(test_expect),
	};

	return (cmocka_run_group_tests(tests, NULL, NULL));
}
