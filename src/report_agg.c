/*
 * report_agg.c: the figures of a report, added up from statistics records
 * (see report_agg.h for the rules).
 *
 * report_agg_add() checks a whole record before it adds anything, so a
 * record that is wrong in its last field does not leave half its counts
 * behind: the first pass (report_agg_parse) fills a struct report_rec with
 * checked values and JSON pointers, the second applies it.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "report_agg.h"
#include "report_date.h"

enum report_type {
	REPORT_T_BOARD,
	REPORT_T_OUTSIDE,
	REPORT_T_UPSTREAM
};

/* The answers object's keys and the day column each adds to. */
static const struct {
	const char	*key;
	enum report_col	 col;
} report_agg_answers[] = {
	{ "cache", REPORT_CACHE },
	{ "forwarded", REPORT_FORWARDED },
	{ "stale", REPORT_STALE },
	{ "blocked", REPORT_BLOCKED },
	{ "rewritten", REPORT_REWRITTEN },
	{ "refused", REPORT_REFUSED },
	{ "error", REPORT_ERROR },
};
#define REPORT_NANSWERS	(sizeof report_agg_answers / sizeof report_agg_answers[0])

static const struct {
	const char	 *key;
	enum report_ucol  col;
} report_agg_upcols[] = {
	{ "queries", REPORT_UP_QUERIES },
	{ "timeouts", REPORT_UP_TIMEOUTS },
	{ "errors", REPORT_UP_ERRORS },
	{ "mismatched", REPORT_UP_MISMATCHED },
	{ "tcp", REPORT_UP_TCP },
};
#define REPORT_NUPCOLS	(sizeof report_agg_upcols / sizeof report_agg_upcols[0])

/* One record, checked: what report_agg_apply needs. */
struct report_rec {
	enum report_type type;
	enum report_src	 src;
	const char	*node;
	uint64_t	 seconds;
	const char	*id;		/* board or upstream */
	size_t		 idlen;
	const char	*name;
	size_t		 namelen;
	uint64_t	 queries;
	uint64_t	 answers[REPORT_NANSWERS];
	int		 has_answers;
	uint64_t	 safe_search;
	uint64_t	 clients;
	uint64_t	 clients_day;
	int		 has_clients_day;
	uint64_t	 intervals;
	int		 k;		/* 0: none given */
	json_t		*qtype, *rcode, *blocked, *top;
	uint64_t	 hidden;
	double		 le[REPORT_BUCKETS];
	int		 has_le;
	json_t		*hist[2];	/* latency cache/forwarded, or rtt */
	uint64_t	 refused;	/* outside */
	json_t		*country, *as;
	uint64_t	 up[REPORT_NUPCOLS];
};

struct report_agg *
report_agg_new(long from, long to, int k, const char *only)
{
	struct report_agg	*agg;

	if (to < from || to - from + 1 > REPORT_MAX_DAYS)
		return NULL;
	agg = report_mem_calloc(1, sizeof *agg);
	agg->from = from;
	agg->to = to;
	agg->ndays = to - from + 1;
	agg->k = k;
	agg->arena = report_mem_arena_new();
	if (only != NULL)
		agg->only = report_mem_strndup(agg->arena, only, strlen(only));
	report_map_init(&agg->board_ix);
	report_map_init(&agg->out_country);
	report_map_init(&agg->out_as);
	report_map_init(&agg->up_ix);
	report_map_init(&agg->nodes);
	report_map_init(&agg->strs);
	agg->out_day = report_mem_calloc(agg->ndays * 2, sizeof (uint64_t));
	return agg;
}

void
report_agg_board_free(struct report_board *b)
{
	if (b == NULL)
		return;
	free(b->day);
	free(b->parts);
	report_map_clear(&b->qtype);
	report_map_clear(&b->rcode);
	report_map_clear(&b->cats);
	report_map_clear(&b->sites);
	free(b);
}

