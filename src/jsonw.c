/*
 * jsonw.c: JSON lines written straight into a growable buffer, as
 * jansson's json_dumps() would write them (see jsonw.h for why and what).
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "jsonw.h"

#define JSONW_FIRST	65536	/* the buffer's first size */

/* Room for n more octets; -1 (the record failed) if there is none. */
static int
jsonw_reserve(struct jsonw *w, size_t n)
{
	size_t	 cap;
	char	*p;

	if (w->failed)
		return (-1);
	if (w->cap - w->len >= n)
		return (0);
	cap = w->cap != 0 ? w->cap : JSONW_FIRST;
	while (cap - w->len < n) {
		if (cap > SIZE_MAX / 2)
			goto fail;
		cap *= 2;
	}
	if ((p = realloc(w->buf, cap)) == NULL)
		goto fail;
	w->buf = p;
	w->cap = cap;
	return (0);
fail:
	w->failed = 1;
	return (-1);
}

/* Whether s[0..len) is printable ASCII but '"' and '\\': no escape. */
static int
jsonw_plain(const char *s, size_t len)
{
	const unsigned char	*p = (const unsigned char *)s;
	size_t			 i;

	for (i = 0; i < len; i++)
		if (p[i] < 0x20 || p[i] > 0x7e || p[i] == '"' || p[i] == '\\')
			return (0);
	return (1);
}

/* Append n octets of s. */
static void
jsonw_put(struct jsonw *w, const char *s, size_t n)
{
	if (jsonw_reserve(w, n) == -1)
		return;
	memcpy(w->buf + w->len, s, n);
	w->len += n;
}

int
jsonw_utf8(const char *s, size_t len)
{
	const unsigned char	*p = (const unsigned char *)s;
	const unsigned char	*e = p + len;
	unsigned char		 lo, hi;
	size_t			 n;

	while (p < e) {
		if (*p < 0x80) {
			p++;
			continue;
		}
		/*
		 * The second octet's range rules out overlong forms (E0,
		 * F0), surrogates (ED) and code points past U+10FFFF (F4).
		 */
		lo = 0x80;
		hi = 0xbf;
		if (*p >= 0xc2 && *p <= 0xdf)
			n = 1;
		else if (*p >= 0xe0 && *p <= 0xef) {
			n = 2;
			if (*p == 0xe0)
				lo = 0xa0;
			else if (*p == 0xed)
				hi = 0x9f;
		} else if (*p >= 0xf0 && *p <= 0xf4) {
			n = 3;
			if (*p == 0xf0)
				lo = 0x90;
			else if (*p == 0xf4)
				hi = 0x8f;
		} else
			return (0);
		if ((size_t)(e - p) <= n || p[1] < lo || p[1] > hi)
			return (0);
		for (p += 2; --n > 0; p++)
			if (*p < 0x80 || *p > 0xbf)
				return (0);
	}
	return (1);
}

/*
 * s (len octets, UTF-8) quoted. Only '"', '\\' and control characters
 * are escaped: jansson escapes '/' only with JSON_ESCAPE_SLASH and
 * non-ASCII only with JSON_ENSURE_ASCII, and DEL (0x7f) never.
 */
static void
jsonw_quote(struct jsonw *w, const char *s, size_t len)
{
	static const char	 hex[] = "0123456789ABCDEF";
	const unsigned char	*p = (const unsigned char *)s;
	const unsigned char	*e = p + len;
	char			*o;

	/* At worst every octet as \u00XX. */
	if (len > (SIZE_MAX - 2) / 6 || jsonw_reserve(w, 6 * len + 2) == -1) {
		w->failed = 1;
		return;
	}
	o = w->buf + w->len;
	*o++ = '"';
	for (; p < e; p++) {
		if (*p >= 0x20 && *p != '"' && *p != '\\') {
			*o++ = (char)*p;
			continue;
		}
		*o++ = '\\';
		switch (*p) {
		case '"':
		case '\\':
			*o++ = (char)*p;
			break;
		case '\b':
			*o++ = 'b';
			break;
		case '\f':
			*o++ = 'f';
			break;
		case '\n':
			*o++ = 'n';
			break;
		case '\r':
			*o++ = 'r';
			break;
		case '\t':
			*o++ = 't';
			break;
		default:
			*o++ = 'u';
			*o++ = '0';
			*o++ = '0';
			*o++ = hex[*p >> 4];
			*o++ = hex[*p & 0xf];
			break;
		}
	}
	*o++ = '"';
	w->len = (size_t)(o - w->buf);
}

/*
 * The comma before a member and its key (none in an array or for the
 * record): 0, or -1 with nothing written when the key is not UTF-8 (as
 * json_object_set_new() refuses it) or the record failed.
 */
