/*
 * domtable.c: domain names compiled into one immutable suffix table.
 *
 * Layout of a built table (all flat arrays, no pointers between them):
 *
 *   slots	an open-addressing hash table of 12-octet records
 *		{check hash, arena offset, verdict set << 8 | name length},
 *		linear probing, load at most 0.75. The slot count is not a
 *		power of two: the home slot is (low 32 hash bits * nslots)
 *		>> 32, so the table is sized to the names, not to the next
 *		power of two (which would waste up to half of it). A node IS
 *		its slot: there is no separate node array and no index of
 *		node numbers, so a probe reads one record and, only when the
 *		32 check bits agree, the name in the arena.
 *   arena	each distinct name once, wire form.
 *   vsets	the distinct verdict sets. Nearly all names share a few
 *		combinations of {list, kind, match}; a set holds the four
 *		masks the walk needs, already resolved (PASS beats BLOCK at
 *		one level): for the name itself (SUBTREE and EXACT entries)
 *		and for a parent (SUBTREE and SUBONLY entries).
 *   tags	one record per entry (distinct name, list, match), sorted by
 *		(slot, list, match); read only by domtable_explain().
 *
 * That is 12 / 0.75 = 16 octets of slots per distinct name plus 12 of tag
 * per entry: about 28 octets per entry beyond the name (27.9 measured on
 * the real lists plus a million synthetic names), under the 40 aimed for.
 * Against the suggested node array plus uint32 index (12-octet node and
 * 4-octet index slots at a power-of-two size), folding the node into the
 * slot saves a dependent cache miss per probe and 0 to 10 octets a name.
 *
 * The hash of a name is built label by label from the root, so the hashes
 * of all suffixes of a query name come out of one pass over its octets
 * (right to left over the label offsets) instead of one pass per suffix.
 * The hash is seeded at random per builder, so that a list cannot be
 * crafted to pile its names into one probe run. It is written here (a
 * multiply-xorshift per 8 octets, MurmurHash3's finaliser per label)
 * because no library gives a hash that can be chained over labels.
 *
 * A lookup hashes, then probes each suffix from the name itself up to the
 * root (the root only if it is a name of the table), and stops early once
 * every list that has entries is decided.
 *
 * The builder only appends: the name octets to a growing arena and a
 * 24-octet record per add. domtable_build() then groups equal names with a
 * temporary table of hash bits and record numbers, sizes the final table
 * to the number of distinct names, and fills it in the order the names
 * were added, so that every array but the slots is read and written front
 * to back; the tags are then radix-sorted by slot. That keeps the build at
 * about two cache misses a record (0.4 s for 1.45 million entries).
 */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "domtable.h"

#define DOMTABLE_MAX_NAME	255
#define DOMTABLE_MAX_SUFFIXES	128	/* 127 labels and the root */
#define DOMTABLE_NMATCH		3
#define DOMTABLE_NONE		UINT32_MAX
#define DOMTABLE_MAX_VSETS	((1U << 24) - 1)
#define DOMTABLE_KIND_MASK	0x01	/* of domtable_rec.kind */
#define DOMTABLE_FOLLOWER	0x02	/* a later record of a name */
#define DOMTABLE_K1		0x9e3779b97f4a7c15ULL
#define DOMTABLE_K2		0xff51afd7ed558ccdULL
#define DOMTABLE_K3		0xc4ceb9fe1a85ec53ULL

/* One add, kept by the builder until domtable_build(). */
struct domtable_rec {
	uint64_t	hash;	/* of the name, domtable_name_hash() */
	uint32_t	off;	/* of the name in the builder's arena */
	uint32_t	tag;
	uint32_t	next;	/* in build: next record of the same name */
	uint8_t		len;
	uint8_t		list;
	uint8_t		kind;
	uint8_t		match;
};

struct domtable_builder {
	uint64_t		 seed;
	struct domtable_rec	*recs;
	size_t			 nrecs;
	size_t			 recs_cap;
	uint8_t			*arena;
	size_t			 arena_len;
	size_t			 arena_cap;
};

/* A node; meta 0 (length 0) is an empty slot: no name is shorter than 1. */
struct domtable_slot {
	uint32_t	check;	/* high 32 bits of the hash */
	uint32_t	off;	/* of the name in the arena */
	uint32_t	meta;	/* verdict set << 8 | name length */
};