void
report_agg_free(struct report_agg *agg)
{
	size_t	i;

	if (agg == NULL)
		return;
	for (i = 0; i < agg->nboards; i++)
		report_agg_board_free(agg->boards[i]);
	free(agg->boards);
	for (i = 0; i < agg->nups; i++) {
		free(agg->ups[i]->day);
		free(agg->ups[i]);
	}
	free(agg->ups);
	free(agg->out_day);
	free(agg->open);
	report_map_clear(&agg->board_ix);
	report_map_clear(&agg->out_country);
	report_map_clear(&agg->out_as);
	report_map_clear(&agg->up_ix);
	report_map_clear(&agg->nodes);
	report_map_clear(&agg->strs);
	report_mem_arena_free(agg->arena);
	free(agg);
}

/* An interned copy of s[0..len): one copy per distinct string. */
static const char *
report_agg_intern(struct report_agg *agg, const char *s, size_t len)
{
	return report_map_get(&agg->strs, agg->arena, s, len)->key;
}

/* A new, empty board (not yet in any index). */
static struct report_board *
report_agg_board_new(struct report_agg *agg, const char *id)
{
	struct report_board	*b;

	b = report_mem_calloc(1, sizeof *b);
	b->id = id;
	b->name = id;
	b->day = report_mem_calloc(agg->ndays * REPORT_COLS, sizeof *b->day);
	b->parts = report_mem_calloc(agg->ndays, 1);
	report_map_init(&b->qtype);
	report_map_init(&b->rcode);
	report_map_init(&b->cats);
	report_map_init(&b->sites);
	return b;
}

/* The board id[0..len), made if new. */
static struct report_board *
report_agg_board_get(struct report_agg *agg, const char *id, size_t len)
{
	struct report_map_ent	*e;

	e = report_map_get(&agg->board_ix, agg->arena, id, len);
	if (e->idx < agg->nboards)
		return agg->boards[e->idx];
	agg->boards = report_mem_realloc(agg->boards, agg->nboards + 1,
	    sizeof *agg->boards);
	agg->boards[agg->nboards++] = report_agg_board_new(agg, e->key);
	return agg->boards[e->idx];
}

struct report_board *
report_agg_board(struct report_agg *agg, const char *id)
{
	struct report_map_ent	*e;

	if ((e = report_map_find(&agg->board_ix, id, strlen(id))) == NULL)
		return NULL;
	return agg->boards[e->idx];
}

/* The upstream name[0..len), made if new. */
static struct report_upstream *
report_agg_upstream_get(struct report_agg *agg, const char *name, size_t len)
{
	struct report_map_ent	*e;
	struct report_upstream	*u;

	e = report_map_get(&agg->up_ix, agg->arena, name, len);
	if (e->idx < agg->nups)
		return agg->ups[e->idx];
	u = report_mem_calloc(1, sizeof *u);
	u->name = e->key;
	u->day = report_mem_calloc(agg->ndays * REPORT_UP_COLS,
	    sizeof *u->day);
	agg->ups = report_mem_realloc(agg->ups, agg->nups + 1,
	    sizeof *agg->ups);
	agg->ups[agg->nups++] = u;
	return u;
}

/* ------------------------------------------------------------ checking */

/* An optional count (a non-negative integer); 0 when absent. 0 or -1. */
static int
report_agg_count(json_t *o, const char *key, uint64_t *v)
{
	json_t	*j = json_object_get(o, key);

	*v = 0;
	if (j == NULL)
		return 0;
	if (!json_is_integer(j) || json_integer_value(j) < 0)
		return -1;
	*v = (uint64_t)json_integer_value(j);
	return 0;
}

/* An optional string member: 0 (absent: *s NULL) or -1. */
static int
report_agg_string(json_t *o, const char *key, const char **s, size_t *len)
{
	json_t	*j = json_object_get(o, key);

	*s = NULL;
	*len = 0;
	if (j == NULL)
		return 0;
	if (!json_is_string(j) || json_string_length(j) == 0)
		return -1;
	*s = json_string_value(j);
	*len = json_string_length(j);
	/* A NUL inside would cut the key short where it is used as one. */
	return strlen(*s) == *len ? 0 : -1;
}

