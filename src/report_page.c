/*
 * report_page.c: veilig-report's HTML pages (see report_page.h).
 *
 * A board's page and the service page share their first part, written by
 * report_page_figures() for one struct report_board (a real board, or the
 * sum of all of them from report_agg_all()); the service page adds the
 * boards ranked, the queries from no board and the upstreams.
 *
 * Every figure a test may want to check carries its raw number in a
 * data-v attribute next to the Dutch text, and every section and chart an
 * id, so the page can be checked against its input without parsing Dutch.
 */
#include <sys/stat.h>

#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "report_date.h"
#include "report_fmt.h"
#include "report_page.h"
#include "report_svg.h"

#define REPORT_PAGE_CATS	12	/* categories drawn; the rest as one */
#define REPORT_PAGE_BOARDS	20	/* boards drawn on the service page */
#define REPORT_PAGE_GEO		15	/* countries and AS numbers drawn */

/* The page's style: colours by class, a phone below 40rem, paper. */
static const char report_page_css[] =
":root{--ink:#1d2733;--muted:#566272;--line:#d5dce4;--bg:#f5f7f9;"
"--q:#4a7fb5;--b:#c2412d;--c:#2e7d4f;--f:#7a8fa6;--s:#d9a21b;--r:#8e5ea2;"
"--x:#9aa5b1;--e:#5c5c5c;--cl:#3b8ea5}\n"
"*{box-sizing:border-box}\n"
"body{margin:0;background:var(--bg);color:var(--ink);"
"font:16px/1.5 system-ui,-apple-system,\"Segoe UI\",Roboto,\"Helvetica Neue\","
"Arial,sans-serif;-webkit-text-size-adjust:100%}\n"
"main{max-width:62rem;margin:0 auto;padding:1rem}\n"
"header h1{font-size:1.6rem;line-height:1.2;margin:.5rem 0 .25rem}\n"
"header p{margin:0;color:var(--muted)}\n"
"h2{font-size:1.2rem;margin:0 0 .5rem}\n"
"h3{font-size:1rem;margin:1rem 0 .25rem}\n"
"section{background:#fff;border:1px solid var(--line);border-radius:6px;"
"padding:1rem;margin:1rem 0;break-inside:avoid}\n"
"p{margin:.5rem 0}\n"
".note{color:var(--muted);font-size:.9rem}\n"
".cards{display:grid;grid-template-columns:repeat(auto-fit,minmax(10.5rem,1fr));"
"gap:.75rem;margin:1rem 0}\n"
".card{background:#fff;border:1px solid var(--line);border-radius:6px;"
"padding:.6rem .8rem;break-inside:avoid}\n"
".card .l{color:var(--muted);font-size:.9rem}\n"
".card .v{font-size:1.6rem;font-weight:600;line-height:1.3;"
"font-variant-numeric:tabular-nums}\n"
".card .s{color:var(--muted);font-size:.85rem}\n"
".box{overflow-x:auto}\n"
"svg.chart{display:block;width:100%;min-width:30rem;height:auto;"
"font-size:12px;-webkit-print-color-adjust:exact;print-color-adjust:exact}\n"
"svg.stack{min-width:0}\n"
"table.hbars{width:100%;max-width:48rem}table.hbars th{font-weight:normal;"
"text-align:right;width:34%;color:var(--ink);font-size:.95rem}"
"table.hbars td{border:0;vertical-align:middle}table.hbars th{border:0}"
"td.hb{width:46%;padding-left:0;padding-right:0}td.hb svg{display:block;"
"width:100%;height:1.05rem;-webkit-print-color-adjust:exact;"
"print-color-adjust:exact}table.hbars td.n{text-align:left}"
".pct{color:var(--muted)}\n"
".cat2{display:none}\n"
"svg.chart text{fill:var(--ink)}\n"
"svg .ylab{text-anchor:end;fill:var(--muted)}\n"
"svg .xlab{fill:var(--muted)}\n"
"svg .clab{text-anchor:end;font-size:11px}\n"
"svg .grid{stroke:#e6eaef;stroke-width:1}\n"
"svg .axis{stroke:#8894a2;stroke-width:1}\n"
"svg .weekend{fill:#f1f3f6}\n"
"svg .bar{fill:var(--q)}\n"
"svg .k-q,.k-q{fill:var(--q);background:var(--q)}"
"svg .k-b,.k-b{fill:var(--b);background:var(--b)}"
"svg .k-c,.k-c{fill:var(--c);background:var(--c)}"
"svg .k-f,.k-f{fill:var(--f);background:var(--f)}"
"svg .k-s,.k-s{fill:var(--s);background:var(--s)}"
"svg .k-r,.k-r{fill:var(--r);background:var(--r)}"
"svg .k-x,.k-x{fill:var(--x);background:var(--x)}"
"svg .k-e,.k-e{fill:var(--e);background:var(--e)}"
"svg .k-cl,.k-cl{fill:var(--cl);background:var(--cl)}\n"
"table{border-collapse:collapse;width:100%;font-variant-numeric:tabular-nums}\n"
"th,td{text-align:left;padding:.3rem .5rem;border-bottom:1px solid var(--line);"
"vertical-align:top}\n"
"th{font-weight:600;font-size:.9rem;color:var(--muted)}\n"
"td.n,th.n{text-align:right;white-space:nowrap}\n"
"td.site{overflow-wrap:anywhere}\n"
".sw{display:inline-block;width:.8rem;height:.8rem;border-radius:2px;"
"margin-right:.4rem;vertical-align:-.05rem;-webkit-print-color-adjust:exact;"
"print-color-adjust:exact}\n"
"footer{color:var(--muted);font-size:.85rem;margin:1rem 0 2rem}\n"
"@media (max-width:40rem){body{font-size:15px}main{padding:.5rem}"
"header h1{font-size:1.3rem}.card .v{font-size:1.3rem}section{padding:.75rem}"
"th,td{padding:.25rem .3rem}.cat{display:none}"
".cat2{display:block;color:var(--muted);font-size:.85rem}}\n"
"@media print{@page{size:A4;margin:14mm}body{background:#fff;font-size:10pt}"
"main{max-width:none;padding:0}section,.card{border:0;border-top:1px solid #999;"
"border-radius:0;padding:.5rem 0}.cards{grid-template-columns:repeat(3,1fr)}"
".box{overflow:visible}svg.chart{min-width:0}a{color:inherit;text-decoration:none}"
"h2{break-after:avoid}tr{break-inside:avoid}}\n";

