/*
 * test_stats.c: the statistics from counting to the files: records per
 * board and interval read back as JSON (the round trip), the k-anonymity
 * of top blocked sites, day summaries, boards that keep their counts when
 * a reload renumbers them, interval and day boundaries, a worker thread
 * counting while main flips and folds (nothing lost), the daemon's fold
 * and close in slices (the same records as at once), the Prometheus text
 * parsed back, the answers limits cut short, and no client address in
 * anything written.
 */
#include <sys/socket.h>
#include <sys/stat.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <event2/buffer.h>
#include <jansson.h>

#include "conf.h"
#include "metrics.h"
#include "snapshot.h"
#include "stats.h"
#include "statsfile.h"
#include "tdir.h"

#define STATS_TEST_BOARDS	40	/* test_close_slices: batches of 16 */

/* A configuration of boards (ids) written by hand: no files needed. */
struct tconf {
	struct conf		 c;
	struct conf_board	 b[STATS_TEST_BOARDS];
	struct tdir		 dir;
};

static void
tconf_init(struct tconf *t, const char *const *ids, size_t n, unsigned k)
{
	char	path[128], name[64];
	size_t	i;

	memset(t, 0, sizeof *t);
	tdir_new(&t->dir, "test_stats", NULL);
	t->c.stats_dir = t->dir.path;
	t->c.stats_interval = 300;
	t->c.stats_k = k;
	t->c.stats_top = 2;
	t->c.stats_retention = 400;
	t->c.stats_node = (char *)"test-node";
	t->c.boards = t->b;
	t->c.nboards = n;
	for (i = 0; i < n; i++) {
		snprintf(path, sizeof path, "/etc/veilig/boards/%s.yaml",
		    ids[i]);
		snprintf(name, sizeof name, "Board %s", ids[i]);
		t->b[i].path = strdup(path);
		t->b[i].name = strdup(name);
	}
}

static void
tconf_set(struct tconf *t, const char *const *ids, size_t n)
{
	char	path[128], name[64];
	size_t	i;

	for (i = 0; i < t->c.nboards; i++) {
		free(t->b[i].path);
		free(t->b[i].name);
	}
	t->c.nboards = n;
	for (i = 0; i < n; i++) {
		snprintf(path, sizeof path, "/etc/veilig/boards/%s.yaml",
		    ids[i]);
		snprintf(name, sizeof name, "Board %s", ids[i]);
		t->b[i].path = strdup(path);
		t->b[i].name = strdup(name);
	}
}

static void
tconf_clear(struct tconf *t)
{
	size_t	i;

	for (i = 0; i < t->c.nboards; i++) {
		free(t->b[i].path);
		free(t->b[i].name);
	}
	tdir_free(&t->dir);
}

/* A client address 192.0.2.n (n < 256) or 2001:db8::n. */
static const struct sockaddr *
client(struct sockaddr_storage *ss, unsigned n, int v6)
{
	struct sockaddr_in	*sin = (struct sockaddr_in *)ss;
	struct sockaddr_in6	*sin6 = (struct sockaddr_in6 *)ss;

	memset(ss, 0, sizeof *ss);
	if (v6) {
		sin6->sin6_family = AF_INET6;
		inet_pton(AF_INET6, "2001:db8::", &sin6->sin6_addr);
		sin6->sin6_addr.s6_addr[14] = (uint8_t)(n >> 8);
		sin6->sin6_addr.s6_addr[15] = (uint8_t)n;
	} else {
		sin->sin_family = AF_INET;
		sin->sin_addr.s_addr = htonl(0xc0000200 | (n & 0xff));
	}
	return ((const struct sockaddr *)ss);
}

/* Count one query of board (index in the map) from client n. */
static void
ask(struct stats_worker *w, const struct stats_map *m, int board, unsigned n,
    const char *name, uint16_t qtype, enum stats_answer how, int cat,
    int rcode)
{
	struct sockaddr_storage	ss;
	struct stats_query	q;
	uint8_t			wire[256];

	memset(&q, 0, sizeof q);
	q.from = client(&ss, n, n >= 256);
	q.name_len = tname(name, wire, sizeof wire);
	q.lname = wire;
	q.qtype = qtype;
	q.answer = how;
	q.category = cat;
	q.rcode = rcode;
	q.upstream = how == STATS_FORWARDED;
	q.ns = how == STATS_FORWARDED ? 20000000 : 50000;
	stats_count(w, m, board, &q);
}

/* Every record of the file dir/name (of the local date of t), parsed. */
static json_t *
records(const char *dir, time_t t, int day)
{
	char	 name[64], path[256], *line = NULL;
	size_t	 cap = 0;
	ssize_t	 n;
	json_t	*a = json_array(), *o;
	FILE	*f;
	json_error_t err;

	statsfile_name(t, day, name, sizeof name);
	snprintf(path, sizeof path, "%s/%s", dir, name);
	if ((f = fopen(path, "r")) == NULL)
		return (a);
	while ((n = getline(&line, &cap, f)) > 0) {
		/* Every line whole, and one JSON object. */
		assert_int_equal(line[n - 1], '\n');
		o = json_loads(line, 0, &err);
		if (o == NULL)
			fail_msg("%s: %s: %s", path, err.text, line);
		assert_true(json_is_object(o));
		json_array_append_new(a, o);
	}
	free(line);
	fclose(f);
	return (a);
}

/* Whether o is of type and of board (any board when NULL). */
static int
record_is(json_t *o, const char *type, const char *board)
{
	if (strcmp(json_string_value(json_object_get(o, "type")), type) != 0)
		return (0);
	return (board == NULL || (json_object_get(o, "board") != NULL &&
	    strcmp(json_string_value(json_object_get(o, "board")),
	    board) == 0));
}

/* The record of type and board (or upstream) in a, or NULL. */
static json_t *
record(json_t *a, const char *type, const char *board)
{
	json_t	*o;
	size_t	 i;

	json_array_foreach(a, i, o) {
		if (record_is(o, type, board))
			return (o);
	}
	return (NULL);
}

/* An integer at a path of keys ("answers", "cache"), -1 if missing. */
static long long
num(json_t *o, const char *k1, const char *k2)
{
	json_t	*v = json_object_get(o, k1);

	if (v != NULL && k2 != NULL)
		v = json_object_get(v, k2);
	return (v != NULL && json_is_integer(v) ? json_integer_value(v) : -1);
}

/* grep: is s anywhere in the files of dir? */
static int
dir_has(const char *dir, const char *s)
{
	char	 cmd[512];

	snprintf(cmd, sizeof cmd, "grep -rqF '%s' %s", s, dir);
	return (system(cmd) == 0);
}

static void
test_interval_records(void **state)
{
	static const char *const ids[] = { "alpha", "beta" };
	struct tconf		 t;
	struct stats		*st;
	struct stats_map	*m;
	struct stats_worker	*w0, *w1;
	json_t			*a, *o, *top, *ia, *iv;
	char			*cause, ip[64];
	unsigned		 c;
	time_t			 now;

	(void)state;
	tconf_init(&t, ids, 2, 3);
	st = stats_new(&t.c, 2, &cause);
	assert_non_null(st);
	m = stats_map_new(st, &t.c, NULL);
	assert_non_null(m);
	w0 = stats_worker(st, 0);
	w1 = stats_worker(st, 1);
	stats_worker_begin(w0, 0);
	stats_worker_begin(w1, 0);

	/* alpha: 10 clients, 3 A from the cache each, over two workers. */
	for (c = 1; c <= 10; c++) {
		ask(w0, m, 0, c, "www.example.nl", 1, STATS_CACHE, -1, 0);
		ask(w1, m, 0, c, "www.example.nl", 1, STATS_CACHE, -1, 0);
		ask(w0, m, 0, c, "www.example.nl", 28, STATS_FORWARDED, -1,
		    0);
	}
	/* Blocked by the deny list: a site for 3 clients, one for 2. */
	for (c = 1; c <= 3; c++) {
		ask(w0, m, 0, c, "ads.tracker.example.com", 1, STATS_BLOCKED,
		    STATS_CAT_DENY, 3);
		ask(w1, m, 0, c, "cdn.tracker.example.com", 65,
		    STATS_BLOCKED, STATS_CAT_DENY, 3);
	}
	for (c = 1; c <= 2; c++)
		ask(w0, m, 0, c, "www.secret-site.org", 1, STATS_BLOCKED,
		    STATS_CAT_DENY, 3);
	/* A canary, and a dropped query. */
	ask(w1, m, 0, 300, "use-application-dns.net", 1, STATS_BLOCKED,
	    STATS_CAT_CANARY, 3);
	ask(w1, m, 0, 301, "x.example", 99, STATS_DROPPED, -1, -1);
	/* beta: two IPv6 clients; and three queries of no board. */
	ask(w1, m, 1, 0x1001, "www.example.nl", 16, STATS_FORWARDED, -1, 0);
	ask(w1, m, 1, 0x1002, "www.example.nl", 16, STATS_FORWARDED, -1, 0);
	for (c = 0; c < 3; c++)
		ask(w0, m, STATS_OUTSIDE, 200 + c, "www.example.nl", 1,
		    STATS_REFUSED, -1, 5);

	now = time(NULL);
	stats_flush(st, now, 1);

	a = records(t.dir.path, now, 0);
	o = record(a, "board", "alpha");
	assert_non_null(o);
	/* Field order as documented: v, type, node, start, end, seconds. */
	assert_string_equal(json_object_iter_key(json_object_iter(o)), "v");
	assert_int_equal(num(o, "v", NULL), 1);
	assert_string_equal(json_string_value(json_object_get(o, "node")),
	    "test-node");
	assert_string_equal(json_string_value(json_object_get(o, "name")),
	    "Board alpha");
	assert_int_equal(num(o, "queries", NULL), 30 + 6 + 2 + 2);
	assert_int_equal(num(o, "answers", "cache"), 20);
	assert_int_equal(num(o, "answers", "forwarded"), 10);
	assert_int_equal(num(o, "answers", "blocked"), 9);
	assert_int_equal(num(o, "answers", "dropped"), 1);
	assert_int_equal(num(o, "answers", "stale"), 0);
	assert_int_equal(num(o, "qtype", "A"), 20 + 3 + 2 + 1);
	assert_int_equal(num(o, "qtype", "AAAA"), 10);
	assert_int_equal(num(o, "qtype", "HTTPS"), 3);
	assert_int_equal(num(o, "qtype", "other"), 1);
	assert_int_equal(num(o, "rcode", "NOERROR"), 30);
	assert_int_equal(num(o, "rcode", "NXDOMAIN"), 9);
	assert_int_equal(num(o, "blocked", "deny"), 8);
	assert_int_equal(num(o, "blocked", "canary"), 1);
	/* 12 distinct clients: an estimate, within one this small. */
	assert_in_range(num(o, "clients", NULL), 11, 12);
	assert_in_range(num(o, "clients_day", NULL), 11, 12);
	assert_int_equal(num(o, "k", NULL), 3);
	assert_int_equal(json_integer_value(json_array_get(json_object_get(
	    json_object_get(o, "latency"), "forwarded"), 7)), 10);
	/* Two hosts of one site, three clients: named, once, as the site. */
	top = json_object_get(o, "top_blocked");
	assert_int_equal(json_array_size(top), 1);
	assert_string_equal(json_string_value(json_object_get(
	    json_array_get(top, 0), "site")), "example.com");
	assert_string_equal(json_string_value(json_object_get(
	    json_array_get(top, 0), "category")), "deny");
	assert_int_equal(num(json_array_get(top, 0), "count", NULL), 6);
	assert_int_equal(num(json_array_get(top, 0), "clients_at_least",
	    NULL), 3);
	/* Two clients only (below k) and the canary's one: hidden. */
	assert_int_equal(num(o, "top_blocked_hidden", "sites"), 2);
	assert_int_equal(num(o, "top_blocked_hidden", "count"), 3);

	o = record(a, "board", "beta");
	assert_non_null(o);
	assert_int_equal(num(o, "queries", NULL), 2);
	assert_in_range(num(o, "clients", NULL), 1, 2);
	assert_int_equal(num(o, "qtype", "TXT"), 2);
	o = record(a, "outside", NULL);
	assert_non_null(o);
	assert_int_equal(num(o, "queries", NULL), 3);
	assert_int_equal(num(o, "refused", NULL), 3);
	assert_null(json_object_get(o, "country"));
	json_decref(a);

	/* The day's summaries. */
	ia = records(t.dir.path, now, 0);
	iv = record(ia, "board", "alpha");
	a = records(t.dir.path, now, 1);
	o = record(a, "day", "alpha");
	assert_non_null(o);
	/* Stopped in the second it began: the interval is no empty
	   [now, now), and lies within the day part that sums it. */
	assert_true(strcmp(json_string_value(json_object_get(iv, "start")),
	    json_string_value(json_object_get(iv, "end"))) < 0);
	assert_true(strcmp(json_string_value(json_object_get(iv, "start")),
	    json_string_value(json_object_get(o, "end"))) < 0);
	assert_string_equal(json_string_value(json_object_get(iv, "end")),
	    json_string_value(json_object_get(o, "end")));
	assert_true(num(iv, "seconds", NULL) >= 1);
	json_decref(ia);
	assert_int_equal(num(o, "queries", NULL), 40);
	assert_int_equal(num(o, "intervals", NULL), 1);
	assert_in_range(num(o, "clients", NULL), 11, 12);
	assert_null(json_object_get(o, "clients_day"));
	top = json_object_get(o, "top_blocked");
	assert_int_equal(json_array_size(top), 1);
	assert_int_equal(num(o, "top_blocked_hidden", "count"), 3);
	assert_null(json_object_get(json_object_get(o, "top_blocked_hidden"),
	    "sites"));
	assert_non_null(record(a, "day-outside", NULL));
	json_decref(a);

	/* Nothing written names a client, or the site below k. */
	for (c = 1; c <= 10; c++) {
		snprintf(ip, sizeof ip, "192.0.2.%u", c);
		assert_false(dir_has(t.dir.path, ip));
	}
	assert_false(dir_has(t.dir.path, "2001:db8"));
	assert_false(dir_has(t.dir.path, "secret"));
	assert_false(dir_has(t.dir.path, "tracker"));

	stats_map_free(m);
	stats_free(st);
	tconf_clear(&t);
}

