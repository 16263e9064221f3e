"""test_updater.py: tests of src/veilig-update-lists (mostly without veiligd).

Each test gets the updater fixture: a temp tree, list files served over
HTTPS (python's http.server with ssl, a certificate for 127.0.0.1 made
by openssl, trusted by curl through CURL_CA_BUNDLE) on a free port of
127.0.0.1 (stopped by its PID after the test), and stubs first on PATH:
  - veiligctl prints the lines of lists.tsv for "lists" and records every
    call (a "reload" is appended to reloads);
  - veiligd -n -c FILE checks the one list of the generated configuration
    by a simple rule: it fails when the list file contains GARBAGE.
test_real_veiligd runs the updater once more with the real veiligd -n of
--veiligd. After every test no staging file and no temp directory of the
updater may be left. Every download has --max-time 10
(VEILIG_UPDATE_TIMEOUT) and every process a timeout.
"""

import os
import re
import shutil
import signal
import socket
import ssl
import stat
import subprocess
import sys
import tempfile
import threading
import time

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
SCRIPT = os.path.join(ROOT, "src", "veilig-update-lists")
RUN_TIMEOUT = 60            # seconds for one run of the updater

STUB_VEILIGCTL = r"""#!/bin/sh
# stub veiligctl: -s SOCKET lists|reload
echo "$*" >>"@STUB@/ctl.calls"
[ "$1" = -s ] && [ -n "$2" ] || { echo "stub veiligctl: usage" >&2; exit 2; }
case $3 in
lists)
	if [ -e "@STUB@/fail-lists" ]; then
		echo "veiligctl: $2: connect: No such file or directory" >&2
		exit 1
	fi
	cat "@STUB@/lists.tsv" ;;
reload)
	echo reload >>"@STUB@/reloads"
	if [ -e "@STUB@/fail-reload" ]; then
		echo "error: reload failed: boards/x.yaml:1:1: broken"
		exit 1
	fi
	echo ok ;;
*)	echo "stub veiligctl: unknown command $3" >&2; exit 2 ;;
esac
"""

STUB_VEILIGD = r"""#!/bin/sh
# stub veiligd -n -c FILE: fails when the one list contains GARBAGE
[ "$1" = -n ] && [ "$2" = -c ] && [ -n "$3" ] || { echo usage >&2; exit 2; }
for k in upstreams boards control lists; do
	grep -q "^$k:" "$3" || { echo "$3: no $k:" >&2; exit 1; }
done
f=$(sed -n 's/^ *[a-z0-9-]*: { file: "\([^"]*\)", format: [a-z]* }$/\1/p' "$3")
echo "$f" >>"@STUB@/checks"
[ -r "$f" ] || { echo "$f: cannot read" >&2; exit 1; }
if grep -q GARBAGE "$f"; then
	echo "$f:2: GARBAGE: not a domain name" >&2
	echo "$f: mostly garbage" >&2
	exit 1
fi
exit 0
"""

GOOD = "example.com\nads.example.org\nphish.example.net\n"
GOOD2 = "casino.example\nbet.example\n"
BAD = "example.com\nGARBAGE !!\n%%%%\n"


# python3 -m http.server over TLS: PORT DIRECTORY CERT KEY.
HTTPS_SERVER = r"""
import functools, http.server, ssl, sys
port, root, cert, key = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4]
handler = functools.partial(http.server.SimpleHTTPRequestHandler,
                            directory=root)
httpd = http.server.ThreadingHTTPServer(("127.0.0.1", port), handler)
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
ctx.load_cert_chain(cert, key)
httpd.socket = ctx.wrap_socket(httpd.socket, server_side=True)
httpd.serve_forever()
"""


