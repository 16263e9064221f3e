/*
 * listload.c: the domain table at scale (not run by make check).
 *
 * Loads every real list in ../shared/data/blocklists (or the directory
 * given as the only argument) with lists_load(), one list index a file,
 * and a synthetic list of a million random names
 * ("<8-12 letters>.<one of 50 labels>.<one of 20 TLDs>"), builds one
 * domain table and prints its size, the build time, the peak RSS and the
 * lookups per second of one core on a million queries (hits, subdomains
 * of hits and misses).
 *
 * Build from the repository root:
 *   gcc -O2 -D_GNU_SOURCE -Isrc tests/bench/listload.c src/domtable.c \
 *       src/lists.c $(pkg-config --cflags --libs ldns) -o listload
 *
 * "listload -w FILE [N]" only writes the first N (default a million)
 * synthetic names to FILE, one a line, as a list of format domains: the
 * same names for a daemon to load (tests/bench/memory).
 *
 * Synthetic names are a function of their number, so they are made again
 * for the queries and the distinct-name count instead of being kept: the
 * peak RSS is then the builder's and the table's, not this program's.
 *
 *	listload -a FILE N [FORMAT:PATH ...]
 *
 * writes instead, one a line, every name the lists PATH (each read in its
 * FORMAT, as veiligd.yaml names them) block as veiligd reads them
 * (lists_load, the same parser), then the first N synthetic names, and
 * exits: make bench gives veiligd the same files with the same formats
 * and the synthetic list as a file, and dnsdist and Unbound all these
 * names in their own way. Names that are not simply blocked with their
 * subdomains are marked, so that make bench asks none of them: "@@name",
 * an exception (adblock "@@", RPZ passthru), and "*.name", a name whose
 * subdomains only are blocked (RPZ "*.name"). RPZ entries that veiligd
 * answers with something other than NXDOMAIN (NODATA, a local CNAME) are
 * left out, and so are names with octets other than letters, digits, '-'
 * and '_', as other servers' syntaxes differ; both are counted. Each
 * list's counts go to standard error, one line a list:
 * "listload: PATH FORMAT: E entries, I invalid, U unsupported, N names,
 * X exceptions, S subdomains only, L left out, K networks".
 */
#include <sys/resource.h>

#include <ctype.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "domtable.h"
#include "lists.h"

#define LL_DEFAULT_DIR		"../shared/data/blocklists"
#define LL_SYNTH		1000000
#define LL_QUERIES		1000000
#define LL_SYNTH_LIST		40
#define LL_MAX_FILES		32
#define LL_ROUNDS		5
#define LL_SAMPLE_EVERY		16	/* keep one real name in 16 */
#define LL_WIRE_MAX		255

static const char *ll_labels[50] = {
	"ads", "cdn", "static", "img", "media", "api", "track", "metrics",
	"login", "secure", "mail", "shop", "news", "video", "cloud", "web",
	"app", "dev", "test", "edge", "files", "data", "stats", "pixel",
	"beacon", "assets", "content", "m", "mobile", "www2", "portal",
	"auth", "id", "pay", "wallet", "bet", "casino", "play", "game",
	"stream", "live", "tv", "music", "photo", "chat", "forum", "blog",
	"wiki", "docs", "support",
};

static const char *ll_tlds[20] = {
	"com", "net", "org", "nl", "de", "be", "fr", "uk", "io", "info",
	"biz", "xyz", "top", "site", "online", "ru", "cn", "co", "eu", "app",
};

/* A set of names by 56-bit hash and length, for counting distinct ones. */
struct ll_set {
	uint64_t	*slots;
	size_t		 n;		/* a power of two */
	size_t		 count;
	size_t		 bytes;
};

/* What the sink adds to. */
struct ll_ctx {
	struct domtable_builder	*b;
	struct ll_set		*set;		/* or NULL: count pass */
	unsigned		 list;
	size_t			 added;
	size_t			 reports;
	uint8_t			*sample;	/* real names, wire form */
	size_t			 sample_len;
	size_t			 sample_cap;
	uint32_t		*sample_off;	/* nsample + 1 offsets */
	size_t			 nsample;
	size_t			 seen;
	FILE			*out;		/* -a */
	size_t			 passes;	/* -a: exceptions */
	size_t			 subonly;	/* -a: "*.name" */
	size_t			 left;		/* -a: left out */
	size_t			 nets;		/* -a: ip lists' networks */
};

