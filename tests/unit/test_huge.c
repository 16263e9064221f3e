/*
 * test_huge.c: blocks of huge_alloc(), small (malloc's, a line aligned)
 * and large (a mapping of whole huge pages, aligned to one): zeroed,
 * writable to their last octet, freed with their length.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "huge.h"

/* A block of len octets: zeroed, aligned as promised, all of it ours. */
static void
check_block(size_t len, size_t align)
{
	unsigned char	*p;
	size_t		 i;

	p = huge_alloc(len);
	assert_non_null(p);
	assert_int_equal((uintptr_t)p % align, 0);
	for (i = 0; i < len; i += 4096)
		assert_int_equal(p[i], 0);
	assert_int_equal(p[len - 1], 0);
	memset(p, 0xa5, len);
	huge_free(p, len);
}

static void
test_small(void **state)
{
	(void)state;
	check_block(1, 64);
	check_block(100, 64);
	check_block(HUGE_PAGE - 1, 64);
}

static void
test_large(void **state)
{
	(void)state;
	check_block(HUGE_PAGE, HUGE_PAGE);
	check_block(HUGE_PAGE + 1, HUGE_PAGE);
	check_block(3 * HUGE_PAGE + 4096, HUGE_PAGE);
}

/* Freeing nothing is nothing; advice on any block is harmless. */
static void
test_free_null_advise(void **state)
{
	char	*p;

	(void)state;
	huge_free(NULL, 0);
	huge_free(NULL, 4 * HUGE_PAGE);
	assert_non_null(p = malloc(3 * HUGE_PAGE));
	huge_advise(p, 3 * HUGE_PAGE);
	huge_advise(p, 100);
	memset(p, 1, 3 * HUGE_PAGE);
	free(p);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_small),
		cmocka_unit_test(test_large),
		cmocka_unit_test(test_free_null_advise),
	};

	return (cmocka_run_group_tests(tests, NULL, NULL));
}
