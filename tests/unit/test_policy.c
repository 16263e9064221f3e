/*
 * test_policy.c: unit tests of policy.c, the compiled filter policy.
 *
 * Each test writes a small configuration into a mkdtemp() directory
 * (veiligd.yaml, board files in boards/, list files in lists/, and
 * tables/safesearch.txt and tables/canaries.txt of our own), loads it
 * with conf_load(), compiles it with policy_new() and checks every field
 * of the verdicts. Queries are real packets made with ldns and parsed by
 * wire_parse_query(); answers are ldns-built packets run through
 * wire_scan(), as the daemon does.
 *
 * Covered: board lookup by address (IPv4, IPv6, v4-mapped), precedence
 * (allow, deny, canaries, lists, safe search), the most specific entry
 * within one list, RPZ actions and wildcards, block actions and
 * policy_block(), EDE codes and texts, apex offsets, answer inspection
 * (CNAME cloaking, ip lists, GeoIP countries and ASNs), load errors and
 * warnings, too many bits, explain, generations and policy_lists().
 */
#include <sys/socket.h>
#include <sys/stat.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <event2/buffer.h>
#include <ldns/ldns.h>

#include "conf.h"
#include "lists.h"
#include "policy.h"
#include "wire.h"

#include "tdir.h"

#define BLOCK_TTL	42

/* The tables every configuration uses unless a test replaces them. */
#define SAFESEARCH_TXT						\
	"# name target\n"					\
	"www.google.nl forcesafesearch.google.com\n"		\
	"www.bing.com strict.bing.com\n"			\
	"\n"							\
	"duckduckgo.com safe.duckduckgo.com   # comment\n"
#define CANARIES_TXT						\
	"# canaries\n"						\
	"use-application-dns.net\n"				\
	"mask.icloud.com\n"

/* One test's directory, configuration, policy and messages. */
struct fx {
	struct tdir	 dir;
	struct conf	*conf;
	struct policy	*p;
	struct tmsgs	 msgs;
};

/* True if some message starts with dir/rel followed by rest. */
static int
msgs_start(const struct fx *fx, const char *rel, const char *rest)
{
	char	want[512];
	size_t	i;

	snprintf(want, sizeof want, "%s/%s%s", fx->dir.path, rel, rest);
	for (i = 0; i < fx->msgs.n && i < TMSGS_MAX; i++)
		if (strncmp(fx->msgs.msg[i], want, strlen(want)) == 0)
			return (1);
	tmsgs_print(&fx->msgs);
	print_message("  wanted a message starting: %s\n", want);
	return (0);
}

/*
 * Write veiligd.yaml: the fixed keys, then lists (a complete "lists:"
 * block, or NULL for none) and extra top-level text.
 */
static void
fx_yaml(const struct fx *fx, const char *lists, const char *extra)
{
	char	*text;

	assert_int_not_equal(asprintf(&text,
	    "upstreams: [ 127.0.0.1 ]\n"
	    "boards: boards/*.yaml\n"
	    "filter: { block-ttl: %ds, tables: tables }\n"
	    "control: %s/control.sock\n"
	    "%s%s", BLOCK_TTL, fx->dir.path,
	    lists != NULL ? lists : "lists: {}\n",
	    extra != NULL ? extra : ""), -1);
	tdir_write(&fx->dir, "veiligd.yaml", text);
	free(text);
}

/* Load the configuration; it must be valid. */
static void
fx_conf(struct fx *fx)
{
	char	path[256];

	fx->conf = conf_load(tdir_path(&fx->dir, "veiligd.yaml", path, sizeof path),
	    tmsgs_cb, &fx->msgs);
	if (fx->conf == NULL)
		tmsgs_print(&fx->msgs);
	assert_non_null(fx->conf);
}

/* Load and compile; both must succeed. */
static struct policy *
fx_build(struct fx *fx)
{
	fx_conf(fx);
	fx->p = policy_new(fx->conf, NULL, tmsgs_cb, &fx->msgs);
	if (fx->p == NULL)
		tmsgs_print(&fx->msgs);
	assert_non_null(fx->p);
	return (fx->p);
}

/* Load; it must fail. */
static void
fx_conf_fails(struct fx *fx)
{
	char	path[256];

	fx->conf = conf_load(tdir_path(&fx->dir, "veiligd.yaml", path, sizeof path),
	    tmsgs_cb, &fx->msgs);
	assert_null(fx->conf);
	assert_int_not_equal(fx->msgs.n, 0);
}

/* Load (must succeed) and compile (must fail). */
static void
fx_build_fails(struct fx *fx)
{
	fx_conf(fx);
	fx->p = policy_new(fx->conf, NULL, tmsgs_cb, &fx->msgs);
	assert_null(fx->p);
	assert_int_not_equal(fx->msgs.n, 0);
}

static int
setup(void **state)
{
	struct fx	*fx;

	if ((fx = calloc(1, sizeof *fx)) == NULL)
		return (-1);
	*state = fx;
	tdir_new(&fx->dir, "test_policy", "boards", "lists", "tables", NULL);
	tdir_write(&fx->dir, "tables/safesearch.txt", SAFESEARCH_TXT);
	tdir_write(&fx->dir, "tables/canaries.txt", CANARIES_TXT);
	return (0);
}

static int
teardown(void **state)
{
	struct fx	*fx = *state;

	if (fx == NULL)
		return (0);
	policy_free(fx->p);
	conf_free(fx->conf);
	tmsgs_clear(&fx->msgs);
	tdir_free(&fx->dir);
	free(fx);
	return (0);
}

/* A query for name and type, parsed as a client's packet would be. */
static void
mkq(struct wire_query *q, const char *name, uint16_t type)
{
	ldns_rdf	*dname;
	ldns_pkt	*pkt;
	uint8_t		*buf = NULL;
	size_t		 len = 0;

	dname = ldns_dname_new_frm_str(name);
	assert_non_null(dname);
	pkt = ldns_pkt_query_new(dname, (ldns_rr_type)type, LDNS_RR_CLASS_IN,
	    LDNS_RD);
	assert_non_null(pkt);
	ldns_pkt_set_id(pkt, 0x1234);
	assert_int_equal(ldns_pkt2wire(&buf, pkt, &len), LDNS_STATUS_OK);
	ldns_pkt_free(pkt);
	memset(q, 0, sizeof *q);
	assert_int_equal(wire_parse_query(buf, len, q), WIRE_OK);
	free(buf);
	assert_true(q->have_question);
}

/*
 * An upstream answer to qname/A with the answer records rrs (text, NULL
 * ended), into out as wire_scan() leaves it; its length.
 */
static size_t
mkans(const char *qname, const char *const *rrs, uint8_t *out, size_t cap)
{
	struct wire_query	 q;
	struct wire_scan	 sc;
	ldns_pkt		*pkt;
	ldns_rr			*rr;
	uint8_t			*buf = NULL;
	size_t			 len = 0;

	pkt = ldns_pkt_query_new(ldns_dname_new_frm_str(qname), LDNS_RR_TYPE_A,
	    LDNS_RR_CLASS_IN, LDNS_RD);
	assert_non_null(pkt);
	ldns_pkt_set_id(pkt, 0x1234);
	ldns_pkt_set_qr(pkt, true);
	ldns_pkt_set_ra(pkt, true);
	for (; *rrs != NULL; rrs++) {
		assert_int_equal(ldns_rr_new_frm_str(&rr, *rrs, 300, NULL,
		    NULL), LDNS_STATUS_OK);
		assert_true(ldns_pkt_push_rr(pkt, LDNS_SECTION_ANSWER, rr));
	}
	assert_int_equal(ldns_pkt2wire(&buf, pkt, &len), LDNS_STATUS_OK);
	ldns_pkt_free(pkt);
	assert_true(len <= cap);
	memcpy(out, buf, len);
	free(buf);
	mkq(&q, qname, LDNS_RR_TYPE_A);
	assert_int_equal(wire_check_answer(out, len, &q, 0x1234), 0);
	assert_int_equal(wire_scan(out, len, &sc), 0);
	return (sc.len);
}

/* policy_inspect() of an answer to qname with the records rrs. */
static uint64_t
inspect(const struct policy *p, const char *qname, const char *const *rrs)
{
	uint8_t	msg[4096];
	size_t	len;

	len = mkans(qname, rrs, msg, sizeof msg);
	return (policy_inspect(p, msg, len));
}

/* A name in lower-case wire form; its length. */
static size_t
wname(const char *text, uint8_t *out)
{
	const char	*why;
	size_t		 len;

	assert_int_equal(lists_name(text, strlen(text), out, &len, &why), 0);
	return (len);
}

/* The board named name; it must exist. */
static const struct policy_board *
board(const struct policy *p, const char *name)
{
	const struct policy_board	*b;

	b = policy_board_named(p, name);
	assert_non_null(b);
	return (b);
}

/* The verdict of board b on the question name/A; q is kept for apex. */
static void
ask(const struct policy *p, const struct policy_board *b, const char *name,
    struct wire_query *q, struct policy_verdict *v)
{
	mkq(q, name, LDNS_RR_TYPE_A);
	memset(v, 0xa5, sizeof *v);	/* every field must be written */
	policy_question(p, b, q, v);
}

/* Every field of a verdict other than REWRITE's. */
static void
check_v(const struct policy_verdict *v, enum policy_kind kind,
    enum policy_rule rule, int bit, enum wire_block_action action,
    uint16_t code, const char *text, size_t apex_off)
{
	assert_int_equal(v->kind, kind);
	assert_int_equal(v->rule, rule);
	assert_int_equal(v->bit, bit);
	assert_int_equal(v->action, action);
	assert_int_equal(v->ede_code, code);
	if (text == NULL)
		assert_null(v->ede_text);
	else {
		assert_non_null(v->ede_text);
		assert_string_equal(v->ede_text, text);
	}
	assert_int_equal(v->apex_off, apex_off);
	if (kind != POLICY_REWRITE) {
		assert_null(v->target);
		assert_int_equal(v->tlen, 0);
		assert_int_equal(v->ttl, 0);
	}
}

/* Verdict on name: PASS, all fields clear. */
static void
expect_pass(const struct policy *p, const struct policy_board *b,
    const char *name)
{
	struct wire_query	q;
	struct policy_verdict	v;

	ask(p, b, name, &q, &v);
	check_v(&v, POLICY_PASS, POLICY_RULE_NONE, -1, 0, 0, NULL, 0);
}

/* Verdict on name: ALLOWED by the allow list. */
static void
expect_allowed(const struct policy *p, const struct policy_board *b,
    const char *name)
{
	struct wire_query	q;
	struct policy_verdict	v;

	ask(p, b, name, &q, &v);
	check_v(&v, POLICY_ALLOWED, POLICY_RULE_ALLOW, -1, 0, 0, NULL, 0);
}

/*
 * Verdict on name: BLOCK by rule with bit, action, EDE, and apex the
 * entry's name (text), which must be a suffix of name at apex_off.
 */
static void
expect_block(const struct policy *p, const struct policy_board *b,
    const char *name, enum policy_rule rule, int bit,
    enum wire_block_action action, uint16_t code, const char *text,
    const char *apex)
{
	struct wire_query	q;
	struct policy_verdict	v;
	uint8_t			aw[WIRE_MAX_NAME];
	size_t			alen;

	ask(p, b, name, &q, &v);
	alen = wname(apex, aw);
	assert_true(alen <= q.name_len);
	check_v(&v, POLICY_BLOCK, rule, bit, action, code, text,
	    q.name_len - alen);
	assert_memory_equal(q.lname + v.apex_off, aw, alen);
}

/* Verdict on name: REWRITE to target with the block TTL. */
static void
expect_rewrite(const struct policy *p, const struct policy_board *b,
    const char *name, enum policy_rule rule, int bit, const char *target)
{
	struct wire_query	q;
	struct policy_verdict	v;
	uint8_t			tw[WIRE_MAX_NAME];
	size_t			tlen;

	ask(p, b, name, &q, &v);
	assert_int_equal(v.kind, POLICY_REWRITE);
	assert_int_equal(v.rule, rule);
	assert_int_equal(v.bit, bit);
	tlen = wname(target, tw);
	assert_int_equal(v.tlen, tlen);
	assert_non_null(v.target);
	assert_memory_equal(v.target, tw, tlen);
	assert_int_equal(v.ttl, BLOCK_TTL);
}

/* policy_explain() as a string (caller frees); *rc its result. */
static char *
explain(const struct policy *p, const struct policy_board *b,
    const char *name, uint16_t qtype, int *rc)
{
	struct evbuffer	*out;
	char		*s;
	size_t		 len;

	out = evbuffer_new();
	assert_non_null(out);
	*rc = policy_explain(p, b, name, qtype, out);
	len = evbuffer_get_length(out);
	s = malloc(len + 1);
	assert_non_null(s);
	evbuffer_remove(out, s, len);
	s[len] = '\0';
	evbuffer_free(out);
	return (s);
}

