/*
 * log.h: the one logging module of veiligd (veiligctl links only libc and
 * writes its few messages to stderr itself).
 *
 * Messages go to stderr, or to syslog(3) for a daemon that has left its
 * terminal. Under systemd (JOURNAL_STREAM set) each stderr line starts with
 * a syslog priority prefix "<N>" so that journald files it at the right
 * level. log_warn() and fatal() append strerror(errno).
 *
 * log_info() and log_debug() return at once below their level, but their
 * arguments are evaluated first: on the hot path, test log_would(level)
 * before computing anything for a message (fwd.c does so before
 * wire_name_str()), so a disabled level costs one compare.
 *
 * log_ratelimited() is for messages that a remote party can trigger (bad
 * packets, bad upstream answers): a warning whatever the verbosity, at most
 * five lines a second from the whole process, and the number suppressed is
 * reported with the next one that gets out.
 */
#ifndef VEILIG_LOG_H
#define VEILIG_LOG_H

#include <stdarg.h>
#include <stddef.h>

#define LOG_LEVEL_WARN	0
#define LOG_LEVEL_INFO	1
#define LOG_LEVEL_DEBUG	2

/* Current verbosity; read without a lock (a plain int, set at start-up). */
extern int log_verbose;

/* Where log lines go. */
#define LOG_TO_STDERR		0	/* "name: message" */
#define LOG_TO_JOURNAL		1	/* stderr with "<N>" priority prefixes */
#define LOG_TO_SYSLOG		2	/* syslog(3), facility daemon */

/* Set up logging for program name, to one of LOG_TO_*. */
void	log_init(const char *name, int to);
/* Route libevent's own log messages into this module. */
void	log_libevent(void);

#define log_would(level) ((level) <= log_verbose)

void	log_warn(const char *, ...) __attribute__((format(printf, 1, 2)));
void	log_warnx(const char *, ...) __attribute__((format(printf, 1, 2)));
void	log_info(const char *, ...) __attribute__((format(printf, 1, 2)));
/* Always written, at notice priority: the query log (log-queries:). */
void	log_notice(const char *, ...) __attribute__((format(printf, 1, 2)));
void	log_debug(const char *, ...) __attribute__((format(printf, 1, 2)));
/* Warning subject to a process-wide rate limit; safe from any thread. */
void	log_ratelimited(const char *, ...) __attribute__((format(printf, 1, 2)));
/*
 * Text from a file or a packet made fit for a log line in out (cap octets,
 * at least 8): control characters masked as '?' (C0, DEL, C1 and the
 * bidirectional overrides, which would garble a line or a terminal),
 * octets that are no UTF-8 too; other UTF-8 kept whole, so a name with a
 * diaeresis reads as written. Cut after the character that starts within
 * the first cut octets of s (len octets), with "..." when more followed.
 */
const char *log_printable(char *out, size_t cap, const char *s, size_t len,
	    size_t cut);
/*
 * s (NUL-terminated) escaped for the inside of a double-quoted string of
 * a text output, into out (cap octets, at least 8): '"' and '\' with a
 * backslash, the control characters log_printable() masks written out
 * (\n, \t, \r, \xHH for the rest of C0 and DEL and for octets that are
 * no UTF-8, \uHHHH for C1 and the bidirectional marks); other UTF-8 kept.
 * Cut with "..." when out is full.
 */
const char *log_escaped(char *out, size_t cap, const char *s);
__attribute__((noreturn)) void fatal(const char *, ...)
	    __attribute__((format(printf, 1, 2)));
__attribute__((noreturn)) void fatalx(const char *, ...)
	    __attribute__((format(printf, 1, 2)));

#endif
