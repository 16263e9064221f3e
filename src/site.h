/*
 * site.h: the registrable domain (eTLD+1) of a name, through libpsl and
 * the Public Suffix List Debian ships (package publicsuffix).
 *
 * "ads.tracker.example.co.uk" is the site "example.co.uk": what the
 * statistics name when they list the most blocked sites, so that a
 * report says which site was blocked, not which of its hosts a pupil's
 * device happened to ask for.
 *
 * libpsl takes about a microsecond per name, so results are kept in a
 * table keyed by the name; only the main thread uses it, once per
 * distinct blocked name and second, never on the query path.
 *
 * Ownership: site_new() returns an object owned by the caller. A string
 * site_of() returns lives until the next site_of() that clears the table
 * (it is bounded: when full it starts again) or site_free().
 */
#ifndef VEILIG_SITE_H
#define VEILIG_SITE_H

#include <stddef.h>
#include <stdint.h>

struct site;

/* A new table over the newest Public Suffix List found. NULL: no memory. */
struct site	*site_new(void);
void		 site_free(struct site *);

/*
 * The registrable domain of lname (lower-case wire form, len octets) as
 * text without the final dot, such as "example.co.uk". A name that is a
 * public suffix itself, or has no registrable part, is its own site
 * ("co.uk"); the root is ".". Octets that are not printable are written
 * \DDD. NULL only when out of memory.
 */
const char	*site_of(struct site *, const uint8_t *lname, size_t len);

/* Names remembered now. */
size_t		 site_size(const struct site *);

#endif