/* A reload renumbers boards: counts follow the ids, names update. */
static void
test_reload_keeps_boards(void **state)
{
	static const char *const ids1[] = { "alpha", "beta" };
	static const char *const ids2[] = { "gamma", "beta", "alpha" };
	struct tconf		 t;
	struct stats		*st;
	struct stats_map	*m1, *m2;
	struct stats_worker	*w;
	struct evbuffer		*out;
	json_t			*a;
	char			*cause, *text;
	time_t			 now;

	(void)state;
	tconf_init(&t, ids1, 2, 5);
	st = stats_new(&t.c, 1, &cause);
	m1 = stats_map_new(st, &t.c, NULL);
	w = stats_worker(st, 0);
	stats_worker_begin(w, 0);
	ask(w, m1, 0, 1, "a.example", 1, STATS_CACHE, -1, 0);	/* alpha */
	ask(w, m1, 1, 2, "a.example", 1, STATS_CACHE, -1, 0);	/* beta */
	ask(w, m1, 1, 3, "a.example", 1, STATS_CACHE, -1, 0);

	/*
	 * Mid-interval: the new order, and a board renamed, with what the
	 * text's quotes must escape: a quote, a backslash, control
	 * characters (veiligd.yaml refuses C0, not C1 or a right-to-left
	 * override, which would turn the line around), and UTF-8 kept.
	 */
	tconf_set(&t, ids2, 3);
	free(t.b[2].name);
	t.b[2].name = strdup("Alpha \"A\\B\"\t\x01\xc2\x85\xe2\x80\xae "
	    "co\xc3\xb6p, renamed");
	m2 = stats_map_new(st, &t.c, NULL);
	ask(w, m2, 2, 4, "a.example", 1, STATS_CACHE, -1, 0);	/* alpha */
	ask(w, m2, 0, 5, "a.example", 1, STATS_CACHE, -1, 0);	/* gamma */
	stats_map_free(m1);

	now = time(NULL);
	stats_tick(st, now);	/* folded, the interval still open */
	out = evbuffer_new();
	assert_int_equal(stats_show(st, "alpha", 0, NULL, 0, out), 0);
	text = strndup((char *)evbuffer_pullup(out, -1),
	    evbuffer_get_length(out));
	if (strstr(text, "board alpha \"Alpha \\\"A\\\\B\\\"\\t\\x01\\u0085"
	    "\\u202e co\xc3\xb6p, renamed\"\n") == NULL)
		fail_msg("%s", text);
	assert_non_null(strstr(text, ": 2 queries, 2 clients"));
	free(text);
	evbuffer_drain(out, evbuffer_get_length(out));
	assert_int_equal(stats_show(st, "nope", 0, NULL, 0, out), -1);
	evbuffer_free(out);

	stats_flush(st, now, 0);
	a = records(t.dir.path, now, 0);
	assert_int_equal(num(record(a, "board", "alpha"), "queries", NULL), 2);
	assert_int_equal(num(record(a, "board", "beta"), "queries", NULL), 2);
	assert_int_equal(num(record(a, "board", "gamma"), "queries", NULL),
	    1);
	json_decref(a);
	stats_map_free(m2);
	stats_free(st);
	tconf_clear(&t);
}

/* Intervals end on their boundaries; a silent interval writes nothing. */
static void
test_boundaries(void **state)
{
	static const char *const ids[] = { "alpha" };
	struct tconf		 t;
	struct stats		*st;
	struct stats_map	*m;
	struct stats_worker	*w;
	struct tm		 tm;
	json_t			*a, *o;
	char			*cause;
	time_t			 t0, b1, midnight;

	(void)state;
	tconf_init(&t, ids, 1, 5);
	t.c.stats_interval = 10;
	t0 = time(NULL);
	st = stats_new(&t.c, 1, &cause);
	m = stats_map_new(st, &t.c, NULL);
	w = stats_worker(st, 0);
	/* Local offsets are whole minutes: boundaries are multiples of 10. */
	b1 = (t0 / 10 + 1) * 10;
	stats_worker_begin(w, 0);
	ask(w, m, 0, 1, "a.example", 1, STATS_CACHE, -1, 0);
	stats_tick(st, b1 - 1);
	assert_int_equal(json_array_size(a = records(t.dir.path, t0, 0)), 0);
	json_decref(a);
	stats_tick(st, b1);
	a = records(t.dir.path, t0, 0);
	assert_int_equal(json_array_size(a), 1);
	o = json_array_get(a, 0);
	assert_int_equal(num(o, "seconds", NULL), b1 - t0);
	json_decref(a);
	/* Nothing counted: no record, but the time goes on. */
	stats_tick(st, b1 + 10);
	a = records(t.dir.path, t0, 0);
	assert_int_equal(json_array_size(a), 1);
	json_decref(a);
	/* Local midnight ends the day: the summary covers the part. */
	localtime_r(&t0, &tm);
	tm.tm_hour = tm.tm_min = tm.tm_sec = 0;
	tm.tm_mday++;
	tm.tm_isdst = -1;
	midnight = mktime(&tm);
	stats_worker_begin(w, 0);
	ask(w, m, 0, 2, "a.example", 1, STATS_CACHE, -1, 0);
	stats_tick(st, midnight);
	a = records(t.dir.path, t0, 1);
	o = record(a, "day", "alpha");
	assert_non_null(o);
	assert_int_equal(num(o, "queries", NULL), 2);
	assert_int_equal(num(o, "intervals", NULL), 2);
	assert_int_equal(num(o, "seconds", NULL), midnight - t0);
	json_decref(a);
	stats_map_free(m);
	stats_free(st);
	tconf_clear(&t);
}

/* The last record of type and board in a, NULL if none. */
static json_t *
record_last(json_t *a, const char *type, const char *board)
{
	json_t	*o, *last = NULL;
	size_t	 i;

	json_array_foreach(a, i, o) {
		if (record_is(o, type, board))
			last = o;
	}
	return (last);
}

/*
 * A board's interval part is given back at the interval's close and
 * taken again (by it or another board) in the next: nothing of the
 * first interval's counts, clients or blocked sites may show in the
 * second's records.
 */
