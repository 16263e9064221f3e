/*
 * conf.c: read veiligd.yaml with libyaml and check it against one table.
 *
 * Reading happens in two steps. First libyaml's event parser turns the
 * text into a small tree of nodes (scalar, sequence, mapping), each with
 * its 1-based line and column; a syntax error stops here, since libyaml
 * cannot go on after one. Aliases and anchors are reported as errors but
 * the tree is still built, so later errors are found too. Then the tree
 * is walked against conf_keys[], the one table of keys: each key's type,
 * range, default, place in struct conf and help text live there and
 * nowhere else. Every semantic error is reported in the same pass.
 *
 * The event API is used rather than yaml_parser_load() because the
 * document API resolves aliases silently, and we want to reject them.
 */

#include <sys/types.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <yaml.h>

#include "conf.h"

#define CONF_MAX_FILE	(1024 * 1024)	/* bytes; a config is far smaller */
#define CONF_MAX_DEPTH	32		/* nesting of lists and mappings */
#define CONF_MAX_ERRORS	100		/* then one "too many errors" */
#define CONF_NITEMS(a)	(sizeof(a) / sizeof((a)[0]))

#define KIB		1024ULL
#define MIB		(1024ULL * KIB)
#define GIB		(1024ULL * MIB)
#define SEC		1000ULL		/* durations are handled in ms */
#define MINUTE		(60 * SEC)
#define HOUR		(60 * MINUTE)
#define DAY		(24 * HOUR)

enum conf_type {
	CONF_SECTION,	/* a mapping of further keys */
	CONF_UINT,	/* unsigned; with CONF_AUTO "auto" stores 0 */
	CONF_DURATION,	/* uint32_t, in ms or s as the key's scale says */
	CONF_SIZE,	/* uint64_t bytes, with k/M/G suffixes */
	CONF_ADDRS,	/* list of struct conf_sockaddr, default port 53 */
	CONF_NETS,	/* list of struct conf_net (CIDR) */
};

#define CONF_REQUIRED	0x1	/* no default: must be in the file */
#define CONF_AUTO	0x2	/* "auto" is allowed and stored as 0 */

/*
 * One key of the file. For scalars min and max bound the value (in ms for
 * durations, bytes for sizes); for lists they bound the number of entries.
 * The default is written as it would be in the file (lists: entries
 * separated by spaces) and parsed by the same code as the file's values.
 */
struct conf_key {
	const char	*path;
	enum conf_type	 type;
	int		 flags;
	uint64_t	 min;
	uint64_t	 max;
	uint64_t	 scale;		/* durations: ms per stored unit */
	const char	*def;
	size_t		 off;		/* value or list pointer in conf */
	size_t		 noff;		/* lists: the count in conf */
	const char	*help;
};

#define OFF(f)	offsetof(struct conf, f)

static const struct conf_key conf_keys[] = {
	{ "server", CONF_SECTION, 0, 0, 0, 0, NULL, 0, 0,
	  "How veiligd listens for queries." },
	{ "server.listen", CONF_ADDRS, 0, 1, 64, 0,
	  "127.0.0.1:53 [::1]:53", OFF(listen), OFF(nlisten),
	  "Addresses to answer on, UDP and TCP; port 53 if omitted." },
	{ "server.workers", CONF_UINT, CONF_AUTO, 1, 256, 0,
	  "auto", OFF(workers), 0,
	  "Worker threads; auto means one per core." },
	{ "server.tcp-idle-timeout", CONF_DURATION, 0, 1 * SEC, 1 * HOUR, 1,
	  "10s", OFF(tcp_idle_ms), 0,
	  "Close a TCP connection idle this long." },
	{ "server.tcp-max-connections", CONF_UINT, 0, 1, 1000000, 0,
	  "1024", OFF(tcp_max_conns), 0,
	  "Most TCP connections open at once." },
	{ "server.tcp-max-queries", CONF_UINT, 0, 1, 1024, 0,
	  "32", OFF(tcp_max_queries), 0,
	  "Most queries in flight on one TCP connection." },
	{ "access", CONF_NETS, 0, 1, 4096, 0,
	  "127.0.0.0/8 ::1/128", OFF(access), OFF(naccess),
	  "Networks that may query; others are refused." },
	{ "upstreams", CONF_ADDRS, CONF_REQUIRED, 1, 32, 0,
	  NULL, OFF(upstreams), OFF(nupstreams),
	  "Recursive resolvers queries are forwarded to; port 53 if omitted." },
	{ "forward", CONF_SECTION, 0, 0, 0, 0, NULL, 0, 0,
	  "How queries are forwarded to the upstreams." },
	{ "forward.timeout", CONF_DURATION, 0, 10, 60 * SEC, 1,
	  "1s", OFF(fwd_timeout_ms), 0,
	  "Wait this long for an answer to one attempt." },
	{ "forward.attempts", CONF_UINT, 0, 1, 10, 0,
	  "3", OFF(fwd_attempts), 0,
	  "Attempts in all, each to the next upstream." },
	{ "cache", CONF_SECTION, 0, 0, 0, 0, NULL, 0, 0,
	  "The answer cache." },
	{ "cache.size", CONF_SIZE, 0, 64 * KIB, 64 * GIB, 0,
	  "256MiB", OFF(cache_size), 0,
	  "Memory for cached answers." },
	{ "cache.serve-stale", CONF_DURATION, 0, 0, 30 * DAY, SEC,
	  "1d", OFF(serve_stale), 0,
	  "Serve expired answers this long when upstreams fail; 0 is off." },
	{ "cache.max-ttl", CONF_DURATION, 0, 1 * SEC, 30 * DAY, SEC,
	  "1d", OFF(max_ttl), 0,
	  "Cache answers at most this long." },
	{ "cache.max-negative-ttl", CONF_DURATION, 0, 1 * SEC, 1 * DAY, SEC,
	  "1h", OFF(max_neg_ttl), 0,
	  "Cache NXDOMAIN and NODATA answers at most this long." },
};

