/*
 * report_read.c: reading a node's statistics directory into a report
 * (see report_read.h).
 *
 * Per day: the day summaries first, whose [start, end) give the parts of
 * the day they cover; then, for every gap between covered parts (before
 * the first, between two, after the last), the interval lines whose start
 * lies in the gap. Lines are time-ordered (they are appended as intervals
 * close), so the first line of a gap is found by bisecting byte offsets:
 * at a probe offset, the next whole line's start says on which side the
 * gap begins. A day with a summary for all of it reads the interval file's
 * first line and a dozen probes near its end, instead of 10^5 lines.
 */
#include <sys/stat.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "report_date.h"
#include "report_read.h"

#define REPORT_READ_BUF		(1 << 20)	/* first buffer, octets */
#define REPORT_READ_MAXLINE	(64 << 20)	/* longer lines are corrupt */
#define REPORT_READ_BISECT	(64 << 10)	/* stop bisecting below this */
#define REPORT_READ_PROBES	16		/* lines tried at one probe */
#define REPORT_READ_WARNINGS	10		/* corrupt lines named */
#define REPORT_READ_PEEK	1024		/* octets peek looks at */

/* One file read line by line through a buffer. */
struct report_lines {
	int		 fd;
	const char	*path;
	off_t		 size;		/* at open: a growing file is read
					   up to there */
	char		*buf;
	size_t		 cap;
	size_t		 len;		/* octets in buf */
	off_t		 bufoff;	/* file offset of buf[0] */
	off_t		 pos;		/* where the next line starts */
	uint64_t	 lineno;	/* its number, 0 when unknown */
	struct report_read_stats *st;
};

/* One line handed out by report_lines_next. */
struct report_line {
	const char	*p;
	size_t		 len;		/* without the newline */
	off_t		 at;		/* file offset */
	uint64_t	 lineno;	/* 0 when unknown (after a seek) */
	int		 partial;	/* no newline: the file's last line */
	int		 toolong;	/* over REPORT_READ_MAXLINE: p is NULL */
};

/* A covered part of a day, seconds since the epoch, [start, end). */
struct report_cover {
	int64_t		 start, end;
};

/* The state of reading one directory. */
struct report_read {
	struct report_agg	*agg;
	const char		*dir;
	struct report_read_stats *st;
	struct report_cover	*cov;
	size_t			 ncov, capcov;
	struct report_rec	 rec;		/* the line being read */
	char			*cause;
};

static uint64_t	report_read_warned;

/* ------------------------------------------------------------ lines */

/*
 * Open path; -1 with errno (ENOENT for a day without that file) and *why.
 * A regular file only: the open of a FIFO (O_NONBLOCK keeps it from
 * waiting for a writer) or a device would hang the report.
 */
static int
report_lines_open(struct report_lines *lf, const char *path,
    struct report_read_stats *st, const char **why)
{
	struct stat	sb;

	memset(lf, 0, sizeof *lf);
	if ((lf->fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK)) == -1) {
		*why = strerror(errno);
		return (-1);
	}
	if (fstat(lf->fd, &sb) == -1) {
		*why = strerror(errno);
		close(lf->fd);
		return (-1);
	}
	if (!S_ISREG(sb.st_mode)) {
		/* Never a stale ENOENT: the callers take that for no file. */
		errno = S_ISDIR(sb.st_mode) ? EISDIR : EINVAL;
		*why = S_ISDIR(sb.st_mode) ? strerror(EISDIR) :
		    "not a regular file";
		close(lf->fd);
		return (-1);
	}
	lf->path = path;
	lf->size = sb.st_size;
	lf->cap = REPORT_READ_BUF;
	lf->buf = report_mem_calloc(1, lf->cap);
	lf->lineno = 1;
	lf->st = st;
	st->files++;
#ifdef POSIX_FADV_SEQUENTIAL
	posix_fadvise(lf->fd, 0, 0, POSIX_FADV_SEQUENTIAL);
