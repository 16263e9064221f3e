"""test_faults.py: what veiligd does when things go wrong.

Malformed and unwanted queries (FORMERR, NOTIMP, BADVERS, REFUSED, drops,
random packets); upstreams that are silent, fail or send garbage; a TCP
client that never reads; running out of descriptors; the TCP connection
limit; a full listening socket, and a kernel that will not say how full.
"""

import ctypes
import os
import random
import re
import select
import signal
import socket
import struct
import subprocess
import time
import urllib.request

import dns.message
import dns.rcode
import pytest

from e2elib import (MAXCONN, MAXCONN_WORKERS, dig, dq, expect_rcode,
                    free_port, hdr, kdig, metric, note, ok_answer, question,
                    raw_tcp, raw_udp, retry, rrs, tag, tcp_ask, wname)


# ------------------------------------------------------ malformed queries

def _formerr(d, packet, what):
    expect_rcode(raw_udp(d.port, packet), struct.unpack("!H", packet[:2])[0],
                 dns.rcode.FORMERR, what)


def test_formerr_qdcount0(veiligd_nsd):
    _formerr(veiligd_nsd, hdr(0x2001, qd=0), "QDCOUNT 0")


def test_formerr_qdcount2(veiligd_nsd):
    _formerr(veiligd_nsd, hdr(0x2002, qd=2) + question("www.example.test")
             + question("mail.example.test"), "QDCOUNT 2")


def test_formerr_compression_loop(veiligd_nsd):
    # the name at offset 12 is "a" then a pointer back to offset 12
    _formerr(veiligd_nsd, hdr(0x2003) + b"\x01a\xc0\x0c" +
             struct.pack("!HH", 1, 1), "compression loop")


def test_formerr_pointer_to_itself(veiligd_nsd):
    _formerr(veiligd_nsd, hdr(0x2004) + b"\xc0\x0c" +
             struct.pack("!HH", 1, 1), "pointer to itself")


def test_formerr_forward_pointer(veiligd_nsd):
    # a pointer forward to a name after the question
    _formerr(veiligd_nsd, hdr(0x2005) + b"\xc0\x12" +
             struct.pack("!HH", 1, 1) + wname("www.example.test"),
             "forward pointer")


def test_formerr_long_label(veiligd_nsd):
    _formerr(veiligd_nsd, hdr(0x2006) + bytes([64]) + b"x" * 64 +
             b"\x04test\x00" + struct.pack("!HH", 1, 1), "label of 64")


def test_formerr_name_too_long(veiligd_nsd):
    name = b"".join(bytes([63]) + b"y" * 63 for _ in range(4)) + b"\0"  # 257
    _formerr(veiligd_nsd, hdr(0x2007) + name + struct.pack("!HH", 1, 1),
             "name of 257 octets")


def test_formerr_trailing_garbage(veiligd_nsd):
    _formerr(veiligd_nsd, hdr(0x2008) + question("www.example.test") +
             b"\xde\xad\xbe\xef", "trailing garbage")


def test_formerr_question_without_type(veiligd_nsd):
    _formerr(veiligd_nsd, hdr(0x2009) + wname("www.example.test") + b"\x00",
             "question without type and class")


def test_formerr_name_cut_short(veiligd_nsd):
    _formerr(veiligd_nsd, hdr(0x200a) + b"\x03www\x07exam", "name cut short")


def test_formerr_over_tcp(veiligd_nsd):
    expect_rcode(raw_tcp(veiligd_nsd.port, hdr(0x200b, qd=0)), 0x200b,
                 dns.rcode.FORMERR, "QDCOUNT 0 over TCP")


@pytest.mark.parametrize("opcode", [1, 2, 5])
def test_notimp_opcode(veiligd_nsd, opcode):
    expect_rcode(raw_udp(veiligd_nsd.port,
                         hdr(0x3000 + opcode, flags=opcode << 11)
                         + question("www.example.test")),
                 0x3000 + opcode, dns.rcode.NOTIMP, "opcode %d" % opcode)


