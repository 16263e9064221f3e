/*
 * lists.c: reading category list files (domains, hosts, adblock, RPZ, IP)
 * and the safe-search table (rewrite).
 *
 * Every format goes through the same line reader: a file is read with
 * getline() and a buffer is cut at '\n', so nothing is held twice; each
 * line then loses a UTF-8 BOM (first line only), its CR and trailing
 * whitespace, is checked for NUL octets and length, and is handed to the
 * format's parser. RPZ records may span lines inside parentheses; those
 * lines are joined before ldns parses the record, so that ldns does the
 * zone-file syntax ($ORIGIN, $TTL, relative names, the previous owner)
 * and we keep the line numbers and text for reports.
 *
 * Invalid lines are reported one by one (up to LISTS_MAX_REPORTS);
 * unsupported syntax is only counted per kind and summed up at the end.
 */

#include <sys/types.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <ldns/ldns.h>

#include "lists.h"
#include "log.h"
#include "wire.h"

#define LISTS_MAX_LINE		4096	/* octets; a longer line is invalid */
#define LISTS_MAX_RECORD	8192	/* octets of a joined RPZ record */
#define LISTS_TEXT_CUT		60	/* octets of a line shown in a report */
#define LISTS_MSG_LEN		1024
#define LISTS_K1		0x9e3779b97f4a7c15ULL
#define LISTS_K2		0xff51afd7ed558ccdULL

/* Kinds of unsupported syntax, counted and reported once per file. */
enum lists_unsup {
	LISTS_UNSUP_OPTIONS = 0,
	LISTS_UNSUP_PATTERN,
	LISTS_UNSUP_REGEX,
	LISTS_UNSUP_COSMETIC,
	LISTS_UNSUP_RPZ_IP,
	LISTS_UNSUP_RPZ_NSDNAME,
	LISTS_UNSUP_RPZ_NSIP,
	LISTS_UNSUP_RPZ_CLIENT_IP,
	LISTS_UNSUP_RPZ_DROP,
	LISTS_UNSUP_RPZ_TCP_ONLY,
	LISTS_UNSUP_RPZ_DATA,
	LISTS_UNSUP_RPZ_DIRECTIVE,
	LISTS_UNSUP_MAX
};

static const char *lists_unsup_names[LISTS_UNSUP_MAX] = {
	"rules with $ options",
	"rules with paths, wildcards or other patterns",
	"regular expression rules",
	"element hiding rules",
	"rpz-ip triggers",
	"rpz-nsdname triggers",
	"rpz-nsip triggers",
	"rpz-client-ip triggers",
	"rpz-drop actions",
	"rpz-tcp-only actions",
	"local data records other than CNAME",
	"$INCLUDE or $GENERATE directives",
};

/* The state of one load. */
struct lists_ctx {
	const char		*name;	/* file name for reports */
	enum lists_format	 fmt;
	const struct lists_sink	*sink;
	struct lists_result	*res;
	size_t			 content; /* lines neither blank nor comment */
	size_t			 reported;
	size_t			 hidden; /* invalid lines not reported */
	int			 failed; /* the sink failed */
	size_t			 unsup[LISTS_UNSUP_MAX];
	char			 line[LISTS_MAX_LINE + 1];

	/* RPZ: the record being joined and the zone-file state. */
	char			*rec;
	size_t			 reclen;
	int			 depth;	/* open parentheses */
	uint32_t		 recline; /* line the record started on */
	size_t			 reclines; /* lines joined into it */
	int			 recbad; /* the record is too long */
	ldns_rdf		*origin; /* for relative names: $ORIGIN */
	ldns_rdf		*apex;	/* the zone: the SOA owner, or the
					   first $ORIGIN before any SOA */
	int			 have_soa;
	ldns_rdf		*prev;
	uint32_t		 ttl;
};

static const struct {
	const char		*name;
	enum lists_format	 fmt;
	int			 internal; /* not for veiligd.yaml */
} lists_formats[] = {
	{ "domains", LISTS_DOMAINS, 0 },
	{ "hosts", LISTS_HOSTS, 0 },
	{ "adblock", LISTS_ADBLOCK, 0 },
	{ "rpz", LISTS_RPZ, 0 },
	{ "ip", LISTS_IP, 0 },
	{ "rewrite", LISTS_REWRITE, 1 },
};
#define LISTS_NFORMATS	(sizeof lists_formats / sizeof lists_formats[0])

/* Names of a hosts file itself, skipped silently in hosts lists. */
static const char *lists_hosts_skip[] = {
	"localhost",
	"localhost.localdomain",
	"local",
	"broadcasthost",
	"0.0.0.0",
};

int
lists_format_parse(const char *name, enum lists_format *fmt)
{
	size_t	i;

	for (i = 0; i < LISTS_NFORMATS; i++) {
		if (!lists_formats[i].internal &&
		    strcmp(name, lists_formats[i].name) == 0) {
			*fmt = lists_formats[i].fmt;
			return (0);
		}
	}
	return (-1);
}

const char *
lists_format_name(enum lists_format fmt)
{
	size_t	i;

	for (i = 0; i < LISTS_NFORMATS; i++) {
		if (lists_formats[i].fmt == fmt)
			return (lists_formats[i].name);
	}
	return ("unknown");
}

/* Whether c may be in a label: letters, digits, '-' and '_'. */
static int
lists_label_char(unsigned char c)
{
	return ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9') || c == '-' || c == '_');
}

/* Check the octets of a label (or of name text with dots); NULL if fine. */
static const char *
lists_label_check(const uint8_t *p, size_t len, int dots)
{
	const char	*why = NULL;
	size_t		 i;

	for (i = 0; i < len; i++) {
		if (p[i] >= 0x80)
			return ("IDN must be in A-label (xn--) form");
		if (dots && p[i] == '.')
			continue;
		if (!lists_label_char(p[i]) && why == NULL)
			why = "not a domain name: invalid character";
	}
	return (why);
}

int
lists_name(const char *text, size_t len, uint8_t *out, size_t *outlen,
    const char **why)
{
	const uint8_t	*p = (const uint8_t *)text;
	size_t		 i, start, pos = 0, n;

	*outlen = 0;
	if (len == 0) {
		*why = "not a domain name: empty";
		return (-1);
	}
	if (len == 1 && p[0] == '.') {
		*why = "the root cannot be listed";
		return (-1);
	}
	if (p[len - 1] == '.')
		len--;

	/* Characters first: that is the most useful reason to give. */
	if ((*why = lists_label_check(p, len, 1)) != NULL)
		return (-1);

	/* Labels, each length octet then the label folded to lower case. */
	start = 0;
	for (i = 0; i <= len; i++) {
		if (i < len && p[i] != '.')
			continue;
		n = i - start;
		if (n == 0) {
			*why = "not a domain name: empty label";
			return (-1);
		}
		if (n > WIRE_MAX_LABEL) {
			*why = "not a domain name: label longer than 63";
			return (-1);
		}
		if (pos + 1 + n + 1 > WIRE_MAX_NAME) {
			*why = "not a domain name: longer than 255 octets";
			return (-1);
		}
		out[pos++] = (uint8_t)n;
		wire_lower(out + pos, p + start, n);
		pos += n;
		start = i + 1;
	}
	out[pos++] = 0;
	*outlen = pos;
	return (0);
}

