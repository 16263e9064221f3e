"""e2elib.py: what the end-to-end tests share, apart from the fixtures.

The processes (veiligd, NSD, the fake upstream) as classes, the DNS clients
(dig, kdig, drill, dnspython, raw sockets), configuration writers and the
checks of a filtered answer. conftest.py turns the processes into pytest
fixtures; the test_*.py files use the rest directly.

Every process started here is started in its own session and stopped by
its PID (stop_all() at the end of the run, whatever happened).
"""

import os
import re
import resource
import shutil
import signal
import socket
import struct
import subprocess
import sys
import time
import urllib.request

import dns.edns
import dns.exception
import dns.flags
import dns.message
import dns.query
import dns.rcode
import dns.rdatatype

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import fakeup  # noqa: E402

REPO = os.path.dirname(os.path.dirname(HERE))
TABLES = os.path.join(REPO, "blocklists")
FILTER_SRC = os.path.join(HERE, "filter")
MKMMDB = os.path.join(REPO, "tests", "unit", "mkmmdb.pl")
NSD = "/usr/sbin/nsd"

CLIENT_TIMEOUT = 8          # seconds for any client subprocess
START_TIMEOUT = 15          # seconds for a daemon to start answering
STOP_TIMEOUT = 5            # seconds for a daemon to exit after SIGTERM
SAN_PATTERNS = ("ERROR: AddressSanitizer", "ERROR: LeakSanitizer",
                "runtime error:", "AddressSanitizer:DEADLYSIGNAL")
LOOPBACK = ["127.0.0.0/16", "::1/128"]   # board-limits: a /16 at most
LOW_NOFILE = 64         # the descriptors of veiligd_lowfd, soft and hard
MAXCONN = 4             # tcp-max-connections of veiligd_maxconn
MAXCONN_WORKERS = 2     # and its workers


def note(msg):
    """A line of progress; pytest shows it with a failure (or with -s)."""
    print("# " + msg, flush=True)


# ---------------------------------------------------------------- processes

_started = []       # every Popen we started, stopped at exit by its PID


def stop_all():
    """Stop every process still running, by its PID (and its group)."""
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


def start(argv, errpath, outpath=None, env=None, preexec_fn=None):
    """Start argv in its own session, stderr (and stdout) to files."""
    err = open(errpath, "ab")
    out = open(outpath, "ab") if outpath else subprocess.DEVNULL
    try:
        p = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=out,
                             stderr=err, env=env, start_new_session=True,
                             preexec_fn=preexec_fn)
    finally:
        err.close()
        if outpath:
            out.close()
    _started.append(p)
    return p


def tail(path, n=25):
    """The last n lines of the file path, indented, or ""."""
    try:
        with open(path, "rb") as f:
            lines = f.read().decode("utf-8", "replace").splitlines()
    except OSError:
        return ""
    return "\n".join("#   " + line for line in lines[-n:])


def have_v6():
    try:
        s = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
        s.bind(("::1", 0))
        s.close()
        return True
    except OSError:
        return False


HAVE_V6 = have_v6()
_used_ports = set()


def free_port():
    """A port free for UDP and TCP on 127.0.0.1 and ::1, never given out
    before in this run."""
    for _ in range(200):
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
        s.close()
        if port in _used_ports or port < 20000:
            continue
        ok = True
        for fam, host in ((socket.AF_INET, "127.0.0.1"),
                          (socket.AF_INET6, "::1")):
            for typ in (socket.SOCK_STREAM, socket.SOCK_DGRAM):
                t = socket.socket(fam, typ)
                try:
                    t.bind((host, port))
                except OSError:
                    ok = fam == socket.AF_INET6 and not HAVE_V6 and ok
                finally:
                    t.close()
        if ok:
            _used_ports.add(port)
            return port
    raise RuntimeError("no free port")


