/*
 * report_map.h: a string-keyed tally for veilig-report.
 *
 * Open addressing with linear probing over a power-of-two table, keys
 * interned in an arena the caller owns. Used for everything that is counted
 * by name: boards, query types, categories, sites, countries, AS numbers.
 * An entry carries two counts and one optional second string (a site's
 * category), so that one small structure serves all of them.
 */
#ifndef VEILIG_REPORT_MAP_H
#define VEILIG_REPORT_MAP_H

#include <stddef.h>
#include <stdint.h>

#include "report_mem.h"

struct report_map_ent {
	const char	*key;	/* NUL-terminated, in the arena */
	const char	*str;	/* caller's second string, or NULL */
	uint64_t	 n;	/* caller's counts, 0 when inserted */
	uint64_t	 m;
	uint32_t	 hash;
	uint32_t	 idx;	/* insertion order, 0.. */
};

struct report_map {
	struct report_map_ent	*e;	/* cap slots, key NULL when free */
	uint32_t		 cap;
	uint32_t		 len;
};

void	report_map_init(struct report_map *);
void	report_map_clear(struct report_map *);
/* The entry for key[0..len), inserted (counts 0) if it was not there. */
struct report_map_ent	*report_map_get(struct report_map *,
			    struct report_mem_arena *, const char *key,
			    size_t len);
/* The entry for key[0..len), or NULL. */
struct report_map_ent	*report_map_find(const struct report_map *,
			    const char *key, size_t len);
/*
 * The entries, largest n first (ties by key), as an array of *count
 * pointers into the map that the caller frees; valid until the map
 * changes.
 */
struct report_map_ent	**report_map_sorted(const struct report_map *,
			    size_t *count);

#endif
