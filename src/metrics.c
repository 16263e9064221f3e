/*
 * metrics.c: GET /metrics and the live page (GET /) over evhttp, in a
 * thread of its own.
 */
#include <sys/types.h>
#include <sys/resource.h>
#include <sys/socket.h>

#include <dirent.h>
#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>

#include "live.h"
#include "log.h"
#include "metrics.h"
#include "snapshot.h"

struct metrics {
	struct event_base	*base;
	struct evhttp		*http;
	pthread_t		 thread;
	int			 started;
	metrics_cb		 cb;
	void			*arg;
};

/* Reply with an error code and one line saying why. */
static void
metrics_error(struct evhttp_request *req, int code, const char *reason,
    const char *text)
{
	struct evbuffer	*body = evbuffer_new();

	evhttp_add_header(evhttp_request_get_output_headers(req),
	    "Content-Type", "text/plain; charset=utf-8");
	if (body != NULL)
		evbuffer_add_printf(body, "%s\n", text);
	evhttp_send_reply(req, code, reason, body);
	if (body != NULL)
		evbuffer_free(body);
}

/*
 * GET /: the live page, from the text of /metrics as it is now (live.h
 * says why from the text). The headers repeat the page's policy, with
 * what a meta element cannot say (no framing), and keep it out of caches.
 */
static void
metrics_live(struct metrics *m, struct evhttp_request *req)
{
	struct evkeyvalq	*h = evhttp_request_get_output_headers(req);
	struct evbuffer		*text, *page;
	size_t			 len;
	char			*p;

	text = evbuffer_new();
	page = evbuffer_new();
	if (text == NULL || page == NULL)
		goto nomem;
	m->cb(m->arg, text);
	len = evbuffer_get_length(text);
	if (evbuffer_add(text, "", 1) == -1 ||
	    (p = (char *)evbuffer_pullup(text, -1)) == NULL ||
	    live_page(p, len, time(NULL), page) == -1)
		goto nomem;
	evhttp_add_header(h, "Content-Type", "text/html; charset=utf-8");
	evhttp_add_header(h, "Cache-Control", "no-store");
	evhttp_add_header(h, "X-Content-Type-Options", "nosniff");
	evhttp_add_header(h, "Referrer-Policy", "no-referrer");
	evhttp_add_header(h, "Content-Security-Policy", "default-src 'none'; "
	    "style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'; "
	    "frame-ancestors 'none'");
	evhttp_send_reply(req, HTTP_OK, "OK", page);
	evbuffer_free(text);
	evbuffer_free(page);
	return;
nomem:
	if (text != NULL)
		evbuffer_free(text);
	if (page != NULL)
		evbuffer_free(page);
	metrics_error(req, HTTP_SERVUNAVAIL, "Service Unavailable",
	    "out of memory");
}

/* Every request: GET /metrics, GET / (the live page), or a clear error. */
static void
metrics_request_cb(struct evhttp_request *req, void *arg)
{
	struct metrics		*m = arg;
	const struct evhttp_uri	*uri = evhttp_request_get_evhttp_uri(req);
	const char		*path = uri != NULL ? evhttp_uri_get_path(uri) :
				    NULL;
	struct evbuffer		*body;

	if (path == NULL || (strcmp(path, "/metrics") != 0 &&
	    strcmp(path, "/") != 0)) {
		metrics_error(req, HTTP_NOTFOUND, "Not Found",
		    "not found: this server has / (the live page) and "
		    "/metrics only");
		return;
	}
	if (evhttp_request_get_command(req) != EVHTTP_REQ_GET) {
		evhttp_add_header(evhttp_request_get_output_headers(req),
		    "Allow", "GET");
		metrics_error(req, 405, "Method Not Allowed",
		    "method not allowed: use GET");
		return;
	}
	if (strcmp(path, "/") == 0) {
		metrics_live(m, req);
		return;
	}
	if ((body = evbuffer_new()) == NULL) {
		metrics_error(req, HTTP_SERVUNAVAIL, "Service Unavailable",
		    "out of memory");
		return;
	}
	m->cb(m->arg, body);
	evhttp_add_header(evhttp_request_get_output_headers(req),
	    "Content-Type", "text/plain; version=0.0.4; charset=utf-8");
	evhttp_send_reply(req, HTTP_OK, "OK", body);
	evbuffer_free(body);
}

