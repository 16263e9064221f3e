/*
 * test_conf.c: unit tests of conf.c, the veiligd.yaml reader.
 *
 * Most tests feed a string to conf_load_string() and check either the
 * values that come out or each error message, position included.
 */

#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "conf.h"

#define MAXERR	64

/* Error messages collected by errs_cb. */
struct errs {
	char	*msg[MAXERR];
	size_t	 n;
};

static void
errs_cb(void *arg, const char *msg)
{
	struct errs	*e = arg;

	if (e->n < MAXERR)
		e->msg[e->n] = strdup(msg);
	e->n++;
}

static void
errs_clear(struct errs *e)
{
	size_t	i;

	for (i = 0; i < e->n && i < MAXERR; i++)
		free(e->msg[i]);
	memset(e, 0, sizeof *e);
}

/* True if some error message starts with want. */
static int
errs_has(const struct errs *e, const char *want)
{
	size_t	i;

	for (i = 0; i < e->n && i < MAXERR; i++)
		if (strncmp(e->msg[i], want, strlen(want)) == 0)
			return (1);
	for (i = 0; i < e->n && i < MAXERR; i++)
		print_message("  got: %s\n", e->msg[i]);
	print_message("  wanted: %s\n", want);
	return (0);
}

/* Load text expecting failure with exactly one error starting with want. */
static void
expect_one_error(const char *text, const char *want)
{
	struct errs	 e = { 0 };
	struct conf	*c;

	c = conf_load_string("t.yaml", text, errs_cb, &e);
	assert_null(c);
	assert_true(errs_has(&e, want));
	if (e.n != 1)
		for (size_t i = 0; i < e.n && i < MAXERR; i++)
			print_message("  got: %s\n", e.msg[i]);
	assert_int_equal(e.n, 1);
	errs_clear(&e);
}

/* Load text that must be valid. */
static struct conf *
load_ok(const char *text)
{
	struct errs	 e = { 0 };
	struct conf	*c;
	size_t		 i;

	c = conf_load_string("t.yaml", text, errs_cb, &e);
	for (i = 0; i < e.n && i < MAXERR; i++)
		print_message("unexpected: %s\n", e.msg[i]);
	assert_int_equal(e.n, 0);
	assert_non_null(c);
	errs_clear(&e);
	return (c);
}

static const char *full_conf =
    "# every key\n"
    "server:\n"
    "  listen: [ \"192.0.2.1:5353\", \"[2001:db8::1]:5353\", \"::1\",\n"
    "            \"[::2]\", 127.0.0.2 ]\n"
    "  workers: 4\n"
    "  tcp-idle-timeout: 2m\n"
    "  tcp-max-connections: 500\n"
    "  tcp-max-queries: '16'\n"
    "access:\n"
    "  - 10.0.0.0/8\n"
    "  - \"2001:db8::/32\"\n"
    "  - 192.0.2.7\n"
    "upstreams:\n"
    "  - 127.0.0.1:5300\n"
    "  - 198.51.100.1\n"
    "forward: { timeout: 250ms, attempts: 5 }\n"
    "cache:\n"
    "  size: 1GiB\n"
    "  serve-stale: 0\n"
    "  max-ttl: 2d\n"
    "  max-negative-ttl: 300\n";