def test_badvers(veiligd_nsd):
    # built by hand: dnspython takes use_edns=1 for True (version 0)
    opt = b"\x00" + struct.pack("!HHIH", 41, 4096, (1 << 16) | 0x8000, 0)
    ans = raw_udp(veiligd_nsd.port, hdr(0x3a3a, ar=1) +
                  question("www.example.test") + opt)
    assert ans is not None, "no answer to EDNS version 1"
    r = dns.message.from_wire(ans)
    assert r.id == 0x3a3a, "wrong ID"
    assert r.rcode() == dns.rcode.BADVERS, "rcode %s" % dns.rcode.to_text(
        r.rcode())
    assert r.edns == 0, "answer OPT version %s" % r.edns
    assert r.payload == 1232, "answer OPT advertises %d" % r.payload
    assert not r.answer, "answer records with BADVERS"


@pytest.mark.parametrize("qtype,name", [(252, "AXFR"), (251, "IXFR")],
                         ids=["AXFR", "IXFR"])
@pytest.mark.parametrize("proto", ["udp", "tcp"])
def test_refused_zone_transfer(veiligd_nsd, qtype, name, proto):
    pkt = hdr(0x4000 + qtype, flags=0) + question("example.test", qtype)
    send = raw_udp if proto == "udp" else raw_tcp
    expect_rcode(send(veiligd_nsd.port, pkt), 0x4000 + qtype,
                 dns.rcode.REFUSED, "%s over %s" % (name, proto.upper()))


def test_drop_qr1(veiligd_nsd):
    ans = raw_udp(veiligd_nsd.port, hdr(0x5001, flags=0x8100) +
                  question("www.example.test"), 0.7)
    assert ans is None, "answered a packet with QR=1"


@pytest.mark.parametrize("n", [0, 1, 5, 11])
def test_drop_short(veiligd_nsd, n):
    ans = raw_udp(veiligd_nsd.port, hdr(0x5002)[:n], 0.4)
    assert ans is None, "answered a packet of %d octets" % n


def test_garbage_burst(veiligd_nsd):
    """Random packets of every length do not stop the daemon."""
    rnd = random.Random(7)
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        for i in range(300):
            n = rnd.choice((0, 3, 12, 13, 17, 30, 64, 200, 512, 1500))
            pkt = bytes(rnd.getrandbits(8) for _ in range(n))
            if n >= 12 and i % 2:
                pkt = hdr(i, flags=0x0100, qd=rnd.choice((1, 1, 2)),
                          an=rnd.randrange(3), ar=rnd.randrange(3)) + pkt[12:]
            s.sendto(pkt, ("127.0.0.1", veiligd_nsd.port))
    finally:
        s.close()
    time.sleep(0.3)
    assert veiligd_nsd.alive(), "veiligd died"


def test_alive_after_garbage(veiligd_nsd):
    assert veiligd_nsd.alive(), "veiligd died"
    r = dig(veiligd_nsd.port, "mail.example.test", "A")
    assert [x[3] for x in rrs(r, "A")] == ["192.0.2.25"], r["answer"]
    r = kdig(veiligd_nsd.port, "www.example.test", "A", extra=["+tcp"])
    assert [x[3] for x in rrs(r, "A")] == ["192.0.2.10"], r["answer"]


# --------------------------------------------------------- upstream faults

def test_failover_on_silence(veiligd_fake, fake):
    name = "%s.silent1.fake.test." % tag()
    ok_answer(dq(veiligd_fake.port, name, timeout=4), "silent first upstream")
    assert fake.count(name, port=fake.port1) >= 1, "first upstream not asked"
    assert fake.count(name, port=fake.port2) >= 1, "second upstream not asked"


def test_servfail_when_all_silent(veiligd_fake, fake):
    name = "%s.silent.fake.test." % tag()
    t0 = time.monotonic()
    r = dq(veiligd_fake.port, name, timeout=6)
    took = time.monotonic() - t0
    assert r.rcode() == dns.rcode.SERVFAIL, dns.rcode.to_text(r.rcode())
    assert took < 5, "SERVFAIL after %.1f s (3 x 800 ms)" % took
    n = fake.count(name)
    assert n == 3, "%d upstream attempts, configured 3" % n


