/*
 * test_rrl.c: response rate limiting: the classes of answers, the token
 * bucket (burst, refill, slip), what counts as one client network and one
 * response, rates off, the slipped answer, the bound on the table with a
 * victim's counter surviving a flood of other networks, and the table
 * shared by threads.
 */
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "rrl.h"
#include "tdir.h"

#define NOERROR		0
#define SERVFAIL	2
#define NXDOMAIN	3
#define REFUSED		5

/*
 * An answer to name (dotted) type with rcode and ancount answers (their
 * records are left out: RRL reads only the header and the question), and
 * an OPT record's 11 octets after the question, into buf of 512
 * octets. Its length.
 */
static size_t
answer(uint8_t *buf, const char *name, uint16_t type, int rcode,
    int ancount)
{
	size_t		 n = 12;

	memset(buf, 0, 12);
	buf[0] = 0x12;
	buf[1] = 0x34;
	buf[2] = 0x81;				/* QR, RD */
	buf[3] = 0x80 | (uint8_t)rcode;		/* RA */
	buf[5] = 1;
	buf[7] = (uint8_t)ancount;
	buf[11] = 1;				/* the OPT record */
	n += tname(name, buf + n, 512 - 12 - 4 - 11);
	buf[n++] = type >> 8;
	buf[n++] = type & 0xff;
	buf[n++] = 0;
	buf[n++] = 1;
	memset(buf + n, 0, 11);
	buf[n + 2] = 41;
	buf[n + 3] = 0x04;
	buf[n + 4] = 0xd0;
	return (n + 11);
}

static const struct sockaddr *
addr(struct sockaddr_storage *ss, const char *text)
{
	struct sockaddr_in	*sin = (struct sockaddr_in *)ss;
	struct sockaddr_in6	*sin6 = (struct sockaddr_in6 *)ss;

	memset(ss, 0, sizeof *ss);
	if (inet_pton(AF_INET, text, &sin->sin_addr) == 1)
		sin->sin_family = AF_INET;
	else {
		assert_int_equal(inet_pton(AF_INET6, text, &sin6->sin6_addr),
		    1);
		sin6->sin6_family = AF_INET6;
	}
	return ((const struct sockaddr *)ss);
}

/* Every class at rate, slip as given, /24 and /56. */
static struct rrl_params
params(unsigned rate, unsigned slip)
{
	struct rrl_params	p;
	size_t			i;

	memset(&p, 0, sizeof p);
	for (i = 0; i < RRL_NCLASSES; i++)
		p.rates[i] = rate;
	p.slip = slip;
	p.prefix4 = 24;
	p.prefix6 = 56;
	return (p);
}

/* How n answers msg to client at now fare: PASS, DROP, SLIP counts. */
static void
send_n(struct rrl *r, const struct rrl_params *p, const char *client,
    const uint8_t *msg, size_t len, uint64_t now, unsigned n,
    unsigned out[3])
{
	struct sockaddr_storage	ss;
	unsigned		i;

	out[0] = out[1] = out[2] = 0;
	for (i = 0; i < n; i++)
		out[rrl_check(r, p, addr(&ss, client), msg, len, now)]++;
}

static void
test_classify(void **state)
{
	uint8_t	buf[512];
	size_t	len;

	(void)state;
	len = answer(buf, "www.example.nl", 1, NOERROR, 2);
	assert_int_equal(rrl_classify(buf, len), RRL_RESPONSE);
	len = answer(buf, "www.example.nl", 1, NOERROR, 0);
	assert_int_equal(rrl_classify(buf, len), RRL_NODATA);
	len = answer(buf, "www.example.nl", 1, NXDOMAIN, 0);
	assert_int_equal(rrl_classify(buf, len), RRL_NXDOMAIN);
	len = answer(buf, "www.example.nl", 1, REFUSED, 0);
	assert_int_equal(rrl_classify(buf, len), RRL_ERROR);
	len = answer(buf, "www.example.nl", 1, SERVFAIL, 0);
	assert_int_equal(rrl_classify(buf, len), RRL_ERROR);
	assert_int_equal(rrl_classify(buf, 5), RRL_ERROR);
}

/*
 * A bucket of one second's worth: rate answers pass at once, then one of
 * every slip goes out truncated and the rest are dropped; time refills
 * it, never above the burst.
 */
