/*
 * policy.c: compile the configuration into tables, and give verdicts.
 *
 * Bits: list i of conf->lists is bit i in every mask; the geo rules
 * (distinct countries and ASNs that boards block) take the bits after the
 * lists. The lists themselves are compiled by listset.c, and shared with
 * the policy before when their files did not change.
 */
#include <sys/types.h>
#include <sys/socket.h>
#include <arpa/inet.h>

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <event2/buffer.h>
#include <ldns/ldns.h>

#include "domtable.h"
#include "geo.h"
#include "iptable.h"
#include "lists.h"
#include "listset.h"
#include "log.h"
#include "policy.h"

#define POLICY_MAX_BITS		CONF_MAX_BITS	/* then POLICY_BIT_DENY,
						   _CANARY */
#define POLICY_SAFESEARCH	"safesearch.txt"
#define POLICY_CANARIES		"canaries.txt"

/* A safe-search rewrite, found through an entry's tag. */
struct policy_rewrite {
	uint32_t		line;
	uint32_t		target;	/* offset in p->arena */
	uint8_t			tlen;
};

/* A geo rule: a country or an AS that some board blocks. */
struct policy_geo {
	char			cc[3];	/* "" for an ASN rule */
	uint32_t		asn;
	unsigned		bit;
};

/* What a query reads of a board is its first line (policy.h). */
_Static_assert(offsetof(struct policy_board, conf) == 64,
    "policy_board: the hot fields are not the first line");

struct policy {
	const struct conf	*conf;
	uint32_t		 gen;

	struct listset		*lists;		/* a reference; the names,
						   ips and RPZ actions */
	struct domtable		*names;		/* lists->names */
	struct domtable		*safe;		/* tag: index in rewrites */
	struct policy_rewrite	*rewrites;
	size_t			 nrewrites;
	struct domtable		*canaries;	/* tag: line */
	struct domtable		*deny_any;	/* every board's deny names */
	struct domtable		*allow_any;	/* every board's allow names */
	uint64_t		 qbit_allow;	/* question bits: a name of */
	uint64_t		 qbit_safe;	/* allow_any, a safe-search host
						   (policy_question_bits()) */
	char			*safe_path;
	char			*canary_path;

	/* Targets of safe-search rewrites (wire form). */
	uint8_t			*arena;
	size_t			 arena_len;
	size_t			 arena_cap;

	struct policy_geo	*geo_rules;
	size_t			 ngeo;
	struct geo		*geo;

	char			*bit_text[POLICY_MAX_BITS]; /* EDE texts */

	struct iptable		*boardnets;	/* value: board index + 1 */
	struct policy_board	*boards;
	size_t			 nboards;
	/*
	 * The boards' hot parts, each distinct one once (boards mostly
	 * share their lists and rules), and each board's among them.
	 */
	struct policy_hot	*hot;
	size_t			 nhot;
	uint16_t		*hotid;		/* by board index */
};

static uint32_t	policy_gen_next;

/* How board b blocks (kept in a byte of its first line). */
static inline enum wire_block_action
policy_action(const struct policy_board *b)
{
	return ((enum wire_block_action)b->action);
}

static void	policy_err(policy_error_cb, void *, const char *, ...)
		    __attribute__((format(printf, 3, 4)));

/* Report one error through the callback. */
static void
policy_err(policy_error_cb errcb, void *arg, const char *fmt, ...)
{
	char	msg[1024];
	va_list	ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	errcb(arg, msg);
}

/* Keep a target name in the arena; its offset or -1. */
static int64_t
policy_arena_add(struct policy *p, const uint8_t *name, size_t len)
{
	uint8_t	*a;
	size_t	 cap, off;

	if (p->arena_len + len > p->arena_cap) {
		cap = p->arena_cap ? p->arena_cap * 2 : 4096;
		while (cap < p->arena_len + len)
			cap *= 2;
		if ((a = realloc(p->arena, cap)) == NULL)
			return (-1);
		p->arena = a;
		p->arena_cap = cap;
	}
	off = p->arena_len;
	memcpy(p->arena + off, name, len);
	p->arena_len += len;
	return ((int64_t)off);
}

/* Make path dir/file in an allocated string. */
static char *
policy_path(const char *dir, const char *file)
{
	char	*path;

	if (asprintf(&path, "%s/%s", dir, file) == -1)
		return (NULL);
	return (path);
}

/* Loading state of our own tables (safe search, canaries). */
struct policy_table_load {
	struct policy		*p;
	struct domtable_builder	*b;
	policy_error_cb		 errcb;
	void			*arg;
};

/* Sink: a report about one of our own tables. */
static void
policy_report_table(void *arg, const char *msg)
{
	struct policy_table_load	*tl = arg;

	tl->errcb(tl->arg, msg);
}

/* Sink for the safe-search table: one rewrite, kept in p->rewrites. */
static int
policy_sink_rewrite(void *arg, const uint8_t *lname, size_t len,
    enum domtable_match match, enum lists_rpz_action action,
    const uint8_t *target, size_t tlen, uint32_t line)
{
	struct policy_table_load	*tl = arg;
	struct policy			*p = tl->p;
	struct policy_rewrite		*r;
	int64_t				 off;

	(void)action;
	r = reallocarray(p->rewrites, p->nrewrites + 1, sizeof *r);
	if (r == NULL)
		return (-1);
	p->rewrites = r;
	if ((off = policy_arena_add(p, target, tlen)) == -1)
		return (-1);
	r[p->nrewrites].line = line;
	r[p->nrewrites].target = (uint32_t)off;
	r[p->nrewrites].tlen = (uint8_t)tlen;
	return (domtable_add(tl->b, lname, len, 0, DOMTABLE_BLOCK, match,
	    (uint32_t)p->nrewrites++));
}

