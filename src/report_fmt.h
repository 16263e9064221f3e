/*
 * report_fmt.h: numbers and dates written the Dutch way, for veilig-report.
 *
 * Thousands are grouped with a dot and decimals follow a comma
 * (1.234.567; 12,5); a percent sign or unit is set off by a no-break
 * space (U+00A0, written as UTF-8), as Dutch typography does; dates read
 * "1 december 2026". Every function writes a NUL-terminated string into
 * the caller's buffer (truncated, never overrun, if it is too small) and
 * returns that buffer, so calls can be used as printf arguments.
 */
#ifndef VEILIG_REPORT_FMT_H
#define VEILIG_REPORT_FMT_H

#include <stddef.h>
#include <stdint.h>

#define REPORT_FMT_NBSP		"\xc2\xa0"	/* U+00A0 no-break space */
#define REPORT_FMT_LEN		64		/* enough for any of these */

/* 1234567 -> "1.234.567". */
const char	*report_fmt_int(uint64_t v, char *buf, size_t len);
/* v with the given number of decimals (0-6): 12.5, 1 -> "12,5". */
const char	*report_fmt_dec(double v, int decimals, char *buf, size_t len);
/*
 * num/den as a percentage with one decimal: "12,5 %". "0 %" for none,
 * "< 0,1 %" for a share too small to show and "> 99,9 %" for one just
 * short of all, so that a rounding never says "none" or "all" wrongly;
 * "–" (an en dash) when den is 0.
 */
const char	*report_fmt_pct(uint64_t num, uint64_t den, char *buf,
		    size_t len);
/* A compact figure for a chart axis: "950", "12.000", "1,2 mln", "3 mld". */
const char	*report_fmt_short(double v, char *buf, size_t len);
/* A duration in seconds: "0,1 ms", "0,25 ms", "25 ms", "2,5 s". */
const char	*report_fmt_seconds(double s, char *buf, size_t len);

/* Month name, 1-12: "januari"; abbreviated: "jan". */
const char	*report_fmt_month(int m);
const char	*report_fmt_month_abbr(int m);
/* Weekday name of a day number: "maandag". */
const char	*report_fmt_weekday(long day);
/* A day number as "1 december 2026". */
const char	*report_fmt_date(long day, char *buf, size_t len);
/* A day number as "1 dec". */
const char	*report_fmt_date_short(long day, char *buf, size_t len);
/*
 * A period of days, from and to inclusive, without repeating what both
 * share: "1 t/m 30 november 2026", "1 november t/m 31 december 2026",
 * "1 december 2025 t/m 31 januari 2026", or one date when from == to.
 */
const char	*report_fmt_period(long from, long to, char *buf, size_t len);

/*
 * The plain Dutch name of a blocked category as the statistics name it:
 * a list name from veiligd.yaml ("gambling" -> "Gokken"), "deny",
 * "canary", "country:KP" or "as:64511". A list name this table does not
 * know is shown as it is; "-ip" at its end reads "(IP-adressen)".
 */
const char	*report_fmt_category(const char *cat, char *buf, size_t len);
/* A country code's Dutch name ("NL" -> "Nederland"), else the code. */
const char	*report_fmt_country(const char *code);

#endif
