/*
 * domtable.c: domain names compiled into one immutable suffix table.
 *
 * Layout of a built table (all flat arrays, no pointers between them):
 *
 *   slots	an open-addressing hash table of 12-octet records
 *		{check, check2, verdict set << 8 | name length}, linear
 *		probing, load at most 0.75. The slot count is not a power of
 *		two: the home slot is (low 32 hash bits * nslots) >> 32, so
 *		the table is sized to the names, not to the next power of two
 *		(which would waste up to half of it). A node IS its slot:
 *		there is no separate node array, and no name either (below).
 *   vsets	the distinct verdict sets. Nearly all names share a few
 *		combinations of {list, kind, match}; a set holds the four
 *		masks the walk needs, already resolved (PASS beats BLOCK at
 *		one level): for the name itself (SUBTREE and EXACT entries)
 *		and for a parent (SUBTREE and SUBONLY entries).
 *   ents	one 64-bit word per entry (distinct name, list, match):
 *		slot << 36 | list << 30 | match << 28 | block << 27 | tag,
 *		sorted, so that a name's entries of one list are found by a
 *		binary search; read only by domtable_explain().
 *
 * That is 12 / 0.75 = 16 octets of slots per distinct name plus 8 per
 * entry: about 24 octets per entry, the name included (24.0 measured on
 * the real lists plus a million synthetic names). The first version kept
 * each name once in an arena (21 octets a name on average) and 12-octet
 * entries: 49 octets per entry; a million names then took more memory
 * than everything else in the daemon together, and a reload, which holds
 * the old table and the new one, twice that.
 *
 * A name is known by its hash instead: 96 bits of two hash lanes, of
 * which the low 32 bits of the first pick the home slot and the other 64
 * are kept as check and check2, with the length. A probe compares those
 * 64 bits and the length, so two names are taken for each other only
 * when 64 bits that have nothing to do with where they sit agree: about
 * 2^-64 per slot compared. A query compares some 9 slots a suffix (the
 * mean of an unsuccessful search at load 0.75) and walks a few suffixes;
 * at 100,000 queries a second that is one wrong verdict in some 100,000
 * years, whatever the size of the table, and only a name that nobody
 * chose: the seeds of the lanes are drawn at random when the process
 * makes its first builder and never leave it, so that a list cannot be
 * crafted to pile its names into one probe run, nor a name to pass for
 * another. All tables share them, so that a query name is hashed once
 * for all the tables it is looked up in (struct domtable_key): with a
 * seed per table, hashing took a third of the instructions of a cache
 * hit (five tables a question). Each table still places the names its
 * own way (the home slot scales the hash to its own size).
 *
 * The hash of a name is built label by label from the root, so the hashes
 * of all suffixes of a query name come out of one pass over its octets
 * (right to left over the label offsets) instead of one pass per suffix.
 * It is written here (a multiply-xorshift per 8 octets in each lane,
 * MurmurHash3's finaliser per label) because no library gives a hash
 * that can be chained over labels. The name is copied first to a buffer
 * with room after it, so that the last octets of a label are one load
 * and a mask rather than a loop.
 *
 * A lookup hashes (once per key), asks for the home slot of every suffix
 * at once when the table is larger than the first-level caches, so that
 * their cache misses overlap, then probes each suffix from the name
 * itself up to the root (the root only if it is a name of the table), and
 * stops early once every list that has entries is decided.
 *
 * The builder is the table being filled: an add hashes the name, finds
 * or takes its slot and appends one entry word. Its slots are the
 * table's, 12 octets, with the name's home bits (the 24 that place it,
 * domtable_home()) where the table keeps the verdict set, so that a name
 * can move when the table grows; the verdict set replaces them when it is
 * built. (They were a field of their own, 16-octet slots: a table
 * compiled anew beside the one in force then held 1.85x the steady
 * memory of a million names at its peak, 1.70x now.)
 * domtable_builder_reserve() sizes the
 * slots once for the names to come (the policy counts the lines of the
 * list files first), so that they are not copied while they grow;
 * without it they double, and the build shrinks them to the names it got
 * when they are more than an eighth over what is needed. Building sorts
 * the entries in place (bucket passes on the slot, then each bucket
 * sorted alone), keeps one entry per (name, list, match), and sets each
 * slot's verdict set; the bucket counts are all the memory it takes
 * beside the table. A million names so take 24 MiB at the peak of their
 * build and 24 MiB built; the first version took 95 and 49.
 *
 * A reload that reads the same names again (a list downloaded anew, with
 * other comments or line numbers) need not build their slots again: a
 * builder of domtable_builder_like() finds each name in the slots of the
 * table in force, and the table built shares them and the verdict sets,
 * with entry words of its own (the tags are new). The check is the
 * table's own: every name came, none is missing, and each name's
 * resolved verdict set is the one it had. A million names so take 8 MiB
 * beside the table in force instead of 24, and the workers go on reading
 * the slots they had in their caches.
 *
 * Lists change a little every day, and a reload that compiled a million
 * names anew for a few hundred that changed held 1.84x the steady memory
 * at its peak. A table built like another so shares its slots whatever
 * the names, with an overlay (struct domtable_over) of those that differ:
 * a small table of its own of the names the slots lack (added), and the
 * fixes, a hash of slot numbers to the verdict set a name of the slots
 * has now (the empty one for a name gone). A fix is keyed by the slot
 * because the slots keep no home bits, so a name of the slots cannot be
 * placed in another table; the added names, hashed as they are read, can.
 * A lookup probes the slots as before, then the fixes when a name was
 * found (rare on the hot path), or, when it was not, a filter of a bit
 * for each added name (domtable_sieve()) and the added names only when
 * their bit is set. A table without an overlay never asks (the walk is
 * compiled twice, with and without), and only a large table may have
 * one, so that the small tables of boards and canaries, looked up on
 * every query, pay nothing (build/hitpath: the same instruction counts).
 * With one of 1 % of a million names, a lookup takes 3.7 % more
 * instructions and some 6 % more time (build/overlay), for as long as
 * the overlay stands. A reload of a million names with 1 % replaced so
 * peaks at 1.25x, the overlay some 50 octets a name replaced.
 * Overlays are always against the slots, never against another overlay:
 * a table built like an overlaid one finds the same slots, and its
 * overlay holds every change since they were compiled (a name replaced
 * counts twice: one gone, one added). When that is more than an eighth
 * of their names, the reload compiles the names anew (and holds twice
 * the table at its peak), so that lookups do not carry a large overlay
 * for long, nor the slots of many names gone. Whether that is so is
 * best known before either table is built: domtable_slotted() and
 * domtable_like_worth() let the caller (listset.c) judge from a sample
 * of its names, and read its lists once.
 */
#include <endian.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "domtable.h"
#include "huge.h"

#define DOMTABLE_MAX_NAME	255
#define DOMTABLE_NMATCH		3
#define DOMTABLE_MAX_VSETS	((1U << 24) - 1)
#define DOMTABLE_MAX_SLOTS	((1U << 28) - 1)
#define DOMTABLE_MIN_SLOTS	4
#define DOMTABLE_FAN		256	/* buckets of the sort's first pass */
#define DOMTABLE_PENDING	8	/* adds in flight to their slots */
#define DOMTABLE_PREFETCH	4096	/* slots (48 KiB): prefetch above */
#define DOMTABLE_OVER_SHARE	8	/* overlays: 1/8 of the names at most */
#define DOMTABLE_K1		0x9e3779b97f4a7c15ULL
#define DOMTABLE_K2		0xff51afd7ed558ccdULL
#define DOMTABLE_K3		0xc4ceb9fe1a85ec53ULL
#define DOMTABLE_K4		0xd6e8feb86659fd93ULL

