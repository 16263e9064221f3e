/*
 * test_inflight.c: the registry of questions in flight across workers:
 * ownership, waiters, tokens, delivery through mailboxes (also from
 * another thread), and the key (name, type, class, DO, CD).
 */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>
#include <event2/event.h>
#include <event2/thread.h>

#include "inflight.h"
#include "tdir.h"
#include "wire.h"

/* What a mailbox received. */
struct got {
	int	 n;
	void	*waiter[16];
	int	 ok[16];
};

static void
wake_cb(void *waiter, int ok, void *arg)
{
	struct got	*g = arg;

	assert_true(g->n < 16);
	g->waiter[g->n] = waiter;
	g->ok[g->n] = ok;
	g->n++;
}

/* A question for name (lower-case text, "www.example.nl"). */
static void
mkq(struct wire_query *q, const char *name, uint16_t type, int do_bit,
    int cd)
{
	size_t		 n;

	memset(q, 0, sizeof *q);
	n = tname(name, q->lname, sizeof q->lname);
	memcpy(q->name, q->lname, n);
	q->name_len = (uint16_t)n;
	q->have_question = 1;
	q->qtype = type;
	q->qclass = WIRE_CLASS_IN;
	q->do_bit = do_bit;
	q->flags = cd ? WIRE_CD : 0;
}

/* Claim with room for 100 waiters, taking ownership if free. */
static enum inflight_claim
claim(struct inflight *in, const struct wire_query *q,
    struct inflight_mailbox *mb, void *waiter, uint64_t *token)
{
	return (inflight_claim(in, q, mb, waiter, 100, 1, token));
}

/* Run base until nothing is active. */
static void
drain(struct event_base *base)
{
	int	i;

	for (i = 0; i < 10; i++)
		event_base_loop(base, EVLOOP_NONBLOCK);
}

static void
test_claim_wait_release(void **state)
{
	struct event_base	*base;
	struct inflight		*in;
	struct inflight_mailbox	*a, *b;
	struct got		 ga = { 0 }, gb = { 0 };
	struct wire_query	 q;
	uint64_t		 t1 = 0, t2 = 0, t3 = 0;
	int			 w1, w2, w3;

	(void)state;
	assert_non_null(base = event_base_new());
	assert_non_null(in = inflight_new());
	assert_non_null(a = inflight_mailbox_new(base, wake_cb, &ga));
	assert_non_null(b = inflight_mailbox_new(base, wake_cb, &gb));
	mkq(&q, "www.example.nl", WIRE_TYPE_A, 0, 0);

	/* The first asker owns; the same worker again owns too, same token. */
	assert_int_equal(claim(in, &q, a, &w1, &t1), INFLIGHT_OWNER);
	assert_int_equal(claim(in, &q, a, &w2, &t2), INFLIGHT_OWNER);
	assert_true(t1 != 0 && t1 == t2);
	/* Another worker waits. */
	assert_int_equal(claim(in, &q, b, &w3, &t3), INFLIGHT_WAITER);
	drain(base);
	assert_int_equal(gb.n, 0);

	/* A wrong token releases nothing. */
	inflight_release(in, &q, t1 + 1000, 1);
	drain(base);
	assert_int_equal(gb.n, 0);

	inflight_release(in, &q, t1, 1);
	drain(base);
	assert_int_equal(gb.n, 1);
	assert_ptr_equal(gb.waiter[0], &w3);
	assert_int_equal(gb.ok[0], 1);
	assert_int_equal(ga.n, 0);
	/* Released twice: nothing more. */
	inflight_release(in, &q, t1, 1);
	drain(base);
	assert_int_equal(gb.n, 1);

	/* Free again: the next asker owns it anew, with a new token. */
	assert_int_equal(claim(in, &q, b, &w3, &t3), INFLIGHT_OWNER);
	assert_true(t3 != t1);
	/* Failure is passed on. */
	assert_int_equal(claim(in, &q, a, &w1, &t1), INFLIGHT_WAITER);
	inflight_release(in, &q, t3, 0);
	drain(base);
	assert_int_equal(ga.n, 1);
	assert_int_equal(ga.ok[0], 0);

	inflight_mailbox_free(a);
	inflight_mailbox_free(b);
	inflight_free(in);
	event_base_free(base);
}

