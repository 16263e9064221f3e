/*
 * stats.c: counting per board without personal data; see stats.h.
 *
 * The query path. A worker's stats_count() costs, for a board it has
 * seen before: a few increments in its board recorder (a fixed struct of
 * 32-bit counters), one SipHash of the client address under the day's
 * key and one probe of an open-addressed set of (board, hash) pairs that
 * removes repeats within the second, and nothing else. A blocked answer
 * adds its category to a slot of the board recorder (a probe of a
 * (board, category) counter table when no slot is free) and, for the top
 * blocked sites, the name copied into a ring of blocked names (repeats
 * within the second are folded into one record through a small direct
 * mapped index). The registrable domain (libpsl, a microsecond) is worked
 * out by main when it folds the ring, not by the worker: that keeps the
 * blocked path as fast as before. Nothing is allocated except the first
 * time a worker meets a board, or when a set of distinct clients
 * outgrows its table (it doubles, up to a bound), so in steady state no
 * allocation happens at all.
 *
 * Why sets of (board, client hash) in the workers and not sketches: a
 * HyperLogLog per board per worker per set would cost 2 KiB x 2 x boards
 * x workers (1.2 GiB for 10,000 boards and 32 workers); the sets cost 16
 * octets per distinct client and board per second, and main feeds them
 * into one interval and one day sketch per board (hll.c).
 *
 * The flip (stats.h): main writes the keys of the set it is about to
 * activate, stores the new set number with release order, and waits for
 * a grace period (snapshot_wait); a worker loads the number with acquire
 * order inside its read section. So every write into a set happens in a
 * read section that began before the flip that retired the set, and the
 * grace period waits for all of them: when main folds the set nobody
 * writes it, with no lock and no atomic read-modify-write anywhere.
 *
 * Keys: the client hash is SipHash-1-3 of the address under the day's
 * key (random, memory only, replaced at local midnight); the interval
 * sketch and the k-anonymity table take SipHash of that hash under the
 * interval's key (random, replaced every interval). Neither key is ever
 * written, so no hash in memory can be checked against an address by
 * anyone who later reads the files, and the hashes of two intervals or
 * two days cannot be linked. The files hold only the estimates.
 */
#include <sys/types.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <jansson.h>

#include "conf.h"
#include "geo.h"
#include "hll.h"
#include "huge.h"
#include "jsonw.h"
#include "kanon.h"
#include "log.h"
#include "metrics.h"
#include "policy.h"
#include "siphash.h"
#include "site.h"
#include "snapshot.h"
#include "stats.h"
#include "statsfile.h"
#include "wire.h"

#define STATS_VERSION		1	/* of the record format */
#define STATS_NQTYPES		17	/* stats_qtype_names */
#define STATS_NRCODES		8	/* stats_rcode_names */
#define STATS_MAX_CATS		128	/* category numbers in a lifetime */
#define STATS_CAT_OTHER		0	/* when they run out */
#define STATS_MAX_UPS		64	/* upstream addresses in a lifetime */
#define STATS_WUPS		32	/* upstreams in one worker set */
#define STATS_RING		(1024 * 1024) /* octets of blocked names */
#define STATS_DEDUP		1024	/* slots of the ring's index */
#define STATS_CLIENTS_MIN	1024	/* client set slots, a power of 2 */
#define STATS_CLIENTS_MAX	(1U << 20) /* 16 MiB: then clients are lost */
#define STATS_CATS_MIN		256
#define STATS_CATS_MAX		(1U << 18)
#define STATS_NCC		(26 * 26 + 1) /* country codes, unknown */
#define STATS_WAS		256	/* AS slots in a worker set */
#define STATS_AS_MAX		4096	/* AS slots in a period, power of 2 */
#define STATS_SITES_BOARD	4096	/* sites per board and interval */
#define STATS_SITES_BYTES	(64UL << 20) /* all interval site tables */
#define STATS_DAY_SITES		16384	/* named sites per board and day */
#define STATS_DAY_BYTES		(64UL << 20) /* all day site tables */
#define STATS_LATE		2	/* seconds: a tick this late past an
					   interval's end ends it "now" */
#define STATS_PEND		64	/* boards with answers of one batch
					   waiting for its time */
#define STATS_MEMO_BITS		8
#define STATS_MEMO		(1U << STATS_MEMO_BITS) /* recent clients */
#define STATS_MEMO_NONE		UINT32_MAX /* memo sid: counted for none */
#define STATS_FOLD_BATCH	32	/* clients whose sketch registers
					   are prefetched together */
#define STATS_FOLD_RECS		8	/* boards' records in a fold batch */
#define STATS_FOLD_SCAN		4096	/* table slots a fold batch reads */
#define STATS_FOLD_ALL		UINT64_MAX /* stats_fold_run(): no limit */
#define STATS_SLICE_GAP		4000	/* us between a fold's slices */
#define STATS_SLICE_SHARE	8	/* a slice: 1/8 of the time since the
					   last one, at most */
#define STATS_SLICE_HURRY	600	/* ms after the flip: a fold late */
#define STATS_SLICE_GAP_LATE	1000	/* ... slices this far apart, */
#define STATS_SLICE_SHARE_LATE	3	/* ... and 1/3 of the time */
#define STATS_DEFER_MAX		2	/* ticks a fold may put a flip off */
#define STATS_CLOSE_BATCH	16	/* boards in a batch of a close */

const double stats_bucket_le[STATS_NBUCKETS - 1] = {
	0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05,
	0.1, 0.25, 0.5, 1, 2.5, 5,
};
static const uint64_t stats_bucket_ns[STATS_NBUCKETS - 1] = {
	100000, 250000, 500000, 1000000, 2500000, 5000000, 10000000,
	25000000, 50000000, 100000000, 250000000, 500000000, 1000000000,
	2500000000ULL, 5000000000ULL,
};

static const char *const stats_qtype_names[STATS_NQTYPES] = {
	"A", "AAAA", "HTTPS", "SVCB", "CNAME", "MX", "TXT", "PTR", "NS",
	"SOA", "SRV", "DS", "DNSKEY", "CAA", "NAPTR", "ANY", "other",
};
static const char *const stats_rcode_names[STATS_NRCODES] = {
	"NOERROR", "FORMERR", "SERVFAIL", "NXDOMAIN", "NOTIMP", "REFUSED",
	"BADVERS", "other",
};
static const char *const stats_answer_names[STATS_NANSWERS] = {
	"cache", "forwarded", "stale", "blocked", "rewritten", "refused",
	"error", "dropped",
};
static const char *const stats_limit_names[STATS_NLIMITS] = {
	"failed", "forwarded", "per_question", "client_share", "rrl_dropped",
	"rrl_slipped",
};

/* ---- the workers' side ---- */

/*
 * One board in one worker set: what one second of queries adds up to.
 * With many boards every query meets a record out of the cache, so a
 * usual query writes one line of it: line 0 holds the batch's pending
 * answers, the latency sums and a few slots, each a kind of count and
 * its value, at a place the kind's hash says (stats_slot_add). A query's type, answer kind and rcode are
 * one kind together (what a board sees in a second is mostly a handful
 * of such triples), an answer latency bucket another, the category of a
 * blocked answer a third (which, when it finds no slot, goes to the
 * set's table of (board, category) counts: with many boards a slot of
 * that table was a cache miss for every blocked answer). The lines after
 * it hold the counters of every kind, which take what the slots cannot
 * (all in use, or a count too large for one) and the rarer counts (safe
 * search, limits, lost sites): a query writes them seldom, and the fold
 * reads them only when "cold" says they were written. Whether the board
 * is in the set's dirty list is a bit in a small bitmap (stats_set.seen),
 * not a field here.
 */
#define STATS_NSLOTS_BITS	3
#define STATS_NSLOTS		(1U << STATS_NSLOTS_BITS)
#define STATS_SLOT_BITS		20	/* of a slot's value */
#define STATS_SLOT_MAX		((1U << STATS_SLOT_BITS) - 1)
#define STATS_SLOT_QUERY	(1U << 11) /* | qtype << 6 | answer << 3
					      | rcode */
#define STATS_SLOT_LAT		(1U << 10) /* | upstream << 4 | bucket */
#define STATS_SLOT_CAT		(1U << 9)  /* | category: blocked answers */

/*
 * Do F to each counter that slot kind key (STATS_SLOT_QUERY or
 * STATS_SLOT_LAT) names in d: the cold lines of a stats_brec or a
 * stats_counts (the same fields, wider). The one place that reads a
 * kind's fields back.
 */
#define STATS_SLOT_EACH(d, key, F) do {					\
	unsigned stats_answer_ = ((key) >> 3) & 7;			\
									\
	if ((key) & STATS_SLOT_QUERY) {					\
		F((d)->qtype[((key) >> 6) & 31]);			\
		F((d)->answer[stats_answer_]);				\
		/* A dropped query has no answer and so no rcode. */	\
		if (stats_answer_ != STATS_DROPPED)			\
			F((d)->rcode[(key) & 7]);			\
	} else								\
		F((d)->lat[((key) >> 4) & 1][(key) & 15]);		\
} while (0)

/* Add n to the counters that slot kind key names in d. */
#define STATS_SLOT_ADD_(x)	((x) += stats_n_)
#define STATS_SLOT_COUNT(d, key, n) do {				\
	uint32_t stats_n_ = (n);					\
									\
	STATS_SLOT_EACH(d, key, STATS_SLOT_ADD_);			\
} while (0)

/* Start loading the line of a counter that is about to be written. */
#define STATS_SLOT_PREFETCH_(x)	__builtin_prefetch(&(x), 1)

struct stats_brec {
	uint32_t	pend[2];	/* answers of the batch, not timed yet */
	uint64_t	lat_ns[2];	/* the sum of the latencies [up] */
	uint32_t	slot[STATS_NSLOTS]; /* kind << STATS_SLOT_BITS |
					       count; 0: free */
	uint32_t	cold;		/* the lines below were written */

	uint32_t	answer[STATS_NANSWERS] __attribute__((aligned(64)));
	uint32_t	rcode[STATS_NRCODES];
	uint32_t	qtype[STATS_NQTYPES];
	uint32_t	safe_search;
	uint32_t	limited[STATS_NLIMITS];
	uint32_t	sites_lost;	/* blocked, no room in the ring */
	uint32_t	lat[2][STATS_NBUCKETS];	/* [upstream] */
} __attribute__((aligned(64)));
/* A slot's kind in the 12 bits above its count, each field in its bits. */
_Static_assert(STATS_NQTYPES <= 32 && STATS_NANSWERS <= 8 &&
    STATS_NRCODES <= 8 && STATS_NBUCKETS <= 16 && STATS_SLOT_BITS == 20 &&
    STATS_MAX_CATS <= STATS_SLOT_CAT &&
    (STATS_MAX_CATS & (STATS_MAX_CATS - 1)) == 0,
    "stats_brec: a slot's kind does not fit in its 12 bits");
_Static_assert(offsetof(struct stats_brec, answer) == 64,
    "stats_brec: the line a query writes, then the cold ones");
_Static_assert(sizeof(struct stats_brec) == 6 * 64,
    "stats_brec: six cache lines");

/* A (board, category) count, sid1 = board + 1 (0: free slot). */
struct stats_cslot {
	uint32_t	sid1;
	uint16_t	cat;
	uint32_t	count;
};

/* A distinct (board, client hash) of this second. */
struct stats_hslot {
	uint64_t	hash;
	uint32_t	sid1;
};

/* A blocked name in the ring, followed by its octets (8-aligned). */
struct stats_bev {
	uint64_t	client;
	uint32_t	sid;
	uint32_t	count;
	uint16_t	cat;
	uint8_t		len;
	uint8_t		name[];
};

/* Queries of no board. */
struct stats_orec {
	uint32_t	queries;
	uint32_t	refused;
	uint32_t	limited[STATS_NLIMITS];
	uint32_t	cc[STATS_NCC];
	struct {
		uint32_t	asn;		/* 0: free */
		uint32_t	count;
	}		as[STATS_WAS];
	uint32_t	as_unknown;
	uint32_t	as_other;	/* no room */
};

/* One upstream in one worker set. */
struct stats_urec {
	struct sockaddr_storage	 ss;
	uint32_t		 queries;
	uint32_t		 tcp;
	uint32_t		 answers;
	uint32_t		 timeouts;
	uint32_t		 errors;
	uint32_t		 mismatched;
	uint32_t		 scrubbed;
	uint32_t		 rtt[STATS_NBUCKETS];
	uint64_t		 rtt_ns;
};

/* What a worker writes in one tick; two per worker (the flip). */
struct stats_set {
	struct stats_brec	*recs;		/* by sid, nboards of them */
	uint32_t		 nboards;
	uint32_t		*dirty;		/* sids written this tick */
	uint32_t		 ndirty;
	uint64_t		*seen;		/* bit sid: in dirty */
	struct stats_cslot	*cats;
	uint32_t		 catcap, ncats;
	struct stats_hslot	*clients;
	uint32_t		 clientcap, nclients;
	uint8_t			*ring;
	size_t			 ringlen;
	uint64_t		 dedup[STATS_DEDUP];	/* hash << 32 | ring
							   offset + 1 */
	struct stats_orec	 outside;
	int			 outside_dirty;
	struct stats_urec	 ups[STATS_WUPS];
	unsigned		 nups;
	uint64_t		 lost_clients;
	uint64_t		 lost_cats;
	uint64_t		 lost_ups;
};

/*
 * A client met in this second: its hash and the board it was counted
 * for (STATS_MEMO_NONE: hashed by stats_prefetch(), not counted yet), so
 * that its next queries in the second cost no SipHash and no probe of
 * the set. Emptied whenever the worker meets a flip. 256 of them, so
 * that the 64 clients of a batch that stats_prefetch() puts here seldom
 * push each other out before stats_count() comes to them.
 */
struct stats_memo {
	uint8_t		addr[16];	/* 4 used for IPv4 */
	int		family;		/* 0: free */
	uint32_t	sid;
	uint64_t	hash;
};

struct stats_worker {
	struct stats		*st;
	struct stats_set	*cur;		/* loaded by begin */
	const struct siphash_key *key;		/* the day's, for cur */
	unsigned		 memo_set;	/* the flip memo is of */
	struct stats_memo	 memo[STATS_MEMO];
	uint64_t		 t0;		/* the batch's receipt */
	uint32_t		 pend[STATS_PEND]; /* sids with pend[] counts
						      in cur */
	unsigned		 npend;
	struct stats_set	 sets[2];
};

/* ---- main's side ---- */

/* Counts of a board over some time, 64-bit. */
struct stats_counts {
	uint64_t	qtype[STATS_NQTYPES];
	uint64_t	rcode[STATS_NRCODES];
	uint64_t	answer[STATS_NANSWERS];
	uint64_t	safe_search;
	uint64_t	limited[STATS_NLIMITS];
	uint64_t	lat[2][STATS_NBUCKETS];
	uint64_t	lat_ns[2];
	uint64_t	cat[STATS_MAX_CATS];
};

/*
 * A board's interval or day part: counts, clients, sites. A day's counts
 * stop where the open interval starts: the fold adds a second's counts
 * to the interval only, and the interval is added to the day and the
 * total when it closes (stats_counts_merge), so that with many boards
 * the fold writes one set of counters per board and second, not three.
 * Readers of today or the totals add the open interval.
 */
struct stats_period {
	struct stats_counts	 c;
	struct hll		 hll;
	struct kanon		*sites;		/* interval: at k; day:
						   named ones (k = 0) */
	uint64_t		 hidden;	/* day: hidden answers */
	unsigned		 intervals;	/* day: intervals summed */
};

/*
 * The boards' periods come from slabs of a huge page each (huge.c), not
 * one malloc each: the fold adds every client of a second to two
 * sketches (2 KiB each) of its board, and with 10,000 boards those are
 * 40 MiB written at random, a TLB miss each on 4 KiB pages. A period
 * freed (an interval's at its close, a day's at the day's end) waits in
 * a list for the next board that needs one; the slabs go with the
 * statistics. A slab's first line holds the next slab.
 */
#define STATS_PSIZE	((sizeof(struct stats_period) + 63) & ~(size_t)63)
#define STATS_PSLAB	((HUGE_PAGE - 64) / STATS_PSIZE) /* periods a slab */

struct stats_pslab {
	struct stats_pslab	*next;
};

struct stats_pfree {
	struct stats_pfree	*next;
};

/*
 * Where the fold of one worker set adds a board's clients and blocked
 * sites: its periods, noted for the boards the set wrote (NULL: not
 * noted), so that each of its clients and blocked names reads them from
 * this small array, not from the board's line, which with many boards is
 * out of the cache again by the time its next client comes.
 */
struct stats_foldp {
	struct stats_period	*ival, *day;
};

/* A board ever seen, by its id; never removed while we run. */
struct stats_board {
	char			*id;		/* file name without .yaml */
	char			*name;		/* its name: */
	int			 live;		/* in the policy in force */
	struct stats_counts	 total;		/* since start, up to the
						   open interval (ival) */
	struct stats_period	*ival;		/* NULL: no queries yet */
	struct stats_period	*day;
	uint64_t		 clients_last;	/* last whole interval */
	uint64_t		 clients_day;	/* today so far */
	size_t			 sites_last;	/* sites of its last interval's
						   table: the next one's size */
};

/* AS number counts of a period (open addressing). */
struct stats_asmap {
	uint32_t	asn[STATS_AS_MAX];	/* 0: free */
	uint64_t	count[STATS_AS_MAX];
	unsigned	n;
	uint64_t	unknown;
	uint64_t	other;			/* no room */
};

struct stats_ocounts {
	uint64_t		queries;
	uint64_t		refused;
	uint64_t		limited[STATS_NLIMITS];
	uint64_t		cc[STATS_NCC];
};

struct stats_ucounts {
	uint64_t	queries;
	uint64_t	tcp;
	uint64_t	answers;
	uint64_t	timeouts;
	uint64_t	errors;
	uint64_t	mismatched;
	uint64_t	scrubbed;
	uint64_t	rtt[STATS_NBUCKETS];
	uint64_t	rtt_ns;
};

/* An upstream address ever used. */
struct stats_up {
	char			 name[64];	/* "192.0.2.53:53" */
	struct sockaddr_storage	 ss;
	int			 live;
	struct stats_ucounts	 total, ival, day;
	time_t			 last_ok;	/* tick of the last answer */
	time_t			 last_fail;	/* of the last timeout */
};

/*
 * What a board's record is of (stats_rec_board(), stats_json_board()):
 * board b's period p, an interval or with day the day part. clients is
 * the estimate of p's sketch, clients_day (an interval's record) of the
 * day's: the caller has them, and a count is a pass over 4096 registers,
 * for every board at every interval's end. An interval's named sites go
 * into dayp's table too (the day's, or NULL).
 */
struct stats_boardrec {
	struct stats_board	*b;
	struct stats_period	*p;
	int			 day;
	uint64_t		 clients;
	uint64_t		 clients_day;
	time_t			 start, end;
	struct stats_period	*dayp;
};

/*
 * The fields every record of a close starts with (stats_rec_head()),
 * the same for each board's: written once a close and type, copied after.
 */
struct stats_head {
	const char	*type;		/* NULL: none yet */
	time_t		 start, end;
	size_t		 len;
	char		 text[512];
};

