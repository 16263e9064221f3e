"""test_resolver.py: veiligd as a resolver that forwards.

Real clients (dig, kdig, drill) against NSD through veiligd; the cache,
EDNS, TCP and truncation; forwarding to the fake upstream (coalescing,
pipelining, TCP retry); serve-stale; answers from a wildcard address.
"""

import math
import socket
import struct
import threading
import time

import dns.exception
import dns.flags
import dns.message
import dns.rcode
import dns.rdatatype
import pytest

from e2elib import (HAVE_V6, dig, dq, drill, ede, hdr, kdig, note, ok_answer,
                    question, raw_udp, recv_exact, retry, rrs, tag)


# --------------------------------------------- real clients, NSD upstream

def test_dig_a(veiligd_nsd):
    # a fresh answer from NSD, whatever other tests asked before
    code, out, err = veiligd_nsd.ctl("flush")
    assert code == 0, "flush: %d %s %s" % (code, out, err)
    r = dig(veiligd_nsd.port, "www.example.test")
    assert r["rcode"] == "NOERROR", r["rcode"]
    a = rrs(r, "A")
    assert [x[3] for x in a] == ["192.0.2.10"], r["answer"]
    assert 290 <= a[0][1] <= 300, "TTL %d" % a[0][1]
    assert "qr" in r["flags"] and "ra" in r["flags"], r["flags"]


def test_kdig_aaaa(veiligd_nsd):
    r = kdig(veiligd_nsd.port, "www.example.test", "AAAA")
    assert r["rcode"] == "NOERROR", r["rcode"]
    assert [x[3] for x in rrs(r, "AAAA")] == ["2001:db8::10"], r["answer"]


def test_drill_mx(veiligd_nsd):
    r = drill(veiligd_nsd.port, "example.test", "MX")
    assert r["rcode"] == "NOERROR", r["rcode"]
    mx = rrs(r, "MX")
    assert len(mx) == 1 and mx[0][3].split() == ["10", "mail.example.test."], \
        r["answer"]


def test_dig_txt(veiligd_nsd):
    r = dig(veiligd_nsd.port, "txt.example.test", "TXT")
    t = rrs(r, "TXT")
    assert len(t) == 1 and "hello from the veilig e2e zone" in t[0][3], \
        r["answer"]


def test_cname_chain(veiligd_nsd):
    r = kdig(veiligd_nsd.port, "c1.example.test", "A")
    assert r["rcode"] == "NOERROR", r["rcode"]
    got = [(x[0], x[2], x[3].lower()) for x in r["answer"]]
    want = [("c1.example.test.", "CNAME", "c2.example.test."),
            ("c2.example.test.", "CNAME", "www.example.test."),
            ("www.example.test.", "A", "192.0.2.10")]
    assert got == want, got


def timed(client, *args):
    """client(*args), and when it was asked and answered (monotonic)."""
    t0 = time.monotonic()
    r = client(*args)
    return r, (t0, time.monotonic())


def ttl_drop(before, after):
    """
    The least and the most a cached TTL may have dropped between an
    answer given during before and one during after ((asked, answered)
    pairs): the whole seconds between them, a second more either way for
    the cache's clock, which counts whole seconds; at least one.
    """
    least = max(1, math.floor(after[0] - before[1]) - 1)
    return least, math.ceil(after[1] - before[0]) + 1


