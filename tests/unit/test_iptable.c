/*
 * test_iptable.c: the network table: single addresses, nested networks
 * ORing values, /0, IPv6, v4-mapped addresses, overlap detection,
 * duplicates, edges of the address space, and many random networks
 * checked against a brute-force reference, for lookups and overlaps.
 */
#include <arpa/inet.h>
#include <netinet/in.h>

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "iptable.h"

/* Fill a conf_net from "addr/prefix". */
static struct conf_net
net(const char *cidr)
{
	struct conf_net	 n;
	char		 buf[64], *slash;

	memset(&n, 0, sizeof n);
	snprintf(buf, sizeof buf, "%s", cidr);
	slash = strchr(buf, '/');
	assert_non_null(slash);
	*slash = '\0';
	n.prefix = (unsigned)atoi(slash + 1);
	n.family = strchr(buf, ':') != NULL ? AF_INET6 : AF_INET;
	assert_int_equal(inet_pton(n.family, buf, n.addr), 1);
	return (n);
}

/* Add "addr/prefix" with a value. */
static void
add(struct iptable_builder *b, const char *cidr, uint64_t value)
{
	struct conf_net	n = net(cidr);

	assert_int_equal(iptable_add(b, &n, value), 0);
}

/*
 * Look up an address given as text, through a sockaddr, after the hint a
 * worker gives first (iptable_prefetch(): it must read nothing but the
 * table's header, whatever the address, which ASan checks here).
 */
static uint64_t
look(const struct iptable *t, const char *addr)
{
	struct sockaddr_in	sin;
	struct sockaddr_in6	sin6;

	if (strchr(addr, ':') != NULL) {
		memset(&sin6, 0, sizeof sin6);
		sin6.sin6_family = AF_INET6;
		assert_int_equal(inet_pton(AF_INET6, addr, &sin6.sin6_addr), 1);
		iptable_prefetch(t, (struct sockaddr *)&sin6);
		return (iptable_lookup(t, (struct sockaddr *)&sin6));
	}
	memset(&sin, 0, sizeof sin);
	sin.sin_family = AF_INET;
	assert_int_equal(inet_pton(AF_INET, addr, &sin.sin_addr), 1);
	iptable_prefetch(t, (struct sockaddr *)&sin);
	return (iptable_lookup(t, (struct sockaddr *)&sin));
}

static void
test_single(void **state)
{
	struct iptable_builder	*b;
	struct iptable		*t;

	(void)state;
	assert_non_null(b = iptable_builder_new());
	add(b, "192.0.2.1/32", 1);
	add(b, "192.0.2.3/32", 2);
	assert_non_null(t = iptable_build(b));
	assert_int_equal(look(t, "192.0.2.1"), 1);
	assert_int_equal(look(t, "192.0.2.3"), 2);
	assert_int_equal(look(t, "192.0.2.0"), 0);
	assert_int_equal(look(t, "192.0.2.2"), 0);
	assert_int_equal(look(t, "192.0.2.4"), 0);
	assert_int_equal(look(t, "0.0.0.0"), 0);
	assert_int_equal(look(t, "255.255.255.255"), 0);
	assert_int_equal(look(t, "::"), 0);
	assert_int_equal(iptable_count(t), 2);
	iptable_free(t);
}

static void
test_nested(void **state)
{
	struct iptable_builder	*b;
	struct iptable		*t;

	(void)state;
	assert_non_null(b = iptable_builder_new());
	/* Added in an order unlike the sorted one. */
	add(b, "10.1.2.0/24", 0x4);
	add(b, "10.0.0.0/8", 0x1);
	add(b, "10.1.2.3/32", 0x8);
	add(b, "10.1.0.0/16", 0x2);
	add(b, "10.1.3.0/24", 0x10);
	assert_non_null(t = iptable_build(b));
	assert_int_equal(look(t, "10.1.2.3"), 0xf);
	assert_int_equal(look(t, "10.1.2.4"), 0x7);
	assert_int_equal(look(t, "10.1.2.2"), 0x7);
	assert_int_equal(look(t, "10.1.2.0"), 0x7);
	assert_int_equal(look(t, "10.1.2.255"), 0x7);
	assert_int_equal(look(t, "10.1.3.0"), 0x13);
	assert_int_equal(look(t, "10.1.4.0"), 0x3);
	assert_int_equal(look(t, "10.1.255.255"), 0x3);
	assert_int_equal(look(t, "10.2.0.0"), 0x1);
	assert_int_equal(look(t, "10.255.255.255"), 0x1);
	assert_int_equal(look(t, "11.0.0.0"), 0);
	assert_int_equal(look(t, "9.255.255.255"), 0);
	assert_int_equal(iptable_count(t), 5);
	iptable_free(t);
}

