"""test_stats.py: end-to-end tests of the statistics and the metrics.

Each test starts a veiligd of its own (make_veiligd, conftest.py) on the
fake upstream, in a directory with two boards on 127.0.1.0/24 ("north")
and 127.0.2.0/24 ("south"), and a third, "probe", for 127.0.0.1 alone, so
that the factory's readiness probes are no query of no board; clients are
many loopback addresses (127.0.1.2, 127.0.1.3, ...; Linux answers the
whole of 127/8 on lo), and 127.0.3.0/24 is in no board.

What is checked: the JSON lines and /metrics carry the counts that were
sent, per board; a site blocked for fewer than k clients is named nowhere;
no client address is in any byte the daemon wrote (configuration
directory, statistics, its log, veiligctl's and the metrics' output); a
reload in the middle of an interval loses and misattributes nothing;
SIGTERM in the middle of an interval leaves whole lines and the day
summaries; after kill -9 every file still parses line by line; the query
log (log-queries: true) cuts addresses to /24.
"""

import json
import os
import re
import socket
import subprocess
import time
import urllib.error
import urllib.request

import dns.exception
import dns.message
import dns.query
import dns.rcode
import pytest

from e2elib import REPO, TABLES, free_port, retry, write_file

try:
    from prometheus_client.parser import text_string_to_metric_families
except ImportError:
    text_string_to_metric_families = None

K = 3                   # k-anonymity in these tests

NORTH = ["127.0.1.%d" % i for i in range(2, 14)]     # 12 clients
SOUTH = ["127.0.2.%d" % i for i in range(2, 7)]      # 5 clients
OUTSIDE = ["127.0.3.%d" % i for i in range(2, 4)]    # no board
BLOCKLIST = """# test_stats.py: the phishing list
bad-site.example
lonely-site.example
"""


class Stats:
    """A veiligd (e2elib.Daemon) with the two boards, and its files."""

    def __init__(self, d, top):
        self.d = d
        self.dir = top
        self.stats = os.path.join(top, "stats")
        self.port = d.port
        self.mport = d.mport

    def write(self, rel, text):
        write_file(os.path.join(self.dir, rel), text)

    def log(self):
        with open(self.d.err, "rb") as f:
            return f.read().decode("utf-8", "replace")

    def ctl(self, *args):
        return self.d.ctl(*args)

    def reload(self):
        rc, out, err = self.ctl("reload")
        assert rc == 0, "reload: %s %s" % (out, err)

    def stop(self):
        """SIGTERM: it must exit 0, with no sanitizer report."""
        why = self.d.stop_problem()
        assert why is None, why

    def kill(self):
        self.d.proc.kill()
        self.d.proc.wait(5)

    def restart(self):
        self.d.start()
        why = self.d.wait_ready()
        assert why is None, why

    def metrics(self):
        with urllib.request.urlopen("http://127.0.0.1:%d/metrics" %
                                    self.mport, timeout=10) as r:
            assert r.status == 200
            assert r.headers["Content-Type"].startswith("text/plain")
            return r.read().decode()

    def records(self, day=False):
        """Every record of every file of that kind, in file order."""
        out = []
        for name in sorted(os.listdir(self.stats)):
            if name.endswith(".day.jsonl") != day:
                continue
            out.extend(parse_lines(os.path.join(self.stats, name)))
        return out


@pytest.fixture
def daemon(make_veiligd, fake, tmp_path):
    """daemon(interval=, extra=): a veiligd with the two boards (and the
    probe board), statistics in its directory and metrics on a free port."""
    made = []

    def make(interval="1d", extra=""):
        top = str(tmp_path / ("d%d" % len(made)))
        os.makedirs(os.path.join(top, "boards"))
        write_file(os.path.join(top, "boards", "north.yaml"),
                   "name: Noord\nnetworks: [ 127.0.1.0/24 ]\n"
                   "block: [ phishing ]\n")
        write_file(os.path.join(top, "boards", "south.yaml"),
                   "name: Zuid\nnetworks: [ 127.0.2.0/24 ]\n"
                   "block: [ phishing ]\n")
        write_file(os.path.join(top, "boards", "probe.yaml"),
                   "name: Probe\nnetworks: [ 127.0.0.1/32 ]\n")
        write_file(os.path.join(top, "phishing.txt"), BLOCKLIST)
        port, mport = free_port(), free_port()
        conf = ("server: { listen: [ \"127.0.0.1:%d\" ], workers: 2 }\n"
                "upstreams: [ %s ]\n"
                "forward: { timeout: 500ms, attempts: 2 }\n"
                "lists:\n  phishing: { file: phishing.txt, format: domains }\n"
                "boards: boards/*.yaml\n"
                "filter: { tables: %s }\n"
                "control: %s\n"
                "stats: { dir: stats, interval: %s, k-anonymity: %d, "
                "node: e2e-node }\n"
                "metrics: 127.0.0.1:%d\n%s" % (
                    port, fake.ups[0], TABLES,
                    os.path.join(top, "ctl.sock"), interval, K, mport,
                    extra))
        d = make_veiligd("stats%d" % len(made), port=port, conf=conf,
                         conf_path=os.path.join(top, "veiligd.yaml"))
        d.mport = mport
        st = Stats(d, top)
        made.append(st)
        return st
    return make


