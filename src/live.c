/*
 * live.c: the live page from the Prometheus text of /metrics (live.h).
 *
 * Three steps: the text is cut into samples in place (live_parse: name,
 * up to LIVE_LABELS labels, value; comments skipped); the rows, boards
 * from veilig_board_info and upstreams from veilig_upstream_up, are
 * sorted by name so that every other sample finds its row by binary
 * search; then one pass adds each sample to its row as the table
 * live_fields says (to a figure, a histogram or a list of named counts),
 * and the page is written from the rows. Nothing here knows how a figure
 * was counted: only its name in the text and its labels. A family the
 * table does not name is not shown; one it names that is missing shows
 * 0, but for the few that veiligd leaves out when it does not know them
 * (the kernel's drops): those start as NAN and the page says "onbekend".
 */
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <event2/buffer.h>

#include "live.h"
#include "report_date.h"
#include "report_fmt.h"

#define LIVE_LABELS	4	/* labels kept per sample; ours have <= 3 */
#define LIVE_BUCKETS	32	/* histogram buckets kept; ours have 16 */
#define LIVE_CATS	4	/* categories shown in a board's row */
#define LIVE_LEN	REPORT_FMT_LEN

/* One line of the text: pointers into it, NUL-terminated in place. */
struct live_sample {
	const char	*name;
	const char	*key[LIVE_LABELS];
	const char	*val[LIVE_LABELS];
	unsigned	 nlabels;
	double		 v;
};

/* A histogram, cumulative as in the text. */
struct live_hist {
	double		le[LIVE_BUCKETS];
	double		cum[LIVE_BUCKETS];
	unsigned	n;
	double		sum;
	double		count;
};

/* A count with a name: a category, a country, a list. */
struct live_named {
	const char	*name;
	double		 v;
};

struct live_list {
	struct live_named	*v;
	size_t			 n, cap;
};

struct live_board {
	const char		*id;
	const char		*name;
	double			 configured;
	double			 queries;
	double			 blocked;
	double			 cache;
	double			 stale;
	double			 safe;
	double			 limited;
	double			 clients;
	double			 today;
	struct live_hist	 lat[2];	/* cache, upstream */
	struct live_list	 cats;
};

struct live_up {
	const char		*name;
	double			 up;
	double			 configured;
	double			 queries;
	double			 tcp;
	double			 answers;
	double			 timeouts;
	double			 errors;
	double			 mismatched;
	struct live_hist	 rtt;
};

/* The daemon's own figures. */
struct live_global {
	double		udp, tcp, dropped, workers;
	double		tcp_rejected, tcp_refused, tcp_client_limit;
	double		tcp_deadline, tcp_unread;
	double		rxq_drops, rxq_octets;	/* NAN: not in the text */
	double		cache_entries, cache_bytes, cache_max;
	double		hits, stale_hits, misses, evictions;
	double		generation, boards, loaded, reload_time, reload_ok;
	double		reloads_ok, reloads_failed;
	double		outside, outside_limited;
	double		records, write_errors, last_write, interval, lost;
	double		cpu, rss, fds, max_fds, started;
	struct live_list lists;		/* entries per list */
	struct live_list countries;	/* outside, by country */
};

struct live {
	struct live_sample	*s;
	size_t			 ns, caps;
	size_t			 bad;		/* lines that did not parse */
	const char		*node;
	struct live_board	*b;
	size_t			 nb;
	struct live_up		*u;
	size_t			 nu;
	struct live_global	 g;
	time_t			 now;
};

/* The row a sample belongs to: the daemon's, a board's (by its label
   board), an upstream's (by upstream). */
enum live_row { LIVE_G, LIVE_B, LIVE_U };

/* What a sample does to its row. */
enum live_kind {
	LIVE_ADD,	/* its value is added to the double at off */
	LIVE_HIST,	/* a line of the histogram at off (two when key) */
	LIVE_LIST,	/* a count named by label key, into the list at off */
};

/*
 * Which sample goes where, by name; the entries of one name are
 * adjacent. LIVE_ADD: only samples whose label key is val (key NULL:
 * all). LIVE_HIST: with key, samples whose label key is val go to the
 * second of two histograms at off, the others to the first.
 */
struct live_field {
	const char	*name;
	enum live_row	 row;
	enum live_kind	 kind;
	const char	*key;
	const char	*val;
	size_t		 off;
};

#define GA(n, k, v, f) \
	{ n, LIVE_G, LIVE_ADD, k, v, offsetof(struct live_global, f) }
#define BA(n, k, v, f) \
	{ n, LIVE_B, LIVE_ADD, k, v, offsetof(struct live_board, f) }
#define UA(n, k, v, f) \
	{ n, LIVE_U, LIVE_ADD, k, v, offsetof(struct live_up, f) }
#define HIST(n, r, k, v, t, f) \
	{ n "_bucket", r, LIVE_HIST, k, v, offsetof(t, f) }, \
	{ n "_sum", r, LIVE_HIST, k, v, offsetof(t, f) }, \
	{ n "_count", r, LIVE_HIST, k, v, offsetof(t, f) }