#define CONF_NKEYS	CONF_NITEMS(conf_keys)

enum conf_kind {
	CONF_N_SCALAR,
	CONF_N_SEQ,
	CONF_N_MAP,
	CONF_N_BAD,	/* alias or unusable scalar, already reported */
};

/* A node of the parsed YAML tree; mappings hold key, value, key, ... */
struct conf_node {
	enum conf_kind		  kind;
	char			 *value;	/* scalars, NUL-terminated */
	int			  empty;	/* plain scalar with no text */
	size_t			  line;		/* 1-based */
	size_t			  col;		/* 1-based */
	struct conf_node	 *parent;
	struct conf_node	**kids;
	size_t			  nkids;
	size_t			  capkids;
};

/* State of one load: where errors go and which keys were seen. */
struct conf_state {
	const char		*name;
	const char		*text;
	size_t			 len;
	conf_error_cb		 errcb;
	void			*arg;
	unsigned		 nerr;
	struct conf		*conf;
	const struct conf_node	*seen[CONF_NKEYS];
};

static void	conf_walk_map(struct conf_state *, const char *,
		    const struct conf_node *);

/* Report one error at line:col (0 for none) through the callback. */
static void __attribute__((format(printf, 4, 5)))
conf_error(struct conf_state *st, size_t line, size_t col, const char *fmt,
    ...)
{
	char	msg[1024], full[1280];
	va_list	ap;

	/* Past the cap count on, so the load still fails, but stay quiet. */
	st->nerr++;
	if (st->nerr > CONF_MAX_ERRORS + 1)
		return;
	if (st->nerr == CONF_MAX_ERRORS + 1)
		snprintf(msg, sizeof msg, "too many errors, not reporting "
		    "more");
	else {
		va_start(ap, fmt);
		vsnprintf(msg, sizeof msg, fmt, ap);
		va_end(ap);
	}
	/* Line 0 means the error is about the whole file. */
	if (line == 0)
		snprintf(full, sizeof full, "%s: %s", st->name, msg);
	else
		snprintf(full, sizeof full, "%s:%zu:%zu: %s", st->name, line,
		    col, msg);
	if (st->errcb != NULL)
		st->errcb(st->arg, full);
}

/* Copy user text for an error message: printable, at most ~60 bytes. */
static const char *
conf_quote(const char *s, char *buf, size_t cap)
{
	size_t	i, n = 0;

	/* Control characters would garble a log line: mask them. */
	for (i = 0; s[i] != '\0' && n + 4 < cap && i < 60; i++)
		buf[n++] = isprint((unsigned char)s[i]) ? s[i] : '?';
	if (s[i] != '\0') {
		memcpy(buf + n, "...", 3);
		n += 3;
	}
	buf[n] = '\0';
	return (buf);
}

/* Error about the value of scalar node n under key k. */
#define conf_verror(st, k, n, fmt, ...) do {				\
	char	 q_[80];						\
	conf_error((st), (n)->line, (n)->col, "%s: '%s' " fmt,		\
	    (k)->path, conf_quote((n)->value, q_, sizeof q_),		\
	    ##__VA_ARGS__);						\
} while (0)

static void
conf_node_free(struct conf_node *n)
{
	size_t	i;

	if (n == NULL)
		return;
	for (i = 0; i < n->nkids; i++)
		conf_node_free(n->kids[i]);
	free(n->kids);
	free(n->value);
	free(n);
}

/* Add n below parent; 0 or -1 if out of memory. */
static int
conf_node_add(struct conf_node *parent, struct conf_node *n)
{
	struct conf_node	**kids;
	size_t			  cap;

	/* Grow by doubling: appends stay cheap for long lists. */
	if (parent->nkids == parent->capkids) {
		cap = parent->capkids == 0 ? 8 : parent->capkids * 2;
		kids = reallocarray(parent->kids, cap, sizeof *kids);
		if (kids == NULL)
			return (-1);
		parent->kids = kids;
		parent->capkids = cap;
	}
	parent->kids[parent->nkids++] = n;
	n->parent = parent;
	return (0);
}

/* Line and column (1-based) of byte offset off in the text. */
static void
conf_offset_pos(struct conf_state *st, size_t off, size_t *line, size_t *col)
{
	size_t	i;

	*line = 1;
	*col = 1;
	for (i = 0; i < off && i < st->len; i++) {
		if (st->text[i] == '\n') {
			(*line)++;
			*col = 1;
		} else
			(*col)++;
	}
}

/* Report libyaml's error with its position and context. */
static void
conf_yaml_error(struct conf_state *st, yaml_parser_t *p)
{
	size_t	line, col;

	/* Reader errors (bad UTF-8) give a byte offset, not a mark. */
	if (p->error == YAML_READER_ERROR)
		conf_offset_pos(st, p->problem_offset, &line, &col);
	else {
		line = p->problem_mark.line + 1;
		col = p->problem_mark.column + 1;
	}
	if (p->error == YAML_MEMORY_ERROR)
		conf_error(st, 0, 0, "out of memory");
	else if (p->context != NULL)
		conf_error(st, line, col, "YAML syntax error: %s (%s that "
		    "starts at line %zu column %zu)",
		    p->problem ? p->problem : "?",
		    p->context, (size_t)p->context_mark.line + 1,
		    (size_t)p->context_mark.column + 1);
	else
		conf_error(st, line, col, "YAML syntax error: %s",
		    p->problem ? p->problem : "?");
}

