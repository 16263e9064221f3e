/*
 * mkstats.c: statistics files as veiligd's nodes write them, made up, for
 * veilig-report's tests and benchmark.
 *
 *	mkstats [-b boards] [-n nodes] [-f YYYY-MM-DD] [-d days]
 *	    [-i interval-days] [-c crash-days] [-s seed] [-K k,k,...]
 *	    [-x corrupt] [-T truth-k] -o dir
 *
 * Writes dir/ns1/, dir/ns2/, ... in the format of STATS-FORMAT (version 1):
 *
 * - "summary days" (all days but the ones below): only
 *   YYYY-MM-DD.day.jsonl, one day record per board that asked anything,
 *   one day-outside and one day-upstream per upstream. A real node also
 *   keeps that day's interval lines, but a reader must not need them
 *   (that is the point of the summaries), and a year of them for 1,000
 *   boards would be tens of gigabytes: they are left out.
 * - "crash days" (-c, spread over the period): three processes ran.
 *   A from midnight to 09:02:30 and stopped cleanly (summary); B from
 *   09:02:30 until it was killed at 13:31:10 (interval lines only, and its
 *   open interval lost); C from 13:32 to midnight (summary). All three
 *   write interval lines, so a reader must take A and C from the
 *   summaries, B from the intervals, and nothing twice.
 * - "interval days" (-i, the last days of the period): interval lines only,
 *   no summary, as for the day that is still going on.
 *
 * Everything is deterministic: each record draws from its own random
 * stream, seeded from (seed, node, board, day, interval), so a file does
 * not depend on the order in which it was made or on the other options.
 * The time zone is Europe/Amsterdam (with its DST days of 23 and 25 hours)
 * where the system has it.
 *
 * Sites: an interval record names a site blocked for at least the node's
 * k clients (-K sets k per node: 5,3 makes the second node lax); a day
 * record lists the sites named in its intervals with clients_at_least = k,
 * as the format says. Each board also has a rare site, blocked for 2 to 4
 * clients, which only a lax node names: a report with k 5 never may.
 *
 * dir/truth.tsv says what a correct reader must find, from the generator's
 * own bookkeeping (not by reading the files back): per board and day the
 * queries, blocked, cache, safe-search and canary answers and the clients
 * (summed over nodes and day parts, as the format says); per board the
 * sites that must be named with a report threshold of -T (default 5) and
 * their counts; the sites that must never be named; the outside and
 * upstream figures; the number of corrupt lines put in (-x).
 */
#include <sys/stat.h>

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define NCAT		9
#define NBUCKET		16
#define NQT		4
#define NRC		4
#define MAXSITES	512	/* named sites a record (or the truth of a board) holds */
#define MAXNODES	8
#define TOP		20
#define POOL		40	/* sites per category */

static const char *cat_name[NCAT] = {
	"malware", "phishing", "gambling", "adult", "malware-ip", "deny",
	"canary", "country:KP", "as:64511"
};
static const double cat_weight[NCAT] = {
	0.25, 0.15, 0.15, 0.20, 0.05, 0.05, 0.12, 0.02, 0.01
};
/* Site name stems per category ("%" marks a pool of numbered ones). */
static const char *cat_site[NCAT] = {
	"virus%", "inlog-bank%", "casino%", "xxx%", "botnet%", "spelletjes%",
	"use-application-dns.net", "kcna%", "hoster%"
};
static const char *qt_name[NQT] = { "A", "AAAA", "HTTPS", "other" };
static const char *rc_name[NRC] = { "NOERROR", "NXDOMAIN", "SERVFAIL",
    "REFUSED" };
static const char *le_text = "[0.0001,0.00025,0.0005,0.001,0.0025,0.005,"
    "0.01,0.025,0.05,0.1,0.25,0.5,1,2.5,5,\"+Inf\"]";
static const char *countries[] = { "NL", "US", "CN", "RU", "DE", "unknown" };
static const double country_w[] = { 0.55, 0.12, 0.08, 0.07, 0.08, 0.10 };
static const char *asns[] = { "1136", "15169", "4134", "12389", "3320",
    "unknown" };
#define NGEO	6

/* ------------------------------------------------------------ random */

struct rng {
	uint64_t	s;
};