static const struct live_field live_fields[] = {
	BA("veilig_board_configured", NULL, NULL, configured),
	BA("veilig_queries_total", NULL, NULL, queries),
	BA("veilig_answers_total", "answer", "blocked", blocked),
	BA("veilig_answers_total", "answer", "cache", cache),
	BA("veilig_answers_total", "answer", "stale", stale),
	{ "veilig_blocked_total", LIVE_B, LIVE_LIST, "category", NULL,
	  offsetof(struct live_board, cats) },
	BA("veilig_safe_search_total", NULL, NULL, safe),
	BA("veilig_limited_total", NULL, NULL, limited),
	HIST("veilig_response_seconds", LIVE_B, "path", "upstream",
	    struct live_board, lat),
	BA("veilig_clients", NULL, NULL, clients),
	BA("veilig_clients_today", NULL, NULL, today),
	GA("veilig_outside_queries_total", NULL, NULL, outside),
	GA("veilig_outside_limited_total", NULL, NULL, outside_limited),
	{ "veilig_outside_country_queries_total", LIVE_G, LIVE_LIST, "country",
	  NULL, offsetof(struct live_global, countries) },
	UA("veilig_upstream_queries_total", NULL, NULL, queries),
	UA("veilig_upstream_queries_total", "transport", "tcp", tcp),
	UA("veilig_upstream_answers_total", NULL, NULL, answers),
	UA("veilig_upstream_timeouts_total", NULL, NULL, timeouts),
	UA("veilig_upstream_errors_total", NULL, NULL, errors),
	UA("veilig_upstream_mismatched_total", NULL, NULL, mismatched),
	HIST("veilig_upstream_rtt_seconds", LIVE_U, NULL, NULL,
	    struct live_up, rtt),
	UA("veilig_upstream_up", NULL, NULL, up),
	UA("veilig_upstream_configured", NULL, NULL, configured),
	GA("veilig_stats_lost_total", NULL, NULL, lost),
	GA("veilig_stats_records_total", NULL, NULL, records),
	GA("veilig_stats_write_errors_total", NULL, NULL, write_errors),
	GA("veilig_stats_last_write_timestamp_seconds", NULL, NULL,
	    last_write),
	GA("veilig_stats_interval_seconds", NULL, NULL, interval),
	GA("veilig_dns_queries_total", "transport", "udp", udp),
	GA("veilig_dns_queries_total", "transport", "tcp", tcp),
	GA("veilig_dns_dropped_total", NULL, NULL, dropped),
	GA("veilig_tcp_connections_total", "result", "rejected",
	    tcp_rejected),
	GA("veilig_tcp_connections_total", "result", "refused", tcp_refused),
	GA("veilig_tcp_connections_total", "result", "client_limit",
	    tcp_client_limit),
	GA("veilig_tcp_deadline_closed_total", NULL, NULL, tcp_deadline),
	GA("veilig_tcp_unread_dropped_total", NULL, NULL, tcp_unread),
	GA("veilig_udp_receive_drops_total", NULL, NULL, rxq_drops),
	GA("veilig_udp_receive_queue_bytes", NULL, NULL, rxq_octets),
	GA("veilig_workers", NULL, NULL, workers),
	GA("veilig_cache_entries", NULL, NULL, cache_entries),
	GA("veilig_cache_bytes", NULL, NULL, cache_bytes),
	GA("veilig_cache_lookups_total", "result", "hit", hits),
	GA("veilig_cache_lookups_total", "result", "stale", stale_hits),
	GA("veilig_cache_lookups_total", "result", "miss", misses),
	GA("veilig_cache_evictions_total", NULL, NULL, evictions),
	GA("veilig_cache_max_bytes", NULL, NULL, cache_max),
	GA("veilig_policy_generation", NULL, NULL, generation),
	GA("veilig_boards", NULL, NULL, boards),
	{ "veilig_list_entries", LIVE_G, LIVE_LIST, "list", NULL,
	  offsetof(struct live_global, lists) },
	GA("veilig_config_loaded_timestamp_seconds", NULL, NULL, loaded),
	GA("veilig_config_last_reload_timestamp_seconds", NULL, NULL,
	    reload_time),
	GA("veilig_config_last_reload_success", NULL, NULL, reload_ok),
	GA("veilig_config_reloads_total", "result", "applied", reloads_ok),
	GA("veilig_config_reloads_total", "result", "refused",
	    reloads_failed),
	GA("process_cpu_seconds_total", NULL, NULL, cpu),
	GA("process_resident_memory_bytes", NULL, NULL, rss),
	GA("process_open_fds", NULL, NULL, fds),
	GA("process_max_fds", NULL, NULL, max_fds),
	GA("process_start_time_seconds", NULL, NULL, started),
};
#define LIVE_NFIELDS	(sizeof live_fields / sizeof live_fields[0])
#undef GA
#undef BA
#undef UA
#undef HIST

/* The page's style: the palette of veilig-report's pages, a phone below
   40rem (tables scroll sideways in their box). */
static const char live_css[] =
":root{--ink:#1d2733;--muted:#566272;--line:#d5dce4;--bg:#f5f7f9;"
"--ok:#2e7d4f;--bad:#c2412d}\n"
"*{box-sizing:border-box}\n"
"body{margin:0;background:var(--bg);color:var(--ink);"
"font:16px/1.5 system-ui,-apple-system,\"Segoe UI\",Roboto,\"Helvetica Neue\","
"Arial,sans-serif;-webkit-text-size-adjust:100%}\n"
"main{max-width:70rem;margin:0 auto;padding:1rem}\n"
"header h1{font-size:1.6rem;line-height:1.2;margin:.5rem 0 .25rem;"
"overflow-wrap:anywhere}\n"
"header p{margin:0;color:var(--muted)}\n"
"h2{font-size:1.2rem;margin:0 0 .5rem}\n"
"section{background:#fff;border:1px solid var(--line);border-radius:6px;"
"padding:1rem;margin:1rem 0}\n"
"p{margin:.5rem 0}\n"
".note{color:var(--muted);font-size:.9rem}\n"
".cards{display:grid;gap:.75rem;margin:1rem 0;"
"grid-template-columns:repeat(auto-fit,minmax(10.5rem,1fr))}\n"
".card{background:#fff;border:1px solid var(--line);border-radius:6px;"
"padding:.6rem .8rem}\n"
".card .l{color:var(--muted);font-size:.9rem}\n"
".card .v{font-size:1.6rem;font-weight:600;line-height:1.3;"
"font-variant-numeric:tabular-nums;overflow-wrap:anywhere}\n"
".card .s{color:var(--muted);font-size:.85rem}\n"
".box{overflow-x:auto}\n"
"table{border-collapse:collapse;width:100%;font-variant-numeric:tabular-nums}\n"
"th,td{text-align:left;padding:.3rem .5rem;border-bottom:1px solid var(--line);"
"vertical-align:top}\n"
"th{font-weight:600;font-size:.9rem;color:var(--muted)}\n"
"td.n,th.n{text-align:right;white-space:nowrap}\n"
".id,.pct,.cats{color:var(--muted);font-size:.85rem}\n"
".cats{display:block}\n"
".ok{color:var(--ok);font-weight:600}.bad{color:var(--bad);font-weight:600}\n"
"table.kv th{width:45%;font-weight:normal;color:var(--ink)}\n"
"footer{color:var(--muted);font-size:.85rem;margin:1rem 0 2rem}\n"
"@media (max-width:40rem){body{font-size:15px}main{padding:.5rem}"
"header h1{font-size:1.3rem}.card .v{font-size:1.3rem}section{padding:.75rem}"
"th,td{padding:.25rem .3rem}}\n";

