/*
 * fuzz_live.c: libFuzzer target for the live page's reader (live.c).
 *
 * Feeds the input to live_page() as if it were the text of /metrics. It
 * must never crash or leak, must always write a whole page, and nothing
 * from the input may become markup: the input is full of "<script" and
 * quotes in label values, and none may reach the page unescaped.
 */

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>

#include "live.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct evbuffer	*out;
	char		*text, *page;
	size_t		 len;

	/* live_page() reads a NUL-terminated text and changes it. */
	if ((text = malloc(size + 1)) == NULL)
		return (0);
	memcpy(text, data, size);
	text[size] = '\0';
	if ((out = evbuffer_new()) == NULL) {
		free(text);
		return (0);
	}
	if (live_page(text, size, 1700000000, out) == 0) {
		len = evbuffer_get_length(out);
		page = (char *)evbuffer_pullup(out, -1);
		if (len < 8 || memcmp(page + len - 8, "</html>\n", 8) != 0)
			abort();
		if (memmem(page, len, "<script", 7) != NULL ||
		    memmem(page, len, "<img", 4) != NULL)
			abort();
	}
	evbuffer_free(out);
	free(text);
	return (0);
}
