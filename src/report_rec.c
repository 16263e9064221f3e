/*
 * report_rec.c: one statistics record parsed with yajl's events and
 * checked (see report_rec.h).
 *
 * The state is where the parse is in the record's shape:
 *
 *	depth 1	in the record's object; key: which field
 *	depth 2	in a field's object or array: an object of counts (qtype,
 *		rcode, blocked, country, as), answers, top_blocked_hidden, a
 *		histogram (latency, rtt; sub: which member) or top_blocked
 *	depth 3	in a histogram's array (idx: the element) or in one entry of
 *		top_blocked (sub: which member)
 *
 * A value under a key this reader does not know is skipped whole (skip
 * counts the nesting inside it). A known key with a value of the wrong
 * type stops the parse: the record is invalid.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <yajl/yajl_parse.h>

#include "report_date.h"
#include "report_mem.h"
#include "report_rec.h"

const char *const report_rec_answers[REPORT_NANSWERS] = {
	"cache", "forwarded", "stale", "blocked", "rewritten", "refused",
	"error", "dropped"
};
const char *const report_rec_upcols[REPORT_NUPCOLS] = {
	"queries", "timeouts", "errors", "mismatched", "tcp"
};

/* What a field's value is. */
enum report_rec_kind {
	KD_INT,		/* a count: an integer >= 0 */
	KD_STR,		/* a non-empty string */
	KD_TALLY,	/* an object of counts */
	KD_ANSWERS,	/* "answers" */
	KD_HIDDEN,	/* "top_blocked_hidden" */
	KD_HIST,	/* "latency" or "rtt" */
	KD_TOP		/* "top_blocked" */
};

enum report_rec_key {
	K_V, K_TYPE, K_NODE, K_START, K_END, K_SECONDS, K_BOARD, K_NAME,
	K_QUERIES, K_QTYPE, K_RCODE, K_ANSWERS, K_BLOCKED, K_SAFE, K_LATENCY,
	K_CLIENTS, K_CLIENTS_DAY, K_K, K_TOP, K_HIDDEN, K_INTERVALS,
	K_REFUSED, K_COUNTRY, K_AS, K_UPSTREAM, K_TIMEOUTS, K_ERRORS,
	K_MISMATCHED, K_TCP, K_RTT,
	K_OTHER = -1
};

#define KEY(name, kind)	{ name, sizeof name - 1, kind }

static const struct {
	const char		*name;
	size_t			 len;
	enum report_rec_kind	 kind;
} report_rec_keys[] = {
	[K_V] = KEY("v", KD_INT),
	[K_TYPE] = KEY("type", KD_STR),
	[K_NODE] = KEY("node", KD_STR),
	[K_START] = KEY("start", KD_STR),
	[K_END] = KEY("end", KD_STR),
	[K_SECONDS] = KEY("seconds", KD_INT),
	[K_BOARD] = KEY("board", KD_STR),
	[K_NAME] = KEY("name", KD_STR),
	[K_QUERIES] = KEY("queries", KD_INT),
	[K_QTYPE] = KEY("qtype", KD_TALLY),
	[K_RCODE] = KEY("rcode", KD_TALLY),
	[K_ANSWERS] = KEY("answers", KD_ANSWERS),
	[K_BLOCKED] = KEY("blocked", KD_TALLY),
	[K_SAFE] = KEY("safe_search", KD_INT),
	[K_LATENCY] = KEY("latency", KD_HIST),
	[K_CLIENTS] = KEY("clients", KD_INT),
	[K_CLIENTS_DAY] = KEY("clients_day", KD_INT),
	[K_K] = KEY("k", KD_INT),
	[K_TOP] = KEY("top_blocked", KD_TOP),
	[K_HIDDEN] = KEY("top_blocked_hidden", KD_HIDDEN),
	[K_INTERVALS] = KEY("intervals", KD_INT),
	[K_REFUSED] = KEY("refused", KD_INT),
	[K_COUNTRY] = KEY("country", KD_TALLY),
	[K_AS] = KEY("as", KD_TALLY),
	[K_UPSTREAM] = KEY("upstream", KD_STR),
	[K_TIMEOUTS] = KEY("timeouts", KD_INT),
	[K_ERRORS] = KEY("errors", KD_INT),
	[K_MISMATCHED] = KEY("mismatched", KD_INT),
	[K_TCP] = KEY("tcp", KD_INT),
	[K_RTT] = KEY("rtt", KD_HIST),
};
#define REPORT_REC_NKEYS	(sizeof report_rec_keys / sizeof report_rec_keys[0])

