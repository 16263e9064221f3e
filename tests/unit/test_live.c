/*
 * test_live.c: the live page from a Prometheus text: boards ranked by
 * queries with their figures in Dutch, names escaped, categories and
 * countries by their Dutch names, upstream health, quantiles of the
 * histograms as histogram_quantile() has them; the kernel's drops beside
 * the queries, and "onbekend" when the text leaves them out; lines that
 * do not parse are skipped and counted; an empty text still gives a
 * whole page.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>
#include <event2/buffer.h>

#include "live.h"

/* What veiligd's /metrics says, cut down to what the page reads. */
static const char text[] =
"# HELP veilig_node_info The node's name.\n"
"# TYPE veilig_node_info gauge\n"
"veilig_node_info{node=\"ns1 <a>\"} 1\n"
"veilig_board_info{board=\"alpha\",name=\"Stichting \\\"A\\\" & <Co>\"} 1\n"
"veilig_board_info{board=\"beta\",name=\"B\\\\eta\"} 1\n"
"veilig_board_info{board=\"gone\",name=\"Weg\"} 1\n"
"veilig_board_configured{board=\"alpha\"} 1\n"
"veilig_board_configured{board=\"beta\"} 1\n"
"veilig_board_configured{board=\"gone\"} 0\n"
"veilig_queries_total{board=\"alpha\",type=\"A\"} 1000000\n"
"veilig_queries_total{board=\"alpha\",type=\"AAAA\"} 234567\n"
"veilig_queries_total{board=\"beta\",type=\"A\"} 2000000\n"
"veilig_queries_total{board=\"gone\",type=\"A\"} 7\n"
"veilig_answers_total{board=\"alpha\",answer=\"cache\"} 154321\n"
"veilig_answers_total{board=\"alpha\",answer=\"blocked\"} 4\n"
"veilig_answers_total{board=\"beta\",answer=\"cache\"} 1000000\n"
"veilig_blocked_total{board=\"alpha\",category=\"phishing\"} 3\n"
"veilig_blocked_total{board=\"alpha\",category=\"gambling\"} 1\n"
"veilig_safe_search_total{board=\"alpha\"} 12\n"
"veilig_limited_total{board=\"alpha\",limit=\"rrl_dropped\"} 6\n"
"veilig_limited_total{board=\"alpha\",limit=\"failed\"} 2\n"
"veilig_clients{board=\"alpha\"} 1500\n"
"veilig_clients_today{board=\"alpha\"} 2500\n"
"veilig_response_seconds_bucket{board=\"alpha\",path=\"cache\",le=\"0.0001\"} 10\n"
"veilig_response_seconds_bucket{board=\"alpha\",path=\"cache\",le=\"0.00025\"} 20\n"
"veilig_response_seconds_bucket{board=\"alpha\",path=\"cache\",le=\"+Inf\"} 20\n"
"veilig_response_seconds_sum{board=\"alpha\",path=\"cache\"} 0.002\n"
"veilig_response_seconds_count{board=\"alpha\",path=\"cache\"} 20\n"
"veilig_response_seconds_bucket{board=\"alpha\",path=\"upstream\",le=\"0.0001\"} 0\n"
"veilig_response_seconds_bucket{board=\"alpha\",path=\"upstream\",le=\"0.00025\"} 0\n"
"veilig_response_seconds_bucket{board=\"alpha\",path=\"upstream\",le=\"+Inf\"} 20\n"
"veilig_outside_queries_total 9\n"
"veilig_outside_limited_total{limit=\"rrl_slipped\"} 4\n"
"veilig_tcp_connections_total{result=\"client_limit\"} 3\n"
"veilig_tcp_deadline_closed_total 11\n"
"veilig_udp_receive_drops_total 1234\n"
"veilig_udp_receive_queue_bytes 2048\n"
"veilig_outside_country_queries_total{country=\"NL\"} 6\n"
"veilig_outside_country_queries_total{country=\"unknown\"} 3\n"
"veilig_upstream_queries_total{upstream=\"192.0.2.53:53\",transport=\"udp\"} 90\n"
"veilig_upstream_queries_total{upstream=\"192.0.2.53:53\",transport=\"tcp\"} 10\n"
"veilig_upstream_answers_total{upstream=\"192.0.2.53:53\"} 95\n"
"veilig_upstream_timeouts_total{upstream=\"192.0.2.53:53\"} 5\n"
"veilig_upstream_rtt_seconds_bucket{upstream=\"192.0.2.53:53\",le=\"0.01\"} 50\n"
"veilig_upstream_rtt_seconds_bucket{upstream=\"192.0.2.53:53\",le=\"0.025\"} 95\n"
"veilig_upstream_rtt_seconds_bucket{upstream=\"192.0.2.53:53\",le=\"+Inf\"} 95\n"
"veilig_upstream_rtt_seconds_sum{upstream=\"192.0.2.53:53\"} 0.95\n"
"veilig_upstream_rtt_seconds_count{upstream=\"192.0.2.53:53\"} 95\n"
"veilig_upstream_up{upstream=\"192.0.2.53:53\"} 1\n"
"veilig_upstream_up{upstream=\"[2001:db8::53]:53\"} 0\n"
"veilig_upstream_configured{upstream=\"192.0.2.53:53\"} 1\n"
"veilig_upstream_configured{upstream=\"[2001:db8::53]:53\"} 1\n"
"veilig_cache_entries 4321\n"
"veilig_cache_bytes 1572864\n"
"veilig_cache_max_bytes 268435456\n"
"veilig_policy_generation 3\n"
"veilig_list_entries{list=\"gambling\"} 12345\n"
"veilig_config_last_reload_timestamp_seconds 1700000000\n"
"veilig_config_last_reload_success 0\n"
"process_start_time_seconds 1699990000\n";

