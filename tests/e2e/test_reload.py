"""test_reload.py: a new configuration, boards or lists while veiligd runs.

SIGHUP and `veiligctl reload` put a good configuration in force and keep
the old one, naming file:line:column, when the new one is broken; the
cache is judged again under the new policy; reloads under load lose no
query; `veiligd -n` checks a configuration without starting.

Tests that reload a whole configuration start a veiligd of their own
(make_veiligd); those that change the lists or boards of veiligd_filter
use filter_restored, which puts its files back afterwards.
"""

import os
import re
import shutil
import socket
import struct
import subprocess
import threading
import time

import dns.exception
import dns.message
import dns.rcode
import pytest

from e2elib import (FILTER_LISTS, FILTER_SRC, LOOPBACK, SAN_PATTERNS,
                    SRC_LOAD, board_yaml, daemon_environ, dq, expect_block,
                    expect_pass, filter_conf, fq, free_port, metric, note,
                    ok_answer, rc, start, tag, tail, veiligd_conf, write_file)


@pytest.fixture
def filter_restored(veiligd_filter, filter_dir):
    """veiligd_filter; after the test its lists and boards are put back as
    they were before it, and reloaded if they changed."""
    def snapshot():
        out = {}
        for sub in ("lists", "boards"):
            base = os.path.join(filter_dir, sub)
            for n in os.listdir(base):
                with open(os.path.join(base, n)) as f:
                    out[os.path.join(base, n)] = f.read()
        return out
    before = snapshot()
    yield veiligd_filter
    after = snapshot()
    if after == before:
        return
    for p in after:
        if p not in before:
            os.unlink(p)
    for p, text in before.items():
        if after.get(p) != text:
            write_file(p, text)
    code, out, err = veiligd_filter.ctl("reload")
    assert code == 0, "reload of the restored filter files: %d %s %s" % (
        code, out, err)


# ------------------------------------------------- the whole configuration

def _hup_until(d, check, what, secs=4.0):
    d.hup()
    deadline = time.monotonic() + secs
    last = None
    while time.monotonic() < deadline:
        try:
            if check():
                return
        except (AssertionError, dns.exception.DNSException, OSError) as e:
            last = e
        time.sleep(0.2)
    raise AssertionError("%s not in force %.0f s after SIGHUP (%s)" % (
        what, secs, last))


def test_reload_access(make_veiligd, nsd):
    d = make_veiligd("reload-access", [nsd.addr], networks=["127.0.0.2/32"])
    r = dq(d.port, "www.example.test.", timeout=1)
    assert r.rcode() == dns.rcode.REFUSED, "before: %s" % rc(r)
    d.set_networks(LOOPBACK)
    _hup_until(d, lambda: dq(d.port, "www.example.test.", timeout=1).rcode()
               == dns.rcode.NOERROR, "new board networks:")
    assert d.alive()


def test_reload_upstreams(make_veiligd, nsd, fake):
    d = make_veiligd("reload-upstreams", [nsd.addr])
    name = "%s.ok.fake.test." % tag()
    r = dq(d.port, name, timeout=3)
    assert r.rcode() != dns.rcode.NOERROR, \
        "fake.test answered before the reload"
    d.write_conf(d.remake(upstreams=fake.ups[:1]))

    def fresh_ok():
        r = dq(d.port, "%s.ok.fake.test." % tag(), timeout=1.5)
        return r.rcode() == dns.rcode.NOERROR and r.answer
    _hup_until(d, fresh_ok, "new upstreams:")


def test_reload_cache_size_waits(make_veiligd, fake):
    """A changed cache.size waits for a restart: the reload says so, and
    veilig_cache_max_bytes and veiligctl status keep the size in force."""
    mport = free_port()
    d = make_veiligd("reload-cache", fake.ups[:1],
                     extra="metrics: 127.0.0.1:%d\n" % mport)
    old, new = 16 << 20, 32 << 20       # e2elib's, and another
    assert metric(mport, "veilig_cache_max_bytes") == old
    d.write_conf(d.remake().replace("size: 16MiB", "size: 32MiB"))
    code, out, err = d.ctl("reload")
    assert code == 0, err
    assert "cache settings changed: restart veiligd to apply them" in out, \
        out
    got = metric(mport, "veilig_cache_max_bytes")
    assert got == old, "/metrics shows %d after the reload to %d" % (got, new)
    code, out, err = d.ctl("status")
    assert code == 0, err
    assert re.search(r"^cache: \d+ entries, \d+ bytes of %d$" % old, out,
                     re.M), out


