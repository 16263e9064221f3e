/*
 * quota.c: counters per client in an open-addressing hash table.
 *
 * Linear probing over a power-of-two array of slots, grown by doubling
 * when three quarters are used (growth allocates, on the miss path, where
 * fwd.c allocates too); deletion shifts the following entries back
 * instead of leaving tombstones, so a table that sees many clients come
 * and go never fills with dead slots. Each slot keeps its hash, so growth
 * and deletion never hash again. A caller with several calls about one
 * client hashes it once (quota_client()) and passes that along.
 */
#include <sys/socket.h>
#include <netinet/in.h>

#include <stdlib.h>
#include <string.h>

#include "quota.h"
#include "siphash.h"

#define QUOTA_SLOTS_MIN		64

/* One client: its key (16 octets: IPv4-mapped or a /64) and counters. */
struct quota_slot {
	uint64_t	hash;
	uint8_t		key[16];
	uint32_t	held[QUOTA_COUNTERS];
	int		used;
};

struct quota {
	struct siphash_key	 key;
	struct quota_slot	*slots;
	size_t			 nslots;	/* a power of two */
	size_t			 used;
};

/* The client key of sa into key; -1 for a family we do not count. */
static int
quota_key(const struct sockaddr *sa, uint8_t key[16])
{
	const struct sockaddr_in	*sin;
	const struct sockaddr_in6	*sin6;

	memset(key, 0, 16);
	switch (sa->sa_family) {
	case AF_INET:
		sin = (const struct sockaddr_in *)(const void *)sa;
		key[10] = key[11] = 0xff;
		memcpy(key + 12, &sin->sin_addr, 4);
		return (0);
	case AF_INET6:
		sin6 = (const struct sockaddr_in6 *)(const void *)sa;
		if (IN6_IS_ADDR_V4MAPPED(&sin6->sin6_addr))
			memcpy(key, &sin6->sin6_addr, 16);
		else
			memcpy(key, &sin6->sin6_addr, 8);	/* the /64 */
		return (0);
	}
	return (-1);
}

/* The slot of key, or NULL. */
static struct quota_slot *
quota_find(const struct quota *qt, const uint8_t key[16], uint64_t h)
{
	struct quota_slot	*s;
	size_t			 i, mask = qt->nslots - 1;

	for (i = h & mask;; i = (i + 1) & mask) {
		s = &qt->slots[i];
		if (!s->used)
			return (NULL);
		if (s->hash == h && memcmp(s->key, key, 16) == 0)
			return (s);
	}
}

/* Put slot contents s into a table with room (no duplicate check). */
static void
quota_place(struct quota_slot *slots, size_t nslots,
    const struct quota_slot *s)
{
	size_t	i, mask = nslots - 1;

	for (i = s->hash & mask; slots[i].used; i = (i + 1) & mask)
		;
	slots[i] = *s;
}

/* Double the table; -1 when it may not grow or there is no memory. */
static int
quota_grow(struct quota *qt)
{
	struct quota_slot	*ns;
	size_t			 i, n = qt->nslots * 2;

	if (n > 2 * (size_t)QUOTA_MAX_CLIENTS)
		return (-1);
	if ((ns = calloc(n, sizeof *ns)) == NULL)
		return (-1);
	for (i = 0; i < qt->nslots; i++) {
		if (qt->slots[i].used)
			quota_place(ns, n, &qt->slots[i]);
	}
	free(qt->slots);
	qt->slots = ns;
	qt->nslots = n;
	return (0);
}

/* Empty slot s, shifting back the entries probed past it. */
static void
quota_remove(struct quota *qt, struct quota_slot *s)
{
	size_t	i = (size_t)(s - qt->slots), j = i, k;
	size_t	mask = qt->nslots - 1;

	for (;;) {
		j = (j + 1) & mask;
		if (!qt->slots[j].used)
			break;
		k = qt->slots[j].hash & mask;
		/* An entry whose home is cyclically in (i, j] stays. */
		if (i <= j ? (i < k && k <= j) : (i < k || k <= j))
			continue;
		qt->slots[i] = qt->slots[j];
		i = j;
	}
	memset(&qt->slots[i], 0, sizeof qt->slots[i]);
	qt->used--;
}

struct quota *
quota_new(void)
{
	struct quota	*qt;

	if ((qt = calloc(1, sizeof *qt)) == NULL)
		return (NULL);
	siphash_key_random(&qt->key);
	qt->nslots = QUOTA_SLOTS_MIN;
	if ((qt->slots = calloc(qt->nslots, sizeof *qt->slots)) == NULL) {
		free(qt);
		return (NULL);
	}
	return (qt);
}

void
quota_free(struct quota *qt)
{
	if (qt == NULL)
		return;
	free(qt->slots);
	free(qt);
}

int
quota_client(const struct quota *qt, const struct sockaddr *sa,
    struct quota_client *cl)
{
	if (quota_key(sa, cl->key) == -1)
		return (-1);
	cl->hash = siphash_13(&qt->key, cl->key, sizeof cl->key);
	return (0);
}

int
quota_take_cl(struct quota *qt, const struct quota_client *cl,
    unsigned which, uint32_t limit)
{
	struct quota_slot	*s, n;

	if (which >= QUOTA_COUNTERS)
		return (-1);
	if ((s = quota_find(qt, cl->key, cl->hash)) != NULL) {
		if (s->held[which] >= limit)
			return (-1);
		s->held[which]++;
		return (0);
	}
	if (limit == 0 || qt->used >= QUOTA_MAX_CLIENTS)
		return (-1);
	if ((qt->used + 1) * 4 > qt->nslots * 3 && quota_grow(qt) == -1)
		return (-1);
	memset(&n, 0, sizeof n);
	n.hash = cl->hash;
	memcpy(n.key, cl->key, sizeof n.key);
	n.held[which] = 1;
	n.used = 1;
	quota_place(qt->slots, qt->nslots, &n);
	qt->used++;
	return (0);
}

void
quota_give_cl(struct quota *qt, const struct quota_client *cl,
    unsigned which)
{
	struct quota_slot	*s;
	unsigned		 i;

	if (which >= QUOTA_COUNTERS)
		return;
	s = quota_find(qt, cl->key, cl->hash);
	if (s == NULL || s->held[which] == 0)
		return;
	s->held[which]--;
	for (i = 0; i < QUOTA_COUNTERS; i++) {
		if (s->held[i] != 0)
			return;
	}
	quota_remove(qt, s);
}

uint32_t
quota_held_cl(const struct quota *qt, const struct quota_client *cl,
    unsigned which)
{
	const struct quota_slot	*s;

	if (which >= QUOTA_COUNTERS)
		return (0);
	s = quota_find(qt, cl->key, cl->hash);
	return (s != NULL ? s->held[which] : 0);
}

int
quota_take(struct quota *qt, const struct sockaddr *sa, unsigned which,
    uint32_t limit)
{
	struct quota_client	cl;

	if (quota_client(qt, sa, &cl) == -1)
		return (-1);
	return (quota_take_cl(qt, &cl, which, limit));
}

void
quota_give(struct quota *qt, const struct sockaddr *sa, unsigned which)
{
	struct quota_client	cl;

	if (quota_client(qt, sa, &cl) == 0)
		quota_give_cl(qt, &cl, which);
}

uint32_t
quota_held(const struct quota *qt, const struct sockaddr *sa, unsigned which)
{
	struct quota_client	cl;

	if (quota_client(qt, sa, &cl) == -1)
		return (0);
	return (quota_held_cl(qt, &cl, which));
}

size_t
quota_clients(const struct quota *qt)
{
	return (qt->used);
}
