/*
 * test_lists.c: the list readers. Each format is loaded from memory into a
 * recording sink, and the exact entries (as dotted text) and reports (with
 * file:line) are checked: comments, blank lines, CRLF, BOM, case, invalid
 * lines, hosts housekeeping names, adblock exceptions and options, RPZ
 * origins, wildcards and actions, IP networks, safe-search rewrites
 * ("name target"), the "mostly garbage" rule
 * and its boundary, the report cap, a missing file and a real file.
 */
#include <sys/socket.h>

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "lists.h"
#include "wire.h"

#include "tdir.h"

#define REC_MAX		64
#define REC_TEXT	300

/* Everything a load gave to the sink, names as dotted text. */
struct rec {
	size_t		nnames;
	char		name[REC_MAX][REC_TEXT];
	int		kind[REC_MAX];
	int		match[REC_MAX];
	int		action[REC_MAX];
	char		target[REC_MAX][REC_TEXT];
	uint32_t	line[REC_MAX];
	size_t		nnets;
	struct conf_net	net[REC_MAX];
	uint32_t	netline[REC_MAX];
	size_t		nreports;
	char		report[REC_MAX][REC_TEXT];
};

/* Make the name sink fail, as on allocation failure. */
static int	rec_fail;

/* Dotted text of a wire name, "" for the root. */
static void
rec_text(const uint8_t *w, size_t len, char *out)
{
	size_t	i = 0, n = 0;

	assert_true(len >= 1 && len <= WIRE_MAX_NAME);
	assert_int_equal(w[len - 1], 0);
	while (w[i] != 0) {
		assert_true(w[i] <= 63 && i + w[i] + 1 < len);
		if (n > 0)
			out[n++] = '.';
		memcpy(out + n, w + i + 1, w[i]);
		n += w[i];
		i += w[i] + 1;
	}
	assert_int_equal(i + 1, len);
	out[n] = '\0';
}

static int
rec_name(void *arg, const uint8_t *lname, size_t len, enum domtable_kind kind,
    enum domtable_match match, uint32_t line)
{
	struct rec	*r = arg;

	if (rec_fail)
		return (-1);
	assert_true(r->nnames < REC_MAX);
	rec_text(lname, len, r->name[r->nnames]);
	r->kind[r->nnames] = kind;
	r->match[r->nnames] = match;
	r->line[r->nnames] = line;
	r->nnames++;
	return (0);
}

static int
rec_rpz(void *arg, const uint8_t *lname, size_t len, enum domtable_match match,
    enum lists_rpz_action action, const uint8_t *target, size_t tlen,
    uint32_t line)
{
	struct rec	*r = arg;

	assert_true(r->nnames < REC_MAX);
	rec_text(lname, len, r->name[r->nnames]);
	r->match[r->nnames] = match;
	r->action[r->nnames] = action;
	r->line[r->nnames] = line;
	if (action == LISTS_RPZ_CNAME)
		rec_text(target, tlen, r->target[r->nnames]);
	else {
		assert_null(target);
		assert_int_equal(tlen, 0);
		r->target[r->nnames][0] = '\0';
	}
	r->nnames++;
	return (0);
}

static int
rec_net(void *arg, const struct conf_net *net, uint32_t line)
{
	struct rec	*r = arg;

	assert_true(r->nnets < REC_MAX);
	r->net[r->nnets] = *net;
	r->netline[r->nnets] = line;
	r->nnets++;
	return (0);
}

static void
rec_report(void *arg, const char *msg)
{
	struct rec	*r = arg;

	assert_true(r->nreports < REC_MAX);
	snprintf(r->report[r->nreports], REC_TEXT, "%s", msg);
	r->nreports++;
}

/* Load text in fmt; r is reset first. */
static int
load(struct rec *r, const char *text, enum lists_format fmt,
    struct lists_result *res)
{
	struct lists_sink	sink = { rec_name, rec_rpz, rec_net, rec_report,
				    r };

	memset(r, 0, sizeof *r);
	return (lists_load_mem("t.txt", text, strlen(text), fmt, &sink, res));
}

/* Name i is text with kind, match and line. */
static void
check_name(struct rec *r, size_t i, const char *text, int kind, int match,
    uint32_t line)
{
	assert_true(i < r->nnames);
	assert_string_equal(r->name[i], text);
	assert_int_equal(r->kind[i], kind);
	assert_int_equal(r->match[i], match);
	assert_int_equal(r->line[i], line);
}

/* Report i starts with prefix. */
static void
check_report(struct rec *r, size_t i, const char *prefix)
{
	assert_true(i < r->nreports);
	if (strncmp(r->report[i], prefix, strlen(prefix)) != 0)
		fail_msg("report %zu: \"%s\", want \"%s...\"", i, r->report[i],
		    prefix);
}

static void
test_format_names(void **state)
{
	enum lists_format	f;

	(void)state;
	assert_int_equal(lists_format_parse("domains", &f), 0);
	assert_int_equal(f, LISTS_DOMAINS);
	assert_int_equal(lists_format_parse("hosts", &f), 0);
	assert_int_equal(f, LISTS_HOSTS);
	assert_int_equal(lists_format_parse("adblock", &f), 0);
	assert_int_equal(f, LISTS_ADBLOCK);
	assert_int_equal(lists_format_parse("rpz", &f), 0);
	assert_int_equal(f, LISTS_RPZ);
	assert_int_equal(lists_format_parse("ip", &f), 0);
	assert_int_equal(f, LISTS_IP);
	assert_int_equal(lists_format_parse("Domains", &f), -1);
	assert_int_equal(lists_format_parse("", &f), -1);
	assert_string_equal(lists_format_name(LISTS_HOSTS), "hosts");
	assert_string_equal(lists_format_name(LISTS_RPZ), "rpz");
	assert_string_equal(lists_format_name(LISTS_IP), "ip");
	/* Our own safe-search format: no list in veiligd.yaml has it. */
	assert_int_equal(lists_format_parse("rewrite", &f), -1);
	assert_string_equal(lists_format_name(LISTS_REWRITE), "rewrite");
}

/* lists_name on a NUL-terminated string. */
static int
name(const char *s, uint8_t *out, size_t *len, const char **why)
{
	*why = NULL;
	return (lists_name(s, strlen(s), out, len, why));
}