def test_cache_ttl_countdown(veiligd_nsd):
    """Positive, NXDOMAIN and NODATA answers are cached; TTLs count down."""
    port = veiligd_nsd.port
    first, at1 = timed(dig, port, "long.example.test", "A")
    nx1, atnx1 = timed(dig, port, "nope.example.test", "A")
    nd1, atnd1 = timed(drill, port, "v6only.example.test", "A")
    assert rrs(first, "A") and rrs(first, "A")[0][1] <= 86400, \
        first["answer"]
    assert nx1["rcode"] == "NXDOMAIN", nx1["rcode"]
    assert nd1["rcode"] == "NOERROR" and not nd1["answer"], nd1["answer"]
    for what, r in (("NXDOMAIN", nx1), ("NODATA", nd1)):
        soa = rrs(r, "SOA", "authority")
        assert len(soa) == 1, "%s: no SOA in authority: %s" % (
            what, r["authority"])
        assert soa[0][1] <= 60, "%s: SOA TTL %d > min(3600, 60)" % (
            what, soa[0][1])
    # 2.2 s, and on a busy machine the clients' own start: the drops
    # are checked against the time that passed (1 to 4 s when quiet)
    time.sleep(2.2)
    second, at2 = timed(kdig, port, "long.example.test", "A")
    nx2, atnx2 = timed(kdig, port, "nope.example.test", "A")
    nd2, atnd2 = timed(dig, port, "v6only.example.test", "A")
    t1, t2 = rrs(first, "A")[0][1], rrs(second, "A")[0][1]
    least, most = ttl_drop(at1, at2)
    assert t1 - most <= t2 <= t1 - least, "TTL %d then %d %.1f s on" % (
        t1, t2, at2[1] - at1[0])
    for what, a, b, ata, atb in (("NXDOMAIN", nx1, nx2, atnx1, atnx2),
                                 ("NODATA", nd1, nd2, atnd1, atnd2)):
        assert a["rcode"] == b["rcode"], "%s: %s then %s" % (
            what, a["rcode"], b["rcode"])
        s1 = rrs(a, "SOA", "authority")[0][1]
        s2 = rrs(b, "SOA", "authority")
        assert s2, "%s: no SOA the second time" % what
        least, most = ttl_drop(ata, atb)
        assert s1 - most <= s2[0][1] <= s1 - least, \
            "%s: SOA TTL %d then %d %.1f s on (not cached?)" % (
                what, s1, s2[0][1], atb[1] - ata[0])


def test_tcp_kdig(veiligd_nsd):
    r = kdig(veiligd_nsd.port, "www.example.test", "A", extra=["+tcp"])
    assert [x[3] for x in rrs(r, "A")] == ["192.0.2.10"], r["answer"]


def test_tcp_drill(veiligd_nsd):
    r = drill(veiligd_nsd.port, "mail.example.test", "A", extra=["-t"])
    assert [x[3] for x in rrs(r, "A")] == ["192.0.2.25"], r["answer"]


needs_v6 = pytest.mark.skipif(not HAVE_V6, reason="no ::1 on this host")


@needs_v6
def test_ipv6_udp(veiligd_nsd):
    r = dig(veiligd_nsd.port, "www.example.test", "AAAA", server="::1")
    assert [x[3] for x in rrs(r, "AAAA")] == ["2001:db8::10"], r["answer"]


@needs_v6
def test_ipv6_tcp(veiligd_nsd):
    r = kdig(veiligd_nsd.port, "mail.example.test", "A", server="::1",
             extra=["+tcp"])
    assert [x[3] for x in rrs(r, "A")] == ["192.0.2.25"], r["answer"]


def test_truncated_without_edns(veiligd_nsd):
    r = dig(veiligd_nsd.port, "many.example.test", "A",
            extra=["+noedns", "+ignore"])
    assert "tc" in r["flags"], "no TC flag: %s" % r["flags"]
    assert len(rrs(r, "A")) < 40, "%d records in 512 octets?" % len(
        rrs(r, "A"))
    raw = raw_udp(veiligd_nsd.port, hdr(0x4242) +
                  question("many.example.test"), 2.0)
    assert raw is not None and len(raw) <= 512, "answer of %s octets" % (
        raw and len(raw))


def test_big_answer_with_edns(veiligd_nsd):
    r = dq(veiligd_nsd.port, "many.example.test.", "A", use_edns=0,
           payload=1232)
    assert not r.flags & dns.flags.TC, "TC=1 with EDNS 1232"
    assert len(r.answer) == 1 and len(r.answer[0]) == 40, r.answer


def test_big_answer_over_tcp(veiligd_nsd):
    r = dig(veiligd_nsd.port, "many.example.test", "A", extra=["+tcp"])
    assert len(rrs(r, "A")) == 40, len(rrs(r, "A"))


