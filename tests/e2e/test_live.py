"""test_live.py: the live page, the Grafana dashboard, and the pages of
veilig-report from two real nodes, all in headless Chromium (cdp.py).

Each test starts its own veiligds (make_veiligd, conftest.py) on the fake
upstream, with two boards of many loopback clients, "north" (127.0.1.0/24)
and "south" (127.0.2.0/24), a "probe" board for the factory's readiness
probes (127.0.0.1), two lists (phishing, gambling) and statistics every
second with k-anonymity K. Queries go out in bursts: every query of a
burst is sent before any answer is read, from its own address, so that a
burst falls within one statistics interval.

  - test_live_page: GET / while the daemon runs, in Chromium on a desktop
    and a phone: no console error, nothing loaded but the page itself, no
    script; each board's figures are what was sent and what /metrics says,
    and so are the queries the kernel dropped;
    no client address; after more traffic the page refreshes itself and
    shows it. Screenshots in live-e2e/ beside the binaries.
  - test_live_http: the page's headers (HTML, CSP, no-store), 405 for
    other methods, and a client that never finishes its request stalls
    neither the DNS workers nor other viewers.
  - test_dashboard_metrics_exist: every metric name and label in the
    expressions of contrib/grafana/veilig.json is in the /metrics of a
    running veiligd (GeoIP on, so that the by-country family is there), so
    the dashboard cannot rot silently; and every family of /metrics is on
    a panel or in NOT_ON_DASHBOARD with a reason, so that a new one is not
    forgotten there.
  - test_two_nodes_report: issue 10 end to end. Two nodes, each with its
    own statistics directory, get traffic for both boards, with sites that
    K or more clients ran into and one (lonely-site.example) that only
    K - 1 clients did, on both nodes together; SIGTERM writes the open
    interval; veilig-report builds the pages from both directories, and in
    Chromium they show the queries and blocked answers that were sent, the
    sites the nodes named (no other), never the lonely site, the upstream
    as the nodes counted it, no line skipped, and load nothing but
    themselves.
"""

import datetime
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request

import dns.message
import dns.rcode
import pytest

from e2elib import HERE, REPO, TABLES, free_port, retry, write_file

sys.path.insert(0, HERE)
import cdp  # noqa: E402
from test_report import PAGE_FACTS  # noqa: E402
from test_stats import parse_lines  # noqa: E402

K = 3
NORTH = ["127.0.1.%d" % i for i in range(2, 14)]     # 12 clients
SOUTH = ["127.0.2.%d" % i for i in range(2, 9)]      # 7 clients
OUTSIDE = ["127.0.3.%d" % i for i in range(2, 4)]    # no board
LISTS = {"phishing": "bad-site.example\nlonely-site.example\n",
         "gambling": "casino.example\n"}
DASHBOARD = os.path.join(REPO, "contrib", "grafana", "veilig.json")
NX, OK, REFUSED = dns.rcode.NXDOMAIN, dns.rcode.NOERROR, dns.rcode.REFUSED


def check(cond, msg):
    if not cond:
        raise AssertionError(msg)


def nl(n):
    """A count the Dutch way: 1.234.567."""
    return "{:,}".format(n).replace(",", ".")


# ------------------------------------------------------------ daemons

class Node:
    """A veiligd (e2elib.Daemon) with the boards and lists above."""

    def __init__(self, d, top):
        self.d = d
        self.dir = top
        self.stats = os.path.join(top, "stats")
        self.port = d.port
        self.mport = d.mport
        self.url = "http://127.0.0.1:%d/" % d.mport

    def metrics(self):
        with urllib.request.urlopen(self.url + "metrics", timeout=10) as r:
            return r.read().decode()

    def stop(self):
        why = self.d.stop_problem()
        assert why is None, why

    def records(self, day):
        """Every record of the day files (day) or the interval files."""
        out = []
        for name in sorted(os.listdir(self.stats)):
            if name.endswith(".day.jsonl") == day:
                out.extend(parse_lines(os.path.join(self.stats, name)))
        return out