static void
test_name(void **state)
{
	static const uint8_t	 want[] = { 3, 'w', 'w', 'w', 7, 'e', 'x',
		'a', 'm', 'p', 'l', 'e', 2, 'n', 'l', 0 };
	uint8_t			 out[WIRE_MAX_NAME];
	const char		*why;
	size_t			 len;

	(void)state;
	assert_int_equal(name("WwW.Example.NL", out, &len, &why), 0);
	assert_int_equal(len, sizeof want);
	assert_memory_equal(out, want, sizeof want);
	assert_int_equal(name("www.example.nl.", out, &len, &why), 0);
	assert_memory_equal(out, want, sizeof want);
	assert_int_equal(name("localhost", out, &len, &why), 0);
	assert_int_equal(len, 11);
	assert_int_equal(name("com", out, &len, &why), 0);
	assert_int_equal(name("_dmarc.x-y.example", out, &len, &why), 0);
	assert_int_equal(name("xn--bcher-kva.example", out, &len, &why), 0);

	assert_int_equal(name(".", out, &len, &why), -1);
	assert_string_equal(why, "the root cannot be listed");
	assert_int_equal(name("", out, &len, &why), -1);
	assert_int_equal(name("a..b", out, &len, &why), -1);
	assert_string_equal(why, "not a domain name: empty label");
	assert_int_equal(name(".a", out, &len, &why), -1);
	assert_string_equal(why, "not a domain name: empty label");
	assert_int_equal(name("a..", out, &len, &why), -1);
	assert_int_equal(name("a b", out, &len, &why), -1);
	assert_string_equal(why, "not a domain name: invalid character");
	assert_int_equal(name("*.example.com", out, &len, &why), -1);
	assert_string_equal(why, "not a domain name: invalid character");
	assert_int_equal(name("example.com/x", out, &len, &why), -1);
	assert_int_equal(name("a:b", out, &len, &why), -1);
	assert_int_equal(name("a\\.b", out, &len, &why), -1);
	assert_int_equal(name("b\xc3\xbc" "cher.example", out, &len, &why),
	    -1);
	assert_string_equal(why, "IDN must be in A-label (xn--) form");
	assert_int_equal(lists_name("a\0b", 3, out, &len, &why), -1);
	assert_string_equal(why, "not a domain name: invalid character");
}

/* A name of labels of the given lengths, "a" repeated. */
static void
long_name(char *buf, const size_t *labels, size_t n)
{
	size_t	i, p = 0;

	for (i = 0; i < n; i++) {
		if (i > 0)
			buf[p++] = '.';
		memset(buf + p, 'a', labels[i]);
		p += labels[i];
	}
	buf[p] = '\0';
}

static void
test_name_limits(void **state)
{
	static const size_t	 l63[] = { 63, 3 }, l64[] = { 64, 3 };
	static const size_t	 n255[] = { 63, 63, 63, 61 };
	static const size_t	 n256[] = { 63, 63, 63, 62 };
	char			 buf[600];
	uint8_t			 out[WIRE_MAX_NAME];
	const char		*why;
	size_t			 len;

	(void)state;
	long_name(buf, l63, 2);
	assert_int_equal(name(buf, out, &len, &why), 0);
	assert_int_equal(len, 1 + 63 + 1 + 3 + 1);
	long_name(buf, l64, 2);
	assert_int_equal(name(buf, out, &len, &why), -1);
	assert_string_equal(why, "not a domain name: label longer than 63");

	/* 64 * 3 + 62 + 1 = 255 octets in wire form; one more is too long. */
	long_name(buf, n255, 4);
	assert_int_equal(name(buf, out, &len, &why), 0);
	assert_int_equal(len, 255);
	strcat(buf, ".");
	assert_int_equal(name(buf, out, &len, &why), 0);
	assert_int_equal(len, 255);
	long_name(buf, n256, 4);
	assert_int_equal(name(buf, out, &len, &why), -1);
	assert_string_equal(why, "not a domain name: longer than 255 octets");

	/* Far too long: still no overflow. */
	memset(buf, 'a', 590);
	for (len = 50; len < 590; len += 50)
		buf[len] = '.';
	buf[590] = '\0';
	assert_int_equal(name(buf, out, &len, &why), -1);
}

static void
test_domains(void **state)
{
	struct rec		 r;
	struct lists_result	 res;
	static const char	 text[] =
	    "\xef\xbb\xbf" "# a list\r\n"
	    "Example.COM\r\n"
	    "\n"
	    "! also a comment\n"
	    "  ads.example.net.  # note\n"
	    "\ttabbed.example\t\n"
	    "bad..name\n"
	    "two fields\n"
	    "b\xc3\xbc" "cher.example\n"
	    "last.example";

	(void)state;
	assert_int_equal(load(&r, text, LISTS_DOMAINS, &res), 0);
	assert_int_equal(res.lines, 10);
	assert_int_equal(res.entries, 4);
	assert_int_equal(res.invalid, 3);
	assert_int_equal(res.unsupported, 0);
	assert_int_equal(r.nnames, 4);
	check_name(&r, 0, "example.com", DOMTABLE_BLOCK, DOMTABLE_SUBTREE, 2);
	check_name(&r, 1, "ads.example.net", DOMTABLE_BLOCK, DOMTABLE_SUBTREE,
	    5);
	check_name(&r, 2, "tabbed.example", DOMTABLE_BLOCK, DOMTABLE_SUBTREE,
	    6);
	check_name(&r, 3, "last.example", DOMTABLE_BLOCK, DOMTABLE_SUBTREE, 10);
	assert_int_equal(r.nreports, 3);
	assert_string_equal(r.report[0],
	    "t.txt:7:1: not a domain name: empty label (bad..name)");
	assert_string_equal(r.report[1],
	    "t.txt:8:5: more than one field (two fields)");
	assert_string_equal(r.report[2],
	    "t.txt:9:1: IDN must be in A-label (xn--) form (b\xc3\xbc"
	    "cher.example)");
}

/*
 * A bad line is shown in its report as text fit for a log line: UTF-8
 * whole, what is no UTF-8 (a Latin-1 list) and what acts on a terminal
 * (C1, a right-to-left override) masked, and cut after 60 octets but
 * never inside a character (an e-acute at octets 60 and 61).
 */
static void
test_report_text(void **state)
{
	struct rec		 r;
	struct lists_result	 res;
	static const char	 text[] =
	    "b\xfc" "cher.example\n"
	    "x\xc2\x85y\xe2\x80\xaez.example\n"
	    "a-very-long-name-that-goes-on.and-on.and-on.examples."
	    "bad...\xc3\xa9" "x.example\n"
	    "good.example\nalso.example\nthird.example\n";

	(void)state;
	assert_int_equal(load(&r, text, LISTS_DOMAINS, &res), 0);
	assert_int_equal(res.invalid, 3);
	assert_int_equal(r.nreports, 3);
	assert_string_equal(r.report[0],
	    "t.txt:1:1: IDN must be in A-label (xn--) form (b?cher.example)");
	assert_string_equal(r.report[1],
	    "t.txt:2:1: IDN must be in A-label (xn--) form (x?y?z.example)");
	assert_string_equal(r.report[2],
	    "t.txt:3:1: IDN must be in A-label (xn--) form (a-very-long-name-that-"
	    "goes-on.and-on.and-on.examples.bad...\xc3\xa9...)");
}

/*
 * The column of an invalid line's fault counts characters from the
 * line's first, blanks before it too, a UTF-8 character as one.
 */
