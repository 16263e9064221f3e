#!/usr/bin/python3
"""run.py: end-to-end tests of veiligd on loopback.

    python3 tests/e2e/run.py --veiligd ./build/veiligd [-k PATTERN] [-v]

Starts, on free high ports of 127.0.0.1 (and ::1):
  - NSD (/usr/sbin/nsd, foreground) serving tests/e2e/zones/example.test.zone,
    a real authoritative server;
  - fakeup.py on two ports, a scriptable fake upstream (see its docstring);
  - three veiligd instances, each with its own generated configuration:
      A  upstream NSD, tcp-idle-timeout 1s: real clients, cache, EDNS, TCP,
         truncation, malformed queries, serve-stale;
      B  upstreams fake1, fake2: upstream faults, coalescing, pipelining;
      C  upstream NSD, access 127.0.0.2/32 only: access control, SIGHUP
         reload, then the reload of a broken file.
Queries come from the real clients dig, kdig and drill, and from
python3-dnspython or raw sockets for what those cannot send.

Prints "ok NAME" or "FAIL NAME: reason" per test (with the tail of the
daemon's stderr after a failure) and ends with "N passed, M failed"; the
exit status is 0 only when nothing failed. Every process it starts is
stopped by its PID when it ends, however it ends. Each veiligd must exit 0
within a few seconds of SIGTERM and print no sanitizer report, so a leak
found by ASan at exit is a failure.
"""

import argparse
import atexit
import os
import re
import shutil
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import time

try:
    import dns.edns
    import dns.exception
    import dns.flags
    import dns.message
    import dns.query
    import dns.rcode
    import dns.rdatatype
except ImportError:
    # "python3" may be a pyenv or venv interpreter without the Debian
    # python3-dnspython; the system one has it.
    if sys.executable != "/usr/bin/python3" and os.path.exists("/usr/bin/python3"):
        os.execv("/usr/bin/python3", ["/usr/bin/python3"] + sys.argv)
    sys.exit("run.py: needs python3-dnspython (apt-get install python3-dnspython)")

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import fakeup  # noqa: E402  (after the dnspython check on purpose)

NSD = "/usr/sbin/nsd"
CLIENT_TIMEOUT = 8          # seconds for any client subprocess
START_TIMEOUT = 15          # seconds for a daemon to start answering
STOP_TIMEOUT = 5            # seconds for a daemon to exit after SIGTERM
RUN_BUDGET = 150            # seconds: later tests are not started after it
SAN_PATTERNS = ("ERROR: AddressSanitizer", "ERROR: LeakSanitizer",
                "runtime error:", "AddressSanitizer:DEADLYSIGNAL")

VERBOSE = False


class Skip(Exception):
    """Raised by a test that cannot run here; counted as passed."""


def note(msg):
    if VERBOSE:
        print("# " + msg, flush=True)


# ---------------------------------------------------------------- processes

_started = []       # every Popen we started, stopped at exit by its PID


def _stop_all():
    for p in _started:
        if p.poll() is None:
            try:
                p.terminate()
                p.wait(3)
            except subprocess.TimeoutExpired:
                # its own process group (start_new_session), so children
                # such as NSD's server and xfrd processes go too
                try:
                    os.killpg(p.pid, signal.SIGKILL)
                except OSError:
                    p.kill()
                try:
                    p.wait(2)
                except subprocess.TimeoutExpired:
                    pass
            except OSError:
                pass


atexit.register(_stop_all)


def _on_signal(signum, _frame):
    raise SystemExit(128 + signum)


def start(argv, errpath, outpath=None, env=None):
    err = open(errpath, "ab")
    out = open(outpath, "ab") if outpath else subprocess.DEVNULL
    p = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=out,
                         stderr=err, env=env, start_new_session=True)
    err.close()
    if outpath:
        out.close()
    _started.append(p)
    return p


def tail(path, n=25):
    try:
        with open(path, "rb") as f:
            lines = f.read().decode("utf-8", "replace").splitlines()
    except OSError:
        return ""
    return "\n".join("#   " + line for line in lines[-n:])


def free_port(used):
    """A port free for UDP and TCP on 127.0.0.1 and ::1, not in used."""
    for _ in range(200):
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
        s.close()
        if port in used or port < 20000:
            continue
        ok = True
        for fam, host in ((socket.AF_INET, "127.0.0.1"), (socket.AF_INET6, "::1")):
            for typ in (socket.SOCK_STREAM, socket.SOCK_DGRAM):
                t = socket.socket(fam, typ)
                try:
                    t.bind((host, port))
                except OSError:
                    ok = fam == socket.AF_INET6 and not HAVE_V6 and ok
                finally:
                    t.close()
        if ok:
            used.add(port)
            return port
    raise RuntimeError("no free port")


def have_v6():
    try:
        s = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
        s.bind(("::1", 0))
        s.close()
        return True
    except OSError:
        return False


HAVE_V6 = have_v6()


# ------------------------------------------------------------------ clients

def client(argv, timeout=CLIENT_TIMEOUT):
    """Run a DNS client; its stdout (exit status is not checked here)."""
    note(" ".join(argv))
    r = subprocess.run(argv, stdin=subprocess.DEVNULL, capture_output=True,
                       timeout=timeout)
    return r.stdout.decode("utf-8", "replace")


RR_RE = re.compile(r"^(\S+)\s+(\d+)\s+IN\s+(\S+)\s+(.*?)\s*$")


def parse_text(text):
    """
    The parts of dig, kdig or drill output we check: rcode, header flags and
    the records of each section as (name, ttl, type, rdata).
    """
    res = {"rcode": None, "flags": set(), "answer": [], "authority": [],
           "additional": [], "text": text}
    section = None
    for line in text.splitlines():
        m = re.search(r"(?:status|rcode): ([A-Z]+)", line)
        if m and res["rcode"] is None:
            res["rcode"] = m.group(1)
        m = re.match(r";; [Ff]lags: ([a-z ]*?)\s*;", line)
        if m and not res["flags"]:
            res["flags"] = set(m.group(1).split())
        m = re.match(r";; ([A-Z]+) SECTION", line)
        if m:
            section = m.group(1).lower()
            continue
        if not line.strip():
            continue
        if line.startswith(";"):
            # kdig and drill print a blank or comment line between sections
            if section in ("answer", "authority", "additional"):
                section = None
            continue
        m = RR_RE.match(line)
        if m and section in ("answer", "authority", "additional"):
            res[section].append((m.group(1).lower(), int(m.group(2)),
                                 m.group(3).upper(), m.group(4)))
    if res["rcode"] is None:
        raise AssertionError("no answer from the client: %r" % text[-300:])
    return res