/* Masks of the lists an entry decides, at offset 0 and at a parent. */
struct domtable_vset {
	uint64_t	blk0;	/* decided BLOCK for the name itself */
	uint64_t	any0;	/* decided at all for the name itself */
	uint64_t	blkp;	/* decided BLOCK for a subdomain */
	uint64_t	anyp;	/* decided at all for a subdomain */
};

/* One entry, for explain. */
struct domtable_tag {
	uint32_t	slot;
	uint32_t	tag;
	uint8_t		list;
	uint8_t		match;
	uint8_t		kind;
};

struct domtable {
	uint64_t		 seed;
	uint64_t		 lists;		/* lists with any entry */
	struct domtable_slot	*slots;
	uint32_t		 nslots;
	size_t			 nnodes;
	uint8_t			*arena;
	size_t			 arena_len;
	struct domtable_vset	*vsets;
	size_t			 nvsets;
	struct domtable_tag	*tags;
	size_t			 ntags;
	int			 has_root;	/* the root name is a node */
};

/* Interning of verdict sets during build. */
struct domtable_vtab {
	struct domtable_vset	*vsets;
	size_t			 nvsets;
	size_t			 cap;
	uint32_t		*idx;		/* vset + 1, 0 empty */
	size_t			 nidx;		/* a power of two */
};

/*
 * domtable_fill() at work: the table, what it is filled from, and the
 * records of the name being placed.
 */
struct domtable_filling {
	struct domtable		*t;
	struct domtable_builder	*b;
	struct domtable_vtab	*vt;
	/* list * 3 + match -> record, DOMTABLE_NONE between names */
	uint32_t		 best[DOMTABLE_MAX_LISTS * DOMTABLE_NMATCH];
	uint32_t		 touched[DOMTABLE_MAX_LISTS * DOMTABLE_NMATCH];
	size_t			 ntouched;	/* keys set in best */
};

static uint64_t	domtable_mix(uint64_t);
static uint64_t	domtable_label_hash(uint64_t, const uint8_t *);
static int	domtable_suffixes(uint64_t, const uint8_t *, size_t,
		    uint8_t *, uint64_t *);
static uint32_t	domtable_home(uint64_t, uint32_t);
static const struct domtable_slot *domtable_find(const struct domtable *,
		    const uint8_t *, size_t, uint64_t);
static int	domtable_grow(void **, size_t *, size_t, size_t);
static int	domtable_group(struct domtable_builder *, size_t *,
		    size_t *);
static int	domtable_fill(struct domtable *, struct domtable_builder *,
		    struct domtable_vtab *);
static void	domtable_pick(struct domtable_filling *, uint32_t);
static void	domtable_resolve(const uint64_t *, const uint64_t *,
		    struct domtable_vset *);
static int	domtable_node(struct domtable_filling *, uint32_t, uint32_t);
static int	domtable_sort_tags(struct domtable *);
static int	domtable_intern(struct domtable_vtab *,
		    const struct domtable_vset *, uint32_t *);

/* MurmurHash3's 64-bit finaliser. */
static uint64_t
domtable_mix(uint64_t h)
{
	h ^= h >> 33;
	h *= DOMTABLE_K2;
	h ^= h >> 33;
	h *= DOMTABLE_K3;
	h ^= h >> 33;
	return (h);
}

/* The hash of the name label.rest, given h, the hash of rest. */
static uint64_t
domtable_label_hash(uint64_t h, const uint8_t *label)
{
	size_t		n = (size_t)label[0] + 1, i, j;
	uint64_t	w;

	/* The length octet is hashed too: labels need no other padding. */
	for (i = 0; i + 8 <= n; i += 8) {
		memcpy(&w, label + i, sizeof w);
		h = (h ^ w) * DOMTABLE_K1;
		h ^= h >> 29;
	}
	if (i < n) {
		w = 0;
		for (j = 0; i + j < n; j++)
			w |= (uint64_t)label[i + j] << (8 * j);
		h = (h ^ w) * DOMTABLE_K1;
		h ^= h >> 29;
	}
	return (domtable_mix(h));
}

/*
 * Find the suffixes of name (len octets): offs[i] is the offset of the
 * i-th suffix (0 = the name, the last = the root) and hashes[i] its hash.
 * Returns the number of suffixes, or -1 if name is not one well-formed
 * wire-form name of exactly len octets.
 */
