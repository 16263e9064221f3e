"""test_filter.py: per-board filtering, and who may query at all.

veiligd_filter serves the boards and lists of tests/e2e/filter (which
127.0.0.x is which board: the table in e2elib.py) over the fake upstream;
veiligd_access has one board on 127.0.0.2/32 only.
"""

import socket

import dns.message
import dns.rcode
import pytest

from e2elib import (EDE_BLOCKED, EDE_FILTERED, HAVE_V6, SRC_A, SRC_B,
                    SRC_NONE, SRC_REDIRECT, SRC_REFUSED, addrs, answers,
                    block_soa, client, dig, dq, drill, ede, expect_block,
                    expect_pass, fq, ok_answer, parse_text, rc, rrs, tag)


# --------------------------------------------------------- access control

def test_access_refused(veiligd_access):
    r = dq(veiligd_access.port, "www.example.test.")
    assert r.rcode() == dns.rcode.REFUSED, dns.rcode.to_text(r.rcode())
    assert not r.answer
    r = dig(veiligd_access.port, "www.example.test")
    assert r["rcode"] == "REFUSED", r["rcode"]


def test_access_allowed_source(veiligd_access):
    r = dq(veiligd_access.port, "www.example.test.", source="127.0.0.2")
    ok_answer(r, "from 127.0.0.2", "192.0.2.10")
    r = drill(veiligd_access.port, "mail.example.test", "A",
              extra=["-I", "127.0.0.2"])
    assert [x[3] for x in rrs(r, "A")] == ["192.0.2.25"], r["answer"]


def test_no_board_refused(veiligd_filter):
    d = veiligd_filter
    for src in (SRC_NONE, "127.0.0.200"):
        r = fq(d, "www.filter.test.", src=src)
        assert r.rcode() == dns.rcode.REFUSED, "from %s: %s" % (src, rc(r))
        assert not r.answer
    # over TCP (no spoofing there) it is not answered: closed at once
    with pytest.raises((EOFError, ConnectionError)):
        r = dq(d.port, "www.filter.test.", source=SRC_NONE, tcp=True)
        pytest.fail("TCP from %s: answered %s" % (SRC_NONE, rc(r)))
    expect_pass(fq(d, "www.filter.test."), "board A")
    expect_pass(fq(d, "www.filter.test.", src=SRC_B), "board B")


# ------------------------------------------------------ lists and verdicts

def test_boards_differ(veiligd_filter):
    d = veiligd_filter
    # A blocks phishing, not gambling; B the other way round
    for name in ("phish.filter.test.", "www.phish.filter.test.",
                 "login.bank-phish.filter.test."):
        r = fq(d, name, src=SRC_A)
        expect_block(r, "A " + name, text="blocked: phishing")
        expect_pass(fq(d, name, src=SRC_B), "B " + name)
    # a parent of a listed name is not blocked
    expect_pass(fq(d, "bank-phish.filter.test."), "parent of a listed name")
    for name in ("casino.filter.test.", "www.poker.filter.test.",
                 "x.poker.filter.test."):
        expect_pass(fq(d, name, src=SRC_A), "A " + name)
        r = fq(d, name, src=SRC_B)
        expect_block(r, "B " + name, rcode=dns.rcode.NOERROR,
                     text="blocked: gambling")
    # over TCP and from ::1 (board A too)
    expect_block(fq(d, "phish.filter.test.", tcp=True), "A over TCP",
                 text="blocked: phishing")
    if HAVE_V6:
        r = dq(d.port, "phish.filter.test.", server="::1", use_edns=0)
        expect_block(r, "A from ::1", text="blocked: phishing")


