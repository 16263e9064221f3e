/*
 * fuzz_list_domains.c: libFuzzer target for domains lists (see fuzz_lists.h).
 */
#define FUZZ_LISTS_FORMAT	LISTS_DOMAINS

#include "fuzz_lists.h"