/* The thread: a snapshot reader (for the callback), then the loop. */
static void *
metrics_main(void *arg)
{
	struct metrics	*m = arg;

	snapshot_thread_init();
	event_base_dispatch(m->base);
	snapshot_thread_done();
	return (NULL);
}

struct metrics *
metrics_new(const struct conf_sockaddr *addr, metrics_cb cb, void *arg,
    char **cause)
{
	struct metrics	*m;
	char		 name[80];
	int		 fd = -1, on = 1;

	*cause = NULL;
	conf_sockaddr_str(addr, name, sizeof name);
	if ((m = calloc(1, sizeof *m)) == NULL)
		goto nomem;
	m->cb = cb;
	m->arg = arg;
	if ((m->base = event_base_new()) == NULL ||
	    (m->http = evhttp_new(m->base)) == NULL)
		goto nomem;
	/* Our own socket: a bind error then names what went wrong. */
	fd = socket(addr->ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK |
	    SOCK_CLOEXEC, 0);
	if (fd == -1 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on,
	    sizeof on) == -1 || bind(fd, (const struct sockaddr *)&addr->ss,
	    addr->len) == -1 || listen(fd, 64) == -1) {
		if (asprintf(cause, "metrics %s: %s", name,
		    strerror(errno)) == -1)
			*cause = NULL;
		if (fd != -1)
			close(fd);
		metrics_free(m);
		return (NULL);
	}
	if (evhttp_accept_socket(m->http, fd) == -1) {
		close(fd);
		goto nomem;
	}
	evhttp_set_timeout(m->http, METRICS_TIMEOUT);
	evhttp_set_max_headers_size(m->http, 8192);
	evhttp_set_max_body_size(m->http, 1024);
	/* Every method reaches the callback, which says what is allowed. */
	evhttp_set_allowed_methods(m->http, EVHTTP_REQ_GET | EVHTTP_REQ_POST |
	    EVHTTP_REQ_HEAD | EVHTTP_REQ_PUT | EVHTTP_REQ_DELETE |
	    EVHTTP_REQ_OPTIONS | EVHTTP_REQ_TRACE | EVHTTP_REQ_CONNECT |
	    EVHTTP_REQ_PATCH);
	evhttp_set_gencb(m->http, metrics_request_cb, m);
	log_info("metrics on http://%s/metrics, live page on http://%s/",
	    name, name);
	return (m);
nomem:
	if (asprintf(cause, "metrics: out of memory") == -1)
		*cause = NULL;
	metrics_free(m);
	return (NULL);
}

int
metrics_start(struct metrics *m)
{
	if (pthread_create(&m->thread, NULL, metrics_main, m) != 0)
		return (-1);
	m->started = 1;
	return (0);
}

void
metrics_free(struct metrics *m)
{
	if (m == NULL)
		return;
	if (m->started) {
		event_base_loopbreak(m->base);
		pthread_join(m->thread, NULL);
	}
	if (m->http != NULL)
		evhttp_free(m->http);
	if (m->base != NULL)
		event_base_free(m->base);
	free(m);
}

void
metrics_head(struct evbuffer *out, const char *name, const char *type,
    const char *help)
{
	evbuffer_add_printf(out, "# HELP %s %s\n# TYPE %s %s\n", name, help,
	    name, type);
}

