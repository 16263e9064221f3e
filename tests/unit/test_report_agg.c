/*
 * test_report_agg.c: adding statistics up (report_agg.c), records parsed
 * and checked (report_rec.c), and node directories read (report_read.c):
 * sums over days, several nodes merged, the k-anonymity rule kept through
 * merging, day summaries against the interval lines of a crashed part of
 * a day, corrupt lines counted, a newer format refused.
 */
#include <sys/stat.h>

#include <ftw.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "report_agg.h"
#include "report_date.h"
#include "report_read.h"
#include "report_rec.h"

static char	tmp[64];

static long
day(const char *iso)
{
	long	d;

	assert_int_equal(report_date_parse_day(iso, strlen(iso), &d), 0);
	return (d);
}

/*
 * A day record of board b on node n for the whole of date, with q queries
 * of which bl blocked (all malware), c clients and top_blocked as given
 * (a JSON array, "" for none).
 */
static char *
day_line(const char *n, const char *date, const char *b, unsigned q,
    unsigned bl, unsigned c, int k, const char *top)
{
	static char	line[4096];

	snprintf(line, sizeof line, "{\"v\":1,\"type\":\"day\",\"node\":\"%s\","
	    "\"start\":\"%sT00:00:00+01:00\",\"end\":\"%sT24:00:00+01:00\","
	    "\"seconds\":86400,\"board\":\"%s\",\"name\":\"Stichting %s\","
	    "\"queries\":%u,\"answers\":{\"cache\":%u,\"forwarded\":%u,"
	    "\"blocked\":%u},\"blocked\":{\"malware\":%u},\"clients\":%u,"
	    "\"k\":%d%s%s%s,\"intervals\":288}", n, date, date, b, b, q,
	    (q - bl) / 2, q - bl - (q - bl) / 2, bl, bl, c, k,
	    *top ? ",\"top_blocked\":" : "", top, "");
	return (line);
}

/* Parse a line that must be valid and add it for date. */
static void
add(struct report_agg *agg, struct report_rec *r, const char *line,
    enum report_src src, const char *date)
{
	const char	*why;

	assert_int_equal(report_rec_parse(r, line, strlen(line), src, &why),
	    REPORT_PARSE_OK);
	report_agg_add(agg, r, day(date));
}

static uint64_t
col(struct report_agg *agg, const char *board, const char *date,
    enum report_col c)
{
	struct report_board	*b = report_agg_board(agg, board);

	assert_non_null(b);
	return (b->day[(day(date) - agg->from) * REPORT_COLS + c]);
}

static uint64_t
site(struct report_agg *agg, const char *board, const char *s)
{
	struct report_map_ent	*e;

	e = report_map_find(&report_agg_board(agg, board)->sites, s,
	    strlen(s));
	return (e == NULL ? 0 : e->n);
}

static void
test_sum_days(void **state)
{
	struct report_agg	*agg;
	struct report_rec	 r;

	(void)state;
	report_rec_init(&r);
	agg = report_agg_new(day("2026-11-01"), day("2026-11-30"), 5, NULL);
	add(agg, &r, day_line("ns1", "2026-11-02", "a", 1000, 50, 40, 5, ""),
	    REPORT_SRC_DAY, "2026-11-02");
	add(agg, &r, day_line("ns1", "2026-11-03", "a", 3000, 150, 60, 5, ""),
	    REPORT_SRC_DAY, "2026-11-03");
	add(agg, &r, day_line("ns1", "2026-11-03", "b", 7, 1, 2, 5, ""),
	    REPORT_SRC_DAY, "2026-11-03");
	assert_int_equal(agg->nboards, 2);
	assert_int_equal(col(agg, "a", "2026-11-02", REPORT_QUERIES), 1000);
	assert_int_equal(col(agg, "a", "2026-11-03", REPORT_QUERIES), 3000);
	assert_int_equal(col(agg, "a", "2026-11-01", REPORT_QUERIES), 0);
	assert_int_equal(report_agg_total(agg, report_agg_board(agg, "a"),
	    REPORT_QUERIES), 4000);
	assert_int_equal(report_agg_total(agg, report_agg_board(agg, "a"),
	    REPORT_BLOCKED), 200);
	assert_int_equal(report_agg_total(agg, report_agg_board(agg, "a"),
	    REPORT_CACHE), 475 + 1425);
	assert_string_equal(report_agg_board(agg, "a")->name, "Stichting a");
	/* One part a day on one node: an estimate, not an upper bound. */
	assert_false(report_agg_board(agg, "a")->summed);
	assert_int_equal(report_agg_total(agg, report_agg_board(agg, "a"),
	    REPORT_CLIENTS), 100);
	/* A record of a day outside the period is not added. */
	assert_int_equal(report_rec_parse(&r, day_line("ns1", "2026-12-01", "a",
	    5, 0, 1, 5, ""), strlen(day_line("ns1", "2026-12-01", "a", 5, 0,
	    1, 5, "")), REPORT_SRC_DAY, &(const char *){ NULL }),
	    REPORT_PARSE_OK);
	assert_int_equal(report_agg_add(agg, &r, day("2026-12-01")), 0);
	report_agg_free(agg);
	report_rec_clear(&r);
}

