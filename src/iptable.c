/*
 * iptable.c: networks mapped to 64-bit values, as sorted disjoint ranges.
 *
 * CIDR networks never partly overlap: two are either disjoint or one holds
 * the other. So the address space of a family cuts into disjoint ranges on
 * which the OR of all containing networks is constant, at most 2n + 1 of
 * them for n networks. iptable_build() computes them once with a sweep
 * over the networks sorted by start (a stack of the open, nested ones),
 * merges neighbours with the same value, and keeps two parallel arrays per
 * family: range starts (uint32_t for IPv4, two uint64_t for IPv6) and
 * their ORed values. A lookup is one binary search for the last start
 * <= the address, allocation-free and branch-light. A binary trie would
 * walk up to 128 dependent nodes scattered in memory; this was chosen for
 * the IP lists of 20,000+ entries read on every answer that enters the
 * cache. Over more than IPTABLE_JUMP_MIN ranges a jump index narrows the
 * search first: the span from the first start to the last, cut into as
 * many equal buckets as there are ranges (at most 65,536), each with the
 * first range that starts in it, so that the search is over the few
 * ranges of one bucket. The board table (40,000 networks of 10,000
 * boards: 80,000 ranges) is read on every query, and its 17 dependent
 * steps were mostly cache misses: the index takes one miss and leaves
 * one or two steps, 40 ns a lookup down to 12 ns (random clients, one
 * core of the 2026 test machine). A bucket that lies wholly inside one
 * range (no range starts inside it; a board's /24 when the buckets are
 * /24s or smaller, or the empty space between networks) keeps that
 * range's value in its index entry when it fits in 32 bits: the lookup
 * is then the one read of the index, where the search still read the
 * starts and the values, two more cache misses at 10,000 boards (a
 * third of the lookup's samples in a profile of the boards bench). The
 * index is two arrays: the whole buckets' values (16 bits each when they
 * all fit, as a board's index + 1 does for up to 65,534 boards; else 32)
 * and each bucket's first range (32 bits), read only when the bucket is
 * not whole. A board's lookup so reads two octets, 32 buckets to a line:
 * at 10,000 boards 80 KiB of index, where one array of 8-octet entries
 * was 320 KiB, which a query's other lines pushed out of a core's
 * second-level cache (a miss for half the queries in boardcost). It costs
 * 6 or 8 octets a bucket, at most 512 KiB a family. A worker knows the
 * source addresses of a whole batch of datagrams at once: it prefetches
 * every one's index entry (iptable_prefetch(), the address worked out
 * from the header alone) before it looks any up, so that with 10,000
 * boards the batch's misses overlap instead of coming one by one.
 *
 * Keys are 128 bits for both families while building: an IPv4 address
 * sits in the top 32 bits, so a v4 /p is a 128-bit /p and one sweep serves
 * both. IPv6 networks inside ::ffff:0:0/96 are stored as IPv4, so that
 * they match v4-mapped lookups, which are done in the IPv4 table.
 *
 * The builder is a plain array: iptable_add() appends (duplicates are
 * ORed at build). iptable_overlaps() finds the networks that overlap an
 * earlier one with the same sort and the same stack of nested networks
 * as the build: everything on the stack holds the network being pushed,
 * everything pushed while it is open lies inside it, so the first added
 * of each comes out of the sweep, O(n log n) in all. (Comparing each
 * network with every earlier one, as conf.c did, took 90 s for the
 * 100,000 networks of 1,000 boards; this takes tens of milliseconds.)
 * Both run only at load.
 */
#include <netinet/in.h>

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "iptable.h"

#define IPTABLE_JUMP_MIN	64	/* ranges before a jump index pays */
#define IPTABLE_JUMP_MAX	65536	/* buckets of a jump index, at most */

/* A 128-bit address or range bound, most significant half first. */
struct iptable_key {
	uint64_t	hi;
	uint64_t	lo;
};

/* One network added to the builder. */
struct iptable_ent {
	int			v6;	/* normalised family: 0 = IPv4 */
	unsigned		prefix;	/* normalised prefix, 0..128 */
	struct iptable_key	start;	/* first address, host bits zero */
	uint64_t		value;
};

struct iptable_builder {
	struct iptable_ent	*ents;
	size_t			 n;
	size_t			 cap;
};

