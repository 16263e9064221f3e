#!/usr/bin/python3
"""test_report.py: veilig-report end to end, its pages opened in Chromium.

    /usr/bin/python3 -m pytest tests/e2e/test_report.py [--veiligd build/veiligd]

veilig-report and mkstats are taken from the directory of --veiligd (so
`make asan` tests the ASan build of both). mkstats makes two nodes'
statistics (4 boards, 14 days: summaries, a crash day whose middle part
exists only as interval lines, a last day of interval lines only, the
second node naming sites with k 3, three corrupt lines); veilig-report
builds the pages, and each is opened in headless Chromium (cdp.py,
Debian's /usr/bin/chromium) and checked against mkstats' truth.tsv:

  - the page loads with no console error or warning and requests nothing
    but itself; it has no script, and no link that leaves its directory;
  - every chart has its SVG bars: one per day, per category, per answer
    kind, per board, per country and AS, per histogram bucket;
  - the numbers: per day queries, blocked, clients, safe search, canary
    answers; the key figures, as data and as Dutch text; the sites named
    and their counts; the hidden count; the threshold; corrupt lines;
    queries from outside; upstream queries and time-outs;
  - no site below k is named anywhere in the page;
  - screenshots (desktop, phone, print) and a printed PDF are kept in
    report-e2e/ beside the binaries (build/report-e2e/).

And without a browser, the command's errors: a missing directory, the
same directory twice, an empty period, an unknown board, a newer format:
each a clear message, exit 1, and no page written or changed (an old page
stays, no temporary file is left).
"""

import datetime
import os
import re
import shutil
import subprocess
import sys

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import cdp  # noqa: E402

FROM, DAYS, TO = "2026-10-20", 14, "2026-11-02"
BOARDS, NODES = 4, 2


def check(cond, msg):
    if not cond:
        raise AssertionError(msg)


def nl(n):
    """A count the Dutch way: 1.234.567."""
    return "{:,}".format(n).replace(",", ".")


def days():
    d0 = datetime.date.fromisoformat(FROM)
    return [(d0 + datetime.timedelta(days=i)).isoformat() for i in range(DAYS)]


class Truth:
    """mkstats' truth.tsv: what a correct reader must find."""

    def __init__(self, path):
        self.day = {}       # (board, date) -> [q, blocked, cache, safe, canary, clients]
        self.sites = {}     # board -> {site: (category, count)}
        self.cats = {}      # board -> {category: count}
        self.hidden = {}
        self.names = {}
        self.rare = []
        self.outside = {}   # date -> (queries, refused)
        self.up = {}        # (upstream, date) -> (queries, timeouts)
        self.corrupt = 0
        with open(path, encoding="utf-8") as f:
            for line in f:
                if line.startswith("#"):
                    continue
                t = line.rstrip("\n").split("\t")
                if t[0] == "day":
                    self.day[(t[1], t[2])] = [int(x) for x in t[3:]]
                elif t[0] == "site":
                    self.sites.setdefault(t[1], {})[t[2]] = (t[3], int(t[4]))
                elif t[0] == "cat":
                    self.cats.setdefault(t[1], {})[t[2]] = int(t[3])
                elif t[0] == "hidden":
                    self.hidden[t[1]] = int(t[2])
                elif t[0] == "name":
                    self.names[t[1]] = t[2]
                elif t[0] == "rare":
                    self.rare.append(t[1])
                elif t[0] == "outside":
                    self.outside[t[1]] = (int(t[2]), int(t[3]))
                elif t[0] == "upstream":
                    self.up[(t[1], t[2])] = (int(t[3]), int(t[4]))
                elif t[0] == "corrupt":
                    self.corrupt = int(t[1])

    def per_day(self, board, col):
        """A column per day of the period; board None sums all boards."""
        out = []
        for d in days():
            if board is None:
                out.append(sum(v[col] for (b, dd), v in self.day.items() if dd == d))
            else:
                out.append(self.day.get((board, d), [0] * 6)[col])
        return out