static void
test_zero_prefix(void **state)
{
	struct iptable_builder	*b;
	struct iptable		*t;

	(void)state;
	assert_non_null(b = iptable_builder_new());
	add(b, "0.0.0.0/0", 1);
	add(b, "192.0.2.0/24", 2);
	add(b, "::/0", 4);
	add(b, "2001:db8::/32", 8);
	assert_non_null(t = iptable_build(b));
	assert_int_equal(look(t, "0.0.0.0"), 1);
	assert_int_equal(look(t, "255.255.255.255"), 1);
	assert_int_equal(look(t, "192.0.2.7"), 3);
	assert_int_equal(look(t, "::"), 4);
	assert_int_equal(look(t, "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff"), 4);
	assert_int_equal(look(t, "2001:db8:ffff::1"), 12);
	/* v4-mapped goes to the IPv4 table, not to ::/0. */
	assert_int_equal(look(t, "::ffff:1.2.3.4"), 1);
	iptable_free(t);
}

static void
test_edges(void **state)
{
	struct iptable_builder	*b;
	struct iptable		*t;

	(void)state;
	assert_non_null(b = iptable_builder_new());
	add(b, "255.255.255.255/32", 1);
	add(b, "255.255.255.0/24", 2);
	add(b, "0.0.0.0/32", 4);
	add(b, "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff/128", 8);
	add(b, "::/128", 16);
	add(b, "0:0:0:0:ffff:ffff:ffff:ffff/128", 32);
	add(b, "0:0:0:1::/128", 64);
	assert_non_null(t = iptable_build(b));
	assert_int_equal(look(t, "255.255.255.255"), 3);
	assert_int_equal(look(t, "255.255.255.254"), 2);
	assert_int_equal(look(t, "255.255.254.255"), 0);
	assert_int_equal(look(t, "0.0.0.0"), 4);
	assert_int_equal(look(t, "0.0.0.1"), 0);
	assert_int_equal(look(t, "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff"), 8);
	assert_int_equal(look(t, "ffff:ffff:ffff:ffff:ffff:ffff:ffff:fffe"), 0);
	assert_int_equal(look(t, "::"), 16);
	assert_int_equal(look(t, "::1"), 0);
	/* Carry from the low to the high half of a 128-bit key. */
	assert_int_equal(look(t, "0:0:0:0:ffff:ffff:ffff:ffff"), 32);
	assert_int_equal(look(t, "0:0:0:1::"), 64);
	assert_int_equal(look(t, "0:0:0:1::1"), 0);
	iptable_free(t);
}

static void
test_ipv6(void **state)
{
	struct iptable_builder	*b;
	struct iptable		*t;

	(void)state;
	assert_non_null(b = iptable_builder_new());
	add(b, "2001:db8:100::/48", 1);
	add(b, "2001:db8:100:5::/64", 2);
	add(b, "2001:db8:100:5::53/128", 4);
	add(b, "2001:db8:200::/47", 8);
	assert_non_null(t = iptable_build(b));
	assert_int_equal(look(t, "2001:db8:100::1"), 1);
	assert_int_equal(look(t, "2001:db8:100:ffff:ffff:ffff:ffff:ffff"), 1);
	assert_int_equal(look(t, "2001:db8:100:5::1"), 3);
	assert_int_equal(look(t, "2001:db8:100:5::53"), 7);
	assert_int_equal(look(t, "2001:db8:101::"), 0);
	assert_int_equal(look(t, "2001:db8:201:ffff::"), 8);
	assert_int_equal(look(t, "2001:db8:202::"), 0);
	assert_int_equal(look(t, "2001:db8:ff::"), 0);
	/* Same bits, other family. */
	assert_int_equal(look(t, "32.1.13.184"), 0);
	iptable_free(t);
}

static void
test_mapped(void **state)
{
	struct iptable_builder	*b;
	struct iptable		*t;
	uint8_t			 raw[16];

	(void)state;
	assert_non_null(b = iptable_builder_new());
	add(b, "192.0.2.0/24", 1);
	/* A v6 network in ::ffff:0:0/96 is an IPv4 network. */
	add(b, "::ffff:198.51.100.0/120", 2);
	assert_non_null(t = iptable_build(b));
	assert_int_equal(look(t, "::ffff:192.0.2.9"), 1);
	assert_int_equal(look(t, "192.0.2.9"), 1);
	assert_int_equal(look(t, "198.51.100.9"), 2);
	assert_int_equal(look(t, "::ffff:198.51.100.9"), 2);
	assert_int_equal(look(t, "::ffff:198.51.101.9"), 0);
	/* IPv4-compatible (::a.b.c.d) is not mapped. */
	assert_int_equal(look(t, "::192.0.2.9"), 0);

	assert_int_equal(inet_pton(AF_INET6, "::ffff:192.0.2.200", raw), 1);
	assert_int_equal(iptable_lookup_addr(t, AF_INET6, raw), 1);
	assert_int_equal(inet_pton(AF_INET, "198.51.100.1", raw), 1);
	assert_int_equal(iptable_lookup_addr(t, AF_INET, raw), 2);
	assert_int_equal(iptable_lookup_addr(t, AF_UNIX, raw), 0);
	iptable_free(t);
}