/* An optional object of counts ({"A": 12, ...}); 0 or -1. */
static int
report_agg_tally(json_t *o, const char *key, json_t **out)
{
	json_t		*j = json_object_get(o, key), *v;
	const char	*k;

	*out = NULL;
	if (j == NULL)
		return 0;
	if (!json_is_object(j))
		return -1;
	json_object_foreach(j, k, v) {
		if (!json_is_integer(v) || json_integer_value(v) < 0 ||
		    *k == '\0')
			return -1;
	}
	*out = j;
	return 0;
}

/* An array of REPORT_BUCKETS counts; 0 or -1. */
static int
report_agg_hist(json_t *j)
{
	size_t	 i;
	json_t	*v;

	if (!json_is_array(j) || json_array_size(j) != REPORT_BUCKETS)
		return -1;
	json_array_foreach(j, i, v) {
		if (!json_is_integer(v) || json_integer_value(v) < 0)
			return -1;
	}
	return 0;
}

/* Bucket bounds: REPORT_BUCKETS increasing numbers, the last "+Inf". */
static int
report_agg_le(json_t *j, double *le)
{
	size_t	 i;
	json_t	*v;

	if (!json_is_array(j) || json_array_size(j) != REPORT_BUCKETS)
		return -1;
	json_array_foreach(j, i, v) {
		if (json_is_number(v))
			le[i] = json_number_value(v);
		else if (json_is_string(v) &&
		    (strcmp(json_string_value(v), "+Inf") == 0 ||
		    strcmp(json_string_value(v), "Inf") == 0))
			le[i] = INFINITY;
		else
			return -1;
		if (i > 0 && !(le[i] > le[i - 1]))
			return -1;
	}
	return 0;
}

/* The top_blocked array: objects with a site and a count. */
static int
report_agg_top(json_t *j)
{
	const char	*s;
	size_t		 len, i;
	uint64_t	 n;
	json_t		*e;

	if (!json_is_array(j))
		return -1;
	json_array_foreach(j, i, e) {
		if (!json_is_object(e) ||
		    report_agg_string(e, "site", &s, &len) == -1 || s == NULL ||
		    report_agg_string(e, "category", &s, &len) == -1 ||
		    report_agg_count(e, "count", &n) == -1 ||
		    report_agg_count(e, "clients_at_least", &n) == -1)
			return -1;
	}
	return 0;
}

