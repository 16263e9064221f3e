/*
 * randbuf.h: random octets drawn from the kernel in blocks.
 *
 * glibc 2.36's arc4random_buf() is one getrandom() system call each time,
 * whatever the length; with page-table isolation and no PCID (this
 * project's test guests) a system call also empties the TLB. Callers that
 * take a few octets often (fwd.c's IDs and 0x20 bits, one SipHash key per
 * board's site table in the statistics' fold, 10,000 of them an interval)
 * take them from a block instead: one call per RANDBUF_SIZE octets.
 *
 * Octets are taken once: each is overwritten as it is handed out, so the
 * block never holds a copy of a key it gave (a key is the caller's to
 * wipe), and randbuf_clear() wipes what was not used.
 *
 * The caller embeds the struct, zeroed (empty) or after randbuf_clear();
 * it is not locked: one thread uses a block.
 */
#ifndef VEILIG_RANDBUF_H
#define VEILIG_RANDBUF_H

#include <stddef.h>
#include <stdint.h>

#define RANDBUF_SIZE	256	/* octets drawn at once */

struct randbuf {
	uint8_t		buf[RANDBUF_SIZE];
	size_t		left;		/* unused octets, at the end */
};

/* n random octets (n <= RANDBUF_SIZE) into out, wiped from rb. */
void	randbuf_take(struct randbuf *rb, void *out, size_t n);

/* Wipe rb's unused octets; it is empty after (and may be used again). */
void	randbuf_clear(struct randbuf *rb);

#endif
