/*
 * veiligd.c: start-up, signals, reload and shutdown of the daemon.
 *
 * The main thread reads the configuration, opens every worker's sockets
 * (so that a port in use is a start-up error, not a silent half-start)
 * and the control socket, gives up root when started as root with
 * server.user set (priv.c), starts one worker thread per core and then
 * runs its own small event loop for signals only:
 *   SIGHUP		re-read the configuration; on any error in
 *			veiligd.yaml keep the one in force and log every
 *			error with file:line:column; a board file with
 *			errors keeps its last good version (conf.h,
 *			conf_load_keep), and the rest applies;
 *   SIGTERM, SIGINT	stop the workers and exit 0.
 * and for the control socket (veiligctl): status, stats, reload, flush,
 * explain, boards, lists. systemd hears READY, RELOADING and STOPPING
 * through sd_notify(). The main loop also ticks the statistics once a
 * second (stats.c: fold the workers' counts, write an interval when it
 * ends); a reload and a stop write the open interval first. The
 * Prometheus endpoint runs in a thread of its own (metrics.c).
 */
#include <sys/types.h>
#include <sys/resource.h>

#include <errno.h>
#include <malloc.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <arpa/inet.h>

#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/thread.h>
#include <ldns/ldns.h>
#include <systemd/sd-daemon.h>

#include "cache.h"
#include "conf.h"
#include "control.h"
#include "inflight.h"
#include "log.h"
#include "metrics.h"
#include "policy.h"
#include "priv.h"
#include "rrl.h"
#include "snapshot.h"
#include "stats.h"
#include "statsfile.h"
#include "worker.h"

#define VEILIGD_CONF	"/etc/veilig/veiligd.yaml"
#define VEILIGD_NSIGNALS 3		/* SIGHUP, SIGTERM, SIGINT */
#define CAP_SYS_NICE_BIT 23		/* capability.h's CAP_SYS_NICE */
#define VEILIGD_IDLE_MS	2000		/* a reload's thread at SCHED_IDLE,
					   at most */
#define VEILIGD_MMAP_MIN (128 * 1024)	/* malloc: larger blocks are mmapped */

/* The daemon's own state, owned by main(). */
struct veiligd {
	const char		*path;		/* configuration file */
	struct event_base	*base;		/* signals only */
	struct event		*signals[VEILIGD_NSIGNALS];
	struct cache		*cache;
	struct inflight		*inflight;	/* questions in flight */
	struct rrl		*rrl;		/* response rate limiting */
	struct worker		**workers;
	unsigned		 nworkers;
	struct snapshot		*snap;		/* the one in force */
	struct control		*control;
	time_t			 loaded;	/* when snap was built */
	struct stats		*stats;
	struct event		*tick;		/* the statistics' second */
	struct event		*slice;		/* the next slice of its fold */
	uint64_t		 slice_end;	/* stats_clock() of the last */
	struct metrics		*metrics;	/* or NULL */
	time_t			 started;
	int			 rxq_warned;	/* veiligd_rxq() said it
						   cannot read them */

	/* The last reload, for the metrics thread (under mlock). */
	pthread_mutex_t		 mlock;
	time_t			 reload_time;	/* 0: none yet */
	int			 reload_ok;
	uint64_t		 reloads_ok, reloads_failed;
};

/* Errors of a load: counted, logged, and copied to a control client. */
struct veiligd_errors {
	unsigned		 n;		/* errors, not warnings */
	unsigned		 lines;
	struct evbuffer		*out;		/* or NULL */
	int			 bare;		/* -n: no log prefix */
};

static __attribute__((noreturn)) void
usage(void)
{
	fprintf(stderr, "usage: veiligd [-dnv] [-c file]\n");
	exit(1);
}

/*
 * Error callback of conf_load() and snapshot_new(): count, log, and copy
 * to the control client that asked for a reload. With -n the lines are
 * bare "file:line:column: message" for editors.
 */
static void
veiligd_error_cb(void *arg, const char *msg)
{
	struct veiligd_errors	*e = arg;

	if (!conf_is_warning(msg))
		e->n++;
	e->lines++;
	if (e->bare)
		fprintf(stderr, "%s\n", msg);
	else
		log_warnx("%s", msg);
	if (e->out != NULL && e->lines <= 100)
		evbuffer_add_printf(e->out, "%s\n", msg);
}

/*
 * Read the configuration at path and build its snapshot, with the lists
 * of prev (the snapshot in force, or NULL at start) if they did not
 * change; NULL on error. A broken board file keeps its version in prev's
 * configuration, or is left out: see veiligd_broken().
 */
static struct snapshot *
veiligd_load(const char *path, struct snapshot *prev,
    struct veiligd_errors *e)
{
	struct conf	*conf;
	char		*cause = NULL;
	int		 made;

	if ((conf = conf_load_keep(path, prev != NULL ? prev->conf : NULL,
	    veiligd_error_cb, e)) == NULL)
		return (NULL);
	/*
	 * A start stops when stats.dir cannot be made; a reload keeps the
	 * directory in force instead of going on with one it cannot write.
	 */
	if (prev != NULL && conf->stats_dir != NULL &&
	    statsfile_dir(conf->stats_dir, &made, &cause) == -1) {
		veiligd_error_cb(e, cause != NULL ? cause :
		    "stats.dir: out of memory");
		free(cause);
		conf_free(conf);
		return (NULL);
	}
	return (snapshot_new(conf, prev, veiligd_error_cb, e));
}

/*
 * After a start or reload with board files that have errors: log which,
 * and put the systemd STATUS= line for it in status (cap octets). The
 * errors themselves were logged as they were found.
 */
static void
veiligd_broken(const struct conf *conf, char *status, size_t cap)
{
	const struct conf_broken	*br;
	size_t				 i, kept = 0;

	snprintf(status, cap, "STATUS=running");
	if (conf->nbroken == 0)
		return;
	for (i = 0; i < conf->nbroken; i++) {
		br = &conf->broken[i];
		kept += br->kept;
		log_warnx("%s: %u error%s: %s until mended", br->path,
		    br->nerr, br->nerr == 1 ? "" : "s", br->kept ?
		    "its last good version stays in force" : "board left out");
	}
	snprintf(status, cap, "STATUS=running; %zu board file%s with errors "
	    "(%zu kept at the last good version, %zu left out): veiligctl "
	    "status", conf->nbroken, conf->nbroken == 1 ? "" : "s", kept,
	    conf->nbroken - kept);
}

/* Tell systemd something; errors are of no consequence. */
static void
veiligd_notify(const char *what)
{
	sd_notify(0, what);
}

/*
 * Say that what (a key, or "cache settings") of the file at path changed
 * and waits for a restart: in the log, and to veiligctl reload (out, or
 * NULL for SIGHUP), whose user would otherwise take it as applied.
 */
static void
veiligd_restart_note(struct evbuffer *out, const char *path,
    const char *what, int plural)
{
	const char	*them = plural ? "them" : "it";

	log_warnx("%s: %s changed: restart veiligd to apply %s", path, what,
	    them);
	if (out != NULL)
		evbuffer_add_printf(out, "%s: %s changed: restart veiligd to "
		    "apply %s\n", path, what, them);
}

/* Warn about keys whose new value takes a restart to apply. */
static void
veiligd_reload_limits(const struct conf *old, const struct conf *new,
    struct evbuffer *out)
{
	size_t	i;
	int	same;