/* The answers of a board, in the order they are drawn. */
static const struct {
	enum report_col	 col;
	const char	*key;
	const char	*label;
	const char	*cls;
} report_page_answers[] = {
	{ REPORT_CACHE, "cache", "Uit de cache", "k-c" },
	{ REPORT_FORWARDED, "forwarded", "Opgezocht bij de upstream", "k-f" },
	{ REPORT_STALE, "stale", "Verouderd antwoord (upstream gaf geen "
	    "antwoord)", "k-s" },
	{ REPORT_BLOCKED, "blocked", "Geblokkeerd", "k-b" },
	{ REPORT_REWRITTEN, "rewritten", "Omgeleid (safe search)", "k-r" },
	{ REPORT_REFUSED, "refused", "Geweigerd", "k-x" },
	{ REPORT_ERROR, "error", "Fout", "k-e" },
	{ REPORT_DROPPED, "dropped", "Geen antwoord gestuurd", "k-x" },
};
#define REPORT_PAGE_NANSWERS \
	(sizeof report_page_answers / sizeof report_page_answers[0])

void
report_page_name(const char *id, char *buf, size_t len)
{
	static const char	 hex[] = "0123456789abcdef";
	size_t			 o;
	unsigned char		 c;

	o = (size_t)snprintf(buf, len, "bestuur-");
	/* Letters, digits, '-' and '.' stay; anything else as _XX. */
	for (; *id != '\0' && o + 4 < len; id++) {
		c = (unsigned char)*id;
		if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		    (c >= '0' && c <= '9') || c == '-' || c == '.')
			buf[o++] = (char)c;
		else {
			buf[o++] = '_';
			buf[o++] = hex[c >> 4];
			buf[o++] = hex[c & 15];
		}
	}
	snprintf(buf + o, len - o, ".html");
}

/* ------------------------------------------------------------ writing */

/* A page being written: a temporary file renamed into place at the end. */
struct report_page_file {
	FILE	*f;
	char	 tmp[PATH_MAX];
	char	 path[PATH_MAX];
};

static int
report_page_open(struct report_page_file *pf, const char *dir,
    const char *name, char **cause)
{
	mode_t	mask;
	int	fd;

	if (snprintf(pf->path, sizeof pf->path, "%s/%s", dir, name) >=
	    (int)sizeof pf->path || snprintf(pf->tmp, sizeof pf->tmp,
	    "%s/.%s.XXXXXX", dir, name) >= (int)sizeof pf->tmp) {
		if (asprintf(cause, "%s: name too long", dir) == -1)
			*cause = NULL;
		return (-1);
	}
	if ((fd = mkstemp(pf->tmp)) == -1) {
		if (asprintf(cause, "%s: %s", pf->tmp, strerror(errno)) == -1)
			*cause = NULL;
		return (-1);
	}
	/* mkstemp makes it 0600; a page is as readable as any new file. */
	mask = umask(0);
	umask(mask);
	(void)fchmod(fd, 0666 & ~mask);
	if ((pf->f = fdopen(fd, "w")) == NULL) {
		if (asprintf(cause, "%s: %s", pf->tmp, strerror(errno)) == -1)
			*cause = NULL;
		close(fd);
		unlink(pf->tmp);
		return (-1);
	}
	return (0);
}

/* Flush, sync and rename into place; on any error remove it. 0 or -1. */
static int
report_page_close(struct report_page_file *pf, char **cause)
{
	int	error = 0;

	if (fflush(pf->f) != 0 || ferror(pf->f))
		error = errno != 0 ? errno : EIO;
	else if (fsync(fileno(pf->f)) == -1)
		error = errno;
	if (fclose(pf->f) != 0 && error == 0)
		error = errno;
	pf->f = NULL;
	if (error == 0 && rename(pf->tmp, pf->path) == -1)
		error = errno;
	if (error != 0) {
		unlink(pf->tmp);
		if (asprintf(cause, "%s: %s", pf->path, strerror(error)) == -1)
			*cause = NULL;
		return (-1);
	}
	return (0);
}

/* ------------------------------------------------------------ parts */

static void
report_page_head(FILE *f, const char *title)
{
	fputs("<!DOCTYPE html>\n<html lang=\"nl\">\n<head>\n"
	    "<meta charset=\"utf-8\">\n"
	    "<meta name=\"viewport\" content=\"width=device-width, "
	    "initial-scale=1\">\n"
	    "<meta http-equiv=\"Content-Security-Policy\" "
	    "content=\"default-src 'none'; style-src 'unsafe-inline'\">\n"
	    "<meta name=\"generator\" content=\"veilig-report\">\n<title>", f);
	report_svg_esc(f, title);
	fprintf(f, "</title>\n<style>\n%s</style>\n</head>\n<body>\n<main>\n",
	    report_page_css);
}

/* One key figure: label, value (with its raw number), a line below. */
static void
report_page_card(FILE *f, const char *id, const char *label, uint64_t v,
    const char *shown, const char *sub)
{
	fprintf(f, "<div class=\"card\" id=\"%s\"><div class=\"l\">%s</div>"
	    "<div class=\"v\" data-v=\"%llu\">%s</div>", id, label,
	    (unsigned long long)v, shown);
	if (sub != NULL && *sub != '\0')
		fprintf(f, "<div class=\"s\">%s</div>", sub);
	fputs("</div>\n", f);
}

/*
 * "5 minuten", "1 minuut", "30 seconden", "1 uur" for an interval; when no
 * interval record was read (only day summaries), veiligd's default.
 */
