/*
 * listset.h: every list of the configuration, compiled, and kept across
 * reloads while the list files stay the same.
 *
 * A listset holds what the lists: of veiligd.yaml compile to: one domain
 * table of every domain-type list (domains, hosts, adblock, rpz; list i of
 * the configuration is bit i), one IP table of every ip list (same bits),
 * and the RPZ triggers' actions. It is most of the memory of a policy: a
 * million names take some 24 MiB.
 *
 * A reload builds a new policy while the old one still answers, so the
 * two are in memory together. listset_new() is given the listset in force
 * and returns that one again, with one more reference, when the new
 * configuration names the same files in the same order with the same
 * formats and no file has changed since it was read (same device, inode,
 * size, modification and change times): a reload that changes a board
 * then costs no list memory and no list time. When a list did change, all
 * of them are read again. A first pass over the files counts their lines
 * (lists_lines()); when the lists are the same files in the same order
 * and formats, it also parses a sample of one line in 16
 * (lists_sample()) and looks its names up among the names the table in
 * force was compiled from (domtable_slotted()). If the names added and
 * gone are not clearly more than an eighth (domtable_like_worth()), the
 * names are read into a table that shares the slots of the table in
 * force (domtable_builder_like()), with an overlay of the names that
 * differ (added, gone, or blocking other lists): the reload then holds
 * the old table and its new entries, a third of a table, and the
 * overlay. When more than an eighth of the names differ (said by the
 * sample, or found while reading: the lists are then read again), or
 * the lists are other files, the lists are read into a new table, sized
 * beforehand from the line counts (domtable_builder_reserve()), so that
 * the reload holds the old table, the new one, and little else.
 *
 * Threads: references are taken and dropped by one thread at a time: the
 * main thread, or the low-priority thread it starts and waits for while a
 * reload builds policies and frees the one the workers have left
 * (veiligd_background()); the workers only read the tables. No lock, no
 * atomic counter.
 */
#ifndef VEILIG_LISTSET_H
#define VEILIG_LISTSET_H

#include <stddef.h>
#include <stdint.h>

#include "conf.h"
#include "lists.h"

struct domtable;
struct iptable;

/* An RPZ trigger's action, found through its entry's tag. */
struct listset_rpz {
	enum lists_rpz_action	action;
	uint32_t		line;
	uint32_t		target;	/* offset in arena, for a CNAME */
	uint8_t			tlen;
};

/* What one list was read from. */
struct listset_src {
	char			*file;
	int			 format;
	struct lists_fileid	 id;
};

/* How the domain table of a listset was built (listset_new()). */
enum listset_how {
	LISTSET_FRESH = 0,	/* compiled anew, the lists read once */
	LISTSET_LIKE,		/* like the table in force: its slots shared,
				   an overlay of the names that differ */
	LISTSET_RETRIED,	/* tried so, too many names differed:
				   compiled anew, the lists read twice */
};

/*
 * The compiled lists; immutable once built, read by the workers on the
 * hot path through the policy, freed with the last reference.
 */
struct listset {
	unsigned		 refs;		/* policies using it */
	struct domtable		*names;		/* domain-type lists */
	struct iptable		*ips;		/* ip lists */
	uint64_t		 name_bits;	/* lists in names */
	uint64_t		 rpz_bits;	/* of which RPZ lists */
	size_t			*entries;	/* per list, as read */
	struct listset_rpz	*rpz;		/* tag of an RPZ entry -> */
	size_t			 nrpz;
	uint8_t			*arena;		/* RPZ CNAME targets, wire */
	size_t			 arena_len;
	struct listset_src	*src;		/* per list */
	size_t			 nlists;
	enum listset_how	 how;
};

/* Called with "file:line: message" (errors and warnings). */
typedef void (*listset_error_cb)(void *arg, const char *msg);

/*
 * The lists of conf: old (one more reference) if conf's lists are still
 * what old was built from, else a new listset with one reference. Errors
 * and warnings of the load go to errcb; NULL if any list failed to load
 * or memory ran out (reported too). old may be NULL.
 */
struct listset	*listset_new(const struct conf *conf, struct listset *old,
		    listset_error_cb errcb, void *arg);

/* Drop a reference; the last one frees. NULL is a no-op. */
void		 listset_free(struct listset *);

/* Octets of memory the tables hold (domain table, IP table, RPZ). */
size_t		 listset_bytes(const struct listset *);

#endif
