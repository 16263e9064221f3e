/*
 * kanon.c: blocked sites with a k-anonymity threshold.
 *
 * A chained hash table keyed by SipHash of (site, category) under a
 * random key per table: the sites come from query names a client chose,
 * so an unkeyed hash would let one pile them into a single chain. An
 * entry holds the site, its count and, until it reaches k, an array of
 * the distinct client hashes seen (searched linearly: k is small, 5 by
 * default, and this runs on the main thread once per distinct client,
 * site and second, never per query).
 */
#include <stdlib.h>
#include <string.h>

#include "kanon.h"
#include "siphash.h"

#define KANON_BUCKETS_MIN	64

struct kanon_entry {
	struct kanon_entry	*next;
	uint64_t		 hash;
	uint64_t		 count;
	uint64_t		*clients;	/* distinct, until named */
	unsigned		 nclients;
	unsigned		 capclients;
	int			 named;		/* reached k */
	int			 stuck;		/* no room for clients: never
						   named */
	uint16_t		 cat;
	char			 site[];
};

struct kanon {
	unsigned		 k;
	size_t			 max_entries;
	struct kanon_budget	*budget;
	size_t			 charged;	/* taken from the budget */
	struct siphash_key	 key;
	struct kanon_entry	**buckets;
	size_t			 nbuckets;	/* a power of two */
	size_t			 nentries;
	uint64_t		 lost;		/* answers with no entry */
};

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

struct kanon *
kanon_new(unsigned k, size_t max_entries, struct kanon_budget *budget)
{
	struct kanon	*t;

	if ((t = calloc(1, sizeof *t)) == NULL)
		return (NULL);
	t->k = k;
	t->max_entries = max_entries;
	t->budget = budget;
	t->nbuckets = KANON_BUCKETS_MIN;
	if ((t->buckets = calloc(t->nbuckets, sizeof *t->buckets)) == NULL) {
		free(t);
		return (NULL);
	}
	siphash_key_random(&t->key);
	return (t);
}

void
kanon_free(struct kanon *t)
{
	struct kanon_entry	*e, *next;
	size_t			 i;

	if (t == NULL)
		return;
	for (i = 0; i < t->nbuckets; i++) {
		for (e = t->buckets[i]; e != NULL; e = next) {
			next = e->next;
			/* Client hashes mean nothing, but need not linger. */
			if (e->clients != NULL) {
				explicit_bzero(e->clients, e->capclients *
				    sizeof *e->clients);
				free(e->clients);
			}
			free(e);
		}
	}
	free(t->buckets);
	t->budget->left += t->charged;
	siphash_key_clear(&t->key);
	free(t);
}

/* Hash of (site, cat). */
static uint64_t
kanon_hash(const struct kanon *t, const char *site, size_t len, uint16_t cat)
{
	char	buf[300];

	/* Sites are names (at most 4 * 255 escaped); longer ones share. */
	if (len > sizeof buf - 2)
		len = sizeof buf - 2;
	memcpy(buf, site, len);
	buf[len] = (char)(cat >> 8);
	buf[len + 1] = (char)cat;
	return (siphash_13(&t->key, buf, len + 2));
}

/* Double the buckets when the chains grow long; on failure stay. */
static void
kanon_grow(struct kanon *t)
{
	struct kanon_entry	**nb, *e, *next;
	size_t			  i, n = t->nbuckets * 2;

	if ((nb = calloc(n, sizeof *nb)) == NULL)
		return;
	for (i = 0; i < t->nbuckets; i++) {
		for (e = t->buckets[i]; e != NULL; e = next) {
			next = e->next;
			e->next = nb[e->hash & (n - 1)];
			nb[e->hash & (n - 1)] = e;
		}
	}
	free(t->buckets);
	t->buckets = nb;
	t->nbuckets = n;
}

/* Remember client for e; e is named when it has k of them. */
static void
kanon_client(struct kanon *t, struct kanon_entry *e, uint64_t client)
{
	uint64_t	*nc;
	unsigned	 i, cap;

	if (e->named || e->stuck)
		return;
	for (i = 0; i < e->nclients; i++)
		if (e->clients[i] == client)
			return;
	if (e->nclients + 1 >= t->k) {
		/* The k-th distinct client: named from now on. */
		e->named = 1;
		if (e->clients != NULL) {
			explicit_bzero(e->clients, e->capclients *
			    sizeof *e->clients);
			free(e->clients);
			t->budget->left += e->capclients * sizeof *e->clients;
			t->charged -= e->capclients * sizeof *e->clients;
		}
		e->clients = NULL;
		e->nclients = e->capclients = 0;
		return;
	}
	if (e->nclients == e->capclients) {
		cap = e->capclients == 0 ? 4 : e->capclients * 2;
		if (cap > t->k)
			cap = t->k;
		if (kanon_charge(t, (cap - e->capclients) *
		    sizeof *e->clients) == -1 ||
		    (nc = reallocarray(e->clients, cap, sizeof *nc)) == NULL) {
			/* Cannot count its clients: it must stay unnamed. */
			e->stuck = 1;
			return;
		}
		e->clients = nc;
		e->capclients = cap;
	}
	e->clients[e->nclients++] = client;
}

int
kanon_add(struct kanon *t, const char *site, uint16_t cat, uint64_t client,
    uint64_t n)
{
	struct kanon_entry	*e;
	size_t			 len = strlen(site), b;
	uint64_t		 h = kanon_hash(t, site, len, cat);

	b = h & (t->nbuckets - 1);
	for (e = t->buckets[b]; e != NULL; e = e->next)
		if (e->hash == h && e->cat == cat && strcmp(e->site, site) == 0)
			break;
	if (e == NULL) {
		if (t->nentries >= t->max_entries ||
		    kanon_charge(t, sizeof *e + len + 1) == -1) {
			t->lost += n;
			return (-1);
		}
		if ((e = calloc(1, sizeof *e + len + 1)) == NULL) {
			t->lost += n;
			return (-1);
		}
		e->hash = h;
		e->cat = cat;
		memcpy(e->site, site, len + 1);
		e->named = t->k == 0;
		e->next = t->buckets[b];
		t->buckets[b] = e;
		if (++t->nentries > t->nbuckets)
			kanon_grow(t);
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
	size_t			 i, n = 0;
	uint64_t		 hs = 0, hc = t->lost;

	*out = NULL;
	if ((v = calloc(t->nentries + 1, sizeof *v)) == NULL)
		return (-1);
	for (i = 0; i < t->nbuckets; i++) {
		for (e = t->buckets[i]; e != NULL; e = e->next) {
			if (!e->named) {
				hs++;
				hc += e->count;
				continue;
			}
			v[n].site = e->site;
			v[n].cat = e->cat;
			v[n].count = e->count;
			n++;
		}
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
