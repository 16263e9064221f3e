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

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_kept, setup, teardown),
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
		cmocka_unit_test_setup_teardown(test_names_gone, setup,
		    teardown),
	};

	return (cmocka_run_group_tests(tests, NULL, NULL));
}