static void
test_merged_nodes(void **state)
{
	struct report_agg	*agg;
	struct report_board	*all;
	struct report_rec	 r;

	(void)state;
	report_rec_init(&r);
	agg = report_agg_new(day("2026-11-01"), day("2026-11-30"), 5, NULL);
	add(agg, &r, day_line("ns1", "2026-11-02", "a", 1000, 50, 40, 5, ""),
	    REPORT_SRC_DAY, "2026-11-02");
	add(agg, &r, day_line("ns2", "2026-11-02", "a", 600, 30, 25, 5, ""),
	    REPORT_SRC_DAY, "2026-11-02");
	add(agg, &r, day_line("ns2", "2026-11-02", "b", 10, 0, 3, 5, ""),
	    REPORT_SRC_DAY, "2026-11-02");
	/* Counts add. */
	assert_int_equal(col(agg, "a", "2026-11-02", REPORT_QUERIES), 1600);
	assert_int_equal(col(agg, "a", "2026-11-02", REPORT_BLOCKED), 80);
	/* Clients are shown as the sum, marked as an upper bound. */
	assert_int_equal(col(agg, "a", "2026-11-02", REPORT_CLIENTS), 65);
	assert_true(report_agg_board(agg, "a")->summed);
	assert_false(report_agg_board(agg, "b")->summed);
	assert_int_equal(agg->nodes.len, 2);
	all = report_agg_all(agg);
	assert_int_equal(report_agg_total(agg, all, REPORT_QUERIES), 1610);
	assert_true(all->summed);
	report_agg_board_free(all);
	report_agg_free(agg);
	report_rec_clear(&r);
}

static void
test_k_through_merging(void **state)
{
	struct report_agg	*agg;
	struct report_board	*all;
	struct report_rec	 r;

	(void)state;
	report_rec_init(&r);
	agg = report_agg_new(day("2026-11-01"), day("2026-11-30"), 5, NULL);
	/*
	 * seldom.example: 3 clients on ns1, 4 on ns2 (7 together), on a
	 * node that (wrongly) runs k 3 and so names it: never named here.
	 * often.example: 6 on ns1: named. nocal.example: no
	 * clients_at_least at all: not named.
	 */
	add(agg, &r, day_line("ns1", "2026-11-02", "a", 1000, 100, 40, 5,
	    "[{\"site\":\"often.example\",\"category\":\"malware\","
	    "\"count\":20,\"clients_at_least\":6},{\"site\":\"seldom.example\","
	    "\"category\":\"malware\",\"count\":3,\"clients_at_least\":3}]"),
	    REPORT_SRC_DAY, "2026-11-02");
	add(agg, &r, day_line("ns2", "2026-11-02", "a", 1000, 100, 40, 3,
	    "[{\"site\":\"seldom.example\",\"category\":\"malware\","
	    "\"count\":4,\"clients_at_least\":4},{\"site\":\"nocal.example\","
	    "\"count\":9}]"), REPORT_SRC_DAY, "2026-11-02");
	add(agg, &r, day_line("ns2", "2026-11-03", "b", 100, 10, 40, 5,
	    "[{\"site\":\"often.example\",\"category\":\"malware\","
	    "\"count\":2,\"clients_at_least\":5}]"), REPORT_SRC_DAY,
	    "2026-11-03");
	assert_int_equal(site(agg, "a", "often.example"), 20);
	assert_int_equal(site(agg, "a", "seldom.example"), 0);
	assert_int_equal(site(agg, "a", "nocal.example"), 0);
	assert_int_equal(report_agg_board(agg, "a")->sites.len, 1);
	/* What is not named is counted as hidden. */
	assert_int_equal(report_agg_board(agg, "a")->hidden, 3 + 4 + 9);
	/* The threshold stated: the report's k, not the lax node's 3. */
	assert_int_equal(report_agg_threshold(agg, report_agg_board(agg, "a")),
	    5);
	/* Summed over boards, a named site adds up; nothing new is named. */
	all = report_agg_all(agg);
	assert_int_equal(all->sites.len, 1);
	assert_non_null(report_map_find(&all->sites, "often.example", 13));
	assert_int_equal(report_map_find(&all->sites, "often.example",
	    13)->n, 22);
	assert_string_equal(report_map_find(&all->sites, "often.example",
	    13)->str, "malware");
	report_agg_board_free(all);
	report_agg_free(agg);

	/* A stricter report (k 7) does not name the site with 6 either. */
	agg = report_agg_new(day("2026-11-01"), day("2026-11-30"), 7, NULL);
	add(agg, &r, day_line("ns1", "2026-11-02", "a", 1000, 100, 40, 5,
	    "[{\"site\":\"often.example\",\"category\":\"malware\","
	    "\"count\":20,\"clients_at_least\":6}]"), REPORT_SRC_DAY,
	    "2026-11-02");
	assert_int_equal(site(agg, "a", "often.example"), 0);
	assert_int_equal(report_agg_threshold(agg, report_agg_board(agg, "a")),
	    7);
	report_agg_free(agg);
	report_rec_clear(&r);
}