class HttpServer:
    """http.server over TLS (veilig-update-lists fetches https only) on a
    free port of 127.0.0.1, serving root with a certificate for 127.0.0.1
    made by openssl (cert, key); every request is logged to log."""

    def __init__(self, tmp):
        self.root = os.path.join(tmp, "www")
        os.mkdir(self.root)
        self.log = os.path.join(tmp, "http.log")
        self.proc = None
        self.port = None
        self.cert = os.path.join(tmp, "cert.pem")
        self.key = os.path.join(tmp, "key.pem")
        subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048",
                        "-nodes", "-keyout", self.key, "-out", self.cert,
                        "-days", "2", "-subj", "/CN=127.0.0.1",
                        "-addext", "subjectAltName=IP:127.0.0.1"],
                       check=True, capture_output=True, timeout=60)
        for _ in range(5):
            s = socket.socket()
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
            s.close()
            log = open(self.log, "ab")
            p = subprocess.Popen(
                [sys.executable, "-c", HTTPS_SERVER, str(port), self.root,
                 self.cert, self.key],
                stdin=subprocess.DEVNULL, stdout=log, stderr=log)
            log.close()
            for _ in range(100):                     # up to 10 s
                if p.poll() is not None:
                    break
                try:
                    socket.create_connection(("127.0.0.1", port), 0.5).close()
                    self.proc, self.port = p, port
                    return
                except OSError:
                    time.sleep(0.1)
            if p.poll() is None:
                p.kill()
                p.wait(5)
        raise RuntimeError("cannot start the HTTPS server")

    def stop(self):
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)


class Env:
    """Temp tree, stubs and a directory of the HTTP server; one per test."""

    def __init__(self, script, tmp, http):
        self.script = script
        self.tmp = tmp
        self.http = http
        self.port = http.port
        # the test's own directory on the server: /SUB/NAME
        self.sub = os.path.basename(tmp)
        self.www = os.path.join(http.root, self.sub)
        self.lists = os.path.join(self.tmp, "lists")
        self.stub = os.path.join(self.tmp, "stub")
        for d in (self.www, self.lists, self.stub):
            os.mkdir(d)
        self.sock = os.path.join(self.tmp, "ctl.sock")
        for name, text in (("veiligctl", STUB_VEILIGCTL),
                           ("veiligd", STUB_VEILIGD)):
            p = os.path.join(self.stub, name)
            with open(p, "w") as f:
                f.write(text.replace("@STUB@", self.stub))
            os.chmod(p, 0o755)
        self.base = time.time() - 100000   # mtimes are set from here

    def http_log(self):
        """The server's log lines of this test's requests, with /SUB/NAME
        written /NAME."""
        mine = "/%s/" % self.sub
        with open(self.http.log) as f:
            return "".join(x.replace(mine, "/") for x in f if mine in x)

    def url(self, name):
        return "https://127.0.0.1:%d/%s/%s" % (self.port, self.sub, name)

    # -- files -------------------------------------------------------------
    def serve(self, name, text, age):
        """Serve text as name with mtime base+age."""
        p = os.path.join(self.www, name)
        with open(p, "w") as f:
            f.write(text)
        os.utime(p, (self.base + age, self.base + age))

    def local(self, name, text, age):
        p = os.path.join(self.lists, name)
        with open(p, "w") as f:
            f.write(text)
        os.chmod(p, 0o600)
        os.utime(p, (self.base + age, self.base + age))
        return p

    def path(self, name):
        return os.path.join(self.lists, name)

    def read(self, name):
        with open(self.path(name)) as f:
            return f.read()

    def set_lists(self, rows):
        """rows: (name, format, file name in lists/, url name or None)."""
        with open(os.path.join(self.stub, "lists.tsv"), "w") as f:
            for name, fmt, fname, url in rows:
                u = url if url is None or "://" in url else self.url(url)
                f.write("%s\t%s\t%s\t%s\n" % (name, fmt, self.path(fname),
                                              u or "-"))

    def reloads(self):
        p = os.path.join(self.stub, "reloads")
        if not os.path.exists(p):
            return 0
        with open(p) as f:
            return len(f.read().split())

    def stub_file(self, name):
        p = os.path.join(self.stub, name)
        if not os.path.exists(p):
            return ""
        with open(p) as f:
            return f.read()

    def flag(self, name, on):
        p = os.path.join(self.stub, name)
        if on:
            open(p, "w").close()
        elif os.path.exists(p):
            os.unlink(p)

    def leftovers(self):
        return [n for n in os.listdir(self.lists) if ".new." in n]

    # -- running the updater -----------------------------------------------
    def environ(self, veiligd=None):
        env = dict(os.environ)
        env.pop("VEILIGCTL", None)      # found on PATH: the stub
        env["PATH"] = self.stub + os.pathsep + env.get("PATH", "/usr/bin:/bin")
        env["VEILIGD"] = veiligd or os.path.join(self.stub, "veiligd")
        env["VEILIG_UPDATE_TIMEOUT"] = "10"
        env["TMPDIR"] = self.tmp
        env["CURL_CA_BUNDLE"] = self.http.cert
        return env

    def run(self, *args, veiligd=None, env=None, sock=True):
        argv = ["sh", self.script]
        if sock:
            argv += ["-s", self.sock]
        argv += list(args)
        p = subprocess.run(argv, env=env or self.environ(veiligd),
                           stdin=subprocess.DEVNULL, capture_output=True,
                           text=True, timeout=RUN_TIMEOUT)
        # shown with a failure
        print("  $ %s -> %d" % (" ".join(args), p.returncode))
        for line in p.stderr.splitlines():
            print("  | %s" % line)
        return p.returncode, p.stderr