/* An interval's or day's records, in memory until written at once. */
struct stats_out {
	int			on;	/* records wanted (stats.dir) */
	struct jsonw		w;
	struct stats_head	head;
};

/*
 * The phases of folding one worker set, in order (stats_fold_step()).
 */
enum stats_phase {
	STATS_PH_RECS = 0,	/* the dirty boards' records */
	STATS_PH_CATS,		/* the (board, category) counts */
	STATS_PH_CLIENTS,	/* the distinct clients, into the sketches */
	STATS_PH_RING,		/* the blocked names, into the site tables */
	STATS_PH_FORGET,	/* the periods noted in st->foldp */
	STATS_PH_REST		/* outside, upstreams, losses */
};

/* How far a close got (stats_tick_close()). */
enum stats_closing {
	STATS_CL_NONE = 0,	/* not begun */
	STATS_CL_IVAL,		/* the boards' interval records, by id */
	STATS_CL_DAY		/* the boards' day summaries, by id */
};

/*
 * Where main's fold of the sets the workers left at a flip stands. The
 * fold goes in slices (stats_tick_slice()), so that a worker on main's
 * core waits a slice, not a whole fold: through the workers' old sets one
 * after the other, each phase in batches. The old sets are main's until
 * the next flip, which finishes a fold that is still going first; an
 * interval or day that ended at the flip is closed when the fold is done.
 */
struct stats_cursor {
	int			 busy;		/* a fold not finished */
	unsigned		 worker;	/* folding its sets[set] */
	unsigned		 set;
	enum stats_phase	 phase;
	uint32_t		 i;		/* next board or slot */
	size_t			 off;		/* next ring octet */
	time_t			 now;		/* the flip's tick */
	uint64_t		 flipped;	/* stats_clock() then */
	int			 close;		/* an interval ended at it */
	int			 newday;	/* ... and a day */
	enum stats_closing	 closing;	/* how far the close got */
	time_t			 end, dend;	/* where they end */
	struct stats_out	 out;		/* the close's records */
	unsigned		 deferred;	/* ticks it put the next flip
						   off */
};

struct stats {
	pthread_mutex_t		 lock;		/* totals and registry, for
						   the metrics thread */
	/* settings */
	char			*dir;
	int			 dir_made;	/* by stats_new() */
	uint32_t		 interval;
	unsigned		 k;
	unsigned		 top;
	uint32_t		 retention;	/* days */
	char			*node;
	int			 have_cc, have_asn;
	int			 have_log;	/* log-queries: */

	/* registry */
	struct stats_board	**boards;	/* by sid */
	uint32_t		 nboards, capboards;
	struct stats_foldp	*foldp;		/* by sid, capboards */
	uint32_t		*byid;		/* sids sorted by id */
	char			*cats[STATS_MAX_CATS];
	unsigned		 ncats;
	struct stats_up		 ups[STATS_MAX_UPS];
	unsigned		 nups;

	/* workers */
	struct stats_worker	**workers;
	unsigned		 nworkers;
	unsigned		 flip;		/* flips so far; the set
						   workers write is flip & 1 */
	struct stats_cursor	 cur;		/* the fold of the other */
	struct siphash_key	 set_key[2];	/* day key of each set */
	struct siphash_key	 day_key;
	struct siphash_key	 ival_key;

	/* outside, main side */
	struct stats_ocounts	 out_total, out_ival, out_day;
	struct stats_asmap	*as_ival, *as_day;

	/* time */
	time_t			 started;
	time_t			 ival_start, ival_end;
	time_t			 day_start, day_end;
	time_t			 last_tick;
	unsigned		 day_intervals;

	struct site		*site;
	struct kanon_budget	 ival_budget, day_budget;

	/* the boards' periods, the fold's and close's (one thread at
	   a time: main, or a reload's in its stead): see stats_period() */
	struct stats_pslab	*pslabs;	/* newest first */
	size_t			 pslab_used;	/* periods cut from it */
	struct stats_pfree	*pfree;		/* periods freed */

	/* the statistics' own health, for Prometheus */
	uint64_t		 lost_clients, lost_cats, lost_ups;
	uint64_t		 write_errors;
	time_t			 last_write;
	uint64_t		 lines;
	/* the buckets' bounds as a record writes them, made once */
	char			 le[192];
	size_t			 lelen;
	/*
	 * The main thread's time in stats_tick(), [0] the fold (every
	 * second), [1] an interval's or day's close: latency buckets and
	 * nanoseconds, under the lock.
	 */
	uint64_t		 tick_lat[2][STATS_NBUCKETS];
	uint64_t		 tick_ns[2];
};

struct stats_map {
	uint32_t		*sid;		/* by policy board index */
	char			**id;		/* the board ids, for the log */
	size_t			 nboards;
	uint16_t		 cat[STATS_CAT_BITS];
	const struct geo	*geo;
	int			 have_cc, have_asn;
	int			 log_queries;
};

static void	stats_close_interval(struct stats *, time_t);
static void	stats_close_day(struct stats *, time_t);
static void	stats_tick_finish(struct stats *);

/* ---- small helpers ---- */

uint64_t
stats_clock(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ((uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec);
}

/* Index of a query type in stats_qtype_names (a switch: no loop). */
static unsigned
stats_qtype(uint16_t qtype)
{
	switch (qtype) {
	case 1:		return (0);	/* A */
	case 28:	return (1);	/* AAAA */
	case 65:	return (2);	/* HTTPS */
	case 64:	return (3);	/* SVCB */
	case 5:		return (4);	/* CNAME */
	case 15:	return (5);	/* MX */
	case 16:	return (6);	/* TXT */
	case 12:	return (7);	/* PTR */
	case 2:		return (8);	/* NS */
	case 6:		return (9);	/* SOA */
	case 33:	return (10);	/* SRV */
	case 43:	return (11);	/* DS */
	case 48:	return (12);	/* DNSKEY */
	case 257:	return (13);	/* CAA */
	case 35:	return (14);	/* NAPTR */
	case 255:	return (15);	/* ANY */
	default:	return (STATS_NQTYPES - 1);
	}
}

/* Index of an rcode in stats_rcode_names. */
static unsigned
stats_rcode(int rcode)
{
	if (rcode >= 0 && rcode <= 5)
		return ((unsigned)rcode);
	return (rcode == 16 ? 6 : 7);
}

/* The latency bucket of ns: most answers fall in the first ones. */
static unsigned
stats_bucket(uint64_t ns)
{
	unsigned	i;

	for (i = 0; i < STATS_NBUCKETS - 1; i++)
		if (ns <= stats_bucket_ns[i])
			return (i);
	return (STATS_NBUCKETS - 1);
}

/*
 * The address of sa in *addr (4 or 16 octets, a v4-mapped IPv6 address
 * as IPv4) and its family; 0 for an unknown family.
 */
static int
stats_addr(const struct sockaddr *sa, const uint8_t **addr)
{
	static const uint8_t	 mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
				    0xff, 0xff };
	const struct sockaddr_in6 *sin6;

	if (sa->sa_family == AF_INET) {
		*addr = (const uint8_t *)
		    &((const struct sockaddr_in *)(const void *)sa)->sin_addr;
		return (AF_INET);
	}
	if (sa->sa_family != AF_INET6)
		return (0);
	sin6 = (const struct sockaddr_in6 *)(const void *)sa;
	*addr = sin6->sin6_addr.s6_addr;
	if (memcmp(*addr, mapped, 12) == 0) {
		*addr += 12;
		return (AF_INET);
	}
	return (AF_INET6);
}

/* Are the addresses of alen octets (4 or 16) at a and b the same? */
static inline int
stats_addr_equal(const uint8_t *a, const uint8_t *b, size_t alen)
{
	uint64_t	x[2], y[2];
	uint32_t	u, v;

	/* Word compares: a call to memcmp() cost a tenth of stats_count. */
	if (alen == 4) {
		memcpy(&u, a, 4);
		memcpy(&v, b, 4);
		return (u == v);
	}
	memcpy(x, a, 16);
	memcpy(y, b, 16);
	return (x[0] == y[0] && x[1] == y[1]);
}

/* The memo slot of an address of alen octets (4 or 16). */
static inline struct stats_memo *
stats_memo_slot(struct stats_worker *w, const uint8_t *addr, size_t alen)
{
	uint32_t	x;

	memcpy(&x, addr + alen - 4, 4);
	return (&w->memo[(x * 2654435761U) >> (32 - STATS_MEMO_BITS)]);
}

/* Same upstream address and port? */
static int
stats_ss_equal(const struct sockaddr_storage *a,
    const struct sockaddr_storage *b)
{
	const struct sockaddr_in	*a4, *b4;
	const struct sockaddr_in6	*a6, *b6;

	if (a->ss_family != b->ss_family)
		return (0);
	if (a->ss_family == AF_INET) {
		a4 = (const struct sockaddr_in *)(const void *)a;
		b4 = (const struct sockaddr_in *)(const void *)b;
		return (a4->sin_port == b4->sin_port &&
		    a4->sin_addr.s_addr == b4->sin_addr.s_addr);
	}
	if (a->ss_family == AF_INET6) {
		a6 = (const struct sockaddr_in6 *)(const void *)a;
		b6 = (const struct sockaddr_in6 *)(const void *)b;
		return (a6->sin6_port == b6->sin6_port &&
		    memcmp(&a6->sin6_addr, &b6->sin6_addr, 16) == 0);
	}
	return (0);
}

/* "2026-12-01T10:05:00+01:00" for t, local time. */
static const char *
stats_iso(time_t t, char *buf, size_t cap)
{
	struct tm	tm;
	char		z[8];

	localtime_r(&t, &tm);
	strftime(buf, cap, "%Y-%m-%dT%H:%M:%S", &tm);
	strftime(z, sizeof z, "%z", &tm);
	/* ISO 8601 wants the offset as +01:00, strftime gives +0100. */
	if (strlen(z) == 5)
		snprintf(buf + strlen(buf), cap - strlen(buf), "%.3s:%.2s", z,
		    z + 3);
	return (buf);
}

/* Local midnight of the day of t, or of the next day. */
static time_t
stats_midnight(time_t t, int next)
{
	struct tm	tm;

	localtime_r(&t, &tm);
	tm.tm_hour = tm.tm_min = tm.tm_sec = 0;
	tm.tm_mday += next;
	tm.tm_isdst = -1;
	return (mktime(&tm));
}

/* The end of the interval t is in: intervals count from local midnight. */
static time_t
stats_boundary(const struct stats *st, time_t t)
{
	time_t	day0 = stats_midnight(t, 0), day1 = stats_midnight(t, 1);
	time_t	end;

	end = day0 + ((t - day0) / st->interval + 1) * st->interval;
	return (end > day1 ? day1 : end);
}

/* ---- the workers' side: counting ---- */

/* Add n to the counter of slot kind key in the cold lines of r. */
static void
stats_cold_add(struct stats_brec *r, uint32_t key, uint32_t n)
{
	r->cold = 1;
	STATS_SLOT_COUNT(r, key, n);
}

/*
 * Add n to the count of kind key in r's slots: in its slot in the
 * record's first line, or a free one, from the place of its hash on (a
 * board's few kinds of a second mostly find theirs at the first try).
 * 0 when it is there, or what must be counted elsewhere: n, when all
 * slots hold other kinds, or n and the slot's count when that would
 * overflow. Slots are freed only by the fold, so a free one ends the
 * search.
 */
static inline uint32_t
stats_slot_put(struct stats_brec *r, uint32_t key, uint32_t n)
{
	uint32_t	v;
	unsigned	i, j;

	i = (key * 0x9e3779b1U) >> (32 - STATS_NSLOTS_BITS);
	for (j = 0; j < STATS_NSLOTS; j++, i = (i + 1) & (STATS_NSLOTS - 1)) {
		v = r->slot[i];
		if (v >> STATS_SLOT_BITS == key) {
			if ((v & STATS_SLOT_MAX) + (uint64_t)n <=
			    STATS_SLOT_MAX) {
				r->slot[i] = v + n;
				return (0);
			}
			r->slot[i] = key << STATS_SLOT_BITS;
			return (n + (v & STATS_SLOT_MAX));
		}
		if (v == 0) {
			if (n > STATS_SLOT_MAX)
				break;
			r->slot[i] = key << STATS_SLOT_BITS | n;
			return (0);
		}
	}
	return (n);
}

/*
 * Add n to the count of kind key (STATS_SLOT_QUERY or STATS_SLOT_LAT
 * with its fields) in r: in a slot, or else in the cold lines.
 */
static inline void
stats_slot_add(struct stats_brec *r, uint32_t key, uint32_t n)
{
	if ((n = stats_slot_put(r, key, n)) != 0)
		stats_cold_add(r, key, n);
}

void
stats_worker_begin(struct stats_worker *w, uint64_t received)
{
	unsigned	f = __atomic_load_n(&w->st->flip, __ATOMIC_ACQUIRE);

	/* Answers still pending belong to the set they were counted in. */
	if (w->npend != 0)
		stats_worker_end(w);
	w->cur = &w->sets[f & 1];
	w->key = &w->st->set_key[f & 1];
	w->t0 = received;
	/*
	 * A new set: its clients are not in it yet, its key may be new.
	 * By the count of flips, not the set: a worker idle for two ticks
	 * finds the same set again, but emptied by the fold in between
	 * (and maybe under a new day's key), so its memo is stale.
	 */
	if (f != w->memo_set) {
		explicit_bzero(w->memo, sizeof w->memo);
		w->memo_set = f;
	}
}

void
stats_worker_end(struct stats_worker *w)
{
	struct stats_brec	*r;
	uint64_t		 ns;
	unsigned		 i, up, b;

	if (w == NULL || w->npend == 0)
		return;
	ns = w->t0 != 0 ? stats_clock() - w->t0 : 0;
	b = stats_bucket(ns);
	for (i = 0; i < w->npend; i++) {
		r = &w->cur->recs[w->pend[i]];
		for (up = 0; up < 2; up++) {
			if (r->pend[up] == 0)
				continue;
			stats_slot_add(r, STATS_SLOT_LAT | up << 4 | b,
			    r->pend[up]);
			r->lat_ns[up] += r->pend[up] * ns;
			r->pend[up] = 0;
		}
	}
	w->npend = 0;
}

/* One more answer of the batch for r, timed by stats_worker_end(). */
static void
stats_pend(struct stats_worker *w, struct stats_brec *r, uint32_t sid,
    unsigned up)
{
	if (r->pend[0] + r->pend[1] == 0) {
		/* More boards in one batch than we keep: time them now. */
		if (w->npend == STATS_PEND)
			stats_worker_end(w);
		w->pend[w->npend++] = sid;
	}
	r->pend[up]++;
}

/*
 * Make room in set s for the boards up to sid (a board new since the set
 * was sized: rare). The records move; nothing points at them but pend[],
 * which holds sids. 0, or -1 when out of memory.
 */
static int
stats_brec_grow(struct stats_set *s, uint32_t sid)
{
	struct stats_brec	*nr;
	uint32_t		 *nd, n;
	uint64_t		 *ns;

	n = (sid + 64) & ~63U;
	if (n < s->nboards * 2)
		n = s->nboards * 2;
	if ((nd = reallocarray(s->dirty, n, sizeof *nd)) == NULL)
		return (-1);
	s->dirty = nd;
	if ((ns = reallocarray(s->seen, n / 64, sizeof *ns)) == NULL)
		return (-1);
	memset(ns + s->nboards / 64, 0, (n - s->nboards) / 8);
	s->seen = ns;
	if ((nr = huge_alloc((size_t)n * sizeof *nr)) == NULL)
		return (-1);
	if (s->nboards > 0)
		memcpy(nr, s->recs, s->nboards * sizeof *nr);
	huge_free(s->recs, s->nboards * sizeof *nr);
	s->recs = nr;
	s->nboards = n;
	return (0);
}

/*
 * The recorder of board sid in set s; NULL when out of memory. The
 * records are one array by sid, so that stats_prefetch() finds one
 * without reading a pointer first.
 */
static struct stats_brec *
stats_brec(struct stats_set *s, uint32_t sid)
{
	struct stats_brec	*r;
	uint64_t		 bit = 1ULL << (sid & 63);

	if (sid >= s->nboards && stats_brec_grow(s, sid) == -1)
		return (NULL);
	r = &s->recs[sid];
	if ((s->seen[sid / 64] & bit) == 0) {
		s->seen[sid / 64] |= bit;
		s->dirty[s->ndirty++] = sid;
	}
	return (r);
}

/* Slot of (sid1, hash) in an open-addressed table of cap (power of 2). */
static uint32_t
stats_hslot_index(uint64_t hash, uint32_t sid1, uint32_t cap)
{
	return ((uint32_t)((hash ^ (sid1 * 0x9e3779b97f4a7c15ULL)) >> 20) &
	    (cap - 1));
}

/* Put (sid1, hash) into table t of cap slots; 1 if it was new. */
static int
stats_hslot_put(struct stats_hslot *t, uint32_t cap, uint32_t sid1,
    uint64_t hash)
{
	uint32_t	i = stats_hslot_index(hash, sid1, cap);

	while (t[i].sid1 != 0) {
		if (t[i].hash == hash && t[i].sid1 == sid1)
			return (0);
		i = (i + 1) & (cap - 1);
	}
	t[i].sid1 = sid1;
	t[i].hash = hash;
	return (1);
}

/* Double the client set (rare: a second with more clients than ever). */
static int
stats_clients_grow(struct stats_set *s)
{
	struct stats_hslot	*t;
	uint32_t		 cap, i;

	cap = s->clientcap == 0 ? STATS_CLIENTS_MIN : s->clientcap * 2;
	if (cap > STATS_CLIENTS_MAX ||
	    (t = huge_alloc(cap * sizeof *t)) == NULL)
		return (-1);
	for (i = 0; i < s->clientcap; i++)
		if (s->clients[i].sid1 != 0)
			stats_hslot_put(t, cap, s->clients[i].sid1,
			    s->clients[i].hash);
	huge_free(s->clients, s->clientcap * sizeof *s->clients);
	s->clients = t;
	s->clientcap = cap;
	return (0);
}

/* Remember client hash h of board sid for this second. */
static void
stats_client(struct stats_set *s, uint32_t sid, uint64_t h)
{
	if (2 * (s->nclients + 1) > s->clientcap &&
	    stats_clients_grow(s) == -1 && s->nclients + 1 >=
	    s->clientcap - s->clientcap / 8) {
		/* Full and cannot grow: this client goes uncounted. */
		s->lost_clients++;
		return;
	}
	s->nclients += (uint32_t)stats_hslot_put(s->clients, s->clientcap,
	    sid + 1, h);
}

/* Slot of (sid1, cat) in the category table. */
static uint32_t
stats_cslot_index(uint32_t sid1, uint16_t cat, uint32_t cap)
{
	return ((uint32_t)(((uint64_t)sid1 << 8 ^ cat) * 0x9e3779b97f4a7c15ULL
	    >> 40) & (cap - 1));
}

