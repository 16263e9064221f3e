/*
 * iptable.h: networks (IPv4 and IPv6 CIDR) mapped to 64-bit values.
 *
 * Used twice: for boards (which board owns a source address; the value is
 * the board's index + 1) and for IP lists in answer inspection (the value
 * is the set of lists, bit i = list i, that contain an address). A lookup
 * returns the OR of the values of every network that contains the
 * address, so one address in a /24 of one list and a /32 of another
 * matches both; for boards, whose networks may not overlap, that is the
 * one owner. IPv4-mapped IPv6 addresses are looked up as IPv4.
 *
 * Built once, immutable, read by all workers without locks; a lookup
 * allocates nothing and walks at most 32 or 128 bits (or a binary search:
 * the implementation's choice, said in iptable.c).
 *
 * Ownership: the builder is owned by its creator until iptable_build(),
 * which consumes it; the table by the policy snapshot.
 */
#ifndef VEILIG_IPTABLE_H
#define VEILIG_IPTABLE_H

#include <sys/socket.h>

#include <stddef.h>
#include <stdint.h>

#include "conf.h"

struct iptable_builder;
struct iptable;

struct iptable_builder	*iptable_builder_new(void);
void			 iptable_builder_free(struct iptable_builder *);

/* Add net with value (ORed into what the same network already has).
   0, or -1 on allocation failure. */
int	iptable_add(struct iptable_builder *, const struct conf_net *net,
	    uint64_t value);

/*
 * Find the networks added so far that overlap (contain, are contained in,
 * or equal) one added before them. For each, in the order they were
 * added, cb gets its value and the value of the first network added
 * before it that it overlaps. IPv4 and IPv6 never overlap, except that
 * ::ffff:a.b.c.d/96+ is the IPv4 network it maps. O(n log n): a sort and
 * one sweep.
 * 0, or -1 on allocation failure (then cb has not been called).
 */
typedef void (*iptable_overlap_cb)(void *arg, uint64_t value,
		    uint64_t other);
int	iptable_overlaps(const struct iptable_builder *,
	    iptable_overlap_cb cb, void *arg);

/* Compile; the builder is freed either way. NULL on allocation failure. */
struct iptable	*iptable_build(struct iptable_builder *);
void		 iptable_free(struct iptable *);

/* OR of the values of all networks containing sa (AF_INET, AF_INET6). */
uint64_t	 iptable_lookup(const struct iptable *, const struct sockaddr *sa);

/* The same for a raw address: 4 octets for AF_INET, 16 for AF_INET6. */
uint64_t	 iptable_lookup_addr(const struct iptable *, int family,
		    const uint8_t *addr);

/*
 * A hint: start loading the line of the table that iptable_lookup() of sa
 * reads first (its entry in the jump index, which for the boards is
 * mostly the whole answer), without waiting for it. For a batch of
 * addresses known at once, so that their cache misses overlap.
 */
void		 iptable_prefetch(const struct iptable *,
		    const struct sockaddr *sa);

/* Number of networks and octets of memory. */
size_t		 iptable_count(const struct iptable *);
size_t		 iptable_bytes(const struct iptable *);

#endif
