"""conftest.py: the fixtures of the end-to-end tests (see README).

Every test talks to real processes on loopback: NSD, the fake upstream
(fakeup.py) and veiligd, each on free high ports of 127.0.0.1 (and ::1).
The daemons many tests share are session fixtures, started together before
the first test (only those the selected tests need) and stopped at the end
of the run; a test that changes a daemon's configuration starts its own
with the make_veiligd factory.

Every veiligd, shared or not, is stopped by its PID with SIGTERM and must
exit 0 within a few seconds and print no sanitizer report; otherwise the
teardown fails, naming the daemon and showing the tail of its stderr. A
test also fails when a daemon it uses dies under it, and every failure
shows the stderr tail of the daemons the test used.
"""

import os
import signal
import time

import pytest

pytest.register_assert_rewrite("e2elib")

import e2elib  # noqa: E402
from e2elib import (HAVE_V6, LOOPBACK, LOW_NOFILE, MAXCONN,  # noqa: E402
                    MAXCONN_WORKERS, Daemon, Fake, Nsd, board_yaml,
                    filter_conf, free_port, free_wildcard_port, low_nofile,
                    setup_filter_dir, tail, veiligd_conf)

# seconds: later tests are not started after it. A bound on a run gone
# wrong, not a speed check: quiet, the suite takes under 4 minutes, but on
# a busy machine it ran past 300 s and every later test failed unrun.
BUDGET = 1200


def pytest_addoption(parser):
    parser.addoption(
        "--veiligd", default=os.environ.get("VEILIGD") or os.path.join(
            e2elib.REPO, "build", "veiligd"),
        help="the veiligd binary to test; veiligctl is taken from the same "
        "directory (default: $VEILIGD or build/veiligd)")
    parser.addoption(
        "--budget", type=float, default=BUDGET,
        help="seconds after which no further test is started "
        "(default %d)" % BUDGET)


def _on_sigterm(signum, frame):
    # as ^C: pytest stops, tears the fixtures down (every daemon by its
    # PID) and says what it had run
    raise KeyboardInterrupt("signal %d" % signum)


def pytest_configure(config):
    config._e2e_start = time.monotonic()
    signal.signal(signal.SIGTERM, _on_sigterm)


def pytest_unconfigure(config):
    e2elib.stop_all()       # anything a failed teardown left behind


def pytest_runtest_setup(item):
    budget = item.config.getoption("--budget")
    if time.monotonic() - item.config._e2e_start > budget:
        pytest.fail("not run: past the %d s budget" % budget, pytrace=False)


# the shared daemons (session fixtures below), started together
SHARED = ("veiligd_nsd", "veiligd_fake", "veiligd_access", "veiligd_stale",
          "veiligd_wildcard", "veiligd_tcp1", "veiligd_lowfd",
          "veiligd_maxconn", "veiligd_filter")


def pytest_collection_finish(session):
    """Which shared daemons the tests to run need."""
    need = set()
    for item in session.items:
        need.update(getattr(item, "fixturenames", ()))
    session.config._e2e_shared = [n for n in SHARED if n in need]


def _daemons(item):
    """The veiligds a test used: its fixtures, and what its factory made."""
    out = []
    for v in getattr(item, "funcargs", {}).values():
        if isinstance(v, Daemon):
            out.append(v)
        elif isinstance(v, VeiligdFactory) and not v.shared:
            out.extend(v.daemons)
    return out


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_call(item):
    """A test fails when a daemon it uses is down before it or dies in it."""
    before = [d for d in _daemons(item) if not d.stopped]
    for d in before:
        if d.start_error:
            pytest.fail(d.start_error, pytrace=False)
        if not d.alive():
            pytest.fail("veiligd %s is not running (exit status %s)" % (
                d.name, d.proc.returncode), pytrace=False)
    outcome = yield
    if outcome.excinfo is not None:
        return
    # those it had before and those it started itself
    for d in _daemons(item):
        if not d.stopped and not d.alive():
            pytest.fail("veiligd %s exited (status %s)" % (
                d.name, d.proc.returncode), pytrace=False)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    """With a failure, the tail of the stderr of each daemon it used."""
    outcome = yield
    rep = outcome.get_result()
    if not rep.failed:
        return
    for d in _daemons(item):
        t = tail(d.err)
        if t:
            rep.sections.append(("stderr of veiligd %s (%s)" % (
                d.name, d.err), t))


# ------------------------------------------------------------------ fixtures

@pytest.fixture(scope="session")
def veiligd_bin(request):
    """The absolute path of the veiligd under test (--veiligd)."""
    path = os.path.abspath(request.config.getoption("--veiligd"))
    if not os.access(path, os.X_OK):
        pytest.fail("no executable %s: build it (make all) or give "
                    "--veiligd" % path, pytrace=False)
    return path


