/*
 * test_conf.c: unit tests of conf.c, the veiligd.yaml and board reader.
 *
 * Most tests feed a string to conf_load_string() and check either the
 * values that come out or each error message, position included. Board
 * files are only found through the boards glob, so their tests write
 * veiligd.yaml and files in boards/ of a mkdtemp() directory and call
 * conf_load() on it.
 */

#include <sys/socket.h>
#include <sys/stat.h>
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
#include "lists.h"

#include "tdir.h"

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
    "  tcp-max-connections-per-client: 8\n"
    "  tcp-query-timeout: 750ms\n"
    "  receive-buffer: 1MiB\n"
    "upstreams:\n"
    "  - 127.0.0.1:5300\n"
    "  - 198.51.100.1\n"
    "forward: { timeout: 250ms, attempts: 5 }\n"
    "cache:\n"
    "  size: 1GiB\n"
    "  serve-stale: 0\n"
    "  max-ttl: 2d\n"
    "  max-negative-ttl: 300\n"
    "  failure-ttl: 1m\n"
    "limits: { forwarded: 1000, forwarded-per-question: 7,"
    " client-share: 25 }\n"
    "rrl:\n"
    "  responses-per-second: 20\n"
    "  nodata-per-second: 11\n"
    "  nxdomains-per-second: 12\n"
    "  errors-per-second: 5\n"
    "  slip: 3\n"
    "  ipv4-prefix: 32\n"
    "  ipv6-prefix: 48\n"
    "  table-size: 2048\n";

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
	assert_int_equal(c->receive_buffer, 1024 * 1024);

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
	assert_int_equal(c->tcp_max_conns_client, 8);
	assert_int_equal(c->tcp_query_ms, 750);
	assert_int_equal(c->failure_ttl, 60);
	assert_int_equal(c->lim_forwarded, 1000);
	assert_int_equal(c->lim_per_question, 7);
	assert_int_equal(c->lim_client_share, 25);
	assert_int_equal(c->rrl_rates[0], 20);
	assert_int_equal(c->rrl_rates[1], 11);
	assert_int_equal(c->rrl_rates[2], 12);
	assert_int_equal(c->rrl_rates[3], 5);
	assert_int_equal(c->rrl_slip, 3);
	assert_int_equal(c->rrl_prefix4, 32);
	assert_int_equal(c->rrl_prefix6, 48);
	assert_int_equal(c->rrl_table_size, 2048);
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
	assert_int_equal(c->fwd_timeout_ms, 1000);
	assert_int_equal(c->fwd_attempts, 3);
	assert_int_equal(c->cache_size, 256ULL * 1024 * 1024);
	assert_int_equal(c->serve_stale, 86400);
	assert_int_equal(c->max_ttl, 86400);
	assert_int_equal(c->max_neg_ttl, 3600);
	assert_int_equal(c->tcp_max_conns_client, 64);
	assert_int_equal(c->tcp_query_ms, 5000);
	assert_int_equal(c->receive_buffer, 4 * 1024 * 1024);
	assert_int_equal(c->failure_ttl, 5);
	assert_int_equal(c->lim_forwarded, 16384);
	assert_int_equal(c->lim_per_question, 100);
	assert_int_equal(c->lim_client_share, 10);
	/* Response rate limiting is off unless a rate is set. */
	assert_int_equal(c->rrl_rates[0] | c->rrl_rates[1] | c->rrl_rates[2] |
	    c->rrl_rates[3], 0);
	assert_int_equal(c->rrl_slip, 2);
	assert_int_equal(c->rrl_prefix4, 24);
	assert_int_equal(c->rrl_prefix6, 56);
	assert_int_equal(c->rrl_table_size, 65536);
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

/*
 * server.receive-buffer: a size, 64 KiB to 256 MiB (SO_RCVBUF is an int,
 * which the kernel doubles), by the parser and messages of every size.
 */
static void
test_receive_buffer(void **state)
{
	struct conf	*c;

	(void)state;
	c = load_ok("upstreams: [ 192.0.2.53 ]\n"
	    "server: { receive-buffer: 64KiB }\n");
	assert_int_equal(c->receive_buffer, 65536);
	conf_free(c);
	c = load_ok("upstreams: [ 192.0.2.53 ]\n"
	    "server: { receive-buffer: 256M }\n");
	assert_int_equal(c->receive_buffer, 256ULL * 1024 * 1024);
	conf_free(c);
	c = load_ok("upstreams: [ 192.0.2.53 ]\nserver:\n"
	    "  receive-buffer: 1000000\n");
	assert_int_equal(c->receive_buffer, 1000000);
	conf_free(c);

	expect_one_error("upstreams: [ 192.0.2.53 ]\nserver:\n"
	    "  receive-buffer: 65535\n",
	    "t.yaml:3:19: server.receive-buffer: '65535' is out of range "
	    "64KiB to 256MiB");
	expect_one_error("upstreams: [ 192.0.2.53 ]\nserver:\n"
	    "  receive-buffer: 257MiB\n",
	    "t.yaml:3:19: server.receive-buffer: '257MiB' is out of range "
	    "64KiB to 256MiB");
	expect_one_error("upstreams: [ 192.0.2.53 ]\nserver:\n"
	    "  receive-buffer: 1GiB\n",
	    "t.yaml:3:19: server.receive-buffer: '1GiB' is out of range");
	expect_one_error("upstreams: [ 192.0.2.53 ]\nserver:\n"
	    "  receive-buffer: 4 MiB please\n",
	    "t.yaml:3:19: server.receive-buffer: '4 MiB please' is not a "
	    "size");
	expect_one_error("upstreams: [ 192.0.2.53 ]\nserver:\n"
	    "  receive-buffer: -1\n",
	    "t.yaml:3:19: server.receive-buffer: '-1' is not a size");
	expect_one_error("upstreams: [ 192.0.2.53 ]\nserver:\n"
	    "  receive-buffer: [ 1MiB ]\n",
	    "t.yaml:3:19: server.receive-buffer: ");
}

