/*
 * test_quota.c: the per-client table: limits per counter, who counts as
 * one client (an IPv4 address, an IPv6 /64, IPv4-mapped as IPv4), clients
 * leaving when they hold nothing, growth and deletion under churn (checked
 * against a plain array), the bound on clients, and a client hashed once
 * (quota_client()) counting as the same client as its address.
 */
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "quota.h"

/* sa holds the address text (IPv4 or IPv6). */
static const struct sockaddr *
addr(struct sockaddr_storage *ss, const char *text)
{
	struct sockaddr_in	*sin = (struct sockaddr_in *)ss;
	struct sockaddr_in6	*sin6 = (struct sockaddr_in6 *)ss;

	memset(ss, 0, sizeof *ss);
	if (inet_pton(AF_INET, text, &sin->sin_addr) == 1) {
		sin->sin_family = AF_INET;
		sin->sin_port = htons(5353);
	} else {
		assert_int_equal(inet_pton(AF_INET6, text, &sin6->sin6_addr),
		    1);
		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons(5353);
	}
	return ((const struct sockaddr *)ss);
}

/* A limit per client and counter; the counters are independent. */
static void
test_limit(void **state)
{
	struct quota		*qt;
	struct sockaddr_storage	 a, b;
	unsigned		 i;

	(void)state;
	assert_non_null(qt = quota_new());
	for (i = 0; i < 3; i++)
		assert_int_equal(quota_take(qt, addr(&a, "192.0.2.1"), 0, 3),
		    0);
	assert_int_equal(quota_take(qt, addr(&a, "192.0.2.1"), 0, 3), -1);
	assert_int_equal(quota_held(qt, addr(&a, "192.0.2.1"), 0), 3);
	/* Another counter of the same client, another client. */
	assert_int_equal(quota_take(qt, addr(&a, "192.0.2.1"), 1, 1), 0);
	assert_int_equal(quota_take(qt, addr(&a, "192.0.2.1"), 1, 1), -1);
	assert_int_equal(quota_take(qt, addr(&b, "192.0.2.2"), 0, 3), 0);
	assert_int_equal(quota_clients(qt), 2);
	/* A raised limit lets it take more; a lowered one stops it. */
	assert_int_equal(quota_take(qt, addr(&a, "192.0.2.1"), 0, 4), 0);
	assert_int_equal(quota_take(qt, addr(&a, "192.0.2.1"), 0, 2), -1);
	/* A limit of 0: nothing, not even a first. */
	assert_int_equal(quota_take(qt, addr(&b, "192.0.2.9"), 0, 0), -1);
	assert_int_equal(quota_clients(qt), 2);
	/* Bad arguments. */
	assert_int_equal(quota_take(qt, addr(&a, "192.0.2.1"),
	    QUOTA_COUNTERS, 9), -1);
	a.ss_family = AF_UNIX;
	assert_int_equal(quota_take(qt, (struct sockaddr *)&a, 0, 9), -1);
	assert_int_equal(quota_held(qt, (struct sockaddr *)&a, 0), 0);
	quota_give(qt, (struct sockaddr *)&a, 0);
	quota_free(qt);
	quota_free(NULL);
}

/* One client: an IPv4 address (any port), an IPv6 /64. */
static void
test_who(void **state)
{
	struct quota		*qt;
	struct sockaddr_storage	 a;
	struct sockaddr_in	*sin = (struct sockaddr_in *)&a;

	(void)state;
	assert_non_null(qt = quota_new());
	assert_int_equal(quota_take(qt, addr(&a, "198.51.100.7"), 0, 2), 0);
	sin->sin_port = htons(1);
	assert_int_equal(quota_take(qt, (struct sockaddr *)&a, 0, 2), 0);
	assert_int_equal(quota_take(qt, addr(&a, "198.51.100.7"), 0, 2), -1);
	/* The mapped form of the same address is the same client. */
	assert_int_equal(quota_held(qt, addr(&a, "::ffff:198.51.100.7"), 0),
	    2);
	assert_int_equal(quota_held(qt, addr(&a, "198.51.100.8"), 0), 0);

	/* Every address of a /64 is one client; the next /64 another. */
	assert_int_equal(quota_take(qt, addr(&a, "2001:db8:1:2::1"), 0, 2),
	    0);
	assert_int_equal(quota_take(qt,
	    addr(&a, "2001:db8:1:2:ffff:ffff:ffff:ffff"), 0, 2), 0);
	assert_int_equal(quota_take(qt, addr(&a, "2001:db8:1:2:abcd::9"), 0,
	    2), -1);
	assert_int_equal(quota_take(qt, addr(&a, "2001:db8:1:3::1"), 0, 2),
	    0);
	assert_int_equal(quota_clients(qt), 3);
	quota_free(qt);
}

