/*
 * memo.h: a worker's memory of the blocked questions it answered, so that
 * a name asked again is blocked without the lists.
 *
 * A blocked name is never cached, so every query for it paid the whole
 * policy_question(): every suffix of the name hashed, and a probe of the
 * lists' table (a million names or more: a memory miss), where a cache
 * hit takes its verdict from bits kept in its entry. Blocked names
 * repeat as cached ones do (the same ad and tracker hosts, asked by every
 * page), so the worker keeps the verdicts of the last ones it blocked: a
 * fixed table of sets of MEMO_WAYS entries, each keyed by
 *
 *   - the question's hash, wire_qhash() (worked out for the cache
 *     anyway: nothing more is hashed; secret-keyed, so no client can aim
 *     names at one set),
 *   - the policy generation the verdict is of (policy_generation()): the
 *     table holds verdicts of one generation, and a question of another
 *     is a miss (a newer one empties the table), so a reload never lets
 *     one through, and the pointers a verdict holds (the EDE text) are
 *     read only under the policy they point into,
 *   - the board's index (in that generation): each board finds only its
 *     own verdicts,
 *   - and the name itself, compared octet by octet: a 64-bit hash alone
 *     must not decide whether a name is blocked. Names longer than
 *     MEMO_NAME octets are not kept (they take the lists' way).
 *
 * A verdict is kept when its question comes a second time: the first
 * block of a (question, board) leaves only a tag of 32 bits (of the hash
 * and the board) among the few its set remembers, and a block whose tag
 * is there is kept. With many boards the pairs outnumber the table by
 * far (make bench's boards mix: 1,000 blocked names from 10,000 boards),
 * and a verdict written for every block was two lines written for
 * nothing; one board's repeated names are kept from their second block
 * on. A tag that is another's only keeps a verdict early: the name is
 * still compared whole before one is used.
 *
 * Only verdicts that the entry determines entirely are kept: POLICY_BLOCK
 * (a list's, an RPZ NXDOMAIN or NODATA, the deny list's, a canary's),
 * whose fields are the rule, the bit, the action, the EDE code, the EDE
 * text (the policy's) and the offset of the blocked suffix in the name.
 * A memo_get() gives back exactly what policy_question() gave, so the
 * answer, its EDE and SOA, and the statistics' category are the same.
 * Everything else (PASS, ALLOWED, rewrites) takes the usual way.
 *
 * Privacy: the table is in memory only, one per worker, and holds names
 * that were blocked, a board's index and tags of a hash and a board,
 * never a client's address. As every entry and tag is a board's own, a
 * board cannot tell by the time of an answer whether another board
 * asked for a name.
 *
 * Memory: MEMO_SETS * (64 + MEMO_WAYS * 128) octets a worker (288 KiB
 * for 2,048 verdicts), allocated once by memo_new(); nothing on the
 * query path.
 *
 * Threads: one table per worker, used by that worker's thread only.
 * Ownership: the creator owns the table.
 */
#ifndef VEILIG_MEMO_H
#define VEILIG_MEMO_H

#include <stddef.h>
#include <stdint.h>

#include "policy.h"
#include "wire.h"

#define MEMO_SETS	512	/* sets of the default table, a power of 2 */
#define MEMO_WAYS	4
#define MEMO_NAME	112	/* longest name kept (lower-case wire) */
#define MEMO_GHOSTS	4	/* tags of blocks seen once, a set */

struct memo;

/* A table of nsets sets (a power of two); NULL when out of memory. */
struct memo	*memo_new(size_t nsets);
void		 memo_free(struct memo *);

/* A hint: start loading the keys of the set of the question hash h. */
void		 memo_prefetch(const struct memo *, uint64_t h);

/*
 * The verdict of board on q's question under policy generation gen,
 * into *v as policy_question() wrote it: 1 when the table has it, else
 * 0 (v untouched). q's hash must be kept (wire_qhash_keep()).
 */
int		 memo_get(const struct memo *, const struct wire_query *q,
		    uint32_t gen, unsigned board, struct policy_verdict *v);

/*
 * Keep v, policy_question()'s verdict of board on q's question under
 * generation gen, if it is one the table keeps (a block, of a name not
 * too long) and the set saw it lately (else its tag is noted, and the
 * next block keeps it); it takes an empty way of its set, else one of
 * the set's verdicts in turn. A gen other than the table's empties it
 * first. q's hash must be kept.
 */
void		 memo_put(struct memo *, const struct wire_query *q,
		    uint32_t gen, unsigned board,
		    const struct policy_verdict *v);

#endif
