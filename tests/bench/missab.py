#!/usr/bin/python3
"""missab.py: the cache-miss path, veiligd binaries against dnsdist.

    /usr/bin/python3 tests/bench/missab.py [options] [NAME=VEILIGD ...]

Every query is a miss: each run asks names no server has seen (a fresh
tag per run, "<tag>-<n>.bench.test"), which NSD answers from a wildcard.
The servers (each veiligd given, default build/veiligd, and dnsdist with
a packet cache) run side by side pinned to CPU 1; NSD and blast run on
CPU 0. The runs are interleaved (A B C, B C A, ...) so that a change in
the machine's load falls on all alike. Per run it reports blast's qps and
latency, the server's CPU share and CPU microseconds per answer (from
/proc/PID/stat), and its system calls per answer (perf stat on the
raw_syscalls:sys_enter tracepoint, when perf can). Then medians with
their spread, and each veiligd's ratios to dnsdist round by round.

Options: -r ROUNDS (5), -l SECONDS per run (8), -n NAMES per run
(600000; a run that sends more repeats names and says so), -c SOCKETS
and -w WINDOW (blast's, 8 x 16), --no-dnsdist, --lists DIR (the board
blocks every list in it, as tests/bench/run does; $BENCH_LISTS or
../shared/data/blocklists, an error if it is not there; '' for none;
and beside them make bench's synthetic million, from build/listload,
unless --no-synthetic: a miss then meets the lists' lookups and memory
traffic of make bench's misses mix, which make the cache's evictions
several times as costly as without lists), --blast PATH
(build/blast, or $BLAST), --perf NAME[,NAME...] (perf record -g each
NAME's first run into build/bench/perf-NAME.data; --perf-round R records
round R instead, e.g. 1 with a small --cache, to see a full cache, and
-1 every round, into perf-NAME-rR.data), --callgrind N (the veiligds under
callgrind, N queries a run: instructions per answer), --cache SIZE
(veiligd's cache size, 256MiB; a small one fills in the first run, so
that every later miss also evicts), --keep (leave the temporary
directory, with runs.json).

It needs nsd, dnsdist, taskset and blast (tests/bench/blast.c). Every
process it starts is stopped by its PID when it ends.
"""
import argparse
import json
import os
import random
import shutil
import signal
import socket
import statistics
import struct
import subprocess
import sys
import tempfile
import time

HZ = os.sysconf("SC_CLK_TCK")
REPO = os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))))


def free_ports(n):
    """n ports free for UDP and TCP on 127.0.0.1."""
    socks, out = [], []
    while len(out) < n:
        u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        u.bind(("127.0.0.1", 0))
        p = u.getsockname()[1]
        t = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        try:
            t.bind(("127.0.0.1", p))
        except OSError:
            u.close()
            t.close()
            continue
        socks += [u, t]
        out.append(p)
    for s in socks:
        s.close()
    return out


def ticks(pid):
    """utime + stime of every thread of pid, in clock ticks."""
    with open("/proc/%d/stat" % pid) as f:
        st = f.read()
    fl = st[st.rindex(")") + 2:].split()
    return int(fl[11]) + int(fl[12])


def descendants(pid):
    """Every descendant of pid (NSD's server process is a grandchild)."""
    out = []
    for t in os.listdir("/proc/%d/task" % pid):
        try:
            kids = open("/proc/%d/task/%s/children" % (pid, t)).read().split()
        except OSError:
            continue
        for k in kids:
            out.append(int(k))
            try:
                out += descendants(int(k))
            except OSError:
                pass
    return out


def tree_ticks(pid):
    total = 0
    for p in [pid] + descendants(pid):
        try:
            total += ticks(p)
        except OSError:
            pass
    return total


def wait_answer(port, proc, limit):
    """Wait until 127.0.0.1:port answers n0.bench.test A."""
    q = struct.pack(">HHHHHH", 4242, 0x0100, 1, 0, 0, 0)
    for label in ("n0", "bench", "test"):
        q += bytes([len(label)]) + label.encode()
    q += b"\0" + struct.pack(">HH", 1, 1)
    end = time.time() + limit
    while time.time() < end:
        if proc.poll() is not None:
            raise SystemExit("missab: %s exited" % " ".join(proc.args))
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.settimeout(0.3)
        try:
            s.sendto(q, ("127.0.0.1", port))
            r = s.recv(4096)
            if r[:2] == q[:2] and r[3] & 0xF == 0:
                return
        except OSError:
            pass
        finally:
            s.close()
        time.sleep(0.2)
    raise SystemExit("missab: no answer on port %d in %d s" % (port, limit))