def test_edns_opt_do_echoed(veiligd_nsd):
    r = dq(veiligd_nsd.port, "www.example.test.", "A", use_edns=0,
           payload=4096, want_dnssec=True)
    assert r.edns == 0, "no OPT / version %s" % r.edns
    assert r.payload == 1232, "advertises %d" % r.payload
    assert r.ednsflags & dns.flags.DO, "DO not echoed"


def test_edns_opt_without_do(veiligd_nsd):
    r = dq(veiligd_nsd.port, "www.example.test.", "A", use_edns=0,
           payload=4096)
    assert r.edns == 0 and r.payload == 1232, (r.edns, r.payload)
    assert not r.ednsflags & dns.flags.DO, "DO set, not asked"


def test_no_opt_without_edns(veiligd_nsd):
    r = dq(veiligd_nsd.port, "www.example.test.", "A", use_edns=False)
    assert r.edns == -1, "OPT in an answer to a query without EDNS"


def test_tcp_idle_timeout(veiligd_nsd):
    s = socket.create_connection(("127.0.0.1", veiligd_nsd.port), timeout=5)
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
        assert 0.5 <= took <= 3.0, "closed after %.1f s, idle timeout 1s" % (
            took)
    finally:
        s.close()


def test_tcp_frame_too_short(veiligd_fake):
    """
    A TCP frame shorter than a DNS header (12 octets; length 0 or 5 here)
    cannot be a query: veiligd closes the connection at once, as it does
    for one longer than 4096 octets, instead of dropping the frame and
    holding the connection until the 10 s idle timeout. A query answered
    before the bad frame on the same connection still gets its answer.
    """
    for junk in (b"", b"\x00\x01\x00\x00\x00"):
        q = hdr(0x0202) + question("%s.ok.fake.test" % tag())
        s = socket.create_connection(("127.0.0.1", veiligd_fake.port),
                                     timeout=5)
        try:
            s.sendall(struct.pack("!H", len(q)) + q)
            h = recv_exact(s, 2)
            assert h is not None, "closed before the good query's answer"
            recv_exact(s, struct.unpack("!H", h)[0])
            t0 = time.monotonic()
            s.sendall(struct.pack("!H", len(junk)) + junk)
            try:
                data = s.recv(100)
            except socket.timeout:
                raise AssertionError("a frame of %d octets: still open "
                                     "after 5 s" % len(junk))
            except ConnectionResetError:
                data = b""
            assert data == b"", "a frame of %d octets answered: %r" % (
                len(junk), data)
            note("a frame of %d octets: closed after %.2f s" % (
                len(junk), time.monotonic() - t0))
        finally:
            s.close()
    ok_answer(dq(veiligd_fake.port, "%s.ok.fake.test." % tag()),
              "after the short frames")


def test_serve_stale(make_nsd, make_veiligd):
    """RFC 8767: with its upstream down, an expired answer is served with
    TTL 30 (and EDE 3 with EDNS); a name never cached gets SERVFAIL."""
    nsd = make_nsd()
    d = make_veiligd("stale-nsd", [nsd.addr], idle="1s", timeout="300ms",
                     attempts=2)
    r = dig(d.port, "stale.example.test", "A")
    assert [x[3] for x in rrs(r, "A")] == ["192.0.2.3"], r["answer"]
    nsd.stop()
    time.sleep(3.0)     # the TTL of 2 s has run out
    r = dig(d.port, "stale.example.test", "A", extra=["+time=5"])
    assert r["rcode"] == "NOERROR", "rcode %s with the upstream down" % (
        r["rcode"])
    a = rrs(r, "A")
    assert [x[3] for x in a] == ["192.0.2.3"], r["answer"]
    assert 25 <= a[0][1] <= 30, "stale TTL %d, want 30 (RFC 8767)" % a[0][1]
    # With EDNS a stale answer says so: EDE 3, Stale Answer (RFC 8914).
    r2 = dq(d.port, "stale.example.test", "A", use_edns=0, timeout=5.0)
    assert (3, None) in ede(r2) or (3, "") in ede(r2), \
        "stale answer without EDE 3: %s" % ede(r2)
    r = dig(d.port, "%s.example.test" % tag(), "A", extra=["+time=5"])
    assert r["rcode"] == "SERVFAIL", \
        "uncached name with the upstream down: %s" % r["rcode"]