/* Add n to (sid1, cat) in t; 0, or -1 when t is full. */
static int
stats_cslot_add(struct stats_cslot *t, uint32_t cap, uint32_t sid1,
    uint16_t cat, uint32_t n, uint32_t *used)
{
	uint32_t	i = stats_cslot_index(sid1, cat, cap);

	while (t[i].sid1 != 0) {
		if (t[i].sid1 == sid1 && t[i].cat == cat) {
			t[i].count += n;
			return (0);
		}
		i = (i + 1) & (cap - 1);
	}
	if (used != NULL) {
		if (2 * (*used + 1) > cap)
			return (-1);
		(*used)++;
	}
	t[i].sid1 = sid1;
	t[i].cat = cat;
	t[i].count = n;
	return (0);
}

/* Count n blocked answers of category cat for board sid in the table. */
static void
stats_cat(struct stats_set *s, uint32_t sid, uint16_t cat, uint32_t n)
{
	struct stats_cslot	*t;
	uint32_t		 cap, i, used = 0;

	if (s->catcap != 0 && stats_cslot_add(s->cats, s->catcap, sid + 1,
	    cat, n, &s->ncats) == 0)
		return;
	/* Full, or not there yet: double it (rare). */
	cap = s->catcap == 0 ? STATS_CATS_MIN : s->catcap * 2;
	if (cap > STATS_CATS_MAX || (t = huge_alloc(cap * sizeof *t)) == NULL) {
		s->lost_cats++;
		return;
	}
	for (i = 0; i < s->catcap; i++)
		if (s->cats[i].sid1 != 0)
			stats_cslot_add(t, cap, s->cats[i].sid1,
			    s->cats[i].cat, s->cats[i].count, &used);
	huge_free(s->cats, s->catcap * sizeof *s->cats);
	s->cats = t;
	s->catcap = cap;
	s->ncats = used;
	stats_cslot_add(s->cats, s->catcap, sid + 1, cat, n, &s->ncats);
}

/*
 * Note a blocked name for the top blocked sites: one record per board,
 * category, client and name per second, counted. The index only finds
 * recent repeats; a miss costs a record, not a wrong count.
 */
static void
stats_ring(struct stats_set *s, struct stats_brec *r, uint32_t sid,
    uint16_t cat, uint64_t client, const uint8_t *lname, size_t len)
{
	struct stats_bev	*e;
	uint64_t		 a = 0, b = 0, h;
	size_t			 need;
	uint32_t		 slot;

	/*
	 * The index's hash takes the name's first and last eight octets
	 * (a constant cost: a loop over every octet cost 30 ns a blocked
	 * answer); a hit is compared in full, so a collision costs a record,
	 * never a wrong count. It is no table an outsider could overload.
	 */
	memcpy(&a, lname, len < 8 ? len : 8);
	if (len > 8)
		memcpy(&b, lname + len - 8, 8);
	h = (client ^ a * 0x9e3779b97f4a7c15ULL ^ b * 0xc2b2ae3d27d4eb4fULL ^
	    ((uint64_t)sid << 32 | (uint64_t)cat << 8 | len)) *
	    0x165667b19e3779f9ULL;
	slot = (uint32_t)(h >> 40) & (STATS_DEDUP - 1);
	/*
	 * The slot keeps 32 bits of the hash beside the offset: a record is
	 * read (a cache miss into the ring) only when they match.
	 */
	if (s->dedup[slot] != 0 && (uint32_t)(s->dedup[slot] >> 32) ==
	    (uint32_t)h) {
		e = (struct stats_bev *)(void *)(s->ring +
		    (uint32_t)s->dedup[slot] - 1);
		if (e->client == client && e->sid == sid && e->cat == cat &&
		    e->len == len && memcmp(e->name, lname, len) == 0) {
			e->count++;
			return;
		}
	}
	need = (sizeof *e + len + 7) & ~(size_t)7;
	if (s->ring == NULL || s->ringlen + need > STATS_RING) {
		r->sites_lost++;
		r->cold = 1;
		return;
	}
	e = (struct stats_bev *)(void *)(s->ring + s->ringlen);
	e->client = client;
	e->sid = sid;
	e->count = 1;
	e->cat = cat;
	e->len = (uint8_t)len;
	memcpy(e->name, lname, len);
	s->dedup[slot] = (uint64_t)(uint32_t)h << 32 | (uint32_t)(s->ringlen +
	    1);
	s->ringlen += need;
}

/* A query of no board: by country and AS when the databases say. */
static void
stats_outside(struct stats_set *s, const struct stats_map *map,
    const struct stats_query *q)
{
	struct stats_orec	*o = &s->outside;
	const uint8_t		*addr;
	uint32_t		 asn = 0, i, j;
	char			 cc[3] = "";
	int			 family;

	s->outside_dirty = 1;
	o->queries++;
	if (q->rcode == WIRE_REFUSED)
		o->refused++;
	for (i = 0; q->limited != 0 && i < STATS_NLIMITS; i++)
		if (q->limited & 1U << i)
			o->limited[i]++;
	if (map->geo == NULL || (family = stats_addr(q->from, &addr)) == 0)
		return;
	(void)geo_lookup(map->geo, family, addr, cc, &asn);
	if (map->have_cc) {
		if (cc[0] >= 'A' && cc[0] <= 'Z' && cc[1] >= 'A' &&
		    cc[1] <= 'Z')
			o->cc[(cc[0] - 'A') * 26 + (cc[1] - 'A')]++;
		else
			o->cc[STATS_NCC - 1]++;
	}
	if (!map->have_asn)
		return;
	if (asn == 0) {
		o->as_unknown++;
		return;
	}
	for (j = 0, i = (asn * 2654435761U) % STATS_WAS; j < STATS_WAS / 2;
	    j++, i = (i + 1) % STATS_WAS) {
		if (o->as[i].asn == asn || o->as[i].asn == 0) {
			o->as[i].asn = asn;
			o->as[i].count++;
			return;
		}
	}
	o->as_other++;
}

/* The query log (log-queries:): addresses cut to /24 and /48. */
static void
stats_log(const struct stats_map *map, int board,
    const struct stats_query *q)
{
	const uint8_t	*addr;
	uint8_t		 cut[16];
	char		 net[INET6_ADDRSTRLEN], name[1024], ms[32];
	int		 family;

	memset(cut, 0, sizeof cut);
	family = stats_addr(q->from, &addr);
	if (family == AF_INET) {
		memcpy(cut, addr, 3);
		inet_ntop(AF_INET, cut, net, sizeof net);
	} else if (family == AF_INET6) {
		memcpy(cut, addr, 6);
		inet_ntop(AF_INET6, cut, net, sizeof net);
	} else
		snprintf(net, sizeof net, "?");
	if (q->lname != NULL)
		wire_name_str(q->lname, q->name_len, name, sizeof name);
	else
		snprintf(name, sizeof name, "-");
	/* A cached answer's time is known only when its batch goes out. */
	if (q->ns == STATS_NS_BATCH)
		snprintf(ms, sizeof ms, "-");
	else
		snprintf(ms, sizeof ms, "%.3f ms", (double)q->ns / 1e6);
	log_notice("query %s/%s board %s %s type %u rcode %s answer %s %s",
	    net, family == AF_INET ? "24" : "48", board >= 0 &&
	    (size_t)board < map->nboards ? map->id[board] : "-", name,
	    q->qtype, q->rcode >= 0 ? stats_rcode_names[stats_rcode(q->rcode)] :
	    "-", stats_answer_names[q->answer], ms);
}

void
stats_prefetch(struct stats_worker *w, const struct stats_map *map,
    int board, const struct sockaddr *from)
{
	const struct stats_set	*s;
	struct stats_memo	*m;
	const uint8_t		*addr;
	const char		*r;
	uint8_t			 buf[17];
	size_t			 alen;
	uint32_t		 sid;
	int			 family;

	if (w == NULL || map == NULL || (s = w->cur) == NULL || board < 0 ||
	    (size_t)board >= map->nboards ||
	    (sid = map->sid[board]) >= s->nboards)
		return;
	/* The line a usual query and its batch's end write. */
	r = (const char *)&s->recs[sid];
	__builtin_prefetch(r, 1);

	/*
	 * The client: its keyed hash into the memo (as stats_count() would
	 * put it there, with no board yet), and the slot of the second's
	 * client set it will probe, a miss out of a set of megabytes when
	 * every client is new. The same pairs go into the set either way.
	 */
	if (from == NULL || (family = stats_addr(from, &addr)) == 0)
		return;
	alen = family == AF_INET ? 4 : 16;
	m = stats_memo_slot(w, addr, alen);
	if (m->family != family || !stats_addr_equal(m->addr, addr, alen)) {
		buf[0] = (uint8_t)family;
		memcpy(buf + 1, addr, alen);
		m->hash = siphash_13(w->key, buf, alen + 1);
		m->family = family;
		memcpy(m->addr, addr, alen);
		m->sid = STATS_MEMO_NONE;
	}
	if (m->sid != sid && s->clientcap != 0)
		__builtin_prefetch(&s->clients[stats_hslot_index(m->hash,
		    sid + 1, s->clientcap)], 1);
}

void
stats_count(struct stats_worker *w, const struct stats_map *map, int board,
    const struct stats_query *q)
{
	struct stats_set	*s = w->cur;
	struct stats_brec	*r;
	struct stats_memo	*m;
	const uint8_t		*addr;
	uint64_t		 h;
	uint32_t		 sid, key, n;
	uint16_t		 cat;
	uint8_t			 buf[17];
	size_t			 alen;
	int			 family;
	unsigned		 up = q->upstream ? 1 : 0, i;

	if (map == NULL || s == NULL)
		return;
	if (map->log_queries)
		stats_log(map, board, q);
	if (board < 0 || (size_t)board >= map->nboards) {
		stats_outside(s, map, q);
		return;
	}
	sid = map->sid[board];
	if ((r = stats_brec(s, sid)) == NULL)
		return;
	/* Type, answer kind and rcode: one slot's kind. */
	key = STATS_SLOT_QUERY | (q->lname != NULL ? stats_qtype(q->qtype) :
	    STATS_NQTYPES - 1) << 6 | (uint32_t)q->answer << 3;
	if (q->answer != STATS_DROPPED) {
		stats_slot_add(r, key | stats_rcode(q->rcode), 1);
		if (q->ns == STATS_NS_BATCH)
			stats_pend(w, r, sid, up);
		else {
			stats_slot_add(r, STATS_SLOT_LAT | up << 4 |
			    stats_bucket(q->ns), 1);
			r->lat_ns[up] += q->ns;
		}
	} else
		stats_slot_add(r, key, 1);
	if (q->safe_search) {
		r->safe_search++;
		r->cold = 1;
	}
	for (i = 0; q->limited != 0 && i < STATS_NLIMITS; i++)
		if (q->limited & 1U << i) {
			r->limited[i]++;
			r->cold = 1;
		}

	/* The client, as a keyed hash only; the address goes no further. */
	if ((family = stats_addr(q->from, &addr)) == 0)
		return;
	alen = family == AF_INET ? 4 : 16;
	m = stats_memo_slot(w, addr, alen);
	if (m->family == family && stats_addr_equal(m->addr, addr, alen)) {
		h = m->hash;
		if (m->sid != sid) {
			stats_client(s, sid, h);
			m->sid = sid;
		}
	} else {
		buf[0] = (uint8_t)family;
		memcpy(buf + 1, addr, alen);
		h = siphash_13(w->key, buf, alen + 1);
		stats_client(s, sid, h);
		m->family = family;
		memcpy(m->addr, addr, alen);
		m->sid = sid;
		m->hash = h;
	}
	if (q->answer == STATS_BLOCKED && q->category >= 0 &&
	    q->category < STATS_CAT_BITS) {
		cat = map->cat[q->category];
		/* In the record's line if a slot takes it, else the table. */
		if ((n = stats_slot_put(r, STATS_SLOT_CAT | cat, 1)) != 0)
			stats_cat(s, sid, cat, n);
		if (q->lname != NULL)
			stats_ring(s, r, sid, cat, h, q->lname, q->name_len);
		else {
			r->sites_lost++;
			r->cold = 1;
		}
	}
}

/* The recorder of upstream ss in set s; NULL when the set is full. */
static struct stats_urec *
stats_urec(struct stats_set *s, const struct sockaddr_storage *ss)
{
	unsigned	i;

	for (i = 0; i < s->nups; i++)
		if (stats_ss_equal(&s->ups[i].ss, ss))
			return (&s->ups[i]);
	if (s->nups == STATS_WUPS) {
		s->lost_ups++;
		return (NULL);
	}
	memset(&s->ups[s->nups], 0, sizeof s->ups[s->nups]);
	s->ups[s->nups].ss = *ss;
	return (&s->ups[s->nups++]);
}

void
stats_upstream(struct stats_worker *w, const struct sockaddr_storage *ss,
    enum stats_up_event ev, uint64_t n)
{
	struct stats_set	*s;
	struct stats_urec	*u;

	if (w == NULL)
		return;
	/* The forwarder's callbacks run outside the worker's section. */
	snapshot_read_begin();
	s = &w->sets[__atomic_load_n(&w->st->flip, __ATOMIC_ACQUIRE) & 1];
	if ((u = stats_urec(s, ss)) != NULL) {
		switch (ev) {
		case STATS_UP_SENT_TCP:
			u->tcp++;
			/* FALLTHROUGH */
		case STATS_UP_SENT:
			u->queries++;
			break;
		case STATS_UP_ANSWER:
			u->answers++;
			u->rtt[stats_bucket(n)]++;
			u->rtt_ns += n;
			break;
		case STATS_UP_TIMEOUT:
			u->timeouts++;
			break;
		case STATS_UP_ERROR:
			u->errors++;
			break;
		case STATS_UP_MISMATCH:
			u->mismatched++;
			break;
		case STATS_UP_SCRUBBED:
			u->scrubbed += (uint32_t)n;
			break;
		}
	}
	snapshot_read_end();
}

/* ---- main: registry ---- */

/* The board id of a board file: its name without directory and .yaml. */
static char *
stats_board_id(const char *path)
{
	const char	*base = strrchr(path, '/');
	size_t		 len;

	base = base != NULL ? base + 1 : path;
	len = strlen(base);
	if (len > 5 && strcmp(base + len - 5, ".yaml") == 0)
		len -= 5;
	return (strndup(base, len));
}

/* The sid of board id, or -1: a binary search of byid (kept sorted). */
static long
stats_find_board(const struct stats *st, const char *id)
{
	size_t	lo = 0, hi = st->nboards, mid;
	int	c;

	while (lo < hi) {
		mid = (lo + hi) / 2;
		c = strcmp(id, st->boards[st->byid[mid]]->id);
		if (c == 0)
			return ((long)st->byid[mid]);
		if (c < 0)
			hi = mid;
		else
			lo = mid + 1;
	}
	return (-1);
}

/* Add board id with name; its sid, or -1 when out of memory. */
static long
stats_add_board(struct stats *st, const char *id, const char *name)
{
	struct stats_board	**nb, *b;
	struct stats_foldp	 *nf;
	uint32_t		 *ni, cap, sid, i;

	if (st->nboards == st->capboards) {
		cap = st->capboards == 0 ? 64 : st->capboards * 2;
		if ((nb = reallocarray(st->boards, cap, sizeof *nb)) == NULL)
			return (-1);
		st->boards = nb;
		if ((ni = reallocarray(st->byid, cap, sizeof *ni)) == NULL)
			return (-1);
		st->byid = ni;
		if ((nf = reallocarray(st->foldp, cap, sizeof *nf)) == NULL)
			return (-1);
		memset(nf + st->capboards, 0, (cap - st->capboards) *
		    sizeof *nf);
		st->foldp = nf;
		st->capboards = cap;
	}
	if ((b = calloc(1, sizeof *b)) == NULL ||
	    (b->id = strdup(id)) == NULL ||
	    (b->name = strdup(name)) == NULL) {
		if (b != NULL)
			free(b->id);
		free(b);
		return (-1);
	}
	sid = st->nboards;
	st->boards[sid] = b;
	/* Keep byid sorted: insert in place. */
	for (i = st->nboards; i > 0 &&
	    strcmp(st->boards[st->byid[i - 1]]->id, id) > 0; i--)
		st->byid[i] = st->byid[i - 1];
	st->byid[i] = sid;
	st->nboards++;
	return ((long)sid);
}

/* The number of category name; STATS_CAT_OTHER when they ran out. */
static uint16_t
stats_cat_number(struct stats *st, const char *name)
{
	unsigned	i;

	for (i = 0; i < st->ncats; i++)
		if (strcmp(st->cats[i], name) == 0)
			return ((uint16_t)i);
	if (st->ncats == STATS_MAX_CATS ||
	    (st->cats[st->ncats] = strdup(name)) == NULL) {
		log_warnx("stats: too many category names since start; "
		    "'%s' is counted as 'other'", name);
		return (STATS_CAT_OTHER);
	}
	return ((uint16_t)st->ncats++);
}

/* The registry entry of upstream ss, added if new; NULL when full. */
static struct stats_up *
stats_up_find(struct stats *st, const struct sockaddr_storage *ss, int add)
{
	struct conf_sockaddr	 sa;
	struct stats_up		*u;
	unsigned		 i;

	for (i = 0; i < st->nups; i++)
		if (stats_ss_equal(&st->ups[i].ss, ss))
			return (&st->ups[i]);
	if (!add || st->nups == STATS_MAX_UPS)
		return (NULL);
	u = &st->ups[st->nups++];
	memset(u, 0, sizeof *u);
	u->ss = *ss;
	memset(&sa, 0, sizeof sa);
	sa.ss = *ss;
	sa.len = ss->ss_family == AF_INET ? sizeof(struct sockaddr_in) :
	    sizeof(struct sockaddr_in6);
	if (conf_sockaddr_str(&sa, u->name, sizeof u->name) == NULL)
		snprintf(u->name, sizeof u->name, "?");
	return (u);
}

struct stats_map *
stats_map_new(struct stats *st, const struct conf *conf,
    const struct policy *policy)
{
	struct stats_map	*m;
	char			 buf[64];
	const char		*name;
	size_t			 i;
	long			 sid;

	/* A fold or close going on reads the board registry: done first. */
	stats_tick_finish(st);
	if ((m = calloc(1, sizeof *m)) == NULL)
		return (NULL);
	m->nboards = conf->nboards;
	m->sid = calloc(conf->nboards + 1, sizeof *m->sid);
	m->id = calloc(conf->nboards + 1, sizeof *m->id);
	if (m->sid == NULL || m->id == NULL)
		goto fail;
	pthread_mutex_lock(&st->lock);
	for (i = 0; i < st->nboards; i++)
		st->boards[i]->live = 0;
	for (i = 0; i < conf->nboards; i++) {
		if ((m->id[i] = stats_board_id(conf->boards[i].path)) == NULL)
			goto fail_locked;
		/* Known: the same number, and the name as it is now. */
		if ((sid = stats_find_board(st, m->id[i])) == -1)
			sid = stats_add_board(st, m->id[i],
			    conf->boards[i].name);
		else if (strcmp(st->boards[sid]->name,
		    conf->boards[i].name) != 0) {
			name = strdup(conf->boards[i].name);
			if (name == NULL)
				goto fail_locked;
			free(st->boards[sid]->name);
			st->boards[sid]->name = (char *)name;
		}
		if (sid == -1)
			goto fail_locked;
		st->boards[sid]->live = 1;
		m->sid[i] = (uint32_t)sid;
	}
	/* Categories: list and geo bits, then deny and canary. */
	for (i = 0; i < STATS_CAT_BITS; i++) {
		if (i == STATS_CAT_DENY)
			name = "deny";
		else if (i == STATS_CAT_CANARY)
			name = "canary";
		else if (policy == NULL || (name = policy_bit_name(policy,
		    (unsigned)i, buf, sizeof buf)) == NULL)
			continue;
		m->cat[i] = stats_cat_number(st, name);
	}
	for (i = 0; i < st->nups; i++)
		st->ups[i].live = 0;
	for (i = 0; i < conf->nupstreams; i++) {
		struct stats_up *u = stats_up_find(st, &conf->upstreams[i].ss,
		    1);

		if (u != NULL)
			u->live = 1;
	}
	pthread_mutex_unlock(&st->lock);
	m->geo = policy != NULL ? policy_geo(policy) : NULL;
	m->have_cc = conf->geoip_country != NULL;
	m->have_asn = conf->geoip_asn != NULL;
	m->log_queries = conf->log_queries;
	return (m);
fail_locked:
	pthread_mutex_unlock(&st->lock);
fail:
	stats_map_free(m);
	return (NULL);
}

