/*
 * acl.h: which source addresses may query (the access: list).
 *
 * A set of networks compiled into a binary trie per family; a lookup walks
 * at most 32 or 128 bits, allocating nothing. Immutable once built, so any
 * number of workers may read it. Owned by the configuration snapshot.
 * (Issue 3 replaces this with the boards' longest-prefix table.)
 */
#ifndef VEILIG_ACL_H
#define VEILIG_ACL_H

#include <sys/socket.h>

#include <stddef.h>

#include "conf.h"

struct acl;

/* Build from n networks. NULL on allocation failure. */
struct acl	*acl_new(const struct conf_net *nets, size_t n);
void		 acl_free(struct acl *);

/* 1 if sa (AF_INET or AF_INET6, v4-mapped v6 treated as v4) is in the set. */
int		 acl_match(const struct acl *, const struct sockaddr *sa);

#endif
