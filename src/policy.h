/*
 * policy.h: the compiled filter policy and its verdicts.
 *
 * policy_new() turns a checked configuration into immutable tables:
 *   - one domain table of every domain-type list (domains, hosts, adblock,
 *     rpz); list i of the configuration is bit i;
 *   - one IP table of every ip list, same bits;
 *   - "geo bits": each distinct country or ASN that any board blocks gets
 *     a bit after the lists', so that an answer's addresses become bits
 *     too (at most 62 bits in all, else a configuration error: the top
 *     two are POLICY_BIT_DENY and POLICY_BIT_CANARY);
 *   - per board: allow and deny tables, the masks it blocks, and its
 *     prepared block answer;
 *   - the board address table (source address -> board);
 *   - the safe-search rewrite table and the canary table, read from
 *     safesearch.txt and canaries.txt in the tables directory.
 * Loading lists is slow (hundreds of thousands of names): it happens at
 * start-up in the main thread and on reload in a thread of the lowest
 * priority that the main thread waits for (veiligd_background()), never
 * on the query path, and a reload that leaves the list files alone keeps
 * the lists compiled (listset.h).
 *
 * Verdicts, in order of precedence (README "Precedence"):
 *   1. a name in the board's allow: list (or under one) is answered as
 *      usual, and its answer is not inspected;
 *   2. a name in the board's deny: list is blocked;
 *   3. with canaries: on (default) the canary names answer NXDOMAIN;
 *   4. a name in a list the board blocks is blocked; within one list the
 *      most specific entry decides (an adblock exception or RPZ PASSTHRU
 *      for a subdomain beats a block of its parent); with several lists
 *      the first in veiligd.yaml names the category;
 *   5. with safe-search: on, search engines' hosts are rewritten to their
 *      enforced hosts (CNAME);
 *   6. otherwise the answer is fetched, and blocked if a target (of a
 *      CNAME, DNAME, SVCB or HTTPS record) is on the board's deny list,
 *      or a canary (with canaries on), or in a list the board blocks
 *      (CNAME cloaking), or an address (A, AAAA, or an SVCB or HTTPS
 *      hint) is in an ip list it blocks, or in a country or AS it blocks.
 * Step 6's inspection is done once per answer, when it enters the cache
 * (policy_inspect), giving a mask stored with the entry; a cache hit then
 * costs one AND with the board's answer mask. Deny lists are per board,
 * too many to have a bit each: the mask says only that some board's deny
 * list has a target of the answer (POLICY_BIT_DENY, from one table of
 * every board's deny names), and only then, for a board with a deny
 * list, are the targets looked up in its own list (policy_answer).
 *
 * The question's side has the same shape: policy_question_bits() gives
 * a name's bits of no board (lists, and whether some board's allow or
 * deny list has it, a canary, a safe-search host), the cache keeps them
 * with the name's answer for the policy generation they were worked out
 * in, and a cache hit of a board whose qstop they miss is PASS without
 * a lookup of the name; any other hit asks policy_question().
 *
 * Ownership: the policy belongs to the configuration snapshot and lives
 * as long as it; it points into the conf it was built from, which must
 * outlive it.
 */
#ifndef VEILIG_POLICY_H
#define VEILIG_POLICY_H

#include <sys/socket.h>

#include <stddef.h>
#include <stdint.h>

#include "conf.h"
#include "domtable.h"
#include "wire.h"

struct domtable;
struct evbuffer;
struct geo;
struct policy;

/*
 * The two bits of an inspection mask that are not lists or geo rules: a
 * target of the answer is on some board's deny list, or is a canary. A
 * board's amask has the first when it has a deny list, the second when it
 * has canaries on.
 */
#define POLICY_BIT_DENY		((uint64_t)1 << 62)
#define POLICY_BIT_CANARY	((uint64_t)1 << 63)

/*
 * One board as the hot path needs it: what a query reads comes first, with
 * copies of what it needs of conf, so that a query of one of 10,000 boards
 * reads the first cache line of this and nothing of the configuration
 * (the type is aligned to a line). A blocked answer reads the first line
 * too: how the board blocks is kept in it as small fields, not as the
 * struct wire_block that policy_block() fills (72 octets, most of them in
 * the second line, a cache miss of every blocked answer with many
 * boards); only a redirect board's IPv6 address and conf are in the
 * second.
 */
