/*
 * stats.h: statistics per board and interval, without personal data.
 *
 * What is counted (README "Statistics" and "Privacy"): per board and
 * interval the queries by type and by rcode, how they were answered,
 * blocked answers per category, safe-search rewrites, the answers a
 * limit cut short (enum stats_limit), latency histograms, the number of
 * distinct clients (a HyperLogLog over keyed hashes of the
 * addresses, hll.c) and the blocked sites that at least k distinct clients
 * ran into (kanon.c); queries from addresses of no board by country and AS
 * (and those a limit cut short);
 * per upstream its queries, timeouts, errors, mismatched answers and round
 * trip times. No address and no query is ever kept beyond the second in
 * which it was counted, and none is written.
 *
 * Two sides:
 *
 * - Workers count into a struct stats_worker of their own: plain integers,
 *   no lock and no atomic operation shared with anyone. Each has two
 *   recorder sets; a global flip says which one workers write. The
 *   worker loads it once per batch with stats_worker_begin(), inside the
 *   read section it already holds for the configuration snapshot.
 *
 * - Main ticks once a second (stats_tick): it flips, waits for a grace
 *   period (every worker has left the read sections that may still write
 *   the old set), then folds the old set into the open interval and
 *   clears it. At the end of an interval it adds the interval to the day
 *   and the running totals and writes one JSON line per board that had
 *   queries (statsfile.c); at the end of a day, or when stopped, the day
 *   summaries. The daemon does the fold and the close in slices
 *   (stats_tick_begin, stats_tick_slice). Prometheus and veiligctl read
 *   the totals with the open interval added, at most a second or two
 *   old (a fold in slices is seen part done).
 *
 * Boards are known by their id, the board file's name without .yaml,
 * which a reload does not change: stats_map_new() gives every board of a
 * new snapshot the stable number ("sid") its id had before, so counts
 * follow boards, not their position in the configuration. Categories
 * (list names, "deny", "canary", "country:XX", "as:N") get stable numbers
 * the same way; a reload that reorders lists changes nothing.
 *
 * Ownership: main creates the struct stats and one struct stats_worker
 * per worker (stats_worker_new), which stats_free() frees with it; a
 * struct stats_map belongs to the configuration snapshot it was made for.
 * Everything on main's side (tick, flush, configure, the output
 * functions) is called from the main thread; the metrics thread reads
 * through stats_prometheus(), which takes the one lock.
 */
#ifndef VEILIG_STATS_H
#define VEILIG_STATS_H

#include <sys/socket.h>

#include <stddef.h>
#include <stdint.h>
#include <time.h>

struct conf;
struct evbuffer;
struct geo;
struct policy;
struct stats;
struct stats_map;
struct stats_worker;

/* How a query was answered: the "answers" of a record. */
enum stats_answer {
	STATS_CACHE = 0,	/* from the cache */
	STATS_FORWARDED,	/* after an upstream query (ours or shared) */
	STATS_STALE,		/* an expired answer (RFC 8767) */
	STATS_BLOCKED,		/* a blocked answer, question or answer */
	STATS_REWRITTEN,	/* safe search or an RPZ CNAME */
	STATS_REFUSED,		/* REFUSED: zone transfers and the like */
	STATS_ERROR,		/* FORMERR, NOTIMP, BADVERS, our SERVFAIL */
	STATS_DROPPED,		/* no answer at all */
	STATS_NANSWERS
};

/*
 * The limits that cut an answer short (README "Limits"), as bits of
 * stats_query.limited: the "limited" counts of a record. The first four
 * say why a query was answered at once instead of forwarded (at most one
 * of them), the last two what response rate limiting did to its answer.
 */
enum stats_limit {
	STATS_LIM_FAILED = 0,	/* SERVFAIL at once: the upstreams failed
				   the question a moment ago (RFC 9520) */
	STATS_LIM_FORWARDED,	/* not forwarded: limits.forwarded */
	STATS_LIM_PER_QUESTION,	/* ... limits.forwarded-per-question */
	STATS_LIM_CLIENT_SHARE,	/* ... limits.client-share */
	STATS_LIM_RRL_DROPPED,	/* not sent: over the response rate */
	STATS_LIM_RRL_SLIPPED,	/* sent cut to the question, TC=1 */
	STATS_NLIMITS
};

/* Categories beyond the policy's bits (0..63). */
#define STATS_CAT_DENY		64	/* the board's deny: list */
#define STATS_CAT_CANARY	65	/* a canary name */
#define STATS_CAT_BITS		66	/* size of a map's category table */

