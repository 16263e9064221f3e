/*
 * report_svg.c: charts as inline SVG (see report_svg.h).
 *
 * Geometry is in viewBox units. Charts over days are 640 wide: on a phone
 * they sit in a box that scrolls sideways below 30rem (see the page's
 * style), so their 12-unit text never shrinks below about 9 pixels.
 * Horizontal bars are a table whose rows hold the label and the value as
 * text and the bar as a small SVG stretched to its cell: the text wraps
 * and keeps its size on a phone, which a single SVG's text cannot.
 */
#include <math.h>
#include <string.h>

#include "report_date.h"
#include "report_fmt.h"
#include "report_svg.h"

#define REPORT_SVG_W		640
#define REPORT_SVG_LEFT		58	/* room for the y labels */
#define REPORT_SVG_RIGHT	8
#define REPORT_SVG_TOP		10
#define REPORT_SVG_BOTTOM	26	/* room for the x labels */

void
report_svg_esc(FILE *f, const char *s)
{
	for (; *s != '\0'; s++) {
		switch (*s) {
		case '&':
			fputs("&amp;", f);
			break;
		case '<':
			fputs("&lt;", f);
			break;
		case '>':
			fputs("&gt;", f);
			break;
		case '"':
			fputs("&quot;", f);
			break;
		case '\'':
			fputs("&#39;", f);
			break;
		default:
			fputc(*s, f);
		}
	}
}

/* A round step for about four grid lines up to max; *top the last line. */
static double
report_svg_step(double max, double *top)
{
	double	raw, mag, norm, step;

	if (max <= 0) {
		*top = 1;
		return (1);
	}
	raw = max / 4;
	mag = pow(10, floor(log10(raw)));
	norm = raw / mag;
	step = (norm <= 1 ? 1 : norm <= 2 ? 2 : norm <= 5 ? 5 : 10) * mag;
	if (step < 1)
		step = 1;
	*top = ceil(max / step) * step;
	return (step);
}

/* The opening of a chart: its element, title and description. */
static void
report_svg_open(FILE *f, const char *cls, const char *id, const char *title,
    int w, int h)
{
	fprintf(f, "<svg class=\"chart %s\" data-chart=\"%s\" "
	    "viewBox=\"0 0 %d %d\" role=\"img\" aria-labelledby=\"t-%s\" "
	    "xmlns=\"http://www.w3.org/2000/svg\">"
	    "<title id=\"t-%s\">", cls, id, w, h, id, id);
	report_svg_esc(f, title);
	fputs("</title>\n", f);
}

/* Grid lines with their values, for a plot from y0 (bottom) up ph high. */
static void
report_svg_grid(FILE *f, double top, double step, double y0, double ph)
{
	char	b[REPORT_FMT_LEN];
	double	v, y;

	for (v = 0; v <= top + step / 2; v += step) {
		y = y0 - v / top * ph;
		fprintf(f, "<line class=\"grid\" x1=\"%d\" x2=\"%d\" y1=\"%.1f\" "
		    "y2=\"%.1f\"/><text class=\"ylab\" x=\"%d\" y=\"%.1f\">%s"
		    "</text>\n", REPORT_SVG_LEFT, REPORT_SVG_W - REPORT_SVG_RIGHT,
		    y, y, REPORT_SVG_LEFT - 6, y + 4,
		    report_fmt_short(v, b, sizeof b));
	}
}

/* Whether day i of the chart gets an x label, and which. */
static int
report_svg_xlabel(long day, long i, long ndays, char *buf, size_t len)
{
	int	y, m, d;

	report_date_to_civil(day, &y, &m, &d);
	if (ndays <= 14) {
		report_fmt_date_short(day, buf, len);
		return (1);
	}
	if (ndays <= 62) {
		/* Mondays, and the first day if the period starts mid-week. */
		if (report_date_weekday(day) != 0 && i != 0)
			return (0);
		if (i == 0 && report_date_weekday(day) >= 4)
			return (0);	/* too close to the next Monday */
		report_fmt_date_short(day, buf, len);
		return (1);
	}
	if (d != 1)
		return (0);
	if (m == 1 || i < 28)
		snprintf(buf, len, "%s %d", report_fmt_month_abbr(m), y);
	else
		snprintf(buf, len, "%s", report_fmt_month_abbr(m));
	return (1);
}

