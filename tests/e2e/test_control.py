"""test_control.py: veiligctl on the control socket.

help and usage errors, flush, boards, lists, status, stats, and explain
(which names the file and line of every rule it cites).
"""

import os
import re
import subprocess

import pytest

from e2elib import (FILTER_LISTS, HAVE_V6, SRC_B, SRC_NONE, TABLES,
                    dq, fq, line_of, ok_answer, tag)


# ------------------------------------------------------- help and usage

def test_help(veiligd_stale):
    d = veiligd_stale
    code, out, err = d.ctl("help")
    assert code == 0, "help: %d %s" % (code, err)
    words = [x.split()[0] for x in out.splitlines() if x.strip()]
    for c in ("status", "stats", "reload", "flush", "explain", "boards",
              "lists", "help"):
        assert c in words, "help does not list %s:\n%s" % (c, out)
    code, out, err = d.ctl("help", "explain")
    assert code == 0, "help explain: %d %s" % (code, err)
    lines = [x for x in out.splitlines() if x.strip()]
    assert len(lines) == 1 and lines[0].startswith(
        "explain BOARD|ADDRESS NAME [TYPE]"), "help explain:\n%s" % out
    code, out, err = d.ctl("help", "no-such-command")
    assert code == 1, "help of an unknown command: status %d" % code
    assert "unknown command" in err, err


USAGE = [(("flush", "now"), "usage: flush"),
         (("status", "x"), "usage: status"),
         (("stats", "x", "y"), "usage: stats"),
         (("explain", "board-a"), "usage: explain BOARD|ADDRESS NAME [TYPE]"),
         (("explain", "a", "b", "A", "x"),
          "usage: explain BOARD|ADDRESS NAME [TYPE]"),
         (("help", "flush", "x"), "usage: help [COMMAND]")]


@pytest.mark.parametrize("args,usage", USAGE,
                         ids=["-".join(x[0]) for x in USAGE])
def test_usage(veiligd_stale, args, usage):
    """Wrong argument counts: exit 1 and the command's usage."""
    code, out, err = veiligd_stale.ctl(*args)
    assert code == 1, "%s: status %d" % (" ".join(args), code)
    assert usage in err, "%s: no %r in:\n%s" % (" ".join(args), usage, err)
    assert out == "", "%s: output %r" % (" ".join(args), out)


@pytest.mark.parametrize("how", ["no-command", "unknown-option"])
def test_usage_of_veiligctl(veiligd_stale, how):
    """No command at all, or an unknown option: veiligctl's own usage."""
    d = veiligd_stale
    argv = {"no-command": [d.veiligctl, "-s", d.ctl_path],
            "unknown-option": [d.veiligctl, "-x", "status"]}[how]
    r = subprocess.run(argv, capture_output=True, timeout=20, env=d.env)
    err = r.stderr.decode("utf-8", "replace")
    assert r.returncode == 1, "%s: status %d" % (argv[1:], r.returncode)
    assert "usage: veiligctl" in err and "flush" in err, \
        "%s: usage:\n%s" % (argv[1:], err)


@pytest.mark.parametrize("value", ["0", "-1", "x", "5s", "86401", ""])
def test_veiligctl_bad_timeout(veiligd_stale, value):
    """-t takes whole seconds from 1 to 86400: anything else, exit 1."""
    d = veiligd_stale
    argv = [d.veiligctl, "-s", d.ctl_path, "-t", value, "status"]
    r = subprocess.run(argv, capture_output=True, timeout=20, env=d.env)
    err = r.stderr.decode("utf-8", "replace")
    assert r.returncode == 1, "-t %r: status %d" % (value, r.returncode)
    assert "-t %s: not a number of seconds" % value in err, err


def test_veiligctl_timeout(veiligd_stale, tmp_path):
    """A socket that accepts and never answers: exit 2 after -t seconds,
    saying that the daemon may still carry the command out."""
    import socket
    import time
    d = veiligd_stale
    path = str(tmp_path / "mute.sock")
    mute = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    mute.bind(path)
    mute.listen(4)
    try:
        argv = [d.veiligctl, "-s", path, "-t", "1", "reload"]
        t0 = time.monotonic()
        r = subprocess.run(argv, capture_output=True, timeout=30, env=d.env)
        took = time.monotonic() - t0
    finally:
        mute.close()
    err = r.stderr.decode("utf-8", "replace")
    assert r.returncode == 2, "status %d: %s" % (r.returncode, err)
    assert "no answer within 1 seconds" in err, err
    assert "may still carry the command out" in err, err
    # The wait is -t, not the 600 s a reload gets by default.
    assert 0.9 <= took < 20, "veiligctl waited %.1f s" % took