/* The page for t (a copy: the text is changed in place). */
static char *
page(const char *t, time_t now)
{
	struct evbuffer	*out = evbuffer_new();
	char		*copy = strdup(t), *html;

	assert_non_null(out);
	assert_non_null(copy);
	assert_int_equal(live_page(copy, strlen(copy), now, out), 0);
	html = strndup((char *)evbuffer_pullup(out, -1),
	    evbuffer_get_length(out));
	evbuffer_free(out);
	free(copy);
	assert_non_null(html);
	return (html);
}

/* The text of the table row whose opening tag holds tag. */
static char *
row(const char *html, const char *tag)
{
	const char	*p = strstr(html, tag), *end;

	assert_non_null(p);
	end = strstr(p, "</tr>");
	assert_non_null(end);
	return (strndup(p, (size_t)(end - p)));
}

static void
test_boards(void **state)
{
	char	*html, *r;

	(void)state;
	html = page(text, 1700000000);
	/* A page of its own: no script, nothing loaded, Dutch. */
	assert_non_null(strstr(html, "<html lang=\"nl\">"));
	assert_null(strstr(html, "<script"));
	assert_null(strstr(html, "://"));
	assert_non_null(strstr(html, "content=\"default-src 'none'; "
	    "style-src 'unsafe-inline'\""));
	assert_non_null(strstr(html, "<meta http-equiv=\"refresh\" "
	    "content=\"5\">"));
	assert_non_null(strstr(html, "<h1>Live: ns1 &lt;a&gt;</h1>"));
	/* Most queries first; the board no longer configured says so. */
	assert_true(strstr(html, "data-board=\"beta\"") <
	    strstr(html, "data-board=\"alpha\""));
	assert_true(strstr(html, "data-board=\"alpha\"") <
	    strstr(html, "data-board=\"gone\""));
	r = row(html, "data-board=\"alpha\"");
	assert_non_null(strstr(r, "<strong>Stichting &quot;A&quot; &amp; "
	    "&lt;Co&gt;</strong>"));
	assert_non_null(strstr(r, "data-k=\"queries\" data-v=\"1234567\">"
	    "1.234.567<"));
	assert_non_null(strstr(r, "data-k=\"blocked\" data-v=\"4\">4<"));
	assert_non_null(strstr(r, "data-k=\"cache\">12,5\xc2\xa0%<"));
	assert_non_null(strstr(r, "data-k=\"safe\" data-v=\"12\">12<"));
	assert_non_null(strstr(r, "data-k=\"limited\" data-v=\"8\">8<"));
	assert_non_null(strstr(r, "data-k=\"clients\" data-v=\"1500\">"
	    "1.500<"));
	assert_non_null(strstr(r, "data-k=\"today\" data-v=\"2500\">2.500<"));
	/* Categories by their plain names, most first. */
	assert_non_null(strstr(r, "Phishing 3 · Gokken 1"));
	/* Cache and upstream answers together: 20 below 0,25 ms, 20 above. */
	assert_non_null(strstr(r, "data-k=\"p50\">0,25\xc2\xa0ms<"));
	assert_non_null(strstr(r, "data-k=\"p95\">>\xc2\xa0" "0,25\xc2\xa0"
	    "ms<"));
	free(r);
	r = row(html, "data-board=\"beta\"");
	assert_non_null(strstr(r, "<strong>B\\eta</strong>"));
	assert_non_null(strstr(r, "data-k=\"p50\">–<"));
	free(r);
	r = row(html, "data-board=\"gone\"");
	assert_non_null(strstr(r, "niet meer in de configuratie"));
	free(r);
	/* The key figures add the boards up. */
	assert_non_null(strstr(html, "id=\"kpi-vragen\"><div class=\"l\">"
	    "Vragen</div><div class=\"v\" data-v=\"3234574\">3.234.574<"));
	assert_non_null(strstr(html, "en 9 van buiten de besturen"));
	assert_non_null(strstr(html, "REFUSED (4 ingekort door een limiet)"));
	assert_non_null(strstr(html, "3 boven de limiet per apparaat"));
	assert_non_null(strstr(html, "11 verbindingen gesloten"));
	/* The kernel's drops: under the queries' card, and in the table. */
	assert_non_null(strstr(html, "en 9 van buiten de besturen (geweigerd)"
	    "; <span class=\"bad\">1.234 weggegooid: UDP-buffer vol</span>"));
	assert_non_null(strstr(html, "<span id=\"kernel-weggegooid\" "
	    "data-v=\"1234\" class=\"bad\">1.234</span> UDP-vragen"));
	assert_non_null(strstr(html, "nu 2,0\xc2\xa0KiB in de buffer"));
	free(html);
}