def free_wildcard_port():
    """free_port, also free on 0.0.0.0 (and :: with IPv6) for UDP and TCP."""
    for _ in range(20):
        port = free_port()
        ok = True
        for fam, host in ((socket.AF_INET, "0.0.0.0"),
                          (socket.AF_INET6, "::")):
            if fam == socket.AF_INET6 and not HAVE_V6:
                continue
            for typ in (socket.SOCK_STREAM, socket.SOCK_DGRAM):
                t = socket.socket(fam, typ)
                try:
                    if fam == socket.AF_INET6:
                        t.setsockopt(socket.IPPROTO_IPV6,
                                     socket.IPV6_V6ONLY, 1)
                    t.bind((host, port))
                except OSError:
                    ok = False
                finally:
                    t.close()
        if ok:
            return port
    raise RuntimeError("no free wildcard port")


def daemon_environ():
    """The environment of every veiligd and veiligctl the tests start."""
    env = dict(os.environ)
    env.setdefault("UBSAN_OPTIONS", "print_stacktrace=1")
    return env


_tag = [0]


def tag():
    """A fresh label, so that a name has never been in the cache."""
    _tag[0] += 1
    return "t%d-%d" % (os.getpid() % 10000, _tag[0])


def write_file(path, text):
    """Write text to path atomically (a reload never sees half a file)."""
    os.makedirs(os.path.dirname(path), exist_ok=True)
    tmp = path + ".new"
    with open(tmp, "w") as f:
        f.write(text)
    os.rename(tmp, path)


def retry(what, fn, tries, pause):
    """fn() until it returns without failing; at most tries times."""
    for i in range(tries):
        try:
            return fn()
        except (AssertionError, dns.exception.Timeout, OSError) as e:
            if i == tries - 1:
                raise AssertionError("%s: %s (%d tries)" % (
                    what, str(e) or type(e).__name__, tries))
            time.sleep(pause)


def metric(mport, name):
    """The value of the sample name (without labels) in the /metrics of
    the veiligd whose metrics are on port mport, as an int."""
    with urllib.request.urlopen("http://127.0.0.1:%d/metrics" % mport,
                                timeout=5) as f:
        text = f.read().decode()
    m = re.search(r"^%s (\d+)$" % name, text, re.M)
    assert m, "no %s in /metrics" % name
    return int(m.group(1))


# ------------------------------------------------------------------ veiligd