	same = old->nlisten == new->nlisten;
	for (i = 0; same && i < old->nlisten; i++)
		same = old->listen[i].len == new->listen[i].len &&
		    memcmp(&old->listen[i].ss, &new->listen[i].ss,
		    old->listen[i].len) == 0;
	if (!same)
		veiligd_restart_note(out, new->path, "server.listen", 0);
	if (old->workers != new->workers)
		veiligd_restart_note(out, new->path, "server.workers", 0);
	/* The sockets are opened once, as root, before root is given up. */
	if (old->receive_buffer != new->receive_buffer)
		veiligd_restart_note(out, new->path, "server.receive-buffer",
		    0);
	if (strcmp(old->control, new->control) != 0)
		veiligd_restart_note(out, new->path, "control", 0);
	if (old->metrics.len != new->metrics.len ||
	    memcmp(&old->metrics.ss, &new->metrics.ss, old->metrics.len) != 0)
		veiligd_restart_note(out, new->path, "metrics", 0);
	if ((old->user == NULL) != (new->user == NULL) || (old->user != NULL &&
	    strcmp(old->user, new->user) != 0))
		veiligd_restart_note(out, new->path, "server.user", 0);
	if (old->cache_size != new->cache_size ||
	    old->serve_stale != new->serve_stale ||
	    old->max_ttl != new->max_ttl ||
	    old->max_neg_ttl != new->max_neg_ttl ||
	    old->failure_ttl != new->failure_ttl)
		veiligd_restart_note(out, new->path, "cache settings", 1);
	if (old->rrl_table_size != new->rrl_table_size)
		veiligd_restart_note(out, new->path, "rrl.table-size", 0);
}

/* Work for veiligd_background(): a function and its argument. */
struct veiligd_job {
	void		(*fn)(void *);
	void		 *arg;
	pthread_mutex_t	  mtx;		/* guards idle and raised */
	int		  idle;		/* the thread is SCHED_IDLE */
	int		  raised;	/* the main thread gave up waiting */
	int		  stuck;	/* idle could not have been undone */
};

/*
 * Whether a thread could undo SCHED_IDLE: the kernel asks for leave to
 * take nice 0, RLIMIT_NICE 20 or CAP_SYS_NICE. Root has the one, a user
 * the other through the unit's LimitNICE=. Read from /proc: trying it
 * with setpriority() would meet the unit's system call filter
 * (~@resources) and take its EPERM for a no.
 */
static int
veiligd_job_may_raise(void)
{
	FILE			*f;
	char			 line[256], soft[32];
	unsigned long long	 caps;
	int			 ok = 0;

	if ((f = fopen("/proc/self/limits", "r")) != NULL) {
		while (fgets(line, sizeof line, f) != NULL)
			if (sscanf(line, "Max nice priority %31s", soft) == 1)
				ok = strcmp(soft, "unlimited") == 0 ||
				    strtoull(soft, NULL, 10) >= 20;
		fclose(f);
	}
	if (ok || (f = fopen("/proc/self/status", "r")) == NULL)
		return (ok);
	while (fgets(line, sizeof line, f) != NULL)
		if (sscanf(line, "CapEff: %llx", &caps) == 1)
			ok = (caps >> CAP_SYS_NICE_BIT) & 1;
	fclose(f);
	return (ok);
}

/*
 * The thread of veiligd_background(): SCHED_IDLE, then the work. Only
 * if it could come back from SCHED_IDLE: else it works at the main
 * thread's priority, as every reload did before.
 */
static void *
veiligd_job_run(void *arg)
{
	struct veiligd_job	*job = arg;
	struct sched_param	 sp;

	memset(&sp, 0, sizeof sp);
	pthread_mutex_lock(&job->mtx);
	if (!job->raised) {
		if (!veiligd_job_may_raise())
			job->stuck = 1;
		else if (pthread_setschedparam(pthread_self(), SCHED_IDLE,
		    &sp) == 0)
			job->idle = 1;
	}
	pthread_mutex_unlock(&job->mtx);
	job->fn(job->arg);
	return (NULL);
}

/*
 * Run fn(arg) in a thread of the lowest priority (SCHED_IDLE) and wait
 * for it. A reload's work (a million names read, hashed and sorted: some
 * 0.5 CPU-seconds) then takes only time no worker wants: the scheduler
 * lets a worker woken by a query preempt a SCHED_IDLE thread at once,
 * where the main thread, of the workers' priority, took half of a
 * worker's core while the reload lasted and queries queued up behind it
 * (and nice 19 alone is not enough: Linux's EEVDF scheduler lets the
 * running thread finish its slice, some milliseconds, before a woken
 * one). The main thread only waits meanwhile, as it did while it
 * worked. Signals stay with the main thread.
 *
 * But a SCHED_IDLE thread gets some 0.3 % of a core beside one busy
 * process of any kind, saturated workers or another program: a reload
 * of a second's work took minutes, and veiligctl gave up. So it has
 * VEILIGD_IDLE_MS of idle CPU; if that was not enough, the machine has
 * none to give, and the thread goes on at the main thread's priority.
 * Where it could not come back (no RLIMIT_NICE or CAP_SYS_NICE for it:
 * the unit's LimitNICE= gives it), it is not made SCHED_IDLE at all.
 */
static void
veiligd_background(void (*fn)(void *), void *arg)
{
	static int		said;
	struct veiligd_job	job;
	struct sched_param	sp;
	struct timespec		ts;
	pthread_t		t;
	sigset_t		all, old;
	int			rc;

	memset(&job, 0, sizeof job);
	job.fn = fn;
	job.arg = arg;
	pthread_mutex_init(&job.mtx, NULL);
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	rc = pthread_create(&t, NULL, veiligd_job_run, &job);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (rc != 0) {
		log_warnx("reload: no thread (%s); working at full priority",
		    strerror(rc));
		fn(arg);
		pthread_mutex_destroy(&job.mtx);
		return;
	}
	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_sec += VEILIGD_IDLE_MS / 1000;
	ts.tv_nsec += (long)(VEILIGD_IDLE_MS % 1000) * 1000000L;
	if (ts.tv_nsec >= 1000000000L) {
		ts.tv_sec++;
		ts.tv_nsec -= 1000000000L;
	}
	if (pthread_timedjoin_np(t, NULL, &ts) != 0) {
		/* No idle CPU for it: the main thread's priority. */
		memset(&sp, 0, sizeof sp);
		pthread_mutex_lock(&job.mtx);
		job.raised = 1;
		if (job.idle && (rc = pthread_setschedparam(t, SCHED_OTHER,
		    &sp)) != 0)
			log_warnx("reload: left at SCHED_IDLE (%s)",
			    strerror(rc));
		else if (job.idle)
			log_info("reload: no idle CPU for %d ms, going on at "
			    "normal priority", VEILIGD_IDLE_MS);
		pthread_mutex_unlock(&job.mtx);
		pthread_join(t, NULL);
	}
	if (job.stuck && !said) {
		said = 1;
		log_warnx("reload: background work at normal priority: its "
		    "priority could not be raised again (RLIMIT_NICE, "
		    "CAP_SYS_NICE)");
	}
	pthread_mutex_destroy(&job.mtx);
}

/* A reload's build, for veiligd_background(). */
struct veiligd_build {
	struct veiligd		*vd;
	struct veiligd_errors	*e;
	struct snapshot		*snap;		/* the result, or NULL */
};