static void
test_full(void **state)
{
	struct conf	*c;
	char		 buf[64];

	(void)state;
	c = load_ok(full_conf);
	assert_string_equal(c->path, "t.yaml");
	assert_int_equal(c->nlisten, 5);
	assert_string_equal(conf_sockaddr_str(&c->listen[0], buf, sizeof buf),
	    "192.0.2.1:5353");
	assert_string_equal(conf_sockaddr_str(&c->listen[1], buf, sizeof buf),
	    "[2001:db8::1]:5353");
	assert_string_equal(conf_sockaddr_str(&c->listen[2], buf, sizeof buf),
	    "[::1]:53");
	assert_string_equal(conf_sockaddr_str(&c->listen[3], buf, sizeof buf),
	    "[::2]:53");
	assert_string_equal(conf_sockaddr_str(&c->listen[4], buf, sizeof buf),
	    "127.0.0.2:53");
	assert_int_equal(c->listen[4].len, sizeof(struct sockaddr_in));
	assert_int_equal(c->listen[1].len, sizeof(struct sockaddr_in6));
	assert_int_equal(c->workers, 4);
	assert_int_equal(c->tcp_idle_ms, 120000);
	assert_int_equal(c->tcp_max_conns, 500);
	assert_int_equal(c->tcp_max_queries, 16);

	assert_int_equal(c->naccess, 3);
	assert_int_equal(c->access[0].family, AF_INET);
	assert_int_equal(c->access[0].prefix, 8);
	assert_int_equal(c->access[0].addr[0], 10);
	assert_int_equal(c->access[1].family, AF_INET6);
	assert_int_equal(c->access[1].prefix, 32);
	assert_int_equal(c->access[1].addr[0], 0x20);
	assert_int_equal(c->access[1].addr[1], 0x01);
	assert_int_equal(c->access[2].prefix, 32);
	assert_int_equal(c->access[2].addr[3], 7);

	assert_int_equal(c->nupstreams, 2);
	assert_string_equal(conf_sockaddr_str(&c->upstreams[0], buf,
	    sizeof buf), "127.0.0.1:5300");
	assert_string_equal(conf_sockaddr_str(&c->upstreams[1], buf,
	    sizeof buf), "198.51.100.1:53");
	assert_int_equal(c->fwd_timeout_ms, 250);
	assert_int_equal(c->fwd_attempts, 5);
	assert_int_equal(c->cache_size, 1024ULL * 1024 * 1024);
	assert_int_equal(c->serve_stale, 0);
	assert_int_equal(c->max_ttl, 2 * 86400);
	assert_int_equal(c->max_neg_ttl, 300);
	/* A buffer too short is refused, not overrun. */
	assert_null(conf_sockaddr_str(&c->listen[1], buf, 8));
	conf_free(c);
}

static void
test_defaults(void **state)
{
	struct conf	*c;
	char		 buf[64];

	(void)state;
	c = load_ok("upstreams: [ 192.0.2.53 ]\n");
	assert_int_equal(c->nlisten, 2);
	assert_string_equal(conf_sockaddr_str(&c->listen[0], buf, sizeof buf),
	    "127.0.0.1:53");
	assert_string_equal(conf_sockaddr_str(&c->listen[1], buf, sizeof buf),
	    "[::1]:53");
	assert_int_equal(c->workers, 0);
	assert_int_equal(c->tcp_idle_ms, 10000);
	assert_int_equal(c->tcp_max_conns, 1024);
	assert_int_equal(c->tcp_max_queries, 32);
	assert_int_equal(c->naccess, 2);
	assert_int_equal(c->access[0].family, AF_INET);
	assert_int_equal(c->access[0].addr[0], 127);
	assert_int_equal(c->access[0].prefix, 8);
	assert_int_equal(c->access[1].family, AF_INET6);
	assert_int_equal(c->access[1].addr[15], 1);
	assert_int_equal(c->access[1].prefix, 128);
	assert_int_equal(c->fwd_timeout_ms, 1000);
	assert_int_equal(c->fwd_attempts, 3);
	assert_int_equal(c->cache_size, 256ULL * 1024 * 1024);
	assert_int_equal(c->serve_stale, 86400);
	assert_int_equal(c->max_ttl, 86400);
	assert_int_equal(c->max_neg_ttl, 3600);
	conf_free(c);

	/* Empty sections and "auto" keep the defaults. */
	c = load_ok("server:\n  workers: auto\ncache:\n"
	    "upstreams: [ \"::1\" ]\n");
	assert_int_equal(c->workers, 0);
	assert_int_equal(c->cache_size, 256ULL * 1024 * 1024);
	conf_free(c);
}

