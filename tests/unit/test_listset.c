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
#include <ftw.h>
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

#define MAXMSG	16

/* One test's directory and messages. */
struct fx {
	char	 dir[64];
	char	*msg[MAXMSG];
	size_t	 nmsg;
};

static int
rm_cb(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return (remove(path));
}

static void
msg_cb(void *arg, const char *msg)
{
	struct fx	*fx = arg;

	if (fx->nmsg < MAXMSG)
		fx->msg[fx->nmsg] = strdup(msg);
	fx->nmsg++;
}

/* True if some message contains s. */
static int
msgs_have(const struct fx *fx, const char *s)
{
	size_t	i;

	for (i = 0; i < fx->nmsg && i < MAXMSG; i++)
		if (strstr(fx->msg[i], s) != NULL)
			return (1);
	for (i = 0; i < fx->nmsg && i < MAXMSG; i++)
		print_message("  message: %s\n", fx->msg[i]);
	return (0);
}

/* Write text to dir/rel, directly or through a rename. */
static void
fx_write(const struct fx *fx, const char *rel, const char *text, int viaren)
{
	char	 path[256], tmp[300];
	FILE	*f;

	snprintf(path, sizeof path, "%s/%s", fx->dir, rel);
	snprintf(tmp, sizeof tmp, "%s.new", path);
	f = fopen(viaren ? tmp : path, "w");
	assert_non_null(f);
	assert_true(fputs(text, f) >= 0);
	assert_int_equal(fclose(f), 0);
	if (viaren)
		assert_int_equal(rename(tmp, path), 0);
}

/* veiligd.yaml with the given lists: block. */
static struct conf *
fx_conf(struct fx *fx, const char *lists)
{
	struct conf	*conf;
	char		*text, path[256];

	assert_int_not_equal(asprintf(&text,
	    "upstreams: [ 127.0.0.1 ]\nboards: boards/*.yaml\n"
	    "control: %s/control.sock\n%s", fx->dir, lists), -1);
	fx_write(fx, "veiligd.yaml", text, 0);
	free(text);
	snprintf(path, sizeof path, "%s/veiligd.yaml", fx->dir);
	conf = conf_load(path, msg_cb, fx);
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
	char		 path[256];

	if ((fx = calloc(1, sizeof *fx)) == NULL)
		return (-1);
	snprintf(fx->dir, sizeof fx->dir, "/tmp/test_listset.XXXXXX");
	if (mkdtemp(fx->dir) == NULL) {
		free(fx);
		return (-1);
	}
	*state = fx;
	snprintf(path, sizeof path, "%s/boards", fx->dir);
	if (mkdir(path, 0700) == -1)
		return (-1);
	fx_write(fx, "a.txt", "a.test\nb.test\n", 0);
	fx_write(fx, "b.txt", "0.0.0.0 c.test\n", 0);
	fx_write(fx, "c.txt", "192.0.2.0/24\n", 0);
	return (0);
}

static int
teardown(void **state)
{
	struct fx	*fx = *state;
	size_t		 i;
	int		 rc = 0;

	for (i = 0; i < fx->nmsg && i < MAXMSG; i++)
		free(fx->msg[i]);
	if (nftw(fx->dir, rm_cb, 8, FTW_DEPTH | FTW_PHYS) != 0)
		rc = -1;
	free(fx);
	return (rc);
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
	assert_non_null(l1 = listset_new(c1, NULL, msg_cb, fx));
	assert_int_equal(l1->refs, 1);
	assert_int_equal(l1->name_bits, 3);
	assert_int_equal(lookup(l1, "www.a.test"), 1);
	assert_int_equal(lookup(l1, "c.test"), 2);
	assert_int_equal(l1->entries[0], 2);
	assert_int_equal(iptable_count(l1->ips), 1);
	assert_true(listset_bytes(l1) > 0);

	/* A board of the new configuration may differ: only lists count. */
	c2 = fx_conf(fx, LISTS3);
	l2 = listset_new(c2, l1, msg_cb, fx);
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
	assert_non_null(l1 = listset_new(c1, NULL, msg_cb, fx));

	/* Written over in place, with a name more. */
	fx_write(fx, "a.txt", "a.test\nb.test\nd.test\n", 0);
	c2 = fx_conf(fx, LISTS3);
	assert_non_null(l2 = listset_new(c2, l1, msg_cb, fx));
	assert_ptr_not_equal(l1, l2);
	assert_int_equal(l1->refs, 1);
	assert_int_equal(lookup(l2, "d.test"), 1);
	assert_int_equal(lookup(l1, "d.test"), 0);
	listset_free(l1);
	conf_free(c1);

	/* Replaced by a rename, the same text: another inode. */
	fx_write(fx, "b.txt", "0.0.0.0 c.test\n", 1);
	c1 = fx_conf(fx, LISTS3);
	assert_non_null(l3 = listset_new(c1, l2, msg_cb, fx));
	assert_ptr_not_equal(l3, l2);
	listset_free(l2);
	conf_free(c2);

	/* Only its times changed. */
	snprintf(path, sizeof path, "%s/c.txt", fx->dir);
	ts[0].tv_sec = ts[1].tv_sec = 1000000000;
	ts[0].tv_nsec = ts[1].tv_nsec = 0;
	assert_int_equal(utimensat(AT_FDCWD, path, ts, 0), 0);
	c2 = fx_conf(fx, LISTS3);
	assert_non_null(l2 = listset_new(c2, l3, msg_cb, fx));
	assert_ptr_not_equal(l3, l2);
	listset_free(l3);
	listset_free(l2);
	conf_free(c1);
	conf_free(c2);
}