static void
test_period_reuse(void **state)
{
	static const char *const ids[] = { "alpha", "beta" };
	struct tconf		 t;
	struct stats		*st;
	struct stats_map	*m;
	struct stats_worker	*w;
	json_t			*a, *o;
	char			*cause;
	unsigned		 c, round;
	time_t			 t0, b1;

	(void)state;
	tconf_init(&t, ids, 2, 3);
	t.c.stats_interval = 10;
	t0 = time(NULL);
	st = stats_new(&t.c, 1, &cause);
	assert_non_null(st);
	m = stats_map_new(st, &t.c, NULL);
	assert_non_null(m);
	w = stats_worker(st, 0);
	b1 = (t0 / 10 + 1) * 10;

	/* Interval 1: alpha only, 10 clients, a site blocked for 3. */
	stats_worker_begin(w, 0);
	for (c = 1; c <= 10; c++)
		ask(w, m, 0, c, "www.example.nl", 1, STATS_CACHE, -1, 0);
	for (c = 1; c <= 3; c++)
		ask(w, m, 0, c, "ads.tracker.example.com", 1, STATS_BLOCKED,
		    STATS_CAT_DENY, 3);
	stats_tick(st, b1);
	a = records(t.dir.path, t0, 0);
	o = record_last(a, "board", "alpha");
	assert_non_null(o);
	assert_int_equal(num(o, "queries", NULL), 13);
	assert_int_equal(json_array_size(json_object_get(o, "top_blocked")),
	    1);
	assert_null(record_last(a, "board", "beta"));
	json_decref(a);

	/* Intervals 2 and 3: one client each board; beta new in 2. */
	for (round = 1; round <= 2; round++) {
		stats_worker_begin(w, 0);
		ask(w, m, 0, 50 + round, "www.example.nl", 1, STATS_CACHE,
		    -1, 0);
		ask(w, m, 0, 50 + round, "www.example.nl", 28, STATS_CACHE,
		    -1, 0);
		ask(w, m, 1, 60 + round, "www.example.nl", 1, STATS_CACHE,
		    -1, 0);
		stats_tick(st, b1 + 10 * round);
		a = records(t.dir.path, t0, 0);
		o = record_last(a, "board", "alpha");
		assert_non_null(o);
		assert_int_equal(num(o, "queries", NULL), 2);
		assert_int_equal(num(o, "clients", NULL), 1);
		assert_true(num(o, "answers", "blocked") <= 0);
		assert_int_equal(json_array_size(json_object_get(o,
		    "top_blocked")), 0);
		assert_true(num(o, "top_blocked_hidden", "count") <= 0);
		o = record_last(a, "board", "beta");
		assert_non_null(o);
		assert_int_equal(num(o, "queries", NULL), 1);
		assert_int_equal(num(o, "clients", NULL), 1);
		json_decref(a);
	}
	stats_map_free(m);
	stats_free(st);
	tconf_clear(&t);
}

/* A worker thread counting while main ticks: every query arrives. */
struct counter {
	struct stats_worker	*w;
	const struct stats_map	*m;
	int			 stop;	/* atomic */
	unsigned long		 n;
};

static void *
counter_main(void *arg)
{
	struct counter	*c = arg;
	unsigned	 i;

	snapshot_thread_init();
	while (!__atomic_load_n(&c->stop, __ATOMIC_RELAXED)) {
		snapshot_read_begin();
		stats_worker_begin(c->w, 0);
		for (i = 0; i < 64; i++) {
			ask(c->w, c->m, 0, (unsigned)(c->n % 200), "a.example",
			    1, STATS_CACHE, -1, 0);
			c->n++;
		}
		snapshot_read_end();
	}
	snapshot_thread_done();
	return (NULL);
}

static void
flip_under_load(int sliced)
{
	static const char *const ids[] = { "alpha" };
	struct tconf		 t;
	struct stats		*st;
	struct stats_map	*m;
	struct counter		 c;
	pthread_t		 th;
	json_t			*a;
	char			*cause;
	time_t			 now = time(NULL);
	int			 i, j;

	tconf_init(&t, ids, 1, 5);
	st = stats_new(&t.c, 1, &cause);
	m = stats_map_new(st, &t.c, NULL);
	memset(&c, 0, sizeof c);
	c.w = stats_worker(st, 0);
	c.m = m;
	assert_int_equal(pthread_create(&th, NULL, counter_main, &c), 0);
	for (i = 0; i < 50; i++) {
		usleep(2000);
		if (!sliced) {
			stats_tick(st, now);
			continue;
		}
		/*
		 * A few slices only: the next begin often meets a fold
		 * not done, puts its flip off, or finishes it at once.
		 */
		if (stats_tick_begin(st, now, 0) < 0)
			continue;
		for (j = 0; j < i % 4; j++)
			if (stats_tick_slice(st, 0) < 0)
				break;
	}
	__atomic_store_n(&c.stop, 1, __ATOMIC_RELAXED);
	pthread_join(th, NULL);
	stats_flush(st, now, 0);
	a = records(t.dir.path, now, 0);
	assert_int_equal(num(record(a, "board", "alpha"), "queries", NULL),
	    (long long)c.n);
	/* 200 clients, estimated: within 3 standard errors (4.9 %). */
	assert_in_range(num(record(a, "board", "alpha"), "clients", NULL),
	    190, 210);
	json_decref(a);
	stats_map_free(m);
	stats_free(st);
	tconf_clear(&t);
}

static void
test_flip_under_load(void **state)
{
	(void)state;
	flip_under_load(0);
}

/* The same with the daemon's fold in slices, some of them cut short. */
static void
test_slices_under_load(void **state)
{
	(void)state;
	flip_under_load(1);
}

/*
 * A small parser of the Prometheus text format: every line a comment
 * (# HELP / # TYPE name ...) or "name{label="value",...} number"; a
 * family's TYPE comes before its samples. Returns the value of the sample
 * want (name and labels as written), or -1; fails on a malformed line.
 */
static double
prom_parse(const char *text, const char *want)
{
	char		 name[256], typed[256] = "";
	const char	*p = text, *eol, *q;
	double		 v, found = -1;
	size_t		 n;

	for (; *p != '\0'; p = eol + 1) {
		eol = strchr(p, '\n');
		assert_non_null(eol);
		if (strncmp(p, "# HELP ", 7) == 0)
			continue;
		if (strncmp(p, "# TYPE ", 7) == 0) {
			n = strcspn(p + 7, " ");
			snprintf(typed, sizeof typed, "%.*s", (int)n, p + 7);
			q = p + 7 + n + 1;
			assert_true(strncmp(q, "counter\n", 8) == 0 ||
			    strncmp(q, "gauge\n", 6) == 0 ||
			    strncmp(q, "histogram\n", 10) == 0);
			continue;
		}
		/* The metric name. */
		n = strspn(p, "abcdefghijklmnopqrstuvwxyz"
		    "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_:");
		assert_true(n > 0 && n < sizeof name);
		snprintf(name, sizeof name, "%.*s", (int)n, p);
		assert_true(strncmp(name, typed, strlen(typed)) == 0);
		q = p + n;
		/* Labels: name="value" with \\ \" \n escapes. */
		if (*q == '{') {
			q++;
			while (*q != '}') {
				n = strspn(q, "abcdefghijklmnopqrstuvwxyz_");
				assert_true(n > 0);
				q += n;
				assert_true(q[0] == '=' && q[1] == '"');
				for (q += 2; *q != '"'; q++) {
					assert_true(q < eol);
					if (*q == '\\') {
						q++;
						assert_true(*q == '\\' ||
						    *q == '"' || *q == 'n');
					}
				}
				q++;
				if (*q == ',')
					q++;
				else
					assert_int_equal(*q, '}');
			}
			q++;
		}
		assert_int_equal(*q, ' ');
		v = strtod(q + 1, (char **)&q);
		assert_ptr_equal(q, eol);
		if (strncmp(p, want, strlen(want)) == 0 &&
		    p[strlen(want)] == ' ')
			found = v;
	}
	return (found);
}

static void
test_prometheus(void **state)
{
	static const char *const ids[] = { "alpha", "b\"e\\ta" };
	struct tconf		 t;
	struct stats		*st;
	struct stats_map	*m;
	struct stats_worker	*w;
	struct evbuffer		*out;
	struct sockaddr_storage	 up;
	char			*cause, *text;
	unsigned		 c;

	(void)state;
	tconf_init(&t, ids, 2, 5);
	t.c.stats_dir = NULL;
	st = stats_new(&t.c, 1, &cause);
	m = stats_map_new(st, &t.c, NULL);
	w = stats_worker(st, 0);
	stats_worker_begin(w, 0);
	for (c = 0; c < 7; c++)
		ask(w, m, 0, c, "a.example", 1, STATS_CACHE, -1, 0);
	ask(w, m, 0, 1, "b.example", 1, STATS_BLOCKED, STATS_CAT_DENY, 3);
	ask(w, m, 1, 9, "a.example", 28, STATS_FORWARDED, -1, 0);
	client(&up, 53, 0);
	stats_upstream(w, &up, STATS_UP_SENT, 0);
	stats_upstream(w, &up, STATS_UP_ANSWER, 3000000);
	stats_upstream(w, &up, STATS_UP_SENT, 0);
	stats_upstream(w, &up, STATS_UP_TIMEOUT, 0);
	stats_tick(st, time(NULL));

	out = evbuffer_new();
	stats_prometheus(st, out);
	metrics_process(out, 1700000000);
	text = strndup((char *)evbuffer_pullup(out, -1),
	    evbuffer_get_length(out));
	assert_true(prom_parse(text,
	    "veilig_queries_total{board=\"alpha\",type=\"A\"}") == 8);
	assert_true(prom_parse(text,
	    "veilig_answers_total{board=\"alpha\",answer=\"blocked\"}") == 1);
	assert_true(prom_parse(text,
	    "veilig_blocked_total{board=\"alpha\",category=\"deny\"}") == 1);
	/* Rows named: boards with their names, the node. */
	assert_true(prom_parse(text, "veilig_board_info{board=\"alpha\","
	    "name=\"Board alpha\"}") == 1);
	assert_true(prom_parse(text, "veilig_board_configured{board="
	    "\"alpha\"}") == 1);
	assert_non_null(strstr(text, "\nveilig_node_info{node=\""));
	/* Escaped label values. */
	assert_true(prom_parse(text, "veilig_queries_total{board=\"b\\\"e"
	    "\\\\ta\",type=\"AAAA\"}") == 1);
	/* Histograms: cumulative, +Inf is the count. */
	assert_true(prom_parse(text, "veilig_response_seconds_bucket{board="
	    "\"alpha\",path=\"cache\",le=\"0.0001\"}") == 8);
	assert_true(prom_parse(text, "veilig_response_seconds_bucket{board="
	    "\"alpha\",path=\"cache\",le=\"+Inf\"}") == 8);
	assert_true(prom_parse(text, "veilig_response_seconds_count{board="
	    "\"alpha\",path=\"cache\"}") == 8);
	assert_true(prom_parse(text, "veilig_response_seconds_bucket{board="
	    "\"b\\\"e\\\\ta\",path=\"upstream\",le=\"0.01\"}") == 0);
	assert_true(prom_parse(text, "veilig_response_seconds_bucket{board="
	    "\"b\\\"e\\\\ta\",path=\"upstream\",le=\"0.025\"}") == 1);
	assert_true(prom_parse(text, "veilig_upstream_queries_total{"
	    "upstream=\"192.0.2.53:0\",transport=\"udp\"}") == 2);
	assert_true(prom_parse(text, "veilig_upstream_timeouts_total{"
	    "upstream=\"192.0.2.53:0\"}") == 1);
	assert_true(prom_parse(text, "veilig_upstream_rtt_seconds_bucket{"
	    "upstream=\"192.0.2.53:0\",le=\"0.005\"}") == 1);
	assert_true(prom_parse(text, "veilig_upstream_up{"
	    "upstream=\"192.0.2.53:0\"}") == 1);
	assert_true(prom_parse(text, "process_start_time_seconds") ==
	    1700000000);
	assert_true(prom_parse(text, "process_open_fds") > 0);
	/*
	 * The tick timed: one fold, its bucket +Inf the count, a time of
	 * its own; an interval's close only if the test met its end.
	 */
	assert_true(prom_parse(text, "veilig_stats_tick_seconds_count{"
	    "part=\"fold\"}") == 1);
	assert_true(prom_parse(text, "veilig_stats_tick_seconds_bucket{"
	    "part=\"fold\",le=\"+Inf\"}") == 1);
	assert_true(prom_parse(text, "veilig_stats_tick_seconds_sum{"
	    "part=\"fold\"}") > 0);
	assert_true(prom_parse(text, "veilig_stats_tick_seconds_sum{"
	    "part=\"fold\"}") < 5);
	assert_true(prom_parse(text, "veilig_stats_tick_seconds_count{"
	    "part=\"close\"}") >= 0);
	assert_true(prom_parse(text, "veilig_stats_tick_seconds_count{"
	    "part=\"close\"}") <= 1);
	/* No address of a client anywhere. */
	assert_null(strstr(text, "192.0.2.1\""));
	assert_null(strstr(text, "192.0.2.9"));
	free(text);
	evbuffer_free(out);

	/*
	 * The interval closes: its counts go into the day and the totals,
	 * which show them with those of the next interval added.
	 */
	stats_flush(st, time(NULL), 0);
	stats_worker_begin(w, 0);
	ask(w, m, 0, 2, "a.example", 1, STATS_CACHE, -1, 0);
	ask(w, m, 0, 2, "b.example", 1, STATS_BLOCKED, STATS_CAT_DENY, 3);
	stats_tick(st, time(NULL));
	out = evbuffer_new();
	stats_prometheus(st, out);
	text = strndup((char *)evbuffer_pullup(out, -1),
	    evbuffer_get_length(out));
	assert_true(prom_parse(text,
	    "veilig_queries_total{board=\"alpha\",type=\"A\"}") == 10);
	assert_true(prom_parse(text,
	    "veilig_blocked_total{board=\"alpha\",category=\"deny\"}") == 2);
	assert_true(prom_parse(text, "veilig_response_seconds_count{board="
	    "\"alpha\",path=\"cache\"}") == 10);
	assert_true(prom_parse(text, "veilig_response_seconds_count{board="
	    "\"b\\\"e\\\\ta\",path=\"upstream\"}") == 1);
	/* stats_flush() is not a tick: the second tick, the second fold. */
	assert_true(prom_parse(text, "veilig_stats_tick_seconds_count{"
	    "part=\"fold\"}") == 2);
	free(text);
	evbuffer_free(out);
	out = evbuffer_new();
	assert_int_equal(stats_show(st, "alpha", 1, NULL, 0, out), 0);
	text = strndup((char *)evbuffer_pullup(out, -1),
	    evbuffer_get_length(out));
	assert_non_null(strstr(text, "\"today\":{\"queries\":10,"));
	/*
	 * Client 2 was met before two flips (tick, flush) that left the
	 * worker on the same set, emptied: it is a client of the new
	 * interval all the same (the memo goes by the count of flips).
	 */
	assert_non_null(strstr(text, "\"clients\":1,\"k\":"));
	free(text);
	evbuffer_free(out);
	stats_map_free(m);
	stats_free(st);
	tconf_clear(&t);
}