/* True if text contains want; prints both when not. */
static int
has(const char *text, const char *want)
{
	if (strstr(text, want) != NULL)
		return (1);
	print_message("  text:\n%s  wanted: %s\n", text, want);
	return (0);
}

/* A sockaddr for the text address a (v4 or v6). */
static const struct sockaddr *
sa(const char *a, struct sockaddr_storage *ss)
{
	struct sockaddr_in	*s4 = (struct sockaddr_in *)(void *)ss;
	struct sockaddr_in6	*s6 = (struct sockaddr_in6 *)(void *)ss;

	memset(ss, 0, sizeof *ss);
	if (inet_pton(AF_INET, a, &s4->sin_addr) == 1) {
		s4->sin_family = AF_INET;
		s4->sin_port = htons(53);
	} else {
		assert_int_equal(inet_pton(AF_INET6, a, &s6->sin6_addr), 1);
		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons(53);
	}
	return ((const struct sockaddr *)ss);
}

/* Board lookup by source address: v4, v6, v4-mapped, none; by name. */
static void
test_board_for(void **state)
{
	struct fx			*fx = *state;
	struct policy			*p;
	struct sockaddr_storage		 ss;
	const struct policy_board	*a, *b;

	fx_yaml(fx, NULL, NULL);
	tdir_write(&fx->dir, "boards/a.yaml", "name: Board A\n"
	    "networks: [ 127.0.0.1/32 ]\n");
	tdir_write(&fx->dir, "boards/b.yaml", "name: Board B\n"
	    "networks: [ 10.0.0.0/16, \"2001:db8::/32\" ]\n");
	p = fx_build(fx);
	assert_int_equal(fx->msgs.n, 0);

	a = board(p, "Board A");
	b = board(p, "board b");		/* case-insensitive */
	assert_ptr_equal(board(p, "a"), a);	/* file name */
	assert_ptr_equal(board(p, "a.yaml"), a);
	assert_ptr_equal(board(p, "b"), b);
	assert_ptr_not_equal(a, b);
	assert_null(policy_board_named(p, "c"));
	assert_null(policy_board_named(p, "Board"));
	assert_string_equal(a->conf->name, "Board A");
	assert_int_equal(a->index, 0);
	assert_int_equal(b->index, 1);

	assert_ptr_equal(policy_board_for(p, sa("127.0.0.1", &ss)), a);
	assert_null(policy_board_for(p, sa("127.0.0.2", &ss)));
	assert_null(policy_board_for(p, sa("127.0.0.0", &ss)));
	assert_ptr_equal(policy_board_for(p, sa("10.0.0.0", &ss)), b);
	assert_ptr_equal(policy_board_for(p, sa("10.0.255.255", &ss)), b);
	assert_null(policy_board_for(p, sa("10.1.0.0", &ss)));
	assert_null(policy_board_for(p, sa("9.255.255.255", &ss)));
	assert_null(policy_board_for(p, sa("192.0.2.1", &ss)));
	/* IPv6 */
	assert_ptr_equal(policy_board_for(p, sa("2001:db8::1", &ss)), b);
	assert_ptr_equal(policy_board_for(p,
	    sa("2001:db8:ffff:ffff:ffff:ffff:ffff:ffff", &ss)), b);
	assert_null(policy_board_for(p, sa("2001:db9::1", &ss)));
	assert_null(policy_board_for(p, sa("::1", &ss)));
	/* v4-mapped IPv6 is looked up as IPv4 */
	assert_ptr_equal(policy_board_for(p, sa("::ffff:127.0.0.1", &ss)), a);
	assert_ptr_equal(policy_board_for(p, sa("::ffff:10.0.2.3", &ss)), b);
	assert_null(policy_board_for(p, sa("::ffff:127.0.0.2", &ss)));
	/* ... but not the IPv4-compatible form */
	assert_null(policy_board_for(p, sa("::10.1.2.3", &ss)));
	/* not an IP address at all */
	memset(&ss, 0, sizeof ss);
	ss.ss_family = AF_UNIX;
	assert_null(policy_board_for(p, (const struct sockaddr *)&ss));
}

/*
 * Lists "zeta" (first in veiligd.yaml), "alpha" and "unused" (blocked by
 * no board), used by the precedence tests.
 */
#define PREC_LISTS						\
	"lists:\n"						\
	"  zeta: { file: lists/zeta.txt, format: domains }\n"	\
	"  alpha: { file: lists/alpha.txt, format: hosts }\n"	\
	"  unused: { file: lists/unused.txt, format: domains }\n"

static void
prec_setup(struct fx *fx)
{
	fx_yaml(fx, PREC_LISTS, NULL);
	tdir_write(&fx->dir, "lists/zeta.txt", "# zeta\n"
	    "bad.test\n"
	    "both.test\n"
	    "cat.test\n"
	    "bing.com\n"
	    "both-canary.test\n"
	    "mask.icloud.com\n"
	    "both2.test\n");
	tdir_write(&fx->dir, "lists/alpha.txt", "0.0.0.0 both.test alpha.test\n"
	    "127.0.0.1 both2.test\n"
	    "0.0.0.0 use-application-dns.net\n"
	    "0.0.0.0 www.google.nl\n");
	tdir_write(&fx->dir, "lists/unused.txt", "unblocked.test\nboth.test\n");
	tdir_write(&fx->dir, "boards/a.yaml", "name: A\n"
	    "networks: [ 127.0.0.1/32 ]\n"
	    "block: [ alpha, zeta ]\n"
	    "allow: [ both-ways.test, ok.bad.test, ok.denied.test, "
	    "duckduckgo.com, mask.icloud.com ]\n"
	    "deny: [ both-ways.test, denied.test, cat.test, "
	    "use-application-dns.net ]\n"
	    "safe-search: true\n");
	/* Blocks only alpha: zeta's names are not its business. */
	tdir_write(&fx->dir, "boards/b.yaml", "name: B\n"
	    "networks: [ 127.0.0.2/32 ]\n"
	    "block: [ alpha ]\n"
	    "safe-search: true\n"
	    "action: nodata\n");
}

/* allow > deny > canaries > lists > safe search, one step at a time. */
static void
test_precedence(void **state)
{
	struct fx			*fx = *state;
	struct policy			*p;
	const struct policy_board	*a, *b;

	prec_setup(fx);
	p = fx_build(fx);
	/* both-ways.test in allow and deny, on purpose: a warning. */
	assert_int_equal(fx->msgs.n, 1);
	assert_true(tmsgs_have(&fx->msgs, "warning: deny: 'both-ways.test' "
	    "is covered by 'both-ways.test' in allow", NULL));
	a = board(p, "A");
	b = board(p, "B");
	assert_int_equal(a->qmask, 0x3);
	/* the answer is checked against the deny list and canaries too */
	assert_int_equal(a->amask, 0x3 | POLICY_BIT_DENY | POLICY_BIT_CANARY);
	assert_int_equal(b->qmask, 0x2);
	assert_int_equal(b->amask, 0x2 | POLICY_BIT_CANARY);

	/* allow beats safe search and canaries */
	expect_allowed(p, a, "duckduckgo.com");
	expect_allowed(p, a, "x.mask.icloud.com");
	expect_rewrite(p, b, "duckduckgo.com", POLICY_RULE_SAFESEARCH, -1,
	    "safe.duckduckgo.com");
	expect_block(p, b, "x.mask.icloud.com", POLICY_RULE_CANARY, -1,
	    WIRE_BLOCK_NXDOMAIN, WIRE_EDE_BLOCKED, "blocked: canary",
	    "mask.icloud.com");
	/* allow beats deny (the same name in both) */
	expect_allowed(p, a, "both-ways.test");
	expect_allowed(p, a, "x.both-ways.test");
	/* an allowed name under a denied parent */
	expect_allowed(p, a, "ok.denied.test");
	expect_allowed(p, a, "deep.ok.denied.test");
	/* deny of a parent blocks the child */
	expect_block(p, a, "denied.test", POLICY_RULE_DENY, -1,
	    WIRE_BLOCK_NXDOMAIN, WIRE_EDE_FILTERED, "blocked: deny list",
	    "denied.test");
	expect_block(p, a, "www.denied.test", POLICY_RULE_DENY, -1,
	    WIRE_BLOCK_NXDOMAIN, WIRE_EDE_FILTERED, "blocked: deny list",
	    "denied.test");
	/* deny beats categories (cat.test is in zeta too) */
	expect_block(p, a, "cat.test", POLICY_RULE_DENY, -1,
	    WIRE_BLOCK_NXDOMAIN, WIRE_EDE_FILTERED, "blocked: deny list",
	    "cat.test");
	/* deny beats canaries */
	expect_block(p, a, "use-application-dns.net", POLICY_RULE_DENY, -1,
	    WIRE_BLOCK_NXDOMAIN, WIRE_EDE_FILTERED, "blocked: deny list",
	    "use-application-dns.net");
	/* canaries beat lists (use-application-dns.net is in alpha too) */
	expect_block(p, b, "use-application-dns.net", POLICY_RULE_CANARY, -1,
	    WIRE_BLOCK_NXDOMAIN, WIRE_EDE_BLOCKED, "blocked: canary",
	    "use-application-dns.net");
	/* an allowed name under a blocked parent */
	expect_allowed(p, a, "ok.bad.test");
	expect_allowed(p, a, "x.ok.bad.test");
	expect_block(p, a, "bad.test", POLICY_RULE_LIST, 0,
	    WIRE_BLOCK_NXDOMAIN, WIRE_EDE_FILTERED, "blocked: zeta",
	    "bad.test");
	expect_block(p, a, "nok.bad.test", POLICY_RULE_LIST, 0,
	    WIRE_BLOCK_NXDOMAIN, WIRE_EDE_FILTERED, "blocked: zeta",
	    "bad.test");
	/* two blocked lists: the first in veiligd.yaml names it */
	expect_block(p, a, "both.test", POLICY_RULE_LIST, 0,
	    WIRE_BLOCK_NXDOMAIN, WIRE_EDE_FILTERED, "blocked: zeta",
	    "both.test");
	expect_block(p, a, "both2.test", POLICY_RULE_LIST, 0,
	    WIRE_BLOCK_NXDOMAIN, WIRE_EDE_FILTERED, "blocked: zeta",
	    "both2.test");
	expect_block(p, a, "alpha.test", POLICY_RULE_LIST, 1,
	    WIRE_BLOCK_NXDOMAIN, WIRE_EDE_FILTERED, "blocked: alpha",
	    "alpha.test");
	/* board B blocks only alpha: both.test is alpha's for it */
	expect_block(p, b, "both.test", POLICY_RULE_LIST, 1,
	    WIRE_BLOCK_NODATA, WIRE_EDE_FILTERED, "blocked: alpha",
	    "both.test");
	expect_pass(p, b, "bad.test");
	expect_pass(p, b, "cat.test");
	expect_pass(p, b, "denied.test");
	/* a list no board blocks */
	expect_pass(p, a, "unblocked.test");
	expect_pass(p, a, "www.unblocked.test");
	/* nothing at all; parents of entries are not covered */
	expect_pass(p, a, "example.test");
	expect_pass(p, a, "test");
	expect_pass(p, a, ".");
	expect_pass(p, a, "ad.test");
	expect_pass(p, a, "xbad.test");
	/* categories beat safe search (bing.com in zeta) */
	expect_block(p, a, "www.bing.com", POLICY_RULE_LIST, 0,
	    WIRE_BLOCK_NXDOMAIN, WIRE_EDE_FILTERED, "blocked: zeta",
	    "bing.com");
	expect_rewrite(p, b, "www.bing.com", POLICY_RULE_SAFESEARCH, -1,
	    "strict.bing.com");
	expect_block(p, a, "www.google.nl", POLICY_RULE_LIST, 1,
	    WIRE_BLOCK_NXDOMAIN, WIRE_EDE_FILTERED, "blocked: alpha",
	    "www.google.nl");
	/* the question's case does not matter */
	expect_block(p, a, "WWW.Denied.TEST", POLICY_RULE_DENY, -1,
	    WIRE_BLOCK_NXDOMAIN, WIRE_EDE_FILTERED, "blocked: deny list",
	    "denied.test");
	expect_allowed(p, a, "OK.Bad.Test");
	expect_rewrite(p, b, "DuckDuckGo.COM", POLICY_RULE_SAFESEARCH, -1,
	    "safe.duckduckgo.com");
}