/*
 * Punycode (RFC 3492, section 6.2) in the amount needed to check a label:
 * libidn2 has a decoder, but not in its API, and its IDNA2008 lookup
 * would refuse labels that registries do sell (emoji), which lists do
 * block.
 */
#define LISTS_PUNY_BASE		36
#define LISTS_PUNY_TMIN		1
#define LISTS_PUNY_TMAX		26
#define LISTS_PUNY_SKEW		38
#define LISTS_PUNY_DAMP		700

/* The bias after a delta (RFC 3492, 6.1). */
static uint32_t
lists_puny_adapt(uint32_t delta, uint32_t points, int first)
{
	uint32_t	k = 0;

	delta = first ? delta / LISTS_PUNY_DAMP : delta / 2;
	delta += delta / points;
	for (; delta > ((LISTS_PUNY_BASE - LISTS_PUNY_TMIN) *
	    LISTS_PUNY_TMAX) / 2; k += LISTS_PUNY_BASE)
		delta /= LISTS_PUNY_BASE - LISTS_PUNY_TMIN;
	return (k + (LISTS_PUNY_BASE - LISTS_PUNY_TMIN + 1) * delta /
	    (delta + LISTS_PUNY_SKEW));
}

/* The value of a Punycode digit, or -1. */
static int
lists_puny_digit(uint8_t c)
{
	if (c >= 'a' && c <= 'z')
		return (c - 'a');
	if (c >= 'A' && c <= 'Z')
		return (c - 'A');
	if (c >= '0' && c <= '9')
		return (c - '0' + 26);
	return (-1);
}

/*
 * Whether s (n octets, what follows "xn--" in a label) decodes as
 * Punycode to text with at least one character that is not ASCII (a
 * label all ASCII would be written as itself), each a Unicode scalar
 * value. Only the insertions are followed, not the text they make.
 */
static int
lists_puny_valid(const uint8_t *s, size_t n)
{
	uint32_t	i = 0, code = 0x80, bias = 72, oldi, w, k, t;
	size_t		in = 0, out = 0, j;
	int		digit, inserted = 0;

	/* The basic code points go before the last '-', if any. */
	for (j = 0; j < n; j++)
		if (s[j] == '-')
			in = j + 1;
	out = in > 0 ? in - 1 : 0;
	while (in < n) {
		oldi = i;
		for (w = 1, k = LISTS_PUNY_BASE;; k += LISTS_PUNY_BASE) {
			if (in >= n || (digit = lists_puny_digit(s[in++])) ==
			    -1 || (uint32_t)digit > (UINT32_MAX - i) / w)
				return (0);
			i += (uint32_t)digit * w;
			t = k <= bias ? LISTS_PUNY_TMIN : k >= bias +
			    LISTS_PUNY_TMAX ? LISTS_PUNY_TMAX : k - bias;
			if ((uint32_t)digit < t)
				break;
			if (w > UINT32_MAX / (LISTS_PUNY_BASE - t))
				return (0);
			w *= LISTS_PUNY_BASE - t;
		}
		out++;
		bias = lists_puny_adapt(i - oldi, (uint32_t)out, oldi == 0);
		if (i / out > 0x10ffff - code)
			return (0);
		code += i / out;
		i %= out;
		if (code >= 0xd800 && code <= 0xdfff)
			return (0);
		i++;
		inserted = 1;
	}
	return (inserted);
}

const char *
lists_entry_check(const uint8_t *lname, size_t len, int *tld)
{
	const uint8_t	*last = lname;
	size_t		 i, labels = 0, j;
	int		 digits = 1, quad = 1;

	*tld = 0;
	for (i = 0; i + 1 < len && lname[i] != 0; i += lname[i] + 1) {
		last = lname + i;
		labels++;
		if (lname[i] >= 4 && memcmp(lname + i + 1, "xn--", 4) == 0 &&
		    !lists_puny_valid(lname + i + 5, lname[i] - 4))
			return ("not a domain name: an xn-- label that is no "
			    "Punycode of a name that is not ASCII");
		/* A dotted quad: four labels of 1 to 3 digits. */
		for (j = 1; j <= lname[i]; j++)
			if (lname[i + j] < '0' || lname[i + j] > '9')
				quad = 0;
		if (lname[i] > 3)
			quad = 0;
	}
	for (j = 1; j <= last[0]; j++)
		if (last[j] < '0' || last[j] > '9')
			digits = 0;
	if (quad && labels == 4)
		return ("not a domain name: an IPv4 address");
	if (digits)
		return ("not a domain name: its last label is all digits");
	if (labels == 1) {
		*tld = 1;
		return ("a top-level domain: it would cover every name "
		    "under it");
	}
	return (NULL);
}

/*
 * A name of a list line into lname: lists_name(), and then an entry
 * lists_entry_check() lets through. 0, or -1 with *why.
 */
static int
lists_entry_name(const char *text, size_t len, uint8_t *lname,
    size_t *llen, const char **why)
{
	int	tld;

	if (lists_name(text, len, lname, llen, why) == -1)
		return (-1);
	if ((*why = lists_entry_check(lname, *llen, &tld)) != NULL)
		return (-1);
	return (0);
}

/* Send one report to the sink. */
static void
lists_report(struct lists_ctx *ctx, const char *msg)
{
	if (ctx->sink->report != NULL)
		ctx->sink->report(ctx->sink->arg, msg);
}

/*
 * The column (1 for the first) of p in the line that starts at start, in
 * characters as an editor counts them: octets that continue a UTF-8
 * character do not count.
 */
static unsigned
lists_col(const char *start, const char *p)
{
	unsigned	col = 1;

	for (; start < p; start++)
		if (((unsigned char)*start & 0xc0) != 0x80)
			col++;
	return (col);
}

/* The column of p, which points into the line being parsed (ctx->line). */
static unsigned
lists_at(const struct lists_ctx *ctx, const char *p)
{
	return (lists_col(ctx->line, p));
}

/*
 * An invalid line, its fault at column col: counted, reported while under
 * the cap.
 */
static void
lists_invalid(struct lists_ctx *ctx, uint32_t line, unsigned col,
    const char *why, const char *text, size_t len)
{
	char	msg[LISTS_MSG_LEN], shown[LISTS_TEXT_CUT + 8];

	ctx->res->invalid++;
	if (ctx->reported >= LISTS_MAX_REPORTS) {
		ctx->hidden++;
		return;
	}
	ctx->reported++;
	log_printable(shown, sizeof shown, text, len, LISTS_TEXT_CUT);
	snprintf(msg, sizeof msg, "%s:%u:%u: %s (%s)", ctx->name, line, col,
	    why, shown);
	lists_report(ctx, msg);
}

/* An unsupported line of a kind. */
static void
lists_unsupported(struct lists_ctx *ctx, enum lists_unsup kind)
{
	ctx->res->unsupported++;
	ctx->unsup[kind]++;
}

/* The sink refused an entry: stop the load. */
static int
lists_sink_failed(struct lists_ctx *ctx, uint32_t line)
{
	char	msg[LISTS_MSG_LEN];

	ctx->failed = 1;
	snprintf(msg, sizeof msg, "%s:%u: cannot store entry (out of memory)",
	    ctx->name, line);
	lists_report(ctx, msg);
	return (-1);
}