/* The fields of a board or day record. */
static int
report_agg_parse_board(json_t *o, struct report_rec *r, const char **why)
{
	json_t		*j, *lat;
	uint64_t	 k;
	size_t		 i;

	if (report_agg_string(o, "board", &r->id, &r->idlen) == -1 ||
	    r->id == NULL) {
		*why = "no board id";
		return -1;
	}
	if (report_agg_string(o, "name", &r->name, &r->namelen) == -1) {
		*why = "name is not a string";
		return -1;
	}
	if ((j = json_object_get(o, "queries")) == NULL ||
	    report_agg_count(o, "queries", &r->queries) == -1) {
		*why = "no count of queries";
		return -1;
	}
	if ((j = json_object_get(o, "answers")) != NULL) {
		if (!json_is_object(j)) {
			*why = "answers is not an object";
			return -1;
		}
		r->has_answers = 1;
		for (i = 0; i < REPORT_NANSWERS; i++) {
			if (report_agg_count(j, report_agg_answers[i].key,
			    &r->answers[i]) == -1) {
				*why = "an answers count is not a count";
				return -1;
			}
		}
	}
	if (report_agg_tally(o, "qtype", &r->qtype) == -1 ||
	    report_agg_tally(o, "rcode", &r->rcode) == -1 ||
	    report_agg_tally(o, "blocked", &r->blocked) == -1) {
		*why = "qtype, rcode or blocked is not an object of counts";
		return -1;
	}
	if (report_agg_count(o, "safe_search", &r->safe_search) == -1 ||
	    report_agg_count(o, "clients", &r->clients) == -1 ||
	    report_agg_count(o, "clients_day", &r->clients_day) == -1 ||
	    report_agg_count(o, "intervals", &r->intervals) == -1 ||
	    report_agg_count(o, "k", &k) == -1 || k > 1000000) {
		*why = "a count is not a count";
		return -1;
	}
	r->has_clients_day = json_object_get(o, "clients_day") != NULL;
	r->k = (int)k;
	if ((lat = json_object_get(o, "latency")) != NULL) {
		if (!json_is_object(lat) ||
		    report_agg_le(json_object_get(lat, "le"), r->le) == -1 ||
		    report_agg_hist(r->hist[0] =
		    json_object_get(lat, "cache")) == -1 ||
		    report_agg_hist(r->hist[1] =
		    json_object_get(lat, "forwarded")) == -1) {
			*why = "latency is not a histogram";
			return -1;
		}
		r->has_le = 1;
	}
	if ((r->top = json_object_get(o, "top_blocked")) != NULL &&
	    report_agg_top(r->top) == -1) {
		*why = "top_blocked is not a list of sites";
		return -1;
	}
	if ((j = json_object_get(o, "top_blocked_hidden")) != NULL &&
	    (!json_is_object(j) ||
	    report_agg_count(j, "count", &r->hidden) == -1)) {
		*why = "top_blocked_hidden is not an object with a count";
		return -1;
	}
	return 0;
}

/* The fields of an outside or day-outside record. */
static int
report_agg_parse_outside(json_t *o, struct report_rec *r, const char **why)
{
	if (json_object_get(o, "queries") == NULL ||
	    report_agg_count(o, "queries", &r->queries) == -1 ||
	    report_agg_count(o, "refused", &r->refused) == -1) {
		*why = "no count of queries";
		return -1;
	}
	if (report_agg_tally(o, "country", &r->country) == -1 ||
	    report_agg_tally(o, "as", &r->as) == -1) {
		*why = "country or as is not an object of counts";
		return -1;
	}
	return 0;
}

/* The fields of an upstream or day-upstream record. */
static int
report_agg_parse_upstream(json_t *o, struct report_rec *r, const char **why)
{
	json_t	*rtt;
	size_t	 i;

	if (report_agg_string(o, "upstream", &r->id, &r->idlen) == -1 ||
	    r->id == NULL) {
		*why = "no upstream";
		return -1;
	}
	for (i = 0; i < REPORT_NUPCOLS; i++) {
		if (report_agg_count(o, report_agg_upcols[i].key,
		    &r->up[i]) == -1) {
			*why = "an upstream count is not a count";
			return -1;
		}
	}
	if ((rtt = json_object_get(o, "rtt")) != NULL) {
		if (!json_is_object(rtt) ||
		    report_agg_le(json_object_get(rtt, "le"), r->le) == -1 ||
		    report_agg_hist(r->hist[0] =
		    json_object_get(rtt, "counts")) == -1) {
			*why = "rtt is not a histogram";
			return -1;
		}
		r->has_le = 1;
	}
	return 0;
}

