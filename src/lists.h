/*
 * lists.h: reading category list files.
 *
 * Formats:
 *   domains	one name a line ("example.com", "example.com."); '#' and
 *		'!' start comments, blank lines are skipped.
 *   hosts	"0.0.0.0 name [name...]" or "127.0.0.1 name" (also "::",
 *		"::1"); the address is ignored, so every name is blocked;
 *		"localhost" and similar names of the hosts file itself
 *		(localhost, localhost.localdomain, local, broadcasthost,
 *		ip6-*) are skipped silently.
 *   adblock	"||name^" blocks, "@@||name^" is an exception; a "$" option
 *		suffix other than nothing makes the line unsupported (it
 *		blocks only in a browser's context); other syntax (paths,
 *		wildcards, element hiding "##") is unsupported; "!" and "["
 *		start comments.
 *   rpz	an RPZ zone file (RFC draft-vixie-dnsop-dns-rpz) read with
 *		ldns. QNAME triggers only: "name CNAME ." (NXDOMAIN),
 *		"name CNAME *." (NODATA), "name CNAME rpz-passthru."
 *		(PASSTHRU), "name CNAME target" (local CNAME); "*.name"
 *		covers subdomains only. Names are relative to the zone origin
 *		($ORIGIN, or the SOA owner). Unsupported, reported once per
 *		kind per file with a count: rpz-drop, rpz-tcp-only, IP,
 *		NSDNAME, NSIP and client-IP triggers, and local data other
 *		than CNAME.
 *   ip		addresses and CIDR networks, IPv4 and IPv6, one a line.
 *   rewrite	"name target" a line, '#' comments: the name (exactly, not
 *		its subdomains) is answered with a CNAME to target. Our own
 *		safe-search table; not a format veiligd.yaml may name.
 *
 * Names are normalised: lower case, trailing dot removed, at most 255
 * octets in wire form, labels 1..63 octets of letters, digits, '-' and '_'
 * (IDN must already be in A-label "xn--" form; any other octet makes the
 * line invalid). An entry must be a host name under a top-level domain:
 * one label, an IPv4 address, a last label of digits, or an xn-- label
 * that is no Punycode of text not all ASCII make the line invalid
 * (lists_entry_check()). A line that is invalid is reported as "file:line: why"
 * and skipped; a file that cannot be read, or in which more than half of
 * the lines that are neither blank nor comments are invalid or
 * unsupported, fails the load ("mostly garbage"). Reports are capped at
 * LISTS_MAX_REPORTS per file, then one line with the count of the rest.
 *
 * A file that changes while it is read (an editor or a download writing
 * it in place) can be read half old, half new: its size, modification
 * time and inode are taken by fstat(2) before and after reading, and if
 * they differ, the load fails with res->changed set. What the sink got
 * cannot be taken back, so the caller reads the file again, up to
 * LISTS_REREADS times. Files should be replaced by rename(2).
 *
 * Nothing is kept by this module: entries go to the caller's sink.
 */
#ifndef VEILIG_LISTS_H
#define VEILIG_LISTS_H

#include <sys/stat.h>

#include <stddef.h>
#include <stdint.h>

#include "conf.h"
#include "domtable.h"

#define LISTS_MAX_REPORTS	20

/*
 * How many times a file that changed while it was read is read again
 * before the load fails with LISTS_CHANGED (of lists and of
 * configuration files alike).
 */
#define LISTS_REREADS		4
#define LISTS_CHANGED		"changed while being read; write a new " \
				"file and rename it into place"

enum lists_format {
	LISTS_DOMAINS = 0,
	LISTS_HOSTS,
	LISTS_ADBLOCK,
	LISTS_RPZ,
	LISTS_IP,
	LISTS_REWRITE,	/* internal: lists_format_parse() never gives it */
};

/* What an RPZ QNAME trigger asks for. */
enum lists_rpz_action {
	LISTS_RPZ_NXDOMAIN = 0,
	LISTS_RPZ_NODATA,
	LISTS_RPZ_PASSTHRU,
	LISTS_RPZ_CNAME,
};

/*
 * Where parsed entries go. Each callback returns 0, or -1 to abort the
 * load (allocation failure); unused callbacks may be NULL when the format
 * never produces them.
 */