static int
domtable_suffixes(uint64_t seed, const uint8_t *name, size_t len,
    uint8_t *offs, uint64_t *hashes)
{
	size_t	pos = 0;
	int	n = 0, i;

	if (len == 0 || len > DOMTABLE_MAX_NAME)
		return (-1);
	for (;;) {
		if (pos >= len || n >= DOMTABLE_MAX_SUFFIXES)
			return (-1);
		offs[n++] = (uint8_t)pos;
		if (name[pos] == 0)
			break;
		if (name[pos] > 63)
			return (-1);
		pos += (size_t)name[pos] + 1;
	}
	if (pos != len - 1)
		return (-1);
	hashes[n - 1] = seed;
	for (i = n - 2; i >= 0; i--)
		hashes[i] = domtable_label_hash(hashes[i + 1], name + offs[i]);
	return (n);
}

/* The home slot of a hash in a table of n slots. */
static uint32_t
domtable_home(uint64_t h, uint32_t n)
{
	return ((uint32_t)(((h & 0xffffffffULL) * n) >> 32));
}

/* The slot of name (len octets, hash h), or NULL. */
static const struct domtable_slot *
domtable_find(const struct domtable *t, const uint8_t *name, size_t len,
    uint64_t h)
{
	const struct domtable_slot	*s;
	uint32_t			 i, check = (uint32_t)(h >> 32);

	i = domtable_home(h, t->nslots);
	for (;;) {
		s = &t->slots[i];
		if (s->meta == 0)
			return (NULL);
		if (s->check == check && (s->meta & 0xff) == len &&
		    memcmp(t->arena + s->off, name, len) == 0)
			return (s);
		if (++i == t->nslots)
			i = 0;
	}
}

/* Make room for one more of size octets in *p (of *cap, n used). */
static int
domtable_grow(void **p, size_t *cap, size_t n, size_t size)
{
	size_t	 ncap;
	void	*np;

	if (n < *cap)
		return (0);
	ncap = *cap < 1024 ? 1024 : *cap + *cap / 2;
	if (ncap > SIZE_MAX / size)
		return (-1);
	if ((np = realloc(*p, ncap * size)) == NULL)
		return (-1);
	*p = np;
	*cap = ncap;
	return (0);
}

struct domtable_builder *
domtable_builder_new(void)
{
	struct domtable_builder	*b;

	if ((b = calloc(1, sizeof *b)) == NULL)
		return (NULL);
	/* A fixed seed still works; it only loses the flooding defence. */
	if (getentropy(&b->seed, sizeof b->seed) != 0)
		b->seed = DOMTABLE_K3;
	return (b);
}

void
domtable_builder_free(struct domtable_builder *b)
{
	if (b == NULL)
		return;
	free(b->recs);
	free(b->arena);
	free(b);
}

int
domtable_add(struct domtable_builder *b, const uint8_t *lname,
    size_t name_len, unsigned list, enum domtable_kind kind,
    enum domtable_match match, uint32_t tag)
{
	uint8_t			 offs[DOMTABLE_MAX_SUFFIXES];
	uint64_t		 hashes[DOMTABLE_MAX_SUFFIXES];
	struct domtable_rec	*r;
	void			*p;

	if (list >= DOMTABLE_MAX_LISTS || (unsigned)kind > DOMTABLE_PASS ||
	    (unsigned)match > DOMTABLE_SUBONLY)
		return (-1);
	if (domtable_suffixes(b->seed, lname, name_len, offs, hashes) == -1)
		return (-1);
	if (b->nrecs >= DOMTABLE_NONE - 1 ||
	    b->arena_len + name_len > UINT32_MAX)
		return (-1);

	p = b->recs;
	if (domtable_grow(&p, &b->recs_cap, b->nrecs, sizeof *b->recs) == -1)
		return (-1);
	b->recs = p;
	while (b->arena_len + name_len > b->arena_cap) {
		p = b->arena;
		if (domtable_grow(&p, &b->arena_cap, b->arena_cap, 1) == -1)
			return (-1);
		b->arena = p;
	}