/* Check a whole record into r; REPORT_ADD_OK or why not. */
static enum report_add
report_agg_parse(json_t *o, enum report_src src, struct report_rec *r,
    const char **why)
{
	static const struct {
		const char		*name;
		enum report_type	 type;
		enum report_src		 src;
	} types[] = {
		{ "board", REPORT_T_BOARD, REPORT_SRC_INTERVAL },
		{ "outside", REPORT_T_OUTSIDE, REPORT_SRC_INTERVAL },
		{ "upstream", REPORT_T_UPSTREAM, REPORT_SRC_INTERVAL },
		{ "day", REPORT_T_BOARD, REPORT_SRC_DAY },
		{ "day-outside", REPORT_T_OUTSIDE, REPORT_SRC_DAY },
		{ "day-upstream", REPORT_T_UPSTREAM, REPORT_SRC_DAY },
	};
	json_t		*v;
	const char	*type, *s;
	size_t		 i, len;
	int64_t		 t;

	memset(r, 0, sizeof *r);
	if (!json_is_object(o)) {
		*why = "not a JSON object";
		return REPORT_ADD_INVALID;
	}
	v = json_object_get(o, "v");
	if (!json_is_integer(v) || json_integer_value(v) < 1) {
		*why = "no format version \"v\"";
		return REPORT_ADD_INVALID;
	}
	if (json_integer_value(v) > REPORT_FORMAT_VERSION) {
		*why = "format version newer than this veilig-report knows";
		return REPORT_ADD_NEWER;
	}
	if ((type = json_string_value(json_object_get(o, "type"))) == NULL) {
		*why = "no type";
		return REPORT_ADD_INVALID;
	}
	for (i = 0; i < sizeof types / sizeof types[0]; i++)
		if (strcmp(type, types[i].name) == 0)
			break;
	if (i == sizeof types / sizeof types[0]) {
		*why = "unknown type";
		return REPORT_ADD_INVALID;
	}
	if (types[i].src != src) {
		*why = src == REPORT_SRC_DAY ? "interval record in a day file" :
		    "day record in an interval file";
		return REPORT_ADD_INVALID;
	}
	r->type = types[i].type;
	r->src = src;
	if (report_agg_string(o, "node", &r->node, &len) == -1 ||
	    report_agg_count(o, "seconds", &r->seconds) == -1) {
		*why = "node or seconds of the wrong type";
		return REPORT_ADD_INVALID;
	}
	if (report_agg_string(o, "start", &s, &len) == -1 || s == NULL ||
	    report_date_parse_time(s, len, &t) == -1 ||
	    report_agg_string(o, "end", &s, &len) == -1 || s == NULL ||
	    report_date_parse_time(s, len, &t) == -1) {
		*why = "no valid start or end";
		return REPORT_ADD_INVALID;
	}
	switch (r->type) {
	case REPORT_T_BOARD:
		if (report_agg_parse_board(o, r, why) == -1)
			return REPORT_ADD_INVALID;
		break;
	case REPORT_T_OUTSIDE:
		if (report_agg_parse_outside(o, r, why) == -1)
			return REPORT_ADD_INVALID;
		break;
	case REPORT_T_UPSTREAM:
		if (report_agg_parse_upstream(o, r, why) == -1)
			return REPORT_ADD_INVALID;
		break;
	}
	return REPORT_ADD_OK;
}

/* ------------------------------------------------------------ adding */

/* Add an object of counts to a tally. */
static void
report_agg_add_tally(struct report_agg *agg, struct report_map *m, json_t *j)
{
	const char	*k;
	json_t		*v;

	json_object_foreach(j, k, v)
		report_map_get(m, agg->arena, k, strlen(k))->n +=
		    (uint64_t)json_integer_value(v);
}

/* Add a histogram if its bounds are the ones already seen. */
static void
report_agg_add_hist(struct report_agg *agg, const double *le, json_t *j,
    uint64_t *to)
{
	size_t	i;

	if (!agg->have_le) {
		memcpy(agg->le, le, sizeof agg->le);
		agg->have_le = 1;
	}
	for (i = 0; i < REPORT_BUCKETS; i++) {
		if (le[i] != agg->le[i] &&
		    fabs(le[i] - agg->le[i]) > 1e-9 * fabs(agg->le[i])) {
			agg->le_mismatch++;
			return;
		}
	}
	for (i = 0; i < REPORT_BUCKETS; i++)
		to[i] += (uint64_t)json_integer_value(json_array_get(j, i));
}

/*
 * One vote for an interval length of secs seconds, from an interval
 * record. (A day record cannot tell: its intervals count only those in
 * which the board asked anything, not the length of one.)
 */
