/*
 * statsfile.c: day files of JSON lines, whole lines only, and retention.
 */
#include <sys/stat.h>
#include <sys/types.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "statsfile.h"

#define STATSFILE_CHUNK		(1024 * 1024)	/* octets per write(2) */

int
statsfile_dir(const char *dir, int *made, char **cause)
{
	struct stat	 sb;
	const char	*why = NULL;

	*made = mkdir(dir, 0750) == 0;
	if (!*made && errno != EEXIST)
		why = strerror(errno);
	else if (stat(dir, &sb) == -1)
		why = strerror(errno);
	else if (!S_ISDIR(sb.st_mode))
		why = "not a directory";
	if (why == NULL)
		return (0);
	if (asprintf(cause, "stats.dir %s: %s", dir, why) == -1)
		*cause = NULL;
	return (-1);
}

/*
 * Whether user (uid, gid) may write and search the directory dir, of
 * stat sb. This process: access(2). Another user, as priv_drop() leaves
 * it (its primary group its only one): the mode's bits, and no
 * read-only file system (ACLs are not read).
 */
static int
statsfile_writable(const char *dir, const struct stat *sb, const char *user,
    uid_t uid, gid_t gid)
{
	mode_t	want;

	if (user == NULL)
		return (access(dir, W_OK | X_OK) == 0);
	if (access(dir, W_OK | X_OK) == -1 && errno == EROFS)
		return (0);
	if (sb->st_uid == uid)
		want = S_IWUSR | S_IXUSR;
	else if (sb->st_gid == gid)
		want = S_IWGRP | S_IXGRP;
	else
		want = S_IWOTH | S_IXOTH;
	return ((sb->st_mode & want) == want);
}

/* Why the directory dir cannot be made by us (statsfile_dir()), or NULL. */
static const char *
statsfile_unmakable(const char *dir, char *parent, size_t cap)
{
	struct stat	 sb;
	char		*slash;

	snprintf(parent, cap, "%s", dir);
	if ((slash = strrchr(parent, '/')) == NULL)
		snprintf(parent, cap, ".");
	else
		slash[slash == parent] = '\0';
	if (stat(parent, &sb) == -1 || access(parent, W_OK | X_OK) == -1)
		return (strerror(errno));
	if (!S_ISDIR(sb.st_mode))
		return ("not a directory");
	return (NULL);
}

int
statsfile_dir_check(const char *dir, const char *user, uid_t uid, gid_t gid,
    char **cause)
{
	struct stat	 sb;
	const char	*e;
	char		 parent[4096];
	int		 n = 0;

	*cause = NULL;
	if (stat(dir, &sb) == -1) {
		if (errno != ENOENT)
			n = asprintf(cause, "stats.dir %s: %s", dir,
			    strerror(errno));
		else if ((e = statsfile_unmakable(dir, parent,
		    sizeof parent)) != NULL)
			n = asprintf(cause, "stats.dir %s: cannot be made: "
			    "%s: %s", dir, parent, e);
		else
			return (0);	/* made for user, if one (veiligd_drop()) */
	} else if (!S_ISDIR(sb.st_mode))
		n = asprintf(cause, "stats.dir %s: not a directory", dir);
	else if (statsfile_writable(dir, &sb, user, uid, gid))
		return (0);
	else
		n = asprintf(cause, "stats.dir %s: %s%s: no statistics could "
		    "be written", dir, user != NULL ? "not writable by user " :
		    strerror(errno), user != NULL ? user : "");
	if (n == -1)
		*cause = NULL;
	return (-1);
}

void
statsfile_name(time_t t, int day, char *out, size_t cap)
{
	struct tm	tm;

	localtime_r(&t, &tm);
	snprintf(out, cap, "%04d-%02d-%02d%s", tm.tm_year + 1900,
	    tm.tm_mon + 1, tm.tm_mday, day ? ".day.jsonl" : ".jsonl");
}

