/*
 * report_agg.h: the figures of a report, added up from statistics records.
 *
 * One report_agg holds everything a set of pages shows for one period of
 * days: per board a row of counters per day plus tallies over the period
 * (query types, categories, named sites, latency), the queries from no
 * board, and the upstreams. Records come in one at a time
 * (report_agg_add), each for the day its file is named after; memory grows
 * with boards x days and with the distinct names seen (sites, AS numbers),
 * never with the number of records. Records come parsed and checked
 * (report_rec.h).
 *
 * Rules from the statistics format (STATS-FORMAT, "Reading several nodes"):
 * - counts add, over intervals, day parts and nodes;
 * - distinct clients do not: each day part of each node has its own keys,
 *   so a day's figure is the sum over them, an upper bound once more than
 *   one was added (report_board.summed says so);
 * - a site is named only when a record named it with clients_at_least at
 *   least the threshold (the larger of the record's k and the report's k);
 *   adding up never names a site, and a named entry below the threshold
 *   is counted with the unnamed ones.
 *
 * Interval records are only added for the parts of a day that no day
 * record covers (report_read.c decides which); their clients_day figures
 * run up within one process's part of the day, so the reader marks where
 * a part ends (report_agg_part_end) and the largest figure of each part is
 * what is added.
 *
 * The agg owns everything reachable from it; strings live in its arena.
 */
#ifndef VEILIG_REPORT_AGG_H
#define VEILIG_REPORT_AGG_H

#include <stdint.h>

#include "report_map.h"
#include "report_mem.h"
#include "report_rec.h"

#define REPORT_MAX_DAYS		3660	/* longest period: ten years */

/* Counters per board per day: a row of REPORT_COLS. */
enum report_col {
	REPORT_QUERIES,
	REPORT_BLOCKED,		/* answers.blocked */
	REPORT_CACHE,
	REPORT_FORWARDED,
	REPORT_STALE,
	REPORT_REWRITTEN,
	REPORT_REFUSED,
	REPORT_ERROR,
	REPORT_DROPPED,		/* answers.dropped: no answer sent */
	REPORT_SAFE_SEARCH,
	REPORT_CANARY,		/* blocked.canary */
	REPORT_CLIENTS,		/* sum over nodes and parts: see above */
	REPORT_COLS
};

/* Counters per upstream per day. */
enum report_ucol {
	REPORT_UP_QUERIES,
	REPORT_UP_TIMEOUTS,
	REPORT_UP_ERRORS,
	REPORT_UP_MISMATCHED,
	REPORT_UP_TCP,
	REPORT_UP_COLS
};

struct report_board {
	const char	*id;		/* board id: file name without .yaml */
	const char	*name;		/* its name: (the last seen), or id */
	uint64_t	*day;		/* ndays rows of REPORT_COLS */
	uint8_t		*parts;		/* per day: client figures added (max 255) */
	struct report_map qtype;	/* query type -> n */
	struct report_map rcode;	/* rcode -> n */
	struct report_map cats;		/* blocked category -> n */
	struct report_map sites;	/* named site -> n, str = category */
	uint64_t	 lat_cache[REPORT_BUCKETS];
	uint64_t	 lat_fwd[REPORT_BUCKETS];
	uint64_t	 hidden;	/* blocked answers for sites not named */
	uint64_t	 records;	/* records added */
	uint64_t	 corrupt;	/* corrupt lines that named this board */
	int		 kmin;		/* smallest k of its records, 0: none */
	int		 summed;	/* a day's clients added over >1 part */

	/* The uncovered part of the day being read (report_agg_part_end). */
	uint64_t	 part_max;	/* largest clients_day of the open part */
	uint64_t	 part_sum;	/* finished parts' figures */
	int		 part_n;	/* parts with a figure, finished or open */
	int		 part_open;	/* in the list of boards to close */
};

struct report_upstream {
	const char	*name;		/* "127.0.0.1:5300" */
	uint64_t	*day;		/* ndays rows of REPORT_UP_COLS */
	uint64_t	 rtt[REPORT_BUCKETS];
};

struct report_agg {
	long		 from, to, ndays;	/* day numbers, inclusive */
	int		 k;		/* the report's threshold (--k) */
	const char	*only;		/* the one board wanted, or NULL */
	struct report_mem_arena *arena;

	struct report_map board_ix;	/* id -> idx into boards */
	struct report_board **boards;
	size_t		 nboards;

	uint64_t	*out_day;	/* ndays rows: queries, refused */
	struct report_map out_country;	/* country -> n */
	struct report_map out_as;	/* AS number -> n */
	uint64_t	 out_records;

	struct report_map up_ix;	/* name -> idx into ups */
	struct report_upstream **ups;
	size_t		 nups;

	double		 le[REPORT_BUCKETS];	/* the bucket bounds */
	int		 have_le;
	uint64_t	 le_mismatch;	/* histograms skipped: other bounds */

	struct report_map nodes;	/* node -> records */
	struct report_map strs;		/* interned categories, names */
	uint64_t	 ilen[16][2];	/* interval length (s), votes */
	int		 nilen;
	uint64_t	 records;	/* records added */
	uint64_t	 corrupt;	/* lines skipped as corrupt */
	uint64_t	 corrupt_anon;	/* ... of which named no board */
	int		 kmin;		/* smallest k of any record, 0: none */

	struct report_board **open;	/* boards with an uncovered part open */
	size_t		 nopen, capopen;
	long		 open_day;
};

/*
 * A report for days from..to (inclusive, at most REPORT_MAX_DAYS), with
 * site threshold k, for board only (NULL: every board, the queries of no
 * board and the upstreams).
 */
struct report_agg	*report_agg_new(long from, long to, int k,
			    const char *only);
void			 report_agg_free(struct report_agg *);

/*
 * Add one record that belongs to day (from..to): 1, or 0 when it is not
 * wanted (another board than the one asked for, or a day outside).
 */
int			 report_agg_add(struct report_agg *,
			    const struct report_rec *, long day);
/*
 * The process whose interval lines were being added for day has ended its
 * part: add each board's clients_day figure of it to that day.
 */
void			 report_agg_part_end(struct report_agg *);
/* Count a corrupt line; board[0..len) if it could be seen, else NULL. */
void			 report_agg_corrupt(struct report_agg *,
			    const char *board, size_t len);

/* A board, or NULL. */
struct report_board	*report_agg_board(struct report_agg *, const char *id);
/* Sum of a board's column over the period. */
uint64_t		 report_agg_total(const struct report_agg *,
			    const struct report_board *, enum report_col);
/*
 * A board that adds up all boards (for the service page); the caller
 * frees it with report_agg_board_free().
 */
struct report_board	*report_agg_all(struct report_agg *);
void			 report_agg_board_free(struct report_board *);
/* The threshold a page states: the larger of the report's k and kmin. */
int			 report_agg_threshold(const struct report_agg *,
			    const struct report_board *);
/* The usual interval length in seconds, 0 if none was seen. */
uint64_t		 report_agg_interval(const struct report_agg *);
/*
 * The bucket bound below which fraction p of the counts lie (the upper
 * bound of the bucket holding it); -1 for no counts, +Inf for the last.
 */
double			 report_agg_quantile(const struct report_agg *,
			    const uint64_t *counts, double p);

#endif
