/*
 * test_randbuf.c: random octets in blocks: takes differ, each octet is
 * wiped from the block as it is handed out, a block is drawn again when
 * it runs short, and randbuf_clear() wipes what is left.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "randbuf.h"

/* 1 if the n octets at p are all zero. */
static int
zero(const uint8_t *p, size_t n)
{
	while (n-- > 0)
		if (*p++ != 0)
			return (0);
	return (1);
}

static void
test_take(void **state)
{
	struct randbuf	rb;
	uint8_t		a[16], b[16];

	(void)state;
	memset(&rb, 0, sizeof rb);
	randbuf_take(&rb, a, sizeof a);
	assert_int_equal(rb.left, RANDBUF_SIZE - sizeof a);
	randbuf_take(&rb, b, sizeof b);
	assert_int_equal(rb.left, RANDBUF_SIZE - 2 * sizeof a);
	/* 2^-128 that two keys agree, or that one is zero. */
	assert_memory_not_equal(a, b, sizeof a);
	assert_false(zero(a, sizeof a));
	/* What was handed out is no longer in the block; the rest is. */
	assert_true(zero(rb.buf, 2 * sizeof a));
	assert_false(zero(rb.buf + 2 * sizeof a, sizeof a));
	randbuf_clear(&rb);
	assert_int_equal(rb.left, 0);
	assert_true(zero(rb.buf, sizeof rb.buf));
}

static void
test_refill(void **state)
{
	struct randbuf	rb;
	uint8_t		a[RANDBUF_SIZE], b[40];
	size_t		i;

	(void)state;
	memset(&rb, 0, sizeof rb);
	for (i = 0; i < RANDBUF_SIZE / 16 - 1; i++)
		randbuf_take(&rb, a, 16);
	assert_int_equal(rb.left, 16);
	/* More than is left: a new block, from its start. */
	randbuf_take(&rb, b, sizeof b);
	assert_int_equal(rb.left, RANDBUF_SIZE - sizeof b);
	assert_false(zero(b, sizeof b));
	assert_true(zero(rb.buf, sizeof b));
	/* A whole block at once. */
	randbuf_take(&rb, a, sizeof a);
	assert_int_equal(rb.left, 0);
	assert_true(zero(rb.buf, sizeof rb.buf));
	randbuf_clear(&rb);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_take),
		cmocka_unit_test(test_refill),
	};

	return (cmocka_run_group_tests(tests, NULL, NULL));
}
