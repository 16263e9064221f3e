/*
 * huge.c: large zeroed tables on transparent huge pages.
 *
 * A block of a huge page or more is its own mapping, aligned to a huge
 * page and a whole number of them long, so that all of it can be on huge
 * pages (a block from malloc is on them only for the huge pages it covers
 * whole: none for a table of 3 MiB that starts anywhere). What is mapped
 * beyond len is never touched by the caller, but the kernel backs the
 * last huge page whole once any of it is: at most 2 MiB a table more,
 * for tables of megabytes.
 */
#include <sys/mman.h>

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "huge.h"

/* len rounded up to whole huge pages. */
static size_t
huge_round(size_t len)
{
	return ((len + HUGE_PAGE - 1) & ~(HUGE_PAGE - 1));
}

void
huge_advise(void *p, size_t len)
{
	uintptr_t	a = (uintptr_t)p, start, end;

	if (len < 2 * HUGE_PAGE)
		return;
	start = (a + HUGE_PAGE - 1) & ~(uintptr_t)(HUGE_PAGE - 1);
	end = (a + len) & ~(uintptr_t)(HUGE_PAGE - 1);
	if (end > start)
		(void)madvise((void *)start, end - start, MADV_HUGEPAGE);
}

void
huge_later(void *p)
{
	/*
	 * Not MADV_COLLAPSE, which does it at once in the caller's time:
	 * 1 to 10 ms a huge page on the development machine, once 950 ms
	 * (compaction; tests/bench/README.md). Speed only: where the
	 * kernel refuses, the pages stay 4 KiB ones.
	 */
	(void)madvise(p, HUGE_PAGE, MADV_HUGEPAGE);
}

void *
huge_alloc(size_t len)
{
	uintptr_t	 a, start;
	size_t		 full;
	void		*map;

	if (len < HUGE_PAGE) {
		/* Lines of its own, as a mapping's would be. */
		if ((map = aligned_alloc(64, (len + 63) & ~(size_t)63)) != NULL)
			memset(map, 0, len);
		return (map);
	}
	if ((full = huge_round(len)) < len || full + HUGE_PAGE < full)
		return (NULL);
	/* A huge page more than needed, to cut an aligned block out of. */
	map = mmap(NULL, full + HUGE_PAGE, PROT_READ | PROT_WRITE,
	    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (map == MAP_FAILED)
		return (NULL);
	a = (uintptr_t)map;
	start = (a + HUGE_PAGE - 1) & ~(uintptr_t)(HUGE_PAGE - 1);
	if (start > a)
		(void)munmap(map, start - a);
	if (a + HUGE_PAGE > start)
		(void)munmap((void *)(start + full), a + HUGE_PAGE - start);
	/* Speed only: where the kernel refuses, 4 KiB pages. */
	(void)madvise((void *)start, full, MADV_HUGEPAGE);
	return ((void *)start);
}

void
huge_free(void *p, size_t len)
{
	if (p == NULL)
		return;
	if (len < HUGE_PAGE)
		free(p);
	else
		(void)munmap(p, huge_round(len));
}