/* No board: the query came from an address of no board's networks. */
#define STATS_OUTSIDE		(-1)

/* Latency and round-trip buckets, in seconds; the last is +Inf. */
#define STATS_NBUCKETS		16
extern const double	stats_bucket_le[STATS_NBUCKETS - 1];

/*
 * One query as it was answered, for stats_count(). Everything is read
 * during the call and nothing is kept: the address is hashed with the
 * day's key and forgotten, the name is kept (for a blocked answer) until
 * main reduces it to its registrable domain within the second.
 */
struct stats_query {
	const struct sockaddr	*from;		/* the client */
	const uint8_t		*lname;		/* lower-case wire name, or
						   NULL when unparsed */
	size_t			 name_len;
	uint16_t		 qtype;		/* 0 when unparsed */
	int			 rcode;		/* of the answer; -1 none */
	enum stats_answer	 answer;
	int			 category;	/* STATS_BLOCKED: policy bit or
						   STATS_CAT_*; else -1 */
	int			 safe_search;	/* a safe-search rewrite */
	int			 upstream;	/* it waited for an upstream */
	unsigned		 limited;	/* 1 << enum stats_limit, or'd */
	uint64_t		 ns;		/* from receipt to answer, or
						   STATS_NS_BATCH */
};

/* In stats_query.ns: answered in the batch; stats_worker_end() times it. */
#define STATS_NS_BATCH		UINT64_MAX

/* What an upstream did, for stats_upstream(). */
enum stats_up_event {
	STATS_UP_SENT = 0,	/* a query sent over UDP */
	STATS_UP_SENT_TCP,	/* a query sent over TCP (after TC=1) */
	STATS_UP_ANSWER,	/* a usable answer, with its round trip */
	STATS_UP_TIMEOUT,	/* no answer in time */
	STATS_UP_ERROR,		/* SERVFAIL, REFUSED, malformed, TCP failed */
	STATS_UP_MISMATCH,	/* an answer dropped: address, ID, question */
	STATS_UP_SCRUBBED,	/* records outside the question's chain, n */
};

/* ---- main thread ---- */

/*
 * Counting for nworkers workers under the stats:, log-queries: and
 * geoip: settings of conf. Nothing is written until the first interval
 * ends. NULL with *cause set (allocated) on failure (no memory, the
 * stats directory cannot be made).
 */
struct stats	*stats_new(const struct conf *conf, unsigned nworkers,
		    char **cause);
/* The statistics directory if stats_new() made it, else NULL. */
const char	*stats_dir_made(const struct stats *);

/* Free everything, the workers' recorders included. No writing. */
void		 stats_free(struct stats *);

/* Worker i's recorder, for the worker to count into. */
struct stats_worker *stats_worker(struct stats *, unsigned i);

/*
 * Stable numbers for the boards, categories and upstreams of a new
 * configuration (conf and its policy), before it is published: the
 * snapshot keeps the map and frees it with stats_map_free(). NULL if out
 * of memory.
 */
struct stats_map *stats_map_new(struct stats *, const struct conf *conf,
		    const struct policy *policy);
void		 stats_map_free(struct stats_map *);

/*
 * Take the stats:, log-queries: and node settings of conf (a reload);
 * say so in the log when the query log is switched on or off. Call after
 * stats_flush(), so that a new interval length or k applies from a
 * fresh interval on.
 */
void		 stats_configure(struct stats *, const struct conf *conf);

/*
 * Once a second: fold the workers' counts into the open interval and
 * the totals; at the end of an interval write it out, at the end of a
 * day the day summaries, and remove old files. now is the wall clock.
 */
void		 stats_tick(struct stats *, time_t now);

/*
 * stats_tick() in slices, for the daemon, so that a worker sharing main's
 * core waits for a slice, not for a whole fold or close (with 10,000
 * boards a fold takes tens of milliseconds, a board's first one and an
 * interval's close several hundred). stats_tick_begin() flips the
 * workers to their other recorder sets and folds for about ns
 * nanoseconds; stats_tick_slice() folds for about ns more, then, once
 * all is folded, closes in slices an interval or day that ended at the
 * flip. Each returns when it wants the next slice, in microseconds from
 * now, or -1 when nothing is left. Every slice does some work (a batch),
 * however small ns. A begin while a fold or close is still going puts
 * the flip off (the workers keep their sets) at most twice, then
 * finishes it at once; stats_flush() and stats_map_new() finish it
 * first. Counts are the same as with stats_tick(). Each slice of the
 * fold is a part fold of veilig_stats_tick_seconds, each of the close
 * a part close.
 */