#endif
	return (0);
}

static void
report_lines_close(struct report_lines *lf)
{
	if (lf->fd != -1)
		close(lf->fd);
	free(lf->buf);
	lf->fd = -1;
	lf->buf = NULL;
}

/* Fill the buffer from file offset off; 0 or -1 (errno). */
static int
report_lines_fill(struct report_lines *lf, off_t off)
{
	size_t	want, got = 0;
	ssize_t	n;

	want = lf->cap;
	if ((off_t)want > lf->size - off)
		want = (size_t)(lf->size - off);
	while (got < want) {
		n = pread(lf->fd, lf->buf + got, want - got, off + (off_t)got);
		if (n == -1) {
			if (errno == EINTR)
				continue;
			return (-1);
		}
		if (n == 0)
			break;		/* the file shrank: read what is there */
		got += (size_t)n;
	}
	lf->bufoff = off;
	lf->len = got;
	lf->st->octets += got;
	if (got < want)
		lf->size = off + (off_t)got;
	return (0);
}

/*
 * The next line: 1, 0 at the end of the file, -1 on a read error. The line
 * points into the buffer and is valid until the next call.
 */
static int
report_lines_next(struct report_lines *lf, struct report_line *l)
{
	const char	*nl;
	size_t		 rel;

	memset(l, 0, sizeof *l);
	for (;;) {
		if (lf->pos >= lf->size)
			return (0);
		if (lf->pos < lf->bufoff ||
		    lf->pos >= lf->bufoff + (off_t)lf->len) {
			if (report_lines_fill(lf, lf->pos) == -1)
				return (-1);
			if (lf->len == 0)
				return (0);
		}
		rel = (size_t)(lf->pos - lf->bufoff);
		nl = memchr(lf->buf + rel, '\n', lf->len - rel);
		if (nl != NULL) {
			l->p = lf->buf + rel;
			l->len = (size_t)(nl - l->p);
			break;
		}
		if (lf->bufoff + (off_t)lf->len >= lf->size) {
			/* The last line, cut short: no newline. */
			l->p = lf->buf + rel;
			l->len = lf->len - rel;
			l->partial = 1;
			break;
		}
		if (rel > 0) {
			/* Move the line to the front of the buffer. */
			if (report_lines_fill(lf, lf->pos) == -1)
				return (-1);
			continue;
		}
		if (lf->cap >= REPORT_READ_MAXLINE) {
			/* Skip the monster up to its newline. */
			l->toolong = 1;
			l->at = lf->pos;
			l->lineno = lf->lineno;
			lf->pos += (off_t)lf->len;
			while (lf->pos < lf->size) {
				if (report_lines_fill(lf, lf->pos) == -1)
					return (-1);
				nl = memchr(lf->buf, '\n', lf->len);
				if (nl != NULL) {
					lf->pos += nl - lf->buf + 1;
					break;
				}
				lf->pos += (off_t)lf->len;
			}
			if (lf->lineno != 0)
				lf->lineno++;
			return (1);
		}
		lf->cap *= 2;
		lf->buf = report_mem_realloc(lf->buf, lf->cap, 1);
		if (report_lines_fill(lf, lf->pos) == -1)
			return (-1);
	}
	l->at = lf->pos;
	l->lineno = lf->lineno;
	lf->pos += (off_t)l->len + (l->partial ? 0 : 1);
	if (lf->lineno != 0)
		lf->lineno++;
	return (1);
}

/* Go to the first line that starts at or after off; 0 or -1. */
static int
report_lines_seek(struct report_lines *lf, off_t off)
{
	struct report_line	l;

	if (off <= 0) {
		lf->pos = 0;
		lf->lineno = 1;
		return (0);
	}
	/* The line holding octet off - 1 ends where the wanted one starts. */
	lf->pos = off - 1;
	lf->lineno = 0;
	if (lf->pos >= lf->size)
		return (0);
	return (report_lines_next(lf, &l) == -1 ? -1 : 0);
}

