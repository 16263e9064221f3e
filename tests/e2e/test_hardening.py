"""test_hardening.py: board files as a trust boundary, and root given up.

    python3 -m pytest tests/e2e/test_hardening.py

End to end, with the real veiligd and veiligctl (the suite's --veiligd
and veiligctl beside it; else VEILIGD and VEILIGCTL, default build/) on
a free port of 127.0.0.1:
  - a board file claiming ::/0 or 0.0.0.0/0 is an error at its line and
    column; at start that board is left out and the rest serves;
  - a broken board file next to good ones, at start and on reload: the
    good ones apply (changes included), the broken one keeps its last
    good policy (or is left out when it never had one), veiligctl
    status shows the error until the file is mended, systemd hears of
    it (STATUS=, through a NOTIFY_SOCKET of our own), and veiligd -n
    still fails;
  - started as root with server.user, veiligd runs as that user with no
    capability left (/proc/PID/status), answers, and still reads its
    files on reload; started as that user already (as under systemd's
    User=), nothing changes.

Self-contained: configurations in a temporary directory readable by
everyone (the dropped user must read them), no upstream at all: the
answers that tell are the policy's own (a deny: name is NXDOMAIN, an
address of no board is REFUSED). Clients send from 127.0.x.y addresses,
one /24 per board. Every wait is bounded.
"""

import os
import pwd
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import time

import dns.flags
import dns.message
import dns.query
import dns.rcode
import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
VEILIGD = os.environ.get("VEILIGD", os.path.join(ROOT, "build", "veiligd"))
VEILIGCTL = os.environ.get("VEILIGCTL",
                           os.path.join(ROOT, "build", "veiligctl"))
TABLES = os.path.join(ROOT, "blocklists")


def binaries(request):
    """veiligd and veiligctl under test: the --veiligd option of the e2e
    suite's conftest when there is one (veiligctl beside it), else
    VEILIGD and VEILIGCTL, else build/."""
    opt = request.config.getoption("--veiligd", default=None)
    if opt:
        d = os.path.abspath(opt)
        return d, os.path.join(os.path.dirname(d), "veiligctl")
    return os.path.abspath(VEILIGD), os.path.abspath(VEILIGCTL)


def free_port():
    """A port free for UDP and TCP on 127.0.0.1 (and the upstream port
    that is never answered)."""
    for _ in range(50):
        u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        u.bind(("127.0.0.1", 0))
        port = u.getsockname()[1]
        t = socket.socket()
        try:
            t.bind(("127.0.0.1", port))
            return port
        except OSError:
            continue
        finally:
            t.close()
            u.close()
    raise RuntimeError("no free port")


def board(name, nets, deny=(), extra=""):
    return "name: %s\nnetworks: [ %s ]\ndeny: [ %s ]\n%s" % (
        name, ", ".join('"%s"' % n for n in nets), ", ".join(deny), extra)


