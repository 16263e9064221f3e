/*
 * conf.c: read veiligd.yaml and the board files with libyaml and check
 * them against tables of keys.
 *
 * Reading happens in two steps. First libyaml's event parser turns the
 * text into a small tree of nodes (scalar, sequence, mapping), each with
 * its 1-based line and column; a syntax error stops here, since libyaml
 * cannot go on after one. Aliases and anchors are reported as errors but
 * the tree is still built, so later errors are found too. Then the tree
 * is walked against a table of keys: conf_keys[] for veiligd.yaml,
 * conf_list_keys[] for each entry of lists:, conf_board_keys[] for a
 * board file. Each key's type, range, default, place in its struct and
 * help text live there and nowhere else. Every semantic error is
 * reported in the same pass, and the errors of every board file come out
 * of the same conf_load() call as those of veiligd.yaml.
 *
 * Relative paths (list files, the boards glob, filter.tables, geoip,
 * control) are resolved against the directory of the file, made absolute
 * at load time: veiligd runs daemon(3), which moves to "/". For
 * conf_load_string() the directory is taken from the name argument, so a
 * bare name means the current directory.
 *
 * The event API is used rather than yaml_parser_load() because the
 * document API resolves aliases silently, and we want to reject them.
 */

#include <sys/types.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <glob.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <yaml.h>

#include "conf.h"
#include "iptable.h"
#include "lists.h"
#include "log.h"
#include "wire.h"

#ifndef VEILIG_DATADIR
#define VEILIG_DATADIR	"/usr/local/share/veilig"
#endif

#define CONF_MAX_FILE	(1024 * 1024)	/* bytes; a config is far smaller */
#define CONF_READ_FIRST	4096	/* bytes read first when the size is unknown */
#define CONF_MAX_DEPTH	32		/* nesting of lists and mappings */
#define CONF_MAX_ERRORS	100		/* per file, then "too many errors" */
#define CONF_MAX_KEYS	96		/* keys in one table */
#define CONF_MAX_BOARDS	10000		/* files the boards glob may match */
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
	CONF_ADDR,	/* one struct conf_sockaddr, default port in scale */
	CONF_NETS,	/* list of struct conf_net (CIDR) */
	CONF_PATH,	/* char *, resolved against the file's directory */
	CONF_URL,	/* char *, http:// or https:// */
	CONF_TEXT,	/* char *, min to max bytes */
	CONF_FORMAT,	/* int, enum lists_format */
	CONF_BOOL,	/* int, true or false */
	CONF_ACTION,	/* enum conf_action and redirect addresses (boards) */
	CONF_LISTS,	/* lists: a mapping of name to conf_list_keys[] */
	CONF_BLOCK,	/* uint64_t mask: list of names of lists */
	CONF_NAMES,	/* list of struct conf_name (domain names) */
	CONF_COUNTRIES,	/* list of char[3], ISO 3166 alpha-2 */
	CONF_ASNS,	/* list of uint32_t AS numbers */
};

#define CONF_REQUIRED	0x1	/* no default: must be in the file */
#define CONF_AUTO	0x2	/* "auto" is allowed and stored as 0 */

/*
 * One key of a file. For scalars min and max bound the value (in ms for
 * durations, bytes for sizes, length for text); for lists they bound the
 * number of entries. The default is written as it would be in the file
 * (lists: entries separated by spaces) and parsed by the same code as
 * the file's values; a key with neither default nor CONF_REQUIRED is
 * left zero (NULL) when absent.
 */
struct conf_key {
	const char	*path;
	enum conf_type	 type;
	int		 flags;
	uint64_t	 min;
	uint64_t	 max;
	uint64_t	 scale;		/* durations: ms per stored unit;
					   CONF_ADDR: the default port */
	const char	*def;
	size_t		 off;		/* value or list pointer in struct */
	size_t		 noff;		/* lists: the count in struct */
	const char	*help;
};

#define OFF(f)	offsetof(struct conf, f)
#define LOFF(f)	offsetof(struct conf_list, f)
#define BOFF(f)	offsetof(struct conf_board, f)

/* veiligd.yaml; conf_print() writes the keys in this order. */
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
	  "Most TCP connections open at once, over all workers." },
	{ "server.tcp-max-queries", CONF_UINT, 0, 1, 1024, 0,
	  "32", OFF(tcp_max_queries), 0,
	  "Most queries in flight on one TCP connection." },
	{ "server.user", CONF_TEXT, 0, 1, 32, 0,
	  NULL, OFF(user), 0,
	  "Started as root: become this user once the sockets are bound." },
	{ "server.tcp-max-connections-per-client", CONF_UINT, 0, 1, 1000000,
	  0, "64", OFF(tcp_max_conns_client), 0,
	  "Most TCP connections from one address (an IPv6 /64) at once." },
	{ "server.tcp-query-timeout", CONF_DURATION, 0, 10, 1 * HOUR, 1,
	  "5s", OFF(tcp_query_ms), 0,
	  "A TCP query must arrive whole, and unread answers be read, "
	  "within this long." },
	{ "server.receive-buffer", CONF_SIZE, 0, 64 * KIB, 256 * MIB, 0,
	  "4MiB", OFF(receive_buffer), 0,
	  "Kernel receive buffer of each listening UDP socket: room for "
	  "a burst, at the price of delay." },
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
	  "Cap on the TTL of answers, kept and given to clients." },
	{ "cache.max-negative-ttl", CONF_DURATION, 0, 1 * SEC, 1 * DAY, SEC,
	  "1h", OFF(max_neg_ttl), 0,
	  "Cap on the TTL of NXDOMAIN and NODATA answers." },
	{ "cache.failure-ttl", CONF_DURATION, 0, 1 * SEC, 5 * MINUTE, SEC,
	  "5s", OFF(failure_ttl), 0,
	  "Remember that the upstreams failed a question this long "
	  "(RFC 9520)." },
	{ "limits", CONF_SECTION, 0, 0, 0, 0, NULL, 0, 0,
	  "What forwarded queries may hold, and one client of them." },
	{ "limits.forwarded", CONF_UINT, 0, 16, 10000000, 0,
	  "16384", OFF(lim_forwarded), 0,
	  "Most queries waiting for the upstreams at once, over all "
	  "workers." },
	{ "limits.forwarded-per-question", CONF_UINT, 0, 1, 100000, 0,
	  "100", OFF(lim_per_question), 0,
	  "Most queries of one worker waiting for the same question." },
	{ "limits.client-share", CONF_UINT, 0, 1, 100, 0,
	  "10", OFF(lim_client_share), 0,
	  "Percent of a worker's forwarded queries and upstream questions "
	  "one client may hold." },
	{ "rrl", CONF_SECTION, 0, 0, 0, 0, NULL, 0, 0,
	  "Response rate limiting on UDP; every rate 0 turns it off." },
	{ "rrl.responses-per-second", CONF_UINT, 0, 0, 1000000, 0,
	  "0", OFF(rrl_rates[0]), 0,
	  "Answers with data, per client network, name and type; 0: no "
	  "limit." },
	{ "rrl.nodata-per-second", CONF_UINT, 0, 0, 1000000, 0,
	  "0", OFF(rrl_rates[1]), 0,
	  "NODATA answers, per client network and domain; 0: no limit." },
	{ "rrl.nxdomains-per-second", CONF_UINT, 0, 0, 1000000, 0,
	  "0", OFF(rrl_rates[2]), 0,
	  "NXDOMAIN answers, per client network and domain; 0: no limit." },
	{ "rrl.errors-per-second", CONF_UINT, 0, 0, 1000000, 0,
	  "0", OFF(rrl_rates[3]), 0,
	  "REFUSED, SERVFAIL and other errors, per client network; 0: no "
	  "limit." },
	{ "rrl.slip", CONF_UINT, 0, 0, 10, 0,
	  "2", OFF(rrl_slip), 0,
	  "Of the answers over the rate, every this many goes out as TC=1; "
	  "0: none." },
	{ "rrl.ipv4-prefix", CONF_UINT, 0, 8, 32, 0,
	  "24", OFF(rrl_prefix4), 0,
	  "IPv4 clients are counted by networks of this prefix length." },
	{ "rrl.ipv6-prefix", CONF_UINT, 0, 16, 128, 0,
	  "56", OFF(rrl_prefix6), 0,
	  "IPv6 clients are counted by networks of this prefix length." },
	{ "rrl.table-size", CONF_UINT, 0, 1024, 16777216, 0,
	  "65536", OFF(rrl_table_size), 0,
	  "Rate counters kept; those that limit least make way." },
	{ "lists", CONF_LISTS, 0, 0, CONF_MAX_LISTS, 0,
	  NULL, OFF(lists), OFF(nlists),
	  "Category lists boards can block: name -> file, format, url." },
	{ "boards", CONF_PATH, 0, 0, 0, 0,
	  "boards/*.yaml", OFF(boards_glob), 0,
	  "Glob of board files; matching none refuses every client." },
	{ "board-limits", CONF_SECTION, 0, 0, 0, 0, NULL, 0, 0,
	  "What one board file may claim." },
	{ "board-limits.widest-ipv4", CONF_UINT, 0, 1, 32, 0,
	  "16", OFF(board_widest4), 0,
	  "Shortest prefix of a board's IPv4 networks (16: a /16 at most)." },
	{ "board-limits.widest-ipv6", CONF_UINT, 0, 1, 128, 0,
	  "32", OFF(board_widest6), 0,
	  "Shortest prefix of a board's IPv6 networks (32: a /32 at most)." },
	{ "filter", CONF_SECTION, 0, 0, 0, 0, NULL, 0, 0,
	  "How blocked names are answered." },
	{ "filter.block-ttl", CONF_DURATION, 0, 0, 1 * DAY, SEC,
	  "60s", OFF(block_ttl), 0,
	  "TTL of blocked answers (SOA minimum and redirect records)." },
	{ "filter.tables", CONF_PATH, 0, 0, 0, 0,
	  VEILIG_DATADIR, OFF(tables), 0,
	  "Directory holding safesearch.txt and canaries.txt." },
	{ "geoip", CONF_SECTION, 0, 0, 0, 0, NULL, 0, 0,
	  "MaxMind databases for block-countries and block-asns." },
	{ "geoip.country", CONF_PATH, 0, 0, 0, 0,
	  NULL, OFF(geoip_country), 0,
	  "Country database (MMDB); not set: no country blocking." },
	{ "geoip.asn", CONF_PATH, 0, 0, 0, 0,
	  NULL, OFF(geoip_asn), 0,
	  "AS number database (MMDB); not set: no AS blocking." },
	{ "control", CONF_PATH, 0, 0, 0, 0,
	  "/run/veilig/control.sock", OFF(control), 0,
	  "Unix socket veiligctl talks to." },
	{ "stats", CONF_SECTION, 0, 0, 0, 0, NULL, 0, 0,
	  "Statistics per board and interval, without personal data." },
	{ "stats.dir", CONF_PATH, 0, 0, 0, 0,
	  NULL, OFF(stats_dir), 0,
	  "Directory of the statistics files; not set: none are written." },
	{ "stats.interval", CONF_DURATION, 0, 1 * SEC, 1 * DAY, SEC,
	  "5m", OFF(stats_interval), 0,
	  "One record per board per interval this long." },
	{ "stats.k-anonymity", CONF_UINT, 0, 2, 1000, 0,
	  "5", OFF(stats_k), 0,
	  "Name a blocked site only when this many clients were blocked." },
	{ "stats.retention", CONF_DURATION, 0, 1 * DAY, 3650 * DAY, DAY,
	  "400d", OFF(stats_retention), 0,
	  "Remove statistics files older than this." },
	{ "stats.node", CONF_TEXT, 0, 1, 64, 0,
	  NULL, OFF(stats_node), 0,
	  "Name of this node in the records; not set: the host name." },
	{ "stats.top", CONF_UINT, 0, 0, 1000, 0,
	  "20", OFF(stats_top), 0,
	  "Most blocked sites named per board and interval." },
	{ "metrics", CONF_ADDR, 0, 0, 0, 9153,
	  NULL, OFF(metrics), 0,
	  "Address of the Prometheus endpoint (port 9153 if omitted); "
	  "not set: off." },
	{ "log-queries", CONF_BOOL, 0, 0, 0, 0,
	  "false", OFF(log_queries), 0,
	  "Log every query, addresses cut to /24 and /48 (debugging only)." },
};

_Static_assert(CONF_NITEMS(conf_keys) <= CONF_MAX_KEYS,
    "CONF_MAX_KEYS must hold every key of conf_keys[]");

/* One entry of lists:, named by its key. */
static const struct conf_key conf_list_keys[] = {
	{ "file", CONF_PATH, CONF_REQUIRED, 0, 0, 0,
	  NULL, LOFF(file), 0, "The list file." },
	{ "format", CONF_FORMAT, CONF_REQUIRED, 0, 0, 0,
	  NULL, LOFF(format), 0,
	  "Format of the file: domains, hosts, adblock, rpz or ip." },
	{ "url", CONF_URL, 0, 0, 0, 0,
	  NULL, LOFF(url), 0,
	  "Where veilig-update-lists fetches the list: https only." },
};