static void
test_upstreams_and_daemon(void **state)
{
	char	*html, *r;

	(void)state;
	html = page(text, 1700000000);
	r = row(html, "data-upstream=\"192.0.2.53:53\"");
	assert_non_null(strstr(r, "data-up=\"1\"><span class=\"ok\">"
	    "bereikbaar"));
	assert_non_null(strstr(r, "data-k=\"queries\" data-v=\"100\">100<"));
	assert_non_null(strstr(r, "data-k=\"tcp\" data-v=\"10\">10<"));
	assert_non_null(strstr(r, "data-k=\"timeouts\" data-v=\"5\">5<"));
	assert_non_null(strstr(r, "data-k=\"rtt\">10\xc2\xa0ms<"));
	/* rank 90.25 of 95: 40.25 of the 45 between 10 and 25 ms. */
	assert_non_null(strstr(r, "data-k=\"rtt95\">23,42\xc2\xa0ms<"));
	free(r);
	r = row(html, "data-upstream=\"[2001:db8::53]:53\"");
	assert_non_null(strstr(r, "onbereikbaar"));
	free(r);
	assert_non_null(strstr(html, "Upstreams bereikbaar <span "
	    "class=\"bad\">(niet alle)</span></div><div class=\"v\" "
	    "data-v=\"1\">1 van 2<"));
	assert_non_null(strstr(html, "geweigerd, de vorige geldt"));
	assert_non_null(strstr(html, "<td>Nederland</td>"));
	assert_non_null(strstr(html, "<td>onbekend</td>"));
	assert_non_null(strstr(html, "4.321 antwoorden, 1,5\xc2\xa0MiB van "
	    "256\xc2\xa0MiB"));
	assert_non_null(strstr(html, "Gokken: 12.345"));
	assert_non_null(strstr(html, "(2 u 46 min)"));
	assert_null(strstr(html, "onleesbaar\""));
	free(html);
}