@pytest.fixture(scope="session")
def nsd(tmp_path_factory):
    """NSD serving zones/example.test.zone; .port, .addr ("127.0.0.1:P")."""
    n = Nsd(str(tmp_path_factory.mktemp("nsd")))
    try:
        n.start()
    except RuntimeError as e:
        n.stop()
        pytest.fail(str(e), pytrace=False)
    yield n
    n.stop()


@pytest.fixture
def make_nsd(tmp_path_factory):
    """Factory: make_nsd() starts an NSD of the test's own (a test that
    stops its upstream); each is stopped at the end of the test."""
    made = []

    def make():
        n = Nsd(str(tmp_path_factory.mktemp("nsd")))
        made.append(n)
        try:
            n.start()
        except RuntimeError as e:
            pytest.fail(str(e), pytrace=False)
        return n
    yield make
    for n in made:
        n.stop()


@pytest.fixture(scope="session")
def fake(tmp_path_factory):
    """fakeup.py on two ports: .ups (the two "127.0.0.1:P"), .port1,
    .port2, .count(qname, proto=, port=)."""
    f = Fake(str(tmp_path_factory.mktemp("fakeup")))
    try:
        f.start()
    except RuntimeError as e:
        f.stop()
        pytest.fail(str(e), pytrace=False)
    yield f
    f.stop()


class VeiligdFactory:
    """
    Starts veiligds and, at the end of its scope, stops them by PID. Call
    it with a name and either upstreams (a configuration is written from
    veiligd_conf's keywords, with one board serving networks) or conf=TEXT
    and conf_path= (a directory of your own, e.g. with boards and lists).
    """

    def __init__(self, binary, tmp_path_factory, shared):
        self.binary = binary
        self.tmp = tmp_path_factory
        self.shared = shared    # the session's, or one test's
        self.daemons = []
        self.defer = False      # start, but wait in wait_started()
        self.pending = []

    def __call__(self, name, upstreams=None, networks=LOOPBACK, v6=False,
                 wildcard=False, conf=None, conf_path=None, port=None,
                 preexec=None, **conf_kw):
        if port is None:
            port = free_wildcard_port() if wildcard else free_port()
        if conf is None:
            d = str(self.tmp.mktemp("veiligd-" + name))
            conf_path = os.path.join(d, "veiligd.yaml")
            ctl = os.path.join(d, "ctl.sock")
            host = "0.0.0.0" if wildcard else "127.0.0.1"
            listen = ["%s:%d" % (host, port)]
            if v6 and HAVE_V6:
                listen.append("[%s]:%d" % ("::" if wildcard else "::1", port))
            board = os.path.join(d, "boards", "board.yaml")

            def remake(**over):
                kw = dict(conf_kw, upstreams=upstreams)
                kw.update(over)
                return veiligd_conf(listen, kw.pop("upstreams"),
                                    os.path.join(d, "boards", "*.yaml"), ctl,
                                    **kw)

            def set_networks(nets):
                e2elib.write_file(board, board_yaml("Board %s" % name, nets))
            set_networks(networks)
            conf = remake()
        else:
            ctl = os.path.join(os.path.dirname(conf_path), "ctl.sock")
            remake = set_networks = None
        dm = Daemon(self.binary, name, port, conf, conf_path, ctl, preexec)
        # configuration writers of a daemon made from keywords (or None):
        # remake(**keywords) is its text with keywords changed, and
        # set_networks(list) rewrites the networks of its one board
        dm.remake = remake
        dm.set_networks = set_networks
        dm.start()
        self.daemons.append(dm)
        if self.defer:
            self.pending.append(dm)
            return dm
        why = dm.wait_ready()
        if why:
            dm.start_error = "veiligd %s: %s" % (name, why)
            pytest.fail(dm.start_error, pytrace=False)
        return dm

    def wait_started(self):
        """Wait for the daemons started with defer set; a test that uses
        one that did not come up fails with start_error."""
        for dm in self.pending:
            why = dm.wait_ready()
            if why:
                dm.start_error = "veiligd %s: %s" % (dm.name, why)
        self.pending = []

    def stop_all(self):
        problems = []
        for dm in self.daemons:
            dm.sigterm()
        for dm in self.daemons:
            why = dm.stop_problem()
            if why and self.shared:
                # the report of a test's own shows its stderr anyway
                why += "\n" + tail(dm.err)
            if why:
                problems.append(why)
        if problems:
            pytest.fail("\n".join(problems), pytrace=False)


@pytest.fixture
def make_veiligd(veiligd_bin, tmp_path_factory):
    """Factory: make_veiligd(name, upstreams, ...) starts a veiligd of the
    test's own (see VeiligdFactory); stopped and checked after the test."""
    f = VeiligdFactory(veiligd_bin, tmp_path_factory, False)
    yield f
    f.stop_all()