def parse_lines(path):
    """A file's records: every line ends in a newline and is JSON."""
    with open(path, "rb") as f:
        data = f.read()
    assert data == b"" or data.endswith(b"\n"), "%s: last line cut" % path
    recs = []
    for n, line in enumerate(data.split(b"\n")[:-1], 1):
        try:
            rec = json.loads(line)
        except ValueError as e:
            raise AssertionError("%s:%d: not JSON (%s): %r" % (
                path, n, e, line[:200]))
        assert rec["v"] == 1, "%s:%d: version %r" % (path, n, rec["v"])
        assert list(rec)[:6] == ["v", "type", "node", "start", "end",
                                 "seconds"], "%s:%d: fields %s" % (
            path, n, list(rec)[:6])
        recs.append(rec)
    return recs


def ask(d, src, name, rdtype="A", timeout=3.0):
    q = dns.message.make_query(name, rdtype)
    return dns.query.udp(q, "127.0.0.1", port=d.port, source=src,
                         timeout=timeout)


def send_traffic(d):
    """The traffic every test sends; what each board should count."""
    for i, src in enumerate(NORTH):
        for _ in range(2):
            assert ask(d, src, "www.ok.fake.test.").rcode() == \
                dns.rcode.NOERROR
        assert ask(d, src, "x%d.bad-site.example." % i).rcode() == \
            dns.rcode.NXDOMAIN
    # one site for K - 1 clients only, however often
    for src in NORTH[:K - 1]:
        for _ in range(5):
            assert ask(d, src, "www.lonely-site.example.").rcode() == \
                dns.rcode.NXDOMAIN
    for src in SOUTH:
        assert ask(d, src, "www.ok.fake.test.", "TXT").rcode() == \
            dns.rcode.NOERROR
    for src in OUTSIDE:
        assert ask(d, src, "www.ok.fake.test.").rcode() == \
            dns.rcode.REFUSED
    return {
        "north": {"queries": 3 * len(NORTH) + 5 * (K - 1),
                  "blocked": len(NORTH) + 5 * (K - 1),
                  "A": 3 * len(NORTH) + 5 * (K - 1),
                  "clients": len(NORTH)},
        "south": {"queries": len(SOUTH), "blocked": 0, "TXT": len(SOUTH),
                  "clients": len(SOUTH)},
        "outside": len(OUTSIDE),
    }


def wait_folded(d, want):
    """
    Until veiligctl stats counts every query sent (want: board, or None
    for outside, -> queries) and its boards and outside no longer change
    from one read to the next, 0.2 s apart: a tick folds the workers'
    counts once a second, later on a loaded machine, and the fold goes in
    steps (the queries first, the clients and sites after); 15 s at most.
    """
    last = []

    def folded():
        rc, out, err = d.ctl("stats", "--json")
        assert rc == 0, err
        j = json.loads(out)
        got = {b["board"]: b["total"]["queries"] for b in j["boards"]}
        got[None] = j["outside"]["total"]
        for k, n in want.items():
            assert got.get(k) == n, "counted %s, sent %s" % (got, want)
        now = (j["boards"], j["outside"])
        same = last == [now]
        last[:] = [now]
        assert same, "the fold is still going on"
    retry("a tick folds the workers' counts", folded, 75, 0.2)