def test_precedence(veiligd_filter):
    d = veiligd_filter
    # allow beats a blocked list, for the name and under it
    expect_pass(fq(d, "allowed.phish.filter.test."), "allow over list")
    expect_pass(fq(d, "x.allowed.phish.filter.test."), "under an allow")
    # deny blocks; deny beats a list (the EDE names the deny list)
    for name in ("denied.filter.test.", "www.denied.filter.test.",
                 "deny-listed.phish.filter.test.",
                 "denied-parent.filter.test."):
        expect_block(fq(d, name), name, text="blocked: deny list")
    # allow beats deny
    expect_pass(fq(d, "ok.denied-parent.filter.test."), "allow over deny")
    # deny on a board that does not block anything else
    expect_pass(fq(d, "denied.filter.test.", src=SRC_B), "B: not denied")
    # adblock: the most specific entry wins
    expect_block(fq(d, "adult.filter.test."), "adblock block",
                 text="blocked: adult")
    expect_block(fq(d, "x.adult.filter.test."), "adblock sub",
                 text="blocked: adult")
    expect_pass(fq(d, "safe.adult.filter.test."), "adblock exception")
    expect_pass(fq(d, "x.safe.adult.filter.test."), "under an exception")
    expect_block(fq(d, "deep.safe.adult.filter.test."),
                 "block under an exception", text="blocked: adult")
    # RPZ: a passthru under a blocked name passes
    expect_block(fq(d, "bad.malware.filter.test."), "rpz block",
                 text="blocked: malware")
    expect_pass(fq(d, "good.bad.malware.filter.test."), "rpz passthru")


def test_first_blocking_list_names_it(veiligd_filter):
    d = veiligd_filter
    # both.filter.test is in phishing (first in veiligd.yaml) and gambling
    expect_block(fq(d, "both.filter.test."), "A", text="blocked: phishing")
    expect_block(fq(d, "both.filter.test.", src=SRC_B), "B",
                 rcode=dns.rcode.NOERROR, text="blocked: gambling")


def test_case_and_rpz_exact(veiligd_filter):
    d = veiligd_filter
    r = fq(d, "PHISH.Filter.Test.")
    expect_block(r, "mixed case", text="blocked: phishing")
    assert str(r.question[0].name) == "PHISH.Filter.Test.", r.question
    # an RPZ trigger without "*." is that name only
    expect_pass(fq(d, "x.bad.malware.filter.test."), "under an RPZ name")
    expect_pass(fq(d, "x.nx.malware.filter.test."), "under an RPZ name")


def test_rpz(veiligd_filter):
    d = veiligd_filter
    r = fq(d, "nx.malware.filter.test.")
    expect_block(r, "rpz nxdomain", text="blocked: malware")
    r = fq(d, "nodata.malware.filter.test.")
    expect_block(r, "rpz nodata (board action nxdomain)",
                 rcode=dns.rcode.NOERROR, text="blocked: malware")
    assert not r.answer
    # local CNAME: the CNAME and the target's records from the upstream
    for i in range(2):
        r = fq(d, "rewrite.malware.filter.test.")
        got = answers(r)
        assert r.rcode() == dns.rcode.NOERROR and got == [
            ("rewrite.malware.filter.test.", "CNAME",
             "landing.filter.test."),
            ("landing.filter.test.", "A", "192.0.2.77")], \
            "rpz rewrite #%d: %s %s" % (i, rc(r), got)
    # passthru under a blocked name
    expect_pass(fq(d, "good.bad.malware.filter.test."), "passthru")
    expect_pass(fq(d, "x.good.bad.malware.filter.test."), "under passthru")
    # "*.wild..." covers subdomains only
    expect_block(fq(d, "x.wild.malware.filter.test."), "wildcard",
                 text="blocked: malware")
    expect_block(fq(d, "a.b.wild.malware.filter.test."), "wildcard deep",
                 text="blocked: malware")
    expect_pass(fq(d, "wild.malware.filter.test."), "wildcard apex")
    # a board that does not block malware
    expect_pass(fq(d, "nx.malware.filter.test.", src=SRC_B), "B rpz")
    r = fq(d, "rewrite.malware.filter.test.", src=SRC_B)
    assert addrs(r) == ["192.0.2.1"], "B rewrite: %s" % answers(r)


