/*
 * fuzz_list_rewrite.c: libFuzzer target for the safe-search table format
 * (see fuzz_lists.h).
 */
#define FUZZ_LISTS_FORMAT	LISTS_REWRITE

#include "fuzz_lists.h"