/* What iptable_overlaps() reported, in order. */
struct clashes {
	size_t		n;
	uint64_t	value[64];
	uint64_t	other[64];
};

static void
clash_cb(void *arg, uint64_t value, uint64_t other)
{
	struct clashes	*c = arg;

	assert_true(c->n < 64);
	c->value[c->n] = value;
	c->other[c->n] = other;
	c->n++;
}

/* Add the networks of cidr[] with their index as value; check clashes. */
static void
check_overlaps(const char **cidr, size_t n, const uint64_t (*want)[2],
    size_t nwant)
{
	struct iptable_builder	*b;
	struct clashes		 c;
	size_t			 i;

	assert_non_null(b = iptable_builder_new());
	for (i = 0; i < n; i++)
		add(b, cidr[i], i);
	memset(&c, 0, sizeof c);
	assert_int_equal(iptable_overlaps(b, clash_cb, &c), 0);
	for (i = 0; i < c.n && i < nwant; i++) {
		if (c.value[i] != want[i][0] || c.other[i] != want[i][1])
			fail_msg("clash %zu: %s overlaps %s, want %s overlaps "
			    "%s", i, cidr[c.value[i]], cidr[c.other[i]],
			    cidr[want[i][0]], cidr[want[i][1]]);
	}
	assert_int_equal(c.n, nwant);
	/* The builder is still whole: it builds as before. */
	iptable_free(iptable_build(b));
}

static void
test_overlap(void **state)
{
	/* Contains, contained, equal, disjoint, v6, across families. */
	static const char *a[] = {
		"10.1.0.0/16",		/* 0 */
		"2001:db8::/32",	/* 1 */
		"10.0.0.0/15",		/* 2: holds 0 */
		"10.1.2.3/32",		/* 3: in 0 (and 2) */
		"10.1.0.0/16",		/* 4: equals 0 */
		"10.2.0.0/16",		/* 5: next to 2 */
		"2001:db8:1::/48",	/* 6: in 1 */
		"2001:db9::/32",	/* 7: next to 1 */
		"::a01:0/112",		/* 8: the bits of 10.1/16, but IPv6 */
		"::ffff:10.1.9.0/120",	/* 9: v4-mapped: in 0 */
		"10.1.2.3/32",		/* 10: equals 3, first is 0 */
		"2001:db8:1::/48",	/* 11: equals 6, first is 1 */
		"::/0",			/* 12: holds 1, 6, 7, 8, 11 */
		"0.0.0.0/0",		/* 13: holds all IPv4 */
	};
	static const uint64_t want_a[][2] = {
		{ 2, 0 }, { 3, 0 }, { 4, 0 }, { 6, 1 }, { 9, 0 }, { 10, 0 },
		{ 11, 1 }, { 12, 1 }, { 13, 0 },
	};
	/* The first added may be anywhere below: a later sibling's. */
	static const char *b[] = {
		"192.0.2.128/25",	/* 0 */
		"192.0.2.0/26",		/* 1 */
		"192.0.2.0/24",		/* 2: holds 1, then 0: 0 first */
		"192.0.0.0/16",		/* 3: holds them all */
		"192.0.2.0/26",		/* 4: equals 1, in 2 and 3 */
		"192.0.3.0/24",		/* 5: in 3 only */
		"192.0.2.64/26",	/* 6: in 2 and 3 */
	};
	static const uint64_t want_b[][2] = {
		{ 2, 0 }, { 3, 0 }, { 4, 1 }, { 5, 3 }, { 6, 2 },
	};
	struct iptable_builder	*e;
	struct clashes		 c;

	(void)state;
	check_overlaps(a, sizeof a / sizeof *a, want_a,
	    sizeof want_a / sizeof *want_a);
	check_overlaps(b, sizeof b / sizeof *b, want_b,
	    sizeof want_b / sizeof *want_b);
	check_overlaps(a, 2, NULL, 0);

	/* Nothing added, nothing to say. */
	assert_non_null(e = iptable_builder_new());
	memset(&c, 0, sizeof c);
	assert_int_equal(iptable_overlaps(e, clash_cb, &c), 0);
	assert_int_equal(c.n, 0);
	iptable_builder_free(e);
	iptable_builder_free(NULL);
}