# ----------------------------------------------------- the board's action

def test_action_nxdomain(veiligd_filter):
    d = veiligd_filter
    r = fq(d, "%s.phish.filter.test." % tag())
    expect_block(r, "nxdomain", text="blocked: phishing")
    soa = block_soa(r, "nxdomain")
    assert str(soa.name).lower() == "phish.filter.test.", \
        "SOA owner %s, want the name of the rule" % soa.name
    assert not r.answer, r.answer
    r = fq(d, "phish.filter.test.", "AAAA")
    expect_block(r, "nxdomain AAAA", text="blocked: phishing")
    block_soa(r, "nxdomain AAAA")


@pytest.mark.parametrize("t", ["A", "AAAA", "MX"])
def test_action_nodata(veiligd_filter, t):
    r = fq(veiligd_filter, "casino.filter.test.", t, src=SRC_B)
    expect_block(r, "nodata " + t, rcode=dns.rcode.NOERROR,
                 text="blocked: gambling")
    assert not r.answer, "nodata %s: answer %s" % (t, r.answer)
    block_soa(r, "nodata " + t)


def test_action_refused(veiligd_filter):
    d = veiligd_filter
    for t in ("A", "AAAA"):
        r = fq(d, "phish.filter.test.", t, src=SRC_REFUSED)
        expect_block(r, "refused " + t, rcode=dns.rcode.REFUSED,
                     text="blocked: phishing")
        assert not r.answer and not r.authority, (r.answer, r.authority)
    expect_pass(fq(d, "casino.filter.test.", src=SRC_REFUSED),
                "refused board, other list")


def test_action_redirect(veiligd_filter):
    d = veiligd_filter
    r = fq(d, "phish.filter.test.", src=SRC_REDIRECT)
    assert r.rcode() == dns.rcode.NOERROR, rc(r)
    assert answers(r) == [("phish.filter.test.", "A", "192.0.2.80")], \
        answers(r)
    assert r.answer[0].ttl == 60, "redirect TTL %d, want 60" % (
        r.answer[0].ttl)
    assert (EDE_FILTERED, "blocked: phishing") in ede(r), ede(r)
    r = fq(d, "www.phish.filter.test.", "AAAA", src=SRC_REDIRECT)
    assert answers(r) == [("www.phish.filter.test.", "AAAA",
                           "2001:db8::80")], answers(r)
    assert (EDE_FILTERED, "blocked: phishing") in ede(r), ede(r)
    r = fq(d, "phish.filter.test.", "MX", src=SRC_REDIRECT)
    assert r.rcode() == dns.rcode.NOERROR and not r.answer, \
        "redirect MX: %s %s, want NODATA" % (rc(r), r.answer)
    assert ede(r), "redirect MX: no EDE"
    # the deny list redirects too
    r = fq(d, "denied.filter.test.", src=SRC_REDIRECT)
    assert addrs(r) == ["192.0.2.80"], answers(r)
    assert (EDE_FILTERED, "blocked: deny list") in ede(r), ede(r)


def test_ede_dig(veiligd_filter):
    port = str(veiligd_filter.port)
    out = client(["dig", "@127.0.0.1", "-p", port, "-b", SRC_A,
                  "phish.filter.test", "A", "+tries=1", "+time=3"])
    assert "status: NXDOMAIN" in out, out[-600:]
    assert "EDE: 17 (Filtered): (blocked: phishing)" in out, out[-600:]
    out = client(["dig", "@127.0.0.1", "-p", port, "-b", SRC_A,
                  "use-application-dns.net", "A", "+tries=1", "+time=3"])
    assert "EDE: 15 (Blocked): (blocked: canary)" in out, out[-600:]
    out = client(["dig", "@127.0.0.1", "-p", port, "-b", SRC_A,
                  "denied.filter.test", "A", "+tries=1", "+time=3"])
    assert "EDE: 17 (Filtered): (blocked: deny list)" in out, out[-600:]
    # no EDNS in the query: no OPT, so no EDE, but still blocked
    r = dq(veiligd_filter.port, "phish.filter.test.", source=SRC_A,
           use_edns=False)
    assert r.rcode() == dns.rcode.NXDOMAIN and r.edns == -1, (rc(r), r.edns)


