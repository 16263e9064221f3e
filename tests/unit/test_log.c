/*
 * test_log.c: text from files and packets made fit for a log line
 * (log_printable(): control characters and octets that are no UTF-8
 * masked, cut after cut octets) and for a quoted string of a text output
 * (log_escaped(): the same characters written out as escapes), both with
 * "..." when they do not fit.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "log.h"

static const char *
printable(char *out, size_t cap, const char *s, size_t cut)
{
	return (log_printable(out, cap, s, strlen(s), cut));
}

static void
test_printable(void **state)
{
	char	out[64];

	(void)state;
	assert_string_equal(printable(out, sizeof out, "plain", 60), "plain");
	/* UTF-8 is kept whole: a diaeresis reads as written. */
	assert_string_equal(printable(out, sizeof out, "co\xc3\xb6rdinatie",
	    60), "co\xc3\xb6rdinatie");
	/* C0, DEL, C1, a bidirectional override and a stray octet. */
	assert_string_equal(printable(out, sizeof out,
	    "a\tb\x7f" "c\xc2\x85" "d\xe2\x80\xae" "e\xff" "f", 60),
	    "a?b?c?d?e?f");
	/* A character cut short by the end is no UTF-8: each octet masked. */
	assert_string_equal(printable(out, sizeof out, "x\xe2\x80", 60),
	    "x??");
	/* '"' and '\' need no escape in a log line. */
	assert_string_equal(printable(out, sizeof out, "\"\\", 60), "\"\\");
}

static void
test_printable_cut(void **state)
{
	char	out[64], small[8];

	(void)state;
	assert_string_equal(printable(out, sizeof out, "abcdef", 3),
	    "abc...");
	assert_string_equal(printable(out, sizeof out, "abc", 3), "abc");
	/* The character that starts within the cut is kept whole. */
	assert_string_equal(printable(out, sizeof out, "ab\xc3\xb6z", 3),
	    "ab\xc3\xb6...");
	/* Cut by out's size: room for "..." and the NUL always. */
	assert_string_equal(printable(small, sizeof small, "abcdefgh", 60),
	    "abcd...");
	/* A text with an embedded NUL is taken by its length. */
	assert_string_equal(log_printable(out, sizeof out, "a\0b", 3, 60),
	    "a?b");
}

static void
test_escaped(void **state)
{
	char	out[96];

	(void)state;
	assert_string_equal(log_escaped(out, sizeof out, "Stichting \xc3\x96"),
	    "Stichting \xc3\x96");
	assert_string_equal(log_escaped(out, sizeof out, "say \"hi\" \\o/"),
	    "say \\\"hi\\\" \\\\o/");
	assert_string_equal(log_escaped(out, sizeof out, "a\nb\tc\rd"),
	    "a\\nb\\tc\\rd");
	assert_string_equal(log_escaped(out, sizeof out, "\x01\x1b\x7f"),
	    "\\x01\\x1b\\x7f");
	/* C1 and the bidirectional marks as code points; a stray octet. */
	assert_string_equal(log_escaped(out, sizeof out,
	    "\xc2\x85\xe2\x80\x8f\xe2\x80\xae\xe2\x81\xa6\xfe"),
	    "\\u0085\\u200f\\u202e\\u2066\\xfe");
	/* Not every character of those blocks acts: U+2010 shows. */
	assert_string_equal(log_escaped(out, sizeof out, "\xe2\x80\x90"),
	    "\xe2\x80\x90");
}

static void
test_escaped_cut(void **state)
{
	char	out[12];

	(void)state;
	/* An escape is not split: it goes whole or not at all. */
	assert_string_equal(log_escaped(out, sizeof out, "abcd\xe2\x80\xae"),
	    "abcd...");
	assert_string_equal(log_escaped(out, sizeof out, "abcdefghijkl"),
	    "abcdefgh...");
	assert_string_equal(log_escaped(out, sizeof out, "abcdefg"),
	    "abcdefg");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_printable),
		cmocka_unit_test(test_printable_cut),
		cmocka_unit_test(test_escaped),
		cmocka_unit_test(test_escaped_cut),
	};

	return (cmocka_run_group_tests(tests, NULL, NULL));
}