/* ------------------------------------------------------------ peek */

/* The string value after "key":" within line[0..len), no escapes. */
static const char *
report_read_field(const char *line, size_t len, const char *key,
    size_t *vlen)
{
	const char	*k, *v, *q;
	size_t		 klen = strlen(key);

	if (len > REPORT_READ_PEEK)
		len = REPORT_READ_PEEK;
	if ((k = memmem(line, len, key, klen)) == NULL)
		return (NULL);
	v = k + klen;
	q = memchr(v, '"', len - (size_t)(v - line));
	if (q == NULL || memchr(v, '\\', (size_t)(q - v)) != NULL)
		return (NULL);
	*vlen = (size_t)(q - v);
	return (v);
}

int
report_read_peek(const char *line, size_t len, struct report_read_peek *pk)
{
	const char	*s;
	size_t		 slen;

	memset(pk, 0, sizeof *pk);
	pk->type = report_read_field(line, len, "\"type\":\"", &pk->typelen);
	pk->board = report_read_field(line, len, "\"board\":\"",
	    &pk->boardlen);
	if (pk->board == NULL)
		pk->boardlen = 0;
	if ((s = report_read_field(line, len, "\"start\":\"", &slen)) != NULL &&
	    report_date_parse_time(s, slen, &pk->start) == 0)
		pk->have_start = 1;
	if ((s = report_read_field(line, len, "\"end\":\"", &slen)) != NULL &&
	    report_date_parse_time(s, slen, &pk->end) == 0)
		pk->have_end = 1;
	if (pk->type == NULL)
		pk->typelen = 0;
	return (pk->type != NULL && pk->have_start ? 0 : -1);
}

/* Whether the peeked type is t. */
static int
report_read_is(const struct report_read_peek *pk, const char *t)
{
	return (pk->typelen == strlen(t) &&
	    memcmp(pk->type, t, pk->typelen) == 0);
}

/* ------------------------------------------------------------ records */

/* Count a corrupt line and name the first few on stderr. */
static void
report_read_corrupt(struct report_read *rd, const struct report_lines *lf,
    const struct report_line *l, const char *why)
{
	struct report_read_peek	pk;
	const char		*board = NULL;
	size_t			 blen = 0;

	if (l->p != NULL) {
		report_read_peek(l->p, l->len, &pk);
		board = pk.board;
		blen = pk.boardlen;
	}
	report_agg_corrupt(rd->agg, board, blen);
	if (report_read_warned++ >= REPORT_READ_WARNINGS)
		return;
	if (l->lineno != 0)
		fprintf(stderr, "veilig-report: %s:%llu: skipped: %s\n",
		    lf->path, (unsigned long long)l->lineno, why);
	else
		fprintf(stderr, "veilig-report: %s: line at octet %lld: "
		    "skipped: %s\n", lf->path, (long long)l->at, why);
}

/*
 * Parse and add one line. 0 (added, skipped or counted as corrupt), or
 * -1 with rd->cause when the report cannot go on. *ok says whether the
 * line was a valid record.
 */
static int
report_read_line(struct report_read *rd, const struct report_lines *lf,
    const struct report_line *l, long day, enum report_src src, int *ok)
{
	const char	*why;

	*ok = 0;
	if (l->toolong) {
		report_read_corrupt(rd, lf, l, "line too long");
		return (0);
	}
	if (l->partial) {
		report_read_corrupt(rd, lf, l, "last line has no newline "
		    "(cut short)");
		return (0);
	}
	rd->st->lines++;
	switch (report_rec_parse(&rd->rec, l->p, l->len, src, &why)) {
	case REPORT_PARSE_OK:
		*ok = 1;
		report_agg_add(rd->agg, &rd->rec, day);
		return (0);
	case REPORT_PARSE_INVALID:
		report_read_corrupt(rd, lf, l, why);
		return (0);
	case REPORT_PARSE_NEWER:
		if (asprintf(&rd->cause, "%s:%llu: %s (this one reads "
		    "version %d)", lf->path, (unsigned long long)l->lineno,
		    why, REPORT_FORMAT_VERSION) == -1)
			rd->cause = NULL;
		return (-1);
	}
	return (0);
}