static int
jsonw_member(struct jsonw *w, const char *key)
{
	size_t	 klen = 0;
	char	*o;

	if (w->failed)
		return (-1);
	if (key != NULL && jsonw_plain(key, klen = strlen(key))) {
		/* Most keys: the record's own, in one copy. */
		if (jsonw_reserve(w, klen + 4) == -1)
			return (-1);
		o = w->buf + w->len;
		if (w->more & (1U << w->depth))
			*o++ = ',';
		*o++ = '"';
		memcpy(o, key, klen);
		o += klen;
		*o++ = '"';
		*o++ = ':';
		w->len = (size_t)(o - w->buf);
		w->more |= 1U << w->depth;
		return (0);
	}
	if (key != NULL && !jsonw_utf8(key, klen))
		return (-1);
	if (w->more & (1U << w->depth))
		jsonw_put(w, ",", 1);
	w->more |= 1U << w->depth;
	if (key != NULL) {
		jsonw_quote(w, key, klen);
		jsonw_put(w, ":", 1);
	}
	return (w->failed ? -1 : 0);
}

void
jsonw_begin(struct jsonw *w)
{
	w->mark = w->len;
	w->depth = 0;
	w->more = 0;
	w->failed = 0;
}

int
jsonw_end(struct jsonw *w)
{
	if (w->depth == 0)
		jsonw_put(w, "\n", 1);
	if (w->failed || w->depth != 0) {
		w->len = w->mark;
		w->failed = 0;
		w->depth = 0;
		return (-1);
	}
	return (0);
}

void
jsonw_clear(struct jsonw *w)
{
	free(w->buf);
	memset(w, 0, sizeof *w);
}

void
jsonw_open(struct jsonw *w, const char *key, char c)
{
	if (w->depth + 1 >= JSONW_DEPTH) {
		w->failed = 1;
		return;
	}
	/* A key jansson would refuse: its whole value would go, not here. */
	if (jsonw_member(w, key) == -1) {
		w->failed = 1;
		return;
	}
	jsonw_put(w, &c, 1);
	w->depth++;
	w->more &= ~(1U << w->depth);
}

void
jsonw_close(struct jsonw *w, char c)
{
	if (w->depth == 0) {
		w->failed = 1;
		return;
	}
	w->depth--;
	jsonw_put(w, &c, 1);
}

void
jsonw_int(struct jsonw *w, const char *key, int64_t v)
{
	char		 tmp[24], *p = tmp + sizeof tmp;
	uint64_t	 u = v < 0 ? -(uint64_t)v : (uint64_t)v;

	/* printf("%lld") is most of a record's time if used for each. */
	do {
		*--p = (char)('0' + u % 10);
		u /= 10;
	} while (u != 0);
	if (v < 0)
		*--p = '-';
	if (jsonw_member(w, key) == 0)
		jsonw_put(w, p, (size_t)(tmp + sizeof tmp - p));
}

void
jsonw_real(struct jsonw *w, const char *key, double v)
{
	char	 tmp[64], *e, *in, *out;
	int	 n;

	/* json_real() refuses them: the member is left out. */
	if (!isfinite(v))
		return;
	/* The daemon never calls setlocale(): the decimal point is '.'. */
	n = snprintf(tmp, sizeof tmp - 2, "%.6g", v);
	if (n < 0 || (size_t)n >= sizeof tmp - 2)
		return;
	/* A real that reads as one, not as an integer. */
	if (strchr(tmp, '.') == NULL && strchr(tmp, 'e') == NULL) {
		memcpy(tmp + n, ".0", 3);
		n += 2;
	}
	/* 1e+06 as 1e6, 1e-05 as 1e-5. */
	if ((e = strchr(tmp, 'e')) != NULL) {
		in = out = e + 1;
		if (*in == '-')
			*out++ = *in++;
		else if (*in == '+')
			in++;
		while (*in == '0')
			in++;
		memmove(out, in, strlen(in) + 1);
		n = (int)strlen(tmp);
	}
	if (jsonw_member(w, key) == 0)
		jsonw_put(w, tmp, (size_t)n);
}

int
jsonw_string(struct jsonw *w, const char *key, const char *s)
{
	size_t	 len;
	int	 plain;

	if (w->failed || s == NULL)
		return (-1);
	len = strlen(s);
	if (!(plain = jsonw_plain(s, len)) && !jsonw_utf8(s, len))
		return (-1);
	if (jsonw_member(w, key) == -1)
		return (-1);
	if (!plain)
		jsonw_quote(w, s, len);
	else if (jsonw_reserve(w, len + 2) == 0) {
		w->buf[w->len++] = '"';
		memcpy(w->buf + w->len, s, len);
		w->len += len;
		w->buf[w->len++] = '"';
	}
	return (w->failed ? -1 : 0);
}

void
jsonw_raw(struct jsonw *w, const char *key, const char *text, size_t len)
{
	if (jsonw_member(w, key) == 0)
		jsonw_put(w, text, len);
}

void
jsonw_members(struct jsonw *w, const char *text, size_t len)
{
	if (w->failed || len == 0)
		return;
	if (w->more & (1U << w->depth))
		jsonw_put(w, ",", 1);
	w->more |= 1U << w->depth;
	jsonw_put(w, text, len);
}