/* Half lines left by a crash are closed off; old files pruned. */
static void
test_files(void **state)
{
	struct tdir	 d;
	const char	*dir;
	char		 path[400];
	char		 old[64], buf[300];
	FILE		*f;
	time_t		 now = time(NULL);
	struct tm	 tm;
	struct stat	 sb;

	(void)state;
	tdir_new(&d, "test_statsfile", NULL);
	dir = d.path;
	statsfile_name(now, 0, buf, sizeof buf);
	snprintf(path, sizeof path, "%s/%s", dir, buf);
	f = fopen(path, "w");
	fputs("{\"v\":1}\n{\"v\":1,\"ty", f);	/* killed mid-line */
	fclose(f);
	assert_int_equal(statsfile_append(dir, buf, "{\"v\":1}\n", 8), 0);
	f = fopen(path, "r");
	assert_non_null(fgets(buf, sizeof buf, f));
	assert_string_equal(buf, "{\"v\":1}\n");
	assert_non_null(fgets(buf, sizeof buf, f));
	assert_string_equal(buf, "{\"v\":1,\"ty\n");
	assert_non_null(fgets(buf, sizeof buf, f));
	assert_string_equal(buf, "{\"v\":1}\n");
	assert_null(fgets(buf, sizeof buf, f));
	fclose(f);

	/* 400 days kept: a file of 401 days ago goes, other names stay. */
	localtime_r(&now, &tm);
	tm.tm_mday -= 401;
	tm.tm_hour = 12;
	tm.tm_isdst = -1;
	statsfile_name(mktime(&tm), 1, old, sizeof old);
	snprintf(path, sizeof path, "%s/%s", dir, old);
	fclose(fopen(path, "w"));
	snprintf(path, sizeof path, "%s/2000-01-01.txt", dir);
	fclose(fopen(path, "w"));
	assert_int_equal(statsfile_prune(dir, now, 400), 1);
	snprintf(path, sizeof path, "%s/%s", dir, old);
	assert_int_equal(stat(path, &sb), -1);
	snprintf(path, sizeof path, "%s/2000-01-01.txt", dir);
	assert_int_equal(stat(path, &sb), 0);
	assert_int_equal(statsfile_prune(dir, now, 1), 0);
	tdir_free(&d);
}

/*
 * Answers of a batch are timed together when it ends; a client met again
 * after a flip is counted again in the new second's set (the memo of
 * recent clients does not outlive a flip).
 */
static void
test_batch_and_memo(void **state)
{
	static const char *const ids[] = { "alpha" };
	struct tconf		 t;
	struct stats		*st;
	struct stats_map	*m;
	struct stats_worker	*w;
	struct sockaddr_storage	 ss;
	struct stats_query	 q;
	uint8_t			 wire[64];
	json_t			*a, *o, *lat;
	char			*cause;
	time_t			 now = time(NULL);
	int			 i;

	(void)state;
	tconf_init(&t, ids, 1, 5);
	st = stats_new(&t.c, 1, &cause);
	m = stats_map_new(st, &t.c, NULL);
	w = stats_worker(st, 0);
	memset(&q, 0, sizeof q);
	q.from = client(&ss, 7, 0);
	q.name_len = tname("a.example", wire, sizeof wire);
	q.lname = wire;
	q.qtype = 1;
	q.answer = STATS_CACHE;
	q.category = -1;
	q.ns = STATS_NS_BATCH;
	/* Received 30 ms ago: all three fall in the bucket up to 0.05 s. */
	stats_worker_begin(w, stats_clock() - 30000000);
	for (i = 0; i < 3; i++)
		stats_count(w, m, 0, &q);
	stats_worker_end(w);
	/* The same client in the next interval: counted there again. */
	stats_flush(st, now, 0);
	stats_worker_begin(w, 0);
	q.ns = 1000;
	stats_count(w, m, 0, &q);
	stats_flush(st, now, 0);
	a = records(t.dir.path, now, 0);
	assert_int_equal(json_array_size(a), 2);
	o = json_array_get(a, 0);
	assert_int_equal(num(o, "queries", NULL), 3);
	assert_int_equal(num(o, "clients", NULL), 1);
	lat = json_object_get(json_object_get(o, "latency"), "cache");
	assert_int_equal(json_integer_value(json_array_get(lat, 8)), 3);
	o = json_array_get(a, 1);
	assert_int_equal(num(o, "queries", NULL), 1);
	assert_int_equal(num(o, "clients", NULL), 1);
	lat = json_object_get(json_object_get(o, "latency"), "cache");
	assert_int_equal(json_integer_value(json_array_get(lat, 0)), 1);
	json_decref(a);
	stats_map_free(m);
	stats_free(st);
	tconf_clear(&t);
}

/* Count a query of board from client n that limits cut short. */
static void
ask_limited(struct stats_worker *w, const struct stats_map *m, int board,
    unsigned n, enum stats_answer how, int rcode, unsigned limited)
{
	struct sockaddr_storage	ss;
	struct stats_query	q;
	uint8_t			wire[64];

	memset(&q, 0, sizeof q);
	q.from = client(&ss, n, 0);
	q.name_len = tname("flood.example", wire, sizeof wire);
	q.lname = wire;
	q.qtype = 1;
	q.answer = how;
	q.category = -1;
	q.rcode = rcode;
	q.ns = 1000;
	q.limited = limited;
	stats_count(w, m, board, &q);
}

/*
 * What the limits cut short, per board and of no board: in the records
 * (interval and day), veiligctl's text and JSON, and Prometheus.
 */