/* Members of a histogram object, and of a top_blocked entry. */
enum { H_LE, H_CACHE, H_FORWARDED, H_COUNTS };
enum { T_SITE, T_CATEGORY, T_COUNT, T_CAL };
/* Members of top_blocked_hidden. */
enum { D_COUNT, D_SITES };

#define SEEN(r, k)	((r)->seen & ((uint64_t)1 << (k)))

void
report_rec_init(struct report_rec *r)
{
	memset(r, 0, sizeof *r);
}

void
report_rec_clear(struct report_rec *r)
{
	free(r->qtype.v);
	free(r->rcode.v);
	free(r->blocked.v);
	free(r->country.v);
	free(r->as.v);
	free(r->top);
	free(r->buf);
	memset(r, 0, sizeof *r);
}

/* Stop the parse: the record is invalid for reason why. */
static int
report_rec_bad(struct report_rec *r, const char *why)
{
	if (r->why == NULL)
		r->why = why;
	return (0);
}

/* A NUL-terminated copy of s[0..len) in the record's buffer, or NULL. */
static const char *
report_rec_str(struct report_rec *r, const unsigned char *s, size_t len)
{
	char	*p;

	/* The buffer holds the line's length: a string never outgrows it. */
	if (len == 0 || memchr(s, '\0', len) != NULL ||
	    r->buflen + len + 1 > r->bufcap)
		return (NULL);
	p = r->buf + r->buflen;
	memcpy(p, s, len);
	p[len] = '\0';
	r->buflen += len + 1;
	return (p);
}

/* The key's number in names[0..n), or -1. */
static int
report_rec_lookup(const char *const *names, int n, const unsigned char *s,
    size_t len)
{
	int	i;

	for (i = 0; i < n; i++)
		if (strlen(names[i]) == len && memcmp(names[i], s, len) == 0)
			return (i);
	return (-1);
}

/* The tally of a top-level key. */
static struct report_tally *
report_rec_tally(struct report_rec *r)
{
	switch (r->key) {
	case K_QTYPE:
		return (&r->qtype);
	case K_RCODE:
		return (&r->rcode);
	case K_BLOCKED:
		return (&r->blocked);
	case K_COUNTRY:
		return (&r->country);
	default:
		return (&r->as);
	}
}

/* The histogram of a top-level key. */
static struct report_hist *
report_rec_hist(struct report_rec *r)
{
	return (r->key == K_LATENCY ? &r->latency : &r->rtt);
}

/* Whether the value starting now is under a key this reader skips. */
static int
report_rec_unknown(const struct report_rec *r)
{
	switch (r->depth) {
	case 1:
		return (r->key == K_OTHER);
	case 2:
		switch (report_rec_keys[r->key].kind) {
		case KD_ANSWERS:
		case KD_HIDDEN:
		case KD_HIST:
			return (r->sub == -1);
		default:
			return (0);
		}
	case 3:
		return (report_rec_keys[r->key].kind == KD_TOP && r->sub == -1);
	}
	return (0);
}

/* ------------------------------------------------------------ events */

static int
report_rec_null(void *ctx)
{
	struct report_rec	*r = ctx;

	if (r->skip > 0 || report_rec_unknown(r))
		return (1);
	return (report_rec_bad(r, r->depth == 0 ? "not a JSON object" :
	    "a field has the wrong type"));
}

static int
report_rec_boolean(void *ctx, int b)
{
	(void)b;
	return (report_rec_null(ctx));
}