void
report_svg_days(FILE *f, const char *id, const char *title,
    const struct report_svg_series *s, long from, long ndays)
{
	const uint64_t	*v = s->v;
	const size_t	 stride = s->stride;
	const char	*cls = s->cls, *unit = s->unit;
	const int	 h = 210;
	const double	 pw = REPORT_SVG_W - REPORT_SVG_LEFT - REPORT_SVG_RIGHT;
	const double	 y0 = h - REPORT_SVG_BOTTOM;
	const double	 ph = y0 - REPORT_SVG_TOP;
	char		 b[REPORT_FMT_LEN], d[REPORT_FMT_LEN], iso[16];
	double		 max = 0, top, step, bw, gap, x, bh;
	long		 i;

	for (i = 0; i < ndays; i++)
		if ((double)v[i * stride] > max)
			max = (double)v[i * stride];
	step = report_svg_step(max, &top);
	bw = pw / (double)ndays;
	gap = bw > 4 ? bw * 0.18 : 0;

	report_svg_open(f, "days", id, title, REPORT_SVG_W, h);
	/* Weekends shaded when days are wide enough to see it. */
	if (ndays <= 62) {
		for (i = 0; i < ndays; i++) {
			if (report_date_weekday(from + i) < 5)
				continue;
			fprintf(f, "<rect class=\"weekend\" x=\"%.2f\" y=\"%d\" "
			    "width=\"%.2f\" height=\"%.1f\"/>",
			    REPORT_SVG_LEFT + bw * (double)i, REPORT_SVG_TOP, bw,
			    ph);
		}
		fputc('\n', f);
	}
	report_svg_grid(f, top, step, y0, ph);
	for (i = 0; i < ndays; i++) {
		x = REPORT_SVG_LEFT + bw * (double)i + gap / 2;
		bh = (double)v[i * stride] / top * ph;
		report_date_iso(from + i, iso, sizeof iso);
		fprintf(f, "<rect class=\"bar %s\" x=\"%.2f\" y=\"%.2f\" "
		    "width=\"%.2f\" height=\"%.2f\" data-d=\"%s\" "
		    "data-v=\"%llu\"><title>%s %s: %s %s</title></rect>\n",
		    cls, x, y0 - bh, bw - gap, bh, iso,
		    (unsigned long long)v[i * stride],
		    report_fmt_weekday(from + i),
		    report_fmt_date(from + i, d, sizeof d),
		    report_fmt_int(v[i * stride], b, sizeof b), unit);
	}
	for (i = 0; i < ndays; i++) {
		if (!report_svg_xlabel(from + i, i, ndays, b, sizeof b))
			continue;
		fprintf(f, "<text class=\"xlab\" x=\"%.1f\" y=\"%d\">%s</text>",
		    REPORT_SVG_LEFT + bw * (double)i, h - 8, b);
	}
	fprintf(f, "\n<line class=\"axis\" x1=\"%d\" x2=\"%d\" y1=\"%.1f\" "
	    "y2=\"%.1f\"/></svg>\n", REPORT_SVG_LEFT,
	    REPORT_SVG_W - REPORT_SVG_RIGHT, y0, y0);
}

void
report_svg_hbars(FILE *f, const char *id, const char *title,
    const struct report_svg_bar *bars, size_t n, uint64_t total)
{
	char		 b[REPORT_FMT_LEN], p[REPORT_FMT_LEN];
	uint64_t	 max = 0;
	size_t		 i;

	for (i = 0; i < n; i++)
		if (bars[i].v > max)
			max = bars[i].v;
	fprintf(f, "<table class=\"chart hbars\" data-chart=\"%s\" "
	    "aria-label=\"", id);
	report_svg_esc(f, title);
	fputs("\">\n", f);
	for (i = 0; i < n; i++) {
		fputs("<tr><th scope=\"row\">", f);
		report_svg_esc(f, bars[i].label);
		/* The bar is drawn in a 0-100 box stretched to the cell. */
		fprintf(f, "</th><td class=\"hb\"><svg viewBox=\"0 0 100 10\" "
		    "preserveAspectRatio=\"none\" aria-hidden=\"true\" "
		    "xmlns=\"http://www.w3.org/2000/svg\"><rect class=\"bar %s\" "
		    "width=\"%.3f\" height=\"10\" data-v=\"%llu\"",
		    bars[i].cls != NULL ? bars[i].cls : "",
		    max == 0 ? 0.0 : (double)bars[i].v / (double)max * 100.0,
		    (unsigned long long)bars[i].v);
		if (bars[i].key != NULL) {
			fputs(" data-k=\"", f);
			report_svg_esc(f, bars[i].key);
			fputc('"', f);
		}
		fprintf(f, "/></svg></td><td class=\"n\">%s",
		    report_fmt_int(bars[i].v, b, sizeof b));
		if (total > 0)
			fprintf(f, " <span class=\"pct\">(%s)</span>",
			    report_fmt_pct(bars[i].v, total, p, sizeof p));
		fputs("</td></tr>\n", f);
	}
	fputs("</table>\n", f);
}

