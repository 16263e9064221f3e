/*
 * hitpath.c: the cost of a cache hit in instructions, for callgrind.
 *
 *     make build/hitpath
 *     valgrind --tool=callgrind --callgrind-out-file=/dev/null \
 *         build/hitpath KIND N
 *
 * answers N queries of one kind through query_answer(), as a worker
 * does, from a cache filled beforehand, under a policy like a school's:
 * one board on 127.0.0.0/16 blocking a domain list and an ip list, with
 * safe search, canaries and a deny list. KIND is
 *
 *     plain   www.example.nl A, answered with one A record
 *     cname   www.example.nl A, a CNAME to cdn.example.net and its A
 *     denied  www.example.nl A, a CNAME to cdn.denied.example (on the
 *             board's deny list): blocked on the hit
 *     blocked www.ads.example.nl A, under a name of the blocked list:
 *             blocked on the question, the cache not asked
 *
 * Setup (lists, cache) costs the same for every N, so the cost of one hit
 * is (Ir at 2N - Ir at N) / N; tests/bench/README.md says how to run it
 * against another tree. Wall clock on a shared 2-core machine is too noisy
 * for differences of a few per cent; instruction counts are not.
 */
#include <sys/socket.h>
#include <sys/stat.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <err.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>
#include <ldns/ldns.h>

#include "cache.h"
#include "conf.h"
#include "inflight.h"
#include "policy.h"
#include "query.h"
#include "snapshot.h"
#include "wire.h"

#include "qbench.h"

/* The configuration, compiled and published. */
static void
load(void)
{
	struct conf	*conf;
	struct snapshot	*snap;
	char		 path[256];

	qbench_mkdir("hitpath");
	qbench_put("lists/ads.txt", "ads.example.nl\ntracker.example\n");
	qbench_put("lists/badip.txt", "192.0.2.66\n");
	qbench_put("tables/safesearch.txt", "www.google.nl forcesafesearch.google.com\n");
	qbench_put("tables/canaries.txt", "use-application-dns.net\n");
	qbench_put("veiligd.yaml", "upstreams: [ \"127.0.0.1:9\" ]\n"
	    "boards: boards/*.yaml\n"
	    "filter: { tables: tables }\n"
	    "lists:\n"
	    "  ads: { file: lists/ads.txt, format: domains }\n"
	    "  badip: { file: lists/badip.txt, format: ip }\n");
	qbench_put("boards/school.yaml", "name: School\n"
	    "networks: [ 127.0.0.0/16 ]\n"
	    "block: [ ads, badip ]\n"
	    "safe-search: true\n"
	    "allow: [ allowed.example.nl ]\n"
	    "deny: [ denied.example ]\n");
	snprintf(path, sizeof path, "%s/veiligd.yaml", qbench_dir);
	if ((conf = conf_load(path, qbench_fatal, NULL)) == NULL ||
	    (snap = snapshot_new(conf, NULL, qbench_fatal, NULL)) == NULL)
		errx(1, "cannot load %s", path);
	snapshot_free(snapshot_swap(snap));
}

/* A query for name A with EDNS, ID id, into out; its length. */
static size_t
mkquery(const char *name, uint16_t id, uint8_t *out, size_t cap)
{
	ldns_pkt	*p;
	uint8_t		*wire = NULL;
	size_t		 len = 0;

	if (ldns_pkt_query_new_frm_str(&p, name, LDNS_RR_TYPE_A,
	    LDNS_RR_CLASS_IN, LDNS_RD) != LDNS_STATUS_OK)
		errx(1, "ldns");
	ldns_pkt_set_id(p, id);
	ldns_pkt_set_edns_udp_size(p, 1232);
	if (ldns_pkt2wire(&wire, p, &len) != LDNS_STATUS_OK || len > cap)
		errx(1, "ldns");
	memcpy(out, wire, len);
	free(wire);
	ldns_pkt_free(p);
	return (len);
}