static void
veiligd_build_cb(void *arg)
{
	struct veiligd_build	*b = arg;

	b->snap = veiligd_load(b->vd->path, b->vd->snap, b->e);
}

/* A reload's statistics flush, for veiligd_background(). */
static void
veiligd_flush_cb(void *arg)
{
	struct veiligd	*vd = arg;

	stats_flush(vd->stats, time(NULL), 0);
}

/*
 * Free a snapshot no worker sees any more, and give the memory back to
 * the system (the large tables are mmapped and go at once; this returns
 * what the small blocks of the policy and configuration left free).
 */
static void
veiligd_retire_cb(void *arg)
{
	snapshot_free(arg);
	malloc_trim(0);
}

/* Note how a reload went, for the metrics. */
static void
veiligd_reloaded(struct veiligd *vd, int ok)
{
	pthread_mutex_lock(&vd->mlock);
	vd->reload_time = time(NULL);
	vd->reload_ok = ok;
	if (ok)
		vd->reloads_ok++;
	else
		vd->reloads_failed++;
	pthread_mutex_unlock(&vd->mlock);
}

/*
 * SIGHUP or veiligctl reload: build a new snapshot off the query path and
 * swap it in, or keep the old one and say why (errors also into out).
 * The building and the freeing run at the lowest priority
 * (veiligd_background()). Returns 0 or -1.
 */
static int
veiligd_reload(struct veiligd *vd, struct evbuffer *out)
{
	struct veiligd_errors	 e;
	struct veiligd_build	 b;
	struct snapshot		*snap, *old;
	struct timespec		 ts;
	char			 msg[256], status[240];

	/* Allocate first: systemd must never be left in RELOADING. */
	memset(&e, 0, sizeof e);
	if (out != NULL && (e.out = evbuffer_new()) == NULL) {
		evbuffer_add_printf(out, "reload failed: out of memory\n");
		return (-1);
	}
	clock_gettime(CLOCK_MONOTONIC, &ts);
	snprintf(msg, sizeof msg, "RELOADING=1\nMONOTONIC_USEC=%llu",
	    (unsigned long long)ts.tv_sec * 1000000 + ts.tv_nsec / 1000);
	veiligd_notify(msg);
	log_info("reloading %s", vd->path);
	b.vd = vd;
	b.e = &e;
	veiligd_background(veiligd_build_cb, &b);
	if ((snap = b.snap) == NULL) {
		log_warnx("reload failed: %u error%s in %s; the configuration "
		    "in force stays", e.n, e.n == 1 ? "" : "s", vd->path);
		if (out != NULL) {
			/* The reason first, then every error. */
			evbuffer_add_printf(out, "reload failed: %u error%s; "
			    "the configuration in force stays\n", e.n,
			    e.n == 1 ? "" : "s");
			evbuffer_add_buffer(out, e.out);
			evbuffer_free(e.out);
		}
		veiligd_notify("READY=1\nSTATUS=reload failed, old "
		    "configuration in force");
		veiligd_reloaded(vd, 0);
		return (-1);
	}
	/*
	 * The open interval is written as it was counted (boards under the
	 * names they had), then the new settings (interval, k, directory)
	 * apply from a fresh one. Its fold and close read every board's
	 * record (about a second at 10,000 boards): in the background too,
	 * so that a worker's core gives it only what the worker leaves.
	 */
	veiligd_background(veiligd_flush_cb, vd);
	/* Stable statistics numbers for its boards, before it is used. */
	if ((snap->stats = stats_map_new(vd->stats, snap->conf,
	    snap->policy)) == NULL) {
		log_warnx("reload failed: out of memory; the configuration in "
		    "force stays");
		if (out != NULL)
			evbuffer_add_printf(out, "reload failed: out of "
			    "memory\n");
		if (e.out != NULL)
			evbuffer_free(e.out);
		snapshot_free(snap);
		veiligd_notify("READY=1\nSTATUS=reload failed, old "
		    "configuration in force");
		veiligd_reloaded(vd, 0);
		return (-1);
	}
	if (e.out != NULL) {
		/* Warnings (lines skipped in lists) go to the client too. */
		evbuffer_add_buffer(out, e.out);
		evbuffer_free(e.out);
	}
	veiligd_reload_limits(vd->snap->conf, snap->conf, out);
	if (snap->conf->nboards == 0)
		log_warnx("no board file matches %s: every client is refused",
		    snap->conf->boards_glob);
	stats_configure(vd->stats, snap->conf);
	old = snapshot_swap(snap);
	veiligd_background(veiligd_retire_cb, old);
	vd->snap = snap;
	vd->loaded = time(NULL);
	log_warnx("reloaded %s", vd->path);
	if (out != NULL)
		evbuffer_add_printf(out, "reloaded %s\n", vd->path);
	if (out != NULL && snap->conf->nbroken != 0)
		evbuffer_add_printf(out, "%zu board file%s errors: "
		    "veiligctl status says which\n", snap->conf->nbroken,
		    snap->conf->nbroken == 1 ? " has" : "s have");
	veiligd_broken(snap->conf, status, sizeof status);
	snprintf(msg, sizeof msg, "READY=1\n%s", status);
	veiligd_notify(msg);
	veiligd_reloaded(vd, 1);
	return (0);
}

/*
 * The user to become, from server.user: 1 with *u set when started as
 * root and the key is set; 0 when there is nothing to drop, with a
 * warning when that matters. A user that cannot be had is fatal.
 */
static int
veiligd_user(const struct conf *conf, struct priv_user *u)
{
	char	err[256];

	if (geteuid() != 0) {
		/* Under systemd, User= in the unit has done it. */
		if (conf->user != NULL && (priv_lookup(conf->user, u, err,
		    sizeof err) == -1 || u->uid != geteuid()))
			log_warnx("%s: server.user %s: not started as root, "
			    "so running on as uid %u", conf->path, conf->user,
			    (unsigned)geteuid());
		return (0);
	}
	if (conf->user == NULL) {
		log_warnx("%s: running as root: set server.user to give up "
		    "root once the sockets are bound", conf->path);
		return (0);
	}
	if (priv_lookup(conf->user, u, err, sizeof err) == -1)
		fatalx("%s: server.user: %s", conf->path, err);
	return (1);
}

/* Warn about path, if a reload will need it and cannot read it. */
static void
veiligd_readable(const char *path, int mode, const char *user)
{
	if (path != NULL && access(path, mode) == -1)
		log_warnx("%s: %s for user %s: a reload will fail", path,
		    strerror(errno), user);
}

/*
 * Give up root, every socket being bound: the control socket goes to the
 * user and its group first, so that veiligctl run as the user (as
 * veilig-update-lists is) may talk to it, and so does the statistics
 * directory if this start made it (statsdir, else NULL), for the user
 * writes in it. Then warn about every file a reload reads that the user
 * cannot.
 */
