/*
 * test_listset.c: unit tests of listset.c, the compiled lists shared
 * between policies across reloads.
 *
 * Each test writes a configuration into a mkdtemp() directory, loads it
 * with conf_load() and compiles its lists with listset_new(), then
 * changes something and loads again with the first listset in force:
 * unchanged files in the same order and formats must give the same
 * listset back (one more reference); any change of a file (written over,
 * replaced by a rename, touched), of a format, of the order or of the
 * number of lists must give a new one that holds the new entries. A list
 * that cannot be read fails with a report.
 */
#include <sys/stat.h>

#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "conf.h"
#include "domtable.h"
#include "iptable.h"
#include "lists.h"
#include "listset.h"

#include "tdir.h"

/* One test's directory and messages. */
struct fx {
	struct tdir	 dir;
	struct tmsgs	 msgs;
};

/* veiligd.yaml with the given lists: block. */
static struct conf *
fx_conf(struct fx *fx, const char *lists)
{
	struct conf	*conf;
	char		*text, path[256];

	assert_int_not_equal(asprintf(&text,
	    "upstreams: [ 127.0.0.1 ]\nboards: boards/*.yaml\n"
	    "control: %s/control.sock\n%s", fx->dir.path, lists), -1);
	tdir_write(&fx->dir, "veiligd.yaml", text);
	free(text);
	snprintf(path, sizeof path, "%s/veiligd.yaml", fx->dir.path);
	conf = conf_load(path, tmsgs_cb, &fx->msgs);
	assert_non_null(conf);
	return (conf);
}

/* The bits of the lists that block name (text) in ls. */
static uint64_t
lookup(const struct listset *ls, const char *text)
{
	uint8_t		 w[256];
	size_t		 len;
	const char	*why;

	assert_int_equal(lists_name(text, strlen(text), w, &len, &why), 0);
	return (domtable_match(ls->names, w, len));
}

static int
setup(void **state)
{
	struct fx	*fx;

	if ((fx = calloc(1, sizeof *fx)) == NULL)
		return (-1);
	*state = fx;
	tdir_new(&fx->dir, "test_listset", "boards", NULL);
	tdir_write(&fx->dir, "a.txt", "a.test\nb.test\n");
	tdir_write(&fx->dir, "b.txt", "0.0.0.0 c.test\n");
	tdir_write(&fx->dir, "c.txt", "192.0.2.0/24\n");
	return (0);
}

static int
teardown(void **state)
{
	struct fx	*fx = *state;

	tmsgs_clear(&fx->msgs);
	tdir_free(&fx->dir);
	free(fx);
	return (0);
}

#define LISTS3								\
	"lists:\n"							\
	"  a: { file: a.txt, format: domains }\n"			\
	"  b: { file: b.txt, format: hosts }\n"				\
	"  c: { file: c.txt, format: ip }\n"

/* The same files unchanged: the same listset, one more reference. */
static void
test_kept(void **state)
{
	struct fx	*fx = *state;
	struct conf	*c1, *c2;
	struct listset	*l1, *l2;

	c1 = fx_conf(fx, LISTS3);
	assert_non_null(l1 = listset_new(c1, NULL, tmsgs_cb, &fx->msgs));
	assert_int_equal(l1->refs, 1);
	assert_int_equal(l1->name_bits, 3);
	assert_int_equal(lookup(l1, "www.a.test"), 1);
	assert_int_equal(lookup(l1, "c.test"), 2);
	assert_int_equal(l1->entries[0], 2);
	assert_int_equal(iptable_count(l1->ips), 1);
	assert_true(listset_bytes(l1) > 0);

	/* A board of the new configuration may differ: only lists count. */
	c2 = fx_conf(fx, LISTS3);
	l2 = listset_new(c2, l1, tmsgs_cb, &fx->msgs);
	assert_ptr_equal(l1, l2);
	assert_int_equal(l1->refs, 2);
	/* The first configuration goes; the lists stay for the second. */
	listset_free(l1);
	conf_free(c1);
	assert_int_equal(l2->refs, 1);
	assert_int_equal(lookup(l2, "b.test"), 1);
	listset_free(l2);
	conf_free(c2);
}