@pytest.fixture(scope="session")
def session_veiligd(veiligd_bin, tmp_path_factory):
    """The factory of the shared daemons below; stopped and checked at the
    end of the run."""
    f = VeiligdFactory(veiligd_bin, tmp_path_factory, True)
    yield f
    f.stop_all()


@pytest.fixture(scope="session", autouse=True)
def _start_shared(request):
    """
    Start at once every shared veiligd that the tests to run need, and
    then wait for them together: started one by one, each when its first
    test comes, they would add their start-up times. A fixture that fails
    here fails again, with its reason, in each test that uses it.
    """
    names = getattr(request.config, "_e2e_shared", [])
    if not names:
        return
    try:
        factory = request.getfixturevalue("session_veiligd")
    except (Exception, pytest.fail.Exception):
        return
    factory.defer = True
    try:
        for n in names:
            try:
                request.getfixturevalue(n)
            except (Exception, pytest.fail.Exception):
                pass
    finally:
        factory.defer = False
        factory.wait_started()


@pytest.fixture(scope="session")
def veiligd_nsd(session_veiligd, nsd):
    """Forwards to NSD; also on ::1; tcp-idle-timeout 1s: real clients,
    cache, EDNS, TCP, truncation, malformed queries."""
    return session_veiligd("nsd", [nsd.addr], v6=True, idle="1s",
                           timeout="300ms", attempts=2)


@pytest.fixture(scope="session")
def veiligd_fake(session_veiligd, fake):
    """Forwards to both ports of the fake: upstream faults, coalescing,
    pipelining."""
    return session_veiligd("fake", fake.ups, timeout="800ms", attempts=3)


@pytest.fixture(scope="session")
def veiligd_access(session_veiligd, nsd):
    """Forwards to NSD; its one board serves 127.0.0.2/32 only."""
    return session_veiligd("access", [nsd.addr], networks=["127.0.0.2/32"])


@pytest.fixture(scope="session")
def veiligd_stale(session_veiligd, fake):
    """Forwards to the fake, timeout 2s, 4 attempts (8 s before it gives
    up): the serve-stale client response timer fires long before that."""
    return session_veiligd("stale", fake.ups[:1], timeout="2s", attempts=4)


@pytest.fixture(scope="session")
def veiligd_wildcard(session_veiligd, fake):
    """Listens on 0.0.0.0:PORT and [::]:PORT (only loopback is queried)."""
    return session_veiligd("wildcard", fake.ups[:1], wildcard=True, v6=True,
                           timeout="500ms", attempts=2)


@pytest.fixture(scope="session")
def veiligd_tcp1(session_veiligd, nsd):
    """Forwards to NSD with tcp-max-queries 1: a connection waits, reading
    paused, for each forwarded answer."""
    return session_veiligd("tcp1", [nsd.addr], timeout="500ms", attempts=2,
                           tcp_max_queries=1)


@pytest.fixture(scope="session")
def veiligd_lowfd(session_veiligd, fake):
    """One worker and RLIMIT_NOFILE LOW_NOFILE; forwards to the fake with
    timeout 2s, 2 attempts (a silent name stays 4 s in flight)."""
    return session_veiligd("lowfd", fake.ups[:1], timeout="2s", attempts=2,
                           workers=1, preexec=low_nofile(LOW_NOFILE))


@pytest.fixture(scope="session")
def veiligd_maxconn(session_veiligd, fake):
    """tcp-max-connections MAXCONN over MAXCONN_WORKERS workers."""
    return session_veiligd("maxconn", fake.ups[:1], timeout="500ms",
                           attempts=2, workers=MAXCONN_WORKERS,
                           tcp_max_connections=MAXCONN)


@pytest.fixture(scope="session")
def filter_dir(tmp_path_factory):
    """A copy of tests/e2e/filter with its GeoIP databases built."""
    d = os.path.join(str(tmp_path_factory.mktemp("filter")), "filter")
    why = setup_filter_dir(d)
    if why:
        pytest.fail(why, pytrace=False)
    return d


@pytest.fixture(scope="session")
def veiligd_filter(session_veiligd, fake, filter_dir):
    """
    Per-board filtering: forwards to the fake, with the lists and boards of
    filter_dir (e2elib says which 127.0.0.x is which board) and GeoIP.
    Tests that change its files put them back before they end.
    """
    port = free_port()
    listen = ["127.0.0.1:%d" % port]
    if HAVE_V6:
        listen.append("[::1]:%d" % port)
    return session_veiligd(
        "filter", port=port,
        conf=filter_conf(listen, fake.ups[:1],
                         os.path.join(filter_dir, "ctl.sock"), True),
        conf_path=os.path.join(filter_dir, "veiligd.yaml"))