@pytest.fixture
def node(make_veiligd, fake, tmp_path):
    """node(name, extra=): a veiligd with statistics every second, node
    name `name`, metrics on a free port."""
    def make(name, extra=""):
        top = str(tmp_path / name)
        write_file(os.path.join(top, "boards", "north.yaml"),
                   "name: Noord\nnetworks: [ 127.0.1.0/24 ]\n"
                   "block: [ phishing, gambling ]\n")
        write_file(os.path.join(top, "boards", "south.yaml"),
                   "name: Zuid & Co\nnetworks: [ 127.0.2.0/24 ]\n"
                   "block: [ phishing, gambling ]\n")
        write_file(os.path.join(top, "boards", "probe.yaml"),
                   "name: Probe\nnetworks: [ 127.0.0.1/32 ]\n")
        for lst, text in LISTS.items():
            write_file(os.path.join(top, lst + ".txt"), text)
        port, mport = free_port(), free_port()
        conf = ("server: { listen: [ \"127.0.0.1:%d\" ], workers: 2 }\n"
                "upstreams: [ %s ]\n"
                "forward: { timeout: 500ms, attempts: 2 }\n"
                "lists:\n"
                "  phishing: { file: phishing.txt, format: domains }\n"
                "  gambling: { file: gambling.txt, format: domains }\n"
                "boards: boards/*.yaml\n"
                "filter: { tables: %s }\n"
                "control: %s\n"
                "stats: { dir: stats, interval: 1s, k-anonymity: %d, "
                "node: %s }\n"
                "metrics: 127.0.0.1:%d\n%s" % (
                    port, fake.ups[0], TABLES, os.path.join(top, "ctl.sock"),
                    K, name, mport, extra))
        d = make_veiligd(name, port=port, conf=conf,
                         conf_path=os.path.join(top, "veiligd.yaml"))
        d.mport = mport
        return Node(d, top)
    return make


def burst(n, queries):
    """Send every (source, name, type, rcode) query to node n, each from
    its own socket, before reading any answer; check each rcode."""
    socks, ids = [], []
    try:
        for src, name, rdtype, _ in queries:
            s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            socks.append(s)
            s.bind((src, 0))
            q = dns.message.make_query(name, rdtype)
            s.sendto(q.to_wire(), ("127.0.0.1", n.port))
            ids.append(q.id)
        for s, qid, (src, name, _, want) in zip(socks, ids, queries):
            s.settimeout(5)
            r = dns.message.from_wire(s.recv(4096))
            check(r.id == qid, "%s %s: wrong ID" % (src, name))
            check(r.rcode() == want, "%s %s: %s, want %s" % (
                src, name, dns.rcode.to_text(r.rcode()),
                dns.rcode.to_text(want)))
    finally:
        for s in socks:
            s.close()


def spray(n, queries):
    """Send every query to node n and read what comes back within a
    moment, without checking it: some of them a limit answers, or not."""
    socks = []
    try:
        for src, name, rdtype, _ in queries:
            s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            socks.append(s)
            s.bind((src, 0))
            s.sendto(dns.message.make_query(name, rdtype).to_wire(),
                     ("127.0.0.1", n.port))
        time.sleep(0.3)
    finally:
        for s in socks:
            s.close()


class Sent:
    """What was sent, per board: queries and blocked answers."""

    def __init__(self):
        self.q = {"north": 0, "south": 0}
        self.blocked = {"north": 0, "south": 0}
        self.cats = {"north": {}, "south": {}}
        self.outside = 0

    def send(self, n, queries, board=None, cat=None):
        """Send a burst; queries of board (None: of no board)."""
        burst(n, queries)
        if board is None:
            self.outside += len(queries)
            return
        self.q[board] += len(queries)
        if cat is not None:
            self.blocked[board] += len(queries)
            c = self.cats[board]
            c[cat] = c.get(cat, 0) + len(queries)


