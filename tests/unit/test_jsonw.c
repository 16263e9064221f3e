/*
 * test_jsonw.c: the JSON writer against jansson. For the same members,
 * jsonw's line must be byte for byte json_dumps(JSON_COMPACT |
 * JSON_REAL_PRECISION(6)) of the object built with json_object_set_new():
 * strings and keys of random octets (control characters, quotes,
 * backslashes, slashes, DEL, UTF-8 of every length, overlong forms,
 * surrogates, code points past U+10FFFF, cut sequences), the members
 * jansson leaves out for them, integers of every size, reals of every
 * exponent, nesting; records that fail are dropped whole and the ones
 * before them kept.
 */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "jsonw.h"

#define DUMP_FLAGS	(JSON_COMPACT | JSON_REAL_PRECISION(6))
#define ROUNDS		20000

/* A small generator of our own: the same cases on every run. */
static uint64_t rng_state = 0x9e3779b97f4a7c15ULL;

static uint64_t
rng(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return (rng_state);
}

/*
 * A random string into buf (NUL-terminated, no NUL inside): pieces that
 * are valid UTF-8 and pieces that are not, so that about half the
 * strings are valid.
 */
static void
rstring(char *buf, size_t cap)
{
	static const char *const pieces[] = {
		"a", "Z", "0", " ", "\"", "\\", "/", "\x7f", "\t", "\n", "\r",
		"\b", "\f", "\x01", "\x1f", "\x1b", "{", "}", ":", ",",
		"\xc3\xa9",			/* é */
		"\xe2\x98\x95",			/* U+2615 */
		"\xf0\x9d\x84\x9e",		/* U+1D11E */
		"\xef\xbf\xbf",			/* U+FFFF */
		"\xf4\x8f\xbf\xbf",		/* U+10FFFF */
		"\xed\x9f\xbf",			/* U+D7FF */
		"\xee\x80\x80",			/* U+E000 */
		"\xc2\x80",			/* U+0080 */
		"\xe0\xa0\x80",			/* U+0800 */
		"\xf0\x90\x80\x80",		/* U+10000 */
	};
	static const char *const bad[] = {
		"\x80", "\xbf", "\xc0\x80", "\xc1\xbf", "\xe0\x80\x80",
		"\xe0\x9f\xbf", "\xed\xa0\x80", "\xed\xbf\xbf",
		"\xf0\x80\x80\x80", "\xf0\x8f\xbf\xbf", "\xf4\x90\x80\x80",
		"\xf5\x80\x80\x80", "\xff", "\xfe", "\xc3", "\xe2\x98",
		"\xf0\x9d\x84", "\xc3\x28", "\xe2\x28\xa1",
	};
	size_t	len = 0, n = rng() % 8, i, l;
	const char *p;

	for (i = 0; i < n; i++) {
		if (rng() % 16 == 0)
			p = bad[rng() % (sizeof bad / sizeof bad[0])];
		else if (rng() % 8 == 0) {
			/* Any octet but NUL. */
			static char one[2];

			one[0] = (char)(1 + rng() % 255);
			one[1] = '\0';
			p = one;
		} else
			p = pieces[rng() % (sizeof pieces / sizeof pieces[0])];
		l = strlen(p);
		if (len + l + 1 > cap)
			break;
		memcpy(buf + len, p, l);
		len += l;
	}
	buf[len] = '\0';
}

/* jansson's line for object o (freed), with a newline as jsonw ends. */
static char *
dumped(json_t *o)
{
	char	*s, *line;

	s = json_dumps(o, DUMP_FLAGS);
	json_decref(o);
	assert_non_null(s);
	assert_true(asprintf(&line, "%s\n", s) != -1);
	free(s);
	return (line);
}

/* w's text (one or more lines) is want; w is emptied. */
static void
same(struct jsonw *w, const char *want)
{
	if (w->len != strlen(want) || memcmp(w->buf, want, w->len) != 0)
		fail_msg("jansson: %s\njsonw:   %.*s", want, (int)w->len,
		    w->buf);
	w->len = 0;
}