static void
veiligd_drop(const struct conf *conf, const struct priv_user *u,
    const char *statsdir)
{
	char	err[256], *dir, *slash;
	size_t	i;

	if (chown(conf->control, u->uid, u->gid) == -1)
		fatal("%s: chown", conf->control);
	if (statsdir != NULL && chown(statsdir, u->uid, u->gid) == -1)
		fatal("%s: chown", statsdir);
	if (priv_drop(u, err, sizeof err) == -1)
		fatalx("server.user %s: %s", conf->user, err);
	log_info("running as user %s (uid %u, gid %u)", conf->user,
	    (unsigned)u->uid, (unsigned)u->gid);

	veiligd_readable(conf->path, R_OK, conf->user);
	if ((dir = strdup(conf->boards_glob)) != NULL &&
	    (slash = strrchr(dir, '/')) != NULL) {
		*slash = '\0';
		veiligd_readable(*dir != '\0' ? dir : "/", R_OK | X_OK,
		    conf->user);
	}
	free(dir);
	for (i = 0; i < conf->nboards; i++)
		veiligd_readable(conf->boards[i].path, R_OK, conf->user);
	for (i = 0; i < conf->nbroken; i++)
		veiligd_readable(conf->broken[i].path, R_OK, conf->user);
	for (i = 0; i < conf->nlists; i++)
		veiligd_readable(conf->lists[i].file, R_OK, conf->user);
	veiligd_readable(conf->tables, R_OK | X_OK, conf->user);
	veiligd_readable(conf->geoip_country, R_OK, conf->user);
	veiligd_readable(conf->geoip_asn, R_OK, conf->user);
	if (conf->stats_dir != NULL && access(conf->stats_dir, W_OK | X_OK) ==
	    -1)
		log_warnx("%s: %s for user %s: statistics cannot be written",
		    conf->stats_dir, strerror(errno), conf->user);
}

/* Timer ev fires in us microseconds. */
static void
veiligd_timer_in(struct event *ev, long us)
{
	struct timeval	tv;

	tv.tv_sec = us / 1000000;
	tv.tv_usec = us % 1000000;
	evtimer_add(ev, &tv);
}

/* A slice of the statistics' fold again in us microseconds (-1: none). */
static void
veiligd_slice_at(struct veiligd *vd, long us)
{
	vd->slice_end = stats_clock();
	if (us >= 0)
		veiligd_timer_in(vd->slice, us);
}

/*
 * The next slice of the statistics' fold: between slices the loop runs
 * and, more to the point, a worker sharing main's core does.
 */
static void
veiligd_slice_cb(evutil_socket_t fd, short events, void *arg)
{
	struct veiligd	*vd = arg;
	uint64_t	 ns;

	(void)fd;
	(void)events;
	ns = stats_tick_budget(vd->stats, stats_clock() - vd->slice_end);
	veiligd_slice_at(vd, stats_tick_slice(vd->stats, ns));
}

/*
 * The kernel's figures of the listening UDP sockets (worker.h). When it
 * will not give them, say so once: the figures are then left out of
 * veiligctl stats and /metrics, and this line is all that says why.
 */
static void
veiligd_rxq(struct veiligd *vd)
{
	unsigned	i;

	for (i = 0; i < vd->nworkers; i++)
		if (worker_rxq_read(vd->workers[i]) == -1 &&
		    !vd->rxq_warned) {
			log_warn("listening UDP sockets: the datagrams dropped "
			    "and the octets queued are unknown, left out of "
			    "veiligctl stats and /metrics: getsockopt "
			    "SO_MEMINFO");
			vd->rxq_warned = 1;
		}
}

/*
 * Once a second: the statistics fold and, now and then, write; and the
 * sockets' drops, often enough that their 32-bit count cannot wrap
 * unseen.
 */
static void
veiligd_tick_cb(evutil_socket_t fd, short events, void *arg)
{
	struct veiligd	*vd = arg;

	(void)fd;
	(void)events;
	veiligd_rxq(vd);
	veiligd_slice_at(vd, stats_tick_begin(vd->stats, time(NULL),
	    STATS_SLICE_NS));
	veiligd_timer_in(vd->tick, stats_tick_usec());
}

static void
veiligd_signal_cb(evutil_socket_t sig, short events, void *arg)
{
	struct veiligd	*vd = arg;

	(void)events;
	switch (sig) {
	case SIGHUP:
		veiligd_reload(vd, NULL);
		break;
	case SIGTERM:
	case SIGINT:
		log_info("stopping on signal %d", (int)sig);
		veiligd_notify("STOPPING=1");
		event_base_loopbreak(vd->base);
		break;
	}
}

/* Add up the workers' counters. */
static void
veiligd_sum(const struct veiligd *vd, struct worker_stats *sum)
{
	struct worker_stats	st;
	unsigned		i;

	memset(sum, 0, sizeof *sum);
	sum->rxq_known = 1;
	for (i = 0; i < vd->nworkers; i++) {
		worker_stats(vd->workers[i], &st);
		sum->udp_queries += st.udp_queries;
		sum->tcp_queries += st.tcp_queries;
		sum->dropped += st.dropped;
		sum->refused += st.refused;
		sum->formerr += st.formerr;
		sum->cache_hits += st.cache_hits;
		sum->forwarded += st.forwarded;
		sum->shared += st.shared;
		sum->stale += st.stale;
		sum->servfail += st.servfail;
		sum->failed += st.failed;
		sum->limit_worker += st.limit_worker;
		sum->limit_question += st.limit_question;
		sum->limit_client += st.limit_client;
		sum->rrl_dropped += st.rrl_dropped;
		sum->rrl_slipped += st.rrl_slipped;
		sum->blocked += st.blocked;
		sum->memo_hits += st.memo_hits;
		sum->rewritten += st.rewritten;
		sum->tcp_accepted += st.tcp_accepted;
		sum->tcp_rejected += st.tcp_rejected;
		sum->tcp_refused += st.tcp_refused;
		sum->tcp_client_limit += st.tcp_client_limit;
		sum->tcp_deadline += st.tcp_deadline;
		sum->tcp_unread += st.tcp_unread;
		sum->rxq_drops += st.rxq_drops;
		sum->rxq_octets += st.rxq_octets;
		if (!st.rxq_known)
			sum->rxq_known = 0;
	}
}

/* Log the counters at -v, at shutdown. */
static void
veiligd_log_stats(const struct veiligd *vd)
{
	struct worker_stats	s;

	if (!log_would(LOG_LEVEL_INFO))
		return;
	veiligd_sum(vd, &s);
	log_info("queries udp %llu tcp %llu, cache hits %llu, forwarded %llu, "
	    "blocked %llu, rewritten %llu, stale %llu, servfail %llu, "
	    "refused %llu, formerr %llu, dropped %llu",
	    (unsigned long long)s.udp_queries,
	    (unsigned long long)s.tcp_queries,
	    (unsigned long long)s.cache_hits,
	    (unsigned long long)s.forwarded, (unsigned long long)s.blocked,
	    (unsigned long long)s.rewritten, (unsigned long long)s.stale,
	    (unsigned long long)s.servfail, (unsigned long long)s.refused,
	    (unsigned long long)s.formerr, (unsigned long long)s.dropped);
}

