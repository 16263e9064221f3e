#!/usr/bin/python3
"""fakeup.py: a scriptable fake upstream resolver for the veiligd e2e tests.

It listens on UDP and TCP on 127.0.0.1 on one or more ports and answers
every question under fake.test. according to a behaviour chosen by the
label just left of "fake.test."; any labels further left are a free tag
the tests use to make a name unique (so it is not in veiligd's cache):

    ok.fake.test            A 192.0.2.1, TTL 300
    t42.ok.fake.test        the same, for another name
    slow[NNN]               as ok, after NNN ms (default 400)
    silent                  never answers
    silent1                 silent on the first port, as ok on the others
    wrongid                 an answer with a wrong ID (A 203.0.113.66), then
                            after 50 ms the right answer
    wrongq                  an answer to another question (A 203.0.113.66),
                            then after 50 ms the right answer
    garbage                 random bytes
    trunc                   over UDP: TC=1 and no records; over TCP: 30 A
    servfail                RCODE SERVFAIL
    nx                      NXDOMAIN with a SOA (TTL 3600, MINIMUM 60)
    nodata                  NOERROR, no answer, the same SOA
    ttlNNN                  as ok with TTL NNN
    once                    the first query for the name (whatever its port,
                            protocol or type) as ok with TTL 1; silent after
                            that (for serve-stale while the upstream hangs)
    spelling                TXT: the name as it was asked, case and all
                            (0x20); other types as ok
    lowcase                 as ok, but over UDP with the question name in
                            lower case, as an upstream that loses the case
    poison                  as ok, and a poisoning attempt around it: for
                            TAG.poison.fake.test, an A 203.0.113.66 of
                            TAG.ok.fake.test in the answer section, NS
                            records of fake.test and a bank in the authority
                            section, their addresses in the additional one
    mixchain                for type A, a CNAME chain spelled in other cases
                            than asked: TAG.mixchain.fake.test. (as asked)
                            CNAME TAG.ok.fake.test. with the tag's case
                            swapped, its A 192.0.2.1 owned by that name in
                            upper case, and an AAAA 2001:db8::66 of it (not
                            asked for) in lower case; other types as ok

For the filtering tests it also answers every name under filter.test.,
by the label just left of "filter.test." (labels further left are free):

    cloakphish              CNAME cloaked-phish.filter.test. + its A 192.0.2.1
    cloakcasino             CNAME cloaked-casino.filter.test. + its A 192.0.2.1
    cloakdeny               CNAME cdn.denied.filter.test. + its A 192.0.2.1
    cloakcanary             CNAME use-application-dns.net. + its A 192.0.2.1
    https-X                 for type HTTPS: an HTTPS record (ServiceMode,
                            target "."), alpn=h2, with hints by X: badip4
                            ipv4hint 198.51.100.66, badip6 ipv6hint
                            2001:db8:bad::1, ok both hints fine (192.0.2.1,
                            2001:db8::1); X=deny: target svc.denied.filter.test.
                            and fine hints; other types as "anything else"
    badip, badip-allowed    A 192.0.2.1 and 198.51.100.66; AAAA 2001:db8:bad::1
    ru                      A 203.0.113.5 (RU in the test GeoIP data)
    asn                     A 203.0.113.200 (AS64511 in the test GeoIP data)
    landing                 A 192.0.2.77
    anything else           A 192.0.2.1, AAAA 2001:db8::1,
                            MX 10 mail.filter.test.; other types NODATA
    slow-X                  as X, after 300 ms (e.g. slow-cloakphish)

and a few fixed names of the real world, A records only (TTL 300), so
that safe-search rewrites and canaries can be followed (FIXED below).

Other names get REFUSED (so a resolver moves on to its next upstream). Three control names, never counted, are answered over UDP or TCP:

    counts.fake.test TXT    JSON: {"PORT/PROTO/qname": count, ...}
    H.counts.fake.test TXT  the same for one qname alone, written in
                            hex as H (labels of up to 62 digits): a
                            session's counts of every name may not fit
                            in one message
    totals.fake.test TXT    JSON: {"behaviour": count, ...}, the queries
                            for all names of each behaviour (a flood of
                            random names has too many for counts)
    reset.fake.test TXT     clears the counts and totals

The process exits by itself after --max-seconds, so a crashed test runner
never leaves it behind. `fakeup.py --self-test` checks it in isolation.
"""