def bad_conf(good):
    """good with an unknown key at line 3 and a bad value: (the text, the
    lines of the errors)."""
    lines = good.splitlines()
    # line 3 (after the comment and "server:"): unknown key; a bad value too
    lines.insert(2, "  no-such-key: 1")
    lines = [x.replace("workers: 2", "workers: lots") for x in lines]
    return "\n".join(lines) + "\n", [3, next(
        i + 1 for i, x in enumerate(lines) if "workers: lots" in x)]


def test_reload_bad_config_keeps_old(make_veiligd, fake):
    d = make_veiligd("reload-bad", fake.ups[:1])
    off = d.log_size()
    text, lines = bad_conf(d.remake())
    d.write_conf(text)
    d.hup()
    deadline = time.monotonic() + 4
    pat = re.compile(re.escape(d.conf) + r":(\d+):(\d+):")
    while time.monotonic() < deadline and not pat.search(d.log_since(off)):
        time.sleep(0.2)
    log = d.log_since(off)
    assert d.alive(), "veiligd died on a bad config at SIGHUP"
    assert pat.search(log), \
        "no %s:line:column: in the log after SIGHUP:\n%s" % (
            d.conf, log[-500:])
    # the previous configuration (upstream fake, networks 127.0/16) still holds
    r = dq(d.port, "%s.ok.fake.test." % tag(), timeout=3)
    ok_answer(r, "after a bad reload")


def test_reload_bad_stats_dir_keeps_old(make_veiligd, fake, tmp_path):
    """A reload to a stats.dir that cannot be made fails, saying why, and
    keeps the directory in force: it said "reloaded" and went on with a
    directory it could not write, the statistics lost."""
    good = str(tmp_path / "stats")
    d = make_veiligd("reload-stats", fake.ups[:1],
                     extra="stats: { dir: %s }\n" % good)
    plain = str(tmp_path / "plain")
    write_file(plain, "a file, not a directory\n")
    d.write_conf(d.remake(extra="stats: { dir: %s/stats }\n" % plain))
    code, out, err = d.ctl("reload")
    assert code == 1, "reload to a bad stats.dir: status %d: %s%s" % (
        code, out, err)
    assert "stats.dir %s/stats: Not a directory" % plain in out + err, \
        out + err
    assert "the configuration in force stays" in out + err, out + err
    code, out, err = d.ctl("status")
    assert code == 0, "status after the failed reload: %d %s" % (code, err)
    r = dq(d.port, "%s.ok.fake.test." % tag(), timeout=3)
    ok_answer(r, "after a failed reload")


def _check(veiligd_bin, conf, timeout=10):
    """veiligd -n -c conf: (exit status, stderr); no sanitizer report."""
    r = subprocess.run([veiligd_bin, "-n", "-c", conf], capture_output=True,
                       timeout=timeout, env=daemon_environ())
    err = r.stderr.decode("utf-8", "replace")
    for s in SAN_PATTERNS:
        assert s not in err, "sanitizer report from -n:\n%s" % err[-800:]
    return r.returncode, err


def _plain_conf(tmp_path):
    """A good configuration with one board, in tmp_path."""
    write_file(str(tmp_path / "boards" / "board.yaml"),
               board_yaml("Board check", LOOPBACK))
    return veiligd_conf(["127.0.0.1:%d" % free_port()],
                        ["127.0.0.1:%d" % free_port()],
                        str(tmp_path / "boards" / "*.yaml"),
                        str(tmp_path / "ctl.sock"))


def test_check_config_good(veiligd_bin, tmp_path):
    good = str(tmp_path / "check-good.yaml")
    write_file(good, _plain_conf(tmp_path))
    code, err = _check(veiligd_bin, good)
    assert code == 0, "-n on a good file: status %d: %s" % (code, err[-300:])


def test_check_config_errors(veiligd_bin, tmp_path):
    bad = str(tmp_path / "check-bad.yaml")
    text, lines = bad_conf(_plain_conf(tmp_path))
    write_file(bad, text)
    code, err = _check(veiligd_bin, bad)
    assert code == 1, "-n on a bad file: status %d" % code
    found = {int(m.group(1)) for m in
             re.finditer(re.escape(bad) + r":(\d+):(\d+):", err)}
    assert set(lines) <= found, "want errors at lines %s, got %s in:\n%s" % (
        lines, sorted(found), err[-400:])


