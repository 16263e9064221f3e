/*
 * fuzz_list_adblock.c: libFuzzer target for adblock lists (see fuzz_lists.h).
 */
#define FUZZ_LISTS_FORMAT	LISTS_ADBLOCK

#include "fuzz_lists.h"
