/*
 * kanon.c: blocked sites with a k-anonymity threshold.
 *
 * An open-addressed table (linear probing, at most half full) keyed by
 * SipHash of (site, category) under a random key per table: the sites
 * come from query names a client chose, so an unkeyed hash would let one
 * pile them into a single run. Each entry is one cache line of its own
 * in the table's array: the hash, the count, the site itself when it is
 * short (most registrable domains are: "doubleclick.net") and, until it
 * reaches k, the distinct clients seen, so that adding a blocked name
 * reads the table's head and one line. The chained table before took a
 * bucket, an entry and its client array, three lines apart and two
 * allocations an add for a new site, and with 10,000 boards (a table
 * each) each of them was a cache miss of main's fold.
 *
 * The clients are kept as 32 bits of their (interval-keyed) hash, up to
 * KANON_NEAR of them in the entry (k = 5, the default, needs 4), more in
 * an array of their own for a larger k. Two distinct clients whose 32
 * bits agree count as one: that can keep a site from being named, never
 * name one with fewer than k clients, so the threshold holds exactly
 * (see kanon.h) at a tenth of the memory of the full hashes.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "kanon.h"
#include "siphash.h"

#define KANON_CAP_MIN	4	/* slots of a new table, a power of 2: a
				   board has few blocked sites in most
				   intervals, and 10,000 boards a table
				   each */
#define KANON_NEAR	4	/* clients kept in the entry itself */
#define KANON_SITE	26	/* octets of a site kept in the entry,
				   its NUL included */

/* Flags of an entry. */
#define KANON_USED	0x01	/* the slot holds an entry */
#define KANON_NAMED	0x02	/* reached k */
#define KANON_STUCK	0x04	/* no room for its clients: never named */
#define KANON_LONG	0x08	/* site is a pointer in site[] */
#define KANON_FAR	0x10	/* clients are a pointer in near[] */

/* One site and category: a cache line. */
struct kanon_entry {
	uint64_t	hash;
	uint64_t	count;
	union {
		uint32_t	 near[KANON_NEAR];
		uint32_t	*far;		/* k - 1 of them */
	}		clients;		/* distinct, until named */
	char		site[KANON_SITE];	/* or a char * (LONG) */
	uint16_t	cat;
	uint16_t	nclients;
	uint8_t		flags;
	uint8_t		spare;
} __attribute__((aligned(64)));
_Static_assert(sizeof(struct kanon_entry) == 64,
    "kanon_entry: one cache line");

/*
 * An add reads the first line; the second only when it runs out of room.
 * The first slots follow the head in its allocation: a new table is one
 * malloc(), and with 10,000 boards most tables are new.
 */
struct kanon {
	struct siphash_key	 key;
	struct kanon_entry	*slots;
	size_t			 cap;		/* a power of two */
	unsigned		 k;
	size_t			 nentries;
	size_t			 max_entries;
	struct kanon_budget	*budget;
	size_t			 charged;	/* taken from the budget */
	uint64_t		 lost;		/* answers with no entry */
	void			*mem;		/* the head's allocation */
	void			*slots_mem;	/* the slots' own, once grown
						   (NULL: they follow the head) */
} __attribute__((aligned(64)));

/* Take n bytes from the budget; 0, or -1 when there is not that much. */
static int
kanon_charge(struct kanon *t, size_t n)
{
	if (t->budget->left < n)
		return (-1);
	t->budget->left -= n;
	t->charged += n;
	return (0);
}

/* Give n bytes back to the budget. */
static void
kanon_uncharge(struct kanon *t, size_t n)
{
	t->budget->left += n;
	t->charged -= n;
}

/*
 * n zeroed lines of 64 octets, from a malloc() into *mem that they align
 * themselves in; NULL if out of memory. Not aligned_alloc(): glibc's
 * splits off the chunk's head and frees it, and that and the free()s it
 * makes dearer were half the instructions of a new entry with 10,000
 * boards (callgrind).
 */
static void *
kanon_lines(size_t n, void **mem)
{
	uintptr_t	p;

	if ((*mem = malloc(n * 64 + 64 - _Alignof(max_align_t))) == NULL)
		return (NULL);
	p = ((uintptr_t)*mem + 63) & ~(uintptr_t)63;
	memset((void *)p, 0, n * 64);
	return ((void *)p);
}

struct kanon *
kanon_new(unsigned k, size_t max_entries, struct kanon_budget *budget,
    size_t expect)
{
	struct kanon	*t;
	size_t		 cap = KANON_CAP_MIN;
	void		*mem;

	/*
	 * Room for what it expects without growing (at most half full, as
	 * kanon_add_hash() keeps it), but never more than its limit needs.
	 */
	if (expect > max_entries)
		expect = max_entries;
	while (cap < 2 * expect)
		cap *= 2;
	/* An entry counts its clients in 16 bits. */
	if (k > UINT16_MAX || (t = kanon_lines(sizeof *t / 64 + cap,
	    &mem)) == NULL)
		return (NULL);
	t->mem = mem;
	t->k = k;
	t->max_entries = max_entries;
	t->budget = budget;
	t->cap = cap;
	t->slots = (struct kanon_entry *)(void *)(t + 1);
	randbuf_take(&budget->random, t->key.k, sizeof t->key.k);
	return (t);
}

