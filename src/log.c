/*
 * log.c: logging to stderr with optional syslog priority prefixes.
 */
#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <time.h>

#include <event2/event.h>

#include "log.h"

int		 log_verbose = LOG_LEVEL_WARN;
static const char *log_name = "veilig";
static int	 log_to = LOG_TO_STDERR;

/* Rate limit state for log_ratelimited(): a window of one second. */
#define LOG_RATE_PER_SEC 5
static pthread_mutex_t log_rate_lock = PTHREAD_MUTEX_INITIALIZER;
static time_t	 log_rate_window;
static unsigned	 log_rate_count;
static unsigned long log_rate_dropped;

static void	 log_vwrite(int, const char *, const char *, va_list)
		    __attribute__((format(printf, 3, 0)));

void
log_init(const char *name, int to)
{
	log_name = name;
	log_to = to;
	if (to == LOG_TO_SYSLOG)
		openlog(name, LOG_PID | LOG_NDELAY, LOG_DAEMON);
}

/* Write one line with priority prio (syslog numbering) and an optional tail. */
static void
log_vwrite(int prio, const char *tail, const char *fmt, va_list ap)
{
	char	line[1024];
	int	n;

	n = vsnprintf(line, sizeof line, fmt, ap);
	if (n < 0)
		return;
	if (log_to == LOG_TO_SYSLOG)
		syslog(prio, "%s%s%s", line, tail != NULL ? ": " : "",
		    tail != NULL ? tail : "");
	else if (log_to == LOG_TO_JOURNAL)
		fprintf(stderr, "<%d>%s%s%s\n", prio, line,
		    tail != NULL ? ": " : "", tail != NULL ? tail : "");
	else
		fprintf(stderr, "%s: %s%s%s\n", log_name, line,
		    tail != NULL ? ": " : "", tail != NULL ? tail : "");
}

void
log_warn(const char *fmt, ...)
{
	va_list	ap;
	char	ebuf[128];
	int	saved = errno;

	va_start(ap, fmt);
	log_vwrite(4, strerror_r(saved, ebuf, sizeof ebuf), fmt, ap);
	va_end(ap);
	errno = saved;
}

void
log_warnx(const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	log_vwrite(4, NULL, fmt, ap);
	va_end(ap);
}

void
log_info(const char *fmt, ...)
{
	va_list	ap;

	if (!log_would(LOG_LEVEL_INFO))
		return;
	va_start(ap, fmt);
	log_vwrite(6, NULL, fmt, ap);
	va_end(ap);
}

void
log_notice(const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	log_vwrite(5, NULL, fmt, ap);
	va_end(ap);
}

void
log_debug(const char *fmt, ...)
{
	va_list	ap;

	if (!log_would(LOG_LEVEL_DEBUG))
		return;
	va_start(ap, fmt);
	log_vwrite(7, NULL, fmt, ap);
	va_end(ap);
}

void
log_ratelimited(const char *fmt, ...)
{
	va_list		ap;
	time_t		now = time(NULL);
	unsigned long	dropped = 0;
	int		emit;

	pthread_mutex_lock(&log_rate_lock);
	if (now != log_rate_window) {
		log_rate_window = now;
		log_rate_count = 0;
	}
	emit = log_rate_count++ < LOG_RATE_PER_SEC;
	if (emit) {
		dropped = log_rate_dropped;
		log_rate_dropped = 0;
	} else
		log_rate_dropped++;
	pthread_mutex_unlock(&log_rate_lock);
	if (!emit)
		return;
	if (dropped != 0)
		log_warnx("(%lu similar messages suppressed)", dropped);
	va_start(ap, fmt);
	log_vwrite(4, NULL, fmt, ap);
	va_end(ap);
}

void
fatal(const char *fmt, ...)
{
	va_list	ap;
	char	ebuf[128];
	int	saved = errno;

	va_start(ap, fmt);
	log_vwrite(2, strerror_r(saved, ebuf, sizeof ebuf), fmt, ap);
	va_end(ap);
	exit(1);
}

void
fatalx(const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	log_vwrite(2, NULL, fmt, ap);
	va_end(ap);
	exit(1);
}

/* libevent's log callback: its errors are warnings, the rest debug. */
static void
log_libevent_cb(int severity, const char *msg)
{
	if (severity >= EVENT_LOG_WARN)
		log_warnx("libevent: %s", msg);
	else
		log_debug("libevent: %s", msg);
}

void
log_libevent(void)
{
	event_set_log_callback(log_libevent_cb);
}
