/*
 * report_rec.h: one statistics record (one JSON line) parsed and checked.
 *
 * The parse is yajl's event parser (libyajl, Debian's libyajl-dev) driven
 * by a small state machine that knows the record's shape (STATS-FORMAT,
 * version 1): no tree is built, nothing is allocated per value, and a
 * value of the wrong type, a missing field or broken JSON makes the whole
 * record invalid with a reason. Fields this reader does not know are
 * skipped, so a writer may add some without breaking it; a "v" above
 * REPORT_FORMAT_VERSION is refused.
 *
 * Why not jansson, which the daemon's side may use to write: a report over
 * a year reads a million records, and building and freeing a jansson tree
 * per line took 47 MB/s here against yajl's 222 MB/s (tests/bench/README.md
 * has the figures); the reading is most of a report's time.
 *
 * A struct report_rec is reused from line to line: its strings point into
 * its own buffer and stay valid until the next report_rec_parse().
 */
#ifndef VEILIG_REPORT_REC_H
#define VEILIG_REPORT_REC_H

#include <stddef.h>
#include <stdint.h>

#define REPORT_FORMAT_VERSION	1	/* the "v" this reader knows */
#define REPORT_BUCKETS		16	/* latency histogram buckets */
#define REPORT_NANSWERS		8	/* keys of "answers", in this order: */
#define REPORT_NUPCOLS		5	/* upstream counts, in this order: */

/* "answers": cache, forwarded, stale, blocked, rewritten, refused, error,
   dropped. */
extern const char *const report_rec_answers[REPORT_NANSWERS];
/* Upstream counts: queries, timeouts, errors, mismatched, tcp. */
extern const char *const report_rec_upcols[REPORT_NUPCOLS];

/* Which file a record came from: day summaries or interval lines. */
enum report_src {
	REPORT_SRC_DAY,
	REPORT_SRC_INTERVAL
};

enum report_type {
	REPORT_T_BOARD,		/* "board" or "day" */
	REPORT_T_OUTSIDE,	/* "outside" or "day-outside" */
	REPORT_T_UPSTREAM	/* "upstream" or "day-upstream" */
};

/* What a line was. */
enum report_parse {
	REPORT_PARSE_OK,
	REPORT_PARSE_INVALID,	/* not a record of this format: corrupt */
	REPORT_PARSE_NEWER	/* "v" newer than this reader: refuse */
};

/* One name and count of an object of counts ({"A": 6000, ...}). */
struct report_kv {
	const char	*key;
	uint64_t	 n;
};

struct report_tally {
	struct report_kv *v;
	size_t		  n, cap;
	int		  seen;		/* the key was there */
};

/* One entry of top_blocked. */
struct report_site {
	const char	*site;
	const char	*category;	/* NULL if absent */
	uint64_t	 count;
	uint64_t	 clients_at_least;
	int		 has_count;
	int		 has_cal;	/* clients_at_least was there */
};

/* A histogram: bounds and counts, REPORT_BUCKETS of each. */
struct report_hist {
	int		 seen;
	int		 nle, n[2];	/* entries read */
	double		 le[REPORT_BUCKETS];
	uint64_t	 c[2][REPORT_BUCKETS];	/* cache/forwarded, or counts */
};

struct report_rec {
	/* Common fields. */
	uint64_t	 v;
	enum report_type type;
	enum report_src	 src;
	const char	*node;		/* NULL if absent */
	int64_t		 start, end;	/* seconds since the epoch */
	int		 has_start;	/* start was a valid time, even if the
					   record is not valid otherwise */
	uint64_t	 seconds;

	/* board/day: */
	const char	*board;
	const char	*name;		/* NULL if absent */
	uint64_t	 queries;
	struct report_tally qtype, rcode, blocked;
	uint64_t	 answers[REPORT_NANSWERS];
	int		 has_answers;
	uint64_t	 safe_search;
	uint64_t	 clients;
	uint64_t	 clients_day;
	int		 has_clients_day;
	uint64_t	 k;		/* 0: absent */
	uint64_t	 intervals;
	struct report_hist latency;	/* c[0] cache, c[1] forwarded */
	struct report_site *top;
	size_t		 ntop, captop;
	uint64_t	 hidden;	/* top_blocked_hidden.count */

	/* outside/day-outside: */
	uint64_t	 refused;
	struct report_tally country, as;

	/* upstream/day-upstream: */
	const char	*upstream;
	uint64_t	 up[REPORT_NUPCOLS];
	struct report_hist rtt;		/* c[0] counts */

	/* The parse (report_rec.c). */
	char		*buf;		/* the record's strings */
	size_t		 buflen, bufcap;
	uint64_t	 seen;		/* bit per top-level key seen */
	int		 depth, skip, key, sub, idx;
	const char	*why;
};

void	report_rec_init(struct report_rec *);
void	report_rec_clear(struct report_rec *);
/*
 * Parse line[0..len) from a file of kind src into r. REPORT_PARSE_OK, or
 * INVALID/NEWER with *why saying what was wrong (a static string, or
 * yajl's message kept in r until the next parse).
 */
enum report_parse report_rec_parse(struct report_rec *r, const char *line,
		    size_t len, enum report_src src, const char **why);

#endif