/* The ranges of one family; start[i] up to start[i + 1] - 1 has val[i]. */
struct iptable_fam {
	void			*start;	/* uint32_t[] or iptable_key[] */
	uint64_t		*val;
	size_t			 n;
	/*
	 * The jump index, or NULL: bucket b's ranges start at range
	 * jump[b]; whole[b], when not 0, is the value + 1 of the one range
	 * that holds the whole bucket, in 16 bits when every such value
	 * fits (wide 0), else 32: the array a lookup reads first, apart
	 * from the starts, so that it is as small as it can be.
	 */
	uint32_t		*jump;
	void			*whole;	/* uint16_t[nj] or uint32_t[nj] */
	int			 wide;
	uint64_t		 jlo;	/* the first start's jump key */
	unsigned		 jshift; /* (key - jlo) >> jshift: bucket */
	size_t			 nj;	/* buckets; jump has nj + 1 */
};

struct iptable {
	struct iptable_fam	 fam[2];	/* [0] IPv4, [1] IPv6 */
	size_t			 count;		/* distinct networks */
};

/* A network open during the overlap sweep; indexes in the order added. */
struct iptable_open {
	struct iptable_key	end;	/* its last address */
	int			v6;
	size_t			added;	/* its own index */
	size_t			above;	/* first of those that hold it */
	size_t			below;	/* first of those inside it */
};

/* A point where the value changes, during the sweep. */
struct iptable_cut {
	struct iptable_key	at;
	uint64_t		val;
};

static const uint8_t iptable_mapped[12] = {
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff
};

/* Load 4 or 16 octets into a key, the top bits first. */
static struct iptable_key
iptable_key_load(const uint8_t *addr, size_t len)
{
	struct iptable_key	k;
	uint8_t			buf[16];
	size_t			i;

	memset(buf, 0, sizeof buf);
	memcpy(buf, addr, len);
	k.hi = k.lo = 0;
	for (i = 0; i < 8; i++) {
		k.hi = k.hi << 8 | buf[i];
		k.lo = k.lo << 8 | buf[i + 8];
	}
	return (k);
}

/* Mask of the host part of a /prefix, as a key. */
static struct iptable_key
iptable_key_hostmask(unsigned prefix)
{
	struct iptable_key	m;

	if (prefix >= 64) {
		m.hi = 0;
		m.lo = prefix >= 128 ? 0 : UINT64_MAX >> (prefix - 64);
	} else {
		m.hi = prefix == 0 ? UINT64_MAX : UINT64_MAX >> prefix;
		m.lo = UINT64_MAX;
	}
	return (m);
}

static int
iptable_key_cmp(const struct iptable_key *a, const struct iptable_key *b)
{
	if (a->hi != b->hi)
		return (a->hi < b->hi ? -1 : 1);
	if (a->lo != b->lo)
		return (a->lo < b->lo ? -1 : 1);
	return (0);
}

/* Last address of a network. */
static struct iptable_key
iptable_ent_end(const struct iptable_ent *e)
{
	struct iptable_key	k, m;

	m = iptable_key_hostmask(e->prefix);
	k.hi = e->start.hi | m.hi;
	k.lo = e->start.lo | m.lo;
	return (k);
}

/*
 * Normalise a network into e: check family and prefix, zero the host bits,
 * turn ::ffff:a.b.c.d/96+ into IPv4. -1 if the network is invalid.
 */
static int
iptable_ent_set(struct iptable_ent *e, const struct conf_net *net)
{
	struct iptable_key	m;

	memset(e, 0, sizeof *e);
	if (net->family == AF_INET && net->prefix <= 32) {
		e->start = iptable_key_load(net->addr, 4);
		e->prefix = net->prefix;
	} else if (net->family == AF_INET6 && net->prefix <= 128) {
		if (net->prefix >= 96 &&
		    memcmp(net->addr, iptable_mapped, 12) == 0) {
			e->start = iptable_key_load(net->addr + 12, 4);
			e->prefix = net->prefix - 96;
		} else {
			e->v6 = 1;
			e->start = iptable_key_load(net->addr, 16);
			e->prefix = net->prefix;
		}
	} else
		return (-1);
	m = iptable_key_hostmask(e->prefix);
	e->start.hi &= ~m.hi;
	e->start.lo &= ~m.lo;
	return (0);
}

/* qsort order: family, start, then the larger network first. */
static int
iptable_ent_cmp(const void *va, const void *vb)
{
	const struct iptable_ent	*a = va, *b = vb;
	int				 c;

	if (a->v6 != b->v6)
		return (a->v6 - b->v6);
	if ((c = iptable_key_cmp(&a->start, &b->start)) != 0)
		return (c);
	if (a->prefix != b->prefix)
		return (a->prefix < b->prefix ? -1 : 1);
	return (0);
}