/* ---- reading the text ---- */

/* May c be in a metric or label name ([a-zA-Z_:][a-zA-Z0-9_:]*)? */
static int
live_name_char(int c, int first)
{
	return ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' ||
	    c == ':' || (!first && c >= '0' && c <= '9'));
}

/*
 * The labels of a sample from p (just after "{") to the "}": keys and
 * values NUL-terminated in place, values unescaped. Returns the octet
 * after the "}", or NULL when they do not parse.
 */
static char *
live_parse_labels(char *p, char *end, struct live_sample *s)
{
	char	*w;

	for (;;) {
		while (p < end && *p == ' ')
			p++;
		if (p < end && *p == '}')
			return (p + 1);
		if (p == end || !live_name_char((unsigned char)*p, 1))
			return (NULL);
		if (s->nlabels < LIVE_LABELS)
			s->key[s->nlabels] = p;
		while (p < end && live_name_char((unsigned char)*p, 0))
			p++;
		if (end - p < 2 || p[0] != '=' || p[1] != '"')
			return (NULL);
		*p = '\0';
		p += 2;
		if (s->nlabels < LIVE_LABELS)
			s->val[s->nlabels] = p;
		/* Unescape \\, \" and \n where the value stands. */
		for (w = p; p < end && *p != '"'; p++) {
			if (*p == '\\' && p + 1 < end) {
				p++;
				*w++ = *p == 'n' ? '\n' : *p;
			} else
				*w++ = *p;
		}
		if (p == end)
			return (NULL);
		*w = '\0';
		p++;
		if (s->nlabels < LIVE_LABELS)
			s->nlabels++;
		if (p < end && *p == ',')
			p++;
	}
}

/* One line (NUL-terminated at end) into s; 0, or -1 if it is no sample. */
static int
live_parse_line(char *p, char *end, struct live_sample *s)
{
	char	*q;

	memset(s, 0, sizeof *s);
	if (!live_name_char((unsigned char)*p, 1))
		return (-1);
	s->name = p;
	while (p < end && live_name_char((unsigned char)*p, 0))
		p++;
	if (p < end && *p == '{') {
		*p = '\0';
		if ((p = live_parse_labels(p + 1, end, s)) == NULL)
			return (-1);
	} else if (p == end || *p != ' ')
		return (-1);
	else
		*p = '\0';
	while (p < end && (*p == ' ' || *p == '\0'))
		p++;
	if (p == end)
		return (-1);
	/* The value; a timestamp after it is allowed and ignored. */
	s->v = strtod(p, &q);
	if (q == p || (q < end && *q != ' '))
		return (-1);
	return (0);
}

/* Every line of text into l->s; comments and blank lines skipped. */
static int
live_parse(struct live *l, char *text, size_t len)
{
	char			*p = text, *end = text + len, *nl;
	struct live_sample	*ns;

	while (p < end) {
		if ((nl = memchr(p, '\n', (size_t)(end - p))) == NULL)
			nl = end;
		else
			*nl = '\0';
		if (nl > p && *p != '#') {
			if (l->ns == l->caps) {
				l->caps = l->caps == 0 ? 1024 : l->caps * 2;
				ns = reallocarray(l->s, l->caps, sizeof *ns);
				if (ns == NULL)
					return (-1);
				l->s = ns;
			}
			if (live_parse_line(p, nl, &l->s[l->ns]) == 0)
				l->ns++;
			else
				l->bad++;
		}
		p = nl + 1;
	}
	return (0);
}

/* The value of label key of s, or NULL. */
static const char *
live_label(const struct live_sample *s, const char *key)
{
	unsigned	i;

	for (i = 0; i < s->nlabels; i++)
		if (strcmp(s->key[i], key) == 0)
			return (s->val[i]);
	return (NULL);
}

/* ---- rows ---- */

/* Boards by id and upstreams by name: for qsort() and bsearch(). */
static int
live_board_cmp(const void *a, const void *b)
{
	return (strcmp(((const struct live_board *)a)->id,
	    ((const struct live_board *)b)->id));
}

static int
live_up_cmp(const void *a, const void *b)
{
	return (strcmp(((const struct live_up *)a)->name,
	    ((const struct live_up *)b)->name));
}

/* Boards by queries, most first, then by id: the order on the page. */
static int
live_board_rank(const void *a, const void *b)
{
	const struct live_board	*x = a, *y = b;

	if (x->queries != y->queries)
		return (x->queries < y->queries ? 1 : -1);
	return (strcmp(x->id, y->id));
}

/* The rows: a board per veilig_board_info, an upstream per _up. */
static int
live_rows(struct live *l)
{
	const char	*id, *name;
	size_t		 i, nb = 0, nu = 0;

	for (i = 0; i < l->ns; i++) {
		if (strcmp(l->s[i].name, "veilig_board_info") == 0)
			nb++;
		else if (strcmp(l->s[i].name, "veilig_upstream_up") == 0)
			nu++;
	}
	if ((l->b = calloc(nb + 1, sizeof *l->b)) == NULL ||
	    (l->u = calloc(nu + 1, sizeof *l->u)) == NULL)
		return (-1);
	for (i = 0; i < l->ns; i++) {
		if (strcmp(l->s[i].name, "veilig_board_info") == 0 &&
		    (id = live_label(&l->s[i], "board")) != NULL) {
			name = live_label(&l->s[i], "name");
			l->b[l->nb].id = id;
			l->b[l->nb].name = name != NULL ? name : id;
			l->nb++;
		} else if (strcmp(l->s[i].name, "veilig_upstream_up") == 0 &&
		    (name = live_label(&l->s[i], "upstream")) != NULL) {
			l->u[l->nu].name = name;
			l->nu++;
		} else if (strcmp(l->s[i].name, "veilig_node_info") == 0)
			l->node = live_label(&l->s[i], "node");
	}
	qsort(l->b, l->nb, sizeof *l->b, live_board_cmp);
	qsort(l->u, l->nu, sizeof *l->u, live_up_cmp);
	return (0);
}