/* Sink for the canary table (a domains list). */
static int
policy_sink_canary(void *arg, const uint8_t *lname, size_t len,
    enum domtable_kind kind, enum domtable_match match, uint32_t line)
{
	struct policy_table_load	*tl = arg;

	return (domtable_add(tl->b, lname, len, 0, kind, match, line));
}

/*
 * Read one of our own tables into *dst: the safe-search table (format
 * rewrite, "name target" a line; each name is rewritten exactly, not its
 * subdomains) or the canaries (a domains list). sink has its callback set.
 */
static int
policy_load_table(struct policy *p, const char *path, enum lists_format fmt,
    struct lists_sink *sink, struct domtable **dst, policy_error_cb errcb,
    void *arg)
{
	struct policy_table_load	 tl;
	struct lists_result		 res;
	size_t				 nrewrites = p->nrewrites;
	size_t				 arena_len = p->arena_len;
	int				 tries = 0;

	tl.p = p;
	tl.errcb = errcb;
	tl.arg = arg;
	sink->report = policy_report_table;
	sink->arg = &tl;
	for (;;) {
		if ((tl.b = domtable_builder_new()) == NULL)
			return (-1);
		/* Our own table: any bad line is an error, not a warning. */
		if (lists_load(path, fmt, sink, &res) == 0 && res.invalid == 0)
			break;
		domtable_builder_free(tl.b);
		/* Changed while read: what it gave goes, read it again. */
		if (!res.changed || tries++ == LISTS_REREADS)
			return (-1);
		p->nrewrites = nrewrites;
		p->arena_len = arena_len;
	}
	if ((*dst = domtable_build(tl.b)) == NULL)
		return (-1);
	return (0);
}

/* Find or add the geo rule for a country (cc) or an AS; its bit or -1. */
static int
policy_geo_bit(struct policy *p, const char *cc, uint32_t asn)
{
	struct policy_geo	*g;
	size_t			 i;
	unsigned		 bit;

	for (i = 0; i < p->ngeo; i++) {
		g = &p->geo_rules[i];
		if (cc != NULL ? strcmp(g->cc, cc) == 0 :
		    g->cc[0] == '\0' && g->asn == asn)
			return ((int)g->bit);
	}
	bit = (unsigned)(p->conf->nlists + p->ngeo);
	if (bit >= POLICY_MAX_BITS)
		return (-1);
	g = reallocarray(p->geo_rules, p->ngeo + 1, sizeof *g);
	if (g == NULL)
		return (-1);
	p->geo_rules = g;
	g = &g[p->ngeo++];
	memset(g, 0, sizeof *g);
	if (cc != NULL) {
		memcpy(g->cc, cc, 2);
		if (asprintf(&p->bit_text[bit], "blocked: country %s", cc) == -1)
			p->bit_text[bit] = NULL;
	} else {
		g->asn = asn;
		if (asprintf(&p->bit_text[bit], "blocked: AS%u", asn) == -1)
			p->bit_text[bit] = NULL;
	}
	g->bit = bit;
	return (p->bit_text[bit] != NULL ? (int)bit : -1);
}

/* Build a board's allow or deny table from its names. */
static struct domtable *
policy_name_table(const struct conf_name *names, size_t n)
{
	struct domtable_builder	*b;
	size_t			 i;

	if ((b = domtable_builder_new()) == NULL)
		return (NULL);
	for (i = 0; i < n; i++) {
		if (domtable_add(b, names[i].lname, names[i].len, 0,
		    DOMTABLE_BLOCK, DOMTABLE_SUBTREE, (uint32_t)i) == -1) {
			domtable_builder_free(b);
			return (NULL);
		}
	}
	return (domtable_build(b));
}

/*
 * The boards' hot parts (what a cache hit reads: qstop, amask), each
 * distinct one once in p->hot, and p->hotid[i] board i's among them.
 * Boards mostly share their lists and rules (10,000 boards of one
 * district may have a handful of distinct parts), so what hits read is
 * 2 octets a board (20 KiB at 10,000 boards) and a few lines, where a
 * part of 16 octets for every board was 160 KiB that the other lines of
 * a query pushed out of a core's second-level cache (a quarter of the
 * hits missed it in boardcost). An open-addressed table of twice the
 * boards finds the repeats: O(n) at load.
 */