def ok(srcs, rdtype="A"):
    return [(s, "www.ok.fake.test.", rdtype, OK) for s in srcs]


def blocked(srcs, site):
    return [(s, "x%d.%s." % (i, site), "A", NX) for i, s in enumerate(srcs)]


def samples(text):
    """The /metrics text as {(name, ((label, value), ...)): value}."""
    from prometheus_client.parser import text_string_to_metric_families
    out = {}
    for fam in text_string_to_metric_families(text):
        for s in fam.samples:
            out[(s.name, tuple(sorted(s.labels.items())))] = s.value
    return out


def board_total(smp, name, board, **labels):
    """Sum of a family's samples of one board (with the given labels)."""
    return sum(v for (n, lab), v in smp.items() if n == name and
               dict(lab).get("board") == board and
               all(dict(lab).get(k) == w for k, w in labels.items()))


def wait_folded(n, q, outside):
    """
    Until /metrics counts every query sent (q: board -> queries; outside:
    of no board): a tick folds the workers' counts, once a second, later
    on a loaded machine; 15 s at most.
    """
    want = dict(q, outside=outside)

    def folded():
        smp = samples(n.metrics())
        got = {b: board_total(smp, "veilig_queries_total", b) for b in q}
        got["outside"] = smp.get(("veilig_outside_queries_total", ()), 0)
        check(got == want, "counted %s, sent %s" % (got, want))
    retry("a tick folds the workers' counts", folded, 75, 0.2)

    # the fold goes in slices, its phases one after another: the
    # interval's next close (every second here) comes after it is done
    def start():
        rc, out, err = n.d.ctl("stats", "--json")
        check(rc == 0, err)
        return json.loads(out)["interval"]["start"]
    was = start()

    def closed():
        check(start() != was, "no close after %s" % was)
    retry("an interval closes after the fold", closed, 75, 0.2)


# ------------------------------------------------------------ browser

@pytest.fixture(scope="module")
def browser():
    if not os.access(cdp.CHROMIUM, os.X_OK):
        pytest.fail("no Chromium at %s (apt-get install chromium)" %
                    cdp.CHROMIUM, pytrace=False)
    with cdp.Browser() as b:
        yield b


@pytest.fixture(scope="module")
def bins(request):
    """veilig-report beside the veiligd tested; live-e2e/ for artefacts."""
    d = os.path.dirname(os.path.abspath(request.config.getoption("--veiligd")))
    out = {"report": os.path.join(d, "veilig-report"),
           "artefacts": os.path.join(d, "live-e2e")}
    if not os.access(out["report"], os.X_OK):
        pytest.fail("%s not built (make all)" % out["report"], pytrace=False)
    os.makedirs(out["artefacts"], exist_ok=True)
    return out


# JavaScript run by the test (the page has none): what the live page shows.
LIVE_FACTS = r"""(() => {
  const table = (sel, key) => {
    const out = {};
    for (const r of document.querySelectorAll(sel + ' tbody tr')) {
      const o = {text: {}};
      for (const td of r.querySelectorAll('td[data-k]')) {
        if (td.dataset.v !== undefined) o[td.dataset.k] = Number(td.dataset.v);
        o.text[td.dataset.k] = td.textContent;
      }
      const st = r.querySelector('strong');
      if (st) o.name = st.textContent;
      const up = r.querySelector('td[data-up]');
      if (up) o.up = Number(up.dataset.up);
      out[r.dataset[key]] = o;
    }
    return out;
  };
  const cards = {};
  for (const c of document.querySelectorAll('.card'))
    cards[c.id] = [Number(c.querySelector('.v').dataset.v), c.querySelector('.v').textContent];
  const links = [...document.querySelectorAll('[href],[src],link,object,embed,iframe,img')]
    .map(e => e.getAttribute('href') || e.getAttribute('src') || e.tagName);
  const refresh = document.querySelector('meta[http-equiv="refresh"]');
  return {boards: table('#besturen-tabel', 'board'), ups: table('#upstreams-tabel', 'upstream'),
          order: [...document.querySelectorAll('#besturen-tabel tbody tr')].map(r => r.dataset.board),
          cards, links, refresh: refresh ? refresh.content : null,
          stand: Number(document.getElementById('stand').dataset.t),
          outside: Number(document.getElementById('buiten-vragen').dataset.v),
          scripts: document.scripts.length, lang: document.documentElement.lang,
          html: document.documentElement.outerHTML, text: document.body.innerText};
})()"""