COLS = {"vragen": 0, "geblokkeerd": 1, "safe-search": 3, "canary": 4, "apparaten": 5}

# JavaScript run by the test (the pages have none): what a page shows.
PAGE_FACTS = r"""(() => {
  const charts = {};
  for (const c of document.querySelectorAll('[data-chart]'))
    charts[c.dataset.chart] = [...c.querySelectorAll('rect.bar')].map(r => Number(r.dataset.v));
  const cards = {};
  for (const c of document.querySelectorAll('.card'))
    cards[c.id] = [Number(c.querySelector('.v').dataset.v), c.querySelector('.v').textContent];
  const sites = [...document.querySelectorAll('#sites-tabel tbody tr')].map(r =>
    [r.dataset.site, Number(r.querySelector('td[data-v]').dataset.v),
     r.querySelector('td[data-v]').textContent]);
  const k = document.getElementById('k-regel');
  const links = [...document.querySelectorAll('[href],[src],link,object,embed,iframe,img')]
    .map(e => e.getAttribute('href') || e.getAttribute('src') || e.tagName);
  const ups = {};
  for (const r of document.querySelectorAll('#upstreams-tabel tbody tr'))
    ups[r.dataset.upstream] = [...r.querySelectorAll('td[data-v]')].map(t => Number(t.dataset.v));
  const num = id => { const e = document.getElementById(id); return e ? Number(e.dataset.v) : null; };
  return {charts, cards, sites, links,
          k: k ? Number(k.dataset.k) : null, hidden: k ? Number(k.dataset.hidden) : null,
          corrupt: num('corrupt'), outside: num('buiten-vragen'), refused: num('buiten-geweigerd'),
          ups, scripts: document.scripts.length, html: document.documentElement.outerHTML,
          text: document.body.innerText, lang: document.documentElement.lang};
})()"""


def check_page(page, url, truth, board, ntop):
    """Everything a page must show, for one board or (None) the service."""
    page.errors.clear()
    page.requests.clear()
    page.open(url)
    f = page.eval(PAGE_FACTS)
    check(not page.errors, "console/log errors: %s" % page.errors)
    check(page.requests == [url], "requests other than the page: %s" % page.requests)
    check(f["scripts"] == 0, "the page has a script")
    check(f["lang"] == "nl", "lang is not nl")
    for link in f["links"]:
        check(re.fullmatch(r"bestuur-[A-Za-z0-9._-]+\.html", link or ""),
              "a link or resource that leaves the page: %r" % link)

    # Charts and their numbers, day by day.
    for chart, col in COLS.items():
        check(chart in f["charts"], "no chart " + chart)
        want = truth.per_day(board, col)
        check(f["charts"][chart] == want, "%s per day: page %s, input %s"
              % (chart, f["charts"][chart], want))
    check(len(f["charts"]["antwoorden"]) == 8, "answers: %d bars" % len(f["charts"]["antwoorden"]))
    boards = [board] if board else sorted(truth.names)
    cats = {}
    for b in boards:
        for c, n in truth.cats.get(b, {}).items():
            cats[c] = cats.get(c, 0) + n
    check(sorted(f["charts"]["categorieen"], reverse=True) == sorted(cats.values(), reverse=True),
          "categories: page %s, input %s" % (f["charts"]["categorieen"], cats))

    # Key figures: the number, and the same number written the Dutch way.
    q = sum(truth.per_day(board, 0))
    bl = sum(truth.per_day(board, 1))
    check(f["cards"]["kpi-vragen"] == [q, nl(q)], "queries card %s, want %d" % (f["cards"]["kpi-vragen"], q))
    check(f["cards"]["kpi-geblokkeerd"] == [bl, nl(bl)], "blocked card %s" % f["cards"]["kpi-geblokkeerd"])
    canary = sum(truth.per_day(board, 4))
    check(f["cards"]["kpi-canary"][0] == canary, "canary card %s, want %d" % (f["cards"]["kpi-canary"], canary))
    check(re.search(r"\d+,\d\u00a0%", f["cards"]["kpi-cache"][1]), "cache share not as 12,5 %%: %r"
          % f["cards"]["kpi-cache"][1])

    # Named sites: the largest ntop of those that passed k, with their counts.
    sites = {}
    for b in boards:
        for s, (c, n) in truth.sites.get(b, {}).items():
            sites[s] = sites.get(s, 0) + n
    want = sorted(sites.items(), key=lambda x: (-x[1], x[0]))[:ntop]
    got = [(s, n) for s, n, _ in f["sites"]]
    check(got == want, "sites: page %s, input %s" % (got[:5], want[:5]))
    for s, n, text in f["sites"]:
        check(text == nl(n), "site count %r is not %s" % (text, nl(n)))
    check(f["k"] == 5, "threshold on the page %s" % f["k"])
    check(f["hidden"] == sum(truth.hidden.get(b, 0) for b in boards),
          "hidden %s, input %s" % (f["hidden"], sum(truth.hidden.get(b, 0) for b in boards)))
    for rare in truth.rare:
        check(rare not in f["html"], "a site below k is named: " + rare)
    check("minstens 5 verschillende apparaten" in f["text"], "threshold not stated")
    if NODES > 1:
        check("bovengrens" in f["text"], "clients summed over nodes not called an upper bound")
    return f


