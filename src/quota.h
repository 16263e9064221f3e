/*
 * quota.h: how much of a worker's resources each client holds, so that no
 * one client can take them all.
 *
 * A client is an IPv4 address or an IPv6 /64 (what one household or one
 * school's NAT gets; an attacker with a /64 has 2^64 addresses, so finer
 * would count nothing). IPv4-mapped IPv6 addresses count as IPv4. Each
 * client has QUOTA_COUNTERS counters, whose meaning is the owner's:
 * query.c counts forwarded queries and the upstream questions they
 * started, worker.c counts TCP connections in a table of its own.
 *
 * quota_take() adds one unless the client holds its limit already;
 * quota_give() takes one back. A client leaves the table when it holds
 * nothing, so the table never has more entries than there are things held
 * (forwarded queries, connections), which are bounded themselves: the
 * table is bounded by those limits, and by QUOTA_MAX_CLIENTS besides.
 *
 * The table is hashed with SipHash under a random key, so that a remote
 * party cannot pick addresses that share a bucket.
 *
 * Threads: one table per worker, used by that worker's thread only.
 * Ownership: the creator owns the table.
 */
#ifndef VEILIG_QUOTA_H
#define VEILIG_QUOTA_H

#include <sys/socket.h>

#include <stddef.h>
#include <stdint.h>

#define QUOTA_COUNTERS		2
#define QUOTA_MAX_CLIENTS	(1U << 18)	/* entries, in any case */

struct quota;

/* An empty table; NULL when out of memory. */
struct quota	*quota_new(void);
void		 quota_free(struct quota *);

/*
 * A client as a table knows it: its key and the key's hash (under the
 * table's secret key), worked out once by quota_client() for all the
 * calls about one query (a forwarded query takes, asks and gives back up
 * to five times: one hash instead of five).
 */
struct quota_client {
	uint64_t	hash;
	uint8_t		key[16];
};

/* The client of sa for this table into *cl; -1 for another family. */
int		 quota_client(const struct quota *, const struct sockaddr *sa,
		    struct quota_client *cl);

/*
 * Count one more of counter which (< QUOTA_COUNTERS) for the client of sa,
 * unless it holds limit already. 0 when counted; -1 when not: at the
 * limit, an address of another family than AF_INET or AF_INET6, or no
 * room for a new client.
 */
int		 quota_take(struct quota *, const struct sockaddr *sa,
		    unsigned which, uint32_t limit);

/* Give one of counter which back (one that quota_take() counted). */
void		 quota_give(struct quota *, const struct sockaddr *sa,
		    unsigned which);

/* What the client of sa holds of counter which. */
uint32_t	 quota_held(const struct quota *, const struct sockaddr *sa,
		    unsigned which);

/*
 * The same for a client from quota_client() of this table: quota_take_cl()
 * is -1 at the limit or with no room for a new client.
 */
int		 quota_take_cl(struct quota *, const struct quota_client *cl,
		    unsigned which, uint32_t limit);
void		 quota_give_cl(struct quota *, const struct quota_client *cl,
		    unsigned which);
uint32_t	 quota_held_cl(const struct quota *,
		    const struct quota_client *cl, unsigned which);

/* Clients in the table (those that hold something). */
size_t		 quota_clients(const struct quota *);

#endif