	memcpy(b->arena + b->arena_len, lname, name_len);
	r = &b->recs[b->nrecs++];
	r->hash = hashes[0];
	r->off = (uint32_t)b->arena_len;
	r->tag = tag;
	r->next = DOMTABLE_NONE;
	r->len = (uint8_t)name_len;
	r->list = (uint8_t)list;
	r->kind = (uint8_t)kind;
	r->match = (uint8_t)match;
	b->arena_len += name_len;
	return (0);
}

/*
 * Chain the records of each name behind its first record (the head) and
 * mark the others DOMTABLE_FOLLOWER, using a temporary table of the high
 * hash bits and record numbers (so that most probes read no record).
 * *nheads gets the number of distinct names, *names_len their octets.
 */
static int
domtable_group(struct domtable_builder *b, size_t *nheads,
    size_t *names_len)
{
	struct domtable_rec	*r, *h;
	uint64_t		*idx, check;
	size_t			 nidx = 1, i, j, n = 0, len = 0;

	while (nidx < b->nrecs + b->nrecs / 3 + 1)
		nidx <<= 1;
	if ((idx = calloc(nidx, sizeof *idx)) == NULL)
		return (-1);
	for (i = 0; i < b->nrecs; i++) {
		r = &b->recs[i];
		check = r->hash & 0xffffffff00000000ULL;
		for (j = r->hash & (nidx - 1); idx[j] != 0;
		    j = (j + 1) & (nidx - 1)) {
			if ((idx[j] & 0xffffffff00000000ULL) != check)
				continue;
			h = &b->recs[(idx[j] & 0xffffffff) - 1];
			if (h->hash == r->hash && h->len == r->len &&
			    memcmp(b->arena + h->off, b->arena + r->off,
			    r->len) == 0)
				break;
		}
		if (idx[j] != 0) {
			r->next = h->next;
			h->next = (uint32_t)i;
			r->kind |= DOMTABLE_FOLLOWER;
			continue;
		}
		idx[j] = check | (i + 1);
		n++;
		len += r->len;
	}
	free(idx);
	*nheads = n;
	*names_len = len;
	return (0);
}

/* Intern verdict set v; *id gets its number. */
static int
domtable_intern(struct domtable_vtab *vt, const struct domtable_vset *v,
    uint32_t *id)
{
	struct domtable_vset	*e;
	uint32_t		*nidx;
	uint64_t		 h;
	size_t			 i, j, n;
	void			*p;

	h = domtable_mix(v->blk0 ^ domtable_mix(v->any0 ^
	    domtable_mix(v->blkp ^ domtable_mix(v->anyp))));
	for (i = h & (vt->nidx - 1); vt->idx[i] != 0; i = (i + 1) &
	    (vt->nidx - 1)) {
		e = &vt->vsets[vt->idx[i] - 1];
		if (memcmp(e, v, sizeof *v) == 0) {
			*id = vt->idx[i] - 1;
			return (0);
		}
	}
	if (vt->nvsets >= DOMTABLE_MAX_VSETS)
		return (-1);
	p = vt->vsets;
	if (domtable_grow(&p, &vt->cap, vt->nvsets, sizeof *vt->vsets) == -1)
		return (-1);
	vt->vsets = p;
	vt->vsets[vt->nvsets] = *v;
	*id = (uint32_t)vt->nvsets++;
	vt->idx[i] = *id + 1;

	/* Keep the index at most half full. */
	if (vt->nvsets * 2 < vt->nidx)
		return (0);
	n = vt->nidx * 2;
	if ((nidx = calloc(n, sizeof *nidx)) == NULL)
		return (-1);
	for (i = 0; i < vt->nvsets; i++) {
		e = &vt->vsets[i];
		h = domtable_mix(e->blk0 ^ domtable_mix(e->any0 ^
		    domtable_mix(e->blkp ^ domtable_mix(e->anyp))));
		for (j = h & (n - 1); nidx[j] != 0; j = (j + 1) & (n - 1))
			;
		nidx[j] = (uint32_t)i + 1;
	}
	free(vt->idx);
	vt->idx = nidx;
	vt->nidx = n;
	return (0);
}

/*
 * Pick the records of the name whose first record is head: one per
 * (list, match), a PASS before a BLOCK and then the first added, into
 * f->best, their keys into f->touched in order.
 */