static int
report_rec_integer(void *ctx, long long v)
{
	struct report_rec	*r = ctx;
	struct report_tally	*t;
	struct report_hist	*h;
	uint64_t		 u = (uint64_t)v;

	if (r->skip > 0 || report_rec_unknown(r))
		return (1);
	if (r->depth == 3 && report_rec_keys[r->key].kind == KD_HIST &&
	    r->sub == H_LE) {
		h = report_rec_hist(r);
		if (r->idx >= REPORT_BUCKETS)
			return (report_rec_bad(r, "a histogram is too long"));
		h->le[r->idx++] = (double)v;
		return (1);
	}
	if (r->depth == 0)
		return (report_rec_bad(r, "not a JSON object"));
	if (v < 0)
		return (report_rec_bad(r, "a count is negative"));
	switch (r->depth) {
	case 1:
		switch (r->key) {
		case K_V: r->v = u; break;
		case K_SECONDS: r->seconds = u; break;
		case K_QUERIES: r->queries = u; break;
		case K_SAFE: r->safe_search = u; break;
		case K_CLIENTS: r->clients = u; break;
		case K_CLIENTS_DAY:
			r->clients_day = u;
			r->has_clients_day = 1;
			break;
		case K_K: r->k = u; break;
		case K_INTERVALS: r->intervals = u; break;
		case K_REFUSED: r->refused = u; break;
		case K_TIMEOUTS: r->up[1] = u; break;
		case K_ERRORS: r->up[2] = u; break;
		case K_MISMATCHED: r->up[3] = u; break;
		case K_TCP: r->up[4] = u; break;
		case K_ANSWERS:
			/* An upstream's usable answers, a count (a board's
			   answers are an object): the rtt histogram holds
			   them too, and the pages do not show them apart. */
			if (r->type != REPORT_T_UPSTREAM)
				return (report_rec_bad(r,
				    "a field has the wrong type"));
			break;
		default:
			return (report_rec_bad(r,
			    "a field has the wrong type"));
		}
		return (1);
	case 2:
		switch (report_rec_keys[r->key].kind) {
		case KD_TALLY:
			t = report_rec_tally(r);
			t->v[t->n - 1].n = u;	/* the key came first */
			return (1);
		case KD_ANSWERS:
			r->answers[r->sub] = u;
			return (1);
		case KD_HIDDEN:
			if (r->sub == D_COUNT)
				r->hidden = u;
			return (1);
		default:
			return (report_rec_bad(r,
			    "a field has the wrong type"));
		}
	case 3:
		if (report_rec_keys[r->key].kind == KD_HIST) {
			h = report_rec_hist(r);
			if (r->idx >= REPORT_BUCKETS)
				return (report_rec_bad(r,
				    "a histogram is too long"));
			h->c[r->sub == H_FORWARDED][r->idx++] = u;
			return (1);
		}
		/* A top_blocked entry. */
		if (r->sub == T_COUNT) {
			r->top[r->ntop - 1].count = u;
			r->top[r->ntop - 1].has_count = 1;
		} else if (r->sub == T_CAL) {
			r->top[r->ntop - 1].clients_at_least = u;
			r->top[r->ntop - 1].has_cal = 1;
		} else
			return (report_rec_bad(r, "a site is not a string"));
		return (1);
	}
	return (report_rec_bad(r, "not a JSON object"));
}

static int
report_rec_double(void *ctx, double v)
{
	struct report_rec	*r = ctx;

	if (r->skip > 0 || report_rec_unknown(r))
		return (1);
	if (r->depth == 0)
		return (report_rec_bad(r, "not a JSON object"));
	if (r->depth == 3 && report_rec_keys[r->key].kind == KD_HIST &&
	    r->sub == H_LE) {
		if (r->idx >= REPORT_BUCKETS)
			return (report_rec_bad(r, "a histogram is too long"));
		report_rec_hist(r)->le[r->idx++] = v;
		return (1);
	}
	return (report_rec_bad(r, "a count is not an integer"));
}