/* A list file changed in any way: a new listset with its entries. */
static void
test_changed_file(void **state)
{
	struct fx	*fx = *state;
	struct conf	*c1, *c2;
	struct listset	*l1, *l2, *l3;
	struct timespec	 ts[2];
	char		 path[256];

	c1 = fx_conf(fx, LISTS3);
	assert_non_null(l1 = listset_new(c1, NULL, tmsgs_cb, &fx->msgs));

	/* Written over in place, with a name more. */
	tdir_write(&fx->dir, "a.txt", "a.test\nb.test\nd.test\n");
	c2 = fx_conf(fx, LISTS3);
	assert_non_null(l2 = listset_new(c2, l1, tmsgs_cb, &fx->msgs));
	assert_ptr_not_equal(l1, l2);
	assert_int_equal(l1->refs, 1);
	assert_int_equal(lookup(l2, "d.test"), 1);
	assert_int_equal(lookup(l1, "d.test"), 0);
	listset_free(l1);
	conf_free(c1);

	/* Replaced by a rename, the same text: another inode. */
	tdir_replace(&fx->dir, "b.txt", "0.0.0.0 c.test\n");
	c1 = fx_conf(fx, LISTS3);
	assert_non_null(l3 = listset_new(c1, l2, tmsgs_cb, &fx->msgs));
	assert_ptr_not_equal(l3, l2);
	listset_free(l2);
	conf_free(c2);

	/* Only its times changed. */
	snprintf(path, sizeof path, "%s/c.txt", fx->dir.path);
	ts[0].tv_sec = ts[1].tv_sec = 1000000000;
	ts[0].tv_nsec = ts[1].tv_nsec = 0;
	assert_int_equal(utimensat(AT_FDCWD, path, ts, 0), 0);
	c2 = fx_conf(fx, LISTS3);
	assert_non_null(l2 = listset_new(c2, l3, tmsgs_cb, &fx->msgs));
	assert_ptr_not_equal(l3, l2);
	listset_free(l3);
	listset_free(l2);
	conf_free(c1);
	conf_free(c2);
}

/*
 * A list written in place while it is read (tdir_change_on_read()): the
 * lists are read again, and what the file then holds is loaded, with no
 * report of the try that was dropped. Still changing after LISTS_REREADS
 * reads again: the reload fails naming the file, and the listset in
 * force stays as it was.
 */
static void
test_changed_while_read(void **state)
{
	struct fx	*fx = *state;
	struct conf	*c1, *c2;
	struct listset	*l1, *l2;

	c1 = fx_conf(fx, LISTS3);
	tdir_change_on_read(&fx->dir, "a.txt", "e.test\nbad..name\n", 1);
	assert_non_null(l1 = listset_new(c1, NULL, tmsgs_cb, &fx->msgs));
	assert_int_equal(lookup(l1, "e.test"), 1);
	assert_int_equal(lookup(l1, "a.test"), 0);
	assert_int_equal(lookup(l1, "c.test"), 2);
	assert_int_equal(tmsgs_count(&fx->msgs, "bad..name"), 1);
	assert_int_equal(tmsgs_count(&fx->msgs, "changed while"), 0);
	tmsgs_clear(&fx->msgs);

	/* A reload of the file written anew, read LISTS_REREADS times more. */
	tdir_write(&fx->dir, "a.txt", "e.test\nh.test\n");
	tdir_change_on_read(&fx->dir, "a.txt", "e.test\nf.test\n",
	    LISTS_REREADS);
	c2 = fx_conf(fx, LISTS3);
	assert_non_null(l2 = listset_new(c2, l1, tmsgs_cb, &fx->msgs));
	assert_int_equal(lookup(l2, "f.test"), 1);
	assert_int_equal(lookup(l2, "h.test"), 0);
	assert_int_equal(fx->msgs.n, 0);
	listset_free(l2);
	conf_free(c2);

	tdir_write(&fx->dir, "a.txt", "e.test\nh.test\n");
	/* Changing at every read (a try like the table in force is one). */
	tdir_change_on_read(&fx->dir, "a.txt", "g.test\n", 100);
	c2 = fx_conf(fx, LISTS3);
	assert_null(listset_new(c2, l1, tmsgs_cb, &fx->msgs));
	assert_true(tmsgs_have(&fx->msgs, "a.txt: changed while being read",
	    NULL));
	assert_int_equal(tmsgs_count(&fx->msgs, "changed while"), 1);
	assert_int_equal(l1->refs, 1);
	assert_int_equal(lookup(l1, "e.test"), 1);
	assert_int_equal(lookup(l1, "g.test"), 0);
	tdir_change_on_read(&fx->dir, "a.txt", "", 0);
	listset_free(l1);
	conf_free(c1);
	conf_free(c2);
}