def check_service(f, truth):
    check(f["corrupt"] == truth.corrupt, "corrupt lines %s, input %d" % (f["corrupt"], truth.corrupt))
    out = [truth.outside[d][1] for d in days()]
    check(f["charts"]["buiten"] == out, "outside per day %s, input %s" % (f["charts"]["buiten"], out))
    check(f["outside"] == sum(truth.outside[d][0] for d in days()), "outside total")
    ranked = sorted(truth.names, key=lambda b: (-sum(truth.per_day(b, 0)), b))
    check(f["charts"]["besturen"] == [sum(truth.per_day(b, 0)) for b in ranked],
          "boards ranked %s" % f["charts"]["besturen"])
    check(len(f["charts"]["landen"]) == 6 and len(f["charts"]["as"]) == 6, "countries/AS bars")
    check(sum(f["charts"]["landen"]) == f["outside"], "countries do not add up to the queries")
    for name in ("192.0.2.53:53", "[2001:db8::53]:53"):
        q = sum(truth.up[(name, d)][0] for d in days())
        t = sum(truth.up[(name, d)][1] for d in days())
        check(f["ups"].get(name, [None, None])[:2] == [q, t],
              "upstream %s: page %s, input %d %d" % (name, f["ups"].get(name), q, t))
    check(len(f["charts"]["rtt-1"]) == 16 and len(f["charts"]["rtt-2"]) == 16, "rtt buckets")
    check(len(f["charts"]["upstream-timeouts"]) == DAYS, "time-outs per day")


# ------------------------------------------------------------ fixtures

@pytest.fixture(scope="module")
def bins(request):
    """veilig-report and mkstats from the directory of the veiligd tested."""
    d = os.path.dirname(os.path.abspath(request.config.getoption("--veiligd")))
    out = {"report": os.path.join(d, "veilig-report"),
           "mkstats": os.path.join(d, "mkstats"),
           "artefacts": os.path.join(d, "report-e2e")}
    for k in ("report", "mkstats"):
        if not os.access(out[k], os.X_OK):
            pytest.fail("%s not built (make all %s)" % (out[k], out[k]), pytrace=False)
    os.makedirs(out["artefacts"], exist_ok=True)
    return out


@pytest.fixture(scope="module")
def stats(bins, tmp_path_factory):
    """Two nodes' statistics from mkstats, and what a reader must find."""
    d = str(tmp_path_factory.mktemp("stats"))
    subprocess.run([bins["mkstats"], "-b", str(BOARDS), "-n", str(NODES), "-f", FROM,
                    "-d", str(DAYS), "-i", "1", "-c", "1", "-K", "5,3", "-x", "3",
                    "-o", d], check=True, timeout=120)
    return d, Truth(os.path.join(d, "truth.tsv"))


