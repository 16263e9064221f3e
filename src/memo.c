/*
 * memo.c: a worker's memory of the blocked questions it answered.
 *
 * A set is MEMO_WAYS entries of two cache lines each: the first holds the
 * key, the verdict and the name's first 32 octets, so that a name of up
 * to 32 octets (most ad hosts: "pagead2.googlesyndication.com" is 31) is
 * decided by one line, the one memo_prefetch() asks for a datagram
 * ahead; a longer one reads the next line too. 2 ways: 1,000 blocked
 * names in 1,024 sets of one would leave a third of them sharing a set
 * with another and pushing each other out; with two, few sets have more
 * than two. A new verdict goes into the first way and the one there
 * moves to the second: the oldest goes.
 */
#include <stdlib.h>
#include <string.h>

#include "memo.h"

/* One verdict: 128 octets, two lines. */
struct memo_entry {
	uint64_t	 hash;		/* wire_qhash() of the question */
	uint32_t	 gen;		/* policy generation */
	uint32_t	 board;		/* board index + 1; 0: empty */
	const char	*ede_text;	/* the policy's, valid under gen */
	uint16_t	 ede_code;
	uint8_t		 rule;		/* enum policy_rule */
	uint8_t		 action;	/* enum wire_block_action */
	int8_t		 bit;		/* list bit, or -1 */
	uint8_t		 apex_off;	/* blocked suffix's offset in lname */
	uint8_t		 name_len;
	uint8_t		 pad;
	uint8_t		 lname[MEMO_NAME];
};

struct memo {
	struct memo_entry	*sets;	/* nsets * MEMO_WAYS */
	size_t			 mask;	/* nsets - 1 */
};

_Static_assert(sizeof(struct memo_entry) == 128, "memo entry: two lines");

struct memo *
memo_new(size_t nsets)
{
	struct memo	*m;
	size_t		 size;

	if (nsets == 0 || (nsets & (nsets - 1)) != 0)
		return (NULL);
	if ((m = calloc(1, sizeof *m)) == NULL)
		return (NULL);
	size = nsets * MEMO_WAYS * sizeof *m->sets;
	if ((m->sets = aligned_alloc(MEMO_WAYS * sizeof *m->sets, size)) ==
	    NULL) {
		free(m);
		return (NULL);
	}
	memset(m->sets, 0, size);
	m->mask = nsets - 1;
	return (m);
}

void
memo_free(struct memo *m)
{
	if (m == NULL)
		return;
	free(m->sets);
	free(m);
}

/* The first entry of h's set. */
static inline struct memo_entry *
memo_set(const struct memo *m, uint64_t h)
{
	return (&m->sets[(h & m->mask) * MEMO_WAYS]);
}

void
memo_prefetch(const struct memo *m, uint64_t h)
{
	const struct memo_entry	*e = memo_set(m, h);
	unsigned		 i;

	for (i = 0; i < MEMO_WAYS; i++)
		__builtin_prefetch(&e[i]);
}

/* Does e hold the verdict of board on q under gen? */
static inline int
memo_match(const struct memo_entry *e, const struct wire_query *q,
    uint32_t gen, unsigned board)
{
	return (e->hash == q->qhash && e->gen == gen &&
	    e->board == board + 1 && e->name_len == q->name_len &&
	    memcmp(e->lname, q->lname, q->name_len) == 0);
}

int
memo_get(const struct memo *m, const struct wire_query *q, uint32_t gen,
    unsigned board, struct policy_verdict *v)
{
	const struct memo_entry	*e = memo_set(m, q->qhash);
	unsigned		 i;

	for (i = 0; i < MEMO_WAYS; i++, e++) {
		if (!memo_match(e, q, gen, board))
			continue;
		/* As policy_question() and policy_set_block() write it. */
		memset(v, 0, sizeof *v);
		v->kind = POLICY_BLOCK;
		v->rule = (enum policy_rule)e->rule;
		v->bit = e->bit;
		v->action = (enum wire_block_action)e->action;
		v->ede_code = e->ede_code;
		v->ede_text = e->ede_text;
		v->apex_off = e->apex_off;
		return (1);
	}
	return (0);
}

void
memo_put(struct memo *m, const struct wire_query *q, uint32_t gen,
    unsigned board, const struct policy_verdict *v)
{
	struct memo_entry	*s = memo_set(m, q->qhash), *e = &s[0];
	unsigned		 i;

	if (v->kind != POLICY_BLOCK || !q->qhashed ||
	    q->name_len > MEMO_NAME || v->apex_off > q->name_len ||
	    v->bit < -1 || v->bit > INT8_MAX)
		return;
	/*
	 * Its own entry if the set has it; else the first way, whose
	 * verdict moves to the second unless it is of an older policy.
	 */
	for (i = 0; i < MEMO_WAYS && !memo_match(&s[i], q, gen, board); i++)
		;
	if (i < MEMO_WAYS)
		e = &s[i];
	else if (s[0].board != 0 && s[0].gen == gen) {
		for (i = MEMO_WAYS - 1; i > 0; i--)
			s[i] = s[i - 1];
	}
	e->hash = q->qhash;
	e->gen = gen;
	e->board = board + 1;
	e->ede_text = v->ede_text;
	e->ede_code = v->ede_code;
	e->rule = (uint8_t)v->rule;
	e->action = (uint8_t)v->action;
	e->bit = (int8_t)v->bit;
	e->apex_off = (uint8_t)v->apex_off;
	e->name_len = (uint8_t)q->name_len;
	memcpy(e->lname, q->lname, q->name_len);
}
