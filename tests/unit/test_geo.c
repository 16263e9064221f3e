/*
 * test_geo.c: country and ASN lookups on small MaxMind DB files that
 * tests/unit/mkmmdb.pl writes into a temporary directory at setup: IPv4,
 * IPv6, v4-mapped, unknown addresses, the registered-country fallback,
 * absent databases, and errors that name the file.
 */
#include <sys/stat.h>
#include <arpa/inet.h>
#include <netinet/in.h>

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "geo.h"
#include "tdir.h"

/* The directory of test files; path "" until setup has made it. */
static struct tdir	d;

/* "dir/name" in buf. */
static const char *
path(const char *name, char *buf, size_t len)
{
	return (tdir_path(&d, name, buf, len));
}

/* Make the databases: the built-in ones in dir, spec ones in dir/spec. */
static int
setup(void **state)
{
	char	cmd[512];

	(void)state;
	tdir_new(&d, "test_geo", "spec", NULL);
	snprintf(cmd, sizeof cmd, "perl tests/unit/mkmmdb.pl %s", d.path);
	if (system(cmd) != 0) {
		fprintf(stderr, "test_geo: '%s' failed (is "
		    "libmaxmind-db-writer-perl installed?)\n", cmd);
		return (-1);
	}
	tdir_write(&d, "country.spec", "# test\n10.0.0.0/8 us\n\n"
	    "2001:db8:9::/48  FR  # trailing\n");
	tdir_write(&d, "asn.spec", "10.0.0.0/8 AS64512 Ten Net, Inc.\n"
	    "2001:db8:9::/48 4200000000\n");
	tdir_write(&d, "garbage.mmdb", "this is not a MaxMind DB\n");
	tdir_write(&d, "empty.mmdb", "");
	snprintf(cmd, sizeof cmd, "perl tests/unit/mkmmdb.pl %s/spec "
	    "%s/country.spec %s/asn.spec", d.path, d.path, d.path);
	if (system(cmd) != 0) {
		fprintf(stderr, "test_geo: '%s' failed\n", cmd);
		return (-1);
	}
	return (0);
}

static int
teardown(void **state)
{
	(void)state;
	tdir_free(&d);
	return (0);
}

/* Open dir/country and dir/asn (either name may be NULL). */
static struct geo *
open_db(const char *country, const char *asn)
{
	char		 pc[256], pa[256], *cause = NULL;
	struct geo	*g;

	g = geo_open(country == NULL ? NULL : path(country, pc, sizeof pc),
	    asn == NULL ? NULL : path(asn, pa, sizeof pa), &cause);
	if (g == NULL)
		fail_msg("geo_open: %s", cause != NULL ? cause : "?");
	assert_null(cause);
	return (g);
}

/* Look up a textual address; return geo_lookup's value. */
static int
look(const struct geo *g, const char *addr, char cc[3], uint32_t *asn)
{
	uint8_t	raw[16];
	int	family;

	family = strchr(addr, ':') != NULL ? AF_INET6 : AF_INET;
	assert_int_equal(inet_pton(family, addr, raw), 1);
	/* Stale values must be overwritten. */
	memcpy(cc, "XX", 3);
	*asn = 99;
	return (geo_lookup(g, family, raw, cc, asn));
}

static void
test_ipv4(void **state)
{
	struct geo	*g;
	char		 cc[3];
	uint32_t	 asn;

	(void)state;
	g = open_db("country.mmdb", "asn.mmdb");
	assert_int_equal(look(g, "192.0.2.5", cc, &asn), 0);
	assert_string_equal(cc, "NL");
	assert_int_equal(asn, 64496);
	assert_int_equal(look(g, "198.51.100.255", cc, &asn), 0);
	assert_string_equal(cc, "RU");
	assert_int_equal(asn, 64511);
	/* Only registered_country in the file. */
	assert_int_equal(look(g, "203.0.113.7", cc, &asn), 0);
	assert_string_equal(cc, "JP");
	assert_int_equal(asn, 0);
	geo_free(g);
}

static void
test_ipv6(void **state)
{
	struct geo	*g;
	char		 cc[3];
	uint32_t	 asn;

	(void)state;
	g = open_db("country.mmdb", "asn.mmdb");
	assert_int_equal(look(g, "2001:db8:1::53", cc, &asn), 0);
	assert_string_equal(cc, "DE");
	assert_int_equal(asn, 65551);
	assert_int_equal(look(g, "2001:db8:1:ffff:ffff:ffff:ffff:ffff", cc,
	    &asn), 0);
	assert_string_equal(cc, "DE");
	/* Known to the ASN database only. */
	assert_int_equal(look(g, "2001:db8:2::1", cc, &asn), 0);
	assert_string_equal(cc, "");
	assert_int_equal(asn, 64500);
	geo_free(g);
}

static void
test_mapped(void **state)
{
	struct geo	*g;
	char		 cc[3];
	uint32_t	 asn;

	(void)state;
	g = open_db("country.mmdb", "asn.mmdb");
	assert_int_equal(look(g, "::ffff:192.0.2.200", cc, &asn), 0);
	assert_string_equal(cc, "NL");
	assert_int_equal(asn, 64496);
	assert_int_equal(look(g, "::ffff:8.8.8.8", cc, &asn), -1);
	assert_string_equal(cc, "");
	geo_free(g);
}