const char *
metrics_label(const char *value, char *buf, size_t cap)
{
	size_t	n = 0;

	for (; *value != '\0' && n + 3 < cap; value++) {
		if (*value == '\\' || *value == '"') {
			buf[n++] = '\\';
			buf[n++] = *value;
		} else if (*value == '\n') {
			buf[n++] = '\\';
			buf[n++] = 'n';
		} else
			buf[n++] = *value;
	}
	buf[n] = '\0';
	return (buf);
}

void
metrics_histogram(struct evbuffer *out, const char *name, const char *labels,
    const double *le, const uint64_t *counts, size_t n, double sum)
{
	uint64_t	cum = 0;
	size_t		i;
	const char	*sep = *labels != '\0' ? "," : "";

	for (i = 0; i < n; i++) {
		cum += counts[i];
		if (i + 1 < n)
			evbuffer_add_printf(out, "%s_bucket{%s%sle=\"%g\"} "
			    "%llu\n", name, labels, sep, le[i],
			    (unsigned long long)cum);
		else
			evbuffer_add_printf(out, "%s_bucket{%s%sle=\"+Inf\"} "
			    "%llu\n", name, labels, sep,
			    (unsigned long long)cum);
	}
	evbuffer_add_printf(out, "%s_sum%s%s%s %.9g\n%s_count%s%s%s %llu\n",
	    name, *labels ? "{" : "", labels, *labels ? "}" : "", sum,
	    name, *labels ? "{" : "", labels, *labels ? "}" : "",
	    (unsigned long long)cum);
}

/* Open descriptors: the entries of /proc/self/fd, less the one reading. */
static long
metrics_open_fds(void)
{
	DIR		*d;
	struct dirent	*de;
	long		 n = 0;

	if ((d = opendir("/proc/self/fd")) == NULL)
		return (-1);
	while ((de = readdir(d)) != NULL)
		if (de->d_name[0] != '.')
			n++;
	closedir(d);
	return (n - 1);
}

void
metrics_process(struct evbuffer *out, time_t started)
{
	struct rusage	 ru;
	struct rlimit	 rl;
	FILE		*f;
	unsigned long	 vsz = 0, rss = 0;
	long		 page = sysconf(_SC_PAGESIZE), fds;

	if (getrusage(RUSAGE_SELF, &ru) == 0) {
		metrics_head(out, "process_cpu_seconds_total", "counter",
		    "User and system CPU time spent, in seconds.");
		evbuffer_add_printf(out, "process_cpu_seconds_total %.6f\n",
		    (double)ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 +
		    (double)ru.ru_stime.tv_sec + ru.ru_stime.tv_usec / 1e6);
	}
	if ((f = fopen("/proc/self/statm", "r")) != NULL) {
		if (fscanf(f, "%lu %lu", &vsz, &rss) == 2) {
			metrics_head(out, "process_virtual_memory_bytes",
			    "gauge", "Virtual memory size in bytes.");
			evbuffer_add_printf(out, "process_virtual_memory_bytes "
			    "%lu\n", vsz * (unsigned long)page);
			metrics_head(out, "process_resident_memory_bytes",
			    "gauge", "Resident memory size in bytes.");
			evbuffer_add_printf(out, "process_resident_memory_bytes"
			    " %lu\n", rss * (unsigned long)page);
		}
		fclose(f);
	}
	if ((fds = metrics_open_fds()) >= 0) {
		metrics_head(out, "process_open_fds", "gauge",
		    "Open file descriptors.");
		evbuffer_add_printf(out, "process_open_fds %ld\n", fds);
	}
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0) {
		metrics_head(out, "process_max_fds", "gauge",
		    "Limit of open file descriptors.");
		evbuffer_add_printf(out, "process_max_fds %llu\n",
		    (unsigned long long)rl.rlim_cur);
	}
	metrics_head(out, "process_start_time_seconds", "gauge",
	    "Start time of the process, in seconds since the epoch.");
	evbuffer_add_printf(out, "process_start_time_seconds %lld\n",
	    (long long)started);
}
