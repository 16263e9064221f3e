/*
 * domtable.h: domain names compiled into one immutable suffix table.
 *
 * Every list's names (and, in small separate tables, each board's allow
 * and deny names and the safe-search and canary tables) are added to a
 * builder and compiled once. A lookup walks from the full query name to
 * its parents (www.ads.example.com, ads.example.com, example.com, com)
 * with the key on the stack, at most one probe per label; no allocation,
 * no lock: the table is read by every worker at once.
 *
 * Each entry belongs to a list (0..63) and is either BLOCK (the list
 * matches here) or PASS (an exception: adblock "@@||name^", RPZ
 * PASSTHRU). Within one list the most specific entry that covers the
 * name decides: "@@||ads.example.com^" beats "||example.com^" for
 * ads.example.com and its subdomains. An entry covers:
 *   DOMTABLE_SUBTREE	the name and all its subdomains (the default),
 *   DOMTABLE_EXACT	only the name itself (safe-search hosts, RPZ
 *			"example.com"),
 *   DOMTABLE_SUBONLY	only its subdomains (RPZ "*.example.com").
 * The same name may be in many lists and in one list with several match
 * types; of duplicates of (name, list, match) a PASS beats a BLOCK, and
 * then the lowest tag is kept (the first added, for tags that count up:
 * line numbers, indexes into a side table).
 *
 * Names are in lower-case wire form (as wire_query.lname) everywhere.
 * Each entry carries a tag of up to 27 bits (DOMTABLE_MAX_TAG) that means
 * what its creator wants (the line in the list file, or an index into a
 * side table); the hot path never reads it, domtable_explain() returns it.
 *
 * Memory: about 24 octets per entry, the name included: the table keeps
 * no name, only 64 bits of its hash beside the bits that place it
 * (domtable.c says why that is safe).
 *
 * Ownership: the builder is owned by its creator until domtable_build(),
 * which consumes it. The table is owned by the policy snapshot.
 */
#ifndef VEILIG_DOMTABLE_H
#define VEILIG_DOMTABLE_H

#include <stddef.h>
#include <stdint.h>

#define DOMTABLE_MAX_LISTS	64
#define DOMTABLE_MAX_TAG	((1U << 27) - 1)

enum domtable_kind {
	DOMTABLE_BLOCK = 0,
	DOMTABLE_PASS,
};

enum domtable_match {
	DOMTABLE_SUBTREE = 0,
	DOMTABLE_EXACT,
	DOMTABLE_SUBONLY,
};

struct domtable_builder;
struct domtable;

/* What decided a list's verdict for a name (domtable_explain). */
struct domtable_hit {
	size_t			suffix_off; /* offset in lname of the entry's
					       name: 0 = the name itself */
	enum domtable_kind	kind;
	enum domtable_match	match;
	uint32_t		tag;
};

/*
 * A query name with the hashes of its suffixes, for the lookups of one
 * query in many tables (policy_question() asks up to five). Every table
 * of the process hashes with the same secret seeds (drawn at random once,
 * domtable.c says why), so the name is hashed once, on the first lookup
 * in a table that has entries, and each further table only probes. On
 * the caller's stack; the fields are domtable.c's.
 */
#define DOMTABLE_MAX_SUFFIXES	128	/* 127 labels and the root */

struct domtable_hash {
	uint64_t	a;	/* low 32 bits: home; high: check */
	uint64_t	b;	/* low 32 bits: check2 */
};

struct domtable_key {
	const uint8_t		*lname;	/* the caller's, not copied */
	size_t			 len;
	int			 n;	/* suffixes; 0 not hashed yet, -1 a
					   malformed name */
	const struct domtable	*fetched; /* the table whose places of
					     it domtable_prefetch() asked
					     for last */
	uint8_t			 offs[DOMTABLE_MAX_SUFFIXES];
	struct domtable_hash	 hashes[DOMTABLE_MAX_SUFFIXES];
};

/* A builder; NULL on allocation failure. */
struct domtable_builder	*domtable_builder_new(void);
void			 domtable_builder_free(struct domtable_builder *);

/*
 * Make room for about names more names (and as many entries), so that
 * the table is not moved while it fills: a load that knows how many are
 * coming takes only the memory of the table it builds. More than come is
 * given back by domtable_build(). Returns 0, or -1 on allocation failure.
 */
int	domtable_builder_reserve(struct domtable_builder *, size_t names);

/*
 * Add lname (lower-case wire form, name_len octets, valid) to list with
 * kind, match and tag (at most DOMTABLE_MAX_TAG). Returns 0, or -1 on
 * allocation failure or a bad argument.
 */
int	domtable_add(struct domtable_builder *, const uint8_t *lname,
	    size_t name_len, unsigned list, enum domtable_kind kind,
	    enum domtable_match match, uint32_t tag);

/* Compile; the builder is freed either way. NULL on allocation failure. */
struct domtable	*domtable_build(struct domtable_builder *);

