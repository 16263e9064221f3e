/*
 * snapshot.c: build, publish and retire configuration snapshots (RCU).
 */
#define _LGPL_SOURCE
#include <stdlib.h>

#include <urcu/urcu-memb.h>

#include "snapshot.h"
#include "stats.h"

static struct snapshot	*snapshot_live;

struct snapshot *
snapshot_new(struct conf *conf, struct snapshot *prev,
    policy_error_cb errcb, void *arg)
{
	struct snapshot	*snap;

	if ((snap = calloc(1, sizeof *snap)) == NULL) {
		errcb(arg, "out of memory");
		conf_free(conf);
		return (NULL);
	}
	snap->conf = conf;
	snap->policy = policy_new(conf, prev != NULL ? prev->policy : NULL,
	    errcb, arg);
	if (snap->policy == NULL) {
		snapshot_free(snap);
		return (NULL);
	}
	snap->ups.addrs = conf->upstreams;
	snap->ups.n = conf->nupstreams;
	snap->ups.timeout_ms = conf->fwd_timeout_ms;
	snap->ups.attempts = conf->fwd_attempts;
	return (snap);
}

void
snapshot_free(struct snapshot *snap)
{
	if (snap == NULL)
		return;
	stats_map_free(snap->stats);
	policy_free(snap->policy);
	conf_free(snap->conf);
	free(snap);
}

void
snapshot_thread_init(void)
{
	urcu_memb_register_thread();
}

void
snapshot_thread_done(void)
{
	urcu_memb_unregister_thread();
}

void
snapshot_read_begin(void)
{
	urcu_memb_read_lock();
}

const struct snapshot *
snapshot_current(void)
{
	return (rcu_dereference(snapshot_live));
}

void
snapshot_read_end(void)
{
	urcu_memb_read_unlock();
}

struct snapshot *
snapshot_swap(struct snapshot *snap)
{
	struct snapshot	*old;

	old = rcu_xchg_pointer(&snapshot_live, snap);
	urcu_memb_synchronize_rcu();
	return (old);
}

void
snapshot_wait(void)
{
	urcu_memb_synchronize_rcu();
}
