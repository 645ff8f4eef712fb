"""The written report in a real browser: headless Chromium renders it without console errors,
loads nothing from the network, every figure loads, and a screenshot is kept.

Chromium is driven over its DevTools protocol (CDP) with a small stdlib WebSocket client, so no
browser-automation package is needed. Without Chromium the test is skipped on a developer machine
and fails when ``CI`` is set (CI installs Debian's ``chromium``; see ``.ci/run``). The screenshot
is written under pytest's ``tmp_path`` and, when ``NEUROALIGN_ARTIFACTS`` names a folder, copied
there as ``report.png`` (with ``report.html``).
"""

from __future__ import annotations

import base64
import io
import itertools
import json
import os
import shutil
import socket
import struct
import subprocess
import time
from pathlib import Path
from urllib.parse import urlparse

import pytest

from neuroalign.report import write_report

BROWSERS = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--no-default-browser-check",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-extensions",
    "--hide-scrollbars",
    "--mute-audio",
    "--remote-debugging-address=127.0.0.1",
    "--remote-debugging-port=0",
)
WIDTH = 1200
TIMEOUT = 60.0


def find_chromium() -> str | None:
    """``$NEUROALIGN_CHROMIUM`` (None when it names no executable), else the first Chromium/Chrome
    on PATH, else ``/usr/bin/chromium`` when present, else None."""
    env = os.environ.get("NEUROALIGN_CHROMIUM")
    if env:
        return shutil.which(env)
    for name in BROWSERS:
        found = shutil.which(name)
        if found:
            return found
    return "/usr/bin/chromium" if os.access("/usr/bin/chromium", os.X_OK) else None


class CDP:
    """A minimal DevTools-protocol client over one WebSocket (RFC 6455 client side, stdlib only).

    ``call(method, params, session)`` sends a command and returns its result, keeping every event
    received meanwhile in ``events``; ``wait_for(name)`` reads until that event arrives.
    """

    def __init__(self, ws_url: str, timeout: float = TIMEOUT):
        u = urlparse(ws_url)
        self.sock = socket.create_connection((u.hostname, u.port), timeout=timeout)
        key = base64.b64encode(os.urandom(16)).decode()
        self.sock.sendall(
            (
                f"GET {u.path} HTTP/1.1\r\nHost: {u.hostname}:{u.port}\r\nUpgrade: websocket\r\n"
                f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\n"
                "Sec-WebSocket-Version: 13\r\n\r\n"
            ).encode()
        )
        head = b""
        while b"\r\n\r\n" not in head:
            chunk = self.sock.recv(4096)
            if not chunk:
                raise ConnectionError("DevTools closed the connection during the handshake")
            head += chunk
        head, self._buf = head.split(b"\r\n\r\n", 1)
        if b" 101 " not in head.split(b"\r\n", 1)[0]:
            raise ConnectionError(f"WebSocket handshake refused: {head[:200]!r}")
        self._ids = itertools.count(1)
        self.events: list[dict] = []

    def _read(self, n: int) -> bytes:
        while len(self._buf) < n:
            chunk = self.sock.recv(max(65536, n - len(self._buf)))
            if not chunk:
                raise ConnectionError("DevTools closed the connection")
            self._buf += chunk
        out, self._buf = self._buf[:n], self._buf[n:]
        return out

    def _send_frame(self, opcode: int, payload: bytes) -> None:
        n = len(payload)
        head = bytes([0x80 | opcode])
        if n < 126:
            head += bytes([0x80 | n])
        elif n < 1 << 16:
            head += bytes([0x80 | 126]) + struct.pack(">H", n)
        else:
            head += bytes([0x80 | 127]) + struct.pack(">Q", n)
        mask = os.urandom(4)
        body = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
        self.sock.sendall(head + mask + body)

    def _message(self) -> dict:
        parts = []
        while True:
            b0, b1 = self._read(2)
            opcode, n = b0 & 0x0F, b1 & 0x7F
            if n == 126:
                (n,) = struct.unpack(">H", self._read(2))
            elif n == 127:
                (n,) = struct.unpack(">Q", self._read(8))
            mask = self._read(4) if b1 & 0x80 else None
            data = self._read(n)
            if mask:
                data = bytes(b ^ mask[i % 4] for i, b in enumerate(data))
            if opcode == 0x8:
                raise ConnectionError("DevTools closed the WebSocket")
            if opcode == 0x9:
                self._send_frame(0xA, data)
                continue
            if opcode in (0x0, 0x1, 0x2):
                parts.append(data)
                if b0 & 0x80:
                    return json.loads(b"".join(parts))

    def call(self, method: str, params: dict | None = None, session: str | None = None) -> dict:
        msg_id = next(self._ids)
        msg = {"id": msg_id, "method": method, "params": params or {}}
        if session:
            msg["sessionId"] = session
        self._send_frame(0x1, json.dumps(msg).encode())
        while True:
            m = self._message()
            if m.get("id") == msg_id:
                if "error" in m:
                    raise RuntimeError(f"{method} failed: {m['error']}")
                return m.get("result", {})
            if "method" in m:
                self.events.append(m)

    def wait_for(self, event: str, timeout: float = TIMEOUT) -> dict:
        for m in self.events:
            if m["method"] == event:
                return m
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            m = self._message()
            if "method" in m:
                self.events.append(m)
                if m["method"] == event:
                    return m
        raise TimeoutError(f"no {event} within {timeout} s")

    def close(self) -> None:
        try:
            self.sock.close()
        except OSError:
            pass