/*
 * A builder for the names of old once more, nearly: for a reload that
 * reads a list file written anew whose names have changed little or not
 * at all (a day's update, lines moved, comments added, the same list
 * downloaded again). Each add finds its name among old's slots instead
 * of taking a slot, and the table that domtable_build_like() makes of it
 * shares old's slots and verdict sets: its entries (the tags
 * domtable_explain() gives) are its own, 8 octets a name where a table
 * of its own takes 24, and so is an overlay of the names that differ
 * from the slots' (names the slots lack, in a small table of their own;
 * names of the slots gone or now in other lists, kinds or matches, with
 * their new verdict set), some 50 octets a name replaced. A reload so
 * holds the old table, a third of a new one and the overlay. Always
 * against the slots, never an overlay on an overlay: what differs from
 * them adds up from reload to reload, until a reload compiles the names
 * anew. Lookups
 * answer as in a table compiled anew. old must stay until the build (it
 * is not changed, but for the count of tables sharing its arrays). NULL
 * on allocation failure.
 *
 * More than an eighth of old's names differing is too many for an
 * overlay, and so is any in a small table (fewer than some 3,000 names,
 * quickly compiled anew): past the eighth, the add of a name that old's
 * slots lack fails (-1), and so do all adds after it, and
 * domtable_builder_diverged() then says 1 (0 before); the caller reads
 * its lists again into a builder of domtable_builder_new().
 */
struct domtable_builder	*domtable_builder_like(struct domtable *old);
int			 domtable_builder_diverged(struct domtable_builder *);

/*
 * Whether lname (name_len octets, lower-case wire form) is a name of t's
 * slots, the names t was compiled from: what a table like t would find
 * there (whatever t's overlay says of it). 0 for a malformed name.
 */
int	domtable_slotted(const struct domtable *t, const uint8_t *lname,
	    size_t name_len);

/*
 * Whether a table like old (domtable_builder_like()) is worth trying for
 * names of which a sample of one in every found added that are not
 * names of old's slots and kept that are (domtable_slotted(); kept
 * SIZE_MAX: not known, names gone then not counted): 0 when the names
 * added and gone are clearly more than an overlay may hold, so that the
 * caller reads its lists once, into a table of their own, instead of
 * twice. A table that passes may still diverge; a small one always
 * passes.
 */
int	domtable_like_worth(const struct domtable *old, size_t added,
	    size_t kept, size_t every);

/*
 * Compile a builder of domtable_builder_like() (of domtable_builder_new():
 * as domtable_build()); the builder is freed either way. NULL with
 * *differ = 1 when too many names differ from old's (the names gone, or
 * in other lists, kinds or matches, are counted here); NULL with
 * *differ = 0 on allocation failure.
 */
struct domtable	*domtable_build_like(struct domtable_builder *, int *differ);
void		 domtable_free(struct domtable *);

/*
 * The hot path: the set of lists whose deciding entry for lname is BLOCK
 * (bit i = list i). 0 when nothing matches. NULL table gives 0.
 */
uint64_t	domtable_match(const struct domtable *, const uint8_t *lname,
		    size_t name_len);

/*
 * As domtable_match(), and where: *off gets the offset in lname of the
 * name whose entry blocked the lowest bit of result & want (untouched
 * when that is 0). What a blocked answer needs (the SOA owner) without
 * domtable_explain()'s second walk and search.
 */
uint64_t	domtable_match_at(const struct domtable *, const uint8_t *lname,
		    size_t name_len, uint64_t want, size_t *off);

/*
 * The entry of list that decides for lname: 0 with *hit filled, or -1 if
 * no entry of that list covers lname. For explain and for side tables
 * (RPZ actions, safe-search targets); not for every query.
 */
int		domtable_explain(const struct domtable *, const uint8_t *lname,
		    size_t name_len, unsigned list, struct domtable_hit *hit);

/*
 * Make k the key of lname (name_len octets, lower-case wire form), which
 * must stay in place while k is used. Cheap: the hashing waits for the
 * first lookup that needs it.
 */
void		domtable_key_init(struct domtable_key *k, const uint8_t *lname,
		    size_t name_len);

/*
 * Ask the memory for the places of k's name and parents in t, when t is
 * too large for the caches: called early, the cache misses of the
 * lookup to come overlap the caller's work in between. Hashes k.
 */
void		domtable_prefetch(const struct domtable *,
		    struct domtable_key *k);

/* domtable_match_at() and domtable_explain() with a key. */
uint64_t	domtable_match_key(const struct domtable *,
		    struct domtable_key *, uint64_t want, size_t *off);
int		domtable_explain_key(const struct domtable *,
		    struct domtable_key *, unsigned list,
		    struct domtable_hit *hit);

/*
 * Number of entries and octets of memory the table holds (slots and
 * verdict sets shared with other tables counted in each).
 */
size_t		domtable_entries(const struct domtable *);
size_t		domtable_bytes(const struct domtable *);

#endif