/* The line of the entry of list that blocks name (text) in ls. */
static uint32_t
line_of(const struct listset *ls, const char *text, unsigned list)
{
	struct domtable_hit	 hit;
	uint8_t			 w[256];
	size_t			 len;
	const char		*why;

	assert_int_equal(lists_name(text, strlen(text), w, &len, &why), 0);
	assert_int_equal(domtable_explain(ls->names, w, len, list, &hit), 0);
	return (hit.tag);
}

/*
 * A list written anew with the same entries (here under comments): a new
 * listset whose table shares the old one's slots, with the new line
 * numbers, and which outlives the old. Then the same names in another
 * order, and a name more: tables of their own. Each load reports a bad
 * line once.
 */
static void
test_same_names(void **state)
{
	struct fx	*fx = *state;
	struct conf	*c1, *c2;
	struct listset	*l1, *l2, *l3;

	tdir_write(&fx->dir, "a.txt", "a.test\nbad..name\nb.test\n");
	c1 = fx_conf(fx, LISTS3);
	assert_non_null(l1 = listset_new(c1, NULL, tmsgs_cb, &fx->msgs));
	assert_int_equal(tmsgs_count(&fx->msgs, "a.txt:2:"), 1);
	assert_int_equal(line_of(l1, "b.test", 0), 3);

	tdir_replace(&fx->dir, "a.txt", "# new\na.test\n! too\nbad..name\nb.test\n");
	c2 = fx_conf(fx, LISTS3);
	assert_non_null(l2 = listset_new(c2, l1, tmsgs_cb, &fx->msgs));
	assert_ptr_not_equal(l1, l2);
	assert_int_equal(l2->how, LISTSET_LIKE);
	assert_int_equal(tmsgs_count(&fx->msgs, "a.txt:4:"), 1);
	listset_free(l1);
	conf_free(c1);
	assert_int_equal(lookup(l2, "www.a.test"), 1);
	assert_int_equal(lookup(l2, "c.test"), 2);
	assert_int_equal(lookup(l2, "d.test"), 0);
	assert_int_equal(line_of(l2, "a.test", 0), 2);
	assert_int_equal(line_of(l2, "b.test", 0), 5);
	assert_int_equal(l2->entries[0], 2);

	/* Another order: the same names, the same slots. */
	tdir_replace(&fx->dir, "a.txt", "b.test\nbad..name\na.test\n");
	c1 = fx_conf(fx, LISTS3);
	assert_non_null(l3 = listset_new(c1, l2, tmsgs_cb, &fx->msgs));
	assert_int_equal(l3->how, LISTSET_LIKE);
	assert_int_equal(tmsgs_count(&fx->msgs, "a.txt:2:"), 2);
	listset_free(l2);
	conf_free(c2);
	assert_int_equal(line_of(l3, "a.test", 0), 3);
	l2 = l3;
	c2 = c1;

	/* A name more, after the bad line: reported once all the same. */
	tdir_replace(&fx->dir, "a.txt", "b.test\nbad..name\na.test\nd.test\n");
	c1 = fx_conf(fx, LISTS3);
	assert_non_null(l3 = listset_new(c1, l2, tmsgs_cb, &fx->msgs));
	/* A small table takes no overlay: tried, read again. */
	assert_int_equal(l3->how, LISTSET_RETRIED);
	assert_int_equal(tmsgs_count(&fx->msgs, "a.txt:2:"), 3);
	listset_free(l2);
	conf_free(c2);
	assert_int_equal(lookup(l3, "d.test"), 1);
	assert_int_equal(lookup(l3, "a.test"), 1);
	assert_int_equal(line_of(l3, "d.test", 0), 4);

	/* A name fewer, and one moved to the hosts list. */
	tdir_replace(&fx->dir, "a.txt", "b.test\n");
	tdir_replace(&fx->dir, "b.txt", "0.0.0.0 c.test a.test d.test\n");
	c2 = fx_conf(fx, LISTS3);
	assert_non_null(l2 = listset_new(c2, l3, tmsgs_cb, &fx->msgs));
	assert_int_equal(l2->how, LISTSET_RETRIED);
	listset_free(l3);
	conf_free(c1);
	assert_int_equal(lookup(l2, "a.test"), 2);
	assert_int_equal(lookup(l2, "b.test"), 1);
	assert_int_equal(lookup(l2, "d.test"), 2);
	listset_free(l2);
	conf_free(c2);
}