static void
test_errors(void **state)
{
	(void)state;
	/* Unknown keys: at the top level and nested. */
	expect_one_error("upstreams: [ 192.0.2.53 ]\nfoo: 1\n",
	    "t.yaml:2:1: foo: unknown key; valid keys at the top level are: "
	    "server, upstreams, forward, cache, limits, rrl, lists, boards, "
	    "board-limits, filter, geoip, control");
	expect_one_error("upstreams: [ 192.0.2.53 ]\nserver:\n  bar: 1\n",
	    "t.yaml:3:3: server.bar: unknown key; valid keys in server are: "
	    "listen, workers, tcp-idle-timeout");
	/* server.user: a name of 1 to 32 characters. */
	expect_one_error("upstreams: [ 192.0.2.53 ]\nserver: { user: \"\" }\n",
	    "t.yaml:2:17: server.user: missing value");
	expect_one_error("upstreams: [ 192.0.2.53 ]\nserver:\n"
	    "  user: abcdefghijabcdefghijabcdefghijabc\n",
	    "t.yaml:3:9: server.user: 'abcdefghijabcdefghijabcdefghijabc' is "
	    "not 1 to 32 characters long");
	/* Nor control characters, in any text. */
	expect_one_error("upstreams: [ 192.0.2.53 ]\nstats: { node: \"a\\tb\" }\n",
	    "t.yaml:2:16: stats.node: 'a?b' has a control character (0x09)");
	expect_one_error("upstreams: [ 192.0.2.53 ]\nserver:\n"
	    "  user: \"a\\x7f\"\n",
	    "t.yaml:3:9: server.user: 'a?' has a control character (0x7f)");
	/*
	 * A value quoted in a message keeps its UTF-8 (a Dutch name's
	 * diaeresis) but not what acts on a terminal: C1 (NEL, U+0085) and
	 * a right-to-left override (U+202E). A long one is cut after the
	 * character that starts within its first 60 octets, never inside
	 * it (an e-acute at octets 60 and 61).
	 */
	expect_one_error("upstreams: [ 192.0.2.53 ]\nserver:\n"
	    "  tcp-idle-timeout: \"co\u00f6p\\x85\\u202e\"\n",
	    "t.yaml:3:21: server.tcp-idle-timeout: 'co\u00f6p?\?' is not a "
	    "duration");
	expect_one_error("upstreams: [ 192.0.2.53 ]\nserver:\n"
	    "  tcp-idle-timeout: \"0123456789012345678901234567890123456789"
	    "0123456789012345678\u00e9x\"\n",
	    "t.yaml:3:21: server.tcp-idle-timeout: '0123456789012345678901234"
	    "5678901234567890123456789012345678\u00e9...' is not a duration");
	/*
	 * metrics on a listen address, the default one too, or on its port
	 * where either is the wildcard address of the family.
	 */
	expect_one_error("upstreams: [ 192.0.2.53 ]\nmetrics: 127.0.0.1:53\n",
	    "t.yaml:2:1: metrics: 127.0.0.1:53 clashes with 127.0.0.1:53 of "
	    "server.listen");
	expect_one_error("upstreams: [ 192.0.2.53 ]\n"
	    "server: { listen: [ \"0.0.0.0:5353\" ] }\n"
	    "metrics: 127.0.0.1:5353\n",
	    "t.yaml:3:1: metrics: 127.0.0.1:5353 clashes with 0.0.0.0:5353 of "
	    "server.listen");
	expect_one_error("upstreams: [ 192.0.2.53 ]\n"
	    "server: { listen: [ \"[::1]:5353\" ] }\n"
	    "metrics: \"[::]:5353\"\n",
	    "t.yaml:3:1: metrics: [::]:5353 clashes with [::1]:5353 of "
	    "server.listen");
	conf_free(load_ok("upstreams: [ 192.0.2.53 ]\n"
	    "server: { listen: [ \"0.0.0.0:5353\", \"[::]:5353\" ] }\n"
	    "metrics: 127.0.0.1:9153\n"));
	conf_free(load_ok("upstreams: [ 192.0.2.53 ]\n"
	    "server: { listen: [ \"[::]:5353\" ] }\n"
	    "metrics: 127.0.0.1:5353\n"));
	expect_one_error("upstreams: [ 192.0.2.53 ]\n"
	    "server: { listen: [ \"127.0.0.1:5353\" ] }\n"
	    "metrics: \"[::]:5353\"\n",
	    "t.yaml:3:1: metrics: [::]:5353 clashes with 127.0.0.1:5353 of "
	    "server.listen");
	/* A control socket path longer than bind(2) takes (113 octets). */
	expect_one_error("upstreams: [ 192.0.2.53 ]\ncontrol: /run/"
	    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.sock\n",
	    "t.yaml:2:10: control: '/run/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	    "aaaaaaaaaaaaaaaaa...' is longer than a Unix socket's path may be "
	    "(107 bytes, made absolute)");
	expect_one_error("upstreams: [ 192.0.2.53 ]\nlists:\n"
	    "  x: { file: \"x\\tdomains.txt\", format: domains }\n",
	    "t.yaml:3:14: lists.x.file: 'x?domains.txt' has a control "
	    "character (0x09)");
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
	    "t.yaml:1:1: expected a mapping of keys (server, upstreams, "
	    "forward, cache, limits, rrl, lists, boards, board-limits, filter, "
	    "geoip, control");
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
	/* The limits: RFC 9520's five minutes, a share in percent. */
	expect_one_error("upstreams: [ 192.0.2.53 ]\ncache:\n"
	    "  failure-ttl: 6m\n",
	    "t.yaml:3:16: cache.failure-ttl: '6m' is out of range 1s to 5m");
	expect_one_error("upstreams: [ 192.0.2.53 ]\nlimits:\n"
	    "  client-share: 101\n",
	    "t.yaml:3:17: limits.client-share: '101' is not a number from 1 to "
	    "100");
	expect_one_error("upstreams: [ 192.0.2.53 ]\nlimits:\n"
	    "  forwarded: 15\n",
	    "t.yaml:3:14: limits.forwarded: '15' is not a number from 16 to "
	    "10000000");
	expect_one_error("upstreams: [ 192.0.2.53 ]\nrrl:\n"
	    "  ipv4-prefix: 33\n",
	    "t.yaml:3:16: rrl.ipv4-prefix: '33' is not a number from 8 to 32");
	expect_one_error("upstreams: [ 192.0.2.53 ]\nrrl:\n"
	    "  slip: 11\n",
	    "t.yaml:3:9: rrl.slip: '11' is not a number from 0 to 10");
	expect_one_error("upstreams: [ 192.0.2.53 ]\nserver:\n"
	    "  tcp-query-timeout: 5ms\n",
	    "t.yaml:3:22: server.tcp-query-timeout: '5ms' is out of range "
	    "10ms to 1h");
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
	/* An address twice, also with the port 53 written out. */
	expect_one_error("upstreams: [ 192.0.2.53, \"192.0.2.53:53\" ]\n",
	    "t.yaml:1:26: upstreams: '192.0.2.53:53' is listed twice");
	expect_one_error("upstreams: [ 192.0.2.53 ]\nserver:\n"
	    "  listen: [ \"[::1]:5353\", \"[::1]:5353\" ]\n",
	    "t.yaml:3:27: server.listen: '[::1]:5353' is listed twice");
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
	    "filter: { block-ttl: 2d }\n"		/* 1 */
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
	assert_true(errs_has(&e, "t.yaml:5:22: filter.block-ttl: '2d' is out "
	    "of range 0 to 1d"));
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
	assert_int_equal(a->nlists, b->nlists);
	for (i = 0; i < a->nlists; i++) {
		assert_string_equal(a->lists[i].name, b->lists[i].name);
		assert_string_equal(a->lists[i].file, b->lists[i].file);
		assert_int_equal(a->lists[i].format, b->lists[i].format);
		assert_true((a->lists[i].url == NULL) ==
		    (b->lists[i].url == NULL));
		if (a->lists[i].url != NULL)
			assert_string_equal(a->lists[i].url, b->lists[i].url);
	}
	assert_string_equal(a->boards_glob, b->boards_glob);
	assert_int_equal(a->nboards, b->nboards);
	for (i = 0; i < a->nboards; i++) {
		assert_string_equal(a->boards[i].path, b->boards[i].path);
		assert_string_equal(a->boards[i].name, b->boards[i].name);
		assert_int_equal(a->boards[i].block, b->boards[i].block);
	}
	assert_true((a->user == NULL) == (b->user == NULL));
	if (a->user != NULL)
		assert_string_equal(a->user, b->user);
	assert_int_equal(a->board_widest4, b->board_widest4);
	assert_int_equal(a->board_widest6, b->board_widest6);
	assert_int_equal(a->block_ttl, b->block_ttl);
	assert_string_equal(a->tables, b->tables);
	assert_string_equal(a->control, b->control);
	assert_true((a->geoip_country == NULL) == (b->geoip_country == NULL));
	if (a->geoip_country != NULL)
		assert_string_equal(a->geoip_country, b->geoip_country);
	assert_true((a->geoip_asn == NULL) == (b->geoip_asn == NULL));
	if (a->geoip_asn != NULL)
		assert_string_equal(a->geoip_asn, b->geoip_asn);
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
	assert_int_equal(a->tcp_max_conns_client, b->tcp_max_conns_client);
	assert_int_equal(a->tcp_query_ms, b->tcp_query_ms);
	assert_int_equal(a->receive_buffer, b->receive_buffer);
	assert_int_equal(a->failure_ttl, b->failure_ttl);
	assert_int_equal(a->lim_forwarded, b->lim_forwarded);
	assert_int_equal(a->lim_per_question, b->lim_per_question);
	assert_int_equal(a->lim_client_share, b->lim_client_share);
	assert_memory_equal(a->rrl_rates, b->rrl_rates, sizeof a->rrl_rates);
	assert_int_equal(a->rrl_slip, b->rrl_slip);
	assert_int_equal(a->rrl_prefix4, b->rrl_prefix4);
	assert_int_equal(a->rrl_prefix6, b->rrl_prefix6);
	assert_int_equal(a->rrl_table_size, b->rrl_table_size);
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
	roundtrip("upstreams: [ 192.0.2.53 ]\n"
	    "server: { receive-buffer: 262144 }\n");
	roundtrip("upstreams: [ 192.0.2.53 ]\nserver: { user: \"ve\\\"ilig\" }\n"
	    "board-limits: { widest-ipv4: 8, widest-ipv6: 128 }\n");

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
	assert_non_null(strstr(out, "\n  receive-buffer: 4MiB\n"));
	assert_non_null(strstr(out, "\nupstreams:\n  - \"192.0.2.53:53\"\n"));
	assert_non_null(strstr(out, "\n  timeout: 1s\n"));
	assert_non_null(strstr(out, "\n  attempts: 3\n"));
	assert_non_null(strstr(out, "\n  size: 256MiB\n"));
	assert_non_null(strstr(out, "\n  serve-stale: 1d\n"));
	assert_non_null(strstr(out, "\n  max-ttl: 1d\n"));
	assert_non_null(strstr(out, "\n  max-negative-ttl: 1h\n"));
	assert_non_null(strstr(out, "\n  # user: not set\n"));
	assert_non_null(strstr(out, "\nboard-limits:\n"));
	assert_non_null(strstr(out, "\n  widest-ipv4: 16\n"));
	assert_non_null(strstr(out, "\n  widest-ipv6: 32\n"));
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
	assert_int_equal(c->nlists, 4);
	assert_string_equal(c->lists[3].name, "adult");
	assert_int_equal(c->lists[3].format, LISTS_ADBLOCK);
	assert_non_null(strstr(c->lists[0].file,
	    "/conf/../blocklists/example-malware.txt"));
	assert_int_equal(access(c->lists[0].file, R_OK), 0);
	assert_int_equal(c->nboards, 1);
	assert_string_equal(c->boards[0].name, "Stichting Voorbeeld");
	assert_int_equal(c->boards[0].block, 0xf);
	assert_int_equal(c->boards[0].safe_search, 1);
	assert_int_equal(c->boards[0].nnetworks, 2);
	assert_string_equal(c->control, "/tmp/veilig-control.sock");
	assert_non_null(strstr(c->tables, "/conf/../blocklists"));
	conf_free(c);
	c = conf_load("conf/veiligd-production.yaml", errs_cb, &e);
	assert_int_equal(e.n, 0);
	assert_non_null(c);
	assert_string_equal(conf_sockaddr_str(&c->listen[0], buf, sizeof buf),
	    "127.0.0.1:53");
	assert_int_equal(c->nlists, 4);
	assert_string_equal(c->lists[0].file,
	    "/var/lib/veilig/lists/malware.txt");
	assert_string_equal(c->boards_glob, "/etc/veilig/boards/*.yaml");
	assert_string_equal(c->tables, "/usr/local/share/veilig");
	assert_string_equal(c->control, "/run/veilig/control.sock");
	assert_string_equal(c->user, "veilig");
	assert_int_equal(c->board_widest4, 16);
	assert_int_equal(c->board_widest6, 32);
	/* Response rate limiting is on in production. */
	assert_int_equal(c->rrl_rates[3], 10);
	assert_int_equal(c->rrl_slip, 2);
	conf_free(c);
}

/* The current directory joined with rel, for expected paths. */
static void
cwd_path(char *buf, size_t cap, const char *rel)
{
	char	cwd[1024];

	assert_non_null(getcwd(cwd, sizeof cwd));
	snprintf(buf, cap, "%s/%s", cwd, rel);
}

static void
test_lists(void **state)
{
	struct errs	 e = { 0 };
	struct conf	*c;
	char		 want[1200];

	(void)state;
	c = load_ok("upstreams: [ 192.0.2.53 ]\n"
	    "lists:\n"
	    "  phishing: { file: ../bl/phishing.txt, format: domains,\n"
	    "              url: \"https://example.org/phishing.txt\" }\n"
	    "  gambling: { file: lists/gambling.txt, format: hosts }\n"
	    "  malware:\n"
	    "    file: /var/lib/veilig/malware.rpz\n"
	    "    format: rpz\n"
	    "  malware-ip: { file: ip.txt, format: ip, url: https://x.test/ }\n"
	    "  a-1: { file: a.txt, format: adblock }\n");
	assert_int_equal(c->nlists, 5);
	assert_string_equal(c->lists[0].name, "phishing");
	cwd_path(want, sizeof want, "../bl/phishing.txt");
	assert_string_equal(c->lists[0].file, want);
	assert_int_equal(c->lists[0].format, LISTS_DOMAINS);
	assert_string_equal(c->lists[0].url,
	    "https://example.org/phishing.txt");
	assert_int_equal(c->lists[0].line, 3);
	assert_int_equal(c->lists[0].col, 3);
	assert_string_equal(c->lists[1].name, "gambling");
	assert_int_equal(c->lists[1].format, LISTS_HOSTS);
	assert_null(c->lists[1].url);
	assert_string_equal(c->lists[2].file, "/var/lib/veilig/malware.rpz");
	assert_int_equal(c->lists[2].format, LISTS_RPZ);
	assert_int_equal(c->lists[3].format, LISTS_IP);
	assert_string_equal(c->lists[3].url, "https://x.test/");
	assert_int_equal(c->lists[4].format, LISTS_ADBLOCK);
	conf_free(c);

	/* conf_load_string() takes the directory from its name. */
	c = conf_load_string("/etc/veilig/v.yaml", "upstreams: [ 127.0.0.1 ]\n"
	    "lists: { x: { file: l/x.txt, format: domains } }\n"
	    "filter: { tables: tables }\ngeoip: { country: c.mmdb, "
	    "asn: /a.mmdb }\ncontrol: run/c.sock\n", errs_cb, &e);
	assert_int_equal(e.n, 0);
	assert_non_null(c);
	assert_string_equal(c->lists[0].file, "/etc/veilig/l/x.txt");
	assert_string_equal(c->boards_glob, "/etc/veilig/boards/*.yaml");
	assert_string_equal(c->tables, "/etc/veilig/tables");
	assert_string_equal(c->geoip_country, "/etc/veilig/c.mmdb");
	assert_string_equal(c->geoip_asn, "/a.mmdb");
	assert_string_equal(c->control, "/etc/veilig/run/c.sock");
	assert_int_equal(c->nboards, 0);
	conf_free(c);

	/* "lists:" left empty, or {}, is no lists. */
	c = load_ok("upstreams: [ 127.0.0.1 ]\nlists:\n");
	assert_int_equal(c->nlists, 0);
	conf_free(c);
	c = load_ok("upstreams: [ 127.0.0.1 ]\nlists: {}\n");
	assert_int_equal(c->nlists, 0);
	conf_free(c);
}