/* The site of e, NUL-terminated. */
static const char *
kanon_site(const struct kanon_entry *e)
{
	const char	*s;

	if ((e->flags & KANON_LONG) == 0)
		return (e->site);
	memcpy(&s, e->site, sizeof s);
	return (s);
}

/* Forget e's clients: their hashes mean nothing, but need not linger. */
static void
kanon_forget(struct kanon *t, struct kanon_entry *e)
{
	if (e->flags & KANON_FAR) {
		explicit_bzero(e->clients.far, (t->k - 1) *
		    sizeof *e->clients.far);
		free(e->clients.far);
		kanon_uncharge(t, (t->k - 1) * sizeof *e->clients.far);
		e->flags &= ~KANON_FAR;
	}
	explicit_bzero(&e->clients, sizeof e->clients);
	e->nclients = 0;
}

void
kanon_free(struct kanon *t)
{
	struct kanon_entry	*e;
	char			*s;
	size_t			 i;

	if (t == NULL)
		return;
	for (i = 0; i < t->cap; i++) {
		e = &t->slots[i];
		if ((e->flags & KANON_USED) == 0)
			continue;
		kanon_forget(t, e);
		if (e->flags & KANON_LONG) {
			memcpy(&s, e->site, sizeof s);
			free(s);
		}
	}
	free(t->slots_mem);
	t->budget->left += t->charged;
	siphash_key_clear(&t->key);
	free(t->mem);
}

uint64_t
kanon_hash(const struct kanon *t, const char *site, uint16_t cat)
{
	char	buf[300];
	size_t	len = strlen(site);

	/* Sites are names (at most 4 * 255 escaped); longer ones share. */
	if (len > sizeof buf - 2)
		len = sizeof buf - 2;
	memcpy(buf, site, len);
	buf[len] = (char)(cat >> 8);
	buf[len + 1] = (char)cat;
	return (siphash_13(&t->key, buf, len + 2));
}

/* Double the slots when half are used; on failure stay (fuller). */
static void
kanon_grow(struct kanon *t)
{
	struct kanon_entry	*ns, *e;
	size_t			 i, j, n = t->cap * 2;
	void			*mem;

	_Static_assert(sizeof *ns == 64, "kanon_lines() of entries");
	if ((ns = kanon_lines(n, &mem)) == NULL)
		return;
	for (i = 0; i < t->cap; i++) {
		e = &t->slots[i];
		if ((e->flags & KANON_USED) == 0)
			continue;
		for (j = e->hash & (n - 1); ns[j].flags & KANON_USED;
		    j = (j + 1) & (n - 1))
			;
		ns[j] = *e;
	}
	/* The old array held client hashes too. */
	explicit_bzero(t->slots, t->cap * sizeof *t->slots);
	free(t->slots_mem);
	t->slots_mem = mem;
	t->slots = ns;
	t->cap = n;
}

/* Remember client for e; e is named when it has k of them. */
static void
kanon_client(struct kanon *t, struct kanon_entry *e, uint64_t client)
{
	uint32_t	*c, h = (uint32_t)client;
	unsigned	 i;

	if (e->flags & (KANON_NAMED | KANON_STUCK))
		return;
	c = e->flags & KANON_FAR ? e->clients.far : e->clients.near;
	for (i = 0; i < e->nclients; i++)
		if (c[i] == h)
			return;
	if (e->nclients + 1U >= t->k) {
		/* The k-th distinct client: named from now on. */
		e->flags |= KANON_NAMED;
		kanon_forget(t, e);
		return;
	}
	if (e->nclients == KANON_NEAR) {
		/* More than the entry holds (k > KANON_NEAR + 1): move. */
		if (kanon_charge(t, (t->k - 1) * sizeof *c) == -1) {
			/* Cannot count its clients: it must stay unnamed. */
			e->flags |= KANON_STUCK;
			return;
		}
		if ((c = calloc(t->k - 1, sizeof *c)) == NULL) {
			kanon_uncharge(t, (t->k - 1) * sizeof *c);
			e->flags |= KANON_STUCK;
			return;
		}
		memcpy(c, e->clients.near, sizeof e->clients.near);
		explicit_bzero(e->clients.near, sizeof e->clients.near);
		e->clients.far = c;
		e->flags |= KANON_FAR;
	}
	c[e->nclients++] = h;
}

/*
 * The entry of (site, cat) with hash h: found, or else the free slot where
 * it would go (flags without KANON_USED). There is always a free slot.
 */