class Daemon:
    """
    One veiligd: its configuration file, process, stderr log and control
    socket. Made and stopped by the veiligd factory of conftest.py.
    """

    def __init__(self, binary, name, port, conf_text, conf_path, ctl_path,
                 preexec=None):
        self.binary = binary
        self.veiligctl = os.path.join(os.path.dirname(binary), "veiligctl")
        self.name = name
        self.port = port
        self.conf = conf_path
        self.ctl_path = ctl_path
        self.err = os.path.join(os.path.dirname(conf_path),
                                "veiligd-%s.err" % name)
        self.env = daemon_environ()
        self.preexec = preexec      # run in the child before exec (rlimits)
        self.proc = None
        self.stopped = False        # stopped on purpose, by stop()
        self.start_error = None     # why it did not come up, if it did not
        self.term_at = None         # when SIGTERM was sent
        self.write_conf(conf_text)

    def __repr__(self):
        return "<veiligd %s port %d>" % (self.name, self.port)

    def write_conf(self, text):
        write_file(self.conf, text)

    def start(self):
        self.proc = start([self.binary, "-d", "-c", self.conf], self.err,
                          env=self.env, preexec_fn=self.preexec)

    def wait_ready(self):
        """
        Poll until it answers (bounded); None, or why it is not up. The
        probe is a query without a question, which veiligd answers itself
        (FORMERR), so the upstreams' speed does not count.
        """
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                return "exited with status %d at start" % self.proc.returncode
            try:
                if raw_udp(self.port, hdr(0x7e57, qd=0), 0.2) is not None:
                    return None
            except OSError:
                pass
            time.sleep(0.05)
        return "no answer within %d s" % START_TIMEOUT

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def hup(self):
        self.proc.send_signal(signal.SIGHUP)

    def log_size(self):
        try:
            return os.path.getsize(self.err)
        except OSError:
            return 0

    def log_since(self, offset):
        with open(self.err, "rb") as f:
            f.seek(offset)
            return f.read().decode("utf-8", "replace")

    def sigterm(self):
        """SIGTERM if it runs, without waiting: daemons stopped together
        exit together (stop() waits)."""
        if self.term_at is None and self.alive():
            self.term_at = time.monotonic()
            self.proc.send_signal(signal.SIGTERM)

    def stop(self):
        """SIGTERM (if not sent yet) and wait up to STOP_TIMEOUT from it;
        the exit status, or None when it had to be killed."""
        self.stopped = True
        if self.proc is None:
            return None
        self.sigterm()
        if self.proc.poll() is None:
            try:
                self.proc.wait(max(0.0, self.term_at + STOP_TIMEOUT
                                   - time.monotonic()))
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(3)
                return None
        return self.proc.returncode

    def stop_problem(self):
        """
        Stop it; why that was not clean, or None: it must have been running,
        exit 0 within STOP_TIMEOUT of SIGTERM and have printed no sanitizer
        report (so a leak found by ASan at exit is a failure).
        """
        was_alive = self.term_at is not None or self.alive()
        already = self.stopped
        rc = self.stop()
        with open(self.err, "rb") as f:
            log = f.read().decode("utf-8", "replace")
        san = [s for s in SAN_PATTERNS if s in log]
        if not was_alive and not already:
            return "veiligd %s had already exited with %s" % (self.name, rc)
        if rc is None:
            return "veiligd %s still running %d s after SIGTERM" % (
                self.name, STOP_TIMEOUT)
        if rc != 0 or san:
            return "veiligd %s: exit status %d after SIGTERM%s" % (
                self.name, rc,
                ", sanitizer: " + ", ".join(san) if san else "")
        return None

    def ctl(self, *args, timeout=20):
        """veiligctl -s SOCKET ARGS: (exit status, stdout, stderr)."""
        r = subprocess.run([self.veiligctl, "-s", self.ctl_path] + list(args),
                           capture_output=True, timeout=timeout, env=self.env)
        return (r.returncode, r.stdout.decode("utf-8", "replace"),
                r.stderr.decode("utf-8", "replace"))

    def stats(self, timeout=10):
        """veiligctl stats as a dict of ints (and its text)."""
        code, out, err = self.ctl("stats", timeout=timeout)
        assert code == 0, "veiligctl stats: %d %s" % (code, err)
        st = {}
        for line in out.splitlines():
            k, _, v = line.partition(" ")
            if v.strip().isdigit():
                st[k] = int(v)
        return st, out

    def stat(self, key, timeout=10):
        """One counter from veiligctl stats."""
        st, out = self.stats(timeout)
        assert key in st, "no %s in veiligctl stats:\n%s" % (key, out)
        return st[key]


def board_yaml(name, networks, extra=""):
    """The text of a board file: its name, networks and further keys."""
    return "name: %s\nnetworks: [ %s ]\n%s" % (
        name, ", ".join('"%s"' % x for x in networks), extra)


