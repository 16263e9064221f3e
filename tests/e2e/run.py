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
      C  upstream NSD, one board on 127.0.0.2/32 only: access control, SIGHUP
         reload, then the reload of a broken file;
  - and veiligd instance F for per-board filtering: upstream fake1, the
    lists and boards of tests/e2e/filter/ (copied to the temp dir, where
    tests change them; see "F:" below for which 127.0.0.x is which
    board), GeoIP databases built by tests/unit/mkmmdb.pl, veiligctl
    (next to --veiligd) on its control socket, and dnsperf (if installed)
    for the reload under load;
  - veiligd instance S: upstream fake1 with forward timeout 2s, attempts 4
    (8 s before it gives up): the serve-stale client response timer
    (RFC 8767 5), veiligctl flush, help and usage errors;
  - veiligd instance W: listening on the wildcards 0.0.0.0:PORT and
    [::]:PORT (a high free port; only loopback is queried): answers come
    from the address the query was sent to (IP_PKTINFO).
  - veiligd instance T: upstream NSD, tcp-max-queries 1: a TCP client
    that sends without ever reading its answers (the TCP input bound);
  - veiligd instance L: one worker, started with RLIMIT_NOFILE 64:64,
    upstream fake1 with forward timeout 2s, attempts 2: descriptor
    exhaustion (questions in flight capped, accept() on EMFILE).
  - veiligd instance M: upstream fake1, tcp-max-connections 4 over 2
    workers (2 each): connections over the limit are closed at once
    (RFC 7766 6.2.2) and counted as tcp.rejected.
Instances A, B, C, S, W, T, L and M have one board each
(tmp/boards-X/board.yaml) whose networks are who may query.
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
import resource
import shutil
import signal
import socket
import select
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


def start(argv, errpath, outpath=None, env=None, preexec_fn=None):
    err = open(errpath, "ab")
    out = open(outpath, "ab") if outpath else subprocess.DEVNULL
    p = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=out,
                         stderr=err, env=env, start_new_session=True,
                         preexec_fn=preexec_fn)
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


def free_wildcard_port(used):
    """free_port, also free on 0.0.0.0 (and :: with IPv6) for UDP and TCP."""
    for _ in range(20):
        port = free_port(used)
        ok = True
        for fam, host in ((socket.AF_INET, "0.0.0.0"), (socket.AF_INET6, "::")):
            if fam == socket.AF_INET6 and not HAVE_V6:
                continue
            for typ in (socket.SOCK_STREAM, socket.SOCK_DGRAM):
                t = socket.socket(fam, typ)
                try:
                    if fam == socket.AF_INET6:
                        t.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
                    t.bind((host, port))
                except OSError:
                    ok = False
                finally:
                    t.close()
        if ok:
            return port
    raise RuntimeError("no free wildcard port")


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

    def __init__(self, env, name, port, conf_text, conf_path=None):
        self.env = env
        self.name = name
        self.port = port
        self.conf = conf_path or os.path.join(env.tmp, "veiligd-%s.yaml" % name)
        self.err = os.path.join(env.tmp, "veiligd-%s.err" % name)
        self.proc = None
        self.start_error = None
        self.preexec = None     # run in the child before exec (rlimits)
        self.write_conf(conf_text)

    def write_conf(self, text):
        tmp = self.conf + ".new"
        with open(tmp, "w") as f:
            f.write(text)
        os.rename(tmp, self.conf)

    def start(self):
        self.proc = start([self.env.veiligd, "-d", "-c", self.conf],
                          self.err, env=self.env.daemon_env,
                          preexec_fn=self.preexec)

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


REPO = os.path.dirname(os.path.dirname(HERE))
TABLES = os.path.join(REPO, "blocklists")


def board_yaml(name, networks, extra=""):
    """The text of a board file: its name, networks and further keys."""
    return "name: %s\nnetworks: [ %s ]\n%s" % (
        name, ", ".join('"%s"' % x for x in networks), extra)


def write_file(path, text):
    """Write text to path atomically (a reload never sees half a file)."""
    os.makedirs(os.path.dirname(path), exist_ok=True)
    tmp = path + ".new"
    with open(tmp, "w") as f:
        f.write(text)
    os.rename(tmp, path)


def veiligd_conf(listen, upstreams, boards, control, lists=None,
                 idle="10s", timeout="300ms", attempts=3, extra=""):
    """
    A veiligd.yaml. boards is the boards: glob, control the socket path,
    lists a list of (name, file, format[, url]) or None for none.
    """
    if lists:
        ltext = "lists:\n" + "".join(
            "  %s: { file: %s, format: %s%s }\n" % (
                x[0], x[1], x[2], ", url: %s" % x[3] if len(x) > 3 else "")
            for x in lists)
    else:
        ltext = "lists: {}\n"
    return """# generated by tests/e2e/run.py
server:
  listen: [ %s ]
  workers: 2
  tcp-idle-timeout: %s
  tcp-max-connections: 64
  tcp-max-queries: 32
upstreams: [ %s ]
forward: { timeout: %s, attempts: %d }
cache: { size: 16MiB, serve-stale: 1d, max-ttl: 1d, max-negative-ttl: 1h }
%sboards: %s
filter: { block-ttl: 60s, tables: %s }
control: %s
%s""" % (", ".join('"%s"' % x for x in listen), idle,
       ", ".join('"%s"' % x for x in upstreams), timeout, attempts,
       ltext, boards, TABLES, control, extra)


FILTER_SRC = os.path.join(HERE, "filter")
MKMMDB = os.path.join(REPO, "tests", "unit", "mkmmdb.pl")
# the lists of instance F, in this order (the first blocking list names
# the category); relative to the configuration's directory
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


def setup_filter_dir(fdir, tmp):
    """
    Copy tests/e2e/filter to fdir (tests change lists and boards there),
    build its GeoIP databases with mkmmdb.pl and give boards A and B their
    GeoIP rules. True when the databases were built.
    """
    shutil.copytree(FILTER_SRC, fdir)
    geo = os.path.join(fdir, "geo")
    try:
        r = subprocess.run(["perl", MKMMDB, geo,
                            os.path.join(geo, "country.spec"),
                            os.path.join(geo, "asn.spec")],
                           capture_output=True, timeout=30)
        ok = r.returncode == 0
        if not ok:
            note("mkmmdb.pl failed: %s" % r.stderr.decode()[-300:])
    except (OSError, subprocess.TimeoutExpired) as e:
        note("mkmmdb.pl: %s" % e)
        ok = False
    if ok:
        for board, text in FILTER_GEO.items():
            with open(os.path.join(fdir, "boards", board), "a") as f:
                f.write(text)
    return ok


def filter_conf(listen, ups, control, geo, lists=FILTER_LISTS,
                boards="boards/*.yaml"):
    """The configuration of instance F (in its filter directory)."""
    return veiligd_conf(listen, ups, boards, control, lists=lists,
                        timeout="500ms", attempts=3,
                        extra="geoip: { country: geo/country.mmdb, "
                        "asn: geo/asn.mmdb }\n" if geo else "")


LOW_NOFILE = 64     # RLIMIT_NOFILE of instance L, soft and hard
M_MAX_CONNS = 4     # tcp-max-connections of instance M
M_WORKERS = 2       # its workers (the default of veiligd_conf)


