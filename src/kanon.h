/*
 * kanon.h: blocked sites with a k-anonymity threshold.
 *
 * A table of (site, category) -> blocked answers, for one board and one
 * interval. A site is named in the statistics only when it was blocked
 * for at least k distinct clients: the table keeps, per site, up to k
 * distinct client hashes (keyed with the interval's key, so that they
 * mean nothing outside the interval, and kept in memory only), and stops
 * keeping them once k is reached. That is exact: a site blocked for k - 1
 * clients is never named, however often they asked.
 *
 * With k = 0 the table keeps no clients and every site counts as named:
 * the day summaries use it to add up the sites their intervals named.
 *
 * Memory is bounded: every table draws its entries and client arrays
 * from a byte budget shared by all tables of the same kind (all boards'
 * intervals), and has a limit of entries of its own. A site that finds no
 * room is counted only as hidden (kanon_hidden), never named, so running
 * out of room can hide a site but never reveal one.
 *
 * Ownership: kanon_new() returns a table owned by the caller; the budget
 * must outlive it. The strings of kanon_top()'s array live in the same
 * allocation, until the caller frees it.
 */
#ifndef VEILIG_KANON_H
#define VEILIG_KANON_H

#include <stddef.h>
#include <stdint.h>

#include "randbuf.h"

struct kanon;

/*
 * What all tables of one kind share (one thread's): the bytes they may
 * use (kanon_free() gives theirs back), and a block of random octets
 * from which each new table takes a key of its own (a system call per
 * table was most of a new board's cost in the statistics' fold). Start
 * it zeroed but for left; randbuf_clear() its random when done.
 */
struct kanon_budget {
	size_t		left;
	struct randbuf	random;
};

/* One named site, as kanon_top() gives it. */
struct kanon_site {
	const char	*site;		/* registrable domain */
	uint16_t	 cat;		/* category number (stats.c's) */
	uint64_t	 count;		/* blocked answers */
};

/*
 * A table naming sites at k distinct clients (0: every site; at most
 * 65,535), with room for at most max_entries sites, drawing on budget.
 * It starts with room for expect sites (0: a few), so that a board's
 * table need not grow, site by site, to what it held the interval
 * before; what it keeps and names is the same whatever expect is, and
 * only its entries are charged to the budget (its memory is at most
 * twice what is charged, plus what expect needs). NULL if out of memory
 * or k is too large.
 */
struct kanon	*kanon_new(unsigned k, size_t max_entries,
		    struct kanon_budget *budget, size_t expect);
void		 kanon_free(struct kanon *);

/*
 * Count n blocked answers of site (text) in category cat for the client
 * with hash client (ignored when k = 0). Returns 0, or -1 when there was
 * no room: then the answers were counted as hidden.
 */
int		 kanon_add(struct kanon *, const char *site, uint16_t cat,
		    uint64_t client, uint64_t n);

/*
 * The hash of (site, cat) in table t, for kanon_prefetch() and
 * kanon_add_hash(): a caller that adds many names to tables out of the
 * cache works out each name's hash first and starts loading its line, so
 * that the lines of a batch load together, then adds them.
 */
uint64_t	 kanon_hash(const struct kanon *, const char *site, uint16_t cat);

/* Start loading the line where the entry of hash h is, or would go. */
void		 kanon_prefetch(const struct kanon *, uint64_t h);

/*
 * kanon_add() of a site whose kanon_hash() in this table is h: the same
 * counts, whatever was added to the table since the hash was taken.
 */
int		 kanon_add_hash(struct kanon *, const char *site, uint16_t cat,
		    uint64_t h, uint64_t client, uint64_t n);

/* Count n blocked answers whose site is not known (no room upstream). */
void		 kanon_lost(struct kanon *, uint64_t n);

/*
 * The named sites (those that reached k), most blocked first (ties by
 * name), at most top of them, into *out (allocated with copies of the
 * sites, so that one free() of it frees all). Sets *hidden_sites to the
 * number of sites not named (below k, or beyond top) and *hidden_count to
 * their answers plus those counted as lost. Returns the number in *out,
 * or -1 if out of memory.
 */
int		 kanon_top(struct kanon *, size_t top, struct kanon_site **out,
		    uint64_t *hidden_sites, uint64_t *hidden_count);

/* Number of sites in the table, named or not. */
size_t		 kanon_size(const struct kanon *);

#endif