static void
test_lists_errors(void **state)
{
	struct errs	 e = { 0 };
	struct conf	*c;
	char	*text;
	size_t	 i, n = 0, cap = 8192;

	(void)state;
	expect_one_error("upstreams: [ 127.0.0.1 ]\nlists:\n"
	    "  x: { file: x.txt, format: csv }\n",
	    "t.yaml:3:29: lists.x.format: 'csv' is not a list format "
	    "(domains, hosts, adblock, rpz or ip)");
	expect_one_error("upstreams: [ 127.0.0.1 ]\nlists:\n"
	    "  Phishing: { file: x.txt, format: domains }\n",
	    "t.yaml:3:3: lists: 'Phishing' is not a list name (1 to 32 of "
	    "a-z, 0-9 and '-', starting with a letter)");
	expect_one_error("upstreams: [ 127.0.0.1 ]\nlists:\n"
	    "  1abc: { file: x.txt, format: domains }\n",
	    "t.yaml:3:3: lists: '1abc' is not a list name");
	expect_one_error("upstreams: [ 127.0.0.1 ]\nlists:\n"
	    "  a_b: { file: x.txt, format: domains }\n",
	    "t.yaml:3:3: lists: 'a_b' is not a list name");
	expect_one_error("upstreams: [ 127.0.0.1 ]\nlists:\n"
	    "  abcdefghijabcdefghijabcdefghijabc: { file: x, format: ip }\n",
	    "t.yaml:3:3: lists: 'abcdefghijabcdefghijabcdefghijabc' is not "
	    "a list name");
	/* 32 characters is still fine. */
	conf_free(load_ok("upstreams: [ 127.0.0.1 ]\nlists:\n"
	    "  abcdefghijabcdefghijabcdefghijab: { file: x, format: ip }\n"));
	expect_one_error("upstreams: [ 127.0.0.1 ]\nlists:\n"
	    "  x: { file: x.txt, format: ip, url: ftp://x.test/a }\n",
	    "t.yaml:3:38: lists.x.url: 'ftp://x.test/a' is not a URL "
	    "starting with https:// (plain http is not fetched)");
	/* Plain http: a list sent in the clear can be altered on the way. */
	expect_one_error("upstreams: [ 127.0.0.1 ]\nlists:\n"
	    "  x: { file: x.txt, format: ip, url: http://x.test/a }\n",
	    "t.yaml:3:38: lists.x.url: 'http://x.test/a' is not a URL "
	    "starting with https://");
	expect_one_error("upstreams: [ 127.0.0.1 ]\nlists:\n"
	    "  x: { file: x.txt, format: ip, url: \"HTTP://x.test/a\" }\n",
	    "t.yaml:3:38: lists.x.url: 'HTTP://x.test/a' is not a URL");
	expect_one_error("upstreams: [ 127.0.0.1 ]\nlists:\n"
	    "  x: { file: x.txt, format: ip, url: \"https://\" }\n",
	    "t.yaml:3:38: lists.x.url: 'https://' is not a URL");
	expect_one_error("upstreams: [ 127.0.0.1 ]\nlists:\n"
	    "  x: { file: x.txt, format: ip, url: \"https://a b\" }\n",
	    "t.yaml:3:38: lists.x.url: 'https://a b' is not a URL");
	expect_one_error("upstreams: [ 127.0.0.1 ]\nlists:\n"
	    "  x: { format: domains }\n",
	    "t.yaml:3:3: lists.x.file: required key is missing");
	/* An empty entry misses both required keys. */
	c = conf_load_string("t.yaml", "upstreams: [ 127.0.0.1 ]\nlists:\n"
	    "  x:\n", errs_cb, &e);
	assert_null(c);
	assert_int_equal(e.n, 2);
	assert_true(errs_has(&e, "t.yaml:3:3: lists.x.file: required key is "
	    "missing"));
	assert_true(errs_has(&e, "t.yaml:3:3: lists.x.format: required key "
	    "is missing"));
	errs_clear(&e);
	expect_one_error("upstreams: [ 127.0.0.1 ]\nlists:\n"
	    "  x: { file: a, format: ip, colour: red }\n",
	    "t.yaml:3:29: lists.x.colour: unknown key; valid keys in lists.x "
	    "are: file, format, url");
	expect_one_error("upstreams: [ 127.0.0.1 ]\nlists:\n"
	    "  x: { file: a, format: ip }\n  x: { file: b, format: ip }\n",
	    "t.yaml:4:3: lists.x: duplicate list (first at line 3 column 3)");
	expect_one_error("upstreams: [ 127.0.0.1 ]\nlists: [ a, b ]\n",
	    "t.yaml:2:8: lists: expected a mapping of list names, not a list");
	expect_one_error("upstreams: [ 127.0.0.1 ]\nlists:\n  x: [ a ]\n",
	    "t.yaml:3:6: lists.x: expected a mapping of keys (file, format, "
	    "url), not a list");

	/* At most CONF_MAX_LISTS lists. */
	text = malloc(cap);
	assert_non_null(text);
	n = (size_t)snprintf(text, cap, "upstreams: [ 127.0.0.1 ]\nlists:\n");
	for (i = 0; i <= CONF_MAX_LISTS; i++)
		n += (size_t)snprintf(text + n, cap - n,
		    "  l%zu: { file: f, format: ip }\n", i);
	expect_one_error(text, "t.yaml:3:3: lists: has 49 lists, more than "
	    "48");
	/* One fewer is fine. */
	strstr(text, "  l48:")[0] = '\0';
	conf_free(load_ok(text));
	free(text);

	/* filter, geoip and control. */
	expect_one_error("upstreams: [ 127.0.0.1 ]\n"
	    "filter: { block-ttl: 25h }\n",
	    "t.yaml:2:22: filter.block-ttl: '25h' is out of range 0 to 1d");
	expect_one_error("upstreams: [ 127.0.0.1 ]\ngeoip: { city: x }\n",
	    "t.yaml:2:10: geoip.city: unknown key; valid keys in geoip are: "
	    "country, asn");
	expect_one_error("upstreams: [ 127.0.0.1 ]\ncontrol: ''\n",
	    "t.yaml:2:10: control: missing value");
}

/* Networks up to a /8, so that the tests can use 10.0.0.0/8. */
static const char *main_yaml =
    "upstreams: [ 127.0.0.1 ]\n"
    "board-limits: { widest-ipv4: 8 }\n"
    "geoip: { country: country.mmdb, asn: asn.mmdb }\n"
    "lists:\n"
    "  malware: { file: malware.txt, format: domains }\n"
    "  phishing: { file: phishing.txt, format: domains }\n"
    "  gambling: { file: gambling.txt, format: hosts }\n";

/* Load d's veiligd.yaml (written from text first) into *c; errors to e. */
static struct conf *
tdir_load(const struct tdir *d, const char *text, struct errs *e)
{
	char	path[256];

	tdir_write(d, "veiligd.yaml", text);
	snprintf(path, sizeof path, "%s/veiligd.yaml", d->path);
	return (conf_load(path, errs_cb, e));
}

/*
 * Load d with main_yaml and the one board file text; expect one message,
 * want, and the configuration refused (an error) or loaded (a warning).
 */
static void
expect_board_message(const struct tdir *d, const char *board,
    const char *want, int loads)
{
	struct errs	 e = { 0 };
	struct conf	*c;
	char		 full[512];

	tdir_write(d, "boards/x.yaml", board);
	c = tdir_load(d, main_yaml, &e);
	if (loads)
		assert_non_null(c);
	else
		assert_null(c);
	snprintf(full, sizeof full, "%s/boards/x.yaml%s", d->path, want);
	assert_true(errs_has(&e, full));
	if (e.n != 1)
		for (size_t i = 0; i < e.n && i < MAXERR; i++)
			print_message("  got: %s\n", e.msg[i]);
	assert_int_equal(e.n, 1);
	errs_clear(&e);
	conf_free(c);
}

#define expect_board_error(d, board, want) \
	expect_board_message((d), (board), (want), 0)
#define expect_board_warning(d, board, want) \
	expect_board_message((d), (board), (want), 1)

/* Load d with main_yaml and the one board file text; expect no error. */
static struct conf *
board_ok(const struct tdir *d, const char *board)
{
	struct errs	 e = { 0 };
	struct conf	*c;
	size_t		 i;

	tdir_write(d, "boards/x.yaml", board);
	c = tdir_load(d, main_yaml, &e);
	for (i = 0; i < e.n && i < MAXERR; i++)
		print_message("unexpected: %s\n", e.msg[i]);
	assert_int_equal(e.n, 0);
	assert_non_null(c);
	assert_int_equal(c->nboards, 1);
	errs_clear(&e);
	return (c);
}

static void
test_boards(void **state)
{
	struct tdir		 d;
	struct errs		 e = { 0 };
	struct conf		*c;
	const struct conf_board	*b;
	char			 want[256];

	(void)state;
	tdir_new(&d, "test_conf", "boards", NULL);
	/* No board files: fine, every client will be refused. */
	c = tdir_load(&d, main_yaml, &e);
	assert_non_null(c);
	assert_int_equal(e.n, 0);
	assert_int_equal(c->nboards, 0);
	snprintf(want, sizeof want, "%s/boards/*.yaml", d.path);
	assert_string_equal(c->boards_glob, want);
	conf_free(c);

	/* Sorted by path; other file names are not matched. */
	tdir_write(&d, "boards/b.yaml",
	    "name: Stichting B\n"
	    "networks: [ 192.0.2.0/24, \"2001:db8:100::/48\" ]\n"
	    "block: [ phishing, malware ]\n"
	    "allow: [ SchoolSite.NL., a.example ]\n"
	    "deny:\n  - example-game.com\n"
	    "safe-search: true\n"
	    "canaries: false\n"
	    "action: \"redirect 192.0.2.80 2001:db8::80\"\n"
	    "block-countries: [ ru, KP ]\n"
	    "block-asns: [ 64496, AS64511, as1 ]\n");
	tdir_write(&d, "boards/a.yaml", "name: Stichting A\n"
	    "networks: [ 10.0.0.0/16 ]\n");
	tdir_write(&d, "boards/c.yaml", "name: Stichting C\n"
	    "networks: [ 198.51.100.7 ]\nblock: [ gambling ]\n"
	    "action: refused\n");
	tdir_write(&d, "boards/notes.txt", "not a board\n");
	c = tdir_load(&d, main_yaml, &e);
	assert_int_equal(e.n, 0);
	assert_non_null(c);
	assert_int_equal(c->nboards, 3);

	/* a.yaml: every default. */
	b = &c->boards[0];
	snprintf(want, sizeof want, "%s/boards/a.yaml", d.path);
	assert_string_equal(b->path, want);
	assert_string_equal(b->name, "Stichting A");
	assert_int_equal(b->nnetworks, 1);
	assert_int_equal(b->networks[0].family, AF_INET);
	assert_int_equal(b->networks[0].prefix, 16);
	assert_int_equal(b->block, 0);
	assert_int_equal(b->nallow, 0);
	assert_int_equal(b->ndeny, 0);
	assert_int_equal(b->safe_search, 0);
	assert_int_equal(b->canaries, 1);
	assert_int_equal(b->action, CONF_ACTION_NXDOMAIN);
	assert_int_equal(b->have4 || b->have6, 0);
	assert_int_equal(b->ncountries, 0);
	assert_int_equal(b->nasns, 0);

	/* b.yaml: every key. */
	b = &c->boards[1];
	assert_string_equal(b->name, "Stichting B");
	assert_int_equal(b->nnetworks, 2);
	assert_int_equal(b->networks[1].family, AF_INET6);
	assert_int_equal(b->networks[1].prefix, 48);
	assert_int_equal(b->block, (1 << 0) | (1 << 1));
	assert_int_equal(b->nallow, 2);
	assert_string_equal(b->allow[0].text, "SchoolSite.NL.");
	assert_int_equal(b->allow[0].len, 15);
	assert_memory_equal(b->allow[0].lname, "\012schoolsite\002nl", 15);
	assert_int_equal(b->allow[0].line, 4);
	assert_int_equal(b->allow[0].col, 10);
	assert_int_equal(b->ndeny, 1);
	assert_string_equal(b->deny[0].text, "example-game.com");
	assert_int_equal(b->deny[0].line, 6);
	assert_int_equal(b->deny[0].col, 5);
	assert_int_equal(b->safe_search, 1);
	assert_int_equal(b->canaries, 0);
	assert_int_equal(b->action, CONF_ACTION_REDIRECT);
	assert_int_equal(b->have4, 1);
	assert_int_equal(b->have6, 1);
	assert_memory_equal(b->redirect4, "\300\000\002\120", 4);
	assert_int_equal(b->redirect6[0], 0x20);
	assert_int_equal(b->redirect6[15], 0x80);
	assert_int_equal(b->ncountries, 2);
	assert_string_equal(b->countries[0], "RU");
	assert_string_equal(b->countries[1], "KP");
	assert_int_equal(b->nasns, 3);
	assert_int_equal(b->asns[0], 64496);
	assert_int_equal(b->asns[1], 64511);
	assert_int_equal(b->asns[2], 1);

	b = &c->boards[2];
	assert_int_equal(b->block, 1 << 2);
	assert_int_equal(b->networks[0].prefix, 32);
	assert_int_equal(b->action, CONF_ACTION_REFUSED);
	conf_free(c);

	/* A boards glob of its own, relative to veiligd.yaml. */
	c = tdir_load(&d, "upstreams: [ 127.0.0.1 ]\nboards: boards/a.*\n", &e);
	assert_int_equal(e.n, 0);
	assert_non_null(c);
	assert_int_equal(c->nboards, 1);
	assert_string_equal(c->boards[0].name, "Stichting A");
	conf_free(c);
	c = tdir_load(&d, "upstreams: [ 127.0.0.1 ]\n"
	    "boards: nothing/*.yaml\n", &e);
	assert_int_equal(e.n, 0);
	assert_non_null(c);
	assert_int_equal(c->nboards, 0);
	conf_free(c);
	tdir_free(&d);

	/* Wildcards in a directory part: refused, before any glob runs. */
	expect_one_error("upstreams: [ 127.0.0.1 ]\nboards: /*/*/*.yaml\n",
	    "t.yaml:2:9: boards: '/*/*/*.yaml' has a wildcard before its "
	    "last '/'");
	expect_one_error("upstreams: [ 127.0.0.1 ]\nboards: b[12]/x.yaml\n",
	    "t.yaml:2:9: boards: 'b[12]/x.yaml' has a wildcard");
	expect_one_error("upstreams: [ 127.0.0.1 ]\nboards: ?/a.yaml\n",
	    "t.yaml:2:9: boards: '?/a.yaml' has a wildcard");
}