static void
test_units(void **state)
{
	struct conf	*c;

	(void)state;
	c = load_ok("upstreams: [ 192.0.2.53 ]\n"
	    "cache: { size: 100000KB, max-ttl: 90m, max-negative-ttl: 2000ms,"
	    " serve-stale: 30d }\n"
	    "forward: { timeout: 60s }\n"
	    "server: { tcp-idle-timeout: 1h }\n");
	assert_int_equal(c->cache_size, 100000ULL * 1000);
	assert_int_equal(c->max_ttl, 5400);
	assert_int_equal(c->max_neg_ttl, 2);
	assert_int_equal(c->serve_stale, 30 * 86400);
	assert_int_equal(c->fwd_timeout_ms, 60000);
	assert_int_equal(c->tcp_idle_ms, 3600000);
	conf_free(c);

	c = load_ok("upstreams: [ 192.0.2.53 ]\ncache: { size: 64k }\n");
	assert_int_equal(c->cache_size, 65536);
	conf_free(c);
	c = load_ok("upstreams: [ 192.0.2.53 ]\ncache: { size: 2M }\n");
	assert_int_equal(c->cache_size, 2 * 1024 * 1024);
	conf_free(c);
	c = load_ok("upstreams: [ 192.0.2.53 ]\ncache: { size: 1GB }\n");
	assert_int_equal(c->cache_size, 1000000000ULL);
	conf_free(c);
	c = load_ok("upstreams: [ 192.0.2.53 ]\ncache: { size: 65536 }\n");
	assert_int_equal(c->cache_size, 65536);
	conf_free(c);
}

