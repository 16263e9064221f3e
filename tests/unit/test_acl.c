/*
 * test_acl.c: the access list: matching, prefix lengths, families,
 * v4-mapped IPv6, the empty list and /0.
 */
#include <arpa/inet.h>
#include <netinet/in.h>

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "acl.h"

/* Fill a conf_net from text "addr/prefix". */
static struct conf_net
net(const char *addr, unsigned prefix)
{
	struct conf_net	n;

	memset(&n, 0, sizeof n);
	if (strchr(addr, ':') != NULL) {
		n.family = AF_INET6;
		assert_int_equal(inet_pton(AF_INET6, addr, n.addr), 1);
	} else {
		n.family = AF_INET;
		assert_int_equal(inet_pton(AF_INET, addr, n.addr), 1);
	}
	n.prefix = prefix;
	return n;
}

/* Does the list match the address given as text? */
static int
match(const struct acl *acl, const char *addr)
{
	struct sockaddr_in	sin;
	struct sockaddr_in6	sin6;

	if (strchr(addr, ':') != NULL) {
		memset(&sin6, 0, sizeof sin6);
		sin6.sin6_family = AF_INET6;
		assert_int_equal(inet_pton(AF_INET6, addr, &sin6.sin6_addr), 1);
		return acl_match(acl, (struct sockaddr *)&sin6);
	}
	memset(&sin, 0, sizeof sin);
	sin.sin_family = AF_INET;
	assert_int_equal(inet_pton(AF_INET, addr, &sin.sin_addr), 1);
	return acl_match(acl, (struct sockaddr *)&sin);
}

static void
test_loopback(void **state)
{
	struct conf_net	 nets[2];
	struct acl	*acl;

	(void)state;
	nets[0] = net("127.0.0.0", 8);
	nets[1] = net("::1", 128);
	assert_non_null(acl = acl_new(nets, 2));
	assert_true(match(acl, "127.0.0.1"));
	assert_true(match(acl, "127.255.255.254"));
	assert_true(match(acl, "::1"));
	assert_false(match(acl, "128.0.0.1"));
	assert_false(match(acl, "126.255.255.255"));
	assert_false(match(acl, "::2"));
	assert_false(match(acl, "2001:db8::1"));
	/* v4-mapped IPv6 is judged as IPv4. */
	assert_true(match(acl, "::ffff:127.0.0.1"));
	assert_false(match(acl, "::ffff:10.0.0.1"));
	acl_free(acl);
}

static void
test_prefixes(void **state)
{
	struct conf_net	 nets[3];
	struct acl	*acl;

	(void)state;
	nets[0] = net("192.0.2.128", 25);
	nets[1] = net("198.51.100.7", 32);
	nets[2] = net("2001:db8:100::", 48);
	assert_non_null(acl = acl_new(nets, 3));
	assert_true(match(acl, "192.0.2.128"));
	assert_true(match(acl, "192.0.2.255"));
	assert_false(match(acl, "192.0.2.127"));
	assert_true(match(acl, "198.51.100.7"));
	assert_false(match(acl, "198.51.100.6"));
	assert_true(match(acl, "2001:db8:100:ffff::1"));
	assert_false(match(acl, "2001:db8:101::1"));
	/* An IPv6 network does not match IPv4 and the other way round. */
	assert_false(match(acl, "::c000:280"));
	acl_free(acl);
}

static void
test_nested_and_all(void **state)
{
	struct conf_net	 nets[3];
	struct acl	*acl;

	(void)state;
	/* A longer prefix inside a shorter one, in both orders. */
	nets[0] = net("10.1.2.0", 24);
	nets[1] = net("10.0.0.0", 8);
	nets[2] = net("10.1.0.0", 16);
	assert_non_null(acl = acl_new(nets, 3));
	assert_true(match(acl, "10.200.0.1"));
	assert_true(match(acl, "10.1.2.3"));
	assert_false(match(acl, "11.0.0.1"));
	acl_free(acl);

	nets[0] = net("0.0.0.0", 0);
	assert_non_null(acl = acl_new(nets, 1));
	assert_true(match(acl, "203.0.113.9"));
	assert_false(match(acl, "2001:db8::1"));
	acl_free(acl);
}

static void
test_empty(void **state)
{
	struct acl	*acl;

	(void)state;
	assert_non_null(acl = acl_new(NULL, 0));
	assert_false(match(acl, "127.0.0.1"));
	assert_false(match(acl, "::1"));
	acl_free(acl);
	acl_free(NULL);
}

static void
test_many(void **state)
{
	struct conf_net	 nets[300];
	struct acl	*acl;
	char		 buf[64];
	int		 i;

	(void)state;
	/* Enough networks to make the node array grow several times. */
	for (i = 0; i < 300; i++) {
		snprintf(buf, sizeof buf, "2001:db8:%x::", i);
		nets[i] = net(buf, 48);
	}
	assert_non_null(acl = acl_new(nets, 300));
	assert_true(match(acl, "2001:db8:0::1"));
	assert_true(match(acl, "2001:db8:12b::5"));
	assert_false(match(acl, "2001:db8:12c::5"));
	acl_free(acl);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_loopback),
		cmocka_unit_test(test_prefixes),
		cmocka_unit_test(test_nested_and_all),
		cmocka_unit_test(test_empty),
		cmocka_unit_test(test_many),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
