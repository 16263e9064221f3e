/*
 * report_read.h: reading a node's statistics directory into a report.
 *
 * A directory holds, per local day, YYYY-MM-DD.day.jsonl (day summaries)
 * and YYYY-MM-DD.jsonl (interval records). For each day of the period the
 * day summaries are read whole; the interval lines are read only for the
 * parts of the day that no summary covers (a crash, or a day still going
 * on), found by bisecting the time-ordered file on each line's "start",
 * so a fully summarised day costs a few reads however big its interval
 * file is. Memory stays bounded: files are read through one buffer with
 * pread(2), never mapped or loaded whole.
 *
 * A line that is not a valid record (broken JSON, a missing field, a last
 * line with no newline) is skipped, counted in the report
 * (report_agg_corrupt) and the first few are named on stderr as file:line.
 * A record of a newer format version stops the reading with an error.
 */
#ifndef VEILIG_REPORT_READ_H
#define VEILIG_REPORT_READ_H

#include <stdint.h>

#include "report_agg.h"

/* What was read, for -v and the benchmark. */
struct report_read_stats {
	uint64_t	files;		/* files opened */
	uint64_t	lines;		/* lines parsed as JSON */
	uint64_t	skipped;	/* lines passed over without parsing */
	uint64_t	octets;		/* octets read */
	uint64_t	covered;	/* interval files the summaries covered */
	uint64_t	uncovered;	/* gaps read from interval lines */
};

/*
 * Check that dir is a readable directory holding statistics files; 0, or
 * -1 with *cause (allocated, the caller frees) saying what is wrong.
 */
int	report_read_check(const char *dir, char **cause);
/*
 * Add the records of dir for the agg's period. 0, or -1 with *cause for an
 * error that makes a report impossible (a file that cannot be read, a
 * newer format).
 */
int	report_read_dir(struct report_agg *, const char *dir,
	    struct report_read_stats *, char **cause);

/*
 * The first fields of a line, found without parsing it all: the format
 * writes v, type, node, start, end, seconds first, so a reader can look at
 * the start of a line cheaply (STATS-FORMAT, "Common fields"). A field not
 * found has len 0.
 */
struct report_read_peek {
	const char	*type;
	size_t		 typelen;
	const char	*board;
	size_t		 boardlen;
	int64_t		 start;
	int64_t		 end;
	int		 have_start;
	int		 have_end;
};
/* Look at a line; 0 when type and start were found, else -1. */
int	report_read_peek(const char *line, size_t len,
	    struct report_read_peek *);

#endif