static void
test_columns(void **state)
{
	static const struct {
		enum lists_format	 fmt;
		const char		*bad, *good, *want;
	} t[] = {
		{ LISTS_DOMAINS, "   bad..name", "ok.example",
		  "t.txt:1:4: not a domain name: empty label" },
		{ LISTS_HOSTS, "\t0.0.0.0  a.example   b..x", "0.0.0.0 ok.example",
		  "t.txt:1:23: not a domain name: empty label" },
		{ LISTS_DOMAINS, "a.example b.example", "ok.example",
		  "t.txt:1:11: more than one field" },
		{ LISTS_REWRITE, "a.example \xc3\xa9 c.example",
		  "ok.example safe.example", "t.txt:1:13: want \"name target\"" },
		{ LISTS_ADBLOCK, "@@||b..example^", "||ok.example^",
		  "t.txt:1:5: not a domain name: empty label" },
		{ LISTS_IP, "192.0.2.0/24x", "192.0.2.0/24",
		  "t.txt:1:11: bad prefix length" },
	};
	static const char	 nul[] = "\xc3\xa9\0x.example\nok.example\n";
	struct rec		 r;
	struct lists_result	 res;
	struct lists_sink	 sink = { rec_name, rec_rpz, rec_net, rec_report,
				    &r };
	char			 text[256];
	size_t			 i;

	(void)state;
	for (i = 0; i < sizeof t / sizeof t[0]; i++) {
		snprintf(text, sizeof text, "%s\n%s\n%s\n", t[i].bad,
		    t[i].good, t[i].good);
		if (load(&r, text, t[i].fmt, &res) != 0)
			fail_msg("%s: the load failed", t[i].bad);
		check_report(&r, 0, t[i].want);
	}
	memset(&r, 0, sizeof r);
	assert_int_equal(lists_load_mem("t.txt", nul, sizeof nul - 1,
	    LISTS_DOMAINS, &sink, &res), 0);
	check_report(&r, 0, "t.txt:1:2: NUL octet in line");
}

static void
test_domains_bad_lines(void **state)
{
	struct rec		 r;
	struct lists_result	 res;
	char			 buf[6000];
	size_t			 n;

	(void)state;
	/* A NUL octet, a very long line, then three good lines. */
	n = 0;
	memcpy(buf + n, "a\0b.example\n", 12);
	n += 12;
	memset(buf + n, 'x', 5000);
	n += 5000;
	buf[n++] = '\n';
	memcpy(buf + n, "a.example\nb.example\nc.example\n", 30);
	n += 30;
	{
		struct lists_sink sink = { rec_name, NULL, NULL, rec_report,
		    &r };

		memset(&r, 0, sizeof r);
		assert_int_equal(lists_load_mem("t.txt", buf, n, LISTS_DOMAINS,
		    &sink, &res), 0);
	}
	assert_int_equal(res.lines, 5);
	assert_int_equal(res.invalid, 2);
	assert_int_equal(r.nnames, 3);
	check_report(&r, 0, "t.txt:1:2: NUL octet in line (a?b.example)");
	check_report(&r, 1, "t.txt:2:4097: line too long (xxxx");
	assert_true(strlen(r.report[1]) < 100);
}

static void
test_hosts(void **state)
{
	struct rec		 r;
	struct lists_result	 res;
	static const char	 text[] =
	    "# hosts\n"
	    "127.0.0.1 localhost\n"
	    "127.0.0.1\tlocalhost.localdomain local\n"
	    "255.255.255.255 broadcasthost\n"
	    "::1 localhost ip6-localhost ip6-loopback\n"
	    "fe00::0 ip6-localnet\n"
	    "ff02::1 ip6-allnodes\n"
	    "0.0.0.0 0.0.0.0\n"
	    "0.0.0.0 Ads.Example.com tracker.example # trailing\n"
	    "127.0.0.1 one.example\n"
	    ":: six.example\n"
	    "0.0.0.0 good.example bad_*.example\n"
	    "example.com\n"
	    "0.0.0.0\n";

	(void)state;
	assert_int_equal(load(&r, text, LISTS_HOSTS, &res), 0);
	assert_int_equal(r.nnames, 5);
	check_name(&r, 0, "ads.example.com", DOMTABLE_BLOCK, DOMTABLE_SUBTREE,
	    9);
	check_name(&r, 1, "tracker.example", DOMTABLE_BLOCK, DOMTABLE_SUBTREE,
	    9);
	check_name(&r, 2, "one.example", DOMTABLE_BLOCK, DOMTABLE_SUBTREE, 10);
	check_name(&r, 3, "six.example", DOMTABLE_BLOCK, DOMTABLE_SUBTREE, 11);
	check_name(&r, 4, "good.example", DOMTABLE_BLOCK, DOMTABLE_SUBTREE, 12);
	assert_int_equal(res.invalid, 3);
	assert_int_equal(r.nreports, 3);
	check_report(&r, 0, "t.txt:12:22: not a domain name: invalid character");
	check_report(&r, 1, "t.txt:13:1: not an address (example.com)");
	check_report(&r, 2, "t.txt:14:8: no name after the address");
}

static void
test_adblock(void **state)
{
	struct rec		 r;
	struct lists_result	 res;
	static const char	 text[] =
	    "[Adblock Plus 2.0]\n"
	    "! Title: test\n"
	    "||ads.example.com^\n"
	    "@@||good.ads.example.com^\n"
	    "||Tracker.Example^|\n"
	    "plain.example\n"
	    "||opt.example^$third-party\n"
	    "||imp.example^$important\n"
	    "||path.example/ads\n"
	    "||wild*.example^\n"
	    "/ads[0-9]+/\n"
	    "example.com##.banner\n"
	    "example.com#@#.banner\n"
	    "||bad..example^\n"
	    "||a.example^\n"
	    "||b.example^\n"
	    "||c.example^\n"
	    "||d.example^\n";

	(void)state;
	assert_int_equal(load(&r, text, LISTS_ADBLOCK, &res), 0);
	assert_int_equal(r.nnames, 8);
	check_name(&r, 0, "ads.example.com", DOMTABLE_BLOCK, DOMTABLE_SUBTREE,
	    3);
	check_name(&r, 1, "good.ads.example.com", DOMTABLE_PASS,
	    DOMTABLE_SUBTREE, 4);
	check_name(&r, 2, "tracker.example", DOMTABLE_BLOCK, DOMTABLE_SUBTREE,
	    5);
	check_name(&r, 3, "plain.example", DOMTABLE_BLOCK, DOMTABLE_SUBTREE, 6);
	check_name(&r, 4, "a.example", DOMTABLE_BLOCK, DOMTABLE_SUBTREE, 15);
	assert_int_equal(res.unsupported, 7);
	assert_int_equal(res.invalid, 1);
	assert_int_equal(res.entries, 8);
	assert_int_equal(r.nreports, 5);
	assert_string_equal(r.report[0],
	    "t.txt:14:3: not a domain name: empty label (||bad..example^)");
	assert_string_equal(r.report[1],
	    "t.txt: 2 rules with $ options not supported, skipped");
	assert_string_equal(r.report[2], "t.txt: 2 rules with paths, "
	    "wildcards or other patterns not supported, skipped");
	assert_string_equal(r.report[3],
	    "t.txt: 1 regular expression rules not supported, skipped");
	assert_string_equal(r.report[4],
	    "t.txt: 2 element hiding rules not supported, skipped");
}