/* As iptable_ent_cmp, then in the order added (value holds it). */
static int
iptable_ent_cmp_added(const void *va, const void *vb)
{
	const struct iptable_ent	*a = va, *b = vb;
	int				 c;

	if ((c = iptable_ent_cmp(a, b)) != 0)
		return (c);
	return (a->value < b->value ? -1 : a->value > b->value);
}

static size_t
iptable_min(size_t a, size_t b)
{
	return (a < b ? a : b);
}

struct iptable_builder *
iptable_builder_new(void)
{
	return (calloc(1, sizeof(struct iptable_builder)));
}

void
iptable_builder_free(struct iptable_builder *b)
{
	if (b == NULL)
		return;
	free(b->ents);
	free(b);
}

int
iptable_add(struct iptable_builder *b, const struct conf_net *net,
    uint64_t value)
{
	struct iptable_ent	*ents;
	size_t			 cap;

	if (b->n == b->cap) {
		cap = b->cap == 0 ? 64 : b->cap * 2;
		ents = reallocarray(b->ents, cap, sizeof *ents);
		if (ents == NULL)
			return (-1);
		b->ents = ents;
		b->cap = cap;
	}
	if (iptable_ent_set(&b->ents[b->n], net) == -1)
		return (-1);
	b->ents[b->n++].value = value;
	return (0);
}

/*
 * The sweep of iptable_overlaps() over the networks e[0..n), sorted with
 * their index in the order added as value: first[i] gets the first added
 * of the networks overlapping network i, or SIZE_MAX. stk has room for n.
 */
static void
iptable_overlap_sweep(const struct iptable_ent *e, size_t n,
    struct iptable_open *stk, size_t *first)
{
	struct iptable_open	*top;
	size_t			 i, sp = 0;

	for (i = 0; i <= n; i++) {
		/*
		 * Close the networks that end before this one (all of them
		 * at the end, and at the change of family); what was inside
		 * one is inside the one around it too.
		 */
		while (sp > 0 && (i == n || stk[sp - 1].v6 != e[i].v6 ||
		    iptable_key_cmp(&stk[sp - 1].end, &e[i].start) < 0)) {
			top = &stk[--sp];
			first[top->added] = iptable_min(top->above, top->below);
			if (sp > 0)
				stk[sp - 1].below = iptable_min(
				    stk[sp - 1].below,
				    iptable_min(top->below, top->added));
		}
		if (i == n)
			break;
		/* Equal networks nest too: the later added inside. */
		top = &stk[sp++];
		top->end = iptable_ent_end(&e[i]);
		top->v6 = e[i].v6;
		top->added = (size_t)e[i].value;
		top->below = SIZE_MAX;
		top->above = sp > 1 ? iptable_min(stk[sp - 2].above,
		    stk[sp - 2].added) : SIZE_MAX;
	}
}

int
iptable_overlaps(const struct iptable_builder *b, iptable_overlap_cb cb,
    void *arg)
{
	struct iptable_ent	*e;
	struct iptable_open	*stk;
	size_t			*first, i;

	if (b->n == 0)
		return (0);
	e = reallocarray(NULL, b->n, sizeof *e);
	stk = reallocarray(NULL, b->n, sizeof *stk);
	first = reallocarray(NULL, b->n, sizeof *first);
	if (e == NULL || stk == NULL || first == NULL) {
		free(e);
		free(stk);
		free(first);
		return (-1);
	}
	/* A copy: the builder's order is the order added, kept for build. */
	memcpy(e, b->ents, b->n * sizeof *e);
	for (i = 0; i < b->n; i++)
		e[i].value = i;
	qsort(e, b->n, sizeof *e, iptable_ent_cmp_added);
	iptable_overlap_sweep(e, b->n, stk, first);
	for (i = 0; i < b->n; i++) {
		if (first[i] < i)
			cb(arg, b->ents[i].value, b->ents[first[i]].value);
	}
	free(e);
	free(stk);
	free(first);
	return (0);
}

/* Record that the value is val from address at on (cuts come in order). */
static void
iptable_cut(struct iptable_cut *cuts, size_t *n, const struct iptable_key *at,
    uint64_t val)
{
	if (*n > 0 && iptable_key_cmp(&cuts[*n - 1].at, at) == 0)
		(*n)--;		/* a later cut at the same point wins */
	if (*n > 0 ? cuts[*n - 1].val == val : val == 0)
		return;		/* no change */
	cuts[*n].at = *at;
	cuts[(*n)++].val = val;
}