/* Within one list the most specific entry decides; across lists, not. */
static void
test_most_specific(void **state)
{
	struct fx			*fx = *state;
	struct policy			*p;
	const struct policy_board	*a, *b;

	fx_yaml(fx, "lists:\n"
	    "  ads: { file: lists/ads.txt, format: adblock }\n"
	    "  other: { file: lists/other.txt, format: domains }\n", NULL);
	tdir_write(&fx->dir, "lists/ads.txt", "! adblock\n"
	    "||ads.test^\n"
	    "@@||ok.ads.test^\n"
	    "||bad.ok.ads.test^\n");
	tdir_write(&fx->dir, "lists/other.txt", "ok.ads.test\n");
	tdir_write(&fx->dir, "boards/a.yaml", "name: A\n"
	    "networks: [ 127.0.0.1/32 ]\nblock: [ ads ]\n");
	tdir_write(&fx->dir, "boards/b.yaml", "name: B\n"
	    "networks: [ 127.0.0.2/32 ]\nblock: [ ads, other ]\n");
	p = fx_build(fx);
	assert_int_equal(fx->msgs.n, 0);
	a = board(p, "A");
	b = board(p, "B");

	expect_pass(p, a, "ok.ads.test");
	expect_pass(p, a, "x.ok.ads.test");
	expect_block(p, a, "ads.test", POLICY_RULE_LIST, 0,
	    WIRE_BLOCK_NXDOMAIN, WIRE_EDE_FILTERED, "blocked: ads",
	    "ads.test");
	expect_block(p, a, "y.ads.test", POLICY_RULE_LIST, 0,
	    WIRE_BLOCK_NXDOMAIN, WIRE_EDE_FILTERED, "blocked: ads",
	    "ads.test");
	/* a block under the exception beats the exception */
	expect_block(p, a, "bad.ok.ads.test", POLICY_RULE_LIST, 0,
	    WIRE_BLOCK_NXDOMAIN, WIRE_EDE_FILTERED, "blocked: ads",
	    "bad.ok.ads.test");
	expect_block(p, a, "z.bad.ok.ads.test", POLICY_RULE_LIST, 0,
	    WIRE_BLOCK_NXDOMAIN, WIRE_EDE_FILTERED, "blocked: ads",
	    "bad.ok.ads.test");

	/* ads' exception does not lift other's block */
	expect_block(p, b, "ok.ads.test", POLICY_RULE_LIST, 1,
	    WIRE_BLOCK_NXDOMAIN, WIRE_EDE_FILTERED, "blocked: other",
	    "ok.ads.test");
	expect_block(p, b, "x.ok.ads.test", POLICY_RULE_LIST, 1,
	    WIRE_BLOCK_NXDOMAIN, WIRE_EDE_FILTERED, "blocked: other",
	    "ok.ads.test");
	expect_block(p, b, "y.ads.test", POLICY_RULE_LIST, 0,
	    WIRE_BLOCK_NXDOMAIN, WIRE_EDE_FILTERED, "blocked: ads",
	    "ads.test");
	/* both lists block it: ads is first */
	expect_block(p, b, "bad.ok.ads.test", POLICY_RULE_LIST, 0,
	    WIRE_BLOCK_NXDOMAIN, WIRE_EDE_FILTERED, "blocked: ads",
	    "bad.ok.ads.test");
}

#define RPZ_ZONE						\
	"$TTL 300\n"						\
	"$ORIGIN rpz.test.\n"					\
	"@ SOA ns.test. admin.test. 1 3600 600 86400 60\n"	\
	"@ NS ns.test.\n"					\
	"nx.test CNAME .\n"					\
	"nodata.test CNAME *.\n"				\
	"evil.test CNAME .\n"					\
	"*.evil.test CNAME .\n"					\
	"ok.evil.test CNAME rpz-passthru.\n"			\
	"local.test CNAME Walled.Garden.test.\n"		\
	"*.wild.test CNAME .\n"					\
	"*.wildnd.test CNAME *.\n"

/* RPZ: its own actions, PASSTHRU, local CNAME, wildcards. */
static void
test_rpz(void **state)
{
	struct fx			*fx = *state;
	struct policy			*p;
	const struct policy_board	*n, *x;

	fx_yaml(fx, "lists:\n"
	    "  plain: { file: lists/plain.txt, format: domains }\n"
	    "  rpz: { file: lists/rpz.zone, format: rpz }\n", NULL);
	tdir_write(&fx->dir, "lists/plain.txt", "plain.test\n");
	tdir_write(&fx->dir, "lists/rpz.zone", RPZ_ZONE);
	tdir_write(&fx->dir, "boards/n.yaml", "name: N\n"
	    "networks: [ 127.0.0.1/32 ]\nblock: [ rpz, plain ]\n"
	    "action: nodata\n");
	tdir_write(&fx->dir, "boards/x.yaml", "name: X\n"
	    "networks: [ 127.0.0.2/32 ]\nblock: [ rpz ]\n"
	    "action: redirect 192.0.2.80\n");
	p = fx_build(fx);
	n = board(p, "N");
	x = board(p, "X");

	/* NXDOMAIN and NODATA override the board's action */
	expect_block(p, n, "nx.test", POLICY_RULE_LIST, 1,
	    WIRE_BLOCK_NXDOMAIN, WIRE_EDE_FILTERED, "blocked: rpz",
	    "nx.test");
	expect_block(p, x, "nx.test", POLICY_RULE_LIST, 1,
	    WIRE_BLOCK_NXDOMAIN, WIRE_EDE_FILTERED, "blocked: rpz",
	    "nx.test");
	expect_block(p, x, "nodata.test", POLICY_RULE_LIST, 1,
	    WIRE_BLOCK_NODATA, WIRE_EDE_FILTERED, "blocked: rpz",
	    "nodata.test");
	expect_block(p, n, "nodata.test", POLICY_RULE_LIST, 1,
	    WIRE_BLOCK_NODATA, WIRE_EDE_FILTERED, "blocked: rpz",
	    "nodata.test");
	/* an RPZ name covers itself only */
	expect_pass(p, n, "a.nx.test");
	expect_pass(p, n, "a.nodata.test");
	/* the board's own list keeps the board's action */
	expect_block(p, n, "plain.test", POLICY_RULE_LIST, 0,
	    WIRE_BLOCK_NODATA, WIRE_EDE_FILTERED, "blocked: plain",
	    "plain.test");
	/* wildcard: subdomains, not the apex */
	expect_pass(p, n, "wild.test");
	expect_block(p, n, "a.wild.test", POLICY_RULE_LIST, 1,
	    WIRE_BLOCK_NXDOMAIN, WIRE_EDE_FILTERED, "blocked: rpz",
	    "wild.test");
	expect_block(p, n, "b.a.wild.test", POLICY_RULE_LIST, 1,
	    WIRE_BLOCK_NXDOMAIN, WIRE_EDE_FILTERED, "blocked: rpz",
	    "wild.test");
	expect_block(p, x, "a.wildnd.test", POLICY_RULE_LIST, 1,
	    WIRE_BLOCK_NODATA, WIRE_EDE_FILTERED, "blocked: rpz",
	    "wildnd.test");
	expect_pass(p, x, "wildnd.test");
	/* apex and wildcard together, and a PASSTHRU exception */
	expect_block(p, n, "evil.test", POLICY_RULE_LIST, 1,
	    WIRE_BLOCK_NXDOMAIN, WIRE_EDE_FILTERED, "blocked: rpz",
	    "evil.test");
	expect_block(p, n, "www.evil.test", POLICY_RULE_LIST, 1,
	    WIRE_BLOCK_NXDOMAIN, WIRE_EDE_FILTERED, "blocked: rpz",
	    "evil.test");
	expect_pass(p, n, "ok.evil.test");
	/* PASSTHRU of ok.evil.test is exact: its subdomains are the
	   wildcard's */
	expect_block(p, n, "a.ok.evil.test", POLICY_RULE_LIST, 1,
	    WIRE_BLOCK_NXDOMAIN, WIRE_EDE_FILTERED, "blocked: rpz",
	    "evil.test");
	/* local CNAME: a rewrite, target lower-cased, TTL block-ttl */
	expect_rewrite(p, n, "local.test", POLICY_RULE_LIST, 1,
	    "walled.garden.test");
	expect_rewrite(p, x, "LOCAL.test", POLICY_RULE_LIST, 1,
	    "walled.garden.test");
	expect_pass(p, n, "a.local.test");
}

/*
 * A reload: the new policy is built with the one in force, whose lists it
 * shares while their files are unchanged, and which is then freed; the
 * new one answers from the shared lists (RPZ actions and targets too).
 * Once a list file changes, the next policy reads it again.
 */
static void
test_reload_lists(void **state)
{
	struct fx			*fx = *state;
	struct policy			*p1, *p2;
	struct conf			*c1;
	char				 path[256];

	fx_yaml(fx, "lists:\n"
	    "  plain: { file: lists/plain.txt, format: domains }\n"
	    "  rpz: { file: lists/rpz.zone, format: rpz }\n", NULL);
	tdir_write(&fx->dir, "lists/plain.txt", "plain.test\n");
	tdir_write(&fx->dir, "lists/rpz.zone", RPZ_ZONE);
	tdir_write(&fx->dir, "boards/n.yaml", "name: N\n"
	    "networks: [ 127.0.0.1/32 ]\nblock: [ rpz, plain ]\n"
	    "action: nodata\n");
	p1 = fx_build(fx);
	c1 = fx->conf;

	/* A board changed: the lists are the old policy's. */
	tdir_write(&fx->dir, "boards/n.yaml", "name: N\n"
	    "networks: [ 127.0.0.1/32 ]\nblock: [ rpz, plain ]\n"
	    "action: refused\n");
	fx->conf = conf_load(tdir_path(&fx->dir, "veiligd.yaml", path, sizeof path),
	    tmsgs_cb, &fx->msgs);
	assert_non_null(fx->conf);
	p2 = policy_new(fx->conf, p1, tmsgs_cb, &fx->msgs);
	assert_non_null(p2);
	policy_free(p1);
	conf_free(c1);
	fx->p = p2;
	expect_block(p2, board(p2, "N"), "www.plain.test", POLICY_RULE_LIST,
	    0, WIRE_BLOCK_REFUSED, WIRE_EDE_FILTERED, "blocked: plain",
	    "plain.test");
	expect_block(p2, board(p2, "N"), "nodata.test", POLICY_RULE_LIST, 1,
	    WIRE_BLOCK_NODATA, WIRE_EDE_FILTERED, "blocked: rpz",
	    "nodata.test");
	expect_rewrite(p2, board(p2, "N"), "local.test", POLICY_RULE_LIST, 1,
	    "walled.garden.test");
	expect_pass(p2, board(p2, "N"), "new.test");

	/* A list changed: read again. */
	tdir_write(&fx->dir, "lists/plain.txt", "plain.test\nnew.test\n");
	c1 = fx->conf;
	fx->conf = conf_load(tdir_path(&fx->dir, "veiligd.yaml", path, sizeof path),
	    tmsgs_cb, &fx->msgs);
	assert_non_null(fx->conf);
	p1 = policy_new(fx->conf, p2, tmsgs_cb, &fx->msgs);
	assert_non_null(p1);
	policy_free(p2);
	conf_free(c1);
	fx->p = p1;
	expect_block(p1, board(p1, "N"), "new.test", POLICY_RULE_LIST, 0,
	    WIRE_BLOCK_REFUSED, WIRE_EDE_FILTERED, "blocked: plain",
	    "new.test");
	expect_rewrite(p1, board(p1, "N"), "local.test", POLICY_RULE_LIST, 1,
	    "walled.garden.test");
	assert_int_equal(fx->msgs.n, 0);
}

