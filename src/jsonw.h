/*
 * jsonw.h: JSON lines written straight into a growable buffer.
 *
 * The statistics' close writes a record per board every interval, 10,000
 * of them at 10,000 boards, on the main thread beside a worker: building
 * each as jansson objects (an allocation and a hash insert per member)
 * and dumping it took about 300 ms of CPU a close (tests/bench/README.md,
 * "The close's records without jansson"). Here a record is written as
 * its members come, with no tree.
 *
 * The text is byte for byte what jansson 2.14's json_dumps() with
 * JSON_COMPACT | JSON_REAL_PRECISION(6) writes for the same object built
 * member by member with json_object_set_new(), so that the files read as
 * before: no space, members in the order written; integers as %lld;
 * reals as %.6g with ".0" added where the text would read as an integer
 * and the exponent's '+' and leading zeros dropped; in strings '"', '\\'
 * and the control characters escaped (\b \f \n \r \t, else \u00XX in
 * capitals), '/', DEL and non-ASCII as they are. A string (or key) that
 * jansson refuses, NULL or not UTF-8, leaves its member out, as
 * json_string() returning NULL does. test_jsonw.c checks all of it
 * against jansson.
 *
 * Usage: jsonw_begin(), members (a NULL key inside an array or for the
 * record itself), jsonw_end(). Out of memory, the record is dropped whole
 * (jsonw_end() returns -1) and the buffer holds the records before it.
 * Keys of jsonw_open() are the caller's literals, in ASCII. A key written
 * twice in an object is there twice (jansson would keep its first place
 * with the last value): the callers' keys are distinct.
 *
 * The caller embeds struct jsonw zeroed (or after jsonw_clear()); one
 * thread uses it.
 */
#ifndef VEILIG_JSONW_H
#define VEILIG_JSONW_H

#include <stddef.h>
#include <stdint.h>

#define JSONW_DEPTH	16	/* objects and arrays open at once */

struct jsonw {
	char		*buf;		/* the records, malloc'd */
	size_t		 len;
	size_t		 cap;
	size_t		 mark;		/* where the record being written
					   began */
	unsigned	 depth;		/* open objects and arrays */
	uint32_t	 more;		/* bit d: depth d has a member */
	int		 failed;	/* out of memory (or too deep) in
					   this record */
};

/* Start a record at the end of the buffer. */
void	jsonw_begin(struct jsonw *);
/* End it with a newline: 0, or -1 when it was dropped. */
int	jsonw_end(struct jsonw *);
/* Free the buffer; w is empty after. */
void	jsonw_clear(struct jsonw *);

/* Open an object ('{') or array ('['), as member key; close it. */
void	jsonw_open(struct jsonw *, const char *key, char c);
void	jsonw_close(struct jsonw *, char c);

void	jsonw_int(struct jsonw *, const char *key, int64_t v);
void	jsonw_real(struct jsonw *, const char *key, double v);
/* 0, or -1 with nothing written when s or key is NULL or not UTF-8. */
int	jsonw_string(struct jsonw *, const char *key, const char *s);
/* A value that is JSON already, such as a part written once. */
void	jsonw_raw(struct jsonw *, const char *key, const char *text,
	    size_t len);

/*
 * Members already written as JSON ("a":1,"b":2: no braces), such as the
 * fields every record of a close starts with, written once.
 */
void	jsonw_members(struct jsonw *, const char *text, size_t len);

/* Whether s, of len octets, is UTF-8 as RFC 3629 says (jansson's test). */
int	jsonw_utf8(const char *s, size_t len);

#endif