/* Report an anchor on a node: they are not supported. */
static void
conf_check_anchor(struct conf_state *st, const yaml_event_t *ev,
    const yaml_char_t *anchor)
{
	char	q[80];

	if (anchor == NULL)
		return;
	conf_error(st, ev->start_mark.line + 1, ev->start_mark.column + 1,
	    "anchor '&%s': anchors and aliases are not supported",
	    conf_quote((const char *)anchor, q, sizeof q));
}

/* Make a tree node for event ev; NULL if out of memory. */
static struct conf_node *
conf_node_new(struct conf_state *st, const yaml_event_t *ev,
    enum conf_kind kind)
{
	struct conf_node	*n;
	const char		*v;
	size_t			 len;

	if ((n = calloc(1, sizeof *n)) == NULL)
		return (NULL);
	n->kind = kind;
	n->line = ev->start_mark.line + 1;
	n->col = ev->start_mark.column + 1;
	/* Lists, maps and aliases get an empty value: errors may quote it. */
	if (ev->type != YAML_SCALAR_EVENT)
		v = "", len = 0;
	else {
		v = (const char *)ev->data.scalar.value;
		len = ev->data.scalar.length;
		n->empty = len == 0 &&
		    ev->data.scalar.style == YAML_PLAIN_SCALAR_STYLE;
	}
	if ((n->value = malloc(len + 1)) == NULL) {
		free(n);
		return (NULL);
	}
	memcpy(n->value, v, len);
	n->value[len] = '\0';
	/* A "\0" escape would cut the value short: refuse it. */
	if (kind == CONF_N_SCALAR && strlen(n->value) != len) {
		conf_error(st, n->line, n->col, "value contains a NUL "
		    "character");
		n->kind = CONF_N_BAD;
	}
	return (n);
}

/*
 * Parse the text into a tree. Returns 0 with *root set (NULL for an empty
 * file), or -1 after a syntax error, which has been reported.
 */
static int
conf_parse_tree(struct conf_state *st, struct conf_node **root)
{
	yaml_parser_t		 p;
	yaml_event_t		 ev;
	struct conf_node	*cur = NULL, *n;
	enum conf_kind		 kind;
	const yaml_char_t	*anchor;
	int			 done = 0, rv = 0, ndocs = 0, depth = 0;
	int			 isnode;
	char			 q[80];

	*root = NULL;
	if (!yaml_parser_initialize(&p)) {
		conf_error(st, 0, 0, "out of memory");
		return (-1);
	}
	yaml_parser_set_input_string(&p, (const unsigned char *)st->text,
	    st->len);

	/* Ends at the end of the stream or an error; input is bounded. */
	while (!done) {
		if (!yaml_parser_parse(&p, &ev)) {
			conf_yaml_error(st, &p);
			rv = -1;
			break;
		}
		/* Events that make a node leave isnode set. */
		n = NULL;
		anchor = NULL;
		kind = CONF_N_BAD;
		isnode = 1;
		switch (ev.type) {
		case YAML_STREAM_END_EVENT:
			done = 1;
			isnode = 0;
			break;
		case YAML_DOCUMENT_START_EVENT:
			if (++ndocs > 1) {
				conf_error(st, ev.start_mark.line + 1,
				    ev.start_mark.column + 1, "only one YAML "
				    "document is allowed");
				rv = -1;
				done = 1;
			}
			isnode = 0;
			break;
		case YAML_ALIAS_EVENT:
			/* Reported, then kept as a bad node: no cascade. */
			conf_error(st, ev.start_mark.line + 1,
			    ev.start_mark.column + 1, "alias '*%s': anchors "
			    "and aliases are not supported", conf_quote(
			    (const char *)ev.data.alias.anchor, q, sizeof q));
			n = conf_node_new(st, &ev, kind);
			break;
		case YAML_SCALAR_EVENT:
			anchor = ev.data.scalar.anchor;
			kind = CONF_N_SCALAR;
			n = conf_node_new(st, &ev, kind);
			break;
		case YAML_SEQUENCE_START_EVENT:
			anchor = ev.data.sequence_start.anchor;
			kind = CONF_N_SEQ;
			n = conf_node_new(st, &ev, kind);
			break;
		case YAML_MAPPING_START_EVENT:
			anchor = ev.data.mapping_start.anchor;
			kind = CONF_N_MAP;
			n = conf_node_new(st, &ev, kind);
			break;
		case YAML_SEQUENCE_END_EVENT:
		case YAML_MAPPING_END_EVENT:
			/* Back up to the enclosing list or mapping. */
			if (cur != NULL)
				cur = cur->parent;
			depth--;
			isnode = 0;
			break;
		default:
			isnode = 0;
			break;
		}
		/* A new node: hang it in the tree, and enter lists and maps. */
		if (isnode) {
			conf_check_anchor(st, &ev, anchor);
			if (n == NULL ||
			    (cur != NULL && conf_node_add(cur, n) == -1)) {
				conf_node_free(n);
				conf_error(st, 0, 0, "out of memory");
				rv = -1;
				done = 1;
			} else if (cur == NULL && *root == NULL)
				*root = n;
			else if (cur == NULL) {
				/* A second top node: libyaml never does. */
				conf_error(st, n->line, n->col, "unexpected "
				    "second top-level node");
				conf_node_free(n);
				rv = -1;
				done = 1;
			}
			if (rv == 0 &&
			    (kind == CONF_N_SEQ || kind == CONF_N_MAP)) {
				cur = n;
				if (++depth > CONF_MAX_DEPTH) {
					conf_error(st, n->line, n->col,
					    "nested more than %d levels deep",
					    CONF_MAX_DEPTH);
					rv = -1;
					done = 1;
				}
			}
		}
		yaml_event_delete(&ev);
	}
	yaml_parser_delete(&p);
	return (rv);
}