/* Type, class, DO and CD are part of the key; case is not (lname). */
static void
test_key(void **state)
{
	struct event_base	*base;
	struct inflight		*in;
	struct inflight_mailbox	*a, *b;
	struct got		 ga = { 0 }, gb = { 0 };
	struct wire_query	 q, r;
	uint64_t		 t;
	int			 w;

	(void)state;
	assert_non_null(base = event_base_new());
	assert_non_null(in = inflight_new());
	assert_non_null(a = inflight_mailbox_new(base, wake_cb, &ga));
	assert_non_null(b = inflight_mailbox_new(base, wake_cb, &gb));
	mkq(&q, "www.example.nl", WIRE_TYPE_A, 0, 0);
	assert_int_equal(claim(in, &q, a, &w, &t), INFLIGHT_OWNER);
	mkq(&r, "www.example.nl", WIRE_TYPE_AAAA, 0, 0);
	assert_int_equal(claim(in, &r, b, &w, &t), INFLIGHT_OWNER);
	mkq(&r, "www.example.nl", WIRE_TYPE_A, 1, 0);
	assert_int_equal(claim(in, &r, b, &w, &t), INFLIGHT_OWNER);
	mkq(&r, "www.example.nl", WIRE_TYPE_A, 0, 1);
	assert_int_equal(claim(in, &r, b, &w, &t), INFLIGHT_OWNER);
	mkq(&r, "mail.example.nl", WIRE_TYPE_A, 0, 0);
	assert_int_equal(claim(in, &r, b, &w, &t), INFLIGHT_OWNER);
	mkq(&r, "www.example.nl", WIRE_TYPE_A, 0, 0);
	assert_int_equal(claim(in, &r, b, &w, &t), INFLIGHT_WAITER);
	/* Entries and waiters left over are freed with the registry. */
	inflight_mailbox_free(a);
	inflight_mailbox_free(b);
	inflight_free(in);
	event_base_free(base);
}

/*
 * At most max_waiters wait on one question, from all other workers
 * together; the owner's own claims are not waiters. Without own, a
 * question nobody asks is left alone.
 */
static void
test_limits(void **state)
{
	struct event_base	*base;
	struct inflight		*in;
	struct inflight_mailbox	*a, *b, *c;
	struct got		 ga = { 0 }, gb = { 0 }, gc = { 0 };
	struct wire_query	 q, r;
	uint64_t		 tok, t;
	int			 w[8];

	(void)state;
	assert_non_null(base = event_base_new());
	assert_non_null(in = inflight_new());
	assert_non_null(a = inflight_mailbox_new(base, wake_cb, &ga));
	assert_non_null(b = inflight_mailbox_new(base, wake_cb, &gb));
	assert_non_null(c = inflight_mailbox_new(base, wake_cb, &gc));
	mkq(&q, "hot.example.nl", WIRE_TYPE_A, 0, 0);
	assert_int_equal(inflight_claim(in, &q, a, &w[0], 3, 1, &tok),
	    INFLIGHT_OWNER);
	assert_int_equal(inflight_claim(in, &q, b, &w[1], 3, 1, &t),
	    INFLIGHT_WAITER);
	assert_int_equal(inflight_claim(in, &q, c, &w[2], 3, 1, &t),
	    INFLIGHT_WAITER);
	assert_int_equal(inflight_claim(in, &q, b, &w[3], 3, 1, &t),
	    INFLIGHT_WAITER);
	assert_int_equal(inflight_claim(in, &q, c, &w[4], 3, 1, &t),
	    INFLIGHT_FULL);
	assert_int_equal(inflight_claim(in, &q, b, &w[5], 3, 0, &t),
	    INFLIGHT_FULL);
	/* The owner's worker still coalesces, and may without own. */
	assert_int_equal(inflight_claim(in, &q, a, &w[6], 3, 0, &t),
	    INFLIGHT_OWNER);
	assert_true(t == tok);

	/* Nobody asks r: without own nothing happens; with, ownership. */
	mkq(&r, "cold.example.nl", WIRE_TYPE_A, 0, 0);
	assert_int_equal(inflight_claim(in, &r, b, &w[7], 3, 0, &t),
	    INFLIGHT_NONE);
	assert_int_equal(inflight_claim(in, &r, c, &w[7], 3, 0, &t),
	    INFLIGHT_NONE);
	assert_int_equal(inflight_claim(in, &r, c, &w[7], 0, 1, &t),
	    INFLIGHT_OWNER);

	/* The three waiters are delivered; then the question is free. */
	inflight_release(in, &q, tok, 1);
	drain(base);
	assert_int_equal(gb.n + gc.n, 3);
	assert_int_equal(inflight_claim(in, &q, b, &w[1], 3, 0, &t),
	    INFLIGHT_NONE);
	inflight_mailbox_free(a);
	inflight_mailbox_free(b);
	inflight_mailbox_free(c);
	inflight_free(in);
	event_base_free(base);
}