def devtools_url(profile: Path, proc: subprocess.Popen, log: Path) -> str:
    """The browser WebSocket URL Chromium writes to ``DevToolsActivePort`` once it listens."""
    port_file = profile / "DevToolsActivePort"
    end = time.monotonic() + TIMEOUT
    while time.monotonic() < end:
        if proc.poll() is not None:
            raise RuntimeError(
                f"chromium exited with {proc.returncode}:\n{log.read_text()[-3000:]}"
            )
        if port_file.exists():
            lines = port_file.read_text().split()
            if len(lines) >= 2:
                return f"ws://127.0.0.1:{lines[0]}{lines[1]}"
        time.sleep(0.1)
    raise TimeoutError(f"chromium did not open DevTools:\n{log.read_text()[-3000:]}")


@pytest.fixture(scope="module")
def chromium() -> str:
    exe = find_chromium()
    if exe is None:
        reason = (
            "chromium is not installed (apt-get install -y --no-install-recommends chromium, "
            "or set NEUROALIGN_CHROMIUM to a Chromium/Chrome binary)"
        )
        if os.environ.get("CI"):
            pytest.fail(f"CI is set but {reason}")
        pytest.skip(reason)
    return exe


PAGE_STATE = """
(async () => {
  const imgs = [...document.images];
  await Promise.all(imgs.map(i => i.decode().catch(() => null)));
  return {
    title: document.title,
    h1: document.querySelector('h1') ? document.querySelector('h1').textContent : null,
    sections: [...document.querySelectorAll('main > section')].map(s => s.id),
    images: imgs.map(i => ({alt: i.alt, complete: i.complete, width: i.naturalWidth,
                             height: i.naturalHeight, shown: i.getBoundingClientRect().width})),
    tables: document.querySelectorAll('table').length,
    height: document.documentElement.scrollHeight,
  };
})()
"""


def test_report_renders_in_chromium(chromium, tmp_path):
    from test_report import SECTIONS, build_results

    report = write_report(tmp_path / "report.html", **build_results())
    profile = tmp_path / "profile"
    profile.mkdir()
    log = tmp_path / "chromium.log"
    with log.open("w") as log_fh:
        proc = subprocess.Popen(
            [chromium, *FLAGS, f"--user-data-dir={profile}", "about:blank"],
            stdout=log_fh,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
        )
    cdp = None
    try:
        cdp = CDP(devtools_url(profile, proc, log))
        target = cdp.call("Target.createTarget", {"url": "about:blank"})["targetId"]
        sid = cdp.call("Target.attachToTarget", {"targetId": target, "flatten": True})["sessionId"]
        for domain in ("Page", "Runtime", "Log", "Network"):
            cdp.call(f"{domain}.enable", session=sid)
        cdp.call(
            "Emulation.setDeviceMetricsOverride",
            {"width": WIDTH, "height": 900, "deviceScaleFactor": 1, "mobile": False},
            session=sid,
        )
        cdp.events.clear()
        nav = cdp.call("Page.navigate", {"url": report.as_uri()}, session=sid)
        assert "errorText" not in nav, nav
        cdp.wait_for("Page.loadEventFired")
        state = cdp.call(
            "Runtime.evaluate",
            {"expression": PAGE_STATE, "awaitPromise": True, "returnByValue": True},
            session=sid,
        )
        assert "exceptionDetails" not in state, state
        page = state["result"]["value"]

        # screenshot of the whole page (capped below Chromium's texture limit)
        height = min(int(page["height"]), 16000)
        cdp.call(
            "Emulation.setDeviceMetricsOverride",
            {"width": WIDTH, "height": height, "deviceScaleFactor": 1, "mobile": False},
            session=sid,
        )
        shot = cdp.call(
            "Page.captureScreenshot",
            {"format": "png", "captureBeyondViewport": True},
            session=sid,
        )
        png = base64.b64decode(shot["data"])
        (tmp_path / "report.png").write_bytes(png)
        artifacts = os.environ.get("NEUROALIGN_ARTIFACTS")
        if artifacts:
            out = Path(artifacts)
            out.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(tmp_path / "report.png", out / "report.png")
            shutil.copyfile(report, out / "report.html")
        try:
            cdp.call("Browser.close")
        except (ConnectionError, OSError):
            pass
    finally:
        if cdp is not None:
            cdp.close()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)

    # it rendered: the page's structure is the report's
    assert page["title"].startswith("report of <script>")
    assert page["h1"] == page["title"]
    assert page["sections"] == list(SECTIONS)
    assert page["tables"] >= 8

    # no console errors, no uncaught exceptions, nothing fetched from the network
    errors = [
        e["params"]
        for e in cdp.events
        if e["method"] == "Runtime.exceptionThrown"
        or (
            e["method"] == "Runtime.consoleAPICalled" and e["params"]["type"] in ("error", "assert")
        )
        or (e["method"] == "Log.entryAdded" and e["params"]["entry"]["level"] == "error")
    ]
    assert not errors, errors
    requested = [
        e["params"]["request"]["url"]
        for e in cdp.events
        if e["method"] == "Network.requestWillBeSent"
    ]
    assert requested, "the navigation itself was not seen"
    assert all(u.startswith(("file:", "data:", "about:")) for u in requested), requested

    # every figure loaded and is shown
    assert len(page["images"]) == sum(SECTIONS.values())
    for img in page["images"]:
        assert img["complete"] and img["width"] > 0 and img["height"] > 0, img
        assert img["shown"] > 0 and img["alt"], img
        # legible: a figure is not shrunk so far that its text becomes unreadable
        assert img["shown"] >= 0.6 * img["width"], img

    # the screenshot is a real picture of the page, not a blank one
    from PIL import Image

    im = Image.open(io.BytesIO(png))
    assert im.size[0] == WIDTH and im.size[1] >= min(height, 2000)
    extrema = im.convert("L").getextrema()
    assert extrema[0] < 100 and extrema[1] > 200, extrema
