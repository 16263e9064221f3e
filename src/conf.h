/*
 * conf.h: veiligd.yaml, read with libyaml and checked against one table.
 *
 * conf.c holds a single table of keys (path, type, range, default, where
 * the value goes, help text). That table drives parsing, validation, the
 * defaults and conf_print(). Every error in a file is reported, each as
 * "file:line:column: message" through the error callback, in one pass;
 * unknown keys, wrong types, values out of range, duplicate keys and
 * missing required keys are all errors. Nothing is silently ignored.
 *
 * The file format (every key, its default and meaning) is in
 * doc/veiligd.yaml.5 and conf/veiligd.yaml.
 *
 * veiligd.yaml names the category lists and a glob of board files;
 * conf_load() reads the board files too, so that one call reports every
 * error of the whole configuration except those inside list files (read
 * by policy.c). Relative paths are resolved against the directory of
 * veiligd.yaml.
 *
 * Ownership: conf_load() returns a struct conf owned by the caller, freed
 * with conf_free(). Nothing in it points outside itself.
 */
#ifndef VEILIG_CONF_H
#define VEILIG_CONF_H

#include <sys/socket.h>

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* An address and port: a listen address or an upstream. */
struct conf_sockaddr {
	struct sockaddr_storage	ss;
	socklen_t		len;
};

/* A network in CIDR form: family AF_INET or AF_INET6, host bits zero. */
struct conf_net {
	int		family;
	uint8_t		addr[16];	/* 4 used for AF_INET */
	unsigned	prefix;		/* 0..32 or 0..128 */
};

/*
 * A category list, lists: in veiligd.yaml. Its index in conf->lists is its
 * bit in every mask (at most CONF_MAX_LISTS).
 */
#define CONF_MAX_LISTS	48

/*
 * The lists and the distinct countries and AS numbers that the boards
 * block share the bits of a 64-bit mask but two: policy.c keeps the top
 * two for an answer's targets (on a deny list, a canary). conf.c checks
 * the limit per board, policy.c builds within it.
 */
#define CONF_MAX_BITS	62

struct conf_list {
	char		*name;		/* "phishing": letters, digits, '-' */
	char		*file;		/* resolved against the directory of
					   veiligd.yaml */
	int		 format;	/* enum lists_format */
	char		*url;		/* where the updater fetches it, or
					   NULL */
	unsigned	 line, col;	/* where it is defined */
};

/* What a board's blocked answers look like (board key action:). */
enum conf_action {
	CONF_ACTION_NXDOMAIN = 0,
	CONF_ACTION_NODATA,
	CONF_ACTION_REFUSED,
	CONF_ACTION_REDIRECT,
};

/* An allow: or deny: name of a board. */
struct conf_name {
	char		*text;		/* as written, for explain */
	uint8_t		*lname;		/* lower-case wire form */
	size_t		 len;
	unsigned	 line, col;
};

/*
 * A board, from one file matched by boards:. No two boards' networks
 * overlap (conf_load reports that, naming both files).
 */
struct conf_board {
	char		*path;		/* the board file */
	char		*name;		/* name: (required) */
	struct conf_net	*networks;	/* networks: (required, >= 1) */
	size_t		 nnetworks;
	uint64_t	 block;		/* block: bit i = conf->lists[i] */
	struct conf_name *allow;	/* allow: */
	size_t		 nallow;
	struct conf_name *deny;		/* deny: */
	size_t		 ndeny;
	int		 safe_search;	/* safe-search:, default false */
	int		 canaries;	/* canaries:, default true */
	enum conf_action action;	/* action:, default nxdomain */
	int		 have4, have6;	/* redirect addresses given */
	uint8_t		 redirect4[4];
	uint8_t		 redirect6[16];
	char		(*countries)[3]; /* block-countries: ISO codes, upper */
	size_t		 ncountries;
	uint32_t	*asns;		/* block-asns: numbers ("AS" optional) */
	size_t		 nasns;
	int		 kept;		/* its file has errors: this is its
					   last good version (conf->broken) */
};

/*
 * A board file with errors, in a configuration loaded by
 * conf_load_keep(): its last good version is kept in boards[], or, when
 * there is none, the board is left out.
 */
struct conf_broken {
	char		*path;		/* the board file */
	char		*error;		/* its first error, as reported:
					   "file:line:column: message" */
	unsigned	 nerr;		/* its errors in all */
	int		 kept;		/* 1: kept, 0: left out */
};

struct conf {
	char			*path;		/* file it was read from */

	/* server: */
	struct conf_sockaddr	*listen;	/* default 127.0.0.1:53, [::1]:53 */
	size_t			 nlisten;
	unsigned		 workers;	/* 0 means auto: one per core */
	uint32_t		 tcp_idle_ms;	/* default 10000 */
	unsigned		 tcp_max_conns;	/* per daemon, default 1024 */
	unsigned		 tcp_max_queries; /* in flight per connection,
						   default 32 */
	char			*user;		/* to become after binding, when
						   started as root; or NULL */
	unsigned		 tcp_max_conns_client; /* per client (an
						   address, an IPv6 /64),
						   default 64 */
	uint32_t		 tcp_query_ms;	/* a query's octets, or unread
						   answers, default 5000 */
	uint64_t		 receive_buffer; /* SO_RCVBUF of each UDP
						   listening socket, bytes,
						   default 4 MiB */

	/* upstreams: required, at least one; default port 53 */
	struct conf_sockaddr	*upstreams;
	size_t			 nupstreams;

	/* forward: */
	uint32_t		 fwd_timeout_ms; /* per attempt, default 1000 */
	unsigned		 fwd_attempts;	/* tries in all, default 3 */

