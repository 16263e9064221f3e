/*
 * veiligd.c: start-up, signals, reload and shutdown of the daemon.
 *
 * The main thread reads the configuration, opens every worker's sockets
 * (so that a port in use is a start-up error, not a silent half-start),
 * starts one worker thread per core and then runs its own small event loop
 * for signals only:
 *   SIGHUP		re-read the configuration; on any error keep the one
 *			in force and log every error with file:line:column;
 *   SIGTERM, SIGINT	stop the workers and exit 0.
 * systemd hears READY, RELOADING and STOPPING through sd_notify().
 */
#include <sys/types.h>

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>
#include <event2/thread.h>
#include <systemd/sd-daemon.h>

#include "cache.h"
#include "conf.h"
#include "log.h"
#include "snapshot.h"
#include "worker.h"

#define VEILIGD_CONF	"/etc/veilig/veiligd.yaml"

/* The daemon's own state, owned by main(). */
struct veiligd {
	const char		*path;		/* configuration file */
	struct event_base	*base;		/* signals only */
	struct cache		*cache;
	struct worker		**workers;
	unsigned		 nworkers;
	struct snapshot		*snap;		/* the one in force */
};

static __attribute__((noreturn)) void
usage(void)
{
	fprintf(stderr, "usage: veiligd [-dnv] [-c file]\n");
	exit(1);
}

/* Error callback of conf_load(): log each error and count it. */
static void
veiligd_conf_error_cb(void *arg, const char *msg)
{
	unsigned	*nerr = arg;

	(*nerr)++;
	log_warnx("%s", msg);
}

/* Error callback for -n: the bare "file:line:column: message" lines. */
static void
veiligd_check_error_cb(void *arg, const char *msg)
{
	unsigned	*nerr = arg;

	(*nerr)++;
	fprintf(stderr, "%s\n", msg);
}

/* Tell systemd something; errors are of no consequence. */
static void
veiligd_notify(const char *what)
{
	sd_notify(0, what);
}

/* Warn about keys whose new value takes a restart to apply. */
static void
veiligd_reload_limits(const struct conf *old, const struct conf *new)
{
	size_t	i;
	int	same;

	same = old->nlisten == new->nlisten;
	for (i = 0; same && i < old->nlisten; i++)
		same = old->listen[i].len == new->listen[i].len &&
		    memcmp(&old->listen[i].ss, &new->listen[i].ss,
		    old->listen[i].len) == 0;
	if (!same)
		log_warnx("%s: server.listen changed: restart veiligd to "
		    "apply it", new->path);
	if (old->workers != new->workers)
		log_warnx("%s: server.workers changed: restart veiligd to "
		    "apply it", new->path);
	if (old->cache_size != new->cache_size ||
	    old->serve_stale != new->serve_stale ||
	    old->max_ttl != new->max_ttl ||
	    old->max_neg_ttl != new->max_neg_ttl)
		log_warnx("%s: cache settings changed: restart veiligd to "
		    "apply them", new->path);
}

/* SIGHUP: build a new snapshot and swap it in, or keep the old one. */
static void
veiligd_reload(struct veiligd *vd)
{
	struct snapshot	*snap, *old;
	struct conf	*conf;
	struct timespec	 ts;
	char		 msg[128];
	unsigned	 nerr = 0;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	snprintf(msg, sizeof msg, "RELOADING=1\nMONOTONIC_USEC=%llu",
	    (unsigned long long)ts.tv_sec * 1000000 + ts.tv_nsec / 1000);
	veiligd_notify(msg);
	log_info("reloading %s", vd->path);
	conf = conf_load(vd->path, veiligd_conf_error_cb, &nerr);
	if (conf == NULL) {
		log_warnx("reload failed: %u error%s in %s; the configuration "
		    "in force stays", nerr, nerr == 1 ? "" : "s", vd->path);
		veiligd_notify("READY=1\nSTATUS=reload failed, old "
		    "configuration in force");
		return;
	}
	veiligd_reload_limits(vd->snap->conf, conf);
	if ((snap = snapshot_new(conf)) == NULL) {
		log_warnx("reload failed: out of memory");
		veiligd_notify("READY=1");
		return;
	}
	old = snapshot_swap(snap);
	snapshot_free(old);
	vd->snap = snap;
	log_warnx("reloaded %s", vd->path);
	veiligd_notify("READY=1\nSTATUS=running");
}

static void
veiligd_signal_cb(evutil_socket_t sig, short events, void *arg)
{
	struct veiligd	*vd = arg;

	(void)events;
	switch (sig) {
	case SIGHUP:
		veiligd_reload(vd);
		break;
	case SIGTERM:
	case SIGINT:
		log_info("stopping on signal %d", (int)sig);
		veiligd_notify("STOPPING=1");
		event_base_loopbreak(vd->base);
		break;
	}
}