import argparse
import json
import os
import random
import socket
import struct
import sys
import threading
import time

try:
    import dns.flags
    import dns.message
    import dns.name
    import dns.rcode
    import dns.rdatatype
    import dns.renderer
    import dns.rrset
except ImportError:
    # The Makefile runs "python3", which may not be the system one that
    # has python3-dnspython; fall back to it once.
    if sys.executable != "/usr/bin/python3" and os.path.exists("/usr/bin/python3"):
        os.execv("/usr/bin/python3", ["/usr/bin/python3"] + sys.argv)
    raise

ZONE = dns.name.from_text("fake.test.")
FILTER_ZONE = dns.name.from_text("filter.test.")
FILTER_SOA = "ns.filter.test. hostmaster.filter.test. 1 3600 600 86400 60"
# fixed A records of names outside the test zones (safe-search targets,
# the search engines' own names, canaries)
FIXED = {
    "forcesafesearch.google.com.": "216.239.38.120",
    "restrict.youtube.com.": "216.239.38.119",
    "strict.bing.com.": "204.79.197.220",
    "safe.duckduckgo.com.": "52.142.124.215",
    "www.google.nl.": "192.0.2.100",
    "mail.google.com.": "192.0.2.101",
    "www.youtube.com.": "192.0.2.102",
    "www.bing.com.": "192.0.2.103",
    "duckduckgo.com.": "192.0.2.104",
    "use-application-dns.net.": "192.0.2.105",
    "mask.icloud.com.": "192.0.2.106",
    "mask-h2.icloud.com.": "192.0.2.107",
}
SOA_TEXT = "ns.fake.test. hostmaster.fake.test. 1 3600 600 86400 60"