def dig(port, name, rdtype="A", server="127.0.0.1", extra=()):
    return parse_text(client(["dig", "@" + server, "-p", str(port), name,
                              rdtype, "+tries=1", "+time=3"] + list(extra)))


def kdig(port, name, rdtype="A", server="127.0.0.1", extra=()):
    return parse_text(client(["kdig", "@" + server, "-p", str(port), name,
                              rdtype, "+timeout=3", "+retry=0"] + list(extra)))


def drill(port, name, rdtype="A", server="127.0.0.1", extra=()):
    return parse_text(client(["drill", "-p", str(port)] + list(extra)
                             + [name, "@" + server, rdtype]))


def rrs(res, rtype, section="answer"):
    return [r for r in res[section] if r[2] == rtype]


def dq(port, name, rdtype="A", tcp=False, server="127.0.0.1", source=None,
       timeout=3.0, **kw):
    """A query through dnspython; make_query keywords (use_edns...) pass on."""
    q = dns.message.make_query(name, rdtype, **kw)
    if tcp:
        return dns.query.tcp(q, server, port=port, timeout=timeout,
                             source=source)
    return dns.query.udp(q, server, port=port, timeout=timeout, source=source)


def raw_udp(port, data, timeout=1.0, server="127.0.0.1"):
    """Send bytes; the first answer's bytes, or None after timeout."""
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.settimeout(timeout)
    try:
        s.sendto(data, (server, port))
        return s.recvfrom(65535)[0]
    except socket.timeout:
        return None
    finally:
        s.close()


def raw_tcp(port, data, timeout=2.0):
    """Send one length-prefixed message over TCP; the answer's bytes or None."""
    s = socket.create_connection(("127.0.0.1", port), timeout=timeout)
    try:
        s.sendall(struct.pack("!H", len(data)) + data)
        hdr = recv_exact(s, 2)
        if hdr is None:
            return None
        return recv_exact(s, struct.unpack("!H", hdr)[0])
    except socket.timeout:
        return None
    finally:
        s.close()


def recv_exact(s, n):
    buf = b""
    while len(buf) < n:
        part = s.recv(n - len(buf))
        if not part:
            return None
        buf += part
    return buf


def hdr(qid=0x1234, flags=0x0100, qd=1, an=0, ns=0, ar=0):
    return struct.pack("!HHHHHH", qid, flags, qd, an, ns, ar)


def wname(name):
    out = b""
    for label in name.strip(".").split("."):
        out += bytes([len(label)]) + label.encode()
    return out + b"\0"


def question(name, qtype=1, qclass=1):
    return wname(name) + struct.pack("!HH", qtype, qclass)


def expect_rcode(ans, qid, rcode, what):
    """ans must be an answer to qid with this (4-bit header) rcode."""
    assert ans is not None, "%s: no answer" % what
    assert len(ans) >= 12, "%s: answer of %d octets" % (what, len(ans))
    aid, flags = struct.unpack("!HH", ans[:4])
    assert aid == qid, "%s: answer ID %#x, query ID %#x" % (what, aid, qid)
    assert flags & 0x8000, "%s: QR=0 in the answer" % what
    got = flags & 0xf
    assert got == rcode, "%s: rcode %s, want %s" % (
        what, dns.rcode.to_text(got), dns.rcode.to_text(rcode))


# ------------------------------------------------------------------ daemons

class Daemon:
    """One veiligd: its configuration file, process and stderr log."""

    def __init__(self, env, name, port, conf_text):
        self.env = env
        self.name = name
        self.port = port
        self.conf = os.path.join(env.tmp, "veiligd-%s.yaml" % name)
        self.err = os.path.join(env.tmp, "veiligd-%s.err" % name)
        self.proc = None
        self.start_error = None
        self.write_conf(conf_text)

    def write_conf(self, text):
        tmp = self.conf + ".new"
        with open(tmp, "w") as f:
            f.write(text)
        os.rename(tmp, self.conf)

    def start(self):
        self.proc = start([self.env.veiligd, "-d", "-c", self.conf],
                          self.err, env=self.env.daemon_env)

    def wait_ready(self):
        """Poll with a query until any answer comes; bounded."""
        deadline = time.monotonic() + START_TIMEOUT
        q = dns.message.make_query("ready.example.test.", "A")
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                self.start_error = "exited with status %d at start" % \
                    self.proc.returncode
                return False
            try:
                dns.query.udp(q, "127.0.0.1", port=self.port, timeout=0.5)
                return True
            except (dns.exception.Timeout, OSError):
                time.sleep(0.1)
            except Exception:  # any answer, even an odd one, means it is up
                return True
        self.start_error = "no answer within %d s" % START_TIMEOUT
        return False

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def log_size(self):
        try:
            return os.path.getsize(self.err)
        except OSError:
            return 0

    def log_since(self, offset):
        with open(self.err, "rb") as f:
            f.seek(offset)
            return f.read().decode("utf-8", "replace")

    def stop(self):
        """SIGTERM; the exit status, or None when it had to be killed."""
        if self.proc is None:
            return None
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(3)
                return None
        return self.proc.returncode


def veiligd_conf(listen, upstreams, access=("127.0.0.0/8", "::1/128"),
                 idle="10s", timeout="300ms", attempts=3):
    return """# generated by tests/e2e/run.py
server:
  listen: [ %s ]
  workers: 2
  tcp-idle-timeout: %s
  tcp-max-connections: 64
  tcp-max-queries: 32
access: [ %s ]
upstreams: [ %s ]
forward: { timeout: %s, attempts: %d }
cache: { size: 16MiB, serve-stale: 1d, max-ttl: 1d, max-negative-ttl: 1h }
""" % (", ".join('"%s"' % x for x in listen), idle,
       ", ".join('"%s"' % x for x in access),
       ", ".join('"%s"' % x for x in upstreams), timeout, attempts)