#define STATS_SLICE_NS		500000
long		 stats_tick_begin(struct stats *, time_t now, uint64_t ns);
long		 stats_tick_slice(struct stats *, uint64_t ns);

/*
 * How long the next slice may be, in nanoseconds, since ns passed since
 * the last one ended: an eighth of that (a third once the fold is late
 * in its second), so that main takes no more of a core than a busy
 * worker sharing it can spare however late the slice's timer comes
 * (with the worker running, tens of milliseconds late), and never a
 * long pause: between STATS_SLICE_NS and 8 times that.
 */
uint64_t	 stats_tick_budget(const struct stats *, uint64_t since);

/*
 * Write the open interval now and start a new one (a reload); with
 * end_day also the summaries of the day so far (the process stops).
 */
void		 stats_flush(struct stats *, time_t now, int end_day);

/*
 * For the tests (test_stats_records.c): the records a close at end would
 * write now, each board's of the open interval (with day, of the day
 * part), the outside's and the upstreams', as the close writes them into
 * *ours and as json_dumps() wrote the jansson objects the close built
 * until 2026-12 into *ref. Nothing is counted, moved or freed. 0, or -1
 * out of memory; the caller frees both strings.
 */
int		 stats_records_pair(struct stats *, time_t end, int day,
		    char **ours, char **ref);

/* When the next tick is due, in microseconds from now (aligned to the
   second, so that intervals end close to their boundary). */
long		 stats_tick_usec(void);

/* A counter of the daemon's own, shown by stats_show() too. */
struct stats_extra {
	const char	*name;		/* "queries.udp" */
	uint64_t	 value;
};

/*
 * veiligctl stats [--json] [BOARD]: the daemon's counters (extra), then
 * the open interval (as of the last tick), today and the totals of one
 * board (its id, or its name) or all, as text lines or one JSON object.
 * 0, or -1 with the reason in out (no such board).
 */
int		 stats_show(struct stats *, const char *board, int json,
		    const struct stats_extra *extra, size_t nextra,
		    struct evbuffer *out);

/*
 * The Prometheus text of the statistics (per board, outside, upstream,
 * and the statistics' own health) appended to out. Any thread: takes the
 * lock that the fold takes.
 */
void		 stats_prometheus(struct stats *, struct evbuffer *out);

/* ---- worker threads ---- */

/*
 * Start counting a batch: load which recorder set is active. Call inside
 * the snapshot read section, after snapshot_read_begin(), and again in
 * every new read section before stats_count(). received is when the
 * batch came in (stats_clock() time; 0 when this is no batch), for the
 * answers counted with STATS_NS_BATCH.
 */
void		 stats_worker_begin(struct stats_worker *, uint64_t received);

/*
 * The batch's answers go out now: their time from receipt is measured
 * once, here, for all of them (a clock read costs about 100 ns in a
 * virtual machine: too much to pay per cached answer). Call before the
 * read section ends.
 */
void		 stats_worker_end(struct stats_worker *);

/*
 * Count one query, answered for the board with index board in the
 * policy of the snapshot whose map is map (STATS_OUTSIDE for no board).
 * No allocation once the worker has seen the board before.
 */
void		 stats_count(struct stats_worker *, const struct stats_map *map,
		    int board, const struct stats_query *q);

/*
 * The query from the client at from (or NULL) has been found to be
 * board's (an index as for stats_count): start loading the board's
 * recorder and the client's slot in the second's set of clients (its
 * keyed hash worked out now, into the worker's memo, where stats_count()
 * finds it), so that the cache misses of a worker with many boards or
 * many clients overlap the work on the query before it is counted. What
 * is counted is the same with it or without.
 */
void		 stats_prefetch(struct stats_worker *,
		    const struct stats_map *map, int board,
		    const struct sockaddr *from);

/*
 * Count an upstream event for the upstream at ss; n is the round trip in
 * nanoseconds for STATS_UP_ANSWER, the records dropped from an answer for
 * STATS_UP_SCRUBBED, and not used for the others. Takes its own read section: the forwarder's callbacks
 * run outside the worker's.
 */
void		 stats_upstream(struct stats_worker *,
		    const struct sockaddr_storage *ss, enum stats_up_event ev,
		    uint64_t n);

/* Nanoseconds of CLOCK_MONOTONIC, for stats_query.ns. */
uint64_t	 stats_clock(void);

#endif