def board_sum(recs, board, key, sub=None):
    n = 0
    for r in recs:
        if r["type"] == "board" and r["board"] == board:
            v = r[key] if sub is None else r[key].get(sub, 0)
            n += v
    return n


def no_address_anywhere(d, extra_texts=()):
    """No client address in any byte written, nor in what was shown."""
    addrs = NORTH + SOUTH + OUTSIDE
    packed = [socket.inet_aton(a) for a in addrs]
    for root, _dirs, files in os.walk(d.dir):
        for name in files:
            path = os.path.join(root, name)
            if os.path.islink(path) or not os.path.isfile(path):
                continue
            with open(path, "rb") as f:
                data = f.read()
            for a, p in zip(addrs, packed):
                assert a.encode() not in data, "%s contains %s" % (path, a)
                assert p not in data, "%s contains %s packed" % (path, a)
    for text in extra_texts:
        for a in addrs:
            assert a not in text, "output contains %s" % a


def test_counts_and_k_anonymity(daemon):
    """Two boards' counts in the records, veiligctl and /metrics."""
    d = daemon()
    want = send_traffic(d)
    wait_folded(d, {"north": want["north"]["queries"],
                    "south": want["south"]["queries"],
                    None: want["outside"]})
    rc, ctl_text, err = d.ctl("stats")
    assert rc == 0, err
    rc, ctl_json, err = d.ctl("stats", "--json")
    assert rc == 0, err
    rc, ctl_north, err = d.ctl("stats", "--json", "north")
    assert rc == 0, err
    metrics = d.metrics()
    d.reload()          # writes the open interval
    recs = d.records()

    for board in ("north", "south"):
        w = want[board]
        assert board_sum(recs, board, "queries") == w["queries"], recs
        assert board_sum(recs, board, "answers", "blocked") == w["blocked"]
        names = [r for r in recs if r["type"] == "board" and
                 r["board"] == board]
        assert len(names) == 1
        r = names[0]
        assert r["node"] == "e2e-node"
        assert r["name"] == {"north": "Noord", "south": "Zuid"}[board]
        assert abs(r["clients"] - w["clients"]) <= 1, r["clients"]
        assert r["k"] == K
        assert sum(r["answers"].values()) == r["queries"]
        assert sum(r["qtype"].values()) == r["queries"]
        for key in ("A", "TXT"):
            if key in w:
                assert r["qtype"][key] == w[key]
    north = [r for r in recs if r["type"] == "board" and
             r["board"] == "north"][0]
    assert north["blocked"] == {"phishing": want["north"]["blocked"]}
    assert north["answers"]["forwarded"] == 1
    assert north["answers"]["cache"] == 2 * len(NORTH) - 1
    assert north["rcode"]["NXDOMAIN"] == want["north"]["blocked"]
    # the site of many clients is named (as a registrable domain), the
    # site of K - 1 clients is not
    assert north["top_blocked"] == [{
        "site": "bad-site.example", "category": "phishing",
        "count": len(NORTH), "clients_at_least": K}]
    assert north["top_blocked_hidden"] == {"sites": 1, "count": 5 * (K - 1)}
    lat = north["latency"]
    assert len(lat["le"]) == 16 and lat["le"][-1] == "+Inf"
    assert sum(lat["cache"]) + sum(lat["forwarded"]) == north["queries"]
    assert sum(lat["forwarded"]) == 1
    outside = [r for r in recs if r["type"] == "outside"]
    assert len(outside) == 1 and outside[0]["queries"] == want["outside"]
    assert outside[0]["refused"] == want["outside"]
    ups = [r for r in recs if r["type"] == "upstream"]
    assert len(ups) == 1 and ups[0]["queries"] >= 1
    assert ups[0]["answers"] >= 1 and sum(ups[0]["rtt"]["counts"]) >= 1

    # veiligctl: text and JSON
    assert 'board north "Noord"' in ctl_text
    assert "queries.udp " in ctl_text
    j = json.loads(ctl_json)
    jb = {b["board"]: b for b in j["boards"]}
    assert jb["north"]["interval"]["queries"] == want["north"]["queries"]
    assert jb["south"]["total"]["queries"] == want["south"]["queries"]
    assert j["daemon"]["queries.udp"] >= want["north"]["queries"]
    j = json.loads(ctl_north)
    assert [b["board"] for b in j["boards"]] == ["north"]
    rc, _, err = d.ctl("stats", "nowhere")
    assert rc == 1 and "no such board" in err
    rc, _, err = d.ctl("stats", "north", "south")
    assert rc == 1 and "usage: stats" in err

    # the metrics page, parsed by the Prometheus client's parser
    assert 'veilig_queries_total{board="north",type="A"} %d' % \
        want["north"]["A"] in metrics
    if text_string_to_metric_families is not None:
        fams = {f.name: f for f in text_string_to_metric_families(metrics)}
        samples = {(s.name, tuple(sorted(s.labels.items()))): s.value
                   for f in fams.values() for s in f.samples}
        assert samples[("veilig_queries_total", (("board", "south"),
                        ("type", "TXT")))] == want["south"]["TXT"]
        assert samples[("veilig_blocked_total", (("board", "north"),
                        ("category", "phishing")))] == want["north"]["blocked"]
        assert samples[("veilig_outside_queries_total", ())] == \
            want["outside"]
        assert fams["veilig_response_seconds"].type == "histogram"
        assert samples[("veilig_response_seconds_count", (
            ("board", "north"), ("path", "cache")))] == \
            want["north"]["queries"] - 1
        assert fams["veilig_upstream_rtt_seconds"].type == "histogram"
        for name in ("veilig_cache_entries", "veilig_policy_generation",
                     "process_resident_memory_bytes", "process_open_fds",
                     "process_start_time_seconds",
                     "veilig_config_last_reload_success"):
            assert name in fams, name
    # nothing names the site below k, anywhere
    for text in (ctl_text, ctl_json, ctl_north, metrics):
        assert "lonely" not in text
    d.stop()
    for root, _dirs, files in os.walk(d.stats):
        for name in files:
            with open(os.path.join(root, name), "rb") as f:
                assert b"lonely" not in f.read()
    no_address_anywhere(d, (ctl_text, ctl_json, ctl_north, metrics))


