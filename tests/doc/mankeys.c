/*
 * mankeys.c: the KEYS sections of the man pages, checked against the
 * tables of keys in conf.c.
 *
 *	mankeys yaml | board	print the head of every entry of the KEYS
 *				section of veiligd.yaml.5 or veilig-board.5
 *	mankeys -c DOCDIR	check the man pages in DOCDIR; exit 0 or 1
 *
 * Why this shape. STYLE.md asks that one table of keys drive parsing,
 * validation, `veiligd -n` output and the man page. The tables hold what
 * is true of every key (path, type, range, default) and one line of help,
 * which `veiligd -n -v` also prints as a comment. A man page needs more
 * than that: RFC 8767's client timer under cache.serve-stale, the values
 * of action, the list formats. That prose does not belong in C strings.
 * So each entry of a KEYS section starts with a head made from the table,
 * word for word, and goes on with prose written in the page:
 *
 *	.It Ic cache.max-ttl : Em duration	path and type
 *	Cap on the TTL of answers, ...		the help text
 *	Range: 1s to 30d, in whole seconds.	the range, if any
 *	Default:				the default, or "Required."
 *	.Ql \&1d .
 *	...					prose of the page
 *
 * and this program checks rather than generates. A page that lacks a key,
 * names a key that does not exist, orders its keys otherwise than the
 * table or words a head differently fails `make check`, and the error
 * shows the head the entry should have. Generating the heads at build
 * time instead would make the page in the tree differ from the page
 * installed, and `man -l doc/...` show stale text; generating whole pages
 * would move the prose into conf.c. Checking keeps the table the one
 * source of the facts and doc/ the one source of the prose, and
 * `mankeys yaml` prints the heads to paste when a key is added.
 *
 * The pages use Ic for configuration keys and nothing else, so the check
 * also takes the word after every Ic in every page of DOCDIR (veiligd.8
 * too) and fails when it is not the full path of a key of either table:
 * a key renamed in conf.c cannot live on in a sentence.
 *
 * Nested keys are written with their full path, as the pages show them:
 * server.listen, and lists.NAME.file for the keys of each list.
 */
#include <errno.h>
#include <glob.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conf.h"

/*
 * The data directory as the pages give it. The default of filter.tables
 * is the DATADIR veiligd was built with; `make install` writes the real
 * one into the installed veiligd.yaml.5 in place of this.
 */
#define MANKEYS_DATADIR		"/usr/local/share/veilig"

#define MANKEYS_MAX_KEYS	128
#define MANKEYS_MAX_LINES	20000
#define MANKEYS_HEAD		2048	/* bytes of one entry's head */

/* One key as the pages must show it. */
struct mankeys_key {
	char	path[64];
	char	head[MANKEYS_HEAD];	/* lines, each ending in '\n' */
	size_t	line;			/* of its .It in the page, 0 none */
};

/* A man page read into lines (without their '\n'). */
struct mankeys_page {
	const char	*path;
	char		*text;
	char		*lines[MANKEYS_MAX_LINES];
	size_t		 nlines;
};

static unsigned	mankeys_nerr;

