/*
 * fuzz_conf.c: libFuzzer target for the veiligd.yaml reader.
 *
 * Feeds the input to conf_load_string() with a callback that counts the
 * errors. It must never crash or leak, must report at least one error
 * whenever it refuses a file, and whatever it accepts must survive
 * conf_print() and a second load (the round trip `veiligd -n` relies on).
 *
 * Relative paths resolve against the current directory, so the default
 * boards glob looks in ./boards, which does not exist when run from the
 * top of the tree; board files have their own target, fuzz_board.c.
 */

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conf.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

/* Count the errors reported; also format-check nothing is empty. */
static void
fuzz_conf_error_cb(void *arg, const char *msg)
{
	size_t	*n = arg;

	if (msg[0] == '\0')
		abort();
	/* A warning (a top-level domain in deny:, say) fails nothing. */
	if (!conf_is_warning(msg))
		(*n)++;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct conf	*c, *again;
	char		*text, *out = NULL;
	size_t		 nerr = 0, len = 0;
	FILE		*f;

	/* conf_load_string() takes a C string: copy and terminate. */
	if ((text = malloc(size + 1)) == NULL)
		return (0);
	memcpy(text, data, size);
	text[size] = '\0';
	c = conf_load_string("fuzz.yaml", text, fuzz_conf_error_cb, &nerr);
	free(text);
	if ((c == NULL) != (nerr > 0))
		abort();	/* refused without a reason, or the reverse */
	if (c == NULL)
		return (0);

	/* What was accepted prints as YAML that loads again. */
	if ((f = open_memstream(&out, &len)) == NULL) {
		conf_free(c);
		return (0);
	}
	conf_print(c, f);
	fclose(f);
	nerr = 0;
	again = conf_load_string("print.yaml", out, fuzz_conf_error_cb, &nerr);
	if (again == NULL || nerr != 0)
		abort();
	conf_free(again);
	conf_free(c);
	free(out);
	return (0);
}