static const char *
report_page_interval(uint64_t secs, char *buf, size_t len)
{
	if (secs == 0)
		snprintf(buf, len, "standaard 5 minuten");
	else if (secs % 3600 == 0)
		snprintf(buf, len, "%llu uur", (unsigned long long)(secs / 3600));
	else if (secs % 60 == 0)
		snprintf(buf, len, "%llu %s", (unsigned long long)(secs / 60),
		    secs == 60 ? "minuut" : "minuten");
	else
		snprintf(buf, len, "%llu seconden", (unsigned long long)secs);
	return (buf);
}

/* A chart over the days of the period. */
static void
report_page_days(FILE *f, const struct report_agg *agg, const char *id,
    const char *title, const struct report_svg_series *s)
{
	report_svg_days(f, id, title, s, agg->from, agg->ndays);
}

/* Days of the period with any query. */
static long
report_page_days_with_data(const struct report_agg *agg,
    const struct report_board *b)
{
	long	i, n = 0;

	for (i = 0; i < agg->ndays; i++)
		if (b->day[i * REPORT_COLS + REPORT_QUERIES] > 0)
			n++;
	return (n);
}

/* The busiest day for a column; -1 when every day is 0. */
static long
report_page_max_day(const struct report_agg *agg,
    const struct report_board *b, enum report_col col)
{
	uint64_t	max = 0;
	long		i, at = -1;

	for (i = 0; i < agg->ndays; i++) {
		if (b->day[i * REPORT_COLS + col] > max) {
			max = b->day[i * REPORT_COLS + col];
			at = i;
		}
	}
	return (at);
}

/* The key figures at the top. */
static void
report_page_cards(FILE *f, struct report_agg *agg,
    const struct report_board *b)
{
	char		 v[REPORT_FMT_LEN], s[256], a[REPORT_FMT_LEN];
	char		 d[REPORT_FMT_LEN];
	uint64_t	 q, bl, answered = 0, clients;
	long		 ndata, maxd;
	size_t		 i;

	q = report_agg_total(agg, b, REPORT_QUERIES);
	bl = report_agg_total(agg, b, REPORT_BLOCKED);
	for (i = 0; i < REPORT_PAGE_NANSWERS; i++)
		answered += report_agg_total(agg, b, report_page_answers[i].col);
	ndata = report_page_days_with_data(agg, b);
	clients = report_agg_total(agg, b, REPORT_CLIENTS);

	fputs("<div class=\"cards\">\n", f);
	snprintf(s, sizeof s, "gemiddeld %s per dag",
	    report_fmt_int(ndata > 0 ? (q + (uint64_t)ndata / 2) /
	    (uint64_t)ndata : 0, a, sizeof a));
	report_page_card(f, "kpi-vragen", "Vragen", q,
	    report_fmt_int(q, v, sizeof v), s);
	snprintf(s, sizeof s, "%s van de vragen",
	    report_fmt_pct(bl, q, a, sizeof a));
	report_page_card(f, "kpi-geblokkeerd", "Geblokkeerd", bl,
	    report_fmt_int(bl, v, sizeof v), s);
	snprintf(s, sizeof s, "%s van de antwoorden",
	    report_fmt_int(report_agg_total(agg, b, REPORT_CACHE), a,
	    sizeof a));
	report_page_card(f, "kpi-cache", "Uit de cache",
	    report_agg_total(agg, b, REPORT_CACHE),
	    report_fmt_pct(report_agg_total(agg, b, REPORT_CACHE), answered, v,
	    sizeof v), s);
	maxd = report_page_max_day(agg, b, REPORT_CLIENTS);
	if (maxd >= 0)
		snprintf(s, sizeof s, "gemiddeld per dag; hoogste: %s op %s%s",
		    report_fmt_int(b->day[maxd * REPORT_COLS + REPORT_CLIENTS],
		    a, sizeof a), report_fmt_date_short(agg->from + maxd, d,
		    sizeof d), b->summed ? " (bovengrens)" : "");
	else
		s[0] = '\0';
	report_page_card(f, "kpi-apparaten", "Apparaten per dag",
	    ndata > 0 ? (clients + (uint64_t)ndata / 2) / (uint64_t)ndata : 0,
	    report_fmt_int(ndata > 0 ? (clients + (uint64_t)ndata / 2) /
	    (uint64_t)ndata : 0, v, sizeof v), s);
	report_page_card(f, "kpi-safe-search", "Safe search",
	    report_agg_total(agg, b, REPORT_SAFE_SEARCH),
	    report_fmt_int(report_agg_total(agg, b, REPORT_SAFE_SEARCH), v,
	    sizeof v), "zoekopdrachten naar de veilige versie geleid");
	report_page_card(f, "kpi-canary", "Canary-antwoorden",
	    report_agg_total(agg, b, REPORT_CANARY),
	    report_fmt_int(report_agg_total(agg, b, REPORT_CANARY), v,
	    sizeof v), "keer DNS over HTTPS of Private Relay tegengehouden");
	fputs("</div>\n", f);
}

/* Blocked per category: the largest, and the rest as one bar. */
static void
report_page_categories(FILE *f, const struct report_board *b,
    uint64_t blocked)
{
	struct report_map_ent	**v;
	struct report_svg_bar	  bars[REPORT_PAGE_CATS + 1];
	char			  names[REPORT_PAGE_CATS][128];
	uint64_t		  sum = 0, rest = 0;
	size_t			  n, i, nb = 0;

	fputs("<section id=\"categorieen\">\n<h2>Geblokkeerd per categorie</h2>"
	    "\n", f);
	v = report_map_sorted(&b->cats, &n);
	for (i = 0; i < n; i++)
		sum += v[i]->n;
	if (sum == 0) {
		fputs("<p>In deze periode is niets geblokkeerd.</p>\n", f);
		free(v);
		fputs("</section>\n", f);
		return;
	}
	for (i = 0; i < n; i++) {
		if (v[i]->n == 0)
			continue;
		if (nb < REPORT_PAGE_CATS && (i + 1 == n ||
		    nb + 1 < REPORT_PAGE_CATS)) {
			bars[nb].label = report_fmt_category(v[i]->key,
			    names[nb], sizeof names[nb]);
			bars[nb].key = v[i]->key;
			bars[nb].v = v[i]->n;
			bars[nb].cls = strcmp(v[i]->key, "canary") == 0 ? "k-x" :
			    "k-b";
			nb++;
		} else
			rest += v[i]->n;
	}
	if (rest > 0) {
		bars[nb].label = "Overige categorieën";
		bars[nb].key = "";
		bars[nb].v = rest;
		bars[nb++].cls = "k-b";
	}
	fputs("<div class=\"box\">", f);
	report_svg_hbars(f, "categorieen", "Geblokkeerde antwoorden per "
	    "categorie", bars, nb, sum);
	fputs("</div>\n", f);
	if (sum != blocked) {
		char	a[REPORT_FMT_LEN], c[REPORT_FMT_LEN];

		fprintf(f, "<p class=\"note\">De categorieën tellen op tot %s; "
		    "%s antwoorden zijn geblokkeerd. Een antwoord kan om meer "
		    "dan één reden geblokkeerd zijn.</p>\n",
		    report_fmt_int(sum, a, sizeof a),
		    report_fmt_int(blocked, c, sizeof c));
	}
	free(v);
	fputs("</section>\n", f);
}

