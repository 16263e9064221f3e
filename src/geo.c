/*
 * geo.c: country and ASN lookups through libmaxminddb.
 *
 * Each database is opened with MMDB_MODE_MMAP and only read afterwards;
 * MMDB_lookup_sockaddr() and MMDB_get_value() keep all their state on the
 * caller's stack, so many workers may look up at once. A v4-mapped IPv6
 * address is looked up as IPv4, which works whether or not the file
 * aliases ::ffff:0:0/96 to its IPv4 tree.
 */
#include <sys/socket.h>
#include <sys/stat.h>
#include <netinet/in.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <maxminddb.h>

#include "geo.h"

struct geo {
	MMDB_s		country;	/* valid if have_country */
	MMDB_s		asn;		/* valid if have_asn */
	int		have_country;
	int		have_asn;
};

static const uint8_t geo_mapped[12] = {
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff
};

/* Open one database; on failure set *cause naming what and where. */
static int
geo_open_one(MMDB_s *mmdb, const char *what, const char *path, char **cause)
{
	struct stat	 st;
	const char	*reason;
	int		 status, error;

	/*
	 * mmap() would say "No such device" or "Invalid argument", and the
	 * open(2) of a FIFO waits for a writer for ever.
	 */
	if (stat(path, &st) == 0) {
		if (S_ISDIR(st.st_mode)) {
			reason = strerror(EISDIR);
			goto fail;
		}
		if (!S_ISREG(st.st_mode)) {
			reason = "not a regular file";
			goto fail;
		}
		if (st.st_size == 0) {
			reason = "empty file";
			goto fail;
		}
	}

	errno = 0;
	status = MMDB_open(path, MMDB_MODE_MMAP, mmdb);
	error = errno;
	if (status == MMDB_SUCCESS)
		return (0);
	/* System errors leave errno set: say which, not just "error". */
	if ((status == MMDB_FILE_OPEN_ERROR || status == MMDB_IO_ERROR) &&
	    error != 0)
		reason = strerror(error);
	else
		reason = MMDB_strerror(status);
fail:
	if (cause != NULL && asprintf(cause, "geoip %s %s: can't open: %s",
	    what, path, reason) == -1)
		*cause = NULL;
	return (-1);
}

struct geo *
geo_open(const char *country_path, const char *asn_path, char **cause)
{
	struct geo	*g;

	if (cause != NULL)
		*cause = NULL;
	if ((g = calloc(1, sizeof *g)) == NULL) {
		if (cause != NULL && asprintf(cause, "geoip: %s",
		    strerror(errno)) == -1)
			*cause = NULL;
		return (NULL);
	}
	if (country_path != NULL) {
		if (geo_open_one(&g->country, "country", country_path,
		    cause) == -1) {
			geo_free(g);
			return (NULL);
		}
		g->have_country = 1;
	}
	if (asn_path != NULL) {
		if (geo_open_one(&g->asn, "asn", asn_path, cause) == -1) {
			geo_free(g);
			return (NULL);
		}
		g->have_asn = 1;
	}
	return (g);
}

void
geo_free(struct geo *g)
{
	if (g == NULL)
		return;
	if (g->have_country)
		MMDB_close(&g->country);
	if (g->have_asn)
		MMDB_close(&g->asn);
	free(g);
}

/* Find sa in mmdb; 0 and *res filled, or -1 if not there. */
static int
geo_find(const MMDB_s *mmdb, const struct sockaddr *sa,
    MMDB_lookup_result_s *res)
{
	int	error;

	*res = MMDB_lookup_sockaddr(mmdb, sa, &error);
	if (error != MMDB_SUCCESS || !res->found_entry)
		return (-1);
	return (0);
}

/* Copy a two-letter code at path (e.g. "country", "iso_code") into cc. */
static int
geo_cc(MMDB_entry_s *entry, const char *key, char cc[3])
{
	MMDB_entry_data_s	 d;
	const char		*s;

	if (MMDB_get_value(entry, &d, key, "iso_code", NULL) != MMDB_SUCCESS ||
	    !d.has_data || d.type != MMDB_DATA_TYPE_UTF8_STRING ||
	    d.data_size != 2)
		return (-1);
	s = d.utf8_string;
	if (!((s[0] >= 'A' && s[0] <= 'Z') || (s[0] >= 'a' && s[0] <= 'z')) ||
	    !((s[1] >= 'A' && s[1] <= 'Z') || (s[1] >= 'a' && s[1] <= 'z')))
		return (-1);
	cc[0] = s[0] & ~0x20;	/* ASCII upper case */
	cc[1] = s[1] & ~0x20;
	cc[2] = '\0';
	return (0);
}

/* The autonomous_system_number of an entry, or 0. */
static uint32_t
geo_asn(MMDB_entry_s *entry)
{
	MMDB_entry_data_s	d;

	if (MMDB_get_value(entry, &d, "autonomous_system_number", NULL) !=
	    MMDB_SUCCESS || !d.has_data)
		return (0);
	switch (d.type) {
	case MMDB_DATA_TYPE_UINT16:
		return (d.uint16);
	case MMDB_DATA_TYPE_UINT32:
		return (d.uint32);
	case MMDB_DATA_TYPE_UINT64:
		return (d.uint64 > UINT32_MAX ? 0 : (uint32_t)d.uint64);
	default:
		return (0);
	}
}

int
geo_lookup(const struct geo *g, int family, const uint8_t *addr,
    char cc[3], uint32_t *asn)
{
	struct sockaddr_in	 sin;
	struct sockaddr_in6	 sin6;
	struct sockaddr		*sa;
	MMDB_lookup_result_s	 res;

	cc[0] = '\0';
	*asn = 0;
	if (g == NULL)
		return (-1);
	if (family == AF_INET6 && memcmp(addr, geo_mapped, 12) == 0) {
		family = AF_INET;
		addr += 12;
	}
	if (family == AF_INET) {
		memset(&sin, 0, sizeof sin);
		sin.sin_family = AF_INET;
		memcpy(&sin.sin_addr, addr, 4);
		sa = (struct sockaddr *)&sin;
	} else if (family == AF_INET6) {
		memset(&sin6, 0, sizeof sin6);
		sin6.sin6_family = AF_INET6;
		memcpy(&sin6.sin6_addr, addr, 16);
		sa = (struct sockaddr *)&sin6;
	} else
		return (-1);

	/* The country of the user, else of whoever registered the block. */
	if (g->have_country && geo_find(&g->country, sa, &res) == 0 &&
	    geo_cc(&res.entry, "country", cc) == -1 &&
	    geo_cc(&res.entry, "registered_country", cc) == -1)
		cc[0] = '\0';
	if (g->have_asn && geo_find(&g->asn, sa, &res) == 0)
		*asn = geo_asn(&res.entry);
	return (cc[0] != '\0' || *asn != 0 ? 0 : -1);
}
