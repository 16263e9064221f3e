"""test_updater_hardening.py: veilig-update-lists against a hostile network.

    python3 -m pytest tests/e2e/test_updater_hardening.py

The updater must not be talked into installing a list that was sent in
the clear or cut short on the way:
  - plain http:// URLs are refused before anything is sent, by the
    updater and by `veiligd -n` (a lists.NAME.url);
  - a redirect from https to http is refused (https to https is fine);
  - a download with fewer than half the entries of the list in force is
    refused, unless -f names the list.

Self-contained: a certificate for 127.0.0.1 made with openssl(1) in a
temporary directory, HTTPS and plain HTTP servers on free loopback ports
in threads of this process (python's ssl), a stub veiligctl that hands
out the list table and counts reloads, and the real veiligd (VEILIGD, by
default build/veiligd) to check the lists. curl trusts the test
certificate through CURL_CA_BUNDLE. The veiligd is the e2e suite's
--veiligd when its conftest has that option. Every run of the updater has a
timeout, and so has every download.
"""

import http.server
import os
import ssl
import subprocess
import threading

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
SCRIPT = os.environ.get("VEILIG_UPDATE_LISTS",
                        os.path.join(ROOT, "src", "veilig-update-lists"))
VEILIGD = os.environ.get("VEILIGD", os.path.join(ROOT, "build", "veiligd"))


@pytest.fixture
def veiligd(request):
    """The veiligd that checks the lists: the e2e suite's --veiligd when
    its conftest has one, else VEILIGD, else build/veiligd."""
    path = os.path.abspath(request.config.getoption("--veiligd",
                                                    default=None) or VEILIGD)
    assert os.access(path, os.X_OK), "%s: not built (make all)" % path
    return path
RUN_TIMEOUT = 60            # seconds for one run of the updater

STUB_VEILIGCTL = r"""#!/bin/sh
# stub veiligctl -s SOCKET lists|reload
case $3 in
lists)	cat "@DIR@/lists.tsv" ;;
reload)	echo reload >>"@DIR@/reloads"; echo ok ;;
*)	echo "stub veiligctl: unknown command $3" >&2; exit 2 ;;
esac
"""


def names(n, tag="x"):
    """A domains list of n entries, with a comment and a blank line that
    do not count."""
    return "# a feed\n\n" + "".join("%s%d.example\n" % (tag, i)
                                    for i in range(n))


# ------------------------------------------------------------------ servers

class Site:
    """An HTTP(S) server on a free port of 127.0.0.1, in a thread.

    routes: path -> (status, headers, body). Every request's path is
    recorded in requests, so a test can tell that nothing was asked."""

    def __init__(self, cert=None):
        self.routes = {}
        self.requests = []
        site = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):
                site.requests.append(self.path)
                status, headers, body = site.routes.get(
                    self.path, (404, {}, b"not here\n"))
                self.send_response(status)
                for k, v in headers.items():
                    self.send_header(k, v)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, fmt, *args):
                pass

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0),
                                                     Handler)
        self.httpd.daemon_threads = True
        self.scheme = "http"
        if cert is not None:
            ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            ctx.load_cert_chain(*cert)
            self.httpd.socket = ctx.wrap_socket(self.httpd.socket,
                                                server_side=True)
            self.scheme = "https"
        self.port = self.httpd.server_address[1]
        self.thread = threading.Thread(target=self.httpd.serve_forever,
                                       kwargs={"poll_interval": 0.1},
                                       daemon=True)
        self.thread.start()

    def url(self, path):
        return "%s://127.0.0.1:%d%s" % (self.scheme, self.port, path)

    def serve(self, path, text):
        self.routes[path] = (200, {}, text.encode())

    def redirect(self, path, location):
        self.routes[path] = (302, {"Location": location}, b"")

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()
        self.thread.join(5)