def test_servfail_upstream_next(veiligd_fake, fake):
    name = "%s.servfail.fake.test." % tag()
    r = dq(veiligd_fake.port, name, timeout=6)
    assert r.rcode() == dns.rcode.SERVFAIL, dns.rcode.to_text(r.rcode())
    assert fake.count(name, port=fake.port2) >= 1, \
        "SERVFAIL from the first upstream not retried on the second"


def test_wrong_id_dropped(veiligd_fake):
    ok_answer(dq(veiligd_fake.port, "%s.wrongid.fake.test." % tag()),
              "wrong ID first")


def test_wrong_question_dropped(veiligd_fake):
    ok_answer(dq(veiligd_fake.port, "%s.wrongq.fake.test." % tag()),
              "wrong question first")


def test_case_lost_upstream_tcp(make_veiligd, fake):
    """
    An upstream that loses the case of the name (0x20): its answer is
    dropped and the same upstream asked over TCP at once, with a warning;
    the next question goes over TCP straight away. A veiligd of its own
    (one worker: one forwarder), as its upstream stays on TCP for minutes.
    """
    d = make_veiligd("nocase", fake.ups[:1], workers=1, timeout="800ms",
                     attempts=2)
    off = d.log_size()
    name = "%s.lowcase.fake.test." % tag()
    ok_answer(dq(d.port, name, timeout=4), "upstream losing the case")
    assert fake.count(name, proto="udp") == 1, "UDP queries"
    assert fake.count(name, proto="tcp") == 1, "TCP queries"
    assert "lost the case" in d.log_since(off), "no warning"
    name = "%s.ok.fake.test." % tag()
    ok_answer(dq(d.port, name), "the next question")
    assert fake.count(name, proto="udp") == 0, "asked over UDP"
    assert fake.count(name, proto="tcp") == 1, "not asked over TCP"


def test_garbage_from_upstream(veiligd_fake, fake):
    name = "%s.garbage.fake.test." % tag()
    r = dq(veiligd_fake.port, name, timeout=6)
    assert r.rcode() == dns.rcode.SERVFAIL, dns.rcode.to_text(r.rcode())
    assert fake.count(name) >= 2, \
        "garbage answer not counted as a failed try"
    assert veiligd_fake.alive()


# ------------------------------------- a TCP client that sends, never reads

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


def test_tcp_input_bound(veiligd_tcp1):
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
    d = veiligd_tcp1
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
        s.connect(("127.0.0.1", d.port))
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
                    seen = d.stat("queries.tcp")
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
    assert d.alive(), "veiligd %s exited" % d.name
    r = dq(d.port, "www.example.test.", timeout=3)
    assert [rd.to_text() for rrset in r.answer for rd in rrset] == \
        ["192.0.2.10"], "after the flood: %s" % r
    r = dq(d.port, "www.example.test.", tcp=True, timeout=3)
    assert r.rcode() == dns.rcode.NOERROR and r.answer, \
        "after the flood, over TCP: %s" % r


# ------------------------------------------------- out of file descriptors

LOWFD_SILENT = 200      # questions to a silent name, over UDP
LOWFD_TCP = 50          # TCP connections, over what the descriptors allow
LOWFD_LOG_LINES = 1000  # a flood of log lines (libevent's accept() errors)