static uint64_t	ll_rng = 0x9e3779b97f4a7c15ULL;

static uint64_t
ll_mix(uint64_t h)
{
	h ^= h >> 33;
	h *= 0xff51afd7ed558ccdULL;
	h ^= h >> 33;
	h *= 0xc4ceb9fe1a85ec53ULL;
	h ^= h >> 33;
	return (h);
}

static uint64_t
ll_rand(void)
{
	ll_rng ^= ll_rng >> 12;
	ll_rng ^= ll_rng << 25;
	ll_rng ^= ll_rng >> 27;
	return (ll_rng * 0x2545f4914f6cdd1dULL);
}

static double
ll_now(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ((double)ts.tv_sec + (double)ts.tv_nsec / 1e9);
}

static size_t
ll_label(uint8_t *w, const char *s)
{
	size_t	len = strlen(s);

	w[0] = (uint8_t)len;
	memcpy(w + 1, s, len);
	return (len + 1);
}

/* Synthetic name number i, with prefix label pre (or NULL), into w. */
static size_t
ll_synth(uint64_t i, const char *pre, uint8_t *w)
{
	uint64_t	h = ll_mix(i * 0x9e3779b97f4a7c15ULL + 1);
	size_t		len = 0, n, j;

	if (pre != NULL)
		len += ll_label(w, pre);
	n = 8 + h % 5;
	h = ll_mix(h);
	w[len++] = (uint8_t)n;
	for (j = 0; j < n; j++) {
		w[len++] = (uint8_t)('a' + h % 26);
		h = h / 26;
		if (j == 10)
			h = ll_mix(h + i);
	}
	h = ll_mix(h ^ i);
	len += ll_label(w + len, ll_labels[h % 50]);
	len += ll_label(w + len, ll_tlds[(h >> 32) % 20]);
	w[len++] = 0;
	return (len);
}

/* Count name w (len octets) in the set if it is new there. */
static int
ll_set_add(struct ll_set *s, const uint8_t *w, size_t len)
{
	uint64_t	h = 0x84222325cbf29ce4ULL, key;
	size_t		i;

	for (i = 0; i < len; i++)
		h = (h ^ w[i]) * 0x100000001b3ULL;
	key = (ll_mix(h) & ~0xffULL) | len;
	for (i = ll_mix(key) & (s->n - 1); s->slots[i] != 0;
	    i = (i + 1) & (s->n - 1)) {
		if (s->slots[i] == key)
			return (0);
	}
	if (s->count + 1 >= s->n / 2)
		return (-1);
	s->slots[i] = key;
	s->count++;
	s->bytes += len;
	return (0);
}

static int
ll_name_cb(void *arg, const uint8_t *lname, size_t len,
    enum domtable_kind kind, enum domtable_match match, uint32_t line)
{
	struct ll_ctx	*ctx = arg;
	uint8_t		*p;
	uint32_t	*o;

	if (ctx->set != NULL)
		return (ll_set_add(ctx->set, lname, len));
	if (domtable_add(ctx->b, lname, len, ctx->list, kind, match,
	    line) == -1)
		return (-1);
	ctx->added++;
	if (ctx->seen++ % LL_SAMPLE_EVERY != 0)
		return (0);
	if (ctx->sample_len + len > ctx->sample_cap) {
		ctx->sample_cap = ctx->sample_cap * 2 + 4096;
		if ((p = realloc(ctx->sample, ctx->sample_cap)) == NULL)
			return (-1);
		ctx->sample = p;
	}
	o = realloc(ctx->sample_off, (ctx->nsample + 2) * sizeof *o);
	if (o == NULL)
		return (-1);
	ctx->sample_off = o;
	o[ctx->nsample] = (uint32_t)ctx->sample_len;
	memcpy(ctx->sample + ctx->sample_len, lname, len);
	ctx->sample_len += len;
	o[++ctx->nsample] = (uint32_t)ctx->sample_len;
	return (0);
}