def test_case_echo_nsd(veiligd_nsd):
    """
    Through NSD, which echoes the spelling veiligd asks in (0x20): a
    client's own spelling comes back in the question and in the owner
    names that point at it, and no answer lost the case.
    """
    off = veiligd_nsd.log_size()
    for name, first in (("nS.ExAmPle.TEST.", "192.0.2.53"),
                        ("C1.eXample.test.", "c2.example.test.")):
        r = dq(veiligd_nsd.port, name)
        assert r.rcode() == dns.rcode.NOERROR, dns.rcode.to_text(r.rcode())
        assert r.question[0].name.to_text() == name, r.question[0].name
        assert r.answer[0].name.to_text() == name, r.answer[0].name
        assert r.answer[0][0].to_text().lower() == first, r.answer
    assert "lost the case" not in veiligd_nsd.log_since(off)


def test_cache_hit_shapes(veiligd_nsd):
    """
    A cache hit is the stored answer written for each client as it
    asked (the cache stores only an answer to its key's own question
    and a hit no longer checks it): the client's ID, RD and CD bits and
    spelling of the name, AA clear; an OPT of ours only when it sent
    one, with its DO bit back; cut to TC=1 within 512 octets for a
    client without EDNS or one that offers 512 (40 A records do not
    fit), whole for 1232 and over TCP. Every one of these is a hit.
    """
    port = veiligd_nsd.port
    name = "many.example.test."
    r = dq(port, name, use_edns=0, payload=1232)
    assert len(r.answer) == 1 and len(r.answer[0]) == 40, r.answer
    r = dq(port, name, use_edns=0, payload=1232, want_dnssec=True)
    assert r.ednsflags & dns.flags.DO, "DO not echoed"
    before = veiligd_nsd.stat("answers.cache")
    # (spelling, ID, flags, EDNS payload or None, DO)
    shapes = [("MANY.example.TEST.", 0x0001, 0x0100, 1232, False),
              ("mAnY.ExAmPlE.tEsT.", 0xfffe, 0x0000, 1232, True),
              ("Many.Example.Test.", 0x1234, 0x0110, 4096, False),
              ("many.EXAMPLE.test.", 0x4321, 0x0100, None, False),
              ("MANY.EXAMPLE.TEST.", 0x0bad, 0x0010, 512, True),
              ("many.example.test.", 0x7777, 0x0100, 600, False)]
    for spelling, qid, flags, payload, do in shapes:
        what = "%s id %#x flags %#x payload %s DO %s" % (
            spelling, qid, flags, payload, do)
        data = hdr(qid, flags, ar=0 if payload is None else 1) + \
            question(spelling)
        if payload is not None:
            data += b"\0" + struct.pack("!HHIH", 41, payload,
                                        0x8000 if do else 0, 0)
        raw = raw_udp(port, data, 3.0)
        assert raw is not None, "%s: no answer" % what
        r = dns.message.from_wire(raw)
        assert r.id == qid, "%s: ID %#x" % (what, r.id)
        assert r.flags & dns.flags.QR and r.flags & dns.flags.RA, what
        assert not r.flags & dns.flags.AA, "%s: AA" % what
        for bit in (dns.flags.RD, dns.flags.CD):
            assert (r.flags & bit) == (flags & bit), \
                "%s: flags %#x" % (what, r.flags)
        assert r.rcode() == dns.rcode.NOERROR, what
        assert r.question[0].name.to_text() == spelling, \
            "%s: question %s" % (what, r.question[0].name)
        small = payload is None or payload < 700
        if payload is None:
            assert r.edns == -1, "%s: an OPT not asked for" % what
        else:
            assert r.edns == 0 and r.payload == 1232, \
                "%s: OPT %s %s" % (what, r.edns, r.payload)
            assert bool(r.ednsflags & dns.flags.DO) == do, \
                "%s: DO %#x" % (what, r.ednsflags)
        if small:
            assert r.flags & dns.flags.TC, "%s: no TC" % what
            assert len(raw) <= max(512, payload or 0), \
                "%s: %d octets" % (what, len(raw))
        else:
            assert not r.flags & dns.flags.TC, "%s: TC" % what
            assert len(r.answer) == 1 and len(r.answer[0]) == 40, what
            assert r.answer[0].name.to_text() == spelling, \
                "%s: owner %s" % (what, r.answer[0].name)
    r = dq(port, "MaNy.eXaMpLe.TeSt.", tcp=True)
    assert len(r.answer[0]) == 40 and not r.flags & dns.flags.TC, r.flags
    assert r.question[0].name.to_text() == "MaNy.eXaMpLe.TeSt.", r.question

    def all_hits():
        got = veiligd_nsd.stat("answers.cache") - before
        assert got >= len(shapes) + 1, "%d hits of %d" % (
            got, len(shapes) + 1)
    retry("hits counted", all_hits, 10, 0.5)