class Env:
    """Everything a run starts: temp dir, ports, NSD, the fake, veiligds."""

    def __init__(self, veiligd):
        self.veiligd = veiligd
        self.tmp = tempfile.mkdtemp(prefix="veilig-e2e-")
        used = set()
        self.p_nsd = free_port(used)
        self.p_fake1 = free_port(used)
        self.p_fake2 = free_port(used)
        self.p_a = free_port(used)
        self.p_b = free_port(used)
        self.p_c = free_port(used)
        self.nsd = None
        self.fake = None
        self.daemon_env = dict(os.environ)
        self.daemon_env.setdefault("UBSAN_OPTIONS", "print_stacktrace=1")
        nsd_up = "127.0.0.1:%d" % self.p_nsd
        fake_ups = ["127.0.0.1:%d" % self.p_fake1, "127.0.0.1:%d" % self.p_fake2]
        listen_a = ["127.0.0.1:%d" % self.p_a]
        if HAVE_V6:
            listen_a.append("[::1]:%d" % self.p_a)
        self.conf_c = lambda access, ups: veiligd_conf(
            ["127.0.0.1:%d" % self.p_c], ups, access=access)
        self.nsd_up = nsd_up
        self.fake_ups = fake_ups
        self.d = {
            "A": Daemon(self, "A", self.p_a,
                        veiligd_conf(listen_a, [nsd_up], idle="1s",
                                     timeout="300ms", attempts=2)),
            "B": Daemon(self, "B", self.p_b,
                        veiligd_conf(["127.0.0.1:%d" % self.p_b], fake_ups,
                                     timeout="800ms", attempts=3)),
            "C": Daemon(self, "C", self.p_c,
                        self.conf_c(["127.0.0.2/32"], [nsd_up])),
        }

    # NSD ---------------------------------------------------------------

    def start_nsd(self):
        d = os.path.join(self.tmp, "nsd")
        os.makedirs(d, exist_ok=True)
        zone = os.path.join(HERE, "zones", "example.test.zone")
        conf = os.path.join(d, "nsd.conf")
        with open(conf, "w") as f:
            f.write("""server:
  ip-address: 127.0.0.1@%(port)d
  port: %(port)d
  do-ip4: yes
  do-ip6: no
  server-count: 1
  username: ""
  chroot: ""
  zonesdir: "%(d)s"
  pidfile: "%(d)s/nsd.pid"
  zonelistfile: "%(d)s/zone.list"
  xfrdfile: "%(d)s/xfrd.state"
  xfrdir: "%(d)s"
  database: ""
  verbosity: 1
  hide-version: yes
  refuse-any: no
remote-control:
  control-enable: no
zone:
  name: "example.test"
  zonefile: "%(zone)s"
""" % {"port": self.p_nsd, "d": d, "zone": zone})
        self.nsd_err = os.path.join(self.tmp, "nsd.err")
        self.nsd = start([NSD, "-d", "-c", conf], self.nsd_err)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            if self.nsd.poll() is not None:
                raise RuntimeError("nsd exited at start:\n" + tail(self.nsd_err))
            try:
                r = dq(self.p_nsd, "www.example.test.", timeout=0.3)
                if r.answer:
                    return
            except (dns.exception.Timeout, OSError):
                time.sleep(0.1)
        raise RuntimeError("nsd does not answer:\n" + tail(self.nsd_err))

    def stop_nsd(self):
        if self.nsd is not None and self.nsd.poll() is None:
            self.nsd.terminate()
            try:
                self.nsd.wait(5)
            except subprocess.TimeoutExpired:
                self.nsd.kill()
                self.nsd.wait(2)

    # fake upstream -----------------------------------------------------

    def start_fake(self):
        self.fake_err = os.path.join(self.tmp, "fakeup.err")
        self.fake = start([sys.executable, os.path.join(HERE, "fakeup.py"),
                           "--port", str(self.p_fake1), "--port",
                           str(self.p_fake2), "--max-seconds", "600"],
                          self.fake_err)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                fakeup.get_counts(self.p_fake2, timeout=0.3)
                return
            except (dns.exception.Timeout, OSError, EOFError):
                time.sleep(0.1)
        raise RuntimeError("fakeup does not answer:\n" + tail(self.fake_err))

    def fake_count(self, qname, proto=None, port=None):
        """How often the fake saw qname (over proto / on port if given)."""
        qname = qname.lower().rstrip(".") + "."
        total = 0
        for key, n in fakeup.get_counts(self.p_fake1).items():
            kport, kproto, kname = key.split("/", 2)
            if kname != qname:
                continue
            if proto and kproto != proto:
                continue
            if port and int(kport) != port:
                continue
            total += n
        return total

    def cleanup(self, keep):
        _stop_all()
        if not keep:
            shutil.rmtree(self.tmp, ignore_errors=True)


_tag = [0]


def tag():
    """A fresh label, so that a name has never been in the cache."""
    _tag[0] += 1
    return "t%d-%d" % (os.getpid() % 10000, _tag[0])


# ---------------------------------------------------------------- tests

TESTS = []


def test(daemon):
    """Register a test function that needs veiligd instance daemon."""
    def reg(fn):
        TESTS.append((fn.__name__[len("test_"):], daemon, fn))
        return fn
    return reg


# A: real clients against NSD through veiligd ---------------------------

@test("A")
def test_dig_a(env):
    r = dig(env.p_a, "www.example.test")
    assert r["rcode"] == "NOERROR", r["rcode"]
    a = rrs(r, "A")
    assert [x[3] for x in a] == ["192.0.2.10"], r["answer"]
    assert 290 <= a[0][1] <= 300, "TTL %d" % a[0][1]
    assert "qr" in r["flags"] and "ra" in r["flags"], r["flags"]


@test("A")
def test_kdig_aaaa(env):
    r = kdig(env.p_a, "www.example.test", "AAAA")
    assert r["rcode"] == "NOERROR", r["rcode"]
    assert [x[3] for x in rrs(r, "AAAA")] == ["2001:db8::10"], r["answer"]