static int
report_rec_string(void *ctx, const unsigned char *s, size_t len)
{
	struct report_rec	*r = ctx;
	const char		*p;
	int64_t			 t;

	if (r->skip > 0 || report_rec_unknown(r))
		return (1);
	if (r->depth == 3 && report_rec_keys[r->key].kind == KD_HIST &&
	    r->sub == H_LE) {
		if (r->idx >= REPORT_BUCKETS)
			return (report_rec_bad(r, "a histogram is too long"));
		if ((len == 4 && memcmp(s, "+Inf", 4) == 0) ||
		    (len == 3 && memcmp(s, "Inf", 3) == 0)) {
			report_rec_hist(r)->le[r->idx++] = HUGE_VAL;
			return (1);
		}
		return (report_rec_bad(r, "a histogram bound is not a number"));
	}
	if (r->depth == 3 && report_rec_keys[r->key].kind == KD_TOP &&
	    (r->sub == T_SITE || r->sub == T_CATEGORY)) {
		if ((p = report_rec_str(r, s, len)) == NULL)
			return (report_rec_bad(r, "an empty site or category"));
		if (r->sub == T_SITE)
			r->top[r->ntop - 1].site = p;
		else
			r->top[r->ntop - 1].category = p;
		return (1);
	}
	if (r->depth == 0)
		return (report_rec_bad(r, "not a JSON object"));
	if (r->depth != 1 || report_rec_keys[r->key].kind != KD_STR)
		return (report_rec_bad(r, "a field has the wrong type"));
	switch (r->key) {
	case K_START:
	case K_END:
		if (report_date_parse_time((const char *)s, len, &t) == -1)
			return (report_rec_bad(r,
			    "start or end is not a time"));
		if (r->key == K_START) {
			r->start = t;
			r->has_start = 1;
		} else
			r->end = t;
		return (1);
	default:
		break;
	}
	if ((p = report_rec_str(r, s, len)) == NULL)
		return (report_rec_bad(r, "an empty string"));
	switch (r->key) {
	case K_TYPE:
		if (strcmp(p, "board") == 0 || strcmp(p, "day") == 0)
			r->type = REPORT_T_BOARD;
		else if (strcmp(p, "outside") == 0 ||
		    strcmp(p, "day-outside") == 0)
			r->type = REPORT_T_OUTSIDE;
		else if (strcmp(p, "upstream") == 0 ||
		    strcmp(p, "day-upstream") == 0)
			r->type = REPORT_T_UPSTREAM;
		else
			return (report_rec_bad(r, "unknown type"));
		if ((strncmp(p, "day", 3) == 0) != (r->src == REPORT_SRC_DAY))
			return (report_rec_bad(r, r->src == REPORT_SRC_DAY ?
			    "interval record in a day file" :
			    "day record in an interval file"));
		break;
	case K_NODE:
		r->node = p;
		break;
	case K_BOARD:
		r->board = p;
		break;
	case K_NAME:
		r->name = p;
		break;
	case K_UPSTREAM:
		r->upstream = p;
		break;
	default:
		break;
	}
	return (1);
}

static int
report_rec_map_key(void *ctx, const unsigned char *s, size_t len)
{
	static const char *const hist[] = { "le", "cache", "forwarded",
	    "counts" };
	static const char *const top[] = { "site", "category", "count",
	    "clients_at_least" };
	static const char *const hidden[] = { "count", "sites" };
	struct report_rec	*r = ctx;
	struct report_tally	*t;
	size_t			 i;

	if (r->skip > 0)
		return (1);
	switch (r->depth) {
	case 1:
		r->key = K_OTHER;
		for (i = 0; i < REPORT_REC_NKEYS; i++) {
			if (report_rec_keys[i].len == len &&
			    memcmp(report_rec_keys[i].name, s, len) == 0) {
				r->key = (int)i;
				r->seen |= (uint64_t)1 << i;
				break;
			}
		}
		return (1);
	case 2:
		switch (report_rec_keys[r->key].kind) {
		case KD_TALLY:
			t = report_rec_tally(r);
			if (t->n == t->cap) {
				t->cap = t->cap ? t->cap * 2 : 16;
				t->v = report_mem_realloc(t->v, t->cap,
				    sizeof *t->v);
			}
			if ((t->v[t->n].key = report_rec_str(r, s, len)) == NULL)
				return (report_rec_bad(r, "an empty name"));
			t->v[t->n++].n = 0;
			return (1);
		case KD_ANSWERS:
			r->sub = report_rec_lookup(report_rec_answers,
			    REPORT_NANSWERS, s, len);
			return (1);
		case KD_HIDDEN:
			r->sub = report_rec_lookup(hidden, 2, s, len);
			return (1);
		case KD_HIST:
			r->sub = report_rec_lookup(hist, 4, s, len);
			/* latency has le, cache, forwarded; rtt le, counts. */
			if ((r->key == K_LATENCY && r->sub == H_COUNTS) ||
			    (r->key == K_RTT && (r->sub == H_CACHE ||
			    r->sub == H_FORWARDED)))
				r->sub = -1;
			return (1);
		default:
			return (report_rec_bad(r, "not a JSON object"));
		}
	case 3:
		r->sub = report_rec_lookup(top, 4, s, len);
		return (1);
	}
	return (report_rec_bad(r, "not a JSON object"));
}