static void
test_board_errors(void **state)
{
	struct tdir	 d;
	struct errs	 e = { 0 };
	struct conf	*c;
	char		 want[256];

	(void)state;
	tdir_new(&d, "test_conf", "boards", NULL);
	expect_board_error(&d, "networks: [ 10.0.0.0/8 ]\n",
	    ":1:1: name: required key is missing");
	expect_board_error(&d, "name: x\n",
	    ":1:1: networks: required key is missing");
	expect_board_error(&d, "name: ''\nnetworks: [ 10.0.0.0/8 ]\n",
	    ":1:7: name: missing value");
	expect_board_error(&d, "name: xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
	    "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
	    "xxxxxxxxxxxxxxxxxxxxxxxxxxxxx\nnetworks: [ 10.0.0.0/8 ]\n",
	    ":1:7: name: 'xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
	    "xxxxxxxxxx...' is not 1 to 128 characters long");
	expect_board_error(&d, "name: x\nnetworks: []\n",
	    ":2:11: networks: has 0 entries, not from 1 to 4096");
	expect_board_error(&d, "name: x\nnetworks: [ 10.0.0.1/8 ]\n",
	    ":2:13: networks: '10.0.0.1/8' has host bits set (the network "
	    "is 10.0.0.0/8)");
	expect_board_error(&d, "name: x\nnetworks: [ 10.0.0.0/8 ]\n"
	    "block: [ malware, gamble ]\n",
	    ":3:19: block: 'gamble' is not a list; the lists are: malware, "
	    "phishing, gambling");
	expect_board_error(&d, "name: x\nnetworks: [ 10.0.0.0/8 ]\n"
	    "block: malware\n",
	    ":3:8: block: expected a list, not a single value");
	expect_board_error(&d, "name: x\nnetworks: [ 10.0.0.0/8 ]\n"
	    "allow: [ ok.example, \"bad name.example\" ]\n",
	    ":3:22: allow: 'bad name.example' is not a domain name: ");
	expect_board_error(&d, "name: x\nnetworks: [ 10.0.0.0/8 ]\n"
	    "deny: [ a..b ]\n",
	    ":3:9: deny: 'a..b' is not a domain name: empty label");
	expect_board_error(&d, "name: x\nnetworks: [ 10.0.0.0/8 ]\n"
	    "deny: [ \"b\\xfccher.example\" ]\n",
	    ":3:9: deny: 'b\u00fccher.example' is not a domain name: IDN "
	    "must be "
	    "in A-label (xn--) form");
	expect_board_error(&d, "name: x\nnetworks: [ 10.0.0.0/8 ]\n"
	    "deny: [ [ a ] ]\n",
	    ":3:9: deny: expected a domain name, not a list");
	expect_board_error(&d, "name: x\nnetworks: [ 10.0.0.0/8 ]\n"
	    "safe-search: maybe\n",
	    ":3:14: safe-search: 'maybe' is not true or false");
	expect_board_error(&d, "name: x\nnetworks: [ 10.0.0.0/8 ]\n"
	    "canaries: 1\n", ":3:11: canaries: '1' is not true or false");
	expect_board_error(&d, "name: x\nnetworks: [ 10.0.0.0/8 ]\n"
	    "action: drop\n",
	    ":3:9: action: 'drop' is not nxdomain, nodata, refused or "
	    "redirect with addresses");
	expect_board_error(&d, "name: x\nnetworks: [ 10.0.0.0/8 ]\n"
	    "block-countries: [ NL, NLD ]\n",
	    ":3:24: block-countries: 'NLD' is not a two-letter country code");
	expect_board_error(&d, "name: x\n"
	    "networks: [ \"::ffff:127.0.0.0/120\" ]\n",
	    ":2:13: networks: '::ffff:127.0.0.0/120' is IPv4-mapped IPv6: "
	    "write it as IPv4 (127.0.0.0/24)");
	expect_board_error(&d, "name: x\nnetworks: [ 10.0.0.0/8 ]\n"
	    "block-asns: [ 0 ]\n",
	    ":3:15: block-asns: '0' is not an AS number from 1 to 4294967295");
	expect_board_error(&d, "name: x\nnetworks: [ 10.0.0.0/8 ]\n"
	    "block-asns: [ AS4294967296 ]\n",
	    ":3:15: block-asns: 'AS4294967296' is not an AS number");
	expect_board_error(&d, "name: x\nnetworks: [ 10.0.0.0/8 ]\n"
	    "block-asns: [ ASN5 ]\n",
	    ":3:15: block-asns: 'ASN5' is not an AS number");
	expect_board_error(&d, "name: x\nnetworks: [ 10.0.0.0/8 ]\n"
	    "colour: red\n",
	    ":3:1: colour: unknown key; valid keys at the top level are: "
	    "name, networks, block, allow, deny, safe-search, canaries, "
	    "action, block-countries, block-asns");
	/*
	 * A deny in or under allow's names: allow wins, the name is not
	 * blocked. A warning: the entry still blocks answers leading to it.
	 */
	expect_board_warning(&d, "name: x\nnetworks: [ 10.0.0.0/8 ]\n"
	    "allow: [ a.example, X.Example ]\ndeny: [ b.example, x.example. ]\n",
	    ":4:20: warning: deny: 'x.example.' is covered by 'X.Example' in "
	    "allow (line 3 column 21), which wins: the name is not blocked");
	expect_board_warning(&d, "name: x\nnetworks: [ 10.0.0.0/8 ]\n"
	    "allow: [ x.example ]\ndeny: [ ads.cdn.x.example ]\n",
	    ":4:9: warning: deny: 'ads.cdn.x.example' is covered by "
	    "'x.example' in allow (line 3 column 10), which wins: the name is "
	    "not blocked");
	/*
	 * A whole top-level domain may be meant (a board that blocks .xxx),
	 * but seldom is: a warning. An address, a numeric last label or an
	 * xn-- label that is no Punycode are errors, as in lists.
	 */
	expect_board_warning(&d, "name: x\nnetworks: [ 10.0.0.0/8 ]\n"
	    "deny: [ a.example, xxx ]\n",
	    ":3:20: warning: deny: 'xxx' is a top-level domain: every name "
	    "under it is blocked");
	expect_board_warning(&d, "name: x\nnetworks: [ 10.0.0.0/8 ]\n"
	    "allow: [ NL. ]\n",
	    ":3:10: warning: allow: 'NL.' is a top-level domain: every name "
	    "under it is allowed, whatever the lists say");
	expect_board_error(&d, "name: x\nnetworks: [ 10.0.0.0/8 ]\n"
	    "deny: [ 192.0.2.1 ]\n",
	    ":3:9: deny: '192.0.2.1' is not a domain name: an IPv4 address");
	expect_board_error(&d, "name: x\nnetworks: [ 10.0.0.0/8 ]\n"
	    "allow: [ school.1 ]\n",
	    ":3:10: allow: 'school.1' is not a domain name: its last label is "
	    "all digits");
	expect_board_error(&d, "name: x\nnetworks: [ 10.0.0.0/8 ]\n"
	    "deny: [ xn--abc-.example ]\n",
	    ":3:9: deny: 'xn--abc-.example' is not a domain name: an xn-- "
	    "label that is no Punycode of a name that is not ASCII");
	conf_free(board_ok(&d, "name: x\nnetworks: [ 10.0.0.0/8 ]\n"
	    "deny: [ xn--bcher-kva.example, 123.example ]\n"));
	/* An allowed name under a denied one is an exception, no slip. */
	conf_free(board_ok(&d, "name: x\nnetworks: [ 10.0.0.0/8 ]\n"
	    "allow: [ a.x.example ]\ndeny: [ x.example ]\n"));
	/* A board's name goes into veiligctl's lines: no control character. */
	expect_board_error(&d, "name: \"a\\nb\"\nnetworks: [ 10.0.0.0/8 ]\n",
	    ":1:7: name: 'a?b' has a control character (0x0a)");
	expect_board_error(&d, "name: \"red \\e[31m\"\n"
	    "networks: [ 10.0.0.0/8 ]\n",
	    ":1:7: name: 'red ?[31m' has a control character (0x1b)");
	expect_board_error(&d, "name: x\nname: y\nnetworks: [ 10.0.0.0/8 ]\n",
	    ":2:1: name: duplicate key (first at line 1 column 1)");
	expect_board_error(&d, "name: x\nnetworks: [ 10.0.0.0/8\n",
	    ":3:1: YAML syntax error: ");
	expect_board_error(&d, "- name: x\n",
	    ":1:1: expected a mapping of keys (name, networks, ");

	/* Geo rules without their database, at the key's position. */
	{
		struct errs	 ge = { 0 };
		char		 full[512];

		tdir_write(&d, "boards/x.yaml", "name: x\n"
		    "networks: [ 10.0.0.0/16 ]\nblock-countries: [ RU ]\n"
		    "block-asns: [ 64496 ]\n");
		assert_null(tdir_load(&d, "upstreams: [ 127.0.0.1 ]\n", &ge));
		assert_int_equal(ge.n, 2);
		snprintf(full, sizeof full, "%s/boards/x.yaml:3:1: "
		    "block-countries: needs geoip.country in ", d.path);
		assert_true(errs_has(&ge, full));
		snprintf(full, sizeof full, "%s/boards/x.yaml:4:1: "
		    "block-asns: needs geoip.asn in ", d.path);
		assert_true(errs_has(&ge, full));
		errs_clear(&ge);
	}

	/* Board and veiligd.yaml errors come out of the same call. */
	tdir_write(&d, "boards/x.yaml", "name: x\nnetworks: [ 10.0.0.0/33 ]\n");
	tdir_write(&d, "boards/y.yaml", "name: y\nnetworks: [ 11.0.0.0/16 ]\n"
	    "safe-search: sure\n");
	c = tdir_load(&d, "upstreams: [ 127.0.0.1 ]\ncache: { size: 1 }\n", &e);
	assert_null(c);
	assert_int_equal(e.n, 3);
	snprintf(want, sizeof want, "%s/veiligd.yaml:2:16: cache.size: ",
	    d.path);
	assert_true(errs_has(&e, want));
	snprintf(want, sizeof want, "%s/boards/x.yaml:2:13: networks: "
	    "'10.0.0.0/33' has a bad prefix length", d.path);
	assert_true(errs_has(&e, want));
	snprintf(want, sizeof want, "%s/boards/y.yaml:3:14: safe-search: ",
	    d.path);
	assert_true(errs_has(&e, want));
	errs_clear(&e);

	/* A directory matched by the glob is an error naming it. */
	snprintf(want, sizeof want, "%s/boards/y.yaml", d.path);
	unlink(want);
	snprintf(want, sizeof want, "%s/boards/dir.yaml", d.path);
	assert_int_equal(mkdir(want, 0700), 0);
	tdir_write(&d, "boards/x.yaml", "name: x\nnetworks: [ 10.0.0.0/8 ]\n");
	c = tdir_load(&d, main_yaml, &e);
	assert_null(c);
	assert_int_equal(e.n, 1);
	strcat(want, ": not a regular file");
	assert_true(errs_has(&e, want));
	errs_clear(&e);
	snprintf(want, sizeof want, "%s/boards/dir.yaml", d.path);
	assert_int_equal(rmdir(want), 0);

	/*
	 * A control character in the file name, which names the board in
	 * veiligctl's lines: an error, the name masked in it.
	 */
	unlink(want);
	tdir_write(&d, "boards/a\nb.yaml", "name: ab\n"
	    "networks: [ 11.0.0.0/16 ]\n");
	c = tdir_load(&d, main_yaml, &e);
	assert_null(c);
	assert_int_equal(e.n, 1);
	snprintf(want, sizeof want, "%s/boards/a?b.yaml: the file name has a "
	    "control character (0x0a)", d.path);
	assert_true(errs_has(&e, want));
	errs_clear(&e);
	snprintf(want, sizeof want, "%s/boards/a\nb.yaml", d.path);
	assert_int_equal(unlink(want), 0);
	tdir_free(&d);
}