@test("A")
def test_drill_mx(env):
    r = drill(env.p_a, "example.test", "MX")
    assert r["rcode"] == "NOERROR", r["rcode"]
    mx = rrs(r, "MX")
    assert len(mx) == 1 and mx[0][3].split() == ["10", "mail.example.test."], \
        r["answer"]


@test("A")
def test_dig_txt(env):
    r = dig(env.p_a, "txt.example.test", "TXT")
    t = rrs(r, "TXT")
    assert len(t) == 1 and "hello from the veilig e2e zone" in t[0][3], r["answer"]


@test("A")
def test_cname_chain(env):
    r = kdig(env.p_a, "c1.example.test", "A")
    assert r["rcode"] == "NOERROR", r["rcode"]
    got = [(x[0], x[2], x[3].lower()) for x in r["answer"]]
    want = [("c1.example.test.", "CNAME", "c2.example.test."),
            ("c2.example.test.", "CNAME", "www.example.test."),
            ("www.example.test.", "A", "192.0.2.10")]
    assert got == want, got


@test("A")
def test_cache_ttl_countdown(env):
    """Positive, NXDOMAIN and NODATA answers are cached; TTLs count down."""
    first = dig(env.p_a, "long.example.test", "A")
    nx1 = dig(env.p_a, "nope.example.test", "A")
    nd1 = drill(env.p_a, "v6only.example.test", "A")
    assert rrs(first, "A") and rrs(first, "A")[0][1] <= 86400, first["answer"]
    assert nx1["rcode"] == "NXDOMAIN", nx1["rcode"]
    assert nd1["rcode"] == "NOERROR" and not nd1["answer"], nd1["answer"]
    for what, r in (("NXDOMAIN", nx1), ("NODATA", nd1)):
        soa = rrs(r, "SOA", "authority")
        assert len(soa) == 1, "%s: no SOA in authority: %s" % (what, r["authority"])
        assert soa[0][1] <= 60, "%s: SOA TTL %d > min(3600, 60)" % (what, soa[0][1])
    time.sleep(2.2)
    second = kdig(env.p_a, "long.example.test", "A")
    nx2 = kdig(env.p_a, "nope.example.test", "A")
    nd2 = dig(env.p_a, "v6only.example.test", "A")
    t1, t2 = rrs(first, "A")[0][1], rrs(second, "A")[0][1]
    assert t1 - 4 <= t2 <= t1 - 1, "TTL %d then %d after 2.2 s" % (t1, t2)
    for what, a, b in (("NXDOMAIN", nx1, nx2), ("NODATA", nd1, nd2)):
        assert a["rcode"] == b["rcode"], "%s: %s then %s" % (what, a["rcode"], b["rcode"])
        s1 = rrs(a, "SOA", "authority")[0][1]
        s2 = rrs(b, "SOA", "authority")
        assert s2, "%s: no SOA the second time" % what
        assert s1 - 4 <= s2[0][1] <= s1 - 1, "%s: SOA TTL %d then %d (not cached?)" % (
            what, s1, s2[0][1])


@test("A")
def test_tcp_kdig(env):
    r = kdig(env.p_a, "www.example.test", "A", extra=["+tcp"])
    assert [x[3] for x in rrs(r, "A")] == ["192.0.2.10"], r["answer"]


@test("A")
def test_tcp_drill(env):
    r = drill(env.p_a, "mail.example.test", "A", extra=["-t"])
    assert [x[3] for x in rrs(r, "A")] == ["192.0.2.25"], r["answer"]


@test("A")
def test_ipv6_udp(env):
    if not HAVE_V6:
        raise Skip("no ::1")
    r = dig(env.p_a, "www.example.test", "AAAA", server="::1")
    assert [x[3] for x in rrs(r, "AAAA")] == ["2001:db8::10"], r["answer"]


@test("A")
def test_ipv6_tcp(env):
    if not HAVE_V6:
        raise Skip("no ::1")
    r = kdig(env.p_a, "mail.example.test", "A", server="::1", extra=["+tcp"])
    assert [x[3] for x in rrs(r, "A")] == ["192.0.2.25"], r["answer"]


@test("A")
def test_truncated_without_edns(env):
    r = dig(env.p_a, "many.example.test", "A", extra=["+noedns", "+ignore"])
    assert "tc" in r["flags"], "no TC flag: %s" % r["flags"]
    assert len(rrs(r, "A")) < 40, "%d records in 512 octets?" % len(rrs(r, "A"))
    raw = raw_udp(env.p_a, hdr(0x4242) + question("many.example.test"), 2.0)
    assert raw is not None and len(raw) <= 512, "answer of %s octets" % (
        raw and len(raw))


@test("A")
def test_big_answer_with_edns(env):
    r = dq(env.p_a, "many.example.test.", "A", use_edns=0, payload=1232)
    assert not r.flags & dns.flags.TC, "TC=1 with EDNS 1232"
    assert len(r.answer) == 1 and len(r.answer[0]) == 40, r.answer


@test("A")
def test_big_answer_over_tcp(env):
    r = dig(env.p_a, "many.example.test", "A", extra=["+tcp"])
    assert len(rrs(r, "A")) == 40, len(rrs(r, "A"))


@test("A")
def test_edns_opt(env):
    r = dq(env.p_a, "www.example.test.", "A", use_edns=0, payload=4096,
           want_dnssec=True)
    assert r.edns == 0, "no OPT / version %s" % r.edns
    assert r.payload == 1232, "advertises %d" % r.payload
    assert r.ednsflags & dns.flags.DO, "DO not echoed"
    r = dq(env.p_a, "www.example.test.", "A", use_edns=0, payload=4096)
    assert r.edns == 0 and r.payload == 1232, (r.edns, r.payload)
    assert not r.ednsflags & dns.flags.DO, "DO set, not asked"
    r = dq(env.p_a, "www.example.test.", "A", use_edns=False)
    assert r.edns == -1, "OPT in an answer to a query without EDNS"


