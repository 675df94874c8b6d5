"""A browser driven over the bare Chrome DevTools Protocol, with nothing of its own in the page.

Playwright enables the ``Runtime`` domain in every page and worker it attaches to (it needs the
events). With ``Runtime`` enabled, V8's inspector captures a detailed stack trace whenever an
``Error`` is constructed (it cannot know yet whether the error will go uncaught), and a detailed
trace needs source positions: V8 parses the whole script again to collect them. pdf.js builds an
``Error`` at module load (its exception classes' prototype), so under Playwright the reader's
pdf.min.mjs is parsed twice on the page's main thread (~100 ms of a 4× throttled thread, seen in
a Chrome trace as ``V8.CollectSourcePositions`` inside ``v8.evaluateModule``) and the worker's
script twice in the worker (~30 ms). A tablet has no debugger attached and pays neither.

This client uses only what a measurement needs and enables no domain in the page:
``Target`` (a fresh browser context and page per visit), ``Storage.setCookies`` (signed in),
``Emulation`` (tablet size, touch, CPU throttling, language) and ``Page.navigate``;
``Runtime.evaluate`` answers questions without ``Runtime.enable``. Errors the page raises are
collected by the page itself (a listener added before its scripts) and read at the end.
"""

from __future__ import annotations

import contextlib
import itertools
import json
import os
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

ERRORS_JS = """(() => {
    window.__pageErrors = [];
    addEventListener('error', (e) => window.__pageErrors.push(String(e.message || e)));
    addEventListener('unhandledrejection', (e) => window.__pageErrors.push(String(e.reason)));
})();"""


class CDPError(RuntimeError):
    pass


class Browser:
    """Debian's Chromium, headless, with a DevTools socket; ``with Browser() as b: b.visit(...)``."""

    def __init__(self, executable: str = "/usr/bin/chromium", args: list[str] | None = None) -> None:
        self.profile = Path(tempfile.mkdtemp(prefix="cdp-chromium-"))
        command = [
            executable,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-dev-shm-usage",
            "--no-first-run",
            "--no-default-browser-check",
            "--remote-debugging-port=0",
            f"--user-data-dir={self.profile}",
            *(args or []),
            "about:blank",
        ]
        self.proc = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        port_file = self.profile / "DevToolsActivePort"
        deadline = time.monotonic() + 30
        while not port_file.exists() or len(port_file.read_text().splitlines()) < 2:
            if time.monotonic() > deadline or self.proc.poll() is not None:
                self.close()
                raise CDPError("Chromium did not open its DevTools port")
            time.sleep(0.05)
        port, path = port_file.read_text().splitlines()[:2]
        from websockets.sync.client import connect

        self.ws = connect(f"ws://127.0.0.1:{port}{path}", max_size=None, open_timeout=30)
        self.ids = itertools.count(1)

    def send(self, method: str, params: dict | None = None, session: str | None = None, timeout: float = 60):
        """One command; events arriving meanwhile are dropped (no domain that sends them is enabled)."""
        message_id = next(self.ids)
        message = {"id": message_id, "method": method, "params": params or {}}
        if session:
            message["sessionId"] = session
        self.ws.send(json.dumps(message))
        deadline = time.monotonic() + timeout
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise CDPError(f"{method}: no answer in {timeout} s")
            reply = json.loads(self.ws.recv(timeout=remaining))
            if reply.get("id") == message_id:
                if "error" in reply:
                    raise CDPError(f"{method}: {reply['error']}")
                return reply.get("result", {})

    def new_tab(
        self,
        *,
        width: int,
        height: int,
        scale: float,
        mobile: bool,
        throttle: float,
        locale: str,
        cookies: list[dict],
    ) -> Tab:
        context = self.send("Target.createBrowserContext", {"disposeOnDetach": True})["browserContextId"]
        if cookies:
            self.send("Storage.setCookies", {"cookies": cookies, "browserContextId": context})
        target = self.send("Target.createTarget", {"url": "about:blank", "browserContextId": context})[
            "targetId"
        ]
        session = self.send("Target.attachToTarget", {"targetId": target, "flatten": True})["sessionId"]
        tab = Tab(self, context, target, session)
        tab.send(
            "Emulation.setDeviceMetricsOverride",
            {"width": width, "height": height, "deviceScaleFactor": scale, "mobile": mobile},
        )
        if mobile:
            tab.send("Emulation.setTouchEmulationEnabled", {"enabled": True, "maxTouchPoints": 5})
        tab.send("Emulation.setLocaleOverride", {"locale": locale})
        agent = self.send("Browser.getVersion")["userAgent"].replace("HeadlessChrome", "Chrome")
        tab.send("Emulation.setUserAgentOverride", {"userAgent": agent, "acceptLanguage": locale})
        if throttle > 1:
            tab.send("Emulation.setCPUThrottlingRate", {"rate": throttle})
        tab.send("Page.addScriptToEvaluateOnNewDocument", {"source": ERRORS_JS})
        return tab

    def close(self) -> None:
        with contextlib.suppress(Exception):
            self.ws.close()
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
        shutil.rmtree(self.profile, ignore_errors=True)

    def __enter__(self) -> Browser:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


class Tab:
    def __init__(self, browser: Browser, context: str, target: str, session: str) -> None:
        self.browser, self.context, self.target, self.session = browser, context, target, session

    def send(self, method: str, params: dict | None = None, timeout: float = 60):
        return self.browser.send(method, params, session=self.session, timeout=timeout)

    def navigate(self, url: str) -> None:
        """Returns once the navigation is under way (the page's document is the new one soon after)."""
        result = self.send("Page.navigate", {"url": url})
        if result.get("errorText"):
            raise CDPError(f"navigation to {url}: {result['errorText']}")

    def evaluate(self, expression: str, timeout: float = 60):
        """The value of a JavaScript expression (a promise is awaited); retried while the page that
        was there is replaced by the one navigated to."""
        deadline = time.monotonic() + timeout
        while True:
            try:
                result = self.send(
                    "Runtime.evaluate",
                    {"expression": expression, "awaitPromise": True, "returnByValue": True},
                    timeout=max(1.0, deadline - time.monotonic()),
                )
            except CDPError as exc:
                if "context" in str(exc).lower() and time.monotonic() < deadline:
                    time.sleep(0.01)
                    continue
                raise
            if "exceptionDetails" in result:
                details = result["exceptionDetails"]
                text = (details.get("exception") or {}).get("description") or details.get("text")
                if "context" in str(text).lower() and time.monotonic() < deadline:
                    time.sleep(0.01)
                    continue
                raise CDPError(f"evaluate: {text}")
            return result["result"].get("value")

    def errors(self) -> list[str]:
        return self.evaluate("window.__pageErrors || []") or []

    def close(self) -> None:
        with contextlib.suppress(Exception):
            self.browser.send("Target.closeTarget", {"targetId": self.target})
        with contextlib.suppress(Exception):
            self.browser.send("Target.disposeBrowserContext", {"browserContextId": self.context})


def chromium_path() -> str:
    return os.environ.get("CHROMIUM", "/usr/bin/chromium")