class Veiligd:
    """A configuration directory and one veiligd started on it."""

    def __init__(self, bins, user=None, notify=False):
        self.veiligd, self.veiligctl = bins
        assert os.access(self.veiligd, os.X_OK), \
            "%s: not built (make all)" % self.veiligd
        self.dir = tempfile.mkdtemp(prefix="veilig-hard.")
        os.chmod(self.dir, 0o755)
        os.mkdir(os.path.join(self.dir, "boards"), 0o755)
        self.port = free_port()
        self.sock = os.path.join(self.dir, "ctl.sock")
        self.conf = os.path.join(self.dir, "veiligd.yaml")
        self.log = os.path.join(self.dir, "veiligd.log")
        self.proc = None
        self.notify = None
        if notify:
            self.notify_path = os.path.join(self.dir, "notify.sock")
            self.notify = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
            self.notify.bind(self.notify_path)
            os.chmod(self.notify_path, 0o666)
        self.write("veiligd.yaml",
                   "server:\n"
                   "  listen: [ \"127.0.0.1:%d\" ]\n"
                   "  workers: 2\n"
                   "%s"
                   "upstreams: [ \"127.0.0.1:%d\" ]\n"
                   "forward: { timeout: 100ms, attempts: 1 }\n"
                   "boards: boards/*.yaml\n"
                   "filter: { tables: \"%s\" }\n"
                   "control: \"%s\"\n" % (
                       self.port, "  user: %s\n" % user if user else "",
                       free_port(), TABLES, self.sock))

    def write(self, rel, text):
        p = os.path.join(self.dir, rel)
        with open(p, "w") as f:
            f.write(text)
        os.chmod(p, 0o644)
        return p

    def start(self, preexec=None):
        env = dict(os.environ)
        env.pop("NOTIFY_SOCKET", None)
        if self.notify is not None:
            env["NOTIFY_SOCKET"] = self.notify_path
        self.logf = open(self.log, "ab")
        self.proc = subprocess.Popen([self.veiligd, "-d", "-c", self.conf],
                                     stdin=subprocess.DEVNULL,
                                     stdout=self.logf, stderr=self.logf,
                                     env=env, preexec_fn=preexec)
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            assert self.proc.poll() is None, \
                "veiligd exited %d:\n%s" % (self.proc.returncode,
                                            self.read_log())
            if self.ctl("status")[0] == 0:
                return
            time.sleep(0.1)
        raise AssertionError("veiligd not up:\n" + self.read_log())

    def stop(self):
        """Stop veiligd (SIGTERM) and clean up; it must have exited 0
        without a sanitizer's report."""
        rc, log = 0, ""
        if self.proc is not None:
            if self.proc.poll() is None:
                self.proc.terminate()
                try:
                    self.proc.wait(10)
                except subprocess.TimeoutExpired:
                    self.proc.kill()
                    self.proc.wait(5)
            self.logf.close()
            rc, log = self.proc.returncode, self.read_log()
        if self.notify is not None:
            self.notify.close()
        shutil.rmtree(self.dir, ignore_errors=True)
        assert rc == 0 and "Sanitizer" not in log, \
            "veiligd exited %d:\n%s" % (rc, log[-3000:])

    def read_log(self):
        with open(self.log, errors="replace") as f:
            return f.read()

    def ctl(self, *args):
        p = subprocess.run([self.veiligctl, "-s", self.sock] + list(args),
                           capture_output=True, text=True, timeout=30)
        return p.returncode, p.stdout + p.stderr

    def check(self):
        """veiligd -n on the configuration: (status, output)."""
        p = subprocess.run([self.veiligd, "-n", "-c", self.conf],
                           capture_output=True, text=True, timeout=60)
        return p.returncode, p.stderr

    def reload(self):
        rc, out = self.ctl("reload")
        assert rc == 0, out
        return out

    def rcode(self, name, src):
        """The rcode of an A query for name sent from address src."""
        q = dns.message.make_query(name, "A")
        r = dns.query.udp(q, "127.0.0.1", port=self.port, source=src,
                          timeout=3)
        return r.rcode()

    def notified(self, secs=5):
        """Every sd_notify() message that arrived (waiting for one)."""
        out = []
        self.notify.settimeout(secs)
        try:
            while True:
                out.append(self.notify.recv(4096).decode())
                self.notify.settimeout(0.2)
        except (socket.timeout, BlockingIOError):
            pass
        return out


@pytest.fixture
def bins(request):
    return binaries(request)


@pytest.fixture
def vd(bins):
    v = Veiligd(bins, notify=True)
    yield v
    v.stop()


NX = dns.rcode.NXDOMAIN
REFUSED = dns.rcode.REFUSED


def status_broken(out):
    """veiligctl status: the number of board files with errors, and the
    lines that name them."""
    m = re.search(r"^board files with errors: (\d+)$", out, re.M)
    assert m, "no 'board files with errors' in status:\n" + out
    return int(m.group(1)), [l.strip() for l in out.splitlines()
                             if l.startswith("  ")]


# ------------------------------------------------------------ board limits

def test_board_claiming_everything(vd):
    """::/0 and 0.0.0.0/0 are errors at their line and column, whatever
    the limits; at start that board is left out and the others serve."""
    vd.write("boards/a.yaml", board("A", ["127.0.1.0/24"], ["a.example"]))
    z = vd.write("boards/z.yaml", "name: Z\nnetworks:\n"
                 "  - \"::/0\"\n  - 0.0.0.0/0\n")
    rc, err = vd.check()
    assert rc == 1, err
    assert "%s:3:5: networks: '::/0' is every IPv6 address" % z in err
    assert "%s:4:5: networks: '0.0.0.0/0' is every IPv4 address" % z in err

    vd.start()
    assert vd.rcode("a.example", "127.0.1.1") == NX
    # Z would have taken every address: none is its.
    assert vd.rcode("a.example", "127.0.9.9") == REFUSED
    n, lines = status_broken(vd.ctl("status")[1])
    assert n == 1
    assert lines[0].startswith("%s: left out; 2 errors, the first: "
                               "%s:3:5: networks: '::/0'" % (z, z)), lines