@test("A")
def test_tcp_idle_timeout(env):
    s = socket.create_connection(("127.0.0.1", env.p_a), timeout=5)
    try:
        q = hdr(0x0101) + question("www.example.test")
        s.sendall(struct.pack("!H", len(q)) + q)
        h = recv_exact(s, 2)
        assert h is not None, "closed before the answer"
        recv_exact(s, struct.unpack("!H", h)[0])
        t0 = time.monotonic()
        s.settimeout(4)
        try:
            data = s.recv(100)
        except socket.timeout:
            raise AssertionError("still open after 4 s idle (timeout 1s)")
        except ConnectionResetError:
            data = b""
        took = time.monotonic() - t0
        assert data == b"", "unexpected data %r" % data
        assert 0.5 <= took <= 3.0, "closed after %.1f s, idle timeout 1s" % took
    finally:
        s.close()


# malformed queries, all on A

def _formerr(env, packet, what):
    expect_rcode(raw_udp(env.p_a, packet), struct.unpack("!H", packet[:2])[0],
                 dns.rcode.FORMERR, what)


@test("A")
def test_formerr_qdcount0(env):
    _formerr(env, hdr(0x2001, qd=0), "QDCOUNT 0")


@test("A")
def test_formerr_qdcount2(env):
    _formerr(env, hdr(0x2002, qd=2) + question("www.example.test")
             + question("mail.example.test"), "QDCOUNT 2")


@test("A")
def test_formerr_compression_loop(env):
    # the name at offset 12 is "a" then a pointer back to offset 12
    _formerr(env, hdr(0x2003) + b"\x01a\xc0\x0c" + struct.pack("!HH", 1, 1),
             "compression loop")


@test("A")
def test_formerr_pointer_to_itself(env):
    _formerr(env, hdr(0x2004) + b"\xc0\x0c" + struct.pack("!HH", 1, 1),
             "pointer to itself")


@test("A")
def test_formerr_forward_pointer(env):
    # a pointer forward to a name after the question
    _formerr(env, hdr(0x2005) + b"\xc0\x12" + struct.pack("!HH", 1, 1)
             + wname("www.example.test"), "forward pointer")


@test("A")
def test_formerr_long_label(env):
    _formerr(env, hdr(0x2006) + bytes([64]) + b"x" * 64 + b"\x04test\x00"
             + struct.pack("!HH", 1, 1), "label of 64")


@test("A")
def test_formerr_name_too_long(env):
    name = b"".join(bytes([63]) + b"y" * 63 for _ in range(4)) + b"\0"  # 257
    _formerr(env, hdr(0x2007) + name + struct.pack("!HH", 1, 1),
             "name of 257 octets")


@test("A")
def test_formerr_trailing_garbage(env):
    _formerr(env, hdr(0x2008) + question("www.example.test") + b"\xde\xad\xbe\xef",
             "trailing garbage")


@test("A")
def test_formerr_truncated_question(env):
    _formerr(env, hdr(0x2009) + wname("www.example.test") + b"\x00",
             "question without type and class")
    _formerr(env, hdr(0x200a) + b"\x03www\x07exam", "name cut short")


@test("A")
def test_formerr_over_tcp(env):
    expect_rcode(raw_tcp(env.p_a, hdr(0x200b, qd=0)), 0x200b,
                 dns.rcode.FORMERR, "QDCOUNT 0 over TCP")


@test("A")
def test_notimp_opcode(env):
    for opcode in (1, 2, 5):
        expect_rcode(raw_udp(env.p_a, hdr(0x3000 + opcode, flags=opcode << 11)
                             + question("www.example.test")),
                     0x3000 + opcode, dns.rcode.NOTIMP, "opcode %d" % opcode)


@test("A")
def test_badvers(env):
    # built by hand: dnspython takes use_edns=1 for True (version 0)
    opt = b"\x00" + struct.pack("!HHIH", 41, 4096, (1 << 16) | 0x8000, 0)
    ans = raw_udp(env.p_a, hdr(0x3a3a, ar=1) + question("www.example.test")
                  + opt)
    assert ans is not None, "no answer to EDNS version 1"
    r = dns.message.from_wire(ans)
    assert r.id == 0x3a3a, "wrong ID"
    assert r.rcode() == dns.rcode.BADVERS, "rcode %s" % dns.rcode.to_text(r.rcode())
    assert r.edns == 0, "answer OPT version %s" % r.edns
    assert r.payload == 1232, "answer OPT advertises %d" % r.payload
    assert not r.answer, "answer records with BADVERS"


@test("A")
def test_refused_axfr_ixfr(env):
    for qtype, name in ((252, "AXFR"), (251, "IXFR")):
        pkt = hdr(0x4000 + qtype, flags=0) + question("example.test", qtype)
        expect_rcode(raw_udp(env.p_a, pkt), 0x4000 + qtype, dns.rcode.REFUSED,
                     name + " over UDP")
        expect_rcode(raw_tcp(env.p_a, pkt), 0x4000 + qtype, dns.rcode.REFUSED,
                     name + " over TCP")


@test("A")
def test_drop_qr1(env):
    ans = raw_udp(env.p_a, hdr(0x5001, flags=0x8100) + question("www.example.test"),
                  0.7)
    assert ans is None, "answered a packet with QR=1"


@test("A")
def test_drop_short(env):
    for n in (0, 1, 5, 11):
        ans = raw_udp(env.p_a, hdr(0x5002)[:n], 0.4)
        assert ans is None, "answered a packet of %d octets" % n


@test("A")
def test_garbage_burst(env):
    """Random packets of every length do not stop the daemon."""
    import random
    rnd = random.Random(7)
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        for i in range(300):
            n = rnd.choice((0, 3, 12, 13, 17, 30, 64, 200, 512, 1500))
            pkt = bytes(rnd.getrandbits(8) for _ in range(n))
            if n >= 12 and i % 2:
                pkt = hdr(i, flags=0x0100, qd=rnd.choice((1, 1, 2)),
                          an=rnd.randrange(3), ar=rnd.randrange(3)) + pkt[12:]
            s.sendto(pkt, ("127.0.0.1", env.p_a))
    finally:
        s.close()
    time.sleep(0.3)
    assert env.d["A"].alive(), "veiligd died"


@test("A")
def test_alive_after_garbage(env):
    assert env.d["A"].alive(), "veiligd died"
    r = dig(env.p_a, "mail.example.test", "A")
    assert [x[3] for x in rrs(r, "A")] == ["192.0.2.25"], r["answer"]
    r = kdig(env.p_a, "www.example.test", "A", extra=["+tcp"])
    assert [x[3] for x in rrs(r, "A")] == ["192.0.2.10"], r["answer"]