/* A client that gives back everything leaves the table. */
static void
test_leave(void **state)
{
	struct quota		*qt;
	struct sockaddr_storage	 a;

	(void)state;
	assert_non_null(qt = quota_new());
	assert_int_equal(quota_take(qt, addr(&a, "192.0.2.1"), 0, 9), 0);
	assert_int_equal(quota_take(qt, addr(&a, "192.0.2.1"), 1, 9), 0);
	quota_give(qt, addr(&a, "192.0.2.1"), 0);
	assert_int_equal(quota_clients(qt), 1);
	/* More given back than taken is ignored. */
	quota_give(qt, addr(&a, "192.0.2.1"), 0);
	assert_int_equal(quota_held(qt, addr(&a, "192.0.2.1"), 1), 1);
	quota_give(qt, addr(&a, "192.0.2.1"), 1);
	assert_int_equal(quota_clients(qt), 0);
	assert_int_equal(quota_held(qt, addr(&a, "192.0.2.1"), 1), 0);
	/* A client never seen. */
	quota_give(qt, addr(&a, "192.0.2.77"), 0);
	assert_int_equal(quota_clients(qt), 0);
	quota_free(qt);
}

#define CHURN_CLIENTS	5000
#define CHURN_ROUNDS	200000

/*
 * Many clients taking and giving at random: the table always agrees with
 * a plain array of counts (growth, probing and deletion by shifting), and
 * empties when everything is given back.
 */
static void
test_churn(void **state)
{
	struct quota		*qt;
	struct sockaddr_storage	 a;
	struct sockaddr_in	*sin = (struct sockaddr_in *)&a;
	uint32_t		*held;
	size_t			 i, k, clients = 0;
	unsigned		 seed = 12345;

	(void)state;
	assert_non_null(qt = quota_new());
	assert_non_null(held = calloc(CHURN_CLIENTS, sizeof *held));
	memset(&a, 0, sizeof a);
	sin->sin_family = AF_INET;
	for (i = 0; i < CHURN_ROUNDS; i++) {
		seed = seed * 1103515245 + 12345;
		k = (seed >> 8) % CHURN_CLIENTS;
		sin->sin_addr.s_addr = htonl(0x0a000000 + (uint32_t)k);
		if ((seed >> 4) % 3 != 0) {
			if (quota_take(qt, (struct sockaddr *)&a, 0, 4) == 0) {
				assert_true(held[k] < 4);
				clients += held[k]++ == 0;
			} else
				assert_int_equal(held[k], 4);
		} else {
			quota_give(qt, (struct sockaddr *)&a, 0);
			if (held[k] > 0)
				clients -= --held[k] == 0;
		}
		if (i % 1000 == 0)
			assert_int_equal(quota_clients(qt), clients);
	}
	for (k = 0; k < CHURN_CLIENTS; k++) {
		sin->sin_addr.s_addr = htonl(0x0a000000 + (uint32_t)k);
		assert_int_equal(quota_held(qt, (struct sockaddr *)&a, 0),
		    held[k]);
		while (held[k]-- > 0)
			quota_give(qt, (struct sockaddr *)&a, 0);
	}
	assert_int_equal(quota_clients(qt), 0);
	free(held);
	quota_free(qt);
}