/*
 * The key of the jump index of start i: the address for IPv4, its first
 * 64 bits for IPv6 (networks are seldom longer; longer ones in one /64
 * share a bucket, and the search in it sorts them out).
 */
static uint64_t
iptable_jump_key(const struct iptable_fam *f, int v6, size_t i)
{
	if (v6)
		return (((const struct iptable_key *)f->start)[i].hi);
	return (((const uint32_t *)f->start)[i]);
}

/*
 * The value + 1 of the range that holds all of bucket b (its first and
 * further index entries already set), or 0 when ranges start inside it
 * or the value needs more than 32 bits. Lookups reach a bucket only with
 * keys from the first start on, so range 0 holds bucket 0 from there.
 */
static uint64_t
iptable_jump_whole(const struct iptable_fam *f, int v6, size_t b)
{
	size_t		 first = f->jump[b];
	size_t		 next = f->jump[b + 1];
	size_t		 r;
	uint64_t	 lo = f->jlo + ((uint64_t)b << f->jshift);

	if (next == first)		/* none starts in it: the one before */
		r = first - 1;
	else if (next == first + 1 && (first == 0 ||
	    (iptable_jump_key(f, v6, first) == lo && (!v6 ||
	    ((const struct iptable_key *)f->start)[first].lo == 0))))
		r = first;		/* one, at its first address */
	else
		return (0);
	if (f->val[r] >= UINT32_MAX)
		return (0);
	return (f->val[r] + 1);
}

/* Build f's jump index when it has more than IPTABLE_JUMP_MIN ranges. */
static int
iptable_jump_build(struct iptable_fam *f, int v6)
{
	uint64_t	span, w, wmax = 0;
	size_t		i, b, nmax = 1;

	if (f->n <= IPTABLE_JUMP_MIN)
		return (0);
	while (nmax < f->n && nmax < IPTABLE_JUMP_MAX)
		nmax <<= 1;
	f->jlo = iptable_jump_key(f, v6, 0);
	span = iptable_jump_key(f, v6, f->n - 1) - f->jlo;
	for (f->jshift = 0; (span >> f->jshift) >= nmax; f->jshift++)
		;
	f->nj = (size_t)(span >> f->jshift) + 1;
	if ((f->jump = calloc(f->nj + 1, sizeof *f->jump)) == NULL)
		return (-1);
	/* Starts are sorted, so their buckets only grow. */
	for (i = 0, b = 0; i < f->n; i++)
		while (b <= ((iptable_jump_key(f, v6, i) - f->jlo) >> f->jshift))
			f->jump[b++] = (uint32_t)i;
	while (b <= f->nj)
		f->jump[b++] = (uint32_t)f->n;
	/* The whole buckets' values, in 16 bits if they all fit. */
	for (b = 0; b < f->nj; b++)
		if ((w = iptable_jump_whole(f, v6, b)) > wmax)
			wmax = w;
	f->wide = wmax > UINT16_MAX;
	if ((f->whole = calloc(f->nj, f->wide ? sizeof(uint32_t) :
	    sizeof(uint16_t))) == NULL)
		return (-1);
	for (b = 0; b < f->nj; b++) {
		w = iptable_jump_whole(f, v6, b);
		if (f->wide)
			((uint32_t *)f->whole)[b] = (uint32_t)w;
		else
			((uint16_t *)f->whole)[b] = (uint16_t)w;
	}
	return (0);
}

/* The bucket of the jump index for key k (>= the first start). */
static inline size_t
iptable_jump_bucket(const struct iptable_fam *f, uint64_t k)
{
	size_t	b;

	b = (size_t)((k - f->jlo) >> f->jshift);
	return (b < f->nj ? b : f->nj - 1);
}

/*
 * Where the search for key k (>= the first start) must look: from the
 * range before k's bucket to the last range in it, as base and len.
 * 1 with the value in *val instead when one range holds the bucket.
 */
static inline int
iptable_jump(const struct iptable_fam *f, uint64_t k, size_t *base,
    size_t *len, uint64_t *val)
{
	size_t		b, first;
	uint32_t	w;

	if (f->jump == NULL) {
		*base = 0;
		*len = f->n;
		return (0);
	}
	b = iptable_jump_bucket(f, k);
	w = f->wide ? ((const uint32_t *)f->whole)[b] :
	    ((const uint16_t *)f->whole)[b];
	if (w != 0) {
		*val = w - 1;
		return (1);
	}
	first = f->jump[b];
	*base = first > 0 ? first - 1 : 0;
	*len = f->jump[b + 1] - *base;
	return (0);
}