static void
test_bucket(void **state)
{
	struct rrl		*r;
	struct rrl_params	 p = params(10, 3);
	uint8_t			 buf[512];
	size_t			 len;
	unsigned		 got[3];

	(void)state;
	assert_non_null(r = rrl_new(4096));
	len = answer(buf, "www.example.nl", 1, NOERROR, 1);
	send_n(r, &p, "192.0.2.1", buf, len, 1000, 10, got);
	assert_int_equal(got[RRL_PASS], 10);
	send_n(r, &p, "192.0.2.1", buf, len, 1000, 9, got);
	assert_int_equal(got[RRL_PASS], 0);
	assert_int_equal(got[RRL_SLIP], 3);
	assert_int_equal(got[RRL_DROP], 6);
	/* 250 ms: two and a half answers' worth. */
	send_n(r, &p, "192.0.2.1", buf, len, 1250, 5, got);
	assert_int_equal(got[RRL_PASS], 2);
	/* A long pause fills the bucket, no more. */
	send_n(r, &p, "192.0.2.1", buf, len, 100000, 20, got);
	assert_int_equal(got[RRL_PASS], 10);
	/* A clock that does not move refills nothing. */
	send_n(r, &p, "192.0.2.1", buf, len, 100000, 3, got);
	assert_int_equal(got[RRL_PASS], 0);
	assert_int_equal(rrl_used(r), 1);
	rrl_free(r);
	rrl_free(NULL);
}

/* slip 0: every answer over the rate dropped; slip 1: every one cut. */
static void
test_slip_setting(void **state)
{
	struct rrl		*r;
	struct rrl_params	 p;
	uint8_t			 buf[512];
	size_t			 len;
	unsigned		 got[3];

	(void)state;
	assert_non_null(r = rrl_new(4096));
	len = answer(buf, "www.example.nl", 1, NOERROR, 1);
	p = params(2, 0);
	send_n(r, &p, "192.0.2.1", buf, len, 1000, 12, got);
	assert_int_equal(got[RRL_PASS], 2);
	assert_int_equal(got[RRL_DROP], 10);
	p = params(2, 1);
	send_n(r, &p, "192.0.2.2", buf, len, 1000, 12, got);
	assert_int_equal(got[RRL_PASS], 0);
	assert_int_equal(got[RRL_SLIP], 12);
	rrl_free(r);
}

/*
 * One bucket per network (/24, /56; IPv4-mapped as IPv4), per class, and
 * for answers with data per name (in any case) and type; negative answers
 * share their domain's, errors their network's whatever the name.
 */