/* The configuration of the lists changed: a new listset. */
static void
test_changed_conf(void **state)
{
	static const char *const other[] = {
		/* a format */
		"lists:\n  a: { file: a.txt, format: adblock }\n"
		"  b: { file: b.txt, format: hosts }\n"
		"  c: { file: c.txt, format: ip }\n",
		/* the order */
		"lists:\n  b: { file: b.txt, format: hosts }\n"
		"  a: { file: a.txt, format: domains }\n"
		"  c: { file: c.txt, format: ip }\n",
		/* one list fewer */
		"lists:\n  a: { file: a.txt, format: domains }\n"
		"  b: { file: b.txt, format: hosts }\n",
		/* the same files under other names: kept */
		"lists:\n  x: { file: a.txt, format: domains }\n"
		"  y: { file: b.txt, format: hosts }\n"
		"  z: { file: c.txt, format: ip }\n",
	};
	struct fx	*fx = *state;
	struct conf	*c1, *c2;
	struct listset	*l1, *l2;
	size_t		 i;

	c1 = fx_conf(fx, LISTS3);
	assert_non_null(l1 = listset_new(c1, NULL, tmsgs_cb, &fx->msgs));
	for (i = 0; i < sizeof other / sizeof other[0]; i++) {
		c2 = fx_conf(fx, other[i]);
		assert_non_null(l2 = listset_new(c2, l1, tmsgs_cb, &fx->msgs));
		if (i == 3)
			assert_ptr_equal(l1, l2);
		else
			assert_ptr_not_equal(l1, l2);
		if (i == 1)
			assert_int_equal(lookup(l2, "a.test"), 2);
		listset_free(l2);
		conf_free(c2);
	}
	assert_int_equal(l1->refs, 1);
	listset_free(l1);
	conf_free(c1);
	listset_free(NULL);
}

/* A list that cannot be read: no listset, and a report naming it. */
static void
test_missing(void **state)
{
	struct fx	*fx = *state;
	struct conf	*c1, *c2;
	struct listset	*l1;
	char		 path[256];

	c1 = fx_conf(fx, LISTS3);
	assert_non_null(l1 = listset_new(c1, NULL, tmsgs_cb, &fx->msgs));
	snprintf(path, sizeof path, "%s/a.txt", fx->dir.path);
	c2 = fx_conf(fx, LISTS3);
	assert_int_equal(unlink(path), 0);
	assert_null(listset_new(c2, l1, tmsgs_cb, &fx->msgs));
	assert_true(tmsgs_have(&fx->msgs, "a.txt", NULL));
	assert_int_equal(l1->refs, 1);
	listset_free(l1);
	conf_free(c1);
	conf_free(c2);
}

/*
 * A list of 8000 names written anew with a few names changed (a day's
 * update, taken on the table in force with an overlay): 1 % replaced,
 * one name moved to the hosts list, a bad line. Then on that table a
 * third version with a third of the names replaced: compiled anew. Each
 * version must answer as it reads, with its own line numbers, and
 * report its bad line once, however often it was read.
 */
