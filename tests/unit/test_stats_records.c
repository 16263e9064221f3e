/*
 * test_stats_records.c: the records an interval's and a day's close
 * write (jsonw.c, straight into a buffer) are byte for byte the lines
 * json_dumps() made of the jansson objects the close built before
 * (stats_records_pair() has both write them), for boards whose ids and
 * names need escapes (quotes, backslashes, control characters, UTF-8 of
 * every length, DEL, octets that are not UTF-8), sites named over k and
 * hidden under it, near-empty counters, queries of no board with empty
 * country and AS tables, upstreams; the files the close writes are those
 * lines, and veilig-report's parser (report_rec.c) reads every one of
 * them back with the names as they were.
 */
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "conf.h"
#include "report_rec.h"
#include "stats.h"
#include "statsfile.h"
#include "tdir.h"

#define NBOARDS		7

/* Ids (file names) and names; the board each test query goes to. */
static const char *const ids[NBOARDS] = {
	"alpha",
	"q\"b\\s",
	"caf\xc3\xa9-\xe2\x98\x95",
	"ctl",
	"bad",
	"quiet",
	"idle",
};
static const char *const names[NBOARDS] = {
	"Plain board",
	"Quote \" back\\slash / slash",
	"Caf\xc3\xa9 \xf0\x9d\x84\x9e \xe2\x82\xac DEL\x7f",
	"tab\there new\nline cr\r bs\b ff\f \x01\x1f\x1b end",
	/* Not UTF-8: jansson left the name out, and so must we. */
	"latin-1 caf\xe9 \xc0\x80",
	"Quiet",
	"Idle board",
};
enum { ALPHA, QUOTE, CAFE, CTL, BAD, QUIET, IDLE };

struct rconf {
	struct conf		 c;
	struct conf_board	 b[NBOARDS];
	struct conf_sockaddr	 up;
	struct tdir		 dir;
};

static void
rconf_init(struct rconf *t)
{
	struct sockaddr_in	*sin = (struct sockaddr_in *)&t->up.ss;
	char			 path[128];
	size_t			 i;

	memset(t, 0, sizeof *t);
	tdir_new(&t->dir, "test_stats_records", NULL);
	t->c.stats_dir = t->dir.path;
	t->c.stats_interval = 300;
	t->c.stats_k = 3;
	t->c.stats_top = 2;
	t->c.stats_retention = 400;
	t->c.stats_node = (char *)"node \"7\"/\xc3\xa9";
	/* Tables of countries and AS, empty: no database is opened. */
	t->c.geoip_country = (char *)"country.mmdb";
	t->c.geoip_asn = (char *)"asn.mmdb";
	sin->sin_family = AF_INET;
	sin->sin_port = htons(53);
	inet_pton(AF_INET, "192.0.2.53", &sin->sin_addr);
	t->c.upstreams = &t->up;
	t->c.nupstreams = 1;
	t->c.boards = t->b;
	t->c.nboards = NBOARDS;
	for (i = 0; i < NBOARDS; i++) {
		snprintf(path, sizeof path, "/etc/veilig/boards/%s.yaml",
		    ids[i]);
		t->b[i].path = strdup(path);
		t->b[i].name = strdup(names[i]);
	}
}

static void
rconf_clear(struct rconf *t)
{
	size_t	i;

	for (i = 0; i < NBOARDS; i++) {
		free(t->b[i].path);
		free(t->b[i].name);
	}
	tdir_free(&t->dir);
}

/* One query of board from client 192.0.2.n. */
static void
ask(struct stats_worker *w, const struct stats_map *m, int board,
    unsigned n, const char *name, enum stats_answer how, int cat, int rcode,
    unsigned limited)
{
	struct sockaddr_storage	 ss;
	struct sockaddr_in	*sin = (struct sockaddr_in *)&ss;
	struct stats_query	 q;
	uint8_t			 wire[256];

	memset(&ss, 0, sizeof ss);
	sin->sin_family = AF_INET;
	sin->sin_addr.s_addr = htonl(0xc0000200 | (n & 0xff));
	memset(&q, 0, sizeof q);
	q.from = (const struct sockaddr *)&ss;
	q.name_len = tname(name, wire, sizeof wire);
	q.lname = wire;
	q.qtype = how == STATS_DROPPED ? 99 : 1;
	q.answer = how;
	q.category = cat;
	q.rcode = rcode;
	q.upstream = how == STATS_FORWARDED;
	q.ns = how == STATS_FORWARDED ? 20000000 : 50000;
	q.limited = limited;
	stats_count(w, m, board, &q);
}

/*
 * Queries for every board but idle: sites over k and under it (one of
 * odd octets, which the site's text escapes), a near-empty board, the
 * queries of no board, an upstream's.
 */