def test_metrics_http_errors(daemon):
    """Only GET /metrics and GET / (test_live.py); anything else is a
    clear HTTP error."""
    d = daemon()
    base = "http://127.0.0.1:%d" % d.mport
    for path, method, code in (("/x", "GET", 404), ("/metrics/x", "GET", 404),
                               ("/index.html", "GET", 404),
                               ("/metrics", "POST", 405),
                               ("/metrics", "DELETE", 405),
                               ("/", "POST", 405)):
        req = urllib.request.Request(base + path, method=method,
                                     data=b"x" if method == "POST" else None)
        with pytest.raises(urllib.error.HTTPError) as e:
            urllib.request.urlopen(req, timeout=10)
        assert e.value.code == code, (path, method)
        assert e.value.read().strip(), "no reason given"
        if code == 405:
            assert e.value.headers["Allow"] == "GET"
    # a scraper that connects and sends nothing stalls nobody
    idle = socket.create_connection(("127.0.0.1", d.mport))
    try:
        assert ask(d, NORTH[0], "www.ok.fake.test.").rcode() == \
            dns.rcode.NOERROR
        assert "veilig_queries_total" in d.metrics()
    finally:
        idle.close()


def test_reload_mid_interval(daemon):
    """Boards renumbered by a reload keep their counts."""
    d = daemon()
    for src in NORTH[:4]:
        ask(d, src, "www.ok.fake.test.")
    for src in SOUTH[:3]:
        ask(d, src, "www.ok.fake.test.")
    # a new board that sorts first, and south renamed: the boards'
    # positions change, their ids do not
    d.write("boards/aaa.yaml", "name: Eerste\nnetworks: [ 127.0.4.0/24 ]\n")
    d.write("boards/south.yaml", "name: Zuid, nieuw\nnetworks: "
            "[ 127.0.2.0/24 ]\n")
    d.reload()
    for src in NORTH[4:10]:
        ask(d, src, "www.ok.fake.test.")
    ask(d, "127.0.4.2", "www.ok.fake.test.")
    d.reload()
    recs = d.records()
    assert board_sum(recs, "north", "queries") == 10
    assert board_sum(recs, "south", "queries") == 3
    assert board_sum(recs, "aaa", "queries") == 1
    assert [r["name"] for r in recs if r["type"] == "board" and
            r["board"] == "south"] == ["Zuid"]
    rc, out, _ = d.ctl("stats", "--json", "south")
    assert json.loads(out)["boards"][0]["name"] == "Zuid, nieuw"


