/*
 * geo.h: country and ASN of an address, from MaxMind DB files.
 *
 * A thin layer over libmaxminddb: two optional databases (a country one
 * such as GeoLite2-Country or DB-IP country, and an ASN one such as
 * GeoLite2-ASN), opened with MMDB_MODE_MMAP at policy load and read-only
 * afterwards (libmaxminddb lookups on an opened database are thread-safe).
 *
 * Used when an answer enters the cache, not on a cache hit.
 *
 * Ownership: geo_open() returns a struct geo owned by the policy
 * snapshot, closed by geo_free().
 */
#ifndef VEILIG_GEO_H
#define VEILIG_GEO_H

#include <stdint.h>

struct geo;

/*
 * Open the databases (either path may be NULL). On failure return NULL and
 * set *cause to an allocated message naming the file.
 */
struct geo	*geo_open(const char *country_path, const char *asn_path,
		    char **cause);
void		 geo_free(struct geo *);

/*
 * Look up an address (family AF_INET with 4 octets or AF_INET6 with 16).
 * cc gets the ISO 3166 country code in upper case ("NL") or "" when
 * unknown (cc has room for 3 octets); *asn the autonomous system number
 * or 0. Returns 0, or -1 when nothing is known.
 */
int		 geo_lookup(const struct geo *, int family, const uint8_t *addr,
		    char cc[3], uint32_t *asn);

#endif