static void
report_agg_vote(struct report_agg *agg, uint64_t secs)
{
	int	i;

	if (secs == 0)
		return;
	for (i = 0; i < agg->nilen; i++) {
		if (agg->ilen[i][0] == secs) {
			agg->ilen[i][1]++;
			return;
		}
	}
	if (agg->nilen < 16) {
		agg->ilen[agg->nilen][0] = secs;
		agg->ilen[agg->nilen++][1] = 1;
	}
}

/* Named sites: those at or above the threshold; the rest stay counts. */
static void
report_agg_add_top(struct report_agg *agg, struct report_board *b,
    const struct report_rec *r)
{
	struct report_map_ent	*e;
	const char		*site, *cat;
	size_t			 i, len, clen;
	uint64_t		 count, cal;
	json_t			*t;
	int			 thr;

	thr = r->k > agg->k ? r->k : agg->k;
	json_array_foreach(r->top, i, t) {
		report_agg_string(t, "site", &site, &len);
		report_agg_string(t, "category", &cat, &clen);
		report_agg_count(t, "count", &count);
		report_agg_count(t, "clients_at_least", &cal);
		/* No clients_at_least: nothing shows it passed, so unnamed. */
		if (json_object_get(t, "clients_at_least") == NULL ||
		    cal < (uint64_t)thr) {
			b->hidden += count;
			continue;
		}
		e = report_map_get(&b->sites, agg->arena, site, len);
		e->n += count;
		if (e->str == NULL && cat != NULL)
			e->str = report_agg_intern(agg, cat, clen);
	}
}

/* The clients_day figure of an interval record of an uncovered part. */
static void
report_agg_add_part(struct report_agg *agg, struct report_board *b,
    const struct report_rec *r)
{
	uint64_t	v = r->has_clients_day ? r->clients_day : r->clients;

	if (!b->part_open) {
		if (agg->nopen == agg->capopen) {
			agg->capopen = agg->capopen ? agg->capopen * 2 : 64;
			agg->open = report_mem_realloc(agg->open,
			    agg->capopen, sizeof *agg->open);
		}
		agg->open[agg->nopen++] = b;
		b->part_open = 1;
		b->part_max = b->part_sum = 0;
		b->part_n = 0;
	}
	/*
	 * clients_day only grows within a process's part of the day; a
	 * smaller figure means a new process (new keys) started.
	 */
	if (b->part_n > 0 && v < b->part_max) {
		b->part_sum += b->part_max;
		b->part_max = v;
		b->part_n++;
	} else {
		if (b->part_n == 0)
			b->part_n = 1;
		if (v > b->part_max)
			b->part_max = v;
	}
}

/* Count the day's clients as added from one more part of a day. */
static void
report_agg_parts(struct report_board *b, long di, int n)
{
	int	p = b->parts[di] + n;

	b->parts[di] = p > 255 ? 255 : (uint8_t)p;
	if (b->parts[di] > 1)
		b->summed = 1;
}

