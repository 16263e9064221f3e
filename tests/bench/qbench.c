/*
 * qbench.c: the temporary directory and the silent transport of the
 * in-process query benches, and the made-up answers of the cache
 * benches (qbench.h).
 */
#include <sys/stat.h>

#include <err.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "qbench.h"

char	qbench_dir[64];

/* Make /tmp/name.XXXXXX with the boards, lists and tables directories. */
void
qbench_mkdir(const char *name)
{
	static const char *const sub[] = { "boards", "lists", "tables" };
	char			 path[256];
	size_t			 i;

	snprintf(qbench_dir, sizeof qbench_dir, "/tmp/%s.XXXXXX", name);
	if (mkdtemp(qbench_dir) == NULL)
		err(1, "mkdtemp %s", qbench_dir);
	for (i = 0; i < sizeof sub / sizeof sub[0]; i++) {
		snprintf(path, sizeof path, "%s/%s", qbench_dir, sub[i]);
		if (mkdir(path, 0700) != 0)
			err(1, "%s", path);
	}
}

/* Write text to qbench_dir/rel. */
void
qbench_put(const char *rel, const char *text)
{
	char	 path[256];
	FILE	*f;

	snprintf(path, sizeof path, "%s/%s", qbench_dir, rel);
	if ((f = fopen(path, "w")) == NULL || fputs(text, f) < 0 ||
	    fclose(f) != 0)
		err(1, "%s", path);
}

/* Message callback of conf_load() and the like: any message is fatal. */
void
qbench_fatal(void *arg, const char *msg)
{
	(void)arg;
	errx(1, "%s", msg);
}

/* nftw() callback: remove one file or (emptied) directory. */
static int
qbench_rm(const char *path, const struct stat *st, int flag,
    struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return (remove(path));
}

/* Remove qbench_dir and all in it; a failure is only a warning. */
void
qbench_rmdir(void)
{
	if (nftw(qbench_dir, qbench_rm, 16, FTW_DEPTH | FTW_PHYS) != 0)
		warn("could not remove %s", qbench_dir);
}

static int
qbench_alive(const struct query *q)
{
	(void)q;
	return (1);
}

static void
qbench_send(struct query *q, const uint8_t *msg, size_t len)
{
	(void)q;
	(void)msg;
	(void)len;
}

static void
qbench_release(struct query *q)
{
	(void)q;
}

const struct query_transport qbench_tp = { 1, qbench_alive, qbench_send,
	qbench_release };

void
qbench_pair(const char *label, struct wire_query *q, uint8_t *ans,
    struct wire_scan *sc)
{
	uint8_t	pkt[192], *p;
	size_t	llen = strlen(label), qlen;

	if (llen == 0 || llen > 63)
		errx(1, "label %s", label);
	memset(pkt, 0, 12);
	pkt[2] = 0x01;		/* RD */
	pkt[5] = 1;		/* QDCOUNT */
	p = pkt + 12;
	*p++ = (uint8_t)llen;
	memcpy(p, label, llen);
	p += llen;
	memcpy(p, "\005bench\004test\000\000\001\000\001", 16);
	p += 16;
	qlen = (size_t)(p - pkt);
	if (wire_parse_query(pkt, qlen, q) != WIRE_OK)
		errx(1, "query %s", label);

	/* The answer: the query, QR RA, one A record pointing at it. */
	memcpy(ans, pkt, qlen);
	ans[2] = 0x81;
	ans[3] = 0x80;
	ans[7] = 1;		/* ANCOUNT */
	p = ans + qlen;
	memcpy(p, "\300\014\000\001\000\001\000\000\016\020\000\004\012\000"
	    "\000\001", 16);
	p += 16;
	if (wire_scan(ans, (size_t)(p - ans), sc) != 0)
		errx(1, "answer %s", label);
}

double
qbench_ns(const struct timespec *a, const struct timespec *b)
{
	return ((double)(b->tv_sec - a->tv_sec) * 1e9 +
	    (double)(b->tv_nsec - a->tv_nsec));
}

int
qbench_cmp_double(const void *a, const void *b)
{
	double	x = *(const double *)a, y = *(const double *)b;

	return ((x > y) - (x < y));
}