static void
test_rpz(void **state)
{
	struct rec		 r;
	struct lists_result	 res;
	static const char	 text[] =
	    "$TTL 300\n"
	    "$ORIGIN rpz.example.\n"
	    "@ SOA ns.example. admin.example. (\n"
	    "      1 ; serial\n"
	    "      3600 600 86400 60 )\n"
	    "@ NS ns.example.\n"
	    "; comment\n"
	    "Bad.Example CNAME .\n"
	    "*.bad.example CNAME .\n"
	    "nodata.example CNAME *.\n"
	    "ok.bad.example CNAME rpz-passthru.\n"
	    "redirect.example 60 IN CNAME Walled.Garden.example.\n"
	    "drop.example CNAME rpz-drop.\n"
	    "tcp.example CNAME rpz-tcp-only.\n"
	    "32.1.0.0.127.rpz-ip CNAME .\n"
	    "24.0.2.0.192.rpz-ip CNAME .\n"
	    "ns.evil.rpz-nsdname CNAME .\n"
	    "32.1.0.0.10.rpz-nsip CNAME .\n"
	    "32.2.0.0.10.rpz-client-ip CNAME .\n"
	    "local.example A 192.0.2.1\n"
	    "abs.example.rpz.example. CNAME .\n"
	    "outside.example. CNAME .\n"
	    "x.example CNAME\n";

	(void)state;
	assert_int_equal(load(&r, text, LISTS_RPZ, &res), 0);
	assert_int_equal(r.nnames, 6);
	check_name(&r, 0, "bad.example", 0, DOMTABLE_EXACT, 8);
	assert_int_equal(r.action[0], LISTS_RPZ_NXDOMAIN);
	check_name(&r, 1, "bad.example", 0, DOMTABLE_SUBONLY, 9);
	assert_int_equal(r.action[1], LISTS_RPZ_NXDOMAIN);
	check_name(&r, 2, "nodata.example", 0, DOMTABLE_EXACT, 10);
	assert_int_equal(r.action[2], LISTS_RPZ_NODATA);
	check_name(&r, 3, "ok.bad.example", 0, DOMTABLE_EXACT, 11);
	assert_int_equal(r.action[3], LISTS_RPZ_PASSTHRU);
	check_name(&r, 4, "redirect.example", 0, DOMTABLE_EXACT, 12);
	assert_int_equal(r.action[4], LISTS_RPZ_CNAME);
	assert_string_equal(r.target[4], "walled.garden.example");
	check_name(&r, 5, "abs.example", 0, DOMTABLE_EXACT, 21);
	assert_int_equal(res.entries, 6);
	assert_int_equal(res.unsupported, 8);
	assert_int_equal(res.invalid, 2);

	assert_int_equal(r.nreports, 9);
	check_report(&r, 0, "t.txt:22:1: owner outside the zone");
	check_report(&r, 1, "t.txt:23:1: ");
	assert_string_equal(r.report[2],
	    "t.txt: 2 rpz-ip triggers not supported, skipped");
	assert_string_equal(r.report[3],
	    "t.txt: 1 rpz-nsdname triggers not supported, skipped");
	assert_string_equal(r.report[4],
	    "t.txt: 1 rpz-nsip triggers not supported, skipped");
	assert_string_equal(r.report[5],
	    "t.txt: 1 rpz-client-ip triggers not supported, skipped");
	assert_string_equal(r.report[6],
	    "t.txt: 1 rpz-drop actions not supported, skipped");
	assert_string_equal(r.report[7],
	    "t.txt: 1 rpz-tcp-only actions not supported, skipped");
	assert_string_equal(r.report[8], "t.txt: 1 local data records other "
	    "than CNAME not supported, skipped");
}

/* Without $ORIGIN the SOA owner is the origin; blank owners repeat. */
static void
test_rpz_soa_origin(void **state)
{
	struct rec		 r;
	struct lists_result	 res;
	static const char	 text[] =
	    "rpz.local. 3600 IN SOA ns.local. admin.local. 1 3600 600 "
	    "86400 60\n"
	    "rpz.local. IN NS ns.local.\n"
	    "a.example.rpz.local. CNAME .\n"
	    "b.example CNAME .\n"
	    "\tTXT \"local data\"\n"
	    "*.c.example CNAME other.example.\n";

	(void)state;
	assert_int_equal(load(&r, text, LISTS_RPZ, &res), 0);
	assert_int_equal(r.nnames, 3);
	check_name(&r, 0, "a.example", 0, DOMTABLE_EXACT, 3);
	check_name(&r, 1, "b.example", 0, DOMTABLE_EXACT, 4);
	check_name(&r, 2, "c.example", 0, DOMTABLE_SUBONLY, 6);
	assert_int_equal(r.action[2], LISTS_RPZ_CNAME);
	assert_string_equal(r.target[2], "other.example");
	assert_int_equal(res.unsupported, 1);
	assert_int_equal(res.invalid, 0);
}

/* Zone-file errors: each is one invalid line, the rest still loads. */
static void
test_rpz_errors(void **state)
{
	struct rec		 r;
	struct lists_result	 res;
	static const char	 text[] =
	    "@ CNAME .\n"
	    "$TTL soon\n"
	    "$ORIGIN rpz.\n"
	    "$INCLUDE other.zone\n"
	    "$BOGUS\n"
	    "ok1.x CNAME .\n"
	    "ok2.x CNAME .\n"
	    "ok3.x CNAME .\n"
	    "* CNAME .\n"
	    "b\\.c CNAME .\n"
	    "ok4.x CNAME .\n"
	    "ok5.x CNAME .\n"
	    "ok6.x CNAME .\n"
	    "ok7.x CNAME .\n"
	    "x SOA a. b. ( 1 2 3\n"
	    "  4 5\n";

	(void)state;
	assert_int_equal(load(&r, text, LISTS_RPZ, &res), 0);
	/*
	 * 8 of 16 lines bad (the unclosed record's two lines count as two):
	 * exactly half, still accepted.
	 */
	assert_int_equal(r.nnames, 7);
	check_name(&r, 3, "ok4.x", 0, DOMTABLE_EXACT, 11);
	assert_int_equal(res.unsupported, 1);
	assert_int_equal(res.invalid, 7);
	check_report(&r, 0, "t.txt:1:1: \"@\" without $ORIGIN or SOA");
	check_report(&r, 1, "t.txt:2:6: bad $TTL");
	check_report(&r, 2, "t.txt:5:1: unknown directive");
	check_report(&r, 3, "t.txt:9:1: the root cannot be listed");
	check_report(&r, 4, "t.txt:10:1: not a domain name: invalid character");
	check_report(&r, 5, "t.txt:15:1: unbalanced parentheses");
	assert_string_equal(r.report[6],
	    "t.txt: 1 $INCLUDE or $GENERATE directives not supported, skipped");
}