static void
test_records(void **state)
{
	static const char *const bad[] = {
		"",
		"not json",
		"[1,2]",
		"{\"v\":1,\"type\":\"day\"}",
		/* a count that is not a count */
		"{\"v\":1,\"type\":\"day\",\"start\":\"2026-11-02T00:00:00Z\","
		"\"end\":\"2026-11-03T00:00:00Z\",\"board\":\"a\","
		"\"queries\":\"veel\"}",
		"{\"v\":1,\"type\":\"day\",\"start\":\"2026-11-02T00:00:00Z\","
		"\"end\":\"2026-11-03T00:00:00Z\",\"board\":\"a\","
		"\"queries\":-1}",
		/* no board */
		"{\"v\":1,\"type\":\"day\",\"start\":\"2026-11-02T00:00:00Z\","
		"\"end\":\"2026-11-03T00:00:00Z\",\"queries\":1}",
		/* a bad time */
		"{\"v\":1,\"type\":\"day\",\"start\":\"gisteren\","
		"\"end\":\"2026-11-03T00:00:00Z\",\"board\":\"a\",\"queries\":1}",
		/* an interval record in a day file */
		"{\"v\":1,\"type\":\"board\",\"start\":\"2026-11-02T00:00:00Z\","
		"\"end\":\"2026-11-02T00:05:00Z\",\"board\":\"a\",\"queries\":1}",
		/* a histogram of 15 */
		"{\"v\":1,\"type\":\"day\",\"start\":\"2026-11-02T00:00:00Z\","
		"\"end\":\"2026-11-03T00:00:00Z\",\"board\":\"a\",\"queries\":1,"
		"\"latency\":{\"le\":[1,2,3,4,5,6,7,8,9,10,11,12,13,14,\"+Inf\"],"
		"\"cache\":[0,0,0,0,0,0,0,0,0,0,0,0,0,0,0],"
		"\"forwarded\":[0,0,0,0,0,0,0,0,0,0,0,0,0,0,0]}}",
		/* a site that is not a string */
		"{\"v\":1,\"type\":\"day\",\"start\":\"2026-11-02T00:00:00Z\","
		"\"end\":\"2026-11-03T00:00:00Z\",\"board\":\"a\",\"queries\":1,"
		"\"top_blocked\":[{\"site\":5,\"count\":1}]}",
		/* answers as a count, in a board's record */
		"{\"v\":1,\"type\":\"day\",\"start\":\"2026-11-02T00:00:00Z\","
		"\"end\":\"2026-11-03T00:00:00Z\",\"board\":\"a\",\"queries\":1,"
		"\"answers\":1}",
		/* trailing garbage */
		"{\"v\":1,\"type\":\"day\",\"start\":\"2026-11-02T00:00:00Z\","
		"\"end\":\"2026-11-03T00:00:00Z\",\"board\":\"a\",\"queries\":1}x",
	};
	struct report_rec	 r;
	const char		*why, *ok;
	size_t			 i;

	(void)state;
	report_rec_init(&r);
	for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		assert_int_equal(report_rec_parse(&r, bad[i], strlen(bad[i]),
		    REPORT_SRC_DAY, &why), REPORT_PARSE_INVALID);
		assert_non_null(why);
	}
	/* Unknown fields, at any depth, are skipped. */
	ok = "{\"v\":1,\"type\":\"day\",\"start\":\"2026-11-02T00:00:00Z\","
	    "\"end\":\"2026-11-03T00:00:00Z\",\"board\":\"a\\u0062\","
	    "\"future\":{\"x\":[1,{\"y\":null}]},\"answers\":{\"new\":[1],"
	    "\"cache\":3,\"dropped\":2},\"queries\":4,\"top_blocked\":[{\"site\":\"s.example\","
	    "\"count\":2,\"clients_at_least\":9,\"extra\":{}}]}";
	assert_int_equal(report_rec_parse(&r, ok, strlen(ok), REPORT_SRC_DAY,
	    &why), REPORT_PARSE_OK);
	assert_string_equal(r.board, "ab");
	assert_int_equal(r.queries, 4);
	assert_int_equal(r.answers[0], 3);
	assert_int_equal(r.answers[7], 2);	/* dropped */
	assert_int_equal(r.ntop, 1);
	assert_int_equal(r.top[0].clients_at_least, 9);
	/* An upstream's record as veiligd writes it: answers a count. */
	ok = "{\"v\":1,\"type\":\"day-upstream\",\"node\":\"ns1\","
	    "\"start\":\"2026-11-29T20:14:49+00:00\",\"end\":"
	    "\"2026-11-29T20:14:51+00:00\",\"seconds\":2,\"upstream\":"
	    "\"127.0.0.1:57007\",\"queries\":2,\"answers\":2,\"timeouts\":0,"
	    "\"errors\":0,\"mismatched\":0,\"tcp\":0,\"rtt\":{\"le\":[0.0001,"
	    "0.00025,0.0005,0.001,0.0025,0.005,0.01,0.025,0.05,0.1,0.25,0.5,"
	    "1.0,2.5,5.0,\"+Inf\"],\"counts\":[0,0,0,1,0,0,1,0,0,0,0,0,0,0,0,"
	    "0]}}";
	assert_int_equal(report_rec_parse(&r, ok, strlen(ok), REPORT_SRC_DAY,
	    &why), REPORT_PARSE_OK);
	assert_string_equal(r.upstream, "127.0.0.1:57007");
	assert_int_equal(r.queries, 2);
	/* A newer format is refused, not skipped. */
	ok = "{\"v\":2,\"type\":\"something\"}";
	assert_int_equal(report_rec_parse(&r, ok, strlen(ok), REPORT_SRC_DAY,
	    &why), REPORT_PARSE_NEWER);
	report_rec_clear(&r);
}