static void
test_unknown(void **state)
{
	struct geo	*g;
	char		 cc[3];
	uint32_t	 asn;
	uint8_t		 raw[16];

	(void)state;
	g = open_db("country.mmdb", "asn.mmdb");
	assert_int_equal(look(g, "8.8.8.8", cc, &asn), -1);
	assert_string_equal(cc, "");
	assert_int_equal(asn, 0);
	assert_int_equal(look(g, "192.0.3.0", cc, &asn), -1);
	assert_int_equal(look(g, "2001:db8:3::1", cc, &asn), -1);
	assert_string_equal(cc, "");
	assert_int_equal(asn, 0);
	assert_int_equal(look(g, "::", cc, &asn), -1);

	memset(raw, 0, sizeof raw);
	asn = 7;
	assert_int_equal(geo_lookup(g, AF_UNIX, raw, cc, &asn), -1);
	assert_string_equal(cc, "");
	assert_int_equal(asn, 0);
	geo_free(g);
}

static void
test_null_paths(void **state)
{
	struct geo	*g;
	char		 cc[3], *cause = NULL;
	uint32_t	 asn;

	(void)state;
	g = geo_open(NULL, NULL, &cause);
	assert_non_null(g);
	assert_null(cause);
	assert_int_equal(look(g, "192.0.2.5", cc, &asn), -1);
	assert_string_equal(cc, "");
	assert_int_equal(asn, 0);
	assert_int_equal(look(g, "2001:db8:1::1", cc, &asn), -1);
	geo_free(g);
	geo_free(NULL);

	/* One of the two. */
	g = open_db("country.mmdb", NULL);
	assert_int_equal(look(g, "192.0.2.5", cc, &asn), 0);
	assert_string_equal(cc, "NL");
	assert_int_equal(asn, 0);
	geo_free(g);
	g = open_db(NULL, "asn.mmdb");
	assert_int_equal(look(g, "192.0.2.5", cc, &asn), 0);
	assert_string_equal(cc, "");
	assert_int_equal(asn, 64496);
	geo_free(g);
}

/* geo_open must fail with a cause naming the file and saying why. */
static void
check_error(const char *country, const char *asn, const char *file,
    const char *why)
{
	char		 pc[256], pa[256], want[512], *cause = NULL;
	struct geo	*g;

	g = geo_open(country == NULL ? NULL : path(country, pc, sizeof pc),
	    asn == NULL ? NULL : path(asn, pa, sizeof pa), &cause);
	assert_null(g);
	assert_non_null(cause);
	snprintf(want, sizeof want, "geoip %s %s/%s: can't open: ",
	    country != NULL && strcmp(country, file) == 0 ? "country" : "asn",
	    d.path, file);
	if (strncmp(cause, want, strlen(want)) != 0 ||
	    strstr(cause, why) == NULL)
		fail_msg("cause '%s', want '%s...%s'", cause, want, why);
	free(cause);
}

static void
test_errors(void **state)
{
	char	p[256];

	(void)state;
	check_error("missing.mmdb", NULL, "missing.mmdb",
	    "No such file or directory");
	check_error(NULL, "missing.mmdb", "missing.mmdb",
	    "No such file or directory");
	/* A good country file does not hide a bad ASN one. */
	check_error("country.mmdb", "missing.mmdb", "missing.mmdb",
	    "No such file");
	check_error("garbage.mmdb", "asn.mmdb", "garbage.mmdb", "metadata");
	check_error(NULL, "garbage.mmdb", "garbage.mmdb", "metadata");
	check_error("empty.mmdb", NULL, "empty.mmdb", "empty file");
	check_error("spec", NULL, "spec", "Is a directory");
	/* A FIFO: refused, not opened (the alarm ends a test that hangs). */
	assert_int_equal(mkfifo(path("fifo.mmdb", p, sizeof p), 0600), 0);
	alarm(10);
	check_error("fifo.mmdb", NULL, "fifo.mmdb", "not a regular file");
	alarm(0);
	assert_int_equal(unlink(p), 0);

	/* A NULL cause is allowed. */
	assert_null(geo_open(path("missing.mmdb", p, sizeof p), NULL, NULL));
}

/* mkmmdb.pl with spec files, as the end-to-end tests use it. */
static void
test_spec(void **state)
{
	struct geo	*g;
	char		 cc[3];
	uint32_t	 asn;

	(void)state;
	g = open_db("spec/country.mmdb", "spec/asn.mmdb");
	assert_int_equal(look(g, "10.20.30.40", cc, &asn), 0);
	assert_string_equal(cc, "US");
	assert_int_equal(asn, 64512);
	assert_int_equal(look(g, "2001:db8:9::1", cc, &asn), 0);
	assert_string_equal(cc, "FR");
	assert_int_equal(asn, 4200000000U);
	/* None of the built-in data. */
	assert_int_equal(look(g, "192.0.2.5", cc, &asn), -1);
	geo_free(g);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ipv4),
		cmocka_unit_test(test_ipv6),
		cmocka_unit_test(test_mapped),
		cmocka_unit_test(test_unknown),
		cmocka_unit_test(test_null_paths),
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_spec),
	};

	return (cmocka_run_group_tests(tests, setup, teardown));
}
