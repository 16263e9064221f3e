"""test_answers.py: what veiligd makes of an upstream's answer.

Only the records of the question's chain are cached and passed on: a fake
upstream that adds an address of another name, NS records and glue (a
poisoning attempt) gets none of them to the client or into the cache; a
chain the upstream spells in other cases than asked (0x20 echoed) is kept
whatever its case, and the client gets its own spelling back. And
an answer's targets are filtered as the question is: a CNAME onto a
board's deny list or to a canary, an HTTPS record whose target is denied
or whose address hints are in an ip list the board blocks.

veiligd_fake forwards to the fake upstream; veiligd_filter serves the
boards of tests/e2e/filter (which 127.0.0.x is which board: e2elib.py).
"""

import dns.rcode
import dns.rdatatype

from e2elib import (EDE_BLOCKED, EDE_FILTERED, SRC_A, SRC_B, SRC_REDIRECT,
                    addrs, answers, block_soa, dq, ede, expect_block, fq, rc,
                    tag)


# ------------------------------------------------------------- scrubbing

def test_poison_not_relayed_nor_cached(veiligd_fake, fake):
    """A spoofed (or lying) upstream that adds unrelated records: not
    relayed, not cached. The fake answers TAG.poison.fake.test with its A
    record plus an A 203.0.113.66 for TAG.ok.fake.test, NS records of
    fake.test and of bank.test naming ns.evil.test, and the glue
    ns.evil.test A 203.0.113.53: as a forger who guessed ID, port and
    spelling would. The client sees the A record alone, over UDP, from
    the cache, over TCP and with DO=1; later questions about the victim,
    the NS names and the glue are not answered from the cache."""
    d = veiligd_fake
    t = tag()
    name = "%s.poison.fake.test." % t
    victim = "%s.ok.fake.test." % t
    for i, (tcp, do) in enumerate(((False, False), (False, False),
                                   (True, False), (False, True))):
        r = dq(d.port, name, tcp=tcp, use_edns=0, payload=1232,
               want_dnssec=do)
        assert r.rcode() == dns.rcode.NOERROR, "#%d: %s" % (i, rc(r))
        assert answers(r) == [(name.lower(), "A", "192.0.2.1")], \
            "#%d: answer %s" % (i, answers(r))
        assert not r.authority, "#%d: authority %s" % (i, r.authority)
        assert not r.additional, "#%d: additional %s" % (i, r.additional)
    # once without DO (then from the cache), once with it (another key)
    assert fake.count(name) == 2, "poison asked %d times" % fake.count(name)

    # The planted address was not cached: the victim goes upstream.
    assert fake.count(victim) == 0
    r = dq(d.port, victim, use_edns=0, payload=1232)
    assert addrs(r) == ["192.0.2.1"], "victim: %s" % answers(r)
    assert fake.count(victim) == 1, "victim asked %d times" % \
        fake.count(victim)

    # Nor the delegations and their glue: the fake refuses these names,
    # so anything but a failure would have come from the cache.
    for qname, qtype in (("ns.evil.test.", "A"), ("fake.test.", "NS"),
                         ("bank.test.", "NS")):
        r = dq(d.port, qname, qtype, use_edns=0, timeout=6)
        assert r.rcode() == dns.rcode.SERVFAIL and not r.answer, \
            "%s %s: %s %s" % (qname, qtype, rc(r), answers(r))


def test_mixed_case_echo(veiligd_fake, fake):
    """veiligd asks in a spelling of its own (0x20) and the fake echoes
    it; the answer's chain is spelled in other cases still: the CNAME's
    owner points at the question, its target is TAG.ok.fake.test. with
    the tag's case swapped, the target's A is in upper case and an AAAA
    of it (not asked for) in lower case. The echo is accepted over UDP
    (no fallback to TCP), the chain is kept whatever its case, the AAAA
    dropped, and each client gets its own spelling back, from the
    upstream and from the cache."""
    d = veiligd_fake
    off = d.log_size()
    t = tag()
    target = "%s.ok.fake.test." % t
    want = [(None, "CNAME", target), (target, "A", "192.0.2.1")]
    spellings = ("%s.MixChain.FAKE.test." % t.upper(),
                 "%s.mIXcHAIN.fake.TEST." % t)
    for i, name in enumerate(spellings):
        r = dq(d.port, name, use_edns=0, payload=1232)
        what = "%s (#%d)" % (name, i)
        assert r.rcode() == dns.rcode.NOERROR, "%s: %s" % (what, rc(r))
        assert r.question[0].name.to_text() == name, \
            "%s: question %s" % (what, r.question[0].name)
        assert r.answer[0].name.to_text() == name, \
            "%s: owner %s" % (what, r.answer[0].name)
        want[0] = (name.lower(), "CNAME", target)
        assert answers(r) == want, "%s: answer %s" % (what, answers(r))
        assert not r.authority and not r.additional, \
            "%s: %s %s" % (what, r.authority, r.additional)
    lname = spellings[0].lower()
    assert fake.count(lname, proto="udp") == 1, \
        "asked %d times over UDP (not cached?)" % fake.count(lname, "udp")
    assert fake.count(lname, proto="tcp") == 0, "the echo was refused"
    assert "lost the case" not in d.log_since(off)
    # The AAAA was dropped, not cached: the question goes upstream.
    r = dq(d.port, target, "AAAA", use_edns=0, payload=1232)
    assert addrs(r) == ["2001:db8::1"], "AAAA: %s" % answers(r)
    assert fake.count(target) == 1, "target asked %d times" % \
        fake.count(target)