#define DAILY_NAMES	8000

/* Version v of a.txt: every hundredth name (from v) replaced. */
static char *
daily_list(unsigned v, unsigned every)
{
	char	*text, *p;
	size_t	 i, cap = DAILY_NAMES * 32 + 64;

	assert_non_null(text = malloc(cap));
	p = text;
	p += sprintf(p, "# version %u\nbad..name\n", v);
	for (i = 0; i < DAILY_NAMES; i++) {
		if (v > 0 && (i + v) % every == 0)
			p += sprintf(p, "r%u-%zu.test\n", v, i);
		else if (v > 0 && i == 77)
			continue;	/* moved to b.txt */
		else
			p += sprintf(p, "n%zu.test\n", i);
	}
	return (text);
}

static void
test_daily_update(void **state)
{
	struct fx	*fx = *state;
	struct conf	*c1, *c2;
	struct listset	*l1, *l2;
	char		*text;

	text = daily_list(0, 100);
	tdir_replace(&fx->dir, "a.txt", text);
	free(text);
	c1 = fx_conf(fx, LISTS3);
	assert_non_null(l1 = listset_new(c1, NULL, tmsgs_cb, &fx->msgs));
	assert_int_equal(tmsgs_count(&fx->msgs, "a.txt:2:"), 1);
	assert_int_equal(lookup(l1, "www.n77.test"), 1);
	assert_int_equal(lookup(l1, "n99.test"), 1);

	/* 1 % replaced, n77.test moved to the hosts list. */
	text = daily_list(1, 100);
	tdir_replace(&fx->dir, "a.txt", text);
	free(text);
	tdir_replace(&fx->dir, "b.txt", "0.0.0.0 c.test n77.test\n");
	c2 = fx_conf(fx, LISTS3);
	assert_non_null(l2 = listset_new(c2, l1, tmsgs_cb, &fx->msgs));
	assert_int_equal(l2->how, LISTSET_LIKE);
	assert_int_equal(tmsgs_count(&fx->msgs, "a.txt:2:"), 2);
	listset_free(l1);
	conf_free(c1);
	assert_int_equal(lookup(l2, "www.n77.test"), 2);
	assert_int_equal(line_of(l2, "n77.test", 1), 1);
	assert_int_equal(lookup(l2, "n99.test"), 0);
	assert_int_equal(lookup(l2, "x.r1-99.test"), 1);
	/* Two lines above the names, one name fewer above these. */
	assert_int_equal(line_of(l2, "r1-99.test", 0), 101);
	assert_int_equal(lookup(l2, "n98.test"), 1);
	assert_int_equal(line_of(l2, "n98.test", 0), 100);
	assert_int_equal(lookup(l2, "n7999.test"), 0);
	assert_int_equal(lookup(l2, "n7998.test"), 1);
	assert_int_equal(line_of(l2, "n7998.test", 0), DAILY_NAMES);
	assert_int_equal(lookup(l2, "c.test"), 2);
	assert_int_equal(l2->entries[0], DAILY_NAMES - 1);

	/*
	 * A third replaced (on the overlaid table): a table of its own, at
	 * once, the sample of the lines says so.
	 */
	text = daily_list(2, 3);
	tdir_replace(&fx->dir, "a.txt", text);
	free(text);
	c1 = fx_conf(fx, LISTS3);
	assert_non_null(l1 = listset_new(c1, l2, tmsgs_cb, &fx->msgs));
	assert_int_equal(l1->how, LISTSET_FRESH);
	assert_int_equal(tmsgs_count(&fx->msgs, "a.txt:2:"), 3);
	listset_free(l2);
	conf_free(c2);
	assert_int_equal(lookup(l1, "r2-1.test"), 1);
	assert_int_equal(lookup(l1, "r1-99.test"), 0);
	assert_int_equal(lookup(l1, "n99.test"), 1);	/* back */
	assert_int_equal(lookup(l1, "n100.test"), 0);
	assert_int_equal(lookup(l1, "n98.test"), 1);
	assert_int_equal(line_of(l1, "n98.test", 0), 100);
	assert_int_equal(lookup(l1, "n77.test"), 2);
	listset_free(l1);
	conf_free(c1);
}