@pytest.fixture(scope="module")
def cert(tmp_path_factory):
    """A self-signed certificate and key for 127.0.0.1."""
    d = tmp_path_factory.mktemp("tls")
    crt, key = str(d / "cert.pem"), str(d / "key.pem")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048",
                    "-nodes", "-keyout", key, "-out", crt, "-days", "2",
                    "-subj", "/CN=127.0.0.1",
                    "-addext", "subjectAltName=IP:127.0.0.1"],
                   check=True, capture_output=True, timeout=60)
    return crt, key


@pytest.fixture
def https(cert):
    site = Site(cert)
    yield site
    site.close()


@pytest.fixture
def plain():
    site = Site()
    yield site
    site.close()


# ------------------------------------------------------------------ updater

class Updater:
    """A list directory, the stub veiligctl and runs of the updater."""

    def __init__(self, tmp, cert, veiligd):
        self.tmp = str(tmp)
        self.cert = cert
        self.veiligd = veiligd
        self.lists = os.path.join(self.tmp, "lists")
        self.stub = os.path.join(self.tmp, "stub")
        os.mkdir(self.lists)
        os.mkdir(self.stub)
        p = os.path.join(self.stub, "veiligctl")
        with open(p, "w") as f:
            f.write(STUB_VEILIGCTL.replace("@DIR@", self.stub))
        os.chmod(p, 0o755)

    def path(self, name):
        return os.path.join(self.lists, name)

    def local(self, name, text):
        with open(self.path(name), "w") as f:
            f.write(text)
        # Older than any download, so If-Modified-Since asks for it.
        os.utime(self.path(name), (1000000000, 1000000000))

    def read(self, name):
        with open(self.path(name)) as f:
            return f.read()

    def set_lists(self, rows):
        """rows: (name, format, file name in lists/, url)."""
        with open(os.path.join(self.stub, "lists.tsv"), "w") as f:
            for name, fmt, fname, url in rows:
                f.write("%s\t%s\t%s\t%s\n" % (name, fmt, self.path(fname),
                                              url))

    def reloads(self):
        p = os.path.join(self.stub, "reloads")
        if not os.path.exists(p):
            return 0
        with open(p) as f:
            return len(f.read().split())

    def run(self, *args):
        env = dict(os.environ)
        env.pop("VEILIGCTL", None)          # found on PATH: the stub
        env["PATH"] = self.stub + os.pathsep + env.get("PATH",
                                                       "/usr/bin:/bin")
        env["VEILIGD"] = self.veiligd
        env["VEILIG_UPDATE_TIMEOUT"] = "10"
        env["TMPDIR"] = self.tmp
        env.pop("CURL_CA_BUNDLE", None)
        if self.cert is not None:
            env["CURL_CA_BUNDLE"] = self.cert[0]
        for k in ("http_proxy", "https_proxy", "HTTP_PROXY", "HTTPS_PROXY",
                  "ALL_PROXY", "all_proxy"):
            env.pop(k, None)
        p = subprocess.run(["sh", SCRIPT, "-s",
                            os.path.join(self.tmp, "ctl.sock")] + list(args),
                           env=env, stdin=subprocess.DEVNULL,
                           capture_output=True, text=True,
                           timeout=RUN_TIMEOUT)
        return p.returncode, p.stderr

    def leftovers(self):
        return [n for n in os.listdir(self.lists) if ".new." in n]


@pytest.fixture
def upd(tmp_path, cert, veiligd):
    u = Updater(tmp_path, cert, veiligd)
    yield u
    assert u.leftovers() == [], "staging files left behind"


# -------------------------------------------------------------------- tests

def test_https_list_is_installed(upd, https):
    """The baseline the refusals are measured against: a good list over
    https replaces the old one, and veiligd is asked to reload."""
    upd.local("phishing.txt", names(10, "old"))
    https.serve("/phishing.txt", names(12))
    upd.set_lists([("phishing", "domains", "phishing.txt",
                    https.url("/phishing.txt"))])
    rc, err = upd.run()
    assert rc == 0, err
    assert upd.read("phishing.txt") == names(12)
    assert "phishing: updated" in err
    assert upd.reloads() == 1