static void
domtable_pick(struct domtable_filling *f, uint32_t head)
{
	struct domtable_rec	*r, *o;
	uint32_t		 i, key;
	size_t			 k, m;
	uint8_t			 kind;

	f->ntouched = 0;
	for (i = head; i != DOMTABLE_NONE; i = r->next) {
		r = &f->b->recs[i];
		key = (uint32_t)r->list * DOMTABLE_NMATCH + r->match;
		if (f->best[key] == DOMTABLE_NONE) {
			f->best[key] = i;
			f->touched[f->ntouched++] = key;
			continue;
		}
		/* Chains run head, then the others newest first. */
		o = &f->b->recs[f->best[key]];
		kind = r->kind & DOMTABLE_KIND_MASK;
		if (kind > (o->kind & DOMTABLE_KIND_MASK) ||
		    (kind == (o->kind & DOMTABLE_KIND_MASK) &&
		    i < f->best[key]))
			f->best[key] = i;
	}

	/* A handful of keys at most: an insertion sort puts them in order. */
	for (k = 1; k < f->ntouched; k++) {
		key = f->touched[k];
		for (m = k; m > 0 && f->touched[m - 1] > key; m--)
			f->touched[m] = f->touched[m - 1];
		f->touched[m] = key;
	}
}

/*
 * The verdict set of a name from the lists its entries block (blk) and
 * pass (pas), per match. PASS beats BLOCK at one level; resolve that
 * here, once.
 */
static void
domtable_resolve(const uint64_t *blk, const uint64_t *pas,
    struct domtable_vset *v)
{
	uint64_t	p0, pp;

	memset(v, 0, sizeof *v);
	p0 = pas[DOMTABLE_SUBTREE] | pas[DOMTABLE_EXACT];
	v->any0 = p0 | blk[DOMTABLE_SUBTREE] | blk[DOMTABLE_EXACT];
	v->blk0 = v->any0 & ~p0;
	pp = pas[DOMTABLE_SUBTREE] | pas[DOMTABLE_SUBONLY];
	v->anyp = pp | blk[DOMTABLE_SUBTREE] | blk[DOMTABLE_SUBONLY];
	v->blkp = v->anyp & ~pp;
}

/*
 * Resolve the records of the name whose first record is head, now in slot
 * s: keep one record per (list, match) (domtable_pick()), append its tags,
 * intern its verdict set. f->best is all DOMTABLE_NONE again after.
 */
static int
domtable_node(struct domtable_filling *f, uint32_t head, uint32_t s)
{
	struct domtable		*t = f->t;
	struct domtable_rec	*r;
	struct domtable_tag	*tg;
	struct domtable_vset	 v;
	uint64_t		 blk[DOMTABLE_NMATCH], pas[DOMTABLE_NMATCH];
	uint64_t		 bit;
	uint32_t		 id;
	size_t			 k;
	uint8_t			 kind;

	domtable_pick(f, head);
	memset(blk, 0, sizeof blk);
	memset(pas, 0, sizeof pas);
	for (k = 0; k < f->ntouched; k++) {
		r = &f->b->recs[f->best[f->touched[k]]];
		f->best[f->touched[k]] = DOMTABLE_NONE;
		kind = r->kind & DOMTABLE_KIND_MASK;
		bit = 1ULL << r->list;
		if (kind == DOMTABLE_PASS)
			pas[r->match] |= bit;
		else
			blk[r->match] |= bit;
		tg = &t->tags[t->ntags++];
		memset(tg, 0, sizeof *tg);
		tg->slot = s;
		tg->tag = r->tag;
		tg->list = r->list;
		tg->match = r->match;
		tg->kind = kind;
	}
	domtable_resolve(blk, pas, &v);
	t->lists |= v.any0 | v.anyp;
	if (domtable_intern(f->vt, &v, &id) == -1)
		return (-1);
	t->slots[s].meta |= id << 8;
	return (0);
}

/*
 * Fill the table from the builder, in the order names were added: the
 * builder's records and arena are read and the table's arena and tags
 * written front to back; only the slot is a random access. Tags then
 * come out in that order, not in slot order (domtable_sort_tags()).
 */
static int
domtable_fill(struct domtable *t, struct domtable_builder *b,
    struct domtable_vtab *vt)
{
	struct domtable_filling	 f;
	struct domtable_slot	*s;
	struct domtable_rec	*r;
	size_t			 nheads, names_len, i;
	uint32_t		 j;