/*
 * A stray "(" swallows every later line into one record: each of those
 * lines counts as invalid, so the file is rejected, not loaded with one
 * entry.
 */
static void
test_rpz_stray_paren(void **state)
{
	struct rec		 r;
	struct lists_result	 res;
	char			*text, *p;
	size_t			 i, cap = 64 * 1024;

	(void)state;
	assert_non_null(text = malloc(cap));
	p = text + snprintf(text, cap, "$ORIGIN rpz.\ngood0.x CNAME .\n"
	    "bad.x CNAME ( .\n");
	for (i = 1; i <= 1000; i++)
		p += snprintf(p, cap - (size_t)(p - text),
		    "good%zu.x CNAME .\n", i);
	assert_int_equal(load(&r, text, LISTS_RPZ, &res), -1);
	assert_int_equal(r.nnames, 1);
	assert_true(res.invalid >= 1001);
	check_report(&r, 0, "t.txt:3:1: ");
	free(text);
}

/*
 * The zone is the SOA owner: a later $ORIGIN only expands relative names;
 * a CNAME to the trigger itself is the old form of PASSTHRU.
 */
static void
test_rpz_zone_apex(void **state)
{
	struct rec		 r;
	struct lists_result	 res;
	static const char	 text[] =
	    "$ORIGIN rpz.example.\n"
	    "@ SOA localhost. root.localhost. 1 3600 600 86400 60\n"
	    "  NS localhost.\n"
	    "$ORIGIN example.com.rpz.example.\n"
	    "www CNAME .\n"
	    "@ CNAME *.\n"
	    "ok.tracker CNAME ok.tracker.example.com.rpz.example.\n";

	(void)state;
	assert_int_equal(load(&r, text, LISTS_RPZ, &res), 0);
	assert_int_equal(res.invalid, 0);
	assert_int_equal(r.nnames, 3);
	check_name(&r, 0, "www.example.com", 0, DOMTABLE_EXACT, 5);
	assert_int_equal(r.action[0], LISTS_RPZ_NXDOMAIN);
	check_name(&r, 1, "example.com", 0, DOMTABLE_EXACT, 6);
	assert_int_equal(r.action[1], LISTS_RPZ_NODATA);
	check_name(&r, 2, "ok.tracker.example.com", 0, DOMTABLE_EXACT, 7);
	assert_int_equal(r.action[2], LISTS_RPZ_PASSTHRU);
}

/* rewrite: "name target" lines, given to the sink as exact RPZ CNAMEs. */
static void
test_rewrite(void **state)
{
	struct rec		 r;
	struct lists_result	 res;

	(void)state;
	assert_int_equal(load(&r, "\xef\xbb\xbf# safe search\n"
	    "www.Google.NL forcesafesearch.google.com.\r\n"
	    "\n"
	    "  bing.com\tstrict.bing.com   # trailing comment\n"
	    "only.example\n"
	    "a.example b.example c.example\n"
	    "bad!.example safe.example\n"
	    "ok.example x..example\n"
	    "c.example d.example\n"
	    "e.example f.example\n"
	    "g.example h.example\n", LISTS_REWRITE, &res), 0);
	assert_int_equal(res.lines, 11);
	assert_int_equal(res.entries, 5);
	assert_int_equal(res.invalid, 4);
	assert_int_equal(r.nnames, 5);
	assert_string_equal(r.name[0], "www.google.nl");
	assert_int_equal(r.match[0], DOMTABLE_EXACT);
	assert_int_equal(r.action[0], LISTS_RPZ_CNAME);
	assert_string_equal(r.target[0], "forcesafesearch.google.com");
	assert_int_equal(r.line[0], 2);
	assert_string_equal(r.name[1], "bing.com");
	assert_string_equal(r.target[1], "strict.bing.com");
	assert_int_equal(r.line[1], 4);
	assert_int_equal(r.line[4], 11);
	assert_int_equal(r.nreports, 4);
	check_report(&r, 0, "t.txt:5:13: want \"name target\" (only.example)");
	check_report(&r, 1, "t.txt:6:21: want \"name target\" (a.example");
	check_report(&r, 2, "t.txt:7:1: not a domain name: invalid character");
	check_report(&r, 3, "t.txt:8:12: not a domain name: empty label");

	/* Mostly bad is rejected as any list is. */
	assert_int_equal(load(&r, "a.example\nb.example\n", LISTS_REWRITE,
	    &res), -1);
	check_report(&r, 2, "t.txt: mostly invalid (2 of 2 lines)");
}

static void
test_ip(void **state)
{
	struct rec		 r;
	struct lists_result	 res;
	static const uint8_t	 v6[16] = { 0x20, 0x01, 0x0d, 0xb8 };
	static const char	 text[] =
	    "# ip list\n"
	    "192.0.2.1\n"
	    "198.51.100.0/24 # test net\n"
	    "2001:db8::/32\n"
	    "::1\n"
	    "192.0.2.0/24\n"
	    "192.0.2.1/24\n"
	    "10.0.0.0/33\n"
	    "2001:db8::/129\n"
	    "10.0.0.0/\n"
	    "10.0.0.0/+8\n"
	    "not-an-address\n"
	    "10.1.0.0/16\n"
	    "10.2.0.0/16\n"
	    "10.3.0.0/16\n"
	    "0.0.0.0/0\n"
	    "::/0\n"
	    "10.4.0.0/16\n"
	    "10.5.0.0/16\n";

	(void)state;
	assert_int_equal(load(&r, text, LISTS_IP, &res), 0);
	assert_int_equal(r.nnets, 10);
	assert_int_equal(r.net[0].family, AF_INET);
	assert_int_equal(r.net[0].prefix, 32);
	assert_memory_equal(r.net[0].addr, "\xc0\x00\x02\x01", 4);
	assert_int_equal(r.netline[0], 2);
	assert_int_equal(r.net[1].prefix, 24);
	assert_memory_equal(r.net[1].addr, "\xc6\x33\x64\x00", 4);
	assert_int_equal(r.net[2].family, AF_INET6);
	assert_int_equal(r.net[2].prefix, 32);
	assert_memory_equal(r.net[2].addr, v6, 16);
	assert_int_equal(r.net[3].family, AF_INET6);
	assert_int_equal(r.net[3].prefix, 128);
	assert_int_equal(r.net[4].prefix, 24);
	assert_int_equal(r.netline[4], 6);
	assert_int_equal(res.invalid, 8);
	assert_int_equal(r.nreports, 8);
	assert_string_equal(r.report[0],
	    "t.txt:7:1: host bits set (192.0.2.1/24)");
	check_report(&r, 1, "t.txt:8:10: bad prefix length");
	check_report(&r, 2, "t.txt:9:12: bad prefix length");
	check_report(&r, 3, "t.txt:10:10: bad prefix length");
	check_report(&r, 4, "t.txt:11:10: bad prefix length");
	check_report(&r, 5, "t.txt:12:1: not an address or network");
	/* Every address would block every answer: a slip, not a rule. */
	check_report(&r, 6, "t.txt:16:9: every IPv4 address: it would block "
	    "every answer (0.0.0.0/0)");
	check_report(&r, 7, "t.txt:17:4: every IPv6 address: it would block "
	    "every answer (::/0)");
}

