/*
 * snapshot.h: the configuration in force, swapped whole on reload.
 *
 * Everything a worker consults while it answers (the compiled policy:
 * boards, lists, tables; the upstreams; the TCP limits) hangs off one
 * immutable struct snapshot. A reload builds a new one off the
 * query path, publishes it with one pointer store, waits until every
 * worker has left the read sections that may still see the old one
 * (userspace RCU, membarrier flavour, so a read section costs no atomic
 * operation), and frees the old one.
 *
 * Workers bracket each batch of queries with snapshot_read_begin() and
 * snapshot_read_end() and must not keep a pointer into the snapshot past
 * the end of the section (fwd_query copies the upstreams it needs).
 */
#ifndef VEILIG_SNAPSHOT_H
#define VEILIG_SNAPSHOT_H

#include "conf.h"
#include "fwd.h"

#include "policy.h"

struct stats_map;

struct snapshot {
	struct conf		*conf;	/* owned */
	struct policy		*policy; /* owned, built from conf */
	struct fwd_upstreams	 ups;	/* points into conf */
	struct stats_map	*stats;	/* owned; set by main before the
					   snapshot is published (stats.h),
					   NULL for veiligd -n */
};

/*
 * Build a snapshot that takes ownership of conf: compile the policy (lists
 * are read here: slow, never on the query path). prev, the snapshot in
 * force or NULL, lends the lists it compiled when their files did not
 * change (policy_new). Errors go to errcb; NULL (conf freed) if there was
 * any.
 */
struct snapshot		*snapshot_new(struct conf *conf, struct snapshot *prev,
			    policy_error_cb errcb, void *arg);
void			 snapshot_free(struct snapshot *);

/* Register and unregister the calling thread as a reader. */
void			 snapshot_thread_init(void);
void			 snapshot_thread_done(void);

/* A read section and the snapshot in force inside it. */
void			 snapshot_read_begin(void);
const struct snapshot	*snapshot_current(void);
void			 snapshot_read_end(void);

/*
 * Publish snap (NULL at shutdown), wait for readers of the old one, and
 * return the old one for the caller to free. Main thread only.
 */
struct snapshot		*snapshot_swap(struct snapshot *snap);

/*
 * Wait until every read section that began before the call has ended
 * (a grace period); the statistics flip their recorder sets with it.
 */
void			 snapshot_wait(void);

#endif