static int
ll_rpz_cb(void *arg, const uint8_t *lname, size_t len,
    enum domtable_match match, enum lists_rpz_action action,
    const uint8_t *target, size_t tlen, uint32_t line)
{
	(void)target;
	(void)tlen;
	return (ll_name_cb(arg, lname, len, action == LISTS_RPZ_PASSTHRU ?
	    DOMTABLE_PASS : DOMTABLE_BLOCK, match, line));
}

static void
ll_report_cb(void *arg, const char *msg)
{
	struct ll_ctx	*ctx = arg;

	(void)msg;
	ctx->reports++;
}

/* The format of a list file by its name; -1 to skip it. */
static int
ll_format(const char *name, enum lists_format *fmt)
{
	size_t	len = strlen(name);

	if (len > 4 && strcmp(name + len - 4, ".rpz") == 0) {
		*fmt = LISTS_RPZ;
		return (0);
	}
	if (len < 4 || strcmp(name + len - 4, ".txt") != 0 ||
	    strstr(name, "-ip") != NULL)
		return (-1);
	if (strstr(name, "hosts") != NULL)
		*fmt = LISTS_HOSTS;
	else if (strstr(name, "adblock") != NULL)
		*fmt = LISTS_ADBLOCK;
	else
		*fmt = LISTS_DOMAINS;
	return (0);
}

/* The lines of the real lists of dir, to reserve the table's slots. */
static size_t
ll_count_dir(const char *dir)
{
	struct dirent		**ents;
	enum lists_format	 fmt;
	char			 path[4096];
	size_t			 lines = 0;
	long			 n;
	int			 k, i;

	if ((k = scandir(dir, &ents, NULL, alphasort)) == -1)
		return (0);
	for (i = 0; i < k; i++) {
		snprintf(path, sizeof path, "%s/%s", dir, ents[i]->d_name);
		if (ll_format(ents[i]->d_name, &fmt) == 0 &&
		    (n = lists_lines(path)) > 0)
			lines += (size_t)n;
		free(ents[i]);
	}
	free(ents);
	return (lines);
}

/* Load the real lists of dir into ctx (or into its set); file count. */
static int
ll_load_dir(const char *dir, struct ll_ctx *ctx, int verbose)
{
	struct lists_sink	 sink;
	struct lists_result	 res;
	struct dirent		**ents;
	enum lists_format	 fmt;
	char			 path[4096];
	size_t			 before;
	int			 n, i, files = 0;

	memset(&sink, 0, sizeof sink);
	sink.name = ll_name_cb;
	sink.rpz = ll_rpz_cb;
	sink.report = ll_report_cb;
	sink.arg = ctx;
	if ((n = scandir(dir, &ents, NULL, alphasort)) == -1)
		return (-1);
	for (i = 0; i < n; i++) {
		if (files < LL_MAX_FILES &&
		    ll_format(ents[i]->d_name, &fmt) == 0) {
			snprintf(path, sizeof path, "%s/%s", dir,
			    ents[i]->d_name);
			ctx->list = (unsigned)files;
			before = ctx->reports;
			if (lists_load(path, fmt, &sink, &res) == -1)
				printf("  %-24s FAILED\n", ents[i]->d_name);
			else if (verbose)
				printf("  %-24s list %2d %-8s %8zu entries "
				    "%6zu invalid %6zu unsupported "
				    "%4zu reports\n", ents[i]->d_name, files,
				    lists_format_name(fmt), res.entries,
				    res.invalid, res.unsupported,
				    ctx->reports - before);
			files++;
		}
		free(ents[i]);
	}
	free(ents);
	return (files);
}

/* Write the first n synthetic names to path as a domains list. */
static int
ll_write(const char *path, size_t n)
{
	FILE	*f;
	uint8_t	 w[LL_WIRE_MAX];
	size_t	 i, p;

	if ((f = fopen(path, "w")) == NULL) {
		perror(path);
		return (-1);
	}
	for (i = 0; i < n; i++) {
		ll_synth(i, NULL, w);
		/* Wire form to text: each length octet becomes a dot. */
		for (p = 0; w[p] != 0; p += (size_t)w[p] + 1)
			fprintf(f, "%s%.*s", p ? "." : "", (int)w[p],
			    (const char *)w + p + 1);
		fputc('\n', f);
	}
	if (fclose(f) != 0) {
		perror(path);
		return (-1);
	}
	return (0);
}