def _low_nofile():
    """In instance L's child before exec: few descriptors (veiligd raises
    its soft limit to the hard one, so both are set)."""
    resource.setrlimit(resource.RLIMIT_NOFILE, (LOW_NOFILE, LOW_NOFILE))


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
        self.p_f = free_port(used)
        self.p_s = free_port(used)
        self.p_w = free_wildcard_port(used)
        self.p_t = free_port(used)
        self.p_l = free_port(used)
        self.p_m = free_port(used)
        self.veiligctl = os.path.join(os.path.dirname(veiligd), "veiligctl")
        self.nsd = None
        self.fake = None
        self.daemon_env = dict(os.environ)
        self.daemon_env.setdefault("UBSAN_OPTIONS", "print_stacktrace=1")
        nsd_up = "127.0.0.1:%d" % self.p_nsd
        fake_ups = ["127.0.0.1:%d" % self.p_fake1, "127.0.0.1:%d" % self.p_fake2]
        listen_a = ["127.0.0.1:%d" % self.p_a]
        if HAVE_V6:
            listen_a.append("[::1]:%d" % self.p_a)
        self.nsd_up = nsd_up
        self.fake_ups = fake_ups
        loop = ["127.0.0.0/8", "::1/128"]
        self.set_networks("A", loop)
        self.set_networks("B", loop)
        self.set_networks("C", ["127.0.0.2/32"])
        self.set_networks("S", loop)
        self.set_networks("W", loop)
        self.set_networks("T", loop)
        self.set_networks("L", loop)
        self.set_networks("M", loop)
        self.d = {
            "A": Daemon(self, "A", self.p_a,
                        self.conf("A", listen_a, [nsd_up], idle="1s",
                                  timeout="300ms", attempts=2)),
            "B": Daemon(self, "B", self.p_b,
                        self.conf("B", ["127.0.0.1:%d" % self.p_b], fake_ups,
                                  timeout="800ms", attempts=3)),
            "C": Daemon(self, "C", self.p_c, self.conf_c([nsd_up])),
            # the client response timer must fire long before giving up
            "S": Daemon(self, "S", self.p_s,
                        self.conf("S", ["127.0.0.1:%d" % self.p_s],
                                  fake_ups[:1], timeout="2s", attempts=4)),
            "W": Daemon(self, "W", self.p_w,
                        self.conf("W", ["0.0.0.0:%d" % self.p_w]
                                  + (["[::]:%d" % self.p_w] if HAVE_V6
                                     else []),
                                  fake_ups[:1], timeout="500ms", attempts=2)),
            # one question in flight per connection: a connection waits
            # (reading paused) for each forwarded answer
            "T": Daemon(self, "T", self.p_t,
                        self.conf("T", ["127.0.0.1:%d" % self.p_t], [nsd_up],
                                  timeout="500ms", attempts=2).replace(
                            "tcp-max-queries: 32", "tcp-max-queries: 1")),
            # questions to a silent name stay in flight 4 s
            "L": Daemon(self, "L", self.p_l,
                        self.conf("L", ["127.0.0.1:%d" % self.p_l],
                                  fake_ups[:1], timeout="2s",
                                  attempts=2).replace("workers: 2",
                                                      "workers: 1")),
            # few TCP connections: M_MAX_CONNS shared by its 2 workers
            "M": Daemon(self, "M", self.p_m,
                        self.conf("M", ["127.0.0.1:%d" % self.p_m],
                                  fake_ups[:1], timeout="500ms",
                                  attempts=2).replace(
                            "tcp-max-connections: 64",
                            "tcp-max-connections: %d" % M_MAX_CONNS)),
        }
        self.d["L"].preexec = _low_nofile
        self.fdir = os.path.join(self.tmp, "filter-F")
        self.have_geo = setup_filter_dir(self.fdir, self.tmp)
        listen_f = ["127.0.0.1:%d" % self.p_f]
        if HAVE_V6:
            listen_f.append("[::1]:%d" % self.p_f)
        self.d["F"] = Daemon(self, "F", self.p_f,
                             filter_conf(listen_f, fake_ups[:1], self.ctl("F"),
                                         self.have_geo),
                             conf_path=os.path.join(self.fdir, "veiligd.yaml"))

    def boards_dir(self, name):
        return os.path.join(self.tmp, "boards-%s" % name)

    def ctl(self, name):
        return os.path.join(self.tmp, "ctl-%s.sock" % name)

    def conf(self, name, listen, ups, **kw):
        """The configuration of instance name: its boards dir and socket."""
        return veiligd_conf(listen, ups,
                            os.path.join(self.boards_dir(name), "*.yaml"),
                            self.ctl(name), **kw)

    def conf_c(self, ups):
        return self.conf("C", ["127.0.0.1:%d" % self.p_c], ups)

    def set_networks(self, name, networks):
        """The one board of instance A, B or C, serving networks."""
        write_file(os.path.join(self.boards_dir(name), "board.yaml"),
                   board_yaml("Board %s" % name, networks))

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
  # no response rate limiting: instance T sends it thousands of queries
  rrl-ratelimit: 0
  rrl-whitelist-ratelimit: 0
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
    # From many sockets they land on both workers (SO_REUSEPORT spreads
    # them): the workers share the question in flight, so still exactly
    # one upstream query, and the other worker's askers are answered from
    # the cache when it is done.
    before = _stat(env, "answers.shared")
    name = "%s.slow400.fake.test." % tag()
    _burst(env, name, 16, False)
    n = env.fake_count(name)
    assert n == 1, "16 identical queries from 16 sockets, 2 workers: %d " \
        "upstream queries" % n
    assert _stat(env, "answers.shared") > before, \
        "no query waited for the other worker's upstream query"


def _stat(env, key):
    """A counter of instance B from veiligctl stats."""
    rc, out, err = ctl(env, "stats", inst="B")
    assert rc == 0, "veiligctl stats: %d %s" % (rc, err)
    for line in out.splitlines():
        k, _, v = line.partition(" ")
        if k == key:
            return int(v)
    raise AssertionError("no %s in veiligctl stats: %s" % (key, out))


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


@test("B")
def test_tcp_out_of_order(env):
    """
    RFC 7766 6.2.1.1: on one TCP connection a slow question (the fake
    answers slow400 after 400 ms) and then a cached one, sent back to
    back in one segment. Both are answered, matched by ID, and the
    cached one first: it does not wait behind the slow one.
    """
    fast_name = "%s.ok.fake.test." % tag()
    _ok_answer(dq(env.p_b, fast_name), "priming the cache")
    slow = dns.message.make_query("%s.slow400.fake.test." % tag(), "A")
    fast = dns.message.make_query(fast_name, "A")
    if fast.id == slow.id:
        fast.id = (slow.id + 1) & 0xffff
    s = socket.create_connection(("127.0.0.1", env.p_b), timeout=4)
    order = []
    got = {}
    try:
        s.sendall(b"".join(struct.pack("!H", len(w)) + w
                           for w in (slow.to_wire(), fast.to_wire())))
        for _ in range(2):
            h = recv_exact(s, 2)
            assert h is not None, "connection closed after %d answers" % (
                len(order))
            body = recv_exact(s, struct.unpack("!H", h)[0])
            assert body is not None, "connection closed within an answer"
            r = dns.message.from_wire(body)
            assert r.id not in got, "two answers with ID %#x" % r.id
            got[r.id] = r
            order.append(r.id)
    except socket.timeout:
        raise AssertionError("only %d of 2 answers within 4 s" % len(order))
    finally:
        s.close()
    for q, what in ((slow, "slow"), (fast, "cached")):
        assert q.id in got, "no answer with the ID %#x of the %s question " \
            "(IDs answered: %s)" % (q.id, what, [hex(x) for x in order])
        assert q.is_response(got[q.id]), "answer to the %s question's ID " \
            "is for %s" % (what, got[q.id].question)
        _ok_answer(got[q.id], "%s question" % what)
    n = env.fake_count(fast_name)
    assert n == 1, "the cached name went upstream again (%d queries)" % n
    assert order == [fast.id, slow.id], "answers in the order they were " \
        "asked (slow %#x, then cached %#x): the cached answer waited " \
        "behind the slow one" % (slow.id, fast.id)


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
    env.set_networks("C", ["127.0.0.0/8", "::1/128"])
    _hup_until(env, lambda: dq(env.p_c, "www.example.test.", timeout=1).rcode()
               == dns.rcode.NOERROR, "new board networks:")
    assert d.alive()


@test("C")
def test_reload_upstreams(env):
    d = env.d["C"]
    name = "%s.ok.fake.test." % tag()
    r = dq(env.p_c, name, timeout=3)
    assert r.rcode() != dns.rcode.NOERROR, "fake.test answered before the reload"
    d.write_conf(env.conf_c([env.fake_ups[0]]))

    def fresh_ok():
        r = dq(env.p_c, "%s.ok.fake.test." % tag(), timeout=1.5)
        return r.rcode() == dns.rcode.NOERROR and r.answer
    _hup_until(env, fresh_ok, "new upstreams:")


BAD_CONF_LINES = 3      # line of the first error in bad_conf()


def bad_conf(env):
    good = env.conf_c([env.fake_ups[0]]).splitlines()
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
    # the previous configuration (upstream fake1, board networks 127/8) still holds
    r = dq(env.p_c, "%s.ok.fake.test." % tag(), timeout=3)
    _ok_answer(r, "after a bad reload")


@test("C")
def test_check_config(env):
    good = os.path.join(env.tmp, "check-good.yaml")
    with open(good, "w") as f:
        f.write(env.conf_c([env.nsd_up]))
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


# F: per-board filtering -------------------------------------------------
#
# Instance F forwards to the fake upstream (names under filter.test. and
# the fixed names of fakeup.FIXED) with the boards of tests/e2e/filter:
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