/* The named sites, and the rule that kept the others unnamed. */
static void
report_page_sites(FILE *f, struct report_agg *agg,
    const struct report_board *b, const struct report_page_ctx *ctx)
{
	struct report_map_ent	**v;
	char			  a[REPORT_FMT_LEN], c[128], iv[64];
	size_t			  n, i;
	int			  thr = report_agg_threshold(agg, b);

	fputs("<section id=\"sites\">\n<h2>Meest geblokkeerde sites</h2>\n", f);
	v = report_map_sorted(&b->sites, &n);
	if (n == 0)
		fputs("<p>Geen enkele site is vaak genoeg geblokkeerd om hier "
		    "bij naam genoemd te worden.</p>\n", f);
	else {
		fputs("<div class=\"box\"><table id=\"sites-tabel\">\n<thead><tr>"
		    "<th class=\"n\">#</th><th>Site</th><th class=\"cat\">Categorie</th>"
		    "<th class=\"n\">Geblokkeerd</th></tr></thead>\n<tbody>\n",
		    f);
		for (i = 0; i < n && i < ctx->top; i++) {
			fputs("<tr data-site=\"", f);
			report_svg_esc(f, v[i]->key);
			fprintf(f, "\"><td class=\"n\">%zu</td><td class=\"site\">",
			    i + 1);
			report_svg_esc(f, v[i]->key);
			/* On a phone the category goes under the site. */
			report_fmt_category(v[i]->str != NULL ? v[i]->str : "",
			    c, sizeof c);
			fputs("<span class=\"cat2\">", f);
			report_svg_esc(f, c);
			fputs("</span></td><td class=\"cat\">", f);
			report_svg_esc(f, c);
			fprintf(f, "</td><td class=\"n\" data-v=\"%llu\">%s</td>"
			    "</tr>\n", (unsigned long long)v[i]->n,
			    report_fmt_int(v[i]->n, a, sizeof a));
		}
		fputs("</tbody></table></div>\n", f);
	}
	fprintf(f, "<p id=\"k-regel\" data-k=\"%d\" data-hidden=\"%llu\">Een "
	    "site wordt alleen genoemd als hij binnen één meetinterval (van %s)"
	    " voor minstens <strong>%d verschillende apparaten</strong> is "
	    "geblokkeerd. Zo is uit deze lijst niet af te leiden wat één "
	    "leerling of medewerker deed. ", thr,
	    (unsigned long long)b->hidden,
	    report_page_interval(report_agg_interval(agg), iv, sizeof iv), thr);
	if (b->hidden > 0)
		fprintf(f, "%s geblokkeerde antwoorden gingen naar sites die "
		    "daar niet aan voldeden; die sites staan hier niet.",
		    report_fmt_int(b->hidden, a, sizeof a));
	fputs("</p>\n", f);
	if (n > ctx->top)
		fprintf(f, "<p class=\"note\">De %zu meest geblokkeerde van %zu "
		    "genoemde sites.</p>\n", ctx->top, n);
	free(v);
	fputs("</section>\n", f);
}

/* How the queries were answered, and how fast. */
static void
report_page_answers_part(FILE *f, struct report_agg *agg,
    const struct report_board *b)
{
	struct report_svg_bar	bars[REPORT_PAGE_NANSWERS];
	char			a[REPORT_FMT_LEN], p[REPORT_FMT_LEN];
	char			t1[REPORT_FMT_LEN], t2[REPORT_FMT_LEN];
	uint64_t		sum = 0;
	double			q50, q95;
	size_t			i;

	fputs("<section id=\"antwoorden\">\n<h2>Hoe de vragen beantwoord "
	    "zijn</h2>\n", f);
	for (i = 0; i < REPORT_PAGE_NANSWERS; i++) {
		bars[i].label = report_page_answers[i].label;
		bars[i].key = report_page_answers[i].key;
		bars[i].v = report_agg_total(agg, b, report_page_answers[i].col);
		bars[i].cls = report_page_answers[i].cls;
		sum += bars[i].v;
	}
	fputs("<div class=\"box\">", f);
	report_svg_stack(f, "antwoorden", "Antwoorden naar soort", bars,
	    REPORT_PAGE_NANSWERS);
	fputs("</div>\n<table id=\"antwoorden-tabel\"><tbody>\n", f);
	for (i = 0; i < REPORT_PAGE_NANSWERS; i++) {
		fprintf(f, "<tr data-k=\"%s\"><td><span class=\"sw %s\"></span>%s"
		    "</td><td class=\"n\" data-v=\"%llu\">%s</td><td class=\"n\">"
		    "%s</td></tr>\n", bars[i].key, bars[i].cls, bars[i].label,
		    (unsigned long long)bars[i].v,
		    report_fmt_int(bars[i].v, a, sizeof a),
		    report_fmt_pct(bars[i].v, sum, p, sizeof p));
	}
	fputs("</tbody></table>\n", f);
	q50 = report_agg_quantile(agg, b->lat_cache, 0.5);
	q95 = report_agg_quantile(agg, b->lat_cache, 0.95);
	if (q50 >= 0 && isfinite(q95))
		fprintf(f, "<p>Antwoorden uit de cache: de helft binnen %s, 95"
		    REPORT_FMT_NBSP "%% binnen %s.", report_fmt_seconds(q50, t1,
		    sizeof t1), report_fmt_seconds(q95, t2, sizeof t2));
	q50 = report_agg_quantile(agg, b->lat_fwd, 0.5);
	q95 = report_agg_quantile(agg, b->lat_fwd, 0.95);
	if (q50 >= 0 && isfinite(q95))
		fprintf(f, " Opgezochte antwoorden: de helft binnen %s, 95"
		    REPORT_FMT_NBSP "%% binnen %s.", report_fmt_seconds(q50, t1,
		    sizeof t1), report_fmt_seconds(q95, t2, sizeof t2));
	fputs("</p>\n</section>\n", f);
}

