/*
 * report_date.c: calendar arithmetic for veilig-report (see report_date.h).
 *
 * The day-number conversions are Howard Hinnant's days_from_civil and
 * civil_from_days algorithms: exact for every Gregorian date, no tables,
 * no libc time functions (timegm() would do for the parse, but it is not
 * in C11 and it normalises nonsense such as 31 February silently).
 */
#include <time.h>
#include <stdio.h>

#include "report_date.h"

long
report_date_from_civil(int y, int m, int d)
{
	long		 era, yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = y - era * 400;
	doy = (153L * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return (era * 146097 + doe - 719468);
}

void
report_date_to_civil(long day, int *y, int *m, int *d)
{
	long		 z, era, doe, yoe, doy, mp, yy;

	z = day + 719468;
	era = (z >= 0 ? z : z - 146096) / 146097;
	doe = z - era * 146097;
	yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	yy = yoe + era * 400;
	doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	mp = (5 * doy + 2) / 153;
	*d = (int)(doy - (153 * mp + 2) / 5 + 1);
	*m = (int)(mp < 10 ? mp + 3 : mp - 9);
	*y = (int)(yy + (*m <= 2));
}

int
report_date_weekday(long day)
{
	/* 1970-01-01 was a Thursday (3 when Monday is 0). */
	long	w = (day + 3) % 7;

	return ((int)(w < 0 ? w + 7 : w));
}

int
report_date_month_days(int y, int m)
{
	static const int	 len[12] = {
		31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31
	};
	int			 leap;

	if (m < 1 || m > 12)
		return (0);
	leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
	return (len[m - 1] + (m == 2 && leap));
}

/* n decimal digits at s into *v; 0 or -1. */
static int
report_date_digits(const char *s, int n, int *v)
{
	int	i;

	*v = 0;
	for (i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return (-1);
		*v = *v * 10 + (s[i] - '0');
	}
	return (0);
}

int
report_date_parse_day(const char *s, size_t len, long *day)
{
	int	y, m, d;

	if (len != 10 || s[4] != '-' || s[7] != '-')
		return (-1);
	if (report_date_digits(s, 4, &y) == -1 ||
	    report_date_digits(s + 5, 2, &m) == -1 ||
	    report_date_digits(s + 8, 2, &d) == -1)
		return (-1);
	if (m < 1 || m > 12 || d < 1 || d > report_date_month_days(y, m))
		return (-1);
	*day = report_date_from_civil(y, m, d);
	return (0);
}

void
report_date_iso(long day, char *buf, size_t len)
{
	int	y, m, d;

	report_date_to_civil(day, &y, &m, &d);
	snprintf(buf, len, "%04d-%02d-%02d", y, m, d);
}

int
report_date_parse_time(const char *s, size_t len, int64_t *t)
{
	long	 day;
	int	 hh, mm, ss, oh, om, sign;
	size_t	 i;

	if (len < 20 || s[10] != 'T' || s[13] != ':' || s[16] != ':')
		return (-1);
	if (report_date_parse_day(s, 10, &day) == -1)
		return (-1);
	if (report_date_digits(s + 11, 2, &hh) == -1 ||
	    report_date_digits(s + 14, 2, &mm) == -1 ||
	    report_date_digits(s + 17, 2, &ss) == -1)
		return (-1);
	/* 24:00:00 is ISO 8601's end of the day; 60 seconds a leap second. */
	if (hh > 24 || mm > 59 || ss > 60 || (hh == 24 && (mm || ss)))
		return (-1);
	i = 19;
	if (s[i] == '.') {
		for (i++; i < len && s[i] >= '0' && s[i] <= '9'; i++)
			;
	}
	if (len - i == 1 && s[i] == 'Z')
		oh = om = sign = 0;
	else if (len - i == 6 && (s[i] == '+' || s[i] == '-') &&
	    s[i + 3] == ':') {
		sign = s[i] == '-' ? -1 : 1;
		if (report_date_digits(s + i + 1, 2, &oh) == -1 ||
		    report_date_digits(s + i + 4, 2, &om) == -1 ||
		    oh > 23 || om > 59)
			return (-1);
	} else
		return (-1);
	*t = (int64_t)day * 86400 + hh * 3600 + mm * 60 + ss -
	    sign * (oh * 3600 + om * 60);
	return (0);
}

long
report_date_today(void)
{
	struct tm	tm;
	time_t		now;

	now = time(NULL);
	localtime_r(&now, &tm);
	return (report_date_from_civil(tm.tm_year + 1900, tm.tm_mon + 1,
	    tm.tm_mday));
}
