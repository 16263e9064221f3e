/*
 * rrl.c: response rate limiting: token buckets in a fixed, sharded table.
 *
 * A bucket holds tokens in thousandths, so that a rate of r answers a
 * second refills r thousandths a millisecond without rounding; it holds
 * at most one second's worth (r answers), the burst a client network may
 * send at once. A slot keeps only the 64-bit keyed hash of its key: two
 * keys sharing a hash share a bucket, which with SipHash under a random
 * key nobody can arrange and chance does not (and would only mean a
 * stricter limit).
 */
#include <sys/socket.h>
#include <netinet/in.h>

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "rrl.h"
#include "siphash.h"

#define RRL_SHARDS	64		/* a power of two */
#define RRL_SHARD_BITS	6
#define RRL_WINDOW	8		/* slots searched for a key */
#define RRL_MIN_SLOTS	16		/* per shard */
#define RRL_UNIT	1000		/* tokens of one answer */
#define RRL_KEY_MAX	(20 + 255)	/* network, class, type, name */

struct rrl_slot {
	uint64_t	hash;		/* 0: empty */
	uint64_t	last;		/* ms of the last refill */
	int64_t		tokens;		/* thousandths of an answer */
	uint32_t	limited;	/* answers over the rate, for slip */
	uint8_t		cls;		/* enum rrl_class of the key */
};

struct rrl_shard {
	pthread_mutex_t	 lock;
	struct rrl_slot	*slots;		/* NULL until first used */
} __attribute__((aligned(64)));

struct rrl {
	struct siphash_key	 key;
	size_t			 nslots;	/* per shard, a power of two */
	struct rrl_shard	 shards[RRL_SHARDS];
};

struct rrl *
rrl_new(size_t entries)
{
	struct rrl	*r;
	size_t		 i;

	if ((r = aligned_alloc(64, sizeof *r)) == NULL)
		return (NULL);
	memset(r, 0, sizeof *r);
	siphash_key_random(&r->key);
	r->nslots = RRL_MIN_SLOTS;
	while (r->nslots * RRL_SHARDS < entries)
		r->nslots *= 2;
	for (i = 0; i < RRL_SHARDS; i++)
		pthread_mutex_init(&r->shards[i].lock, NULL);
	return (r);
}

void
rrl_free(struct rrl *r)
{
	size_t	i;

	if (r == NULL)
		return;
	for (i = 0; i < RRL_SHARDS; i++) {
		free(r->shards[i].slots);
		pthread_mutex_destroy(&r->shards[i].lock);
	}
	free(r);
}

int
rrl_enabled(const struct rrl_params *p)
{
	size_t	i;

	for (i = 0; i < RRL_NCLASSES; i++) {
		if (p->rates[i] != 0)
			return (1);
	}
	return (0);
}

enum rrl_class
rrl_classify(const uint8_t *msg, size_t len)
{
	if (len < 12)
		return (RRL_ERROR);
	switch (msg[3] & 0x0f) {
	case 0:
		return ((msg[6] | msg[7]) != 0 ? RRL_RESPONSE : RRL_NODATA);
	case 3:
		return (RRL_NXDOMAIN);
	}
	return (RRL_ERROR);
}

/*
 * The end of the question's name at msg + 12, and in *labels the offsets
 * of up to its last two labels ([0] the second last, [1] the last; 0 when
 * there is none). 0 when there is no question or it cannot be read.
 */
static size_t
rrl_name_end(const uint8_t *msg, size_t len, size_t labels[2])
{
	size_t	off = 12;

	labels[0] = labels[1] = 0;
	if (len < 12 || (msg[4] | msg[5]) == 0)
		return (0);
	while (off < len && msg[off] != 0) {
		/* Our own answers never compress the question's name. */
		if (msg[off] > 63 || off + 1 + msg[off] >= len)
			return (0);
		labels[0] = labels[1];
		labels[1] = off;
		off += 1 + msg[off];
	}
	return (off < len ? off + 1 : 0);
}