/* Give a name entry to the sink. */
static int
lists_add_name(struct lists_ctx *ctx, const uint8_t *lname, size_t len,
    enum domtable_kind kind, uint32_t line)
{
	if (ctx->sink->name == NULL)
		return (0);
	if (ctx->sink->name(ctx->sink->arg, lname, len, kind,
	    DOMTABLE_SUBTREE, line) != 0)
		return (lists_sink_failed(ctx, line));
	ctx->res->entries++;
	return (0);
}

/* Whether c is blank (space or tab). */
static int
lists_blank(char c)
{
	return (c == ' ' || c == '\t');
}

/*
 * Cut a trailing "# comment" (a '#' at the start or after a blank) and
 * the blanks before it; returns the new length.
 */
static size_t
lists_cut_comment(const char *s, size_t len)
{
	size_t	i;

	for (i = 0; i < len; i++) {
		if (s[i] == '#' && (i == 0 || lists_blank(s[i - 1]))) {
			len = i;
			break;
		}
	}
	while (len > 0 && lists_blank(s[len - 1]))
		len--;
	return (len);
}

/* Length of the field at s (up to a blank or the end). */
static size_t
lists_field(const char *s, size_t len)
{
	size_t	i;

	for (i = 0; i < len && !lists_blank(s[i]); i++)
		;
	return (i);
}

/* The first octet at or after p (up to end) that is not blank. */
static const char *
lists_next(const char *p, const char *end)
{
	while (p < end && lists_blank(*p))
		p++;
	return (p);
}

/* domains: one name, nothing else. */
static int
lists_domains_line(struct lists_ctx *ctx, const char *s, size_t len,
    uint32_t line)
{
	uint8_t		 lname[WIRE_MAX_NAME];
	const char	*why;
	size_t		 n, llen;

	/* '!' comments come from adblock-style headers of such lists. */
	if (s[0] == '!')
		return (0);
	len = lists_cut_comment(s, len);
	if (len == 0)
		return (0);
	ctx->content++;

	/* "0.0.0.0 name" here is a hosts file given the wrong format. */
	n = lists_field(s, len);
	if (n != len) {
		lists_invalid(ctx, line, lists_at(ctx, lists_next(s + n,
		    s + len)), "more than one field", s, len);
		return (0);
	}
	if (lists_entry_name(s, n, lname, &llen, &why) != 0) {
		lists_invalid(ctx, line, lists_at(ctx, s), why, s, len);
		return (0);
	}
	return (lists_add_name(ctx, lname, llen, DOMTABLE_BLOCK, line));
}

/* Whether a hosts-file name is one of the file's own, skipped silently. */
static int
lists_hosts_skipped(const char *s, size_t n)
{
	size_t	i;

	if (n > 0 && s[n - 1] == '.')
		n--;
	for (i = 0; i < sizeof lists_hosts_skip / sizeof *lists_hosts_skip;
	    i++) {
		if (strlen(lists_hosts_skip[i]) == n &&
		    strncasecmp(s, lists_hosts_skip[i], n) == 0)
			return (1);
	}
	/* ip6-localhost, ip6-loopback, ip6-allnodes and the like. */
	return (n > 4 && strncasecmp(s, "ip6-", 4) == 0 &&
	    memchr(s, '.', n) == NULL);
}

/* hosts: an address, then names. */
static int
lists_hosts_line(struct lists_ctx *ctx, const char *s, size_t len,
    uint32_t line)
{
	uint8_t		 lname[WIRE_MAX_NAME], addr[16];
	char		 abuf[INET6_ADDRSTRLEN + 1];
	const char	*why, *bad = NULL, *badp = NULL, *p = s, *end;
	size_t		 n, llen;

	len = lists_cut_comment(s, len);
	if (len == 0)
		return (0);
	ctx->content++;
	end = s + len;

	/* Any address will do: blocking does not use it. */
	n = lists_field(p, len);
	if (n >= sizeof abuf) {
		lists_invalid(ctx, line, lists_at(ctx, s), "not an address", s,
		    len);
		return (0);
	}
	memcpy(abuf, p, n);
	abuf[n] = '\0';
	if (inet_pton(AF_INET, abuf, addr) != 1 &&
	    inet_pton(AF_INET6, abuf, addr) != 1) {
		lists_invalid(ctx, line, lists_at(ctx, s), "not an address", s,
		    len);
		return (0);
	}
	p = lists_next(p + n, end);
	if (p == end) {
		lists_invalid(ctx, line, lists_at(ctx, p),
		    "no name after the address", s, len);
		return (0);
	}

	/* Each name; one bad name makes the line invalid, not the rest. */
	while (p < end) {
		n = lists_field(p, (size_t)(end - p));
		if (lists_hosts_skipped(p, n))
			;
		else if (lists_entry_name(p, n, lname, &llen, &why) != 0) {
			if (bad == NULL) {
				bad = why;
				badp = p;
			}
		} else if (lists_add_name(ctx, lname, llen, DOMTABLE_BLOCK,
		    line) != 0)
			return (-1);
		p = lists_next(p + n, end);
	}
	if (bad != NULL)
		lists_invalid(ctx, line, lists_at(ctx, badp), bad, s, len);
	return (0);
}

/* Whether the adblock line is element hiding ("##", "#@#", "#?#"...). */
static int
lists_adblock_cosmetic(const char *s, size_t len)
{
	size_t	i;

	for (i = 0; i + 1 < len; i++) {
		if (s[i] != '#')
			continue;
		if (s[i + 1] == '#')
			return (1);
		if (i + 2 < len && s[i + 2] == '#' &&
		    (s[i + 1] == '@' || s[i + 1] == '?' || s[i + 1] == '$'))
			return (1);
	}
	return (0);
}

/* adblock: "||name^", "@@||name^", or a plain name. */
static int
lists_adblock_line(struct lists_ctx *ctx, const char *s, size_t len,
    uint32_t line)
{
	enum domtable_kind	 kind = DOMTABLE_BLOCK;
	uint8_t			 lname[WIRE_MAX_NAME];
	const char		*why, *p = s;
	size_t			 n, rest, llen;

	/* "!" comments, "[Adblock Plus 2.0]" headers, and "# " comments. */
	if (s[0] == '!' || s[0] == '[')
		return (0);
	if (s[0] == '#' && !lists_adblock_cosmetic(s, len))
		return (0);
	ctx->content++;

	/* What a DNS filter cannot do is unsupported, not invalid. */
	if (lists_adblock_cosmetic(s, len)) {
		lists_unsupported(ctx, LISTS_UNSUP_COSMETIC);
		return (0);
	}
	if (s[0] == '/') {
		lists_unsupported(ctx, LISTS_UNSUP_REGEX);
		return (0);
	}
	len = lists_cut_comment(s, len);

	if (len >= 2 && p[0] == '@' && p[1] == '@') {
		kind = DOMTABLE_PASS;
		p += 2;
	}
	rest = len - (size_t)(p - s);
	if (rest < 2 || p[0] != '|' || p[1] != '|') {
		/* A plain host name, as some adblock lists carry. */
		if (kind == DOMTABLE_BLOCK &&
		    lists_entry_name(p, rest, lname, &llen, &why) == 0)
			return (lists_add_name(ctx, lname, llen, kind, line));
		if (rest > 0 && strcspn(p, "^$|*/") < rest) {
			if (memchr(p, '$', rest) != NULL)
				lists_unsupported(ctx, LISTS_UNSUP_OPTIONS);
			else
				lists_unsupported(ctx, LISTS_UNSUP_PATTERN);
			return (0);
		}
		if (kind == DOMTABLE_PASS)
			why = "not an adblock rule";
		else
			(void)lists_entry_name(p, rest, lname, &llen, &why);
		lists_invalid(ctx, line, lists_at(ctx, p), why, s, len);
		return (0);
	}
	p += 2;
	rest -= 2;

	/*
	 * The name runs to the first special character, which must be the
	 * separator '^'. Without it "||example.com" would also match
	 * "example.com.evil" in a browser, so it is not a domain rule.
	 */
	for (n = 0; n < rest && strchr("^$|*/:?=&", p[n]) == NULL; n++)
		;
	if (n == rest || p[n] != '^') {
		if (n < rest && p[n] == '$')
			lists_unsupported(ctx, LISTS_UNSUP_OPTIONS);
		else
			lists_unsupported(ctx, LISTS_UNSUP_PATTERN);
		return (0);
	}
	/* After '^' only an end anchor '|' may follow; "$opts" are for
	   browsers (third-party, script...) and blocking would overblock. */
	if (n + 1 < rest) {
		if (p[n + 1] == '$')
			lists_unsupported(ctx, LISTS_UNSUP_OPTIONS);
		else if (p[n + 1] != '|' || n + 2 != rest)
			lists_unsupported(ctx, LISTS_UNSUP_PATTERN);
		if (p[n + 1] != '|' || n + 2 != rest)
			return (0);
	}
	if (lists_entry_name(p, n, lname, &llen, &why) != 0) {
		lists_invalid(ctx, line, lists_at(ctx, p), why, s, len);
		return (0);
	}
	return (lists_add_name(ctx, lname, llen, kind, line));
}