/* Everything a board's page shows, for a board or for all of them. */
static void
report_page_figures(FILE *f, struct report_agg *agg,
    const struct report_board *b, const struct report_page_ctx *ctx)
{
	char		a[REPORT_FMT_LEN];
	uint64_t	blocked = report_agg_total(agg, b, REPORT_BLOCKED);

	report_page_cards(f, agg, b);

	fputs("<section id=\"per-dag\">\n<h2>Vragen en blokkades per dag</h2>\n"
	    "<h3>Vragen</h3><div class=\"box\">", f);
	report_page_days(f, agg, "vragen", "Vragen per dag",
	    &(struct report_svg_series){ b->day + REPORT_QUERIES, REPORT_COLS,
	    "k-q", "vragen" });
	fputs("</div>\n<h3>Geblokkeerde antwoorden</h3><div class=\"box\">", f);
	report_page_days(f, agg, "geblokkeerd", "Geblokkeerde antwoorden per "
	    "dag", &(struct report_svg_series){ b->day + REPORT_BLOCKED,
	    REPORT_COLS, "k-b", "geblokkeerd" });
	fputs("</div>\n</section>\n", f);

	report_page_categories(f, b, blocked);
	report_page_sites(f, agg, b, ctx);

	fputs("<section id=\"apparaten\">\n<h2>Verschillende apparaten per dag"
	    "</h2>\n<div class=\"box\">", f);
	report_page_days(f, agg, "apparaten", b->summed ? "Verschillende "
	    "apparaten per dag (bovengrens)" : "Verschillende apparaten per dag",
	    &(struct report_svg_series){ b->day + REPORT_CLIENTS, REPORT_COLS,
	    "k-cl", "apparaten" });
	fputs("</div>\n<p class=\"note\" id=\"apparaten-uitleg\">Het aantal "
	    "verschillende apparaten is een schatting, geteld zonder adressen "
	    "te bewaren.", f);
	if (b->summed)
		fputs(" <strong>Dit is een bovengrens:</strong> de cijfers van "
		    "meer dan één server (of van voor en na een herstart) zijn "
		    "bij elkaar opgeteld, en een apparaat dat bij twee servers "
		    "vroeg, telt dan twee keer. Het echte aantal ligt tussen het "
		    "grootste deel en deze som.", f);
	fputs("</p>\n</section>\n", f);

	report_page_answers_part(f, agg, b);

	fputs("<section id=\"safe-search\">\n<h2>Safe search en DNS over HTTPS"
	    "</h2>\n", f);
	fprintf(f, "<p><strong data-v=\"%llu\">%s</strong> zoekopdrachten bij "
	    "Google, YouTube, Bing of DuckDuckGo zijn naar de veilige versie "
	    "van de zoekmachine geleid.</p>\n<div class=\"box\">",
	    (unsigned long long)report_agg_total(agg, b, REPORT_SAFE_SEARCH),
	    report_fmt_int(report_agg_total(agg, b, REPORT_SAFE_SEARCH), a,
	    sizeof a));
	report_page_days(f, agg, "safe-search", "Safe search per dag",
	    &(struct report_svg_series){ b->day + REPORT_SAFE_SEARCH,
	    REPORT_COLS, "k-r", "keer safe search" });
	fprintf(f, "</div>\n<p><strong data-v=\"%llu\">%s</strong> keer vroeg "
	    "een apparaat of het DNS over HTTPS (of iCloud Private Relay) mocht "
	    "aanzetten, en kreeg het antwoord dat dat hier niet kan (een "
	    "canary-antwoord). Zo blijft het filter werken. Dit telt vragen, "
	    "niet apparaten: één apparaat vraagt het vaker.</p>\n"
	    "<div class=\"box\">",
	    (unsigned long long)report_agg_total(agg, b, REPORT_CANARY),
	    report_fmt_int(report_agg_total(agg, b, REPORT_CANARY), a,
	    sizeof a));
	report_page_days(f, agg, "canary", "Canary-antwoorden per dag",
	    &(struct report_svg_series){ b->day + REPORT_CANARY, REPORT_COLS,
	    "k-x", "canary-antwoorden" });
	fputs("</div>\n</section>\n", f);
}

/* The nodes the figures came from: "ns1 en ns2". */
static void
report_page_nodes(FILE *f, const struct report_agg *agg)
{
	struct report_map_ent	**v;
	size_t			  n, i;

	v = report_map_sorted(&agg->nodes, &n);
	fprintf(f, "%zu server%s", n, n == 1 ? "" : "s");
	for (i = 0; i < n; i++) {
		fputs(i == 0 ? " (" : i + 1 == n ? " en " : ", ", f);
		report_svg_esc(f, v[i]->key);
	}
	if (n > 0)
		fputc(')', f);
	free(v);
}