class Fake:
    """The shared state of all listeners: the counts and the port order."""

    def __init__(self, ports, verbose=False):
        self.ports = ports
        self.verbose = verbose
        self.lock = threading.Lock()
        self.counts = {}
        self.totals = {}
        self.once_seen = set()     # names "once" answered (kept by reset)

    def count(self, port, proto, qname, beh=None):
        key = "%d/%s/%s" % (port, proto, qname)
        with self.lock:
            self.counts[key] = self.counts.get(key, 0) + 1
            if beh is not None:
                self.totals[beh] = self.totals.get(beh, 0) + 1

    def log(self, fmt, *args):
        if self.verbose:
            sys.stderr.write("fakeup: " + (fmt % args) + "\n")
            sys.stderr.flush()

    def behaviour(self, qname):
        """The behaviour label and its numeric suffix for qname, or None."""
        if not qname.is_subdomain(ZONE) or qname == ZONE:
            return None, None
        rel = qname.relativize(ZONE).labels
        label = rel[-1].decode("ascii", "replace").lower()
        digits = ""
        while label and label[-1].isdigit():
            digits = label[-1] + digits
            label = label[:-1]
        if label == "silent" and digits == "1":
            return "silent1", None
        return label, (int(digits) if digits else None)

    def answers(self, wire, port, proto):
        """
        The list of (delay_seconds, bytes) to send for one query packet;
        an empty list means silence.
        """
        try:
            q = dns.message.from_wire(wire)
        except Exception:  # a fake server: anything unreadable is ignored
            return []
        if q.flags & dns.flags.QR or len(q.question) != 1:
            return []
        qrr = q.question[0]
        qname = qrr.name
        lname = qname.to_text().lower()
        r = dns.message.make_response(q)
        r.flags |= dns.flags.RA

        one = None
        if lname.endswith(".counts.fake.test."):
            try:
                one = bytes.fromhex("".join(
                    lname.split(".")[:-4])).decode("ascii")
            except ValueError:
                r.set_rcode(dns.rcode.FORMERR)
                return [(0, r.to_wire())]
        if lname in ("counts.fake.test.", "totals.fake.test.",
                     "reset.fake.test.") or one is not None:
            with self.lock:
                if one is not None:
                    what = {k: n for k, n in self.counts.items()
                            if k.split("/", 2)[2] == one}
                elif lname.startswith("totals"):
                    what = self.totals
                else:
                    what = self.counts
                text = json.dumps(what, sort_keys=True)
            if len(text) > 60000:
                # too long for one TXT record: SERVFAIL at once, so
                # the caller fails rather than waits for a timeout
                r.set_rcode(dns.rcode.SERVFAIL)
                return [(0, r.to_wire())]
                if lname == "reset.fake.test.":
                    self.counts.clear()
                    self.totals.clear()
            chunks = [text[i:i + 250] for i in range(0, len(text), 250)] or [""]
            r.answer.append(dns.rrset.from_text_list(
                qname, 0, "IN", "TXT",
                [" ".join('"%s"' % c.replace("\\", "\\\\").replace('"', '\\"')
                          for c in chunks)]))
            return [(0, r.to_wire(max_size=65535))]

        if qname.is_subdomain(FILTER_ZONE) or lname in FIXED:
            self.count(port, proto, lname, "filter")
            self.log("%d/%s %s %s -> filter", port, proto, lname,
                     dns.rdatatype.to_text(qrr.rdtype))
            delay = self.filter_answer(qname, lname, qrr.rdtype, r)
            return [(delay, r.to_wire(max_size=65535))]

        beh, num = self.behaviour(qname)
        if beh is None:
            r.set_rcode(dns.rcode.REFUSED)
            return [(0, r.to_wire())]
        self.count(port, proto, lname, beh)
        self.log("%d/%s %s %s -> %s", port, proto, lname,
                 dns.rdatatype.to_text(qrr.rdtype), beh)
        r.flags |= dns.flags.AA

        def positive(ttl=300, n=1):
            if qrr.rdtype in (dns.rdatatype.A, dns.rdatatype.ANY):
                r.answer.append(dns.rrset.from_text_list(
                    qname, ttl, "IN", "A",
                    ["192.0.2.%d" % (i + 1) for i in range(n)]))
            elif qrr.rdtype == dns.rdatatype.AAAA:
                r.answer.append(dns.rrset.from_text_list(
                    qname, ttl, "IN", "AAAA",
                    ["2001:db8::%x" % (i + 1) for i in range(n)]))
            else:
                negative(dns.rcode.NOERROR)

        def negative(rcode):
            r.set_rcode(rcode)
            r.authority.append(dns.rrset.from_text(ZONE, 3600, "IN", "SOA",
                                                   SOA_TEXT))

        first_port = port == self.ports[0]
        if beh == "ok":
            positive()
        elif beh == "ttl":
            positive(ttl=num if num is not None else 300)
        elif beh == "slow":
            positive()
            return [((num if num is not None else 400) / 1000.0,
                     r.to_wire())]
        elif beh == "silent":
            return []
        elif beh == "once":
            with self.lock:
                if lname in self.once_seen:
                    return []
                self.once_seen.add(lname)
            positive(ttl=1)
        elif beh == "silent1":
            if first_port:
                return []
            positive()
        elif beh == "spelling" and qrr.rdtype == dns.rdatatype.TXT:
            r.answer.append(dns.rrset.from_text_list(
                qname, 300, "IN", "TXT", ['"%s"' % qname.to_text()]))
        elif beh == "lowcase":
            positive()
            wire = bytearray(r.to_wire())
            if proto == "udp":
                # the question name comes first, uncompressed
                end = 12 + len(qname.to_wire())
                wire[12:end] = bytes(wire[12:end]).lower()
            return [(0, bytes(wire))]
        elif beh in ("wrongid", "wrongq"):
            positive()
            good = r.to_wire()
            if beh == "wrongid":
                # another address, so taking it would show in the answer
                br = dns.message.make_response(q)
                br.id = q.id ^ 0x5aa5
                br.flags |= dns.flags.RA | dns.flags.AA
                br.answer.append(dns.rrset.from_text(
                    qname, 300, "IN", "A", "203.0.113.66"))
                bad = br.to_wire()
            else:
                other = dns.message.make_query("other.ok.fake.test.", "A")
                other.id = q.id
                br = dns.message.make_response(other)
                br.flags |= dns.flags.RA | dns.flags.AA
                br.answer.append(dns.rrset.from_text(
                    "other.ok.fake.test.", 300, "IN", "A", "203.0.113.66"))
                bad = br.to_wire()
            return [(0, bad), (0.05, good)]
        elif beh == "garbage":
            rnd = random.Random(lname)
            return [(0, bytes(rnd.getrandbits(8) for _ in range(64)))]
        elif beh == "trunc":
            if proto == "udp":
                r.flags |= dns.flags.TC
            else:
                positive(n=30)
        elif beh == "servfail":
            r.set_rcode(dns.rcode.SERVFAIL)
        elif beh == "nx":
            negative(dns.rcode.NXDOMAIN)
        elif beh == "nodata":
            negative(dns.rcode.NOERROR)
        elif beh == "poison":
            positive()
            victim = dns.name.Name(qname.labels[:-4]).concatenate(
                dns.name.from_text("ok.fake.test."))
            r.answer.append(dns.rrset.from_text(
                victim, 86400, "IN", "A", "203.0.113.66"))
            r.authority.append(dns.rrset.from_text_list(
                ZONE, 86400, "IN", "NS", ["ns.evil.test."]))
            r.authority.append(dns.rrset.from_text_list(
                "bank.test.", 86400, "IN", "NS", ["ns.evil.test."]))
            r.additional.append(dns.rrset.from_text(
                "ns.evil.test.", 86400, "IN", "A", "203.0.113.53"))
        elif beh == "mixchain" and qrr.rdtype == dns.rdatatype.A:
            return [(0, mixchain(r, qname))]
        elif beh == "mixchain":
            positive()
        else:
            r.set_rcode(dns.rcode.NXDOMAIN)
        return [(0, r.to_wire(max_size=65535))]

    def filter_answer(self, qname, lname, rdtype, r):
        """Fill r for a name under filter.test. or in FIXED; the delay."""
        A, AAAA, MX = dns.rdatatype.A, dns.rdatatype.AAAA, dns.rdatatype.MX
        r.flags |= dns.flags.AA

        def add(owner, rtype, rdatas, ttl=300):
            r.answer.append(dns.rrset.from_text_list(owner, ttl, "IN", rtype,
                                                     rdatas))

        def nodata():
            soa_owner = FILTER_ZONE if qname.is_subdomain(FILTER_ZONE) \
                else qname
            r.authority.append(dns.rrset.from_text(soa_owner, 3600, "IN",
                                                   "SOA", FILTER_SOA))

        if lname in FIXED:
            if rdtype == A:
                add(qname, "A", [FIXED[lname]])
            else:
                nodata()
            return 0
        rel = qname.relativize(FILTER_ZONE).labels
        beh = rel[-1].decode("ascii", "replace").lower() if rel else ""
        delay = 0
        if beh.startswith("slow-"):
            beh, delay = beh[5:], 0.3
        owner = qname
        if beh in ("cloakphish", "cloakcasino", "cloakdeny", "cloakcanary"):
            target = {"cloakphish": "cloaked-phish.filter.test.",
                      "cloakcasino": "cloaked-casino.filter.test.",
                      "cloakdeny": "cdn.denied.filter.test.",
                      "cloakcanary": "use-application-dns.net."}[beh]
            add(qname, "CNAME", [target])
            owner = dns.name.from_text(target)
            beh = ""
        if beh.startswith("https-") and rdtype == dns.rdatatype.HTTPS:
            hints = {"badip4": "ipv4hint=198.51.100.66",
                     "badip6": "ipv6hint=2001:db8:bad::1"}.get(
                         beh[6:], "ipv4hint=192.0.2.1 ipv6hint=2001:db8::1")
            target = "svc.denied.filter.test." if beh == "https-deny" else "."
            add(qname, "HTTPS", ["1 %s alpn=h2 %s" % (target, hints)])
            return delay
        if beh in ("badip", "badip-allowed"):
            v4, v6 = ["192.0.2.1", "198.51.100.66"], ["2001:db8:bad::1"]
        elif beh == "ru":
            v4, v6 = ["203.0.113.5"], []
        elif beh == "asn":
            v4, v6 = ["203.0.113.200"], []
        elif beh == "landing":
            v4, v6 = ["192.0.2.77"], []
        else:
            v4, v6 = ["192.0.2.1"], ["2001:db8::1"]
        if rdtype == A and v4:
            add(owner, "A", v4)
        elif rdtype == AAAA and v6:
            add(owner, "AAAA", v6)
        elif rdtype == MX and beh not in ("ru", "asn", "landing"):
            add(owner, "MX", ["10 mail.filter.test."])
        elif not r.answer:
            nodata()
        return delay