/*
 * -a: name w (wire form) in presentation form to f after mark ("", "@@"
 * or "*."), if plain; 0 or -1. Nothing is written for a name left out,
 * not even its mark.
 */
static int
ll_write_name(FILE *f, const char *mark, const uint8_t *w, size_t len)
{
	char	buf[2 + LL_WIRE_MAX + 1];
	size_t	i = 0, n, k;

	n = strlen(mark);
	memcpy(buf, mark, n);
	while (i < len && w[i] != 0) {
		for (k = 1; k <= w[i]; k++) {
			if (!isalnum(w[i + k]) && w[i + k] != '-' &&
			    w[i + k] != '_')
				return (-1);
			buf[n++] = (char)w[i + k];
		}
		i += 1 + w[i];
		buf[n++] = '.';
	}
	if (n == strlen(mark))
		return (-1);
	buf[n - 1] = '\n';
	return (fwrite(buf, 1, n, f) == n ? 0 : -1);
}

/*
 * -a: the sink's callback: blocked names to the file, an exception as
 * "@@name", a name whose subdomains only are blocked as "*.name" (see
 * the comment at the top).
 */
static int
ll_write_cb(void *arg, const uint8_t *lname, size_t len,
    enum domtable_kind kind, enum domtable_match match, uint32_t line)
{
	struct ll_ctx	*ctx = arg;
	const char	*mark = "";

	(void)line;
	if (kind != DOMTABLE_BLOCK) {
		mark = "@@";
		ctx->passes++;
	} else if (match == DOMTABLE_SUBONLY) {
		mark = "*.";
		ctx->subonly++;
	}
	if (ll_write_name(ctx->out, mark, lname, len) == 0) {
		if (kind == DOMTABLE_BLOCK)
			ctx->added++;
	} else
		ctx->left++;
	return (0);
}

static int
ll_write_rpz_cb(void *arg, const uint8_t *lname, size_t len,
    enum domtable_match match, enum lists_rpz_action action,
    const uint8_t *target, size_t tlen, uint32_t line)
{
	struct ll_ctx	*ctx = arg;

	(void)target;
	(void)tlen;
	/* NODATA and a local CNAME are answers the others do not give. */
	if (action != LISTS_RPZ_NXDOMAIN && action != LISTS_RPZ_PASSTHRU) {
		ctx->left++;
		return (0);
	}
	return (ll_write_cb(arg, lname, len, action == LISTS_RPZ_PASSTHRU ?
	    DOMTABLE_PASS : DOMTABLE_BLOCK, match, line));
}

/* -a: a network of an ip list, counted (veiligd blocks answers by it). */
static int
ll_write_net_cb(void *arg, const struct conf_net *net, uint32_t line)
{
	struct ll_ctx	*ctx = arg;

	(void)net;
	(void)line;
	ctx->nets++;
	return (0);
}

