/*
 * test_site.c: registrable domains (eTLD+1) through libpsl: ordinary
 * and multi-label public suffixes, private suffixes, a name that is a
 * suffix itself, the root, escaped octets, and the memo.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "site.h"
#include "tdir.h"

/* The site of a dotted name (no escapes), through wire form. */
static const char *
of(struct site *s, const char *name)
{
	uint8_t		 w[256];

	return (site_of(s, w, tname(name, w, sizeof w)));
}

static void
test_reduce(void **state)
{
	struct site	*s;
	uint8_t		 odd[] = { 3, 'a', ' ', 'b', 7, 'e', 'x', 'a', 'm',
			    'p', 'l', 'e', 3, 'c', 'o', 'm', 0 };
	uint8_t		 esc[] = { 3, 'a', '.', '\\', 3, 'c', 'o', 'm', 0 };
	uint8_t		 root[] = { 0 };

	(void)state;
	s = site_new();
	assert_non_null(s);
	assert_string_equal(of(s, "ads.tracker.example.com"), "example.com");
	assert_string_equal(of(s, "example.com"), "example.com");
	assert_string_equal(of(s, "www.bbc.co.uk"), "bbc.co.uk");
	assert_string_equal(of(s, "a.b.c.d.example.nl"), "example.nl");
	assert_string_equal(of(s, "xn--80ak6aa92e.com"), "xn--80ak6aa92e.com");
	/* Private suffixes are suffixes too: each blog is its own site. */
	assert_string_equal(of(s, "x.y.someone.blogspot.com"),
	    "someone.blogspot.com");
	/* A suffix itself, or a name under an unknown TLD. */
	assert_string_equal(of(s, "co.uk"), "co.uk");
	assert_string_equal(of(s, "com"), "com");
	assert_string_equal(of(s, "a.b.test"), "b.test");
	assert_string_equal(site_of(s, root, sizeof root), ".");
	/* Octets that are not printable stay escaped. */
	assert_string_equal(site_of(s, odd, sizeof odd), "example.com");
	assert_string_equal(site_of(s, esc, sizeof esc), "a\\046\\092.com");
	site_free(s);
}

/* The same name twice gives the remembered string. */
static void
test_memo(void **state)
{
	struct site	*s;
	const char	*a, *b;

	(void)state;
	s = site_new();
	a = of(s, "one.example.org");
	b = of(s, "one.example.org");
	assert_ptr_equal(a, b);
	assert_int_equal(site_size(s), 1);
	of(s, "two.example.org");
	assert_int_equal(site_size(s), 2);
	site_free(s);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_reduce),
		cmocka_unit_test(test_memo),
	};

	return (cmocka_run_group_tests(tests, NULL, NULL));
}