/* Name of a node's kind for errors. */
static const char *
conf_kind_name(const struct conf_node *n)
{
	switch (n->kind) {
	case CONF_N_SEQ:
		return ("a list");
	case CONF_N_MAP:
		return ("a mapping");
	default:
		return ("a single value");
	}
}

/* Parse decimal digits only into *v; 0 or -1 (empty, junk, overflow). */
static int
conf_number(const char *s, size_t len, uint64_t *v)
{
	size_t	i;

	/* 19 digits always fit in 64 bits, so no overflow check. */
	*v = 0;
	if (len == 0 || len > 19)
		return (-1);
	for (i = 0; i < len; i++) {
		if (s[i] < '0' || s[i] > '9')
			return (-1);
		*v = *v * 10 + (uint64_t)(s[i] - '0');
	}
	return (0);
}

/* Length of the leading run of digits of s. */
static size_t
conf_digits(const char *s)
{
	size_t	i = 0;

	while (s[i] >= '0' && s[i] <= '9')
		i++;
	return (i);
}

/* Write a duration in ms in its largest exact unit. */
static void
conf_duration_str(uint64_t ms, char *buf, size_t cap)
{
	if (ms == 0)
		snprintf(buf, cap, "0");
	else if (ms % DAY == 0)
		snprintf(buf, cap, "%llud", (unsigned long long)(ms / DAY));
	else if (ms % HOUR == 0)
		snprintf(buf, cap, "%lluh", (unsigned long long)(ms / HOUR));
	else if (ms % MINUTE == 0)
		snprintf(buf, cap, "%llum", (unsigned long long)(ms / MINUTE));
	else if (ms % SEC == 0)
		snprintf(buf, cap, "%llus", (unsigned long long)(ms / SEC));
	else
		snprintf(buf, cap, "%llums", (unsigned long long)ms);
}

/* Write a size in bytes in its largest exact binary unit. */
static void
conf_size_str(uint64_t v, char *buf, size_t cap)
{
	if (v != 0 && v % GIB == 0)
		snprintf(buf, cap, "%lluGiB", (unsigned long long)(v / GIB));
	else if (v != 0 && v % MIB == 0)
		snprintf(buf, cap, "%lluMiB", (unsigned long long)(v / MIB));
	else if (v != 0 && v % KIB == 0)
		snprintf(buf, cap, "%lluKiB", (unsigned long long)(v / KIB));
	else
		snprintf(buf, cap, "%llu", (unsigned long long)v);
}

/* A duration in ms: digits and a unit ms, s, m, h or d (none: s). */
static int
conf_parse_duration(const char *s, uint64_t *ms)
{
	static const struct {
		const char	*unit;
		uint64_t	 ms;
	} units[] = {
		{ "", SEC }, { "ms", 1 }, { "s", SEC }, { "m", MINUTE },
		{ "h", HOUR }, { "d", DAY },
	};
	size_t		 nd = conf_digits(s), i;
	uint64_t	 v;

	/* The cap keeps v * DAY in 64 bits; the range check comes later. */
	if (conf_number(s, nd, &v) == -1 || v > 1000000000ULL)
		return (-1);
	for (i = 0; i < CONF_NITEMS(units); i++) {
		if (strcmp(s + nd, units[i].unit) == 0) {
			*ms = v * units[i].ms;
			return (0);
		}
	}
	return (-1);
}

/* A size in bytes: digits and an optional unit (k, KiB, KB, ...). */
static int
conf_parse_size(const char *s, uint64_t *bytes)
{
	static const struct {
		const char	*unit;
		uint64_t	 mult;
	} units[] = {
		{ "", 1 }, { "k", KIB }, { "K", KIB }, { "KiB", KIB },
		{ "KB", 1000 }, { "M", MIB }, { "MiB", MIB },
		{ "MB", 1000000 }, { "G", GIB }, { "GiB", GIB },
		{ "GB", 1000000000 },
	};
	size_t		 nd = conf_digits(s), i;
	uint64_t	 v;

	/* The unit is the whole rest: "1 GiB" and "1GiBx" are refused. */
	if (conf_number(s, nd, &v) == -1 || v > (1ULL << 40))
		return (-1);
	for (i = 0; i < CONF_NITEMS(units); i++) {
		if (strcmp(s + nd, units[i].unit) == 0) {
			/* Too large to hold is out of range all the same. */
			*bytes = v > UINT64_MAX / units[i].mult ? UINT64_MAX :
			    v * units[i].mult;
			return (0);
		}
	}
	return (-1);
}