	if (domtable_group(b, &nheads, &names_len) == -1)
		return (-1);
	if (nheads > (size_t)UINT32_MAX / 4 * 3 - 1)
		return (-1);
	t->nnodes = nheads;
	t->nslots = (uint32_t)(nheads + nheads / 3 + 1);
	t->slots = calloc(t->nslots, sizeof *t->slots);
	t->arena = malloc(names_len > 0 ? names_len : 1);
	/* At most one tag a record; what is not used is given back later. */
	t->tags = malloc(b->nrecs > 0 ? b->nrecs * sizeof *t->tags : 1);
	if (t->slots == NULL || t->arena == NULL || t->tags == NULL)
		return (-1);

	f.t = t;
	f.b = b;
	f.vt = vt;
	for (i = 0; i < DOMTABLE_MAX_LISTS * DOMTABLE_NMATCH; i++)
		f.best[i] = DOMTABLE_NONE;
	for (i = 0; i < b->nrecs; i++) {
		r = &b->recs[i];
		if (r->kind & DOMTABLE_FOLLOWER)
			continue;
		j = domtable_home(r->hash, t->nslots);
		while (t->slots[j].meta != 0) {
			if (++j == t->nslots)
				j = 0;
		}
		s = &t->slots[j];
		s->check = (uint32_t)(r->hash >> 32);
		s->off = (uint32_t)t->arena_len;
		s->meta = r->len;
		memcpy(t->arena + t->arena_len, b->arena + r->off, r->len);
		t->arena_len += r->len;
		if (r->len == 1)
			t->has_root = 1;
		if (domtable_node(&f, (uint32_t)i, j) == -1)
			return (-1);
	}
	return (0);
}

/*
 * Sort the tags by slot (then list and match, already in order within a
 * name): a stable radix sort on the slot, 16 bits a pass.
 */
static int
domtable_sort_tags(struct domtable *t)
{
	struct domtable_tag	*tmp, *from, *to, *sw;
	size_t			*count, i, sum, c;
	unsigned		 shift;

	if (t->ntags < 2)
		return (0);
	tmp = malloc(t->ntags * sizeof *tmp);
	count = malloc(65536 * sizeof *count);
	if (tmp == NULL || count == NULL) {
		free(tmp);
		free(count);
		return (-1);
	}
	from = t->tags;
	to = tmp;
	for (shift = 0; shift < 32; shift += 16) {
		if (shift > 0 && t->nslots <= 65536)
			break;
		memset(count, 0, 65536 * sizeof *count);
		for (i = 0; i < t->ntags; i++)
			count[(from[i].slot >> shift) & 0xffff]++;
		for (i = 0, sum = 0; i < 65536; i++) {
			c = count[i];
			count[i] = sum;
			sum += c;
		}
		for (i = 0; i < t->ntags; i++)
			to[count[(from[i].slot >> shift) & 0xffff]++] = from[i];
		sw = from;
		from = to;
		to = sw;
	}
	if (from != t->tags)
		memcpy(t->tags, from, t->ntags * sizeof *t->tags);
	free(tmp);
	free(count);
	return (0);
}

struct domtable *
domtable_build(struct domtable_builder *b)
{
	struct domtable		*t;
	struct domtable_vtab	 vt;
	void			*p;

	if (b == NULL)
		return (NULL);
	memset(&vt, 0, sizeof vt);
	if ((t = calloc(1, sizeof *t)) == NULL)
		goto fail;
	t->seed = b->seed;
	vt.nidx = 64;
	if ((vt.idx = calloc(vt.nidx, sizeof *vt.idx)) == NULL)
		goto fail;
	if (domtable_fill(t, b, &vt) == -1)
		goto fail;
	free(vt.idx);
	vt.idx = NULL;
	domtable_builder_free(b);
	b = NULL;

	/* Give back what the growing arrays over-allocated. */
	t->vsets = vt.vsets;
	t->nvsets = vt.nvsets;
	vt.vsets = NULL;
	if (t->nvsets > 0 &&
	    (p = realloc(t->vsets, t->nvsets * sizeof *t->vsets)) != NULL)
		t->vsets = p;
	if (t->ntags > 0 &&
	    (p = realloc(t->tags, t->ntags * sizeof *t->tags)) != NULL)
		t->tags = p;
	if (domtable_sort_tags(t) == -1)
		goto fail;
	return (t);

fail:
	free(vt.idx);
	free(vt.vsets);
	domtable_free(t);
	domtable_builder_free(b);
	return (NULL);
}

