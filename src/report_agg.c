/*
 * report_agg.c: the figures of a report, added up from statistics records
 * (see report_agg.h for the rules).
 *
 * A record arrives whole and checked (report_rec_parse), so one that is
 * wrong in its last field never leaves half its counts behind.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "report_agg.h"
#include "report_date.h"

/* The day column each of report_rec_answers[] adds to. */
static const enum report_col report_agg_answer_col[REPORT_NANSWERS] = {
	REPORT_CACHE, REPORT_FORWARDED, REPORT_STALE, REPORT_BLOCKED,
	REPORT_REWRITTEN, REPORT_REFUSED, REPORT_ERROR, REPORT_DROPPED
};

struct report_agg *
report_agg_new(long from, long to, int k, const char *only)
{
	struct report_agg	*agg;

	if (to < from || to - from + 1 > REPORT_MAX_DAYS)
		return (NULL);
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
	return (agg);
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
	return (report_map_get(&agg->strs, agg->arena, s, len)->key);
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
	return (b);
}

/* The board id[0..len), made if new. */
static struct report_board *
report_agg_board_get(struct report_agg *agg, const char *id, size_t len)
{
	struct report_map_ent	*e;

	e = report_map_get(&agg->board_ix, agg->arena, id, len);
	if (e->idx < agg->nboards)
		return (agg->boards[e->idx]);
	agg->boards = report_mem_realloc(agg->boards, agg->nboards + 1,
	    sizeof *agg->boards);
	agg->boards[agg->nboards++] = report_agg_board_new(agg, e->key);
	return (agg->boards[e->idx]);
}

struct report_board *
report_agg_board(struct report_agg *agg, const char *id)
{
	struct report_map_ent	*e;

	if ((e = report_map_find(&agg->board_ix, id, strlen(id))) == NULL)
		return (NULL);
	return (agg->boards[e->idx]);
}

/* The upstream name[0..len), made if new. */
static struct report_upstream *
report_agg_upstream_get(struct report_agg *agg, const char *name, size_t len)
{
	struct report_map_ent	*e;
	struct report_upstream	*u;

	e = report_map_get(&agg->up_ix, agg->arena, name, len);
	if (e->idx < agg->nups)
		return (agg->ups[e->idx]);
	u = report_mem_calloc(1, sizeof *u);
	u->name = e->key;
	u->day = report_mem_calloc(agg->ndays * REPORT_UP_COLS,
	    sizeof *u->day);
	agg->ups = report_mem_realloc(agg->ups, agg->nups + 1,
	    sizeof *agg->ups);
	agg->ups[agg->nups++] = u;
	return (u);
}

/* ------------------------------------------------------------ adding */

/* Add an object of counts to a tally. */
static void
report_agg_add_tally(struct report_agg *agg, struct report_map *m,
    const struct report_tally *t)
{
	size_t	i;

	for (i = 0; i < t->n; i++)
		report_map_get(m, agg->arena, t->v[i].key,
		    strlen(t->v[i].key))->n += t->v[i].n;
}