# ------------------------------------------------ forwarding to the fake

def test_case_randomised_upstream(veiligd_fake, fake):
    """
    veiligd asks the upstream in a spelling of its own (0x20), which the
    fake upstream's TXT answer shows, and the client gets its own back.
    """
    name = "AbcdEfghij%s.Spelling.fake.test." % tag()
    r = dq(veiligd_fake.port, name, "TXT")
    assert r.rcode() == dns.rcode.NOERROR, dns.rcode.to_text(r.rcode())
    assert r.question[0].name.to_text() == name, r.question[0].name
    sent = r.answer[0][0].strings[0].decode()
    assert sent.lower() == name.lower(), "upstream asked %s" % sent
    # 27 letters: either spelling by chance once in 2^27
    assert sent not in (name, name.lower()), "not mixed: %s" % sent
    assert fake.count(name, proto="tcp") == 0, "asked over TCP"


def test_forward_and_cache(veiligd_fake, fake):
    name = "%s.ok.fake.test." % tag()
    ok_answer(dq(veiligd_fake.port, name), "first")
    ok_answer(dq(veiligd_fake.port, name), "second")
    r = kdig(veiligd_fake.port, name, "A", extra=["+tcp"])
    assert [x[3] for x in rrs(r, "A")] == ["192.0.2.1"], r["answer"]
    n = fake.count(name)
    assert n == 1, "upstream asked %d times, want 1 (cache)" % n


def test_cache_key_type_and_do(veiligd_fake, fake):
    name = "%s.ok.fake.test." % tag()
    dq(veiligd_fake.port, name, "A")
    r = dq(veiligd_fake.port, name, "AAAA")
    got = [rd.to_text() for rrset in r.answer for rd in rrset]
    assert got == ["2001:db8::1"], "AAAA answered with %s" % got
    dq(veiligd_fake.port, name, "A", use_edns=0, want_dnssec=True)
    n = fake.count(name)
    assert n == 3, "upstream asked %d times for A, AAAA, A+DO; want 3" % n


def test_upstream_truncated_retry_tcp(veiligd_fake, fake):
    port = veiligd_fake.port
    name = "%s.trunc.fake.test." % tag()
    r = dq(port, name, use_edns=0, payload=1232, timeout=4)
    assert not r.flags & dns.flags.TC, "TC=1 passed on"
    assert r.answer and len(r.answer[0]) == 30, "got %s" % r.answer
    assert fake.count(name, proto="tcp") >= 1, \
        "upstream never asked over TCP"
    # the same answer is over 512 octets: a client without EDNS gets TC=1
    r = dig(port, name, "A", extra=["+noedns", "+ignore"])
    assert "tc" in r["flags"], "no TC to a client without EDNS: %s" % (
        r["flags"])
    r = kdig(port, name, "A", extra=["+tcp"])
    assert len(rrs(r, "A")) == 30, len(rrs(r, "A"))