static void
test_limited(void **state)
{
	static const char *const ids[] = { "alpha", "beta" };
	struct tconf		 t;
	struct stats		*st;
	struct stats_map	*m;
	struct stats_worker	*w;
	struct evbuffer		*out;
	json_t			*a, *o, *lim;
	json_error_t		 err;
	char			*cause, *text;
	time_t			 now = time(NULL);
	int			 i;

	(void)state;
	tconf_init(&t, ids, 2, 5);
	st = stats_new(&t.c, 1, &cause);
	m = stats_map_new(st, &t.c, NULL);
	w = stats_worker(st, 0);
	stats_worker_begin(w, 0);
	/* alpha: refused forwarding twice, once failed, RRL 3 and 2. */
	for (i = 0; i < 2; i++)
		ask_limited(w, m, 0, 1, STATS_ERROR, 2,
		    1U << STATS_LIM_PER_QUESTION);
	ask_limited(w, m, 0, 2, STATS_ERROR, 2, 1U << STATS_LIM_FAILED);
	/* A SERVFAIL at once over the client's share, then dropped. */
	ask_limited(w, m, 0, 3, STATS_DROPPED, -1,
	    1U << STATS_LIM_CLIENT_SHARE | 1U << STATS_LIM_RRL_DROPPED);
	for (i = 0; i < 2; i++)
		ask_limited(w, m, 0, 3, STATS_DROPPED, -1,
		    1U << STATS_LIM_RRL_DROPPED);
	for (i = 0; i < 2; i++)
		ask_limited(w, m, 0, 3, STATS_CACHE, 0,
		    1U << STATS_LIM_RRL_SLIPPED);
	/* beta: nothing limited. */
	ask_limited(w, m, 1, 4, STATS_CACHE, 0, 0);
	/* No board: REFUSED, 3 of them dropped and 1 slipped by RRL. */
	ask_limited(w, m, STATS_OUTSIDE, 5, STATS_REFUSED, 5, 0);
	for (i = 0; i < 3; i++)
		ask_limited(w, m, STATS_OUTSIDE, 5, STATS_DROPPED, -1,
		    1U << STATS_LIM_RRL_DROPPED);
	ask_limited(w, m, STATS_OUTSIDE, 5, STATS_REFUSED, 5,
	    1U << STATS_LIM_RRL_SLIPPED);
	stats_tick(st, now);

	/* veiligctl stats, text: one "limited:" line per period. */
	out = evbuffer_new();
	assert_int_equal(stats_show(st, NULL, 0, NULL, 0, out), 0);
	text = strndup((char *)evbuffer_pullup(out, -1),
	    evbuffer_get_length(out));
	assert_non_null(strstr(text, "    limited: failed 1, per_question 2, "
	    "client_share 1, rrl_dropped 3, rrl_slipped 2\n"));
	assert_non_null(strstr(text, "outside: 5 queries in the interval, 5 "
	    "in total\n    limited: rrl_dropped 3, rrl_slipped 1\n"));
	free(text);
	evbuffer_drain(out, evbuffer_get_length(out));

	/* veiligctl stats --json. */
	assert_int_equal(stats_show(st, NULL, 1, NULL, 0, out), 0);
	text = strndup((char *)evbuffer_pullup(out, -1),
	    evbuffer_get_length(out));
	o = json_loads(text, 0, &err);
	assert_non_null(o);
	lim = json_object_get(json_object_get(json_array_get(
	    json_object_get(o, "boards"), 0), "total"), "limited");
	assert_int_equal(num(lim, "per_question", NULL), 2);
	assert_int_equal(num(lim, "rrl_dropped", NULL), 3);
	assert_int_equal(num(lim, "forwarded", NULL), -1);
	lim = json_object_get(json_object_get(o, "outside"), "limited");
	assert_int_equal(num(lim, "rrl_dropped", NULL), 3);
	assert_int_equal(num(lim, "rrl_slipped", NULL), 1);
	json_decref(o);
	free(text);
	evbuffer_drain(out, evbuffer_get_length(out));

	/* Prometheus. */
	stats_prometheus(st, out);
	text = strndup((char *)evbuffer_pullup(out, -1),
	    evbuffer_get_length(out));
	assert_true(prom_parse(text, "veilig_limited_total{board=\"alpha\","
	    "limit=\"rrl_dropped\"}") == 3);
	assert_true(prom_parse(text, "veilig_limited_total{board=\"alpha\","
	    "limit=\"client_share\"}") == 1);
	assert_true(prom_parse(text, "veilig_limited_total{board=\"alpha\","
	    "limit=\"forwarded\"}") == -1);
	assert_true(prom_parse(text, "veilig_limited_total{board=\"beta\","
	    "limit=\"rrl_dropped\"}") == -1);
	assert_true(prom_parse(text, "veilig_outside_limited_total{limit="
	    "\"rrl_dropped\"}") == 3);
	assert_true(prom_parse(text, "veilig_outside_limited_total{limit="
	    "\"rrl_slipped\"}") == 1);
	free(text);
	evbuffer_free(out);

	/* The records: zero counts left out; the day sums the interval. */
	stats_flush(st, now, 1);
	a = records(t.dir.path, now, 0);
	o = record(a, "board", "alpha");
	assert_non_null(o);
	assert_int_equal(num(o, "queries", NULL), 8);
	assert_int_equal(num(o, "answers", "dropped"), 3);
	assert_int_equal(num(o, "limited", "failed"), 1);
	assert_int_equal(num(o, "limited", "per_question"), 2);
	assert_int_equal(num(o, "limited", "client_share"), 1);
	assert_int_equal(num(o, "limited", "rrl_dropped"), 3);
	assert_int_equal(num(o, "limited", "rrl_slipped"), 2);
	assert_int_equal(num(o, "limited", "forwarded"), -1);
	o = record(a, "board", "beta");
	assert_non_null(o);
	assert_int_equal(json_object_size(json_object_get(o, "limited")), 0);
	o = record(a, "outside", NULL);
	assert_non_null(o);
	assert_int_equal(num(o, "refused", NULL), 2);
	assert_int_equal(num(o, "limited", "rrl_dropped"), 3);
	assert_int_equal(num(o, "limited", "rrl_slipped"), 1);
	json_decref(a);
	a = records(t.dir.path, now, 1);
	assert_int_equal(num(record(a, "day", "alpha"), "limited",
	    "rrl_dropped"), 3);
	assert_int_equal(num(record(a, "day-outside", NULL), "limited",
	    "rrl_slipped"), 1);
	json_decref(a);
	stats_map_free(m);
	stats_free(st);
	tconf_clear(&t);
}

/*
 * A board's counts in a worker set live in a few slots of one line (a
 * query's type, answer kind and rcode together, a latency bucket) and
 * in cold counters for what the slots cannot take: more kinds than
 * slots, a count over a slot's 20 bits. Whatever the mix, the records
 * say exactly what was counted, over two ticks (the fold clears the
 * slots and, when written, the cold counters).
 */
static void
test_slots(void **state)
{
	static const char *const ids[] = { "alpha" };
	static const uint16_t qtypes[] = { 1, 28, 65, 64, 5, 15, 16, 12, 2,
	    6, 33, 43, 48, 257, 35, 255, 99 };
	static const int rcodes[] = { 0, 2, 3, 5, 16, 9 };
	static const unsigned rcode_ix[] = { 0, 2, 3, 5, 6, 7 };
	static const char *const qnames[] = { "A", "AAAA", "HTTPS", "SVCB",
	    "CNAME", "MX", "TXT", "PTR", "NS", "SOA", "SRV", "DS", "DNSKEY",
	    "CAA", "NAPTR", "ANY", "other" };
	static const char *const rnames[] = { "NOERROR", "FORMERR",
	    "SERVFAIL", "NXDOMAIN", "NOTIMP", "REFUSED", "BADVERS", "other" };
	static const char *const anames[] = { "cache", "forwarded", "stale",
	    "blocked", "rewritten", "refused", "error", "dropped" };
	struct tconf		 t;
	struct stats		*st;
	struct stats_map	*m;
	struct stats_worker	*w;
	struct sockaddr_storage	 ss;
	struct stats_query	 q;
	uint8_t			 wire[64];
	uint64_t		 qt[17], rc[8], an[8], lat[2][STATS_NBUCKETS];
	uint64_t		 ns;
	json_t			*a, *o, *l;
	char			*cause;
	time_t			 now = time(NULL);
	unsigned		 i, j, k, n, b, up, tick, combo = 0;
	long long		 v;

	(void)state;
	memset(qt, 0, sizeof qt);
	memset(rc, 0, sizeof rc);
	memset(an, 0, sizeof an);
	memset(lat, 0, sizeof lat);
	tconf_init(&t, ids, 1, 5);
	st = stats_new(&t.c, 1, &cause);
	m = stats_map_new(st, &t.c, NULL);
	w = stats_worker(st, 0);
	memset(&q, 0, sizeof q);
	q.from = client(&ss, 7, 0);
	q.name_len = tname("a.example", wire, sizeof wire);
	q.lname = wire;
	q.category = -1;
	for (tick = 0; tick < 2; tick++) {
		stats_worker_begin(w, 0);
		/* Every type, answer kind and rcode: far more than slots. */
		for (i = 0; i < 17; i++)
			for (j = 0; j < STATS_NANSWERS; j++)
				for (k = 0; k < 6; k++, combo++) {
					q.qtype = qtypes[i];
					q.answer = (enum stats_answer)j;
					q.rcode = j == STATS_DROPPED ? -1 :
					    rcodes[k];
					up = combo % 2;
					b = combo % STATS_NBUCKETS;
					ns = b == 0 ? 1000 : (uint64_t)
					    (stats_bucket_le[b - 1] * 1e9) +
					    1000;
					q.upstream = (int)up;
					q.ns = ns;
					for (n = 0; n < combo % 3 + 1; n++)
						stats_count(w, m, 0, &q);
					n = combo % 3 + 1;
					qt[i] += n;
					an[j] += n;
					if (j != STATS_DROPPED) {
						rc[rcode_ix[k]] += n;
						lat[up][b] += n;
					}
				}
		/* One kind more often than a slot's 20 bits can count. */
		q.qtype = 28;
		q.answer = STATS_CACHE;
		q.rcode = 0;
		q.upstream = 0;
		q.ns = 1000;
		for (n = 0; n < 1100000; n++)
			stats_count(w, m, 0, &q);
		qt[1] += n;
		an[STATS_CACHE] += n;
		rc[0] += n;
		lat[0][0] += n;
		stats_tick(st, now);
	}
	stats_flush(st, now, 0);
	a = records(t.dir.path, now, 0);
	o = record(a, "board", "alpha");
	assert_non_null(o);
	for (i = 0; i < 17; i++) {
		v = num(o, "qtype", qnames[i]);
		assert_int_equal(v < 0 ? 0 : v, qt[i]);
	}
	for (i = 0; i < 8; i++) {
		v = num(o, "rcode", rnames[i]);
		assert_int_equal(v < 0 ? 0 : v, rc[i]);
		assert_int_equal(num(o, "answers", anames[i]), an[i]);
	}
	for (up = 0; up < 2; up++) {
		l = json_object_get(json_object_get(o, "latency"),
		    up ? "forwarded" : "cache");
		for (b = 0; b < STATS_NBUCKETS; b++)
			assert_int_equal(json_integer_value(
			    json_array_get(l, b)), lat[up][b]);
	}
	json_decref(a);
	stats_map_free(m);
	stats_free(st);
	tconf_clear(&t);
}

/*
 * The slots across ticks of other shapes: a tick whose counts go to the
 * cold lines (more kinds than slots; a slot filled to its last count,
 * then one more), then one of a single kind in its slot only (the fold
 * must neither read the cold lines again nor miss them: it clears them
 * only when written), a batch's answers timed at its end (n at once in
 * a latency slot, beside kinds that fill the slots), an empty tick, and
 * a slot filled exactly to its 20 bits in one tick and counted once more
 * in the next. The interval's record says what was counted.
 */