/* ip: an address or a CIDR network. */
static int
lists_ip_line(struct lists_ctx *ctx, const char *s, size_t len,
    uint32_t line)
{
	struct conf_net	 net;
	char		 abuf[INET6_ADDRSTRLEN + 8], *slash, *endp;
	unsigned long	 prefix;
	unsigned	 i, max;
	size_t		 n;

	len = lists_cut_comment(s, len);
	if (len == 0)
		return (0);
	ctx->content++;
	n = lists_field(s, len);
	if (n != len) {
		lists_invalid(ctx, line, lists_at(ctx, lists_next(s + n,
		    s + len)), "more than one field", s, len);
		return (0);
	}
	if (n >= sizeof abuf) {
		lists_invalid(ctx, line, lists_at(ctx, s),
		    "not an address or network", s, len);
		return (0);
	}
	/* Address and prefix are split; inet_pton checks the address. */
	memcpy(abuf, s, n);
	abuf[n] = '\0';
	memset(&net, 0, sizeof net);
	if ((slash = strchr(abuf, '/')) != NULL)
		*slash++ = '\0';
	if (inet_pton(AF_INET, abuf, net.addr) == 1) {
		net.family = AF_INET;
		max = 32;
	} else if (inet_pton(AF_INET6, abuf, net.addr) == 1) {
		net.family = AF_INET6;
		max = 128;
	} else {
		lists_invalid(ctx, line, lists_at(ctx, s),
		    "not an address or network", s, len);
		return (0);
	}
	/* Decimal digits only: strtoul would take "+8", " 8" and "0x8". */
	net.prefix = max;
	if (slash != NULL) {
		errno = 0;
		if (*slash < '0' || *slash > '9' ||
		    (prefix = strtoul(slash, &endp, 10)) > max ||
		    *endp != '\0' || errno != 0 || endp - slash > 3) {
			lists_invalid(ctx, line, lists_at(ctx, s +
			    (slash - abuf)), "bad prefix length", s, len);
			return (0);
		}
		net.prefix = (unsigned)prefix;
	}
	/* A list's slip, or a feed gone wrong, that would block everything. */
	if (net.prefix == 0) {
		lists_invalid(ctx, line, lists_at(ctx, s + (slash - abuf)),
		    max == 32 ? "every IPv4 address: it "
		    "would block every answer" : "every IPv6 address: it would "
		    "block every answer", s, len);
		return (0);
	}

	/* Every bit after the prefix must be zero. */
	for (i = net.prefix; i < max; i++) {
		if (net.addr[i / 8] & (0x80 >> (i % 8))) {
			lists_invalid(ctx, line, lists_at(ctx, s),
			    "host bits set", s, len);
			return (0);
		}
	}
	if (ctx->sink->net == NULL)
		return (0);
	if (ctx->sink->net(ctx->sink->arg, &net, line) != 0)
		return (lists_sink_failed(ctx, line));
	ctx->res->entries++;
	return (0);
}

/* rewrite: "name target", both names, exactly two fields. */
static int
lists_rewrite_line(struct lists_ctx *ctx, const char *s, size_t len,
    uint32_t line)
{
	uint8_t		 lname[WIRE_MAX_NAME], target[WIRE_MAX_NAME];
	const char	*why, *t, *end;
	size_t		 n, tn, llen, tlen;

	len = lists_cut_comment(s, len);
	if (len == 0)
		return (0);
	ctx->content++;
	end = s + len;
	n = lists_field(s, len);
	t = lists_next(s + n, end);
	tn = lists_field(t, (size_t)(end - t));
	if (tn == 0 || t + tn != end) {
		/* At the end of a lone name, or at a third field. */
		lists_invalid(ctx, line, lists_at(ctx, tn == 0 ? t :
		    lists_next(t + tn, end)), "want \"name target\"", s, len);
		return (0);
	}
	if (lists_entry_name(s, n, lname, &llen, &why) != 0) {
		lists_invalid(ctx, line, lists_at(ctx, s), why, s, len);
		return (0);
	}
	if (lists_name(t, tn, target, &tlen, &why) != 0) {
		lists_invalid(ctx, line, lists_at(ctx, t), why, s, len);
		return (0);
	}
	/* To the sink as what it is: an RPZ CNAME on an exact name. */
	if (ctx->sink->rpz == NULL)
		return (0);
	if (ctx->sink->rpz(ctx->sink->arg, lname, llen, DOMTABLE_EXACT,
	    LISTS_RPZ_CNAME, target, tlen, line) != 0)
		return (lists_sink_failed(ctx, line));
	ctx->res->entries++;
	return (0);
}

/* Whether the wire name equals the text name (one label, then root). */
static int
lists_wire_is(const uint8_t *w, size_t len, const char *label)
{
	size_t	n = strlen(label);

	return (len == n + 2 && w[0] == n && w[n + 1] == 0 &&
	    strncasecmp((const char *)w + 1, label, n) == 0);
}

/* Lower-case a wire name in place; NULL if its labels are fine. */
static const char *
lists_wire_fold(uint8_t *w, size_t len)
{
	const char	*why;
	size_t		 i = 0;

	while (i < len && w[i] != 0) {
		if ((why = lists_label_check(w + i + 1, w[i], 0)) != NULL)
			return (why);
		wire_lower(w + i + 1, w + i + 1, w[i]);
		i += w[i] + 1;
	}
	return (NULL);
}

/*
 * A zone-file directive: ldns takes these only from a FILE, so $ORIGIN
 * and $TTL are done here, the same way.
 */
