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

/*
 * The length of the well-formed UTF-8 character at u (up to end), or 0
 * for an octet that starts none: list files come in any encoding.
 */
static size_t
log_utf8_len(const unsigned char *u, const unsigned char *end)
{
	size_t	len, i;

	if (u[0] < 0x80)
		return (1);
	if (u[0] >= 0xc2 && u[0] <= 0xdf)
		len = 2;
	else if (u[0] >= 0xe0 && u[0] <= 0xef)
		len = 3;
	else if (u[0] >= 0xf0 && u[0] <= 0xf4)
		len = 4;
	else
		return (0);
	if ((size_t)(end - u) < len)
		return (0);
	for (i = 1; i < len; i++)
		if ((u[i] & 0xc0) != 0x80)
			return (0);
	return (len);
}

/*
 * Whether the character at u (len octets) acts on a terminal rather than
 * shows: C0 and DEL, C1 (U+0080-U+009F), and the bidirectional marks,
 * embeddings, overrides and isolates, which make a line read other than
 * it is.
 */
static int
log_utf8_control(const unsigned char *u, size_t len)
{
	if (len == 1)
		return (u[0] < 0x20 || u[0] == 0x7f);
	if (len == 2)
		return (u[0] == 0xc2 && u[1] < 0xa0);
	if (len == 3 && u[0] == 0xe2 && u[1] == 0x80)
		return (u[2] == 0x8e || u[2] == 0x8f ||
		    (u[2] >= 0xaa && u[2] <= 0xae));
	if (len == 3 && u[0] == 0xe2 && u[1] == 0x81)
		return (u[2] >= 0xa6 && u[2] <= 0xa9);
	return (0);
}

/* The code point of the UTF-8 character at u, of len (1 to 4) octets. */
static unsigned
log_utf8_code(const unsigned char *u, size_t len)
{
	static const unsigned char	 lead[] = { 0, 0x7f, 0x1f, 0x0f, 0x07 };
	unsigned			 c = u[0] & lead[len];
	size_t				 i;

	for (i = 1; i < len; i++)
		c = c << 6 | (u[i] & 0x3f);
	return (c);
}

/*
 * What the character at u (clen octets; 0 for an octet that starts no
 * UTF-8) becomes in e (8 octets): its escape for the inside of a quoted
 * string, or '?' when it is masked; 0 when it is kept as it is.
 */
static size_t
log_text_char(char *e, const unsigned char *u, size_t clen, int quoted)
{
	int	control = clen == 0 || log_utf8_control(u, clen);

	if (!quoted) {
		if (!control)
			return (0);
		e[0] = '?';
		return (1);
	}
	if (clen == 0)
		return ((size_t)snprintf(e, 8, "\\x%02x", u[0]));
	if (u[0] == '"' || u[0] == '\\')
		return ((size_t)snprintf(e, 8, "\\%c", u[0]));
	if (u[0] == '\n' || u[0] == '\t' || u[0] == '\r')
		return ((size_t)snprintf(e, 8, "\\%c",
		    u[0] == '\n' ? 'n' : u[0] == '\t' ? 't' : 'r'));
	if (control)
		return ((size_t)snprintf(e, 8, clen == 1 ? "\\x%02x" :
		    "\\u%04x", log_utf8_code(u, clen)));
	return (0);
}

/*
 * The walk log_escaped() and log_printable() share: each character of s
 * (len octets) that starts within its first cut octets, kept or made
 * what log_text_char() says, while it fits in out with "..." after it.
 */
static const char *
log_text(char *out, size_t cap, const char *s, size_t len, size_t cut,
    int quoted)
{
	const unsigned char	*u = (const unsigned char *)s, *end = u + len;
	const void		*put;
	char			 e[8];
	size_t			 n = 0, clen, elen;

	while (u < end && (size_t)(u - (const unsigned char *)s) < cut) {
		clen = log_utf8_len(u, end);
		elen = log_text_char(e, u, clen, quoted);
		put = elen != 0 ? (const void *)e : (const void *)u;
		if (elen == 0)
			elen = clen;
		if (n + elen + 4 > cap)
			break;
		memcpy(out + n, put, elen);
		n += elen;
		u += clen == 0 ? 1 : clen;
	}
	if (u < end) {
		memcpy(out + n, "...", 3);
		n += 3;
	}
	out[n] = '\0';
	return (out);
}

const char *
log_escaped(char *out, size_t cap, const char *s)
{
	size_t	len = strlen(s);

	return (log_text(out, cap, s, len, len, 1));
}

const char *
log_printable(char *out, size_t cap, const char *s, size_t len, size_t cut)
{
	return (log_text(out, cap, s, len, cut, 0));
}