static int
policy_hot_build(struct policy *p)
{
	const struct policy_board	*b;
	uint32_t			*slot, cap, h, id;
	size_t				 i;

	if (p->nboards == 0)
		return (0);
	/* Ids are 16 bits: conf.c takes at most 10,000 board files. */
	if (p->nboards > UINT16_MAX + 1)
		return (-1);
	for (cap = 2; cap < 2 * p->nboards; cap *= 2)
		;
	p->hotid = calloc(p->nboards, sizeof *p->hotid);
	slot = calloc(cap, sizeof *slot);	/* id + 1; 0: free */
	/* Aligned, so that no part straddles two lines. */
	p->hot = aligned_alloc(64, (p->nboards * sizeof *p->hot + 63) &
	    ~(size_t)63);
	if (p->hotid == NULL || slot == NULL || p->hot == NULL) {
		free(slot);
		return (-1);
	}
	for (i = 0; i < p->nboards; i++) {
		b = &p->boards[i];
		h = (uint32_t)((b->qstop * 0x9e3779b97f4a7c15ULL ^
		    b->amask * 0xc2b2ae3d27d4eb4fULL) >> 32) & (cap - 1);
		for (; (id = slot[h]) != 0; h = (h + 1) & (cap - 1))
			if (p->hot[id - 1].qstop == b->qstop &&
			    p->hot[id - 1].amask == b->amask)
				break;
		if (id == 0) {
			p->hot[p->nhot].qstop = b->qstop;
			p->hot[p->nhot].amask = b->amask;
			slot[h] = id = (uint32_t)++p->nhot;
		}
		p->hotid[i] = (uint16_t)(id - 1);
	}
	free(slot);
	return (0);
}

/*
 * What answer inspection needs of the boards: one table of every board's
 * deny names (an answer's targets are looked up in it once, when the
 * answer enters the cache, and in a board's own list only when it
 * matches), and the two bits in each board's answer mask. And what a
 * cached question's bits need (policy_question_bits()): the same of the
 * allow lists, and each board's qstop.
 */
static int
policy_load_answer_bits(struct policy *p)
{
	struct domtable_builder	*any, *allow;
	const struct conf_board	*cb;
	struct policy_board	*b;
	size_t			 i, j;

	if ((any = domtable_builder_new()) == NULL)
		return (-1);
	if ((allow = domtable_builder_new()) == NULL) {
		domtable_builder_free(any);
		return (-1);
	}
	for (i = 0; i < p->nboards; i++) {
		b = &p->boards[i];
		cb = b->conf;
		for (j = 0; j < cb->ndeny; j++) {
			if (domtable_add(any, cb->deny[j].lname,
			    cb->deny[j].len, 0, DOMTABLE_BLOCK,
			    DOMTABLE_SUBTREE, (uint32_t)i) == -1)
				goto fail;
		}
		for (j = 0; j < cb->nallow; j++) {
			if (domtable_add(allow, cb->allow[j].lname,
			    cb->allow[j].len, 0, DOMTABLE_BLOCK,
			    DOMTABLE_SUBTREE, (uint32_t)i) == -1)
				goto fail;
		}
		if (cb->ndeny != 0)
			b->amask |= POLICY_BIT_DENY;
		if (cb->canaries)
			b->amask |= POLICY_BIT_CANARY;

		/*
		 * The question bits that make policy_question() say other
		 * than PASS for this board: the lists it blocks, and each of
		 * the four other rules it has.
		 */
		b->qstop = b->qmask;
		if (cb->ndeny != 0)
			b->qstop |= POLICY_BIT_DENY;
		if (cb->canaries)
			b->qstop |= POLICY_BIT_CANARY;
		if (cb->nallow != 0)
			b->qstop |= p->qbit_allow;
		if (cb->safe_search)
			b->qstop |= p->qbit_safe;
	}
	if (policy_hot_build(p) == -1)
		goto fail;
	p->deny_any = domtable_build(any);
	p->allow_any = domtable_build(allow);
	if (p->deny_any == NULL || p->allow_any == NULL)
		return (-1);
	return (0);
fail:
	domtable_builder_free(any);
	domtable_builder_free(allow);
	return (-1);
}

/* Compile the boards: masks, tables, geo bits, the address table. */
static int
policy_load_boards(struct policy *p, policy_error_cb errcb, void *arg)
{
	const struct conf	*conf = p->conf;
	const struct conf_board	*cb;
	struct policy_board	*b;
	struct iptable_builder	*nets;
	uint64_t		 name_bits = 0;
	size_t			 i, j;
	int			 bit, failed = 0, toomany = 0;

	/* The lists a question can be blocked by: all but the ip lists. */
	for (i = 0; i < conf->nlists; i++)
		if (conf->lists[i].format != LISTS_IP)
			name_bits |= (uint64_t)1 << i;
	/*
	 * Two bits no question has of the lists (an ip list's, a geo
	 * rule's, or one unused) say a name is on some board's allow list
	 * and a safe-search host, in policy_question_bits(). With 61 or 62
	 * domain lists one or both have none and share POLICY_BIT_DENY,
	 * which makes boards with either rule or a deny list take the whole
	 * policy_question() for such names (slower, never another verdict).
	 */
	p->qbit_allow = p->qbit_safe = POLICY_BIT_DENY;
	for (i = 0; i < POLICY_MAX_BITS; i++) {
		if (name_bits & ((uint64_t)1 << i))
			continue;
		if (p->qbit_allow == POLICY_BIT_DENY)
			p->qbit_allow = (uint64_t)1 << i;
		else {
			p->qbit_safe = (uint64_t)1 << i;
			break;
		}
	}
	/*
	 * Each board on a cache line of its own (the type is aligned), so
	 * that what a query reads of it is one line, the one that
	 * policy_board_prefetch() asks for; calloc() aligns to 16 only, and
	 * a board of 120 octets at 16 straddled two lines in most places.
	 */
	if (conf->nboards != 0) {
		if ((p->boards = aligned_alloc(_Alignof(struct policy_board),
		    conf->nboards * sizeof *p->boards)) == NULL)
			return (-1);
		memset(p->boards, 0, conf->nboards * sizeof *p->boards);
	}
	if ((nets = iptable_builder_new()) == NULL)
		return (-1);
	for (i = 0; i < conf->nboards; i++) {
		cb = &conf->boards[i];
		b = &p->boards[p->nboards++];
		b->conf = cb;
		b->index = (unsigned)i;
		b->qmask = cb->block & name_bits;
		b->amask = cb->block;
		b->canaries = cb->canaries != 0;
		b->safe_search = cb->safe_search != 0;
		/* No table for an empty list: most boards have none. */
		if ((cb->nallow != 0 && (b->allow = policy_name_table(cb->allow,
		    cb->nallow)) == NULL) || (cb->ndeny != 0 &&
		    (b->deny = policy_name_table(cb->deny, cb->ndeny)) == NULL))
			goto nomem;
		/* conf_load() made sure geo rules have their databases. */
		for (j = 0; j < cb->ncountries + cb->nasns && !toomany; j++) {
			bit = j < cb->ncountries ?
			    policy_geo_bit(p, cb->countries[j], 0) :
			    policy_geo_bit(p, NULL, cb->asns[j - cb->ncountries]);
			if (bit < 0) {
				policy_err(errcb, arg, "%s: too many lists and "
				    "blocked countries and ASNs together (at "
				    "most %d)", cb->path, POLICY_MAX_BITS);
				toomany = failed = 1;
				break;
			}
			b->amask |= (uint64_t)1 << bit;
		}
		b->action = (uint8_t)cb->action;
		b->block_ttl = conf->block_ttl;
		b->have4 = cb->have4 != 0;
		b->have6 = cb->have6 != 0;
		memcpy(b->addr4, cb->redirect4, 4);
		memcpy(b->addr6, cb->redirect6, 16);
		for (j = 0; j < cb->nnetworks; j++)
			if (iptable_add(nets, &cb->networks[j], i + 1) == -1)
				goto nomem;
	}
	if ((p->boardnets = iptable_build(nets)) == NULL)
		return (-1);
	return (failed ? -1 : 0);
nomem:
	iptable_builder_free(nets);
	return (-1);
}