/* Set the scalar key k from node n; errors are reported. */
static void
conf_set_scalar(struct conf_state *st, const struct conf_key *k,
    const struct conf_node *n)
{
	char		*dst = (char *)st->conf + k->off;
	char		 lo[32], hi[32];
	uint64_t	 v;

	/* A bad node was reported when it was read. */
	if (n->kind == CONF_N_BAD)
		return;
	if (n->kind != CONF_N_SCALAR) {
		conf_error(st, n->line, n->col, "%s: expected a single value, "
		    "not %s", k->path, conf_kind_name(n));
		return;
	}
	/* "key:" with nothing after it, or an empty quoted string. */
	if (n->value[0] == '\0') {
		conf_error(st, n->line, n->col, "%s: missing value", k->path);
		return;
	}
	switch (k->type) {
	case CONF_UINT:
		if ((k->flags & CONF_AUTO) && strcmp(n->value, "auto") == 0) {
			*(unsigned *)dst = 0;
			return;
		}
		if (conf_number(n->value, strlen(n->value), &v) == -1 ||
		    v < k->min || v > k->max) {
			conf_verror(st, k, n, "is not %sa number from %llu to "
			    "%llu", (k->flags & CONF_AUTO) ? "'auto' or " : "",
			    (unsigned long long)k->min,
			    (unsigned long long)k->max);
			return;
		}
		*(unsigned *)dst = (unsigned)v;
		break;
	case CONF_DURATION:
		/* Ranges are quoted in the units a user would write. */
		conf_duration_str(k->min, lo, sizeof lo);
		conf_duration_str(k->max, hi, sizeof hi);
		if (conf_parse_duration(n->value, &v) == -1) {
			conf_verror(st, k, n, "is not a duration (a number "
			    "with unit ms, s, m, h or d)");
			return;
		}
		if (v < k->min || v > k->max) {
			conf_verror(st, k, n, "is out of range %s to %s", lo,
			    hi);
			return;
		}
		/* 1500ms cannot be stored in a field of whole seconds. */
		if (v % k->scale != 0) {
			conf_verror(st, k, n, "is not a whole number of "
			    "seconds");
			return;
		}
		*(uint32_t *)dst = (uint32_t)(v / k->scale);
		break;
	case CONF_SIZE:
		conf_size_str(k->min, lo, sizeof lo);
		conf_size_str(k->max, hi, sizeof hi);
		if (conf_parse_size(n->value, &v) == -1) {
			conf_verror(st, k, n, "is not a size (a number of "
			    "bytes, or with unit KiB, MiB, GiB, KB, MB or GB)");
			return;
		}
		if (v < k->min || v > k->max) {
			conf_verror(st, k, n, "is out of range %s to %s", lo,
			    hi);
			return;
		}
		*(uint64_t *)dst = v;
		break;
	default:
		break;
	}
}

/* Parse a port after ':' into sa (network order); 0 or -1. */
static int
conf_port(const char *s, uint16_t *port)
{
	uint64_t	v;

	if (conf_number(s, strlen(s), &v) == -1 || v < 1 || v > 65535)
		return (-1);
	*port = htons((uint16_t)v);
	return (0);
}

/*
 * One address with an optional port: 192.0.2.1, 192.0.2.1:53, [::1],
 * [::1]:53 or a bare ::1. Errors are reported; 0 or -1.
 */
static int
conf_parse_sockaddr(struct conf_state *st, const struct conf_key *k,
    const struct conf_node *n, struct conf_sockaddr *out)
{
	struct sockaddr_in	*sin = (struct sockaddr_in *)&out->ss;
	struct sockaddr_in6	*sin6 = (struct sockaddr_in6 *)&out->ss;
	const char		*s = n->value, *port = NULL, *end;
	char			 host[INET6_ADDRSTRLEN + 1];
	size_t			 hlen;
	uint16_t		 p = htons(53);
	int			 v6;

	/* Zeroed, so that two equal addresses compare equal bytewise. */
	memset(out, 0, sizeof *out);
	if (strchr(s, '%') != NULL) {
		conf_verror(st, k, n, "has a scope id, which is not supported");
		return (-1);
	}
	/* Split host and port; inet_pton() below never looks names up. */
	if (s[0] == '[') {
		/* [v6] or [v6]:port */
		if ((end = strchr(s, ']')) == NULL)
			goto bad;
		v6 = 1;
		hlen = (size_t)(end - s - 1);
		s++;
		if (end[1] == ':')
			port = end + 2;
		else if (end[1] != '\0')
			goto bad;
	} else if ((end = strchr(s, ':')) != NULL && strchr(end + 1, ':')) {
		/* Two colons or more: a bare IPv6 address, no port. */
		v6 = 1;
		hlen = strlen(s);
	} else {
		/* IPv4, with or without ":port". */
		v6 = 0;
		hlen = end != NULL ? (size_t)(end - s) : strlen(s);
		if (end != NULL)
			port = end + 1;
	}
	if (hlen >= sizeof host)
		goto bad;
	memcpy(host, s, hlen);
	host[hlen] = '\0';
	if (port != NULL && conf_port(port, &p) == -1) {
		conf_verror(st, k, n, "has a bad port (not a number from 1 to "
		    "65535)");
		return (-1);
	}
	if (v6 && inet_pton(AF_INET6, host, &sin6->sin6_addr) == 1) {
		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = p;
		out->len = sizeof *sin6;
		return (0);
	}
	if (!v6 && inet_pton(AF_INET, host, &sin->sin_addr) == 1) {
		sin->sin_family = AF_INET;
		sin->sin_port = p;
		out->len = sizeof *sin;
		return (0);
	}
bad:
	conf_verror(st, k, n, "is not an address with optional port "
	    "(192.0.2.1, 192.0.2.1:53, [2001:db8::1]:53 or 2001:db8::1)");
	return (-1);
}