@pytest.fixture(scope="module")
def pages(bins, stats, tmp_path_factory):
    """The pages veilig-report wrote from both nodes (copied to artefacts)."""
    d, _ = stats
    out = str(tmp_path_factory.mktemp("pages"))
    p = subprocess.run([bins["report"], "-f", FROM, "-t", TO, "-o", out,
                        os.path.join(d, "ns1"), os.path.join(d, "ns2")],
                       capture_output=True, text=True, timeout=120)
    assert p.returncode == 0, p.stderr
    assert "3 corrupt lines skipped" in p.stderr, p.stderr
    for name in os.listdir(out):
        shutil.copy(os.path.join(out, name), bins["artefacts"])
    return out


@pytest.fixture(scope="module")
def browser():
    if not os.access(cdp.CHROMIUM, os.X_OK):
        pytest.fail("no Chromium at %s (apt-get install chromium)" % cdp.CHROMIUM,
                    pytrace=False)
    with cdp.Browser() as b:
        yield b


# ------------------------------------------------------------ in Chromium

def test_report_service_page(browser, pages, stats, bins):
    truth = stats[1]
    page = browser.page(1100, 900)
    url = "file://" + os.path.join(pages, "dienst.html")
    f = check_page(page, url, truth, None, 20)
    check_service(f, truth)
    page.screenshot(os.path.join(bins["artefacts"], "dienst.png"))


def test_report_board_pages(browser, pages, stats, bins):
    truth = stats[1]
    page = browser.page(1100, 900)
    for bid in sorted(truth.names):
        url = "file://" + os.path.join(pages, "bestuur-%s.html" % bid)
        f = check_page(page, url, truth, bid, 20)
        check(truth.names[bid] in f["text"], "board name %r not on its page" % truth.names[bid])
    page.screenshot(os.path.join(bins["artefacts"], "bestuur-desktop.png"))


def test_report_phone_and_print(browser, pages, bins):
    url = "file://" + os.path.join(pages, "bestuur-b0001.html")
    phone = browser.page(390, 800, mobile=True)
    phone.open(url)
    check(not phone.errors, "errors on a phone: %s" % phone.errors)
    # Nothing wider than the phone but the boxes that scroll.
    wide = phone.eval("""[...document.querySelectorAll('main > *, section > *')]
        .filter(e => !e.classList.contains('box') && e.getBoundingClientRect().right > 391)
        .map(e => e.tagName + '.' + e.className)""")
    check(not wide, "wider than a phone: %s" % wide)
    phone.screenshot(os.path.join(bins["artefacts"], "bestuur-phone.png"))
    page = browser.page(1100, 900)
    page.open(url)
    page.media("print")
    page.screenshot(os.path.join(bins["artefacts"], "bestuur-print.png"))
    page.media("")
    pdf = page.pdf(os.path.join(bins["artefacts"], "bestuur.pdf"))
    check(pdf.startswith(b"%PDF") and pdf.count(b"/Type /Page") >= 2,
          "printing made no PDF of several pages")


# ------------------------------------------------------------ the command

def fails(report, args, msg, outdir):
    """report with args exits 1 saying msg, and outdir is as it was."""
    before = sorted(os.listdir(outdir))
    old = {}
    for name in before:
        with open(os.path.join(outdir, name), "rb") as f:
            old[name] = f.read()
    p = subprocess.run([report, "-o", outdir] + args, capture_output=True, text=True, timeout=60)
    check(p.returncode == 1, "exit %d for %s: %s" % (p.returncode, args, p.stderr))
    check(msg in p.stderr, "message %r not in %r" % (msg, p.stderr))
    check(sorted(os.listdir(outdir)) == before, "the output directory changed")
    for name, data in old.items():
        with open(os.path.join(outdir, name), "rb") as f:
            check(f.read() == data, name + " was changed")