/* What the figures rest on: period, nodes, skipped lines, privacy. */
static void
report_page_about(FILE *f, struct report_agg *agg,
    const struct report_board *b, uint64_t corrupt,
    const struct report_page_ctx *ctx)
{
	char	a[REPORT_FMT_LEN], p[128];

	fputs("<section id=\"over\">\n<h2>Over deze cijfers</h2>\n<p>", f);
	fprintf(f, "Periode: %s (%ld dagen, waarvan %ld met gegevens). "
	    "Bron: de statistieken van ", report_fmt_period(agg->from, agg->to,
	    p, sizeof p), agg->ndays, report_page_days_with_data(agg, b));
	report_page_nodes(f, agg);
	fputs(".</p>\n", f);
	fprintf(f, "<p id=\"corrupt\" data-v=\"%llu\">", (unsigned long long)
	    corrupt);
	if (corrupt > 0)
		fprintf(f, "<strong>%s beschadigde regel%s</strong> in de "
		    "statistiekbestanden %s overgeslagen; de cijfers kunnen "
		    "daardoor iets te laag zijn.", report_fmt_int(corrupt, a,
		    sizeof a), corrupt == 1 ? "" : "s", corrupt == 1 ? "is" :
		    "zijn");
	else
		fputs("Alle regels in de statistiekbestanden waren leesbaar.",
		    f);
	fputs("</p>\n", f);
	if (agg->le_mismatch > 0)
		fprintf(f, "<p>%s histogrammen met andere grenzen zijn niet "
		    "meegeteld in de antwoordtijden.</p>\n", report_fmt_int(
		    agg->le_mismatch, a, sizeof a));
	fprintf(f, "<p>Deze cijfers zijn geteld zonder IP-adressen of "
	    "afzonderlijke vragen te bewaren: er staat niets in waaraan één "
	    "leerling of medewerker te herkennen is.</p>\n</section>\n"
	    "<footer>Gemaakt op %s door veilig-report.</footer>\n",
	    report_fmt_date(ctx->made, a, sizeof a));
}

/* ------------------------------------------------------------ pages */

int
report_page_board(struct report_agg *agg, const struct report_board *b,
    const struct report_page_ctx *ctx, char **cause)
{
	struct report_page_file	pf;
	char			name[PATH_MAX], title[512], p[128];

	report_page_name(b->id, name, sizeof name);
	if (report_page_open(&pf, ctx->outdir, name, cause) == -1)
		return (-1);
	snprintf(title, sizeof title, "Veilig internet: %s, %s", b->name,
	    report_fmt_period(agg->from, agg->to, p, sizeof p));
	report_page_head(pf.f, title);
	fputs("<header><h1>Veilig internet: ", pf.f);
	report_svg_esc(pf.f, b->name);
	fprintf(pf.f, "</h1><p>Wat het filter deed voor de scholen van het "
	    "bestuur, %s.</p></header>\n", p);
	report_page_figures(pf.f, agg, b, ctx);
	report_page_about(pf.f, agg, b, b->corrupt + agg->corrupt_anon, ctx);
	fputs("</main>\n</body>\n</html>\n", pf.f);
	return (report_page_close(&pf, cause));
}

/* Boards ranked by queries: a chart of the largest, a table of all. */
static void
report_page_boards(FILE *f, struct report_agg *agg,
    const struct report_page_ctx *ctx)
{
	struct report_board	**v, *t;
	struct report_svg_bar	  bars[REPORT_PAGE_BOARDS];
	char			  name[PATH_MAX], a[REPORT_FMT_LEN];
	char			  c[REPORT_FMT_LEN], p[REPORT_FMT_LEN];
	char			  d[REPORT_FMT_LEN];
	uint64_t		 *q, total = 0, x, cl;
	size_t			  i, j, n = agg->nboards;
	long			  nd;

	/* Sort by total queries (insertion sort on a copy: n is small). */
	v = report_mem_calloc(n, sizeof *v);
	q = report_mem_calloc(n, sizeof *q);
	for (i = 0; i < n; i++) {
		v[i] = agg->boards[i];
		q[i] = report_agg_total(agg, v[i], REPORT_QUERIES);
		total += q[i];
	}
	for (i = 1; i < n; i++) {
		for (j = i; j > 0 && (q[j - 1] < q[j] || (q[j - 1] == q[j] &&
		    strcmp(v[j - 1]->id, v[j]->id) > 0)); j--) {
			t = v[j];
			v[j] = v[j - 1];
			v[j - 1] = t;
			x = q[j];
			q[j] = q[j - 1];
			q[j - 1] = x;
		}
	}
	fprintf(f, "<section id=\"besturen\">\n<h2>Besturen naar aantal vragen"
	    "</h2>\n<p>%zu besturen stelden in deze periode vragen.</p>\n"
	    "<div class=\"box\">", n);
	for (i = 0; i < n && i < REPORT_PAGE_BOARDS; i++) {
		bars[i].label = v[i]->name;
		bars[i].key = v[i]->id;
		bars[i].v = q[i];
		bars[i].cls = "k-q";
	}
	report_svg_hbars(f, "besturen", "Vragen per bestuur", bars,
	    i, total);
	fputs("</div>\n<div class=\"box\"><table id=\"besturen-tabel\">\n<thead>"
	    "<tr><th class=\"n\">#</th><th>Bestuur</th><th class=\"n\">Vragen"
	    "</th><th class=\"n\">Geblokkeerd</th><th class=\"n\">Apparaten "
	    "per dag</th></tr></thead>\n<tbody>\n", f);
	for (i = 0; i < n; i++) {
		x = report_agg_total(agg, v[i], REPORT_BLOCKED);
		nd = report_page_days_with_data(agg, v[i]);
		cl = report_agg_total(agg, v[i], REPORT_CLIENTS);
		fputs("<tr data-board=\"", f);
		report_svg_esc(f, v[i]->id);
		fprintf(f, "\"><td class=\"n\">%zu</td><td>", i + 1);
		if (ctx->links) {
			report_page_name(v[i]->id, name, sizeof name);
			fputs("<a href=\"", f);
			report_svg_esc(f, name);
			fputs("\">", f);
		}
		report_svg_esc(f, v[i]->name);
		fprintf(f, "%s</td><td class=\"n\" data-v=\"%llu\">%s</td>"
		    "<td class=\"n\" data-v=\"%llu\">%s (%s)</td>"
		    "<td class=\"n\">%s</td></tr>\n", ctx->links ? "</a>" : "",
		    (unsigned long long)q[i], report_fmt_int(q[i], a, sizeof a),
		    (unsigned long long)x, report_fmt_int(x, c, sizeof c),
		    report_fmt_pct(x, q[i], p, sizeof p),
		    report_fmt_int(nd > 0 ? (cl + (uint64_t)nd / 2) /
		    (uint64_t)nd : 0, d, sizeof d));
	}
	fputs("</tbody></table></div>\n</section>\n", f);
	free(v);
	free(q);
}