struct policy_board {
	uint64_t		 qmask;	/* list bits blocked on the question */
	uint64_t		 amask;	/* bits blocking an answer: lists (CNAME
					   targets, addresses), geo bits,
					   POLICY_BIT_DENY and _CANARY */
	uint64_t		 qstop;	/* question bits (policy_question_
					   bits()) on which policy_question()
					   may say other than PASS */
	struct domtable		*allow;	/* NULL if none; list 0, tag = index
					   in conf->allow */
	struct domtable		*deny;	/* NULL if none; the same of deny */
	unsigned		 index;
	uint32_t		 block_ttl;	/* of the SOA and redirect
						   records: conf->block_ttl */
	uint8_t			 canaries;	/* conf->canaries */
	uint8_t			 safe_search;	/* conf->safe_search */
	uint8_t			 action;	/* enum wire_block_action */
	uint8_t			 have4, have6;	/* redirect addresses */
	uint8_t			 addr4[4];
	const struct conf_board	*conf;		/* the second line */
	uint8_t			 addr6[16];
} __attribute__((aligned(64)));

enum policy_kind {
	POLICY_PASS = 0,	/* answer as usual, inspect the answer */
	POLICY_ALLOWED,		/* on the allow list: answer, no inspection */
	POLICY_BLOCK,		/* blocked: see action, ede */
	POLICY_REWRITE,		/* answer with a CNAME to target */
};

/* Why, for explain and EDE. */
enum policy_rule {
	POLICY_RULE_NONE = 0,
	POLICY_RULE_ALLOW,
	POLICY_RULE_DENY,
	POLICY_RULE_CANARY,
	POLICY_RULE_LIST,	/* list: which one */
	POLICY_RULE_SAFESEARCH,
	POLICY_RULE_ANSWER,	/* bit: which list or geo rule, on an answer */
};

struct policy_verdict {
	enum policy_kind	 kind;
	enum policy_rule	 rule;
	int			 bit;	/* list or geo bit, -1 if none */
	enum wire_block_action	 action;
	uint16_t		 ede_code;
	const char		*ede_text; /* "blocked: phishing" (static to
					      the policy) */
	size_t			 apex_off; /* offset in lname of the name of
					      the entry that matched */
	const uint8_t		*target; /* POLICY_REWRITE: lower-case wire */
	size_t			 tlen;
	uint32_t		 ttl;	/* POLICY_REWRITE: the CNAME's TTL */
};

/* Called with "file:line: message" or "file:line:column: message". */
typedef void (*policy_error_cb)(void *arg, const char *msg);

/*
 * Compile conf. Every error (list files, tables, geo databases, too many
 * bits) is reported through errcb; NULL if there was any. Warnings
 * (invalid lines skipped, unsupported RPZ triggers) go to errcb too but do
 * not fail, unless a list is mostly garbage. prev, the policy in force or
 * NULL, lends its compiled lists when conf's are the same files unchanged
 * (listset.h): they are then shared, not read again.
 */
struct policy	*policy_new(const struct conf *conf, struct policy *prev,
		    policy_error_cb errcb, void *arg);
void		 policy_free(struct policy *);

/*
 * A hint, a step before policy_board_prefetch(): start loading the line
 * of the board index that finding sa's board reads first (with many
 * boards a cache miss, now one a worker's batch pays at once).
 */
void		 policy_board_net_prefetch(const struct policy *,
		    const struct sockaddr *sa);

/*
 * The index of the board owning sa, or -1, as policy_board_for() finds
 * it, and the board's hot part (policy_board_find()) starts loading (a
 * hint to the cache: a worker looks up a batch's boards ahead, so that
 * their cache misses overlap). Not the board's own line, which only a
 * question the cache lacks reads.
 */
int		 policy_board_prefetch(const struct policy *,
		    const struct sockaddr *sa);

/* The board owning the source address sa, or NULL. */
const struct policy_board *policy_board_for(const struct policy *,
		    const struct sockaddr *sa);

/*
 * What a cache hit reads of its board: its stop and answer masks, copies
 * of the board's own, in a small array of the policy's that holds each
 * distinct pair once (boards that block the same lists with the same
 * rules share one), so that a hit reads nothing of the board's own line,
 * a cache miss of nearly every hit with 10,000 boards, and few lines in
 * all: 2 octets a board say which.
 */
struct policy_hot {
	uint64_t	qstop;
	uint64_t	amask;
};

/*
 * policy_board_for(), and the board's hot part into *hot and its index
 * (b->index) into *index, neither read from the board (*hot NULL if no
 * board).
 */
const struct policy_board *policy_board_find(const struct policy *,
		    const struct sockaddr *sa, const struct policy_hot **hot,
		    unsigned *index);

/*
 * The board of index i (as policy_board_prefetch() gives it; -1: none)
 * with its hot part and index, as policy_board_find() gives them for an
 * address of that board, without the lookup.
 */
