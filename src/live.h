/*
 * live.h: the live page of the metrics server (GET /), for operators.
 *
 * One HTML page with the current figures per board and per upstream and
 * the daemon's own (cache, configuration, statistics, process), in Dutch
 * with Dutch numbers (report_fmt.c, as veilig-report writes them),
 * readable on a phone, with no script and nothing loaded from anywhere
 * (a Content-Security-Policy of default-src 'none' says so to the
 * browser). It reloads itself with a meta refresh every LIVE_REFRESH
 * seconds.
 *
 * Why the page is made from the Prometheus text, and not from a struct
 * of its own: the text of /metrics is the one snapshot every producer
 * writes (stats.c under its lock, veiligd.c's counters and configuration,
 * metrics_process()); a struct would make each of them write its numbers
 * twice, which is the second counting path this page must not have. So
 * metrics.c asks the same callback for the same text and live_page()
 * reads it back: what the page shows is, line for line, what a scrape at
 * that moment would have returned. Reading it costs well under a
 * millisecond for a few boards and about 0.1 s of CPU for 1,000 (4.5 MB
 * of text, 77,000 samples), in the metrics thread only.
 *
 * Why a meta refresh and not a script fetching /metrics: with no script
 * the page needs no second formatter (Dutch numbers, category names) in
 * JavaScript to keep in step with the C one, works with scripts off, and
 * the policy can forbid scripts outright. What it costs: the figures are
 * totals since the start, not rates; rates are Prometheus's job
 * (contrib/grafana/veilig.json).
 *
 * Privacy: the page shows only what /metrics has, and /metrics has no
 * client address (stats.h).
 */
#ifndef VEILIG_LIVE_H
#define VEILIG_LIVE_H

#include <stddef.h>
#include <time.h>

#define LIVE_REFRESH	5	/* seconds between reloads of the page */

struct evbuffer;

/*
 * Append the page for the Prometheus text text (len octets and a NUL
 * after them; changed in place while it is read: label values are
 * unescaped where they stand) to out, as of now. Lines that do not parse
 * are skipped and counted on the page. 0, or -1 when out of memory (out
 * may then hold part of a page: the caller discards it).
 */
int	live_page(char *text, size_t len, time_t now, struct evbuffer *out);

/*
 * The q-quantile (0 < q < 1) of a histogram as Prometheus's
 * histogram_quantile() estimates it: n cumulative counts cum[] at the
 * upper bounds le[] (the last +Inf), linear within a bucket. -1 when the
 * histogram is empty; the last finite bound when the quantile lies in
 * the +Inf bucket (then *above is set, else cleared).
 */
double	live_quantile(double q, const double *le, const double *cum, size_t n,
	    int *above);

#endif