/* Report one error at path:line (line 0: the whole file). */
static void __attribute__((format(printf, 3, 4)))
mankeys_error(const char *path, size_t line, const char *fmt, ...)
{
	va_list	ap;

	mankeys_nerr++;
	if (line != 0)
		fprintf(stderr, "%s:%zu: ", path, line);
	else
		fprintf(stderr, "%s: ", path);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

/* Append printf output to buf of size cap; truncation is caught later. */
static void __attribute__((format(printf, 3, 4)))
mankeys_add(char *buf, size_t cap, const char *fmt, ...)
{
	size_t	len = strlen(buf);
	va_list	ap;

	if (len + 1 >= cap)
		return;
	va_start(ap, fmt);
	vsnprintf(buf + len, cap - len, fmt, ap);
	va_end(ap);
}

/*
 * Append plain text s as roff: a backslash is \e, and \& before a leading
 * '.' or '\'' keeps the line from being read as a request.
 */
static void
mankeys_add_text(char *buf, size_t cap, const char *s)
{
	if (*s == '.' || *s == '\'')
		mankeys_add(buf, cap, "\\&");
	for (; *s != '\0'; s++) {
		if (*s == '\\')
			mankeys_add(buf, cap, "\\e");
		else
			mankeys_add(buf, cap, "%c", *s);
	}
}

/*
 * The head of the entry of doc in a KEYS section. Macro arguments start
 * with \& so that a value such as "No" is never taken for a macro.
 */
static void
mankeys_head(const struct conf_keydoc *doc, char *buf, size_t cap)
{
	char		 def[sizeof doc->def], *p, *word;
	const char	*macro;
	int		 first = 1;

	buf[0] = '\0';
	mankeys_add(buf, cap, ".It Ic %s : Em %s\n", doc->path, doc->type);
	mankeys_add_text(buf, cap, doc->help);
	mankeys_add(buf, cap, "\n");
	if (doc->required)
		mankeys_add(buf, cap, "Required.\n");
	if (doc->range[0] != '\0') {
		mankeys_add(buf, cap, "Range: ");
		mankeys_add_text(buf, cap, doc->range);
		mankeys_add(buf, cap, ".\n");
	}
	/* A mapping's defaults are those of its keys. */
	if (doc->required || strcmp(doc->type, "mapping") == 0)
		return;
	if (doc->def[0] == '\0') {
		mankeys_add(buf, cap, "Default: none.\n");
		return;
	}
	snprintf(def, sizeof def, "%s", strcmp(doc->def, VEILIG_DATADIR) == 0 ?
	    MANKEYS_DATADIR : doc->def);
	macro = strcmp(doc->type, "path") == 0 ? "Pa" : "Ql";
	mankeys_add(buf, cap, "Default:\n");
	/* A list's default is its entries separated by spaces. */
	if (!doc->list) {
		mankeys_add(buf, cap, ".%s \\&%s .\n", macro, def);
		return;
	}
	p = def;
	while ((word = strsep(&p, " ")) != NULL) {
		mankeys_add(buf, cap, "%s.%s \\&%s", first ? "" : " ,\n",
		    macro, word);
		first = 0;
	}
	mankeys_add(buf, cap, " .\n");
}

/* The keys of table which, with their heads; the count, or -1. */
static int
mankeys_keys(enum conf_doc which, struct mankeys_key *keys, size_t cap)
{
	struct conf_keydoc	doc;
	size_t			n;

	for (n = 0; conf_key_doc(which, n, &doc) == 0; n++) {
		if (n == cap) {
			fprintf(stderr, "mankeys: more than %zu keys\n", cap);
			return (-1);
		}
		memset(&keys[n], 0, sizeof keys[n]);
		snprintf(keys[n].path, sizeof keys[n].path, "%s", doc.path);
		mankeys_head(&doc, keys[n].head, sizeof keys[n].head);
		if (strlen(keys[n].head) + 1 >= sizeof keys[n].head) {
			fprintf(stderr, "mankeys: %s: head too long\n",
			    doc.path);
			return (-1);
		}
	}
	return ((int)n);
}

/* Read the page at path into lines; 0, or -1 after an error. */
static int
mankeys_read(struct mankeys_page *pg, const char *path)
{
	FILE	*f;
	long	 size;
	char	*p;

	memset(pg, 0, sizeof *pg);
	pg->path = path;
	if ((f = fopen(path, "r")) == NULL) {
		mankeys_error(path, 0, "%s", strerror(errno));
		return (-1);
	}
	if (fseek(f, 0, SEEK_END) == -1 || (size = ftell(f)) == -1 ||
	    fseek(f, 0, SEEK_SET) == -1 || size > 4 * 1024 * 1024 ||
	    (pg->text = calloc(1, (size_t)size + 1)) == NULL ||
	    fread(pg->text, 1, (size_t)size, f) != (size_t)size) {
		mankeys_error(path, 0, "cannot read the file");
		fclose(f);
		return (-1);
	}
	fclose(f);
	for (p = pg->text; *p != '\0' && pg->nlines < MANKEYS_MAX_LINES;) {
		pg->lines[pg->nlines++] = p;
		if ((p = strchr(p, '\n')) == NULL)
			break;
		*p++ = '\0';
	}
	return (0);
}

/* The word after "Ic" in line (a request), copied to buf, or NULL. */
static const char *
mankeys_ic(const char **line, char *buf, size_t cap)
{
	const char	*p = *line, *end;
	size_t		 len;

	/* Whole words only: "Ic" as a macro, not inside another word. */
	while ((p = strstr(p, "Ic ")) != NULL) {
		if ((p == *line + 1 && **line == '.') || p[-1] == ' ')
			break;
		p += 3;
	}
	if (p == NULL)
		return (NULL);
	p += 3;
	while (*p == ' ')
		p++;
	end = p + strcspn(p, " ");
	len = (size_t)(end - p);
	if (len >= cap)
		len = cap - 1;
	memcpy(buf, p, len);
	buf[len] = '\0';
	*line = end;
	return (buf);
}

/* Index of the key named path in keys, or -1. */
static int
mankeys_find(const struct mankeys_key *keys, int n, const char *path)
{
	int	i;

	for (i = 0; i < n; i++)
		if (strcmp(keys[i].path, path) == 0)
			return (i);
	return (-1);
}

/* Show the head an entry should have, indented, after an error. */
static void
mankeys_show(const char *head)
{
	const char	*p;

	for (p = head; *p != '\0'; p++) {
		if (p == head || p[-1] == '\n')
			fputs("\t", stderr);
		fputc(*p, stderr);
	}
}

/* Compare the entry at line i (its .It) with the head key should have. */
static void
mankeys_entry(const struct mankeys_page *pg, size_t i,
    const struct mankeys_key *key)
{
	const char	*want = key->head;
	size_t		 len;

	for (; *want != '\0'; i++) {
		len = strcspn(want, "\n");
		if (i >= pg->nlines || strlen(pg->lines[i]) != len ||
		    strncmp(pg->lines[i], want, len) != 0) {
			mankeys_error(pg->path, i + 1, "%s: the entry does not "
			    "start as the table says; it should be:",
			    key->path);
			mankeys_show(key->head);
			return;
		}
		want += len + 1;
	}
}

/* Check the KEYS section of the page at path against keys. */
static void
mankeys_check_keys(const char *path, const char *file,
    struct mankeys_key *keys, int n)
{
	struct mankeys_page	*pg;
	char			 word[64];
	const char		*p;
	size_t			 i, start = 0, end;
	int			 k, last = -1;

	if ((pg = malloc(sizeof *pg)) == NULL) {
		mankeys_error(path, 0, "out of memory");
		return;
	}
	if (mankeys_read(pg, path) == -1)
		goto out;
	for (i = 0; i < pg->nlines && start == 0; i++)
		if (strcmp(pg->lines[i], ".Sh KEYS") == 0)
			start = i + 1;
	if (start == 0) {
		mankeys_error(path, 0, "no .Sh KEYS section");
		goto out;
	}
	for (end = start; end < pg->nlines; end++)
		if (strncmp(pg->lines[end], ".Sh ", 4) == 0)
			break;

	/* Every entry must be a key, once, in the order of the table. */
	for (i = start; i < end; i++) {
		if (strncmp(pg->lines[i], ".It Ic ", 7) != 0)
			continue;
		p = pg->lines[i];
		mankeys_ic(&p, word, sizeof word);
		if ((k = mankeys_find(keys, n, word)) == -1) {
			mankeys_error(path, i + 1, "%s is not a key of %s",
			    word, file);
			continue;
		}
		if (keys[k].line != 0) {
			mankeys_error(path, i + 1, "%s again (first at line "
			    "%zu)", word, keys[k].line);
			continue;
		}
		keys[k].line = i + 1;
		if (k < last)
			mankeys_error(path, i + 1, "%s should come before "
			    "%s, as in the table of conf.c", word,
			    keys[last].path);
		else
			last = k;
		mankeys_entry(pg, i, &keys[k]);
	}
	for (k = 0; k < n; k++) {
		if (keys[k].line != 0)
			continue;
		mankeys_error(path, 0, "KEYS has no entry for %s; it should "
		    "start:", keys[k].path);
		mankeys_show(keys[k].head);
	}
out:
	free(pg != NULL ? pg->text : NULL);
	free(pg);
}

/* Check that each Ic in the page at path names a key of either table. */
static void
mankeys_check_refs(const char *path, const struct mankeys_key *main_keys,
    int nmain, const struct mankeys_key *board_keys, int nboard)
{
	struct mankeys_page	*pg;
	char			 word[64];
	const char		*p;
	size_t			 i;

	if ((pg = malloc(sizeof *pg)) == NULL) {
		mankeys_error(path, 0, "out of memory");
		return;
	}
	if (mankeys_read(pg, path) == -1)
		goto out;
	for (i = 0; i < pg->nlines; i++) {
		/* Requests only; .\" comments are not read. */
		if (pg->lines[i][0] != '.' || pg->lines[i][1] == '\\')
			continue;
		p = pg->lines[i];
		while (mankeys_ic(&p, word, sizeof word) != NULL) {
			if (mankeys_find(main_keys, nmain, word) == -1 &&
			    mankeys_find(board_keys, nboard, word) == -1)
				mankeys_error(path, i + 1, "Ic %s: not the "
				    "full path of a configuration key", word);
		}
	}
out:
	free(pg != NULL ? pg->text : NULL);
	free(pg);
}

static __attribute__((noreturn)) void
mankeys_usage(void)
{
	fprintf(stderr, "usage: mankeys yaml | board\n"
	    "       mankeys -c docdir\n");
	exit(2);
}

int
main(int argc, char **argv)
{
	static struct mankeys_key	 main_keys[MANKEYS_MAX_KEYS];
	static struct mankeys_key	 board_keys[MANKEYS_MAX_KEYS];
	struct mankeys_key		*keys;
	char				 path[4096];
	glob_t				 g;
	int				 nmain, nboard, n, i;
	size_t				 j;

	nmain = mankeys_keys(CONF_DOC_MAIN, main_keys, MANKEYS_MAX_KEYS);
	nboard = mankeys_keys(CONF_DOC_BOARD, board_keys, MANKEYS_MAX_KEYS);
	if (nmain == -1 || nboard == -1)
		return (2);

	/* Print the heads of one page. */
	if (argc == 2 && (strcmp(argv[1], "yaml") == 0 ||
	    strcmp(argv[1], "board") == 0)) {
		keys = argv[1][0] == 'y' ? main_keys : board_keys;
		n = argv[1][0] == 'y' ? nmain : nboard;
		for (i = 0; i < n; i++)
			fputs(keys[i].head, stdout);
		return (0);
	}
	if (argc != 3 || strcmp(argv[1], "-c") != 0)
		mankeys_usage();

	/* Check: the two KEYS sections, then the Ic of every page. */
	snprintf(path, sizeof path, "%s/veiligd.yaml.5", argv[2]);
	mankeys_check_keys(path, "veiligd.yaml", main_keys, nmain);
	snprintf(path, sizeof path, "%s/veilig-board.5", argv[2]);
	mankeys_check_keys(path, "a board file", board_keys, nboard);
	snprintf(path, sizeof path, "%s/*.[1-9]", argv[2]);
	if (glob(path, 0, NULL, &g) != 0) {
		mankeys_error(path, 0, "no man pages");
		return (1);
	}
	for (j = 0; j < g.gl_pathc; j++)
		mankeys_check_refs(g.gl_pathv[j], main_keys, nmain,
		    board_keys, nboard);
	globfree(&g);
	if (mankeys_nerr > 0) {
		fprintf(stderr, "mankeys: %u error%s in the man pages in "
		    "%s\n", mankeys_nerr, mankeys_nerr == 1 ? "" : "s",
		    argv[2]);
		return (1);
	}
	return (0);
}