static void
test_slots_ticks(void **state)
{
	static const char *const ids[] = { "alpha" };
	static const uint16_t qtypes[] = { 1, 28, 65, 16, 12, 15 };
	static const char *const qnames[] = { "A", "AAAA", "HTTPS", "TXT",
	    "PTR", "MX" };
	static const char *const anames[] = { "cache", "forwarded", "stale",
	    "blocked", "rewritten", "refused", "error", "dropped" };
	struct tconf		 t;
	struct stats		*st;
	struct stats_map	*m;
	struct stats_worker	*w;
	struct sockaddr_storage	 ss;
	struct stats_query	 q;
	uint8_t			 wire[64];
	uint64_t		 qt[6], an[8], noerror = 0, lat[2], n;
	json_t			*a, *o, *l;
	char			*cause;
	time_t			 now = time(NULL);
	unsigned		 i, j, b, up;
	long long		 v;

	(void)state;
	memset(qt, 0, sizeof qt);
	memset(an, 0, sizeof an);
	memset(lat, 0, sizeof lat);
	tconf_init(&t, ids, 1, 5);
	st = stats_new(&t.c, 1, &cause);
	m = stats_map_new(st, &t.c, NULL);
	w = stats_worker(st, 0);
	memset(&q, 0, sizeof q);
	q.from = client(&ss, 9, 0);
	q.name_len = tname("b.example", wire, sizeof wire);
	q.lname = wire;
	q.category = -1;
	q.rcode = 0;
#define COUNT(ti, ai, up_, ns_, times) do {				\
	q.qtype = qtypes[ti];						\
	q.answer = (enum stats_answer)(ai);				\
	q.upstream = (up_);						\
	q.ns = (ns_);							\
	for (n = 0; n < (times); n++)					\
		stats_count(w, m, 0, &q);				\
	qt[ti] += (times);						\
	an[ai] += (times);						\
	noerror += (times);						\
	if ((ns_) != STATS_NS_BATCH)					\
		lat[up_] += (times);					\
} while (0)

	/* Tick 0: twelve kinds, then one filled to its last count, + 1. */
	stats_worker_begin(w, 0);
	for (i = 0; i < 6; i++)
		for (j = 0; j < 2; j++)
			COUNT(i, j, j, 1000, 3);
	COUNT(3, STATS_BLOCKED, 0, 1000, (1U << 20) - 1);
	COUNT(3, STATS_BLOCKED, 0, 1000, 1);
	stats_tick(st, now);

	/* Tick 1: one kind, in its slot alone. */
	stats_worker_begin(w, 0);
	COUNT(0, STATS_CACHE, 0, 1000, 5);
	stats_tick(st, now);

	/* Tick 2: a batch of forwarded answers, timed at its end. */
	stats_worker_begin(w, stats_clock() - 2000000);
	for (i = 0; i < 6; i++)
		COUNT(i, STATS_STALE, 0, 1000, 1);
	for (i = 0; i < 3; i++)
		COUNT(i, STATS_FORWARDED, 1, STATS_NS_BATCH, 400);
	stats_worker_end(w);
	lat[1] += 1200;
	stats_tick(st, now);

	/* Tick 3: nothing. Tick 4: a slot to its 20 bits; tick 5: + 1. */
	stats_worker_begin(w, 0);
	stats_tick(st, now);
	stats_worker_begin(w, 0);
	COUNT(4, STATS_REWRITTEN, 0, 1000, (1U << 20) - 1);
	stats_tick(st, now);
	stats_worker_begin(w, 0);
	COUNT(4, STATS_REWRITTEN, 0, 1000, 1);
	stats_tick(st, now);
#undef COUNT

	stats_flush(st, now, 0);
	a = records(t.dir.path, now, 0);
	o = record(a, "board", "alpha");
	assert_non_null(o);
	for (i = 0; i < 6; i++) {
		v = num(o, "qtype", qnames[i]);
		assert_int_equal(v < 0 ? 0 : v, qt[i]);
	}
	for (i = 0; i < 8; i++) {
		v = num(o, "answers", anames[i]);
		assert_int_equal(v < 0 ? 0 : v, an[i]);
	}
	assert_int_equal(num(o, "rcode", "NOERROR"), noerror);
	for (up = 0; up < 2; up++) {
		l = json_object_get(json_object_get(o, "latency"),
		    up ? "forwarded" : "cache");
		for (b = 0, n = 0; b < STATS_NBUCKETS; b++)
			n += (uint64_t)json_integer_value(json_array_get(l,
			    b));
		assert_int_equal(n, lat[up]);
	}
	/* Every answer from the cache, not a batch's, took 1 us. */
	l = json_object_get(json_object_get(o, "latency"), "cache");
	assert_int_equal(json_integer_value(json_array_get(l, 0)), lat[0]);
	json_decref(a);
	stats_map_free(m);
	stats_free(st);
	tconf_clear(&t);
}

/*
 * Blocked names of many boards and clients, more than the fold takes in
 * one batch (it finds a batch's site tables first, then adds the names),
 * interleaved so that every batch spans all boards: every board's sites
 * named at k distinct clients and no other, with their counts, and the
 * rest hidden, as one name at a time would count them.
 */
static void
test_ring_batches(void **state)
{
	static const char *const ids[] = { "b0", "b1", "b2", "b3" };
	struct tconf		 t;
	struct stats		*st;
	struct stats_map	*m;
	struct stats_worker	*w;
	json_t			*a, *o, *top, *e;
	char			*cause, name[64];
	const char		*site;
	unsigned		 bd, i, c, ncl, named;
	size_t			 j;
	time_t			 now;

	(void)state;
	tconf_init(&t, ids, 4, 3);
	t.c.stats_top = 100;
	st = stats_new(&t.c, 1, &cause);
	assert_non_null(st);
	m = stats_map_new(st, &t.c, NULL);
	assert_non_null(m);
	w = stats_worker(st, 0);
	stats_worker_begin(w, 0);

	/* Site i of board bd is blocked once for each of (i + bd) % 5. */
	for (c = 1; c <= 4; c++)
		for (i = 0; i < 40; i++)
			for (bd = 0; bd < 4; bd++) {
				if (c > (i + bd) % 5)
					continue;
				snprintf(name, sizeof name,
				    "www.site%02u-b%u.nl", i, bd);
				ask(w, m, (int)bd, c, name, 1, STATS_BLOCKED,
				    STATS_CAT_DENY, 3);
			}
	now = time(NULL);
	stats_flush(st, now, 1);

	a = records(t.dir.path, now, 0);
	for (bd = 0; bd < 4; bd++) {
		o = record(a, "board", ids[bd]);
		assert_non_null(o);
		top = json_object_get(o, "top_blocked");
		named = 0;
		json_array_foreach(top, j, e) {
			site = json_string_value(json_object_get(e, "site"));
			assert_int_equal(sscanf(site, "site%02u-b%u.nl", &i,
			    &c), 2);
			assert_int_equal(c, bd);
			ncl = (i + bd) % 5;
			assert_true(ncl >= 3);
			assert_int_equal(num(e, "count", NULL), ncl);
			named++;
		}
		/* Of 40 sites 8 each at 0-4 clients: 3 and 4 are named. */
		assert_int_equal(named, 16);
		assert_int_equal(num(o, "top_blocked_hidden", "sites"), 16);
		assert_int_equal(num(o, "top_blocked_hidden", "count"),
		    8 * 1 + 8 * 2);
		assert_int_equal(num(o, "answers", "blocked"),
		    8 * (1 + 2 + 3 + 4));
	}
	json_decref(a);
	stats_map_free(m);
	stats_free(st);
	tconf_clear(&t);
}

/*
 * More distinct blocked names than the fold's table of sites keeps
 * (site.c's SITE_MAX, 65,536): it empties itself in the middle of a
 * fold's batch, whose earlier sites it had given (the fold asks those
 * again; under ASan a string kept from before would be a use after
 * free). One site blocked for k clients in every second is named with
 * all its answers, and every answer is counted, named or hidden.
 */
static void
test_ring_site_clear(void **state)
{
	static const char *const ids[] = { "b0" };
	struct tconf		 t;
	struct stats		*st;
	struct stats_map	*m;
	struct stats_worker	*w;
	json_t			*a, *o, *top;
	char			*cause, name[64];
	unsigned		 r, i, c;
	size_t			 j;
	long long		 blocked = 0, named = 0, hidden = 0;
	time_t			 now;

	(void)state;
	tconf_init(&t, ids, 1, 3);
	t.c.stats_interval = 3600;
	st = stats_new(&t.c, 1, &cause);
	assert_non_null(st);
	m = stats_map_new(st, &t.c, NULL);
	assert_non_null(m);
	w = stats_worker(st, 0);
	now = time(NULL);
	for (r = 0; r < 4; r++) {
		stats_worker_begin(w, 0);
		for (i = 0; i < 20000; i++) {
			snprintf(name, sizeof name, "x%u-%u.example", r, i);
			ask(w, m, 0, 1, name, 1, STATS_BLOCKED,
			    STATS_CAT_DENY, 3);
			if (i % 5000 == 0)
				for (c = 1; c <= 3; c++)
					ask(w, m, 0, c, "www.named.example",
					    1, STATS_BLOCKED, STATS_CAT_DENY,
					    3);
		}
		stats_tick(st, now + 1 + r);
	}
	stats_flush(st, now + 5, 1);

	/* An interval's end in the run splits the counts: add them up. */
	a = records(t.dir.path, now, 0);
	json_array_foreach(a, j, o) {
		if (strcmp(json_string_value(json_object_get(o, "type")),
		    "board") != 0)
			continue;
		blocked += num(o, "answers", "blocked");
		hidden += num(o, "top_blocked_hidden", "count");
		top = json_object_get(o, "top_blocked");
		if (json_array_size(top) == 0)
			continue;
		assert_int_equal(json_array_size(top), 1);
		assert_string_equal(json_string_value(json_object_get(
		    json_array_get(top, 0), "site")), "named.example");
		named += num(json_array_get(top, 0), "count", NULL);
	}
	assert_int_equal(blocked, 4 * (20000 + 4 * 3));
	assert_int_equal(named, 4 * 4 * 3);
	assert_int_equal(hidden, 4 * 20000);
	json_decref(a);
	stats_map_free(m);
	stats_free(st);
	tconf_clear(&t);
}

/*
 * A blocked answer's category is counted in a slot of its board's record
 * when one is free, else in the set's table: alpha's slots are all taken
 * by other kinds before its blocked answers come (the table), beta's
 * deny count outgrows a slot (2^20 - 1) within the second and moves on
 * to the table, gamma's fit in slots. Every count comes out whole.
 */