def test_sigterm_writes_whole_lines(daemon):
    """SIGTERM mid-interval: the interval and the day, whole lines."""
    d = daemon(interval="1h")
    want = send_traffic(d)
    d.stop()
    recs = d.records()
    assert board_sum(recs, "north", "queries") == want["north"]["queries"]
    days = d.records(day=True)
    day = [r for r in days if r["type"] == "day" and r["board"] == "north"]
    assert len(day) == 1
    assert day[0]["queries"] == want["north"]["queries"]
    assert day[0]["intervals"] == 1
    assert [s["site"] for s in day[0]["top_blocked"]] == ["bad-site.example"]
    assert [r["type"] for r in days].count("day-outside") == 1
    assert [r["type"] for r in days].count("day-upstream") == 1
    no_address_anywhere(d)


def test_kill9_leaves_parseable_files(daemon):
    """kill -9 while writing every second: every line still parses."""
    d = daemon(interval="1s")
    deadline = time.monotonic() + 4
    i = 0
    while time.monotonic() < deadline:
        ask(d, NORTH[i % len(NORTH)], "t%d.ok.fake.test." % i)
        i += 1
    d.kill()
    recs = d.records()      # parse_lines checks every line
    assert board_sum(recs, "north", "queries") <= i
    assert len(recs) >= 2
    # a new process appends to the same file; it still parses
    d.restart()
    ask(d, NORTH[0], "www.ok.fake.test.")
    d.stop()
    assert board_sum(d.records(), "north", "queries") >= 1
    no_address_anywhere(d)


def test_query_log_truncates(daemon):
    """log-queries: true logs queries with /24, never the address."""
    d = daemon(extra="log-queries: true\n")
    ask(d, NORTH[3], "www.ok.fake.test.")
    ask(d, SOUTH[1], "x.bad-site.example.")
    time.sleep(0.5)
    d.stop()
    log = d.log()
    assert "log-queries is on" in log
    assert re.search(r"query 127\.0\.1\.0/24 board north www\.ok\.fake\."
                     r"test\. type 1 rcode NOERROR", log), log
    assert "query 127.0.2.0/24 board south x.bad-site.example." in log
    for a in NORTH + SOUTH:
        assert a not in log


def test_outside_by_country_and_as(daemon, tmp_path):
    """Queries of no board: by country and AS (GeoIP), never by address."""
    geo = tmp_path / "geo"
    geo.mkdir()
    (geo / "country.spec").write_text("127.0.3.0/24 NL\n")
    (geo / "asn.spec").write_text("127.0.3.0/25 64496 Example NL B.V.\n")
    r = subprocess.run(["perl", os.path.join(REPO, "tests", "unit",
                                             "mkmmdb.pl"), str(geo),
                        str(geo / "country.spec"), str(geo / "asn.spec")],
                       capture_output=True, timeout=60)
    if r.returncode != 0:
        pytest.skip("mkmmdb.pl could not build the MMDB files: %s" %
                    r.stderr.decode()[-200:])
    d = daemon(extra="geoip: { country: %s, asn: %s }\n" % (
        geo / "country.mmdb", geo / "asn.mmdb"))
    for src in OUTSIDE:                     # NL, AS64496
        ask(d, src, "www.ok.fake.test.")
    ask(d, "127.0.3.200", "www.ok.fake.test.")     # NL, no AS
    ask(d, "127.0.6.1", "www.ok.fake.test.")       # neither
    wait_folded(d, {None: len(OUTSIDE) + 2})
    metrics = d.metrics()
    d.reload()
    out = [r for r in d.records() if r["type"] == "outside"]
    assert len(out) == 1, out
    assert out[0]["queries"] == len(OUTSIDE) + 2
    assert out[0]["country"] == {"NL": len(OUTSIDE) + 1, "unknown": 1}
    assert out[0]["as"] == {"64496": len(OUTSIDE), "unknown": 2}
    assert 'veilig_outside_country_queries_total{country="NL"} %d' % (
        len(OUTSIDE) + 1) in metrics
    d.stop()
    no_address_anywhere(d, (metrics,))
    for root, _dirs, files in os.walk(d.stats):
        for name in files:
            with open(os.path.join(root, name), "rb") as f:
                data = f.read()
            assert b"127.0.3.200" not in data and b"127.0.6.1" not in data
