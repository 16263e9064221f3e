/*
 * report_page.h: veilig-report's HTML pages.
 *
 * One self-contained file per page: the style is inline, the charts are
 * inline SVG (report_svg.h), there is no script, and a
 * Content-Security-Policy meta element forbids loading anything at all, so
 * a page shows the same from a mail attachment, a file share or paper.
 * Text is Dutch, numbers and dates the Dutch way (report_fmt.h).
 *
 * A page is written to a temporary file beside its final name, flushed to
 * disk and renamed over it, so a reader (or a web server) sees the old
 * page or the new one, never half of one; on any error the temporary file
 * is removed and the old page stays.
 */
#ifndef VEILIG_REPORT_PAGE_H
#define VEILIG_REPORT_PAGE_H

#include <stddef.h>

#include "report_agg.h"

struct report_page_ctx {
	const char	*outdir;
	long		 made;		/* day number the pages say they were made */
	size_t		 top;		/* named sites to list */
	int		 links;		/* service page links to board pages */
};

/* The file name of a board's page: "bestuur-<id>.html", id made safe. */
void	report_page_name(const char *id, char *buf, size_t len);
/* Write a board's page; 0, or -1 with *cause (allocated). */
int	report_page_board(struct report_agg *, const struct report_board *,
	    const struct report_page_ctx *, char **cause);
/* Write the service page "dienst.html"; 0, or -1 with *cause. */
int	report_page_service(struct report_agg *,
	    const struct report_page_ctx *, char **cause);

#endif