/* ------------------------------------------------------------ files */

static int
rm_one(const char *p, const struct stat *sb, int flag, struct FTW *ftw)
{
	(void)sb;
	(void)flag;
	(void)ftw;
	return (remove(p));
}

static int
setup(void **state)
{
	(void)state;
	snprintf(tmp, sizeof tmp, "/tmp/test_report.XXXXXX");
	return (mkdtemp(tmp) == NULL ? -1 : 0);
}

static int
teardown(void **state)
{
	(void)state;
	if (tmp[0] != '\0')
		nftw(tmp, rm_one, 16, FTW_DEPTH | FTW_PHYS);
	return (0);
}

/* A fresh node directory dir/name. */
static const char *
node_dir(const char *name)
{
	static char	p[128];
	char		cmd[256];

	snprintf(p, sizeof p, "%s/%s", tmp, name);
	snprintf(cmd, sizeof cmd, "rm -rf %s", p);
	assert_int_equal(system(cmd), 0);
	assert_int_equal(mkdir(p, 0755), 0);
	return (p);
}

static FILE *
open_file(const char *dir, const char *name)
{
	char	 p[256];
	FILE	*f;

	snprintf(p, sizeof p, "%s/%s", dir, name);
	f = fopen(p, "w");
	assert_non_null(f);
	return (f);
}