static int
lists_rpz_directive(struct lists_ctx *ctx, const char *rec, size_t len,
    uint32_t line)
{
	ldns_rdf	*o = NULL;
	ldns_status	 st;
	const char	*tok, *end;
	uint32_t	 ttl;

	tok = rec + 1 + strcspn(rec + 1, " \t");
	while (lists_blank(*tok))
		tok++;
	if (strncasecmp(rec, "$ORIGIN", 7) == 0 && lists_blank(rec[7])) {
		if (!ldns_dname_str_absolute(tok) && ctx->origin == NULL) {
			lists_invalid(ctx, line, lists_col(rec, tok),
			    "relative $ORIGIN without an "
			    "origin", rec, len);
			return (0);
		}
		st = ldns_str2rdf_dname(&o, tok);
		if (st == LDNS_STATUS_OK && !ldns_dname_str_absolute(tok))
			st = ldns_dname_cat(o, ctx->origin);
		if (st != LDNS_STATUS_OK || o == NULL) {
			ldns_rdf_deep_free(o);
			lists_invalid(ctx, line, lists_col(rec, tok),
			    st != LDNS_STATUS_OK ?
			    ldns_get_errorstr_by_id(st) : "bad $ORIGIN", rec,
			    len);
			return (0);
		}
		ldns_rdf_deep_free(ctx->origin);
		ctx->origin = o;
		/* Before any SOA, the first $ORIGIN names the zone. */
		if (ctx->apex == NULL && (ctx->apex = ldns_rdf_clone(o)) ==
		    NULL)
			return (lists_sink_failed(ctx, line));
		return (0);
	}
	if (strncasecmp(rec, "$TTL", 4) == 0 && lists_blank(rec[4])) {
		ttl = ldns_str2period(tok, &end);
		if (end == tok || *end != '\0') {
			lists_invalid(ctx, line, lists_col(rec, tok),
			    "bad $TTL", rec, len);
			return (0);
		}
		ctx->ttl = ttl;
		return (0);
	}
	if (strncasecmp(rec, "$INCLUDE", 8) == 0 ||
	    strncasecmp(rec, "$GENERATE", 9) == 0) {
		lists_unsupported(ctx, LISTS_UNSUP_RPZ_DIRECTIVE);
		return (0);
	}
	lists_invalid(ctx, line, 1, "unknown directive", rec, len);
	return (0);
}

/* One RPZ record on its way from ldns to the sink. */
struct lists_rpz_rec {
	const char		*text;	/* the joined lines, for reports */
	size_t			 len;
	uint32_t		 line;	/* where the record started */
	ldns_rr			*rr;
	uint8_t			 name[WIRE_MAX_NAME]; /* trigger, zone cut */
	size_t			 nlen;
	enum domtable_match	 match;
	enum lists_rpz_action	 action;
	uint8_t			 target[WIRE_MAX_NAME]; /* LISTS_RPZ_CNAME */
	size_t			 tlen;
};

/* The record is invalid: report it; -1, so callers can return that. */
static int
lists_rpz_invalid(struct lists_ctx *ctx, const struct lists_rpz_rec *r,
    const char *why)
{
	/* ldns says what, not where: the record, where it starts. */
	lists_invalid(ctx, r->line, 1, why, r->text, r->len);
	return (-1);
}

/*
 * The zone is the first SOA's owner (the origin too, when there was no
 * $ORIGIN). Triggers are cut against the zone, not the current $ORIGIN,
 * which only expands relative names. -1 if out of memory.
 */
static int
lists_rpz_soa(struct lists_ctx *ctx, const struct lists_rpz_rec *r)
{
	ldns_rdf	*owner = ldns_rr_owner(r->rr);

	if (ldns_rr_get_type(r->rr) != LDNS_RR_TYPE_SOA || ctx->have_soa ||
	    !ldns_dname_absolute(owner))
		return (0);
	ctx->have_soa = 1;
	ldns_rdf_deep_free(ctx->apex);
	ctx->apex = ldns_rdf_clone(owner);
	if (ctx->origin == NULL)
		ctx->origin = ldns_rdf_clone(owner);
	if (ctx->apex == NULL || ctx->origin == NULL)
		return (-1);
	return (0);
}

/*
 * The trigger: the owner with the zone cut off, into r->name. -1 if the
 * record is no trigger (reported, or the zone's own SOA and NS).
 */
static int
lists_rpz_cut(struct lists_ctx *ctx, struct lists_rpz_rec *r)
{
	ldns_rdf	*owner = ldns_rr_owner(r->rr);
	size_t		 olen, i;

	if (ctx->apex != NULL &&
	    ldns_dname_compare(owner, ctx->apex) == 0) {
		/* The apex: SOA and NS belong to the zone, not to policy. */
		if (ldns_rr_get_type(r->rr) != LDNS_RR_TYPE_SOA &&
		    ldns_rr_get_type(r->rr) != LDNS_RR_TYPE_NS)
			lists_rpz_invalid(ctx, r, "record at the zone apex");
		return (-1);
	}
	olen = ldns_rdf_size(owner);
	if (ctx->apex != NULL) {
		if (!ldns_dname_is_subdomain(owner, ctx->apex))
			return (lists_rpz_invalid(ctx, r,
			    "owner outside the zone"));
		olen -= ldns_rdf_size(ctx->apex);
	} else if (ldns_dname_absolute(owner))
		olen--;
	if (olen == 0 || olen > WIRE_MAX_NAME - 1)
		return (lists_rpz_invalid(ctx, r, "bad owner name"));
	memcpy(r->name, ldns_rdf_data(owner), olen);
	r->name[olen] = 0;
	r->nlen = olen + 1;

	/* The labels must end exactly at the cut. */
	for (i = 0; i < olen; i += r->name[i] + 1)
		;
	if (i != olen)
		return (lists_rpz_invalid(ctx, r, "bad owner name"));
	return (0);
}

/*
 * What the trigger r->name is: a QNAME trigger on a CNAME is kept, with
 * "*." turned into the match; -1 if not (reported or counted).
 */
static int
lists_rpz_trigger(struct lists_ctx *ctx, struct lists_rpz_rec *r)
{
	static const struct {
		const char		*label;
		enum lists_unsup	 kind;
	} special[] = {
		{ "rpz-ip", LISTS_UNSUP_RPZ_IP },
		{ "rpz-nsdname", LISTS_UNSUP_RPZ_NSDNAME },
		{ "rpz-nsip", LISTS_UNSUP_RPZ_NSIP },
		{ "rpz-client-ip", LISTS_UNSUP_RPZ_CLIENT_IP },
	};
	const uint8_t	*last;
	const char	*why;
	size_t		 i;
	int		 tld;

	/* IP and NS triggers end in a label of their own. */
	for (i = 0, last = r->name; i < r->nlen - 1; i += r->name[i] + 1)
		last = r->name + i;
	for (i = 0; i < sizeof special / sizeof *special; i++) {
		if (lists_wire_is(last, r->name + r->nlen - last,
		    special[i].label)) {
			lists_unsupported(ctx, special[i].kind);
			return (-1);
		}
	}
	/* Local data (A, AAAA, TXT...) would need answers we do not keep. */
	if (ldns_rr_get_type(r->rr) != LDNS_RR_TYPE_CNAME) {
		lists_unsupported(ctx, LISTS_UNSUP_RPZ_DATA);
		return (-1);
	}

	/* "*.name" covers the subdomains of name only. */
	r->match = DOMTABLE_EXACT;
	if (r->name[0] == 1 && r->name[1] == '*') {
		r->match = DOMTABLE_SUBONLY;
		memmove(r->name, r->name + 2, r->nlen - 2);
		r->nlen -= 2;
	}
	/* "*" alone would list everything below the origin. */
	if (r->nlen == 1)
		return (lists_rpz_invalid(ctx, r, "the root cannot be listed"));
	if ((why = lists_wire_fold(r->name, r->nlen)) != NULL ||
	    (why = lists_entry_check(r->name, r->nlen, &tld)) != NULL)
		return (lists_rpz_invalid(ctx, r, why));
	return (0);
}

