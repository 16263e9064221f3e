/*
 * fuzz_list_rpz.c: libFuzzer target for rpz lists (see fuzz_lists.h).
 */
#define FUZZ_LISTS_FORMAT	LISTS_RPZ

#include "fuzz_lists.h"