def mixchain(r, qname):
    """
    The wire of "mixchain" for the response r to qname: the question and
    the CNAME compressed as usual (its owner a pointer to the question),
    the records of the target uncompressed, each in a case of its own;
    dnspython alone would compress them all into the first spelling.
    """
    tagged = [x.swapcase() for x in qname.labels[:-4]]
    target = dns.name.Name(tagged).concatenate(
        dns.name.from_text("oK.FaKe.tEsT."))
    rd = dns.renderer.Renderer(r.id, r.flags, 65535)
    rd.add_question(qname, dns.rdatatype.A)
    rd.add_rrset(dns.renderer.ANSWER, dns.rrset.from_text(
        qname, 300, "IN", "CNAME", target.to_text()))
    rd.compress = None
    rd.add_rrset(dns.renderer.ANSWER, dns.rrset.from_text(
        target.to_text().upper(), 300, "IN", "A", "192.0.2.1"))
    rd.add_rrset(dns.renderer.ANSWER, dns.rrset.from_text(
        target.to_text().lower(), 300, "IN", "AAAA", "2001:db8::66"))
    rd.write_header()
    return rd.get_wire()


def udp_loop(fake, sock, port, deadline):
    while time.monotonic() < deadline:
        try:
            wire, peer = sock.recvfrom(65535)
        except socket.timeout:
            continue
        except OSError:
            return
        for delay, data in fake.answers(wire, port, "udp"):
            if delay > 0:
                t = threading.Timer(delay, sock.sendto, (data, peer))
                t.daemon = True
                t.start()
            else:
                try:
                    sock.sendto(data, peer)
                except OSError:
                    pass