/*
 * Names gone are counted before the load too: a list that lost a third
 * of its names gets a table of its own at once. With an RPZ list among
 * the lists, whose names are not sampled, the names gone are not known
 * before: the table in force is tried, and the build finds them. All
 * the names replaced: a table of its own at once either way.
 */
#define LISTS_RPZ2							\
	"lists:\n"							\
	"  a: { file: a.txt, format: domains }\n"			\
	"  r: { file: r.zone, format: rpz }\n"

static void
test_names_gone(void **state)
{
	static const char *const confs[] = { LISTS3, LISTS_RPZ2 };
	struct fx	*fx = *state;
	struct conf	*c1, *c2;
	struct listset	*l1, *l2, *l3;
	char		*text, *p;
	size_t		 i, k;

	tdir_write(&fx->dir, "r.zone", "$ORIGIN rpz.test.\n"
	    "@ SOA ns.test. admin.test. 1 3600 600 86400 60\n"
	    "@ NS ns.test.\nz.test CNAME .\n");
	for (k = 0; k < 2; k++) {
		text = daily_list(0, 100);
		tdir_replace(&fx->dir, "a.txt", text);
		free(text);
		c1 = fx_conf(fx, confs[k]);
		assert_non_null(l1 = listset_new(c1, NULL, tmsgs_cb,
		    &fx->msgs));
		assert_int_equal(l1->how, LISTSET_FRESH);

		/* Every third name left out. */
		assert_non_null(text = malloc(DAILY_NAMES * 32));
		for (i = 0, p = text; i < DAILY_NAMES; i++) {
			if (i % 3 != 0)
				p += sprintf(p, "n%zu.test\n", i);
		}
		tdir_replace(&fx->dir, "a.txt", text);
		free(text);
		c2 = fx_conf(fx, confs[k]);
		assert_non_null(l2 = listset_new(c2, l1, tmsgs_cb,
		    &fx->msgs));
		assert_int_equal(l2->how, k == 0 ? LISTSET_FRESH :
		    LISTSET_RETRIED);
		assert_int_equal(l2->entries[0], DAILY_NAMES - 2667);
		assert_int_equal(lookup(l2, "n3.test"), 0);
		assert_int_equal(lookup(l2, "n5.test"), 1);
		assert_int_equal(lookup(l2, "n7999.test"), 1);
		assert_int_equal(lookup(l2, "n7998.test"), 0);
		listset_free(l1);
		conf_free(c1);

		/* Every name replaced. */
		text = daily_list(3, 1);
		tdir_replace(&fx->dir, "a.txt", text);
		free(text);
		c1 = fx_conf(fx, confs[k]);
		assert_non_null(l3 = listset_new(c1, l2, tmsgs_cb,
		    &fx->msgs));
		assert_int_equal(l3->how, LISTSET_FRESH);
		assert_int_equal(lookup(l3, "n5.test"), 0);
		assert_int_equal(lookup(l3, "r3-5.test"), 1);
		listset_free(l2);
		conf_free(c2);
		listset_free(l3);
		conf_free(c1);
	}
}

/*
 * Random reloads through every path against a fresh build. A universe
 * of names, each in some of four lists: a domains list, a hosts list,
 * an adblock list with exceptions, and (in one configuration) an RPZ
 * list of exact, subdomain-only and PASSTHRU entries, whose names the
 * sample does not read (the names gone are then not known before the
 * build). Versions change a random share of the names (none at all, a
 * line moved, 1 %, about an eighth on either side of it, a third,
 * every name, every list emptied and filled again, a handful of names),
 * and each reload, whichever way listset_new() takes (like the table in
 * force with an overlay, tried so and retried, or fresh), must answer
 * every name, its subdomains and the names around it as a listset
 * built from nothing of the same files: domtable_match_at() with its
 * offset, and domtable_explain() of every list (kind, match, offset,
 * tag: the line). Of the paths: names drawn anew mostly stay names of
 * the table in force, in other lists, which the sample cannot see (it
 * asks only whether a name is in the slots), so such reloads are tried
 * like the table in force and retried (the build counts names moved
 * against the eighth); emptied lists are compiled anew at once.
 */