/* Write all of buf to fd (O_APPEND); 0, or -1 with errno set. */
static int
statsfile_write(int fd, const char *buf, size_t len)
{
	ssize_t	n;

	while (len > 0) {
		n = write(fd, buf, len);
		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0) {
			if (n == 0)
				errno = ENOSPC;
			return (-1);
		}
		buf += n;
		len -= (size_t)n;
	}
	return (0);
}

int
statsfile_append(const char *dir, const char *name, const char *buf,
    size_t len)
{
	struct stat	 sb;
	char		 path[4096];
	size_t		 n, cut;
	int		 fd, saved;

	if ((size_t)snprintf(path, sizeof path, "%s/%s", dir, name) >=
	    sizeof path) {
		errno = ENAMETOOLONG;
		return (-1);
	}
	fd = open(path, O_RDWR | O_APPEND | O_CREAT | O_CLOEXEC, 0640);
	if (fd == -1)
		return (-1);
	if (fstat(fd, &sb) == -1)
		goto fail;
	/*
	 * A file that a crash left with a half line at its end: close that
	 * line, so that ours start on a line of their own (the reader
	 * skips the broken one, which no longer hides ours).
	 */
	if (sb.st_size > 0) {
		char	last;

		if (pread(fd, &last, 1, sb.st_size - 1) == 1 && last != '\n') {
			if (statsfile_write(fd, "\n", 1) == -1)
				goto fail;
			sb.st_size++;
		}
	}
	/* In chunks of whole lines; a failure takes back the whole batch. */
	while (len > 0) {
		n = len < STATSFILE_CHUNK ? len : STATSFILE_CHUNK;
		if (n < len) {
			for (cut = n; cut > 0 && buf[cut - 1] != '\n'; cut--)
				;
			/* A line longer than a chunk goes out whole. */
			if (cut == 0)
				for (cut = n; cut < len && buf[cut - 1] != '\n';
				    cut++)
					;
			n = cut;
		}
		if (statsfile_write(fd, buf, n) == -1)
			goto undo;
		buf += n;
		len -= n;
	}
	if (fsync(fd) == -1)
		goto fail;
	close(fd);
	return (0);
undo:
	saved = errno;
	if (ftruncate(fd, sb.st_size) == 0)
		(void)fsync(fd);
	close(fd);
	errno = saved;
	return (-1);
fail:
	saved = errno;
	close(fd);
	errno = saved;
	return (-1);
}

/* Is name "YYYY-MM-DD.jsonl" or "YYYY-MM-DD.day.jsonl"? */
static int
statsfile_ours(const char *name)
{
	static const char	pat[] = "dddd-dd-dd";
	size_t			i;

	for (i = 0; i < sizeof pat - 1; i++) {
		if (pat[i] == 'd' ? (name[i] < '0' || name[i] > '9') :
		    name[i] != pat[i])
			return (0);
	}
	return (strcmp(name + i, ".jsonl") == 0 ||
	    strcmp(name + i, ".day.jsonl") == 0);
}

int
statsfile_prune(const char *dir, time_t now, unsigned days)
{
	DIR		*d;
	struct dirent	*de;
	struct tm	 tm;
	char		 cutoff[48], path[4096];
	time_t		 t;
	int		 n = 0;

	/* Whole days back from local midnight, so DST shifts do no harm. */
	localtime_r(&now, &tm);
	tm.tm_mday -= (int)days;
	tm.tm_hour = 12;
	tm.tm_min = tm.tm_sec = 0;
	tm.tm_isdst = -1;
	t = mktime(&tm);
	localtime_r(&t, &tm);
	snprintf(cutoff, sizeof cutoff, "%04d-%02d-%02d", tm.tm_year + 1900,
	    tm.tm_mon + 1, tm.tm_mday);

	if ((d = opendir(dir)) == NULL)
		return (-1);
	while ((de = readdir(d)) != NULL) {
		if (!statsfile_ours(de->d_name) ||
		    strncmp(de->d_name, cutoff, 10) >= 0)
			continue;
		if ((size_t)snprintf(path, sizeof path, "%s/%s", dir,
		    de->d_name) >= sizeof path)
			continue;
		if (unlink(path) == 0)
			n++;
	}
	closedir(d);
	return (n);
}
