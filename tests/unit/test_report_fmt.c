/*
 * test_report_fmt.c: numbers and dates the Dutch way (report_fmt.c) and
 * the calendar arithmetic under them (report_date.c).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "report_date.h"
#include "report_fmt.h"

#define NB	REPORT_FMT_NBSP

static void
test_int(void **state)
{
	char	b[REPORT_FMT_LEN];

	(void)state;
	assert_string_equal(report_fmt_int(0, b, sizeof b), "0");
	assert_string_equal(report_fmt_int(999, b, sizeof b), "999");
	assert_string_equal(report_fmt_int(1000, b, sizeof b), "1.000");
	assert_string_equal(report_fmt_int(1234567, b, sizeof b), "1.234.567");
	assert_string_equal(report_fmt_int(100000, b, sizeof b), "100.000");
	assert_string_equal(report_fmt_int(UINT64_MAX, b, sizeof b),
	    "18.446.744.073.709.551.615");
	/* A short buffer is cut, never overrun. */
	assert_string_equal(report_fmt_int(1234567, b, 4), "1.2");
}

static void
test_dec_pct(void **state)
{
	char	b[REPORT_FMT_LEN];

	(void)state;
	assert_string_equal(report_fmt_dec(12.5, 1, b, sizeof b), "12,5");
	assert_string_equal(report_fmt_dec(1234.56, 1, b, sizeof b),
	    "1.234,6");
	assert_string_equal(report_fmt_dec(0.05, 1, b, sizeof b), "0,1");
	assert_string_equal(report_fmt_dec(2, 0, b, sizeof b), "2");
	assert_string_equal(report_fmt_pct(1, 8, b, sizeof b), "12,5" NB "%");
	assert_string_equal(report_fmt_pct(0, 8, b, sizeof b), "0" NB "%");
	assert_string_equal(report_fmt_pct(8, 8, b, sizeof b), "100,0" NB "%");
	assert_string_equal(report_fmt_pct(999, 1000, b, sizeof b),
	    "99,9" NB "%");
	/* Rounding never says "none" or "all" when it is not so. */
	assert_string_equal(report_fmt_pct(1, 100000, b, sizeof b),
	    "<" NB "0,1" NB "%");
	assert_string_equal(report_fmt_pct(99999, 100000, b, sizeof b),
	    ">" NB "99,9" NB "%");
	assert_string_equal(report_fmt_pct(1, 0, b, sizeof b), "–");
	assert_string_equal(report_fmt_short(12000, b, sizeof b), "12.000");
	assert_string_equal(report_fmt_short(1500000, b, sizeof b),
	    "1,5" NB "mln");
	assert_string_equal(report_fmt_short(2e9, b, sizeof b), "2" NB "mld");
	assert_string_equal(report_fmt_seconds(0.0001, b, sizeof b),
	    "0,1" NB "ms");
	assert_string_equal(report_fmt_seconds(0.00025, b, sizeof b),
	    "0,25" NB "ms");
	assert_string_equal(report_fmt_seconds(0.025, b, sizeof b),
	    "25" NB "ms");
	assert_string_equal(report_fmt_seconds(2.5, b, sizeof b), "2,5" NB "s");
	assert_string_equal(report_fmt_seconds(1, b, sizeof b), "1" NB "s");
}