/* The row of sample s for a field of kind row; NULL if it has none. */
static char *
live_row(struct live *l, const struct live_sample *s, enum live_row row)
{
	struct live_board	kb;
	struct live_up		ku;

	switch (row) {
	case LIVE_G:
		return ((char *)&l->g);
	case LIVE_B:
		if ((kb.id = live_label(s, "board")) == NULL)
			return (NULL);
		return (bsearch(&kb, l->b, l->nb, sizeof *l->b,
		    live_board_cmp));
	case LIVE_U:
		if ((ku.name = live_label(s, "upstream")) == NULL)
			return (NULL);
		return (bsearch(&ku, l->u, l->nu, sizeof *l->u, live_up_cmp));
	}
	return (NULL);
}

/* Add v to the count named name in list (a new entry if need be). */
static int
live_list_add(struct live_list *list, const char *name, double v)
{
	struct live_named	*nv;
	size_t			 i;

	for (i = 0; i < list->n; i++)
		if (strcmp(list->v[i].name, name) == 0) {
			list->v[i].v += v;
			return (0);
		}
	if (list->n == list->cap) {
		list->cap = list->cap == 0 ? 8 : list->cap * 2;
		if ((nv = reallocarray(list->v, list->cap, sizeof *nv)) == NULL)
			return (-1);
		list->v = nv;
	}
	list->v[list->n].name = name;
	list->v[list->n].v = v;
	list->n++;
	return (0);
}

/* Largest count first, then by name. */
static int
live_named_cmp(const void *a, const void *b)
{
	const struct live_named	*x = a, *y = b;

	if (x->v != y->v)
		return (x->v < y->v ? 1 : -1);
	return (strcmp(x->name, y->name));
}

/* A histogram's line: a bucket (with its le), its sum or its count. */
static void
live_hist_add(struct live_hist *h, const struct live_sample *s)
{
	const char	*le, *part = strrchr(s->name, '_');

	if (part != NULL && strcmp(part, "_sum") == 0)
		h->sum += s->v;
	else if (part != NULL && strcmp(part, "_count") == 0)
		h->count += s->v;
	else if ((le = live_label(s, "le")) != NULL && h->n < LIVE_BUCKETS) {
		h->le[h->n] = strcmp(le, "+Inf") == 0 ? INFINITY :
		    strtod(le, NULL);
		h->cum[h->n++] = s->v;
	}
}

/* What field f says to do with sample s; 0, or -1 if out of memory. */
static int
live_apply(struct live *l, const struct live_field *f,
    const struct live_sample *s)
{
	struct live_hist	*h;
	const char		*v = f->key != NULL ? live_label(s, f->key) :
				    NULL;
	char			*row;
	double			*d;

	if ((row = live_row(l, s, f->row)) == NULL)
		return (0);
	switch (f->kind) {
	case LIVE_ADD:
		d = (double *)(void *)(row + f->off);
		/* A figure unknown until seen (NAN) is known from here. */
		if (f->key == NULL || (v != NULL && strcmp(v, f->val) == 0))
			*d = (isnan(*d) ? 0 : *d) + s->v;
		break;
	case LIVE_HIST:
		h = (struct live_hist *)(void *)(row + f->off);
		if (f->key != NULL && v != NULL && strcmp(v, f->val) == 0)
			h++;
		live_hist_add(h, s);
		break;
	case LIVE_LIST:
		if (v != NULL && live_list_add((struct live_list *)(void *)
		    (row + f->off), v, s->v) == -1)
			return (-1);
		break;
	}
	return (0);
}

/*
 * Every sample into its row. Samples of one family come together, so
 * the table is searched only when the name changes.
 */
static int
live_fold(struct live *l)
{
	const struct live_sample *s;
	const char		*prev = "";
	size_t			 i, j, first = LIVE_NFIELDS;

	for (i = 0; i < l->ns; i++) {
		s = &l->s[i];
		if (strcmp(s->name, prev) != 0) {
			prev = s->name;
			for (first = 0; first < LIVE_NFIELDS && strcmp(
			    live_fields[first].name, prev) != 0; first++)
				;
		}
		for (j = first; j < LIVE_NFIELDS && strcmp(live_fields[j].name,
		    prev) == 0; j++)
			if (live_apply(l, &live_fields[j], s) == -1)
				return (-1);
	}
	/* Most first (qsort() must not see the NULL of an empty list). */
	for (i = 0; i < l->nb; i++)
		if (l->b[i].cats.n > 1)
			qsort(l->b[i].cats.v, l->b[i].cats.n,
			    sizeof *l->b[i].cats.v, live_named_cmp);
	if (l->g.countries.n > 1)
		qsort(l->g.countries.v, l->g.countries.n,
		    sizeof *l->g.countries.v, live_named_cmp);
	qsort(l->b, l->nb, sizeof *l->b, live_board_rank);
	return (0);
}

double
live_quantile(double q, const double *le, const double *cum, size_t n,
    int *above)
{
	double	rank, lo, below;
	size_t	i;

	*above = 0;
	if (n == 0 || cum[n - 1] <= 0)
		return (-1);
	rank = q * cum[n - 1];
	for (i = 0; i < n && cum[i] < rank; i++)
		;
	if (i >= n)
		i = n - 1;
	if (isinf(le[i])) {
		*above = 1;
		return (i > 0 ? le[i - 1] : 0);
	}
	lo = i > 0 ? le[i - 1] : 0;
	below = i > 0 ? cum[i - 1] : 0;
	if (cum[i] - below <= 0)
		return (le[i]);
	return (lo + (le[i] - lo) * (rank - below) / (cum[i] - below));
}

/* ---- writing the page ---- */

/* s with &, <, >, " and ' as entities (text and attribute values). */
static void
live_esc(struct evbuffer *out, const char *s)
{
	const char	*p;

	for (p = s; *p != '\0'; p++) {
		switch (*p) {
		case '&':
			evbuffer_add(out, "&amp;", 5);
			break;
		case '<':
			evbuffer_add(out, "&lt;", 4);
			break;
		case '>':
			evbuffer_add(out, "&gt;", 4);
			break;
		case '"':
			evbuffer_add(out, "&quot;", 6);
			break;
		case '\'':
			evbuffer_add(out, "&#39;", 5);
			break;
		default:
			evbuffer_add(out, p, 1);
		}
	}
}

