/*
 * siphash.h: SipHash-1-3, a keyed hash, for everything that hashes data an
 * outsider can choose or must not be able to recognise.
 *
 * The cache hashes query names with it, so that a remote party who picks
 * names cannot aim them at one bucket; the statistics hash client
 * addresses with it under keys that live only in memory, so that a
 * distinct-client sketch holds nothing an address could be matched
 * against. None of our libraries exports a keyed hash, so it is written
 * out here once (about twenty lines).
 *
 * Words are loaded in host order: the hash never leaves the process, so
 * it need not match other implementations' output on big-endian hosts.
 */
#ifndef VEILIG_SIPHASH_H
#define VEILIG_SIPHASH_H

#include <stddef.h>
#include <stdint.h>

/* A 128-bit key. */
struct siphash_key {
	uint64_t	k[2];
};

/* SipHash-1-3 of len octets at in under key. */
uint64_t	siphash_13(const struct siphash_key *key, const void *in,
		    size_t len);

/*
 * The same hash, when in is followed by zero octets up to the next
 * multiple of 8 past len (none when len is one): a few instructions
 * less, for the hash of every cache hit (wire_key_hash()).
 */
uint64_t	siphash_13_padded(const struct siphash_key *key, const void *in,
		    size_t len);

/*
 * The same hash of len octets at in followed by tlen (at most 8) octets
 * more, octet j of them in bits 8j of tail: for a question's key
 * (wire_key_hash()), its name hashed where it lies, not copied.
 */
uint64_t	siphash_13_tail(const struct siphash_key *key, const void *in,
		    size_t len, uint64_t tail, size_t tlen);

/* Fill key with random octets (arc4random_buf: never fails). */
void		siphash_key_random(struct siphash_key *key);

/* Overwrite key so that it cannot be recovered from memory. */
void		siphash_key_clear(struct siphash_key *key);

#endif
