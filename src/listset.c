/*
 * listset.c: the lists of a configuration, compiled, and kept across
 * reloads while their files stay the same.
 *
 * Bits: list i of conf->lists is bit i. A domain-type list's entries carry
 * their line number as tag; an RPZ list's entries carry an index into
 * ls->rpz (action, target, line).
 *
 * Whether a file changed is told by what stat() says of it (lists.h,
 * struct lists_fileid), taken of the file as it was opened for reading.
 * File times have the kernel's clock tick as grain, so a file written
 * twice within a few milliseconds to the same size, with a load between
 * the writes, would pass for unchanged: no updater does that, and the
 * next change of the file shows.
 *
 * A changed file mostly holds nearly the same entries (downloaded again
 * with the day's few changes, or only its comments changed). The table in
 * force is so tried first whenever the lists are alike (the same files in
 * the same order and formats): a table that shares its slots, with an
 * overlay of the names that differ (listset.h), takes 8 MiB for a
 * million names and some 50 octets a name replaced, where a table of
 * its own takes 24 MiB at the peak of its build. When more than an eighth
 * of the names differ, an overlay is not tried: the pass that counts the
 * lines parses a sample of them (one in 16, lists_sample()) and counts
 * its names that the table in force lacks and those it has, from which
 * the names added and gone are known before either table is built
 * (within some 0.5 % of a million names). Before it, the table in force
 * was tried whenever the lists were alike: a quarter of a million names
 * replaced was found out half-way through them (the names added past the
 * eighth), a list that lost a third of its names only at the build (the
 * names gone), and the lists then read a second time: a reload took 1.5
 * times the CPU of one that compiles anew at once. The attempt still
 * stops so when the sample was wrong (the reload is then LISTSET_RETRIED).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "domtable.h"
#include "iptable.h"
#include "listset.h"

/* Loading state, for the list sink callbacks. */
struct listset_load {
	struct listset		*ls;
	struct domtable_builder	*names;
	struct iptable_builder	*ips;
	size_t			 rpz_cap;
	size_t			 arena_cap;
	unsigned		 list;
	listset_error_cb	 errcb;
	void			*arg;
	struct domtable		*like;		/* building like it */
	int			 changed;	/* a file changed while read */
	/*
	 * The reports, held until it is known whether this load stands or
	 * is done again (too many names not like's, a file that changed).
	 */
	char			**held;
	size_t			 nheld;
};

/* What listset_build() is asked to do, and what it says of its try. */
struct listset_try {
	struct domtable	*like;		/* the domain table in force, or NULL */
	int		 rereads;	/* times left to read again a file that
					   changed while read */
	int		 differ;	/* too many names were not like's */
	int		 changed;	/* a file changed: read them again */
};

/* Keep an RPZ CNAME target in the arena; its offset or -1. */
static int64_t
listset_arena_add(struct listset_load *ld, const uint8_t *name, size_t len)
{
	struct listset	*ls = ld->ls;
	uint8_t		*a;
	size_t		 cap, off;

	if (ls->arena_len + len > UINT32_MAX)
		return (-1);
	if (ls->arena_len + len > ld->arena_cap) {
		cap = ld->arena_cap ? ld->arena_cap * 2 : 4096;
		while (cap < ls->arena_len + len)
			cap *= 2;
		if ((a = realloc(ls->arena, cap)) == NULL)
			return (-1);
		ls->arena = a;
		ld->arena_cap = cap;
	}
	off = ls->arena_len;
	memcpy(ls->arena + off, name, len);
	ls->arena_len += len;
	return ((int64_t)off);
}

/* Sink: a name of a domains, hosts or adblock list. */
static int
listset_sink_name(void *arg, const uint8_t *lname, size_t len,
    enum domtable_kind kind, enum domtable_match match, uint32_t line)
{
	struct listset_load	*ld = arg;

	ld->ls->entries[ld->list]++;
	/* Line numbers past DOMTABLE_MAX_TAG are reported as that. */
	return (domtable_add(ld->names, lname, len, ld->list, kind, match,
	    line < DOMTABLE_MAX_TAG ? line : DOMTABLE_MAX_TAG));
}