def test_veiligctl_too_many_connections(veiligd_stale):
    """While 16 clients hold the control socket, veiligctl is told why it
    is turned away (it said "Connection reset by peer"), and is served
    again once they have gone."""
    import socket
    import time
    d = veiligd_stale
    held = []
    try:
        for _ in range(16):
            s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            s.connect(d.ctl_path)
            held.append(s)
        time.sleep(0.3)         # accepted, each holding a place
        code, out, err = d.ctl("status")
        assert code == 1, "status %d: %s%s" % (code, out, err)
        assert "error: too many control connections at once" in err, err
    finally:
        for s in held:
            s.close()
    deadline = time.monotonic() + 5
    while True:
        code, out, err = d.ctl("status")
        if code == 0 or time.monotonic() > deadline:
            break
        time.sleep(0.1)
    assert code == 0, "status after the clients left: %d %s" % (code, err)


# ------------------------------------------------------------------ flush

def _cache_entries(d):
    code, out, err = d.ctl("status")
    assert code == 0, "status: %d %s" % (code, err)
    m = re.search(r"^cache: (\d+) entries", out, re.M)
    assert m, "no cache entries in status:\n%s" % out
    return int(m.group(1))


def test_flush(veiligd_stale, fake):
    """veiligctl flush empties the cache: the next query is forwarded."""
    d = veiligd_stale
    name = "%s.ok.fake.test." % tag()
    ok_answer(dq(d.port, name), "first")
    ok_answer(dq(d.port, name), "cached")
    n = fake.count(name)
    assert n == 1, "forwarded %d times before the flush, want 1" % n
    assert _cache_entries(d) >= 1, "no cache entries after an answer"
    code, out, err = d.ctl("flush")
    assert code == 0, "flush: %d %s %s" % (code, out, err)
    got = _cache_entries(d)
    assert got == 0, "cache: %d entries after flush" % got
    ok_answer(dq(d.port, name), "after flush")
    n = fake.count(name)
    assert n == 2, "forwarded %d times after the flush, want 2" % n


# ------------------------------------- boards, lists, status and stats

def test_boards_lists_status_stats(veiligd_filter):
    d = veiligd_filter
    code, out, err = d.ctl("boards")
    assert code == 0, "boards: %d %s" % (code, err)
    rows = {x.split("\t")[0]: x.split("\t") for x in out.splitlines()
            if "\t" in x}
    for b in ("Board A", "Board B", "Board Refused", "Board Redirect",
              "Board Load"):
        assert b in rows, "boards: no %s in:\n%s" % (b, out)
    assert "127.0.0.2/32" in rows["Board B"], rows["Board B"]
    assert any("board-a.yaml" in f for f in rows["Board A"]), rows["Board A"]
    code, out, err = d.ctl("lists")
    assert code == 0, "lists: %d %s" % (code, err)
    got = [x.split("\t") for x in out.splitlines() if "\t" in x]
    assert [g[0] for g in got] == [x[0] for x in FILTER_LISTS], got
    for g, x in zip(got, FILTER_LISTS):
        assert len(g) == 4, "lists: %r is not NAME FORMAT FILE URL" % g
        assert g[1] == x[2], "lists: format %r for %s" % (g[1], x[0])
        assert g[2].endswith(x[1]), "lists: file %r for %s" % (g[2], x[0])
        assert g[3] == (x[3] if len(x) > 3 else "-"), "lists: url %r" % g[3]
    code, out, err = d.ctl("status")
    assert code == 0 and d.conf in out, "status: %d %s %s" % (
        code, out, err)
    assert re.search(r"boards: 5\b", out) and re.search(r"lists: 6\b", out), \
        out

    def blocked(what="blocked"):
        code, out, err = d.ctl("stats")
        assert code == 0, "stats: %d %s" % (code, err)
        m = re.search(r"^answers\.%s (\d+)$" % what, out, re.M)
        assert m, "no answers.%s in:\n%s" % (what, out)
        return int(m.group(1))
    b0, m0 = blocked(), blocked("blocked-memo")
    for i in range(3):
        fq(d, "%s.phish.filter.test." % tag())
    b1 = blocked()
    assert b1 >= b0 + 3, "answers.blocked %d then %d after 3 blocks" % (
        b0, b1)
    # the same blocked name twice as often as there are workers, and once
    # more (each has its memo, which keeps a verdict when its name comes
    # again): at least one worker blocks it a third time, from its memo
    workers = int(re.search(r"^workers: (\d+)$", d.ctl("status")[1],
                            re.M).group(1))
    name = "%s.phish.filter.test." % tag()
    for i in range(2 * workers + 1):
        fq(d, name)
    m1 = blocked("blocked-memo")
    assert m1 >= m0 + 1, "answers.blocked-memo %d then %d after a name " \
        "blocked %d times by %d workers" % (m0, m1, 2 * workers + 1,
                                            workers)
    code, out, err = d.ctl("no-such-command")
    assert code == 1, "unknown command: status %d" % code
    code, out, err = d.ctl("explain")
    assert code == 1, "explain without arguments: status %d" % code