struct policy *
policy_new(const struct conf *conf, struct policy *prev,
    policy_error_cb errcb, void *arg)
{
	struct policy		*p;
	struct lists_sink	 sink;
	char			*cause;
	size_t			 i;
	int			 failed = 0;

	if ((p = calloc(1, sizeof *p)) == NULL)
		return (NULL);
	p->conf = conf;
	p->gen = __atomic_add_fetch(&policy_gen_next, 1, __ATOMIC_RELAXED);
	p->safe_path = policy_path(conf->tables, POLICY_SAFESEARCH);
	p->canary_path = policy_path(conf->tables, POLICY_CANARIES);
	if (p->safe_path == NULL || p->canary_path == NULL)
		goto nomem;
	for (i = 0; i < conf->nlists; i++)
		if (asprintf(&p->bit_text[i], "blocked: %s",
		    conf->lists[i].name) == -1)
			goto nomem;

	/* The lists of the policy in force, if nothing changed there. */
	p->lists = listset_new(conf, prev != NULL ? prev->lists : NULL, errcb,
	    arg);
	if (p->lists == NULL)
		failed = 1;
	else
		p->names = p->lists->names;

	memset(&sink, 0, sizeof sink);
	sink.rpz = policy_sink_rewrite;
	if (policy_load_table(p, p->safe_path, LISTS_REWRITE, &sink, &p->safe,
	    errcb, arg) == -1)
		failed = 1;
	memset(&sink, 0, sizeof sink);
	sink.name = policy_sink_canary;
	if (policy_load_table(p, p->canary_path, LISTS_DOMAINS, &sink,
	    &p->canaries, errcb, arg) == -1)
		failed = 1;
	if (policy_load_boards(p, errcb, arg) == -1)
		failed = 1;
	else if (policy_load_answer_bits(p) == -1)
		goto nomem;
	/* Opened for the statistics too: queries of no board by country. */
	if (p->ngeo != 0 || conf->geoip_country != NULL ||
	    conf->geoip_asn != NULL) {
		p->geo = geo_open(conf->geoip_country, conf->geoip_asn, &cause);
		if (p->geo == NULL) {
			policy_err(errcb, arg, "%s", cause != NULL ? cause :
			    "geoip: out of memory");
			free(cause);
			failed = 1;
		}
	}
	if (failed) {
		policy_free(p);
		return (NULL);
	}
	return (p);
nomem:
	policy_err(errcb, arg, "%s: out of memory building the policy",
	    conf->path);
	policy_free(p);
	return (NULL);
}

void
policy_free(struct policy *p)
{
	size_t	i;

	if (p == NULL)
		return;
	for (i = 0; i < p->nboards; i++) {
		domtable_free(p->boards[i].allow);
		domtable_free(p->boards[i].deny);
	}
	free(p->boards);
	free(p->hot);
	free(p->hotid);
	iptable_free(p->boardnets);
	listset_free(p->lists);
	domtable_free(p->safe);
	domtable_free(p->canaries);
	domtable_free(p->deny_any);
	domtable_free(p->allow_any);
	geo_free(p->geo);
	for (i = 0; i < POLICY_MAX_BITS; i++)
		free(p->bit_text[i]);
	free(p->geo_rules);
	free(p->rewrites);
	free(p->arena);
	free(p->safe_path);
	free(p->canary_path);
	free(p);
}

uint32_t
policy_generation(const struct policy *p)
{
	return (p->gen);
}