def test_board_wider_than_limit(vd):
    """A /8 is wider than the default /16; board-limits moves it."""
    a = vd.write("boards/a.yaml", board("A", ["127.0.0.0/8"], ["a.example"]))
    rc, err = vd.check()
    assert rc == 1
    assert "%s:2:13: networks: '127.0.0.0/8' is wider than /16" % a in err
    with open(vd.conf, "a") as f:
        f.write("board-limits: { widest-ipv4: 8 }\n")
    rc, err = vd.check()
    assert rc == 0, err


# -------------------------------------------------------- broken board files

def test_broken_board_at_start_and_on_reload(vd):
    a = vd.write("boards/a.yaml", board("A", ["127.0.1.0/24"],
                                        ["a1.example"]))
    b = vd.write("boards/b.yaml", board("B", ["127.0.2.0/24"],
                                        ["b1.example"]))
    # c.yaml never was good: a YAML syntax error on line 3.
    c = vd.write("boards/c.yaml", "name: C\nnetworks: [ 127.0.3.0/24 ]\n"
                 "deny: [ c1.example\n")

    # veiligd -n refuses it all ...
    rc, err = vd.check()
    assert rc == 1, err
    assert "%s:4:1: YAML syntax error" % c in err

    # ... a start serves the rest, and says so.
    vd.start()
    assert vd.rcode("a1.example", "127.0.1.1") == NX
    assert vd.rcode("b1.example", "127.0.2.1") == NX
    assert vd.rcode("c1.example", "127.0.3.1") == REFUSED
    n, lines = status_broken(vd.ctl("status")[1])
    assert n == 1
    assert lines[0].startswith("%s: left out; 1 error, the first: "
                               "%s:4:1: YAML syntax error" % (c, c)), lines
    log = vd.read_log()
    assert "%s:4:1: YAML syntax error" % c in log
    assert "%s: 1 error: board left out until mended" % c in log
    msgs = "\n".join(vd.notified())
    assert "READY=1" in msgs
    assert "STATUS=running; 1 board file with errors (0 kept at the last " \
        "good version, 1 left out)" in msgs, msgs

    # Reload: a changes (and applies); b moves to another network and
    # breaks on the way (an unknown key): b keeps its last good policy
    # entire, old network and old deny list; c is still left out.
    vd.write("boards/a.yaml", board("A", ["127.0.1.0/24"], ["a2.example"]))
    vd.write("boards/b.yaml", board("B", ["127.0.4.0/24"], ["b2.example"],
                                    "safe-search: yes\nblok: [ x ]\n"))
    out = vd.reload()
    assert "%s:5:1: blok: unknown key" % b in out, out
    assert "2 board files have errors" in out, out
    assert vd.rcode("a2.example", "127.0.1.1") == NX
    assert vd.rcode("a1.example", "127.0.1.1") != NX      # gone from a
    assert vd.rcode("b1.example", "127.0.2.1") == NX      # b as it was
    assert vd.rcode("b2.example", "127.0.2.1") != NX
    assert vd.rcode("b2.example", "127.0.4.1") == REFUSED
    assert vd.rcode("c1.example", "127.0.3.1") == REFUSED
    n, lines = status_broken(vd.ctl("status")[1])
    assert n == 2
    assert lines[0].startswith("%s: last good version kept; 1 error, the "
                               "first: %s:5:1: blok: unknown key" % (b, b)), \
        lines
    assert lines[1].startswith("%s: left out" % c), lines
    msgs = "\n".join(vd.notified())
    assert "STATUS=running; 2 board files with errors (1 kept at the last " \
        "good version, 1 left out)" in msgs, msgs

    # A second reload with b still broken: still its first good version.
    vd.write("boards/a.yaml", board("A", ["127.0.1.0/24"], ["a3.example"]))
    vd.reload()
    assert vd.rcode("a3.example", "127.0.1.1") == NX
    assert vd.rcode("b1.example", "127.0.2.1") == NX

    # A good board that takes the network b still holds is blamed, and
    # keeps its own last good version.
    vd.write("boards/a.yaml", board("A", ["127.0.1.0/24", "127.0.2.128/25"],
                                    ["a4.example"]))
    out = vd.reload()
    assert "%s:2:29: networks: 127.0.2.128/25 overlaps 127.0.2.0/24 of " \
        "board 'B' (%s, kept at its last good version)" % (a, b) in out, out
    assert vd.rcode("a3.example", "127.0.1.1") == NX
    assert vd.rcode("a4.example", "127.0.1.1") != NX
    assert vd.rcode("b1.example", "127.0.2.200") == NX

    # Mended: every board as written, nothing in status.
    vd.write("boards/a.yaml", board("A", ["127.0.1.0/24"], ["a4.example"]))
    vd.write("boards/b.yaml", board("B", ["127.0.4.0/24"], ["b2.example"]))
    vd.write("boards/c.yaml", board("C", ["127.0.3.0/24"], ["c1.example"]))
    out = vd.reload()
    assert "errors" not in out, out
    assert vd.rcode("a4.example", "127.0.1.1") == NX
    assert vd.rcode("b2.example", "127.0.4.1") == NX
    assert vd.rcode("b1.example", "127.0.2.1") == REFUSED
    assert vd.rcode("c1.example", "127.0.3.1") == NX
    n, lines = status_broken(vd.ctl("status")[1])
    assert (n, lines) == (0, [])
    msgs = [m for m in vd.notified() if "STATUS=" in m]
    assert msgs[-1] == "READY=1\nSTATUS=running", msgs
    assert vd.check()[0] == 0
    assert vd.proc.poll() is None