#define RR_NAMES	6000

/* The lists a name of the universe is in, and how. */
struct rr_name {
	uint8_t		a;	/* 1: listed */
	uint8_t		b;	/* 1: listed */
	uint8_t		d;	/* 1: ||name^, 2: @@||name^ */
	uint8_t		r;	/* 1: name, 2: *.name, 3: PASSTHRU */
};

/* A name's lists anew, at random; none in about one of four. */
static void
rr_draw(struct rr_name *n, unsigned all)
{
	n->a = random() % 5 < 2;
	n->b = random() % 7 == 0;
	n->d = (uint8_t)(random() % 6 == 0 ? 1 + random() % 2 : 0);
	n->r = (uint8_t)(all && random() % 5 == 0 ? 1 + random() % 3 : 0);
}

/* Write the lists of u (n names) to the files, in a random rotation. */
static void
rr_write(struct fx *fx, const struct rr_name *u, size_t n, unsigned v)
{
	static const char *const rz[] = { "", "", "*.",
		"" }, *const rt[] = { "", ".", ".", "rpz-passthru." };
	char	*a, *b, *d, *r, *pa, *pb, *pd, *pr;
	size_t	 i, k, start, cap = n * 40 + 256;

	assert_non_null(pa = a = malloc(cap));
	assert_non_null(pb = b = malloc(cap));
	assert_non_null(pd = d = malloc(cap));
	assert_non_null(pr = r = malloc(cap));
	pa += sprintf(pa, "# version %u\n", v);
	pb += sprintf(pb, "# version %u\n", v);
	pd += sprintf(pd, "! version %u\n", v);
	pr += sprintf(pr, "$ORIGIN rpz.test.\n"
	    "@ SOA ns.test. admin.test. %u 3600 600 86400 60\n"
	    "@ NS ns.test.\n", v + 1);
	start = n == 0 ? 0 : (size_t)random() % n;
	for (k = 0; k < n; k++) {
		i = (start + k) % n;
		if (u[i].a)
			pa += sprintf(pa, "u%zu.test\n", i);
		if (u[i].b)
			pb += sprintf(pb, "0.0.0.0 u%zu.test\n", i);
		if (u[i].d)
			pd += sprintf(pd, "%s||u%zu.test^\n",
			    u[i].d == 2 ? "@@" : "", i);
		if (u[i].r)
			pr += sprintf(pr, "%su%zu.test CNAME %s\n",
			    rz[u[i].r], i, rt[u[i].r]);
	}
	tdir_replace(&fx->dir, "a.txt", a);
	tdir_replace(&fx->dir, "b.txt", b);
	tdir_replace(&fx->dir, "d.txt", d);
	tdir_replace(&fx->dir, "r.zone", r);
	free(a);
	free(b);
	free(d);
	free(r);
}

/* got answers every name around the universe's as want does. */
static void
rr_compare(const struct listset *got, const struct listset *want,
    size_t n, size_t nlists)
{
	struct domtable_hit	 hg, hw;
	uint8_t			 w[256];
	char			 text[64];
	const char		*why;
	size_t			 i, k, len, og, ow;
	unsigned		 list;
	int			 rg, rw;

	assert_int_equal(got->name_bits, want->name_bits);
	for (list = 0; list < nlists; list++)
		assert_int_equal(got->entries[list], want->entries[list]);
	assert_int_equal(domtable_entries(got->names),
	    domtable_entries(want->names));
	for (i = 0; i < n + 10; i++) {
		for (k = 0; k < 3; k++) {
			snprintf(text, sizeof text, "%su%zu.test",
			    k == 0 ? "" : k == 1 ? "x." : "y.x.", i);
			assert_int_equal(lists_name(text, strlen(text), w,
			    &len, &why), 0);
			og = ow = 999;
			if (domtable_match_at(got->names, w, len, ~0ULL,
			    &og) != domtable_match_at(want->names, w, len,
			    ~0ULL, &ow) || og != ow)
				fail_msg("%s: the verdict differs", text);
			for (list = 0; list < nlists; list++) {
				memset(&hg, 0, sizeof hg);
				memset(&hw, 0, sizeof hw);
				rg = domtable_explain(got->names, w, len, list,
				    &hg);
				rw = domtable_explain(want->names, w, len,
				    list, &hw);
				if (rg != rw || hg.suffix_off !=
				    hw.suffix_off || hg.kind != hw.kind ||
				    hg.match != hw.match || hg.tag != hw.tag)
					fail_msg("%s: list %u explained "
					    "otherwise", text, list);
			}
		}
	}
}