const char *
policy_bit_name(const struct policy *p, unsigned bit, char *buf, size_t cap)
{
	const struct policy_geo	*g;
	size_t			 i;

	if (bit < p->conf->nlists) {
		snprintf(buf, cap, "%s", p->conf->lists[bit].name);
		return (buf);
	}
	for (i = 0; i < p->ngeo; i++) {
		g = &p->geo_rules[i];
		if (g->bit != bit)
			continue;
		if (g->cc[0] != '\0')
			snprintf(buf, cap, "country:%s", g->cc);
		else
			snprintf(buf, cap, "as:%u", g->asn);
		return (buf);
	}
	return (NULL);
}

const struct geo *
policy_geo(const struct policy *p)
{
	return (p->geo);
}

size_t
policy_list_entries(const struct policy *p, size_t i)
{
	return (i < p->conf->nlists ? p->lists->entries[i] : 0);
}

const struct policy_board *
policy_board_for(const struct policy *p, const struct sockaddr *sa)
{
	const struct policy_hot	*hot;
	unsigned		 index;

	return (policy_board_find(p, sa, &hot, &index));
}

const struct policy_board *
policy_board_find(const struct policy *p, const struct sockaddr *sa,
    const struct policy_hot **hot, unsigned *index)
{
	uint64_t	v;

	v = iptable_lookup(p->boardnets, sa);
	if (v == 0 || v > p->nboards || p->hot == NULL) {
		*hot = NULL;
		*index = 0;
		return (NULL);
	}
	*hot = &p->hot[p->hotid[v - 1]];
	*index = (unsigned)(v - 1);
	return (&p->boards[v - 1]);
}

const struct policy_board *
policy_board_at(const struct policy *p, int i, const struct policy_hot **hot,
    unsigned *index)
{
	if (i < 0 || (size_t)i >= p->nboards || p->hot == NULL) {
		*hot = NULL;
		*index = 0;
		return (NULL);
	}
	*hot = &p->hot[p->hotid[i]];
	*index = (unsigned)i;
	return (&p->boards[i]);
}

void
policy_board_net_prefetch(const struct policy *p, const struct sockaddr *sa)
{
	iptable_prefetch(p->boardnets, sa);
}

int
policy_board_prefetch(const struct policy *p, const struct sockaddr *sa)
{
	uint64_t	v;

	v = iptable_lookup(p->boardnets, sa);
	if (v == 0 || v > p->nboards)
		return (-1);
	/*
	 * Not the board's own line: a cache hit reads only the hot part,
	 * and a question the cache lacks asks for the line a datagram
	 * before its answer (query.c), so that with many boards nine in
	 * ten datagrams do not fetch a line they never read. Of the hot
	 * part the board's id, not read here: the few distinct parts
	 * stay in the cache.
	 */
	if (p->hotid != NULL)
		__builtin_prefetch(&p->hotid[v - 1]);
	return ((int)(v - 1));
}

const struct policy_board *
policy_board_named(const struct policy *p, const char *name)
{
	const char	*base;
	size_t		 i;

	for (i = 0; i < p->nboards; i++) {
		if (strcasecmp(p->boards[i].conf->name, name) == 0)
			return (&p->boards[i]);
		base = strrchr(p->boards[i].conf->path, '/');
		base = base != NULL ? base + 1 : p->boards[i].conf->path;
		if (strcmp(base, name) == 0 ||
		    (strncmp(base, name, strlen(name)) == 0 &&
		    strcmp(base + strlen(name), ".yaml") == 0))
			return (&p->boards[i]);
	}
	return (NULL);
}

/* Fill v as a block by rule with EDE code and text. */
static void
policy_set_block(struct policy_verdict *v, enum policy_rule rule, int bit,
    enum wire_block_action action, uint16_t code, const char *text,
    size_t apex_off)
{
	v->kind = POLICY_BLOCK;
	v->rule = rule;
	v->bit = bit;
	v->action = action;
	v->ede_code = code;
	v->ede_text = text;
	v->apex_off = apex_off;
}

/*
 * Step 4 of policy_question(): the categories the board blocks, the first
 * list naming it; an RPZ list says itself what the answer is. 1 if the
 * question is blocked (or rewritten), else 0.
 */
static int
policy_question_lists(const struct policy *p, const struct policy_board *b,
    struct domtable_key *k, struct policy_verdict *v)
{
	struct domtable_hit	 hit;
	const struct listset_rpz *r;
	uint64_t		 m;
	size_t			 off = 0;
	int			 bit;

	m = domtable_match_key(p->names, k, b->qmask, &off) & b->qmask;
	if (m == 0)
		return (0);
	bit = __builtin_ctzll(m);
	policy_set_block(v, POLICY_RULE_LIST, bit, policy_action(b),
	    WIRE_EDE_FILTERED, p->bit_text[bit], off);
	if (((p->lists->rpz_bits >> bit) & 1) == 0 ||
	    domtable_explain_key(p->names, k, (unsigned)bit, &hit) == -1 ||
	    hit.tag >= p->lists->nrpz)
		return (1);
	r = &p->lists->rpz[hit.tag];
	if (r->action == LISTS_RPZ_NXDOMAIN)
		v->action = WIRE_BLOCK_NXDOMAIN;
	else if (r->action == LISTS_RPZ_NODATA)
		v->action = WIRE_BLOCK_NODATA;
	else if (r->action == LISTS_RPZ_CNAME) {
		v->kind = POLICY_REWRITE;
		v->target = p->lists->arena + r->target;
		v->tlen = r->tlen;
		v->ttl = p->conf->block_ttl;
	}
	return (1);
}