static void
test_duplicates(void **state)
{
	struct iptable_builder	*b;
	struct iptable		*t;

	(void)state;
	assert_non_null(b = iptable_builder_new());
	add(b, "192.0.2.0/24", 1);
	add(b, "192.0.2.0/24", 4);
	add(b, "2001:db8::/32", 2);
	add(b, "2001:db8::/32", 2);
	add(b, "192.0.2.0/24", 16);
	/* Host bits are ignored: this is 198.51.100.0/24. */
	add(b, "198.51.100.77/24", 32);
	add(b, "198.51.100.0/24", 64);
	assert_non_null(t = iptable_build(b));
	assert_int_equal(iptable_count(t), 3);
	assert_int_equal(look(t, "192.0.2.55"), 21);
	assert_int_equal(look(t, "2001:db8::55"), 2);
	assert_int_equal(look(t, "198.51.100.1"), 96);
	iptable_free(t);
}

static void
test_invalid(void **state)
{
	struct iptable_builder	*b;
	struct conf_net		 n;

	(void)state;
	assert_non_null(b = iptable_builder_new());
	n = net("192.0.2.0/24");
	n.prefix = 33;
	assert_int_equal(iptable_add(b, &n, 1), -1);
	n = net("2001:db8::/32");
	n.prefix = 129;
	assert_int_equal(iptable_add(b, &n, 1), -1);
	n.family = AF_UNIX;
	n.prefix = 8;
	assert_int_equal(iptable_add(b, &n, 1), -1);
	iptable_builder_free(b);
}

static void
test_empty(void **state)
{
	struct iptable_builder	*b;
	struct iptable		*t;

	(void)state;
	assert_non_null(b = iptable_builder_new());
	assert_non_null(t = iptable_build(b));
	assert_int_equal(iptable_count(t), 0);
	assert_true(iptable_bytes(t) > 0);
	assert_int_equal(look(t, "192.0.2.1"), 0);
	assert_int_equal(look(t, "2001:db8::1"), 0);
	iptable_free(t);
	iptable_free(NULL);

	/* Networks whose values are all 0. */
	assert_non_null(b = iptable_builder_new());
	add(b, "192.0.2.0/24", 0);
	add(b, "2001:db8::/32", 0);
	assert_non_null(t = iptable_build(b));
	assert_int_equal(iptable_count(t), 2);
	assert_int_equal(look(t, "192.0.2.1"), 0);
	assert_int_equal(look(t, "2001:db8::1"), 0);
	iptable_free(t);
}

/* A small deterministic generator (xorshift64*). */
static uint64_t
rnd(uint64_t *s)
{
	*s ^= *s >> 12;
	*s ^= *s << 25;
	*s ^= *s >> 27;
	return (*s * 2685821657736338717ULL);
}

/* Does net hold addr (same family)? The reference, bit by bit. */
static int
holds(const struct conf_net *n, const uint8_t *addr)
{
	unsigned	i;

	for (i = 0; i < n->prefix; i++) {
		if (((n->addr[i / 8] ^ addr[i / 8]) >> (7 - i % 8)) & 1)
			return (0);
	}
	return (1);
}

/* Zero the host bits of n. */
static void
clear_host(struct conf_net *n)
{
	unsigned	i, len = n->family == AF_INET ? 32 : 128;

	for (i = n->prefix; i < len; i++)
		n->addr[i / 8] &= ~(1U << (7 - i % 8));
}

/*
 * Random networks, nested because they all fall in a small space, against
 * a brute-force OR over the list for random addresses, most near a
 * network. 20,000 /32s and /24s plus wider ones for IPv4; fewer for IPv6.
 * Values one bit of 64 (small 0: as IP lists have, so that the jump
 * index keeps 32-bit values or none) or one of the low 15 bits (small 1:
 * every OR fits the 16-bit values of the index, as boards' do).
 */
#define NV4	20000
#define NV6	2000
#define NLOOK	1500

