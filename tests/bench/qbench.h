/*
 * qbench.h: what the in-process query benches (hitpath, hitbatch,
 * boardpath) share: a temporary directory for their configuration and
 * lists, and a transport that sends nothing; and the cache benches
 * (cachechurn, cachegrow) a query and its answer made up. Every function exits with
 * a message on failure: a bench that cannot set itself up measures
 * nothing.
 */
#ifndef QBENCH_H
#define QBENCH_H

#include "query.h"

/* /tmp/NAME.XXXXXX once qbench_mkdir() has made it. */
extern char	qbench_dir[64];

void	qbench_mkdir(const char *name);
void	qbench_put(const char *rel, const char *text);
void	qbench_fatal(void *, const char *);
void	qbench_rmdir(void);

/* Every query is answered at once: no late answers, nothing sent. */
extern const struct query_transport qbench_tp;

/*
 * The query for LABEL.bench.test (A, RD) parsed into *q, and its answer
 * (QR RA, one A record; at most 256 octets) into ans, scanned into *sc.
 */
void	qbench_pair(const char *label, struct wire_query *q, uint8_t *ans,
	    struct wire_scan *sc);

/* Nanoseconds from a to b. */
double	qbench_ns(const struct timespec *a, const struct timespec *b);

/* qsort(3)'s comparison of two doubles, ascending. */
int	qbench_cmp_double(const void *a, const void *b);

#endif /* QBENCH_H */