struct lists_sink {
	/* A name entry of domains, hosts or adblock lists. */
	int	(*name)(void *arg, const uint8_t *lname, size_t len,
		    enum domtable_kind kind, enum domtable_match match,
		    uint32_t line);
	/*
	 * An RPZ QNAME trigger; target/tlen only for LISTS_RPZ_CNAME. A
	 * rewrite line comes here too, as the trigger it is: its name,
	 * DOMTABLE_EXACT, LISTS_RPZ_CNAME and its target.
	 */
	int	(*rpz)(void *arg, const uint8_t *lname, size_t len,
		    enum domtable_match match, enum lists_rpz_action action,
		    const uint8_t *target, size_t tlen, uint32_t line);
	/* A network of an ip list. */
	int	(*net)(void *arg, const struct conf_net *net, uint32_t line);
	/* One report: "file:line: message" or "file: message". */
	void	(*report)(void *arg, const char *msg);
	void	*arg;
};

/*
 * Which file, and which version of it, a load read: a file renamed into
 * place is another inode, one written over has another size or times.
 */
struct lists_fileid {
	uint64_t	dev;
	uint64_t	ino;
	uint64_t	size;
	int64_t		mtime_ns;	/* last modification */
	int64_t		ctime_ns;	/* last change of the inode */
};

/* What a load found. */
struct lists_result {
	size_t			lines;		/* lines read */
	size_t			entries;	/* entries given to the sink */
	size_t			invalid;	/* lines rejected as invalid */
	size_t			unsupported;	/* lines of syntax we do not
						   support */
	struct lists_fileid	id;		/* of the file (lists_load) */
	int			changed;	/* it changed while read: the
						   load failed, read it again */
};

/*
 * Parse the name of a format ("domains", "hosts", ...); -1 if unknown or
 * internal (the format of no list in veiligd.yaml).
 */
int	lists_format_parse(const char *name, enum lists_format *fmt);
const char *lists_format_name(enum lists_format fmt);

/*
 * Read the file at path in format fmt into sink. Returns 0, or -1 when the
 * file cannot be read, is mostly garbage, changed while it was read
 * (res->changed set: read it again), or the sink failed; the reason has
 * then been reported.
 */
int	lists_load(const char *path, enum lists_format fmt,
	    const struct lists_sink *sink, struct lists_result *res);

/* The identity of the file that st (of stat(2)) is of, into id. */
void	lists_fileid_set(struct lists_fileid *id, const struct stat *st);

/*
 * Whether the file at path is still the one id was taken of: 1 if so, 0
 * if it changed or cannot be read.
 */
int	lists_file_same(const char *path, const struct lists_fileid *id);

/*
 * The number of lines of the file at path (a last line without a newline
 * counts), read in blocks without keeping them: what a table should be
 * sized for before lists_load(). -1 if it cannot be read.
 */
long	lists_lines(const char *path);

/* lists_sample() parses about one line in LISTS_SAMPLE. */
#define LISTS_SAMPLE	16

/*
 * As lists_lines(), and about one line in LISTS_SAMPLE of those that are
 * neither blank nor a comment ('#' or '!' first), picked by a hash of its
 * text, is parsed as fmt into sink as lists_load() would (sink->report is
 * not called): a sample of what a load would give, for a reload to choose
 * how to build its table (listset.c) before it reads the whole file.
 * Nothing of an RPZ or an ip list (an RPZ record spans lines and follows
 * $ORIGIN). A sink that fails stops the sample, not the count. -1 if the
 * file cannot be read.
 */
long	lists_sample(const char *path, enum lists_format fmt,
	    const struct lists_sink *sink);

/* As lists_load() from memory; name stands for the file in reports. */
int	lists_load_mem(const char *name, const char *buf, size_t len,
	    enum lists_format fmt, const struct lists_sink *sink,
	    struct lists_result *res);

/*
 * Normalise the domain name text (len octets, not NUL-terminated, an
 * optional trailing dot) into lower-case wire form in out (at least
 * WIRE_MAX_NAME octets); *outlen is set. Returns 0, or -1 with *why set to
 * a static reason. Used for list lines and for board allow/deny names.
 */
int	lists_name(const char *text, size_t len, uint8_t *out,
	    size_t *outlen, const char **why);

/*
 * Whether the name lname (wire form, len octets, as lists_name() gives
 * it) can be listed: NULL if so, else why not. Not one label (a
 * top-level domain: *tld is set, the only fault a board's allow: or
 * deny: may have, with a warning), not an IPv4 address nor any name
 * whose last label is all digits (no top-level domain is), and an xn--
 * label must be Punycode (RFC 3492) of a label that is not all ASCII.
 * List lines with such a name are invalid.
 */
const char *lists_entry_check(const uint8_t *lname, size_t len, int *tld);

#endif
