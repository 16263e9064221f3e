/*
 * report_map.c: a string-keyed tally (see report_map.h).
 */
#include <stdlib.h>
#include <string.h>

#include "report_map.h"

/*
 * FNV-1a with murmur3's finaliser: keys are short and alike ("b0001",
 * "b0002", ...), and FNV's low bits alone cluster them in a table that
 * probes linearly. Not keyed: the keys come from our own files.
 */
static uint32_t
report_map_hash(const char *s, size_t len)
{
	uint32_t	h = 2166136261u;
	size_t		i;

	for (i = 0; i < len; i++) {
		h ^= (unsigned char)s[i];
		h *= 16777619u;
	}
	h ^= h >> 16;
	h *= 0x85ebca6bu;
	h ^= h >> 13;
	h *= 0xc2b2ae35u;
	h ^= h >> 16;
	return (h);
}

void
report_map_init(struct report_map *m)
{
	memset(m, 0, sizeof *m);
}

void
report_map_clear(struct report_map *m)
{
	free(m->e);
	memset(m, 0, sizeof *m);
}

/* Double the table (or make the first one). */
static void
report_map_grow(struct report_map *m)
{
	struct report_map_ent	*old = m->e;
	uint32_t		 oldcap = m->cap, i, j;

	m->cap = oldcap == 0 ? 8 : oldcap * 2;
	m->e = report_mem_calloc(m->cap, sizeof *m->e);
	for (i = 0; i < oldcap; i++) {
		if (old[i].key == NULL)
			continue;
		for (j = old[i].hash & (m->cap - 1); m->e[j].key != NULL;
		    j = (j + 1) & (m->cap - 1))
			;
		m->e[j] = old[i];
	}
	free(old);
}

struct report_map_ent *
report_map_find(const struct report_map *m, const char *key, size_t len)
{
	uint32_t	h, j;

	if (m->cap == 0)
		return (NULL);
	h = report_map_hash(key, len);
	for (j = h & (m->cap - 1); m->e[j].key != NULL;
	    j = (j + 1) & (m->cap - 1)) {
		if (m->e[j].hash == h && memcmp(m->e[j].key, key, len) == 0 &&
		    m->e[j].key[len] == '\0')
			return (&m->e[j]);
	}
	return (NULL);
}

struct report_map_ent *
report_map_get(struct report_map *m, struct report_mem_arena *a,
    const char *key, size_t len)
{
	struct report_map_ent	*e;
	uint32_t		 h, j;

	if ((e = report_map_find(m, key, len)) != NULL)
		return (e);
	/* Keep the load at most 3/4. */
	if ((m->len + 1) * 4 > m->cap * 3)
		report_map_grow(m);
	h = report_map_hash(key, len);
	for (j = h & (m->cap - 1); m->e[j].key != NULL;
	    j = (j + 1) & (m->cap - 1))
		;
	e = &m->e[j];
	e->key = report_mem_strndup(a, key, len);
	e->hash = h;
	e->idx = m->len++;
	return (e);
}

static int
report_map_cmp(const void *a, const void *b)
{
	const struct report_map_ent	*x = *(struct report_map_ent *const *)a;
	const struct report_map_ent	*y = *(struct report_map_ent *const *)b;

	if (x->n != y->n)
		return (x->n > y->n ? -1 : 1);
	return (strcmp(x->key, y->key));
}

struct report_map_ent **
report_map_sorted(const struct report_map *m, size_t *count)
{
	struct report_map_ent	**v;
	uint32_t		  i;
	size_t			  n = 0;

	v = report_mem_calloc(m->len, sizeof *v);
	for (i = 0; i < m->cap; i++)
		if (m->e[i].key != NULL)
			v[n++] = &m->e[i];
	qsort(v, n, sizeof *v, report_map_cmp);
	*count = n;
	return (v);
}