/* listload -a FILE N [FORMAT:PATH ...]: write the names and exit. */
static int
ll_write_all(const char *path, const char *count, char **files, int nfiles)
{
	struct ll_ctx		 ctx;
	struct lists_sink	 sink;
	struct lists_result	 res;
	enum lists_format	 fmt;
	char			 name[32], *end, *colon;
	uint8_t			 w[LL_WIRE_MAX];
	size_t			 i, real = 0, nsynth, before[5];
	int			 k, rc = 0;

	nsynth = strtoul(count, &end, 10);
	if (*count == '\0' || *end != '\0' || nsynth > 100000000) {
		fprintf(stderr, "listload: -a: N is a count of synthetic "
		    "names (0 to 100000000), not %s\n", count);
		return (1);
	}
	/* Every argument checked before anything is written. */
	for (k = 0; k < nfiles; k++) {
		colon = strchr(files[k], ':');
		if (colon == NULL || (size_t)(colon - files[k]) >= sizeof name) {
			fprintf(stderr, "listload: -a: FORMAT:PATH, not %s\n",
			    files[k]);
			return (1);
		}
		memcpy(name, files[k], (size_t)(colon - files[k]));
		name[colon - files[k]] = '\0';
		if (lists_format_parse(name, &fmt) == -1) {
			fprintf(stderr, "listload: -a: %s: no format %s\n",
			    colon + 1, name);
			return (1);
		}
	}
	memset(&ctx, 0, sizeof ctx);
	if ((ctx.out = fopen(path, "w")) == NULL) {
		perror(path);
		return (1);
	}
	memset(&sink, 0, sizeof sink);
	sink.name = ll_write_cb;
	sink.rpz = ll_write_rpz_cb;
	sink.net = ll_write_net_cb;
	sink.report = ll_report_cb;
	sink.arg = &ctx;
	for (k = 0; k < nfiles; k++) {
		colon = strchr(files[k], ':');
		*colon = '\0';
		(void)lists_format_parse(files[k], &fmt);
		before[0] = ctx.added;
		before[1] = ctx.passes;
		before[2] = ctx.subonly;
		before[3] = ctx.left;
		before[4] = ctx.nets;
		/* A load that fails (unreadable, mostly garbage) stops it:
		 * veiligd would not start on that list either. */
		if (lists_load(colon + 1, fmt, &sink, &res) == -1) {
			fprintf(stderr, "listload: %s: not loaded as %s "
			    "(%zu lines, %zu invalid, %zu unsupported)\n",
			    colon + 1, files[k], res.lines, res.invalid,
			    res.unsupported);
			rc = 1;
			continue;
		}
		fprintf(stderr, "listload: %s %s: %zu entries, %zu invalid, "
		    "%zu unsupported, %zu names, %zu exceptions, %zu "
		    "subdomains only, %zu left out, %zu networks\n",
		    colon + 1, files[k], res.entries, res.invalid,
		    res.unsupported, ctx.added - before[0],
		    ctx.passes - before[1], ctx.subonly - before[2],
		    ctx.left - before[3], ctx.nets - before[4]);
	}
	real = ctx.added;
	for (i = 0; i < nsynth; i++)
		(void)ll_write_name(ctx.out, "", w, ll_synth(i, NULL, w));
	if (fclose(ctx.out) != 0) {
		perror(path);
		return (1);
	}
	fprintf(stderr, "listload: %zu names from %d lists (%zu left out), "
	    "%zu synthetic\n", real, nfiles, ctx.left, nsynth);
	return (rc);
}

/* A million queries: the buffer of wire names and their offsets. */
static int
ll_queries(struct ll_ctx *ctx, uint8_t **bufp, uint32_t **offp)
{
	uint8_t		*buf, *w;
	uint32_t	*off;
	size_t		 len = 0, i, j, k;
	uint64_t	 r;

	buf = malloc((size_t)LL_QUERIES * 64);
	off = malloc(((size_t)LL_QUERIES + 1) * sizeof *off);
	if (buf == NULL || off == NULL)
		return (-1);
	for (i = 0; i < LL_QUERIES; i++) {
		off[i] = (uint32_t)len;
		w = buf + len;
		r = ll_rand();
		switch (r % 5) {
		case 0:		/* a synthetic name */
			len += ll_synth(r % LL_SYNTH, NULL, w);
			break;
		case 1:		/* a subdomain of one */
			len += ll_synth(r % LL_SYNTH, "www", w);
			break;
		case 2:		/* a real name or a subdomain of one */
			if (ctx->nsample == 0) {
				len += ll_synth(r, "miss", w);
				break;
			}
			k = (r >> 8) % ctx->nsample;
			j = ctx->sample_off[k + 1] - ctx->sample_off[k];
			if ((r >> 40) % 2 == 0 && j + 4 <= LL_WIRE_MAX) {
				len += ll_label(w, "www");
				w += 4;
			}
			memcpy(w, ctx->sample + ctx->sample_off[k], j);
			len += j;
			break;
		default:	/* a miss under a known label and TLD */
			len += ll_synth((r >> 1) + LL_SYNTH * 4, NULL, w);
			break;
		}
		if (len + LL_WIRE_MAX > (size_t)LL_QUERIES * 64)
			return (-1);
	}
	off[LL_QUERIES] = (uint32_t)len;
	*bufp = buf;
	*offp = off;
	return (0);
}