/*
 * Files are read whatever their size up to 1 MiB: a main file (read as
 * any file) and a board (a regular file, read at its size) both larger
 * than the first read, exactly at the limit and one octet over it, and a
 * board with a NUL byte.
 */
static void
test_file_sizes(void **state)
{
	struct tdir	 d;
	struct errs	 e = { 0 };
	struct conf	*c;
	char		*text, want[320];
	const char	*board = "name: x\nnetworks: [ 10.0.0.0/8 ]\n";
	size_t		 max = 1024 * 1024, sizes[] = { 10000, max, max + 1 };
	size_t		 i, n;
	FILE		*f;

	(void)state;
	tdir_new(&d, "test_conf", "boards", NULL);
	assert_non_null(text = malloc(max + 2));
	for (i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
		/* A comment of the size wanted, then the board itself. */
		n = sizes[i] - strlen(board);
		memset(text, 'x', n);
		text[0] = '#';
		text[n - 1] = '\n';
		strcpy(text + n, board);
		assert_int_equal(strlen(text), sizes[i]);
		tdir_write(&d, "boards/x.yaml", text);
		c = tdir_load(&d, main_yaml, &e);
		if (sizes[i] <= max) {
			assert_int_equal(e.n, 0);
			assert_non_null(c);
			assert_int_equal(c->nboards, 1);
			assert_int_equal(c->boards[0].nnetworks, 1);
			conf_free(c);
		} else {
			assert_null(c);
			snprintf(want, sizeof want, "%s/boards/x.yaml: larger "
			    "than 1048576 bytes", d.path);
			assert_true(errs_has(&e, want));
			assert_int_equal(e.n, 1);
		}
		errs_clear(&e);

		/* The same of the main file, after its lines. */
		n = sizes[i] - strlen(main_yaml);
		memset(text, 'x', n);
		text[0] = '#';
		text[n - 1] = '\n';
		strcpy(text + n, main_yaml);
		tdir_write(&d, "boards/x.yaml", board);
		c = tdir_load(&d, text, &e);
		if (sizes[i] <= max) {
			assert_int_equal(e.n, 0);
			assert_non_null(c);
			assert_int_equal(c->nlists, 3);
			conf_free(c);
		} else {
			assert_null(c);
			snprintf(want, sizeof want, "%s/veiligd.yaml: larger "
			    "than 1048576 bytes", d.path);
			assert_true(errs_has(&e, want));
			assert_int_equal(e.n, 1);
		}
		errs_clear(&e);
	}
	free(text);

	snprintf(want, sizeof want, "%s/boards/x.yaml", d.path);
	assert_non_null(f = fopen(want, "w"));
	assert_int_equal(fwrite("name: x\n\0networks: []\n", 1, 23, f), 23);
	fclose(f);
	c = tdir_load(&d, main_yaml, &e);
	assert_null(c);
	snprintf(want, sizeof want, "%s/boards/x.yaml:2:1: contains a NUL "
	    "byte", d.path);
	assert_true(errs_has(&e, want));
	errs_clear(&e);
	tdir_free(&d);
}

/*
 * A file written in place while it is read (an admin's editor during a
 * load or a reload; tdir_change_on_read()): read again, and what it then
 * holds is loaded. Still changing after LISTS_REREADS reads again: an
 * error naming it, so that a reload keeps the configuration in force.
 */
static void
test_changed_while_read(void **state)
{
	struct tdir	 d;
	struct errs	 e = { 0 };
	struct conf	*c;
	char		 path[256], want[320], *two;
	const char	*board = "name: x\nnetworks: [ 10.0.0.0/8 ]\n";

	(void)state;
	tdir_new(&d, "test_conf", "boards", NULL);
	tdir_write(&d, "boards/x.yaml", board);
	tdir_write(&d, "veiligd.yaml", main_yaml);
	tdir_path(&d, "veiligd.yaml", path, sizeof path);
	/* main_yaml without its last list. */
	assert_non_null(two = strdup(main_yaml));
	*strstr(two, "  gambling:") = '\0';

	tdir_change_on_read(&d, "veiligd.yaml", two, 1);
	assert_non_null(c = conf_load(path, errs_cb, &e));
	assert_int_equal(e.n, 0);
	assert_int_equal(c->nlists, 2);
	conf_free(c);
	tdir_change_on_read(&d, "veiligd.yaml", main_yaml, LISTS_REREADS);
	assert_non_null(c = conf_load(path, errs_cb, &e));
	assert_int_equal(e.n, 0);
	assert_int_equal(c->nlists, 3);
	conf_free(c);
	tdir_change_on_read(&d, "veiligd.yaml", two, LISTS_REREADS + 1);
	assert_null(conf_load(path, errs_cb, &e));
	snprintf(want, sizeof want, "%s: changed while being read", path);
	assert_true(errs_has(&e, want));
	assert_int_equal(e.n, 1);
	errs_clear(&e);

	/* A board file. */
	tdir_write(&d, "veiligd.yaml", main_yaml);
	tdir_change_on_read(&d, "boards/x.yaml",
	    "name: y\nnetworks: [ 10.0.0.0/8 ]\n", 1);
	assert_non_null(c = conf_load(path, errs_cb, &e));
	assert_int_equal(e.n, 0);
	assert_string_equal(c->boards[0].name, "y");
	conf_free(c);
	tdir_change_on_read(&d, "boards/x.yaml", board, LISTS_REREADS + 1);
	assert_null(conf_load(path, errs_cb, &e));
	snprintf(want, sizeof want, "%s/boards/x.yaml: changed while being "
	    "read", d.path);
	assert_true(errs_has(&e, want));
	assert_int_equal(e.n, 1);
	errs_clear(&e);
	tdir_change_on_read(&d, "boards/x.yaml", "", 0);
	free(two);
	tdir_free(&d);
}

static void
test_board_overlap(void **state)
{
	struct tdir	 d;
	struct errs	 e = { 0 };
	struct conf	*c;
	char		 want[512];

	(void)state;
	tdir_new(&d, "test_conf", "boards", NULL);
	tdir_write(&d, "boards/a.yaml", "name: Stichting A\n"
	    "networks: [ 10.0.0.0/8, \"2001:db8::/32\" ]\n");
	tdir_write(&d, "boards/b.yaml", "name: Stichting B\n"
	    "networks: [ 192.0.2.0/24,\n"
	    "            10.0.0.0/16 ]\n");
	c = tdir_load(&d, main_yaml, &e);
	assert_null(c);
	assert_int_equal(e.n, 1);
	snprintf(want, sizeof want, "%s/boards/b.yaml:3:13: networks: "
	    "10.0.0.0/16 overlaps 10.0.0.0/8 of board 'Stichting A' "
	    "(%s/boards/a.yaml:2:13)", d.path, d.path);
	assert_true(errs_has(&e, want));
	errs_clear(&e);

	/* Equal networks, v6, and within one board; v4 and v6 never. */
	tdir_write(&d, "boards/b.yaml", "name: Stichting B\n"
	    "networks: [ \"2001:db8:1::/48\", 10.1.0.0/16, 10.1.0.0/16 ]\n");
	c = tdir_load(&d, main_yaml, &e);
	assert_null(c);
	assert_int_equal(e.n, 3);
	snprintf(want, sizeof want, "%s/boards/b.yaml:2:13: networks: "
	    "2001:db8:1::/48 overlaps 2001:db8::/32 of board 'Stichting A' "
	    "(%s/boards/a.yaml:2:25)", d.path, d.path);
	assert_true(errs_has(&e, want));
	snprintf(want, sizeof want, "%s/boards/b.yaml:2:32: networks: "
	    "10.1.0.0/16 overlaps 10.0.0.0/8 of board 'Stichting A'", d.path);
	assert_true(errs_has(&e, want));
	snprintf(want, sizeof want, "%s/boards/b.yaml:2:45: networks: "
	    "10.1.0.0/16 overlaps 10.0.0.0/8 of board 'Stichting A'", d.path);
	assert_true(errs_has(&e, want));
	errs_clear(&e);
	tdir_write(&d, "boards/b.yaml", "name: Stichting B\n"
	    "networks: [ 192.0.2.0/25, 192.0.2.128/25, 192.0.2.0/24 ]\n");
	c = tdir_load(&d, main_yaml, &e);
	assert_null(c);
	assert_int_equal(e.n, 1);
	snprintf(want, sizeof want, "%s/boards/b.yaml:2:43: networks: "
	    "192.0.2.0/24 overlaps 192.0.2.0/25 of board 'Stichting B' "
	    "(%s/boards/b.yaml:2:13)", d.path, d.path);
	assert_true(errs_has(&e, want));
	errs_clear(&e);

	/* Neighbours do not overlap. */
	tdir_write(&d, "boards/b.yaml", "name: Stichting B\n"
	    "networks: [ 11.0.0.0/8, 9.255.255.255, \"2001:db9::/32\" ]\n");
	c = tdir_load(&d, main_yaml, &e);
	assert_int_equal(e.n, 0);
	assert_non_null(c);
	assert_int_equal(c->nboards, 2);
	conf_free(c);

	/* Duplicate names, case aside. */
	tdir_write(&d, "boards/b.yaml", "networks: [ 11.0.0.0/8 ]\n"
	    "name: stichting a\n");
	c = tdir_load(&d, main_yaml, &e);
	assert_null(c);
	assert_int_equal(e.n, 1);
	snprintf(want, sizeof want, "%s/boards/b.yaml:2:1: name: 'stichting "
	    "a' is also the name of board %s/boards/a.yaml:1:1", d.path,
	    d.path);
	assert_true(errs_has(&e, want));
	errs_clear(&e);

	/*
	 * veiligd.yaml a FIFO: an error at once, not an open(2) that waits
	 * for a writer for ever (the alarm ends a test that hangs).
	 */
	snprintf(want, sizeof want, "%s/veiligd.yaml", d.path);
	assert_int_equal(unlink(want), 0);
	assert_int_equal(mkfifo(want, 0600), 0);
	alarm(10);
	c = conf_load(want, errs_cb, &e);
	alarm(0);
	assert_null(c);
	strcat(want, ": not a regular file");
	assert_true(errs_has(&e, want));
	errs_clear(&e);
	snprintf(want, sizeof want, "%s/veiligd.yaml", d.path);
	assert_int_equal(unlink(want), 0);
	tdir_free(&d);
}