static struct kanon_entry *
kanon_find(struct kanon *t, const char *site, uint16_t cat, uint64_t h)
{
	struct kanon_entry	*e;
	size_t			 i;

	for (i = h & (t->cap - 1);; i = (i + 1) & (t->cap - 1)) {
		e = &t->slots[i];
		if ((e->flags & KANON_USED) == 0 || (e->hash == h &&
		    e->cat == cat && strcmp(kanon_site(e), site) == 0))
			return (e);
	}
}

void
kanon_prefetch(const struct kanon *t, uint64_t h)
{
	/* Where kanon_find() starts (a table that grows first: wasted). */
	__builtin_prefetch(&t->slots[h & (t->cap - 1)], 1);
}

int
kanon_add(struct kanon *t, const char *site, uint16_t cat, uint64_t client,
    uint64_t n)
{
	return (kanon_add_hash(t, site, cat, kanon_hash(t, site, cat), client,
	    n));
}

int
kanon_add_hash(struct kanon *t, const char *site, uint16_t cat, uint64_t h,
    uint64_t client, uint64_t n)
{
	struct kanon_entry	*e;
	size_t			 len = strlen(site), cost;
	char			*s = NULL;

	e = kanon_find(t, site, cat, h);
	if ((e->flags & KANON_USED) == 0) {
		/*
		 * A new site: its line and, the table being at most half
		 * full, a free one beside it (after it grows, a quarter
		 * full: the memory is at most twice what is charged); a
		 * long site's own copy.
		 */
		cost = 2 * sizeof *e + (len >= KANON_SITE ? len + 1 : 0);
		if (t->nentries >= t->max_entries ||
		    kanon_charge(t, cost) == -1) {
			t->lost += n;
			return (-1);
		}
		if (len >= KANON_SITE && (s = strdup(site)) == NULL) {
			kanon_uncharge(t, cost);
			t->lost += n;
			return (-1);
		}
		if (2 * (t->nentries + 1) > t->cap) {
			kanon_grow(t);
			e = kanon_find(t, site, cat, h);
		}
		if (t->nentries + 1 >= t->cap) {
			/* Could not grow and no room left to probe. */
			free(s);
			kanon_uncharge(t, cost);
			t->lost += n;
			return (-1);
		}
		e->hash = h;
		e->cat = cat;
		if (s != NULL) {
			memcpy(e->site, &s, sizeof s);
			e->flags = KANON_USED | KANON_LONG;
		} else {
			memcpy(e->site, site, len + 1);
			e->flags = KANON_USED;
		}
		if (t->k == 0)
			e->flags |= KANON_NAMED;
		t->nentries++;
	}
	e->count += n;
	kanon_client(t, e, client);
	return (0);
}

void
kanon_lost(struct kanon *t, uint64_t n)
{
	t->lost += n;
}

/* Most blocked first; ties by site, then category, so output is stable. */
static int
kanon_cmp(const void *a, const void *b)
{
	const struct kanon_site	*x = a, *y = b;
	int			 c;

	if (x->count != y->count)
		return (x->count > y->count ? -1 : 1);
	if ((c = strcmp(x->site, y->site)) != 0)
		return (c);
	return (x->cat < y->cat ? -1 : x->cat > y->cat);
}

int
kanon_top(struct kanon *t, size_t top, struct kanon_site **out,
    uint64_t *hidden_sites, uint64_t *hidden_count)
{
	struct kanon_site	*v;
	struct kanon_entry	*e;
	char			*p;
	size_t			 i, n = 0, bytes = 0, len;
	uint64_t		 hs = 0, hc = t->lost;

	*out = NULL;
	/*
	 * The sites' copies follow the array in the same allocation: the
	 * entries move when the table grows, the copies stay until freed.
	 */
	for (i = 0; i < t->cap; i++) {
		e = &t->slots[i];
		if ((e->flags & (KANON_USED | KANON_NAMED)) ==
		    (KANON_USED | KANON_NAMED)) {
			n++;
			bytes += strlen(kanon_site(e)) + 1;
		}
	}
	if ((v = malloc((n + 1) * sizeof *v + bytes)) == NULL)
		return (-1);
	p = (char *)(v + n + 1);
	n = 0;
	for (i = 0; i < t->cap; i++) {
		e = &t->slots[i];
		if ((e->flags & KANON_USED) == 0)
			continue;
		if ((e->flags & KANON_NAMED) == 0) {
			hs++;
			hc += e->count;
			continue;
		}
		len = strlen(kanon_site(e)) + 1;
		memcpy(p, kanon_site(e), len);
		v[n].site = p;
		v[n].cat = e->cat;
		v[n].count = e->count;
		p += len;
		n++;
	}
	qsort(v, n, sizeof *v, kanon_cmp);
	/* Named, but beyond top: hidden all the same. */
	for (i = top; i < n; i++) {
		hs++;
		hc += v[i].count;
	}
	*hidden_sites = hs;
	*hidden_count = hc;
	*out = v;
	return ((int)(n < top ? n : top));
}

size_t
kanon_size(const struct kanon *t)
{
	return (t->nentries);
}
