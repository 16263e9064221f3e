/*
 * rrl.h: response rate limiting on UDP, in the manner of BIND's and
 * Knot's RRL.
 *
 * An address that is not the client's (a spoofed source) can make veiligd
 * send answers at a victim; REFUSED answers to addresses of no board are
 * the usual vector, and an answer is larger than its query. RRL bounds
 * how many answers of one kind go to one client network each second: a
 * token bucket per (client network, class of answer, and for some classes
 * the name), holding one second's worth of tokens. An answer over the
 * rate is dropped, except that every slip-th of them goes out truncated
 * (TC=1, nothing but the question: no larger than the query), so that a
 * real client caught in the limit retries over TCP, where the source
 * address cannot be spoofed and no rate applies.
 *
 * Classes (enum rrl_class) and what makes two answers the same:
 *   RRL_RESPONSE	NOERROR with answer records: network, name, type;
 *   RRL_NODATA		NOERROR without: network, domain;
 *   RRL_NXDOMAIN	NXDOMAIN: network, domain;
 *   RRL_ERROR		any other rcode (REFUSED, SERVFAIL, FORMERR...):
 *			network only.
 * The network is the client's address cut to the configured prefix (/24,
 * /56 by default); the domain is the last two labels of the question's
 * name (BIND takes the zone from the SOA in the answer; reading that would
 * mean parsing every negative answer, and two labels make a random-name
 * flood under one domain one bucket all the same). Names count in lower
 * case, so varying the case makes no new bucket.
 *
 * The table is a fixed number of counters (rrl.table-size), split in
 * shards with a mutex each and allocated on first use, so that RRL costs
 * no memory while it is off. A counter is found by a keyed hash (SipHash)
 * of its key within a window of slots; when none matches, the slot of the
 * window that limits least (the fullest bucket) makes way. A full bucket
 * is as good as none, so forgetting it loses nothing; and a flood of new
 * networks cannot push out the counter of a victim being limited, whose
 * bucket is the emptiest of all.
 *
 * Threads: one table shared by all workers (owned by main, like the
 * cache). Time comes from the caller in milliseconds of a monotonic clock.
 */
#ifndef VEILIG_RRL_H
#define VEILIG_RRL_H

#include <sys/socket.h>

#include <stddef.h>
#include <stdint.h>

enum rrl_class {
	RRL_RESPONSE = 0,
	RRL_NODATA,
	RRL_NXDOMAIN,
	RRL_ERROR,
	RRL_NCLASSES
};

enum rrl_verdict {
	RRL_PASS = 0,	/* send the answer */
	RRL_DROP,	/* send nothing */
	RRL_SLIP,	/* send the answer cut by rrl_slip() */
};

/* The settings (rrl: in veiligd.yaml); reloadable. */
struct rrl_params {
	unsigned	rates[RRL_NCLASSES];	/* per second; 0 no limit */
	unsigned	slip;		/* every slip-th limited answer is
					   sent cut with TC=1; 0 never */
	unsigned	prefix4;	/* 8..32 */
	unsigned	prefix6;	/* 16..128 */
};

struct rrl;

/* A table of about entries counters (at least 1024); NULL on failure. */
struct rrl	*rrl_new(size_t entries);
void		 rrl_free(struct rrl *);

/* Is any rate set? */
int		 rrl_enabled(const struct rrl_params *);

/* The class of the answer msg (len octets). */
enum rrl_class	 rrl_classify(const uint8_t *msg, size_t len);

/*
 * May the answer msg (len octets, as it would be sent) go to client at
 * time now_ms? Counts it against its bucket. An answer too short to carry
 * a header, or of a class without a rate, passes uncounted.
 */
enum rrl_verdict rrl_check(struct rrl *, const struct rrl_params *p,
		    const struct sockaddr *client, const uint8_t *msg,
		    size_t len, uint64_t now_ms);

/*
 * Cut the answer msg to its header and question, with TC=1 and no
 * records: what a slipped answer is. Returns the new length (the header
 * alone if the question cannot be read).
 */
size_t		 rrl_slip(uint8_t *msg, size_t len);

/* Counters in use (allocated and holding a key), for tests. */
size_t		 rrl_used(struct rrl *);

#endif