/* The action, from the CNAME target; -1 if none we do (reported). */
static int
lists_rpz_action(struct lists_ctx *ctx, struct lists_rpz_rec *r)
{
	ldns_rdf	*target = ldns_rr_rdf(r->rr, 0);
	const uint8_t	*w;
	const char	*why;
	size_t		 tlen;

	if (target == NULL || ldns_rdf_size(target) > WIRE_MAX_NAME)
		return (lists_rpz_invalid(ctx, r, "bad CNAME target"));
	w = ldns_rdf_data(target);
	tlen = ldns_rdf_size(target);
	r->tlen = 0;
	if (tlen == 1)
		r->action = LISTS_RPZ_NXDOMAIN;
	else if (ldns_dname_compare(target, ldns_rr_owner(r->rr)) == 0)
		/* The old PASSTHRU form: a CNAME to the trigger itself. */
		r->action = LISTS_RPZ_PASSTHRU;
	else if (tlen == 3 && w[0] == 1 && w[1] == '*' && w[2] == 0)
		r->action = LISTS_RPZ_NODATA;
	else if (lists_wire_is(w, tlen, "rpz-passthru"))
		r->action = LISTS_RPZ_PASSTHRU;
	else if (lists_wire_is(w, tlen, "rpz-drop")) {
		lists_unsupported(ctx, LISTS_UNSUP_RPZ_DROP);
		return (-1);
	} else if (lists_wire_is(w, tlen, "rpz-tcp-only")) {
		lists_unsupported(ctx, LISTS_UNSUP_RPZ_TCP_ONLY);
		return (-1);
	} else {
		r->action = LISTS_RPZ_CNAME;
		memcpy(r->target, w, tlen);
		r->tlen = tlen;
		if ((why = lists_wire_fold(r->target, tlen)) != NULL)
			return (lists_rpz_invalid(ctx, r, why));
	}
	return (0);
}

/* One RPZ record, all its lines joined, parsed by ldns. */
static int
lists_rpz_record(struct lists_ctx *ctx, char *rec, uint32_t line)
{
	struct lists_rpz_rec	 r;
	ldns_status		 st;
	int			 rv = 0;

	memset(&r, 0, sizeof r);
	r.text = rec;
	r.len = strlen(rec);
	r.line = line;
	ctx->content++;
	if (rec[0] == '$')
		return (lists_rpz_directive(ctx, rec, r.len, line));

	/* Without an origin ldns would take "@" for the previous owner. */
	if (rec[0] == '@' && (rec[1] == '\0' || lists_blank(rec[1])) &&
	    ctx->origin == NULL) {
		lists_rpz_invalid(ctx, &r, "\"@\" without $ORIGIN or SOA");
		return (0);
	}
	st = ldns_rr_new_frm_str(&r.rr, rec, ctx->ttl, ctx->origin,
	    &ctx->prev);
	if (st != LDNS_STATUS_OK || r.rr == NULL) {
		ldns_rr_free(r.rr);
		lists_rpz_invalid(ctx, &r, ldns_get_errorstr_by_id(st));
		return (0);
	}

	/* Each step reports why a record is skipped, or counts it. */
	if (lists_rpz_soa(ctx, &r) == -1)
		rv = lists_sink_failed(ctx, line);
	else if (lists_rpz_cut(ctx, &r) == 0 &&
	    lists_rpz_trigger(ctx, &r) == 0 &&
	    lists_rpz_action(ctx, &r) == 0 && ctx->sink->rpz != NULL) {
		if (ctx->sink->rpz(ctx->sink->arg, r.name, r.nlen, r.match,
		    r.action, r.tlen > 0 ? r.target : NULL, r.tlen, line) != 0)
			rv = lists_sink_failed(ctx, line);
		else
			ctx->res->entries++;
	}
	ldns_rr_free(r.rr);
	return (rv);
}

/* Append text to the RPZ record being joined. */
static void
lists_rpz_append(struct lists_ctx *ctx, const char *s, size_t len)
{
	if (ctx->recbad)
		return;
	if (ctx->reclen + len + 2 > LISTS_MAX_RECORD) {
		ctx->recbad = 1;
		return;
	}
	if (ctx->reclen > 0)
		ctx->rec[ctx->reclen++] = ' ';
	memcpy(ctx->rec + ctx->reclen, s, len);
	ctx->reclen += len;
	ctx->rec[ctx->reclen] = '\0';
}

/* Finish the joined RPZ record, if any. */
static int
lists_rpz_flush(struct lists_ctx *ctx)
{
	int	rv = 0;

	if (ctx->reclen == 0 && !ctx->recbad)
		return (0);
	if (ctx->recbad || ctx->depth != 0) {
		/*
		 * Every line the broken record swallowed counts as invalid,
		 * so that one stray "(" cannot hide the rest of a file from
		 * the mostly-garbage rule.
		 */
		ctx->content += ctx->reclines;
		ctx->res->invalid += ctx->reclines - 1;
		lists_invalid(ctx, ctx->recline, 1, ctx->recbad ?
		    "record too long" : "unbalanced parentheses", ctx->rec,
		    ctx->reclen);
	} else
		rv = lists_rpz_record(ctx, ctx->rec, ctx->recline);
	ctx->reclen = 0;
	ctx->reclines = 0;
	ctx->rec[0] = '\0';
	ctx->recbad = 0;
	ctx->depth = 0;
	return (rv);
}

/*
 * rpz: join lines while parentheses are open (outside quotes and ';'
 * comments), then parse the record.
 */
static int
lists_rpz_line(struct lists_ctx *ctx, const char *s, size_t len,
    uint32_t line)
{
	size_t	i;
	int	quoted = 0;

	for (i = 0; i < len; i++) {
		if (s[i] == '\\' && i + 1 < len) {
			i++;
			continue;
		}
		if (s[i] == '"')
			quoted = !quoted;
		else if (quoted)
			continue;
		else if (s[i] == ';')
			break;
		else if (s[i] == '(')
			ctx->depth++;
		else if (s[i] == ')' && ctx->depth > 0)
			ctx->depth--;
	}
	len = i;
	while (len > 0 && lists_blank(s[len - 1]))
		len--;
	if (ctx->reclen == 0 && !ctx->recbad) {
		if (len == 0)
			return (0);
		ctx->recline = line;
		/* A blank start keeps the previous owner: keep one blank. */
		if (lists_blank(s[0])) {
			while (len > 0 && lists_blank(s[0])) {
				s++;
				len--;
			}
			ctx->rec[ctx->reclen++] = ' ';
		}
	}
	lists_rpz_append(ctx, s, len);
	ctx->reclines++;
	if (ctx->depth > 0)
		return (0);
	return (lists_rpz_flush(ctx));
}

/*
 * One line as read (no '\n'): BOM, CR, length and NUL checks, trailing
 * blanks, then the format's parser. Returns -1 when the sink failed.
 */