def test_check_config_missing_file(veiligd_bin, tmp_path):
    code, err = _check(veiligd_bin, str(tmp_path / "no-such-file.yaml"))
    assert code == 1, "-n on a missing file: status %d" % code


def test_check_stats_dir(veiligd_bin, tmp_path):
    """-n checks stats.dir as a start would make it and write in it,
    naming the key's file:line:column: a file there, or a parent missing,
    is an error (-n said OK and the start stopped). A directory to be
    made is fine, and -n does not make it."""
    plain = str(tmp_path / "plain")
    write_file(plain, "a file, not a directory\n")
    conf = str(tmp_path / "check-stats.yaml")
    text = _plain_conf(tmp_path)
    line = text.count("\n") + 2
    for d, want in ((plain, "not a directory"),
                    (str(tmp_path / "nope" / "stats"),
                     "cannot be made: %s: No such file or directory" %
                     (tmp_path / "nope"))):
        write_file(conf, text + "stats:\n  dir: %s\n" % d)
        code, err = _check(veiligd_bin, conf)
        assert code == 1, "-n, stats.dir %s: status %d: %s" % (d, code, err)
        assert "%s:%d:3: stats.dir %s: %s" % (conf, line, d, want) in err, \
            err
    made = str(tmp_path / "stats")
    write_file(conf, text + "stats:\n  dir: %s\n" % made)
    code, err = _check(veiligd_bin, conf)
    assert code == 0, "-n, stats.dir to be made: status %d: %s" % (code, err)
    assert not os.path.exists(made), "-n made stats.dir"


def test_start_bad_stats_dir_said_once(veiligd_bin, tmp_path):
    """A start with a stats.dir that cannot be made stops, saying why
    once: stats_configure() warned and stats_new() failed with it too."""
    plain = str(tmp_path / "plain")
    write_file(plain, "a file, not a directory\n")
    conf = str(tmp_path / "start-stats.yaml")
    write_file(conf, _plain_conf(tmp_path) +
               "stats:\n  dir: %s/stats\n" % plain)
    r = subprocess.run([veiligd_bin, "-d", "-c", conf], capture_output=True,
                       timeout=20, env=daemon_environ())
    err = r.stderr.decode("utf-8", "replace")
    assert r.returncode == 1, "start: status %d: %s" % (r.returncode, err)
    assert err.count("stats.dir %s/stats: Not a directory" % plain) == 1, err


# ------------------------------------------------------ lists and boards

def test_reload_reinspects_cache(filter_restored, filter_dir, fake):
    """A cached answer is judged again under a reloaded policy."""
    d = filter_restored
    rl = os.path.join(filter_dir, "lists", "reload.txt")
    cloak = "%s.cloakphish.filter.test." % tag()
    bad = "%s.badip.filter.test." % tag()
    expect_pass(fq(d, cloak, src=SRC_LOAD), "before",
                want=("192.0.2.1",))
    write_file(rl, "# the cloaked target\ncloaked-phish.filter.test\n")
    code, out, err = d.ctl("reload")
    assert code == 0, "reload: %d %s %s" % (code, out, err)
    for i in range(2):
        expect_block(fq(d, cloak, src=SRC_LOAD), "cached, after #%d" % i,
                     text="blocked: reload")
    assert fake.count(cloak) == 1, "asked upstream %d times" % \
        fake.count(cloak)
    # and the other way: B passes a cached badip answer that A blocks
    expect_block(fq(d, bad), "A badip", text="blocked: badips")
    write_file(rl, "# empty again\n")
    code, out, err = d.ctl("reload")
    assert code == 0, "reload: %d %s %s" % (code, out, err)
    expect_pass(fq(d, cloak, src=SRC_LOAD), "after unlisting")
    expect_block(fq(d, bad), "A badip after reload", text="blocked: badips")