static void
test_errors(void **state)
{
	(void)state;
	/* Unknown keys: at the top level and nested. */
	expect_one_error("upstreams: [ 192.0.2.53 ]\nfoo: 1\n",
	    "t.yaml:2:1: foo: unknown key; valid keys at the top level are: "
	    "server, access, upstreams, forward, cache");
	expect_one_error("upstreams: [ 192.0.2.53 ]\nserver:\n  bar: 1\n",
	    "t.yaml:3:3: server.bar: unknown key; valid keys in server are: "
	    "listen, workers, tcp-idle-timeout");
	/* A dotted key is not a shortcut into a section. */
	expect_one_error("upstreams: [ 192.0.2.53 ]\nserver.workers: 2\n",
	    "t.yaml:2:1: server.workers: unknown key");
	/* Wrong kinds of node. */
	expect_one_error("upstreams: [ 192.0.2.53 ]\nserver:\n"
	    "  workers: [ 1 ]\n",
	    "t.yaml:3:12: server.workers: expected a single value, not a list");
	expect_one_error("upstreams: { a: 1 }\n",
	    "t.yaml:1:12: upstreams: expected a list, not a mapping");
	expect_one_error("upstreams: 192.0.2.53\n",
	    "t.yaml:1:12: upstreams: expected a list, not a single value");
	expect_one_error("upstreams: [ 192.0.2.53 ]\nserver: 5\n",
	    "t.yaml:2:9: server: expected a mapping of keys (listen, ");
	expect_one_error("upstreams: [ [ 192.0.2.53 ] ]\n",
	    "t.yaml:1:14: upstreams: expected an address, not a list");
	expect_one_error("- 1\n- 2\n",
	    "t.yaml:1:1: expected a mapping of keys (server, access, "
	    "upstreams, forward, cache) at the top, not a list");
	/* Out of range, bad numbers. */
	expect_one_error("upstreams: [ 192.0.2.53 ]\nserver:\n"
	    "  workers: lots\n",
	    "t.yaml:3:12: server.workers: 'lots' is not 'auto' or a number "
	    "from 1 to 256");
	expect_one_error("upstreams: [ 192.0.2.53 ]\nserver:\n"
	    "  workers: 257\n",
	    "t.yaml:3:12: server.workers: '257' is not 'auto' or a number");
	expect_one_error("upstreams: [ 192.0.2.53 ]\nforward:\n"
	    "  attempts: 0\n",
	    "t.yaml:3:13: forward.attempts: '0' is not a number from 1 to 10");
	expect_one_error("upstreams: [ 192.0.2.53 ]\nforward:\n"
	    "  attempts: -1\n",
	    "t.yaml:3:13: forward.attempts: '-1' is not a number");
	expect_one_error("upstreams: [ 192.0.2.53 ]\nforward:\n"
	    "  attempts:\n",
	    "t.yaml:3:12: forward.attempts: missing value");
	expect_one_error("upstreams: [ 192.0.2.53 ]\nforward:\n"
	    "  timeout: 61s\n",
	    "t.yaml:3:12: forward.timeout: '61s' is out of range 10ms to 1m");
	expect_one_error("upstreams: [ 192.0.2.53 ]\nforward:\n"
	    "  timeout: 5ms\n",
	    "t.yaml:3:12: forward.timeout: '5ms' is out of range 10ms to 1m");
	expect_one_error("upstreams: [ 192.0.2.53 ]\ncache:\n"
	    "  max-ttl: 31d\n",
	    "t.yaml:3:12: cache.max-ttl: '31d' is out of range 1s to 30d");
	/* Bad duration units, and ms for a field in seconds. */
	expect_one_error("upstreams: [ 192.0.2.53 ]\nforward:\n"
	    "  timeout: 1w\n",
	    "t.yaml:3:12: forward.timeout: '1w' is not a duration");
	expect_one_error("upstreams: [ 192.0.2.53 ]\ncache:\n"
	    "  max-ttl: 1500ms\n",
	    "t.yaml:3:12: cache.max-ttl: '1500ms' is not a whole number of "
	    "seconds");
	expect_one_error("upstreams: [ 192.0.2.53 ]\ncache:\n"
	    "  max-ttl: 99999999999999999999d\n",
	    "t.yaml:3:12: cache.max-ttl: '99999999999999999999d' is not a "
	    "duration");
	/* Bad sizes. */
	expect_one_error("upstreams: [ 192.0.2.53 ]\ncache:\n"
	    "  size: 12XB\n",
	    "t.yaml:3:9: cache.size: '12XB' is not a size");
	expect_one_error("upstreams: [ 192.0.2.53 ]\ncache:\n"
	    "  size: 1k\n",
	    "t.yaml:3:9: cache.size: '1k' is out of range 64KiB to 64GiB");
	expect_one_error("upstreams: [ 192.0.2.53 ]\ncache:\n"
	    "  size: 1099511627776G\n",
	    "t.yaml:3:9: cache.size: '1099511627776G' is out of range");
	/* Bad networks. */
	expect_one_error("upstreams: [ 192.0.2.53 ]\n"
	    "access: [ 192.0.2.1/24 ]\n",
	    "t.yaml:2:11: access: '192.0.2.1/24' has host bits set (the "
	    "network is 192.0.2.0/24)");
	expect_one_error("upstreams: [ 192.0.2.53 ]\naccess: [ "
	    "\"2001:db8::1/32\" ]\n",
	    "t.yaml:2:11: access: '2001:db8::1/32' has host bits set (the "
	    "network is 2001:db8::/32)");
	expect_one_error("upstreams: [ 192.0.2.53 ]\naccess: [ 10.0.0.0/33 ]\n",
	    "t.yaml:2:11: access: '10.0.0.0/33' has a bad prefix length");
	expect_one_error("upstreams: [ 192.0.2.53 ]\naccess: [ 10.0.0/8 ]\n",
	    "t.yaml:2:11: access: '10.0.0/8' is not a network");
	expect_one_error("upstreams: [ 192.0.2.53 ]\naccess: []\n",
	    "t.yaml:2:9: access: has 0 entries, not from 1 to 4096");
	/* Bad addresses and ports. */
	expect_one_error("upstreams: [ 192.0.2.53:0 ]\n",
	    "t.yaml:1:14: upstreams: '192.0.2.53:0' has a bad port");
	expect_one_error("upstreams: [ 192.0.2.53:65536 ]\n",
	    "t.yaml:1:14: upstreams: '192.0.2.53:65536' has a bad port");
	expect_one_error("upstreams: [ \"[::1]:\" ]\n",
	    "t.yaml:1:14: upstreams: '[::1]:' has a bad port");
	expect_one_error("upstreams: [ \"fe80::1%eth0\" ]\n",
	    "t.yaml:1:14: upstreams: 'fe80::1%eth0' has a scope id");
	expect_one_error("upstreams: [ example.com ]\n",
	    "t.yaml:1:14: upstreams: 'example.com' is not an address");
	expect_one_error("upstreams: [ \"[192.0.2.1]:53\" ]\n",
	    "t.yaml:1:14: upstreams: '[192.0.2.1]:53' is not an address");
	/* Missing and duplicate keys. */
	expect_one_error("", "t.yaml:1:1: upstreams: required");
	expect_one_error("# nothing\n", "t.yaml:1:1: upstreams: required");
	expect_one_error("server: { workers: 2 }\n",
	    "t.yaml:1:1: upstreams: required");
	expect_one_error("upstreams: [ 192.0.2.53 ]\ncache: { size: 1M, "
	    "size: 2M }\n",
	    "t.yaml:2:20: cache.size: duplicate key (first at line 2 "
	    "column 10)");
	expect_one_error("upstreams: [ 192.0.2.53 ]\n"
	    "upstreams: [ 192.0.2.54 ]\n",
	    "t.yaml:2:1: upstreams: duplicate key (first at line 1 column 1)");
	/* YAML syntax errors and aliases. */
	expect_one_error("upstreams: [ 192.0.2.53\n",
	    "t.yaml:2:1: YAML syntax error: did not find expected ',' or ']'");
	expect_one_error("upstreams: [ 192.0.2.53 ]\n  bad: 1\n",
	    "t.yaml:2:3: YAML syntax error: did not find expected key (while "
	    "parsing a block mapping that starts at line 1 column 1)");
	expect_one_error("upstreams: &u [ 192.0.2.53 ]\n",
	    "t.yaml:1:12: anchor '&u': anchors and aliases are not supported");
	expect_one_error("upstreams: [ 192.0.2.53 ]\nx: 1\n---\ny: 2\n",
	    "t.yaml:3:1: only one YAML document is allowed");
	expect_one_error("upstreams: [ 192.0.2.53 ]\nserver:\n\tworkers: 2\n",
	    "t.yaml:3:1: YAML syntax error: found character that cannot "
	    "start any token");
	expect_one_error("upstreams: [ 192.0.2.53 ]\ncache: { size: \xff }\n",
	    "t.yaml:2:16: YAML syntax error: invalid leading UTF-8 octet");
	expect_one_error("x: [[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[",
	    "t.yaml:1:35: nested more than 32 levels deep");
	expect_one_error("upstreams: [ \"a\\0b\" ]\n",
	    "t.yaml:1:14: value contains a NUL character");
}