/* A count as an integer (negative and non-finite as 0). */
static uint64_t
live_u64(double v)
{
	if (!(v > 0) || !isfinite(v))
		return (0);
	if (v >= 18446744073709551615.0)
		return (UINT64_MAX);
	return ((uint64_t)(v + 0.5));
}

/*
 * A figure fit to format: from our own text it always is, but the page
 * must not trust the text (fuzz_live.c): a double too large for an
 * integer type is undefined behaviour when converted to one.
 */
static double
live_sane(double v)
{
	if (!isfinite(v) || v < 0)
		return (0);
	return (v > 1e15 ? 1e15 : v);
}

/* "1.234" */
static const char *
live_int(double v, char *buf)
{
	return (report_fmt_int(live_u64(v), buf, LIVE_LEN));
}

/* "12,5 %" of num in den. */
static const char *
live_pct(double num, double den, char *buf)
{
	return (report_fmt_pct(live_u64(num), live_u64(den), buf, LIVE_LEN));
}

/* Octets as "512 KiB", "12,3 MiB", "1,5 GiB". */
static const char *
live_bytes(double v, char *buf)
{
	static const char *const units[] = { "B", "KiB", "MiB", "GiB", "TiB" };
	char	 d[LIVE_LEN];
	size_t	 u = 0;

	v = live_sane(v);
	while (v >= 1024 && u + 1 < sizeof units / sizeof units[0]) {
		v /= 1024;
		u++;
	}
	snprintf(buf, LIVE_LEN, "%s" REPORT_FMT_NBSP "%s",
	    report_fmt_dec(v, u == 0 || v >= 100 ? 0 : 1, d, sizeof d),
	    units[u]);
	return (buf);
}

/* A moment as "14:05:09" today (unless with_date), else "3 december
   2026 14:05:09". */
static const char *
live_time(const struct live *l, double t, char *buf, size_t len,
    int with_date)
{
	struct tm	tm, now;
	time_t		tt = (time_t)live_sane(t);
	char		date[LIVE_LEN], hms[16];

	if (t <= 0 || t > 1e11 || localtime_r(&tt, &tm) == NULL ||
	    localtime_r(&l->now, &now) == NULL) {
		snprintf(buf, len, "–");
		return (buf);
	}
	strftime(hms, sizeof hms, "%H:%M:%S", &tm);
	if (!with_date && tm.tm_year == now.tm_year &&
	    tm.tm_yday == now.tm_yday)
		snprintf(buf, len, "%s", hms);
	else
		snprintf(buf, len, "%s %s", report_fmt_date(
		    report_date_from_civil(tm.tm_year + 1900, tm.tm_mon + 1,
		    tm.tm_mday), date, sizeof date), hms);
	return (buf);
}

/* Seconds as "2 d 3 u", "3 u 12 min", "12 min 5 s", "5 s". */
static const char *
live_span(double secs, char *buf)
{
	long	s = (long)live_sane(secs);

	if (s >= 86400)
		snprintf(buf, LIVE_LEN, "%ld d %ld u", s / 86400,
		    s % 86400 / 3600);
	else if (s >= 3600)
		snprintf(buf, LIVE_LEN, "%ld u %ld min", s / 3600,
		    s % 3600 / 60);
	else if (s >= 60)
		snprintf(buf, LIVE_LEN, "%ld min %ld s", s / 60, s % 60);
	else
		snprintf(buf, LIVE_LEN, "%ld s", s);
	return (buf);
}

/* A quantile of h (two histograms added when h2 is not NULL), as text. */
static const char *
live_hq(double q, const struct live_hist *h, const struct live_hist *h2,
    char *buf)
{
	double	cum[LIVE_BUCKETS], v;
	char	d[LIVE_LEN];
	size_t	i, n = h->n;
	int	above, same;

	for (i = 0; i < n; i++)
		cum[i] = h->cum[i];
	/* Add the other one if it has the same bounds (ours always do). */
	if (h2 != NULL && h2->n > 0) {
		if (n == 0)
			return (live_hq(q, h2, NULL, buf));
		same = h2->n == n;
		for (i = 0; same && i < n; i++)
			same = h2->le[i] == h->le[i];
		for (i = 0; same && i < n; i++)
			cum[i] += h2->cum[i];
	}
	v = live_quantile(q, h->le, cum, n, &above);
	if (v < 0 || isnan(v))
		snprintf(buf, LIVE_LEN, "–");
	else
		snprintf(buf, LIVE_LEN, "%s%s", above ? ">" REPORT_FMT_NBSP :
		    "", report_fmt_seconds(live_sane(v), d, sizeof d));
	return (buf);
}

/* A table cell with a count: its number in data-v, its text Dutch. */
static void
live_td(struct evbuffer *out, const char *key, double v)
{
	char	n[LIVE_LEN];

	evbuffer_add_printf(out, "<td class=\"n\" data-k=\"%s\" "
	    "data-v=\"%llu\">%s</td>", key, (unsigned long long)live_u64(v),
	    live_int(v, n));
}

/* A key figure. */
static void
live_card(struct evbuffer *out, const char *id, const char *label, double v,
    const char *text, const char *sub)
{
	evbuffer_add_printf(out, "<div class=\"card\" id=\"%s\"><div "
	    "class=\"l\">%s</div><div class=\"v\" data-v=\"%llu\">%s</div>",
	    id, label, (unsigned long long)live_u64(v), text);
	if (sub != NULL)
		evbuffer_add_printf(out, "<div class=\"s\">%s</div>", sub);
	evbuffer_add_printf(out, "</div>\n");
}