#define LISTS_RR(rpz)							\
	"lists:\n"							\
	"  a: { file: a.txt, format: domains }\n"			\
	"  b: { file: b.txt, format: hosts }\n"				\
	"  c: { file: c.txt, format: ip }\n"				\
	"  d: { file: d.txt, format: adblock }\n"			\
	rpz

static void
test_random_reloads(void **state)
{
	/* Per mille of the names drawn anew; -1 emptied, -2 a handful. */
	static const int steps[] = { 0, 10, 1, 100, 120, 125, 130, 10, 200,
		333, 5, -1, 1000, 0, 124, -2, 1, 50, 1000, 10 };
	static const char *const confs[] = { LISTS_RR(""),
		LISTS_RR("  r: { file: r.zone, format: rpz }\n") };
	struct fx	*fx = *state;
	struct rr_name	*u;
	struct conf	*conf, *cprev;
	struct listset	*prev, *next, *fresh;
	size_t		 i, n, nlists, s;
	unsigned	 k, v = 0, how[3] = { 0, 0, 0 };

	assert_non_null(u = calloc(RR_NAMES, sizeof *u));
	srandom(20261130);
	for (k = 0; k < 2; k++) {
		n = RR_NAMES;
		for (i = 0; i < n; i++)
			rr_draw(&u[i], k);
		rr_write(fx, u, n, v++);
		cprev = fx_conf(fx, confs[k]);
		nlists = k == 0 ? 4 : 5;
		assert_non_null(prev = listset_new(cprev, NULL, tmsgs_cb,
		    &fx->msgs));
		for (s = 0; s < sizeof steps / sizeof steps[0]; s++) {
			if (steps[s] == -1)
				memset(u, 0, n * sizeof *u);
			else if (steps[s] == -2)
				n = 7;
			else {
				if (n < RR_NAMES && steps[s] == 1000)
					n = RR_NAMES;
				for (i = 0; i < n; i++) {
					if ((size_t)random() % 1000 <
					    (size_t)steps[s])
						rr_draw(&u[i], k);
				}
			}
			rr_write(fx, u, n, v++);
			conf = fx_conf(fx, confs[k]);
			assert_non_null(next = listset_new(conf, prev,
			    tmsgs_cb, &fx->msgs));
			assert_ptr_not_equal(next, prev);
			how[next->how]++;
			listset_free(prev);
			conf_free(cprev);
			assert_non_null(fresh = listset_new(conf, NULL,
			    tmsgs_cb, &fx->msgs));
			assert_int_equal(fresh->how, LISTSET_FRESH);
			rr_compare(next, fresh, RR_NAMES, nlists);
			listset_free(fresh);
			prev = next;
			cprev = conf;
		}
		listset_free(prev);
		conf_free(cprev);
	}
	/* Every path was taken. */
	assert_true(how[LISTSET_FRESH] > 0);
	assert_true(how[LISTSET_LIKE] > 0);
	assert_true(how[LISTSET_RETRIED] > 0);
	free(u);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_kept, setup, teardown),
		cmocka_unit_test_setup_teardown(test_changed_while_read, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_changed_file, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_same_names, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_changed_conf, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_missing, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_daily_update, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_random_reloads, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_names_gone, setup,
		    teardown),
	};

	return (cmocka_run_group_tests(tests, NULL, NULL));
}