/* The client's network cut to its prefix, tagged with its family. */
static int
rrl_network(const struct rrl_params *p, const struct sockaddr *sa,
    uint8_t out[17])
{
	const struct sockaddr_in	*sin;
	const struct sockaddr_in6	*sin6;
	unsigned			 bits, i;

	memset(out, 0, 17);
	switch (sa->sa_family) {
	case AF_INET:
		sin = (const struct sockaddr_in *)(const void *)sa;
		out[0] = 4;
		memcpy(out + 1, &sin->sin_addr, 4);
		bits = p->prefix4;
		break;
	case AF_INET6:
		sin6 = (const struct sockaddr_in6 *)(const void *)sa;
		if (IN6_IS_ADDR_V4MAPPED(&sin6->sin6_addr)) {
			out[0] = 4;
			memcpy(out + 1, sin6->sin6_addr.s6_addr + 12, 4);
			bits = p->prefix4;
		} else {
			out[0] = 6;
			memcpy(out + 1, &sin6->sin6_addr, 16);
			bits = p->prefix6;
		}
		break;
	default:
		return (-1);
	}
	/* Clear the host bits. */
	for (i = 0; i < 16; i++) {
		if (bits >= 8)
			bits -= 8;
		else {
			out[1 + i] &= (uint8_t)(0xff00 >> bits);
			bits = 0;
		}
	}
	return (0);
}

/*
 * The key of an answer of class cls to client into key: network, class,
 * then by class the type and name, or the domain. Its length, or 0.
 */
static size_t
rrl_key(const struct rrl_params *p, const struct sockaddr *client,
    const uint8_t *msg, size_t len, enum rrl_class cls, uint8_t *key)
{
	size_t	n, end, from, i, labels[2];

	if (rrl_network(p, client, key) == -1)
		return (0);
	n = 17;
	key[n++] = (uint8_t)cls;
	if (cls == RRL_ERROR)
		return (n);
	end = rrl_name_end(msg, len, labels);
	if (cls == RRL_RESPONSE) {
		if (end == 0 || end + 2 > len)
			return (n);
		from = 12;
		key[n++] = msg[end];		/* the type */
		key[n++] = msg[end + 1];
	} else
		from = labels[0] != 0 ? labels[0] : labels[1];
	if (end == 0 || from == 0)
		return (n);
	/* Lower case: 0x20 spellings of one name are one bucket. */
	for (i = from; i < end && n < RRL_KEY_MAX; i++)
		key[n++] = msg[i] >= 'A' && msg[i] <= 'Z' ?
		    (uint8_t)(msg[i] + 32) : msg[i];
	return (n);
}

/* Refill slot's bucket for the time since its last refill. */
static void
rrl_refill(const struct rrl_params *p, struct rrl_slot *slot,
    uint64_t now_ms)
{
	uint64_t	elapsed, burst = (uint64_t)p->rates[slot->cls] * RRL_UNIT;

	/* Threads may bring times out of order: never back. */
	if (now_ms <= slot->last)
		return;
	/* A second's worth fills the bucket anyway. */
	elapsed = now_ms - slot->last;
	if (elapsed > 1000)
		elapsed = 1000;
	slot->tokens += (int64_t)(elapsed * p->rates[slot->cls]);
	if (slot->tokens > (int64_t)burst)
		slot->tokens = (int64_t)burst;
	slot->last = now_ms;
}

/*
 * What a slot still limits: the tokens its bucket lacks. A full bucket
 * limits nothing, and forgetting it loses nothing.
 */
static int64_t
rrl_deficit(const struct rrl_params *p, struct rrl_slot *slot,
    uint64_t now_ms)
{
	rrl_refill(p, slot, now_ms);
	return ((int64_t)p->rates[slot->cls] * RRL_UNIT - slot->tokens);
}