/* Write boards/bNNN.yaml for board i: five networks on lines 3 to 7. */
static void
many_board(const struct tdir *d, unsigned i, const char *extra)
{
	char	rel[64], text[512];

	snprintf(rel, sizeof rel, "boards/b%03u.yaml", i);
	snprintf(text, sizeof text, "name: board %03u\nnetworks:\n"
	    "  - 10.%u.%u.0/24\n  - \"2001:db8:%x::/48\"\n"
	    "  - 11.%u.%u.0/24\n  - \"2001:db9:%x::/48\"\n"
	    "  - 12.%u.%u.0/24\n%s", i, i >> 8, i & 255, i, i >> 8, i & 255,
	    i, i >> 8, i & 255, extra != NULL ? extra : "");
	tdir_write(d, rel, text);
}

/*
 * Many boards: every overlap found (nested, identical, within a board,
 * one network holding two earlier ones), each once, in the later file
 * with line:column, naming the earlier file with line:column; IPv6 with
 * the bits of an IPv4 network is no overlap.
 */
static void
test_board_overlap_many(void **state)
{
	struct tdir	 d;
	struct errs	 e = { 0 };
	struct conf	*c;
	char		 want[512];
	unsigned	 i;

	(void)state;
	tdir_new(&d, "test_conf", "boards", NULL);
	for (i = 0; i < 400; i++)
		many_board(&d, i, NULL);
	c = tdir_load(&d, main_yaml, &e);
	assert_int_equal(e.n, 0);
	assert_non_null(c);
	assert_int_equal(c->nboards, 400);
	conf_free(c);

	many_board(&d, 250, "  - 10.0.7.128/25\n");
	many_board(&d, 399, "  - \"2001:db8:0::/48\"\n");
	many_board(&d, 100, "  - \"::a00:0/104\"\n");
	many_board(&d, 300, "  - 11.1.0.0/23\n");
	many_board(&d, 42, "  - 12.0.42.0/24\n");
	c = tdir_load(&d, main_yaml, &e);
	assert_null(c);
	snprintf(want, sizeof want, "%s/boards/b250.yaml:8:5: networks: "
	    "10.0.7.128/25 overlaps 10.0.7.0/24 of board 'board 007' "
	    "(%s/boards/b007.yaml:3:5)", d.path, d.path);
	assert_true(errs_has(&e, want));
	snprintf(want, sizeof want, "%s/boards/b399.yaml:8:5: networks: "
	    "2001:db8::/48 overlaps 2001:db8::/48 of board 'board 000' "
	    "(%s/boards/b000.yaml:4:5)", d.path, d.path);
	assert_true(errs_has(&e, want));
	snprintf(want, sizeof want, "%s/boards/b300.yaml:8:5: networks: "
	    "11.1.0.0/23 overlaps 11.1.0.0/24 of board 'board 256' "
	    "(%s/boards/b256.yaml:5:5)", d.path, d.path);
	assert_true(errs_has(&e, want));
	snprintf(want, sizeof want, "%s/boards/b042.yaml:8:5: networks: "
	    "12.0.42.0/24 overlaps 12.0.42.0/24 of board 'board 042' "
	    "(%s/boards/b042.yaml:7:5)", d.path, d.path);
	assert_true(errs_has(&e, want));
	assert_int_equal(e.n, 4);
	errs_clear(&e);
	tdir_free(&d);
}

/* Load d's veiligd.yaml (written from text first) with conf_load_keep(). */
static struct conf *
tdir_keep(const struct tdir *d, const char *text, const struct conf *old,
    struct errs *e)
{
	char	path[256];

	tdir_write(d, "veiligd.yaml", text);
	snprintf(path, sizeof path, "%s/veiligd.yaml", d->path);
	return (conf_load_keep(path, old, errs_cb, e));
}

/* The board of c whose file is boards/name in d, or NULL. */
static const struct conf_board *
board_file(const struct tdir *d, const struct conf *c, const char *name)
{
	char	path[256];
	size_t	i;

	snprintf(path, sizeof path, "%s/boards/%s", d->path, name);
	for (i = 0; i < c->nboards; i++)
		if (strcmp(c->boards[i].path, path) == 0)
			return (&c->boards[i]);
	return (NULL);
}

/*
 * conf_load_keep(): a broken board file keeps its last good version, or
 * is left out when it has none; the rest applies; veiligd.yaml errors
 * still refuse the whole load.
 */
static void
test_board_keep(void **state)
{
	struct tdir		 d;
	struct errs		 e = { 0 };
	struct conf		*c1, *c2, *c3;
	const struct conf_board	*b;
	char			 want[512];

	(void)state;
	tdir_new(&d, "test_conf", "boards", NULL);
	tdir_write(&d, "boards/a.yaml", "name: A\nnetworks: [ 10.1.0.0/16 ]\n"
	    "block: [ malware ]\n");
	tdir_write(&d, "boards/b.yaml", "name: B\nnetworks: [ 10.2.0.0/16 ]\n"
	    "block: [ phishing, gambling ]\ndeny: [ game.example ]\n");
	tdir_write(&d, "boards/c.yaml", "name: C\nnetworks: [ 10.3.0.0/16 ]\n"
	    "networks: [ 10.9.0.0/16 ]\n");

	/* At start (nothing in force): c.yaml is left out, said once. */
	c1 = tdir_keep(&d, main_yaml, NULL, &e);
	assert_non_null(c1);
	assert_int_equal(e.n, 1);
	snprintf(want, sizeof want, "%s/boards/c.yaml:3:1: networks: "
	    "duplicate key", d.path);
	assert_true(errs_has(&e, want));
	errs_clear(&e);
	assert_int_equal(c1->nboards, 2);
	assert_null(board_file(&d, c1, "c.yaml"));
	assert_int_equal(c1->nbroken, 1);
	assert_true(strncmp(c1->broken[0].error, want, strlen(want)) == 0);
	assert_int_equal(c1->broken[0].nerr, 1);
	assert_int_equal(c1->broken[0].kept, 0);
	snprintf(want, sizeof want, "%s/boards/c.yaml", d.path);
	assert_string_equal(c1->broken[0].path, want);
	/* conf_load() still refuses it all, as veiligd -n does. */
	snprintf(want, sizeof want, "%s/veiligd.yaml", d.path);
	assert_null(conf_load(want, errs_cb, &e));
	assert_int_equal(e.n, 1);
	errs_clear(&e);

	/*
	 * b.yaml moves to other networks, and breaks: the old b stays
	 * entire (its old network, lists and deny), a's change applies,
	 * c.yaml mended comes in.
	 */
	tdir_write(&d, "boards/a.yaml", "name: A\nnetworks: [ 10.1.0.0/16 ]\n"
	    "block: [ gambling ]\n");
	tdir_write(&d, "boards/b.yaml", "name: B\nnetworks: [ 10.4.0.0/16 ]\n"
	    "block: [ phishing, nosuchlist ]\n");
	tdir_write(&d, "boards/c.yaml", "name: C\nnetworks: [ 10.3.0.0/16 ]\n");
	c2 = tdir_keep(&d, main_yaml, c1, &e);
	assert_non_null(c2);
	assert_int_equal(e.n, 1);
	errs_clear(&e);
	assert_int_equal(c2->nboards, 3);
	b = board_file(&d, c2, "a.yaml");
	assert_int_equal(b->block, 1 << 2);
	assert_int_equal(b->kept, 0);
	b = board_file(&d, c2, "b.yaml");
	assert_non_null(b);
	assert_int_equal(b->kept, 1);
	assert_int_equal(b->networks[0].addr[1], 2);
	assert_int_equal(b->block, (1 << 1) | (1 << 2));
	assert_int_equal(b->ndeny, 1);
	assert_string_equal(b->deny[0].text, "game.example");
	assert_memory_equal(b->deny[0].lname, "\004game\007example", 13);
	assert_non_null(board_file(&d, c2, "c.yaml"));
	assert_int_equal(c2->nbroken, 1);
	assert_int_equal(c2->broken[0].kept, 1);
	snprintf(want, sizeof want, "%s/boards/b.yaml:3:20: block: "
	    "'nosuchlist' is not a list", d.path);
	assert_true(strncmp(c2->broken[0].error, want, strlen(want)) == 0);

	/*
	 * From c2 (b kept), b still broken, and:
	 *   - a new board file d.yaml, broken: left out;
	 *   - a.yaml claims b's old network: a clash with a kept board,
	 *     blamed on a, which falls back to its own last good version;
	 *   - c.yaml takes b's name: the same;
	 *   - veiligd.yaml drops the list gambling and reorders the rest:
	 *     the kept boards block what still exists, by name.
	 */
	tdir_write(&d, "boards/a.yaml", "name: A\nnetworks: [ 10.2.1.0/24 ]\n");
	tdir_write(&d, "boards/c.yaml", "name: b\nnetworks: [ 10.3.0.0/16 ]\n");
	tdir_write(&d, "boards/d.yaml", "name: D\nnetworks: [ 10.5.0.0/8 ]\n");
	c3 = tdir_keep(&d, "upstreams: [ 127.0.0.1 ]\n"
	    "board-limits: { widest-ipv4: 16 }\n"
	    "geoip: { country: country.mmdb, asn: asn.mmdb }\nlists:\n"
	    "  phishing: { file: phishing.txt, format: domains }\n"
	    "  malware: { file: malware.txt, format: domains }\n", c2, &e);
	assert_non_null(c3);
	snprintf(want, sizeof want, "%s/boards/a.yaml:2:13: networks: "
	    "10.2.1.0/24 overlaps 10.2.0.0/16 of board 'B' (%s/boards/b.yaml, "
	    "kept at its last good version)", d.path, d.path);
	assert_true(errs_has(&e, want));
	snprintf(want, sizeof want, "%s/boards/c.yaml:1:1: name: 'b' is also "
	    "the name of board %s/boards/b.yaml (kept at its last good "
	    "version)", d.path, d.path);
	assert_true(errs_has(&e, want));
	snprintf(want, sizeof want, "%s/boards/d.yaml:2:13: networks: "
	    "'10.5.0.0/8' is wider than /16", d.path);
	assert_true(errs_has(&e, want));
	snprintf(want, sizeof want, "%s/boards/a.yaml: warning: its last good "
	    "version blocks list 'gambling', which %s/veiligd.yaml no longer "
	    "has", d.path, d.path);
	assert_true(errs_has(&e, want));
	snprintf(want, sizeof want, "%s/boards/b.yaml: warning: its last good "
	    "version blocks list 'gambling'", d.path);
	assert_true(errs_has(&e, want));
	/* And b.yaml's own error again: each error once. */
	assert_int_equal(e.n, 6);
	errs_clear(&e);
	assert_int_equal(c3->nboards, 3);
	assert_null(board_file(&d, c3, "d.yaml"));
	b = board_file(&d, c3, "a.yaml");
	assert_int_equal(b->kept, 1);
	assert_int_equal(b->networks[0].addr[1], 1);
	assert_int_equal(b->block, 0);
	b = board_file(&d, c3, "b.yaml");
	assert_int_equal(b->kept, 1);
	assert_int_equal(b->block, 1 << 0);	/* phishing, now first */
	b = board_file(&d, c3, "c.yaml");
	assert_int_equal(b->kept, 1);
	assert_string_equal(b->name, "C");
	assert_int_equal(c3->nbroken, 4);
	/* Sorted by path: a, b, c kept; d left out. */
	assert_int_equal(c3->broken[0].kept, 1);
	assert_int_equal(c3->broken[1].kept, 1);
	assert_int_equal(c3->broken[2].kept, 1);
	assert_int_equal(c3->broken[3].kept, 0);
	snprintf(want, sizeof want, "%s/boards/d.yaml", d.path);
	assert_string_equal(c3->broken[3].path, want);
	conf_free(c3);

	/* An error in veiligd.yaml itself refuses it all. */
	c3 = tdir_keep(&d, "upstreams: [ 127.0.0.1 ]\ncache: { size: 1 }\n",
	    c2, &e);
	assert_null(c3);
	snprintf(want, sizeof want, "%s/veiligd.yaml:2:16: cache.size",
	    d.path);
	assert_true(errs_has(&e, want));
	errs_clear(&e);

	/* Everything mended: nothing kept, nothing broken. */
	tdir_write(&d, "boards/a.yaml", "name: A\nnetworks: [ 10.1.0.0/16 ]\n");
	tdir_write(&d, "boards/b.yaml", "name: B\nnetworks: [ 10.4.0.0/16 ]\n");
	tdir_write(&d, "boards/c.yaml", "name: C\nnetworks: [ 10.3.0.0/16 ]\n");
	tdir_write(&d, "boards/d.yaml", "name: D\nnetworks: [ 10.5.0.0/16 ]\n");
	c3 = tdir_keep(&d, main_yaml, c2, &e);
	assert_non_null(c3);
	assert_int_equal(e.n, 0);
	assert_int_equal(c3->nboards, 4);
	assert_int_equal(c3->nbroken, 0);
	assert_int_equal(board_file(&d, c3, "b.yaml")->kept, 0);
	assert_int_equal(board_file(&d, c3, "b.yaml")->networks[0].addr[1], 4);
	conf_free(c3);
	conf_free(c2);
	conf_free(c1);
	tdir_free(&d);
}