/*
 * Whether a line can be passed over unparsed because the report wants
 * one board and the line is about another (or about no board).
 */
static int
report_read_unwanted(const struct report_read *rd,
    const struct report_read_peek *pk)
{
	const char	*only = rd->agg->only;

	if (only == NULL || pk->type == NULL)
		return (0);
	if (report_read_is(pk, "board") || report_read_is(pk, "day"))
		return (pk->board != NULL && (pk->boardlen != strlen(only) ||
		    memcmp(pk->board, only, pk->boardlen) != 0));
	return (report_read_is(pk, "outside") ||
	    report_read_is(pk, "upstream") ||
	    report_read_is(pk, "day-outside") ||
	    report_read_is(pk, "day-upstream"));
}

/* Remember that [start, end) of the day has a summary. */
static void
report_read_cover(struct report_read *rd, int64_t start, int64_t end)
{
	if (end <= start)
		return;
	if (rd->ncov == rd->capcov) {
		rd->capcov = rd->capcov ? rd->capcov * 2 : 16;
		rd->cov = report_mem_realloc(rd->cov, rd->capcov,
		    sizeof *rd->cov);
	}
	rd->cov[rd->ncov].start = start;
	rd->cov[rd->ncov++].end = end;
}

static int
report_read_cover_cmp(const void *a, const void *b)
{
	const struct report_cover	*x = a, *y = b;

	if (x->start != y->start)
		return (x->start < y->start ? -1 : 1);
	return ((x->end > y->end) - (x->end < y->end));
}

/* Sort the covered parts and join those that overlap or touch. */
static void
report_read_cover_merge(struct report_read *rd)
{
	size_t	i, n = 0;

	if (rd->ncov == 0)
		return;
	qsort(rd->cov, rd->ncov, sizeof *rd->cov, report_read_cover_cmp);
	for (i = 1; i < rd->ncov; i++) {
		if (rd->cov[i].start <= rd->cov[n].end) {
			if (rd->cov[i].end > rd->cov[n].end)
				rd->cov[n].end = rd->cov[i].end;
		} else
			rd->cov[++n] = rd->cov[i];
	}
	rd->ncov = n + 1;
}

/* Read a day's summaries, noting what they cover; 0, 1 (none) or -1. */
static int
report_read_summaries(struct report_read *rd, const char *path, long day)
{
	struct report_lines	lf;
	struct report_line	l;
	struct report_read_peek	pk;
	const char		*why;
	int			r, ok, peeked;

	if (report_lines_open(&lf, path, rd->st, &why) == -1) {
		if (errno == ENOENT)
			return (1);
		if (asprintf(&rd->cause, "%s: %s", path, why) == -1)
			rd->cause = NULL;
		return (-1);
	}
	while ((r = report_lines_next(&lf, &l)) == 1) {
		peeked = l.p != NULL && !l.partial &&
		    report_read_peek(l.p, l.len, &pk) == 0 && pk.have_end;
		if (peeked && report_read_unwanted(rd, &pk)) {
			rd->st->skipped++;
			report_read_cover(rd, pk.start, pk.end);
			continue;
		}
		if (report_read_line(rd, &lf, &l, day, REPORT_SRC_DAY,
		    &ok) == -1) {
			report_lines_close(&lf);
			return (-1);
		}
		/* The parse has them if the peek did not (odd spacing). */
		if (ok)
			report_read_cover(rd, rd->rec.start, rd->rec.end);
	}
	if (r == -1 && asprintf(&rd->cause, "%s: %s", path,
	    strerror(errno)) == -1)
		rd->cause = NULL;
	report_lines_close(&lf);
	return (r == -1 ? -1 : 0);
}

