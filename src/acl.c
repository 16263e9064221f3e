/*
 * acl.c: the access list as two binary tries (IPv4, IPv6).
 *
 * Each network is a path of bits from the root; a node marks where a
 * network ends. A lookup follows the address's bits and succeeds at the
 * first marked node on the way, so the most general network decides, which
 * is all an allow list needs. Nodes live in one array (indices, not
 * pointers), built once and never changed.
 */
#include <netinet/in.h>

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "acl.h"

struct acl_node {
	uint32_t	child[2];	/* index in nodes, 0 = none */
	uint8_t		end;		/* a network ends here */
};

struct acl {
	struct acl_node	*nodes;		/* nodes[0] unused, 1 = v4, 2 = v6 */
	size_t		 nnodes;
	size_t		 cap;
};

#define ACL_ROOT4	1
#define ACL_ROOT6	2

/* Append a fresh node; returns its index or 0 on allocation failure. */
static uint32_t
acl_node_add(struct acl *acl)
{
	struct acl_node	*n;
	size_t		 cap;

	if (acl->nnodes == acl->cap) {
		cap = acl->cap * 2;
		n = reallocarray(acl->nodes, cap, sizeof *n);
		if (n == NULL)
			return 0;
		acl->nodes = n;
		acl->cap = cap;
	}
	memset(&acl->nodes[acl->nnodes], 0, sizeof acl->nodes[0]);
	return (uint32_t)acl->nnodes++;
}

/* Bit i (0 = most significant) of addr. */
static int
acl_bit(const uint8_t *addr, unsigned i)
{
	return (addr[i / 8] >> (7 - i % 8)) & 1;
}

struct acl *
acl_new(const struct conf_net *nets, size_t n)
{
	struct acl	*acl;
	size_t		 i;
	unsigned	 b;
	uint32_t	 at, next;
	int		 bit;

	if ((acl = calloc(1, sizeof *acl)) == NULL)
		return NULL;
	acl->cap = 64;
	if ((acl->nodes = calloc(acl->cap, sizeof *acl->nodes)) == NULL) {
		free(acl);
		return NULL;
	}
	acl->nnodes = 3;	/* unused, v4 root, v6 root */
	for (i = 0; i < n; i++) {
		at = nets[i].family == AF_INET ? ACL_ROOT4 : ACL_ROOT6;
		for (b = 0; b < nets[i].prefix && !acl->nodes[at].end; b++) {
			bit = acl_bit(nets[i].addr, b);
			if ((next = acl->nodes[at].child[bit]) == 0) {
				if ((next = acl_node_add(acl)) == 0) {
					acl_free(acl);
					return NULL;
				}
				acl->nodes[at].child[bit] = next;
			}
			at = next;
		}
		acl->nodes[at].end = 1;
	}
	return acl;
}

void
acl_free(struct acl *acl)
{
	if (acl == NULL)
		return;
	free(acl->nodes);
	free(acl);
}

int
acl_match(const struct acl *acl, const struct sockaddr *sa)
{
	const struct sockaddr_in	*sin;
	const struct sockaddr_in6	*sin6;
	const uint8_t			*addr;
	unsigned			 bits, b;
	uint32_t			 at;

	if (sa->sa_family == AF_INET) {
		sin = (const struct sockaddr_in *)sa;
		addr = (const uint8_t *)&sin->sin_addr;
		at = ACL_ROOT4;
		bits = 32;
	} else if (sa->sa_family == AF_INET6) {
		sin6 = (const struct sockaddr_in6 *)sa;
		addr = sin6->sin6_addr.s6_addr;
		if (IN6_IS_ADDR_V4MAPPED(&sin6->sin6_addr)) {
			addr += 12;
			at = ACL_ROOT4;
			bits = 32;
		} else {
			at = ACL_ROOT6;
			bits = 128;
		}
	} else
		return 0;
	for (b = 0; at != 0; b++) {
		if (acl->nodes[at].end)
			return 1;
		if (b == bits)
			break;
		at = acl->nodes[at].child[acl_bit(addr, b)];
	}
	return 0;
}