/* veiligctl status: what runs, on which configuration. */
static int
veiligd_cmd_status(void *arg, int argc, char **argv, struct evbuffer *out)
{
	struct veiligd		*vd = arg;
	const struct conf	*conf = vd->snap->conf;
	const struct conf_broken *br;
	struct cache_stats	 cs;
	char			 when[64];
	size_t			 i;

	(void)argc;
	(void)argv;
	strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%S%z",
	    localtime(&vd->loaded));
	cache_stats(vd->cache, &cs);
	evbuffer_add_printf(out, "configuration: %s (loaded %s)\n"
	    "workers: %u\nboards: %zu\nlists: %zu\nupstreams: %zu\n"
	    "cache: %llu entries, %llu bytes of %llu\n", vd->path, when,
	    vd->nworkers, conf->nboards, conf->nlists, conf->nupstreams,
	    (unsigned long long)cs.entries, (unsigned long long)cs.bytes,
	    (unsigned long long)cs.max_bytes);
	/* Until mended and reloaded: which, what became of it, and why. */
	evbuffer_add_printf(out, "board files with errors: %zu\n",
	    conf->nbroken);
	for (i = 0; i < conf->nbroken; i++) {
		br = &conf->broken[i];
		evbuffer_add_printf(out, "  %s: %s; %u error%s, the first: "
		    "%s\n", br->path, br->kept ? "last good version kept" :
		    "left out", br->nerr, br->nerr == 1 ? "" : "s",
		    br->error != NULL ? br->error : "?");
	}
	return (0);
}

/*
 * veiligctl stats [--json] [BOARD]: the daemon's counters, then per board
 * the open interval, today and the totals (stats_show).
 */
static int
veiligd_cmd_stats(void *arg, int argc, char **argv, struct evbuffer *out)
{
	struct veiligd		*vd = arg;
	struct worker_stats	 s;
	struct cache_stats	 cs;
	const char		*board = NULL;
	size_t			 n;
	int			 i, json = 0;

	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--json") == 0 && !json)
			json = 1;
		else if (board == NULL && argv[i][0] != '-')
			board = argv[i];
		else {
			evbuffer_add_printf(out, "'%s': not a board, or a "
			    "second one\nusage: stats [--json] [BOARD]\n",
			    argv[i]);
			return (-1);
		}
	}
	/* The main thread's, as the tick's: read now, not a second ago. */
	veiligd_rxq(vd);
	veiligd_sum(vd, &s);
	cache_stats(vd->cache, &cs);
	{
		const struct stats_extra extra[] = {
			{ "queries.udp", s.udp_queries },
			{ "queries.tcp", s.tcp_queries },
			{ "answers.cache", s.cache_hits },
			{ "answers.forwarded", s.forwarded },
			{ "answers.shared", s.shared },
			{ "answers.stale", s.stale },
			{ "answers.blocked", s.blocked },
			/* Of those, the verdicts the workers' memos had. */
			{ "answers.blocked-memo", s.memo_hits },
			{ "answers.rewritten", s.rewritten },
			{ "answers.servfail", s.servfail },
			{ "answers.refused", s.refused },
			{ "answers.formerr", s.formerr },
			{ "dropped", s.dropped },
			{ "tcp.accepted", s.tcp_accepted },
			{ "tcp.rejected", s.tcp_rejected },
			{ "cache.entries", cs.entries },
			{ "cache.bytes", cs.bytes },
			{ "cache.evictions", cs.evictions },
			/* What the limits turned away (limits:, rrl:, RFC
			   9520, TCP). */
			{ "answers.failed", s.failed },
			{ "limits.forwarded", s.limit_worker },
			{ "limits.per-question", s.limit_question },
			{ "limits.client-share", s.limit_client },
			{ "rrl.dropped", s.rrl_dropped },
			{ "rrl.slipped", s.rrl_slipped },
			{ "tcp.refused", s.tcp_refused },
			{ "tcp.client-limit", s.tcp_client_limit },
			{ "tcp.deadline", s.tcp_deadline },
			{ "tcp.unread", s.tcp_unread },
			/* The kernel's: the listening sockets were full.
			   Last, so that they can be left out when the
			   kernel does not tell (veiligd_rxq()). */
			{ "udp.receive-drops", s.rxq_drops },
			{ "udp.receive-queue-bytes", s.rxq_octets },
		};

		n = sizeof extra / sizeof extra[0];
		if (!s.rxq_known)
			n -= 2;
		return (stats_show(vd->stats, board, json, extra, n, out));
	}
}

/* veiligctl reload: as SIGHUP, with the errors sent back. */
static int
veiligd_cmd_reload(void *arg, int argc, char **argv, struct evbuffer *out)
{
	(void)argc;
	(void)argv;
	return (veiligd_reload(arg, out));
}

/* veiligctl flush: empty the cache. */
static int
veiligd_cmd_flush(void *arg, int argc, char **argv, struct evbuffer *out)
{
	struct veiligd	*vd = arg;

	(void)argc;
	(void)argv;
	cache_flush(vd->cache);
	evbuffer_add_printf(out, "cache flushed\n");
	return (0);
}

/* veiligctl explain BOARD|ADDRESS NAME [TYPE]. */
static int
veiligd_cmd_explain(void *arg, int argc, char **argv, struct evbuffer *out)
{
	struct veiligd			*vd = arg;
	const struct policy		*p = vd->snap->policy;
	const struct policy_board	*b;
	struct sockaddr_in		 sin;
	struct sockaddr_in6		 sin6;
	ldns_rr_type			 type = LDNS_RR_TYPE_A;

	memset(&sin, 0, sizeof sin);
	memset(&sin6, 0, sizeof sin6);
	if (inet_pton(AF_INET, argv[1], &sin.sin_addr) == 1) {
		sin.sin_family = AF_INET;
		b = policy_board_for(p, (struct sockaddr *)&sin);
	} else if (inet_pton(AF_INET6, argv[1], &sin6.sin6_addr) == 1) {
		sin6.sin6_family = AF_INET6;
		b = policy_board_for(p, (struct sockaddr *)&sin6);
	} else
		b = policy_board_named(p, argv[1]);
	if (b == NULL) {
		evbuffer_add_printf(out, "%s: no such board, and no board has "
		    "that address\n", argv[1]);
		return (-1);
	}
	if (argc > 3 && ((type = ldns_get_rr_type_by_name(argv[3])) == 0 ||
	    type > 65535)) {
		evbuffer_add_printf(out, "%s: unknown type\n", argv[3]);
		return (-1);
	}
	return (policy_explain(p, b, argv[2], (uint16_t)type, out));
}

/* veiligctl boards. */
static int
veiligd_cmd_boards(void *arg, int argc, char **argv, struct evbuffer *out)
{
	struct veiligd	*vd = arg;

	(void)argc;
	(void)argv;
	policy_boards(vd->snap->policy, out);
	return (0);
}

/* veiligctl lists (read by veilig-update-lists). */
static int
veiligd_cmd_lists(void *arg, int argc, char **argv, struct evbuffer *out)
{
	struct veiligd	*vd = arg;

	(void)argc;
	(void)argv;
	policy_lists(vd->snap->policy, out);
	return (0);
}

/*
 * The kernel's figures of the listening UDP sockets; left out, not 0,
 * when it does not give them (veiligd_rxq() said so in the log): a
 * missing series is what Prometheus takes for "unknown", where a 0 would
 * say that nothing was dropped.
 */
static void
veiligd_metrics_rxq(const struct worker_stats *s, struct evbuffer *out)
{
	if (!s->rxq_known)
		return;
	metrics_head(out, "veilig_udp_receive_drops_total", "counter",
	    "Datagrams the kernel dropped on the listening UDP sockets, their "
	    "receive buffers being full (server.receive-buffer). Left out "
	    "when the kernel does not tell (see the log).");
	evbuffer_add_printf(out, "veilig_udp_receive_drops_total %llu\n",
	    (unsigned long long)s->rxq_drops);
	metrics_head(out, "veilig_udp_receive_queue_bytes", "gauge",
	    "Octets waiting in the listening UDP sockets' receive buffers. "
	    "Left out when the kernel does not tell (see the log).");
	evbuffer_add_printf(out, "veilig_udp_receive_queue_bytes %llu\n",
	    (unsigned long long)s->rxq_octets);
}