def fq(env, name, rdtype="A", src=SRC_A, tcp=False, timeout=3.0):
    """A query to F from src, with EDNS (so that blocks carry an EDE)."""
    return dq(env.p_f, name, rdtype, tcp=tcp, source=src, timeout=timeout,
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
    assert len(soa) == 1, "%s: authority %s, want one SOA" % (what, r.authority)
    assert soa[0].ttl == ttl, "%s: SOA TTL %d, want block-ttl %d" % (
        what, soa[0].ttl, ttl)
    assert soa[0][0].minimum == ttl, "%s: SOA MINIMUM %d, want %d" % (
        what, soa[0][0].minimum, ttl)
    return soa[0]


def ctl(env, *args, timeout=20, inst="F"):
    """veiligctl -s inst's socket ARGS: (exit status, stdout, stderr)."""
    r = subprocess.run([env.veiligctl, "-s", env.ctl(inst)] + list(args),
                       capture_output=True, timeout=timeout,
                       env=env.daemon_env)
    return (r.returncode, r.stdout.decode("utf-8", "replace"),
            r.stderr.decode("utf-8", "replace"))


def line_of(path, text):
    """The 1-based number of the first line of path that is text."""
    with open(path) as f:
        for i, line in enumerate(f, 1):
            if line.strip() == text:
                return i
    raise AssertionError("%s: no line %r" % (path, text))


@test("F")
def test_f_no_board_refused(env):
    for src in (SRC_NONE, "127.0.0.200"):
        r = fq(env, "www.filter.test.", src=src)
        assert r.rcode() == dns.rcode.REFUSED, "from %s: %s" % (src, rc(r))
        assert not r.answer
    r = dq(env.p_f, "www.filter.test.", source=SRC_NONE, tcp=True)
    assert r.rcode() == dns.rcode.REFUSED, "TCP from %s: %s" % (SRC_NONE, rc(r))
    expect_pass(fq(env, "www.filter.test."), "board A")
    expect_pass(fq(env, "www.filter.test.", src=SRC_B), "board B")


@test("F")
def test_f_boards_differ(env):
    # A blocks phishing, not gambling; B the other way round
    for name in ("phish.filter.test.", "www.phish.filter.test.",
                 "login.bank-phish.filter.test."):
        r = fq(env, name, src=SRC_A)
        expect_block(r, "A " + name, text="blocked: phishing")
        expect_pass(fq(env, name, src=SRC_B), "B " + name)
    # a parent of a listed name is not blocked
    expect_pass(fq(env, "bank-phish.filter.test."), "parent of a listed name")
    for name in ("casino.filter.test.", "www.poker.filter.test.",
                 "x.poker.filter.test."):
        expect_pass(fq(env, name, src=SRC_A), "A " + name)
        r = fq(env, name, src=SRC_B)
        expect_block(r, "B " + name, rcode=dns.rcode.NOERROR,
                     text="blocked: gambling")
    # over TCP and from ::1 (board A too)
    expect_block(fq(env, "phish.filter.test.", tcp=True), "A over TCP",
                 text="blocked: phishing")
    if HAVE_V6:
        r = dq(env.p_f, "phish.filter.test.", server="::1", use_edns=0)
        expect_block(r, "A from ::1", text="blocked: phishing")


@test("F")
def test_f_precedence(env):
    # allow beats a blocked list, for the name and under it
    expect_pass(fq(env, "allowed.phish.filter.test."), "allow over list")
    expect_pass(fq(env, "x.allowed.phish.filter.test."), "under an allow")
    # deny blocks; deny beats a list (the EDE names the deny list)
    for name in ("denied.filter.test.", "www.denied.filter.test.",
                 "deny-listed.phish.filter.test.", "denied-parent.filter.test."):
        expect_block(fq(env, name), name, text="blocked: deny list")
    # allow beats deny
    expect_pass(fq(env, "ok.denied-parent.filter.test."), "allow over deny")
    # deny on a board that does not block anything else
    expect_pass(fq(env, "denied.filter.test.", src=SRC_B), "B: not denied")
    # adblock: the most specific entry wins
    expect_block(fq(env, "adult.filter.test."), "adblock block",
                 text="blocked: adult")
    expect_block(fq(env, "x.adult.filter.test."), "adblock sub",
                 text="blocked: adult")
    expect_pass(fq(env, "safe.adult.filter.test."), "adblock exception")
    expect_pass(fq(env, "x.safe.adult.filter.test."), "under an exception")
    expect_block(fq(env, "deep.safe.adult.filter.test."),
                 "block under an exception", text="blocked: adult")
    # RPZ: a passthru under a blocked name passes
    expect_block(fq(env, "bad.malware.filter.test."), "rpz block",
                 text="blocked: malware")
    expect_pass(fq(env, "good.bad.malware.filter.test."), "rpz passthru")


@test("F")
def test_f_action_nxdomain(env):
    r = fq(env, "%s.phish.filter.test." % tag())
    expect_block(r, "nxdomain", text="blocked: phishing")
    soa = block_soa(r, "nxdomain")
    assert str(soa.name).lower() == "phish.filter.test.", \
        "SOA owner %s, want the name of the rule" % soa.name
    assert not r.answer, r.answer
    r = fq(env, "phish.filter.test.", "AAAA")
    expect_block(r, "nxdomain AAAA", text="blocked: phishing")
    block_soa(r, "nxdomain AAAA")


@test("F")
def test_f_action_nodata(env):
    for t in ("A", "AAAA", "MX"):
        r = fq(env, "casino.filter.test.", t, src=SRC_B)
        expect_block(r, "nodata " + t, rcode=dns.rcode.NOERROR,
                     text="blocked: gambling")
        assert not r.answer, "nodata %s: answer %s" % (t, r.answer)
        block_soa(r, "nodata " + t)


@test("F")
def test_f_action_refused(env):
    for t in ("A", "AAAA"):
        r = fq(env, "phish.filter.test.", t, src=SRC_REFUSED)
        expect_block(r, "refused " + t, rcode=dns.rcode.REFUSED,
                     text="blocked: phishing")
        assert not r.answer and not r.authority, (r.answer, r.authority)
    expect_pass(fq(env, "casino.filter.test.", src=SRC_REFUSED),
                "refused board, other list")


@test("F")
def test_f_action_redirect(env):
    r = fq(env, "phish.filter.test.", src=SRC_REDIRECT)
    assert r.rcode() == dns.rcode.NOERROR, rc(r)
    assert answers(r) == [("phish.filter.test.", "A", "192.0.2.80")], answers(r)
    assert r.answer[0].ttl == 60, "redirect TTL %d, want 60" % r.answer[0].ttl
    assert (EDE_FILTERED, "blocked: phishing") in ede(r), ede(r)
    r = fq(env, "www.phish.filter.test.", "AAAA", src=SRC_REDIRECT)
    assert answers(r) == [("www.phish.filter.test.", "AAAA", "2001:db8::80")], \
        answers(r)
    assert (EDE_FILTERED, "blocked: phishing") in ede(r), ede(r)
    r = fq(env, "phish.filter.test.", "MX", src=SRC_REDIRECT)
    assert r.rcode() == dns.rcode.NOERROR and not r.answer, \
        "redirect MX: %s %s, want NODATA" % (rc(r), r.answer)
    assert ede(r), "redirect MX: no EDE"
    # the deny list redirects too
    r = fq(env, "denied.filter.test.", src=SRC_REDIRECT)
    assert addrs(r) == ["192.0.2.80"], answers(r)
    assert (EDE_FILTERED, "blocked: deny list") in ede(r), ede(r)


@test("F")
def test_f_ede_dig(env):
    out = client(["dig", "@127.0.0.1", "-p", str(env.p_f), "-b", SRC_A,
                  "phish.filter.test", "A", "+tries=1", "+time=3"])
    assert "status: NXDOMAIN" in out, out[-600:]
    assert "EDE: 17 (Filtered): (blocked: phishing)" in out, out[-600:]
    out = client(["dig", "@127.0.0.1", "-p", str(env.p_f), "-b", SRC_A,
                  "use-application-dns.net", "A", "+tries=1", "+time=3"])
    assert "EDE: 15 (Blocked): (blocked: canary)" in out, out[-600:]
    out = client(["dig", "@127.0.0.1", "-p", str(env.p_f), "-b", SRC_A,
                  "denied.filter.test", "A", "+tries=1", "+time=3"])
    assert "EDE: 17 (Filtered): (blocked: deny list)" in out, out[-600:]
    # no EDNS in the query: no OPT, so no EDE, but still blocked
    r = dq(env.p_f, "phish.filter.test.", source=SRC_A, use_edns=False)
    assert r.rcode() == dns.rcode.NXDOMAIN and r.edns == -1, (rc(r), r.edns)


SAFE = [("www.google.nl.", "forcesafesearch.google.com.", "216.239.38.120",
         "192.0.2.100"),
        ("www.youtube.com.", "restrict.youtube.com.", "216.239.38.119",
         "192.0.2.102"),
        ("www.bing.com.", "strict.bing.com.", "204.79.197.220", "192.0.2.103"),
        ("duckduckgo.com.", "safe.duckduckgo.com.", "52.142.124.215",
         "192.0.2.104")]


@test("F")
def test_f_safe_search(env):
    for rnd in range(2):        # the second round comes from the cache
        for name, target, addr, plain in SAFE:
            r = fq(env, name)
            assert r.rcode() == dns.rcode.NOERROR, "%s: %s" % (name, rc(r))
            got = answers(r)
            assert got == [(name, "CNAME", target), (target, "A", addr)], \
                "%s round %d: %s" % (name, rnd, got)
            assert not ede(r), "%s: EDE %s on a rewrite" % (name, ede(r))
            # board B has no safe search: the plain answer
            expect_pass(fq(env, name, src=SRC_B), "B " + name, want=(plain,))
    expect_pass(fq(env, "mail.google.com."), "mail.google.com",
                want=("192.0.2.101",))
    out = client(["dig", "@127.0.0.1", "-p", str(env.p_f), "-b", SRC_A,
                  "WWW.Google.NL", "A", "+tries=1", "+time=3"])
    r = parse_text(out)
    assert [(x[2], x[3].lower()) for x in r["answer"]] == [
        ("CNAME", "forcesafesearch.google.com."), ("A", "216.239.38.120")], \
        r["answer"]


@test("F")
def test_f_canaries(env):
    for name, plain in (("use-application-dns.net.", "192.0.2.105"),
                        ("mask.icloud.com.", "192.0.2.106"),
                        ("mask-h2.icloud.com.", "192.0.2.107")):
        expect_block(fq(env, name), "A " + name, text="blocked: canary",
                     code=EDE_BLOCKED)
        # NXDOMAIN whatever the board's action
        expect_block(fq(env, name, src=SRC_REDIRECT), "redirect " + name,
                     text="blocked: canary", code=EDE_BLOCKED)
        expect_block(fq(env, name, src=SRC_REFUSED), "refused " + name,
                     text="blocked: canary", code=EDE_BLOCKED)
        expect_pass(fq(env, name, src=SRC_B), "canaries: false " + name,
                    want=(plain,))


@test("F")
def test_f_cname_cloaking(env):
    # CNAME to a phishing name: blocked for A (which blocks phishing),
    # passed for B; asked in the order B, A, A, B: the second of each
    # comes from the cache
    name = "%s.cloakphish.filter.test." % tag()
    want = [(name, "CNAME", "cloaked-phish.filter.test."),
            ("cloaked-phish.filter.test.", "A", "192.0.2.1")]
    for i, src in enumerate((SRC_B, SRC_A, SRC_A, SRC_B)):
        r = fq(env, name, src=src)
        if src == SRC_A:
            expect_block(r, "A cloaked #%d" % i, text="blocked: phishing")
            assert not r.answer, "A cloaked: answer %s" % r.answer
            block_soa(r, "A cloaked")
        else:
            assert r.rcode() == dns.rcode.NOERROR and answers(r) == want, \
                "B #%d: %s %s" % (i, rc(r), answers(r))
    assert env.fake_count(name) == 1, "upstream asked %d times" % \
        env.fake_count(name)
    # the other way round: a CNAME to a gambling name, A first
    name = "%s.cloakcasino.filter.test." % tag()
    for i, src in enumerate((SRC_A, SRC_B, SRC_B, SRC_A)):
        r = fq(env, name, src=src)
        if src == SRC_B:
            expect_block(r, "B cloaked #%d" % i, rcode=dns.rcode.NOERROR,
                         text="blocked: gambling")
            assert not r.answer, r.answer
        else:
            assert r.rcode() == dns.rcode.NOERROR and len(r.answer) == 2, \
                "A #%d: %s %s" % (i, rc(r), answers(r))
    # over TCP too
    expect_block(fq(env, name, src=SRC_B, tcp=True), "B cloaked over TCP",
                 rcode=dns.rcode.NOERROR, text="blocked: gambling")


@test("F")
def test_f_coalesced_boards(env):
    """Queries of several boards share one upstream query; each board
    still gets its own verdict on the (CNAME-cloaked) answer."""
    name = "%s.slow-cloakphish.filter.test." % tag()
    srcs = [SRC_A, SRC_B, SRC_REDIRECT, SRC_REFUSED] * 2
    socks = []
    try:
        for src in srcs:
            s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            s.bind((src, 0))
            s.settimeout(3)
            socks.append(s)
            q = dns.message.make_query(name, "A", use_edns=0)
            s.sendto(q.to_wire(), ("127.0.0.1", env.p_f))
        res = [dns.message.from_wire(s.recv(4096)) for s in socks]
    except socket.timeout:
        raise AssertionError("not every board got an answer")
    finally:
        for s in socks:
            s.close()
    for src, r in zip(srcs, res):
        what = "from %s" % src
        if src == SRC_A:
            expect_block(r, what, text="blocked: phishing")
        elif src == SRC_B:
            assert r.rcode() == dns.rcode.NOERROR and len(r.answer) == 2, \
                "%s: %s %s" % (what, rc(r), answers(r))
        elif src == SRC_REDIRECT:
            assert addrs(r) == ["192.0.2.80"], "%s: %s" % (what, answers(r))
        else:
            expect_block(r, what, rcode=dns.rcode.REFUSED,
                         text="blocked: phishing")
    n = env.fake_count(name)
    assert 1 <= n <= 2, "%d upstream queries for 8 coalesced (2 workers)" % n

@test("F")
def test_f_ip_list(env):
    name = "%s.badip.filter.test." % tag()
    for i in range(2):      # the second from the cache
        expect_block(fq(env, name), "A badip #%d" % i, text="blocked: badips")
        expect_pass(fq(env, name, src=SRC_B), "B badip #%d" % i,
                    want=("192.0.2.1", "198.51.100.66"))
    # AAAA in a listed /48
    expect_block(fq(env, name, "AAAA"), "A badip AAAA", text="blocked: badips")
    # allow skips answer inspection
    expect_pass(fq(env, "badip-allowed.filter.test."), "allowed badip",
                want=("192.0.2.1", "198.51.100.66"))


@test("F")
def test_f_geoip(env):
    if not env.have_geo:
        raise Skip("mkmmdb.pl could not build the MMDB files")
    ru = "%s.ru.filter.test." % tag()
    asn = "%s.asn.filter.test." % tag()
    for i in range(2):
        expect_block(fq(env, ru), "A RU #%d" % i, text="blocked: country RU")
        expect_pass(fq(env, ru, src=SRC_B), "B RU #%d" % i,
                    want=("203.0.113.5",))
        expect_pass(fq(env, asn), "A AS #%d" % i, want=("203.0.113.200",))
        expect_block(fq(env, asn, src=SRC_B), "B AS #%d" % i,
                     rcode=dns.rcode.NOERROR, text="blocked: AS64511")
    expect_pass(fq(env, ru, src=SRC_REFUSED), "no geo rules",
                want=("203.0.113.5",))
    # an NL address is not blocked by A's RU rule
    expect_pass(fq(env, "nl.filter.test."), "NL address")


@test("F")
def test_f_rpz(env):
    r = fq(env, "nx.malware.filter.test.")
    expect_block(r, "rpz nxdomain", text="blocked: malware")
    r = fq(env, "nodata.malware.filter.test.")
    expect_block(r, "rpz nodata (board action nxdomain)",
                 rcode=dns.rcode.NOERROR, text="blocked: malware")
    assert not r.answer
    # local CNAME: the CNAME and the target's records from the upstream
    for i in range(2):
        r = fq(env, "rewrite.malware.filter.test.")
        got = answers(r)
        assert r.rcode() == dns.rcode.NOERROR and got == [
            ("rewrite.malware.filter.test.", "CNAME", "landing.filter.test."),
            ("landing.filter.test.", "A", "192.0.2.77")], \
            "rpz rewrite #%d: %s %s" % (i, rc(r), got)
    # passthru under a blocked name
    expect_pass(fq(env, "good.bad.malware.filter.test."), "passthru")
    expect_pass(fq(env, "x.good.bad.malware.filter.test."), "under passthru")
    # "*.wild..." covers subdomains only
    expect_block(fq(env, "x.wild.malware.filter.test."), "wildcard",
                 text="blocked: malware")
    expect_block(fq(env, "a.b.wild.malware.filter.test."), "wildcard deep",
                 text="blocked: malware")
    expect_pass(fq(env, "wild.malware.filter.test."), "wildcard apex")
    # a board that does not block malware
    expect_pass(fq(env, "nx.malware.filter.test.", src=SRC_B), "B rpz")
    r = fq(env, "rewrite.malware.filter.test.", src=SRC_B)
    assert addrs(r) == ["192.0.2.1"], "B rewrite: %s" % answers(r)


@test("F")
def test_f_first_blocking_list_names_it(env):
    # both.filter.test is in phishing (first in veiligd.yaml) and gambling
    expect_block(fq(env, "both.filter.test."), "A", text="blocked: phishing")
    expect_block(fq(env, "both.filter.test.", src=SRC_B), "B",
                 rcode=dns.rcode.NOERROR, text="blocked: gambling")


@test("F")
def test_f_case_and_rpz_exact(env):
    r = fq(env, "PHISH.Filter.Test.")
    expect_block(r, "mixed case", text="blocked: phishing")
    assert str(r.question[0].name) == "PHISH.Filter.Test.", r.question
    # an RPZ trigger without "*." is that name only
    expect_pass(fq(env, "x.bad.malware.filter.test."), "under an RPZ name")
    expect_pass(fq(env, "x.nx.malware.filter.test."), "under an RPZ name")


@test("F")
def test_f_cloaking_actions(env):
    name = "%s.cloakphish.filter.test." % tag()
    r = fq(env, name, src=SRC_REDIRECT)
    assert addrs(r) == ["192.0.2.80"], "redirect: %s" % answers(r)
    assert (EDE_FILTERED, "blocked: phishing") in ede(r), ede(r)
    r = fq(env, name, "AAAA", src=SRC_REDIRECT)
    assert addrs(r) == ["2001:db8::80"], "redirect AAAA: %s" % answers(r)
    expect_block(fq(env, name, src=SRC_REFUSED), "refused",
                 rcode=dns.rcode.REFUSED, text="blocked: phishing")
    expect_block(fq(env, name, "MX", src=SRC_A), "nxdomain MX",
                 text="blocked: phishing")


@test("F")
def test_f_reload_reinspects_cache(env):
    """A cached answer is judged again under a reloaded policy."""
    rl = os.path.join(env.fdir, "lists", "reload.txt")
    cloak = "%s.cloakphish.filter.test." % tag()
    bad = "%s.badip.filter.test." % tag()
    expect_pass(fq(env, cloak, src=SRC_LOAD), "before",
                want=("192.0.2.1",))
    write_file(rl, "# the cloaked target\ncloaked-phish.filter.test\n")
    code, out, err = ctl(env, "reload")
    assert code == 0, "reload: %d %s %s" % (code, out, err)
    for i in range(2):
        expect_block(fq(env, cloak, src=SRC_LOAD), "cached, after #%d" % i,
                     text="blocked: reload")
    assert env.fake_count(cloak) == 1, "asked upstream %d times" % \
        env.fake_count(cloak)
    # and the other way: B passes a cached badip answer that A blocks
    expect_block(fq(env, bad), "A badip", text="blocked: badips")
    write_file(rl, "# empty again\n")
    code, out, err = ctl(env, "reload")
    assert code == 0, "reload: %d %s %s" % (code, out, err)
    expect_pass(fq(env, cloak, src=SRC_LOAD), "after unlisting")
    expect_block(fq(env, bad), "A badip after reload", text="blocked: badips")


@test("F")
def test_f_explain(env):
    fdir = env.fdir
    phish = os.path.join(fdir, "lists", "phishing.txt")
    adult = os.path.join(fdir, "lists", "adult.txt")
    rpz = os.path.join(fdir, "lists", "malware.rpz")
    board_a = os.path.join(fdir, "boards", "board-a.yaml")

    def explain(*args):
        code, out, err = ctl(env, "explain", *args)
        assert code == 0, "explain %s: status %d: %s%s" % (
            " ".join(args), code, out, err)
        return out

    def has(out, *parts):
        for p in parts:
            assert p in out, "no %r in explain output:\n%s" % (p, out)

    n = line_of(phish, "phish.filter.test")
    out = explain("board-a", "www.phish.filter.test")
    has(out, "Board A", "verdict: block", "nxdomain", "blocked: phishing",
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
    code, out, err = ctl(env, "explain", "no-such-board", "phish.filter.test")
    assert code == 1, "unknown board: status %d" % code
    code, out, err = ctl(env, "explain", SRC_NONE, "phish.filter.test")
    assert code == 1, "address of no board: status %d" % code
    code, out, err = ctl(env, "explain", "board-a", "bad..name")
    assert code == 1, "bad name: status %d" % code


@test("F")
def test_f_veiligctl(env):
    code, out, err = ctl(env, "boards")
    assert code == 0, "boards: %d %s" % (code, err)
    rows = {x.split("\t")[0]: x.split("\t") for x in out.splitlines()
            if "\t" in x}
    for b in ("Board A", "Board B", "Board Refused", "Board Redirect",
              "Board Load"):
        assert b in rows, "boards: no %s in:\n%s" % (b, out)
    assert "127.0.0.2/32" in rows["Board B"], rows["Board B"]
    assert any("board-a.yaml" in f for f in rows["Board A"]), rows["Board A"]
    code, out, err = ctl(env, "lists")
    assert code == 0, "lists: %d %s" % (code, err)
    got = [x.split("\t") for x in out.splitlines() if "\t" in x]
    assert [g[0] for g in got] == [x[0] for x in FILTER_LISTS], got
    for g, x in zip(got, FILTER_LISTS):
        assert len(g) == 4, "lists: %r is not NAME FORMAT FILE URL" % g
        assert g[1] == x[2], "lists: format %r for %s" % (g[1], x[0])
        assert g[2].endswith(x[1]), "lists: file %r for %s" % (g[2], x[0])
        assert g[3] == (x[3] if len(x) > 3 else "-"), "lists: url %r" % g[3]
    code, out, err = ctl(env, "status")
    assert code == 0 and env.d["F"].conf in out, "status: %d %s %s" % (
        code, out, err)
    assert re.search(r"boards: 5\b", out) and re.search(r"lists: 6\b", out), out

    def blocked():
        code, out, err = ctl(env, "stats")
        assert code == 0, "stats: %d %s" % (code, err)
        m = re.search(r"^answers\.blocked (\d+)$", out, re.M)
        assert m, "no answers.blocked in:\n%s" % out
        return int(m.group(1))
    b0 = blocked()
    for i in range(3):
        fq(env, "%s.phish.filter.test." % tag())
    b1 = blocked()
    assert b1 >= b0 + 3, "answers.blocked %d then %d after 3 blocks" % (b0, b1)
    code, out, err = ctl(env, "no-such-command")
    assert code == 1, "unknown command: status %d" % code
    code, out, err = ctl(env, "explain")
    assert code == 1, "explain without arguments: status %d" % code


@test("F")
def test_f_reload_broken_board(env):
    d = env.d["F"]
    code, out, err = ctl(env, "reload")
    assert code == 0, "reload: status %d: %s %s" % (code, out, err)
    broken = os.path.join(env.fdir, "boards", "board-broken.yaml")
    text = ("# broken on purpose\nname: Broken\n"
            "networks: [ 127.0.0.7/32, 300.1.2.3/8 ]\n"
            "block: [ no-such-list ]\nno-such-key: 1\n")
    write_file(broken, text)
    try:
        code, out, err = ctl(env, "reload")
        assert code == 1, "reload with a broken board: status %d" % code
        lines = {int(m.group(1)) for m in re.finditer(
            re.escape(broken) + r":(\d+):(\d+):", out + err)}
        assert {3, 4, 5} <= lines, "want errors at lines 3, 4, 5 of %s, got %s" \
            " in:\n%s%s" % (broken, sorted(lines), out, err)
        # the old policy still answers
        expect_block(fq(env, "phish.filter.test."), "after a failed reload",
                     text="blocked: phishing")
        r = fq(env, "www.filter.test.", src="127.0.0.7")
        assert r.rcode() == dns.rcode.REFUSED, "broken board in force: %s" % rc(r)
        # SIGHUP logs the same and keeps the old policy too
        off = d.log_size()
        d.proc.send_signal(signal.SIGHUP)
        deadline = time.monotonic() + 4
        pat = re.compile(re.escape(broken) + r":\d+:\d+:")
        while time.monotonic() < deadline and not pat.search(d.log_since(off)):
            time.sleep(0.1)
        assert pat.search(d.log_since(off)), "no error in the log after SIGHUP"
        expect_block(fq(env, "phish.filter.test."), "after a failed SIGHUP",
                     text="blocked: phishing")
    finally:
        os.unlink(broken)
    # a list that became mostly garbage: the reload fails, naming it
    adult = os.path.join(env.fdir, "lists", "adult.txt")
    with open(adult) as f:
        keep = f.read()
    write_file(adult, "junk junk\nmore junk\n||new-adult.filter.test^\n%%%\n")
    try:
        code, out, err = ctl(env, "reload")
        assert code == 1, "reload with a garbage list: status %d" % code
        assert adult in out + err, "garbage list not named:\n%s%s" % (out, err)
        expect_block(fq(env, "adult.filter.test."), "old adult list",
                     text="blocked: adult")
        expect_pass(fq(env, "new-adult.filter.test."), "new adult list")
    finally:
        write_file(adult, keep)
    # a good board added at reload is in force at once
    write_file(os.path.join(env.fdir, "boards", "board-new.yaml"),
               board_yaml("Board New", ["127.0.0.7/32"],
                          "block: [ gambling ]\naction: refused\n"))
    code, out, err = ctl(env, "reload")
    assert code == 0, "reload: status %d: %s %s" % (code, out, err)
    expect_block(fq(env, "casino.filter.test.", src="127.0.0.7"), "new board",
                 rcode=dns.rcode.REFUSED, text="blocked: gambling")
    expect_pass(fq(env, "phish.filter.test.", src="127.0.0.7"), "new board")
    os.unlink(os.path.join(env.fdir, "boards", "board-new.yaml"))
    code, out, err = ctl(env, "reload")
    assert code == 0, "reload: status %d: %s %s" % (code, out, err)


def _check_dir(env, name, lists=FILTER_LISTS):
    """A copy of the filter directory for veiligd -n: (dir, config path)."""
    d = os.path.join(env.tmp, name)
    shutil.copytree(FILTER_SRC, d)
    conf = os.path.join(d, "veiligd.yaml")
    write_file(conf, filter_conf(["127.0.0.1:%d" % env.p_f], env.fake_ups,
                                 os.path.join(d, "ctl.sock"), False,
                                 lists=lists))
    return d, conf


def _check(env, conf):
    r = subprocess.run([env.veiligd, "-n", "-c", conf], capture_output=True,
                       timeout=20, env=env.daemon_env)
    err = r.stderr.decode("utf-8", "replace")
    for s in SAN_PATTERNS:
        assert s not in err, "sanitizer report from -n:\n%s" % err[-800:]
    return r.returncode, err


@test("F")
def test_f_check_lists_and_boards(env):
    d, conf = _check_dir(env, "check-good")
    code, err = _check(env, conf)
    assert code == 0, "-n on the fixture: %d:\n%s" % (code, err[-600:])
    assert not re.search(r"\.(txt|rpz|yaml):\d+", err), \
        "warnings on the fixture:\n%s" % err[-600:]
    # a list of mostly garbage: rejected, naming the file
    d, conf = _check_dir(env, "check-garbage")
    bad = os.path.join(d, "lists", "phishing.txt")
    write_file(bad, "good.filter.test\n" + "".join(
        "not a name %d !!\n" % i for i in range(10)))
    code, err = _check(env, conf)
    assert code == 1, "-n with a garbage list: status %d" % code
    assert bad in err or "lists/phishing.txt" in err, \
        "the garbage list is not named:\n%s" % err[-600:]
    # a few bad lines: accepted, with file:line warnings
    d, conf = _check_dir(env, "check-warn")
    warn = os.path.join(d, "lists", "phishing.txt")
    with open(warn) as f:
        n0 = len(f.read().splitlines())
    with open(warn, "a") as f:
        f.write("bad name here\n")          # line n0 + 1
        f.write("ok1.filter.test\nok2.filter.test\nok3.filter.test\n")
        f.write("x..y.filter.test\n")       # line n0 + 5
    code, err = _check(env, conf)
    assert code == 0, "-n with 2 bad lines: status %d:\n%s" % (code, err[-600:])
    for ln in (n0 + 1, n0 + 5):
        assert re.search(r"phishing\.txt:%d\b" % ln, err), \
            "no warning naming phishing.txt:%d in:\n%s" % (ln, err[-600:])
    # a missing list file
    d, conf = _check_dir(env, "check-missing")
    os.unlink(os.path.join(d, "lists", "gambling.txt"))
    code, err = _check(env, conf)
    assert code == 1, "-n with a missing list: status %d" % code
    assert "gambling.txt" in err, err[-600:]
    # two boards with overlapping networks: both files named
    d, conf = _check_dir(env, "check-overlap")
    over = os.path.join(d, "boards", "board-over.yaml")
    write_file(over, board_yaml("Board Over", ["127.0.0.0/30"]))
    code, err = _check(env, conf)
    assert code == 1, "-n with overlapping boards: status %d" % code
    assert "board-over.yaml" in err, "overlap: no board-over.yaml:\n%s" % err
    assert re.search(r"board-(a|b)\.yaml", err), \
        "overlap: the other board file is not named:\n%s" % err


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


@test("F")
def test_f_reload_under_load(env):
    """Reloads every 0.2 s while queries flow: none lost, last list wins."""
    d = env.d["F"]
    rl = os.path.join(env.fdir, "lists", "reload.txt")
    names = _load_names(20)
    secs = 5
    qfile = os.path.join(env.tmp, "load.txt")
    with open(qfile, "w") as f:
        # the listed names (cache hits after the first round) and as many
        # fresh names (forwarded while reloads go on)
        t = tag()
        for i in range(1000):
            f.write("%s A\n" % names[i % len(names)].rstrip("."))
            f.write("u%d.%s.load.filter.test A\n" % (i, t))
    perf = shutil.which("dnsperf")
    out_path = os.path.join(env.tmp, "dnsperf.out")
    if perf:
        p = start([perf, "-s", "127.0.0.1", "-p", str(env.p_f), "-a", SRC_LOAD,
                   "-d", qfile, "-l", str(secs), "-Q", "1000", "-t", "3",
                   "-c", "2"], out_path + ".err", outpath=out_path)
    else:
        import threading
        res = {}
        th = threading.Thread(target=lambda: res.update(r=_send_load(
            env.p_f, SRC_LOAD, names, secs * 500, 500, secs + 4)))
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
            d.proc.send_signal(signal.SIGHUP)
        else:
            code, out, err = ctl(env, "reload", timeout=5)
            bad += code != 0
        reloads += 1
        time.sleep(0.2)
    # the final policy: only final.load.filter.test and r0 listed
    write_file(rl, "# final\nfinal.load.filter.test\nr0.load.filter.test\n")
    time.sleep(0.3)                 # let the last SIGHUP finish first
    code, out, err = ctl(env, "reload", timeout=10)
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
        assert m and lost, "dnsperf output:\n%s%s" % (rep[-800:],
                                                      tail(out_path + ".err"))
        sent, nlost = int(m.group(1)), int(lost.group(1))
    else:
        th.join(secs + 10)
        sent, nlost = res.get("r", (0, -1))
    note("load: %d queries, %d lost, %d reloads" % (sent, nlost, reloads))
    assert bad == 0, "%d veiligctl reloads failed under load" % bad
    assert sent >= secs * 300, "only %d queries sent" % sent
    assert nlost == 0, "%d of %d queries lost during %d reloads" % (
        nlost, sent, reloads)
    assert d.alive()
    expect_block(fq(env, "final.load.filter.test.", src=SRC_LOAD), "final",
                 text="blocked: reload")
    expect_block(fq(env, "r0.load.filter.test.", src=SRC_LOAD), "final r0",
                 text="blocked: reload")
    for n in names[1:4]:
        expect_pass(fq(env, n, src=SRC_LOAD), "final " + n)


# S: the serve-stale client response timer; veiligctl flush and help -----

def _stale_count(env):
    code, out, err = ctl(env, "stats", inst="S")
    assert code == 0, "stats: %d %s" % (code, err)
    m = re.search(r"^answers\.stale (\d+)$", out, re.M)
    assert m, "no answers.stale in:\n%s" % out
    return int(m.group(1))


def _cache_entries(env):
    code, out, err = ctl(env, "status", inst="S")
    assert code == 0, "status: %d %s" % (code, err)
    m = re.search(r"^cache: (\d+) entries", out, re.M)
    assert m, "no cache entries in status:\n%s" % out
    return int(m.group(1))


@test("S")
def test_s_flush(env):
    """veiligctl flush empties the cache: the next query is forwarded."""
    name = "%s.ok.fake.test." % tag()
    _ok_answer(dq(env.p_s, name), "first")
    _ok_answer(dq(env.p_s, name), "cached")
    n = env.fake_count(name)
    assert n == 1, "forwarded %d times before the flush, want 1" % n
    assert _cache_entries(env) >= 1, "no cache entries after an answer"
    code, out, err = ctl(env, "flush", inst="S")
    assert code == 0, "flush: %d %s %s" % (code, out, err)
    got = _cache_entries(env)
    assert got == 0, "cache: %d entries after flush" % got
    _ok_answer(dq(env.p_s, name), "after flush")
    n = env.fake_count(name)
    assert n == 2, "forwarded %d times after the flush, want 2" % n


@test("S")
def test_s_veiligctl_help(env):
    code, out, err = ctl(env, "help", inst="S")
    assert code == 0, "help: %d %s" % (code, err)
    words = [x.split()[0] for x in out.splitlines() if x.strip()]
    for c in ("status", "stats", "reload", "flush", "explain", "boards",
              "lists", "help"):
        assert c in words, "help does not list %s:\n%s" % (c, out)
    code, out, err = ctl(env, "help", "explain", inst="S")
    assert code == 0, "help explain: %d %s" % (code, err)
    lines = [x for x in out.splitlines() if x.strip()]
    assert len(lines) == 1 and lines[0].startswith(
        "explain BOARD|ADDRESS NAME [TYPE]"), "help explain:\n%s" % out
    code, out, err = ctl(env, "help", "no-such-command", inst="S")
    assert code == 1, "help of an unknown command: status %d" % code
    assert "unknown command" in err, err


@test("S")
def test_s_veiligctl_usage(env):
    """Wrong argument counts: exit 1 and the command's usage."""
    for args, usage in ((("flush", "now"), "usage: flush"),
                        (("status", "x"), "usage: status"),
                        (("stats", "x", "y"), "usage: stats"),
                        (("explain", "board-a"),
                         "usage: explain BOARD|ADDRESS NAME [TYPE]"),
                        (("explain", "a", "b", "A", "x"),
                         "usage: explain BOARD|ADDRESS NAME [TYPE]"),
                        (("help", "flush", "x"), "usage: help [COMMAND]")):
        code, out, err = ctl(env, *args, inst="S")
        assert code == 1, "%s: status %d" % (" ".join(args), code)
        assert usage in err, "%s: no %r in:\n%s" % (" ".join(args), usage,
                                                    err)
        assert out == "", "%s: output %r" % (" ".join(args), out)
    # no command at all, or an unknown option: veiligctl's own usage
    for argv in ([env.veiligctl, "-s", env.ctl("S")],
                 [env.veiligctl, "-x", "status"]):
        r = subprocess.run(argv, capture_output=True, timeout=20,
                           env=env.daemon_env)
        err = r.stderr.decode("utf-8", "replace")
        assert r.returncode == 1, "%s: status %d" % (argv[1:], r.returncode)
        assert "usage: veiligctl" in err and "flush" in err, \
            "%s: usage:\n%s" % (argv[1:], err)


@test("S")
def test_s_stale_timer(env):
    """
    RFC 8767 5: the upstream hangs (8 s before veiligd gives up); after
    1.8 s the client gets the expired answer with TTL 30, over UDP and TCP.
    A name never cached gets no early answer.
    """
    import threading
    t = tag()
    udp_name = "u%s.once.fake.test." % t
    tcp_name = "t%s.once.fake.test." % t
    for name in (udp_name, tcp_name):
        r = dq(env.p_s, name)
        _ok_answer(r, "first " + name)
        assert r.answer[0].ttl <= 1, "TTL %d, want 1" % r.answer[0].ttl
    s0 = _stale_count(env)
    time.sleep(2.5)             # the TTL of 1 s has run out

    # meanwhile a name never cached, the upstream silent: no early answer
    res = {}

    def uncached():
        try:
            r = dq(env.p_s, "%s.silent.fake.test." % tag(), timeout=4.0)
            res["r"] = r
        except dns.exception.Timeout:
            res["r"] = None
        except Exception as e:  # reported below
            res["e"] = e
    th = threading.Thread(target=uncached)
    th.start()
    try:
        for name, tcp in ((udp_name, False), (tcp_name, True)):
            what = "stale over %s" % ("TCP" if tcp else "UDP")
            try:
                r = dq(env.p_s, name, tcp=tcp, timeout=5.0)
            except dns.exception.Timeout:
                raise AssertionError("%s: no answer within 5 s (the "
                                     "upstream hangs for 8 s)" % what)
            _ok_answer(r, what)
            ttls = [rr.ttl for rr in r.answer]
            assert ttls == [30], "%s: TTLs %s, want 30 (RFC 8767)" % (
                what, ttls)
    finally:
        th.join(10)
    assert "e" not in res, "uncached query: %r" % res.get("e")
    r = res.get("r")
    assert r is None or r.rcode() != dns.rcode.NOERROR, \
        "a name never cached got NOERROR with the upstream silent: %s" % r
    s1 = _stale_count(env)
    assert s1 >= s0 + 2, "answers.stale %d then %d after 2 stale answers" % (
        s0, s1)
    for name in (udp_name, tcp_name):
        n = env.fake_count(name)
        assert n >= 2, "%s forwarded %d times: no refresh was tried" % (
            name, n)


# W: a wildcard listen address answers from the address queried ---------

def _udp_from(dst, port, name, src, timeout=3.0):
    """Query dst:port from src over UDP; (the answer, its source address)."""
    fam = socket.AF_INET6 if ":" in dst else socket.AF_INET
    s = socket.socket(fam, socket.SOCK_DGRAM)
    s.settimeout(timeout)
    try:
        s.bind((src, 0))
        q = dns.message.make_query(name, "A")
        s.sendto(q.to_wire(), (dst, port))
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                data, peer = s.recvfrom(65535)
            except socket.timeout:
                break
            try:
                r = dns.message.from_wire(data)
            except Exception:
                continue
            if r.id == q.id:
                return r, peer[:2]
        raise AssertionError("no answer from %s:%d to %s" % (dst, port,
                                                            name))
    finally:
        s.close()


@test("W")
def test_w_wildcard_source_address(env):
    """On 0.0.0.0 and [::], UDP answers come from the address queried."""
    name = "%s.ok.fake.test." % tag()
    targets = [("127.0.0.2", "127.0.0.1"), ("127.0.0.1", "127.0.0.1"),
               ("127.0.0.3", "127.0.0.1"), ("127.0.0.2", "127.0.0.2")]
    if HAVE_V6:
        targets.append(("::1", "::1"))
    # the first query of the name is forwarded (answered when the upstream
    # answers), the others are cache hits (answered at once)
    for dst, src in targets:
        for kind in ("forwarded", "cached") if dst == "127.0.0.2" and \
                src == "127.0.0.1" else ("cached",):
            r, peer = _udp_from(dst, env.p_w, name, src)
            what = "%s answer to %s from %s" % (kind, dst, src)
            _ok_answer(r, what)
            assert peer == (dst, env.p_w), "%s came from %s:%d" % (
                what, peer[0], peer[1])
    n = env.fake_count(name)
    assert n == 1, "forwarded %d times, want 1" % n
    # a forwarded answer to another address, and TCP on the wildcard
    name2 = "%s.ok.fake.test." % tag()
    r, peer = _udp_from("127.0.0.4", env.p_w, name2, "127.0.0.1")
    _ok_answer(r, "forwarded to 127.0.0.4")
    assert peer == ("127.0.0.4", env.p_w), "answer to 127.0.0.4 from %s" % (
        peer,)
    _ok_answer(dq(env.p_w, name2, tcp=True, server="127.0.0.5"), "TCP")
    if HAVE_V6:
        _ok_answer(dq(env.p_w, name2, tcp=True, server="::1"), "TCP ::1")
        r, peer = _udp_from("::1", env.p_w, "%s.ok.fake.test." % tag(), "::1")
        _ok_answer(r, "forwarded over ::1")
        assert peer == ("::1", env.p_w), "answer to ::1 from %s" % (peer,)


# T: a TCP client that sends and never reads -----------------------------

def _vm_rss_kib(pid):
    """VmRSS of process pid in KiB, from /proc/PID/status."""
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise AssertionError("no VmRSS in /proc/%d/status" % pid)


def _sysctl_last(path):
    """The last number of a /proc/sys file (the maximum of tcp_rmem); 0."""
    try:
        with open(path) as f:
            return int(f.read().split()[-1])
    except (OSError, ValueError, IndexError):
        return 0


MIB = 1024 * 1024
# What send() may accept from a client that never reads, when veiligd
# bounds its input: the questions veiligd answered until it had 1 MiB of
# unread answers (plus its socket send buffer) and then stopped reading
# for good, its read-ahead of two messages (128 KiB), and the kernel
# buffers in between: the client's send buffer (at most tcp_wmem's
# maximum, 4 MiB by default) and veiligd's receive buffer (at most
# tcp_rmem's maximum, 6 MiB by default; this host may allow more). So
# about 12 MiB with the defaults; 32 MiB, or the buffers' maxima with
# 8 MiB to spare if this host allows more, leaves a wide margin yet is
# reached in well under a second on loopback by a veiligd that reads
# without bound (it went to gigabytes in seconds).
TCP_INPUT_BOUND = max(
    32 * MIB,
    _sysctl_last("/proc/sys/net/ipv4/tcp_rmem")
    + 2 * _sysctl_last("/proc/sys/net/ipv4/tcp_wmem") + 8 * MIB)
TCP_RSS_GROWTH_KIB = 64 * 1024      # far below the gigabytes of a leak
TCP_FLOOD_SECS = 10                 # the flood's time bound
TCP_BLOCKED_SECS = 0.5              # send() refused this long, twice,
                                    # with no query read in between: done


def _stat_of(env, inst, key):
    """A counter of instance inst from veiligctl stats."""
    code, out, err = ctl(env, "stats", inst=inst, timeout=10)
    assert code == 0, "veiligctl stats: %d %s" % (code, err)
    m = re.search(r"^%s (\d+)$" % re.escape(key), out, re.M)
    assert m, "no %s in veiligctl stats:\n%s" % (key, out)
    return int(m.group(1))


@test("T")
def test_t_tcp_input_bound(env):
    """
    A TCP client sends queries and never reads an answer: veiligd answers
    until 1 MiB of answers waits unread, then reads no more from it, so
    the client's non-blocking send() stops being accepted after a bounded
    amount and veiligd's memory stays put. The questions have CD=1, so
    none is answered from the cache: each goes to NSD (tcp-max-queries
    1: the connection stops reading until its answer, 40 A records, is
    back) and the answer that finds 1 MiB unread is a forwarded one.
    After that answer veiligd once read on without bound (gigabytes in
    seconds); now it stops for good, and it never reads more than two
    messages ahead.
    """
    d = env.d["T"]
    rss0 = _vm_rss_kib(d.proc.pid)
    per_chunk = 32

    def chunk(first):
        out = []
        for i in range(first, first + per_chunk):
            q = hdr(qid=i & 0xffff, flags=0x0110) + \
                question("many.example.test")         # RD, CD
            out.append(struct.pack("!H", len(q)) + q)
        return b"".join(out)

    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    accepted = nq = 0
    end = None
    try:
        # before connect(), so the window advertised to veiligd is small
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        s.settimeout(3)
        s.connect(("127.0.0.1", env.p_t))
        s.setblocking(False)
        buf = b""
        blocked_since = last_seen = None
        deadline = time.monotonic() + TCP_FLOOD_SECS
        # bounded by time and by TCP_INPUT_BOUND octets (so by count:
        # queries of 37 octets, under a million and a half of them)
        while True:
            now = time.monotonic()
            if now > deadline:
                end = "time"
                break
            if accepted > TCP_INPUT_BOUND:
                end = "octets"
                break
            if not buf:
                buf = chunk(nq)
                nq += per_chunk
            try:
                k = s.send(buf)
            except BlockingIOError:
                if blocked_since is None:
                    blocked_since = now
                elif now - blocked_since >= TCP_BLOCKED_SECS:
                    # Refused a while: done once veiligd has stopped
                    # reading queries too, not while it is busy with the
                    # ones it read ahead.
                    seen = _stat_of(env, "T", "queries.tcp")
                    if seen == last_seen:
                        end = "blocked"
                        break
                    last_seen = seen
                    blocked_since = now
                time.sleep(0.02)
                continue
            except (ConnectionResetError, BrokenPipeError):
                end = "closed"      # veiligd let the client go: bounded too
                break
            blocked_since = None
            accepted += k
            buf = buf[k:]
        rss1 = _vm_rss_kib(d.proc.pid)
    finally:
        s.close()
    note("TCP flood: %s after %d octets accepted (%d queries built, %s "
         "read), VmRSS %d -> %d KiB" % (end, accepted, nq, last_seen, rss0,
                                        rss1))
    assert end in ("blocked", "closed"), \
        "send() still accepted after %d octets (stopped by %s): veiligd " \
        "reads without bound (VmRSS %d -> %d KiB)" % (accepted, end, rss0,
                                                      rss1)
    assert accepted <= TCP_INPUT_BOUND, "%d octets accepted" % accepted
    assert rss1 - rss0 < TCP_RSS_GROWTH_KIB, \
        "VmRSS grew from %d to %d KiB while a client did not read" % (
            rss0, rss1)
    assert d.alive(), "veiligd T exited"
    r = dq(env.p_t, "www.example.test.", timeout=3)
    assert [rd.to_text() for rrset in r.answer for rd in rrset] == \
        ["192.0.2.10"], "after the flood: %s" % r
    r = dq(env.p_t, "www.example.test.", tcp=True, timeout=3)
    assert r.rcode() == dns.rcode.NOERROR and r.answer, \
        "after the flood, over TCP: %s" % r


# L: out of file descriptors ----------------------------------------------

L_SILENT = 200          # questions to a silent name, over UDP
L_TCP = 50              # TCP connections, over what the descriptors allow
L_LOG_LINES = 1000      # a flood of log lines (libevent's accept() errors)


def _retry(what, fn, tries, pause):
    """fn() until it returns without failing; at most tries times."""
    for i in range(tries):
        try:
            return fn()
        except (AssertionError, dns.exception.Timeout, OSError) as e:
            if i == tries - 1:
                raise AssertionError("%s: %s (%d tries)" % (
                    what, str(e) or type(e).__name__, tries))
            time.sleep(pause)


@test("L")
def test_l_descriptor_exhaustion(env):
    """
    Instance L has 64 descriptors and one worker. 200 questions to a
    silent upstream name would each hold a socket for 4 s: veiligd keeps
    only as many in flight as its descriptors allow and answers the rest
    SERVFAIL at once. Then 50 TCP connections run it out of descriptors:
    accept() fails with EMFILE, which must neither spin nor flood the log.
    Afterwards it still answers, from its cache, and to veiligctl.
    """
    d = env.d["L"]
    off = d.log_size()
    cached = "%s.ok.fake.test." % tag()
    _ok_answer(dq(env.p_l, cached), "before")   # now in the cache
    t = tag()
    u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    conns = []
    try:
        u.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 20)
        for i in range(L_SILENT):
            u.sendto(hdr(qid=0x3000 + i) +
                     question("%s-%d.silent.fake.test" % (t, i)),
                     ("127.0.0.1", env.p_l))
        # The silent ones stay 4 s in flight; those over the cap are
        # answered at once. Collect what comes within 2.5 s (or 150).
        rcodes = {}
        u.settimeout(0.2)
        deadline = time.monotonic() + 2.5
        while time.monotonic() < deadline and sum(rcodes.values()) < 150:
            try:
                ans = u.recv(65535)
            except socket.timeout:
                continue
            if len(ans) >= 12:
                rc = struct.unpack("!H", ans[2:4])[0] & 0xf
                rcodes[rc] = rcodes.get(rc, 0) + 1
        note("silent flood: rcodes %s" % rcodes)
        assert rcodes.get(dns.rcode.SERVFAIL, 0) > 0, \
            "no SERVFAIL for %d questions to a silent upstream: %s" % (
                L_SILENT, rcodes)
        assert set(rcodes) == {dns.rcode.SERVFAIL}, \
            "answers to a silent upstream: rcodes %s" % rcodes
        # the questions in flight left descriptors over: a TCP client is
        # still accepted and answered (from the cache)
        note("L holds %d descriptors" % len(os.listdir(
            "/proc/%d/fd" % d.proc.pid)))
        _retry("cached over TCP, %d questions in flight" % L_SILENT,
               lambda: _ok_answer(dq(env.p_l, cached, tcp=True, timeout=1),
                                  "answer"), 3, 0.2)

        # TCP connections (the kernel completes them whether or not
        # veiligd can accept them); held 0.5 s, then closed
        for i in range(L_TCP):
            c = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            conns.append(c)
            c.setblocking(False)
            c.connect_ex(("127.0.0.1", env.p_l))
        time.sleep(0.5)
        # while out of descriptors: a cached answer needs none
        _retry("cached over UDP, out of descriptors",
               lambda: _ok_answer(dq(env.p_l, cached, timeout=1), "answer"),
               3, 0.2)
    finally:
        for c in conns:
            c.close()
        u.close()
    assert d.alive(), "veiligd L exited"
    _retry("cached over UDP, after the connections",
           lambda: _ok_answer(dq(env.p_l, cached, timeout=1), "answer"),
           5, 0.2)

    def stats():
        code, out, err = ctl(env, "stats", inst="L", timeout=10)
        assert code == 0, "veiligctl stats: %d %s" % (code, err)
        return out
    # its accept() pauses 1 s after EMFILE
    out = _retry("veiligctl stats", stats, 3, 1.0)
    m = re.search(r"^answers\.servfail (\d+)$", out, re.M)
    assert m and int(m.group(1)) >= rcodes[dns.rcode.SERVFAIL], \
        "answers.servfail in stats:\n%s" % out
    log = d.log_since(off)
    lines = log.count("\n")
    note("log of L: %d lines, EMFILE %s" % (
        lines, "logged" if "Too many open files" in log else "not logged"))
    assert lines < L_LOG_LINES, "%d log lines in the test (accept() " \
        "errors?): %s" % (lines, log[-300:])
    assert d.alive(), "veiligd L exited"


# M: the TCP connection limit --------------------------------------------

M_CONNS = 12        # connections opened at once to instance M


def _stats_of(env, inst):
    """veiligctl stats of inst as a dict of ints."""
    code, out, err = ctl(env, "stats", inst=inst, timeout=10)
    assert code == 0, "veiligctl stats: %d %s" % (code, err)
    st = {}
    for line in out.splitlines():
        k, _, v = line.partition(" ")
        if v.strip().isdigit():
            st[k] = int(v)
    for k in ("tcp.accepted", "tcp.rejected"):
        assert k in st, "no %s in veiligctl stats:\n%s" % (k, out)
    return st


def _tcp_ask(s, name, qid):
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


@test("M")
def test_m_tcp_max_connections(env):
    """
    Instance M has tcp-max-connections 4 over 2 workers: each worker
    keeps at most 2 connections (ceil(4 / 2)) and closes at once any
    further one the kernel hands it, counting it as tcp.rejected. Of 12
    connections held open some are closed by veiligd (EOF or reset), at
    most 4 stay open and are answered; once all are closed a new
    connection is served again.
    """
    share = -(-M_MAX_CONNS // M_WORKERS)
    most = share * M_WORKERS
    st0 = _stats_of(env, "M")
    conns = []
    try:
        for _ in range(M_CONNS):
            conns.append(socket.create_connection(("127.0.0.1", env.p_m),
                                                  timeout=2))

        # veiligd takes each one, accepted or rejected: poll (bounded)
        # until its counters account for all of them
        deadline = time.monotonic() + 5
        while True:
            st = _stats_of(env, "M")
            acc = st["tcp.accepted"] - st0["tcp.accepted"]
            rej = st["tcp.rejected"] - st0["tcp.rejected"]
            if acc + rej >= M_CONNS or time.monotonic() > deadline:
                break
            time.sleep(0.05)
        note("M: %d connections, %d accepted, %d rejected" % (
            M_CONNS, acc, rej))
        assert acc + rej == M_CONNS, "%d connections, stats count %d " \
            "accepted and %d rejected" % (M_CONNS, acc, rej)

        # the rejected ones see EOF (or a reset): wait (bounded) until
        # as many as were rejected are closed
        closed = set()
        deadline = time.monotonic() + 3
        while len(closed) < rej and time.monotonic() < deadline:
            live = [c for i, c in enumerate(conns) if i not in closed]
            rd, _, _ = select.select(live, [], [], 0.1)
            for c in rd:
                i = conns.index(c)
                try:
                    data = c.recv(512)
                except ConnectionResetError:
                    data = b""
                assert data == b"", "%d octets unasked on connection %d" % (
                    len(data), i)
                closed.add(i)
        # and no more than those
        live = [c for i, c in enumerate(conns) if i not in closed]
        rd, _, _ = select.select(live, [], [], 0.2)
        assert not rd, "%d more connections readable (closed?) besides " \
            "the %d rejected" % (len(rd), rej)
        opened = [i for i in range(M_CONNS) if i not in closed]
        note("M: %d closed by veiligd, %d open" % (len(closed), len(opened)))
        assert closed, "none of %d connections was closed (limit %d)" % (
            M_CONNS, M_MAX_CONNS)
        assert len(closed) == rej, "%d connections closed, tcp.rejected " \
            "went up by %d" % (len(closed), rej)
        assert share <= len(opened) <= most, "%d of %d connections stayed " \
            "open; want %d to %d (tcp-max-connections %d, %d workers)" % (
                len(opened), M_CONNS, share, most, M_MAX_CONNS, M_WORKERS)
        assert len(opened) == acc, "%d connections open, tcp.accepted " \
            "went up by %d" % (len(opened), acc)

        # the open ones are served
        t = tag()
        for n, i in enumerate(opened):
            try:
                r = _tcp_ask(conns[i], "%s-%d.ok.fake.test." % (t, n),
                             0x4d00 + n)
            except socket.timeout:
                raise AssertionError("open connection %d: no answer in 2 s"
                                     % i)
            _ok_answer(r, "open connection %d" % i)
    finally:
        for c in conns:
            c.close()

    # all closed: veiligd sees the EOFs (soon, not at once), then a new
    # connection is taken and answered
    name = "%s.ok.fake.test." % tag()

    def fresh():
        s = socket.create_connection(("127.0.0.1", env.p_m), timeout=2)
        try:
            _ok_answer(_tcp_ask(s, name, 0x4dff), "new connection")
        finally:
            s.close()
    _retry("a new connection after closing all", fresh, 20, 0.1)


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
    # With EDNS a stale answer says so: EDE 3, Stale Answer (RFC 8914).
    r2 = dq(env.p_a, "stale.example.test", "A", use_edns=0, timeout=5.0)
    assert (3, None) in ede(r2) or (3, "") in ede(r2), \
        "stale answer without EDE 3: %s" % ede(r2)
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