static void
test_cat_slots(void **state)
{
	static const char *const ids[] = { "alpha", "beta", "gamma" };
	static const uint16_t qtypes[] = { 1, 28, 65, 64, 5, 15, 16, 12, 2 };
	struct tconf		 t;
	struct stats		*st;
	struct stats_map	*m;
	struct stats_worker	*w;
	json_t			*a, *o;
	char			*cause;
	unsigned		 i;
	time_t			 now;

	(void)state;
	tconf_init(&t, ids, 3, 1);
	st = stats_new(&t.c, 1, &cause);
	assert_non_null(st);
	m = stats_map_new(st, &t.c, NULL);
	assert_non_null(m);
	w = stats_worker(st, 0);
	stats_worker_begin(w, 0);

	/* alpha: nine kinds of answer fill its eight slots, then blocks. */
	for (i = 0; i < 9; i++)
		ask(w, m, 0, 1, "www.example.nl", qtypes[i], STATS_FORWARDED,
		    -1, 0);
	for (i = 0; i < 7; i++)
		ask(w, m, 0, 2, "ads.example.com", 1, STATS_BLOCKED,
		    STATS_CAT_DENY, 3);
	ask(w, m, 0, 2, "use-application-dns.net", 1, STATS_BLOCKED,
	    STATS_CAT_CANARY, 3);
	/* beta: more deny answers than a slot holds, and canaries. */
	for (i = 0; i < (1U << 20) + 5; i++)
		ask(w, m, 1, 3, "ads.example.com", 1, STATS_BLOCKED,
		    STATS_CAT_DENY, 3);
	for (i = 0; i < 3; i++)
		ask(w, m, 1, 3, "use-application-dns.net", 1, STATS_BLOCKED,
		    STATS_CAT_CANARY, 3);
	/* gamma: a few of each. */
	for (i = 0; i < 4; i++)
		ask(w, m, 2, 4, "ads.example.com", 1, STATS_BLOCKED,
		    STATS_CAT_DENY, 3);
	ask(w, m, 2, 4, "use-application-dns.net", 1, STATS_BLOCKED,
	    STATS_CAT_CANARY, 3);
	now = time(NULL);
	stats_flush(st, now, 1);

	a = records(t.dir.path, now, 0);
	o = record(a, "board", "alpha");
	assert_non_null(o);
	assert_int_equal(num(o, "blocked", "deny"), 7);
	assert_int_equal(num(o, "blocked", "canary"), 1);
	assert_int_equal(num(o, "answers", "forwarded"), 9);
	o = record(a, "board", "beta");
	assert_non_null(o);
	assert_int_equal(num(o, "blocked", "deny"), (1 << 20) + 5);
	assert_int_equal(num(o, "blocked", "canary"), 3);
	assert_int_equal(num(o, "answers", "blocked"), (1 << 20) + 8);
	o = record(a, "board", "gamma");
	assert_non_null(o);
	assert_int_equal(num(o, "blocked", "deny"), 4);
	assert_int_equal(num(o, "blocked", "canary"), 1);
	json_decref(a);
	stats_map_free(m);
	stats_free(st);
	tconf_clear(&t);
}

/*
 * One second of queries for test_fold_slices: 1,500 clients over three
 * boards (many batches of clients to fold), a blocked site for five of
 * them and a blocked name of its own for 100 more (the ring), queries of
 * no board and an upstream's.
 */
static void
slices_feed(struct stats_worker *w, const struct stats_map *m, unsigned r)
{
	struct sockaddr_storage	up;
	char			name[64];
	unsigned		c;

	stats_worker_begin(w, 0);
	for (c = 0; c < 1500; c++)
		ask(w, m, (int)(c % 3), 256 + c, "www.example.nl",
		    c % 2 ? 1 : 28, c % 5 ? STATS_CACHE : STATS_FORWARDED, -1,
		    0);
	for (c = 0; c < 5; c++)
		ask(w, m, 0, 256 + c, "ads.tracker.example.com", 1,
		    STATS_BLOCKED, STATS_CAT_DENY, 3);
	for (c = 0; c < 100; c++) {
		snprintf(name, sizeof name, "n%u-%u.blocked.example", r, c);
		ask(w, m, 1, 256 + c, name, 1, STATS_BLOCKED, STATS_CAT_DENY,
		    3);
	}
	ask(w, m, STATS_OUTSIDE, 7, "www.example.nl", 1, STATS_REFUSED, -1,
	    5);
	client(&up, 53, 0);
	stats_upstream(w, &up, STATS_UP_SENT, 0);
	stats_upstream(w, &up, STATS_UP_ANSWER, 3000000 * (r + 1));
}

/* Slices of one batch each until the fold (and a close) are done. */
static unsigned
slices_run(struct stats *st)
{
	unsigned	n = 0;

	while (stats_tick_slice(st, 0) >= 0)
		n++;
	return (n + 1);
}

/*
 * Interval (day) records of dirs a and b alike, at least n of them, but
 * for the clients (a sketch's estimate, with its own random key in each);
 * with hi, every board's estimate from lo to hi.
 */
static void
records_same(const char *da, const char *db, time_t t, int day, size_t n,
    long lo, long hi)
{
	json_t	*a = records(da, t, day), *b = records(db, t, day), *o, *p;
	size_t	 i;

	assert_int_equal(json_array_size(a), json_array_size(b));
	assert_true(json_array_size(a) >= n);
	json_array_foreach(a, i, o) {
		p = json_array_get(b, i);
		if (hi != 0 && json_object_get(o, "clients") != NULL) {
			assert_in_range(num(o, "clients", NULL), lo, hi);
			assert_in_range(num(p, "clients", NULL), lo, hi);
		}
		json_object_del(o, "clients");
		json_object_del(p, "clients");
		json_object_del(o, "clients_day");
		json_object_del(p, "clients_day");
		if (!json_equal(o, p)) {
			char *x = json_dumps(o, 0), *y = json_dumps(p, 0);

			fail_msg("at once: %s\nsliced: %s", x, y);
		}
	}
	json_decref(a);
	json_decref(b);
}

/*
 * Two statistics of ta and tb begun in the same second, so that their
 * records' starts agree: under TSan two builds can straddle a second.
 * That second, from which their intervals' ends follow: a time taken
 * before or after could be the second before or after it on a busy
 * machine (test_fold_slices once ticked an interval that had not
 * ended).
 */
static time_t
stats_pair(struct tconf *ta, struct tconf *tb, struct stats **sa,
    struct stats **sb)
{
	char	*cause;
	time_t	 t;
	int	 tries;

	for (tries = 0; tries < 10; tries++) {
		t = time(NULL);
		*sa = stats_new(&ta->c, 1, &cause);
		*sb = stats_new(&tb->c, 1, &cause);
		assert_non_null(*sa);
		assert_non_null(*sb);
		if (time(NULL) == t)
			return (t);
		stats_free(*sa);
		stats_free(*sb);
	}
	fail_msg("no second held two stats_new()");
	return (t);
}

/*
 * The daemon's fold in slices (stats_tick_begin(), stats_tick_slice())
 * counts what stats_tick() counts: two statistics fed the same queries,
 * one folded at once, one in slices of one batch each, with queries
 * counted while the slices go on, a tick that comes before the fold is
 * done (the flip put off), and an interval that ends at a flip, closed
 * only when its fold is done. A slice is bounded: 1,500 clients take
 * at least 1,500 / 32 slices.
 */
static void
test_fold_slices(void **state)
{
	static const char *const ids[] = { "alpha", "beta", "gamma" };
	struct tconf		 ta, tb;
	struct stats		*sa, *sb;
	struct stats_map	*ma, *mb;
	struct stats_worker	*wa, *wb;
	struct evbuffer		*out;
	json_t			*a;
	char			*text;
	unsigned		 n;
	time_t			 t0, b1;

	(void)state;
	tconf_init(&ta, ids, 3, 3);
	tconf_init(&tb, ids, 3, 3);
	ta.c.stats_interval = tb.c.stats_interval = 10;
	t0 = stats_pair(&ta, &tb, &sa, &sb);
	b1 = (t0 / 10 + 1) * 10;
	ma = stats_map_new(sa, &ta.c, NULL);
	mb = stats_map_new(sb, &tb.c, NULL);
	wa = stats_worker(sa, 0);
	wb = stats_worker(sb, 0);

	/* At once: two seconds in the interval, one after. */
	slices_feed(wa, ma, 0);
	stats_tick(sa, b1 - 1);
	slices_feed(wa, ma, 1);
	stats_tick(sa, b1);
	slices_feed(wa, ma, 2);
	stats_tick(sa, b1 + 1);
	slices_feed(wa, ma, 3);
	stats_flush(sa, b1 + 1, 0);

	/*
	 * Sliced: one slice, a tick too early (its flip put off), a slice,
	 * queries counted meanwhile (in the other set, the next flip's),
	 * then the tick at the interval's end: on time, the fold left
	 * finished at once.
	 */
	slices_feed(wb, mb, 0);
	assert_true(stats_tick_begin(sb, b1 - 1, 0) >= 0);
	/* A slice: an eighth of the time since the last, 0.5 to 4 ms. */
	assert_int_equal(stats_tick_budget(sb, 0), STATS_SLICE_NS);
	assert_int_equal(stats_tick_budget(sb, 16000000), 2000000);
	assert_int_equal(stats_tick_budget(sb, 1000000000), 8 * STATS_SLICE_NS);
	assert_true(stats_tick_slice(sb, 0) >= 0);
	assert_true(stats_tick_begin(sb, b1 - 1, 0) >= 0);
	assert_true(stats_tick_slice(sb, 0) >= 0);
	slices_feed(wb, mb, 1);
	assert_true(stats_tick_begin(sb, b1, 0) >= 0);
	assert_true(stats_tick_slice(sb, 0) >= 0);
	/* The interval ended, but its fold is not done: not written yet. */
	a = records(tb.dir.path, t0, 0);
	assert_int_equal(json_array_size(a), 0);
	json_decref(a);
	n = slices_run(sb);
	assert_true(n >= 1500 / 32);
	a = records(tb.dir.path, t0, 0);
	assert_true(json_array_size(a) >= 5);
	json_decref(a);
	/* A flush in the middle of a fold finishes it first. */
	slices_feed(wb, mb, 2);
	assert_true(stats_tick_begin(sb, b1 + 1, 0) >= 0);
	slices_feed(wb, mb, 3);
	stats_flush(sb, b1 + 1, 0);
	/* 500 to 567 clients a board, estimated: within 4.9 %. */
	records_same(ta.dir.path, tb.dir.path, t0, 0, 5, 475, 595);

	/* Every slice timed; the interval's close once. */
	out = evbuffer_new();
	stats_prometheus(sb, out);
	text = strndup((char *)evbuffer_pullup(out, -1),
	    evbuffer_get_length(out));
	assert_true(prom_parse(text, "veilig_stats_tick_seconds_count{"
	    "part=\"fold\"}") >= 1500 / 32);
	assert_true(prom_parse(text, "veilig_stats_tick_seconds_count{"
	    "part=\"close\"}") == 1);
	free(text);
	evbuffer_free(out);
	stats_map_free(ma);
	stats_map_free(mb);
	stats_free(sa);
	stats_free(sb);
	tconf_clear(&ta);
	tconf_clear(&tb);
}

/* The close's slices timed so far (veilig_stats_tick_seconds). */
static long long
closes_timed(struct stats *st)
{
	struct evbuffer	*out = evbuffer_new();
	char		*text;
	long long	 n;

	stats_prometheus(st, out);
	text = strndup((char *)evbuffer_pullup(out, -1),
	    evbuffer_get_length(out));
	n = (long long)prom_parse(text, "veilig_stats_tick_seconds_count{"
	    "part=\"close\"}");
	free(text);
	evbuffer_free(out);
	return (n);
}