static void
test_mostly_garbage(void **state)
{
	struct rec		 r;
	struct lists_result	 res;

	(void)state;
	/* Exactly half bad: accepted. */
	assert_int_equal(load(&r, "# c\na.example\nb..x\n\nc.example\n"
	    "*.x\n", LISTS_DOMAINS, &res), 0);
	assert_int_equal(r.nnames, 2);
	assert_int_equal(r.nreports, 2);

	/* One more bad than good: rejected. */
	assert_int_equal(load(&r, "a.example\nb..x\n*.x\n",
	    LISTS_DOMAINS, &res), -1);
	assert_int_equal(r.nreports, 3);
	assert_string_equal(r.report[2],
	    "t.txt: mostly invalid (2 of 3 lines), list rejected");

	/* Unsupported lines count too. */
	assert_int_equal(load(&r, "||a.example^\n||b.example^$third-party\n"
	    "||c/d\n", LISTS_ADBLOCK, &res), -1);
	assert_int_equal(res.unsupported, 2);
	check_report(&r, r.nreports - 1, "t.txt: mostly invalid (2 of 3");

	/* Empty, or only comments: loads, with a warning that it is empty. */
	assert_int_equal(load(&r, "", LISTS_DOMAINS, &res), 0);
	assert_int_equal(res.lines, 0);
	assert_int_equal(r.nreports, 1);
	check_report(&r, 0, "t.txt: warning: no entries");
	assert_int_equal(load(&r, "# nothing\n\n", LISTS_HOSTS, &res), 0);
	assert_int_equal(r.nreports, 1);
	check_report(&r, 0, "t.txt: warning: no entries");
	assert_int_equal(load(&r, "; nothing\n", LISTS_RPZ, &res), 0);
	assert_int_equal(r.nreports, 1);
}

static void
test_report_cap(void **state)
{
	struct rec		 r;
	struct lists_result	 res;
	char			 text[4096];
	size_t			 i, n = 0;

	(void)state;
	for (i = 0; i < 30; i++)
		n += (size_t)snprintf(text + n, sizeof text - n,
		    "bad..%zu\n", i);
	for (i = 0; i < 30; i++)
		n += (size_t)snprintf(text + n, sizeof text - n,
		    "good%zu.example\n", i);
	assert_int_equal(load(&r, text, LISTS_DOMAINS, &res), 0);
	assert_int_equal(res.invalid, 30);
	assert_int_equal(r.nnames, 30);
	assert_int_equal(r.nreports, LISTS_MAX_REPORTS + 1);
	check_report(&r, 0, "t.txt:1:1: ");
	check_report(&r, LISTS_MAX_REPORTS - 1, "t.txt:20:1: ");
	assert_string_equal(r.report[LISTS_MAX_REPORTS],
	    "t.txt: 10 more invalid lines not shown");
}

static void
test_sink_fails(void **state)
{
	struct rec		 r;
	struct lists_result	 res;

	(void)state;
	rec_fail = 1;
	assert_int_equal(load(&r, "a.example\nb.example\n", LISTS_DOMAINS,
	    &res), -1);
	rec_fail = 0;
	assert_int_equal(r.nreports, 1);
	check_report(&r, 0, "t.txt:1: ");
}

/* Write text to a new temporary file; its path in path. */
static void
scan_file(char *path, const char *text, size_t pad)
{
	FILE	*f;
	size_t	 i;
	int	 fd;

	strcpy(path, "/tmp/test_lists.XXXXXX");
	assert_true((fd = mkstemp(path)) != -1);
	assert_non_null(f = fdopen(fd, "w"));
	/* pad names first, to carry the text across read() blocks. */
	for (i = 0; i < pad; i++)
		fprintf(f, "n%zu.pad.example\n", i);
	fputs(text, f);
	fclose(f);
}

/* What lists_sample() gave: names counted, and checked against the file. */
struct smp {
	size_t	n;		/* names */
	size_t	replaced;	/* of them r<i>.test */
	size_t	first;		/* the line of the first name */
	size_t	nums;		/* the numbers of their names, summed */
	size_t	reports;
	size_t	reverse;	/* 0, or the lines of a file upside down */
};

/*
 * Sink of the sample: every name is "n<line>.test" or "r<line>.test" (of
 * the line it was written for, in a file upside down).
 */
static int
smp_name(void *arg, const uint8_t *lname, size_t len, enum domtable_kind kind,
    enum domtable_match match, uint32_t line)
{
	struct smp	*m = arg;
	char		 text[REC_TEXT], want[REC_TEXT];
	size_t		 num;

	(void)kind;
	(void)match;
	rec_text(lname, len, text);
	num = m->reverse ? m->reverse + 1 - line : line;
	snprintf(want, sizeof want, "%c%zu.test", text[0], num);
	assert_string_equal(text, want);
	if (m->n++ == 0)
		m->first = line;
	m->replaced += text[0] == 'r';
	m->nums += num;
	return (0);
}

static void
smp_report(void *arg, const char *msg)
{
	struct smp	*m = arg;

	(void)msg;
	m->reports++;
}

/*
 * lines lines: a comment first, then "n<line>.test", or "r<line>.test"
 * on every fourth line, or a bad line on every tenth; the last without
 * its newline when cut. In order, or from the last line up.
 */
static void
smp_file(char *path, size_t lines, int cut, int reverse)
{
	FILE	*f;
	size_t	 i, l;
	int	 fd;

	strcpy(path, "/tmp/test_lists.XXXXXX");
	assert_true((fd = mkstemp(path)) != -1);
	assert_non_null(f = fdopen(fd, "w"));
	for (i = 1; i <= lines; i++) {
		l = reverse ? lines + 1 - i : i;
		if (l == 1)
			fputs("# the sample's comment line", f);
		else if (l % 10 == 0)
			fputs("bad..name", f);
		else
			fprintf(f, "%c%zu.test", l % 4 == 0 ? 'r' : 'n', l);
		if (i < lines || !cut)
			fputc('\n', f);
	}
	fclose(f);
}

/*
 * lists_sample(): every line counted (as lists_lines() does), and about
 * one in 16 of the entry lines parsed, each with its own line number,
 * picked by its text: every fourth line is sampled at that rate too, and
 * the lines are picked wherever they stand. Nothing reported, however
 * bad the lines sampled; an RPZ list not sampled.
 */