/* An alias is reported, and so are other errors in the same file. */
static void
test_alias(void **state)
{
	struct errs	 e = { 0 };
	struct conf	*c;

	(void)state;
	c = conf_load_string("t.yaml", "upstreams: &u [ 192.0.2.53 ]\n"
	    "server:\n  listen: *u\n", errs_cb, &e);
	assert_null(c);
	assert_int_equal(e.n, 2);
	assert_true(errs_has(&e, "t.yaml:1:12: anchor '&u'"));
	assert_true(errs_has(&e, "t.yaml:3:11: alias '*u': anchors and "
	    "aliases are not supported"));
	errs_clear(&e);
}

/* Every semantic error in a file comes out of one call. */
static void
test_many_errors(void **state)
{
	struct errs	 e = { 0 };
	struct conf	*c;

	(void)state;
	c = conf_load_string("t.yaml",
	    "server:\n"
	    "  listen: [ \"1.2.3.4:0\", \"[::1]:99999\" ]\n"	/* 2 */
	    "  workers: many\n"				/* 1 */
	    "  color: blue\n"				/* 1 */
	    "access: [ 10.0.0.1/8 ]\n"			/* 1 */
	    "forward: { timeout: 1y }\n"		/* 1 */
	    "cache: { size: 1k, size: 2k }\n"		/* 2 */
	    "extra: true\n",				/* 1 */
	    errs_cb, &e);				/* + upstreams */
	assert_null(c);
	assert_int_equal(e.n, 10);
	assert_true(errs_has(&e, "t.yaml:2:13: server.listen: '1.2.3.4:0'"));
	assert_true(errs_has(&e, "t.yaml:2:26: server.listen: '[::1]:99999'"));
	assert_true(errs_has(&e, "t.yaml:3:12: server.workers: 'many'"));
	assert_true(errs_has(&e, "t.yaml:4:3: server.color: unknown key"));
	assert_true(errs_has(&e, "t.yaml:5:11: access: '10.0.0.1/8' has "
	    "host bits set"));
	assert_true(errs_has(&e, "t.yaml:6:21: forward.timeout: '1y'"));
	assert_true(errs_has(&e, "t.yaml:7:16: cache.size: '1k' is out of "));
	assert_true(errs_has(&e, "t.yaml:7:20: cache.size: duplicate key"));
	assert_true(errs_has(&e, "t.yaml:8:1: extra: unknown key"));
	assert_true(errs_has(&e, "t.yaml:1:1: upstreams: required"));
	errs_clear(&e);
}