ADDRESS = re.compile(r"(?<![\d.])127\.0\.[1-3]\.\d{1,3}(?![\d])")


def check_live(page, url, n, sent):
    """The live page as the browser shows it, against sent and /metrics."""
    f = page.eval(LIVE_FACTS)
    smp = samples(n.metrics())
    check(not page.errors, "console/log errors: %s" % page.errors)
    check(page.requests and all(r == url for r in page.requests),
          "requests other than the page: %s" % page.requests)
    check(f["scripts"] == 0 and f["lang"] == "nl", "a script, or not Dutch")
    check(f["links"] == ["/metrics"], "links and resources: %s" % f["links"])
    check(f["refresh"] == "5", "meta refresh %r" % f["refresh"])
    for board in ("north", "south"):
        row = f["boards"].get(board)
        check(row is not None, "no row for %s: %s" % (board, f["order"]))
        check(row["queries"] == sent.q[board], "%s queries: page %s, sent %d"
              % (board, row["queries"], sent.q[board]))
        check(row["blocked"] == sent.blocked[board], "%s blocked: page %s, "
              "sent %d" % (board, row["blocked"], sent.blocked[board]))
        check(row["text"]["queries"] == nl(sent.q[board]), "not Dutch: %r"
              % row["text"]["queries"])
        # the same numbers as /metrics at the same moment
        for k, fam, lab in (("queries", "veilig_queries_total", {}),
                            ("blocked", "veilig_answers_total",
                             {"answer": "blocked"}),
                            ("safe", "veilig_safe_search_total", {}),
                            ("limited", "veilig_limited_total", {}),
                            ("clients", "veilig_clients", {}),
                            ("today", "veilig_clients_today", {})):
            want = board_total(smp, fam, board, **lab)
            check(row[k] == want, "%s %s: page %s, /metrics %s" % (
                board, k, row[k], want))
    check(f["boards"]["north"]["name"] == "Noord" and
          f["boards"]["south"]["name"] == "Zuid & Co", "board names")
    check(f["order"].index("north") < f["order"].index("south"),
          "boards not ranked by queries: %s" % f["order"])
    total = sum(board_total(smp, "veilig_queries_total", b)
                for b in f["boards"])
    check(f["cards"]["kpi-vragen"][0] == total, "queries card %s, /metrics "
          "%s" % (f["cards"]["kpi-vragen"], total))
    check(f["outside"] == sent.outside, "outside %s, sent %d" % (
        f["outside"], sent.outside))
    for up, row in f["ups"].items():
        check(row["queries"] == smp[("veilig_upstream_queries_total", (
            ("transport", "udp"), ("upstream", up)))] + smp[(
                "veilig_upstream_queries_total", (("transport", "tcp"),
                                                  ("upstream", up)))],
              "upstream %s queries" % up)
        check(row["up"] == smp[("veilig_upstream_up", (("upstream", up),))],
              "upstream %s up" % up)
    # the kernel's drops, beside the queries: what /metrics says
    m = re.search(r'id="kernel-weggegooid" data-v="(\d+)"', f["html"])
    want = smp.get(("veilig_udp_receive_drops_total", ()))
    check(m is not None and want is not None and int(m.group(1)) == want,
          "kernel drops: page %s, /metrics %s" % (m and m.group(1), want))
    m = ADDRESS.search(f["html"])
    check(m is None, "a client address on the page: %s" % (m and m.group(0)))
    check("lonely-site" not in f["html"], "a site below k on the page")
    return f


