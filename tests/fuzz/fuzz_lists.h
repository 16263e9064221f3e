/*
 * fuzz_lists.h: the shared body of the list-format fuzz targets.
 *
 * Each fuzz_list_<format>.c defines FUZZ_LISTS_FORMAT and includes this
 * file. The input is loaded with lists_load_mem() into a sink that checks
 * every entry it is given: names are well-formed lower-case wire names
 * (labels 1..63 of letters, digits, '-' and '_', 255 octets at most,
 * ending in the root) that lists_name() gives back unchanged from their
 * text form; networks have a family, a prefix in range and no host bits.
 * The counts in the result must add up. The input is then written to a
 * memfd and sampled with lists_sample(), which must count its lines as
 * they are, give only such entries, and report nothing. A report of an
 * invalid line ("fuzz:LINE:COLUMN: ...") must name a line of the input
 * and a column within it (or just past its end).
 */
#ifndef VEILIG_FUZZ_LISTS_H
#define VEILIG_FUZZ_LISTS_H

#include <sys/mman.h>
#include <sys/socket.h>

#include <assert.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "lists.h"
#include "wire.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

/* What the sink saw. */
struct fuzz_lists_count {
	size_t		 entries;
	size_t		 reports;
	const uint8_t	*data;		/* the input, for the reports' */
	size_t		 size;		/* lines and columns */
};

/*
 * The characters of line n (1 for the first) of the input, as a column
 * counts them (octets that continue a UTF-8 character do not); -1 if the
 * input has no such line.
 */
static long
fuzz_lists_line_chars(const struct fuzz_lists_count *c, unsigned long n)
{
	size_t	i = 0;
	long	chars = 0;

	while (n > 1) {
		while (i < c->size && c->data[i] != '\n')
			i++;
		if (i == c->size)
			return (-1);
		i++;
		n--;
	}
	if (i == c->size && (i == 0 || c->data[i - 1] == '\n'))
		return (-1);
	for (; i < c->size && c->data[i] != '\n'; i++)
		if ((c->data[i] & 0xc0) != 0x80)
			chars++;
	return (chars);
}

/* Check a name the sink got: shape, case, and a round trip. */
static void
fuzz_lists_check_name(const uint8_t *w, size_t len)
{
	uint8_t		 again[WIRE_MAX_NAME];
	char		 text[WIRE_MAX_NAME + 1];
	const char	*why;
	size_t		 i = 0, j, n = 0, alen;

	assert(w != NULL && len >= 2 && len <= WIRE_MAX_NAME);
	while (w[i] != 0) {
		assert(w[i] <= WIRE_MAX_LABEL && i + w[i] + 1 < len);
		for (j = i + 1; j <= i + w[i]; j++) {
			assert((w[j] >= 'a' && w[j] <= 'z') ||
			    (w[j] >= '0' && w[j] <= '9') ||
			    w[j] == '-' || w[j] == '_');
		}
		if (n > 0)
			text[n++] = '.';
		memcpy(text + n, w + i + 1, w[i]);
		n += w[i];
		i += w[i] + 1;
	}
	assert(i + 1 == len);
	assert(lists_name(text, n, again, &alen, &why) == 0);
	assert(alen == len && memcmp(again, w, len) == 0);
}

static int
fuzz_lists_name(void *arg, const uint8_t *lname, size_t len,
    enum domtable_kind kind, enum domtable_match match, uint32_t line)
{
	struct fuzz_lists_count	*c = arg;

	fuzz_lists_check_name(lname, len);
	assert(kind == DOMTABLE_BLOCK || kind == DOMTABLE_PASS);
	assert(match == DOMTABLE_SUBTREE);
	assert(line > 0);
	c->entries++;
	return (0);
}

static int
fuzz_lists_rpz(void *arg, const uint8_t *lname, size_t len,
    enum domtable_match match, enum lists_rpz_action action,
    const uint8_t *target, size_t tlen, uint32_t line)
{
	struct fuzz_lists_count	*c = arg;

	fuzz_lists_check_name(lname, len);
	assert(match == DOMTABLE_EXACT || match == DOMTABLE_SUBONLY);
	if (action == LISTS_RPZ_CNAME)
		fuzz_lists_check_name(target, tlen);
	else {
		assert(action == LISTS_RPZ_NXDOMAIN ||
		    action == LISTS_RPZ_NODATA ||
		    action == LISTS_RPZ_PASSTHRU);
		assert(target == NULL && tlen == 0);
	}
	assert(line > 0);
	c->entries++;
	return (0);
}

static int
fuzz_lists_net(void *arg, const struct conf_net *net, uint32_t line)
{
	struct fuzz_lists_count	*c = arg;
	unsigned		 i, max;

	assert(net->family == AF_INET || net->family == AF_INET6);
	max = net->family == AF_INET ? 32 : 128;
	assert(net->prefix <= max);
	for (i = net->prefix; i < max; i++)
		assert((net->addr[i / 8] & (0x80 >> (i % 8))) == 0);
	assert(line > 0);
	c->entries++;
	return (0);
}

static void
fuzz_lists_report(void *arg, const char *msg)
{
	struct fuzz_lists_count	*c = arg;

	unsigned long		 line, col;
	long			 chars;
	int			 n = 0;

	assert(strncmp(msg, "fuzz", 4) == 0 && strlen(msg) < 1024);
	if (sscanf(msg, "fuzz:%lu:%lu: %n", &line, &col, &n) == 2 && n > 0 &&
	    c->data != NULL) {
		chars = fuzz_lists_line_chars(c, line);
		assert(chars >= 0 && col >= 1 && col <= (unsigned long)chars + 1);
	}
	c->reports++;
}

/* lists_sample() of the input, through a memfd. */
static void
fuzz_lists_sample(const uint8_t *data, size_t size)
{
	struct fuzz_lists_count	 c = { 0, 0, NULL, 0 };
	struct lists_sink	 sink = { fuzz_lists_name, fuzz_lists_rpz,
				    fuzz_lists_net, fuzz_lists_report, &c };
	char			 path[64];
	size_t			 i;
	long			 lines = 0;
	int			 fd;

	if ((fd = memfd_create("fuzz", 0)) == -1)
		return;
	if (write(fd, data, size) != (ssize_t)size) {
		close(fd);
		return;
	}
	for (i = 0; i < size; i++)
		lines += data[i] == '\n';
	if (size > 0 && data[size - 1] != '\n')
		lines++;
	snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
	assert(lists_sample(path, FUZZ_LISTS_FORMAT, &sink) == lines);
	assert(c.reports == 0);
	close(fd);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_lists_count	 c = { 0, 0, data, size };
	struct lists_sink	 sink = { fuzz_lists_name, fuzz_lists_rpz,
				    fuzz_lists_net, fuzz_lists_report, &c };
	struct lists_result	 res;
	int			 rv;

	rv = lists_load_mem("fuzz", (const char *)data, size,
	    FUZZ_LISTS_FORMAT, &sink, &res);
	assert(rv == 0 || rv == -1);
	assert(res.entries == c.entries);
	assert(res.invalid + res.unsupported <= res.lines);
	if (res.invalid > 0 || rv == -1)
		assert(c.reports > 0);
	fuzz_lists_sample(data, size);
	return (0);
}

#endif