/* The fields of an entry word; the order of the fields is its sort. */
#define DOMTABLE_E_SLOT(e)	((uint32_t)((e) >> 36))
#define DOMTABLE_E_LIST(e)	((unsigned)((e) >> 30) & 0x3f)
#define DOMTABLE_E_MATCH(e)	((unsigned)((e) >> 28) & 0x3)
#define DOMTABLE_E_BLOCK	(1ULL << 27)	/* else PASS: PASS first */
#define DOMTABLE_E_TAG(e)	((uint32_t)(e) & DOMTABLE_MAX_TAG)
#define DOMTABLE_E_KEY(e)	((e) >> 28)	/* slot, list and match */

/* A node; meta 0 (length 0) is an empty slot: no name is shorter than 1. */
struct domtable_slot {
	uint32_t	check;	/* high 32 bits of hash lane a */
	uint32_t	check2;	/* low 32 bits of hash lane b */
	uint32_t	meta;	/* verdict set << 8 | name length */
};

/* Masks of the lists an entry decides, at offset 0 and at a parent. */
struct domtable_vset {
	uint64_t	blk0;	/* decided BLOCK for the name itself */
	uint64_t	any0;	/* decided at all for the name itself */
	uint64_t	blkp;	/* decided BLOCK for a subdomain */
	uint64_t	anyp;	/* decided at all for a subdomain */
};

struct domtable {
	uint64_t		 lists;		/* lists with any entry */
	struct domtable_slot	*slots;
	uint32_t		 nslots;
	size_t			 nnodes;
	struct domtable_vset	*vsets;
	size_t			 nvsets;
	uint64_t		*ents;		/* sorted */
	size_t			 nents;
	uint64_t		 depths;	/* bit d: a name of d labels
						   (63: 63 or more) */
	uint64_t		 lens;		/* bit l: a name of l (mod
						   64) octets */
	/*
	 * Tables of domtable_build_like() share slots and vsets: the count
	 * of tables that hold them, NULL while this one alone does.
	 */
	unsigned		*shared;
	/* Where this table's names differ from its slots', or NULL. */
	struct domtable_over	*over;
};

/*
 * The overlay of a table built like another whose names were not all
 * the same (domtable_build_like()): the names of the shared slots whose
 * verdict set is now another (none, for a name gone), and a table of its
 * own of the names the slots lack. ents (the table's) hold the entries
 * of the names in the slots; delta's those of the others. Always against
 * the slots themselves, never against another overlay: a table built
 * like an overlaid one has an overlay of its own on the same slots.
 */
struct domtable_over {
	struct domtable		*delta;		/* names not in the slots, or
						   NULL */
	uint64_t		*filter;	/* a bit for each of delta's
						   names (domtable_sieve()) */
	unsigned		 fshift;	/* 64 - log2 of its bits */
	uint64_t		*fix;		/* (slot + 1) << 32 | set in
						   vsets; 0 empty; at most
						   half full */
	uint32_t		 fixmask;	/* slots of fix - 1 */
	size_t			 nfix;
	struct domtable_vset	*vsets;		/* the sets fix gives */
	size_t			 nvsets;
	uint64_t		 depths;	/* the slots' own depths and */
	uint64_t		 lens;		/* lens (the table's: and
						   delta's) */
};

/* An add whose slot is being fetched: the name, and its entry's bits. */
struct domtable_pending {
	struct domtable_slot	 name;		/* meta: home << 8 | len */
	uint64_t		 ent;		/* without the slot */
	unsigned		 labels;	/* of the name */
};