void
stats_map_free(struct stats_map *m)
{
	size_t	i;

	if (m == NULL)
		return;
	if (m->id != NULL)
		for (i = 0; i < m->nboards; i++)
			free(m->id[i]);
	free(m->id);
	free(m->sid);
	free(m);
}

/* ---- main: life cycle ---- */

/* A worker's two sets; -1 when out of memory. */
static struct stats_worker *
stats_worker_new(struct stats *st)
{
	struct stats_worker	*w;
	int			 i;

	if ((w = calloc(1, sizeof *w)) == NULL)
		return (NULL);
	w->st = st;
	for (i = 0; i < 2; i++) {
		w->sets[i].ring = malloc(STATS_RING);
		if (w->sets[i].ring == NULL ||
		    stats_clients_grow(&w->sets[i]) == -1)
			return (w);	/* freed by the caller */
	}
	stats_worker_begin(w, 0);
	return (w);
}

static void
stats_set_clear(struct stats_set *s)
{
	huge_free(s->recs, s->nboards * sizeof *s->recs);
	free(s->dirty);
	free(s->seen);
	huge_free(s->cats, s->catcap * sizeof *s->cats);
	if (s->clients != NULL)
		explicit_bzero(s->clients, s->clientcap * sizeof *s->clients);
	huge_free(s->clients, s->clientcap * sizeof *s->clients);
	free(s->ring);
}

/* Back to st's free periods (its sketch wiped). */
static void
stats_period_free(struct stats *st, struct stats_period *p)
{
	struct stats_pfree	*f;

	if (p == NULL)
		return;
	kanon_free(p->sites);
	explicit_bzero(&p->hll, sizeof p->hll);
	f = (struct stats_pfree *)(void *)p;
	f->next = st->pfree;
	st->pfree = f;
}

/* The slabs of st's periods, and every period in them, freed. */
static void
stats_pslabs_free(struct stats *st)
{
	struct stats_pslab	*s;

	while ((s = st->pslabs) != NULL) {
		st->pslabs = s->next;
		huge_free(s, HUGE_PAGE);
	}
	st->pfree = NULL;
}

/*
 * The buckets' bounds, numbers then "+Inf", as a record's histograms
 * write them: made once, rather than 15 printf()s for each record.
 */
static int
stats_le_make(struct stats *st)
{
	struct jsonw	w;
	size_t		i;
	int		r = -1;

	memset(&w, 0, sizeof w);
	jsonw_begin(&w);
	jsonw_open(&w, NULL, '[');
	for (i = 0; i < STATS_NBUCKETS - 1; i++)
		jsonw_real(&w, NULL, stats_bucket_le[i]);
	jsonw_string(&w, NULL, "+Inf");
	jsonw_close(&w, ']');
	/* Less its newline. */
	if (jsonw_end(&w) == 0 && w.len - 1 <= sizeof st->le) {
		st->lelen = w.len - 1;
		memcpy(st->le, w.buf, st->lelen);
		r = 0;
	}
	jsonw_clear(&w);
	return (r);
}

struct stats *
stats_new(const struct conf *conf, unsigned nworkers, char **cause)
{
	struct stats	*st;
	unsigned	 i;
	time_t		 now = time(NULL);

	*cause = NULL;
	if ((st = calloc(1, sizeof *st)) == NULL)
		goto nomem;
	pthread_mutex_init(&st->lock, NULL);
	st->ival_budget.left = STATS_SITES_BYTES;
	st->day_budget.left = STATS_DAY_BYTES;
	if ((st->site = site_new()) == NULL ||
	    (st->workers = calloc(nworkers, sizeof *st->workers)) == NULL ||
	    (st->as_ival = calloc(1, sizeof *st->as_ival)) == NULL ||
	    (st->as_day = calloc(1, sizeof *st->as_day)) == NULL)
		goto nomem;
	st->nworkers = nworkers;
	for (i = 0; i < nworkers; i++) {
		st->workers[i] = stats_worker_new(st);
		if (st->workers[i] == NULL ||
		    st->workers[i]->sets[1].clients == NULL)
			goto nomem;
	}
	/* Category 0 is "other": where names go when numbers run out. */
	st->cats[0] = strdup("other");
	if (st->cats[0] == NULL || stats_le_make(st) == -1)
		goto nomem;
	st->ncats = 1;
	siphash_key_random(&st->day_key);
	siphash_key_random(&st->ival_key);
	st->set_key[0] = st->set_key[1] = st->day_key;
	stats_configure(st, conf);
	if (st->dir != NULL && statsfile_dir(st->dir, &st->dir_made,
	    cause) == -1) {
		stats_free(st);
		return (NULL);
	}
	st->started = st->last_tick = now;
	st->ival_start = st->day_start = now;
	st->ival_end = stats_boundary(st, now);
	st->day_end = stats_midnight(now, 1);
	if (st->dir != NULL)
		statsfile_prune(st->dir, now, st->retention);
	return (st);
nomem:
	if (asprintf(cause, "statistics: out of memory") == -1)
		*cause = NULL;
	stats_free(st);
	return (NULL);
}

const char *
stats_dir_made(const struct stats *st)
{
	return (st->dir_made ? st->dir : NULL);
}

void
stats_free(struct stats *st)
{
	unsigned	i;

	if (st == NULL)
		return;
	/* A close cut short: its records are not written. */
	jsonw_clear(&st->cur.out.w);
	for (i = 0; st->workers != NULL && i < st->nworkers; i++) {
		if (st->workers[i] == NULL)
			continue;
		stats_set_clear(&st->workers[i]->sets[0]);
		stats_set_clear(&st->workers[i]->sets[1]);
		free(st->workers[i]);
	}
	free(st->workers);
	for (i = 0; i < st->nboards; i++) {
		stats_period_free(st, st->boards[i]->ival);
		stats_period_free(st, st->boards[i]->day);
		free(st->boards[i]->id);
		free(st->boards[i]->name);
		free(st->boards[i]);
	}
	stats_pslabs_free(st);
	free(st->boards);
	free(st->byid);
	free(st->foldp);
	for (i = 0; i < st->ncats; i++)
		free(st->cats[i]);
	free(st->as_ival);
	free(st->as_day);
	site_free(st->site);
	randbuf_clear(&st->ival_budget.random);
	randbuf_clear(&st->day_budget.random);
	siphash_key_clear(&st->day_key);
	siphash_key_clear(&st->ival_key);
	siphash_key_clear(&st->set_key[0]);
	siphash_key_clear(&st->set_key[1]);
	free(st->dir);
	free(st->node);
	pthread_mutex_destroy(&st->lock);
	free(st);
}

struct stats_worker *
stats_worker(struct stats *st, unsigned i)
{
	return (i < st->nworkers ? st->workers[i] : NULL);
}

void
stats_configure(struct stats *st, const struct conf *conf)
{
	char	host[256], *node, *old;
	int	was_on = st->have_log;

	/* A new k or interval from a fresh interval on: none half closed. */
	stats_tick_finish(st);
	free(st->dir);
	/*
	 * The directory is made by stats_new() at start, and by veiligd's
	 * reload before it comes here: one message when it cannot be, not
	 * a warning here and the error there.
	 */
	st->dir = conf->stats_dir != NULL ? strdup(conf->stats_dir) : NULL;
	pthread_mutex_lock(&st->lock);
	st->interval = conf->stats_interval > 0 ? conf->stats_interval : 300;
	st->k = conf->stats_k;
	st->top = conf->stats_top;
	st->retention = conf->stats_retention;
	st->have_cc = conf->geoip_country != NULL;
	st->have_asn = conf->geoip_asn != NULL;
	pthread_mutex_unlock(&st->lock);
	if (conf->stats_node != NULL)
		node = strdup(conf->stats_node);
	else {
		if (gethostname(host, sizeof host) == -1)
			snprintf(host, sizeof host, "veiligd");
		host[sizeof host - 1] = '\0';
		node = strdup(host);
	}
	/* The metrics thread reads the name (veilig_node_info). */
	pthread_mutex_lock(&st->lock);
	old = st->node;
	st->node = node;
	pthread_mutex_unlock(&st->lock);
	free(old);
	if (conf->log_queries && !was_on)
		log_warnx("log-queries is on: every query is logged, with the "
		    "client address cut to /24 (IPv4) or /48 (IPv6)");
	else if (!conf->log_queries && was_on)
		log_warnx("log-queries is off");
	st->have_log = conf->log_queries;
	/* A new length applies to the open interval (a fresh one, after
	   the reload's flush). */
	if (st->ival_start != 0)
		st->ival_end = stats_boundary(st, st->ival_start);
}

/* ---- main: folding a worker set ---- */

/*
 * Add a board recorder into counts c: its slots, and its cold lines only
 * when they were written, so that a usual board's fold reads one line
 * of its record and writes only the counters its slots name.
 */
static void
stats_counts_add(struct stats_counts *c, const struct stats_brec *r)
{
	uint32_t	key, n;
	unsigned	i, j;

	for (i = 0; i < STATS_NSLOTS; i++) {
		if (r->slot[i] == 0)
			continue;
		key = r->slot[i] >> STATS_SLOT_BITS;
		n = r->slot[i] & STATS_SLOT_MAX;
		if ((key & (STATS_SLOT_QUERY | STATS_SLOT_LAT)) == 0)
			c->cat[key & (STATS_MAX_CATS - 1)] += n;
		else
			STATS_SLOT_COUNT(c, key, n);
	}
	for (j = 0; j < 2; j++)
		c->lat_ns[j] += r->lat_ns[j];
	if (!r->cold)
		return;
	for (i = 0; i < STATS_NQTYPES; i++)
		c->qtype[i] += r->qtype[i];
	for (i = 0; i < STATS_NRCODES; i++)
		c->rcode[i] += r->rcode[i];
	for (i = 0; i < STATS_NANSWERS; i++)
		c->answer[i] += r->answer[i];
	c->safe_search += r->safe_search;
	for (i = 0; i < STATS_NLIMITS; i++)
		c->limited[i] += r->limited[i];
	for (j = 0; j < 2; j++)
		for (i = 0; i < STATS_NBUCKETS; i++)
			c->lat[j][i] += r->lat[j][i];
}

_Static_assert(sizeof(struct stats_counts) % sizeof(uint64_t) == 0,
    "stats_counts: uint64_t counters only");

/* Add counts src into dst, every field. */
static void
stats_counts_merge(struct stats_counts *dst, const struct stats_counts *src)
{
	uint64_t	*d = (uint64_t *)(void *)dst;
	const uint64_t	*v = (const uint64_t *)(const void *)src;
	size_t		 i;

	/* Nothing but uint64_t in it: add them as an array. */
	for (i = 0; i < sizeof *dst / sizeof *d; i++)
		d[i] += v[i];
}

/* The counter at offset off of board b's totals, the open interval too. */
static uint64_t
stats_total_at(const struct stats_board *b, size_t off)
{
	uint64_t	v;

	v = *(const uint64_t *)(const void *)((const char *)&b->total + off);
	if (b->ival != NULL)
		v += *(const uint64_t *)(const void *)((const char *)
		    &b->ival->c + off);
	return (v);
}

/* Board b's totals with the open interval, into c. */
static void
stats_total(const struct stats_board *b, struct stats_counts *c)
{
	*c = b->total;
	if (b->ival != NULL)
		stats_counts_merge(c, &b->ival->c);
}

/* Queries in counts c: every query gets exactly one answer kind. */
static uint64_t
stats_queries(const struct stats_counts *c)
{
	uint64_t	n = 0;
	unsigned	i;

	for (i = 0; i < STATS_NANSWERS; i++)
		n += c->answer[i];
	return (n);
}

/*
 * The period at *pp, made if there is none (a freed one, else the next
 * of the newest slab); NULL if out of memory.
 */
static struct stats_period *
stats_period(struct stats *st, struct stats_period **pp)
{
	struct stats_pslab	*s;
	struct stats_pfree	*f;

	if (*pp != NULL)
		return (*pp);
	if ((f = st->pfree) != NULL) {
		st->pfree = f->next;
		*pp = (struct stats_period *)(void *)f;
		memset(*pp, 0, sizeof **pp);
		return (*pp);
	}
	if (st->pslabs == NULL || st->pslab_used == STATS_PSLAB) {
		if ((s = huge_alloc(HUGE_PAGE)) == NULL)
			return (NULL);
		s->next = st->pslabs;
		st->pslabs = s;
		st->pslab_used = 0;
	}
	/* Zero: a slab comes zeroed and is cut once. */
	*pp = (struct stats_period *)(void *)((char *)st->pslabs + 64 +
	    st->pslab_used++ * STATS_PSIZE);
	return (*pp);
}

/*
 * The site table of board sid's interval p; NULL if out of memory. It
 * starts as large as the board's was the interval before: with 10,000
 * boards nearly every blocked name is new to its board's table, which
 * otherwise grows again from a few slots each interval, every doubling
 * a fresh array zeroed and the entries copied (tests/bench/README.md,
 * "Where 10,000 boards' extra CPU goes").
 */
static struct kanon *
stats_sites(struct stats *st, uint32_t sid, struct stats_period *p)
{
	if (p->sites == NULL)
		p->sites = kanon_new(st->k, STATS_SITES_BOARD,
		    &st->ival_budget, st->boards[sid]->sites_last);
	return (p->sites);
}

/* Board sid's interval and day periods; 0, or -1 if out of memory. */
static int
stats_periods(struct stats *st, uint32_t sid, struct stats_period **ival,
    struct stats_period **day)
{
	struct stats_board	*b;

	if (sid >= st->nboards)
		return (-1);
	b = st->boards[sid];
	*ival = stats_period(st, &b->ival);
	*day = stats_period(st, &b->day);
	return (*ival != NULL && *day != NULL ? 0 : -1);
}

/* The keyed hash of a client hash under the interval's key. */
static uint64_t
stats_ival_hash(const struct stats *st, uint64_t h)
{
	return (siphash_13(&st->ival_key, &h, sizeof h));
}

/* Add AS asn (0: unknown) n times to m. */
static void
stats_as_add(struct stats_asmap *m, uint32_t asn, uint64_t n)
{
	uint32_t	i, j;

	if (asn == 0) {
		m->unknown += n;
		return;
	}
	for (j = 0, i = (asn * 2654435761U) & (STATS_AS_MAX - 1);
	    j < STATS_AS_MAX / 2; j++, i = (i + 1) & (STATS_AS_MAX - 1)) {
		if (m->asn[i] == asn || m->asn[i] == 0) {
			if (m->asn[i] == 0)
				m->n++;
			m->asn[i] = asn;
			m->count[i] += n;
			return;
		}
	}
	m->other += n;
}

/* Fold the outside recorder of a set. */
static void
stats_fold_outside(struct stats *st, struct stats_orec *o)
{
	struct stats_ocounts	*oc[3] = { &st->out_ival, &st->out_day,
				    &st->out_total };
	struct stats_asmap	*am[2] = { st->as_ival, st->as_day };
	unsigned		 i, j;

	for (j = 0; j < 3; j++) {
		oc[j]->queries += o->queries;
		oc[j]->refused += o->refused;
		for (i = 0; i < STATS_NLIMITS; i++)
			oc[j]->limited[i] += o->limited[i];
		for (i = 0; i < STATS_NCC; i++)
			oc[j]->cc[i] += o->cc[i];
	}
	for (j = 0; j < 2; j++) {
		for (i = 0; i < STATS_WAS; i++)
			if (o->as[i].asn != 0)
				stats_as_add(am[j], o->as[i].asn,
				    o->as[i].count);
		stats_as_add(am[j], 0, o->as_unknown);
		am[j]->other += o->as_other;
	}
}

/* Add an upstream recorder into counts c. */
static void
stats_ucounts_add(struct stats_ucounts *c, const struct stats_urec *u)
{
	unsigned	i;

	c->queries += u->queries;
	c->tcp += u->tcp;
	c->answers += u->answers;
	c->timeouts += u->timeouts;
	c->errors += u->errors;
	c->mismatched += u->mismatched;
	c->scrubbed += u->scrubbed;
	for (i = 0; i < STATS_NBUCKETS; i++)
		c->rtt[i] += u->rtt[i];
	c->rtt_ns += u->rtt_ns;
}

/* The interval's site table of board sid, or NULL (no memory). */
static struct kanon *
stats_fold_sites(struct stats *st, uint32_t sid)
{
	struct stats_period	*ival, *day;

	if (sid < st->nboards && (ival = st->foldp[sid].ival) != NULL)
		return (stats_sites(st, sid, ival));
	if (stats_periods(st, sid, &ival, &day) == -1)
		return (NULL);
	return (stats_sites(st, sid, ival));
}

/*
 * The sites of the names n[0..j] of a fold's batch into site[], and the
 * hashes of those in their boards' tables into h[], each line started
 * loading. site_of() empties its table when it is full, which frees
 * the strings it gave before: then the batch's earlier sites are asked
 * again (the table has room now), so that none points at freed memory.
 */
static void
stats_fold_site(struct stats *st, struct stats_bev **e, struct kanon **t,
    const char **site, uint64_t *h, unsigned j)
{
	size_t		had = site_size(st->site);
	unsigned	i;

	site[j] = site_of(st->site, e[j]->name, e[j]->len);
	if (site_size(st->site) < had)
		for (i = 0; i < j; i++)
			site[i] = site_of(st->site, e[i]->name, e[i]->len);
	if (site[j] == NULL)
		return;
	h[j] = kanon_hash(t[j], site[j], e[j]->cat);
	kanon_prefetch(t[j], h[j]);
}

/*
 * Fold a batch of the blocked names of a set, from c->off, into the
 * boards' site tables; 1 when the ring is done (and emptied). Every
 * name's board wrote its record, so its periods are in st->foldp, and
 * the line with the site table's pointer was loaded with the board's
 * counts. With many boards every table is out of the cache, so the
 * misses of a batch overlap in two steps: the tables of its names are
 * found and their heads start loading; then each name's site and its
 * hash under its table's key are worked out and the line of its entry
 * starts loading; then the names are added.
 */