# B: upstream behaviour through the fake ---------------------------------

def _ok_answer(r, what, addr="192.0.2.1"):
    assert r.rcode() == dns.rcode.NOERROR, "%s: rcode %s" % (
        what, dns.rcode.to_text(r.rcode()))
    got = [rd.to_text() for rrset in r.answer for rd in rrset]
    assert got == [addr], "%s: answer %s" % (what, got)


@test("B")
def test_forward_and_cache(env):
    name = "%s.ok.fake.test." % tag()
    _ok_answer(dq(env.p_b, name), "first")
    _ok_answer(dq(env.p_b, name), "second")
    r = kdig(env.p_b, name, "A", extra=["+tcp"])
    assert [x[3] for x in rrs(r, "A")] == ["192.0.2.1"], r["answer"]
    n = env.fake_count(name)
    assert n == 1, "upstream asked %d times, want 1 (cache)" % n


@test("B")
def test_cache_key_type_and_do(env):
    name = "%s.ok.fake.test." % tag()
    dq(env.p_b, name, "A")
    r = dq(env.p_b, name, "AAAA")
    got = [rd.to_text() for rrset in r.answer for rd in rrset]
    assert got == ["2001:db8::1"], "AAAA answered with %s" % got
    dq(env.p_b, name, "A", use_edns=0, want_dnssec=True)
    n = env.fake_count(name)
    assert n == 3, "upstream asked %d times for A, AAAA, A+DO; want 3" % n


@test("B")
def test_failover_on_silence(env):
    name = "%s.silent1.fake.test." % tag()
    _ok_answer(dq(env.p_b, name, timeout=4), "silent first upstream")
    assert env.fake_count(name, port=env.p_fake1) >= 1, "first upstream not asked"
    assert env.fake_count(name, port=env.p_fake2) >= 1, "second upstream not asked"


@test("B")
def test_servfail_when_all_silent(env):
    name = "%s.silent.fake.test." % tag()
    t0 = time.monotonic()
    r = dq(env.p_b, name, timeout=6)
    took = time.monotonic() - t0
    assert r.rcode() == dns.rcode.SERVFAIL, dns.rcode.to_text(r.rcode())
    assert took < 5, "SERVFAIL after %.1f s (3 x 800 ms)" % took
    n = env.fake_count(name)
    assert n == 3, "%d upstream attempts, configured 3" % n


@test("B")
def test_servfail_upstream_next(env):
    name = "%s.servfail.fake.test." % tag()
    r = dq(env.p_b, name, timeout=6)
    assert r.rcode() == dns.rcode.SERVFAIL, dns.rcode.to_text(r.rcode())
    assert env.fake_count(name, port=env.p_fake2) >= 1, \
        "SERVFAIL from the first upstream not retried on the second"


@test("B")
def test_wrong_id_dropped(env):
    _ok_answer(dq(env.p_b, "%s.wrongid.fake.test." % tag()), "wrong ID first")


@test("B")
def test_wrong_question_dropped(env):
    _ok_answer(dq(env.p_b, "%s.wrongq.fake.test." % tag()), "wrong question first")


@test("B")
def test_garbage_from_upstream(env):
    name = "%s.garbage.fake.test." % tag()
    r = dq(env.p_b, name, timeout=6)
    assert r.rcode() == dns.rcode.SERVFAIL, dns.rcode.to_text(r.rcode())
    assert env.fake_count(name) >= 2, "garbage answer not counted as a failed try"
    assert env.d["B"].alive()


@test("B")
def test_upstream_truncated_retry_tcp(env):
    name = "%s.trunc.fake.test." % tag()
    r = dq(env.p_b, name, use_edns=0, payload=1232, timeout=4)
    assert not r.flags & dns.flags.TC, "TC=1 passed on"
    assert r.answer and len(r.answer[0]) == 30, "got %s" % r.answer
    assert env.fake_count(name, proto="tcp") >= 1, "upstream never asked over TCP"
    # the same answer is over 512 octets: a client without EDNS gets TC=1
    r = dig(env.p_b, name, "A", extra=["+noedns", "+ignore"])
    assert "tc" in r["flags"], "no TC to a client without EDNS: %s" % r["flags"]
    r = kdig(env.p_b, name, "A", extra=["+tcp"])
    assert len(rrs(r, "A")) == 30, len(rrs(r, "A"))


@test("B")
def test_negative_ttl_from_soa_minimum(env):
    for beh, rcode in (("nx", dns.rcode.NXDOMAIN), ("nodata", dns.rcode.NOERROR)):
        name = "%s.%s.fake.test." % (tag(), beh)
        for i in range(2):
            r = dq(env.p_b, name)
            assert r.rcode() == rcode, "%s: %s" % (beh, dns.rcode.to_text(r.rcode()))
            assert not r.answer, "%s: answer %s" % (beh, r.answer)
            soa = [x for x in r.authority if x.rdtype == dns.rdatatype.SOA]
            assert soa, "%s: no SOA" % beh
            assert soa[0].ttl <= 60, "%s: SOA TTL %d, want <= min(3600, 60)" % (
                beh, soa[0].ttl)
        n = env.fake_count(name)
        assert n == 1, "%s: upstream asked %d times (not cached)" % (beh, n)


def _burst(env, name, n, one_socket):
    """n identical queries at once, from one socket or from n; all answered."""
    socks = [socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
             for _ in range(1 if one_socket else n)]
    try:
        qs = [dns.message.make_query(name, "A") for _ in range(n)]
        for i, q in enumerate(qs):
            q.id = (0x6000 + i * 17) & 0xffff
        for s in socks:
            s.settimeout(3)
        for i, q in enumerate(qs):
            socks[i % len(socks)].sendto(q.to_wire(), ("127.0.0.1", env.p_b))
        got = {}
        for i in range(n):
            r = dns.message.from_wire(socks[i % len(socks)].recvfrom(65535)[0])
            got[r.id] = r
        for q in qs:
            assert q.id in got, "no answer to ID %#x" % q.id
            _ok_answer(got[q.id], "coalesced asker")
    finally:
        for s in socks:
            s.close()