def test_reload_broken_board_keeps_old(filter_restored, filter_dir):
    d = filter_restored
    code, out, err = d.ctl("reload")
    assert code == 0, "reload: status %d: %s %s" % (code, out, err)
    broken = os.path.join(filter_dir, "boards", "board-broken.yaml")
    text = ("# broken on purpose\nname: Broken\n"
            "networks: [ 127.0.0.7/32, 300.1.2.3/8 ]\n"
            "block: [ no-such-list ]\nno-such-key: 1\n")
    write_file(broken, text)
    try:
        # a new board file with errors is left out; the rest reloads
        code, out, err = d.ctl("reload")
        assert code == 0, "reload with a broken board: status %d" % code
        assert "1 board file has errors" in out, out
        lines = {int(m.group(1)) for m in re.finditer(
            re.escape(broken) + r":(\d+):(\d+):", out + err)}
        assert {3, 4, 5} <= lines, "want errors at lines 3, 4, 5 of %s, " \
            "got %s in:\n%s%s" % (broken, sorted(lines), out, err)
        code, out, err = d.ctl("status")
        assert re.search(r"^  %s: left out; 3 errors, the first: %s:3:" % (
            re.escape(broken), re.escape(broken)), out, re.M), out
        # the other boards' policy still answers
        expect_block(fq(d, "phish.filter.test."), "after a failed reload",
                     text="blocked: phishing")
        r = fq(d, "www.filter.test.", src="127.0.0.7")
        assert r.rcode() == dns.rcode.REFUSED, \
            "broken board in force: %s" % rc(r)
        # SIGHUP logs the same and keeps the old policy too
        off = d.log_size()
        d.hup()
        deadline = time.monotonic() + 4
        pat = re.compile(re.escape(broken) + r":\d+:\d+:")
        while time.monotonic() < deadline and not pat.search(
                d.log_since(off)):
            time.sleep(0.1)
        assert pat.search(d.log_since(off)), \
            "no error in the log after SIGHUP"
        expect_block(fq(d, "phish.filter.test."), "after a failed SIGHUP",
                     text="blocked: phishing")
    finally:
        os.unlink(broken)


def test_reload_garbage_list_keeps_old(filter_restored, filter_dir):
    """A list that became mostly garbage: the reload fails, naming it."""
    d = filter_restored
    adult = os.path.join(filter_dir, "lists", "adult.txt")
    with open(adult) as f:
        keep = f.read()
    write_file(adult, "junk junk\nmore junk\n||new-adult.filter.test^\n%%%\n")
    try:
        code, out, err = d.ctl("reload")
        assert code == 1, "reload with a garbage list: status %d" % code
        assert adult in out + err, "garbage list not named:\n%s%s" % (
            out, err)
        expect_block(fq(d, "adult.filter.test."), "old adult list",
                     text="blocked: adult")
        expect_pass(fq(d, "new-adult.filter.test."), "new adult list")
    finally:
        write_file(adult, keep)


def test_reload_new_board(filter_restored, filter_dir):
    """A good board added at reload is in force at once."""
    d = filter_restored
    new = os.path.join(filter_dir, "boards", "board-new.yaml")
    write_file(new, board_yaml("Board New", ["127.0.0.7/32"],
                               "block: [ gambling ]\naction: refused\n"))
    code, out, err = d.ctl("reload")
    assert code == 0, "reload: status %d: %s %s" % (code, out, err)
    expect_block(fq(d, "casino.filter.test.", src="127.0.0.7"), "new board",
                 rcode=dns.rcode.REFUSED, text="blocked: gambling")
    expect_pass(fq(d, "phish.filter.test.", src="127.0.0.7"), "new board")
    os.unlink(new)
    code, out, err = d.ctl("reload")
    assert code == 0, "reload: status %d: %s %s" % (code, out, err)


# ------------------------------------- veiligd -n on lists and boards

def _check_dir(tmp_path, lists=FILTER_LISTS):
    """A copy of the filter directory for veiligd -n: (dir, config path)."""
    d = str(tmp_path / "filter")
    shutil.copytree(FILTER_SRC, d)
    conf = os.path.join(d, "veiligd.yaml")
    write_file(conf, filter_conf(["127.0.0.1:%d" % free_port()],
                                 ["127.0.0.1:%d" % free_port()],
                                 os.path.join(d, "ctl.sock"), False,
                                 lists=lists))
    return d, conf


def test_check_lists_and_boards_clean(veiligd_bin, tmp_path):
    d, conf = _check_dir(tmp_path)
    code, err = _check(veiligd_bin, conf, timeout=20)
    assert code == 0, "-n on the fixture: %d:\n%s" % (code, err[-600:])
    assert not re.search(r"\.(txt|rpz|yaml):\d+", err), \
        "warnings on the fixture:\n%s" % err[-600:]


def test_check_garbage_list(veiligd_bin, tmp_path):
    """A list of mostly garbage: rejected, naming the file."""
    d, conf = _check_dir(tmp_path)
    bad = os.path.join(d, "lists", "phishing.txt")
    write_file(bad, "good.filter.test\n" + "".join(
        "not a name %d !!\n" % i for i in range(10)))
    code, err = _check(veiligd_bin, conf, timeout=20)
    assert code == 1, "-n with a garbage list: status %d" % code
    assert bad in err or "lists/phishing.txt" in err, \
        "the garbage list is not named:\n%s" % err[-600:]