/* Board actions in the verdict and in policy_block(). */
static void
test_actions(void **state)
{
	static const struct {
		const char		*board;
		enum wire_block_action	 action;
	} t[] = {
		{ "nx", WIRE_BLOCK_NXDOMAIN },
		{ "nd", WIRE_BLOCK_NODATA },
		{ "rf", WIRE_BLOCK_REFUSED },
		{ "rd", WIRE_BLOCK_REDIRECT },
		{ "r4", WIRE_BLOCK_REDIRECT },
	};
	static const uint8_t a4[4] = { 192, 0, 2, 80 };
	static const uint8_t a6[16] = { 0x20, 0x01, 0x0d, 0xb8,
	    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x80 };
	static const uint8_t zero[16];
	struct fx			*fx = *state;
	struct policy			*p;
	const struct policy_board	*b;
	struct wire_query		 q;
	struct policy_verdict		 v;
	struct wire_block		 wb;
	uint8_t				 aw[WIRE_MAX_NAME];
	size_t				 i, alen;

	fx_yaml(fx, "lists:\n"
	    "  l1: { file: lists/l1.txt, format: domains }\n", NULL);
	tdir_write(&fx->dir, "lists/l1.txt", "bad.test\n");
	tdir_write(&fx->dir, "boards/nx.yaml", "name: nx\n"
	    "networks: [ 127.0.0.1/32 ]\nblock: [ l1 ]\n"
	    "deny: [ deny.test ]\n");
	tdir_write(&fx->dir, "boards/nd.yaml", "name: nd\n"
	    "networks: [ 127.0.0.2/32 ]\nblock: [ l1 ]\n"
	    "deny: [ deny.test ]\naction: nodata\n");
	tdir_write(&fx->dir, "boards/rf.yaml", "name: rf\n"
	    "networks: [ 127.0.0.3/32 ]\nblock: [ l1 ]\n"
	    "deny: [ deny.test ]\naction: refused\n");
	tdir_write(&fx->dir, "boards/rd.yaml", "name: rd\n"
	    "networks: [ 127.0.0.4/32 ]\nblock: [ l1 ]\n"
	    "deny: [ deny.test ]\naction: redirect 192.0.2.80 2001:db8::80\n");
	tdir_write(&fx->dir, "boards/r4.yaml", "name: r4\n"
	    "networks: [ 127.0.0.5/32 ]\nblock: [ l1 ]\n"
	    "deny: [ deny.test ]\naction: redirect 192.0.2.80\n");
	p = fx_build(fx);

	for (i = 0; i < sizeof t / sizeof t[0]; i++) {
		b = board(p, t[i].board);
		assert_int_equal(b->action, t[i].action);
		assert_int_equal(b->block_ttl, BLOCK_TTL);

		/* a list block */
		expect_block(p, b, "www.bad.test", POLICY_RULE_LIST, 0,
		    t[i].action, WIRE_EDE_FILTERED, "blocked: l1",
		    "bad.test");
		ask(p, b, "www.BAD.test", &q, &v);
		memset(&wb, 0xa5, sizeof wb);
		policy_block(b, &v, &q, &wb);
		assert_int_equal(wb.action, t[i].action);
		assert_int_equal(wb.ttl, BLOCK_TTL);
		alen = wname("bad.test", aw);
		assert_ptr_equal(wb.apex, q.lname + 4);
		assert_int_equal(wb.apex_len, alen);
		assert_memory_equal(wb.apex, aw, alen);
		assert_int_equal(wb.ede_code, WIRE_EDE_FILTERED);
		assert_string_equal(wb.ede_text, "blocked: l1");
		if (t[i].action == WIRE_BLOCK_REDIRECT) {
			assert_true(wb.have4);
			assert_memory_equal(wb.addr4, a4, 4);
			if (strcmp(t[i].board, "rd") == 0) {
				assert_true(wb.have6);
				assert_memory_equal(wb.addr6, a6, 16);
			} else
				assert_false(wb.have6);
		} else {
			assert_false(wb.have4);
			assert_false(wb.have6);
			assert_memory_equal(wb.addr4, zero, 4);
			assert_memory_equal(wb.addr6, zero, 16);
		}

		/* a deny block: the board's action too */
		expect_block(p, b, "deny.test", POLICY_RULE_DENY, -1,
		    t[i].action, WIRE_EDE_FILTERED, "blocked: deny list",
		    "deny.test");
		ask(p, b, "deny.test", &q, &v);
		policy_block(b, &v, &q, &wb);
		assert_int_equal(wb.action, t[i].action);
		assert_ptr_equal(wb.apex, q.lname);
		assert_int_equal(wb.apex_len, q.name_len);
		assert_string_equal(wb.ede_text, "blocked: deny list");

		/* a canary: always NXDOMAIN, EDE 15 */
		expect_block(p, b, "use-application-dns.net",
		    POLICY_RULE_CANARY, -1, WIRE_BLOCK_NXDOMAIN,
		    WIRE_EDE_BLOCKED, "blocked: canary",
		    "use-application-dns.net");
		ask(p, b, "use-application-dns.net", &q, &v);
		policy_block(b, &v, &q, &wb);
		assert_int_equal(wb.action, WIRE_BLOCK_NXDOMAIN);
		assert_int_equal(wb.ede_code, WIRE_EDE_BLOCKED);
		assert_string_equal(wb.ede_text, "blocked: canary");
		assert_int_equal(wb.ttl, BLOCK_TTL);
	}
}

/*
 * Boards "on" (127.0.0.1, canaries by default, NODATA) and "off"
 * (127.0.0.2, canaries off, blocking list l1 of icloud.com).
 */
static void
fx_on_off(struct fx *fx)
{
	fx_yaml(fx, "lists:\n"
	    "  l1: { file: lists/l1.txt, format: domains }\n", NULL);
	tdir_write(&fx->dir, "lists/l1.txt", "icloud.com\n");
	tdir_write(&fx->dir, "boards/on.yaml", "name: on\n"
	    "networks: [ 127.0.0.1/32 ]\naction: nodata\n");
	tdir_write(&fx->dir, "boards/off.yaml", "name: off\n"
	    "networks: [ 127.0.0.2/32 ]\ncanaries: false\nblock: [ l1 ]\n");
}

/* Canaries on by default, off on request. */
static void
test_canaries(void **state)
{
	struct fx			*fx = *state;
	struct policy			*p;
	const struct policy_board	*on, *off;

	fx_on_off(fx);
	p = fx_build(fx);
	on = board(p, "on");
	off = board(p, "off");
	assert_true(on->conf->canaries);
	assert_false(off->conf->canaries);

	expect_block(p, on, "use-application-dns.net", POLICY_RULE_CANARY, -1,
	    WIRE_BLOCK_NXDOMAIN, WIRE_EDE_BLOCKED, "blocked: canary",
	    "use-application-dns.net");
	/* canaries.txt is a domains list: subdomains too */
	expect_block(p, on, "mask-h2.mask.icloud.com", POLICY_RULE_CANARY, -1,
	    WIRE_BLOCK_NXDOMAIN, WIRE_EDE_BLOCKED, "blocked: canary",
	    "mask.icloud.com");
	expect_pass(p, on, "icloud.com");
	expect_pass(p, on, "application-dns.net");

	expect_pass(p, off, "use-application-dns.net");
	/* off: a list still blocks it, with EDE 17 */
	expect_block(p, off, "mask.icloud.com", POLICY_RULE_LIST, 0,
	    WIRE_BLOCK_NXDOMAIN, WIRE_EDE_FILTERED, "blocked: l1",
	    "icloud.com");
}

/*
 * A board's masks as a cache hit reads them, from the policy's small
 * array: policy_board_find() gives the board policy_board_for() gives,
 * its index, and copies of its masks.
 */
static void
test_board_hot(void **state)
{
	struct fx			*fx = *state;
	struct policy			*p;
	const struct policy_board	*b;
	const struct policy_hot		*h;
	struct sockaddr_storage		 ss;
	unsigned			 idx;
	const char			*names[] = { "on", "off", "deny" };
	const char			*addrs[] = { "127.0.0.1", "127.0.0.2",
					    "::ffff:127.0.0.3" };
	size_t				 i;

	fx_on_off(fx);
	tdir_write(&fx->dir, "boards/deny.yaml", "name: deny\n"
	    "networks: [ 127.0.0.3/32 ]\ncanaries: false\n"
	    "deny: [ deny.test ]\n");
	p = fx_build(fx);
	for (i = 0; i < 3; i++) {
		b = policy_board_find(p, sa(addrs[i], &ss), &h, &idx);
		assert_ptr_equal(b, board(p, names[i]));
		assert_ptr_equal(b, policy_board_for(p, sa(addrs[i], &ss)));
		assert_non_null(h);
		assert_int_equal(idx, b->index);
		assert_true(h->qstop == b->qstop);
		assert_true(h->amask == b->amask);
		assert_int_equal((uintptr_t)h % 16, 0);
	}
	h = NULL;
	assert_null(policy_board_find(p, sa("127.0.0.4", &ss), &h, &idx));
	assert_null(h);
	policy_board_find(p, sa("127.0.0.1", &ss), &h, &idx);
	assert_true(h->qstop & POLICY_BIT_CANARY);
	assert_true(h->amask & POLICY_BIT_CANARY);
	policy_board_find(p, sa("127.0.0.2", &ss), &h, &idx);
	assert_false(h->amask & (POLICY_BIT_CANARY | POLICY_BIT_DENY));
	assert_true(h->qstop & 1);	/* l1's bit */
	policy_board_find(p, sa("127.0.0.3", &ss), &h, &idx);
	assert_true(h->qstop & POLICY_BIT_DENY);
	assert_true(h->amask & POLICY_BIT_DENY);
}

/* Write the file of board i of test_board_many with its networks. */
static void
many_board(struct fx *fx, unsigned i, const char *nets)
{
	char	rel[64], text[256];

	snprintf(rel, sizeof rel, "boards/b%03u.yaml", i);
	snprintf(text, sizeof text, "name: B%03u\nnetworks: [ %s ]\n%s", i,
	    nets, i % 3 == 0 ? "canaries: false\n" : "");
	tdir_write(&fx->dir, rel, text);
}

/*
 * Board i's answers for the address a in policy p: policy_board_find()
 * and policy_board_for() give board "b<i>" (NULL when i < 0), its index
 * and hot part, and policy_board_prefetch() the same index (-1).
 */
static void
many_expect(const struct policy *p, const char *a, int i)
{
	const struct policy_board	*b, *want = NULL;
	const struct policy_hot		*h;
	struct sockaddr_storage		 ss;
	unsigned			 idx;
	char				 name[16];

	if (i >= 0) {
		snprintf(name, sizeof name, "b%03d", i);
		want = board(p, name);
	}
	policy_board_net_prefetch(p, sa(a, &ss));
	b = policy_board_find(p, sa(a, &ss), &h, &idx);
	if (b != want)
		fail_msg("%s: board %s, want %s", a, b != NULL ?
		    b->conf->name : "none", want != NULL ? want->conf->name :
		    "none");
	assert_ptr_equal(policy_board_for(p, sa(a, &ss)), want);
	assert_int_equal(policy_board_prefetch(p, sa(a, &ss)),
	    want != NULL ? (int)want->index : -1);
	if (want == NULL) {
		assert_null(h);
		return;
	}
	assert_int_equal(idx, want->index);
	assert_true(h->qstop == want->qstop && h->amask == want->amask);
}

/*
 * Many boards, so that the board index has its jump index (more than 64
 * ranges): 300 boards of a /24 in 10.0.0.0/15 each, every other /24
 * free, and an IPv6 /48; every tenth board also a /32 in 192.0.2.0/24
 * and a /64 in 2001:db8:ffff::/48. Addresses of no board (the free
 * /24s, the space around) find none, and v4-mapped ones the IPv4 board. Then a reload that changes the boards: the first
 * 150 move to the free /24s, the others go, a new board takes board 0's
 * old /24; the new policy answers by the new boards, the old one (still
 * read by workers until the swap) by the old.
 */