static void
feed(struct stats_worker *w, const struct stats_map *m)
{
	struct sockaddr_storage	 up;
	struct sockaddr_in	*sin = (struct sockaddr_in *)&up;
	unsigned		 c;
	int			 b;

	stats_worker_begin(w, 0);
	for (b = ALPHA; b <= BAD; b++) {
		for (c = 1; c <= 6; c++) {
			ask(w, m, b, c, "www.example.nl", STATS_CACHE, -1, 0,
			    0);
			ask(w, m, b, c, "www.example.org", STATS_FORWARDED,
			    -1, 0, 0);
		}
		/* Named: 4 clients; 3; hidden: 2. */
		for (c = 1; c <= 4; c++)
			ask(w, m, b, c, "ads.tracker.example.com",
			    STATS_BLOCKED, STATS_CAT_DENY, 3, 0);
		for (c = 1; c <= 3; c++)
			ask(w, m, b, c, "x.we\"ird\\\xc3\xa9.com",
			    STATS_BLOCKED, STATS_CAT_DENY, 3, 0);
		for (c = 1; c <= 2; c++)
			ask(w, m, b, c, "secret.example.org", STATS_BLOCKED,
			    STATS_CAT_CANARY, 3, 0);
		ask(w, m, b, 9, "slow.example", STATS_REFUSED, -1, 2,
		    1U << STATS_LIM_FORWARDED);
	}
	/* No rcode, no category, no limit: objects left empty. */
	ask(w, m, QUIET, 1, "x.example", STATS_DROPPED, -1, -1, 0);
	for (c = 0; c < 3; c++)
		ask(w, m, STATS_OUTSIDE, 200 + c, "www.example.nl",
		    STATS_REFUSED, -1, 5, c == 0 ? 1U << STATS_LIM_RRL_DROPPED :
		    0);
	memset(&up, 0, sizeof up);
	sin->sin_family = AF_INET;
	sin->sin_port = htons(53);
	inet_pton(AF_INET, "192.0.2.53", &sin->sin_addr);
	stats_upstream(w, &up, STATS_UP_SENT, 0);
	stats_upstream(w, &up, STATS_UP_SENT_TCP, 0);
	stats_upstream(w, &up, STATS_UP_ANSWER, 3000000);
	stats_upstream(w, &up, STATS_UP_TIMEOUT, 0);
	stats_upstream(w, &up, STATS_UP_SCRUBBED, 2);
	stats_worker_end(w);
}

/* The whole of the file of t (day: summaries); "" when there is none. */
static char *
file_text(const char *dir, time_t t, int day)
{
	char	 name[64], path[512], *buf;
	long	 len;
	FILE	*f;

	statsfile_name(t, day, name, sizeof name);
	snprintf(path, sizeof path, "%s/%s", dir, name);
	if ((f = fopen(path, "r")) == NULL)
		return (strdup(""));
	fseek(f, 0, SEEK_END);
	len = ftell(f);
	rewind(f);
	buf = malloc((size_t)len + 1);
	assert_non_null(buf);
	assert_int_equal(fread(buf, 1, (size_t)len, f), (size_t)len);
	buf[len] = '\0';
	fclose(f);
	return (buf);
}

/* The close's lines and the reference's, the same and not empty. */
static void
same_records(const char *ours, const char *ref)
{
	if (strcmp(ours, ref) != 0)
		fail_msg("jsonw:\n%s\njansson:\n%s", ours, ref);
	assert_true(strlen(ours) > 0);
}

/*
 * Every line of text read by veilig-report's parser; lines counted by
 * type into n[3]; the boards' names as they were (the one not UTF-8
 * left out).
 */
static void
report_reads(const char *text, enum report_src src, size_t n[3])
{
	struct report_rec	 r;
	const char		*p = text, *nl, *why;
	size_t			 i;

	report_rec_init(&r);
	n[0] = n[1] = n[2] = 0;
	for (; (nl = strchr(p, '\n')) != NULL; p = nl + 1) {
		if (report_rec_parse(&r, p, (size_t)(nl - p), src, &why) !=
		    REPORT_PARSE_OK)
			fail_msg("report_rec_parse: %s: %.*s", why,
			    (int)(nl - p), p);
		n[r.type]++;
		assert_string_equal(r.node, "node \"7\"/\xc3\xa9");
		if (r.type != REPORT_T_BOARD)
			continue;
		for (i = 0; i < NBOARDS; i++)
			if (strcmp(r.board, ids[i]) == 0)
				break;
		assert_true(i < NBOARDS);
		if (i == BAD)
			assert_null(r.name);
		else
			assert_string_equal(r.name, names[i]);
	}
	assert_int_equal(*p, '\0');
	report_rec_clear(&r);
}