/* A query of every board from client c, for test_close_slices. */
static void
closes_feed(struct stats_worker *w, const struct stats_map *m, size_t n,
    unsigned c)
{
	size_t	i;

	stats_worker_begin(w, 0);
	for (i = 0; i < n; i++)
		ask(w, m, (int)i, c, "www.example.nl", 1, STATS_CACHE, -1, 0);
}

/* Two configurations of the same STATS_TEST_BOARDS boards, b00 to b39. */
static void
closes_tconfs(struct tconf *ta, struct tconf *tb)
{
	char		 idbuf[STATS_TEST_BOARDS][8];
	const char	*ids[STATS_TEST_BOARDS];
	size_t		 i;

	for (i = 0; i < STATS_TEST_BOARDS; i++) {
		snprintf(idbuf[i], sizeof idbuf[i], "b%02zu", i);
		ids[i] = idbuf[i];
	}
	tconf_init(ta, ids, STATS_TEST_BOARDS, 3);
	tconf_init(tb, ids, STATS_TEST_BOARDS, 3);
}

/*
 * An interval's and a day's close in slices (16 boards a batch) write
 * what the close at once writes: 40 boards, local midnight met by a
 * flip, queries counted between the close's slices; the files appear
 * when the close is done, whole.
 */
static void
test_close_slices(void **state)
{
	struct tconf		 ta, tb;
	struct stats		*sa, *sb;
	struct stats_map	*ma, *mb;
	struct stats_worker	*wa, *wb;
	struct tm		 tm;
	json_t			*a;
	time_t			 t0, midnight;

	(void)state;
	closes_tconfs(&ta, &tb);
	t0 = stats_pair(&ta, &tb, &sa, &sb);
	localtime_r(&t0, &tm);
	tm.tm_hour = tm.tm_min = tm.tm_sec = 0;
	tm.tm_mday++;
	tm.tm_isdst = -1;
	midnight = mktime(&tm);
	ma = stats_map_new(sa, &ta.c, NULL);
	mb = stats_map_new(sb, &tb.c, NULL);
	wa = stats_worker(sa, 0);
	wb = stats_worker(sb, 0);

	closes_feed(wa, ma, STATS_TEST_BOARDS, 1);
	stats_tick(sa, midnight);
	closes_feed(wa, ma, STATS_TEST_BOARDS, 2);
	stats_flush(sa, midnight + 1, 1);

	closes_feed(wb, mb, STATS_TEST_BOARDS, 1);
	assert_true(stats_tick_begin(sb, midnight, 0) >= 0);
	/* The fold, in batches, then the close's first slice. */
	while (closes_timed(sb) == 0)
		assert_true(stats_tick_slice(sb, 0) >= 0);
	a = records(tb.dir.path, t0, 0);
	assert_int_equal(json_array_size(a), 0);
	json_decref(a);
	closes_feed(wb, mb, STATS_TEST_BOARDS, 2);
	/* 40 boards' interval records, then day summaries, 16 a slice. */
	slices_run(sb);
	assert_int_equal(closes_timed(sb), 2 * 3);
	a = records(tb.dir.path, t0, 1);
	assert_int_equal(json_array_size(a), STATS_TEST_BOARDS);
	json_decref(a);
	stats_flush(sb, midnight + 1, 1);
	records_same(ta.dir.path, tb.dir.path, t0, 0, STATS_TEST_BOARDS,
	    0, 0);
	records_same(ta.dir.path, tb.dir.path, t0, 1, STATS_TEST_BOARDS,
	    0, 0);
	records_same(ta.dir.path, tb.dir.path, midnight, 0, STATS_TEST_BOARDS,
	    0, 0);
	records_same(ta.dir.path, tb.dir.path, midnight, 1, STATS_TEST_BOARDS,
	    0, 0);

	stats_map_free(ma);
	stats_map_free(mb);
	stats_free(sa);
	stats_free(sb);
	tconf_clear(&ta);
	tconf_clear(&tb);
}

/* o without its "clients" and "clients_day" members, at any depth. */
static void
strip_clients(json_t *o)
{
	const char	*k;
	json_t		*v;
	void		*tmp;
	size_t		 i;

	if (json_is_object(o)) {
		json_object_del(o, "clients");
		json_object_del(o, "clients_day");
		json_object_foreach_safe(o, tmp, k, v)
			strip_clients(v);
	} else if (json_is_array(o))
		json_array_foreach(o, i, v)
			strip_clients(v);
}

/* veiligctl stats --json of st, parsed, without the sketches' estimates. */
static json_t *
show_json(struct stats *st)
{
	struct evbuffer	*out = evbuffer_new();
	json_error_t	 err;
	json_t		*o;

	assert_int_equal(stats_show(st, NULL, 1, NULL, 0, out), 0);
	o = json_loadb((char *)evbuffer_pullup(out, -1),
	    evbuffer_get_length(out), 0, &err);
	assert_non_null(o);
	evbuffer_free(out);
	strip_clients(o);
	return (o);
}

/* veilig_stats_records_total of st. */
static long long
records_counted(struct stats *st)
{
	struct evbuffer	*out = evbuffer_new();
	char		*text;
	long long	 n;

	stats_prometheus(st, out);
	text = strndup((char *)evbuffer_pullup(out, -1),
	    evbuffer_get_length(out));
	n = (long long)prom_parse(text, "veilig_stats_records_total");
	free(text);
	evbuffer_free(out);
	return (n);
}

/*
 * Without stats.dir the close formats no record (nowhere to write it)
 * but counts as it does with one: two statistics fed the same queries,
 * one with a directory and one without, an interval closed at once in
 * the first and in slices in the second; veiligctl stats shows the same
 * of both, and no record is counted written without the directory. Then
 * a reload gives the second one the directory, and the day summaries
 * written at the stop are the same in both: the day's named sites hold
 * those of the interval that was closed with nowhere to write it.
 */
static void
test_close_no_dir(void **state)
{
	struct tconf		 ta, tb;
	struct stats		*sa, *sb;
	struct stats_map	*ma, *mb;
	struct stats_worker	*wa, *wb;
	struct tm		 tm;
	json_t			*a, *b, *o, *top;
	char			*dirb;
	unsigned		 c;
	time_t			 t0, t1, midnight;

	(void)state;
	closes_tconfs(&ta, &tb);
	dirb = tb.c.stats_dir;
	tb.c.stats_dir = NULL;
	t0 = stats_pair(&ta, &tb, &sa, &sb);
	localtime_r(&t0, &tm);
	tm.tm_hour = tm.tm_min = tm.tm_sec = 0;
	tm.tm_mday++;
	tm.tm_isdst = -1;
	midnight = mktime(&tm);
	/* The first interval's end: a multiple of 300 s (whole hours off). */
	t1 = (t0 / 300 + 1) * 300;
	ma = stats_map_new(sa, &ta.c, NULL);
	mb = stats_map_new(sb, &tb.c, NULL);
	wa = stats_worker(sa, 0);
	wb = stats_worker(sb, 0);

	/* Every board once; b00 a blocked site for 3 clients (k 3). */
	closes_feed(wa, ma, STATS_TEST_BOARDS, 1);
	closes_feed(wb, mb, STATS_TEST_BOARDS, 1);
	for (c = 1; c <= 3; c++) {
		ask(wa, ma, 0, c, "ads.tracker.example.com", 1, STATS_BLOCKED,
		    STATS_CAT_DENY, 3);
		ask(wb, mb, 0, c, "ads.tracker.example.com", 1, STATS_BLOCKED,
		    STATS_CAT_DENY, 3);
	}
	stats_tick(sa, t1);
	assert_true(stats_tick_begin(sb, t1, 0) >= 0);
	slices_run(sb);
	assert_int_equal(closes_timed(sb), 3);
	a = show_json(sa);
	b = show_json(sb);
	if (!json_equal(a, b)) {
		char *x = json_dumps(a, 0), *y = json_dumps(b, 0);

		fail_msg("with a directory: %s\nwithout: %s", x, y);
	}
	json_decref(a);
	json_decref(b);
	assert_true(records_counted(sa) >= STATS_TEST_BOARDS);
	assert_int_equal(records_counted(sb), 0);

	/* A reload gives it the directory; then the stop. */
	closes_feed(wa, ma, STATS_TEST_BOARDS, 2);
	closes_feed(wb, mb, STATS_TEST_BOARDS, 2);
	stats_flush(sa, t1 + 1, 0);
	stats_flush(sb, t1 + 1, 0);
	tb.c.stats_dir = dirb;
	stats_configure(sb, &tb.c);
	stats_flush(sa, t1 + 2, 1);
	stats_flush(sb, t1 + 2, 1);
	records_same(ta.dir.path, tb.dir.path, t1, 1, STATS_TEST_BOARDS,
	    0, 0);
	/* The interval's site in the day's summary (unless the day began
	   at t1: then that interval was all of the day before). */
	if (t1 != midnight) {
		a = records(tb.dir.path, t1, 1);
		o = record(a, "day", "b00");
		assert_non_null(o);
		assert_int_equal(num(o, "queries", NULL), 5);
		top = json_object_get(o, "top_blocked");
		assert_int_equal(json_array_size(top), 1);
		assert_string_equal(json_string_value(json_object_get(
		    json_array_get(top, 0), "site")), "example.com");
		assert_int_equal(num(json_array_get(top, 0), "count", NULL),
		    3);
		json_decref(a);
	}

	stats_map_free(ma);
	stats_map_free(mb);
	stats_free(sa);
	stats_free(sb);
	tconf_clear(&ta);
	tconf_clear(&tb);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_interval_records),
		cmocka_unit_test(test_reload_keeps_boards),
		cmocka_unit_test(test_boundaries),
		cmocka_unit_test(test_period_reuse),
		cmocka_unit_test(test_flip_under_load),
		cmocka_unit_test(test_slices_under_load),
		cmocka_unit_test(test_prometheus),
		cmocka_unit_test(test_files),
		cmocka_unit_test(test_batch_and_memo),
		cmocka_unit_test(test_limited),
		cmocka_unit_test(test_slots),
		cmocka_unit_test(test_slots_ticks),
		cmocka_unit_test(test_ring_batches),
		cmocka_unit_test(test_ring_site_clear),
		cmocka_unit_test(test_cat_slots),
		cmocka_unit_test(test_fold_slices),
		cmocka_unit_test(test_close_slices),
		cmocka_unit_test(test_close_no_dir),
	};

	/* Local time, whatever the machine's zone: Europe/Amsterdam. */
	setenv("TZ", "Europe/Amsterdam", 1);
	tzset();
	snapshot_thread_init();
	return (cmocka_run_group_tests(tests, NULL, NULL));
}