/* Sink: an RPZ trigger; its action goes to the side table. */
static int
listset_sink_rpz(void *arg, const uint8_t *lname, size_t len,
    enum domtable_match match, enum lists_rpz_action action,
    const uint8_t *target, size_t tlen, uint32_t line)
{
	struct listset_load	*ld = arg;
	struct listset		*ls = ld->ls;
	struct listset_rpz	*r;
	int64_t			 off = 0;

	if (ls->nrpz >= DOMTABLE_MAX_TAG)
		return (-1);
	if (ls->nrpz == ld->rpz_cap) {
		r = reallocarray(ls->rpz, ld->rpz_cap ? ld->rpz_cap * 2 : 64,
		    sizeof *r);
		if (r == NULL)
			return (-1);
		ls->rpz = r;
		ld->rpz_cap = ld->rpz_cap ? ld->rpz_cap * 2 : 64;
	}
	if (action == LISTS_RPZ_CNAME &&
	    (off = listset_arena_add(ld, target, tlen)) == -1)
		return (-1);
	r = &ls->rpz[ls->nrpz];
	r->action = action;
	r->line = line;
	r->target = (uint32_t)off;
	r->tlen = (uint8_t)tlen;
	ls->entries[ld->list]++;
	return (domtable_add(ld->names, lname, len, ld->list,
	    action == LISTS_RPZ_PASSTHRU ? DOMTABLE_PASS : DOMTABLE_BLOCK,
	    match, (uint32_t)ls->nrpz++));
}

/* Sink: a network of an ip list. */
static int
listset_sink_net(void *arg, const struct conf_net *net, uint32_t line)
{
	struct listset_load	*ld = arg;

	(void)line;
	ld->ls->entries[ld->list]++;
	return (iptable_add(ld->ips, net, (uint64_t)1 << ld->list));
}

/* Sink: a report from the list reader, held (struct listset_load). */
static void
listset_sink_report(void *arg, const char *msg)
{
	struct listset_load	*ld = arg;
	char			**h, *m;

	/* At most LISTS_MAX_REPORTS and a few more a file. */
	h = reallocarray(ld->held, ld->nheld + 1, sizeof *h);
	if (h != NULL) {
		ld->held = h;
		if ((m = strdup(msg)) != NULL) {
			h[ld->nheld++] = m;
			return;
		}
	}
	ld->errcb(ld->arg, msg);
}

/* Give the reports held to errcb, or drop them; none held after. */
static void
listset_held(struct listset_load *ld, int give)
{
	size_t	i;

	for (i = 0; i < ld->nheld; i++) {
		if (give)
			ld->errcb(ld->arg, ld->held[i]);
		free(ld->held[i]);
	}
	free(ld->held);
	ld->held = NULL;
	ld->nheld = 0;
}

/*
 * Whether ls was built from the lists of conf (the same files in the same
 * order, the same formats), whatever the files hold now: then list i is
 * bit i in both, and a table of conf's lists may share ls's slots.
 */
static int
listset_alike(const struct listset *ls, const struct conf *conf)
{
	size_t	i;

	if (ls == NULL || ls->nlists != conf->nlists || ls->names == NULL)
		return (0);
	for (i = 0; i < conf->nlists; i++) {
		if (strcmp(ls->src[i].file, conf->lists[i].file) != 0 ||
		    ls->src[i].format != conf->lists[i].format)
			return (0);
	}
	return (1);
}

/* Whether ls was built from the lists of conf, files unchanged. */
static int
listset_same(const struct listset *ls, const struct conf *conf)
{
	size_t	i;

	if (!listset_alike(ls, conf))
		return (0);
	for (i = 0; i < conf->nlists; i++) {
		if (!lists_file_same(conf->lists[i].file, &ls->src[i].id))
			return (0);
	}
	return (1);
}

/* A reload's sample of the names (listset_scan()). */
struct listset_sample {
	const struct domtable	*like;
	size_t			 added;	/* not names of like's slots */
	size_t			 kept;	/* names of like's slots */
};

/* Count a name of the sample. */
static void
listset_sample_one(struct listset_sample *smp, const uint8_t *lname,
    size_t len)
{
	if (domtable_slotted(smp->like, lname, len))
		smp->kept++;
	else
		smp->added++;
}