def test_descriptor_exhaustion(veiligd_lowfd):
    """
    veiligd_lowfd has 64 descriptors (LOW_NOFILE) and one worker. 200
    questions to a silent upstream name would each hold a socket for 4 s:
    veiligd keeps only as many in flight as its descriptors allow and
    answers the rest SERVFAIL at once. Then 50 TCP connections run it out
    of descriptors: accept() fails with EMFILE, which must neither spin
    nor flood the log. Afterwards it still answers, from its cache, and
    to veiligctl.
    """
    d = veiligd_lowfd
    off = d.log_size()
    cached = "%s.ok.fake.test." % tag()
    ok_answer(dq(d.port, cached), "before")   # now in the cache
    t = tag()
    u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    conns = []
    try:
        u.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 20)
        for i in range(LOWFD_SILENT):
            u.sendto(hdr(qid=0x3000 + i) +
                     question("%s-%d.silent.fake.test" % (t, i)),
                     ("127.0.0.1", d.port))
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
                LOWFD_SILENT, rcodes)
        assert set(rcodes) == {dns.rcode.SERVFAIL}, \
            "answers to a silent upstream: rcodes %s" % rcodes
        # the questions in flight left descriptors over: a TCP client is
        # still accepted and answered (from the cache)
        note("veiligd holds %d descriptors" % len(os.listdir(
            "/proc/%d/fd" % d.proc.pid)))
        retry("cached over TCP, %d questions in flight" % LOWFD_SILENT,
              lambda: ok_answer(dq(d.port, cached, tcp=True, timeout=1),
                                "answer"), 3, 0.2)

        # TCP connections (the kernel completes them whether or not
        # veiligd can accept them); held 0.5 s, then closed
        for i in range(LOWFD_TCP):
            c = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            conns.append(c)
            c.setblocking(False)
            c.connect_ex(("127.0.0.1", d.port))
        time.sleep(0.5)
        # while out of descriptors: a cached answer needs none
        retry("cached over UDP, out of descriptors",
              lambda: ok_answer(dq(d.port, cached, timeout=1), "answer"),
              3, 0.2)
    finally:
        for c in conns:
            c.close()
        u.close()
    assert d.alive(), "veiligd %s exited" % d.name
    retry("cached over UDP, after the connections",
          lambda: ok_answer(dq(d.port, cached, timeout=1), "answer"),
          5, 0.2)

    def stats():
        code, out, err = d.ctl("stats", timeout=10)
        assert code == 0, "veiligctl stats: %d %s" % (code, err)
        return out
    # its accept() pauses 1 s after EMFILE
    out = retry("veiligctl stats", stats, 3, 1.0)
    m = re.search(r"^answers\.servfail (\d+)$", out, re.M)
    assert m and int(m.group(1)) >= rcodes[dns.rcode.SERVFAIL], \
        "answers.servfail in stats:\n%s" % out
    log = d.log_since(off)
    lines = log.count("\n")
    note("log: %d lines, EMFILE %s" % (
        lines, "logged" if "Too many open files" in log else "not logged"))
    assert lines < LOWFD_LOG_LINES, "%d log lines in the test (accept() " \
        "errors?): %s" % (lines, log[-300:])
    assert d.alive(), "veiligd %s exited" % d.name


# ------------------------------------------------ the TCP connection limit

MAXCONN_CONNS = 12      # connections opened at once


def _tcp_stats(d):
    """veiligctl stats, which must count accepted and rejected connections."""
    st, out = d.stats()
    for k in ("tcp.accepted", "tcp.rejected"):
        assert k in st, "no %s in veiligctl stats:\n%s" % (k, out)
    return st