NSD_CONF = """server:
	ip-address: 127.0.0.1
	port: %(port)d
	do-ip6: no
	server-count: 1
	username: ""
	chroot: ""
	database: ""
	zonesdir: "%(t)s"
	zonelistfile: "%(t)s/zl"
	xfrdfile: "%(t)s/xfrd"
	xfrdir: "%(t)s"
	pidfile: "%(t)s/nsd.pid"
	logfile: "%(t)s/nsd.log"
	verbosity: 0
	# no response rate limiting: a wildcard would be limited as one name
	rrl-ratelimit: 0
remote-control:
	control-enable: no
zone:
	name: bench.test
	zonefile: "%(t)s/bench.test.zone"
"""

ZONE = """$ORIGIN bench.test.
$TTL 3600
@ SOA ns hostmaster 1 3600 900 604800 3600
@ NS ns
ns A 127.0.0.1
n0 A 10.0.0.2
* A 10.0.0.1
"""

VEILIGD_CONF = """server:
  listen: [ "127.0.0.1:%(port)d" ]
  workers: 1
upstreams: [ "127.0.0.1:%(nsd)d" ]
forward: { timeout: 1s, attempts: 3 }
cache: { size: %(cache)s }
boards: "%(t)s/boards/*.yaml"
filter: { tables: "%(tables)s" }
control: "%(t)s/ctl-%(name)s.sock"
%(lists)s"""

DNSDIST_CONF = """setSecurityPollSuffix("")
setLocal("127.0.0.1:%(port)d")
setACL({"127.0.0.0/8"})
newServer({address="127.0.0.1:%(nsd)d", checkName="bench.test."})
pc = newPacketCache(100000)
getPool(""):setCache(pc)
"""


