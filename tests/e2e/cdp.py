"""cdp.py: headless Chromium driven over the DevTools protocol, stdlib only.

    with cdp.Browser() as b:
        page = b.page(width=1200, height=900)
        page.open("file:///tmp/x.html")
        n = page.eval("document.querySelectorAll('svg').length")
        page.screenshot("build/x.png")
        assert not page.errors and page.requests == ["file:///tmp/x.html"]

Chromium (Debian's /usr/bin/chromium) is started with
--remote-debugging-pipe: the protocol runs over file descriptors 3 (to the
browser) and 4 (from it), NUL-separated JSON, so no port is opened and no
websocket library is needed. The flags are those known to work on this
machine as root: --headless --no-sandbox --disable-gpu --disable-quic
--no-first-run --disable-background-networking --disable-component-update
--disable-sync, and a fresh --user-data-dir that is removed afterwards.

A Page records, from the moment it is made: console messages of level
error or warning, uncaught exceptions and browser log errors (CSP
violations among them) in .errors, and the URL of every network request
the page made in .requests, so a test can say "no console errors" and
"loaded nothing from elsewhere".
"""

import base64
import json
import os
import select
import shutil
import subprocess
import tempfile
import time

CHROMIUM = "/usr/bin/chromium"
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
         "--no-first-run", "--disable-background-networking",
         "--disable-component-update", "--disable-sync",
         "--disable-extensions", "--mute-audio", "--hide-scrollbars"]
TIMEOUT = 30        # seconds for any one answer or page load


class CDPError(Exception):
    pass


class Browser:
    """One headless Chromium; stopped (by its PID) on close()."""

    def __init__(self, chromium=CHROMIUM):
        self.dir = tempfile.mkdtemp(prefix="veilig-chromium.")
        to_r, to_w = os.pipe()
        from_r, from_w = os.pipe()

        def fds():
            # Chromium reads commands on fd 3 and writes on fd 4.
            a, b = os.dup(to_r), os.dup(from_w)
            os.dup2(a, 3)
            os.dup2(b, 4)
            os.set_inheritable(3, True)
            os.set_inheritable(4, True)

        self.log = open(os.path.join(self.dir, "stderr"), "wb")
        self.proc = subprocess.Popen(
            [chromium] + FLAGS + ["--remote-debugging-pipe",
                                  "--user-data-dir=" + os.path.join(self.dir, "profile"),
                                  "about:blank"],
            stdin=subprocess.DEVNULL, stdout=self.log, stderr=self.log,
            preexec_fn=fds,
            close_fds=False, start_new_session=True)
        os.close(to_r)
        os.close(from_w)
        self.wfd, self.rfd = to_w, from_r
        self.buf = b""
        self.next_id = 0
        self.events = []            # (sessionId, method, params) not yet taken
        self.pages = {}             # sessionId -> Page

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def close(self):
        if self.proc is None:
            return
        try:
            self.call("Browser.close", timeout=5)
        except Exception:
            pass
        try:
            self.proc.wait(5)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(5)
        self.proc = None
        for fd in (self.wfd, self.rfd):
            try:
                os.close(fd)
            except OSError:
                pass
        self.log.close()
        shutil.rmtree(self.dir, ignore_errors=True)

    def stderr(self):
        """What Chromium printed (for a failure message)."""
        self.log.flush()
        with open(os.path.join(self.dir, "stderr"), "rb") as f:
            return f.read().decode("utf-8", "replace")

    # -------------------------------------------------------- protocol

    def _read_message(self, deadline):
        while b"\0" not in self.buf:
            left = deadline - time.monotonic()
            if left <= 0:
                raise CDPError("no answer from Chromium within %d s" % TIMEOUT)
            r, _, _ = select.select([self.rfd], [], [], left)
            if not r:
                continue
            chunk = os.read(self.rfd, 1 << 20)
            if not chunk:
                raise CDPError("Chromium closed the pipe:\n" + self.stderr()[-2000:])
            self.buf += chunk
        msg, self.buf = self.buf.split(b"\0", 1)
        return json.loads(msg)

    def _dispatch(self, msg):
        sid = msg.get("sessionId")
        page = self.pages.get(sid)
        if page is not None:
            page._event(msg["method"], msg.get("params", {}))
        self.events.append((sid, msg["method"], msg.get("params", {})))

    def call(self, method, params=None, session=None, timeout=TIMEOUT):
        """Send a command and wait for its result (events are recorded)."""
        self.next_id += 1
        mid = self.next_id
        msg = {"id": mid, "method": method, "params": params or {}}
        if session is not None:
            msg["sessionId"] = session
        data = json.dumps(msg).encode() + b"\0"
        while data:
            n = os.write(self.wfd, data)
            data = data[n:]
        deadline = time.monotonic() + timeout
        while True:
            reply = self._read_message(deadline)
            if "id" not in reply:
                self._dispatch(reply)
                continue
            if reply["id"] != mid:
                continue
            if "error" in reply:
                raise CDPError("%s: %s" % (method, reply["error"]))
            return reply.get("result", {})

    def wait_event(self, method, session, timeout=TIMEOUT):
        """Wait for an event of a session; returns its params."""
        deadline = time.monotonic() + timeout
        while True:
            for i, (sid, m, params) in enumerate(self.events):
                if sid == session and m == method:
                    del self.events[i]
                    return params
            self._dispatch(self._read_message(deadline))

    def page(self, width=1200, height=900, mobile=False):
        """A new tab with the given viewport."""
        target = self.call("Target.createTarget", {"url": "about:blank"})["targetId"]
        sid = self.call("Target.attachToTarget",
                        {"targetId": target, "flatten": True})["sessionId"]
        page = Page(self, sid, target)
        self.pages[sid] = page
        for domain in ("Page", "Runtime", "Log", "Network"):
            self.call(domain + ".enable", session=sid)
        page.viewport(width, height, mobile)
        return page