void
report_svg_stack(FILE *f, const char *id, const char *title,
    const struct report_svg_bar *bars, size_t n)
{
	const double	 pw = REPORT_SVG_W - 2;
	char		 b[REPORT_FMT_LEN], p[REPORT_FMT_LEN];
	uint64_t	 sum = 0;
	double		 x = 1, w;
	size_t		 i;

	for (i = 0; i < n; i++)
		sum += bars[i].v;
	report_svg_open(f, "stack", id, title, REPORT_SVG_W, 40);
	for (i = 0; i < n; i++) {
		w = sum == 0 ? 0 : (double)bars[i].v / (double)sum * pw;
		fprintf(f, "<rect class=\"bar %s\" x=\"%.2f\" y=\"4\" "
		    "width=\"%.2f\" height=\"32\" data-v=\"%llu\"",
		    bars[i].cls != NULL ? bars[i].cls : "", x, w,
		    (unsigned long long)bars[i].v);
		if (bars[i].key != NULL) {
			fputs(" data-k=\"", f);
			report_svg_esc(f, bars[i].key);
			fputc('"', f);
		}
		fputs("><title>", f);
		report_svg_esc(f, bars[i].label);
		fprintf(f, ": %s (%s)</title></rect>\n",
		    report_fmt_int(bars[i].v, b, sizeof b),
		    report_fmt_pct(bars[i].v, sum, p, sizeof p));
		x += w;
	}
	fputs("</svg>\n", f);
}

void
report_svg_columns(FILE *f, const char *id, const char *title,
    const struct report_svg_bar *bars, size_t n, const char *unit)
{
	const int	 h = 230, bottom = 70;
	const double	 pw = REPORT_SVG_W - REPORT_SVG_LEFT - REPORT_SVG_RIGHT;
	const double	 y0 = h - bottom, ph = y0 - REPORT_SVG_TOP;
	char		 b[REPORT_FMT_LEN];
	double		 max = 0, top, step, bw, x, bh;
	size_t		 i;

	for (i = 0; i < n; i++)
		if ((double)bars[i].v > max)
			max = (double)bars[i].v;
	step = report_svg_step(max, &top);
	bw = n > 0 ? pw / (double)n : pw;
	report_svg_open(f, "columns", id, title, REPORT_SVG_W, h);
	report_svg_grid(f, top, step, y0, ph);
	for (i = 0; i < n; i++) {
		x = REPORT_SVG_LEFT + bw * (double)i;
		bh = (double)bars[i].v / top * ph;
		fprintf(f, "<rect class=\"bar %s\" x=\"%.2f\" y=\"%.2f\" "
		    "width=\"%.2f\" height=\"%.2f\" data-v=\"%llu\"><title>",
		    bars[i].cls != NULL ? bars[i].cls : "", x + bw * 0.1,
		    y0 - bh, bw * 0.8, bh, (unsigned long long)bars[i].v);
		report_svg_esc(f, bars[i].label);
		fprintf(f, ": %s %s</title></rect>", report_fmt_int(bars[i].v,
		    b, sizeof b), unit);
		/* The label slanted, its end under the column's middle. */
		fprintf(f, "<text class=\"clab\" transform=\"translate(%.1f %.1f) "
		    "rotate(-40)\">", x + bw / 2 + 4, y0 + 14);
		report_svg_esc(f, bars[i].label);
		fputs("</text>\n", f);
	}
	fprintf(f, "<line class=\"axis\" x1=\"%d\" x2=\"%d\" y1=\"%.1f\" "
	    "y2=\"%.1f\"/></svg>\n", REPORT_SVG_LEFT,
	    REPORT_SVG_W - REPORT_SVG_RIGHT, y0, y0);
}
