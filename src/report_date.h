/*
 * report_date.h: calendar arithmetic for veilig-report.
 *
 * A day is a day number: days since 1970-01-01 in the proleptic Gregorian
 * calendar, independent of any time zone (statistics files are named by the
 * node's local date, and that name is all a day means here). A moment is
 * seconds since the epoch, UTC, as parsed from an ISO 8601 timestamp with
 * its offset. No function here allocates or reads the environment, except
 * report_date_today(), which asks localtime(3).
 */
#ifndef VEILIG_REPORT_DATE_H
#define VEILIG_REPORT_DATE_H

#include <stddef.h>
#include <stdint.h>

/* Day number of year/month/day (month 1-12); no range check. */
long	report_date_from_civil(int y, int m, int d);
/* Year, month (1-12) and day of month of a day number. */
void	report_date_to_civil(long day, int *y, int *m, int *d);
/* Day of the week of a day number: 0 Monday .. 6 Sunday. */
int	report_date_weekday(long day);
/* Number of days in month m of year y. */
int	report_date_month_days(int y, int m);

/*
 * Parse exactly "YYYY-MM-DD" (len octets, no more) into a day number.
 * Returns 0, or -1 when it is not a valid date.
 */
int	report_date_parse_day(const char *s, size_t len, long *day);
/* Write "YYYY-MM-DD" of day into buf (at least 11 octets). */
void	report_date_iso(long day, char *buf, size_t len);

/*
 * Parse an ISO 8601 timestamp "YYYY-MM-DDTHH:MM:SS" followed by "Z" or an
 * offset "+HH:MM"/"-HH:MM" (optionally with fractional seconds, ignored),
 * len octets exactly, into seconds since the epoch. 0 or -1.
 */
int	report_date_parse_time(const char *s, size_t len, int64_t *t);

/* Today's local day number (localtime(3), so TZ applies). */
long	report_date_today(void);

#endif