static void
test_sample(void **state)
{
	struct lists_sink	sink;
	struct smp		m, m2;
	char			path[32];
	size_t			lines = 16000;

	(void)state;
	memset(&sink, 0, sizeof sink);
	sink.name = smp_name;
	sink.report = smp_report;
	memset(&m, 0, sizeof m);
	sink.arg = &m;
	smp_file(path, lines, 0, 0);
	assert_int_equal(lists_sample(path, LISTS_DOMAINS, &sink),
	    (long)lines);
	assert_int_equal(lists_lines(path), (long)lines);
	unlink(path);
	/* 14,399 names: 900 expected, give or take 29. */
	assert_true(m.n > 800 && m.n < 1000);
	/* 3200 of them r<i>: 200, give or take 14. */
	assert_true(m.replaced > 150 && m.replaced < 250);
	assert_true(m.first < 200);
	assert_int_equal(m.reports, 0);

	/* The same lines from the last up: the same ones picked. */
	memset(&m2, 0, sizeof m2);
	m2.reverse = lines;
	sink.arg = &m2;
	smp_file(path, lines, 1, 1);
	assert_int_equal(lists_sample(path, LISTS_DOMAINS, &sink),
	    (long)lines);
	assert_int_equal(lists_lines(path), (long)lines);
	unlink(path);
	assert_int_equal(m2.n, m.n);
	assert_int_equal(m2.replaced, m.replaced);
	assert_int_equal(m2.nums, m.nums);
	assert_int_equal(m2.reports, 0);

	/* RPZ is counted, not sampled. */
	memset(&m2, 0, sizeof m2);
	smp_file(path, lines, 0, 0);
	assert_int_equal(lists_sample(path, LISTS_RPZ, &sink), (long)lines);
	unlink(path);
	assert_int_equal(m2.n, 0);
	assert_int_equal(m2.reports, 0);
	assert_int_equal(lists_sample("/nonexistent/list.txt", LISTS_DOMAINS,
	    &sink), -1);
	assert_int_equal(m2.reports, 0);
	scan_file(path, "", 0);
	assert_int_equal(lists_sample(path, LISTS_DOMAINS, &sink), 0);
	assert_int_equal(lists_lines(path), 0);
	unlink(path);
}

/* A sink that sums what it is given: names, and their octets. */
static int
sum_name(void *arg, const uint8_t *lname, size_t len,
    enum domtable_kind kind, enum domtable_match match, uint32_t line)
{
	size_t	*sum = arg, i;

	(void)kind;
	(void)match;
	(void)line;
	sum[0]++;
	for (i = 0; i < len; i++)
		sum[1] += lname[i] * (i + 1);
	return (0);
}

/*
 * pad names after a comment line of skew octets, then text: the sums of
 * lists_sample() in sum; its count returned.
 */
static long
sum_sample(size_t pad, size_t skew, const char *text, size_t *sum)
{
	struct lists_sink	 sink;
	char			 path[32], *comment;
	FILE			*f;
	size_t			 i;
	long			 n;
	int			 fd;

	memset(&sink, 0, sizeof sink);
	sink.name = sum_name;
	sink.arg = sum;
	sum[0] = sum[1] = 0;
	assert_non_null(comment = malloc(skew + 2));
	memset(comment, 'c', skew + 1);
	comment[0] = '#';
	comment[skew + 1] = '\0';
	strcpy(path, "/tmp/test_lists.XXXXXX");
	assert_true((fd = mkstemp(path)) != -1);
	assert_non_null(f = fdopen(fd, "w"));
	fprintf(f, "%s\n", comment);
	for (i = 0; i < pad; i++)
		fprintf(f, "n%zu.pad.example\n", i);
	fputs(text, f);
	fclose(f);
	free(comment);
	n = lists_sample(path, LISTS_DOMAINS, &sink);
	assert_int_equal(lists_lines(path), n);
	unlink(path);
	return (n);
}

/*
 * lists_lines() and lists_sample(): every line, wherever the read()
 * blocks end; a last line without its newline counts. The sample is the
 * same lines wherever the blocks cut them; a line longer than a block
 * is counted, never sampled.
 */
static void
test_lines(void **state)
{
	char	path[32], *text;
	size_t	pad, skew, sum[2], want[2];

	(void)state;
	/* 3702 pad lines are 65,526 octets: lines across 64 KiB too. */
	for (pad = 3697; pad < 3708; pad++) {
		scan_file(path, "# a comment across the block\na.test\n", pad);
		assert_int_equal(lists_lines(path), (long)pad + 2);
		unlink(path);
		scan_file(path, "# a comment across the block\na.test", pad);
		assert_int_equal(lists_lines(path), (long)pad + 2);
		unlink(path);
	}
	assert_int_equal(lists_lines("/nonexistent/list.txt"), -1);

	assert_int_equal(sum_sample(20000, 0, "", want), 20001);
	assert_true(want[0] > 1000 && want[0] < 1500);
	for (skew = 1; skew < 40; skew += 3) {
		assert_int_equal(sum_sample(20000, skew, "", sum), 20001);
		assert_int_equal(sum[0], want[0]);
		assert_int_equal(sum[1], want[1]);
	}
	assert_non_null(text = malloc(70010));
	memset(text, 'x', 70000);
	strcpy(text + 70000, "\nb.test");
	assert_int_equal(sum_sample(0, 0, text, sum), 3);
	assert_int_equal(sum_sample(0, 70000, "", sum), 1);
	free(text);
}

static void
test_files(void **state)
{
	struct lists_sink	 sink;
	struct rec		 r;
	struct lists_result	 res;
	char			 path[] = "/tmp/test_lists.XXXXXX", want[300];
	FILE			*f;
	int			 fd;

	(void)state;
	memset(&r, 0, sizeof r);
	memset(&sink, 0, sizeof sink);
	sink.name = rec_name;
	sink.report = rec_report;
	sink.arg = &r;

	assert_int_equal(lists_load("/nonexistent/list.txt", LISTS_DOMAINS,
	    &sink, &res), -1);
	assert_int_equal(r.nreports, 1);
	assert_string_equal(r.report[0],
	    "/nonexistent/list.txt: No such file or directory");

	memset(&r, 0, sizeof r);
	assert_true((fd = mkstemp(path)) != -1);
	assert_non_null(f = fdopen(fd, "w"));
	fputs("0.0.0.0 one.example two.example\r\n# c\n"
	    "0.0.0.0 bad..example\n127.0.0.1 three.example", f);
	fclose(f);
	/* Four lines, the last without a newline. */
	assert_int_equal(lists_lines(path), 4);
	assert_int_equal(lists_load(path, LISTS_HOSTS, &sink, &res), 0);
	/* The file is what the load read until it changes. */
	assert_int_equal(lists_file_same(path, &res.id), 1);
	assert_non_null(f = fopen(path, "a"));
	fputs("\n", f);
	fclose(f);
	assert_int_equal(lists_file_same(path, &res.id), 0);
	assert_int_equal(lists_lines(path), 4);
	unlink(path);
	assert_int_equal(lists_file_same(path, &res.id), 0);
	assert_int_equal(lists_lines(path), -1);
	assert_int_equal(res.lines, 4);
	assert_int_equal(r.nnames, 3);
	check_name(&r, 0, "one.example", 0, 0, 1);
	check_name(&r, 1, "two.example", 0, 0, 1);
	check_name(&r, 2, "three.example", 0, 0, 4);
	snprintf(want, sizeof want, "%s:3:9: not a domain name: empty label "
	    "(0.0.0.0 bad..example)", path);
	assert_int_equal(r.nreports, 1);
	assert_string_equal(r.report[0], want);
}

