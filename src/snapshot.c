/*
 * snapshot.c: build, publish and retire configuration snapshots (RCU).
 */
#define _LGPL_SOURCE
#include <stdlib.h>

#include <urcu/urcu-memb.h>

#include "snapshot.h"
#include "stats.h"

/*
 * ThreadSanitizer does not see urcu's grace periods (the memb flavour
 * orders with membarrier(), not with anything TSan watches), so in a
 * TSan build each read section's end is a release, and the return of a
 * grace period an acquire, of one token: what RCU promises, that every
 * read section before the wait happens before what follows it. Nothing
 * in other builds.
 */
#if defined(__SANITIZE_THREAD__)
#include <sanitizer/tsan_interface.h>
static char		 snapshot_tsan;
#define SNAPSHOT_TSAN_RELEASE()	__tsan_release(&snapshot_tsan)
#define SNAPSHOT_TSAN_ACQUIRE()	__tsan_acquire(&snapshot_tsan)
#else
#define SNAPSHOT_TSAN_RELEASE()
#define SNAPSHOT_TSAN_ACQUIRE()
#endif

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
	/* rcu_dereference(), in words TSan knows: a plain load on x86. */
	return (__atomic_load_n(&snapshot_live, __ATOMIC_ACQUIRE));
}

void
snapshot_read_end(void)
{
	SNAPSHOT_TSAN_RELEASE();
	urcu_memb_read_unlock();
}

struct snapshot *
snapshot_swap(struct snapshot *snap)
{
	struct snapshot	*old;

	old = __atomic_exchange_n(&snapshot_live, snap, __ATOMIC_SEQ_CST);
	urcu_memb_synchronize_rcu();
	SNAPSHOT_TSAN_ACQUIRE();
	return (old);
}

void
snapshot_wait(void)
{
	urcu_memb_synchronize_rcu();
	SNAPSHOT_TSAN_ACQUIRE();
}
