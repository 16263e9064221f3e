/*
 * fuzz_board.c: libFuzzer target for board files.
 *
 * Board files are only read through a glob of veiligd.yaml, so the input
 * is written to boards/fuzz.yaml in a temporary directory made once per
 * process, next to a fixed veiligd.yaml with four lists (and networks up
 * to a /8 allowed, as the seed corpus has them) and a fixed board
 * a.yaml (10.0.0.0/8, "2001:db8::/32") to overlap with. conf_load() must
 * never crash or leak, must report at least one error whenever it
 * refuses, and what it accepts must print and load again with the same
 * boards. conf_load_keep(), with a configuration in force in which
 * boards/fuzz.yaml was a good board, must never refuse: the fuzz board
 * is as written when conf_load() takes it, and kept at its good version
 * otherwise.
 */

#include <sys/stat.h>

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "conf.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static char	fuzz_board_dir[64];
static char	fuzz_board_conf[128];
static char	fuzz_board_file[128];

static const char *fuzz_board_main =
    "upstreams: [ 127.0.0.1 ]\n"
    "board-limits: { widest-ipv4: 8 }\n"
    "lists:\n"
    "  malware: { file: malware.txt, format: domains }\n"
    "  phishing: { file: phishing.txt, format: domains }\n"
    "  gambling: { file: gambling.txt, format: hosts }\n"
    "  adult: { file: adult.txt, format: adblock }\n";

static const char *fuzz_board_a =
    "name: Stichting A\n"
    "networks: [ 10.0.0.0/8, \"2001:db8::/32\" ]\n";

/* boards/fuzz.yaml as it was in the configuration in force. */
static const char *fuzz_board_good =
    "name: Stichting F\n"
    "networks: [ 192.0.2.0/24 ]\n"
    "block: [ malware, adult ]\n"
    "deny: [ game.example ]\n";
static struct conf	*fuzz_board_old;

/* Count the errors reported; none may be empty. */
static void
fuzz_board_error_cb(void *arg, const char *msg)
{
	size_t	*n = arg;

	if (msg[0] == '\0')
		abort();
	/* A warning (a top-level domain in deny:, say) fails nothing. */
	if (!conf_is_warning(msg))
		(*n)++;
}

/* Write len bytes of data to path; 0 or -1. */
static int
fuzz_board_write(const char *path, const void *data, size_t len)
{
	FILE	*f;
	int	 rv = 0;

	if ((f = fopen(path, "w")) == NULL)
		return (-1);
	if (len > 0 && fwrite(data, 1, len, f) != len)
		rv = -1;
	if (fclose(f) != 0)
		rv = -1;
	return (rv);
}

/* Remove what fuzz_board_setup() made. */
static void
fuzz_board_cleanup(void)
{
	char	path[160];

	unlink(fuzz_board_file);
	snprintf(path, sizeof path, "%s/boards/a.yaml", fuzz_board_dir);
	unlink(path);
	snprintf(path, sizeof path, "%s/boards", fuzz_board_dir);
	rmdir(path);
	unlink(fuzz_board_conf);
	rmdir(fuzz_board_dir);
}

/* Make the directory and the fixed files once; 0 or -1. */
static int
fuzz_board_setup(void)
{
	char	path[160];

	snprintf(fuzz_board_dir, sizeof fuzz_board_dir,
	    "/tmp/fuzz_board.XXXXXX");
	if (mkdtemp(fuzz_board_dir) == NULL)
		return (-1);
	snprintf(path, sizeof path, "%s/boards", fuzz_board_dir);
	if (mkdir(path, 0700) == -1)
		return (-1);
	snprintf(fuzz_board_conf, sizeof fuzz_board_conf, "%s/veiligd.yaml",
	    fuzz_board_dir);
	snprintf(fuzz_board_file, sizeof fuzz_board_file,
	    "%s/boards/fuzz.yaml", fuzz_board_dir);
	snprintf(path, sizeof path, "%s/boards/a.yaml", fuzz_board_dir);
	if (fuzz_board_write(fuzz_board_conf, fuzz_board_main,
	    strlen(fuzz_board_main)) == -1 ||
	    fuzz_board_write(path, fuzz_board_a, strlen(fuzz_board_a)) == -1 ||
	    fuzz_board_write(fuzz_board_file, fuzz_board_good,
	    strlen(fuzz_board_good)) == -1)
		return (-1);
	atexit(fuzz_board_cleanup);
	if ((fuzz_board_old = conf_load(fuzz_board_conf, NULL, NULL)) == NULL)
		return (-1);
	return (0);
}

/*
 * conf_load_keep() on the same files: never NULL; c is what conf_load()
 * made of them. With c, nothing is broken; without, the fuzz board is
 * kept at its version in force.
 */
static void
fuzz_board_keep(const struct conf *c)
{
	struct conf	*k;
	size_t		 nerr = 0, i;

	k = conf_load_keep(fuzz_board_conf, fuzz_board_old,
	    fuzz_board_error_cb, &nerr);
	if (k == NULL || k->nboards != 2 || (k->nbroken == 0) != (c != NULL))
		abort();
	if (k->nbroken != 0 && (k->nbroken != 1 ||
	    strcmp(k->broken[0].path, fuzz_board_file) != 0 ||
	    !k->broken[0].kept || k->broken[0].nerr == 0 ||
	    k->broken[0].error == NULL))
		abort();
	for (i = 0; i < k->nboards; i++) {
		if (strcmp(k->boards[i].path, fuzz_board_file) != 0)
			continue;
		if (k->boards[i].kept != (c == NULL) || (c == NULL &&
		    (strcmp(k->boards[i].name, "Stichting F") != 0 ||
		    k->boards[i].block != ((1 << 0) | (1 << 3)) ||
		    k->boards[i].ndeny != 1)))
			abort();
	}
	conf_free(k);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int	 ready;
	struct conf	*c, *again;
	char		*out = NULL;
	size_t		 nerr = 0, len = 0, i;
	FILE		*f;

	if (!ready) {
		if (fuzz_board_setup() == -1)
			abort();
		ready = 1;
	}
	if (fuzz_board_write(fuzz_board_file, data, size) == -1)
		abort();
	c = conf_load(fuzz_board_conf, fuzz_board_error_cb, &nerr);
	if ((c == NULL) != (nerr > 0))
		abort();	/* refused without a reason, or the reverse */
	fuzz_board_keep(c);
	if (c == NULL)
		return (0);
	if (c->nboards != 2)
		abort();

	/* What was accepted prints and loads again with the same boards. */
	if ((f = open_memstream(&out, &len)) == NULL) {
		conf_free(c);
		return (0);
	}
	conf_print(c, f);
	fclose(f);
	nerr = 0;
	again = conf_load_string(fuzz_board_conf, out, fuzz_board_error_cb,
	    &nerr);
	if (again == NULL || nerr != 0 || again->nboards != c->nboards)
		abort();
	for (i = 0; i < c->nboards; i++)
		if (strcmp(c->boards[i].name, again->boards[i].name) != 0 ||
		    c->boards[i].block != again->boards[i].block ||
		    c->boards[i].nnetworks != again->boards[i].nnetworks)
			abort();
	conf_free(again);
	conf_free(c);
	free(out);
	return (0);
}