/* One network: address/prefix, or a bare address (/32, /128); 0 or -1. */
static int
conf_parse_net(struct conf_state *st, const struct conf_key *k,
    const struct conf_node *n, struct conf_net *out)
{
	const char	*s = n->value, *slash;
	char		 host[INET6_ADDRSTRLEN + 1], net[INET6_ADDRSTRLEN];
	uint8_t		 masked[16];
	size_t		 hlen, alen, i;
	uint64_t	 prefix;
	unsigned	 bits;

	memset(out, 0, sizeof *out);
	if (strchr(s, '%') != NULL) {
		conf_verror(st, k, n, "has a scope id, which is not supported");
		return (-1);
	}
	/* The family follows from what inet_pton() accepts. */
	slash = strchr(s, '/');
	hlen = slash != NULL ? (size_t)(slash - s) : strlen(s);
	if (hlen >= sizeof host)
		goto bad;
	memcpy(host, s, hlen);
	host[hlen] = '\0';
	if (inet_pton(AF_INET, host, out->addr) == 1) {
		out->family = AF_INET;
		alen = 4;
	} else if (inet_pton(AF_INET6, host, out->addr) == 1) {
		out->family = AF_INET6;
		alen = 16;
	} else
		goto bad;
	/* No prefix: a single host. */
	bits = (unsigned)alen * 8;
	prefix = bits;
	if (slash != NULL && (conf_number(slash + 1, strlen(slash + 1),
	    &prefix) == -1 || prefix > bits)) {
		conf_verror(st, k, n, "has a bad prefix length (not a number "
		    "from 0 to %u)", bits);
		return (-1);
	}
	out->prefix = (unsigned)prefix;

	/* Host bits must be zero: "192.0.2.1/24" is most likely a typo. */
	for (i = 0; i < alen; i++) {
		if (i * 8 >= prefix)
			masked[i] = 0;
		else if ((i + 1) * 8 <= prefix)
			masked[i] = out->addr[i];
		else
			masked[i] = out->addr[i] &
			    (uint8_t)(0xff << (8 - (prefix - i * 8)));
	}
	if (memcmp(masked, out->addr, alen) != 0) {
		inet_ntop(out->family, masked, net, sizeof net);
		conf_verror(st, k, n, "has host bits set (the network is "
		    "%s/%u)", net, out->prefix);
		return (-1);
	}
	return (0);
bad:
	conf_verror(st, k, n, "is not a network (192.0.2.0/24, "
	    "2001:db8::/32 or a single address)");
	return (-1);
}

/* Set the list key k from the sequence node n; errors are reported. */
static void
conf_set_list(struct conf_state *st, const struct conf_key *k,
    const struct conf_node *n)
{
	char		 *base = (char *)st->conf;
	void		**dst = (void **)(base + k->off);
	size_t		 *count = (size_t *)(base + k->noff);
	size_t		  i, size, got = 0;
	char		 *items;
	const struct conf_node *item;

	if (n->kind == CONF_N_BAD)
		return;
	if (n->kind != CONF_N_SEQ) {
		conf_error(st, n->line, n->col, "%s: expected a list, not %s",
		    k->path, conf_kind_name(n));
		return;
	}
	/* A wrong count is one error; the entries are not read then. */
	if (n->nkids < k->min || n->nkids > k->max) {
		conf_error(st, n->line, n->col, "%s: has %zu entries, not "
		    "from %llu to %llu", k->path, n->nkids,
		    (unsigned long long)k->min, (unsigned long long)k->max);
		return;
	}
	/* Good entries are packed at the front; got counts them. */
	size = k->type == CONF_NETS ? sizeof(struct conf_net) :
	    sizeof(struct conf_sockaddr);
	if ((items = calloc(n->nkids, size)) == NULL) {
		conf_error(st, n->line, n->col, "%s: out of memory", k->path);
		return;
	}
	for (i = 0; i < n->nkids; i++) {
		item = n->kids[i];
		if (item->kind == CONF_N_BAD)
			continue;
		if (item->kind != CONF_N_SCALAR) {
			conf_error(st, item->line, item->col, "%s: expected "
			    "an address, not %s", k->path,
			    conf_kind_name(item));
			continue;
		}
		if (k->type == CONF_NETS) {
			if (conf_parse_net(st, k, item, (struct conf_net *)
			    (items + got * size)) == 0)
				got++;
		} else if (conf_parse_sockaddr(st, k, item,
		    (struct conf_sockaddr *)(items + got * size)) == 0)
			got++;
	}
	free(*dst);
	*dst = items;
	*count = got;
}

/* Set key k from node n according to its type. */
static void
conf_set(struct conf_state *st, const struct conf_key *k,
    const struct conf_node *n)
{
	if (k->type == CONF_ADDRS || k->type == CONF_NETS)
		conf_set_list(st, k, n);
	else
		conf_set_scalar(st, k, n);
}

/* Apply k's default, parsed from its text like a value in the file. */
static void
conf_set_default(struct conf_state *st, const struct conf_key *k)
{
	struct conf_node	 seq, items[8], *kids[8];
	char			 buf[128], *p, *word;
	size_t			 i = 0;

	/* Build on the stack the nodes the file would have given. */
	memset(&seq, 0, sizeof seq);
	seq.kind = CONF_N_SCALAR;
	seq.value = buf;
	snprintf(buf, sizeof buf, "%s", k->def);
	if (k->type == CONF_ADDRS || k->type == CONF_NETS) {
		seq.kind = CONF_N_SEQ;
		seq.kids = kids;
		p = buf;
		while ((word = strsep(&p, " ")) != NULL && i < 8) {
			memset(&items[i], 0, sizeof items[i]);
			items[i].kind = CONF_N_SCALAR;
			items[i].value = word;
			kids[i] = &items[i];
			i++;
		}
		seq.nkids = i;
	}
	conf_set(st, k, &seq);
}