/* The head of the page, the title and the line under it. */
static void
live_head(struct live *l, struct evbuffer *out)
{
	char	t[LIVE_LEN], since[LIVE_LEN], up[LIVE_LEN];

	evbuffer_add_printf(out, "<!DOCTYPE html>\n<html lang=\"nl\">\n<head>\n"
	    "<meta charset=\"utf-8\">\n"
	    "<meta name=\"viewport\" content=\"width=device-width, "
	    "initial-scale=1\">\n"
	    "<meta http-equiv=\"refresh\" content=\"%d\">\n"
	    "<meta http-equiv=\"Content-Security-Policy\" "
	    "content=\"default-src 'none'; style-src 'unsafe-inline'\">\n"
	    "<meta name=\"generator\" content=\"veiligd\">\n"
	    "<title>veilig live: ", LIVE_REFRESH);
	live_esc(out, l->node != NULL ? l->node : "veiligd");
	evbuffer_add_printf(out, "</title>\n<style>\n%s</style>\n</head>\n"
	    "<body>\n<main>\n<header>\n<h1>Live: ", live_css);
	live_esc(out, l->node != NULL ? l->node : "veiligd");
	evbuffer_add_printf(out, "</h1>\n<p id=\"stand\" data-t=\"%lld\">"
	    "Stand van %s, ververst elke %d seconden. Actief sinds %s (%s); "
	    "tellingen sinds de start.</p>\n</header>\n", (long long)l->now,
	    live_time(l, (double)l->now, t, sizeof t, 1), LIVE_REFRESH,
	    live_time(l, l->g.started, since, sizeof since, 0),
	    live_span((double)l->now - l->g.started, up));
}


/* The key figures over all boards, upstreams and the configuration. */
static void
live_cards(struct live *l, struct evbuffer *out)
{
	double	q = 0, bl = 0, ca = 0, cl = 0, today = 0, ok = 0, nu = 0;
	char	a[LIVE_LEN], b[LIVE_LEN], t[LIVE_LEN], sub[256];
	size_t	i;

	for (i = 0; i < l->nb; i++) {
		q += l->b[i].queries;
		bl += l->b[i].blocked;
		ca += l->b[i].cache;
		cl += l->b[i].clients;
		today += l->b[i].today;
	}
	for (i = 0; i < l->nu; i++) {
		nu += l->u[i].configured > 0;
		ok += l->u[i].configured > 0 && l->u[i].up > 0;
	}
	evbuffer_add_printf(out, "<div class=\"cards\">\n");
	snprintf(sub, sizeof sub, "en %s van buiten de besturen (geweigerd)",
	    live_int(l->g.outside, b));
	/* Overload shows first here: queries that never reached a board. */
	if (l->g.rxq_drops > 0)
		snprintf(sub + strlen(sub), sizeof sub - strlen(sub), "; "
		    "<span class=\"bad\">%s weggegooid: UDP-buffer vol</span>",
		    live_int(l->g.rxq_drops, t));
	live_card(out, "kpi-vragen", "Vragen", q, live_int(q, a), sub);
	snprintf(sub, sizeof sub, "%s van de vragen", live_pct(bl, q, b));
	live_card(out, "kpi-geblokkeerd", "Geblokkeerd", bl, live_int(bl, a),
	    sub);
	live_card(out, "kpi-cache", "Uit de cache", ca, live_pct(ca, q, a),
	    "van de antwoorden");
	snprintf(sub, sizeof sub, "in het laatste interval; vandaag %s "
	    "(schattingen)", live_int(today, b));
	live_card(out, "kpi-apparaten", "Apparaten", cl, live_int(cl, a), sub);
	snprintf(a, sizeof a, "%s van %s", live_int(ok, b), live_int(nu, t));
	live_card(out, "kpi-upstreams", ok < nu ? "Upstreams bereikbaar "
	    "<span class=\"bad\">(niet alle)</span>" : "Upstreams bereikbaar",
	    ok, a, NULL);
	if (l->g.reload_time <= 0)
		snprintf(sub, sizeof sub, "nog niet herladen");
	else
		snprintf(sub, sizeof sub, "herladen om %s: %s", live_time(l,
		    l->g.reload_time, t, sizeof t, 0), l->g.reload_ok > 0 ?
		    "<span class=\"ok\">gelukt</span>" :
		    "<span class=\"bad\">geweigerd, de vorige geldt</span>");
	snprintf(a, sizeof a, "generatie %s", live_int(l->g.generation, b));
	live_card(out, "kpi-config", "Configuratie", l->g.generation, a, sub);
	evbuffer_add_printf(out, "</div>\n");
}

/* One board's row. */
static void
live_board_row(struct evbuffer *out, const struct live_board *b)
{
	char	a[LIVE_LEN], c[LIVE_LEN];
	size_t	i;

	evbuffer_add_printf(out, "<tr data-board=\"");
	live_esc(out, b->id);
	evbuffer_add_printf(out, "\"><td><strong>");
	live_esc(out, b->name);
	evbuffer_add_printf(out, "</strong> <span class=\"id\">");
	live_esc(out, b->id);
	if (b->configured <= 0)
		evbuffer_add_printf(out, ", niet meer in de configuratie");
	evbuffer_add_printf(out, "</span>");
	/* The categories most blocked, by their plain names. */
	for (i = 0; i < b->cats.n && i < LIVE_CATS; i++) {
		evbuffer_add_printf(out, "%s", i == 0 ?
		    "<span class=\"cats\">" : " · ");
		live_esc(out, report_fmt_category(b->cats.v[i].name, c,
		    sizeof c));
		evbuffer_add_printf(out, " %s", live_int(b->cats.v[i].v, a));
	}
	evbuffer_add_printf(out, "%s</td>", b->cats.n > 0 ? "</span>" : "");
	live_td(out, "queries", b->queries);
	live_td(out, "blocked", b->blocked);
	evbuffer_add_printf(out, "<td class=\"n\" data-k=\"cache\">%s</td>",
	    live_pct(b->cache, b->queries, a));
	live_td(out, "safe", b->safe);
	live_td(out, "limited", b->limited);
	live_td(out, "clients", b->clients);
	live_td(out, "today", b->today);
	evbuffer_add_printf(out, "<td class=\"n\" data-k=\"p50\">%s</td>"
	    "<td class=\"n\" data-k=\"p95\">%s</td></tr>\n",
	    live_hq(0.5, &b->lat[0], &b->lat[1], a),
	    live_hq(0.95, &b->lat[0], &b->lat[1], c));
}