/*
 * Sweep the sorted, distinct networks ents[0..n) of one family into the
 * ranges of f. The networks nest, so the open ones form a stack at most
 * 129 deep (strictly growing prefixes); each pop or push is a cut.
 */
static int
iptable_sweep(struct iptable_fam *f, int v6, const struct iptable_ent *ents,
    size_t n)
{
	struct iptable_key	 end[129], next;
	uint64_t		 cum[129];
	struct iptable_cut	*cuts;
	size_t			 ncuts = 0, i, j;
	int			 sp = 0;

	if (n == 0)
		return (0);
	if ((cuts = calloc(2 * n + 1, sizeof *cuts)) == NULL)
		return (-1);
	for (i = 0; i <= n; i++) {
		/* Close the networks that end before this one (or all). */
		while (sp > 0 && (i == n ||
		    iptable_key_cmp(&end[sp - 1], &ents[i].start) < 0)) {
			next = end[--sp];
			if (next.lo++ == UINT64_MAX && next.hi++ == UINT64_MAX)
				continue;	/* ran to the end of space */
			iptable_cut(cuts, &ncuts, &next, sp > 0 ? cum[sp - 1] : 0);
		}
		if (i == n)
			break;
		cum[sp] = (sp > 0 ? cum[sp - 1] : 0) | ents[i].value;
		end[sp] = iptable_ent_end(&ents[i]);
		iptable_cut(cuts, &ncuts, &ents[i].start, cum[sp]);
		sp++;
	}

	if (ncuts == 0) {	/* every value was 0 */
		free(cuts);
		return (0);
	}
	f->val = calloc(ncuts, sizeof *f->val);
	f->start = calloc(ncuts, v6 ? sizeof(struct iptable_key) :
	    sizeof(uint32_t));
	if (f->val == NULL || f->start == NULL) {
		free(cuts);
		return (-1);
	}
	for (j = 0; j < ncuts; j++) {
		f->val[j] = cuts[j].val;
		if (v6)
			((struct iptable_key *)f->start)[j] = cuts[j].at;
		else
			((uint32_t *)f->start)[j] = cuts[j].at.hi >> 32;
	}
	f->n = ncuts;
	free(cuts);
	return (iptable_jump_build(f, v6));
}

struct iptable *
iptable_build(struct iptable_builder *b)
{
	struct iptable		*t;
	struct iptable_ent	*e;
	size_t			 i, n, first;

	if ((t = calloc(1, sizeof *t)) == NULL) {
		iptable_builder_free(b);
		return (NULL);
	}
	e = b->ents;
	if (b->n > 0)
		qsort(e, b->n, sizeof *e, iptable_ent_cmp);

	/* The same network twice becomes one with the values ORed. */
	n = 0;
	for (i = 0; i < b->n; i++) {
		if (n > 0 && iptable_ent_cmp(&e[n - 1], &e[i]) == 0)
			e[n - 1].value |= e[i].value;
		else
			e[n++] = e[i];
	}
	t->count = n;

	/* IPv4 sorts before IPv6. */
	for (first = 0; first < n && !e[first].v6; first++)
		;
	if (iptable_sweep(&t->fam[0], 0, e, first) == -1 ||
	    (n > first &&
	    iptable_sweep(&t->fam[1], 1, e + first, n - first) == -1)) {
		iptable_free(t);
		t = NULL;
	}
	iptable_builder_free(b);
	return (t);
}

void
iptable_free(struct iptable *t)
{
	int	i;

	if (t == NULL)
		return;
	for (i = 0; i < 2; i++) {
		free(t->fam[i].start);
		free(t->fam[i].val);
		free(t->fam[i].jump);
		free(t->fam[i].whole);
	}
	free(t);
}

/* Value of the IPv4 range holding a (a host-order address). */
static uint64_t
iptable_lookup4(const struct iptable_fam *f, uint32_t a)
{
	const uint32_t	*s = f->start;
	size_t		 base, len, half;
	uint64_t	 v;

	if (f->n == 0 || a < s[0])
		return (0);
	if (iptable_jump(f, a, &base, &len, &v))
		return (v);
	/* Last index with s[i] <= a; s[base] <= a holds throughout. */
	while (len > 1) {
		half = len / 2;
		if (s[base + half] <= a)
			base += half;
		len -= half;
	}
	return (f->val[base]);
}