def test_plain_http_url_refused(upd, plain):
    """An http:// URL is refused before anything is sent: the server sees
    no request, the list in force stays, the run fails."""
    upd.local("phishing.txt", names(10, "old"))
    plain.serve("/phishing.txt", names(12))
    upd.set_lists([("phishing", "domains", "phishing.txt",
                    plain.url("/phishing.txt"))])
    rc, err = upd.run()
    assert rc == 1, err
    assert "phishing: refused: only https:// URLs are fetched" in err
    assert plain.requests == []
    assert upd.read("phishing.txt") == names(10, "old")
    assert upd.reloads() == 0


def test_redirect_to_http_refused(upd, https, plain):
    """https that redirects to http: curl does not follow, the list in
    force stays; the plain server never hears of it."""
    upd.local("phishing.txt", names(10, "old"))
    plain.serve("/phishing.txt", names(12))
    https.redirect("/phishing.txt", plain.url("/phishing.txt"))
    upd.set_lists([("phishing", "domains", "phishing.txt",
                    https.url("/phishing.txt"))])
    rc, err = upd.run()
    assert rc == 1, err
    assert "refused a redirect to a URL that is not https://" in err
    assert https.requests == ["/phishing.txt"]
    assert plain.requests == []
    assert upd.read("phishing.txt") == names(10, "old")
    assert upd.reloads() == 0


def test_redirect_to_https_followed(upd, https):
    """A redirect that stays on https is followed."""
    https.redirect("/old/phishing.txt", https.url("/new/phishing.txt"))
    https.serve("/new/phishing.txt", names(5))
    upd.set_lists([("phishing", "domains", "phishing.txt",
                    https.url("/old/phishing.txt"))])
    rc, err = upd.run()
    assert rc == 0, err
    assert upd.read("phishing.txt") == names(5)
    assert https.requests == ["/old/phishing.txt", "/new/phishing.txt"]


def test_other_lists_go_on(upd, https, plain):
    """One refused list does not stop the others, and the good one is
    reloaded."""
    upd.local("a.txt", names(4, "old"))
    upd.local("b.txt", names(4, "old"))
    plain.serve("/a.txt", names(6))
    https.serve("/b.txt", names(6, "b"))
    upd.set_lists([("a", "domains", "a.txt", plain.url("/a.txt")),
                   ("b", "domains", "b.txt", https.url("/b.txt"))])
    rc, err = upd.run()
    assert rc == 1, err
    assert upd.read("a.txt") == names(4, "old")
    assert upd.read("b.txt") == names(6, "b")
    assert upd.reloads() == 1


def test_cut_off_list_refused(upd, https):
    """Under half the entries of the list in force: refused, kept, and
    the message says how to accept it."""
    upd.local("phishing.txt", names(100, "old"))
    https.serve("/phishing.txt", names(49))
    upd.set_lists([("phishing", "domains", "phishing.txt",
                    https.url("/phishing.txt"))])
    rc, err = upd.run()
    assert rc == 1, err
    assert ("phishing: refused, kept the old list: 49 entries, under half "
            "the 100 of the list in force") in err
    assert "run with -f phishing to accept it" in err
    assert upd.read("phishing.txt") == names(100, "old")
    assert upd.reloads() == 0


def test_half_is_enough(upd, https):
    """Exactly half the entries is not "under half"."""
    upd.local("phishing.txt", names(100, "old"))
    https.serve("/phishing.txt", names(50))
    upd.set_lists([("phishing", "domains", "phishing.txt",
                    https.url("/phishing.txt"))])
    rc, err = upd.run()
    assert rc == 0, err
    assert upd.read("phishing.txt") == names(50)