static void
test_keys(void **state)
{
	struct rrl		*r;
	struct rrl_params	 p = params(1, 0);
	uint8_t			 a[512], b[512];
	size_t			 la, lb;
	unsigned		 got[3];

	(void)state;
	assert_non_null(r = rrl_new(4096));
	la = answer(a, "www.example.nl", 1, NOERROR, 1);
	send_n(r, &p, "192.0.2.1", a, la, 1000, 1, got);
	assert_int_equal(got[RRL_PASS], 1);
	/* Same /24, mapped form: the same bucket, empty. */
	send_n(r, &p, "192.0.2.254", a, la, 1000, 1, got);
	assert_int_equal(got[RRL_PASS], 0);
	send_n(r, &p, "::ffff:192.0.2.7", a, la, 1000, 1, got);
	assert_int_equal(got[RRL_PASS], 0);
	send_n(r, &p, "192.0.3.1", a, la, 1000, 1, got);
	assert_int_equal(got[RRL_PASS], 1);
	/* IPv6 by /56. */
	send_n(r, &p, "2001:db8:0:1::1", a, la, 1000, 1, got);
	assert_int_equal(got[RRL_PASS], 1);
	send_n(r, &p, "2001:db8:0:ff::2", a, la, 1000, 1, got);
	assert_int_equal(got[RRL_PASS], 0);
	send_n(r, &p, "2001:db8:0:100::1", a, la, 1000, 1, got);
	assert_int_equal(got[RRL_PASS], 1);

	/* Another type, another name: buckets of their own; case is not. */
	lb = answer(b, "www.example.nl", 28, NOERROR, 1);
	send_n(r, &p, "192.0.2.1", b, lb, 1000, 1, got);
	assert_int_equal(got[RRL_PASS], 1);
	lb = answer(b, "mail.example.nl", 1, NOERROR, 1);
	send_n(r, &p, "192.0.2.1", b, lb, 1000, 1, got);
	assert_int_equal(got[RRL_PASS], 1);
	lb = answer(b, "WwW.ExAmPlE.nL", 1, NOERROR, 1);
	send_n(r, &p, "192.0.2.1", b, lb, 1000, 1, got);
	assert_int_equal(got[RRL_PASS], 0);

	/* NXDOMAIN by domain: random names under one domain share. */
	la = answer(a, "x1.blackhole.example", 1, NXDOMAIN, 0);
	lb = answer(b, "y2.z3.blackhole.example", 28, NXDOMAIN, 0);
	send_n(r, &p, "192.0.2.1", a, la, 1000, 1, got);
	assert_int_equal(got[RRL_PASS], 1);
	send_n(r, &p, "192.0.2.1", b, lb, 1000, 1, got);
	assert_int_equal(got[RRL_PASS], 0);
	lb = answer(b, "x1.elsewhere.example", 1, NXDOMAIN, 0);
	send_n(r, &p, "192.0.2.1", b, lb, 1000, 1, got);
	assert_int_equal(got[RRL_PASS], 1);
	/* NODATA is a class of its own, same domain. */
	lb = answer(b, "x1.blackhole.example", 1, NOERROR, 0);
	send_n(r, &p, "192.0.2.1", b, lb, 1000, 1, got);
	assert_int_equal(got[RRL_PASS], 1);
	/* A one-label name and the root are domains too. */
	la = answer(a, "nl", 1, NXDOMAIN, 0);
	send_n(r, &p, "192.0.2.1", a, la, 1000, 2, got);
	assert_int_equal(got[RRL_PASS], 1);
	la = answer(a, "", 1, NXDOMAIN, 0);
	send_n(r, &p, "192.0.2.1", a, la, 1000, 2, got);
	assert_int_equal(got[RRL_PASS], 1);

	/* Errors: one bucket per network, whatever the name or rcode. */
	la = answer(a, "a.example", 1, REFUSED, 0);
	lb = answer(b, "b.other", 16, SERVFAIL, 0);
	send_n(r, &p, "198.51.100.1", a, la, 1000, 1, got);
	assert_int_equal(got[RRL_PASS], 1);
	send_n(r, &p, "198.51.100.2", b, lb, 1000, 1, got);
	assert_int_equal(got[RRL_PASS], 0);
	rrl_free(r);
}

/* A class without a rate is not counted; nor is what has no header. */
static void
test_off(void **state)
{
	struct rrl		*r;
	struct rrl_params	 p = params(0, 2);
	struct sockaddr_storage	 ss;
	uint8_t			 buf[512];
	size_t			 len;
	unsigned		 got[3];

	(void)state;
	assert_false(rrl_enabled(&p));
	p.rates[RRL_ERROR] = 1;
	assert_true(rrl_enabled(&p));
	assert_non_null(r = rrl_new(1024));
	len = answer(buf, "www.example.nl", 1, NOERROR, 1);
	send_n(r, &p, "192.0.2.1", buf, len, 1000, 100, got);
	assert_int_equal(got[RRL_PASS], 100);
	assert_int_equal(rrl_used(r), 0);
	send_n(r, &p, "192.0.2.1", buf, 11, 1000, 100, got);
	assert_int_equal(got[RRL_PASS], 100);
	/* An address family we cannot cut: passes. */
	len = answer(buf, "www.example.nl", 1, REFUSED, 0);
	memset(&ss, 0, sizeof ss);
	ss.ss_family = AF_UNIX;
	assert_int_equal(rrl_check(r, &p, (struct sockaddr *)&ss, buf, len,
	    1000), RRL_PASS);
	assert_int_equal(rrl_used(r), 0);
	rrl_free(r);
}

/* A slipped answer: the header (TC=1, no records) and the question. */
static void
test_slip_answer(void **state)
{
	uint8_t	buf[512];
	size_t	len, qlen;

	(void)state;
	len = answer(buf, "www.Example.nl", 28, REFUSED, 3);
	qlen = 12 + 16 + 4;
	assert_int_equal(rrl_slip(buf, len), qlen);
	assert_int_equal(buf[0], 0x12);
	assert_int_equal(buf[2], 0x83);			/* QR, TC, RD */
	assert_int_equal(buf[3] & 0x0f, REFUSED);
	assert_int_equal(buf[5], 1);
	assert_int_equal(buf[6] | buf[7] | buf[8] | buf[9] | buf[10] | buf[11],
	    0);
	assert_memory_equal(buf + 13, "www", 3);
	assert_int_equal(buf[qlen - 3], 28);

	/* No question (a FORMERR), or one cut short: the header alone. */
	len = answer(buf, "www.example.nl", 1, 1, 0);
	buf[5] = 0;
	assert_int_equal(rrl_slip(buf, len), 12);
	len = answer(buf, "www.example.nl", 1, 1, 0);
	assert_int_equal(rrl_slip(buf, 20), 12);
	assert_int_equal(buf[5], 0);
	assert_int_equal(rrl_slip(buf, 7), 7);
}