@test("B")
def test_coalescing(env):
    # From one socket all queries reach the same worker (SO_REUSEPORT
    # hashes the address pair): exactly one upstream query.
    name = "%s.slow400.fake.test." % tag()
    _burst(env, name, 5, True)
    n = env.fake_count(name)
    assert n == 1, "5 identical queries in flight, %d upstream queries" % n
    # From five sockets they may land on either of the 2 workers; fwd
    # coalesces per worker, so at most one upstream query per worker.
    name = "%s.slow400.fake.test." % tag()
    _burst(env, name, 5, False)
    n = env.fake_count(name)
    assert 1 <= n <= 2, "5 identical queries from 5 sockets, 2 workers: %d " \
        "upstream queries" % n


@test("B")
def test_tcp_pipelining(env):
    names = ["%s.slow400.fake.test." % tag(), "%s.ok.fake.test." % tag(),
             "%s.ttl77.fake.test." % tag()]
    qs = [dns.message.make_query(n, "A") for n in names]
    ids = set()
    for q in qs:        # distinct IDs
        while q.id in ids:
            q.id = (q.id + 1) & 0xffff
        ids.add(q.id)
    s = socket.create_connection(("127.0.0.1", env.p_b), timeout=4)
    order = []
    try:
        s.sendall(b"".join(struct.pack("!H", len(w)) + w
                           for w in (q.to_wire() for q in qs)))
        got = {}
        for _ in range(3):
            h = recv_exact(s, 2)
            assert h is not None, "connection closed after %d answers" % len(got)
            r = dns.message.from_wire(recv_exact(s, struct.unpack("!H", h)[0]))
            got[r.id] = r
            order.append(r.id)
    except socket.timeout:
        raise AssertionError("only %d of 3 answers within 4 s" % len(order))
    finally:
        s.close()
    for q in qs:
        assert q.id in got, "no answer for %s" % q.question[0].name
        r = got[q.id]
        assert q.is_response(r), "answer to ID %d is for %s" % (q.id, r.question)
        _ok_answer(r, str(q.question[0].name))
    note("pipelined answer order: %s (slow one sent first: %s)" % (
        order, "out of order" if order[0] != qs[0].id else "in order"))


# C: access control and reload ------------------------------------------

@test("C")
def test_access_refused(env):
    r = dq(env.p_c, "www.example.test.")
    assert r.rcode() == dns.rcode.REFUSED, dns.rcode.to_text(r.rcode())
    assert not r.answer
    r = dig(env.p_c, "www.example.test")
    assert r["rcode"] == "REFUSED", r["rcode"]


@test("C")
def test_access_allowed_source(env):
    r = dq(env.p_c, "www.example.test.", source="127.0.0.2")
    _ok_answer(r, "from 127.0.0.2", "192.0.2.10")
    r = drill(env.p_c, "mail.example.test", "A", extra=["-I", "127.0.0.2"])
    assert [x[3] for x in rrs(r, "A")] == ["192.0.2.25"], r["answer"]


def _hup_until(env, check, what, secs=4.0):
    d = env.d["C"]
    d.proc.send_signal(signal.SIGHUP)
    deadline = time.monotonic() + secs
    last = None
    while time.monotonic() < deadline:
        try:
            if check():
                return
        except (AssertionError, dns.exception.DNSException, OSError) as e:
            last = e
        time.sleep(0.2)
    raise AssertionError("%s not in force %.0f s after SIGHUP (%s)" % (what, secs, last))


@test("C")
def test_reload_access(env):
    d = env.d["C"]
    d.write_conf(env.conf_c(["127.0.0.0/8", "::1/128"], [env.nsd_up]))
    _hup_until(env, lambda: dq(env.p_c, "www.example.test.", timeout=1).rcode()
               == dns.rcode.NOERROR, "new access:")
    assert d.alive()


@test("C")
def test_reload_upstreams(env):
    d = env.d["C"]
    name = "%s.ok.fake.test." % tag()
    r = dq(env.p_c, name, timeout=3)
    assert r.rcode() != dns.rcode.NOERROR, "fake.test answered before the reload"
    d.write_conf(env.conf_c(["127.0.0.0/8", "::1/128"], [env.fake_ups[0]]))

    def fresh_ok():
        r = dq(env.p_c, "%s.ok.fake.test." % tag(), timeout=1.5)
        return r.rcode() == dns.rcode.NOERROR and r.answer
    _hup_until(env, fresh_ok, "new upstreams:")


BAD_CONF_LINES = 3      # line of the first error in bad_conf()


def bad_conf(env):
    good = env.conf_c(["127.0.0.0/8"], [env.fake_ups[0]]).splitlines()
    # line 3 (after the comment and "server:"): unknown key; a bad value too
    good.insert(2, "  no-such-key: 1")
    good = [x.replace("workers: 2", "workers: lots") for x in good]
    return "\n".join(good) + "\n", [3, next(i + 1 for i, x in enumerate(good)
                                            if "workers: lots" in x)]


@test("C")
def test_reload_bad_config_keeps_old(env):
    d = env.d["C"]
    off = d.log_size()
    text, lines = bad_conf(env)
    d.write_conf(text)
    d.proc.send_signal(signal.SIGHUP)
    deadline = time.monotonic() + 4
    pat = re.compile(re.escape(d.conf) + r":(\d+):(\d+):")
    while time.monotonic() < deadline and not pat.search(d.log_since(off)):
        time.sleep(0.2)
    log = d.log_since(off)
    assert d.alive(), "veiligd died on a bad config at SIGHUP"
    assert pat.search(log), "no %s:line:column: in the log after SIGHUP:\n%s" % (
        d.conf, log[-500:])
    # the previous configuration (upstream fake1, access 127/8) still holds
    r = dq(env.p_c, "%s.ok.fake.test." % tag(), timeout=3)
    _ok_answer(r, "after a bad reload")