/* Sink of the sample: a name of a domains, hosts or adblock list. */
static int
listset_sample_name(void *arg, const uint8_t *lname, size_t len,
    enum domtable_kind kind, enum domtable_match match, uint32_t line)
{
	(void)kind;
	(void)match;
	(void)line;
	listset_sample_one(arg, lname, len);
	return (0);
}

/* Sink of the sample: a rewrite line's name (no RPZ is sampled). */
static int
listset_sample_rpz(void *arg, const uint8_t *lname, size_t len,
    enum domtable_match match, enum lists_rpz_action action,
    const uint8_t *target, size_t tlen, uint32_t line)
{
	(void)match;
	(void)action;
	(void)target;
	(void)tlen;
	(void)line;
	listset_sample_one(arg, lname, len);
	return (0);
}

/*
 * The lines of every domain-type list of conf: the table is sized for
 * about a name a line (hosts lines may have more; the table then grows).
 * A file that cannot be read counts nothing here; its load says why.
 * With like (the domain table in force, of lists alike), the same pass
 * parses a sample of the lines (lists_sample()), and *worth says whether
 * a table like it is worth trying (domtable_like_worth()); the names of
 * an RPZ list are not sampled, and the names gone then not known.
 */
static size_t
listset_scan(const struct conf *conf, const struct domtable *like,
    int *worth)
{
	struct listset_sample	smp;
	struct lists_sink	sink;
	size_t			i, lines = 0;
	long			n;
	int			known = 1;

	memset(&smp, 0, sizeof smp);
	smp.like = like;
	memset(&sink, 0, sizeof sink);
	sink.name = listset_sample_name;
	sink.rpz = listset_sample_rpz;
	sink.arg = &smp;
	for (i = 0; i < conf->nlists; i++) {
		if (conf->lists[i].format == LISTS_IP)
			continue;
		if (conf->lists[i].format == LISTS_RPZ)
			known = 0;
		if (like != NULL)
			n = lists_sample(conf->lists[i].file,
			    (enum lists_format)conf->lists[i].format, &sink);
		else
			n = lists_lines(conf->lists[i].file);
		if (n > 0)
			lines += (size_t)n;
	}
	*worth = like != NULL && domtable_like_worth(like, smp.added,
	    known ? smp.kept : SIZE_MAX, LISTS_SAMPLE);
	return (lines);
}

/* Read every list of conf into the builders of ld; -1 if any failed. */
static int
listset_load(struct listset_load *ld, const struct conf *conf)
{
	struct listset		*ls = ld->ls;
	struct lists_sink	 sink;
	struct lists_result	 res;
	size_t			 i;
	int			 failed = 0;

	memset(&sink, 0, sizeof sink);
	sink.name = listset_sink_name;
	sink.rpz = listset_sink_rpz;
	sink.net = listset_sink_net;
	sink.report = listset_sink_report;
	sink.arg = ld;
	for (i = 0; i < conf->nlists; i++) {
		ld->list = (unsigned)i;
		if (conf->lists[i].format != LISTS_IP)
			ls->name_bits |= (uint64_t)1 << i;
		if (conf->lists[i].format == LISTS_RPZ)
			ls->rpz_bits |= (uint64_t)1 << i;
		ls->src[i].format = conf->lists[i].format;
		if ((ls->src[i].file = strdup(conf->lists[i].file)) == NULL)
			return (-1);
		if (lists_load(conf->lists[i].file,
		    (enum lists_format)conf->lists[i].format, &sink, &res) == -1)
			failed = 1;
		if (res.changed)
			ld->changed = 1;
		ls->src[i].id = res.id;
		/* Names too many the table in force lacks: in vain. */
		if (ld->like != NULL && domtable_builder_diverged(ld->names))
			return (-1);
	}
	return (failed ? -1 : 0);
}

/*
 * Read and compile the lists of conf, of lines lines (listset_scan());
 * NULL on any error (reported). With t->like (the domain table in force,
 * of lists alike), the names go into a table that shares its slots
 * (domtable_builder_like()), and if too many of them are not its names
 * (an eighth), NULL with t->differ set and nothing reported: the caller
 * builds again without like. If a file changed while it was read, NULL
 * with t->changed set, and nothing reported while t->rereads is not 0:
 * the caller builds again.
 */