class Bench:
    def __init__(self, a):
        self.a = a
        self.t = tempfile.mkdtemp(prefix="missab.")
        self.procs = []
        self.names = [s.split("=", 1)[0] for s in a.servers]
        self.bins = dict(s.split("=", 1) for s in a.servers)
        if not a.no_dnsdist:
            self.names.append("dnsdist")
        ports = free_ports(len(self.names) + 1)
        self.nsd_port = ports.pop()
        self.port = dict(zip(self.names, ports))
        self.pid = {}
        self.runs = {n: [] for n in self.names}

    def start(self, cmd, name, cpu):
        p = subprocess.Popen(["taskset", "-c", str(cpu)] + cmd,
                             stdin=subprocess.DEVNULL,
                             stdout=subprocess.DEVNULL,
                             stderr=open(os.path.join(self.t, name + ".err"),
                                         "w"))
        self.procs.append(p)
        return p

    def lists_yaml(self):
        """The lists: of veiligd and the names the board blocks."""
        d = self.a.lists
        if not d:
            return "", []
        text, names = "lists:\n", []
        for fn in sorted(os.listdir(d)):
            if not fn.endswith(".txt"):
                continue
            n = fn[:-4]
            fmt = ("hosts" if n.endswith("-hosts") else "adblock"
                   if n.endswith("-adblock") else "ip" if n.endswith("-ip")
                   else "domains")
            text += '  %s: { file: "%s", format: %s }\n' % (
                n, os.path.abspath(os.path.join(d, fn)), fmt)
            names.append(n)
        if self.a.synthetic:
            # make bench's synthetic million (the same names: listload
            # makes them from their numbers), which a miss meets too.
            f = os.path.join(self.t, "synthetic.txt")
            subprocess.run([os.path.join(REPO, "build", "listload"), "-w",
                            f], check=True, stdout=subprocess.DEVNULL)
            text = text or "lists:\n"
            text += '  synthetic: { file: "%s", format: domains }\n' % f
            names.append("synthetic")
        return text, names

    def setup(self):
        t = self.t
        with open(os.path.join(t, "bench.test.zone"), "w") as f:
            f.write(ZONE)
        with open(os.path.join(t, "nsd.conf"), "w") as f:
            f.write(NSD_CONF % {"port": self.nsd_port, "t": t})
        lists, blocked = self.lists_yaml()
        os.mkdir(os.path.join(t, "boards"))
        with open(os.path.join(t, "boards", "bench.yaml"), "w") as f:
            f.write("name: bench\nnetworks: [ 127.0.0.0/16 ]\n"
                    "block: [ %s ]\nsafe-search: true\n" % ", ".join(blocked))
        self.nsd = self.start(["/usr/sbin/nsd", "-d", "-c",
                               os.path.join(t, "nsd.conf")], "nsd", 0)
        wait_answer(self.nsd_port, self.nsd, 30)
        for n in self.names:
            keys = {"port": self.port[n], "nsd": self.nsd_port, "t": t,
                    "name": n, "lists": lists, "cache": self.a.cache,
                    "tables": os.path.join(REPO, "blocklists")}
            if n == "dnsdist":
                conf = os.path.join(t, "dnsdist.lua")
                with open(conf, "w") as f:
                    f.write(DNSDIST_CONF % keys)
                cmd = ["/usr/bin/dnsdist", "--supervised", "--disable-syslog",
                       "-C", conf]
            else:
                conf = os.path.join(t, n + ".yaml")
                with open(conf, "w") as f:
                    f.write(VEILIGD_CONF % keys)
                cmd = [self.bins[n], "-d", "-c", conf]
                if self.a.callgrind:
                    cmd = ["valgrind", "--tool=callgrind",
                           "--callgrind-out-file=%s/cg-%s.%%p" % (t, n)] + cmd
            self.pid[n] = self.start(cmd, n, 1)
            wait_answer(self.port[n], self.pid[n],
                        300 if self.a.callgrind else 60)

    def callgrind_ir(self, n, phase):
        """Zero callgrind's counts (start) or dump them and sum (end)."""
        pid = str(self.pid[n].pid)
        if phase == "start":
            for f in os.listdir(self.t):
                if f.startswith("cg-%s." % n):
                    os.unlink(os.path.join(self.t, f))
            subprocess.run(["callgrind_control", "-z", pid],
                           capture_output=True)
            return 0
        subprocess.run(["callgrind_control", "-d", pid], capture_output=True)
        ir = 0
        for f in os.listdir(self.t):
            if not f.startswith("cg-%s." % n):
                continue
            for line in open(os.path.join(self.t, f)):
                if line.startswith(("totals:", "summary:")):
                    ir += int(line.split()[1])
                    break
        return ir

    def measure(self, n, rnd):
        a = self.a
        tag = "r%ds%d%s" % (rnd, self.names.index(n),
                            "".join(random.choice("abcdefgh")
                                    for _ in range(3)))
        qf = os.path.join(self.t, "queries")
        with open(qf, "w") as f:
            for i in range(a.names):
                f.write("%s-%d.bench.test A\n" % (tag, i))
        pid = self.pid[n].pid
        cg = a.callgrind and n != "dnsdist"
        side = None
        if a.perf and n in a.perf.split(",") and \
                a.perf_round in (rnd, -1):
            side = subprocess.Popen(
                ["perf", "record", "-g", "-p", str(pid), "-o",
                 os.path.join(REPO, "build", "bench", "perf-%s%s.data" % (
                     n, "-r%d" % rnd if a.perf_round == -1 else "")),
                 "--", "sleep", str(a.secs)],
                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        elif not cg and shutil.which("perf"):
            side = subprocess.Popen(
                ["perf", "stat", "-x", ",", "-e", "raw_syscalls:sys_enter",
                 "-p", str(pid), "--", "sleep", str(a.secs)],
                stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        if cg:
            self.callgrind_ir(n, "start")
        t0, n0 = ticks(pid), tree_ticks(self.nsd.pid)
        length = ["-n", str(a.callgrind), "-t", "5"] if cg else \
            ["-l", str(a.secs)]
        out = subprocess.run(
            ["taskset", "-c", "0", a.blast, "-p", str(self.port[n]), "-d", qf,
             "-c", str(a.sockets), "-w", str(a.window), "-k"] + length,
            capture_output=True, text=True, timeout=a.secs + 900)
        t1, n1 = ticks(pid), tree_ticks(self.nsd.pid)
        syscalls = None
        if side is not None:
            err = side.communicate()[1] or ""
            for line in err.splitlines():
                f = line.split(",")
                if len(f) > 2 and "sys_enter" in f[2] and f[0].isdigit():
                    syscalls = int(f[0])
        d = {k: float(v) for k, v in
             (x.split("=", 1) for x in out.stdout.split())}
        if not d:
            raise SystemExit("missab: blast said: %s" % out.stderr[-500:])
        cpu = (t1 - t0) / HZ
        answered = max(d["answered"], 1)
        d.update(round=rnd, cpu_pct=100.0 * cpu / d["seconds"],
                 us_per_q=1e6 * cpu / answered,
                 nsd_pct=100.0 * (n1 - n0) / HZ / d["seconds"],
                 syscalls_per_q=syscalls / answered if syscalls else None,
                 ir_per_q=self.callgrind_ir(n, "end") / answered if cg
                 else None)
        if d["sent"] >= a.names:
            print("warning: %s sent more than the %d names: some hits" %
                  (n, a.names), file=sys.stderr)
        self.runs[n].append(d)
        extra = ""
        if d["syscalls_per_q"] is not None:
            extra += " syscalls/q %.2f" % d["syscalls_per_q"]
        if d["ir_per_q"] is not None:
            extra += " Ir/q %.0f" % d["ir_per_q"]
        print("round %d %-10s qps %7.0f cpu %5.1f%% us/q %6.2f%s lost %d "
              "NOERROR %d p50 %.0f us (nsd %.0f%%, blast %.0f%%)" % (
                  rnd, n, d["qps"], d["cpu_pct"], d["us_per_q"], extra,
                  d["lost"], d.get("rcode_NOERROR", 0), d["p50_us"],
                  d["nsd_pct"], 100 * d["cpu_s"] / d["seconds"]),
              flush=True)

    def report(self):
        med = statistics.median
        print()
        print("%-10s %8s %14s %6s %8s %14s %10s" % (
            "server", "qps", "(min-max)", "cpu", "us/q", "(min-max)",
            "syscalls/q"))
        for n in self.names:
            r = self.runs[n]
            q = [d["qps"] for d in r]
            u = [d["us_per_q"] for d in r]
            s = [d["syscalls_per_q"] for d in r
                 if d["syscalls_per_q"] is not None]
            print("%-10s %8.0f %14s %5.0f%% %8.2f %14s %10s" % (
                n, med(q), "%.0f-%.0f" % (min(q), max(q)),
                med(d["cpu_pct"] for d in r), med(u),
                "%.2f-%.2f" % (min(u), max(u)),
                "%.2f" % med(s) if s else "-"))
        if "dnsdist" not in self.runs:
            return
        dd = self.runs["dnsdist"]
        for n in self.names:
            if n == "dnsdist":
                continue
            q = [a["qps"] / b["qps"] for a, b in zip(self.runs[n], dd)]
            c = [b["us_per_q"] / a["us_per_q"]
                 for a, b in zip(self.runs[n], dd)]
            print("%s/dnsdist: qps %.2fx (rounds %s), per CPU-second %.2fx "
                  "(rounds %s)" % (n, med(q), " ".join("%.2f" % x for x in q),
                                   med(c), " ".join("%.2f" % x for x in c)))

    def run(self):
        self.setup()
        order = list(self.names)
        for rnd in range(self.a.rounds):
            for n in order:
                self.measure(n, rnd)
            order = order[1:] + order[:1]
        self.report()
        with open(os.path.join(self.t, "runs.json"), "w") as f:
            json.dump(self.runs, f, indent=1)

    def stop(self):
        for p in reversed(self.procs):
            if p.poll() is None:
                p.send_signal(signal.SIGTERM)
                try:
                    p.wait(10)
                except subprocess.TimeoutExpired:
                    p.kill()
                    p.wait()
        if self.a.keep:
            print("kept %s" % self.t)
        else:
            shutil.rmtree(self.t, ignore_errors=True)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("-r", "--rounds", type=int, default=5)
    ap.add_argument("-l", "--secs", type=int, default=8)
    ap.add_argument("-n", "--names", type=int, default=600000)
    ap.add_argument("-c", "--sockets", type=int, default=8)
    ap.add_argument("-w", "--window", type=int, default=16)
    ap.add_argument("--no-dnsdist", action="store_true")
    ap.add_argument("--lists", default=os.environ.get(
        "BENCH_LISTS", os.path.join(REPO, "..", "shared", "data",
                                    "blocklists")))
    ap.add_argument("--blast", default=os.environ.get(
        "BLAST", os.path.join(REPO, "build", "blast")))
    ap.add_argument("--perf")
    ap.add_argument("--perf-round", type=int, default=0)
    ap.add_argument("--no-synthetic", dest="synthetic",
                    action="store_false")
    ap.add_argument("--callgrind", type=int, default=0)
    ap.add_argument("--cache", default="256MiB")
    ap.add_argument("--keep", action="store_true")
    ap.add_argument("servers", nargs="*")
    a = ap.parse_args()
    # A missing directory was once taken for no lists, silently: from a
    # git worktree the default is not there, and a miss then cost none
    # of the lookups (nor the memory traffic) of make bench's lists.
    if a.lists and not os.path.isdir(a.lists):
        raise SystemExit("missab: no lists at %s (--lists DIR or "
                         "BENCH_LISTS; --lists '' for none)" % a.lists)
    if not a.servers:
        a.servers = ["veiligd=" + os.path.join(REPO, "build", "veiligd")]
    listload = os.path.join(REPO, "build", "listload")
    for tool in ("taskset", "/usr/sbin/nsd", a.blast) + \
            ((listload,) if a.synthetic else ()) + \
            (() if a.no_dnsdist else ("/usr/bin/dnsdist",)):
        if not shutil.which(tool):
            raise SystemExit("missab: %s not found" % tool)
    os.makedirs(os.path.join(REPO, "build", "bench"), exist_ok=True)
    b = Bench(a)
    try:
        b.run()
    finally:
        b.stop()


main()