void
policy_question(const struct policy *p, const struct policy_board *b,
    const struct wire_query *q, struct policy_verdict *v)
{
	struct domtable_key	 k;

	/*
	 * The places of the name's suffixes in the lists' table (large: a
	 * cache miss each) are fetched while the small tables before it
	 * are asked.
	 */
	policy_question_prefetch(p, q, &k);
	policy_question_key(p, b, &k, v);
}

void
policy_question_prefetch(const struct policy *p, const struct wire_query *q,
    struct domtable_key *k)
{
	domtable_key_init(k, q->lname, q->name_len);
	domtable_prefetch(p->names, k);
}

void
policy_question_key(const struct policy *p, const struct policy_board *b,
    struct domtable_key *k, struct policy_verdict *v)
{
	struct domtable_hit	 hit;
	const struct policy_rewrite *rw;
	size_t			 off = 0;

	memset(v, 0, sizeof *v);
	v->bit = -1;
	/* 1. The board's allow list beats everything. */
	if (b->allow != NULL &&
	    domtable_match_key(b->allow, k, 0, &off) != 0) {
		v->kind = POLICY_ALLOWED;
		v->rule = POLICY_RULE_ALLOW;
		return;
	}
	/* 2. Its deny list beats the categories. */
	if (b->deny != NULL && domtable_match_key(b->deny, k, 1, &off) != 0) {
		policy_set_block(v, POLICY_RULE_DENY, -1, policy_action(b),
		    WIRE_EDE_FILTERED, "blocked: deny list", off);
		return;
	}
	/* 3. Canaries: the service says "no DoH, no relay" to browsers. */
	if (b->canaries && domtable_match_key(p->canaries, k, 1, &off) != 0) {
		policy_set_block(v, POLICY_RULE_CANARY, -1,
		    WIRE_BLOCK_NXDOMAIN, WIRE_EDE_BLOCKED, "blocked: canary",
		    off);
		return;
	}
	/* 4. The categories the board blocks; the first list names it. */
	if (policy_question_lists(p, b, k, v))
		return;
	/* 5. Safe search: the enforced host of a search engine. */
	if (b->safe_search && domtable_match_key(p->safe, k, 0, &off) != 0 &&
	    domtable_explain_key(p->safe, k, 0, &hit) == 0 &&
	    hit.tag < p->nrewrites) {
		rw = &p->rewrites[hit.tag];
		v->kind = POLICY_REWRITE;
		v->rule = POLICY_RULE_SAFESEARCH;
		v->target = p->arena + rw->target;
		v->tlen = rw->tlen;
		v->ttl = p->conf->block_ttl;
		return;
	}
	v->kind = POLICY_PASS;
}

uint64_t
policy_question_bits(const struct policy *p, const uint8_t *lname,
    size_t len)
{
	struct domtable_key	k;
	uint64_t		m;
	size_t			off;

	/* Every table with want 0: the bits alone, no board's choice. */
	domtable_key_init(&k, lname, len);
	m = domtable_match_key(p->names, &k, 0, &off);
	if (domtable_match_key(p->deny_any, &k, 0, &off) != 0)
		m |= POLICY_BIT_DENY;
	if (domtable_match_key(p->canaries, &k, 0, &off) != 0)
		m |= POLICY_BIT_CANARY;
	if (domtable_match_key(p->allow_any, &k, 0, &off) != 0)
		m |= p->qbit_allow;
	if (domtable_match_key(p->safe, &k, 0, &off) != 0)
		m |= p->qbit_safe;
	return (m);
}

/* Inspection state for wire_inspect's callbacks. */
struct policy_inspect_ctx {
	const struct policy	*p;
	uint64_t		 mask;
};

/* A target: its lists, and whether a canary or on some deny list. */
static int
policy_inspect_name_cb(void *arg, const uint8_t *lname, size_t len)
{
	struct policy_inspect_ctx	*ctx = arg;
	const struct policy		*p = ctx->p;
	struct domtable_key		 k;
	size_t				 off;

	domtable_key_init(&k, lname, len);
	ctx->mask |= domtable_match_key(p->names, &k, 0, &off);
	if (domtable_match_key(p->canaries, &k, 0, &off) != 0)
		ctx->mask |= POLICY_BIT_CANARY;
	if (domtable_match_key(p->deny_any, &k, 0, &off) != 0)
		ctx->mask |= POLICY_BIT_DENY;
	return (0);
}

static int
policy_inspect_addr_cb(void *arg, int family, const uint8_t *addr)
{
	struct policy_inspect_ctx	*ctx = arg;
	const struct policy		*p = ctx->p;
	size_t				 i;
	uint32_t			 asn;
	char				 cc[3];

	ctx->mask |= iptable_lookup_addr(p->lists->ips, family, addr);
	if (p->geo == NULL || geo_lookup(p->geo, family, addr, cc, &asn) == -1)
		return (0);
	for (i = 0; i < p->ngeo; i++) {
		if (p->geo_rules[i].cc[0] != '\0' ?
		    strcmp(p->geo_rules[i].cc, cc) == 0 :
		    p->geo_rules[i].asn == asn)
			ctx->mask |= (uint64_t)1 << p->geo_rules[i].bit;
	}
	return (0);
}