static int
stats_fold_ring(struct stats *st, struct stats_set *s, struct stats_cursor *c)
{
	struct stats_bev	*e, *b[STATS_FOLD_BATCH];
	struct kanon		*t[STATS_FOLD_BATCH];
	const char		*site[STATS_FOLD_BATCH];
	uint64_t		 h[STATS_FOLD_BATCH];
	size_t			 off = c->off, need;
	uint64_t		 last = 0, lasth = 0;
	unsigned		 n, j;
	int			 first = 1;

	for (n = 0; n < STATS_FOLD_BATCH && off < s->ringlen; off += need) {
		e = (struct stats_bev *)(void *)(s->ring + off);
		need = (sizeof *e + e->len + 7) & ~(size_t)7;
		if ((t[n] = stats_fold_sites(st, e->sid)) == NULL)
			continue;
		__builtin_prefetch(t[n]);
		b[n++] = e;
	}
	for (j = 0; j < n; j++)
		stats_fold_site(st, b, t, site, h, j);
	/* Records of one client follow each other: hash it once. */
	for (j = 0; j < n; j++) {
		e = b[j];
		if (site[j] == NULL) {
			kanon_lost(t[j], e->count);
			continue;
		}
		if (first || e->client != last) {
			first = 0;
			last = e->client;
			lasth = stats_ival_hash(st, last);
		}
		kanon_add_hash(t[j], site[j], e->cat, h[j], lasth, e->count);
	}
	c->off = off;
	if (off < s->ringlen)
		return (0);
	s->ringlen = 0;
	memset(s->dedup, 0, sizeof s->dedup);
	return (1);
}

/*
 * Feed a batch of the distinct clients of a set, from slot c->i, into
 * their boards' interval and day sketches, emptying their slots; 1 when
 * none is left. With many boards the sketches (2 KiB a board) are out
 * of the cache and the set's clients come in no order of board, so that
 * every client cost dependent misses: the board, its periods, two
 * registers. In batches instead: the boards' records are prefetched,
 * then their periods read, the interval hash worked out and both
 * registers prefetched, then the registers written, so that the misses
 * of a batch overlap. The counts are the same as one client at a time.
 * At most STATS_FOLD_SCAN slots are looked at, so that a big table that
 * is nearly empty is not read in one go either.
 */
static int
stats_fold_clients(struct stats *st, struct stats_set *s,
    struct stats_cursor *c)
{
	struct {
		uint32_t	 sid;
		uint64_t	 h, ih;	/* day, interval hash */
		struct hll	*ival, *day;
	}			 b[STATS_FOLD_BATCH];
	struct stats_period	*ival, *day;
	struct stats_foldp	*f;
	struct stats_hslot	*e;
	uint32_t		 i = c->i, end, n, j, k, sid;

	end = c->i + STATS_FOLD_SCAN < s->clientcap ? c->i + STATS_FOLD_SCAN :
	    s->clientcap;
	for (n = 0; n < STATS_FOLD_BATCH && i < end && s->nclients > 0;
	    i++) {
		e = &s->clients[i];
		if (e->sid1 == 0)
			continue;
		sid = e->sid1 - 1;
		b[n].h = e->hash;
		memset(e, 0, sizeof *e);
		s->nclients--;
		if (sid >= st->nboards)
			continue;
		__builtin_prefetch(&st->foldp[sid]);
		b[n++].sid = sid;
	}
	c->i = i;
	for (j = k = 0; j < n; j++) {
		f = &st->foldp[b[j].sid];
		if (f->ival != NULL) {
			b[k].ival = &f->ival->hll;
			b[k].day = &f->day->hll;
		} else if (stats_periods(st, b[j].sid, &ival, &day) == 0) {
			b[k].ival = &ival->hll;
			b[k].day = &day->hll;
		} else
			continue;
		b[k].h = b[j].h;
		b[k].ih = stats_ival_hash(st, b[j].h);
		hll_prefetch(b[k].ival, b[k].ih);
		hll_prefetch(b[k].day, b[k].h);
		k++;
	}
	for (j = 0; j < k; j++) {
		hll_add(b[j].ival, b[j].ih);
		hll_add(b[j].day, b[j].h);
	}
	return (i >= s->clientcap || s->nclients == 0);
}

/* Start loading what folding board sid's record of s touches. */
static void
stats_fold_prefetch(const struct stats *st, const struct stats_set *s,
    uint32_t sid)
{
	const struct stats_period	*p;
	const struct stats_brec		*r;
	const struct stats_counts	*c;
	size_t				 off;
	uint32_t			 key;
	unsigned			 i;

	if ((p = st->boards[sid]->ival) == NULL)
		return;
	/*
	 * The counters of its interval it adds to: those its slots name
	 * (asked for 8 boards before, their line is in), lat_ns, and every
	 * one up to lat_ns when the cold lines were written. Not the lines
	 * of counters that nothing adds to: a board's usual second names
	 * four or five lines of the eleven.
	 */
	r = &s->recs[sid];
	c = &p->c;
	__builtin_prefetch(&c->lat_ns, 1);
	if (r->cold) {
		for (off = 0; off < offsetof(struct stats_counts, cat);
		    off += 64)
			__builtin_prefetch((const char *)c + off, 1);
	} else {
		for (i = 0; i < STATS_NSLOTS; i++) {
			if ((key = r->slot[i] >> STATS_SLOT_BITS) == 0)
				continue;
			if ((key & (STATS_SLOT_QUERY | STATS_SLOT_LAT)) == 0)
				STATS_SLOT_PREFETCH_(c->cat[key &
				    (STATS_MAX_CATS - 1)]);
			else
				STATS_SLOT_EACH(c, key, STATS_SLOT_PREFETCH_);
		}
	}
	/* Its site table's pointer, which the blocked names read. */
	if (s->ringlen != 0)
		__builtin_prefetch(&p->sites);
}

/*
 * Fold a batch of the boards' records of a set, from dirty board c->i,
 * into their intervals, and clear them; 1 when all are done. A board
 * seen for the first time (or the first time in an interval) has its
 * periods allocated here, which is the slow part of a first fold: a
 * batch is small so that a slice stays short then too.
 */
static int
stats_fold_recs(struct stats *st, struct stats_set *s, struct stats_cursor *c)
{
	struct stats_period	*ival, *day;
	struct stats_brec	*r;
	struct kanon		*t;
	uint32_t		 i, end, sid;

	end = c->i + STATS_FOLD_RECS < s->ndirty ? c->i + STATS_FOLD_RECS :
	    s->ndirty;
	for (i = c->i; i < end; i++) {
		/*
		 * Boards come in no order and, with many, each is out of the
		 * cache: the board and its record's first line 16 ahead,
		 * then 8 ahead (its interval pointer and slots loaded by
		 * then) the counters of its interval that it adds to.
		 */
		if (i + 16 < s->ndirty && (sid = s->dirty[i + 16]) <
		    st->nboards) {
			__builtin_prefetch(&st->boards[sid]->ival);
			__builtin_prefetch(&s->recs[sid], 1);
		}
		if (i + 8 < s->ndirty && (sid = s->dirty[i + 8]) <
		    st->nboards)
			stats_fold_prefetch(st, s, sid);
		sid = s->dirty[i];
		r = &s->recs[sid];
		if (stats_periods(st, sid, &ival, &day) == 0) {
			st->foldp[sid].ival = ival;
			st->foldp[sid].day = day;
			stats_counts_add(&ival->c, r);
			if (r->cold && r->sites_lost != 0 &&
			    (t = stats_sites(st, sid, ival)) != NULL)
				kanon_lost(t, r->sites_lost);
		}
		/* The cold lines only when written: clean ones stay so. */
		memset(r, 0, r->cold ? sizeof *r : offsetof(struct stats_brec,
		    answer));
		s->seen[sid / 64] &= ~(1ULL << (sid & 63));
	}
	c->i = end;
	return (end == s->ndirty);
}

/* Fold a batch of the (board, category) counts of a set; 1 when done. */
static int
stats_fold_cats(struct stats *st, struct stats_set *s, struct stats_cursor *c)
{
	struct stats_period	*ival, *day;
	struct stats_cslot	*e;
	uint32_t		 i, end;

	end = c->i + STATS_FOLD_SCAN < s->catcap ? c->i + STATS_FOLD_SCAN :
	    s->catcap;
	for (i = c->i; i < end && s->ncats > 0; i++) {
		e = &s->cats[i];
		if (e->sid1 == 0)
			continue;
		if (stats_periods(st, e->sid1 - 1, &ival, &day) == 0)
			ival->c.cat[e->cat] += e->count;
		memset(e, 0, sizeof *e);
		s->ncats--;
	}
	c->i = i;
	return (i >= s->catcap || s->ncats == 0);
}

/*
 * Forget a batch of the periods noted for the set's boards (they may go
 * at the interval's end); 1 when done, then the set's board list is
 * empty.
 */
static int
stats_fold_forget(struct stats *st, struct stats_set *s,
    struct stats_cursor *c)
{
	uint32_t	i, end, sid;

	end = c->i + STATS_FOLD_SCAN < s->ndirty ? c->i + STATS_FOLD_SCAN :
	    s->ndirty;
	for (i = c->i; i < end; i++)
		if ((sid = s->dirty[i]) < st->nboards)
			st->foldp[sid].ival = st->foldp[sid].day = NULL;
	c->i = end;
	if (end < s->ndirty)
		return (0);
	s->ndirty = 0;
	return (1);
}

/* Fold the rest of a set, all small: outside, upstreams, losses. */
static void
stats_fold_rest(struct stats *st, struct stats_set *s, time_t now)
{
	struct stats_up	*u;
	unsigned	 i;

	if (s->outside_dirty) {
		stats_fold_outside(st, &s->outside);
		memset(&s->outside, 0, sizeof s->outside);
		s->outside_dirty = 0;
	}
	for (i = 0; i < s->nups; i++) {
		if ((u = stats_up_find(st, &s->ups[i].ss, 1)) == NULL) {
			st->lost_ups++;
			continue;
		}
		stats_ucounts_add(&u->ival, &s->ups[i]);
		stats_ucounts_add(&u->day, &s->ups[i]);
		stats_ucounts_add(&u->total, &s->ups[i]);
		if (s->ups[i].answers > 0)
			u->last_ok = now;
		if (s->ups[i].timeouts > 0)
			u->last_fail = now;
	}
	s->nups = 0;
	st->lost_clients += s->lost_clients;
	st->lost_cats += s->lost_cats;
	st->lost_ups += s->lost_ups;
	s->lost_clients = s->lost_cats = s->lost_ups = 0;
}

/*
 * One batch of the fold where the cursor stands, then the cursor moved
 * on; 1 when every worker's old set is folded and cleared. The phases
 * of a set go in this order because the clients and names find their
 * boards' periods where the records noted them (st->foldp), and those
 * notes are forgotten last.
 */
static int
stats_fold_step(struct stats *st, struct stats_cursor *c)
{
	struct stats_set	*s;
	int			 done = 1;

	if (c->worker >= st->nworkers)
		return (1);
	s = &st->workers[c->worker]->sets[c->set];
	switch (c->phase) {
	case STATS_PH_RECS:
		done = stats_fold_recs(st, s, c);
		break;
	case STATS_PH_CATS:
		done = stats_fold_cats(st, s, c);
		break;
	case STATS_PH_CLIENTS:
		done = stats_fold_clients(st, s, c);
		break;
	case STATS_PH_RING:
		done = stats_fold_ring(st, s, c);
		break;
	case STATS_PH_FORGET:
		done = stats_fold_forget(st, s, c);
		break;
	case STATS_PH_REST:
		stats_fold_rest(st, s, c->now);
		break;
	}
	if (!done)
		return (0);
	c->i = 0;
	c->off = 0;
	if (c->phase++ == STATS_PH_REST) {
		c->phase = STATS_PH_RECS;
		c->worker++;
	}
	return (c->worker >= st->nworkers);
}

/*
 * Fold for about ns nanoseconds (STATS_FOLD_ALL: to the end), at least
 * one batch; 1 when the fold is done. Under the lock, so that the
 * metrics thread waits one slice at most and never sees half a batch.
 */
static int
stats_fold_run(struct stats *st, uint64_t ns)
{
	uint64_t	until = 0;
	int		done;

	if (!st->cur.busy)
		return (1);
	if (ns != STATS_FOLD_ALL)
		until = stats_clock() + ns;
	pthread_mutex_lock(&st->lock);
	do
		done = stats_fold_step(st, &st->cur);
	while (!done && (ns == STATS_FOLD_ALL || stats_clock() < until));
	pthread_mutex_unlock(&st->lock);
	if (done)
		st->cur.busy = 0;
	return (done);
}

/*
 * Flip the workers to the other set (its day key newday ? a new one :
 * today's) and wait until none writes the old one, which is main's to
 * fold from now on until the next flip: the cursor is put at its start.
 */
static void
stats_flip(struct stats *st, int newday, time_t now)
{
	unsigned	next = st->flip + 1;

	if (newday)
		siphash_key_random(&st->set_key[next & 1]);
	else
		st->set_key[next & 1] = st->day_key;
	__atomic_store_n(&st->flip, next, __ATOMIC_RELEASE);
	snapshot_wait();
	/* Nothing in the fold reads the day key: the next flip's. */
	if (newday)
		st->day_key = st->set_key[next & 1];
	st->cur.busy = 1;
	st->cur.deferred = 0;
	st->cur.worker = 0;
	st->cur.set = (next & 1) ^ 1;
	st->cur.phase = STATS_PH_RECS;
	st->cur.i = 0;
	st->cur.off = 0;
	st->cur.now = now;
	st->cur.flipped = stats_clock();
}

/* Flip and fold the old sets at once. */
static void
stats_fold(struct stats *st, int newday, time_t now)
{
	stats_flip(st, newday, now);
	stats_fold_run(st, STATS_FOLD_ALL);
}

/* ---- main: records ---- */

/* An object of the non-zero counts v[i] named names[i]. */
static json_t *
stats_json_named(const uint64_t *v, const char *const *names, size_t n)
{
	json_t	*o = json_object();
	size_t	 i;

	for (i = 0; o != NULL && i < n; i++)
		if (v[i] != 0 && names[i] != NULL)
			json_object_set_new(o, names[i], json_integer(
			    (json_int_t)v[i]));
	return (o);
}

/* An array of n counts. */
static json_t *
stats_json_array(const uint64_t *v, size_t n)
{
	json_t	*a = json_array();
	size_t	 i;

	for (i = 0; a != NULL && i < n; i++)
		json_array_append_new(a, json_integer((json_int_t)v[i]));
	return (a);
}

/* The bucket bounds: numbers, then "+Inf". */
static json_t *
stats_json_le(void)
{
	json_t	*a = json_array();
	size_t	 i;

	for (i = 0; a != NULL && i < STATS_NBUCKETS - 1; i++)
		json_array_append_new(a, json_real(stats_bucket_le[i]));
	json_array_append_new(a, json_string("+Inf"));
	return (a);
}

/* The fields every record starts with, in this order. */
static json_t *
stats_json_head(const struct stats *st, const char *type, time_t start,
    time_t end)
{
	json_t	*o = json_object();
	char	 buf[64];

	if (o == NULL)
		return (NULL);
	json_object_set_new(o, "v", json_integer(STATS_VERSION));
	json_object_set_new(o, "type", json_string(type));
	json_object_set_new(o, "node", json_string(st->node != NULL ?
	    st->node : "?"));
	json_object_set_new(o, "start", json_string(stats_iso(start, buf,
	    sizeof buf)));
	json_object_set_new(o, "end", json_string(stats_iso(end, buf,
	    sizeof buf)));
	json_object_set_new(o, "seconds", json_integer(end - start));
	return (o);
}

/* The counts of a board's record (queries to latency). */
static void
stats_json_counts(const struct stats *st, json_t *o,
    const struct stats_counts *c)
{
	json_t		*lat, *ans;
	const char	*cats[STATS_MAX_CATS];
	unsigned	 i;

	json_object_set_new(o, "queries", json_integer((json_int_t)
	    stats_queries(c)));
	json_object_set_new(o, "qtype", stats_json_named(c->qtype,
	    stats_qtype_names, STATS_NQTYPES));
	json_object_set_new(o, "rcode", stats_json_named(c->rcode,
	    stats_rcode_names, STATS_NRCODES));
	/* Every answer kind is there, zero or not: a fixed set, in order. */
	if ((ans = json_object()) != NULL)
		for (i = 0; i < STATS_NANSWERS; i++)
			json_object_set_new(ans, stats_answer_names[i],
			    json_integer((json_int_t)c->answer[i]));
	json_object_set_new(o, "answers", ans);
	for (i = 0; i < STATS_MAX_CATS; i++)
		cats[i] = i < st->ncats ? st->cats[i] : NULL;
	json_object_set_new(o, "blocked", stats_json_named(c->cat, cats,
	    STATS_MAX_CATS));
	json_object_set_new(o, "safe_search", json_integer((json_int_t)
	    c->safe_search));
	json_object_set_new(o, "limited", stats_json_named(c->limited,
	    stats_limit_names, STATS_NLIMITS));
	if ((lat = json_object()) != NULL) {
		json_object_set_new(lat, "le", stats_json_le());
		json_object_set_new(lat, "cache", stats_json_array(c->lat[0],
		    STATS_NBUCKETS));
		json_object_set_new(lat, "forwarded", stats_json_array(
		    c->lat[1], STATS_NBUCKETS));
	}
	json_object_set_new(o, "latency", lat);
}

/*
 * The sites table t names (at most top) into *v (the caller frees it),
 * the hidden ones' sites and answers into *hs and *hc; with dayp, an
 * interval's, they go into the day's table and hidden answers too (the
 * day adds up what its intervals named), whether or not the interval's
 * record is written. The number named.
 */
static int
stats_sites_top(struct kanon *t, size_t top, struct stats_period *dayp,
    struct kanon_budget *budget, struct kanon_site **v, uint64_t *hs,
    uint64_t *hc)
{
	int	n = 0, i;

	*v = NULL;
	*hs = *hc = 0;
	if (t != NULL && (n = kanon_top(t, top, v, hs, hc)) < 0)
		n = 0;
	if (dayp == NULL)
		return (n);
	for (i = 0; i < n; i++) {
		if (dayp->sites != NULL || (dayp->sites = kanon_new(0,
		    STATS_DAY_SITES, budget, 0)) != NULL) {
			if (kanon_add(dayp->sites, (*v)[i].site, (*v)[i].cat,
			    0, (*v)[i].count) == -1)
				dayp->hidden += (*v)[i].count;
		} else
			dayp->hidden += (*v)[i].count;
	}
	dayp->hidden += *hc;
	return (n);
}

/* The named sites of a table as top_blocked, and the hidden ones. */
static void
stats_json_sites(const struct stats *st, json_t *o, struct kanon *t,
    size_t top, uint64_t more_hidden, int day, struct stats_period *dayp,
    struct kanon_budget *budget)
{
	struct kanon_site	*v;
	json_t			*a, *e, *h;
	uint64_t		 hs, hc;
	int			 n, i;