/* The boards, most queries first. */
static void
live_boards(struct live *l, struct evbuffer *out)
{
	char	n[LIVE_LEN];
	size_t	i;

	evbuffer_add_printf(out, "<section id=\"besturen\">\n<h2>Per bestuur"
	    "</h2>\n");
	if (l->nb == 0) {
		evbuffer_add_printf(out, "<p>Nog geen besturen.</p>\n"
		    "</section>\n");
		return;
	}
	evbuffer_add_printf(out, "<p class=\"note\">Beperkt: antwoorden die "
	    "een limiet inkortte (README, Limits). Apparaten: een schatting "
	    "over het laatste hele interval (%s s) en over vandaag. "
	    "Antwoordtijd: van ontvangst tot antwoord, over alle antwoorden."
	    "</p>\n<div class=\"box\"><table id=\"besturen-tabel\">\n"
	    "<thead><tr><th>Bestuur</th><th class=\"n\">Vragen</th>"
	    "<th class=\"n\">Geblokkeerd</th><th class=\"n\">Uit cache</th>"
	    "<th class=\"n\">Safe search</th><th class=\"n\">Beperkt</th>"
	    "<th class=\"n\">Apparaten</th>"
	    "<th class=\"n\">Vandaag</th><th class=\"n\">Mediaan</th>"
	    "<th class=\"n\">95e percentiel</th></tr></thead>\n<tbody>\n",
	    live_int(l->g.interval, n));
	for (i = 0; i < l->nb; i++)
		live_board_row(out, &l->b[i]);
	evbuffer_add_printf(out, "</tbody>\n</table></div>\n</section>\n");
}

/* The upstreams, by address. */
static void
live_ups(struct live *l, struct evbuffer *out)
{
	const struct live_up	*u;
	char			 a[LIVE_LEN], b[LIVE_LEN];
	size_t			 i;

	evbuffer_add_printf(out, "<section id=\"upstreams\">\n<h2>Upstreams"
	    "</h2>\n");
	if (l->nu == 0) {
		evbuffer_add_printf(out, "<p>Nog geen vragen aan upstreams."
		    "</p>\n</section>\n");
		return;
	}
	evbuffer_add_printf(out, "<div class=\"box\"><table id=\"upstreams-"
	    "tabel\">\n<thead><tr><th>Upstream</th><th>Status</th><th class="
	    "\"n\">Vragen</th><th class=\"n\">Via TCP</th><th class=\"n\">"
	    "Antwoorden</th><th class=\"n\">Time-outs</th><th class=\"n\">"
	    "Fouten</th><th class=\"n\">Afwijkend</th><th class=\"n\">"
	    "Gem. RTT</th><th class=\"n\">95e percentiel</th></tr></thead>\n"
	    "<tbody>\n");
	for (i = 0; i < l->nu; i++) {
		u = &l->u[i];
		evbuffer_add_printf(out, "<tr data-upstream=\"");
		live_esc(out, u->name);
		evbuffer_add_printf(out, "\"><td>");
		live_esc(out, u->name);
		evbuffer_add_printf(out, "</td><td data-up=\"%d\">%s%s</td>",
		    u->up > 0, u->up > 0 ? "<span class=\"ok\">bereikbaar"
		    "</span>" : "<span class=\"bad\">onbereikbaar</span>",
		    u->configured > 0 ? "" : " <span class=\"id\">niet meer "
		    "in de configuratie</span>");
		live_td(out, "queries", u->queries);
		live_td(out, "tcp", u->tcp);
		live_td(out, "answers", u->answers);
		live_td(out, "timeouts", u->timeouts);
		live_td(out, "errors", u->errors);
		live_td(out, "mismatched", u->mismatched);
		if (u->rtt.count > 0)
			report_fmt_seconds(live_sane(u->rtt.sum /
			    u->rtt.count), a, sizeof a);
		else
			snprintf(a, sizeof a, "–");
		evbuffer_add_printf(out, "<td class=\"n\" data-k=\"rtt\">%s"
		    "</td><td class=\"n\" data-k=\"rtt95\">%s</td></tr>\n", a,
		    live_hq(0.95, &u->rtt, NULL, b));
	}
	evbuffer_add_printf(out, "</tbody>\n</table></div>\n</section>\n");
}

/* Queries of no board, and by country when GeoIP says. */
static void
live_outside(struct live *l, struct evbuffer *out)
{
	const char	*code;
	char		 a[LIVE_LEN], b[LIVE_LEN];
	size_t		 i;

	evbuffer_add_printf(out, "<section id=\"buiten\">\n<h2>Buiten de "
	    "besturen</h2>\n<p><span id=\"buiten-vragen\" data-v=\"%llu\">%s"
	    "</span> vragen van adressen die bij geen bestuur horen; die "
	    "krijgen REFUSED (%s ingekort door een limiet).</p>\n",
	    (unsigned long long)live_u64(l->g.outside),
	    live_int(l->g.outside, a), live_int(l->g.outside_limited, b));
	if (l->g.countries.n > 0) {
		evbuffer_add_printf(out, "<div class=\"box\"><table "
		    "id=\"landen-tabel\">\n<thead><tr><th>Land</th><th "
		    "class=\"n\">Vragen</th><th class=\"n\">Aandeel</th></tr>"
		    "</thead>\n<tbody>\n");
		for (i = 0; i < l->g.countries.n; i++) {
			code = l->g.countries.v[i].name;
			evbuffer_add_printf(out, "<tr><td>");
			live_esc(out, strcmp(code, "unknown") == 0 ?
			    "onbekend" : report_fmt_country(code));
			evbuffer_add_printf(out, "</td>");
			live_td(out, "queries", l->g.countries.v[i].v);
			evbuffer_add_printf(out, "<td class=\"n\">%s</td>"
			    "</tr>\n", live_pct(l->g.countries.v[i].v,
			    l->g.outside, b));
		}
		evbuffer_add_printf(out, "</tbody>\n</table></div>\n");
	}
	evbuffer_add_printf(out, "</section>\n");
}