def veiligd_conf(listen, upstreams, boards, control, lists=None,
                 idle="10s", timeout="300ms", attempts=3, workers=2,
                 tcp_max_connections=64, tcp_max_queries=32, extra="",
                 server=""):
    """
    A veiligd.yaml. boards is the boards: glob, control the socket path,
    lists a list of (name, file, format[, url]) or None for none; extra
    is appended at the end, server (indented lines) to server:.
    """
    if lists:
        ltext = "lists:\n" + "".join(
            "  %s: { file: %s, format: %s%s }\n" % (
                x[0], x[1], x[2], ", url: %s" % x[3] if len(x) > 3 else "")
            for x in lists)
    else:
        ltext = "lists: {}\n"
    return """# generated by tests/e2e
server:
  listen: [ %s ]
  workers: %d
  tcp-idle-timeout: %s
  tcp-max-connections: %d
  tcp-max-queries: %d
%supstreams: [ %s ]
forward: { timeout: %s, attempts: %d }
cache: { size: 16MiB, serve-stale: 1d, max-ttl: 1d, max-negative-ttl: 1h }
%sboards: %s
filter: { block-ttl: 60s, tables: %s }
control: %s
%s""" % (", ".join('"%s"' % x for x in listen), workers, idle,
         tcp_max_connections, tcp_max_queries, server,
         ", ".join('"%s"' % x for x in upstreams), timeout, attempts,
         ltext, boards, TABLES, control, extra)


# the lists of the filter instance, in this order (the first blocking list
# names the category); relative to the configuration's directory
FILTER_LISTS = [
    ("phishing", "lists/phishing.txt", "domains",
     "https://lists.example/phishing.txt"),
    ("gambling", "lists/gambling.txt", "hosts"),
    ("adult", "lists/adult.txt", "adblock"),
    ("malware", "lists/malware.rpz", "rpz"),
    ("badips", "lists/badips.txt", "ip"),
    ("reload", "lists/reload.txt", "domains"),
]
# GeoIP rules appended to the fixture boards when the MMDB files are built
FILTER_GEO = {"board-a.yaml": "block-countries: [ RU ]\n",
              "board-b.yaml": "block-asns: [ 64511 ]\n"}


def setup_filter_dir(fdir):
    """
    Copy tests/e2e/filter to fdir (tests change lists and boards there),
    build its GeoIP databases with mkmmdb.pl and give boards A and B their
    GeoIP rules. None, or why the databases could not be built.
    """
    shutil.copytree(FILTER_SRC, fdir)
    geo = os.path.join(fdir, "geo")
    try:
        r = subprocess.run(["perl", MKMMDB, geo,
                            os.path.join(geo, "country.spec"),
                            os.path.join(geo, "asn.spec")],
                           capture_output=True, timeout=30)
    except (OSError, subprocess.TimeoutExpired) as e:
        return "mkmmdb.pl: %s" % e
    if r.returncode != 0:
        return "mkmmdb.pl failed: %s" % r.stderr.decode()[-300:]
    for board, text in FILTER_GEO.items():
        with open(os.path.join(fdir, "boards", board), "a") as f:
            f.write(text)
    return None


def filter_conf(listen, ups, control, geo, lists=FILTER_LISTS,
                boards="boards/*.yaml"):
    """The configuration of the filter instance (in its directory)."""
    return veiligd_conf(listen, ups, boards, control, lists=lists,
                        timeout="500ms", attempts=3,
                        extra="geoip: { country: geo/country.mmdb, "
                        "asn: geo/asn.mmdb }\n" if geo else "")


def low_nofile(n):
    """A preexec_fn giving the child n descriptors (veiligd raises its soft
    limit to the hard one, so both are set)."""
    def fn():
        resource.setrlimit(resource.RLIMIT_NOFILE, (n, n))
    return fn


# ---------------------------------------------------------------- upstreams

class Nsd:
    """NSD (foreground) serving zones/example.test.zone on 127.0.0.1."""

    def __init__(self, tmp):
        self.dir = tmp
        self.port = free_port()
        self.addr = "127.0.0.1:%d" % self.port
        self.err = os.path.join(tmp, "nsd.err")
        self.proc = None

    def start(self):
        if not os.access(NSD, os.X_OK):
            raise RuntimeError("%s not installed (make deps-check)" % NSD)
        zone = os.path.join(HERE, "zones", "example.test.zone")
        conf = os.path.join(self.dir, "nsd.conf")
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
  # no response rate limiting: the TCP flood sends it thousands of queries
  rrl-ratelimit: 0
  rrl-whitelist-ratelimit: 0