void
domtable_free(struct domtable *t)
{
	if (t == NULL)
		return;
	free(t->slots);
	free(t->arena);
	free(t->vsets);
	free(t->tags);
	free(t);
}

uint64_t
domtable_match(const struct domtable *t, const uint8_t *lname,
    size_t name_len)
{
	const struct domtable_slot	*s;
	const struct domtable_vset	*v;
	uint8_t				 offs[DOMTABLE_MAX_SUFFIXES];
	uint64_t			 hashes[DOMTABLE_MAX_SUFFIXES];
	uint64_t			 decided = 0, result = 0;
	int				 n, i;

	if (t == NULL || t->lists == 0)
		return (0);
	n = domtable_suffixes(t->seed, lname, name_len, offs, hashes);
	if (n == -1)
		return (0);
	if (!t->has_root)
		n--;
	/*
	 * From the name to its parents: the first level that has an entry
	 * of a list decides that list. Stop once every list is decided.
	 */
	for (i = 0; i < n; i++) {
		s = domtable_find(t, lname + offs[i], name_len - offs[i],
		    hashes[i]);
		if (s == NULL)
			continue;
		v = &t->vsets[s->meta >> 8];
		if (i == 0) {
			result |= v->blk0 & ~decided;
			decided |= v->any0;
		} else {
			result |= v->blkp & ~decided;
			decided |= v->anyp;
		}
		if (decided == t->lists)
			break;
	}
	return (result);
}

int
domtable_explain(const struct domtable *t, const uint8_t *lname,
    size_t name_len, unsigned list, struct domtable_hit *hit)
{
	const struct domtable_slot	*s = NULL;
	const struct domtable_vset	*v;
	const struct domtable_tag	*tg, *pick;
	uint8_t				 offs[DOMTABLE_MAX_SUFFIXES];
	uint64_t			 hashes[DOMTABLE_MAX_SUFFIXES], bit;
	uint32_t			 slot;
	size_t				 lo, hi, mid;
	int				 n, i;
	uint8_t				 other;

	if (t == NULL || list >= DOMTABLE_MAX_LISTS)
		return (-1);
	bit = 1ULL << list;
	if ((t->lists & bit) == 0)
		return (-1);
	n = domtable_suffixes(t->seed, lname, name_len, offs, hashes);
	if (n == -1)
		return (-1);
	for (i = 0; i < n; i++) {
		s = domtable_find(t, lname + offs[i], name_len - offs[i],
		    hashes[i]);
		if (s == NULL)
			continue;
		v = &t->vsets[s->meta >> 8];
		if (((i == 0 ? v->any0 : v->anyp) & bit) != 0)
			break;
	}
	if (i == n || s == NULL)
		return (-1);

	/* The first tag of (slot, list); then up to three matches. */
	slot = (uint32_t)(s - t->slots);
	lo = 0;
	hi = t->ntags;
	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		tg = &t->tags[mid];
		if (tg->slot < slot || (tg->slot == slot && tg->list < list))
			lo = mid + 1;
		else
			hi = mid;
	}
	/* Of the entries that apply here, a PASS, then the narrower one. */
	other = i == 0 ? DOMTABLE_EXACT : DOMTABLE_SUBONLY;
	pick = NULL;
	for (; lo < t->ntags; lo++) {
		tg = &t->tags[lo];
		if (tg->slot != slot || tg->list != list)
			break;
		if (tg->match != DOMTABLE_SUBTREE && tg->match != other)
			continue;
		if (pick == NULL || tg->kind > pick->kind ||
		    (tg->kind == pick->kind && tg->match == other))
			pick = tg;
	}
	if (pick == NULL)
		return (-1);
	hit->suffix_off = offs[i];
	hit->kind = (enum domtable_kind)pick->kind;
	hit->match = (enum domtable_match)pick->match;
	hit->tag = pick->tag;
	return (0);
}

size_t
domtable_entries(const struct domtable *t)
{
	return (t == NULL ? 0 : t->ntags);
}

size_t
domtable_bytes(const struct domtable *t)
{
	if (t == NULL)
		return (0);
	return (sizeof *t + (size_t)t->nslots * sizeof *t->slots +
	    t->arena_len + t->nvsets * sizeof *t->vsets +
	    t->ntags * sizeof *t->tags);
}