/* Compare two configurations field by field. */
static void
assert_conf_equal(const struct conf *a, const struct conf *b)
{
	size_t	i;

	assert_int_equal(a->nlisten, b->nlisten);
	for (i = 0; i < a->nlisten; i++) {
		assert_int_equal(a->listen[i].len, b->listen[i].len);
		assert_memory_equal(&a->listen[i].ss, &b->listen[i].ss,
		    a->listen[i].len);
	}
	assert_int_equal(a->nupstreams, b->nupstreams);
	for (i = 0; i < a->nupstreams; i++) {
		assert_int_equal(a->upstreams[i].len, b->upstreams[i].len);
		assert_memory_equal(&a->upstreams[i].ss, &b->upstreams[i].ss,
		    a->upstreams[i].len);
	}
	assert_int_equal(a->naccess, b->naccess);
	for (i = 0; i < a->naccess; i++)
		assert_memory_equal(&a->access[i], &b->access[i],
		    sizeof a->access[i]);
	assert_int_equal(a->workers, b->workers);
	assert_int_equal(a->tcp_idle_ms, b->tcp_idle_ms);
	assert_int_equal(a->tcp_max_conns, b->tcp_max_conns);
	assert_int_equal(a->tcp_max_queries, b->tcp_max_queries);
	assert_int_equal(a->fwd_timeout_ms, b->fwd_timeout_ms);
	assert_int_equal(a->fwd_attempts, b->fwd_attempts);
	assert_int_equal(a->cache_size, b->cache_size);
	assert_int_equal(a->serve_stale, b->serve_stale);
	assert_int_equal(a->max_ttl, b->max_ttl);
	assert_int_equal(a->max_neg_ttl, b->max_neg_ttl);
}

/* Print, read back, compare; and the same for the defaults. */
static void
roundtrip(const char *text)
{
	struct conf	*a, *b;
	char		*out = NULL;
	size_t		 len = 0;
	FILE		*f;

	a = load_ok(text);
	f = open_memstream(&out, &len);
	assert_non_null(f);
	conf_print(a, f);
	fclose(f);
	b = load_ok(out);
	assert_conf_equal(a, b);
	conf_free(a);
	conf_free(b);
	free(out);
}