static void
report_agg_apply_board(struct report_agg *agg, const struct report_rec *r,
    long di)
{
	struct report_board	*b;
	uint64_t		*row, blocked = 0;
	json_t			*j;
	size_t			 i;

	b = report_agg_board_get(agg, r->id, r->idlen);
	if (r->name != NULL && (b->name == b->id ||
	    strncmp(b->name, r->name, r->namelen) != 0 ||
	    b->name[r->namelen] != '\0'))
		b->name = report_agg_intern(agg, r->name, r->namelen);
	row = b->day + di * REPORT_COLS;
	row[REPORT_QUERIES] += r->queries;
	for (i = 0; i < REPORT_NANSWERS; i++)
		row[report_agg_answers[i].col] += r->answers[i];
	if (r->blocked != NULL) {
		report_agg_add_tally(agg, &b->cats, r->blocked);
		if ((j = json_object_get(r->blocked, "canary")) != NULL)
			row[REPORT_CANARY] += (uint64_t)json_integer_value(j);
		/* Without answers, the categories are the blocked answers. */
		if (!r->has_answers) {
			const char	*k;
			json_t		*v;

			json_object_foreach(r->blocked, k, v)
				blocked += (uint64_t)json_integer_value(v);
			row[REPORT_BLOCKED] += blocked;
		}
	}
	row[REPORT_SAFE_SEARCH] += r->safe_search;
	if (r->qtype != NULL)
		report_agg_add_tally(agg, &b->qtype, r->qtype);
	if (r->rcode != NULL)
		report_agg_add_tally(agg, &b->rcode, r->rcode);
	if (r->has_le) {
		report_agg_add_hist(agg, r->le, r->hist[0], b->lat_cache);
		report_agg_add_hist(agg, r->le, r->hist[1], b->lat_fwd);
	}
	if (r->top != NULL)
		report_agg_add_top(agg, b, r);
	b->hidden += r->hidden;
	if (r->k > 0 && (b->kmin == 0 || r->k < b->kmin))
		b->kmin = r->k;
	if (r->k > 0 && (agg->kmin == 0 || r->k < agg->kmin))
		agg->kmin = r->k;
	if (r->src == REPORT_SRC_DAY) {
		row[REPORT_CLIENTS] += r->clients;
		report_agg_parts(b, di, 1);
	} else {
		report_agg_add_part(agg, b, r);
		report_agg_vote(agg, r->seconds);
	}
	b->records++;
}

static void
report_agg_apply_outside(struct report_agg *agg, const struct report_rec *r,
    long di)
{
	agg->out_day[di * 2] += r->queries;
	agg->out_day[di * 2 + 1] += r->refused;
	if (r->country != NULL)
		report_agg_add_tally(agg, &agg->out_country, r->country);
	if (r->as != NULL)
		report_agg_add_tally(agg, &agg->out_as, r->as);
	agg->out_records++;
}

static void
report_agg_apply_upstream(struct report_agg *agg, const struct report_rec *r,
    long di)
{
	struct report_upstream	*u;
	size_t			 i;

	u = report_agg_upstream_get(agg, r->id, r->idlen);
	for (i = 0; i < REPORT_NUPCOLS; i++)
		u->day[di * REPORT_UP_COLS + report_agg_upcols[i].col] +=
		    r->up[i];
	if (r->has_le)
		report_agg_add_hist(agg, r->le, r->hist[0], u->rtt);
}

enum report_add
report_agg_add(struct report_agg *agg, json_t *o, long day,
    enum report_src src, const char **why)
{
	struct report_rec	r;
	enum report_add		ret;
	long			di;

	*why = NULL;
	if (day < agg->from || day > agg->to) {
		*why = "day outside the period";
		return REPORT_ADD_INVALID;
	}
	di = day - agg->from;
	if ((ret = report_agg_parse(o, src, &r, why)) != REPORT_ADD_OK)
		return ret;
	if (agg->only != NULL && (r.type != REPORT_T_BOARD ||
	    strcmp(r.id, agg->only) != 0))
		return REPORT_ADD_SKIPPED;
	/* Parts of different days never mix (the reader closes them). */
	if (agg->nopen > 0 && day != agg->open_day)
		report_agg_part_end(agg);
	agg->open_day = day;
	if (r.node != NULL)
		report_map_get(&agg->nodes, agg->arena, r.node,
		    strlen(r.node))->n++;
	switch (r.type) {
	case REPORT_T_BOARD:
		report_agg_apply_board(agg, &r, di);
		break;
	case REPORT_T_OUTSIDE:
		report_agg_apply_outside(agg, &r, di);
		break;
	case REPORT_T_UPSTREAM:
		report_agg_apply_upstream(agg, &r, di);
		break;
	}
	agg->records++;
	return REPORT_ADD_OK;
}

