/*
 * lockstat.c: count contended pthread mutexes in a running program.
 *
 *	LOCKSTAT_OUT=FILE LD_PRELOAD=build/lockstat.so build/veiligd ...
 *
 * An LD_PRELOAD shim for make bench (not linked into veiligd): each
 * pthread_mutex_lock first tries pthread_mutex_trylock. Success is an
 * uncontended acquisition; EBUSY means another thread held the lock, and
 * the real pthread_mutex_lock then waits: that acquisition is counted
 * contended, with its wait. pthread_mutex_unlock gives the time the lock
 * was held. Both are kept per call site (the return address of the lock
 * call: a function of veiligd such as cache_lookup, or libevent's lock
 * wrapper for the event bases' locks) in tables of the calling thread, so
 * counting takes no lock and shares no cache line.
 *
 * When the program exits (veiligd on SIGTERM), one line per call site goes
 * to FILE:
 *
 *	MODULE OFFSET acquired contended wait_ns hold_ns
 *
 * MODULE and OFFSET (hex, from the module's load address) are for
 * addr2line -f -e MODULE OFFSET, which names the function.
 *
 * Cost: a trylock is the same atomic instruction as the lock's fast path;
 * the counting adds two reads of the time stamp counter and a few
 * increments per lock and unlock, some tens of nanoseconds: the figures it
 * gives are for a slightly slower program, which make bench says.
 *
 * Interposition covers calls that go through the dynamic linker: those of
 * veiligd and of libevent, not glibc's internal locks (malloc, stdio).
 */
#include <dlfcn.h>
#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#if defined(__x86_64__) || defined(__i386__)
#include <x86intrin.h>
#define LOCKSTAT_TICKS()	__rdtsc()
#else
#define LOCKSTAT_TICKS()	lockstat_ns()
#endif

#define LOCKSTAT_SITES	64	/* call sites per thread, a power of two */
#define LOCKSTAT_HELD	16	/* mutexes one thread holds at once */

/* One call site, in one thread. */
struct lockstat_site {
	void		*site;		/* NULL: free slot */
	uint64_t	 acquired;
	uint64_t	 contended;
	uint64_t	 wait;		/* ticks */
	uint64_t	 hold;		/* ticks */
};

/* A mutex this thread holds: since when, and taken where. */
struct lockstat_held {
	pthread_mutex_t		*m;
	uint64_t		 since;
	struct lockstat_site	*site;
};

/* One thread's tables; on a list, never freed, read at exit. */
struct lockstat_thread {
	struct lockstat_site	 sites[LOCKSTAT_SITES];
	struct lockstat_held	 held[LOCKSTAT_HELD];
	int			 nheld;
	uint64_t		 lost;		/* site table full */
	struct lockstat_thread	*next;
};

static int	(*lockstat_real_lock)(pthread_mutex_t *);
static int	(*lockstat_real_unlock)(pthread_mutex_t *);

static struct lockstat_thread		*lockstat_threads;
static __thread struct lockstat_thread	*lockstat_self;
static __thread int			 lockstat_busy;	/* no recursion */
static uint64_t				 lockstat_t0_ticks, lockstat_t0_ns;