/* A tally as bars: the largest, then the rest as one. */
static void
report_page_tally(FILE *f, const char *id, const char *title,
    const struct report_map *m, int countries, uint64_t total)
{
	struct report_map_ent	**v;
	struct report_svg_bar	  bars[REPORT_PAGE_GEO + 1];
	char			  names[REPORT_PAGE_GEO][64];
	uint64_t		  rest = 0;
	size_t			  n, i, nb = 0;

	v = report_map_sorted(m, &n);
	for (i = 0; i < n; i++) {
		if (nb < REPORT_PAGE_GEO && (i + 1 == n ||
		    nb + 1 < REPORT_PAGE_GEO)) {
			if (countries)
				snprintf(names[nb], sizeof names[nb], "%s",
				    report_fmt_country(v[i]->key));
			else if (strcmp(v[i]->key, "unknown") == 0)
				snprintf(names[nb], sizeof names[nb],
				    "onbekend");
			else if (strcmp(v[i]->key, "other") == 0)
				/* ASes beyond those a record keeps. */
				snprintf(names[nb], sizeof names[nb],
				    "overige netwerken");
			else
				snprintf(names[nb], sizeof names[nb], "AS%s",
				    v[i]->key);
			bars[nb].label = names[nb];
			bars[nb].key = v[i]->key;
			bars[nb].v = v[i]->n;
			bars[nb++].cls = "k-x";
		} else
			rest += v[i]->n;
	}
	if (rest > 0) {
		bars[nb].label = "overige";
		bars[nb].key = "";
		bars[nb].v = rest;
		bars[nb++].cls = "k-x";
	}
	fputs("<div class=\"box\">", f);
	report_svg_hbars(f, id, title, bars, nb, total);
	fputs("</div>\n", f);
	free(v);
}

/* Queries from addresses of no board. */
static void
report_page_outside(FILE *f, struct report_agg *agg)
{
	char		a[REPORT_FMT_LEN], b[REPORT_FMT_LEN];
	uint64_t	q = 0, r = 0;
	long		i;

	for (i = 0; i < agg->ndays; i++) {
		q += agg->out_day[i * 2];
		r += agg->out_day[i * 2 + 1];
	}
	fprintf(f, "<section id=\"buiten\">\n<h2>Vragen van buiten de besturen"
	    "</h2>\n<p>Vragen van adressen die bij geen bestuur horen, worden "
	    "geweigerd (REFUSED). Het waren er <strong id=\"buiten-vragen\" "
	    "data-v=\"%llu\">%s</strong>, waarvan <strong id=\"buiten-geweigerd\""
	    " data-v=\"%llu\">%s</strong> geweigerd. Van zulke vragen wordt "
	    "alleen het land en het netwerk (AS) geteld, nooit het adres.</p>\n"
	    "<div class=\"box\">", (unsigned long long)q,
	    report_fmt_int(q, a, sizeof a), (unsigned long long)r,
	    report_fmt_int(r, b, sizeof b));
	report_page_days(f, agg, "buiten", "Geweigerde vragen per dag",
	    &(struct report_svg_series){ agg->out_day + 1, 2, "k-x",
	    "geweigerd" });
	fputs("</div>\n<h3>Naar land</h3>\n", f);
	if (agg->out_country.len == 0)
		fputs("<p class=\"note\">Geen landen geteld (geen database met "
		    "landen ingesteld, of geen vragen).</p>\n", f);
	else
		report_page_tally(f, "landen", "Vragen van buiten naar land",
		    &agg->out_country, 1, q);
	fputs("<h3>Naar netwerk (AS)</h3>\n", f);
	if (agg->out_as.len == 0)
		fputs("<p class=\"note\">Geen netwerken geteld (geen database "
		    "met AS-nummers ingesteld, of geen vragen).</p>\n", f);
	else
		report_page_tally(f, "as", "Vragen van buiten naar netwerk",
		    &agg->out_as, 0, q);
	fputs("</section>\n", f);
}

/* Each upstream's round-trip times as a histogram. */
static void
report_page_rtt(FILE *f, struct report_agg *agg)
{
	struct report_svg_bar	 bars[REPORT_BUCKETS];
	char			 labels[REPORT_BUCKETS][32], t[REPORT_FMT_LEN];
	char			 id[32], title[300];
	struct report_upstream	*u;
	size_t			 i, j;

	if (!agg->have_le)
		return;
	for (j = 0; j < REPORT_BUCKETS; j++) {
		if (isfinite(agg->le[j]))
			snprintf(labels[j], sizeof labels[j],
			    "≤" REPORT_FMT_NBSP "%s", report_fmt_seconds(
			    agg->le[j], t, sizeof t));
		else
			snprintf(labels[j], sizeof labels[j],
			    ">" REPORT_FMT_NBSP "%s", report_fmt_seconds(
			    agg->le[j - 1], t, sizeof t));
		bars[j].label = labels[j];
		bars[j].key = NULL;
		bars[j].cls = "k-f";
	}
	for (i = 0; i < agg->nups; i++) {
		u = agg->ups[i];
		for (j = 0; j < REPORT_BUCKETS; j++)
			bars[j].v = u->rtt[j];
		fputs("<h3>Antwoordtijd van ", f);
		report_svg_esc(f, u->name);
		fputs("</h3><div class=\"box\">", f);
		snprintf(id, sizeof id, "rtt-%zu", i + 1);
		snprintf(title, sizeof title, "Antwoordtijd van %s", u->name);
		report_svg_columns(f, id, title, bars, REPORT_BUCKETS,
		    "antwoorden");
		fputs("</div>\n", f);
	}
}