/*
 * A line's start: from the peek, or parsed from the JSON when the peek
 * cannot see it. 0 or -1 (no start: a corrupt line).
 */
static int
report_read_start(struct report_read *rd, const struct report_line *l,
    struct report_read_peek *pk)
{
	const char	*why;

	if (l->p == NULL)
		return (-1);
	if (report_read_peek(l->p, l->len, pk) == 0)
		return (0);
	if (l->partial)
		return (-1);
	/* Another writer's spacing: the whole parse finds it, if anything. */
	report_rec_parse(&rd->rec, l->p, l->len, REPORT_SRC_INTERVAL, &why);
	if (!rd->rec.has_start)
		return (-1);
	pk->start = rd->rec.start;
	pk->have_start = 1;
	return (0);
}

/*
 * The offset from which to scan for the first line starting at or after
 * u0: a line start at or before it. -1 on a read error.
 */
static off_t
report_read_bisect(struct report_read *rd, struct report_lines *lf,
    int64_t u0)
{
	struct report_line	l;
	struct report_read_peek	pk;
	off_t			lo = 0, hi = lf->size, mid;
	int			i, r;

	while (hi - lo > REPORT_READ_BISECT) {
		mid = lo + (hi - lo) / 2;
		if (report_lines_seek(lf, mid) == -1)
			return (-1);
		/* The first line after mid that has a start. */
		for (i = 0; i < REPORT_READ_PROBES; i++) {
			if ((r = report_lines_next(lf, &l)) == -1)
				return (-1);
			if (r == 0 || report_read_start(rd, &l, &pk) == 0)
				break;
		}
		lf->st->skipped += (uint64_t)i + 1;
		if (r == 0 || i == REPORT_READ_PROBES || pk.start >= u0)
			hi = mid;
		else
			lo = lf->pos;	/* every line up to here is earlier */
	}
	return (lo);
}

/*
 * Add the interval lines whose start lies in [u0, u1), starting the search
 * at offset from. 0 or -1.
 */
static int
report_read_gap(struct report_read *rd, struct report_lines *lf, off_t from,
    int64_t u0, int64_t u1, long day)
{
	struct report_line	l;
	struct report_read_peek	pk;
	uint64_t		used = 0;
	int			r, ok, started = from == 0 && u0 == INT64_MIN;

	if (report_lines_seek(lf, from) == -1)
		goto fail;
	while ((r = report_lines_next(lf, &l)) == 1) {
		if (report_read_start(rd, &l, &pk) == -1) {
			/* Counted once the gap has begun, so never twice. */
			if (started && report_read_line(rd, lf, &l, day,
			    REPORT_SRC_INTERVAL, &ok) == -1)
				return (-1);
			continue;
		}
		if (pk.start < u0) {
			rd->st->skipped++;
			continue;
		}
		if (pk.start >= u1)
			break;
		started = 1;
		if (report_read_unwanted(rd, &pk)) {
			rd->st->skipped++;
			continue;
		}
		used++;
		if (report_read_line(rd, lf, &l, day, REPORT_SRC_INTERVAL,
		    &ok) == -1)
			return (-1);
	}
	if (r == -1)
		goto fail;
	if (used > 0)
		rd->st->uncovered++;
	/* The process that wrote this gap's lines ends with it. */
	report_agg_part_end(rd->agg);
	return (0);
fail:
	if (asprintf(&rd->cause, "%s: %s", lf->path, strerror(errno)) == -1)
		rd->cause = NULL;
	return (-1);
}