/* The metrics of the workers' and the cache's counters. */
static void
veiligd_metrics_counters(struct veiligd *vd, struct evbuffer *out)
{
	struct worker_stats	s;
	struct cache_stats	cs;

	veiligd_sum(vd, &s);
	metrics_head(out, "veilig_dns_queries_total", "counter",
	    "Queries received, by transport.");
	evbuffer_add_printf(out, "veilig_dns_queries_total{transport=\"udp\"}"
	    " %llu\nveilig_dns_queries_total{transport=\"tcp\"} %llu\n",
	    (unsigned long long)s.udp_queries,
	    (unsigned long long)s.tcp_queries);
	metrics_head(out, "veilig_dns_dropped_total", "counter",
	    "Queries not answered at all (malformed, responses, send errors).");
	evbuffer_add_printf(out, "veilig_dns_dropped_total %llu\n",
	    (unsigned long long)s.dropped);
	metrics_head(out, "veilig_tcp_connections_total", "counter",
	    "TCP connections: accepted; closed at once: rejected (over "
	    "tcp-max-connections), refused (no board's address), client_limit "
	    "(over tcp-max-connections-per-client).");
	evbuffer_add_printf(out, "veilig_tcp_connections_total{result="
	    "\"accepted\"} %llu\nveilig_tcp_connections_total{result="
	    "\"rejected\"} %llu\nveilig_tcp_connections_total{result="
	    "\"refused\"} %llu\nveilig_tcp_connections_total{result="
	    "\"client_limit\"} %llu\n", (unsigned long long)s.tcp_accepted,
	    (unsigned long long)s.tcp_rejected,
	    (unsigned long long)s.tcp_refused,
	    (unsigned long long)s.tcp_client_limit);
	metrics_head(out, "veilig_tcp_deadline_closed_total", "counter",
	    "TCP connections closed at tcp-query-timeout: a query, or the "
	    "reading of its answers, too slow.");
	evbuffer_add_printf(out, "veilig_tcp_deadline_closed_total %llu\n",
	    (unsigned long long)s.tcp_deadline);
	metrics_head(out, "veilig_tcp_unread_dropped_total", "counter",
	    "TCP answers dropped: the client left too many unread.");
	evbuffer_add_printf(out, "veilig_tcp_unread_dropped_total %llu\n",
	    (unsigned long long)s.tcp_unread);
	veiligd_metrics_rxq(&s, out);
	metrics_head(out, "veilig_workers", "gauge", "Worker threads.");
	evbuffer_add_printf(out, "veilig_workers %u\n", vd->nworkers);
	cache_stats(vd->cache, &cs);
	metrics_head(out, "veilig_cache_entries", "gauge",
	    "Answers in the cache.");
	evbuffer_add_printf(out, "veilig_cache_entries %llu\n",
	    (unsigned long long)cs.entries);
	metrics_head(out, "veilig_cache_bytes", "gauge",
	    "Memory charged to cached answers.");
	evbuffer_add_printf(out, "veilig_cache_bytes %llu\n",
	    (unsigned long long)cs.bytes);
	/* The cache's own, not the newest configuration's: a reload
	   leaves the cache as it is (veiligd_reload_limits()). */
	metrics_head(out, "veilig_cache_max_bytes", "gauge",
	    "The cache size in force: cache.size as veiligd started with it "
	    "(a reload does not change it).");
	evbuffer_add_printf(out, "veilig_cache_max_bytes %llu\n",
	    (unsigned long long)cs.max_bytes);
	metrics_head(out, "veilig_cache_lookups_total", "counter",
	    "Cache lookups by result.");
	evbuffer_add_printf(out, "veilig_cache_lookups_total{result=\"hit\"} "
	    "%llu\nveilig_cache_lookups_total{result=\"stale\"} %llu\n"
	    "veilig_cache_lookups_total{result=\"miss\"} %llu\n",
	    (unsigned long long)cs.hits, (unsigned long long)cs.stale_hits,
	    (unsigned long long)cs.misses);
	metrics_head(out, "veilig_cache_inserts_total", "counter",
	    "Answers stored in the cache.");
	evbuffer_add_printf(out, "veilig_cache_inserts_total %llu\n",
	    (unsigned long long)cs.inserts);
	metrics_head(out, "veilig_cache_unstored_total", "counter",
	    "Answers and failures not stored: no free slot in the index "
	    "within reach of their hash.");
	evbuffer_add_printf(out, "veilig_cache_unstored_total %llu\n",
	    (unsigned long long)cs.unstored);
	metrics_head(out, "veilig_cache_evictions_total", "counter",
	    "Answers removed to stay within the cache size.");
	evbuffer_add_printf(out, "veilig_cache_evictions_total %llu\n",
	    (unsigned long long)cs.evictions);
}

/* The metrics of the configuration in force and of the last reload. */
static void
veiligd_metrics_config(struct veiligd *vd, struct evbuffer *out)
{
	const struct snapshot	*snap;
	char			 name[160];
	size_t			 i;

	snapshot_read_begin();
	if ((snap = snapshot_current()) != NULL) {
		metrics_head(out, "veilig_policy_generation", "gauge",
		    "Generation of the policy in force (changes with every "
		    "reload).");
		evbuffer_add_printf(out, "veilig_policy_generation %u\n",
		    policy_generation(snap->policy));
		metrics_head(out, "veilig_boards", "gauge",
		    "Boards in the configuration in force.");
		evbuffer_add_printf(out, "veilig_boards %zu\n",
		    snap->conf->nboards);
		metrics_head(out, "veilig_list_entries", "gauge",
		    "Entries loaded from each list.");
		for (i = 0; i < snap->conf->nlists; i++)
			evbuffer_add_printf(out, "veilig_list_entries{list="
			    "\"%s\"} %zu\n", metrics_label(
			    snap->conf->lists[i].name, name, sizeof name),
			    policy_list_entries(snap->policy, i));
	}
	snapshot_read_end();

	pthread_mutex_lock(&vd->mlock);
	metrics_head(out, "veilig_config_loaded_timestamp_seconds", "gauge",
	    "When the configuration in force was loaded.");
	evbuffer_add_printf(out, "veilig_config_loaded_timestamp_seconds "
	    "%lld\n", (long long)vd->loaded);
	metrics_head(out, "veilig_config_last_reload_timestamp_seconds",
	    "gauge", "When the last reload was tried (0: none yet).");
	evbuffer_add_printf(out, "veilig_config_last_reload_timestamp_seconds "
	    "%lld\n", (long long)vd->reload_time);
	metrics_head(out, "veilig_config_last_reload_success", "gauge",
	    "1 if the last reload was applied, 0 if it was refused (1 "
	    "before any).");
	evbuffer_add_printf(out, "veilig_config_last_reload_success %d\n",
	    vd->reload_time == 0 || vd->reload_ok);
	metrics_head(out, "veilig_config_reloads_total", "counter",
	    "Reloads, applied or refused.");
	evbuffer_add_printf(out, "veilig_config_reloads_total{result="
	    "\"applied\"} %llu\nveilig_config_reloads_total{result="
	    "\"refused\"} %llu\n", (unsigned long long)vd->reloads_ok,
	    (unsigned long long)vd->reloads_failed);
	pthread_mutex_unlock(&vd->mlock);
}