# ---------------------------------------------------------------- explain

def test_explain(veiligd_filter, filter_dir):
    d = veiligd_filter
    phish = os.path.join(filter_dir, "lists", "phishing.txt")
    adult = os.path.join(filter_dir, "lists", "adult.txt")
    rpz = os.path.join(filter_dir, "lists", "malware.rpz")
    board_a = os.path.join(filter_dir, "boards", "board-a.yaml")

    def explain(*args):
        code, out, err = d.ctl("explain", *args)
        assert code == 0, "explain %s: status %d: %s%s" % (
            " ".join(args), code, out, err)
        return out

    def has(out, *parts):
        for p in parts:
            assert p in out, "no %r in explain output:\n%s" % (p, out)

    n = line_of(phish, "phish.filter.test")
    out = explain("board-a", "www.phish.filter.test")
    has(out, 'board: "Board A" (%s)' % board_a, "verdict: block",
        "nxdomain", "blocked: phishing",
        "list phishing", "%s:%d" % (os.path.basename(phish), n))
    assert re.search(r"listed: phishing entry phish\.filter\.test\.? \(\S*"
                     r"phishing\.txt:%d\)" % n, out), out
    # by address; board B does not block phishing
    out = explain(SRC_B, "www.phish.filter.test")
    has(out, "Board B", "verdict: pass", "phishing.txt:%d" % n,
        "not blocked by this board")
    out = explain("127.0.0.1", "casino.filter.test", "AAAA")
    has(out, "Board A", "AAAA", "verdict: pass")
    if HAVE_V6:
        has(explain("::1", "phish.filter.test"), "Board A", "verdict: block")
    # the deny list: file:line:column in the board file
    out = explain("board-a", "denied.filter.test")
    with open(board_a) as f:
        lines = f.read().splitlines()
    ln = next(i for i, x in enumerate(lines, 1) if x.startswith("deny:"))
    col = lines[ln - 1].index("denied.filter.test") + 1
    has(out, "verdict: block", "deny list", "board-a.yaml:%d:%d" % (ln, col))
    ln = next(i for i, x in enumerate(lines, 1) if x.startswith("allow:"))
    col = lines[ln - 1].index("allowed.phish") + 1
    out = explain("board-a", "x.allowed.phish.filter.test")
    has(out, "verdict: allow", "board-a.yaml:%d:%d" % (ln, col))
    # adblock exception and RPZ entries with their lines
    out = explain("board-a", "x.safe.adult.filter.test")
    has(out, "verdict: pass", "exception", "adult.txt:%d" % line_of(
        adult, "@@||safe.adult.filter.test^"))
    out = explain("board-a", "nx.malware.filter.test")
    has(out, "verdict: block", "malware", "malware.rpz:%d" % line_of(
        rpz, "nx.malware.filter.test\tCNAME\t."))
    # safe search and canaries name their tables
    ss = os.path.join(TABLES, "safesearch.txt")
    out = explain("board-a", "www.google.nl")
    has(out, "rewrite", "forcesafesearch.google.com", "safesearch.txt:%d" %
        line_of(ss, "www.google.nl forcesafesearch.google.com"))
    out = explain("board-a", "mask.icloud.com")
    has(out, "verdict: block", "canary", "canaries.txt:%d" % line_of(
        os.path.join(TABLES, "canaries.txt"), "mask.icloud.com"))
    # errors
    code, out, err = d.ctl("explain", "no-such-board", "phish.filter.test")
    assert code == 1, "unknown board: status %d" % code
    code, out, err = d.ctl("explain", SRC_NONE, "phish.filter.test")
    assert code == 1, "address of no board: status %d" % code
    code, out, err = d.ctl("explain", "board-a", "bad..name")
    assert code == 1, "bad name: status %d" % code