/* An interval record of board a at hh:mm for 5 minutes. */
static void
interval(FILE *f, int hh, int mm, unsigned q, unsigned cday)
{
	fprintf(f, "{\"v\":1,\"type\":\"board\",\"node\":\"ns1\",\"start\":"
	    "\"2026-11-02T%02d:%02d:00+01:00\",\"end\":\"2026-11-02T%02d:%02d:00"
	    "+01:00\",\"seconds\":300,\"board\":\"a\",\"queries\":%u,"
	    "\"answers\":{\"blocked\":1},\"clients\":3,\"clients_day\":%u,"
	    "\"k\":5}\n", hh, mm, mm == 55 ? hh + 1 : hh, (mm + 5) % 60, q,
	    cday);
}

static void
test_crashed_part(void **state)
{
	struct report_read_stats st;
	struct report_agg	*agg;
	const char		*dir;
	char			*cause = NULL;
	FILE			*f;
	int			 h, m;

	(void)state;
	dir = node_dir("crash");
	/*
	 * Process A ran 00:00-09:00 and stopped (summary), B ran 09:00 to
	 * about 13:00 and was killed (intervals only), C ran 13:00-24:00
	 * (summary). Every interval of the day is in the interval file, with
	 * 1000 queries each in the covered parts and 1 in B's gap.
	 */
	f = open_file(dir, "2026-11-02.day.jsonl");
	fprintf(f, "{\"v\":1,\"type\":\"day\",\"node\":\"ns1\",\"start\":"
	    "\"2026-11-02T00:00:00+01:00\",\"end\":\"2026-11-02T09:00:00+01:00\","
	    "\"board\":\"a\",\"queries\":500,\"clients\":30,\"intervals\":108}\n");
	fprintf(f, "{\"v\":1,\"type\":\"day\",\"node\":\"ns1\",\"start\":"
	    "\"2026-11-02T13:00:00+01:00\",\"end\":\"2026-11-03T00:00:00+01:00\","
	    "\"board\":\"a\",\"queries\":700,\"clients\":40,\"intervals\":132}\n");
	fclose(f);
	f = open_file(dir, "2026-11-02.jsonl");
	for (h = 0; h < 24; h++) {
		for (m = 0; m < 60; m += 5) {
			if (h >= 9 && h < 13)
				/* clients_day of B grows to 48 */
				interval(f, h, m, 1, (unsigned)((h - 9) * 12 +
				    m / 5 + 1));
			else
				interval(f, h, m, 1000, 999);
		}
	}
	fclose(f);

	agg = report_agg_new(day("2026-11-01"), day("2026-11-30"), 5, NULL);
	memset(&st, 0, sizeof st);
	assert_int_equal(report_read_dir(agg, dir, &st, &cause), 0);
	/* Both summaries plus the 48 intervals of the gap, nothing twice. */
	assert_int_equal(col(agg, "a", "2026-11-02", REPORT_QUERIES),
	    500 + 700 + 48);
	/* Clients: each summary's, plus the largest clients_day of B. */
	assert_int_equal(col(agg, "a", "2026-11-02", REPORT_CLIENTS),
	    30 + 40 + 48);
	assert_true(report_agg_board(agg, "a")->summed);
	/* The covered intervals were passed over, not parsed. */
	assert_true(st.lines < 2 + 48 + 10);
	assert_int_equal(st.uncovered, 1);
	assert_int_equal(agg->corrupt, 0);
	report_agg_free(agg);
}

