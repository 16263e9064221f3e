/*
 * report_mem.c: allocators that exit on failure, and a string arena.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "report_mem.h"

#define REPORT_MEM_CHUNK	(64 * 1024)

struct report_mem_chunk {
	struct report_mem_chunk	*next;
	size_t			 used, size;
	char			 data[];
};

struct report_mem_arena {
	struct report_mem_chunk	*head;
	size_t			 total;
};

void
report_mem_fail(void)
{
	fputs("veilig-report: out of memory\n", stderr);
	exit(1);
}

void *
report_mem_calloc(size_t n, size_t size)
{
	void	*p;

	if ((p = calloc(n == 0 ? 1 : n, size == 0 ? 1 : size)) == NULL)
		report_mem_fail();
	return (p);
}

void *
report_mem_realloc(void *p, size_t n, size_t size)
{
	if (size != 0 && n > SIZE_MAX / size)
		report_mem_fail();
	if ((p = realloc(p, n * size == 0 ? 1 : n * size)) == NULL)
		report_mem_fail();
	return (p);
}

struct report_mem_arena *
report_mem_arena_new(void)
{
	return (report_mem_calloc(1, sizeof (struct report_mem_arena)));
}

void
report_mem_arena_free(struct report_mem_arena *a)
{
	struct report_mem_chunk	*c, *next;

	if (a == NULL)
		return;
	for (c = a->head; c != NULL; c = next) {
		next = c->next;
		free(c);
	}
	free(a);
}

char *
report_mem_strndup(struct report_mem_arena *a, const char *s, size_t len)
{
	struct report_mem_chunk	*c = a->head;
	size_t			 size;
	char			*p;

	if (c == NULL || c->size - c->used < len + 1) {
		/* A string longer than a chunk gets a chunk of its own. */
		size = len + 1 > REPORT_MEM_CHUNK ? len + 1 : REPORT_MEM_CHUNK;
		c = report_mem_calloc(1, sizeof *c + size);
		c->size = size;
		c->next = a->head;
		a->head = c;
		a->total += size;
	}
	p = c->data + c->used;
	memcpy(p, s, len);
	p[len] = '\0';
	c->used += len + 1;
	return (p);
}

size_t
report_mem_arena_size(const struct report_mem_arena *a)
{
	return (a->total);
}