static void
test_board_many(void **state)
{
	struct fx		*fx = *state;
	struct policy		*p1, *p2;
	struct conf		*c1;
	const struct policy_hot	*h, *h0;
	struct sockaddr_storage	 ss;
	char			 nets[192], a[64], path[256];
	unsigned		 i, idx;

	fx_yaml(fx, NULL, NULL);
	for (i = 0; i < 300; i++) {
		snprintf(nets, sizeof nets, "10.%u.%u.0/24, \"2001:db8:%x::/48\"",
		    i / 100, 2 * (i % 100), i);
		if (i % 10 == 0)
			snprintf(nets + strlen(nets), sizeof nets - strlen(nets),
			    ", 192.0.2.%u/32, \"2001:db8:ffff:%x::/64\"",
			    i / 10, i);
		many_board(fx, i, nets);
	}
	p1 = fx_build(fx);
	assert_int_equal(fx->msgs.n, 0);
	for (i = 0; i < 300; i++) {
		snprintf(a, sizeof a, "10.%u.%u.%u", i / 100, 2 * (i % 100),
		    i % 256);
		many_expect(p1, a, (int)i);
		snprintf(a, sizeof a, "::ffff:10.%u.%u.255", i / 100,
		    2 * (i % 100));
		many_expect(p1, a, (int)i);
		snprintf(a, sizeof a, "10.%u.%u.0", i / 100, 2 * (i % 100) + 1);
		many_expect(p1, a, -1);
		snprintf(a, sizeof a, "2001:db8:%x:ffff::1", i);
		many_expect(p1, a, (int)i);
		snprintf(a, sizeof a, "192.0.2.%u", i % 30);
		many_expect(p1, a, (int)(i % 30) * 10);
		snprintf(a, sizeof a, "2001:db8:ffff:%x::7", i);
		many_expect(p1, a, i % 10 == 0 ? (int)i : -1);
	}
	many_expect(p1, "192.0.2.30", -1);
	many_expect(p1, "9.255.255.255", -1);
	many_expect(p1, "10.2.200.0", -1);
	many_expect(p1, "2001:db8:12c::", -1);
	many_expect(p1, "::1", -1);
	/*
	 * Boards with the same masks share one hot part (every third has
	 * no canaries): two distinct parts in all.
	 */
	for (i = 0; i < 300; i++) {
		snprintf(a, sizeof a, "10.%u.%u.1", i / 100, 2 * (i % 100));
		policy_board_find(p1, sa(a, &ss), &h, &idx);
		policy_board_find(p1, sa(i % 3 == 0 ? "10.0.0.1" : "10.0.2.1",
		    &ss), &h0, &idx);
		assert_ptr_equal(h, h0);
	}
	policy_board_find(p1, sa("10.0.0.1", &ss), &h, &idx);
	policy_board_find(p1, sa("10.0.2.1", &ss), &h0, &idx);
	assert_ptr_not_equal(h, h0);
	assert_true(h->amask != h0->amask);

	/* The reload: moved, removed, one new on board 0's old /24. */
	for (i = 0; i < 300; i++) {
		if (i >= 150) {
			snprintf(a, sizeof a, "boards/b%03u.yaml", i);
			assert_int_equal(unlink(tdir_path(&fx->dir, a, path,
			    sizeof path)), 0);
			continue;
		}
		snprintf(nets, sizeof nets, "10.%u.%u.0/24", i / 100,
		    2 * (i % 100) + 1);
		many_board(fx, i, nets);
	}
	many_board(fx, 900, "10.0.0.0/24, \"2001:db8::/48\"");
	c1 = fx->conf;
	fx->conf = conf_load(tdir_path(&fx->dir, "veiligd.yaml", path,
	    sizeof path), tmsgs_cb, &fx->msgs);
	assert_non_null(fx->conf);
	p2 = policy_new(fx->conf, p1, tmsgs_cb, &fx->msgs);
	assert_non_null(p2);
	for (i = 0; i < 300; i++) {
		snprintf(a, sizeof a, "10.%u.%u.9", i / 100, 2 * (i % 100) + 1);
		many_expect(p2, a, i < 150 ? (int)i : -1);
		many_expect(p1, a, -1);
		snprintf(a, sizeof a, "10.%u.%u.9", i / 100, 2 * (i % 100));
		many_expect(p2, a, i == 0 ? 900 : -1);
		many_expect(p1, a, (int)i);
		snprintf(a, sizeof a, "2001:db8:%x::1", i);
		many_expect(p2, a, i == 0 ? 900 : -1);
	}
	many_expect(p2, "192.0.2.0", -1);
	policy_free(p1);
	conf_free(c1);
	fx->p = p2;
}

/* Safe search on and off; exact names only. */
static void
test_safesearch(void **state)
{
	struct fx			*fx = *state;
	struct policy			*p;
	const struct policy_board	*on, *off, *def;

	fx_yaml(fx, NULL, NULL);
	tdir_write(&fx->dir, "boards/on.yaml", "name: on\n"
	    "networks: [ 127.0.0.1/32 ]\nsafe-search: true\n");
	tdir_write(&fx->dir, "boards/off.yaml", "name: off\n"
	    "networks: [ 127.0.0.2/32 ]\nsafe-search: false\n");
	tdir_write(&fx->dir, "boards/def.yaml", "name: def\n"
	    "networks: [ 127.0.0.3/32 ]\n");
	p = fx_build(fx);
	on = board(p, "on");
	off = board(p, "off");
	def = board(p, "def");

	expect_rewrite(p, on, "www.google.nl", POLICY_RULE_SAFESEARCH, -1,
	    "forcesafesearch.google.com");
	expect_rewrite(p, on, "WWW.GOOGLE.NL", POLICY_RULE_SAFESEARCH, -1,
	    "forcesafesearch.google.com");
	expect_rewrite(p, on, "www.bing.com", POLICY_RULE_SAFESEARCH, -1,
	    "strict.bing.com");
	expect_rewrite(p, on, "duckduckgo.com", POLICY_RULE_SAFESEARCH, -1,
	    "safe.duckduckgo.com");
	/* exact names only: no subdomains, no parents */
	expect_pass(p, on, "a.www.google.nl");
	expect_pass(p, on, "google.nl");
	expect_pass(p, on, "www.google.com");
	expect_pass(p, on, "x.duckduckgo.com");
	/* the target itself is not rewritten again */
	expect_pass(p, on, "forcesafesearch.google.com");
	/* off, and off by default */
	expect_pass(p, off, "www.google.nl");
	expect_pass(p, def, "www.google.nl");
	expect_pass(p, def, "duckduckgo.com");
}

/* apex_off: the entry's name inside lname, for every kind of rule. */
static void
test_apex(void **state)
{
	struct fx			*fx = *state;
	struct policy			*p;
	const struct policy_board	*a, *b;
	struct wire_query		 q;
	struct policy_verdict		 v;

	fx_yaml(fx, "lists:\n"
	    "  l1: { file: lists/l1.txt, format: domains }\n", NULL);
	tdir_write(&fx->dir, "lists/l1.txt", "example.test\n");
	tdir_write(&fx->dir, "boards/a.yaml", "name: a\n"
	    "networks: [ 127.0.0.1/32 ]\nblock: [ l1 ]\n");
	tdir_write(&fx->dir, "boards/b.yaml", "name: b\n"
	    "networks: [ 127.0.0.2/32 ]\ndeny: [ Example.Test. ]\n");
	p = fx_build(fx);
	a = board(p, "a");
	b = board(p, "b");

	ask(p, a, "a.b.example.test", &q, &v);
	check_v(&v, POLICY_BLOCK, POLICY_RULE_LIST, 0, WIRE_BLOCK_NXDOMAIN,
	    WIRE_EDE_FILTERED, "blocked: l1", 4);
	assert_memory_equal(q.lname + 4, "\007example\004test", 14);
	ask(p, b, "A.B.Example.Test", &q, &v);
	check_v(&v, POLICY_BLOCK, POLICY_RULE_DENY, -1, WIRE_BLOCK_NXDOMAIN,
	    WIRE_EDE_FILTERED, "blocked: deny list", 4);
	assert_memory_equal(q.lname + 4, "\007example\004test", 14);
	ask(p, a, "example.test", &q, &v);
	assert_int_equal(v.apex_off, 0);
	/* a long first label */
	ask(p, a, "0123456789012345678901234567890123456789012345678901234"
	    "56789012.example.test", &q, &v);
	assert_int_equal(v.kind, POLICY_BLOCK);
	assert_int_equal(v.apex_off, 64);
}

/* Inspection of answers: CNAME targets and ip lists; policy_answer. */
static void
test_inspect(void **state)
{
	static const char *const cname[] = {
	    "www.x.test. 300 IN CNAME T.Cloak.test.",
	    "t.cloak.test. 300 IN A 198.51.100.1", NULL };
	static const char *const dname[] = {
	    "x.test. 300 IN DNAME cloak.test.", NULL };
	static const char *const a_bad[] = {
	    "www.x.test. 300 IN A 198.51.100.1",
	    "www.x.test. 300 IN A 192.0.2.7", NULL };
	static const char *const a_ok[] = {
	    "www.x.test. 300 IN A 198.51.100.1", NULL };
	static const char *const aaaa_bad[] = {
	    "www.x.test. 300 IN AAAA 2001:db8:bad::1", NULL };
	static const char *const aaaa_ok[] = {
	    "www.x.test. 300 IN AAAA 2001:db8:bad2::1", NULL };
	static const char *const both[] = {
	    "www.x.test. 300 IN CNAME a.other.test.",
	    "a.other.test. 300 IN CNAME cloak.test.",
	    "cloak.test. 300 IN A 192.0.2.8", NULL };
	static const char *const exc[] = {
	    "www.x.test. 300 IN CNAME ok.cloak.test.", NULL };
	static const char *const none[] = { NULL };
	struct fx			*fx = *state;
	struct policy			*p;
	const struct policy_board	*a, *b, *c;
	struct policy_verdict		 v;

	fx_yaml(fx, "lists:\n"
	    "  cloak: { file: lists/cloak.txt, format: adblock }\n"
	    "  ipl: { file: lists/ipl.txt, format: ip }\n"
	    "  other: { file: lists/other.txt, format: domains }\n", NULL);
	tdir_write(&fx->dir, "lists/cloak.txt", "||cloak.test^\n@@||ok.cloak.test^\n");
	tdir_write(&fx->dir, "lists/ipl.txt", "192.0.2.0/24\n2001:db8:bad::/48\n");
	tdir_write(&fx->dir, "lists/other.txt", "other.test\n");
	tdir_write(&fx->dir, "boards/a.yaml", "name: a\n"
	    "networks: [ 127.0.0.1/32 ]\nblock: [ cloak, ipl ]\n"
	    "action: refused\n");
	tdir_write(&fx->dir, "boards/b.yaml", "name: b\n"
	    "networks: [ 127.0.0.2/32 ]\nblock: [ ipl ]\n");
	tdir_write(&fx->dir, "boards/c.yaml", "name: c\n"
	    "networks: [ 127.0.0.3/32 ]\ncanaries: false\n");
	p = fx_build(fx);
	a = board(p, "a");
	b = board(p, "b");
	c = board(p, "c");
	/* an ip list blocks only answers; canaries too are looked for */
	assert_int_equal(a->qmask, 0x1);
	assert_int_equal(a->amask, 0x3 | POLICY_BIT_CANARY);
	assert_int_equal(b->qmask, 0);
	assert_int_equal(b->amask, 0x2 | POLICY_BIT_CANARY);
	assert_int_equal(c->amask, 0);
	/* the ip list's addresses are not names */
	expect_pass(p, a, "192.0.2.7");

	assert_int_equal(inspect(p, "www.x.test", cname), 0x1);
	assert_int_equal(inspect(p, "www.x.test", dname), 0x1);
	assert_int_equal(inspect(p, "www.x.test", a_bad), 0x2);
	assert_int_equal(inspect(p, "www.x.test", a_ok), 0);
	assert_int_equal(inspect(p, "www.x.test", aaaa_bad), 0x2);
	assert_int_equal(inspect(p, "www.x.test", aaaa_ok), 0);
	assert_int_equal(inspect(p, "www.x.test", both), 0x7);
	assert_int_equal(inspect(p, "www.x.test", exc), 0);
	assert_int_equal(inspect(p, "www.x.test", none), 0);
	/* a malformed message: nothing */
	assert_int_equal(policy_inspect(p, (const uint8_t *)"\0\0", 2), 0);

	memset(&v, 0xa5, sizeof v);
	policy_answer(p, a, 0x1, NULL, 0, &v);
	check_v(&v, POLICY_BLOCK, POLICY_RULE_ANSWER, 0, WIRE_BLOCK_REFUSED,
	    WIRE_EDE_FILTERED, "blocked: cloak", 0);
	memset(&v, 0xa5, sizeof v);
	policy_answer(p, a, 0x2, NULL, 0, &v);
	check_v(&v, POLICY_BLOCK, POLICY_RULE_ANSWER, 1, WIRE_BLOCK_REFUSED,
	    WIRE_EDE_FILTERED, "blocked: ipl", 0);
	/* the lowest bit names it */
	memset(&v, 0xa5, sizeof v);
	policy_answer(p, a, 0x7, NULL, 0, &v);
	check_v(&v, POLICY_BLOCK, POLICY_RULE_ANSWER, 0, WIRE_BLOCK_REFUSED,
	    WIRE_EDE_FILTERED, "blocked: cloak", 0);
	/* a bit the board does not block */
	memset(&v, 0xa5, sizeof v);
	policy_answer(p, a, 0x4, NULL, 0, &v);
	check_v(&v, POLICY_PASS, POLICY_RULE_NONE, -1, 0, 0, NULL, 0);
	memset(&v, 0xa5, sizeof v);
	policy_answer(p, b, 0x1, NULL, 0, &v);
	check_v(&v, POLICY_PASS, POLICY_RULE_NONE, -1, 0, 0, NULL, 0);
	memset(&v, 0xa5, sizeof v);
	policy_answer(p, b, 0x3, NULL, 0, &v);
	check_v(&v, POLICY_BLOCK, POLICY_RULE_ANSWER, 1, WIRE_BLOCK_NXDOMAIN,
	    WIRE_EDE_FILTERED, "blocked: ipl", 0);
	/* mask 0 and a board blocking nothing */
	memset(&v, 0xa5, sizeof v);
	policy_answer(p, a, 0, NULL, 0, &v);
	check_v(&v, POLICY_PASS, POLICY_RULE_NONE, -1, 0, 0, NULL, 0);
	memset(&v, 0xa5, sizeof v);
	policy_answer(p, c, ~(uint64_t)0, NULL, 0, &v);
	check_v(&v, POLICY_PASS, POLICY_RULE_NONE, -1, 0, 0, NULL, 0);
}

/*
 * policy_answer() of an answer to qname with the records rrs for board b,
 * as a cache hit does it: the bits from policy_inspect(), the message as
 * stored.
 */