static struct listset *
listset_build(const struct conf *conf, size_t lines, struct listset_try *t,
    listset_error_cb errcb, void *arg)
{
	struct listset_load	 ld;
	struct listset		*ls;
	void			*p;
	int			 failed = 0;

	t->differ = t->changed = 0;
	memset(&ld, 0, sizeof ld);
	ld.errcb = errcb;
	ld.arg = arg;
	ld.like = t->like;
	if ((ls = calloc(1, sizeof *ls)) == NULL)
		goto nomem;
	ls->refs = 1;
	ld.ls = ls;
	ls->nlists = conf->nlists;
	ls->entries = calloc(conf->nlists + 1, sizeof *ls->entries);
	ls->src = calloc(conf->nlists + 1, sizeof *ls->src);
	ld.names = t->like != NULL ? domtable_builder_like(t->like) :
	    domtable_builder_new();
	ld.ips = iptable_builder_new();
	if (ls->entries == NULL || ls->src == NULL || ld.names == NULL ||
	    ld.ips == NULL || domtable_builder_reserve(ld.names, lines) == -1)
		goto nomem;
	if (listset_load(&ld, conf) == -1)
		failed = 1;
	ls->names = domtable_build_like(ld.names, &t->differ);
	ls->ips = iptable_build(ld.ips);
	ld.names = NULL;
	ld.ips = NULL;
	t->changed = ld.changed;
	if (t->differ || (t->changed && t->rereads > 0)) {
		/* The reports come again from the load that stands. */
		listset_held(&ld, 0);
		listset_free(ls);
		return (NULL);
	}
	listset_held(&ld, 1);
	if (ls->names == NULL || ls->ips == NULL)
		goto nomem;
	if (failed) {
		listset_free(ls);
		return (NULL);
	}
	/* The side tables grew by doubling: give back the rest. */
	if (ls->nrpz > 0 &&
	    (p = reallocarray(ls->rpz, ls->nrpz, sizeof *ls->rpz)) != NULL)
		ls->rpz = p;
	if (ls->arena_len > 0 &&
	    (p = realloc(ls->arena, ls->arena_len)) != NULL)
		ls->arena = p;
	return (ls);

nomem:
	listset_held(&ld, 1);
	domtable_builder_free(ld.names);
	iptable_builder_free(ld.ips);
	listset_free(ls);
	errcb(arg, "out of memory reading the lists");
	return (NULL);
}

struct listset *
listset_new(const struct conf *conf, struct listset *old,
    listset_error_cb errcb, void *arg)
{
	struct listset_try	 t;
	struct listset		*ls;
	struct domtable		*like;
	size_t			 lines;
	int			 worth;

	if (listset_same(old, conf)) {
		old->refs++;
		return (old);
	}
	like = listset_alike(old, conf) ? old->names : NULL;
	lines = listset_scan(conf, like, &worth);
	memset(&t, 0, sizeof t);
	t.like = worth ? like : NULL;
	t.rereads = LISTS_REREADS;
	for (;;) {
		if ((ls = listset_build(conf, lines, &t, errcb, arg)) != NULL) {
			ls->how = t.like != NULL ? LISTSET_LIKE : worth ?
			    LISTSET_RETRIED : LISTSET_FRESH;
			return (ls);
		}
		if (t.differ)
			t.like = NULL;
		else if (t.changed && t.rereads > 0)
			t.rereads--;
		else
			return (NULL);
	}
}

void
listset_free(struct listset *ls)
{
	size_t	i;

	if (ls == NULL || --ls->refs > 0)
		return;
	domtable_free(ls->names);
	iptable_free(ls->ips);
	for (i = 0; ls->src != NULL && i < ls->nlists; i++)
		free(ls->src[i].file);
	free(ls->src);
	free(ls->entries);
	free(ls->rpz);
	free(ls->arena);
	free(ls);
}

size_t
listset_bytes(const struct listset *ls)
{
	if (ls == NULL)
		return (0);
	return (domtable_bytes(ls->names) + iptable_bytes(ls->ips) +
	    ls->nrpz * sizeof *ls->rpz + ls->arena_len);
}