def test_broken_veiligd_yaml_refuses_reload(vd):
    """An error in veiligd.yaml itself still refuses the whole reload,
    good board changes included."""
    vd.write("boards/a.yaml", board("A", ["127.0.1.0/24"], ["a1.example"]))
    vd.start()
    vd.write("boards/a.yaml", board("A", ["127.0.1.0/24"], ["a2.example"]))
    with open(vd.conf, "a") as f:
        f.write("cache: { size: lots }\n")
    rc, out = vd.ctl("reload")
    assert rc == 1
    assert "reload failed" in out, out
    assert vd.rcode("a1.example", "127.0.1.1") == NX
    assert vd.rcode("a2.example", "127.0.1.1") != NX


# ------------------------------------------------------------ privileges

def proc_status(pid):
    with open("/proc/%d/status" % pid) as f:
        return dict(l.rstrip("\n").split(":\t", 1) for l in f if ":\t" in l)


needs_root = pytest.mark.skipif(os.geteuid() != 0,
                                 reason="the drop needs root to start with")


@needs_root
def test_root_drops_to_user(bins):
    nobody = pwd.getpwnam("nobody")
    v = Veiligd(bins, user="nobody")
    try:
        v.write("boards/a.yaml", board("A", ["127.0.1.0/24"],
                                       ["a1.example"]))
        v.start()
        st = proc_status(v.proc.pid)
        ids = "%d\t%d\t%d\t%d" % ((nobody.pw_uid,) * 4)
        gids = "%d\t%d\t%d\t%d" % ((nobody.pw_gid,) * 4)
        assert st["Uid"] == ids, st["Uid"]
        assert st["Gid"] == gids, st["Gid"]
        assert st["Groups"].split() == [str(nobody.pw_gid)]
        assert int(st["CapEff"], 16) == 0 and int(st["CapPrm"], 16) == 0
        assert st["NoNewPrivs"] == "1"
        # Every thread, workers included.
        for t in os.listdir("/proc/%d/task" % v.proc.pid):
            with open("/proc/%d/task/%s/status" % (v.proc.pid, t)) as f:
                assert "Uid:\t" + ids in f.read()
        # The control socket is the user's, for veiligctl run as it.
        s = os.stat(v.sock)
        assert (s.st_uid, s.st_gid) == (nobody.pw_uid, nobody.pw_gid)
        assert v.rcode("a1.example", "127.0.1.1") == NX

        # A reload, by veiligctl and by SIGHUP, reads the files as nobody.
        v.write("boards/a.yaml", board("A", ["127.0.1.0/24"],
                                       ["a2.example"]))
        v.reload()
        assert v.rcode("a2.example", "127.0.1.1") == NX
        v.write("boards/a.yaml", board("A", ["127.0.1.0/24"],
                                       ["a3.example"]))
        v.proc.send_signal(signal.SIGHUP)
        deadline = time.monotonic() + 10
        while v.rcode("a3.example", "127.0.1.1") != NX:
            assert time.monotonic() < deadline, v.read_log()
            time.sleep(0.2)
        # A file the user cannot read: the reload fails, said so, and
        # the policy in force stays.
        p = v.write("boards/a.yaml", board("A", ["127.0.1.0/24"],
                                           ["a4.example"]))
        os.chmod(p, 0o600)
        out = v.reload()
        assert "Permission denied" in out, out
        assert v.rcode("a3.example", "127.0.1.1") == NX
        assert v.proc.poll() is None
        assert "running as root" not in v.read_log()
    finally:
        v.stop()