/*
 * The 3 lists of main_yaml and the distinct countries and ASNs of all
 * boards share 62 bits (CONF_MAX_BITS; the top two of a mask are the
 * answer checks'): the board that would take the 63rd has an error
 * at its key; rules another board has take no bit. conf_load_keep()
 * leaves that board out (or keeps its last good version).
 */
static void
test_board_geo_bits(void **state)
{
	struct tdir	 d;
	struct errs	 e = { 0 };
	struct conf	*c;
	char		 text[1024], want[512];
	size_t		 i, n;

	(void)state;
	tdir_new(&d, "test_conf", "boards", NULL);
	/* 59 countries: AA, AB, ... CG; with the 3 lists, 62 bits. */
	n = (size_t)snprintf(text, sizeof text, "name: A\n"
	    "networks: [ 10.0.0.0/16 ]\nblock-countries: [ ");
	for (i = 0; i < 59; i++)
		n += (size_t)snprintf(text + n, sizeof text - n, "%s%c%c",
		    i ? ", " : "", 'A' + (int)(i / 26), 'A' + (int)(i % 26));
	snprintf(text + n, sizeof text - n, " ]\n");
	tdir_write(&d, "boards/a.yaml", text);
	/* Rules a has already: no new bit. */
	tdir_write(&d, "boards/b.yaml", "name: B\nnetworks: [ 10.1.0.0/16 ]\n"
	    "block-countries: [ AA, CG, aa ]\n");
	c = tdir_load(&d, main_yaml, &e);
	assert_int_equal(e.n, 0);
	assert_non_null(c);
	conf_free(c);

	/* One more, an ASN: the 63rd bit. */
	tdir_write(&d, "boards/b.yaml", "name: B\nnetworks: [ 10.1.0.0/16 ]\n"
	    "block-countries: [ AA ]\nblock-asns: [ 64496 ]\n");
	c = tdir_load(&d, main_yaml, &e);
	assert_null(c);
	assert_int_equal(e.n, 1);
	snprintf(want, sizeof want, "%s/boards/b.yaml:3:1: block-countries: "
	    "the 3 lists and the countries and AS numbers the boards block "
	    "would be more than 62 in all", d.path);
	assert_true(errs_has(&e, want));
	errs_clear(&e);
	/* conf_load_keep(): b is left out, a stays. */
	c = tdir_keep(&d, main_yaml, NULL, &e);
	assert_non_null(c);
	assert_int_equal(e.n, 1);
	errs_clear(&e);
	assert_int_equal(c->nboards, 1);
	assert_string_equal(c->boards[0].name, "A");
	assert_int_equal(c->nbroken, 1);
	conf_free(c);
	tdir_free(&d);
}

/*
 * board-limits: no network wider than the limit (/16 and /32 by
 * default), and never the whole address space.
 */
static void
test_board_width(void **state)
{
	static const char *dflt = "upstreams: [ 127.0.0.1 ]\n";
	struct tdir	 d;
	struct errs	 e = { 0 };
	struct conf	*c;
	char		 want[512];

	(void)state;
	tdir_new(&d, "test_conf", "boards", NULL);
	tdir_write(&d, "boards/x.yaml", "name: x\n"
	    "networks: [ 10.0.0.0/16, \"2001:db8::/32\", 192.0.2.7 ]\n");
	c = tdir_load(&d, dflt, &e);
	assert_int_equal(e.n, 0);
	assert_non_null(c);
	assert_int_equal(c->board_widest4, 16);
	assert_int_equal(c->board_widest6, 32);
	conf_free(c);

	/* One wider, at its line and column; the others are fine. */
	tdir_write(&d, "boards/x.yaml", "name: x\n"
	    "networks: [ 10.0.0.0/15, \"2001:db8::/31\",\n"
	    "  \"::/0\", 0.0.0.0/0, 10.4.0.0/16 ]\n");
	c = tdir_load(&d, dflt, &e);
	assert_null(c);
	assert_int_equal(e.n, 4);
	snprintf(want, sizeof want, "%s/boards/x.yaml:2:13: networks: "
	    "'10.0.0.0/15' is wider than /16, the widest "
	    "board-limits.widest-ipv4 allows", d.path);
	assert_true(errs_has(&e, want));
	snprintf(want, sizeof want, "%s/boards/x.yaml:2:26: networks: "
	    "'2001:db8::/31' is wider than /32, the widest "
	    "board-limits.widest-ipv6 allows", d.path);
	assert_true(errs_has(&e, want));
	snprintf(want, sizeof want, "%s/boards/x.yaml:3:3: networks: "
	    "'::/0' is every IPv6 address: no board may claim it", d.path);
	assert_true(errs_has(&e, want));
	snprintf(want, sizeof want, "%s/boards/x.yaml:3:11: networks: "
	    "'0.0.0.0/0' is every IPv4 address: no board may claim it",
	    d.path);
	assert_true(errs_has(&e, want));
	errs_clear(&e);

	/* The limit moves; the whole address space stays refused. */
	tdir_write(&d, "boards/x.yaml", "name: x\n"
	    "networks: [ 128.0.0.0/1, \"8000::/1\" ]\n");
	c = tdir_load(&d, "upstreams: [ 127.0.0.1 ]\nboard-limits:\n"
	    "  widest-ipv4: 1\n  widest-ipv6: 1\n", &e);
	assert_int_equal(e.n, 0);
	assert_non_null(c);
	assert_int_equal(c->board_widest4, 1);
	conf_free(c);
	tdir_write(&d, "boards/x.yaml", "name: x\nnetworks: [ \"::/0\" ]\n");
	c = tdir_load(&d, "upstreams: [ 127.0.0.1 ]\nboard-limits:\n"
	    "  widest-ipv4: 1\n  widest-ipv6: 1\n", &e);
	assert_null(c);
	assert_int_equal(e.n, 1);
	errs_clear(&e);
	tdir_write(&d, "boards/x.yaml", "name: x\n"
	    "networks: [ 10.0.0.0/24, \"2001:db8::/64\" ]\n");
	c = tdir_load(&d, "upstreams: [ 127.0.0.1 ]\nboard-limits:\n"
	    "  widest-ipv4: 24\n  widest-ipv6: 64\n", &e);
	assert_int_equal(e.n, 0);
	conf_free(c);

	/* 0 is not a limit: the range starts at 1. */
	c = tdir_load(&d, "upstreams: [ 127.0.0.1 ]\nboard-limits:\n"
	    "  widest-ipv4: 0\n  widest-ipv6: 129\n", &e);
	assert_null(c);
	assert_int_equal(e.n, 2);
	snprintf(want, sizeof want, "%s/veiligd.yaml:3:16: "
	    "board-limits.widest-ipv4: '0' is not a number from 1 to 32",
	    d.path);
	assert_true(errs_has(&e, want));
	snprintf(want, sizeof want, "%s/veiligd.yaml:4:16: "
	    "board-limits.widest-ipv6: '129' is not a number from 1 to 128",
	    d.path);
	assert_true(errs_has(&e, want));
	errs_clear(&e);
	tdir_free(&d);
}