@pytest.fixture(scope="module")
def http_server(tmp_path_factory):
    """One HTTP server for the tests of this file, stopped by its PID."""
    h = HttpServer(str(tmp_path_factory.mktemp("http")))
    yield h
    h.stop()


@pytest.fixture
def updater(tmp_path, http_server):
    """An Env of the test's own; afterwards no staging file and no temp
    directory of the updater may be left."""
    e = Env(SCRIPT, str(tmp_path), http_server)
    yield e
    left = e.leftovers()
    assert not left, "staging files left behind: %r" % left
    left = [n for n in os.listdir(e.tmp)
            if n.startswith("veilig-update.")]
    assert not left, "temp directories left behind: %r" % left


# ---------------------------------------------------------------------------
# The tests.

def test_good_lists_replace_old_one_reload(updater):
    e = updater
    old = e.local("phishing.txt", "old.example\n", 0)
    e.local("gambling.txt", "oldbet.example\n", 0)
    e.local("malware.txt", "malware.example\n", 0)
    ino = os.stat(old).st_ino
    e.serve("phishing.txt", GOOD, 100)
    e.serve("gambling.txt", GOOD2, 100)
    e.serve("malware.txt", "SHOULD NOT BE FETCHED\n", 100)
    e.set_lists([("phishing", "domains", "phishing.txt", "phishing.txt"),
                 ("gambling", "hosts", "gambling.txt", "gambling.txt"),
                 ("malware", "rpz", "malware.txt", None)])
    rc, err = e.run()
    assert rc == 0, "exit %d, want 0: %s" % (rc, err)
    assert e.read("phishing.txt") == GOOD, "phishing not replaced"
    assert e.read("gambling.txt") == GOOD2, "gambling not replaced"
    st = os.stat(e.path("phishing.txt"))
    assert st.st_ino != ino, "not replaced by a rename (same inode)"
    assert stat.S_IMODE(st.st_mode) == 0o644, \
        "mode %o, want 644" % stat.S_IMODE(st.st_mode)
    assert e.reloads() == 1, "%d reloads, want exactly 1" % e.reloads()
    assert "veilig-update-lists: phishing: updated (3 lines)" in err, \
        "no 'phishing: updated (3 lines)' in: " + err
    assert "gambling: updated (2 lines)" in err, "no gambling line: " + err
    assert e.read("malware.txt") == "malware.example\n", "malware touched"
    assert os.stat(e.path("malware.txt")).st_mtime == e.base, \
        "malware's mtime changed"
    assert "malware" not in err, "list without url logged: " + err
    assert "/malware.txt" not in e.http_log(), "list without url fetched"
    # The validator saw a staging file beside the target.
    checks = e.stub_file("checks").split()
    assert len(checks) == 2, "validator ran %d times, want 2" % len(checks)
    assert (os.path.dirname(checks[0]) == e.lists and
            re.fullmatch(r"phishing\.txt\.new\.\d+",
                         os.path.basename(checks[0]))), \
        "staging file not FILE.new.PID beside FILE: " + checks[0]
    calls = e.stub_file("ctl.calls").splitlines()
    assert calls == ["-s %s lists" % e.sock, "-s %s reload" % e.sock], \
        "veiligctl calls: %r" % calls