/* Store the answer of the kind given for the query q, as fwd.c does. */
static void
fill(struct cache *cache, const struct wire_query *q, const char *kind)
{
	const struct snapshot	*snap;
	struct wire_scan	 sc;
	ldns_pkt		*p;
	ldns_rr			*rr;
	const char		*rrs[3] = { NULL, NULL, NULL };
	uint8_t			*wire = NULL;
	size_t			 len = 0, i;
	uint64_t		 mask;

	if (strcmp(kind, "plain") == 0)
		rrs[0] = "www.example.nl. 3600 IN A 192.0.2.1";
	else {
		rrs[0] = strcmp(kind, "cname") == 0 ?
		    "www.example.nl. 3600 IN CNAME cdn.example.net." :
		    "www.example.nl. 3600 IN CNAME cdn.denied.example.";
		rrs[1] = strcmp(kind, "cname") == 0 ?
		    "cdn.example.net. 3600 IN A 192.0.2.1" :
		    "cdn.denied.example. 3600 IN A 192.0.2.1";
	}
	if (ldns_pkt_query_new_frm_str(&p, "www.example.nl.", LDNS_RR_TYPE_A,
	    LDNS_RR_CLASS_IN, LDNS_RD) != LDNS_STATUS_OK)
		errx(1, "ldns");
	ldns_pkt_set_qr(p, 1);
	ldns_pkt_set_ra(p, 1);
	for (i = 0; rrs[i] != NULL; i++) {
		if (ldns_rr_new_frm_str(&rr, rrs[i], 0, NULL, NULL) !=
		    LDNS_STATUS_OK)
			errx(1, "ldns: %s", rrs[i]);
		ldns_pkt_push_rr(p, LDNS_SECTION_ANSWER, rr);
	}
	if (ldns_pkt2wire(&wire, p, &len) != LDNS_STATUS_OK ||
	    wire_scan(wire, len, &sc) != 0)
		errx(1, "answer");
	snapshot_read_begin();
	snap = snapshot_current();
	mask = policy_inspect(snap->policy, wire, sc.len);
	cache_insert(cache, q, wire, &sc, cache_now(), mask,
	    policy_generation(snap->policy));
	snapshot_read_end();
	free(wire);
	ldns_pkt_free(p);
}

int
main(int argc, char **argv)
{
	struct event_base	*base;
	struct cache		*cache;
	struct inflight		*inflight;
	struct query_ctx	*qc;
	struct query		 q;
	struct wire_query	 wq;
	struct sockaddr_in	*sin;
	uint8_t			 pkt[512], out[4096];
	size_t			 len;
	long			 n, i, sent = 0;

	if (argc != 3 || (strcmp(argv[1], "plain") != 0 &&
	    strcmp(argv[1], "cname") != 0 && strcmp(argv[1], "denied") != 0 &&
	    strcmp(argv[1], "blocked") != 0) ||
	    (n = strtol(argv[2], NULL, 10)) <= 0)
		errx(2, "usage: hitpath plain|cname|denied|blocked N");
	snapshot_thread_init();
	load();
	if ((base = event_base_new()) == NULL ||
	    (cache = cache_new(1 << 20, 0, 86400, 3600)) == NULL ||
	    (inflight = inflight_new()) == NULL ||
	    (qc = query_ctx_new(base, cache, inflight, NULL, 1, 64)) == NULL)
		errx(1, "out of memory");
	len = mkquery(strcmp(argv[1], "blocked") == 0 ? "www.ads.example.nl." :
	    "www.example.nl.", 1, pkt, sizeof pkt);
	if (wire_parse_query(pkt, len, &wq) != WIRE_OK)
		errx(1, "query");
	if (strcmp(argv[1], "blocked") != 0)
		fill(cache, &wq, argv[1]);

	memset(&q, 0, sizeof q);
	q.tp = &qbench_tp;
	sin = (struct sockaddr_in *)&q.from;
	sin->sin_family = AF_INET;
	sin->sin_addr.s_addr = htonl(0x7f000009);
	q.fromlen = sizeof *sin;
	for (i = 0; i < n; i++) {
		/* A new ID each time, as clients send. */
		pkt[0] = (uint8_t)(i >> 8);
		pkt[1] = (uint8_t)i;
		q.out = out;
		q.cap = sizeof out;
		snapshot_read_begin();
		if (query_answer(qc, snapshot_current(), &q, pkt, len) !=
		    QUERY_SEND)
			errx(1, "query %ld was not answered at once", i);
		snapshot_read_end();
		sent += (long)q.outlen;
	}
	printf("%s: %ld answers, %ld octets\n", argv[1], n, sent);

	query_ctx_free(qc);
	inflight_free(inflight);
	cache_free(cache);
	event_base_free(base);
	snapshot_free(snapshot_swap(NULL));
	qbench_rmdir();
	snapshot_thread_done();
	return (0);
}