static void
check_random(int small)
{
	struct iptable_builder	*b;
	struct iptable		*t;
	struct conf_net		*nets, *n;
	uint64_t		*vals, seed = 0x9e3779b97f4a7c15ULL, r, want;
	uint8_t			 addr[16];
	size_t			 nnets = NV4 + NV6, i, j, nhit = 0;
	int			 fam, len;

	nets = calloc(nnets, sizeof *nets);
	vals = calloc(nnets, sizeof *vals);
	assert_non_null(nets);
	assert_non_null(vals);
	assert_non_null(b = iptable_builder_new());
	for (i = 0; i < nnets; i++) {
		n = &nets[i];
		r = rnd(&seed);
		if (i < NV4) {
			/* In 10.0.0.0/12: /32 mostly, /24, a few wider. */
			n->family = AF_INET;
			n->addr[0] = 10;
			n->addr[1] = r & 15;
			n->addr[2] = r >> 8;
			n->addr[3] = r >> 16;
			switch ((r >> 24) % 1000) {
			case 0: case 1: n->prefix = 16; break;
			case 2: n->prefix = (r >> 40) % 33; break;
			default:
				n->prefix = (r >> 24) % 1000 < 20 ? 20 :
				    (r >> 24) % 1000 < 300 ? 24 : 32;
				break;
			}
		} else {
			/* In 2001:db8::/44, prefixes 44..128. */
			n->family = AF_INET6;
			memcpy(n->addr, "\x20\x01\x0d\xb8\x00", 5);
			n->addr[5] = r & 0x0f;
			for (j = 6; j < 16; j++)
				n->addr[j] = (j % 2 == 0) ? rnd(&seed) : 0;
			n->prefix = 44 + (r >> 8) % 85;
		}
		clear_host(n);
		vals[i] = 1ULL << ((r >> 48) % (small ? 15 : 64));
		assert_int_equal(iptable_add(b, n, vals[i]), 0);
	}
	assert_non_null(t = iptable_build(b));
	assert_true(iptable_count(t) <= nnets);
	assert_true(iptable_count(t) > nnets / 2);
	/*
	 * Every /32 not on a range edge makes two more ranges (unless its
	 * neighbours have its value, as 15 values often do).
	 */
	assert_true(small || iptable_bytes(t) > iptable_count(t) * 12);

	for (i = 0; i < NLOOK; i++) {
		r = rnd(&seed);
		/* Near a random network, or anywhere. */
		n = &nets[r % nnets];
		fam = n->family;
		len = fam == AF_INET ? 4 : 16;
		memcpy(addr, n->addr, len);
		if ((r >> 32) % 4 == 0)
			addr[len - 1] ^= r >> 40;
		else if ((r >> 32) % 4 == 1)
			addr[len - 3] ^= r >> 48;
		else if ((r >> 32) % 4 == 2) {
			for (j = 0; j < (size_t)len; j++)
				addr[j] = rnd(&seed);
		}
		want = 0;
		for (j = 0; j < nnets; j++) {
			if (nets[j].family == fam && holds(&nets[j], addr))
				want |= vals[j];
		}
		assert_int_equal(iptable_lookup_addr(t, fam, addr), want);
		nhit += want != 0;
	}
	/* The test means something only with both outcomes. */
	assert_true(nhit > NLOOK / 4);
	assert_true(nhit < NLOOK);
	iptable_free(t);
	free(nets);
	free(vals);
}

static void
test_random(void **state)
{
	(void)state;
	check_random(0);
	check_random(1);
}

/*
 * The width of the jump index's values: 16 bits while every whole
 * bucket's value + 1 fits (a board index up to 65,533), else 32; two
 * tables of the same 100 adjacent /24s (a jump index of 100 buckets, each
 * a whole /24), whose last value is 65,534 in one and 65,535 in the
 * other, differ by two octets a bucket, and both find every value. Nested networks in a
 * narrow table: a /16 around some of the /24s (their buckets hold the
 * OR), a /25 and a /32 inside one /24 (its bucket is searched), and
 * IPv6 /48s with a /64 inside one, and the addresses of no network.
 */