def test_live_page(node, browser, bins):
    n = node("live")
    sent = Sent()
    sent.send(n, ok(NORTH), "north")    # one forwarded, then the cache
    sent.send(n, ok(NORTH), "north")
    sent.send(n, ok(SOUTH, "TXT"), "south")
    sent.send(n, blocked(NORTH[:5], "bad-site.example"), "north", "phishing")
    sent.send(n, blocked(SOUTH[:4], "casino.example"), "south", "gambling")
    sent.send(n, blocked(NORTH[:K - 1], "lonely-site.example"), "north",
              "phishing")
    sent.send(n, [(s, "www.ok.fake.test.", "A", REFUSED) for s in OUTSIDE])
    wait_folded(n, sent.q, sent.outside)

    page = browser.page(1200, 900)
    page.open(n.url)
    f = check_live(page, n.url, n, sent)
    check(f["ups"] and all(r["up"] == 1 for r in f["ups"].values()),
          "upstreams: %s" % f["ups"])
    check(f["cards"]["kpi-upstreams"][1] == "1 van 1", "upstream card %s" %
          f["cards"]["kpi-upstreams"])
    check("Phishing" in f["text"] and "Gokken" in f["text"],
          "categories not by their Dutch names")
    page.screenshot(os.path.join(bins["artefacts"], "live-desktop.png"))

    # more traffic: the page shows it after its own refresh
    before = f["stand"]
    sent.send(n, ok(SOUTH), "south")
    sent.send(n, blocked(NORTH[5:9], "bad-site.example"), "north", "phishing")
    page.requests.clear()
    browser.wait_event("Page.loadEventFired", page.sid, timeout=15)
    f = check_live(page, n.url, n, sent)
    check(f["stand"] > before, "the page did not refresh (%s, %s)" % (
        before, f["stand"]))

    phone = browser.page(390, 800, mobile=True)
    phone.open(n.url)
    check(not phone.errors, "errors on a phone: %s" % phone.errors)
    wide = phone.eval("""[...document.querySelectorAll(
        'main > *, section > *, .cards > *')].filter(e =>
        !e.classList.contains('box') && e.getBoundingClientRect().right > 391)
        .map(e => e.tagName + '.' + e.className)""")
    check(not wide, "wider than a phone: %s" % wide)
    phone.screenshot(os.path.join(bins["artefacts"], "live-phone.png"))
    n.stop()


def test_live_http(node):
    n = node("http")
    with urllib.request.urlopen(n.url, timeout=10) as r:
        check(r.status == 200, "GET / %d" % r.status)
        h = r.headers
        body = r.read().decode()
    check(h["Content-Type"] == "text/html; charset=utf-8", h["Content-Type"])
    check("default-src 'none'" in h["Content-Security-Policy"] and
          "frame-ancestors 'none'" in h["Content-Security-Policy"],
          "CSP %r" % h["Content-Security-Policy"])
    check(h["Cache-Control"] == "no-store", "cached: %r" % h["Cache-Control"])
    check(body.startswith("<!DOCTYPE html>") and body.endswith("</html>\n"),
          "not a whole page")
    for method in ("HEAD", "POST", "PUT"):
        req = urllib.request.Request(n.url, method=method,
                                     data=b"x" if method != "HEAD" else None)
        with pytest.raises(urllib.error.HTTPError) as e:
            urllib.request.urlopen(req, timeout=10)
        check(e.value.code == 405 and e.value.headers["Allow"] == "GET",
              "%s /: %d" % (method, e.value.code))
    # a viewer that never finishes its request stalls nobody
    slow = socket.create_connection(("127.0.0.1", n.mport))
    try:
        slow.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n")
        t0 = time.monotonic()
        burst(n, ok(NORTH[:3]))
        with urllib.request.urlopen(n.url, timeout=10) as r:
            check(b"</html>" in r.read(), "no page for another viewer")
        check(time.monotonic() - t0 < 3, "stalled for %.1f s" % (
            time.monotonic() - t0))
    finally:
        slow.close()
    n.stop()