static int
lists_line(struct lists_ctx *ctx, const char *s, size_t len, uint32_t line)
{
	const char	*nul;

	ctx->res->lines++;
	if (line == 1 && len >= 3 && memcmp(s, "\xef\xbb\xbf", 3) == 0) {
		s += 3;
		len -= 3;
	}
	if (len > 0 && s[len - 1] == '\r')
		len--;
	if (len > LISTS_MAX_LINE) {
		ctx->content++;
		lists_invalid(ctx, line, lists_col(s, s + LISTS_MAX_LINE),
		    "line too long", s, len);
		return (0);
	}
	/* Parsers use C strings: a NUL would cut the line unseen. */
	if ((nul = memchr(s, '\0', len)) != NULL) {
		ctx->content++;
		lists_invalid(ctx, line, lists_col(s, nul), "NUL octet in line",
		    s, len);
		return (0);
	}
	/* A copy, NUL-terminated; the caller's buffer is not touched. */
	memcpy(ctx->line, s, len);
	ctx->line[len] = '\0';
	s = ctx->line;

	if (ctx->fmt == LISTS_RPZ)
		return (lists_rpz_line(ctx, s, len, line));
	while (len > 0 && (lists_blank(s[len - 1]) || s[len - 1] == '\r'))
		len--;
	while (len > 0 && lists_blank(s[0])) {
		s++;
		len--;
	}
	if (len == 0)
		return (0);
	switch (ctx->fmt) {
	case LISTS_DOMAINS:
		return (lists_domains_line(ctx, s, len, line));
	case LISTS_HOSTS:
		return (lists_hosts_line(ctx, s, len, line));
	case LISTS_ADBLOCK:
		return (lists_adblock_line(ctx, s, len, line));
	case LISTS_IP:
		return (lists_ip_line(ctx, s, len, line));
	case LISTS_REWRITE:
		return (lists_rewrite_line(ctx, s, len, line));
	case LISTS_RPZ:
		break;
	}
	return (0);
}

/* A new load's state; NULL on allocation failure (reported). */
static struct lists_ctx *
lists_ctx_new(const char *name, enum lists_format fmt,
    const struct lists_sink *sink, struct lists_result *res)
{
	struct lists_ctx	*ctx;
	char			 msg[LISTS_MSG_LEN];

	if ((ctx = calloc(1, sizeof *ctx)) != NULL && fmt == LISTS_RPZ &&
	    (ctx->rec = malloc(LISTS_MAX_RECORD)) == NULL) {
		free(ctx);
		ctx = NULL;
	}
	if (ctx == NULL) {
		snprintf(msg, sizeof msg, "%s: %s", name, strerror(errno));
		if (sink->report != NULL)
			sink->report(sink->arg, msg);
		return (NULL);
	}
	ctx->name = name;
	ctx->fmt = fmt;
	ctx->sink = sink;
	ctx->res = res;
	ctx->ttl = 3600;
	if (ctx->rec != NULL)
		ctx->rec[0] = '\0';
	return (ctx);
}

/* Finish a load: summaries, the "mostly garbage" rule, cleanup. */
static int
lists_end(struct lists_ctx *ctx, int rv)
{
	char	msg[LISTS_MSG_LEN];
	size_t	bad, i;

	if (rv == 0 && ctx->fmt == LISTS_RPZ)
		rv = lists_rpz_flush(ctx);
	free(ctx->rec);
	ldns_rdf_deep_free(ctx->origin);
	ldns_rdf_deep_free(ctx->apex);
	ldns_rdf_deep_free(ctx->prev);
	ctx->rec = NULL;
	ctx->origin = ctx->prev = ctx->apex = NULL;
	if (rv != 0)
		return (-1);

	if (ctx->hidden > 0) {
		snprintf(msg, sizeof msg,
		    "%s: %zu more invalid lines not shown",
		    ctx->name, ctx->hidden);
		lists_report(ctx, msg);
	}
	for (i = 0; i < LISTS_UNSUP_MAX; i++) {
		if (ctx->unsup[i] == 0)
			continue;
		snprintf(msg, sizeof msg, "%s: %zu %s not supported, skipped",
		    ctx->name, ctx->unsup[i], lists_unsup_names[i]);
		lists_report(ctx, msg);
	}
	bad = ctx->res->invalid + ctx->res->unsupported;
	/* More than half; exactly half is still accepted. */
	if (bad > 0 && bad * 2 > ctx->content) {
		snprintf(msg, sizeof msg,
		    "%s: mostly invalid (%zu of %zu lines), list rejected",
		    ctx->name, bad, ctx->content);
		lists_report(ctx, msg);
		return (-1);
	}
	/*
	 * Not an error (a category may be empty on purpose), but a feed cut
	 * to its header would unblock a whole category: say so.
	 */
	if (ctx->res->entries == 0) {
		snprintf(msg, sizeof msg, "%s: warning: no entries", ctx->name);
		lists_report(ctx, msg);
	}
	return (0);
}

void
lists_fileid_set(struct lists_fileid *id, const struct stat *st)
{
	memset(id, 0, sizeof *id);
	id->dev = (uint64_t)st->st_dev;
	id->ino = (uint64_t)st->st_ino;
	id->size = (uint64_t)st->st_size;
	id->mtime_ns = (int64_t)st->st_mtim.tv_sec * 1000000000 +
	    st->st_mtim.tv_nsec;
	id->ctime_ns = (int64_t)st->st_ctim.tv_sec * 1000000000 +
	    st->st_ctim.tv_nsec;
}

/*
 * Open the list file at path to read: a regular file only, else -1 with
 * *why set. A FIFO blocks the open (no writer) or the reads, and a device
 * such as /dev/zero never ends: either would hang a start, or a reload's
 * thread and the main thread that waits for it. O_NONBLOCK keeps the open
 * of a FIFO from blocking; it changes nothing for a regular file.
 */
static int
lists_open(const char *path, struct stat *st, const char **why)
{
	int	fd;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK)) == -1) {
		*why = strerror(errno);
		return (-1);
	}
	if (fstat(fd, st) == -1) {
		*why = strerror(errno);
		close(fd);
		return (-1);
	}
	if (!S_ISREG(st->st_mode)) {
		*why = S_ISDIR(st->st_mode) ? "is a directory" :
		    "not a regular file";
		close(fd);
		return (-1);
	}
	return (fd);
}

int
lists_file_same(const char *path, const struct lists_fileid *id)
{
	struct lists_fileid	now;
	struct stat		st;

	if (stat(path, &st) == -1)
		return (0);
	lists_fileid_set(&now, &st);
	return (memcmp(&now, id, sizeof now) == 0);
}

long
lists_lines(const char *path)
{
	struct stat	 st;
	const char	*why;
	char		 buf[65536], *p, *end;
	long		 lines = 0;
	ssize_t		 n;
	int		 fd, last = '\n';

	if ((fd = lists_open(path, &st, &why)) == -1)
		return (-1);
	while ((n = read(fd, buf, sizeof buf)) != 0) {
		if (n == -1) {
			if (errno == EINTR)
				continue;
			close(fd);
			return (-1);
		}
		end = buf + n;
		for (p = buf; (p = memchr(p, '\n', (size_t)(end - p))) != NULL;
		    p++)
			lines++;
		last = end[-1];
	}
	close(fd);
	return (last == '\n' ? lines : lines + 1);
}