/* The slots and entries of a table being filled. */
struct domtable_builder {
	struct domtable_slot	*slots;		/* meta: home << 8 | len */
	uint32_t		 nslots;
	size_t			 nnodes;
	uint64_t		*ents;		/* in the order added */
	size_t			 nents;
	size_t			 ents_cap;
	uint64_t		 depths;	/* as the table's */
	uint64_t		 lens;
	/*
	 * Of domtable_builder_like(): the table whose slots are taken, and
	 * a builder of the names they lack (NULL until one comes); more
	 * than limit names (an eighth of the slots') and the builder is
	 * diverged.
	 */
	struct domtable		*like;
	struct domtable_builder	*delta;
	size_t			 limit;
	int			 diverged;
	/* Adds waiting for their home slot (a ring, oldest at head). */
	struct domtable_pending	 pend[DOMTABLE_PENDING];
	unsigned		 pend_head;
	unsigned		 npend;
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
 * The seeds of hash lanes a and b for every table of the process: set
 * once by the first domtable_builder_new(), before any table exists (and
 * so before any lookup hashes), and never changed.
 */
static uint64_t		domtable_seed[2];
static pthread_once_t	domtable_seed_once = PTHREAD_ONCE_INIT;

static void	domtable_seed_init(void);
static uint64_t	domtable_mix(uint64_t);
static void	domtable_label_hash(struct domtable_hash *,
		    const struct domtable_hash *, const uint8_t *);
static int	domtable_suffixes(const uint8_t *, size_t, uint8_t *,
		    struct domtable_hash *);
static int	domtable_key_hash(struct domtable_key *);
static uint32_t	domtable_home(uint64_t, uint32_t);
static uint64_t	domtable_bit(size_t);
static uint64_t	domtable_depths(const struct domtable *,
		    const struct domtable_key *);
static inline int domtable_next(const struct domtable *,
		    const struct domtable_key *, uint64_t *, int);
static const struct domtable_slot *domtable_find(const struct domtable *,
		    size_t, const struct domtable_hash *);
static int	domtable_grow(void **, size_t *, size_t, size_t);
static size_t	domtable_nslots(size_t);
static int	domtable_resize(struct domtable_builder *, size_t);
static void	domtable_place(struct domtable_builder *,
		    const struct domtable_pending *);
static void	domtable_flush(struct domtable_builder *);
static int	domtable_push(struct domtable_builder *,
		    const struct domtable_pending *);
static size_t	domtable_like_limit(const struct domtable *);
static void	domtable_place_delta(struct domtable_builder *,
		    const struct domtable_pending *);
static void	domtable_sift(uint64_t *, size_t, size_t);
static void	domtable_sort_bucket(uint64_t *, size_t);
static void	domtable_deal(uint64_t *, size_t, uint64_t, size_t, size_t,
		    size_t *, size_t *);
static int	domtable_sort(struct domtable_builder *);
struct domtable_fixes;
static int	domtable_settle(struct domtable *, struct domtable_vtab *,
		    const struct domtable *, struct domtable_fixes *);
static void	domtable_pack(struct domtable *, struct domtable_builder *);
static int	domtable_intern(struct domtable_vtab *,
		    const struct domtable_vset *, uint32_t *);
static void	domtable_resolve(const uint64_t *, const uint64_t *,
		    struct domtable_vset *);

/* Draw the seeds. */
static void
domtable_seed_init(void)
{
	/* A fixed seed still works; it only loses the flooding defence. */
	if (getentropy(domtable_seed, sizeof domtable_seed) != 0) {
		domtable_seed[0] = DOMTABLE_K3;
		domtable_seed[1] = DOMTABLE_K4;
	}
}

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

/*
 * The hash *h of the name label.rest, given *rest, the hash of rest. At
 * least 7 octets must be readable after the label (their values do not
 * matter).
 */
static void
domtable_label_hash(struct domtable_hash *h, const struct domtable_hash *rest,
    const uint8_t *label)
{
	size_t		n = (size_t)label[0] + 1, i;
	uint64_t	a = rest->a, b = rest->b, w;

	/*
	 * The length octet is hashed too: labels need no other padding.
	 * The lanes differ in multiplier and shift and are seeded apart.
	 * Words are little-endian, the octets of a short last word the low
	 * ones.
	 */
	for (i = 0; i + 8 <= n; i += 8) {
		memcpy(&w, label + i, sizeof w);
		w = le64toh(w);
		a = (a ^ w) * DOMTABLE_K1;
		a ^= a >> 29;
		b = (b ^ w) * DOMTABLE_K4;
		b ^= b >> 31;
	}
	if (i < n) {
		memcpy(&w, label + i, sizeof w);
		w = le64toh(w) & (~0ULL >> (64 - 8 * (n - i)));
		a = (a ^ w) * DOMTABLE_K1;
		a ^= a >> 29;
		b = (b ^ w) * DOMTABLE_K4;
		b ^= b >> 31;
	}
	h->a = domtable_mix(a);
	h->b = domtable_mix(b);
}

/*
 * Find the suffixes of name (len octets): offs[i] is the offset of the
 * i-th suffix (0 = the name, the last = the root) and hashes[i] its hash.
 * Returns the number of suffixes, or -1 if name is not one well-formed
 * wire-form name of exactly len octets.
 */
static int
domtable_suffixes(const uint8_t *name, size_t len, uint8_t *offs,
    struct domtable_hash *hashes)
{
	uint8_t	buf[DOMTABLE_MAX_NAME + 8];	/* the name, room after */
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
	memcpy(buf, name, len);
	memset(buf + len, 0, 8);
	hashes[n - 1].a = domtable_seed[0];
	hashes[n - 1].b = domtable_seed[1];
	for (i = n - 2; i >= 0; i--)
		domtable_label_hash(&hashes[i], &hashes[i + 1], buf + offs[i]);
	return (n);
}

/* The number of suffixes of k's name, hashed now if not yet; or -1. */
static int
domtable_key_hash(struct domtable_key *k)
{
	if (k->n == 0)
		k->n = domtable_suffixes(k->lname, k->len, k->offs, k->hashes);
	return (k->n);
}

/*
 * The home slot of a hash in a table of n slots: the top 24 of its low 32
 * bits, scaled. 24 bits, so that a builder's slot keeps them (and can
 * move) in its meta, where the table keeps the verdict set: all of the
 * low 32 bits took a slot of 16 octets while building. Up to 2^24 slots
 * (12 million names) every slot is a home as before; above, every
 * (n / 2^24)-th.
 */
static uint32_t
domtable_home(uint64_t h, uint32_t n)
{
	return ((uint32_t)(((h & 0xffffff00ULL) * n) >> 32));
}

/* The bit of depths for a name of d labels. */
static uint64_t
domtable_bit(size_t d)
{
	return (1ULL << (d < 63 ? d : 63));
}

/*
 * The suffixes of k that t may hold for their number of labels: bit d
 * for the suffix of d labels (the root 0, k itself k->n - 1). 0 for a
 * name of 64 labels or more: domtable_next() walks those one by one.
 */
static uint64_t
domtable_depths(const struct domtable *t, const struct domtable_key *k)
{
	return (k->n > 64 ? 0 : t->depths & (~0ULL >> (64 - k->n)));
}

/*
 * The next suffix of k, from the name towards the root, that t may hold:
 * one of as many labels (*m, from domtable_depths(), loses its bit) and
 * as many octets (mod 64); k->n when there is none. from is where to
 * go on, for a name of 64 labels or more only. Most tables are small (a
 * board's allow and deny names, the canaries, the safe-search hosts), and
 * this skips nearly every probe of a query in them for a few
 * instructions; the root is probed only in a table that holds it.
 */
static inline int
domtable_next(const struct domtable *t, const struct domtable_key *k,
    uint64_t *m, int from)
{
	int	d, i;

	if (k->n > 64) {
		for (i = from; i < k->n; i++) {
			if ((t->depths & domtable_bit((size_t)(k->n - 1 - i))) &&
			    ((t->lens >> ((k->len - k->offs[i]) & 63)) & 1))
				break;
		}
		return (i);
	}
	while (*m != 0) {
		d = 63 - __builtin_clzll(*m);
		*m &= ~(1ULL << d);
		i = k->n - 1 - d;
		if ((t->lens >> ((k->len - k->offs[i]) & 63)) & 1)
			return (i);
	}
	return (k->n);
}

/* The slot of the name of len octets and hash h, or NULL. */
static const struct domtable_slot *
domtable_find(const struct domtable *t, size_t len,
    const struct domtable_hash *h)
{
	const struct domtable_slot	*s;
	uint32_t			 i, check = (uint32_t)(h->a >> 32);
	uint32_t			 check2 = (uint32_t)h->b;

	i = domtable_home(h->a, t->nslots);
	for (;;) {
		s = &t->slots[i];
		if (s->meta == 0)
			return (NULL);
		if (s->check == check && s->check2 == check2 &&
		    (s->meta & 0xff) == len)
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
	ncap = *cap < 64 ? 64 : *cap + *cap / 2;
	if (ncap > SIZE_MAX / size)
		return (-1);
	if ((np = realloc(*p, ncap * size)) == NULL)
		return (-1);
	*p = np;
	*cap = ncap;
	return (0);
}

/* The slot count for n names: load at most 0.75, one slot always empty. */
static size_t
domtable_nslots(size_t n)
{
	size_t	ns = n + n / 3 + 1;

	return (ns < DOMTABLE_MIN_SLOTS ? DOMTABLE_MIN_SLOTS : ns);
}

/*
 * Move the builder's names to nslots slots. The entries name their slot,
 * so each old slot's meta says for a while where its name went, and the
 * entries are then renumbered in one pass.
 */
static int
domtable_resize(struct domtable_builder *b, size_t nslots)
{
	struct domtable_slot	*ns, *o;
	uint32_t		 i, j;
	size_t			 k;

	if (nslots > DOMTABLE_MAX_SLOTS || nslots <= b->nnodes)
		return (-1);
	if ((ns = calloc(nslots, sizeof *ns)) == NULL)
		return (-1);
	huge_advise(ns, nslots * sizeof *ns);
	for (i = 0; i < b->nslots; i++) {
		o = &b->slots[i];
		if (o->meta == 0)
			continue;
		j = domtable_home(o->meta & ~0xffU, (uint32_t)nslots);
		while (ns[j].meta != 0) {
			if (++j == nslots)
				j = 0;
		}
		ns[j] = *o;
		o->meta = j;
	}
	for (k = 0; k < b->nents; k++) {
		i = DOMTABLE_E_SLOT(b->ents[k]);
		b->ents[k] = (b->ents[k] & ((1ULL << 36) - 1)) |
		    (uint64_t)b->slots[i].meta << 36;
	}
	free(b->slots);
	b->slots = ns;
	b->nslots = (uint32_t)nslots;
	return (0);
}

struct domtable_builder *
domtable_builder_new(void)
{
	struct domtable_builder	*b;

	if (pthread_once(&domtable_seed_once, domtable_seed_init) != 0 ||
	    (b = calloc(1, sizeof *b)) == NULL)
		return (NULL);
	b->nslots = DOMTABLE_MIN_SLOTS;
	if ((b->slots = calloc(b->nslots, sizeof *b->slots)) == NULL) {
		free(b);
		return (NULL);
	}
	return (b);
}

void
domtable_builder_free(struct domtable_builder *b)
{
	if (b == NULL)
		return;
	domtable_builder_free(b->delta);
	free(b->slots);
	free(b->ents);
	free(b);
}

int
domtable_builder_reserve(struct domtable_builder *b, size_t names)
{
	size_t	 want;
	void	*p;

	domtable_flush(b);
	if (names > DOMTABLE_MAX_SLOTS - b->nnodes)
		return (-1);
	want = domtable_nslots(b->nnodes + names);
	if (b->like == NULL && want > b->nslots &&
	    domtable_resize(b, want) == -1)
		return (-1);
	/* Most names have one entry: as many entry words. */
	if (b->nents + names > b->ents_cap) {
		if ((p = reallocarray(b->ents, b->nents + names,
		    sizeof *b->ents)) == NULL)
			return (-1);
		b->ents = p;
		huge_advise((uint64_t *)p + b->nents,
		    names * sizeof *b->ents);
		b->ents_cap = b->nents + names;
	}
	return (0);
}

/*
 * A builder like another: the add pd of a name its slots lack goes to
 * the builder of such names, or, past the limit or when that cannot be
 * had, the builder is diverged.
 */
static void
domtable_place_delta(struct domtable_builder *b,
    const struct domtable_pending *pd)
{
	struct domtable_builder	*d = b->delta;

	if (d == NULL && (d = b->delta = domtable_builder_new()) == NULL)
		b->diverged = 1;
	else if (d->nents + d->npend >= b->limit || domtable_push(d, pd) == -1)
		b->diverged = 1;
}

/*
 * Find or take the slot of a pending add, and append its entry. A builder
 * of domtable_builder_like() finds the name among like's slots, or gives
 * it to its delta builder; past the limit (or when the delta cannot be
 * had) it marks itself diverged.
 */
static void
domtable_place(struct domtable_builder *b, const struct domtable_pending *pd)
{
	const struct domtable_slot	*n = &pd->name, *ls;
	struct domtable_slot		*s;
	uint32_t			 i;

	i = domtable_home(n->meta & ~0xffU, b->nslots);
	if (b->like != NULL) {
		for (;; i = i + 1 == b->nslots ? 0 : i + 1) {
			ls = &b->like->slots[i];
			if (ls->meta == 0) {
				domtable_place_delta(b, pd);
				return;
			}
			if (ls->check == n->check && ls->check2 == n->check2 &&
			    (ls->meta & 0xff) == (n->meta & 0xff))
				break;
		}
		b->ents[b->nents++] = (uint64_t)i << 36 | pd->ent;
		return;
	}
	for (;; i = i + 1 == b->nslots ? 0 : i + 1) {
		s = &b->slots[i];
		if (s->meta == 0) {
			*s = pd->name;
			b->nnodes++;
			break;
		}
		if (s->check == n->check && s->check2 == n->check2 &&
		    s->meta == n->meta)
			break;
	}
	b->ents[b->nents++] = (uint64_t)i << 36 | pd->ent;
}

/* Place every pending add, oldest first. */
static void
domtable_flush(struct domtable_builder *b)
{
	for (; b->npend > 0; b->npend--) {
		domtable_place(b, &b->pend[b->pend_head]);
		b->pend_head = (b->pend_head + 1) % DOMTABLE_PENDING;
	}
	if (b->delta != NULL)
		domtable_flush(b->delta);
}

/*
 * Queue the add pd, whose name is hashed, and ask for its home slot; the
 * oldest add in the queue is placed if it is full. Returns 0, or -1 on
 * allocation failure or when the builder is diverged.
 */
static int
domtable_push(struct domtable_builder *b, const struct domtable_pending *pd)
{
	size_t		 more;
	uint32_t	 home;
	void		*p;

	/* Room for this add and the pending ones, names and entries. */
	more = b->npend + 1;
	while (b->nents + more > b->ents_cap) {
		p = b->ents;
		if (domtable_grow(&p, &b->ents_cap, b->ents_cap,
		    sizeof *b->ents) == -1)
			return (-1);
		b->ents = p;
	}
	if (b->like == NULL && domtable_nslots(b->nnodes + more) > b->nslots) {
		/* Double, as reserve was not told: the names move. */
		domtable_flush(b);
		if (domtable_resize(b, domtable_nslots(b->nnodes * 2 + 1)) ==
		    -1)
			return (-1);
	}

	if (b->npend == DOMTABLE_PENDING) {
		domtable_place(b, &b->pend[b->pend_head]);
		b->pend_head = (b->pend_head + 1) % DOMTABLE_PENDING;
		b->npend--;
		if (b->diverged)
			return (-1);
	}
	b->pend[(b->pend_head + b->npend++) % DOMTABLE_PENDING] = *pd;
	b->depths |= domtable_bit(pd->labels);
	b->lens |= 1ULL << (pd->name.meta & 63);
	home = domtable_home(pd->name.meta & ~0xffU, b->nslots);
	if (b->like != NULL)
		__builtin_prefetch(&b->like->slots[home], 0);
	else
		__builtin_prefetch(&b->slots[home], 1);
	return (0);
}

/*
 * An add hashes the name and asks for its home slot, then places the add
 * of DOMTABLE_PENDING adds before, whose slot has come meanwhile: in a
 * table larger than the caches nearly every slot is a cache miss, and
 * this way they overlap instead of taking turns: veiligd -n with a
 * million names took 0.34 CPU-seconds so, 0.52 with each add waiting for
 * its own slot (8 in flight did as well as 16 or 4).
 */
int
domtable_add(struct domtable_builder *b, const uint8_t *lname,
    size_t name_len, unsigned list, enum domtable_kind kind,
    enum domtable_match match, uint32_t tag)
{
	uint8_t			 offs[DOMTABLE_MAX_SUFFIXES];
	struct domtable_hash	 hashes[DOMTABLE_MAX_SUFFIXES];
	struct domtable_pending	 pd;
	int			 n;

	if (list >= DOMTABLE_MAX_LISTS || (unsigned)kind > DOMTABLE_PASS ||
	    (unsigned)match > DOMTABLE_SUBONLY || tag > DOMTABLE_MAX_TAG)
		return (-1);
	if (b->diverged ||
	    (n = domtable_suffixes(lname, name_len, offs, hashes)) == -1)
		return (-1);
	pd.name.check = (uint32_t)(hashes[0].a >> 32);
	pd.name.check2 = (uint32_t)hashes[0].b;
	pd.name.meta = ((uint32_t)hashes[0].a & ~0xffU) | (uint32_t)name_len;
	pd.ent = (uint64_t)list << 30 | (uint64_t)match << 28 |
	    (kind == DOMTABLE_BLOCK ? DOMTABLE_E_BLOCK : 0) | tag;
	pd.labels = (unsigned)n - 1;
	return (domtable_push(b, &pd));
}

/* Sift a[root] down the heap a[0..end). */
static void
domtable_sift(uint64_t *a, size_t root, size_t end)
{
	size_t		child;
	uint64_t	v;

	while ((child = 2 * root + 1) < end) {
		if (child + 1 < end && a[child] < a[child + 1])
			child++;
		if (a[root] >= a[child])
			return;
		v = a[root];
		a[root] = a[child];
		a[child] = v;
		root = child;
	}
}

/*
 * Sort one bucket of entry words: by insertion when it is small, as
 * nearly all are; a heapsort, in place and O(n log n), for a name with
 * many entries (the same name in many lists, or a list of duplicates).
 */
static void
domtable_sort_bucket(uint64_t *a, size_t n)
{
	size_t		i, j;
	uint64_t	v;

	if (n <= 32) {
		for (i = 1; i < n; i++) {
			v = a[i];
			for (j = i; j > 0 && a[j - 1] > v; j--)
				a[j] = a[j - 1];
			a[j] = v;
		}
		return;
	}
	for (i = n / 2; i-- > 0;)
		domtable_sift(a, i, n);
	for (i = n; i > 1; i--) {
		v = a[0];
		a[0] = a[i - 1];
		a[i - 1] = v;
		domtable_sift(a, 0, i - 1);
	}
}

/*
 * The bucket of entry word e: its slot times mult = nb * 2^32 / nslots
 * (rounded down, so that the last slot still falls below nb), shifted
 * back: the slot's share of nb buckets, without a division.
 */
#define DOMTABLE_BUCKET(e, mult)					\
	((size_t)(((uint64_t)DOMTABLE_E_SLOT(e) * (mult)) >> 32))

/*
 * Deal the n entry words of a to nb buckets by DOMTABLE_BUCKET(e, mult) -
 * base, in place (an American flag sort: each word moves straight to its
 * bucket's next free place, and the word it displaces on). start gets the
 * nb + 1 bounds; next is room for nb.
 */
static void
domtable_deal(uint64_t *a, size_t n, uint64_t mult, size_t base, size_t nb,
    size_t *start, size_t *next)
{
	uint64_t	v, w;
	size_t		i, d, sum, c;

	memset(start, 0, (nb + 1) * sizeof *start);
	for (i = 0; i < n; i++)
		start[DOMTABLE_BUCKET(a[i], mult) - base]++;
	for (i = 0, sum = 0; i <= nb; i++) {
		c = start[i];
		start[i] = sum;
		sum += c;
	}
	memcpy(next, start, nb * sizeof *next);
	for (i = 0; i < nb; i++) {
		while (next[i] < start[i + 1]) {
			v = a[next[i]];
			d = DOMTABLE_BUCKET(v, mult) - base;
			while (d != i) {
				w = a[next[d]];
				a[next[d]++] = v;
				v = w;
				d = DOMTABLE_BUCKET(v, mult) - base;
			}
			a[next[i]++] = v;
		}
	}
}

/*
 * Sort the entry words in place, by slot first: a pass deals them to 256
 * buckets, then each bucket (small enough now for the caches) is dealt to
 * buckets of about eight entries, and those are sorted alone. Slots are
 * hash places, so the buckets fill evenly. One pass to buckets of eight
 * at once took three times as long: each move was two cache misses, each
 * waiting for the one before.
 */
static int
domtable_sort(struct domtable_builder *b)
{
	uint64_t	*a = b->ents, mult1, multf;
	size_t		 start1[DOMTABLE_FAN + 1], next1[DOMTABLE_FAN];
	size_t		*start = NULL, *next = NULL, cap = 0, n = b->nents;
	size_t		 nbf, c, s, e, i, f, fmin, fmax;
	void		*p;

	if (n < 2)
		return (0);
	mult1 = ((uint64_t)DOMTABLE_FAN << 32) / b->nslots;
	nbf = n / 8 + 1;
	multf = ((uint64_t)(nbf < b->nslots ? nbf : b->nslots) << 32) /
	    b->nslots;
	domtable_deal(a, n, mult1, 0, DOMTABLE_FAN, start1, next1);
	for (c = 0; c < DOMTABLE_FAN; c++) {
		s = start1[c];
		e = start1[c + 1];
		fmin = SIZE_MAX;
		fmax = 0;
		for (i = s; i < e && e - s > 32; i++) {
			f = DOMTABLE_BUCKET(a[i], multf);
			fmin = f < fmin ? f : fmin;
			fmax = f > fmax ? f : fmax;
		}
		if (e - s <= 32 || fmin == fmax) {
			domtable_sort_bucket(a + s, e - s);
			continue;
		}
		nbf = fmax - fmin + 1;
		if (nbf > cap) {
			if ((p = reallocarray(start, nbf + 1, sizeof *start)) ==
			    NULL)
				goto fail;
			start = p;
			if ((p = reallocarray(next, nbf, sizeof *next)) == NULL)
				goto fail;
			next = p;
			cap = nbf;
		}
		domtable_deal(a + s, e - s, multf, fmin, nbf, start, next);
		for (f = 0; f < nbf; f++)
			domtable_sort_bucket(a + s + start[f],
			    start[f + 1] - start[f]);
	}
	free(start);
	free(next);
	return (0);
fail:
	free(start);
	free(next);
	return (-1);
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
 * The names of shared slots whose verdict set changed, while a table
 * like another is settled: slot << 32 | set (in the vtab), at most limit.
 */
struct domtable_fixes {
	uint64_t	*a;
	size_t		 n;
	size_t		 cap;
	size_t		 limit;
};

/*
 * Give slot the set v (interned in vt): 0, -1 on allocation failure, 1
 * when that is more fixes than the limit.
 */
static int
domtable_fix(struct domtable_fixes *fx, struct domtable_vtab *vt,
    uint32_t slot, const struct domtable_vset *v)
{
	uint32_t	 id;
	void		*p;

	if (fx->n >= fx->limit)
		return (1);
	p = fx->a;
	if (domtable_grow(&p, &fx->cap, fx->n, sizeof *fx->a) == -1)
		return (-1);
	fx->a = p;
	if (domtable_intern(vt, v, &id) == -1)
		return (-1);
	fx->a[fx->n++] = (uint64_t)slot << 32 | id;
	return (0);
}

/*
 * The names of like's slots from *next up to (not including) end that
 * have no entry in the table being settled: gone, they get the empty
 * set. *next becomes end. As domtable_fix().
 */
static int
domtable_gone(struct domtable_fixes *fx, struct domtable_vtab *vt,
    const struct domtable *like, uint32_t *next, uint32_t end)
{
	struct domtable_vset	none;
	int			r;

	memset(&none, 0, sizeof none);
	for (; *next < end; (*next)++) {
		if (like->slots[*next].meta != 0 &&
		    (r = domtable_fix(fx, vt, *next, &none)) != 0)
			return (r);
	}
	return (0);
}

/*
 * With the entries sorted: keep the first entry of each (name, list,
 * match), which is a PASS if there is one and then the one of the lowest
 * tag, and give each name its verdict set. With like (the table whose
 * slots t shares), each name whose set is not the one it has there, and
 * each name of like that did not come, is a fix (with vt's sets)
 * instead. 0, -1 on allocation failure, 1 with more fixes than fx's
 * limit.
 */
static int
domtable_settle(struct domtable *t, struct domtable_vtab *vt,
    const struct domtable *like, struct domtable_fixes *fx)
{
	struct domtable_vset	 v;
	uint64_t		*a = t->ents, blk[DOMTABLE_NMATCH];
	uint64_t		 pas[DOMTABLE_NMATCH], bit, e;
	size_t			 i, kept = 0, first;
	uint32_t		 slot, id, next = 0;
	int			 r;

	for (i = 0; i < t->nents;) {
		slot = DOMTABLE_E_SLOT(a[i]);
		memset(blk, 0, sizeof blk);
		memset(pas, 0, sizeof pas);
		for (first = kept; i < t->nents &&
		    DOMTABLE_E_SLOT(a[i]) == slot; i++) {
			e = a[i];
			if (kept > first &&
			    DOMTABLE_E_KEY(a[kept - 1]) == DOMTABLE_E_KEY(e))
				continue;
			a[kept++] = e;
			bit = 1ULL << DOMTABLE_E_LIST(e);
			if (e & DOMTABLE_E_BLOCK)
				blk[DOMTABLE_E_MATCH(e)] |= bit;
			else
				pas[DOMTABLE_E_MATCH(e)] |= bit;
		}
		domtable_resolve(blk, pas, &v);
		t->lists |= v.any0 | v.anyp;
		if (like != NULL) {
			if ((r = domtable_gone(fx, vt, like, &next, slot)) != 0)
				return (r);
			next = slot + 1;
			id = like->slots[slot].meta >> 8;
			if (memcmp(&v, &like->vsets[id], sizeof v) != 0 &&
			    (r = domtable_fix(fx, vt, slot, &v)) != 0)
				return (r);
			continue;
		}
		if (domtable_intern(vt, &v, &id) == -1)
			return (-1);
		t->slots[slot].meta = (t->slots[slot].meta & 0xff) | id << 8;
	}
	t->nents = kept;
	if (like != NULL)
		return (domtable_gone(fx, vt, like, &next, like->nslots));
	return (0);
}

/*
 * Give the builder's slots to the table: they are the table's already,
 * but for the home bits in their meta, which domtable_settle() replaces
 * with the verdict set.
 */
static void
domtable_pack(struct domtable *t, struct domtable_builder *b)
{
	t->slots = b->slots;
	b->slots = NULL;
	t->nslots = b->nslots;
	t->nnodes = b->nnodes;
	t->depths = b->depths;
	t->lens = b->lens;
}

struct domtable *
domtable_build(struct domtable_builder *b)
{
	struct domtable		*t;
	struct domtable_vtab	 vt;
	size_t			 want;
	void			*p;

	if (b == NULL)
		return (NULL);
	memset(&vt, 0, sizeof vt);
	if ((t = calloc(1, sizeof *t)) == NULL)
		goto fail;
	domtable_flush(b);
	/*
	 * More slots than the names need (reserved for more than came, or
	 * doubled): give them back, so that the table keeps load 0.75.
	 */
	want = domtable_nslots(b->nnodes);
	if (b->nslots > want + want / 8 && domtable_resize(b, want) == -1)
		goto fail;
	if (domtable_sort(b) == -1)
		goto fail;
	domtable_pack(t, b);
	t->ents = b->ents;
	t->nents = b->nents;
	b->ents = NULL;
	domtable_builder_free(b);
	b = NULL;

	vt.nidx = 64;
	if ((vt.idx = calloc(vt.nidx, sizeof *vt.idx)) == NULL)
		goto fail;
	if (domtable_settle(t, &vt, NULL, NULL) == -1)
		goto fail;
	free(vt.idx);
	vt.idx = NULL;
	t->vsets = vt.vsets;
	t->nvsets = vt.nvsets;
	vt.vsets = NULL;

	/* Give back what the growing arrays over-allocated. */
	if (t->nvsets > 0 &&
	    (p = realloc(t->vsets, t->nvsets * sizeof *t->vsets)) != NULL)
		t->vsets = p;
	if (t->nents > 0 &&
	    (p = realloc(t->ents, t->nents * sizeof *t->ents)) != NULL)
		t->ents = p;
	return (t);

fail:
	free(vt.idx);
	free(vt.vsets);
	domtable_free(t);
	domtable_builder_free(b);
	return (NULL);
}

/*
 * A builder whose adds find their names among old's slots: as
 * domtable_builder_new(), with old's slots (the seeds are the process's),
 * and no slots of its own; the names they lack go to a builder of their
 * own, up to an eighth of the slots' names. A small table (whose lookups
 * do not prefetch) gets no overlay: compiled anew it takes little, and
 * its lookups, the most frequent (a board's, the canaries'), never ask
 * whether it has one.
 */
struct domtable_builder *
domtable_builder_like(struct domtable *old)
{
	struct domtable_builder	*b;

	if (old == NULL || (b = calloc(1, sizeof *b)) == NULL)
		return (NULL);
	b->like = old;
	b->nslots = old->nslots;
	b->limit = domtable_like_limit(old);
	return (b);
}

int
domtable_slotted(const struct domtable *t, const uint8_t *lname,
    size_t name_len)
{
	uint8_t			offs[DOMTABLE_MAX_SUFFIXES];
	struct domtable_hash	hashes[DOMTABLE_MAX_SUFFIXES];

	if (t == NULL || t->nnodes == 0 ||
	    domtable_suffixes(lname, name_len, offs, hashes) == -1)
		return (0);
	return (domtable_find(t, name_len, &hashes[0]) != NULL);
}

/*
 * The limit of domtable_builder_like(): the adds of names the slots
 * lack, and the fixes of names they hold, an eighth of their names for a
 * large table, none for a small one.
 */
static size_t
domtable_like_limit(const struct domtable *old)
{
	if (old->nslots < DOMTABLE_PREFETCH)
		return (0);
	return (old->nnodes / DOMTABLE_OVER_SHARE);
}

/*
 * The estimates are the sample's counts times every, give or take what
 * a sample of that size varies by: each count about its square root
 * (times every). Only a difference past three times that says no, so
 * that chance in the sample seldom costs the peak of a table compiled
 * anew where an overlay would have done. A small table is always worth
 * the try: a sample of it says little, and it stops at its first name
 * added and is read again at little cost, or shares the slots when no
 * name differs.
 */
int
domtable_like_worth(const struct domtable *old, size_t added, size_t kept,
    size_t every)
{
	double	est, var, over;

	if (old == NULL || every == 0)
		return (0);
	if (old->nslots < DOMTABLE_PREFETCH)
		return (1);
	est = (double)added * (double)every;
	var = (double)added;
	if (kept != SIZE_MAX) {
		if ((double)kept * (double)every < (double)old->nnodes)
			est += (double)old->nnodes - (double)kept *
			    (double)every;
		var += (double)kept;
	}
	var *= (double)every * (double)every;
	over = est - (double)domtable_like_limit(old);
	return (over <= 0 || over * over <= 9 * var);
}

int
domtable_builder_diverged(struct domtable_builder *b)
{
	domtable_flush(b);
	return (b->diverged);
}

/* The place in fix of slot's record (or of the empty one for it). */
static uint32_t
domtable_fix_find(const struct domtable_over *o, uint32_t slot)
{
	uint64_t	key = (uint64_t)slot + 1;
	uint32_t	i;

	i = (uint32_t)((key * DOMTABLE_K1) >> 32) & o->fixmask;
	while (o->fix[i] != 0 && o->fix[i] >> 32 != key)
		i = (i + 1) & o->fixmask;
	return (i);
}

/*
 * The bit of the filter of delta's names for a name of check and check2
 * (of the hash h, domtable_find()'s), with 64 - fshift bits. Not a bit
 * the slot's place says: the filter keeps a query from probing delta
 * for a name the slots lack, which is nearly every name, and delta's
 * slots, at load 0.75, take some 9 probes to say a name is not there.
 * At 16 or more bits a name, one bit, it lets through 1 name in 16 at
 * most for a few instructions.
 */
static inline size_t
domtable_sieve(uint32_t check, uint32_t check2, unsigned fshift)
{
	return ((size_t)((((uint64_t)check2 << 32 | check) * DOMTABLE_K2) >>
	    fshift));
}

/* Make o's filter of delta's names. -1 on allocation failure. */
static int
domtable_sieve_fill(struct domtable_over *o, const struct domtable *delta)
{
	const struct domtable_slot	*s;
	size_t				 bits = 64, b;
	uint32_t			 i;

	o->fshift = 58;
	while (bits < 16 * delta->nnodes) {
		bits *= 2;
		o->fshift--;
	}
	if ((o->filter = calloc(bits / 64, sizeof *o->filter)) == NULL)
		return (-1);
	for (i = 0; i < delta->nslots; i++) {
		s = &delta->slots[i];
		if (s->meta == 0)
			continue;
		b = domtable_sieve(s->check, s->check2, o->fshift);
		o->filter[b / 64] |= 1ULL << (b % 64);
	}
	return (0);
}

/*
 * The overlay of t from the fixes (their sets in vt) and delta, both
 * taken; with neither, none (t is its slots). like is the table whose
 * slots t shares. -1 on allocation failure (fx, vt and delta freed).
 */
static int
domtable_overlay(struct domtable *t, const struct domtable *like,
    struct domtable_fixes *fx, struct domtable_vtab *vt,
    struct domtable *delta)
{
	struct domtable_over	*o;
	size_t			 n = 4, k;
	uint32_t		 i;

	t->depths = like->over != NULL ? like->over->depths : like->depths;
	t->lens = like->over != NULL ? like->over->lens : like->lens;
	if (fx->n == 0 && delta == NULL)
		goto done;
	if ((o = calloc(1, sizeof *o)) == NULL)
		goto fail;
	t->over = o;
	o->depths = t->depths;
	o->lens = t->lens;
	/* At most half full, so that a name's fix is found at once. */
	while (n < 2 * fx->n)
		n *= 2;
	if ((o->fix = calloc(n, sizeof *o->fix)) == NULL)
		goto fail;
	o->fixmask = (uint32_t)n - 1;
	for (k = 0; k < fx->n; k++) {
		i = domtable_fix_find(o, (uint32_t)(fx->a[k] >> 32));
		o->fix[i] = ((fx->a[k] >> 32) + 1) << 32 | (uint32_t)fx->a[k];
	}
	o->nfix = fx->n;
	o->vsets = vt->vsets;
	o->nvsets = vt->nvsets;
	vt->vsets = NULL;
	if ((o->delta = delta) != NULL) {
		delta = NULL;
		if (domtable_sieve_fill(o, o->delta) == -1)
			goto fail;
		t->lists |= o->delta->lists;
		t->depths |= o->delta->depths;
		t->lens |= o->delta->lens;
	}
done:
	free(fx->a);
	fx->a = NULL;
	free(vt->vsets);
	vt->vsets = NULL;
	return (0);
fail:
	free(fx->a);
	fx->a = NULL;
	free(vt->vsets);
	vt->vsets = NULL;
	domtable_free(delta);
	return (-1);
}

/*
 * The entries are sorted and settled as domtable_build() does, but
 * against like's slots: what is new is the array of entry words, and
 * the overlay of the names that differ (domtable_settle() finds those
 * in the slots, the builder those not).
 */
struct domtable *
domtable_build_like(struct domtable_builder *b, int *differ)
{
	struct domtable		*t = NULL, *like, *delta = NULL;
	struct domtable_builder	*bd = NULL;
	struct domtable_vtab	 vt;
	struct domtable_fixes	 fx;
	void			*p;
	int			 r;

	*differ = 0;
	if (b == NULL || (like = b->like) == NULL)
		return (domtable_build(b));
	memset(&vt, 0, sizeof vt);
	memset(&fx, 0, sizeof fx);
	if ((t = calloc(1, sizeof *t)) == NULL)
		goto fail;
	domtable_flush(b);
	if (b->diverged) {
		*differ = 1;
		goto fail;
	}
	if (domtable_sort(b) == -1)
		goto fail;
	t->ents = b->ents;
	t->nents = b->nents;
	b->ents = NULL;
	bd = b->delta;
	b->delta = NULL;
	/* The names that differ, those in the slots and those not. */
	fx.limit = b->limit - (bd != NULL ? bd->nnodes : 0);
	domtable_builder_free(b);
	b = NULL;

	vt.nidx = 64;
	if ((vt.idx = calloc(vt.nidx, sizeof *vt.idx)) == NULL)
		goto fail;
	if ((r = domtable_settle(t, &vt, like, &fx)) != 0) {
		*differ = r == 1;
		goto fail;
	}
	free(vt.idx);
	vt.idx = NULL;
	if (bd != NULL && (delta = domtable_build(bd)) == NULL) {
		bd = NULL;
		goto fail;
	}
	bd = NULL;
	if (domtable_overlay(t, like, &fx, &vt, delta) == -1)
		goto fail;
	if (like->shared == NULL) {
		if ((like->shared = malloc(sizeof *like->shared)) == NULL)
			goto fail;
		*like->shared = 1;
	}
	(*like->shared)++;
	t->shared = like->shared;
	t->slots = like->slots;
	t->nslots = like->nslots;
	t->nnodes = like->nnodes;
	t->vsets = like->vsets;
	t->nvsets = like->nvsets;
	if (t->nents > 0 &&
	    (p = realloc(t->ents, t->nents * sizeof *t->ents)) != NULL)
		t->ents = p;
	return (t);

fail:
	free(vt.idx);
	free(vt.vsets);
	free(fx.a);
	domtable_free(t);
	domtable_builder_free(bd);
	domtable_builder_free(b);
	return (NULL);
}

void
domtable_free(struct domtable *t)
{
	if (t == NULL)
		return;
	if (t->shared == NULL || --*t->shared == 0) {
		free(t->shared);
		free(t->slots);
		free(t->vsets);
	}
	if (t->over != NULL) {
		domtable_free(t->over->delta);
		free(t->over->filter);
		free(t->over->fix);
		free(t->over->vsets);
		free(t->over);
	}
	free(t->ents);
	free(t);
}

uint64_t
domtable_match(const struct domtable *t, const uint8_t *lname,
    size_t name_len)
{
	struct domtable_key	k;
	size_t			off;

	domtable_key_init(&k, lname, name_len);
	return (domtable_match_key(t, &k, 0, &off));
}

uint64_t
domtable_match_at(const struct domtable *t, const uint8_t *lname,
    size_t name_len, uint64_t want, size_t *off)
{
	struct domtable_key	k;

	domtable_key_init(&k, lname, name_len);
	return (domtable_match_key(t, &k, want, off));
}

int
domtable_explain(const struct domtable *t, const uint8_t *lname,
    size_t name_len, unsigned list, struct domtable_hit *hit)
{
	struct domtable_key	k;

	domtable_key_init(&k, lname, name_len);
	return (domtable_explain_key(t, &k, list, hit));
}

void
domtable_key_init(struct domtable_key *k, const uint8_t *lname,
    size_t name_len)
{
	k->lname = lname;
	k->len = name_len;
	k->n = 0;
	k->fetched = NULL;
}

/*
 * In a large table each suffix's home slot is a cache miss: ask for them
 * all at once, so that they overlap each other (and whatever the caller
 * does before its lookup) instead of each probe waiting for its own.
 * An overlay's names are not: its filter (at most 256 KiB) mostly
 * answers from the caches, and lets through few probes of its delta.
 */
void
domtable_prefetch(const struct domtable *t, struct domtable_key *k)
{
	uint64_t	m;
	int		i;

	/* Once a key and table: a lookup after the caller's asks again. */
	if (t == NULL || t->nslots < DOMTABLE_PREFETCH || t->lists == 0 ||
	    k->fetched == t || domtable_key_hash(k) == -1)
		return;
	k->fetched = t;
	m = domtable_depths(t, k);
	for (i = domtable_next(t, k, &m, 0); i < k->n;
	    i = domtable_next(t, k, &m, i + 1))
		__builtin_prefetch(&t->slots[domtable_home(k->hashes[i].a,
		    t->nslots)]);
}

/*
 * The verdict set of suffix i of k in t, or NULL if t has no such name;
 * *in gets the table whose entries are the name's (t, or an overlay's
 * delta) and *s its slot there. over says whether t has an overlay: a
 * constant where this is inlined, so that a table without one pays
 * nothing for it. A name of the slots has the set of its slot, unless the
 * overlay fixes another (the empty set: a name gone); a name the slots
 * lack may be in the delta.
 */
static inline __attribute__((always_inline)) const struct domtable_vset *
domtable_vset_at(const struct domtable *t, const struct domtable_key *k,
    int i, int over, const struct domtable **in,
    const struct domtable_slot **s)
{
	const struct domtable_over	*o = t->over;
	size_t				 len = k->len - k->offs[i];
	uint32_t			 f;

	if ((*s = domtable_find(t, len, &k->hashes[i])) != NULL) {
		*in = t;
		if (over && o->nfix != 0) {
			f = domtable_fix_find(o, (uint32_t)(*s - t->slots));
			if (o->fix[f] != 0)
				return (&o->vsets[(uint32_t)o->fix[f]]);
		}
		return (&t->vsets[(*s)->meta >> 8]);
	}
	if (!over || o->filter == NULL)
		return (NULL);
	f = (uint32_t)domtable_sieve((uint32_t)(k->hashes[i].a >> 32),
	    (uint32_t)k->hashes[i].b, o->fshift);
	if ((o->filter[f / 64] & 1ULL << (f % 64)) == 0 ||
	    (*s = domtable_find(o->delta, len, &k->hashes[i])) == NULL)
		return (NULL);
	*in = o->delta;
	return (&o->delta->vsets[(*s)->meta >> 8]);
}

/*
 * domtable_match_key()'s walk, n the suffixes of k; over as for
 * domtable_vset_at(). From the name to its parents: the first level
 * that has an entry of a list decides that list. Stop once every list is
 * decided.
 */
static inline __attribute__((always_inline)) uint64_t
domtable_walk(const struct domtable *t, const struct domtable_key *k, int n,
    uint64_t want, size_t *off, int over)
{
	const struct domtable_slot	*s;
	const struct domtable_vset	*v;
	const struct domtable		*in;
	uint64_t			 decided = 0, result = 0, add, low = 0, m;
	int				 i;

	m = domtable_depths(t, k);
	for (i = domtable_next(t, k, &m, 0); i < n;
	    i = domtable_next(t, k, &m, i + 1)) {
		if ((v = domtable_vset_at(t, k, i, over, &in, &s)) == NULL)
			continue;
		if (i == 0) {
			add = v->blk0 & ~decided;
			decided |= v->any0;
		} else {
			add = v->blkp & ~decided;
			decided |= v->anyp;
		}
		result |= add;
		/* Where the lowest wanted bit so far was decided. */
		if ((add &= want) != 0 && (low == 0 || (add & -add) < low)) {
			low = add & -add;
			*off = k->offs[i];
		}
		if (decided == t->lists)
			break;
	}
	return (result);
}

uint64_t
domtable_match_key(const struct domtable *t, struct domtable_key *k,
    uint64_t want, size_t *off)
{
	int	n;

	if (t == NULL || t->lists == 0 || (n = domtable_key_hash(k)) == -1)
		return (0);
	/* Only a large table has an overlay (domtable_builder_like()). */
	if (t->nslots >= DOMTABLE_PREFETCH) {
		domtable_prefetch(t, k);
		if (t->over != NULL)
			return (domtable_walk(t, k, n, want, off, 1));
	}
	return (domtable_walk(t, k, n, want, off, 0));
}

int
domtable_explain_key(const struct domtable *t, struct domtable_key *k,
    unsigned list, struct domtable_hit *hit)
{
	const struct domtable_slot	*s = NULL;
	const struct domtable_vset	*v;
	const struct domtable		*in = t;
	uint64_t			 bit, key, e, pick = 0, dm;
	size_t				 lo, hi, mid;
	unsigned			 other, m;
	int				 n, i, found = 0;

	if (t == NULL || list >= DOMTABLE_MAX_LISTS)
		return (-1);
	bit = 1ULL << list;
	if ((t->lists & bit) == 0 || (n = domtable_key_hash(k)) == -1)
		return (-1);
	dm = domtable_depths(t, k);
	for (i = domtable_next(t, k, &dm, 0); i < n;
	    i = domtable_next(t, k, &dm, i + 1)) {
		v = domtable_vset_at(t, k, i, t->over != NULL, &in, &s);
		if (v != NULL && ((i == 0 ? v->any0 : v->anyp) & bit) != 0)
			break;
	}
	if (i == n)
		return (-1);

	/*
	 * The first entry of (slot, list) among the entries of the table
	 * that has the name; then up to three matches.
	 */
	key = (uint64_t)(s - in->slots) << 36 | (uint64_t)list << 30;
	lo = 0;
	hi = in->nents;
	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		if (in->ents[mid] < key)
			lo = mid + 1;
		else
			hi = mid;
	}
	/* Of the entries that apply here, a PASS, then the narrower one. */
	other = i == 0 ? DOMTABLE_EXACT : DOMTABLE_SUBONLY;
	for (; lo < in->nents && (in->ents[lo] >> 30) == key >> 30; lo++) {
		e = in->ents[lo];
		m = DOMTABLE_E_MATCH(e);
		if (m != DOMTABLE_SUBTREE && m != other)
			continue;
		if (!found || ((pick & DOMTABLE_E_BLOCK) &&
		    !(e & DOMTABLE_E_BLOCK)) ||
		    ((pick & DOMTABLE_E_BLOCK) == (e & DOMTABLE_E_BLOCK) &&
		    m == other))
			pick = e;
		found = 1;
	}
	if (!found)
		return (-1);
	hit->suffix_off = k->offs[i];
	hit->kind = (pick & DOMTABLE_E_BLOCK) ? DOMTABLE_BLOCK : DOMTABLE_PASS;
	hit->match = (enum domtable_match)DOMTABLE_E_MATCH(pick);
	hit->tag = DOMTABLE_E_TAG(pick);
	return (0);
}

size_t
domtable_entries(const struct domtable *t)
{
	if (t == NULL)
		return (0);
	return (t->nents + (t->over != NULL ?
	    domtable_entries(t->over->delta) : 0));
}

size_t
domtable_bytes(const struct domtable *t)
{
	const struct domtable_over	*o;
	size_t				 n;

	if (t == NULL)
		return (0);
	n = sizeof *t + (size_t)t->nslots * sizeof *t->slots +
	    t->nvsets * sizeof *t->vsets + t->nents * sizeof *t->ents;
	if ((o = t->over) != NULL)
		n += sizeof *o + ((size_t)o->fixmask + 1) * sizeof *o->fix +
		    o->nvsets * sizeof *o->vsets + domtable_bytes(o->delta) +
		    (o->filter != NULL ? (1ULL << (64 - o->fshift)) / 8 : 0);
	return (n);
}