# --------------------------------------------- safe search and canaries

SAFE = [("www.google.nl.", "forcesafesearch.google.com.", "216.239.38.120",
         "192.0.2.100"),
        ("www.youtube.com.", "restrict.youtube.com.", "216.239.38.119",
         "192.0.2.102"),
        ("www.bing.com.", "strict.bing.com.", "204.79.197.220",
         "192.0.2.103"),
        ("duckduckgo.com.", "safe.duckduckgo.com.", "52.142.124.215",
         "192.0.2.104")]


@pytest.mark.parametrize("name,target,addr,plain", SAFE,
                         ids=[x[0].rstrip(".") for x in SAFE])
def test_safe_search(veiligd_filter, name, target, addr, plain):
    d = veiligd_filter
    for rnd in range(2):        # the second round comes from the cache
        r = fq(d, name)
        assert r.rcode() == dns.rcode.NOERROR, "%s: %s" % (name, rc(r))
        got = answers(r)
        assert got == [(name, "CNAME", target), (target, "A", addr)], \
            "%s round %d: %s" % (name, rnd, got)
        assert not ede(r), "%s: EDE %s on a rewrite" % (name, ede(r))
        # board B has no safe search: the plain answer
        expect_pass(fq(d, name, src=SRC_B), "B " + name, want=(plain,))


def test_safe_search_only_search_names(veiligd_filter):
    """Another name of the search engine is not rewritten; a name asked in
    mixed case is."""
    d = veiligd_filter
    expect_pass(fq(d, "mail.google.com."), "mail.google.com",
                want=("192.0.2.101",))
    out = client(["dig", "@127.0.0.1", "-p", str(d.port), "-b", SRC_A,
                  "WWW.Google.NL", "A", "+tries=1", "+time=3"])
    r = parse_text(out)
    assert [(x[2], x[3].lower()) for x in r["answer"]] == [
        ("CNAME", "forcesafesearch.google.com."), ("A", "216.239.38.120")], \
        r["answer"]


CANARIES = [("use-application-dns.net.", "192.0.2.105"),
            ("mask.icloud.com.", "192.0.2.106"),
            ("mask-h2.icloud.com.", "192.0.2.107")]


@pytest.mark.parametrize("name,plain", CANARIES,
                         ids=[x[0].rstrip(".") for x in CANARIES])
def test_canaries(veiligd_filter, name, plain):
    d = veiligd_filter
    expect_block(fq(d, name), "A " + name, text="blocked: canary",
                 code=EDE_BLOCKED)
    # NXDOMAIN whatever the board's action
    expect_block(fq(d, name, src=SRC_REDIRECT), "redirect " + name,
                 text="blocked: canary", code=EDE_BLOCKED)
    expect_block(fq(d, name, src=SRC_REFUSED), "refused " + name,
                 text="blocked: canary", code=EDE_BLOCKED)
    expect_pass(fq(d, name, src=SRC_B), "canaries: false " + name,
                want=(plain,))


# -------------------------------------------------- answers are inspected