static void
test_bad_lines(void **state)
{
	static const char bad[] =
	    "veilig_board_info{board=\"x\",name=\"X\"} 1\n"
	    "veilig_queries_total{board=\"x\",type=\"A\"} 5\n"
	    "veilig_queries_total{board=\"x\" 5\n"		/* no } */
	    "veilig_queries_total{board=\"x\",type=\"A} 5\n"	/* no " */
	    "{board=\"x\"} 5\n"					/* no name */
	    "veilig_queries_total 5x\n"				/* value */
	    "veilig_queries_total\n"				/* none */
	    "\n# a comment\n"
	    "veilig_queries_total{board=\"x\",type=\"AAAA\"} 2 1700000000";
	char	*html;

	(void)state;
	html = page(bad, 1700000000);
	assert_non_null(strstr(html, "data-k=\"queries\" data-v=\"7\">7<"));
	assert_non_null(strstr(html, "id=\"onleesbaar\" data-v=\"5\""));
	assert_non_null(strstr(html, "</html>\n"));
	free(html);
	/* Figures no integer holds, and none at all: shown, not undefined
	   behaviour (UBSan in make asan checks the conversions). */
	html = page("veilig_board_info{board=\"x\",name=\"X\"} 1\n"
	    "veilig_queries_total{board=\"x\",type=\"A\"} 1e300\n"
	    "veilig_answers_total{board=\"x\",answer=\"blocked\"} NaN\n"
	    "veilig_clients{board=\"x\"} -Inf\n"
	    "veilig_upstream_up{upstream=\"u\"} 1\n"
	    "veilig_upstream_rtt_seconds_bucket{upstream=\"u\",le=\"1e300\"} "
	    "5\n"
	    "veilig_upstream_rtt_seconds_bucket{upstream=\"u\",le=\"+Inf\"} 5\n"
	    "veilig_upstream_rtt_seconds_sum{upstream=\"u\"} 1e300\n"
	    "veilig_upstream_rtt_seconds_count{upstream=\"u\"} 1\n"
	    "veilig_cache_bytes 1e300\n"
	    "process_cpu_seconds_total 1e300\n"
	    "process_start_time_seconds -1e300\n"
	    "veilig_config_last_reload_timestamp_seconds 1e300\n",
	    1700000000);
	assert_non_null(strstr(html, "data-k=\"queries\" "
	    "data-v=\"18446744073709551615\""));
	assert_non_null(strstr(html, "data-k=\"blocked\" data-v=\"0\">0<"));
	assert_non_null(strstr(html, "data-k=\"clients\" data-v=\"0\">0<"));
	assert_non_null(strstr(html, "</html>\n"));
	free(html);
	/* Nothing at all: a whole page that says so. */
	html = page("", 1700000000);
	assert_non_null(strstr(html, "Nog geen besturen."));
	/* Left out of the text (the kernel would not say): not a 0. */
	assert_non_null(strstr(html, "<span id=\"kernel-weggegooid\">"
	    "onbekend</span>"));
	assert_null(strstr(html, "weggegooid: UDP-buffer vol"));
	assert_non_null(strstr(html, "Nog geen vragen aan upstreams."));
	assert_non_null(strstr(html, "</html>\n"));
	free(html);
}

static void
test_quantile(void **state)
{
	static const double	le[] = { 0.1, 0.25, 0.5, 1.0 / 0.0 };
	static const double	cum[] = { 10, 20, 20, 20 };
	static const double	tail[] = { 0, 0, 1, 5 };
	static const double	none[] = { 0, 0, 0, 0 };
	int			above;

	(void)state;
	assert_true(live_quantile(0.5, le, cum, 4, &above) == 0.1);
	assert_false(above);
	assert_true(live_quantile(0.75, le, cum, 4, &above) - 0.175 < 1e-12 &&
	    live_quantile(0.75, le, cum, 4, &above) - 0.175 > -1e-12);
	/* Above the last bound: that bound, marked. */
	assert_true(live_quantile(0.5, le, tail, 4, &above) == 0.5);
	assert_true(above);
	assert_true(live_quantile(0.1, le, tail, 4, &above) > 0.25);
	assert_false(above);
	assert_true(live_quantile(0.5, le, none, 4, &above) == -1);
	assert_true(live_quantile(0.5, le, cum, 0, &above) == -1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_boards),
		cmocka_unit_test(test_upstreams_and_daemon),
		cmocka_unit_test(test_bad_lines),
		cmocka_unit_test(test_quantile),
	};

	/* The times on the page are local: make them the same everywhere. */
	setenv("TZ", "Europe/Amsterdam", 1);
	tzset();
	return (cmocka_run_group_tests(tests, NULL, NULL));
}