static uint64_t
rng_next(struct rng *r)
{
	uint64_t	z = (r->s += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return (z ^ (z >> 31));
}

/* A stream for one record: seed mixed with up to four numbers. */
static void
rng_seed(struct rng *r, uint64_t seed, uint64_t a, uint64_t b, uint64_t c,
    uint64_t d)
{
	r->s = seed;
	r->s = rng_next(r) ^ a;
	r->s = rng_next(r) ^ b;
	r->s = rng_next(r) ^ c;
	r->s = rng_next(r) ^ d;
	rng_next(r);
}

static double
rng_unit(struct rng *r)
{
	return ((double)(rng_next(r) >> 11) / 9007199254740992.0);
}

static double
rng_range(struct rng *r, double lo, double hi)
{
	return (lo + (hi - lo) * rng_unit(r));
}

/* About Poisson(mu): exact below 30, normal above. */
static uint64_t
rng_count(struct rng *r, double mu)
{
	double	l, p, u1, u2, g;
	int	k;

	if (mu <= 0)
		return (0);
	if (mu < 30) {
		l = exp(-mu);
		p = 1;
		k = 0;
		do {
			k++;
			p *= rng_unit(r);
		} while (p > l);
		return ((uint64_t)(k - 1));
	}
	u1 = rng_unit(r);
	u2 = rng_unit(r);
	g = sqrt(-2 * log(u1 + 1e-300)) * cos(2 * M_PI * u2);
	g = mu + sqrt(mu) * g;
	return (g < 0 ? 0 : (uint64_t)llround(g));
}

/* Split n over k parts by weights, exactly: the parts add up to n. */
static void
split(struct rng *r, uint64_t n, const double *w, int k, uint64_t *out)
{
	double	 sum = 0, acc = 0;
	uint64_t given = 0, want;
	int	 i;

	for (i = 0; i < k; i++)
		sum += w[i];
	for (i = 0; i < k; i++) {
		out[i] = 0;
		if (sum <= 0)
			continue;
		acc += w[i];
		/* Jittered cumulative rounding keeps the sum exact. */
		want = (uint64_t)floor((double)n * acc / sum +
		    (i + 1 == k ? 0 : rng_unit(r) * 0.999));
		if (want > n)
			want = n;
		if (i + 1 == k)
			want = n;
		out[i] = want > given ? want - given : 0;
		given += out[i];
	}
}

/* ------------------------------------------------------------ model */

struct board {
	char		 id[32];
	char		 name[96];
	double		 devices;
	double		 prate;		/* share of queries blocked */
	double		 cw[NCAT];	/* category weights (0: not blocked) */
	int		 safe;
	double		 cache;		/* share of the rest from the cache */
};

static struct board	*boards;
static int		 nboards = 20, nnodes = 1, kn[MAXNODES];
static uint64_t		 seed = 1;
static int		 truth_k = 5;
static double		 node_share[MAXNODES];

/* School hours count; nights and weekends hardly. */
static double
activity(int wday, int hour)
{
	int	weekend = wday == 0 || wday == 6;

	if (hour < 7 || hour >= 23)
		return (0.02);
	if (weekend)
		return (hour >= 10 && hour < 22 ? 0.10 : 0.04);
	if (hour >= 8 && hour < 16)
		return (1.0);
	if (hour == 7 || hour == 16 || hour == 17)
		return (0.4);
	return (0.15);
}

static void
board_init(struct board *b, int i)
{
	struct rng	r;
	int		c;

	rng_seed(&r, seed, 0xb0a4d, (uint64_t)i, 0, 0);
	snprintf(b->id, sizeof b->id, "b%04d", i + 1);
	if (i == 0)
		/* A name that needs escaping and is not ASCII. */
		snprintf(b->name, sizeof b->name,
		    "Stichting <Öns> & \"Kind\" Onderwijs");
	else
		snprintf(b->name, sizeof b->name, "Stichting Scholengroep %d",
		    i + 1);
	b->devices = 40 + floor(rng_unit(&r) * rng_unit(&r) * 3000);
	b->prate = rng_range(&r, 0.01, 0.06);
	for (c = 0; c < NCAT; c++)
		b->cw[c] = cat_weight[c];
	if (rng_unit(&r) < 0.2)
		b->cw[2] = 0;		/* no gambling list */
	if (rng_unit(&r) < 0.3)
		b->cw[3] = 0;
	if (rng_unit(&r) < 0.5)
		b->cw[4] = 0;
	if (rng_unit(&r) < 0.6)
		b->cw[5] = 0;
	if (rng_unit(&r) < 0.1)
		b->cw[6] = 0;		/* canaries: false */
	if (rng_unit(&r) < 0.8)
		b->cw[7] = 0;
	if (rng_unit(&r) < 0.9)
		b->cw[8] = 0;
	b->safe = rng_unit(&r) < 0.85;
	b->cache = rng_range(&r, 0.7, 0.85);
}

/* ------------------------------------------------------------ records */

struct site {
	char		name[96];
	int		cat;
	uint64_t	count;
	uint64_t	cal;		/* clients_at_least, the largest */
};

/* The figures of one board record (an interval, or a sum of them). */
struct rec {
	uint64_t	queries, qt[NQT], rc[NRC];
	uint64_t	cache, fwd, stale, blocked, rewritten, refused, error;
	uint64_t	cat[NCAT], safe, clients, clients_day;
	uint64_t	lat_c[NBUCKET], lat_f[NBUCKET];
	struct site	site[MAXSITES];
	int		nsite;
	uint64_t	hidden_sites, hidden_count;
	uint64_t	intervals;
};

struct outrec {
	uint64_t	queries, country[NGEO], as[NGEO];
};

struct uprec {
	uint64_t	queries, timeouts, errors, mismatched, tcp;
	uint64_t	rtt[NBUCKET];
};

/* Add a named site (or more of one) to a record's list. */
static void
rec_site(struct rec *r, const char *name, int cat, uint64_t count,
    uint64_t cal)
{
	int	i;

	for (i = 0; i < r->nsite; i++) {
		if (strcmp(r->site[i].name, name) == 0) {
			r->site[i].count += count;
			if (cal > r->site[i].cal)
				r->site[i].cal = cal;
			return;
		}
	}
	if (r->nsite == MAXSITES) {
		r->hidden_count += count;
		return;
	}
	snprintf(r->site[r->nsite].name, sizeof r->site[0].name, "%s", name);
	r->site[r->nsite].cat = cat;
	r->site[r->nsite].count = count;
	r->site[r->nsite++].cal = cal;
}

/* A site of a category: index n of its pool ("casino12.example"). */
static void
site_name(char *buf, size_t len, int cat, unsigned n)
{
	if (strchr(cat_site[cat], '%') == NULL)
		snprintf(buf, len, "%s", cat_site[cat]);
	else
		snprintf(buf, len, "%.*s%u.example",
		    (int)(strchr(cat_site[cat], '%') - cat_site[cat]),
		    cat_site[cat], n);
}

/*
 * The counts of one board for mu expected queries with c expected
 * clients: everything that adds up, adds up.
 */
static void
rec_fill(struct rec *x, struct rng *r, const struct board *b, double mu,
    double clients, int k, int node, int whole_day)
{
	static const double qtw[NQT] = { 0.47, 0.38, 0.11, 0.04 };
	static const double latc[NBUCKET] = { 60, 30, 10 };
	static const double latf[NBUCKET] = { 0, 0, 0, 0, 0, 2, 10, 30, 35,
	    15, 6, 2 };
	uint64_t	rest, named, count, cal, nx;
	double		w[NCAT];
	char		name[96];
	int		c, i, n, top;

	memset(x, 0, sizeof *x);
	x->queries = rng_count(r, mu);
	if (x->queries == 0)
		return;
	x->blocked = (uint64_t)llround((double)x->queries * b->prate *
	    rng_range(r, 0.8, 1.2));
	x->rewritten = b->safe ? (uint64_t)llround((double)x->queries * 0.01 *
	    rng_range(r, 0.5, 1.5)) : 0;
	x->refused = rng_count(r, (double)x->queries * 0.0005);
	x->error = rng_count(r, (double)x->queries * 0.0003);
	x->stale = rng_count(r, (double)x->queries * 0.0002);
	if (x->blocked + x->rewritten + x->refused + x->error + x->stale >
	    x->queries) {
		x->rewritten = x->refused = x->error = x->stale = 0;
		if (x->blocked > x->queries)
			x->blocked = x->queries;
	}
	rest = x->queries - x->blocked - x->rewritten - x->refused - x->error -
	    x->stale;
	x->cache = (uint64_t)llround((double)rest * b->cache *
	    rng_range(r, 0.95, 1.05));
	if (x->cache > rest)
		x->cache = rest;
	x->fwd = rest - x->cache;
	x->safe = x->rewritten;
	split(r, x->blocked, b->cw, NCAT, x->cat);
	split(r, x->queries, qtw, NQT, x->qt);
	x->rc[3] = x->refused;
	x->rc[2] = x->error;
	x->rc[1] = x->blocked + (uint64_t)llround((double)x->fwd * 0.05);
	x->rc[0] = x->queries - x->rc[1] - x->rc[2] - x->rc[3];
	split(r, x->cache, latc, NBUCKET, x->lat_c);
	split(r, x->fwd + x->stale, latf, NBUCKET, x->lat_f);
	x->clients = (uint64_t)llround(clients * rng_range(r, 0.85, 1.0));
	if (x->clients == 0)
		x->clients = 1;
	if (x->clients > x->queries)
		x->clients = x->queries;

	/*
	 * Named sites: per category a few from its pool (the low numbers
	 * most often), blocked for a number of clients; named when that
	 * reaches the node's k. Plus a rare site, blocked for 2 to 4
	 * clients, which no node with k 5 ever names.
	 */
	memcpy(w, b->cw, sizeof w);
	top = 0;
	for (c = 0; c < NCAT; c++) {
		if (x->cat[c] == 0)
			continue;
		n = whole_day ? 1 + (int)(x->cat[c] / 400) : 1 +
		    (int)(x->cat[c] / 40);
		if (n > 6)
			n = 6;
		named = 0;
		for (i = 0; i < n && named < x->cat[c]; i++) {
			nx = (unsigned)(rng_unit(r) * rng_unit(r) * POOL);
			site_name(name, sizeof name, c, (unsigned)nx);
			count = (uint64_t)llround((double)(x->cat[c] - named) *
			    rng_range(r, 0.2, 0.6));
			if (count == 0)
				count = 1;
			cal = 1 + (uint64_t)(rng_unit(r) * (double)(count <
			    x->clients ? count : x->clients));
			/*
			 * A day record lists the sites named in some interval,
			 * with clients_at_least = k (the format says so).
			 */
			if (whole_day)
				cal = (uint64_t)k;
			if (cal >= (uint64_t)k && top < TOP) {
				rec_site(x, name, c, count, cal);
				top++;
			} else {
				x->hidden_sites++;
				x->hidden_count += count;
			}
			named += count;
		}
		x->hidden_count += x->cat[c] - named;
	}
	/* The rare site: on a node with k <= 4 it is named, else hidden. */
	if (x->cat[3] > 0 || x->cat[0] > 0) {
		c = x->cat[3] > 0 ? 3 : 0;
		snprintf(name, sizeof name, "zeldzaam%d-%s.example", node + 1,
		    b->id);
		cal = 2 + rng_next(r) % 3;
		if (cal >= (uint64_t)k && top < TOP && x->hidden_count > 0) {
			/* Taken from the hidden count: the sums stay. */
			rec_site(x, name, c, 1, whole_day ? (uint64_t)k : cal);
			x->hidden_count--;
		}
	}
}

/* Add an interval record into a part's sum. */
static void
rec_add(struct rec *s, const struct rec *x)
{
	int	i;

	if (x->queries == 0)
		return;
	s->queries += x->queries;
	for (i = 0; i < NQT; i++)
		s->qt[i] += x->qt[i];
	for (i = 0; i < NRC; i++)
		s->rc[i] += x->rc[i];
	s->cache += x->cache;
	s->fwd += x->fwd;
	s->stale += x->stale;
	s->blocked += x->blocked;
	s->rewritten += x->rewritten;
	s->refused += x->refused;
	s->error += x->error;
	for (i = 0; i < NCAT; i++)
		s->cat[i] += x->cat[i];
	s->safe += x->safe;
	for (i = 0; i < NBUCKET; i++) {
		s->lat_c[i] += x->lat_c[i];
		s->lat_f[i] += x->lat_f[i];
	}
	for (i = 0; i < x->nsite; i++)
		rec_site(s, x->site[i].name, x->site[i].cat, x->site[i].count,
		    x->site[i].cal);
	s->hidden_count += x->hidden_count;
	s->hidden_sites += x->hidden_sites;
	s->clients = x->clients_day;	/* the day sketch, as of the end */
	s->intervals++;
}

/* ------------------------------------------------------------ writing */

struct buf {
	char	*p;
	size_t	 len, cap;
};

static void
bprintf(struct buf *b, const char *fmt, ...)
{
	va_list	ap;
	int	n;

	for (;;) {
		va_start(ap, fmt);
		n = vsnprintf(b->p + b->len, b->cap - b->len, fmt, ap);
		va_end(ap);
		if (n >= 0 && (size_t)n < b->cap - b->len) {
			b->len += (size_t)n;
			return;
		}
		b->cap = b->cap * 2 + (size_t)n + 64;
		if ((b->p = realloc(b->p, b->cap)) == NULL) {
			perror("mkstats");
			exit(1);
		}
	}
}

/* "2026-12-01T10:05:00+01:00" for t in the local time zone. */
static void
isotime(time_t t, char *buf, size_t len)
{
	struct tm	tm;
	long		off;

	localtime_r(&t, &tm);
	off = tm.tm_gmtoff;
	snprintf(buf, len, "%04d-%02d-%02dT%02d:%02d:%02d%c%02ld:%02ld",
	    tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min,
	    tm.tm_sec, off < 0 ? '-' : '+', labs(off) / 3600,
	    labs(off) % 3600 / 60);
}

static void
head(struct buf *b, const char *type, int node, time_t start, time_t end)
{
	char	s[64], e[64];

	isotime(start, s, sizeof s);
	isotime(end, e, sizeof e);
	bprintf(b, "{\"v\":1,\"type\":\"%s\",\"node\":\"ns%d\",\"start\":\"%s\","
	    "\"end\":\"%s\",\"seconds\":%lld", type, node + 1, s, e,
	    (long long)(end - start));
}

static void
hist(struct buf *b, const uint64_t *h)
{
	int	i;

	for (i = 0; i < NBUCKET; i++)
		bprintf(b, "%s%llu", i ? "," : "[", (unsigned long long)h[i]);
	bprintf(b, "]");
}

static void
write_board(struct buf *b, const struct board *bd, const struct rec *x,
    int node, int day, time_t start, time_t end, int k)
{
	int	i, first;

	head(b, day ? "day" : "board", node, start, end);
	bprintf(b, ",\"board\":\"%s\",\"name\":\"", bd->id);
	for (i = 0; bd->name[i] != '\0'; i++) {
		if (bd->name[i] == '"' || bd->name[i] == '\\')
			bprintf(b, "\\");
		bprintf(b, "%c", bd->name[i]);
	}
	bprintf(b, "\",\"queries\":%llu,\"qtype\":{", (unsigned long long)
	    x->queries);
	for (i = 0, first = 1; i < NQT; i++) {
		if (x->qt[i] == 0)
			continue;
		bprintf(b, "%s\"%s\":%llu", first ? "" : ",", qt_name[i],
		    (unsigned long long)x->qt[i]);
		first = 0;
	}
	bprintf(b, "},\"rcode\":{");
	for (i = 0, first = 1; i < NRC; i++) {
		if (x->rc[i] == 0)
			continue;
		bprintf(b, "%s\"%s\":%llu", first ? "" : ",", rc_name[i],
		    (unsigned long long)x->rc[i]);
		first = 0;
	}
	bprintf(b, "},\"answers\":{\"cache\":%llu,\"forwarded\":%llu,"
	    "\"stale\":%llu,\"blocked\":%llu,\"rewritten\":%llu,"
	    "\"refused\":%llu,\"error\":%llu},\"blocked\":{",
	    (unsigned long long)x->cache, (unsigned long long)x->fwd,
	    (unsigned long long)x->stale, (unsigned long long)x->blocked,
	    (unsigned long long)x->rewritten, (unsigned long long)x->refused,
	    (unsigned long long)x->error);
	for (i = 0, first = 1; i < NCAT; i++) {
		if (x->cat[i] == 0)
			continue;
		bprintf(b, "%s\"%s\":%llu", first ? "" : ",", cat_name[i],
		    (unsigned long long)x->cat[i]);
		first = 0;
	}
	bprintf(b, "},\"safe_search\":%llu,\"latency\":{\"le\":%s,\"cache\":",
	    (unsigned long long)x->safe, le_text);
	hist(b, x->lat_c);
	bprintf(b, ",\"forwarded\":");
	hist(b, x->lat_f);
	bprintf(b, "},\"clients\":%llu", (unsigned long long)x->clients);
	if (!day)
		bprintf(b, ",\"clients_day\":%llu", (unsigned long long)
		    x->clients_day);
	bprintf(b, ",\"k\":%d,\"top_blocked\":[", k);
	for (i = 0; i < x->nsite; i++)
		bprintf(b, "%s{\"site\":\"%s\",\"category\":\"%s\",\"count\":"
		    "%llu,\"clients_at_least\":%llu}", i ? "," : "",
		    x->site[i].name, cat_name[x->site[i].cat],
		    (unsigned long long)x->site[i].count,
		    (unsigned long long)x->site[i].cal);
	bprintf(b, "],\"top_blocked_hidden\":{\"sites\":%llu,\"count\":%llu}",
	    (unsigned long long)x->hidden_sites,
	    (unsigned long long)x->hidden_count);
	if (day)
		bprintf(b, ",\"intervals\":%llu", (unsigned long long)
		    x->intervals);
	bprintf(b, "}\n");
}

static void
write_outside(struct buf *b, const struct outrec *o, int node, int day,
    time_t start, time_t end)
{
	int	i;

	head(b, day ? "day-outside" : "outside", node, start, end);
	bprintf(b, ",\"queries\":%llu,\"refused\":%llu,\"country\":{",
	    (unsigned long long)o->queries, (unsigned long long)o->queries);
	for (i = 0; i < NGEO; i++)
		bprintf(b, "%s\"%s\":%llu", i ? "," : "", countries[i],
		    (unsigned long long)o->country[i]);
	bprintf(b, "},\"as\":{");
	for (i = 0; i < NGEO; i++)
		bprintf(b, "%s\"%s\":%llu", i ? "," : "", asns[i],
		    (unsigned long long)o->as[i]);
	bprintf(b, "}}\n");
}

static const char *upstream_name[2] = { "192.0.2.53:53", "[2001:db8::53]:53" };

static void
write_upstream(struct buf *b, const struct uprec *u, int which, int node,
    int day, time_t start, time_t end)
{
	uint64_t	answers = 0;
	int		i;

	/* As veiligd writes it: usable answers, each with its round trip. */
	for (i = 0; i < NBUCKET; i++)
		answers += u->rtt[i];
	head(b, day ? "day-upstream" : "upstream", node, start, end);
	bprintf(b, ",\"upstream\":\"%s\",\"queries\":%llu,\"answers\":%llu,"
	    "\"timeouts\":%llu,\"errors\":%llu,\"mismatched\":%llu,"
	    "\"tcp\":%llu,\"rtt\":{\"le\":%s,\"counts\":",
	    upstream_name[which], (unsigned long long)u->queries,
	    (unsigned long long)answers, (unsigned long long)u->timeouts,
	    (unsigned long long)u->errors, (unsigned long long)u->mismatched,
	    (unsigned long long)u->tcp, le_text);
	hist(b, u->rtt);
	bprintf(b, "}}\n");
}

static void
out_fill(struct outrec *o, struct rng *r, double mu)
{
	memset(o, 0, sizeof *o);
	o->queries = rng_count(r, mu);
	split(r, o->queries, country_w, NGEO, o->country);
	split(r, o->queries, country_w, NGEO, o->as);
}

static void
out_add(struct outrec *s, const struct outrec *o)
{
	int	i;

	s->queries += o->queries;
	for (i = 0; i < NGEO; i++) {
		s->country[i] += o->country[i];
		s->as[i] += o->as[i];
	}
}

/* The upstream queries of forwarded answers fwd, split over two. */
static void
up_fill(struct uprec *u, struct rng *r, uint64_t fwd)
{
	static const double	w[2] = { 0.7, 0.3 };
	static const double	rtt[NBUCKET] = { 0, 0, 0, 0, 1, 4, 15, 35, 30,
	    10, 4, 1 };
	uint64_t		q[2];
	int			i;

	split(r, fwd, w, 2, q);
	for (i = 0; i < 2; i++) {
		memset(&u[i], 0, sizeof u[i]);
		u[i].queries = q[i];
		u[i].timeouts = rng_count(r, (double)q[i] * (i ? 0.004 : 0.001));
		u[i].errors = rng_count(r, (double)q[i] * 0.0005);
		u[i].mismatched = rng_count(r, (double)q[i] * 0.00002);
		u[i].tcp = rng_count(r, (double)q[i] * 0.002);
		split(r, q[i] - (u[i].timeouts < q[i] ? u[i].timeouts : q[i]),
		    rtt, NBUCKET, u[i].rtt);
	}
}

static void
up_add(struct uprec *s, const struct uprec *u)
{
	int	i;

	s->queries += u->queries;
	s->timeouts += u->timeouts;
	s->errors += u->errors;
	s->mismatched += u->mismatched;
	s->tcp += u->tcp;
	for (i = 0; i < NBUCKET; i++)
		s->rtt[i] += u->rtt[i];
}

/* ------------------------------------------------------------ truth */

/* Per board and day, summed over nodes: what the reader must find. */
struct truth {
	uint64_t	queries, blocked, cache, safe, canary, clients;
};

static struct truth	*truth;		/* nboards * ndays */
static uint64_t		*truth_out;	/* ndays * 2: queries, refused */
static uint64_t		*truth_up;	/* ndays * 2 upstreams * 2 */
static struct rec	*truth_sites;	/* per board: named sites, hidden */
static int		 ndays;
static long		 corrupt_lines;

/* The named sites of a record, as a reader with threshold truth_k sees. */
static void
truth_sites_add(int bi, const struct rec *x, int k)
{
	struct rec	*s = &truth_sites[bi];
	int		 i, thr = k > truth_k ? k : truth_k;

	for (i = 0; i < x->nsite; i++) {
		if (x->site[i].cal >= (uint64_t)thr)
			rec_site(s, x->site[i].name, x->site[i].cat,
			    x->site[i].count, x->site[i].cal);
		else
			s->hidden_count += x->site[i].count;
	}
	s->hidden_count += x->hidden_count;
}

/*
 * A record's counts into the truth; its sites too when sites is set (not
 * for the intervals of a part with a summary: a reader sees the sites of
 * the summary, whose entries carry the largest clients_at_least of the
 * part, so that is what it must name).
 */
static void
truth_add(int bi, int di, const struct rec *x, int k, int clients, int sites)
{
	struct truth	*t = &truth[(size_t)bi * (size_t)ndays + (size_t)di];
	struct rec	*s = &truth_sites[bi];
	int		 i;

	t->queries += x->queries;
	t->blocked += x->blocked;
	t->cache += x->cache;
	t->safe += x->safe;
	t->canary += x->cat[6];
	for (i = 0; i < NCAT; i++)
		s->cat[i] += x->cat[i];
	if (clients)
		t->clients += x->clients;
	if (sites)
		truth_sites_add(bi, x, k);
}

/* ------------------------------------------------------------ days */

static char	*outdir;

static FILE *
open_file(int node, const char *date, const char *suffix)
{
	char	path[4096];
	FILE	*f;

	snprintf(path, sizeof path, "%s/ns%d/%s%s", outdir, node + 1, date,
	    suffix);
	if ((f = fopen(path, "w")) == NULL) {
		fprintf(stderr, "mkstats: %s: %s\n", path, strerror(errno));
		exit(1);
	}
	return (f);
}

static void
close_file(FILE *f)
{
	if (fclose(f) != 0) {
		perror("mkstats: write");
		exit(1);
	}
}

/* Local midnight starting the day y-m-d. */
static time_t
midnight(int y, int m, int d)
{
	struct tm	tm;

	memset(&tm, 0, sizeof tm);
	tm.tm_year = y - 1900;
	tm.tm_mon = m - 1;
	tm.tm_mday = d;
	tm.tm_isdst = -1;
	return (mktime(&tm));
}

/* Expected queries of a board at a node per second of local hour h. */
static double
rate(const struct board *b, int node, int wday, int hour)
{
	return (b->devices * node_share[node] * activity(wday, hour) * 25.0 /
	    300.0);
}

/* Expected distinct clients of a board at a node in an interval. */
static double
interval_clients(const struct board *b, int node, int wday, int hour)
{
	return (b->devices * node_share[node] * activity(wday, hour) * 0.7);
}

/* Day clients at a node (what the day's sketch ends up at). */
static double
day_clients(const struct board *b, int node, int wday)
{
	return (b->devices * node_share[node] * (wday == 0 || wday == 6 ? 0.2 :
	    0.9));
}

/*
 * A summary day: one day record per board straight from the day's
 * expected figures, with no interval lines.
 */
static void
summary_day(int di, const char *date, time_t t0, time_t t1, int wday)
{
	struct buf	 b = { NULL, 0, 0 };
	struct rec	 x;
	struct outrec	 o;
	struct uprec	 u[2];
	struct rng	 r;
	uint64_t	 fwd;
	double		 mu, sec;
	time_t		 t;
	struct tm	 tm;
	int		 n, bi, h, i;
	FILE		*f;
	double		 hours[24];

	/* Seconds of each local hour in this day (23 or 25 on DST days). */
	memset(hours, 0, sizeof hours);
	for (t = t0; t < t1; t += 300) {
		localtime_r(&t, &tm);
		hours[tm.tm_hour] += 300;
	}
	for (n = 0; n < nnodes; n++) {
		f = open_file(n, date, ".day.jsonl");
		fwd = 0;
		for (bi = 0; bi < nboards; bi++) {
			rng_seed(&r, seed, (uint64_t)n, (uint64_t)bi,
			    (uint64_t)di, 0xda7);
			for (mu = 0, h = 0; h < 24; h++)
				mu += rate(&boards[bi], n, wday, h) * hours[h];
			rec_fill(&x, &r, &boards[bi], mu,
			    day_clients(&boards[bi], n, wday), kn[n], n, 1);
			if (x.queries == 0)
				continue;
			/* Intervals in which the board asked anything. */
			for (x.intervals = 0, h = 0; h < 24; h++) {
				sec = rate(&boards[bi], n, wday, h) * 300;
				if (sec >= 0.5)
					x.intervals += (uint64_t)(hours[h] /
					    300);
			}
			b.len = 0;
			write_board(&b, &boards[bi], &x, n, 1, t0, t1, kn[n]);
			fwrite(b.p, 1, b.len, f);
			truth_add(bi, di, &x, kn[n], 1, 1);
			fwd += x.fwd;
		}
		rng_seed(&r, seed, (uint64_t)n, 0x0075, (uint64_t)di, 0xda7);
		out_fill(&o, &r, 12.0 * 24);
		b.len = 0;
		write_outside(&b, &o, n, 1, t0, t1);
		truth_out[di * 2] += o.queries;
		truth_out[di * 2 + 1] += o.queries;
		up_fill(u, &r, fwd);
		for (i = 0; i < 2; i++) {
			write_upstream(&b, &u[i], i, n, 1, t0, t1);
			truth_up[(di * 2 + i) * 2] += u[i].queries;
			truth_up[(di * 2 + i) * 2 + 1] += u[i].timeouts;
		}
		fwrite(b.p, 1, b.len, f);
		close_file(f);
	}
	free(b.p);
}

/* One process's run within a day. */
struct part {
	time_t	start, end;	/* end: when it stopped (or was killed) */
	int	summary;	/* stopped cleanly: writes a day summary */
};

/*
 * A day of interval lines, made by the processes of parts[] in turn;
 * those that stopped cleanly also write their summary.
 */
static void
interval_day(int di, const char *date, int wday, const struct part *parts,
    int nparts)
{
	struct buf	 b = { NULL, 0, 0 }, sb = { NULL, 0, 0 };
	struct rec	*sum, x;
	struct outrec	 o, osum;
	struct uprec	 u[2], usum[2];
	struct rng	 r;
	struct tm	 tm;
	uint64_t	*cday, fwd, cap, grow;
	time_t		 s, e, grid;
	int		 n, p, bi, i;
	FILE		*f, *fd;

	sum = calloc((size_t)nboards, sizeof *sum);
	cday = calloc((size_t)nboards, sizeof *cday);
	if (sum == NULL || cday == NULL) {
		perror("mkstats");
		exit(1);
	}
	for (n = 0; n < nnodes; n++) {
		f = open_file(n, date, ".jsonl");
		fd = NULL;
		for (p = 0; p < nparts; p++) {
			memset(sum, 0, (size_t)nboards * sizeof *sum);
			memset(cday, 0, (size_t)nboards * sizeof *cday);
			memset(&osum, 0, sizeof osum);
			memset(usum, 0, sizeof usum);
			/* Intervals on the 5-minute grid; the first and last cut. */
			for (s = parts[p].start; s < parts[p].end; s = e) {
				grid = s - (s % 300) + 300;
				e = grid < parts[p].end ? grid : parts[p].end;
				/* A kill -9 loses the interval still open. */
				if (!parts[p].summary && e == parts[p].end)
					break;
				localtime_r(&s, &tm);
				b.len = 0;
				fwd = 0;
				for (bi = 0; bi < nboards; bi++) {
					rng_seed(&r, seed, (uint64_t)n,
					    (uint64_t)bi, (uint64_t)di,
					    (uint64_t)s);
					rec_fill(&x, &r, &boards[bi],
					    rate(&boards[bi], n, wday,
					    tm.tm_hour) * (double)(e - s),
					    interval_clients(&boards[bi], n,
					    wday, tm.tm_hour) * (double)(e - s)
					    / 300.0, kn[n], n, 0);
					if (x.queries == 0)
						continue;
					/*
					 * The day sketch only grows, towards
					 * the day's figure.
					 */
					cap = (uint64_t)day_clients(&boards[bi],
					    n, wday);
					grow = cday[bi] + (uint64_t)llround(
					    (double)x.clients * 0.25);
					if (grow > cap)
						grow = cap;
					if (grow > cday[bi])
						cday[bi] = grow;
					if (x.clients > cday[bi])
						cday[bi] = x.clients;
					x.clients_day = cday[bi];
					write_board(&b, &boards[bi], &x, n, 0,
					    s, e, kn[n]);
					rec_add(&sum[bi], &x);
					truth_add(bi, di, &x, kn[n], 0,
					    !parts[p].summary);
					fwd += x.fwd;
				}
				rng_seed(&r, seed, (uint64_t)n, 0x0075,
				    (uint64_t)di, (uint64_t)s);
				out_fill(&o, &r, 12.0 * (double)(e - s) / 3600);
				if (o.queries > 0) {
					write_outside(&b, &o, n, 0, s, e);
					out_add(&osum, &o);
					truth_out[di * 2] += o.queries;
					truth_out[di * 2 + 1] += o.queries;
				}
				up_fill(u, &r, fwd);
				for (i = 0; i < 2; i++) {
					if (u[i].queries == 0)
						continue;
					write_upstream(&b, &u[i], i, n, 0, s, e);
					up_add(&usum[i], &u[i]);
					truth_up[(di * 2 + i) * 2] +=
					    u[i].queries;
					truth_up[(di * 2 + i) * 2 + 1] +=
					    u[i].timeouts;
				}
				fwrite(b.p, 1, b.len, f);
			}
			/* Clients: the part's day sketch, once per part. */
			for (bi = 0; bi < nboards; bi++)
				if (sum[bi].queries > 0)
					truth[(size_t)bi * (size_t)ndays +
					    (size_t)di].clients +=
					    sum[bi].clients;
			if (!parts[p].summary)
				continue;
			if (fd == NULL)
				fd = open_file(n, date, ".day.jsonl");
			sb.len = 0;
			for (bi = 0; bi < nboards; bi++) {
				if (sum[bi].queries == 0)
					continue;
				/* A day record's sites carry k itself. */
				for (i = 0; i < sum[bi].nsite; i++)
					sum[bi].site[i].cal = (uint64_t)kn[n];
				write_board(&sb, &boards[bi], &sum[bi], n, 1,
				    parts[p].start, parts[p].end, kn[n]);
				truth_sites_add(bi, &sum[bi], kn[n]);
			}
			write_outside(&sb, &osum, n, 1, parts[p].start,
			    parts[p].end);
			for (i = 0; i < 2; i++)
				write_upstream(&sb, &usum[i], i, n, 1,
				    parts[p].start, parts[p].end);
			fwrite(sb.p, 1, sb.len, fd);
		}
		close_file(f);
		if (fd != NULL)
			close_file(fd);
	}
	free(sum);
	free(cday);
	free(b.p);
	free(sb.p);
}

/* ------------------------------------------------------------ corruption */

/* Append a line to a node's file (no newline added). */
static void
append(int node, const char *date, const char *suffix, const char *line)
{
	char	path[4096];
	FILE	*f;

	snprintf(path, sizeof path, "%s/ns%d/%s%s", outdir, node + 1, date,
	    suffix);
	if ((f = fopen(path, "a")) == NULL) {
		fprintf(stderr, "mkstats: %s: %s\n", path, strerror(errno));
		exit(1);
	}
	fputs(line, f);
	close_file(f);
}

/* ------------------------------------------------------------ main */

static __attribute__((noreturn)) void
usage(void)
{
	fprintf(stderr, "usage: mkstats [-b boards] [-n nodes] [-f YYYY-MM-DD] "
	    "[-d days] [-i interval-days]\n"
	    "               [-c crash-days] [-s seed] [-K k,k,...] [-x corrupt]"
	    " [-T truth-k] -o dir\n");
	exit(2);
}

int
main(int argc, char **argv)
{
	struct part	 parts[3];
	struct tm	 tm;
	FILE		*tf;
	char		 path[4096], date[64], first[16] = "2026-01-01", *p;
	time_t		 t0, t1, probe;
	int		 days = 7, idays = 0, cdays = 0, ch, n, i, c, y, m, d, di;
	int		 corrupt = 0, crash_every;
	long		 q;

	for (i = 0; i < MAXNODES; i++)
		kn[i] = 5;
	while ((ch = getopt(argc, argv, "b:c:d:f:i:K:n:o:s:T:x:")) != -1) {
		switch (ch) {
		case 'b':
			nboards = atoi(optarg);
			break;
		case 'c':
			cdays = atoi(optarg);
			break;
		case 'd':
			days = atoi(optarg);
			break;
		case 'f':
			snprintf(first, sizeof first, "%s", optarg);
			break;
		case 'i':
			idays = atoi(optarg);
			break;
		case 'K':
			for (i = 0, p = optarg; i < MAXNODES && *p; i++) {
				kn[i] = (int)strtol(p, &p, 10);
				if (*p == ',')
					p++;
			}
			for (; i < MAXNODES; i++)
				kn[i] = kn[i - 1];
			break;
		case 'n':
			nnodes = atoi(optarg);
			break;
		case 'o':
			outdir = optarg;
			break;
		case 's':
			seed = strtoull(optarg, NULL, 10);
			break;
		case 'T':
			truth_k = atoi(optarg);
			break;
		case 'x':
			corrupt = atoi(optarg);
			break;
		default:
			usage();
		}
	}
	if (outdir == NULL || nboards < 1 || nnodes < 1 || nnodes > MAXNODES ||
	    days < 1 || idays < 0 || cdays < 0 || idays + cdays > days ||
	    sscanf(first, "%d-%d-%d", &y, &m, &d) != 3)
		usage();
	/* Europe/Amsterdam where the system knows it, else what TZ says. */
	if (access("/usr/share/zoneinfo/Europe/Amsterdam", R_OK) == 0)
		setenv("TZ", "Europe/Amsterdam", 1);
	tzset();

	ndays = days;
	boards = calloc((size_t)nboards, sizeof *boards);
	truth = calloc((size_t)nboards * (size_t)days, sizeof *truth);
	truth_sites = calloc((size_t)nboards, sizeof *truth_sites);
	truth_out = calloc((size_t)days * 2, sizeof *truth_out);
	truth_up = calloc((size_t)days * 4, sizeof *truth_up);
	if (boards == NULL || truth == NULL || truth_sites == NULL ||
	    truth_out == NULL || truth_up == NULL) {
		perror("mkstats");
		return (1);
	}
	for (i = 0; i < nboards; i++)
		board_init(&boards[i], i);
	for (i = 0, q = 0; i < nnodes; i++)
		q += nnodes - i;
	for (i = 0; i < nnodes; i++)
		node_share[i] = (double)(nnodes - i) / (double)q;
	if (mkdir(outdir, 0777) == -1 && errno != EEXIST) {
		fprintf(stderr, "mkstats: %s: %s\n", outdir, strerror(errno));
		return (1);
	}
	for (n = 0; n < nnodes; n++) {
		snprintf(path, sizeof path, "%s/ns%d", outdir, n + 1);
		if (mkdir(path, 0777) == -1 && errno != EEXIST) {
			fprintf(stderr, "mkstats: %s: %s\n", path,
			    strerror(errno));
			return (1);
		}
	}

	/* Crash days spread over the summary days, never the first. */
	crash_every = cdays > 0 ? (days - idays) / (cdays + 1) : 0;
	for (di = 0, c = 0; di < days; di++) {
		t0 = midnight(y, m, d + di);
		localtime_r(&t0, &tm);
		t1 = midnight(tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday + 1);
		snprintf(date, sizeof date, "%04d-%02d-%02d", tm.tm_year + 1900,
		    tm.tm_mon + 1, tm.tm_mday);
		if (di >= days - idays) {
			parts[0].start = t0;
			parts[0].end = t1;
			parts[0].summary = 0;
			interval_day(di, date, tm.tm_wday, parts, 1);
			/* Its last interval lost: as if still open. */
		} else if (crash_every > 0 && c < cdays &&
		    di == crash_every * (c + 1)) {
			parts[0].start = t0;
			parts[0].end = t0 + 9 * 3600 + 150;
			parts[0].summary = 1;
			parts[1].start = parts[0].end;
			parts[1].end = t0 + 13 * 3600 + 31 * 60 + 10;
			parts[1].summary = 0;
			parts[2].start = t0 + 13 * 3600 + 32 * 60;
			parts[2].end = t1;
			parts[2].summary = 1;
			interval_day(di, date, tm.tm_wday, parts, 3);
			c++;
		} else
			summary_day(di, date, t0, t1, tm.tm_wday);
	}

	/*
	 * Corrupt lines: broken JSON and a record missing its counts in day
	 * files (always read), one in the gap of a crash day, and a last
	 * line cut short in the last interval file. Each is counted once by
	 * a correct reader; none takes away a real record.
	 */
	for (i = 0; i < corrupt; i++) {
		probe = midnight(y, m, d + (i * 7 + 1) % (days - idays > 0 ?
		    days - idays : 1));
		localtime_r(&probe, &tm);
		snprintf(date, sizeof date, "%04d-%02d-%02d", tm.tm_year + 1900,
		    tm.tm_mon + 1, tm.tm_mday);
		if (i % 3 == 0 && idays > 0) {
			probe = midnight(y, m, d + days - 1);
			localtime_r(&probe, &tm);
			snprintf(date, sizeof date, "%04d-%02d-%02d",
			    tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday);
			/* Only one file can end cut short; the rest garble. */
			if (i == 0) {
				char	when[64], line[256];

				isotime(probe + 86400 - 60, when, sizeof when);
				snprintf(line, sizeof line, "{\"v\":1,\"type\":"
				    "\"board\",\"node\":\"ns1\",\"start\":"
				    "\"%s\",\"end\":\"", when);
				append(0, date, ".jsonl", line);
				continue;
			}
		}
		if (i % 2 == 0)
			append(0, date, ".day.jsonl", "{\"v\":1,\"type\":\"day\","
			    "\"board\":\"b0001\",\"queries\":12,,}\n");
		else
			append(nnodes - 1, date, ".day.jsonl", "{\"v\":1,"
			    "\"type\":\"day\",\"node\":\"ns9\",\"start\":"
			    "\"2026-01-01T00:00:00+01:00\",\"end\":"
			    "\"2026-01-02T00:00:00+01:00\",\"board\":\"b0002\","
			    "\"queries\":\"veel\"}\n");
	}
	corrupt_lines = corrupt;

	snprintf(path, sizeof path, "%s/truth.tsv", outdir);
	if ((tf = fopen(path, "w")) == NULL) {
		fprintf(stderr, "mkstats: %s: %s\n", path, strerror(errno));
		return (1);
	}
	fprintf(tf, "# mkstats truth: report threshold %d\n", truth_k);
	fprintf(tf, "corrupt\t%ld\n", corrupt_lines);
	for (i = 0; i < nboards; i++)
		fprintf(tf, "name\t%s\t%s\n", boards[i].id, boards[i].name);
	for (di = 0; di < days; di++) {
		t0 = midnight(y, m, d + di);
		localtime_r(&t0, &tm);
		snprintf(date, sizeof date, "%04d-%02d-%02d", tm.tm_year + 1900,
		    tm.tm_mon + 1, tm.tm_mday);
		for (i = 0; i < nboards; i++) {
			struct truth *t = &truth[(size_t)i * (size_t)days +
			    (size_t)di];

			if (t->queries == 0)
				continue;
			fprintf(tf, "day\t%s\t%s\t%llu\t%llu\t%llu\t%llu\t%llu\t"
			    "%llu\n", boards[i].id, date,
			    (unsigned long long)t->queries,
			    (unsigned long long)t->blocked,
			    (unsigned long long)t->cache,
			    (unsigned long long)t->safe,
			    (unsigned long long)t->canary,
			    (unsigned long long)t->clients);
		}
		fprintf(tf, "outside\t%s\t%llu\t%llu\n", date,
		    (unsigned long long)truth_out[di * 2],
		    (unsigned long long)truth_out[di * 2 + 1]);
		for (i = 0; i < 2; i++)
			fprintf(tf, "upstream\t%s\t%s\t%llu\t%llu\n",
			    upstream_name[i], date,
			    (unsigned long long)truth_up[(di * 2 + i) * 2],
			    (unsigned long long)truth_up[(di * 2 + i) * 2 + 1]);
	}
	for (i = 0; i < nboards; i++) {
		for (c = 0; c < truth_sites[i].nsite; c++)
			fprintf(tf, "site\t%s\t%s\t%s\t%llu\n", boards[i].id,
			    truth_sites[i].site[c].name,
			    cat_name[truth_sites[i].site[c].cat],
			    (unsigned long long)truth_sites[i].site[c].count);
		for (c = 0; c < NCAT; c++)
			if (truth_sites[i].cat[c] > 0)
				fprintf(tf, "cat\t%s\t%s\t%llu\n", boards[i].id,
				    cat_name[c], (unsigned long long)
				    truth_sites[i].cat[c]);
		fprintf(tf, "hidden\t%s\t%llu\n", boards[i].id,
		    (unsigned long long)truth_sites[i].hidden_count);
		for (n = 0; n < nnodes; n++)
			fprintf(tf, "rare\tzeldzaam%d-%s.example\n", n + 1,
			    boards[i].id);
	}
	if (fclose(tf) != 0) {
		perror("mkstats: truth.tsv");
		return (1);
	}
	return (0);
}