def test_unchanged_304_no_reload(updater):
    e = updater
    e.local("phishing.txt", "old.example\n", 0)
    e.serve("phishing.txt", GOOD, 100)
    e.set_lists([("phishing", "domains", "phishing.txt", "phishing.txt")])
    rc, err = e.run()
    assert rc == 0 and e.reloads() == 1, "first run: exit %d: %s" % (rc, err)
    ino = os.stat(e.path("phishing.txt")).st_ino
    rc, err = e.run()
    assert rc == 0, "exit %d, want 0: %s" % (rc, err)
    assert "phishing: unchanged" in err, "no 'unchanged' in: " + err
    assert e.reloads() == 1, "reloaded although unchanged"
    assert os.stat(e.path("phishing.txt")).st_ino == ino, "file replaced"
    assert '"GET /phishing.txt HTTP/1.1" 304' in e.http_log(), \
        "second download was not a conditional one answered 304"


def test_identical_content_no_reload(updater):
    e = updater
    # The server says it is newer, but the bytes are the same.
    p = e.local("phishing.txt", GOOD, 0)
    ino = os.stat(p).st_ino
    e.serve("phishing.txt", GOOD, 100)
    e.set_lists([("phishing", "domains", "phishing.txt", "phishing.txt")])
    rc, err = e.run()
    assert rc == 0, "exit %d, want 0: %s" % (rc, err)
    assert "phishing: unchanged" in err, "no 'unchanged' in: " + err
    assert e.reloads() == 0, "reloaded although unchanged"
    assert os.stat(p).st_ino == ino, "file replaced"


def test_invalid_keeps_old_no_reload(updater):
    e = updater
    p = e.local("phishing.txt", "old.example\n", 0)
    ino = os.stat(p).st_ino
    e.serve("phishing.txt", BAD, 100)
    e.set_lists([("phishing", "domains", "phishing.txt", "phishing.txt")])
    rc, err = e.run()
    assert rc == 1, "exit %d, want 1: %s" % (rc, err)
    assert e.read("phishing.txt") == "old.example\n", "old list not kept"
    assert os.stat(p).st_ino == ino, "file replaced"
    assert e.reloads() == 0, "reloaded after an invalid download"
    assert "phishing: invalid, kept the old list: " in err, \
        "no 'invalid, kept the old list' in: " + err
    assert "GARBAGE: not a domain name" in err, "validator errors not logged"
    assert ".new." not in err and e.url("phishing.txt") in err, \
        "validator errors should name the URL, not the staging file: " + err


def test_404_keeps_old(updater):
    e = updater
    e.local("phishing.txt", "old.example\n", 0)
    e.set_lists([("phishing", "domains", "phishing.txt", "missing.txt")])
    rc, err = e.run()
    assert rc == 1, "exit %d, want 1: %s" % (rc, err)
    assert e.read("phishing.txt") == "old.example\n", "old list not kept"
    assert "phishing: download failed: " in err and "404" in err, \
        "no 'download failed ... 404' in: " + err
    assert e.reloads() == 0, "reloaded"
    assert e.stub_file("checks") == "", "validator ran on a failed download"


def test_mixed_good_applied_exit_1(updater):
    e = updater
    e.local("phishing.txt", "old.example\n", 0)
    e.local("gambling.txt", "oldbet.example\n", 0)
    e.local("adult.txt", "oldadult.example\n", 0)
    e.serve("phishing.txt", GOOD, 100)
    e.serve("adult.txt", BAD, 100)
    e.set_lists([("gambling", "hosts", "gambling.txt", "gone.txt"),
                 ("phishing", "domains", "phishing.txt", "phishing.txt"),
                 ("adult", "adblock", "adult.txt", "adult.txt")])
    rc, err = e.run()
    assert rc == 1, "exit %d, want 1: %s" % (rc, err)
    assert e.read("phishing.txt") == GOOD, "good list not applied"
    assert e.read("gambling.txt") == "oldbet.example\n", "gambling changed"
    assert e.read("adult.txt") == "oldadult.example\n", "adult changed"
    assert e.reloads() == 1, "%d reloads, want 1" % e.reloads()


