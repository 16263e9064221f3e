/*
 * report_mem.h: memory for veilig-report.
 *
 * veilig-report is a batch tool: when memory runs out it cannot do its job,
 * so these allocators print "out of memory" and exit 1 rather than make
 * every caller check. Strings that live as long as the report (board ids,
 * site names, categories) are copied into an arena, freed all at once.
 */
#ifndef VEILIG_REPORT_MEM_H
#define VEILIG_REPORT_MEM_H

#include <stddef.h>

/* Say "out of memory" and exit 1. */
__attribute__((noreturn)) void report_mem_fail(void);
/* calloc(n, size), exiting on failure or overflow. */
void	*report_mem_calloc(size_t n, size_t size);
/* realloc to n * size octets, exiting on failure or overflow. */
void	*report_mem_realloc(void *p, size_t n, size_t size);

struct report_mem_arena;

struct report_mem_arena	*report_mem_arena_new(void);
void			 report_mem_arena_free(struct report_mem_arena *);
/* A NUL-terminated copy of s[0..len) that lives as long as the arena. */
char			*report_mem_strndup(struct report_mem_arena *,
			    const char *s, size_t len);
/* Octets the arena holds (for the memory figures of the benchmark). */
size_t			 report_mem_arena_size(const struct report_mem_arena *);

#endif