def test_check_list_warnings(veiligd_bin, tmp_path):
    """A few bad lines: accepted, with file:line warnings."""
    d, conf = _check_dir(tmp_path)
    warn = os.path.join(d, "lists", "phishing.txt")
    with open(warn) as f:
        n0 = len(f.read().splitlines())
    with open(warn, "a") as f:
        f.write("bad name here\n")          # line n0 + 1
        f.write("ok1.filter.test\nok2.filter.test\nok3.filter.test\n")
        f.write("x..y.filter.test\n")       # line n0 + 5
    code, err = _check(veiligd_bin, conf, timeout=20)
    assert code == 0, "-n with 2 bad lines: status %d:\n%s" % (
        code, err[-600:])
    for ln in (n0 + 1, n0 + 5):
        assert re.search(r"phishing\.txt:%d\b" % ln, err), \
            "no warning naming phishing.txt:%d in:\n%s" % (ln, err[-600:])


def test_check_missing_list(veiligd_bin, tmp_path):
    d, conf = _check_dir(tmp_path)
    os.unlink(os.path.join(d, "lists", "gambling.txt"))
    code, err = _check(veiligd_bin, conf, timeout=20)
    assert code == 1, "-n with a missing list: status %d" % code
    assert "gambling.txt" in err, err[-600:]


@pytest.mark.parametrize("kind", ["fifo", "device"])
def test_check_list_not_regular(veiligd_bin, tmp_path, kind):
    """A list file that is a FIFO or a device: an error naming it, at
    once. Opening a FIFO blocked for ever, and /dev/zero never ended."""
    d, conf = _check_dir(tmp_path)
    path = os.path.join(d, "lists", "gambling.txt")
    os.unlink(path)
    if kind == "fifo":
        os.mkfifo(path)
    else:
        os.symlink("/dev/zero", path)
    code, err = _check(veiligd_bin, conf, timeout=20)
    assert code == 1, "-n with a %s as list: status %d" % (kind, code)
    assert "%s: not a regular file" % path in err, err[-600:]


def test_reload_list_fifo_keeps_old(filter_restored, filter_dir):
    """A list replaced by a FIFO: the reload fails at once, naming it, and
    the daemon goes on answering, its control socket too."""
    d = filter_restored
    adult = os.path.join(filter_dir, "lists", "adult.txt")
    with open(adult) as f:
        keep = f.read()
    os.unlink(adult)
    os.mkfifo(adult)
    try:
        code, out, err = d.ctl("reload")
        assert code == 1, "reload with a FIFO as list: status %d" % code
        assert "%s: not a regular file" % adult in out + err, \
            "FIFO not named:\n%s%s" % (out, err)
        code, out, err = d.ctl("status")
        assert code == 0, "status after the reload: %d %s" % (code, err)
        expect_block(fq(d, "adult.filter.test."), "old adult list",
                     text="blocked: adult")
    finally:
        # Free a veiligd stuck in the FIFO's open(): a writer, then EOF.
        try:
            fd = os.open(adult, os.O_WRONLY | os.O_NONBLOCK)
            os.close(fd)
        except OSError:
            pass
        os.unlink(adult)
        write_file(adult, keep)


def test_check_overlapping_boards(veiligd_bin, tmp_path):
    """Two boards with overlapping networks: both files named."""
    d, conf = _check_dir(tmp_path)
    over = os.path.join(d, "boards", "board-over.yaml")
    write_file(over, board_yaml("Board Over", ["127.0.0.0/30"]))
    code, err = _check(veiligd_bin, conf, timeout=20)
    assert code == 1, "-n with overlapping boards: status %d" % code
    assert "board-over.yaml" in err, "overlap: no board-over.yaml:\n%s" % err
    assert re.search(r"board-(a|b)\.yaml", err), \
        "overlap: the other board file is not named:\n%s" % err


# ---------------------------------------------------- reloads under load

def _load_names(n):
    return ["r%d.load.filter.test." % i for i in range(n)]