void
report_agg_part_end(struct report_agg *agg)
{
	struct report_board	*b;
	long			 di = agg->open_day - agg->from;
	size_t			 i;

	for (i = 0; i < agg->nopen; i++) {
		b = agg->open[i];
		b->day[di * REPORT_COLS + REPORT_CLIENTS] += b->part_sum +
		    b->part_max;
		report_agg_parts(b, di, b->part_n);
		b->part_open = 0;
	}
	agg->nopen = 0;
}

void
report_agg_corrupt(struct report_agg *agg, const char *board, size_t len)
{
	struct report_map_ent	*e = NULL;

	agg->corrupt++;
	if (board != NULL)
		e = report_map_find(&agg->board_ix, board, len);
	if (e != NULL)
		agg->boards[e->idx]->corrupt++;
	else
		agg->corrupt_anon++;
}

/* ------------------------------------------------------------ reading out */

uint64_t
report_agg_total(const struct report_agg *agg, const struct report_board *b,
    enum report_col col)
{
	uint64_t	sum = 0;
	long		i;

	for (i = 0; i < agg->ndays; i++)
		sum += b->day[i * REPORT_COLS + col];
	return sum;
}

/* Add tally from into to (str kept from the first that had one). */
static void
report_agg_merge(struct report_agg *agg, struct report_map *to,
    const struct report_map *from)
{
	struct report_map_ent	*e;
	uint32_t		 i;

	for (i = 0; i < from->cap; i++) {
		if (from->e[i].key == NULL)
			continue;
		e = report_map_get(to, agg->arena, from->e[i].key,
		    strlen(from->e[i].key));
		e->n += from->e[i].n;
		if (e->str == NULL)
			e->str = from->e[i].str;
	}
}

struct report_board *
report_agg_all(struct report_agg *agg)
{
	struct report_board	*all, *b;
	size_t			 i, j;
	long			 d;

	all = report_agg_board_new(agg, "");
	all->name = "";
	for (i = 0; i < agg->nboards; i++) {
		b = agg->boards[i];
		for (j = 0; j < (size_t)agg->ndays * REPORT_COLS; j++)
			all->day[j] += b->day[j];
		for (d = 0; d < agg->ndays; d++)
			if (b->parts[d] > 0)
				report_agg_parts(all, d, b->parts[d]);
		report_agg_merge(agg, &all->qtype, &b->qtype);
		report_agg_merge(agg, &all->rcode, &b->rcode);
		report_agg_merge(agg, &all->cats, &b->cats);
		report_agg_merge(agg, &all->sites, &b->sites);
		for (j = 0; j < REPORT_BUCKETS; j++) {
			all->lat_cache[j] += b->lat_cache[j];
			all->lat_fwd[j] += b->lat_fwd[j];
		}
		all->hidden += b->hidden;
		all->records += b->records;
		all->corrupt += b->corrupt;
		if (b->kmin > 0 && (all->kmin == 0 || b->kmin < all->kmin))
			all->kmin = b->kmin;
		all->summed |= b->summed;
	}
	return all;
}

int
report_agg_threshold(const struct report_agg *agg,
    const struct report_board *b)
{
	return b->kmin > agg->k ? b->kmin : agg->k;
}

uint64_t
report_agg_interval(const struct report_agg *agg)
{
	uint64_t	best = 0, votes = 0;
	int		i;

	for (i = 0; i < agg->nilen; i++) {
		if (agg->ilen[i][1] > votes) {
			votes = agg->ilen[i][1];
			best = agg->ilen[i][0];
		}
	}
	return best;
}

double
report_agg_quantile(const struct report_agg *agg, const uint64_t *counts,
    double p)
{
	uint64_t	total = 0, cum = 0;
	double		target;
	int		i;

	for (i = 0; i < REPORT_BUCKETS; i++)
		total += counts[i];
	if (total == 0 || !agg->have_le)
		return -1;
	target = p * (double)total;
	for (i = 0; i < REPORT_BUCKETS; i++) {
		cum += counts[i];
		if ((double)cum >= target)
			return agg->le[i];
	}
	return agg->le[REPORT_BUCKETS - 1];
}