static int
report_rec_start_map(void *ctx)
{
	struct report_rec	*r = ctx;

	if (r->skip > 0 || report_rec_unknown(r)) {
		r->skip++;
		return (1);
	}
	switch (r->depth) {
	case 0:
		r->depth = 1;
		return (1);
	case 1:
		switch (report_rec_keys[r->key].kind) {
		case KD_TALLY:
			report_rec_tally(r)->seen = 1;
			/* FALLTHROUGH */
		case KD_ANSWERS:
		case KD_HIDDEN:
			if (r->key == K_ANSWERS)
				r->has_answers = 1;
			r->depth = 2;
			r->sub = -1;
			return (1);
		case KD_HIST:
			report_rec_hist(r)->seen = 1;
			r->depth = 2;
			r->sub = -1;
			return (1);
		default:
			return (report_rec_bad(r,
			    "a field has the wrong type"));
		}
	case 2:
		if (report_rec_keys[r->key].kind != KD_TOP)
			return (report_rec_bad(r,
			    "a field has the wrong type"));
		if (r->ntop == r->captop) {
			r->captop = r->captop ? r->captop * 2 : 32;
			r->top = report_mem_realloc(r->top, r->captop,
			    sizeof *r->top);
		}
		memset(&r->top[r->ntop++], 0, sizeof *r->top);
		r->depth = 3;
		r->sub = -1;
		return (1);
	}
	return (report_rec_bad(r, "a field has the wrong type"));
}

static int
report_rec_end_map(void *ctx)
{
	struct report_rec	*r = ctx;

	if (r->skip > 0) {
		r->skip--;
		return (1);
	}
	r->depth--;
	if (r->depth == 1)
		r->sub = -1;
	return (1);
}

static int
report_rec_start_array(void *ctx)
{
	struct report_rec	*r = ctx;

	if (r->skip > 0 || report_rec_unknown(r)) {
		r->skip++;
		return (1);
	}
	if (r->depth == 1 && report_rec_keys[r->key].kind == KD_TOP) {
		r->depth = 2;
		return (1);
	}
	if (r->depth == 2 && report_rec_keys[r->key].kind == KD_HIST) {
		r->depth = 3;
		r->idx = 0;
		return (1);
	}
	return (report_rec_bad(r, r->depth == 0 ? "not a JSON object" :
	    "a field has the wrong type"));
}

static int
report_rec_end_array(void *ctx)
{
	struct report_rec	*r = ctx;
	struct report_hist	*h;

	if (r->skip > 0) {
		r->skip--;
		return (1);
	}
	if (r->depth == 3) {
		/* The end of a histogram's array: how long it was. */
		h = report_rec_hist(r);
		if (r->sub == H_LE)
			h->nle = r->idx;
		else
			h->n[r->sub == H_FORWARDED] = r->idx;
	}
	r->depth--;
	return (1);
}

static const yajl_callbacks report_rec_callbacks = {
	report_rec_null,
	report_rec_boolean,
	report_rec_integer,
	report_rec_double,
	NULL,
	report_rec_string,
	report_rec_start_map,
	report_rec_map_key,
	report_rec_end_map,
	report_rec_start_array,
	report_rec_end_array
};

/* ------------------------------------------------------------ checks */

/* A histogram that was there must be whole and its bounds rising. */
static const char *
report_rec_check_hist(const struct report_hist *h, int arrays)
{
	int	i;

	if (!h->seen)
		return (NULL);
	if (h->nle != REPORT_BUCKETS || h->n[0] != REPORT_BUCKETS ||
	    (arrays == 2 && h->n[1] != REPORT_BUCKETS))
		return ("a histogram without 16 bounds and counts");
	for (i = 1; i < REPORT_BUCKETS; i++)
		if (!(h->le[i] > h->le[i - 1]))
			return ("histogram bounds that do not rise");
	return (NULL);
}