/* The same for IPv6. */
static uint64_t
iptable_lookup6(const struct iptable_fam *f, const struct iptable_key *k)
{
	const struct iptable_key	*s = f->start;
	size_t				 base, len, half;
	uint64_t			 v;

	if (f->n == 0 || iptable_key_cmp(k, &s[0]) < 0)
		return (0);
	if (iptable_jump(f, k->hi, &base, &len, &v))
		return (v);
	while (len > 1) {
		half = len / 2;
		if (iptable_key_cmp(&s[base + half], k) <= 0)
			base += half;
		len -= half;
	}
	return (f->val[base]);
}

uint64_t
iptable_lookup_addr(const struct iptable *t, int family, const uint8_t *addr)
{
	struct iptable_key	k;

	if (t == NULL)
		return (0);
	if (family == AF_INET6 && memcmp(addr, iptable_mapped, 12) == 0) {
		family = AF_INET;
		addr += 12;
	}
	if (family == AF_INET)
		return (iptable_lookup4(&t->fam[0],
		    (uint32_t)addr[0] << 24 | (uint32_t)addr[1] << 16 |
		    (uint32_t)addr[2] << 8 | addr[3]));
	if (family == AF_INET6) {
		k = iptable_key_load(addr, 16);
		return (iptable_lookup6(&t->fam[1], &k));
	}
	return (0);
}

/*
 * The index entry a lookup of k reads first; only the address worked out,
 * nothing of the table read but its header, so that the misses of many
 * such calls overlap.
 */
static void
iptable_prefetch_fam(const struct iptable_fam *f, uint64_t k)
{
	size_t	b;

	if (f->jump == NULL || k < f->jlo)
		return;
	b = iptable_jump_bucket(f, k);
	__builtin_prefetch(f->wide ? (const void *)&((const uint32_t *)
	    f->whole)[b] : (const void *)&((const uint16_t *)f->whole)[b]);
}

void
iptable_prefetch(const struct iptable *t, const struct sockaddr *sa)
{
	const struct sockaddr_in	*sin;
	const struct sockaddr_in6	*sin6;
	const uint8_t			*a;

	if (t == NULL)
		return;
	if (sa->sa_family == AF_INET6) {
		sin6 = (const struct sockaddr_in6 *)sa;
		a = sin6->sin6_addr.s6_addr;
		if (memcmp(a, iptable_mapped, 12) != 0) {
			iptable_prefetch_fam(&t->fam[1],
			    iptable_key_load(a, 16).hi);
			return;
		}
		a += 12;
	} else if (sa->sa_family == AF_INET) {
		sin = (const struct sockaddr_in *)sa;
		a = (const uint8_t *)&sin->sin_addr;
	} else
		return;
	iptable_prefetch_fam(&t->fam[0], (uint32_t)a[0] << 24 |
	    (uint32_t)a[1] << 16 | (uint32_t)a[2] << 8 | a[3]);
}

uint64_t
iptable_lookup(const struct iptable *t, const struct sockaddr *sa)
{
	const struct sockaddr_in	*sin;
	const struct sockaddr_in6	*sin6;

	if (sa->sa_family == AF_INET) {
		sin = (const struct sockaddr_in *)sa;
		return (iptable_lookup_addr(t, AF_INET,
		    (const uint8_t *)&sin->sin_addr));
	}
	if (sa->sa_family == AF_INET6) {
		sin6 = (const struct sockaddr_in6 *)sa;
		return (iptable_lookup_addr(t, AF_INET6,
		    sin6->sin6_addr.s6_addr));
	}
	return (0);
}

size_t
iptable_count(const struct iptable *t)
{
	return (t == NULL ? 0 : t->count);
}

/* Octets of f's jump index. */
static size_t
iptable_jump_bytes(const struct iptable_fam *f)
{
	if (f->jump == NULL)
		return (0);
	return ((f->nj + 1) * sizeof *f->jump +
	    f->nj * (f->wide ? sizeof(uint32_t) : sizeof(uint16_t)));
}

size_t
iptable_bytes(const struct iptable *t)
{
	if (t == NULL)
		return (0);
	return (sizeof *t +
	    t->fam[0].n * (sizeof(uint32_t) + sizeof(uint64_t)) +
	    t->fam[1].n * (sizeof(struct iptable_key) + sizeof(uint64_t)) +
	    iptable_jump_bytes(&t->fam[0]) + iptable_jump_bytes(&t->fam[1]));
}