static void
test_corrupt_lines(void **state)
{
	struct report_read_stats st;
	struct report_agg	*agg;
	const char		*dir;
	char			*cause = NULL;
	FILE			*f;

	(void)state;
	dir = node_dir("corrupt");
	f = open_file(dir, "2026-11-02.day.jsonl");
	fprintf(f, "%s\n", day_line("ns1", "2026-11-02", "a", 100, 1, 5, 5,
	    ""));
	fprintf(f, "{\"v\":1,\"type\":\"day\",\"board\":\"a\",\"queries\":1,,}\n");
	fprintf(f, "{\"v\":1,\"type\":\"day\",\"node\":\"ns1\",\"start\":"
	    "\"2026-11-02T00:00:00+01:00\",\"end\":\"2026-11-03T00:00:00+01:00\","
	    "\"board\":\"a\",\"queries\":\"veel\"}\n");
	fprintf(f, "%s\n", day_line("ns1", "2026-11-02", "b", 200, 1, 5, 5,
	    ""));
	fclose(f);
	/* A day with no summary whose last line was cut short. */
	f = open_file(dir, "2026-11-03.jsonl");
	fprintf(f, "{\"v\":1,\"type\":\"board\",\"node\":\"ns1\",\"start\":"
	    "\"2026-11-03T10:00:00+01:00\",\"end\":\"2026-11-03T10:05:00+01:00\","
	    "\"board\":\"a\",\"queries\":7,\"clients_day\":2}\n");
	fprintf(f, "{\"v\":1,\"type\":\"board\",\"node\":\"ns1\",\"start\":"
	    "\"2026-11-03T10:05:00+01:00\",\"end\":\"2026-11-03T10:10:00+01:00\","
	    "\"board\":\"a\",\"queries\":9,\"clients_day\":3}");
	fclose(f);

	agg = report_agg_new(day("2026-11-01"), day("2026-11-30"), 5, NULL);
	memset(&st, 0, sizeof st);
	assert_int_equal(report_read_dir(agg, dir, &st, &cause), 0);
	assert_int_equal(agg->corrupt, 3);
	/* The lines around them still count. */
	assert_int_equal(col(agg, "a", "2026-11-02", REPORT_QUERIES), 100);
	assert_int_equal(col(agg, "b", "2026-11-02", REPORT_QUERIES), 200);
	assert_int_equal(col(agg, "a", "2026-11-03", REPORT_QUERIES), 7);
	/* Corrupt lines that name a board are that board's. */
	assert_int_equal(report_agg_board(agg, "a")->corrupt, 3);
	report_agg_free(agg);

	/* A newer format stops the reading with the file and line. */
	f = open_file(dir, "2026-11-04.day.jsonl");
	fprintf(f, "{\"v\":2,\"type\":\"day\"}\n");
	fclose(f);
	agg = report_agg_new(day("2026-11-01"), day("2026-11-30"), 5, NULL);
	assert_int_equal(report_read_dir(agg, dir, &st, &cause), -1);
	assert_non_null(strstr(cause, "2026-11-04.day.jsonl:1"));
	free(cause);
	report_agg_free(agg);

	/* A directory that is not there, or holds no statistics. */
	assert_int_equal(report_read_check("/nonexistent/stats", &cause), -1);
	assert_non_null(strstr(cause, "No such file"));
	free(cause);
	dir = node_dir("empty");
	assert_int_equal(report_read_check(dir, &cause), -1);
	assert_non_null(strstr(cause, "no statistics files"));
	free(cause);
}

static void
test_one_board(void **state)
{
	struct report_read_stats st;
	struct report_agg	*agg;
	const char		*dir;
	char			*cause = NULL;
	FILE			*f;

	(void)state;
	dir = node_dir("one");
	f = open_file(dir, "2026-11-02.day.jsonl");
	fprintf(f, "%s\n", day_line("ns1", "2026-11-02", "a", 100, 1, 5, 5, ""));
	fprintf(f, "%s\n", day_line("ns1", "2026-11-02", "b", 200, 1, 5, 5, ""));
	fclose(f);
	agg = report_agg_new(day("2026-11-01"), day("2026-11-30"), 5, "b");
	memset(&st, 0, sizeof st);
	assert_int_equal(report_read_dir(agg, dir, &st, &cause), 0);
	assert_int_equal(agg->nboards, 1);
	assert_null(report_agg_board(agg, "a"));
	assert_int_equal(col(agg, "b", "2026-11-02", REPORT_QUERIES), 200);
	/* Board a's line was passed over on a look at its first fields. */
	assert_int_equal(st.skipped, 1);
	report_agg_free(agg);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sum_days),
		cmocka_unit_test(test_merged_nodes),
		cmocka_unit_test(test_k_through_merging),
		cmocka_unit_test(test_records),
		cmocka_unit_test(test_crashed_part),
		cmocka_unit_test(test_corrupt_lines),
		cmocka_unit_test(test_one_board),
	};

	return (cmocka_run_group_tests(tests, setup, teardown));
}
