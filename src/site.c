/*
 * site.c: registrable domains through libpsl, remembered per name.
 *
 * psl_latest() picks the newer of libpsl's built-in list and the one in
 * /usr/share/publicsuffix (kept current by Debian's publicsuffix
 * package); it is read once, when the statistics start.
 *
 * The memo is a chained hash table keyed by SipHash of the wire name
 * (the names are chosen by clients, so the key is random), holding at
 * most SITE_MAX names; when full it is emptied and filled again, which
 * costs a microsecond per name for a while and bounds the memory.
 */
#include <stdlib.h>
#include <string.h>

#include <libpsl.h>

#include "siphash.h"
#include "site.h"
#include "wire.h"

#define SITE_MAX		65536	/* names remembered */
#define SITE_BUCKETS		16384	/* a power of two */
#define SITE_TEXT_MAX		(4 * WIRE_MAX_NAME + 2)

struct site_entry {
	struct site_entry	*next;
	uint64_t		 hash;
	char			*site;		/* in the same allocation */
	uint16_t		 len;
	uint8_t			 lname[];
};

struct site {
	const psl_ctx_t		*psl;
	psl_ctx_t		*latest;	/* freed by us; NULL: built in */
	struct siphash_key	 key;
	struct site_entry	**buckets;
	size_t			 n;
};

struct site *
site_new(void)
{
	struct site	*s;

	if ((s = calloc(1, sizeof *s)) == NULL)
		return (NULL);
	if ((s->buckets = calloc(SITE_BUCKETS, sizeof *s->buckets)) == NULL) {
		free(s);
		return (NULL);
	}
	/* The list on disk if it is newer, else the one built in. */
	s->latest = psl_latest(NULL);
	s->psl = s->latest != NULL ? s->latest : psl_builtin();
	siphash_key_random(&s->key);
	return (s);
}

/* Forget every name. */
static void
site_clear(struct site *s)
{
	struct site_entry	*e, *next;
	size_t			 i;

	for (i = 0; i < SITE_BUCKETS; i++) {
		for (e = s->buckets[i]; e != NULL; e = next) {
			next = e->next;
			free(e);
		}
		s->buckets[i] = NULL;
	}
	s->n = 0;
}

void
site_free(struct site *s)
{
	if (s == NULL)
		return;
	site_clear(s);
	free(s->buckets);
	psl_free(s->latest);
	free(s);
}

/* Work out the site of lname into out (SITE_TEXT_MAX octets). */
static void
site_reduce(const struct site *s, const uint8_t *lname, size_t len,
    char *out)
{
	const char	*reg;
	size_t		 n;

	wire_name_str(lname, len, out, SITE_TEXT_MAX);
	/* "example.com." -> "example.com"; the root stays ".". */
	n = strlen(out);
	if (n > 1 && out[n - 1] == '.')
		out[--n] = '\0';
	if (n <= 1)
		return;
	reg = psl_registrable_domain(s->psl, out);
	if (reg != NULL && reg != out)
		memmove(out, reg, strlen(reg) + 1);
}

const char *
site_of(struct site *s, const uint8_t *lname, size_t len)
{
	struct site_entry	*e;
	uint64_t		 h;
	char			 text[SITE_TEXT_MAX];
	size_t			 b, tlen;

	if (len > WIRE_MAX_NAME)
		len = WIRE_MAX_NAME;
	h = siphash_13(&s->key, lname, len);
	b = h & (SITE_BUCKETS - 1);
	for (e = s->buckets[b]; e != NULL; e = e->next)
		if (e->hash == h && e->len == len &&
		    memcmp(e->lname, lname, len) == 0)
			return (e->site);

	site_reduce(s, lname, len, text);
	if (s->n >= SITE_MAX)
		site_clear(s);
	tlen = strlen(text);
	if ((e = malloc(sizeof *e + len + tlen + 1)) == NULL)
		return (NULL);
	e->hash = h;
	e->len = (uint16_t)len;
	memcpy(e->lname, lname, len);
	e->site = (char *)e->lname + len;
	memcpy(e->site, text, tlen + 1);
	e->next = s->buckets[b];
	s->buckets[b] = e;
	s->n++;
	return (e->site);
}

size_t
site_size(const struct site *s)
{
	return (s->n);
}