/* No more than QUOTA_MAX_CLIENTS clients, however many come. */
static void
test_bound(void **state)
{
	struct quota		*qt;
	struct sockaddr_storage	 a;
	struct sockaddr_in	*sin = (struct sockaddr_in *)&a;
	uint32_t		 i, refused = 0;

	(void)state;
	assert_non_null(qt = quota_new());
	memset(&a, 0, sizeof a);
	sin->sin_family = AF_INET;
	for (i = 0; i < QUOTA_MAX_CLIENTS + 100; i++) {
		sin->sin_addr.s_addr = htonl(0x0a000000 + i);
		refused += quota_take(qt, (struct sockaddr *)&a, 0, 1) == -1;
	}
	assert_int_equal(quota_clients(qt), QUOTA_MAX_CLIENTS);
	assert_int_equal(refused, 100);
	/* One leaves: room for one more. */
	sin->sin_addr.s_addr = htonl(0x0a000000);
	quota_give(qt, (struct sockaddr *)&a, 0);
	sin->sin_addr.s_addr = htonl(0x0b000000);
	assert_int_equal(quota_take(qt, (struct sockaddr *)&a, 0, 1), 0);
	quota_free(qt);
}

/*
 * A client hashed once with quota_client() is the client of its address:
 * the _cl calls and the address calls count the same counters, in any
 * mix, and it leaves the table when it gives everything back.
 */
static void
test_client(void **state)
{
	struct quota		*qt, *other;
	struct sockaddr_storage	 a, b;
	struct quota_client	 cl, cl2, clb;

	(void)state;
	assert_non_null(qt = quota_new());
	assert_non_null(other = quota_new());
	assert_int_equal(quota_client(qt, addr(&a, "192.0.2.1"), &cl), 0);
	/* The same address, another port: the same key and hash. */
	((struct sockaddr_in *)&a)->sin_port = htons(9);
	assert_int_equal(quota_client(qt, (struct sockaddr *)&a, &cl2), 0);
	assert_memory_equal(&cl, &cl2, sizeof cl);
	/* Another table hashes under another secret key. */
	assert_int_equal(quota_client(other, (struct sockaddr *)&a, &cl2), 0);
	assert_memory_equal(cl.key, cl2.key, sizeof cl.key);
	assert_true(cl.hash != cl2.hash);

	assert_int_equal(quota_take_cl(qt, &cl, 0, 2), 0);
	assert_int_equal(quota_take(qt, addr(&a, "192.0.2.1"), 0, 2), 0);
	assert_int_equal(quota_take_cl(qt, &cl, 0, 2), -1);
	assert_int_equal(quota_held_cl(qt, &cl, 0), 2);
	assert_int_equal(quota_held(qt, addr(&a, "::ffff:192.0.2.1"), 0), 2);
	assert_int_equal(quota_take_cl(qt, &cl, 1, 1), 0);
	assert_int_equal(quota_take_cl(qt, &cl, QUOTA_COUNTERS, 9), -1);
	assert_int_equal(quota_held_cl(qt, &cl, QUOTA_COUNTERS), 0);
	assert_int_equal(quota_client(qt, addr(&b, "2001:db8::1"), &clb), 0);
	assert_int_equal(quota_held_cl(qt, &clb, 0), 0);
	assert_int_equal(quota_take_cl(qt, &clb, 0, 0), -1);
	assert_int_equal(quota_clients(qt), 1);

	/* Given back in any mix of calls: the client leaves. */
	quota_give(qt, addr(&a, "192.0.2.1"), 0);
	quota_give_cl(qt, &cl, 0);
	quota_give_cl(qt, &cl, 0);	/* nothing held: nothing happens */
	assert_int_equal(quota_clients(qt), 1);
	quota_give_cl(qt, &cl, 1);
	assert_int_equal(quota_clients(qt), 0);
	assert_int_equal(quota_held_cl(qt, &cl, 1), 0);

	/* A family that is not counted has no client. */
	a.ss_family = AF_UNIX;
	assert_int_equal(quota_client(qt, (struct sockaddr *)&a, &cl), -1);
	quota_free(other);
	quota_free(qt);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_limit),
		cmocka_unit_test(test_who),
		cmocka_unit_test(test_leave),
		cmocka_unit_test(test_churn),
		cmocka_unit_test(test_bound),
		cmocka_unit_test(test_client),
	};

	return (cmocka_run_group_tests(tests, NULL, NULL));
}