def test_report_errors_leave_no_page(bins, stats, tmp_path):
    report = bins["report"]
    d, _ = stats
    n1, n2 = os.path.join(d, "ns1"), os.path.join(d, "ns2")
    outdir = str(tmp_path / "out")
    os.mkdir(outdir)
    with open(os.path.join(outdir, "dienst.html"), "w") as f:
        f.write("the old page\n")
    fails(report, ["-f", FROM, "-t", TO, n1, str(tmp_path / "no-such-dir")],
          "no-such-dir: No such file or directory", outdir)
    fails(report, ["-f", FROM, "-t", TO, n1, n1 + "/"], "the same directory", outdir)
    fails(report, ["-f", "2025-01-01", "-t", "2025-01-31", n1, n2],
          "no statistics from 2025-01-01 to 2025-01-31", outdir)
    fails(report, ["-f", FROM, "-t", TO, "-b", "nobody", n1],
          "no statistics for board nobody", outdir)
    newer = str(tmp_path / "newer")
    shutil.copytree(n1, newer)
    with open(os.path.join(newer, FROM + ".day.jsonl"), "a") as f:
        f.write('{"v":2,"type":"day"}\n')
    fails(report, ["-f", FROM, "-t", TO, newer], "format version newer", outdir)
    p = subprocess.run([report, "-f", "2026-13-01", n1], capture_output=True, text=True)
    check(p.returncode == 2 and "not a date" in p.stderr, "a bad date: %s" % p.stderr)


@pytest.mark.parametrize("gap", [False, True], ids=["fifo", "after-gap"])
def test_report_fifo_in_stats(bins, stats, tmp_path, gap):
    """A FIFO where a day's file should be: an error naming it, at once
    (its open waited for a writer for ever). With gap, the FIFO is the
    day after a day with no file, whose ENOENT, left in errno, once made
    it read as no file too, and the day was left out unsaid."""
    d, _ = stats
    top = str(tmp_path / "fifo")
    shutil.copytree(os.path.join(d, "ns1"), top)
    day = datetime.date.fromisoformat(FROM)
    if gap:
        os.unlink(os.path.join(top, FROM + ".day.jsonl"))
        day += datetime.timedelta(days=1)
    path = os.path.join(top, day.isoformat() + ".day.jsonl")
    os.unlink(path)
    os.mkfifo(path)
    outdir = str(tmp_path / "out")
    os.mkdir(outdir)
    fails(bins["report"], ["-f", FROM, "-t", TO, top],
          path + ": not a regular file", outdir)


def test_report_one_board(bins, stats, tmp_path):
    d, _ = stats
    outdir = str(tmp_path / "one")
    p = subprocess.run([bins["report"], "-o", outdir, "-f", FROM, "-t", TO, "-b", "b0002",
                        os.path.join(d, "ns1"), os.path.join(d, "ns2")],
                       capture_output=True, text=True, timeout=60)
    check(p.returncode == 0, p.stderr)
    check(os.listdir(outdir) == ["bestuur-b0002.html"], "wrote %s" % os.listdir(outdir))


def test_report_default_period(bins, tmp_path):
    """Statistics for last month and this one: the default is last month."""
    today = datetime.date.today()
    first = (today.replace(day=1) - datetime.timedelta(days=1)).replace(day=1)
    gen = str(tmp_path / "recent")
    subprocess.run([bins["mkstats"], "-b", "2", "-f", first.isoformat(),
                    "-d", str((today - first).days + 1), "-o", gen], check=True, timeout=60)
    p = subprocess.run([bins["report"], "-v", "-o", str(tmp_path / "out"),
                        os.path.join(gen, "ns1")], capture_output=True, text=True, timeout=60)
    check(p.returncode == 0, p.stderr)
    last = today.replace(day=1) - datetime.timedelta(days=1)
    check("for %s to %s" % (first.isoformat(), last.isoformat()) in p.stderr,
          "default period: %s" % p.stderr)