# ------------------------------------------------------------ Grafana

def dashboard_exprs(obj, out):
    """Every PromQL text in the dashboard: targets' expr, variables'
    query (label_values(...))."""
    if isinstance(obj, dict):
        for k, v in obj.items():
            if k in ("expr", "query") and isinstance(v, str) and \
                    re.search(r"\b(veilig|process)_", v):
                out.append(v)
            elif isinstance(v, dict) and k == "query" and \
                    isinstance(v.get("query"), str):
                out.append(v["query"])
            else:
                dashboard_exprs(v, out)
    elif isinstance(obj, list):
        for v in obj:
            dashboard_exprs(v, out)
    return out


# Families of /metrics that no panel shows, and why.
NOT_ON_DASHBOARD = {
    "veilig_board_configured": "the live page's; the dashboard names boards "
    "from veilig_board_info",
    "veilig_stats_tick_seconds": "a developer's: the main thread's pauses",
}


def test_dashboard_metrics_exist(node, tmp_path):
    with open(DASHBOARD, encoding="utf-8") as f:
        dash = json.load(f)
    exprs = dashboard_exprs(dash, [])
    check(len(exprs) >= 20, "only %d expressions" % len(exprs))
    for e in exprs:
        # a cheap syntax check: brackets nest and close, quotes pair
        depth = []
        for c in re.sub(r'"[^"]*"', '""', e):
            if c in "([{":
                depth.append(c)
            elif c in ")]}":
                check(depth and "([{"[")]}".index(c)] == depth.pop(),
                      "brackets do not match in %s" % e)
        check(not depth and e.count('"') % 2 == 0, "unclosed in %s" % e)
    ids = [p["id"] for p in dash["panels"]]
    check(len(ids) == len(set(ids)), "panel ids not unique: %s" % ids)

    # a daemon with GeoIP, and traffic so that every family has samples
    geo = tmp_path / "geo"
    geo.mkdir()
    (geo / "country.spec").write_text("127.0.3.0/24 NL\n")
    (geo / "asn.spec").write_text("127.0.3.0/25 64496 Example NL B.V.\n")
    subprocess.run(["perl", os.path.join(REPO, "tests", "unit", "mkmmdb.pl"),
                    str(geo), str(geo / "country.spec"),
                    str(geo / "asn.spec")], check=True, capture_output=True,
                   timeout=60)
    # RRL at 1/s for NXDOMAIN and errors: blocked and refused answers
    # over it are limited, so that the families of limits have samples
    n = node("dash", "geoip: { country: %s, asn: %s }\n"
             "rrl: { nxdomains-per-second: 1, errors-per-second: 1 }\n" % (
                 geo / "country.mmdb", geo / "asn.mmdb"))
    burst(n, ok(NORTH[:4]))
    spray(n, blocked(SOUTH[:1] * 10, "casino.example") +
          [(s, "www.ok.fake.test.", "A", REFUSED) for s in OUTSIDE * 5])
    wait_folded(n, {"north": 4, "south": 10}, 2 * 5)
    labels = {}
    for (name, lab), _ in samples(n.metrics()).items():
        labels.setdefault(name, set()).update(k for k, _ in lab)
    n.stop()

    missing = []
    for e in exprs:
        # selectors: name{label op "value", ...} or a bare name
        used = set()
        for m in re.finditer(r"\b([a-z_][a-z0-9_]*)\s*(\{([^}]*)\})?", e):
            name, sel = m.group(1), m.group(3)
            if not re.match(r"(veilig|process)_", name):
                continue
            used.add(name)
            if name not in labels:
                missing.append("%s (in %s)" % (name, e))
                continue
            for lab in re.findall(r"([a-z_]+)\s*(?:=~|!~|!=|=)", sel or ""):
                if lab not in labels[name] | {"instance", "job"}:
                    missing.append("label %s of %s (in %s)" % (lab, name, e))
        # by (...) and without (...): labels of some metric it reads
        have = set().union(*(labels.get(u, set()) for u in used)) | \
            {"instance", "job"}
        for grp in re.findall(r"\b(?:by|without)\s*\(([^)]*)\)", e):
            for lab in re.findall(r"[a-z_]+", grp):
                if lab not in have:
                    missing.append("grouping label %s (in %s)" % (lab, e))
    check(not missing, "the dashboard reads what /metrics does not have:\n"
          + "\n".join(missing))

    # and the other way: every family of /metrics is on the dashboard,
    # or here with the reason it is not
    shown = set()
    for e in exprs:
        shown.update(re.sub(r"_(bucket|sum|count)$", "", m) for m in
                     re.findall(r"\b((?:veilig|process)_[a-z0-9_]+)", e))
    families = {re.sub(r"_(bucket|sum|count)$", "", n) for n in labels}
    unshown = sorted(families - shown - set(NOT_ON_DASHBOARD))
    check(not unshown, "families of /metrics on no panel of the dashboard "
          "(add a panel, or a reason to NOT_ON_DASHBOARD): %s" % unshown)