/* The texts that show the escapes were met, in the interval's lines. */
static void
has_cases(const char *s)
{
	static const char *const want[] = {
		"\"board\":\"q\\\"b\\\\s\"",
		"\"name\":\"Quote \\\" back\\\\slash / slash\"",
		"\"name\":\"Caf\xc3\xa9 \xf0\x9d\x84\x9e \xe2\x82\xac DEL\x7f\"",
		"\"name\":\"tab\\there new\\nline cr\\r bs\\b ff\\f "
		    "\\u0001\\u001F\\u001B end\"",
		"\"board\":\"bad\",\"queries\"",
		"\"rcode\":{},",
		"\"limited\":{},",
		"\"limited\":{\"forwarded\":1}",
		"\"le\":[0.0001,0.00025,",
		",1.0,2.5,5.0,\"+Inf\"]",
		"\"site\":\"example.com\",\"category\":\"deny\","
		    "\"count\":4,\"clients_at_least\":3}",
		"\"top_blocked_hidden\":{\"sites\":",
		/* A site's text escapes octets as \DDD, and keeps '"'. */
		"\"site\":\"we\\\"ird\\\\092\\\\195\\\\169.com\"",
		"\"country\":{},\"as\":{}",
		"\"type\":\"outside\"",
		"\"type\":\"upstream\"",
		"\"upstream\":\"192.0.2.53:53\"",
	};
	size_t	i;

	for (i = 0; i < sizeof want / sizeof want[0]; i++)
		if (strstr(s, want[i]) == NULL)
			fail_msg("no %s in\n%s", want[i], s);
	/* The idle board has no queries, so no record. */
	assert_null(strstr(s, "\"Idle board\""));
}

/* Statistics begun within one second t (the interval's start). */
static struct stats *
stats_at(struct rconf *t, time_t *now)
{
	struct stats	*st;
	char		*cause;
	int		 tries;

	for (tries = 0; tries < 10; tries++) {
		*now = time(NULL);
		st = stats_new(&t->c, 1, &cause);
		assert_non_null(st);
		if (time(NULL) == *now)
			return (st);
		stats_free(st);
	}
	fail_msg("no second held a stats_new()");
	return (NULL);
}

static void
test_records_as_jansson(void **state)
{
	struct rconf		 t;
	struct stats		*st;
	struct stats_map	*m;
	char			*ours, *ref, *file;
	size_t			 n[3];
	time_t			 t0, end, dend;

	(void)state;
	rconf_init(&t);
	st = stats_at(&t, &t0);
	m = stats_map_new(st, &t.c, NULL);
	assert_non_null(m);
	feed(stats_worker(st, 0), m);
	/* Folded at the interval's first second: nothing closes. */
	stats_tick(st, t0);
	assert_string_equal((file = file_text(t.dir.path, t0, 0)), "");
	free(file);

	/* The interval: as jansson wrote it, and as the close writes it. */
	end = t0 + 10;
	assert_int_equal(stats_records_pair(st, end, 0, &ours, &ref), 0);
	same_records(ours, ref);
	has_cases(ours);
	stats_flush(st, end, 0);
	file = file_text(t.dir.path, t0, 0);
	assert_string_equal(file, ours);
	report_reads(file, REPORT_SRC_INTERVAL, n);
	assert_int_equal(n[REPORT_T_BOARD], NBOARDS - 1);
	assert_int_equal(n[REPORT_T_OUTSIDE], 1);
	assert_int_equal(n[REPORT_T_UPSTREAM], 1);
	free(ours);
	free(ref);
	free(file);

	/* The day part: its summaries, with the sites its interval named. */
	dend = end + 5;
	assert_int_equal(stats_records_pair(st, dend, 1, &ours, &ref), 0);
	same_records(ours, ref);
	assert_non_null(strstr(ours, "\"type\":\"day\""));
	assert_non_null(strstr(ours, "\"type\":\"day-outside\""));
	assert_non_null(strstr(ours, "\"type\":\"day-upstream\""));
	assert_non_null(strstr(ours, "\"intervals\":1}"));
	assert_non_null(strstr(ours, "\"site\":\"example.com\""));
	stats_flush(st, dend, 1);
	file = file_text(t.dir.path, t0, 1);
	assert_string_equal(file, ours);
	report_reads(file, REPORT_SRC_DAY, n);
	assert_int_equal(n[REPORT_T_BOARD], NBOARDS - 1);
	assert_int_equal(n[REPORT_T_OUTSIDE], 1);
	assert_int_equal(n[REPORT_T_UPSTREAM], 1);
	free(ours);
	free(ref);
	free(file);

	/* Nothing open now: no records, both ways. */
	assert_int_equal(stats_records_pair(st, dend + 1, 0, &ours, &ref), 0);
	assert_string_equal(ours, "");
	assert_string_equal(ref, "");
	free(ours);
	free(ref);
	stats_map_free(m);
	stats_free(st);
	rconf_clear(&t);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_records_as_jansson),
	};

	return (cmocka_run_group_tests(tests, NULL, NULL));
}