/*
 * Names no list may hold, in every format: one label (a top-level
 * domain would block all of it), an IPv4 address or a last label of
 * digits (no top-level domain is numeric), and an xn-- label that is no
 * Punycode of a name that is not ASCII. Each an invalid line, reported
 * and not loaded; the good line beside it loads.
 */
static void
test_entry_names(void **state)
{
	static const struct {
		enum lists_format	 fmt;
		const char		*head, *bad, *good, *why;
	} t[] = {
		{ LISTS_DOMAINS, "", "com", "ok.example",
		  "a top-level domain: it would cover every name under it" },
		{ LISTS_DOMAINS, "", "1.2.3.4", "ok.example",
		  "not a domain name: an IPv4 address" },
		{ LISTS_DOMAINS, "", "example.123", "123.example",
		  "not a domain name: its last label is all digits" },
		{ LISTS_DOMAINS, "", "xn--abc-.example", "xn--bcher-kva.example",
		  "not a domain name: an xn-- label that is no Punycode" },
		{ LISTS_DOMAINS, "", "xn--zz.example", "xn--ls8h.example",
		  "not a domain name: an xn-- label that is no Punycode" },
		{ LISTS_DOMAINS, "", "a.xn--99999999999", "xn--tda.example",
		  "not a domain name: an xn-- label that is no Punycode" },
		{ LISTS_DOMAINS, "", "xn--.example", "xn--mnchen-3ya.example",
		  "not a domain name: an xn-- label that is no Punycode" },
		{ LISTS_HOSTS, "", "0.0.0.0 intranet", "0.0.0.0 ok.example",
		  "a top-level domain" },
		{ LISTS_HOSTS, "", "0.0.0.0 10.0.0.1", "0.0.0.0 ok.example",
		  "not a domain name: an IPv4 address" },
		{ LISTS_ADBLOCK, "", "||com^", "||ok.example^",
		  "a top-level domain" },
		{ LISTS_ADBLOCK, "", "nl", "ok.example",
		  "a top-level domain" },
		{ LISTS_ADBLOCK, "", "||192.0.2.1^", "||ok.example^",
		  "not a domain name: an IPv4 address" },
		{ LISTS_RPZ, "$ORIGIN rpz.\n", "com CNAME .",
		  "ok.example CNAME .", "a top-level domain" },
		{ LISTS_RPZ, "$ORIGIN rpz.\n", "*.com CNAME .",
		  "*.ok.example CNAME .", "a top-level domain" },
		{ LISTS_RPZ, "$ORIGIN rpz.\n", "1.2.3.4 CNAME .",
		  "ok.example CNAME .", "not a domain name: an IPv4 address" },
		{ LISTS_RPZ, "$ORIGIN rpz.\n", "xn--abc-.example CNAME .",
		  "xn--bcher-kva.example CNAME .",
		  "not a domain name: an xn-- label" },
	};
	struct rec		 r;
	struct lists_result	 res;
	char			 text[256], want[256];
	size_t			 i, line;
	unsigned		 col;

	(void)state;
	for (i = 0; i < sizeof t / sizeof t[0]; i++) {
		snprintf(text, sizeof text, "%s%s\n%s\n", t[i].head, t[i].bad,
		    t[i].good);
		line = *t[i].head != '\0' ? 2 : 1;
		if (load(&r, text, t[i].fmt, &res) != 0)
			fail_msg("%s: the load failed", t[i].bad);
		assert_int_equal(res.invalid, 1);
		assert_int_equal(r.nnames, 1);
		/* The column of the name: after a hosts line's address or
		   an adblock rule's "||". */
		col = t[i].fmt == LISTS_HOSTS ? 9 :
		    strncmp(t[i].bad, "||", 2) == 0 ? 3 : 1;
		snprintf(want, sizeof want, "t.txt:%zu:%u: %s", line, col,
		    t[i].why);
		check_report(&r, 0, want);
	}
}

/*
 * A list written in place while it is read (tdir_change_on_read()): the
 * load fails with res.changed set and a report naming the file, for the
 * caller to read it again (listset.c, test_listset). Not when unchanged.
 */
static void
test_changed_while_read(void **state)
{
	struct lists_sink	 sink;
	struct rec		 r;
	struct lists_result	 res;
	struct tdir		 d;
	char			 path[256], want[400];

	(void)state;
	memset(&r, 0, sizeof r);
	memset(&sink, 0, sizeof sink);
	sink.name = rec_name;
	sink.report = rec_report;
	sink.arg = &r;
	tdir_new(&d, "test_lists", NULL);
	tdir_write(&d, "l.txt", "a.test\nb.test\n");
	tdir_path(&d, "l.txt", path, sizeof path);
	assert_int_equal(lists_load(path, LISTS_DOMAINS, &sink, &res), 0);
	assert_int_equal(res.changed, 0);
	assert_int_equal(r.nreports, 0);

	memset(&r, 0, sizeof r);
	tdir_change_on_read(&d, "l.txt", "c.test\n", 1);
	assert_int_equal(lists_load(path, LISTS_DOMAINS, &sink, &res), -1);
	assert_int_equal(res.changed, 1);
	snprintf(want, sizeof want, "%s: changed while being read; write a "
	    "new file and rename it into place", path);
	assert_int_equal(r.nreports, 1);
	assert_string_equal(r.report[0], want);
	/* Read again, it is what was written. */
	memset(&r, 0, sizeof r);
	assert_int_equal(lists_load(path, LISTS_DOMAINS, &sink, &res), 0);
	assert_int_equal(res.changed, 0);
	assert_int_equal(r.nnames, 1);
	check_name(&r, 0, "c.test", 0, 0, 1);
	tdir_free(&d);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_format_names),
		cmocka_unit_test(test_name),
		cmocka_unit_test(test_name_limits),
		cmocka_unit_test(test_domains),
		cmocka_unit_test(test_report_text),
		cmocka_unit_test(test_columns),
		cmocka_unit_test(test_domains_bad_lines),
		cmocka_unit_test(test_hosts),
		cmocka_unit_test(test_adblock),
		cmocka_unit_test(test_rpz),
		cmocka_unit_test(test_rpz_soa_origin),
		cmocka_unit_test(test_rpz_errors),
		cmocka_unit_test(test_rpz_stray_paren),
		cmocka_unit_test(test_rpz_zone_apex),
		cmocka_unit_test(test_rewrite),
		cmocka_unit_test(test_ip),
		cmocka_unit_test(test_mostly_garbage),
		cmocka_unit_test(test_report_cap),
		cmocka_unit_test(test_sink_fails),
		cmocka_unit_test(test_sample),
		cmocka_unit_test(test_lines),
		cmocka_unit_test(test_files),
		cmocka_unit_test(test_changed_while_read),
		cmocka_unit_test(test_entry_names),
	};

	return (cmocka_run_group_tests(tests, NULL, NULL));
}
