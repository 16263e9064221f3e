/*
 * metrics.h: the Prometheus endpoint.
 *
 * libevent's evhttp on an event base of its own, in a thread of its own,
 * so that a slow or hostile scraper can stall at most this thread: the
 * workers never wait for it, and neither does the main loop (signals,
 * reloads, the statistics tick). It answers GET /metrics with the
 * Prometheus text format (version 0.0.4), and GET / with the live page
 * for people (live.c), made from that same text at that moment; any other
 * path gets 404, any other method 405 with "Allow: GET", both with a line
 * of text saying why. Connections idle for METRICS_TIMEOUT seconds are closed, request
 * headers are limited to 8 KiB and bodies to nothing worth reading.
 *
 * The text itself comes from a callback (veiligd.c), which runs in the
 * metrics thread: it must only read what is safe to read from there
 * (stats_prometheus() takes the statistics lock; the configuration is
 * read in a snapshot read section, for which the thread is registered).
 *
 * The helpers below write the text format for the callback: family
 * headers, escaped label values, histograms, process figures.
 *
 * Ownership: metrics_new() returns an object owned by the caller;
 * metrics_free() stops the thread and closes the socket.
 */
#ifndef VEILIG_METRICS_H
#define VEILIG_METRICS_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "conf.h"

#define METRICS_TIMEOUT		10	/* seconds */

struct evbuffer;
struct metrics;

/* Append the whole Prometheus text to out. */
typedef void	(*metrics_cb)(void *arg, struct evbuffer *out);

/*
 * Listen on addr for cb's text. NULL with *cause set (allocated) when
 * the address cannot be bound. Nothing is served before metrics_start().
 */
struct metrics	*metrics_new(const struct conf_sockaddr *addr, metrics_cb cb,
		    void *arg, char **cause);

/* Start the thread that serves (after daemon(3): a fork loses threads).
   0 or -1. */
int		 metrics_start(struct metrics *);
void		 metrics_free(struct metrics *);

/* "# HELP name help" and "# TYPE name type". */
void		 metrics_head(struct evbuffer *out, const char *name,
		    const char *type, const char *help);

/* value escaped for a label ("\\", "\"", "\n"), into buf; returns buf. */
const char	*metrics_label(const char *value, char *buf, size_t cap);

/*
 * The lines of one histogram: name_bucket{labels,le="..."} for each of
 * the n - 1 bounds le[] and +Inf, cumulative from counts (n per-bucket
 * counts, the last above every bound), then name_sum (sum) and
 * name_count. labels is "" or 'board="x"' (already escaped).
 */
void		 metrics_histogram(struct evbuffer *out, const char *name,
		    const char *labels, const double *le, const uint64_t *counts,
		    size_t n, double sum);

/*
 * The standard process figures: process_cpu_seconds_total,
 * process_resident_memory_bytes, process_virtual_memory_bytes,
 * process_open_fds, process_max_fds, process_start_time_seconds (started).
 */
void		 metrics_process(struct evbuffer *out, time_t started);

#endif