class Page:
    """A tab: its errors and requests are recorded from the start."""

    def __init__(self, browser, session, target):
        self.b = browser
        self.sid = session
        self.target = target
        self.errors = []
        self.requests = []
        self.width = 0
        self.mobile = False

    def _event(self, method, p):
        if method == "Runtime.consoleAPICalled" and p.get("type") in ("error", "warning", "assert"):
            self.errors.append("console.%s: %s" % (p["type"], " ".join(
                str(a.get("value", a.get("description", ""))) for a in p.get("args", []))))
        elif method == "Runtime.exceptionThrown":
            self.errors.append("exception: %s" % p["exceptionDetails"].get("text"))
        elif method == "Log.entryAdded" and p["entry"].get("level") in ("error", "warning"):
            self.errors.append("log %s: %s %s" % (p["entry"]["level"], p["entry"].get("text"),
                                                 p["entry"].get("url", "")))
        elif method == "Network.requestWillBeSent":
            self.requests.append(p["request"]["url"])

    def call(self, method, params=None):
        return self.b.call(method, params, session=self.sid)

    def viewport(self, width, height, mobile=False):
        self.width, self.mobile = width, mobile
        self.call("Emulation.setDeviceMetricsOverride",
                  {"width": width, "height": height, "deviceScaleFactor": 1,
                   "mobile": mobile})

    def open(self, url):
        """Navigate and wait for the load event."""
        self.call("Page.navigate", {"url": url})
        self.b.wait_event("Page.loadEventFired", self.sid)

    def eval(self, expression):
        """The value of a JavaScript expression (run by the test, not the page)."""
        r = self.call("Runtime.evaluate", {"expression": expression,
                                           "returnByValue": True})
        if "exceptionDetails" in r:
            raise CDPError("eval: %s" % r["exceptionDetails"])
        return r["result"].get("value")

    def media(self, media):
        """Emulate a CSS media type: "print", "screen" or "" (none)."""
        self.call("Emulation.setEmulatedMedia", {"media": media})

    def screenshot(self, path):
        """A PNG of the whole page (not just the viewport)."""
        # A tab in the background never paints: bring it to the front.
        self.call("Page.bringToFront")
        h = self.eval("Math.ceil(document.documentElement.scrollHeight)")
        self.viewport(self.width, max(int(h), 100), self.mobile)
        data = self.call("Page.captureScreenshot", {"format": "png"})["data"]
        with open(path, "wb") as f:
            f.write(base64.b64decode(data))

    def pdf(self, path):
        """Print to PDF (A4) as a reader would; returns the octets."""
        self.call("Page.bringToFront")
        data = base64.b64decode(self.call("Page.printToPDF", {
            "paperWidth": 8.27, "paperHeight": 11.69, "printBackground": False,
            "preferCSSPageSize": True})["data"])
        with open(path, "wb") as f:
            f.write(data)
        return data