/*
 * The slot for hash h in shard s (locked, allocated); *fresh when it is
 * new. When no slot of the window has it, an empty one is taken, else
 * the one that limits least: a client network being limited (a victim of
 * reflection) keeps its counter against a flood of new ones.
 */
static struct rrl_slot *
rrl_slot(struct rrl *r, const struct rrl_params *p, struct rrl_shard *s,
    uint64_t h, uint64_t now_ms, int *fresh)
{
	struct rrl_slot	*slot, *victim = NULL;
	int64_t		 d, least = 0;
	size_t		 i, mask = r->nslots - 1;

	for (i = 0; i < RRL_WINDOW; i++) {
		slot = &s->slots[(h + i) & mask];
		if (slot->hash == h) {
			*fresh = 0;
			return (slot);
		}
		if (victim != NULL && victim->hash == 0)
			continue;
		if (slot->hash == 0) {
			victim = slot;
			continue;
		}
		d = rrl_deficit(p, slot, now_ms);
		if (victim == NULL || d < least) {
			victim = slot;
			least = d;
		}
	}
	*fresh = 1;
	return (victim);
}

enum rrl_verdict
rrl_check(struct rrl *r, const struct rrl_params *p,
    const struct sockaddr *client, const uint8_t *msg, size_t len,
    uint64_t now_ms)
{
	struct rrl_shard	*s;
	struct rrl_slot		*slot;
	enum rrl_class		 cls;
	enum rrl_verdict	 v = RRL_PASS;
	uint8_t			 key[RRL_KEY_MAX];
	uint64_t		 h;
	size_t			 klen;
	int			 fresh;

	if (len < 12)
		return (RRL_PASS);
	cls = rrl_classify(msg, len);
	if (p->rates[cls] == 0)
		return (RRL_PASS);
	if ((klen = rrl_key(p, client, msg, len, cls, key)) == 0)
		return (RRL_PASS);
	h = siphash_13(&r->key, key, klen) | 1;		/* never 0 */

	s = &r->shards[h >> (64 - RRL_SHARD_BITS)];
	pthread_mutex_lock(&s->lock);
	if (s->slots == NULL &&
	    (s->slots = calloc(r->nslots, sizeof *s->slots)) == NULL) {
		/* No memory for the table: answer rather than go silent. */
		pthread_mutex_unlock(&s->lock);
		return (RRL_PASS);
	}
	slot = rrl_slot(r, p, s, h, now_ms, &fresh);
	if (fresh) {
		slot->hash = h;
		slot->cls = (uint8_t)cls;
		slot->tokens = (int64_t)p->rates[cls] * RRL_UNIT;
		slot->last = now_ms;
		slot->limited = 0;
	} else
		rrl_refill(p, slot, now_ms);
	if (slot->tokens >= RRL_UNIT)
		slot->tokens -= RRL_UNIT;
	else {
		slot->limited++;
		v = p->slip != 0 && slot->limited % p->slip == 0 ? RRL_SLIP :
		    RRL_DROP;
	}
	pthread_mutex_unlock(&s->lock);
	return (v);
}

size_t
rrl_slip(uint8_t *msg, size_t len)
{
	size_t	end, labels[2];

	if (len < 12)
		return (len);
	end = rrl_name_end(msg, len, labels);
	msg[2] |= 0x02;					/* TC */
	memset(msg + 6, 0, 6);				/* AN, NS, AR */
	if (end == 0 || end + 4 > len) {
		msg[4] = msg[5] = 0;
		return (12);
	}
	msg[4] = 0;
	msg[5] = 1;
	return (end + 4);
}

size_t
rrl_used(struct rrl *r)
{
	struct rrl_shard	*s;
	size_t			 i, j, n = 0;

	for (i = 0; i < RRL_SHARDS; i++) {
		s = &r->shards[i];
		pthread_mutex_lock(&s->lock);
		for (j = 0; s->slots != NULL && j < r->nslots; j++)
			n += s->slots[j].hash != 0;
		pthread_mutex_unlock(&s->lock);
	}
	return (n);
}
