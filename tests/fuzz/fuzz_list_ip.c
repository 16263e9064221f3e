/*
 * fuzz_list_ip.c: libFuzzer target for ip lists (see fuzz_lists.h).
 */
#define FUZZ_LISTS_FORMAT	LISTS_IP

#include "fuzz_lists.h"