def test_dry_run_changes_nothing(updater):
    e = updater
    p = e.local("phishing.txt", "old.example\n", 0)
    st = os.stat(p)
    e.serve("phishing.txt", GOOD, 100)
    e.set_lists([("phishing", "domains", "phishing.txt", "phishing.txt")])
    rc, err = e.run("-n")
    assert rc == 0, "exit %d, want 0: %s" % (rc, err)
    assert e.read("phishing.txt") == "old.example\n", "file replaced"
    st2 = os.stat(p)
    assert ((st.st_ino, st.st_mtime, st.st_mode) ==
            (st2.st_ino, st2.st_mtime, st2.st_mode)), "file touched"
    assert e.reloads() == 0, "reloaded in a dry run"
    assert "phishing: would be updated (3 lines" in err, "no report: " + err
    assert len(e.stub_file("checks").split()) == 1, "not validated"
    # A dry run reports invalid lists too.
    e.serve("phishing.txt", BAD, 200)
    rc, err = e.run("-n")
    assert rc == 1 and "invalid" in err, "dry run of a bad list: %d %s" % (
        rc, err)


def test_first_download_creates_file(updater):
    e = updater
    e.serve("phishing.txt", GOOD, 100)
    e.set_lists([("phishing", "domains", "phishing.txt", "phishing.txt")])
    rc, err = e.run()
    assert rc == 0, "exit %d, want 0: %s" % (rc, err)
    assert e.read("phishing.txt") == GOOD, "not created"
    assert stat.S_IMODE(os.stat(e.path("phishing.txt")).st_mode) == 0o644, \
        "mode not 644"
    assert e.reloads() == 1, "no reload"


def test_empty_download_refused(updater):
    e = updater
    e.local("phishing.txt", "old.example\n", 0)
    e.serve("phishing.txt", "", 100)
    e.set_lists([("phishing", "domains", "phishing.txt", "phishing.txt")])
    rc, err = e.run()
    assert rc == 1, "exit %d, want 1: %s" % (rc, err)
    assert e.read("phishing.txt") == "old.example\n", "old list not kept"
    assert "empty download" in err, "no 'empty download' in: " + err
    assert e.reloads() == 0, "reloaded"


def test_only_http_https(updater):
    e = updater
    secret = e.local("secret.txt", "secret.example\n", 0)
    e.local("phishing.txt", "old.example\n", 0)
    e.set_lists([("phishing", "domains", "phishing.txt", "file://" + secret)])
    rc, err = e.run()
    assert rc == 1, "exit %d, want 1: %s" % (rc, err)
    assert e.read("phishing.txt") == "old.example\n", "file:// URL was read"
    assert "refused: only https:// URLs" in err, "no 'refused' in: " + err


def test_lists_query_fails(updater):
    e = updater
    e.local("phishing.txt", "old.example\n", 0)
    e.serve("phishing.txt", GOOD, 100)
    e.set_lists([("phishing", "domains", "phishing.txt", "phishing.txt")])
    e.flag("fail-lists", True)
    rc, err = e.run()
    assert rc == 1, "exit %d, want 1: %s" % (rc, err)
    assert "connect: No such file" in err, "veiligctl's error not logged"
    assert e.read("phishing.txt") == "old.example\n", "list changed"
    assert e.reloads() == 0, "reloaded"


def test_reload_fails(updater):
    e = updater
    e.local("phishing.txt", "old.example\n", 0)
    e.serve("phishing.txt", GOOD, 100)
    e.set_lists([("phishing", "domains", "phishing.txt", "phishing.txt")])
    e.flag("fail-reload", True)
    rc, err = e.run()
    assert rc == 1, "exit %d, want 1: %s" % (rc, err)
    assert "reload failed" in err and "broken" in err, "not logged: " + err
    assert e.read("phishing.txt") == GOOD, "list not applied"