@pytest.mark.parametrize("beh,rcode", [("nx", dns.rcode.NXDOMAIN),
                                       ("nodata", dns.rcode.NOERROR)],
                         ids=["nx", "nodata"])
def test_negative_ttl_from_soa_minimum(veiligd_fake, fake, beh, rcode):
    name = "%s.%s.fake.test." % (tag(), beh)
    for i in range(2):
        r = dq(veiligd_fake.port, name)
        assert r.rcode() == rcode, "%s: %s" % (
            beh, dns.rcode.to_text(r.rcode()))
        assert not r.answer, "%s: answer %s" % (beh, r.answer)
        soa = [x for x in r.authority if x.rdtype == dns.rdatatype.SOA]
        assert soa, "%s: no SOA" % beh
        assert soa[0].ttl <= 60, "%s: SOA TTL %d, want <= min(3600, 60)" % (
            beh, soa[0].ttl)
    n = fake.count(name)
    assert n == 1, "%s: upstream asked %d times (not cached)" % (beh, n)


def _burst(port, name, n, one_socket):
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
            socks[i % len(socks)].sendto(q.to_wire(), ("127.0.0.1", port))
        got = {}
        for i in range(n):
            r = dns.message.from_wire(socks[i % len(socks)].recvfrom(65535)[0])
            got[r.id] = r
        for q in qs:
            assert q.id in got, "no answer to ID %#x" % q.id
            ok_answer(got[q.id], "coalesced asker")
    finally:
        for s in socks:
            s.close()


def test_coalescing(veiligd_fake, fake):
    # From one socket all queries reach the same worker (SO_REUSEPORT
    # hashes the address pair): exactly one upstream query.
    name = "%s.slow400.fake.test." % tag()
    _burst(veiligd_fake.port, name, 5, True)
    n = fake.count(name)
    assert n == 1, "5 identical queries in flight, %d upstream queries" % n
    # From many sockets they land on both workers (SO_REUSEPORT spreads
    # them): the workers share the question in flight, so still exactly
    # one upstream query, and the other worker's askers are answered from
    # the cache when it is done.
    before = veiligd_fake.stat("answers.shared")
    name = "%s.slow400.fake.test." % tag()
    _burst(veiligd_fake.port, name, 16, False)
    n = fake.count(name)
    assert n == 1, "16 identical queries from 16 sockets, 2 workers: %d " \
        "upstream queries" % n
    assert veiligd_fake.stat("answers.shared") > before, \
        "no query waited for the other worker's upstream query"


def test_tcp_pipelining(veiligd_fake):
    names = ["%s.slow400.fake.test." % tag(), "%s.ok.fake.test." % tag(),
             "%s.ttl77.fake.test." % tag()]
    qs = [dns.message.make_query(n, "A") for n in names]
    ids = set()
    for q in qs:        # distinct IDs
        while q.id in ids:
            q.id = (q.id + 1) & 0xffff
        ids.add(q.id)
    s = socket.create_connection(("127.0.0.1", veiligd_fake.port), timeout=4)
    order = []
    try:
        s.sendall(b"".join(struct.pack("!H", len(w)) + w
                           for w in (q.to_wire() for q in qs)))
        got = {}
        for _ in range(3):
            h = recv_exact(s, 2)
            assert h is not None, "connection closed after %d answers" % (
                len(got))
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
        assert q.is_response(r), "answer to ID %d is for %s" % (
            q.id, r.question)
        ok_answer(r, str(q.question[0].name))
    note("pipelined answer order: %s (slow one sent first: %s)" % (
        order, "out of order" if order[0] != qs[0].id else "in order"))