static void
answer_v(const struct policy *p, const struct policy_board *b,
    const char *qname, const char *const *rrs, struct policy_verdict *v)
{
	uint8_t		msg[4096];
	size_t		len;
	uint64_t	mask;

	len = mkans(qname, rrs, msg, sizeof msg);
	mask = policy_inspect(p, msg, len);
	memset(v, 0xa5, sizeof *v);
	policy_answer(p, b, mask, msg, len, v);
}

/*
 * The deny list and the canaries apply to the targets of an answer
 * (CNAME, DNAME, HTTPS, SVCB) as to the question, and HTTPS and SVCB
 * hints are addresses like A and AAAA; the deny list is the board's own.
 */
static void
test_answer_targets(void **state)
{
	static const char *const to_denied[] = {
	    "www.x.test. 300 IN CNAME cdn.Denied.test.",
	    "cdn.denied.test. 300 IN A 192.0.2.1", NULL };
	static const char *const to_canary[] = {
	    "www.x.test. 300 IN CNAME use-application-dns.net.",
	    "use-application-dns.net. 300 IN A 192.0.2.1", NULL };
	static const char *const dname_denied[] = {
	    "x.test. 300 IN DNAME denied.test.", NULL };
	static const char *const https_denied[] = {
	    "www.x.test. 300 IN HTTPS 1 svc.denied.test. alpn=h2", NULL };
	static const char *const svcb_canary[] = {
	    "www.x.test. 300 IN SVCB 0 mask.icloud.com.", NULL };
	static const char *const https_cloak[] = {
	    "www.x.test. 300 IN HTTPS 1 edge.cloak.test.", NULL };
	static const char *const https_v4[] = {
	    "www.x.test. 300 IN HTTPS 1 . ipv4hint=192.0.2.1,198.51.100.66",
	    NULL };
	static const char *const https_v6[] = {
	    "www.x.test. 300 IN HTTPS 1 . ipv6hint=2001:db8:bad::1", NULL };
	static const char *const https_ok[] = {
	    "www.x.test. 300 IN HTTPS 1 . alpn=h2 ipv4hint=192.0.2.1 "
	    "ipv6hint=2001:db8::1", NULL };
	static const char *const denied_and_ip[] = {
	    "www.x.test. 300 IN CNAME denied.test.",
	    "denied.test. 300 IN A 198.51.100.66", NULL };
	struct fx			*fx = *state;
	struct policy			*p;
	const struct policy_board	*d, *e, *n;
	struct policy_verdict		 v;

	fx_yaml(fx, "lists:\n"
	    "  cloak: { file: lists/cloak.txt, format: domains }\n"
	    "  ipl: { file: lists/ipl.txt, format: ip }\n", NULL);
	tdir_write(&fx->dir, "lists/cloak.txt", "cloak.test\n");
	tdir_write(&fx->dir, "lists/ipl.txt", "198.51.100.0/24\n2001:db8:bad::/48\n");
	tdir_write(&fx->dir, "boards/d.yaml", "name: d\n"
	    "networks: [ 127.0.0.1/32 ]\nblock: [ ipl ]\n"
	    "deny: [ denied.test ]\naction: nodata\n");
	tdir_write(&fx->dir, "boards/e.yaml", "name: e\n"
	    "networks: [ 127.0.0.2/32 ]\nblock: [ cloak ]\n"
	    "deny: [ other.test ]\ncanaries: false\n");
	tdir_write(&fx->dir, "boards/n.yaml", "name: n\n"
	    "networks: [ 127.0.0.3/32 ]\ncanaries: false\n");
	p = fx_build(fx);
	d = board(p, "d");
	e = board(p, "e");
	n = board(p, "n");
	assert_int_equal(d->amask, 0x2 | POLICY_BIT_DENY | POLICY_BIT_CANARY);
	assert_int_equal(e->amask, 0x1 | POLICY_BIT_DENY);
	assert_int_equal(n->amask, 0);

	/* Some board denies the target: one bit, whichever board. */
	assert_int_equal(inspect(p, "www.x.test", to_denied),
	    POLICY_BIT_DENY);
	assert_int_equal(inspect(p, "www.x.test", dname_denied),
	    POLICY_BIT_DENY);
	assert_int_equal(inspect(p, "www.x.test", https_denied),
	    POLICY_BIT_DENY);
	assert_int_equal(inspect(p, "www.x.test", to_canary),
	    POLICY_BIT_CANARY);
	assert_int_equal(inspect(p, "www.x.test", svcb_canary),
	    POLICY_BIT_CANARY);
	assert_int_equal(inspect(p, "www.x.test", https_cloak), 0x1);
	assert_int_equal(inspect(p, "www.x.test", https_v4), 0x2);
	assert_int_equal(inspect(p, "www.x.test", https_v6), 0x2);
	assert_int_equal(inspect(p, "www.x.test", https_ok), 0);

	/* ... but only the board whose own list has it blocks. */
	answer_v(p, d, "www.x.test", to_denied, &v);
	check_v(&v, POLICY_BLOCK, POLICY_RULE_DENY, -1, WIRE_BLOCK_NODATA,
	    WIRE_EDE_FILTERED, "blocked: deny list", 0);
	answer_v(p, d, "www.x.test", dname_denied, &v);
	check_v(&v, POLICY_BLOCK, POLICY_RULE_DENY, -1, WIRE_BLOCK_NODATA,
	    WIRE_EDE_FILTERED, "blocked: deny list", 0);
	answer_v(p, d, "www.x.test", https_denied, &v);
	check_v(&v, POLICY_BLOCK, POLICY_RULE_DENY, -1, WIRE_BLOCK_NODATA,
	    WIRE_EDE_FILTERED, "blocked: deny list", 0);
	answer_v(p, e, "www.x.test", to_denied, &v);
	check_v(&v, POLICY_PASS, POLICY_RULE_NONE, -1, 0, 0, NULL, 0);
	answer_v(p, n, "www.x.test", to_denied, &v);
	check_v(&v, POLICY_PASS, POLICY_RULE_NONE, -1, 0, 0, NULL, 0);

	/* Canaries: NXDOMAIN, EDE 15, for boards that have them on. */
	answer_v(p, d, "www.x.test", to_canary, &v);
	check_v(&v, POLICY_BLOCK, POLICY_RULE_CANARY, -1, WIRE_BLOCK_NXDOMAIN,
	    WIRE_EDE_BLOCKED, "blocked: canary", 0);
	answer_v(p, d, "www.x.test", svcb_canary, &v);
	check_v(&v, POLICY_BLOCK, POLICY_RULE_CANARY, -1, WIRE_BLOCK_NXDOMAIN,
	    WIRE_EDE_BLOCKED, "blocked: canary", 0);
	answer_v(p, e, "www.x.test", to_canary, &v);
	check_v(&v, POLICY_PASS, POLICY_RULE_NONE, -1, 0, 0, NULL, 0);

	/* HTTPS hints and targets as addresses and CNAME targets. */
	answer_v(p, d, "www.x.test", https_v4, &v);
	check_v(&v, POLICY_BLOCK, POLICY_RULE_ANSWER, 1, WIRE_BLOCK_NODATA,
	    WIRE_EDE_FILTERED, "blocked: ipl", 0);
	answer_v(p, d, "www.x.test", https_v6, &v);
	check_v(&v, POLICY_BLOCK, POLICY_RULE_ANSWER, 1, WIRE_BLOCK_NODATA,
	    WIRE_EDE_FILTERED, "blocked: ipl", 0);
	answer_v(p, e, "www.x.test", https_cloak, &v);
	check_v(&v, POLICY_BLOCK, POLICY_RULE_ANSWER, 0, WIRE_BLOCK_NXDOMAIN,
	    WIRE_EDE_FILTERED, "blocked: cloak", 0);
	answer_v(p, d, "www.x.test", https_ok, &v);
	check_v(&v, POLICY_PASS, POLICY_RULE_NONE, -1, 0, 0, NULL, 0);

	/* The deny list comes before the lists, as on the question. */
	answer_v(p, d, "www.x.test", denied_and_ip, &v);
	check_v(&v, POLICY_BLOCK, POLICY_RULE_DENY, -1, WIRE_BLOCK_NODATA,
	    WIRE_EDE_FILTERED, "blocked: deny list", 0);
	answer_v(p, e, "www.x.test", denied_and_ip, &v);
	check_v(&v, POLICY_PASS, POLICY_RULE_NONE, -1, 0, 0, NULL, 0);
}

/* Make the test MMDBs in fx->dir.path; 0, or -1 when the writer is missing. */
static int
mkmmdb(const struct fx *fx)
{
	char	cmd[512];

	snprintf(cmd, sizeof cmd, "perl tests/unit/mkmmdb.pl %s", fx->dir.path);
	if (system(cmd) != 0) {
		print_message("'%s' failed (is libmaxmind-db-writer-perl "
		    "installed?)\n", cmd);
		return (-1);
	}
	return (0);
}

/* GeoIP bits: countries and ASNs blocked on answers. */
static void
test_geo(void **state)
{
	static const char *const ru[] = {
	    "www.x.test. 300 IN A 198.51.100.7", NULL };
	static const char *const nl[] = {
	    "www.x.test. 300 IN A 192.0.2.7", NULL };
	static const char *const de[] = {
	    "www.x.test. 300 IN AAAA 2001:db8:1::7", NULL };
	static const char *const jp[] = {
	    "www.x.test. 300 IN A 203.0.113.7", NULL };
	static const char *const mixed[] = {
	    "www.x.test. 300 IN CNAME l.test.",
	    "l.test. 300 IN A 192.0.2.7",
	    "l.test. 300 IN A 198.51.100.7", NULL };
	static const char *const other[] = {
	    "www.x.test. 300 IN A 233.252.0.1", NULL };
	struct fx			*fx = *state;
	struct policy			*p;
	const struct policy_board	*r, *as, *none;
	struct policy_verdict		 v;

	if (mkmmdb(fx) == -1)
		skip();
	fx_yaml(fx, "lists:\n"
	    "  l1: { file: lists/l1.txt, format: domains }\n",
	    "geoip: { country: country.mmdb, asn: asn.mmdb }\n");
	tdir_write(&fx->dir, "lists/l1.txt", "l.test\n");
	tdir_write(&fx->dir, "boards/r.yaml", "name: r\n"
	    "networks: [ 127.0.0.1/32 ]\nblock-countries: [ RU, jp, DE ]\n");
	tdir_write(&fx->dir, "boards/as.yaml", "name: as\n"
	    "networks: [ 127.0.0.2/32 ]\nblock: [ l1 ]\n"
	    "block-asns: [ 64496, AS64511 ]\nblock-countries: [ ru ]\n"
	    "action: nodata\n");
	tdir_write(&fx->dir, "boards/none.yaml", "name: none\n"
	    "networks: [ 127.0.0.3/32 ]\n");
	p = fx_build(fx);
	assert_int_equal(fx->msgs.n, 0);
	r = board(p, "r");
	as = board(p, "as");
	none = board(p, "none");
	assert_int_equal(r->qmask, 0);
	assert_int_equal(as->qmask, 0x1);
	/* Boards are sorted by path (as, none, r); geo bits follow l1 (bit
	   0) in that order, each board's countries before its ASNs: RU 1,
	   AS64496 2, AS64511 3, then r's new ones JP 4, DE 5. */
	assert_int_equal(as->amask, 0x1 | 0x2 | 0x4 | 0x8 | POLICY_BIT_CANARY);
	assert_int_equal(r->amask, 0x2 | 0x10 | 0x20 | POLICY_BIT_CANARY);
	assert_int_equal(none->amask, POLICY_BIT_CANARY);

	assert_int_equal(inspect(p, "www.x.test", ru), 0x2 | 0x8);
	assert_int_equal(inspect(p, "www.x.test", nl), 0x4);
	assert_int_equal(inspect(p, "www.x.test", jp), 0x10);
	assert_int_equal(inspect(p, "www.x.test", de), 0x20);
	assert_int_equal(inspect(p, "www.x.test", mixed), 0x1 | 0x2 | 0x4 |
	    0x8);
	assert_int_equal(inspect(p, "www.x.test", other), 0);

	/* block-countries [RU]: 198.51.100.7 blocked, 192.0.2.7 not */
	policy_answer(p, r, inspect(p, "www.x.test", ru), NULL, 0, &v);
	check_v(&v, POLICY_BLOCK, POLICY_RULE_ANSWER, 1, WIRE_BLOCK_NXDOMAIN,
	    WIRE_EDE_FILTERED, "blocked: country RU", 0);
	policy_answer(p, r, inspect(p, "www.x.test", nl), NULL, 0, &v);
	check_v(&v, POLICY_PASS, POLICY_RULE_NONE, -1, 0, 0, NULL, 0);
	policy_answer(p, r, inspect(p, "www.x.test", jp), NULL, 0, &v);
	check_v(&v, POLICY_BLOCK, POLICY_RULE_ANSWER, 4, WIRE_BLOCK_NXDOMAIN,
	    WIRE_EDE_FILTERED, "blocked: country JP", 0);
	policy_answer(p, r, inspect(p, "www.x.test", de), NULL, 0, &v);
	check_v(&v, POLICY_BLOCK, POLICY_RULE_ANSWER, 5, WIRE_BLOCK_NXDOMAIN,
	    WIRE_EDE_FILTERED, "blocked: country DE", 0);
	/* block-asns [64496]: 192.0.2.7 blocked */
	policy_answer(p, as, inspect(p, "www.x.test", nl), NULL, 0, &v);
	check_v(&v, POLICY_BLOCK, POLICY_RULE_ANSWER, 2, WIRE_BLOCK_NODATA,
	    WIRE_EDE_FILTERED, "blocked: AS64496", 0);
	policy_answer(p, as, inspect(p, "www.x.test", mixed), NULL, 0, &v);
	check_v(&v, POLICY_BLOCK, POLICY_RULE_ANSWER, 0, WIRE_BLOCK_NODATA,
	    WIRE_EDE_FILTERED, "blocked: l1", 0);
	policy_answer(p, as, inspect(p, "www.x.test", de), NULL, 0, &v);
	check_v(&v, POLICY_PASS, POLICY_RULE_NONE, -1, 0, 0, NULL, 0);
	policy_answer(p, none, inspect(p, "www.x.test", ru), NULL, 0, &v);
	check_v(&v, POLICY_PASS, POLICY_RULE_NONE, -1, 0, 0, NULL, 0);
}