	n = stats_sites_top(t, top, dayp, budget, &v, &hs, &hc);
	a = json_array();
	for (i = 0; i < n; i++) {
		if ((e = json_object()) == NULL)
			break;
		json_object_set_new(e, "site", json_string(v[i].site));
		json_object_set_new(e, "category", json_string(
		    v[i].cat < st->ncats ? st->cats[v[i].cat] : "other"));
		json_object_set_new(e, "count", json_integer((json_int_t)
		    v[i].count));
		json_object_set_new(e, "clients_at_least", json_integer(
		    st->k));
		json_array_append_new(a, e);
	}
	json_object_set_new(o, "k", json_integer(st->k));
	json_object_set_new(o, "top_blocked", a);
	if ((h = json_object()) != NULL) {
		if (!day)
			json_object_set_new(h, "sites", json_integer(
			    (json_int_t)hs));
		json_object_set_new(h, "count", json_integer((json_int_t)
		    (hc + more_hidden)));
	}
	json_object_set_new(o, "top_blocked_hidden", h);
	free(v);
}

/*
 * The record of a board as jansson objects: how the close built it until
 * 2026-12, kept as stats_records_pair()'s reference.
 */
static json_t *
stats_json_board(struct stats *st, const struct stats_boardrec *r)
{
	json_t	*o;

	if ((o = stats_json_head(st, r->day ? "day" : "board", r->start,
	    r->end)) == NULL)
		return (NULL);
	json_object_set_new(o, "board", json_string(r->b->id));
	json_object_set_new(o, "name", json_string(r->b->name));
	stats_json_counts(st, o, &r->p->c);
	json_object_set_new(o, "clients", json_integer((json_int_t)
	    r->clients));
	if (!r->day && r->b->day != NULL)
		json_object_set_new(o, "clients_day", json_integer(
		    (json_int_t)r->clients_day));
	if (r->day) {
		stats_json_sites(st, o, r->p->sites, SIZE_MAX, r->p->hidden, 1,
		    NULL, NULL);
		json_object_set_new(o, "intervals", json_integer(
		    r->p->intervals));
	} else
		stats_json_sites(st, o, r->p->sites, st->top, 0, 0, r->dayp,
		    &st->day_budget);
	return (o);
}

/* The record of the queries of no board. */
static json_t *
stats_json_outside(const struct stats *st, const struct stats_ocounts *oc,
    const struct stats_asmap *am, int day, time_t start, time_t end)
{
	json_t		*o, *cc, *as;
	char		 code[16];
	unsigned	 i;

	if ((o = stats_json_head(st, day ? "day-outside" : "outside", start,
	    end)) == NULL)
		return (NULL);
	json_object_set_new(o, "queries", json_integer((json_int_t)
	    oc->queries));
	json_object_set_new(o, "refused", json_integer((json_int_t)
	    oc->refused));
	json_object_set_new(o, "limited", stats_json_named(oc->limited,
	    stats_limit_names, STATS_NLIMITS));
	if (st->have_cc && (cc = json_object()) != NULL) {
		for (i = 0; i < STATS_NCC - 1; i++) {
			if (oc->cc[i] == 0)
				continue;
			code[0] = (char)('A' + i / 26);
			code[1] = (char)('A' + i % 26);
			code[2] = '\0';
			json_object_set_new(cc, code, json_integer((json_int_t)
			    oc->cc[i]));
		}
		if (oc->cc[STATS_NCC - 1] != 0)
			json_object_set_new(cc, "unknown", json_integer(
			    (json_int_t)oc->cc[STATS_NCC - 1]));
		json_object_set_new(o, "country", cc);
	}
	if (st->have_asn && (as = json_object()) != NULL) {
		for (i = 0; i < STATS_AS_MAX; i++) {
			if (am->asn[i] == 0)
				continue;
			snprintf(code, sizeof code, "%u", am->asn[i]);
			json_object_set_new(as, code, json_integer((json_int_t)
			    am->count[i]));
		}
		if (am->unknown != 0)
			json_object_set_new(as, "unknown", json_integer(
			    (json_int_t)am->unknown));
		if (am->other != 0)
			json_object_set_new(as, "other", json_integer(
			    (json_int_t)am->other));
		json_object_set_new(o, "as", as);
	}
	return (o);
}

/* The record of an upstream. */
static json_t *
stats_json_upstream(const struct stats *st, const struct stats_up *u,
    const struct stats_ucounts *c, int day, time_t start, time_t end)
{
	json_t	*o, *rtt;

	if ((o = stats_json_head(st, day ? "day-upstream" : "upstream",
	    start, end)) == NULL)
		return (NULL);
	json_object_set_new(o, "upstream", json_string(u->name));
	json_object_set_new(o, "queries", json_integer((json_int_t)
	    c->queries));
	json_object_set_new(o, "answers", json_integer((json_int_t)
	    c->answers));
	json_object_set_new(o, "timeouts", json_integer((json_int_t)
	    c->timeouts));
	json_object_set_new(o, "errors", json_integer((json_int_t)c->errors));
	json_object_set_new(o, "mismatched", json_integer((json_int_t)
	    c->mismatched));
	json_object_set_new(o, "scrubbed", json_integer((json_int_t)
	    c->scrubbed));
	json_object_set_new(o, "tcp", json_integer((json_int_t)c->tcp));
	if ((rtt = json_object()) != NULL) {
		json_object_set_new(rtt, "le", stats_json_le());
		json_object_set_new(rtt, "counts", stats_json_array(c->rtt,
		    STATS_NBUCKETS));
	}
	json_object_set_new(o, "rtt", rtt);
	return (o);
}

/* ---- main: records, as the close writes them ---- */

/*
 * The same records as stats_json_*() above, written with jsonw.c straight
 * into the close's buffer: at 10,000 boards the jansson objects of every
 * board's record were most of an interval's close (tests/bench/README.md,
 * "The close's records without jansson"). Members in the same order;
 * stats_records_pair() has both write the same records for the tests.
 */

/* Member key: an object of the non-zero counts v[i] named names[i]. */
static void
stats_rec_named(struct jsonw *w, const char *key, const uint64_t *v,
    const char *const *names, size_t n)
{
	size_t	i;

	jsonw_open(w, key, '{');
	for (i = 0; i < n; i++)
		if (v[i] != 0 && names[i] != NULL)
			jsonw_int(w, names[i], (int64_t)v[i]);
	jsonw_close(w, '}');
}

/* Member key: an array of n counts. */
static void
stats_rec_array(struct jsonw *w, const char *key, const uint64_t *v,
    size_t n)
{
	size_t	i;

	jsonw_open(w, key, '[');
	for (i = 0; i < n; i++)
		jsonw_int(w, NULL, (int64_t)v[i]);
	jsonw_close(w, ']');
}

/*
 * Start a record in o with the fields every record starts with, in
 * order; the last type's are copied (two local times and their
 * formatting were a sixth of a board's record).
 */
static void
stats_rec_head(const struct stats *st, struct stats_out *o,
    const char *type, time_t start, time_t end)
{
	struct stats_head	*hd = &o->head;
	struct jsonw		*w = &o->w;
	char			 buf[64];
	size_t			 from;

	jsonw_begin(w);
	jsonw_open(w, NULL, '{');
	if (hd->type == type && hd->start == start && hd->end == end) {
		jsonw_members(w, hd->text, hd->len);
		return;
	}
	from = w->len;
	jsonw_int(w, "v", STATS_VERSION);
	jsonw_string(w, "type", type);
	jsonw_string(w, "node", st->node != NULL ? st->node : "?");
	jsonw_string(w, "start", stats_iso(start, buf, sizeof buf));
	jsonw_string(w, "end", stats_iso(end, buf, sizeof buf));
	jsonw_int(w, "seconds", (int64_t)(end - start));
	hd->type = NULL;
	if (!w->failed && w->len - from <= sizeof hd->text) {
		memcpy(hd->text, w->buf + from, w->len - from);
		hd->len = w->len - from;
		hd->type = type;
		hd->start = start;
		hd->end = end;
	}
}

/* End the record: 0, or -1 when it was dropped (no memory). */
static int
stats_rec_end(struct jsonw *w)
{
	jsonw_close(w, '}');
	return (jsonw_end(w));
}

/* The counts of a board's record (queries to latency). */
static void
stats_rec_counts(const struct stats *st, struct jsonw *w,
    const struct stats_counts *c)
{
	unsigned	i;

	jsonw_int(w, "queries", (int64_t)stats_queries(c));
	stats_rec_named(w, "qtype", c->qtype, stats_qtype_names,
	    STATS_NQTYPES);
	stats_rec_named(w, "rcode", c->rcode, stats_rcode_names,
	    STATS_NRCODES);
	/* Every answer kind is there, zero or not: a fixed set, in order. */
	jsonw_open(w, "answers", '{');
	for (i = 0; i < STATS_NANSWERS; i++)
		jsonw_int(w, stats_answer_names[i], (int64_t)c->answer[i]);
	jsonw_close(w, '}');
	stats_rec_named(w, "blocked", c->cat, (const char *const *)st->cats,
	    st->ncats);
	jsonw_int(w, "safe_search", (int64_t)c->safe_search);
	stats_rec_named(w, "limited", c->limited, stats_limit_names,
	    STATS_NLIMITS);
	jsonw_open(w, "latency", '{');
	jsonw_raw(w, "le", st->le, st->lelen);
	stats_rec_array(w, "cache", c->lat[0], STATS_NBUCKETS);
	stats_rec_array(w, "forwarded", c->lat[1], STATS_NBUCKETS);
	jsonw_close(w, '}');
}

/* The named sites of a table as top_blocked, and the hidden ones. */
static void
stats_rec_sites(const struct stats *st, struct jsonw *w, struct kanon *t,
    size_t top, uint64_t more_hidden, int day, struct stats_period *dayp,
    struct kanon_budget *budget)
{
	struct kanon_site	*v;
	uint64_t		 hs, hc;
	int			 n, i;

	n = stats_sites_top(t, top, dayp, budget, &v, &hs, &hc);
	jsonw_int(w, "k", st->k);
	jsonw_open(w, "top_blocked", '[');
	for (i = 0; i < n; i++) {
		jsonw_open(w, NULL, '{');
		jsonw_string(w, "site", v[i].site);
		jsonw_string(w, "category", v[i].cat < st->ncats ?
		    st->cats[v[i].cat] : "other");
		jsonw_int(w, "count", (int64_t)v[i].count);
		jsonw_int(w, "clients_at_least", st->k);
		jsonw_close(w, '}');
	}
	jsonw_close(w, ']');
	jsonw_open(w, "top_blocked_hidden", '{');
	if (!day)
		jsonw_int(w, "sites", (int64_t)hs);
	jsonw_int(w, "count", (int64_t)(hc + more_hidden));
	jsonw_close(w, '}');
	free(v);
}

/* A board's record, as stats_json_board()'s; 0, or -1 if dropped. */
static int
stats_rec_board(struct stats *st, struct stats_out *o,
    const struct stats_boardrec *r)
{
	struct jsonw	*w = &o->w;
	struct stats_period *p = r->p;

	stats_rec_head(st, o, r->day ? "day" : "board", r->start, r->end);
	jsonw_string(w, "board", r->b->id);
	jsonw_string(w, "name", r->b->name);
	stats_rec_counts(st, w, &p->c);
	jsonw_int(w, "clients", (int64_t)r->clients);
	if (!r->day && r->b->day != NULL)
		jsonw_int(w, "clients_day", (int64_t)r->clients_day);
	if (r->day) {
		stats_rec_sites(st, w, p->sites, SIZE_MAX, p->hidden, 1,
		    NULL, NULL);
		jsonw_int(w, "intervals", p->intervals);
	} else
		stats_rec_sites(st, w, p->sites, st->top, 0, 0, r->dayp,
		    &st->day_budget);
	return (stats_rec_end(w));
}

/* The record of the queries of no board, as stats_json_outside()'s. */
static int
stats_rec_outside(const struct stats *st, struct stats_out *o,
    const struct stats_ocounts *oc, const struct stats_asmap *am, int day,
    time_t start, time_t end)
{
	struct jsonw	*w = &o->w;
	char		 code[16];
	unsigned	 i;

	stats_rec_head(st, o, day ? "day-outside" : "outside", start, end);
	jsonw_int(w, "queries", (int64_t)oc->queries);
	jsonw_int(w, "refused", (int64_t)oc->refused);
	stats_rec_named(w, "limited", oc->limited, stats_limit_names,
	    STATS_NLIMITS);
	if (st->have_cc) {
		jsonw_open(w, "country", '{');
		for (i = 0; i < STATS_NCC - 1; i++) {
			if (oc->cc[i] == 0)
				continue;
			code[0] = (char)('A' + i / 26);
			code[1] = (char)('A' + i % 26);
			code[2] = '\0';
			jsonw_int(w, code, (int64_t)oc->cc[i]);
		}
		if (oc->cc[STATS_NCC - 1] != 0)
			jsonw_int(w, "unknown", (int64_t)oc->cc[STATS_NCC - 1]);
		jsonw_close(w, '}');
	}
	if (st->have_asn) {
		jsonw_open(w, "as", '{');
		for (i = 0; i < STATS_AS_MAX; i++) {
			if (am->asn[i] == 0)
				continue;
			snprintf(code, sizeof code, "%u", am->asn[i]);
			jsonw_int(w, code, (int64_t)am->count[i]);
		}
		if (am->unknown != 0)
			jsonw_int(w, "unknown", (int64_t)am->unknown);
		if (am->other != 0)
			jsonw_int(w, "other", (int64_t)am->other);
		jsonw_close(w, '}');
	}
	return (stats_rec_end(w));
}

/* The record of an upstream, as stats_json_upstream()'s. */
static int
stats_rec_upstream(const struct stats *st, struct stats_out *o,
    const struct stats_up *u, const struct stats_ucounts *c, int day,
    time_t start, time_t end)
{
	struct jsonw	*w = &o->w;

	stats_rec_head(st, o, day ? "day-upstream" : "upstream", start, end);
	jsonw_string(w, "upstream", u->name);
	jsonw_int(w, "queries", (int64_t)c->queries);
	jsonw_int(w, "answers", (int64_t)c->answers);
	jsonw_int(w, "timeouts", (int64_t)c->timeouts);
	jsonw_int(w, "errors", (int64_t)c->errors);
	jsonw_int(w, "mismatched", (int64_t)c->mismatched);
	jsonw_int(w, "scrubbed", (int64_t)c->scrubbed);
	jsonw_int(w, "tcp", (int64_t)c->tcp);
	jsonw_open(w, "rtt", '{');
	jsonw_raw(w, "le", st->le, st->lelen);
	stats_rec_array(w, "counts", c->rtt, STATS_NBUCKETS);
	jsonw_close(w, '}');
	return (stats_rec_end(w));
}

/* A record written (r 0) counts as a line. */
static void
stats_rec_count(struct stats *st, int r)
{
	if (r == 0)
		__atomic_add_fetch(&st->lines, 1, __ATOMIC_RELAXED);
}

/* The reference's record o dumped as a line into w; o freed. */
static void
stats_ref_line(struct jsonw *w, json_t *o)
{
	char	*line;

	if (o == NULL)
		return;
	line = json_dumps(o, JSON_COMPACT | JSON_REAL_PRECISION(6));
	json_decref(o);
	if (line == NULL)
		return;
	jsonw_begin(w);
	jsonw_raw(w, NULL, line, strlen(line));
	jsonw_end(w);
	free(line);
}

/* w's text as a string (the caller frees it), w cleared; NULL if none. */
static char *
stats_ref_text(struct jsonw *w)
{
	char	*s;

	if ((s = malloc(w->len + 1)) != NULL) {
		if (w->len > 0)
			memcpy(s, w->buf, w->len);
		s[w->len] = '\0';
	}
	jsonw_clear(w);
	return (s);
}

int
stats_records_pair(struct stats *st, time_t end, int day, char **ours,
    char **ref)
{
	struct stats_out	 a;
	struct jsonw		 b;
	struct stats_boardrec	 r;
	struct stats_ocounts	*oc = day ? &st->out_day : &st->out_ival;
	struct stats_asmap	*am = day ? st->as_day : st->as_ival;
	struct stats_ucounts	*c;
	time_t			 start = day ? st->day_start : st->ival_start;
	size_t			 i;

	memset(&a, 0, sizeof a);
	memset(&b, 0, sizeof b);
	/* As the close, less what it changes: no dayp, no counts moved. */
	memset(&r, 0, sizeof r);
	r.day = day;
	r.start = start;
	r.end = end;
	for (i = 0; i < st->nboards; i++) {
		r.b = st->boards[st->byid[i]];
		if ((r.p = day ? r.b->day : r.b->ival) == NULL)
			continue;
		r.clients = hll_count(&r.p->hll);
		r.clients_day = !day && r.b->day != NULL ?
		    hll_count(&r.b->day->hll) : 0;
		(void)stats_rec_board(st, &a, &r);
		stats_ref_line(&b, stats_json_board(st, &r));
	}
	if (oc->queries > 0) {
		(void)stats_rec_outside(st, &a, oc, am, day, start, end);
		stats_ref_line(&b, stats_json_outside(st, oc, am, day, start,
		    end));
	}
	for (i = 0; i < st->nups; i++) {
		c = day ? &st->ups[i].day : &st->ups[i].ival;
		if (c->queries + c->mismatched == 0)
			continue;
		(void)stats_rec_upstream(st, &a, &st->ups[i], c, day, start,
		    end);
		stats_ref_line(&b, stats_json_upstream(st, &st->ups[i], c, day,
		    start, end));
	}
	*ours = stats_ref_text(&a.w);
	*ref = stats_ref_text(&b);
	if (*ours == NULL || *ref == NULL) {
		free(*ours);
		free(*ref);
		*ours = *ref = NULL;
		return (-1);
	}
	return (0);
}

/* Write the lines in buf to the day file of t (day: the summaries). */
static void
stats_write(struct stats *st, time_t t, int day, const char *buf,
    size_t len)
{
	char	name[32];

	if (st->dir == NULL || len == 0)
		return;
	statsfile_name(t, day, name, sizeof name);
	if (statsfile_append(st->dir, name, buf, len) == -1) {
		__atomic_add_fetch(&st->write_errors, 1, __ATOMIC_RELAXED);
		log_warn("stats: %s/%s: records lost", st->dir, name);
		return;
	}
	__atomic_store_n(&st->last_write, time(NULL), __ATOMIC_RELAXED);
}

/*
 * The records of a period (the interval, or the day part if day) that
 * belong to no board: the queries from outside every board's networks
 * and each upstream's. Their counts start anew.
 */
static void
stats_close_rest(struct stats *st, struct stats_out *o, int day,
    time_t start, time_t end)
{
	struct stats_ocounts	*oc = day ? &st->out_day : &st->out_ival;
	struct stats_asmap	*am = day ? st->as_day : st->as_ival;
	struct stats_ucounts	*c;
	struct stats_up		*u;
	size_t			 i;

	if (o->on && oc->queries > 0)
		stats_rec_count(st, stats_rec_outside(st, o, oc, am, day,
		    start, end));
	memset(oc, 0, sizeof *oc);
	memset(am, 0, sizeof *am);
	for (i = 0; i < st->nups; i++) {
		u = &st->ups[i];
		c = day ? &u->day : &u->ival;
		if (o->on && c->queries + c->mismatched > 0)
			stats_rec_count(st, stats_rec_upstream(st, o, u, c,
			    day, start, end));
		memset(c, 0, sizeof *c);
	}
}