/* Read the interval lines of the gaps between covered parts; 0 or -1. */
static int
report_read_intervals(struct report_read *rd, const char *path, long day)
{
	struct report_lines	 lf;
	const char		*why;
	int64_t			 u0, u1;
	off_t			 from;
	size_t			 i;
	uint64_t		 before = rd->st->uncovered;
	int			 r = 0;

	if (report_lines_open(&lf, path, rd->st, &why) == -1) {
		if (errno == ENOENT)
			return (0);
		if (asprintf(&rd->cause, "%s: %s", path, why) == -1)
			rd->cause = NULL;
		return (-1);
	}
	report_read_cover_merge(rd);
	/* Gap i runs from the end of part i-1 to the start of part i. */
	for (i = 0; i <= rd->ncov && r == 0; i++) {
		u0 = i == 0 ? INT64_MIN : rd->cov[i - 1].end;
		u1 = i == rd->ncov ? INT64_MAX : rd->cov[i].start;
		if (u0 == INT64_MIN)
			from = 0;
		else if ((from = report_read_bisect(rd, &lf, u0)) == -1) {
			if (asprintf(&rd->cause, "%s: %s", path,
			    strerror(errno)) == -1)
				rd->cause = NULL;
			r = -1;
			break;
		}
		r = report_read_gap(rd, &lf, from, u0, u1, day);
	}
	if (rd->ncov > 0 && rd->st->uncovered == before)
		rd->st->covered++;
	report_lines_close(&lf);
	return (r);
}

/* ------------------------------------------------------------ directory */

/* Whether name is YYYY-MM-DD.jsonl or YYYY-MM-DD.day.jsonl. */
static int
report_read_is_stats(const char *name)
{
	long	day;
	size_t	len = strlen(name);

	if (report_date_parse_day(name, len < 10 ? len : 10, &day) == -1)
		return (0);
	return (strcmp(name + 10, ".jsonl") == 0 ||
	    strcmp(name + 10, ".day.jsonl") == 0);
}

int
report_read_check(const char *dir, char **cause)
{
	struct stat	 sb;
	struct dirent	*de;
	DIR		*d;
	int		 found = 0;

	if (stat(dir, &sb) == -1) {
		if (asprintf(cause, "%s: %s", dir, strerror(errno)) == -1)
			*cause = NULL;
		return (-1);
	}
	if (!S_ISDIR(sb.st_mode)) {
		if (asprintf(cause, "%s: not a directory", dir) == -1)
			*cause = NULL;
		return (-1);
	}
	if ((d = opendir(dir)) == NULL) {
		if (asprintf(cause, "%s: %s", dir, strerror(errno)) == -1)
			*cause = NULL;
		return (-1);
	}
	while (!found && (de = readdir(d)) != NULL)
		found = report_read_is_stats(de->d_name);
	closedir(d);
	if (!found) {
		if (asprintf(cause, "%s: no statistics files in it "
		    "(YYYY-MM-DD.jsonl, YYYY-MM-DD.day.jsonl)", dir) == -1)
			*cause = NULL;
		return (-1);
	}
	return (0);
}

int
report_read_dir(struct report_agg *agg, const char *dir,
    struct report_read_stats *st, char **cause)
{
	struct report_read	rd;
	char			path[PATH_MAX], iso[16];
	long			day;
	int			r = 0;

	memset(&rd, 0, sizeof rd);
	rd.agg = agg;
	rd.dir = dir;
	rd.st = st;
	report_rec_init(&rd.rec);
	for (day = agg->from; day <= agg->to && r == 0; day++) {
		report_date_iso(day, iso, sizeof iso);
		rd.ncov = 0;
		if (snprintf(path, sizeof path, "%s/%s.day.jsonl", dir, iso) >=
		    (int)sizeof path) {
			rd.cause = strdup("directory name too long");
			r = -1;
			break;
		}
		if (report_read_summaries(&rd, path, day) == -1) {
			r = -1;
			break;
		}
		snprintf(path, sizeof path, "%s/%s.jsonl", dir, iso);
		r = report_read_intervals(&rd, path, day);
	}
	free(rd.cov);
	report_rec_clear(&rd.rec);
	if (r == -1)
		*cause = rd.cause != NULL ? rd.cause : strdup("out of memory");
	return (r);
}