const struct policy_board *policy_board_at(const struct policy *, int i,
		    const struct policy_hot **hot, unsigned *index);

/* The board by name (case-insensitive) or board file name; NULL. */
const struct policy_board *policy_board_named(const struct policy *,
		    const char *name);

/* The verdict on the question q for board b. No allocation. */
void		 policy_question(const struct policy *,
		    const struct policy_board *b, const struct wire_query *q,
		    struct policy_verdict *v);

/*
 * policy_question() in two steps, so that the memory misses of the
 * lists' large table overlap other work (a worker's next datagram):
 * policy_question_prefetch() hashes q's name into k (which keeps a
 * pointer to q's name) and asks for its places in the lists' table;
 * policy_question_key() later gives policy_question()'s verdict, for
 * board b of the same policy. No allocation.
 */
void		 policy_question_prefetch(const struct policy *,
		    const struct wire_query *q, struct domtable_key *k);
void		 policy_question_key(const struct policy *,
		    const struct policy_board *b, struct domtable_key *k,
		    struct policy_verdict *v);

/*
 * The question's bits of lname (name_len octets, lower-case wire form),
 * of no board: the lists the name is blocked by, POLICY_BIT_DENY when
 * some board's deny list has it, POLICY_BIT_CANARY for a canary, and
 * (at bits of the policy's choosing) whether some board's allow list
 * has it and whether it is a safe-search host. For every board b, when
 * bits & b->qstop is 0, policy_question() says POLICY_PASS (its verdict
 * is then all zero but kind and bit = -1); otherwise it must be asked.
 * The cache keeps these bits with an answer (cache_qcheck), so that a
 * hit costs one AND where policy_question() hashed every suffix of the
 * name and probed the lists' large table.
 */
uint64_t	 policy_question_bits(const struct policy *,
		    const uint8_t *lname, size_t name_len);

/*
 * The bits of an upstream answer (msg as left by wire_scan, len octets):
 * domain-list bits of the targets of its CNAME, DNAME, SVCB and HTTPS
 * records, POLICY_BIT_DENY and POLICY_BIT_CANARY for those targets,
 * ip-list bits and geo bits of its A and AAAA addresses and SVCB and
 * HTTPS hints.
 */
uint64_t	 policy_inspect(const struct policy *, const uint8_t *msg,
		    size_t len);

/*
 * The verdict on the answer msg (len octets, as stored or as written for
 * a client) with inspection bits mask, for board b, in the order of the
 * question's: a target on the board's deny list (rule POLICY_RULE_DENY,
 * the board's action), a canary target (POLICY_RULE_CANARY, NXDOMAIN),
 * a list or geo bit the board blocks (POLICY_RULE_ANSWER, the lowest bit
 * names it); else PASS. msg is read only when mask & b->amask has
 * POLICY_BIT_DENY: for nearly every answer this is one AND.
 */
void		 policy_answer(const struct policy *,
		    const struct policy_board *b, uint64_t mask,
		    const uint8_t *msg, size_t len, struct policy_verdict *v);

/* Prepare the wire_block for verdict v (kind BLOCK) on query q. */
void		 policy_block(const struct policy_board *b,
		    const struct policy_verdict *v, const struct wire_query *q,
		    struct wire_block *wb);

/*
 * A generation number, different for every policy built, so the cache can
 * tell a mask computed under an older policy.
 */
uint32_t	 policy_generation(const struct policy *);

/*
 * The category a bit stands for, as the statistics name it: the list's
 * name, "country:XX" or "as:N", written into buf (cap octets); NULL for
 * a bit no list or geo rule uses.
 */
const char	*policy_bit_name(const struct policy *, unsigned bit,
		    char *buf, size_t cap);

/* The geo databases, or NULL when geoip: names none. */
const struct geo *policy_geo(const struct policy *);

/* Entries loaded from list i of the configuration. */
size_t		 policy_list_entries(const struct policy *, size_t i);

/*
 * For veiligctl explain: the verdict on name (text) and qtype for board b,
 * why (board, rule, list, file:line of the entry that matched), as text
 * lines appended to out. Answer inspection is not included (it needs the
 * answer). 0, or -1 with a reason in out when name is not a name.
 */
int		 policy_explain(const struct policy *,
		    const struct policy_board *b, const char *name,
		    uint16_t qtype, struct evbuffer *out);

/* Describe every board (name, file, networks, blocked lists) into out. */
void		 policy_boards(const struct policy *, struct evbuffer *out);

/* Describe every list into out, one tab-separated line each:
   NAME FORMAT FILE URL (URL "-" when none); veilig-update-lists reads it. */
void		 policy_lists(const struct policy *, struct evbuffer *out);

#endif