def test_no_url_lists_nothing_to_do(updater):
    e = updater
    e.local("malware.txt", "malware.example\n", 0)
    e.set_lists([("malware", "rpz", "malware.txt", None)])
    rc, err = e.run()
    assert rc == 0, "exit %d, want 0: %s" % (rc, err)
    assert e.reloads() == 0, "reloaded"
    assert e.read("malware.txt") == "malware.example\n", "touched"
    assert "nothing to do" in err, "no 'nothing to do': " + err


def test_usage_errors(updater):
    e = updater
    e.set_lists([])
    for args, sock in ((["-x"], True), (["extra"], True),
                       (["-c", os.path.join(e.tmp, "nonexistent.yaml")],
                        False)):
        rc, err = e.run(*args, sock=sock)
        assert rc == 2, "%r: exit %d, want 2" % (args, rc)
        assert err.strip(), "%r: no message" % args
    env = e.environ()
    env["VEILIG_UPDATE_TIMEOUT"] = "soon"
    rc, err = e.run(env=env)
    assert rc == 2, "bad VEILIG_UPDATE_TIMEOUT: exit %d, want 2" % rc
    assert e.stub_file("ctl.calls") == "", "veiligctl called on a usage error"


def test_socket_from_config(updater):
    e = updater
    conf = os.path.join(e.tmp, "veiligd.yaml")
    with open(conf, "w") as f:
        f.write('upstreams: [ 9.9.9.9 ]\n'
                'control: "/run/test/veilig.sock"   # comment\n'
                'lists: {}\n')
    e.set_lists([])
    rc, err = e.run("-c", conf, sock=False)
    assert rc == 0, "exit %d: %s" % (rc, err)
    calls = e.stub_file("ctl.calls").splitlines()
    assert calls == ["-s /run/test/veilig.sock lists"], "calls %r" % calls
    # -s wins over the configuration.
    rc, err = e.run("-c", conf)
    calls = e.stub_file("ctl.calls").splitlines()
    assert calls[-1] == "-s %s lists" % e.sock, "calls %r" % calls


def test_veiligctl_env(updater):
    e = updater
    # VEILIGCTL overrides PATH.
    other = os.path.join(e.tmp, "myctl")
    with open(other, "w") as f:
        f.write('#!/bin/sh\necho "$*" >>"%s/myctl.calls"\n' % e.stub)
    os.chmod(other, 0o755)
    env = e.environ()
    env["VEILIGCTL"] = other
    rc, err = e.run(env=env)
    assert rc == 0, "exit %d: %s" % (rc, err)
    assert e.stub_file("myctl.calls") == "-s %s lists\n" % e.sock, \
        "VEILIGCTL not used"
    assert e.stub_file("ctl.calls") == "", "stub on PATH used"


class Stall:
    """An HTTPS server that sends headers and a bit of body, then waits."""

    def __init__(self, cert, key):
        self.ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        self.ctx.load_cert_chain(cert, key)
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(4)
        self.sock.settimeout(20)
        self.port = self.sock.getsockname()[1]
        self.done = threading.Event()
        self.thread = threading.Thread(target=self.serve, daemon=True)
        self.thread.start()

    def serve(self):
        try:
            c, _ = self.sock.accept()
        except OSError:
            return
        c.settimeout(5)
        try:
            c = self.ctx.wrap_socket(c, server_side=True)
        except OSError:
            c.close()
            return
        with c:
            try:
                c.recv(4096)
                c.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 100000\r\n"
                          b"Content-Type: text/plain\r\n\r\nexample.com\n")
            except OSError:
                return
            self.done.wait(20)

    def close(self):
        self.done.set()
        self.sock.close()
        self.thread.join(5)