int
main(int argc, char **argv)
{
	struct ll_ctx	 ctx;
	struct ll_set	 set;
	struct rusage	 ru;
	struct domtable	*t;
	const char	*dir = argc > 1 ? argv[1] : LL_DEFAULT_DIR;
	uint8_t		 w[LL_WIRE_MAX], *qbuf;
	uint32_t	*qoff;
	uint64_t	 acc = 0;
	size_t		 i, entries, bytes, blocked = 0;
	double		 t0, t_load, t_synth, t_build, t_q, t_best = 0;
	int		 files, round;

	if (argc > 2 && strcmp(argv[1], "-w") == 0)
		return (ll_write(argv[2], argc > 3 ?
		    strtoul(argv[3], NULL, 10) : LL_SYNTH) == 0 ? 0 : 1);
	if (argc > 1 && strcmp(argv[1], "-a") == 0) {
		if (argc < 4) {
			fprintf(stderr, "usage: listload -a FILE N "
			    "[FORMAT:PATH ...]\n");
			return (1);
		}
		return (ll_write_all(argv[2], argv[3], argv + 4, argc - 4));
	}
	memset(&ctx, 0, sizeof ctx);
	/* As veiligd does: the table sized once for what comes. */
	if ((ctx.b = domtable_builder_new()) == NULL ||
	    domtable_builder_reserve(ctx.b, ll_count_dir(dir) + LL_SYNTH) == -1)
		return (1);

	t0 = ll_now();
	printf("real lists in %s:\n", dir);
	if ((files = ll_load_dir(dir, &ctx, 1)) == -1) {
		printf("  not present: skipped\n");
		files = 0;
	}
	t_load = ll_now() - t0;
	printf("  %zu entries added from %d files in %.3f s\n", ctx.added,
	    files, t_load);

	t0 = ll_now();
	for (i = 0; i < LL_SYNTH; i++) {
		if (domtable_add(ctx.b, w, ll_synth(i, NULL, w),
		    LL_SYNTH_LIST, DOMTABLE_BLOCK, DOMTABLE_SUBTREE,
		    (uint32_t)i) == -1)
			return (1);
	}
	t_synth = ll_now() - t0;
	printf("synthetic: %d names added in %.3f s\n", LL_SYNTH, t_synth);

	t0 = ll_now();
	if ((t = domtable_build(ctx.b)) == NULL) {
		printf("domtable_build failed\n");
		return (1);
	}
	t_build = ll_now() - t0;
	getrusage(RUSAGE_SELF, &ru);
	entries = domtable_entries(t);
	bytes = domtable_bytes(t);

	/* Distinct names, counted again after the peak was taken. */
	memset(&set, 0, sizeof set);
	set.n = 1U << 23;
	if ((set.slots = calloc(set.n, sizeof *set.slots)) == NULL)
		return (1);
	ctx.set = &set;
	if (files > 0)
		ll_load_dir(dir, &ctx, 0);
	for (i = 0; i < LL_SYNTH; i++)
		ll_set_add(&set, w, ll_synth(i, NULL, w));
	free(set.slots);

	printf("table:\n");
	printf("  entries                %zu\n", entries);
	printf("  distinct names         %zu\n", set.count);
	printf("  name bytes (distinct)  %zu (not kept by the table)\n",
	    set.bytes);
	printf("  domtable_bytes         %zu\n", bytes);
	printf("  octets/entry, names included %.1f\n",
	    (double)bytes / (double)(entries ? entries : 1));
	printf("  build (domtable_build) %.3f s; adds %.3f s (synthetic)\n",
	    t_build, t_synth);
	printf("  peak RSS               %.1f MiB\n",
	    (double)ru.ru_maxrss / 1024.0);

	if (ll_queries(&ctx, &qbuf, &qoff) == -1)
		return (1);
	/* The best of a few rounds: the machine may be busy with others. */
	for (round = 0; round < LL_ROUNDS; round++) {
		blocked = 0;
		t0 = ll_now();
		for (i = 0; i < LL_QUERIES; i++) {
			acc = domtable_match(t, qbuf + qoff[i],
			    qoff[i + 1] - qoff[i]);
			blocked += acc != 0;
		}
		t_q = ll_now() - t0;
		if (round == 0 || t_q < t_best)
			t_best = t_q;
	}
	printf("lookups: %d, best of %d rounds %.3f s: %.0f/s on one core, "
	    "%zu blocked\n", LL_QUERIES, LL_ROUNDS, t_best,
	    LL_QUERIES / t_best, blocked);

	free(qbuf);
	free(qoff);
	free(ctx.sample);
	free(ctx.sample_off);
	domtable_free(t);
	return (0);
}