/* Add up the workers' counters and log them at -v. */
static void
veiligd_log_stats(const struct veiligd *vd)
{
	struct worker_stats	st, sum;
	unsigned		i;

	if (!log_would(LOG_LEVEL_INFO))
		return;
	memset(&sum, 0, sizeof sum);
	for (i = 0; i < vd->nworkers; i++) {
		worker_stats(vd->workers[i], &st);
		sum.udp_queries += st.udp_queries;
		sum.tcp_queries += st.tcp_queries;
		sum.cache_hits += st.cache_hits;
		sum.forwarded += st.forwarded;
		sum.stale += st.stale;
		sum.servfail += st.servfail;
		sum.refused += st.refused;
		sum.formerr += st.formerr;
		sum.dropped += st.dropped;
	}
	log_info("queries udp %llu tcp %llu, cache hits %llu, forwarded %llu, "
	    "stale %llu, servfail %llu, refused %llu, formerr %llu, "
	    "dropped %llu", (unsigned long long)sum.udp_queries,
	    (unsigned long long)sum.tcp_queries,
	    (unsigned long long)sum.cache_hits,
	    (unsigned long long)sum.forwarded, (unsigned long long)sum.stale,
	    (unsigned long long)sum.servfail, (unsigned long long)sum.refused,
	    (unsigned long long)sum.formerr, (unsigned long long)sum.dropped);
}

int
main(int argc, char **argv)
{
	struct veiligd	 vd;
	struct conf	*conf;
	struct event	*ev_hup, *ev_term, *ev_int;
	sigset_t	 block, old;
	char		*cause;
	unsigned	 i, nerr = 0;
	long		 ncpu;
	int		 ch, dflag = 0, nflag = 0;

	memset(&vd, 0, sizeof vd);
	vd.path = VEILIGD_CONF;
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

	if (nflag) {
		conf = conf_load(vd.path, veiligd_check_error_cb, &nerr);
		if (conf == NULL) {
			fprintf(stderr, "%s: %u error%s\n", vd.path, nerr,
			    nerr == 1 ? "" : "s");
			return 1;
		}
		if (log_verbose > 0)
			conf_print(conf, stdout);
		fprintf(stderr, "%s: configuration OK\n", vd.path);
		conf_free(conf);
		return 0;
	}

	conf = conf_load(vd.path, veiligd_conf_error_cb, &nerr);
	if (conf == NULL)
		fatalx("%u error%s in %s", nerr, nerr == 1 ? "" : "s", vd.path);
	signal(SIGPIPE, SIG_IGN);
	if (evthread_use_pthreads() == -1)
		fatalx("libevent without thread support");
	log_libevent();

	vd.cache = cache_new(conf->cache_size, conf->serve_stale,
	    conf->max_ttl, conf->max_neg_ttl);
	if (vd.cache == NULL)
		fatalx("cache: out of memory");
	vd.nworkers = conf->workers;
	if (vd.nworkers == 0) {
		ncpu = sysconf(_SC_NPROCESSORS_ONLN);
		vd.nworkers = ncpu > 0 ? (unsigned)ncpu : 1;
	}
	if ((vd.workers = calloc(vd.nworkers, sizeof *vd.workers)) == NULL)
		fatal("calloc");
	for (i = 0; i < vd.nworkers; i++) {
		vd.workers[i] = worker_new(i, vd.nworkers, conf, vd.cache,
		    &cause);
		if (vd.workers[i] == NULL)
			fatalx("%s", cause != NULL ? cause : "worker failed");
	}
	if ((vd.snap = snapshot_new(conf)) == NULL)
		fatalx("out of memory");
	snapshot_swap(vd.snap);

	if (!dflag) {
		if (daemon(0, 0) == -1)
			fatal("daemon");
		log_init("veiligd", LOG_TO_SYSLOG);
	}

	/* Signals are the main thread's business, not the workers'. */
	sigemptyset(&block);
	sigaddset(&block, SIGHUP);
	sigaddset(&block, SIGTERM);
	sigaddset(&block, SIGINT);
	pthread_sigmask(SIG_BLOCK, &block, &old);
	for (i = 0; i < vd.nworkers; i++)
		if (worker_start(vd.workers[i]) == -1)
			fatalx("cannot start worker %u", i);
	pthread_sigmask(SIG_SETMASK, &old, NULL);

	if ((vd.base = event_base_new()) == NULL)
		fatalx("event_base_new failed");
	ev_hup = evsignal_new(vd.base, SIGHUP, veiligd_signal_cb, &vd);
	ev_term = evsignal_new(vd.base, SIGTERM, veiligd_signal_cb, &vd);
	ev_int = evsignal_new(vd.base, SIGINT, veiligd_signal_cb, &vd);
	if (ev_hup == NULL || ev_term == NULL || ev_int == NULL ||
	    evsignal_add(ev_hup, NULL) == -1 ||
	    evsignal_add(ev_term, NULL) == -1 ||
	    evsignal_add(ev_int, NULL) == -1)
		fatalx("cannot set up signal events");

	log_warnx("ready: %u worker%s, configuration %s", vd.nworkers,
	    vd.nworkers == 1 ? "" : "s", vd.path);
	veiligd_notify("READY=1\nSTATUS=running");
	event_base_dispatch(vd.base);

	for (i = 0; i < vd.nworkers; i++)
		worker_stop(vd.workers[i]);
	veiligd_log_stats(&vd);
	for (i = 0; i < vd.nworkers; i++)
		worker_free(vd.workers[i]);
	free(vd.workers);
	snapshot_free(snapshot_swap(NULL));
	cache_free(vd.cache);
	event_free(ev_hup);
	event_free(ev_term);
	event_free(ev_int);
	event_base_free(vd.base);
	libevent_global_shutdown();
	log_warnx("stopped");
	return 0;
}