def test_sigterm_mid_download_cleans_up(updater):
    e = updater
    stall = Stall(e.http.cert, e.http.key)
    try:
        e.local("phishing.txt", "old.example\n", 0)
        e.set_lists([("phishing", "domains", "phishing.txt",
                      "https://127.0.0.1:%d/phishing.txt" % stall.port)])
        p = subprocess.Popen(["sh", e.script, "-s", e.sock], env=e.environ(),
                             stdin=subprocess.DEVNULL,
                             stdout=subprocess.DEVNULL,
                             stderr=subprocess.PIPE, start_new_session=True)
        try:
            seen = False
            for _ in range(100):                 # up to 10 s
                if e.leftovers():
                    seen = True
                    break
                if p.poll() is not None:
                    break
                time.sleep(0.1)
            assert seen, "staging file never appeared"
            # As systemd stops a unit: SIGTERM to the whole group.
            os.killpg(p.pid, signal.SIGTERM)
            p.wait(15)
        finally:
            if p.poll() is None:
                os.killpg(p.pid, signal.SIGKILL)
                p.wait(5)
            p.stderr.close()
        assert p.returncode != 0, "exit 0 after SIGTERM"
        assert e.leftovers() == [], "staging left: %r" % e.leftovers()
        assert e.read("phishing.txt") == "old.example\n", "old list not kept"
        assert e.reloads() == 0, "reloaded"
    finally:
        stall.close()


def test_shellcheck(updater):
    e = updater
    sc = shutil.which("shellcheck")
    assert sc, "shellcheck not installed (make deps-check)"
    p = subprocess.run([sc, "-s", "sh", e.script], capture_output=True,
                       text=True, timeout=RUN_TIMEOUT)
    assert p.returncode == 0, "shellcheck:\n" + p.stdout + p.stderr


def real_veiligd_works(e, veiligd):
    """Whether veiligd -n accepts a good list and rejects garbage."""
    if not veiligd or not os.access(veiligd, os.X_OK):
        return "no %s" % veiligd
    d = tempfile.mkdtemp(dir=e.tmp)
    results = []
    for text in (GOOD, "GARBAGE !!\n%%%\n@@@@\n"):
        with open(os.path.join(d, "l.txt"), "w") as f:
            f.write(text)
        for table in ("safesearch.txt", "canaries.txt"):
            open(os.path.join(d, table), "w").close()
        with open(os.path.join(d, "c.yaml"), "w") as f:
            f.write('upstreams: [ "127.0.0.1:53" ]\n'
                    'boards: "%s/none-*.yaml"\ncontrol: "%s/ctl.sock"\n'
                    'filter: { tables: "%s" }\n'
                    'lists:\n  probe: { file: "%s/l.txt", format: domains }\n'
                    % (d, d, d, d))
        try:
            p = subprocess.run([veiligd, "-n", "-c",
                                os.path.join(d, "c.yaml")],
                               capture_output=True, text=True, timeout=30)
        except (OSError, subprocess.TimeoutExpired) as ex:
            return "%s -n: %s" % (veiligd, ex)
        results.append((p.returncode, (p.stdout + p.stderr).strip()))
    if results[0][0] != 0:
        return "%s -n does not accept a list yet: %s" % (
            veiligd, results[0][1].splitlines()[0] if results[0][1] else "")
    if results[1][0] == 0:
        return "%s -n does not reject a garbage list yet" % veiligd
    return None


def test_real_veiligd(updater, veiligd_bin):
    e = updater
    veiligd = veiligd_bin
    # The daemon is built by now: a veiligd -n that cannot tell a good
    # list from garbage is a failure, not a reason to skip.
    why = real_veiligd_works(e, veiligd)
    assert why is None, why or ""
    e.local("phishing.txt", "old.example\n", 0)
    e.local("adult.txt", "oldadult.example\n", 0)
    e.serve("phishing.txt", GOOD, 100)
    e.serve("adult.txt", "GARBAGE !!\n%%%\n@@@@\nexample.com\n", 100)
    e.set_lists([("phishing", "domains", "phishing.txt", "phishing.txt"),
                 ("adult", "domains", "adult.txt", "adult.txt")])
    rc, err = e.run(veiligd=veiligd)
    assert rc == 1, "exit %d, want 1: %s" % (rc, err)
    assert e.read("phishing.txt") == GOOD, "good list not applied: " + err
    assert e.read("adult.txt") == "oldadult.example\n", "bad list applied"
    assert "adult: invalid, kept the old list" in err, "not logged: " + err
    assert e.reloads() == 1, "%d reloads, want 1" % e.reloads()