/* Nanoseconds of CLOCK_MONOTONIC. */
static uint64_t
lockstat_ns(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ((uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec);
}

__attribute__((constructor)) static void
lockstat_init(void)
{
	lockstat_real_lock = (int (*)(pthread_mutex_t *))dlsym(RTLD_NEXT,
	    "pthread_mutex_lock");
	lockstat_real_unlock = (int (*)(pthread_mutex_t *))dlsym(RTLD_NEXT,
	    "pthread_mutex_unlock");
	lockstat_t0_ticks = LOCKSTAT_TICKS();
	lockstat_t0_ns = lockstat_ns();
}

/* This thread's tables, made on first use; NULL if out of memory. */
static struct lockstat_thread *
lockstat_thread(void)
{
	struct lockstat_thread	*t = lockstat_self;

	if (t != NULL || lockstat_busy)
		return (t);
	lockstat_busy = 1;
	t = calloc(1, sizeof *t);
	lockstat_busy = 0;
	if (t == NULL)
		return (NULL);
	t->next = __atomic_load_n(&lockstat_threads, __ATOMIC_ACQUIRE);
	while (!__atomic_compare_exchange_n(&lockstat_threads, &t->next, t,
	    0, __ATOMIC_RELEASE, __ATOMIC_ACQUIRE))
		;
	lockstat_self = t;
	return (t);
}

/* The slot of call site site in t; NULL when the table is full. */
static struct lockstat_site *
lockstat_site(struct lockstat_thread *t, void *site)
{
	uintptr_t	h = ((uintptr_t)site >> 4) * 0x9e3779b97f4a7c15ULL;
	unsigned	i, k;

	for (k = 0; k < LOCKSTAT_SITES; k++) {
		i = (unsigned)((h >> 40) + k) & (LOCKSTAT_SITES - 1);
		if (t->sites[i].site == site)
			return (&t->sites[i]);
		if (t->sites[i].site == NULL) {
			t->sites[i].site = site;
			return (&t->sites[i]);
		}
	}
	t->lost++;
	return (NULL);
}

int
pthread_mutex_lock(pthread_mutex_t *m)
{
	struct lockstat_thread	*t;
	struct lockstat_site	*s;
	uint64_t		 t0, wait = 0;
	int			 r, contended = 0;

	if (lockstat_real_lock == NULL)
		lockstat_init();
	if ((r = pthread_mutex_trylock(m)) == EBUSY) {
		contended = 1;
		t0 = LOCKSTAT_TICKS();
		r = lockstat_real_lock(m);
		wait = LOCKSTAT_TICKS() - t0;
	}
	if (r != 0 || (t = lockstat_thread()) == NULL)
		return (r);
	if ((s = lockstat_site(t, __builtin_return_address(0))) == NULL)
		return (0);
	s->acquired++;
	s->contended += (uint64_t)contended;
	s->wait += wait;
	if (t->nheld < LOCKSTAT_HELD) {
		t->held[t->nheld].m = m;
		t->held[t->nheld].site = s;
		t->held[t->nheld].since = LOCKSTAT_TICKS();
		t->nheld++;
	}
	return (0);
}

int
pthread_mutex_unlock(pthread_mutex_t *m)
{
	struct lockstat_thread	*t = lockstat_self;
	uint64_t		 now;
	int			 i;

	if (lockstat_real_unlock == NULL)
		lockstat_init();
	if (t != NULL) {
		now = LOCKSTAT_TICKS();
		for (i = t->nheld - 1; i >= 0; i--) {
			if (t->held[i].m != m)
				continue;
			t->held[i].site->hold += now - t->held[i].since;
			t->held[i] = t->held[--t->nheld];
			break;
		}
	}
	return (lockstat_real_unlock(m));
}

/* At exit: every thread's sites, added up by site, to $LOCKSTAT_OUT. */
__attribute__((destructor)) static void
lockstat_dump(void)
{
	struct lockstat_site	 all[LOCKSTAT_SITES * 4];
	struct lockstat_thread	*t;
	struct lockstat_site	*s;
	const char		*path = getenv("LOCKSTAT_OUT");
	Dl_info			 info;
	double			 ns_per_tick;
	size_t			 n = 0, i, j;
	uint64_t		 lost = 0;
	FILE			*f;

	if (path == NULL || (f = fopen(path, "w")) == NULL)
		return;
	ns_per_tick = (double)(lockstat_ns() - lockstat_t0_ns) /
	    (double)(LOCKSTAT_TICKS() - lockstat_t0_ticks + 1);
	memset(all, 0, sizeof all);
	for (t = lockstat_threads; t != NULL; t = t->next) {
		lost += t->lost;
		for (i = 0; i < LOCKSTAT_SITES; i++) {
			s = &t->sites[i];
			if (s->site == NULL)
				continue;
			for (j = 0; j < n && all[j].site != s->site; j++)
				;
			if (j == n && n == sizeof all / sizeof all[0])
				continue;
			if (j == n)
				all[n++].site = s->site;
			all[j].acquired += s->acquired;
			all[j].contended += s->contended;
			all[j].wait += s->wait;
			all[j].hold += s->hold;
		}
	}
	for (j = 0; j < n; j++) {
		if (dladdr(all[j].site, &info) == 0 || info.dli_fname == NULL)
			continue;
		fprintf(f, "%s %lx %llu %llu %.0f %.0f\n", info.dli_fname,
		    (unsigned long)((uintptr_t)all[j].site -
		    (uintptr_t)info.dli_fbase),
		    (unsigned long long)all[j].acquired,
		    (unsigned long long)all[j].contended,
		    (double)all[j].wait * ns_per_tick,
		    (double)all[j].hold * ns_per_tick);
	}
	if (lost != 0)
		fprintf(f, "# %llu acquisitions not counted: site tables "
		    "full\n", (unsigned long long)lost);
	fclose(f);
}