/* Strings as values and as keys, in objects and arrays. */
static void
test_strings(void **state)
{
	struct jsonw	 w;
	json_t		*o, *a;
	char		 s[64], k[64], ks[68], sk[68], *want;
	int		 i, r, valid = 0;

	(void)state;
	memset(&w, 0, sizeof w);
	for (i = 0; i < ROUNDS; i++) {
		rstring(s, sizeof s);
		rstring(k, sizeof k);
		/* Keys apart: jsonw writes a key twice as it is told. */
		snprintf(ks, sizeof ks, "k:%s", k);
		snprintf(sk, sizeof sk, "s:%s", s);
		/* jansson's test and ours agree. */
		o = json_string(s);
		assert_int_equal(o != NULL ? 1 : 0, jsonw_utf8(s, strlen(s)));
		json_decref(o);
		valid += jsonw_utf8(s, strlen(s));

		o = json_object();
		json_object_set_new(o, "before", json_integer(1));
		json_object_set_new(o, "s", json_string(s));
		json_object_set_new(o, ks, json_integer(i));
		a = json_array();
		json_array_append_new(a, json_string(s));
		json_array_append_new(a, json_string(k));
		json_array_append_new(a, json_integer(2));
		json_object_set_new(o, "a", a);
		json_object_set_new(o, sk, json_string(k));
		want = dumped(o);

		jsonw_begin(&w);
		jsonw_open(&w, NULL, '{');
		jsonw_int(&w, "before", 1);
		r = jsonw_string(&w, "s", s);
		assert_int_equal(r, jsonw_utf8(s, strlen(s)) ? 0 : -1);
		jsonw_int(&w, ks, i);
		jsonw_open(&w, "a", '[');
		jsonw_string(&w, NULL, s);
		jsonw_string(&w, NULL, k);
		jsonw_int(&w, NULL, 2);
		jsonw_close(&w, ']');
		jsonw_string(&w, sk, k);
		jsonw_close(&w, '}');
		assert_int_equal(jsonw_end(&w), 0);
		same(&w, want);
		free(want);
	}
	/* Both kinds were tried often. */
	assert_in_range(valid, ROUNDS / 5, ROUNDS * 4 / 5);
	/* A NULL string is left out, as json_string(NULL) is. */
	jsonw_begin(&w);
	jsonw_open(&w, NULL, '[');
	assert_int_equal(jsonw_string(&w, NULL, NULL), -1);
	jsonw_close(&w, ']');
	assert_int_equal(jsonw_end(&w), 0);
	same(&w, "[]\n");
	jsonw_clear(&w);
}

/* Integers and reals of every size. */
static void
test_numbers(void **state)
{
	static const int64_t ints[] = {
		0, 1, -1, 9, 10, -10, 99, 100, INT64_MAX, INT64_MIN,
		INT64_MIN + 1, 4294967296LL, -4294967296LL,
	};
	static const double reals[] = {
		0.0, -0.0, 1, -1, 0.5, 0.0001, 0.00025, 0.0005, 0.001, 0.0025,
		0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 2.5, 5, 10, 100, 1e5,
		999999, 1e6, 1234567, 1e-4, 1e-5, 1.5e-7, 1e100, 1e-100,
		1e300, 1e-300, 5e-324, 1.7976931348623157e308, 123.456789,
		-2.5e-10, 3.14159265358979,
	};
	struct jsonw	 w;
	json_t		*o;
	char		*want;
	uint64_t	 u;
	double		 d;
	size_t		 i;

	(void)state;
	memset(&w, 0, sizeof w);
	for (i = 0; i < ROUNDS; i++) {
		u = rng();
		/* Every number of digits, both signs. */
		u >>= rng() % 64;
		d = ldexp((double)(rng() >> 11) / 9007199254740992.0,
		    (int)(rng() % 2100) - 1050);
		if (rng() % 2)
			d = -d;
		if (i < sizeof ints / sizeof ints[0])
			u = (uint64_t)ints[i];
		if (i < sizeof reals / sizeof reals[0])
			d = reals[i];
		o = json_object();
		json_object_set_new(o, "i", json_integer((json_int_t)u));
		json_object_set_new(o, "r", json_real(d));
		want = dumped(o);
		jsonw_begin(&w);
		jsonw_open(&w, NULL, '{');
		jsonw_int(&w, "i", (int64_t)u);
		jsonw_real(&w, "r", d);
		jsonw_close(&w, '}');
		assert_int_equal(jsonw_end(&w), 0);
		same(&w, want);
		free(want);
	}
	/* Not finite: json_real() refuses them, the member goes. */
	o = json_object();
	json_object_set_new(o, "nan", json_real(NAN));
	json_object_set_new(o, "inf", json_real(INFINITY));
	json_object_set_new(o, "x", json_real(-INFINITY));
	want = dumped(o);
	jsonw_begin(&w);
	jsonw_open(&w, NULL, '{');
	jsonw_real(&w, "nan", NAN);
	jsonw_real(&w, "inf", INFINITY);
	jsonw_real(&w, "x", -INFINITY);
	jsonw_close(&w, '}');
	assert_int_equal(jsonw_end(&w), 0);
	same(&w, want);
	assert_string_equal(want, "{}\n");
	free(want);
	jsonw_clear(&w);
}