static void
test_print(void **state)
{
	struct conf	*c;
	char		*out = NULL;
	size_t		 len = 0;
	FILE		*f;

	(void)state;
	roundtrip(full_conf);
	roundtrip("upstreams: [ 192.0.2.53 ]\n");
	roundtrip("upstreams: [ 192.0.2.53 ]\ncache: { size: 100001, "
	    "max-ttl: 61, serve-stale: 0 }\nforward: { timeout: 1001ms }\n");

	/* Readable units and every key are in the output. */
	c = load_ok("upstreams: [ 192.0.2.53 ]\n");
	f = open_memstream(&out, &len);
	conf_print(c, f);
	fclose(f);
	assert_non_null(strstr(out, "\nserver:\n"));
	assert_non_null(strstr(out, "\n  listen:\n    - \"127.0.0.1:53\"\n"
	    "    - \"[::1]:53\"\n"));
	assert_non_null(strstr(out, "\n  workers: auto\n"));
	assert_non_null(strstr(out, "\n  tcp-idle-timeout: 10s\n"));
	assert_non_null(strstr(out, "\n  tcp-max-connections: 1024\n"));
	assert_non_null(strstr(out, "\n  tcp-max-queries: 32\n"));
	assert_non_null(strstr(out, "\naccess:\n  - \"127.0.0.0/8\"\n"
	    "  - \"::1/128\"\n"));
	assert_non_null(strstr(out, "\nupstreams:\n  - \"192.0.2.53:53\"\n"));
	assert_non_null(strstr(out, "\n  timeout: 1s\n"));
	assert_non_null(strstr(out, "\n  attempts: 3\n"));
	assert_non_null(strstr(out, "\n  size: 256MiB\n"));
	assert_non_null(strstr(out, "\n  serve-stale: 1d\n"));
	assert_non_null(strstr(out, "\n  max-ttl: 1d\n"));
	assert_non_null(strstr(out, "\n  max-negative-ttl: 1h\n"));
	free(out);
	conf_free(c);
}

static void
test_files(void **state)
{
	struct errs	 e = { 0 };
	struct conf	*c;
	char		 path[] = "/tmp/test_conf.XXXXXX", buf[64];
	const char	*text = "upstreams:\n  - 127.0.0.1:5300\n";
	int		 fd;

	(void)state;
	/* A missing file is one error naming it. */
	c = conf_load("/nonexistent/veiligd.yaml", errs_cb, &e);
	assert_null(c);
	assert_int_equal(e.n, 1);
	assert_true(errs_has(&e, "/nonexistent/veiligd.yaml: cannot open: "));
	errs_clear(&e);

	/* A temporary file: errors name it, values are read. */
	fd = mkstemp(path);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
	c = conf_load(path, errs_cb, &e);
	assert_int_equal(e.n, 0);
	assert_non_null(c);
	assert_string_equal(c->path, path);
	assert_string_equal(conf_sockaddr_str(&c->upstreams[0], buf,
	    sizeof buf), "127.0.0.1:5300");
	conf_free(c);
	fd = open(path, O_WRONLY | O_TRUNC);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, "cache: [ 1 ]\n", 13), 13);
	close(fd);
	c = conf_load(path, errs_cb, &e);
	assert_null(c);
	assert_int_equal(e.n, 2);
	snprintf(buf, sizeof buf, "%s:1:8: cache: expected a mapping", path);
	assert_true(errs_has(&e, buf));
	errs_clear(&e);
	unlink(path);

	/* The shipped examples are valid (tests run from the top). */
	c = conf_load("conf/veiligd.yaml", errs_cb, &e);
	assert_int_equal(e.n, 0);
	assert_non_null(c);
	assert_string_equal(conf_sockaddr_str(&c->listen[0], buf, sizeof buf),
	    "127.0.0.1:5353");
	assert_string_equal(conf_sockaddr_str(&c->upstreams[0], buf,
	    sizeof buf), "127.0.0.1:5300");
	conf_free(c);
	c = conf_load("conf/veiligd-production.yaml", errs_cb, &e);
	assert_int_equal(e.n, 0);
	assert_non_null(c);
	assert_string_equal(conf_sockaddr_str(&c->listen[0], buf, sizeof buf),
	    "127.0.0.1:53");
	conf_free(c);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_full),
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_units),
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_alias),
		cmocka_unit_test(test_many_errors),
		cmocka_unit_test(test_print),
		cmocka_unit_test(test_files),
	};

	return (cmocka_run_group_tests(tests, NULL, NULL));
}
