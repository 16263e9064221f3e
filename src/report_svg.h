/*
 * report_svg.h: charts as inline SVG for veilig-report's pages.
 *
 * Each chart is one <svg class="chart" data-chart="ID"> element written to
 * a stdio stream: no script, no external font or style (the page's own
 * <style> colours the classes), a <title> for screen readers, and the
 * number behind every bar in a data-v attribute so that a test (or a
 * curious reader of the source) can check the drawing against the input.
 * The viewBox is fixed and the element scales to its box, so the same
 * chart serves a phone, a wide screen and paper.
 *
 * report_svg_esc() escapes text for HTML and SVG alike.
 */
#ifndef VEILIG_REPORT_SVG_H
#define VEILIG_REPORT_SVG_H

#include <stdint.h>
#include <stdio.h>

/* One bar of a bar chart. */
struct report_svg_bar {
	const char	*label;		/* shown next to or under the bar */
	const char	*key;		/* data-k attribute (raw key), or NULL */
	uint64_t	 v;
	const char	*cls;		/* extra class (a colour), or NULL */
};

/* Write s with &, <, >, " and ' escaped. */
void	report_svg_esc(FILE *, const char *s);

/* A value per day: day i's is v[i * stride]. */
struct report_svg_series {
	const uint64_t	*v;
	size_t		 stride;
	const char	*cls;		/* colours the bars */
	const char	*unit;		/* what is counted, for tooltips */
};

/* One bar per day for ndays days from day number from. */
void	report_svg_days(FILE *, const char *id, const char *title,
	    const struct report_svg_series *, long from, long ndays);
/*
 * Horizontal bars, in the order given, with value and share of total: a
 * <table class="chart hbars" data-chart="ID"> with an SVG bar per row.
 */
void	report_svg_hbars(FILE *, const char *id, const char *title,
	    const struct report_svg_bar *, size_t n, uint64_t total);
/* One bar split into the parts given (each part's share of their sum). */
void	report_svg_stack(FILE *, const char *id, const char *title,
	    const struct report_svg_bar *, size_t n);
/* Vertical columns with slanted labels (a histogram). */
void	report_svg_columns(FILE *, const char *id, const char *title,
	    const struct report_svg_bar *, size_t n, const char *unit);

#endif