/*
 * Whether lists_sample() parses the line s of len octets: about one in
 * LISTS_SAMPLE (lists.h), by a hash of its text (a multiply-xorshift per
 * 8 octets, as domtable.c hashes names), so that the lines picked do not
 * follow where a file's changes lie, as every n-th line would (a list
 * with every fourth name replaced sampled every sixteenth line gives all
 * or none). Not keyed: a file made to fool it gains a wasted try or a
 * table compiled anew, which any file that changes much gets anyway.
 */
static int
lists_sampled(const char *s, size_t len)
{
	uint64_t	h = LISTS_K2 ^ len, w;

	for (; len >= 8; s += 8, len -= 8) {
		memcpy(&w, s, sizeof w);
		h = (h ^ w) * LISTS_K1;
		h ^= h >> 29;
	}
	w = 0;
	memcpy(&w, s, len);
	h = (h ^ w) * LISTS_K2;
	h ^= h >> 31;
	return (h % LISTS_SAMPLE == 0);
}

/*
 * One line of lists_sample(), the lines-th: parsed into ctx if it is an
 * entry line picked for the sample. long_line: a line that did not fit
 * the reading buffer (LISTS_MAX_LINE is far less), only counted.
 */
static int
lists_sample_line(struct lists_ctx *ctx, const char *s, size_t len,
    long lines, int long_line)
{
	if (ctx == NULL || long_line || len == 0 || s[0] == '#' ||
	    s[0] == '!' || !lists_sampled(s, len))
		return (0);
	return (lists_line(ctx, s, len, (uint32_t)lines));
}

/*
 * Read in blocks as lists_lines() does: a line that a block cuts is moved
 * to the front of the buffer and completed by the next read, so that no
 * line is copied but those.
 */
long
lists_sample(const char *path, enum lists_format fmt,
    const struct lists_sink *sink)
{
	struct lists_sink	 quiet = *sink;
	struct lists_result	 res;
	struct lists_ctx	*ctx = NULL;
	struct stat		 st;
	const char		*why;
	char			 buf[65536], *p, *end, *nl;
	size_t			 have = 0;
	ssize_t			 n;
	long			 lines = 0;
	int			 fd, rv = 0, long_line = 0;

	quiet.report = NULL;
	memset(&res, 0, sizeof res);
	if ((fd = lists_open(path, &st, &why)) == -1)
		return (-1);
	/* RPZ records span lines and follow $ORIGIN: no sample of them. */
	if (fmt != LISTS_RPZ && fmt != LISTS_IP &&
	    (ctx = lists_ctx_new(path, fmt, &quiet, &res)) == NULL) {
		close(fd);
		return (-1);
	}
	for (;;) {
		if ((n = read(fd, buf + have, sizeof buf - have)) == -1) {
			if (errno == EINTR)
				continue;
			lines = -1;
			break;
		}
		if (n == 0) {
			/* A last line without its newline. */
			if (have > 0 || long_line) {
				lines++;
				if (rv == 0)
					rv = lists_sample_line(ctx, buf, have,
					    lines, long_line);
			}
			break;
		}
		end = buf + have + n;
		for (p = buf; (nl = memchr(p, '\n', (size_t)(end - p))) !=
		    NULL; p = nl + 1) {
			lines++;
			if (rv == 0)
				rv = lists_sample_line(ctx, p, (size_t)(nl - p),
				    lines, long_line);
			long_line = 0;
		}
		have = (size_t)(end - p);
		if (have == sizeof buf) {
			long_line = 1;
			have = 0;
		} else if (have > 0)
			memmove(buf, p, have);
	}
	close(fd);
	if (ctx != NULL) {
		(void)lists_end(ctx, rv);
		free(ctx);
	}
	return (lines);
}

/*
 * Whether the file open as f changed since id was taken of it, before
 * reading it: 1 (reported) if an editor writing it in place meanwhile
 * changed its size or modification time, 0 if not, -1 (reported) if
 * fstat(2) fails.
 */
static int
lists_changed(struct lists_ctx *ctx, const char *path, FILE *f,
    const struct lists_fileid *id)
{
	struct lists_fileid	now;
	struct stat		st;
	char			msg[LISTS_MSG_LEN];

	if (fstat(fileno(f), &st) == -1) {
		snprintf(msg, sizeof msg, "%s: %s", path, strerror(errno));
		lists_report(ctx, msg);
		return (-1);
	}
	lists_fileid_set(&now, &st);
	if (memcmp(&now, id, sizeof now) == 0)
		return (0);
	snprintf(msg, sizeof msg, "%s: %s", path, LISTS_CHANGED);
	lists_report(ctx, msg);
	return (1);
}

int
lists_load(const char *path, enum lists_format fmt,
    const struct lists_sink *sink, struct lists_result *res)
{
	struct lists_result	 tmp;
	struct lists_ctx	*ctx;
	struct stat		 st;
	const char		*why;
	char			 msg[LISTS_MSG_LEN], *buf = NULL;
	size_t			 cap = 0;
	ssize_t			 n;
	uint32_t		 line = 0;
	FILE			*f;
	int			 fd, rv = 0;

	if (res == NULL)
		res = &tmp;
	memset(res, 0, sizeof *res);
	if ((fd = lists_open(path, &st, &why)) == -1 ||
	    (f = fdopen(fd, "r")) == NULL) {
		if (fd != -1) {
			why = strerror(errno);
			close(fd);
		}
		snprintf(msg, sizeof msg, "%s: %s", path, why);
		if (sink->report != NULL)
			sink->report(sink->arg, msg);
		return (-1);
	}
	/* Taken of the file read, before reading: a change later shows. */
	lists_fileid_set(&res->id, &st);
	if ((ctx = lists_ctx_new(path, fmt, sink, res)) == NULL) {
		fclose(f);
		return (-1);
	}
	while (rv == 0 && (n = getline(&buf, &cap, f)) != -1) {
		if (n > 0 && buf[n - 1] == '\n')
			n--;
		rv = lists_line(ctx, buf, (size_t)n, ++line);
	}
	if (rv == 0 && ferror(f)) {
		snprintf(msg, sizeof msg, "%s: %s", path, strerror(errno));
		lists_report(ctx, msg);
		rv = -1;
	}
	if (rv == 0 && (rv = lists_changed(ctx, path, f, &res->id)) == 1) {
		res->changed = 1;
		rv = -1;
	}
	free(buf);
	fclose(f);
	rv = lists_end(ctx, rv);
	free(ctx);
	return (rv);
}

int
lists_load_mem(const char *name, const char *buf, size_t len,
    enum lists_format fmt, const struct lists_sink *sink,
    struct lists_result *res)
{
	struct lists_result	 tmp;
	struct lists_ctx	*ctx;
	const char		*p = buf, *end = buf + len, *nl;
	uint32_t		 line = 0;
	int			 rv = 0;

	if (res == NULL)
		res = &tmp;
	memset(res, 0, sizeof *res);
	if ((ctx = lists_ctx_new(name, fmt, sink, res)) == NULL)
		return (-1);
	while (rv == 0 && p < end) {
		if ((nl = memchr(p, '\n', (size_t)(end - p))) == NULL)
			nl = end;
		rv = lists_line(ctx, p, (size_t)(nl - p), ++line);
		p = nl + 1;
	}
	rv = lists_end(ctx, rv);
	free(ctx);
	return (rv);
}
