/*
 * huge.h: large zeroed tables on transparent huge pages (2 MiB).
 *
 * A table of megabytes that is read or written at random places (a
 * statistics set's board records and clients, the boards' sketches, the
 * lists' slots) costs a TLB miss, a walk of the page tables, for most
 * lines it touches when it lies on 4 KiB pages: the second-level TLB of
 * the development machine's EPYC covers 8 MiB of them, less than such a
 * table and the kernel's own work between two batches. On 2 MiB pages one
 * entry covers 512 of those pages. The kernel gives them only on request
 * where transparent_hugepage is "madvise" (Debian's default); where it
 * is "never", or the request fails, the tables are on 4 KiB pages as
 * before: nothing depends on it but speed.
 *
 * Ownership: a block of huge_alloc() is the caller's, freed with
 * huge_free() and the same length.
 */
#ifndef VEILIG_HUGE_H
#define VEILIG_HUGE_H

#include <stddef.h>

#define HUGE_PAGE	((size_t)2 << 20)	/* a huge page */

/* Ask for huge pages for the whole huge pages inside the len octets at p,
   not yet touched (a block of another allocator). */
void	 huge_advise(void *p, size_t len);

/* Ask for the 2 MiB at p (aligned to a huge page, of a mapping of the
   caller's, partly touched) to be put on a huge page, its contents kept:
   khugepaged does it in its own time (MADV_HUGEPAGE), some 16 MiB every
   10 s with Debian's settings, and new faults there take one at once. */
void	 huge_later(void *p);

/* len zeroed octets, on huge pages when len is one or more (aligned to
   one, the last one whole); below that from malloc, aligned to a cache
   line. NULL: no memory. */
void	*huge_alloc(size_t len);

/* Free p (NULL: nothing) of huge_alloc(len). */
void	 huge_free(void *p, size_t len);

#endif /* VEILIG_HUGE_H */