static void
test_dates(void **state)
{
	char	b[128];
	long	d, e;

	(void)state;
	assert_int_equal(report_date_parse_day("2026-12-01", 10, &d), 0);
	assert_string_equal(report_fmt_date(d, b, sizeof b), "1 december 2026");
	assert_string_equal(report_fmt_date_short(d, b, sizeof b), "1 dec");
	assert_string_equal(report_fmt_weekday(d), "dinsdag");
	assert_int_equal(report_date_parse_day("2026-12-31", 10, &e), 0);
	assert_string_equal(report_fmt_period(d, e, b, sizeof b),
	    "1 t/m 31 december 2026");
	assert_int_equal(report_date_parse_day("2026-11-01", 10, &d), 0);
	assert_string_equal(report_fmt_period(d, e, b, sizeof b),
	    "1 november t/m 31 december 2026");
	assert_int_equal(report_date_parse_day("2025-12-01", 10, &d), 0);
	assert_int_equal(report_date_parse_day("2026-01-31", 10, &e), 0);
	assert_string_equal(report_fmt_period(d, e, b, sizeof b),
	    "1 december 2025 t/m 31 januari 2026");
	assert_string_equal(report_fmt_period(d, d, b, sizeof b),
	    "1 december 2025");
	assert_int_equal(report_date_month_days(2024, 2), 29);
	assert_int_equal(report_date_month_days(2100, 2), 28);

	/* Not dates. */
	assert_int_equal(report_date_parse_day("2026-02-29", 10, &d), -1);
	assert_int_equal(report_date_parse_day("2026-13-01", 10, &d), -1);
	assert_int_equal(report_date_parse_day("2026-1-01", 9, &d), -1);
	assert_int_equal(report_date_parse_day("2026-12-01x", 11, &d), -1);

	/* Round trip over four centuries, leap days included. */
	for (d = report_date_from_civil(1900, 1, 1);
	    d < report_date_from_civil(2300, 1, 1); d += 17) {
		int	y, m, dd;

		report_date_to_civil(d, &y, &m, &dd);
		assert_int_equal(report_date_from_civil(y, m, dd), d);
	}
}

static void
test_times(void **state)
{
	int64_t	t, u;

	(void)state;
	assert_int_equal(report_date_parse_time("2026-12-01T10:05:00+01:00",
	    25, &t), 0);
	assert_int_equal(report_date_parse_time("2026-12-01T09:05:00Z", 20,
	    &u), 0);
	assert_true(t == u);
	assert_int_equal(report_date_parse_time("2026-12-01T04:05:00-05:00",
	    25, &u), 0);
	assert_true(t == u);
	assert_int_equal(report_date_parse_time("2026-12-01T09:05:00.250Z",
	    24, &u), 0);
	assert_true(t == u);
	/* 24:00 ends a day; it is the next day's midnight. */
	assert_int_equal(report_date_parse_time("2026-12-01T24:00:00+01:00",
	    25, &t), 0);
	assert_int_equal(report_date_parse_time("2026-12-02T00:00:00+01:00",
	    25, &u), 0);
	assert_true(t == u);
	assert_int_equal(report_date_parse_time("2026-12-01T10:05:00", 19, &t),
	    -1);
	assert_int_equal(report_date_parse_time("2026-12-01T25:05:00Z", 20, &t),
	    -1);
	assert_int_equal(report_date_parse_time("2026-12-01T10:05:00+1:00",
	    24, &t), -1);
}

static void
test_categories(void **state)
{
	char	b[128];

	(void)state;
	assert_string_equal(report_fmt_category("gambling", b, sizeof b),
	    "Gokken");
	assert_string_equal(report_fmt_category("adult", b, sizeof b),
	    "Volwassenen");
	assert_string_equal(report_fmt_category("malware-ip", b, sizeof b),
	    "Malware (IP-adressen)");
	assert_string_equal(report_fmt_category("deny", b, sizeof b),
	    "Eigen blokkeerlijst");
	assert_string_equal(report_fmt_category("country:KP", b, sizeof b),
	    "Land: Noord-Korea");
	assert_string_equal(report_fmt_category("country:XY", b, sizeof b),
	    "Land XY");
	assert_string_equal(report_fmt_category("as:64511", b, sizeof b),
	    "Netwerk AS64511");
	/* A list the table does not know keeps its name. */
	assert_string_equal(report_fmt_category("eigen-lijst", b, sizeof b),
	    "eigen-lijst");
	assert_string_equal(report_fmt_country("NL"), "Nederland");
	assert_string_equal(report_fmt_country("ZZ"), "ZZ");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_int),
		cmocka_unit_test(test_dec_pct),
		cmocka_unit_test(test_dates),
		cmocka_unit_test(test_times),
		cmocka_unit_test(test_categories),
	};

	return (cmocka_run_group_tests(tests, NULL, NULL));
}