/* Find the key named name directly under prefix ("" for the top). */
static int
conf_key_find(const char *prefix, const char *name)
{
	size_t	 i, plen = strlen(prefix);
	const char *rest;

	/* Match one level only, so "server.workers" is no top key. */
	for (i = 0; i < CONF_NKEYS; i++) {
		rest = conf_keys[i].path;
		if (plen > 0) {
			if (strncmp(rest, prefix, plen) != 0 ||
			    rest[plen] != '.')
				continue;
			rest += plen + 1;
		}
		if (strchr(rest, '.') == NULL && strcmp(rest, name) == 0)
			return ((int)i);
	}
	return (-1);
}

/* Write the names of the keys directly under prefix into buf. */
static void
conf_key_names(const char *prefix, char *buf, size_t cap)
{
	size_t	 i, plen = strlen(prefix), n = 0;
	const char *rest;

	buf[0] = '\0';
	for (i = 0; i < CONF_NKEYS; i++) {
		rest = conf_keys[i].path;
		if (plen > 0) {
			if (strncmp(rest, prefix, plen) != 0 ||
			    rest[plen] != '.')
				continue;
			rest += plen + 1;
		}
		if (strchr(rest, '.') != NULL || n >= cap)
			continue;
		n += (size_t)snprintf(buf + n, cap - n, "%s%s",
		    n > 0 ? ", " : "", rest);
	}
}

/* Walk one mapping of keys under prefix ("" for the top level). */
static void
conf_walk_map(struct conf_state *st, const char *prefix,
    const struct conf_node *map)
{
	const struct conf_node	*key, *val;
	const struct conf_key	*k;
	char			 names[256], q[80], path[160];
	size_t			 i;
	int			 idx;

	if (map->kind == CONF_N_BAD || (map->kind == CONF_N_SCALAR &&
	    map->empty))
		return;		/* reported, or an empty section */
	if (map->kind != CONF_N_MAP) {
		conf_key_names(prefix, names, sizeof names);
		if (*prefix == '\0')
			conf_error(st, map->line, map->col, "expected a "
			    "mapping of keys (%s) at the top, not %s", names,
			    conf_kind_name(map));
		else
			conf_error(st, map->line, map->col, "%s: expected a "
			    "mapping of keys (%s), not %s", prefix, names,
			    conf_kind_name(map));
		return;
	}
	for (i = 0; i + 1 < map->nkids; i += 2) {
		key = map->kids[i];
		val = map->kids[i + 1];
		if (key->kind == CONF_N_BAD)
			continue;
		if (key->kind != CONF_N_SCALAR) {
			conf_error(st, key->line, key->col, "%s%skeys must be "
			    "names, not %s", prefix, *prefix ? ": " : "",
			    conf_kind_name(key));
			continue;
		}
		/* The full path names the key in errors. */
		conf_quote(key->value, q, sizeof q);
		snprintf(path, sizeof path, "%s%s%s", prefix,
		    *prefix ? "." : "", q);
		if ((idx = conf_key_find(prefix, key->value)) == -1) {
			conf_key_names(prefix, names, sizeof names);
			conf_error(st, key->line, key->col, "%s: unknown key; "
			    "valid keys %s%s are: %s", path,
			    *prefix ? "in " : "at the top level", prefix,
			    names);
			continue;
		}
		/*
		 * Each path occurs in one place only, so seen[] finds
		 * duplicates in any mapping without comparing keys.
		 */
		k = &conf_keys[idx];
		if (st->seen[idx] != NULL) {
			conf_error(st, key->line, key->col, "%s: duplicate "
			    "key (first at line %zu column %zu)", k->path,
			    st->seen[idx]->line, st->seen[idx]->col);
			continue;
		}
		st->seen[idx] = key;
		if (k->type == CONF_SECTION)
			conf_walk_map(st, k->path, val);
		else
			conf_set(st, k, val);
	}
}

/* Load from text of len bytes (NUL-terminated); name is for errors. */
static struct conf *
conf_load_text(const char *name, const char *text, size_t len,
    conf_error_cb errcb, void *arg)
{
	struct conf_state	 st;
	struct conf_node	*root = NULL;
	const struct conf_key	*k;
	size_t			 i;

	memset(&st, 0, sizeof st);
	st.name = name;
	st.text = text;
	st.len = len;
	st.errcb = errcb;
	st.arg = arg;
	if ((st.conf = calloc(1, sizeof *st.conf)) == NULL ||
	    (st.conf->path = strdup(name)) == NULL) {
		conf_error(&st, 0, 0, "out of memory");
		conf_free(st.conf);
		return (NULL);
	}

	if (conf_parse_tree(&st, &root) == 0) {
		if (root != NULL)
			conf_walk_map(&st, "", root);
		/*
		 * Keys not in the file: defaults, or an error if required.
		 * A top level that is not a mapping is one error already:
		 * saying that required keys are missing too is only noise.
		 */
		for (i = 0; i < CONF_NKEYS; i++) {
			k = &conf_keys[i];
			if (root != NULL && root->kind != CONF_N_MAP &&
			    !root->empty)
				break;
			if (st.seen[i] != NULL || k->type == CONF_SECTION)
				continue;
			if (k->flags & CONF_REQUIRED)
				conf_error(&st, 1, 1, "%s: required key is "
				    "missing", k->path);
			else
				conf_set_default(&st, k);
		}
	}
	conf_node_free(root);
	if (st.nerr > 0) {
		conf_free(st.conf);
		return (NULL);
	}
	return (st.conf);
}