uint64_t
policy_inspect(const struct policy *p, const uint8_t *msg, size_t len)
{
	struct policy_inspect_ctx	ctx;
	struct wire_visit		v;

	ctx.p = p;
	ctx.mask = 0;
	v.name = policy_inspect_name_cb;
	v.addr = policy_inspect_addr_cb;
	v.arg = &ctx;
	/*
	 * wire_scan() has checked every CNAME and DNAME, so this walk does
	 * not fail on an answer we serve; should it, the bits found so far
	 * still count (failing open would unblock a cloaked name).
	 */
	(void)wire_inspect(msg, len, &v);
	return (ctx.mask);
}

/* Looking for a target of an answer on a board's deny list. */
struct policy_denied {
	const struct policy_board	*b;
	int				 found;
};

static int
policy_denied_cb(void *arg, const uint8_t *lname, size_t len)
{
	struct policy_denied	*d = arg;

	d->found = domtable_match(d->b->deny, lname, len) != 0;
	return (d->found);
}

void
policy_answer(const struct policy *p, const struct policy_board *b,
    uint64_t mask, const uint8_t *msg, size_t len, struct policy_verdict *v)
{
	struct policy_denied	 d = { b, 0 };
	struct wire_visit	 dv = { policy_denied_cb, NULL, &d };
	uint64_t		 m = mask & b->amask;
	int			 bit;

	memset(v, 0, sizeof *v);
	v->bit = -1;
	if (m == 0) {
		v->kind = POLICY_PASS;
		return;
	}
	/*
	 * As on the question: the deny list, the canaries, the lists. Some
	 * board denies a target; this one only if its own list says so (a
	 * walk of the answer, for answers with such a target alone).
	 */
	if (m & POLICY_BIT_DENY)
		(void)wire_inspect(msg, len, &dv);
	if (d.found) {
		policy_set_block(v, POLICY_RULE_DENY, -1, policy_action(b),
		    WIRE_EDE_FILTERED, "blocked: deny list", 0);
		return;
	}
	if (m & POLICY_BIT_CANARY) {
		policy_set_block(v, POLICY_RULE_CANARY, -1,
		    WIRE_BLOCK_NXDOMAIN, WIRE_EDE_BLOCKED, "blocked: canary", 0);
		return;
	}
	m &= ~(POLICY_BIT_DENY | POLICY_BIT_CANARY);
	if (m == 0) {
		v->kind = POLICY_PASS;
		return;
	}
	bit = __builtin_ctzll(m);
	policy_set_block(v, POLICY_RULE_ANSWER, bit, policy_action(b),
	    WIRE_EDE_FILTERED, p->bit_text[bit], 0);
}

void
policy_block(const struct policy_board *b, const struct policy_verdict *v,
    const struct wire_query *q, struct wire_block *wb)
{
	memset(wb, 0, sizeof *wb);
	wb->action = v->action;
	wb->ttl = b->block_ttl;
	wb->have4 = b->have4;
	memcpy(wb->addr4, b->addr4, sizeof wb->addr4);
	/* The second line only for a board that redirects AAAA. */
	if ((wb->have6 = b->have6) != 0)
		memcpy(wb->addr6, b->addr6, sizeof wb->addr6);
	wb->apex = v->apex_off < q->name_len ? q->lname + v->apex_off : NULL;
	wb->apex_len = q->name_len - v->apex_off;
	wb->ede_code = v->ede_code;
	wb->ede_text = v->ede_text;
}

static const char *
policy_action_name(enum wire_block_action a)
{
	switch (a) {
	case WIRE_BLOCK_NXDOMAIN:
		return ("nxdomain");
	case WIRE_BLOCK_NODATA:
		return ("nodata");
	case WIRE_BLOCK_REFUSED:
		return ("refused");
	case WIRE_BLOCK_REDIRECT:
		return ("redirect");
	}
	return ("?");
}

/* Explain which entries of which lists cover the name, blocked or not. */
static void
policy_explain_lists(const struct policy *p, const struct policy_board *b,
    const uint8_t *lname, size_t len, struct evbuffer *out)
{
	const struct conf_list	*l;
	struct domtable_hit	 hit;
	char			 buf[1024];
	uint32_t		 line;
	size_t			 i;

	for (i = 0; i < p->conf->nlists; i++) {
		if (!((p->lists->name_bits >> i) & 1))
			continue;
		if (domtable_explain(p->names, lname, len, (unsigned)i,
		    &hit) == -1)
			continue;
		l = &p->conf->lists[i];
		line = hit.tag;
		if ((p->lists->rpz_bits >> i) & 1 && hit.tag < p->lists->nrpz)
			line = p->lists->rpz[hit.tag].line;
		/* As the list says it: "*." for subdomains only (RPZ). */
		evbuffer_add_printf(out, "listed: %s %s %s%s%s (%s:%u)%s\n",
		    l->name, hit.kind == DOMTABLE_PASS ? "exception" : "entry",
		    hit.match == DOMTABLE_SUBONLY ? "*." : "",
		    wire_name_str(lname + hit.suffix_off,
		    len - hit.suffix_off, buf, sizeof buf),
		    hit.match == DOMTABLE_EXACT ? " (this name only)" : "",
		    l->file, line,
		    (b->qmask >> i) & 1 ? "" : " [not blocked by this board]");
	}
}