# ------------------------------------------------------------ two nodes

def named_sites(recs, board):
    """{site: count} the day records of a node named for a board."""
    out = {}
    for r in recs:
        if r["type"] == "day" and r["board"] == board:
            for s in r.get("top_blocked", []):
                out[s["site"]] = out.get(s["site"], 0) + s["count"]
    return out


def test_two_nodes_report(node, browser, bins, tmp_path):
    first = datetime.date.today()
    n1, n2 = node("ns1"), node("ns2")
    sent = Sent()
    # ns1: most of north and a part of south; K - 1 clients of north
    # ask for the lonely site over and over, on both nodes
    sent.send(n1, ok(NORTH[:8]), "north")
    sent.send(n1, ok(SOUTH[:3], "TXT"), "south")
    sent.send(n1, blocked(NORTH[:2 * K - 1], "bad-site.example"), "north",
              "phishing")
    sent.send(n1, [(s, "www.ok.fake.test.", "A", REFUSED) for s in OUTSIDE])
    for _ in range(3):
        sent.send(n1, blocked(NORTH[:K - 1], "lonely-site.example"), "north",
                  "phishing")
    # ns2: the rest, and the gambling site for south
    sent.send(n2, ok(NORTH[8:]), "north")
    sent.send(n2, ok(SOUTH[3:]), "south")
    sent.send(n2, blocked(NORTH[6:6 + 2 * K - 1], "bad-site.example"),
              "north", "phishing")
    sent.send(n2, blocked(SOUTH[:2 * K - 1], "casino.example"), "south",
              "gambling")
    for _ in range(2):
        sent.send(n2, blocked(NORTH[:K - 1], "lonely-site.example"), "north",
                  "phishing")
    n1.stop()                       # SIGTERM writes the open interval
    n2.stop()
    last = datetime.date.today()

    days = n1.records(True) + n2.records(True)
    probe = sum(r["queries"] for r in days
                if r["type"] == "day" and r["board"] == "probe")
    named = {b: {} for b in ("north", "south")}
    for b in named:
        for recs in (n1.records(True), n2.records(True)):
            for site, c in named_sites(recs, b).items():
                named[b][site] = named[b].get(site, 0) + c
    # 2K - 1 clients in one burst: K of them in one interval, however
    # the burst fell; nobody named the lonely site
    check(set(named["north"]) == {"bad-site.example"}, named)
    check(set(named["south"]) == {"casino.example"}, named)

    out = str(tmp_path / "pages")
    r = subprocess.run([bins["report"], "-k", str(K), "-f", first.isoformat(),
                        "-t", last.isoformat(), "-o", out, n1.stats,
                        n2.stats], capture_output=True, text=True, timeout=60)
    check(r.returncode == 0, "veilig-report: %s" % r.stderr)
    check("skipped" not in r.stderr, "veilig-report skipped lines the "
          "daemons wrote: %s" % r.stderr)
    check({"bestuur-north.html", "bestuur-south.html", "dienst.html"} <=
          set(os.listdir(out)), "pages: %s" % os.listdir(out))
    for name in os.listdir(out):
        shutil.copy(os.path.join(out, name), bins["artefacts"])

    page = browser.page(1100, 900)
    for board in ("north", "south", None):
        fname = "bestuur-%s.html" % board if board else "dienst.html"
        url = "file://" + os.path.join(out, fname)
        page.errors.clear()
        page.requests.clear()
        page.open(url)
        f = page.eval(PAGE_FACTS)
        check(not page.errors, "%s: console errors %s" % (fname, page.errors))
        check(page.requests == [url], "%s loads %s" % (fname, page.requests))
        check(f["scripts"] == 0, fname + " has a script")
        check(not re.search(r"(?:https?|ftp|file|data):", " ".join(
            str(x) for x in f["links"])), "%s links out: %s" % (
                fname, f["links"]))
        boards = [board] if board else ["north", "south"]
        q = sum(sent.q[b] for b in boards) + (probe if board is None else 0)
        bl = sum(sent.blocked[b] for b in boards)
        check(f["cards"]["kpi-vragen"] == [q, nl(q)], "%s queries %s, sent %d"
              % (fname, f["cards"]["kpi-vragen"], q))
        check(f["cards"]["kpi-geblokkeerd"] == [bl, nl(bl)], "%s blocked %s, "
              "sent %d" % (fname, f["cards"]["kpi-geblokkeerd"], bl))
        check(sum(f["charts"]["vragen"]) == q and
              sum(f["charts"]["geblokkeerd"]) == bl, "%s per day %s %s" % (
                  fname, f["charts"]["vragen"], f["charts"]["geblokkeerd"]))
        cats = {}
        for b in boards:
            for c, v in sent.cats[b].items():
                cats[c] = cats.get(c, 0) + v
        check(sorted(f["charts"]["categorieen"]) == sorted(cats.values()),
              "%s categories %s, sent %s" % (fname, f["charts"]["categorieen"],
                                             cats))
        want = {}
        for b in boards:
            for s, c in named[b].items():
                want[s] = want.get(s, 0) + c
        got = {s: v for s, v, _ in f["sites"]}
        check(got == want, "%s sites %s, the nodes named %s" % (
            fname, got, want))
        check(f["k"] == K, "%s: threshold %s" % (fname, f["k"]))
        check("lonely-site" not in f["html"], fname + " names the lonely site")
        check("bovengrens" in f["text"], fname + ": clients over two nodes "
              "not called an upper bound")
        if board is None:
            check(f["corrupt"] == 0, "corrupt lines: %s" % f["corrupt"])
            check(f["outside"] == sent.outside, "outside %s, sent %d" % (
                f["outside"], sent.outside))
            # the upstream, as both nodes' day records count it
            ups = [r for r in days if r["type"] == "day-upstream"]
            check(len(ups) == 2 and ups[0]["upstream"] == ups[1]["upstream"],
                  "day-upstream records: %s" % ups)
            want = [sum(r["queries"] for r in ups),
                    sum(r["timeouts"] for r in ups)]
            got = f["ups"].get(ups[0]["upstream"], [None, None])[:2]
            check(got == want, "upstream on the page %s, the nodes %s" % (
                got, want))
            ranked = f["charts"]["besturen"]
            check(ranked == sorted(ranked, reverse=True) and
                  sent.q["north"] in ranked and sent.q["south"] in ranked,
                  "boards ranked %s, sent %s" % (ranked, sent.q))
        else:
            check({"north": "Noord", "south": "Zuid & Co"}[board] in f["text"],
                  "the board's name is not on its page")
        page.screenshot(os.path.join(bins["artefacts"], fname.replace(
            ".html", ".png")))