	/* cache: */
	uint64_t		 cache_size;	/* bytes, default 256 MiB */
	uint32_t		 serve_stale;	/* seconds, default 86400, 0 off */
	uint32_t		 max_ttl;	/* seconds, default 86400 */
	uint32_t		 max_neg_ttl;	/* seconds, default 3600 */
	uint32_t		 failure_ttl;	/* seconds a failure is kept
						   (RFC 9520), default 5 */

	/* limits: on forwarded queries (each worker gets its share of
	   lim_forwarded) */
	unsigned		 lim_forwarded;	/* default 16384 */
	unsigned		 lim_per_question; /* per worker, default 100 */
	unsigned		 lim_client_share; /* percent, default 10 */

	/* rrl: response rate limiting on UDP (rrl.h); rates per second
	   by enum rrl_class, 0 not limited */
	unsigned		 rrl_rates[4];
	unsigned		 rrl_slip;	/* default 2 */
	unsigned		 rrl_prefix4;	/* default 24 */
	unsigned		 rrl_prefix6;	/* default 56 */
	unsigned		 rrl_table_size; /* entries, default 65536 */

	/* lists: name -> { file, format, url } (may be empty) */
	struct conf_list	*lists;
	size_t			 nlists;

	/* boards: a glob of board files, relative to veiligd.yaml's
	   directory; the boards it matched, sorted by path */
	char			*boards_glob;
	struct conf_board	*boards;
	size_t			 nboards;

	/* board files with errors, sorted by path (conf_load_keep only) */
	struct conf_broken	*broken;
	size_t			 nbroken;

	/* board-limits: the shortest prefix a board's network may have */
	unsigned		 board_widest4;	/* default 16 */
	unsigned		 board_widest6;	/* default 32 */

	/* filter: */
	uint32_t		 block_ttl;	/* seconds, default 60: TTL of
						   blocked answers */
	char			*tables;	/* directory with safesearch.txt
						   and canaries.txt, default
						   VEILIG_DATADIR */

	/* geoip: { country:, asn: } MMDB files, NULL when not given */
	char			*geoip_country;
	char			*geoip_asn;

	/* control: the control socket, default /run/veilig/control.sock */
	char			*control;

	/* stats: statistics without personal data (stats.c) */
	char			*stats_dir;	/* files; NULL: none written */
	unsigned		 stats_dir_line, stats_dir_col; /* its key
						   in the file, for -n */
	uint32_t		 stats_interval; /* seconds, default 300 */
	unsigned		 stats_k;	/* k-anonymity, default 5 */
	uint32_t		 stats_retention; /* days, default 400 */
	char			*stats_node;	/* NULL: the host name */
	unsigned		 stats_top;	/* sites named, default 20 */

	/* metrics: the Prometheus endpoint; len 0 when not set (off) */
	struct conf_sockaddr	 metrics;

	/* log-queries: the debug query log, default false */
	int			 log_queries;
};

/*
 * Called once per error with "file:line:column: message", and once per
 * warning with "file:line:column: warning: message" (conf_is_warning()).
 */
typedef void (*conf_error_cb)(void *arg, const char *msg);

/* Whether msg, as given to a conf_error_cb, is a warning. */
int		 conf_is_warning(const char *msg);

/*
 * Read and check the file at path. Returns the configuration, or NULL
 * after reporting every error found through errcb (a file that cannot be
 * opened is one error naming the file).
 */
struct conf	*conf_load(const char *path, conf_error_cb errcb, void *arg);

/*
 * As conf_load(), but one broken board file does not refuse the whole
 * configuration. Errors in a board file (its own, or a network or name
 * it shares with another board) are reported as usual; then the board
 * keeps its version in old (the configuration in force, found by the
 * file's path; old may be NULL), or is left out when old has none, and
 * the file is listed in conf->broken. A good board file that clashes
 * with a board kept that way is broken too. The version kept is the old
 * board entire, networks included: a file half-edited into errors never
 * half applies. Errors in veiligd.yaml itself still return NULL.
 */
struct conf	*conf_load_keep(const char *path, const struct conf *old,
		    conf_error_cb errcb, void *arg);

/* As conf_load(), from a string; name stands for the file in errors. */
struct conf	*conf_load_string(const char *name, const char *text,
		    conf_error_cb errcb, void *arg);

void		 conf_free(struct conf *);

/* Write the effective configuration (defaults filled in) as YAML. */
void		 conf_print(const struct conf *, FILE *);

/*
 * The documentation of one key, made from the same tables that parse the
 * files: tests/doc/mankeys.c checks the KEYS sections of veiligd.yaml(5)
 * and veilig-board(5) against it. All text is plain (no roff).
 */
enum conf_doc {
	CONF_DOC_MAIN,		/* veiligd.yaml, entries of lists: included */
	CONF_DOC_BOARD,		/* a board file */
};

struct conf_keydoc {
	char		 path[64];	/* "server.listen", "lists.NAME.file" */
	const char	*type;		/* "duration", "list of addresses" */
	int		 list;		/* def is a list: words with spaces */
	int		 required;	/* no default: must be in the file */
	char		 range[96];	/* "1s to 1h", "at most 48 lists", "" */
	char		 def[128];	/* the default as written, "" if none */
	const char	*help;		/* one line */
};

/* Fill *doc for key i of table which; 0, or -1 when i is past the end. */
int		 conf_key_doc(enum conf_doc which, size_t i,
		    struct conf_keydoc *doc);

/* Write "ADDR#PORT"-free text for sa: "192.0.2.1:53" or "[2001:db8::1]:53". */
char		*conf_sockaddr_str(const struct conf_sockaddr *sa, char *out,
		    size_t cap);

#endif