struct conf *
conf_load(const char *path, conf_error_cb errcb, void *arg)
{
	struct conf_state	 st;
	struct conf		*conf;
	FILE			*f;
	char			*buf;
	size_t			 len, line, col;
	int			 bad;

	memset(&st, 0, sizeof st);
	st.name = path;
	st.errcb = errcb;
	st.arg = arg;
	if ((f = fopen(path, "r")) == NULL) {
		conf_error(&st, 0, 0, "cannot open: %s", strerror(errno));
		return (NULL);
	}
	if ((buf = malloc(CONF_MAX_FILE + 1)) == NULL) {
		fclose(f);
		conf_error(&st, 0, 0, "out of memory");
		return (NULL);
	}
	/* One read more than the limit tells a too large file. */
	len = fread(buf, 1, CONF_MAX_FILE + 1, f);
	bad = ferror(f);
	fclose(f);
	if (bad) {
		conf_error(&st, 0, 0, "cannot read: %s", strerror(errno));
		free(buf);
		return (NULL);
	}
	if (len > CONF_MAX_FILE) {
		conf_error(&st, 0, 0, "larger than %d bytes", CONF_MAX_FILE);
		free(buf);
		return (NULL);
	}
	/* libyaml would stop at a NUL: refuse it rather than half-read. */
	buf[len] = '\0';
	if (strlen(buf) != len) {
		st.text = buf;
		st.len = len;
		conf_offset_pos(&st, strlen(buf), &line, &col);
		conf_error(&st, line, col, "contains a NUL byte");
		free(buf);
		return (NULL);
	}
	conf = conf_load_text(path, buf, len, errcb, arg);
	free(buf);
	return (conf);
}

struct conf *
conf_load_string(const char *name, const char *text, conf_error_cb errcb,
    void *arg)
{
	return (conf_load_text(name, text, strlen(text), errcb, arg));
}

void
conf_free(struct conf *conf)
{
	if (conf == NULL)
		return;
	free(conf->path);
	free(conf->listen);
	free(conf->access);
	free(conf->upstreams);
	free(conf);
}

char *
conf_sockaddr_str(const struct conf_sockaddr *sa, char *out, size_t cap)
{
	const struct sockaddr_in	*sin;
	const struct sockaddr_in6	*sin6;
	char				 host[INET6_ADDRSTRLEN];
	int				 n;

	/* Returns out, or NULL for an unknown family or a short buffer. */
	switch (sa->ss.ss_family) {
	case AF_INET:
		sin = (const struct sockaddr_in *)&sa->ss;
		inet_ntop(AF_INET, &sin->sin_addr, host, sizeof host);
		n = snprintf(out, cap, "%s:%u", host, ntohs(sin->sin_port));
		break;
	case AF_INET6:
		sin6 = (const struct sockaddr_in6 *)&sa->ss;
		inet_ntop(AF_INET6, &sin6->sin6_addr, host, sizeof host);
		n = snprintf(out, cap, "[%s]:%u", host,
		    ntohs(sin6->sin6_port));
		break;
	default:
		return (NULL);
	}
	if (n < 0 || (size_t)n >= cap)
		return (NULL);
	return (out);
}

/* Print list key k: each entry quoted, as [ and : mean things in YAML. */
static void
conf_print_list(const struct conf *conf, const struct conf_key *k,
    const char *indent, FILE *f)
{
	const char		*base = (const char *)conf;
	const void		*items = *(void *const *)(base + k->off);
	size_t			 n = *(const size_t *)(base + k->noff), i;
	const struct conf_net	*net;
	char			 buf[INET6_ADDRSTRLEN + 16];

	if (n == 0) {
		fprintf(f, " []\n");
		return;
	}
	fprintf(f, "\n");
	for (i = 0; i < n; i++) {
		if (k->type == CONF_NETS) {
			net = (const struct conf_net *)items + i;
			inet_ntop(net->family, net->addr, buf, sizeof buf);
			fprintf(f, "%s  - \"%s/%u\"\n", indent, buf,
			    net->prefix);
		} else if (conf_sockaddr_str((const struct conf_sockaddr *)
		    items + i, buf, sizeof buf) != NULL)
			fprintf(f, "%s  - \"%s\"\n", indent, buf);
	}
}

void
conf_print(const struct conf *conf, FILE *f)
{
	const struct conf_key	*k;
	const char		*base = (const char *)conf, *name, *indent;
	const char		*field;
	char			 buf[64];
	size_t			 i;
	uint64_t		 v;

	fprintf(f, "# veiligd configuration read from %s, with defaults\n",
	    conf->path != NULL ? conf->path : "?");
	for (i = 0; i < CONF_NKEYS; i++) {
		k = &conf_keys[i];
		/* Keys in a section are indented; sections print a header. */
		field = base + k->off;
		name = strrchr(k->path, '.');
		indent = name != NULL ? "  " : "";
		name = name != NULL ? name + 1 : k->path;
		if (*indent == '\0')
			fprintf(f, "\n");
		fprintf(f, "%s# %s\n%s%s:", indent, k->help, indent, name);
		switch (k->type) {
		case CONF_SECTION:
			fprintf(f, "\n");
			break;
		case CONF_UINT:
			v = *(const unsigned *)field;
			if (v == 0 && (k->flags & CONF_AUTO))
				fprintf(f, " auto\n");
			else
				fprintf(f, " %llu\n", (unsigned long long)v);
			break;
		case CONF_DURATION:
			/* Back to ms, then in the largest exact unit. */
			v = (uint64_t)*(const uint32_t *)field * k->scale;
			conf_duration_str(v, buf, sizeof buf);
			fprintf(f, " %s\n", buf);
			break;
		case CONF_SIZE:
			conf_size_str(*(const uint64_t *)field, buf,
			    sizeof buf);
			fprintf(f, " %s\n", buf);
			break;
		case CONF_ADDRS:
		case CONF_NETS:
			conf_print_list(conf, k, indent, f);
			break;
		}
	}
}
