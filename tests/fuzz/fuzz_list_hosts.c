/*
 * fuzz_list_hosts.c: libFuzzer target for hosts lists (see fuzz_lists.h).
 */
#define FUZZ_LISTS_FORMAT	LISTS_HOSTS

#include "fuzz_lists.h"