/*
 * The Prometheus page, in the metrics thread: the statistics (under
 * their lock), the workers' and cache's counters (plain reads, as for
 * veiligctl), the configuration in force (in a snapshot read section),
 * the last reload, the process.
 */
static void
veiligd_metrics_cb(void *arg, struct evbuffer *out)
{
	struct veiligd	*vd = arg;

	stats_prometheus(vd->stats, out);
	veiligd_metrics_counters(vd, out);
	veiligd_metrics_config(vd, out);
	metrics_process(out, vd->started);
}

static const struct control_cmd veiligd_cmds[] = {
	{ "status", 0, 0, "status", "what runs, on which configuration",
	  veiligd_cmd_status },
	{ "stats", 0, 2, "stats [--json] [BOARD]",
	  "counters; per board the open interval, today and totals",
	  veiligd_cmd_stats },
	{ "reload", 0, 0, "reload", "re-read the configuration (as SIGHUP)",
	  veiligd_cmd_reload },
	{ "flush", 0, 0, "flush", "empty the cache", veiligd_cmd_flush },
	{ "explain", 2, 3, "explain BOARD|ADDRESS NAME [TYPE]",
	  "the verdict on a name for a board, and why", veiligd_cmd_explain },
	{ "boards", 0, 0, "boards", "the boards and their policies",
	  veiligd_cmd_boards },
	{ "lists", 0, 0, "lists", "the lists: name, format, file, url",
	  veiligd_cmd_lists },
};

/*
 * -n: stats.dir, as a start would make it (statsfile_dir()) and write in
 * it, without making it: run as root with server.user set, as that user
 * (a start makes a missing one for the user, veiligd_drop(), and only
 * warns of one there that the user cannot write, once the files are
 * lost); otherwise as whoever runs the check. -1 if it would fail
 * (reported at the key's file:line:column).
 */
static int
veiligd_check_stats(const struct conf *cf, struct veiligd_errors *e)
{
	struct priv_user	 pu;
	const char		*user = NULL;
	char			 err[256], *cause = NULL, *msg;

	if (cf->stats_dir == NULL)
		return (0);
	pu.uid = geteuid();
	pu.gid = getegid();
	/* A user not found is the check's error of server.user. */
	if (cf->user != NULL && geteuid() == 0 &&
	    priv_lookup(cf->user, &pu, err, sizeof err) == 0)
		user = cf->user;
	if (statsfile_dir_check(cf->stats_dir, user, pu.uid, pu.gid,
	    &cause) == 0)
		return (0);
	if (asprintf(&msg, "%s:%u:%u: %s", cf->path, cf->stats_dir_line,
	    cf->stats_dir_col, cause != NULL ? cause : "out of memory") == -1)
		msg = NULL;
	veiligd_error_cb(e, msg != NULL ? msg : "stats.dir: out of memory");
	free(msg);
	free(cause);
	return (-1);
}

/*
 * -n: check the whole configuration (veiligd.yaml, boards, lists,
 * tables, stats.dir), print every error as "file:line:column: message"
 * and return the exit status, 0 or 1.
 */
static int
veiligd_check(const char *path)
{
	struct veiligd_errors	 e;
	struct snapshot		*snap = NULL;
	struct conf		*cf;
	struct priv_user	 pu;
	char			 err[256];
	int			 stats_bad = 0;

	memset(&e, 0, sizeof e);
	e.bare = 1;
	/*
	 * With -v the configuration in effect is printed as soon as
	 * veiligd.yaml and the boards are read, before the lists:
	 * veilig-update-lists reads the list table from it before the
	 * first start, when the list files do not exist yet.
	 */
	if ((cf = conf_load(path, veiligd_error_cb, &e)) != NULL) {
		if (log_verbose > 0)
			conf_print(cf, stdout);
		stats_bad = veiligd_check_stats(cf, &e) == -1;
		snap = snapshot_new(cf, NULL, veiligd_error_cb, &e);
	}
	/* The user must exist here, whoever runs the check. */
	if (snap != NULL && snap->conf->user != NULL &&
	    priv_lookup(snap->conf->user, &pu, err, sizeof err) == -1) {
		e.n++;
		fprintf(stderr, "%s: server.user: %s\n", path, err);
		snapshot_free(snap);
		snap = NULL;
	}
	if (stats_bad) {
		snapshot_free(snap);
		snap = NULL;
	}
	if (snap == NULL) {
		fprintf(stderr, "%s: %u error%s\n", path, e.n,
		    e.n == 1 ? "" : "s");
		return (1);
	}
	if (snap->conf->nboards == 0)
		fprintf(stderr, "%s: warning: no board file matches %s: every "
		    "client is refused\n", path, snap->conf->boards_glob);
	fprintf(stderr, "%s: configuration OK\n", path);
	snapshot_free(snap);
	return (0);
}

/*
 * The first load of the whole configuration (veiligd.yaml, boards, lists,
 * tables) at path; any error is fatal. The systemd STATUS= line for the
 * board files with errors goes into status (cap octets).
 */
static struct snapshot *
veiligd_first(const char *path, char *status, size_t cap)
{
	struct veiligd_errors	 e;
	struct snapshot		*snap;

	/*
	 * Blocks of 128 KiB and more (the lists' tables) are mmapped and go
	 * back to the system when freed. glibc would otherwise raise that
	 * bound to the largest block freed so far, up to 32 MiB, and put the
	 * next reload's tables on the heap, where what is freed is not given
	 * back until malloc_trim().
	 */
	mallopt(M_MMAP_THRESHOLD, VEILIGD_MMAP_MIN);
	memset(&e, 0, sizeof e);
	if ((snap = veiligd_load(path, NULL, &e)) == NULL)
		fatalx("%u error%s in %s", e.n, e.n == 1 ? "" : "s", path);
	veiligd_broken(snap->conf, status, cap);
	/* What the load used and left free (the list reader's buffers). */
	malloc_trim(0);
	if (snap->conf->nboards == 0)
		log_warnx("no board file matches %s: every client is refused",
		    snap->conf->boards_glob);
	return (snap);
}

/*
 * The cache, the table of questions in flight and the workers with their
 * sockets, for the configuration of snap, which comes into force. Any
 * failure is fatal: this is start-up.
 */
