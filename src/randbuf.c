/*
 * randbuf.c: random octets drawn from the kernel in blocks (see
 * randbuf.h for why).
 */
#include <stdlib.h>
#include <string.h>

#include "randbuf.h"

void
randbuf_take(struct randbuf *rb, void *out, size_t n)
{
	uint8_t	*p;

	if (rb->left < n) {
		arc4random_buf(rb->buf, sizeof rb->buf);
		rb->left = sizeof rb->buf;
	}
	p = rb->buf + sizeof rb->buf - rb->left;
	memcpy(out, p, n);
	explicit_bzero(p, n);
	rb->left -= n;
}

void
randbuf_clear(struct randbuf *rb)
{
	explicit_bzero(rb->buf, sizeof rb->buf);
	rb->left = 0;
}