def recv_exact(conn, n):
    buf = b""
    while len(buf) < n:
        part = conn.recv(n - len(buf))
        if not part:
            return None
        buf += part
    return buf


def tcp_conn(fake, conn, port):
    """One TCP connection: queries answered in order, each after its delays."""
    conn.settimeout(30)
    wlock = threading.Lock()

    def send(data):
        with wlock:
            try:
                conn.sendall(struct.pack("!H", len(data)) + data)
            except OSError:
                pass

    try:
        for _ in range(10000):
            hdr = recv_exact(conn, 2)
            if hdr is None:
                break
            wire = recv_exact(conn, struct.unpack("!H", hdr)[0])
            if wire is None:
                break
            for delay, data in fake.answers(wire, port, "tcp"):
                if delay > 0:
                    t = threading.Timer(delay, send, (data,))
                    t.daemon = True
                    t.start()
                else:
                    send(data)
    except OSError:
        pass
    finally:
        time.sleep(0.01)


def tcp_loop(fake, lsock, port, deadline):
    while time.monotonic() < deadline:
        try:
            conn, _ = lsock.accept()
        except socket.timeout:
            continue
        except OSError:
            return
        threading.Thread(target=tcp_conn, args=(fake, conn, port),
                         daemon=True).start()


def serve(ports, max_seconds, verbose=False, ready=None):
    """Listen on every port until max_seconds have passed."""
    fake = Fake(ports, verbose)
    deadline = time.monotonic() + max_seconds
    threads = []
    for port in ports:
        u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        u.bind(("127.0.0.1", port))
        u.settimeout(0.5)
        t = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        t.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        t.bind(("127.0.0.1", port))
        t.listen(64)
        t.settimeout(0.5)
        threads.append(threading.Thread(target=udp_loop,
                                        args=(fake, u, port, deadline),
                                        daemon=True))
        threads.append(threading.Thread(target=tcp_loop,
                                        args=(fake, t, port, deadline),
                                        daemon=True))
    for th in threads:
        th.start()
    if ready is not None:
        ready.set()
    else:
        print("fakeup: listening on %s" % ",".join(map(str, ports)), flush=True)
    for th in threads:
        th.join(max(0.0, deadline - time.monotonic()) + 1)