remote-control:
  control-enable: no
zone:
  name: "example.test"
  zonefile: "%(zone)s"
""" % {"port": self.port, "d": self.dir, "zone": zone})
        self.proc = start([NSD, "-d", "-c", conf], self.err)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError("nsd exited at start:\n" + tail(self.err))
            try:
                r = dq(self.port, "www.example.test.", timeout=0.3)
                if r.answer:
                    return
            except (dns.exception.Timeout, OSError):
                time.sleep(0.1)
        raise RuntimeError("nsd does not answer:\n" + tail(self.err))

    def stop(self):
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(2)


class Fake:
    """fakeup.py on two ports of 127.0.0.1 (see its docstring)."""

    def __init__(self, tmp):
        self.port1 = free_port()
        self.port2 = free_port()
        self.ups = ["127.0.0.1:%d" % self.port1, "127.0.0.1:%d" % self.port2]
        self.err = os.path.join(tmp, "fakeup.err")
        self.proc = None

    def start(self):
        self.proc = start([sys.executable, os.path.join(HERE, "fakeup.py"),
                           "--port", str(self.port1), "--port",
                           str(self.port2), "--max-seconds", "900"],
                          self.err)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                break
            try:
                fakeup.get_counts(self.port2, timeout=0.3)
                return
            except (dns.exception.Timeout, OSError, EOFError):
                time.sleep(0.1)
        raise RuntimeError("fakeup does not answer:\n" + tail(self.err))

    def stop(self):
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(2)

    def count(self, qname, proto=None, port=None):
        """How often the fake saw qname (over proto / on port if given)."""
        qname = qname.lower().rstrip(".") + "."
        total = 0
        # the counts of this name alone: every name's may not fit
        # in one answer after a long session
        one = qname if len(qname) <= 100 else None
        for key, n in fakeup.get_counts(self.port1, qname=one).items():
            kport, kproto, kname = key.split("/", 2)
            if kname != qname:
                continue
            if proto and kproto != proto:
                continue
            if port and int(kport) != port:
                continue
            total += n
        return total


# ------------------------------------------------------------------ clients

def client(argv, timeout=CLIENT_TIMEOUT):
    """Run a DNS client; its stdout (exit status is not checked here)."""
    note(" ".join(argv))
    try:
        r = subprocess.run(argv, stdin=subprocess.DEVNULL,
                           capture_output=True, timeout=timeout)
    except FileNotFoundError:
        raise AssertionError("%s not installed (make deps-check)" % argv[0])
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
                              rdtype, "+timeout=3", "+retry=0"]
                             + list(extra)))


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
        hdr_ = recv_exact(s, 2)
        if hdr_ is None:
            return None
        return recv_exact(s, struct.unpack("!H", hdr_)[0])
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


def ok_answer(r, what, addr="192.0.2.1"):
    """r is NOERROR with exactly the address addr (ok.fake.test's)."""
    assert r.rcode() == dns.rcode.NOERROR, "%s: rcode %s" % (
        what, dns.rcode.to_text(r.rcode()))
    got = [rd.to_text() for rrset in r.answer for rd in rrset]
    assert got == [addr], "%s: answer %s" % (what, got)


def tcp_ask(s, name, qid):
    """One query for name on the open connection s; its answer."""
    q = dns.message.make_query(name, "A")
    q.id = qid
    w = q.to_wire()
    s.sendall(struct.pack("!H", len(w)) + w)
    h = recv_exact(s, 2)
    assert h is not None, "closed instead of answering"
    body = recv_exact(s, struct.unpack("!H", h)[0])
    assert body is not None, "closed within the answer"
    r = dns.message.from_wire(body)
    assert q.is_response(r), "answer ID %#x / %s to ID %#x" % (
        r.id, r.question, qid)
    return r


# --------------------------------------------------------------- filtering
#
# The filter instance forwards to the fake upstream (names under
# filter.test. and the fixed names of fakeup.FIXED) with the boards of
# tests/e2e/filter:
#   127.0.0.1, ::1  board-a: phishing, adult, malware, badips; allow/deny;
#                   safe-search; canaries; nxdomain; block-countries RU
#   127.0.0.2       board-b: gambling; no safe-search, no canaries; nodata;
#                   block-asns 64511
#   127.0.0.3       no board: REFUSED
#   127.0.0.4       board-refused: phishing; refused
#   127.0.0.5       board-redirect: phishing; redirect 192.0.2.80 2001:db8::80
#   127.0.0.6       board-load: the list "reload"; for the reload under load

SRC_A, SRC_B, SRC_NONE, SRC_REFUSED, SRC_REDIRECT, SRC_LOAD = (
    "127.0.0.1", "127.0.0.2", "127.0.0.3", "127.0.0.4", "127.0.0.5",
    "127.0.0.6")
EDE_BLOCKED, EDE_FILTERED = 15, 17


def fq(d, name, rdtype="A", src=SRC_A, tcp=False, timeout=3.0):
    """A query to veiligd d from src, with EDNS (so blocks carry an EDE)."""
    return dq(d.port, name, rdtype, tcp=tcp, source=src, timeout=timeout,
              use_edns=0, payload=1232)


def ede(r):
    """The (info-code, text) of every EDE option of r."""
    return [(o.code, o.text) for o in r.options
            if o.otype == dns.edns.EDE]


def answers(r, rdtype=None):
    """The answer section as [(name, type, rdata text)]."""
    return [(str(rrset.name).lower(), dns.rdatatype.to_text(rrset.rdtype),
             rd.to_text().lower()) for rrset in r.answer for rd in rrset
            if rdtype is None or rrset.rdtype == rdtype]


def addrs(r):
    return [x[2] for x in answers(r) if x[1] in ("A", "AAAA")]


def rc(r):
    return dns.rcode.to_text(r.rcode())


def expect_pass(r, what, want=("192.0.2.1",)):
    assert r.rcode() == dns.rcode.NOERROR, "%s: rcode %s, want an answer" % (
        what, rc(r))
    assert sorted(addrs(r)) == sorted(want), "%s: answer %s, want %s" % (
        what, answers(r), list(want))
    assert not ede(r), "%s: EDE %s on an answer that passed" % (what, ede(r))


def expect_block(r, what, rcode=dns.rcode.NXDOMAIN, text=None,
                 code=EDE_FILTERED):
    """A blocked answer: rcode, no address, and EDE (code, text)."""
    assert r.rcode() == rcode, "%s: rcode %s, want %s (answer %s)" % (
        what, rc(r), dns.rcode.to_text(rcode), answers(r))
    assert not addrs(r), "%s: addresses %s in a block" % (what, addrs(r))
    got = ede(r)
    assert got, "%s: no EDE option in a blocked answer" % what
    if text is not None:
        assert (code, text) in got, "%s: EDE %s, want (%d, %r)" % (
            what, got, code, text)


def block_soa(r, what, ttl=60):
    soa = [x for x in r.authority if x.rdtype == dns.rdatatype.SOA]
    assert len(soa) == 1, "%s: authority %s, want one SOA" % (
        what, r.authority)
    assert soa[0].ttl == ttl, "%s: SOA TTL %d, want block-ttl %d" % (
        what, soa[0].ttl, ttl)
    assert soa[0][0].minimum == ttl, "%s: SOA MINIMUM %d, want %d" % (
        what, soa[0][0].minimum, ttl)
    return soa[0]


def line_of(path, text):
    """The 1-based number of the first line of path that is text."""
    with open(path) as f:
        for i, line in enumerate(f, 1):
            if line.strip() == text:
                return i
    raise AssertionError("%s: no line %r" % (path, text))