/*
 * Start the records of a close. Without stats.dir there is nowhere to
 * write them: o->on is 0 and the close formats no record (tests/bench/
 * README.md, "The boards' open loop"), but counts, merges and frees as
 * it does with one. The buffer is allocated as the first record is
 * written; out of memory, a record is dropped (jsonw.h).
 */
static void
stats_out_open(const struct stats *st, struct stats_out *o)
{
	memset(o, 0, sizeof *o);
	o->on = st->dir != NULL;
}

/*
 * Board b's record of the open interval (it ends at end) into o; the
 * interval's counts into the day's and the totals, and the period gone.
 */
static void
stats_close_ival_board(struct stats *st, struct stats_out *o,
    struct stats_board *b, time_t end)
{
	struct stats_boardrec	 r;
	struct kanon_site	*v;
	uint64_t		 ic, dc, hs, hc;

	if (b->ival == NULL) {
		b->sites_last = 0;
		return;
	}
	b->sites_last = b->ival->sites != NULL ? kanon_size(b->ival->sites) :
	    0;
	/* The sketches are main's alone: counted once, here. */
	ic = hll_count(&b->ival->hll);
	dc = b->day != NULL ? hll_count(&b->day->hll) : 0;
	if (o->on) {
		r = (struct stats_boardrec){ .b = b, .p = b->ival, .day = 0,
		    .clients = ic, .clients_day = dc, .start = st->ival_start,
		    .end = end, .dayp = b->day };
		stats_rec_count(st, stats_rec_board(st, o, &r));
	} else {
		/* No record: only what the day's summary adds up. */
		(void)stats_sites_top(b->ival->sites, st->top, b->day,
		    &st->day_budget, &v, &hs, &hc);
		free(v);
	}
	/*
	 * The interval's counts into the day's and the totals, and the
	 * gauges: what the metrics thread reads, under the lock.
	 */
	pthread_mutex_lock(&st->lock);
	stats_counts_merge(&b->total, &b->ival->c);
	b->clients_last = ic;
	if (b->day != NULL) {
		stats_counts_merge(&b->day->c, &b->ival->c);
		b->day->intervals++;
		b->clients_day = dc;
	}
	stats_period_free(st, b->ival);
	b->ival = NULL;
	pthread_mutex_unlock(&st->lock);
}

/* The rest of the interval's records, all written; the next begins. */
static void
stats_close_ival_end(struct stats *st, struct stats_out *o, time_t end)
{
	stats_close_rest(st, o, 0, st->ival_start, end);
	stats_write(st, st->ival_start, 0, o->w.buf, o->w.len);
	jsonw_clear(&o->w);
	st->day_intervals++;
	st->ival_start = end;
	st->ival_end = stats_boundary(st, end);
	siphash_key_random(&st->ival_key);
}

/* Write the open interval (it ends at end) and start the next one. */
static void
stats_close_interval(struct stats *st, time_t end)
{
	struct stats_out	o;
	size_t			i;

	stats_out_open(st, &o);
	/* Boards by id, so that a file reads in a stable order. */
	for (i = 0; i < st->nboards; i++)
		stats_close_ival_board(st, &o, st->boards[st->byid[i]], end);
	stats_close_ival_end(st, &o, end);
}

/* Board b's summary of the day part (it ends at end) into o. */
static void
stats_close_day_board(struct stats *st, struct stats_out *o,
    struct stats_board *b, time_t end)
{
	struct stats_boardrec	r;

	if (b->day == NULL)
		return;
	if (o->on) {
		r = (struct stats_boardrec){ .b = b, .p = b->day, .day = 1,
		    .clients = hll_count(&b->day->hll), .start = st->day_start,
		    .end = end };
		stats_rec_count(st, stats_rec_board(st, o, &r));
	}
	stats_period_free(st, b->day);
	b->day = NULL;
	pthread_mutex_lock(&st->lock);
	b->clients_day = 0;
	pthread_mutex_unlock(&st->lock);
}

/* The rest of the day's summaries, all written; the next day begins. */
static void
stats_close_day_end(struct stats *st, struct stats_out *o, time_t end)
{
	stats_close_rest(st, o, 1, st->day_start, end);
	stats_write(st, st->day_start, 1, o->w.buf, o->w.len);
	jsonw_clear(&o->w);
	st->day_intervals = 0;
	st->day_start = end;
	st->day_end = stats_midnight(end, 1);
	if (st->dir != NULL)
		statsfile_prune(st->dir, end, st->retention);
}

/* Write the summaries of the day part (it ends at end); start anew. */
static void
stats_close_day(struct stats *st, time_t end)
{
	struct stats_out	o;
	size_t			i;

	stats_out_open(st, &o);
	for (i = 0; i < st->nboards; i++)
		stats_close_day_board(st, &o, st->boards[st->byid[i]], end);
	stats_close_day_end(st, &o, end);
}

/* ---- main: time ---- */

long
stats_tick_usec(void)
{
	struct timespec	ts;

	/* Just after the next whole second, so boundaries are met closely. */
	clock_gettime(CLOCK_REALTIME, &ts);
	return (1000000L - ts.tv_nsec / 1000 + 2000);
}

/* Count part's time, t0 to t1, in the tick's histogram. */
static void
stats_tick_took(struct stats *st, int part, uint64_t t0, uint64_t t1)
{
	pthread_mutex_lock(&st->lock);
	st->tick_lat[part][stats_bucket(t1 - t0)]++;
	st->tick_ns[part] += t1 - t0;
	pthread_mutex_unlock(&st->lock);
}

/* A fold late: the second well on, or a flip put off for it. */
static int
stats_slice_late(const struct stats *st)
{
	return (st->cur.deferred > 0 || stats_clock() - st->cur.flipped >
	    STATS_SLICE_HURRY * 1000000ULL);
}

/*
 * When the next slice is due, in microseconds: sooner once the fold is
 * late, so that it is done by the next tick.
 */
static long
stats_slice_gap(const struct stats *st)
{
	return (stats_slice_late(st) ? STATS_SLICE_GAP_LATE : STATS_SLICE_GAP);
}

uint64_t
stats_tick_budget(const struct stats *st, uint64_t since)
{
	uint64_t	ns;

	ns = since / (stats_slice_late(st) ? STATS_SLICE_SHARE_LATE :
	    STATS_SLICE_SHARE);
	if (ns < STATS_SLICE_NS)
		ns = STATS_SLICE_NS;
	if (ns > 8 * STATS_SLICE_NS)
		ns = 8 * STATS_SLICE_NS;
	return (ns);
}

/* The interval closed: the day's close next, if one ended; 1 if none. */
static int
stats_tick_close_day(const struct stats *st, struct stats_cursor *c)
{
	c->closing = STATS_CL_DAY;
	c->i = 0;
	if (!c->newday)
		return (1);
	stats_out_open(st, &c->out);
	return (0);
}

/*
 * Close, in batches of boards for about ns nanoseconds (STATS_FOLD_ALL:
 * to the end), what ended at the flip of a finished fold: the interval,
 * then the day when one began; 1 when all is closed. Timed as part
 * close. Between its slices no fold runs (the next flip waits for the
 * close), so the day's sketches a record counts stay as they were at
 * the interval's end; each board's counts move into the day and the
 * totals under the lock, so that a reader sees them in one or the other.
 */
static int
stats_tick_close(struct stats *st, uint64_t ns)
{
	struct stats_cursor	*c = &st->cur;
	uint64_t		 t0, until = 0;
	uint32_t		 end;
	int			 done = 0;

	if (!c->close)
		return (1);
	t0 = stats_clock();
	if (ns != STATS_FOLD_ALL)
		until = t0 + ns;
	if (c->closing == STATS_CL_NONE) {
		/* Late (a long reload, a suspended machine): where it ended. */
		c->end = c->now - st->ival_end <= STATS_LATE ? st->ival_end :
		    c->now;
		c->dend = c->now - st->day_end <= STATS_LATE ? st->day_end :
		    c->now;
		if (c->dend < c->end)
			c->dend = c->end;
		c->closing = STATS_CL_IVAL;
		c->i = 0;
		stats_out_open(st, &c->out);
	}
	while (!done) {
		switch (c->closing) {
		case STATS_CL_IVAL:
			/* Boards by id, so that a file reads in a stable order. */
			end = c->i + STATS_CLOSE_BATCH < st->nboards ?
			    c->i + STATS_CLOSE_BATCH : st->nboards;
			for (; c->i < end; c->i++)
				stats_close_ival_board(st, &c->out,
				    st->boards[st->byid[c->i]], c->end);
			if (c->i < st->nboards)
				break;
			stats_close_ival_end(st, &c->out, c->end);
			done = stats_tick_close_day(st, c);
			break;
		case STATS_CL_DAY:
			end = c->i + STATS_CLOSE_BATCH < st->nboards ?
			    c->i + STATS_CLOSE_BATCH : st->nboards;
			for (; c->i < end; c->i++)
				stats_close_day_board(st, &c->out,
				    st->boards[st->byid[c->i]], c->dend);
			if (c->i < st->nboards)
				break;
			stats_close_day_end(st, &c->out, c->dend);
			done = 1;
			break;
		default:
			done = 1;
			break;
		}
		if (ns != STATS_FOLD_ALL && stats_clock() >= until)
			break;
	}
	if (done) {
		c->close = 0;
		c->closing = STATS_CL_NONE;
	}
	stats_tick_took(st, 1, t0, stats_clock());
	return (done);
}

/* Finish a sliced fold and its close at once. */
static void
stats_tick_finish(struct stats *st)
{
	stats_fold_run(st, STATS_FOLD_ALL);
	stats_tick_close(st, STATS_FOLD_ALL);
}

/* Flip for the tick at now; note whether an interval (a day) ended. */
static void
stats_tick_flip(struct stats *st, time_t now)
{
	int	newday = now >= st->day_end;

	stats_flip(st, newday, now);
	st->last_tick = now;
	st->cur.close = now >= st->ival_end;
	st->cur.newday = newday;
}

void
stats_tick(struct stats *st, time_t now)
{
	uint64_t	t0;

	/*
	 * Timed for veilig_stats_tick_seconds: the main thread shares a
	 * core with a worker, and a long fold is a pause for that worker.
	 * All of it at once here; the daemon slices it (stats_tick_begin()).
	 */
	stats_tick_finish(st);
	t0 = stats_clock();
	stats_tick_flip(st, now);
	stats_fold_run(st, STATS_FOLD_ALL);
	stats_tick_took(st, 0, t0, stats_clock());
	stats_tick_close(st, STATS_FOLD_ALL);
}

/*
 * Whether the tick at now may put its flip off: not when an interval
 * (and so a day) ends at it, so that the queries after its end stay out
 * of it, as they do when the flip comes on time.
 */
static int
stats_tick_may_defer(const struct stats *st, time_t now)
{
	time_t	end = st->ival_end;

	/* An interval ended and is being closed: the next one's end. */
	if (st->cur.close)
		end = stats_boundary(st, end);
	return (now < end);
}

long
stats_tick_begin(struct stats *st, time_t now, uint64_t ns)
{
	uint64_t	t0;

	if ((st->cur.busy || st->cur.close) &&
	    st->cur.deferred < STATS_DEFER_MAX &&
	    stats_tick_may_defer(st, now)) {
		/*
		 * The fold of the last flip, or the close after it, is not
		 * done (a board's first fold allocates its periods, slowly;
		 * an interval's close writes every board's record): the
		 * workers keep their sets a second more rather than main
		 * finishing in one long pause. What they count meanwhile
		 * is folded with the next flip. Not at an interval's end:
		 * that flip comes on time, finishing what is left at once.
		 */
		st->cur.deferred++;
		return (stats_tick_slice(st, ns));
	}
	if (st->cur.busy) {
		/* Behind still: the old sets must be free before the flip. */
		t0 = stats_clock();
		stats_fold_run(st, STATS_FOLD_ALL);
		stats_tick_took(st, 0, t0, stats_clock());
	}
	stats_tick_close(st, STATS_FOLD_ALL);
	/* The flip timed with the first slice, as one part fold. */
	t0 = stats_clock();
	stats_tick_flip(st, now);
	stats_fold_run(st, ns);
	stats_tick_took(st, 0, t0, stats_clock());
	return (st->cur.busy || st->cur.close ? STATS_SLICE_GAP : -1);
}

long
stats_tick_slice(struct stats *st, uint64_t ns)
{
	uint64_t	t0;

	if (st->cur.busy) {
		t0 = stats_clock();
		stats_fold_run(st, ns);
		stats_tick_took(st, 0, t0, stats_clock());
	} else if (!stats_tick_close(st, ns))
		return (stats_slice_gap(st));
	if (st->cur.busy)
		return (stats_slice_gap(st));
	/* A close in slices of its own: they are pauses too. */
	return (st->cur.close ? 0 : -1);
}

void
stats_flush(struct stats *st, time_t now, int end_day)
{
	stats_tick_finish(st);
	stats_fold(st, 0, now);
	st->last_tick = now;
	if (now < st->ival_start)
		now = st->ival_start;
	/*
	 * Stopped in the second its interval began: both end at the next
	 * second. Written as [now, now) the interval would start where the
	 * day part [start, now) that sums it ends, outside it, and a reader
	 * that takes interval lines only where no day summary is (README,
	 * Several nodes) would count that interval twice.
	 */
	if (end_day && now == st->ival_start)
		now++;
	stats_close_interval(st, now);
	if (end_day)
		stats_close_day(st, now);
}

/* ---- veiligctl stats ---- */

/* Text: "name n name n" of the non-zero v[i] (all with all). */
static void
stats_text_named(struct evbuffer *out, const char *title, const uint64_t *v,
    const char *const *names, size_t n, int all)
{
	size_t	i;
	int	any = 0;

	for (i = 0; i < n; i++) {
		if ((v[i] == 0 && !all) || names[i] == NULL)
			continue;
		evbuffer_add_printf(out, "%s %s %llu", any ? "," : title,
		    names[i], (unsigned long long)v[i]);
		any = 1;
	}
	if (any)
		evbuffer_add_printf(out, "\n");
}

/* Text of counts c, indented. */
static void
stats_text_counts(const struct stats *st, struct evbuffer *out,
    const struct stats_counts *c)
{
	const char	*cats[STATS_MAX_CATS];
	unsigned	 i;

	for (i = 0; i < STATS_MAX_CATS; i++)
		cats[i] = i < st->ncats ? st->cats[i] : NULL;
	stats_text_named(out, "    answers:", c->answer, stats_answer_names,
	    STATS_NANSWERS, 1);
	stats_text_named(out, "    rcode:", c->rcode, stats_rcode_names,
	    STATS_NRCODES, 0);
	stats_text_named(out, "    qtype:", c->qtype, stats_qtype_names,
	    STATS_NQTYPES, 0);
	stats_text_named(out, "    blocked:", c->cat, cats, STATS_MAX_CATS,
	    0);
	if (c->safe_search != 0)
		evbuffer_add_printf(out, "    safe search: %llu\n",
		    (unsigned long long)c->safe_search);
	stats_text_named(out, "    limited:", c->limited, stats_limit_names,
	    STATS_NLIMITS, 0);
}

/* Text of one board. */
static void
stats_text_board(const struct stats *st, struct evbuffer *out,
    struct stats_board *b, time_t now)
{
	struct stats_counts	 total;
	struct kanon_site	*v;
	uint64_t		 hs, hc;
	char			 t[64], name[1024];
	int			 n, i;

	/* A name of 128 octets escaped: at most 6 octets each (\u202e). */
	evbuffer_add_printf(out, "board %s \"%s\"%s\n", b->id,
	    log_escaped(name, sizeof name, b->name),
	    b->live ? "" : " (no longer configured)");
	if (b->ival != NULL) {
		evbuffer_add_printf(out, "  interval since %s (%lld s): %llu "
		    "queries, %llu clients\n", stats_iso(st->ival_start, t,
		    sizeof t), (long long)(now - st->ival_start),
		    (unsigned long long)stats_queries(&b->ival->c),
		    (unsigned long long)hll_count(&b->ival->hll));
		stats_text_counts(st, out, &b->ival->c);
		if (b->ival->sites != NULL && (n = kanon_top(b->ival->sites,
		    st->top, &v, &hs, &hc)) >= 0) {
			for (i = 0; i < n; i++)
				evbuffer_add_printf(out, "%s %s (%s) %llu",
				    i == 0 ? "    top blocked:" : ",",
				    v[i].site, v[i].cat < st->ncats ?
				    st->cats[v[i].cat] : "other",
				    (unsigned long long)v[i].count);
			evbuffer_add_printf(out, "%s    not named: %llu sites, "
			    "%llu answers (k-anonymity %u)\n", n > 0 ? "\n" :
			    "", (unsigned long long)hs,
			    (unsigned long long)hc, st->k);
			free(v);
		}
	} else
		evbuffer_add_printf(out, "  interval since %s: no queries\n",
		    stats_iso(st->ival_start, t, sizeof t));
	if (b->day != NULL)
		evbuffer_add_printf(out, "  today since %s: %llu queries, "
		    "%llu clients\n", stats_iso(st->day_start, t, sizeof t),
		    (unsigned long long)(stats_queries(&b->day->c) +
		    (b->ival != NULL ? stats_queries(&b->ival->c) : 0)),
		    (unsigned long long)hll_count(&b->day->hll));
	stats_total(b, &total);
	evbuffer_add_printf(out, "  total since %s: %llu queries\n",
	    stats_iso(st->started, t, sizeof t),
	    (unsigned long long)stats_queries(&total));
	stats_text_counts(st, out, &total);
}

/* The JSON of one board: its interval so far, today, and totals. */
static json_t *
stats_json_show_board(struct stats *st, struct stats_board *b)
{
	struct stats_counts	 total;
	json_t			*o, *p;

	if ((o = json_object()) == NULL)
		return (NULL);
	json_object_set_new(o, "board", json_string(b->id));
	json_object_set_new(o, "name", json_string(b->name));
	json_object_set_new(o, "configured", json_boolean(b->live));
	if (b->ival != NULL && (p = json_object()) != NULL) {
		stats_json_counts(st, p, &b->ival->c);
		json_object_set_new(p, "clients", json_integer((json_int_t)
		    hll_count(&b->ival->hll)));
		stats_json_sites(st, p, b->ival->sites, st->top, 0, 0, NULL,
		    NULL);
		json_object_set_new(o, "interval", p);
	}
	if (b->day != NULL && (p = json_object()) != NULL) {
		json_object_set_new(p, "queries", json_integer((json_int_t)
		    (stats_queries(&b->day->c) + (b->ival != NULL ?
		    stats_queries(&b->ival->c) : 0))));
		json_object_set_new(p, "clients", json_integer((json_int_t)
		    hll_count(&b->day->hll)));
		json_object_set_new(o, "today", p);
	}
	if ((p = json_object()) != NULL) {
		stats_total(b, &total);
		stats_json_counts(st, p, &total);
		/* Latency is in Prometheus; totals here are for people. */
		json_object_del(p, "latency");
		json_object_set_new(o, "total", p);
	}
	return (o);
}

