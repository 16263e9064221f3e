/*
 * report_fmt.c: numbers and dates written the Dutch way (see report_fmt.h).
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "report_date.h"
#include "report_fmt.h"

static const char *report_fmt_months[12] = {
	"januari", "februari", "maart", "april", "mei", "juni", "juli",
	"augustus", "september", "oktober", "november", "december"
};
static const char *report_fmt_abbr[12] = {
	"jan", "feb", "mrt", "apr", "mei", "jun", "jul", "aug", "sep", "okt",
	"nov", "dec"
};
static const char *report_fmt_days[7] = {
	"maandag", "dinsdag", "woensdag", "donderdag", "vrijdag", "zaterdag",
	"zondag"
};

const char *
report_fmt_int(uint64_t v, char *buf, size_t len)
{
	char	digits[24], out[32];
	size_t	n, i, o;

	n = (size_t)snprintf(digits, sizeof digits, "%llu",
	    (unsigned long long)v);
	/* A dot before every group of three counted from the right. */
	for (i = 0, o = 0; i < n; i++) {
		if (i > 0 && (n - i) % 3 == 0)
			out[o++] = '.';
		out[o++] = digits[i];
	}
	out[o] = '\0';
	snprintf(buf, len, "%s", out);
	return (buf);
}

const char *
report_fmt_dec(double v, int decimals, char *buf, size_t len)
{
	char		 ip[32], frac[16];
	double		 scale, r;
	uint64_t	 whole, part;
	int		 i, neg;

	if (decimals < 0)
		decimals = 0;
	if (decimals > 6)
		decimals = 6;
	if (!isfinite(v)) {
		snprintf(buf, len, "–");
		return (buf);
	}
	neg = v < 0;
	if (neg)
		v = -v;
	for (scale = 1, i = 0; i < decimals; i++)
		scale *= 10;
	/* Round once, on the scaled value, then split. */
	r = floor(v * scale + 0.5);
	whole = (uint64_t)(r / scale);
	part = (uint64_t)(r - (double)whole * scale + 0.5);
	report_fmt_int(whole, ip, sizeof ip);
	if (decimals == 0)
		snprintf(buf, len, "%s%s", neg && r > 0 ? "-" : "", ip);
	else {
		snprintf(frac, sizeof frac, "%0*llu", decimals,
		    (unsigned long long)part);
		snprintf(buf, len, "%s%s,%s", neg && r > 0 ? "-" : "", ip,
		    frac);
	}
	return (buf);
}

const char *
report_fmt_pct(uint64_t num, uint64_t den, char *buf, size_t len)
{
	char	d[32];
	double	tenths;

	if (den == 0) {
		snprintf(buf, len, "–");
		return (buf);
	}
	if (num == 0) {
		snprintf(buf, len, "0" REPORT_FMT_NBSP "%%");
		return (buf);
	}
	tenths = floor((double)num * 1000.0 / (double)den + 0.5);
	if (tenths < 1)
		snprintf(buf, len, "<" REPORT_FMT_NBSP "0,1" REPORT_FMT_NBSP "%%");
	else if (tenths >= 1000 && num < den)
		snprintf(buf, len, ">" REPORT_FMT_NBSP "99,9" REPORT_FMT_NBSP
		    "%%");
	else
		snprintf(buf, len, "%s" REPORT_FMT_NBSP "%%",
		    report_fmt_dec(tenths / 10.0, 1, d, sizeof d));
	return (buf);
}

const char *
report_fmt_short(double v, char *buf, size_t len)
{
	char	d[32];

	if (v >= 1e9)
		snprintf(buf, len, "%s" REPORT_FMT_NBSP "mld",
		    report_fmt_dec(v / 1e9, fmod(v, 1e9) == 0 ? 0 : 1, d,
		    sizeof d));
	else if (v >= 1e6)
		snprintf(buf, len, "%s" REPORT_FMT_NBSP "mln",
		    report_fmt_dec(v / 1e6, fmod(v, 1e6) == 0 ? 0 : 1, d,
		    sizeof d));
	else
		report_fmt_dec(v, v == floor(v) ? 0 : 1, buf, len);
	return (buf);
}