static void
test_jump_width(void **state)
{
	struct iptable_builder	*b;
	struct iptable		*t[2];
	char			 cidr[64];
	size_t			 i, w, bytes[2];

	(void)state;
	for (w = 0; w < 2; w++) {
		assert_non_null(b = iptable_builder_new());
		for (i = 0; i < 100; i++) {
			snprintf(cidr, sizeof cidr, "10.0.%zu.0/24", i);
			add(b, cidr, i < 99 ? i + 1 : 65534 + w);
		}
		assert_non_null(t[w] = iptable_build(b));
		bytes[w] = iptable_bytes(t[w]);
		for (i = 0; i < 100; i++) {
			snprintf(cidr, sizeof cidr, "10.0.%zu.%zu", i,
			    i * 7 % 256);
			assert_true(look(t[w], cidr) ==
			    (i < 99 ? i + 1 : 65534 + w));
			snprintf(cidr, sizeof cidr, "10.0.%zu.255", i);
			assert_true(look(t[w], cidr) ==
			    (i < 99 ? i + 1 : 65534 + w));
		}
		assert_true(look(t[w], "10.0.100.0") == 0);
		assert_true(look(t[w], "9.255.255.255") == 0);
		assert_true(look(t[w], "::ffff:10.0.99.1") == 65534 + w);
	}
	/* 101 buckets: the last range starts at 10.0.100.0 (value 0). */
	assert_int_equal(bytes[1] - bytes[0], 2 * 101);
	iptable_free(t[0]);
	iptable_free(t[1]);

	assert_non_null(b = iptable_builder_new());
	for (i = 0; i < 100; i++) {
		snprintf(cidr, sizeof cidr, "10.0.%zu.0/24", 2 * i);
		add(b, cidr, 1U << (i % 8));
		snprintf(cidr, sizeof cidr, "2001:db8:%zx::/48", 2 * i);
		add(b, cidr, 300 + i);
	}
	add(b, "10.0.0.0/17", 0x100);		/* around /24s 0-127 */
	add(b, "10.0.20.128/25", 0x200);	/* in 10.0.20.0/24 */
	add(b, "10.0.20.7/32", 0x400);
	add(b, "2001:db8:10:1::/64", 0x800);	/* in 2001:db8:10::/48 */
	assert_non_null(t[0] = iptable_build(b));
	assert_true(look(t[0], "10.0.20.1") == (0x100 | 1U << 2));
	assert_true(look(t[0], "10.0.20.7") == (0x500 | 1U << 2));
	assert_true(look(t[0], "10.0.20.8") == (0x100 | 1U << 2));
	assert_true(look(t[0], "10.0.20.127") == (0x100 | 1U << 2));
	assert_true(look(t[0], "10.0.20.128") == (0x300 | 1U << 2));
	assert_true(look(t[0], "10.0.20.255") == (0x300 | 1U << 2));
	assert_true(look(t[0], "10.0.21.0") == 0x100);	/* the /17 only */
	assert_true(look(t[0], "10.0.126.0") == (0x100 | 1U << 7));
	assert_true(look(t[0], "10.0.127.255") == 0x100);
	assert_true(look(t[0], "10.0.128.0") == (1U << 0));
	assert_true(look(t[0], "10.0.129.0") == 0);	/* outside all */
	assert_true(look(t[0], "::ffff:10.0.20.200") == (0x300 | 1U << 2));
	assert_true(look(t[0], "2001:db8:10::1") == 308);
	assert_true(look(t[0], "2001:db8:10:1::9") == (308 | 0x800));
	assert_true(look(t[0], "2001:db8:10:2::") == 308);
	assert_true(look(t[0], "2001:db8:11::") == 0);
	assert_true(look(t[0], "2001:db8:c6::1") == 399);
	assert_true(look(t[0], "2001:db8:c7::1") == 0);
	iptable_free(t[0]);
}

/*
 * A board table: many disjoint networks, each its own value, spread
 * unevenly (dense in 127.0.0.0/8, a few far away, so that some buckets of
 * the jump index are empty and some full); every network's first and
 * last address give its value, the addresses just outside it another
 * network's or none. IPv6 /48s likewise, with /128s sharing a /64.
 */
static void
test_jump(void **state)
{
	struct iptable_builder	*b;
	struct iptable		*t;
	struct conf_net		 n;
	uint8_t			 a[16];
	uint32_t		 x, lo, hi;
	size_t			 i, k;

	(void)state;
	assert_non_null(b = iptable_builder_new());
	for (i = 0; i < 6000; i++) {
		memset(&n, 0, sizeof n);
		n.family = AF_INET;
		/* Every third /24 of 127.0.0.0/8, and some of 200.0.0.0/8. */
		x = i < 5990 ? (127U << 24) | (uint32_t)(3 * i + 1) << 8 :
		    (200U << 24) | (uint32_t)((i * 977) & 0xffff) << 8;
		n.addr[0] = x >> 24;
		n.addr[1] = x >> 16;
		n.addr[2] = x >> 8;
		n.prefix = 24;
		assert_int_equal(iptable_add(b, &n, i + 1), 0);
	}
	for (i = 0; i < 300; i++) {
		memset(&n, 0, sizeof n);
		n.family = AF_INET6;
		memcpy(n.addr, "\x20\x01\x0d\xb8", 4);
		n.addr[4] = (uint8_t)(i >> 8);
		n.addr[5] = (uint8_t)i;
		n.prefix = i % 2 ? 48 : 128;
		if (n.prefix == 128)
			n.addr[15] = 1;
		assert_int_equal(iptable_add(b, &n, 10000 + i), 0);
	}
	assert_non_null(t = iptable_build(b));
	for (i = 0; i < 6000; i++) {
		x = i < 5990 ? (127U << 24) | (uint32_t)(3 * i + 1) << 8 :
		    (200U << 24) | (uint32_t)((i * 977) & 0xffff) << 8;
		lo = x;
		hi = x | 0xff;
		for (k = 0; k < 4; k++) {
			x = k == 0 ? lo : k == 1 ? hi : k == 2 ? lo - 1 : hi + 1;
			a[0] = x >> 24;
			a[1] = x >> 16;
			a[2] = x >> 8;
			a[3] = x;
			/* Neighbours of a dense /24 are free /24s: none. */
			assert_int_equal(iptable_lookup_addr(t, AF_INET, a),
			    k < 2 ? i + 1 : 0);
		}
	}
	memset(a, 0, sizeof a);
	memcpy(a, "\x20\x01\x0d\xb8", 4);
	for (i = 0; i < 300; i++) {
		a[4] = (uint8_t)(i >> 8);
		a[5] = (uint8_t)i;
		a[15] = 1;
		assert_int_equal(iptable_lookup_addr(t, AF_INET6, a),
		    10000 + i);
		a[15] = 2;
		assert_int_equal(iptable_lookup_addr(t, AF_INET6, a),
		    i % 2 ? 10000 + i : 0);
	}
	a[0] = 0x30;
	assert_int_equal(iptable_lookup_addr(t, AF_INET6, a), 0);
	memset(a, 0xff, 4);
	assert_int_equal(iptable_lookup_addr(t, AF_INET, a), 0);
	memset(a, 0, 4);
	assert_int_equal(iptable_lookup_addr(t, AF_INET, a), 0);
	iptable_free(t);
}