def test_comments_are_not_entries(upd, https):
    """A feed whose entries turned into comments (or blank lines) is as
    short as it looks: hosts format, # comments."""
    old = "".join("0.0.0.0 bet%d.example\n" % i for i in range(20))
    new = "# header\n" + "".join("# 0.0.0.0 bet%d.example\n" % i
                                 for i in range(20)) + \
        "0.0.0.0 bet1.example\n\n\n"
    upd.local("gambling.txt", old)
    https.serve("/gambling.txt", new)
    upd.set_lists([("gambling", "hosts", "gambling.txt",
                    https.url("/gambling.txt"))])
    rc, err = upd.run()
    assert rc == 1, err
    assert "1 entries, under half the 20" in err
    assert upd.read("gambling.txt") == old


def test_accept_shrunk_list_with_f(upd, https):
    """-f NAME takes the smaller list, for that list only."""
    upd.local("a.txt", names(100, "old"))
    upd.local("b.txt", names(100, "old"))
    https.serve("/a.txt", names(10))
    https.serve("/b.txt", names(10, "b"))
    upd.set_lists([("a", "domains", "a.txt", https.url("/a.txt")),
                   ("b", "domains", "b.txt", https.url("/b.txt"))])
    rc, err = upd.run("-f", "a")
    assert rc == 1, err
    assert "a: 10 entries, under half the 100 of the list in force: " \
        "accepted (-f a)" in err
    assert upd.read("a.txt") == names(10)
    assert upd.read("b.txt") == names(100, "old")
    assert upd.reloads() == 1


def test_accepted_list_is_still_checked(upd, https):
    """-f lifts the size check only: a list veiligd -n rejects is still
    refused."""
    upd.local("a.txt", names(100, "old"))
    https.serve("/a.txt", "!!! not\n%%% a\n*** list\nx1.example\n")
    upd.set_lists([("a", "domains", "a.txt", https.url("/a.txt"))])
    rc, err = upd.run("-f", "a")
    assert rc == 1, err
    assert "a: invalid, kept the old list" in err
    assert upd.read("a.txt") == names(100, "old")


def test_f_needs_a_list_name(upd):
    rc, err = upd.run("-f", "a b")
    assert rc == 2
    assert "not a list name" in err


def test_untrusted_certificate_refused(upd, https):
    """The certificate is checked: with the system's authorities alone
    the test server is not trusted."""
    upd.local("a.txt", names(4, "old"))
    https.serve("/a.txt", names(6))
    upd.set_lists([("a", "domains", "a.txt", https.url("/a.txt"))])
    upd.cert = None
    rc, err = upd.run()
    assert rc == 1, err
    assert "a: download failed" in err
    assert upd.read("a.txt") == names(4, "old")


def test_veiligd_refuses_http_url(tmp_path, veiligd):
    """veiligd -n refuses a plain http lists.NAME.url, with file:line:col,
    so such a URL never reaches the list table."""
    (tmp_path / "a.txt").write_text("a.example\n")
    (tmp_path / "t").mkdir()
    (tmp_path / "t" / "safesearch.txt").write_text("")
    (tmp_path / "t" / "canaries.txt").write_text("")
    conf = tmp_path / "veiligd.yaml"
    conf.write_text('upstreams: [ "127.0.0.1:53" ]\n'
                    'control: ctl.sock\n'
                    'filter: { tables: t }\n'
                    'lists:\n'
                    '  a: { file: a.txt, format: domains,\n'
                    '       url: "http://lists.example/a.txt" }\n')
    p = subprocess.run([veiligd, "-n", "-c", str(conf)], capture_output=True,
                       text=True, timeout=30)
    assert p.returncode == 1, p.stderr
    assert "%s:6:13: lists.a.url: 'http://lists.example/a.txt' is not a " \
        "URL starting with https://" % conf in p.stderr
    conf.write_text(conf.read_text().replace("http:", "https:"))
    p = subprocess.run([veiligd, "-n", "-c", str(conf)], capture_output=True,
                       text=True, timeout=30)
    assert p.returncode == 0, p.stderr