/* A board file. */
static const struct conf_key conf_board_keys[] = {
	{ "name", CONF_TEXT, CONF_REQUIRED, 1, 128, 0,
	  NULL, BOFF(name), 0, "Name of the board." },
	{ "networks", CONF_NETS, CONF_REQUIRED, 1, 4096, 0,
	  NULL, BOFF(networks), BOFF(nnetworks),
	  "Client networks of the board." },
	{ "block", CONF_BLOCK, 0, 0, 1024, 0,
	  NULL, BOFF(block), 0,
	  "Lists (named under lists: in veiligd.yaml) to block." },
	{ "allow", CONF_NAMES, 0, 0, 65536, 0,
	  NULL, BOFF(allow), BOFF(nallow),
	  "Domain names never blocked, nor their subdomains." },
	{ "deny", CONF_NAMES, 0, 0, 65536, 0,
	  NULL, BOFF(deny), BOFF(ndeny),
	  "Domain names always blocked, and their subdomains." },
	{ "safe-search", CONF_BOOL, 0, 0, 0, 0,
	  "false", BOFF(safe_search), 0,
	  "Force safe search on Google, Bing, DuckDuckGo and YouTube." },
	{ "canaries", CONF_BOOL, 0, 0, 0, 0,
	  "true", BOFF(canaries), 0,
	  "Answer NXDOMAIN to the names that turn browser DoH and "
	  "Private Relay off." },
	{ "action", CONF_ACTION, 0, 0, 0, 0,
	  "nxdomain", BOFF(action), 0,
	  "How blocked names are answered: nxdomain, nodata, refused or "
	  "redirect." },
	{ "block-countries", CONF_COUNTRIES, 0, 0, 300, 0,
	  NULL, BOFF(countries), BOFF(ncountries),
	  "Countries (ISO 3166 codes) whose addresses are blocked." },
	{ "block-asns", CONF_ASNS, 0, 0, 65536, 0,
	  NULL, BOFF(asns), BOFF(nasns),
	  "AS numbers whose addresses are blocked." },
};

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

/* Where something was written in a file. */
struct conf_pos {
	size_t	line, col;
};

/* One table being applied to one struct, and which keys it has seen. */
struct conf_scope {
	const struct conf_key	*keys;
	size_t			 nkeys;
	char			*base;		/* struct the offsets are in */
	const char		*pfx;		/* before key paths in errors */
	const struct conf_node	*seen[CONF_MAX_KEYS];
};

struct conf_boardpos;

/* State of one file being read: where errors go, and what is filled. */
struct conf_state {
	const char		*name;		/* the file, for errors */
	const char		*text;
	size_t			 len;
	conf_error_cb		 errcb;
	void			*arg;
	unsigned		 nerr;
	struct conf		*conf;
	const char		*dir;		/* absolute: paths are in it */
	const char		*kpath;		/* key being set, for errors */
	struct conf_pos		*netpos;	/* of the last CONF_NETS set */
	struct conf_boardpos	*bpos;		/* errors are this board's */
	const struct conf	*old;		/* conf_load_keep(): in force */
	int			 keep;		/* conf_load_keep() */
};

static void	conf_walk_map(struct conf_state *, struct conf_scope *,
		    const char *, const struct conf_node *);

static void	conf_board_erred(struct conf_boardpos *, const char *);
static void	conf_warn(struct conf_state *, const char *, ...)
		    __attribute__((format(printf, 2, 3)));

/* Report one error at line:col (0 for none) through the callback. */
static void __attribute__((format(printf, 4, 5)))
conf_error(struct conf_state *st, size_t line, size_t col, const char *fmt,
    ...)
{
	char	msg[2048], full[2400];
	va_list	ap;

	/* Past the cap count on, so the load still fails, but stay quiet. */
	st->nerr++;
	if (st->nerr > CONF_MAX_ERRORS + 1) {
		conf_board_erred(st->bpos, NULL);
		return;
	}
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
	conf_board_erred(st->bpos, full);
}

/* Copy user text for an error message, at most about 60 octets. */
static const char *
conf_quote(const char *s, char *buf, size_t cap)
{
	return (log_printable(buf, cap, s, strlen(s), 60));
}