static void
veiligd_start(struct veiligd *vd, struct snapshot *snap)
{
	const struct conf	*conf = snap->conf;
	struct rlimit		 rl;
	char			*cause;
	unsigned		 i;
	long			 ncpu;

	/* Every upstream query in flight holds a socket: take what we may. */
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
	vd->cache = cache_new(conf->cache_size, conf->serve_stale,
	    conf->max_ttl, conf->max_neg_ttl);
	if (vd->cache == NULL)
		fatalx("cache: out of memory");
	cache_set_failure_ttl(vd->cache, conf->failure_ttl);
	/* Its counters take memory only once a rate is set (rrl.h). */
	if ((vd->inflight = inflight_new()) == NULL ||
	    (vd->rrl = rrl_new(conf->rrl_table_size)) == NULL)
		fatalx("out of memory");
	vd->nworkers = conf->workers;
	if (vd->nworkers == 0) {
		ncpu = sysconf(_SC_NPROCESSORS_ONLN);
		vd->nworkers = ncpu > 0 ? (unsigned)ncpu : 1;
	}
	if ((vd->workers = calloc(vd->nworkers, sizeof *vd->workers)) == NULL)
		fatal("calloc");
	if ((vd->stats = stats_new(conf, vd->nworkers, &cause)) == NULL)
		fatalx("%s", cause != NULL ? cause : "statistics failed");
	if ((snap->stats = stats_map_new(vd->stats, conf, snap->policy)) ==
	    NULL)
		fatalx("statistics: out of memory");
	/* Bound now, so that an address in use is a start-up error. */
	if (conf->metrics.len != 0 && (vd->metrics = metrics_new(
	    &conf->metrics, veiligd_metrics_cb, vd, &cause)) == NULL)
		fatalx("%s", cause != NULL ? cause : "metrics failed");
	for (i = 0; i < vd->nworkers; i++) {
		vd->workers[i] = worker_new(i, vd->nworkers, conf, vd->cache,
		    vd->inflight, vd->rrl, &cause);
		if (vd->workers[i] == NULL)
			fatalx("%s", cause != NULL ? cause : "worker failed");
		worker_set_stats(vd->workers[i], stats_worker(vd->stats, i));
	}
	vd->snap = snap;
	vd->loaded = time(NULL);
	snapshot_swap(vd->snap);
}

/* The main thread's loop: SIGHUP, SIGTERM, SIGINT and the control socket. */
static void
veiligd_events(struct veiligd *vd)
{
	static const int	 sigs[VEILIGD_NSIGNALS] = {
		SIGHUP, SIGTERM, SIGINT
	};
	char			*cause;
	int			 i;

	if ((vd->base = event_base_new()) == NULL)
		fatalx("event_base_new failed");
	for (i = 0; i < VEILIGD_NSIGNALS; i++) {
		vd->signals[i] = evsignal_new(vd->base, sigs[i],
		    veiligd_signal_cb, vd);
		if (vd->signals[i] == NULL ||
		    evsignal_add(vd->signals[i], NULL) == -1)
			fatalx("cannot set up signal events");
	}
	vd->control = control_new(vd->base, vd->snap->conf->control,
	    veiligd_cmds, sizeof veiligd_cmds / sizeof veiligd_cmds[0], vd,
	    &cause);
	if (vd->control == NULL)
		fatalx("control socket: %s", cause != NULL ? cause : "failed");
	/* The statistics' second, aligned to the wall clock's. */
	if ((vd->tick = evtimer_new(vd->base, veiligd_tick_cb, vd)) == NULL)
		fatalx("cannot set up the statistics timer");
	if ((vd->slice = evtimer_new(vd->base, veiligd_slice_cb, vd)) == NULL)
		fatalx("cannot set up the statistics timer");
	veiligd_timer_in(vd->tick, stats_tick_usec() % 1000000);
}

/*
 * Every socket being bound (veiligd_start() and veiligd_events()), give
 * up root for pu (NULL: nothing to drop), then start the workers and the
 * metrics thread: from here on packets are read. Signals are still blocked: they are the main
 * thread's business, and the workers inherit the mask.
 */
static void
veiligd_workers(struct veiligd *vd, const struct priv_user *pu)
{
	unsigned	i;

	if (pu != NULL)
		veiligd_drop(vd->snap->conf, pu, stats_dir_made(vd->stats));
	for (i = 0; i < vd->nworkers; i++)
		if (worker_start(vd->workers[i]) == -1)
			fatalx("cannot start worker %u", i);
	/* The sockets' first figures, before a scrape can ask for them;
	   a kernel that will not give them is said at start. */
	veiligd_rxq(vd);
	if (vd->metrics != NULL && metrics_start(vd->metrics) == -1)
		fatalx("cannot start the metrics thread");
}

/* Stop the workers, then free everything veiligd_start() and
   veiligd_events() made. */
static void
veiligd_stop(struct veiligd *vd)
{
	unsigned	i;

	control_free(vd->control);
	metrics_free(vd->metrics);
	for (i = 0; i < vd->nworkers; i++)
		worker_stop(vd->workers[i]);
	/* Every query counted so far: the open interval and the day. */
	stats_flush(vd->stats, time(NULL), 1);
	veiligd_log_stats(vd);
	for (i = 0; i < vd->nworkers; i++)
		worker_free(vd->workers[i]);
	free(vd->workers);
	snapshot_free(snapshot_swap(NULL));
	stats_free(vd->stats);
	event_free(vd->tick);
	event_free(vd->slice);
	inflight_free(vd->inflight);
	rrl_free(vd->rrl);
	cache_free(vd->cache);
	for (i = 0; i < VEILIGD_NSIGNALS; i++)
		event_free(vd->signals[i]);
	event_base_free(vd->base);
	libevent_global_shutdown();
}

int
main(int argc, char **argv)
{
	struct veiligd		 vd;
	struct snapshot		*snap;
	sigset_t		 block, old;
	struct priv_user	 pu;
	char			*rpath = NULL;
	char			 status[240], msg[256];
	int			 ch, dflag = 0, nflag = 0, drop;

	memset(&vd, 0, sizeof vd);
	vd.path = VEILIGD_CONF;
	vd.started = time(NULL);
	pthread_mutex_init(&vd.mlock, NULL);
	while ((ch = getopt(argc, argv, "c:dnv")) != -1) {
		switch (ch) {
		case 'c':
			vd.path = optarg;
			break;
		case 'd':
			dflag = 1;
			break;
		case 'n':
			nflag = 1;
			break;
		case 'v':
			log_verbose++;
			break;
		default:
			usage();
		}
	}
	if (optind != argc)
		usage();
	log_init("veiligd", getenv("JOURNAL_STREAM") != NULL ?
	    LOG_TO_JOURNAL : LOG_TO_STDERR);

	/*
	 * Signals wait until the loop can handle them: loading the lists
	 * takes a while, and a SIGHUP meanwhile must not kill us. Threads
	 * started meanwhile inherit the mask and never see them.
	 */
	sigemptyset(&block);
	sigaddset(&block, SIGHUP);
	sigaddset(&block, SIGTERM);
	sigaddset(&block, SIGINT);
	sigprocmask(SIG_BLOCK, &block, &old);

	/* daemon() moves to /: a reload must still find the file. */
	if ((rpath = realpath(vd.path, NULL)) != NULL)
		vd.path = rpath;
	if (nflag) {
		ch = veiligd_check(vd.path);
		free(rpath);
		return (ch);
	}

	snap = veiligd_first(vd.path, status, sizeof status);
	drop = veiligd_user(snap->conf, &pu);
	signal(SIGPIPE, SIG_IGN);
	if (evthread_use_pthreads() == -1)
		fatalx("libevent without thread support");
	log_libevent();
	veiligd_start(&vd, snap);

	if (!dflag) {
		if (daemon(0, 0) == -1)
			fatal("daemon");
		log_init("veiligd", LOG_TO_SYSLOG);
	}

	veiligd_events(&vd);
	veiligd_workers(&vd, drop ? &pu : NULL);
	sigprocmask(SIG_SETMASK, &old, NULL);

	log_warnx("ready: %u worker%s, configuration %s", vd.nworkers,
	    vd.nworkers == 1 ? "" : "s", vd.path);
	snprintf(msg, sizeof msg, "READY=1\n%s", status);
	veiligd_notify(msg);
	event_base_dispatch(vd.base);

	veiligd_stop(&vd);
	free(rpath);
	log_warnx("stopped");
	return (0);
}