def query(port, name, rdtype="A", tcp=False, timeout=1.0):
    import dns.query
    q = dns.message.make_query(name, rdtype)
    if tcp:
        return dns.query.tcp(q, "127.0.0.1", port=port, timeout=timeout)
    return dns.query.udp(q, "127.0.0.1", port=port, timeout=timeout,
                         ignore_unexpected=True)


def get_counts(port, timeout=1.0, what="counts", qname=None):
    """The counts (or totals) of the fake listening on port, as a dict;
    with qname (lower case, ending in a dot), the counts of it alone."""
    name = what + ".fake.test."
    if qname is not None:
        h = qname.encode("ascii").hex()
        name = ".".join(h[i:i + 62] for i in range(0, len(h), 62)) + \
            "." + name
    r = query(port, name, "TXT", tcp=True, timeout=timeout)
    if r.rcode() != dns.rcode.NOERROR:
        raise RuntimeError("fakeup: %s answered %s" % (
            name, dns.rcode.to_text(r.rcode())))
    text = b"".join(b"".join(rd.strings) for rd in r.answer[0]).decode()
    return json.loads(text)


def free_ports(n):
    """n ports of 127.0.0.1 free for both UDP and TCP, as serve() binds
    them: a UDP port that the kernel gives may be the local port of
    someone's TCP connection (the self-test once failed so, with other
    tests running on the machine)."""
    ports = []
    for _ in range(200):
        t = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        try:
            t.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            t.bind(("127.0.0.1", 0))
            port = t.getsockname()[1]
            u.bind(("127.0.0.1", port))
            if port not in ports:
                ports.append(port)
        except OSError:
            pass
        finally:
            t.close()
            u.close()
        if len(ports) == n:
            return ports
    raise RuntimeError("fakeup: no %d free ports" % n)


