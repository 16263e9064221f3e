/*
 * veilig-report.c: pages a school board would rather look at than read.
 *
 *	veilig-report [-b board] [-f from] [-t to] [-o dir] [-k n] [-n top]
 *	    [-v] statsdir ...
 *
 * Reads the statistics files veiligd writes (one directory per node, see
 * report_read.h), adds them up for a period of days (report_agg.h) and
 * writes one self-contained HTML page per board plus one for the whole
 * service, or one board's page only (report_page.h).
 *
 * All input is read and checked before the first page is written, so a
 * missing directory, an unreadable file, a newer format or an empty
 * period leaves the output directory as it was. Exit 0, 1 on an error,
 * 2 on a usage error.
 */
#include <sys/stat.h>

#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "report_agg.h"
#include "report_date.h"
#include "report_page.h"
#include "report_read.h"

#define VEILIG_REPORT_K		5	/* the statistics' default k */
#define VEILIG_REPORT_TOP	20	/* the statistics' default stats.top */

static __attribute__((noreturn)) void
veilig_report_usage(void)
{
	fprintf(stderr, "usage: veilig-report [-v] [-b board] [-f YYYY-MM-DD] "
	    "[-t YYYY-MM-DD] [-o dir]\n"
	    "                     [-k n] [-n top] statsdir ...\n");
	exit(2);
}

static __attribute__((noreturn)) void
veilig_report_fail(const char *what, const char *cause)
{
	if (what != NULL)
		fprintf(stderr, "veilig-report: %s: %s\n", what, cause);
	else
		fprintf(stderr, "veilig-report: %s\n", cause);
	exit(1);
}

/* A day from an option's argument, or a usage error. */
static long
veilig_report_day(const char *opt, const char *arg)
{
	long	day;

	if (report_date_parse_day(arg, strlen(arg), &day) == -1) {
		fprintf(stderr, "veilig-report: %s: not a date YYYY-MM-DD: %s\n",
		    opt, arg);
		exit(2);
	}
	return (day);
}

/* A number from an option's argument in [min, max], or a usage error. */
static long
veilig_report_number(const char *opt, const char *arg, long min, long max)
{
	char	*end;
	long	 v;

	errno = 0;
	v = strtol(arg, &end, 10);
	if (errno != 0 || end == arg || *end != '\0' || v < min || v > max) {
		fprintf(stderr, "veilig-report: %s: not a number from %ld to "
		    "%ld: %s\n", opt, min, max, arg);
		exit(2);
	}
	return (v);
}

/* The day the pages say they were made: SOURCE_DATE_EPOCH, or today. */
static long
veilig_report_made(void)
{
	const char	*s = getenv("SOURCE_DATE_EPOCH");
	char		*end;
	long long	 t;

	if (s != NULL && *s != '\0') {
		t = strtoll(s, &end, 10);
		if (*end == '\0' && t >= 0)
			return ((long)(t / 86400));
	}
	return (report_date_today());
}

/* No two arguments may name the same directory: its counts would double. */
static void
veilig_report_distinct(char **dirs, int n)
{
	struct stat	a, b;
	int		i, j;

	for (i = 0; i < n; i++) {
		if (stat(dirs[i], &a) == -1)
			continue;
		for (j = i + 1; j < n; j++) {
			if (stat(dirs[j], &b) == 0 && a.st_dev == b.st_dev &&
			    a.st_ino == b.st_ino)
				veilig_report_fail(dirs[j], "the same directory "
				    "as an earlier argument (its figures would "
				    "count twice)");
		}
	}
}

/* Make the output directory if it is not there (not its parents). */
static void
veilig_report_outdir(const char *dir)
{
	struct stat	sb;

	if (stat(dir, &sb) == 0) {
		if (!S_ISDIR(sb.st_mode))
			veilig_report_fail(dir, "not a directory");
		return;
	}
	if (errno != ENOENT || mkdir(dir, 0777) == -1)
		veilig_report_fail(dir, strerror(errno));
}

/*
 * The period: without --from and --to the last calendar month; with only
 * --from up to yesterday; with only --to from the first of its month.
 */
static void
veilig_report_period(long *from, long *to)
{
	long	today = report_date_today();
	int	y, m, d;

	if (*from == LONG_MIN && *to == LONG_MIN) {
		report_date_to_civil(today, &y, &m, &d);
		*to = today - d;
		report_date_to_civil(*to, &y, &m, &d);
		*from = *to - d + 1;
	} else if (*to == LONG_MIN)
		*to = today - 1 > *from ? today - 1 : *from;
	else if (*from == LONG_MIN) {
		report_date_to_civil(*to, &y, &m, &d);
		*from = *to - d + 1;
	}
	if (*from > *to) {
		fprintf(stderr, "veilig-report: --from is after --to\n");
		exit(2);
	}
	if (*to - *from + 1 > REPORT_MAX_DAYS) {
		fprintf(stderr, "veilig-report: a period of at most %d days\n",
		    REPORT_MAX_DAYS);
		exit(2);
	}
}