@needs_root
def test_stats_dir_made_for_the_user(bins):
    """A start as root with server.user set makes a missing stats.dir
    for the user, who writes in it (it was root's, mode 0750, and no
    statistics could be written); -n, run before, says it is fine."""
    nobody = pwd.getpwnam("nobody")
    v = Veiligd(bins, user="nobody")
    try:
        stats = os.path.join(v.dir, "stats")
        with open(v.conf, "a") as f:
            f.write("stats: { dir: \"%s\", interval: 1s }\n" % stats)
        v.write("boards/a.yaml", board("A", ["127.0.1.0/24"],
                                       ["a1.example"]))
        code, err = v.check()
        assert code == 0, "-n: %d: %s" % (code, err)
        assert not os.path.exists(stats), "-n made stats.dir"
        v.start()
        s = os.stat(stats)
        assert (s.st_uid, s.st_gid) == (nobody.pw_uid, nobody.pw_gid), \
            "stats.dir owned by %d:%d" % (s.st_uid, s.st_gid)
        assert s.st_mode & 0o777 == 0o750, oct(s.st_mode)
        assert v.rcode("a1.example", "127.0.1.1") == NX
        # The interval's record is written, as nobody, within seconds.
        deadline = time.monotonic() + 15
        while not [n for n in os.listdir(stats) if n.endswith(".jsonl")]:
            assert time.monotonic() < deadline, \
                "no statistics file: %s" % v.read_log()
            time.sleep(0.2)
        assert "statistics cannot be written" not in v.read_log()
    finally:
        v.stop()


@needs_root
def test_unreadable_file_warned_at_start(bins):
    """Files a reload will need but the user cannot read are named at
    start."""
    v = Veiligd(bins, user="nobody")
    try:
        v.write("boards/a.yaml", board("A", ["127.0.1.0/24"],
                                       ["a1.example"]))
        os.chmod(os.path.join(v.dir, "boards"), 0o700)
        v.start()
        log = v.read_log()
        assert "%s/boards: Permission denied for user nobody: a reload " \
            "will fail" % v.dir in log, log
    finally:
        v.stop()


@needs_root
def test_started_as_the_user_nothing_changes(bins):
    """As under systemd's User=: started as nobody (on a port above
    1023), veiligd runs as it, with nothing to drop and no warning."""
    nobody = pwd.getpwnam("nobody")

    def become_nobody():
        os.setgroups([])
        os.setgid(nobody.pw_gid)
        os.setuid(nobody.pw_uid)

    v = Veiligd(bins, user="nobody")
    try:
        os.chmod(v.dir, 0o777)           # for its control socket
        v.write("boards/a.yaml", board("A", ["127.0.1.0/24"],
                                       ["a1.example"]))
        v.start(preexec=become_nobody)
        st = proc_status(v.proc.pid)
        assert st["Uid"].split()[0] == str(nobody.pw_uid)
        assert v.rcode("a1.example", "127.0.1.1") == NX
        log = v.read_log()
        assert "server.user" not in log, log
        assert "running as root" not in log, log
    finally:
        v.stop()


def test_unknown_user_is_an_error(vd):
    with open(vd.conf) as f:
        text = f.read()
    vd.write("veiligd.yaml", text.replace("  workers: 2\n",
                                          "  workers: 2\n"
                                          "  user: no-such-user-veilig\n"))
    rc, err = vd.check()
    assert rc == 1
    assert "%s: server.user: no user 'no-such-user-veilig' on this " \
        "system" % vd.conf in err, err
    vd.write("veiligd.yaml", text.replace("  workers: 2\n",
                                          "  workers: 2\n  user: root\n"))
    rc, err = vd.check()
    assert rc == 1
    assert "user 'root' is root" in err, err
