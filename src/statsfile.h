/*
 * statsfile.h: the files of the statistics: one file of JSON lines per
 * local day, appended whole lines at a time and fsynced, and removed when
 * older than the retention. The records themselves are built by stats.c;
 * their format is in the README ("Statistics files").
 *
 * A reader may rely on this: every line this writes ends in '\n'. A line
 * is written by one write(2) of whole lines to a file opened O_APPEND;
 * when the write fails or is short (disk full), the file is truncated
 * back to where it was, so no half line is left behind. Only a crash in
 * the middle of the kernel's write can leave a last line without its
 * '\n', which a reader must skip.
 */
#ifndef VEILIG_STATSFILE_H
#define VEILIG_STATSFILE_H

#include <sys/types.h>

#include <stddef.h>
#include <time.h>

/*
 * Make dir (mode 0750) unless it is there; *made says whether this call
 * made it. 0, or -1 with *cause set.
 */
int		 statsfile_dir(const char *dir, int *made, char **cause);

/*
 * What statsfile_dir() and the writes after it would find of dir, for
 * veiligd -n, without making it: a directory that user (uid, gid; NULL:
 * this process) may write and search, or a directory this process may
 * make (a start as root gives the one it makes to user). 0, or -1 with
 * *cause set.
 */
int		 statsfile_dir_check(const char *dir, const char *user,
		    uid_t uid, gid_t gid, char **cause);

/*
 * The name of the file for local date of t: "YYYY-MM-DD.jsonl", or with
 * day "YYYY-MM-DD.day.jsonl", into out (cap >= 32).
 */
void		 statsfile_name(time_t t, int day, char *out, size_t cap);

/*
 * Append len octets of whole lines at buf to dir/name and fsync. 0, or
 * -1 with errno set (nothing of it left in the file).
 */
int		 statsfile_append(const char *dir, const char *name,
		    const char *buf, size_t len);

/*
 * Remove the statistics files in dir whose date is before the local date
 * of now minus days days. Only names of the two forms above are touched.
 * Returns the number removed, or -1 when dir cannot be read.
 */
int		 statsfile_prune(const char *dir, time_t now, unsigned days);

#endif