def self_test():
    ports = free_ports(2)
    ready = threading.Event()
    threading.Thread(target=serve, args=(ports, 20, False, ready),
                     daemon=True).start()
    ready.wait(5)
    p1, p2 = ports
    import dns.exception
    fails = 0

    def check(name, cond):
        nonlocal fails
        print(("ok " if cond else "FAIL ") + name)
        fails += 0 if cond else 1

    r = query(p1, "ok.fake.test.")
    check("ok", r.answer and r.answer[0][0].to_text() == "192.0.2.1")
    t0 = time.monotonic()
    r = query(p1, "a.slow200.fake.test.")
    check("slow", 0.15 < time.monotonic() - t0 < 0.8 and r.answer)
    try:
        query(p1, "silent.fake.test.", timeout=0.3)
        check("silent", False)
    except dns.exception.Timeout:
        check("silent", True)
    check("silent1 on port 2", query(p2, "silent1.fake.test.").answer)
    r = query(p1, "a.once.fake.test.")
    check("once first", r.answer and r.answer[0].ttl == 1)
    try:
        query(p2, "a.once.fake.test.", tcp=True, timeout=0.3)
        check("once then silent", False)
    except dns.exception.Timeout:
        check("once then silent", True)
    r = query(p1, "trunc.fake.test.")
    check("trunc udp", r.flags & dns.flags.TC and not r.answer)
    r = query(p1, "trunc.fake.test.", tcp=True)
    check("trunc tcp", len(r.answer[0]) == 30)
    check("servfail",
          query(p1, "servfail.fake.test.").rcode() == dns.rcode.SERVFAIL)
    r = query(p1, "nx.fake.test.")
    check("nx", r.rcode() == dns.rcode.NXDOMAIN and r.authority)
    for beh in ("wrongid", "wrongq"):
        q = dns.message.make_query(beh + ".fake.test.", "A")
        u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        u.settimeout(1)
        u.sendto(q.to_wire(), ("127.0.0.1", p1))
        got = [dns.message.from_wire(u.recvfrom(65535)[0]) for _ in range(2)]
        u.close()
        check(beh, not q.is_response(got[0]) and q.is_response(got[1]))
    check("refused outside", query(p1, "example.com.").rcode()
          == dns.rcode.REFUSED)
    r = query(p1, "x.cloakphish.filter.test.")
    check("filter cloak", [rr.rdtype for rr in r.answer]
          == [dns.rdatatype.CNAME, dns.rdatatype.A])
    r = query(p1, "x.poison.fake.test.")
    check("poison", len(r.answer) == 2 and len(r.authority) == 2
          and len(r.additional) == 1)
    r = query(p1, "Ab.mixchain.fake.test.")
    check("mixchain", [(x.name.to_text(), x.rdtype) for x in r.answer]
          == [("Ab.mixchain.fake.test.", dns.rdatatype.CNAME),
              ("AB.OK.FAKE.TEST.", dns.rdatatype.A),
              ("ab.ok.fake.test.", dns.rdatatype.AAAA)]
          and r.answer[0][0].target.to_text() == "aB.oK.fake.test.")
    r = query(p1, "x.https-badip4.filter.test.", "HTTPS")
    check("filter https", r.answer and r.answer[0].rdtype
          == dns.rdatatype.HTTPS)
    r = query(p1, "forcesafesearch.google.com.")
    check("filter fixed", r.answer[0][0].to_text() == "216.239.38.120")
    r = query(p1, "www.filter.test.", "TXT")
    check("filter nodata", not r.answer and r.authority)
    r = query(p1, "AbC.sPelling.fake.test.", "TXT")
    check("spelling", r.answer and r.answer[0][0].strings[0]
          == b"AbC.sPelling.fake.test.")
    r = query(p1, "A.LowCase.fake.test.")
    check("lowcase udp", r.answer and r.question[0].name.to_text()
          == "a.lowcase.fake.test.")
    r = query(p1, "A.LowCase.fake.test.", tcp=True)
    check("lowcase tcp", r.answer and r.question[0].name.to_text()
          == "A.LowCase.fake.test.")
    c = get_counts(p1)
    check("counts", c.get("%d/udp/ok.fake.test." % p1) == 1
          and c.get("%d/tcp/trunc.fake.test." % p1) == 1
          and c.get("%d/udp/silent1.fake.test." % p2) == 1)
    check("counts of one", get_counts(p1, qname="trunc.fake.test.")
          == {"%d/tcp/trunc.fake.test." % p1: 1,
              "%d/udp/trunc.fake.test." % p1: 1})
    # more names than one answer can list: the dump fails at once,
    # the count of one name still works
    for i in range(2500):
        query(p1, "%s%04d.nx.fake.test." % ("x" * 20, i), timeout=2)
    try:
        get_counts(p1)
        check("counts too big", False)
    except RuntimeError:
        pass
    check("counts of one, many", get_counts(p1, qname="x" * 20 +
          "0042.nx.fake.test.") == {"%d/udp/%s0042.nx.fake.test." %
                                     (p1, "x" * 20): 1})
    t = get_counts(p1, what="totals")
    check("totals", t.get("ok") == 1 and t.get("trunc") == 2
          and t.get("silent") == 1 and t.get("filter") == 4)
    print("fakeup self-test: %d failed" % fails)
    return 1 if fails else 0


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--port", type=int, action="append", default=[],
                    help="listen on 127.0.0.1:PORT (UDP and TCP); repeat")
    ap.add_argument("--max-seconds", type=float, default=600)
    ap.add_argument("-v", "--verbose", action="store_true")
    ap.add_argument("--self-test", action="store_true")
    a = ap.parse_args()
    if a.self_test:
        sys.exit(self_test())
    if not a.port:
        ap.error("need at least one --port")
    serve(a.port, a.max_seconds, a.verbose)


if __name__ == "__main__":
    main()