/* A row of the daemon's table: a label and its text (already HTML). */
static void
live_kv(struct evbuffer *out, const char *key, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void
live_kv(struct evbuffer *out, const char *key, const char *fmt, ...)
{
	va_list	ap;

	evbuffer_add_printf(out, "<tr><th>%s</th><td>", key);
	va_start(ap, fmt);
	evbuffer_add_vprintf(out, fmt, ap);
	va_end(ap);
	evbuffer_add_printf(out, "</td></tr>\n");
}

/*
 * The kernel's figures of the listening UDP sockets: queries it dropped,
 * the buffer being full (veiligd never saw them), and what waits now.
 */
static void
live_rxq(struct evbuffer *out, const struct live_global *g)
{
	char	a[LIVE_LEN], b[LIVE_LEN];

	if (isnan(g->rxq_drops) || isnan(g->rxq_octets)) {
		live_kv(out, "Weggegooid door de kernel", "<span id=\"kernel-"
		    "weggegooid\">onbekend</span> (de kernel zegt het niet; "
		    "zie het log)");
		return;
	}
	live_kv(out, "Weggegooid door de kernel", "<span id=\"kernel-"
	    "weggegooid\" data-v=\"%llu\"%s>%s</span> UDP-vragen: "
	    "ontvangstbuffer vol (server.receive-buffer); nu %s in de buffer",
	    (unsigned long long)live_u64(g->rxq_drops), g->rxq_drops > 0 ?
	    " class=\"bad\"" : "", live_int(g->rxq_drops, a),
	    live_bytes(g->rxq_octets, b));
}

/* The daemon: traffic, cache, configuration. */
static void
live_daemon(struct live *l, struct evbuffer *out)
{
	const struct live_global *g = &l->g;
	char	a[LIVE_LEN], b[LIVE_LEN], c[LIVE_LEN], d[LIVE_LEN];
	size_t	i;

	evbuffer_add_printf(out, "<section id=\"veiligd\">\n<h2>veiligd</h2>\n"
	    "<div class=\"box\"><table class=\"kv\">\n");
	live_kv(out, "DNS-vragen ontvangen", "%s over UDP, %s over TCP",
	    live_int(g->udp, a), live_int(g->tcp, b));
	live_kv(out, "Niet beantwoord", "%s (onleesbaar, of niet te versturen)",
	    live_int(g->dropped, a));
	live_rxq(out, g);
	live_kv(out, "TCP-verbindingen meteen gesloten", "%s boven de limiet, "
	    "%s van geen bestuur, %s boven de limiet per apparaat",
	    live_int(g->tcp_rejected, a), live_int(g->tcp_refused, b),
	    live_int(g->tcp_client_limit, c));
	live_kv(out, "TCP te traag", "%s verbindingen gesloten na "
	    "tcp-query-timeout; %s antwoorden weggegooid (niet gelezen)",
	    live_int(g->tcp_deadline, a), live_int(g->tcp_unread, b));
	live_kv(out, "Workers", "%s", live_int(g->workers, a));
	live_kv(out, "Cache", "%s antwoorden, %s van %s", live_int(
	    g->cache_entries, a), live_bytes(g->cache_bytes, b),
	    live_bytes(g->cache_max, c));
	live_kv(out, "Cache-treffers", "%s van de opzoekingen; %s verlopen "
	    "antwoorden gegeven; %s verdrongen", live_pct(g->hits,
	    g->hits + g->stale_hits + g->misses, a), live_int(g->stale_hits, b),
	    live_int(g->evictions, c));
	live_kv(out, "Configuratie geladen", "%s (besturen: %s)",
	    live_time(l, g->loaded, a, sizeof a, 0), live_int(g->boards, b));
	live_kv(out, "Herladen", "%s gelukt, %s geweigerd",
	    live_int(g->reloads_ok, a), live_int(g->reloads_failed, b));
	evbuffer_add_printf(out, "<tr><th>Lijsten (namen)</th><td>");
	for (i = 0; i < l->g.lists.n; i++) {
		evbuffer_add_printf(out, "%s", i > 0 ? " · " : "");
		live_esc(out, report_fmt_category(l->g.lists.v[i].name, a,
		    sizeof a));
		evbuffer_add_printf(out, ": %s", live_int(l->g.lists.v[i].v,
		    b));
	}
	evbuffer_add_printf(out, "%s</td></tr>\n", l->g.lists.n == 0 ? "geen" :
	    "");
	live_kv(out, "Statistieken", "%s regels geschreven, laatst om %s; "
	    "%s%s%s schrijffouten; %s tellingen verloren",
	    live_int(g->records, a),
	    live_time(l, g->last_write, b, sizeof b, 0),
	    g->write_errors > 0 ? "<span class=\"bad\">" : "",
	    live_int(g->write_errors, c), g->write_errors > 0 ? "</span>" : "",
	    live_int(g->lost, d));
	live_kv(out, "Proces", "%s s CPU, %s geheugen, %s van %s bestanden "
	    "open", report_fmt_dec(live_sane(g->cpu), 1, a, sizeof a),
	    live_bytes(g->rss, b), live_int(g->fds, c),
	    live_int(g->max_fds, d));
	evbuffer_add_printf(out, "</table></div>\n</section>\n");
}

/* Where the numbers come from, and what is not on the page. */
static void
live_foot(struct live *l, struct evbuffer *out)
{
	char	n[LIVE_LEN];

	evbuffer_add_printf(out, "<footer>\n<p>Dezelfde cijfers als <a href="
	    "\"/metrics\">/metrics</a> (Prometheus), op hetzelfde moment "
	    "gelezen. Tellingen lopen sinds de start van veiligd; Prometheus "
	    "en Grafana maken er verloop en snelheden van.</p>\n<p>Geen adres "
	    "van een apparaat staat op deze pagina: veiligd houdt ze nergens "
	    "bij.</p>\n");
	if (l->bad > 0)
		evbuffer_add_printf(out, "<p class=\"bad\" id=\"onleesbaar\" "
		    "data-v=\"%zu\">%s regels van /metrics konden niet worden "
		    "gelezen.</p>\n", l->bad, live_int((double)l->bad, n));
	evbuffer_add_printf(out, "</footer>\n</main>\n</body>\n</html>\n");
}

int
live_page(char *text, size_t len, time_t now, struct evbuffer *out)
{
	struct live	l;
	size_t		i;
	int		rc = -1;

	memset(&l, 0, sizeof l);
	l.now = now;
	l.g.rxq_drops = l.g.rxq_octets = NAN;
	if (live_parse(&l, text, len) == -1 || live_rows(&l) == -1 ||
	    live_fold(&l) == -1)
		goto done;
	live_head(&l, out);
	live_cards(&l, out);
	live_boards(&l, out);
	live_ups(&l, out);
	live_outside(&l, out);
	live_daemon(&l, out);
	live_foot(&l, out);
	rc = 0;
done:
	for (i = 0; i < l.nb; i++)
		free(l.b[i].cats.v);
	free(l.b);
	free(l.u);
	free(l.g.lists.v);
	free(l.g.countries.v);
	free(l.s);
	return (rc);
}