def test_tcp_out_of_order(veiligd_fake, fake):
    """
    RFC 7766 6.2.1.1: on one TCP connection a slow question (the fake
    answers slow400 after 400 ms) and then a cached one, sent back to
    back in one segment. Both are answered, matched by ID, and the
    cached one first: it does not wait behind the slow one.
    """
    fast_name = "%s.ok.fake.test." % tag()
    ok_answer(dq(veiligd_fake.port, fast_name), "priming the cache")
    slow = dns.message.make_query("%s.slow400.fake.test." % tag(), "A")
    fast = dns.message.make_query(fast_name, "A")
    if fast.id == slow.id:
        fast.id = (slow.id + 1) & 0xffff
    s = socket.create_connection(("127.0.0.1", veiligd_fake.port), timeout=4)
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
        ok_answer(got[q.id], "%s question" % what)
    n = fake.count(fast_name)
    assert n == 1, "the cached name went upstream again (%d queries)" % n
    assert order == [fast.id, slow.id], "answers in the order they were " \
        "asked (slow %#x, then cached %#x): the cached answer waited " \
        "behind the slow one" % (slow.id, fast.id)


# ------------------------------------------ the serve-stale client timer

def test_stale_timer(veiligd_stale, fake):
    """
    RFC 8767 5: the upstream hangs (8 s before veiligd gives up); after
    1.8 s the client gets the expired answer with TTL 30, over UDP and TCP.
    A name never cached gets no early answer.
    """
    d = veiligd_stale
    t = tag()
    udp_name = "u%s.once.fake.test." % t
    tcp_name = "t%s.once.fake.test." % t
    for name in (udp_name, tcp_name):
        r = dq(d.port, name)
        ok_answer(r, "first " + name)
        assert r.answer[0].ttl <= 1, "TTL %d, want 1" % r.answer[0].ttl
    s0 = d.stat("answers.stale")
    time.sleep(2.5)             # the TTL of 1 s has run out

    # meanwhile a name never cached, the upstream silent: no early answer
    res = {}

    def uncached():
        try:
            r = dq(d.port, "%s.silent.fake.test." % tag(), timeout=4.0)
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
                r = dq(d.port, name, tcp=tcp, timeout=5.0)
            except dns.exception.Timeout:
                raise AssertionError("%s: no answer within 5 s (the "
                                     "upstream hangs for 8 s)" % what)
            ok_answer(r, what)
            ttls = [rr.ttl for rr in r.answer]
            assert ttls == [30], "%s: TTLs %s, want 30 (RFC 8767)" % (
                what, ttls)
    finally:
        th.join(10)
    assert "e" not in res, "uncached query: %r" % res.get("e")
    r = res.get("r")
    assert r is None or r.rcode() != dns.rcode.NOERROR, \
        "a name never cached got NOERROR with the upstream silent: %s" % r
    s1 = d.stat("answers.stale")
    assert s1 >= s0 + 2, "answers.stale %d then %d after 2 stale answers" % (
        s0, s1)
    for name in (udp_name, tcp_name):
        n = fake.count(name)
        assert n >= 2, "%s forwarded %d times: no refresh was tried" % (
            name, n)


# ------------------- a wildcard listen address answers from the address

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


def test_wildcard_source_address(veiligd_wildcard, fake):
    """On 0.0.0.0 and [::], UDP answers come from the address queried."""
    port = veiligd_wildcard.port
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
            r, peer = _udp_from(dst, port, name, src)
            what = "%s answer to %s from %s" % (kind, dst, src)
            ok_answer(r, what)
            assert peer == (dst, port), "%s came from %s:%d" % (
                what, peer[0], peer[1])
    n = fake.count(name)
    assert n == 1, "forwarded %d times, want 1" % n
    # a forwarded answer to another address, and TCP on the wildcard
    name2 = "%s.ok.fake.test." % tag()
    r, peer = _udp_from("127.0.0.4", port, name2, "127.0.0.1")
    ok_answer(r, "forwarded to 127.0.0.4")
    assert peer == ("127.0.0.4", port), "answer to 127.0.0.4 from %s" % (
        peer,)
    ok_answer(dq(port, name2, tcp=True, server="127.0.0.5"), "TCP")
    if HAVE_V6:
        ok_answer(dq(port, name2, tcp=True, server="::1"), "TCP ::1")
        r, peer = _udp_from("::1", port, "%s.ok.fake.test." % tag(), "::1")
        ok_answer(r, "forwarded over ::1")
        assert peer == ("::1", port), "answer to ::1 from %s" % (peer,)