/* How many messages contain s. */
static size_t
msgs_count(const struct fx *fx, const char *s)
{
	size_t	i, n = 0;

	for (i = 0; i < fx->nmsg && i < MAXMSG; i++)
		if (strstr(fx->msg[i], s) != NULL)
			n++;
	return (n);
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

	fx_write(fx, "a.txt", "a.test\nbad..name\nb.test\n", 0);
	c1 = fx_conf(fx, LISTS3);
	assert_non_null(l1 = listset_new(c1, NULL, msg_cb, fx));
	assert_int_equal(msgs_count(fx, "a.txt:2:"), 1);
	assert_int_equal(line_of(l1, "b.test", 0), 3);

	fx_write(fx, "a.txt", "# new\na.test\n! too\nbad..name\nb.test\n", 1);
	c2 = fx_conf(fx, LISTS3);
	assert_non_null(l2 = listset_new(c2, l1, msg_cb, fx));
	assert_ptr_not_equal(l1, l2);
	assert_int_equal(l2->src[0].digest, l1->src[0].digest);
	assert_int_equal(msgs_count(fx, "a.txt:4:"), 1);
	listset_free(l1);
	conf_free(c1);
	assert_int_equal(lookup(l2, "www.a.test"), 1);
	assert_int_equal(lookup(l2, "c.test"), 2);
	assert_int_equal(lookup(l2, "d.test"), 0);
	assert_int_equal(line_of(l2, "a.test", 0), 2);
	assert_int_equal(line_of(l2, "b.test", 0), 5);
	assert_int_equal(l2->entries[0], 2);

	/* Another order: another digest, a table of its own. */
	fx_write(fx, "a.txt", "b.test\nbad..name\na.test\n", 1);
	c1 = fx_conf(fx, LISTS3);
	assert_non_null(l3 = listset_new(c1, l2, msg_cb, fx));
	assert_int_not_equal(l3->src[0].digest, l2->src[0].digest);
	assert_int_equal(msgs_count(fx, "a.txt:2:"), 2);
	listset_free(l2);
	conf_free(c2);
	assert_int_equal(line_of(l3, "a.test", 0), 3);
	l2 = l3;
	c2 = c1;

	/* A name more, after the bad line: reported once all the same. */
	fx_write(fx, "a.txt", "b.test\nbad..name\na.test\nd.test\n", 1);
	c1 = fx_conf(fx, LISTS3);
	assert_non_null(l3 = listset_new(c1, l2, msg_cb, fx));
	assert_int_equal(msgs_count(fx, "a.txt:2:"), 3);
	listset_free(l2);
	conf_free(c2);
	assert_int_equal(lookup(l3, "d.test"), 1);
	assert_int_equal(lookup(l3, "a.test"), 1);
	assert_int_equal(line_of(l3, "d.test", 0), 4);

	/* A name fewer, and one moved to the hosts list. */
	fx_write(fx, "a.txt", "b.test\n", 1);
	fx_write(fx, "b.txt", "0.0.0.0 c.test a.test d.test\n", 1);
	c2 = fx_conf(fx, LISTS3);
	assert_non_null(l2 = listset_new(c2, l3, msg_cb, fx));
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
	assert_non_null(l1 = listset_new(c1, NULL, msg_cb, fx));
	for (i = 0; i < sizeof other / sizeof other[0]; i++) {
		c2 = fx_conf(fx, other[i]);
		assert_non_null(l2 = listset_new(c2, l1, msg_cb, fx));
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
	assert_non_null(l1 = listset_new(c1, NULL, msg_cb, fx));
	snprintf(path, sizeof path, "%s/a.txt", fx->dir);
	c2 = fx_conf(fx, LISTS3);
	assert_int_equal(unlink(path), 0);
	assert_null(listset_new(c2, l1, msg_cb, fx));
	assert_true(msgs_have(fx, "a.txt"));
	assert_int_equal(l1->refs, 1);
	listset_free(l1);
	conf_free(c1);
	conf_free(c2);
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
	};

	return (cmocka_run_group_tests(tests, NULL, NULL));
}