def test_tcp_max_connections(veiligd_maxconn):
    """
    veiligd_maxconn has tcp-max-connections 4 over 2 workers: each worker
    keeps at most 2 connections (ceil(4 / 2)) and closes at once any
    further one the kernel hands it, counting it as tcp.rejected. Of 12
    connections held open some are closed by veiligd (EOF or reset), at
    most 4 stay open and are answered; once all are closed a new
    connection is served again.
    """
    d = veiligd_maxconn
    share = -(-MAXCONN // MAXCONN_WORKERS)
    most = share * MAXCONN_WORKERS
    st0 = _tcp_stats(d)
    conns = []
    try:
        for _ in range(MAXCONN_CONNS):
            conns.append(socket.create_connection(("127.0.0.1", d.port),
                                                  timeout=2))

        # veiligd takes each one, accepted or rejected: poll (bounded)
        # until its counters account for all of them
        deadline = time.monotonic() + 5
        while True:
            st = _tcp_stats(d)
            acc = st["tcp.accepted"] - st0["tcp.accepted"]
            rej = st["tcp.rejected"] - st0["tcp.rejected"]
            if acc + rej >= MAXCONN_CONNS or time.monotonic() > deadline:
                break
            time.sleep(0.05)
        note("%d connections, %d accepted, %d rejected" % (
            MAXCONN_CONNS, acc, rej))
        assert acc + rej == MAXCONN_CONNS, "%d connections, stats count " \
            "%d accepted and %d rejected" % (MAXCONN_CONNS, acc, rej)

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
        opened = [i for i in range(MAXCONN_CONNS) if i not in closed]
        note("%d closed by veiligd, %d open" % (len(closed), len(opened)))
        assert closed, "none of %d connections was closed (limit %d)" % (
            MAXCONN_CONNS, MAXCONN)
        assert len(closed) == rej, "%d connections closed, tcp.rejected " \
            "went up by %d" % (len(closed), rej)
        assert share <= len(opened) <= most, "%d of %d connections stayed " \
            "open; want %d to %d (tcp-max-connections %d, %d workers)" % (
                len(opened), MAXCONN_CONNS, share, most, MAXCONN,
                MAXCONN_WORKERS)
        assert len(opened) == acc, "%d connections open, tcp.accepted " \
            "went up by %d" % (len(opened), acc)

        # the open ones are served
        t = tag()
        for n, i in enumerate(opened):
            try:
                r = tcp_ask(conns[i], "%s-%d.ok.fake.test." % (t, n),
                            0x4d00 + n)
            except socket.timeout:
                raise AssertionError("open connection %d: no answer in 2 s"
                                     % i)
            ok_answer(r, "open connection %d" % i)
    finally:
        for c in conns:
            c.close()

    # all closed: veiligd sees the EOFs (soon, not at once), then a new
    # connection is taken and answered
    name = "%s.ok.fake.test." % tag()

    def fresh():
        s = socket.create_connection(("127.0.0.1", d.port), timeout=2)
        try:
            ok_answer(tcp_ask(s, name, 0x4dff), "new connection")
        finally:
            s.close()
    retry("a new connection after closing all", fresh, 20, 0.1)


# ------------------------------------------- a full listening socket (issue 9)

RCVBUF_SMALL = 64 * 1024    # server.receive-buffer's least
RCVBUF_BURST = 2000         # datagrams sent to a stopped veiligd
CAP_NET_ADMIN = 12          # linux/capability.h
PR_CAPBSET_DROP = 24        # linux/prctl.h


def _udp_skmem(port):
    """
    The kernel's figures of the listening UDP sockets on port, as
    ss -u -l -m shows them: a list of (rb, d), the receive buffer (as the
    kernel keeps it: twice what was asked) and the datagrams dropped.
    The sockets that only send answers are connected, so not listed.
    """
    r = subprocess.run(["ss", "-u", "-l", "-m", "-n", "sport", "=",
                        ":%d" % port], capture_output=True, timeout=5,
                       check=True)
    found = re.findall(r"skmem:\([^)]*\brb(\d+)[^)]*\bd(\d+)\)",
                       r.stdout.decode())
    assert found, "no listening UDP socket on port %d:\n%s" % (
        port, r.stdout.decode())
    return [(int(rb), int(dr)) for rb, dr in found]


def test_receive_buffer_full(make_veiligd, fake):
    """
    server.receive-buffer is the size the kernel applies (ss); a burst
    sent while veiligd is stopped (SIGSTOP) overflows it, and the drops
    the kernel counted are in veiligctl stats and /metrics: more than
    none, no more than the queries that got no answer, as many as ss says.
    """
    mport = free_port()
    d = make_veiligd("rcvbuf", fake.ups[:1], workers=1,
                     server="  receive-buffer: %d\n" % RCVBUF_SMALL,
                     extra="metrics: 127.0.0.1:%d\n" % mport)
    assert [rb for rb, _ in _udp_skmem(d.port)] == [2 * RCVBUF_SMALL]
    assert d.stat("udp.receive-drops") == 0

    c = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    answered = set()
    try:
        # room for every answer: the losses must be veiligd's socket's
        c.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 20)
        c.bind(("127.0.0.1", 0))
        d.proc.send_signal(signal.SIGSTOP)
        try:
            # a query without a question: veiligd answers it (FORMERR)
            for i in range(RCVBUF_BURST):
                c.sendto(hdr(i, qd=0), ("127.0.0.1", d.port))
        finally:
            d.proc.send_signal(signal.SIGCONT)
        # the answers, until a second passes without one (10 s at most)
        c.settimeout(1.0)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                ans = c.recv(512)
            except socket.timeout:
                break
            answered.add(struct.unpack("!H", ans[:2])[0])
    finally:
        c.close()

    drops = d.stat("udp.receive-drops")
    skmem = _udp_skmem(d.port)
    note("receive buffer %d: %d sent, %d answered, %d dropped (ss: %s)" % (
        RCVBUF_SMALL, RCVBUF_BURST, len(answered), drops, skmem))
    assert 0 < drops <= RCVBUF_BURST - len(answered)
    assert drops == sum(dr for _, dr in skmem)
    # the metrics are read once a second: within two they say the same
    def same():
        got = metric(mport, "veilig_udp_receive_drops_total")
        assert got == drops, "/metrics says %d" % got
    retry("veilig_udp_receive_drops_total", same, 20, 0.2)
    assert metric(mport, "veilig_udp_receive_queue_bytes") == 0