/* The upstreams: health in a table, latency as a histogram each. */
static void
report_page_upstreams(FILE *f, struct report_agg *agg)
{
	char			 a[6][REPORT_FMT_LEN];
	struct report_upstream	*u;
	uint64_t		 tot[REPORT_UP_COLS], *tout;
	double			 q50, q95;
	size_t			 i, j;
	long			 d;

	fputs("<section id=\"upstreams\">\n<h2>Upstreams</h2>\n", f);
	if (agg->nups == 0) {
		fputs("<p>Geen gegevens over upstreams in deze periode.</p>\n"
		    "</section>\n", f);
		return;
	}
	fputs("<div class=\"box\"><table id=\"upstreams-tabel\">\n<thead><tr>"
	    "<th>Upstream</th><th class=\"n\">Vragen</th><th class=\"n\">"
	    "Time-outs</th><th class=\"n\">Fouten</th><th class=\"n\">"
	    "Niet passend</th><th class=\"n\">Via TCP</th><th class=\"n\">"
	    "Mediaan</th><th class=\"n\">95" REPORT_FMT_NBSP "%</th></tr>"
	    "</thead>\n<tbody>\n", f);
	tout = report_mem_calloc(agg->ndays, sizeof *tout);
	for (i = 0; i < agg->nups; i++) {
		u = agg->ups[i];
		memset(tot, 0, sizeof tot);
		for (d = 0; d < agg->ndays; d++) {
			for (j = 0; j < REPORT_UP_COLS; j++)
				tot[j] += u->day[d * REPORT_UP_COLS + j];
			tout[d] += u->day[d * REPORT_UP_COLS +
			    REPORT_UP_TIMEOUTS];
		}
		q50 = report_agg_quantile(agg, u->rtt, 0.5);
		q95 = report_agg_quantile(agg, u->rtt, 0.95);
		fputs("<tr data-upstream=\"", f);
		report_svg_esc(f, u->name);
		fputs("\"><td>", f);
		report_svg_esc(f, u->name);
		fprintf(f, "</td><td class=\"n\" data-v=\"%llu\">%s</td>"
		    "<td class=\"n\" data-v=\"%llu\">%s (%s)</td>"
		    "<td class=\"n\" data-v=\"%llu\">%s</td>"
		    "<td class=\"n\" data-v=\"%llu\">%s</td>"
		    "<td class=\"n\" data-v=\"%llu\">%s</td>",
		    (unsigned long long)tot[REPORT_UP_QUERIES],
		    report_fmt_int(tot[REPORT_UP_QUERIES], a[0], sizeof a[0]),
		    (unsigned long long)tot[REPORT_UP_TIMEOUTS],
		    report_fmt_int(tot[REPORT_UP_TIMEOUTS], a[1], sizeof a[1]),
		    report_fmt_pct(tot[REPORT_UP_TIMEOUTS],
		    tot[REPORT_UP_QUERIES], a[2], sizeof a[2]),
		    (unsigned long long)tot[REPORT_UP_ERRORS],
		    report_fmt_int(tot[REPORT_UP_ERRORS], a[3], sizeof a[3]),
		    (unsigned long long)tot[REPORT_UP_MISMATCHED],
		    report_fmt_int(tot[REPORT_UP_MISMATCHED], a[4],
		    sizeof a[4]),
		    (unsigned long long)tot[REPORT_UP_TCP],
		    report_fmt_int(tot[REPORT_UP_TCP], a[5], sizeof a[5]));
		fprintf(f, "<td class=\"n\">%s%s</td><td class=\"n\">%s%s</td>"
		    "</tr>\n", q50 >= 0 ? "≤" REPORT_FMT_NBSP : "",
		    q50 < 0 ? "–" : isfinite(q50) ? report_fmt_seconds(q50,
		    a[0], sizeof a[0]) : "meer",
		    q95 >= 0 ? "≤" REPORT_FMT_NBSP : "",
		    q95 < 0 ? "–" : isfinite(q95) ? report_fmt_seconds(q95,
		    a[1], sizeof a[1]) : "meer");
	}
	fputs("</tbody></table></div>\n<p class=\"note\">Niet passend: "
	    "antwoorden van het verkeerde adres, met het verkeerde ID of op een "
	    "andere vraag (mogelijke vervalsing), weggegooid. Mediaan en 95"
	    REPORT_FMT_NBSP "%: de tijd waarbinnen de helft en 95" REPORT_FMT_NBSP
	    "% van de antwoorden van de upstream kwam, als grens van het "
	    "histogramvak.</p>\n<h3>Time-outs per dag (alle upstreams)</h3>"
	    "<div class=\"box\">", f);
	report_page_days(f, agg, "upstream-timeouts", "Time-outs van upstreams "
	    "per dag", &(struct report_svg_series){ tout, 1, "k-b",
	    "time-outs" });
	fputs("</div>\n", f);
	free(tout);

	report_page_rtt(f, agg);
	fputs("</section>\n", f);
}

int
report_page_service(struct report_agg *agg, const struct report_page_ctx *ctx,
    char **cause)
{
	struct report_page_file	 pf;
	struct report_board	*all;
	char			 title[256], p[128];
	int			 r;

	if (report_page_open(&pf, ctx->outdir, "dienst.html", cause) == -1)
		return (-1);
	all = report_agg_all(agg);
	snprintf(title, sizeof title, "Veilig internet: de hele dienst, %s",
	    report_fmt_period(agg->from, agg->to, p, sizeof p));
	report_page_head(pf.f, title);
	fprintf(pf.f, "<header><h1>Veilig internet: de hele dienst</h1>"
	    "<p>Alle besturen samen, %s.</p></header>\n", p);
	report_page_figures(pf.f, agg, all, ctx);
	report_page_boards(pf.f, agg, ctx);
	report_page_outside(pf.f, agg);
	report_page_upstreams(pf.f, agg);
	report_page_about(pf.f, agg, all, agg->corrupt, ctx);
	fputs("</main>\n</body>\n</html>\n", pf.f);
	r = report_page_close(&pf, cause);
	report_agg_board_free(all);
	return (r);
}