@test("C")
def test_check_config(env):
    good = os.path.join(env.tmp, "check-good.yaml")
    with open(good, "w") as f:
        f.write(env.conf_c(["127.0.0.0/8"], [env.nsd_up]))
    r = subprocess.run([env.veiligd, "-n", "-c", good], capture_output=True,
                       timeout=10, env=env.daemon_env)
    assert r.returncode == 0, "-n on a good file: status %d: %s" % (
        r.returncode, r.stderr.decode()[-300:])
    bad = os.path.join(env.tmp, "check-bad.yaml")
    text, lines = bad_conf(env)
    with open(bad, "w") as f:
        f.write(text)
    r = subprocess.run([env.veiligd, "-n", "-c", bad], capture_output=True,
                       timeout=10, env=env.daemon_env)
    err = r.stderr.decode("utf-8", "replace")
    assert r.returncode == 1, "-n on a bad file: status %d" % r.returncode
    found = {int(m.group(1)) for m in
             re.finditer(re.escape(bad) + r":(\d+):(\d+):", err)}
    assert set(lines) <= found, "want errors at lines %s, got %s in:\n%s" % (
        lines, sorted(found), err[-400:])
    for s in SAN_PATTERNS:
        assert s not in err, "sanitizer report from -n"
    missing = os.path.join(env.tmp, "no-such-file.yaml")
    r = subprocess.run([env.veiligd, "-n", "-c", missing], capture_output=True,
                       timeout=10, env=env.daemon_env)
    assert r.returncode == 1, "-n on a missing file: status %d" % r.returncode


# last: serve-stale needs NSD stopped -------------------------------------

@test("A")
def test_serve_stale(env):
    r = dig(env.p_a, "stale.example.test", "A")
    assert [x[3] for x in rrs(r, "A")] == ["192.0.2.3"], r["answer"]
    env.stop_nsd()
    time.sleep(3.0)     # the TTL of 2 s has run out
    r = dig(env.p_a, "stale.example.test", "A", extra=["+time=5"])
    assert r["rcode"] == "NOERROR", "rcode %s with the upstream down" % r["rcode"]
    a = rrs(r, "A")
    assert [x[3] for x in a] == ["192.0.2.3"], r["answer"]
    assert 25 <= a[0][1] <= 30, "stale TTL %d, want 30 (RFC 8767)" % a[0][1]
    r = dig(env.p_a, "%s.example.test" % tag(), "A", extra=["+time=5"])
    assert r["rcode"] == "SERVFAIL", "uncached name with the upstream down: %s" % (
        r["rcode"])


# ---------------------------------------------------------------- main

def main():
    global VERBOSE
    ap = argparse.ArgumentParser(description="veiligd end-to-end tests")
    ap.add_argument("--veiligd", required=True, help="the binary to test")
    ap.add_argument("-k", dest="pattern", help="run only tests matching this")
    ap.add_argument("-v", action="store_true", help="show client commands")
    ap.add_argument("--keep", action="store_true", help="keep the temp dir")
    a = ap.parse_args()
    VERBOSE = a.v
    signal.signal(signal.SIGTERM, _on_signal)
    signal.signal(signal.SIGINT, _on_signal)
    veiligd = os.path.abspath(a.veiligd)
    t_start = time.monotonic()
    passed = failed = 0
    results = []

    def report(name, err=None, logs=()):
        nonlocal passed, failed
        if err is None:
            passed += 1
            print("ok " + name, flush=True)
        else:
            failed += 1
            print("FAIL %s: %s" % (name, err), flush=True)
            for path in logs:
                t = tail(path)
                if t:
                    print("#   -- tail of %s" % os.path.basename(path))
                    print(t, flush=True)
        results.append((name, err))

    env = None
    try:
        if not os.access(veiligd, os.X_OK):
            report("start", "no executable %s" % veiligd)
            return failed
        for tool in (NSD, "dig", "kdig", "drill"):
            if not shutil.which(tool):
                report("start", "%s not installed (make deps-check)" % tool)
                return failed
        env = Env(veiligd)
        note("temp dir %s" % env.tmp)
        try:
            env.start_nsd()
            env.start_fake()
        except Exception as e:
            report("start_upstreams", str(e))
            return failed
        tests = [t for t in TESTS if not a.pattern or a.pattern in t[0]]
        need = {t[1] for t in tests}
        for name, d in env.d.items():
            if name in need:
                d.start()
        for name, d in env.d.items():
            if name not in need:
                continue
            if d.wait_ready():
                report("start_%s" % name)
            else:
                report("start_%s" % name, d.start_error, [d.err])

        for tname, dname, fn in tests:
            d = env.d[dname]
            if time.monotonic() - t_start > RUN_BUDGET:
                report(tname, "not run: past the %d s budget" % RUN_BUDGET)
                continue
            if not d.alive():
                report(tname, "veiligd %s is not running" % dname, [d.err])
                continue
            try:
                fn(env)
                if not d.alive():
                    raise AssertionError("veiligd %s exited (status %s)" % (
                        dname, d.proc.returncode))
                report(tname)
            except Skip as e:
                passed += 1
                print("ok %s # skip: %s" % (tname, e), flush=True)
            except AssertionError as e:
                report(tname, str(e) or "assertion failed", [d.err])
            except Exception as e:  # a crash of the test itself is a failure
                report(tname, "%s: %s" % (type(e).__name__, e), [d.err])

        for name, d in env.d.items():
            if d.proc is None:
                continue
            was_alive = d.alive()
            rc = d.stop()
            with open(d.err, "rb") as f:
                log = f.read().decode("utf-8", "replace")
            san = [s for s in SAN_PATTERNS if s in log]
            if not was_alive:
                report("sigterm_%s" % name, "had already exited with %s" % rc,
                       [d.err])
            elif rc is None:
                report("sigterm_%s" % name, "still running %d s after SIGTERM"
                       % STOP_TIMEOUT, [d.err])
            elif rc != 0 or san:
                report("sigterm_%s" % name, "exit status %d%s" % (
                    rc, ", sanitizer: " + ", ".join(san) if san else ""),
                    [d.err])
            else:
                report("sigterm_%s" % name)
    except Exception as e:  # a bug in the harness still ends with the count
        report("harness", "%s: %s" % (type(e).__name__, e))
    finally:
        if env is not None:
            env.cleanup(a.keep or failed > 0 and VERBOSE)
        else:
            _stop_all()
        print("%d passed, %d failed" % (passed, failed), flush=True)
        note("took %.1f s" % (time.monotonic() - t_start))
    return failed


if __name__ == "__main__":
    sys.exit(0 if main() == 0 else 1)