def test_receive_buffer_reload(make_veiligd, fake):
    """A changed server.receive-buffer waits for a restart, and the reload
    says so (veiligctl and the log); the sockets keep their size."""
    d = make_veiligd("rcvbuf-reload", fake.ups[:1], workers=1)
    assert [rb for rb, _ in _udp_skmem(d.port)] == [2 * 4 * 1024 * 1024]
    off = d.log_size()
    d.write_conf(d.remake(server="  receive-buffer: 1MiB\n"))
    code, out, err = d.ctl("reload")
    assert code == 0, err
    want = "server.receive-buffer changed: restart veiligd to apply it"
    assert want in out, out
    assert want in d.log_since(off)
    assert [rb for rb, _ in _udp_skmem(d.port)] == [2 * 4 * 1024 * 1024]


def _no_net_admin():
    """A preexec_fn: veiligd, root still, without CAP_NET_ADMIN (out of
    the bounding set, so not regained by exec): no SO_RCVBUFFORCE."""
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(PR_CAPBSET_DROP, CAP_NET_ADMIN, 0, 0, 0) != 0:
        raise OSError(ctypes.get_errno(), "prctl PR_CAPBSET_DROP")


def test_receive_buffer_granted_less(make_veiligd, fake):
    """Asked more than net.core.rmem_max without the right to force it,
    veiligd starts with what the kernel grants and says so once."""
    with open("/proc/sys/net/core/rmem_max") as f:
        rmem_max = int(f.read())
    ask = 2 * rmem_max
    if ask > 256 * 1024 * 1024:
        pytest.skip("net.core.rmem_max %d: more than veiligd may ask"
                    % rmem_max)
    d = make_veiligd("rcvbuf-less", fake.ups[:1], workers=2,
                     server="  receive-buffer: %d\n" % ask,
                     preexec=_no_net_admin if os.geteuid() == 0 else None)
    assert [rb for rb, _ in _udp_skmem(d.port)] == [2 * rmem_max] * 2
    with open(d.err) as f:
        log = f.read()
    want = "server.receive-buffer: %d octets asked, the kernel granted " \
        "%d (net.core.rmem_max is %d;" % (ask, rmem_max, rmem_max)
    assert log.count(want) == 1, log