static void
test_board_action(void **state)
{
	struct tdir		 d;
	struct conf		*c;
	const struct conf_board	*b;

	(void)state;
	tdir_new(&d, "test_conf", "boards", NULL);
	c = board_ok(&d, "name: x\nnetworks: [ \"2001:db8::/32\" ]\n"
	    "action: nodata\n");
	assert_int_equal(c->boards[0].action, CONF_ACTION_NODATA);
	conf_free(c);
	c = board_ok(&d, "name: x\nnetworks: [ \"2001:db8::/32\" ]\n"
	    "action: redirect 192.0.2.80\n");
	b = &c->boards[0];
	assert_int_equal(b->action, CONF_ACTION_REDIRECT);
	assert_int_equal(b->have4, 1);
	assert_int_equal(b->have6, 0);
	assert_memory_equal(b->redirect4, "\300\000\002\120", 4);
	conf_free(c);
	c = board_ok(&d, "name: x\nnetworks: [ \"2001:db8::/32\" ]\n"
	    "action: redirect 2001:db8::80\n");
	b = &c->boards[0];
	assert_int_equal(b->have4, 0);
	assert_int_equal(b->have6, 1);
	assert_int_equal(b->redirect6[15], 0x80);
	conf_free(c);
	/* Either order, extra spaces. */
	c = board_ok(&d, "name: x\nnetworks: [ \"2001:db8::/32\" ]\n"
	    "action: \"redirect  2001:db8::80 192.0.2.80 \"\n");
	b = &c->boards[0];
	assert_int_equal(b->have4, 1);
	assert_int_equal(b->have6, 1);
	conf_free(c);

	expect_board_error(&d, "name: x\nnetworks: [ \"2001:db8::/32\" ]\n"
	    "action: redirect\n",
	    ":3:9: action: 'redirect' is not 'redirect' and one IPv4 address, "
	    "one IPv6 address or one of each");
	expect_board_error(&d, "name: x\nnetworks: [ \"2001:db8::/32\" ]\n"
	    "action: redirect 192.0.2.1 192.0.2.2\n",
	    ":3:9: action: 'redirect 192.0.2.1 192.0.2.2' is not 'redirect'");
	expect_board_error(&d, "name: x\nnetworks: [ \"2001:db8::/32\" ]\n"
	    "action: redirect ::1 ::2\n",
	    ":3:9: action: 'redirect ::1 ::2' is not 'redirect'");
	expect_board_error(&d, "name: x\nnetworks: [ \"2001:db8::/32\" ]\n"
	    "action: redirect www.example\n",
	    ":3:9: action: 'redirect www.example' is not 'redirect'");
	expect_board_error(&d, "name: x\nnetworks: [ \"2001:db8::/32\" ]\n"
	    "action: redirect192.0.2.1\n",
	    ":3:9: action: 'redirect192.0.2.1' is not nxdomain");
	expect_board_error(&d, "name: x\nnetworks: [ \"2001:db8::/32\" ]\n"
	    "action: NXDOMAIN\n", ":3:9: action: 'NXDOMAIN' is not nxdomain");
	tdir_free(&d);
}

/* Print with lists and boards, read back: the same lists and boards. */
static void
test_print_boards(void **state)
{
	struct tdir	 d;
	struct errs	 e = { 0 };
	struct conf	*a, *b;
	char		*out = NULL, want[256];
	size_t		 len = 0;
	FILE		*f;

	(void)state;
	tdir_new(&d, "test_conf", "boards", NULL);
	tdir_write(&d, "boards/a.yaml", "name: A\nnetworks: [ 10.0.0.0/16 ]\n"
	    "block: [ gambling ]\n");
	a = tdir_load(&d, "upstreams: [ 127.0.0.1 ]\nlists:\n"
	    "  gambling: { file: \"g \\\"q\\\".txt\", format: hosts,\n"
	    "    url: \"https://x.test/g?a=1&b=\\\\\" }\n"
	    "  x: { file: /x, format: rpz }\n"
	    "filter: { block-ttl: 0, tables: t }\n"
	    "geoip: { asn: asn.mmdb }\ncontrol: /tmp/c.sock\n", &e);
	assert_int_equal(e.n, 0);
	assert_non_null(a);
	f = open_memstream(&out, &len);
	assert_non_null(f);
	conf_print(a, f);
	fclose(f);
	/* Read back from elsewhere: absolute paths make it the same. */
	b = load_ok(out);
	assert_conf_equal(a, b);
	assert_int_equal(b->nboards, 1);
	snprintf(want, sizeof want, "%s/g \"q\".txt", d.path);
	assert_string_equal(b->lists[0].file, want);
	assert_string_equal(b->lists[0].url, "https://x.test/g?a=1&b=\\");
	assert_int_equal(b->block_ttl, 0);
	assert_null(b->geoip_country);
	assert_non_null(strstr(out, "\n  # country: not set\n"));
	assert_non_null(strstr(out, "\n  x:\n    file: \"/x\"\n"
	    "    format: rpz\n"));
	assert_non_null(strstr(out, "\n  block-ttl: 0\n"));
	assert_null(strstr(out, "name: A"));
	conf_free(a);
	conf_free(b);
	free(out);
	tdir_free(&d);
}

/* stats:, metrics: and log-queries: values, defaults, errors, printing. */
static void
test_stats_keys(void **state)
{
	struct conf	*a, *b;
	char		 buf[64], *out = NULL;
	size_t		 len = 0;
	FILE		*f;

	(void)state;
	a = load_ok("upstreams: [ 192.0.2.53 ]\n");
	assert_null(a->stats_dir);
	assert_int_equal(a->stats_interval, 300);
	assert_int_equal(a->stats_k, 5);
	assert_int_equal(a->stats_retention, 400);
	assert_null(a->stats_node);
	assert_int_equal(a->stats_top, 20);
	assert_int_equal(a->metrics.len, 0);
	assert_int_equal(a->log_queries, 0);
	conf_free(a);

	a = load_ok("upstreams: [ 192.0.2.53 ]\n"
	    "stats: { dir: /var/lib/veilig/stats, interval: 1s, "
	    "k-anonymity: 10, retention: 30d, node: ns1.example, top: 0 }\n"
	    "metrics: 127.0.0.1\nlog-queries: true\n");
	assert_string_equal(a->stats_dir, "/var/lib/veilig/stats");
	assert_int_equal(a->stats_interval, 1);
	assert_int_equal(a->stats_k, 10);
	assert_int_equal(a->stats_retention, 30);
	assert_string_equal(a->stats_node, "ns1.example");
	assert_int_equal(a->stats_top, 0);
	assert_string_equal(conf_sockaddr_str(&a->metrics, buf, sizeof buf),
	    "127.0.0.1:9153");
	assert_int_equal(a->log_queries, 1);

	/* Printed and read back, every value is the same. */
	f = open_memstream(&out, &len);
	assert_non_null(f);
	conf_print(a, f);
	fclose(f);
	assert_non_null(strstr(out, "\n  interval: 1s\n"));
	assert_non_null(strstr(out, "\n  retention: 30d\n"));
	assert_non_null(strstr(out, "\nmetrics: \"127.0.0.1:9153\"\n"));
	assert_non_null(strstr(out, "\nlog-queries: true\n"));
	b = load_ok(out);
	assert_string_equal(b->stats_dir, a->stats_dir);
	assert_int_equal(b->stats_interval, a->stats_interval);
	assert_int_equal(b->stats_k, a->stats_k);
	assert_int_equal(b->stats_retention, a->stats_retention);
	assert_string_equal(b->stats_node, a->stats_node);
	assert_int_equal(b->stats_top, a->stats_top);
	assert_int_equal(b->metrics.len, a->metrics.len);
	assert_memory_equal(&b->metrics.ss, &a->metrics.ss, a->metrics.len);
	assert_int_equal(b->log_queries, a->log_queries);
	conf_free(a);
	conf_free(b);
	free(out);

	a = load_ok("upstreams: [ 192.0.2.53 ]\nmetrics: \"[::1]:9100\"\n"
	    "stats: { interval: 1d, retention: 3650d }\n");
	assert_string_equal(conf_sockaddr_str(&a->metrics, buf, sizeof buf),
	    "[::1]:9100");
	assert_int_equal(a->stats_interval, 86400);
	assert_int_equal(a->stats_retention, 3650);
	conf_free(a);

	expect_one_error("upstreams: [ 192.0.2.53 ]\nstats: { interval: 0s }\n",
	    "t.yaml:2:20: stats.interval: '0s' is out of range 1s to 1d");
	expect_one_error("upstreams: [ 192.0.2.53 ]\nstats: { interval: 2d }\n",
	    "t.yaml:2:20: stats.interval: '2d' is out of range 1s to 1d");
	expect_one_error("upstreams: [ 192.0.2.53 ]\n"
	    "stats: { interval: 1500ms }\n", "t.yaml:2:20: stats.interval: "
	    "'1500ms' is not a whole number of seconds");
	expect_one_error("upstreams: [ 192.0.2.53 ]\n"
	    "stats: { k-anonymity: 1 }\n", "t.yaml:2:23: stats.k-anonymity: "
	    "'1' is not a number from 2 to 1000");
	expect_one_error("upstreams: [ 192.0.2.53 ]\n"
	    "stats: { retention: 36h }\n", "t.yaml:2:21: stats.retention: "
	    "'36h' is not a whole number of days");
	expect_one_error("upstreams: [ 192.0.2.53 ]\nstats: { top: 1001 }\n",
	    "t.yaml:2:15: stats.top: '1001' is not a number from 0 to 1000");
	expect_one_error("upstreams: [ 192.0.2.53 ]\nstats: { when: 1 }\n",
	    "t.yaml:2:10: stats.when: unknown key; valid keys in stats are: "
	    "dir, interval, k-anonymity, retention, node, top");
	expect_one_error("upstreams: [ 192.0.2.53 ]\nmetrics: [ \"::1\" ]\n",
	    "t.yaml:2:10: metrics: expected an address, not a list");
	expect_one_error("upstreams: [ 192.0.2.53 ]\nmetrics:\n",
	    "t.yaml:2:9: metrics: expected an address, not nothing");
	expect_one_error("upstreams: [ 192.0.2.53 ]\nmetrics: localhost:9153\n",
	    "t.yaml:2:10: metrics: 'localhost:9153' is not an address");
	expect_one_error("upstreams: [ 192.0.2.53 ]\nlog-queries: often\n",
	    "t.yaml:2:14: log-queries: 'often' is not true or false");
}

/*
 * Warnings and errors share the callback; a warning is "warning:" right
 * after its location, not anywhere an error quotes the input.
 */
static void
test_is_warning(void **state)
{
	(void)state;
	assert_true(conf_is_warning("b.yaml:3:10: warning: deny: 'com' is a "
	    "top-level domain"));
	assert_true(conf_is_warning("b.yaml: warning: its last good version "
	    "is kept"));
	assert_false(conf_is_warning("v.yaml:6:40: lists.phishing.url: "
	    "'http: warning: s://x' is not a URL"));
	assert_false(conf_is_warning("v.yaml:1:1: warning"));
	assert_false(conf_is_warning("warning: no location"));
	assert_false(conf_is_warning(""));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_full),
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_units),
		cmocka_unit_test(test_receive_buffer),
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_alias),
		cmocka_unit_test(test_many_errors),
		cmocka_unit_test(test_print),
		cmocka_unit_test(test_files),
		cmocka_unit_test(test_lists),
		cmocka_unit_test(test_lists_errors),
		cmocka_unit_test(test_boards),
		cmocka_unit_test(test_board_errors),
		cmocka_unit_test(test_file_sizes),
		cmocka_unit_test(test_changed_while_read),
		cmocka_unit_test(test_board_overlap),
		cmocka_unit_test(test_board_overlap_many),
		cmocka_unit_test(test_board_width),
		cmocka_unit_test(test_board_keep),
		cmocka_unit_test(test_board_geo_bits),
		cmocka_unit_test(test_board_action),
		cmocka_unit_test(test_print_boards),
		cmocka_unit_test(test_stats_keys),
		cmocka_unit_test(test_is_warning),
	};

	return (cmocka_run_group_tests(tests, NULL, NULL));
}