/* v with at most two decimals, trailing zeros dropped: 2,5; 0,25; 100. */
static const char *
report_fmt_trim(double v, char *buf, size_t len)
{
	char	*comma, *end;

	report_fmt_dec(v, v >= 100 ? 0 : 2, buf, len);
	if ((comma = strchr(buf, ',')) != NULL) {
		end = buf + strlen(buf);
		while (end > comma + 1 && end[-1] == '0')
			*--end = '\0';
		if (end == comma + 1)
			*comma = '\0';
	}
	return (buf);
}

const char *
report_fmt_seconds(double s, char *buf, size_t len)
{
	char	d[32];

	if (s >= 1)
		snprintf(buf, len, "%s" REPORT_FMT_NBSP "s",
		    report_fmt_trim(s, d, sizeof d));
	else
		snprintf(buf, len, "%s" REPORT_FMT_NBSP "ms",
		    report_fmt_trim(s * 1e3, d, sizeof d));
	return (buf);
}

const char *
report_fmt_month(int m)
{
	return (m >= 1 && m <= 12 ? report_fmt_months[m - 1] : "?");
}

const char *
report_fmt_month_abbr(int m)
{
	return (m >= 1 && m <= 12 ? report_fmt_abbr[m - 1] : "?");
}

const char *
report_fmt_weekday(long day)
{
	return (report_fmt_days[report_date_weekday(day)]);
}

const char *
report_fmt_date(long day, char *buf, size_t len)
{
	int	y, m, d;

	report_date_to_civil(day, &y, &m, &d);
	snprintf(buf, len, "%d %s %d", d, report_fmt_month(m), y);
	return (buf);
}

const char *
report_fmt_date_short(long day, char *buf, size_t len)
{
	int	y, m, d;

	report_date_to_civil(day, &y, &m, &d);
	snprintf(buf, len, "%d %s", d, report_fmt_month_abbr(m));
	return (buf);
}

const char *
report_fmt_period(long from, long to, char *buf, size_t len)
{
	char	b[64];
	int	y1, m1, d1, y2, m2, d2;

	if (from == to)
		return (report_fmt_date(from, buf, len));
	report_date_to_civil(from, &y1, &m1, &d1);
	report_date_to_civil(to, &y2, &m2, &d2);
	if (y1 == y2 && m1 == m2)
		snprintf(buf, len, "%d t/m %s", d1, report_fmt_date(to, b,
		    sizeof b));
	else if (y1 == y2)
		snprintf(buf, len, "%d %s t/m %s", d1, report_fmt_month(m1),
		    report_fmt_date(to, b, sizeof b));
	else {
		report_fmt_date(from, buf, len);
		snprintf(buf + strlen(buf), len - strlen(buf), " t/m %s",
		    report_fmt_date(to, b, sizeof b));
	}
	return (buf);
}

/* List names a service is likely to use, and what a board calls them. */
static const struct {
	const char	*list;
	const char	*name;
} report_fmt_cats[] = {
	{ "malware", "Malware" },
	{ "phishing", "Phishing" },
	{ "gambling", "Gokken" },
	{ "gokken", "Gokken" },
	{ "adult", "Volwassenen" },
	{ "porn", "Volwassenen" },
	{ "porno", "Volwassenen" },
	{ "volwassenen", "Volwassenen" },
	{ "ads", "Advertenties" },
	{ "advertising", "Advertenties" },
	{ "advertenties", "Advertenties" },
	{ "tracking", "Volgen (tracking)" },
	{ "trackers", "Volgen (tracking)" },
	{ "social", "Sociale media" },
	{ "social-media", "Sociale media" },
	{ "games", "Games" },
	{ "gaming", "Games" },
	{ "drugs", "Drugs" },
	{ "violence", "Geweld" },
	{ "geweld", "Geweld" },
	{ "hate", "Haat" },
	{ "weapons", "Wapens" },
	{ "crypto", "Cryptomining" },
	{ "cryptomining", "Cryptomining" },
	{ "coinminer", "Cryptomining" },
	{ "scam", "Oplichting" },
	{ "fraud", "Oplichting" },
	{ "fakenews", "Nepnieuws" },
	{ "dating", "Daten" },
	{ "piracy", "Piraterij" },
	{ "proxy", "Proxy's en VPN's" },
	{ "vpn", "Proxy's en VPN's" },
	{ "deny", "Eigen blokkeerlijst" },
	{ "canary", "Canary-antwoorden" },
};