/* The board named by id, or by its name (any case); NULL. */
static struct stats_board *
stats_board_named(const struct stats *st, const char *name)
{
	long		sid;
	uint32_t	i;

	if ((sid = stats_find_board(st, name)) != -1)
		return (st->boards[sid]);
	for (i = 0; i < st->nboards; i++)
		if (strcasecmp(st->boards[i]->name, name) == 0)
			return (st->boards[i]);
	return (NULL);
}

int
stats_show(struct stats *st, const char *board, int json,
    const struct stats_extra *extra, size_t nextra, struct evbuffer *out)
{
	struct stats_board	*one = NULL;
	json_t			*o, *a, *e;
	char			 t[64], *text;
	time_t			 now = time(NULL);
	size_t			 i;

	if (board != NULL && (one = stats_board_named(st, board)) == NULL) {
		evbuffer_add_printf(out, "%s: no such board\n", board);
		return (-1);
	}
	if (!json) {
		for (i = 0; one == NULL && i < nextra; i++)
			evbuffer_add_printf(out, "%s %llu\n", extra[i].name,
			    (unsigned long long)extra[i].value);
		for (i = 0; i < st->nboards; i++)
			if (one == NULL || st->boards[st->byid[i]] == one)
				stats_text_board(st, out,
				    st->boards[st->byid[i]], now);
		if (one == NULL && st->out_total.queries > 0) {
			evbuffer_add_printf(out, "outside: %llu queries in the "
			    "interval, %llu in total\n",
			    (unsigned long long)st->out_ival.queries,
			    (unsigned long long)st->out_total.queries);
			stats_text_named(out, "    limited:",
			    st->out_total.limited, stats_limit_names,
			    STATS_NLIMITS, 0);
		}
		for (i = 0; one == NULL && i < st->nups; i++)
			evbuffer_add_printf(out, "upstream %s: %llu queries, "
			    "%llu answers, %llu timeouts, %llu errors, %llu "
			    "mismatched, %llu records scrubbed\n",
			    st->ups[i].name,
			    (unsigned long long)st->ups[i].total.queries,
			    (unsigned long long)st->ups[i].total.answers,
			    (unsigned long long)st->ups[i].total.timeouts,
			    (unsigned long long)st->ups[i].total.errors,
			    (unsigned long long)st->ups[i].total.mismatched,
			    (unsigned long long)st->ups[i].total.scrubbed);
		return (0);
	}

	if ((o = json_object()) == NULL)
		goto nomem;
	json_object_set_new(o, "v", json_integer(STATS_VERSION));
	json_object_set_new(o, "node", json_string(st->node != NULL ?
	    st->node : "?"));
	json_object_set_new(o, "now", json_string(stats_iso(now, t,
	    sizeof t)));
	json_object_set_new(o, "since", json_string(stats_iso(st->started, t,
	    sizeof t)));
	if ((e = json_object()) != NULL) {
		json_object_set_new(e, "start", json_string(stats_iso(
		    st->ival_start, t, sizeof t)));
		json_object_set_new(e, "end", json_string(stats_iso(
		    st->ival_end, t, sizeof t)));
		json_object_set_new(e, "seconds", json_integer(st->interval));
		json_object_set_new(o, "interval", e);
	}
	if (one == NULL && (e = json_object()) != NULL) {
		for (i = 0; i < nextra; i++)
			json_object_set_new(e, extra[i].name, json_integer(
			    (json_int_t)extra[i].value));
		json_object_set_new(o, "daemon", e);
	}
	a = json_array();
	for (i = 0; i < st->nboards; i++)
		if (one == NULL || st->boards[st->byid[i]] == one)
			json_array_append_new(a, stats_json_show_board(st,
			    st->boards[st->byid[i]]));
	json_object_set_new(o, "boards", a);
	if (one == NULL) {
		if ((e = json_object()) != NULL) {
			json_object_set_new(e, "interval", json_integer(
			    (json_int_t)st->out_ival.queries));
			json_object_set_new(e, "total", json_integer(
			    (json_int_t)st->out_total.queries));
			json_object_set_new(e, "limited", stats_json_named(
			    st->out_total.limited, stats_limit_names,
			    STATS_NLIMITS));
			json_object_set_new(o, "outside", e);
		}
		a = json_array();
		for (i = 0; i < st->nups; i++)
			json_array_append_new(a, stats_json_upstream(st,
			    &st->ups[i], &st->ups[i].total, 0, st->started,
			    now));
		json_object_set_new(o, "upstreams", a);
	}
	text = json_dumps(o, JSON_COMPACT | JSON_REAL_PRECISION(6));
	json_decref(o);
	if (text == NULL)
		goto nomem;
	evbuffer_add_printf(out, "%s\n", text);
	free(text);
	return (0);
nomem:
	evbuffer_add_printf(out, "out of memory\n");
	return (-1);
}

/* ---- Prometheus ---- */

/* Seconds of a sum of nanoseconds. */
static double
stats_secs(uint64_t ns)
{
	return ((double)ns / 1e9);
}

/* No count in any bucket? */
static int
stats_hist_empty(const uint64_t *v)
{
	unsigned	i;

	for (i = 0; i < STATS_NBUCKETS; i++)
		if (v[i] != 0)
			return (0);
	return (1);
}

/* One counter family over boards: v(b, i) for the non-zero i. */
static void
stats_prom_named(struct stats *st, struct evbuffer *out, const char *name,
    const char *help, const char *label, size_t off, size_t n,
    const char *const *names)
{
	struct stats_board	*b;
	uint64_t		 v;
	char			 id[256], lv[256];
	size_t			 i, j;

	metrics_head(out, name, "counter", help);
	for (i = 0; i < st->nboards; i++) {
		b = st->boards[st->byid[i]];
		metrics_label(b->id, id, sizeof id);
		for (j = 0; j < n; j++) {
			v = stats_total_at(b, off + j * sizeof v);
			if (v == 0 || names[j] == NULL)
				continue;
			evbuffer_add_printf(out, "%s{board=\"%s\",%s=\"%s\"} "
			    "%llu\n", name, id, label, metrics_label(names[j],
			    lv, sizeof lv), (unsigned long long)v);
		}
	}
}

/*
 * What names the rows: the node, and every board known since start with
 * its name and whether the configuration in force has it (the live page
 * and dashboards show names, not only ids).
 */
static void
stats_prom_info(struct stats *st, struct evbuffer *out)
{
	struct stats_board	*b;
	char			 id[256], name[512];
	size_t			 i;

	metrics_head(out, "veilig_node_info", "gauge",
	    "The node's name (stats.node, else the host name); always 1.");
	evbuffer_add_printf(out, "veilig_node_info{node=\"%s\"} 1\n",
	    metrics_label(st->node != NULL ? st->node : "?", name,
	    sizeof name));
	metrics_head(out, "veilig_board_info", "gauge",
	    "A board by id, with its name; always 1.");
	for (i = 0; i < st->nboards; i++) {
		b = st->boards[st->byid[i]];
		evbuffer_add_printf(out, "veilig_board_info{board=\"%s\","
		    "name=\"%s\"} 1\n", metrics_label(b->id, id, sizeof id),
		    metrics_label(b->name, name, sizeof name));
	}
	metrics_head(out, "veilig_board_configured", "gauge",
	    "1 when the board is in the configuration in force.");
	for (i = 0; i < st->nboards; i++) {
		b = st->boards[st->byid[i]];
		evbuffer_add_printf(out, "veilig_board_configured{board=\"%s\"}"
		    " %d\n", metrics_label(b->id, id, sizeof id), b->live);
	}
}

/* The per-board families. */
static void
stats_prom_boards(struct stats *st, struct evbuffer *out)
{
	struct stats_board	*b;
	const char		*cats[STATS_MAX_CATS];
	char			 id[256], labels[300];
	uint64_t		 lat[STATS_NBUCKETS], lat_ns;
	size_t			 i;
	int			 j, k;
	static const char *const paths[2] = { "cache", "upstream" };

	stats_prom_named(st, out, "veilig_queries_total",
	    "Queries by board and query type.", "type",
	    offsetof(struct stats_counts, qtype), STATS_NQTYPES,
	    stats_qtype_names);
	stats_prom_named(st, out, "veilig_responses_total",
	    "Answers by board and rcode.", "rcode",
	    offsetof(struct stats_counts, rcode), STATS_NRCODES,
	    stats_rcode_names);
	stats_prom_named(st, out, "veilig_answers_total",
	    "Queries by board and how they were answered.", "answer",
	    offsetof(struct stats_counts, answer), STATS_NANSWERS,
	    stats_answer_names);
	for (i = 0; i < STATS_MAX_CATS; i++)
		cats[i] = i < st->ncats ? st->cats[i] : NULL;
	stats_prom_named(st, out, "veilig_blocked_total",
	    "Blocked answers by board and category.", "category",
	    offsetof(struct stats_counts, cat), STATS_MAX_CATS, cats);
	stats_prom_named(st, out, "veilig_limited_total",
	    "Answers a limit cut short, by board and limit: answered at once "
	    "(failed, forwarded, per_question, client_share) or by response "
	    "rate limiting (rrl_dropped, rrl_slipped).", "limit",
	    offsetof(struct stats_counts, limited), STATS_NLIMITS,
	    stats_limit_names);

	metrics_head(out, "veilig_safe_search_total", "counter",
	    "Safe-search rewrites by board.");
	for (i = 0; i < st->nboards; i++) {
		b = st->boards[st->byid[i]];
		evbuffer_add_printf(out, "veilig_safe_search_total{board=\"%s\"}"
		    " %llu\n", metrics_label(b->id, id, sizeof id),
		    (unsigned long long)stats_total_at(b, offsetof(struct
		    stats_counts, safe_search)));
	}
	metrics_head(out, "veilig_response_seconds", "histogram",
	    "Time from receiving a query to sending its answer, by board; "
	    "path upstream: the answer waited for an upstream.");
	for (i = 0; i < st->nboards; i++) {
		b = st->boards[st->byid[i]];
		for (j = 0; j < 2; j++) {
			for (k = 0; k < STATS_NBUCKETS; k++)
				lat[k] = stats_total_at(b, offsetof(struct
				    stats_counts, lat) + (j * STATS_NBUCKETS +
				    k) * sizeof lat[0]);
			lat_ns = stats_total_at(b, offsetof(struct
			    stats_counts, lat_ns) + j * sizeof lat_ns);
			/* A path with no answers yet: 19 lines of zeros. */
			if (lat_ns == 0 && stats_hist_empty(lat))
				continue;
			snprintf(labels, sizeof labels, "board=\"%s\","
			    "path=\"%s\"", metrics_label(b->id, id, sizeof id),
			    paths[j]);
			metrics_histogram(out, "veilig_response_seconds",
			    labels, stats_bucket_le, lat, STATS_NBUCKETS,
			    stats_secs(lat_ns));
		}
	}
	metrics_head(out, "veilig_clients", "gauge", "Distinct clients of a "
	    "board in the last whole interval (HyperLogLog estimate).");
	for (i = 0; i < st->nboards; i++) {
		b = st->boards[st->byid[i]];
		evbuffer_add_printf(out, "veilig_clients{board=\"%s\"} %llu\n",
		    metrics_label(b->id, id, sizeof id),
		    (unsigned long long)b->clients_last);
	}
	metrics_head(out, "veilig_clients_today", "gauge", "Distinct "
	    "clients of a board today, as of the last interval (estimate).");
	for (i = 0; i < st->nboards; i++) {
		b = st->boards[st->byid[i]];
		evbuffer_add_printf(out, "veilig_clients_today{board=\"%s\"} "
		    "%llu\n", metrics_label(b->id, id, sizeof id),
		    (unsigned long long)b->clients_day);
	}
}

/* One counter per upstream. */
static void
stats_prom_up(struct stats *st, struct evbuffer *out, const char *name,
    const char *help, size_t off)
{
	char		lv[128];
	unsigned	i;

	metrics_head(out, name, "counter", help);
	for (i = 0; i < st->nups; i++)
		evbuffer_add_printf(out, "%s{upstream=\"%s\"} %llu\n", name,
		    metrics_label(st->ups[i].name, lv, sizeof lv),
		    (unsigned long long)*(const uint64_t *)(const void *)
		    ((const char *)&st->ups[i].total + off));
}

/* The upstream families. */
static void
stats_prom_upstreams(struct stats *st, struct evbuffer *out)
{
	struct stats_up	*u;
	char		 lv[128], labels[160];
	unsigned	 i;

	metrics_head(out, "veilig_upstream_queries_total", "counter",
	    "Queries sent to an upstream, by transport.");
	for (i = 0; i < st->nups; i++) {
		u = &st->ups[i];
		metrics_label(u->name, lv, sizeof lv);
		evbuffer_add_printf(out, "veilig_upstream_queries_total{upstream"
		    "=\"%s\",transport=\"udp\"} %llu\n"
		    "veilig_upstream_queries_total{upstream=\"%s\",transport="
		    "\"tcp\"} %llu\n", lv, (unsigned long long)(u->total.queries -
		    u->total.tcp), lv, (unsigned long long)u->total.tcp);
	}
	stats_prom_up(st, out, "veilig_upstream_answers_total",
	    "Usable answers from an upstream.",
	    offsetof(struct stats_ucounts, answers));
	stats_prom_up(st, out, "veilig_upstream_timeouts_total",
	    "Upstream queries that timed out.",
	    offsetof(struct stats_ucounts, timeouts));
	stats_prom_up(st, out, "veilig_upstream_errors_total",
	    "Upstream answers that were errors (SERVFAIL, REFUSED, malformed) "
	    "and failed TCP connections.",
	    offsetof(struct stats_ucounts, errors));
	stats_prom_up(st, out, "veilig_upstream_mismatched_total",
	    "Answers dropped: wrong address, ID or question (spoofing?).",
	    offsetof(struct stats_ucounts, mismatched));
	stats_prom_up(st, out, "veilig_upstream_scrubbed_records_total",
	    "Records dropped from upstream answers: not of the question's "
	    "chain.", offsetof(struct stats_ucounts, scrubbed));
	metrics_head(out, "veilig_upstream_rtt_seconds", "histogram",
	    "Round-trip time of usable upstream answers.");
	for (i = 0; i < st->nups; i++) {
		u = &st->ups[i];
		snprintf(labels, sizeof labels, "upstream=\"%s\"",
		    metrics_label(u->name, lv, sizeof lv));
		metrics_histogram(out, "veilig_upstream_rtt_seconds", labels,
		    stats_bucket_le, u->total.rtt, STATS_NBUCKETS,
		    stats_secs(u->total.rtt_ns));
	}
	metrics_head(out, "veilig_upstream_up", "gauge", "1 unless the "
	    "upstream's last timeout is more recent than its last answer.");
	for (i = 0; i < st->nups; i++) {
		u = &st->ups[i];
		evbuffer_add_printf(out, "veilig_upstream_up{upstream=\"%s\"} "
		    "%d\n", metrics_label(u->name, lv, sizeof lv),
		    u->last_fail == 0 || u->last_ok >= u->last_fail);
	}
	metrics_head(out, "veilig_upstream_configured", "gauge",
	    "1 when the upstream is in the configuration in force.");
	for (i = 0; i < st->nups; i++)
		evbuffer_add_printf(out, "veilig_upstream_configured{upstream="
		    "\"%s\"} %d\n", metrics_label(st->ups[i].name, lv,
		    sizeof lv), st->ups[i].live);
}

void
stats_prometheus(struct stats *st, struct evbuffer *out)
{
	char		code[3];
	unsigned	i;

	pthread_mutex_lock(&st->lock);
	stats_prom_info(st, out);
	stats_prom_boards(st, out);
	metrics_head(out, "veilig_outside_queries_total", "counter",
	    "Queries from addresses in no board's networks.");
	evbuffer_add_printf(out, "veilig_outside_queries_total %llu\n",
	    (unsigned long long)st->out_total.queries);
	metrics_head(out, "veilig_outside_limited_total", "counter",
	    "Answers to addresses in no board's networks a limit cut short.");
	for (i = 0; i < STATS_NLIMITS; i++)
		if (st->out_total.limited[i] != 0)
			evbuffer_add_printf(out, "veilig_outside_limited_total{"
			    "limit=\"%s\"} %llu\n", stats_limit_names[i],
			    (unsigned long long)st->out_total.limited[i]);
	if (st->have_cc) {
		metrics_head(out, "veilig_outside_country_queries_total",
		    "counter", "Queries from addresses in no board's "
		    "networks, by country (GeoIP).");
		for (i = 0; i < STATS_NCC; i++) {
			if (st->out_total.cc[i] == 0)
				continue;
			code[0] = (char)('A' + i / 26);
			code[1] = (char)('A' + i % 26);
			code[2] = '\0';
			evbuffer_add_printf(out, "veilig_outside_country_queries"
			    "_total{country=\"%s\"} %llu\n", i == STATS_NCC - 1 ?
			    "unknown" : code,
			    (unsigned long long)st->out_total.cc[i]);
		}
	}
	stats_prom_upstreams(st, out);
	metrics_head(out, "veilig_stats_lost_total", "counter",
	    "Counts the statistics could not keep (tables full).");
	evbuffer_add_printf(out, "veilig_stats_lost_total{what=\"clients\"} "
	    "%llu\nveilig_stats_lost_total{what=\"categories\"} %llu\n"
	    "veilig_stats_lost_total{what=\"upstreams\"} %llu\n",
	    (unsigned long long)st->lost_clients,
	    (unsigned long long)st->lost_cats,
	    (unsigned long long)st->lost_ups);
	metrics_head(out, "veilig_stats_records_total", "counter",
	    "Statistics records written.");
	evbuffer_add_printf(out, "veilig_stats_records_total %llu\n",
	    (unsigned long long)__atomic_load_n(&st->lines, __ATOMIC_RELAXED));
	metrics_head(out, "veilig_stats_write_errors_total", "counter",
	    "Batches of statistics records that could not be written.");
	evbuffer_add_printf(out, "veilig_stats_write_errors_total %llu\n",
	    (unsigned long long)__atomic_load_n(&st->write_errors,
	    __ATOMIC_RELAXED));
	metrics_head(out, "veilig_stats_last_write_timestamp_seconds",
	    "gauge", "When statistics were last written (0: never).");
	evbuffer_add_printf(out, "veilig_stats_last_write_timestamp_seconds "
	    "%lld\n", (long long)__atomic_load_n(&st->last_write,
	    __ATOMIC_RELAXED));
	metrics_head(out, "veilig_stats_interval_seconds", "gauge",
	    "Length of a statistics interval.");
	evbuffer_add_printf(out, "veilig_stats_interval_seconds %u\n",
	    st->interval);
	metrics_head(out, "veilig_stats_tick_seconds", "histogram",
	    "Main thread time of the statistics' tick, per slice: part "
	    "fold, the workers' counts folded every second; part close, "
	    "an interval or day counted and written.");
	metrics_histogram(out, "veilig_stats_tick_seconds", "part=\"fold\"",
	    stats_bucket_le, st->tick_lat[0], STATS_NBUCKETS,
	    stats_secs(st->tick_ns[0]));
	metrics_histogram(out, "veilig_stats_tick_seconds", "part=\"close\"",
	    stats_bucket_le, st->tick_lat[1], STATS_NBUCKETS,
	    stats_secs(st->tick_ns[1]));
	pthread_mutex_unlock(&st->lock);
}