# ------------------------------------------------ targets of the answer

def test_cname_into_deny_list(veiligd_filter, fake):
    """A CNAME onto denied.filter.test (board A's deny list): blocked for
    A with its action and EDE 17, passed for B (no deny list); in the
    order B, A, A, B the second of each is a cache hit."""
    d = veiligd_filter
    name = "%s.cloakdeny.filter.test." % tag()
    want = [(name, "CNAME", "cdn.denied.filter.test."),
            ("cdn.denied.filter.test.", "A", "192.0.2.1")]
    for i, src in enumerate((SRC_B, SRC_A, SRC_A, SRC_B)):
        r = fq(d, name, src=src)
        if src == SRC_A:
            expect_block(r, "A #%d" % i, text="blocked: deny list")
            assert not r.answer, "A #%d: answer %s" % (i, r.answer)
            block_soa(r, "A #%d" % i)
        else:
            assert r.rcode() == dns.rcode.NOERROR and answers(r) == want, \
                "B #%d: %s %s" % (i, rc(r), answers(r))
    assert fake.count(name) == 1, "upstream asked %d times" % \
        fake.count(name)
    # the redirect board denies it too: its block page, with the EDE
    r = fq(d, name, src=SRC_REDIRECT)
    assert addrs(r) == ["192.0.2.80"], "redirect: %s" % answers(r)
    assert (EDE_FILTERED, "blocked: deny list") in ede(r), ede(r)
    # over TCP
    expect_block(fq(d, name, src=SRC_A, tcp=True), "A over TCP",
                 text="blocked: deny list")


def test_cname_to_canary(veiligd_filter):
    """A CNAME to use-application-dns.net: NXDOMAIN with EDE 15 for a
    board with canaries (A), an answer for one without (B)."""
    d = veiligd_filter
    name = "%s.cloakcanary.filter.test." % tag()
    for i, src in enumerate((SRC_A, SRC_B, SRC_A)):
        r = fq(d, name, src=src)
        if src == SRC_A:
            expect_block(r, "A #%d" % i, text="blocked: canary",
                         code=EDE_BLOCKED)
        else:
            assert r.rcode() == dns.rcode.NOERROR and len(r.answer) == 2, \
                "B: %s %s" % (rc(r), answers(r))


def https_records(r):
    return [rd for rrset in r.answer if rrset.rdtype == dns.rdatatype.HTTPS
            for rd in rrset]


def test_https_hints_in_ip_list(veiligd_filter):
    """HTTPS answers whose ipv4hint or ipv6hint is in board A's ip list
    (badips) are blocked for A and passed for B; fine hints pass; a
    target on A's deny list is blocked as a CNAME onto it would be."""
    d = veiligd_filter
    for kind in ("badip4", "badip6"):
        name = "%s.https-%s.filter.test." % (tag(), kind)
        for i, src in enumerate((SRC_A, SRC_B, SRC_A)):
            r = fq(d, name, "HTTPS", src=src)
            what = "%s from %s #%d" % (kind, src, i)
            if src == SRC_A:
                expect_block(r, what, text="blocked: badips")
                assert not r.answer, "%s: answer %s" % (what, r.answer)
            else:
                assert r.rcode() == dns.rcode.NOERROR, "%s: %s" % (what,
                                                                   rc(r))
                assert len(https_records(r)) == 1, "%s: %s" % (what,
                                                               r.answer)

    name = "%s.https-ok.filter.test." % tag()
    r = fq(d, name, "HTTPS", src=SRC_A)
    assert r.rcode() == dns.rcode.NOERROR and len(https_records(r)) == 1, \
        "fine hints: %s %s" % (rc(r), r.answer)
    assert not ede(r), ede(r)

    name = "%s.https-deny.filter.test." % tag()
    expect_block(fq(d, name, "HTTPS", src=SRC_A), "denied target",
                 text="blocked: deny list")
    r = fq(d, name, "HTTPS", src=SRC_B)
    assert r.rcode() == dns.rcode.NOERROR and len(https_records(r)) == 1, \
        "denied target for B: %s %s" % (rc(r), r.answer)