/* Another thread releases: the waiter arrives in the mailbox's loop. */
struct rel {
	struct inflight		*in;
	struct wire_query	*q;
	uint64_t		 token;
};

static void *
release_thread(void *arg)
{
	struct rel	*r = arg;

	inflight_release(r->in, r->q, r->token, 1);
	return (NULL);
}

static void
timeout_cb(evutil_socket_t fd, short events, void *arg)
{
	(void)fd;
	(void)events;
	event_base_loopbreak(arg);
}

static void
test_other_thread(void **state)
{
	struct event_base	*base;
	struct event		*guard;
	struct inflight		*in;
	struct inflight_mailbox	*a, *b;
	struct got		 ga = { 0 }, gb = { 0 };
	struct wire_query	 q;
	struct timeval		 tv = { 5, 0 };
	struct rel		 r;
	pthread_t		 t;
	uint64_t		 tok, t2;
	int			 w[8], i;

	(void)state;
	assert_non_null(base = event_base_new());
	assert_non_null(in = inflight_new());
	assert_non_null(a = inflight_mailbox_new(base, wake_cb, &ga));
	assert_non_null(b = inflight_mailbox_new(base, wake_cb, &gb));
	mkq(&q, "cdn.example.nl", WIRE_TYPE_A, 0, 0);
	assert_int_equal(claim(in, &q, a, &w[0], &tok), INFLIGHT_OWNER);
	for (i = 1; i < 8; i++)
		assert_int_equal(claim(in, &q, b, &w[i], &t2), INFLIGHT_WAITER);
	r.in = in;
	r.q = &q;
	r.token = tok;
	assert_int_equal(pthread_create(&t, NULL, release_thread, &r), 0);
	assert_int_equal(pthread_join(t, NULL), 0);
	/* One wake-up delivers all seven, in the loop, at once. */
	assert_non_null(guard = evtimer_new(base, timeout_cb, base));
	evtimer_add(guard, &tv);
	for (i = 0; i < 100 && gb.n < 7; i++)
		event_base_loop(base, EVLOOP_ONCE);
	assert_int_equal(gb.n, 7);
	event_free(guard);
	inflight_mailbox_free(a);
	inflight_mailbox_free(b);
	inflight_free(in);
	event_base_free(base);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_claim_wait_release),
		cmocka_unit_test(test_limits),
		cmocka_unit_test(test_key),
		cmocka_unit_test(test_other_thread),
	};

	/* As veiligd: event_active() from another thread needs this. */
	evthread_use_pthreads();
	return (cmocka_run_group_tests(tests, NULL, NULL));
}