static const struct {
	const char	*code;
	const char	*name;
} report_fmt_countries[] = {
	{ "AT", "Oostenrijk" }, { "AU", "Australië" },
	{ "BE", "België" }, { "BG", "Bulgarije" }, { "BR", "Brazilië" },
	{ "BY", "Wit-Rusland" }, { "CA", "Canada" }, { "CH", "Zwitserland" },
	{ "CN", "China" }, { "CZ", "Tsjechië" }, { "DE", "Duitsland" },
	{ "DK", "Denemarken" }, { "ES", "Spanje" }, { "FI", "Finland" },
	{ "FR", "Frankrijk" }, { "GB", "Verenigd Koninkrijk" },
	{ "HK", "Hongkong" }, { "IE", "Ierland" }, { "IN", "India" },
	{ "IR", "Iran" }, { "IT", "Italië" }, { "JP", "Japan" },
	{ "KP", "Noord-Korea" }, { "KR", "Zuid-Korea" },
	{ "LU", "Luxemburg" }, { "NL", "Nederland" }, { "NO", "Noorwegen" },
	{ "PL", "Polen" }, { "PT", "Portugal" }, { "RO", "Roemenië" },
	{ "RU", "Rusland" }, { "SE", "Zweden" }, { "SG", "Singapore" },
	{ "TR", "Turkije" }, { "UA", "Oekraïne" },
	{ "US", "Verenigde Staten" }, { "VN", "Vietnam" },
	{ "ZA", "Zuid-Afrika" }, { "unknown", "onbekend" },
};

const char *
report_fmt_country(const char *code)
{
	size_t	i;

	for (i = 0; i < sizeof report_fmt_countries /
	    sizeof report_fmt_countries[0]; i++)
		if (strcmp(code, report_fmt_countries[i].code) == 0)
			return (report_fmt_countries[i].name);
	return (code);
}

/* The name of a list, exactly as the table has it, or NULL. */
static const char *
report_fmt_list(const char *list, size_t len)
{
	size_t	i;

	for (i = 0; i < sizeof report_fmt_cats / sizeof report_fmt_cats[0];
	    i++)
		if (strlen(report_fmt_cats[i].list) == len &&
		    strncmp(list, report_fmt_cats[i].list, len) == 0)
			return (report_fmt_cats[i].name);
	return (NULL);
}

const char *
report_fmt_category(const char *cat, char *buf, size_t len)
{
	const char	*name;
	size_t		 n = strlen(cat);

	if (strncmp(cat, "country:", 8) == 0) {
		name = report_fmt_country(cat + 8);
		if (strcmp(name, cat + 8) == 0)
			snprintf(buf, len, "Land %s", cat + 8);
		else
			snprintf(buf, len, "Land: %s", name);
	} else if (strncmp(cat, "as:", 3) == 0)
		snprintf(buf, len, "Netwerk AS%s", cat + 3);
	else if ((name = report_fmt_list(cat, n)) != NULL)
		snprintf(buf, len, "%s", name);
	else if (n > 3 && strcmp(cat + n - 3, "-ip") == 0 &&
	    (name = report_fmt_list(cat, n - 3)) != NULL)
		snprintf(buf, len, "%s (IP-adressen)", name);
	else
		snprintf(buf, len, "%s", cat);
	return (buf);
}