/* Nesting, empty objects and arrays, raw parts, many records. */
static void
test_nesting(void **state)
{
	struct jsonw	 w;
	json_t		*o, *p, *a;
	char		*want, *one;
	size_t		 i, len;

	(void)state;
	memset(&w, 0, sizeof w);
	o = json_object();
	json_object_set_new(o, "e", json_object());
	json_object_set_new(o, "ea", json_array());
	a = json_array();
	json_array_append_new(a, json_object());
	p = json_object();
	json_object_set_new(p, "x", json_array());
	json_object_set_new(p, "y", json_integer(-3));
	json_array_append_new(a, p);
	json_array_append_new(a, json_array());
	json_object_set_new(o, "a", a);
	json_object_set_new(o, "raw", json_string("+Inf"));
	want = dumped(o);

	jsonw_begin(&w);
	jsonw_open(&w, NULL, '{');
	jsonw_open(&w, "e", '{');
	jsonw_close(&w, '}');
	jsonw_open(&w, "ea", '[');
	jsonw_close(&w, ']');
	jsonw_open(&w, "a", '[');
	jsonw_open(&w, NULL, '{');
	jsonw_close(&w, '}');
	jsonw_open(&w, NULL, '{');
	jsonw_open(&w, "x", '[');
	jsonw_close(&w, ']');
	jsonw_int(&w, "y", -3);
	jsonw_close(&w, '}');
	jsonw_open(&w, NULL, '[');
	jsonw_close(&w, ']');
	jsonw_close(&w, ']');
	jsonw_raw(&w, "raw", "\"+Inf\"", 6);
	jsonw_close(&w, '}');
	assert_int_equal(jsonw_end(&w), 0);
	same(&w, want);

	/* Members written before, first and after others. */
	jsonw_begin(&w);
	jsonw_open(&w, NULL, '{');
	jsonw_members(&w, "\"a\":1,\"b\":[]", 12);
	jsonw_int(&w, "c", 2);
	jsonw_open(&w, "d", '{');
	jsonw_int(&w, "x", 0);
	jsonw_members(&w, "\"y\":\"\\u0001\"", 12);
	jsonw_members(&w, "", 0);
	jsonw_close(&w, '}');
	jsonw_close(&w, '}');
	assert_int_equal(jsonw_end(&w), 0);
	same(&w, "{\"a\":1,\"b\":[],\"c\":2,\"d\":{\"x\":0,"
	    "\"y\":\"\\u0001\"}}\n");

	/* Records one after another, past the buffer's first size. */
	len = strlen(want);
	for (i = 0; i < 5000; i++) {
		jsonw_begin(&w);
		jsonw_raw(&w, NULL, want, len - 1);
		assert_int_equal(jsonw_end(&w), 0);
	}
	assert_int_equal(w.len, 5000 * len);
	for (i = 0; i < 5000; i++)
		assert_memory_equal(w.buf + i * len, want, len);
	w.len = 0;

	/*
	 * A record that fails (too deep, unbalanced, a key jansson would
	 * refuse for a whole object) is dropped; the one before stays.
	 */
	jsonw_begin(&w);
	jsonw_raw(&w, NULL, want, len - 1);
	assert_int_equal(jsonw_end(&w), 0);
	jsonw_begin(&w);
	for (i = 0; i < JSONW_DEPTH + 2; i++)
		jsonw_open(&w, NULL, '[');
	for (i = 0; i < JSONW_DEPTH + 2; i++)
		jsonw_close(&w, ']');
	assert_int_equal(jsonw_end(&w), -1);
	jsonw_begin(&w);
	jsonw_open(&w, NULL, '{');
	assert_int_equal(jsonw_end(&w), -1);
	jsonw_begin(&w);
	jsonw_close(&w, '}');
	assert_int_equal(jsonw_end(&w), -1);
	jsonw_begin(&w);
	jsonw_open(&w, NULL, '{');
	jsonw_open(&w, "\xff", '{');
	jsonw_close(&w, '}');
	jsonw_close(&w, '}');
	assert_int_equal(jsonw_end(&w), -1);
	same(&w, want);
	/* And the next one is written. */
	jsonw_begin(&w);
	jsonw_open(&w, NULL, '[');
	jsonw_close(&w, ']');
	assert_int_equal(jsonw_end(&w), 0);
	same(&w, "[]\n");
	free(want);
	jsonw_clear(&w);
	assert_null(w.buf);
	/* A cleared writer starts again. */
	jsonw_begin(&w);
	jsonw_string(&w, NULL, "x");
	assert_int_equal(jsonw_end(&w), 0);
	assert_true(asprintf(&one, "\"x\"\n") != -1);
	same(&w, one);
	free(one);
	jsonw_clear(&w);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_strings),
		cmocka_unit_test(test_numbers),
		cmocka_unit_test(test_nesting),
	};

	return (cmocka_run_group_tests(tests, NULL, NULL));
}