/* block-countries/block-asns without the database: an error. */
static void
test_geo_missing(void **state)
{
	struct fx	*fx = *state;

	fx_yaml(fx, NULL, "geoip: { asn: asn.mmdb }\n");
	tdir_write(&fx->dir, "boards/a.yaml", "name: a\n"
	    "networks: [ 127.0.0.1/32 ]\n");
	tdir_write(&fx->dir, "boards/r.yaml", "name: r\n"
	    "networks: [ 127.0.0.2/32 ]\nblock-countries: [ RU ]\n");
	/* conf_load() says so, at the key's line and column. */
	fx_conf_fails(fx);
	assert_true(msgs_start(fx, "boards/r.yaml", ":3:1: block-countries: "
	    "needs geoip.country"));
	assert_false(strstr(fx->msgs.msg[0], "boards/a.yaml") != NULL);
}

/* Every board with a geo rule and no database is named, each for its key. */
static void
test_geo_missing_all(void **state)
{
	struct fx	*fx = *state;

	fx_yaml(fx, NULL, NULL);
	tdir_write(&fx->dir, "boards/a.yaml", "name: a\n"
	    "networks: [ 127.0.0.1/32 ]\nblock-countries: [ RU ]\n");
	tdir_write(&fx->dir, "boards/b.yaml", "name: b\n"
	    "networks: [ 127.0.0.2/32 ]\nblock-asns: [ 64496 ]\n");
	fx_conf_fails(fx);
	assert_true(msgs_start(fx, "boards/a.yaml", ":3:1: block-countries: "
	    "needs geoip.country"));
	assert_true(msgs_start(fx, "boards/b.yaml", ":3:1: block-asns: needs "
	    "geoip.asn"));
	/* Each message names only the key that lacks its database. */
	assert_false(tmsgs_find(&fx->msgs, "boards/a.yaml", "geoip.asn"));
	assert_false(tmsgs_find(&fx->msgs, "boards/b.yaml", "geoip.country"));
}

/* Explain says an RPZ wildcard as "*.name", an exact entry as such. */
static void
test_explain_match(void **state)
{
	struct fx	*fx = *state;
	struct policy	*p;
	char		*s, want[512], rpath[256];
	int		 rc;

	fx_yaml(fx, "lists:\n  rpz: { file: lists/rpz.zone, format: rpz }\n",
	    NULL);
	tdir_write(&fx->dir, "lists/rpz.zone", "$ORIGIN rpz.test.\n"
	    "@ 60 SOA ns.rpz.test. h.rpz.test. 1 3600 600 86400 60\n"
	    "@ 60 NS ns.rpz.test.\n"
	    "*.wild.test CNAME .\n"
	    "only.test CNAME .\n");
	tdir_write(&fx->dir, "boards/a.yaml", "name: a\nnetworks: [ 127.0.0.1/32 ]\n"
	    "block: [ rpz ]\n");
	p = fx_build(fx);
	tdir_path(&fx->dir, "lists/rpz.zone", rpath, sizeof rpath);
	s = explain(p, board(p, "a"), "x.wild.test", WIRE_TYPE_A, &rc);
	assert_int_equal(rc, 0);
	snprintf(want, sizeof want, "listed: rpz entry *.wild.test. (%s:4)",
	    rpath);
	assert_true(has(s, want));
	free(s);
	s = explain(p, board(p, "a"), "only.test", WIRE_TYPE_A, &rc);
	snprintf(want, sizeof want, "listed: rpz entry only.test. (this name "
	    "only) (%s:5)", rpath);
	assert_true(has(s, want));
	free(s);
}

/* The root is a question explain answers, though never an entry. */
static void
test_explain_root(void **state)
{
	struct fx	*fx = *state;
	struct policy	*p;
	char		*s;
	int		 rc;

	fx_yaml(fx, NULL, NULL);
	tdir_write(&fx->dir, "boards/a.yaml", "name: a\nnetworks: [ 127.0.0.1/32 ]\n");
	p = fx_build(fx);
	s = explain(p, board(p, "a"), ".", WIRE_TYPE_NS, &rc);
	assert_int_equal(rc, 0);
	assert_true(has(s, "question: . NS"));
	assert_true(has(s, "verdict: pass"));
	free(s);
}

/* A geoip database that does not exist: an error naming it. */
static void
test_geo_nofile(void **state)
{
	struct fx	*fx = *state;
	char		 path[256];

	fx_yaml(fx, NULL, "geoip: { country: nothere.mmdb }\n");
	tdir_write(&fx->dir, "boards/r.yaml", "name: r\n"
	    "networks: [ 127.0.0.2/32 ]\nblock-countries: [ RU ]\n");
	fx_build_fails(fx);
	assert_true(tmsgs_have(&fx->msgs, tdir_path(&fx->dir, "nothere.mmdb", path,
	    sizeof path), NULL));
}

/* Write n distinct country codes as a YAML flow list into buf. */
static void
countries(char *buf, size_t cap, unsigned n)
{
	size_t		off = 0;
	unsigned	i;

	off += (size_t)snprintf(buf, cap, "block-countries: [ ");
	for (i = 0; i < n; i++)
		off += (size_t)snprintf(buf + off, cap - off, "%s%c%c",
		    i ? ", " : "", 'Q' + i / 26 % 4, 'A' + i % 26);
	snprintf(buf + off, cap - off, " ]\n");
	assert_true(off + 4 < cap);
}

/*
 * 62 bits in all is the limit (the top two are the deny and canary bits):
 * 1 list + 61 countries fits, 62 do not.
 */
static void
test_too_many_bits(void **state)
{
	struct fx	*fx = *state;
	char		 board_text[1024], cl[600], path[256];

	if (mkmmdb(fx) == -1)
		skip();
	fx_yaml(fx, "lists:\n"
	    "  l1: { file: lists/l1.txt, format: domains }\n",
	    "geoip: { country: country.mmdb }\n");
	tdir_write(&fx->dir, "lists/l1.txt", "l.test\n");
	countries(cl, sizeof cl, 61);
	snprintf(board_text, sizeof board_text, "name: a\n"
	    "networks: [ 127.0.0.1/32 ]\n%s", cl);
	tdir_write(&fx->dir, "boards/a.yaml", board_text);
	fx_build(fx);
	/* no deny list: every bit but the list's and POLICY_BIT_DENY */
	assert_int_equal(board(fx->p, "a")->amask,
	    ~(uint64_t)1 & ~POLICY_BIT_DENY);
	policy_free(fx->p);
	fx->p = NULL;
	conf_free(fx->conf);
	fx->conf = NULL;

	/* one more, in another board: conf.c says so, at the key */
	tdir_write(&fx->dir, "boards/b.yaml", "name: b\n"
	    "networks: [ 127.0.0.2/32 ]\nblock-countries: [ QA, ZZ ]\n");
	fx_conf_fails(fx);
	assert_true(tmsgs_have(&fx->msgs, tdir_path(&fx->dir, "boards/b.yaml", path,
	    sizeof path), ":3:1: block-countries: the 1 lists and the "
	    "countries and AS numbers the boards block would be more than 62"));
}

/* 48 lists (the most veiligd.yaml takes) and 17 countries: too many. */
static void
test_too_many_lists(void **state)
{
	struct fx	*fx = *state;
	char		 lists[8192], board_text[1024], cl[600], path[256];
	size_t		 off;
	unsigned	 i;

	off = (size_t)snprintf(lists, sizeof lists, "lists:\n");
	for (i = 0; i < CONF_MAX_LISTS; i++)
		off += (size_t)snprintf(lists + off, sizeof lists - off,
		    "  l%u: { file: lists/l.txt, format: domains }\n", i);
	assert_true(off < sizeof lists);
	fx_yaml(fx, lists, "geoip: { country: country.mmdb }\n");
	tdir_write(&fx->dir, "lists/l.txt", "l.test\n");
	countries(cl, sizeof cl, 17);
	snprintf(board_text, sizeof board_text, "name: a\n"
	    "networks: [ 127.0.0.1/32 ]\nblock: [ l0, l47 ]\n%s", cl);
	tdir_write(&fx->dir, "boards/a.yaml", board_text);
	fx_conf_fails(fx);
	assert_true(tmsgs_have(&fx->msgs, tdir_path(&fx->dir, "boards/a.yaml", path,
	    sizeof path), "would be more than 62 in all"));
}

/* List files: missing, mostly garbage, a few bad lines. */
static void
test_list_errors(void **state)
{
	struct fx			*fx = *state;
	struct policy			*p;
	const struct policy_board	*a;

	fx_yaml(fx, "lists:\n"
	    "  good: { file: lists/good.txt, format: domains }\n"
	    "  gone: { file: lists/gone.txt, format: domains }\n"
	    "  junk: { file: lists/junk.txt, format: adblock }\n", NULL);
	tdir_write(&fx->dir, "lists/good.txt", "good.test\n");
	tdir_write(&fx->dir, "lists/junk.txt", "||a.test^\nfoo bar\n/path/\n"
	    "example.com##.ad\n");
	tdir_write(&fx->dir, "boards/a.yaml", "name: a\n"
	    "networks: [ 127.0.0.1/32 ]\nblock: [ good ]\n");
	fx_build_fails(fx);
	/* both bad lists are reported, in one pass */
	assert_true(msgs_start(fx, "lists/gone.txt", ""));
	assert_true(msgs_start(fx, "lists/junk.txt", ""));
	assert_true(tmsgs_have(&fx->msgs, "lists/junk.txt", "mostly"));
	conf_free(fx->conf);
	fx->conf = NULL;
	tmsgs_clear(&fx->msgs);

	/* a few bad lines: warnings with file:line:column, the rest loads */
	fx_yaml(fx, "lists:\n"
	    "  good: { file: lists/good.txt, format: domains }\n", NULL);
	tdir_write(&fx->dir, "lists/good.txt", "good.test\nbad name.test\n"
	    "fine.test\nbad..test\nalso.test\n");
	p = fx_build(fx);
	assert_true(msgs_start(fx, "lists/good.txt", ":2:5: "));
	assert_true(msgs_start(fx, "lists/good.txt", ":4:1: "));
	assert_int_equal(fx->msgs.n, 2);
	a = board(p, "a");
	expect_block(p, a, "fine.test", POLICY_RULE_LIST, 0,
	    WIRE_BLOCK_NXDOMAIN, WIRE_EDE_FILTERED, "blocked: good",
	    "fine.test");
	expect_block(p, a, "also.test", POLICY_RULE_LIST, 0,
	    WIRE_BLOCK_NXDOMAIN, WIRE_EDE_FILTERED, "blocked: good",
	    "also.test");
	expect_pass(p, a, "name.test");
}