/* Add a histogram if its bounds are the ones already seen. */
static void
report_agg_add_hist(struct report_agg *agg, const struct report_hist *h,
    const uint64_t *counts, uint64_t *to)
{
	size_t	i;

	if (!agg->have_le) {
		memcpy(agg->le, h->le, sizeof agg->le);
		agg->have_le = 1;
	}
	for (i = 0; i < REPORT_BUCKETS; i++) {
		if (h->le[i] != agg->le[i] &&
		    fabs(h->le[i] - agg->le[i]) > 1e-9 * fabs(agg->le[i])) {
			agg->le_mismatch++;
			return;
		}
	}
	for (i = 0; i < REPORT_BUCKETS; i++)
		to[i] += counts[i];
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
	const struct report_site *t;
	uint64_t		 thr;
	size_t			 i;

	thr = r->k > (uint64_t)agg->k ? r->k : (uint64_t)agg->k;
	for (i = 0; i < r->ntop; i++) {
		t = &r->top[i];
		/* No clients_at_least: nothing shows it passed, so unnamed. */
		if (!t->has_cal || t->clients_at_least < thr) {
			b->hidden += t->count;
			continue;
		}
		e = report_map_get(&b->sites, agg->arena, t->site,
		    strlen(t->site));
		e->n += t->count;
		if (e->str == NULL && t->category != NULL)
			e->str = report_agg_intern(agg, t->category,
			    strlen(t->category));
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
	size_t			 i;

	b = report_agg_board_get(agg, r->board, strlen(r->board));
	if (r->name != NULL && strcmp(b->name, r->name) != 0)
		b->name = report_agg_intern(agg, r->name, strlen(r->name));
	row = b->day + di * REPORT_COLS;
	row[REPORT_QUERIES] += r->queries;
	for (i = 0; i < REPORT_NANSWERS; i++)
		row[report_agg_answer_col[i]] += r->answers[i];
	report_agg_add_tally(agg, &b->cats, &r->blocked);
	for (i = 0; i < r->blocked.n; i++) {
		if (strcmp(r->blocked.v[i].key, "canary") == 0)
			row[REPORT_CANARY] += r->blocked.v[i].n;
		blocked += r->blocked.v[i].n;
	}
	/* Without answers, the categories are the blocked answers. */
	if (!r->has_answers)
		row[REPORT_BLOCKED] += blocked;
	row[REPORT_SAFE_SEARCH] += r->safe_search;
	report_agg_add_tally(agg, &b->qtype, &r->qtype);
	report_agg_add_tally(agg, &b->rcode, &r->rcode);
	if (r->latency.seen) {
		report_agg_add_hist(agg, &r->latency, r->latency.c[0],
		    b->lat_cache);
		report_agg_add_hist(agg, &r->latency, r->latency.c[1],
		    b->lat_fwd);
	}
	report_agg_add_top(agg, b, r);
	b->hidden += r->hidden;
	if (r->k > 0 && r->k <= 1000000) {
		if (b->kmin == 0 || (int)r->k < b->kmin)
			b->kmin = (int)r->k;
		if (agg->kmin == 0 || (int)r->k < agg->kmin)
			agg->kmin = (int)r->k;
	}
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
	report_agg_add_tally(agg, &agg->out_country, &r->country);
	report_agg_add_tally(agg, &agg->out_as, &r->as);
	agg->out_records++;
}

static void
report_agg_apply_upstream(struct report_agg *agg, const struct report_rec *r,
    long di)
{
	struct report_upstream	*u;
	size_t			 i;

	u = report_agg_upstream_get(agg, r->upstream, strlen(r->upstream));
	for (i = 0; i < REPORT_NUPCOLS; i++)
		u->day[di * REPORT_UP_COLS + i] += r->up[i];
	if (r->rtt.seen)
		report_agg_add_hist(agg, &r->rtt, r->rtt.c[0], u->rtt);
}

int
report_agg_add(struct report_agg *agg, const struct report_rec *r, long day)
{
	long	di;

	if (day < agg->from || day > agg->to)
		return (0);
	di = day - agg->from;
	if (agg->only != NULL && (r->type != REPORT_T_BOARD ||
	    strcmp(r->board, agg->only) != 0))
		return (0);
	/* Parts of different days never mix (the reader closes them). */
	if (agg->nopen > 0 && day != agg->open_day)
		report_agg_part_end(agg);
	agg->open_day = day;
	if (r->node != NULL)
		report_map_get(&agg->nodes, agg->arena, r->node,
		    strlen(r->node))->n++;
	switch (r->type) {
	case REPORT_T_BOARD:
		report_agg_apply_board(agg, r, di);
		break;
	case REPORT_T_OUTSIDE:
		report_agg_apply_outside(agg, r, di);
		break;
	case REPORT_T_UPSTREAM:
		report_agg_apply_upstream(agg, r, di);
		break;
	}
	agg->records++;
	return (1);
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
	return (sum);
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
	return (all);
}

int
report_agg_threshold(const struct report_agg *agg,
    const struct report_board *b)
{
	return (b->kmin > agg->k ? b->kmin : agg->k);
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
	return (best);
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
		return (-1);
	target = p * (double)total;
	for (i = 0; i < REPORT_BUCKETS; i++) {
		cum += counts[i];
		if ((double)cum >= target)
			return (agg->le[i]);
	}
	return (agg->le[REPORT_BUCKETS - 1]);
}