def test_cname_cloaking(veiligd_filter, fake):
    d = veiligd_filter
    # CNAME to a phishing name: blocked for A (which blocks phishing),
    # passed for B; asked in the order B, A, A, B: the second of each
    # comes from the cache
    name = "%s.cloakphish.filter.test." % tag()
    want = [(name, "CNAME", "cloaked-phish.filter.test."),
            ("cloaked-phish.filter.test.", "A", "192.0.2.1")]
    for i, src in enumerate((SRC_B, SRC_A, SRC_A, SRC_B)):
        r = fq(d, name, src=src)
        if src == SRC_A:
            expect_block(r, "A cloaked #%d" % i, text="blocked: phishing")
            assert not r.answer, "A cloaked: answer %s" % r.answer
            block_soa(r, "A cloaked")
        else:
            assert r.rcode() == dns.rcode.NOERROR and answers(r) == want, \
                "B #%d: %s %s" % (i, rc(r), answers(r))
    assert fake.count(name) == 1, "upstream asked %d times" % \
        fake.count(name)
    # the other way round: a CNAME to a gambling name, A first
    name = "%s.cloakcasino.filter.test." % tag()
    for i, src in enumerate((SRC_A, SRC_B, SRC_B, SRC_A)):
        r = fq(d, name, src=src)
        if src == SRC_B:
            expect_block(r, "B cloaked #%d" % i, rcode=dns.rcode.NOERROR,
                         text="blocked: gambling")
            assert not r.answer, r.answer
        else:
            assert r.rcode() == dns.rcode.NOERROR and len(r.answer) == 2, \
                "A #%d: %s %s" % (i, rc(r), answers(r))
    # over TCP too
    expect_block(fq(d, name, src=SRC_B, tcp=True), "B cloaked over TCP",
                 rcode=dns.rcode.NOERROR, text="blocked: gambling")


def test_cloaking_actions(veiligd_filter):
    d = veiligd_filter
    name = "%s.cloakphish.filter.test." % tag()
    r = fq(d, name, src=SRC_REDIRECT)
    assert addrs(r) == ["192.0.2.80"], "redirect: %s" % answers(r)
    assert (EDE_FILTERED, "blocked: phishing") in ede(r), ede(r)
    r = fq(d, name, "AAAA", src=SRC_REDIRECT)
    assert addrs(r) == ["2001:db8::80"], "redirect AAAA: %s" % answers(r)
    expect_block(fq(d, name, src=SRC_REFUSED), "refused",
                 rcode=dns.rcode.REFUSED, text="blocked: phishing")
    expect_block(fq(d, name, "MX", src=SRC_A), "nxdomain MX",
                 text="blocked: phishing")


def test_coalesced_boards(veiligd_filter, fake):
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
            s.sendto(q.to_wire(), ("127.0.0.1", veiligd_filter.port))
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
    n = fake.count(name)
    assert 1 <= n <= 2, "%d upstream queries for 8 coalesced (2 workers)" % n


def test_ip_list(veiligd_filter):
    d = veiligd_filter
    name = "%s.badip.filter.test." % tag()
    for i in range(2):      # the second from the cache
        expect_block(fq(d, name), "A badip #%d" % i, text="blocked: badips")
        expect_pass(fq(d, name, src=SRC_B), "B badip #%d" % i,
                    want=("192.0.2.1", "198.51.100.66"))
    # AAAA in a listed /48
    expect_block(fq(d, name, "AAAA"), "A badip AAAA", text="blocked: badips")
    # allow skips answer inspection
    expect_pass(fq(d, "badip-allowed.filter.test."), "allowed badip",
                want=("192.0.2.1", "198.51.100.66"))


def test_geoip(veiligd_filter):
    d = veiligd_filter
    ru = "%s.ru.filter.test." % tag()
    asn = "%s.asn.filter.test." % tag()
    for i in range(2):
        expect_block(fq(d, ru), "A RU #%d" % i, text="blocked: country RU")
        expect_pass(fq(d, ru, src=SRC_B), "B RU #%d" % i,
                    want=("203.0.113.5",))
        expect_pass(fq(d, asn), "A AS #%d" % i, want=("203.0.113.200",))
        expect_block(fq(d, asn, src=SRC_B), "B AS #%d" % i,
                     rcode=dns.rcode.NOERROR, text="blocked: AS64511")
    expect_pass(fq(d, ru, src=SRC_REFUSED), "no geo rules",
                want=("203.0.113.5",))
    # an NL address is not blocked by A's RU rule
    expect_pass(fq(d, "nl.filter.test."), "NL address")
