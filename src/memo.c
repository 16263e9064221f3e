/*
 * memo.c: a worker's memory of the blocked questions it answered.
 *
 * A set is MEMO_WAYS entries and one cache line of their keys (hash,
 * board; the generation is the table's), the line memo_prefetch() asks
 * for a datagram ahead: a lookup compares the keys there and reads an
 * entry (its verdict and name, a line for a name of up to 48 octets)
 * only for a key that matches. The entry was also tried loading a
 * datagram ahead (a probe of the keys at query_prefetch(), the name
 * compared at the answer): 27 instructions more a memo hit and no gain
 * measured (tests/bench/README.md), so it is read when asked. 4 ways:
 * 1,000 blocked names asked at random (make bench's blocked mix) missed
 * 9.7 % of the time in 1,024 sets of 2 ways and miss 3.3 % in 512 sets
 * of 4, in the same memory (a simulation; 0.7 % in 1,024 sets of 4).
 * A new verdict takes a way that is empty, else the next way of a round
 * that goes through every set's ways (as good as the oldest, in that
 * simulation, and nothing moves); it is admitted on its second
 * sighting, which the set's MEMO_GHOSTS tags remember (in the keys'
 * line, beside the ways' keys: a first sighting writes only there),
 * taken in a round too.
 */
#include <stdlib.h>
#include <string.h>

#include "memo.h"

/*
 * The keys of a set's ways and the tags of the blocks it saw once: one
 * line. Every verdict in the table is of the generation m->gen (a new
 * one empties the keys), so the line holds no generation.
 */
struct memo_keys {
	uint64_t	 hash[MEMO_WAYS];	/* wire_qhash() of the question */
	uint32_t	 board[MEMO_WAYS];	/* board index + 1; 0: empty */
	uint32_t	 ghost[MEMO_GHOSTS];	/* memo_tag()s; 0: none */
};

/* A way's verdict and name: 128 octets, two lines. */
struct memo_entry {
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
	struct memo_keys	*keys;	/* nsets */
	struct memo_entry	*entries; /* nsets * MEMO_WAYS */
	size_t			 mask;	/* nsets - 1 */
	uint32_t		 gen;	/* the verdicts' policy generation */
	unsigned		 next;	/* the way the next put takes */
	unsigned		 gnext;	/* the ghost the next sighting takes */
};

_Static_assert(sizeof(struct memo_keys) == 64, "memo keys: one line");
_Static_assert(sizeof(struct memo_entry) == 128, "memo entry: two lines");

struct memo *
memo_new(size_t nsets)
{
	struct memo	*m;

	if (nsets == 0 || (nsets & (nsets - 1)) != 0)
		return (NULL);
	if ((m = calloc(1, sizeof *m)) == NULL)
		return (NULL);
	m->keys = aligned_alloc(64, nsets * sizeof *m->keys);
	m->entries = aligned_alloc(64, nsets * MEMO_WAYS * sizeof *m->entries);
	if (m->keys == NULL || m->entries == NULL) {
		memo_free(m);
		return (NULL);
	}
	memset(m->keys, 0, nsets * sizeof *m->keys);
	memset(m->entries, 0, nsets * MEMO_WAYS * sizeof *m->entries);
	m->mask = nsets - 1;
	return (m);
}

void
memo_free(struct memo *m)
{
	if (m == NULL)
		return;
	free(m->keys);
	free(m->entries);
	free(m);
}

void
memo_prefetch(const struct memo *m, uint64_t h)
{
	__builtin_prefetch(&m->keys[h & m->mask]);
}

/*
 * The tag of a sighting of the question of hash h by board: the bits of
 * h above a set's index, and the board (odd multiplier: two boards never
 * share the tag of one hash). Never 0, which is no tag.
 */
static inline uint32_t
memo_tag(uint64_t h, unsigned board)
{
	uint32_t	t = (uint32_t)(h >> 32) ^ (board + 1) * 0x9e3779b1U;

	return (t != 0 ? t : 1);
}

/* Is way i of set s the verdict of board on q (of m->gen)? */
static inline int
memo_match(const struct memo *m, size_t s, unsigned i,
    const struct wire_query *q, unsigned board)
{
	const struct memo_keys	*k = &m->keys[s];
	const struct memo_entry	*e;

	if (k->hash[i] != q->qhash || k->board[i] != board + 1)
		return (0);
	e = &m->entries[s * MEMO_WAYS + i];
	return (e->name_len == q->name_len &&
	    memcmp(e->lname, q->lname, q->name_len) == 0);
}

int
memo_get(const struct memo *m, const struct wire_query *q, uint32_t gen,
    unsigned board, struct policy_verdict *v)
{
	const struct memo_entry	*e;
	size_t			 s = q->qhash & m->mask;
	unsigned		 i;

	/* The table holds verdicts of one generation, m->gen. */
	if (gen != m->gen)
		return (0);
	for (i = 0; i < MEMO_WAYS; i++) {
		if (!memo_match(m, s, i, q, board))
			continue;
		/* As policy_question() and policy_set_block() write it. */
		e = &m->entries[s * MEMO_WAYS + i];
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
	struct memo_keys	*k;
	struct memo_entry	*e;
	size_t			 s = q->qhash & m->mask;
	uint32_t		 t;
	unsigned		 i, g;

	if (v->kind != POLICY_BLOCK || !q->qhashed ||
	    q->name_len > MEMO_NAME || v->apex_off > q->name_len ||
	    v->bit < -1 || v->bit > INT8_MAX)
		return;
	/*
	 * A new policy: no verdict of the old one holds, nor does a
	 * sighting. The keys alone are emptied (a way whose board is 0 is
	 * never read), 32 KiB once a reload.
	 */
	if (gen != m->gen) {
		memset(m->keys, 0, (m->mask + 1) * sizeof *m->keys);
		m->gen = gen;
	}
	/*
	 * Its own way if the set has it. Else the verdict is kept only if
	 * the set saw it once before, lately (its tag is among the set's
	 * ghosts): with many boards the (name, board) pairs outnumber the
	 * table by far, and a verdict that will not be asked for again
	 * cost an entry's two lines written for nothing; now it costs a
	 * tag in the keys' line, which memo_prefetch() fetched. Then an
	 * empty way, else the next of the round.
	 */
	k = &m->keys[s];
	for (i = 0; i < MEMO_WAYS && !memo_match(m, s, i, q, board); i++)
		;
	if (i == MEMO_WAYS) {
		t = memo_tag(q->qhash, board);
		for (g = 0; g < MEMO_GHOSTS && k->ghost[g] != t; g++)
			;
		if (g == MEMO_GHOSTS) {
			k->ghost[m->gnext++ % MEMO_GHOSTS] = t;
			return;
		}
		k->ghost[g] = 0;
		for (i = 0; i < MEMO_WAYS && k->board[i] != 0; i++)
			;
		if (i == MEMO_WAYS)
			i = m->next++ % MEMO_WAYS;
	}
	k->hash[i] = q->qhash;
	k->board[i] = board + 1;
	e = &m->entries[s * MEMO_WAYS + i];
	e->ede_text = v->ede_text;
	e->ede_code = v->ede_code;
	e->rule = (uint8_t)v->rule;
	e->action = (uint8_t)v->action;
	e->bit = (int8_t)v->bit;
	e->apex_off = (uint8_t)v->apex_off;
	e->name_len = (uint8_t)q->name_len;
	memcpy(e->lname, q->lname, q->name_len);
}