/* Our own tables: missing or with a bad line, the policy fails. */
static void
test_table_errors(void **state)
{
	struct fx	*fx = *state;
	char		 path[256];

	fx_yaml(fx, NULL, NULL);
	tdir_write(&fx->dir, "boards/a.yaml", "name: a\n"
	    "networks: [ 127.0.0.1/32 ]\n");
	/* a safe-search line without a target */
	tdir_write(&fx->dir, "tables/safesearch.txt", "www.google.nl "
	    "forcesafesearch.google.com\nwww.bing.com\n");
	fx_build_fails(fx);
	assert_true(msgs_start(fx, "tables/safesearch.txt", ":2:13: "));
	conf_free(fx->conf);
	fx->conf = NULL;
	tmsgs_clear(&fx->msgs);

	/* one bad canary line: a list would take it, our own table not */
	tdir_write(&fx->dir, "tables/safesearch.txt", SAFESEARCH_TXT);
	tdir_write(&fx->dir, "tables/canaries.txt", "ok.test\nnot a name\n"
	    "ok2.test\nok3.test\n");
	fx_build_fails(fx);
	assert_true(msgs_start(fx, "tables/canaries.txt", ":2:5: "));
	conf_free(fx->conf);
	fx->conf = NULL;
	tmsgs_clear(&fx->msgs);

	assert_int_equal(unlink(tdir_path(&fx->dir, "tables/safesearch.txt", path,
	    sizeof path)), 0);
	assert_int_equal(unlink(tdir_path(&fx->dir, "tables/canaries.txt", path,
	    sizeof path)), 0);
	fx_build_fails(fx);
	assert_true(msgs_start(fx, "tables/safesearch.txt", ""));
	assert_true(msgs_start(fx, "tables/canaries.txt", ""));
}

/* policy_explain: board, verdict, rule, and where each entry is. */
static void
test_explain(void **state)
{
	struct fx			*fx = *state;
	struct policy			*p;
	const struct policy_board	*a;
	char				*s, want[512], bpath[256], lpath[256],
					 rpath[256], tpath[256];
	int				 rc;

	fx_yaml(fx, "lists:\n"
	    "  l1: { file: lists/l1.txt, format: domains }\n"
	    "  rpz: { file: lists/rpz.zone, format: rpz }\n"
	    "  l3: { file: lists/l3.txt, format: adblock }\n", NULL);
	tdir_write(&fx->dir, "lists/l1.txt", "# l1\n\nbad.test\nboth.test\n");
	tdir_write(&fx->dir, "lists/rpz.zone", RPZ_ZONE);
	tdir_write(&fx->dir, "lists/l3.txt", "||both.test^\n@@||ok.both.test^\n");
	tdir_write(&fx->dir, "boards/a.yaml", "name: Board A\n"
	    "networks: [ 127.0.0.1/32 ]\n"
	    "block: [ l1, rpz ]\n"
	    "allow:\n"
	    "  - ok.bad.test\n"
	    "deny: [ x.test, Denied.Test ]\n"
	    "safe-search: true\n");
	/* An admin's name with what the quotes must escape. */
	tdir_write(&fx->dir, "boards/q.yaml", "name: \"De \\\"Beste\\\" "
	    "\\\\ school \\u202e\"\nnetworks: [ 127.0.0.2/32 ]\n");
	p = fx_build(fx);
	a = board(p, "a");
	tdir_path(&fx->dir, "boards/a.yaml", bpath, sizeof bpath);
	tdir_path(&fx->dir, "lists/l1.txt", lpath, sizeof lpath);
	tdir_path(&fx->dir, "lists/rpz.zone", rpath, sizeof rpath);
	tdir_path(&fx->dir, "tables", tpath, sizeof tpath);

	/* a list entry */
	s = explain(p, a, "www.bad.test", LDNS_RR_TYPE_AAAA, &rc);
	assert_int_equal(rc, 0);
	snprintf(want, sizeof want, "board: \"Board A\" (%s)\n", bpath);
	assert_true(has(s, want));
	assert_true(has(s, "question: www.bad.test. AAAA\n"));
	assert_true(has(s, "verdict: block, answer nxdomain, EDE 17 "
	    "\"blocked: l1\"\n"));
	assert_true(has(s, "rule: list l1"));
	snprintf(want, sizeof want, "listed: l1 entry bad.test. (%s:3)\n",
	    lpath);
	assert_true(has(s, want));
	free(s);

	/* listed in a blocked and an unblocked list, with an exception */
	s = explain(p, a, "ok.both.test", LDNS_RR_TYPE_A, &rc);
	assert_int_equal(rc, 0);
	assert_true(has(s, "verdict: block"));
	snprintf(want, sizeof want, "listed: l1 entry both.test. (%s:4)\n",
	    lpath);
	assert_true(has(s, want));
	assert_true(has(s, "listed: l3 exception ok.both.test. ("));
	assert_true(has(s, "l3.txt:2) [not blocked by this board]\n"));
	free(s);

	/* allow and deny: the board file with line:column */
	s = explain(p, a, "x.ok.bad.test", LDNS_RR_TYPE_A, &rc);
	assert_int_equal(rc, 0);
	assert_true(has(s, "verdict: allow\n"));
	snprintf(want, sizeof want, "rule: allow ok.bad.test (%s:5:5)",
	    bpath);
	assert_true(has(s, want));
	/* the list entry is still shown */
	assert_true(has(s, "listed: l1 entry bad.test."));
	free(s);
	s = explain(p, a, "www.denied.test.", LDNS_RR_TYPE_A, &rc);
	assert_int_equal(rc, 0);
	assert_true(has(s, "verdict: block, answer nxdomain, EDE 17 "
	    "\"blocked: deny list\"\n"));
	snprintf(want, sizeof want, "rule: deny Denied.Test (%s:6:17)\n",
	    bpath);
	assert_true(has(s, want));
	free(s);

	/* RPZ: the zone file's line */
	s = explain(p, a, "a.wild.test", LDNS_RR_TYPE_A, &rc);
	assert_int_equal(rc, 0);
	assert_true(has(s, "rule: list rpz"));
	snprintf(want, sizeof want, "listed: rpz entry *.wild.test. "
	    "(%s:11)\n", rpath);
	assert_true(has(s, want));
	free(s);
	s = explain(p, a, "ok.evil.test", LDNS_RR_TYPE_A, &rc);
	assert_int_equal(rc, 0);
	assert_true(has(s, "verdict: pass"));
	snprintf(want, sizeof want, "listed: rpz exception ok.evil.test. "
	    "(this name only) (%s:9)\n", rpath);
	assert_true(has(s, want));
	free(s);
	s = explain(p, a, "local.test", LDNS_RR_TYPE_A, &rc);
	assert_int_equal(rc, 0);
	assert_true(has(s, "verdict: rewrite to walled.garden.test. "
	    "(CNAME)\n"));
	assert_true(has(s, "rule: list rpz (RPZ CNAME)\n"));
	free(s);

	/* canary, safe search, pass */
	s = explain(p, a, "use-application-dns.net", LDNS_RR_TYPE_A, &rc);
	assert_int_equal(rc, 0);
	assert_true(has(s, "EDE 15 \"blocked: canary\""));
	snprintf(want, sizeof want, "rule: canary use-application-dns.net. "
	    "(%s/canaries.txt:2)\n", tpath);
	assert_true(has(s, want));
	free(s);
	s = explain(p, a, "www.bing.com", LDNS_RR_TYPE_A, &rc);
	assert_int_equal(rc, 0);
	assert_true(has(s, "verdict: rewrite to strict.bing.com. (CNAME)\n"));
	snprintf(want, sizeof want, "rule: safe-search (%s/safesearch.txt:3)\n",
	    tpath);
	assert_true(has(s, want));
	free(s);
	s = explain(p, a, "nothing.test", 65280, &rc);
	assert_int_equal(rc, 0);
	assert_true(has(s, "question: nothing.test. TYPE65280\n"));
	assert_true(has(s, "verdict: pass"));
	assert_null(strstr(s, "listed:"));
	free(s);

	/* the board's name quoted as veiligctl stats shows it */
	s = explain(p, board(p, "q"), "nothing.test", LDNS_RR_TYPE_A, &rc);
	assert_int_equal(rc, 0);
	tdir_path(&fx->dir, "boards/q.yaml", bpath, sizeof bpath);
	snprintf(want, sizeof want, "board: \"De \\\"Beste\\\" \\\\ school "
	    "\\u202e\" (%s)\n", bpath);
	assert_true(has(s, want));
	free(s);

	/* not a name */
	s = explain(p, a, "bad name.test", LDNS_RR_TYPE_A, &rc);
	assert_int_equal(rc, -1);
	assert_true(has(s, "bad name.test: "));
	free(s);
	s = explain(p, a, "a..b", LDNS_RR_TYPE_A, &rc);
	assert_int_equal(rc, -1);
	free(s);
}

/* Generations differ; policy_lists and policy_boards text. */
static void
test_lists_generation(void **state)
{
	struct fx		*fx = *state;
	struct policy		*p2;
	struct evbuffer		*out;
	char			*s, want[1024];
	size_t			 len;
	uint32_t		 g1, g2;

	fx_yaml(fx, "lists:\n"
	    "  l1: { file: lists/l1.txt, format: domains }\n"
	    "  l2: { file: lists/l2.txt, format: hosts,"
	    " url: \"https://lists.example/l2.txt\" }\n"
	    "  l3: { file: lists/l3.zone, format: rpz }\n"
	    "  l4: { file: lists/l4.txt, format: adblock }\n"
	    "  l5: { file: lists/l5.txt, format: ip }\n", NULL);
	tdir_write(&fx->dir, "lists/l1.txt", "a.test\n");
	tdir_write(&fx->dir, "lists/l2.txt", "0.0.0.0 b.test\n");
	tdir_write(&fx->dir, "lists/l3.zone", RPZ_ZONE);
	tdir_write(&fx->dir, "lists/l4.txt", "||c.test^\n");
	tdir_write(&fx->dir, "lists/l5.txt", "192.0.2.1\n");
	tdir_write(&fx->dir, "boards/a.yaml", "name: A\n"
	    "networks: [ 127.0.0.1/32, \"::1/128\" ]\nblock: [ l5, l1 ]\n"
	    "safe-search: true\naction: nodata\n");
	fx_build(fx);

	p2 = policy_new(fx->conf, NULL, tmsgs_cb, &fx->msgs);
	assert_non_null(p2);
	g1 = policy_generation(fx->p);
	g2 = policy_generation(p2);
	assert_int_not_equal(g1, g2);
	assert_int_equal(policy_generation(fx->p), g1);
	policy_free(p2);

	out = evbuffer_new();
	assert_non_null(out);
	policy_lists(fx->p, out);
	len = evbuffer_get_length(out);
	s = calloc(1, len + 1);
	assert_non_null(s);
	evbuffer_remove(out, s, len);
	snprintf(want, sizeof want,
	    "l1\tdomains\t%s/lists/l1.txt\t-\n"
	    "l2\thosts\t%s/lists/l2.txt\thttps://lists.example/l2.txt\n"
	    "l3\trpz\t%s/lists/l3.zone\t-\n"
	    "l4\tadblock\t%s/lists/l4.txt\t-\n"
	    "l5\tip\t%s/lists/l5.txt\t-\n",
	    fx->dir.path, fx->dir.path, fx->dir.path, fx->dir.path, fx->dir.path);
	assert_string_equal(s, want);
	free(s);

	policy_boards(fx->p, out);
	len = evbuffer_get_length(out);
	s = calloc(1, len + 1);
	assert_non_null(s);
	evbuffer_remove(out, s, len);
	snprintf(want, sizeof want, "A\t%s/boards/a.yaml\t127.0.0.1/32,"
	    "::1/128\tblock=l1,l5\tsafe-search=yes\taction=nodata\n",
	    fx->dir.path);
	assert_string_equal(s, want);
	free(s);
	evbuffer_free(out);
}

/* No lists and no boards at all: a valid, empty policy. */
static void
test_empty(void **state)
{
	struct fx		*fx = *state;
	struct sockaddr_storage	 ss;

	fx_yaml(fx, NULL, NULL);
	fx_build(fx);
	assert_null(policy_board_for(fx->p, sa("127.0.0.1", &ss)));
	assert_null(policy_board_named(fx->p, "a"));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_board_for, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_precedence, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_most_specific, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_rpz, setup, teardown),
		cmocka_unit_test_setup_teardown(test_reload_lists, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_actions, setup, teardown),
		cmocka_unit_test_setup_teardown(test_canaries, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_board_hot, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_board_many, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_safesearch, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_apex, setup, teardown),
		cmocka_unit_test_setup_teardown(test_inspect, setup, teardown),
		cmocka_unit_test_setup_teardown(test_answer_targets, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_geo, setup, teardown),
		cmocka_unit_test_setup_teardown(test_geo_missing, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_geo_nofile, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_too_many_bits, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_too_many_lists, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_list_errors, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_table_errors, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_explain, setup, teardown),
		cmocka_unit_test_setup_teardown(test_explain_root, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_explain_match, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_geo_missing_all, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_lists_generation, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_empty, setup, teardown),
	};

	return (cmocka_run_group_tests(tests, NULL, NULL));
}
