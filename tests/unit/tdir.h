/*
 * tdir.h: what the unit tests share: a temporary directory to write a
 * configuration, lists and tables into, a collector of the messages that
 * loading them reports, and the wire form of a name written as text.
 *
 * Every function asserts (cmocka) rather than return an error: a test
 * whose files cannot be written fails where it stands.
 */
#ifndef TDIR_H
#define TDIR_H

#include <stddef.h>
#include <stdint.h>

/* A directory /tmp/NAME.XXXXXX, removed with all in it by tdir_free(). */
struct tdir {
	char	path[64];
};

void		 tdir_new(struct tdir *, const char *name, ...);
const char	*tdir_path(const struct tdir *, const char *rel, char *buf,
		     size_t size);
void		 tdir_write(const struct tdir *, const char *rel,
		     const char *text);
void		 tdir_replace(const struct tdir *, const char *rel,
		     const char *text);
void		 tdir_free(struct tdir *);
void		 tdir_change_on_read(const struct tdir *, const char *rel,
		     const char *text, int times);

#define TMSGS_MAX	64

/* Messages of conf_load(), policy_new() and the like, in order. */
struct tmsgs {
	char	*msg[TMSGS_MAX];
	size_t	 n;		/* all reported; the first TMSGS_MAX kept */
};

void	 tmsgs_cb(void *, const char *);
void	 tmsgs_clear(struct tmsgs *);
void	 tmsgs_print(const struct tmsgs *);
int	 tmsgs_find(const struct tmsgs *, const char *a, const char *b);
int	 tmsgs_have(const struct tmsgs *, const char *a, const char *b);
size_t	 tmsgs_count(const struct tmsgs *, const char *);

/*
 * The wire form of name, labels as they are between dots (no escapes; a
 * dot at the end is allowed; "" and "." are the root), into w of size
 * octets: its length. Written out here, not by the code under test.
 */
size_t	 tname(const char *name, uint8_t *w, size_t size);

#endif /* TDIR_H */