/*
 * The board table of the boards bench: 40,000 adjacent /24s, each its own
 * board, so that every bucket of the jump index is one /24 and keeps its
 * value itself; a few values of more than 32 bits, which it cannot keep
 * (their buckets are searched). Every /24 at a random address inside, its
 * first and last, and the addresses just outside the block. Adjacent
 * IPv6 /48s the same way.
 */
static void
test_jump_whole(void **state)
{
	struct iptable_builder	*b;
	struct iptable		*t;
	struct conf_net		 n;
	uint8_t			 a[16];
	uint32_t		 x;
	uint64_t		 v;
	size_t			 i;

	(void)state;
	assert_non_null(b = iptable_builder_new());
	for (i = 0; i < 40000; i++) {
		memset(&n, 0, sizeof n);
		n.family = AF_INET;
		x = (127U << 24) | (uint32_t)i << 8;
		n.addr[0] = x >> 24;
		n.addr[1] = x >> 16;
		n.addr[2] = x >> 8;
		n.prefix = 24;
		v = i % 1000 == 7 ? (uint64_t)i << 32 : i + 1;
		assert_int_equal(iptable_add(b, &n, v), 0);
	}
	for (i = 0; i < 4096; i++) {
		memset(&n, 0, sizeof n);
		n.family = AF_INET6;
		memcpy(n.addr, "\x20\x01\x0d\xb8", 4);
		n.addr[4] = (uint8_t)(i >> 8);
		n.addr[5] = (uint8_t)i;
		n.prefix = 48;
		assert_int_equal(iptable_add(b, &n, i % 500 == 3 ?
		    UINT64_MAX - i : 100000 + i), 0);
	}
	assert_non_null(t = iptable_build(b));
	for (i = 0; i < 3 * 40000; i++) {
		x = (127U << 24) | (uint32_t)(i / 3) << 8 |
		    (i % 3 == 0 ? 0 : i % 3 == 1 ? 0xff : (uint32_t)rand() & 0xff);
		a[0] = x >> 24;
		a[1] = x >> 16;
		a[2] = x >> 8;
		a[3] = x;
		v = i / 3 % 1000 == 7 ? (uint64_t)(i / 3) << 32 : i / 3 + 1;
		assert_true(iptable_lookup_addr(t, AF_INET, a) == v);
	}
	memcpy(a, "\x7e\xff\xff\xff", 4);
	assert_true(iptable_lookup_addr(t, AF_INET, a) == 0);
	x = (127U << 24) | 40000U << 8;
	a[0] = x >> 24;
	a[1] = x >> 16;
	a[2] = x >> 8;
	a[3] = 0;
	assert_true(iptable_lookup_addr(t, AF_INET, a) == 0);
	for (i = 0; i < 2 * 4096; i++) {
		memset(a, 0, sizeof a);
		memcpy(a, "\x20\x01\x0d\xb8", 4);
		a[4] = (uint8_t)(i / 2 >> 8);
		a[5] = (uint8_t)(i / 2);
		if (i % 2)
			memset(a + 6, 0xff, 10);
		else
			a[6 + (size_t)rand() % 10] = (uint8_t)rand();
		v = i / 2 % 500 == 3 ? UINT64_MAX - i / 2 : 100000 + i / 2;
		assert_true(iptable_lookup_addr(t, AF_INET6, a) == v);
	}
	memset(a, 0, sizeof a);
	memcpy(a, "\x20\x01\x0d\xb8\x10", 5);
	assert_true(iptable_lookup_addr(t, AF_INET6, a) == 0);
	/* Through sockaddrs and the prefetch: before, in and past both. */
	assert_true(look(t, "126.255.255.255") == 0);
	assert_true(look(t, "127.0.0.0") == 1);
	assert_true(look(t, "127.156.63.255") == 40000);
	assert_true(look(t, "127.156.64.0") == 0);
	assert_true(look(t, "255.255.255.255") == 0);
	assert_true(look(t, "::ffff:127.0.1.9") == 2);
	assert_true(look(t, "::1") == 0);
	assert_true(look(t, "2001:db8:4:ffff::1") == 100004);
	assert_true(look(t, "2001:db8:1000::") == 0);
	assert_true(look(t, "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff") == 0);
	iptable_free(t);
}