/* Check and read every directory into agg; exit 1 on an error. */
static void
veilig_report_read(struct report_agg *agg, char **dirs, int n, int verbose)
{
	struct report_read_stats	 st;
	struct timespec			 t0, t1;
	char				*cause;
	int				 i;

	for (i = 0; i < n; i++)
		if (report_read_check(dirs[i], &cause) == -1)
			veilig_report_fail(NULL, cause);
	veilig_report_distinct(dirs, n);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	memset(&st, 0, sizeof st);
	for (i = 0; i < n; i++)
		if (report_read_dir(agg, dirs[i], &st, &cause) == -1)
			veilig_report_fail(NULL, cause);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	if (agg->corrupt > 0)
		fprintf(stderr, "veilig-report: %llu corrupt line%s skipped "
		    "(counted on the pages)\n",
		    (unsigned long long)agg->corrupt, agg->corrupt == 1 ? "" :
		    "s");
	if (verbose)
		fprintf(stderr, "veilig-report: read %llu files, %llu MB, "
		    "%llu lines parsed, %llu passed over, %llu interval files "
		    "covered by day summaries, %llu gaps read from intervals, "
		    "in %.2f s\n", (unsigned long long)st.files,
		    (unsigned long long)(st.octets >> 20),
		    (unsigned long long)st.lines,
		    (unsigned long long)st.skipped,
		    (unsigned long long)st.covered,
		    (unsigned long long)st.uncovered,
		    (double)(t1.tv_sec - t0.tv_sec) +
		    (double)(t1.tv_nsec - t0.tv_nsec) / 1e9);
}

/*
 * The board asked for (NULL: all); exit 1, writing nothing, when the
 * period holds no statistics for it (or none at all).
 */
static struct report_board *
veilig_report_wanted(struct report_agg *agg, const char *board,
    char iso[2][16], int ndirs)
{
	struct report_board	*b = NULL;

	if (board != NULL) {
		b = report_agg_board(agg, board);
		if (b == NULL || b->records == 0) {
			fprintf(stderr, "veilig-report: no statistics for board "
			    "%s from %s to %s; no page written\n", board, iso[0],
			    iso[1]);
			exit(1);
		}
	} else if (agg->nboards == 0 && agg->out_records == 0 &&
	    agg->nups == 0) {
		fprintf(stderr, "veilig-report: no statistics from %s to %s in "
		    "the director%s given; no page written\n", iso[0], iso[1],
		    ndirs == 1 ? "y" : "ies");
		exit(1);
	}
	return (b);
}

/* Write board b's page, or (b NULL) every page; the number written. */
static size_t
veilig_report_write(struct report_agg *agg, struct report_board *b,
    struct report_page_ctx *ctx)
{
	char	*cause;
	size_t	 j;

	if (b != NULL) {
		if (report_page_board(agg, b, ctx, &cause) == -1)
			veilig_report_fail(NULL, cause);
		return (1);
	}
	ctx->links = 1;
	for (j = 0; j < agg->nboards; j++)
		if (report_page_board(agg, agg->boards[j], ctx, &cause) == -1)
			veilig_report_fail(NULL, cause);
	if (report_page_service(agg, ctx, &cause) == -1)
		veilig_report_fail(NULL, cause);
	return (agg->nboards + 1);
}

int
main(int argc, char **argv)
{
	static const struct option	 longopts[] = {
		{ "board", required_argument, NULL, 'b' },
		{ "all", no_argument, NULL, 'a' },
		{ "from", required_argument, NULL, 'f' },
		{ "to", required_argument, NULL, 't' },
		{ "output", required_argument, NULL, 'o' },
		{ "k", required_argument, NULL, 'k' },
		{ "top", required_argument, NULL, 'n' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	struct report_page_ctx		 ctx;
	struct report_agg		*agg;
	struct report_board		*b;
	struct timespec			 t0, t1;
	const char			*board = NULL;
	char				 iso[2][16];
	long				 from = LONG_MIN, to = LONG_MIN;
	int				 ch, k = VEILIG_REPORT_K, verbose = 0;
	size_t				 pages;

	memset(&ctx, 0, sizeof ctx);
	ctx.outdir = ".";
	ctx.top = VEILIG_REPORT_TOP;
	while ((ch = getopt_long(argc, argv, "ab:f:hk:n:o:t:v", longopts,
	    NULL)) != -1) {
		switch (ch) {
		case 'a':
			board = NULL;
			break;
		case 'b':
			if (*optarg == '\0')
				veilig_report_usage();
			board = optarg;
			break;
		case 'f':
			from = veilig_report_day("--from", optarg);
			break;
		case 't':
			to = veilig_report_day("--to", optarg);
			break;
		case 'o':
			ctx.outdir = optarg;
			break;
		case 'k':
			k = (int)veilig_report_number("-k", optarg, 1, 1000000);
			break;
		case 'n':
			ctx.top = (size_t)veilig_report_number("--top", optarg,
			    1, 100000);
			break;
		case 'v':
			verbose = 1;
			break;
		default:
			veilig_report_usage();
		}
	}
	argc -= optind;
	argv += optind;
	if (argc == 0)
		veilig_report_usage();

	veilig_report_period(&from, &to);
	report_date_iso(from, iso[0], sizeof iso[0]);
	report_date_iso(to, iso[1], sizeof iso[1]);

	agg = report_agg_new(from, to, k, board);
	veilig_report_read(agg, argv, argc, verbose);
	clock_gettime(CLOCK_MONOTONIC, &t1);

	ctx.made = veilig_report_made();
	b = veilig_report_wanted(agg, board, iso, argc);
	veilig_report_outdir(ctx.outdir);
	pages = veilig_report_write(agg, b, &ctx);
	if (verbose) {
		clock_gettime(CLOCK_MONOTONIC, &t0);
		fprintf(stderr, "veilig-report: %zu page%s for %s to %s written "
		    "to %s in %.2f s\n", pages, pages == 1 ? "" : "s", iso[0],
		    iso[1], ctx.outdir, (double)(t0.tv_sec - t1.tv_sec) +
		    (double)(t0.tv_nsec - t1.tv_nsec) / 1e9);
	}
	report_agg_free(agg);
	return (0);
}