/* Error about the value of scalar node n of the key being set. */
#define conf_verror(st, k, n, fmt, ...) do {				\
	char	 q_[80];						\
	(void)(k);							\
	conf_error((st), (n)->line, (n)->col, "%s: '%s' " fmt,		\
	    (st)->kpath, conf_quote((n)->value, q_, sizeof q_),	\
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

/* The tree being built from libyaml's events by conf_parse_tree(). */
struct conf_tree {
	struct conf_node	*root;
	struct conf_node	*cur;	/* the list or mapping being filled */
	int			 depth;
	int			 ndocs;
	int			 done;	/* stop reading events */
	int			 rv;	/* 0, or -1 after an error */
};

/* The tree cannot be built: an error is reported, reading stops. */
static void
conf_tree_fail(struct conf_tree *t)
{
	t->rv = -1;
	t->done = 1;
}

/*
 * Hang node n, made of event ev, in the tree (n NULL: out of memory); a
 * list or mapping becomes the node later ones go into.
 */
static void
conf_tree_add(struct conf_state *st, struct conf_tree *t,
    const yaml_event_t *ev, const yaml_char_t *anchor, struct conf_node *n)
{
	conf_check_anchor(st, ev, anchor);
	if (n == NULL || (t->cur != NULL && conf_node_add(t->cur, n) == -1)) {
		conf_node_free(n);
		conf_error(st, 0, 0, "out of memory");
		conf_tree_fail(t);
		return;
	}
	if (t->cur == NULL && t->root == NULL)
		t->root = n;
	else if (t->cur == NULL) {
		/* A second top node: libyaml never does. */
		conf_error(st, n->line, n->col, "unexpected second top-level "
		    "node");
		conf_node_free(n);
		conf_tree_fail(t);
		return;
	}
	if (n->kind != CONF_N_SEQ && n->kind != CONF_N_MAP)
		return;
	t->cur = n;
	if (++t->depth > CONF_MAX_DEPTH) {
		conf_error(st, n->line, n->col, "nested more than %d levels "
		    "deep", CONF_MAX_DEPTH);
		conf_tree_fail(t);
	}
}

/* One event of libyaml's parser into the tree. */
static void
conf_tree_event(struct conf_state *st, struct conf_tree *t,
    const yaml_event_t *ev)
{
	char	q[80];

	switch (ev->type) {
	case YAML_STREAM_END_EVENT:
		t->done = 1;
		break;
	case YAML_DOCUMENT_START_EVENT:
		if (++t->ndocs > 1) {
			conf_error(st, ev->start_mark.line + 1,
			    ev->start_mark.column + 1, "only one YAML "
			    "document is allowed");
			conf_tree_fail(t);
		}
		break;
	case YAML_ALIAS_EVENT:
		/* Reported, then kept as a bad node: no cascade. */
		conf_error(st, ev->start_mark.line + 1,
		    ev->start_mark.column + 1, "alias '*%s': anchors and "
		    "aliases are not supported", conf_quote(
		    (const char *)ev->data.alias.anchor, q, sizeof q));
		conf_tree_add(st, t, ev, NULL,
		    conf_node_new(st, ev, CONF_N_BAD));
		break;
	case YAML_SCALAR_EVENT:
		conf_tree_add(st, t, ev, ev->data.scalar.anchor,
		    conf_node_new(st, ev, CONF_N_SCALAR));
		break;
	case YAML_SEQUENCE_START_EVENT:
		conf_tree_add(st, t, ev, ev->data.sequence_start.anchor,
		    conf_node_new(st, ev, CONF_N_SEQ));
		break;
	case YAML_MAPPING_START_EVENT:
		conf_tree_add(st, t, ev, ev->data.mapping_start.anchor,
		    conf_node_new(st, ev, CONF_N_MAP));
		break;
	case YAML_SEQUENCE_END_EVENT:
	case YAML_MAPPING_END_EVENT:
		/* Back up to the enclosing list or mapping. */
		if (t->cur != NULL)
			t->cur = t->cur->parent;
		t->depth--;
		break;
	default:
		break;
	}
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
	struct conf_tree	 t;

	*root = NULL;
	if (!yaml_parser_initialize(&p)) {
		conf_error(st, 0, 0, "out of memory");
		return (-1);
	}
	yaml_parser_set_input_string(&p, (const unsigned char *)st->text,
	    st->len);
	memset(&t, 0, sizeof t);

	/* Ends at the end of the stream or an error; input is bounded. */
	while (!t.done) {
		if (!yaml_parser_parse(&p, &ev)) {
			conf_yaml_error(st, &p);
			t.rv = -1;
			break;
		}
		conf_tree_event(st, &t, &ev);
		yaml_event_delete(&ev);
	}
	yaml_parser_delete(&p);
	*root = t.root;
	return (t.rv);
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

/*
 * Resolve path against the directory of the file being read. Returns an
 * allocated absolute path, or NULL if out of memory.
 */
static char *
conf_resolve(struct conf_state *st, const char *path)
{
	char	*out;

	if (path[0] == '/')
		return (strdup(path));
	if (asprintf(&out, "%s%s%s", st->dir, strcmp(st->dir, "/") == 0 ?
	    "" : "/", path) == -1)
		return (NULL);
	return (out);
}

/* A boolean: true, false and the YAML 1.1 yes, no, on, off; 0 or -1. */
static int
conf_parse_bool(const char *s, int *v)
{
	if (strcmp(s, "true") == 0 || strcmp(s, "yes") == 0 ||
	    strcmp(s, "on") == 0)
		*v = 1;
	else if (strcmp(s, "false") == 0 || strcmp(s, "no") == 0 ||
	    strcmp(s, "off") == 0)
		*v = 0;
	else
		return (-1);
	return (0);
}

/*
 * A URL the updater can fetch: https://, no spaces or controls. Plain
 * http is refused: a list sent in the clear can be altered on the way.
 */
static int
conf_check_url(const char *s)
{
	const char	*rest;
	size_t		 i;

	if (strncmp(s, "https://", 8) != 0)
		return (-1);
	rest = s + 8;
	if (*rest == '\0' || *rest == '/')
		return (-1);
	for (i = 0; s[i] != '\0'; i++)
		if ((unsigned char)s[i] <= ' ' || s[i] == 0x7f)
			return (-1);
	return (0);
}

/*
 * action: nxdomain, nodata, refused, or "redirect" with one IPv4 and/or
 * one IPv6 address, separated by spaces. Errors are reported.
 */
static void
conf_set_action(struct conf_state *st, const struct conf_key *k,
    const struct conf_node *n, struct conf_board *b)
{
	char		 buf[256], *p, *word;
	uint8_t		 a[16];
	unsigned	 nwords = 0;

	if (strcmp(n->value, "nxdomain") == 0)
		b->action = CONF_ACTION_NXDOMAIN;
	else if (strcmp(n->value, "nodata") == 0)
		b->action = CONF_ACTION_NODATA;
	else if (strcmp(n->value, "refused") == 0)
		b->action = CONF_ACTION_REFUSED;
	else if (strncmp(n->value, "redirect", 8) == 0 &&
	    (n->value[8] == ' ' || n->value[8] == '\0') &&
	    strlen(n->value) < sizeof buf) {
		/* The words after "redirect" are the addresses. */
		snprintf(buf, sizeof buf, "%s", n->value + 8);
		p = buf;
		b->have4 = b->have6 = 0;
		while ((word = strsep(&p, " ")) != NULL) {
			if (*word == '\0')
				continue;
			nwords++;
			if (inet_pton(AF_INET, word, a) == 1 && !b->have4) {
				memcpy(b->redirect4, a, 4);
				b->have4 = 1;
			} else if (inet_pton(AF_INET6, word, a) == 1 &&
			    !b->have6) {
				memcpy(b->redirect6, a, 16);
				b->have6 = 1;
			} else
				goto bad;
		}
		if (nwords == 0)
			goto bad;
		b->action = CONF_ACTION_REDIRECT;
	} else {
		conf_verror(st, k, n, "is not nxdomain, nodata, refused or "
		    "redirect with addresses");
		return;
	}
	return;
bad:
	b->have4 = b->have6 = 0;
	conf_verror(st, k, n, "is not 'redirect' and one IPv4 address, one "
	    "IPv6 address or one of each (redirect 192.0.2.80 2001:db8::80)");
}

/* A number of key k, or "auto" (0) where k allows it. */
static void
conf_set_uint(struct conf_state *st, const struct conf_key *k,
    const struct conf_node *n, unsigned *dst)
{
	uint64_t	v;

	if ((k->flags & CONF_AUTO) && strcmp(n->value, "auto") == 0) {
		*dst = 0;
		return;
	}
	if (conf_number(n->value, strlen(n->value), &v) == -1 ||
	    v < k->min || v > k->max) {
		conf_verror(st, k, n, "is not %sa number from %llu to %llu",
		    (k->flags & CONF_AUTO) ? "'auto' or " : "",
		    (unsigned long long)k->min, (unsigned long long)k->max);
		return;
	}
	*dst = (unsigned)v;
}

/* A duration of key k, stored in k->scale ms units. */
static void
conf_set_duration(struct conf_state *st, const struct conf_key *k,
    const struct conf_node *n, uint32_t *dst)
{
	char		lo[32], hi[32];
	uint64_t	v;

	/* Ranges are quoted in the units a user would write. */
	conf_duration_str(k->min, lo, sizeof lo);
	conf_duration_str(k->max, hi, sizeof hi);
	if (conf_parse_duration(n->value, &v) == -1) {
		conf_verror(st, k, n, "is not a duration (a number with unit "
		    "ms, s, m, h or d)");
		return;
	}
	if (v < k->min || v > k->max) {
		conf_verror(st, k, n, "is out of range %s to %s", lo, hi);
		return;
	}
	/* 1500ms cannot be stored in a field of whole seconds. */
	if (v % k->scale != 0) {
		conf_verror(st, k, n, "is not a whole number of %s",
		    k->scale == DAY ? "days" : "seconds");
		return;
	}
	*dst = (uint32_t)(v / k->scale);
}

/* A size in bytes of key k. */
static void
conf_set_size(struct conf_state *st, const struct conf_key *k,
    const struct conf_node *n, uint64_t *dst)
{
	char		lo[32], hi[32];
	uint64_t	v;

	conf_size_str(k->min, lo, sizeof lo);
	conf_size_str(k->max, hi, sizeof hi);
	if (conf_parse_size(n->value, &v) == -1) {
		conf_verror(st, k, n, "is not a size (a number of bytes, or "
		    "with unit KiB, MiB, GiB, KB, MB or GB)");
		return;
	}
	if (v < k->min || v > k->max) {
		conf_verror(st, k, n, "is out of range %s to %s", lo, hi);
		return;
	}
	*dst = v;
}

/* Does the glob pattern s have a wildcard in a directory part? */
static int
conf_glob_dirs(const char *s)
{
	const char	*slash;

	if ((slash = strrchr(s, '/')) == NULL)
		return (0);
	return (strcspn(s, "*?[") < (size_t)(slash - s));
}

/*
 * Whether c is a control character (below 0x20, or DEL). Text such as a
 * board's name goes into veiligctl's lines, a tab between fields, and
 * onto the admin's terminal: a newline would split a line in two, an
 * escape change the terminal.
 */
static int
conf_is_control(char c)
{
	return ((unsigned char)c < 0x20 || c == 0x7f);
}

/* The first control character of s, or NULL. */
static const char *
conf_control_char(const char *s)
{
	for (; *s != '\0'; s++) {
		if (conf_is_control(*s))
			return (s);
	}
	return (NULL);
}

/* Room for a Unix socket's path and its NUL. */
#define CONF_SUN_PATH	((int)sizeof(((struct sockaddr_un *)0)->sun_path))

/* Text of key k: a path (resolved), a URL, or text of k's length. */
static void
conf_set_text(struct conf_state *st, const struct conf_key *k,
    const struct conf_node *n, char **dst)
{
	const char	*c;

	if (k->type == CONF_URL && conf_check_url(n->value) == -1) {
		conf_verror(st, k, n, "is not a URL starting with https:// "
		    "(plain http is not fetched)");
		return;
	}
	/*
	 * Wildcards in a directory would let glob(3) walk whole trees (a
	 * slip such as a star for each of the first three directories reads
	 * every directory of the system at each start and reload): the
	 * boards are files of one directory.
	 */
	if (strcmp(k->path, "boards") == 0 && conf_glob_dirs(n->value)) {
		conf_verror(st, k, n, "has a wildcard before its last '/': "
		    "board files are the files of one directory");
		return;
	}
	if (k->type == CONF_TEXT && (strlen(n->value) < k->min ||
	    strlen(n->value) > k->max)) {
		conf_verror(st, k, n, "is not %llu to %llu characters long",
		    (unsigned long long)k->min, (unsigned long long)k->max);
		return;
	}
	/* Paths and URLs too: veiligctl lists gives them a line each. */
	if ((c = conf_control_char(n->value)) != NULL) {
		conf_verror(st, k, n, "has a control character (0x%02x)",
		    (unsigned char)*c);
		return;
	}
	free(*dst);
	*dst = k->type == CONF_PATH ? conf_resolve(st, n->value) :
	    strdup(n->value);
	if (*dst == NULL)
		conf_error(st, n->line, n->col, "%s: out of memory",
		    st->kpath);
	/* Else veiligd -n says OK, and the start fails at bind(2). */
	else if (strcmp(k->path, "control") == 0 &&
	    strlen(*dst) >= CONF_SUN_PATH)
		conf_verror(st, k, n, "is longer than a Unix socket's path may "
		    "be (%d bytes, made absolute)", CONF_SUN_PATH - 1);
}

/* Set the scalar key k from node n; errors are reported. */
static void
conf_set_scalar(struct conf_state *st, const struct conf_scope *sc,
    const struct conf_key *k, const struct conf_node *n)
{
	char		*dst = sc->base + k->off;
	int		 b;
	enum lists_format fmt;

	/* A bad node was reported when it was read. */
	if (n->kind == CONF_N_BAD)
		return;
	if (n->kind != CONF_N_SCALAR) {
		conf_error(st, n->line, n->col, "%s: expected a single value, "
		    "not %s", st->kpath, conf_kind_name(n));
		return;
	}
	/* "key:" with nothing after it, or an empty quoted string. */
	if (n->value[0] == '\0') {
		conf_error(st, n->line, n->col, "%s: missing value",
		    st->kpath);
		return;
	}
	switch (k->type) {
	case CONF_UINT:
		conf_set_uint(st, k, n, (unsigned *)(void *)dst);
		break;
	case CONF_DURATION:
		conf_set_duration(st, k, n, (uint32_t *)(void *)dst);
		break;
	case CONF_SIZE:
		conf_set_size(st, k, n, (uint64_t *)(void *)dst);
		break;
	case CONF_PATH:
	case CONF_URL:
	case CONF_TEXT:
		conf_set_text(st, k, n, (char **)(void *)dst);
		break;
	case CONF_FORMAT:
		if (lists_format_parse(n->value, &fmt) == -1) {
			conf_verror(st, k, n, "is not a list format (domains, "
			    "hosts, adblock, rpz or ip)");
			return;
		}
		*(int *)(void *)dst = (int)fmt;
		break;
	case CONF_BOOL:
		if (conf_parse_bool(n->value, &b) == -1) {
			conf_verror(st, k, n, "is not true or false");
			return;
		}
		*(int *)(void *)dst = b;
		break;
	case CONF_ACTION:
		conf_set_action(st, k, n, (struct conf_board *)sc->base);
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
    const struct conf_node *n, uint16_t defport, struct conf_sockaddr *out)
{
	struct sockaddr_in	*sin = (struct sockaddr_in *)&out->ss;
	struct sockaddr_in6	*sin6 = (struct sockaddr_in6 *)&out->ss;
	const char		*s = n->value, *port = NULL, *end;
	char			 host[INET6_ADDRSTRLEN + 1];
	size_t			 hlen;
	uint16_t		 p = htons(defport);
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

/*
 * A board's network may be no wider than board-limits allows, and never
 * the whole address space: one board file must not be able to open the
 * resolver to the internet. 0, or -1 after reporting it.
 */
static int
conf_net_too_wide(struct conf_state *st, const struct conf_key *k,
    const struct conf_node *n, const struct conf_net *net)
{
	int		 v4 = net->family == AF_INET;
	unsigned	 widest = v4 ? st->conf->board_widest4 :
			    st->conf->board_widest6;

	if (net->prefix == 0) {
		conf_verror(st, k, n, "is every %s address: no board may "
		    "claim it", v4 ? "IPv4" : "IPv6");
		return (-1);
	}
	if (net->prefix < widest) {
		conf_verror(st, k, n, "is wider than /%u, the widest "
		    "board-limits.widest-%s allows", widest, v4 ? "ipv4" :
		    "ipv6");
		return (-1);
	}
	return (0);
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
	if (conf_net_too_wide(st, k, n, out) == -1)
		return (-1);

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
	/*
	 * ::ffff:a.b.c.d is an IPv4 client seen through an IPv6 socket, and
	 * is looked up as IPv4: such a network written in IPv6 would escape
	 * the overlap check between boards. Ask for the IPv4 form.
	 */
	if (out->family == AF_INET6 && out->prefix >= 96 &&
	    IN6_IS_ADDR_V4MAPPED((struct in6_addr *)(void *)out->addr)) {
		inet_ntop(AF_INET, out->addr + 12, net, sizeof net);
		conf_verror(st, k, n, "is IPv4-mapped IPv6: write it as IPv4 "
		    "(%s/%u)", net, out->prefix - 96);
		return (-1);
	}
	return (0);
bad:
	conf_verror(st, k, n, "is not a network (192.0.2.0/24, "
	    "2001:db8::/32 or a single address)");
	return (-1);
}

/*
 * Whether the address at as[n] is one of as[0] to as[n - 1] (zeroed
 * before they were filled, so memcmp() compares them). A listen address
 * twice opens two sockets on it, and an upstream twice is a retry to the
 * same server: a slip either way, never what was meant.
 */
static int
conf_sockaddr_again(const char *items, size_t n)
{
	const struct conf_sockaddr	*as;
	size_t				 i;

	as = (const struct conf_sockaddr *)(const void *)items;
	for (i = 0; i < n; i++) {
		if (as[i].len == as[n].len &&
		    memcmp(&as[i].ss, &as[n].ss, as[n].len) == 0)
			return (1);
	}
	return (0);
}

/* What one entry of a list key is called in errors. */
static const char *
conf_item_noun(enum conf_type type)
{
	switch (type) {
	case CONF_ADDRS:
		return ("an address");
	case CONF_NETS:
		return ("a network");
	case CONF_NAMES:
		return ("a domain name");
	case CONF_COUNTRIES:
		return ("a country code");
	case CONF_ASNS:
		return ("an AS number");
	default:
		return ("a list name");
	}
}

/* Size of one entry of a list key's array. */
static size_t
conf_item_size(enum conf_type type)
{
	switch (type) {
	case CONF_ADDRS:
		return (sizeof(struct conf_sockaddr));
	case CONF_NETS:
		return (sizeof(struct conf_net));
	case CONF_NAMES:
		return (sizeof(struct conf_name));
	case CONF_COUNTRIES:
		return (sizeof(char[3]));
	default:
		return (sizeof(uint32_t));
	}
}

/* A domain name of allow: or deny:, normalised; 0 or -1. */
static int
conf_parse_name(struct conf_state *st, const struct conf_key *k,
    const struct conf_node *n, struct conf_name *out)
{
	uint8_t		 wire[WIRE_MAX_NAME];
	size_t		 len;
	const char	*why = "invalid";
	char		 q[80];
	int		 tld = 0;

	if (lists_name(n->value, strlen(n->value), wire, &len, &why) == -1 ||
	    ((why = lists_entry_check(wire, len, &tld)) != NULL && !tld)) {
		/* Most reasons start "not a domain name: " themselves. */
		if (strncmp(why, "not ", 4) == 0)
			conf_verror(st, k, n, "is %s", why);
		else
			conf_verror(st, k, n, "is not a domain name: %s", why);
		return (-1);
	}
	/* A whole top-level domain may be meant, but is seldom. */
	if (tld)
		conf_warn(st, "%s:%zu:%zu: warning: %s: '%s' is a top-level "
		    "domain: every name under it is %s", st->name, n->line,
		    n->col, st->kpath, conf_quote(n->value, q, sizeof q),
		    strcmp(st->kpath, "allow") == 0 ? "allowed, whatever the "
		    "lists say" : "blocked");
	out->text = strdup(n->value);
	out->lname = malloc(len);
	if (out->text == NULL || out->lname == NULL) {
		free(out->text);
		free(out->lname);
		out->text = NULL;
		out->lname = NULL;
		conf_error(st, n->line, n->col, "%s: out of memory",
		    st->kpath);
		return (-1);
	}
	memcpy(out->lname, wire, len);
	out->len = len;
	out->line = (unsigned)n->line;
	out->col = (unsigned)n->col;
	return (0);
}

/* An ISO 3166 alpha-2 code, any case, stored upper case; 0 or -1. */
static int
conf_parse_country(struct conf_state *st, const struct conf_key *k,
    const struct conf_node *n, char *out)
{
	const char	*s = n->value;

	if (strlen(s) != 2 || !isalpha((unsigned char)s[0]) ||
	    !isalpha((unsigned char)s[1]) || (s[0] & 0x80) || (s[1] & 0x80)) {
		conf_verror(st, k, n, "is not a two-letter country code "
		    "(ISO 3166, such as NL)");
		return (-1);
	}
	out[0] = (char)toupper((unsigned char)s[0]);
	out[1] = (char)toupper((unsigned char)s[1]);
	out[2] = '\0';
	return (0);
}

/* An AS number, 1 to 4294967295, with an optional "AS"; 0 or -1. */
static int
conf_parse_asn(struct conf_state *st, const struct conf_key *k,
    const struct conf_node *n, uint32_t *out)
{
	const char	*s = n->value;
	uint64_t	 v;

	if (strncasecmp(s, "AS", 2) == 0)
		s += 2;
	if (conf_number(s, strlen(s), &v) == -1 || v < 1 ||
	    v > UINT32_MAX) {
		conf_verror(st, k, n, "is not an AS number from 1 to "
		    "4294967295 (AS prefix optional)");
		return (-1);
	}
	*out = (uint32_t)v;
	return (0);
}

/* True if n is a list whose length is in k's range; else reported. */
static int
conf_seq_ok(struct conf_state *st, const struct conf_key *k,
    const struct conf_node *n)
{
	if (n->kind == CONF_N_BAD)
		return (0);
	if (n->kind != CONF_N_SEQ) {
		conf_error(st, n->line, n->col, "%s: expected a list, not %s",
		    st->kpath, conf_kind_name(n));
		return (0);
	}
	/* A wrong count is one error; the entries are not read then. */
	if (n->nkids < k->min || n->nkids > k->max) {
		conf_error(st, n->line, n->col, "%s: has %zu entries, not "
		    "from %llu to %llu", st->kpath, n->nkids,
		    (unsigned long long)k->min, (unsigned long long)k->max);
		return (0);
	}
	return (1);
}

/* True if entry item of a list is a usable scalar; else reported. */
static int
conf_item_ok(struct conf_state *st, const struct conf_key *k,
    const struct conf_node *item)
{
	if (item->kind == CONF_N_BAD)
		return (0);
	if (item->kind != CONF_N_SCALAR) {
		conf_error(st, item->line, item->col, "%s: expected %s, "
		    "not %s", st->kpath, conf_item_noun(k->type),
		    conf_kind_name(item));
		return (0);
	}
	return (1);
}

/* Set the list key k from the sequence node n; errors are reported. */
static void
conf_set_list(struct conf_state *st, const struct conf_scope *sc,
    const struct conf_key *k, const struct conf_node *n)
{
	void		**dst = (void **)(sc->base + k->off);
	size_t		 *count = (size_t *)(sc->base + k->noff);
	size_t		  i, size, got = 0;
	char		 *items, *it;
	struct conf_pos	 *pos = NULL;
	const struct conf_node *item;
	int		  rv;

	if (!conf_seq_ok(st, k, n))
		return;
	/* Good entries are packed at the front; got counts them. */
	size = conf_item_size(k->type);
	items = calloc(n->nkids + 1, size);
	if (k->type == CONF_NETS)
		pos = calloc(n->nkids + 1, sizeof *pos);
	if (items == NULL || (k->type == CONF_NETS && pos == NULL)) {
		free(items);
		free(pos);
		conf_error(st, n->line, n->col, "%s: out of memory",
		    st->kpath);
		return;
	}
	for (i = 0; i < n->nkids; i++) {
		item = n->kids[i];
		if (!conf_item_ok(st, k, item))
			continue;
		it = items + got * size;
		switch (k->type) {
		case CONF_NETS:
			rv = conf_parse_net(st, k, item,
			    (struct conf_net *)(void *)it);
			break;
		case CONF_ADDRS:
			rv = conf_parse_sockaddr(st, k, item, 53,
			    (struct conf_sockaddr *)(void *)it);
			if (rv == 0 && conf_sockaddr_again(items, got)) {
				conf_verror(st, k, item, "is listed twice");
				rv = -1;
			}
			break;
		case CONF_NAMES:
			rv = conf_parse_name(st, k, item,
			    (struct conf_name *)(void *)it);
			break;
		case CONF_COUNTRIES:
			rv = conf_parse_country(st, k, item, it);
			break;
		default:
			rv = conf_parse_asn(st, k, item,
			    (uint32_t *)(void *)it);
			break;
		}
		if (rv == 0) {
			/* Networks keep positions for the overlap check. */
			if (pos != NULL) {
				pos[got].line = item->line;
				pos[got].col = item->col;
			}
			got++;
		}
	}
	free(*dst);
	*dst = items;
	*count = got;
	if (pos != NULL) {
		free(st->netpos);
		st->netpos = pos;
	}
}

/* Write the names of the lists into buf, for an error message. */
static void
conf_list_names(const struct conf *conf, char *buf, size_t cap)
{
	size_t	i, n = 0;
	int	w;

	buf[0] = '\0';
	if (conf->nlists == 0) {
		snprintf(buf, cap, "none are defined in lists:");
		return;
	}
	for (i = 0; i < conf->nlists && n < cap; i++) {
		w = snprintf(buf + n, cap - n, "%s%s", i > 0 ? ", " : "",
		    conf->lists[i].name);
		if (w < 0)
			break;
		n += (size_t)w;
	}
}

/* block: names of lists, as a mask of their indexes. */
static void
conf_set_block(struct conf_state *st, const struct conf_scope *sc,
    const struct conf_key *k, const struct conf_node *n)
{
	uint64_t	*mask = (uint64_t *)(void *)(sc->base + k->off);
	const struct conf_node *item;
	char		 names[CONF_MAX_LISTS * 34 + 64];
	size_t		 i, j;

	if (!conf_seq_ok(st, k, n))
		return;
	for (i = 0; i < n->nkids; i++) {
		item = n->kids[i];
		if (!conf_item_ok(st, k, item))
			continue;
		for (j = 0; j < st->conf->nlists; j++)
			if (strcmp(st->conf->lists[j].name, item->value) == 0)
				break;
		if (j == st->conf->nlists) {
			conf_list_names(st->conf, names, sizeof names);
			conf_verror(st, k, item, "is not a list; the lists "
			    "are: %s", names);
			continue;
		}
		*mask |= 1ULL << j;
	}
}

/* A list name: 1 to 32 of a-z, 0-9 and '-', starting with a letter. */
static int
conf_check_list_name(const char *s)
{
	size_t	i;

	if (s[0] < 'a' || s[0] > 'z')
		return (-1);
	for (i = 0; s[i] != '\0'; i++) {
		if (i >= 32)
			return (-1);
		if ((s[i] < 'a' || s[i] > 'z') && (s[i] < '0' ||
		    s[i] > '9') && s[i] != '-')
			return (-1);
	}
	return (0);
}

static void	conf_scope_init(struct conf_scope *, const struct conf_key *,
		    size_t, void *, const char *);
static void	conf_scope_finish(struct conf_state *, struct conf_scope *,
		    size_t, size_t);

/* lists: a mapping of list name to { file, format, url }. */
static void
conf_set_lists(struct conf_state *st, const struct conf_key *k,
    const struct conf_node *n)
{
	struct conf		*conf = st->conf;
	struct conf_list	*l;
	struct conf_scope	 ls;
	const struct conf_node	*key, *val;
	const char		*kpath = st->kpath;
	char			 q[80], pfx[64];
	size_t			 i, j, nents;

	if (n->kind == CONF_N_BAD || (n->kind == CONF_N_SCALAR && n->empty))
		return;		/* reported, or no lists */
	if (n->kind != CONF_N_MAP) {
		conf_error(st, n->line, n->col, "%s: expected a mapping of "
		    "list names, not %s", kpath, conf_kind_name(n));
		return;
	}
	nents = n->nkids / 2;
	if (nents > k->max) {
		conf_error(st, n->line, n->col, "%s: has %zu lists, more "
		    "than %llu", kpath, nents, (unsigned long long)k->max);
		return;
	}
	if (nents == 0)
		return;
	if ((conf->lists = calloc(nents, sizeof *conf->lists)) == NULL) {
		conf_error(st, n->line, n->col, "%s: out of memory", kpath);
		return;
	}
	for (i = 0; i + 1 < n->nkids; i += 2) {
		key = n->kids[i];
		val = n->kids[i + 1];
		if (key->kind == CONF_N_BAD)
			continue;
		if (key->kind != CONF_N_SCALAR ||
		    conf_check_list_name(key->value) == -1) {
			conf_error(st, key->line, key->col, "%s: '%s' is not "
			    "a list name (1 to 32 of a-z, 0-9 and '-', "
			    "starting with a letter)", kpath,
			    key->kind == CONF_N_SCALAR ? conf_quote(
			    key->value, q, sizeof q) : conf_kind_name(key));
			continue;
		}
		for (j = 0; j < conf->nlists; j++)
			if (strcmp(conf->lists[j].name, key->value) == 0)
				break;
		if (j < conf->nlists) {
			conf_error(st, key->line, key->col, "%s.%s: duplicate "
			    "list (first at line %u column %u)", kpath,
			    key->value, conf->lists[j].line,
			    conf->lists[j].col);
			continue;
		}
		/* Kept even with errors below: boards may name it. */
		l = &conf->lists[conf->nlists];
		if ((l->name = strdup(key->value)) == NULL) {
			conf_error(st, key->line, key->col, "%s: out of "
			    "memory", kpath);
			continue;
		}
		l->line = (unsigned)key->line;
		l->col = (unsigned)key->col;
		conf->nlists++;
		snprintf(pfx, sizeof pfx, "%s.%s", kpath, key->value);
		conf_scope_init(&ls, conf_list_keys,
		    CONF_NITEMS(conf_list_keys), l, pfx);
		conf_walk_map(st, &ls, "", val);
		/* Not a mapping was one error: missing keys are noise. */
		if (val->kind == CONF_N_MAP || (val->kind == CONF_N_SCALAR &&
		    val->empty))
			conf_scope_finish(st, &ls, key->line, key->col);
	}
	st->kpath = kpath;
}

/* A single address with the key's default port (metrics:). */
static void
conf_set_addr(struct conf_state *st, const struct conf_scope *sc,
    const struct conf_key *k, const struct conf_node *n)
{
	struct conf_sockaddr	*dst = (struct conf_sockaddr *)(void *)
				    (sc->base + k->off);

	if (n->kind == CONF_N_BAD)
		return;
	if (n->kind != CONF_N_SCALAR || n->value[0] == '\0') {
		conf_error(st, n->line, n->col, "%s: expected an address, not "
		    "%s", st->kpath, n->kind == CONF_N_SCALAR ? "nothing" :
		    conf_kind_name(n));
		return;
	}
	if (conf_parse_sockaddr(st, k, n, (uint16_t)k->scale, dst) == -1)
		memset(dst, 0, sizeof *dst);
}

/* Set key k from node n according to its type. */
static void
conf_set(struct conf_state *st, const struct conf_scope *sc,
    const struct conf_key *k, const struct conf_node *n)
{
	switch (k->type) {
	case CONF_ADDRS:
	case CONF_NETS:
	case CONF_NAMES:
	case CONF_COUNTRIES:
	case CONF_ASNS:
		conf_set_list(st, sc, k, n);
		break;
	case CONF_BLOCK:
		conf_set_block(st, sc, k, n);
		break;
	case CONF_LISTS:
		conf_set_lists(st, k, n);
		break;
	case CONF_ADDR:
		conf_set_addr(st, sc, k, n);
		break;
	default:
		conf_set_scalar(st, sc, k, n);
		break;
	}
}

/* Apply k's default, parsed from its text like a value in the file. */
static void
conf_set_default(struct conf_state *st, const struct conf_scope *sc,
    const struct conf_key *k)
{
	struct conf_node	 seq, items[8], *kids[8];
	char			 buf[256], *p, *word;
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
	conf_set(st, sc, k, &seq);
}

static void
conf_scope_init(struct conf_scope *sc, const struct conf_key *keys,
    size_t nkeys, void *base, const char *pfx)
{
	memset(sc, 0, sizeof *sc);
	sc->keys = keys;
	sc->nkeys = nkeys;
	sc->base = base;
	sc->pfx = pfx;
}

/* Join a and b with a dot (either may be empty) into buf. */
static const char *
conf_join(char *buf, size_t cap, const char *a, const char *b)
{
	int	n;

	n = snprintf(buf, cap, "%s%s%s", a, *a != '\0' && *b != '\0' ? "." :
	    "", b);
	/* Key paths are short; a cut one still names where it starts. */
	if (n < 0 || (size_t)n >= cap)
		buf[cap - 1] = '\0';
	return (buf);
}

/*
 * Keys of the scope not in the file: defaults, or an error at line:col
 * if required.
 */
static void
conf_scope_finish(struct conf_state *st, struct conf_scope *sc, size_t line,
    size_t col)
{
	const struct conf_key	*k;
	char			 path[160];
	size_t			 i;

	for (i = 0; i < sc->nkeys; i++) {
		k = &sc->keys[i];
		if (sc->seen[i] != NULL || k->type == CONF_SECTION)
			continue;
		st->kpath = conf_join(path, sizeof path, sc->pfx, k->path);
		if (k->flags & CONF_REQUIRED)
			conf_error(st, line, col, "%s: required key is "
			    "missing", path);
		else if (k->def != NULL)
			conf_set_default(st, sc, k);
	}
	st->kpath = NULL;
}

/* Find the key named name directly under prefix ("" for the top). */
static int
conf_key_find(const struct conf_scope *sc, const char *prefix,
    const char *name)
{
	size_t	 i, plen = strlen(prefix);
	const char *rest;

	/* Match one level only, so "server.workers" is no top key. */
	for (i = 0; i < sc->nkeys; i++) {
		rest = sc->keys[i].path;
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
conf_key_names(const struct conf_scope *sc, const char *prefix, char *buf,
    size_t cap)
{
	size_t	 i, plen = strlen(prefix), n = 0;
	const char *rest;

	buf[0] = '\0';
	for (i = 0; i < sc->nkeys; i++) {
		rest = sc->keys[i].path;
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

/* Walk one mapping of keys under prefix ("" for the scope's top). */
static void
conf_walk_map(struct conf_state *st, struct conf_scope *sc,
    const char *prefix, const struct conf_node *map)
{
	const struct conf_node	*key, *val;
	const struct conf_key	*k;
	char			 names[256], q[80], path[160], where[160];
	size_t			 i;
	int			 idx;

	if (map->kind == CONF_N_BAD || (map->kind == CONF_N_SCALAR &&
	    map->empty))
		return;		/* reported, or an empty section */
	conf_join(where, sizeof where, sc->pfx, prefix);
	if (map->kind != CONF_N_MAP) {
		conf_key_names(sc, prefix, names, sizeof names);
		if (*where == '\0')
			conf_error(st, map->line, map->col, "expected a "
			    "mapping of keys (%s) at the top, not %s", names,
			    conf_kind_name(map));
		else
			conf_error(st, map->line, map->col, "%s: expected a "
			    "mapping of keys (%s), not %s", where, names,
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
			    "names, not %s", where, *where ? ": " : "",
			    conf_kind_name(key));
			continue;
		}
		/* The full path names the key in errors. */
		conf_join(path, sizeof path, where,
		    conf_quote(key->value, q, sizeof q));
		if ((idx = conf_key_find(sc, prefix, key->value)) == -1) {
			conf_key_names(sc, prefix, names, sizeof names);
			conf_error(st, key->line, key->col, "%s: unknown key; "
			    "valid keys %s%s are: %s", path,
			    *where ? "in " : "at the top level", where,
			    names);
			continue;
		}
		/*
		 * Each path occurs in one place only, so seen[] finds
		 * duplicates in any mapping without comparing keys.
		 */
		k = &sc->keys[idx];
		if (sc->seen[idx] != NULL) {
			conf_error(st, key->line, key->col, "%s: duplicate "
			    "key (first at line %zu column %zu)", path,
			    sc->seen[idx]->line, sc->seen[idx]->col);
			continue;
		}
		sc->seen[idx] = key;
		st->kpath = path;
		if (k->type == CONF_SECTION)
			conf_walk_map(st, sc, k->path, val);
		else
			conf_set(st, sc, k, val);
		st->kpath = NULL;
	}
}

/*
 * Read the open file f, of size size, into *buf (NUL-terminated) and *len.
 * A buffer of the file's size, grown while the reads fill it, up to
 * one octet more than the limit, which tells a too large file. Not
 * the limit at once: 10,000 board files took 10,000 mmaps and
 * munmaps of 1 MiB, each munmap a TLB flush on every CPU of the
 * process, half of veiligd's start with 10,000 boards. Returns 0, or -1
 * after reporting why (*buf is then NULL).
 */
static int
conf_read_all(struct conf_state *st, FILE *f, off_t size, char **buf,
    size_t *len)
{
	char	*p;
	size_t	 cap;

	*buf = NULL;
	cap = CONF_READ_FIRST;
	if (size >= 0 && size < CONF_MAX_FILE)
		cap = (size_t)size + 1;
	*len = 0;
	for (;;) {
		if ((p = realloc(*buf, cap + 1)) == NULL) {
			conf_error(st, 0, 0, "out of memory");
			goto fail;
		}
		*buf = p;
		*len += fread(*buf + *len, 1, cap - *len, f);
		if (*len < cap || cap > CONF_MAX_FILE)
			break;
		cap = cap > CONF_MAX_FILE / 2 ? CONF_MAX_FILE + 1 : cap * 2;
	}
	if (ferror(f))
		conf_error(st, 0, 0, "cannot read: %s", strerror(errno));
	else if (*len > CONF_MAX_FILE)
		conf_error(st, 0, 0, "larger than %d bytes", CONF_MAX_FILE);
	else {
		(*buf)[*len] = '\0';
		return (0);
	}
fail:
	free(*buf);
	*buf = NULL;
	return (-1);
}

/*
 * Read the file at path once into *buf and *len, as conf_read_file().
 * Returns 0, -1 after reporting why, or 1 if the file changed while it
 * was read (its size, modification time or inode, by fstat(2) before
 * and after): what *buf holds then may be of no one version of it, and
 * nothing is kept.
 */
static int
conf_read_once(struct conf_state *st, const char *path, char **buf,
    size_t *len)
{
	struct lists_fileid	 before, after;
	struct stat		 sb;
	FILE			*f;
	int			 fd;

	*buf = NULL;
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
	if (fd == -1) {
		conf_error(st, 0, 0, "cannot open: %s", strerror(errno));
		return (-1);
	}
	if (fstat(fd, &sb) == -1 || !S_ISREG(sb.st_mode)) {
		conf_error(st, 0, 0, "not a regular file");
		close(fd);
		return (-1);
	}
	lists_fileid_set(&before, &sb);
	if ((f = fdopen(fd, "r")) == NULL) {
		conf_error(st, 0, 0, "cannot open: %s", strerror(errno));
		close(fd);
		return (-1);
	}
	if (conf_read_all(st, f, sb.st_size, buf, len) == -1) {
		fclose(f);
		return (-1);
	}
	if (fstat(fd, &sb) == -1) {
		conf_error(st, 0, 0, "cannot stat: %s", strerror(errno));
		fclose(f);
		free(*buf);
		*buf = NULL;
		return (-1);
	}
	fclose(f);
	lists_fileid_set(&after, &sb);
	if (memcmp(&before, &after, sizeof before) == 0)
		return (0);
	free(*buf);
	*buf = NULL;
	return (1);
}

/*
 * Read the file at path into *buf (NUL-terminated) and *len. It must be
 * a regular file: a glob may match a FIFO or a device, and opening a
 * FIFO blocks until a writer comes, reading /dev/zero never ends (also
 * of veiligd.yaml, on a reload). A file that changes while it is read
 * (an editor writing it in place during a load) is read again, up to
 * LISTS_REREADS times, and then an error: a file written in place can be
 * read half old, half new, which may parse and be wrong. Returns 0, or
 * -1 after reporting why.
 */
static int
conf_read_file(struct conf_state *st, const char *path, char **buf,
    size_t *len)
{
	size_t	line, col;
	int	r, tries;

	for (tries = 0; (r = conf_read_once(st, path, buf, len)) == 1;
	    tries++) {
		if (tries == LISTS_REREADS) {
			conf_error(st, 0, 0, "%s", LISTS_CHANGED);
			return (-1);
		}
	}
	if (r == -1)
		return (-1);
	/* libyaml would stop at a NUL: refuse it, not half-read. */
	if (strlen(*buf) == *len)
		return (0);
	st->text = *buf;
	st->len = *len;
	conf_offset_pos(st, strlen(*buf), &line, &col);
	conf_error(st, line, col, "contains a NUL byte");
	free(*buf);
	*buf = NULL;
	return (-1);
}

/*
 * Where a board's name and networks were written, and the errors found
 * in it: in the file, or a clash with another board.
 */
struct conf_boardpos {
	struct conf_pos	 name;
	struct conf_pos	 geo;		/* block-countries, or block-asns */
	struct conf_pos	*nets;
	unsigned	 nerr;
	char		*first;		/* the first error, as reported */
	int		 done;		/* conf_boards_keep() dealt with it */
};

/* Count an error (msg, or NULL past the cap) of board bp, if any. */
static void
conf_board_erred(struct conf_boardpos *bp, const char *msg)
{
	if (bp == NULL)
		return;
	bp->nerr++;
	if (bp->first == NULL && msg != NULL)
		bp->first = strdup(msg);
}

/* A warning about the configuration: reported, but not an error. */
static void
conf_warn(struct conf_state *st, const char *fmt, ...)
{
	char	msg[1024];
	va_list	ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	if (st->errcb != NULL)
		st->errcb(st->arg, msg);
}

/*
 * A warning's location ("file:line:column" or "file") is followed by
 * "warning:"; an error may quote the input, so only that place counts.
 */
int
conf_is_warning(const char *msg)
{
	const char	*p;

	return ((p = strstr(msg, ": ")) != NULL &&
	    strncmp(p, ": warning: ", 11) == 0);
}

/* qsort and bsearch order of names: by their wire form. */
static int
conf_name_cmp(const void *va, const void *vb)
{
	const struct conf_name	*a = *(const struct conf_name * const *)va;
	const struct conf_name	*b = *(const struct conf_name * const *)vb;

	if (a->len != b->len)
		return (a->len < b->len ? -1 : 1);
	return (memcmp(a->lname, b->lname, a->len));
}

/*
 * A deny entry that is an allowed name or under one: allow beats deny,
 * so the name is not blocked, which its writer may not have meant. A
 * warning, not an error: the entry still blocks answers of other names
 * that lead to it (CNAME targets). Each suffix of each deny name is
 * looked up in the allow names sorted: each list may hold 65536 names.
 */
static void
conf_board_conflicts(struct conf_state *bs, const struct conf_board *b)
{
	const struct conf_name	**allow, *d, **hit;
	struct conf_name	  key;
	const struct conf_name	 *kp = &key;
	size_t			  i, off;

	if (b->nallow == 0 || b->ndeny == 0)
		return;
	if ((allow = calloc(b->nallow, sizeof *allow)) == NULL) {
		conf_error(bs, 0, 0, "out of memory");
		return;
	}
	for (i = 0; i < b->nallow; i++)
		allow[i] = &b->allow[i];
	qsort(allow, b->nallow, sizeof *allow, conf_name_cmp);
	for (i = 0; i < b->ndeny; i++) {
		d = &b->deny[i];
		/* The name, then its parents, up to the root (not listed). */
		for (off = 0; off < d->len && d->lname[off] != 0;
		    off += 1 + d->lname[off]) {
			key.lname = d->lname + off;
			key.len = d->len - off;
			hit = bsearch(&kp, allow, b->nallow, sizeof *allow,
			    conf_name_cmp);
			if (hit == NULL)
				continue;
			conf_warn(bs, "%s:%u:%u: warning: deny: '%s' is "
			    "covered by '%s' in allow (line %u column %u), "
			    "which wins: the name is not blocked", bs->name,
			    d->line, d->col, d->text, (*hit)->text,
			    (*hit)->line, (*hit)->col);
			break;
		}
	}
	free(allow);
}

/*
 * Whether the file name at the end of path may name a board: less .yaml,
 * it names the board in veiligctl's lines and the report's pages, where
 * a control character would split a line or reach the admin's terminal.
 * 0, or -1 after saying so (the path masked: the error stays one line).
 */
static int
conf_board_filename(struct conf_state *bs, const char *path)
{
	const char	*base, *c;
	char		*masked, *p;

	base = strrchr(path, '/') != NULL ? strrchr(path, '/') + 1 : path;
	if ((c = conf_control_char(base)) == NULL)
		return (0);
	if ((masked = strdup(path)) != NULL) {
		for (p = masked; *p != '\0'; p++) {
			if (conf_is_control(*p))
				*p = '?';
		}
		bs->name = masked;
	}
	conf_error(bs, 0, 0, "the file name has a control character "
	    "(0x%02x), and it names the board", (unsigned char)*c);
	bs->name = path;
	free(masked);
	return (-1);
}

/* Read one board file into b; errors are reported under its name. */
static void
conf_board_load(struct conf_state *st, const char *path,
    struct conf_board *b, struct conf_boardpos *bp)
{
	struct conf_state	 bs;
	struct conf_scope	 sc;
	struct conf_node	*root = NULL;
	char			*buf;
	size_t			 len;
	int			 idx;

	memset(&bs, 0, sizeof bs);
	bs.name = path;
	bs.errcb = st->errcb;
	bs.arg = st->arg;
	bs.conf = st->conf;
	bs.dir = st->dir;
	bs.bpos = bp;
	if ((b->path = strdup(path)) == NULL) {
		conf_error(&bs, 0, 0, "out of memory");
		goto out;
	}
	if (conf_board_filename(&bs, path) == -1)
		goto out;
	if (conf_read_file(&bs, path, &buf, &len) == -1)
		goto out;
	bs.text = buf;
	bs.len = len;
	if (conf_parse_tree(&bs, &root) == 0) {
		conf_scope_init(&sc, conf_board_keys,
		    CONF_NITEMS(conf_board_keys), b, "");
		if (root != NULL)
			conf_walk_map(&bs, &sc, "", root);
		/* A top that is not a mapping was one error already. */
		if (root == NULL || root->kind == CONF_N_MAP || root->empty)
			conf_scope_finish(&bs, &sc, 1, 1);
		conf_board_conflicts(&bs, b);
		if ((idx = conf_key_find(&sc, "", "name")) != -1 &&
		    sc.seen[idx] != NULL) {
			bp->name.line = sc.seen[idx]->line;
			bp->name.col = sc.seen[idx]->col;
		}
		if (((idx = conf_key_find(&sc, "", "block-countries")) != -1 &&
		    sc.seen[idx] != NULL) || ((idx = conf_key_find(&sc, "",
		    "block-asns")) != -1 && sc.seen[idx] != NULL)) {
			bp->geo.line = sc.seen[idx]->line;
			bp->geo.col = sc.seen[idx]->col;
		}
		/* Geo rules need their database, named in veiligd.yaml. */
		if (b->ncountries != 0 && st->conf->geoip_country == NULL &&
		    (idx = conf_key_find(&sc, "", "block-countries")) != -1 &&
		    sc.seen[idx] != NULL)
			conf_error(&bs, sc.seen[idx]->line, sc.seen[idx]->col,
			    "block-countries: needs geoip.country in %s",
			    st->name);
		if (b->nasns != 0 && st->conf->geoip_asn == NULL &&
		    (idx = conf_key_find(&sc, "", "block-asns")) != -1 &&
		    sc.seen[idx] != NULL)
			conf_error(&bs, sc.seen[idx]->line, sc.seen[idx]->col,
			    "block-asns: needs geoip.asn in %s", st->name);
	}
	conf_node_free(root);
	free(buf);
out:
	bp->nets = bs.netpos;
	st->nerr += bs.nerr;
}

/*
 * What conf_boards_check() found: per network of every board (at
 * base[board] + its index), the network it overlaps, as CONF_NETREF() + 1
 * (0: none); per board, the board of the same name before it (or -1).
 */
struct conf_clash {
	size_t		*base;
	uint64_t	*net;
	ssize_t		*name;
};

/* A network of the boards as an iptable value: board << 32 | index. */
#define CONF_NETREF(b, k)	((uint64_t)(b) << 32 | (uint64_t)(k))

/* iptable_overlaps(): network value overlaps network other. */
static void
conf_overlap_cb(void *arg, uint64_t value, uint64_t other)
{
	struct conf_clash	*cl = arg;

	cl->net[cl->base[value >> 32] + (value & 0xffffffff)] = other + 1;
}

/*
 * Find the networks that overlap one before them, in board order and the
 * order of each board's networks. 0, or -1 if out of memory.
 */
static int
conf_boards_overlap(struct conf_state *st, const struct conf_boardpos *pos,
    struct conf_clash *cl)
{
	const struct conf	*conf = st->conf;
	struct iptable_builder	*b;
	size_t			 j, k;
	int			 rv = 0;

	if ((b = iptable_builder_new()) == NULL)
		return (-1);
	/* Positions exist for every network that was parsed. */
	for (j = 0; j < conf->nboards && rv == 0; j++) {
		if (pos[j].nets == NULL)
			continue;
		for (k = 0; k < conf->boards[j].nnetworks && rv == 0; k++)
			rv = iptable_add(b, &conf->boards[j].networks[k],
			    CONF_NETREF(j, k));
	}
	if (rv == 0)
		rv = iptable_overlaps(b, conf_overlap_cb, cl);
	iptable_builder_free(b);
	return (rv);
}

/* qsort order of boards by name, case aside, then by their order. */
static int
conf_board_name_cmp(const void *va, const void *vb)
{
	const struct conf_board	*a = *(const struct conf_board * const *)va;
	const struct conf_board	*b = *(const struct conf_board * const *)vb;
	int			 c;

	if ((c = strcasecmp(a->name, b->name)) != 0)
		return (c);
	return (a < b ? -1 : a > b);
}

/* Find the boards named as one before them. 0, or -1 if out of memory. */
static int
conf_boards_names(struct conf_state *st, struct conf_clash *cl)
{
	const struct conf	*conf = st->conf;
	const struct conf_board	**sorted;
	size_t			  i, n = 0, first = 0;

	if ((sorted = calloc(conf->nboards + 1, sizeof *sorted)) == NULL)
		return (-1);
	for (i = 0; i < conf->nboards; i++) {
		cl->name[i] = -1;
		if (conf->boards[i].name != NULL)
			sorted[n++] = &conf->boards[i];
	}
	qsort(sorted, n, sizeof *sorted, conf_board_name_cmp);
	/* Equal names are neighbours now, the first of them in front. */
	for (i = 1; i < n; i++) {
		if (strcasecmp(sorted[first]->name, sorted[i]->name) != 0)
			first = i;
		else
			cl->name[sorted[i] - conf->boards] =
			    sorted[first] - conf->boards;
	}
	free(sorted);
	return (0);
}

/* Report that network k of board j overlaps the network at ref. */
static void
conf_board_overlap(struct conf_state *st, struct conf_boardpos *pos,
    size_t j, size_t k, uint64_t ref)
{
	const struct conf	*conf = st->conf;
	const struct conf_board	*bj = &conf->boards[j], *bi;
	const struct conf_net	*nj = &bj->networks[k], *ni;
	struct conf_state	 es = *st;
	char			 a[INET6_ADDRSTRLEN], b[INET6_ADDRSTRLEN];
	size_t			 i = ref >> 32, m = ref & 0xffffffff;

	bi = &conf->boards[i];
	ni = &bi->networks[m];
	inet_ntop(nj->family, nj->addr, a, sizeof a);
	inet_ntop(ni->family, ni->addr, b, sizeof b);
	/* Reported in the later file, whose error it is. */
	es.name = bj->path;
	es.nerr = 0;
	es.bpos = &pos[j];
	if (bi->kept)
		conf_error(&es, pos[j].nets[k].line, pos[j].nets[k].col,
		    "networks: %s/%u overlaps %s/%u of board '%s' (%s, kept at "
		    "its last good version)", a, nj->prefix, b, ni->prefix,
		    bi->name, bi->path);
	else
		conf_error(&es, pos[j].nets[k].line, pos[j].nets[k].col,
		    "networks: %s/%u overlaps %s/%u of board '%s' "
		    "(%s:%zu:%zu)", a, nj->prefix, b, ni->prefix,
		    bi->name != NULL ? bi->name : "?", bi->path,
		    pos[i].nets[m].line, pos[i].nets[m].col);
	st->nerr += es.nerr;
}

/*
 * Check that no two networks overlap and no two names are the same; each
 * clash is reported in the later file, naming the earlier one. Sorted,
 * not pairwise (iptable_overlaps()), so that thousands of boards cost
 * n log n, not n squared.
 */
static void
conf_boards_check(struct conf_state *st, struct conf_boardpos *pos)
{
	const struct conf	*conf = st->conf;
	const struct conf_board	*bj, *bi;
	struct conf_state	 es = *st;
	struct conf_clash	 cl;
	char			 q[80];
	size_t			 j, k, nnets = 0;

	cl.base = calloc(conf->nboards + 1, sizeof *cl.base);
	cl.name = calloc(conf->nboards + 1, sizeof *cl.name);
	for (j = 0; cl.base != NULL && j < conf->nboards; j++) {
		cl.base[j] = nnets;
		nnets += conf->boards[j].nnetworks;
	}
	cl.net = calloc(nnets + 1, sizeof *cl.net);
	if (cl.base == NULL || cl.name == NULL || cl.net == NULL ||
	    conf_boards_overlap(st, pos, &cl) == -1 ||
	    conf_boards_names(st, &cl) == -1) {
		conf_error(st, 0, 0, "out of memory");
		goto out;
	}
	for (j = 0; j < conf->nboards; j++) {
		bj = &conf->boards[j];
		for (k = 0; k < bj->nnetworks; k++)
			if (cl.net[cl.base[j] + k] != 0)
				conf_board_overlap(st, pos, j, k,
				    cl.net[cl.base[j] + k] - 1);
		if (cl.name[j] == -1)
			continue;
		bi = &conf->boards[cl.name[j]];
		es.name = bj->path;
		es.nerr = 0;
		es.bpos = &pos[j];
		if (bi->kept)
			conf_error(&es, pos[j].name.line, pos[j].name.col,
			    "name: '%s' is also the name of board %s (kept at "
			    "its last good version)", conf_quote(bj->name, q,
			    sizeof q), bi->path);
		else
			conf_error(&es, pos[j].name.line, pos[j].name.col,
			    "name: '%s' is also the name of board %s:%zu:%zu",
			    conf_quote(bj->name, q, sizeof q), bi->path,
			    pos[cl.name[j]].name.line,
			    pos[cl.name[j]].name.col);
		st->nerr += es.nerr;
	}
out:
	free(cl.base);
	free(cl.name);
	free(cl.net);
}

static void	conf_board_clear(struct conf_board *);

/* Copy n items of size bytes from src to a new array at *dst; 0 or -1. */
static int
conf_dup(void *dst, const void *src, size_t n, size_t size)
{
	void	*p = NULL;

	if (n != 0) {
		if ((p = calloc(n, size)) == NULL)
			return (-1);
		memcpy(p, src, n * size);
	}
	*(void **)dst = p;
	return (0);
}

/*
 * Copy n allow: or deny: names to a new array at *dst, counted in
 * *count as soon as it is there (for conf_board_clear()); 0 or -1.
 */
static int
conf_names_dup(struct conf_name **dst, size_t *count,
    const struct conf_name *src, size_t n)
{
	size_t	i;

	if (conf_dup(dst, src, n, sizeof *src) == -1)
		return (-1);
	/* The pointers are the old ones until replaced: clear them first. */
	for (i = 0; i < n; i++)
		(*dst)[i].text = NULL, (*dst)[i].lname = NULL;
	*count = n;
	for (i = 0; i < n; i++) {
		(*dst)[i].text = strdup(src[i].text);
		if ((*dst)[i].text == NULL || conf_dup(&(*dst)[i].lname,
		    src[i].lname, src[i].len, 1) == -1)
			return (-1);
	}
	return (0);
}

/*
 * b = the board from in the configuration in force, for the new one: a
 * deep copy, with its blocked lists found again by name. A list that
 * veiligd.yaml no longer has, or geo rules whose database it no longer
 * names, cannot be kept and are dropped with a warning. 0, or -1 if out
 * of memory (b is then for conf_board_clear()).
 */
static int
conf_board_copy(struct conf_state *st, struct conf_board *b,
    const struct conf_board *from)
{
	const struct conf	*old = st->old, *conf = st->conf;
	size_t			 i, j;

	*b = *from;
	b->path = b->name = NULL;
	b->networks = NULL;
	b->allow = b->deny = NULL;
	b->countries = NULL;
	b->asns = NULL;
	b->nallow = b->ndeny = 0;
	b->kept = 1;
	if ((b->path = strdup(from->path)) == NULL ||
	    (b->name = strdup(from->name)) == NULL ||
	    conf_dup(&b->networks, from->networks, from->nnetworks,
	    sizeof *from->networks) == -1)
		return (-1);
	if (conf_names_dup(&b->allow, &b->nallow, from->allow,
	    from->nallow) == -1 || conf_names_dup(&b->deny, &b->ndeny,
	    from->deny, from->ndeny) == -1)
		return (-1);
	b->block = 0;
	for (i = 0; i < old->nlists; i++) {
		if ((from->block & (1ULL << i)) == 0)
			continue;
		for (j = 0; j < conf->nlists; j++)
			if (strcmp(conf->lists[j].name,
			    old->lists[i].name) == 0)
				break;
		if (j < conf->nlists)
			b->block |= 1ULL << j;
		else
			conf_warn(st, "%s: warning: its last good version "
			    "blocks list '%s', which %s no longer has", b->path,
			    old->lists[i].name, st->name);
	}
	if (from->ncountries != 0 && conf->geoip_country == NULL) {
		conf_warn(st, "%s: warning: its last good version has "
		    "block-countries, but %s no longer names geoip.country",
		    b->path, st->name);
		b->ncountries = 0;
	}
	if (from->nasns != 0 && conf->geoip_asn == NULL) {
		conf_warn(st, "%s: warning: its last good version has "
		    "block-asns, but %s no longer names geoip.asn", b->path,
		    st->name);
		b->nasns = 0;
	}
	if (conf_dup(&b->countries, from->countries, b->ncountries,
	    sizeof *from->countries) == -1 || conf_dup(&b->asns, from->asns,
	    b->nasns, sizeof *from->asns) == -1)
		return (-1);
	return (0);
}

/* The board of file path in the configuration in force, or NULL. */
static const struct conf_board *
conf_board_old(const struct conf *old, const char *path)
{
	size_t	i;

	for (i = 0; old != NULL && i < old->nboards; i++)
		if (strcmp(old->boards[i].path, path) == 0)
			return (&old->boards[i]);
	return (NULL);
}

/* List the board file path in conf->broken, or update it; 0 or -1. */
static int
conf_broken_add(struct conf *conf, const char *path,
    struct conf_boardpos *bp, int kept)
{
	struct conf_broken	*br;
	size_t			 i;

	for (i = 0; i < conf->nbroken; i++)
		if (strcmp(conf->broken[i].path, path) == 0)
			break;
	if (i == conf->nbroken) {
		br = reallocarray(conf->broken, conf->nbroken + 1, sizeof *br);
		if (br == NULL)
			return (-1);
		conf->broken = br;
		br = &br[conf->nbroken];
		memset(br, 0, sizeof *br);
		if ((br->path = strdup(path)) == NULL)
			return (-1);
		conf->nbroken++;
	} else
		br = &conf->broken[i];
	br->nerr += bp->nerr;
	br->kept = kept;
	if (br->error == NULL) {
		br->error = bp->first;
		bp->first = NULL;
	}
	return (0);
}

/*
 * Board i has errors: put its version in force in its place, or mark it
 * to be left out (pos[i].done = 2). Its errors no longer fail the load.
 */
static void
conf_board_fallback(struct conf_state *st, struct conf_boardpos *pos,
    size_t i)
{
	struct conf		*conf = st->conf;
	struct conf_board	*b = &conf->boards[i], copy;
	const struct conf_board	*from = NULL;
	struct conf_pos		*nets = NULL;

	/* A kept board that clashes (never seen) cannot fall back again. */
	if (!b->kept)
		from = conf_board_old(st->old, b->path);
	memset(&copy, 0, sizeof copy);
	if (from != NULL && ((nets = calloc(from->nnetworks + 1,
	    sizeof *nets)) == NULL || conf_board_copy(st, &copy, from) == -1)) {
		/* The load fails: that error is not the board's. */
		conf_error(st, 0, 0, "%s: out of memory", b->path);
		conf_board_clear(&copy);
		free(nets);
		from = NULL;
	}
	st->nerr -= pos[i].nerr;
	if (conf_broken_add(conf, b->path, &pos[i], from != NULL) == -1)
		conf_error(st, 0, 0, "%s: out of memory", b->path);
	conf_board_clear(b);
	free(pos[i].nets);
	free(pos[i].first);
	memset(&pos[i], 0, sizeof pos[i]);
	pos[i].done = 2;
	if (from == NULL)
		return;
	/* Positions in a file that has changed mean nothing: none. */
	*b = copy;
	pos[i].nets = nets;
	pos[i].done = 1;
}

static void	conf_boards_geo(struct conf_state *, struct conf_boardpos *);

/*
 * Check the boards again, those kept first, so that a clash between a
 * kept board and a new one is reported in (and blamed on) the new one.
 */
static void
conf_boards_recheck(struct conf_state *st, struct conf_boardpos *pos)
{
	struct conf		*conf = st->conf;
	struct conf_board	*b;
	struct conf_boardpos	*p;
	size_t			*order, i, n = 0;
	int			 kept;

	b = calloc(conf->nboards + 1, sizeof *b);
	p = calloc(conf->nboards + 1, sizeof *p);
	order = calloc(conf->nboards + 1, sizeof *order);
	if (b == NULL || p == NULL || order == NULL) {
		conf_error(st, 0, 0, "out of memory");
		goto out;
	}
	for (kept = 1; kept >= 0; kept--)
		for (i = 0; i < conf->nboards; i++)
			if (conf->boards[i].kept == kept)
				order[n++] = i;
	for (i = 0; i < n; i++) {
		b[i] = conf->boards[order[i]];
		p[i] = pos[order[i]];
	}
	memcpy(conf->boards, b, n * sizeof *b);
	memcpy(pos, p, n * sizeof *p);
	conf_boards_check(st, pos);
	conf_boards_geo(st, pos);
	/* Back in order of path. */
	for (i = 0; i < n; i++) {
		b[order[i]] = conf->boards[i];
		p[order[i]] = pos[i];
	}
	memcpy(conf->boards, b, n * sizeof *b);
	memcpy(pos, p, n * sizeof *p);
out:
	free(b);
	free(p);
	free(order);
}

/* qsort order of conf->broken: by path. */
static int
conf_broken_cmp(const void *a, const void *b)
{
	return (strcmp(((const struct conf_broken *)a)->path,
	    ((const struct conf_broken *)b)->path));
}

/*
 * conf_load_keep(): every board with errors in its file falls back to
 * its version in force, or is left out, before the boards are checked
 * against each other (what a broken file says is not used, so it cannot
 * clash). A new board may clash with one kept: it then falls back in
 * turn, until no board has errors. This ends, as each round moves a
 * board from new to kept or from kept to left out, and the kept ones
 * were all in force together, without a clash.
 */
static void
conf_boards_keep(struct conf_state *st, struct conf_boardpos *pos)
{
	struct conf	*conf = st->conf;
	size_t		 i, n;
	int		 again, checked = 0;

	for (;;) {
		again = 0;
		for (i = 0; i < conf->nboards; i++) {
			if (pos[i].nerr == 0)
				continue;
			conf_board_fallback(st, pos, i);
			again = 1;
		}
		/* Close the gaps of the boards left out. */
		for (i = n = 0; i < conf->nboards; i++) {
			if (pos[i].done == 2)
				continue;
			conf->boards[n] = conf->boards[i];
			pos[n++] = pos[i];
		}
		conf->nboards = n;
		if (!again && checked)
			break;
		conf_boards_recheck(st, pos);
		checked = 1;
	}
	if (conf->nbroken > 1)
		qsort(conf->broken, conf->nbroken, sizeof *conf->broken,
		    conf_broken_cmp);
}

/*
 * The lists and the distinct countries and AS numbers that boards block
 * share the CONF_MAX_BITS bits of a mask (policy.c): a board whose rules
 * would need one more has an error at its block-countries (or
 * block-asns). The boards are taken in their order: in conf_load_keep()
 * the kept ones first, so that the new board is blamed.
 */
static void
conf_boards_geo(struct conf_state *st, struct conf_boardpos *pos)
{
	const struct conf	*conf = st->conf;
	const struct conf_board	*b;
	struct conf_state	 es = *st;
	char			 cc[CONF_MAX_BITS][3];
	uint32_t		 asn[CONF_MAX_BITS];
	size_t			 room, ncc = 0, nasn = 0, ncc0, nasn0, j, k, m;

	room = conf->nlists < CONF_MAX_BITS ? CONF_MAX_BITS - conf->nlists :
	    0;
	for (j = 0; j < conf->nboards; j++) {
		b = &conf->boards[j];
		ncc0 = ncc;
		nasn0 = nasn;
		for (k = 0; k < b->ncountries + b->nasns; k++) {
			/* A rule another board (or this one) has: no bit. */
			if (k < b->ncountries) {
				for (m = 0; m < ncc; m++)
					if (strcmp(cc[m], b->countries[k]) == 0)
						break;
				if (m < ncc)
					continue;
			} else {
				for (m = 0; m < nasn; m++)
					if (asn[m] == b->asns[k - b->ncountries])
						break;
				if (m < nasn)
					continue;
			}
			if (ncc + nasn == room)
				break;
			if (k < b->ncountries)
				memcpy(cc[ncc++], b->countries[k], 3);
			else
				asn[nasn++] = b->asns[k - b->ncountries];
		}
		if (k == b->ncountries + b->nasns)
			continue;
		/* Over: this board's rules take no bit. */
		ncc = ncc0;
		nasn = nasn0;
		es.name = b->path;
		es.nerr = 0;
		es.bpos = &pos[j];
		conf_error(&es, pos[j].geo.line, pos[j].geo.col, "%s: the %zu "
		    "lists and the countries and AS numbers the boards block "
		    "would be more than %d in all", b->ncountries != 0 ?
		    "block-countries" : "block-asns", conf->nlists,
		    CONF_MAX_BITS);
		st->nerr += es.nerr;
	}
}

/* Read every board file the boards glob matches, sorted by path. */
static void
conf_boards_load(struct conf_state *st)
{
	struct conf		*conf = st->conf;
	struct conf_boardpos	*pos;
	glob_t			 g;
	size_t			 i;
	int			 rv;

	memset(&g, 0, sizeof g);
	rv = glob(conf->boards_glob, 0, NULL, &g);
	if (rv == GLOB_NOMATCH) {
		globfree(&g);
		return;		/* no boards: every client is refused */
	}
	if (rv != 0) {
		conf_error(st, 0, 0, "boards: cannot expand '%s'",
		    conf->boards_glob);
		globfree(&g);
		return;
	}
	if (g.gl_pathc > CONF_MAX_BOARDS) {
		conf_error(st, 0, 0, "boards: '%s' matches %zu files, more "
		    "than %d", conf->boards_glob, (size_t)g.gl_pathc,
		    CONF_MAX_BOARDS);
		globfree(&g);
		return;
	}
	conf->boards = calloc(g.gl_pathc, sizeof *conf->boards);
	pos = calloc(g.gl_pathc, sizeof *pos);
	if (conf->boards == NULL || pos == NULL) {
		conf_error(st, 0, 0, "out of memory");
		free(pos);
		globfree(&g);
		return;
	}
	for (i = 0; i < g.gl_pathc; i++) {
		conf->nboards++;
		conf_board_load(st, g.gl_pathv[i], &conf->boards[i], &pos[i]);
	}
	if (st->keep)
		conf_boards_keep(st, pos);
	else {
		conf_boards_check(st, pos);
		conf_boards_geo(st, pos);
	}
	/* conf_boards_keep() may have left boards out: nboards counts. */
	for (i = 0; i < conf->nboards; i++) {
		free(pos[i].nets);
		free(pos[i].first);
	}
	free(pos);
	globfree(&g);
}

/* The absolute directory of the file name; NULL if out of memory. */
static char *
conf_dir(const char *name)
{
	char	cwd[4096], *dir, *slash;
	char	*out;

	if ((dir = strdup(name)) == NULL)
		return (NULL);
	/* "veiligd.yaml" is in ".", "/veiligd.yaml" in "/". */
	if ((slash = strrchr(dir, '/')) == NULL)
		dir[0] = '\0';
	else if (slash == dir)
		dir[1] = '\0';
	else
		*slash = '\0';
	if (dir[0] == '/')
		return (dir);
	if (getcwd(cwd, sizeof cwd) == NULL)
		snprintf(cwd, sizeof cwd, ".");
	if (asprintf(&out, "%s%s%s", strcmp(cwd, "/") == 0 ? "" : cwd,
	    dir[0] != '\0' ? "/" : "", dir) == -1)
		out = NULL;
	free(dir);
	if (out != NULL && out[0] == '\0') {
		free(out);
		out = strdup("/");
	}
	return (out);
}

/*
 * Whether metrics' address m clashes with the listening address l: the
 * same family and port, and the same address or either the wildcard one.
 * The listeners are IPv6-only, so [::] there leaves IPv4's port free;
 * metrics' socket is not, so [::] there takes IPv4's port as well.
 */
static int
conf_metrics_clashes(const struct conf_sockaddr *l,
    const struct conf_sockaddr *m)
{
	const struct sockaddr_in	*l4, *m4;
	const struct sockaddr_in6	*l6, *m6;

	if (m->ss.ss_family == AF_INET6 && l->ss.ss_family == AF_INET) {
		m6 = (const struct sockaddr_in6 *)&m->ss;
		l4 = (const struct sockaddr_in *)&l->ss;
		return (IN6_IS_ADDR_UNSPECIFIED(&m6->sin6_addr) &&
		    m6->sin6_port == l4->sin_port);
	}
	if (l->ss.ss_family != m->ss.ss_family)
		return (0);
	if (l->ss.ss_family == AF_INET) {
		l4 = (const struct sockaddr_in *)&l->ss;
		m4 = (const struct sockaddr_in *)&m->ss;
		return (l4->sin_port == m4->sin_port &&
		    (l4->sin_addr.s_addr == m4->sin_addr.s_addr ||
		    l4->sin_addr.s_addr == htonl(INADDR_ANY) ||
		    m4->sin_addr.s_addr == htonl(INADDR_ANY)));
	}
	l6 = (const struct sockaddr_in6 *)&l->ss;
	m6 = (const struct sockaddr_in6 *)&m->ss;
	return (l6->sin6_port == m6->sin6_port &&
	    (IN6_ARE_ADDR_EQUAL(&l6->sin6_addr, &m6->sin6_addr) ||
	    IN6_IS_ADDR_UNSPECIFIED(&l6->sin6_addr) ||
	    IN6_IS_ADDR_UNSPECIFIED(&m6->sin6_addr)));
}

/*
 * metrics on an address of server.listen (or on its port where either is
 * the wildcard address): the start would stop at the second bind(2),
 * naming no key, and veiligd -n would have said OK.
 */
static void
conf_metrics_clash(struct conf_state *st, const struct conf_scope *sc)
{
	const struct conf	*c = st->conf;
	const struct conf_node	*n;
	char			 buf[64], buf2[64];
	size_t			 i;
	int			 idx;

	if (c->metrics.len == 0 ||
	    (idx = conf_key_find(sc, "", "metrics")) == -1 ||
	    (n = sc->seen[idx]) == NULL)
		return;
	for (i = 0; i < c->nlisten; i++) {
		if (conf_metrics_clashes(&c->listen[i], &c->metrics)) {
			conf_error(st, n->line, n->col, "metrics: %s clashes "
			    "with %s of server.listen", conf_sockaddr_str(
			    &c->metrics, buf, sizeof buf), conf_sockaddr_str(
			    &c->listen[i], buf2, sizeof buf2));
			return;
		}
	}
}

/* Where stats.dir was written, for veiligd -n's check of it. */
static void
conf_stats_dir_pos(struct conf *conf, const struct conf_scope *sc)
{
	const struct conf_node	*n;
	int			 idx;

	if ((idx = conf_key_find(sc, "stats", "dir")) != -1 &&
	    (n = sc->seen[idx]) != NULL) {
		conf->stats_dir_line = (unsigned)n->line;
		conf->stats_dir_col = (unsigned)n->col;
	}
}

/*
 * Load from text of len bytes (NUL-terminated); name is for errors.
 * With keep, broken board files fall back to their version in old.
 */
static struct conf *
conf_load_text(const char *name, const char *text, size_t len,
    const struct conf *old, int keep, conf_error_cb errcb, void *arg)
{
	struct conf_state	 st;
	struct conf_scope	 sc;
	struct conf_node	*root = NULL;
	char			*dir = NULL;

	memset(&st, 0, sizeof st);
	st.name = name;
	st.text = text;
	st.len = len;
	st.errcb = errcb;
	st.arg = arg;
	st.old = old;
	st.keep = keep;
	if ((st.conf = calloc(1, sizeof *st.conf)) == NULL ||
	    (st.conf->path = strdup(name)) == NULL ||
	    (dir = conf_dir(name)) == NULL) {
		conf_error(&st, 0, 0, "out of memory");
		conf_free(st.conf);
		return (NULL);
	}
	st.dir = dir;

	if (conf_parse_tree(&st, &root) == 0) {
		conf_scope_init(&sc, conf_keys, CONF_NITEMS(conf_keys),
		    st.conf, "");
		if (root != NULL)
			conf_walk_map(&st, &sc, "", root);
		/*
		 * Keys not in the file: defaults, or an error if required.
		 * A top level that is not a mapping is one error already:
		 * saying that required keys are missing too is only noise.
		 */
		if (root == NULL || root->kind == CONF_N_MAP || root->empty)
			conf_scope_finish(&st, &sc, 1, 1);
		conf_metrics_clash(&st, &sc);
		conf_stats_dir_pos(st.conf, &sc);
	}
	conf_node_free(root);
	/* Board files name lists, so they come after veiligd.yaml. */
	if (st.conf->boards_glob != NULL)
		conf_boards_load(&st);
	free(st.netpos);
	free(dir);
	if (st.nerr > 0) {
		conf_free(st.conf);
		return (NULL);
	}
	return (st.conf);
}

/* conf_load() and conf_load_keep(). */
static struct conf *
conf_load_path(const char *path, const struct conf *old, int keep,
    conf_error_cb errcb, void *arg)
{
	struct conf_state	 st;
	struct conf		*conf;
	char			*buf;
	size_t			 len;

	memset(&st, 0, sizeof st);
	st.name = path;
	st.errcb = errcb;
	st.arg = arg;
	if (conf_read_file(&st, path, &buf, &len) == -1)
		return (NULL);
	conf = conf_load_text(path, buf, len, old, keep, errcb, arg);
	free(buf);
	return (conf);
}

struct conf *
conf_load(const char *path, conf_error_cb errcb, void *arg)
{
	return (conf_load_path(path, NULL, 0, errcb, arg));
}

struct conf *
conf_load_keep(const char *path, const struct conf *old, conf_error_cb errcb,
    void *arg)
{
	return (conf_load_path(path, old, 1, errcb, arg));
}

struct conf *
conf_load_string(const char *name, const char *text, conf_error_cb errcb,
    void *arg)
{
	return (conf_load_text(name, text, strlen(text), NULL, 0, errcb,
	    arg));
}

/* Free what board b holds, not b itself. */
static void
conf_board_clear(struct conf_board *b)
{
	size_t	i;

	free(b->path);
	free(b->name);
	free(b->networks);
	for (i = 0; i < b->nallow; i++) {
		free(b->allow[i].text);
		free(b->allow[i].lname);
	}
	free(b->allow);
	for (i = 0; i < b->ndeny; i++) {
		free(b->deny[i].text);
		free(b->deny[i].lname);
	}
	free(b->deny);
	free(b->countries);
	free(b->asns);
}

void
conf_free(struct conf *conf)
{
	size_t	i;

	if (conf == NULL)
		return;
	free(conf->path);
	free(conf->listen);
	free(conf->upstreams);
	for (i = 0; i < conf->nlists; i++) {
		free(conf->lists[i].name);
		free(conf->lists[i].file);
		free(conf->lists[i].url);
	}
	free(conf->lists);
	free(conf->boards_glob);
	for (i = 0; i < conf->nboards; i++)
		conf_board_clear(&conf->boards[i]);
	free(conf->boards);
	for (i = 0; i < conf->nbroken; i++) {
		free(conf->broken[i].path);
		free(conf->broken[i].error);
	}
	free(conf->broken);
	free(conf->tables);
	free(conf->geoip_country);
	free(conf->geoip_asn);
	free(conf->control);
	free(conf->stats_dir);
	free(conf->stats_node);
	free(conf->user);
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

/*
 * Print s as a YAML double-quoted string: quotes, backslashes and
 * control characters escaped, everything else (UTF-8) as it is.
 */
static void
conf_print_str(const char *s, FILE *f)
{
	const unsigned char	*p;

	fputc('"', f);
	for (p = (const unsigned char *)s; *p != '\0'; p++) {
		if (*p == '"' || *p == '\\')
			fprintf(f, "\\%c", *p);
		else if (*p < 0x20 || *p == 0x7f)
			fprintf(f, "\\x%02x", *p);
		else
			fputc(*p, f);
	}
	fputc('"', f);
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

/* Print lists: one mapping per list, paths absolute. */
static void
conf_print_lists(const struct conf *conf, FILE *f)
{
	const struct conf_list	*l;
	size_t			 i;

	if (conf->nlists == 0) {
		fprintf(f, " {}\n");
		return;
	}
	fprintf(f, "\n");
	for (i = 0; i < conf->nlists; i++) {
		l = &conf->lists[i];
		fprintf(f, "  %s:\n    file: ", l->name);
		conf_print_str(l->file != NULL ? l->file : "", f);
		fprintf(f, "\n    format: %s\n",
		    lists_format_name((enum lists_format)l->format));
		if (l->url != NULL) {
			fprintf(f, "    url: ");
			conf_print_str(l->url, f);
			fprintf(f, "\n");
		}
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
	for (i = 0; i < CONF_NITEMS(conf_keys); i++) {
		k = &conf_keys[i];
		/* Keys in a section are indented; sections print a header. */
		field = base + k->off;
		name = strrchr(k->path, '.');
		indent = name != NULL ? "  " : "";
		name = name != NULL ? name + 1 : k->path;
		if (*indent == '\0')
			fprintf(f, "\n");
		/* A path not set is shown as a comment: no default. */
		if (((k->type == CONF_PATH || k->type == CONF_TEXT) &&
		    *(char *const *)field == NULL) || (k->type == CONF_ADDR &&
		    ((const struct conf_sockaddr *)(const void *)field)->len ==
		    0)) {
			fprintf(f, "%s# %s\n%s# %s: not set\n", indent,
			    k->help, indent, name);
			continue;
		}
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
		case CONF_LISTS:
			conf_print_lists(conf, f);
			break;
		case CONF_PATH:
		case CONF_TEXT:
			fprintf(f, " ");
			conf_print_str(*(char *const *)field, f);
			fprintf(f, "\n");
			break;
		case CONF_BOOL:
			fprintf(f, " %s\n", *(const int *)(const void *)field ?
			    "true" : "false");
			break;
		case CONF_ADDR:
			if (conf_sockaddr_str((const struct conf_sockaddr *)
			    (const void *)field, buf, sizeof buf) != NULL)
				fprintf(f, " \"%s\"", buf);
			fprintf(f, "\n");
			break;
		default:
			/* Board keys: not in veiligd.yaml. */
			fprintf(f, "\n");
			break;
		}
	}
}

/*
 * The words the man pages use for each type (the "Value types" of
 * veiligd.yaml(5)), indexed by enum conf_type.
 */
static const char *const conf_type_words[] = {
	[CONF_SECTION] = "mapping",
	[CONF_UINT] = "number",
	[CONF_DURATION] = "duration",
	[CONF_SIZE] = "size",
	[CONF_ADDRS] = "list of addresses",
	[CONF_ADDR] = "address",
	[CONF_NETS] = "list of networks",
	[CONF_PATH] = "path",
	[CONF_URL] = "URL",
	[CONF_TEXT] = "text",
	[CONF_FORMAT] = "format",
	[CONF_BOOL] = "boolean",
	[CONF_ACTION] = "action",
	[CONF_LISTS] = "mapping of lists",
	[CONF_BLOCK] = "list of list names",
	[CONF_NAMES] = "list of domain names",
	[CONF_COUNTRIES] = "list of country codes",
	[CONF_ASNS] = "list of AS numbers",
};
_Static_assert(CONF_NITEMS(conf_type_words) == CONF_ASNS + 1,
    "every enum conf_type needs its words in conf_type_words[]");

/* The range of key k as a man page gives it, or "" when it has none. */
static void
conf_key_range(const struct conf_key *k, char *buf, size_t cap)
{
	unsigned long long	 min = k->min, max = k->max;
	char			 lo[32], hi[32];

	buf[0] = '\0';
	switch (k->type) {
	case CONF_UINT:
		snprintf(buf, cap, "%s%llu to %llu", (k->flags & CONF_AUTO) ?
		    "auto, or " : "", min, max);
		break;
	case CONF_DURATION:
		/* The same words as the errors of conf_set_scalar(). */
		conf_duration_str(k->min, lo, sizeof lo);
		conf_duration_str(k->max, hi, sizeof hi);
		snprintf(buf, cap, "%s to %s%s", lo, hi, k->scale == SEC ?
		    ", in whole seconds" : k->scale == DAY ? ", in whole days" :
		    "");
		break;
	case CONF_SIZE:
		conf_size_str(k->min, lo, sizeof lo);
		conf_size_str(k->max, hi, sizeof hi);
		snprintf(buf, cap, "%s to %s", lo, hi);
		break;
	case CONF_TEXT:
		snprintf(buf, cap, "%llu to %llu bytes", min, max);
		break;
	case CONF_ADDRS:
	case CONF_NETS:
	case CONF_BLOCK:
	case CONF_NAMES:
	case CONF_COUNTRIES:
	case CONF_ASNS:
		if (min == 0)
			snprintf(buf, cap, "at most %llu entries", max);
		else
			snprintf(buf, cap, "%llu to %llu entries", min, max);
		break;
	case CONF_LISTS:
		snprintf(buf, cap, "at most %llu lists", max);
		break;
	default:
		break;
	}
}

int
conf_key_doc(enum conf_doc which, size_t i, struct conf_keydoc *doc)
{
	const struct conf_key	*k = NULL;
	const char		*lists = NULL;
	size_t			 j;

	memset(doc, 0, sizeof *doc);
	if (which == CONF_DOC_BOARD) {
		if (i >= CONF_NITEMS(conf_board_keys))
			return (-1);
		k = &conf_board_keys[i];
	} else {
		/* The keys of one list follow lists: as lists.NAME.KEY. */
		for (j = 0; j < CONF_NITEMS(conf_keys); j++) {
			if (i == 0) {
				k = &conf_keys[j];
				break;
			}
			i--;
			if (conf_keys[j].type != CONF_LISTS)
				continue;
			if (i < CONF_NITEMS(conf_list_keys)) {
				k = &conf_list_keys[i];
				lists = conf_keys[j].path;
				break;
			}
			i -= CONF_NITEMS(conf_list_keys);
		}
		if (k == NULL)
			return (-1);
	}
	if (lists != NULL)
		snprintf(doc->path, sizeof doc->path, "%s.NAME.%s", lists,
		    k->path);
	else
		snprintf(doc->path, sizeof doc->path, "%s", k->path);
	doc->type = conf_type_words[k->type];
	doc->list = strncmp(doc->type, "list of ", 8) == 0;
	doc->required = (k->flags & CONF_REQUIRED) != 0;
	conf_key_range(k, doc->range, sizeof doc->range);
	snprintf(doc->def, sizeof doc->def, "%s", k->def != NULL ? k->def :
	    "");
	doc->help = k->help;
	return (0);
}