/* Do two networks of one family overlap? The reference, bit by bit. */
static int
overlaps(const struct conf_net *a, const struct conf_net *b)
{
	if (a->family != b->family)
		return (0);
	return (a->prefix < b->prefix ? holds(a, b->addr) : holds(b, a->addr));
}

/* iptable_overlaps() into an array: got[value] = other + 1. */
static void
first_cb(void *arg, uint64_t value, uint64_t other)
{
	uint64_t	*got = arg;

	assert_int_equal(got[value], 0);
	got[value] = other + 1;
}

/*
 * Many random networks in a small space, so that most overlap some
 * other: for each, the first one added before it that overlaps it must
 * be what a comparison with every earlier network finds.
 */
#define NOV4	3000
#define NOV6	1000

static void
test_overlap_random(void **state)
{
	struct iptable_builder	*b;
	struct conf_net		*nets, *n;
	uint64_t		*got, seed = 0x2545f4914f6cdd1dULL, r;
	size_t			 nnets = NOV4 + NOV6, i, j, nclash = 0;

	(void)state;
	nets = calloc(nnets, sizeof *nets);
	got = calloc(nnets, sizeof *got);
	assert_non_null(nets);
	assert_non_null(got);
	assert_non_null(b = iptable_builder_new());
	for (i = 0; i < nnets; i++) {
		n = &nets[i];
		r = rnd(&seed);
		if (i < NOV4) {
			/* In 10.0.0.0/12, /20 to /32, now and then wider. */
			n->family = AF_INET;
			n->addr[0] = 10;
			n->addr[1] = r & 15;
			n->addr[2] = r >> 8;
			n->addr[3] = r >> 16;
			n->prefix = (r >> 24) % 200 == 0 ? 12 + (r >> 32) % 8 :
			    20 + (r >> 32) % 13;
		} else {
			/* In 2001:db8::/40, /44 to /128. */
			n->family = AF_INET6;
			memcpy(n->addr, "\x20\x01\x0d\xb8\x00", 5);
			for (j = 5; j < 16; j++)
				n->addr[j] = j < 7 ? rnd(&seed) : 0;
			n->prefix = 44 + (r >> 8) % 85;
		}
		clear_host(n);
		assert_int_equal(iptable_add(b, n, i), 0);
	}
	assert_int_equal(iptable_overlaps(b, first_cb, got), 0);
	for (i = 0; i < nnets; i++) {
		for (j = 0; j < i && !overlaps(&nets[j], &nets[i]); j++)
			;
		if (j == i) {
			assert_int_equal(got[i], 0);
			continue;
		}
		if (got[i] != j + 1)
			fail_msg("network %zu: first overlap %llu, want %zu", i,
			    (unsigned long long)got[i] - 1, j);
		nclash++;
	}
	/* Both outcomes, many times. */
	assert_true(nclash > nnets / 10);
	assert_true(nclash < nnets - nnets / 10);
	iptable_builder_free(b);
	free(nets);
	free(got);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_single),
		cmocka_unit_test(test_nested),
		cmocka_unit_test(test_zero_prefix),
		cmocka_unit_test(test_edges),
		cmocka_unit_test(test_ipv6),
		cmocka_unit_test(test_mapped),
		cmocka_unit_test(test_overlap),
		cmocka_unit_test(test_duplicates),
		cmocka_unit_test(test_invalid),
		cmocka_unit_test(test_empty),
		cmocka_unit_test(test_random),
		cmocka_unit_test(test_jump),
		cmocka_unit_test(test_jump_whole),
		cmocka_unit_test(test_jump_width),
		cmocka_unit_test(test_overlap_random),
	};

	return (cmocka_run_group_tests(tests, NULL, NULL));
}
