/*
 * tdir.c: the temporary directory, the message collector and the names
 * in wire form of the unit tests (tdir.h).
 */
#include <sys/stat.h>

#include <fcntl.h>
#include <ftw.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "tdir.h"

/*
 * Make /tmp/name.XXXXXX and, in it, the subdirectories named by the
 * arguments after name, up to a NULL.
 */
void
tdir_new(struct tdir *d, const char *name, ...)
{
	va_list		 ap;
	const char	*sub;
	char		 path[256];

	snprintf(d->path, sizeof d->path, "/tmp/%s.XXXXXX", name);
	assert_non_null(mkdtemp(d->path));
	va_start(ap, name);
	while ((sub = va_arg(ap, const char *)) != NULL)
		assert_int_equal(mkdir(tdir_path(d, sub, path, sizeof path),
		    0700), 0);
	va_end(ap);
}

/* d/rel into buf. */
const char *
tdir_path(const struct tdir *d, const char *rel, char *buf, size_t size)
{
	int	n;

	n = snprintf(buf, size, "%s/%s", d->path, rel);
	assert_true(n > 0 && (size_t)n < size);
	return (buf);
}

/* Write text to d/rel, over what was there. */
void
tdir_write(const struct tdir *d, const char *rel, const char *text)
{
	char	 path[256];
	FILE	*f;

	f = fopen(tdir_path(d, rel, path, sizeof path), "w");
	assert_non_null(f);
	assert_true(fputs(text, f) >= 0);
	assert_int_equal(fclose(f), 0);
}

/* Write text to d/rel as an editor or updater would: a new file renamed. */
void
tdir_replace(const struct tdir *d, const char *rel, const char *text)
{
	char	 path[256], tmp[300];

	tdir_path(d, rel, path, sizeof path);
	snprintf(tmp, sizeof tmp, "%s.new", rel);
	tdir_write(d, tmp, text);
	snprintf(tmp, sizeof tmp, "%s.new", path);
	assert_int_equal(rename(tmp, path), 0);
}

/*
 * A file that an editor writes in place while it is read: the next
 * change.times fstat(2) calls on it by a reader that has read from it
 * (its offset past 0) first write change.text over it. The test
 * binaries are linked with -Wl,--wrap=fstat (Makefile), so that the
 * fstat() of the modules under test comes here.
 */
static struct {
	char	 path[256];
	char	*text;
	int	 times;
	int	 done;	/* in all: each write's own time */
} change;

int	__real_fstat(int, struct stat *);
int	__wrap_fstat(int, struct stat *);

/*
 * Write text over d/rel (the same inode) times times, each when the
 * file has been read and its reader calls fstat(2) to see whether it
 * changed: what an admin's editor writing in place does during a load.
 * Each write sets another modification time, so that no clock grain
 * hides it. times 0 stops it.
 */
void
tdir_change_on_read(const struct tdir *d, const char *rel, const char *text,
    int times)
{
	tdir_path(d, rel, change.path, sizeof change.path);
	free(change.text);
	assert_non_null(change.text = strdup(text));
	change.times = times;
}

/* fstat(2), and the change of tdir_change_on_read() when it is due. */
int
__wrap_fstat(int fd, struct stat *sb)
{
	struct stat	 file;
	struct timespec	 ts[2];
	FILE		*f;

	if (change.times > 0 && __real_fstat(fd, sb) == 0 &&
	    lseek(fd, 0, SEEK_CUR) > 0 && stat(change.path, &file) == 0 &&
	    file.st_dev == sb->st_dev && file.st_ino == sb->st_ino) {
		change.times--;
		change.done++;
		f = fopen(change.path, "w");
		assert_non_null(f);
		assert_true(fputs(change.text, f) >= 0);
		assert_int_equal(fclose(f), 0);
		ts[0].tv_sec = ts[1].tv_sec = 1000000000 + change.done;
		ts[0].tv_nsec = ts[1].tv_nsec = change.done;
		assert_int_equal(utimensat(AT_FDCWD, change.path, ts, 0), 0);
	}
	return (__real_fstat(fd, sb));
}

/* nftw() callback: remove one file or (emptied) directory. */
static int
tdir_rm(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
	(void)sb;
	(void)ftw;
	return (flag == FTW_DP ? rmdir(path) : unlink(path));
}

/* Remove d and everything in it, depth first. */
void
tdir_free(struct tdir *d)
{
	if (d->path[0] == '\0')
		return;
	assert_int_equal(nftw(d->path, tdir_rm, 8, FTW_DEPTH | FTW_PHYS), 0);
	d->path[0] = '\0';
}

/* Message callback: arg is the struct tmsgs that keeps a copy. */
void
tmsgs_cb(void *arg, const char *msg)
{
	struct tmsgs	*m = arg;

	if (m->n < TMSGS_MAX)
		assert_non_null(m->msg[m->n] = strdup(msg));
	m->n++;
}

/* Forget all messages. */
void
tmsgs_clear(struct tmsgs *m)
{
	size_t	i;

	for (i = 0; i < m->n && i < TMSGS_MAX; i++)
		free(m->msg[i]);
	m->n = 0;
}

/* Print the messages kept, for a test about to fail. */
void
tmsgs_print(const struct tmsgs *m)
{
	size_t	i;

	for (i = 0; i < m->n && i < TMSGS_MAX; i++)
		print_message("  message: %s\n", m->msg[i]);
	if (m->n > TMSGS_MAX)
		print_message("  (%zu more)\n", m->n - TMSGS_MAX);
}

/* Does a message contain a and (unless b is NULL) b? Quietly. */
int
tmsgs_find(const struct tmsgs *m, const char *a, const char *b)
{
	size_t	i;

	for (i = 0; i < m->n && i < TMSGS_MAX; i++)
		if (strstr(m->msg[i], a) != NULL &&
		    (b == NULL || strstr(m->msg[i], b) != NULL))
			return (1);
	return (0);
}

/* As tmsgs_find(), but print the messages and what was wanted if not. */
int
tmsgs_have(const struct tmsgs *m, const char *a, const char *b)
{
	if (tmsgs_find(m, a, b))
		return (1);
	tmsgs_print(m);
	print_message("  wanted: '%s' and '%s'\n", a, b != NULL ? b : "");
	return (0);
}

/* How many of the messages kept contain s. */
size_t
tmsgs_count(const struct tmsgs *m, const char *s)
{
	size_t	i, n = 0;

	for (i = 0; i < m->n && i < TMSGS_MAX; i++)
		if (strstr(m->msg[i], s) != NULL)
			n++;
	return (n);
}

size_t
tname(const char *name, uint8_t *w, size_t size)
{
	const char	*p = name, *dot;
	size_t		 n = 0, l;

	if (strcmp(name, ".") == 0)
		p = "";
	while (*p != '\0') {
		dot = strchr(p, '.');
		l = dot != NULL ? (size_t)(dot - p) : strlen(p);
		assert_true(l > 0 && l < 64 && n + l + 2 <= size);
		w[n++] = (uint8_t)l;
		memcpy(w + n, p, l);
		n += l;
		p += l + (dot != NULL);
	}
	assert_true(n < size);
	w[n++] = 0;
	return (n);
}