int
policy_explain(const struct policy *p, const struct policy_board *b,
    const char *name, uint16_t qtype, struct evbuffer *out)
{
	struct wire_query	 q;
	struct policy_verdict	 v;
	struct domtable_hit	 hit;
	const struct conf_name	*cn;
	const char		*why;
	const ldns_rr_descriptor *d;
	char			 buf[1024], tbuf[16];
	size_t			 len;

	memset(&q, 0, sizeof q);
	if (strcmp(name, ".") == 0) {
		/* The root is a question, though never a list entry. */
		len = 1;
	} else if (lists_name(name, strlen(name), q.lname, &len, &why) == -1) {
		evbuffer_add_printf(out, "%s: %s\n", name, why);
		return (-1);
	}
	memcpy(q.name, q.lname, len);
	q.name_len = (uint16_t)len;
	q.have_question = 1;
	q.qtype = qtype;
	q.qclass = WIRE_CLASS_IN;
	policy_question(p, b, &q, &v);

	/* As veiligctl stats shows it: the admin's text, quoted, escaped. */
	evbuffer_add_printf(out, "board: \"%s\" (%s)\n", log_escaped(buf,
	    sizeof buf, b->conf->name), b->conf->path);
	snprintf(tbuf, sizeof tbuf, "TYPE%u", qtype);
	d = ldns_rr_descript(qtype);
	evbuffer_add_printf(out, "question: %s %s\n",
	    wire_name_str(q.lname, len, buf, sizeof buf),
	    d != NULL && d->_name != NULL ? d->_name : tbuf);
	switch (v.kind) {
	case POLICY_ALLOWED:
		domtable_explain(b->allow, q.lname, len, 0, &hit);
		cn = &b->conf->allow[hit.tag];
		evbuffer_add_printf(out, "verdict: allow\nrule: allow %s "
		    "(%s:%u:%u); answers are not inspected\n", cn->text,
		    b->conf->path, cn->line, cn->col);
		break;
	case POLICY_BLOCK:
		evbuffer_add_printf(out, "verdict: block, answer %s, EDE %u "
		    "\"%s\"\n", policy_action_name(v.action), v.ede_code,
		    v.ede_text);
		if (v.rule == POLICY_RULE_DENY) {
			domtable_explain(b->deny, q.lname, len, 0, &hit);
			cn = &b->conf->deny[hit.tag];
			evbuffer_add_printf(out, "rule: deny %s (%s:%u:%u)\n",
			    cn->text, b->conf->path, cn->line, cn->col);
		} else if (v.rule == POLICY_RULE_CANARY) {
			domtable_explain(p->canaries, q.lname, len, 0, &hit);
			evbuffer_add_printf(out, "rule: canary %s (%s:%u)\n",
			    wire_name_str(q.lname + hit.suffix_off,
			    len - hit.suffix_off, buf, sizeof buf),
			    p->canary_path, hit.tag);
		} else
			evbuffer_add_printf(out, "rule: list %s, category "
			    "blocked by this board\n",
			    p->conf->lists[v.bit].name);
		break;
	case POLICY_REWRITE:
		evbuffer_add_printf(out, "verdict: rewrite to %s (CNAME)\n",
		    wire_name_str(v.target, v.tlen, buf, sizeof buf));
		if (v.rule == POLICY_RULE_SAFESEARCH) {
			domtable_explain(p->safe, q.lname, len, 0, &hit);
			evbuffer_add_printf(out, "rule: safe-search (%s:%u)\n",
			    p->safe_path, p->rewrites[hit.tag].line);
		} else
			evbuffer_add_printf(out, "rule: list %s (RPZ CNAME)\n",
			    p->conf->lists[v.bit].name);
		break;
	case POLICY_PASS:
		evbuffer_add_printf(out, "verdict: pass; the answer is "
		    "inspected (CNAME targets, addresses)\n");
		break;
	}
	policy_explain_lists(p, b, q.lname, len, out);
	return (0);
}

void
policy_boards(const struct policy *p, struct evbuffer *out)
{
	const struct conf_board	*cb;
	char			 addr[INET6_ADDRSTRLEN];
	size_t			 i, j;
	int			 first;

	for (i = 0; i < p->nboards; i++) {
		cb = p->boards[i].conf;
		evbuffer_add_printf(out, "%s\t%s\t", cb->name, cb->path);
		for (j = 0; j < cb->nnetworks; j++) {
			inet_ntop(cb->networks[j].family, cb->networks[j].addr,
			    addr, sizeof addr);
			evbuffer_add_printf(out, "%s%s/%u", j ? "," : "",
			    addr, cb->networks[j].prefix);
		}
		evbuffer_add_printf(out, "\tblock=");
		first = 1;
		for (j = 0; j < p->conf->nlists; j++) {
			if (!((cb->block >> j) & 1))
				continue;
			evbuffer_add_printf(out, "%s%s", first ? "" : ",",
			    p->conf->lists[j].name);
			first = 0;
		}
		evbuffer_add_printf(out, "\tsafe-search=%s\taction=%s\n",
		    cb->safe_search ? "yes" : "no",
		    policy_action_name((enum wire_block_action)cb->action));
	}
}

void
policy_lists(const struct policy *p, struct evbuffer *out)
{
	const struct conf_list	*l;
	size_t			 i;

	for (i = 0; i < p->conf->nlists; i++) {
		l = &p->conf->lists[i];
		evbuffer_add_printf(out, "%s\t%s\t%s\t%s\n", l->name,
		    lists_format_name((enum lists_format)l->format), l->file,
		    l->url != NULL ? l->url : "-");
	}
}