/*
 * The table holds no more than its size, however many networks come; a
 * victim's counter, used all along, survives a flood of other networks
 * and stays limited.
 */
static void
test_bound(void **state)
{
	struct rrl		*r;
	struct rrl_params	 p = params(5, 0);
	struct sockaddr_storage	 ss;
	struct sockaddr_in	*sin = (struct sockaddr_in *)&ss;
	uint8_t			 buf[512];
	size_t			 len;
	unsigned		 got[3], i, passed = 0;
	uint64_t		 now = 5000;

	(void)state;
	assert_non_null(r = rrl_new(1024));
	len = answer(buf, "victim.example", 1, REFUSED, 0);
	send_n(r, &p, "203.0.113.9", buf, len, now, 5, got);
	assert_int_equal(got[RRL_PASS], 5);
	memset(&ss, 0, sizeof ss);
	sin->sin_family = AF_INET;
	for (i = 0; i < 200000; i++) {
		/* A thousand networks a millisecond, then the victim again. */
		if (i % 1000 == 0) {
			now++;
			send_n(r, &p, "203.0.113.9", buf, len, now, 1, got);
			passed += got[RRL_PASS];
		}
		sin->sin_addr.s_addr = htonl(0x0a000000 + (i << 8));
		rrl_check(r, &p, (struct sockaddr *)&ss, buf, len, now);
	}
	/* 200 ms at 5 a second: one answer. */
	assert_true(passed <= 1);
	assert_true(rrl_used(r) <= 1024);
	assert_true(rrl_used(r) >= 1000);
	rrl_free(r);
}

#define THREADS		4
#define PER_THREAD	20000

struct worker_arg {
	struct rrl		*r;
	const struct rrl_params	*p;
	unsigned		 passed;
};

static void *
worker(void *arg)
{
	struct worker_arg	*w = arg;
	struct sockaddr_storage	 ss;
	uint8_t			 buf[512];
	size_t			 len;
	unsigned		 i;

	len = answer(buf, "shared.example", 1, NOERROR, 1);
	addr(&ss, "192.0.2.33");
	for (i = 0; i < PER_THREAD; i++) {
		/* Every thread at the same 10 ms: 1 s in all. */
		if (rrl_check(w->r, w->p, (struct sockaddr *)&ss, buf, len,
		    1000 + i / 200) == RRL_PASS)
			w->passed++;
	}
	return (NULL);
}

/*
 * Threads answering the same client at once share one bucket: no more
 * passes than the burst and what 100 ms of time refill.
 */
static void
test_threads(void **state)
{
	struct rrl		*r;
	struct rrl_params	 p = params(100, 2);
	struct worker_arg	 w[THREADS];
	pthread_t		 t[THREADS];
	unsigned		 i, passed = 0;

	(void)state;
	assert_non_null(r = rrl_new(4096));
	for (i = 0; i < THREADS; i++) {
		w[i].r = r;
		w[i].p = &p;
		w[i].passed = 0;
		assert_int_equal(pthread_create(&t[i], NULL, worker, &w[i]),
		    0);
	}
	for (i = 0; i < THREADS; i++) {
		assert_int_equal(pthread_join(t[i], NULL), 0);
		passed += w[i].passed;
	}
	/* Burst 100, plus 100 ms (the clocks reach 1099) at 100/s. */
	assert_true(passed >= 100);
	assert_true(passed <= 100 + 10);
	rrl_free(r);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_classify),
		cmocka_unit_test(test_bucket),
		cmocka_unit_test(test_slip_setting),
		cmocka_unit_test(test_keys),
		cmocka_unit_test(test_off),
		cmocka_unit_test(test_slip_answer),
		cmocka_unit_test(test_bound),
		cmocka_unit_test(test_threads),
	};

	return (cmocka_run_group_tests(tests, NULL, NULL));
}