/* The fields a record of its type must have. */
static const char *
report_rec_check(const struct report_rec *r)
{
	const char	*why;
	size_t		 i;

	if (!SEEN(r, K_TYPE))
		return ("no type");
	if (!SEEN(r, K_START) || !SEEN(r, K_END))
		return ("no start or end");
	switch (r->type) {
	case REPORT_T_BOARD:
		if (r->board == NULL)
			return ("no board id");
		if (!SEEN(r, K_QUERIES))
			return ("no count of queries");
		if ((why = report_rec_check_hist(&r->latency, 2)) != NULL)
			return (why);
		for (i = 0; i < r->ntop; i++)
			if (r->top[i].site == NULL || !r->top[i].has_count)
				return ("a top_blocked entry without site or "
				    "count");
		break;
	case REPORT_T_OUTSIDE:
		if (!SEEN(r, K_QUERIES))
			return ("no count of queries");
		break;
	case REPORT_T_UPSTREAM:
		if (r->upstream == NULL)
			return ("no upstream");
		if ((why = report_rec_check_hist(&r->rtt, 1)) != NULL)
			return (why);
		break;
	}
	return (NULL);
}

/* Forget the last record, keeping the memory. */
static void
report_rec_reset(struct report_rec *r, enum report_src src)
{
	struct report_rec	keep = *r;

	memset(r, 0, sizeof *r);
	r->src = src;
	r->buf = keep.buf;
	r->bufcap = keep.bufcap;
	r->qtype.v = keep.qtype.v;
	r->qtype.cap = keep.qtype.cap;
	r->rcode.v = keep.rcode.v;
	r->rcode.cap = keep.rcode.cap;
	r->blocked.v = keep.blocked.v;
	r->blocked.cap = keep.blocked.cap;
	r->country.v = keep.country.v;
	r->country.cap = keep.country.cap;
	r->as.v = keep.as.v;
	r->as.cap = keep.as.cap;
	r->top = keep.top;
	r->captop = keep.captop;
	r->key = K_OTHER;
	r->sub = -1;
}

enum report_parse
report_rec_parse(struct report_rec *r, const char *line, size_t len,
    enum report_src src, const char **why)
{
	static char	 yerr[160];
	yajl_handle	 h;
	yajl_status	 st;
	unsigned char	*msg;

	report_rec_reset(r, src);
	if (r->bufcap < len + 1) {
		r->bufcap = len + 1 > 4096 ? len + 1 : 4096;
		r->buf = report_mem_realloc(r->buf, r->bufcap, 1);
	}
	if ((h = yajl_alloc(&report_rec_callbacks, NULL, r)) == NULL)
		report_mem_fail();
	st = yajl_parse(h, (const unsigned char *)line, len);
	if (st == yajl_status_ok)
		st = yajl_complete_parse(h);
	if (st == yajl_status_error) {
		/* yajl's own words: "lexical error: invalid char in json". */
		msg = yajl_get_error(h, 0, (const unsigned char *)line, len);
		snprintf(yerr, sizeof yerr, "%s", msg != NULL ?
		    (const char *)msg : "not JSON");
		yerr[strcspn(yerr, "\n")] = '\0';
		if (msg != NULL)
			yajl_free_error(h, msg);
		r->why = yerr;
	}
	yajl_free(h);
	if (r->why == NULL && r->depth != 0)
		r->why = "not a whole JSON object";
	/* A newer version is refused whatever else the line holds. */
	if (SEEN(r, K_V) && r->v > REPORT_FORMAT_VERSION) {
		*why = "format version newer than this veilig-report knows";
		return (REPORT_PARSE_NEWER);
	}
	if (r->why == NULL && (!SEEN(r, K_V) || r->v < 1))
		r->why = "no format version \"v\"";
	if (r->why == NULL)
		r->why = report_rec_check(r);
	if (r->why != NULL) {
		*why = r->why;
		return (REPORT_PARSE_INVALID);
	}
	if (r->type == REPORT_T_UPSTREAM)
		r->up[0] = r->queries;
	*why = NULL;
	return (REPORT_PARSE_OK);
}
