/*
 * conf.h: veiligd.yaml, read with libyaml and checked against one table.
 *
 * conf.c holds a single table of keys (path, type, range, default, where
 * the value goes, help text). That table drives parsing, validation, the
 * defaults and conf_print(). Every error in a file is reported, each as
 * "file:line:column: message" through the error callback, in one pass;
 * unknown keys, wrong types, values out of range, duplicate keys and
 * missing required keys are all errors. Nothing is silently ignored.
 *
 * The file format (every key, its default and meaning) is in
 * doc/veiligd.yaml.5 and conf/veiligd.yaml.
 *
 * Ownership: conf_load() returns a struct conf owned by the caller, freed
 * with conf_free(). Nothing in it points outside itself.
 */
#ifndef VEILIG_CONF_H
#define VEILIG_CONF_H

#include <sys/socket.h>

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* An address and port: a listen address or an upstream. */
struct conf_sockaddr {
	struct sockaddr_storage	ss;
	socklen_t		len;
};

/* A network in CIDR form: family AF_INET or AF_INET6, host bits zero. */
struct conf_net {
	int		family;
	uint8_t		addr[16];	/* 4 used for AF_INET */
	unsigned	prefix;		/* 0..32 or 0..128 */
};

struct conf {
	char			*path;		/* file it was read from */

	/* server: */
	struct conf_sockaddr	*listen;	/* default 127.0.0.1:53, [::1]:53 */
	size_t			 nlisten;
	unsigned		 workers;	/* 0 means auto: one per core */
	uint32_t		 tcp_idle_ms;	/* default 10000 */
	unsigned		 tcp_max_conns;	/* per daemon, default 1024 */
	unsigned		 tcp_max_queries; /* in flight per connection,
						   default 32 */

	/* access: networks that may query; default loopback only */
	struct conf_net		*access;
	size_t			 naccess;

	/* upstreams: required, at least one; default port 53 */
	struct conf_sockaddr	*upstreams;
	size_t			 nupstreams;

	/* forward: */
	uint32_t		 fwd_timeout_ms; /* per attempt, default 1000 */
	unsigned		 fwd_attempts;	/* tries in all, default 3 */

	/* cache: */
	uint64_t		 cache_size;	/* bytes, default 256 MiB */
	uint32_t		 serve_stale;	/* seconds, default 86400, 0 off */
	uint32_t		 max_ttl;	/* seconds, default 86400 */
	uint32_t		 max_neg_ttl;	/* seconds, default 3600 */
};

/* Called once per error with "file:line:column: message". */
typedef void (*conf_error_cb)(void *arg, const char *msg);

/*
 * Read and check the file at path. Returns the configuration, or NULL
 * after reporting every error found through errcb (a file that cannot be
 * opened is one error naming the file).
 */
struct conf	*conf_load(const char *path, conf_error_cb errcb, void *arg);

/* As conf_load(), from a string; name stands for the file in errors. */
struct conf	*conf_load_string(const char *name, const char *text,
		    conf_error_cb errcb, void *arg);

void		 conf_free(struct conf *);

/* Write the effective configuration (defaults filled in) as YAML. */
void		 conf_print(const struct conf *, FILE *);

/* Write "ADDR#PORT"-free text for sa: "192.0.2.1:53" or "[2001:db8::1]:53". */
char		*conf_sockaddr_str(const struct conf_sockaddr *sa, char *out,
		    size_t cap);

#endif