# A seccomp filter that makes getsockopt(fd, SOL_SOCKET, SO_MEMINFO, ...)
# fail with ENOPROTOOPT, as a kernel without the option does; every other
# system call, and getsockopt of every other option, goes through.
SECCOMP_ARCH = {                # machine: (AUDIT_ARCH_*, __NR_getsockopt)
    "x86_64": (0xC000003E, 55),
    "aarch64": (0xC00000B7, 209),
}
SOL_SOCKET, SO_MEMINFO, ENOPROTOOPT = 1, 55, 92
PR_SET_NO_NEW_PRIVS, PR_SET_SECCOMP, SECCOMP_MODE_FILTER = 38, 22, 2


class _SockFilter(ctypes.Structure):
    _fields_ = [("code", ctypes.c_uint16), ("jt", ctypes.c_uint8),
                ("jf", ctypes.c_uint8), ("k", ctypes.c_uint32)]


class _SockFprog(ctypes.Structure):
    _fields_ = [("len", ctypes.c_ushort),
                ("filter", ctypes.POINTER(_SockFilter))]


def _no_meminfo():
    """A preexec_fn: the filter above on veiligd and all its threads."""
    arch, nr = SECCOMP_ARCH[os.uname().machine]
    ld, jeq, ret = 0x20, 0x15, 0x06     # BPF_LD|W|ABS, JMP|JEQ|K, RET|K
    allow, refuse = 0x7fff0000, 0x00050000 | ENOPROTOOPT
    prog = [(ld, 0, 0, 4),              # seccomp_data.arch
            (jeq, 0, 7, arch),
            (ld, 0, 0, 0),              # .nr
            (jeq, 0, 5, nr),
            (ld, 0, 0, 16 + 8),         # .args[1] (low half): level
            (jeq, 0, 3, SOL_SOCKET),
            (ld, 0, 0, 16 + 16),        # .args[2]: optname
            (jeq, 0, 1, SO_MEMINFO),
            (ret, 0, 0, refuse),
            (ret, 0, 0, allow)]
    insns = (_SockFilter * len(prog))(*[_SockFilter(*i) for i in prog])
    fprog = _SockFprog(len(prog), insns)
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0 or \
            libc.prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER,
                       ctypes.byref(fprog), 0, 0) != 0:
        raise OSError(ctypes.get_errno(), "prctl seccomp")


def test_receive_drops_unknown(make_veiligd, fake):
    """
    When the kernel will not give the sockets' figures (SO_MEMINFO
    refused, as by a kernel without it), veiligd says so once and leaves
    them out of veiligctl stats and /metrics, not 0; the live page says
    unknown. It answers as ever.
    """
    if os.uname().machine not in SECCOMP_ARCH:
        pytest.skip("no seccomp numbers for %s" % os.uname().machine)
    mport = free_port()
    d = make_veiligd("rxq-unknown", fake.ups[:1], workers=2,
                     extra="metrics: 127.0.0.1:%d\n" % mport,
                     preexec=_no_meminfo)
    ok_answer(dq(d.port, "%s.ok.fake.test." % tag(), timeout=3),
              "under the filter")
    time.sleep(2.5)                     # two ticks, two reads more
    st, out = d.stats()
    assert "queries.udp" in st, out
    assert "udp.receive-drops" not in out, out
    assert "udp.receive-queue-bytes" not in out, out
    base = "http://127.0.0.1:%d/" % mport
    with urllib.request.urlopen(base + "metrics", timeout=5) as f:
        text = f.read().decode()
    assert "veilig_dns_queries_total" in text
    assert "veilig_udp_receive" not in text, \
        [x for x in text.splitlines() if "receive" in x]
    with urllib.request.urlopen(base, timeout=5) as f:
        page = f.read().decode()
    assert "<span id=\"kernel-weggegooid\">onbekend</span>" in page
    with open(d.err) as f:
        log = f.read()
    want = "listening UDP sockets: the datagrams dropped and the octets " \
        "queued are unknown, left out of veiligctl stats and /metrics: " \
        "getsockopt SO_MEMINFO: Protocol not available"
    assert log.count(want) == 1, log