def _send_load(port, src, names, count, rate, secs):
    """
    Python sender: count queries at rate per second from src, round-robin
    over names; the number of queries that got no answer. Bounded by secs.
    """
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind((src, 0))
    s.setblocking(False)
    pending = set()
    t0 = time.monotonic()
    sent = 0
    deadline = t0 + secs
    try:
        while time.monotonic() < deadline:
            due = min(count, int((time.monotonic() - t0) * rate) + 1)
            while sent < due:
                q = dns.message.make_query(names[sent % len(names)], "A")
                q.id = sent & 0xffff
                try:
                    s.sendto(q.to_wire(), ("127.0.0.1", port))
                    pending.add(q.id)
                except BlockingIOError:
                    pass
                sent += 1
            while True:
                try:
                    data = s.recv(4096)
                except BlockingIOError:
                    break
                if len(data) >= 2:
                    pending.discard(struct.unpack("!H", data[:2])[0])
            if sent >= count and not pending:
                break
            time.sleep(0.002)
    finally:
        s.close()
    return sent, len(pending)


def test_reload_under_load(filter_restored, filter_dir, tmp_path):
    """Reloads every 0.2 s while queries flow: none lost, last list wins.
    The load comes from dnsperf, or from a Python sender without it."""
    d = filter_restored
    rl = os.path.join(filter_dir, "lists", "reload.txt")
    names = _load_names(20)
    secs = 5
    qfile = str(tmp_path / "load.txt")
    with open(qfile, "w") as f:
        # the listed names (cache hits after the first round) and as many
        # fresh names (forwarded while reloads go on)
        t = tag()
        for i in range(1000):
            f.write("%s A\n" % names[i % len(names)].rstrip("."))
            f.write("u%d.%s.load.filter.test A\n" % (i, t))
    perf = shutil.which("dnsperf")
    out_path = str(tmp_path / "dnsperf.out")
    if perf:
        p = start([perf, "-s", "127.0.0.1", "-p", str(d.port), "-a",
                   SRC_LOAD, "-d", qfile, "-l", str(secs), "-Q", "1000",
                   "-t", "3", "-c", "2"], out_path + ".err",
                  outpath=out_path)
    else:
        res = {}
        th = threading.Thread(target=lambda: res.update(r=_send_load(
            d.port, SRC_LOAD, names, secs * 500, 500, secs + 4)))
        th.start()
    reloads = bad = 0
    t_end = time.monotonic() + secs
    i = 0
    while time.monotonic() < t_end:
        i += 1
        # every reload a different half of the names is listed
        write_file(rl, "# reload %d\n" % i + "".join(
            n.rstrip(".") + "\n" for k, n in enumerate(names) if (k + i) % 2))
        if i % 2:
            d.hup()
        else:
            code, out, err = d.ctl("reload", timeout=5)
            bad += code != 0
        reloads += 1
        time.sleep(0.2)
    # the final policy: only final.load.filter.test and r0 listed
    write_file(rl, "# final\nfinal.load.filter.test\nr0.load.filter.test\n")
    time.sleep(0.3)                 # let the last SIGHUP finish first
    code, out, err = d.ctl("reload", timeout=10)
    assert code == 0, "final reload: %d %s %s" % (code, out, err)
    if perf:
        try:
            p.wait(secs + 10)
        except subprocess.TimeoutExpired:
            p.kill()
            raise AssertionError("dnsperf still running")
        with open(out_path) as f:
            rep = f.read()
        m = re.search(r"Queries sent:\s+(\d+)", rep)
        lost = re.search(r"Queries lost:\s+(\d+)", rep)
        assert m and lost, "dnsperf output:\n%s%s" % (
            rep[-800:], tail(out_path + ".err"))
        sent, nlost = int(m.group(1)), int(lost.group(1))
    else:
        th.join(secs + 10)
        sent, nlost = res.get("r", (0, -1))
    note("load (%s): %d queries, %d lost, %d reloads" % (
        "dnsperf" if perf else "Python sender", sent, nlost, reloads))
    assert bad == 0, "%d veiligctl reloads failed under load" % bad
    assert sent >= secs * 300, "only %d queries sent" % sent
    assert nlost == 0, "%d of %d queries lost during %d reloads" % (
        nlost, sent, reloads)
    assert d.alive()
    expect_block(fq(d, "final.load.filter.test.", src=SRC_LOAD), "final",
                 text="blocked: reload")
    expect_block(fq(d, "r0.load.filter.test.", src=SRC_LOAD), "final r0",
                 text="blocked: reload")
    for n in names[1:4]:
        expect_pass(fq(d, n, src=SRC_LOAD), "final " + n)
